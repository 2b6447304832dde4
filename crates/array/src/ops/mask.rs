//! Boolean masks: NumPy's `x[mask]` for a mask of `x`'s shape (the
//! selected elements, in C order, as a 1-d array), and `compress` along an
//! axis by a lazy 1-d condition.
//!
//! How long the result is depends on the mask's values. Dask leaves such
//! chunks unknown (NaN) until `compute_chunk_sizes()`; here the mask's
//! count per block is computed first (one pass over the mask alone, a
//! number per block kept), so the result has its shape and chunks at once
//! and every later operation works on it as on any array. The elements
//! themselves are still computed lazily, block by block.
//!
//! For C order over a many-dimensional array, blocks are first made whole
//! along every axis but the first (about as many bytes as the original
//! blocks), so block order is element order.

use std::sync::Arc;

use blockwork_graph::{kernel_params, r, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use blockwork_local::Config;
use ndarray::{ArrayD, IxDyn, Zip};

use crate::array::{new_layer, Array};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::dtype::{with_dtype, DType, Element};
use crate::error::{ArrayError, Result};
use crate::layer::{collect, Namer};

kernel_params! {
    /// The two stages of a boolean selection.
    pub(crate) enum MaskParams {
        /// (mask block) → its number of trues.
        Count {},
        /// (block, mask block) → the selected elements, 1-d, in C order.
        Select { dtype: DType },
    }
}

fn mask_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let mask =
        |i: usize| args.get(i).ok_or_else(|| TaskError::new("mask kernel without its mask")).and_then(block_of::<bool>);
    match MaskParams::from_value(params)? {
        MaskParams::Count {} => Ok(Value::Int(match mask(0)? {
            Block::Const { value, shape } => {
                if *value {
                    shape.iter().product::<usize>() as i64
                } else {
                    0
                }
            }
            Block::Dense(m) => m.iter().filter(|&&b| b).count() as i64,
        })),
        MaskParams::Select { dtype } => with_dtype!(dtype, T => {
            let x = block_of::<T>(args.first().ok_or_else(|| TaskError::new("mask kernel without its block"))?)?;
            let (x, m) = (x.view(), mask(1)?.view());
            if x.shape() != m.shape() {
                return Err(TaskError::new(format!("a mask block of shape {:?} for a block of shape {:?}", m.shape(), x.shape())));
            }
            let mut out = Vec::new();
            Zip::from(&*x).and(&*m).for_each(|&v, &keep| if keep { out.push(v) });
            Ok(Block::Dense(ArrayD::from_shape_vec(IxDyn(&[out.len()]), out).map_err(TaskError::new)?).into_value())
        }),
    }
}

pub(crate) static MASK: NamedFn = NamedFn::new("blockwork.array.mask", mask_kernel).params::<MaskParams>();

impl<T: Element> Array<T> {
    /// The elements where `mask` is true, in C order (NumPy's `x[mask]`).
    /// The mask's counts per block are computed now, on `config`'s
    /// scheduler, so the result's length is known; its elements are lazy.
    pub fn mask_select_with(&self, mask: &Array<bool>, config: &Config) -> Result<Array<T>> {
        if mask.shape() != self.shape() {
            return Err(ArrayError::Shape(format!(
                "a boolean mask of shape {:?} for an array of shape {:?}",
                mask.shape(),
                self.shape()
            )));
        }
        blockwork_graph::register(&MASK);
        // Whole along every axis but the first, so block order is C order.
        let x = if self.ndim() > 1 {
            let row: usize = self.shape[1..].iter().product::<usize>().max(1);
            let block: usize = self.chunks.axes().iter().map(|c| c.iter().copied().max().unwrap_or(1)).product();
            let rows = (block / row).clamp(1, self.shape[0].max(1));
            let mut axes: Vec<Vec<usize>> = self.shape.iter().map(|&n| vec![n]).collect();
            axes[0] = Chunks::normalize(&rows.into(), &[self.shape[0]], 1)?.axes()[0].clone();
            self.rechunk(axes)?
        } else {
            self.clone()
        };
        let m = mask.rechunk(x.chunks().axes().to_vec())?;
        let base = Namer::new("mask").input(&x.layer).input(&m.layer);
        let op = |stage: MaskParams| Op::named(&MASK, stage.to_value());
        let grid = Chunks(x.chunks().numblocks().iter().map(|&n| vec![1; n]).collect());
        let count_op = op(MaskParams::Count {});
        let counts_layer =
            new_layer("mask-count", Namer::new("count").add(&base.token()), &grid, vec![Arc::clone(&m.layer)], |idx| {
                Task::new(count_op.clone(), vec![r(m.key(idx))])
            });
        let idxs: Vec<Vec<u32>> = grid.indices().collect();
        let keys: Vec<_> = idxs.iter().map(|i| counts_layer.key(i)).collect();
        let counts = blockwork_local::compute(collect(&[&counts_layer])?, &keys, config)?
            .iter()
            .map(|v| {
                if let Value::Int(n) = v {
                    Ok(*n as usize)
                } else {
                    Err(ArrayError::Argument("a mask count that is not a number".into()))
                }
            })
            .collect::<Result<Vec<usize>>>()?;
        // Blocks that select nothing are left out (one empty block if all are).
        let kept: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
        let kept = if kept.is_empty() { vec![0] } else { kept };
        let out = Chunks(vec![kept.iter().map(|&i| counts[i]).collect()]);
        let select_op = op(MaskParams::Select { dtype: T::DTYPE });
        let layer = new_layer(
            "mask-select",
            Namer::new("select").add(&base.token()),
            &out,
            vec![Arc::clone(&x.layer), Arc::clone(&m.layer)],
            |idx| {
                let src = &idxs[kept[idx[0] as usize]];
                Task::new(select_op.clone(), vec![r(x.key(src)), r(m.key(src))])
            },
        );
        Ok(Array::from_parts(out.shape(), out, layer))
    }

    /// [`Array::mask_select_with`] on the default scheduler.
    pub fn mask_select(&self, mask: &Array<bool>) -> Result<Array<T>> {
        self.mask_select_with(mask, &Config::default())
    }

    /// Elements along `axis` where a lazy 1-d `condition` is true: the
    /// condition is computed now (it is one value per index), the
    /// selection is lazy, as [`Array::compress`].
    pub fn compress_by(&self, condition: &Array<bool>, axis: isize) -> Result<Array<T>> {
        if condition.ndim() != 1 {
            return Err(ArrayError::Shape(format!("a condition of {} dimensions; it must be 1-d", condition.ndim())));
        }
        let c = condition.compute()?;
        self.compress(c.as_slice().unwrap_or(&c.iter().copied().collect::<Vec<_>>()), axis)
    }
}
