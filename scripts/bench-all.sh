#!/usr/bin/env bash
# Every figure of BENCHMARKS.md in one session: each section's script, one
# after the other, writing raw JSON into OUT (default benchmarks/DATE) and
# its table into OUT/tables/SECTION.md. A section that fails stops the run
# (every blockwork result is checked; a mismatch exits non-zero).
#
#   scripts/bench-all.sh [OUT] [SECTION ...]
#
# SECTIONs: arrays climate-zlib climate-raw overhead distributed linalg
# groupby wordfreq python dashboard (default: all, in that order). Needs the
# reference environment (../shared/reference/setup.sh) at $PY; makes the
# inputs it lacks under /tmp/refdata. Takes about 90 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/$(date -u +%F)}
shift || true
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(arrays climate-zlib climate-raw overhead distributed linalg groupby wordfreq python dashboard)
mkdir -p "$OUT/tables"
cargo build --release -p blockwork-bench -p blockwork-cli >&2
log=$OUT/sessions.log
for s in "${sections[@]}"; do
  echo "$(date -u +%FT%TZ) start $s" | tee -a "$log" >&2
  case $s in
    arrays) scripts/bench-arrays.sh "$OUT" ;;
    climate-zlib) scripts/bench-climate.sh zlib "$OUT" ;;
    climate-raw) scripts/bench-climate.sh raw "$OUT" ;;
    overhead) scripts/bench-overhead.sh "$OUT" ;;
    distributed) scripts/bench-distributed.sh "$OUT" ;;
    linalg) scripts/bench-linalg.sh "$OUT" ;;
    groupby) scripts/bench-groupby.sh "$OUT" ;;
    wordfreq) scripts/bench-wordfreq.sh "$OUT" ;;
    python) scripts/bench-python.sh "$OUT" ;;
    dashboard) scripts/bench-dashboard.sh "$OUT" ;;
    *) echo "unknown section $s" >&2; exit 2 ;;
  esac > "$OUT/tables/$s.md"
  echo "$(date -u +%FT%TZ) end $s" | tee -a "$log" >&2
done
