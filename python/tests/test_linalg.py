"""blockwork.array.linalg against NumPy on random shapes and chunkings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import blockwork.array as da


def _chunks(n: int, data: st.DataObject) -> tuple[int, ...]:
    out: list[int] = []
    while sum(out) < n:
        out.append(min(data.draw(st.integers(1, max(1, n // 2 + 1))), n - sum(out)))
    return tuple(out)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 60), st.integers(1, 12), st.data())
def test_qr_of_tall_arrays(m: int, n: int, data: st.DataObject) -> None:
    a = np.random.default_rng(m * 100 + n).standard_normal((m, n))
    x = da.from_array(a, chunks=(_chunks(m, data), n))
    q, r = da.linalg.qr(x)
    qn, rn = q.compute(), r.compute()
    k = min(m, n)
    assert qn.shape == (m, k) and rn.shape == (k, n)
    np.testing.assert_allclose(qn @ rn, a, atol=1e-10)
    np.testing.assert_allclose(qn.T @ qn, np.eye(k), atol=1e-10)
    np.testing.assert_allclose(np.triu(rn), rn, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from(["rows", "cols", "both"]), st.data())
def test_svd_equals_numpy(m: int, n: int, layout: str, data: st.DataObject) -> None:
    a = np.random.default_rng(m * 100 + n).standard_normal((m, n))
    rows = _chunks(m, data) if layout != "cols" else (m,)
    cols = _chunks(n, data) if layout != "rows" else (n,)
    u, s, v = da.linalg.svd(da.from_array(a, chunks=(rows, cols)))
    un, sn, vn = u.compute(), s.compute(), v.compute()
    np.testing.assert_allclose(sn, np.linalg.svd(a, compute_uv=False), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose((un * sn) @ vn, a, atol=1e-9)
    np.testing.assert_allclose(un.T @ un, np.eye(min(m, n)), atol=1e-9)
    # Signs are deterministic: each row of v sums to a non-negative value.
    assert (vn.sum(axis=1) >= -1e-12).all()


def test_the_talks_svd_line() -> None:
    x = da.random.random((300, 200), chunks=(100, 100))
    u, s, v = da.linalg.svd(x.dot(x.T))  # chunked both ways, small enough for one task
    xn = x.compute()
    np.testing.assert_allclose(s.compute(), np.linalg.svd(xn @ xn.T, compute_uv=False), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose((u.compute() * s.compute()) @ v.compute(), xn @ xn.T, atol=1e-8)


def test_svd_compressed_of_a_low_rank_array() -> None:
    rng = np.random.default_rng(3)
    a = rng.standard_normal((120, 4)) @ rng.standard_normal((4, 90))
    x = da.from_array(a, chunks=(30, 30))
    u, s, v = da.linalg.svd_compressed(x, k=4, n_power_iter=2, seed=5)
    assert (u.shape, s.shape, v.shape) == ((120, 4), (4,), (4, 90))
    np.testing.assert_allclose(s.compute(), np.linalg.svd(a, compute_uv=False)[:4], rtol=1e-8)
    np.testing.assert_allclose((u.compute() * s.compute()) @ v.compute(), a, atol=1e-8)
    again = da.linalg.svd_compressed(x, k=4, n_power_iter=2, seed=5)[1].compute()
    np.testing.assert_array_equal(again, s.compute())


def test_float32_stays_float32_and_ints_become_float64() -> None:
    a = np.arange(24, dtype=np.float32).reshape(8, 3) ** 1.5
    q, r = da.linalg.qr(da.from_array(a, chunks=(4, 3)))
    assert q.dtype == np.float32 and r.dtype == np.float32
    np.testing.assert_allclose(q.compute() @ r.compute(), a, rtol=1e-4, atol=1e-4)
    q, _ = da.linalg.qr(da.from_array(np.arange(24).reshape(8, 3), chunks=(4, 3)))
    assert q.dtype == np.float64


def test_errors_name_the_way_out() -> None:
    big = da.ones((6000, 6000), chunks=(1000, 1000))
    with pytest.raises(ValueError, match="svd_compressed"):
        da.linalg.svd(big)
    with pytest.raises(ValueError, match="rechunk"):
        da.linalg.tsqr(big)
    with pytest.raises(ValueError, match="2-d"):
        da.linalg.svd(da.ones((4,), chunks=2))
    with pytest.raises(ValueError, match="k = 0 must be between"):
        da.linalg.svd_compressed(big, k=0)


@pytest.mark.parametrize("ord", [None, "fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2])
def test_matrix_norms(ord: object) -> None:
    a = np.random.default_rng(1).standard_normal((13, 9))
    x = da.from_array(a, chunks=(5, 4))
    np.testing.assert_allclose(
        da.linalg.norm(x, ord=ord, axis=(0, 1)).compute(), np.linalg.norm(a, ord=ord, axis=(0, 1))
    )
    if ord not in ("nuc", 2, -2):
        np.testing.assert_allclose(
            da.linalg.norm(x, ord=ord, axis=(1, 0)).compute(), np.linalg.norm(a, ord=ord, axis=(1, 0))
        )


@pytest.mark.parametrize("ord", [None, 0, 1, 2, 3, 0.5, np.inf, -np.inf])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_vector_norms(ord: object, axis: int) -> None:
    a = np.random.default_rng(2).standard_normal((11, 7))
    a[a < -1] = 0
    x = da.from_array(a, chunks=(4, 3))
    for keepdims in (False, True):
        np.testing.assert_allclose(
            da.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims).compute(),
            np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims),
        )
    np.testing.assert_allclose(da.linalg.norm(x).compute(), np.linalg.norm(a))


def _spd(n: int, seed: int) -> np.ndarray:
    b = np.random.default_rng(seed).standard_normal((n, n))
    return b @ b.T + n * np.eye(n)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 30), st.data())
def test_cholesky_lu_and_solves_equal_numpy(n: int, data: st.DataObject) -> None:
    rows = _chunks(n, data)
    a = _spd(n, n)
    x = da.from_array(a, chunks=(rows, rows))
    upper = da.linalg.cholesky(x).compute()
    np.testing.assert_allclose(upper, np.linalg.cholesky(a).T, atol=1e-10)
    low = da.linalg.cholesky(x, lower=True).compute()
    np.testing.assert_allclose(low @ low.T, a, atol=1e-9)
    p, lo, up = (f.compute() for f in da.linalg.lu(x))
    np.testing.assert_allclose(p @ lo @ up, a, atol=1e-9)
    b = np.random.default_rng(n).standard_normal((n, 3))
    for sym in (False, True):
        got = da.linalg.solve(x, da.from_array(b, chunks=(rows, 2)), assume_a="pos" if sym else "gen").compute()
        np.testing.assert_allclose(got, np.linalg.solve(a, b), atol=1e-9)
    np.testing.assert_allclose(da.linalg.solve(x, b[:, 0]).compute(), np.linalg.solve(a, b[:, 0]), atol=1e-9)
    np.testing.assert_allclose(da.linalg.inv(x).compute(), np.linalg.inv(a), atol=1e-9)
    tri = np.triu(a)
    np.testing.assert_allclose(
        da.linalg.solve_triangular(da.from_array(tri, chunks=(rows, rows)), b).compute(),
        np.linalg.solve(tri, b),
        atol=1e-9,
    )


def test_lstsq_equals_numpy() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((50, 6)), rng.standard_normal(50)
    x, res, rank, s = da.linalg.lstsq(da.from_array(a, chunks=(12, 6)), da.from_array(b, chunks=12))
    ex, eres, erank, es = np.linalg.lstsq(a, b, rcond=None)
    np.testing.assert_allclose(x.compute(), ex, atol=1e-10)
    np.testing.assert_allclose(res.compute(), eres, rtol=1e-9)
    assert int(rank.compute()) == erank
    np.testing.assert_allclose(s.compute(), es, rtol=1e-9)


def test_ill_posed_matrices_say_why() -> None:
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        da.linalg.cholesky(da.from_array(-np.eye(4), chunks=2)).compute()
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        da.linalg.solve(da.zeros((4, 4), chunks=2), np.ones(4)).compute()
    with pytest.raises(ValueError, match="square"):
        da.linalg.cholesky(da.ones((4, 3), chunks=2))
