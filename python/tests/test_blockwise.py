"""blockwise and map_blocks over several arrays, against NumPy on random shapes and chunkings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import blockwork.array as da


@settings(max_examples=25, deadline=None)
@given(
    m=st.integers(1, 13),
    n=st.integers(1, 11),
    cm=st.integers(1, 6),
    cn=st.integers(1, 6),
    cv=st.integers(1, 6),
)
def test_map_blocks_over_several_arrays_matches_numpy(m: int, n: int, cm: int, cn: int, cv: int) -> None:
    rng = np.random.default_rng(m * 100 + n)
    a, b = rng.random((m, n)), rng.integers(0, 9, (m, n)).astype("int32")
    v, row = rng.random(n), rng.random((1, n))
    x, y = da.from_array(a, chunks=(cm, cn)), da.from_array(b, chunks=(cn, cm))
    out = da.map_blocks(
        lambda p, q, r, s, k: p * q + r - s * k,
        x,
        y,
        da.from_array(v, chunks=cv),
        da.from_array(row, chunks=(1, cv)),
        3.0,
    )
    np.testing.assert_allclose(out.compute(), a * b + v - row * 3.0)


@settings(max_examples=20, deadline=None)
@given(m=st.integers(1, 9), k=st.integers(1, 9), n=st.integers(1, 9), c=st.integers(1, 5))
def test_blockwise_contracts_like_a_product(m: int, k: int, n: int, c: int) -> None:
    rng = np.random.default_rng(m + 10 * k + 100 * n)
    a, b = rng.random((m, k)), rng.random((k, n))
    x, y = da.from_array(a, chunks=c), da.from_array(b, chunks=(c + 1, c))
    z = da.blockwise(np.dot, "ik", x, "ij", y, "jk", dtype=float, concatenate=True)
    np.testing.assert_allclose(z.compute(), a @ b)
    # Without concatenate, the contracted blocks arrive as lists.
    w = da.blockwise(
        lambda xs, ys: sum(p @ q for p, q in zip(xs, ys, strict=True)), "ik", x, "ij", y, "jk", dtype=float
    )
    np.testing.assert_allclose(w.compute(), a @ b)


def test_blockwise_constants_kwargs_and_errors() -> None:
    a = np.arange(12.0).reshape(3, 4)
    x = da.from_array(a, chunks=2)
    z = da.blockwise(lambda b, k, scale: b * k * scale, "ij", x, "ij", 2, None, scale=10)
    np.testing.assert_array_equal(z.compute(), a * 20)
    t = da.blockwise(lambda b: b.T, "ji", x, "ij")
    np.testing.assert_array_equal(t.compute(), a.T)
    with pytest.raises(ValueError, match="index"):
        da.blockwise(lambda b: b, "ij", x, "i")
    with pytest.raises(ValueError, match="broadcast"):
        da.map_blocks(np.add, x, da.ones((3, 3), chunks=2))
    with pytest.raises(ValueError, match="several arrays"):
        da.map_blocks(np.add, x, x, drop_axis=0)
    with pytest.raises(ValueError, match="shape"):
        da.map_blocks(lambda p, q: p[:1], x, x).compute()
