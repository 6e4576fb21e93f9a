"""Shared by the Brian2 peer scripts (bench/brian2_bench.py, bench/brian2_brunel.py):
the device set-up and the timed run, so that every peer measures the same way.
run_s is Brian's own measure of the simulation loop (device._last_run_time for
cpp_standalone, without its C++ code generation and compilation)."""
import tempfile
import time


def setup_device(device, threads, prefix):
    """cpp_standalone (threads: OpenMP threads, 0 = serial) or a runtime target
    (numpy, cython); returns the working folder for cpp_standalone."""
    from brian2 import prefs, set_device
    workdir = tempfile.mkdtemp(prefix=prefix)
    if device == "cpp_standalone":
        set_device("cpp_standalone", directory=workdir, build_on_run=False)
        prefs.devices.cpp_standalone.openmp_threads = threads
    else:
        prefs.codegen.target = device
    return workdir


def timed_run(duration, device, workdir):
    """Runs the network for `duration`; returns the loop's wall time in seconds.
    Brian2's run() collects the objects of the frame `level` steps above it:
    level=1 is this function's caller (the peer script), not this function,
    whose frame holds no network (run would then simulate nothing)."""
    from brian2 import device as current, run
    t0 = time.time()
    run(duration, level=1)
    if device == "cpp_standalone":
        current.build(directory=workdir, compile=True, run=True, debug=False)
        elapsed = current._last_run_time
    else:
        elapsed = time.time() - t0
    check_ran(duration)
    return elapsed


def check_ran(duration):
    """Exits non-zero unless the simulation clock reached `duration`: a peer
    that simulated nothing must not print figures (it once did: 0 spikes)."""
    import sys
    from brian2 import defaultclock
    import numpy
    t = float(numpy.asarray(defaultclock.t_).ravel()[0])
    if not t >= 0.999 * float(duration):
        sys.exit("brian2 peer: the network did not run (t = %s after run(%s))" % (defaultclock.t, duration))
