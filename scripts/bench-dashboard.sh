#!/usr/bin/env bash
# The dashboard's cost to the scheduler: `overhead` fan 100k on a 2-worker
# cluster (worker processes of one thread each), with the dashboard page
# open in headless Chromium and without it, alternating (closed, open,
# closed, open) so that drift hits both alike. The scheduler serves its
# HTTP API in both; only the open page differs. Raw JSON goes to OUT
# (default benchmarks/DATE-dashboard), one line per run with "dashboard":
# "open" or "closed" added. ROUNDS (default 8) pairs are run: single pairs
# vary by ±15% on 2 cores, so fewer cannot resolve the 5% goal.
#
#   scripts/bench-dashboard.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-benchmarks/$(date -u +%F)-dashboard}
mkdir -p "$OUT"
cargo build --release -p blockwork-bench -p blockwork-cli >&2
B=target/release/blockwork-bench
PORT=${PORT:-18786}
HTTP=${HTTP:-18787}
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
target/release/blockwork scheduler --host 127.0.0.1 --port "$PORT" --dashboard-address "127.0.0.1:$HTTP" 2>/dev/null &
pids+=($!)
sleep 1
for i in 0 1; do
  $B worker "tcp://127.0.0.1:$PORT" --nthreads 1 --name "bench-$i" > /dev/null &
  pids+=($!)
done
sleep 1
out=$OUT/dashboard.jsonl
: > "$out"
for round in $(seq 1 "${ROUNDS:-8}"); do
  for page in closed open; do
    browser=
    if [ "$page" = open ]; then
      profile=$(mktemp -d)
      chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$profile" --window-size=1400,1000 \
        "http://127.0.0.1:$HTTP/status" > /dev/null 2>&1 &
      browser=$!
      sleep 3
    fi
    $B overhead --mode raw --pattern fan --n 100000 --scheduler "tcp://127.0.0.1:$PORT" --repeats 3 --check \
      | python3 -c 'import json,sys; [print(json.dumps({**json.loads(l), "dashboard": sys.argv[1], "round": int(sys.argv[2])})) for l in sys.stdin]' "$page" "$round" >> "$out"
    if [ -n "$browser" ]; then kill "$browser"; wait "$browser" 2>/dev/null || true; sleep 1; rm -rf "$profile" || true; fi
  done
done
python3 scripts/dashboard-table.py "$OUT"
