//! Helpers shared by the tests: the golden fixtures and xarray's values.
#![allow(dead_code)]

use std::path::PathBuf;

use blockwork_labeled::Index;
use serde_json::Value as J;

/// The fixtures directory.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// What xarray decoded from the fixtures (`scripts/golden/netcdf.py`).
pub fn expected() -> J {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A JSON list of numbers (null: NaN).
pub fn floats(v: &J) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect()
}

/// Equal within `rtol` (relative to the larger of |want| and 1), NaN equal to NaN.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], rtol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= rtol * w.abs().max(1.0);
        assert!(ok, "{what}[{i}]: got {g}, xarray has {w}");
    }
}

/// Whether `e` says that something is not there (a file, a store, a
/// glob's match): an I/O error of kind `NotFound`.
pub fn is_not_found(e: &blockwork_labeled::LabeledError) -> bool {
    matches!(e, blockwork_labeled::LabeledError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

/// An index's labels as text.
pub fn labels(i: &Index) -> Vec<String> {
    (0..i.len()).map(|k| i.label(k)).collect()
}
