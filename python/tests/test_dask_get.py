"""Dask collections computed with scheduler=blockwork.get equal Dask's own results."""

from __future__ import annotations

import numpy as np
import pytest

import blockwork

dask = pytest.importorskip("dask")
import dask.array as dda  # noqa: E402
import dask.bag as db  # noqa: E402


def test_dask_array_graph() -> None:
    x = dda.random.default_rng(0).random((300, 200), chunks=(50, 40))
    y = ((x + x.T[:200, :300].T) - x.mean(axis=0)).sum(axis=1)
    expect = y.compute(scheduler="sync")
    np.testing.assert_allclose(dask.compute(y, scheduler=blockwork.get)[0], expect)
    with dask.config.set(scheduler=blockwork.get):
        np.testing.assert_allclose(y.compute(), expect)


def test_dask_delayed_and_bag() -> None:
    @dask.delayed
    def inc(i: int) -> int:
        return i + 1

    total = dask.delayed(sum)([inc(i) for i in range(100)])
    assert total.compute(scheduler=blockwork.get) == 5050
    b = db.from_sequence(range(1000), npartitions=7).map(lambda v: v * 2).filter(lambda v: v % 3 == 0)
    assert b.sum().compute(scheduler=blockwork.get) == b.sum().compute(scheduler="sync")
    assert sorted(b.compute(scheduler=blockwork.get)) == sorted(b.compute(scheduler="sync"))


def test_dask_task_error_reaches_the_caller() -> None:
    @dask.delayed
    def boom() -> None:
        raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        boom().compute(scheduler=blockwork.get)


def test_get_with_nested_keys() -> None:
    dsk = {"a": 1, "b": (sum, ["a", "a"]), ("c", 0): (lambda v: v * 10, "b")}
    assert blockwork.get(dsk, [["a", "b"], ("c", 0)]) == [[1, 2], 20]
    with pytest.raises(KeyError):
        blockwork.get(dsk, "zzz")


def test_only_the_tasks_the_keys_need_run() -> None:
    def boom() -> None:
        raise RuntimeError("this task is not needed and must not run")

    dsk = {"a": 1, "b": (boom,), "c": (lambda v: v + 1, "a")}
    assert blockwork.get(dsk, "c") == 2


def test_a_missing_dependency_is_named() -> None:
    import operator

    from dask._task_spec import Task, TaskRef

    dsk = {"a": Task("a", operator.neg, TaskRef("zz"))}
    with pytest.raises(KeyError, match="depends on 'zz', which is not in the graph"):
        blockwork.get(dsk, "a")


def test_fused_subgraphs_equal_dask() -> None:
    from dask._task_spec import _execute_subgraph

    x = dda.random.default_rng(1).random((90, 70), chunks=(20, 30))
    y = (np.sin(x) + 2 * x.T.T - 1).sum(axis=0)
    (optimized,) = dask.optimize(y)
    graph = dict(optimized.__dask_graph__())
    assert any(getattr(node, "func", None) is _execute_subgraph for node in graph.values())
    np.testing.assert_allclose(dask.compute(y, scheduler=blockwork.get)[0], y.compute(scheduler="sync"))
