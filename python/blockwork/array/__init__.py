"""Chunked N-d arrays with dask.array's API: `import blockwork.array as da`.

Element types: float64, float32, int64, int32, uint8, bool, complex128 and
complex64 (narrower NumPy integers and float16 are widened on the way in). Operations are
lazy; `compute()` runs the graph in Rust with the GIL released and
returns a `numpy.ndarray` without copying the result.
"""

from __future__ import annotations

from blockwork.array import fft, linalg, random
from blockwork.array.blockwise import blockwise
from blockwork.array.core import Array, asarray, from_array, map_blocks, map_overlap, normalize_chunks, overlap
from blockwork.array.routines import (
    all,
    amax,
    amin,
    angle,
    any,
    arange,
    argmax,
    argmin,
    around,
    broadcast_to,
    clip,
    compress,
    concatenate,
    cumprod,
    cumsum,
    dot,
    einsum,
    empty,
    empty_like,
    expand_dims,
    eye,
    from_npy,
    from_zarr,
    full,
    full_like,
    imag,
    isnan,
    linspace,
    matmul,
    max,
    mean,
    min,
    nancumprod,
    nancumsum,
    nanmax,
    nanmean,
    nanmin,
    nanprod,
    nanstd,
    nansum,
    nanvar,
    ones,
    ones_like,
    pad,
    prod,
    ravel,
    real,
    reshape,
    result_type,
    round,
    sliding_window_view,
    squeeze,
    stack,
    std,
    sum,
    swapaxes,
    take,
    to_zarr,
    transpose,
    var,
    where,
    zeros,
    zeros_like,
)
from blockwork.array.ufuncs import UFUNCS as _UFUNCS

# NumPy's elementwise functions by name (da.sin, da.exp, da.maximum, …).
globals().update({name: f for name, f in _UFUNCS.items() if name not in globals()})

__all__ = [
    "Array", "asarray", "from_array", "from_npy", "from_zarr", "to_zarr",
    "blockwise", "map_blocks", "map_overlap", "normalize_chunks", "overlap",
    "fft", "linalg", "random",
    "arange", "empty", "empty_like", "eye", "full", "full_like", "linspace", "ones", "ones_like", "zeros",
    "zeros_like",
    "all", "amax", "amin", "any", "argmax", "argmin", "cumprod", "cumsum", "max", "mean", "min", "nanmax",
    "nanmean", "nanmin", "nanprod", "nanstd", "nansum", "nanvar", "nancumsum", "nancumprod", "prod", "std", "sum",
    "var",
    "angle", "imag", "real",
    "around", "broadcast_to", "clip", "compress", "concatenate", "dot", "expand_dims", "isnan", "matmul",
    "einsum", "pad", "ravel", "reshape", "result_type", "round", "sliding_window_view", "squeeze", "stack", "swapaxes",
    "take", "transpose", "where",
    *sorted(_UFUNCS),
]  # fmt: skip
