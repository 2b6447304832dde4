//! Helpers shared by the property tests: random shapes, chunkings and
//! data, and a row source for blocks held in the graph.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use blockwork_array::{self as bwa, Block};
use blockwork_graph::{TaskError, Value};
use blockwork_local::{Config, Scheduler};
use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;

pub fn configs() -> [Config; 2] {
    [Config::with_scheduler(Scheduler::Sync), Config::with_scheduler(Scheduler::Threads(3))]
}

/// A shape of 1–3 axes and, for each axis, block lengths that cover it.
pub fn shape_and_chunks() -> impl Strategy<Value = (Vec<usize>, Vec<Vec<usize>>)> {
    proptest::collection::vec(1usize..9, 1..4).prop_flat_map(|shape| {
        let per_axis: Vec<_> = shape
            .iter()
            .map(|&n| proptest::collection::vec(1usize..5, n).prop_map(move |cuts| cut(n, &cuts)))
            .collect();
        (Just(shape), per_axis)
    })
}

pub fn cut(n: usize, sizes: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut left = n;
    for &s in sizes {
        if left == 0 {
            break;
        }
        let s = s.min(left);
        out.push(s);
        left -= s;
    }
    out
}

pub fn data(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    ArrayD::from_shape_fn(IxDyn(shape), |_| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 33) % 2000) as f64 / 100.0 - 10.0
    })
}

pub fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())))
}

/// Slabs handed over by [`CONSTANT_ROWS`].
pub static SLABS: AtomicUsize = AtomicUsize::new(0);

/// Hands a block held in the graph (`from_ndarray`'s) over in slabs of one
/// to three rows, by turns, as a file reader hands over its blocks.
fn constant_rows(params: &Value, _bytes: usize, each: &mut bwa::rows::EachSlab<'_>) -> Result<(), TaskError> {
    let Block::Dense(a) = bwa::block_of::<f64>(params)? else { return each(params.clone()) };
    let rows = a.shape().first().copied().unwrap_or(0);
    if rows == 0 {
        return each(params.clone());
    }
    let mut first = 0;
    while first < rows {
        let n = (1 + SLABS.fetch_add(1, Ordering::Relaxed) % 3).min(rows - first);
        each(Block::Dense(a.slice_axis(Axis(0), (first..first + n).into()).to_owned()).into_value())?;
        first += n;
    }
    Ok(())
}

/// A row source for the blocks of `from_ndarray`, registered by tests of
/// reductions that take blocks in slabs.
pub static CONSTANT_ROWS: bwa::rows::RowSource =
    bwa::rows::RowSource { op: &blockwork_graph::builtins::CONSTANT, rows: constant_rows };
