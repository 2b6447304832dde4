#!/usr/bin/env python3
"""The array table of BENCHMARKS.md, made from the raw JSON of one session.

    scripts/array-table.py benchmarks/DATE

Reads `blockwork-arrays.jsonl` (blockwork-bench records), and Dask's side:
`dask-array-inputs.jsonl` (scripts/reference/array_inputs.py, one line per
run: pattern and .npy inputs) and `dask-array-ops-*.json`
(../shared/reference/array_ops.py: random and ones inputs). Dask's time is
graph build plus compute, as blockwork's is. Rows whose blockwork check
failed are refused.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

Key = tuple[str, str, int, int]


def fill_name(fill: str) -> str:
    return "npy" if fill.startswith("npy:") else fill


def blockwork_rows(out: Path) -> dict[Key, dict[str, Any]]:
    rows: dict[Key, dict[str, Any]] = {}
    for line in (out / "blockwork-arrays.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["workload"] not in ("xxt", "dot-std"):
            continue
        if not r.get("check", {}).get("ok"):
            raise SystemExit(f"unchecked or failed blockwork row: {line}")
        p = r["params"]
        rows[(r["workload"], fill_name(p["fill"]), p["n"], p["chunk"])] = r
    return rows


def dask_rows(out: Path) -> dict[Key, dict[str, Any]]:
    runs: dict[Key, list[dict[str, Any]]] = {}
    path = out / "dask-array-inputs.jsonl"
    for line in path.read_text().splitlines() if path.exists() else []:
        r = json.loads(line)
        p = r["params"]
        runs.setdefault((r["workload"], fill_name(p["fill"]), p["n"], p["chunk"]), []).append(r)
    rows = {
        k: {
            "seconds": statistics.median(x["seconds"] for x in v),
            "peak": max(x["peak_rss_mib"] for x in v),
            "result": v[-1]["result"],
        }
        for k, v in runs.items()
    }
    for path in sorted(out.glob("dask-array-ops-*.json")):
        for r in json.loads(path.read_text())["results"]:
            if r.get("impl") != "dask-threads" or "wall_s_median" not in r:
                continue
            workload = {"xxt": "xxt", "dot": "dot-std"}.get(r["case"])
            if workload is None:
                continue
            fill = r.get("fill") or "random"
            rows[(workload, fill, r["n"], r["chunk"])] = {
                "seconds": r["wall_s_median"] + r.get("build_s_median", 0.0),
                "peak": r.get("peak_rss_tree_mib_max"),
                "result": r.get("result"),
            }
    return rows


def fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}g}"


def main() -> None:
    out = Path(sys.argv[1])
    bw, dask = blockwork_rows(out), dask_rows(out)
    print(
        "| workload | fill | n | chunk | Dask threads s | blockwork threads s | speed-up "
        "| Dask peak MiB | blockwork peak MiB | result (blockwork / Dask) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for key in sorted(bw, key=lambda k: (k[0] != "xxt", k[1], k[2], k[3])):
        r, d = bw[key], dask.get(key)
        ratio = f"{d['seconds'] / r['seconds']:.1f}×" if d else "–"
        result = f"{r['result']:.9g} / {fmt(d['result'], 9) if d else '–'}"
        print(
            f"| `{key[0]}` | {key[1]} | {key[2]} | {key[3]} | {fmt(d['seconds'] if d else None)} "
            f"| {fmt(r['seconds'])} | {ratio} | {fmt(d['peak'] if d else None, 4)} "
            f"| {fmt(r['peak_rss_mib'], 4)} | {result} |"
        )
    for line in (out / "blockwork-arrays.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["workload"] == "gemm":
            print(
                f"\nGEMM bound (`gemm --n {r['params']['n']}`): one faer GEMM {r['faer_gflops']:.0f} GFLOP/s, "
                f"the chunked product {r['chunked_gflops']:.0f} GFLOP/s "
                f"({100 * r['chunked_over_faer']:.0f}% of it)."
            )


if __name__ == "__main__":
    main()
