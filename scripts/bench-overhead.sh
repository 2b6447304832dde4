#!/usr/bin/env bash
# Runs every `overhead` row of BENCHMARKS.md and prints one JSON line per run.
# Usage: scripts/bench-overhead.sh > overhead.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p blockwork-bench
B=target/release/blockwork-bench
for mode in raw delayed; do
  for pattern in chain fan tree; do
    for n in 10000 100000 1000000; do
      for sched in sync threads; do
        "$B" overhead --mode "$mode" --pattern "$pattern" --n "$n" --scheduler "$sched" --repeats 3
      done
    done
  done
done
