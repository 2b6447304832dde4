//! Shared by the dataframe tests: the workspace's seeded generator and
//! column readers.
#![allow(dead_code)]

use polars::prelude::{DataFrame as PlFrame, DataType};

pub use blockwork_testkit::Rng;

pub fn f64s(df: &PlFrame, name: &str) -> Vec<Option<f64>> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().iter().collect()
}

pub fn i64s(df: &PlFrame, name: &str) -> Vec<Option<i64>> {
    let c = df.column(name).unwrap().cast(&DataType::Int64).unwrap();
    c.i64().unwrap().iter().collect()
}

pub fn strs(df: &PlFrame, name: &str) -> Vec<Option<String>> {
    let c = df.column(name).unwrap();
    c.str().unwrap().iter().map(|s| s.map(str::to_string)).collect()
}

pub fn bools(df: &PlFrame, name: &str) -> Vec<Option<bool>> {
    df.column(name).unwrap().bool().unwrap().iter().collect()
}

pub fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs())) || (a.is_nan() && b.is_nan())
}

/// A fresh directory for one test.
pub fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bw-df-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
