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
//!
//! A float operand of uniform or pattern blocks is drawn by the product's
//! task from the blocks' parameters, as fused programs draw them
//! (`crate::creation::Generated::fill_rows`): a strip of rows (512 KiB)
//! at a time, multiplied as soon as it is drawn, while the other operand
//! is small enough that packing it once per strip costs less than a trip
//! through memory; whole, into the task's one buffer, otherwise. Either
//! way the block is never a task's value, and a product of a random
//! matrix and a few columns runs from cache instead of writing each
//! 8 MB block out and reading it back.

use std::sync::Arc;

use blockwork_graph::{kernel_params, r, Arg, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Ix2};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::creation::{block_params, generated_source, is_drawn, Generated};
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

/// Bytes of a drawn operand's rows drawn at a time: they stay in the
/// core's L2 cache while the GEMM reads them.
const STRIP_BYTES: usize = 1 << 19;

/// One operand block of a product, stored row-major as itself or as its
/// transpose's block: in memory, or drawn a strip of rows at a time.
enum Piece<'a, T: Element> {
    Mem(ndarray::CowArray<'a, T, ndarray::IxDyn>),
    Drawn(Generated<T>, [usize; 2]),
}

impl<'a, T: Element> Piece<'a, T> {
    fn of(v: &'a Value, consts: &'a [(T, Vec<usize>, ndarray::ArrayD<T>)]) -> Result<Piece<'a, T>, TaskError> {
        if let Value::List(_) = v {
            let g = generated_source::<T>(v)?;
            return match g.shape() {
                Some(&[rows, cols]) => Ok(Piece::Drawn(g, [rows, cols])),
                _ => Err(TaskError::internal("matmul draws 2-d uniform or pattern blocks only")),
            };
        }
        let view = elements(block_of::<T>(v)?, consts)?;
        if view.ndim() != 2 {
            return Err(TaskError::new(format!("matmul of a block of shape {:?}", view.shape())));
        }
        Ok(Piece::Mem(if view.is_standard_layout() {
            view.into()
        } else {
            view.as_standard_layout().into_owned().into()
        }))
    }

    /// The stored rows and columns.
    fn shape(&self) -> [usize; 2] {
        match self {
            Piece::Mem(a) => [a.shape()[0], a.shape()[1]],
            Piece::Drawn(_, shape) => *shape,
        }
    }

    fn slice(&self) -> Result<&[T], TaskError> {
        match self {
            Piece::Mem(a) => a.as_slice().ok_or_else(|| TaskError::new("matmul blocks are not contiguous")),
            Piece::Drawn(..) => Err(TaskError::internal("a drawn matmul block read whole")),
        }
    }
}

fn float_kernel<T: Numeric + faer::traits::ComplexField>(args: &[Value], p: &MatmulParams) -> TaskResult {
    let nk = p.nk;
    // A constant block is made into elements once per task, not once per
    // product it takes part in.
    let mut consts: Vec<(T, Vec<usize>, ndarray::ArrayD<T>)> = Vec::new();
    for v in args.iter().filter(|v| !matches!(v, Value::List(_))) {
        if let Block::Const { value, shape } = block_of::<T>(v)? {
            if !consts.iter().any(|(c, sh, _)| c == value && sh == shape) {
                consts.push((*value, shape.clone(), ndarray::ArrayD::from_elem(ndarray::IxDyn(shape), *value)));
            }
        }
    }
    let pieces: Vec<Piece<'_, T>> = args.iter().map(|v| Piece::of(v, &consts)).collect::<Result<_, _>>()?;
    let (a, b) = pieces.split_at(nk);
    let m = a.first().map_or(0, |x| dims(&x.shape(), p.a_transposed).0);
    let n = b.first().map_or(0, |x| dims(&x.shape(), p.b_transposed).1);
    // With a transposed operand the product accumulates column-major.
    let column_major = p.a_transposed || p.b_transposed;
    let mut out = vec![T::ZERO; m * n];
    // The task's buffers of drawn rows, and of a whole drawn B.
    let (mut strip, mut whole): (Vec<T>, Vec<T>) = (Vec::new(), Vec::new());
    for (ak, bk) in a.iter().zip(b) {
        let ((am, kk), (kb, bn)) = (dims(&ak.shape(), p.a_transposed), dims(&bk.shape(), p.b_transposed));
        if am != m || bn != n || kk != kb {
            return Err(TaskError::new(format!("block shapes {:?} and {:?} do not multiply", ak.shape(), bk.shape())));
        }
        let mut dst = if column_major {
            faer::MatMut::from_column_major_slice_mut(&mut out, m, n)
        } else {
            faer::MatMut::from_row_major_slice_mut(&mut out, m, n)
        };
        let gemm = |dst: faer::MatMut<'_, T>, lhs: faer::MatRef<'_, T>, rhs: faer::MatRef<'_, T>| {
            faer::linalg::matmul::matmul(dst, faer::Accum::Add, lhs, rhs, T::ONE, faer::Par::Seq)
        };
        match (ak, bk) {
            (Piece::Drawn(g, [rows, cols]), _) => {
                // Both sides drawn: B is drawn whole, A by strips.
                let bsl = match bk {
                    Piece::Drawn(h, [br, bc]) => {
                        draw(h, 0, br * bc, &mut whole);
                        &whole[..]
                    }
                    Piece::Mem(_) => bk.slice()?,
                };
                let rhs = gemm_operand(bsl, kk, n, p.b_transposed);
                for (r0, len) in strips::<T>(*rows, *cols, kk * n) {
                    draw(g, r0, len * cols, &mut strip);
                    if p.a_transposed {
                        gemm(dst.as_mut(), gemm_operand(&strip, m, len, true), rhs.subrows(r0, len));
                    } else {
                        gemm(dst.as_mut().subrows_mut(r0, len), gemm_operand(&strip, len, kk, false), rhs);
                    }
                }
            }
            (Piece::Mem(_), Piece::Drawn(g, [rows, cols])) => {
                let lhs = gemm_operand(ak.slice()?, m, kk, p.a_transposed);
                for (r0, len) in strips::<T>(*rows, *cols, m * kk) {
                    draw(g, r0, len * cols, &mut strip);
                    if p.b_transposed {
                        gemm(dst.as_mut().subcols_mut(r0, len), lhs, gemm_operand(&strip, kk, len, true));
                    } else {
                        gemm(dst.as_mut(), lhs.subcols(r0, len), gemm_operand(&strip, len, n, false));
                    }
                }
            }
            (Piece::Mem(_), Piece::Mem(_)) => {
                let lhs = gemm_operand(ak.slice()?, m, kk, p.a_transposed);
                gemm(dst, lhs, gemm_operand(bk.slice()?, kk, n, p.b_transposed));
            }
        }
    }
    if column_major {
        out = to_row_major(&out, m, n);
    }
    Ok(Block::Dense(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[m, n]), out).map_err(TaskError::new)?)
        .into_value())
}

/// The strips `(first row, rows)` a drawn block of `rows × cols` is drawn
/// in, multiplied with an operand of `other` elements. Each strip makes
/// the GEMM pack that operand again, while drawing the block whole (into
/// the task's one buffer) writes it out and reads it back once: a block
/// multiplied by a few columns (a randomized SVD's) is drawn by strips,
/// one multiplied by a block as large as itself is drawn whole.
fn strips<T>(rows: usize, cols: usize, other: usize) -> impl Iterator<Item = (usize, usize)> {
    let per = (STRIP_BYTES / (std::mem::size_of::<T>() * cols.max(1))).clamp(1, rows.max(1));
    let per = if rows.div_ceil(per) * other > 2 * rows * cols { rows.max(1) } else { per };
    (0..rows).step_by(per).map(move |r0| (r0, per.min(rows - r0)))
}

/// Rows `first..` of a drawn block, `len` elements, into `buf`.
fn draw<T: Numeric>(g: &Generated<T>, first: usize, len: usize, buf: &mut Vec<T>) {
    buf.resize(len, T::ZERO);
    g.fill_rows(first, &mut buf[..len]);
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
        // A drawn operand's blocks are not inputs: each task draws them.
        let deps = [&a, &b].iter().filter(|f| f.drawn.is_none()).map(|f| Arc::clone(&f.layer)).collect();
        let layer = new_layer("matmul", namer, &chunks, deps, |idx| {
            let mut args = Vec::with_capacity(2 * nk);
            args.extend((0..nk as u32).map(|kk| a.arg(idx[0], kk)));
            args.extend((0..nk as u32).map(|kk| b.arg(kk, idx[1])));
            Task::new(op.clone(), args)
        });
        Ok(Array::from_parts(shape, chunks, layer))
    }

    /// NumPy's `dot` for 2-d arrays (the matrix product).
    pub fn dot(&self, other: &Array<T>) -> Result<Array<T>> {
        self.matmul(other)
    }
}

/// One operand of a product: the layer whose blocks its tasks read,
/// whether those are the blocks of its transpose, and, when they are
/// generated blocks the kernel draws a few rows at a time, the layer's
/// grid of blocks.
struct Factor {
    layer: Arc<Layer>,
    transposed: bool,
    drawn: Option<Vec<usize>>,
}

impl Factor {
    /// `x` with its contracted axis (`k_axis`) cut into `k`: a transpose
    /// already cut so is read from its source's blocks; anything else is
    /// rechunked as needed and read as it is. Uniform and pattern blocks
    /// of a float product are drawn by the kernel, a strip of rows at a
    /// time, so they never exist whole.
    fn of<T: Element>(x: &Array<T>, k_axis: usize, k: &[usize]) -> Result<Factor> {
        let float = matches!(T::DTYPE, DType::F64 | DType::F32);
        if x.chunks.axis(k_axis) == k {
            if let Some((source, grid)) = x.expr.as_ref().and_then(|e| e.transposed_source()) {
                let drawn = grid.filter(|_| float && is_drawn(source)).map(<[usize]>::to_vec);
                return Ok(Factor { layer: Arc::clone(source), transposed: true, drawn });
            }
        }
        let mut target = x.chunks.axes().to_vec();
        target[k_axis] = k.to_vec();
        let operand = rechunk_operand(&x.operand(), &Chunks(target))?;
        let drawn = (float && is_drawn(&operand.layer)).then(|| operand.chunks.numblocks());
        Ok(Factor { layer: operand.layer, transposed: false, drawn })
    }

    /// The task argument of the operand's block `(row, col)`: a reference
    /// to it, or the parameters the kernel draws it from.
    fn arg(&self, row: u32, col: u32) -> Arg<blockwork_graph::Key> {
        let idx = if self.transposed { [col, row] } else { [row, col] };
        match self.drawn.as_ref().and_then(|grid| block_params(&self.layer, grid, &idx)) {
            Some(params) => Arg::Lit(params),
            None => r(self.layer.key(&idx)),
        }
    }
}
