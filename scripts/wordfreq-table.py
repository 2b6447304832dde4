#!/usr/bin/env python3
"""The word-frequency table of BENCHMARKS.md from the raw JSON lines of
scripts/bench-wordfreq.sh: median (and cold) seconds per implementation,
each row's ratio to the best dask.bag row of its kind (local schedulers,
2-worker clusters). Refuses unchecked blockwork runs and top counts that
differ between the implementations.

    python3 scripts/wordfreq-table.py benchmarks/2026-12-05-wordfreq
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def runs(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


ROWS = [
    ("blockwork (threads, `flat_map`)", "blockwork-wordfreq.jsonl", "local"),
    ("blockwork (threads, `flat_map_with`)", "blockwork-wordfreq-emit.jsonl", "local"),
    ("blockwork (2-worker cluster)", "blockwork-wordfreq-cluster.jsonl", "cluster"),
    ("dask.bag (processes)", "dask-bag-processes.jsonl", "local"),
    ("dask.bag (threads)", "dask-bag-threads.jsonl", "local"),
    ("dask.bag (2-worker distributed)", "dask-bag-distributed.jsonl", "cluster"),
]


def main() -> None:
    out = Path(sys.argv[1])
    rows: list[tuple[str, str, list[float], list[float], str]] = []
    results: set[int] = set()
    for name, file, kind in ROWS:
        path = out / file
        if not path.exists():
            continue
        rs = runs(path)
        if name.startswith("blockwork"):
            for r in rs:
                check = r.get("check")
                if not isinstance(check, dict) or check.get("ok") is not True:
                    sys.exit(f"an unchecked or failed blockwork run: {r}")
        # A cluster row's figure is its warm runs; its first run on fresh
        # workers is the cold column.
        key = "warm_seconds" if kind == "cluster" else "seconds"
        secs = [float(str(r.get(key, r["seconds"]))) for r in rs]
        cold = [float(str(r.get("cold_seconds", r["seconds"]))) for r in rs]
        driver = max(int(float(str(r.get("peak_rss_mib", 0)))) for r in rs)
        child = max(int(float(str(r.get("peak_rss_child_mib", 0)))) for r in rs)
        peak = f"{driver}" + (f" (+ {child} per worker process)" if child else "")
        results.update(int(str(r["result"])) for r in rs)
        rows.append((name, kind, secs, cold, peak))
    if len(results) != 1:
        sys.exit(f"the implementations disagree on the top count: {sorted(results)}")

    def best_dask(kind: str) -> float:
        return min(statistics.median(s) for n, k, s, _, _ in rows if n.startswith("dask") and k == kind)

    print("| implementation | runs (s) | cold (s) | median (s) | peak RSS (MiB) | vs best dask.bag alike |")
    print("|---|---|---|---|---|---|")
    for name, kind, secs, cold, peak in rows:
        med = statistics.median(secs)
        print(
            f"| {name} | {', '.join(f'{s:.2f}' for s in secs)} | {statistics.median(cold):.2f} | {med:.2f} | {peak} "
            f"| {best_dask(kind) / med:.1f}× |"
        )
    print()
    print(f"top count {results.pop()} in every run; a row is compared with the best dask.bag row of its kind")
    print("(local schedulers with local schedulers, the 2-worker clusters with each other); the cluster rows'")
    print("median is of warm runs, cold is the first run on fresh worker processes")


if __name__ == "__main__":
    main()
