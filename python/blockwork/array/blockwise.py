"""`blockwise` and `map_blocks` over several arrays, with Python functions.

Both become the engine's `blockwise_named` tasks: each output block's task
gets the operands' blocks aligned by index letters (blocks of contracted
letters concatenated, or as nested lists), so the same graph runs on local
threads and on a cluster's Python workers.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from blockwork import _core
from blockwork._names import funcname as _funcname
from blockwork.array.core import Array, engine_dtype

_LETTERS = string.ascii_letters


def _label(func: Callable[..., Any], name: str | None) -> str:
    return name or _funcname(func)


def _call_with_constants(
    func: Callable[..., Any], template: Sequence[Any], slots: Sequence[int], kwargs: dict[str, Any], *arrays: Any
) -> Any:
    """`func` called with `template`, whose positions `slots` take the blocks."""
    args = list(template)
    for i, a in zip(slots, arrays, strict=True):
        args[i] = a
    return func(*args, **kwargs)


def _infer_dtype(func: Callable[..., Any], samples: list[Any]) -> np.dtype[Any]:
    out = func(*samples)
    return np.asarray(out).dtype


def blockwise(
    func: Callable[..., Any],
    out_ind: Sequence[Hashable],
    *args: Any,
    name: str | None = None,
    dtype: Any = None,
    concatenate: bool | None = None,
    adjust_chunks: Any = None,
    new_axes: Any = None,
    **kwargs: Any,
) -> Array:
    """`func` over blocks aligned by index, as `dask.array.blockwise`.

    `args` are pairs `(array, index)` (an index per axis) or `(value, None)`
    for a constant passed to every call. An index of the inputs missing
    from `out_ind` is contracted: with `concatenate=True` the blocks along
    it are passed concatenated, otherwise as a list. `dtype` is inferred by
    calling `func` on small arrays when not given.
    """
    if adjust_chunks is not None or new_axes is not None:
        raise ValueError("blockwise: adjust_chunks and new_axes are not taken; every output index must be an input's")
    if len(args) % 2:
        raise TypeError("blockwise takes its inputs as pairs: array, index (or value, None)")
    symbols: dict[Hashable, str] = {}

    def letters(ind: Sequence[Hashable]) -> str:
        for s in ind:
            if s not in symbols:
                if len(symbols) == len(_LETTERS):
                    raise ValueError("blockwise: too many distinct indices")
                symbols[s] = _LETTERS[len(symbols)]
        return "".join(symbols[s] for s in ind)

    out_letters = letters(tuple(out_ind))
    operands: list[tuple[Any, str]] = []
    template: list[Any] = []
    slots: list[int] = []
    samples: list[Any] = []
    for i in range(0, len(args), 2):
        value, ind = args[i], args[i + 1]
        if ind is None:
            template.append(value)
            continue
        if not isinstance(value, Array):
            raise TypeError(f"blockwise: an input with an index must be a blockwork array, got {type(value).__name__}")
        idx = tuple(ind)
        if len(idx) != value.ndim:
            raise ValueError(f"blockwise: index {idx!r} for an array of {value.ndim} dimensions")
        slots.append(len(template))
        template.append(None)
        operands.append((value._a, letters(idx)))
        samples.append(np.ones((1,) * value.ndim, dtype=value.dtype))
    if not operands:
        raise ValueError("blockwise needs at least one array input")
    f = functools.partial(_call_with_constants, func, template, slots, kwargs)
    if dtype is None:
        dtype = _infer_dtype(f, samples)
    label = _label(func, name)
    return Array(_core.blockwise_arrays(f, out_letters, operands, engine_dtype(dtype), label, bool(concatenate)))


def map_blocks_many(
    func: Callable[..., Any],
    args: Sequence[Any],
    dtype: Any,
    name: str | None,
    kwargs: dict[str, Any],
) -> Array:
    """`map_blocks` over several arrays: their blocks line up by position
    (trailing axes aligned, as NumPy broadcasts); an axis of length 1
    against a longer one is passed whole and broadcast by NumPy."""
    arrays = [a for a in args if isinstance(a, Array)]
    ndim = max(a.ndim for a in arrays)
    lengths = [
        max((a.shape[a.ndim - ndim + ax] for a in arrays if a.ndim - ndim + ax >= 0), default=1) for ax in range(ndim)
    ]
    out = tuple(range(ndim))
    pairs: list[Any] = []
    extra = ndim
    for a in args:
        if not isinstance(a, Array):
            pairs += [a, None]
            continue
        ind: list[int] = []
        for ax in range(a.ndim):
            pos = ndim - a.ndim + ax
            if a.shape[ax] == lengths[pos]:
                ind.append(pos)
            elif a.shape[ax] == 1:
                ind.append(extra)  # its own index: passed whole, NumPy broadcasts it
                extra += 1
            else:
                raise ValueError(
                    f"map_blocks: shapes {[x.shape for x in arrays]} do not broadcast (axis {ax} of {a.shape})"
                )
        pairs += [a, tuple(ind)]
    if dtype is None:
        samples = [np.ones((1,) * a.ndim, dtype=a.dtype) if isinstance(a, Array) else a for a in args]
        dtype = np.asarray(func(*samples, **kwargs)).dtype
    return blockwise(func, out, *pairs, name=_label(func, name), dtype=dtype, concatenate=True, **kwargs)
