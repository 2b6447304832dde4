#!/usr/bin/env python3
"""The distributed-overhead table of BENCHMARKS.md, from one session's raw JSON.

    scripts/distributed-table.py benchmarks/DATE

Reads `dask-distributed.jsonl` (../shared/reference/overhead.py, one line
per worker-saturation setting) and `blockwork-distributed.jsonl`
(blockwork-bench overhead records on a local cluster). Dask's figure per
row is its better setting. blockwork's rows are refused unless checked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

Row = tuple[str, int]


def dask_rows(path: Path) -> dict[Row, dict[str, Any]]:
    best: dict[Row, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        record = json.loads(line)
        saturation = record["params"].get("dist_worker_saturation") or "1.1 (default)"
        for r in record["results"]:
            if r.get("scheduler") != "distributed" or not r.get("exec_result_ok"):
                continue
            r["saturation"] = saturation
            key = (r["pattern"], r["n"])
            if key not in best or r["exec_us_per_task"] < best[key]["exec_us_per_task"]:
                best[key] = r
    return best


def blockwork_rows(path: Path) -> dict[Row, dict[str, Any]]:
    rows = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if not r.get("check", {}).get("ok"):
            raise SystemExit(f"unchecked or failed blockwork row: {line[:300]}")
        rows[(r["params"]["pattern"], r["params"]["n"])] = r
    return rows


def main() -> None:
    out = Path(sys.argv[1])
    dask = dask_rows(out / "dask-distributed.jsonl")
    bw = blockwork_rows(out / "blockwork-distributed.jsonl")
    print(
        "| graph | N | Dask µs/task (best setting) | blockwork warm µs/task | blockwork cold s | "
        "blockwork executed tasks (µs each) | speed-up (warm) | blockwork peak RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for key in sorted(bw, key=lambda k: (k[0], k[1])):
        r = bw[key]
        n = key[1]
        warm_us = r["seconds"] / n * 1e6
        d = dask.get(key)
        dask_us = f"{d['exec_us_per_task']:,.0f} (saturation {d['saturation']})" if d else "–"
        ratio = f"{d['exec_us_per_task'] / warm_us:,.0f}×" if d else "–"
        executed = r.get("executed_tasks", r["tasks"])
        per_exec = r["seconds"] / executed * 1e6
        print(
            f"| raw {key[0]} | {n:,} | {dask_us} | **{warm_us:.1f}** | {r.get('cold_seconds', float('nan')):.2f} | "
            f"{executed:,} ({per_exec:.1f}) | {ratio} | {r['peak_rss_mib']:.0f} |"
        )


if __name__ == "__main__":
    main()
