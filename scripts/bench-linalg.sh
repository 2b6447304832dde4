#!/usr/bin/env bash
# The linear-algebra rows of BENCHMARKS.md, blockwork and Dask in one
# session: `svd` (2,000,000 × 100 by 100,000 rows, checked against faer on
# the whole matrix) and `svd-compressed` (20000², chunks 1000, k = 10, two
# power iterations; checked against the same algorithm done on the whole
# matrix by faer), then `x.dot(x.T)` and `svd_compressed` on a 2-worker
# cluster under a 2 GiB memory limit per worker. Raw JSON goes to OUT (default benchmarks/DATE-linalg);
# the table is printed from it.
#
#   scripts/bench-linalg.sh [OUT]
#
# Needs the reference environment (../shared/reference/setup.sh) at $PY.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/$(date -u +%F)-linalg}
PY=${PY:-/tmp/ref/venv/bin/python}
mkdir -p "$OUT"
cargo build --release -p blockwork-bench >&2
$PY ../shared/reference/array_ops.py --cases svd --impls dask-threads --repeats 3 > "$OUT/dask-svd.json"
$PY ../shared/reference/array_ops.py --cases svdc --impls dask-threads --repeats 3 > "$OUT/dask-svdc.json"
target/release/blockwork-bench svd --repeats 3 --check > "$OUT/blockwork-svd.jsonl"
# Checked against the same randomized SVD done on the whole matrix by faer
# (Dask draws other random numbers: its Σ s agrees to about 1e-4).
target/release/blockwork-bench svd-compressed --repeats 3 --check > "$OUT/blockwork-svd-compressed.jsonl"
# The talks' line on a 2-worker local cluster, each worker limited to
# 2 GiB (spilling above 60%): x·xᵀ of a 20000² pattern, checked in closed form.
target/release/blockwork-bench svd-compressed --gram --fill pattern --check --repeats 1 \
  --scheduler local-cluster --workers 2 --memory-limit 2GiB > "$OUT/blockwork-gram-svd-compressed.jsonl"
python3 scripts/linalg-table.py "$OUT"
