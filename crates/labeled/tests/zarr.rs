//! Zarr v2 and v3 stores written by xarray decode to what xarray decodes
//! (`tests/fixtures/expected.json`), in the store's chunks or others;
//! datasets written with `to_zarr` read back the same; broken stores give
//! errors that name the store and the array.

use std::path::{Path, PathBuf};

mod common;
use common::*;

use blockwork_labeled::{self as xr, DataArray, Dataset, Index, ZarrVersion};
use serde_json::Value as J;

/// A fresh path in the temporary directory.
fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("bw-zarr-{}-{name}", std::process::id()));
    std::fs::remove_dir_all(&p).ok();
    p
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn check_against_xarray(store: &str, ds: &Dataset) {
    let e = expected();
    let want = &e["fixtures"][store];
    for (k, v) in want["attrs"].as_object().unwrap() {
        assert_eq!(ds.attrs().get(k).map(|a| a.to_string()).as_deref(), v.as_str(), "{store}: global attribute {k}");
    }
    for (name, v) in want["variables"].as_object().unwrap() {
        if v["kind"] == "coord" {
            let c = ds.coords().get(name).unwrap_or_else(|| panic!("{store}: no coordinate {name}"));
            match &c.index {
                Index::Time { .. } => {
                    let w: Vec<&str> = v["values"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
                    assert_eq!(labels(&c.index), w, "{store}: time coordinate `{name}`");
                }
                i => assert_close(
                    &format!("{store}: coordinate {name}"),
                    &i.as_f64().unwrap(),
                    &floats(&v["values"]),
                    0.0,
                ),
            }
            for (k, a) in v["attrs"].as_object().unwrap() {
                assert_eq!(c.attrs.get(k).map(|x| x.to_string()).as_deref(), a.as_str(), "{store}: {name}.{k}");
            }
            assert_eq!(c.attrs.len(), v["attrs"].as_object().unwrap().len(), "{store}: attributes of {name}");
            continue;
        }
        let da = ds.get(name).unwrap();
        let dims: Vec<&str> = v["dims"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
        assert_eq!(da.dims(), dims, "{store}: dims of {name}");
        let shape: Vec<usize> = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
        assert_eq!(da.shape(), shape, "{store}: shape of {name}");
        let dtype = da.data().dtype().name();
        let want_dtype = v["dtype"].as_str().unwrap();
        let widened = matches!(want_dtype, "int8" | "int16") && dtype == "int32";
        assert!(dtype == want_dtype || widened, "{store}: {name} is {dtype}, xarray has {want_dtype}");
        let values = da.values().unwrap();
        assert_close(&format!("{store}: {name}"), values.as_slice().unwrap(), &floats(&v["values"]), 0.0);
        for (k, a) in v["attrs"].as_object().unwrap() {
            assert_eq!(da.attrs().get(k).map(|x| x.to_string()).as_deref(), a.as_str(), "{store}: {name}.{k}");
        }
        assert_eq!(da.attrs().len(), v["attrs"].as_object().unwrap().len(), "{store}: attributes of {name}");
    }
}

#[test]
fn fixtures_decode_like_xarray() {
    xr::register();
    for store in ["zarr_v2.zarr", "zarr_v3.zarr"] {
        let ds = xr::open_zarr(fixtures().join(store), &[]).unwrap();
        assert_eq!(ds.data_vars(), ["orog", "pr", "tas"], "{store}");
        // Blocks are the store's chunks, as xarray's open_zarr makes them.
        let tas = ds.get("tas").unwrap();
        assert_eq!(tas.data().chunks(), [vec![3, 3, 2], vec![4], vec![5]], "{store}");
        assert_eq!(tas.data().ntasks(), 3, "{store}: one read task per block");
        check_against_xarray(store, &ds);
    }
    // Without consolidated metadata, the arrays of the group are walked.
    let walked = scratch("walked.zarr");
    copy_dir(&fixtures().join("zarr_v3.zarr"), &walked);
    let mut root: J = serde_json::from_str(&std::fs::read_to_string(walked.join("zarr.json")).unwrap()).unwrap();
    root.as_object_mut().unwrap().remove("consolidated_metadata");
    std::fs::write(walked.join("zarr.json"), root.to_string()).unwrap();
    check_against_xarray("zarr_v3.zarr", &xr::open_zarr(&walked, &[]).unwrap());
    std::fs::remove_dir_all(&walked).ok();
}

#[test]
fn chunk_overrides_read_across_store_chunks() {
    xr::register();
    let e = expected();
    for store in ["zarr_v2.zarr", "zarr_v3.zarr"] {
        for chunks in [&[("time", 2), ("lon", 2)][..], &[("time", 5), ("lat", 3)], &[("time", 8)]] {
            let ds = xr::open_zarr(fixtures().join(store), chunks).unwrap();
            for name in ["tas", "pr"] {
                let da = ds.get(name).unwrap();
                for &(d, c) in chunks {
                    let ax = da.axis(d).unwrap();
                    assert!(da.data().chunks()[ax].iter().all(|&b| b <= c), "{store} {name} {chunks:?}");
                }
                let want = floats(&e["fixtures"][store]["variables"][name]["values"]);
                let got = da.values().unwrap();
                assert_close(&format!("{store}: {name} in blocks {chunks:?}"), got.as_slice().unwrap(), &want, 0.0);
            }
        }
        let sliced = xr::open_zarr(fixtures().join(store), &[("time", 2)]).unwrap().get("tas").unwrap();
        let june = sliced.sel("time", "2001-01-04"..="2001-01-06").unwrap().mean("time").unwrap();
        assert_eq!(june.shape(), &[4, 5]);
    }
}

fn same_dataset(what: &str, a: &Dataset, b: &Dataset) {
    assert_eq!(a.data_vars(), b.data_vars(), "{what}");
    assert_eq!(a.attrs(), b.attrs(), "{what}: global attributes");
    assert_eq!(a.coords().keys().collect::<Vec<_>>(), b.coords().keys().collect::<Vec<_>>(), "{what}");
    for (d, c) in a.coords() {
        let o = &b.coords()[d];
        match (&c.index, &o.index) {
            (Index::Time { calendar, .. }, Index::Time { calendar: c2, .. }) => {
                assert_eq!(calendar, c2, "{what}: calendar of {d}");
                assert_eq!(labels(&c.index), labels(&o.index), "{what}: {d}");
            }
            (Index::Str(x), Index::Str(y)) => assert_eq!(x, y, "{what}: {d}"),
            (x, y) => assert_close(&format!("{what}: {d}"), &x.as_f64().unwrap(), &y.as_f64().unwrap(), 0.0),
        }
        assert_eq!(c.attrs, o.attrs, "{what}: attributes of {d}");
    }
    for name in a.data_vars() {
        let (x, y) = (a.get(name).unwrap(), b.get(name).unwrap());
        assert_eq!(x.dims(), y.dims(), "{what}: {name}");
        assert_eq!(x.data().dtype(), y.data().dtype(), "{what}: {name}");
        assert_eq!(x.attrs(), y.attrs(), "{what}: attributes of {name}");
        let (vx, vy) = (x.values().unwrap(), y.values().unwrap());
        assert_close(&format!("{what}: {name}"), vx.as_slice().unwrap(), vy.as_slice().unwrap(), 0.0);
    }
}

#[test]
fn netcdf_dataset_round_trips_through_zarr() {
    xr::register();
    let src = xr::open_dataset(fixtures().join("nc4_zlib.nc"), &[("time", 4), ("longitude", 4)]).unwrap();
    for (version, tag) in [(ZarrVersion::V2, "v2"), (ZarrVersion::V3, "v3")] {
        let path = scratch(&format!("roundtrip-{tag}.zarr"));
        src.to_zarr(&path, version).unwrap();
        let meta = if version == ZarrVersion::V2 { ".zmetadata" } else { "zarr.json" };
        assert!(path.join(meta).is_file(), "{tag}: consolidated metadata");
        let back = xr::open_zarr(&path, &[]).unwrap();
        same_dataset(tag, &src, &back);
        // The chunk grid is the blocks: 4 along time, 4 along longitude.
        assert_eq!(back.get("t2m").unwrap().data().chunks(), [vec![4, 4, 2], vec![5], vec![4, 2]], "{tag}");
        let units = std::fs::read_to_string(path.join(if version == ZarrVersion::V2 {
            "time/.zattrs"
        } else {
            "time/zarr.json"
        }))
        .unwrap();
        // `gregorian` is written by its CF name, `standard`.
        assert!(units.contains("hours since 1979-01-01 00:00:00") && units.contains("\"standard\""), "{units}");
        // Writing again over a store is refused, naming it.
        let e = src.to_zarr(&path, version).unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()) && e.contains("already exists"), "{e}");
        std::fs::remove_dir_all(&path).ok();
    }
}

#[test]
fn irregular_blocks_text_coordinates_and_unnamed_arrays() {
    xr::register();
    let t2m = xr::open_dataset(fixtures().join("nc4_zlib.nc"), &[]).unwrap().get("t2m").unwrap();
    let data = t2m.data().rechunk(vec![vec![3, 4, 3], vec![2, 3], vec![6]]).unwrap();
    let dims = t2m.dims();
    let irregular = DataArray::new(None, &dims, data, t2m.coords().clone(), t2m.attrs().clone()).unwrap();
    let seasons = t2m.groupby("time.season").unwrap().mean("time").unwrap();
    for (version, tag) in [(ZarrVersion::V2, "v2"), (ZarrVersion::V3, "v3")] {
        let path = scratch(&format!("irregular-{tag}.zarr"));
        irregular.to_zarr(&path, version).unwrap();
        let back = xr::open_zarr(&path, &[]).unwrap().get("__xarray_dataarray_variable__").unwrap();
        assert_eq!(back.data().chunks(), [vec![4, 4, 2], vec![3, 2], vec![6]], "{tag}: rechunked to regular");
        let (a, b) = (t2m.values().unwrap(), back.values().unwrap());
        assert_close(tag, b.as_slice().unwrap(), a.as_slice().unwrap(), 0.0);
        std::fs::remove_dir_all(&path).ok();

        let path = scratch(&format!("seasons-{tag}.zarr"));
        seasons.to_zarr(&path, version).unwrap();
        let back = xr::open_zarr(&path, &[]).unwrap().get("t2m").unwrap();
        assert_eq!(labels(&back.coord("season").unwrap().index), labels(&seasons.coord("season").unwrap().index));
        let (a, b) = (seasons.values().unwrap(), back.values().unwrap());
        assert_close(tag, b.as_slice().unwrap(), a.as_slice().unwrap(), 0.0);
        std::fs::remove_dir_all(&path).ok();
    }
}

fn compute_err(ds: Result<Dataset, xr::LabeledError>, var: &str) -> String {
    match ds {
        Err(e) => e.to_string(),
        Ok(ds) => ds.get(var).unwrap().values().map(|_| "no error".to_string()).unwrap_or_else(|e| e.to_string()),
    }
}

#[test]
fn broken_stores_give_errors_that_name_them() {
    xr::register();
    let missing = scratch("missing.zarr");
    // A store that is not there is a missing file (what Python raises as
    // `FileNotFoundError`); a directory that is there but holds no store
    // is a file that is not what it should be.
    let e = xr::open_zarr(&missing, &[]).unwrap_err();
    assert!(is_not_found(&e), "{e:?}");
    assert_eq!(blockwork_graph::Fault::kind(&e), blockwork_graph::ErrorKind::User, "{e}");
    let e = e.to_string();
    assert!(e.contains("missing.zarr") && e.contains("no such file"), "{e}");
    let empty = scratch("empty.zarr");
    std::fs::create_dir_all(&empty).unwrap();
    let e = xr::open_zarr(&empty, &[]).unwrap_err();
    assert!(matches!(e, xr::LabeledError::File { .. }), "{e:?}");
    assert_eq!(blockwork_graph::Fault::kind(&e), blockwork_graph::ErrorKind::User, "{e}");
    let e = e.to_string();
    assert!(e.contains("empty.zarr") && e.contains("not a Zarr store"), "{e}");

    // What the system refuses (here: a directory where the metadata file
    // should be) is the environment's, with the system's error kept.
    let unreadable = scratch("unreadable.zarr");
    std::fs::create_dir_all(unreadable.join("zarr.json")).unwrap();
    let e = xr::open_zarr(&unreadable, &[]).unwrap_err();
    assert!(matches!(e, xr::LabeledError::Io { .. }), "{e:?}");
    assert_eq!(blockwork_graph::Fault::kind(&e), blockwork_graph::ErrorKind::Environment, "{e}");
    assert!(std::error::Error::source(&e).is_some() && e.to_string().contains("unreadable.zarr/zarr.json"), "{e}");

    // Corrupt consolidated metadata.
    let bad = scratch("badmeta.zarr");
    copy_dir(&fixtures().join("zarr_v2.zarr"), &bad);
    std::fs::write(bad.join(".zmetadata"), b"{\"metadata\": {").unwrap();
    let e = xr::open_zarr(&bad, &[]).unwrap_err().to_string();
    assert!(e.contains("badmeta.zarr") && e.contains(".zmetadata"), "{e}");
    // Without it, the arrays' own metadata is read; a corrupt one is named.
    std::fs::remove_file(bad.join(".zmetadata")).unwrap();
    assert_eq!(xr::open_zarr(&bad, &[]).unwrap().data_vars(), ["orog", "pr", "tas"]);
    std::fs::write(bad.join("tas/.zarray"), b"not json").unwrap();
    let e = xr::open_zarr(&bad, &[]).unwrap_err().to_string();
    assert!(e.contains("badmeta.zarr") && e.contains("tas/.zarray"), "{e}");

    // A codec nobody knows.
    let codec = scratch("codec.zarr");
    copy_dir(&fixtures().join("zarr_v3.zarr"), &codec);
    let root = std::fs::read_to_string(codec.join("zarr.json")).unwrap();
    std::fs::write(codec.join("zarr.json"), root.replacen("\"gzip\"", "\"nocodec\"", 1)).unwrap();
    let e = xr::open_zarr(&codec, &[]).unwrap_err().to_string();
    assert!(e.contains("codec.zarr") && e.contains("array `pr`"), "{e}");

    // Truncated and corrupt chunks: Blosc, uncompressed, zstd, gzip.
    let cut = scratch("cut.zarr");
    copy_dir(&fixtures().join("zarr_v2.zarr"), &cut);
    for (chunk, var) in [("tas/1.0.0", "tas"), ("pr/0.0.0", "pr"), ("orog/0.0", "orog")] {
        let bytes = std::fs::read(cut.join(chunk)).unwrap();
        std::fs::write(cut.join(chunk), &bytes[..bytes.len() / 2]).unwrap();
        let e = compute_err(xr::open_zarr(&cut, &[]), var);
        assert!(e.contains("cut.zarr") && e.contains(&format!("array `{var}`")), "{chunk}: {e}");
    }
    let garbled = scratch("garbled.zarr");
    copy_dir(&fixtures().join("zarr_v3.zarr"), &garbled);
    for (chunk, var) in [("tas/c/0/0/0", "tas"), ("pr/c/2/0/0", "pr")] {
        std::fs::write(garbled.join(chunk), b"definitely not a compressed chunk").unwrap();
        let e = compute_err(xr::open_zarr(&garbled, &[]), var);
        assert!(e.contains("garbled.zarr") && e.contains(&format!("array `{var}`")), "{chunk}: {e}");
    }
    for p in [empty, bad, codec, cut, garbled] {
        std::fs::remove_dir_all(p).ok();
    }
}

fn plain(name: &str) -> PathBuf {
    fixtures().join("plain").join(name)
}

#[test]
fn plain_arrays_written_by_zarr_python_and_dask_read_back() {
    // Root arrays, v2 (int32) and v3 (float32), in their chunks and in others.
    let x = xr::open_zarr_array(plain("v2.zarr"), None, None).unwrap();
    assert_eq!(
        (x.shape(), x.dtype(), x.chunks()[0].clone()),
        (&[7, 5][..], blockwork_array::DType::I32, vec![3, 3, 1])
    );
    let want = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[7, 5]), |i| (100 * i[0] + i[1]) as f64);
    assert_eq!(x.cast::<f64>().compute().unwrap(), want);
    let y = xr::open_zarr_array(plain("v3.zarr"), None, Some(&[5, 4])).unwrap();
    assert_eq!((y.dtype(), y.chunks()[0].clone()), (blockwork_array::DType::F32, vec![5, 1]));
    let want = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[6, 4]), |i| (i[0] as f32 + i[1] as f32 / 10.0) as f64);
    assert_eq!(y.cast::<f64>().compute().unwrap(), want);
    // Arrays of a group, by component.
    let t = xr::open_zarr_array(plain("group.zarr"), Some("temp"), None).unwrap();
    assert_eq!(
        t.cast::<f64>().compute().unwrap().iter().copied().collect::<Vec<_>>(),
        (0..9).map(|i| i as f64 / 4.0).collect::<Vec<_>>()
    );
    let m = xr::open_zarr_array(plain("group.zarr"), Some("mask"), None).unwrap();
    assert_eq!(m.dtype(), blockwork_array::DType::Bool);
    assert_eq!(m.cast::<f64>().compute().unwrap().sum(), 3.0);
}

#[test]
fn plain_arrays_round_trip_and_errors_name_the_store() {
    let a = ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[9, 4]), |i| (i[0] * 4 + i[1]) as f64 * 0.5);
    for (version, name) in [(ZarrVersion::V2, "rt-v2"), (ZarrVersion::V3, "rt-v3")] {
        let path = scratch(name);
        // Irregular blocks are made regular (the largest block) on the way.
        let data = xr::Data::F64(blockwork_array::from_ndarray(a.clone(), vec![vec![2, 4, 3], vec![4]]).unwrap());
        xr::write_zarr_array(&data, &path, version).unwrap();
        let back = xr::open_zarr_array(&path, None, None).unwrap();
        assert_eq!(back.chunks()[0], vec![4, 4, 1], "{version:?}");
        assert_eq!(back.cast::<f64>().compute().unwrap(), a, "{version:?}");
        let e = xr::write_zarr_array(&data, &path, version).unwrap_err().to_string();
        assert!(e.contains(name) && e.contains("already exists"), "{e}");
        let e = xr::open_zarr(&path, &[]).unwrap_err().to_string();
        assert!(e.contains("is a Zarr array, not a group"), "{e}");
        std::fs::remove_dir_all(&path).ok();
    }
    let path = scratch("rt-complex");
    let re = blockwork_array::ones::<f64>(&[3], 2).unwrap();
    let z = xr::Data::from(blockwork_array::complex(&re, &re).unwrap());
    let e = xr::write_zarr_array(&z, &path, ZarrVersion::V3).unwrap_err().to_string();
    assert!(e.contains("rt-complex") && e.contains("complex128") && e.contains("real types only"), "{e}");
    assert!(!path.exists(), "nothing is written for a refused array");
    let e = xr::open_zarr_array(plain("group.zarr"), None, None).unwrap_err().to_string();
    assert!(e.contains("group.zarr") && e.contains("`mask`, `temp`") && e.contains("component"), "{e}");
    let e = xr::open_zarr_array(plain("group.zarr"), Some("nope"), None).unwrap_err().to_string();
    assert!(e.contains("no array `nope`"), "{e}");
    let e = xr::open_zarr_array(plain("v2.zarr"), None, Some(&[2])).unwrap_err().to_string();
    assert!(e.contains("the array has 2 dimensions"), "{e}");
    let e = xr::open_zarr(plain("group.zarr"), &[]).unwrap_err().to_string();
    assert!(e.contains("no dimension names"), "{e}");
}
