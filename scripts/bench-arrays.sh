#!/usr/bin/env bash
# The array rows of BENCHMARKS.md, blockwork and Dask in one session, every
# blockwork result checked (--check) on every repeat. Writes raw JSON into
# OUT (default benchmarks/DATE) and prints the table made from it.
#
#   scripts/bench-arrays.sh [OUT]
#
# Needs the reference environment (../shared/reference/setup.sh) at $PY.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/$(date -u +%F)}
PY=${PY:-/tmp/ref/venv/bin/python}
NPY=${NPY:-/tmp/refdata/x8000.npy}
mkdir -p "$OUT" "$(dirname "$NPY")"
cargo build --release -p blockwork-bench >&2
B=target/release/blockwork-bench
[ -f "$NPY" ] || $PY scripts/reference/array_inputs.py --make-npy "$NPY" --n 8000

bw=$OUT/blockwork-arrays.jsonl
dask=$OUT/dask-array-inputs.jsonl
: > "$bw"
: > "$dask"
row() { # workload fill n chunk
  local n_flag=(--n "$3")
  [[ $2 == npy:* ]] && n_flag=()
  $B "$1" "${n_flag[@]}" --chunk "$4" --fill "$2" --check >> "$bw"
  if [[ $2 != random && $2 != ones ]]; then
    $PY scripts/reference/array_inputs.py --workload "$1" --fill "$2" --n "$3" --chunk "$4" >> "$dask"
  fi
}
for c in 1000 1500 2000; do row xxt pattern 12000 $c; done
for c in 1000 2000; do row xxt "npy:$NPY" 8000 $c; done
for c in 1000 2000; do row xxt random 20000 $c; done
row dot-std pattern 3000 1000
row dot-std "npy:$NPY" 8000 1000
row dot-std random 8000 1000
row dot-std ones 8000 1000
$B gemm --n 8000 --chunk 1000 >> "$bw"
# Dask on random and ones inputs: the shared reference script.
$PY ../shared/reference/array_ops.py --cases xxt,dot --impls dask-threads --repeats 3 \
  --xxt-n 20000 --xxt-chunks 1000,2000 --dot-ns 8000 --dot-chunk 1000 --dot-fill random > "$OUT/dask-array-ops-random.json"
$PY ../shared/reference/array_ops.py --cases dot --impls dask-threads --repeats 3 \
  --dot-ns 8000 --dot-chunk 1000 --dot-fill ones > "$OUT/dask-array-ops-ones.json"
scripts/array-table.py "$OUT"
