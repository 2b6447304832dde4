#!/usr/bin/env bash
# The word-frequency rows of BENCHMARKS.md (bags), blockwork and dask.bag
# in one session on one text pile (1 GiB by default: 16 files of 64 MiB,
# scripts/reference/gen_text.py): dask.bag with each of its local
# schedulers (processes, its default for bags, and threads) and on a
# 2-worker dask.distributed LocalCluster, blockwork on threads (flat_map
# to a Vec of words per line, and flat_map_with handing each word on) and on a
# 2-worker local cluster (worker processes, the splitting a registered step
# fused with the counting; a cold and a warm run each
# time), alternating, every blockwork repeat checked against a plain
# count. Raw JSON goes to OUT (default benchmarks/DATE-wordfreq); the
# table is printed from it.
#
#   scripts/bench-wordfreq.sh [OUT]
#
# Needs dask (the reference environment, ../shared/reference/setup.sh, at
# $PY; the test environment's target/python-venv has the same dask).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/$(date -u +%F)-wordfreq}
PY=${PY:-/tmp/ref/venv/bin/python}
DATA=${DATA:-/tmp/refdata/text}
ROUNDS=${ROUNDS:-3}
mkdir -p "$OUT"
cargo build --release -p blockwork-bench >&2
[ -d "$DATA" ] || $PY scripts/reference/gen_text.py --out "$DATA" --files 16 --size 64MiB >&2
glob="$DATA/part-*.txt"
for _ in $(seq "$ROUNDS"); do
  target/release/blockwork-bench wordfreq --glob "$glob" --repeats 1 --check >> "$OUT/blockwork-wordfreq.jsonl"
  target/release/blockwork-bench wordfreq --glob "$glob" --style emit --repeats 1 --check \
    >> "$OUT/blockwork-wordfreq-emit.jsonl"
  target/release/blockwork-bench wordfreq --glob "$glob" --scheduler local-cluster --workers 2 --repeats 2 --check \
    >> "$OUT/blockwork-wordfreq-cluster.jsonl"
  $PY scripts/reference/wordfreq.py --glob "$glob" --scheduler processes --repeats 1 >> "$OUT/dask-bag-processes.jsonl"
  $PY scripts/reference/wordfreq.py --glob "$glob" --scheduler threads --repeats 1 >> "$OUT/dask-bag-threads.jsonl"
  $PY scripts/reference/wordfreq.py --glob "$glob" --scheduler distributed --workers 2 --repeats 1 \
    >> "$OUT/dask-bag-distributed.jsonl"
done
python3 scripts/wordfreq-table.py "$OUT"
