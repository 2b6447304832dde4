#!/usr/bin/env python3
"""Markdown tables for BENCHMARKS.md from the two sides' JSON.

usage: overhead-table.py BLOCKWORK.jsonl DASK.json [DASK.json ...]
BLOCKWORK.jsonl: lines of `blockwork-bench overhead` (scripts/bench-overhead.sh);
DASK.json: outputs of ../shared/reference/overhead.py.
"""

from __future__ import annotations

import json
import sys

bw = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    p = d["params"]
    bw[(p["mode"], p["pattern"], p["n"], d["impl"].split("-")[1])] = d

dask = {}
for f in sys.argv[2:]:
    for r in json.load(open(f))["results"]:
        if "skipped" in r or "error" in r:
            continue
        dask[(r["mode"], r["pattern"], r["n"], r["scheduler"])] = r


def fmt(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:,.{digits}f}"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None or b == 0 else f"{a / b:,.0f}×"


print("| graph | N | Dask sync | blockwork sync | speed-up | Dask threads | blockwork threads | speed-up |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for mode in ["raw", "delayed"]:
    for pattern in ["chain", "fan", "tree"]:
        for n in [10_000, 100_000, 1_000_000]:
            row = []
            for s in ["sync", "threads"]:
                b = bw.get((mode, pattern, n, s))
                k = dask.get((mode, pattern, n, s))
                if mode == "raw":
                    bv = b and b["exec_us_per_task"]
                    dv = k and k.get("exec_us_per_task")
                else:
                    bv = b and b["e2e_us_per_task"]
                    dv = k and k.get("e2e_us_per_task")
                row += [fmt(dv), fmt(bv, 3), ratio(dv, bv)]
            if all(c == "–" for c in row[1::3]):
                continue
            label = f"{mode} {pattern}" + (" (exec)" if mode == "raw" else " (end to end)")
            print(f"| {label} | {n:,} | " + " | ".join(row) + " |")

print()
print(
    "| graph | N | tasks | build s | order s | exec s (threads) | end to end µs/task | graph bytes/task "
    "| peak heap bytes/task | peak RSS MiB |"
)
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for mode in ["raw", "delayed"]:
    for pattern in ["chain", "fan", "tree"]:
        for n in [10_000, 100_000, 1_000_000]:
            b = bw.get((mode, pattern, n, "threads"))
            if not b:
                continue
            print(
                f"| {mode} {pattern} | {n:,} | {b['tasks']:,} | {b['build_s']:.4f} | {b['order_s']:.4f} "
                f"| {b['exec_s']:.4f} | {b['e2e_us_per_task']:.3f} | {b['graph_bytes_per_task']:.0f} "
                f"| {b['peak_heap_bytes_per_task']:.0f} | {b['peak_rss_mib']:.0f} |"
            )
