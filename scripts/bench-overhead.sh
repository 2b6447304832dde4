#!/usr/bin/env bash
# The scheduling-overhead rows of BENCHMARKS.md, blockwork and Dask in one
# session: every blockwork row (each run checks its result = N), then Dask's
# sync and threaded schedulers on the same graphs. Writes raw JSON into OUT
# (default benchmarks/DATE) and prints the tables made from it.
#
#   scripts/bench-overhead.sh [OUT]
#
# Needs the reference environment (../shared/reference/setup.sh) at $PY.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/$(date -u +%F)}
PY=${PY:-/tmp/ref/venv/bin/python}
mkdir -p "$OUT"
cargo build --release -q -p blockwork-bench
B=target/release/blockwork-bench
bw=$OUT/blockwork-overhead.jsonl
: > "$bw"
for mode in raw delayed; do
  for pattern in chain fan tree; do
    for n in 10000 100000 1000000; do
      for sched in sync threads; do
        "$B" overhead --mode "$mode" --pattern "$pattern" --n "$n" --scheduler "$sched" --repeats 3 >> "$bw"
      done
    done
  done
done
# Dask builds delayed graphs only up to 10k (super-linear construction) and
# runs the 1M raw graphs once each.
$PY ../shared/reference/overhead.py --ns 10000,100000 --schedulers sync,threads --modes raw,delayed \
  --repeats 3 > "$OUT/dask-overhead.json"
$PY ../shared/reference/overhead.py --ns 1000000 --patterns fan,chain --schedulers sync,threads \
  --modes raw --repeats 1 > "$OUT/dask-overhead-1m.json"
python3 scripts/overhead-table.py "$bw" "$OUT/dask-overhead.json" "$OUT/dask-overhead-1m.json"
