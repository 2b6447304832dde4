//! Every operation against the same computation in plain ndarray, on
//! randomized shapes and chunkings, on every local scheduler.

use blockwork_array::random::Dist;
use blockwork_array::{self as bwa, Array, ArrayError, ChunkSpec, ReduceOpts};
use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;

mod common;
use common::*;

fn reduce_ref(
    a: &ArrayD<f64>,
    axes: &[usize],
    keepdims: bool,
    f: impl Fn(ndarray::ArrayViewD<'_, f64>) -> f64,
) -> ArrayD<f64> {
    // Move reduced axes last, flatten them, reduce each row.
    let nd = a.ndim();
    let kept: Vec<usize> = (0..nd).filter(|x| !axes.contains(x)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes.iter()).copied().collect();
    let p = a.view().permuted_axes(IxDyn(&perm)).as_standard_layout().into_owned();
    let kept_shape: Vec<usize> = kept.iter().map(|&k| a.shape()[k]).collect();
    let inner: usize = axes.iter().map(|&k| a.shape()[k]).product();
    let rows = p.into_shape_with_order(IxDyn(&[kept_shape.iter().product::<usize>(), inner])).unwrap();
    let vals: Vec<f64> = rows.axis_iter(Axis(0)).map(|row| f(row.into_dyn())).collect();
    let mut out = ArrayD::from_shape_vec(IxDyn(&kept_shape), vals).unwrap();
    if keepdims {
        for &ax in axes {
            out = out.insert_axis(Axis(ax));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn from_ndarray_round_trips((shape, chunks) in shape_and_chunks(), seed in any::<u64>()) {
        let a = data(&shape, seed);
        let x = bwa::from_ndarray(a.clone(), chunks.clone()).unwrap();
        prop_assert_eq!(x.chunks().axes(), chunks.as_slice());
        for cfg in configs() {
            prop_assert_eq!(x.compute_with(&cfg).unwrap(), a.clone());
        }
    }

    #[test]
    fn elementwise_matches_ndarray((shape, c1) in shape_and_chunks(), seed in any::<u64>(), other_chunk in 1usize..6) {
        let a = data(&shape, seed);
        let b = data(&shape, seed ^ 0x55);
        let x = bwa::from_ndarray(a.clone(), c1).unwrap();
        let y = bwa::from_ndarray(b.clone(), other_chunk).unwrap();
        let e = (&x + &y) * 2.0 - &x / (y.abs() + 1.0);
        let want = (&a + &b) * 2.0 - &a / (b.mapv(f64::abs) + 1.0);
        prop_assert!(close(&e.compute().unwrap(), &want));
        let m = x.maximum(&y).unwrap().compute().unwrap();
        prop_assert!(close(&m, &ndarray::Zip::from(&a).and(&b).map_collect(|&p, &q| p.max(q))));
        let lt = x.less(&y).unwrap().compute().unwrap();
        prop_assert_eq!(lt, ndarray::Zip::from(&a).and(&b).map_collect(|&p, &q| p < q));
        let w = bwa::where_(&x.greater(0.0).unwrap(), &x, &y).unwrap().compute().unwrap();
        let want_w = ndarray::Zip::from(&a).and(&b).map_collect(|&p, &q| if p > 0.0 { p } else { q });
        prop_assert!(close(&w, &want_w));
        let r = x.rem(3.0).unwrap().compute().unwrap();
        prop_assert!(close(&r, &a.mapv(|v| v.rem_euclid(3.0))));
        let s = x.abs().sqrt().exp().compute().unwrap();
        prop_assert!(close(&s, &a.mapv(|v| v.abs().sqrt().exp())));
        let i = x.astype::<i64>().compute().unwrap();
        prop_assert_eq!(i, a.mapv(|v| v as i64));
    }

    #[test]
    fn broadcasting_matches_ndarray((shape, chunks) in shape_and_chunks(), seed in any::<u64>()) {
        let a = data(&shape, seed);
        let last = *shape.last().unwrap();
        let row = data(&[last], seed ^ 7);
        let x = bwa::from_ndarray(a.clone(), chunks).unwrap();
        let y = bwa::from_ndarray(row.clone(), 2).unwrap();
        let got = (&x - &y).compute().unwrap();
        prop_assert!(close(&got, &(&a - &row)));
        let col_shape: Vec<usize> = shape.iter().enumerate().map(|(i, &s)| if i == 0 { s } else { 1 }).collect();
        let col = data(&col_shape, seed ^ 9);
        let z = bwa::from_ndarray(col.clone(), 3).unwrap();
        prop_assert!(close(&x.mul(&z).unwrap().compute().unwrap(), &(&a * &col)));
    }

    #[test]
    fn reductions_match_ndarray(
        (shape, chunks) in shape_and_chunks(),
        seed in any::<u64>(),
        axis_mask in 0u8..8,
        keepdims in any::<bool>(),
        split_every in 2usize..5,
        ddof in 0usize..4,
    ) {
        let mut a = data(&shape, seed);
        let axes: Vec<usize> = (0..shape.len()).filter(|i| axis_mask & (1 << i) != 0).collect();
        let axes = if axes.is_empty() { (0..shape.len()).collect() } else { axes };
        // Blocks held in the graph, handed over in slabs of rows where axis
        // 0 is reduced (as a file reader's are).
        bwa::rows::register_rows(&CONSTANT_ROWS);
        let slabs = SLABS.load(std::sync::atomic::Ordering::Relaxed);
        let x = bwa::from_ndarray(a.clone(), chunks.clone()).unwrap();
        let opts = ReduceOpts { axes: Some(axes.iter().map(|&a| a as isize).collect()), keepdims, split_every: Some(split_every), ddof };
        let sum = reduce_ref(&a, &axes, keepdims, |r| r.sum());
        let mean = reduce_ref(&a, &axes, keepdims, |r| r.mean().unwrap());
        let var = reduce_ref(&a, &axes, keepdims, |r| {
            let n = r.len() as f64;
            let m = r.sum() / n;
            // NumPy divides by max(n - ddof, 0): inf (or NaN, all values equal) for too few.
            r.mapv(|v| (v - m) * (v - m)).sum() / (n - ddof as f64).max(0.0)
        });
        let min = reduce_ref(&a, &axes, keepdims, |r| r.fold(f64::INFINITY, |p, &q| p.min(q)));
        let max = reduce_ref(&a, &axes, keepdims, |r| r.fold(f64::NEG_INFINITY, |p, &q| p.max(q)));
        for cfg in configs() {
            prop_assert!(close(&x.sum_with(&opts).unwrap().compute_with(&cfg).unwrap(), &sum));
            prop_assert!(close(&x.mean_with(&opts).unwrap().compute_with(&cfg).unwrap(), &mean));
            prop_assert!(close(&x.var_with(&opts).unwrap().compute_with(&cfg).unwrap(), &var));
            prop_assert!(close(&x.std_with(&opts).unwrap().compute_with(&cfg).unwrap(), &var.mapv(f64::sqrt)));
            prop_assert!(close(&x.min_with(&opts).unwrap().compute_with(&cfg).unwrap(), &min));
            prop_assert!(close(&x.max_with(&opts).unwrap().compute_with(&cfg).unwrap(), &max));
        }
        if axes.contains(&0) {
            prop_assert!(SLABS.load(std::sync::atomic::Ordering::Relaxed) > slabs, "the blocks were handed over in slabs");
        }
        // NaN-skipping variants, with some NaNs.
        for (i, v) in a.iter_mut().enumerate() {
            if i % 3 == 1 { *v = f64::NAN; }
        }
        let xn = bwa::from_ndarray(a.clone(), chunks).unwrap();
        let valid = |r: ndarray::ArrayViewD<'_, f64>| r.iter().copied().filter(|v| !v.is_nan()).collect::<Vec<f64>>();
        let nansum = reduce_ref(&a, &axes, keepdims, |r| valid(r).iter().sum());
        let nanmean = reduce_ref(&a, &axes, keepdims, |r| { let v = valid(r); if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 } });
        let nanmax = reduce_ref(&a, &axes, keepdims, |r| valid(r).iter().copied().reduce(f64::max).unwrap_or(f64::NAN));
        prop_assert!(close(&xn.nansum_with(&opts).unwrap().compute().unwrap(), &nansum));
        prop_assert!(close(&xn.nanmean_with(&opts).unwrap().compute().unwrap(), &nanmean));
        prop_assert!(close(&xn.nanmax_with(&opts).unwrap().compute().unwrap(), &nanmax));
        let sum_nan = xn.sum_with(&opts).unwrap().compute().unwrap();
        prop_assert!(close(&sum_nan, &reduce_ref(&a, &axes, keepdims, |r| r.sum())));
    }

    #[test]
    fn rechunk_keeps_values((shape, c1) in shape_and_chunks(), c2 in proptest::collection::vec(1usize..5, 3), seed in any::<u64>()) {
        let a = data(&shape, seed);
        let x = bwa::from_ndarray(a.clone(), c1).unwrap();
        let target: Vec<usize> = c2[..shape.len()].to_vec();
        let y = x.rechunk(target.clone()).unwrap();
        prop_assert_eq!(y.chunksize(), target.iter().zip(&shape).map(|(&c, &s)| c.min(s)).collect::<Vec<_>>());
        prop_assert_eq!(y.compute().unwrap(), a);
    }

    #[test]
    fn transpose_and_matmul_match_ndarray(m in 1usize..12, k in 1usize..12, n in 1usize..12, cm in 1usize..5, ck in 1usize..5, ck2 in 1usize..5, cn in 1usize..5, seed in any::<u64>()) {
        let a = data(&[m, k], seed).into_dimensionality::<ndarray::Ix2>().unwrap();
        let b = data(&[k, n], seed ^ 3).into_dimensionality::<ndarray::Ix2>().unwrap();
        let x = bwa::from_ndarray(a.clone().into_dyn(), [cm, ck]).unwrap();
        let y = bwa::from_ndarray(b.clone().into_dyn(), [ck2, cn]).unwrap();
        prop_assert!(close(&x.t().compute().unwrap(), &a.t().to_owned().into_dyn()));
        prop_assert!(close(&x.matmul(&y).unwrap().compute().unwrap(), &a.dot(&b).into_dyn()));
        let xxt = x.dot(&(&x.t() + 1.0)).unwrap();
        let want = a.dot(&(a.t().to_owned() + 1.0));
        prop_assert!(close(&xxt.compute().unwrap(), &want.into_dyn()));
    }

    /// Products with transposed operands (`p.T @ q`, `p @ q.T`, both),
    /// chunked alike or not along the contracted axis, float and integer.
    #[test]
    fn products_of_transposes_match_ndarray(m in 1usize..12, k in 1usize..12, n in 1usize..12, cm in 1usize..5, ck in 1usize..5, ck2 in 1usize..5, cn in 1usize..5, seed in any::<u64>()) {
        let a = data(&[k, m], seed).into_dimensionality::<ndarray::Ix2>().unwrap();
        let b = data(&[n, k], seed ^ 5).into_dimensionality::<ndarray::Ix2>().unwrap();
        let (at, bt) = (a.t().to_owned(), b.t().to_owned());
        let p = bwa::from_ndarray(a.clone().into_dyn(), [ck, cm]).unwrap();
        let q = bwa::from_ndarray(b.clone().into_dyn(), [cn, ck2]).unwrap();
        let pt = bwa::from_ndarray(at.clone().into_dyn(), [cm, ck]).unwrap();
        let qt = bwa::from_ndarray(bt.clone().into_dyn(), [ck2, cn]).unwrap();
        prop_assert!(close(&p.t().matmul(&qt).unwrap().compute().unwrap(), &at.dot(&bt).into_dyn()));
        prop_assert!(close(&pt.matmul(&q.t()).unwrap().compute().unwrap(), &at.dot(&bt).into_dyn()));
        prop_assert!(close(&p.t().matmul(&q.t()).unwrap().compute().unwrap(), &at.dot(&bt).into_dyn()));
        let ints = |x: &ndarray::Array2<f64>| x.mapv(|v| (v * 10.0) as i64);
        let pi = bwa::from_ndarray(ints(&a).into_dyn(), [ck, cm]).unwrap();
        let qi = bwa::from_ndarray(ints(&b).into_dyn(), [cn, ck2]).unwrap();
        let want = ints(&a).t().dot(&ints(&b).t()).into_dyn();
        prop_assert_eq!(pi.t().matmul(&qi.t()).unwrap().compute().unwrap(), want);
    }
}

#[test]
fn a_transposed_operand_is_read_from_its_source_blocks() {
    let x = bwa::random::random(&[40, 30], [10, 10], 1).unwrap();
    let q = bwa::random::random(&[40, 5], [10, 5], 2).unwrap();
    let product = x.t().matmul(&q).unwrap();
    let graph = product.graph().unwrap();
    assert!(graph.keys().iter().all(|k| !k.prefix().starts_with("transpose")), "no block of x.T is made");
    let (a, b) = (x.compute().unwrap(), q.compute().unwrap());
    let want =
        a.into_dimensionality::<ndarray::Ix2>().unwrap().t().dot(&b.into_dimensionality::<ndarray::Ix2>().unwrap());
    assert!(close(&product.compute().unwrap(), &want.into_dyn()));
    // Chunked otherwise along the contracted axis, the transpose is made
    // and rechunked, as any operand.
    let q7 = q.rechunk([7, 5]).unwrap();
    assert!(close(&x.t().matmul(&q7).unwrap().compute().unwrap(), &product.compute().unwrap()));
}

/// `want` and `got` agree to a relative `tol` of the largest element.
fn near(got: &ArrayD<f64>, want: &ArrayD<f64>, tol: f64) -> bool {
    let scale = want.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    got.shape() == want.shape() && got.iter().zip(want).all(|(a, b)| (a - b).abs() <= tol * scale)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Random and pattern operands are drawn by the product's kernel (as
    /// themselves or transposed, on either side, or both), and agree with
    /// ndarray's product of their computed blocks.
    #[test]
    fn products_of_drawn_operands_match_ndarray(m in 1usize..30, k in 1usize..30, n in 1usize..30, cm in 1usize..12, ck in 1usize..12, cn in 1usize..12, seed in any::<u64>()) {
        let two = |x: ArrayD<f64>| x.into_dimensionality::<ndarray::Ix2>().unwrap();
        let x = bwa::random::random(&[m, k], [cm, ck], seed).unwrap();
        let xt = bwa::random::random(&[k, m], [ck, cm], seed ^ 1).unwrap();
        let p = bwa::pattern::<f64>(&[k, n], [ck, cn]).unwrap();
        let pt = bwa::pattern::<f64>(&[n, k], [cn, ck]).unwrap();
        let y = bwa::from_ndarray(data(&[k, n], seed ^ 2), [ck, cn]).unwrap();
        let z = bwa::from_ndarray(data(&[m, k], seed ^ 3), [cm, ck]).unwrap();
        let (xa, xta, pa, pta) = (two(x.compute().unwrap()), two(xt.compute().unwrap()), two(p.compute().unwrap()), two(pt.compute().unwrap()));
        let (ya, za) = (two(y.compute().unwrap()), two(z.compute().unwrap()));
        let cases = [
            (x.matmul(&y).unwrap(), xa.dot(&ya)),
            (xt.t().matmul(&y).unwrap(), xta.t().dot(&ya)),
            (z.matmul(&p).unwrap(), za.dot(&pa)),
            (z.matmul(&pt.t()).unwrap(), za.dot(&pta.t())),
            (x.matmul(&p).unwrap(), xa.dot(&pa)),
            (xt.t().matmul(&pt.t()).unwrap(), xta.t().dot(&pta.t())),
        ];
        for (i, (got, want)) in cases.iter().enumerate() {
            prop_assert!(near(&got.compute().unwrap(), &want.clone().into_dyn(), 1e-12), "case {}", i);
        }
    }
}

#[test]
fn drawn_operands_are_drawn_by_strips_and_never_made() {
    let two = |x: ArrayD<f64>| x.into_dimensionality::<ndarray::Ix2>().unwrap();
    // Blocks of 1.3 MB (f64) and 0.6 MB (f32): more than one strip each.
    let x = bwa::random::random(&[410, 400], [410, 200], 3).unwrap();
    let p = bwa::pattern::<f64>(&[400, 410], [200, 410]).unwrap();
    let q = bwa::random::random(&[400, 7], [200, 7], 4).unwrap();
    let (xa, pa, qa) = (two(x.compute().unwrap()), two(p.compute().unwrap()), two(q.compute().unwrap()));
    for (got, want) in [
        (x.matmul(&q).unwrap(), xa.dot(&qa)),
        (x.t().matmul(&x).unwrap(), xa.t().dot(&xa)),
        (x.matmul(&p).unwrap(), xa.dot(&pa)),
        (p.t().matmul(&q).unwrap(), pa.t().dot(&qa)),
        (q.t().matmul(&p).unwrap(), qa.t().dot(&pa)),
        (x.matmul(&x.t()).unwrap(), xa.dot(&xa.t())),
    ] {
        assert!(near(&got.compute().unwrap(), &want.into_dyn(), 1e-12));
        let graph = got.graph().unwrap();
        let made: Vec<_> = graph
            .keys()
            .iter()
            .filter(|k| ["random", "pattern"].iter().any(|g| k.prefix().starts_with(g)))
            .cloned()
            .collect();
        assert!(made.is_empty(), "generated blocks made for a product: {made:?}");
    }
    let x32 = bwa::random::draw::<f32>(Dist::Uniform { low: -1.0, high: 1.0 }, &[410, 400], [410, 400], 5).unwrap();
    let p32 = bwa::pattern::<f32>(&[400, 30], [400, 30]).unwrap();
    let got = x32.matmul(&p32).unwrap().compute().unwrap().mapv(f64::from);
    let want = x32
        .compute()
        .unwrap()
        .mapv(f64::from)
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .dot(&p32.compute().unwrap().mapv(f64::from).into_dimensionality::<ndarray::Ix2>().unwrap());
    assert!(near(&got, &want.into_dyn(), 1e-5));
}

#[test]
fn creation_functions() {
    let o = bwa::ones::<f64>(&[7, 3], 2).unwrap();
    assert_eq!(o.compute().unwrap(), ArrayD::from_elem(IxDyn(&[7, 3]), 1.0));
    assert_eq!(bwa::zeros::<i32>(&[4], 3).unwrap().compute().unwrap(), ArrayD::from_elem(IxDyn(&[4]), 0));
    assert_eq!(bwa::full(&[2, 2], 7u8, 1).unwrap().compute().unwrap(), ArrayD::from_elem(IxDyn(&[2, 2]), 7));
    let r = bwa::arange::<i64>(2.0, 11.0, 3.0, 2).unwrap();
    assert_eq!(r.compute().unwrap().into_raw_vec_and_offset().0, vec![2, 5, 8]);
    let l = bwa::linspace::<f64>(0.0, 1.0, 5, true, 2).unwrap();
    assert_eq!(l.compute().unwrap().into_raw_vec_and_offset().0, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    let e = bwa::eye::<f64>(4, 5, 1, 3).unwrap().compute().unwrap();
    let mut want = ArrayD::zeros(IxDyn(&[4, 5]));
    for i in 0..4 {
        want[[i, i + 1]] = 1.0;
    }
    assert_eq!(e, want);
    let f = bwa::fromfunction(&[3, 4], 2, |i| (i[0] * 10 + i[1]) as i64).unwrap().compute().unwrap();
    assert_eq!(f[[2, 3]], 23);
    let p = bwa::pattern::<f64>(&[20, 20], 6).unwrap().compute().unwrap();
    for (i, j) in [(3, 4), (12, 7), (19, 19)] {
        assert_eq!(p[[i, j]], ((7 * i + 13 * j) % 101) as f64 / 101.0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The pattern drawn inside fused programs (rows, transposed,
    /// broadcast, 1-d) equals the formula evaluated element by element.
    #[test]
    fn fused_pattern_expressions_equal_the_formula(n in 1usize..260, m in 1usize..260, cn in 1usize..90, cm in 1usize..90) {
        let f = |i: usize, j: usize| ((7 * i + 13 * j) % 101) as f64 / 101.0;
        let x = bwa::pattern::<f64>(&[n, m], [cn, cm]).unwrap();
        let got = (&x * 3.0 - 1.0).compute().unwrap();
        prop_assert!(got.indexed_iter().all(|(ix, &v)| v == f(ix[0], ix[1]) * 3.0 - 1.0));
        let sq = bwa::pattern::<f64>(&[n, n], [cn, cn]).unwrap();
        let got = (&sq + &sq.t()).compute().unwrap();
        prop_assert!(got.indexed_iter().all(|(ix, &v)| v == f(ix[0], ix[1]) + f(ix[1], ix[0])));
        let row = bwa::pattern::<f64>(&[m], cm).unwrap();
        let got = x.add(&row).unwrap().compute().unwrap();
        prop_assert!(got.indexed_iter().all(|(ix, &v)| v == f(ix[0], ix[1]) + (ix[1] % 101) as f64 / 101.0));
        let total: f64 = (0..n).flat_map(|i| (0..m).map(move |j| f(i, j))).sum();
        let sum = x.sum().compute_scalar().unwrap();
        prop_assert!((sum - total).abs() <= 1e-9 * total.max(1.0));
    }
}

#[test]
fn random_is_reproducible_on_any_scheduler() {
    let x = bwa::random::random(&[50, 40], [7, 9], 42).unwrap();
    let results: Vec<ArrayD<f64>> = configs().iter().map(|c| x.compute_with(c).unwrap()).collect();
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], bwa::random::random(&[50, 40], [7, 9], 42).unwrap().compute().unwrap());
    assert_ne!(results[0], bwa::random::random(&[50, 40], [7, 9], 43).unwrap().compute().unwrap());
    assert!(results[0].iter().all(|&v| (0.0..1.0).contains(&v)));
    let n = bwa::random::draw::<f64>(Dist::Normal { loc: 5.0, scale: 2.0 }, &[200_000], 50_000, 1).unwrap();
    let (m, s) = (n.mean().compute_scalar().unwrap(), n.std(0).compute_scalar().unwrap());
    assert!((m - 5.0).abs() < 0.02 && (s - 2.0).abs() < 0.02, "{m} {s}");
    let i = bwa::random::draw::<i64>(Dist::Integers { low: -2, high: 3 }, &[1000], 100, 9).unwrap().compute().unwrap();
    assert!(i.iter().all(|v| (-2..3).contains(v)));
    let floats_only = bwa::random::draw::<i32>(Dist::Normal { loc: 0.0, scale: 1.0 }, &[4], 2, 1).unwrap_err();
    assert!(floats_only.to_string().contains("not int32"), "{floats_only}");
    let empty = bwa::random::draw::<u8>(Dist::Integers { low: 3, high: 3 }, &[4], 2, 1).unwrap_err();
    assert!(empty.to_string().contains("low < high, got 3 and 3"), "{empty}");
}

#[test]
fn constant_reductions_are_exact_and_cheap() {
    let x = bwa::ones::<f64>(&[1_000_000], 1000).unwrap();
    assert_eq!(x.sum().compute_scalar().unwrap(), 1e6);
    assert_eq!(x.mean().compute_scalar().unwrap(), 1.0);
    assert_eq!(x.std(0).compute_scalar().unwrap(), 0.0);
    assert_eq!((&x + &x).max().compute_scalar().unwrap(), 2.0);
}

#[test]
fn errors_say_what_is_wrong() {
    let x = bwa::ones::<f64>(&[4, 3], 2).unwrap();
    let y = bwa::ones::<f64>(&[4, 2], 2).unwrap();
    let e = x.add(&y).unwrap_err();
    assert_eq!(e.to_string(), "shape mismatch: operands could not be broadcast together with shapes [4, 3] [4, 2]");
    assert!(matches!(x.sum_axis(2), Err(ArrayError::Axis(_))));
    assert_eq!(
        x.sum_axis(-3).unwrap_err().to_string(),
        "bad axis: axis -3 is out of bounds for an array of dimension 2"
    );
    assert_eq!(
        x.sum_with(&ReduceOpts::axes(&[0, -2])).unwrap_err().to_string(),
        "bad axis: axis -2 repeated in [0, -2]"
    );
    assert!(matches!(bwa::ones::<f64>(&[4], ChunkSpec::Explicit(vec![vec![1, 2]])), Err(ArrayError::Chunks(_))));
    assert_eq!(
        x.matmul(&y).unwrap_err().to_string(),
        "shape mismatch: matmul: shapes [4, 3] and [4, 2] are not aligned (3 != 4)"
    );
    assert!(x.permute_axes(&[0, 0]).is_err());
    assert!(x.block(&[2, 0]).is_err());
}

#[test]
#[should_panic(expected = "add: shape mismatch")]
fn operators_panic_on_mismatch() {
    let x = bwa::ones::<f64>(&[4, 3], 2).unwrap();
    let y = bwa::ones::<f64>(&[5], 2).unwrap();
    let _ = &x + &y;
}

#[test]
fn metadata_display_blocks_store_persist() {
    let a = data(&[10, 7], 1);
    let x = bwa::from_ndarray(a.clone(), [4, 3]).unwrap();
    assert_eq!(x.numblocks(), vec![3, 3]);
    assert_eq!(x.chunks().axis(0), &[4, 4, 2]);
    assert_eq!(x.nbytes(), 560);
    let y = &x + 1.0;
    let shown = y.to_string();
    assert!(
        shown.starts_with("blockwork.Array<add, shape=(10, 7), dtype=float64, chunksize=(4, 3), blocks=9, tasks=18>"),
        "{shown}"
    );
    let b = x.block(&[1, 2]).unwrap();
    assert_eq!(b.shape(), &[4, 1]);
    assert_eq!(b.compute().unwrap(), a.slice(ndarray::s![4..8, 6..7]).to_owned().into_dyn());
    let mut out = ArrayD::zeros(IxDyn(&[10, 7]));
    y.store(&mut out).unwrap();
    assert!(close(&out, &(&a + 1.0)));
    let mut wrong = ArrayD::zeros(IxDyn(&[3, 3]));
    assert!(y.store(&mut wrong).is_err());
    let p = y.persist().unwrap();
    assert_eq!(p.name(), y.name());
    assert_eq!(p.ntasks(), 9);
    assert!(close(&p.sum().compute().unwrap(), &ArrayD::from_elem(IxDyn(&[]), (&a + 1.0).sum())));
}

#[test]
fn same_expression_same_keys() {
    let x = bwa::ones::<f64>(&[6, 6], 3).unwrap();
    let a: Array<f64> = (&x + 1.0).sum();
    let b: Array<f64> = (&x + 1.0).sum();
    assert_eq!(a.name(), b.name());
    let c: Array<f64> = (&x + 2.0).sum();
    assert_ne!(a.name(), c.name());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Reductions over every axis of a fused expression fold rows as the
    /// program makes them; the result must equal reducing the materialized array.
    #[test]
    fn fused_expressions_and_their_reductions((shape, chunks) in shape_and_chunks(), seed in any::<u64>()) {
        let mut a = data(&shape, seed);
        if a.len() > 2 { a[[0; 1].repeat(shape.len()).as_slice()] = f64::NAN; }
        let x = bwa::from_ndarray(a.clone(), chunks).unwrap();
        let e = ((&x * 2.0 + 1.0).abs().sqrt() - &x.t().t()) / 3.0;
        let want = ((&a * 2.0 + 1.0).mapv(f64::abs).mapv(f64::sqrt) - &a) / 3.0;
        prop_assert!(close(&e.compute().unwrap(), &want));
        // Scalars on the left of an operation, and on both sides.
        let left = 1.5 - &(2.0 / &(&x * &x + 1.0));
        let want_left = a.mapv(|v| 1.5 - 2.0 / (v * v + 1.0));
        prop_assert!(close(&left.compute().unwrap(), &want_left));
        let valid: Vec<f64> = want.iter().copied().filter(|v| !v.is_nan()).collect();
        let n = valid.len() as f64;
        let m = valid.iter().sum::<f64>() / n;
        let var = valid.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n;
        let scalar = |arr: Array<f64>| arr.compute_scalar().unwrap();
        prop_assert_eq!(scalar(e.sum()).is_nan(), want.iter().any(|v| v.is_nan()));
        prop_assert!((scalar(e.nansum()) - valid.iter().sum::<f64>()).abs() < 1e-9 * (1.0 + m.abs() * n));
        if n > 0.0 {
            prop_assert!((scalar(e.nanmean()) - m).abs() < 1e-9 * (1.0 + m.abs()));
            let v = scalar(e.nanvar_with(&ReduceOpts::default()).unwrap());
            prop_assert!((v - var).abs() < 1e-9 * (1.0 + var));
            prop_assert_eq!(scalar(e.nanmax()), valid.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        }
    }
}

#[test]
fn long_expressions_start_again_from_materialized_blocks() {
    let a = data(&[9, 7], 3);
    let x = bwa::from_ndarray(a.clone(), [4, 3]).unwrap();
    let mut e = x.clone();
    let mut want = a.clone();
    for i in 0..200 {
        e = &e * 0.5 + f64::from(i % 3);
        want = &want * 0.5 + f64::from(i % 3);
    }
    assert!(close(&e.compute().unwrap(), &want));
    assert!(close(&e.sum().compute().unwrap(), &ArrayD::from_elem(IxDyn(&[]), want.sum())));
    // A shared sub-expression read twice.
    let y = &x * 3.0;
    let z = &y + &y.t().t();
    assert!(close(&z.compute().unwrap(), &(&a * 6.0)));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn contractions_match_ndarray(b in 1usize..4, i in 1usize..6, j in 1usize..6, k in 1usize..6, c in 1usize..4, seed in any::<u64>()) {
        let x = data(&[i, j], seed);
        let y = data(&[j, k], seed ^ 1);
        let bx = data(&[b, i, j], seed ^ 2);
        let by = data(&[b, j, k], seed ^ 3);
        let (ax, ay) = (bwa::from_ndarray(x.clone(), c).unwrap(), bwa::from_ndarray(y.clone(), c).unwrap());
        let (abx, aby) = (bwa::from_ndarray(bx.clone(), c).unwrap(), bwa::from_ndarray(by.clone(), c).unwrap());
        let x2 = x.clone().into_dimensionality::<ndarray::Ix2>().unwrap();
        let y2 = y.clone().into_dimensionality::<ndarray::Ix2>().unwrap();
        let mm = x2.dot(&y2).into_dyn();
        prop_assert!(close(&bwa::einsum("ij,jk->ik", &[&ax, &ay]).unwrap().compute().unwrap(), &mm));
        prop_assert!(close(&bwa::einsum("ij,jk", &[&ax, &ay]).unwrap().compute().unwrap(), &mm));
        prop_assert!(close(&bwa::einsum("ij,jk->ki", &[&ax, &ay]).unwrap().compute().unwrap(), &mm.t().to_owned()));
        prop_assert!(close(&bwa::einsum("ij->ji", &[&ax]).unwrap().compute().unwrap(), &x2.t().to_owned().into_dyn()));
        prop_assert!(close(&bwa::einsum("ij->", &[&ax]).unwrap().compute().unwrap(), &ArrayD::from_elem(IxDyn(&[]), x.sum())));
        prop_assert!(close(&bwa::einsum("ij->j", &[&ax]).unwrap().compute().unwrap(), &x.sum_axis(Axis(0))));
        let mut want = ArrayD::zeros(IxDyn(&[b, i, k]));
        for t in 0..b {
            let p = bx.index_axis(Axis(0), t).into_dimensionality::<ndarray::Ix2>().unwrap().dot(&by.index_axis(Axis(0), t).into_dimensionality::<ndarray::Ix2>().unwrap());
            want.index_axis_mut(Axis(0), t).assign(&p.into_dyn());
        }
        prop_assert!(close(&bwa::einsum("bij,bjk->bik", &[&abx, &aby]).unwrap().compute().unwrap(), &want));
        let t = bwa::tensordot(&abx, &aby, &[0, 2], &[0, 1]).unwrap().compute().unwrap();
        let mut tw = ArrayD::zeros(IxDyn(&[i, k]));
        for t0 in 0..b { for r in 0..i { for q in 0..k { for s0 in 0..j {
            tw[[r, q]] += bx[[t0, r, s0]] * by[[t0, s0, q]];
        }}}}
        prop_assert!(close(&t, &tw));
    }
}

#[test]
fn einsum_errors_name_the_problem() {
    let x = bwa::ones::<f64>(&[3, 4], 2).unwrap();
    let y = bwa::ones::<f64>(&[5, 2], 2).unwrap();
    assert!(bwa::einsum("ij,jk->ik", &[&x, &y]).unwrap_err().to_string().contains("index 'j' has different lengths"));
    assert!(bwa::einsum("ii->i", &[&x]).unwrap_err().to_string().contains("repeated within one operand"));
    assert!(bwa::einsum("ij->z", &[&x]).unwrap_err().to_string().contains("output index 'z' is in no operand"));
    assert!(bwa::tensordot(&x, &y, &[1], &[0]).is_err());
}

#[test]
fn generated_sources_draw_the_same_numbers_as_their_blocks() {
    for chunks in [[7usize, 9], [50, 40], [13, 40]] {
        let x = bwa::random::random(&[50, 40], chunks, 7).unwrap();
        let a = x.compute().unwrap();
        // Fused programs draw the numbers themselves; blocks never exist.
        assert_eq!((&x * 1.0).compute().unwrap(), a);
        let sq = bwa::random::random(&[40, 40], chunks[1], 3).unwrap();
        let s = sq.compute().unwrap();
        assert!(close(&(&sq + &sq.t()).compute().unwrap(), &(&s + &s.t())));
        assert!(close(&x.sum().compute().unwrap(), &ArrayD::from_elem(IxDyn(&[]), a.sum())));
        let m = x.mean().compute_scalar().unwrap();
        assert!((m - a.mean().unwrap()).abs() < 1e-12);
        let o = bwa::ones::<f64>(&[50, 40], chunks).unwrap();
        assert_eq!((&o * 3.0).sum().compute_scalar().unwrap(), 6000.0);
    }
}

#[test]
fn integer_arithmetic_wraps_as_numpy() {
    let a = bwa::from_ndarray(ndarray::arr1(&[1u8, 250, 0]).into_dyn(), 2).unwrap();
    let b = bwa::from_ndarray(ndarray::arr1(&[2u8, 10, 1]).into_dyn(), 2).unwrap();
    assert_eq!(a.sub(&b).unwrap().compute().unwrap().as_slice().unwrap(), &[255, 240, 255]);
    assert_eq!(a.add(&b).unwrap().compute().unwrap().as_slice().unwrap(), &[3, 4, 1]);
    assert_eq!(a.mul(&b).unwrap().compute().unwrap().as_slice().unwrap(), &[2, 196, 0]);
    let big = bwa::from_ndarray(ndarray::arr1(&[i64::MAX; 4]).into_dyn(), 2).unwrap();
    assert_eq!(big.sum().compute_scalar().unwrap(), i64::MAX.wrapping_mul(4));
    // Constant blocks reduce in closed form, exactly as the element loop would.
    let c = bwa::full::<i64>(&[3], (1 << 53) + 1, 2).unwrap();
    assert_eq!(c.sum().compute_scalar().unwrap(), 3 * ((1i64 << 53) + 1));
    assert_eq!(bwa::full::<i64>(&[4], 1 << 62, 3).unwrap().sum().compute_scalar().unwrap(), 0);
    assert_eq!(bwa::full::<i64>(&[4], i64::MAX, 2).unwrap().sum().compute_scalar().unwrap(), i64::MAX.wrapping_mul(4));
    assert_eq!(bwa::full::<i32>(&[40], 3, 7).unwrap().prod().compute_scalar().unwrap(), 3i32.wrapping_pow(40));
    assert_eq!(bwa::full::<u8>(&[9], 2, 4).unwrap().prod().compute_scalar().unwrap(), 0);
}

#[test]
fn a_malformed_chunk_size_is_an_error_that_quotes_it() {
    let err = bwa::ones::<f64>(&[4], "64MB!").unwrap_err();
    assert!(matches!(err, ArrayError::Chunks(_)), "{err}");
    assert!(err.to_string().contains("\"64MB!\"") && err.to_string().contains("64MiB"), "{err}");
    assert_eq!(bwa::ones::<f64>(&[4], "auto").unwrap().chunks().numblocks(), vec![1]);
    assert!(bwa::ones::<f64>(&[1000], "800B").unwrap().chunks().numblocks()[0] > 1);
}

#[test]
fn bitwise_operators_on_integers_match_numpy() {
    let a = bwa::from_ndarray(ndarray::arr1(&[0b1100i64, -1, 7, 0]).into_dyn(), 3).unwrap();
    let b = bwa::from_ndarray(ndarray::arr1(&[0b1010i64, 5, 0, -8]).into_dyn(), 2).unwrap();
    assert_eq!(a.bitwise_and(&b).unwrap().compute().unwrap().as_slice().unwrap(), &[0b1000, 5, 0, 0]);
    assert_eq!(a.bitwise_or(&b).unwrap().compute().unwrap().as_slice().unwrap(), &[0b1110, -1, 7, -8]);
    assert_eq!(a.bitwise_xor(3).unwrap().compute().unwrap().as_slice().unwrap(), &[0b1111, -4, 4, 3]);
    assert_eq!(a.invert().compute().unwrap().as_slice().unwrap(), &[!0b1100i64, 0, -8, -1]);
    let u = bwa::full::<u8>(&[3], 0b1010_0101, 2).unwrap();
    assert_eq!(u.invert().compute().unwrap().as_slice().unwrap(), &[0b0101_1010; 3]);
}

#[test]
fn map_blocks_may_drop_or_add_single_block_axes() {
    let a = ArrayD::from_shape_fn(IxDyn(&[4, 6]), |i| (i[0] * 6 + i[1]) as f64);
    let x = bwa::from_ndarray(a.clone(), [4, 3]).unwrap();
    let sums =
        x.map_blocks_to("colsum", ChunkSpec::Explicit(vec![vec![3, 3]]), &[6], |b, _| b.sum_axis(Axis(0))).unwrap();
    assert_eq!(sums.compute().unwrap(), a.sum_axis(Axis(0)));
    let col = bwa::from_ndarray(a.sum_axis(Axis(0)), 3).unwrap();
    let tall = col
        .map_blocks_to("tall", ChunkSpec::Explicit(vec![vec![3, 3], vec![1]]), &[6, 1], |b, _| {
            b.to_owned().insert_axis(Axis(1))
        })
        .unwrap();
    assert_eq!(tall.compute().unwrap(), a.sum_axis(Axis(0)).insert_axis(Axis(1)));
    let y = bwa::from_ndarray(a, [2, 3]).unwrap();
    let err = y.map_blocks_to("bad", ChunkSpec::Explicit(vec![vec![3, 3]]), &[6], |b, _| b.sum_axis(Axis(0)));
    assert!(matches!(err, Err(ArrayError::Chunks(_))));
}

/// The kernels whose parameters are typed structs give their layouts to
/// the registry, which a cluster's handshake compares between peers.
#[test]
fn typed_kernel_parameters_are_in_the_handshake_fingerprint() {
    blockwork_array::register();
    let layouts = blockwork_graph::registry_layouts();
    let layout = |name: &str| layouts.iter().find(|(n, _)| *n == name).map(|(_, l)| l.as_str());
    assert_eq!(
        layout("blockwork.array.fft"),
        Some(
            "FftParams { input: DType, part: DType, steps: Vec<Step> }; \
             DType codes: F64 F32 I64 I32 U8 Bool C128 C64; \
             Step { kind: Kind, axis: usize, n: usize, norm: Norm }; \
             Kind codes: 0 Forward, 1 Inverse, 2 RealForward, 3 RealForward conj, 4 RealInverse, 5 RealInverse conj; \
             Norm codes: Backward Ortho Forward"
        )
    );
    assert_eq!(
        layout("blockwork.array.reduce"),
        Some(
            "ReduceParams { stage: i64, reduction: Reduction, dtype: DType, axes: Vec<usize>, keepdims: bool, ddof: f64 }; \
             Reduction codes: Sum Prod Min Max NanSum NanMin NanMax Any All Mean NanMean Var NanVar Std NanStd ArgMin ArgMax; \
             DType codes: F64 F32 I64 I32 U8 Bool C128 C64"
        )
    );
    assert!(layout("blockwork.array.fused").is_some_and(|l| l.starts_with("FusedParams { dtype: DType, mode: i64")));
    assert!(layout("blockwork.array.groupby").is_some_and(|l| l.contains("-1 Count, else a Reduction code")));
    // Nested declared types join their function's layout.
    assert_eq!(
        layout("blockwork.array.getitem"),
        Some(
            "GetitemParams { dtype: DType, axes: Vec<Window> }; \
             DType codes: F64 F32 I64 I32 U8 Bool C128 C64; \
             Window { Range { first: i64, last: i64, step: i64 } | Index { at: i64 } | NewAxis {  } }"
        )
    );
    // Tables of codes join too: reordering the binary ops changes it.
    assert!(
        layout("blockwork.array.elemwise").is_some_and(|l| l.contains("BinOp codes: Add Sub Mul Div")),
        "{layouts:?}"
    );
    assert!(layout("blockwork.array.elemwise").is_some_and(|l| l.contains("MathFn codes: Exp Expm1 Log")));
    // A fused program's encoding and the tables its codes index.
    let fused = layout("blockwork.array.fused").unwrap();
    assert!(
        fused.contains("Program: per node") && fused.contains("BinOp codes: Add Sub Mul Div Rem Pow Maximum Minimum")
    );
    assert!(fused.contains("MathFn codes: Exp"), "{fused}");
    // Every array function declares its parameters.
    let array: Vec<_> = layouts.iter().filter(|(n, _)| n.starts_with("blockwork.array.")).collect();
    assert!(array.len() >= 20, "{array:?}");
    for (name, layout) in array {
        assert!(!layout.is_empty(), "{name} does not declare its parameters");
    }
}
