#!/usr/bin/env python
"""The Python package's rows of BENCHMARKS.md: one JSON line per run.

    python scripts/bench_python.py arrays       # xxt and dot-std driven from Python
    python scripts/bench_python.py delayed      # 100k no-op delayed tasks, fan and chain
    python scripts/bench_python.py dask-graph   # a Dask array graph on blockwork.get vs Dask's threads
    python scripts/bench_python.py from-array   # memory of from_array over a 2 GiB NumPy array
    python scripts/bench_python.py groupby GLOB # the talk's CSV group-by through blockwork.dataframe
    python scripts/bench_python.py climate GLOB REF.nc  # the climate cell through xarray, three ways

Each measurement runs in a fresh process after a warm-up; times include
graph construction. Every result is checked (arrays against their closed
form or NumPy, delayed against the number of tasks run, the Dask graph
against Dask's own threaded result) and a run whose check fails exits
non-zero.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from typing import Any


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_arrays(workload: str, n: int, chunk: int) -> dict[str, Any]:

    import blockwork.array as da

    def build(n: int, chunk: int) -> Any:
        x = da.random.default_rng(42).random((n, n), chunks=(chunk, chunk))
        if workload == "xxt":
            return x, ((x + x.T) - x.mean(axis=0)).sum()
        return x, (x.dot(x.T + 1) - x.mean()).std()

    build(64, 16)[1].compute()
    t0 = time.perf_counter()
    x, y = build(n, chunk)
    result = float(y.compute())
    seconds = time.perf_counter() - t0
    if workload == "xxt":
        # Σ((x + xᵀ) − mean₀(x)) = Σx: checked against the same draws summed.
        reference = float(x.sum().compute())
        ok = abs(result - reference) <= 1e-9 * abs(reference)
    else:
        a = x.compute()
        p = a @ (a.T + 1) - a.mean()
        reference = float(p.std())
        ok = abs(result - reference) <= 1e-8 * abs(reference)
    return {
        "workload": workload,
        "impl": "blockwork-python",
        "params": {"n": n, "chunk": chunk},
        "seconds": seconds,
        "result": result,
        "check": {"ok": ok, "reference": reference},
        "peak_rss_mib": peak_mib(),
    }


def run_delayed(shape: str, n: int) -> dict[str, Any]:
    import blockwork
    from blockwork import delayed

    calls = [0]

    def noop(*args: Any) -> int:
        calls[0] += 1
        return 0

    def build(n: int) -> list[Any]:
        # As ../shared/BENCH.md's `overhead`: fan is N independent tasks,
        # then one task taking them all; chain, each after the previous.
        if shape == "fan":
            return [delayed(len, pure=False)([delayed(noop)(i) for i in range(n)])]
        x = delayed(noop)(0)
        for _ in range(n - 1):
            x = delayed(noop)(x)
        return [x]

    blockwork.compute(*build(100))
    calls[0] = 0
    t0 = time.perf_counter()
    outs = build(n)
    built = time.perf_counter()
    (result,) = blockwork.compute(*outs)
    seconds = time.perf_counter() - t0
    ok = calls[0] == n and (shape != "fan" or result == n)
    return {
        "workload": f"delayed-{shape}",
        "impl": "blockwork-python",
        "params": {"tasks": n},
        "seconds": seconds,
        "build_seconds": built - t0,
        "us_per_task": 1e6 * seconds / n,
        "check": {"ok": ok, "tasks_run": calls[0]},
        "peak_rss_mib": peak_mib(),
    }


def run_dask_graph(impl: str, n: int, chunk: int) -> dict[str, Any]:
    import blockwork
    import dask
    import dask.array as dda
    import numpy as np

    def build(n: int, chunk: int) -> Any:
        x = dda.random.default_rng(7).random((n, n), chunks=(chunk, chunk))
        return ((x + 1) * x.T - x.mean(axis=0)).sum(axis=0)

    scheduler = blockwork.get if impl == "blockwork-get" else "threads"
    dask.compute(build(200, 50), scheduler=scheduler)
    y = build(n, chunk)
    ntasks = len(y.__dask_graph__())
    t0 = time.perf_counter()
    (result,) = dask.compute(y, scheduler=scheduler)
    seconds = time.perf_counter() - t0
    reference = build(n, chunk).compute(scheduler="threads")
    ok = bool(np.allclose(result, reference, rtol=1e-12, atol=1e-9))
    return {
        "workload": "dask-graph",
        "impl": impl,
        "params": {"n": n, "chunk": chunk, "tasks": ntasks},
        "seconds": seconds,
        "us_per_task": 1e6 * seconds / ntasks,
        "check": {"ok": ok},
        "dask": dask.__version__,
        "peak_rss_mib": peak_mib(),
    }


def rss_mib(field: str = "VmRSS") -> float:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_from_array(gib: float) -> dict[str, Any]:
    import blockwork.array as da
    import numpy as np

    n = int(gib * 2**30 / 8)
    a = np.ones(n)
    a[::4096] = 2.0  # touch every page: the source is resident
    base = rss_mib()
    t0 = time.perf_counter()
    x = da.from_array(a, chunks=n // 64)
    made = time.perf_counter() - t0
    after_make = rss_mib()
    total = float(x.sum().compute())
    after_sum_peak = rss_mib("VmHWM")
    y = (x + 1).compute()
    after_result_peak = rss_mib("VmHWM")
    expect = float(n + (n + 4095) // 4096)
    ok = total == expect and y.shape == (n,) and float(y[0]) == 3.0 and float(y[1]) == 2.0
    return {
        "workload": "from-array",
        "impl": "blockwork-python",
        "params": {"gib": gib, "blocks": 64},
        "seconds": made,
        "result": total,
        "source_mib": base,
        "rss_after_from_array_mib": after_make,
        "peak_after_sum_mib": after_sum_peak,
        "peak_after_compute_mib": after_result_peak,
        "check": {"ok": ok, "reference": expect},
    }


def run_groupby(glob: str) -> dict[str, Any]:
    import blockwork.dataframe as dd
    import pandas as pd

    # The reference's protocol: a tiny warm-up (lazy imports, first calls)
    # in the same fresh process, then one timed run.
    small = dd.from_pandas(pd.DataFrame({"timestamp": pd.to_datetime(["2000-01-01"]), "value": [1.0]}), npartitions=1)
    small.groupby(small.timestamp.dt.hour).value.mean().compute()
    t0 = time.perf_counter()
    df = dd.read_csv(glob, parse_dates=["timestamp"])
    means = df.groupby(df.timestamp.dt.hour).value.mean().compute()
    seconds = time.perf_counter() - t0
    result = [[int(h), round(float(v), 12)] for h, v in means.items()]
    # The hourly means are checked against every other implementation's by
    # scripts/groupby-table.py; here, that the result is a full day of them.
    ok = [h for h, _ in result] == list(range(24))
    return {
        "workload": "groupby",
        "impl": "blockwork-python",
        "params": {"glob": glob, "npartitions": df.npartitions},
        "seconds": seconds,
        "result": result,
        "check": {"ok": ok},
        "peak_rss_mib": peak_mib(),
    }


def run_climate(variant: str, glob: str, reference: str) -> dict[str, Any]:
    import warnings

    import blockwork
    import numpy as np
    import xarray as xr

    warnings.simplefilter("ignore", FutureWarning)
    t0 = time.perf_counter()
    if variant == "xarray-netcdf4":  # the talk's line, one keyword added
        ds = xr.open_mfdataset(glob, chunks={"time": 31}, chunked_array_type="blockwork")
    elif variant == "xarray-engine":  # and blockwork's own reader
        ds = xr.open_mfdataset(glob, chunks={"time": 31}, chunked_array_type="blockwork", engine="blockwork")
    else:  # blockwork.open_mfdataset: the pile combined by the engine
        ds = blockwork.open_mfdataset(glob, chunks={"time": 31})
    opened = time.perf_counter()
    tas = ds.t2m
    clim = tas.sel(time=slice("1981", "2010")).groupby("time.season").mean("time")
    anom = tas.sel(time="2018").groupby("time.season").mean("time") - clim
    result = anom.compute()
    seconds = time.perf_counter() - t0
    want = xr.open_dataarray(reference).load()
    diff = float(np.abs(result.sel(season=want.season).values - want.values).max())
    return {
        "workload": "climate",
        "impl": f"blockwork-python-{variant}",
        "params": {"glob": glob, "time_chunk": 31},
        "seconds": seconds,
        "open_s": opened - t0,
        "compute_s": seconds - (opened - t0),
        "season_mean_anomaly_K": {str(s): round(float(result.sel(season=s).mean()), 6) for s in result.season.values},
        "check": {"ok": diff < 1e-3, "max_abs_diff_vs_xarray": diff},
        "peak_rss_mib": peak_mib(),
    }


def child(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "arrays":
        out = run_arrays(argv[1], int(argv[2]), int(argv[3]))
    elif kind == "from-array":
        out = run_from_array(float(argv[1]))
    elif kind == "delayed":
        out = run_delayed(argv[1], int(argv[2]))
    elif kind == "groupby":
        out = run_groupby(argv[1])
    elif kind == "climate":
        out = run_climate(argv[1], argv[2], argv[3])
    else:
        out = run_dask_graph(argv[1], int(argv[2]), int(argv[3]))
    print(json.dumps(out))


def main() -> None:
    if sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    what = sys.argv[1]
    repeats = 3
    cases: list[list[str]] = []
    if what not in ("arrays", "delayed", "dask-graph", "from-array", "groupby", "climate"):
        raise SystemExit(f"unknown group {what!r}: arrays, delayed, dask-graph, from-array, groupby or climate")
    if what == "arrays":
        cases = [["arrays", "xxt", "20000", "1000"], ["arrays", "dot-std", "8000", "1000"]]
    elif what == "delayed":
        cases = [["delayed", "fan", "100000"], ["delayed", "chain", "100000"]]
    elif what == "from-array":
        cases, repeats = [["from-array", "2"]], 1
    elif what == "groupby":
        cases = [["groupby", sys.argv[2] if len(sys.argv) > 2 else "/tmp/refdata/csv/part-*.csv"]]
    elif what == "climate":
        glob, reference = sys.argv[2], sys.argv[3]
        cases = [["climate", v, glob, reference] for v in ("blockwork-open", "xarray-engine", "xarray-netcdf4")]
    elif what == "dask-graph":
        cases = [["dask-graph", impl, "4000", "40"] for impl in ("dask-threads", "blockwork-get")]
    else:
        raise SystemExit(f"unknown group {what!r}: arrays, delayed or dask-graph")
    failed = False
    for case in cases:
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, __file__, "--child", *case], check=True, capture_output=True, text=True
            ).stdout
            print(out.strip(), flush=True)
            failed |= not json.loads(out)["check"]["ok"]
    if failed:
        raise SystemExit("a result failed its check")


if __name__ == "__main__":
    main()
