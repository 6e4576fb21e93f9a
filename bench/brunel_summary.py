#!/usr/bin/python3
"""Summarises bench/brunel_compare.sh's JSON lines: per regime (g, eta), the
mean over seeds of window_rate_hz and mean_cv_isi for chive and Brian2, their
relative difference (chive / Brian2 - 1), whether it is within 3 %, and the
median run_s_per_sim_s of each. Prints a table on stderr and one JSON line per
regime on stdout."""
import json, statistics, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = []
for key in sorted({(r["g"], r["eta"]) for r in rows}):
    sel = [r for r in rows if (r["g"], r["eta"]) == key]
    c = [r for r in sel if "peer" not in r]
    b = [r for r in sel if "peer" in r]
    m = lambda rs, k: statistics.mean(r[k] for r in rs)
    med = lambda rs, k: statistics.median(r[k] for r in rs)
    rec = {"g": key[0], "eta": key[1], "seeds_chive": sorted(r["seed"] for r in c), "seeds_brian2": sorted(r["seed"] for r in b),
           "chive_rate_hz": m(c, "window_rate_hz"), "brian2_rate_hz": m(b, "window_rate_hz"),
           "chive_cv": m(c, "mean_cv_isi"), "brian2_cv": m(b, "mean_cv_isi"),
           "chive_run_s_per_sim_s": med(c, "run_s_per_sim_s"), "brian2_run_s_per_sim_s": med(b, "run_s_per_sim_s"),
           "chive_threads": c[0]["threads"], "brian2_device": b[0]["device"], "peer": b[0]["peer"], "jdk": c[0]["jdk"]}
    rec["rate_rel_diff"] = rec["chive_rate_hz"] / rec["brian2_rate_hz"] - 1
    rec["cv_rel_diff"] = rec["chive_cv"] / rec["brian2_cv"] - 1
    rec["within_3_percent"] = abs(rec["rate_rel_diff"]) <= 0.03 and abs(rec["cv_rel_diff"]) <= 0.03
    out.append(rec)
    print("g %g eta %g: rate chive %.2f Hz, Brian2 %.2f Hz (%+.2f %%); CV chive %.4f, Brian2 %.4f (%+.2f %%); "
          "s per simulated s chive %.2f, Brian2 %.2f" % (key[0], key[1], rec["chive_rate_hz"], rec["brian2_rate_hz"],
          100 * rec["rate_rel_diff"], rec["chive_cv"], rec["brian2_cv"], 100 * rec["cv_rel_diff"],
          rec["chive_run_s_per_sim_s"], rec["brian2_run_s_per_sim_s"]), file=sys.stderr)
for rec in out:
    print(json.dumps(rec))
