//! Reductions, combined up a tree.
//!
//! A reduction runs in three stages, each a named kernel stage:
//!
//! ```text
//!   block ──chunk──▶ partial ──combine (groups of split_every)──▶ … ──▶ partial ──finish──▶ block
//! ```
//!
//! - *chunk* reduces one block over the reduced axes, keeping them as
//!   length-1 axes, into a partial;
//! - *combine* merges a group of partials (all of one shape) elementwise;
//!   groups span at most `split_every` partials, so the tree has
//!   log_{split_every}(blocks) levels and no task reads thousands of inputs;
//! - *finish* turns the last partial into the result block (dropping the
//!   reduced axes unless `keepdims`).
//!
//! Sums, products, minima and maxima carry partials of the input type.
//! Mean, variance and standard deviation carry `(n, mean, M2)` in f64 and
//! merge them with Chan's parallel formula, which is numerically stable
//! (no sum of squares). The NaN-skipping variants count only non-NaN
//! elements. A constant block reduces without touching memory.

use std::sync::Arc;

use blockwork_graph::{
    code_table, kernel_params, r, Arg, Data, KernelParams, NamedFn, Op, Param, Task, TaskError, TaskResult, Value,
};
use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};

use crate::array::{new_layer, Array, Operand};
use crate::block::{block_of, Block};
use crate::chunks::{BlockIndices, Chunks};
use crate::dtype::{with_dtype, DType, Element, Numeric};
use crate::error::{ArrayError, Result};
use crate::layer::{Layer, Namer};
use crate::rows::{position, row_source, Sources, SLAB_BYTES};

code_table! {
    /// What to reduce with.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum Reduction {
        /// Sum.
        Sum,
        /// Product.
        Prod,
        /// Minimum (NaN propagates).
        Min,
        /// Maximum (NaN propagates).
        Max,
        /// Sum ignoring NaN.
        NanSum,
        /// Minimum ignoring NaN.
        NanMin,
        /// Maximum ignoring NaN.
        NanMax,
        /// Any element true.
        Any,
        /// Every element true.
        All,
        /// Mean (f64).
        Mean,
        /// Mean ignoring NaN (f64).
        NanMean,
        /// Variance with `ddof` (f64).
        Var,
        /// Variance ignoring NaN (f64).
        NanVar,
        /// Standard deviation with `ddof` (f64).
        Std,
        /// Standard deviation ignoring NaN (f64).
        NanStd,
        /// Index of the minimum (the first one; NaN counts as the minimum, as NumPy).
        ArgMin,
        /// Index of the maximum (the first one; NaN counts as the maximum, as NumPy).
        ArgMax,
    }
    pub(crate) table REDUCTIONS, layout REDUCTION_CODES, param;
}

impl Reduction {
    pub(crate) fn code(self) -> i64 {
        REDUCTIONS.iter().position(|&x| x == self).unwrap_or(0) as i64
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Prod => "prod",
            Reduction::Min => "min",
            Reduction::Max => "max",
            Reduction::NanSum => "nansum",
            Reduction::NanMin => "nanmin",
            Reduction::NanMax => "nanmax",
            Reduction::Any => "any",
            Reduction::All => "all",
            Reduction::Mean => "mean",
            Reduction::NanMean => "nanmean",
            Reduction::Var => "var",
            Reduction::NanVar => "nanvar",
            Reduction::Std => "std",
            Reduction::NanStd => "nanstd",
            Reduction::ArgMin => "argmin",
            Reduction::ArgMax => "argmax",
        }
    }

    fn moments(self) -> bool {
        matches!(
            self,
            Reduction::Mean
                | Reduction::NanMean
                | Reduction::Var
                | Reduction::NanVar
                | Reduction::Std
                | Reduction::NanStd
        )
    }

    fn skips_nan(self) -> bool {
        matches!(
            self,
            Reduction::NanSum
                | Reduction::NanMin
                | Reduction::NanMax
                | Reduction::NanMean
                | Reduction::NanVar
                | Reduction::NanStd
        )
    }
}

/// Options of a reduction.
#[derive(Clone, Debug, Default)]
pub struct ReduceOpts {
    /// Axes to reduce (negative counts from the end); `None`: all.
    pub axes: Option<Vec<isize>>,
    /// Keep reduced axes as length 1.
    pub keepdims: bool,
    /// Most partials combined by one task (default 16).
    pub split_every: Option<usize>,
    /// Delta degrees of freedom of var and std.
    pub ddof: usize,
}

impl ReduceOpts {
    /// Over one axis.
    pub fn axis(ax: isize) -> Self {
        ReduceOpts { axes: Some(vec![ax]), ..Self::default() }
    }

    /// Over some axes.
    pub fn axes(axes: &[isize]) -> Self {
        ReduceOpts { axes: Some(axes.to_vec()), ..Self::default() }
    }

    /// Keeping the reduced axes.
    pub fn keepdims(mut self) -> Self {
        self.keepdims = true;
        self
    }

    /// With this tree fan-in.
    pub fn split_every(mut self, n: usize) -> Self {
        self.split_every = Some(n);
        self
    }

    /// With these delta degrees of freedom.
    pub fn ddof(mut self, ddof: usize) -> Self {
        self.ddof = ddof;
        self
    }
}

/// Mean and variance partials: count, mean and sum of squared deviations,
/// per output element.
#[derive(Clone, Debug)]
pub(crate) struct Moments {
    n: ArrayD<f64>,
    mean: ArrayD<f64>,
    m2: ArrayD<f64>,
}

impl Data for Moments {
    fn nbytes(&self) -> usize {
        (self.n.len() + self.mean.len() + self.m2.len()) * 8
    }

    fn type_name(&self) -> &'static str {
        "moments"
    }
}

impl Moments {
    pub(crate) fn new(n: ArrayD<f64>, mean: ArrayD<f64>, m2: ArrayD<f64>) -> Moments {
        Moments { n, mean, m2 }
    }

    pub(crate) fn parts(&self) -> (&ArrayD<f64>, &ArrayD<f64>, &ArrayD<f64>) {
        (&self.n, &self.mean, &self.m2)
    }

    /// Chan et al.'s pairwise merge.
    pub(crate) fn merge(mut self, o: &Moments) -> Result<Moments, TaskError> {
        if self.n.shape() != o.n.shape() {
            return Err(TaskError::new("moment partials of different shapes"));
        }
        Zip::from(&mut self.n).and(&mut self.mean).and(&mut self.m2).and(&o.n).and(&o.mean).and(&o.m2).for_each(
            |n, mean, m2, &nb, &meanb, &m2b| {
                let na = *n;
                let tot = na + nb;
                if nb == 0.0 {
                    return;
                }
                if na == 0.0 {
                    (*n, *mean, *m2) = (nb, meanb, m2b);
                    return;
                }
                let delta = meanb - *mean;
                *mean += delta * nb / tot;
                *m2 += m2b + delta * delta * na * nb / tot;
                *n = tot;
            },
        );
        Ok(self)
    }
}

/// argmin/argmax partials: the best value so far and its index, per
/// output element.
#[derive(Clone, Debug)]
pub(crate) struct ArgBest {
    value: ArrayD<f64>,
    index: ArrayD<i64>,
}

impl Data for ArgBest {
    fn nbytes(&self) -> usize {
        (self.value.len() + self.index.len()) * 8
    }

    fn type_name(&self) -> &'static str {
        "arg partials"
    }
}

impl ArgBest {
    pub(crate) fn new(value: ArrayD<f64>, index: ArrayD<i64>) -> ArgBest {
        ArgBest { value, index }
    }

    pub(crate) fn parts(&self) -> (&ArrayD<f64>, &ArrayD<i64>) {
        (&self.value, &self.index)
    }
}

/// Whether `(v, i)` beats `(bv, bi)`: NaN first, then the extreme value,
/// then the smaller index.
fn arg_better(max: bool, v: f64, i: i64, bv: f64, bi: i64) -> bool {
    match (v.is_nan(), bv.is_nan()) {
        (true, true) => i < bi,
        (true, false) => true,
        (false, true) => false,
        _ if v == bv => i < bi,
        _ => (v > bv) == max,
    }
}

/// The chunk stage of argmin/argmax: indices are along the one reduced
/// axis, or flat over the whole array when every axis is reduced.
fn chunk_arg<T: Element>(max: bool, b: &Block<T>, axes: &[usize], offsets: &[usize], shape: &[usize]) -> ArgBest {
    let view = b.view();
    let out = reduced_shape(view.shape(), axes);
    let mut value = ArrayD::from_elem(IxDyn(&out), f64::NAN);
    let mut index = ArrayD::from_elem(IxDyn(&out), i64::MAX);
    let flat = axes.len() == view.ndim();
    let strides: Vec<i64> = (0..shape.len()).map(|k| shape[k + 1..].iter().product::<usize>() as i64).collect();
    let mut pos = vec![0usize; view.ndim()];
    for (idx, &x) in view.indexed_iter() {
        for (k, p) in pos.iter_mut().enumerate() {
            *p = if axes.contains(&k) { 0 } else { idx[k] };
        }
        let i = if flat {
            (0..view.ndim()).map(|k| (offsets[k] + idx[k]) as i64 * strides[k]).sum()
        } else {
            (offsets[axes[0]] + idx[axes[0]]) as i64
        };
        let (bv, bi) = (&mut value[IxDyn(&pos)], &mut index[IxDyn(&pos)]);
        if *bi == i64::MAX || arg_better(max, x.as_f64(), i, *bv, *bi) {
            *bv = x.as_f64();
            *bi = i;
        }
    }
    ArgBest { value, index }
}

fn combine_arg(max: bool, parts: &[&ArgBest]) -> Result<ArgBest, TaskError> {
    let Some(first) = parts.first() else { return Err(TaskError::new("nothing to combine")) };
    let mut acc = (*first).clone();
    for p in &parts[1..] {
        if p.value.shape() != acc.value.shape() {
            return Err(TaskError::new("arg partials of different shapes"));
        }
        Zip::from(&mut acc.value).and(&mut acc.index).and(&p.value).and(&p.index).for_each(|bv, bi, &v, &i| {
            if *bi == i64::MAX || (i != i64::MAX && arg_better(max, v, i, *bv, *bi)) {
                *bv = v;
                *bi = i;
            }
        });
    }
    Ok(acc)
}

/// Reduces `a` over `axes` (sorted), keeping them as length-1 axes.
fn fold_axes<T: Copy>(a: ArrayViewD<'_, T>, axes: &[usize], identity: T, f: impl Fn(T, T) -> T + Copy) -> ArrayD<T> {
    if axes.is_empty() {
        return a.to_owned();
    }
    if axes.len() == a.ndim() {
        let acc = match a.as_slice_memory_order() {
            Some(s) => fold_slice(s, identity, f),
            None => a.iter().fold(identity, |x, &y| f(x, y)),
        };
        return ArrayD::from_elem(IxDyn(&vec![1; a.ndim()]), acc);
    }
    let (&last, rest) = axes.split_last().expect("axes is not empty here");
    let mut cur = fold_axis(a, last, identity, f);
    for &ax in rest.iter().rev() {
        cur = fold_axis(cur.view(), ax, identity, f);
    }
    cur
}

/// Folds a slice with 8 independent accumulators: the loop vectorizes and
/// long float sums lose less precision than one running total.
fn fold_slice<T: Copy>(s: &[T], identity: T, f: impl Fn(T, T) -> T + Copy) -> T {
    let mut acc = [identity; 8];
    let chunks = s.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] = f(acc[i], c[i]);
        }
    }
    let mut total = rest.iter().fold(identity, |x, &y| f(x, y));
    for a in acc {
        total = f(total, a);
    }
    total
}

/// Folds one axis by accumulating whole sub-arrays (cache-friendly for
/// every axis but the innermost, where lanes are folded instead).
fn fold_axis<T: Copy>(a: ArrayViewD<'_, T>, ax: usize, identity: T, f: impl Fn(T, T) -> T + Copy) -> ArrayD<T> {
    let mut shape = a.shape().to_vec();
    shape[ax] = 1;
    if ax + 1 == a.ndim() && a.ndim() > 1 {
        let out = a.map_axis(Axis(ax), |lane| match lane.as_slice() {
            Some(s) => fold_slice(s, identity, f),
            None => lane.iter().fold(identity, |x, &y| f(x, y)),
        });
        return out.insert_axis(Axis(ax));
    }
    let mut acc = ArrayD::from_elem(IxDyn(&shape), identity);
    for sub in a.axis_iter(Axis(ax)) {
        let sub = sub.insert_axis(Axis(ax));
        Zip::from(&mut acc).and(&sub).for_each(|x, &y| *x = f(*x, y));
    }
    acc
}

fn reduced_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape.iter().enumerate().map(|(i, &s)| if axes.contains(&i) { 1 } else { s }).collect()
}

fn count(shape: &[usize], axes: &[usize]) -> f64 {
    axes.iter().map(|&a| shape[a]).product::<usize>() as f64
}

/// The chunk stage for the partials that keep the input type.
fn chunk_same<T: Numeric>(kind: Reduction, b: &Block<T>, axes: &[usize]) -> Result<Block<T>, TaskError> {
    if let Block::Const { value, shape } = b {
        let n = count(shape, axes);
        let out = reduced_shape(shape, axes);
        let v = *value;
        let value = match kind {
            Reduction::Sum => v.times(n as u64),
            Reduction::NanSum if v.is_nan() => T::ZERO,
            Reduction::NanSum => v.times(n as u64),
            Reduction::Prod => v.power(n as u64),
            Reduction::Min | Reduction::Max | Reduction::NanMin | Reduction::NanMax if n == 0.0 => identity(kind),
            _ => v,
        };
        return Ok(Block::Const { value, shape: out });
    }
    let a = b.view();
    let v = a.view();
    Ok(Block::Dense(match kind {
        Reduction::Sum => fold_axes(v, axes, T::ZERO, |x, y| x + y),
        Reduction::Prod => fold_axes(v, axes, T::ONE, |x, y| x * y),
        Reduction::Min => fold_axes(v, axes, T::HIGHEST, Numeric::min_nan),
        Reduction::Max => fold_axes(v, axes, T::LOWEST, Numeric::max_nan),
        Reduction::NanSum => fold_axes(v, axes, T::ZERO, |x, y| if y.is_nan() { x } else { x + y }),
        Reduction::NanMin => fold_axes(v, axes, identity(kind), nan_min),
        Reduction::NanMax => fold_axes(v, axes, identity(kind), nan_max),
        _ => return Err(TaskError::new(format!("{} has no same-type partial", kind.name()))),
    }))
}

/// The value a reduction starts from. NaN-skipping extrema of floats
/// start from NaN, so a slice of only NaN gives NaN, as NumPy's do.
fn identity<T: Numeric>(kind: Reduction) -> T {
    let nan = T::from_f64(f64::NAN);
    match kind {
        Reduction::Prod => T::ONE,
        Reduction::NanMin | Reduction::NanMax if nan.is_nan() => nan,
        Reduction::Min | Reduction::NanMin => T::HIGHEST,
        Reduction::Max | Reduction::NanMax => T::LOWEST,
        _ => T::ZERO,
    }
}

/// The smaller, ignoring NaN (NaN only if both are).
fn nan_min<T: Numeric>(x: T, y: T) -> T {
    if x.is_nan() || (!y.is_nan() && y < x) {
        y
    } else {
        x
    }
}

/// The larger, ignoring NaN (NaN only if both are).
fn nan_max<T: Numeric>(x: T, y: T) -> T {
    if x.is_nan() || (!y.is_nan() && y > x) {
        y
    } else {
        x
    }
}

fn combine_same<T: Numeric>(kind: Reduction, parts: &[&Block<T>]) -> Result<Block<T>, TaskError> {
    let f = |x: T, y: T| -> T {
        match kind {
            Reduction::Sum | Reduction::NanSum => x + y,
            Reduction::Prod => x * y,
            Reduction::Min => x.min_nan(y),
            Reduction::Max => x.max_nan(y),
            Reduction::NanMin => nan_min(x, y),
            _ => nan_max(x, y),
        }
    };
    let Some(first) = parts.first() else { return Err(TaskError::new("nothing to combine")) };
    if parts.iter().all(|p| matches!(p, Block::Const { .. })) {
        let shape = first.shape().to_vec();
        let mut acc = identity::<T>(kind);
        for p in parts {
            if let Block::Const { value, .. } = p {
                acc = f(acc, *value);
            }
        }
        return Ok(Block::Const { value: acc, shape });
    }
    let mut acc = first.view().into_owned();
    for p in &parts[1..] {
        match p {
            Block::Const { value, .. } => acc.mapv_inplace(|x| f(x, *value)),
            Block::Dense(d) => {
                if d.shape() != acc.shape() {
                    return Err(TaskError::new("partials of different shapes"));
                }
                Zip::from(&mut acc).and(d).for_each(|x, &y| *x = f(*x, y));
            }
        }
    }
    Ok(Block::Dense(acc))
}

fn chunk_bool(kind: Reduction, b: &Block<bool>, axes: &[usize]) -> Block<bool> {
    let any = kind == Reduction::Any;
    match b {
        Block::Const { value, shape } => {
            let empty = count(shape, axes) == 0.0;
            Block::Const { value: if empty { !any } else { *value }, shape: reduced_shape(shape, axes) }
        }
        Block::Dense(a) => Block::Dense(if any {
            fold_axes(a.view(), axes, false, |x, y| x | y)
        } else {
            fold_axes(a.view(), axes, true, |x, y| x & y)
        }),
    }
}

fn combine_bool(kind: Reduction, parts: &[&Block<bool>]) -> Result<Block<bool>, TaskError> {
    let any = kind == Reduction::Any;
    let Some(first) = parts.first() else { return Err(TaskError::new("nothing to combine")) };
    let mut acc = first.view().into_owned();
    for p in &parts[1..] {
        let v = p.view();
        Zip::from(&mut acc).and(&*v).for_each(|x, &y| *x = if any { *x | y } else { *x & y });
    }
    Ok(Block::Dense(acc))
}

fn chunk_moments<T: Element>(kind: Reduction, b: &Block<T>, axes: &[usize]) -> Moments {
    let out = reduced_shape(b.shape(), axes);
    let n_all = count(b.shape(), axes);
    if let Block::Const { value, .. } = b {
        let v = value.as_f64();
        let valid = !(kind.skips_nan() && v.is_nan()) && n_all > 0.0;
        let n = if valid { n_all } else { 0.0 };
        return Moments {
            n: ArrayD::from_elem(IxDyn(&out), n),
            mean: ArrayD::from_elem(IxDyn(&out), if valid { v } else { 0.0 }),
            m2: ArrayD::zeros(IxDyn(&out)),
        };
    }
    let view = b.view();
    // f64 blocks are read in place; other types are converted once.
    let converted;
    let x: ArrayViewD<'_, f64> = match (&*view as &dyn std::any::Any).downcast_ref::<ArrayD<f64>>() {
        Some(a) => a.view(),
        None => {
            converted = view.mapv(Element::as_f64);
            converted.view()
        }
    };
    moments_of_view(kind, x, axes, n_all, &out)
}

fn moments_of_view(kind: Reduction, x: ArrayViewD<'_, f64>, axes: &[usize], n_all: f64, out: &[usize]) -> Moments {
    let add = |p: f64, q: f64| p + q;
    let need_m2 = !matches!(kind, Reduction::Mean | Reduction::NanMean);
    let (n, mean) = if kind.skips_nan() {
        let n = fold_axes(x.mapv(|v| f64::from(u8::from(!v.is_nan()))).view(), axes, 0.0, add);
        let s = fold_axes(x.view(), axes, 0.0, |p, q| if q.is_nan() { p } else { p + q });
        let mean = Zip::from(&s).and(&n).map_collect(|&s, &n| if n > 0.0 { s / n } else { 0.0 });
        (n, mean)
    } else {
        let s = fold_axes(x.view(), axes, 0.0, add);
        let mean = s.mapv(|s| if n_all > 0.0 { s / n_all } else { 0.0 });
        (ArrayD::from_elem(IxDyn(out), n_all), mean)
    };
    let m2 = if !need_m2 {
        ArrayD::zeros(IxDyn(out))
    } else {
        let skip = kind.skips_nan();
        let dev =
            Zip::from(&x)
                .and_broadcast(&mean)
                .map_collect(|&v, &m| if skip && v.is_nan() { 0.0 } else { (v - m) * (v - m) });
        fold_axes(dev.view(), axes, 0.0, add)
    };
    Moments { n, mean, m2 }
}

fn finish_moments(kind: Reduction, m: &Moments, ddof: f64) -> Block<f64> {
    let out = match kind {
        Reduction::Mean | Reduction::NanMean => {
            Zip::from(&m.mean).and(&m.n).map_collect(|&mean, &n| if n > 0.0 { mean } else { f64::NAN })
        }
        _ => {
            // As NumPy: `var` divides by max(n - ddof, 0), so too few
            // values give inf (NaN when they are all equal); `nanvar` gives
            // NaN for them; no values at all give NaN.
            let nan_kind = matches!(kind, Reduction::NanVar | Reduction::NanStd);
            let var = Zip::from(&m.m2).and(&m.n).map_collect(|&m2, &n| {
                if n - ddof > 0.0 {
                    m2 / (n - ddof)
                } else if n > 0.0 && !nan_kind {
                    m2 / 0.0
                } else {
                    f64::NAN
                }
            });
            if matches!(kind, Reduction::Std | Reduction::NanStd) {
                var.mapv(f64::sqrt)
            } else {
                var
            }
        }
    };
    Block::Dense(out)
}

fn squeeze<T: Element>(b: Block<T>, axes: &[usize], keepdims: bool) -> Block<T> {
    if keepdims {
        return b;
    }
    match b {
        Block::Const { value, shape } => Block::Const {
            value,
            shape: shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &s)| s).collect(),
        },
        Block::Dense(mut a) => {
            for &ax in axes.iter().rev() {
                a = a.index_axis_move(Axis(ax), 0);
            }
            Block::Dense(a)
        }
    }
}

/// Stages of the kernel.
const CHUNK: i64 = 0;
const COMBINE: i64 = 1;
const FINISH: i64 = 2;
/// The chunk stage of a block a row source hands over in slabs of rows
/// (`crate::rows`); its arguments are the source's name and parameters.
const ROWS: i64 = 3;

kernel_params! {
    /// One stage of a tree reduction.
    pub(crate) struct ReduceParams {
        /// `CHUNK` (a block), `COMBINE` (partials) or `FINISH`.
        pub stage: i64,
        /// The reduction.
        pub reduction: Reduction,
        /// The input's element type.
        pub dtype: DType,
        /// The axes reduced.
        pub axes: Vec<usize>,
        /// Whether reduced axes stay, of length 1.
        pub keepdims: bool,
        /// Delta degrees of freedom of `var`/`std`.
        pub ddof: f64,
    }
}

/// The chunk stage's partial of a block that a row source hands over in
/// slabs along axis 0, one of the reduced axes: each slab's partial is
/// made and combined into the others' as it comes, so the block is never
/// whole. `args`: the source's name and its parameters.
fn chunk_rows(p: ReduceParams, args: &[Value]) -> TaskResult {
    let (Some(Value::Str(name)), Some(params)) = (args.first(), args.get(1)) else {
        return Err(TaskError::internal("a reduction of rows needs its source's name and parameters"));
    };
    let source =
        row_source(name).ok_or_else(|| TaskError::internal(format!("no row source `{name}` is registered here")))?;
    let stage = |stage| ReduceParams { stage, ..p.clone() }.to_value();
    let (chunk, combine) = (stage(CHUNK), stage(COMBINE));
    let mut acc: Option<Value> = None;
    (source.rows)(params, SLAB_BYTES, &mut |slab| {
        let part = reduce_kernel(&chunk, vec![slab])?;
        acc = Some(match acc.take() {
            None => part,
            Some(a) => reduce_kernel(&combine, vec![a, part])?,
        });
        Ok(())
    })?;
    acc.ok_or_else(|| TaskError::new(format!("{name}: a block handed over in no slab")))
}

fn reduce_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let p = ReduceParams::from_value(params)?;
    if p.stage == ROWS {
        return chunk_rows(p, &args);
    }
    let ReduceParams { stage, reduction: kind, dtype, axes, keepdims, ddof } = p;
    let first = args.first().ok_or_else(|| TaskError::new("reduction without input"))?;
    if matches!(kind, Reduction::ArgMin | Reduction::ArgMax) {
        let max = kind == Reduction::ArgMax;
        return match stage {
            CHUNK => {
                let lists = |i: usize| match args.get(i) {
                    Some(Value::List(xs)) => {
                        Ok(xs.iter().map(|x| if let Value::Int(v) = x { *v as usize } else { 0 }).collect::<Vec<_>>())
                    }
                    _ => Err(TaskError::new("argmin/argmax chunk needs block offsets and the array shape")),
                };
                let (offsets, shape) = (lists(1)?, lists(2)?);
                with_dtype!(dtype, T => Ok(Value::object(chunk_arg(max, block_of::<T>(first)?, &axes, &offsets, &shape))))
            }
            COMBINE => {
                let parts: Vec<&ArgBest> = args.iter().map(arg_of).collect::<Result<_, _>>()?;
                Ok(Value::object(combine_arg(max, &parts)?))
            }
            _ => Ok(squeeze(Block::Dense(arg_of(first)?.index.clone()), &axes, keepdims).into_value()),
        };
    }
    if kind.moments() {
        return match stage {
            CHUNK => with_dtype!(dtype, T => Ok(Value::object(chunk_moments(kind, block_of::<T>(first)?, &axes)))),
            COMBINE => {
                let mut acc = moments_of(first)?.clone();
                for v in &args[1..] {
                    acc = acc.merge(moments_of(v)?)?;
                }
                Ok(Value::object(acc))
            }
            _ => Ok(squeeze(finish_moments(kind, moments_of(first)?, ddof), &axes, keepdims).into_value()),
        };
    }
    if matches!(kind, Reduction::Any | Reduction::All) {
        return match stage {
            CHUNK => Ok(chunk_bool(kind, block_of::<bool>(first)?, &axes).into_value()),
            COMBINE => {
                let parts: Vec<&Block<bool>> = args.iter().map(block_of::<bool>).collect::<Result<_, _>>()?;
                Ok(combine_bool(kind, &parts)?.into_value())
            }
            _ => Ok(squeeze(block_of::<bool>(first)?.clone(), &axes, keepdims).into_value()),
        };
    }
    crate::dtype::with_numeric!(dtype, T => match stage {
        CHUNK => Ok(chunk_same(kind, block_of::<T>(first)?, &axes)?.into_value()),
        COMBINE => {
            let parts: Vec<&Block<T>> = args.iter().map(block_of::<T>).collect::<Result<_, _>>()?;
            Ok(combine_same(kind, &parts)?.into_value())
        }
        _ => Ok(squeeze(block_of::<T>(first)?.clone(), &axes, keepdims).into_value()),
    }, Err(TaskError::new(format!("{} of bool blocks", kind.name()))))
}

fn arg_of(v: &Value) -> Result<&ArgBest, TaskError> {
    v.downcast_ref::<ArgBest>().ok_or_else(|| TaskError::new(format!("expected arg partials, found {}", v.type_name())))
}

fn moments_of(v: &Value) -> Result<&Moments, TaskError> {
    v.downcast_ref::<Moments>()
        .ok_or_else(|| TaskError::new(format!("expected moment partials, found {}", v.type_name())))
}

pub(crate) static REDUCE: NamedFn = NamedFn::new("blockwork.array.reduce", reduce_kernel).params::<ReduceParams>();

/// The chunk stage of a reduction over every axis of one block, as the
/// reduce kernel would compute it (used by fused programs whose every
/// input is a constant). `kept` is the all-ones partial shape.
pub(crate) fn chunk_all<T: Numeric>(kind: Reduction, b: &Block<T>, kept: &[usize]) -> TaskResult {
    let axes: Vec<usize> = (0..kept.len()).collect();
    if kind.moments() {
        return Ok(Value::object(chunk_moments(kind, b, &axes)));
    }
    Ok(chunk_same(kind, b, &axes)?.into_value())
}

/// The reduction of a parameter code.
pub(crate) fn reduction(code: usize) -> Result<Reduction, TaskError> {
    REDUCTIONS.get(code).copied().ok_or_else(|| TaskError::new("unknown reduction"))
}

/// Normalizes axes: negative ones count from the end; repeats and
/// out-of-range axes are errors.
pub(crate) fn normalize_axes(axes: Option<&[isize]>, ndim: usize) -> Result<Vec<usize>> {
    let Some(axes) = axes else { return Ok((0..ndim).collect()) };
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let ax = if a < 0 { a + ndim as isize } else { a };
        if ax < 0 || ax >= ndim as isize {
            return Err(ArrayError::Axis(format!("axis {a} is out of bounds for an array of dimension {ndim}")));
        }
        if out.contains(&(ax as usize)) {
            return Err(ArrayError::Axis(format!("axis {a} repeated in {axes:?}")));
        }
        out.push(ax as usize);
    }
    out.sort_unstable();
    Ok(out)
}

/// Builds the reduction tree of `x`.
pub(crate) fn reduce_operand(x: &Operand, kind: Reduction, opts: &ReduceOpts) -> Result<Operand> {
    blockwork_graph::register(&REDUCE);
    let axes = normalize_axes(opts.axes.as_deref(), x.ndim())?;
    let split_every = opts.split_every.unwrap_or(16).max(2);
    let params = |stage: i64| {
        ReduceParams {
            stage,
            reduction: kind,
            dtype: x.dtype,
            axes: axes.clone(),
            keepdims: opts.keepdims,
            ddof: opts.ddof as f64,
        }
        .to_value()
    };
    let base = Namer::new(kind.name()).input(&x.layer).add(&axes).add(&opts.keepdims).add(&(opts.ddof as u64));
    let grid = |nb: &[usize]| Chunks(nb.iter().map(|&n| vec![1; n]).collect());

    // Chunk stage.
    let mut nb = x.chunks.numblocks();
    let chunk_op = Op::named(&REDUCE, params(CHUNK));
    let offsets: Vec<Vec<usize>> = (0..x.ndim()).map(|ax| x.chunks.offsets(ax)).collect();
    let is_arg = matches!(kind, Reduction::ArgMin | Reduction::ArgMax);
    if is_arg && axes.len() != 1 && axes.len() != x.ndim() {
        return Err(ArrayError::Axis(format!("{} takes one axis or all of them, not {axes:?}", kind.name())));
    }
    let fused = if axes.len() == x.ndim() && !is_arg {
        crate::ops::fused::reduce_all_chunk_layer(x, kind, Namer::new("chunk").add(&base.token()))
    } else {
        None
    };
    // Blocks read from a source that hands them over in slabs of rows are
    // reduced slab by slab when the slabs' axis, 0, is reduced (`crate::rows`).
    let rows_op = Op::named(&REDUCE, params(ROWS));
    let mut sources = (axes.contains(&0) && !is_arg).then(Sources::default);
    let blocks = x.chunks.numblocks();
    let mut layer: Arc<Layer> = match fused {
        Some(l) => l,
        None => new_layer(
            &format!("{}-chunk", kind.name()),
            Namer::new("chunk").add(&base.token()),
            &grid(&nb),
            vec![Arc::clone(&x.layer)],
            |idx| {
                let at = position(idx, &blocks);
                if let Some((source, p)) = sources.as_mut().and_then(|s| s.find(&x.layer, &x.key(idx), at)) {
                    let name = Arg::Lit(Value::Str(source.op.name.into()));
                    return Task::new(rows_op.clone(), vec![name, Arg::Lit(p)]);
                }
                let mut args = vec![r(x.key(idx))];
                if matches!(kind, Reduction::ArgMin | Reduction::ArgMax) {
                    let offs: Vec<usize> = idx.iter().enumerate().map(|(ax, &i)| offsets[ax][i as usize]).collect();
                    args.push(Arg::Lit(offs.to_param()));
                    args.push(Arg::Lit(x.shape.to_param()));
                }
                Task::new(chunk_op.clone(), args)
            },
        ),
    };

    // Combine levels.
    let combine_op = Op::named(&REDUCE, params(COMBINE));
    let mut level = 0u64;
    loop {
        let wide: Vec<usize> = axes.iter().copied().filter(|&a| nb[a] > 1).collect();
        if wide.is_empty() {
            break;
        }
        level += 1;
        let per_axis = ((split_every as f64).powf(1.0 / wide.len() as f64).floor() as usize).max(2);
        let old = nb.clone();
        for &a in &wide {
            nb[a] = old[a].div_ceil(per_axis);
        }
        let prev = Arc::clone(&layer);
        layer = new_layer(
            &format!("{}-combine", kind.name()),
            Namer::new("combine").add(&base.token()).add(&level),
            &grid(&nb),
            vec![Arc::clone(&prev)],
            |idx| {
                let ranges: Vec<(usize, usize)> = idx
                    .iter()
                    .enumerate()
                    .map(|(ax, &i)| {
                        if wide.contains(&ax) {
                            let s = i as usize * per_axis;
                            (s, (s + per_axis).min(old[ax]))
                        } else {
                            (i as usize, i as usize + 1)
                        }
                    })
                    .collect();
                let counts: Vec<usize> = ranges.iter().map(|(s, e)| e - s).collect();
                let args = BlockIndices::new(counts)
                    .map(|off| {
                        let src: Vec<u32> =
                            off.iter().zip(&ranges).map(|(&o, &(s, _))| (s + o as usize) as u32).collect();
                        r(prev.key(&src))
                    })
                    .collect();
                Task::new(combine_op.clone(), args)
            },
        );
    }

    // Finish.
    let out_dtype = if kind.moments() {
        DType::F64
    } else if is_arg {
        DType::I64
    } else {
        x.dtype
    };
    let out_chunks = Chunks(
        x.chunks
            .axes()
            .iter()
            .enumerate()
            .filter_map(|(ax, c)| {
                if !axes.contains(&ax) {
                    Some(c.clone())
                } else if opts.keepdims {
                    Some(vec![1])
                } else {
                    None
                }
            })
            .collect(),
    );
    let shape = out_chunks.shape();
    let finish_op = Op::named(&REDUCE, params(FINISH));
    let last = Arc::clone(&layer);
    let keepdims = opts.keepdims;
    let finish =
        new_layer(kind.name(), Namer::new("finish").add(&base.token()), &out_chunks, vec![Arc::clone(&last)], |idx| {
            let mut src = Vec::with_capacity(x.ndim());
            let mut it = idx.iter();
            for ax in 0..x.ndim() {
                if axes.contains(&ax) {
                    src.push(0);
                    if keepdims {
                        it.next();
                    }
                } else {
                    src.push(*it.next().unwrap_or(&0));
                }
            }
            Task::new(finish_op.clone(), vec![r(last.key(&src))])
        });
    Ok(Operand { shape, chunks: out_chunks, layer: finish, dtype: out_dtype, expr: None })
}

macro_rules! reductions {
    ($bound:path, $out:ty: $($name:ident, $axis:ident, $with:ident => $kind:ident;)*) => {
        impl<T: $bound> Array<T> {
            $(
                #[doc = concat!("`", stringify!($name), "` over every axis (a 0-d array).")]
                pub fn $name(&self) -> Array<$out> {
                    self.$with(&ReduceOpts::default()).expect("reducing every axis cannot fail")
                }

                #[doc = concat!("`", stringify!($name), "` over one axis.")]
                pub fn $axis(&self, axis: isize) -> Result<Array<$out>> {
                    self.$with(&ReduceOpts::axis(axis))
                }

                #[doc = concat!("`", stringify!($name), "` with axes, keepdims, split_every (and ddof).")]
                pub fn $with(&self, opts: &ReduceOpts) -> Result<Array<$out>> {
                    Ok(reduce_operand(&self.operand(), Reduction::$kind, opts)?.into_array())
                }
            )*
        }
    };
}

reductions!(Numeric, T:
    sum, sum_axis, sum_with => Sum;
    prod, prod_axis, prod_with => Prod;
    min, min_axis, min_with => Min;
    max, max_axis, max_with => Max;
    nansum, nansum_axis, nansum_with => NanSum;
    nanmin, nanmin_axis, nanmin_with => NanMin;
    nanmax, nanmax_axis, nanmax_with => NanMax;
);

reductions!(Numeric, f64:
    mean, mean_axis, mean_with => Mean;
    nanmean, nanmean_axis, nanmean_with => NanMean;
);

impl<T: Numeric> Array<T> {
    /// Variance over every axis with `ddof` delta degrees of freedom.
    pub fn var(&self, ddof: usize) -> Array<f64> {
        self.var_with(&ReduceOpts::default().ddof(ddof)).expect("reducing every axis cannot fail")
    }

    /// Variance with options.
    pub fn var_with(&self, opts: &ReduceOpts) -> Result<Array<f64>> {
        Ok(reduce_operand(&self.operand(), Reduction::Var, opts)?.into_array())
    }

    /// Standard deviation over every axis with `ddof`.
    pub fn std(&self, ddof: usize) -> Array<f64> {
        self.std_with(&ReduceOpts::default().ddof(ddof)).expect("reducing every axis cannot fail")
    }

    /// Standard deviation with options.
    pub fn std_with(&self, opts: &ReduceOpts) -> Result<Array<f64>> {
        Ok(reduce_operand(&self.operand(), Reduction::Std, opts)?.into_array())
    }

    /// Variance ignoring NaN, with options.
    pub fn nanvar_with(&self, opts: &ReduceOpts) -> Result<Array<f64>> {
        Ok(reduce_operand(&self.operand(), Reduction::NanVar, opts)?.into_array())
    }

    /// Standard deviation ignoring NaN, with options.
    pub fn nanstd_with(&self, opts: &ReduceOpts) -> Result<Array<f64>> {
        Ok(reduce_operand(&self.operand(), Reduction::NanStd, opts)?.into_array())
    }
}

impl<T: Numeric> Array<T> {
    /// Flat index of the first minimum (NumPy's `argmin()`), a 0-d array.
    pub fn argmin(&self) -> Array<i64> {
        self.argmin_with(&ReduceOpts::default()).expect("reducing every axis cannot fail")
    }

    /// Index of the first minimum along one axis.
    pub fn argmin_axis(&self, axis: isize) -> Result<Array<i64>> {
        self.argmin_with(&ReduceOpts::axis(axis))
    }

    /// `argmin` with options (one axis or all).
    pub fn argmin_with(&self, opts: &ReduceOpts) -> Result<Array<i64>> {
        Ok(reduce_operand(&self.operand(), Reduction::ArgMin, opts)?.into_array())
    }

    /// Flat index of the first maximum (NumPy's `argmax()`), a 0-d array.
    pub fn argmax(&self) -> Array<i64> {
        self.argmax_with(&ReduceOpts::default()).expect("reducing every axis cannot fail")
    }

    /// Index of the first maximum along one axis.
    pub fn argmax_axis(&self, axis: isize) -> Result<Array<i64>> {
        self.argmax_with(&ReduceOpts::axis(axis))
    }

    /// `argmax` with options (one axis or all).
    pub fn argmax_with(&self, opts: &ReduceOpts) -> Result<Array<i64>> {
        Ok(reduce_operand(&self.operand(), Reduction::ArgMax, opts)?.into_array())
    }
}

impl Array<bool> {
    /// Whether any element is true (a 0-d array).
    pub fn any(&self) -> Array<bool> {
        self.any_with(&ReduceOpts::default()).expect("reducing every axis cannot fail")
    }

    /// `any` with options.
    pub fn any_with(&self, opts: &ReduceOpts) -> Result<Array<bool>> {
        Ok(reduce_operand(&self.operand(), Reduction::Any, opts)?.into_array())
    }

    /// Whether every element is true (a 0-d array).
    pub fn all(&self) -> Array<bool> {
        self.all_with(&ReduceOpts::default()).expect("reducing every axis cannot fail")
    }

    /// `all` with options.
    pub fn all_with(&self, opts: &ReduceOpts) -> Result<Array<bool>> {
        Ok(reduce_operand(&self.operand(), Reduction::All, opts)?.into_array())
    }
}
