"""Every array operation against NumPy on random shapes, chunkings and types."""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import numpy_array, shapes_and_chunks
from hypothesis import given, settings
from hypothesis import strategies as st

import blockwork
import blockwork.array as da

settings.register_profile("ci", max_examples=40, deadline=None)
settings.load_profile("ci")

DTYPES = ["float64", "float32", "int64", "int32", "uint8", "bool"]


def close(a: Any, b: Any) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    if b.dtype.kind == "f" or a.dtype.kind == "f":
        rtol = 1e-5 if np.float32 in (a.dtype, b.dtype) else 1e-10
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, equal_nan=True)
    else:
        if b.dtype.kind == "u" and a.dtype.kind == "i":
            # NumPy sums and multiplies small unsigned integers in uint64,
            # blockwork in int64: both wrap, so the bits must agree.
            a = a.astype(b.dtype)
        np.testing.assert_array_equal(a, b)


@given(shapes_and_chunks())
def test_metadata(sc: Any) -> None:
    shape, chunks = sc
    x = da.ones(shape, chunks=chunks)
    assert x.shape == shape
    assert x.ndim == len(shape)
    assert x.size == int(np.prod(shape))
    assert x.nbytes == x.size * 8
    assert x.dtype == np.dtype("float64")
    assert all(sum(c) == n for c, n in zip(x.chunks, shape, strict=True))
    assert x.numblocks == tuple(len(c) for c in x.chunks)
    assert x.T.shape == shape[::-1]
    close(x.compute(), np.ones(shape))


@given(st.data(), shapes_and_chunks(), st.sampled_from(DTYPES))
def test_from_array_roundtrip(data: Any, sc: Any, dtype: str) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape, dtype)
    x = da.from_array(a, chunks=chunks)
    assert x.dtype == a.dtype
    out = x.compute()
    assert out.dtype == a.dtype
    np.testing.assert_array_equal(out, a)


BINARY = [
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("truediv", operator.truediv),
    ("pow", operator.pow),
    ("mod", operator.mod),
    ("floordiv", operator.floordiv),
    ("eq", operator.eq),
    ("ne", operator.ne),
    ("lt", operator.lt),
    ("le", operator.le),
    ("gt", operator.gt),
    ("ge", operator.ge),
]


@given(
    st.data(), shapes_and_chunks(), st.sampled_from(BINARY), st.sampled_from(DTYPES[:5]), st.sampled_from(DTYPES[:5])
)
def test_binary_arrays(data: Any, sc: Any, op: Any, t1: str, t2: str) -> None:
    shape, chunks = sc
    a, b = numpy_array(data.draw, shape, t1), numpy_array(data.draw, shape, t2)
    if op[0] == "pow":
        a, b = np.abs(a).astype(t1), (np.abs(b) % 3).astype(t2)
    x, y = da.from_array(a, chunks=chunks), da.from_array(b, chunks=chunks)
    with np.errstate(all="ignore"):
        expect = op[1](a, b)
    got = op[1](x, y)
    assert got.dtype == expect.dtype or {got.dtype.name, expect.dtype.name} <= {"int64", "uint64", "int32"}
    close(got.compute(), expect)


@given(
    st.data(),
    shapes_and_chunks(),
    st.sampled_from(BINARY),
    st.sampled_from(DTYPES[:5]),
    st.sampled_from([2, 3, 1.5, -2, True]),
)
def test_binary_scalars(data: Any, sc: Any, op: Any, dtype: str, s: Any) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape, dtype)
    if op[0] == "pow" and isinstance(s, int) and s < 0:
        s = 2
    x = da.from_array(a, chunks=chunks)
    with np.errstate(all="ignore"):
        try:
            pairs = ((op[1](a, s), op[1](x, s)), (op[1](s, a), op[1](s, x)))
        except OverflowError:
            with pytest.raises(OverflowError):
                op[1](x, s)
            return
        for expect, got in pairs:
            if op[0] in ("pow", "mod", "floordiv") and np.asarray(expect).dtype.kind in "iu":
                continue  # integer overflow and division-by-zero conventions differ
            assert got.dtype == expect.dtype, (op[0], dtype, s, got.dtype, expect.dtype)
            close(got.compute(), expect)


@given(st.data(), shapes_and_chunks())
def test_bool_logic(data: Any, sc: Any) -> None:
    shape, chunks = sc
    a, b = numpy_array(data.draw, shape, "bool"), numpy_array(data.draw, shape, "bool")
    x, y = da.from_array(a, chunks=chunks), da.from_array(b, chunks=chunks)
    close((x & y).compute(), a & b)
    close((x | y).compute(), a | b)
    close((x ^ y).compute(), a ^ b)
    close((~x).compute(), ~a)
    close((x + y).compute(), a + b)


UNARY = [
    "sqrt",
    "exp",
    "log1p",
    "sin",
    "cos",
    "tanh",
    "arctan",
    "floor",
    "ceil",
    "rint",
    "trunc",
    "absolute",
    "negative",
    "isnan",
]


@given(st.data(), shapes_and_chunks(), st.sampled_from(UNARY), st.sampled_from(["float64", "float32", "int64"]))
def test_ufuncs_stay_lazy(data: Any, sc: Any, name: str, dtype: str) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape, dtype)
    if name in ("sqrt", "log1p"):
        a = np.abs(a)
    x = da.from_array(a, chunks=chunks)
    f = getattr(np, name)
    got = f(x)
    assert isinstance(got, da.Array)
    with np.errstate(all="ignore"):
        expect = f(a)
    assert got.dtype == expect.dtype
    close(got.compute(), expect)


REDUCTIONS = ["sum", "prod", "mean", "var", "std", "min", "max", "argmin", "argmax", "any", "all"]


@given(st.data(), shapes_and_chunks(max_side=8), st.sampled_from(REDUCTIONS), st.sampled_from(DTYPES), st.booleans())
def test_reductions(data: Any, sc: Any, name: str, dtype: str, keepdims: bool) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape, dtype)
    if name == "prod" and dtype != "bool":
        a = (np.abs(a) % 3 + 1).astype(dtype) if dtype != "float32" else a / 4
    x = da.from_array(a, chunks=chunks)
    if name in ("argmin", "argmax"):
        axes: list[Any] = [None, *range(a.ndim)]
        keepdims = False
    else:
        axes = [None, *range(a.ndim), tuple(range(a.ndim))[-2:]]
    axis = data.draw(st.sampled_from(axes))
    kw: dict[str, Any] = {"axis": axis}
    if keepdims:
        kw["keepdims"] = True
    if dtype == "bool" and name in ("mean", "var", "std", "prod", "sum"):
        expect = getattr(np, name)(a.astype("int64"), **kw)
    else:
        expect = getattr(np, name)(a, **kw)
    got = getattr(x, name)(**kw)
    assert isinstance(getattr(np, name)(x, **kw), da.Array)
    close(got.compute(), expect)


@given(st.data(), shapes_and_chunks(min_dims=2, max_dims=2))
def test_matmul_transpose(data: Any, sc: Any) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape, "float64")
    x = da.from_array(a, chunks=chunks)
    close((x @ x.T).compute(), a @ a.T)
    close(x.dot(x.T + 1).compute(), a.dot(a.T + 1))
    close(np.dot(x.T, x).compute(), a.T @ a)


@given(st.data(), shapes_and_chunks(min_dims=2, max_dims=2))
def test_products_of_random_arrays(data: Any, sc: Any) -> None:
    # Random operands are drawn inside the products; the same numbers as
    # the array computed on its own.
    shape, chunks = sc
    rng = da.random.default_rng(data.draw(st.integers(0, 2**31)))
    x = rng.uniform(-1.0, 1.0, size=shape, chunks=chunks)
    a = x.compute()
    b = numpy_array(data.draw, shape, "float64")
    y = da.from_array(b, chunks=chunks)
    close((x @ y.T).compute(), a @ b.T)
    close((x.T @ y).compute(), a.T @ b)
    close((y @ x.T).compute(), b @ a.T)
    close((x.T @ x).compute(), a.T @ a)
    x32 = rng.random(size=shape, dtype="float32", chunks=chunks)
    a32 = x32.compute()
    assert a32.dtype == np.float32
    close((x32 @ x32.T).compute(), a32 @ a32.T)


@given(st.data(), shapes_and_chunks())
def test_reshape_rechunk_astype(data: Any, sc: Any) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape, "float64")
    x = da.from_array(a, chunks=chunks)
    close(x.reshape(-1).compute(), a.reshape(-1))
    close(x.rechunk(2).compute(), a)
    assert x.rechunk(2).chunks[0][0] == min(2, shape[0])
    close(x.astype("int32").compute(), a.astype("int32"))
    close(x.cumsum(axis=0).compute(), a.cumsum(axis=0))
    close(x.clip(-1, 1).compute(), a.clip(-1, 1))
    close(x.round(2).compute(), a.round(2))
    close(np.where(x > 0, x, 0.0).compute(), np.where(a > 0, a, 0.0))


@given(st.data(), shapes_and_chunks(min_dims=2, max_dims=3))
def test_basic_indexing(data: Any, sc: Any) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape, "float64")
    x = da.from_array(a, chunks=chunks)

    def sl(n: int) -> Any:
        start = data.draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
        stop = data.draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
        step = data.draw(st.sampled_from([None, 1, 2, 3, -1, -2]))
        return slice(start, stop, step)

    key = (sl(shape[0]), data.draw(st.integers(-shape[1], shape[1] - 1)), None, Ellipsis)
    close(x[key].compute(), a[key])
    idx = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=5))
    close(x[idx].compute(), a[idx])
    mask = a > 0
    close(x[mask].compute(), a[mask])
    close(x[x > 0].compute(), a[mask])
    col = a[(0, slice(None)) + (0,) * (a.ndim - 2)] > 0
    close(x[:, col].compute(), a[:, col])


@given(st.data(), shapes_and_chunks(max_dims=2))
def test_concatenate_stack(data: Any, sc: Any) -> None:
    shape, chunks = sc
    a, b = numpy_array(data.draw, shape, "float64"), numpy_array(data.draw, shape, "int32")
    x, y = da.from_array(a, chunks=chunks), da.from_array(b, chunks=chunks)
    close(da.concatenate([x, y], axis=0).compute(), np.concatenate([a, b], axis=0))
    close(np.stack([x, y], axis=-1).compute(), np.stack([a, b], axis=-1))


def test_constructors() -> None:
    close(da.arange(10, chunks=3).compute(), np.arange(10))
    close(da.arange(1.0, 2.0, 0.25, chunks=2).compute(), np.arange(1.0, 2.0, 0.25))
    close(da.linspace(0, 1, 11, chunks=4).compute(), np.linspace(0, 1, 11))
    close(da.eye(5, chunks=2, k=1).compute(), np.eye(5, k=1))
    close(da.zeros((3, 4), chunks=2, dtype="int32").compute(), np.zeros((3, 4), "int32"))
    close(da.full((3,), 7, chunks=2).compute(), np.full((3,), 7))
    close(da.ones_like(da.ones((2, 3), chunks=1)).compute(), np.ones((2, 3)))
    n = da.random.default_rng(1).normal(2.0, 3.0, size=(400, 400), chunks=100).compute()
    assert abs(n.mean() - 2.0) < 0.1 and abs(n.std() - 3.0) < 0.1
    i = da.random.default_rng(1).integers(0, 5, size=1000, chunks=100).compute()
    assert i.dtype == np.int64 and i.min() == 0 and i.max() == 4


def test_random_keywords() -> None:
    u = da.random.uniform(-1.0, 1.0, size=(50,), chunks=20, dtype="float32")
    assert u.dtype == np.float32 and u.chunks == ((20, 20, 10),)
    v = u.compute()
    assert v.dtype == np.float32 and -1.0 <= v.min() and v.max() < 1.0
    assert da.random.normal(size=4, chunks=2, dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="out"):
        da.random.default_rng(0).uniform(size=4, out=np.empty(4))
    with pytest.raises(TypeError, match="ddof"):
        da.ones(4, chunks=2).sum(ddof=1)
    close(da.arange(10.0, chunks=3).var(ddof=1).compute(), np.arange(10.0).var(ddof=1))


def test_from_npy(tmp_path: Any) -> None:
    a = np.arange(60, dtype="float32").reshape(6, 10)
    np.save(tmp_path / "a.npy", a)
    x = da.from_npy(str(tmp_path / "a.npy"), chunks=(4, 3))
    assert x.chunks == ((4, 2), (3, 3, 3, 1))
    close(x.compute(), a)
    x.to_npy(str(tmp_path / "b.npy"))
    close(np.load(tmp_path / "b.npy"), a)


def test_compute_many_and_schedulers() -> None:
    x = da.random.default_rng(3).random((50, 50), chunks=10)
    s, m, arr = blockwork.compute(x.sum(), x.mean(axis=0), x > 0.5)
    a = x.compute(scheduler="sync")
    close(s, a.sum())
    close(m, a.mean(axis=0))
    close(arr, a > 0.5)
    with blockwork.config.set(scheduler="sync"):
        close(x.compute(), a)
    close(x.persist().compute(), a)


def test_results_are_numpy_without_copy() -> None:
    out = da.ones((1000, 1000), chunks=250).__add__(1).compute()
    assert isinstance(out, np.ndarray)
    assert out.flags.c_contiguous and out.flags.writeable
    assert out.base is not None  # a view of the engine's buffer
    out[0, 0] = 5  # the caller owns it
    assert out.sum() == 2_000_003


def test_repr() -> None:
    x = da.ones((15, 15), chunks=(5, 5))
    assert "shape=(15, 15)" in repr(x) and "chunksize=(5, 5)" in repr(x)
    assert "<table>" in x._repr_html_()


def test_errors_name_the_fault(tmp_path: Any) -> None:
    x = da.ones((4, 6), chunks=2)
    with pytest.raises(ValueError, match=r"broadcast|shape"):
        (x + da.ones((5,), chunks=2)).compute()
    with pytest.raises(ValueError, match="chunks"):
        da.ones((4,), chunks="64MB!")
    with pytest.raises(IndexError):
        x[10]
    with pytest.raises(TypeError, match="dtype"):
        da.ones((2,), dtype="datetime64[ns]")
    with pytest.raises(FileNotFoundError, match=r"missing\.npy"):
        da.from_npy(str(tmp_path / "missing.npy"))
    with pytest.raises(ValueError, match="axis"):
        x.sum(axis=5)
    with pytest.raises(ValueError, match="scheduler"):
        x.compute(scheduler="gpu")


@given(st.data(), shapes_and_chunks(), st.sampled_from(["float64", "int32", "bool"]))
def test_map_blocks_with_python_functions(data: Any, sc: Any, dtype: str) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape, dtype)
    x = da.from_array(a, chunks=chunks)
    close(x.map_blocks(lambda b: b * 2).compute(), a * 2)
    close(x.map_blocks(np.add, 3, dtype="float32").compute(), (a + 3).astype("float32"))
    close(da.map_blocks(lambda b, k=0: b.astype("float64") + k, x, k=1.5).compute(), a + 1.5)
    blocks = x.map_blocks(lambda b: np.full(b.shape, b.size), dtype="int64").compute()
    assert blocks.sum() == sum(int(np.prod(s)) ** 2 for s in _block_shapes(x.chunks))


def _block_shapes(chunks: Any) -> list[tuple[int, ...]]:
    import itertools

    return list(itertools.product(*chunks))


def test_map_blocks_errors_reach_the_caller() -> None:
    def bad(b: np.ndarray) -> np.ndarray:
        raise ZeroDivisionError("no blocks today")

    with pytest.raises(ZeroDivisionError, match="no blocks today"):
        da.ones((4, 4), chunks=2).map_blocks(bad, dtype=float).compute()
    with pytest.raises(ValueError, match="shape"):
        da.ones((4, 4), chunks=2).map_blocks(lambda b: b[:1], dtype=float).compute()
    with pytest.raises(TypeError, match="needs a blockwork array"):
        da.map_blocks(np.add, 1, 2)


def test_from_array_is_lazy_and_holds_its_source() -> None:
    a = np.arange(12.0).reshape(3, 4)
    x = da.from_array(a, chunks=2)
    a[0, 0] = 100.0  # read when computed, as Dask
    del a
    out = x.compute()
    assert out[0, 0] == 100.0 and out[2, 3] == 11.0
    b = np.arange(10, dtype=np.int16)[::2]  # not contiguous, and widened: copied once
    close(da.from_array(b, chunks=2).compute(), b.astype("int32"))


def test_config_set_is_process_wide_and_with_restores() -> None:
    import threading

    seen: list[Any] = []
    blockwork.config.set(scheduler="sync")
    try:
        t = threading.Thread(target=lambda: seen.append(blockwork.config.get("scheduler")))
        t.start()
        t.join()
        assert seen == ["sync"]
        with blockwork.config.set(scheduler="threads", num_workers=1):
            assert blockwork.config.get("num_workers") == 1
        assert blockwork.config.get("scheduler") == "sync"
    finally:
        blockwork.config.set(scheduler="threads")


def test_unknown_ufuncs_compute_and_warn_and_uint64_overflow() -> None:
    x = da.arange(6, chunks=2) - 3
    with pytest.warns(FutureWarning, match="sign"):
        out = np.sign(x)
    close(out, np.sign(np.arange(6) - 3))
    with pytest.raises(OverflowError, match="int64"):
        da.from_array(np.array([2**63], dtype=np.uint64))
    close(da.from_array(np.array([5], dtype=np.uint64)).compute(), np.array([5]))


def test_ufunc_reduce_is_the_reduction() -> None:
    a = np.arange(12.0).reshape(3, 4)
    x = da.from_array(a, chunks=2)
    close(np.add.reduce(x, axis=1).compute(), np.add.reduce(a, axis=1))
    close(np.maximum.reduce(x).compute(), np.maximum.reduce(a))


@given(
    st.data(),
    shapes_and_chunks(),
    st.sampled_from(["int64", "int32", "uint8", "bool"]),
    st.sampled_from(["int64", "int32", "uint8", "bool"]),
)
def test_bitwise_operators_match_numpy(data: Any, sc: Any, t1: str, t2: str) -> None:
    shape, chunks = sc
    a, b = numpy_array(data.draw, shape, t1), numpy_array(data.draw, shape, t2)
    x, y = da.from_array(a, chunks=chunks), da.from_array(b, chunks=chunks)
    for op in (operator.and_, operator.or_, operator.xor):
        got, expect = op(x, y), op(a, b)
        assert got.dtype == expect.dtype
        close(got.compute(), expect)
    close((~x).compute(), ~a)
    close((x & 6).compute(), a & 6)
    with pytest.raises(TypeError, match="bitwise"):
        da.ones(3, chunks=2) & 1


def test_map_blocks_passes_block_info_as_dask() -> None:
    def where(b: np.ndarray, block_info: Any = None) -> np.ndarray:
        info, out = block_info[0], block_info[None]
        (start, _stop), (col, _) = info["array-location"]
        assert info["shape"] == (6, 5) and info["num-chunks"] == (3, 2)
        assert out["chunk-shape"] == b.shape and out["dtype"] == np.dtype("int64")
        return np.full(b.shape, start * 100 + col + info["chunk-location"][0])

    x = da.ones((6, 5), chunks=(2, 3))
    got = x.map_blocks(where, dtype="int64").compute()
    rows = np.repeat(np.arange(0, 6, 2), 2)[:, None] * 100 + rows_index_block(6, 2)[:, None]
    cols = np.array([0, 0, 0, 3, 3])[None, :]
    close(got, rows + cols)


def rows_index_block(n: int, step: int) -> np.ndarray:
    return np.arange(n) // step


def test_map_blocks_drop_axis_and_new_axis() -> None:
    a = np.arange(24.0).reshape(4, 6)
    x = da.from_array(a, chunks=(4, 3))
    close(x.map_blocks(lambda b: b.sum(axis=0), drop_axis=0).compute(), a.sum(axis=0))
    close(x.map_blocks(lambda b: b[:, :, None], new_axis=2).compute(), a[:, :, None])
    with pytest.raises(ValueError, match="rechunk"):
        da.from_array(a, chunks=2).map_blocks(lambda b: b.sum(axis=0), drop_axis=0)

    def located(b: np.ndarray, block_info: Any = None) -> np.ndarray:
        return np.full(b.shape[1:], block_info[None]["chunk-location"][0])

    close(x.map_blocks(located, drop_axis=0, dtype="int64").compute(), np.repeat([0, 1], 3))


def _smooth(b: np.ndarray) -> np.ndarray:
    return (np.roll(b, 1, axis=0) + b + np.roll(b, -1, axis=0)) / 3


@given(st.data(), shapes_and_chunks(min_dims=1, max_dims=2))
def test_map_overlap_matches_a_whole_array_stencil(data: Any, sc: Any) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape, "float64")
    x = da.from_array(a, chunks=chunks)
    if min(x.chunks[0]) < 1 or shape[0] < 2:
        return
    depth = {0: 1}
    close(x.map_overlap(_smooth, depth=depth, boundary="periodic").compute(), _smooth(a))
    pad = [(1, 1)] + [(0, 0)] * (a.ndim - 1)
    close(
        da.map_overlap(_smooth, x, depth=depth, boundary="reflect").compute(),
        _smooth(np.pad(a, pad, mode="symmetric"))[1:-1],
    )
    close(x.map_overlap(_smooth, depth=depth, boundary=0.0).compute(), _smooth(np.pad(a, pad, mode="constant"))[1:-1])
    ext = da.overlap(x, depth=depth, boundary="periodic")
    assert ext.shape[0] == shape[0] + 2 * len(x.chunks[0])
    with pytest.raises(ValueError, match="boundary"):
        da.overlap(x, depth=1, boundary="wrap")


@settings(max_examples=30, deadline=None)
@given(shapes_and_chunks(min_dims=1, max_dims=3, max_side=9), st.data())
def test_pad_windows_nancumsum_and_result_type_equal_numpy(spec: Any, data: Any) -> None:
    shape, chunks = spec
    a = numpy_array(data.draw, shape)
    a[a > 4] = np.nan
    x = da.from_array(a, chunks=chunks)
    widths = [(data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))) for _ in shape]
    np.testing.assert_array_equal(
        np.pad(x, widths, constant_values=-1.0).compute(), np.pad(a, widths, constant_values=-1.0)
    )
    axis = data.draw(st.integers(0, len(shape) - 1))
    w = data.draw(st.integers(1, shape[axis]))
    got = np.lib.stride_tricks.sliding_window_view(x, w, axis=axis)
    assert isinstance(got, da.Array)
    np.testing.assert_array_equal(got.compute(), np.lib.stride_tricks.sliding_window_view(a, w, axis=axis))
    np.testing.assert_allclose(np.nancumsum(x, axis=axis).compute(), np.nancumsum(a, axis=axis))
    assert np.result_type(x, np.float32) == np.result_type(a, np.float32)


def test_einsum_equals_numpy() -> None:
    rng = np.random.default_rng(5)
    a, b, c = rng.random((6, 4)), rng.random((4, 5)), rng.random(5)
    x, y, z = da.from_array(a, chunks=3), da.from_array(b, chunks=2), da.from_array(c, chunks=2)
    for spec, ops, nps in [
        ("ij,jk->ik", (x, y), (a, b)),
        ("ij->ji", (x,), (a,)),
        ("ij,jk", (x, y), (a, b)),
        ("ij,jk,k->i", (x, y, z), (a, b, c)),
        ("ij->", (x,), (a,)),
        ("...j,j->...", (x, da.from_array(c[:4], chunks=2)), (a, c[:4])),
        ("...ij,...j->...i", (x, da.from_array(c[:4], chunks=2)), (a, c[:4])),
    ]:
        np.testing.assert_allclose(np.einsum(spec, *ops).compute(), np.einsum(spec, *nps))


@settings(max_examples=40, deadline=None)
@given(shapes_and_chunks(min_dims=1, max_dims=3, max_side=10), st.data())
def test_reductions_over_a_gathered_axis_equal_numpy(spec: Any, data: Any) -> None:
    shape, chunks = spec
    a = numpy_array(data.draw, shape)
    a[a > 3.5] = np.nan
    x = da.from_array(a, chunks=chunks)
    axis = data.draw(st.integers(0, len(shape) - 1))
    n = shape[axis]
    if data.draw(st.booleans()):
        index: Any = np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=2 * n)))
    else:
        index = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    key = (slice(None),) * axis + (index,)
    want_taken = a[key]
    taken = x[key]
    others = data.draw(st.sets(st.integers(0, len(shape) - 1), max_size=len(shape)))
    axes = tuple(sorted(others | {axis}))
    keepdims = data.draw(st.booleans())
    for name in ("sum", "nansum", "mean", "nanmean"):
        if want_taken.shape[axis] == 0 and name in ("mean", "nanmean"):
            continue
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = getattr(np, name)(want_taken, axis=axes, keepdims=keepdims)
            got = getattr(np, name)(taken, axis=axes, keepdims=keepdims).compute()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=f"{name} over {axes}")


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("sum", ["axis", "dtype", "keepdims", "split_every", "out"]),
        ("mean", ["axis", "dtype", "keepdims", "split_every", "out"]),
        ("var", ["axis", "dtype", "keepdims", "ddof", "split_every", "out"]),
        ("std", ["axis", "dtype", "keepdims", "ddof", "split_every", "out"]),
        ("max", ["axis", "keepdims", "split_every", "out"]),
        ("argmin", ["axis", "keepdims", "split_every", "out"]),
        ("all", ["axis", "keepdims", "split_every", "out"]),
    ],
)
def test_reduction_methods_have_numpys_signatures_and_results(name: str, params: list[str]) -> None:
    import inspect

    method = getattr(da.Array, name)
    assert method.__name__ == name and method.__qualname__ == f"Array.{name}"
    assert method.__doc__
    assert list(inspect.signature(method).parameters)[1:] == params
    a = np.arange(24, dtype=np.float64).reshape(4, 6) % 7
    x = da.from_array(a, chunks=(2, 4))
    kwargs: dict[str, Any] = {"ddof": 1} if "ddof" in params else {}
    got = getattr(x, name)(axis=1, **kwargs).compute()
    np.testing.assert_allclose(got, getattr(a, name)(axis=1, **kwargs))
    with pytest.raises(TypeError, match="out="):
        getattr(x, name)(out=np.empty(4))


@given(st.data(), shapes_and_chunks(max_dims=2))
def test_numpy_scalars_casts_rounding_and_clipping_follow_numpy(data: Any, sc: Any) -> None:
    shape, chunks = sc
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    ints = rng.integers(-400, 400, shape)
    floats = np.where(rng.random(shape) < 0.3, np.nan, rng.normal(size=shape) * 100)
    i, f = da.from_array(ints, chunks=chunks), da.from_array(floats, chunks=chunks)
    u8 = da.from_array(ints.astype("u1"), chunks=chunks)
    # A NumPy scalar takes part in the result type (NEP 50).
    for got, want in [
        (u8 + np.int64(100), ints.astype("u1") + np.int64(100)),
        (f.astype("float32") * np.float64(2), floats.astype("float32") * np.float64(2)),
        (np.float32(2) * f.astype("float32"), np.float32(2) * floats.astype("float32")),
    ]:
        out = got.compute()
        assert out.dtype == want.dtype, (out.dtype, want.dtype)
        close(out, want)
    # Narrowing integer casts keep the low bits, as NumPy's C casts do.
    for t in ("uint8", "int32"):
        np.testing.assert_array_equal(i.astype(t).compute(), ints.astype(t))
    np.testing.assert_array_equal(u8.sum(dtype="u1").compute(), ints.astype("u1").sum(dtype="u1"))
    # Integers round to tens and hundreds exactly, halves to even.
    for d in (-1, -2):
        np.testing.assert_array_equal(i.round(d).compute(), ints.round(d))
    halves = np.array([15, 25, -35, -45, 5, -5, 0])
    np.testing.assert_array_equal(da.from_array(halves, chunks=3).round(-1).compute(), halves.round(-1))
    # Clipping an integer array by floats gives floats; bounds may be arrays.
    out = i.clip(-10.5, 20.5).compute()
    assert out.dtype == np.float64
    close(out, ints.clip(-10.5, 20.5))
    np.testing.assert_array_equal(i.clip(-10, 20).compute(), ints.clip(-10, 20))
    close(np.clip(f, da.zeros(shape, chunks=chunks), 2).compute(), np.clip(floats, np.zeros(shape), 2))
    # nanprod counts NaN as 1.
    close(da.nanprod(f / 100, axis=0).compute(), np.nanprod(floats / 100, axis=0))
    close(da.nanprod(f / 100).compute(), np.nanprod(floats / 100))
    assert da.full(3, np.float32(1)).dtype == np.float32


def test_selections_over_nothing_raise_as_numpy() -> None:
    x = da.zeros((0, 3), chunks=2)
    for name in ("max", "min", "argmax", "argmin", "nanmax"):
        with pytest.raises(ValueError, match=r"empty sequence|zero-size array"):
            getattr(da, name)(x).compute()
    with pytest.raises(ValueError, match="zero-size array"):
        x.max(axis=0).compute()
    np.testing.assert_array_equal(x.max(axis=1).compute(), np.zeros((0, 3)).max(axis=1))
    assert x.sum().compute() == 0
    # Too few values for ddof: var divides by 0 (inf, or NaN when all are
    # equal), nanvar gives NaN, as NumPy.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for a in (np.array([1.0, 2.0]), np.array([3.0, 3.0]), np.array([1.0])):
            y = da.from_array(a, chunks=1)
            for ddof in (1, 2, 3):
                np.testing.assert_array_equal(y.var(ddof=ddof).compute(), np.var(a, ddof=ddof))
                np.testing.assert_array_equal(y.std(ddof=ddof).compute(), np.std(a, ddof=ddof))
                np.testing.assert_array_equal(da.nanvar(y, ddof=ddof).compute(), np.nanvar(a, ddof=ddof))


@given(st.data(), st.integers(1, 7), st.integers(1, 7), st.integers(1, 4))
def test_matmul_with_vectors_as_numpy(data: Any, n: int, m: int, c: int) -> None:
    a = numpy_array(data.draw, (n, m))
    v, w = numpy_array(data.draw, (m,)), numpy_array(data.draw, (n,))
    x, xv, xw = da.from_array(a, chunks=c), da.from_array(v, chunks=c), da.from_array(w, chunks=c)
    close((x @ xv).compute(), a @ v)
    close((xw @ x).compute(), w @ a)
    close((xv @ xv).compute(), v @ v)
    close(np.matmul(xw, x).compute(), np.matmul(w, a))
    close((v @ x.T).compute(), v @ a.T)


def test_rechunk_none_keeps_an_axis_and_compute_looks_inside_containers() -> None:
    x = da.arange(12, chunks=5).reshape((3, 4)).rechunk((1, 3))
    assert x.rechunk((None, 2)).chunks == ((1, 1, 1), (2, 2))
    assert x.rechunk({1: 4}).chunks == ((1, 1, 1), (4,))
    total = da.ones(4, chunks=2).sum()
    got = blockwork.compute({"a": total, "b": [total, (x.sum(), "label")]}, 5)
    assert got == ({"a": 4.0, "b": [4.0, (66, "label")]}, 5)
    (lazy,) = blockwork.compute([total], traverse=False)
    assert lazy == [total]


def test_map_blocks_block_id_meta_and_chunks_of_new_axes_as_dask() -> None:
    a = np.arange(10.0)
    x = da.from_array(a, chunks=4)
    got = x.map_blocks(lambda b, block_id=None: b * 0 + block_id[0], meta=np.array((), dtype="f8"))
    np.testing.assert_array_equal(got.compute(), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
    both = x.map_blocks(lambda b, block_id=None, block_info=None: b * 0 + block_info[None]["chunk-location"][0])
    np.testing.assert_array_equal(both.compute(), got.compute())
    wide = da.ones(4, chunks=2).map_blocks(lambda b: b[:, None] * np.arange(3), new_axis=1, chunks=(2, 3))
    assert wide.chunks == ((2, 2), (3,))
    np.testing.assert_array_equal(wide.compute(), np.ones(4)[:, None] * np.arange(3))
    assert x.map_blocks(lambda b: b.astype("f4"), meta=np.array((), dtype="f4")).dtype == np.float32


@given(st.data(), shapes_and_chunks(max_dims=3))
def test_expand_dims_concatenate_flat_and_sequence_operands_as_numpy(data: Any, sc: Any) -> None:
    shape, chunks = sc
    a = numpy_array(data.draw, shape)
    x = da.from_array(a, chunks=chunks)
    n = len(shape) + 2
    axes = data.draw(st.lists(st.integers(-n, n - 1), min_size=2, max_size=2, unique_by=lambda i: i % n))
    np.testing.assert_array_equal(da.expand_dims(x, tuple(axes)).compute(), np.expand_dims(a, tuple(axes)))
    np.testing.assert_array_equal(da.concatenate([x, x], axis=None).compute(), np.concatenate([a, a], axis=None))
    row = a.reshape(-1, shape[-1])[0].tolist()
    close((x + row).compute(), a + row)
    close((row - x).compute(), row - a)
