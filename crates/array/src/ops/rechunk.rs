//! Rechunking: the same array cut into other blocks.
//!
//! One stage (`rechunk_operand`) makes one task per output block that
//! reads the input blocks it overlaps and copies their pieces into place.
//! A piece that is a whole input block is passed through without a copy,
//! and pieces that are all one constant make a constant block: rechunking
//! never materializes a constant array.
//!
//! A task reads whole input blocks, so what it holds is the sum of the
//! blocks it overlaps. Changing chunks along every axis at once (row blocks
//! to column blocks) makes every output task read every row block, and
//! hold them all. [`plan_rechunk`] therefore plans a sequence of
//! intermediate chunkings, as dask.array's `plan_rechunk` does, priced by
//! what a stage costs here: per output block, the product over axes of the
//! lengths of the input blocks it overlaps (the elements it reads), and in
//! all, the number of (task, input) edges of the graph (per axis, the input
//! blocks each output block overlaps, summed over output blocks; multiplied
//! over axes: dask's `estimate_graph_size`). The rule:
//!
//! 1. The limit `L` is [`RechunkOpts::block_limit_bytes`], by default
//!    [`AUTO_BLOCK_BYTES`] (128 MiB, dask's `array.chunk-size`), raised to
//!    the largest input and output block (which a rechunk holds anyway).
//! 2. While the next stage's edges exceed `threshold × (input blocks +
//!    output blocks)` (threshold 4 by default, dask's
//!    `array.rechunk.threshold`), an intermediate stage is added, from the
//!    current chunks:
//!    - *merge* (dask's `find_merge_rechunk`): axes where the target has no
//!      more blocks than now grow towards it, the axes that cut the graph
//!      most per unit of block growth first: to the target chunks if a task
//!      then reads at most `L`, else (if the target has fewer blocks) into
//!      unions of current blocks as wide as `L` allows, spread evenly and
//!      never across a boundary the current and target chunks share;
//!    - if nothing merges, *split* (dask's `find_split_rechunk`): axes where
//!      the target has more blocks are cut into the target chunks if a task
//!      then reads at most `L`, else inside each current block at the
//!      target's boundaries (every task reads one block). If that makes more
//!      blocks than the graph threshold, the pieces are grouped as wide as
//!      lets the following stage stay under `L`.
//!
//!    This stops when a step changes nothing or repeats an earlier one, or
//!    after 8 intermediate stages.
//! 3. If the last stage would read more than `L` per task (row groups
//!    against whole rows, or input and output blocks cut at different
//!    places, both near `L`), the axes that need it are first cut into the
//!    common refinement of the current and target chunks, so the last stage
//!    only merges on them: dask's split tasks, made a stage of their own.
//!
//! So one stage is enough when its graph is small and no task reads more
//! than `L` bytes: always when the chunks are equal, only split, or only
//! merge.
//!
//! Every stage is one `rechunk_operand`. The plan keeps every
//! intermediate block, and the input blocks of every task, within `L`.
//! For a 20000×20000 f64 array from (1, 20000) rows to (20000, 100)
//! columns: rows merge into 24 blocks of ~834 rows (each task reads ~834
//! rows, ~128 MiB), those are cut into (834, 100) pieces, and the columns
//! are merged from 24 pieces each — instead of 200 tasks reading all
//! 20000 rows (3.2 GB) apiece.

use std::sync::Arc;

use blockwork_graph::{kernel_params, r, KernelParams, NamedFn, Op, Task, TaskResult, Value};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

use crate::array::{new_layer, Array, Operand};
use crate::block::{block_of, Block};
use crate::chunks::{ChunkSpec, Chunks, AUTO_BLOCK_BYTES};
use crate::dtype::{with_dtype, DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;

/// One piece along one axis: input block `block`, elements `start..stop`
/// of it, landing at `dest` in the output block.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Piece {
    block: u32,
    start: usize,
    stop: usize,
    dest: usize,
}

/// The pieces of input blocks that make each output block, per axis.
fn plan_axis(old: &[usize], new: &[usize]) -> Vec<Vec<Piece>> {
    let mut old_off = Vec::with_capacity(old.len() + 1);
    let mut acc = 0;
    old_off.push(0);
    for &c in old {
        acc += c;
        old_off.push(acc);
    }
    let mut out = Vec::with_capacity(new.len());
    let mut start = 0;
    let mut b = 0;
    for &len in new {
        let stop = start + len;
        let mut pieces = Vec::new();
        let mut pos = start;
        while b < old.len() && old_off[b + 1] <= pos && old[b] > 0 {
            b += 1;
        }
        let mut bb = b;
        while pos < stop || (len == 0 && pieces.is_empty()) {
            let (lo, hi) = (old_off[bb], old_off[bb + 1]);
            let end = hi.min(stop);
            pieces.push(Piece { block: bb as u32, start: pos - lo, stop: end - lo, dest: pos - start });
            if len == 0 {
                break;
            }
            pos = end;
            if pos >= hi {
                bb += 1;
            }
        }
        out.push(pieces);
        start = stop;
    }
    out
}

kernel_params! {
    /// A piece of an input block: `start..stop` along one axis, placed at
    /// `dest` in the output block.
    pub(crate) struct Slab {
        pub(crate) start: usize,
        pub(crate) stop: usize,
        pub(crate) dest: usize,
    }
}

kernel_params! {
    /// An output block of a rechunk, assembled from pieces of the input
    /// blocks (the task's arguments, in row-major order of the pieces).
    pub(crate) struct RechunkParams {
        pub(crate) dtype: DType,
        pub(crate) shape: Vec<usize>,
        /// Per axis, the pieces along it.
        pub(crate) pieces: Vec<Vec<Slab>>,
    }
}

fn assemble(params: &Value, args: Vec<Value>) -> TaskResult {
    let RechunkParams { dtype, shape, pieces } = RechunkParams::from_value(params)?;
    with_dtype!(dtype, T => assemble_typed::<T>(&shape, &pieces, args))
}

fn assemble_typed<T: Element>(shape: &[usize], axes: &[Vec<Slab>], args: Vec<Value>) -> TaskResult {
    let counts: Vec<usize> = axes.iter().map(Vec::len).collect();
    let single = counts.iter().all(|&c| c == 1);
    if single {
        let b = block_of::<T>(&args[0])?;
        let whole = axes.iter().zip(b.shape()).all(|(a, &n)| a[0].start == 0 && a[0].stop == n);
        if whole {
            return Ok(args.into_iter().next().unwrap_or_default());
        }
    }
    let blocks: Vec<&Block<T>> = args.iter().map(block_of::<T>).collect::<Result<_, _>>()?;
    if let Some(Block::Const { value, .. }) = blocks.first() {
        if blocks.iter().all(|b| matches!(b, Block::Const { value: v, .. } if v == value)) {
            return Ok(Block::Const { value: *value, shape: shape.to_vec() }.into_value());
        }
    }
    let mut out = ArrayD::from_elem(IxDyn(shape), T::default());
    let mut combo = vec![0usize; counts.len()];
    for b in &blocks {
        let src: Vec<SliceInfoElem> = combo
            .iter()
            .enumerate()
            .map(|(ax, &i)| SliceInfoElem::Slice {
                start: axes[ax][i].start as isize,
                end: Some(axes[ax][i].stop as isize),
                step: 1,
            })
            .collect();
        let dst: Vec<SliceInfoElem> = combo
            .iter()
            .enumerate()
            .map(|(ax, &i)| {
                let Slab { start, stop, dest } = &axes[ax][i];
                SliceInfoElem::Slice { start: *dest as isize, end: Some((dest + stop - start) as isize), step: 1 }
            })
            .collect();
        let mut target = out.slice_mut(dst.as_slice());
        match b {
            Block::Dense(a) => target.assign(&a.slice(src.as_slice())),
            Block::Const { value, .. } => target.fill(*value),
        }
        // Next combination, row-major.
        for ax in (0..combo.len()).rev() {
            combo[ax] += 1;
            if combo[ax] < counts[ax] {
                break;
            }
            combo[ax] = 0;
        }
    }
    Ok(Block::Dense(out).into_value())
}

pub(crate) static ASSEMBLE: NamedFn = NamedFn::new("blockwork.array.rechunk", assemble).params::<RechunkParams>();

/// The operand cut into `target` chunks (itself if they already match).
pub(crate) fn rechunk_operand(x: &Operand, target: &Chunks) -> Result<Operand> {
    if &x.chunks == target {
        return Ok(x.clone());
    }
    if target.shape() != x.shape {
        return Err(ArrayError::Chunks(format!("chunks {:?} do not fit shape {:?}", target.axes(), x.shape)));
    }
    blockwork_graph::register(&ASSEMBLE);
    let plans: Vec<Vec<Vec<Piece>>> = (0..x.ndim()).map(|ax| plan_axis(x.chunks.axis(ax), target.axis(ax))).collect();
    let namer = Namer::new("rechunk").input(&x.layer).add(&target.axes().to_vec());
    let layer = new_layer("rechunk", namer, target, vec![Arc::clone(&x.layer)], |idx| {
        let per_axis: Vec<&Vec<Piece>> = idx.iter().enumerate().map(|(ax, &i)| &plans[ax][i as usize]).collect();
        let pieces = per_axis
            .iter()
            .map(|pieces| pieces.iter().map(|p| Slab { start: p.start, stop: p.stop, dest: p.dest }).collect())
            .collect();
        let params = RechunkParams { dtype: x.dtype, shape: target.block_shape(idx), pieces };
        // Input blocks in row-major order of the piece combinations.
        let mut args = Vec::new();
        let counts: Vec<usize> = per_axis.iter().map(|p| p.len()).collect();
        for combo in crate::chunks::BlockIndices::new(counts) {
            let src: Vec<u32> = combo.iter().enumerate().map(|(ax, &i)| per_axis[ax][i as usize].block).collect();
            args.push(r(x.key(&src)));
        }
        Task::new(Op::named(&ASSEMBLE, params.to_value()), args)
    });
    Ok(Operand { shape: x.shape.clone(), chunks: target.clone(), layer, dtype: x.dtype, expr: None })
}

/// The common refinement of several chunkings of one axis: a block
/// boundary wherever any of them has one.
pub(crate) fn common_chunks(axes: &[&[usize]]) -> Vec<usize> {
    let mut bounds: Vec<usize> = Vec::new();
    for a in axes {
        let mut acc = 0;
        for &c in *a {
            acc += c;
            bounds.push(acc);
        }
    }
    bounds.sort_unstable();
    bounds.dedup();
    let mut out = Vec::with_capacity(bounds.len());
    let mut prev = 0;
    for b in bounds {
        if b > prev {
            out.push(b - prev);
            prev = b;
        }
    }
    if out.is_empty() {
        out.push(0);
    }
    out
}

/// Options of [`Array::rechunk_with`] and [`plan_rechunk_with`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RechunkOpts {
    /// Most bytes in one intermediate block, and in the input blocks one
    /// task reads. `None`: [`AUTO_BLOCK_BYTES`] (128 MiB, dask's
    /// `array.chunk-size`). Always raised to the largest input and output
    /// block (see [`RechunkOpts::limit_bytes`]).
    pub block_limit_bytes: Option<usize>,
    /// Graph growth factor: one stage is kept while its (task, input)
    /// edges stay under `threshold × (input blocks + output blocks)`.
    /// `None`: 4 (dask's `array.rechunk.threshold`).
    pub threshold: Option<f64>,
}

impl RechunkOpts {
    /// With this block limit, in bytes.
    pub fn limit(bytes: usize) -> Self {
        RechunkOpts { block_limit_bytes: Some(bytes), ..Self::default() }
    }

    /// The limit a plan from `old` to `new` chunks keeps to, in bytes: the
    /// given one (or 128 MiB), at least the largest block of either.
    ///
    /// A limit tied only to the block sizes (a multiple of them) would cut
    /// small arrays into many stages of tiny blocks, where one task per
    /// block costs more than the copy; 128 MiB is also what automatic
    /// chunks aim at.
    pub fn limit_bytes(&self, old: &Chunks, new: &Chunks, itemsize: usize) -> usize {
        let largest = old.max_block_len().max(new.max_block_len()).saturating_mul(itemsize);
        self.block_limit_bytes.unwrap_or(AUTO_BLOCK_BYTES).max(largest)
    }
}

/// Dask's `array.rechunk.threshold`.
const THRESHOLD: f64 = 4.0;
/// Most intermediate stages planned.
const MAX_STAGES: usize = 8;

/// The stages that rechunk an array of `itemsize`-byte elements from `old`
/// to `new` chunks, each stage's chunks in order; the last is `new`. One
/// stage when a single one is cheap enough (always when the chunks are
/// equal, only split, or only merge). `limit`: [`RechunkOpts::block_limit_bytes`].
/// See the [module docs](self) for the rule. Chunks of different shapes
/// get the one stage `new` (rechunking then reports the mismatch).
pub fn plan_rechunk(old: &Chunks, new: &Chunks, itemsize: usize, limit: Option<usize>) -> Vec<Chunks> {
    plan_rechunk_with(old, new, itemsize, &RechunkOpts { block_limit_bytes: limit, ..RechunkOpts::default() })
}

/// [`plan_rechunk`] with every option.
pub fn plan_rechunk_with(old: &Chunks, new: &Chunks, itemsize: usize, opts: &RechunkOpts) -> Vec<Chunks> {
    let shape = new.shape();
    if old == new || old.ndim() != new.ndim() || old.shape() != shape || shape.contains(&0) {
        return vec![new.clone()];
    }
    let limit = (opts.limit_bytes(old, new, itemsize) / itemsize.max(1)).max(1);
    let graph_limit = opts.threshold.unwrap_or(THRESHOLD) * (old.nblocks() + new.nblocks()) as f64;
    let target = new.axes();
    let mut cur = old.axes().to_vec();
    let mut steps: Vec<Vec<Vec<usize>>> = Vec::new();
    // Stages that shrink the graph; memory is the refine step's business.
    while steps.len() < MAX_STAGES && stage_cost(&cur, target).edges as f64 > graph_limit {
        let mut next = merge_step(&cur, target, limit);
        if next == cur {
            next = split_step(&cur, target, limit, graph_limit);
        }
        if next == cur || next == target || next == old.axes() || steps.contains(&next) {
            break;
        }
        steps.push(next.clone());
        cur = next;
    }
    if stage_cost(&cur, target).span > limit {
        let refined = refine_step(&cur, target, limit);
        if refined != cur && refined != target {
            steps.push(refined);
        }
    }
    steps.into_iter().map(Chunks).chain([new.clone()]).collect()
}

/// What one stage costs along one axis.
#[derive(Clone, Copy, Debug, PartialEq)]
struct AxisCost {
    /// Over the new blocks, the old blocks each reads, summed.
    edges: usize,
    /// The most elements of old blocks one new block reads.
    span: usize,
}

fn axis_cost(old: &[usize], new: &[usize]) -> AxisCost {
    if old == new {
        return AxisCost { edges: old.len(), span: widest(old) };
    }
    let mut cost = AxisCost { edges: 0, span: 0 };
    for pieces in plan_axis(old, new) {
        cost.edges += pieces.len();
        cost.span = cost.span.max(pieces.iter().map(|p| old[p.block as usize]).sum());
    }
    cost
}

/// What one stage costs: (task, input) edges, and the most elements one
/// task reads (a bound: the product of the per-axis most).
#[derive(Clone, Copy, Debug, PartialEq)]
struct StageCost {
    edges: usize,
    span: usize,
}

fn stage_cost(old: &[Vec<usize>], new: &[Vec<usize>]) -> StageCost {
    old.iter().zip(new).map(|(o, n)| axis_cost(o, n)).fold(StageCost { edges: 1, span: 1 }, |acc, c| StageCost {
        edges: acc.edges.saturating_mul(c.edges),
        span: acc.span.saturating_mul(c.span),
    })
}

fn widest(c: &[usize]) -> usize {
    c.iter().copied().max().unwrap_or(0)
}

fn product(xs: impl IntoIterator<Item = usize>) -> usize {
    xs.into_iter().fold(1, usize::saturating_mul)
}

/// Where the blocks end.
fn ends(c: &[usize]) -> Vec<usize> {
    c.iter()
        .scan(0, |acc, &l| {
            *acc += l;
            Some(*acc)
        })
        .collect()
}

/// Groups consecutive `units` into blocks at most `width` long (a longer
/// unit stays alone), never across a position in `cuts` (sorted); each
/// stretch between cuts is spread evenly over as few blocks as the width
/// allows.
fn pack(units: &[usize], cuts: &[usize], width: usize) -> Vec<usize> {
    let width = width.max(1);
    let mut out = Vec::new();
    let (mut i, mut pos, mut next_cut) = (0, 0, 0);
    while i < units.len() {
        while next_cut < cuts.len() && cuts[next_cut] <= pos {
            next_cut += 1;
        }
        let stop = cuts.get(next_cut).copied().unwrap_or(usize::MAX);
        let (start, mut j, mut end) = (pos, i, pos);
        while j < units.len() && end < stop {
            end += units[j];
            j += 1;
        }
        // Each group aims at an even share of what is left of the stretch.
        let (mut group, mut left) = (0, end - start);
        let mut aim = left.div_ceil(left.div_ceil(width).max(1));
        for &u in &units[i..j] {
            if group > 0 && group + u > width {
                out.push(group);
                aim = left.div_ceil(left.div_ceil(width).max(1));
                group = 0;
            }
            group += u;
            left -= u;
            if group >= aim {
                out.push(group);
                aim = left.div_ceil(left.div_ceil(width).max(1));
                group = 0;
            }
        }
        if group > 0 {
            out.push(group);
        }
        i = j;
        pos = end;
    }
    out
}

/// Merge step: axes where the target has no more blocks than `cur` grow
/// towards it while a task reads at most `limit` elements.
fn merge_step(cur: &[Vec<usize>], new: &[Vec<usize>], limit: usize) -> Vec<Vec<usize>> {
    let mut out = cur.to_vec();
    let mut span: Vec<usize> = cur.iter().map(|c| widest(c)).collect();
    // Most graph reduction per block growth first (dask's knapsack greed).
    let key = |ax: usize| {
        let fewer = new[ax].len() as f64 / cur[ax].len() as f64;
        let wider = widest(&new[ax]) as f64 / widest(&cur[ax]).max(1) as f64;
        if wider <= 1.0 {
            f64::NEG_INFINITY
        } else {
            fewer.ln() / wider.ln()
        }
    };
    let mut axes: Vec<usize> =
        (0..cur.len()).filter(|&ax| cur[ax] != new[ax] && new[ax].len() <= cur[ax].len()).collect();
    axes.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
    for ax in axes {
        let others = product(span.iter().enumerate().filter(|&(i, _)| i != ax).map(|(_, &s)| s)).max(1);
        let full = axis_cost(&cur[ax], &new[ax]).span;
        if others.saturating_mul(full) <= limit {
            out[ax] = new[ax].clone();
            span[ax] = full;
        } else if new[ax].len() < cur[ax].len() {
            let new_ends = ends(&new[ax]);
            let shared: Vec<usize> = ends(&cur[ax]).into_iter().filter(|e| new_ends.binary_search(e).is_ok()).collect();
            let merged = pack(&cur[ax], &shared, limit / others);
            let w = widest(&merged);
            if merged.len() < cur[ax].len() && others.saturating_mul(w) <= limit {
                out[ax] = merged;
                span[ax] = w;
            }
        }
    }
    out
}

/// Split step: axes where the target has more blocks than `cur` are cut
/// into the target chunks (or, if tasks would then read more than `limit`,
/// at the target's boundaries inside each block of `cur`); grouped as wide
/// as the next stage's memory allows if that makes more than `graph_limit`
/// blocks.
fn split_step(cur: &[Vec<usize>], new: &[Vec<usize>], limit: usize, graph_limit: f64) -> Vec<Vec<usize>> {
    let axes: Vec<usize> = (0..cur.len()).filter(|&ax| new[ax].len() > cur[ax].len()).collect();
    if axes.is_empty() {
        return cur.to_vec();
    }
    // Straight to the target on those axes if tasks may read the two blocks
    // a target block straddles; else to the pieces between both boundaries.
    let mut fine = cur.to_vec();
    for &ax in &axes {
        fine[ax] = new[ax].clone();
    }
    if stage_cost(cur, &fine).span > limit {
        for &ax in &axes {
            fine[ax] = common_chunks(&[&cur[ax], &new[ax]]);
        }
    }
    if product(fine.iter().map(Vec::len)) as f64 <= graph_limit {
        return fine;
    }
    let others = product((0..cur.len()).filter(|ax| !axes.contains(ax)).map(|ax| axis_cost(&cur[ax], &new[ax]).span));
    let narrowest = product(axes.iter().map(|&ax| widest(&new[ax])));
    let mut spare = limit as f64 / others.max(1) as f64 / narrowest.max(1) as f64;
    if spare <= 1.0 {
        return fine;
    }
    let room = |ax: usize| widest(&cur[ax]) as f64 / widest(&new[ax]).max(1) as f64;
    let mut order = axes.clone();
    order.sort_by(|&a, &b| room(b).total_cmp(&room(a)));
    let mut out = cur.to_vec();
    for ax in order {
        let grow = room(ax).min(spare).max(1.0);
        spare /= grow;
        let width = (widest(&new[ax]) as f64 * grow).floor() as usize;
        out[ax] = pack(&common_chunks(&[&cur[ax], &new[ax]]), &ends(&cur[ax]), width);
    }
    out
}

/// Refine step: axes are cut into the common refinement of `cur` and the
/// target, those that read the most first, until the last stage (then
/// merging only on them) reads at most `limit` elements per task.
fn refine_step(cur: &[Vec<usize>], new: &[Vec<usize>], limit: usize) -> Vec<Vec<usize>> {
    let mut out = cur.to_vec();
    let mut span: Vec<usize> = cur.iter().zip(new).map(|(c, n)| axis_cost(c, n).span).collect();
    let excess = |ax: usize, span: &[usize]| span[ax] as f64 / widest(&new[ax]).max(1) as f64;
    let mut axes: Vec<usize> = (0..cur.len()).filter(|&ax| cur[ax] != new[ax]).collect();
    axes.sort_by(|&a, &b| excess(b, &span).total_cmp(&excess(a, &span)));
    for ax in axes {
        if product(span.iter().copied()) <= limit {
            break;
        }
        out[ax] = common_chunks(&[&cur[ax], &new[ax]]);
        span[ax] = widest(&new[ax]);
    }
    out
}

/// The operand cut into `target` chunks through the stages [`plan_rechunk_with`] plans.
pub(crate) fn rechunk_planned(x: &Operand, target: &Chunks, opts: &RechunkOpts) -> Result<Operand> {
    if &x.chunks == target {
        return Ok(x.clone());
    }
    if target.shape() != x.shape {
        return Err(ArrayError::Chunks(format!("chunks {:?} do not fit shape {:?}", target.axes(), x.shape)));
    }
    let mut y = x.clone();
    for stage in plan_rechunk_with(&x.chunks, target, x.dtype.itemsize(), opts) {
        y = rechunk_operand(&y, &stage)?;
    }
    Ok(y)
}

impl<T: Element> Array<T> {
    /// The same array in other blocks, through as many stages as keep
    /// every task's inputs and every intermediate block within 128 MiB (or
    /// the largest block); see [`plan_rechunk`].
    pub fn rechunk(&self, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
        self.rechunk_with(chunks, &RechunkOpts::default())
    }

    /// [`Array::rechunk`] with a block limit and graph threshold of one's own.
    pub fn rechunk_with(&self, chunks: impl Into<ChunkSpec>, opts: &RechunkOpts) -> Result<Array<T>> {
        let target = Chunks::normalize(&chunks.into(), &self.shape, T::DTYPE.itemsize())?;
        Ok(rechunk_planned(&self.operand(), &target, opts)?.into_array())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_cover_every_element_once() {
        let p = plan_axis(&[3, 3, 2], &[4, 4]);
        assert_eq!(
            p,
            vec![
                vec![Piece { block: 0, start: 0, stop: 3, dest: 0 }, Piece { block: 1, start: 0, stop: 1, dest: 3 }],
                vec![Piece { block: 1, start: 1, stop: 3, dest: 0 }, Piece { block: 2, start: 0, stop: 2, dest: 2 }],
            ]
        );
        assert_eq!(plan_axis(&[5], &[2, 3])[1], vec![Piece { block: 0, start: 2, stop: 5, dest: 0 }]);
        assert_eq!(plan_axis(&[0], &[0]), vec![vec![Piece { block: 0, start: 0, stop: 0, dest: 0 }]]);
        assert_eq!(common_chunks(&[&[3, 3], &[2, 4]]), vec![2, 1, 3]);
    }

    #[test]
    fn axis_costs_count_what_tasks_read() {
        assert_eq!(axis_cost(&[3, 3, 2], &[4, 4]), AxisCost { edges: 4, span: 6 });
        assert_eq!(axis_cost(&[1; 6], &[6]), AxisCost { edges: 6, span: 6 });
        assert_eq!(axis_cost(&[6], &[2; 3]), AxisCost { edges: 3, span: 6 });
        assert_eq!(axis_cost(&[2; 3], &[2; 3]), AxisCost { edges: 3, span: 2 });
    }

    #[test]
    fn packs_evenly_within_cuts() {
        assert_eq!(pack(&[1; 10], &[10], 4), vec![4, 3, 3]);
        assert_eq!(pack(&[1; 10], &[5, 10], 4), vec![3, 2, 3, 2]);
        assert_eq!(pack(&[100; 10], &[], 350), vec![300, 300, 200, 200]);
        assert_eq!(pack(&[5, 1, 1], &[], 2), vec![5, 2]);
        let p = pack(&[1; 20_000], &[20_000], 838);
        assert_eq!(p.len(), 24);
        assert!(p.iter().all(|&w| (833..=834).contains(&w)), "{p:?}");
    }

    fn regular(shape: &[usize], size: &[usize]) -> Chunks {
        Chunks::regular(shape, size)
    }

    #[test]
    fn rows_to_columns_plan() {
        let (old, new) = (regular(&[20_000, 20_000], &[1, 20_000]), regular(&[20_000, 20_000], &[20_000, 100]));
        let plan = plan_rechunk(&old, &new, 8, None);
        assert_eq!(plan.len(), 3, "{:?}", plan.iter().map(Chunks::numblocks).collect::<Vec<_>>());
        assert_eq!(plan[0].numblocks(), vec![24, 1]);
        assert_eq!(plan[1].numblocks(), vec![24, 200]);
        assert_eq!(plan[2], new);
        let stages: Vec<StageCost> =
            [&old].into_iter().chain(&plan).zip(&plan).map(|(a, b)| stage_cost(a.axes(), b.axes())).collect();
        assert!(stages.iter().all(|c| c.span * 8 <= AUTO_BLOCK_BYTES), "{stages:?}");
        assert_eq!(stages.iter().map(|c| c.edges).collect::<Vec<_>>(), vec![20_000, 4800, 4800]);
        // Columns to rows.
        let plan = plan_rechunk(&new, &regular(&[20_000, 20_000], &[100, 20_000]), 8, None);
        assert!(plan.len() > 1);
    }

    #[test]
    fn misaligned_big_blocks_go_through_the_refinement() {
        let (old, new) = (regular(&[16_384, 16_384], &[4096, 4096]), regular(&[16_384, 16_384], &[5000, 5000]));
        assert!(stage_cost(old.axes(), new.axes()).span * 8 > 5000 * 5000 * 8);
        let plan = plan_rechunk(&old, &new, 8, None);
        assert_eq!(plan.len(), 2);
        assert_eq!(plan[0].axis(0), &[4096, 904, 3192, 1808, 2288, 2712, 1384]);
        assert_eq!(stage_cost(plan[0].axes(), new.axes()).span, 5000 * 5000);
    }
}
