//! GRIB2 files read as cfgrib reads them: the same variables, dimensions,
//! coordinates (index and scalar), attributes and values, for fields
//! packed simply, with complex packing and spatial differencing, and with
//! CCSDS; accumulations over forecast steps; missing points (a bitmap);
//! a pile of monthly files combined along time. `expected.json` is what
//! cfgrib gives (`scripts/golden/grib.py`).

mod common;
use common::*;

use blockwork_labeled::{self as xr, AttrValue, Attrs, Dataset, Index};
use serde_json::Value as J;

fn grib_dir() -> std::path::PathBuf {
    fixtures().join("grib")
}

fn expected_grib() -> J {
    serde_json::from_str(&std::fs::read_to_string(grib_dir().join("expected.json")).unwrap()).unwrap()
}

/// An index's values as cfgrib's JSON has them: ISO times, numbers.
fn index_json(i: &Index) -> Vec<J> {
    match i {
        Index::Time { values, .. } => values
            .iter()
            .map(|t| {
                J::String(format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                    t.year, t.month, t.day, t.hour, t.minute, t.second
                ))
            })
            .collect(),
        Index::Float(v) => v.iter().map(|x| serde_json::json!(x)).collect(),
        Index::Int(v) => v.iter().map(|x| serde_json::json!(x)).collect(),
        Index::Str(v) => v.iter().map(|x| J::String(x.clone())).collect(),
    }
}

/// A coordinate's values as expected: `step` is a timedelta in cfgrib
/// (seconds in the JSON), hours here.
fn want_values(name: &str, v: &J) -> Vec<J> {
    let list = match v {
        J::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    if name == "step" {
        return list.iter().map(|s| serde_json::json!(s.as_f64().unwrap() / 3600.0)).collect();
    }
    list
}

fn check_attrs(what: &str, got: &Attrs, want: &J) {
    let want = want.as_object().unwrap();
    let names: Vec<&String> = got.keys().collect();
    let mut want_names: Vec<&String> = want.keys().collect();
    want_names.sort();
    assert_eq!(names, want_names, "{what}: attribute names");
    for (k, w) in want {
        let ok = match (&got[k], w) {
            (AttrValue::Str(s), J::String(t)) => s == t,
            (AttrValue::Int(v), J::Number(n)) => v.len() == 1 && Some(v[0]) == n.as_i64(),
            (AttrValue::Num(v), J::Number(n)) => v.len() == 1 && Some(v[0]) == n.as_f64(),
            _ => false,
        };
        assert!(ok, "{what}: attribute {k}: got {:?}, cfgrib has {w}", got[k]);
    }
}

fn flat(v: &J, out: &mut Vec<f64>) {
    match v {
        J::Array(a) => a.iter().for_each(|x| flat(x, out)),
        J::Null => out.push(f64::NAN),
        x => out.push(x.as_f64().unwrap()),
    }
}

/// The dataset equals what cfgrib made of the same file(s).
fn check(ds: &Dataset, want: &J, what: &str) {
    check_attrs(&format!("{what}: global"), ds.attrs(), &want["attrs"]);
    for (name, c) in want["coords"].as_object().unwrap() {
        let dims: Vec<String> = serde_json::from_value(c["dims"].clone()).unwrap();
        let (values, attrs) = match ds.coords().get(name) {
            Some(ix) if dims == [name.clone()] => (&ix.index, &ix.attrs),
            _ => {
                let a = ds.aux_coords().iter().find(|a| a.name == *name);
                let a = a.unwrap_or_else(|| panic!("{what}: no coordinate `{name}`"));
                assert_eq!(a.dims, dims, "{what}: dimensions of `{name}`");
                (&a.values, &a.attrs)
            }
        };
        assert_eq!(index_json(values), want_values(name, &c["values"]), "{what}: values of `{name}`");
        check_attrs(&format!("{what}: `{name}`"), attrs, &c["attrs"]);
    }
    let mut names: Vec<String> = want["data_vars"].as_object().unwrap().keys().cloned().collect();
    names.sort();
    assert_eq!(ds.data_vars(), names, "{what}: variables");
    for (name, v) in want["data_vars"].as_object().unwrap() {
        let da = ds.get(name).unwrap();
        let dims: Vec<String> = serde_json::from_value(v["dims"].clone()).unwrap();
        assert_eq!(da.dims(), dims, "{what}: dimensions of {name}");
        assert_eq!(da.data().dtype().name(), "float32", "{what}: {name} is float32 as in cfgrib");
        check_attrs(&format!("{what}: {name}"), da.attrs(), &v["attrs"]);
        let mut want_values = Vec::new();
        flat(&v["values"], &mut want_values);
        let got: Vec<f64> = da.values().unwrap().iter().copied().collect();
        assert_close(&format!("{what}: {name}"), &got, &want_values, 0.0);
    }
}

#[test]
fn grib2_files_read_as_cfgrib_reads_them() {
    xr::register();
    let e = expected_grib();
    for file in [
        "era5_t2m_2001_01.grib2",
        "era5_t2m_2001_02.grib2",
        "era5_t2m_2001_03.grib2",
        "pl_2001.grib2",
        "tp_accum.grib2",
        "sst_bitmap.grib2",
    ] {
        let ds = xr::open_dataset(grib_dir().join(file), &[]).unwrap();
        check(&ds, &e[file], file);
    }
}

#[test]
fn a_grib_pile_combines_along_time_in_blocks() {
    xr::register();
    let e = expected_grib();
    let pattern = grib_dir().join("era5_t2m_2001_*.grib2");
    let ds = xr::open_mfdataset(pattern.to_str().unwrap(), &[("time", 4)]).unwrap();
    check(&ds, &e["pile"], "pile");
    let t2m = ds.get("t2m").unwrap();
    assert_eq!(t2m.data().chunks()[0], vec![4, 4, 2, 4, 4, 2, 4, 4, 2], "blocks of 4 days within each file");
    // The climate workflow's steps on it.
    let jan = t2m.sel("time", "2001-01").unwrap().mean("time").unwrap().values().unwrap();
    assert_eq!(jan.shape(), &[7, 8]);
    // Blocks split across the grid too.
    let split = xr::open_mfdataset(pattern.to_str().unwrap(), &[("latitude", 3), ("longitude", 5)]).unwrap();
    assert_eq!(split.get("t2m").unwrap().values().unwrap(), t2m.values().unwrap());
}

#[test]
fn bad_grib_files_give_errors_that_name_them() {
    xr::register();
    let dir = std::env::temp_dir().join(format!("bw-grib-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Cut short: the header is there, the rest is not.
    let whole = std::fs::read(grib_dir().join("pl_2001.grib2")).unwrap();
    let cut = dir.join("cut.grib2");
    std::fs::write(&cut, &whole[..60]).unwrap();
    let e = xr::open_dataset(&cut, &[]).unwrap_err().to_string();
    assert!(e.contains("cut.grib2"), "{e}");
    // Damaged data: opened, then read.
    let mut damaged = whole.clone();
    let n = damaged.len();
    for b in &mut damaged[n - 40..n - 4] {
        *b = 0xff;
    }
    let path = dir.join("damaged.grib2");
    std::fs::write(&path, &damaged).unwrap();
    if let Ok(ds) = xr::open_dataset(&path, &[]) {
        // Either refused when read or read as whatever the bytes hold; never a panic.
        let _ = ds.get("z").and_then(|z| z.values());
    }
    std::fs::remove_dir_all(&dir).ok();
}
