#!/usr/bin/env python3
"""Wall time of one sweep spec on chive's engines, in one session:

  :local with 1 and 2 threads, Spark local[2], and a one-worker Spark
  standalone cluster on 127.0.0.1 (bin/chive spark-cluster, 2 cores).

Each configuration is one whole `bin/chive sweep` process (JVM start, Spark
session, every point, Parquet at the end), timed from launch to exit, into a
fresh output folder. Prints one JSON line per configuration (wall_s, the
points' own seconds: median and sum), then a summary line with Spark's
overhead per point against :local with the same parallelism:

  overhead_per_point_s = (wall_spark - wall_local2) * 2 / points
  overhead_fraction    = overhead_per_point_s / mean point seconds on :local 2

Usage: bench/sweep_timings.py [SPEC] [--only local1,local2,spark-local,spark-cluster]
(default SPEC examples/sweeps/brunel-grid.edn). Progress on stderr.
"""
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHIVE = os.path.join(ROOT, "bin", "chive")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def jdk():
    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    return out.splitlines()[0] if out else "?"


def run_sweep(spec, out, extra):
    shutil.rmtree(out, ignore_errors=True)
    cmd = [CHIVE, "sweep", spec, "--out", out] + extra
    log("$", " ".join(cmd))
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        log(p.stderr[-3000:])
        raise SystemExit(f"sweep failed ({p.returncode}): {' '.join(cmd)}")
    rows = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    bad = [r for r in rows if r.get("sweep_status") != "ok"]
    if bad:
        raise SystemExit(f"{len(bad)} points failed, e.g. {bad[0].get('sweep_error')}")
    secs = [r["sweep_seconds"] for r in rows]
    return wall, rows, secs


def start_cluster(cores):
    p = subprocess.Popen([CHIVE, "spark-cluster", "--cores", str(cores)], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if not line:
        p.wait()
        raise SystemExit("bin/chive spark-cluster did not start")
    return p, json.loads(line)


def stop_cluster(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()


def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = set(args[i + 1].split(","))
        del args[i:i + 2]
    spec = args[0] if args else "examples/sweeps/brunel-grid.edn"
    base = os.path.join(ROOT, "target", "sweep-timings")
    configs = [("local1", ["--threads", "1"], 1), ("local2", ["--threads", "2"], 2),
               ("spark-local", ["--engine", "spark", "--master", "local[2]"], 2), ("spark-cluster", None, 2)]
    results = {}
    ref_rows = None
    for name, extra, par in configs:
        if only and name not in only:
            continue
        cluster = None
        if extra is None:
            cluster, info = start_cluster(2)
            extra = ["--engine", "spark", "--master", info["master"]]
        try:
            wall, rows, secs = run_sweep(spec, os.path.join(base, name), extra)
        finally:
            if cluster:
                stop_cluster(cluster)
        key = lambda r: r["sweep_id"]
        strip = lambda r: {k: v for k, v in r.items() if k not in ("sweep_seconds", "run-s", "sweep_point")}
        same = None
        if ref_rows is None:
            ref_rows = {key(r): strip(r) for r in rows}
        else:
            same = {key(r): strip(r) for r in rows} == ref_rows
        line = {"bench": "sweep", "spec": spec, "engine": name, "parallel": par, "points": len(rows),
                "wall_s": round(wall, 3), "point_s_median": round(statistics.median(secs), 3),
                "point_s_mean": round(statistics.mean(secs), 3), "point_s_sum": round(sum(secs), 3),
                "same_results_as_first": same, "threads": par, "seed": "per point (the spec's seeds)",
                "jdk": jdk(), "cpus": os.cpu_count(), "machine": platform.machine()}
        results[name] = line
        print(json.dumps(line), flush=True)
    l2 = results.get("local2")
    if l2:
        summary = {"bench": "sweep-overhead", "spec": spec, "baseline": "local2",
                   "mean_point_s": l2["point_s_mean"]}
        for name in ("spark-local", "spark-cluster"):
            if name in results:
                o = (results[name]["wall_s"] - l2["wall_s"]) * 2 / l2["points"]
                summary[name.replace("-", "_") + "_overhead_per_point_s"] = round(o, 3)
                summary[name.replace("-", "_") + "_overhead_fraction"] = round(o / l2["point_s_mean"], 4)
        if "local1" in results:
            summary["speedup_2_threads"] = round(results["local1"]["wall_s"] / l2["wall_s"], 3)
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
