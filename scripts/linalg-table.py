#!/usr/bin/env python3
"""The linear-algebra table of BENCHMARKS.md, from the raw JSON of one session.

    scripts/linalg-table.py benchmarks/DATE-linalg

Reads dask-svd.json and dask-svdc.json (../shared/reference/array_ops.py)
and blockwork-svd.jsonl and blockwork-svd-compressed.jsonl (blockwork-bench).
Rows whose check failed are refused.
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


def main() -> None:
    out = Path(sys.argv[1])
    print("| workload | Dask threads s | peak MiB | blockwork s (runs) | peak MiB | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
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
            f"{ref['wall_s_median'] / mine['seconds']:.1f}× |"
        )


if __name__ == "__main__":
    main()
