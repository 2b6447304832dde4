//! [`Array`]: the lazy chunked array.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use blockwork_graph::{builtins, r, Graph, Key, Op, Task, TaskSpec, Value};
use blockwork_local::Config;
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

use crate::block::{block_of, Block};
use crate::chunks::{ChunkSpec, Chunks};
use crate::dtype::{DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::{collect, count_tasks, Layer, Namer};
use crate::ops::fused::Expr;

/// A lazy N-d array of `T`, cut into blocks.
///
/// Metadata (shape, chunks, dtype) is known at once; the blocks are the
/// results of tasks in a graph that runs only on [`Array::compute`].
/// Cloning is cheap (the graph is shared).
pub struct Array<T> {
    pub(crate) shape: Vec<usize>,
    pub(crate) chunks: Chunks,
    pub(crate) layer: Arc<Layer>,
    /// For arrays made by fusable elementwise operations: how each block
    /// is computed from other arrays' blocks, so later operations can fuse
    /// with it instead of reading its materialized blocks.
    pub(crate) expr: Option<Arc<Expr>>,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            shape: self.shape.clone(),
            chunks: self.chunks.clone(),
            layer: Arc::clone(&self.layer),
            expr: self.expr.clone(),
            _t: PhantomData,
        }
    }
}

/// An array's description without its element type: what the operations
/// that mix types (where, comparisons, contractions, [`blockwise_named`](crate::blockwise_named))
/// work on. [`Array::as_operand`] makes one.
#[derive(Clone)]
pub struct Operand {
    pub(crate) shape: Vec<usize>,
    pub(crate) chunks: Chunks,
    pub(crate) layer: Arc<Layer>,
    pub(crate) dtype: DType,
    pub(crate) expr: Option<Arc<Expr>>,
}

impl Operand {
    pub(crate) fn key(&self, idx: &[u32]) -> Key {
        self.layer.key(idx)
    }

    pub(crate) fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub(crate) fn into_array<T: Element>(self) -> Array<T> {
        debug_assert_eq!(self.dtype, T::DTYPE);
        Array { shape: self.shape, chunks: self.chunks, layer: self.layer, expr: self.expr, _t: PhantomData }
    }
}

/// Makes a new layer with one task per block of `chunks`.
pub(crate) fn new_layer(
    prefix: &str,
    namer: Namer,
    chunks: &Chunks,
    deps: Vec<Arc<Layer>>,
    mut task: impl FnMut(&[u32]) -> TaskSpec,
) -> Arc<Layer> {
    let name: Arc<str> = format!("{prefix}-{}", namer.token()).into();
    let tasks = chunks.indices().map(|idx| (Key::with_shared_name(&name, &idx), task(&idx))).collect();
    Arc::new(Layer::new(name, tasks, deps))
}

impl<T: Element> Array<T> {
    pub(crate) fn from_parts(shape: Vec<usize>, chunks: Chunks, layer: Arc<Layer>) -> Self {
        debug_assert_eq!(chunks.shape(), shape);
        Array { shape, chunks, layer, expr: None, _t: PhantomData }
    }

    /// The array without its element type, for operations over operands of
    /// several types.
    pub fn as_operand(&self) -> Operand {
        self.operand()
    }

    pub(crate) fn operand(&self) -> Operand {
        Operand {
            shape: self.shape.clone(),
            chunks: self.chunks.clone(),
            layer: Arc::clone(&self.layer),
            dtype: T::DTYPE,
            expr: self.expr.clone(),
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes the elements take.
    pub fn nbytes(&self) -> usize {
        self.size() * T::DTYPE.itemsize()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        T::DTYPE
    }

    /// Block lengths per axis.
    pub fn chunks(&self) -> &Chunks {
        &self.chunks
    }

    /// The largest block's shape.
    pub fn chunksize(&self) -> Vec<usize> {
        self.chunks.axes().iter().map(|c| c.iter().copied().max().unwrap_or(0)).collect()
    }

    /// Blocks along each axis.
    pub fn numblocks(&self) -> Vec<usize> {
        self.chunks.numblocks()
    }

    /// The name of the operation that makes this array's blocks.
    pub fn name(&self) -> &str {
        self.layer.name()
    }

    /// The key of one block.
    pub fn key(&self, idx: &[u32]) -> Key {
        self.layer.key(idx)
    }

    /// Keys of every block, row-major.
    pub fn keys(&self) -> Vec<Key> {
        self.chunks.indices().map(|i| self.key(&i)).collect()
    }

    /// The graph layer that makes the blocks (with the layers it reads):
    /// what callers that compute several arrays of different types in one
    /// graph collect ([`blockwork_graph::layer::collect`]).
    pub fn layer(&self) -> &Arc<Layer> {
        &self.layer
    }

    /// Number of tasks in the graph behind the array.
    pub fn ntasks(&self) -> usize {
        count_tasks(&self.layer)
    }

    /// The task graph behind the array.
    pub fn graph(&self) -> Result<Graph> {
        Ok(collect(&[&self.layer])?)
    }

    /// Writes a picture of the graph (`.dot`, or `.svg`/`.png` with Graphviz).
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        Ok(blockwork_graph::visualize(&self.graph()?, path)?)
    }

    /// One block as an array of its own, like dask's `x.blocks[i, j]`.
    pub fn block(&self, idx: &[usize]) -> Result<Array<T>> {
        let nb = self.numblocks();
        if idx.len() != nb.len() || idx.iter().zip(&nb).any(|(&i, &n)| i >= n) {
            return Err(ArrayError::Index(format!("block {idx:?} of an array with {nb:?} blocks")));
        }
        let idx32: Vec<u32> = idx.iter().map(|&i| i as u32).collect();
        let shape = self.chunks.block_shape(&idx32);
        let chunks = Chunks(shape.iter().map(|&s| vec![s]).collect());
        let src = self.key(&idx32);
        let namer = Namer::new("blocks").input(&self.layer).add(&idx32);
        let layer = new_layer("blocks", namer, &chunks, vec![Arc::clone(&self.layer)], |_| {
            Task::new(Op::named(&builtins::IDENTITY, Value::Unit), vec![r(src.clone())])
        });
        Ok(Array::from_parts(shape, chunks, layer))
    }

    /// Computes the array on the default scheduler.
    pub fn compute(&self) -> Result<ArrayD<T>> {
        self.compute_with(&Config::default())
    }

    /// Computes the array with a given configuration. Each block is
    /// written into the result as soon as it is made (`sink.rs`), so the
    /// result is the only full-size allocation; a one-block result is the
    /// block itself, without a copy.
    pub fn compute_with(&self, config: &Config) -> Result<ArrayD<T>> {
        if self.chunks.nblocks() == 1 {
            let mut blocks = self.compute_blocks(config)?;
            if let Some((_, v)) = blocks.pop() {
                block_of::<T>(&v).map_err(task_err)?;
                // The result is ours alone now: take it without a copy.
                if let Some(arc) = v.downcast_arc::<Block<T>>() {
                    drop(v);
                    return Ok(match std::sync::Arc::try_unwrap(arc) {
                        Ok(b) => b.into_dense(),
                        Err(shared) => (*shared).clone().into_dense(),
                    });
                }
            }
        }
        let mut outs = crate::sink::compute_new(&[self], config)?;
        Ok(outs.pop().expect("one output per array"))
    }

    /// Assembles block values computed elsewhere (by a cluster's
    /// `Client::compute(graph, &keys)`), given in the order of
    /// [`Array::keys`], into one ndarray.
    pub fn assemble(&self, values: Vec<Value>) -> Result<ArrayD<T>> {
        let idxs: Vec<Vec<u32>> = self.chunks.indices().collect();
        if idxs.len() != values.len() {
            return Err(ArrayError::Argument(format!("{} values for an array of {} blocks", values.len(), idxs.len())));
        }
        let mut out = ArrayD::from_elem(IxDyn(&self.shape), T::default());
        self.write_blocks(idxs.into_iter().zip(values).collect(), &mut out)?;
        Ok(out)
    }

    /// Computes a 0-d array (a reduction over every axis) to its value.
    pub fn compute_scalar(&self) -> Result<T> {
        self.compute_scalar_with(&Config::default())
    }

    /// [`Array::compute_scalar`] with a given configuration.
    pub fn compute_scalar_with(&self, config: &Config) -> Result<T> {
        if self.size() != 1 {
            return Err(ArrayError::Shape(format!(
                "compute_scalar needs one element, the array has shape {:?}",
                self.shape
            )));
        }
        let a = self.compute_with(config)?;
        Ok(a.iter().next().copied().unwrap_or_default())
    }

    /// Computes the array into a preallocated ndarray of the same shape,
    /// block by block (no second full-size copy).
    pub fn store(&self, out: &mut ArrayD<T>) -> Result<()> {
        self.store_with(out, &Config::default())
    }

    /// [`Array::store`] with a given configuration.
    pub fn store_with(&self, out: &mut ArrayD<T>, config: &Config) -> Result<()> {
        if out.shape() != self.shape.as_slice() {
            return Err(ArrayError::Shape(format!(
                "cannot store an array of shape {:?} into one of shape {:?}",
                self.shape,
                out.shape()
            )));
        }
        if out.is_standard_layout() {
            return crate::sink::compute_into(&[self], std::slice::from_mut(out), config);
        }
        let blocks = self.compute_blocks(config)?;
        self.write_blocks(blocks, out)
    }

    /// Computes every block and returns a new array holding them, under
    /// the same keys: later expressions start from the stored blocks. On a
    /// cluster (a default client, or `Scheduler::Client`) the blocks stay
    /// on its workers while the array, or one built on it, lives.
    pub fn persist(&self) -> Result<Array<T>> {
        self.persist_with(&Config::default())
    }

    /// [`Array::persist`] with a given configuration.
    pub fn persist_with(&self, config: &Config) -> Result<Array<T>> {
        if let Some(client) = config.scheduler.client() {
            // On a cluster the blocks stay on its workers: the same tasks
            // under the same keys, pinned there while this array (or one
            // built on it) lives; the cluster's client reuses them.
            let keys: Vec<Key> = self.chunks.indices().map(|i| self.key(&i)).collect();
            let pin = client.persist(collect(&[&self.layer])?, &keys)?;
            let layer = Arc::new(self.layer.pinned_copy(pin));
            return Ok(Array::from_parts(self.shape.clone(), self.chunks.clone(), layer));
        }
        let blocks = self.compute_blocks(config)?;
        let tasks = blocks
            .into_iter()
            .map(|(idx, v)| (self.key(&idx), Task::new(Op::named(&builtins::CONSTANT, v), vec![])))
            .collect();
        let layer = Arc::new(Layer::new(Arc::clone(&self.layer.name), tasks, vec![]));
        Ok(Array::from_parts(self.shape.clone(), self.chunks.clone(), layer))
    }

    fn compute_blocks(&self, config: &Config) -> Result<Vec<(Vec<u32>, Value)>> {
        let graph = collect(&[&self.layer])?;
        let idxs: Vec<Vec<u32>> = self.chunks.indices().collect();
        let keys: Vec<Key> = idxs.iter().map(|i| self.key(i)).collect();
        let vals = blockwork_local::compute(graph, &keys, config)?;
        Ok(idxs.into_iter().zip(vals).collect())
    }

    pub(crate) fn write_blocks(&self, blocks: Vec<(Vec<u32>, Value)>, out: &mut ArrayD<T>) -> Result<()> {
        let offsets: Vec<Vec<usize>> = (0..self.ndim()).map(|ax| self.chunks.offsets(ax)).collect();
        for (idx, v) in blocks {
            let b = block_of::<T>(&v).map_err(task_err)?;
            let expect = self.chunks.block_shape(&idx);
            if b.shape() != expect.as_slice() {
                return Err(ArrayError::Shape(format!(
                    "block {} has shape {:?}, expected {expect:?}",
                    self.key(&idx),
                    b.shape()
                )));
            }
            let info: Vec<SliceInfoElem> = idx
                .iter()
                .enumerate()
                .map(|(ax, &i)| {
                    let s = offsets[ax][i as usize];
                    SliceInfoElem::Slice { start: s as isize, end: Some((s + expect[ax]) as isize), step: 1 }
                })
                .collect();
            let mut dst = out.slice_mut(info.as_slice());
            match b {
                Block::Dense(a) => dst.assign(a),
                Block::Const { value, .. } => dst.fill(*value),
            }
        }
        Ok(())
    }
}

fn task_err(e: blockwork_graph::TaskError) -> ArrayError {
    ArrayError::Argument(e.message)
}

impl<T: Element> fmt::Display for Array<T> {
    /// Like dask's repr: `blockwork.Array<add-…, shape=(15, 15), dtype=float64, chunksize=(5, 5), tasks=27>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tuple = |v: &[usize]| match v.len() {
            1 => format!("({},)", v[0]),
            _ => format!("({})", v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
        };
        write!(
            f,
            "blockwork.Array<{}, shape={}, dtype={}, chunksize={}, blocks={}, tasks={}>",
            blockwork_graph::key_prefix(self.name()),
            tuple(&self.shape),
            T::DTYPE,
            tuple(&self.chunksize()),
            self.chunks.nblocks(),
            self.ntasks()
        )
    }
}

impl<T: Element> Array<T> {
    /// An array whose blocks are made by tasks the caller builds, one per
    /// block of `chunks`: how readers of formats outside this crate (NetCDF,
    /// Zarr) make lazy arrays. The layer is named `prefix-hash(prefix,
    /// token)`, so the same source and chunks give the same keys;
    /// `task(idx)` must produce a [`Block<T>`] of `chunks.block_shape(idx)`.
    pub fn from_block_tasks(
        prefix: &str,
        token: blockwork_graph::Token,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        task: impl FnMut(&[u32]) -> TaskSpec,
    ) -> Result<Array<T>> {
        let chunks = normalize::<T>(chunks, shape)?;
        let namer = crate::layer::Namer::new(prefix).add(&token).add(&chunks.axes().to_vec());
        let layer = new_layer(prefix, namer, &chunks, vec![], task);
        Ok(Array::from_parts(shape.to_vec(), chunks, layer))
    }
}

/// Computes several arrays in one graph, so work they share (a file
/// read, a common input) is done once.
pub fn compute_many<T: Element>(arrays: &[&Array<T>], config: &Config) -> Result<Vec<ArrayD<T>>> {
    crate::sink::compute_new(arrays, config)
}

impl<T: Element> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Normalizes a chunk spec for an array of `T`.
pub(crate) fn normalize<T: Element>(spec: impl Into<ChunkSpec>, shape: &[usize]) -> Result<Chunks> {
    Chunks::normalize(&spec.into(), shape, T::DTYPE.itemsize())
}
