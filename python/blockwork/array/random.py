"""Random arrays, as dask.array.random: a counter-based generator, so the
same seed, shape and chunks give the same numbers on any scheduler, and
each block is drawn independently (in parallel, with no state shared)."""

from __future__ import annotations

import random as _pyrandom
from collections.abc import Sequence
from typing import Any

import numpy as np

from blockwork import _core
from blockwork.array.core import Array, engine_dtype, normalize_chunks

_seeds = _pyrandom.Random()


def seed(s: int | None = None) -> None:
    """Seeds the draws of the module-level functions (`random`, `normal`, …)."""
    _seeds.seed(s)


def _shape(size: int | Sequence[int] | None) -> tuple[int, ...]:
    if size is None:
        return ()
    return (int(size),) if isinstance(size, (int, np.integer)) else tuple(int(s) for s in size)


class Generator:
    """Draws arrays from one seed, as `numpy.random.Generator` (`default_rng`)."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = _seeds.getrandbits(63) if seed is None else int(seed) & (2**63 - 1)
        self._draws = 0

    def _next_seed(self) -> int:
        # Each draw of a generator gets its own stream, as NumPy's would.
        s = (self._seed * 6364136223846793005 + self._draws * 1442695040888963407) % 2**63
        self._draws += 1
        return s

    def _draw(
        self, kind: str, a: float, b: float, size: Any, chunks: Any = "auto", dtype: Any = float, **kwargs: Any
    ) -> Array:
        if kwargs:
            raise TypeError(f"{kind}() got unexpected keyword arguments {sorted(kwargs)}; it takes chunks and dtype")
        shape = _shape(size)
        name = engine_dtype(dtype)
        return Array(
            _core.random(kind, a, b, list(shape), self._next_seed(), name, normalize_chunks(chunks, shape, name))
        )

    def random(self, size: Any = None, dtype: Any = float, chunks: Any = "auto") -> Array:
        """Uniform in [0, 1)."""
        return self._draw("uniform", 0.0, 1.0, size, chunks, dtype)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None, **kwargs: Any) -> Array:
        """Uniform in [low, high); `chunks` and `dtype` keywords as for `random`."""
        return self._draw("uniform", float(low), float(high), size, **kwargs)

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: Any = None, **kwargs: Any) -> Array:
        """Normal with mean `loc` and standard deviation `scale`; `chunks` and `dtype` keywords as for `random`."""
        return self._draw("normal", float(loc), float(scale), size, **kwargs)

    def standard_normal(self, size: Any = None, dtype: Any = float, chunks: Any = "auto") -> Array:
        """Normal with mean 0 and standard deviation 1."""
        return self._draw("normal", 0.0, 1.0, size, chunks, dtype)

    def integers(
        self,
        low: int,
        high: int | None = None,
        size: Any = None,
        dtype: Any = np.int64,
        endpoint: bool = False,
        chunks: Any = "auto",
    ) -> Array:
        """Integers in [low, high) (`[low, high]` with `endpoint`); [0, low) without `high`."""
        if high is None:
            low, high = 0, low
        return self._draw("integers", float(low), float(high + (1 if endpoint else 0)), size, chunks, dtype)


def default_rng(seed: int | None = None) -> Generator:
    """A generator seeded by `seed` (fresh entropy when None)."""
    return Generator(seed)


def random(size: Any = None, chunks: Any = "auto", dtype: Any = float) -> Array:
    """Uniform in [0, 1)."""
    return Generator().random(size, dtype, chunks)


random_sample = random


def uniform(low: float = 0.0, high: float = 1.0, size: Any = None, chunks: Any = "auto", **kwargs: Any) -> Array:
    """Uniform in [low, high)."""
    return Generator().uniform(low, high, size, chunks=chunks, **kwargs)


def normal(loc: float = 0.0, scale: float = 1.0, size: Any = None, chunks: Any = "auto", **kwargs: Any) -> Array:
    """Normal with mean `loc` and standard deviation `scale`."""
    return Generator().normal(loc, scale, size, chunks=chunks, **kwargs)


def standard_normal(size: Any = None, chunks: Any = "auto", dtype: Any = float) -> Array:
    """Normal with mean 0 and standard deviation 1."""
    return Generator().standard_normal(size, dtype, chunks)


def randint(low: int, high: int | None = None, size: Any = None, chunks: Any = "auto", dtype: Any = int) -> Array:
    """Integers in [low, high)."""
    return Generator().integers(low, high, size, dtype, chunks=chunks)


integers = randint
