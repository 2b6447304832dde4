//! The blocks of an array made from a NumPy array (`from_array`), as tasks
//! that also run on a cluster.
//!
//! Each block task is the named function `blockwork.python.numpy_block`
//! whose parameter is its rectangle of the NumPy array ([`NumpyRect`]): in
//! this process the task copies the rectangle out of NumPy's memory when it
//! runs; sent to a worker, the rectangle is copied once into the message,
//! as an array block, and the task there returns that block.

use std::sync::Arc;

use blockwork_array::{Block, DType};
use blockwork_graph::{codec, Buffer, CodecError};
use blockwork_graph::{Data, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::SliceInfoElem;

use crate::buffer::NumpySource;
use blockwork_array::dyn_numeric_type as numeric_type;

/// One block's rectangle of a NumPy array.
pub struct NumpyRect {
    source: Arc<NumpySource>,
    rect: Vec<SliceInfoElem>,
    dtype: DType,
    elements: usize,
}

impl std::fmt::Debug for NumpyRect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NumpyRect({:?})", self.rect)
    }
}

impl Data for NumpyRect {
    fn nbytes(&self) -> usize {
        self.elements * self.dtype.itemsize()
    }

    fn type_name(&self) -> &'static str {
        RECT
    }
}

const RECT: &str = "blockwork.python.numpy_rect";

impl NumpyRect {
    fn block(&self) -> Value {
        numeric_type!(self.dtype, T => Block::Dense(self.source.copy_block::<T>(&self.rect)).into_value(),
            bool => Block::Dense(self.source.copy_block::<u8>(&self.rect).mapv(|x| x != 0)).into_value())
    }
}

/// The task of one block: `rect` of `source`, read as `dtype`.
pub fn block_task(
    source: Arc<NumpySource>,
    rect: Vec<SliceInfoElem>,
    dtype: DType,
    shape: &[usize],
) -> Task<blockwork_graph::Key> {
    let elements = shape.iter().product();
    let param = Value::object(NumpyRect { source, rect, dtype, elements });
    Task::new(Op::named(&NUMPY_BLOCK, param), vec![])
}

/// The task function: the rectangle copied here, or the block it arrived as
/// (its parameter, one object).
pub static NUMPY_BLOCK: NamedFn = NamedFn::new("blockwork.python.numpy_block", numpy_block).takes("NumpyRect");

fn numpy_block(params: &Value, _args: Vec<Value>) -> TaskResult {
    match params.downcast_ref::<NumpyRect>() {
        Some(r) => Ok(r.block()),
        None if matches!(params, Value::Object(_)) => Ok(params.clone()),
        None => Err(TaskError::internal("a NumPy block task without its block")),
    }
}

/// Copies the rectangle and encodes it as the array block it becomes
/// (the block's codec name first, then the block codec's metadata).
pub(crate) fn encode(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let r = (d as &dyn std::any::Any).downcast_ref::<NumpyRect>()?;
    let block = r.block();
    let name = block.type_name();
    let (meta, buffers) = match &block {
        Value::Object(o) => (codec(name)?.encode)(o.as_ref())?,
        _ => return None,
    };
    let mut out = Vec::with_capacity(1 + name.len() + meta.len());
    out.push(u8::try_from(name.len()).ok()?);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&meta);
    Some((out, buffers))
}

/// The array block a rectangle was encoded as.
pub(crate) fn decode(meta: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    let bad = || CodecError::new("malformed NumPy block");
    let (&len, rest) = meta.split_first().ok_or_else(bad)?;
    let name = rest.get(..len as usize).and_then(|n| std::str::from_utf8(n).ok()).ok_or_else(bad)?;
    let block = codec(name).ok_or_else(|| CodecError::new(format!("no codec for {name:?}")))?;
    (block.decode)(&rest[len as usize..], buffers)
}

/// Registers the codec (every process of a Python cluster) and, in a
/// worker, the task function.
pub fn register(worker: bool) {
    blockwork_graph::register_codec(RECT, encode, decode);
    if worker {
        blockwork_graph::register(&NUMPY_BLOCK);
    }
}
