//! Rechunking: the same array cut into other blocks.
//!
//! Each output block is assembled from the pieces of the input blocks it
//! overlaps: one task per output block, reading those input blocks. A
//! piece that is a whole input block is passed through without a copy, and
//! constant pieces of one value stay a constant.
//!
//! This plan reads each input block once per output block it overlaps;
//! changing chunks along every axis at once (rows to columns) makes every
//! output read many inputs. Dask splits such changes into stages that
//! bound the intermediate sizes; that staging is not done here yet.

use std::sync::Arc;

use blockwork_graph::{r, NamedFn, Op, Task, TaskResult, Value};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

use crate::array::{new_layer, Array, Operand};
use crate::block::{block_of, Block};
use crate::chunks::{ChunkSpec, Chunks};
use crate::dtype::{with_dtype, Element};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;
use crate::params::{ints, list, sizes, Params};

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

/// Parameters: [dtype, out shape, per axis: flat (start, stop, dest) triples].
fn assemble(params: &Value, args: Vec<Value>) -> TaskResult {
    let p = Params::of(params)?;
    let dtype = p.dtype(0)?;
    let shape = p.usizes(1)?;
    let nd = shape.len();
    let axes: Vec<Vec<i64>> = (0..nd).map(|ax| p.i64s(2 + ax)).collect::<Result<_, _>>()?;
    with_dtype!(dtype, T => assemble_typed::<T>(&shape, &axes, args))
}

fn assemble_typed<T: Element>(shape: &[usize], axes: &[Vec<i64>], args: Vec<Value>) -> TaskResult {
    let counts: Vec<usize> = axes.iter().map(|a| a.len() / 3).collect();
    let single = counts.iter().all(|&c| c == 1);
    if single {
        let b = block_of::<T>(&args[0])?;
        let whole = axes.iter().zip(b.shape()).all(|(a, &n)| a[0] == 0 && a[1] as usize == n);
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
                start: axes[ax][3 * i] as isize,
                end: Some(axes[ax][3 * i + 1] as isize),
                step: 1,
            })
            .collect();
        let dst: Vec<SliceInfoElem> = combo
            .iter()
            .enumerate()
            .map(|(ax, &i)| {
                let d = axes[ax][3 * i + 2];
                let len = axes[ax][3 * i + 1] - axes[ax][3 * i];
                SliceInfoElem::Slice { start: d as isize, end: Some((d + len) as isize), step: 1 }
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

pub(crate) static ASSEMBLE: NamedFn = NamedFn::new("blockwork.array.rechunk", assemble);

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
        let mut params = vec![Value::Int(x.dtype.code()), sizes(&target.block_shape(idx))];
        for pieces in &per_axis {
            let flat: Vec<i64> = pieces.iter().flat_map(|p| [p.start as i64, p.stop as i64, p.dest as i64]).collect();
            params.push(ints(&flat));
        }
        // Input blocks in row-major order of the piece combinations.
        let mut args = Vec::new();
        let counts: Vec<usize> = per_axis.iter().map(|p| p.len()).collect();
        for combo in crate::chunks::BlockIndices::new(counts) {
            let src: Vec<u32> = combo.iter().enumerate().map(|(ax, &i)| per_axis[ax][i as usize].block).collect();
            args.push(r(x.key(&src)));
        }
        Task::new(Op::named(&ASSEMBLE, list(params)), args)
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

impl<T: Element> Array<T> {
    /// The same array in other blocks.
    pub fn rechunk(&self, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
        let target = Chunks::normalize(&chunks.into(), &self.shape, T::DTYPE.itemsize())?;
        Ok(rechunk_operand(&self.operand(), &target)?.into_array())
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
}
