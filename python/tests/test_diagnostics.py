"""blockwork.diagnostics observe computes as dask.diagnostics do."""

from __future__ import annotations

from typing import Any

import blockwork.array as da
from blockwork import config, delayed
from blockwork.diagnostics import Profiler, ProgressBar, ResourceProfiler


def test_profilers_record_every_task(tmp_path: Any) -> None:
    x = da.random.default_rng(0).random((400, 400), chunks=100)
    with Profiler() as prof, ResourceProfiler(dt=0.01) as rprof, ProgressBar() as bar:
        x.sum().compute()
        delayed(sum)([delayed(abs)(-i) for i in range(5)]).compute()
    assert config.callbacks == []
    assert bar.completed > 0
    keys = [t.key for t in prof.results]
    assert len(keys) == len(set(keys)) >= 6
    assert all(t.start_time <= t.end_time for t in prof.results)
    assert any(t.task == "abs" for t in prof.results)
    assert all(r.mem > 0 for r in rprof.results)
    prof.visualize(str(tmp_path / "p.html"))
    assert (tmp_path / "p.html").read_text().startswith("<!")


def test_register_and_unregister() -> None:
    prof = Profiler()
    prof.register()
    try:
        da.ones((10,), chunks=5).sum().compute()
    finally:
        prof.unregister()
    n = len(prof.results)
    assert n > 0
    da.ones((10,), chunks=5).sum().compute()
    assert len(prof.results) == n
