"""blockwork.delayed against plain Python; errors keep their type and traceback."""

from __future__ import annotations

import operator
import traceback
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import blockwork
from blockwork import delayed


def inc(x: int) -> int:
    return x + 1


def add(a: int, b: int) -> int:
    return a + b


def test_decorator_and_call() -> None:
    @delayed
    def double(x: int) -> int:
        return 2 * x

    xs = [delayed(inc)(i) for i in range(10)]
    total = delayed(sum)(xs)
    assert total.compute() == 55
    assert double(total).compute() == 110
    assert delayed(add)(total, 100).compute(scheduler="sync") == 155


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=30), st.sampled_from(["threads", "sync"]))
def test_tree_sum_equals_python(values: list[int], scheduler: str) -> None:
    layer = [delayed(v) for v in values]
    while len(layer) > 1:
        layer = [delayed(add)(*layer[i : i + 2]) if i + 1 < len(layer) else layer[i] for i in range(0, len(layer), 2)]
    assert layer[0].compute(scheduler=scheduler) == sum(values)


def test_nested_arguments_kwargs_and_literals() -> None:
    a, b = delayed(inc)(1), delayed(inc)(2)
    f = delayed(lambda xs, d, k=0: sum(xs) + d["v"] + k)
    assert f([a, b, 10], {"v": b}, k=a).compute() == 2 + 3 + 10 + 3 + 2


def test_operators_attributes_and_indexing() -> None:
    x = delayed(np.arange)(6)
    y = (x * 2 + 1)[2:].sum()
    assert y.compute() == int((np.arange(6) * 2 + 1)[2:].sum())
    assert delayed({"a": 5})["a"].compute() == 5
    assert delayed(np.ones)(3).shape.compute() == (3,)
    assert (-delayed(4) + 1).compute() == -3
    assert (2 ** delayed(3)).compute() == 8


def test_pure_calls_share_a_key_and_impure_do_not() -> None:
    assert delayed(add, pure=True)(1, 2).key == delayed(add, pure=True)(1, 2).key
    assert delayed(add)(1, 2).key != delayed(add)(1, 2).key
    assert delayed(add)(1, 2, dask_key_name="three").key == "three"


def test_compute_many_shares_tasks() -> None:
    calls = []

    def record(x: int) -> int:
        calls.append(x)
        return x

    shared = delayed(record)(7)
    a, b = blockwork.compute(delayed(inc)(shared), delayed(operator.neg)(shared))
    assert (a, b) == (8, -7)
    assert calls == [7]


def test_exception_keeps_type_traceback_and_key() -> None:
    def fail(x: int) -> int:
        raise KeyError(f"no {x}")

    d = delayed(add)(delayed(fail, pure=True)(3), 1)
    with pytest.raises(KeyError, match="no 3") as info:
        d.compute()
    tb = "".join(traceback.format_exception(info.value))
    assert "in fail" in tb
    assert "raised by blockwork task 'fail-" in tb


def test_persist_and_repr() -> None:
    d = delayed(inc)(1).persist()
    assert d.compute() == 2
    assert repr(d).startswith("Delayed('inc-")
    with pytest.raises(TypeError):
        bool(d)


def test_a_cycle_through_reused_keys_is_an_error() -> None:
    a = delayed(inc)(1, dask_key_name="a")
    b = delayed(inc)(a, dask_key_name="b")
    again = delayed(inc)(b, dask_key_name="a")
    with pytest.raises(ValueError, match="cycle through task"):
        again.compute()


def test_visualize_writes_dot(tmp_path: Any) -> None:
    d = delayed(add)(delayed(inc)(1), 2)
    path = tmp_path / "g.dot"
    blockwork.visualize(d, filename=str(path))
    text = path.read_text()
    assert text.startswith("digraph") and '[label="add"]' in text and '[label="inc"]' in text
    assert text.count("->") == 1


def test_blockwork_arrays_reach_delayed_functions_as_numpy() -> None:
    import blockwork.array as da

    x = da.arange(10, chunks=3)
    total = delayed(np.sum)(x)
    assert total.compute() == 45
    both = delayed(lambda a, b: float(a @ b))(x, b=x)
    assert both.compute() == float(np.arange(10) @ np.arange(10))


def test_delayed_values_are_outside_the_cycle_collector() -> None:
    # A long chain stays out of Python's collector (which would otherwise
    # walk the whole graph again and again while it is built) and is freed
    # by reference counting alone once dropped.
    import gc
    import weakref

    class Marker:
        pass

    marker = Marker()
    freed = weakref.ref(marker)
    x = delayed(lambda _, n: n)(marker, 0)
    del marker
    for _ in range(999):
        x = delayed(inc)(x)
    assert not gc.is_tracked(x) and not gc.is_tracked(delayed(add)(1, 2))
    assert x.compute() == 999
    gc.disable()
    try:
        del x
        assert freed() is None
    finally:
        gc.enable()


def test_nout_unpacks_a_call_into_its_values() -> None:
    q, r = delayed(divmod, nout=2)(17, 5)
    assert blockwork.compute(q, r) == divmod(17, 5)
    assert len(delayed(divmod, nout=2)(1, 1)) == 2

    @delayed(nout=3)
    def parts(x: int) -> tuple[int, int, int]:
        return x, x + 1, x + 2

    a, b, c = parts(10)
    assert (a + b + c).compute() == 33
