//! Making arrays: from ndarrays, constants, ranges, identity matrices,
//! functions of the index, and seeded random numbers.

use std::sync::Arc;

use blockwork_graph::{builtins, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

use crate::array::{new_layer, normalize, Array};
use crate::block::Block;
use crate::chunks::{ChunkSpec, Chunks};
use crate::dtype::{with_dtype, Element, Float, Numeric};
use crate::error::{ArrayError, Result};
use crate::layer::Namer;
use crate::params::{list, sizes, Params};
use crate::pattern as pat;
use crate::rng::{Rng, Stream};

/// Cuts an in-memory ndarray into blocks. The blocks travel in the graph
/// as literals; the name is a token of the contents.
pub fn from_ndarray<T: Element>(a: ArrayD<T>, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    let shape = a.shape().to_vec();
    let chunks = normalize::<T>(chunks, &shape)?;
    let namer = Namer::new("array").add(&shape).with(|t| {
        let mut buf = Vec::with_capacity(8192);
        for x in a.iter() {
            x.tokenize_into(&mut buf);
            if buf.len() >= 8184 {
                t.bytes(&buf);
                buf.clear();
            }
        }
        t.bytes(&buf);
    });
    let offsets: Vec<Vec<usize>> = (0..shape.len()).map(|ax| chunks.offsets(ax)).collect();
    let layer = new_layer("array", namer, &chunks, vec![], |idx| {
        let info: Vec<SliceInfoElem> = idx
            .iter()
            .enumerate()
            .map(|(ax, &i)| SliceInfoElem::Slice {
                start: offsets[ax][i as usize] as isize,
                end: Some(offsets[ax][i as usize + 1] as isize),
                step: 1,
            })
            .collect();
        let block = a.slice(info.as_slice()).to_owned();
        Task::new(Op::named(&builtins::CONSTANT, Block::Dense(block).into_value()), vec![])
    });
    Ok(Array::from_parts(shape, chunks, layer))
}

/// What a generated block holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Gen {
    Full = 0,
    Arange = 1,
    Eye = 2,
    Uniform = 3,
    Normal = 4,
    Integers = 5,
    Pattern = 6,
}

impl Gen {
    fn from_code(c: i64) -> Option<Gen> {
        [Gen::Full, Gen::Arange, Gen::Eye, Gen::Uniform, Gen::Normal, Gen::Integers, Gen::Pattern]
            .get(usize::try_from(c).ok()?)
            .copied()
    }

    /// Whether a fused program draws its elements where it needs them
    /// (the block is never made): constants, the counter-based uniform
    /// stream and the pattern, all made at memory speed.
    fn streamed(self) -> bool {
        matches!(self, Gen::Full | Gen::Uniform | Gen::Pattern)
    }

    /// About what making one element of a block costs, in nanoseconds
    /// (one core of the bench machine, fresh memory included; `cargo test
    /// -p blockwork-array --release generator_costs -- --ignored
    /// --nocapture` measures them).
    fn ns_per_element(self) -> f64 {
        match self {
            Gen::Full => 0.0,
            Gen::Eye => 0.2,
            Gen::Pattern | Gen::Arange => 0.5,
            Gen::Uniform => 0.7,
            Gen::Integers => 2.5,
            Gen::Normal => 25.0,
        }
    }
}

/// The cost of a generated block per byte of it, from its parameters
/// (see [`blockwork_graph::Remake`]): a pattern or uniform block read by
/// two or three tasks is made again in each; one read by a row of block
/// products, or a normal block read twice, is made once and kept.
fn generate_cost(params: &Value) -> f64 {
    let cost = || {
        let p = Params::of(params).ok()?;
        let gen = Gen::from_code(p.int(0).ok()?)?;
        Some(gen.ns_per_element() / p.dtype(1).ok()?.itemsize().max(1) as f64)
    };
    cost().unwrap_or(f64::INFINITY)
}

/// Parameters: [gen, dtype, block shape, block offsets, block number, a, b, c].
fn generate(params: &Value, _args: Vec<Value>) -> TaskResult {
    let p = Params::of(params)?;
    let gen = Gen::from_code(p.int(0)?).ok_or_else(|| TaskError::new("unknown generator"))?;
    let dtype = p.dtype(1)?;
    let shape = p.usizes(2)?;
    let offsets = p.usizes(3)?;
    let block_no = p.int(4)? as u64;
    let (a, b, c) = (p.value(5)?, p.value(6)?, p.value(7)?);
    let float = |v: &Value| match v {
        Value::Float(x) => *x,
        Value::Int(i) => *i as f64,
        _ => 0.0,
    };
    with_dtype!(dtype, T => {
        let block: Block<T> = match gen {
            Gen::Full => Block::Const {
                value: T::from_value(a).ok_or_else(|| TaskError::new("full: bad fill value"))?,
                shape,
            },
            Gen::Arange => {
                let (start, step) = (float(a), float(b));
                let n = shape.first().copied().unwrap_or(1);
                let data = (offsets[0]..offsets[0] + n).map(|i| T::from_f64(start + step * i as f64)).collect();
                Block::Dense(ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(TaskError::new)?)
            }
            Gen::Eye => {
                // Zeros (fresh pages, no pass), then the diagonal that falls in the block.
                let k = float(a) as i64;
                let mut data = vec![T::default(); shape.iter().product()];
                let (rows, cols) = (shape[0], shape[1]);
                for i in 0..rows {
                    let j = (offsets[0] + i) as i64 + k - offsets[1] as i64;
                    if (0..cols as i64).contains(&j) {
                        data[i * cols + j as usize] = T::from_f64(1.0);
                    }
                }
                Block::Dense(ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(TaskError::new)?)
            }
            Gen::Uniform => {
                // Counter-based, so a fused expression can draw the same
                // numbers element by element (see `uniform_at`).
                let stream = Stream::for_block(float(c) as u64, block_no);
                let (lo, scale) = (float(a), float(b) - float(a));
                let n = shape.iter().product::<usize>();
                let mut data: Vec<T> = Vec::with_capacity(n);
                let mut draws = [0.0f64; 4096];
                let mut done = 0;
                while done < n {
                    let w = (n - done).min(draws.len());
                    stream.fill_uniform(&mut draws[..w], done as i64, 1, lo, scale);
                    data.extend(draws[..w].iter().map(|&d| T::from_f64(d)));
                    done += w;
                }
                Block::Dense(ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(TaskError::new)?)
            }
            Gen::Normal | Gen::Integers => {
                let mut rng = Rng::for_block(float(c) as u64, block_no);
                let n: usize = shape.iter().product();
                let (lo, hi) = (float(a), float(b));
                let mut data: Vec<T> = Vec::with_capacity(n);
                match gen {
                    Gen::Normal => data.extend((0..n).map(|_| T::from_f64(lo + hi * rng.normal()))),
                    _ => data.extend((0..n).map(|_| T::from_f64(rng.integer(lo as i64, hi as i64) as f64))),
                }
                Block::Dense(ArrayD::from_shape_vec(IxDyn(&shape), data).map_err(TaskError::new)?)
            }
            Gen::Pattern => Block::Dense(
                ArrayD::from_shape_vec(IxDyn(&shape), pat::block::<T>(&shape, &offsets)).map_err(TaskError::new)?,
            ),
        };
        Ok(block.into_value())
    })
}

/// Whether `op` makes a generated block that fused programs draw element
/// by element ([`Gen::streamed`]): they then take its parameters instead
/// of the block. Other generated blocks are ordinary inputs, remade or
/// kept by their cost.
pub(crate) fn is_streamed_generate_op(op: &Op) -> bool {
    match op.kind() {
        blockwork_graph::OpKind::Named { func, params } if std::ptr::eq(*func, &GENERATE) => {
            Params::of(params).ok().and_then(|p| p.int(0).ok()).and_then(Gen::from_code).is_some_and(Gen::streamed)
        }
        _ => false,
    }
}

/// What a fused program needs to draw a generated block's elements
/// without making the block.
pub(crate) enum Generated<T> {
    /// Every element is this.
    Const(T),
    /// Element `i` (row-major) is `low + scale · stream.uniform(i)`.
    Uniform { stream: Stream, low: f64, scale: f64, shape: Vec<usize> },
    /// The pattern fill: element `i` has residue
    /// `origin + Σ weights[ax] · i[ax]` (see [`crate::pattern`]).
    Pattern { origin: i64, weights: &'static [i64], shape: Vec<usize> },
}

/// Interprets the parameters of a generated block (as its task carries them).
pub(crate) fn generated_source<T: Element>(params: &Value) -> Result<Generated<T>, TaskError> {
    let p = Params::of(params)?;
    let gen = Gen::from_code(p.int(0)?).ok_or_else(|| TaskError::new("unknown generator"))?;
    if p.dtype(1)? != T::DTYPE {
        return Err(TaskError::new("generated source of another element type"));
    }
    let float = |v: &Value| match v {
        Value::Float(x) => *x,
        Value::Int(i) => *i as f64,
        _ => 0.0,
    };
    match gen {
        Gen::Full => {
            Ok(Generated::Const(T::from_value(p.value(5)?).ok_or_else(|| TaskError::new("full: bad fill value"))?))
        }
        Gen::Uniform => {
            let (lo, hi) = (float(p.value(5)?), float(p.value(6)?));
            Ok(Generated::Uniform {
                stream: Stream::for_block(float(p.value(7)?) as u64, p.int(4)? as u64),
                low: lo,
                scale: hi - lo,
                shape: p.usizes(2)?,
            })
        }
        Gen::Pattern => {
            let shape = p.usizes(2)?;
            Ok(Generated::Pattern { origin: pat::residue(&p.usizes(3)?), weights: pat::weights(shape.len()), shape })
        }
        other => Err(TaskError::new(format!("{other:?} blocks are not drawn element by element"))),
    }
}

/// Generated blocks are often cheaper to make again than to keep: the
/// graph optimizer remakes them in each reader or keeps them by their
/// cost and number of readers (`generate_cost`), so `random(..)` feeding
/// three operations is drawn three times instead of held in memory in
/// between, while a block read by every product of a row of blocks is
/// made once.
pub(crate) static GENERATE: NamedFn = NamedFn::remade_by_cost("blockwork.array.generate", generate, generate_cost);

fn generated<T: Element>(gen: Gen, shape: &[usize], chunks: impl Into<ChunkSpec>, abc: [Value; 3]) -> Result<Array<T>> {
    blockwork_graph::register(&GENERATE);
    let chunks = normalize::<T>(chunks, shape)?;
    gen_with_chunks(gen, shape, chunks, abc)
}

fn gen_with_chunks<T: Element>(gen: Gen, shape: &[usize], chunks: Chunks, abc: [Value; 3]) -> Result<Array<T>> {
    let namer = Namer::new("generate").add(&(gen as i64)).add(&T::DTYPE.code()).add(shape).with(|t| {
        t.add(&chunks.axes().to_vec());
        abc.iter().for_each(|v| {
            t.add(v);
        })
    });
    let prefix = match gen {
        Gen::Full => "full",
        Gen::Arange => "arange",
        Gen::Eye => "eye",
        Gen::Uniform => "random",
        Gen::Normal => "normal",
        Gen::Integers => "integers",
        Gen::Pattern => "pattern",
    };
    let offsets: Vec<Vec<usize>> = (0..shape.len()).map(|ax| chunks.offsets(ax)).collect();
    let numblocks = chunks.numblocks();
    let layer = new_layer(prefix, namer, &chunks, vec![], |idx| {
        let bshape = chunks.block_shape(idx);
        let boff: Vec<usize> = idx.iter().enumerate().map(|(ax, &i)| offsets[ax][i as usize]).collect();
        let block_no = idx.iter().zip(&numblocks).fold(0u64, |acc, (&i, &n)| acc * n as u64 + u64::from(i));
        let params = list(vec![
            Value::Int(gen as i64),
            Value::Int(T::DTYPE.code()),
            sizes(&bshape),
            sizes(&boff),
            Value::Int(block_no as i64),
            abc[0].clone(),
            abc[1].clone(),
            abc[2].clone(),
        ]);
        Task::new(Op::named(&GENERATE, params), vec![])
    });
    Ok(Array::from_parts(shape.to_vec(), chunks, layer))
}

/// An array with every element `value`. Its blocks are constants: no
/// memory until a kernel needs the elements.
pub fn full<T: Element>(shape: &[usize], value: T, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    generated(Gen::Full, shape, chunks, [value.to_value(), Value::Unit, Value::Unit])
}

/// Ones.
pub fn ones<T: Numeric>(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    full(shape, T::ONE, chunks)
}

/// Zeros.
pub fn zeros<T: Numeric>(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    full(shape, T::ZERO, chunks)
}

/// An array whose contents do not matter (zeros, and free: constant blocks).
pub fn empty<T: Element>(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    full(shape, T::default(), chunks)
}

/// `start, start + step, …` below `stop`, as NumPy's `arange`.
pub fn arange<T: Numeric>(start: f64, stop: f64, step: f64, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    if step == 0.0 || !step.is_finite() {
        return Err(ArrayError::Argument(format!("arange step must be finite and non-zero, got {step}")));
    }
    let n = ((stop - start) / step).ceil().max(0.0) as usize;
    generated(Gen::Arange, &[n], chunks, [Value::Float(start), Value::Float(step), Value::Unit])
}

/// `num` evenly spaced values from `start` to `stop` (included when `endpoint`).
pub fn linspace<T: Float>(
    start: f64,
    stop: f64,
    num: usize,
    endpoint: bool,
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>> {
    let div = if endpoint { num.saturating_sub(1) } else { num };
    let step = if div == 0 { 0.0 } else { (stop - start) / div as f64 };
    generated(Gen::Arange, &[num], chunks, [Value::Float(start), Value::Float(step), Value::Unit])
}

/// An `n × m` matrix with ones on diagonal `k` (0: the main one).
pub fn eye<T: Numeric>(n: usize, m: usize, k: i64, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    generated(Gen::Eye, &[n, m], chunks, [Value::Int(k), Value::Unit, Value::Unit])
}

/// An array whose element at index `i` is `f(i)`. The closure runs in
/// this process only (a local task).
pub fn fromfunction<T: Element>(
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
    f: impl Fn(&[usize]) -> T + Send + Sync + 'static,
) -> Result<Array<T>> {
    let chunks = normalize::<T>(chunks, shape)?;
    let f = Arc::new(f);
    let op_token = Op::local("fromfunction", |_| Ok(Value::Unit));
    let namer = Namer::new("fromfunction").add(shape).add(&op_token).add(&chunks.axes().to_vec());
    let offsets: Vec<Vec<usize>> = (0..shape.len()).map(|ax| chunks.offsets(ax)).collect();
    let layer = new_layer("fromfunction", namer, &chunks, vec![], |idx| {
        let bshape = chunks.block_shape(idx);
        let boff: Vec<usize> = idx.iter().enumerate().map(|(ax, &i)| offsets[ax][i as usize]).collect();
        let f = Arc::clone(&f);
        Task::new(
            Op::local("fromfunction", move |_| {
                let mut full = vec![0usize; boff.len()];
                let a = ArrayD::from_shape_fn(IxDyn(&bshape), |i| {
                    for (ax, v) in full.iter_mut().enumerate() {
                        *v = boff[ax] + i[ax];
                    }
                    f(&full)
                });
                Ok(Block::Dense(a).into_value())
            }),
            vec![],
        )
    });
    Ok(Array::from_parts(shape.to_vec(), chunks, layer))
}

/// The benchmark fill: `x[i, j] = ((7 i + 13 j) mod 101) / 101` (1-d:
/// `(i mod 101) / 101`), which NumPy reproduces exactly.
pub fn pattern<T: Float>(shape: &[usize], chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    if shape.is_empty() || shape.len() > 2 {
        return Err(ArrayError::Shape(format!("the pattern fill is defined for 1-d and 2-d arrays, not {shape:?}")));
    }
    generated(Gen::Pattern, shape, chunks, [Value::Unit, Value::Unit, Value::Unit])
}

/// Seeded random arrays. A seed gives the same array on any scheduler and
/// thread count: each block draws from its own stream.
pub mod random {
    use super::*;

    /// Uniform in [0, 1).
    pub fn random(shape: &[usize], chunks: impl Into<ChunkSpec>, seed: u64) -> Result<Array<f64>> {
        uniform(0.0, 1.0, shape, chunks, seed)
    }

    /// Uniform in [low, high).
    pub fn uniform<T: Float>(
        low: f64,
        high: f64,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        seed: u64,
    ) -> Result<Array<T>> {
        generated(Gen::Uniform, shape, chunks, [Value::Float(low), Value::Float(high), Value::Int(seed as i64)])
    }

    /// Normal with mean `loc` and standard deviation `scale`.
    pub fn normal<T: Float>(
        loc: f64,
        scale: f64,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        seed: u64,
    ) -> Result<Array<T>> {
        generated(Gen::Normal, shape, chunks, [Value::Float(loc), Value::Float(scale), Value::Int(seed as i64)])
    }

    /// Integers in [low, high).
    pub fn integers<T: Numeric>(
        low: i64,
        high: i64,
        shape: &[usize],
        chunks: impl Into<ChunkSpec>,
        seed: u64,
    ) -> Result<Array<T>> {
        if high <= low {
            return Err(ArrayError::Argument(format!("integers needs low < high, got {low} and {high}")));
        }
        generated(Gen::Integers, shape, chunks, [Value::Int(low), Value::Int(high), Value::Int(seed as i64)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(gen: Gen, shape: &[usize], abc: [Value; 3]) -> Value {
        let [a, b, c] = abc;
        list(vec![
            Value::Int(gen as i64),
            Value::Int(f64::DTYPE.code()),
            sizes(shape),
            sizes(&vec![0; shape.len()]),
            Value::Int(0),
            a,
            b,
            c,
        ])
    }

    #[test]
    fn generated_blocks_are_remade_or_kept_by_cost() {
        let op = |gen, abc| Op::named(&GENERATE, params(gen, &[100, 100], abc));
        let unit = || [Value::Unit, Value::Unit, Value::Unit];
        let uniform = || [Value::Float(0.0), Value::Float(1.0), Value::Int(1)];
        assert!(op(Gen::Full, [Value::Float(1.0), Value::Unit, Value::Unit]).remade_for(1000));
        assert!(op(Gen::Pattern, unit()).remade_for(3) && op(Gen::Eye, unit()).remade_for(40));
        assert!(op(Gen::Pattern, unit()).remade_for(17) && !op(Gen::Pattern, unit()).remade_for(18));
        assert!(op(Gen::Uniform, uniform()).remade_for(12) && !op(Gen::Uniform, uniform()).remade_for(13));
        assert!(op(Gen::Normal, uniform()).remade_for(1) && !op(Gen::Normal, uniform()).remade_for(2));
    }

    /// Prints what each generator costs per element here, to keep
    /// `Gen::ns_per_element` honest.
    #[test]
    #[ignore = "a measurement: run with --release --ignored --nocapture"]
    fn generator_costs() {
        let shape = [1000, 1000];
        let warm = params(Gen::Uniform, &shape, [Value::Float(0.0), Value::Float(1.0), Value::Int(1)]);
        generate(&warm, vec![]).unwrap();
        for (gen, abc) in [
            (Gen::Pattern, [Value::Unit, Value::Unit, Value::Unit]),
            (Gen::Eye, [Value::Int(0), Value::Unit, Value::Unit]),
            (Gen::Uniform, [Value::Float(0.0), Value::Float(1.0), Value::Int(1)]),
            (Gen::Integers, [Value::Int(0), Value::Int(100), Value::Int(1)]),
            (Gen::Normal, [Value::Float(0.0), Value::Float(1.0), Value::Int(1)]),
        ] {
            let p = params(gen, &shape, abc);
            let t0 = std::time::Instant::now();
            for _ in 0..10 {
                generate(&p, vec![]).unwrap();
            }
            println!("{gen:?}: {:.2} ns/element", t0.elapsed().as_secs_f64() * 1e9 / 1e7);
        }
    }
}
