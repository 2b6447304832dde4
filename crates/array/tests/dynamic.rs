//! `Dyn`, the run-time-typed array: NumPy's result types, and the shape
//! operations every element type shares, against plain ndarray.

use blockwork_array::dynamic::{promote, Dyn, Rhs};
use blockwork_array::{self as bwa, BinOp, DType, ReduceOpts};
use ndarray::{ArrayD, Dimension, IxDyn, SliceInfoElem};
use proptest::prelude::*;

fn ints(shape: &[usize], chunk: usize) -> (ArrayD<i32>, Dyn) {
    let a = ArrayD::from_shape_fn(IxDyn(shape), |i| (i.slice().iter().sum::<usize>() as i32 * 7) % 11 - 5);
    let d = Dyn::from(bwa::from_ndarray(a.clone(), chunk).unwrap());
    (a, d)
}

#[test]
fn result_types_are_numpys() {
    use DType::*;
    // NumPy 2: `np.result_type` of two arrays.
    for (a, b, want) in [
        (Bool, I32, I32),
        (U8, I32, I32),
        (I32, I64, I64),
        (U8, F32, F32),
        (I32, F32, F64),
        (F32, F64, F64),
        (F32, C64, C64),
        (I64, C64, C128),
        (F64, C64, C128),
    ] {
        assert_eq!(promote(a, b), want, "{a} with {b}");
        assert_eq!(promote(b, a), want, "{b} with {a}");
    }
    let (_, x) = ints(&[4], 2);
    // A Python float widens int32 to float64; a Python int keeps int32.
    assert_eq!(x.binary(BinOp::Add, &Rhs::Float(0.5), false).unwrap().dtype(), F64);
    assert_eq!(x.binary(BinOp::Add, &Rhs::Int(3), false).unwrap().dtype(), I32);
    assert!(x
        .binary(BinOp::Add, &Rhs::Int(1 << 40), false)
        .unwrap_err()
        .to_string()
        .contains("out of bounds for int32"));
    // True division of integers is float64; a sum of int32 is int64.
    assert_eq!(x.binary(BinOp::Div, &Rhs::Int(2), false).unwrap().dtype(), F64);
    assert_eq!(x.reduce("sum", &ReduceOpts::default()).unwrap().dtype(), I64);
}

#[test]
fn concatenating_mixed_types_names_both() {
    let (_, x) = ints(&[4], 2);
    let y = Dyn::from(bwa::ones::<f32>(&[3], 2).unwrap());
    let e = Dyn::concatenate(&[x.clone(), y], 0).unwrap_err().to_string();
    assert!(e.contains("int32") && e.contains("float32"), "{e}");
    assert!(Dyn::concatenate(&[], 0).unwrap_err().to_string().contains("nothing to concatenate"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Slicing, taking, permuting, rechunking and joining keep the type
    /// and give ndarray's values.
    #[test]
    fn shape_operations_match_ndarray(rows in 1usize..9, cols in 1usize..9, chunk in 1usize..5, at in 0usize..8) {
        let (a, x) = ints(&[rows, cols], chunk);
        let r = at % rows;
        let sliced = x.slice(&[SliceInfoElem::Slice { start: r as isize, end: None, step: 1 }, (..).into()]).unwrap();
        prop_assert_eq!(sliced.dtype(), DType::I32);
        prop_assert_eq!(sliced.cast::<i32>().compute().unwrap(), a.slice(ndarray::s![r.., ..]).into_dyn().to_owned());
        let idx: Vec<isize> = vec![(at % cols) as isize, 0];
        let taken = x.take(&idx, 1).unwrap().cast::<i32>().compute().unwrap();
        prop_assert_eq!(taken, a.select(ndarray::Axis(1), &[at % cols, 0]));
        let t = x.permute_axes(&[1, 0]).unwrap().rechunk(vec![vec![cols], vec![rows]]).unwrap();
        prop_assert_eq!(t.chunks(), &[vec![cols], vec![rows]][..]);
        prop_assert_eq!(t.cast::<i32>().compute().unwrap(), a.t().to_owned());
        let both = Dyn::concatenate(&[x.clone(), x.clone()], 0).unwrap().cast::<f64>().compute().unwrap();
        let want = ndarray::concatenate(ndarray::Axis(0), &[a.view(), a.view()]).unwrap().mapv(f64::from);
        prop_assert_eq!(both, want);
        let expanded = x.expand_dims(0).unwrap();
        prop_assert_eq!(expanded.shape(), &[1, rows, cols][..]);
    }
}

#[test]
fn narrowing_casts_nanprod_and_empty_selections_are_numpys() {
    let vals = |d: Dyn| d.cast::<f64>().compute().unwrap().iter().copied().collect::<Vec<f64>>();
    // Narrowing integer casts keep the low bits (NumPy's C casts), from
    // integers exactly, from floats after truncating toward zero.
    let wide = Dyn::from(
        bwa::from_ndarray(
            ArrayD::from_shape_vec(IxDyn(&[6]), vec![-1i64, 256, 300, (1 << 40) + 7, -129, 128]).unwrap(),
            4,
        )
        .unwrap(),
    );
    assert_eq!(vals(wide.astype(DType::U8)), [255.0, 0.0, 44.0, 7.0, 127.0, 128.0]);
    assert_eq!(vals(wide.astype(DType::I32)), [-1.0, 256.0, 300.0, 7.0, -129.0, 128.0]);
    let floats = Dyn::from(
        bwa::from_ndarray(ArrayD::from_shape_vec(IxDyn(&[4]), vec![-1.7f64, 300.9, 255.5, 2.2]).unwrap(), 3).unwrap(),
    );
    assert_eq!(vals(floats.astype(DType::U8)), [255.0, 44.0, 255.0, 2.0]);
    // nanprod counts NaN as 1, per axis and over all.
    let x = Dyn::from(
        bwa::from_ndarray(
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, f64::NAN, 2.0, 3.0, 4.0, f64::NAN]).unwrap(),
            1,
        )
        .unwrap(),
    );
    let per_axis = x.reduce("nanprod", &ReduceOpts { axes: Some(vec![0]), ..Default::default() }).unwrap();
    assert_eq!(vals(per_axis), [3.0, 4.0, 2.0]);
    let all = x.reduce("nanprod", &ReduceOpts::default()).unwrap();
    assert_eq!(vals(all), [24.0]);
    // A selection over no elements is an error naming NumPy's reason.
    let empty = Dyn::from(bwa::zeros::<f64>(&[0, 3], 2usize).unwrap());
    for (name, axes, reason) in [
        ("max", None, "zero-size array to reduction operation maximum"),
        ("nanmin", Some(vec![0]), "zero-size array to reduction operation minimum"),
        ("argmax", Some(vec![-2]), "attempt to get argmax of an empty sequence"),
    ] {
        let err = empty.reduce(name, &ReduceOpts { axes, ..Default::default() }).unwrap_err().to_string();
        assert!(err.contains(reason), "{name}: {err}");
    }
    // Over a non-empty axis of an empty array there is nothing to select.
    assert_eq!(empty.reduce("max", &ReduceOpts { axes: Some(vec![1]), ..Default::default() }).unwrap().shape(), [0]);
}

#[test]
fn reflected_operations_with_an_array_on_the_left_keep_the_order() {
    let (a, x) = ints(&[5], 2);
    let left = Dyn::from(bwa::from_ndarray(a.mapv(|v| f64::from(v) * 3.0 + 1.0), 3).unwrap());
    for op in [BinOp::Sub, BinOp::Div, BinOp::Pow, BinOp::Rem] {
        let reflected = x.binary(op, &Rhs::Array(left.clone()), true).unwrap().cast::<f64>().compute().unwrap();
        let plain = left.binary(op, &Rhs::Array(x.clone()), false).unwrap().cast::<f64>().compute().unwrap();
        let same = reflected.iter().zip(plain.iter()).all(|(r, p)| r == p || (r.is_nan() && p.is_nan()));
        assert!(same, "{op:?}: {reflected} against {plain}");
    }
}
