#!/usr/bin/env python3
"""Golden NetCDF / HDF5 / Zarr fixtures for blockwork-labeled, and xarray's decoded values.

Writes crates/labeled/tests/fixtures/:
  nc4_zlib.nc, nc4_packed.nc, h5netcdf.nc, nc3_classic.nc, nc3_64bit.nc, calendars.nc,
  zarr_v2.zarr/, zarr_v3.zarr/, pile/ (48 monthly files, 1979-1982), pile_zlib/ (24, 1981-1982),
  expected.json (what xarray decodes from each, plus the climate workflow on the piles),
  README.md (what each fixture is, writer versions).

Deterministic: every value comes from fixed formulas or seeded numpy generators, and the
output directory's fixtures are removed and rewritten on every run.

Run with the reference environment:
    /tmp/ref/venv/bin/python scripts/golden/netcdf.py
"""

import calendar as pycal
import datetime as dt
import glob
import json
import os
import shutil
import sys
import warnings

import cftime
import dask
import h5netcdf
import h5py
import netCDF4
import numcodecs
import numpy as np
import pandas as pd
import xarray as xr
import zarr

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "crates", "labeled", "tests", "fixtures"))
SEED = 0


def p(name):
    return os.path.join(OUT, name)


def var(ds, name, kind, dims, values, attrs=None, raw=False, **storage):
    """Creates variable `name` of `kind` over `dims` (`storage`: createVariable's compression,
    layout or fill flags), sets its attributes in order and writes its values; `raw`: as given,
    not packed or masked by netCDF4-python."""
    v = ds.createVariable(name, kind, dims, **storage)
    if raw:
        v.set_auto_maskandscale(False)
    for name, value in (attrs or {}).items():
        v.setncattr(name, value)
    v[:] = values


def era5_variables(ds, lon, lat, hours, t2m, **t2m_storage):
    """ERA5's coordinates and 2 m temperature, as its NetCDF files have them; `t2m_storage`:
    createVariable's compression or layout flags for t2m."""
    var(ds, "longitude", "f4", ("longitude",), lon, {"units": "degrees_east", "long_name": "longitude"})
    var(ds, "latitude", "f4", ("latitude",), lat, {"units": "degrees_north", "long_name": "latitude"})
    time_attrs = {"units": "hours since 1900-01-01 00:00:00.0", "long_name": "time", "calendar": "gregorian"}
    var(ds, "time", "i4", ("time",), hours, time_attrs)
    t2m_attrs = {"units": "K", "long_name": "2 metre temperature", "standard_name": "air_temperature"}
    var(ds, "t2m", "f4", ("time", "latitude", "longitude"), t2m, t2m_attrs, **t2m_storage)


# --------------------------------------------------------------------------------------------
# 1. nc4_zlib.nc
# --------------------------------------------------------------------------------------------
def write_nc4_zlib():
    lat = np.linspace(90.0, -90.0, 5, dtype=np.float32)
    lon = np.arange(0.0, 360.0, 60.0, dtype=np.float32)
    epoch = dt.datetime(1900, 1, 1)
    t0 = dt.datetime(1979, 1, 1)
    hours = np.array([((t0 - epoch).total_seconds() / 3600.0) + 6 * i for i in range(10)], dtype=np.int32)
    rng = np.random.default_rng(1)
    slat = np.sin(np.deg2rad(lat.astype(np.float64)))[None, :, None]
    t2m = (288.0 - 30.0 * np.abs(slat) + np.zeros((10, 5, 6))).astype(np.float32)
    t2m += rng.standard_normal((10, 5, 6), dtype=np.float32) * np.float32(2.0)
    with netCDF4.Dataset(p("nc4_zlib.nc"), "w", format="NETCDF4") as ds:
        ds.createDimension("time", 10)
        ds.createDimension("latitude", 5)
        ds.createDimension("longitude", 6)
        era5_variables(ds, lon, lat, hours, t2m, zlib=True, complevel=1, shuffle=True, chunksizes=(4, 5, 3))
        ds.Conventions = "CF-1.6"
        ds.history = "golden fixture written by scripts/golden/netcdf.py (netCDF4-python)"


# --------------------------------------------------------------------------------------------
# 2. nc4_packed.nc
# --------------------------------------------------------------------------------------------
def write_nc4_packed():
    nt, ny, nx = 4, 3, 5
    scale, offset, fill = 0.01, 273.15, np.int16(-32767)
    i = np.arange(nt * ny * nx).reshape(nt, ny, nx)
    packed = (((i * 37) % 2001) - 1000).astype(np.int16)  # -1000 .. 1000 -> 263.15 .. 283.15
    packed.flat[[3, 17, 42, 59]] = fill  # decode to NaN
    days = np.array([0, 31, 59, 60], dtype=np.int32)  # 2000-01-01, 02-01, 02-29, 03-01
    precip = np.linspace(0.0, 1.2, nt * ny, dtype=np.float64).reshape(nt, ny)
    precip[1, 2] = -999.0
    precip[3, 0] = -999.0
    with netCDF4.Dataset(p("nc4_packed.nc"), "w", format="NETCDF4") as ds:
        ds.createDimension("time", nt)
        ds.createDimension("y", ny)
        ds.createDimension("x", nx)
        var(
            ds,
            "time",
            "i4",
            ("time",),
            days,
            {"units": "days since 2000-01-01", "calendar": "proleptic_gregorian", "standard_name": "time"},
        )
        var(ds, "y", "f8", ("y",), np.array([1000.0, 2000.0, 3000.0]), {"units": "m"})
        var(ds, "x", "i4", ("x",), np.arange(nx, dtype=np.int32) * 500, {"units": "m"})
        var(
            ds,
            "tas",
            "i2",
            ("time", "y", "x"),
            packed,
            {
                "scale_factor": np.float64(scale),
                "add_offset": np.float64(offset),
                "units": "K",
                "long_name": "packed air temperature",
            },
            raw=True,
            fill_value=fill,
        )
        var(ds, "precip", "f8", ("time", "y"), precip, {"missing_value": np.float64(-999.0), "units": "mm"}, raw=True)
        ds.Conventions = "CF-1.8"
        ds.title = "int16 packing (scale_factor/add_offset) + _FillValue; float64 with missing_value"


# --------------------------------------------------------------------------------------------
# 3. h5netcdf.nc (h5netcdf's own API)
# --------------------------------------------------------------------------------------------
def write_h5netcdf():
    ny, nx = 6, 7
    y = np.linspace(-2.5, 2.5, ny)
    x = np.arange(nx, dtype=np.int64) * 10
    yy, xx = np.meshgrid(y, x.astype(np.float64), indexing="ij")
    z = np.sin(yy) * np.cos(xx / 30.0) + 0.001 * np.arange(ny * nx).reshape(ny, nx)
    z[2, 3] = np.nan
    with h5netcdf.File(p("h5netcdf.nc"), "w") as f:
        f.dimensions = {"y": ny, "x": nx}
        v = f.create_variable("y", ("y",), np.float64, data=y)
        v.attrs["units"] = "km"
        v.attrs["axis"] = "Y"
        v = f.create_variable("x", ("x",), np.int64, data=x)
        v.attrs["units"] = "km"
        v.attrs["axis"] = "X"
        v = f.create_variable(
            "z", ("y", "x"), np.float64, data=z, compression="gzip", compression_opts=4, chunks=(3, 4), fillvalue=np.nan
        )
        v.attrs["long_name"] = "surface height"
        v.attrs["units"] = "m"
        v.attrs["valid_max"] = np.float64(10.0)
        f.attrs["title"] = "written by h5netcdf.File (not netCDF4-python)"
        f.attrs["version"] = np.int32(3)


# --------------------------------------------------------------------------------------------
# 4. nc3_classic.nc
# --------------------------------------------------------------------------------------------
def write_nc3_classic():
    nrec, ny, nx = 6, 3, 4
    fill = np.float32(-1.0e30)
    temp = np.arange(nrec * ny * nx, dtype=np.float32).reshape(nrec, ny, nx) * np.float32(0.25) + np.float32(250.0)
    temp[1, 0, 0] = fill
    temp[4, 2, 3] = fill
    temp[5, 1, 2] = fill
    count = (np.arange(nrec * ny, dtype=np.int32).reshape(nrec, ny) * 7 - 20).astype(np.int32)
    orog = np.arange(ny * nx, dtype=np.float64).reshape(ny, nx) * 12.5 - 3.0
    days = np.array([0, 31, 58, 59, 364, 365], dtype=np.float64)  # noleap: Feb 28 -> Mar 1
    with netCDF4.Dataset(p("nc3_classic.nc"), "w", format="NETCDF3_CLASSIC") as ds:
        ds.createDimension("time", None)
        ds.createDimension("lat", ny)
        ds.createDimension("lon", nx)
        var(ds, "time", "f8", ("time",), days, {"units": "days since 1850-01-01", "calendar": "noleap", "axis": "T"})
        var(ds, "lat", "f4", ("lat",), np.array([-30.0, 0.0, 30.0], dtype=np.float32), {"units": "degrees_north"})
        var(ds, "lon", "f4", ("lon",), np.array([0.0, 90.0, 180.0, 270.0], dtype=np.float32), {"units": "degrees_east"})
        var(
            ds,
            "temp",
            "f4",
            ("time", "lat", "lon"),
            temp,
            {"units": "K", "long_name": "record variable with _FillValue"},
            raw=True,
            fill_value=fill,
        )
        var(ds, "count", "i4", ("time", "lat"), count, {"long_name": "int32 record variable"}, raw=True)
        var(ds, "orog", "f8", ("lat", "lon"), orog, {"units": "m", "long_name": "fixed (non-record) variable"})
        ds.Conventions = "CF-1.6"
        ds.comment = "NETCDF3_CLASSIC with an unlimited time dimension"


# --------------------------------------------------------------------------------------------
# 5. nc3_64bit.nc
# --------------------------------------------------------------------------------------------
def write_nc3_64bit():
    nt, n = 5, 4
    days = np.array([0, 29, 30, 359, 360], dtype=np.int32)  # 360_day: Jan 30 -> Feb 1, Dec 30 -> next Jan 1
    level = (np.arange(nt * n, dtype=np.int32).reshape(nt, n) * 1000 - 9000).astype(np.int16)
    flag = (np.arange(nt * n).reshape(nt, n) * 13 % 256 - 128).astype(np.int8)
    dbl = np.linspace(-1.0, 1.0, nt * n).reshape(nt, n) ** 3
    with netCDF4.Dataset(p("nc3_64bit.nc"), "w", format="NETCDF3_64BIT_OFFSET") as ds:
        ds.createDimension("time", nt)
        ds.createDimension("station", n)
        var(ds, "time", "i4", ("time",), days, {"units": "days since 2000-01-01 00:00:00", "calendar": "360_day"})
        var(ds, "station", "i4", ("station",), np.array([101, 102, 205, 309], dtype=np.int32))
        var(ds, "level", "i2", ("time", "station"), level, {"units": "mm"}, raw=True)
        var(ds, "flag", "i1", ("time", "station"), flag, {"flag_meanings": "signed byte"}, raw=True)
        var(ds, "value", "f8", ("time", "station"), dbl, {"units": "1"})
        ds.title = "NETCDF3_64BIT_OFFSET: short, byte, double; 360_day calendar"


# --------------------------------------------------------------------------------------------
# 6. calendars.nc
# --------------------------------------------------------------------------------------------
CALENDARS = [
    # (dim/var name, calendar, units, dtype, values)
    ("t_standard", "standard", "days since 1999-12-31", "i4", [0, 59, 60, 61, 366]),
    ("t_standard_1582", "standard", "days since 1582-10-01", "i4", [0, 3, 4, 5, 20]),
    ("t_gregorian", "gregorian", "hours since 1979-02-28 12:00:00", "i4", [0, 12, 36, 8772, 8784, 8796]),
    (
        "t_proleptic_gregorian",
        "proleptic_gregorian",
        "seconds since 1582-10-01 00:00:00",
        "i8",
        [0, 345600, 432000, 1296000, 13046400],
    ),
    ("t_noleap", "noleap", "days since 1850-01-01", "f8", [0.0, 58.0, 59.0, 59.75, 364.0, 365.0]),
    ("t_365_day", "365_day", "hours since 2003-12-31 00:00:00", "i4", [0, 24, 1440, 1416, 8760]),
    ("t_all_leap", "all_leap", "days since 2001-02-28", "i4", [0, 1, 2, 366]),
    ("t_366_day", "366_day", "hours since 1999-01-31 06:00:00", "i4", [0, 18, 696, 702, 8784]),
    ("t_360_day", "360_day", "days since 2000-01-01", "f8", [0.0, 0.5, 29.0, 30.0, 59.0, 60.0, 359.0, 360.0]),
    ("t_julian", "julian", "days since 0001-01-01", "i4", [0, 59, 36217, 36218, 36219, 577736, 577737]),
]


def write_nc4_chunks():
    """The chunk layouts a block read meets: shuffled and deflated 1-, 4- and 8-byte integers,
    deflated bytes, chunked but unfiltered float64, a variable with chunks never written (the
    fill value), and big-endian chunks; edge chunks along every dimension."""
    nt, ny, nx = 7, 5, 6
    i = np.arange(nt * ny * nx).reshape(nt, ny, nx)
    with netCDF4.Dataset(p("nc4_chunks.nc"), "w", format="NETCDF4") as ds:
        ds.createDimension("time", nt)
        ds.createDimension("y", ny)
        ds.createDimension("x", nx)
        dims = ("time", "y", "x")
        zs = dict(zlib=True, complevel=1, shuffle=True)
        var(ds, "i4_shuffled", "i4", dims, (i * 7919 % 100003 - 50000).astype(np.int32), chunksizes=(3, 2, 4), **zs)
        var(ds, "i8_shuffled", "i8", dims, (i.astype(np.int64) - 100) * 3_000_000_007, chunksizes=(7, 5, 6), **zs)
        var(ds, "u1_shuffled", "u1", dims, (i * 37 % 256).astype(np.uint8), chunksizes=(2, 5, 5), **zs)
        var(
            ds,
            "u1_deflated",
            "u1",
            dims,
            (i * 11 % 256).astype(np.uint8),
            chunksizes=(4, 5, 1),
            zlib=True,
            shuffle=False,
        )
        var(ds, "f8_chunked", "f8", dims, np.sin(i * 0.1), chunksizes=(2, 3, 5))
        partial = ds.createVariable("f4_partial", "f4", dims, chunksizes=(2, 5, 6), fill_value=np.float32(-999.0), **zs)
        partial[0:3] = (i[0:3] * 0.5).astype(np.float32)  # chunks from time 4 on are never written
        var(ds, "f4_big_endian", "f4", dims, (i * 0.25).astype(np.float32), chunksizes=(3, 3, 3), endian="big", **zs)
        ds.title = "chunk layouts: shuffle and deflate of 1/4/8-byte elements, unfiltered, unwritten, big-endian"


def write_calendars():
    with netCDF4.Dataset(p("calendars.nc"), "w", format="NETCDF4") as ds:
        for name, cal, units, dtype, vals in CALENDARS:
            ds.createDimension(name, len(vals))
            var(
                ds,
                name,
                dtype,
                (name,),
                np.array(vals, dtype=dtype),
                {"units": units, "calendar": cal, "standard_name": "time"},
            )
        var(
            ds,
            "v_standard",
            "f4",
            ("t_standard",),
            np.arange(5, dtype=np.float32) * np.float32(1.5),
            {"long_name": "a data variable on the standard-calendar axis"},
        )
        ds.title = "one time coordinate per CF calendar"


# --------------------------------------------------------------------------------------------
# 7. zarr stores
# --------------------------------------------------------------------------------------------
def zarr_dataset():
    nt, ny, nx = 8, 4, 5
    time = pd.date_range("2001-01-01", periods=nt, freq="D")
    lat = np.array([60.0, 20.0, -20.0, -60.0], dtype=np.float32)
    lon = np.array([0.0, 72.0, 144.0, 216.0, 288.0], dtype=np.float32)
    rng = np.random.default_rng(7)
    tas = (280.0 + rng.standard_normal((nt, ny, nx))).astype(np.float32)
    tas[2, 1, 3] = np.nan
    tas[6, 0, 0] = np.nan
    pr = np.arange(nt * ny * nx, dtype=np.float32).reshape(nt, ny, nx) * np.float32(0.125)
    pr[0, 3, 4] = np.nan
    orog = np.arange(ny * nx, dtype=np.float64).reshape(ny, nx) * 100.0 - 50.0
    ds = xr.Dataset(
        {
            "tas": (("time", "lat", "lon"), tas, {"units": "K", "long_name": "air temperature"}),
            "pr": (("time", "lat", "lon"), pr, {"units": "mm/day"}),
            "orog": (("lat", "lon"), orog, {"units": "m"}),
        },
        coords={
            "time": ("time", time, {"standard_name": "time"}),
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
        attrs={"title": "zarr fixture written by xarray.to_zarr", "Conventions": "CF-1.8"},
    )
    return ds


def write_zarr(fmt):
    from zarr.codecs import GzipCodec

    ds = zarr_dataset()
    enc = {
        "time": {"units": "days since 2001-01-01", "dtype": "int32"},
        "tas": {"chunks": (3, 4, 5)},
        "pr": {"chunks": (3, 4, 5)},
    }
    if fmt == 2:
        enc["pr"]["compressors"] = None
        enc["orog"] = {"compressors": [numcodecs.GZip(level=5)]}
    else:
        enc["pr"]["compressors"] = [GzipCodec(level=5)]
        enc["orog"] = {"compressors": None}
    path = p(f"zarr_v{fmt}.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v3 consolidated metadata is not in the spec (xarray warns)
        ds.to_zarr(path, mode="w", zarr_format=fmt, encoding=enc)
    zero_gzip_mtime(path)


def zero_gzip_mtime(path):
    """gzip chunks carry the write time in their header (bytes 4..8, MTIME); set it to 0 so the
    store is byte-for-byte reproducible. The stream stays valid (the CRC covers the data only)."""
    for root, _, files in os.walk(path):
        for f in files:
            fp = os.path.join(root, f)
            with open(fp, "rb") as fh:
                b = bytearray(fh.read())
            if len(b) >= 10 and b[:3] == b"\x1f\x8b\x08" and b[4:8] != b"\0\0\0\0":
                b[4:8] = b"\0\0\0\0"
                with open(fp, "wb") as fh:
                    fh.write(b)


def zarr_codecs(path, fmt):
    """Which codecs each array of a store uses, read back from its metadata files."""
    out = {}
    for name in sorted(os.listdir(path)):
        d = os.path.join(path, name)
        if not os.path.isdir(d):
            continue
        if fmt == 2:
            with open(os.path.join(d, ".zarray")) as f:
                meta = json.load(f)
            out[name] = {
                "compressor": meta.get("compressor"),
                "filters": meta.get("filters"),
                "dtype": meta["dtype"],
                "chunks": meta["chunks"],
                "fill_value": meta["fill_value"],
            }
        else:
            with open(os.path.join(d, "zarr.json")) as f:
                meta = json.load(f)
            out[name] = {
                "codecs": meta.get("codecs"),
                "data_type": meta["data_type"],
                "chunks": meta["chunk_grid"]["configuration"]["chunk_shape"],
                "fill_value": meta["fill_value"],
            }
    return out


# --------------------------------------------------------------------------------------------
# 8. mini ERA5 pile (same formulas as shared/reference/gen_netcdf.py, small grid)
# --------------------------------------------------------------------------------------------
PILE_LAT = np.linspace(90.0, -90.0, 7, dtype=np.float32)
PILE_LON = np.arange(0.0, 360.0, 45.0, dtype=np.float32)
EPOCH = dt.datetime(1900, 1, 1)


def month_values(year, month, lat, nlon, seed):
    """gen_netcdf.py's month_values with the longitude count as a parameter (it hard-codes 360)."""
    nd = pycal.monthrange(year, month)[1]
    days = [dt.datetime(year, month, d) for d in range(1, nd + 1)]
    hours = np.array([(d - EPOCH).total_seconds() / 3600.0 for d in days], dtype=np.int32)
    doy = np.array([d.timetuple().tm_yday for d in days], dtype=np.float64)
    slat = np.sin(np.deg2rad(lat))[None, :, None]
    base = 288.0 - 30.0 * np.abs(slat) + 0.02 * (year - 1979)
    seas = -12.0 * slat * np.cos(2 * np.pi * (doy - 15.0) / 365.25)[:, None, None]
    rng = np.random.default_rng(seed * 100003 + year * 12 + month - 1)
    noise = rng.standard_normal((nd, lat.size, nlon), dtype=np.float32) * np.float32(2.0)
    t2m = (base + seas).astype(np.float32) + noise
    return hours, t2m


def write_month(path, year, month, zlib):
    lat, lon = PILE_LAT, PILE_LON
    hours, t2m = month_values(year, month, lat.astype(np.float64), lon.size, SEED)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.createDimension("longitude", lon.size)
        ds.createDimension("latitude", lat.size)
        ds.createDimension("time", hours.size)
        kw = dict(zlib=True, complevel=1, shuffle=True) if zlib else dict(contiguous=True)
        era5_variables(ds, lon, lat, hours, t2m, **kw)
        ds.Conventions = "CF-1.6"
        ds.history = (
            "synthetic ERA5-like daily 2m temperature generated by gen_netcdf.py "
            "(dask reference benchmarks); not real ECMWF data"
        )
        ds.source = "ECMWF ERA5 look-alike (synthetic)"


def write_pile(dirname, years, zlib):
    d = p(dirname)
    os.makedirs(d)
    for year in years:
        for month in range(1, 13):
            write_month(os.path.join(d, f"era5_t2m_{year:04d}_{month:02d}.nc"), year, month, zlib)


# --------------------------------------------------------------------------------------------
# Decoding with xarray -> JSON
# --------------------------------------------------------------------------------------------
def iso(x):
    if x is None or isinstance(x, str):
        return x
    if isinstance(x, cftime.datetime):
        return x.isoformat()
    if isinstance(x, (np.datetime64, pd.Timestamp, dt.datetime)):
        t = pd.Timestamp(x)
        if t is pd.NaT:
            return None
        return t.isoformat()
    raise TypeError(type(x))


def jsonable(x):
    """A JSON-safe copy of an attribute / encoding value (NaN -> null)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [jsonable(v) for v in x.tolist()]
    if isinstance(x, (bytes, np.bytes_)):
        return x.decode("utf-8", "replace")
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer, int)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        f = float(x)
        if f != f:
            return "NaN"
        if f in (float("inf"), float("-inf")):
            return "Infinity" if f > 0 else "-Infinity"
        return f
    if isinstance(x, (str, type(None))):
        return x
    if isinstance(x, (np.dtype, type)):
        return str(np.dtype(x))
    if isinstance(x, (cftime.datetime, np.datetime64, pd.Timestamp, dt.datetime)):
        return iso(x)
    if hasattr(x, "to_dict"):
        return jsonable(x.to_dict())
    if hasattr(x, "get_config"):
        return jsonable(x.get_config())
    return repr(x)


def typed_attrs(attrs):
    """Raw (undecoded) attributes with their stored type."""
    out = {}
    for k, v in attrs.items():
        if isinstance(v, str):
            t = "string"
        elif isinstance(v, np.ndarray):
            t = f"{v.dtype}[{v.size}]"
        elif isinstance(v, np.generic):
            t = str(v.dtype)
        else:
            t = type(v).__name__
        out[k] = {"type": t, "value": jsonable(v)}
    return out


def flat_values(da):
    a = np.asarray(da.values)
    if a.dtype.kind == "M" or a.dtype == object:
        return [iso(v) for v in a.ravel(order="C")]
    if a.dtype.kind == "m":
        return [None if np.isnat(v) else int(v.astype("timedelta64[ns]").astype(np.int64)) for v in a.ravel()]
    if a.dtype.kind == "f":
        return [None if v != v else v for v in a.astype(np.float64).ravel(order="C").tolist()]
    if a.dtype.kind in "iub":
        return a.ravel(order="C").tolist()
    if a.dtype.kind in "SU":
        return [jsonable(v) for v in a.ravel(order="C")]
    raise TypeError(a.dtype)


ENC_DROP = {"source"}


def calendar_of(da):
    a = np.asarray(da.values)
    if a.dtype.kind == "M":
        return da.encoding.get("calendar", "proleptic_gregorian")
    if a.dtype == object and a.size and isinstance(a.flat[0], cftime.datetime):
        return a.flat[0].calendar
    return None


def describe(ds, raw=None, with_values=True, skip_values=()):
    vars_ = {}
    for name in list(ds.coords) + list(ds.data_vars):
        da = ds[name]
        rec = {
            "kind": "coord" if name in ds.coords else "data",
            "dims": list(da.dims),
            "shape": list(da.shape),
            "dtype": str(da.dtype),
            "attrs": jsonable(dict(da.attrs)),
            "encoding": jsonable({k: v for k, v in da.encoding.items() if k not in ENC_DROP}),
        }
        cal = calendar_of(da)
        if cal is not None:
            rec["calendar"] = cal
            rec["time_class"] = (
                "numpy.datetime64"
                if da.dtype.kind == "M"
                else type(np.asarray(da.values).flat[0]).__module__ + "." + type(np.asarray(da.values).flat[0]).__name__
            )
        if with_values and name not in skip_values:
            rec["values"] = flat_values(da)
        if raw is not None and name in raw.variables:
            r = raw[name]
            rec["raw"] = {"dtype": str(r.dtype), "attrs": typed_attrs(dict(r.attrs))}
            if with_values and name not in skip_values:
                rec["raw"]["values"] = flat_values(r)
        vars_[name] = rec
    return {
        "dims": {k: int(v) for k, v in ds.sizes.items()},
        "unlimited_dims": sorted(ds.encoding.get("unlimited_dims", [])),
        "attrs": jsonable(dict(ds.attrs)),
        "variables": vars_,
    }


def warning_list(ws):
    return sorted({f"{w.category.__name__}: {w.message}" for w in ws})


def decode_file(name):
    path = p(name)
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        with xr.open_dataset(path, decode_cf=True) as ds, xr.open_dataset(path, decode_cf=False) as raw:
            ds.load()
            raw.load()
            rec = describe(ds, raw)
    rec["xarray_warnings"] = warning_list(ws)
    rec["opened_with"] = f"xr.open_dataset('{name}', decode_cf=True)  (engine: xarray's default, netcdf4)"
    with netCDF4.Dataset(path) as nc:
        rec["format"] = nc.data_model
    return rec


def decode_zarr(name, fmt):
    path = p(name)
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        with xr.open_zarr(path) as ds, xr.open_zarr(path, decode_cf=False) as raw:
            ds = ds.load()
            raw = raw.load()
            rec = describe(ds, raw)
    rec["xarray_warnings"] = warning_list(ws)
    rec["opened_with"] = f"xr.open_zarr('{name}')"
    rec["zarr_format"] = fmt
    rec["codecs"] = zarr_codecs(path, fmt)
    return rec


def f64list(da):
    return [None if v != v else v for v in np.asarray(da.values, dtype=np.float64).ravel(order="C").tolist()]


def result(da, with_f64=None):
    out = {"dims": list(da.dims), "shape": list(da.shape), "dtype": str(da.dtype)}
    for c in da.coords:
        if c in da.dims:
            out.setdefault("coords", {})[c] = flat_values(da[c])
    out["values"] = f64list(da)
    if with_f64 is not None:
        out["values_f64"] = f64list(with_f64)
    return out


def decode_pile(dirname, clim_sel, anom_sel, extra):
    files = sorted(glob.glob(os.path.join(p(dirname), "*.nc")))
    with dask.config.set(scheduler="synchronous"):
        with xr.open_mfdataset(files, combine="by_coords") as ds:
            rec = describe(ds, with_values=True, skip_values=("t2m",))
            rec["opened_with"] = f"xr.open_mfdataset(sorted(glob('{dirname}/*.nc')), combine='by_coords')"
            rec["nfiles"] = len(files)
            rec["files"] = [os.path.basename(f) for f in files]
            tas = ds.t2m
            rec["variables"]["t2m"]["dask_chunks"] = [list(c) for c in tas.chunks]
            t64 = tas.astype(np.float64)
            a = tas.values
            rec["t2m_summary"] = {
                "note": "raw values omitted for size; float64 sums of the decoded float32 values, "
                "and a few whole time slices",
                "sum_f64": float(a.astype(np.float64).sum()),
                "sum_sq_f64": float((a.astype(np.float64) ** 2).sum()),
                "min": float(a.min()),
                "max": float(a.max()),
                "first_time_slice": f64list(tas.isel(time=0)),
                "last_time_slice": f64list(tas.isel(time=-1)),
                "slice_at_index_59": {"time": iso(tas.time.values[59]), "values": f64list(tas.isel(time=59))},
                "per_time_mean_f64": [float(v) for v in a.astype(np.float64).mean(axis=(1, 2))],
            }

            def season_mean(x, sel):
                return x.sel(time=sel).groupby("time.season").mean("time")

            clim = season_mean(tas, clim_sel)
            anom = season_mean(tas, anom_sel) - clim
            clim64 = season_mean(t64, clim_sel)
            anom64 = season_mean(t64, anom_sel) - clim64
            wf = {
                "code": {
                    "tas": rec["opened_with"] + ".t2m",
                    "clim": f"tas.sel(time=slice('{clim_sel.start}', '{clim_sel.stop}'))"
                    ".groupby('time.season').mean('time')",
                    "anom": f"tas.sel(time='{anom_sel}').groupby('time.season').mean('time') - clim",
                    "values": "xarray's own result (float32 in, dask mean) widened to float64",
                    "values_f64": "the same expression on tas.astype('float64')",
                },
                "season_order": [str(s) for s in clim.season.values],
                "clim": result(clim.compute(), clim64.compute()),
                "anom": result(anom.compute(), anom64.compute()),
            }
            if extra:
                jun = tas.sel(time="1980-06").mean("time")
                jun64 = t64.sel(time="1980-06").mean("time")
                rs = tas.resample(time="MS").mean().isel(time=slice(0, 3))
                rs64 = t64.resample(time="MS").mean().isel(time=slice(0, 3))
                mon = tas.groupby("time.month").mean("time")
                mon64 = t64.groupby("time.month").mean("time")
                wf["code"]["mean_1980_06"] = "tas.sel(time='1980-06').mean('time')"
                wf["code"]["resample_MS_first3"] = "tas.resample(time='MS').mean().isel(time=slice(0, 3))"
                wf["code"]["groupby_month"] = "tas.groupby('time.month').mean('time')"
                wf["mean_1980_06"] = result(jun.compute(), jun64.compute())
                wf["resample_MS_first3"] = result(rs.compute(), rs64.compute())
                wf["groupby_month"] = result(mon.compute(), mon64.compute())
            rec["workflow"] = wf
    return rec


# --------------------------------------------------------------------------------------------
def versions():
    return {
        "python": sys.version.split()[0],
        "xarray": xr.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "cftime": cftime.__version__,
        "dask": dask.__version__,
        "netCDF4": netCDF4.__version__,
        "libnetcdf": netCDF4.__netcdf4libversion__,
        "netCDF4_hdf5lib": netCDF4.__hdf5libversion__,
        "h5netcdf": h5netcdf.__version__,
        "h5py": h5py.__version__,
        "h5py_hdf5lib": h5py.version.hdf5_version,
        "zarr": zarr.__version__,
        "numcodecs": numcodecs.__version__,
    }


def du(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


FIXTURES = [
    "nc4_zlib.nc",
    "nc4_packed.nc",
    "h5netcdf.nc",
    "nc3_classic.nc",
    "nc3_64bit.nc",
    "calendars.nc",
    "nc4_chunks.nc",
    "zarr_v2.zarr",
    "zarr_v3.zarr",
    "pile",
    "pile_zlib",
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in FIXTURES + ["expected.json", "README.md"]:
        path = p(f)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)

    write_nc4_zlib()
    write_nc4_packed()
    write_h5netcdf()
    write_nc3_classic()
    write_nc3_64bit()
    write_calendars()
    write_nc4_chunks()
    write_zarr(2)
    write_zarr(3)
    write_pile("pile", range(1979, 1983), zlib=False)
    write_pile("pile_zlib", range(1981, 1983), zlib=True)

    fx = {}
    for name in FIXTURES[:7]:
        fx[name] = decode_file(name)
    fx["zarr_v2.zarr"] = decode_zarr("zarr_v2.zarr", 2)
    fx["zarr_v3.zarr"] = decode_zarr("zarr_v3.zarr", 3)
    fx["pile"] = decode_pile("pile", slice("1979", "1981"), "1982", extra=True)
    fx["pile_zlib"] = decode_pile("pile_zlib", slice("1981", "1981"), "1982", extra=False)

    vers = versions()
    doc = {
        "generated_by": "scripts/golden/netcdf.py",
        "versions": vers,
        "conventions": {
            "values": "flattened in C order; NaN -> null; floats widened to float64 (exact for float32)",
            "times": "ISO-8601 strings: pandas.Timestamp.isoformat() for datetime64, cftime .isoformat() "
            "for cftime objects; 'calendar' names the calendar",
            "attrs": "decoded attrs as xarray reports them; 'raw' holds decode_cf=False dtype, typed attrs "
            "and raw values",
            "nan_in_attrs": "a NaN (or infinite) float in attrs/encoding is the string 'NaN' ('Infinity', "
            "'-Infinity'); in values arrays NaN is null",
        },
        "fixtures": fx,
    }
    with open(p("expected.json"), "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), allow_nan=False)
        f.write("\n")

    sizes = {name: du(p(name)) for name in FIXTURES}
    write_readme(vers, sizes, fx)
    total = du(OUT)
    print(
        json.dumps(
            {"out": OUT, "sizes": sizes, "expected_json": os.path.getsize(p("expected.json")), "total_bytes": total}
        )
    )


def write_readme(vers, sizes, fx):
    def codec_lines(name):
        lines = []
        for arr, c in fx[name]["codecs"].items():
            if "codecs" in c:
                desc = " + ".join(
                    x["name"] + (json.dumps(x.get("configuration"), sort_keys=True) if x.get("configuration") else "")
                    for x in c["codecs"]
                )
            else:
                comp = c["compressor"]
                desc = (
                    "compressor "
                    + (json.dumps(comp, sort_keys=True) if comp else "None")
                    + ", filters "
                    + json.dumps(c["filters"])
                )
            lines.append(f"    - `{arr}` ({c.get('dtype') or c.get('data_type')}, chunks {c['chunks']}): {desc}")
        return "\n".join(lines)

    cal_lines = "\n".join(f"    - `{n}`: calendar `{c}`, units `{u}`, {d}, values {v}" for n, c, u, d, v in CALENDARS)
    ver_lines = "\n".join(f"- {k}: {v}" for k, v in vers.items())
    size_lines = "\n".join(f"| `{k}` | {v:,} |" for k, v in sizes.items())
    text = f"""# blockwork-labeled golden fixtures

Written by `scripts/golden/netcdf.py` (do not edit by hand). Regenerate everything
(fixtures, `expected.json`, this README) with the reference environment:

    /tmp/ref/venv/bin/python scripts/golden/netcdf.py

The script is deterministic (fixed formulas and seeded numpy generators); it removes and
rewrites every fixture below.

## Fixtures

| fixture | bytes |
| --- | ---: |
{size_lines}

- `nc4_zlib.nc` — netCDF4-python, format NETCDF4 (HDF5). `t2m(time, latitude, longitude)` float32
  10×5×6, chunked 4×5×3, zlib level 1 + shuffle, attrs units/long_name/standard_name.
  Coordinates: latitude f4 90..-90 (descending), longitude f4 0..300, time int32
  `hours since 1900-01-01 00:00:00.0` calendar `gregorian` (6-hourly from 1979-01-01).
  Global attrs Conventions, history.
- `nc4_packed.nc` — netCDF4-python NETCDF4. `tas(time, y, x)` int16 packed with float64
  `scale_factor`=0.01 / `add_offset`=273.15 and `_FillValue`=-32767 (4 cells equal to it →
  NaN); decodes to float64. `precip(time, y)` float64 with `missing_value`=-999.0 (2 cells →
  NaN). time int32 `days since 2000-01-01`, calendar `proleptic_gregorian` (crosses 2000-02-29).
- `h5netcdf.nc` — written with h5netcdf's own API (`h5netcdf.File`, not netCDF4-python).
  `z(y, x)` float64 6×7, gzip level 4, chunks 3×4, HDF5 fill value NaN and one NaN cell;
  coordinates y float64, x int64; global attrs title, version (int32).
- `nc3_classic.nc` — NETCDF3_CLASSIC. Unlimited (record) dimension `time` (6 records);
  record variables `temp(time, lat, lon)` float32 with `_FillValue`=-1e30 (3 cells missing) and
  `count(time, lat)` int32; fixed variable `orog(lat, lon)` float64. time float64
  `days since 1850-01-01` calendar `noleap`.
- `nc3_64bit.nc` — NETCDF3_64BIT_OFFSET. `level(time, station)` short (int16), `flag` byte
  (int8, negative values), `value` double; time int32 `days since 2000-01-01 00:00:00`,
  calendar `360_day`.
- `calendars.nc` — NETCDF4, one time coordinate per calendar, each on its own dimension
  (plus a second standard one across the 1582 Julian→Gregorian switch, and the aliases
  365_day/366_day beside noleap/all_leap), and one data variable `v_standard(t_standard)`:
{cal_lines}
- `zarr_v2.zarr/`, `zarr_v3.zarr/` — zarr-python {vers["zarr"]} stores written by
  `xarray.Dataset.to_zarr(mode='w', zarr_format=2|3)` with xarray's default consolidated
  metadata (`.zmetadata` for v2; `consolidated_metadata` inside the root `zarr.json` for v3)
  and xarray's dimension conventions (`_ARRAY_DIMENSIONS` attribute in v2, `dimension_names`
  in v3). Dataset: `tas(time, lat, lon)` float32 8×4×5 chunked 3×4×5 with two NaNs,
  `pr(time, lat, lon)` float32 same chunks with one NaN, `orog(lat, lon)` float64 (v2: numcodecs GZip; v3: no compressor); coordinates
  time (encoded int32 `days since 2001-01-01`), lat, lon float32. Codecs per array:
  - v2:
{codec_lines("zarr_v2.zarr")}
  - v3:
{codec_lines("zarr_v3.zarr")}
- `pile/` — mini ERA5-like pile: the formulas of `shared/reference/gen_netcdf.py` (seed 0, same
  per-month seeding; noise shaped by the small grid instead of 360 longitudes) on latitude 7
  points 90..-90 and longitude 8 points 0..315, years 1979–1982: 48 monthly NETCDF4 files
  `era5_t2m_YYYY_MM.nc`, daily `t2m` float32, contiguous (uncompressed).
- `pile_zlib/` — the same for 1981–1982 only (24 files), `t2m` zlib level 1 + shuffle.

## expected.json

`fixtures.<name>` holds what xarray decodes: `xr.open_dataset(path, decode_cf=True)` for
files, `xr.open_zarr(path)` for the stores, `xr.open_mfdataset(sorted(glob), combine='by_coords')`
for the piles. Per variable: kind (coord/data), dims, shape, decoded dtype, decoded attrs,
xarray's encoding (JSON-safe, `source` dropped), `values` flattened in C order (NaN → null;
NaN inside attrs/encoding is the string "NaN"; times as ISO-8601 strings, `calendar` and `time_class` given), and `raw` (dtype, typed attrs
and values as `decode_cf=False` reports them). Global attrs, dimension sizes and unlimited
dims per fixture; `codecs` per zarr array as read from the store's metadata.

For the piles the raw `t2m` values are omitted (size); `t2m_summary` gives float64 sums,
min/max, a few whole time slices and per-time means. `workflow` holds the climate workflow
computed by xarray (dask, synchronous scheduler, one chunk per file):

    tas  = xr.open_mfdataset(files, combine='by_coords').t2m
    clim = tas.sel(time=slice('1979', '1981')).groupby('time.season').mean('time')  # pile_zlib: '1981'..'1981'
    anom = tas.sel(time='1982').groupby('time.season').mean('time') - clim

plus, for `pile/`, `tas.sel(time='1980-06').mean('time')`,
`tas.resample(time='MS').mean()` (first 3 months) and `tas.groupby('time.month').mean('time')`.
`values` is xarray's own float32 result widened to float64; `values_f64` is the same
expression on `tas.astype('float64')` (what an implementation accumulating in float64 should
match closely). `season_order` is the order xarray returns.

The gzip-compressed zarr chunks have their gzip header MTIME field set to 0 after writing
(numcodecs stamps the wall-clock time there), so reruns are byte-identical.

## Versions

{ver_lines}
"""
    with open(p("README.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
