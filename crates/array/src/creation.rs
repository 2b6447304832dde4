//! Making arrays: from ndarrays, constants, ranges, identity matrices,
//! functions of the index, and seeded random numbers.

use std::sync::Arc;

use blockwork_graph::{builtins, kernel_params, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Value};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

use crate::array::{new_layer, normalize, Array};
use crate::block::Block;
use crate::chunks::ChunkSpec;
use crate::dtype::{with_dtype, DType, Element, Float, Numeric};
use crate::error::{ArrayError, Result};
use crate::layer::{Layer, Namer};
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

kernel_params! {
    /// A generated block: what fills it, its element type, shape, offset
    /// in the array and number (random streams are per block).
    pub(crate) enum GenerateParams {
        /// Every element is `value`.
        Full { dtype: DType, shape: Vec<usize>, offsets: Vec<usize>, block: u64, value: Value },
        /// `start + step · i` along the one axis.
        Arange { dtype: DType, shape: Vec<usize>, offsets: Vec<usize>, block: u64, start: f64, step: f64 },
        /// Ones on diagonal `k`.
        Eye { dtype: DType, shape: Vec<usize>, offsets: Vec<usize>, block: u64, k: i64 },
        /// Uniform in `[low, high)`; `seed` holds the seed's 64 bits.
        Uniform { dtype: DType, shape: Vec<usize>, offsets: Vec<usize>, block: u64, low: f64, high: f64, seed: i64 },
        /// Normal with this mean and standard deviation.
        Normal { dtype: DType, shape: Vec<usize>, offsets: Vec<usize>, block: u64, mean: f64, std: f64, seed: i64 },
        /// Integers in `[low, high)`.
        Integers { dtype: DType, shape: Vec<usize>, offsets: Vec<usize>, block: u64, low: i64, high: i64, seed: i64 },
        /// The pattern fill ([`crate::pattern`]).
        Pattern { dtype: DType, shape: Vec<usize>, offsets: Vec<usize>, block: u64 },
    }
}

use GenerateParams as G;

impl GenerateParams {
    /// The element type, shape, offsets and number of the block.
    fn block(&self) -> (DType, &[usize], &[usize], u64) {
        match self {
            G::Full { dtype, shape, offsets, block, .. }
            | G::Arange { dtype, shape, offsets, block, .. }
            | G::Eye { dtype, shape, offsets, block, .. }
            | G::Uniform { dtype, shape, offsets, block, .. }
            | G::Normal { dtype, shape, offsets, block, .. }
            | G::Integers { dtype, shape, offsets, block, .. }
            | G::Pattern { dtype, shape, offsets, block } => (*dtype, shape, offsets, *block),
        }
    }

    /// The name of the arrays it makes.
    fn prefix(&self) -> &'static str {
        match self {
            G::Full { .. } => "full",
            G::Arange { .. } => "arange",
            G::Eye { .. } => "eye",
            G::Uniform { .. } => "random",
            G::Normal { .. } => "normal",
            G::Integers { .. } => "integers",
            G::Pattern { .. } => "pattern",
        }
    }

    /// Whether a fused program draws its elements where it needs them
    /// (the block is never made): constants, the counter-based uniform
    /// stream and the pattern, all made at memory speed.
    fn streamed(&self) -> bool {
        matches!(self, G::Full { .. } | G::Uniform { .. } | G::Pattern { .. })
    }

    /// About what making one element of a block costs, in nanoseconds
    /// (one core of the bench machine, fresh memory included; `cargo test
    /// -p blockwork-array --release generator_costs -- --ignored
    /// --nocapture` measures them).
    fn ns_per_element(&self) -> f64 {
        match self {
            G::Full { .. } => 0.0,
            G::Eye { .. } => 0.2,
            G::Pattern { .. } | G::Arange { .. } => 0.5,
            G::Uniform { .. } => 0.7,
            G::Integers { .. } => 2.5,
            G::Normal { .. } => 25.0,
        }
    }
}

/// The cost of a generated block per byte of it, from its parameters
/// (see [`blockwork_graph::Remake`]): a pattern or uniform block read by
/// two or three tasks is made again in each; one read by a row of block
/// products (of integers: float products draw uniform and pattern blocks
/// themselves), or a normal block read twice, is made once and kept.
fn generate_cost(params: &Value) -> f64 {
    GenerateParams::from_value(params)
        .map_or(f64::INFINITY, |p| p.ns_per_element() / p.block().0.itemsize().max(1) as f64)
}

fn generate(params: &Value, _args: Vec<Value>) -> TaskResult {
    let p = GenerateParams::from_value(params)?;
    let (dtype, shape, offsets, _) = p.block();
    with_dtype!(dtype, T => {
        let dense = |data: Vec<T>| ArrayD::from_shape_vec(IxDyn(shape), data).map_err(TaskError::internal);
        let block: Block<T> = match &p {
            G::Full { value, .. } => Block::Const {
                value: T::from_value(value).ok_or_else(|| TaskError::internal("full: bad fill value"))?,
                shape: shape.to_vec(),
            },
            G::Arange { start, step, .. } => {
                let n = shape.first().copied().unwrap_or(1);
                Block::Dense(dense((offsets[0]..offsets[0] + n).map(|i| T::from_f64(start + step * i as f64)).collect())?)
            }
            G::Eye { k, .. } => {
                // Zeros (fresh pages, no pass), then the diagonal that falls in the block.
                let mut data = vec![T::default(); shape.iter().product()];
                let (rows, cols) = (shape[0], shape[1]);
                for i in 0..rows {
                    let j = (offsets[0] + i) as i64 + k - offsets[1] as i64;
                    if (0..cols as i64).contains(&j) {
                        data[i * cols + j as usize] = T::from_f64(1.0);
                    }
                }
                Block::Dense(dense(data)?)
            }
            G::Uniform { .. } => {
                // Counter-based, so a fused expression can draw the same
                // numbers element by element (see `uniform_at`).
                let generated = generated_of::<T>(&p)?;
                let mut data = vec![T::default(); shape.iter().product()];
                generated.fill_rows(0, &mut data);
                Block::Dense(dense(data)?)
            }
            G::Normal { mean, std, seed, block, .. } => {
                let mut rng = Rng::for_block(*seed as u64, *block);
                Block::Dense(dense((0..shape.iter().product()).map(|_| T::from_f64(mean + std * rng.normal())).collect())?)
            }
            G::Integers { low, high, seed, block, .. } => {
                let mut rng = Rng::for_block(*seed as u64, *block);
                let n: usize = shape.iter().product();
                Block::Dense(dense((0..n).map(|_| T::from_f64(rng.integer(*low, *high) as f64)).collect())?)
            }
            G::Pattern { .. } => Block::Dense(dense(pat::block::<T>(shape, offsets))?),
        };
        Ok(block.into_value())
    })
}

/// Whether `op` makes a generated block that fused programs draw element
/// by element ([`GenerateParams::streamed`]): they then take its
/// parameters instead of the block. Other generated blocks are ordinary
/// inputs, remade or kept by their cost.
pub(crate) fn is_streamed_generate_op(op: &Op) -> bool {
    generate_params(op).is_some_and(|p| p.streamed())
}

fn generate_params(op: &Op) -> Option<GenerateParams> {
    match op.kind() {
        blockwork_graph::OpKind::Named { func, params } if std::ptr::eq(*func, &GENERATE) => {
            GenerateParams::from_value(params).ok()
        }
        _ => None,
    }
}

/// Whether `layer` is a generated array whose blocks a matrix product
/// draws a few rows at a time ([`Generated::fill_rows`]): uniform or
/// pattern blocks. A constant block is read as one already (never
/// allocated).
pub(crate) fn is_drawn(layer: &Layer) -> bool {
    layer.tasks.first().is_some_and(|(_, t)| {
        t.args.is_empty() && generate_params(&t.op).is_some_and(|p| matches!(p, G::Uniform { .. } | G::Pattern { .. }))
    })
}

/// The parameters of block `idx` of a generated layer of `grid` blocks
/// per axis: what a reader that draws the block itself is given instead
/// of the block.
pub(crate) fn block_params(layer: &Layer, grid: &[usize], idx: &[u32]) -> Option<Value> {
    match layer.tasks.get(crate::rows::position(idx, grid))?.1.op.kind() {
        blockwork_graph::OpKind::Named { params, .. } => Some(params.clone()),
        _ => None,
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

impl<T: Element> Generated<T> {
    /// The shape of the block, when it has one of its own (not a constant).
    pub(crate) fn shape(&self) -> Option<&[usize]> {
        match self {
            Generated::Const(_) => None,
            Generated::Uniform { shape, .. } | Generated::Pattern { shape, .. } => Some(shape),
        }
    }

    /// Rows `first..` of a 2-d block (or, from 0, the elements of any
    /// block), as many as `out` holds, row-major: the numbers the block
    /// holds.
    pub(crate) fn fill_rows(&self, first: usize, out: &mut [T]) {
        match self {
            Generated::Const(v) => out.fill(*v),
            Generated::Uniform { stream, low, scale, shape } => {
                let mut draws = [0.0f64; 2048];
                let start = first * shape.get(1).copied().unwrap_or(1);
                for (k, piece) in out.chunks_mut(draws.len()).enumerate() {
                    let at = start + k * draws.len();
                    stream.fill_uniform(&mut draws[..piece.len()], at as i64, 1, *low, *scale);
                    piece.iter_mut().zip(&draws).for_each(|(o, &d)| *o = T::from_f64(d));
                }
            }
            Generated::Pattern { origin, weights, shape } => {
                let cols = shape.get(1).copied().unwrap_or(1).max(1);
                let (down, along) = (weights[0], weights.get(1).copied().unwrap_or(0));
                let line = pat::Line::<T>::new(along, cols);
                for (i, row) in out.chunks_mut(cols).enumerate() {
                    line.fill(origin + down * (first + i) as i64, row);
                }
            }
        }
    }
}

/// Interprets the parameters of a generated block (as its task carries them).
pub(crate) fn generated_source<T: Element>(params: &Value) -> Result<Generated<T>, TaskError> {
    generated_of(&GenerateParams::from_value(params)?)
}

fn generated_of<T: Element>(p: &GenerateParams) -> Result<Generated<T>, TaskError> {
    let (dtype, shape, offsets, block) = p.block();
    if dtype != T::DTYPE {
        return Err(TaskError::internal("generated source of another element type"));
    }
    match p {
        G::Full { value, .. } => {
            Ok(Generated::Const(T::from_value(value).ok_or_else(|| TaskError::internal("full: bad fill value"))?))
        }
        G::Uniform { low, high, seed, .. } => Ok(Generated::Uniform {
            stream: Stream::for_block(*seed as u64, block),
            low: *low,
            scale: high - low,
            shape: shape.to_vec(),
        }),
        G::Pattern { .. } => Ok(Generated::Pattern {
            origin: pat::residue(offsets),
            weights: pat::weights(shape.len()),
            shape: shape.to_vec(),
        }),
        other => Err(TaskError::internal(format!("{} blocks are not drawn element by element", other.prefix()))),
    }
}

/// Generated blocks are often cheaper to make again than to keep: the
/// graph optimizer remakes them in each reader or keeps them by their
/// cost and number of readers (`generate_cost`), so `random(..)` feeding
/// three operations is drawn three times instead of held in memory in
/// between, while a block read by every product of a row of blocks is
/// made once. Fused programs never read uniform, pattern or constant
/// blocks, nor float matrix products uniform or pattern ones: they draw
/// the elements from the block's parameters (`Generated`).
pub(crate) static GENERATE: NamedFn =
    NamedFn::remade_by_cost("blockwork.array.generate", generate, generate_cost).params::<GenerateParams>();

/// The fields of a generated block: its element type, shape, offsets and
/// number.
type BlockFields = (DType, Vec<usize>, Vec<usize>, u64);

/// An array of `shape` whose blocks `fill` describes, given their fields.
fn generated<T: Element>(
    fill: impl Fn(BlockFields) -> GenerateParams,
    shape: &[usize],
    chunks: impl Into<ChunkSpec>,
) -> Result<Array<T>> {
    blockwork_graph::register(&GENERATE);
    let chunks = normalize::<T>(chunks, shape)?;
    let whole = fill((T::DTYPE, vec![], vec![], 0));
    let namer = Namer::new("generate").add(shape).add(&whole.to_value()).add(&chunks.axes().to_vec());
    let offsets: Vec<Vec<usize>> = (0..shape.len()).map(|ax| chunks.offsets(ax)).collect();
    let numblocks = chunks.numblocks();
    let layer = new_layer(whole.prefix(), namer, &chunks, vec![], |idx| {
        let boff: Vec<usize> = idx.iter().enumerate().map(|(ax, &i)| offsets[ax][i as usize]).collect();
        let block_no = idx.iter().zip(&numblocks).fold(0u64, |acc, (&i, &n)| acc * n as u64 + u64::from(i));
        Task::new(Op::named(&GENERATE, fill((T::DTYPE, chunks.block_shape(idx), boff, block_no)).to_value()), vec![])
    });
    Ok(Array::from_parts(shape.to_vec(), chunks, layer))
}

/// An array with every element `value`. Its blocks are constants: no
/// memory until a kernel needs the elements.
pub fn full<T: Element>(shape: &[usize], value: T, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    let value = value.to_value();
    generated::<T>(
        |(dtype, shape, offsets, block)| G::Full { dtype, shape, offsets, block, value: value.clone() },
        shape,
        chunks,
    )
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
    generated::<T>(
        |(dtype, shape, offsets, block)| G::Arange { dtype, shape, offsets, block, start, step },
        &[n],
        chunks,
    )
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
    generated::<T>(
        |(dtype, shape, offsets, block)| G::Arange { dtype, shape, offsets, block, start, step },
        &[num],
        chunks,
    )
}

/// An `n × m` matrix with ones on diagonal `k` (0: the main one).
pub fn eye<T: Numeric>(n: usize, m: usize, k: i64, chunks: impl Into<ChunkSpec>) -> Result<Array<T>> {
    generated::<T>(|(dtype, shape, offsets, block)| G::Eye { dtype, shape, offsets, block, k }, &[n, m], chunks)
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
    generated::<T>(|(dtype, shape, offsets, block)| G::Pattern { dtype, shape, offsets, block }, shape, chunks)
}

/// Seeded random arrays. A seed gives the same array on any scheduler and
/// thread count: each block draws from its own stream.
pub mod random {
    use super::*;

    /// Uniform in [0, 1).
    pub fn random(shape: &[usize], chunks: impl Into<ChunkSpec>, seed: u64) -> Result<Array<f64>> {
        draw(Dist::Uniform { low: 0.0, high: 1.0 }, shape, chunks, seed)
    }

    /// A distribution to [`draw`] from.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub enum Dist {
        /// Uniform in [low, high), of a float type.
        Uniform {
            /// The smallest value.
            low: f64,
            /// The bound no value reaches.
            high: f64,
        },
        /// Normal with mean `loc` and standard deviation `scale`, of a float type.
        Normal {
            /// The mean.
            loc: f64,
            /// The standard deviation.
            scale: f64,
        },
        /// Integers in [low, high), of any numeric type.
        Integers {
            /// The smallest value.
            low: i64,
            /// The bound no value reaches.
            high: i64,
        },
    }

    /// An array of `shape` drawn from `dist`, as NumPy's `Generator`
    /// methods of the same names: uniform and normal draws need a float
    /// type, integers need `low < high`.
    pub fn draw<T: Numeric>(dist: Dist, shape: &[usize], chunks: impl Into<ChunkSpec>, seed: u64) -> Result<Array<T>> {
        let seed = seed as i64;
        let float = matches!(T::DTYPE, DType::F64 | DType::F32);
        match dist {
            Dist::Uniform { .. } | Dist::Normal { .. } if !float => Err(ArrayError::Argument(format!(
                "{dist:?} draws floats, not {}; cast the result or use Dist::Integers",
                T::DTYPE.name()
            ))),
            Dist::Integers { low, high } if high <= low => {
                Err(ArrayError::Argument(format!("integers needs low < high, got {low} and {high}")))
            }
            Dist::Uniform { low, high } => generated::<T>(
                |(dtype, shape, offsets, block)| G::Uniform { dtype, shape, offsets, block, low, high, seed },
                shape,
                chunks,
            ),
            Dist::Normal { loc, scale } => generated::<T>(
                |(dtype, shape, offsets, block)| G::Normal {
                    dtype,
                    shape,
                    offsets,
                    block,
                    mean: loc,
                    std: scale,
                    seed,
                },
                shape,
                chunks,
            ),
            Dist::Integers { low, high } => generated::<T>(
                |(dtype, shape, offsets, block)| G::Integers { dtype, shape, offsets, block, low, high, seed },
                shape,
                chunks,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2-d f64 block of `shape` at the origin.
    fn at(shape: &[usize]) -> BlockFields {
        (f64::DTYPE, shape.to_vec(), vec![0; shape.len()], 0)
    }

    fn uniform((dtype, shape, offsets, block): BlockFields) -> GenerateParams {
        G::Uniform { dtype, shape, offsets, block, low: 0.0, high: 1.0, seed: 1 }
    }

    #[test]
    fn generated_blocks_are_remade_or_kept_by_cost() {
        let op = |p: GenerateParams| Op::named(&GENERATE, p.to_value());
        let (dtype, shape, offsets, block) = at(&[100, 100]);
        let full = G::Full { dtype, shape: shape.clone(), offsets: offsets.clone(), block, value: Value::Float(1.0) };
        let pattern = || G::Pattern { dtype, shape: shape.clone(), offsets: offsets.clone(), block };
        let eye = G::Eye { dtype, shape: shape.clone(), offsets: offsets.clone(), block, k: 0 };
        let normal =
            || G::Normal { dtype, shape: shape.clone(), offsets: offsets.clone(), block, mean: 0.0, std: 1.0, seed: 1 };
        assert!(op(full).remade_for(1000));
        assert!(op(pattern()).remade_for(3) && op(eye).remade_for(40));
        assert!(op(pattern()).remade_for(17) && !op(pattern()).remade_for(18));
        assert!(op(uniform(at(&[100, 100]))).remade_for(12) && !op(uniform(at(&[100, 100]))).remade_for(13));
        assert!(op(normal()).remade_for(1) && !op(normal()).remade_for(2));
    }

    /// Seeds differ in all their 64 bits: the parameters keep every bit.
    #[test]
    fn seeds_keep_all_their_bits() {
        let draw = |seed: u64| random::random(&[8], 8, seed).unwrap().compute().unwrap();
        for (a, b) in [(u64::MAX, u64::MAX - 1), (1 << 60, (1 << 60) + 1), (1 << 63, 0)] {
            assert_ne!(draw(a), draw(b), "seeds {a} and {b}");
        }
        assert_eq!(draw(u64::MAX), draw(u64::MAX));
    }

    /// Prints what each generator costs per element here, to keep
    /// `GenerateParams::ns_per_element` honest.
    #[test]
    #[ignore = "a measurement: run with --release --ignored --nocapture"]
    fn generator_costs() {
        let shape = [1000, 1000];
        generate(&uniform(at(&shape)).to_value(), vec![]).unwrap();
        let fills: [fn(BlockFields) -> GenerateParams; 5] = [
            |(dtype, shape, offsets, block)| G::Pattern { dtype, shape, offsets, block },
            |(dtype, shape, offsets, block)| G::Eye { dtype, shape, offsets, block, k: 0 },
            uniform,
            |(dtype, shape, offsets, block)| G::Integers { dtype, shape, offsets, block, low: 0, high: 100, seed: 1 },
            |(dtype, shape, offsets, block)| G::Normal { dtype, shape, offsets, block, mean: 0.0, std: 1.0, seed: 1 },
        ];
        for fill in fills {
            let p = fill(at(&shape));
            let t0 = std::time::Instant::now();
            for _ in 0..10 {
                generate(&p.to_value(), vec![]).unwrap();
            }
            println!("{}: {:.2} ns/element", p.prefix(), t0.elapsed().as_secs_f64() * 1e9 / 1e7);
        }
    }
}
