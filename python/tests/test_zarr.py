"""from_zarr / to_zarr: plain Zarr arrays, against NumPy and stores zarr-python and Dask wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import blockwork.array as da

PLAIN = Path(__file__).resolve().parents[2] / "crates" / "labeled" / "tests" / "fixtures" / "plain"


def test_reads_stores_zarr_python_and_dask_wrote() -> None:
    x = da.from_zarr(PLAIN / "v2.zarr")
    i, j = np.indices((7, 5))
    assert x.dtype == np.int32 and x.chunks == ((3, 3, 1), (2, 2, 1))
    np.testing.assert_array_equal(x.compute(), 100 * i + j)
    y = da.from_zarr(str(PLAIN / "v3.zarr"), chunks=2)
    i, j = np.indices((6, 4))
    assert y.dtype == np.float32 and y.chunks == ((2, 2, 2), (2, 2))
    np.testing.assert_array_equal(y.compute(), (i + j / 10).astype("float32"))
    np.testing.assert_array_equal(da.from_zarr(PLAIN / "group.zarr", "temp").compute(), np.arange(9) / 4)
    mask = da.from_zarr(PLAIN / "group.zarr", component="mask", chunks="auto")
    np.testing.assert_array_equal(mask.compute(), np.arange(9) % 3 == 0)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_round_trip(tmp_path: Path, zarr_format: int) -> None:
    a = np.random.default_rng(zarr_format).random((23, 11))
    x = da.from_array(a, chunks=(5, 4)) * 2
    x.to_zarr(str(tmp_path / "x.zarr"), zarr_format=zarr_format)
    back = da.from_zarr(tmp_path / "x.zarr")
    assert back.chunks == x.chunks
    np.testing.assert_array_equal(back.compute(), a * 2)
    da.to_zarr(da.from_array(a > 0.5, chunks=7), tmp_path / "m.zarr", zarr_format=zarr_format)
    np.testing.assert_array_equal(da.from_zarr(tmp_path / "m.zarr").compute(), a > 0.5)
    with pytest.raises(OSError, match="already exists"):
        x.to_zarr(str(tmp_path / "x.zarr"))


def test_errors_name_the_store(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere\.zarr"):
        da.from_zarr(tmp_path / "nowhere.zarr")
    # A directory that is there but holds no store is not a missing file.
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(OSError, match="not a Zarr store") as empty:
        da.from_zarr(tmp_path / "empty.zarr")
    assert not isinstance(empty.value, FileNotFoundError)
    with pytest.raises(OSError, match="component"):
        da.from_zarr(PLAIN / "group.zarr")
    with pytest.raises(OSError, match="no array `nope`"):
        da.from_zarr(PLAIN / "group.zarr", "nope")
    with pytest.raises(ValueError, match="zarr_format"):
        da.ones(3, chunks=2).to_zarr(str(tmp_path / "y.zarr"), zarr_format=4)
