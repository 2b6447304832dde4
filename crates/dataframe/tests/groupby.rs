//! Group-by and reductions over CSV piles on random partitionings (files
//! and blocks of files), against the same computation done directly on
//! all rows.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use blockwork_dataframe::{col, read_csv, Agg, Aggregation, CsvOptions, DataFrameError, Lit};
use common::{close, f64s, i64s, scratch, Rng};

struct Row {
    hour: i64,
    group: i64,
    value: Option<f64>,
}

/// Rows written as `parts` CSV files of random lengths (some without
/// rows); some values missing.
fn pile(seed: u64, parts: usize) -> (std::path::PathBuf, Vec<Row>) {
    let mut rng = Rng::new(seed);
    let dir = scratch(&format!("pile-{seed}"));
    let mut rows = Vec::new();
    for p in 0..parts {
        let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("part-{p:03}.csv"))).unwrap());
        writeln!(f, "timestamp,group,value").unwrap();
        for _ in 0..rng.below(300) {
            let (h, m, g) = (rng.below(24) as i64, rng.below(60), rng.below(7) as i64);
            let value = (!rng.pct(5)).then(|| (rng.below(20_000) as f64 - 10_000.0) / 100.0);
            let v = value.map_or(String::new(), |v| v.to_string());
            writeln!(f, "2024-03-{:02} {h:02}:{m:02}:00,{g},{v}", 1 + rng.below(28)).unwrap();
            rows.push(Row { hour: h, group: g, value });
        }
    }
    (dir, rows)
}

fn expected(agg: Agg, rows: &[&Row]) -> Lit {
    let vs: Vec<f64> = rows.iter().filter_map(|r| r.value).collect();
    let n = vs.len() as f64;
    let mean = vs.iter().sum::<f64>() / n;
    let var = vs.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    let float = |x: f64| if x.is_finite() { Lit::Float(x) } else { Lit::Null };
    match agg {
        Agg::Sum => Lit::Float(vs.iter().sum()),
        Agg::Mean => float(mean),
        Agg::Count => Lit::Int(vs.len() as i64),
        Agg::Size => Lit::Int(rows.len() as i64),
        Agg::Min => vs.iter().copied().reduce(f64::min).map_or(Lit::Null, Lit::Float),
        Agg::Max => vs.iter().copied().reduce(f64::max).map_or(Lit::Null, Lit::Float),
        Agg::Std => float(var.sqrt()),
        Agg::Var => float(var),
        Agg::First => vs.first().map_or(Lit::Null, |v| Lit::Float(*v)),
        Agg::Last => vs.last().map_or(Lit::Null, |v| Lit::Float(*v)),
        Agg::NUnique => Lit::Int(vs.iter().map(|v| v.to_bits()).collect::<BTreeSet<_>>().len() as i64),
    }
}

fn same(got: &Lit, want: &Lit) -> bool {
    match (got, want) {
        (Lit::Null, Lit::Null) => true,
        (Lit::Int(a), Lit::Int(b)) => a == b,
        (a, b) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => close(a, b),
            _ => false,
        },
    }
}

const AGGS: [Agg; 11] = [
    Agg::Sum,
    Agg::Mean,
    Agg::Count,
    Agg::Size,
    Agg::Min,
    Agg::Max,
    Agg::Std,
    Agg::Var,
    Agg::First,
    Agg::Last,
    Agg::NUnique,
];

#[test]
fn groupby_matches_a_direct_computation() {
    blockwork_dataframe::register();
    for seed in 0..6u64 {
        let mut rng = Rng::new(seed + 100);
        let parts = 1 + (seed as usize * 7) % 20;
        let (dir, rows) = pile(seed, parts);
        // Files cut into blocks of a few hundred bytes or kept whole.
        let blocksize = if seed % 2 == 0 { Some(200 + rng.below(3000)) } else { None };
        let options = CsvOptions { blocksize, ..CsvOptions::parse_dates(&["timestamp"]) };
        let df = read_csv(&format!("{}/part-*.csv", dir.display()), &options).unwrap();
        assert!(df.npartitions() >= parts);
        assert_eq!(df.columns(), ["timestamp", "group", "value"]);
        assert_eq!(df.len().unwrap(), rows.len(), "seed {seed}");
        for (key, by) in [(col("timestamp").dt().hour(), 0), (col("group"), 1)] {
            let mut groups: BTreeMap<i64, Vec<&Row>> = BTreeMap::new();
            for r in &rows {
                groups.entry(if by == 0 { r.hour } else { r.group }).or_default().push(r);
            }
            // All aggregations at once, each named after itself.
            let aggs: Vec<Aggregation> =
                AGGS.iter().map(|a| Aggregation::new(col("value"), *a).named(a.name())).collect();
            // By a tree, or by a shuffle into a few partitions (each sorted,
            // not all together: sorted here).
            let split_out = 1 + (seed as usize + by) % 3;
            let grouped = df.groupby(std::slice::from_ref(&key)).unwrap().split_out(split_out).agg(&aggs).unwrap();
            assert_eq!(grouped.npartitions(), split_out);
            let key_col = if by == 0 { "timestamp" } else { "group" };
            let got = grouped.compute().unwrap().sort([key_col], Default::default()).unwrap();
            let keys: Vec<Option<i64>> = groups.keys().map(|k| Some(*k)).collect();
            assert_eq!(i64s(&got, key_col), keys, "seed {seed}");
            for agg in AGGS {
                let column = got.column(agg.name()).unwrap();
                for (i, rows) in groups.values().enumerate() {
                    let g = Lit::from_any(&column.get(i).unwrap());
                    let w = expected(agg, rows);
                    assert!(same(&g, &w), "seed {seed} by {key_col} {agg:?} group {i}: {g:?} vs {w:?}");
                }
            }
            // One aggregation alone keeps the column's name.
            let mean = df.groupby(&[key]).unwrap().mean(&["value"]).unwrap().compute().unwrap();
            let want: Vec<f64> = groups.values().map(|rs| expected(Agg::Mean, rs).as_f64().unwrap()).collect();
            let got: Vec<f64> = f64s(&mean, "value").into_iter().map(Option::unwrap).collect();
            assert!(got.iter().zip(&want).all(|(a, b)| close(*a, *b)), "seed {seed}");
        }
        // Whole-column reductions.
        let all: Vec<&Row> = rows.iter().collect();
        let value = df.col("value").unwrap();
        for agg in AGGS.into_iter().filter(|a| *a != Agg::Size) {
            let got = value.agg(agg).unwrap().compute().unwrap();
            assert!(same(&got, &expected(agg, &all)), "seed {seed} {agg:?}: {got:?}");
        }
        // The whole frame comes back with every row, in order.
        let whole = df.compute().unwrap();
        let want: Vec<Option<f64>> = rows.iter().map(|r| r.value).collect();
        assert_eq!(f64s(&whole, "value"), want);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn value_counts_and_nunique_of_keys() {
    let (dir, rows) = pile(7, 5);
    let df = read_csv(&format!("{}/part-*.csv", dir.display()), &CsvOptions::default()).unwrap();
    let counts = df.col("group").unwrap().value_counts().unwrap().compute().unwrap();
    let mut want: BTreeMap<i64, i64> = BTreeMap::new();
    rows.iter().for_each(|r| *want.entry(r.group).or_default() += 1);
    let mut want: Vec<(i64, i64)> = want.into_iter().collect();
    want.sort_by_key(|(g, n)| (-n, *g));
    let got: Vec<(i64, i64)> =
        i64s(&counts, "group").into_iter().zip(i64s(&counts, "count")).map(|(g, n)| (g.unwrap(), n.unwrap())).collect();
    assert_eq!(got, want);
    let n = df.col("group").unwrap().nunique().unwrap().compute().unwrap();
    assert_eq!(n, Lit::Int(want.len() as i64));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_name_the_file_the_line_and_the_column() {
    blockwork_dataframe::register();
    let dir = scratch("errors");
    std::fs::write(dir.join("a.csv"), "timestamp,group,value\n2024-01-01 00:00:00,1,2.5\n").unwrap();
    let df = read_csv(&format!("{}/*.csv", dir.display()), &CsvOptions::default()).unwrap();
    match df.groupby(&[col("colour")]) {
        Err(DataFrameError::NoColumn { column, columns }) => {
            assert_eq!(column, "colour");
            assert_eq!(columns, ["timestamp", "group", "value"]);
        }
        other => panic!("expected a missing column, got {other:?}"),
    }
    let err = read_csv(&format!("{}/nothing-*.csv", dir.display()), &CsvOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no file matches"), "{err}");
    let err = read_csv(&format!("{}/*.csv", dir.display()), &CsvOptions::parse_dates(&["when"])).unwrap_err();
    assert!(err.to_string().contains("\"when\""), "{err}");

    // A ragged line, a bad number, a bad date: file, line and column named.
    let cases = [
        ("2024-01-01 00:00:00,1,2.5\n2024-01-01 01:00:00,1,2.5,extra\n", "line 3", ""),
        ("2024-01-01 00:00:00,1,2.5\n2024-01-01 00:00:00,1,2.5\n2024-01-01 01:00:00,x,2.5\n", "line 4", "\"group\""),
        ("2024-01-01 00:00:00,1,2.5\n2024-01-41 01:00:00,1,2.5\n", "line 3", "\"timestamp\""),
    ];
    for (i, (body, line, column)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad-{i}.csv"));
        std::fs::write(&path, format!("timestamp,group,value\n{body}")).unwrap();
        for blocksize in [None, Some(30)] {
            let options = CsvOptions { blocksize, ..CsvOptions::parse_dates(&["timestamp"]) };
            let df = blockwork_dataframe::read_csv_files(&[dir.join("a.csv"), path.clone()], &options).unwrap();
            let err = df.compute().unwrap_err().to_string();
            assert!(err.contains(&format!("bad-{i}.csv")) && err.contains(line) && err.contains(column), "{err}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_aggregation_reads_only_the_columns_it_uses() {
    // `id` turns to text after the sampled rows: reading it would fail.
    let dir = scratch("projection");
    let mut body = String::from("timestamp,id,value\n");
    for i in 0..1500 {
        body.push_str(&format!(
            "2024-01-01 {:02}:00:00,{},{}\n",
            i % 24,
            if i < 1200 { i.to_string() } else { "x".into() },
            i
        ));
    }
    std::fs::write(dir.join("a.csv"), body).unwrap();
    let df = read_csv(&format!("{}/*.csv", dir.display()), &CsvOptions::parse_dates(&["timestamp"])).unwrap();
    let err = df.compute().unwrap_err().to_string();
    assert!(err.contains("line 1202") && err.contains("\"id\""), "{err}");
    let means = df.groupby(&[col("timestamp").dt().hour()]).unwrap().mean(&["value"]).unwrap().compute().unwrap();
    assert_eq!(means.height(), 24);
    assert_eq!(f64s(&means, "value")[0], Some((0..1500).filter(|i| i % 24 == 0).sum::<i64>() as f64 / 63.0));
    assert_eq!(df.col("value").unwrap().sum().unwrap().compute().unwrap(), Lit::Int((0..1500).sum()));
    let _ = std::fs::remove_dir_all(&dir);
}
