#!/usr/bin/env bash
# The climate rows of BENCHMARKS.md on one pile, blockwork and xarray + Dask
# in one session. Dask runs in every configuration an expert would try
# (both engines, `parallel` both ways, flox on and off, `--minimal`; threads,
# and the best of those on a 2-worker cluster); blockwork's every repeat is
# checked against the anomaly xarray wrote. Raw JSON goes to OUT (default
# benchmarks/DATE); the table is printed from it.
#
#   scripts/bench-climate.sh zlib [OUT]   # gen_netcdf.py --zlib, 2001-2012
#   scripts/bench-climate.sh raw [OUT]    # gen_netcdf.py, 1979-2018
#
# Needs the reference environment (../shared/reference/setup.sh) at $PY.
set -euo pipefail
cd "$(dirname "$0")/.."
PILE=${1:?zlib or raw}
OUT=${2:-benchmarks/$(date -u +%F)}
PY=${PY:-/tmp/ref/venv/bin/python}
DATA=${DATA:-/tmp/refdata}
case $PILE in
  zlib) dir=$DATA/era5_zlib; gen=(--zlib --start-year 2001 --end-year 2012); years=(--clim-start 2001 --clim-end 2010 --year 2012) ;;
  raw) dir=$DATA/era5; gen=(); years=() ;;
  *) echo "pile must be zlib or raw" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
cargo build --release -p blockwork-bench >&2
[ -d "$dir" ] || $PY ../shared/reference/gen_netcdf.py "${gen[@]}" --outdir "$dir" >&2
glob="$dir/era5_t2m_*.nc"
ref=$DATA/anomaly_$PILE.nc
common=(--glob "$glob" "${years[@]}")

dask=$OUT/dask-climate-$PILE.jsonl
bw=$OUT/blockwork-climate-$PILE.jsonl
: > "$dask"
: > "$bw"
for engine in netcdf4 h5netcdf; do
  for parallel in "--no-parallel" ""; do
    for flox in on off; do
      # shellcheck disable=SC2086 # $parallel is one flag or none
      $PY ../shared/reference/climate.py "${common[@]}" --impls dask-threads --repeats 3 --keep-going \
        --engine $engine $parallel --flox $flox --minimal --out "$ref" >> "$dask"
    done
  done
done
$PY ../shared/reference/climate.py "${common[@]}" --impls dask-distributed --repeats 3 --keep-going \
  --engine netcdf4 --no-parallel --flox on --minimal --out "$ref" >> "$dask"

B=target/release/blockwork-bench
$B climate "${common[@]}" --repeats 5 --check "$ref" >> "$bw"
$B climate "${common[@]}" --repeats 4 --scheduler local-cluster --workers 2 --check "$ref" >> "$bw"
# The job's bound on a compressed pile: its chunks inflated, nothing else.
if [ "$PILE" = zlib ]; then
  $B inflate "${common[@]}" --repeats 5 > "$OUT/inflate-$PILE.jsonl"
fi
# The same cell from Python through xarray (chunked_array_type="blockwork"):
# xarray's own reader, engine="blockwork", and blockwork.open_mfdataset.
# The package built as a user installs it (release), into its own environment.
if [ "$PILE" = raw ]; then
  BENCH_VENV=target/bench-venv
  [ -x "$BENCH_VENV/bin/python" ] || python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q --disable-pip-version-check "./python[dataframe,xarray]" netCDF4 >&2
  "$BENCH_VENV/bin/python" scripts/bench_python.py climate "$glob" "$ref" > "$OUT/python-climate-$PILE.jsonl"
fi
python3 scripts/climate-table.py "$OUT" "$PILE"
