#!/usr/bin/env python3
"""The Python package's table of BENCHMARKS.md, from the raw JSON of one session.

    scripts/python-table.py benchmarks/DATE

Reads python-arrays.jsonl, blockwork-rust-for-python.jsonl (the Rust bench
on the same workloads), python-delayed.jsonl and python-dask-graph.jsonl
and python-from-array.jsonl (scripts/bench_python.py). Rows whose check
failed are refused.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def lines(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    for r in rows:
        if not r.get("check", {}).get("ok"):
            raise SystemExit(f"{path}: unchecked or failed row {r}")
    return rows


def median(rows: list[dict[str, Any]], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    out = Path(sys.argv[1])
    py = lines(out / "python-arrays.jsonl")
    rust = lines(out / "blockwork-rust-for-python.jsonl")
    print("| workload | Rust bench s | from Python s | Python / Rust |")
    print("|---|---:|---:|---:|")
    for w in ("xxt", "dot-std"):
        p = median([r for r in py if r["workload"] == w])
        r = next(x for x in rust if x["workload"] == w)
        n, c = r["params"]["n"], r["params"]["chunk"]
        print(f"| `{w}` n={n}, chunk {c} (random) | {r['seconds']:.3g} | {p:.3g} | {p / r['seconds']:.2f} |")
    print()
    print("| 100k no-op `delayed` tasks | µs per task, end to end (median of all runs) | of which building the graph |")
    print("|---|---:|---:|")
    for r_shape in ("fan", "chain"):
        rows = [r for r in lines(out / "python-delayed.jsonl") if r["workload"] == f"delayed-{r_shape}"]
        us = median(rows, "us_per_task")
        build = statistics.median(1e6 * r["build_seconds"] / r["params"]["tasks"] for r in rows)
        print(f"| {r_shape} | {us:.1f} | {build:.1f} |")
    print()
    rows = lines(out / "python-dask-graph.jsonl")
    dask_s = median([r for r in rows if r["impl"] == "dask-threads"])
    bw_s = median([r for r in rows if r["impl"] == "blockwork-get"])
    p = rows[0]["params"]
    print("| Dask array graph | Dask threads s | `scheduler=blockwork.get` s | speed-up |")
    print("|---|---:|---:|---:|")
    print(
        f"| `((x + 1) * x.T - x.mean(axis=0)).sum(axis=0)`, n={p['n']}, chunk {p['chunk']} "
        f"({p['tasks']} tasks before culling) | {dask_s:.3g} | {bw_s:.3g} | {dask_s / bw_s:.2f}× |"
    )
    from_array_table(out)


def from_array_table(out: Path) -> None:
    path = out / "python-from-array.jsonl"
    if not path.exists():
        return
    print()
    print(
        "| `from_array` of a NumPy array | source MiB | RSS after `from_array` | peak during `sum()` "
        "| peak after `(x + 1).compute()` |"
    )
    print("|---|---:|---:|---:|---:|")
    for r in lines(path):
        print(
            f"| {r['params']['gib']:g} GiB, {r['params']['blocks']} blocks | {r['source_mib']:.0f} "
            f"| {r['rss_after_from_array_mib']:.0f} | {r['peak_after_sum_mib']:.0f} "
            f"| {r['peak_after_compute_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()
