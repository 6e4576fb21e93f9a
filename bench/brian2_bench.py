#!/usr/bin/python3
"""The peer measurement for `bin/chive bench cuba|cobahh`: the same networks in
Brian2 (Debian's python3-brian, 2.5.1), as its examples/CUBA.py and
examples/COBAHH.py define them, scaled with p = 80/N.

Usage (Debian's own python3, where python3-brian is installed):
  /usr/bin/python3 bench/brian2_bench.py cuba --n 4000 [--duration 1000] [--threads 0]
      [--device cpp_standalone|cython|numpy] [--seed 1]

Prints one JSON line with the keys chive's bench prints. run_s is Brian's own
measure of the simulation loop (device._last_run_time for cpp_standalone,
without its C++ compilation); build_s is everything before it (Python setup,
code generation and compilation).
"""
import argparse, json, os, shutil, sys, tempfile, time

t_start = time.time()
ap = argparse.ArgumentParser()
ap.add_argument("bench", choices=["cuba", "cobahh"])
ap.add_argument("--n", type=int, default=4000)
ap.add_argument("--duration", type=float, default=1000.0, help="ms")
ap.add_argument("--threads", type=int, default=0, help="OpenMP threads for cpp_standalone; 0 = serial")
ap.add_argument("--device", default="cpp_standalone")
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()

import warnings
warnings.filterwarnings("ignore")
from brian2 import *  # noqa

from brian2_common import setup_device, timed_run

workdir = setup_device(a.device, a.threads, "brian2-bench-")
seed(a.seed)
N = a.n
Ne = int(0.8 * N)
p = min(1.0, 80.0 / N)

if a.bench == "cuba":
    taum, taue, taui = 20 * ms, 5 * ms, 10 * ms
    Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = NeuronGroup(N, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms, method="exact")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    we = (60 * 0.27 / 10) * mV
    wi = (-20 * 4.5 / 10) * mV
    Ce = Synapses(P, P, on_pre="ge += we")
    Ci = Synapses(P, P, on_pre="gi += wi")
    Ce.connect("i<Ne", p=p)
    Ci.connect("i>=Ne", p=p)
else:
    area = 20000 * umetre ** 2
    Cm = (1 * ufarad * cm ** -2) * area
    gl = (5e-5 * siemens * cm ** -2) * area
    El, EK, ENa = -60 * mV, -90 * mV, 50 * mV
    g_na = (100 * msiemens * cm ** -2) * area
    g_kd = (30 * msiemens * cm ** -2) * area
    VT = -63 * mV
    taue, taui = 5 * ms, 10 * ms
    Ee, Ei = 0 * mV, -80 * mV
    we, wi = 6 * nS, 67 * nS
    eqs = Equations("""
    dv/dt = (gl*(El-v)+ge*(Ee-v)+gi*(Ei-v)-g_na*(m*m*m)*h*(v-ENa)-g_kd*(n*n*n*n)*(v-EK))/Cm : volt
    dm/dt = alpha_m*(1-m)-beta_m*m : 1
    dn/dt = alpha_n*(1-n)-beta_n*n : 1
    dh/dt = alpha_h*(1-h)-beta_h*h : 1
    dge/dt = -ge*(1./taue) : siemens
    dgi/dt = -gi*(1./taui) : siemens
    alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
    beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    """)
    P = NeuronGroup(N, model=eqs, threshold="v>-20*mV", refractory=3 * ms, method="exponential_euler")
    Ce = Synapses(P, P, on_pre="ge+=we")
    Ci = Synapses(P, P, on_pre="gi+=wi")
    Ce.connect("i<Ne", p=p)
    Ci.connect("i>=Ne", p=p)
    P.v = "El + (randn() * 5 - 5)*mV"
    P.ge = "(randn() * 1.5 + 4) * 10.*nS"
    P.gi = "(randn() * 12 + 20) * 10.*nS"

mon = SpikeMonitor(P)
run_s = timed_run(a.duration * ms, a.device, workdir)
wall = time.time() - t_start
spikes = int(mon.num_spikes)
synapses = int(len(Ce) + len(Ci))
print(json.dumps({
    "bench": a.bench, "n": N, "synapses": synapses, "duration_s": a.duration / 1000.0,
    "spikes": spikes, "mean_rate_hz": spikes / (N * a.duration / 1000.0),
    "build_s": wall - run_s, "run_s": run_s,
    "threads": max(1, a.threads) if a.device == "cpp_standalone" else 1,
    "seed": a.seed, "peer": "brian2 %s %s%s" % (__import__("brian2").__version__, a.device,
                                                 " openmp" if a.threads else " serial"),
    "python": sys.version.split()[0],
}))
shutil.rmtree(workdir, ignore_errors=True)
