//! Grouped reductions along one axis: xarray's `groupby(...).mean(dim)`
//! over a chunked array, by flox's map-reduce strategy.
//!
//! Every index along the axis carries a group label (or none). Each block
//! is reduced, per group present in it, into a sparse partial (a group id
//! and an accumulator for each group the block touches); partials along
//! the axis merge up a tree of `split_every`; the last one becomes a block
//! whose axis has one entry per group. A monthly block of daily data
//! therefore holds one accumulator, not one per season, and nothing is
//! gathered or reordered.
//!
//! Sums and means accumulate in f64 with one count for the block, or a
//! count per element once a skipped NaN makes them differ; variances merge Chan's `(n, mean, M2)` triples, as the
//! ungrouped reductions do; minima and maxima keep the running extreme.

use std::collections::BTreeMap;
use std::sync::Arc;

use blockwork_graph::{
    kernel_params, r, Arg, Data, KernelParams, Layout, NamedFn, Op, Param, Task, TaskError, TaskResult, Value,
};
use ndarray::{ArrayD, ArrayViewD, Axis, Zip};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::dtype::{with_numeric, DType, Numeric};
use crate::error::{ArrayError, Result};
use crate::layer::{Layer, Namer};
use crate::ops::reduce::{normalize_axes, Moments, ReduceOpts, Reduction};
use crate::rows::{position, row_source, RowSource, Sources, SLAB_BYTES};

/// What a grouped reduction computes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum GroupReduction {
    /// One of the reductions of sums, means, variances and extremes
    /// (`Sum`, `NanSum`, `Mean`, `NanMean`, `Var`, `NanVar`, `Std`,
    /// `NanStd`, `Min`, `Max`, `NanMin`, `NanMax`).
    Of(Reduction),
    /// The number of non-NaN elements.
    Count,
}

impl GroupReduction {
    fn code(self) -> i64 {
        match self {
            GroupReduction::Count => -1,
            GroupReduction::Of(r) => r.code(),
        }
    }

    fn from_code(c: i64) -> std::result::Result<Self, TaskError> {
        if c < 0 {
            Ok(GroupReduction::Count)
        } else {
            crate::ops::reduce::reduction(c as usize).map(GroupReduction::Of)
        }
    }

    fn name(self) -> &'static str {
        match self {
            GroupReduction::Count => "count",
            GroupReduction::Of(r) => r.name(),
        }
    }

    fn acc(self) -> std::result::Result<AccKind, String> {
        use Reduction::*;
        Ok(match self {
            GroupReduction::Count => AccKind::Sum { skip: true },
            GroupReduction::Of(Sum | Mean) => AccKind::Sum { skip: false },
            GroupReduction::Of(NanSum | NanMean) => AccKind::Sum { skip: true },
            GroupReduction::Of(Var | Std) => AccKind::Moments { skip: false },
            GroupReduction::Of(NanVar | NanStd) => AccKind::Moments { skip: true },
            GroupReduction::Of(Min) => AccKind::Extreme { max: false, skip: false },
            GroupReduction::Of(Max) => AccKind::Extreme { max: true, skip: false },
            GroupReduction::Of(NanMin) => AccKind::Extreme { max: false, skip: true },
            GroupReduction::Of(NanMax) => AccKind::Extreme { max: true, skip: true },
            GroupReduction::Of(other) => return Err(format!("{} is not a grouped reduction", other.name())),
        })
    }
}

#[derive(Clone, Copy)]
enum AccKind {
    Sum { skip: bool },
    Moments { skip: bool },
    Extreme { max: bool, skip: bool },
}

/// How many values a sum holds: the same for every element (no NaN was
/// skipped: one number, the usual case), or per element.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Count {
    /// Every element counted this many values.
    Rows(f64),
    /// A count per element.
    Cells(ArrayD<f64>),
}

impl Count {
    /// The counts per element, for a sum of `shape`.
    pub(crate) fn cells(&self, shape: &[usize]) -> std::borrow::Cow<'_, ArrayD<f64>> {
        match self {
            Count::Rows(k) => std::borrow::Cow::Owned(ArrayD::from_elem(shape, *k)),
            Count::Cells(c) => std::borrow::Cow::Borrowed(c),
        }
    }

    fn add(&mut self, other: &Count, shape: &[usize]) {
        match (&mut *self, other) {
            (Count::Rows(a), Count::Rows(b)) => *a += b,
            (Count::Cells(a), b) => *a += &*b.cells(shape),
            (Count::Rows(a), Count::Cells(b)) => *self = Count::Cells(b + *a),
        }
    }
}

/// One group's accumulator, over the block's shape without the axis.
#[derive(Clone, Debug)]
pub(crate) enum Acc {
    /// Count and sum per element.
    Sum { n: Count, sum: ArrayD<f64> },
    /// Chan's triple per element.
    Moments(Moments),
    /// The running minimum or maximum (NaN: none yet, when skipping NaN).
    Extreme(ArrayD<f64>),
}

/// The partial of a grouped reduction: accumulators of the groups one
/// block (or a run of blocks) touches, in increasing group order.
#[derive(Clone, Debug)]
pub(crate) struct GroupPartial {
    pub(crate) groups: Vec<u32>,
    pub(crate) accs: Vec<Acc>,
}

impl Data for GroupPartial {
    fn nbytes(&self) -> usize {
        self.accs
            .iter()
            .map(|a| match a {
                Acc::Sum { n: Count::Rows(_), sum } => (1 + sum.len()) * 8,
                Acc::Sum { n: Count::Cells(n), sum } => (n.len() + sum.len()) * 8,
                Acc::Moments(m) => m.parts().0.len() * 24,
                Acc::Extreme(x) => x.len() * 8,
            })
            .sum()
    }

    fn type_name(&self) -> &'static str {
        "group partials"
    }
}

/// The sum of some rows, and how many values each element summed. When
/// skipping NaN, NaNs are counted per element only in rows that hold one,
/// so data without NaN costs one pass of additions and one number.
fn sum_rows<'a, T: Numeric>(sum: &mut ArrayD<f64>, rows: impl Iterator<Item = ArrayViewD<'a, T>>, skip: bool) -> Count {
    let mut k = 0.0;
    let mut nans: Option<ArrayD<f64>> = None;
    for row in rows {
        k += 1.0;
        if add_row(sum, &row, skip) {
            let c = nans.get_or_insert_with(|| ArrayD::zeros(sum.shape()));
            Zip::from(c).and(&row).for_each(|c, &x| *c += f64::from(u8::from(x.as_f64().is_nan())));
        }
    }
    match nans {
        None => Count::Rows(k),
        Some(c) => Count::Cells(c.mapv(|nan| k - nan)),
    }
}

/// `sum += row` as f64, a NaN added as 0 when `skip`; whether `skip`
/// met a NaN. This is the fold of a grouped mean (a season's maps summed
/// one time step at a time). Rows of a C-ordered block, with their sum,
/// are walked as slices, by a copy compiled for AVX2 on CPUs that have
/// it: at the baseline's SSE2 width the fold was bound by its
/// instructions, at AVX2's it waits on memory.
fn add_row<T: Numeric>(sum: &mut ArrayD<f64>, row: &ArrayViewD<'_, T>, skip: bool) -> bool {
    match (sum.as_slice_mut(), row.as_slice()) {
        (Some(s), Some(r)) if s.len() == r.len() => add_slice(s, r, skip),
        _ => {
            let mut any = false;
            Zip::from(sum).and(row).for_each(|s, &x| *s += or_zero(x.as_f64(), skip, &mut any));
            any
        }
    }
}

fn add_slice<T: Numeric>(sum: &mut [f64], row: &[T], skip: bool) -> bool {
    crate::simd::with_avx2(|| add_slice_portable(sum, row, skip))
}

#[inline(always)]
fn add_slice_portable<T: Numeric>(sum: &mut [f64], row: &[T], skip: bool) -> bool {
    let mut any = false;
    // Two loops, so the one without NaN checks has none.
    if skip {
        for (s, &x) in sum.iter_mut().zip(row) {
            *s += or_zero(x.as_f64(), true, &mut any);
        }
    } else {
        for (s, &x) in sum.iter_mut().zip(row) {
            *s += x.as_f64();
        }
    }
    any
}

/// `x`, or 0 if it is NaN and NaN is skipped (noted in `any`).
#[inline(always)]
fn or_zero(x: f64, skip: bool, any: &mut bool) -> f64 {
    let nan = skip && x.is_nan();
    *any |= nan;
    if nan {
        0.0
    } else {
        x
    }
}

fn extreme(max: bool, skip: bool, acc: f64, x: f64) -> f64 {
    if skip {
        if x.is_nan() {
            acc
        } else if acc.is_nan() || if max { x > acc } else { x < acc } {
            x
        } else {
            acc
        }
    } else if acc.is_nan() || x.is_nan() {
        f64::NAN
    } else if max {
        acc.max(x)
    } else {
        acc.min(x)
    }
}

/// Reduces the rows `rows` (indices along `axis`) of `view` into one accumulator.
fn accumulate<T: Numeric>(kind: AccKind, view: &ArrayViewD<'_, T>, axis: usize, rows: &[usize]) -> Acc {
    let rest: Vec<usize> = view.shape().iter().enumerate().filter(|&(k, _)| k != axis).map(|(_, &s)| s).collect();
    let zeros = || ArrayD::<f64>::zeros(rest.as_slice());
    let row = |i: usize| view.index_axis(Axis(axis), i);
    match kind {
        AccKind::Sum { skip } => {
            let mut sum = zeros();
            let n = sum_rows(&mut sum, rows.iter().map(|&i| row(i)), skip);
            Acc::Sum { n, sum }
        }
        AccKind::Moments { skip } => {
            let mut sum = zeros();
            let n = sum_rows(&mut sum, rows.iter().map(|&i| row(i)), skip).cells(&rest).into_owned();
            let mean = Zip::from(&sum).and(&n).map_collect(|&s, &n| if n > 0.0 { s / n } else { 0.0 });
            let mut m2 = zeros();
            for &i in rows {
                Zip::from(&mut m2).and(&mean).and(row(i)).for_each(|m2, &m, &x| {
                    let d = x.as_f64() - m;
                    if !(skip && d.is_nan()) {
                        *m2 += d * d;
                    }
                });
            }
            Acc::Moments(Moments::new(n, mean, m2))
        }
        AccKind::Extreme { max, skip } => {
            let mut acc = row(rows[0]).mapv(|x| x.as_f64());
            for &i in &rows[1..] {
                Zip::from(&mut acc).and(row(i)).for_each(|a, &x| *a = extreme(max, skip, *a, x.as_f64()));
            }
            Acc::Extreme(acc)
        }
    }
}

fn merge_acc(kind: AccKind, a: &mut Acc, b: &Acc) -> std::result::Result<(), TaskError> {
    let mismatch = || TaskError::new("group partials of different kinds or shapes");
    match (a, b) {
        (Acc::Sum { n, sum }, Acc::Sum { n: nb, sum: sb }) if sum.shape() == sb.shape() => {
            n.add(nb, sb.shape());
            *sum += sb;
        }
        (Acc::Moments(m), Acc::Moments(mb)) => *m = m.clone().merge(mb)?,
        (Acc::Extreme(x), Acc::Extreme(xb)) if x.shape() == xb.shape() => {
            let AccKind::Extreme { max, skip } = kind else { return Err(mismatch()) };
            Zip::from(x).and(xb).for_each(|a, &b| *a = extreme(max, skip, *a, b));
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

/// Folds the rows of `view` along `axis` into the accumulators of their
/// groups (`labels[i]` for row `i`; negative: no group). A sum goes on
/// adding into the group's sum, in row order, so folding a block slab by
/// slab gives the very sums of folding it whole; other accumulators are
/// made for the rows and merged.
fn fold<T: Numeric>(
    kind: AccKind,
    accs: &mut BTreeMap<u32, Acc>,
    view: &ArrayViewD<'_, T>,
    axis: usize,
    labels: &[i64],
) -> std::result::Result<(), TaskError> {
    if labels.len() != view.len_of(Axis(axis)) {
        return Err(TaskError::new(format!(
            "{} group labels for a block {} long on axis {axis}",
            labels.len(),
            view.len_of(Axis(axis))
        )));
    }
    let mut rows: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, &g) in labels.iter().enumerate() {
        if g >= 0 {
            rows.entry(g as u32).or_default().push(i);
        }
    }
    for (g, rows) in rows {
        match (accs.get_mut(&g), kind) {
            (Some(Acc::Sum { n, sum }), AccKind::Sum { skip }) => {
                let more = sum_rows(sum, rows.iter().map(|&i| view.index_axis(Axis(axis), i)), skip);
                n.add(&more, sum.shape());
            }
            (Some(acc), _) => merge_acc(kind, acc, &accumulate(kind, view, axis, &rows))?,
            (None, _) => {
                accs.insert(g, accumulate(kind, view, axis, &rows));
            }
        }
    }
    Ok(())
}

fn partial(accs: BTreeMap<u32, Acc>) -> Value {
    let (groups, accs) = accs.into_iter().unzip();
    Value::object(GroupPartial { groups, accs })
}

fn chunk<T: Numeric>(kind: AccKind, b: &Block<T>, axis: usize, labels: &[i64]) -> TaskResult {
    let view = b.view();
    let mut accs = BTreeMap::new();
    fold(kind, &mut accs, &view.view(), axis, labels)?;
    Ok(partial(accs))
}

/// The partial of a block that `source` hands over in slabs of rows
/// (along axis 0, the grouped axis), each folded as it comes.
fn chunk_rows<T: Numeric>(kind: AccKind, source: &RowSource, params: &Value, labels: &[i64]) -> TaskResult {
    let mut accs = BTreeMap::new();
    let mut at = 0;
    (source.rows)(params, SLAB_BYTES, &mut |slab| {
        let b = block_of::<T>(&slab)?;
        let view = b.view();
        let n = view.shape().first().copied().unwrap_or(1);
        let rows = labels.get(at..at + n).ok_or_else(|| {
            TaskError::new(format!("{}: a slab of rows past the block's {} rows", source.op.name, labels.len()))
        })?;
        fold(kind, &mut accs, &view.view(), 0, rows)?;
        at += n;
        Ok(())
    })?;
    if at != labels.len() {
        return Err(TaskError::new(format!(
            "{}: {at} rows handed over of the block's {}",
            source.op.name,
            labels.len()
        )));
    }
    Ok(partial(accs))
}

fn combine(kind: AccKind, parts: &[&GroupPartial]) -> std::result::Result<GroupPartial, TaskError> {
    let mut merged: BTreeMap<u32, Acc> = BTreeMap::new();
    for p in parts {
        for (g, acc) in p.groups.iter().zip(&p.accs) {
            match merged.get_mut(g) {
                Some(a) => merge_acc(kind, a, acc)?,
                None => {
                    merged.insert(*g, acc.clone());
                }
            }
        }
    }
    let (groups, accs) = merged.into_iter().unzip();
    Ok(GroupPartial { groups, accs })
}

/// The result block: one entry per group along `axis`; a group with no
/// element is 0 for sums and counts, NaN otherwise.
fn finish(
    kind: GroupReduction,
    p: &GroupPartial,
    axis: usize,
    ngroups: usize,
    rest: &[usize],
    ddof: f64,
) -> Block<f64> {
    let empty = if matches!(kind, GroupReduction::Count | GroupReduction::Of(Reduction::Sum | Reduction::NanSum)) {
        0.0
    } else {
        f64::NAN
    };
    let mut shape = rest.to_vec();
    shape.insert(axis, ngroups);
    let mut out = ArrayD::from_elem(shape, empty);
    for (&g, acc) in p.groups.iter().zip(&p.accs) {
        if g as usize >= ngroups {
            continue;
        }
        let mut dst = out.index_axis_mut(Axis(axis), g as usize);
        match (kind, acc) {
            (GroupReduction::Count, Acc::Sum { n, sum }) => dst.assign(&*n.cells(sum.shape())),
            (GroupReduction::Of(Reduction::Sum | Reduction::NanSum), Acc::Sum { sum, .. }) => dst.assign(sum),
            (_, Acc::Sum { n, sum }) => Zip::from(&mut dst)
                .and(&*n.cells(sum.shape()))
                .and(sum)
                .for_each(|d, &n, &s| *d = if n > 0.0 { s / n } else { f64::NAN }),
            (_, Acc::Moments(m)) => {
                let (n, _, m2) = m.parts();
                let std = matches!(kind, GroupReduction::Of(Reduction::Std | Reduction::NanStd));
                Zip::from(&mut dst).and(n).and(m2).for_each(|d, &n, &m2| {
                    let var = if n - ddof > 0.0 { m2 / (n - ddof) } else { f64::NAN };
                    *d = if std { var.sqrt() } else { var };
                })
            }
            (_, Acc::Extreme(x)) => dst.assign(x),
        }
    }
    Block::Dense(out)
}

/// How a grouped reduction is coded: a count, or a reduction's code.
const GROUP_REDUCTION: Layout = Layout {
    text: "GroupReduction: -1 Count, else a Reduction code",
    nested: &[Some(&crate::ops::reduce::REDUCTION_CODES)],
};

/// A grouped reduction as a parameter: its code.
impl Param for GroupReduction {
    const DECLARED: Option<&'static Layout> = Some(&GROUP_REDUCTION);
    fn to_param(&self) -> Value {
        Value::Int(self.code())
    }
    fn from_param(v: &Value) -> Option<Self> {
        GroupReduction::from_code(i64::from_param(v)?).ok()
    }
}

kernel_params! {
    /// The three stages of a grouped reduction along `axis`.
    pub(crate) enum GroupbyParams {
        /// (block, its labels) → partials per group.
        Chunk { reduction: GroupReduction, dtype: DType, axis: usize },
        /// (a row source's parameters, the labels) → the partials of the
        /// block the source hands over in slabs, grouped along axis 0.
        Rows { reduction: GroupReduction, dtype: DType, source: Arc<str> },
        /// Partials → their combination.
        Combine { reduction: GroupReduction },
        /// (partial, the block shape without the axis) → the result block.
        Finish { reduction: GroupReduction, axis: usize, ngroups: usize, ddof: f64 },
    }
}

fn partial_of(v: &Value) -> std::result::Result<&GroupPartial, TaskError> {
    v.downcast_ref::<GroupPartial>()
        .ok_or_else(|| TaskError::new(format!("expected group partials, found {}", v.type_name())))
}

/// A chunk's group labels, its second argument.
fn labels_of(args: &[Value]) -> std::result::Result<Vec<i64>, TaskError> {
    match args.get(1) {
        Some(Value::List(xs)) => Ok(xs.iter().map(|x| if let Value::Int(v) = x { *v } else { -1 }).collect()),
        _ => Err(TaskError::internal("grouped reduction chunk needs its labels")),
    }
}

fn groupby_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let first = args.first().ok_or_else(|| TaskError::internal("grouped reduction without input"))?;
    let acc = |kind: GroupReduction| kind.acc().map_err(TaskError::internal);
    match GroupbyParams::from_value(params)? {
        GroupbyParams::Chunk { reduction, dtype, axis } => {
            let labels = labels_of(&args)?;
            with_numeric!(dtype, T => chunk(acc(reduction)?, block_of::<T>(first)?, axis, &labels),
                Err(TaskError::internal("grouped reduction of bool blocks")))
        }
        GroupbyParams::Rows { reduction, dtype, source } => {
            let labels = labels_of(&args)?;
            let source = row_source(&source)
                .ok_or_else(|| TaskError::internal(format!("no row source `{source}` is registered here")))?;
            with_numeric!(dtype, T => chunk_rows::<T>(acc(reduction)?, source, first, &labels),
                Err(TaskError::internal("grouped reduction of bool blocks")))
        }
        GroupbyParams::Combine { reduction } => {
            let parts: Vec<&GroupPartial> = args.iter().map(partial_of).collect::<std::result::Result<_, _>>()?;
            Ok(Value::object(combine(acc(reduction)?, &parts)?))
        }
        GroupbyParams::Finish { reduction, axis, ngroups, ddof } => {
            let rest: Vec<usize> = match args.get(1) {
                Some(Value::List(xs)) => {
                    xs.iter().map(|x| if let Value::Int(v) = x { *v as usize } else { 0 }).collect()
                }
                _ => return Err(TaskError::internal("grouped reduction finish needs the block shape")),
            };
            Ok(finish(reduction, partial_of(first)?, axis, ngroups, &rest, ddof).into_value())
        }
    }
}

pub(crate) static GROUPBY: NamedFn = NamedFn::new("blockwork.array.groupby", groupby_kernel).params::<GroupbyParams>();

fn int_list(xs: &[i64]) -> Value {
    Value::List(xs.iter().map(|&x| Value::Int(x)).collect())
}

impl<T: Numeric> Array<T> {
    /// Reduces along `axis` by group, as xarray's `groupby(...).mean(dim)`:
    /// `labels[i]` is the group (`0..ngroups`) of index `i` along the axis,
    /// or a negative number to leave it out. The result has the axis
    /// replaced by one of length `ngroups` (one block), in f64. `opts`
    /// gives `split_every` and `ddof`; its axes are ignored.
    pub fn groupby_reduce(
        &self,
        axis: isize,
        labels: &[i64],
        ngroups: usize,
        kind: GroupReduction,
        opts: &ReduceOpts,
    ) -> Result<Array<f64>> {
        kind.acc().map_err(ArrayError::Argument)?;
        let axis = normalize_axes(Some(&[axis]), self.ndim())?[0];
        if labels.len() != self.shape[axis] {
            return Err(ArrayError::Shape(format!(
                "{} group labels for an axis of length {}",
                labels.len(),
                self.shape[axis]
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&g| g >= ngroups as i64) {
            return Err(ArrayError::Argument(format!("group label {bad} is not below the {ngroups} groups")));
        }
        blockwork_graph::register(&GROUPBY);
        let (reduction, dtype, ddof) = (kind, T::DTYPE, opts.ddof as f64);
        let base = Namer::new("groupby").input(&self.layer).add(&(axis as u64)).add(labels).add(&(ngroups as u64));
        let base = base.add(&kind.code()).add(&(opts.ddof as u64));
        let split_every = opts.split_every.unwrap_or(16).max(2);
        let mut nb = self.chunks.numblocks();
        let grid = |nb: &[usize]| Chunks(nb.iter().map(|&n| vec![1; n]).collect());

        let offsets = self.chunks.offsets(axis);
        let sizes = self.chunks.axes()[axis].clone();
        let chunk_op = Op::named(&GROUPBY, GroupbyParams::Chunk { reduction, dtype, axis }.to_value());
        let x = self.clone();
        // Blocks read from a source that hands them over in slabs of rows
        // are folded slab by slab, along the first axis (`crate::rows`).
        let mut sources = Sources::default();
        let blocks = self.chunks.numblocks();
        let mut layer: Arc<Layer> = new_layer(
            &format!("groupby-{}-chunk", kind.name()),
            Namer::new("chunk").add(&base.token()),
            &grid(&nb),
            vec![Arc::clone(&self.layer)],
            |idx| {
                let (s, n) = (offsets[idx[axis] as usize], sizes[idx[axis] as usize]);
                let labels = Arg::Lit(int_list(&labels[s..s + n]));
                match (axis == 0).then(|| sources.find(&x.layer, &x.key(idx), position(idx, &blocks))).flatten() {
                    Some((source, params)) => {
                        let rows = GroupbyParams::Rows { reduction, dtype, source: source.op.name.into() };
                        Task::new(Op::named(&GROUPBY, rows.to_value()), vec![Arg::Lit(params), labels])
                    }
                    None => Task::new(chunk_op.clone(), vec![r(x.key(idx)), labels]),
                }
            },
        );
        let combine_op = Op::named(&GROUPBY, GroupbyParams::Combine { reduction }.to_value());
        let mut level = 0u64;
        while nb[axis] > 1 {
            level += 1;
            let old = nb[axis];
            nb[axis] = old.div_ceil(split_every);
            let prev = Arc::clone(&layer);
            layer = new_layer(
                &format!("groupby-{}-combine", kind.name()),
                Namer::new("combine").add(&base.token()).add(&level),
                &grid(&nb),
                vec![Arc::clone(&prev)],
                |idx| {
                    let start = idx[axis] as usize * split_every;
                    let args = (start..(start + split_every).min(old))
                        .map(|i| {
                            let mut src = idx.to_vec();
                            src[axis] = i as u32;
                            r(prev.key(&src))
                        })
                        .collect();
                    Task::new(combine_op.clone(), args)
                },
            );
        }
        let mut out_axes = self.chunks.axes().to_vec();
        out_axes[axis] = vec![ngroups];
        let out_chunks = Chunks(out_axes);
        let finish_op = Op::named(&GROUPBY, GroupbyParams::Finish { reduction, axis, ngroups, ddof }.to_value());
        let last = Arc::clone(&layer);
        let chunks = self.chunks.clone();
        let finish = new_layer(
            &format!("groupby-{}", kind.name()),
            Namer::new("finish").add(&base.token()),
            &out_chunks,
            vec![Arc::clone(&last)],
            |idx| {
                let mut rest = chunks.block_shape(idx);
                rest.remove(axis);
                let rest: Vec<i64> = rest.iter().map(|&s| s as i64).collect();
                Task::new(finish_op.clone(), vec![r(last.key(idx)), Arg::Lit(int_list(&rest))])
            },
        );
        Ok(Array::from_parts(out_chunks.shape(), out_chunks, finish))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dispatched_row_sum_is_the_portable_one() {
        // Lengths around the vector widths, NaN here and there, f32 and f64.
        let mut rng = blockwork_testkit::Rng::new(0x9e37_79b9);
        let mut next = || rng.next_u64();
        for len in [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1027] {
            for skip in [false, true] {
                let row: Vec<f32> =
                    (0..len).map(|_| if next() % 13 == 0 { f32::NAN } else { (next() % 1000) as f32 / 7.0 }).collect();
                let start: Vec<f64> = (0..len).map(|_| (next() % 100) as f64 / 3.0).collect();
                let (mut fast, mut slow) = (start.clone(), start.clone());
                let any = add_slice(&mut fast, &row, skip);
                assert_eq!(any, add_slice_portable(&mut slow, &row, skip), "{len} {skip}");
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{len} {skip}");
                assert_eq!(any, skip && row.iter().any(|x| x.is_nan()));
                let wide: Vec<f64> = row.iter().map(|&x| f64::from(x)).collect();
                let (mut fast, mut slow) = (start.clone(), start);
                assert_eq!(add_slice(&mut fast, &wide, skip), add_slice_portable(&mut slow, &wide, skip));
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{len} {skip} f64");
            }
        }
    }
}
