"""Indexing: basic (ints, slices, None, Ellipsis), one integer or boolean
vector per index, and boolean masks of the array's shape."""

from __future__ import annotations

from typing import Any

import numpy as np

from blockwork import config
from blockwork.array.core import Array, asarray


def _basic_entry(k: Any, n: int) -> tuple[int, int, int] | int:
    """A slice or int for the engine: slices clipped, negative steps as the
    engine reads them (a range taken from its end)."""
    if isinstance(k, slice):
        start, stop, step = k.indices(n)
        if step > 0:
            return (start, max(stop, start), step)
        count = len(range(start, stop, step))
        if count == 0:
            return (0, 0, 1)
        return (start + (count - 1) * step, start + 1, step)
    i = int(k)
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of bounds for axis with size {n}")
    return i + n if i < 0 else i


def _is_vector(k: Any) -> bool:
    return isinstance(k, (list, np.ndarray, Array)) and not (isinstance(k, np.ndarray) and k.ndim == 0)


def getitem(x: Array, key: Any) -> Array:
    """`x[key]`."""
    if not isinstance(key, tuple):
        key = (key,)
    key = tuple(k.item() if isinstance(k, np.generic) else k for k in key)
    # A boolean mask of the array's whole shape: the selected elements.
    if len(key) == 1 and _is_vector(key[0]):
        k = key[0]
        m = k if isinstance(k, Array) else np.asarray(k)
        # A 1-d NumPy mask on a 1-d array is a vector (its length is known).
        if m.dtype == bool and m.ndim == x.ndim and (m.ndim > 1 or isinstance(m, Array)):
            mask = m if isinstance(m, Array) else asarray(m, chunks=x.chunks)
            return Array(x._a.mask_select(mask._a, config.scheduler()))
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    if consumed > x.ndim:
        raise IndexError(f"too many indices: {consumed} for an array of {x.ndim} dimensions")
    ellipsis = [i for i, k in enumerate(key) if k is Ellipsis]
    if ellipsis:
        i = ellipsis[0]
        key = key[:i] + (slice(None),) * (x.ndim - consumed) + key[i + 1 :]
    key = key + (slice(None),) * (x.ndim - sum(1 for k in key if k is not None))
    vectors = [i for i, k in enumerate(key) if _is_vector(k)]
    if len(vectors) > 1:
        raise IndexError("only one integer or boolean vector per index is supported (as in dask.array)")
    basic: list[Any] = []
    axis = 0
    out_axis = None
    for i, k in enumerate(key):
        if k is None:
            basic.append(None)
            continue
        n = x.shape[axis]
        if i in vectors:
            out_axis = sum(1 for e in basic if not isinstance(e, int))
            basic.append((0, n, 1))
        elif isinstance(k, (slice, int, np.integer)):
            basic.append(_basic_entry(k, n))
        else:
            raise IndexError(f"unsupported index {k!r}: use ints, slices, None, ..., or one int/bool vector")
        axis += 1
    out = Array(x._a.getitem(basic))
    if out_axis is None:
        return out
    v = key[vectors[0]]
    if isinstance(v, Array):
        v = v.compute()
    v = np.asarray(v)
    if v.ndim != 1:
        raise IndexError("an index vector must be one-dimensional")
    if v.dtype == bool:
        n = out.shape[out_axis]
        if len(v) != n:
            raise IndexError(f"boolean index of length {len(v)} for an axis of length {n}")
        kept = np.flatnonzero(v)
        return Array(out._a.compress([bool(b) for b in v], out_axis), gathered=(out, out_axis, kept))
    if v.size and v.dtype.kind not in "iu":
        raise IndexError(f"index arrays must hold integers or booleans, not {v.dtype}")
    n = out.shape[out_axis]
    positions = np.where(v < 0, v + n, v)
    return Array(out._a.take([int(i) for i in v], out_axis), gathered=(out, out_axis, positions))
