"""Discrete Fourier transforms of chunked arrays, as `dask.array.fft`.

    import blockwork.array as da
    x = da.random.random((1000, 4096), chunks=(100, 4096))
    spectrum = abs(da.fft.rfft(x)) ** 2         # one task per block, along the last axis
    y = da.fft.irfft(da.fft.rfft(x), n=4096)

A transform runs along axes that are one chunk each (the other axes may be
chunked any way): an axis cut into several chunks is refused with the
rechunk that makes it one, as Dask's. Each block is transformed by one
task in Rust (RustFFT and RealFFT kernels) with the GIL released.

Types and results follow NumPy 2's `numpy.fft`: float32 and complex64
input give complex64 (float32 from `irfft`/`hfft`), every other type
complex128 (float64); `norm` is `"backward"` (the default), `"ortho"` or
`"forward"`. With `s` and no `axes`, the n-d transforms take the last
`len(s)` axes, as NumPy does (Dask takes the first ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from blockwork.array.core import Array, asarray
from blockwork.array.routines import arange, concatenate, where

__all__ = [
    "fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "ifft", "ifft2", "ifftn", "ifftshift", "ihfft", "irfft",
    "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn",
]  # fmt: skip


def _one(name: str, a: Any, n: int | None, axis: int | None, norm: str | None) -> Array:
    return Array(asarray(a)._a.fft(name, n=n, axis=-1 if axis is None else int(axis), norm=norm))


def _many(
    name: str, a: Any, s: Sequence[int] | None, axes: Sequence[int] | None, norm: str | None, two: bool = False
) -> Array:
    if axes is None and two:
        axes = (-2, -1)
    return Array(
        asarray(a)._a.fft(
            name,
            s=None if s is None else [int(v) for v in s],
            axes=None if axes is None else [int(v) for v in axes],
            norm=norm,
        )
    )


def fft(a: Any, n: int | None = None, axis: int | None = None, norm: str | None = None) -> Array:
    """The 1-d discrete Fourier transform along `axis` (the last by default)."""
    return _one("fft", a, n, axis, norm)


def ifft(a: Any, n: int | None = None, axis: int | None = None, norm: str | None = None) -> Array:
    """The inverse of `fft`."""
    return _one("ifft", a, n, axis, norm)


def rfft(a: Any, n: int | None = None, axis: int | None = None, norm: str | None = None) -> Array:
    """The transform of real input: the `n // 2 + 1` non-negative frequencies."""
    return _one("rfft", a, n, axis, norm)


def irfft(a: Any, n: int | None = None, axis: int | None = None, norm: str | None = None) -> Array:
    """The inverse of `rfft`: `n` real values (`2 * (m - 1)` by default)."""
    return _one("irfft", a, n, axis, norm)


def hfft(a: Any, n: int | None = None, axis: int | None = None, norm: str | None = None) -> Array:
    """The transform of a signal with Hermitian symmetry: `n` real values."""
    return _one("hfft", a, n, axis, norm)


def ihfft(a: Any, n: int | None = None, axis: int | None = None, norm: str | None = None) -> Array:
    """The inverse of `hfft`."""
    return _one("ihfft", a, n, axis, norm)


def fftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None) -> Array:
    """The n-d transform over `axes` (every axis by default)."""
    return _many("fftn", a, s, axes, norm)


def ifftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None) -> Array:
    """The inverse of `fftn`."""
    return _many("ifftn", a, s, axes, norm)


def rfftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None) -> Array:
    """The n-d transform of real input (real-to-complex along the last axis)."""
    return _many("rfftn", a, s, axes, norm)


def irfftn(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None) -> Array:
    """The inverse of `rfftn`."""
    return _many("irfftn", a, s, axes, norm)


def fft2(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None) -> Array:
    """The 2-d transform (axes -2 and -1 by default)."""
    return _many("fftn", a, s, axes, norm, two=True)


def ifft2(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None) -> Array:
    """The inverse of `fft2`."""
    return _many("ifftn", a, s, axes, norm, two=True)


def rfft2(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None) -> Array:
    """The 2-d transform of real input."""
    return _many("rfftn", a, s, axes, norm, two=True)


def irfft2(a: Any, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None) -> Array:
    """The inverse of `rfft2`."""
    return _many("irfftn", a, s, axes, norm, two=True)


def fftfreq(n: int, d: float = 1.0, chunks: Any = "auto") -> Array:
    """The sample frequencies of an `n`-point transform with spacing `d`."""
    n = int(n)
    i = arange(n, chunks=chunks, dtype="float64")
    return where(i >= (n + 1) // 2, i - n, i) / (d * n)


def rfftfreq(n: int, d: float = 1.0, chunks: Any = "auto") -> Array:
    """The non-negative sample frequencies of an `n`-point `rfft`."""
    n = int(n)
    return arange(n // 2 + 1, chunks=chunks, dtype="float64") / (d * n)


def _roll(x: Array, axis: int, shift: int) -> Array:
    n = x.shape[axis]
    k = shift % n if n else 0
    if k == 0:
        return x
    index: list[Any] = [slice(None)] * x.ndim
    index[axis] = slice(n - k, None)
    tail = x[tuple(index)]
    index[axis] = slice(None, n - k)
    return concatenate([tail, x[tuple(index)]], axis=axis)


def _shift(x: Any, axes: int | Sequence[int] | None, inverse: bool) -> Array:
    a = asarray(x)
    if axes is None:
        axes = range(a.ndim)
    elif isinstance(axes, int):
        axes = (axes,)
    for ax in axes:
        ax = ax % a.ndim
        half = a.shape[ax] // 2
        a = _roll(a, ax, -half if inverse else half)
    return a


def fftshift(x: Any, axes: int | Sequence[int] | None = None) -> Array:
    """The zero frequency moved to the middle of `axes` (every axis by default)."""
    return _shift(x, axes, False)


def ifftshift(x: Any, axes: int | Sequence[int] | None = None) -> Array:
    """The inverse of `fftshift`."""
    return _shift(x, axes, True)
