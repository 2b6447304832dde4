#!/usr/bin/env bash
# The distributed-overhead rows of BENCHMARKS.md, blockwork and Dask in one
# session: no-op fan and chain graphs on a 2-worker local cluster (worker
# processes of one thread each). Dask runs with root-task queuing on
# (worker-saturation 1.1, its default) and off (inf); the table takes the
# better per row. blockwork reports its first run on fresh worker processes
# (cold) beside the warm median, and its chains per original and per
# executed task. Raw JSON goes to OUT (default benchmarks/DATE).
#
#   scripts/bench-distributed.sh [OUT]
#
# Needs the reference environment (../shared/reference/setup.sh) at $PY.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/$(date -u +%F)}
PY=${PY:-/tmp/ref/venv/bin/python}
mkdir -p "$OUT"
cargo build --release -p blockwork-bench >&2
B=target/release/blockwork-bench
bw=$OUT/blockwork-distributed.jsonl
dask=$OUT/dask-distributed.jsonl
: > "$bw"
: > "$dask"
for sat in 1.1 inf; do
  $PY ../shared/reference/overhead.py --ns 10000 --schedulers distributed --modes raw \
    --patterns fan,chain --dist-repeats 1 --dist-worker-saturation "$sat" >> "$dask"
done
for pattern in fan chain; do
  for n in 10000 100000; do
    $B overhead --mode raw --pattern "$pattern" --n "$n" --scheduler local-cluster --repeats 4 --check >> "$bw"
  done
done
# A million tasks on the cluster: once on fresh workers, once warm.
$B overhead --mode raw --pattern fan --n 1000000 --scheduler local-cluster --repeats 2 --check >> "$bw"
python3 scripts/distributed-table.py "$OUT"
