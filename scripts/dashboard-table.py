"""The dashboard-cost rows of BENCHMARKS.md from scripts/bench-dashboard.sh's
raw JSON: per run, scheduling time per task with the page closed and open."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def main() -> None:
    out = Path(sys.argv[1])
    rows = [json.loads(line) for line in (out / "dashboard.jsonl").read_text().splitlines() if line.strip()]
    for r in rows:
        if not r.get("check", {}).get("ok"):
            raise SystemExit(f"unchecked or failed row: {json.dumps(r)[:300]}")
    by: dict[str, list[float]] = {"closed": [], "open": []}
    print("| round | dashboard | N | exec µs/task (median of 3) | total s |")
    print("|---:|---|---:|---:|---:|")
    for r in rows:
        n = r["params"]["n"]
        us = r["exec_s"] / n * 1e6
        by[r["dashboard"]].append(us)
        print(f"| {r['round']} | {r['dashboard']} | {n:,} | {us:.2f} | {r['seconds']:.3f} |")
    closed, opened = statistics.median(by["closed"]), statistics.median(by["open"])
    print()
    print(
        f"Median exec µs/task: closed {closed:.2f}, open {opened:.2f}: "
        f"the page open costs {100 * (opened / closed - 1):+.1f}% (goal: within 5%)."
    )


if __name__ == "__main__":
    main()
