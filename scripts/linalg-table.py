#!/usr/bin/env python3
"""The linear-algebra table of BENCHMARKS.md, from the raw JSON of one session.

    scripts/linalg-table.py benchmarks/DATE-linalg

Reads dask-svd.json and dask-svdc.json (../shared/reference/array_ops.py)
and blockwork-svd.jsonl and blockwork-svd-compressed.jsonl (blockwork-bench),
and, when there, blockwork-gram-svd-compressed.jsonl (the talks' line on a
local cluster with a memory limit per worker). Rows whose check failed are
refused.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def ours(path: Path) -> dict[str, Any]:
    row: dict[str, Any] = json.loads(path.read_text().splitlines()[0])
    if not row.get("check", {}).get("ok"):
        raise SystemExit(f"{path}: unchecked or failed row")
    return row


def dask(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(path.read_text())["results"][0]
    if result["ok_runs"] != result["runs"]:
        raise SystemExit(f"{path}: a reference run failed")
    return result


def fmt(x: float | None) -> str:
    return "–" if x is None else f"{x:.9g}"


def main() -> None:
    out = Path(sys.argv[1])
    print(
        "| workload | Dask threads s | peak MiB | blockwork s (runs) | peak MiB | speed-up "
        "| Σ s blockwork / Dask | blockwork's check |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    rows = [
        ("`svd` 2,000,000 × 100, rows 100,000", "dask-svd.json", "blockwork-svd.jsonl"),
        ("`svd_compressed` 20000², chunks 1000, k = 10, 2 power iterations", "dask-svdc.json",
         "blockwork-svd-compressed.jsonl"),
    ]  # fmt: skip
    for label, d, b in rows:
        ref, mine = dask(out / d), ours(out / b)
        runs = ", ".join(f"{s:.2f}" for s in mine["runs_seconds"])
        print(
            f"| {label} | {ref['wall_s_median']:.1f} | {ref['peak_rss_tree_mib_max']:,.0f} | "
            f"{mine['seconds']:.2f} ({runs}) | {mine['peak_rss_mib']:,.0f} | "
            f"{ref['wall_s_median'] / mine['seconds']:.1f}× | {mine['result']:.9g} / {fmt(ref.get('result'))} "
            f"| {mine['check']['worst_rel_diff']:.0e} |"
        )
    gram = out / "blockwork-gram-svd-compressed.jsonl"
    if gram.exists():
        print(gram_line(ours(gram)))


def gram_line(row: dict[str, Any]) -> str:
    """The cluster run of `svd_compressed(x.dot(x.T))`: time, each worker's
    peak against its limit."""
    p = row["params"]
    peaks = ", ".join(f"{m:,.0f}" for m in row["worker_peak_rss_mib"])
    return (
        f"\n`svd_compressed(x.dot(x.T))`, x {p['n']}² ({p['fill']}) in chunks of {p['chunk']}, k = {p['k']}, "
        f"on a local cluster of {len(row['worker_peak_rss_mib'])} single-threaded workers limited to "
        f"{p['memory_limit']} each: {row['seconds']:.0f} s (first run {row['warmup_seconds']:.0f} s), "
        f"worker peaks {peaks} MiB, Σ s checked to {row['check']['worst_rel_diff']:.0e}."
    )


if __name__ == "__main__":
    main()
