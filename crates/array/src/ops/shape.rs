//! Shape operations: transpose and friends.

use std::sync::Arc;

use blockwork_graph::{kernel_params, r, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::IxDyn;

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::dtype::{with_dtype, DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;

kernel_params! {
    /// A block's axes reordered.
    struct TransposeParams {
        /// The block's element type.
        dtype: DType,
        /// Output axis `k` is input axis `perm[k]`.
        perm: Vec<usize>,
    }
}

fn transpose_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let TransposeParams { dtype, perm } = TransposeParams::from_value(params)?;
    let v = args.first().ok_or_else(|| TaskError::new("transpose without input"))?;
    with_dtype!(dtype, T => Ok(permute(block_of::<T>(v)?, &perm).into_value()))
}

fn permute<T: Element>(b: &Block<T>, perm: &[usize]) -> Block<T> {
    match b {
        Block::Const { value, shape } => {
            Block::Const { value: *value, shape: perm.iter().map(|&p| shape[p]).collect() }
        }
        // Copied into row-major order: later kernels read it contiguously.
        Block::Dense(a) if a.ndim() == 2 && perm == [1, 0] => Block::Dense(transpose_2d(a.view())),
        Block::Dense(a) => Block::Dense(a.view().permuted_axes(IxDyn(perm)).as_standard_layout().into_owned()),
    }
}

/// A 2-d transpose into row-major order, tile by tile so both the reads
/// and the writes stay in cache (a naive strided copy misses on every
/// element once rows exceed a page).
fn transpose_2d<T: Element>(a: ndarray::ArrayViewD<'_, T>) -> ndarray::ArrayD<T> {
    const TILE: usize = 32;
    let (rows, cols) = (a.shape()[0], a.shape()[1]);
    let Some(src) = a.as_slice() else {
        return a.reversed_axes().as_standard_layout().into_owned();
    };
    let mut out = vec![T::default(); rows * cols];
    for i0 in (0..rows).step_by(TILE) {
        let i1 = (i0 + TILE).min(rows);
        for j0 in (0..cols).step_by(TILE) {
            let j1 = (j0 + TILE).min(cols);
            for i in i0..i1 {
                let row = &src[i * cols + j0..i * cols + j1];
                for (j, &v) in (j0..j1).zip(row) {
                    out[j * rows + i] = v;
                }
            }
        }
    }
    ndarray::ArrayD::from_shape_vec(IxDyn(&[cols, rows]), out).expect("the shape fits the data")
}

pub(crate) static TRANSPOSE: NamedFn =
    NamedFn::new("blockwork.array.transpose", transpose_kernel).params::<TransposeParams>();

impl<T: Element> Array<T> {
    /// Axes permuted: axis `i` of the result is axis `perm[i]` of `self`.
    pub fn permute_axes(&self, perm: &[usize]) -> Result<Array<T>> {
        let nd = self.ndim();
        let mut seen = vec![false; nd];
        if perm.len() != nd || perm.iter().any(|&p| p >= nd || std::mem::replace(&mut seen[p], true)) {
            return Err(ArrayError::Axis(format!("{perm:?} is not a permutation of the {nd} axes")));
        }
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return Ok(self.clone());
        }
        if T::DTYPE.is_numeric() {
            return Ok(crate::ops::fused::permuted(&self.operand(), perm).into_array());
        }
        blockwork_graph::register(&TRANSPOSE);
        let chunks = Chunks(perm.iter().map(|&p| self.chunks.axis(p).to_vec()).collect());
        let shape: Vec<usize> = perm.iter().map(|&p| self.shape[p]).collect();
        let op = Op::named(&TRANSPOSE, TransposeParams { dtype: T::DTYPE, perm: perm.to_vec() }.to_value());
        let namer = Namer::new("transpose").input(&self.layer).add(perm);
        let layer = new_layer("transpose", namer, &chunks, vec![Arc::clone(&self.layer)], |idx| {
            let mut src = vec![0u32; nd];
            for (i, &p) in perm.iter().enumerate() {
                src[p] = idx[i];
            }
            Task::new(op.clone(), vec![r(self.key(&src))])
        });
        Ok(Array::from_parts(shape, chunks, layer))
    }

    /// Axes reversed (NumPy's `x.T`).
    pub fn t(&self) -> Array<T> {
        let perm: Vec<usize> = (0..self.ndim()).rev().collect();
        self.permute_axes(&perm).expect("a reversal is a permutation")
    }

    /// Same as [`Array::t`].
    pub fn transpose(&self) -> Array<T> {
        self.t()
    }

    /// Two axes swapped.
    pub fn swapaxes(&self, a: isize, b: isize) -> Result<Array<T>> {
        let ax = crate::ops::reduce::normalize_axes(Some(&[a]), self.ndim())?[0];
        let bx = crate::ops::reduce::normalize_axes(Some(&[b]), self.ndim())?[0];
        let mut perm: Vec<usize> = (0..self.ndim()).collect();
        perm.swap(ax, bx);
        self.permute_axes(&perm)
    }
}
