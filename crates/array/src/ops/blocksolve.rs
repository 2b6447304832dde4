//! Block algorithms on square-blocked matrices: Cholesky, LU and
//! triangular solves.
//!
//! The matrix is cut into an `nb × nb` grid of square blocks (its chunks
//! along both axes the same, rechunked so if they are not). Each output
//! block is one task that reads the blocks it needs, as in dask's
//! `linalg`:
//!
//! - **Cholesky** `A = L Lᵀ`: `L_kk = chol(A_kk − Σ_{j<k} L_kj L_kjᵀ)`,
//!   `L_ik = (A_ik − Σ_{j<k} L_ij L_kjᵀ) L_kk⁻ᵀ` below the diagonal.
//! - **LU** `A = P L U`, pivoting within each diagonal block (as dask's):
//!   with `M = P L` (`L`'s rows in `A`'s order),
//!   `P_k L_kk U_kk = A_kk − Σ_{j<k} M_kj U_jk`, then
//!   `M_ik = (A_ik − Σ M_ij U_jk) U_kk⁻¹`, `L_ik = P_iᵀ M_ik` and
//!   `U_ki = L_kk⁻¹ P_kᵀ (A_ki − Σ M_kj U_ji)`. A diagonal block that is
//!   singular after the updates is an error naming it (a matrix that
//!   needs row exchanges between blocks is refused, not factored wrongly).
//! - **Triangular solves** `T X = B`: block forward or back substitution,
//!   `X_ic = T_ii⁻¹ (B_ic − Σ T_ij X_jc)`.
//!
//! Block kernels are faer's, one thread per task.

use std::sync::Arc;

use blockwork_graph::{builtins, kernel_params, r, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use faer::linalg::triangular_solve::{solve_lower_triangular_in_place, solve_upper_triangular_in_place};
use faer::{Mat, Par, Side};

use crate::array::{new_layer, Array};
use crate::block::Block;
use crate::chunks::Chunks;
use crate::dtype::DType;
use crate::error::{ArrayError, Result};
use crate::layer::{Layer, Namer};
use crate::ops::decomp::{block, item, real_kernel, to_mat, Real};

/// What the message of a task error for a matrix the algorithm cannot
/// take (not positive definite, singular) starts with, so callers can tell
/// it from other failures (the Python package raises NumPy's
/// `LinAlgError` for it).
pub const LINALG_ERROR: &str = "linear algebra: ";

fn linalg_error(what: impl std::fmt::Display) -> TaskError {
    TaskError::new(format!("{LINALG_ERROR}{what}"))
}

/// `S = A − Σ X_j Y_j` (or `X_j Y_jᵀ` when `transpose_y`), the pairs given
/// as two runs of `n` values.
fn updated<T: Real>(a: &Value, xs: &[Value], ys: &[Value], transpose_y: bool) -> Result<Mat<T>, TaskError> {
    let mut s = to_mat::<T>(a)?;
    for (x, y) in xs.iter().zip(ys) {
        let (x, y) = (to_mat::<T>(x)?, to_mat::<T>(y)?);
        if transpose_y {
            s -= &x * y.transpose();
        } else {
            s -= &x * &y;
        }
    }
    Ok(s)
}

kernel_params! {
    /// A block of a Cholesky factor after `earlier` block columns.
    /// Diagonal: args `[A_kk, L_k0..]` → `L_kk`; below: args
    /// `[A_ik, L_kk, L_i0.., L_k0..]` → `L_ik`.
    pub(crate) struct CholeskyParams {
        pub(crate) dtype: DType,
        pub(crate) earlier: usize,
        pub(crate) diagonal: bool,
    }
}

kernel_params! {
    /// Which block of an LU factorization a task makes, with `M = P L`
    /// (rows of `L` as `A`'s are ordered).
    pub(crate) enum LuStage {
        /// Args `[A_kk, M_k0.., U_0k..]` → `[P_k, L_kk, U_kk]`.
        Diagonal {},
        /// Args `[A_ik, D_k, M_i0.., U_0k..]` → `M_ik`.
        Below {},
        /// Args `[A_ki, D_k, M_k0.., U_0i..]` → `U_ki`.
        Right {},
        /// Args `[D_i, M_ik]` → `L_ik = P_iᵀ M_ik`.
        Unpivot {},
    }
}

kernel_params! {
    /// A block of an LU factorization after `earlier` block columns.
    pub(crate) struct LuParams {
        pub(crate) dtype: DType,
        pub(crate) stage: LuStage,
        pub(crate) earlier: usize,
    }
}

kernel_params! {
    /// A block of a triangular solve after `earlier` blocks: args
    /// `[T_ii, B_ic, T_i*.., X_*c..]` → `X_ic`.
    pub(crate) struct TrsmParams {
        pub(crate) dtype: DType,
        pub(crate) lower: bool,
        pub(crate) earlier: usize,
    }
}

fn cholesky_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    fn go<T: Real>(nj: usize, diagonal: bool, args: &[Value]) -> TaskResult {
        if diagonal {
            let s = updated::<T>(&args[0], &args[1..1 + nj], &args[1..1 + nj], true)?;
            let llt = s.llt(Side::Lower).map_err(|_| {
                linalg_error("the matrix is not positive definite (a diagonal block's pivot is not positive)")
            })?;
            return Ok(block(llt.L()));
        }
        let lkk = to_mat::<T>(&args[1])?;
        let s = updated::<T>(&args[0], &args[2..2 + nj], &args[2 + nj..2 + 2 * nj], true)?;
        // X L_kkᵀ = S  ⇔  L_kk Xᵀ = Sᵀ.
        let mut xt = s.transpose().to_owned();
        solve_lower_triangular_in_place(lkk.as_ref(), xt.as_mut(), Par::Seq);
        Ok(block(xt.transpose()))
    }
    let CholeskyParams { dtype, earlier, diagonal } = CholeskyParams::from_value(params)?;
    real_kernel!(dtype, go)(earlier, diagonal, &args)
}

/// One block of an LU factorization ([`LuStage`]).
fn lu_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    fn go<T: Real>(stage: LuStage, nj: usize, args: &[Value]) -> TaskResult {
        if matches!(stage, LuStage::Unpivot {}) {
            let p = to_mat::<T>(item(&args[0], 0)?)?;
            return Ok(block((p.transpose() * to_mat::<T>(&args[1])?).as_ref()));
        }
        let base = if matches!(stage, LuStage::Diagonal {}) { 1 } else { 2 };
        let s = updated::<T>(&args[0], &args[base..base + nj], &args[base + nj..base + 2 * nj], false)?;
        if matches!(stage, LuStage::Diagonal {}) {
            let lu = s.partial_piv_lu();
            let u = lu.U();
            let n = u.nrows();
            // A pivot at rounding level of the block's largest is zero.
            let scale = (0..n).map(|i| u[(i, i)].abs()).fold(T::ZERO, |a, b| if b > a { b } else { a });
            let tiny = scale * <T as crate::dtype::Element>::from_f64(f64::EPSILON * n as f64);
            if let Some(i) = (0..n).find(|&i| u[(i, i)] == T::ZERO || u[(i, i)].abs() <= tiny) {
                return Err(linalg_error(format!(
                    "the matrix is singular, or needs row exchanges between blocks: pivot {i} of a diagonal block is zero"
                )));
            }
            // faer: P S = L U with (P S)[i] = S[fwd[i]]; as dask's `a = p l u`, p = Pᵀ.
            let (fwd, _) = lu.P().arrays();
            let p = Mat::<T>::from_fn(n, n, |i, j| if fwd[j] == i { T::ONE } else { T::ZERO });
            return Ok(Value::List(vec![block(p.as_ref()), block(lu.L()), block(u)].into()));
        }
        let d = &args[1];
        if matches!(stage, LuStage::Below {}) {
            // X U_kk = S  ⇔  U_kkᵀ Xᵀ = Sᵀ.
            let ukk = to_mat::<T>(item(d, 2)?)?;
            let mut xt = s.transpose().to_owned();
            solve_lower_triangular_in_place(ukk.transpose(), xt.as_mut(), Par::Seq);
            return Ok(block(xt.transpose()));
        }
        let (p, lkk) = (to_mat::<T>(item(d, 0)?)?, to_mat::<T>(item(d, 1)?)?);
        let mut x = p.transpose() * &s;
        solve_lower_triangular_in_place(lkk.as_ref(), x.as_mut(), Par::Seq);
        Ok(block(x.as_ref()))
    }
    let LuParams { dtype, stage, earlier } = LuParams::from_value(params)?;
    real_kernel!(dtype, go)(stage, earlier, &args)
}

/// One block of a triangular solve ([`TrsmParams`]).
fn trsm_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    fn go<T: Real>(lower: bool, nj: usize, args: &[Value]) -> TaskResult {
        let tii = to_mat::<T>(&args[0])?;
        let mut x = updated::<T>(&args[1], &args[2..2 + nj], &args[2 + nj..2 + 2 * nj], false)?;
        if (0..tii.nrows()).any(|i| tii[(i, i)] == T::ZERO) {
            return Err(linalg_error("the triangular matrix is singular: a zero on its diagonal"));
        }
        if lower {
            solve_lower_triangular_in_place(tii.as_ref(), x.as_mut(), Par::Seq);
        } else {
            solve_upper_triangular_in_place(tii.as_ref(), x.as_mut(), Par::Seq);
        }
        Ok(block(x.as_ref()))
    }
    let TrsmParams { dtype, lower, earlier } = TrsmParams::from_value(params)?;
    real_kernel!(dtype, go)(lower, earlier, &args)
}

pub(crate) static CHOLESKY: NamedFn =
    NamedFn::new("blockwork.array.cholesky_block", cholesky_kernel).params::<CholeskyParams>();
pub(crate) static LU: NamedFn = NamedFn::new("blockwork.array.lu_block", lu_kernel).params::<LuParams>();
pub(crate) static TRSM: NamedFn = NamedFn::new("blockwork.array.trsm_block", trsm_kernel).params::<TrsmParams>();

fn zeros<T: Real>(shape: Vec<usize>) -> Task<blockwork_graph::Key> {
    let b = Block::<T>::Const { value: T::ZERO, shape };
    Task::new(Op::named(&builtins::CONSTANT, b.into_value()), vec![])
}

impl<T: Real> Array<T> {
    /// The array as a square matrix of square blocks: chunks along the
    /// columns made those along the rows.
    fn square_blocks(&self, what: &str) -> Result<Array<T>> {
        if self.ndim() != 2 || self.shape[0] != self.shape[1] {
            return Err(ArrayError::Shape(format!("{what} needs a square 2-d array, got shape {:?}", self.shape)));
        }
        if self.chunks.axis(0) == self.chunks.axis(1) {
            return Ok(self.clone());
        }
        self.rechunk(vec![self.chunks.axis(0).to_vec(), self.chunks.axis(0).to_vec()])
    }

    /// The Cholesky factor `L` (lower triangular, `A = L Lᵀ`) of a
    /// symmetric positive definite matrix, by blocks. A matrix that is not
    /// positive definite is an error when computed.
    pub fn cholesky(&self) -> Result<Array<T>> {
        let a = self.square_blocks("cholesky")?;
        blockwork_graph::register(&CHOLESKY);
        let nb = a.chunks.axis(0).len() as u32;
        let dtype = T::DTYPE;
        let namer = Namer::new("cholesky").input(&a.layer);
        let name: Arc<str> = format!("cholesky-{}", namer.token()).into();
        let key = |i: u32, k: u32| blockwork_graph::Key::with_shared_name(&name, &[i, k]);
        let mut tasks = Vec::new();
        for i in 0..nb {
            for k in 0..nb {
                let task = if i < k {
                    zeros::<T>(a.chunks.block_shape(&[i, k]))
                } else {
                    let diagonal = i == k;
                    let params = CholeskyParams { dtype, earlier: k as usize, diagonal }.to_value();
                    let mut args = vec![r(a.key(&[i, k]))];
                    if !diagonal {
                        args.push(r(key(k, k)));
                        args.extend((0..k).map(|j| r(key(i, j))));
                    }
                    args.extend((0..k).map(|j| r(key(k, j))));
                    Task::new(Op::named(&CHOLESKY, params), args)
                };
                tasks.push((key(i, k), task));
            }
        }
        let layer = Arc::new(Layer::new(name, tasks, vec![Arc::clone(&a.layer)]));
        Ok(Array::from_parts(a.shape.clone(), a.chunks.clone(), layer))
    }

    /// The LU decomposition `A = P L U` (dask's `lu`: `P` a permutation
    /// within each diagonal block, `L` unit lower and `U` upper
    /// triangular), by blocks.
    pub fn lu(&self) -> Result<(Array<T>, Array<T>, Array<T>)> {
        let a = self.square_blocks("lu")?;
        blockwork_graph::register(&LU);
        let nb = a.chunks.axis(0).len() as u32;
        let dtype = T::DTYPE;
        let namer = Namer::new("lu").input(&a.layer);
        let name: Arc<str> = format!("lu-{}", namer.token()).into();
        // Keys [what, i, k]: 0 the diagonal factors [P, L, U], 1 M = P L, 2 U.
        let key = |w: u32, i: u32, k: u32| blockwork_graph::Key::with_shared_name(&name, &[w, i, k]);
        let op = |stage: LuStage, earlier: u32| {
            Op::named(&LU, LuParams { dtype, stage, earlier: earlier as usize }.to_value())
        };
        let pick = |k: u32, w: i64| Task::new(Op::named(&builtins::GETITEM, Value::Int(w)), vec![r(key(0, k, k))]);
        let mut tasks = Vec::new();
        for k in 0..nb {
            let mut args = vec![r(a.key(&[k, k]))];
            args.extend((0..k).map(|j| r(key(1, k, j))));
            args.extend((0..k).map(|j| r(key(2, j, k))));
            tasks.push((key(0, k, k), Task::new(op(LuStage::Diagonal {}, k), args)));
            tasks.push((key(1, k, k), pick(k, 1)));
            tasks.push((key(2, k, k), pick(k, 2)));
            for i in k + 1..nb {
                let mut largs = vec![r(a.key(&[i, k])), r(key(0, k, k))];
                largs.extend((0..k).map(|j| r(key(1, i, j))));
                largs.extend((0..k).map(|j| r(key(2, j, k))));
                tasks.push((key(1, i, k), Task::new(op(LuStage::Below {}, k), largs)));
                let mut uargs = vec![r(a.key(&[k, i])), r(key(0, k, k))];
                uargs.extend((0..k).map(|j| r(key(1, k, j))));
                uargs.extend((0..k).map(|j| r(key(2, j, i))));
                tasks.push((key(2, k, i), Task::new(op(LuStage::Right {}, k), uargs)));
                tasks.push((key(1, k, i), zeros::<T>(a.chunks.block_shape(&[k, i]))));
                tasks.push((key(2, i, k), zeros::<T>(a.chunks.block_shape(&[i, k]))));
            }
        }
        let factors = Arc::new(Layer::new(Arc::clone(&name), tasks, vec![Arc::clone(&a.layer)]));
        let view = |w: u32, prefix: &str| {
            let namer = Namer::new(prefix).input(&factors);
            let layer = new_layer(prefix, namer, &a.chunks, vec![Arc::clone(&factors)], |idx| {
                if w == 0 {
                    if idx[0] == idx[1] {
                        Task::new(Op::named(&builtins::GETITEM, Value::Int(0)), vec![r(key(0, idx[0], idx[0]))])
                    } else {
                        zeros::<T>(a.chunks.block_shape(idx))
                    }
                } else if w == 1 && idx[0] > idx[1] {
                    Task::new(op(LuStage::Unpivot {}, 0), vec![r(key(0, idx[0], idx[0])), r(key(1, idx[0], idx[1]))])
                } else {
                    Task::new(Op::named(&builtins::IDENTITY, Value::Unit), vec![r(key(w, idx[0], idx[1]))])
                }
            });
            Array::from_parts(a.shape.clone(), a.chunks.clone(), layer)
        };
        Ok((view(0, "lu-p"), view(1, "lu-l"), view(2, "lu-u")))
    }

    /// Solves `T X = B` for `X`, `T` this square triangular matrix (lower
    /// or upper) and `B` a matrix or a vector with as many rows, by block
    /// substitution. A zero on `T`'s diagonal is an error when computed.
    pub fn solve_triangular(&self, b: &Array<T>, lower: bool) -> Result<Array<T>> {
        let t = self.square_blocks("solve_triangular")?;
        let n = t.shape[0];
        if b.ndim() == 0 || b.ndim() > 2 || b.shape[0] != n {
            return Err(ArrayError::Shape(format!(
                "solve_triangular: the right-hand side of shape {:?} does not match a {n} × {n} matrix",
                b.shape
            )));
        }
        if b.ndim() == 1 {
            let x = t.solve_triangular(&b.reshape(&[n, 1])?, lower)?;
            return x.reshape(&[n]);
        }
        let b = b.rechunk(vec![t.chunks.axis(0).to_vec(), b.chunks.axis(1).to_vec()])?;
        blockwork_graph::register(&TRSM);
        let nb = t.chunks.axis(0).len() as u32;
        let dtype = T::DTYPE;
        let namer = Namer::new("solve-triangular").input(&t.layer).input(&b.layer).add(&lower);
        let name: Arc<str> = format!("solve-triangular-{}", namer.token()).into();
        let key = |i: u32, c: u32| blockwork_graph::Key::with_shared_name(&name, &[i, c]);
        let mut tasks = Vec::new();
        for idx in b.chunks.indices() {
            let (i, c) = (idx[0], idx[1]);
            let earlier: Vec<u32> = if lower { (0..i).collect() } else { (i + 1..nb).collect() };
            let params = TrsmParams { dtype, lower, earlier: earlier.len() }.to_value();
            let mut args = vec![r(t.key(&[i, i])), r(b.key(&[i, c]))];
            args.extend(earlier.iter().map(|&j| r(t.key(&[i, j]))));
            args.extend(earlier.iter().map(|&j| r(key(j, c))));
            tasks.push((key(i, c), Task::new(Op::named(&TRSM, params), args)));
        }
        let layer = Arc::new(Layer::new(name, tasks, vec![Arc::clone(&t.layer), Arc::clone(&b.layer)]));
        let chunks: Chunks = b.chunks.clone();
        Ok(Array::from_parts(b.shape.clone(), chunks, layer))
    }
}
