#!/usr/bin/env python3
"""The array tables of BENCHMARKS.md, made from the raw JSON of one session.

    scripts/array-table.py benchmarks/DATE

Reads `blockwork-arrays.jsonl` (blockwork-bench records), and Dask's side:
`dask-array-inputs.jsonl` (scripts/reference/array_inputs.py, one line per
run: pattern and .npy inputs) and `dask-array-ops-*.json`
(../shared/reference/array_ops.py: random and ones inputs, threads or a
2-worker LocalCluster). Dask's time is graph build plus compute, as
blockwork's is. Rows whose blockwork check failed are refused.

Prints the threaded table (every workload and input), the cluster table
(cold and warm runs) and the GEMM bound and kernel lines.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

# (workload, fill, n, chunk, scheduler)
Key = tuple[str, str, int, int, str]
DASK_CASES = {"xxt": "xxt", "dot": "dot-std", "ones": "ones-sum", "big": "big-sum"}
ORDER = ["ones-sum", "xxt", "dot-std", "big-sum"]
# The workloads whose input is fixed, and which records therefore do not name.
IMPLIED_FILL = {"ones-sum": "ones", "big-sum": "random"}


def fill_name(fill: str) -> str:
    return "npy" if fill.startswith("npy:") else fill


def records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "blockwork-arrays.jsonl").read_text().splitlines()]


def blockwork_rows(out: Path) -> dict[Key, dict[str, Any]]:
    rows: dict[Key, dict[str, Any]] = {}
    for r in records(out):
        if r["workload"] not in ORDER:
            continue
        if not r.get("check", {}).get("ok"):
            raise SystemExit(f"unchecked or failed blockwork row: {json.dumps(r)}")
        p = r["params"]
        sched = "cluster" if r["impl"] == "blockwork-distributed" else "threads"
        fill = fill_name(p.get("fill") or IMPLIED_FILL[r["workload"]])
        rows[(r["workload"], fill, p["n"], p["chunk"], sched)] = r
    return rows


def dask_rows(out: Path) -> dict[Key, dict[str, Any]]:
    runs: dict[Key, list[dict[str, Any]]] = {}
    path = out / "dask-array-inputs.jsonl"
    for line in path.read_text().splitlines() if path.exists() else []:
        r = json.loads(line)
        p = r["params"]
        runs.setdefault((r["workload"], fill_name(p["fill"]), p["n"], p["chunk"], "threads"), []).append(r)
    rows = {
        k: {
            "seconds": statistics.median(x["seconds"] for x in v),
            "peak": max(x["peak_rss_mib"] for x in v),
            "result": v[-1]["result"],
        }
        for k, v in runs.items()
    }
    for path in sorted(out.glob("dask-array-ops-*.json")):
        record = json.loads(path.read_text())
        default_fill = record.get("params", {}).get("dot_fill", "ones")
        for r in record["results"]:
            if "wall_s_median" not in r or r.get("impl") not in ("dask-threads", "dask-distributed"):
                continue
            workload = DASK_CASES.get(r["case"])
            if workload is None:
                continue
            fill = IMPLIED_FILL.get(workload) or r.get("fill") or ("random" if workload == "xxt" else default_fill)
            sched = "threads" if r["impl"] == "dask-threads" else "cluster"
            rows[(workload, fill, r["n"], r["chunk"], sched)] = {
                "seconds": r["wall_s_median"] + r.get("build_s_median", 0.0),
                "peak": r.get("peak_rss_tree_mib_max"),
                "result": r.get("result"),
                "foreign": r.get("foreign_cpu_frac_max"),
            }
    return rows


def fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}g}"


def sort_key(k: Key) -> tuple[int, str, int, int]:
    return (ORDER.index(k[0]), k[1], k[2], k[3])


def threads_table(bw: dict[Key, dict[str, Any]], dask: dict[Key, dict[str, Any]]) -> None:
    print(
        "| workload | fill | n | chunk | Dask threads s | blockwork threads s | speed-up "
        "| Dask peak MiB | blockwork peak MiB | result (blockwork / Dask) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for key in sorted((k for k in bw if k[4] == "threads"), key=sort_key):
        r, d = bw[key], dask.get(key)
        ratio = f"{d['seconds'] / r['seconds']:.1f}×" if d else "–"
        result = f"{r['result']:.9g} / {fmt(d['result'], 9) if d else '–'}"
        print(
            f"| `{key[0]}` | {key[1]} | {key[2]} | {key[3]} | {fmt(d['seconds'] if d else None)} "
            f"| {fmt(r['seconds'])} | {ratio} | {fmt(d['peak'] if d else None, 4)} "
            f"| {fmt(r['peak_rss_mib'], 4)} | {result} |"
        )


def cluster_table(bw: dict[Key, dict[str, Any]], dask: dict[Key, dict[str, Any]]) -> None:
    keys = sorted((k for k in bw if k[4] == "cluster"), key=sort_key)
    if not keys:
        return
    print(
        "\n| workload | fill | n | chunk | Dask LocalCluster s | blockwork cluster warm s | blockwork cold s "
        "| speed-up (warm) | Dask peak MiB (tree) | blockwork peak MiB (3 processes) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in keys:
        r, d = bw[key], dask.get(key)
        ratio = f"{d['seconds'] / r['seconds']:.1f}×" if d else "–"
        print(
            f"| `{key[0]}` | {key[1]} | {key[2]} | {key[3]} | {fmt(d['seconds'] if d else None)} "
            f"| {fmt(r['seconds'])} | {fmt(r.get('cold_seconds'))} | {ratio} "
            f"| {fmt(d['peak'] if d else None, 4)} | {fmt(r['peak_rss_mib'], 4)} |"
        )


def bound_lines(out: Path) -> None:
    kernels = []
    for r in records(out):
        if r["workload"] == "gemm":
            print(
                f"\nGEMM bound (`gemm --n {r['params']['n']}`): one faer GEMM {r['faer_gflops']:.0f} GFLOP/s, "
                f"the chunked product {r['chunked_gflops']:.0f} GFLOP/s "
                f"({100 * r['chunked_over_faer']:.0f}% of it)."
            )
        if r["workload"] == "kernel":
            kernels.append(r["result"])
    if kernels:
        maps = ", ".join(f"{k['map_ratio']:.2f}×" for k in kernels)
        sums = ", ".join(f"{k['sum_ratio']:.2f}×" for k in kernels)
        print(
            f"\nOne-block kernels (`kernel --n 4000`, {len(kernels)} runs): `x * 2 + 1` takes {maps} "
            f"ndarray's `mapv`; `x.sum()` takes {sums} ndarray's `sum`."
        )


def main() -> None:
    out = Path(sys.argv[1])
    bw, dask = blockwork_rows(out), dask_rows(out)
    threads_table(bw, dask)
    cluster_table(bw, dask)
    bound_lines(out)


if __name__ == "__main__":
    main()
