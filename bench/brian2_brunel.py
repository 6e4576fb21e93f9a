#!/usr/bin/python3
"""The Brian2 peer of `bin/chive bench brunel`: Brunel's (2000) sparse network
(model A) in Brian2 (Debian's python3-brian, 2.5.1), written as Brian2's own
examples/frompapers/Brunel_2000.py writes it, with the same changes chive's
bench makes: fixed in-degree (C_E = 0.1 N_E excitatory and C_I = 0.1 N_I
inhibitory inputs per neuron, drawn here with numpy) instead of a connection
probability, N = N_E + N_I with N_I = N_E / 4, v = 0 at the start.

Usage (Debian's own python3, where python3-brian is installed):
  /usr/bin/python3 bench/brian2_brunel.py --g 5 --eta 2 --seed 1 [--n 5000] [--duration 1100]
      [--device cpp_standalone|cython|numpy] [--threads 0]

Prints one JSON line with the keys chive's bench prints: window_rate_hz and
mean_cv_isi over [100 ms, end) (CV = std/mean of each neuron's ISIs, numpy's
population std, neurons with >= 3 spikes in the window; mean over neurons),
run_s (Brian's own measure of the simulation loop, without code generation
and compilation), build_s (everything before it) and total_s.
"""
import argparse, json, shutil, tempfile, time

t_start = time.time()
ap = argparse.ArgumentParser()
ap.add_argument("--g", type=float, default=5.0)
ap.add_argument("--eta", type=float, default=2.0)
ap.add_argument("--n", type=int, default=5000)
ap.add_argument("--duration", type=float, default=1100.0, help="ms")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--device", default="cpp_standalone")
ap.add_argument("--threads", type=int, default=0, help="OpenMP threads for cpp_standalone; 0 = serial")
a = ap.parse_args()

import warnings
warnings.filterwarnings("ignore")
import numpy as np
from brian2 import *  # noqa

from brian2_common import setup_device, timed_run

workdir = setup_device(a.device, a.threads, "brian2-brunel-")
seed(a.seed)
rng = np.random.RandomState(a.seed)

N = a.n
N_E = int(0.8 * N)
N_I = N - N_E
C_E = int(round(0.1 * N_E))
C_I = int(round(0.1 * N_I))
tau = 20 * ms
theta = 20 * mV
V_r = 10 * mV
tau_rp = 2 * ms
J = 0.1 * mV
D = 1.5 * ms
nu_thr = theta / (J * C_E * tau)
nu_ext = a.eta * nu_thr
defaultclock.dt = 0.1 * ms

neurons = NeuronGroup(N, "dv/dt = -v/tau : volt (unless refractory)",
                      threshold="v > theta", reset="v = V_r", refractory=tau_rp, method="exact")
neurons.v = 0 * mV
exc = neurons[:N_E]
inh = neurons[N_E:]


def fixed_indegree(n_pre, k, n_post):
    """k distinct presynaptic indices for every postsynaptic neuron (self allowed)."""
    pre = np.concatenate([rng.choice(n_pre, size=k, replace=False) for _ in range(n_post)])
    post = np.repeat(np.arange(n_post), k)
    return pre, post


S_E = Synapses(exc, neurons, on_pre="v += J", delay=D)
i, j = fixed_indegree(N_E, C_E, N)
S_E.connect(i=i, j=j)
g = a.g
S_I = Synapses(inh, neurons, on_pre="v += -g*J", delay=D)
i, j = fixed_indegree(N_I, C_I, N)
S_I.connect(i=i, j=j)
P = PoissonInput(target=neurons, target_var="v", N=C_E, rate=nu_ext, weight=J)
M = SpikeMonitor(neurons)

t_built = time.time()
run_s = timed_run(a.duration * ms, a.device, workdir)
t_end = time.time()

idx = np.asarray(M.i[:])
t = np.asarray(M.t[:] / ms)
t0, t1 = min(100.0, 0.5 * a.duration), a.duration
w = (t >= t0) & (t < t1)
rate = w.sum() / (N * (t1 - t0) / 1000.0)
cvs = []
order = np.lexsort((t[w], idx[w]))
iw, tw = idx[w][order], t[w][order]
bounds = np.flatnonzero(np.diff(iw)) + 1
for ts in np.split(tw, bounds):
    if len(ts) >= 3:
        isi = np.diff(ts)
        cvs.append(isi.std() / isi.mean())
print(json.dumps({
    "bench": "brunel", "peer": "brian2 " + __import__("brian2").__version__, "device": a.device,
    "g": a.g, "eta": a.eta, "n": N, "seed": a.seed, "duration_s": a.duration / 1000.0,
    "window_ms": [t0, t1], "window_rate_hz": float(rate),
    "mean_cv_isi": float(np.mean(cvs)) if cvs else float("nan"),
    "spikes": int(len(idx)), "mean_rate_hz": float(len(idx) / (N * a.duration / 1000.0)),
    "run_s": float(run_s), "run_s_per_sim_s": float(run_s / (a.duration / 1000.0)),
    "build_s": float(t_built - t_start + (t_end - t_built - run_s)), "total_s": float(t_end - t_start),
    "threads": a.threads if a.device == "cpp_standalone" else 1}))
shutil.rmtree(workdir, ignore_errors=True)
