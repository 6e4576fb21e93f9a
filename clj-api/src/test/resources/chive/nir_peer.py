"""The NIR side of chive.nir's tests, with h5py (the `nir` package itself is on
PyPI, which this machine cannot reach).

  nir_peer.py write DIR     writes NIR files as NIR's serialization.py does
                            (h5py, gzip, variable-length strings):
                            rec.nir, conv.nir, nested.nir, scalar.nir
  nir_peer.py euler DIR     writes ff.nir (Input -> Affine -> LIF -> Affine ->
                            CubaLI -> Output, with leak potentials and gains
                            other than 1), a random input raster ff_x.npy
                            [steps, 4] and the graph's outputs under the
                            forward-Euler steps chive.nir/import-learn states,
                            in float64: ff_spikes.npy (the LIF's spikes) and
                            ff_v.npy (the CubaLI membrane)
  nir_peer.py check FILE    reads FILE as NIR's reader does and checks every
                            node group holds exactly the fields the NIR node
                            class takes (the reader passes them all to its
                            constructor) with the spec's shapes; prints the
                            parameters as JSON (name -> {key: [shape, values]})
"""
import json
import sys

import h5py
import numpy as np

FIELDS = {  # type -> (required, optional) keys of a node group, besides "type"
    "Input": ({"shape"}, {"input_type", "metadata"}),
    "Output": ({"shape"}, {"output_type", "metadata"}),
    "Affine": ({"weight", "bias"}, set()),
    "Linear": ({"weight"}, set()),
    "Scale": ({"scale"}, set()),
    "Threshold": ({"threshold"}, {"input_type", "output_type", "metadata"}),
    "Delay": ({"delay"}, set()),
    "Flatten": ({"start_dim", "end_dim"}, {"input_type"}),
    "Conv1d": ({"input_shape", "weight", "stride", "padding", "dilation", "groups", "bias"}, set()),
    "Conv2d": ({"input_shape", "weight", "stride", "padding", "dilation", "groups", "bias"}, set()),
    "SumPool2d": ({"kernel_size", "stride", "padding"}, set()),
    "AvgPool2d": ({"kernel_size", "stride", "padding"}, set()),
    "I": ({"r"}, {"input_type", "output_type", "metadata"}),
    "IF": ({"r", "v_threshold", "v_reset"}, {"input_type", "output_type", "metadata"}),
    "LI": ({"tau", "r", "v_leak"}, {"input_type", "output_type", "metadata"}),
    "LIF": ({"tau", "r", "v_leak", "v_threshold", "v_reset"}, {"input_type", "output_type", "metadata"}),
    "CubaLI": ({"tau_syn", "tau_mem", "r", "v_leak", "w_in"}, {"input_type", "output_type", "metadata"}),
    "CubaLIF": ({"tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"},
                {"input_type", "output_type", "metadata"}),
    "NIRGraph": ({"nodes", "edges"}, {"input_type", "output_type", "metadata"}),
}


def write(fn, node, version="1.0.0"):
    def rec(g, d):
        for k, v in d.items():
            if k == "metadata":
                if v != {}:
                    rec(g.create_group(k), v)
            elif isinstance(v, str):
                g.create_dataset(k, data=v, dtype=h5py.string_dtype())
            elif isinstance(v, np.ndarray):
                # (0-d arrays uncompressed: h5py refuses filters on scalars, so NIR
                # files carry them only when written with compression=None)
                g.create_dataset(k, data=v, dtype=v.dtype, compression="gzip" if v.ndim else None)
            elif isinstance(v, dict):
                rec(g.create_group(str(k)), v)
            else:
                g.create_dataset(k, data=v)

    with h5py.File(fn, "w") as f:
        f.create_dataset("version", data=version, dtype=h5py.string_dtype())
        rec(f.create_group("node"), node)


def edges(pairs):
    return np.array(pairs, dtype=h5py.string_dtype())


def neuron(kind, shape, **over):
    base = {"tau": 0.02, "tau_mem": 0.02, "tau_syn": 0.005, "r": 1.0, "v_leak": 0.0, "v_threshold": 1.0,
            "v_reset": 0.0, "w_in": 1.0}
    keys = sorted(FIELDS[kind][0])
    d = {"type": kind}
    for k in keys:
        d[k] = np.full(shape, over.get(k, base[k]), np.float32)
    d["input_type"] = {"input": np.array(shape)}
    d["output_type"] = {"output": np.array(shape)}
    d["metadata"] = {}
    return d


def write_all(out):
    rng = np.random.default_rng(1)
    n = 5
    write(out + "/rec.nir", {
        "type": "NIRGraph",
        "nodes": {"input": {"type": "Input", "shape": np.array([3]), "input_type": {"input": np.array([3])}, "metadata": {}},
                  "fc": {"type": "Affine", "weight": rng.normal(size=(n, 3)).astype(np.float32),
                         "bias": np.arange(n, dtype=np.float32)},
                  "lif": neuron("LIF", [n], tau=0.0125),
                  "rec": {"type": "Linear", "weight": rng.normal(size=(n, n)).astype(np.float32)},
                  "output": {"type": "Output", "shape": np.array([n]), "output_type": {"output": np.array([n])}, "metadata": {}}},
        "edges": edges([["input", "fc"], ["fc", "lif"], ["lif", "rec"], ["rec", "lif"], ["lif", "output"]]),
        "input_type": {"input": np.array([3])}, "output_type": {"output": np.array([n])},
        "metadata": {"source": "nir_peer.py"}})
    write(out + "/conv.nir", {
        "type": "NIRGraph",
        "nodes": {"input": {"type": "Input", "shape": np.array([2, 10, 10])},
                  "conv": {"type": "Conv2d", "input_shape": np.array([10, 10]),
                           "weight": rng.normal(size=(4, 2, 3, 3)).astype(np.float32),
                           "stride": np.array([1, 1]), "padding": np.array([1, 1]), "dilation": np.array([1, 1]),
                           "groups": 1, "bias": np.zeros(4, np.float32)},
                  "cuba": neuron("CubaLIF", [4, 10, 10]),
                  "pool": {"type": "SumPool2d", "kernel_size": np.array([2, 2]), "stride": np.array([2, 2]),
                           "padding": np.array([0, 0])},
                  "flat": {"type": "Flatten", "input_type": np.array([4, 5, 5]), "start_dim": 0, "end_dim": -1},
                  "fc": {"type": "Affine", "weight": rng.normal(size=(2, 100)).astype(np.float32),
                         "bias": np.zeros(2, np.float32)},
                  "li": neuron("LI", [2]),
                  "output": {"type": "Output", "shape": np.array([2])}},
        "edges": edges([["input", "conv"], ["conv", "cuba"], ["cuba", "pool"], ["pool", "flat"], ["flat", "fc"],
                        ["fc", "li"], ["li", "output"]])})
    write(out + "/nested.nir", {
        "type": "NIRGraph",
        "nodes": {"input": {"type": "Input", "shape": np.array([4])},
                  "block": {"type": "NIRGraph",
                            "nodes": {"input": {"type": "Input", "shape": np.array([4])},
                                      "lin": {"type": "Linear", "weight": np.eye(4, dtype=np.float32)},
                                      "if": neuron("IF", [4], v_threshold=0.5),
                                      "output": {"type": "Output", "shape": np.array([4])}},
                            "edges": edges([["input", "lin"], ["lin", "if"], ["if", "output"]])},
                  "delay": {"type": "Delay", "delay": np.array([0.001, 0.002, 0.0, 0.003])},
                  "scale": {"type": "Scale", "scale": np.array([1.0, -1.0, 2.0, 0.5])},
                  "thr": {"type": "Threshold", "threshold": np.full(4, 0.5)},
                  "output": {"type": "Output", "shape": np.array([4])}},
        "edges": edges([["input", "block"], ["block", "delay"], ["delay", "scale"], ["scale", "thr"], ["thr", "output"]])})
    # Parameters as 0-d arrays: the node takes the shape that arrives at it.
    write(out + "/scalar.nir", {
        "type": "NIRGraph",
        "nodes": {"input": {"type": "Input", "shape": np.array([3])},
                  "lif": {"type": "LIF", "tau": np.array(0.01), "r": np.array(1.0), "v_leak": np.array(0.0),
                          "v_threshold": np.array(1.0), "v_reset": np.array(0.0)},
                  "output": {"type": "Output", "shape": np.array([3])}},
        "edges": edges([["input", "lif"], ["lif", "output"]])})


def check(fn):
    problems, params = [], {}

    def value(ds):
        v = ds[()]
        return v.decode("utf8") if isinstance(v, bytes) else v

    def node(path, g):
        t = value(g["type"])
        if t not in FIELDS:
            problems.append(f"{path}: unknown type {t}")
            return
        req, opt = FIELDS[t]
        keys = set(g.keys()) - {"type"}
        for k in sorted(req - keys):
            problems.append(f"{path} ({t}): missing {k}")
        for k in sorted(keys - req - opt):
            problems.append(f"{path} ({t}): field {k} that NIR's {t} does not take")
        if t == "NIRGraph":
            for a, b in g["edges"][()]:
                for x in (a, b):
                    if (x.decode("utf8") if isinstance(x, bytes) else x) not in g["nodes"]:
                        problems.append(f"{path}: edge names missing node {x}")
            for k, sub in g["nodes"].items():
                node(f"{path}/{k}", sub)
            return
        entry = {}
        for k in sorted(keys):
            if isinstance(g[k], h5py.Group):
                continue
            v = value(g[k])
            if isinstance(v, str):
                entry[k] = v
            else:
                a = np.asarray(v)
                entry[k] = [list(a.shape), a.dtype.kind, a.reshape(-1).tolist()]
        params[path] = entry

    with h5py.File(fn, "r") as f:
        v = f["version"][()]
        v = v.decode("utf8") if isinstance(v, bytes) else v
        if not v.startswith("1."):
            problems.append(f"version {v}")
        node("node", f["node"])
    print(json.dumps({"problems": problems, "params": params}))


def euler(out, dt=1e-3, steps=60):
    rng = np.random.default_rng(7)
    n_in, n_hid, n_out = 4, 6, 2
    W1 = rng.normal(0.5, 1.0, (n_hid, n_in)).astype(np.float32)
    b1 = rng.normal(0.0, 0.2, n_hid).astype(np.float32)
    tau = np.linspace(0.004, 0.02, n_hid).astype(np.float32)
    r = np.linspace(15.0, 40.0, n_hid).astype(np.float32)
    v_leak = np.linspace(-0.2, 0.3, n_hid).astype(np.float32)
    thr = np.linspace(0.6, 1.0, n_hid).astype(np.float32)
    W2 = rng.normal(0.0, 1.0, (n_out, n_hid)).astype(np.float32)
    tau_syn = np.array([0.005, 0.01], np.float32)
    tau_mem = np.array([0.01, 0.02], np.float32)
    r2 = np.array([3.0, 5.0], np.float32)
    w_in = np.array([2.0, 0.5], np.float32)
    lif = {"type": "LIF", "tau": tau, "r": r, "v_leak": v_leak, "v_threshold": thr,
           "v_reset": np.zeros(n_hid, np.float32)}
    cuba = {"type": "CubaLI", "tau_syn": tau_syn, "tau_mem": tau_mem, "r": r2,
            "v_leak": np.zeros(n_out, np.float32), "w_in": w_in}
    write(out + "/ff.nir", {
        "type": "NIRGraph",
        "nodes": {"input": {"type": "Input", "shape": np.array([n_in])},
                  "fc1": {"type": "Affine", "weight": W1, "bias": b1}, "lif": lif,
                  "fc2": {"type": "Linear", "weight": W2}, "cuba": cuba,
                  "output": {"type": "Output", "shape": np.array([n_out])}},
        "edges": edges([["input", "fc1"], ["fc1", "lif"], ["lif", "fc2"], ["fc2", "cuba"], ["cuba", "output"]])})
    x = (rng.random((steps, n_in)) < 0.3).astype(np.float32)
    f = lambda a: a.astype(np.float64)
    v = np.zeros(n_hid); z = np.zeros(n_hid); i2 = np.zeros(n_out); v2 = np.zeros(n_out)
    Z, V = [], []
    for t in range(steps):
        v = np.where(z > 0, 0.0, v)                    # reset to v_reset = 0 after a spike
        cur = f(W1) @ x[t] + f(b1)                      # Affine
        v = v + dt / f(tau) * (f(v_leak) - v + f(r) * cur)
        z = (v > f(thr)).astype(np.float64)
        i2 = i2 + dt / f(tau_syn) * (-i2 + f(w_in) * (f(W2) @ z))
        v2 = v2 + dt / f(tau_mem) * (-v2 + f(r2) * i2)  # the new current
        Z.append(z.copy()); V.append(v2.copy())
    np.save(out + "/ff_x.npy", x)
    np.save(out + "/ff_spikes.npy", np.array(Z))
    np.save(out + "/ff_v.npy", np.array(V))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write_all(sys.argv[2])
    elif sys.argv[1] == "euler":
        euler(sys.argv[2])
    else:
        check(sys.argv[2])
