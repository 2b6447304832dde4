//! Joins, shuffles and concatenation on random frames cut into random
//! partitions, against Polars on the whole frames.

mod common;

use std::collections::BTreeSet;

use blockwork_dataframe::{col, concat, DataFrame, How};
use common::{i64s, Rng};
use polars::prelude::{
    DataFrame as PlFrame, DataFrameJoinOps, IntoColumn, JoinArgs, JoinCoalesce, JoinType, NamedFrom, Series,
    SortMultipleOptions,
};

/// `n` rows of a key in 0..keys (some missing), a second key 0..2, a value.
fn side(rng: &mut Rng, n: usize, keys: u64, value: &str) -> PlFrame {
    let k: Vec<Option<i64>> = (0..n).map(|_| (!rng.pct(5)).then(|| rng.below(keys) as i64)).collect();
    let k2: Vec<i64> = (0..n).map(|_| rng.below(2) as i64).collect();
    let v: Vec<f64> = (0..n).map(|_| rng.below(1000) as f64).collect();
    PlFrame::new(
        n,
        vec![
            Series::new("k".into(), k).into_column(),
            Series::new("k2".into(), k2).into_column(),
            Series::new(value.into(), v).into_column(),
        ],
    )
    .unwrap()
}

fn sorted(df: &PlFrame) -> PlFrame {
    let names: Vec<String> = df.get_column_names().iter().map(|c| c.to_string()).collect();
    df.sort(names, SortMultipleOptions::default().with_nulls_last(true)).unwrap()
}

fn whole(left: &PlFrame, right: &PlFrame, on: &[&str], how: How) -> PlFrame {
    let how = match how {
        How::Inner => JoinType::Inner,
        How::Left => JoinType::Left,
        How::Right => JoinType::Right,
        How::Outer => JoinType::Full,
    };
    let mut args = JoinArgs::new(how).with_coalesce(JoinCoalesce::CoalesceColumns).with_suffix(Some("_right".into()));
    // pandas' rule, which the merge follows: missing keys match each other.
    args.nulls_equal = true;
    left.join(right, on, on, args, None).unwrap()
}

#[test]
fn merges_match_polars_on_the_whole_frames() {
    blockwork_dataframe::register();
    let mut rng = Rng::new(3);
    for case in 0..24 {
        let (nl, nr) = (rng.below(300) as usize, 1 + rng.below(60) as usize);
        let keys = 1 + rng.below(40);
        let (left, right) = (side(&mut rng, nl, keys, "a"), side(&mut rng, nr, keys, "b"));
        // One-partition sides are broadcast; others shuffled.
        let (pl, pr) = (1 + rng.below(5) as usize, if case % 3 == 0 { 1 } else { 1 + rng.below(4) as usize });
        let (l, r) = (DataFrame::from_polars(&left, pl).unwrap(), DataFrame::from_polars(&right, pr).unwrap());
        for how in [How::Inner, How::Left, How::Right, How::Outer] {
            for on in [&["k"][..], &["k", "k2"][..]] {
                let got = l.merge(&r, on, how).unwrap();
                let got_frame = got.compute().unwrap();
                let want = whole(&left, &right, on, how);
                let want = want.select(got.columns().iter().map(String::as_str)).unwrap();
                assert!(
                    sorted(&got_frame).equals_missing(&sorted(&want)),
                    "case {case} {how:?} on {on:?} ({pl}×{pr} partitions):\n{got_frame}\n{want}"
                );
            }
        }
    }
}

#[test]
fn keys_of_other_names_stay_both() {
    let mut rng = Rng::new(11);
    let left = side(&mut rng, 50, 10, "a");
    let right = side(&mut rng, 20, 10, "b").rename("k", "key".into()).unwrap().clone();
    let (l, r) = (DataFrame::from_polars(&left, 3).unwrap(), DataFrame::from_polars(&right, 2).unwrap());
    let got = l.merge_on(&r, &["k"], &["key"], How::Inner).unwrap();
    assert_eq!(got.columns(), ["k", "k2", "a", "key", "k2_right", "b"]);
    let got = got.compute().unwrap();
    assert_eq!(i64s(&got, "k"), i64s(&got, "key"));
    assert!(l.merge_on(&r, &["k"], &["nope"], How::Inner).is_err());
    assert!(l.merge_on(&r, &["k", "k2"], &["key"], How::Inner).is_err());
}

#[test]
fn a_shuffle_puts_equal_keys_together_and_loses_no_row() {
    let mut rng = Rng::new(5);
    for _ in 0..8 {
        let n = rng.below(400) as usize;
        let keys = 1 + rng.below(50);
        let df = side(&mut rng, n, keys, "a");
        let parts = 1 + rng.below(6) as usize;
        let out = 1 + rng.below(6) as usize;
        let shuffled = DataFrame::from_polars(&df, parts).unwrap().shuffle(&[col("k")], out).unwrap();
        assert_eq!(shuffled.npartitions(), out);
        let values =
            blockwork_local::compute(shuffled.graph().unwrap(), &shuffled.keys(), &Default::default()).unwrap();
        let mut seen: Vec<BTreeSet<Option<i64>>> = Vec::new();
        let mut rows = 0;
        for v in &values {
            let p = blockwork_dataframe::Partition::of(v).unwrap();
            rows += p.height();
            seen.push(i64s(p, "k").into_iter().collect());
        }
        assert_eq!(rows, n);
        for (i, a) in seen.iter().enumerate() {
            for b in &seen[i + 1..] {
                assert!(a.is_disjoint(b), "a key in two partitions");
            }
        }
        assert!(sorted(&shuffled.compute().unwrap()).equals_missing(&sorted(&df)));
    }
}

#[test]
fn concat_stacks_partitions_in_order() {
    let mut rng = Rng::new(9);
    let (a, b) = (side(&mut rng, 30, 5, "v"), side(&mut rng, 12, 5, "v"));
    let both = concat(&[DataFrame::from_polars(&a, 2).unwrap(), DataFrame::from_polars(&b, 3).unwrap()]).unwrap();
    assert_eq!(both.npartitions(), 5);
    let mut want = a.clone();
    want.vstack_mut(&b).unwrap();
    assert!(both.compute().unwrap().equals_missing(&want));
    let other = DataFrame::from_polars(&a.select(["k"]).unwrap(), 1).unwrap();
    assert!(concat(&[both, other]).is_err());
}

#[test]
fn joins_on_indexes_with_the_same_divisions_need_no_shuffle() {
    let mut rng = Rng::new(17);
    let left = side(&mut rng, 200, 30, "a");
    let right = side(&mut rng, 80, 30, "b").select(["k", "b"]).unwrap();
    let l = DataFrame::from_polars(&left, 4).unwrap().set_index("k").unwrap();
    let r = DataFrame::from_polars(&right, 3).unwrap().set_index("k").unwrap();
    for how in [How::Inner, How::Left, How::Outer] {
        let got = l.join(&r, how).unwrap();
        let want = whole(&left, &right, &["k"], how).select(got.columns().iter().map(String::as_str)).unwrap();
        assert!(sorted(&got.compute().unwrap()).equals_missing(&sorted(&want)), "{how:?}");
    }
    // Frames cut alike join partition by partition and keep the index.
    let aligned = DataFrame::from_polars(&right, 3).unwrap().set_index("k").unwrap();
    let same = l.join(&l.select(&[col("k"), col("a").alias("a2")]).unwrap(), How::Inner).unwrap();
    assert_eq!(same.divisions(), l.divisions());
    assert_eq!(same.npartitions(), l.npartitions());
    assert!(DataFrame::from_polars(&left, 2).unwrap().join(&aligned, How::Inner).is_err());
}
