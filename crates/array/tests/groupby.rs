//! Grouped reductions against a plain loop over the groups' rows, on
//! randomized shapes, chunkings, labels and NaNs.

use std::sync::atomic::Ordering;

use blockwork_array::{self as bwa, GroupReduction, ReduceOpts, Reduction};
use ndarray::{ArrayD, Axis, Dimension};
use proptest::prelude::*;

mod common;
use common::*;

const KINDS: [GroupReduction; 13] = [
    GroupReduction::Of(Reduction::Sum),
    GroupReduction::Of(Reduction::NanSum),
    GroupReduction::Of(Reduction::Mean),
    GroupReduction::Of(Reduction::NanMean),
    GroupReduction::Of(Reduction::Var),
    GroupReduction::Of(Reduction::NanVar),
    GroupReduction::Of(Reduction::Std),
    GroupReduction::Of(Reduction::NanStd),
    GroupReduction::Of(Reduction::Min),
    GroupReduction::Of(Reduction::Max),
    GroupReduction::Of(Reduction::NanMin),
    GroupReduction::Of(Reduction::NanMax),
    GroupReduction::Count,
];

/// The reduction of one group's values, as NumPy computes it.
fn reduce_values(kind: GroupReduction, vals: &[f64], ddof: f64) -> f64 {
    let skip = matches!(
        kind,
        GroupReduction::Count
            | GroupReduction::Of(
                Reduction::NanSum
                    | Reduction::NanMean
                    | Reduction::NanVar
                    | Reduction::NanStd
                    | Reduction::NanMin
                    | Reduction::NanMax
            )
    );
    let v: Vec<f64> = if skip { vals.iter().copied().filter(|x| !x.is_nan()).collect() } else { vals.to_vec() };
    let n = v.len() as f64;
    let sum: f64 = v.iter().sum();
    let mean = if n > 0.0 { sum / n } else { f64::NAN };
    let var =
        if n - ddof > 0.0 { v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - ddof) } else { f64::NAN };
    let fold = |max: bool| {
        if v.is_empty() || v.iter().any(|x| x.is_nan()) {
            f64::NAN
        } else if max {
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        } else {
            v.iter().copied().fold(f64::INFINITY, f64::min)
        }
    };
    match kind {
        GroupReduction::Count => n,
        GroupReduction::Of(Reduction::Sum | Reduction::NanSum) => sum,
        GroupReduction::Of(Reduction::Mean | Reduction::NanMean) => mean,
        GroupReduction::Of(Reduction::Var | Reduction::NanVar) => var,
        GroupReduction::Of(Reduction::Std | Reduction::NanStd) => var.sqrt(),
        GroupReduction::Of(Reduction::Min | Reduction::NanMin) => fold(false),
        GroupReduction::Of(_) => fold(true),
    }
}

/// The grouped reduction by a loop over every position of the other axes.
fn reference(a: &ArrayD<f64>, axis: usize, labels: &[i64], ngroups: usize, kind: GroupReduction) -> ArrayD<f64> {
    let mut shape = a.shape().to_vec();
    shape[axis] = ngroups;
    let mut out = ArrayD::zeros(shape);
    for g in 0..ngroups {
        let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == g as i64).collect();
        let mut dst = out.index_axis_mut(Axis(axis), g);
        for (pos, d) in dst.indexed_iter_mut() {
            let vals: Vec<f64> = rows
                .iter()
                .map(|&i| {
                    let mut idx = pos.slice().to_vec();
                    idx.insert(axis, i);
                    a[idx.as_slice()]
                })
                .collect();
            *d = if rows.is_empty() && matches!(kind, GroupReduction::Of(Reduction::Sum | Reduction::NanSum)) {
                0.0
            } else {
                reduce_values(kind, &vals, 1.0)
            };
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn grouped_reductions_match_a_loop(
        (shape, chunks) in shape_and_chunks(),
        seed in any::<u64>(),
        axis_pick in 0usize..3,
        ngroups in 1usize..5,
        label_seed in any::<u64>(),
        nan_every in 0usize..5,
        split_every in 2usize..4,
    ) {
        let axis = axis_pick % shape.len();
        let mut a = data(&shape, seed);
        if nan_every > 0 {
            for (i, x) in a.iter_mut().enumerate() {
                if i % (nan_every * 3 + 1) == 0 {
                    *x = f64::NAN;
                }
            }
        }
        let mut s = label_seed;
        let labels: Vec<i64> = (0..shape[axis])
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 33) % (ngroups as u64 + 1)) as i64 - 1
            })
            .collect();
        // Blocks held in the graph, handed over in slabs of rows (a row
        // source, as a file reader is) along axis 0, and made by a fused
        // expression, which are reduced as blocks.
        bwa::rows::register_rows(&CONSTANT_ROWS);
        let x = bwa::from_ndarray(a.clone(), chunks).unwrap();
        let computed = &x * 1.0;
        let opts = ReduceOpts::default().ddof(1).split_every(split_every);
        for kind in KINDS {
            let want = reference(&a, axis, &labels, ngroups, kind);
            for (x, held) in [(&x, true), (&computed, false)] {
                let got = x.groupby_reduce(axis as isize, &labels, ngroups, kind, &opts).unwrap();
                prop_assert_eq!(got.chunks().axes()[axis].clone(), vec![ngroups]);
                for cfg in configs() {
                    let slabs = SLABS.load(Ordering::Relaxed);
                    let v = got.compute_with(&cfg).unwrap();
                    prop_assert!(close(&v, &want), "{:?} on axis {} labels {:?}: {:?} vs {:?}", kind, axis, labels, v, want);
                    if axis == 0 && held {
                        prop_assert!(SLABS.load(Ordering::Relaxed) > slabs, "the blocks were handed over in slabs");
                    }
                }
            }
        }
    }
}

#[test]
fn grouped_reductions_of_f32_constant_and_integer_blocks() {
    let x = bwa::ones::<f32>(&[6, 4], [4, 2]).unwrap();
    let labels = [0, 1, 0, 1, 1, -1];
    let m = x.groupby_reduce(0, &labels, 2, GroupReduction::Of(Reduction::Sum), &ReduceOpts::default()).unwrap();
    let v = m.compute().unwrap();
    assert_eq!(v.shape(), &[2, 4]);
    assert!(v.index_axis(Axis(0), 0).iter().all(|&s| s == 2.0));
    assert!(v.index_axis(Axis(0), 1).iter().all(|&s| s == 3.0));
    let i = bwa::arange::<i64>(0.0, 10.0, 1.0, 3).unwrap();
    let labels: Vec<i64> = (0..10).map(|k| k % 3).collect();
    let c = i.groupby_reduce(0, &labels, 3, GroupReduction::Of(Reduction::Max), &ReduceOpts::default()).unwrap();
    assert_eq!(c.compute().unwrap().into_raw_vec_and_offset().0, vec![9.0, 7.0, 8.0]);
}

#[test]
fn grouped_reduction_errors_say_what_is_wrong() {
    let x = bwa::ones::<f64>(&[6, 4], 2).unwrap();
    let o = ReduceOpts::default();
    let e = x.groupby_reduce(0, &[0, 1], 2, GroupReduction::Count, &o).unwrap_err().to_string();
    assert!(e.contains("2 group labels for an axis of length 6"), "{e}");
    let e = x.groupby_reduce(1, &[0, 1, 2, 0], 2, GroupReduction::Count, &o).unwrap_err().to_string();
    assert!(e.contains("group label 2"), "{e}");
    let e = x.groupby_reduce(2, &[0; 4], 1, GroupReduction::Count, &o).unwrap_err().to_string();
    assert!(e.contains("axis 2"), "{e}");
    let e = x.groupby_reduce(0, &[0; 6], 1, GroupReduction::Of(Reduction::Prod), &o).unwrap_err().to_string();
    assert!(e.contains("prod is not a grouped reduction"), "{e}");
}
