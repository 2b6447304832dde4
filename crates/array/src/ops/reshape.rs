//! Reshaping: `squeeze`, `broadcast_to`, `reshape`, and selecting along
//! an axis by integer positions (`take`) or a boolean list (`compress`).

use std::sync::Arc;

use blockwork_graph::{kernel_params, r, Arg, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::{ArrayD, Axis, IxDyn};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::dtype::{with_dtype, DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;
use crate::ops::reduce::normalize_axes;

kernel_params! {
    /// A block of a reshaped, broadcast or taken array.
    pub(crate) enum ReshapeParams {
        /// The one input block, its elements in C order, in this shape.
        Reshape { dtype: DType, shape: Vec<usize> },
        /// The one input block broadcast to this shape.
        Broadcast { dtype: DType, shape: Vec<usize> },
        /// Lanes along `axis` picked from the input blocks: per lane, the
        /// argument's number, then the lane's position in it.
        Take { dtype: DType, axis: usize, picks: Vec<i64> },
    }
}

fn reshape_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let p = ReshapeParams::from_value(params)?;
    let (ReshapeParams::Reshape { dtype, .. }
    | ReshapeParams::Broadcast { dtype, .. }
    | ReshapeParams::Take { dtype, .. }) = p;
    with_dtype!(dtype, T => {
        match &p {
            ReshapeParams::Reshape { shape, .. } | ReshapeParams::Broadcast { shape, .. } => {
                let v = args.first().ok_or_else(|| TaskError::internal("reshape without input"))?;
                Ok(match block_of::<T>(v)? {
                    Block::Const { value, .. } => Block::Const { value: *value, shape: shape.clone() },
                    Block::Dense(a) if matches!(p, ReshapeParams::Reshape { .. }) => Block::Dense(
                        a.as_standard_layout().into_owned().into_shape_with_order(IxDyn(shape)).map_err(TaskError::new)?,
                    ),
                    Block::Dense(a) => Block::Dense(
                        a.broadcast(IxDyn(shape)).ok_or_else(|| TaskError::new("block does not broadcast"))?.to_owned(),
                    ),
                }
                .into_value())
            }
            ReshapeParams::Take { axis, picks, .. } => {
                let axis = *axis;
                let blocks: Vec<&Block<T>> = args.iter().map(block_of::<T>).collect::<Result<_, _>>()?;
                let views: Vec<_> = blocks.iter().map(|b| b.view()).collect();
                let lanes: Vec<_> = picks
                    .chunks_exact(2)
                    .map(|c| {
                        let v = views.get(c[0] as usize).ok_or_else(|| TaskError::new("take: bad argument"))?;
                        if c[1] < 0 || c[1] as usize >= v.len_of(Axis(axis)) {
                            return Err(TaskError::new("take: position out of the block"));
                        }
                        Ok(v.index_axis(Axis(axis), c[1] as usize).insert_axis(Axis(axis)))
                    })
                    .collect::<Result<_, TaskError>>()?;
                let out: ArrayD<T> = ndarray::concatenate(Axis(axis), &lanes).map_err(TaskError::new)?;
                Ok(Block::Dense(out).into_value())
            }
        }
    })
}

pub(crate) static RESHAPE: NamedFn = NamedFn::new("blockwork.array.reshape", reshape_kernel).params::<ReshapeParams>();

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl<T: Element> Array<T> {
    /// Length-1 axes removed (all of them, or the ones given).
    pub fn squeeze(&self, axes: Option<&[isize]>) -> Result<Array<T>> {
        let axes = match axes {
            Some(a) => normalize_axes(Some(a), self.ndim())?,
            None => (0..self.ndim()).filter(|&a| self.shape[a] == 1).collect(),
        };
        if let Some(&a) = axes.iter().find(|&&a| self.shape[a] != 1) {
            return Err(ArrayError::Axis(format!("cannot squeeze axis {a} of length {}", self.shape[a])));
        }
        let shape: Vec<usize> = (0..self.ndim()).filter(|a| !axes.contains(a)).map(|a| self.shape[a]).collect();
        self.reshape(&shape)
    }

    /// The array broadcast to a larger shape (NumPy's rules); the new
    /// axes are single blocks.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Array<T>> {
        let b = crate::ops::elementwise::broadcast_shapes(&self.shape, shape);
        if b.as_deref() != Some(shape) {
            return Err(ArrayError::Shape(format!("cannot broadcast shape {:?} to {shape:?}", self.shape)));
        }
        let off = shape.len() - self.ndim();
        let chunks = Chunks(
            (0..shape.len())
                .map(|k| {
                    if k >= off && self.shape[k - off] == shape[k] {
                        self.chunks.axis(k - off).to_vec()
                    } else {
                        vec![shape[k]]
                    }
                })
                .collect(),
        );
        blockwork_graph::register(&RESHAPE);
        let namer = Namer::new("broadcast_to").input(&self.layer).add(shape);
        let layer = new_layer("broadcast_to", namer, &chunks, vec![Arc::clone(&self.layer)], |idx| {
            let src: Vec<u32> =
                (0..self.ndim()).map(|k| if self.shape[k] == shape[k + off] { idx[k + off] } else { 0 }).collect();
            let params = ReshapeParams::Broadcast { dtype: T::DTYPE, shape: chunks.block_shape(idx) }.to_value();
            Task::new(Op::named(&RESHAPE, params), vec![r(self.key(&src))])
        });
        Ok(Array::from_parts(shape.to_vec(), chunks, layer))
    }

    /// The same elements in another shape (C order). Blocks are first cut
    /// along the first axis only, in runs of rows that map to whole rows of
    /// the result, so each block reshapes on its own; large trailing axes
    /// therefore make large blocks.
    pub fn reshape(&self, shape: &[usize]) -> Result<Array<T>> {
        let n: usize = shape.iter().product();
        if n != self.size() {
            return Err(ArrayError::Shape(format!("cannot reshape an array of shape {:?} into {shape:?}", self.shape)));
        }
        if shape == self.shape.as_slice() {
            return Ok(self.clone());
        }
        let inner_in: usize = self.shape.iter().skip(1).product::<usize>().max(1);
        let inner_out: usize = shape.iter().skip(1).product::<usize>().max(1);
        let rows_in = self.shape.first().copied().unwrap_or(1);
        // Input rows per block: a multiple of `unit`, so block edges fall
        // on output rows; near the input's own first-axis chunk size.
        let unit = (inner_out / gcd(inner_in, inner_out)).max(1);
        let want = self.chunks.axes().first().and_then(|c| c.iter().copied().max()).unwrap_or(1).max(1);
        let step = want.div_ceil(unit) * unit;
        let mut in_rows = Vec::new();
        let mut left = rows_in;
        while left > 0 {
            in_rows.push(step.min(left));
            left -= step.min(left);
        }
        if in_rows.is_empty() || self.ndim() == 0 {
            in_rows = vec![rows_in];
        }
        let mut target = vec![in_rows.clone()];
        target.extend(self.shape.iter().skip(1).map(|&s| vec![s]));
        let x = if self.ndim() == 0 {
            self.clone()
        } else {
            crate::ops::rechunk::rechunk_planned(&self.operand(), &Chunks(target), &Default::default())?.into_array()
        };
        let out_rows: Vec<usize> =
            if shape.is_empty() { vec![] } else { in_rows.iter().map(|&r| r * inner_in / inner_out).collect() };
        let mut out_chunks: Vec<Vec<usize>> = Vec::new();
        if !shape.is_empty() {
            out_chunks.push(if shape[0] == 0 { vec![0] } else { out_rows });
            out_chunks.extend(shape.iter().skip(1).map(|&s| vec![s]));
        }
        let chunks = Chunks(out_chunks);
        blockwork_graph::register(&RESHAPE);
        let namer = Namer::new("reshape").input(&x.layer).add(shape);
        let in_nd = x.ndim();
        let layer = new_layer("reshape", namer, &chunks, vec![Arc::clone(&x.layer)], |idx| {
            let mut src = vec![0u32; in_nd];
            if in_nd > 0 && !idx.is_empty() {
                src[0] = idx[0];
            }
            let params = ReshapeParams::Reshape { dtype: T::DTYPE, shape: chunks.block_shape(idx) }.to_value();
            Task::new(Op::named(&RESHAPE, params), vec![r(x.key(&src))])
        });
        Ok(Array::from_parts(shape.to_vec(), chunks, layer))
    }

    /// Elements at `indices` along `axis` (NumPy's `take`; negative
    /// indices count from the end). The result keeps the input's block
    /// length along the axis; each block reads only the input blocks its
    /// indices fall in.
    pub fn take(&self, indices: &[isize], axis: isize) -> Result<Array<T>> {
        let ax = normalize_axes(Some(&[axis]), self.ndim())?[0];
        let n = self.shape[ax] as isize;
        let idx: Vec<usize> = indices
            .iter()
            .map(|&i| {
                let j = if i < 0 { i + n } else { i };
                if j < 0 || j >= n {
                    Err(ArrayError::Index(format!("index {i} is out of bounds for axis {ax} with size {n}")))
                } else {
                    Ok(j as usize)
                }
            })
            .collect::<Result<_>>()?;
        let offsets = self.chunks.offsets(ax);
        let block_len = self.chunks.axis(ax).iter().copied().max().unwrap_or(1).max(1);
        let mut out_axis: Vec<usize> = idx.chunks(block_len).map(<[usize]>::len).collect();
        if out_axis.is_empty() {
            out_axis.push(0);
        }
        let mut c = self.chunks.axes().to_vec();
        c[ax] = out_axis;
        let chunks = Chunks(c);
        blockwork_graph::register(&RESHAPE);
        let namer = Namer::new("take").input(&self.layer).add(&(ax as u64)).add(&idx);
        let layer = new_layer("take", namer, &chunks, vec![Arc::clone(&self.layer)], |bidx| {
            let k = bidx[ax] as usize;
            let mine = &idx[(k * block_len).min(idx.len())..((k + 1) * block_len).min(idx.len())];
            let mut blocks: Vec<u32> = Vec::new();
            let mut picks = Vec::with_capacity(2 * mine.len());
            for &i in mine {
                let b = (offsets.partition_point(|&o| o <= i) - 1) as u32;
                let arg = match blocks.iter().position(|&x| x == b) {
                    Some(p) => p,
                    None => {
                        blocks.push(b);
                        blocks.len() - 1
                    }
                };
                picks.extend_from_slice(&[arg as i64, (i - offsets[b as usize]) as i64]);
            }
            let args: Vec<Arg<Key>> = blocks
                .iter()
                .map(|&b| {
                    let mut src = bidx.to_vec();
                    src[ax] = b;
                    r(self.key(&src))
                })
                .collect();
            if args.is_empty() {
                // An empty selection: an empty block of the right shape.
                let empty = Block::Const { value: T::default(), shape: chunks.block_shape(bidx) }.into_value();
                return Task::new(Op::named(&blockwork_graph::builtins::CONSTANT, empty), vec![]);
            }
            let params = ReshapeParams::Take { dtype: T::DTYPE, axis: ax, picks }.to_value();
            Task::new(Op::named(&RESHAPE, params), args)
        });
        Ok(Array::from_parts(chunks.shape(), chunks, layer))
    }

    /// Elements along `axis` where `condition` is true (NumPy's
    /// `compress`; the condition is known, so the result's shape is too).
    pub fn compress(&self, condition: &[bool], axis: isize) -> Result<Array<T>> {
        let ax = normalize_axes(Some(&[axis]), self.ndim())?[0];
        if condition.len() != self.shape[ax] {
            return Err(ArrayError::Shape(format!(
                "a condition of length {} for axis {ax} of length {}",
                condition.len(),
                self.shape[ax]
            )));
        }
        let idx: Vec<isize> = condition.iter().enumerate().filter(|(_, &c)| c).map(|(i, _)| i as isize).collect();
        self.take(&idx, ax as isize)
    }
}
