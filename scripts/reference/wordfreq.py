#!/usr/bin/env python
"""dask.bag on the word-frequency benchmark, as its users write it:

    db.read_text(GLOB, blocksize=B).map(str.split).flatten().frequencies().topk(10, key=1)

with each of Dask's local schedulers for bags (`processes`, the default
for bags, and `threads`), every run in a fresh process (page cache warm).
One JSON line per run: seconds, the top count (result), the top ten.

    $PY scripts/reference/wordfreq.py --glob '/tmp/refdata/text/part-*.txt' --scheduler processes --repeats 3
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def once(glob: str, scheduler: str, blocksize: int | None) -> dict[str, object]:
    import dask
    import dask.bag as db

    t0 = time.perf_counter()
    top = (
        db.read_text(glob, blocksize=blocksize)
        .map(str.split)
        .flatten()
        .frequencies()
        .topk(10, key=1)
        .compute(scheduler=scheduler)
    )
    seconds = time.perf_counter() - t0
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
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--glob", default="/tmp/refdata/text/part-*.txt")
    ap.add_argument("--scheduler", default="processes", choices=["processes", "threads", "sync"])
    ap.add_argument("--blocksize", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    params = {"glob": args.glob, "blocksize": args.blocksize}
    if args.child:
        print(json.dumps({"workload": "wordfreq", "params": params, **once(args.glob, args.scheduler, args.blocksize)}))
        return
    for _ in range(args.repeats):
        cmd = [sys.executable, __file__, "--child", "--glob", args.glob, "--scheduler", args.scheduler]
        if args.blocksize:
            cmd += ["--blocksize", str(args.blocksize)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
