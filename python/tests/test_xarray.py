"""xarray on blockwork arrays (chunked_array_type="blockwork") against
xarray on NumPy: the climate workflow's operations stay lazy and give the
same numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import s3_bucket, s3_put

xr = pytest.importorskip("xarray")

from blockwork.array import Array  # noqa: E402


def climate(days: int = 730, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    time = pd.date_range("2000-01-01", periods=days, freq="D")
    lat = np.linspace(-60, 60, 6)
    lon = np.arange(8) * 45.0
    tas = 280 + 10 * np.cos(np.deg2rad(lat))[None, :, None] + rng.normal(0, 3, (days, lat.size, lon.size))
    tas[rng.random(tas.shape) < 0.01] = np.nan
    return xr.Dataset(
        {"tas": (("time", "lat", "lon"), tas, {"units": "K"})},
        coords={"time": time, "lat": lat, "lon": lon},
    )


OPERATIONS: dict[str, Callable[[Any], Any]] = {
    "mean over time": lambda d: d.tas.mean("time"),
    "sel and mean": lambda d: d.tas.sel(time=slice("2000-03", "2000-11")).mean("time"),
    "anomaly": lambda d: d.tas - d.tas.mean("time"),
    "season means": lambda d: d.tas.groupby("time.season").mean("time"),
    "season anomaly": lambda d: (
        d.tas.sel(time="2001").groupby("time.season").mean("time")
        - d.tas.sel(time="2000").groupby("time.season").mean("time")
    ),
    "month means": lambda d: d.tas.groupby("time.month").mean(),
    "monthly resample": lambda d: d.tas.resample(time="MS").mean(),
    "rolling mean": lambda d: d.tas.rolling(time=5).mean(),
    "centred rolling": lambda d: d.tas.rolling(time=3, center=True).max(),
    "area weighted": lambda d: d.tas.weighted(np.cos(np.deg2rad(d.lat))).mean(("lat", "lon")),
    "where and sum": lambda d: d.tas.where(d.tas > 280).sum("lat"),
    "std": lambda d: d.tas.std("time"),
    "cumsum": lambda d: d.tas.cumsum("time"),
    "shift": lambda d: d.tas.shift(time=2),
    "diff": lambda d: d.tas.diff("time"),
    "isel by list": lambda d: d.tas.isel(lat=[0, 2], time=slice(0, 40)),
    "argmax": lambda d: d.tas.fillna(0).argmax("time"),
    "clip": lambda d: d.tas.clip(275, 285),
    "concat": lambda d: xr.concat([d.tas.isel(time=slice(0, 10)), d.tas.isel(time=slice(10, 20))], "time"),
    "deep copy": lambda d: d.copy(deep=True).tas + 1,
    "where, dropping": lambda d: d.tas.where(d.time.dt.month > 6, drop=True),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_operations_stay_lazy_and_equal_xarray_on_numpy(name: str) -> None:
    ds = climate()
    chunked = ds.chunk({"time": 31}, chunked_array_type="blockwork")
    assert isinstance(chunked.tas.data, Array)
    op = OPERATIONS[name]
    lazy = op(chunked)
    if name != "argmax":
        assert isinstance(lazy.data, Array), f"{name} computed eagerly"
    xr.testing.assert_allclose(lazy.compute(), op(ds), rtol=1e-10)


def test_chunks_rechunk_and_load(tmp_path: Path) -> None:
    ds = climate(days=100)
    chunked = ds.chunk({"time": 30, "lat": 3}, chunked_array_type="blockwork")
    assert chunked.tas.chunks == ((30, 30, 30, 10), (3, 3), (8,))
    with xr.set_options(chunk_manager="blockwork"):
        again = chunked.chunk({"time": 50})
    assert isinstance(again.tas.data, Array)
    assert again.tas.chunks[0] == (50, 50)
    loaded = again.load()
    assert isinstance(loaded.tas.data, np.ndarray)
    xr.testing.assert_identical(loaded, ds)


def test_to_netcdf_and_open_dataset_round_trip(tmp_path: Path) -> None:
    pytest.importorskip("netCDF4")
    ds = climate(days=60)
    path = tmp_path / "tas.nc"
    ds.chunk({"time": 20}, chunked_array_type="blockwork").to_netcdf(path)
    back = xr.open_dataset(path, chunks={"time": 15}, chunked_array_type="blockwork")
    assert isinstance(back.tas.data, Array)
    assert back.tas.chunks[0] == (15, 15, 15, 15)
    xr.testing.assert_allclose(back.compute(), ds)
    anomaly = back.tas - back.tas.mean("time")
    xr.testing.assert_allclose(anomaly.compute(), ds.tas - ds.tas.mean("time"))
    back.close()


def test_apply_ufunc_parallelized_and_map_blocks() -> None:
    ds = climate(days=90)
    chunked = ds.chunk({"time": 30}, chunked_array_type="blockwork")
    doubled = xr.apply_ufunc(lambda x: 2 * x, chunked.tas, dask="parallelized", output_dtypes=[float])
    assert isinstance(doubled.data, Array)
    xr.testing.assert_allclose(doubled.compute(), 2 * ds.tas)
    core = chunked.tas.chunk({"time": -1})
    ranked = xr.apply_ufunc(
        lambda x: np.nanmax(x, axis=-1),
        core,
        input_core_dims=[["time"]],
        dask="parallelized",
        output_dtypes=[float],
    )
    xr.testing.assert_allclose(ranked.compute(), ds.tas.max("time"))
    quantile = chunked.tas.chunk({"time": -1}).quantile(0.9, "time")
    xr.testing.assert_allclose(quantile.compute(), ds.tas.quantile(0.9, "time"))


def test_the_manager_is_registered_and_normalizes_chunks() -> None:
    from xarray.namedarray.parallelcompat import guess_chunkmanager

    manager = guess_chunkmanager("blockwork")
    assert manager.normalize_chunks((4, -1), shape=(10, 3), dtype=np.float64) == ((4, 4, 2), (3,))
    assert manager.normalize_chunks(((5, 5),), shape=(10,)) == ((5, 5),)
    x = manager.from_array(np.arange(12.0).reshape(3, 4), chunks=(2, 2))
    assert manager.is_chunked_array(x) and manager.chunks(x) == ((2, 1), (2, 2))
    (total,) = manager.compute(manager.reduction(x, np.sum, aggregate_func=np.sum, axis=1))
    np.testing.assert_allclose(total, np.arange(12.0).reshape(3, 4).sum(axis=1))


def test_open_mfdataset_of_a_pile_and_the_talks_anomaly(tmp_path: Path) -> None:
    pytest.importorskip("netCDF4")
    import blockwork

    rng = np.random.default_rng(3)
    for year in (2000, 2001, 2002):
        t = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
        values = rng.normal(280, 5, (len(t), 4, 5))
        xr.Dataset(
            {"tas": (("time", "lat", "lon"), values)}, coords={"time": t, "lat": np.arange(4.0), "lon": np.arange(5.0)}
        ).to_netcdf(tmp_path / f"tas-{year}.nc")
    ds = blockwork.open_mfdataset(str(tmp_path / "tas-*.nc"), chunks={"time": 31})
    assert isinstance(ds.tas.data, Array) and len(ds.tas.chunks[0]) == 36
    clim = ds.tas.sel(time=slice("2000", "2001")).groupby("time.season").mean("time")
    anomaly = ds.tas.sel(time="2002").groupby("time.season").mean("time") - clim
    assert isinstance(anomaly.data, Array)
    ref = xr.open_mfdataset(str(tmp_path / "tas-*.nc"), chunks=None).load()
    want = ref.tas.sel(time="2002").groupby("time.season").mean("time") - ref.tas.sel(
        time=slice("2000", "2001")
    ).groupby("time.season").mean("time")
    xr.testing.assert_allclose(anomaly.compute(), want, rtol=1e-10)
    ds.close()


def test_engine_blockwork_and_native_readers_keep_coordinates_and_attributes(tmp_path: Path) -> None:
    pytest.importorskip("netCDF4")
    import blockwork

    ds = climate(days=120)
    ds.attrs["title"] = "test pile"
    ds.isel(time=slice(0, 60)).to_netcdf(tmp_path / "a.nc")
    ds.isel(time=slice(60, 120)).to_netcdf(tmp_path / "b.nc")
    native = blockwork.open_mfdataset([tmp_path / "a.nc", tmp_path / "b.nc"], chunks={"time": 30})
    assert isinstance(native.tas.data, Array) and native.tas.chunks[0] == (30, 30, 30, 30)
    assert native.tas.attrs["units"] == "K" and native.attrs["title"] == "test pile"
    xr.testing.assert_allclose(native.compute(), ds)
    one = blockwork.open_dataset(tmp_path / "a.nc")
    xr.testing.assert_allclose(one.tas.mean("time").compute(), ds.tas.isel(time=slice(0, 60)).mean("time"))
    through = xr.open_mfdataset(
        str(tmp_path / "*.nc"), engine="blockwork", chunks={"time": 20}, chunked_array_type="blockwork"
    )
    assert isinstance(through.tas.data, Array) and through.tas.chunks[0] == (20,) * 6
    xr.testing.assert_allclose(through.tas.std("time").compute(), ds.tas.std("time"))
    with pytest.raises(FileNotFoundError):
        blockwork.open_dataset(tmp_path / "missing.nc")


@pytest.mark.parametrize("engine", ["blockwork", "netcdf4"])
def test_many_files_read_concurrently_give_the_files_values(tmp_path: Path, engine: str) -> None:
    pytest.importorskip("netCDF4")
    rng = np.random.default_rng(11)
    for month in range(1, 25):
        t = pd.date_range(f"{2000 + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}-01", periods=28, freq="D")
        values = rng.normal(280, 5, (28, 30, 40)).astype("float32")
        ds = xr.Dataset({"t2m": (("time", "lat", "lon"), values)}, coords={"time": t})
        ds.to_netcdf(tmp_path / f"m{month:02d}.nc")
    files = sorted(str(p) for p in tmp_path.glob("m*.nc"))
    want = xr.open_mfdataset(files, chunks=None, engine="netcdf4").t2m.load()
    for _ in range(3):
        tas = xr.open_mfdataset(files, chunks={"time": 7}, chunked_array_type="blockwork", engine=engine).t2m
        assert isinstance(tas.data, Array)
        np.testing.assert_array_equal(tas.compute().values, want.values)


def test_the_anomaly_computes_on_a_cluster(tmp_path: Path) -> None:
    pytest.importorskip("netCDF4")
    import blockwork
    from blockwork.distributed import Client, LocalCluster

    ds = climate(days=400)
    ds.isel(time=slice(0, 200)).to_netcdf(tmp_path / "a.nc")
    ds.isel(time=slice(200, 400)).to_netcdf(tmp_path / "b.nc")
    want = ds.tas.groupby("time.season").mean("time") - ds.tas.mean("time")
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster):
        tas = blockwork.open_mfdataset(str(tmp_path / "*.nc"), chunks={"time": 50}).tas
        got = (tas.groupby("time.season").mean("time") - tas.mean("time")).compute()
        xr.testing.assert_allclose(got, want, rtol=1e-10)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_to_zarr_and_the_native_zarr_reader(tmp_path: Path, zarr_format: int) -> None:
    pytest.importorskip("zarr")
    import blockwork

    ds = climate(days=90)
    path = tmp_path / "tas.zarr"
    ds.chunk({"time": 30}, chunked_array_type="blockwork").to_zarr(path, zarr_format=zarr_format)
    xr.testing.assert_allclose(xr.open_zarr(path).load(), ds)
    native = blockwork.open_zarr(path)
    assert isinstance(native.tas.data, Array) and native.tas.chunks[0] == (30, 30, 30)
    assert native.tas.attrs["units"] == "K"
    xr.testing.assert_allclose(native.compute(), ds)
    xr.testing.assert_allclose(native.tas.mean("time").compute(), ds.tas.mean("time"))


def test_netcdf_and_zarr_on_an_object_store(tmp_path: Path) -> None:
    pytest.importorskip("netCDF4")
    pytest.importorskip("zarr")
    import blockwork

    bucket, options = s3_bucket("bw-py-xr")
    ds = climate(days=400)
    for i, year in enumerate(("2000", "2001")):
        part = ds.sel(time=year)
        encoding = {"tas": {"zlib": True, "chunksizes": (30, 3, 4)}} if i else {}
        part.to_netcdf(tmp_path / f"tas-{year}.nc", encoding=encoding)
    ds.to_zarr(tmp_path / "tas.zarr", zarr_format=3)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    for p in files:
        s3_put(options, bucket, str(p.relative_to(tmp_path)), p.read_bytes())
    remote = blockwork.open_mfdataset(f"s3://{bucket}/tas-*.nc", chunks={"time": 31}, storage_options=options)
    assert isinstance(remote.tas.data, Array)
    local = blockwork.open_mfdataset(str(tmp_path / "tas-*.nc"), chunks={"time": 31})
    assert remote.tas.chunks == local.tas.chunks
    xr.testing.assert_identical(remote.compute(), local.compute())
    xr.testing.assert_allclose(
        remote.tas.groupby("time.season").mean("time").compute(), ds.tas.groupby("time.season").mean("time")
    )
    zarr = blockwork.open_zarr(f"s3://{bucket}/tas.zarr", storage_options=options)
    xr.testing.assert_allclose(zarr.compute(), ds)
    one = xr.open_dataset(f"s3://{bucket}/tas-2000.nc", engine="blockwork")
    xr.testing.assert_allclose(one.load(), ds.sel(time="2000"))
    with pytest.raises(FileNotFoundError, match="none-"):
        blockwork.open_mfdataset(f"s3://{bucket}/none-*.nc", storage_options=options)


GRIB = Path(__file__).parents[2] / "crates/labeled/tests/fixtures/grib"


@pytest.mark.parametrize("file", ["pl_2001.grib2", "tp_accum.grib2", "sst_bitmap.grib2", "era5_t2m_2001_02.grib2"])
def test_grib_files_open_as_cfgrib_opens_them(file: str) -> None:
    # What cfgrib (ecCodes) made of the same files: scripts/golden/grib.py.
    import json

    import blockwork

    want = json.loads((GRIB / "expected.json").read_text())[file]
    for ds in (blockwork.open_dataset(GRIB / file), xr.open_dataset(GRIB / file, engine="blockwork")):
        assert dict(ds.sizes) == want["dims"]
        assert {k: v for k, v in ds.attrs.items() if k != "history"} == want["attrs"]
        assert set(ds.coords) == set(want["coords"])
        for name, c in want["coords"].items():
            coord = ds.coords[name]
            assert list(coord.dims) == c["dims"] and str(coord.dtype) == c["dtype"], name
            values = coord.values
            if values.dtype.kind == "M":
                got = np.datetime_as_string(values, unit="s").tolist()
            elif values.dtype.kind == "m":
                got = (values // np.timedelta64(1, "s")).tolist()
            else:
                got = values.tolist()
            assert got == c["values"], name
            assert coord.attrs == c["attrs"], name
        for name, v in want["data_vars"].items():
            da = ds[name]
            assert list(da.dims) == v["dims"] and str(da.dtype) == v["dtype"]
            assert da.attrs == v["attrs"]
            want_values = np.array(v["values"], dtype="float64")
            np.testing.assert_array_equal(da.values.astype("float64"), want_values)


def test_a_grib_pile_and_the_anomaly() -> None:
    import json

    import blockwork

    want = json.loads((GRIB / "expected.json").read_text())["pile"]
    ds = blockwork.open_mfdataset(str(GRIB / "era5_t2m_2001_*.grib2"), chunks={"time": 4})
    assert isinstance(ds.t2m.data, Array) and ds.t2m.chunks[0] == (4, 4, 2) * 3
    assert ds.valid_time.dims == ("time",) and ds.heightAboveGround.item() == 2.0
    np.testing.assert_array_equal(ds.t2m.values, np.array(want["data_vars"]["t2m"]["values"], dtype="float32"))
    monthly = ds.t2m.groupby("time.month").mean("time")
    anomaly = ds.t2m.sel(time="2001-03").mean("time") - monthly.sel(month=1)
    ref = np.array(want["data_vars"]["t2m"]["values"])
    # float32 means of values near 275 K: differences agree to float32 rounding.
    np.testing.assert_allclose(anomaly.compute().values, ref[20:].mean(0) - ref[:10].mean(0), atol=1e-4)


def test_the_talks_line_reads_blocks_natively(tmp_path: Path) -> None:
    # xr.open_mfdataset with xarray's own engine and only chunked_array_type
    # added: the blocks are the engine's native reads of each file (no
    # Python per block), decoded as xarray decodes them.
    pytest.importorskip("netCDF4")
    ds = climate(days=60)
    ds["packed"] = ds.tas * 1.0
    for i, part in enumerate((ds.isel(time=slice(0, 30)), ds.isel(time=slice(30, 60)))):
        encoding = {"packed": {"dtype": "int16", "scale_factor": 0.01, "add_offset": 280.0, "_FillValue": -9999}}
        part.to_netcdf(tmp_path / f"tas-{i}.nc", encoding=encoding)
    files = str(tmp_path / "tas-*.nc")
    opened = xr.open_mfdataset(files, chunks={"time": 10}, chunked_array_type="blockwork")
    for name in ("tas", "packed"):
        assert isinstance(opened[name].data, Array)
        assert opened[name].chunks[0] == (10,) * 6
    ref = xr.open_mfdataset(files, chunks=None).load()
    xr.testing.assert_identical(opened.load(), ref)
    # The per-file arrays are native reads: their block tasks are the reader's.
    one = xr.open_dataset(tmp_path / "tas-0.nc", chunks={"time": 10}, chunked_array_type="blockwork")
    assert one.tas.data.name.startswith("open-tas") and one.packed.data.name.startswith("open-packed")
    # Undecoded on request: xarray's raw values, read through xarray.
    raw = xr.open_dataset(
        tmp_path / "tas-0.nc", chunks={"time": 10}, chunked_array_type="blockwork", mask_and_scale=False
    )
    assert not raw.packed.data.name.startswith("open-")
    xr.testing.assert_identical(raw.load(), xr.open_dataset(tmp_path / "tas-0.nc", mask_and_scale=False).load())


@pytest.mark.parametrize("func", ["mean", "sum", "std", "var", "min", "max", "count"])
@pytest.mark.parametrize("group", ["time.season", "time.month"])
def test_grouped_reductions_with_flox_run_in_the_engine(func: str, group: str) -> None:
    # With flox installed (as with Dask), xarray hands grouped reductions to
    # flox; blockwork arrays go to the engine's own map-reduce and stay lazy.
    flox_xarray = pytest.importorskip("flox.xarray")
    ds = climate(days=500, seed=4)
    ds["tas"][3, 1, 1] = np.nan
    ds["tas32"] = ds.tas.astype("float32")
    lazy = ds.chunk({"time": 45}, chunked_array_type="blockwork")
    assert getattr(flox_xarray.groupby_reduce, "_blockwork", False)
    for name in ("tas", "tas32"):
        got = getattr(lazy[name].groupby(group), func)("time")
        assert isinstance(got.data, Array), (name, func)
        want = getattr(ds[name].groupby(group), func)("time")
        assert got.dtype == want.dtype
        xr.testing.assert_allclose(got.compute(), want, rtol=1e-5 if name == "tas32" else 1e-10)


def test_grouped_reductions_the_engine_does_not_do_compute_through_flox() -> None:
    pytest.importorskip("flox.xarray")
    ds = climate(days=120)
    lazy = ds.chunk({"time": 30}, chunked_array_type="blockwork")
    with pytest.warns(FutureWarning, match="not one the engine does"):
        got = lazy.tas.groupby("time.season").median("time")
    xr.testing.assert_allclose(got, ds.tas.groupby("time.season").median("time"))
    # Integer sums stay exact: flox's, not the engine's float64 partials.
    big = (ds.tas * 0).astype("int64") + 2**53 + 1  # sums past 2**53: float64 would drop the ones
    with pytest.warns(FutureWarning, match="not one the engine does"):
        got = big.chunk({"time": 30}, chunked_array_type="blockwork").groupby("time.season").sum("time")
    xr.testing.assert_equal(got, big.groupby("time.season").sum("time"))
