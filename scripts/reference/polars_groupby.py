#!/usr/bin/env python
"""Polars at its best on the CSV group-by: explicit column types and date format.

`../shared/reference/dataframe.py` runs Polars with `try_parse_dates=True`,
which makes Polars guess the timestamp format. An expert tells it: the
schema (timestamp as text, value as float, the other columns skipped) and
the exact format, so the dates are parsed by one strptime kernel:

    pl.scan_csv(GLOB, schema_overrides=..., columns=["timestamp", "value"])
      .with_columns(pl.col("timestamp").str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S"))
      .group_by(pl.col("timestamp").dt.hour()).agg(pl.col("value").mean()).collect()

Each run in a fresh process (page cache warm), one JSON line per run:
seconds, the 24 hourly means, peak RSS of the process.

    $PY scripts/reference/polars_groupby.py --glob '/tmp/refdata/csv/part-*.csv' --repeats 3
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def once(glob: str) -> dict[str, object]:
    import polars as pl

    t0 = time.perf_counter()
    out = (
        pl.scan_csv(glob, schema_overrides={"timestamp": pl.String, "value": pl.Float64})
        .select("timestamp", "value")
        .with_columns(pl.col("timestamp").str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S"))
        .group_by(pl.col("timestamp").dt.hour().alias("hour"))
        .agg(pl.col("value").mean())
        .sort("hour")
        .collect()
    )
    seconds = time.perf_counter() - t0
    means = {int(h): round(float(v), 9) for h, v in zip(out["hour"], out["value"], strict=True)}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "impl": "polars-explicit",
        "polars": pl.__version__,
        "seconds": seconds,
        "result": means,
        "peak_rss_mib": peak,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--glob", default="/tmp/refdata/csv/part-*.csv")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps({"workload": "groupby", "params": {"glob": args.glob}, **once(args.glob)}))
        return
    for _ in range(args.repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--glob", args.glob], capture_output=True, text=True, check=True
        )
        print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
