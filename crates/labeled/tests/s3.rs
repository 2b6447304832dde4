//! NetCDF and GRIB2 piles and Zarr stores in an S3-compatible object store
//! read as the same files on disk do, against the local server
//! `scripts/test` starts (`blockwork_testkit::s3`).

mod common;
use common::*;

use blockwork_labeled::{self as xr, ZarrVersion};

#[test]
fn netcdf_piles_and_zarr_stores_in_a_bucket_read_as_on_disk() {
    let Some(endpoint) = blockwork_testkit::s3::endpoint() else { return };
    let bucket = blockwork_testkit::s3::bucket(&endpoint, "bw-labeled");
    xr::register();

    // Two piles (zlib-compressed NetCDF-4 as xarray writes it, and classic
    // NetCDF-3), uploaded as they are, then read by ranges.
    for dir in ["pile_zlib", "pile"] {
        for entry in std::fs::read_dir(fixtures().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            blockwork_store::write_all(&format!("s3://{bucket}/{dir}/{name}"), std::fs::read(&path).unwrap()).unwrap();
        }
        let local = xr::open_mfdataset(fixtures().join(dir).join("era5_t2m_*.nc").to_str().unwrap(), &[("time", 10)])
            .unwrap()
            .get("t2m")
            .unwrap();
        let remote = xr::open_mfdataset(format!("s3://{bucket}/{dir}/era5_t2m_*.nc"), &[("time", 10)])
            .unwrap()
            .get("t2m")
            .unwrap();
        assert_eq!(remote.shape(), local.shape(), "{dir}");
        assert_eq!(remote.coords(), local.coords(), "{dir}");
        assert_eq!(remote.attrs(), local.attrs(), "{dir}");
        assert_eq!(remote.data().chunks(), local.data().chunks(), "{dir}");
        assert_eq!(remote.values().unwrap(), local.values().unwrap(), "{dir}");
        // A season's mean, as the climate workflow takes it.
        let season = |a: &xr::DataArray| a.groupby("time.season").unwrap().mean("time").unwrap().values().unwrap();
        assert_eq!(season(&remote), season(&local), "{dir}");
    }

    // A GRIB2 pile (each message one ranged read).
    for entry in std::fs::read_dir(fixtures().join("grib")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        blockwork_store::write_all(&format!("s3://{bucket}/grib/{name}"), std::fs::read(&path).unwrap()).unwrap();
    }
    let local_grib = fixtures().join("grib").join("era5_t2m_2001_*.grib2");
    let local = xr::open_mfdataset(local_grib.to_str().unwrap(), &[("time", 4)]).unwrap().get("t2m").unwrap();
    let remote = xr::open_mfdataset(format!("s3://{bucket}/grib/era5_t2m_2001_*.grib2"), &[("time", 4)])
        .unwrap()
        .get("t2m")
        .unwrap();
    assert_eq!(remote.coords(), local.coords(), "grib");
    assert_eq!(remote.values().unwrap(), local.values().unwrap(), "grib");

    // Written to the bucket, read back: NetCDF-4 (compressed) and classic.
    let ds = xr::open_dataset(fixtures().join("nc4_zlib.nc"), &[("time", 4)]).unwrap();
    for (name, opts) in [
        ("copy4.nc", xr::NetcdfOptions { netcdf4: true, zlib: Some(1) }),
        ("copy3.nc", xr::NetcdfOptions { netcdf4: false, zlib: None }),
    ] {
        let url = format!("s3://{bucket}/written/{name}");
        ds.to_netcdf_with(&url, opts).unwrap();
        let back = xr::open_dataset(&url, &[]).unwrap();
        assert_eq!(back.get("t2m").unwrap().values().unwrap(), ds.get("t2m").unwrap().values().unwrap(), "{name}");
        assert_eq!(back.coords(), ds.coords(), "{name}");
    }

    // Zarr: the fixtures' stores copied object by object, and a dataset
    // written by `to_zarr` straight into the bucket, in both versions.
    for store in ["zarr_v2.zarr", "zarr_v3.zarr"] {
        upload_dir(&fixtures().join(store), &format!("s3://{bucket}/{store}"));
        let local = xr::open_zarr(fixtures().join(store), &[("time", 2)]).unwrap();
        let remote = xr::open_zarr(format!("s3://{bucket}/{store}"), &[("time", 2)]).unwrap();
        assert_eq!(remote.data_vars(), local.data_vars(), "{store}");
        for v in local.data_vars() {
            let (l, r) = (local.get(v).unwrap(), remote.get(v).unwrap());
            assert_eq!(r.coords(), l.coords(), "{store} {v}");
            assert_eq!(r.data().chunks(), l.data().chunks(), "{store} {v}");
            let flat = |a: &xr::DataArray| a.values().unwrap().iter().copied().collect::<Vec<f64>>();
            assert_close(&format!("{store} {v}"), &flat(&r), &flat(&l), 0.0);
        }
    }
    let pile =
        xr::open_mfdataset(fixtures().join("pile").join("era5_t2m_*.nc").to_str().unwrap(), &[("time", 100)]).unwrap();
    for (version, tag) in [(ZarrVersion::V2, "v2"), (ZarrVersion::V3, "v3")] {
        let url = format!("s3://{bucket}/written-{tag}.zarr");
        pile.to_zarr(&url, version).unwrap();
        let back = xr::open_zarr(&url, &[]).unwrap();
        let (a, b) = (pile.get("t2m").unwrap(), back.get("t2m").unwrap());
        assert_eq!(b.coords(), a.coords(), "{tag}");
        assert_eq!(b.values().unwrap(), a.values().unwrap(), "{tag}");
    }

    // What is not there is named.
    let e = xr::open_mfdataset(format!("s3://{bucket}/pile/none-*.nc"), &[]).unwrap_err().to_string();
    assert!(e.contains("none-*.nc") && e.contains("no files match"), "{e}");
    let e = xr::open_zarr(format!("s3://{bucket}/missing.zarr"), &[]).unwrap_err();
    assert!(is_not_found(&e), "{e:?}");
    let e = e.to_string();
    assert!(e.contains("missing.zarr") && e.contains("not a Zarr store"), "{e}");
    blockwork_store::write_all(&format!("s3://{bucket}/bad/junk.nc"), b"not a NetCDF file at all".to_vec()).unwrap();
    let e = xr::open_dataset(format!("s3://{bucket}/bad/junk.nc"), &[]).unwrap_err().to_string();
    assert!(e.contains("junk.nc"), "{e}");
}

/// Copies a directory's files to objects under `url`, keeping their relative keys.
fn upload_dir(dir: &std::path::Path, url: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            upload_dir(&path, &format!("{url}/{name}"));
        } else {
            blockwork_store::write_all(&format!("{url}/{name}"), std::fs::read(&path).unwrap()).unwrap();
        }
    }
}
