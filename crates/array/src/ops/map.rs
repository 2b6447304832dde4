//! User code on blocks (`map_blocks`) and cumulative sums and products.

use std::sync::Arc;

use blockwork_graph::{kernel_params, r, KernelParams, NamedFn, Op, Param, Task, TaskError, TaskResult, Value};
use ndarray::{ArrayD, ArrayViewD, Axis, Zip};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::{ChunkSpec, Chunks};
use crate::dtype::{with_numeric, DType, Element, Numeric};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;

/// Where a block sits, for `map_blocks` functions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// The block's index in the grid of blocks.
    pub index: Vec<usize>,
    /// The index of its first element in the whole array.
    pub offset: Vec<usize>,
    /// The block's shape.
    pub shape: Vec<usize>,
    /// The whole array's shape.
    pub array_shape: Vec<usize>,
}

impl<T: Element> Array<T> {
    /// Applies `f` to every block; the result has the same chunks. `f`
    /// gets the block and its [`BlockInfo`]; a result of another shape is
    /// an error naming the block. The closure runs in this process only.
    pub fn map_blocks<U: Element>(
        &self,
        name: &str,
        f: impl Fn(ArrayViewD<'_, T>, &BlockInfo) -> ArrayD<U> + Send + Sync + 'static,
    ) -> Result<Array<U>> {
        self.map_blocks_to(name, ChunkSpec::Explicit(self.chunks.axes().to_vec()), &self.shape.clone(), f)
    }

    /// [`Array::map_blocks`] with a result of other chunks (`chunks` for an
    /// array of `shape`, one output block per input block).
    pub fn map_blocks_to<U: Element>(
        &self,
        name: &str,
        chunks: impl Into<ChunkSpec>,
        shape: &[usize],
        f: impl Fn(ArrayViewD<'_, T>, &BlockInfo) -> ArrayD<U> + Send + Sync + 'static,
    ) -> Result<Array<U>> {
        self.try_map_blocks_to(name, chunks, shape, move |b, info| Ok(f(b, info)))
    }

    /// [`Array::map_blocks_to`] with a function that may fail: its error
    /// becomes the task's (callers with their own error types, such as a
    /// Python exception, keep them aside and name them in the message).
    pub fn try_map_blocks_to<U: Element>(
        &self,
        name: &str,
        chunks: impl Into<ChunkSpec>,
        shape: &[usize],
        f: impl Fn(ArrayViewD<'_, T>, &BlockInfo) -> Result<ArrayD<U>, TaskError> + Send + Sync + 'static,
    ) -> Result<Array<U>> {
        let f = Arc::new(f);
        self.map_layer(name, chunks, shape, move |info, want| {
            let f = Arc::clone(&f);
            Op::local(name, move |args: Vec<Value>| {
                let v = args.first().ok_or_else(|| TaskError::new("map_blocks without input"))?;
                let b = block_of::<T>(v)?;
                let res = f(b.view().view(), &info)?;
                if res.shape() != want.as_slice() {
                    return Err(TaskError::new(format!(
                        "the function returned a block of shape {:?}, expected {want:?}",
                        res.shape()
                    )));
                }
                Ok(Block::Dense(res).into_value())
            })
        })
    }

    /// [`Array::try_map_blocks_to`] with a named function, so that its
    /// tasks can run in another process. Each task calls `func` with the
    /// parameters `[params, info, shape]` (the block's [`BlockInfo`] as
    /// [`BlockInfo::to_value`] gives it, and the shape its result must
    /// have) and the input block; `func` returns the output block, of
    /// element type `U`.
    pub fn map_blocks_named<U: Element>(
        &self,
        name: &str,
        chunks: impl Into<ChunkSpec>,
        shape: &[usize],
        func: &'static NamedFn,
        params: Value,
    ) -> Result<Array<U>> {
        self.map_layer(name, chunks, shape, move |info, want| {
            let want = Value::List(want.iter().map(|&n| Value::Int(n as i64)).collect());
            Op::named(func, Value::List([params.clone(), info.to_value(), want].into()))
        })
    }

    /// The layer of one output block per input block, each task the op
    /// `make` builds from the input block's [`BlockInfo`] and the output
    /// block's shape, taking the input block.
    fn map_layer<U: Element>(
        &self,
        name: &str,
        chunks: impl Into<ChunkSpec>,
        shape: &[usize],
        make: impl Fn(BlockInfo, Vec<usize>) -> Op,
    ) -> Result<Array<U>> {
        let out = Chunks::normalize(&chunks.into(), shape, U::DTYPE.itemsize())?;
        // One output block per input block. The output may drop axes or add
        // new ones (Dask's drop_axis/new_axis) as long as those hold a single
        // block: the axes with several blocks match in order.
        let several = |n: Vec<usize>| n.into_iter().filter(|&b| b > 1).collect::<Vec<_>>();
        if several(out.numblocks()) != several(self.numblocks()) {
            return Err(ArrayError::Chunks(format!(
                "map_blocks: output blocks {:?} do not match input blocks {:?} (axes added or dropped must hold one block)",
                out.numblocks(),
                self.numblocks()
            )));
        }
        let in_grid = self.numblocks();
        let out_grid = out.numblocks();
        // The input block of an output block: its indices along the axes
        // with several blocks, in order; 0 elsewhere.
        let input_of = move |idx: &[u32]| -> Vec<u32> {
            let mut picked = idx.iter().zip(&out_grid).filter(|(_, &n)| n > 1).map(|(&i, _)| i);
            in_grid.iter().map(|&n| if n > 1 { picked.next().unwrap_or(0) } else { 0 }).collect()
        };
        let token_op = Op::local(name, |_| Ok(Value::Unit));
        let namer = Namer::new(name).input(&self.layer).add(&token_op).add(&out.axes().to_vec());
        let offsets: Vec<Vec<usize>> = (0..self.ndim()).map(|ax| self.chunks.offsets(ax)).collect();
        let layer = new_layer(name, namer, &out, vec![Arc::clone(&self.layer)], |out_idx| {
            let src = input_of(out_idx);
            let idx = src.as_slice();
            let info = BlockInfo {
                index: idx.iter().map(|&i| i as usize).collect(),
                offset: idx.iter().enumerate().map(|(ax, &i)| offsets[ax][i as usize]).collect(),
                shape: self.chunks.block_shape(idx),
                array_shape: self.shape.clone(),
            };
            Task::new(make(info, out.block_shape(out_idx)), vec![r(self.key(idx))])
        });
        Ok(Array::from_parts(shape.to_vec(), out, layer))
    }
}

impl BlockInfo {
    /// As a task parameter: `[index, offset, shape, array_shape]`, lists of ints.
    pub fn to_value(&self) -> Value {
        let ints = |v: &[usize]| Value::List(v.iter().map(|&n| Value::Int(n as i64)).collect());
        Value::List([ints(&self.index), ints(&self.offset), ints(&self.shape), ints(&self.array_shape)].into())
    }

    /// Back from [`BlockInfo::to_value`].
    pub fn from_value(v: &Value) -> std::result::Result<BlockInfo, TaskError> {
        let ints = |v: &Value| -> Option<Vec<usize>> {
            v.as_list()?.iter().map(|x| if let Value::Int(i) = x { usize::try_from(*i).ok() } else { None }).collect()
        };
        let parse = || match v.as_list()? {
            [a, b, c, d] => {
                Some(BlockInfo { index: ints(a)?, offset: ints(b)?, shape: ints(c)?, array_shape: ints(d)? })
            }
            _ => None,
        };
        parse().ok_or_else(|| TaskError::internal("malformed block location"))
    }
}

/// A block's location as a field of declared parameters.
impl Param for BlockInfo {
    fn to_param(&self) -> Value {
        self.to_value()
    }
    fn from_param(v: &Value) -> Option<Self> {
        BlockInfo::from_value(v).ok()
    }
}

kernel_params! {
    /// A cumulative sum (or product) of a block along `axis`; its
    /// arguments are the block, then the previous block's cumulative
    /// result if there is one.
    pub(crate) struct CumulativeParams {
        pub(crate) dtype: DType,
        pub(crate) axis: usize,
        pub(crate) product: bool,
    }
}

fn cumulative(params: &Value, args: Vec<Value>) -> TaskResult {
    let CumulativeParams { dtype, axis: ax, product: prod } = CumulativeParams::from_value(params)?;
    with_numeric!(dtype, T => cum_typed::<T>(&args, ax, prod), Err(TaskError::new("cumulative op of bool blocks")))
}

fn cum_typed<T: Numeric>(args: &[Value], ax: usize, prod: bool) -> TaskResult {
    let b = block_of::<T>(args.first().ok_or_else(|| TaskError::new("cumulative without input"))?)?;
    let mut a = b.view().into_owned();
    if ax >= a.ndim() {
        return Err(TaskError::new(format!("axis {ax} of a {}-d block", a.ndim())));
    }
    if prod {
        a.accumulate_axis_inplace(Axis(ax), |&prev, cur| *cur = *cur * prev);
    } else {
        a.accumulate_axis_inplace(Axis(ax), |&prev, cur| *cur = *cur + prev);
    }
    if let Some(prev) = args.get(1) {
        let prev = block_of::<T>(prev)?.view();
        let n = prev.len_of(Axis(ax));
        if n > 0 {
            let carry = prev.index_axis(Axis(ax), n - 1).insert_axis(Axis(ax)).to_owned();
            Zip::from(&mut a).and_broadcast(&carry).for_each(|x, &c| *x = if prod { *x * c } else { *x + c });
        }
    }
    Ok(Block::Dense(a).into_value())
}

pub(crate) static CUMULATIVE: NamedFn =
    NamedFn::new("blockwork.array.cumulative", cumulative).params::<CumulativeParams>();

impl<T: Numeric> Array<T> {
    fn cumulative(&self, axis: isize, prod: bool) -> Result<Array<T>> {
        let ax = crate::ops::reduce::normalize_axes(Some(&[axis]), self.ndim())?[0];
        blockwork_graph::register(&CUMULATIVE);
        let op = Op::named(&CUMULATIVE, CumulativeParams { dtype: T::DTYPE, axis: ax, product: prod }.to_value());
        let name = if prod { "cumprod" } else { "cumsum" };
        let namer = Namer::new(name).input(&self.layer).add(&(ax as u64));
        let tname: Arc<str> = format!("{name}-{}", namer.token()).into();
        // Block k along the axis reads block k of the input and the
        // finished cumulative block k - 1: a chain along the axis.
        let layer = new_layer(name, namer, &self.chunks, vec![Arc::clone(&self.layer)], |idx| {
            let mut args = vec![r(self.key(idx))];
            if idx[ax] > 0 {
                let mut prev = idx.to_vec();
                prev[ax] -= 1;
                args.push(r(blockwork_graph::Key::with_shared_name(&tname, &prev)));
            }
            Task::new(op.clone(), args)
        });
        Ok(Array::from_parts(self.shape.clone(), self.chunks.clone(), layer))
    }

    /// Cumulative sum along an axis.
    pub fn cumsum(&self, axis: isize) -> Result<Array<T>> {
        self.cumulative(axis, false)
    }

    /// Cumulative product along an axis.
    pub fn cumprod(&self, axis: isize) -> Result<Array<T>> {
        self.cumulative(axis, true)
    }
}
