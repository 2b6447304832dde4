"""Sums and means over a gathered axis, read run by run.

`x.take(indices, axis)` (and integer or boolean indexing) copies the rows
it selects into new blocks. A sum or mean over that same axis does not
need the copy: the selected rows are a few contiguous runs of the
source (a season's days are three months of each year), and the result is
the sum of each run's reduction. xarray's group-by selects every group
this way and then reduces it, so this is what turns `groupby(...).mean()`
into reads of each block once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from blockwork.array.core import Array

# More runs than this and the gather is cheaper than the graph of runs.
MAX_RUNS = 512


def _runs(indices: np.ndarray) -> list[tuple[int, int]] | None:
    """Sorted, distinct indices as `[start, stop)` runs (None if any repeats)."""
    order = np.sort(indices)
    if order.size and np.any(order[1:] == order[:-1]):
        return None
    cuts = np.flatnonzero(np.diff(order) != 1) + 1
    starts = np.concatenate([[0], cuts]).astype(int)
    stops = np.concatenate([cuts, [order.size]]).astype(int)
    return [(int(order[a]), int(order[b - 1]) + 1) for a, b in zip(starts, stops, strict=True)]


def reduce_runs(x: Array, name: str, axes: Any, keepdims: bool) -> Array | None:
    """`x.<name>(axis=axes)` from the runs of its source, or None when the
    reduction does not cover the gathered axis (or the runs do not pay)."""
    from blockwork.array.routines import isnan, stack

    source, axis, indices = x._gathered
    reduced = tuple(range(x.ndim)) if axes is None else tuple(a % x.ndim for a in axes)
    if axis not in reduced or indices.size == 0:
        return None
    runs = _runs(np.asarray(indices))
    if runs is None or len(runs) > MAX_RUNS:
        return None

    def part(a: int, b: int) -> Array:
        index = [slice(None)] * source.ndim
        index[axis] = slice(a, b)
        return source[tuple(index)]

    def total(parts: list[Array]) -> Array:
        return parts[0] if len(parts) == 1 else stack(parts).sum(axis=0)

    skip_nan = name.startswith("nan") and x.dtype.kind == "f"
    pieces = [part(a, b) for a, b in runs]
    kernel = "nansum" if skip_nan else "sum"
    sums = total([p._reduce(kernel, reduced, None, keepdims) for p in pieces])
    if name in ("sum", "nansum"):
        return sums
    counts: Any = int(np.prod([x.shape[a] for a in reduced]))
    if skip_nan:
        # Present values: all of them less the NaNs (a sum of booleans).
        counts = counts - total([isnan(p).sum(axis=reduced, keepdims=keepdims) for p in pieces])
    mean = sums / counts
    return mean.astype(x.dtype) if x.dtype.kind == "f" else mean
