#!/usr/bin/python3
"""Golden spike times for chive's model tests, produced with Brian2 2.5.1
(Debian's python3-brian; run with Debian's /usr/bin/python3):

    /usr/bin/python3 java-core/src/test/resources/golden/make_golden.py

Writes, next to this script:
  izhikevich.txt  Izhikevich (2003) regular spiking, fast spiking, chattering
                  and intrinsically bursting cells, I = 10, forward Euler at
                  dt 0.1 ms, 500 ms, v0 = -65, u0 = b·v0.
  hh_fi.txt       Traub-Miles HH (the COBAHH cell, no synapses) driven by
                  constant currents, exponential Euler at dt 0.01 ms, 1 s.
  izhikevich_steps.txt  the four Izhikevich cells at dt 0.1 and 0.01 ms, as
                  spike step indices (t / dt), for exact comparisons.
  lif_fi_steps.txt      a LIF f-I curve (v held while refractory, exact
                  integration) at dt 0.1 and 0.01 ms, as spike step indices.
Format: one line per cell, "name key=value ... : t1 t2 ..." (spike times in ms,
or step indices in the *_steps files).
The Java tests parse it and compare chive's spikes with stated tolerances
(float32 state) or exactly (chive's double precision).
"""
import os
import warnings
warnings.filterwarnings("ignore")
from brian2 import *  # noqa

prefs.codegen.target = "numpy"
here = os.path.dirname(os.path.abspath(__file__))


IZHIKEVICH_CELLS = [("rs", 0.02, 0.2, -65.0, 8.0), ("fs", 0.1, 0.2, -65.0, 2.0),
                    ("ch", 0.02, 0.2, -50.0, 2.0), ("ib", 0.02, 0.2, -55.0, 4.0)]


def izhikevich_trains(cells, dt):
    """Spike trains of the Izhikevich cells, I = 10, forward Euler at dt (ms), 500 ms."""
    start_scope()
    defaultclock.dt = dt * ms
    eqs = """
    dv/dt = (0.04*v**2 + 5*v + 140 - u + I)/ms : 1
    du/dt = a*(b*v - u)/ms : 1
    a : 1
    b : 1
    c : 1
    d : 1
    I : 1
    """
    G = NeuronGroup(len(cells), eqs, threshold="v >= 30", reset="v = c; u += d", method="euler")
    G.a = [c[1] for c in cells]
    G.b = [c[2] for c in cells]
    G.c = [c[3] for c in cells]
    G.d = [c[4] for c in cells]
    G.I = 10
    G.v = -65
    G.u = "b * v"
    M = SpikeMonitor(G)
    net = Network(G, M)
    net.run(500 * ms)
    return M.spike_trains()


def izhikevich():
    cells = IZHIKEVICH_CELLS
    trains = izhikevich_trains(cells, 0.1)
    with open(os.path.join(here, "izhikevich.txt"), "w") as f:
        f.write("# Brian2 %s, forward Euler, dt 0.1 ms, 500 ms, I = 10, v0 = -65, u0 = b v0\n" % __import__("brian2").__version__)
        for k, (name, a, b, c, d) in enumerate(cells):
            ts = " ".join("%.1f" % (t / ms) for t in trains[k])
            f.write("%s a=%g b=%g c=%g d=%g : %s\n" % (name, a, b, c, d, ts))


def hh_fi():
    start_scope()
    defaultclock.dt = 0.01 * ms
    area = 20000 * umetre ** 2
    Cm = (1 * ufarad * cm ** -2) * area
    gl = (5e-5 * siemens * cm ** -2) * area
    El, EK, ENa = -60 * mV, -90 * mV, 50 * mV
    g_na = (100 * msiemens * cm ** -2) * area
    g_kd = (30 * msiemens * cm ** -2) * area
    VT = -63 * mV
    eqs = Equations("""
    dv/dt = (gl*(El-v)-g_na*(m*m*m)*h*(v-ENa)-g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
    dm/dt = alpha_m*(1-m)-beta_m*m : 1
    dn/dt = alpha_n*(1-n)-beta_n*n : 1
    dh/dt = alpha_h*(1-h)-beta_h*h : 1
    alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
    beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    I : amp
    """)
    currents = [0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.2]  # nA
    G = NeuronGroup(len(currents), eqs, threshold="v > -20*mV", refractory=3 * ms, method="exponential_euler")
    G.v = El
    G.I = [c * nA for c in currents]
    M = SpikeMonitor(G)
    net = Network(G, M)
    net.run(1000 * ms)
    trains = M.spike_trains()
    with open(os.path.join(here, "hh_fi.txt"), "w") as f:
        f.write("# Brian2 %s, Traub-Miles HH (COBAHH cell), exponential Euler, dt 0.01 ms, 1 s, v0 = El, m = h = n = 0\n" % __import__("brian2").__version__)
        for k, c in enumerate(currents):
            ts = " ".join("%.2f" % (t / ms) for t in trains[k])
            f.write("i%d i_ext=%g : %s\n" % (k, c, ts))


def steps_line(name, params, train, dt):
    st = " ".join("%d" % int(round(float(t / dt))) for t in train)
    return "%s %s : %s\n" % (name, " ".join("%s=%r" % kv for kv in params), st)


def izhikevich_steps():
    cells = IZHIKEVICH_CELLS
    lines = ["# Brian2 %s, forward Euler, 500 ms, I = 10, v0 = -65, u0 = b v0; spike step indices\n" % __import__("brian2").__version__]
    for dt in (0.1, 0.01):
        trains = izhikevich_trains(cells, dt)
        for k, (name, a, b, c, d) in enumerate(cells):
            lines.append(steps_line(name, [("dt", dt), ("a", a), ("b", b), ("c", c), ("d", d)], trains[k], dt * ms))
    with open(os.path.join(here, "izhikevich_steps.txt"), "w") as f:
        f.writelines(lines)


def lif_fi_steps():
    currents = [0.19, 0.21, 0.25, 0.3, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0]  # nA
    lines = ["# Brian2 %s, LIF tau 20 ms, El -70 mV, R 100 Mohm, Vt -50 mV, Vr -70 mV, refractory 2 ms (v held), "
             "exact integration, 1 s, v0 = El; spike step indices\n" % __import__("brian2").__version__]
    for dt in (0.1, 0.01):
        start_scope()
        defaultclock.dt = dt * ms
        tau, El, R, Vt, Vr = 20 * ms, -70 * mV, 100 * Mohm, -50 * mV, -70 * mV
        G = NeuronGroup(len(currents), "dv/dt = (El - v + R*I)/tau : volt (unless refractory)\nI : amp",
                        threshold="v > Vt", reset="v = Vr", refractory=2 * ms, method="exact")
        G.v = El
        G.I = [c * nA for c in currents]
        M = SpikeMonitor(G)
        net = Network(G, M)
        net.run(1000 * ms)
        trains = M.spike_trains()
        for k, c in enumerate(currents):
            lines.append(steps_line("i%d" % k, [("dt", dt), ("i_ext", c)], trains[k], dt * ms))
    with open(os.path.join(here, "lif_fi_steps.txt"), "w") as f:
        f.writelines(lines)


izhikevich()
hh_fi()
izhikevich_steps()
lif_fi_steps()
