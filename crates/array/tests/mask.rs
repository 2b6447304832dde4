//! Boolean-mask indexing against NumPy's rule (selected elements in C
//! order), on randomized shapes, chunkings and masks.

use blockwork_array as bwa;
use proptest::prelude::*;

mod common;
use common::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn mask_select_is_numpys_x_of_mask((shape, chunks) in shape_and_chunks(), seed in any::<u64>(), threshold in -12.0f64..12.0, mask_chunk in 1usize..5) {
        let a = data(&shape, seed);
        let x = bwa::from_ndarray(a.clone(), chunks).unwrap();
        let m = bwa::from_ndarray(a.mapv(|v| v > threshold), mask_chunk).unwrap();
        let want: Vec<f64> = a.iter().copied().filter(|&v| v > threshold).collect();
        for cfg in configs() {
            let got = x.mask_select_with(&m, &cfg).unwrap();
            prop_assert_eq!(got.shape(), &[want.len()]);
            prop_assert_eq!(got.compute_with(&cfg).unwrap().into_raw_vec_and_offset().0, want.clone());
        }
        // A mask made lazily from the array itself, and a reduction of the result.
        let lazy = x.mask_select(&x.greater(threshold).unwrap()).unwrap();
        prop_assert!((lazy.sum().compute_scalar().unwrap() - want.iter().sum::<f64>()).abs() < 1e-9);
    }

    #[test]
    fn compress_by_a_lazy_condition((shape, chunks) in shape_and_chunks(), seed in any::<u64>(), axis_pick in 0usize..3) {
        let axis = axis_pick % shape.len();
        let a = data(&shape, seed);
        let x = bwa::from_ndarray(a.clone(), chunks).unwrap();
        let cond: Vec<bool> = (0..shape[axis]).map(|i| !(i * 7 + seed as usize).is_multiple_of(3)).collect();
        let c = bwa::from_ndarray(ndarray::ArrayD::from_shape_vec(vec![cond.len()], cond.clone()).unwrap(), 2).unwrap();
        let got = x.compress_by(&c, axis as isize).unwrap().compute().unwrap();
        let want = x.compress(&cond, axis as isize).unwrap().compute().unwrap();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn masks_that_select_nothing_or_everything_and_bad_shapes() {
    let x = bwa::arange::<f64>(0.0, 24.0, 1.0, 5).unwrap().reshape(&[4, 6]).unwrap();
    let none = x.mask_select(&x.greater(100.0).unwrap()).unwrap();
    assert_eq!(none.shape(), &[0]);
    assert_eq!(none.compute().unwrap().len(), 0);
    let all = x.mask_select(&bwa::full(&[4, 6], true, 3).unwrap()).unwrap();
    assert_eq!(all.compute().unwrap().into_raw_vec_and_offset().0, (0..24).map(f64::from).collect::<Vec<_>>());
    let e = x.mask_select(&bwa::full(&[6, 4], true, 3).unwrap()).unwrap_err().to_string();
    assert!(e.contains("mask of shape [6, 4] for an array of shape [4, 6]"), "{e}");
    let e = x.compress_by(&bwa::full(&[2, 2], true, 2).unwrap(), 0).unwrap_err().to_string();
    assert!(e.contains("must be 1-d"), "{e}");
}
