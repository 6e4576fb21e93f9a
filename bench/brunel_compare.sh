#!/usr/bin/env bash
# Brunel (2000) model A in chive and in Brian2 2.5.1, seeds 1-5, in the
# synchronous-regular (g = 3, eta = 2) and asynchronous-irregular (g = 5,
# eta = 2) regimes: the same network (bench/brian2_brunel.py is the peer of
# `bin/chive bench brunel`), run one after the other in this session.
#
#   bench/brunel_compare.sh [OUT.jsonl] [DURATION_MS]
#
# Writes every run's JSON line to OUT (default target/brunel-compare.jsonl) and
# prints the comparison (bench/brunel_summary.py): mean rate and mean CV of
# ISIs over [100 ms, end) averaged over the seeds, their relative difference,
# and the median wall time per simulated second (chive: 1 thread, after a
# warm-up run; Brian2: cpp_standalone serial, its own loop time).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/brunel-compare.jsonl}"
dur="${2:-1100}"
mkdir -p "$(dirname "$out")"
: > "$out"
for state in "3 2" "5 2"; do
  read -r g eta <<<"$state"
  for seed in 1 2 3 4 5; do
    echo "g $g eta $eta seed $seed: chive" >&2
    bin/chive bench brunel --g "$g" --eta "$eta" --seed "$seed" --duration "$dur" --threads 1 2>/dev/null | tail -1 >> "$out"
    echo "g $g eta $eta seed $seed: Brian2" >&2
    /usr/bin/python3 bench/brian2_brunel.py --g "$g" --eta "$eta" --seed "$seed" --duration "$dur" 2>/dev/null | tail -1 >> "$out"
  done
done
/usr/bin/python3 bench/brunel_summary.py "$out"
