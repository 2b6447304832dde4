"""blockwork.array.fft and complex arrays against NumPy on random shapes,
chunkings, lengths, scalings and element types."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import blockwork.array as da

NORMS = st.sampled_from([None, "backward", "ortho", "forward"])
DTYPES = st.sampled_from(["float64", "float32", "int64", "complex128", "complex64"])


def _chunks(n: int, data: st.DataObject) -> tuple[int, ...]:
    out: list[int] = []
    while sum(out) < n:
        out.append(min(data.draw(st.integers(1, max(1, n // 2 + 1))), n - sum(out)))
    return tuple(out)


def _sample(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        a = a + 1j * rng.standard_normal(shape)
    if dtype == "int64":
        a = np.round(a * 10)
    return a.astype(dtype)


def _tol(dtype: np.dtype[Any]) -> float:
    return 2e-4 if dtype in (np.float32, np.complex64) else 1e-9


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 9), min_size=1, max_size=3),
    st.integers(0, 2),
    st.one_of(st.none(), st.integers(1, 12)),
    NORMS,
    DTYPES,
    st.data(),
)
def test_one_d_transforms_equal_numpy(
    shape: list[int], pick: int, n: int | None, norm: str | None, dtype: str, data: st.DataObject
) -> None:
    axis = pick % len(shape)
    a = _sample(tuple(shape), dtype, sum(shape) * 7 + pick)
    chunks = tuple((s,) if i == axis else _chunks(s, data) for i, s in enumerate(shape))
    x = da.from_array(a, chunks=chunks)
    real = a.real if np.iscomplexobj(a) else a
    xr = da.from_array(real, chunks=chunks)
    out_n = n if n is not None else 2 * (shape[axis] - 1)
    for name, src, arr in [
        ("fft", a, x),
        ("ifft", a, x),
        ("rfft", real, xr),
        ("ihfft", real, xr),
        ("irfft", a, x),
        ("hfft", a, x),
    ]:
        if name in ("irfft", "hfft") and out_n < 1:
            with pytest.raises(ValueError, match="data points"):
                getattr(da.fft, name)(arr, n=n, axis=axis, norm=norm)
            continue
        want = getattr(np.fft, name)(src, n=n, axis=axis, norm=norm)
        got = getattr(da.fft, name)(arr, n=n, axis=axis, norm=norm)
        assert got.dtype == want.dtype, name
        assert got.chunks[axis] == (want.shape[axis],)
        res = got.compute()
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(res, want, atol=_tol(want.dtype) * scale, err_msg=name)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(2, 7), min_size=2, max_size=3), NORMS, st.sampled_from(["float64", "complex64"]), st.data())
def test_n_d_transforms_equal_numpy(shape: list[int], norm: str | None, dtype: str, data: st.DataObject) -> None:
    a = _sample(tuple(shape), dtype, sum(shape))
    nd = len(shape)
    # The 2-d forms transform the last two axes: the first may be chunked.
    chunks = tuple(_chunks(s, data) if i < nd - 2 else (s,) for i, s in enumerate(shape))
    x = da.from_array(a, chunks=chunks)
    real = a.real.copy()
    xr = da.from_array(real, chunks=chunks)
    s = tuple(data.draw(st.integers(1, 8)) for _ in range(2))
    cases = [
        ("fft2", a, x, {}),
        ("ifft2", a, x, {"s": s}),
        ("rfft2", real, xr, {}),
        ("irfft2", a, x, {"s": s}),
        ("fftn", a, x, {"axes": (-1, -2)}),
        ("rfftn", real, xr, {"s": s, "axes": (-2, -1)}),
        ("irfftn", a, x, {"axes": (-2, -1)}),
        ("ifftn", a, x, {"s": s, "axes": (-1, -2)}),
    ]
    for name, src, arr, kw in cases:
        want = getattr(np.fft, name)(src, norm=norm, **kw)
        got = getattr(da.fft, name)(arr, norm=norm, **kw)
        assert got.dtype == want.dtype, name
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(got.compute(), want, atol=_tol(want.dtype) * scale, err_msg=name)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=3), st.data())
def test_shifts_and_frequencies_equal_numpy(shape: list[int], data: st.DataObject) -> None:
    a = np.arange(int(np.prod(shape))).reshape(shape)
    x = da.from_array(a, chunks=tuple(_chunks(s, data) for s in shape))
    np.testing.assert_array_equal(da.fft.fftshift(x).compute(), np.fft.fftshift(a))
    np.testing.assert_array_equal(da.fft.ifftshift(x).compute(), np.fft.ifftshift(a))
    np.testing.assert_array_equal(da.fft.fftshift(x, axes=-1).compute(), np.fft.fftshift(a, axes=-1))
    n = shape[0]
    d = data.draw(st.floats(0.1, 10))
    np.testing.assert_allclose(da.fft.fftfreq(n, d, chunks=2).compute(), np.fft.fftfreq(n, d))
    np.testing.assert_allclose(da.fft.rfftfreq(n, d, chunks=3).compute(), np.fft.rfftfreq(n, d))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=2), st.sampled_from(["complex128", "complex64"]), st.data())
def test_complex_arithmetic_equals_numpy(shape: list[int], dtype: str, data: st.DataObject) -> None:
    a = _sample(tuple(shape), dtype, 3)
    b = _sample(tuple(shape), dtype, 4)
    chunks = tuple(_chunks(s, data) for s in shape)
    x, y = da.from_array(a, chunks=chunks), da.from_array(b, chunks=chunks)
    r = np.random.default_rng(5).standard_normal(shape)
    xr = da.from_array(r, chunks=chunks)
    cases = {
        "x + y": (x + y, a + b),
        "x - y": (x - y, a - b),
        "x * y": (x * y, a * b),
        "x / y": (x / y, a / b),
        "x * 1j": (x * 1j, a * 1j),
        "2 - x": (2 - x, 2 - a),
        "(1+2j) / x": ((1 + 2j) / x, (1 + 2j) / a),
        "x ** 2": (x**2, a**2),
        "-x": (-x, -a),
        "x + real": (x + xr, a + r),
        "real * 1j": (xr * 1j, r * 1j),
        "abs": (abs(x), np.abs(a)),
        "real": (x.real, a.real),
        "imag": (x.imag, a.imag),
        "conj": (np.conj(x), np.conj(a)),
        "angle": (da.angle(x, deg=True), np.angle(a, deg=True)),
        "sum": (x.sum(axis=0), a.sum(axis=0)),
        "mean": (x.mean(), a.mean()),
        "var": (x.var(ddof=1) if a.size > 1 else x.var(), a.var(ddof=1) if a.size > 1 else a.var()),
        "std": (x.std(), a.std()),
        "astype": (x.astype("complex64"), a.astype("complex64")),
        "where": (da.where(xr > 0, x, 0), np.where(r > 0, a, 0)),
        "eq": (x == x, a == a),
    }
    for what, (got, want) in cases.items():
        assert got.dtype == want.dtype, what
        scale = max(1.0, float(np.abs(want).max()))
        tol = _tol(want.dtype)
        np.testing.assert_allclose(got.compute(), want, rtol=tol, atol=tol * scale, err_msg=what)


def test_types_mix_as_numpy_says() -> None:
    for t in ["uint8", "bool", "int32", "int64", "float32", "float64", "complex64", "complex128"]:
        x = da.ones(3, dtype=t, chunks=2)
        assert (x + 1j).dtype == (np.ones(3, t) + 1j).dtype, t
        for other in ["complex64", "complex128"]:
            y = da.ones(3, dtype=other, chunks=2)
            assert (x + y).dtype == np.result_type(t, other), (t, other)


def test_errors_say_what_is_wrong() -> None:
    x = da.ones((10, 4), chunks=(5, 4))
    with pytest.raises(ValueError, match=r"rechunk\(\{0: -1\}\)"):
        da.fft.fft(x, axis=0)
    with pytest.raises(ValueError, match="norm"):
        da.fft.fft(x, norm="both")
    with pytest.raises(ValueError, match="repeated"):
        da.fft.fftn(x.rechunk(-1), axes=(0, 0))
    z = da.fft.fft(x)
    with pytest.raises(TypeError, match="complex128"):
        z.max()
    with pytest.raises(TypeError, match="complex128"):
        z // 2
    with pytest.raises(TypeError, match="complex128"):
        np.exp(z)


def test_spectrum_of_a_sine() -> None:
    t = np.arange(4096) / 4096
    signal = np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 120 * t)
    x = da.from_array(np.tile(signal, (8, 1)), chunks=(2, 4096))
    power = (abs(da.fft.rfft(x)) ** 2).mean(axis=0).compute()
    assert sorted(np.argsort(power)[-2:]) == [50, 120]
    back = da.fft.irfft(da.fft.rfft(x), n=4096).compute()
    np.testing.assert_allclose(back[0], signal, atol=1e-12)


def test_complex_arrays_round_trip_through_npy(tmp_path: Any) -> None:
    a = _sample((7, 5), "complex64", 9)
    path = tmp_path / "z.npy"
    da.from_array(a, chunks=(3, 5)).to_npy(str(path))
    np.testing.assert_array_equal(np.load(path), a)
    back = da.from_npy(str(path), chunks=2)
    assert back.dtype == np.complex64
    np.testing.assert_array_equal(back.compute(), a)
