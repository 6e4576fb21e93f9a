#!/usr/bin/env bash
# Measures chive and Brian2 on the same benchmark network in one session, on
# this machine: K runs of each, JSON lines on stdout (chive's, then Brian2's
# with a "peer" key). Medians are what to quote.
#
#   bench/compare.sh cuba 4000 [K]      bench/compare.sh cobahh 4000 1
#
# Brian2 is Debian's python3-brian 2.5.1 under Debian's /usr/bin/python3
# (apt-get install python3-brian); its run_s is cpp_standalone's own loop time,
# serial, without C++ compilation.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: bench/compare.sh cuba|cobahh N [K]}"; n="${2:-4000}"; k="${3:-3}"
bin/chive bench "$name" --n "$n" --threads 1 --repeat "$k"
bin/chive bench "$name" --n "$n" --threads 2 --repeat "$k"
if /usr/bin/python3 -c 'import brian2' 2>/dev/null; then
  for _ in $(seq "$k"); do /usr/bin/python3 bench/brian2_bench.py "$name" --n "$n" 2>/dev/null | tail -1; done
  /usr/bin/python3 bench/brian2_bench.py "$name" --n "$n" --threads 2 2>/dev/null | tail -1
else
  echo "Brian2 is not installed (apt-get install python3-brian); chive's figures only" >&2
fi
