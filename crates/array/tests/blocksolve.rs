//! Block Cholesky, LU and triangular solves against plain products and
//! faer on whole matrices, on random sizes and chunkings.

mod common;

use blockwork_array::{from_ndarray, Array};
use common::{configs, cut, data};
use ndarray::{Array2, Ix2};
use proptest::prelude::*;

fn matrix(a: &Array<f64>) -> Array2<f64> {
    a.compute_with(&configs()[1]).unwrap().into_dimensionality::<Ix2>().unwrap()
}

fn close(a: &Array2<f64>, b: &Array2<f64>, tol: f64) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
}

fn chunked(a: &Array2<f64>, rows: &[usize], cols: &[usize]) -> Array<f64> {
    from_ndarray(a.clone().into_dyn(), vec![rows.to_vec(), cols.to_vec()]).unwrap()
}

/// A symmetric positive definite n × n matrix.
fn spd(n: usize, seed: u64) -> Array2<f64> {
    let b = data(&[n, n], seed).into_dimensionality::<Ix2>().unwrap();
    b.dot(&b.t()) + Array2::<f64>::eye(n) * n as f64
}

/// An n × n matrix whose diagonal outweighs its rows (entries of `data`
/// are within ±10): well conditioned, and so are its triangles.
fn dominant(n: usize, seed: u64) -> Array2<f64> {
    data(&[n, n], seed).into_dimensionality::<Ix2>().unwrap() + Array2::<f64>::eye(n) * (10.0 * n as f64 + 20.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn cholesky_reconstructs(n in 1usize..30, rcuts in proptest::collection::vec(1usize..10, 30), ccuts in proptest::collection::vec(1usize..10, 30), seed in any::<u64>()) {
        let a = spd(n, seed);
        let l = matrix(&chunked(&a, &cut(n, &rcuts), &cut(n, &ccuts)).cholesky().unwrap());
        prop_assert!(close(&l.dot(&l.t()), &a, 1e-10));
        prop_assert!(l.indexed_iter().all(|((i, j), v)| i >= j || *v == 0.0), "L is lower triangular");
    }

    #[test]
    fn lu_reconstructs(n in 1usize..30, rcuts in proptest::collection::vec(1usize..10, 30), seed in any::<u64>()) {
        // Diagonally dominant, so no block needs rows of another to pivot.
        let a = dominant(n, seed);
        let rows = cut(n, &rcuts);
        let (p, l, u) = chunked(&a, &rows, &rows).lu().unwrap();
        let (p, l, u) = (matrix(&p), matrix(&l), matrix(&u));
        prop_assert!(close(&p.dot(&l).dot(&u), &a, 1e-10));
        prop_assert!(l.indexed_iter().all(|((i, j), v)| i >= j || *v == 0.0));
        prop_assert!(u.indexed_iter().all(|((i, j), v)| i <= j || *v == 0.0));
        prop_assert!(close(&p.dot(&p.t()), &Array2::eye(n), 0.0), "P is a permutation");
    }

    #[test]
    fn triangular_solves_match(n in 1usize..30, m in 1usize..6, rcuts in proptest::collection::vec(1usize..10, 30), lower in any::<bool>(), seed in any::<u64>()) {
        let a = dominant(n, seed);
        let t = if lower { Array2::from_shape_fn((n, n), |(i, j)| if i >= j { a[[i, j]] } else { 0.0 }) }
                else { Array2::from_shape_fn((n, n), |(i, j)| if i <= j { a[[i, j]] } else { 0.0 }) };
        let b = data(&[n, m], seed ^ 1).into_dimensionality::<Ix2>().unwrap();
        let rows = cut(n, &rcuts);
        let x = matrix(&chunked(&t, &rows, &rows).solve_triangular(&chunked(&b, &[n], &[m]), lower).unwrap());
        prop_assert!(close(&t.dot(&x), &b, 1e-9));
        let v = b.column(0).to_owned();
        let xv = chunked(&t, &rows, &rows)
            .solve_triangular(&from_ndarray(v.clone().into_dyn(), vec![rows.clone()]).unwrap(), lower)
            .unwrap()
            .compute()
            .unwrap();
        prop_assert!(t.dot(&xv.into_dimensionality::<ndarray::Ix1>().unwrap()).iter().zip(&v).all(|(x, y)| (x - y).abs() < 1e-9 * (1.0 + y.abs())));
    }
}

#[test]
fn ill_posed_matrices_are_errors_that_say_why() {
    let not_pd = Array2::from_shape_fn((6, 6), |(i, j)| if i == j { -1.0 } else { 0.0 });
    let err = chunked(&not_pd, &[3, 3], &[3, 3]).cholesky().unwrap().compute().unwrap_err().to_string();
    assert!(err.contains("not positive definite"), "{err}");
    let singular = Array2::<f64>::zeros((4, 4));
    let err = chunked(&singular, &[2, 2], &[2, 2]).lu().unwrap().1.compute().unwrap_err().to_string();
    assert!(err.contains("singular"), "{err}");
    let err = chunked(&singular, &[2, 2], &[2, 2])
        .solve_triangular(&chunked(&singular, &[4], &[4]), true)
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("zero on its diagonal"), "{err}");
    let rect = chunked(&Array2::zeros((4, 3)), &[4], &[3]);
    assert!(rect.cholesky().err().unwrap().to_string().contains("square"));
    let err = chunked(&spd(4, 1), &[2, 2], &[2, 2]).solve_triangular(&rect.t(), true).err().unwrap().to_string();
    assert!(err.contains("does not match"), "{err}");
}

#[test]
fn lu_pivots_within_diagonal_blocks() {
    // One block: partial pivoting over the whole matrix.
    let a = data(&[9, 9], 5).into_dimensionality::<Ix2>().unwrap();
    let (p, l, u) = chunked(&a, &[9], &[9]).lu().unwrap();
    assert!(close(&matrix(&p).dot(&matrix(&l)).dot(&matrix(&u)), &a, 1e-9));
    // Diagonal blocks that need their rows exchanged, and coupling blocks.
    let mut b = Array2::from_shape_fn((6, 6), |(i, j)| 0.1 * ((i * 7 + j * 3) % 5) as f64);
    for k in 0..3 {
        b[[2 * k, 2 * k + 1]] = 5.0;
        b[[2 * k + 1, 2 * k]] = 5.0;
        b[[2 * k, 2 * k]] = 0.0;
    }
    let (p, l, u) = chunked(&b, &[2, 2, 2], &[2, 2, 2]).lu().unwrap();
    let p = matrix(&p);
    assert!(p != Array2::eye(6), "rows were exchanged");
    assert!(close(&p.dot(&matrix(&l)).dot(&matrix(&u)), &b, 1e-12));
}
