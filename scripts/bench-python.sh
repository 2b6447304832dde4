#!/usr/bin/env bash
# The Python package's rows of BENCHMARKS.md in one session: xxt and
# dot-std driven from Python next to the Rust bench on the same workloads,
# 100k delayed tasks, a Dask array graph on `scheduler=blockwork.get`
# against Dask's threads, and from_array of a 2 GiB NumPy array. Every run
# is checked. Raw JSON goes to OUT (default benchmarks/DATE); the tables
# are printed from it.
#
#   scripts/bench-python.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/$(date -u +%F)}
mkdir -p "$OUT"
cargo build --release -p blockwork-bench >&2
# The package built as a user installs it (release), into its own environment.
BENCH_VENV=target/bench-venv
[ -x "$BENCH_VENV/bin/python" ] || python3 -m venv "$BENCH_VENV"
"$BENCH_VENV/bin/pip" install -q --disable-pip-version-check "dask[array]>=2024.12" "./python" >&2
{
  target/release/blockwork-bench xxt --n 20000 --chunk 1000 --fill random --repeats 3 --check
  target/release/blockwork-bench dot-std --n 8000 --chunk 1000 --fill random --repeats 3 --check
} > "$OUT/blockwork-rust-for-python.jsonl"
for group in arrays delayed dask-graph from-array; do
  "$BENCH_VENV/bin/python" scripts/bench_python.py "$group" > "$OUT/python-$group.jsonl"
done
python3 scripts/python-table.py "$OUT"
