"""Shared strategies (random shapes, chunkings and arrays) and helpers."""

from __future__ import annotations

import itertools
import subprocess
import sys
from typing import Any

import numpy as np
from hypothesis import strategies as st


@st.composite
def shapes_and_chunks(draw: Any, min_dims: int = 1, max_dims: int = 3, max_side: int = 12) -> Any:
    """A shape and a chunking of it: a block length per axis or explicit block lengths."""
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims)))
    chunks = []
    for n in shape:
        if draw(st.booleans()):
            chunks.append(draw(st.integers(1, n)))
        else:
            cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=3))) if n > 1 else []
            edges = [0, *cuts, n]
            chunks.append(tuple(b - a for a, b in itertools.pairwise(edges)))
    return shape, tuple(chunks)


def numpy_array(draw: Any, shape: tuple[int, ...], dtype: str = "float64") -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith("int") or dtype.startswith("uint"):
        return rng.integers(1, 50, shape).astype(dtype)
    return (rng.random(shape) * 10 - 5).astype(dtype)


def run_interrupted(code: str) -> str:
    """Runs `code` in a fresh interpreter; it prints "interrupted SECONDS"
    (or "finished SECONDS"), then one more line. Checks the run was
    interrupted within 5 s and returns that next line."""
    # A shell runs background jobs with SIGINT ignored, and Python then keeps
    # it ignored: the child restores Python's own handler first.
    prelude = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
    out = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.split("\n")[:2]
    word, seconds = first.split()
    assert word == "interrupted", out.stdout
    assert float(seconds) < 5.0, out.stdout
    return second
