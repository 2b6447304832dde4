//! Basic indexing: slices with steps (negative too), integer indices and
//! new axes, as NumPy's `x[2:10:3, -1, None]`.
//!
//! Each output block comes from exactly one input block: the selection
//! along each axis is cut where the input's block boundaries fall, so a
//! task copies one strided window of one block and never concatenates.
//! Constant blocks stay constant.

use std::sync::Arc;

use blockwork_graph::{builtins, kernel_params, r, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::dtype::{with_dtype, DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;

/// What one input axis becomes.
enum AxisSel {
    /// Kept: per output block, (input block, start, stop, step) within it.
    Kept(Vec<(u32, i64, i64, i64)>),
    /// Indexed away: (input block, index within it).
    Index(u32, i64),
}

/// Normalizes a Python-style slice of an axis of length `n`: the first
/// index, the step, and how many elements it selects.
fn resolve(start: isize, end: Option<isize>, step: isize, n: usize) -> Result<(i64, i64, usize)> {
    if step == 0 {
        return Err(ArrayError::Index("slice step cannot be zero".into()));
    }
    let n = n as i64;
    let norm = |i: isize, lo: i64, hi: i64| {
        let i = i as i64;
        let i = if i < 0 { i + n } else { i };
        i.clamp(lo, hi)
    };
    let step = step as i64;
    if step > 0 {
        let s = norm(start, 0, n);
        let e = end.map_or(n, |e| norm(e, 0, n));
        let len = if e > s { ((e - s) + step - 1) / step } else { 0 };
        Ok((s, step, len as usize))
    } else {
        // As ndarray's `s![a..b;-k]`: the range a..b walked from its back
        // (b - 1, b - 1 - k, …); `s![..;-1]` reverses the axis.
        let s = norm(start, 0, n);
        let e = end.map_or(n, |e| norm(e, 0, n));
        let len = if e > s { ((e - s) + (-step) - 1) / (-step) } else { 0 };
        Ok((e - 1, step, len as usize))
    }
}

/// Cuts the selected positions `first, first+step, …` (len of them) at
/// the input blocks' boundaries.
fn cut(first: i64, step: i64, len: usize, chunks: &[usize]) -> Vec<(u32, i64, i64, i64)> {
    let mut offsets = vec![0i64];
    for &c in chunks {
        offsets.push(offsets.last().copied().unwrap_or(0) + c as i64);
    }
    let block_of = |pos: i64| offsets.partition_point(|&o| o <= pos).saturating_sub(1);
    let mut out: Vec<(u32, i64, i64, i64)> = Vec::new();
    let mut k = 0usize;
    while k < len {
        let pos = first + k as i64 * step;
        let b = block_of(pos);
        let (lo, hi) = (offsets[b], offsets[b + 1]);
        // How many more selected positions fall in block b.
        let count = if step > 0 { (hi - 1 - pos) / step + 1 } else { (pos - lo) / (-step) + 1 };
        let count = (count as usize).min(len - k);
        let local = pos - lo;
        let last_local = local + (count as i64 - 1) * step;
        out.push((b as u32, local, last_local, step));
        k += count;
    }
    if out.is_empty() {
        out.push((0, 0, -1, 1));
    }
    out
}

kernel_params! {
    /// What one axis of a block's window takes.
    pub(crate) enum Window {
        /// Elements `first`, `first + step`, … through `last` (below
        /// `first` for a negative step; for a positive one, nothing).
        Range { first: i64, last: i64, step: i64 },
        /// One element; the axis is dropped.
        Index { at: i64 },
        /// A new axis of length one.
        NewAxis {},
    }
}

kernel_params! {
    /// A window of a block: one entry per axis of the input (and new axes).
    pub(crate) struct GetitemParams {
        pub(crate) dtype: DType,
        pub(crate) axes: Vec<Window>,
    }
}

impl Window {
    /// The whole of an axis of length `n`.
    fn is_whole(&self, n: usize) -> bool {
        matches!(*self, Window::Range { first: 0, last, step: 1 } if last + 1 == n as i64)
    }
}

fn getitem(params: &Value, args: Vec<Value>) -> TaskResult {
    let GetitemParams { dtype, axes } = GetitemParams::from_value(params)?;
    let v = args.first().ok_or_else(|| TaskError::internal("getitem without input"))?;
    let elems: Vec<SliceInfoElem> = axes
        .iter()
        .map(|w| match *w {
            Window::Range { first, last, step } if last < first && step > 0 => {
                SliceInfoElem::Slice { start: 0, end: Some(0), step: 1 }
            }
            Window::Range { first, last, step } if step > 0 => {
                SliceInfoElem::Slice { start: first as isize, end: Some(last as isize + 1), step: step as isize }
            }
            Window::Range { first, last, step } => {
                SliceInfoElem::Slice { start: last as isize, end: Some(first as isize + 1), step: step as isize }
            }
            Window::Index { at } => SliceInfoElem::Index(at as isize),
            Window::NewAxis {} => SliceInfoElem::NewAxis,
        })
        .collect();
    with_dtype!(dtype, T => {
        let b = block_of::<T>(v)?;
        // A window that is the whole block (a slice of whole blocks, as a
        // gathered axis's runs are) is the block itself: shared, not copied.
        let whole = axes.len() == b.shape().len() && axes.iter().zip(b.shape()).all(|(w, &n)| w.is_whole(n));
        if whole {
            return Ok(v.clone());
        }
        Ok(match b {
            Block::Const { value, .. } => {
                let a = ArrayD::from_elem(IxDyn(b.shape()), *value);
                let shape = a.slice(elems.as_slice()).shape().to_vec();
                Block::Const { value: *value, shape }
            }
            Block::Dense(a) => Block::Dense(a.slice(elems.as_slice()).to_owned()),
        }
        .into_value())
    })
}

pub(crate) static GETITEM: NamedFn = NamedFn::new("blockwork.array.getitem", getitem).params::<GetitemParams>();

impl<T: Element> Array<T> {
    /// Basic indexing with ndarray's `s![]`: `x.slice(s![2..10;3, -1, NewAxis])`.
    /// Missing trailing axes are taken whole. Out-of-range integer indices
    /// are errors; slices are clipped like NumPy's.
    pub fn slice(&self, info: impl AsRef<[SliceInfoElem]>) -> Result<Array<T>> {
        let info = info.as_ref();
        let consumed = info.iter().filter(|e| !matches!(e, SliceInfoElem::NewAxis)).count();
        if consumed > self.ndim() {
            return Err(ArrayError::Index(format!(
                "too many indices: {consumed} for an array of {} dimensions",
                self.ndim()
            )));
        }
        let mut elems: Vec<SliceInfoElem> = info.to_vec();
        elems.extend((consumed..self.ndim()).map(|_| SliceInfoElem::Slice { start: 0, end: None, step: 1 }));

        // Per element of `elems`: what it does to the input and the output.
        let mut sels: Vec<Option<AxisSel>> = Vec::with_capacity(elems.len());
        let mut out_chunks: Vec<Vec<usize>> = Vec::new();
        let mut ax = 0;
        for e in &elems {
            match *e {
                SliceInfoElem::NewAxis => {
                    sels.push(None);
                    out_chunks.push(vec![1]);
                }
                SliceInfoElem::Index(i) => {
                    let n = self.shape[ax] as isize;
                    let j = if i < 0 { i + n } else { i };
                    if j < 0 || j >= n {
                        return Err(ArrayError::Index(format!(
                            "index {i} is out of bounds for axis {ax} with size {n}"
                        )));
                    }
                    let pieces = cut(j as i64, 1, 1, self.chunks.axis(ax));
                    sels.push(Some(AxisSel::Index(pieces[0].0, pieces[0].1)));
                    ax += 1;
                }
                SliceInfoElem::Slice { start, end, step } => {
                    let (first, st, len) = resolve(start, end, step, self.shape[ax])?;
                    let pieces = cut(first, st, len, self.chunks.axis(ax));
                    out_chunks.push(if len == 0 {
                        vec![0]
                    } else {
                        pieces.iter().map(|&(_, a, b, s)| ((b - a) / s + 1) as usize).collect()
                    });
                    sels.push(Some(AxisSel::Kept(pieces)));
                    ax += 1;
                }
            }
        }
        let chunks = Chunks(out_chunks);
        let shape = chunks.shape();
        blockwork_graph::register(&GETITEM);
        let namer = Namer::new("getitem").input(&self.layer).with(|t| {
            for e in &elems {
                match *e {
                    SliceInfoElem::Slice { start, end, step } => {
                        t.add(&0u8).add(&(start as i64)).add(&end.map(|x| x as i64)).add(&(step as i64));
                    }
                    SliceInfoElem::Index(i) => {
                        t.add(&1u8).add(&(i as i64));
                    }
                    SliceInfoElem::NewAxis => {
                        t.add(&2u8);
                    }
                }
            }
        });
        let layer = new_layer("getitem", namer, &chunks, vec![Arc::clone(&self.layer)], |idx| {
            let mut src = Vec::with_capacity(self.ndim());
            let mut axes = Vec::with_capacity(sels.len());
            let mut out_ax = 0;
            for sel in &sels {
                match sel {
                    None => {
                        axes.push(Window::NewAxis {});
                        out_ax += 1;
                    }
                    Some(AxisSel::Index(b, i)) => {
                        src.push(*b);
                        axes.push(Window::Index { at: *i });
                    }
                    Some(AxisSel::Kept(pieces)) => {
                        let (b, first, last, step) = pieces[idx[out_ax] as usize];
                        src.push(b);
                        axes.push(Window::Range { first, last, step });
                        out_ax += 1;
                    }
                }
            }
            // A whole block is an alias of it, which readers see through
            // (`crate::rows`) and the optimizer inlines.
            let shape = self.chunks.block_shape(&src);
            if axes.len() == shape.len() && axes.iter().zip(&shape).all(|(w, &n)| w.is_whole(n)) {
                return Task::new(Op::named(&builtins::IDENTITY, Value::Unit), vec![r(self.key(&src))]);
            }
            Task::new(Op::named(&GETITEM, GetitemParams { dtype: T::DTYPE, axes }.to_value()), vec![r(self.key(&src))])
        });
        Ok(Array::from_parts(shape, chunks, layer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_follow_block_boundaries() {
        // 0..10 in blocks [4, 4, 2]; every second element from 1.
        assert_eq!(cut(1, 2, 5, &[4, 4, 2]), vec![(0, 1, 3, 2), (1, 1, 3, 2), (2, 1, 1, 2)]);
        // Reversed: 9, 6, 3, 0.
        assert_eq!(cut(9, -3, 4, &[4, 4, 2]), vec![(2, 1, 1, -3), (1, 2, 2, -3), (0, 3, 0, -3)]);
        assert_eq!(resolve(-3, None, 1, 10).unwrap(), (7, 1, 3));
        assert_eq!(resolve(0, None, -1, 5).unwrap(), (4, -1, 5));
        assert_eq!(resolve(1, Some(8), -3, 10).unwrap(), (7, -3, 3));
        assert_eq!(resolve(1, Some(9), -3, 10).unwrap(), (8, -3, 3));
        assert_eq!(resolve(5, Some(2), 1, 10).unwrap().2, 0);
    }
}
