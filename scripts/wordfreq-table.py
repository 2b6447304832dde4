#!/usr/bin/env python3
"""The word-frequency table of BENCHMARKS.md from the raw JSON lines of
scripts/bench-wordfreq.sh: median seconds per implementation, the best
dask.bag scheduler, blockwork's ratio to it. Refuses unchecked blockwork
runs and top counts that differ between the implementations.

    python3 scripts/wordfreq-table.py benchmarks/2026-12-05-wordfreq
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def runs(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    out = Path(sys.argv[1])
    blockwork = runs(out / "blockwork-wordfreq.jsonl")
    for r in blockwork:
        check = r.get("check")
        if not isinstance(check, dict) or check.get("ok") is not True:
            sys.exit(f"an unchecked or failed blockwork run: {r}")
    rows: list[tuple[str, list[float], str]] = []
    results: set[int] = set()
    for name, file in [
        ("blockwork (threads)", "blockwork-wordfreq.jsonl"),
        ("dask.bag (processes)", "dask-bag-processes.jsonl"),
        ("dask.bag (threads)", "dask-bag-threads.jsonl"),
    ]:
        rs = runs(out / file)
        secs = [float(str(r["seconds"])) for r in rs]
        driver = max(int(float(str(r.get("peak_rss_mib", 0)))) for r in rs)
        child = max(int(float(str(r.get("peak_rss_child_mib", 0)))) for r in rs)
        peak = f"{driver}" + (f" (+ {child} per worker process)" if child else "")
        results.update(int(str(r["result"])) for r in rs)
        rows.append((name, secs, peak))
    if len(results) != 1:
        sys.exit(f"the implementations disagree on the top count: {sorted(results)}")
    best_dask = min(statistics.median(s) for n, s, _ in rows if n.startswith("dask"))
    ours = statistics.median(rows[0][1])
    print("| implementation | runs (s) | median (s) | peak RSS (MiB) | vs best dask.bag |")
    print("|---|---|---|---|---|")
    for name, secs, peak in rows:
        med = statistics.median(secs)
        print(f"| {name} | {', '.join(f'{s:.2f}' for s in secs)} | {med:.2f} | {peak} | {best_dask / med:.1f}× |")
    print()
    print(f"top count {results.pop()} in every run; blockwork {best_dask / ours:.1f}× the best dask.bag scheduler")


if __name__ == "__main__":
    main()
