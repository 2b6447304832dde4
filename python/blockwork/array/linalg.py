"""Linear algebra on chunked arrays, as `dask.array.linalg`.

    import blockwork.array as da
    x = da.random.random((2_000_000, 100), chunks=(100_000, 100))
    u, s, v = da.linalg.svd(x)              # exact, by TSQR: v is V transposed
    u, s, v = da.linalg.svd_compressed(y, k=10, n_power_iter=2, seed=0)

QR and SVD of tall-and-skinny arrays (one block along the columns) run
TSQR: every row block is factored in parallel and only the small factors
meet in one task. Short-and-fat arrays go through their transpose. An
array chunked along both axes is factored in one task when it fits in one
automatic block (128 MiB) and refused otherwise, with the way out:
`svd_compressed` (a randomized SVD of the leading `k` triplets, any
chunking) or a rechunk. float32 arrays factor in float32, every other type
in float64, as NumPy's.

Square matrices are factored by blocks (their chunks along both axes made
the same): `cholesky`, `lu` (pivoting within each diagonal block, as
Dask's), `solve_triangular` by block substitution; `solve`, `inv` and
`lstsq` are built on them and on `qr`. A matrix that is not positive
definite, or singular, is an error when computed that says so.
"""

from __future__ import annotations

import random as _pyrandom
from typing import Any

import numpy as np

from blockwork.array.core import Array, asarray

__all__ = [
    "cholesky", "inv", "lstsq", "lu", "norm", "qr", "solve", "solve_triangular", "svd", "svd_compressed", "tsqr",
]  # fmt: skip


def _matrix(a: Any, what: str) -> Array:
    x = asarray(a)
    if x.ndim != 2:
        raise ValueError(f"{what} needs a 2-d array, got shape {x.shape}")
    return x


def tsqr(data: Any, compute_svd: bool = False, _max_vchunk_size: Any = None) -> tuple[Array, ...]:
    """The QR decomposition of a tall-and-skinny array (one block along the
    columns) by TSQR: `(q, r)`, or `(u, s, v)` with `compute_svd=True`."""
    x = _matrix(data, "tsqr")
    if compute_svd:
        if len(x.chunks[1]) > 1:
            raise ValueError(
                f"tsqr needs one block along the columns (a tall-and-skinny array), got column chunks "
                f"{x.chunks[1]}: rechunk it with {{1: -1}} first"
            )
        return tuple(Array(f) for f in x._a.decompose("svd"))
    return tuple(Array(f) for f in x._a.decompose("tsqr"))


def qr(a: Any) -> tuple[Array, Array]:
    """`q, r` with `a = q @ r` (NumPy's reduced mode): TSQR for one block
    along the columns; for one block along the rows, `q` from the first
    column block (at least as wide as the rows) and `r` block by block."""
    q, r = _matrix(a, "qr")._a.decompose("qr")
    return Array(q), Array(r)


def _flip(u: Array, s: Array, v: Array) -> tuple[Array, Array, Array]:
    # Deterministic signs, as dask's svd_flip: each singular pair is turned
    # so that the row of v sums to a non-negative value.
    signs = (v.sum(axis=1) >= 0).astype(v.dtype) * 2 - 1
    return u * signs[None, :], s, v * signs[:, None]


def svd(a: Any, coerce_signs: bool = True) -> tuple[Array, Array, Array]:
    """The reduced SVD `u, s, v` with `a = u @ diag(s) @ v` (`v` is V
    transposed, as dask's and NumPy's): exact, by TSQR."""
    u, s, v = (Array(f) for f in _matrix(a, "svd")._a.decompose("svd"))
    return _flip(u, s, v) if coerce_signs else (u, s, v)


def svd_compressed(
    a: Any,
    k: int,
    iterator: str = "power",
    n_power_iter: int = 0,
    n_oversamples: int = 10,
    seed: int | np.random.Generator | None = None,
    compute: bool = False,
    coerce_signs: bool = True,
) -> tuple[Array, Array, Array]:
    """The leading `k` singular triplets `u, s, v` of `a`, approximated by a
    randomized SVD (Halko, Martinsson and Tropp): its range sampled with
    `k + n_oversamples` random normal vectors drawn from `seed`, sharpened
    by `n_power_iter` power iterations. Any chunking works."""
    if iterator != "power":
        raise ValueError(f"iterator {iterator!r} is not supported: use 'power'")
    x = _matrix(a, "svd_compressed")
    if seed is None:
        seed = _pyrandom.randrange(2**63)
    elif isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**63))
    u, s, v = (
        Array(f)
        for f in x._a.decompose(
            "svd_compressed", k=int(k), power_iters=int(n_power_iter), oversamples=int(n_oversamples), seed=int(seed)
        )
    )
    if coerce_signs:
        u, s, v = _flip(u, s, v)
    if compute:
        u, s, v = u.persist(), s.persist(), v.persist()
    return u, s, v


def _axes(x: Array, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = tuple(int(a) + x.ndim if int(a) < 0 else int(a) for a in axes)
    if any(not 0 <= a < x.ndim for a in out) or len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} is invalid for an array of {x.ndim} dimensions")
    return out


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Array:
    """A vector or matrix norm, as `numpy.linalg.norm`: over all elements
    (2-norm of the flattened array) when `ord` and `axis` are None; a
    vector norm over one axis (`ord`: any number, inf, -inf, 0); a matrix
    norm over two (`ord`: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2)."""
    a = asarray(x)
    if a.dtype.kind in "biu":
        a = a.astype("float64")
    if ord is None and axis is None:
        out = np.sqrt((abs(a) ** 2).sum())
        return out.reshape((1,) * a.ndim) if keepdims else out
    axes = _axes(a, axis)
    if len(axes) == 1:
        out = _vector_norm(a, ord, axes[0])
    elif len(axes) == 2:
        out = _matrix_norm(a, ord, axes)
    else:
        raise ValueError(f"improper number of dimensions to norm: {len(axes)}")
    if keepdims:
        shape = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
        out = out.reshape(shape)
    return out


def _vector_norm(a: Array, ord: Any, axis: int) -> Array:
    mag = abs(a)
    if ord is None or ord == 2:
        return np.sqrt((mag**2).sum(axis=axis))
    if ord == np.inf:
        return mag.max(axis=axis)
    if ord == -np.inf:
        return mag.min(axis=axis)
    if ord == 0:
        return (a != 0).astype(a.dtype).sum(axis=axis)
    if ord == 1:
        return mag.sum(axis=axis)
    if isinstance(ord, str):
        raise ValueError(f"invalid norm order {ord!r} for vectors")
    return (mag ** float(ord)).sum(axis=axis) ** (1.0 / float(ord))


def _matrix_norm(a: Array, ord: Any, axes: tuple[int, ...]) -> Array:
    row, col = axes
    if ord is None or ord == "fro":
        return np.sqrt((abs(a) ** 2).sum(axis=axes))
    if ord in (2, -2, "nuc"):
        if a.ndim != 2:
            raise NotImplementedError(
                f"the {ord!r} matrix norm is computed for 2-d arrays only, got {a.ndim} dimensions"
            )
        m = a if axes == (0, 1) else a.T
        _, s, _ = svd(m, coerce_signs=False)
        return s.max() if ord == 2 else s.min() if ord == -2 else s.sum()
    # Column sums (ord ±1) reduce the rows first; row sums (ord ±inf) the columns.
    if ord in (1, -1):
        sums = abs(a).sum(axis=row)
        return (
            sums.max(axis=col - 1 if col > row else col) if ord == 1 else sums.min(axis=col - 1 if col > row else col)
        )
    if ord in (np.inf, -np.inf):
        sums = abs(a).sum(axis=col)
        at = row - 1 if row > col else row
        return sums.max(axis=at) if ord == np.inf else sums.min(axis=at)
    raise ValueError(f"invalid norm order {ord!r} for matrices")


def cholesky(a: Any, lower: bool = False) -> Array:
    """The Cholesky factor of a symmetric positive definite matrix: upper
    `U` with `a = U.T @ U`, or lower `L` with `a = L @ L.T` (`lower=True`)."""
    (factor,) = _matrix(a, "cholesky")._a.decompose("cholesky")
    low = Array(factor)
    return low if lower else low.T


def lu(a: Any) -> tuple[Array, Array, Array]:
    """`p, l, u` with `a = p @ l @ u`: `p` a permutation within each
    diagonal block (as Dask's), `l` unit lower and `u` upper triangular."""
    p, low, up = _matrix(a, "lu")._a.decompose("lu")
    return Array(p), Array(low), Array(up)


def solve_triangular(a: Any, b: Any, lower: bool = False) -> Array:
    """`x` with `a @ x = b`, `a` a square triangular matrix (upper unless
    `lower`), `b` a vector or a matrix with as many rows."""
    return Array(_matrix(a, "solve_triangular")._a.solve_triangular(asarray(b)._a, bool(lower)))


def solve(a: Any, b: Any, sym_pos: bool | None = None, assume_a: str = "gen") -> Array:
    """`x` with `a @ x = b`, `a` square: by LU, or by Cholesky when `a` is
    symmetric positive definite (`assume_a="pos"`, or `sym_pos=True`)."""
    a_ = _matrix(a, "solve")
    b_ = asarray(b)
    if sym_pos or assume_a == "pos":
        low = cholesky(a_, lower=True)
        return solve_triangular(low.T, solve_triangular(low, b_, lower=True), lower=False)
    if assume_a != "gen":
        raise ValueError(f"assume_a={assume_a!r} is not supported: use 'gen' or 'pos'")
    p, low, up = lu(a_)
    return solve_triangular(up, solve_triangular(low, _times(p.T, b_), lower=True), lower=False)


def _times(m: Array, v: Array) -> Array:
    """`m @ v` for a matrix or a vector `v`."""
    if v.ndim == 1:
        return (m @ v.reshape((v.shape[0], 1))).reshape((m.shape[0],))
    return m @ v


def inv(a: Any) -> Array:
    """The inverse of a square matrix (by `solve` against the identity)."""
    a_ = _matrix(a, "inv")
    from blockwork.array.routines import eye

    return solve(a_, eye(a_.shape[0], chunks=a_.chunks[0][0], dtype=a_.dtype))


def lstsq(a: Any, b: Any) -> tuple[Array, Array, Array, Array]:
    """The least-squares solution of `a @ x = b` for a tall-and-skinny `a`
    (one block along its columns), by QR: `x`, the residuals (sums of
    squares per column of `b`), the rank of `a` and its singular values."""
    a_ = _matrix(a, "lstsq")
    b_ = asarray(b)
    q, r = qr(a_)
    x = solve_triangular(r, _times(q.T, b_), lower=False)
    residuals = ((_times(a_, x) - b_) ** 2).sum(axis=0)
    if b_.ndim == 1:
        residuals = residuals.reshape((1,))
    _, s, _ = svd(r, coerce_signs=False)
    tol = s.max() * max(a_.shape) * np.finfo(s.dtype).eps
    rank = (s > tol).sum()
    return x, residuals, rank, s
