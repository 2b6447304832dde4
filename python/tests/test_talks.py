"""The array code of the talks, with `import blockwork.array as da`, equals NumPy."""

from __future__ import annotations

import numpy as np

import blockwork.array as da


def test_ones_dot_std() -> None:
    x = da.ones((15, 15), chunks=(5, 5))
    assert x.chunks == ((5, 5, 5), (5, 5, 5))
    n = np.ones((15, 15))
    result = (x.dot(x.T + 1) - x.mean()).std().compute()
    np.testing.assert_allclose(result, (n.dot(n.T + 1) - n.mean()).std())


def test_random_xxt() -> None:
    x = da.random.random((2000, 2000), chunks=(500, 500))
    X = x.compute()
    y = (x + x.T) - x.mean(axis=0)
    np.testing.assert_allclose(y.compute(), (X + X.T) - X.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.sum(axis=0).compute(), X.sum(axis=0), rtol=1e-12)


def test_same_seed_same_numbers() -> None:
    a = da.random.default_rng(42).random((100, 100), chunks=30).compute()
    b = da.random.default_rng(42).random((100, 100), chunks=30).compute()
    np.testing.assert_array_equal(a, b)
    assert 0 <= a.min() and a.max() < 1
