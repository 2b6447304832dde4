//! Slicing, joining, cumulative operations and user functions on blocks,
//! against plain ndarray on randomized shapes and chunkings.

use blockwork_array::{self as bwa, ArrayError};
use ndarray::{s, ArrayD, Axis, IxDyn, SliceInfoElem};
use proptest::prelude::*;

fn data(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed | 1;
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % 1000) as f64 / 10.0
    })
}

fn slice_elem() -> impl Strategy<Value = SliceInfoElem> {
    prop_oneof![
        (-12isize..12, proptest::option::of(-12isize..12), prop_oneof![1isize..4, -3isize..0])
            .prop_map(|(start, end, step)| SliceInfoElem::Slice { start, end, step }),
        (-5isize..5).prop_map(SliceInfoElem::Index),
        Just(SliceInfoElem::NewAxis),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn slicing_matches_ndarray(
        shape in proptest::collection::vec(1usize..10, 1..4),
        chunk in 1usize..5,
        elems in proptest::collection::vec(slice_elem(), 0..4),
        seed in any::<u64>(),
    ) {
        let a = data(&shape, seed);
        let x = bwa::from_ndarray(a.clone(), chunk).unwrap();
        let consumed = elems.iter().filter(|e| !matches!(e, SliceInfoElem::NewAxis)).count();
        // ndarray panics where we must return errors: check those first.
        let mut ax = 0;
        let mut valid = consumed <= shape.len();
        for e in &elems {
            match e {
                SliceInfoElem::Index(i) if ax < shape.len() => {
                    let n = shape[ax] as isize;
                    if *i < -n || *i >= n { valid = false; }
                    ax += 1;
                }
                SliceInfoElem::Slice { .. } => ax += 1,
                _ => {}
            }
        }
        let got = x.slice(&elems);
        if !valid {
            prop_assert!(matches!(got, Err(ArrayError::Index(_))));
            return Ok(());
        }
        // ndarray clamps slices too, but panics on start > end: normalize like we do.
        let mut full = elems.clone();
        full.extend((consumed..shape.len()).map(|_| SliceInfoElem::Slice { start: 0, end: None, step: 1 }));
        let mut ax = 0;
        let fixed: Vec<SliceInfoElem> = full.iter().map(|e| match *e {
            SliceInfoElem::Slice { start, end, step } => {
                let n = shape[ax] as isize;
                ax += 1;
                let norm = |i: isize| (if i < 0 { i + n } else { i }).clamp(0, n);
                let (s0, e0) = (norm(start), end.map_or(n, norm));
                if e0 < s0 { SliceInfoElem::Slice { start: 0, end: Some(0), step } } else { SliceInfoElem::Slice { start: s0, end: Some(e0), step } }
            }
            SliceInfoElem::Index(i) => { ax += 1; SliceInfoElem::Index(i) }
            SliceInfoElem::NewAxis => SliceInfoElem::NewAxis,
        }).collect();
        let want = a.slice(fixed.as_slice()).to_owned();
        let got = got.unwrap();
        prop_assert_eq!(got.shape(), want.shape());
        prop_assert_eq!(got.compute().unwrap(), want);
    }

    #[test]
    fn joins_match_ndarray(rows in 1usize..8, cols in 1usize..8, c1 in 1usize..4, c2 in 1usize..4, seed in any::<u64>()) {
        let a = data(&[rows, cols], seed);
        let b = data(&[rows + 2, cols], seed ^ 1);
        let x = bwa::from_ndarray(a.clone(), c1).unwrap();
        let y = bwa::from_ndarray(b.clone(), c2).unwrap();
        let cat = bwa::concatenate(&[&x, &y, &x], 0).unwrap();
        prop_assert_eq!(cat.compute().unwrap(), ndarray::concatenate(Axis(0), &[a.view(), b.view(), a.view()]).unwrap());
        let st = bwa::stack(&[&x, &x.add(1.0).unwrap()], -1).unwrap();
        let a1 = &a + 1.0;
        prop_assert_eq!(st.compute().unwrap(), ndarray::stack(Axis(2), &[a.view(), a1.view()]).unwrap());
        prop_assert_eq!(x.expand_dims(0).unwrap().compute().unwrap(), a.clone().insert_axis(Axis(0)));
    }

    #[test]
    fn cumulative_ops_match_ndarray(shape in proptest::collection::vec(1usize..7, 1..4), chunk in 1usize..4, axis in 0usize..3, seed in any::<u64>()) {
        let axis = axis % shape.len();
        let a = data(&shape, seed).mapv(|v| (v / 30.0).round());
        let x = bwa::from_ndarray(a.clone(), chunk).unwrap();
        let mut want = a.clone();
        want.accumulate_axis_inplace(Axis(axis), |&p, c| *c += p);
        prop_assert_eq!(x.cumsum(axis as isize).unwrap().compute().unwrap(), want);
        let mut wantp = a.clone();
        wantp.accumulate_axis_inplace(Axis(axis), |&p, c| *c *= p);
        prop_assert_eq!(x.cumprod(axis as isize).unwrap().compute().unwrap(), wantp);
    }
}

#[test]
fn map_blocks_sees_each_block_and_checks_shapes() {
    let a = data(&[7, 5], 3);
    let x = bwa::from_ndarray(a.clone(), [3, 2]).unwrap();
    let y =
        x.map_blocks("add-offset", |b, info| b.mapv(|v| v + (info.offset[0] * 100 + info.offset[1]) as f64)).unwrap();
    let want =
        ArrayD::from_shape_fn(IxDyn(&[7, 5]), |i| a[[i[0], i[1]]] + ((i[0] / 3 * 3) * 100 + (i[1] / 2 * 2)) as f64);
    assert_eq!(y.compute().unwrap(), want);
    let bad = x.map_blocks("shrink", |b, _| b.slice(s![..1, ..]).to_owned().into_dyn()).unwrap();
    let err = bad.compute().unwrap_err().to_string();
    assert!(err.contains("(\"shrink-") && err.contains("expected [3, 2]"), "{err}");
    let sums = x
        .map_blocks_to("block-sum", vec![vec![1, 1, 1], vec![1, 1, 1]], &[3, 3], |b, _| {
            ArrayD::from_elem(IxDyn(&[1, 1]), b.sum())
        })
        .unwrap();
    assert!((sums.compute().unwrap().sum() - a.sum()).abs() < 1e-9);
}

/// A named block function: adds `params` times the block's first offset.
fn shift_block(params: &blockwork_graph::Value, args: Vec<blockwork_graph::Value>) -> blockwork_graph::TaskResult {
    use blockwork_graph::{TaskError, Value};
    let [scale, info, want] = params.as_list().ok_or_else(|| TaskError::new("params"))? else {
        return Err(TaskError::new("three params"));
    };
    let (Value::Float(scale), Some(want)) = (scale, want.as_list()) else { return Err(TaskError::new("params")) };
    let info = bwa::BlockInfo::from_value(info)?;
    let block = bwa::block_of::<f64>(&args[0])?;
    let out = block.view().mapv(|v| v + scale * info.offset[0] as f64);
    assert_eq!(out.shape().len(), want.len());
    Ok(bwa::Block::Dense(out).into_value())
}
static SHIFT: blockwork_graph::NamedFn = blockwork_graph::NamedFn::new("test.array.shift", shift_block);

#[test]
fn map_blocks_named_builds_tasks_another_process_can_run() {
    let a = data(&[7, 5], 4);
    let x = bwa::from_ndarray(a.clone(), [3, 2]).unwrap();
    let chunks = bwa::ChunkSpec::Explicit(x.chunks().axes().to_vec());
    let y = x.map_blocks_named::<f64>("shift", chunks, &[7, 5], &SHIFT, blockwork_graph::Value::Float(10.0)).unwrap();
    let want = ArrayD::from_shape_fn(IxDyn(&[7, 5]), |i| a[[i[0], i[1]]] + 10.0 * (i[0] / 3 * 3) as f64);
    assert_eq!(y.compute().unwrap(), want);
    let graph = y.graph().unwrap();
    let key = y.keys()[0].clone();
    let id = graph.id(&key).unwrap();
    assert!(graph.task(id).op.is_serializable(), "a named op, not a closure");
    let info = bwa::BlockInfo { index: vec![1, 2], offset: vec![3, 4], shape: vec![3, 1], array_shape: vec![7, 5] };
    assert_eq!(bwa::BlockInfo::from_value(&info.to_value()).unwrap(), info);
}

#[test]
fn index_errors_name_the_axis() {
    let x = bwa::ones::<f64>(&[4, 3], 2).unwrap();
    assert_eq!(
        x.slice(s![0, 5]).unwrap_err().to_string(),
        "bad index: index 5 is out of bounds for axis 1 with size 3"
    );
    assert!(x.slice(s![.., .., ..]).is_err());
    assert!(bwa::concatenate(&[&x, &bwa::ones::<f64>(&[4, 2], 2).unwrap()], 0).is_err());
    assert!(x.cumsum(2).is_err());
    let c = x.slice(s![1..3, -1]).unwrap();
    assert_eq!(c.shape(), &[2]);
    assert_eq!(c.compute().unwrap(), ArrayD::from_elem(IxDyn(&[2]), 1.0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reshape_matches_ndarray(shape in proptest::collection::vec(1usize..6, 1..4), chunk in 1usize..4, split in 0usize..3, seed in any::<u64>()) {
        let a = data(&shape, seed);
        let x = bwa::from_ndarray(a.clone(), chunk).unwrap();
        let n: usize = shape.iter().product();
        // A few target shapes of the same size.
        let mut targets = vec![vec![n], vec![1, n]];
        let d = [2usize, 3, 5][split];
        if n.is_multiple_of(d) { targets.push(vec![n / d, d]); targets.push(vec![d, 1, n / d]); }
        for t in targets {
            let want = a.clone().into_shape_with_order(IxDyn(&t)).unwrap();
            prop_assert_eq!(x.reshape(&t).unwrap().compute().unwrap(), want);
        }
    }

    #[test]
    fn take_and_compress_match_ndarray(shape in proptest::collection::vec(1usize..8, 1..3), chunk in 1usize..4, picks in proptest::collection::vec(-7isize..7, 0..10), seed in any::<u64>()) {
        let a = data(&shape, seed);
        let x = bwa::from_ndarray(a.clone(), chunk).unwrap();
        let ax = shape.len() - 1;
        let n = shape[ax] as isize;
        let valid: Vec<isize> = picks.iter().copied().filter(|&i| i >= -n && i < n).collect();
        let norm: Vec<usize> = valid.iter().map(|&i| if i < 0 { (i + n) as usize } else { i as usize }).collect();
        let got = x.take(&valid, ax as isize).unwrap().compute().unwrap();
        prop_assert_eq!(got, a.select(Axis(ax), &norm));
        let cond: Vec<bool> = (0..shape[ax]).map(|i| i % 2 == 0).collect();
        let keep: Vec<usize> = (0..shape[ax]).filter(|i| i % 2 == 0).collect();
        prop_assert_eq!(x.compress(&cond, ax as isize).unwrap().compute().unwrap(), a.select(Axis(ax), &keep));
    }
}

#[test]
fn squeeze_and_broadcast_to() {
    let a = data(&[3, 1, 4], 5);
    let x = bwa::from_ndarray(a.clone(), 2).unwrap();
    assert_eq!(x.squeeze(None).unwrap().compute().unwrap(), a.clone().into_shape_with_order(IxDyn(&[3, 4])).unwrap());
    assert!(x.squeeze(Some(&[0])).is_err());
    let b = x.broadcast_to(&[2, 3, 5, 4]).unwrap();
    assert_eq!(b.compute().unwrap(), a.broadcast(IxDyn(&[2, 3, 5, 4])).unwrap().to_owned());
    assert!(x.broadcast_to(&[3, 2, 5]).is_err());
    assert!(x.reshape(&[5, 5]).is_err());
    assert!(x.take(&[7], 2).is_err());
    assert!(x.compress(&[true], 2).is_err());
    assert_eq!(x.take(&[], 2).unwrap().shape(), &[3, 1, 0]);
}

/// The whole array padded by `d` on every side with the boundary rule, as NumPy's `pad`.
fn pad(a: &ArrayD<f64>, d: usize, boundary: bwa::Boundary) -> ArrayD<f64> {
    let shape: Vec<usize> = a.shape().iter().map(|&n| n + 2 * d).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |i| {
        let mut src = Vec::new();
        for (ax, &n) in a.shape().iter().enumerate() {
            let g = i[ax] as i64 - d as i64;
            let n = n as i64;
            let p = if (0..n).contains(&g) {
                g
            } else {
                match boundary {
                    bwa::Boundary::Reflect => (if g < 0 { -g - 1 } else { 2 * n - g - 1 }).clamp(0, n - 1),
                    bwa::Boundary::Periodic => g.rem_euclid(n),
                    _ => return if let bwa::Boundary::Constant(v) = boundary { v } else { 0.0 },
                }
            };
            src.push(p as usize);
        }
        a[IxDyn(&src)]
    })
}

/// Sum over the (2d+1)^n window around every element.
fn box_sum(p: &ArrayD<f64>, d: usize) -> ArrayD<f64> {
    let shape: Vec<usize> = p.shape().iter().map(|&n| n - 2 * d).collect();
    ArrayD::from_shape_fn(IxDyn(&shape), |i| {
        let elems: Vec<SliceInfoElem> = (0..shape.len())
            .map(|ax| SliceInfoElem::Slice { start: i[ax] as isize, end: Some((i[ax] + 2 * d + 1) as isize), step: 1 })
            .collect();
        p.slice(elems.as_slice()).sum()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn map_overlap_matches_a_padded_stencil(
        shape in proptest::collection::vec(2usize..9, 1..3),
        chunk in 2usize..5,
        which in 0usize..3,
        seed in any::<u64>(),
    ) {
        let a = data(&shape, seed);
        let x = bwa::from_ndarray(a.clone(), chunk).unwrap();
        let boundary = [bwa::Boundary::Reflect, bwa::Boundary::Periodic, bwa::Boundary::Constant(-1.5)][which];
        let d = 1;
        let depth = vec![d; shape.len()];
        let y = x.map_overlap("box", &depth, boundary, move |b, _| {
            // The same stencil inside the block; its outer ring is trimmed.
            let inner = box_sum(&b.to_owned(), d);
            let mut out = ArrayD::zeros(b.raw_dim());
            let elems: Vec<SliceInfoElem> = (0..b.ndim())
                .map(|ax| SliceInfoElem::Slice { start: d as isize, end: Some((b.shape()[ax] - d) as isize), step: 1 })
                .collect();
            out.slice_mut(elems.as_slice()).assign(&inner);
            out
        }).unwrap();
        let want = box_sum(&pad(&a, d, boundary), d);
        let got = y.compute().unwrap();
        prop_assert!(got.iter().zip(want.iter()).all(|(p, q)| (p - q).abs() < 1e-9), "{got:?}\n{want:?}");
        let o = x.overlap(&depth, boundary).unwrap();
        prop_assert_eq!(o.shape()[0], shape[0] + 2 * d * x.numblocks()[0]);
    }
}

#[test]
fn overlap_edges_and_errors() {
    let a = data(&[10], 4);
    let x = bwa::from_ndarray(a.clone(), 4).unwrap();
    let none = x.overlap(&[2], bwa::Boundary::None).unwrap();
    assert_eq!(none.chunks().axis(0), &[6, 8, 4]);
    let doubled = x.map_overlap("double", &[2], bwa::Boundary::None, |b, _| b.mapv(|v| 2.0 * v)).unwrap();
    assert_eq!(doubled.compute().unwrap(), a.mapv(|v| 2.0 * v));
    assert!(matches!(x.overlap(&[3], bwa::Boundary::Reflect), Err(ArrayError::Chunks(_))));
    assert!(x.overlap(&[1, 1], bwa::Boundary::Reflect).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn blockwise_matches_ndarray(i in 1usize..7, j in 1usize..7, k in 1usize..7, c1 in 1usize..4, c2 in 1usize..4, seed in any::<u64>()) {
        let a = data(&[i, j], seed);
        let v = data(&[j], seed ^ 1);
        let b = data(&[j, k], seed ^ 2);
        let x = bwa::from_ndarray(a.clone(), c1).unwrap();
        let y = bwa::from_ndarray(v.clone(), c2).unwrap();
        let z = bwa::from_ndarray(b.clone(), c2).unwrap();
        // Aligned blocks with broadcasting along i.
        let s = bwa::blockwise("scale", "ij", &[(&x, "ij"), (&y, "j")], |bl| &bl[0] * &bl[1]).unwrap();
        prop_assert_eq!(s.compute().unwrap(), &a * &v);
        // Transposed operand.
        let t = bwa::blockwise("add-t", "ij", &[(&x, "ij"), (&x.t(), "ji")], |bl| &bl[0] + &bl[1].t()).unwrap();
        prop_assert_eq!(t.compute().unwrap(), &a + &a);
        // Contraction over j: panels concatenated.
        let m = bwa::blockwise("mm", "ik", &[(&x, "ij"), (&z, "jk")], |bl| {
            let p = bl[0].view().into_dimensionality::<ndarray::Ix2>().unwrap();
            let q = bl[1].view().into_dimensionality::<ndarray::Ix2>().unwrap();
            p.dot(&q).into_dyn()
        }).unwrap();
        let want = a.clone().into_dimensionality::<ndarray::Ix2>().unwrap().dot(&b.clone().into_dimensionality::<ndarray::Ix2>().unwrap()).into_dyn();
        let got = m.compute().unwrap();
        prop_assert!(got.iter().zip(want.iter()).all(|(p, q)| (p - q).abs() < 1e-9));
    }
}

#[test]
fn blockwise_errors() {
    // Every block is 2×2, so whichever block fails first names the same shape.
    let x = bwa::ones::<f64>(&[4, 4], 2).unwrap();
    assert!(bwa::blockwise("f", "ij", &[(&x, "i")], |b| b[0].to_owned()).is_err());
    assert!(bwa::blockwise("f", "iz", &[(&x, "ij")], |b| b[0].to_owned()).is_err());
    let y = bwa::ones::<f64>(&[5], 2).unwrap();
    assert!(bwa::blockwise("f", "ij", &[(&x, "ij"), (&y, "j")], |b| b[0].to_owned()).is_err());
    let wrong = bwa::blockwise("f", "ij", &[(&x, "ij")], |b| b[0].slice(s![..1, ..]).to_owned().into_dyn()).unwrap();
    assert!(wrong.compute().unwrap_err().to_string().contains("expected [2, 2]"));
}

#[test]
fn block_assembles_a_grid() {
    let a = data(&[2, 3], 1);
    let b = data(&[2, 2], 2);
    let c = data(&[4, 5], 3);
    let (x, y, z) = (
        bwa::from_ndarray(a.clone(), 2).unwrap(),
        bwa::from_ndarray(b.clone(), 1).unwrap(),
        bwa::from_ndarray(c.clone(), 3).unwrap(),
    );
    let g = bwa::block(&[vec![&x, &y], vec![&z]]).unwrap().compute().unwrap();
    let top = ndarray::concatenate(Axis(1), &[a.view(), b.view()]).unwrap();
    assert_eq!(g, ndarray::concatenate(Axis(0), &[top.view(), c.view()]).unwrap());
    assert!(bwa::block(&[vec![&x], vec![&y]]).is_err());
}

/// A named blockwise function: the f64 operand's (joined) block plus the
/// i32 operand's block, broadcast.
fn add_mixed(params: &blockwork_graph::Value, args: Vec<blockwork_graph::Value>) -> blockwork_graph::TaskResult {
    use blockwork_graph::TaskError;
    let [_, plan, _want] = params.as_list().ok_or_else(|| TaskError::new("params"))? else {
        return Err(TaskError::new("three params"));
    };
    let plan = plan.as_list().ok_or_else(|| TaskError::new("plan"))?;
    // Operand 0 ("ij"): one block; operand 1 ("j"): one block.
    assert_eq!(plan.len(), 2);
    let a = bwa::block_of::<f64>(&args[0])?.view().into_owned();
    let b = bwa::block_of::<i32>(&args[1])?.view().mapv(f64::from);
    Ok(bwa::Block::Dense(&a + &b).into_value())
}
static ADD_MIXED: blockwork_graph::NamedFn = blockwork_graph::NamedFn::new("test.array.add_mixed", add_mixed);

#[test]
fn blockwise_named_mixes_element_types() {
    let a = data(&[6, 8], 5);
    let x = bwa::from_ndarray(a.clone(), [4, 3]).unwrap();
    let v: ndarray::ArrayD<i32> = ndarray::ArrayD::from_shape_fn(IxDyn(&[8]), |i| i[0] as i32 * 7);
    let y = bwa::from_ndarray(v.clone(), [5]).unwrap();
    let ops = [(x.as_operand(), "ij"), (y.as_operand(), "j")];
    let z = bwa::blockwise_named::<f64>("add-mixed", "ij", &ops, &ADD_MIXED, blockwork_graph::Value::Unit).unwrap();
    let want = &a + &v.mapv(f64::from);
    assert_eq!(z.compute().unwrap(), want);
    let graph = z.graph().unwrap();
    assert!(graph.task(graph.id(&z.keys()[0]).unwrap()).op.is_serializable());
}
