#!/usr/bin/env python
"""Dask's side of the array workloads on real inputs: the pattern fill and a .npy file.

`../shared/reference/array_ops.py` draws its inputs from a random generator
or `ones`; users more often write `fromfunction` or open a file. This runs
`xxt` and `dot-std` on:

  pattern : da.fromfunction(lambda i, j: ((7*i + 13*j) % 101) / 101, ...)
  npy     : da.from_array(np.load(PATH, mmap_mode="r"), chunks=(C, C))

with the threaded scheduler (Dask's default for arrays), each run in a fresh
process after a warm-up, and prints one JSON line per run: seconds (the
compute call, graph build included), result, peak RSS of the process.

    $PY scripts/reference/array_inputs.py --make-npy /tmp/refdata/x8000.npy --n 8000
    $PY scripts/reference/array_inputs.py --workload xxt --fill pattern --n 12000 --chunk 1500
    $PY scripts/reference/array_inputs.py --workload dot-std --fill npy:/tmp/refdata/x8000.npy --chunk 1000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any


def pattern_numpy(n: int) -> Any:
    import numpy as np

    i, j = np.indices((n, n))
    return ((7 * i + 13 * j) % 101) / 101


def build(workload: str, fill: str, n: int, chunk: int) -> Any:
    import dask.array as da
    import numpy as np

    if fill == "pattern":
        x = da.fromfunction(
            lambda i, j: ((7 * i + 13 * j) % 101) / 101, shape=(n, n), chunks=(chunk, chunk), dtype=float
        )
    elif fill.startswith("npy:"):
        x = da.from_array(np.load(fill[4:], mmap_mode="r"), chunks=(chunk, chunk))
    else:
        raise SystemExit(f"unknown fill {fill!r}: use pattern or npy:PATH")
    if workload == "xxt":
        return ((x + x.T) - x.mean(axis=0)).sum()
    if workload == "dot-std":
        return (x.dot(x.T + 1) - x.mean()).std()
    raise SystemExit(f"unknown workload {workload!r}: use xxt or dot-std")


def child(args: argparse.Namespace) -> None:
    import dask

    # Warm-up on the small pattern fill: a warm-up on the file itself would
    # cut the whole file into 16 × 16 chunks (a product of 500³ tasks).
    build(args.workload, "pattern", 64, 16).compute(scheduler="threads")
    t0 = time.perf_counter()
    result = float(dask.compute(build(args.workload, args.fill, args.n, args.chunk), scheduler="threads")[0])
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "result": result, "peak_rss_mib": peak}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="xxt")
    ap.add_argument("--fill", default="pattern", help="pattern or npy:PATH")
    ap.add_argument("--n", type=int, default=12000, help="side (npy: taken from the file)")
    ap.add_argument("--chunk", type=int, default=1500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--make-npy", metavar="PATH", help="write the pattern fill of side --n to PATH and exit")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.make_npy:
        import numpy as np

        np.save(args.make_npy, pattern_numpy(args.n))
        return
    if args.fill.startswith("npy:"):
        import numpy as np

        args.n = int(np.load(args.fill[4:], mmap_mode="r").shape[0])
    if args.child:
        child(args)
        return
    for _ in range(args.repeats):
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--workload",
            args.workload,
            "--fill",
            args.fill,
            "--n",
            str(args.n),
            "--chunk",
            str(args.chunk),
        ]
        out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        import dask

        out.update(
            {
                "workload": args.workload,
                "impl": "dask-threads",
                "dask": dask.__version__,
                "params": {"n": args.n, "chunk": args.chunk, "fill": args.fill},
            }
        )
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
