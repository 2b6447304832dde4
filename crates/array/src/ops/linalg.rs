//! Matrix products.
//!
//! `C[i, j] = Σ_k A[i, k] · B[k, j]` over blocks: one task per output
//! block reads row panel `A[i, :]` and column panel `B[:, j]` and
//! accumulates the block products in place into one output buffer (a GEMM
//! with β = 1 per k), so no per-k partial products are ever stored. The
//! contracted axis of both operands is first cut into common chunks.
//!
//! Float blocks multiply with faer's GEMM (SIMD kernels chosen at run time
//! for the CPU at hand), one thread per task: the parallelism is across
//! output blocks. Integer blocks use ndarray's generic product.

use std::sync::Arc;

use blockwork_graph::{kernel_params, r, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Ix2};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::dtype::{with_numeric, DType, Element, Numeric};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;
use crate::ops::rechunk::{common_chunks, rechunk_operand};

kernel_params! {
    /// One output block of a matrix product; args: A[i, 0..nk], then B[0..nk, j].
    struct MatmulParams {
        /// The blocks' element type.
        dtype: DType,
        /// Blocks along the contracted axis.
        nk: usize,
    }
}

fn matmul_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let MatmulParams { dtype, nk } = MatmulParams::from_value(params)?;
    if args.len() != 2 * nk {
        return Err(TaskError::new(format!("matmul wants {} blocks, got {}", 2 * nk, args.len())));
    }
    match dtype {
        DType::F64 => float_kernel::<f64>(&args, nk),
        DType::F32 => float_kernel::<f32>(&args, nk),
        _ => with_numeric!(dtype, T => {
            let a: Vec<&Block<T>> = args[..nk].iter().map(block_of::<T>).collect::<Result<_, _>>()?;
            let b: Vec<&Block<T>> = args[nk..].iter().map(block_of::<T>).collect::<Result<_, _>>()?;
            Ok(Block::Dense(panel_product(&a, &b)?.into_dyn()).into_value())
        }, Err(TaskError::new("matmul of bool blocks"))),
    }
}

/// A block's elements: its own, or a constant's materialized once per task.
#[allow(clippy::type_complexity)]
fn elements<'a, T: Element>(
    blk: &'a Block<T>,
    consts: &'a [(T, Vec<usize>, ndarray::ArrayD<T>)],
) -> Result<ndarray::ArrayViewD<'a, T>, TaskError> {
    match blk {
        Block::Dense(x) => Ok(x.view()),
        Block::Const { value, shape } => consts
            .iter()
            .find(|(v, sh, _)| v == value && sh == shape)
            .map(|(_, _, arr)| arr.view())
            .ok_or_else(|| TaskError::new("constant block not materialized")),
    }
}

fn float_kernel<T: Numeric + faer::traits::ComplexField>(args: &[Value], nk: usize) -> TaskResult {
    let a: Vec<&Block<T>> = args[..nk].iter().map(block_of::<T>).collect::<Result<_, _>>()?;
    let b: Vec<&Block<T>> = args[nk..].iter().map(block_of::<T>).collect::<Result<_, _>>()?;
    let m = a.first().map_or(0, |x| x.shape()[0]);
    let n = b.first().map_or(0, |x| x.shape()[1]);
    let mut out = vec![T::ZERO; m * n];
    // A constant block is made into elements once per task, not once per
    // product it takes part in.
    let mut consts: Vec<(T, Vec<usize>, ndarray::ArrayD<T>)> = Vec::new();
    for blk in a.iter().chain(b.iter()) {
        if let Block::Const { value, shape } = blk {
            if !consts.iter().any(|(v, sh, _)| v == value && sh == shape) {
                consts.push((*value, shape.clone(), ndarray::ArrayD::from_elem(ndarray::IxDyn(shape), *value)));
            }
        }
    }
    for (ak, bk) in a.iter().zip(&b) {
        let (av, bv) = (elements(ak, &consts)?, elements(bk, &consts)?);
        if av.ndim() != 2
            || bv.ndim() != 2
            || av.shape()[0] != m
            || bv.shape()[1] != n
            || av.shape()[1] != bv.shape()[0]
        {
            return Err(TaskError::new(format!("block shapes {:?} and {:?} do not multiply", av.shape(), bv.shape())));
        }
        let kk = av.shape()[1];
        let (al, bl) = (av.as_standard_layout(), bv.as_standard_layout());
        let (Some(asl), Some(bsl)) = (al.as_slice(), bl.as_slice()) else {
            return Err(TaskError::new("matmul blocks are not contiguous"));
        };
        let lhs = faer::MatRef::from_row_major_slice(asl, m, kk);
        let rhs = faer::MatRef::from_row_major_slice(bsl, kk, n);
        let dst = faer::MatMut::from_row_major_slice_mut(&mut out, m, n);
        faer::linalg::matmul::matmul(dst, faer::Accum::Add, lhs, rhs, T::ONE, faer::Par::Seq);
    }
    Ok(Block::Dense(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[m, n]), out).map_err(TaskError::new)?)
        .into_value())
}

fn panel_product<T: Numeric + ndarray::LinalgScalar>(a: &[&Block<T>], b: &[&Block<T>]) -> Result<Array2<T>, TaskError> {
    let m = a.first().map_or(0, |x| x.shape()[0]);
    let n = b.first().map_or(0, |x| x.shape()[1]);
    let mut c = Array2::<T>::zeros((m, n));
    for (ak, bk) in a.iter().zip(b) {
        let (av, bv) = (ak.view(), bk.view());
        let av = av.view().into_dimensionality::<Ix2>().map_err(TaskError::new)?;
        let bv = bv.view().into_dimensionality::<Ix2>().map_err(TaskError::new)?;
        if av.ncols() != bv.nrows() {
            return Err(TaskError::new(format!("block shapes {:?} and {:?} do not multiply", av.shape(), bv.shape())));
        }
        general_mat_mul(T::ONE, &av, &bv, T::ONE, &mut c);
    }
    Ok(c)
}

pub(crate) static MATMUL: NamedFn = NamedFn::new("blockwork.array.matmul", matmul_kernel).params::<MatmulParams>();

impl<T: Numeric + ndarray::LinalgScalar> Array<T> {
    /// The matrix product of two 2-d arrays (NumPy's `a @ b`).
    pub fn matmul(&self, other: &Array<T>) -> Result<Array<T>> {
        if self.ndim() != 2 || other.ndim() != 2 {
            return Err(ArrayError::Shape(format!(
                "matmul needs two 2-d arrays, got shapes {:?} and {:?}",
                self.shape, other.shape
            )));
        }
        if self.shape[1] != other.shape[0] {
            return Err(ArrayError::Shape(format!(
                "matmul: shapes {:?} and {:?} are not aligned ({} != {})",
                self.shape, other.shape, self.shape[1], other.shape[0]
            )));
        }
        blockwork_graph::register(&MATMUL);
        let k = common_chunks(&[self.chunks.axis(1), other.chunks.axis(0)]);
        let a = rechunk_operand(&self.operand(), &Chunks(vec![self.chunks.axis(0).to_vec(), k.clone()]))?;
        let b = rechunk_operand(&other.operand(), &Chunks(vec![k.clone(), other.chunks.axis(1).to_vec()]))?;
        let nk = k.len();
        let chunks = Chunks(vec![a.chunks.axis(0).to_vec(), b.chunks.axis(1).to_vec()]);
        let shape = vec![self.shape[0], other.shape[1]];
        let op = Op::named(&MATMUL, MatmulParams { dtype: T::DTYPE, nk }.to_value());
        let namer = Namer::new("matmul").input(&a.layer).input(&b.layer);
        let layer = new_layer("matmul", namer, &chunks, vec![Arc::clone(&a.layer), Arc::clone(&b.layer)], |idx| {
            let mut args = Vec::with_capacity(2 * nk);
            args.extend((0..nk as u32).map(|kk| r(a.key(&[idx[0], kk]))));
            args.extend((0..nk as u32).map(|kk| r(b.key(&[kk, idx[1]]))));
            Task::new(op.clone(), args)
        });
        Ok(Array::from_parts(shape, chunks, layer))
    }

    /// NumPy's `dot` for 2-d arrays (the matrix product).
    pub fn dot(&self, other: &Array<T>) -> Result<Array<T>> {
        self.matmul(other)
    }
}

#[allow(dead_code)]
fn _assert_element<T: Element>() {}
