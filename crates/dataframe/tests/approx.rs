//! Approximate quantiles, approximate distinct counts and `describe`, on
//! random partitionings, against exact computations on all the rows.

mod common;

use blockwork_dataframe::DataFrame;
use common::{close, f64s, Rng};
use polars::prelude::{DataFrame as PlFrame, IntoColumn, NamedFrom, Series};

fn random(rng: &mut Rng, n: usize, distinct: u64) -> (PlFrame, Vec<f64>) {
    let x: Vec<Option<f64>> =
        (0..n).map(|_| (!rng.pct(3)).then(|| (rng.below(distinct) as f64).sqrt() * 10.0)).collect();
    let k: Vec<i64> = (0..n).map(|_| rng.below(7) as i64).collect();
    let present: Vec<f64> = x.iter().flatten().copied().collect();
    let df = PlFrame::new(n, vec![Series::new("x".into(), x).into_column(), Series::new("k".into(), k).into_column()])
        .unwrap();
    (df, present)
}

/// Where `v` falls among the sorted values, as a fraction of them.
fn rank(sorted: &[f64], v: f64) -> (f64, f64) {
    let below = sorted.partition_point(|&x| x < v) as f64;
    let upto = sorted.partition_point(|&x| x <= v) as f64;
    let n = sorted.len() as f64;
    (below / n, upto / n)
}

#[test]
fn quantiles_are_within_a_percent_of_rank() {
    blockwork_dataframe::register();
    let mut rng = Rng::new(12);
    for case in 0..6 {
        let n = 1000 + rng.below(40_000) as usize;
        let distinct = 1 + rng.below(100_000);
        let (pl, mut present) = random(&mut rng, n, distinct);
        present.sort_by(f64::total_cmp);
        let df = DataFrame::from_polars(&pl, 1 + rng.below(12) as usize).unwrap();
        let qs = [0.0, 0.01, 0.25, 0.5, 0.9, 1.0];
        let got = df.col("x").unwrap().quantile(&qs).unwrap().compute().unwrap();
        for (q, v) in qs.iter().zip(f64s(&got, "value")) {
            let (lo, hi) = rank(&present, v.unwrap());
            assert!(lo - 0.01 <= *q && *q <= hi + 0.01, "case {case} q {q}: value {v:?} has ranks {lo}–{hi}");
        }
    }
    let (pl, _) = random(&mut rng, 10, 5);
    assert!(DataFrame::from_polars(&pl, 2).unwrap().col("x").unwrap().quantile(&[1.5]).is_err());
}

#[test]
fn approximate_distinct_counts_are_within_five_percent() {
    let mut rng = Rng::new(13);
    for distinct in [1u64, 10, 1000, 30_000] {
        let (pl, present) = random(&mut rng, 60_000, distinct);
        let exact = present.iter().map(|x| x.to_bits()).collect::<std::collections::BTreeSet<_>>().len() as f64;
        let df = DataFrame::from_polars(&pl, 1 + rng.below(9) as usize).unwrap();
        let got = df.col("x").unwrap().nunique_approx().unwrap().compute().unwrap().as_f64().unwrap();
        assert!((got - exact).abs() <= 0.05 * exact + 1.0, "{distinct}: {got} vs {exact}");
    }
}

#[test]
fn distinct_counts_of_large_consecutive_ids_count_every_id() {
    // Ids near 2^60 are 256 apart as f64s: hashed through a float, runs of
    // 256 consecutive ids would count as one.
    let mut rng = Rng::new(15);
    for (base, distinct) in [(1i64 << 60, 20_000i64), (i64::MAX - 50_000, 40_000), (-(1i64 << 62), 5_000)] {
        let ids: Vec<i64> = (0..60_000).map(|_| base + rng.below(distinct as u64) as i64).collect();
        let exact = ids.iter().collect::<std::collections::BTreeSet<_>>().len() as f64;
        let pl = PlFrame::new(ids.len(), vec![Series::new("id".into(), ids).into_column()]).unwrap();
        let df = DataFrame::from_polars(&pl, 1 + rng.below(6) as usize).unwrap();
        let got = df.col("id").unwrap().nunique_approx().unwrap().compute().unwrap().as_f64().unwrap();
        assert!((got - exact).abs() <= 0.05 * exact, "ids from {base}: {got} vs {exact}");
    }
    let big: Vec<u64> = (0..30_000u64).map(|i| u64::MAX - 3 * i).collect();
    let pl = PlFrame::new(big.len(), vec![Series::new("id".into(), big).into_column()]).unwrap();
    let got = DataFrame::from_polars(&pl, 3).unwrap().col("id").unwrap().nunique_approx().unwrap();
    let got = got.compute().unwrap().as_f64().unwrap();
    assert!((got - 30_000.0).abs() <= 1500.0, "u64 ids near 2^64: {got}");
}

#[test]
fn describe_summarizes_the_numeric_columns() {
    let mut rng = Rng::new(14);
    let (mut pl, present) = random(&mut rng, 5000, 500);
    pl.with_column(Series::new("s".into(), vec!["a"; 5000]).into_column()).unwrap();
    let d = DataFrame::from_polars(&pl, 4).unwrap().describe().unwrap();
    assert_eq!(d.get_column_names(), ["statistic", "x", "k"]);
    let x = f64s(&d, "x");
    let n = present.len() as f64;
    let mean = present.iter().sum::<f64>() / n;
    let std = (present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert_eq!(x[0], Some(n));
    assert!(close(x[1].unwrap(), mean) && close(x[2].unwrap(), std));
    assert_eq!(x[3], present.iter().copied().reduce(f64::min));
    assert_eq!(x[7], present.iter().copied().reduce(f64::max));
    assert!(x[3] <= x[4] && x[4] <= x[5] && x[5] <= x[6] && x[6] <= x[7]);
}
