//! Matrix decompositions of chunked arrays: QR and SVD.
//!
//! **TSQR** (tall-and-skinny QR, Benson, Gleich and Demmel 2013) factors an
//! `m × n` array cut into row blocks `A_i` (one block along the columns):
//!
//! 1. each block is factored on its own, `A_i = Q_i R_i` (one task each);
//! 2. the small `R_i` are stacked and factored once, `[R_0; R_1; …] = Q' R`;
//! 3. `Q`'s block `i` is `Q_i Q'_i`, `Q'_i` the rows of `Q'` that stand
//!    for `R_i`.
//!
//! So the large data is read once and written once, in parallel, and only
//! the `n × n` factors meet in one task. The SVD of such an array follows
//! from the SVD of `R = U_R Σ Vᵀ`: `U = Q U_R`, computed in step 3. Short
//! and fat arrays go through their transpose; arrays chunked along both
//! axes are factored in one task when they fit in one automatic block
//! ([`AUTO_BLOCK_BYTES`]), and refused otherwise with the way out
//! (`svd_compressed`, or a rechunk).
//!
//! **Randomized SVD** (Halko, Martinsson and Tropp 2011) approximates the
//! leading `k` singular triplets of an array chunked any way: its range is
//! sampled by a product with a random normal matrix, sharpened by power
//! iterations (each re-orthonormalized by TSQR), and the SVD of the array
//! projected on that basis is taken by TSQR.
//!
//! Block kernels are faer's (Householder QR, divide-and-conquer SVD), one
//! thread per task.

use std::sync::Arc;

use blockwork_graph::{builtins, kernel_params, r, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use faer::{Mat, MatRef};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::{Chunks, AUTO_BLOCK_BYTES};
use crate::dtype::{DType, Float};
use crate::error::{ArrayError, Result};
use crate::layer::{Layer, Namer};

/// Element types the decompositions take: f64 and f32.
pub trait Real: Float + faer::traits::RealField {}
impl Real for f64 {}
impl Real for f32 {}

pub(crate) fn to_mat<T: Real>(v: &Value) -> Result<Mat<T>, TaskError> {
    let blk = block_of::<T>(v)?;
    let a = blk.view();
    if a.ndim() != 2 {
        return Err(TaskError::new(format!("a matrix block must be 2-d, got shape {:?}", a.shape())));
    }
    let a = a.view().into_dimensionality::<ndarray::Ix2>().map_err(TaskError::new)?;
    Ok(Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]]))
}

/// Runs `f` on the block as a faer matrix: a view of its elements when
/// they are in C order (no copy), else a copy.
fn with_mat<T: Real, R>(v: &Value, f: impl FnOnce(MatRef<'_, T>) -> R) -> Result<R, TaskError> {
    let blk = block_of::<T>(v)?;
    let a = blk.view();
    match (a.shape(), a.as_slice()) {
        (&[m, n], Some(elements)) => Ok(f(MatRef::from_row_major_slice(elements, m, n))),
        _ => Ok(f(to_mat::<T>(v)?.as_ref())),
    }
}

/// `a b` written straight into a block's memory (C order).
fn product_block<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>) -> Value {
    let (m, n) = (a.nrows(), b.ncols());
    let mut out = vec![<T as crate::dtype::Element>::from_f64(0.0); m * n];
    faer::linalg::matmul::matmul(
        faer::MatMut::from_row_major_slice_mut(&mut out, m, n),
        faer::Accum::Replace,
        a,
        b,
        <T as crate::dtype::Element>::from_f64(1.0),
        faer::Par::Seq,
    );
    Block::Dense(ArrayD::from_shape_vec(IxDyn(&[m, n]), out).expect("the shape fits the elements")).into_value()
}

pub(crate) fn block<T: Real>(m: MatRef<'_, T>) -> Value {
    let mut out = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        out.extend((0..m.ncols()).map(|j| m[(i, j)]));
    }
    let a = ArrayD::from_shape_vec(IxDyn(&[m.nrows(), m.ncols()]), out).expect("the shape fits the elements");
    Block::Dense(a).into_value()
}

fn vector<T: Real>(xs: Vec<T>) -> Value {
    Block::Dense(ArrayD::from_shape_vec(IxDyn(&[xs.len()]), xs).expect("a vector")).into_value()
}

pub(crate) fn item(v: &Value, i: usize) -> Result<&Value, TaskError> {
    v.as_list()
        .and_then(|xs| xs.get(i))
        .ok_or_else(|| TaskError::new(format!("expected a list of factors with item {i}")))
}

fn qr_of<T: Real>(a: &Mat<T>) -> (Mat<T>, Mat<T>) {
    let qr = a.qr();
    (qr.compute_thin_Q(), qr.thin_R().to_owned())
}

/// Dispatches a kernel on its parameters' dtype to f64 or f32.
macro_rules! real_kernel {
    ($dtype:expr, $body:ident) => {
        match $dtype {
            $crate::dtype::DType::F64 => $body::<f64>,
            $crate::dtype::DType::F32 => $body::<f32>,
            d => return Err(TaskError::internal(format!("matrix decompositions take f64 or f32, not {d}"))),
        }
    };
}
pub(crate) use real_kernel;

kernel_params! {
    /// A factor of real blocks of `dtype`.
    pub(crate) struct QrParams {
        pub(crate) dtype: DType,
    }
}

kernel_params! {
    /// The QR of the stacked `R_i`, and with `svd` the SVD of its `R`.
    pub(crate) struct QrStackParams {
        pub(crate) dtype: DType,
        pub(crate) svd: bool,
    }
}

kernel_params! {
    /// A block's rows of the stacked factor start at `offset`.
    pub(crate) struct QrApplyParams {
        pub(crate) dtype: DType,
        pub(crate) offset: usize,
    }
}

/// Args `[A_i]` → `[Q_i, R_i]`. The block is factored from a
/// view of its memory and let go once factored, and each factor is let go
/// once copied out: a task holds at most two block-sized buffers.
fn qr_block_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    fn go<T: Real>(mut args: Vec<Value>) -> TaskResult {
        let first = args.first().ok_or_else(|| TaskError::new("a QR without its block"))?;
        let qr = with_mat::<T, _>(first, |a| a.qr())?;
        args.clear();
        let r = block(qr.thin_R());
        let q = qr.compute_thin_Q();
        drop(qr);
        Ok(Value::List(vec![block(q.as_ref()), r].into()))
    }
    real_kernel!(QrParams::from_value(params)?.dtype, go)(args)
}

/// Args: the pairs `[Q_i, R_i]` → `[Q', R]`, and with
/// `svd` also `U_R, Σ, Vᵀ` of `R`.
fn qr_stack_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    fn go<T: Real>(svd: bool, args: &[Value]) -> TaskResult {
        let rs = args.iter().map(|p| to_mat::<T>(item(p, 1)?)).collect::<Result<Vec<_>, _>>()?;
        let n = rs.first().map_or(0, |r| r.ncols());
        let rows: usize = rs.iter().map(|r| r.nrows()).sum();
        let mut stacked = Mat::<T>::zeros(rows, n);
        let mut at = 0;
        for r in &rs {
            stacked.as_mut().submatrix_mut(at, 0, r.nrows(), n).copy_from(r.as_ref());
            at += r.nrows();
        }
        let (q, r) = qr_of(&stacked);
        let mut out = vec![block(q.as_ref()), block(r.as_ref())];
        if svd {
            let s = r.thin_svd().map_err(|e| TaskError::new(format!("the SVD did not converge: {e:?}")))?;
            out.push(block(s.U()));
            out.push(vector((0..s.S().dim()).map(|i| s.S()[i]).collect()));
            out.push(block(s.V().transpose()));
        }
        Ok(Value::List(out.into()))
    }
    let QrStackParams { dtype, svd } = QrStackParams::from_value(params)?;
    real_kernel!(dtype, go)(svd, &args)
}

/// Args `[[Q_i, R_i], stack]` → `Q_i Q'[offset..]`,
/// times `U_R` when the stack carries an SVD.
fn qr_apply_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    fn go<T: Real>(offset: usize, args: &[Value]) -> TaskResult {
        let q2 = to_mat::<T>(item(&args[1], 0)?)?;
        let width = block_of::<T>(item(&args[0], 0)?)?.shape().get(1).copied().unwrap_or(0);
        if offset + width > q2.nrows() {
            return Err(TaskError::new("a block's rows of the stacked factor are out of range"));
        }
        let mut part = q2.as_ref().submatrix(offset, 0, width, q2.ncols()).to_owned();
        if let Some(u) = args[1].as_list().and_then(|xs| xs.get(2)) {
            part = &part * to_mat::<T>(u)?;
        }
        // Q_i is read in place and the product written straight into the block.
        with_mat::<T, _>(item(&args[0], 0)?, |qi| product_block(qi, part.as_ref()))
    }
    let QrApplyParams { dtype, offset } = QrApplyParams::from_value(params)?;
    real_kernel!(dtype, go)(offset, &args)
}

/// Args `[[Q, R], A_j]` → `Qᵀ A_j`.
fn qt_apply_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    fn go<T: Real>(args: &[Value]) -> TaskResult {
        let q = to_mat::<T>(item(&args[0], 0)?)?;
        with_mat::<T, _>(&args[1], |a| product_block(q.transpose(), a))
    }
    real_kernel!(QrParams::from_value(params)?.dtype, go)(&args)
}

pub(crate) static QR_BLOCK: NamedFn = NamedFn::new("blockwork.array.qr_block", qr_block_kernel).params::<QrParams>();
pub(crate) static QR_STACK: NamedFn =
    NamedFn::new("blockwork.array.qr_stack", qr_stack_kernel).params::<QrStackParams>();
pub(crate) static QR_APPLY: NamedFn =
    NamedFn::new("blockwork.array.qr_apply", qr_apply_kernel).params::<QrApplyParams>();
pub(crate) static QT_APPLY: NamedFn = NamedFn::new("blockwork.array.qt_apply", qt_apply_kernel).params::<QrParams>();

/// Item `i` of the list the one task of `from` returns, as a one-block array.
fn pick<T: Real>(from: &Arc<Layer>, i: i64, prefix: &str, shape: Vec<usize>) -> Array<T> {
    let chunks = Chunks(shape.iter().map(|&n| vec![n]).collect());
    let namer = Namer::new(prefix).input(from).add(&i);
    let layer = new_layer(prefix, namer, &chunks, vec![Arc::clone(from)], |_| {
        Task::new(Op::named(&builtins::GETITEM, Value::Int(i)), vec![r(from.key(&[0]))])
    });
    Array::from_parts(shape, chunks, layer)
}

/// The factors TSQR makes: the per-block pairs and the stacked factor.
struct Tsqr {
    pairs: Arc<Layer>,
    stack: Arc<Layer>,
    /// Columns of each block's `Q_i`.
    widths: Vec<usize>,
    /// Rank of the factorization: columns of `Q`, rows of `R`.
    k: usize,
}

impl<T: Real> Array<T> {
    fn must_be_matrix(&self, what: &str) -> Result<()> {
        if self.ndim() != 2 {
            return Err(ArrayError::Shape(format!("{what} needs a 2-d array, got shape {:?}", self.shape)));
        }
        Ok(())
    }

    fn register_decompositions() {
        for f in [&QR_BLOCK, &QR_STACK, &QR_APPLY, &QT_APPLY] {
            blockwork_graph::register(f);
        }
    }

    /// Steps 1 and 2 of TSQR (see the module docs), with the SVD of `R`
    /// when `svd`. The array has one block along its columns.
    fn tsqr_factors(&self, svd: bool) -> Tsqr {
        Self::register_decompositions();
        let n = self.shape[1];
        let rows = self.chunks.axis(0).to_vec();
        let dtype = T::DTYPE;
        let row_chunks = Chunks(vec![rows.clone()]);
        let op = Op::named(&QR_BLOCK, QrParams { dtype }.to_value());
        let namer = Namer::new("qr-block").input(&self.layer);
        let pairs = new_layer("qr-block", namer, &row_chunks, vec![Arc::clone(&self.layer)], |idx| {
            Task::new(op.clone(), vec![r(self.key(&[idx[0], 0]))])
        });
        let stack_op = Op::named(&QR_STACK, QrStackParams { dtype, svd }.to_value());
        let namer = Namer::new("qr-stack").input(&pairs).add(&svd);
        let nblocks = rows.len() as u32;
        let stack = new_layer("qr-stack", namer, &Chunks(vec![vec![1]]), vec![Arc::clone(&pairs)], |_| {
            Task::new(stack_op.clone(), (0..nblocks).map(|i| r(pairs.key(&[i]))).collect())
        });
        let widths: Vec<usize> = rows.iter().map(|&m| m.min(n)).collect();
        let k = widths.iter().sum::<usize>().min(n);
        Tsqr { pairs, stack, widths, k }
    }

    /// Step 3 of TSQR: the blocks of `Q` (times `U_R` for an SVD).
    fn tsqr_q(&self, f: &Tsqr, prefix: &str) -> Array<T> {
        let dtype = T::DTYPE;
        let chunks = Chunks(vec![self.chunks.axis(0).to_vec(), vec![f.k]]);
        let namer = Namer::new(prefix).input(&f.pairs).input(&f.stack);
        let offsets: Vec<usize> = f.widths.iter().scan(0, |at, &w| Some(std::mem::replace(at, *at + w))).collect();
        let layer = new_layer(prefix, namer, &chunks, vec![Arc::clone(&f.pairs), Arc::clone(&f.stack)], |idx| {
            let params = QrApplyParams { dtype, offset: offsets[idx[0] as usize] }.to_value();
            Task::new(Op::named(&QR_APPLY, params), vec![r(f.pairs.key(&[idx[0]])), r(f.stack.key(&[0]))])
        });
        Array::from_parts(vec![self.shape[0], f.k], chunks, layer)
    }

    fn one_column_of_blocks(&self, what: &str) -> Result<()> {
        if self.chunks.axis(1).len() > 1 {
            return Err(ArrayError::Chunks(format!(
                "{what} needs one block along the columns (a tall-and-skinny array), got column chunks {:?}: \
                 rechunk it with {{1: -1}} first",
                self.chunks.axis(1)
            )));
        }
        Ok(())
    }

    /// TSQR: `Q` (`m × k`, chunked along rows as the array) and `R`
    /// (`k × n`, one block), `k = min(m, n)`, of an array with one block
    /// along its columns (dask's `tsqr`).
    pub fn tsqr(&self) -> Result<(Array<T>, Array<T>)> {
        self.must_be_matrix("tsqr")?;
        self.one_column_of_blocks("tsqr")?;
        let f = self.tsqr_factors(false);
        let q = self.tsqr_q(&f, "qr-q");
        let rr = pick(&f.stack, 1, "qr-r", vec![f.k, self.shape[1]]);
        Ok((q, rr))
    }

    /// The QR decomposition `A = Q R` (NumPy's reduced mode): TSQR for an
    /// array with one block along its columns; for one block along its
    /// rows (short and fat), `Q` from the first column block and `R`'s
    /// blocks `Qᵀ A_j`; an array chunked both ways is factored in one task
    /// if it fits in one automatic block, and refused otherwise.
    pub fn qr(&self) -> Result<(Array<T>, Array<T>)> {
        self.must_be_matrix("qr")?;
        let (m, n) = (self.shape[0], self.shape[1]);
        if self.chunks.axis(1).len() == 1 {
            return self.tsqr();
        }
        if self.chunks.axis(0).len() == 1 {
            let first = self.chunks.axis(1)[0];
            if first < m {
                return Err(ArrayError::Chunks(format!(
                    "qr of a short-and-fat array needs its first column block at least as wide as its {m} rows, \
                     got column chunks {:?}: rechunk it, e.g. with {{1: {m}}}",
                    self.chunks.axis(1)
                )));
            }
            Self::register_decompositions();
            let dtype = T::DTYPE;
            let one = Chunks(vec![vec![1]]);
            let op = Op::named(&QR_BLOCK, QrParams { dtype }.to_value());
            let namer = Namer::new("qr-block").input(&self.layer).add("first");
            let head = new_layer("qr-block", namer, &one, vec![Arc::clone(&self.layer)], |_| {
                Task::new(op.clone(), vec![r(self.key(&[0, 0]))])
            });
            let q = pick(&head, 0, "qr-q", vec![m, m]);
            let chunks = Chunks(vec![vec![m], self.chunks.axis(1).to_vec()]);
            let apply = Op::named(&QT_APPLY, QrParams { dtype }.to_value());
            let namer = Namer::new("qr-r").input(&head).input(&self.layer);
            let layer = new_layer("qr-r", namer, &chunks, vec![Arc::clone(&head), Arc::clone(&self.layer)], |idx| {
                if idx[1] == 0 {
                    Task::new(Op::named(&builtins::GETITEM, Value::Int(1)), vec![r(head.key(&[0]))])
                } else {
                    Task::new(apply.clone(), vec![r(head.key(&[0])), r(self.key(&[0, idx[1]]))])
                }
            });
            return Ok((q, Array::from_parts(vec![m, n], chunks, layer)));
        }
        self.in_one_block("qr")?.tsqr()
    }

    /// The array as one block, if it fits in one automatic block.
    fn in_one_block(&self, what: &str) -> Result<Array<T>> {
        if self.nbytes() > AUTO_BLOCK_BYTES {
            return Err(ArrayError::Chunks(format!(
                "{what} of an array chunked along both axes (chunks {:?} × {:?}) factors it in one task, which \
                 needs it within one automatic block ({} MiB; it has {} MiB): use svd_compressed(k) for its \
                 leading k singular values, or rechunk it to one block along the columns ({{1: -1}}) or the rows",
                self.chunksize()[0],
                self.chunksize()[1],
                AUTO_BLOCK_BYTES >> 20,
                self.nbytes() >> 20
            )));
        }
        self.rechunk(self.shape.clone())
    }

    /// The singular value decomposition `A = U diag(S) Vᵀ`, reduced:
    /// `U` is `m × k`, `S` has `k` values (nonincreasing), `Vᵀ` is
    /// `k × n`, `k = min(m, n)` (dask's `svd`, which returns `Vᵀ` as `v`).
    /// Exact through TSQR for an array with one block along its columns
    /// or rows; an array chunked both ways is factored in one task if it
    /// fits in one automatic block, and refused otherwise (use
    /// [`Array::svd_compressed`]).
    pub fn svd(&self) -> Result<(Array<T>, Array<T>, Array<T>)> {
        self.must_be_matrix("svd")?;
        if self.chunks.axis(1).len() == 1 {
            let f = self.tsqr_factors(true);
            let u = self.tsqr_q(&f, "svd-u");
            let n = self.shape[1];
            let s = pick(&f.stack, 3, "svd-s", vec![f.k]);
            let vt = pick(&f.stack, 4, "svd-v", vec![f.k, n]);
            return Ok((u, s, vt));
        }
        if self.chunks.axis(0).len() == 1 {
            let (u, s, vt) = self.t().svd()?;
            return Ok((vt.t(), s, u.t()));
        }
        self.in_one_block("svd")?.svd()
    }

    /// An approximation of the leading `k` singular triplets by a
    /// randomized SVD (dask's `svd_compressed`): the range is sampled with
    /// `k + oversamples` random normal vectors (from `seed`), sharpened by
    /// `power_iters` power iterations; works on any chunking.
    pub fn svd_compressed(
        &self,
        k: usize,
        power_iters: usize,
        oversamples: usize,
        seed: u64,
    ) -> Result<(Array<T>, Array<T>, Array<T>)> {
        self.must_be_matrix("svd_compressed")?;
        let (m, n) = (self.shape[0], self.shape[1]);
        if k == 0 || k > m.min(n) {
            return Err(ArrayError::Shape(format!(
                "svd_compressed: k = {k} must be between 1 and min(m, n) = {} for shape {:?}",
                m.min(n),
                self.shape
            )));
        }
        let l = (k + oversamples).min(m.min(n));
        let omega: Array<T> = crate::creation::random::draw(
            crate::creation::random::Dist::Normal { loc: 0.0, scale: 1.0 },
            &[n, l],
            vec![self.chunks.axis(1).to_vec(), vec![l]],
            seed,
        )?;
        let mut y = self.matmul(&omega)?;
        let at = self.t();
        for _ in 0..power_iters {
            let (q, _) = y.tsqr()?;
            let (q, _) = at.matmul(&q)?.tsqr()?;
            y = self.matmul(&q)?;
        }
        let (q, _) = y.tsqr()?;
        // A ≈ Q (Qᵀ A); the SVD of the small l × n factor through its transpose.
        let projected = q.t().matmul(self)?;
        let (ut, s, vtt) = projected.t().svd()?;
        let u = q.matmul(&vtt.t())?;
        let cut = |a: &Array<T>, rows: Option<usize>, cols: Option<usize>| {
            let take = |to: Option<usize>| match to {
                Some(e) => SliceInfoElem::Slice { start: 0, end: Some(e as isize), step: 1 },
                None => SliceInfoElem::Slice { start: 0, end: None, step: 1 },
            };
            a.slice([take(rows), take(cols)])
        };
        let s = s.slice([SliceInfoElem::Slice { start: 0, end: Some(k as isize), step: 1 }])?;
        Ok((cut(&u, None, Some(k))?, s, cut(&ut.t(), Some(k), None)?))
    }
}
