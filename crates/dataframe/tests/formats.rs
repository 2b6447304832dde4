//! Writing partitions out and reading them back: Parquet (per file, per
//! row group, with columns and a filter), CSV and JSON lines, against the
//! frame written.

mod common;

use blockwork_dataframe::{col, read_csv, read_json, read_parquet, CsvOptions, DataFrame, ParquetOptions};
use common::{f64s, i64s, scratch, strs, Rng};
use polars::prelude::{DataFrame as PlFrame, IntoColumn, NamedFrom, Series};

/// A frame and its columns `k`, `v`, `s` as rows.
type Frame = (PlFrame, Vec<Option<i64>>, Vec<Option<f64>>, Vec<Option<String>>);

fn frame(seed: u64) -> Frame {
    let mut rng = Rng::new(seed);
    let n = 1 + rng.below(500) as usize;
    let k: Vec<Option<i64>> = (0..n).map(|_| (!rng.pct(10)).then(|| rng.below(100) as i64)).collect();
    let v: Vec<Option<f64>> = (0..n).map(|_| (!rng.pct(10)).then(|| rng.below(10_000) as f64 / 16.0)).collect();
    let s: Vec<Option<String>> = (0..n).map(|_| (!rng.pct(10)).then(|| format!("w{}", rng.below(9)))).collect();
    let df = PlFrame::new(
        n,
        vec![
            Series::new("k".into(), k.clone()).into_column(),
            Series::new("v".into(), v.clone()).into_column(),
            Series::new("s".into(), s.clone()).into_column(),
        ],
    )
    .unwrap();
    (df, k, v, s)
}

#[test]
fn parquet_round_trips_by_file_and_by_row_group() {
    blockwork_dataframe::register();
    for seed in 0..5u64 {
        let (pl, k, v, _) = frame(seed);
        let parts = 1 + (seed as usize % 4);
        let dir = scratch(&format!("parquet-{seed}"));
        let written = DataFrame::from_polars(&pl, parts).unwrap().to_parquet(dir.to_str().unwrap()).unwrap();
        assert_eq!(written.len(), parts);
        let pattern = format!("{}/part.*.parquet", dir.display());
        let back = read_parquet(&pattern, &ParquetOptions::default()).unwrap();
        assert_eq!(back.npartitions(), parts);
        assert!(back.compute().unwrap().equals_missing(&pl), "seed {seed}");
        // Row groups as partitions, two columns, a filter on a third.
        let options = ParquetOptions {
            columns: vec!["v".into(), "k".into()],
            filter: Some(col("s").eq("w3")),
            split_row_groups: true,
        };
        let got = read_parquet(&pattern, &options).unwrap();
        assert_eq!(got.columns(), ["v", "k"]);
        let got = got.compute().unwrap();
        let s = strs(&pl, "s");
        let keep: Vec<usize> = (0..k.len()).filter(|&i| s[i].as_deref() == Some("w3")).collect();
        assert_eq!(i64s(&got, "k"), keep.iter().map(|&i| k[i]).collect::<Vec<_>>());
        assert_eq!(f64s(&got, "v"), keep.iter().map(|&i| v[i]).collect::<Vec<_>>());
        let _ = std::fs::remove_dir_all(&dir);
    }
    let err = read_parquet("/nonexistent/*.parquet", &ParquetOptions::default()).unwrap_err().to_string();
    assert!(err.contains("/nonexistent"), "{err}");
}

#[test]
fn csv_and_json_round_trip() {
    blockwork_dataframe::register();
    for seed in 10..14u64 {
        let (pl, k, v, s) = frame(seed);
        let df = DataFrame::from_polars(&pl, 3).unwrap();
        let dir = scratch(&format!("csv-json-{seed}"));
        df.to_csv(dir.join("csv").to_str().unwrap()).unwrap();
        let back = read_csv(&format!("{}/csv/part.*.csv", dir.display()), &CsvOptions::default()).unwrap();
        let back = back.compute().unwrap();
        assert_eq!(i64s(&back, "k"), k);
        assert_eq!(f64s(&back, "v"), v);
        assert_eq!(strs(&back, "s"), s);
        df.to_json(dir.join("json").to_str().unwrap()).unwrap();
        let back = read_json(&format!("{}/json/part.*.json", dir.display())).unwrap().compute().unwrap();
        assert_eq!(i64s(&back, "k"), k);
        assert_eq!(f64s(&back, "v"), v);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn row_groups_a_filter_cannot_match_are_not_read() {
    use polars::prelude::ParquetWriter;
    let dir = scratch("prune");
    let n = 1000;
    let k: Vec<i64> = (0..n).collect();
    let s: Vec<String> = (0..n).map(|i| format!("s{:04}", i)).collect();
    let mut pl = PlFrame::new(
        n as usize,
        vec![Series::new("k".into(), k.clone()).into_column(), Series::new("s".into(), s.clone()).into_column()],
    )
    .unwrap();
    let file = std::fs::File::create(dir.join("a.parquet")).unwrap();
    ParquetWriter::new(file).with_row_group_size(Some(100)).finish(&mut pl).unwrap();
    let pattern = format!("{}/*.parquet", dir.display());
    let read = |filter: Option<blockwork_dataframe::Expr>| {
        read_parquet(&pattern, &ParquetOptions { filter, split_row_groups: true, ..Default::default() }).unwrap()
    };
    assert_eq!(read(None).npartitions(), 10);
    let cases: Vec<(blockwork_dataframe::Expr, usize, Vec<i64>)> = vec![
        (col("k").gt(849), 2, (850..1000).collect()),
        (col("k").ge(100) & col("k").lt(300), 2, (100..300).collect()),
        (blockwork_dataframe::lit(120).ge(col("k")), 2, (0..=120).collect()),
        (col("k").isin([5i64, 950]), 2, vec![5, 950]),
        (col("s").eq("s0421"), 1, vec![421]),
        (col("k").gt(5000), 1, vec![]),
        // Not a comparison with a literal: every row group is read.
        ((col("k") * 2).gt(1990), 10, vec![996, 997, 998, 999]),
    ];
    for (filter, parts, want) in cases {
        let df = read(Some(filter.clone()));
        assert_eq!(df.npartitions(), parts, "{filter:?}");
        let got = df.compute().unwrap();
        assert_eq!(i64s(&got, "k"), want.into_iter().map(Some).collect::<Vec<_>>(), "{filter:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn parquet_files_of_different_schemas_are_an_error_naming_both() {
    use polars::prelude::ParquetWriter;
    let dir = scratch("schemas");
    let write = |name: &str, cols: Vec<polars::prelude::Column>| {
        let mut pl = PlFrame::new(3, cols).unwrap();
        ParquetWriter::new(std::fs::File::create(dir.join(name)).unwrap()).finish(&mut pl).unwrap();
    };
    let k = |name: &str| Series::new(name.into(), vec![1i64, 2, 3]).into_column();
    let v = Series::new("v".into(), vec![0.5f64, 1.5, 2.5]).into_column();
    write("a.parquet", vec![k("k"), v.clone()]);
    write("b.parquet", vec![k("k"), Series::new("v".into(), vec!["x", "y", "z"]).into_column()]);
    let pattern = format!("{}/*.parquet", dir.display());
    let err = read_parquet(&pattern, &ParquetOptions::default()).unwrap_err();
    // The files exist: it is their contents that are wrong (the user's input).
    assert!(matches!(err, blockwork_dataframe::DataFrameError::Invalid(_)), "{err:?}");
    let e = err.to_string();
    assert!(e.contains("b.parquet") && e.contains("a.parquet") && e.contains("v: str") && e.contains("v: f64"), "{e}");
    // The same columns and types in every file read as one frame.
    write("b.parquet", vec![k("k"), v]);
    assert_eq!(read_parquet(&pattern, &ParquetOptions::default()).unwrap().compute().unwrap().height(), 6);
    write("c.parquet", vec![k("key")]);
    let e = read_parquet(&pattern, &ParquetOptions::default()).unwrap_err().to_string();
    assert!(e.contains("c.parquet") && e.contains("[key: i64]"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_unreadable_and_corrupt_files_are_told_apart() {
    use blockwork_dataframe::DataFrameError as E;
    let dir = scratch("kinds");
    let csv = CsvOptions::default();
    // Not there: missing.
    let e = read_csv(&format!("{}/none-*.csv", dir.display()), &csv).unwrap_err();
    assert!(matches!(e, E::Missing(_)) && e.to_string().contains("none-*.csv"), "{e:?}");
    // There, but a directory: unreadable (the environment, not the input).
    std::fs::create_dir_all(dir.join("folder.csv")).unwrap();
    let e = read_csv(&dir.join("folder.csv").display().to_string(), &csv).unwrap_err();
    assert!(matches!(e, E::Unreadable { .. }) && e.to_string().contains("folder.csv"), "{e:?}");
    assert!(std::error::Error::source(&e).is_some(), "the system's error is kept: {e:?}");
    // There and readable, but not what it should be: the input's fault.
    std::fs::write(dir.join("blank.csv"), "\n1,2\n").unwrap();
    let e = read_csv(&dir.join("blank.csv").display().to_string(), &csv).unwrap_err();
    assert!(matches!(e, E::Invalid(_)) && e.to_string().contains("blank.csv: no header line"), "{e:?}");
    std::fs::write(dir.join("junk.parquet"), b"not a parquet file, not even close").unwrap();
    let e = read_parquet(&dir.join("junk.parquet").display().to_string(), &ParquetOptions::default()).unwrap_err();
    assert!(matches!(e, E::Invalid(_)) && e.to_string().contains("junk.parquet"), "{e:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
