//! resample, where, weighted means and rolling windows against xarray's
//! values (where it recorded them) and plain loops over the computed array.

mod common;
use common::*;

use blockwork_labeled::{self as xr, Cmp, Coord, Coords, Data, DataArray, Index};
use ndarray::{ArrayD, Axis};
use serde_json::Value as J;

fn tas() -> DataArray {
    xr::register();
    let p = fixtures().join("pile/era5_t2m_*.nc");
    // Blocks that do not line up with months, to exercise windows across blocks.
    xr::open_mfdataset(p.to_str().unwrap(), &[("time", 13)]).unwrap().get("t2m").unwrap()
}

fn close(what: &str, got: &ArrayD<f64>, want: &ArrayD<f64>, rtol: f64) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= rtol * w.abs().max(1.0);
        assert!(ok, "{what}[{i}]: {g} vs {w}");
    }
}

#[test]
fn resample_month_starts_like_xarray() {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    let e: J = serde_json::from_str(&text).unwrap();
    let w = &e["fixtures"]["pile"]["workflow"]["resample_MS_first3"];
    let m = tas().resample("time", "MS").unwrap().mean("time").unwrap();
    assert_eq!(m.shape(), &[48, 7, 8]);
    assert_eq!(m.coord("time").unwrap().index.label(1), "1979-02-01T00:00:00");
    let first3 = m.isel("time", 0..3).unwrap().values().unwrap();
    let want: Vec<f64> = w["values_f64"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    close("resample MS", &first3, &ArrayD::from_shape_vec(first3.shape(), want).unwrap(), 1e-6);
    // Seasons as quarters starting in December: the first holds Jan–Feb 1979 only.
    let q = tas().resample("time", "QS-DEC").unwrap().count("time").unwrap();
    assert_eq!(q.coord("time").unwrap().index.label(0), "1978-12-01T00:00:00");
    assert_eq!(q.values().unwrap()[[0, 0, 0]], 59.0);
    let y = tas().resample("time", "YS").unwrap().count("time").unwrap().values().unwrap();
    assert_eq!(
        y.index_axis(Axis(1), 0).index_axis(Axis(1), 0).iter().copied().collect::<Vec<_>>(),
        [365.0, 366.0, 365.0, 365.0]
    );
    let e = tas().resample("latitude", "MS").unwrap_err().to_string();
    assert!(e.contains("needs datetimes"), "{e}");
}

#[test]
fn where_masks_and_weighted_means() {
    let t = tas();
    let all = t.values().unwrap();
    let warm = t.where_(&t.compare(Cmp::Gt, 270.0).unwrap()).unwrap();
    let want = all.mapv(|x| if x > 270.0 { x } else { f64::NAN });
    close("where", &warm.values().unwrap(), &want, 0.0);
    // A mask on fewer dimensions broadcasts by name.
    let lat = t.coord("latitude").unwrap().clone();
    let lat_values = lat.index.as_f64().unwrap();
    let lat_da = |v: Vec<f64>| {
        let mut c = Coords::new();
        c.insert("latitude".into(), Coord::new(lat.index.clone()));
        let a = blockwork_array::from_ndarray(ArrayD::from_shape_vec(vec![v.len()], v).unwrap(), 3).unwrap();
        DataArray::new(Some("w"), &["latitude"], Data::F64(a), c, Default::default()).unwrap()
    };
    let north = t.where_(&lat_da(lat_values.clone()).compare(Cmp::Ge, 0.0).unwrap()).unwrap().values().unwrap();
    assert!(north.index_axis(Axis(1), 6).iter().all(|x| x.is_nan()) && !north[[0, 0, 0]].is_nan());
    // Weighted by cos(latitude), with NaNs: Σ w·x / Σ w over the present values.
    let cos = lat_da(lat_values.iter().map(|l| l.to_radians().cos()).collect());
    let got = warm.weighted(&cos).mean(&["latitude", "longitude"]).unwrap().values().unwrap();
    let mut want = ArrayD::zeros(vec![all.shape()[0]]);
    for ti in 0..all.shape()[0] {
        let (mut num, mut den) = (0.0, 0.0);
        for (j, l) in lat_values.iter().enumerate() {
            for k in 0..all.shape()[2] {
                let x = all[[ti, j, k]];
                if x > 270.0 {
                    num += x * l.to_radians().cos();
                    den += l.to_radians().cos();
                }
            }
        }
        want[[ti]] = num / den;
    }
    close("weighted mean", &got, &want, 1e-9);
    assert_eq!(t.fillna(0.0).unwrap().values().unwrap(), all);
    let e = cos.where_(&t.compare(Cmp::Gt, 0.0).unwrap()).unwrap_err().to_string();
    assert!(e.contains("dimension `time`"), "{e}");
}

#[test]
fn rolling_windows_match_a_loop() {
    let t = tas().isel("time", 0..40).unwrap();
    // A few NaNs: windows holding one are NaN unless min_periods allows them.
    let holes = t.where_(&t.compare(Cmp::Ne, t.values().unwrap()[[7, 2, 3]]).unwrap()).unwrap();
    let x = holes.values().unwrap();
    for (window, center) in [(1, false), (5, false), (5, true), (4, true), (60, false)] {
        let r = holes.rolling("time", window, center).unwrap();
        let got = r.mean().unwrap().values().unwrap();
        let sum = r.sum().unwrap().values().unwrap();
        let mut want = ArrayD::from_elem(x.shape(), f64::NAN);
        let mut want_sum = want.clone();
        let n = x.shape()[0];
        for i in 0..n {
            // Window ending at `end` (inclusive), labelled at i.
            let end = if center { i + window / 2 } else { i };
            if end >= n || end + 1 < window {
                continue;
            }
            for j in 0..x.shape()[1] {
                for k in 0..x.shape()[2] {
                    let vals: Vec<f64> = (end + 1 - window..=end).map(|s| x[[s, j, k]]).collect();
                    if vals.iter().all(|v| !v.is_nan()) {
                        want[[i, j, k]] = vals.iter().sum::<f64>() / window as f64;
                        want_sum[[i, j, k]] = vals.iter().sum::<f64>();
                    }
                }
            }
        }
        close(&format!("rolling mean {window} {center}"), &got, &want, 1e-5);
        close(&format!("rolling sum {window} {center}"), &sum, &want_sum, 1e-5);
    }
    let relaxed = holes.rolling("time", 3, false).unwrap().min_periods(1).mean().unwrap().values().unwrap();
    assert!(!relaxed[[7, 2, 3]].is_nan() && !relaxed[[0, 0, 0]].is_nan());
    let c = holes.rolling("time", 3, false).unwrap().count().unwrap().values().unwrap();
    assert_eq!((c[[0, 0, 0]], c[[5, 0, 0]], c[[8, 2, 3]]), (1.0, 3.0, 2.0));
    assert!(holes.rolling("time", 0, false).is_err());
    let _ = Index::Int(vec![]);
}

#[test]
fn typed_kernel_parameters_are_in_the_handshake_fingerprint() {
    blockwork_labeled::register();
    let layouts = blockwork_graph::registry_layouts();
    let layout = |name: &str| layouts.iter().find(|(n, _)| *n == name).map(|(_, l)| &l[..]);
    let netcdf = layout("blockwork.labeled.read_netcdf").unwrap_or_default();
    assert!(netcdf.starts_with("ReadNetcdfParams { file: FileRef, variable: Arc<str>, dtype: DType"), "{netcdf}");
    // The nested declared types' layouts are part of it.
    assert!(netcdf.contains("FileRef { path: Arc<str>, size: u64, mtime_ns: i64 }"), "{netcdf}");
    assert!(netcdf.contains("Decode { scale: Option<f64>, offset: Option<f64>, missing: Vec<f64> }"), "{netcdf}");
    let grib = layout("blockwork.labeled.read_grib").unwrap_or_default();
    assert!(grib.contains("fields: Vec<Option<GribField>>") && grib.contains("GribField { offset: u64"), "{grib}");
    assert!(layout("blockwork.labeled.read_zarr").is_some_and(|l| l.starts_with("ReadZarrParams { store: Arc<str>")));
    assert!(layout("blockwork.labeled.write_zarr").is_some_and(|l| l.starts_with("WriteZarrParams { store: Arc<str>")));
}
