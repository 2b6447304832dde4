#!/usr/bin/env python
"""dask.bag on the word-frequency benchmark, as its users write it:

    db.read_text(GLOB, blocksize=B).map(str.split).flatten().frequencies().topk(10, key=1)

with each of Dask's local schedulers for bags (`processes`, the default
for bags, and `threads`), or on a dask.distributed `LocalCluster` of
`--workers` single-threaded worker processes (`distributed`: started
before the clock, its startup reported as `startup_seconds`; each run on
fresh workers: `cold_seconds` is its first computation there, `seconds`
a second, warm one), every run in a fresh process (page cache warm). One JSON line per run: seconds, the top count
(result), the top ten.

    $PY scripts/reference/wordfreq.py --glob '/tmp/refdata/text/part-*.txt' --scheduler processes --repeats 3
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def once(glob: str, scheduler: str, blocksize: int | None, workers: int) -> dict[str, object]:
    import dask
    import dask.bag as db

    extra: dict[str, object] = {}
    client = None
    if scheduler == "distributed":
        from distributed import Client, LocalCluster

        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
        extra = {"startup_seconds": time.perf_counter() - t0, "workers": workers}

    def run() -> tuple[float, list[tuple[str, int]]]:
        t0 = time.perf_counter()
        top = (
            db.read_text(glob, blocksize=blocksize)
            .map(str.split)
            .flatten()
            .frequencies()
            .topk(10, key=1)
            .compute(**({} if client else {"scheduler": scheduler}))
        )
        return time.perf_counter() - t0, top

    seconds, top = run()
    if client is not None:
        # The first run on fresh workers, then a warm one (the figure).
        extra["cold_seconds"] = seconds
        seconds, top = run()
        extra["warm_seconds"] = seconds
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        extra["peak_rss_workers_mib"] = sum(peaks.values()) / 1024
        client.close()
        cluster.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "impl": f"dask-bag-{scheduler}",
        "dask": dask.__version__,
        "seconds": seconds,
        "result": int(top[0][1]),
        "top10": [[w, int(n)] for w, n in top],
        "peak_rss_mib": peak,
        "peak_rss_child_mib": children,
        **extra,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--glob", default="/tmp/refdata/text/part-*.txt")
    ap.add_argument("--scheduler", default="processes", choices=["processes", "threads", "sync", "distributed"])
    ap.add_argument("--workers", type=int, default=2, help="worker processes of the distributed LocalCluster")
    ap.add_argument("--blocksize", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    params = {"glob": args.glob, "blocksize": args.blocksize}
    if args.child:
        record = once(args.glob, args.scheduler, args.blocksize, args.workers)
        print(json.dumps({"workload": "wordfreq", "params": params, **record}))
        return
    for _ in range(args.repeats):
        cmd = [sys.executable, __file__, "--child", "--glob", args.glob, "--scheduler", args.scheduler]
        cmd += ["--workers", str(args.workers)]
        if args.blocksize:
            cmd += ["--blocksize", str(args.blocksize)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
