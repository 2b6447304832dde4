//! Fused elementwise expressions: one pass over memory for a whole
//! chain of arithmetic.
//!
//! `((x + x.T) - m).sum()` written as separate block operations reads and
//! writes a full block per step. Here, arithmetic, math functions and
//! transposes build an [`Expr`]: a small program over the blocks of the
//! arrays they started from ("sources"). Each block of the result is one
//! task that runs the program over the block in rows of at most
//! [`TILE`] elements, in buffers that stay in cache, reading each source
//! with its own strides (a transposed source is a strided gather, a
//! broadcast one a zero stride). A reduction over every axis of an
//! expression folds the rows as they are made, so the expression's blocks
//! never exist in memory at all.
//!
//! Every expression array still has its own layer (its blocks, made by
//! the fused kernel), so it can be computed, persisted or read by any
//! other operation. Comparisons, `where` and casts are not fused; they
//! read materialized blocks. An expression grows up to [`MAX_NODES`]
//! operations; past that, the next operation starts from materialized
//! blocks.

use std::sync::Arc;

use blockwork_graph::{
    code_table, kernel_params, r, Arg, KernelParams, Key, Layout, NamedFn, Op, Param, Task, TaskError, TaskResult,
    Tokenizer, Value,
};
use ndarray::{ArrayD, IxDyn};

use crate::array::{new_layer, Operand};
use crate::block::{block_of, Block};
use crate::chunks::Chunks;
use crate::creation::{block_params, generated_source, Generated};
use crate::dtype::{with_numeric, DType, Element, Float, Numeric};
use crate::error::Result;
use crate::layer::{Layer, Namer};
use crate::ops::elementwise::{BinOp, MathFn};
use crate::ops::reduce::{Moments, Reduction};
use crate::pattern::Line;
use crate::rng::Stream;

/// Most elements a row tile holds.
pub const TILE: usize = 2048;
/// Most operations in one expression.
pub const MAX_NODES: usize = 48;

/// One operation of an expression; operands are earlier node indices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Node {
    Load(u32),
    Scalar(u32),
    Bin(BinOp, u32, u32),
    Neg(u32),
    Abs(u32),
    Math(MathFn, u32),
}

/// A source array of an expression and how its axes map to the
/// expression's: `axis_of[k]` is the source axis read along output axis
/// `k`, or -1 where the source is broadcast.
#[derive(Clone)]
pub(crate) struct Source {
    layer: Arc<Layer>,
    axis_of: Vec<i64>,
    /// For a generated array (`random`, `ones`, …): its grid of blocks.
    /// Its tasks' parameters are passed instead of its blocks, and the
    /// program draws the elements itself; the block never exists.
    generated: Option<Vec<usize>>,
}

/// A fused elementwise program; its result is the last node.
#[derive(Clone)]
pub struct Expr {
    nodes: Vec<Node>,
    scalars: Vec<Value>,
    sources: Vec<Source>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({} nodes, {} sources)", self.nodes.len(), self.sources.len())
    }
}

/// What the program of one task may be combined from.
pub(crate) enum Part {
    Operand(Operand),
    Scalar(Value),
}

impl Expr {
    fn load(op: &Operand, axis_of: Vec<i64>) -> Expr {
        let generated = op
            .layer
            .tasks
            .first()
            .filter(|(_, t)| t.args.is_empty() && crate::creation::is_streamed_generate_op(&t.op))
            .map(|_| op.chunks.numblocks());
        let source = Source { layer: Arc::clone(&op.layer), axis_of, generated };
        Expr { nodes: vec![Node::Load(0)], scalars: vec![], sources: vec![source] }
    }

    /// The layer whose blocks this program reads with axes swapped, if
    /// that is all it does (a 2-d `x.T`), and that layer's grid of blocks
    /// when they are generated.
    pub(crate) fn transposed_source(&self) -> Option<(&Arc<Layer>, Option<&[usize]>)> {
        match (&self.nodes[..], &self.sources[..]) {
            ([Node::Load(0)], [s]) if s.axis_of == [1, 0] => Some((&s.layer, s.generated.as_deref())),
            _ => None,
        }
    }

    /// `op` as an expression over an output of `shape` and `chunks`
    /// (right-aligned broadcasting), or `None` if its chunks do not line
    /// up with the output's.
    fn of_operand(op: &Operand, shape: &[usize], chunks: &Chunks) -> Option<Expr> {
        let (nd, off) = (shape.len(), shape.len() - op.ndim());
        let map: Vec<Option<usize>> =
            (0..nd).map(|k| if k >= off && op.shape[k - off] == shape[k] { Some(k - off) } else { None }).collect();
        for (k, m) in map.iter().enumerate() {
            if let Some(j) = m {
                if op.chunks.axis(*j) != chunks.axis(k) {
                    return None;
                }
            }
        }
        Some(match &op.expr {
            Some(e) => e.remap(&map),
            None => Expr::load(op, map.iter().map(|m| m.map_or(-1, |j| j as i64)).collect()),
        })
    }

    /// The same program seen through an axis map from a new output to
    /// this expression's output.
    fn remap(&self, map: &[Option<usize>]) -> Expr {
        let sources = self
            .sources
            .iter()
            .map(|s| Source {
                layer: Arc::clone(&s.layer),
                axis_of: map.iter().map(|m| m.map_or(-1, |j| s.axis_of[j])).collect(),
                generated: s.generated.clone(),
            })
            .collect();
        Expr { nodes: self.nodes.clone(), scalars: self.scalars.clone(), sources }
    }

    /// Concatenates programs, sharing equal sources; returns the merged
    /// program and the result node of each part.
    fn merge(parts: Vec<Expr>) -> (Expr, Vec<u32>) {
        let mut out = Expr { nodes: vec![], scalars: vec![], sources: vec![] };
        let mut results = Vec::with_capacity(parts.len());
        for p in parts {
            let base = out.nodes.len() as u32;
            let sbase = out.scalars.len() as u32;
            let src_map: Vec<u32> = p
                .sources
                .into_iter()
                .map(|s| {
                    match out.sources.iter().position(|o| Arc::ptr_eq(&o.layer, &s.layer) && o.axis_of == s.axis_of) {
                        Some(i) => i as u32,
                        None => {
                            out.sources.push(s);
                            out.sources.len() as u32 - 1
                        }
                    }
                })
                .collect();
            out.scalars.extend(p.scalars);
            for n in p.nodes {
                out.nodes.push(match n {
                    Node::Load(i) => Node::Load(src_map[i as usize]),
                    Node::Scalar(i) => Node::Scalar(sbase + i),
                    Node::Bin(op, a, b) => Node::Bin(op, base + a, base + b),
                    Node::Neg(a) => Node::Neg(base + a),
                    Node::Abs(a) => Node::Abs(base + a),
                    Node::Math(f, a) => Node::Math(f, base + a),
                });
            }
            results.push(out.nodes.len() as u32 - 1);
        }
        (out, results)
    }

    fn tokenize(&self, t: &mut Tokenizer) {
        t.add(&self.encode_nodes());
        for s in &self.scalars {
            t.add(s);
        }
        for s in &self.sources {
            t.add(&*s.layer.name).add(&s.axis_of);
        }
    }

    fn encode_nodes(&self) -> Vec<i64> {
        let mut v = Vec::with_capacity(self.nodes.len() * 4);
        for n in &self.nodes {
            v.extend_from_slice(&match *n {
                Node::Load(i) => [0, i64::from(i), 0, 0],
                Node::Scalar(i) => [1, i64::from(i), 0, 0],
                Node::Bin(op, a, b) => [2, i64::from(a), i64::from(b), bin_code(op)],
                Node::Neg(a) => [3, i64::from(a), 0, 0],
                Node::Abs(a) => [4, i64::from(a), 0, 0],
                Node::Math(f, a) => [5, i64::from(a), 0, math_code(f)],
            });
        }
        v
    }

    /// The source blocks a task of output block `idx` reads.
    fn args(&self, idx: &[u32]) -> Vec<Arg<Key>> {
        self.sources
            .iter()
            .map(|s| {
                let ndim = s.layer_ndim();
                let mut src = vec![0u32; ndim];
                for (k, &a) in s.axis_of.iter().enumerate() {
                    if a >= 0 {
                        src[a as usize] = idx[k];
                    }
                }
                if let Some(params) = s.generated.as_ref().and_then(|g| block_params(&s.layer, g, &src)) {
                    return Arg::Lit(params);
                }
                r(s.layer.key(&src))
            })
            .collect()
    }

    fn params(&self, dtype: DType, mode: i64, kind: Reduction, block_shape: &[usize]) -> Value {
        FusedParams {
            dtype,
            mode,
            reduction: kind,
            block_shape: block_shape.to_vec(),
            nodes: Program(self.encode_nodes()),
            scalars: self.scalars.clone(),
            axis_maps: self.sources.iter().map(|s| s.axis_of.clone()).collect(),
        }
        .to_value()
    }

    fn deps(&self) -> Vec<Arc<Layer>> {
        self.sources.iter().filter(|s| s.generated.is_none()).map(|s| Arc::clone(&s.layer)).collect()
    }
}

impl Source {
    /// Number of axes of the source's blocks (from its keys).
    fn layer_ndim(&self) -> usize {
        self.layer.tasks.first().map_or(0, |(k, _)| k.index().len())
    }
}

fn bin_code(op: BinOp) -> i64 {
    BINOPS.iter().position(|&o| o == op).unwrap_or(0) as i64
}

fn math_code(f: MathFn) -> i64 {
    MATHS.iter().position(|&o| o == f).unwrap_or(0) as i64
}

code_table! {
    /// The binary ops a fused program computes, in code order.
    const BINOPS: [BinOp] = [Add, Sub, Mul, Div, Rem, Pow, Maximum, Minimum]; layout FUSED_BINOP_CODES;
}

/// A fused program as a parameter: four integers per node (its kind, its
/// operands, and a code in its op's table).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Program(pub(crate) Vec<i64>);

/// How a program is encoded, with the tables its codes index: a change to
/// either changes the fingerprint.
const PROGRAM: Layout = Layout {
    text: "Program: per node (kind, a, b, code); kinds Load Scalar Bin Neg Abs Math",
    nested: &[Some(&FUSED_BINOP_CODES), Some(&MATHFN_CODES)],
};

impl Param for Program {
    const DECLARED: Option<&'static Layout> = Some(&PROGRAM);
    fn to_param(&self) -> Value {
        self.0.to_param()
    }
    fn from_param(v: &Value) -> Option<Self> {
        Vec::<i64>::from_param(v).map(Program)
    }
}

/// Whether a binary op can be fused.
pub(crate) fn fusable(op: BinOp) -> bool {
    BINOPS.contains(&op)
}

use crate::ops::elementwise::{MATHFNS as MATHS, MATHFN_CODES};

/// The program's nodes, each reading only nodes before it, `scalars`
/// constants and `sources` sources.
fn decode_nodes(v: &[i64], scalars: usize, sources: usize) -> Result<Vec<Node>, TaskError> {
    let bad = || TaskError::new("malformed fused program");
    let idx = |x: i64, below: usize| u32::try_from(x).ok().filter(|&i| (i as usize) < below).ok_or_else(bad);
    v.chunks_exact(4)
        .enumerate()
        .map(|(j, c)| {
            Ok(match c[0] {
                0 => Node::Load(idx(c[1], sources)?),
                1 => Node::Scalar(idx(c[1], scalars)?),
                2 => Node::Bin(*BINOPS.get(c[3] as usize).ok_or_else(bad)?, idx(c[1], j)?, idx(c[2], j)?),
                3 => Node::Neg(idx(c[1], j)?),
                4 => Node::Abs(idx(c[1], j)?),
                5 => Node::Math(*MATHS.get(c[3] as usize).ok_or_else(bad)?, idx(c[1], j)?),
                _ => return Err(bad()),
            })
        })
        .collect()
}

/// What a fused node computes, for one element type.
trait Apply: Numeric {
    fn math(self, f: MathFn) -> Result<Self, TaskError>;
}

macro_rules! apply_int {
    ($($t:ty),*) => {$(
        impl Apply for $t {
            fn math(self, f: MathFn) -> Result<Self, TaskError> {
                Err(TaskError::new(format!("{f:?} of integers")))
            }
        }
    )*};
}
apply_int!(i64, i32, u8);

impl Apply for f64 {
    fn math(self, f: MathFn) -> Result<Self, TaskError> {
        Ok(Float::apply(self, f))
    }
}

impl Apply for f32 {
    fn math(self, f: MathFn) -> Result<Self, TaskError> {
        Ok(Float::apply(self, f))
    }
}

enum SourceView<'a, T> {
    Const(T),
    Dense {
        data: &'a [T],
        strides: Vec<isize>,
    },
    /// A generated uniform block, drawn element by element.
    Uniform {
        stream: Stream,
        low: f64,
        scale: f64,
        strides: Vec<isize>,
    },
    /// The pattern fill, copied line by line; `strides` move its residue.
    Pattern {
        origin: i64,
        strides: Vec<isize>,
        line: Line<T>,
    },
}

impl<T> SourceView<'_, T> {
    /// The element strides along the output's axes (none for a constant).
    fn strides(&self) -> &[isize] {
        match self {
            SourceView::Dense { strides, .. }
            | SourceView::Uniform { strides, .. }
            | SourceView::Pattern { strides, .. } => strides,
            SourceView::Const(_) => &[],
        }
    }
}

/// Where rows go: into a block, or into a running reduction.
trait Sink<T> {
    fn row(&mut self, start: usize, values: &[T]);
}

/// Rows arrive in order, so the block is built by appending (no zeroing pass).
struct Fill<T>(Vec<T>);

impl<T: Copy> Sink<T> for Fill<T> {
    fn row(&mut self, start: usize, values: &[T]) {
        debug_assert_eq!(start, self.0.len(), "rows arrive in order");
        self.0.extend_from_slice(values);
    }
}

struct Fold<T, F> {
    acc: T,
    f: F,
}

impl<T: Copy, F: Fn(T, T) -> T + Copy> Sink<T> for Fold<T, F> {
    /// Folds with 8 independent accumulators (every fold here is
    /// associative and commutative), so the loop is not one long chain of
    /// dependent additions.
    fn row(&mut self, _start: usize, values: &[T]) {
        let f = self.f;
        let mut chunks = values.chunks_exact(8);
        if let Some(first) = chunks.next() {
            let mut acc = [first[0], first[1], first[2], first[3], first[4], first[5], first[6], first[7]];
            for c in &mut chunks {
                for k in 0..8 {
                    acc[k] = f(acc[k], c[k]);
                }
            }
            let mut total = self.acc;
            for a in acc {
                total = f(total, a);
            }
            self.acc = total;
        }
        for &v in chunks.remainder() {
            self.acc = f(self.acc, v);
        }
    }
}

/// Streaming (count, mean, M2), merged tile by tile (Chan et al.).
struct Stats {
    skip_nan: bool,
    n: f64,
    mean: f64,
    m2: f64,
}

impl<T: Element> Sink<T> for Stats {
    fn row(&mut self, _start: usize, values: &[T]) {
        let (mut n, mut s) = (0.0, 0.0);
        for v in values {
            let x = v.as_f64();
            if !(self.skip_nan && x.is_nan()) {
                n += 1.0;
                s += x;
            }
        }
        if n == 0.0 {
            return;
        }
        let m = s / n;
        let mut m2 = 0.0;
        for v in values {
            let x = v.as_f64();
            if !(self.skip_nan && x.is_nan()) {
                m2 += (x - m) * (x - m);
            }
        }
        let tot = self.n + n;
        let delta = m - self.mean;
        self.mean += delta * n / tot;
        self.m2 += m2 + delta * delta * self.n * n / tot;
        self.n = tot;
    }
}

/// Runs the program over a block of `shape`, row tile by row tile.
fn run<T: Apply>(
    nodes: &[Node],
    scalars: &[T],
    sources: &[SourceView<'_, T>],
    shape: &[usize],
    sink: &mut impl Sink<T>,
) -> Result<(), TaskError> {
    let nd = shape.len();
    let last = if nd == 0 { 1 } else { shape[nd - 1] };
    let outer: Vec<usize> = if nd == 0 { vec![] } else { shape[..nd - 1].to_vec() };
    let width = last.clamp(1, TILE);
    let mut bufs = vec![vec![T::ZERO; width]; nodes.len()];
    let last_stride = |s: &SourceView<'_, T>| nd.checked_sub(1).and_then(|d| s.strides().get(d)).copied().unwrap_or(0);
    // A scalar is spread over a tile only where something other than a
    // binary operation reads it (those take it as it is), or it is the
    // result.
    let mut spread = vec![false; nodes.len()];
    if let Some(top) = spread.last_mut() {
        *top = true;
    }
    for node in nodes {
        if let Node::Neg(a) | Node::Abs(a) | Node::Math(_, a) = *node {
            spread[a as usize] = true;
        }
    }
    let nrows: usize = outer.iter().product();
    let mut idx = vec![0usize; outer.len()];
    // Loads of contiguous rows are read in place, not copied: `direct[j]`
    // is the source node j reads so.
    let direct: Vec<Option<usize>> = nodes
        .iter()
        .map(|node| match *node {
            Node::Load(i) => match &sources[i as usize] {
                src @ SourceView::Dense { .. } if last_stride(src) == 1 => Some(i as usize),
                _ => None,
            },
            _ => None,
        })
        .collect();
    // Where the row starts in each source.
    let mut bases: Vec<isize> = vec![0; sources.len()];
    for row in 0..nrows {
        for (base, s) in bases.iter_mut().zip(sources) {
            *base = idx.iter().zip(s.strides()).map(|(&i, &st)| i as isize * st).sum();
        }
        let mut c0 = 0;
        while c0 < last {
            let w = width.min(last - c0);
            // The tile of a source read in place.
            let in_place = |src: usize| match &sources[src] {
                SourceView::Dense { data, .. } => {
                    let start = (bases[src] + c0 as isize) as usize;
                    Some(&data[start..start + w])
                }
                _ => None,
            };
            for (j, node) in nodes.iter().enumerate() {
                if direct[j].is_some() {
                    continue;
                }
                let (before, rest) = bufs.split_at_mut(j);
                let out = &mut rest[0][..w];
                let arg =
                    |k: u32| -> &[T] { direct[k as usize].and_then(in_place).unwrap_or(&before[k as usize][..w]) };
                match *node {
                    Node::Load(i) => match &sources[i as usize] {
                        SourceView::Const(v) => out.fill(*v),
                        src @ SourceView::Uniform { stream, low, scale, .. } => {
                            let s = last_stride(src);
                            let base = bases[i as usize] + c0 as isize * s;
                            let mut draws = [0.0f64; TILE];
                            stream.fill_uniform(&mut draws[..w], base as i64, s as i64, *low, *scale);
                            for (o, &d) in out.iter_mut().zip(&draws[..w]) {
                                *o = T::from_f64(d);
                            }
                        }
                        src @ SourceView::Pattern { origin, line, .. } => {
                            let first = *origin + (bases[i as usize] + c0 as isize * last_stride(src)) as i64;
                            line.fill(first, out);
                        }
                        src @ SourceView::Dense { data, .. } => {
                            let s = last_stride(src);
                            let base = bases[i as usize] + c0 as isize * s;
                            if s == 0 {
                                out.fill(data[base as usize]);
                            } else {
                                for (t, o) in out.iter_mut().enumerate() {
                                    *o = data[(base + t as isize * s) as usize];
                                }
                            }
                        }
                    },
                    Node::Scalar(i) => {
                        if spread[j] {
                            out.fill(scalars[i as usize])
                        }
                    }
                    Node::Bin(op, a, b) => {
                        let side = |k: u32| match nodes[k as usize] {
                            Node::Scalar(i) => Side::Scalar(scalars[i as usize]),
                            _ => Side::Tile(arg(k)),
                        };
                        bin(op, side(a), side(b), out)
                    }
                    Node::Neg(a) => out.iter_mut().zip(arg(a)).for_each(|(o, &x)| *o = T::ZERO - x),
                    Node::Abs(a) => out.iter_mut().zip(arg(a)).for_each(|(o, &x)| *o = x.abs()),
                    Node::Math(f, a) => {
                        for (o, &x) in out.iter_mut().zip(arg(a)) {
                            *o = x.math(f)?;
                        }
                    }
                }
            }
            let top = nodes.len() - 1;
            sink.row(row * last + c0, direct[top].and_then(in_place).unwrap_or(&bufs[top][..w]));
            c0 += w;
        }
        for ax in (0..idx.len()).rev() {
            idx[ax] += 1;
            if idx[ax] < outer[ax] {
                break;
            }
            idx[ax] = 0;
        }
    }
    Ok(())
}

/// An operand of a binary operation over a tile: the tile of values, or
/// one scalar (read as it is, not spread over a tile first).
#[derive(Clone, Copy)]
enum Side<'a, T> {
    Tile(&'a [T]),
    Scalar(T),
}

fn bin<T: Numeric>(op: BinOp, x: Side<'_, T>, y: Side<'_, T>, out: &mut [T]) {
    match op {
        BinOp::Add => zip_with(x, y, out, |p, q| p + q),
        BinOp::Sub => zip_with(x, y, out, |p, q| p - q),
        BinOp::Mul => zip_with(x, y, out, |p, q| p * q),
        BinOp::Div => zip_with(x, y, out, |p: T, q| p.div(q)),
        BinOp::Rem => zip_with(x, y, out, |p: T, q| p.rem(q)),
        BinOp::Pow => zip_with(x, y, out, |p: T, q| p.pow(q)),
        BinOp::Maximum => zip_with(x, y, out, |p: T, q| p.max_nan(q)),
        _ => zip_with(x, y, out, |p: T, q| p.min_nan(q)),
    }
}

/// `out[i] = f(x[i], y[i])`, one loop per kind of operand.
#[inline(always)]
fn zip_with<T: Copy>(x: Side<'_, T>, y: Side<'_, T>, out: &mut [T], f: impl Fn(T, T) -> T) {
    match (x, y) {
        (Side::Tile(x), Side::Tile(y)) => out.iter_mut().zip(x).zip(y).for_each(|((o, &p), &q)| *o = f(p, q)),
        (Side::Tile(x), Side::Scalar(q)) => out.iter_mut().zip(x).for_each(|(o, &p)| *o = f(p, q)),
        (Side::Scalar(p), Side::Tile(y)) => out.iter_mut().zip(y).for_each(|(o, &q)| *o = f(p, q)),
        (Side::Scalar(p), Side::Scalar(q)) => out.fill(f(p, q)),
    }
}

/// Kernel modes.
const MATERIALIZE: i64 = 0;
const REDUCE_ALL: i64 = 1;

kernel_params! {
    /// What a fused program computes for one block.
    pub(crate) struct FusedParams {
        /// The element type of the result (and of the program's work).
        pub dtype: DType,
        /// `MATERIALIZE` a block, or `REDUCE_ALL` of it.
        pub mode: i64,
        /// The reduction, when reducing.
        pub reduction: Reduction,
        /// The output block's shape.
        pub block_shape: Vec<usize>,
        /// The program, encoded.
        pub nodes: Program,
        /// Its scalar constants, of the element type.
        pub scalars: Vec<Value>,
        /// Per source: which of its axes each output axis reads (-1: broadcast).
        pub axis_maps: Vec<Vec<i64>>,
    }
}

fn fused_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let p = FusedParams::from_value(params)?;
    with_numeric!(p.dtype, T => fused_typed::<T>(&p, &args), Err(TaskError::new("fused kernel on bool blocks")))
}

fn fused_typed<T: Apply>(p: &FusedParams, args: &[Value]) -> TaskResult {
    let (mode, kind, shape) = (p.mode, p.reduction, p.block_shape.clone());
    let nodes = decode_nodes(&p.nodes.0, p.scalars.len(), args.len())?;
    let scalars: Vec<T> = p
        .scalars
        .iter()
        .map(|v| T::from_value(v).ok_or_else(|| TaskError::new("bad fused scalar")))
        .collect::<Result<_, _>>()?;
    if nodes.is_empty() {
        return Err(TaskError::new("empty fused program"));
    }
    // Each argument is a block, or the parameters of a generated block.
    let mut generated: Vec<Option<Generated<T>>> = Vec::with_capacity(args.len());
    for a in args {
        generated.push(match a {
            Value::List(_) => Some(generated_source::<T>(a)?),
            _ => None,
        });
    }
    let blocks: Vec<Option<&Block<T>>> = args
        .iter()
        .zip(&generated)
        .map(|(a, g)| match g {
            Some(_) => Ok(None),
            None => block_of::<T>(a).map(Some),
        })
        .collect::<Result<_, TaskError>>()?;
    let mut owned: Vec<Option<ArrayD<T>>> = vec![None; blocks.len()];
    for (i, b) in blocks.iter().enumerate() {
        if let Some(Block::Dense(a)) = b {
            if a.as_slice_memory_order().is_none() || a.strides().iter().any(|&s| s < 0) {
                owned[i] = Some(a.as_standard_layout().into_owned());
            }
        }
    }
    let mut views = Vec::with_capacity(blocks.len());
    for (i, b) in blocks.iter().enumerate() {
        let axis_of = p
            .axis_maps
            .get(i)
            .ok_or_else(|| TaskError::new(format!("fused program without an axis map for source {i}")))?;
        // The source's own shape and element strides (row-major for generated ones).
        let (src_shape, src_strides): (Vec<usize>, Vec<isize>) = match (b, &generated[i]) {
            (Some(Block::Dense(a)), _) => {
                let a = owned[i].as_ref().unwrap_or(a);
                (a.shape().to_vec(), a.strides().to_vec())
            }
            (Some(Block::Const { shape, .. }), _) => (shape.clone(), vec![0; shape.len()]),
            (None, Some(Generated::Uniform { shape, .. })) => {
                let mut st = vec![1isize; shape.len()];
                for k in (0..shape.len().saturating_sub(1)).rev() {
                    st[k] = st[k + 1] * shape[k + 1] as isize;
                }
                (shape.clone(), st)
            }
            (None, Some(Generated::Pattern { shape, weights, .. })) => {
                (shape.clone(), weights.iter().map(|&w| w as isize).collect())
            }
            _ => (vec![], vec![]),
        };
        let mut strides = Vec::with_capacity(shape.len());
        for (k, &ax) in axis_of.iter().enumerate() {
            if ax < 0 {
                strides.push(0);
                continue;
            }
            let ax = ax as usize;
            if !src_shape.is_empty() && src_shape.get(ax) != Some(&shape[k]) {
                return Err(TaskError::new(format!(
                    "fused source block of shape {src_shape:?} does not fit output block {shape:?}"
                )));
            }
            strides.push(if shape[k] == 1 { 0 } else { src_strides.get(ax).copied().unwrap_or(0) });
        }
        views.push(match (b, &generated[i]) {
            (_, Some(Generated::Const(v))) => SourceView::Const(*v),
            (Some(Block::Const { value, .. }), _) => SourceView::Const(*value),
            (Some(Block::Dense(a)), _) => {
                let a = owned[i].as_ref().unwrap_or(a);
                let data = a.as_slice_memory_order().ok_or_else(|| TaskError::new("non-contiguous source"))?;
                SourceView::Dense { data, strides }
            }
            (None, Some(Generated::Uniform { stream, low, scale, .. })) => {
                SourceView::Uniform { stream: *stream, low: *low, scale: *scale, strides }
            }
            (None, Some(Generated::Pattern { origin, .. })) => {
                let line = Line::new(strides.last().map_or(0, |&s| s as i64), TILE);
                SourceView::Pattern { origin: *origin, strides, line }
            }
            _ => return Err(TaskError::new("unreadable fused source")),
        });
    }
    let kept = vec![1usize; shape.len()];
    match mode {
        MATERIALIZE => {
            let len: usize = shape.iter().product();
            let mut sink = Fill(Vec::with_capacity(len));
            run(&nodes, &scalars, &views, &shape, &mut sink)?;
            Ok(Block::Dense(ArrayD::from_shape_vec(IxDyn(&shape), sink.0).map_err(TaskError::new)?).into_value())
        }
        REDUCE_ALL => {
            let one = |v: T| Ok(Block::Const { value: v, shape: kept.clone() }.into_value());
            if views.iter().all(|v| matches!(v, SourceView::Const(_))) {
                // Every input is a constant: so is every element. Reduce
                // analytically, as for a constant block (`ones(n).sum()`
                // costs nothing whatever n is).
                let mut sink = Fill(Vec::with_capacity(1));
                run(&nodes, &scalars, &views, &[], &mut sink)?;
                let v = sink.0.first().copied().unwrap_or(T::ZERO);
                let block = Block::Const { value: v, shape: shape.clone() };
                return crate::ops::reduce::chunk_all(kind, &block, &kept);
            }
            macro_rules! fold {
                ($init:expr, $f:expr) => {{
                    let mut sink = Fold { acc: $init, f: $f };
                    run(&nodes, &scalars, &views, &shape, &mut sink)?;
                    one(sink.acc)
                }};
            }
            let nan = T::from_f64(f64::NAN);
            match kind {
                Reduction::Sum => fold!(T::ZERO, |a: T, b: T| a + b),
                Reduction::NanSum => fold!(T::ZERO, |a: T, b: T| if b.is_nan() { a } else { a + b }),
                Reduction::Prod => fold!(T::ONE, |a: T, b: T| a * b),
                Reduction::Min => fold!(T::HIGHEST, |a: T, b: T| a.min_nan(b)),
                Reduction::Max => fold!(T::LOWEST, |a: T, b: T| a.max_nan(b)),
                Reduction::NanMin => {
                    fold!(if nan.is_nan() { nan } else { T::HIGHEST }, |a: T, b: T| if a.is_nan()
                        || (!b.is_nan() && b < a)
                    {
                        b
                    } else {
                        a
                    })
                }
                Reduction::NanMax => {
                    fold!(if nan.is_nan() { nan } else { T::LOWEST }, |a: T, b: T| if a.is_nan()
                        || (!b.is_nan() && b > a)
                    {
                        b
                    } else {
                        a
                    })
                }
                k => {
                    let mut sink = Stats {
                        skip_nan: matches!(k, Reduction::NanMean | Reduction::NanVar | Reduction::NanStd),
                        n: 0.0,
                        mean: 0.0,
                        m2: 0.0,
                    };
                    run(&nodes, &scalars, &views, &shape, &mut sink)?;
                    let a = |x: f64| ArrayD::from_elem(IxDyn(&kept), x);
                    Ok(Value::object(Moments::new(a(sink.n), a(sink.mean), a(sink.m2))))
                }
            }
        }
        _ => Err(TaskError::new("unknown fused mode")),
    }
}

pub(crate) static FUSED: NamedFn = NamedFn::new("blockwork.array.fused", fused_kernel).params::<FusedParams>();

/// The operation applied at the top of a new expression.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Top {
    Bin(BinOp),
    Neg,
    Abs,
    Math(MathFn),
}

/// Builds a fused elementwise layer: `top` applied to `parts` over an
/// output of `shape` and `chunks`. Operands whose chunks do not line up
/// are passed in already rechunked (see `elementwise::plan`).
pub(crate) fn fused_layer(
    prefix: &str,
    top: Top,
    parts: Vec<Part>,
    dtype: DType,
    shape: &[usize],
    chunks: &Chunks,
) -> Result<Operand> {
    blockwork_graph::register(&FUSED);
    let mut exprs = Vec::with_capacity(parts.len());
    for p in &parts {
        exprs.push(match p {
            Part::Operand(o) => Expr::of_operand(o, shape, chunks).unwrap_or_else(|| {
                // Chunks differ: caller rechunked already, so this only
                // happens for a mismatch the plan could not see; read it.
                Expr::load(o, (0..shape.len()).map(|k| k as i64).collect())
            }),
            Part::Scalar(v) => Expr { nodes: vec![Node::Scalar(0)], scalars: vec![v.clone()], sources: vec![] },
        });
    }
    let total: usize = exprs.iter().map(|e| e.nodes.len()).sum::<usize>() + 1;
    if total > MAX_NODES {
        // Too long: start again from the operands' materialized blocks.
        exprs = parts
            .iter()
            .map(|p| match p {
                Part::Operand(o) => {
                    let plain = Operand { expr: None, ..o.clone() };
                    Expr::of_operand(&plain, shape, chunks)
                        .unwrap_or_else(|| Expr::load(&plain, (0..shape.len()).map(|k| k as i64).collect()))
                }
                Part::Scalar(v) => Expr { nodes: vec![Node::Scalar(0)], scalars: vec![v.clone()], sources: vec![] },
            })
            .collect();
    }
    let (mut expr, results) = Expr::merge(exprs);
    expr.nodes.push(match top {
        Top::Bin(op) => Node::Bin(op, results[0], results[1]),
        Top::Neg => Node::Neg(results[0]),
        Top::Abs => Node::Abs(results[0]),
        Top::Math(f) => Node::Math(f, results[0]),
    });
    let expr = Arc::new(expr);
    let layer = materialize_layer(prefix, &expr, dtype, chunks);
    Ok(Operand { shape: shape.to_vec(), chunks: chunks.clone(), layer, dtype, expr: Some(expr) })
}

/// An expression viewed with permuted axes (a lazy transpose).
pub(crate) fn permuted(x: &Operand, perm: &[usize]) -> Operand {
    blockwork_graph::register(&FUSED);
    let base = match &x.expr {
        Some(e) => (**e).clone(),
        None => Expr::load(x, (0..x.ndim() as i64).collect()),
    };
    let map: Vec<Option<usize>> = perm.iter().map(|&p| Some(p)).collect();
    let expr = Arc::new(base.remap(&map));
    let shape: Vec<usize> = perm.iter().map(|&p| x.shape[p]).collect();
    let chunks = Chunks(perm.iter().map(|&p| x.chunks.axis(p).to_vec()).collect());
    let layer = materialize_layer("transpose", &expr, x.dtype, &chunks);
    Operand { shape, chunks, layer, dtype: x.dtype, expr: Some(expr) }
}

fn materialize_layer(prefix: &str, expr: &Arc<Expr>, dtype: DType, chunks: &Chunks) -> Arc<Layer> {
    let namer = Namer::new("fused").add(&dtype.code()).with(|t| expr.tokenize(t)).add(&chunks.axes().to_vec());
    let op_cache = std::cell::RefCell::new(rustc_hash::FxHashMap::<Vec<usize>, Op>::default());
    new_layer(prefix, namer, chunks, expr.deps(), |idx| {
        let bshape = chunks.block_shape(idx);
        let op = op_cache
            .borrow_mut()
            .entry(bshape.clone())
            .or_insert_with(|| Op::named(&FUSED, expr.params(dtype, MATERIALIZE, Reduction::Sum, &bshape)))
            .clone();
        Task::new(op, expr.args(idx))
    })
}

/// The chunk stage of a reduction over every axis of an expression:
/// one task per block folds the program's rows directly.
pub(crate) fn reduce_all_chunk_layer(x: &Operand, kind: Reduction, name: Namer) -> Option<Arc<Layer>> {
    let loaded;
    let expr = match &x.expr {
        Some(e) => e,
        None => {
            // A generated array reduces without ever making its blocks.
            let e = Expr::load(x, (0..x.ndim() as i64).collect());
            e.sources.first()?.generated.as_ref()?;
            loaded = Arc::new(e);
            &loaded
        }
    };
    if matches!(kind, Reduction::Any | Reduction::All) || x.dtype == DType::Bool {
        return None;
    }
    let grid = Chunks(x.chunks.numblocks().iter().map(|&n| vec![1; n]).collect());
    let op_cache = std::cell::RefCell::new(rustc_hash::FxHashMap::<Vec<usize>, Op>::default());
    Some(new_layer(&format!("{}-chunk", kind_name(kind)), name, &grid, expr.deps(), |idx| {
        let bshape = x.chunks.block_shape(idx);
        let op = op_cache
            .borrow_mut()
            .entry(bshape.clone())
            .or_insert_with(|| Op::named(&FUSED, expr.params(x.dtype, REDUCE_ALL, kind, &bshape)))
            .clone();
        Task::new(op, expr.args(idx))
    }))
}

fn kind_name(k: Reduction) -> &'static str {
    match k {
        Reduction::Sum | Reduction::NanSum => "sum",
        Reduction::Prod => "prod",
        Reduction::Min | Reduction::NanMin => "min",
        Reduction::Max | Reduction::NanMax => "max",
        _ => "moments",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_reads_only_what_exists_before_it() {
        let node = |kind: i64, a: i64, b: i64| [kind, a, b, 0];
        let ok = [node(0, 0, 0), node(1, 0, 0), node(2, 0, 1)].concat();
        assert_eq!(decode_nodes(&ok, 1, 1).unwrap().len(), 3);
        for bad in [
            [node(0, 0, 0), node(2, 0, 1)].concat(), // reads itself
            [node(0, 0, 0), node(3, 5, 0)].concat(), // reads a later node
            [node(0, 1, 0)].concat(),                // a source that is not there
            [node(1, 1, 0)].concat(),                // a scalar that is not there
            [node(0, -1, 0)].concat(),
        ] {
            assert!(decode_nodes(&bad, 1, 1).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scalar_operands_are_read_as_they_are() {
        let (x, mut out) = ([1.0, 2.0, 3.0], [0.0; 3]);
        bin(BinOp::Sub, Side::Scalar(10.0), Side::Tile(&x), &mut out);
        assert_eq!(out, [9.0, 8.0, 7.0]);
        bin(BinOp::Div, Side::Tile(&x), Side::Scalar(2.0), &mut out);
        assert_eq!(out, [0.5, 1.0, 1.5]);
        bin(BinOp::Pow, Side::Scalar(2.0), Side::Scalar(3.0), &mut out);
        assert_eq!(out, [8.0; 3]);
        bin(BinOp::Maximum, Side::Tile(&x), Side::Tile(&[2.0, 2.0, 2.0]), &mut out);
        assert_eq!(out, [2.0, 2.0, 3.0]);
    }
}
