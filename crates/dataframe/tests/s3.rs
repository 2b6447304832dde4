//! Reading and writing `s3://` URLs against a local S3-compatible server.
//! `scripts/test` starts one (moto) and sets `BLOCKWORK_S3_ENDPOINT`; it
//! also sets `BLOCKWORK_REQUIRE_S3`, so that there the test fails rather
//! than skip when the server is missing.

mod common;

use std::io::{Read, Write};

use blockwork_dataframe::{col, read_csv, read_json, read_parquet, CsvOptions, DataFrame, ParquetOptions};
use common::{f64s, i64s, Rng};
use polars::prelude::{DataFrame as PlFrame, IntoColumn, NamedFrom, Series};

/// The server's endpoint, or `None` (skipping) when none was started.
fn endpoint() -> Option<String> {
    match std::env::var("BLOCKWORK_S3_ENDPOINT") {
        Ok(e) => Some(e),
        Err(_) if std::env::var("BLOCKWORK_REQUIRE_S3").is_ok() => {
            panic!("BLOCKWORK_REQUIRE_S3 is set but BLOCKWORK_S3_ENDPOINT is not")
        }
        Err(_) => {
            eprintln!("skipped: no S3-compatible server (set BLOCKWORK_S3_ENDPOINT, as scripts/test does)");
            None
        }
    }
}

/// Creates a bucket with a plain HTTP request (the test server does not
/// check signatures).
fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(host).expect("the S3 server");
    write!(s, "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "creating the bucket: {reply}");
}

#[test]
fn files_in_a_bucket_read_and_write_as_local_ones() {
    let Some(endpoint) = endpoint() else { return };
    std::env::set_var("AWS_ENDPOINT_URL", &endpoint);
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_REGION", "us-east-1");
    let bucket = format!("bw-test-{}", std::process::id());
    create_bucket(&endpoint, &bucket);
    blockwork_dataframe::register();

    let mut rng = Rng(77);
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
