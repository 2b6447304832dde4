"""Module-level functions of blockwork.array (dask.array's names) and the
table `__array_function__` uses to keep `np.sum(x)` and friends lazy."""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from blockwork import _core
from blockwork.array.core import Array, _operand, _scalar, asarray, engine_dtype, normalize_chunks


def _shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def full(shape: int | Sequence[int], fill_value: Any, dtype: Any = None, chunks: Any = "auto", **kwargs: Any) -> Array:
    """An array of `shape` with every element `fill_value` (no memory per block)."""
    shape = _shape(shape)
    # The type of the value as given (a NumPy scalar keeps its own).
    name = engine_dtype(dtype if dtype is not None else np.asarray(fill_value).dtype)
    fill_value = _scalar(fill_value)
    return Array(_core.full(list(shape), fill_value, name, normalize_chunks(chunks, shape, name)))


def ones(shape: int | Sequence[int], dtype: Any = float, chunks: Any = "auto", **kwargs: Any) -> Array:
    """An array of ones."""
    return full(shape, 1, dtype, chunks)


def zeros(shape: int | Sequence[int], dtype: Any = float, chunks: Any = "auto", **kwargs: Any) -> Array:
    """An array of zeros."""
    return full(shape, 0, dtype, chunks)


def empty(shape: int | Sequence[int], dtype: Any = float, chunks: Any = "auto", **kwargs: Any) -> Array:
    """An array whose elements are not set (zeros here: blocks hold no memory until used)."""
    return full(shape, 0, dtype, chunks)


def _like(a: Array, fill: Any, dtype: Any, chunks: Any) -> Array:
    return full(a.shape, fill, dtype if dtype is not None else a.dtype, a.chunks if chunks is None else chunks)


def ones_like(a: Array, dtype: Any = None, chunks: Any = None, **kwargs: Any) -> Array:
    """Ones with `a`'s shape, type and chunks."""
    return _like(asarray(a), 1, dtype, chunks)


def zeros_like(a: Array, dtype: Any = None, chunks: Any = None, **kwargs: Any) -> Array:
    """Zeros with `a`'s shape, type and chunks."""
    return _like(asarray(a), 0, dtype, chunks)


def full_like(a: Array, fill_value: Any, dtype: Any = None, chunks: Any = None, **kwargs: Any) -> Array:
    """`fill_value` with `a`'s shape, type and chunks."""
    return _like(asarray(a), _scalar(fill_value), dtype, chunks)


def empty_like(a: Array, dtype: Any = None, chunks: Any = None, **kwargs: Any) -> Array:
    """An unset array with `a`'s shape, type and chunks."""
    return _like(asarray(a), 0, dtype, chunks)


def arange(*args: Any, chunks: Any = "auto", dtype: Any = None, **kwargs: Any) -> Array:
    """`arange([start,] stop[, step])`: evenly spaced values in `[start, stop)`."""
    start, stop, step = 0, None, 1
    if len(args) == 1:
        stop = args[0]
    elif len(args) == 2:
        start, stop = args
    elif len(args) == 3:
        start, stop, step = args
    else:
        raise TypeError(f"arange takes 1 to 3 positional arguments, got {len(args)}")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    if dtype is None:
        dtype = (
            np.arange(0, 1, 1).dtype
            if builtins.all(isinstance(_scalar(v), int) for v in (start, stop, step))
            else float
        )
    name = engine_dtype(dtype)
    n = builtins.max(0, int(np.ceil((stop - start) / step)))
    return Array(_core.arange(float(start), float(stop), float(step), name, normalize_chunks(chunks, (n,), name)))


def linspace(
    start: float,
    stop: float,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    chunks: Any = "auto",
    dtype: Any = None,
) -> Any:
    """`num` evenly spaced values from `start` to `stop`."""
    name = engine_dtype(dtype if dtype is not None else float)
    x = Array(
        _core.linspace(float(start), float(stop), int(num), endpoint, name, normalize_chunks(chunks, (int(num),), name))
    )
    if retstep:
        div = (num - 1) if endpoint else num
        return x, (stop - start) / div if div > 0 else float("nan")
    return x


def eye(N: int, chunks: Any = "auto", M: int | None = None, k: int = 0, dtype: Any = float) -> Array:
    """An `N`-by-`M` matrix with ones on diagonal `k`."""
    m = N if M is None else M
    name = engine_dtype(dtype)
    return Array(_core.eye(int(N), int(m), int(k), name, normalize_chunks(chunks, (N, m), name)))


def from_npy(path: str, chunks: Any = "auto") -> Array:
    """A lazy array over a `.npy` file; each block reads only its bytes."""
    return Array(_core.from_npy(path, None if chunks == "auto" else chunks))


def from_zarr(url: str | os.PathLike[str], component: str | None = None, chunks: Any = None) -> Array:
    """A lazy array over a Zarr array (v2 or v3, a directory store): the
    store's root array, or the array `component` of its group. Blocks are
    the store's chunks, or `chunks` (an int or a length per axis read
    directly; other forms rechunk). Each block reads only its region."""
    direct = (
        chunks is None
        or isinstance(chunks, int)
        or (isinstance(chunks, (tuple, list)) and builtins.all(isinstance(c, int) for c in chunks))
    )
    if not direct:
        return Array(_core.from_zarr(os.fspath(url), component, None)).rechunk(chunks)
    if isinstance(chunks, int):
        probe = _core.from_zarr(os.fspath(url), component, None)
        chunks = [chunks] * len(probe.shape)
    return Array(_core.from_zarr(os.fspath(url), component, None if chunks is None else list(chunks)))


def to_zarr(arr: Array, url: str | os.PathLike[str], component: str | None = None, zarr_format: int = 3) -> None:
    """Writes the array as a new Zarr store (v3 by default, or 2) whose root is
    the array, one chunk per block (irregular blocks are made regular);
    the store must not exist."""
    if component is not None:
        raise ValueError("to_zarr writes a store whose root is the array: give the path, without a component")
    _core.to_zarr(asarray(arr)._a, os.fspath(url), zarr_format)


def where(condition: Any, x: Any = None, y: Any = None) -> Array:
    """Elements of `x` where `condition` holds, of `y` elsewhere."""
    if x is None and y is None:
        raise TypeError("where(condition) without x and y (nonzero) is not lazy: use where(condition, x, y)")
    return Array(_core.where_(asarray(condition)._a, _operand(x), _operand(y)))


def _join(arrays: Sequence[Any], axis: int, new_axis: bool) -> Array:
    arrs = [asarray(a)._a for a in arrays]
    return Array(_core.concatenate(arrs, int(axis), new_axis))


def concatenate(seq: Sequence[Any], axis: int | None = 0, **kwargs: Any) -> Array:
    """Arrays joined along an existing axis (`None`: each flattened first)."""
    if axis is None:
        return _join([asarray(a).ravel() for a in seq], 0, False)
    return _join(seq, axis, False)


def stack(seq: Sequence[Any], axis: int = 0, **kwargs: Any) -> Array:
    """Arrays joined along a new axis."""
    return _join(seq, axis, True)


def dot(a: Any, b: Any) -> Array:
    """The matrix product."""
    return asarray(a) @ asarray(b)


def matmul(a: Any, b: Any) -> Array:
    """The matrix product."""
    return asarray(a) @ asarray(b)


def transpose(a: Any, axes: Any = None) -> Array:
    """Axes permuted (reversed by default)."""
    return asarray(a).transpose(axes)


def swapaxes(a: Any, axis1: int, axis2: int) -> Array:
    """Two axes swapped."""
    return asarray(a).swapaxes(axis1, axis2)


def reshape(a: Any, shape: Any, **kwargs: Any) -> Array:
    """The same elements in another shape."""
    return asarray(a).reshape(shape)


def ravel(a: Any) -> Array:
    """The elements as one dimension."""
    return asarray(a).ravel()


def squeeze(a: Any, axis: Any = None) -> Array:
    """Length-1 axes removed."""
    return asarray(a).squeeze(axis)


def expand_dims(a: Any, axis: int | Sequence[int]) -> Array:
    """Length-1 axes inserted at `axis` (an int or several, as NumPy:
    positions in the result, negative ones counted from its end)."""
    x = asarray(a)
    axes = [int(axis)] if isinstance(axis, (int, np.integer)) else [int(i) for i in axis]
    ndim = x.ndim + len(axes)
    places = sorted(i % ndim if -ndim <= i < ndim else _bad_axis(i, ndim) for i in axes)
    if len(set(places)) != len(places):
        raise ValueError(f"repeated axis in expand_dims: {axis}")
    for i in places:
        x = Array(x._a.expand_dims(i))
    return x


def _bad_axis(axis: int, ndim: int) -> int:
    raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension {ndim}")


def broadcast_to(a: Any, shape: Sequence[int], chunks: Any = None) -> Array:
    """The array broadcast to `shape`."""
    return Array(asarray(a)._a.broadcast_to([int(s) for s in shape]))


def clip(a: Any, a_min: Any = None, a_max: Any = None, **kwargs: Any) -> Array:
    """Elements limited to `[a_min, a_max]`."""
    return asarray(a).clip(kwargs.pop("min", a_min), kwargs.pop("max", a_max))


def round(a: Any, decimals: int = 0) -> Array:
    """Rounded to `decimals` places, halves to even."""
    return asarray(a).round(decimals)


around = round


def take(a: Any, indices: Any, axis: int = 0) -> Array:
    """Elements at integer positions along an axis."""
    return Array(asarray(a)._a.take([int(i) for i in np.asarray(indices).ravel()], int(axis)))


def compress(condition: Any, a: Any, axis: int | None = None) -> Array:
    """Elements where a boolean vector holds, along an axis."""
    x = asarray(a)
    if axis is None:
        x, axis = x.ravel(), 0
    return Array(x._a.compress([bool(c) for c in np.asarray(condition)], int(axis)))


def _reduction(name: str) -> Any:
    def f(
        a: Any,
        axis: Any = None,
        dtype: Any = None,
        keepdims: bool = False,
        split_every: int | None = None,
        out: Any = None,
        ddof: int = 0,
        **kwargs: Any,
    ) -> Array:
        x = asarray(a)
        return x._reduce(name, axis, dtype, keepdims, ddof, split_every, out)

    f.__name__ = name
    f.__doc__ = f"NumPy's `{name}`, lazily, as a tree of partial results."
    return f


sum = _reduction("sum")
prod = _reduction("prod")
mean = _reduction("mean")
var = _reduction("var")
std = _reduction("std")
min = _reduction("min")
max = _reduction("max")
nansum = _reduction("nansum")
nanprod = _reduction("nanprod")
nanmean = _reduction("nanmean")
nanvar = _reduction("nanvar")
nanstd = _reduction("nanstd")
nanmin = _reduction("nanmin")
nanmax = _reduction("nanmax")
argmin = _reduction("argmin")
argmax = _reduction("argmax")
any = _reduction("any")
all = _reduction("all")
amin, amax = min, max


def cumsum(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Array:
    """Cumulative sum."""
    return asarray(a).cumsum(axis, dtype, out)


def cumprod(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Array:
    """Cumulative product."""
    return asarray(a).cumprod(axis, dtype, out)


def isnan(a: Any) -> Array:
    """Whether each element is NaN."""
    return Array(asarray(a)._a.unary("isnan"))


def real(val: Any) -> Array:
    """The real parts (NumPy's `real`)."""
    return asarray(val).real


def imag(val: Any) -> Array:
    """The imaginary parts (NumPy's `imag`)."""
    return asarray(val).imag


def angle(z: Any, deg: bool = False) -> Array:
    """The arguments of complex numbers, in radians or with `deg` in degrees
    (NumPy's `angle`; 0 or π for real numbers)."""
    a = Array(asarray(z)._a.unary("angle"))
    return a * (180.0 / np.pi) if deg else a


def nancumsum(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Array:
    """Cumulative sum with NaNs counted as zero."""
    x = asarray(a)
    return (where(isnan(x), 0, x) if x.dtype.kind == "f" else x).cumsum(axis, dtype, out)


def nancumprod(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Array:
    """Cumulative product with NaNs counted as one."""
    x = asarray(a)
    return (where(isnan(x), 1, x) if x.dtype.kind == "f" else x).cumprod(axis, dtype, out)


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Array:
    """NumPy's `einsum` of one or two arrays (explicit subscripts; more
    operands are contracted pairwise, left to right)."""
    if kwargs.get("optimize") not in (None, False, True, "greedy", "optimal"):
        raise ValueError("einsum's optimize= must be a bool or 'greedy'/'optimal'")
    arrays = [asarray(a) for a in operands]
    spec = _expand_ellipsis(subscripts.replace(" ", ""), [a.ndim for a in arrays])
    if "->" not in spec:
        inputs = spec.split(",")
        counts: dict[str, int] = {}
        for ch in "".join(inputs):
            counts[ch] = counts.get(ch, 0) + 1
        spec = f"{spec}->{''.join(sorted(c for c, n in counts.items() if n == 1))}"
    left, out = spec.split("->")
    inputs = left.split(",")
    if len(inputs) != len(arrays):
        raise ValueError(f"einsum {subscripts!r} names {len(inputs)} operands, got {len(arrays)}")
    while len(arrays) > 2:
        rest = set("".join(inputs[2:])) | set(out)
        keep = "".join(c for c in dict.fromkeys(inputs[0] + inputs[1]) if c in rest)
        arrays = [Array(_core.einsum(f"{inputs[0]},{inputs[1]}->{keep}", [arrays[0]._a, arrays[1]._a])), *arrays[2:]]
        inputs = [keep, *inputs[2:]]
    return Array(_core.einsum(f"{','.join(inputs)}->{out}", [a._a for a in arrays]))


def _expand_ellipsis(spec: str, ndims: list[int]) -> str:
    """`...` in einsum subscripts spelled out with unused letters (the
    broadcast dimensions, aligned from the right as NumPy aligns them)."""
    if "..." not in spec:
        return spec
    left, arrow, out = spec.partition("->")
    inputs = left.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(f"einsum {spec!r} names {len(inputs)} operands, got {len(ndims)}")
    counts = [n - len(term.replace("...", "")) if "..." in term else 0 for term, n in zip(inputs, ndims, strict=True)]
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in spec]
    most = max(counts, default=0)
    letters = "".join(free[:most])
    inputs = [t.replace("...", letters[most - k :]) for t, k in zip(inputs, counts, strict=True)]
    if arrow:
        return ",".join(inputs) + "->" + out.replace("...", letters)
    singles = [c for c in sorted(set("".join(inputs)) - set(letters)) if "".join(inputs).count(c) == 1]
    return ",".join(inputs) + "->" + letters + "".join(singles)


def sliding_window_view(x: Any, window_shape: Any, axis: Any = None, **kwargs: Any) -> Array:
    """NumPy's `sliding_window_view`: windows along `axis` as a new last
    dimension, built from shifted slices (each window element one slice)."""
    a = asarray(x)
    shapes = [window_shape] if isinstance(window_shape, int) else list(window_shape)
    axes = list(range(a.ndim)) if axis is None else [axis] if isinstance(axis, int) else list(axis)
    if len(shapes) != len(axes):
        raise ValueError("sliding_window_view wants a window length per axis")
    for w, ax in zip(shapes, axes, strict=True):
        ax %= a.ndim
        n = a.shape[ax]
        if not 0 <= w <= n:
            raise ValueError(f"window {w} does not fit in axis {ax} of length {n}")
        parts = []
        for k in range(w):
            index = [slice(None)] * a.ndim
            index[ax] = slice(k, n - w + 1 + k)
            parts.append(a[tuple(index)])
        a = stack(parts, axis=-1) if parts else a
    return a


def result_type(*arrays_and_dtypes: Any) -> np.dtype[Any]:
    """NumPy's result type, from the arrays' dtypes (nothing is computed)."""
    return np.result_type(*(x.dtype if isinstance(x, Array) else x for x in arrays_and_dtypes))


def pad(array: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0, **kwargs: Any) -> Array:
    """Padded with a constant on each side of each axis (mode "constant"),
    as blocks of the constant joined to the array."""
    if mode != "constant":
        raise NotImplementedError(f"pad mode {mode!r}: blockwork pads with a constant only")
    x = asarray(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (x.ndim, 2))
    values = np.broadcast_to(np.asarray(constant_values, dtype=object), (x.ndim, 2))
    for axis, ((before, after), (v_before, v_after)) in enumerate(zip(widths, values, strict=True)):
        parts = []
        for width, value in ((before, v_before), (after, v_after)):
            shape = list(x.shape)
            shape[axis] = int(width)
            parts.append(full(tuple(shape), value, dtype=x.dtype, chunks=_side_chunks(x, axis)) if width else None)
        joined = [p for p in (parts[0], x, parts[1]) if p is not None]
        x = concatenate(joined, axis=axis) if len(joined) > 1 else x
    return x


def _side_chunks(x: Array, axis: int) -> tuple[Any, ...]:
    return tuple(-1 if i == axis else c for i, c in enumerate(x.chunks))


ARRAY_FUNCTIONS: dict[Any, Any] = {
    getattr(np, name): globals()[name]
    for name in (
        "sum", "prod", "mean", "var", "std", "min", "max", "nansum", "nanprod", "nanmean", "nanvar", "nanstd",
        "nanmin", "nanmax", "argmin", "argmax", "any", "all", "amin", "amax", "cumsum", "cumprod", "where",
        "concatenate", "stack", "dot", "matmul", "transpose", "swapaxes", "reshape", "ravel", "squeeze",
        "expand_dims", "broadcast_to", "clip", "round", "around", "take", "compress", "isnan",
        "ones_like", "zeros_like", "full_like", "empty_like", "nancumsum", "nancumprod", "result_type", "pad", "einsum",
        "real", "imag", "angle",
    )
    if hasattr(np, name)
}  # fmt: skip
ARRAY_FUNCTIONS[np.lib.stride_tricks.sliding_window_view] = sliding_window_view
