//! Sorting across partitions and indexes with divisions, against Polars
//! sorting the whole frame.

mod common;

use blockwork_dataframe::{DataFrame, Lit};
use common::{i64s, Rng};
use polars::prelude::{DataFrame as PlFrame, IntoColumn, NamedFrom, Series, SortMultipleOptions};

fn random(rng: &mut Rng) -> PlFrame {
    let n = rng.below(600) as usize;
    let spread = 1 + rng.below(1000);
    let i: Vec<Option<i64>> = (0..n).map(|_| (!rng.pct(5)).then(|| rng.below(spread) as i64 - 50)).collect();
    let x: Vec<f64> = (0..n).map(|_| rng.below(100_000) as f64 / 3.0).collect();
    let row: Vec<i64> = (0..n as i64).collect();
    PlFrame::new(
        n,
        vec![
            Series::new("i".into(), i).into_column(),
            Series::new("x".into(), x).into_column(),
            Series::new("row".into(), row).into_column(),
        ],
    )
    .unwrap()
}

#[test]
fn sort_values_matches_a_stable_sort_of_the_whole_frame() {
    blockwork_dataframe::register();
    let mut rng = Rng::new(21);
    for case in 0..16 {
        let pl = random(&mut rng);
        let parts = 1 + rng.below(7) as usize;
        let df = DataFrame::from_polars(&pl, parts).unwrap();
        for (by, ascending) in [("i", true), ("i", false), ("x", true)] {
            let got = df.sort_values(by, ascending).unwrap().compute().unwrap();
            let options = SortMultipleOptions::default()
                .with_order_descending(!ascending)
                .with_nulls_last(true)
                .with_maintain_order(true);
            let want = pl.sort([by], options).unwrap();
            assert!(got.equals_missing(&want), "case {case} by {by} ascending {ascending} ({parts} partitions)");
        }
    }
}

#[test]
fn set_index_knows_its_divisions() {
    let mut rng = Rng::new(4);
    for case in 0..10 {
        let pl = random(&mut rng);
        let parts = 2 + rng.below(5) as usize;
        let indexed = DataFrame::from_polars(&pl, parts).unwrap().set_index("x").unwrap();
        let index = indexed.index().expect("an index").clone();
        assert_eq!(index.column, "x");
        if pl.height() == 0 {
            continue;
        }
        let divisions: Vec<f64> = index.divisions.iter().map(|d| d.as_f64().unwrap()).collect();
        assert_eq!(divisions.len(), indexed.npartitions() + 1, "case {case}");
        assert!(divisions.windows(2).all(|w| w[0] < w[1]), "case {case}: {divisions:?}");
        let values = blockwork_local::compute(indexed.graph().unwrap(), &indexed.keys(), &Default::default()).unwrap();
        for (p, v) in values.iter().enumerate() {
            let part = blockwork_dataframe::Partition::of(v).unwrap();
            for x in part.column("x").unwrap().f64().unwrap().iter().flatten() {
                assert!(x >= divisions[p] && x <= divisions[p + 1], "case {case}: {x} outside partition {p}");
            }
        }
        // Row-wise steps keep it; a frame without the column loses it.
        let filtered = indexed.filter(blockwork_dataframe::col("i").gt(0)).unwrap();
        assert_eq!(filtered.divisions().map(<[Lit]>::len), Some(divisions.len()));
        assert!(indexed.select_columns(&["i"]).unwrap().index().is_none());
        let rows = i64s(&indexed.compute().unwrap(), "row");
        assert_eq!(rows.len(), pl.height());
    }
}
