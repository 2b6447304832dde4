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
//!
//! An operand that is a transpose (`x.T @ q`) is read from `x`'s own
//! blocks, which the GEMM takes as transposed views: the transposed
//! blocks are never made, and readers of `x` and of `x.T` share one set
//! of blocks (a randomized SVD reads both in every power iteration). Such
//! a product accumulates column-major, the layout faer's kernels prefer
//! with a transposed operand, and turns the result row-major once.

use std::sync::Arc;

use blockwork_graph::{kernel_params, r, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Ix2};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::dtype::{with_numeric, DType, Element, Numeric};
use crate::error::{ArrayError, Result};
use crate::layer::{Layer, Namer};
use crate::ops::rechunk::{common_chunks, rechunk_operand};

kernel_params! {
    /// One output block of a matrix product; args: A[i, 0..nk], then B[0..nk, j].
    struct MatmulParams {
        /// The blocks' element type.
        dtype: DType,
        /// Blocks along the contracted axis.
        nk: usize,
        /// A's blocks are given as the blocks of Aᵀ (`Aᵀ[0..nk, i]`).
        a_transposed: bool,
        /// B's blocks are given as the blocks of Bᵀ (`Bᵀ[j, 0..nk]`).
        b_transposed: bool,
    }
}

fn matmul_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let p = MatmulParams::from_value(params)?;
    if args.len() != 2 * p.nk {
        return Err(TaskError::new(format!("matmul wants {} blocks, got {}", 2 * p.nk, args.len())));
    }
    match p.dtype {
        DType::F64 => float_kernel::<f64>(&args, &p),
        DType::F32 => float_kernel::<f32>(&args, &p),
        _ => with_numeric!(p.dtype, T => {
            let a: Vec<&Block<T>> = args[..p.nk].iter().map(block_of::<T>).collect::<Result<_, _>>()?;
            let b: Vec<&Block<T>> = args[p.nk..].iter().map(block_of::<T>).collect::<Result<_, _>>()?;
            Ok(Block::Dense(panel_product(&a, &b, &p)?.into_dyn()).into_value())
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

/// The rows and columns of a block as an operand, given as itself or as
/// its transpose's block.
fn dims(shape: &[usize], transposed: bool) -> (usize, usize) {
    if transposed {
        (shape[1], shape[0])
    } else {
        (shape[0], shape[1])
    }
}

/// A row-major block as a GEMM operand of `rows × cols`; a transposed
/// one holds the operand's transpose.
fn gemm_operand<T: faer::traits::ComplexField>(
    data: &[T],
    rows: usize,
    cols: usize,
    transposed: bool,
) -> faer::MatRef<'_, T> {
    if transposed {
        faer::MatRef::from_row_major_slice(data, cols, rows).transpose()
    } else {
        faer::MatRef::from_row_major_slice(data, rows, cols)
    }
}

fn float_kernel<T: Numeric + faer::traits::ComplexField>(args: &[Value], p: &MatmulParams) -> TaskResult {
    let nk = p.nk;
    let a: Vec<&Block<T>> = args[..nk].iter().map(block_of::<T>).collect::<Result<_, _>>()?;
    let b: Vec<&Block<T>> = args[nk..].iter().map(block_of::<T>).collect::<Result<_, _>>()?;
    let m = a.first().map_or(0, |x| dims(x.shape(), p.a_transposed).0);
    let n = b.first().map_or(0, |x| dims(x.shape(), p.b_transposed).1);
    // With a transposed operand the product accumulates column-major.
    let column_major = p.a_transposed || p.b_transposed;
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
        if av.ndim() != 2 || bv.ndim() != 2 {
            return Err(TaskError::new(format!("block shapes {:?} and {:?} do not multiply", av.shape(), bv.shape())));
        }
        let ((am, ak_), (bk_, bn)) = (dims(av.shape(), p.a_transposed), dims(bv.shape(), p.b_transposed));
        if am != m || bn != n || ak_ != bk_ {
            return Err(TaskError::new(format!("block shapes {:?} and {:?} do not multiply", av.shape(), bv.shape())));
        }
        let (al, bl) = (av.as_standard_layout(), bv.as_standard_layout());
        let (Some(asl), Some(bsl)) = (al.as_slice(), bl.as_slice()) else {
            return Err(TaskError::new("matmul blocks are not contiguous"));
        };
        let lhs = gemm_operand(asl, m, ak_, p.a_transposed);
        let rhs = gemm_operand(bsl, ak_, n, p.b_transposed);
        let dst = if column_major {
            faer::MatMut::from_column_major_slice_mut(&mut out, m, n)
        } else {
            faer::MatMut::from_row_major_slice_mut(&mut out, m, n)
        };
        faer::linalg::matmul::matmul(dst, faer::Accum::Add, lhs, rhs, T::ONE, faer::Par::Seq);
    }
    if column_major {
        out = to_row_major(&out, m, n);
    }
    Ok(Block::Dense(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[m, n]), out).map_err(TaskError::new)?)
        .into_value())
}

/// An `m × n` matrix stored column-major, stored row-major (by tiles, so
/// both sides are read and written in cache-sized pieces).
fn to_row_major<T: Numeric>(src: &[T], m: usize, n: usize) -> Vec<T> {
    const TILE: usize = 32;
    let mut out = vec![T::ZERO; m * n];
    for i0 in (0..m).step_by(TILE) {
        for j0 in (0..n).step_by(TILE) {
            for i in i0..(i0 + TILE).min(m) {
                for j in j0..(j0 + TILE).min(n) {
                    out[i * n + j] = src[j * m + i];
                }
            }
        }
    }
    out
}

fn panel_product<T: Numeric + ndarray::LinalgScalar>(
    a: &[&Block<T>],
    b: &[&Block<T>],
    p: &MatmulParams,
) -> Result<Array2<T>, TaskError> {
    let m = a.first().map_or(0, |x| dims(x.shape(), p.a_transposed).0);
    let n = b.first().map_or(0, |x| dims(x.shape(), p.b_transposed).1);
    let mut c = Array2::<T>::zeros((m, n));
    for (ak, bk) in a.iter().zip(b) {
        let (av, bv) = (ak.view(), bk.view());
        let av = av.view().into_dimensionality::<Ix2>().map_err(TaskError::new)?;
        let bv = bv.view().into_dimensionality::<Ix2>().map_err(TaskError::new)?;
        let av = if p.a_transposed { av.reversed_axes() } else { av };
        let bv = if p.b_transposed { bv.reversed_axes() } else { bv };
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
        let a = Factor::of(self, 1, &k)?;
        let b = Factor::of(other, 0, &k)?;
        let nk = k.len();
        let chunks = Chunks(vec![self.chunks.axis(0).to_vec(), other.chunks.axis(1).to_vec()]);
        let shape = vec![self.shape[0], other.shape[1]];
        let params = MatmulParams { dtype: T::DTYPE, nk, a_transposed: a.transposed, b_transposed: b.transposed };
        let op = Op::named(&MATMUL, params.to_value());
        let namer = Namer::new("matmul").input(&a.layer).input(&b.layer).add(&params.to_value());
        let layer = new_layer("matmul", namer, &chunks, vec![Arc::clone(&a.layer), Arc::clone(&b.layer)], |idx| {
            let mut args = Vec::with_capacity(2 * nk);
            args.extend((0..nk as u32).map(|kk| r(a.key(idx[0], kk))));
            args.extend((0..nk as u32).map(|kk| r(b.key(kk, idx[1]))));
            Task::new(op.clone(), args)
        });
        Ok(Array::from_parts(shape, chunks, layer))
    }

    /// NumPy's `dot` for 2-d arrays (the matrix product).
    pub fn dot(&self, other: &Array<T>) -> Result<Array<T>> {
        self.matmul(other)
    }
}

/// One operand of a product: the layer whose blocks its tasks read, and
/// whether those are the blocks of its transpose.
struct Factor {
    layer: Arc<Layer>,
    transposed: bool,
}

impl Factor {
    /// `x` with its contracted axis (`k_axis`) cut into `k`: a transpose
    /// already cut so is read from its source's blocks; anything else is
    /// rechunked as needed and read as it is.
    fn of<T: Element>(x: &Array<T>, k_axis: usize, k: &[usize]) -> Result<Factor> {
        if x.chunks.axis(k_axis) == k {
            if let Some(source) = x.expr.as_ref().and_then(|e| e.transposed_source()) {
                return Ok(Factor { layer: Arc::clone(source), transposed: true });
            }
        }
        let mut target = x.chunks.axes().to_vec();
        target[k_axis] = k.to_vec();
        let operand = rechunk_operand(&x.operand(), &Chunks(target))?;
        Ok(Factor { layer: operand.layer, transposed: false })
    }

    /// The key of the operand's block `(row, col)`.
    fn key(&self, row: u32, col: u32) -> blockwork_graph::Key {
        if self.transposed {
            self.layer.key(&[col, row])
        } else {
            self.layer.key(&[row, col])
        }
    }
}
