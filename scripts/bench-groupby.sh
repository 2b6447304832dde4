#!/usr/bin/env bash
# The group-by rows of BENCHMARKS.md, blockwork and the references in one
# session: dask.dataframe (threads) and Polars as the shared reference runs
# them (`try_parse_dates`), Polars at its best (explicit schema and date
# format, scripts/reference/polars_groupby.py), blockwork on threads, and
# the same line from Python through blockwork.dataframe (to pandas),
# every blockwork repeat checked. Raw JSON goes to OUT (default
# benchmarks/DATE); the table is printed from it.
#
#   scripts/bench-groupby.sh [OUT]
#
# Needs the reference environment (../shared/reference/setup.sh) at $PY.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/$(date -u +%F)}
PY=${PY:-/tmp/ref/venv/bin/python}
DATA=${DATA:-/tmp/refdata/csv}
mkdir -p "$OUT"
cargo build --release -p blockwork-bench >&2
[ -d "$DATA" ] || $PY ../shared/reference/gen_csv.py --outdir "$DATA" >&2
glob="$DATA/part-*.csv"
target/release/blockwork-bench groupby --glob "$glob" --repeats 3 --check > "$OUT/blockwork-groupby.jsonl"
$PY ../shared/reference/dataframe.py --glob "$glob" --impls dask-threads,polars --repeats 3 > "$OUT/dask-dataframe.json"
$PY scripts/reference/polars_groupby.py --glob "$glob" --repeats 3 > "$OUT/polars-explicit-groupby.jsonl"
# blockwork.dataframe from Python: the package built as a user installs it
# (release), into its own environment.
BENCH_VENV=target/bench-venv
[ -x "$BENCH_VENV/bin/python" ] || python3 -m venv "$BENCH_VENV"
"$BENCH_VENV/bin/pip" install -q --disable-pip-version-check "./python[dataframe]" >&2
"$BENCH_VENV/bin/python" scripts/bench_python.py groupby "$glob" > "$OUT/python-groupby.jsonl"
# On a cluster of 2 worker processes of one thread: blockwork's first run
# on fresh workers is reported as cold_seconds, the others' median as warm.
target/release/blockwork-bench groupby --glob "$glob" --scheduler local-cluster --workers 2 --repeats 4 --check \
  > "$OUT/blockwork-groupby-cluster.jsonl"
$PY ../shared/reference/dataframe.py --glob "$glob" --impls dask-distributed --repeats 3 > "$OUT/dask-dataframe-cluster.json"
python3 scripts/groupby-table.py "$OUT"
