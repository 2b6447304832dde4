//! QR and SVD of chunked arrays against faer on the whole matrix, on random
//! shapes and chunkings: reconstruction, orthogonality, triangularity and
//! singular values.

mod common;

use blockwork_array::{from_ndarray, ones, Array};
use common::{configs, cut, data};
use faer::Mat;
use ndarray::{Array2, ArrayD, Ix2};
use proptest::prelude::*;

fn matrix(a: &Array<f64>, config: &blockwork_local::Config) -> Array2<f64> {
    a.compute_with(config).unwrap().into_dimensionality::<Ix2>().unwrap()
}

fn close(a: &Array2<f64>, b: &Array2<f64>, tol: f64) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
}

fn orthonormal_columns(q: &Array2<f64>) -> bool {
    close(&q.t().dot(q), &Array2::eye(q.ncols()), 1e-10)
}

fn singular_values(a: &Array2<f64>) -> Vec<f64> {
    let m = Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]]);
    m.singular_values().unwrap()
}

fn chunked(a: &Array2<f64>, rows: &[usize], cols: &[usize]) -> Array<f64> {
    from_ndarray(a.clone().into_dyn(), vec![rows.to_vec(), cols.to_vec()]).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn tsqr_and_qr_factor_tall_arrays(m in 1usize..40, n in 1usize..8, cuts in proptest::collection::vec(1usize..12, 40), seed in any::<u64>()) {
        let a = data(&[m, n], seed).into_dimensionality::<Ix2>().unwrap();
        let x = chunked(&a, &cut(m, &cuts), &[n]);
        for config in configs() {
            let (q, r) = x.qr().unwrap();
            let (q, r) = (matrix(&q, &config), matrix(&r, &config));
            let k = m.min(n);
            prop_assert_eq!(q.shape(), &[m, k]);
            prop_assert_eq!(r.shape(), &[k, n]);
            prop_assert!(close(&q.dot(&r), &a, 1e-10));
            prop_assert!(orthonormal_columns(&q));
            prop_assert!(r.indexed_iter().all(|((i, j), v)| i <= j || v.abs() < 1e-12), "R is upper triangular");
        }
    }

    #[test]
    fn svd_matches_faer(m in 1usize..40, n in 1usize..40, rcuts in proptest::collection::vec(1usize..15, 40), ccuts in proptest::collection::vec(1usize..15, 40), layout in 0usize..3, seed in any::<u64>()) {
        let a = data(&[m, n], seed).into_dimensionality::<Ix2>().unwrap();
        // One block along the columns, along the rows, or several both ways.
        let (rows, cols) = match layout {
            0 => (cut(m, &rcuts), vec![n]),
            1 => (vec![m], cut(n, &ccuts)),
            _ => (cut(m, &rcuts), cut(n, &ccuts)),
        };
        let x = chunked(&a, &rows, &cols);
        let (u, s, vt) = x.svd().unwrap();
        let config = &configs()[1];
        let (u, vt) = (matrix(&u, config), matrix(&vt, config));
        let s = s.compute_with(config).unwrap().into_dimensionality::<ndarray::Ix1>().unwrap();
        let k = m.min(n);
        prop_assert_eq!(u.shape(), &[m, k]);
        prop_assert_eq!(vt.shape(), &[k, n]);
        let expect = singular_values(&a);
        prop_assert!(s.iter().zip(&expect).all(|(x, y)| (x - y).abs() < 1e-9 * (1.0 + y)), "{s:?} vs {expect:?}");
        prop_assert!(close(&(&u * &s).dot(&vt), &a, 1e-9));
        prop_assert!(orthonormal_columns(&u));
        prop_assert!(orthonormal_columns(&vt.t().to_owned()));
    }
}

#[test]
fn short_and_fat_qr() {
    let a = data(&[5, 23], 3).into_dimensionality::<Ix2>().unwrap();
    let x = chunked(&a, &[5], &[7, 7, 9]);
    let (q, r) = x.qr().unwrap();
    let config = &configs()[1];
    let (q, r) = (matrix(&q, config), matrix(&r, config));
    assert_eq!((q.shape(), r.shape()), (&[5, 5][..], &[5, 23][..]));
    assert!(close(&q.dot(&r), &a, 1e-10));
    assert!(orthonormal_columns(&q));
    let err = chunked(&a, &[5], &[3, 20]).qr().unwrap_err().to_string();
    assert!(err.contains("first column block at least as wide as its 5 rows"), "{err}");
}

#[test]
fn f32_arrays_factor_too() {
    let a = data(&[30, 4], 5).mapv(|v| v as f32);
    let x: Array<f32> = from_ndarray(a.clone(), vec![vec![10, 10, 10], vec![4]]).unwrap();
    let (q, r) = x.qr().unwrap();
    let qr = q
        .compute()
        .unwrap()
        .into_dimensionality::<Ix2>()
        .unwrap()
        .dot(&r.compute().unwrap().into_dimensionality::<Ix2>().unwrap());
    let a: ArrayD<f32> = a;
    assert!(qr.into_dyn().iter().zip(a.iter()).all(|(x, y)| (x - y).abs() < 1e-4));
}

#[test]
fn arrays_too_big_for_one_task_are_refused_with_the_way_out() {
    let x = ones::<f64>(&[6000, 6000], [1000, 1000]).unwrap();
    let err = x.svd().err().unwrap().to_string();
    assert!(err.contains("svd_compressed") && err.contains("one automatic block"), "{err}");
    let err = x.tsqr().err().unwrap().to_string();
    assert!(err.contains("one block along the columns") && err.contains("rechunk"), "{err}");
    let err = ones::<f64>(&[4], [2]).unwrap().svd().err().unwrap().to_string();
    assert!(err.contains("2-d"), "{err}");
}

#[test]
fn svd_compressed_recovers_a_low_rank_matrix() {
    // A rank-3 60 × 45 matrix, chunked both ways.
    let b = data(&[60, 3], 11).into_dimensionality::<Ix2>().unwrap();
    let c = data(&[3, 45], 12).into_dimensionality::<Ix2>().unwrap();
    let a = b.dot(&c);
    let x = chunked(&a, &[20, 20, 20], &[15, 15, 15]);
    let (u, s, vt) = x.svd_compressed(3, 2, 10, 7).unwrap();
    let config = &configs()[1];
    let (u, vt) = (matrix(&u, config), matrix(&vt, config));
    let s = s.compute().unwrap().into_dimensionality::<ndarray::Ix1>().unwrap();
    assert_eq!((u.shape(), s.len(), vt.shape()), (&[60, 3][..], 3, &[3, 45][..]));
    let expect = singular_values(&a);
    assert!(s.iter().zip(&expect).all(|(x, y)| (x - y).abs() < 1e-8 * y), "{s:?} vs {expect:?}");
    assert!(close(&(&u * &s).dot(&vt), &a, 1e-8));
    assert!(orthonormal_columns(&u));
    // The same seed gives the same result; k out of range is refused.
    let again = x.svd_compressed(3, 2, 10, 7).unwrap().1.compute().unwrap();
    assert_eq!(again.into_dimensionality::<ndarray::Ix1>().unwrap(), s);
    let err = x.svd_compressed(46, 2, 10, 7).err().unwrap().to_string();
    assert!(err.contains("k = 46 must be between 1 and min(m, n) = 45"), "{err}");
}
