//! Computing arrays into ndarrays with each block written as soon as it is
//! made.
//!
//! Holding every result block until the run ends and then copying them
//! into the output needs the result's size twice, and an allocator that
//! keeps freed memory for reuse (mimalloc, which the binaries use) keeps
//! the process at that peak. Instead a task per block writes the block
//! into its region of the output and returns nothing, so the engine frees
//! each block as soon as it is written: the output is the only full-size
//! allocation, and blocks in flight the only other memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use blockwork_graph::{r, Key, Op, Task, TaskError, Value};
use blockwork_local::Config;
use ndarray::{ArrayD, ArrayViewMutD, IxDyn, ShapeBuilder};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::dtype::Element;
use crate::error::Result;
use crate::layer::{collect, Layer, Namer};

/// The memory of one output array (C order), written by many tasks, each
/// into its own block's region.
struct Out<T> {
    ptr: *mut T,
    strides: Vec<usize>,
}

// SAFETY: the tasks of one sink write disjoint regions (one block each) of
// memory that outlives the run (`compute_into` returns only after every
// task ran and the graph holding them is dropped); nothing reads it
// meanwhile.
#[allow(unsafe_code)]
unsafe impl<T: Send> Send for Out<T> {}
#[allow(unsafe_code)]
unsafe impl<T: Send> Sync for Out<T> {}

/// A layer of tasks writing the blocks of `a` into the C-ordered memory
/// of `a`'s shape at `ptr`; each returns `Unit`.
fn store_layer<T: Element>(a: &Array<T>, ptr: *mut T) -> Arc<Layer> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // C strides from the shape (ndarray may give any stride to an axis of
    // length 1, and 0 to every axis of an empty array).
    let shape = a.shape().to_vec();
    let strides = (0..shape.len()).map(|ax| shape[ax + 1..].iter().product()).collect();
    let dst = Arc::new(Out { ptr, strides });
    let offsets: Vec<Vec<usize>> = (0..a.ndim()).map(|ax| a.chunks.offsets(ax)).collect();
    let namer = Namer::new("store-result").input(&a.layer).add(&NEXT.fetch_add(1, Ordering::Relaxed));
    new_layer("store-result", namer, &a.chunks, vec![Arc::clone(&a.layer)], |idx| {
        let shape = a.chunks.block_shape(idx);
        let start: usize = idx.iter().enumerate().map(|(ax, &i)| offsets[ax][i as usize] * dst.strides[ax]).sum();
        let dst = Arc::clone(&dst);
        let key = a.key(idx);
        let op = Op::local("store-result", move |args: Vec<Value>| {
            let b = block_of::<T>(&args[0])?;
            if b.shape() != shape.as_slice() {
                return Err(TaskError::new(format!("block {key} has shape {:?}, expected {shape:?}", b.shape())));
            }
            if b.is_empty() {
                return Ok(Value::Unit);
            }
            #[allow(unsafe_code)]
            // SAFETY: `start` and the block's shape with the output's
            // strides address this block's region of the output, inside
            // it and written by no other task (see `Out`).
            let mut view = unsafe {
                ArrayViewMutD::from_shape_ptr(IxDyn(&shape).strides(IxDyn(&dst.strides)), dst.ptr.add(start))
            };
            match b {
                Block::Dense(x) => view.assign(x),
                Block::Const { value, .. } => view.fill(*value),
            }
            Ok(Value::Unit)
        });
        Task::new(op, vec![r(a.key(idx))])
    })
}

/// Computes `arrays` in one graph into `outs` (C order, one per array, of
/// its shape), each block written as soon as it is made.
pub(crate) fn compute_into<T: Element>(arrays: &[&Array<T>], outs: &mut [ArrayD<T>], config: &Config) -> Result<()> {
    if config.scheduler.client().is_some() {
        return gather_into(arrays, outs, config);
    }
    for (a, out) in arrays.iter().zip(outs.iter()) {
        debug_assert!(out.is_standard_layout() && out.shape() == a.shape());
    }
    let ptrs: Vec<*mut T> = outs.iter_mut().map(|o| o.as_mut_ptr()).collect();
    run_stores(arrays, &ptrs, config)
}

/// Computes `arrays` in one graph into new ndarrays (C order), each block
/// written as soon as it is made. Their memory is not written before: a
/// page costs memory only once a block lands in it (zeroing the output
/// first would make all of it resident at the start, and memory the
/// allocator reuses must be zeroed by writing).
pub(crate) fn compute_new<T: Element>(arrays: &[&Array<T>], config: &Config) -> Result<Vec<ArrayD<T>>> {
    if config.scheduler.client().is_some() {
        let mut outs: Vec<ArrayD<T>> =
            arrays.iter().map(|a| ArrayD::from_elem(IxDyn(a.shape()), T::default())).collect();
        gather_into(arrays, &mut outs, config)?;
        return Ok(outs);
    }
    let mut outs: Vec<ArrayD<std::mem::MaybeUninit<T>>> =
        arrays.iter().map(|a| ArrayD::uninit(IxDyn(a.shape()))).collect();
    let ptrs: Vec<*mut T> = outs.iter_mut().map(|o| o.as_mut_ptr().cast::<T>()).collect();
    run_stores(arrays, &ptrs, config)?;
    #[allow(unsafe_code)]
    // SAFETY: the run succeeded, so every store task ran, each writing its
    // block's region; an array's blocks tile its shape (`Chunks` covers
    // every axis exactly), so every element of every output was written.
    Ok(outs.into_iter().map(|o| unsafe { o.assume_init() }).collect())
}

/// Runs the store tasks writing each array's blocks at its pointer.
fn run_stores<T: Element>(arrays: &[&Array<T>], ptrs: &[*mut T], config: &Config) -> Result<()> {
    let layers: Vec<Arc<Layer>> = arrays.iter().zip(ptrs).map(|(a, &ptr)| store_layer(a, ptr)).collect();
    let refs: Vec<&Arc<Layer>> = layers.iter().collect();
    let graph = collect(&refs)?;
    let keys: Vec<Key> = arrays
        .iter()
        .zip(&layers)
        .flat_map(|(a, l)| a.chunks.indices().map(|i| l.key(&i)).collect::<Vec<_>>())
        .collect();
    // The tasks hold the output's address: they must be gone before the
    // outputs can move or be freed — the graph is consumed by the run.
    drop(layers);
    blockwork_local::compute(graph, &keys, config)?;
    Ok(())
}

/// [`compute_into`] on a cluster, which cannot write into this process's
/// memory: every block comes back and is written here.
fn gather_into<T: Element>(arrays: &[&Array<T>], outs: &mut [ArrayD<T>], config: &Config) -> Result<()> {
    let layers: Vec<&Arc<Layer>> = arrays.iter().map(|a| &a.layer).collect();
    let graph = collect(&layers)?;
    let indices: Vec<Vec<Vec<u32>>> = arrays.iter().map(|a| a.chunks.indices().collect()).collect();
    let keys: Vec<Key> = arrays.iter().zip(&indices).flat_map(|(a, idx)| idx.iter().map(|i| a.key(i))).collect();
    let mut values = blockwork_local::compute(graph, &keys, config)?.into_iter();
    for ((a, idx), out) in arrays.iter().zip(indices).zip(outs.iter_mut()) {
        let blocks: Vec<(Vec<u32>, Value)> = idx.into_iter().zip(values.by_ref()).collect();
        a.write_blocks(blocks, out)?;
    }
    Ok(())
}
