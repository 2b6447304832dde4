//! Joining arrays: concatenate along an axis, stack along a new one.
//!
//! Blocks are reused, not copied: a block of the result is a block of one
//! input (an alias task, inlined away by the optimizer), or for `stack`
//! the same block with a length-1 axis added. Inputs chunked differently
//! along the other axes are first cut into common chunks.

use std::sync::Arc;

use blockwork_graph::{builtins, kernel_params, r, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};

use crate::array::{new_layer, Array, Operand};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::dtype::{with_dtype, DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;
use crate::ops::rechunk::{common_chunks, rechunk_operand};

fn norm_axis(axis: isize, ndim: usize) -> Result<usize> {
    let a = if axis < 0 { axis + ndim as isize } else { axis };
    if a < 0 || a >= ndim as isize {
        return Err(ArrayError::Axis(format!("axis {axis} is out of bounds for {ndim} dimensions")));
    }
    Ok(a as usize)
}

/// Cuts every input into common chunks along every axis but `skip`.
fn unify(ops: &[Operand], skip: Option<usize>) -> Result<Vec<Operand>> {
    let nd = ops[0].ndim();
    let mut target: Vec<Vec<usize>> = Vec::with_capacity(nd);
    for ax in 0..nd {
        let spans: Vec<&[usize]> = ops.iter().map(|o| o.chunks.axis(ax)).collect();
        target.push(common_chunks(&spans));
    }
    ops.iter()
        .map(|o| {
            let t = Chunks(
                (0..nd)
                    .map(|ax| if Some(ax) == skip { o.chunks.axis(ax).to_vec() } else { target[ax].clone() })
                    .collect(),
            );
            rechunk_operand(o, &t)
        })
        .collect()
}

/// Joins arrays end to end along `axis`; the other axes must match.
pub fn concatenate<T: Element>(arrays: &[&Array<T>], axis: isize) -> Result<Array<T>> {
    let first = arrays.first().ok_or_else(|| ArrayError::Argument("concatenate needs at least one array".into()))?;
    let ax = norm_axis(axis, first.ndim())?;
    for a in arrays {
        let ok = a.ndim() == first.ndim()
            && a.shape.iter().zip(&first.shape).enumerate().all(|(i, (x, y))| i == ax || x == y);
        if !ok {
            return Err(ArrayError::Shape(format!(
                "concatenate along axis {ax}: shapes {:?} and {:?} differ elsewhere",
                first.shape, a.shape
            )));
        }
    }
    let ops = unify(&arrays.iter().map(|a| a.operand()).collect::<Vec<_>>(), Some(ax))?;
    let mut axis_chunks = Vec::new();
    let mut owner = Vec::new();
    for (i, o) in ops.iter().enumerate() {
        for (j, &c) in o.chunks.axis(ax).iter().enumerate() {
            if c > 0 {
                axis_chunks.push(c);
                owner.push((i, j as u32));
            }
        }
    }
    if axis_chunks.is_empty() {
        axis_chunks.push(0);
        owner.push((0, 0));
    }
    let mut chunks = ops[0].chunks.axes().to_vec();
    chunks[ax] = axis_chunks;
    let chunks = Chunks(chunks);
    let mut namer = Namer::new("concatenate").add(&(ax as u64));
    for o in &ops {
        namer = namer.input(&o.layer);
    }
    let deps = ops.iter().map(|o| Arc::clone(&o.layer)).collect();
    let layer = new_layer("concatenate", namer, &chunks, deps, |idx| {
        let (i, j) = owner[idx[ax] as usize];
        let mut src = idx.to_vec();
        src[ax] = j;
        Task::new(Op::named(&builtins::IDENTITY, Value::Unit), vec![r(ops[i].key(&src))])
    });
    Ok(Array::from_parts(chunks.shape(), chunks, layer))
}

kernel_params! {
    /// A block with a new length-one axis at `axis`.
    pub(crate) struct ExpandDimsParams {
        pub(crate) dtype: DType,
        pub(crate) axis: usize,
    }
}

fn expand_dims_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let ExpandDimsParams { dtype, axis: ax } = ExpandDimsParams::from_value(params)?;
    let v = args.first().ok_or_else(|| TaskError::internal("expand_dims without input"))?;
    with_dtype!(dtype, T => {
        Ok(match block_of::<T>(v)? {
            Block::Const { value, shape } => {
                let mut shape = shape.clone();
                shape.insert(ax.min(shape.len()), 1);
                Block::Const { value: *value, shape }
            }
            Block::Dense(a) => Block::Dense(a.clone().insert_axis(ndarray::Axis(ax))),
        }
        .into_value())
    })
}

pub(crate) static EXPAND_DIMS: NamedFn =
    NamedFn::new("blockwork.array.expand_dims", expand_dims_kernel).params::<ExpandDimsParams>();

impl<T: Element> Array<T> {
    /// A new length-1 axis at `axis` (NumPy's `expand_dims`).
    pub fn expand_dims(&self, axis: isize) -> Result<Array<T>> {
        let ax = norm_axis(axis, self.ndim() + 1)?;
        blockwork_graph::register(&EXPAND_DIMS);
        let mut c = self.chunks.axes().to_vec();
        c.insert(ax, vec![1]);
        let chunks = Chunks(c);
        let op = Op::named(&EXPAND_DIMS, ExpandDimsParams { dtype: T::DTYPE, axis: ax }.to_value());
        let namer = Namer::new("expand_dims").input(&self.layer).add(&(ax as u64));
        let layer = new_layer("expand_dims", namer, &chunks, vec![Arc::clone(&self.layer)], |idx| {
            let mut src = idx.to_vec();
            src.remove(ax);
            Task::new(op.clone(), vec![r(self.key(&src))])
        });
        Ok(Array::from_parts(chunks.shape(), chunks, layer))
    }
}

/// Stacks arrays of one shape along a new axis.
pub fn stack<T: Element>(arrays: &[&Array<T>], axis: isize) -> Result<Array<T>> {
    let first = arrays.first().ok_or_else(|| ArrayError::Argument("stack needs at least one array".into()))?;
    if let Some(a) = arrays.iter().find(|a| a.shape != first.shape) {
        return Err(ArrayError::Shape(format!("stack: shapes {:?} and {:?} differ", first.shape, a.shape)));
    }
    let ax = norm_axis(axis, first.ndim() + 1)?;
    let ops = unify(&arrays.iter().map(|a| a.operand()).collect::<Vec<_>>(), None)?;
    let expanded: Vec<Array<T>> =
        ops.into_iter().map(|o| o.into_array::<T>().expand_dims(ax as isize)).collect::<Result<_>>()?;
    concatenate(&expanded.iter().collect::<Vec<_>>(), ax as isize)
}

/// Assembles an array from a grid of arrays, as NumPy's `block` for two
/// levels: each row is joined along the last axis, then the rows along
/// the axis before it.
pub fn block<T: Element>(rows: &[Vec<&Array<T>>]) -> Result<Array<T>> {
    let joined: Vec<Array<T>> = rows.iter().map(|row| concatenate(row, -1)).collect::<Result<_>>()?;
    let nd = joined.first().map_or(0, Array::ndim);
    if nd < 2 {
        return Err(ArrayError::Shape("block of rows needs arrays of at least 2 dimensions".into()));
    }
    concatenate(&joined.iter().collect::<Vec<_>>(), -2)
}
