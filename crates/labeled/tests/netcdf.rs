//! Files written by netCDF4-python, h5netcdf and NetCDF-3 writers decode
//! to what xarray decodes (`tests/fixtures/expected.json`, made by
//! `scripts/golden/netcdf.py`), and the climate workflow on small piles
//! gives xarray's numbers.

mod common;
use common::*;

use blockwork_labeled::{self as xr, DataArray, Index, LabeledError};
use serde_json::Value as J;

fn check_coord(file: &str, name: &str, want: &J, got: &Index) {
    let vals = want["values"].as_array().unwrap();
    match got {
        Index::Time { .. } => {
            let want: Vec<String> = vals.iter().map(|v| v.as_str().unwrap().to_string()).collect();
            assert_eq!(labels(got), want, "{file}: time coordinate `{name}`");
        }
        _ => {
            assert_close(&format!("{file}: coordinate `{name}`"), &got.as_f64().unwrap(), &floats(&want["values"]), 0.0)
        }
    }
}

#[test]
fn single_files_decode_like_xarray() {
    xr::register();
    let e = expected();
    // Every single-file fixture the golden script decoded with xarray.
    let files: Vec<&str> =
        e["fixtures"].as_object().unwrap().keys().map(|k| k.as_str()).filter(|k| k.ends_with(".nc")).collect();
    assert!(files.len() >= 7 && files.contains(&"nc4_chunks.nc"), "{files:?}");
    for file in files {
        let want = &e["fixtures"][file];
        // Whole variables, and small blocks, so reads of hyperslabs across
        // HDF5 chunks are exercised (each file's chunks name only its own
        // dimensions: others are errors).
        let whole = xr::open_dataset(fixtures().join(file), &[]).unwrap();
        let sizes = whole.sizes();
        let small: Vec<(&str, usize)> =
            [("time", 3), ("y", 2), ("t_standard", 5)].into_iter().filter(|(d, _)| sizes.contains_key(d)).collect();
        let ds = xr::open_dataset(fixtures().join(file), &small).unwrap();
        for (name, v) in want["variables"].as_object().unwrap() {
            if v["kind"] != "coord" {
                let values = whole.get(name).unwrap().values().unwrap();
                assert_close(
                    &format!("{file}: whole {name}"),
                    values.as_slice().unwrap(),
                    &floats(&v["values"]),
                    1e-12,
                );
            }
            if v["kind"] == "coord" {
                let c = ds.coords().get(name).unwrap_or_else(|| panic!("{file}: no coordinate {name}"));
                check_coord(file, name, v, &c.index);
                continue;
            }
            let da = ds.get(name).unwrap();
            let dims: Vec<&str> = v["dims"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
            assert_eq!(da.dims(), dims, "{file}: dims of {name}");
            let values = da.values().unwrap();
            assert_close(&format!("{file}: {name}"), values.as_slice().unwrap(), &floats(&v["values"]), 1e-12);
            let dtype = da.data().dtype().name();
            let want_dtype = v["dtype"].as_str().unwrap();
            // int8 and int16 widen to int32; every other type is xarray's.
            let widened = matches!(want_dtype, "int8" | "int16") && dtype == "int32";
            assert!(dtype == want_dtype || widened, "{file}: {name} is {dtype}, xarray has {want_dtype}");
            for (k, a) in v["attrs"].as_object().unwrap() {
                if let Some(s) = a.as_str() {
                    let got = da.attrs().get(k).map(|x| x.to_string());
                    assert_eq!(got.as_deref(), Some(s), "{file}: attribute {k} of {name}");
                }
            }
        }
    }
}

fn pile(dir: &str) -> DataArray {
    let pattern = fixtures().join(dir).join("era5_t2m_*.nc");
    xr::open_mfdataset(pattern.to_str().unwrap(), &[("time", 10)]).unwrap().get("t2m").unwrap()
}

fn check_workflow(dir: &str, clim_years: (&str, &str), year: &str) {
    xr::register();
    let e = expected();
    let w = &e["fixtures"][dir]["workflow"];
    let tas = pile(dir);
    let clim =
        tas.sel("time", clim_years.0..=clim_years.1).unwrap().groupby("time.season").unwrap().mean("time").unwrap();
    let anom = tas.sel("time", year).unwrap().groupby("time.season").unwrap().mean("time").unwrap().sub(&clim).unwrap();
    assert_eq!(anom.dims(), ["season", "latitude", "longitude"]);
    let seasons: Vec<String> =
        w["season_order"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().into()).collect();
    assert_eq!(labels(&anom.coord("season").unwrap().index), seasons);
    assert_eq!(anom.data().dtype().name(), "float32", "float32 in, float32 out, as xarray");
    // Accumulated in f64: as xarray's float64 run, and within float32 rounding of its float32 one.
    let c = clim.values().unwrap();
    assert_close(&format!("{dir}: clim"), c.as_slice().unwrap(), &floats(&w["clim"]["values_f64"]), 1e-6);
    assert_close(&format!("{dir}: clim (f32)"), c.as_slice().unwrap(), &floats(&w["clim"]["values"]), 1e-6);
    let a = anom.values().unwrap();
    assert_close(&format!("{dir}: anom"), a.as_slice().unwrap(), &floats(&w["anom"]["values_f64"]), 1e-4);
}

#[test]
fn climate_workflow_on_a_pile_matches_xarray() {
    check_workflow("pile", ("1979", "1981"), "1982");
    let e = expected();
    let w = &e["fixtures"]["pile"]["workflow"];
    let tas = pile("pile");
    assert_eq!(tas.shape(), &[1461, 7, 8]);
    let june = tas.sel("time", "1980-06").unwrap().mean("time").unwrap().values().unwrap();
    assert_close("mean of 1980-06", june.as_slice().unwrap(), &floats(&w["mean_1980_06"]["values_f64"]), 1e-6);
    let months = tas.groupby("time.month").unwrap().mean("time").unwrap();
    assert_eq!(labels(&months.coord("month").unwrap().index), (1..=12).map(|m| m.to_string()).collect::<Vec<_>>());
    let m = months.values().unwrap();
    assert_close("groupby month", m.as_slice().unwrap(), &floats(&w["groupby_month"]["values_f64"]), 1e-6);
}

#[test]
fn seasonal_anomaly_map_is_a_png() {
    xr::register();
    let tas = pile("pile");
    let clim = tas.groupby("time.season").unwrap().mean("time").unwrap();
    let anom =
        tas.sel("time", "1982").unwrap().groupby("time.season").unwrap().mean("time").unwrap().sub(&clim).unwrap();
    let path = std::env::temp_dir().join(format!("bw-anom-{}.png", std::process::id()));
    anom.plot_facets(&path, "season", 2, Some("2 metre temperature anomaly [K]")).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    std::fs::remove_file(&path).ok();
    let e = tas.plot_facets(&path, "season", 2, None).unwrap_err().to_string();
    assert!(e.contains("time"), "{e}");
}

#[test]
fn climate_workflow_on_a_zlib_pile_matches_xarray() {
    check_workflow("pile_zlib", ("1981", "1981"), "1982");
}

#[test]
fn anomalies_by_group_arithmetic() {
    xr::register();
    let tas = pile("pile");
    let clim = tas.groupby("time.month").unwrap().mean("time").unwrap();
    let anom = tas.groupby("time.month").unwrap().sub(&clim).unwrap();
    assert_eq!(anom.dims(), ["time", "latitude", "longitude"]);
    // Each month's anomalies average to zero over the pile.
    let back = anom.groupby("time.month").unwrap().mean("time").unwrap().values().unwrap();
    assert!(back.iter().all(|x| x.abs() < 1e-3), "{back:?}");
}

#[test]
fn bad_files_give_errors_that_name_them() {
    xr::register();
    let dir = std::env::temp_dir().join(format!("bw-labeled-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A truncated NetCDF-4 file.
    let good = std::fs::read(fixtures().join("nc4_zlib.nc")).unwrap();
    let cut = dir.join("cut.nc");
    std::fs::write(&cut, &good[..good.len() / 3]).unwrap();
    let e = match xr::open_dataset(&cut, &[]) {
        Err(e) => e.to_string(),
        Ok(ds) => ds.get("t2m").unwrap().values().map(|_| String::new()).unwrap_or_else(|e| e.to_string()),
    };
    assert!(e.contains("cut.nc"), "{e}");
    // Garbage.
    let junk = dir.join("junk.nc");
    std::fs::write(&junk, b"this is not a NetCDF file at all").unwrap();
    let e = xr::open_dataset(&junk, &[]).unwrap_err().to_string();
    assert!(e.contains("junk.nc"), "{e}");
    // Missing file, missing variable, no match.
    let e = xr::open_dataset(dir.join("nope.nc"), &[]).unwrap_err().to_string();
    assert!(e.contains("nope.nc"), "{e}");
    let ds = xr::open_dataset(fixtures().join("nc4_zlib.nc"), &[]).unwrap();
    let e = ds.get("tas").unwrap_err();
    assert!(matches!(e, LabeledError::MissingVariable { .. }) && e.to_string().contains("nc4_zlib.nc"), "{e}");
    let e = xr::open_mfdataset(dir.join("none-*.nc").to_str().unwrap(), &[]).unwrap_err();
    assert!(is_not_found(&e), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("none-*.nc") && e.contains("no files match"), "{e}");
    // Files whose grids disagree.
    let p1 = fixtures().join("pile/era5_t2m_1979_01.nc");
    let other = fixtures().join("nc4_zlib.nc");
    let e = xr::open_mfdataset(vec![p1, other], &[]).unwrap_err().to_string();
    assert!(e.contains("nc4_zlib.nc") || e.contains("era5_t2m_1979_01.nc"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn selection_errors_name_the_dimension_and_label() {
    xr::register();
    let tas = pile("pile");
    let e = tas.sel("time", "1990").unwrap_err().to_string();
    assert!(e.contains("\"1990\"") && e.contains("`time`"), "{e}");
    let e = tas.sel("height", 2.0).unwrap_err().to_string();
    assert!(e.contains("no dimension `height`"), "{e}");
    let e = tas.groupby("latitude.season").unwrap_err().to_string();
    assert!(e.contains("not a time dimension"), "{e}");
    let e = tas.groupby("time.season").unwrap().mean("latitude").unwrap_err().to_string();
    assert!(e.contains("grouped along `time`"), "{e}");
    let near = tas.sel("latitude", xr::Selector::Nearest(50.0)).unwrap();
    assert_eq!(near.dims(), ["time", "longitude"]);
    let band = tas.sel("latitude", 60.0..=0.0).unwrap();
    assert_eq!(band.shape()[1], 3, "a descending index slices in its own order");
}

#[test]
fn written_files_read_back_the_same() {
    xr::register();
    let dir = std::env::temp_dir().join(format!("bw-labeled-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A dataset with a datetime coordinate, compressed and not, NetCDF-4 and classic.
    let ds = xr::open_dataset(fixtures().join("nc4_zlib.nc"), &[("time", 4)]).unwrap();
    for (i, opts) in [
        xr::NetcdfOptions::default(),
        xr::NetcdfOptions { netcdf4: true, zlib: Some(1) },
        xr::NetcdfOptions { netcdf4: false, zlib: None },
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.join(format!("copy{i}.nc"));
        ds.to_netcdf_with(&path, opts).unwrap();
        let back = xr::open_dataset(&path, &[]).unwrap();
        let (a, b) = (ds.get("t2m").unwrap(), back.get("t2m").unwrap());
        assert_eq!(a.dims(), b.dims());
        assert_eq!(b.data().dtype().name(), "float32");
        assert_eq!(a.values().unwrap(), b.values().unwrap());
        assert_eq!(a.coords(), b.coords(), "{opts:?}");
        assert_eq!(b.attrs().get("units").map(|u| u.to_string()).as_deref(), Some("K"));
        assert_eq!(back.attrs().get("Conventions"), ds.attrs().get("Conventions"));
    }
    // A result with a text coordinate, as the climate workflow writes it.
    let tas = pile("pile");
    let clim = tas.groupby("time.season").unwrap().mean("time").unwrap();
    let path = dir.join("clim.nc");
    clim.to_netcdf(&path).unwrap();
    let back = xr::open_dataset(&path, &[]).unwrap().get("t2m").unwrap();
    assert_eq!(back.coord("season").unwrap().index, clim.coord("season").unwrap().index);
    assert_eq!(back.values().unwrap(), clim.values().unwrap());
    let e = clim.to_netcdf_with(&path, xr::NetcdfOptions { netcdf4: false, zlib: None }).unwrap_err().to_string();
    assert!(e.contains("clim.nc") && e.contains("text coordinates need NetCDF-4"), "{e}");
    // Options that cannot be honoured are refused, naming what is allowed.
    for (opts, says) in [
        (xr::NetcdfOptions { netcdf4: true, zlib: Some(0) }, "give 1 (fastest) to 9"),
        (xr::NetcdfOptions { netcdf4: true, zlib: Some(12) }, "zlib level 12"),
        (xr::NetcdfOptions { netcdf4: false, zlib: Some(4) }, "needs a NetCDF-4 file"),
    ] {
        let e = clim.to_netcdf_with(dir.join("refused.nc"), opts).unwrap_err().to_string();
        assert!(e.contains("refused.nc") && e.contains(says), "{e}");
        assert!(!dir.join("refused.nc").exists(), "a refused file was written");
    }
    // Times off the hour, in another calendar.
    let ds = xr::open_dataset(fixtures().join("nc3_classic.nc"), &[]).unwrap();
    let path = dir.join("noleap.nc");
    ds.to_netcdf(&path).unwrap();
    let back = xr::open_dataset(&path, &[]).unwrap();
    assert_eq!(back.coords()["time"], ds.coords()["time"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn chunks_naming_no_dimension_or_of_length_zero_are_errors() {
    let file = fixtures().join("nc4_zlib.nc");
    let e = xr::open_dataset(&file, &[("tiem", 4)]).unwrap_err().to_string();
    assert!(e.contains("nc4_zlib.nc") && e.contains("\"tiem\"") && e.contains("\"time\""), "{e}");
    let e = xr::open_dataset(&file, &[("time", 0)]).unwrap_err().to_string();
    assert!(e.contains("`time`") && e.contains("length 0"), "{e}");
    let pile = fixtures().join("pile").join("*.nc");
    let e = xr::open_mfdataset(pile.to_str().unwrap(), &[("latitud", 2)]).unwrap_err().to_string();
    assert!(e.contains("\"latitud\"") && e.contains("\"latitude\""), "{e}");
    assert!(xr::open_mfdataset(pile.to_str().unwrap(), &[("time", 31)]).is_ok());
    let zarr = fixtures().join("zarr_v3.zarr");
    let e = xr::open_zarr(&zarr, &[("tim", 2)]).unwrap_err().to_string();
    assert!(e.contains("zarr_v3.zarr") && e.contains("\"tim\""), "{e}");
}

#[test]
fn stored_chunks_say_where_each_chunk_is_and_what_it_inflates_to() {
    use std::os::unix::fs::FileExt;
    let path = fixtures().join("nc4_chunks.nc");
    // 7 × 5 × 6 int32 in chunks of 3 × 2 × 4, shuffled and deflated.
    let chunks = xr::io::netcdf::stored_chunks(&path, "i4_shuffled").unwrap().expect("read chunk by chunk");
    assert_eq!(chunks.len(), 3 * 3 * 2);
    let mut origins: Vec<&[u64]> = chunks.iter().map(|c| c.origin.as_slice()).collect();
    origins.sort_unstable();
    origins.dedup();
    assert_eq!(origins.len(), chunks.len(), "each chunk once");
    assert!(origins.iter().all(|o| o[0] % 3 == 0 && o[1] % 2 == 0 && o[2] % 4 == 0), "{origins:?}");
    let file = std::fs::File::open(&path).unwrap();
    for c in &chunks {
        assert!(c.deflated && c.shuffled);
        assert_eq!((c.shape.as_slice(), c.decoded_size), (&[3, 2, 4][..], 3 * 2 * 4 * 4));
        // The stored bytes are a zlib stream of exactly the decoded size.
        let mut raw = vec![0u8; c.size];
        file.read_exact_at(&mut raw, c.offset).unwrap();
        let mut out = vec![0u8; c.decoded_size + 1];
        let mut z = flate2::Decompress::new(true);
        let status = z.decompress(&raw, &mut out, flate2::FlushDecompress::Finish).unwrap();
        assert_eq!((status, z.total_out()), (flate2::Status::StreamEnd, c.decoded_size as u64));
    }
    // Other layouts are not listed; a missing variable or file is an error.
    let contiguous = xr::io::netcdf::stored_chunks(fixtures().join("nc4_packed.nc"), "tas").unwrap();
    assert!(contiguous.is_none());
    let e = xr::io::netcdf::stored_chunks(&path, "nope").unwrap_err();
    assert!(matches!(e, LabeledError::MissingVariable { .. }), "{e}");
    let e = xr::io::netcdf::stored_chunks(fixtures().join("absent.nc"), "t2m").unwrap_err();
    assert!(is_not_found(&e), "{e}");
}

#[test]
fn reductions_of_blocks_read_in_slabs_equal_those_of_the_blocks() {
    xr::register();
    // Reductions over time, grouped or not. The grouped ones add the rows
    // in the same order either way (the same bits); float32 sums add the
    // slabs' partials, in another order than a block's.
    type Reduce = fn(&DataArray) -> xr::Result<DataArray>;
    let cases: [(&str, Reduce, f64); 7] = [
        ("seasonal mean", |a| a.groupby("time.season")?.mean("time"), 0.0),
        ("seasonal max", |a| a.groupby("time.season")?.max("time"), 0.0),
        ("seasonal count", |a| a.groupby("time.season")?.count("time"), 0.0),
        ("seasonal std", |a| a.groupby("time.season")?.std("time"), 1e-9),
        ("sum", |a| a.sum("time"), 1e-6),
        ("max", |a| a.max("time"), 0.0),
        ("std", |a| a.std("time"), 1e-9),
    ];
    // The piles' reads hand their blocks over in slabs of rows (taken
    // from inflated chunks, or read from contiguous variables); persisted,
    // the same blocks are held whole.
    for dir in ["pile_zlib", "pile"] {
        let tas = pile(dir);
        let held = tas.persist().unwrap();
        for (name, reduce, rtol) in cases {
            let (slabs, blocks) = (reduce(&tas).unwrap().values().unwrap(), reduce(&held).unwrap().values().unwrap());
            assert_eq!(slabs.shape(), blocks.shape());
            assert_close(&format!("{dir}: {name}"), slabs.as_slice().unwrap(), blocks.as_slice().unwrap(), rtol);
        }
    }
    // A chunk that does not inflate is an error that names its file.
    use std::os::unix::fs::FileExt;
    let dir = std::env::temp_dir().join(format!("bw-labeled-slabs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("era5_t2m_1981_01.nc");
    std::fs::copy(fixtures().join("pile_zlib/era5_t2m_1981_01.nc"), &bad).unwrap();
    let chunk = &xr::io::netcdf::stored_chunks(&bad, "t2m").unwrap().unwrap()[0];
    let writer = std::fs::OpenOptions::new().write(true).open(&bad).unwrap();
    writer.write_all_at(&vec![0xA5u8; chunk.size / 2], chunk.offset + 2).unwrap();
    let tas = xr::open_mfdataset(bad.to_str().unwrap(), &[("time", 10)]).unwrap().get("t2m").unwrap();
    let e = tas.groupby("time.season").unwrap().mean("time").unwrap().values().unwrap_err().to_string();
    assert!(e.contains("era5_t2m_1981_01.nc") && e.contains("inflate"), "{e}");
    let e = tas.mean("time").unwrap().values().unwrap_err().to_string();
    assert!(e.contains("era5_t2m_1981_01.nc") && e.contains("inflate"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
