#!/usr/bin/python3
"""The PyTorch peer of `bin/chive bench sg-randman|sg-fmnist`: the same
networks, equations, losses, optimisers and protocols, written the usual
PyTorch way (a Python loop over time steps, autograd for BPTT, a custom
autograd Function for the surrogate). One JSON line per epoch on stdout.

Run with Debian's PyTorch (apt-get install python3-torch):
  /usr/bin/python3 bench/pytorch_sg.py sg-randman --threads 2 [--variant chive|jax-seed|reference]
  bin/chive bench sg-randman --seed 1 --export-data /tmp/rm1
  /usr/bin/python3 bench/pytorch_sg.py sg-randman --seed 1 --data-npy /tmp/rm1   (chive's samples)
  /usr/bin/python3 bench/pytorch_sg.py sg-fmnist --epochs 1 --threads 2
  /usr/bin/python3 bench/pytorch_sg.py sg-fmnist-conv --epochs 1 --threads 2 --train 6000 --test 1000
  /usr/bin/python3 bench/pytorch_sg.py sg-fmnist-conv --epochs 1 --threads 2 --train 3000 --test 1000 --c1 32 --c2 64 --kernel 3 --padding 1 --code regular

Equations (chive.core.learn.Layer), per layer and step t from zero state:
  I_t  = syn I_{t-1}  + in_gain (x_t W)
  Ir_t = rec Ir_{t-1} + rec_gain (S_{t-1} V)
  U_t  = reset(mem U_{t-1}, S_{t-1}) + mem_gain (I_{t-1} + Ir_{t-1})
  S_t  = H(U_t - 1), SuperSpike surrogate; reset gradient detached.
Randman data are generated here by the same algorithm with numpy's
generator (same distribution as chive's, not the same numbers).
"""
import argparse
import gzip
import json
import math
import sys
import time

import numpy as np
import torch


class SuperSpike(torch.autograd.Function):
    beta = 10.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / (SuperSpike.beta * x.abs() + 1.0) ** 2


def spike(x, beta):
    SuperSpike.beta = beta
    return SuperSpike.apply(x)


# ---------------------------------------------------------------- Randman

def randman_manifold(rng, n_emb, n_man, alpha):
    f = int(min(math.ceil(1e-3 ** (-1 / alpha)), 1000))
    params = rng.uniform(0, 1, size=(n_emb, n_man, 3, f))
    params[:, :, 0, 0] = 0
    spect = 1.0 / (np.arange(f) + 1) ** alpha

    def ev(x):  # x: samples x n_man -> samples x n_emb
        out = np.ones((x.shape[0], n_emb))
        freq = np.arange(f)
        for e in range(n_emb):
            for d in range(n_man):
                a, b, c = params[e, d]
                out[:, e] *= (a * spect * np.sin(2 * np.pi * (np.outer(x[:, d], freq * b) + c))).sum(axis=1)
        return out
    return ev


def randman_raster(seed, classes=2, units=16, steps=100, dim=2, samples=1000, alpha=2.0):
    rng = np.random.default_rng(seed)
    seeds = rng.integers(np.iinfo(np.int64).max, size=classes)
    xs, ys = [], []
    for k in range(classes):
        x = rng.random((samples, dim))
        m = randman_manifold(np.random.default_rng(seeds[k]), units, dim, alpha)
        y = m(x)
        y = (y - y.min(0)) / (y.max(0) - y.min(0) + 1e-7)
        xs.append(y * steps)
        ys.append(np.full(samples, k))
    t = np.concatenate(xs)
    lab = np.concatenate(ys)
    idx = np.arange(len(t))
    rng.shuffle(idx)
    t, lab = t[idx], lab[idx]
    raster = np.zeros((len(t), steps, units), dtype=np.float32)
    n = np.repeat(np.arange(len(t)), units)
    raster[n, np.floor(t).astype(int).ravel(), np.tile(np.arange(units), len(t))] = 1
    return raster, lab


def run_randman(a):
    torch.manual_seed(a.seed)
    if a.data_npy:
        x, y = np.load(a.data_npy + ".x.npy").astype(np.float32), np.load(a.data_npy + ".y.npy").astype(np.int64)
    else:
        x, y = randman_raster(a.seed)
    ntr = int(0.8 * len(x))
    xtr, ytr, xte, yte = torch.tensor(x[:ntr]), torch.tensor(y[:ntr]), torch.tensor(x[ntr:]), torch.tensor(y[ntr:])
    sizes = [16, 32, 2]
    rng = np.random.default_rng(a.seed)

    ref = a.variant == "reference"
    normal = a.variant in ("reference", "chive")  # N(0, 9/fan_in) weights, output layer not recurrent

    def glorot(i, o):
        lim = math.sqrt(6 / (i + o))
        return torch.tensor(rng.uniform(-lim, lim, (i, o)), dtype=torch.float32, requires_grad=True)

    def normal3(i, o):  # N(0, (3/sqrt(fan_in))^2)
        return torch.tensor(rng.normal(0, 3 / math.sqrt(i), (i, o)), dtype=torch.float32, requires_grad=True)
    init = normal3 if normal else glorot
    params = []
    for l in range(2):
        # chive, reference: the output layer (l = 1) is not recurrent (V = None)
        params += [init(sizes[l], sizes[l + 1]), None if (normal and l == 1) else init(sizes[l + 1], sizes[l + 1])]
    mem, syn, rec = 0.95, 0.9, 0.85
    ing, recg, memg = 20 * (1 - syn), 1 - rec, 1 - mem

    def forward(inp):
        B, T, _ = inp.shape
        out = inp
        for l in range(2):
            W, V = params[2 * l], params[2 * l + 1]
            n = W.shape[1]
            Z = (ing * (out @ W)).unbind(1)  # unbind: one backward for all steps (slicing costs a full-size zero grad per step)
            U = torch.zeros(B, n); I = torch.zeros(B, n); Ir = torch.zeros(B, n); S = torch.zeros(B, n)
            rec_s = []
            for t in range(T):
                Un = mem * U * (1 - S.detach()) + memg * (I + Ir)
                In = syn * I + Z[t]
                Irn = rec * Ir + recg * (S @ V) if V is not None else Ir
                S = spike(Un - 1.0, 10.0)
                U, I, Ir = Un, In, Irn
                rec_s.append(S)
            out = torch.stack(rec_s, 1)
        return out.sum(1)

    opt = torch.optim.SGD([q for q in params if q is not None], lr=2e-2, momentum=0.9)
    g = torch.Generator().manual_seed(a.seed)
    for ep in range(1, a.epochs + 1):
        t0 = time.time()
        perm = torch.randperm(ntr, generator=g)
        tot = 0.0
        nb = ntr // 48
        for b in range(nb):
            idx = perm[b * 48:(b + 1) * 48]
            counts = forward(xtr[idx])
            # the JAX seed divides each sample's loss by the class count; the reference does not
            loss = torch.nn.functional.cross_entropy(counts, ytr[idx], reduction="sum") / (1 if ref else 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item()
        train_s = time.time() - t0
        with torch.no_grad():
            acc = (forward(xte).argmax(1) == yte).float().mean().item()
        emit(a, ep, train_s, acc, tot / nb, "randman 2 classes x 1000, 16 units, 100 steps, dim 2, alpha 2 ("
             + ("chive's samples from " + a.data_npy if a.data_npy else "numpy generator") + "); variant " + a.variant,
             "first 80%% train (%d), last 20%% test (%d)" % (ntr, len(x) - ntr))


# ---------------------------------------------------------------- Fashion-MNIST

def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_fmnist(a):
    """Fashion-MNIST from Debian's dataset-fashion-mnist: the first --train / --test images, pixels in [0, 1]."""
    d = "/usr/share/datasets/fashion-mnist/"
    xtr = read_idx(d + "train-images-idx3-ubyte.gz").reshape(-1, 784)[: a.train] / 255.0
    ytr = torch.tensor(read_idx(d + "train-labels-idx1-ubyte.gz")[: a.train].astype(np.int64))
    xte = read_idx(d + "t10k-images-idx3-ubyte.gz").reshape(-1, 784)[: a.test] / 255.0
    yte = torch.tensor(read_idx(d + "t10k-labels-idx1-ubyte.gz")[: a.test].astype(np.int64))
    return xtr, ytr, xte, yte


def firing_steps(x, tau=20.0, thr=0.2, steps=100):
    """SpyTorch's current2firing_time in steps; no spike -> steps."""
    idx = x <= thr
    xc = np.clip(x, thr + 1e-7, 1e9)
    t = tau * np.log(xc / (xc - thr))
    t[idx] = steps
    return np.minimum(t, steps).astype(int)


def batch_tensor(ft, steps):
    """Dense spike tensor (batch x steps x units) from first-spike steps (encoding per batch, as SpyTorch)."""
    B, n = ft.shape
    b, u = np.nonzero(ft < steps)
    idx = torch.from_numpy(np.stack([b, ft[b, u], u]))
    return torch.sparse_coo_tensor(idx, torch.ones(idx.shape[1]), (B, steps, n)).to_dense()


def run_fmnist(a):
    torch.manual_seed(a.seed)
    xtr, ytr, xte, yte = load_fmnist(a)
    T = 100
    mem, syn = math.exp(-1 / 10), math.exp(-1 / 5)
    ws = 7 * (1 - mem)
    w1 = torch.empty(784, 100).normal_(0, ws / math.sqrt(784)).requires_grad_()
    w2 = torch.empty(100, 10).normal_(0, ws / math.sqrt(100)).requires_grad_()

    def forward(inp):
        B = inp.shape[0]
        Z = (inp @ w1).unbind(1)
        U = torch.zeros(B, 100); I = torch.zeros(B, 100); S = torch.zeros(B, 100)
        spk = []
        for t in range(T):
            Un = (mem * U + I) * (1 - S.detach())
            I = syn * I + Z[t]
            S = spike(Un - 1.0, 100.0)
            U = Un
            spk.append(S)
        h = (torch.stack(spk, 1) @ w2).unbind(1)
        U = torch.zeros(B, 10); I = torch.zeros(B, 10)
        outs = []
        for t in range(T):
            Un = mem * U + I
            I = syn * I + h[t]
            U = Un
            outs.append(U)
        return torch.stack(outs, 1).max(1)[0]

    opt = torch.optim.Adam([w1, w2], lr=2e-4, betas=(0.9, 0.999))
    latency_epochs(a, forward, opt, xtr, ytr, xte, yte, 20.0, 0.2, T, 256, 1000)


def rate_batch(x, steps, gen):
    """Bernoulli rate code of a batch of images (batch x steps x units): pixel value = spike probability per step."""
    xb = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return (torch.rand(xb.shape[0], steps, xb.shape[1], generator=gen) < xb[:, None, :]).float()


def regular_code(x, steps):
    """chive's regular rate code (Encoders.regular): per pixel an accumulator gains the pixel value each step and
    fires when it reaches 1 (then loses 1), so floor(x * steps) evenly spaced spikes; no noise. samples x steps x units."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    acc = np.zeros_like(x)
    out = np.zeros((x.shape[0], steps, x.shape[1]), dtype=np.float32)
    for t in range(steps):
        acc += x
        fire = acc >= 1
        acc[fire] -= 1
        out[:, t, :] = fire
    return out


def latency_epochs(a, forward, opt, xtr, ytr, xte, yte, tau, thr, T, bs, eval_bs, lr_of_epoch=None, code="latency"):
    """The Fashion-MNIST protocol of both image benchmarks: per epoch, encode the training images (timed, as
    chive's epoch_s_with_encoding counts it: the latency code for the whole set, the rate code per batch),
    train on shuffled full batches, test, and print one JSON line.
    lr_of_epoch: the learning rate of each (1-based) epoch, as chive's train! :lr-schedule sets it."""
    g = torch.Generator().manual_seed(a.seed)
    spikes = torch.Generator().manual_seed(a.seed + 1)
    ntr = len(xtr)
    rate = code == "rate"
    regular = code == "regular"
    if regular:  # deterministic: encoded once, before the epochs, as chive does (its encode_s)
        t0 = time.time()
        rtr, rte = torch.from_numpy(regular_code(xtr, T)), torch.from_numpy(regular_code(xte, T))
        print("regular code of %d + %d images: %.1f s" % (len(xtr), len(xte), time.time() - t0), file=sys.stderr, flush=True)
    for ep in range(1, a.epochs + 1):
        if lr_of_epoch is not None:
            for group in opt.param_groups:
                group["lr"] = lr_of_epoch(ep)
        t0 = time.time()
        ft = None if (rate or regular) else firing_steps(xtr, tau=tau, thr=thr, steps=T)  # encoding inside the timed epoch
        perm = torch.randperm(ntr, generator=g).numpy()
        nb = ntr // bs
        tot = 0.0
        for b in range(nb):
            idx = perm[b * bs:(b + 1) * bs]
            out = forward(rtr[idx] if regular else rate_batch(xtr[idx], T, spikes) if rate else batch_tensor(ft[idx], T))
            loss = torch.nn.functional.cross_entropy(out, ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item()
        train_s = time.time() - t0
        correct = 0
        with torch.no_grad():
            fte = None if (rate or regular) else firing_steps(xte, tau=tau, thr=thr, steps=T)
            for b in range(0, len(xte), eval_bs):
                inp = rte[b:b + eval_bs] if regular else rate_batch(xte[b:b + eval_bs], T, spikes) if rate else batch_tensor(fte[b:b + eval_bs], T)
                correct += (forward(inp).argmax(1) == yte[b:b + eval_bs]).sum().item()
        desc = ("fashion regular rate code (pixel per step, accumulated to 1) steps=%d" % T) if regular else \
            ("fashion rate code p=pixel per step steps=%d" % T) if rate else \
            ("fashion latency code tau=%g steps thr=%g steps=%d" % (tau, thr, T))
        emit(a, ep, train_s, correct / len(xte), tot / nb, desc,
             "first %d of the train part, first %d of the test part" % (ntr, len(xte)))


# ---------------------------------------------------------------- Fashion-MNIST, convolutional

def run_fmnist_conv(a):
    """chive's sg-fmnist-conv network (clj-api chive.impl.cmd.sgbench), written
    as a PyTorch user with a stateless/stateful split would: each stateless
    layer (conv, pool, linear) applied to all time steps at once, the neuron
    recurrences as Python loops over steps, autograd for BPTT."""
    torch.manual_seed(a.seed)
    xtr, ytr, xte, yte = load_fmnist(a)
    T, tau, c1, c2 = a.steps, a.tau, a.c1, a.c2
    beta = a.mem
    k, pad = a.kernel, a.padding
    m1 = 28 + 2 * pad - k + 1   # map side after conv1, then halved by the 2x2 max pool (floor, as chive's)
    m2 = m1 // 2 + 2 * pad - k + 1
    m3 = m2 // 2
    conv1 = torch.nn.Conv2d(1, c1, k, padding=pad)
    conv2 = torch.nn.Conv2d(c1, c2, k, padding=pad)
    fc = torch.nn.Linear(c2 * m3 * m3, 10)
    b1 = torch.full((1, c1, 1, 1), beta, requires_grad=True)
    th1 = torch.full((1, c1, 1, 1), 1.0, requires_grad=True)
    b2 = torch.full((1, c2, 1, 1), beta, requires_grad=True)
    th2 = torch.full((1, c2, 1, 1), 1.0, requires_grad=True)
    bo = torch.full((10,), beta, requires_grad=True)

    def lif(z, b, th):  # z: B x T x C x H x W; soft reset, detached (chive's Neuron LIF, :reset :soft)
        b = b.clamp(0, 1)
        U = torch.zeros_like(z[:, 0]); S = torch.zeros_like(z[:, 0])
        out = []
        for t in range(z.shape[1]):
            U = b * U + z[:, t] - th * S.detach()
            S = spike(U - th, a.surrogate_scale)
            out.append(S)
        return torch.stack(out, 1)

    def forward(inp):  # inp: B x T x 784
        B = inp.shape[0]
        x = inp.reshape(B * T, 1, 28, 28)
        z = conv1(x)
        s = lif(z.reshape(B, T, c1, m1, m1), b1, th1).reshape(B * T, c1, m1, m1)
        s = torch.nn.functional.max_pool2d(s, 2)
        z = conv2(s)
        s = lif(z.reshape(B, T, c2, m2, m2), b2, th2).reshape(B * T, c2, m2, m2)
        s = torch.nn.functional.max_pool2d(s, 2)
        h = fc(s.reshape(B * T, c2 * m3 * m3)).reshape(B, T, 10)
        bb = bo.clamp(0, 1)
        U = torch.zeros(B, 10)
        outs = []
        for t in range(T):
            U = bb * U + h[:, t]
            outs.append(U)
        return torch.stack(outs, 1).max(1)[0]

    params = list(conv1.parameters()) + list(conv2.parameters()) + list(fc.parameters()) + [b1, th1, b2, th2, bo]
    opt = torch.optim.Adam(params, lr=a.lr, betas=(0.9, 0.999))
    lo = 1e-5  # chive's :lr-schedule {:type :cosine :epochs E :min 1e-5}
    cosine = lambda ep: lo + (a.lr - lo) * 0.5 * (1 + math.cos(math.pi * (ep - 1) / a.epochs))
    latency_epochs(a, forward, opt, xtr, ytr, xte, yte, tau, a.thr, T, a.batch, 500, cosine, a.code)


def emit(a, ep, train_s, acc, loss, data, split):
    print(json.dumps({"bench": a.bench, "peer": "pytorch " + torch.__version__, "epoch": ep, "train_s": train_s,
                      "test_acc": acc, "train_loss": loss, "threads": torch.get_num_threads(), "seed": a.seed,
                      "data": data, "split": split,
                      **({"channels": [a.c1, a.c2], "kernel": a.kernel, "padding": a.padding, "code": a.code}
                         if a.bench == "sg-fmnist-conv" else {})}), flush=True)
    print("epoch %d: %.1f s, test acc %.4f" % (ep, train_s, acc), file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bench", choices=["sg-randman", "sg-fmnist", "sg-fmnist-conv"])
    p.add_argument("--batch", type=int, default=32, help="sg-fmnist-conv: mini-batch size")
    p.add_argument("--lr", type=float, default=2e-3, help="sg-fmnist-conv: Adam learning rate (cosine decay over the epochs)")
    p.add_argument("--steps", type=int, default=12, help="sg-fmnist-conv: time steps")
    p.add_argument("--code", choices=["latency", "rate", "regular"], default="latency",
                   help="sg-fmnist-conv: input code (as chive's --code; regular: the rate code without noise, evenly spaced spikes)")
    p.add_argument("--kernel", type=int, default=5, help="sg-fmnist-conv: kernel size of both convolutions (as chive's --kernel)")
    p.add_argument("--padding", type=int, default=0, help="sg-fmnist-conv: zero padding of both convolutions (as chive's --padding)")
    p.add_argument("--tau", type=float, default=5.0, help="sg-fmnist-conv: latency code tau in steps")
    p.add_argument("--thr", type=float, default=0.05, help="sg-fmnist-conv: latency code threshold")
    p.add_argument("--mem", type=float, default=0.9, help="sg-fmnist-conv: initial membrane decay per step")
    p.add_argument("--c1", type=int, default=16, help="sg-fmnist-conv: channels of the first convolution")
    p.add_argument("--c2", type=int, default=32, help="sg-fmnist-conv: channels of the second convolution")
    p.add_argument("--surrogate-scale", type=float, default=10.0, help="sg-fmnist-conv: SuperSpike steepness")
    p.add_argument("--epochs", type=int)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--train", type=int, default=60000)
    p.add_argument("--test", type=int, default=10000)
    p.add_argument("--variant", choices=["chive", "jax-seed", "reference"], default="chive",
                   help="sg-randman: chive's default (output not recurrent, N(0, (3/sqrt(fan_in))^2) weights, loss / "
                        "classes), the JAX seed's network (recurrent output, Glorot weights, loss / classes) or the "
                        "reference program of issue 15 (as chive's, with the loss summed, not divided by the classes)")
    p.add_argument("--data-npy", help="sg-randman: PREFIX.x.npy (samples x steps x units) and PREFIX.y.npy instead of "
                                      "numpy-generated Randman (bin/chive bench sg-randman --export-data PREFIX)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.epochs is None:
        a.epochs = 20 if a.bench == "sg-randman" else 1
    {"sg-randman": run_randman, "sg-fmnist": run_fmnist, "sg-fmnist-conv": run_fmnist_conv}[a.bench](a)


if __name__ == "__main__":
    main()
