//! Ghost cells: `overlap` extends every block with `depth` cells of its
//! neighbours along each axis, and `map_overlap` runs a function on the
//! extended blocks and trims the ghost cells off its result, for stencils
//! and filters that need values across block edges.
//!
//! At the edges of the array the ghost cells come from the boundary rule:
//! `Reflect` mirrors the array including the edge element (dask's
//! `"reflect"`, NumPy's `pad(mode="symmetric")`), `Periodic` wraps around,
//! `Constant(v)` fills with `v`, and `None` adds nothing there (edge blocks
//! are smaller).
//!
//! A ghost-extended block is gathered by one task from the blocks its index
//! ranges touch (at most 3 per axis when the depth is below the block size).

use std::sync::Arc;

use blockwork_graph::{kernel_params, r, Arg, KernelParams, Key, NamedFn, Op, Task, TaskResult, Value};
use ndarray::{ArrayD, ArrayViewD, IxDyn, SliceInfoElem};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::{BlockIndices, Chunks};
use crate::dtype::{with_dtype, DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;
use crate::ops::map::BlockInfo;
use crate::ops::slice::{GetitemParams, Window};

/// What ghost cells hold at the edges of the array.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Boundary {
    /// The array mirrored, edge element included.
    Reflect,
    /// The other end of the array.
    Periodic,
    /// A constant.
    Constant(f64),
    /// Nothing: edge blocks get no ghost cells on their outer side.
    None,
}

/// Per output position along one axis: the source block (or -1 for the
/// constant) and the index inside it.
fn axis_sources(chunks: &[usize], start: i64, stop: i64, boundary: Boundary) -> Vec<(i64, i64)> {
    let n: i64 = chunks.iter().sum::<usize>() as i64;
    let mut offsets = vec![0i64];
    for &c in chunks {
        offsets.push(offsets.last().copied().unwrap_or(0) + c as i64);
    }
    (start..stop)
        .map(|g| {
            let pos = if (0..n).contains(&g) {
                Some(g)
            } else {
                match boundary {
                    Boundary::Reflect => Some(if g < 0 { -g - 1 } else { 2 * n - g - 1 }.clamp(0, n - 1)),
                    Boundary::Periodic => Some(g.rem_euclid(n)),
                    Boundary::Constant(_) | Boundary::None => None,
                }
            };
            match pos {
                Some(p) => {
                    let b = offsets.partition_point(|&o| o <= p) - 1;
                    (b as i64, p - offsets[b])
                }
                None => (-1, 0),
            }
        })
        .collect()
}

kernel_params! {
    /// A block extended with ghost cells, gathered from the blocks it
    /// touches (the task's arguments, in row-major order of their slots).
    pub(crate) struct OverlapParams {
        pub(crate) dtype: DType,
        /// What positions outside the array hold (a constant boundary).
        pub(crate) fill: f64,
        /// Per axis, per position of the extended block: the slot of its
        /// source block along that axis (−1: the fill), then its index
        /// in that block.
        pub(crate) sources: Vec<Vec<i64>>,
        /// Per axis, the number of source slots.
        pub(crate) slots: Vec<usize>,
    }
}

fn gather(params: &Value, args: Vec<Value>) -> TaskResult {
    let OverlapParams { dtype, fill, sources: axes, slots } = OverlapParams::from_value(params)?;
    let nd = axes.len();
    with_dtype!(dtype, T => {
        let blocks: Vec<&Block<T>> = args.iter().map(block_of::<T>).collect::<Result<_, _>>()?;
        let views: Vec<_> = blocks.iter().map(|b| b.view()).collect();
        let shape: Vec<usize> = axes.iter().map(|a| a.len() / 2).collect();
        let fill = T::from_f64(fill);
        let mut strides = vec![1usize; nd];
        for ax in (0..nd.saturating_sub(1)).rev() {
            strides[ax] = strides[ax + 1] * slots[ax + 1];
        }
        let out = ArrayD::from_shape_fn(IxDyn(&shape), |i| {
            let mut arg = 0;
            let mut local = Vec::with_capacity(nd);
            for ax in 0..nd {
                let (slot, at) = (axes[ax][2 * i[ax]], axes[ax][2 * i[ax] + 1]);
                if slot < 0 {
                    return fill;
                }
                arg += slot as usize * strides[ax];
                local.push(at as usize);
            }
            views[arg][IxDyn(&local)]
        });
        Ok(Block::Dense(out).into_value())
    })
}

pub(crate) static GATHER: NamedFn = NamedFn::new("blockwork.array.overlap", gather).params::<OverlapParams>();

impl<T: Element> Array<T> {
    /// Every block extended by `depth[ax]` neighbouring cells on both sides
    /// of each axis (see the module doc for the `boundary` rule).
    pub fn overlap(&self, depth: &[usize], boundary: Boundary) -> Result<Array<T>> {
        let nd = self.ndim();
        if depth.len() != nd {
            return Err(ArrayError::Argument(format!("{} depths for an array of {nd} dimensions", depth.len())));
        }
        for (ax, &d) in depth.iter().enumerate() {
            let smallest = self.chunks.axis(ax).iter().copied().min().unwrap_or(0);
            if d > smallest {
                return Err(ArrayError::Chunks(format!(
                    "depth {d} on axis {ax} is larger than its smallest block ({smallest}); rechunk first"
                )));
            }
        }
        blockwork_graph::register(&GATHER);
        let offsets: Vec<Vec<usize>> = (0..nd).map(|ax| self.chunks.offsets(ax)).collect();
        let numblocks = self.numblocks();
        // Output block lengths: each block grows by depth on each side,
        // except, with no boundary, at the array's edges.
        let grown = |ax: usize, b: usize| -> (i64, i64) {
            let (lo, hi) = (offsets[ax][b] as i64, offsets[ax][b + 1] as i64);
            let d = depth[ax] as i64;
            let none = boundary == Boundary::None;
            let start = if none && b == 0 { lo } else { lo - d };
            let stop = if none && b + 1 == numblocks[ax] { hi } else { hi + d };
            (start, stop)
        };
        let chunks = Chunks(
            (0..nd)
                .map(|ax| {
                    (0..numblocks[ax])
                        .map(|b| {
                            let (s, e) = grown(ax, b);
                            (e - s) as usize
                        })
                        .collect()
                })
                .collect(),
        );
        let fill = match boundary {
            Boundary::Constant(v) => v,
            _ => 0.0,
        };
        let namer = Namer::new("overlap").input(&self.layer).add(depth).add(&format!("{boundary:?}"));
        let layer = new_layer("overlap", namer, &chunks, vec![Arc::clone(&self.layer)], |idx| {
            let mut per_axis_pairs = Vec::with_capacity(nd);
            let mut per_axis_blocks: Vec<Vec<i64>> = Vec::with_capacity(nd);
            for (ax, &i) in idx.iter().enumerate() {
                let (s, e) = grown(ax, i as usize);
                let src = axis_sources(self.chunks.axis(ax), s, e, boundary);
                let mut uniq: Vec<i64> = src.iter().map(|&(b, _)| b).filter(|&b| b >= 0).collect();
                uniq.sort_unstable();
                uniq.dedup();
                let flat: Vec<i64> = src
                    .iter()
                    .flat_map(|&(b, i)| {
                        let slot = if b < 0 { -1 } else { uniq.iter().position(|&u| u == b).unwrap_or(0) as i64 };
                        [slot, i]
                    })
                    .collect();
                per_axis_pairs.push(flat);
                per_axis_blocks.push(uniq);
            }
            let counts: Vec<usize> = per_axis_blocks.iter().map(|u| u.len().max(1)).collect();
            let args: Vec<Arg<Key>> = BlockIndices::new(counts.clone())
                .map(|slot| {
                    let src: Vec<u32> = slot
                        .iter()
                        .enumerate()
                        .map(|(ax, &s)| *per_axis_blocks[ax].get(s as usize).unwrap_or(&0) as u32)
                        .collect();
                    r(self.key(&src))
                })
                .collect();
            let params = OverlapParams { dtype: T::DTYPE, fill, sources: per_axis_pairs, slots: counts };
            Task::new(Op::named(&GATHER, params.to_value()), args)
        });
        Ok(Array::from_parts(chunks.shape(), chunks, layer))
    }

    /// Runs `f` on every block extended with ghost cells, then trims the
    /// ghost cells off `f`'s result, which must have the extended block's
    /// shape. The result has this array's chunks. The [`BlockInfo`] `f`
    /// gets describes the extended block (its offset counts from the start
    /// of the extended array).
    pub fn map_overlap<U: Element>(
        &self,
        name: &str,
        depth: &[usize],
        boundary: Boundary,
        f: impl Fn(ArrayViewD<'_, T>, &BlockInfo) -> ArrayD<U> + Send + Sync + 'static,
    ) -> Result<Array<U>> {
        let ext = self.overlap(depth, boundary)?;
        let numblocks = self.numblocks();
        let depth = depth.to_vec();
        let edge = boundary == Boundary::None;
        let trimmed = ext.map_blocks_to(name, &self.chunks, &self.shape.clone(), move |b, info| {
            let out = f(b, info);
            let elems: Vec<SliceInfoElem> = (0..out.ndim())
                .map(|ax| {
                    let lo = if edge && info.index[ax] == 0 { 0 } else { depth[ax] };
                    let hi = if edge && info.index[ax] + 1 == numblocks[ax] { 0 } else { depth[ax] };
                    let n = out.shape()[ax];
                    SliceInfoElem::Slice {
                        start: lo.min(n) as isize,
                        end: Some(n.saturating_sub(hi).max(lo.min(n)) as isize),
                        step: 1,
                    }
                })
                .collect();
            out.slice(elems.as_slice()).to_owned()
        })?;
        Ok(trimmed)
    }

    /// [`Array::map_overlap`] with a named function, so that its tasks can
    /// run in another process (a cluster's workers). `func` is called as
    /// [`Array::map_blocks_named`] calls it, on each block extended with
    /// ghost cells (the [`BlockInfo`] describes the extended block), and
    /// must return a block of the extended block's shape; the ghost cells
    /// are then trimmed off by a task of their own.
    pub fn map_overlap_named<U: Element>(
        &self,
        name: &str,
        depth: &[usize],
        boundary: Boundary,
        func: &'static NamedFn,
        params: Value,
    ) -> Result<Array<U>> {
        let ext = self.overlap(depth, boundary)?;
        let mapped: Array<U> = ext.map_blocks_named(name, &ext.chunks, &ext.shape, func, params)?;
        let numblocks = self.numblocks();
        let edge = boundary == Boundary::None;
        let namer = Namer::new("trim-overlap").input(&mapped.layer);
        let layer = new_layer("trim-overlap", namer, &self.chunks, vec![Arc::clone(&mapped.layer)], |idx| {
            // Per axis, the extended block without its ghost cells.
            let axes: Vec<Window> = mapped
                .chunks
                .block_shape(idx)
                .iter()
                .enumerate()
                .map(|(ax, &n)| {
                    let lo = if edge && idx[ax] == 0 { 0 } else { depth[ax] };
                    let hi = if edge && idx[ax] as usize + 1 == numblocks[ax] { 0 } else { depth[ax] };
                    let (lo, end) = (lo.min(n), n.saturating_sub(hi).max(lo.min(n)));
                    Window::Range { first: lo as i64, last: end as i64 - 1, step: 1 }
                })
                .collect();
            let params = GetitemParams { dtype: U::DTYPE, axes }.to_value();
            Task::new(Op::named(&crate::ops::slice::GETITEM, params), vec![r(mapped.key(idx))])
        });
        Ok(Array::from_parts(self.shape.clone(), self.chunks.clone(), layer))
    }
}
