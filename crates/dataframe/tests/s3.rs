//! Reading and writing `s3://` URLs against the local S3-compatible server
//! `scripts/test` starts (`blockwork_testkit::s3`).

mod common;

use blockwork_dataframe::{col, read_csv, read_json, read_parquet, CsvOptions, DataFrame, ParquetOptions};
use common::{f64s, i64s, Rng};
use polars::prelude::{DataFrame as PlFrame, IntoColumn, NamedFrom, Series};

#[test]
fn files_in_a_bucket_read_and_write_as_local_ones() {
    let Some(endpoint) = blockwork_testkit::s3::endpoint() else { return };
    let bucket = blockwork_testkit::s3::bucket(&endpoint, "bw-test");
    blockwork_dataframe::register();

    let mut rng = Rng::new(77);
    let n = 2000;
    let k: Vec<i64> = (0..n).map(|_| rng.below(10) as i64).collect();
    let v: Vec<f64> = (0..n).map(|_| rng.below(1000) as f64 / 4.0).collect();
    let pl = PlFrame::new(
        n,
        vec![Series::new("k".into(), k.clone()).into_column(), Series::new("v".into(), v.clone()).into_column()],
    )
    .unwrap();
    let df = DataFrame::from_polars(&pl, 3).unwrap();

    // CSV: written as objects, read back by byte ranges of small blocks.
    let written = df.to_csv(&format!("s3://{bucket}/csv")).unwrap();
    assert_eq!(written[0], format!("s3://{bucket}/csv/part.0.csv"));
    let options = CsvOptions { blocksize: Some(1000), ..CsvOptions::default() };
    let back = read_csv(&format!("s3://{bucket}/csv/part.*.csv"), &options).unwrap();
    assert!(back.npartitions() > 3, "{} partitions", back.npartitions());
    let got = back.compute().unwrap();
    assert_eq!(i64s(&got, "k"), k.iter().map(|x| Some(*x)).collect::<Vec<_>>());
    assert_eq!(f64s(&got, "v"), v.iter().map(|x| Some(*x)).collect::<Vec<_>>());
    let sums = back.groupby(&[col("k")]).unwrap().sum(&["v"]).unwrap().compute().unwrap();
    let want: f64 = k.iter().zip(&v).filter(|(k, _)| **k == 0).map(|(_, v)| v).sum();
    assert_eq!(f64s(&sums, "v")[0], Some(want));

    // Parquet and JSON lines.
    df.to_parquet(&format!("s3://{bucket}/pq")).unwrap();
    let options = ParquetOptions { split_row_groups: true, ..Default::default() };
    assert!(read_parquet(&format!("s3://{bucket}/pq/*.parquet"), &options).unwrap().compute().unwrap().equals(&pl));
    df.to_json(&format!("s3://{bucket}/json")).unwrap();
    assert_eq!(i64s(&read_json(&format!("s3://{bucket}/json/*.json")).unwrap().compute().unwrap(), "k").len(), n);

    // Nothing there: an error naming the pattern.
    let err = read_csv(&format!("s3://{bucket}/nothing/*.csv"), &CsvOptions::default()).unwrap_err().to_string();
    assert!(err.contains("no file matches"), "{err}");
}
