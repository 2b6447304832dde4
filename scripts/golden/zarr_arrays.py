#!/usr/bin/env python3
"""Golden plain Zarr arrays (no xarray conventions) for `open_zarr_array`,
written by zarr-python and Dask as `da.to_zarr` writes them.

Writes crates/labeled/tests/fixtures/plain/:
  v2.zarr     root array, Zarr v2, int32 x[i, j] = 100 i + j, shape (7, 5), chunks (3, 2)
  v3.zarr     root array, Zarr v3, float32 x[i, j] = i + j / 10, shape (6, 4), chunks (4, 3)
  group.zarr  group (v2) with arrays `temp` (float64 x[i] = i / 4, shape 9, chunks 4)
              and `mask` (bool, x[i] = i % 3 == 0, shape 9, chunks 5)

Run with the reference environment:
    /tmp/ref/venv/bin/python scripts/golden/zarr_arrays.py
"""

from __future__ import annotations

import shutil
from pathlib import Path

import dask.array as da
import numpy as np
import zarr

OUT = Path(__file__).resolve().parents[2] / "crates" / "labeled" / "tests" / "fixtures" / "plain"


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    i, j = np.indices((7, 5))
    x2 = (100 * i + j).astype("int32")
    da.from_array(x2, chunks=(3, 2)).to_zarr(zarr.open_array(OUT / "v2.zarr", mode="w", shape=x2.shape,
                                                                chunks=(3, 2), dtype="int32", zarr_format=2))
    i, j = np.indices((6, 4))
    x3 = (i + j / 10).astype("float32")
    da.from_array(x3, chunks=(4, 3)).to_zarr(str(OUT / "v3.zarr"))
    g = zarr.open_group(OUT / "group.zarr", mode="w", zarr_format=2)
    t = g.create_array("temp", shape=(9,), chunks=(4,), dtype="float64")
    t[:] = np.arange(9) / 4
    m = g.create_array("mask", shape=(9,), chunks=(5,), dtype="bool")
    m[:] = np.arange(9) % 3 == 0
    print("wrote", OUT)


if __name__ == "__main__":
    main()
