//! Resampling and rolling windows on a datetime index, against the same
//! windows computed row by row on the whole sorted frame.

mod common;

use blockwork_dataframe::{Agg, DataFrame, Window};
use common::{close, f64s, Rng};
use polars::prelude::{DataFrame as PlFrame, DataType, IntoColumn, NamedFrom, Series, TimeUnit};

const HOUR: i64 = 3_600_000_000;

fn random(rng: &mut Rng) -> PlFrame {
    let n = 1 + rng.below(300) as usize;
    let t: Vec<i64> = (0..n).map(|_| rng.below(48 * 60) as i64 * 60_000_000).collect();
    let v: Vec<Option<f64>> = (0..n).map(|_| (!rng.pct(10)).then(|| rng.below(100) as f64 - 50.0)).collect();
    let t = Series::new("t".into(), t).cast(&DataType::Datetime(TimeUnit::Microseconds, None)).unwrap();
    PlFrame::new(n, vec![t.into_column(), Series::new("v".into(), v).into_column()]).unwrap()
}

fn agg_of(values: &[f64], agg: Agg) -> Option<f64> {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    match agg {
        Agg::Sum => Some(values.iter().sum()),
        Agg::Count => Some(n),
        Agg::Mean => (n > 0.0).then_some(mean),
        Agg::Min => values.iter().copied().reduce(f64::min),
        Agg::Max => values.iter().copied().reduce(f64::max),
        Agg::Var => (n > 1.0).then_some(var),
        Agg::Std => (n > 1.0).then_some(var.sqrt()),
        _ => None,
    }
}

fn times(df: &PlFrame) -> Vec<i64> {
    df.column("t").unwrap().to_physical_repr().i64().unwrap().iter().map(Option::unwrap).collect()
}

fn same(got: &[Option<f64>], want: &[Option<f64>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        match (g, w) {
            (Some(g), Some(w)) => assert!(close(*g, *w) || (g - w).abs() < 1e-7, "{what} row {i}: {g} vs {w}"),
            _ => assert_eq!(g.is_some(), w.is_some(), "{what} row {i}: {g:?} vs {w:?}"),
        }
    }
}

/// `agg` of each row's last `w` values, where all `w` are there (pandas'
/// default `min_periods`; counts from the first full window on).
fn last_rows(v: &[Option<f64>], w: usize, agg: Agg) -> Vec<Option<f64>> {
    (0..v.len())
        .map(|i| {
            if i + 1 < w {
                return None;
            }
            let present: Vec<f64> = v[i + 1 - w..=i].iter().flatten().copied().collect();
            if agg != Agg::Count && present.len() < w {
                return None;
            }
            agg_of(&present, agg)
        })
        .collect()
}

#[test]
fn rolling_windows_match_row_by_row() {
    blockwork_dataframe::register();
    let mut rng = Rng::new(8);
    for case in 0..12 {
        let pl = random(&mut rng);
        let parts = 1 + rng.below(6) as usize;
        let indexed = DataFrame::from_polars(&pl, parts).unwrap().set_index("t").unwrap();
        let sorted = indexed.compute().unwrap();
        let (t, v) = (times(&sorted), f64s(&sorted, "v"));
        let w = 1 + rng.below(5) as usize;
        for agg in [Agg::Sum, Agg::Mean, Agg::Count, Agg::Min, Agg::Max, Agg::Std, Agg::Var] {
            // The last `w` rows, all present.
            let got = indexed.rolling(&Window::Rows(w), "v", agg, "r").unwrap().compute().unwrap();
            same(&f64s(&got, "r"), &last_rows(&v, w, agg), &format!("case {case} rows {w} {agg:?}"));
            // Without an index: the same over the rows' own order.
            let plain = DataFrame::from_polars(&pl, parts).unwrap();
            let got = plain.rolling(&Window::Rows(w), "v", agg, "r").unwrap().compute().unwrap();
            let own = f64s(&pl, "v");
            same(&f64s(&got, "r"), &last_rows(&own, w, agg), &format!("case {case} unindexed rows {w} {agg:?}"));
            assert!(plain.rolling(&Window::Time("1h".into()), "v", agg, "r").is_err(), "a duration needs the index");
            // The rows of the last hour, from one row on.
            let got = indexed.rolling(&Window::Time("1h".into()), "v", agg, "r").unwrap().compute().unwrap();
            let want: Vec<Option<f64>> = (0..v.len())
                .map(|i| {
                    let present: Vec<f64> = (0..=i).filter(|&j| t[j] > t[i] - HOUR).filter_map(|j| v[j]).collect();
                    if agg != Agg::Count && present.is_empty() {
                        return None;
                    }
                    agg_of(&present, agg)
                })
                .collect();
            same(&f64s(&got, "r"), &want, &format!("case {case} 1h {agg:?}"));
        }
    }
}

#[test]
fn resample_gives_every_bin() {
    let mut rng = Rng::new(31);
    for case in 0..8 {
        let pl = random(&mut rng);
        let indexed = DataFrame::from_polars(&pl, 1 + rng.below(4) as usize).unwrap().set_index("t").unwrap();
        let (t, v) = (times(&pl), f64s(&pl, "v"));
        let first = t.iter().min().unwrap() / (3 * HOUR);
        let last = t.iter().max().unwrap() / (3 * HOUR);
        for agg in [Agg::Sum, Agg::Mean, Agg::Max] {
            let got = indexed.resample("3h", "v", agg).unwrap().compute().unwrap();
            assert_eq!(times(&got), (first..=last).map(|b| b * 3 * HOUR).collect::<Vec<_>>(), "case {case}");
            let want: Vec<Option<f64>> = (first..=last)
                .map(|b| {
                    let present: Vec<f64> =
                        (0..t.len()).filter(|&i| t[i] / (3 * HOUR) == b).filter_map(|i| v[i]).collect();
                    match agg {
                        Agg::Sum => Some(present.iter().sum()),
                        _ => agg_of(&present, agg),
                    }
                })
                .collect();
            same(&f64s(&got, "v"), &want, &format!("case {case} {agg:?}"));
        }
    }
    let plain = DataFrame::from_polars(&random(&mut rng), 2).unwrap();
    let err = plain.resample("1h", "v", Agg::Mean).unwrap_err().to_string();
    assert!(err.contains("set_index"), "{err}");
}
