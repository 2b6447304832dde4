#!/usr/bin/env python3
"""Golden GRIB2 fixtures for blockwork-labeled's GRIB2 reader, and what cfgrib decodes from them.

Writes crates/labeled/tests/fixtures/grib/:
  era5_t2m_2001_01.grib2, era5_t2m_2001_02.grib2, era5_t2m_2001_03.grib2
      a pile of three monthly files of 2 m temperature (`2t`, paramId 167, heightAboveGround 2),
      analysis (typeOfProcessedData 0), product template 4.0, one message a day at 00 UTC for
      days 1-10, each file with its own packing: grid_simple (January), grid_ccsds (February),
      grid_complex_spatial_differencing (March). This ecCodes sets all three, so none falls
      back to grid_complex.
  pl_2001.grib2
      temperature `t` and geopotential `z` on isobaricInhPa 500 and 850 at 2001-01-01 00 and
      12 UTC, analysis, template 4.0, grid_simple.
  tp_accum.grib2
      total precipitation `tp` (paramId 228), forecast (typeOfProcessedData 1), template 4.8,
      accumulation, base time 2001-01-01 06 UTC, hourly accumulations as ERA5 stores them:
      stepRange 0-1, 1-2, 2-3 (end steps 1, 2, 3 h), grid_simple.
  sst_bitmap.grib2
      sea surface temperature `sst` (paramId 34) on the surface at 2001-01-01 00 UTC, with a
      bitmap marking a 3 × 4 "land" corner (12 of 56 points) missing, grid_simple.
  expected.json
      per file name (and "pile" for xarray.open_mfdataset over the three monthly files):
      dims, coords, data_vars and global attrs as cfgrib decodes them; "levels": the
      attributes cfgrib gives each level coordinate used here; "centres": centre 98's
      ecCodes abbreviation and description.
and crates/labeled/src/io/grib_params.tsv: the parameter table (discipline, category, number,
surface, statistical process -> paramId, shortName, cfVarName, name, units, cfName) for the
common ERA5 parameters, read back from ecCodes.

Every file uses the same regular_ll grid: 7 latitudes from 60.0 down to 58.5 and 8 longitudes
from 0.0 to 1.75, both by 0.25 degrees, scanning mode 0 as in ERA5.

Parameters are set by paramId rather than shortName: some shortNames name several paramIds
(setting `sst` picks 151159 "Specified sea surface temperature", `ssr` and `str` pick
instantaneous 180176/180177), and ERA5's `fg10` is the cfVarName of paramId 49, whose
shortName is `10fg`.

Deterministic: values come from seeded numpy generators and ecCodes writes no timestamps; the
fixture directory is removed and rewritten on every run.

Run from the repository root with the reference environment:
    /tmp/ref/venv/bin/python scripts/golden/grib.py
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cfgrib
import eccodes as ec
import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "labeled" / "tests" / "fixtures" / "grib"
PARAMS_TSV = ROOT / "crates" / "labeled" / "src" / "io" / "grib_params.tsv"
SAMPLE = "regular_ll_sfc_grib2"
SEED = 0

# The grid, as ecCodes' regular_ll keys.
NI, NJ = 8, 7
GRID: dict[str, Any] = {
    "Ni": NI,
    "Nj": NJ,
    "latitudeOfFirstGridPointInDegrees": 60.0,
    "longitudeOfFirstGridPointInDegrees": 0.0,
    "latitudeOfLastGridPointInDegrees": 58.5,
    "longitudeOfLastGridPointInDegrees": 1.75,
    "iDirectionIncrementInDegrees": 0.25,
    "jDirectionIncrementInDegrees": 0.25,
    "scanningMode": 0,
}

PILE_PACKINGS = {1: "grid_simple", 2: "grid_ccsds", 3: "grid_complex_spatial_differencing"}
MISSING = 9999.0  # the bitmap's stand-in value for missing points

# ERA5 parameters for the table: (ERA5 short name, paramId, level). The level is None for
# parameters whose paramId selects their own level (2t: heightAboveGround 2, msl: meanSea, …),
# and (typeOfLevel, level) for pressure-level parameters.
PL500 = ("isobaricInhPa", 500)
ERA5_PARAMS: list[tuple[str, int, tuple[str, int] | None]] = [
    ("2t", 167, None),
    ("2d", 168, None),
    ("10u", 165, None),
    ("10v", 166, None),
    ("100u", 228246, None),
    ("100v", 228247, None),
    ("msl", 151, None),
    ("sp", 134, None),
    ("skt", 235, None),
    ("sst", 34, None),
    ("tcc", 164, None),
    ("lcc", 186, None),
    ("mcc", 187, None),
    ("hcc", 188, None),
    ("tcwv", 137, None),
    ("tp", 228, None),
    ("cp", 143, None),
    ("lsp", 142, None),
    ("e", 182, None),
    ("sf", 144, None),
    ("sd", 141, None),
    ("ssrd", 169, None),
    ("strd", 175, None),
    ("ssr", 176, None),
    ("str", 177, None),
    ("blh", 159, None),
    ("ci", 31, None),
    ("z", 129, PL500),
    ("t", 130, PL500),
    ("u", 131, PL500),
    ("v", 132, PL500),
    ("w", 135, PL500),
    ("q", 133, PL500),
    ("r", 157, PL500),
    ("vo", 138, PL500),
    ("d", 155, PL500),
    ("pv", 60, PL500),
    ("cc", 248, PL500),
    ("lsm", 172, None),
    ("stl1", 139, None),
    ("swvl1", 39, None),
    ("fg10", 49, None),
]

TSV_COLUMNS = [
    "discipline",
    "category",
    "number",
    "surface_type",
    "surface_value",
    "stat_process",
    "paramId",
    "shortName",
    "cfVarName",
    "name",
    "units",
    "cfName",
]


# --------------------------------------------------------------------------------------------
# Writing messages
# --------------------------------------------------------------------------------------------
@contextmanager
def message(sample: str = SAMPLE) -> Iterator[int]:
    """A new GRIB2 message from an ecCodes sample, released on exit."""
    h = ec.codes_grib_new_from_samples(sample)
    try:
        yield h
    finally:
        ec.codes_release(h)


@contextmanager
def clone(h: int) -> Iterator[int]:
    c = ec.codes_clone(h)
    try:
        yield c
    finally:
        ec.codes_release(c)


def encode(
    param_id: int,
    when: dt.datetime,
    values: np.ndarray,
    *,
    processed: int,
    packing: str = "grid_simple",
    level: tuple[str, int] | None = None,
    step_range: str | None = None,
    bitmap: bool = False,
) -> bytes:
    """One GRIB2 message on the fixture grid. `values` has shape (NJ, NI), row 0 northmost."""
    with message() as h:
        ec.codes_set_key_vals(h, GRID)
        if level is not None:
            ec.codes_set(h, "typeOfLevel", level[0])
            ec.codes_set(h, "level", level[1])
        # Setting the paramId also sets the level it implies (2t: heightAboveGround 2) and,
        # for accumulations, switches to product template 4.8 with typeOfStatisticalProcessing 1.
        ec.codes_set(h, "paramId", param_id)
        ec.codes_set_key_vals(
            h,
            {
                "typeOfProcessedData": processed,
                "dataDate": int(when.strftime("%Y%m%d")),
                "dataTime": int(when.strftime("%H%M")),
                "stepUnits": 1,
            },
        )
        if step_range is not None:
            ec.codes_set(h, "stepRange", step_range)
        ec.codes_set(h, "packingType", packing)
        ec.codes_set(h, "bitsPerValue", 16)
        if bitmap:
            ec.codes_set(h, "bitmapPresent", 1)
            ec.codes_set(h, "missingValue", MISSING)
        ec.codes_set_values(h, np.ascontiguousarray(values, dtype=np.float64).ravel())
        got = ec.codes_get(h, "packingType")
        if got != packing:
            raise RuntimeError(f"asked for {packing}, ecCodes encoded {got}")
        return ec.codes_get_message(h)


def write(path: Path, messages: list[bytes]) -> None:
    with open(path, "wb") as f:
        for m in messages:
            f.write(m)


def read_back(path: Path) -> list[dict[str, Any]]:
    """The header keys of every message in a file, as ecCodes reads them."""
    keys = [
        "shortName",
        "paramId",
        "typeOfLevel",
        "level",
        "dataDate",
        "dataTime",
        "stepRange",
        "stepType",
        "packingType",
        "productDefinitionTemplateNumber",
        "typeOfProcessedData",
        "numberOfMissing",
    ]
    out = []
    with open(path, "rb") as f:
        while (h := ec.codes_grib_new_from_file(f)) is not None:
            try:
                out.append({k: ec.codes_get(h, k) for k in keys})
            finally:
                ec.codes_release(h)
    return out


def check(path: Path, short_names: set[str], param_ids: set[int], count: int) -> list[dict[str, Any]]:
    msgs = read_back(path)
    if len(msgs) != count:
        raise RuntimeError(f"{path.name}: {len(msgs)} messages, expected {count}")
    for m in msgs:
        if m["shortName"] not in short_names or m["paramId"] not in param_ids:
            raise RuntimeError(f"{path.name}: read back {m['shortName']} / {m['paramId']}")
    return msgs


def field(rng: np.random.Generator, base: float, spread: float) -> np.ndarray:
    return base + spread * rng.random((NJ, NI))


# --------------------------------------------------------------------------------------------
# The fixtures
# --------------------------------------------------------------------------------------------
def pile_name(month: int) -> str:
    return f"era5_t2m_2001_{month:02d}.grib2"


def write_pile() -> None:
    for month, packing in PILE_PACKINGS.items():
        rng = np.random.default_rng(SEED + month)
        msgs = [
            encode(167, dt.datetime(2001, month, day), field(rng, 270.0, 10.0), processed=0, packing=packing)
            for day in range(1, 11)
        ]
        path = OUT / pile_name(month)
        write(path, msgs)
        back = check(path, {"2t"}, {167}, 10)
        if {m["packingType"] for m in back} != {packing}:
            raise RuntimeError(f"{path.name}: packings {back}")


def write_pl() -> None:
    rng = np.random.default_rng(SEED + 10)
    msgs = []
    for hour in (0, 12):
        for hpa in (500, 850):
            t_base = 250.0 if hpa == 500 else 270.0
            z_base = 9.80665 * (5500.0 if hpa == 500 else 1400.0)
            when = dt.datetime(2001, 1, 1, hour)
            msgs.append(encode(130, when, field(rng, t_base, 20.0), processed=0, level=("isobaricInhPa", hpa)))
            msgs.append(encode(129, when, field(rng, z_base, 1000.0), processed=0, level=("isobaricInhPa", hpa)))
    path = OUT / "pl_2001.grib2"
    write(path, msgs)
    check(path, {"t", "z"}, {130, 129}, 8)


def write_tp() -> None:
    rng = np.random.default_rng(SEED + 20)
    base = dt.datetime(2001, 1, 1, 6)
    msgs = [encode(228, base, field(rng, 0.0, 0.001), processed=1, step_range=f"{s - 1}-{s}") for s in (1, 2, 3)]
    path = OUT / "tp_accum.grib2"
    write(path, msgs)
    back = check(path, {"tp"}, {228}, 3)
    if [m["stepRange"] for m in back] != ["0-1", "1-2", "2-3"] or {m["stepType"] for m in back} != {"accum"}:
        raise RuntimeError(f"tp_accum.grib2: {back}")


def write_sst() -> None:
    rng = np.random.default_rng(SEED + 30)
    values = field(rng, 275.0, 5.0)
    values[:3, :4] = MISSING  # the north-west "land" corner
    path = OUT / "sst_bitmap.grib2"
    write(path, [encode(34, dt.datetime(2001, 1, 1), values, processed=0, bitmap=True)])
    back = check(path, {"sst"}, {34}, 1)
    if back[0]["numberOfMissing"] != 12:
        raise RuntimeError(f"sst_bitmap.grib2: {back}")


# --------------------------------------------------------------------------------------------
# What cfgrib decodes -> JSON
# --------------------------------------------------------------------------------------------
def plain(x: Any) -> Any:
    """A JSON value for an attribute or array element: numpy scalars to Python, NaN to null,
    datetime64 to ISO strings, timedelta64 to integer seconds."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return plain_array(x)
    if isinstance(x, np.datetime64):
        return None if np.isnat(x) else str(x.astype("datetime64[s]"))
    if isinstance(x, np.timedelta64):
        return None if np.isnat(x) else int(x.astype("timedelta64[s]").astype(np.int64))
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return None if f != f else f
    if isinstance(x, (bytes, np.bytes_)):
        return x.decode()
    if x is None or isinstance(x, str):
        return x
    raise TypeError(f"no JSON form for {type(x)}")


def plain_array(a: np.ndarray) -> Any:
    """Nested lists (or a scalar for 0-d), element by element through `plain`."""
    if a.ndim == 0:
        return plain(a[()])
    return [plain_array(a[i]) for i in range(a.shape[0])]


def variable(da: xr.DataArray) -> dict[str, Any]:
    return {
        "dims": list(da.dims),
        "dtype": str(da.dtype),
        "attrs": plain(dict(da.attrs)),
        "values": plain_array(np.asarray(da.values)),
    }


def describe(ds: xr.Dataset) -> dict[str, Any]:
    return {
        "dims": {str(k): int(v) for k, v in ds.sizes.items()},
        "coords": {str(k): variable(ds[k]) for k in ds.coords},
        "data_vars": {str(k): variable(ds[k]) for k in ds.data_vars},
        "attrs": plain({k: v for k, v in ds.attrs.items() if k != "history"}),
    }


CFGRIB_KW: dict[str, Any] = {"engine": "cfgrib", "backend_kwargs": {"indexpath": ""}}


def decode_all() -> tuple[dict[str, Any], dict[str, Any]]:
    """cfgrib's view of every fixture, and the attributes of each level coordinate met."""
    out: dict[str, Any] = {}
    levels: dict[str, Any] = {}
    for name in ["pl_2001.grib2", "tp_accum.grib2", "sst_bitmap.grib2", *map(pile_name, PILE_PACKINGS)]:
        with xr.open_dataset(OUT / name, **CFGRIB_KW) as ds:
            ds.load()
            out[name] = describe(ds)
            for lev in ("surface", "heightAboveGround", "isobaricInhPa"):
                if lev in ds.coords:
                    levels[lev] = plain(dict(ds[lev].attrs))
    paths = sorted(str(p) for p in OUT.glob("era5_t2m_2001_*.grib2"))
    with xr.open_mfdataset(paths, combine="by_coords", **CFGRIB_KW) as ds:
        ds.load()
        out["pile"] = describe(ds)
    return out, levels


def centres() -> dict[str, Any]:
    with message() as h:
        ec.codes_set(h, "centre", 98)
        return {"98": {"abbreviation": ec.codes_get(h, "centre"), "description": ec.codes_get(h, "centreDescription")}}


# --------------------------------------------------------------------------------------------
# The parameter table
# --------------------------------------------------------------------------------------------
def ident(h: int) -> tuple[int, str]:
    return ec.codes_get(h, "paramId"), ec.codes_get(h, "shortName")


def get_or_none(h: int, key: str) -> Any:
    return ec.codes_get(h, key, int) if ec.codes_is_defined(h, key) else None


def dcn(h: int) -> tuple[int, int, int]:
    return ec.codes_get(h, "discipline"), ec.codes_get(h, "parameterCategory"), ec.codes_get(h, "parameterNumber")


def changed(h: int, keys: dict[str, Any]) -> tuple[int, str] | None:
    """paramId and shortName of a copy of `h` with `keys` set (and the same discipline,
    category and number), or None when ecCodes refuses the change."""
    with clone(h) as c:
        try:
            for k, v in keys.items():
                ec.codes_set(c, k, v)
        except ec.CodesInternalError:
            return None
        if dcn(c) != dcn(h):
            raise RuntimeError(f"setting {keys} changed discipline/category/number")
        return ident(c)


def param_row(era5: str, param_id: int, level: tuple[str, int] | None, notes: list[str]) -> list[str] | None:
    with message() as h:
        if level is not None:
            ec.codes_set(h, "typeOfLevel", level[0])
            ec.codes_set(h, "level", level[1])
        try:
            ec.codes_set(h, "paramId", param_id)
        except ec.CodesInternalError as e:
            notes.append(f"{era5} (paramId {param_id}): not encodable in GRIB2 here ({e})")
            return None
        pid, short = ident(h)
        if pid != param_id:
            notes.append(f"{era5}: asked for paramId {param_id}, ecCodes reads back {pid} ({short})")
            return None
        if short != era5:
            notes.append(f"{era5}: ecCodes' shortName is {short} (cfVarName {ec.codes_get(h, 'cfVarName')})")
        here = (pid, short)
        surface = ec.codes_get(h, "typeOfFirstFixedSurface", int)
        type_of_level = ec.codes_get(h, "typeOfLevel")
        value = ec.codes_get(h, "level", int)
        stat = get_or_none(h, "typeOfStatisticalProcessing")

        # Does the name depend on the surface? Move the message to another one and see.
        other = (
            {"typeOfLevel": "isobaricInhPa", "level": 500} if type_of_level == "surface" else {"typeOfLevel": "surface"}
        )
        surface_matters = changed(h, other) != here
        value_matters = surface_matters and changed(h, {"level": value + 3}) != here
        if get_or_none(h, "typeOfSecondFixedSurface") not in (None, 255):
            if changed(h, {"typeOfSecondFixedSurface": 255}) != here:
                notes.append(
                    f"{short}: also needs typeOfSecondFixedSurface {get_or_none(h, 'typeOfSecondFixedSurface')}"
                    f" ({type_of_level}), which the table does not carry"
                )

        # Does it depend on the statistical process? Try instantaneous and another process.
        stat_matters = False
        if stat is not None:
            instant = changed(h, {"productDefinitionTemplateNumber": 0})
            other_stat = changed(h, {"typeOfStatisticalProcessing": 0 if stat != 0 else 1})
            stat_matters = instant != here or other_stat != here

        d, c, n = dcn(h)
        return [
            str(d),
            str(c),
            str(n),
            str(surface) if surface_matters else "-",
            str(value) if value_matters else "-",
            str(stat) if stat_matters else "-",
            str(pid),
            short,
            ec.codes_get(h, "cfVarName"),
            ec.codes_get(h, "name"),
            ec.codes_get(h, "units"),
            ec.codes_get(h, "cfName"),
        ]


def write_params() -> tuple[list[list[str]], list[str]]:
    notes: list[str] = []
    rows = [r for era5, pid, lev in ERA5_PARAMS if (r := param_row(era5, pid, lev, notes)) is not None]
    lines = [
        f"# Generated by scripts/golden/grib.py from ecCodes {ec.codes_get_api_version()}'s parameter definitions"
        " (GRIB2); '-' = the name does not depend on that key.",
        "\t".join(TSV_COLUMNS),
        *("\t".join(r) for r in rows),
    ]
    for r in rows:
        if any("\t" in x or "\n" in x for x in r):
            raise RuntimeError(f"field with a tab or newline: {r}")
    PARAMS_TSV.write_text("\n".join(lines) + "\n")
    return rows, notes


# --------------------------------------------------------------------------------------------
def write_expected(expected: dict[str, Any]) -> None:
    """One line per top-level key, sorted; inside, compact and in the dataset's order (dims,
    coords and data variables keep the order cfgrib gives them)."""
    lines = [f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in sorted(expected.items())]
    (OUT / "expected.json").write_text("{\n" + ",\n".join(lines) + "\n}\n")


def summary(expected: dict[str, Any]) -> None:
    for name, rec in expected.items():
        if name in ("levels", "centres"):
            continue
        scalars = [k for k, v in rec["coords"].items() if not v["dims"]]
        dvars = {k: f"{v['dtype']}{v['dims']}" for k, v in rec["data_vars"].items()}
        print(f"  {name}: dims {rec['dims']}; scalar coords {scalars}; data {dvars}")


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    write_pile()
    write_pl()
    write_tp()
    write_sst()

    expected, levels = decode_all()
    expected["levels"] = levels
    expected["centres"] = centres()
    write_expected(expected)

    rows, notes = write_params()

    print(f"ecCodes {ec.codes_get_api_version()}, cfgrib {cfgrib.__version__}, xarray {xr.__version__}")
    for p in sorted(OUT.iterdir()):
        print(f"  {p.relative_to(ROOT)}: {p.stat().st_size} bytes")
    print(f"  {PARAMS_TSV.relative_to(ROOT)}: {len(rows)} parameters, {PARAMS_TSV.stat().st_size} bytes")
    summary(expected)
    for n in notes:
        print(f"  note: {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
