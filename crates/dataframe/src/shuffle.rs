//! Hash shuffles: every row moved to the output partition its keys hash
//! to, so that equal keys meet in one partition (joins of two big
//! frames, group-bys with many groups). Three kinds of tasks:
//! `split` cuts an input partition into one piece per output partition,
//! `piece` takes one piece out (a task of its own, so that a cluster moves
//! only that piece between workers), and the output partition stacks its
//! pieces, one from each input.
//!
//! The hash is the same in every process and for equal values of any
//! numeric type (integers and dates by their exact integer value, floats
//! with an integral value as that integer), so two frames shuffled apart
//! put equal keys in the same place.

use std::hash::Hasher;
use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{
    kernel_params, r, KernelParams, Key, NamedFn, NoParams, Op, Param, Task, TaskError, TaskResult, Tokenize, Value,
};
use polars::prelude::{ChunkCompareIneq, DataFrame as PlFrame, DataType, IdxCa, IdxSize, PolarsResult, Series};

use crate::error::Result;
use crate::expr::Expr;
use crate::frame::{concat, DataFrame};
use crate::lit::Lit;
use crate::partition::Partition;

fn mix(mut x: u64) -> u64 {
    // splitmix64's finalizer
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

const NULL_HASH: u64 = 0x9e37_79b9_7f4a_7c15;
const NAN_HASH: u64 = 0x6a09_e667_f3bc_c909;

/// The hash of an integral value, whatever type held it.
fn hash_int(v: i128) -> u64 {
    mix(mix(v as u64) ^ ((v >> 64) as u64))
}

/// The hash of a float: an integral float hashes as that integer (so 3,
/// 3u8 and 3.0 agree, and -0.0 as 0), any other by its bits.
fn hash_float(x: f64) -> u64 {
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0; // 2^127
    if x.is_nan() {
        NAN_HASH
    } else if x.fract() == 0.0 && x.abs() < LIMIT {
        hash_int(x as i128)
    } else {
        mix(x.to_bits())
    }
}

/// Folds one key column into the rows' hashes. Integers hash as integers
/// (never through a float, which would merge neighbours above 2^53), and
/// equal values of any numeric type hash alike.
pub(crate) fn hash_into(s: &Series, hashes: &mut [u64]) -> PolarsResult<()> {
    let phys = s.to_physical_repr();
    let mut fold = |i: usize, h: Option<u64>| hashes[i] = mix(hashes[i].rotate_left(23) ^ h.unwrap_or(NULL_HASH));
    let dtype = phys.dtype();
    if dtype.is_signed_integer() {
        let ints = phys.cast(&DataType::Int64)?;
        ints.i64()?.iter().enumerate().for_each(|(i, v)| fold(i, v.map(|v| hash_int(v.into()))));
    } else if dtype.is_unsigned_integer() {
        let ints = phys.cast(&DataType::UInt64)?;
        ints.u64()?.iter().enumerate().for_each(|(i, v)| fold(i, v.map(|v| hash_int(v.into()))));
    } else if dtype.is_float() {
        let floats = phys.cast(&DataType::Float64)?;
        floats.f64()?.iter().enumerate().for_each(|(i, v)| fold(i, v.map(hash_float)));
    } else if dtype == &DataType::Boolean {
        phys.bool()?.iter().enumerate().for_each(|(i, v)| fold(i, v.map(|v| hash_int(v.into()))));
    } else {
        let text = if dtype == &DataType::String { phys.into_owned() } else { phys.cast(&DataType::String)? };
        for (i, v) in text.str()?.iter().enumerate() {
            fold(
                i,
                v.map(|t| {
                    let mut hasher = rustc_hash::FxHasher::default();
                    hasher.write(t.as_bytes());
                    mix(hasher.finish())
                }),
            );
        }
    }
    Ok(())
}

/// The output partition of each row.
pub(crate) fn buckets(df: &PlFrame, keys: &[Expr], n: usize) -> PolarsResult<Vec<usize>> {
    let mut hashes = vec![0u64; df.height()];
    for k in keys {
        hash_into(&k.eval(df)?, &mut hashes)?;
    }
    Ok(hashes.into_iter().map(|h| (h % n as u64) as usize).collect())
}

kernel_params! {
    /// How rows are sent to output partitions.
    pub(crate) enum Partitioner {
        /// By the hash of these keys.
        Hash { keys: Vec<Expr> },
        /// By where a column's value falls among sorted cut points: values
        /// below the first cut to partition 0, …, missing values to the last
        /// (reversed when descending).
        Range { by: Expr, cuts: Vec<Lit>, descending: bool },
    }
}

kernel_params! {
    /// An input partition cut into `npartitions` pieces, as `by` says.
    struct SplitParams {
        by: Partitioner,
        npartitions: usize,
    }
}

impl Partitioner {
    /// The output partition of each row of `df`.
    fn buckets(&self, df: &PlFrame, n: usize) -> PolarsResult<Vec<usize>> {
        match self {
            Partitioner::Hash { keys } => buckets(df, keys, n),
            Partitioner::Range { by, cuts, descending } => {
                let values = by.eval(df)?;
                let phys = values.to_physical_repr().into_owned();
                let mut out = vec![0usize; df.height()];
                for cut in cuts {
                    let cut = cut.series("cut").cast(phys.dtype())?;
                    for (b, above) in out.iter_mut().zip(phys.gt_eq(&cut)?.iter()) {
                        *b += usize::from(above == Some(true));
                    }
                }
                for (b, missing) in out.iter_mut().zip(values.is_null().iter()) {
                    *b = if missing == Some(true) {
                        n - 1
                    } else if *descending {
                        n - 1 - (*b).min(n - 1)
                    } else {
                        (*b).min(n - 1)
                    };
                }
                Ok(out)
            }
        }
    }
}

/// A partition cut into `n` pieces.
fn split(df: &PlFrame, by: &Partitioner, n: usize) -> PolarsResult<Vec<PlFrame>> {
    let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); n];
    for (row, b) in by.buckets(df, n)?.into_iter().enumerate() {
        rows[b].push(row as IdxSize);
    }
    rows.into_iter().map(|idx| df.take(&IdxCa::from_vec("idx".into(), idx))).collect()
}

fn split_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let SplitParams { by, npartitions } = SplitParams::from_value(params)?;
    let df = concat(&inputs)?;
    let pieces = split(&df, &by, npartitions).map_err(|e| TaskError::new(format!("shuffle: {e}")))?;
    Ok(Value::List(pieces.into_iter().map(|p| Partition(p).into_value()).collect::<Vec<_>>().into()))
}

fn piece_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let j = usize::from_param(params).ok_or_else(|| TaskError::internal("shuffle piece: its index is not a usize"))?;
    let [Value::List(pieces)] = inputs.as_slice() else { return Err(TaskError::new("shuffle piece takes one split")) };
    pieces.get(j).cloned().ok_or_else(|| TaskError::internal(format!("shuffle piece {j} of {} pieces", pieces.len())))
}

fn stack_task(_: &Value, inputs: Vec<Value>) -> TaskResult {
    Ok(Partition(concat(&inputs)?).into_value())
}

pub(crate) static SPLIT: NamedFn = NamedFn::new("dataframe.shuffle_split", split_task).params::<SplitParams>();
/// Its parameter: which piece.
pub(crate) static PIECE: NamedFn = NamedFn::new("dataframe.shuffle_piece", piece_task).takes("usize");
pub(crate) static STACK: NamedFn = NamedFn::new("dataframe.stack", stack_task).params::<NoParams>();

impl DataFrame {
    /// The same rows in `npartitions` partitions, rows with equal `keys`
    /// in the same one (dask's `shuffle(on)`); row order within a
    /// partition follows the input partitions' order.
    pub fn shuffle(&self, keys: &[Expr], npartitions: usize) -> Result<DataFrame> {
        keys.iter().try_for_each(|k| self.check_expr(k))?;
        self.partition_by(&Partitioner::Hash { keys: keys.to_vec() }, npartitions)
    }

    /// Rows moved to `npartitions` partitions as `by` says.
    pub(crate) fn partition_by(&self, by: &Partitioner, npartitions: usize) -> Result<DataFrame> {
        let n = npartitions.max(1);
        let params = SplitParams { by: by.clone(), npartitions: n }.to_value();
        let namer = Namer::new("shuffle").input(&self.layer).with(|t| params.tokenize(t));
        let token = namer.token();
        let name: Arc<str> = format!("shuffle-{token}").into();
        let split_name: Arc<str> = format!("shuffle-split-{token}").into();
        let piece_name: Arc<str> = format!("shuffle-piece-{token}").into();
        let mut tasks = Vec::new();
        for (i, k) in self.partitions.iter().enumerate() {
            let split_key = Key::with_shared_name(&split_name, &[i as u32]);
            tasks.push((split_key.clone(), Task::new(Op::named(&SPLIT, params.clone()), vec![r(k.clone())])));
            for j in 0..n {
                let piece = Task::new(Op::named(&PIECE, j.to_param()), vec![r(split_key.clone())]);
                tasks.push((Key::with_shared_name(&piece_name, &[j as u32, i as u32]), piece));
            }
        }
        let stack = Op::named(&STACK, NoParams {}.to_value());
        let partitions: Vec<Key> = (0..n)
            .map(|j| {
                let inputs =
                    (0..self.npartitions()).map(|i| r(Key::with_shared_name(&piece_name, &[j as u32, i as u32])));
                let key = Key::with_shared_name(&name, &[j as u32]);
                tasks.push((key.clone(), Task::new(stack.clone(), inputs.collect())));
                key
            })
            .collect();
        let layer = Layer::new(name, tasks, vec![self.layer.clone()]);
        Ok(DataFrame::from_layer(layer, partitions, self.columns.clone()))
    }
}

/// Frames one after the other (pandas' `concat` of frames with the same
/// columns): the partitions of each, in order.
pub fn concat_frames(frames: &[DataFrame]) -> Result<DataFrame> {
    let Some(first) = frames.first() else {
        return Err(crate::error::DataFrameError::Invalid("concat wants at least one frame".into()));
    };
    for f in &frames[1..] {
        if f.columns != first.columns {
            return Err(crate::error::DataFrameError::Invalid(format!(
                "concat wants the same columns; {:?} and {:?} differ",
                first.columns, f.columns
            )));
        }
    }
    let namer = frames.iter().fold(Namer::new("concat"), |n, f| n.input(&f.layer));
    let name: Arc<str> = format!("concat-{}", namer.token()).into();
    let tasks: Vec<_> = frames
        .iter()
        .flat_map(|f| f.partitions.iter())
        .enumerate()
        .map(|(i, k)| {
            let task = Task::new(Op::named(&blockwork_graph::builtins::IDENTITY, Value::Unit), vec![r(k.clone())]);
            (Key::with_shared_name(&name, &[i as u32]), task)
        })
        .collect();
    let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
    let deps = frames.iter().map(|f| f.layer.clone()).collect();
    Ok(DataFrame::from_layer(Layer::new(name, tasks, deps), partitions, first.columns.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{IntoColumn, NamedFrom};

    fn hashes(s: Series) -> Vec<u64> {
        let mut h = vec![0; s.len()];
        hash_into(&s, &mut h).unwrap();
        h
    }

    #[test]
    fn consecutive_large_integers_hash_apart() {
        for base in [1i64 << 53, 1 << 60, i64::MAX - 5000, i64::MIN] {
            let ids: Vec<i64> = (0..5000).map(|i| base + i).collect();
            let distinct: std::collections::HashSet<u64> = hashes(Series::new("k".into(), ids)).into_iter().collect();
            assert_eq!(distinct.len(), 5000, "ids from {base}");
        }
        let ids: Vec<u64> = (0..5000).map(|i| u64::MAX - i).collect();
        let distinct: std::collections::HashSet<u64> = hashes(Series::new("k".into(), ids)).into_iter().collect();
        assert_eq!(distinct.len(), 5000);
        // A shuffle spreads them: no output partition takes most of them.
        let ids: Vec<i64> = (0..4000).map(|i| (1 << 60) + i).collect();
        let df = PlFrame::new(4000, vec![Series::new("k".into(), ids).into_column()]).unwrap();
        let pieces = split(&df, &Partitioner::Hash { keys: vec![crate::expr::col("k")] }, 4).unwrap();
        assert!(pieces.iter().all(|p| (800..1200).contains(&p.height())), "{:?}", pieces.iter().map(PlFrame::height));
    }

    #[test]
    fn mixed_integer_and_float_keys_hash_by_value() {
        let two63 = 1u64 << 63;
        assert_eq!(
            hashes(Series::new("k".into(), [two63, 3, 0])),
            hashes(Series::new("k".into(), [two63 as f64, 3.0, -0.0]))
        );
        assert_eq!(hashes(Series::new("k".into(), [-7i8, 100])), hashes(Series::new("k".into(), [-7.0f32, 100.0])));
        assert_eq!(hashes(Series::new("k".into(), [1u32, 0])), hashes(Series::new("k".into(), [true, false])));
        let near = hashes(Series::new("k".into(), [2.5f64, 2.0, 3.0, f64::INFINITY, f64::NAN]));
        assert_eq!(near.iter().collect::<std::collections::HashSet<_>>().len(), 5);
        assert_eq!(near[1..3], hashes(Series::new("k".into(), [2i64, 3]))[..]);
        let missing = hashes(Series::new("k".into(), [None, Some(0i64)]));
        assert_ne!(missing[0], missing[1]);
        assert_eq!(missing[0], hashes(Series::new("k".into(), [None::<f64>]))[0]);
    }

    #[test]
    fn equal_values_of_any_numeric_type_hash_alike() {
        let ints = Series::new("k".into(), [1i64, 2, 3, -4]);
        let floats = Series::new("k".into(), [1.0f64, 2.0, 3.0, -4.0]);
        let (mut a, mut b) = (vec![0; 4], vec![0; 4]);
        hash_into(&ints, &mut a).unwrap();
        hash_into(&floats, &mut b).unwrap();
        assert_eq!(a, b);
        let df = PlFrame::new(4, vec![ints.into_column()]).unwrap();
        let pieces = split(&df, &Partitioner::Hash { keys: vec![crate::expr::col("k")] }, 3).unwrap();
        assert_eq!(pieces.iter().map(PlFrame::height).sum::<usize>(), 4);
    }
}
