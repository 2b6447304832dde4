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
for c in 50000000 5000000; do $B ones-sum --n 150000000 --chunk $c --check >> "$bw"; done
$B big-sum --n 100000 --chunk 5000 --repeats 1 --check >> "$bw"
for _ in 1 2 3; do $B kernel --n 4000 >> "$bw"; done
# On a cluster of 2 worker processes of one thread: the first run on fresh
# workers is reported as cold_seconds, the median of the other three as warm.
$B xxt --n 20000 --chunk 1000 --fill random --scheduler local-cluster --workers 2 --repeats 4 --check >> "$bw"
$B dot-std --n 8000 --chunk 1000 --fill random --scheduler local-cluster --workers 2 --repeats 4 --check >> "$bw"
# Dask on random and ones inputs: the shared reference script.
$PY ../shared/reference/array_ops.py --cases xxt,dot --impls dask-threads --repeats 3 \
  --xxt-n 20000 --xxt-chunks 1000,2000 --dot-ns 8000 --dot-chunk 1000 --dot-fill random > "$OUT/dask-array-ops-random.json"
$PY ../shared/reference/array_ops.py --cases dot --impls dask-threads --repeats 3 \
  --dot-ns 8000 --dot-chunk 1000 --dot-fill ones > "$OUT/dask-array-ops-ones.json"
$PY ../shared/reference/array_ops.py --cases ones --impls dask-threads --repeats 3 > "$OUT/dask-array-ops-sum.json"
$PY ../shared/reference/array_ops.py --cases big --impls dask-threads --big-repeats 1 --big-skip-numpy \
  > "$OUT/dask-array-ops-big.json"
$PY ../shared/reference/array_ops.py --cases xxt,dot --impls dask-distributed --repeats 3 \
  --xxt-n 20000 --xxt-chunks 1000 --dot-ns 8000 --dot-chunk 1000 --dot-fill random > "$OUT/dask-array-ops-cluster.json"
python3 scripts/array-table.py "$OUT"
