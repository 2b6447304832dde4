//! Row-wise operations on random frames cut into random partitions,
//! against the same computation written out on the rows.

mod common;

use blockwork_dataframe::{col, lit, DType, DataFrame, Expr, Lit};
use common::{bools, close, f64s, i64s, strs, Rng};
use polars::prelude::{Column, DataFrame as PlFrame, DataType, IntoColumn, NamedFrom, Series, TimeUnit};

const WORDS: [&str; 5] = ["Alice", "bob", "CAROL", "dave", "Élodie"];

struct Rows {
    i: Vec<Option<i64>>,
    x: Vec<Option<f64>>,
    s: Vec<Option<String>>,
    /// Microseconds since the epoch.
    t: Vec<i64>,
}

fn random(seed: u64) -> (Rows, PlFrame) {
    let mut rng = Rng::new(seed);
    let n = rng.below(400) as usize;
    let mut rows = Rows { i: vec![], x: vec![], s: vec![], t: vec![] };
    for _ in 0..n {
        rows.i.push((!rng.pct(10)).then(|| rng.below(41) as i64 - 20));
        rows.x.push((!rng.pct(10)).then(|| (rng.below(2000) as f64 - 1000.0) / 8.0));
        rows.s.push((!rng.pct(10)).then(|| WORDS[rng.below(5) as usize].to_string()));
        // Around 2000–2030, to the second.
        rows.t.push(946_684_800_000_000 + rng.below(946_080_000) as i64 * 1_000_000);
    }
    let t = Series::new("t".into(), rows.t.clone()).cast(&DataType::Datetime(TimeUnit::Microseconds, None)).unwrap();
    let cols: Vec<Column> = vec![
        Series::new("i".into(), rows.i.clone()).into_column(),
        Series::new("x".into(), rows.x.clone()).into_column(),
        Series::new("s".into(), rows.s.clone()).into_column(),
        t.into_column(),
    ];
    let df = PlFrame::new(n, cols).unwrap();
    (rows, df)
}

fn frames(seeds: std::ops::Range<u64>) -> impl Iterator<Item = (u64, Rows, DataFrame)> {
    seeds.map(|seed| {
        let (rows, df) = random(seed);
        let parts = 1 + Rng::new(seed ^ 0xabc).below(8) as usize;
        (seed, rows, DataFrame::from_polars(&df, parts).unwrap())
    })
}

fn column_of(df: &DataFrame, e: Expr) -> PlFrame {
    df.select(&[e.alias("out")]).unwrap().compute().unwrap()
}

fn py_mod(a: i64, b: i64) -> i64 {
    ((a % b) + b) % b
}

#[test]
fn arithmetic_and_comparisons_match_the_rows() {
    for (seed, rows, df) in frames(0..12) {
        let f = |e: Expr| f64s(&column_of(&df, e), "out");
        let i = |e: Expr| i64s(&column_of(&df, e), "out");
        let b = |e: Expr| bools(&column_of(&df, e), "out");
        let want_f = |g: &dyn Fn(i64, f64) -> f64| -> Vec<Option<f64>> {
            rows.i.iter().zip(&rows.x).map(|(a, x)| Some(g((*a)?, (*x)?))).collect()
        };
        let check = |got: Vec<Option<f64>>, want: Vec<Option<f64>>, what: &str| {
            assert_eq!(got.len(), want.len(), "seed {seed} {what}");
            for (g, w) in got.iter().zip(&want) {
                match (g, w) {
                    (Some(g), Some(w)) => assert!(close(*g, *w), "seed {seed} {what}: {g} vs {w}"),
                    _ => assert_eq!(g.is_some(), w.is_some(), "seed {seed} {what}"),
                }
            }
        };
        check(f(col("i") + col("x")), want_f(&|a, x| a as f64 + x), "i + x");
        check(f(col("x") - col("i") * 2), want_f(&|a, x| x - 2.0 * a as f64), "x - 2i");
        check(f(col("x") / col("i")), want_f(&|a, x| x / a as f64), "x / i");
        let want_x = |g: &dyn Fn(f64) -> f64| -> Vec<Option<f64>> { rows.x.iter().map(|x| x.map(g)).collect() };
        check(f((col("x") * 3.5).pow(2)), want_x(&|x| (x * 3.5).powi(2)), "(3.5x)^2");
        check(f(-col("x")), want_x(&|x| -x), "-x");
        check(f(col("x").abs()), want_x(&|x| x.abs()), "|x|");
        check(f(col("x") % 7), want_x(&|x| x - 7.0 * (x / 7.0).floor()), "x mod 7");
        // Integers: Python's floor division and modulo, true division.
        let ints = |g: &dyn Fn(i64) -> Option<i64>| -> Vec<Option<i64>> { rows.i.iter().map(|a| g((*a)?)).collect() };
        assert_eq!(i(col("i").floordiv(3)), ints(&|a| Some(a.div_euclid(3))), "seed {seed} i // 3");
        assert_eq!(i(col("i").floordiv(-3)), ints(&|a| Some((a as f64 / -3.0).floor() as i64)), "seed {seed} i // -3");
        assert_eq!(i(col("i") % 5), ints(&|a| Some(py_mod(a, 5))), "seed {seed} i % 5");
        assert_eq!(i(col("i") % -5), ints(&|a| Some(-py_mod(-a, 5))), "seed {seed} i % -5");
        check(f(col("i") / 4), rows.i.iter().map(|a| Some((*a)? as f64 / 4.0)).collect(), "i / 4");
        assert_eq!(column_of(&df, col("i") / 4).column("out").unwrap().dtype(), &DataType::Float64);
        // Comparisons and logic; a missing operand gives a missing result.
        let cmp = |g: &dyn Fn(i64, f64) -> bool| -> Vec<Option<bool>> {
            rows.i.iter().zip(&rows.x).map(|(a, x)| Some(g((*a)?, (*x)?))).collect()
        };
        assert_eq!(b(col("x").gt(col("i"))), cmp(&|a, x| x > a as f64), "seed {seed} x > i");
        assert_eq!(b(col("i").le(0)), rows.i.iter().map(|a| Some((*a)? <= 0)).collect::<Vec<_>>());
        assert_eq!(b(col("i").eq(3)), rows.i.iter().map(|a| Some((*a)? == 3)).collect::<Vec<_>>());
        // Missing values follow Kleene's logic (pandas' nullable booleans).
        let kleene_and: Vec<Option<bool>> = rows
            .i
            .iter()
            .zip(&rows.x)
            .map(|(a, x)| match (a.map(|a| a > 0), x.map(|x| x < 0.0)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            })
            .collect();
        assert_eq!(b(col("i").gt(0) & col("x").lt(0.0)), kleene_and, "seed {seed} i > 0 & x < 0");
        let either: Vec<Option<bool>> = rows.i.iter().map(|a| a.map(|a| !(-5..=5).contains(&a))).collect();
        assert_eq!(b(col("i").gt(5) | col("i").lt(-5)), either);
        assert_eq!(b(!col("i").gt(5)), rows.i.iter().map(|a| a.map(|a| a <= 5)).collect::<Vec<_>>());
        assert_eq!(b(col("s").eq("bob")), rows.s.iter().map(|s| s.as_ref().map(|s| s == "bob")).collect::<Vec<_>>());
        assert_eq!(b(col("x").is_null()), rows.x.iter().map(|x| Some(x.is_none())).collect::<Vec<_>>());
    }
}

#[test]
fn filter_isin_fillna_dropna_astype() {
    for (seed, rows, df) in frames(20..32) {
        // filter: a missing predicate drops the row.
        let got = df.filter(col("x").gt(0.0) & col("i").is_not_null()).unwrap().compute().unwrap();
        let keep: Vec<usize> =
            (0..rows.x.len()).filter(|&r| rows.x[r].is_some_and(|x| x > 0.0) && rows.i[r].is_some()).collect();
        assert_eq!(f64s(&got, "x"), keep.iter().map(|&r| rows.x[r]).collect::<Vec<_>>(), "seed {seed}");
        assert_eq!(i64s(&got, "i"), keep.iter().map(|&r| rows.i[r]).collect::<Vec<_>>(), "seed {seed}");
        // isin, with a missing value among the members.
        let got = bools(&column_of(&df, col("i").isin([1i64, 2, 3])), "out");
        assert_eq!(got, rows.i.iter().map(|a| Some(matches!(a, Some(1..=3)))).collect::<Vec<_>>());
        let got = bools(&column_of(&df, col("s").isin([Lit::from("bob"), Lit::Null])), "out");
        assert_eq!(got, rows.s.iter().map(|s| Some(s.as_deref().is_none_or(|s| s == "bob"))).collect::<Vec<_>>());
        // fillna per column and on the whole frame (columns of its kind).
        assert_eq!(
            f64s(&column_of(&df, col("x").fillna(0.5)), "out"),
            rows.x.iter().map(|x| Some(x.unwrap_or(0.5))).collect::<Vec<_>>()
        );
        let filled = df.fillna(-1).unwrap().compute().unwrap();
        assert_eq!(i64s(&filled, "i"), rows.i.iter().map(|a| Some(a.unwrap_or(-1))).collect::<Vec<_>>());
        assert_eq!(strs(&filled, "s"), rows.s, "text columns keep their missing values");
        // dropna over a subset and over every column.
        let got = df.dropna(&["i"]).unwrap().compute().unwrap();
        assert_eq!(i64s(&got, "i"), rows.i.iter().filter(|a| a.is_some()).copied().collect::<Vec<_>>());
        let full =
            (0..rows.i.len()).filter(|&r| rows.i[r].is_some() && rows.x[r].is_some() && rows.s[r].is_some()).count();
        assert_eq!(df.dropna(&[]).unwrap().len().unwrap(), full);
        // astype: floats to integers truncate, integers to text.
        let got = df.astype(&[("i", DType::Float64), ("x", DType::Int64)]).unwrap().compute().unwrap();
        assert_eq!(got.column("i").unwrap().dtype(), &DataType::Float64);
        assert_eq!(i64s(&got, "x"), rows.x.iter().map(|x| x.map(|x| x as i64)).collect::<Vec<_>>());
        let text = strs(&column_of(&df, col("i").astype(DType::Str)), "out");
        assert_eq!(text, rows.i.iter().map(|a| a.map(|a| a.to_string())).collect::<Vec<_>>());
        // select and assign.
        let got = df.assign(&[(col("x") * 2).alias("y"), col("i").fillna(0).alias("i")]).unwrap();
        assert_eq!(got.columns(), ["i", "x", "s", "t", "y"]);
        let got = got.compute().unwrap();
        assert_eq!(i64s(&got, "i"), rows.i.iter().map(|a| Some(a.unwrap_or(0))).collect::<Vec<_>>());
        let got = df.select_columns(&["s", "i"]).unwrap();
        assert_eq!(got.columns(), ["s", "i"]);
        assert_eq!(got.compute().unwrap().width(), 2);
        let _ = seed;
    }
}

/// Year, month, day, hour, minute, second, weekday (Monday = 0).
type Parts = (i64, i64, i64, i64, i64, i64, i64);

#[test]
fn dt_and_str_accessors() {
    for (seed, rows, df) in frames(40..48) {
        let parts = |us: i64| {
            let days = us.div_euclid(86_400_000_000);
            let secs = us.rem_euclid(86_400_000_000) / 1_000_000;
            // civil_from_days (H. Hinnant)
            let z = days + 719_468;
            let era = z.div_euclid(146_097);
            let doe = z - era * 146_097;
            let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
            let mp = (5 * doy + 2) / 153;
            let d = doy - (153 * mp + 2) / 5 + 1;
            let m = if mp < 10 { mp + 3 } else { mp - 9 };
            let y = yoe + era * 400 + i64::from(m <= 2);
            (y, m, d, secs / 3600, secs / 60 % 60, secs % 60, (days + 3).rem_euclid(7))
        };
        let want =
            |f: &dyn Fn(Parts) -> i64| -> Vec<Option<i64>> { rows.t.iter().map(|t| Some(f(parts(*t)))).collect() };
        let got = |e: Expr| i64s(&column_of(&df, e), "out");
        assert_eq!(got(col("t").dt().year()), want(&|p| p.0), "seed {seed}");
        assert_eq!(got(col("t").dt().month()), want(&|p| p.1));
        assert_eq!(got(col("t").dt().day()), want(&|p| p.2));
        assert_eq!(got(col("t").dt().hour()), want(&|p| p.3));
        assert_eq!(got(col("t").dt().minute()), want(&|p| p.4));
        assert_eq!(got(col("t").dt().second()), want(&|p| p.5));
        assert_eq!(got(col("t").dt().dayofweek()), want(&|p| p.6));
        let floored = column_of(&df, col("t").dt().floor("15min").unwrap());
        let phys = floored.column("out").unwrap().to_physical_repr();
        let phys: Vec<i64> = phys.i64().unwrap().iter().map(Option::unwrap).collect();
        assert_eq!(phys, rows.t.iter().map(|t| t - t.rem_euclid(900_000_000)).collect::<Vec<_>>());
        // str
        let s = |e: Expr| strs(&column_of(&df, e), "out");
        let map = |f: &dyn Fn(&str) -> String| rows.s.iter().map(|s| s.as_deref().map(f)).collect::<Vec<_>>();
        assert_eq!(s(col("s").str().lower()), map(&|s| s.to_lowercase()));
        assert_eq!(s(col("s").str().upper()), map(&|s| s.to_uppercase()));
        assert_eq!(
            got(col("s").str().len()),
            rows.s.iter().map(|s| s.as_ref().map(|s| s.chars().count() as i64)).collect::<Vec<_>>()
        );
        let has = bools(&column_of(&df, col("s").str().contains("^[A-Z]")), "out");
        assert_eq!(
            has,
            rows.s
                .iter()
                .map(|s| s.as_ref().map(|s| s.starts_with(|c: char| c.is_ascii_uppercase())))
                .collect::<Vec<_>>()
        );
        let has = bools(&column_of(&df, col("s").str().contains_literal("o")), "out");
        assert_eq!(has, rows.s.iter().map(|s| s.as_ref().map(|s| s.contains('o'))).collect::<Vec<_>>());
    }
}

#[test]
fn head_tail_len_and_map_partitions() {
    for (seed, rows, df) in frames(60..70) {
        let n = rows.i.len();
        assert_eq!(df.len().unwrap(), n, "seed {seed}");
        for k in [0, 1, 5, n / 2, n + 3] {
            assert_eq!(i64s(&df.head(k).unwrap(), "i"), rows.i[..k.min(n)].to_vec(), "seed {seed} head {k}");
            assert_eq!(i64s(&df.tail(k).unwrap(), "i"), rows.i[n - k.min(n)..].to_vec(), "seed {seed} tail {k}");
        }
        let doubled = df.map_partitions("double", &["i"], |p| {
            let i = p.column("i").map_err(|e| e.to_string())?.as_materialized_series() * 2;
            PlFrame::new(p.height(), vec![i.into_column()]).map_err(|e| e.to_string())
        });
        assert_eq!(i64s(&doubled.compute().unwrap(), "i"), rows.i.iter().map(|a| a.map(|a| a * 2)).collect::<Vec<_>>());
    }
}

#[test]
fn bad_expressions_are_errors_naming_the_column() {
    let (_, df) = frames(80..81).map(|(s, _, d)| (s, d)).next().unwrap();
    let err = df.filter(col("nope").gt(1)).unwrap_err().to_string();
    assert!(err.contains("\"nope\""), "{err}");
    let err = df.filter(col("i") + 1).unwrap().compute().unwrap_err().to_string();
    assert!(err.contains("filter wants booleans"), "{err}");
    let err = df.select(&[col("s").dt().hour()]).unwrap().compute().unwrap_err().to_string();
    assert!(err.contains("dt accessor") && err.contains('s'), "{err}");
    let err = df.select(&[col("x").str().lower()]).unwrap().compute().unwrap_err().to_string();
    assert!(err.contains("str accessor"), "{err}");
    let err = df.select(&[col("s").astype(DType::Datetime)]).unwrap().compute().unwrap_err().to_string();
    assert!(err.contains("is not a date"), "{err}");
    let _ = lit(1);
}

#[test]
fn empty_partitions_broadcast_literals_to_no_rows() {
    // One row in three partitions: two are empty, and a literal operand
    // (one row) must broadcast to their zero rows.
    let pl = polars::prelude::df!("i" => [7i64], "x" => [2.5f64]).unwrap();
    let df = DataFrame::from_polars(&pl, 3).unwrap();
    assert_eq!(i64s(&column_of(&df, col("i").floordiv(3)), "out"), vec![Some(2)]);
    assert_eq!(i64s(&column_of(&df, col("i") % -5), "out"), vec![Some(-3)]);
    assert_eq!(i64s(&column_of(&df, lit(20).floordiv(col("i"))), "out"), vec![Some(2)]);
    assert_eq!(f64s(&column_of(&df, col("x").pow(2)), "out"), vec![Some(6.25)]);
    assert_eq!(f64s(&column_of(&df, col("x") % 2.0), "out"), vec![Some(0.5)]);
}

#[test]
fn persist_holds_the_partitions_and_the_index() {
    let pl = polars::prelude::df!("t" => [3i64, 1, 2, 5, 4], "v" => [1.0f64, 2.0, 3.0, 4.0, 5.0]).unwrap();
    let df = DataFrame::from_polars(&pl, 2).unwrap().set_index("t").unwrap();
    let kept = df.persist_with(&blockwork_local::Config::default()).unwrap();
    assert_eq!(kept.npartitions(), df.npartitions());
    assert_eq!(kept.divisions(), df.divisions());
    assert_eq!(kept.graph().unwrap().len(), kept.npartitions(), "one held partition per task");
    assert!(kept.compute().unwrap().equals(&df.compute().unwrap()));
}

#[test]
fn typed_task_parameters_are_in_the_handshake_fingerprint() {
    blockwork_dataframe::register();
    let layouts = blockwork_graph::registry_layouts();
    let layout = |name: &str| layouts.iter().find(|(n, _)| *n == name).map(|(_, l)| l.as_str());
    assert_eq!(layout("dataframe.join"), Some("Join { left_on: Vec<String>, right_on: Vec<String>, how: How }"));
    assert_eq!(
        layout("dataframe.agg"),
        Some(
            "AggParams { Reduce { stage: Stage, spec: Spec } | SideBySide { order: Vec<String>, keys: Vec<String> } }; \
             Spec { Partials { keys: Vec<Expr>, names: Vec<String>, aggs: Vec<Aggregation> } \
             | Distinct { keys: Vec<Expr>, names: Vec<String>, agg: Aggregation } }; \
             Aggregation { name: String, expr: Expr, agg: Agg }"
        )
    );
    assert!(layout("dataframe.map").is_some_and(|l| l.starts_with("Step { Select { exprs: Vec<Expr> } | ")));
    assert_eq!(layout("dataframe.shuffle_piece"), Some("usize"));
    assert_eq!(layout("dataframe.stack"), Some("NoParams {  }"));
    let ours: Vec<_> = layouts.iter().filter(|(n, _)| n.starts_with("dataframe.")).collect();
    assert_eq!(ours.len(), 14, "{ours:?}");
    for (name, layout) in ours {
        assert!(!layout.is_empty(), "{name} does not declare its parameters");
    }
}
