#!/usr/bin/env python3
"""The group-by table of BENCHMARKS.md, from one session's raw JSON.

    scripts/groupby-table.py benchmarks/DATE

Reads `blockwork-groupby.jsonl` (blockwork-bench groupby, refused unless
its check passed), `dask-dataframe.json` (../shared/reference/dataframe.py)
`polars-explicit-groupby.jsonl` (scripts/reference/polars_groupby.py) and,
when present, `python-groupby.jsonl` (scripts/bench_python.py groupby: the
same line through `blockwork.dataframe`, compute to pandas included), and
checks that every implementation's 24 hourly means agree with
blockwork's.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def runs(xs: list[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in xs)


def means_of(result: Any) -> dict[int, float]:
    if isinstance(result, dict):
        return {int(k): float(v) for k, v in result.items()}
    return {int(k): float(v) for k, v in result}


def main() -> None:
    out = Path(sys.argv[1])
    bw = json.loads((out / "blockwork-groupby.jsonl").read_text().splitlines()[0])
    if not bw.get("check", {}).get("ok"):
        raise SystemExit("the blockwork row is unchecked or failed its check")
    want = means_of(bw["result"])
    rows: list[tuple[str, float, list[float], str]] = []
    for r in json.loads((out / "dask-dataframe.json").read_text())["results"]:
        if "wall_s_median" in r:
            name = {"dask-threads": "dask.dataframe, threads", "polars": "Polars, `try_parse_dates=True`"}
            peak = f"{r['peak_rss_tree_mib_max']:.0f} (tree)" if r.get("peak_rss_tree_mib_max") else "–"
            rows.append((name.get(r["impl"], r["impl"]), r["wall_s_median"], r["wall_s_all"], peak))
    explicit = [json.loads(line) for line in (out / "polars-explicit-groupby.jsonl").read_text().splitlines()]
    worst = max(abs(means_of(e["result"])[h] - v) for e in explicit for h, v in want.items())
    if worst > 1e-8:
        raise SystemExit(f"Polars (explicit) differs from blockwork by {worst}")
    seconds = [e["seconds"] for e in explicit]
    peak = f"{max(e['peak_rss_mib'] for e in explicit):.0f}"
    rows.append(("Polars, explicit schema and date format", statistics.median(seconds), seconds, peak))
    print("| implementation | wall s (median of 3) | runs | peak RSS MiB |")
    print("|---|---|---|---|")
    for name, median, all_runs, peak in rows:
        print(f"| {name} | {median:.2f} | {runs(all_runs)} | {peak} |")
    print(
        f"| **blockwork threads** | **{bw['seconds']:.2f}** | {runs(bw.get('runs_seconds', [bw['seconds']]))} | "
        f"{bw['peak_rss_mib']:.0f} |"
    )
    best = min(median for _, median, _, _ in rows)
    python = out / "python-groupby.jsonl"
    if python.exists():
        py = [json.loads(line) for line in python.read_text().splitlines()]
        if not all(p.get("check", {}).get("ok") for p in py):
            raise SystemExit("a blockwork.dataframe run failed its check")
        off = max(abs(means_of(p["result"])[h] - v) for p in py for h, v in want.items())
        if off > 1e-8:
            raise SystemExit(f"blockwork.dataframe differs from blockwork-bench by {off}")
        worst = max(worst, off)
        seconds = [p["seconds"] for p in py]
        median = statistics.median(seconds)
        peak = max(p["peak_rss_mib"] for p in py)
        print(f"| **blockwork from Python, to pandas** | **{median:.2f}** | {runs(seconds)} | {peak:.0f} |")
        print()
        print(f"From Python: {best / median:.1f}x the fastest reference.")
    print()
    print(f"blockwork is {best / bw['seconds']:.1f}x the fastest reference; hourly means agree to {worst:.1g}.")
    cluster_rows(out, want)


def cluster_rows(out: Path, want: dict[int, float]) -> None:
    """On 2-worker clusters: Dask's LocalCluster against blockwork's warm
    runs (its first run, on fresh workers, apart)."""
    mine, theirs = out / "blockwork-groupby-cluster.jsonl", out / "dask-dataframe-cluster.json"
    if not (mine.exists() and theirs.exists()):
        return
    bw = json.loads(mine.read_text().splitlines()[0])
    if not bw.get("check", {}).get("ok"):
        raise SystemExit("the blockwork cluster row is unchecked or failed its check")
    off = max(abs(means_of(bw["result"])[h] - v) for h, v in want.items())
    if off > 1e-8:
        raise SystemExit(f"blockwork on a cluster differs from its threads by {off}")
    dask = next(r for r in json.loads(theirs.read_text())["results"] if "wall_s_median" in r)
    print()
    print("| on 2 worker processes of 1 thread | wall s (median) | runs | cold s | peak RSS MiB |")
    print("|---|---|---|---|---|")
    print(
        f"| dask.dataframe, `LocalCluster` | {dask['wall_s_median']:.2f} | {runs(dask['wall_s_all'])} | – "
        f"| {dask['peak_rss_tree_mib_max']:.0f} (tree) |"
    )
    warm = bw["runs_seconds"][1:]
    print(
        f"| **blockwork local cluster** | **{bw['seconds']:.2f}** | {runs(warm)} | {bw['cold_seconds']:.2f} "
        f"| {bw['peak_rss_mib']:.0f} (3 processes) |"
    )
    print()
    print(f"On the clusters blockwork (warm) is {dask['wall_s_median'] / bw['seconds']:.1f}x dask.dataframe.")


if __name__ == "__main__":
    main()
