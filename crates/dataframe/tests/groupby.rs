//! Group-by over CSV piles on random partitionings, against the same
//! aggregation computed directly over all rows.

use std::collections::BTreeMap;
use std::io::Write;

use blockwork_dataframe::{read_csv, Agg, By, CsvOptions, DataFrameError};
use polars::prelude::{DataFrame as PlFrame, DataType};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Rows `(hour, minute, group, value)`, written as `parts` CSV files of
/// random lengths (some empty of rows) under a fresh directory.
fn pile(seed: u64, parts: usize) -> (std::path::PathBuf, Vec<(u32, u32, i64, f64)>) {
    let mut rng = Rng(seed);
    let dir = std::env::temp_dir().join(format!("bw-df-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rows = Vec::new();
    for p in 0..parts {
        let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("part-{p:03}.csv"))).unwrap());
        writeln!(f, "timestamp,group,value").unwrap();
        for _ in 0..rng.below(300) {
            let (h, m, g) = (rng.below(24) as u32, rng.below(60) as u32, rng.below(7) as i64);
            let v = (rng.below(20_000) as f64 - 10_000.0) / 100.0;
            writeln!(f, "2024-03-{:02} {h:02}:{m:02}:00,{g},{v}", 1 + rng.below(28)).unwrap();
            rows.push((h, m, g, v));
        }
    }
    (dir, rows)
}

fn column_f64(df: &PlFrame, name: &str) -> Vec<f64> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    let ca = c.f64().unwrap();
    (0..ca.len()).map(|i| ca.get(i).unwrap()).collect()
}

fn column_i64(df: &PlFrame, name: &str) -> Vec<i64> {
    let c = df.column(name).unwrap().cast(&DataType::Int64).unwrap();
    let ca = c.i64().unwrap();
    (0..ca.len()).map(|i| ca.get(i).unwrap()).collect()
}

#[test]
fn groupby_matches_a_direct_computation() {
    blockwork_dataframe::register();
    for seed in 0..6u64 {
        let parts = 1 + (seed as usize * 7) % 20;
        let (dir, rows) = pile(seed, parts);
        let df = read_csv(&format!("{}/part-*.csv", dir.display()), &CsvOptions { parse_dates: true }).unwrap();
        assert_eq!(df.npartitions(), parts);
        assert_eq!(df.columns(), ["timestamp", "group", "value"]);
        for (by, key) in [(By::Hour("timestamp".into()), 0usize), (By::Column("group".into()), 2)] {
            let mut groups: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for r in &rows {
                let k = if key == 0 { i64::from(r.0) } else { r.2 };
                groups.entry(k).or_default().push(r.3);
            }
            let keys: Vec<i64> = groups.keys().copied().collect();
            for agg in [Agg::Mean, Agg::Sum, Agg::Count, Agg::Min, Agg::Max] {
                let got = df.groupby(by.clone()).unwrap().agg("value", agg).unwrap().compute().unwrap();
                let key_col = if key == 0 { "timestamp" } else { "group" };
                assert_eq!(column_i64(&got, key_col), keys, "seed {seed} {by:?} {agg:?}");
                let want: Vec<f64> = groups
                    .values()
                    .map(|vs| match agg {
                        Agg::Mean => vs.iter().sum::<f64>() / vs.len() as f64,
                        Agg::Sum => vs.iter().sum(),
                        Agg::Count => vs.len() as f64,
                        Agg::Min => vs.iter().copied().fold(f64::INFINITY, f64::min),
                        Agg::Max => vs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    })
                    .collect();
                let got = column_f64(&got, "value");
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    assert!((g - w).abs() <= 1e-9 * (1.0 + w.abs()), "seed {seed} {by:?} {agg:?}: {g} vs {w}");
                }
            }
        }
        // The whole frame comes back with every row.
        assert_eq!(df.compute().unwrap().height(), rows.len());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn errors_name_what_is_wrong() {
    let (dir, _) = pile(99, 2);
    let df = read_csv(&format!("{}/part-*.csv", dir.display()), &CsvOptions::default()).unwrap();
    match df.groupby(By::Column("colour".into())) {
        Err(DataFrameError::NoColumn { column, columns }) => {
            assert_eq!(column, "colour");
            assert_eq!(columns, ["timestamp", "group", "value"]);
        }
        other => panic!("expected a missing column, got {other:?}"),
    }
    let err = read_csv(&format!("{}/nothing-*.csv", dir.display()), &CsvOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no file matches"), "{err}");
    // A ragged line names its file.
    std::fs::write(dir.join("part-999.csv"), "timestamp,group,value\n2024-01-01 00:00:00,1,2.5,extra,fields\n")
        .unwrap();
    let df = read_csv(&format!("{}/part-*.csv", dir.display()), &CsvOptions::default()).unwrap();
    let err = df.compute().unwrap_err().to_string();
    assert!(err.contains("part-999.csv"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
