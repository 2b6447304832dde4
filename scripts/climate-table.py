#!/usr/bin/env python3
"""The climate table of BENCHMARKS.md, made from the raw JSON of one session.

    scripts/climate-table.py benchmarks/DATE zlib|raw

Reads `dask-climate-PILE.jsonl` (../shared/reference/climate.py, one line
per configuration) and `blockwork-climate-PILE.jsonl` (blockwork-bench
climate records) and, when present, `python-climate-PILE.jsonl` (the cell
from Python through xarray, scripts/bench_python.py climate) and
`inflate-PILE.jsonl` (blockwork-bench inflate: the chunks the job reads,
inflated on both cores and nothing else done, the job's bound; and the
job's reading and folding as plain loops, in the job's order and fused).
Every Dask
configuration gets a row, the best marked;
blockwork's rows are refused unless their check against the anomaly
xarray wrote passed. Ratios are against the best Dask configuration.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def dask_config(result: dict[str, Any]) -> str:
    impl = "threads" if result["impl"] == "dask-threads" else "2-worker cluster"
    engine = result.get("engine") or "netcdf4"
    parallel = "parallel" if result.get("parallel") else "`parallel=False`"
    flox = "flox" if result.get("flox_used") else "no flox"
    minimal = ", minimal" if result.get("minimal") else ""
    return f"{impl}, {engine}, {parallel}, {flox}{minimal}"


def dask_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        for r in record["results"]:
            params = record["params"]
            r.setdefault("engine", params.get("engine"))
            r.setdefault("parallel", not params.get("no_parallel"))
            r.setdefault("minimal", params.get("minimal"))
            r.setdefault("flox_used", params.get("flox") == "on")
            rows.append(r)
    return rows


def blockwork_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if not r.get("check", {}).get("ok"):
            raise SystemExit(f"unchecked or failed blockwork row: {line[:300]}")
        rows.append(r)
    return rows


def runs(xs: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in xs)


def main() -> None:
    out, pile = Path(sys.argv[1]), sys.argv[2]
    dask = dask_rows(out / f"dask-climate-{pile}.jsonl")
    bw = blockwork_rows(out / f"blockwork-climate-{pile}.jsonl")
    ok = [r for r in dask if r.get("ok_runs")]
    best = min(ok, key=lambda r: r["wall_s_median"])
    print("| implementation | wall s (median) | runs | open s | compute s | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for r in dask:
        name = "xarray + Dask " + dask_config(r)
        if not r.get("ok_runs"):
            print(f"| {name} | failed ({r.get('failures', ['?'])[0]}) | | | | |")
            continue
        mark = " **(best)**" if r is best else ""
        print(
            f"| {name}{mark} | {r['wall_s_median']:.2f} | {runs(r['wall_s_all'])} | "
            f"{r['open_s_median']:.2f} | {r['compute_s_median']:.2f} | {r['peak_rss_tree_mib_max']:.0f} |"
        )
    for r in bw:
        cluster = "cold_seconds" in r
        name = "blockwork " + ("2-worker local cluster" if cluster else "threads")
        walls = r["runs_wall_s"]
        shown = f"{runs(walls[1:])} (cold {walls[0]:.2f})" if cluster else runs(walls)
        print(
            f"| **{name}** | **{r['seconds']:.2f}** | {shown} | {r['open_s']:.3f} | "
            f"{r['compute_s']:.2f} | {r['peak_rss_mib']:.0f} |"
        )
    python = out / f"python-climate-{pile}.jsonl"
    py_rows = blockwork_rows(python) if python.exists() else []
    names = {
        "blockwork-python-blockwork-open": "`blockwork.open_mfdataset`",
        "blockwork-python-xarray-engine": '`xr.open_mfdataset(..., engine="blockwork")`',
        "blockwork-python-xarray-netcdf4": "`xr.open_mfdataset` (xarray's netCDF4 reads)",
    }
    by_impl: dict[str, list[dict[str, Any]]] = {}
    for r in py_rows:
        by_impl.setdefault(r["impl"], []).append(r)
    medians: dict[str, float] = {}
    for impl, rs in by_impl.items():
        rs = sorted(rs, key=lambda r: r["seconds"])
        mid = rs[len(rs) // 2]
        medians[impl] = mid["seconds"]
        print(
            f"| **from Python through xarray, {names.get(impl, impl)}** | **{mid['seconds']:.2f}** | "
            f"{runs([r['seconds'] for r in by_impl[impl]])} | {mid['open_s']:.2f} | {mid['compute_s']:.2f} | "
            f"{max(r['peak_rss_mib'] for r in rs):.0f} |"
        )
    print()
    print(f"Best Dask configuration: {dask_config(best)}, {best['wall_s_median']:.2f} s.")
    for impl, median in medians.items():
        worst = max(r["check"]["max_abs_diff_vs_xarray"] for r in by_impl[impl])
        print(
            f"From Python, {names.get(impl, impl)}: {best['wall_s_median'] / median:.1f}× faster; "
            f"largest difference from xarray's anomaly {worst:.2g} K."
        )
    for r in bw:
        name = "2-worker local cluster (warm)" if "cold_seconds" in r else "threads"
        print(
            f"blockwork {name}: {best['wall_s_median'] / r['seconds']:.1f}× faster; "
            f"largest difference from xarray's anomaly {r['max_abs_diff_vs_reference']:.2g} K; "
            f"mean anomaly per season {r['result']}."
        )
    bound = out / f"inflate-{pile}.jsonl"
    if bound.exists():
        inflate_bound(blockwork_rows(bound)[-1], bw)


def inflate_bound(record: dict[str, Any], bw: list[dict[str, Any]]) -> None:
    """The job's bound: its chunks inflated and nothing else, beside it."""
    res = record["result"]
    print()
    print("| the job's chunks, 2 threads, no engine | s (median) | runs | GB/s inflated |")
    print("|---|---|---|---|")
    for name, r in record["impls"].items():
        print(f"| {name} | {r['seconds']:.3f} | {runs(r['runs_seconds'])} | {r['inflated_gb_s']:.2f} |")
    # Plain loops of the job's own work, when the record has them.
    for name, r in record.get("pipelines", {}).items():
        print(f"| plain loop: {name} | {r['seconds']:.3f} | {runs(r['runs_seconds'])} | {r['inflated_gb_s']:.2f} |")
    print()
    fastest = min(r["seconds"] for r in record["impls"].values())
    print(
        f"{res['chunks']} chunks, {res['stored_bytes'] / 1e6:.0f} MB stored, "
        f"{res['inflated_bytes'] / 1e6:.0f} MB inflated."
    )
    for r in bw:
        name = "2-worker local cluster (warm)" if "cold_seconds" in r else "threads"
        print(f"blockwork {name}: at {fastest / r['seconds']:.0%} of the fastest inflate's throughput.")
    alone = min(record["impls"].values(), key=lambda r: r["seconds"])
    for r in bw:
        if "stages" in r:
            job_stages(r["stages"], alone["inflated_gb_s"] / record["params"]["threads"])


def job_stages(stages: dict[str, Any], alone_per_thread: float) -> None:
    """The job's threads' time by stage (its median run), beside the
    inflater's speed alone."""
    read, inflate = stages["read"], stages["inflate"]
    rest = 1 - read["share_of_thread_time"] - inflate["share_of_thread_time"]
    print()
    print(
        f"Inside the job (threads, its median run): inflating took {inflate['share_of_thread_time']:.0%} "
        f"of the {stages['threads']} threads' time, at {inflate['gb_per_s_per_thread']:.2f} GB/s per thread "
        f"({inflate['gb_per_s_per_thread'] / alone_per_thread:.0%} of libdeflate's {alone_per_thread:.2f} "
        f"alone); reading the files {read['share_of_thread_time']:.0%}, at "
        f"{read['gb_per_s_per_thread']:.2f} GB/s per thread; the rest ({rest:.0%}) taking the elements "
        "from the chunks, folding them, and the engine."
    )


if __name__ == "__main__":
    main()
