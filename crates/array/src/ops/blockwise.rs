//! `blockwise`: user code over blocks aligned by index notation, as
//! dask.array's `blockwise`.
//!
//! Each operand names its axes with letters; the output names its own.
//! Operands are cut into common chunks per letter; each output block's
//! task gets, for every operand, the block at the output block's position
//! along the letters they share. A letter of an operand that is not in
//! the output is contracted: the operand's blocks along it are all passed,
//! concatenated along that axis (dask's `concatenate=True`). So
//! `blockwise("ij", &[(&x, "ij"), (&y, "j")], f)` sees matching blocks of
//! `x` and `y`, and `blockwise("ik", &[(&a, "ij"), (&b, "jk")], f)` sees a
//! row panel of `a` and a column panel of `b`.

use std::sync::Arc;

use blockwork_graph::{r, Arg, Key, NamedFn, Op, Task, TaskError, Value};
use ndarray::{ArrayD, ArrayViewD, Axis};

use crate::array::{new_layer, Array, Operand};
use crate::block::{block_of, Block};
use crate::chunks::{BlockIndices, Chunks};
use crate::dtype::Element;
use crate::error::{ArrayError, Result};
use crate::layer::Namer;
use crate::ops::rechunk::{common_chunks, rechunk_operand};

/// Applies `f` blockwise (see the module doc). `f` gets one array per
/// operand and returns the output block, whose shape must be the output
/// chunks' block shape. Letters of the output absent from every operand
/// are not allowed. The closure runs in this process only.
pub fn blockwise<T: Element, U: Element>(
    name: &str,
    out_index: &str,
    operands: &[(&Array<T>, &str)],
    f: impl Fn(&[ArrayViewD<'_, T>]) -> ArrayD<U> + Send + Sync + 'static,
) -> Result<Array<U>> {
    let ops: Vec<(Operand, &str)> = operands.iter().map(|(x, s)| (x.operand(), *s)).collect();
    let f = Arc::new(f);
    blockwise_layer(name, out_index, &ops, |plan, want| {
        let f = Arc::clone(&f);
        Op::local(name, move |vals: Vec<Value>| {
            let mut it = vals.iter();
            let mut arrays: Vec<ArrayD<T>> = Vec::with_capacity(plan.len());
            for (n, contracted) in &plan {
                let blocks: Vec<ArrayD<T>> = (0..*n)
                    .map(|_| {
                        let v = it.next().ok_or_else(|| TaskError::new("blockwise: missing input"))?;
                        Ok(block_of::<T>(v)?.view().into_owned())
                    })
                    .collect::<Result<_, TaskError>>()?;
                arrays.push(join(blocks, contracted)?);
            }
            let views: Vec<ArrayViewD<'_, T>> = arrays.iter().map(|a| a.view()).collect();
            let res = f(&views);
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

/// [`blockwise`] over operands of any element types, with a named function
/// so that its tasks can run in another process. Each task calls `func`
/// with the parameters `[params, plan, shape]` and the operands' blocks in
/// order: `plan` holds, per operand, `[n, [[axis, count], …]]` — its `n`
/// blocks are laid out row-major over its contracted axes (`count` blocks
/// along each), to be concatenated along them — and `shape` is the shape
/// the output block must have. `func` returns the output block, of type `U`.
pub fn blockwise_named<U: Element>(
    name: &str,
    out_index: &str,
    operands: &[(Operand, &str)],
    func: &'static NamedFn,
    params: Value,
) -> Result<Array<U>> {
    let ints = |v: &[usize]| Value::List(v.iter().map(|&n| Value::Int(n as i64)).collect());
    blockwise_layer(name, out_index, operands, |plan, want| {
        let plan = plan
            .iter()
            .map(|(n, contracted)| {
                let axes = contracted.iter().map(|&(ax, count)| ints(&[ax, count])).collect();
                Value::List([Value::Int(*n as i64), Value::List(axes)].into())
            })
            .collect();
        Op::named(func, Value::List([params.clone(), Value::List(plan), ints(&want)].into()))
    })
}

/// Per operand: its number of blocks in a task, and its contracted axes
/// with their block counts.
type Plan = Vec<(usize, Vec<(usize, usize)>)>;

/// The layer of a blockwise operation whose task ops `make` builds from
/// the task's [`Plan`] and output block shape.
fn blockwise_layer<U: Element>(
    name: &str,
    out_index: &str,
    operands: &[(Operand, &str)],
    make: impl Fn(Plan, Vec<usize>) -> Op,
) -> Result<Array<U>> {
    let bad = |why: String| ArrayError::Argument(format!("blockwise {out_index:?}: {why}"));
    let out: Vec<char> = out_index.chars().collect();
    let ins: Vec<Vec<char>> = operands.iter().map(|(_, s)| s.chars().collect()).collect();
    for ((x, _), idx) in operands.iter().zip(&ins) {
        if idx.len() != x.ndim() {
            return Err(bad(format!("{} letters for an operand of shape {:?}", idx.len(), x.shape)));
        }
    }
    // Length and common chunks of every letter.
    let mut letters: Vec<char> = out.clone();
    for idx in &ins {
        for &c in idx {
            if !letters.contains(&c) {
                letters.push(c);
            }
        }
    }
    let mut chunks_of: Vec<Vec<usize>> = Vec::with_capacity(letters.len());
    for &c in &letters {
        let mut spans: Vec<&[usize]> = Vec::new();
        let mut len = None;
        for ((x, _), idx) in operands.iter().zip(&ins) {
            if let Some(p) = idx.iter().position(|&d| d == c) {
                if *len.get_or_insert(x.shape[p]) != x.shape[p] {
                    return Err(ArrayError::Shape(format!("blockwise: letter {c:?} has different lengths")));
                }
                spans.push(x.chunks.axis(p));
            }
        }
        if spans.is_empty() {
            return Err(bad(format!("output letter {c:?} is in no operand")));
        }
        chunks_of.push(common_chunks(&spans));
    }
    let pos = |c: char| letters.iter().position(|&d| d == c).unwrap_or(0);
    let ops: Vec<Operand> = operands
        .iter()
        .zip(&ins)
        .map(|((x, _), idx)| rechunk_operand(x, &Chunks(idx.iter().map(|&c| chunks_of[pos(c)].clone()).collect())))
        .collect::<Result<_>>()?;
    let out_chunks = Chunks(out.iter().map(|&c| chunks_of[pos(c)].clone()).collect());
    let token_op = Op::local(name, |_| Ok(Value::Unit));
    let mut namer = Namer::new(name).add(out_index).add(&token_op);
    for (o, idx) in ops.iter().zip(&ins) {
        namer = namer.input(&o.layer).add(&idx.iter().collect::<String>());
    }
    let deps = ops.iter().map(|o| Arc::clone(&o.layer)).collect();
    let layer = new_layer(name, namer, &out_chunks, deps, |oidx| {
        let mut args: Vec<Arg<Key>> = Vec::new();
        let mut plan: Plan = Vec::new();
        for (o, idx) in ops.iter().zip(&ins) {
            let contracted: Vec<(usize, usize)> = idx
                .iter()
                .enumerate()
                .filter(|(_, c)| !out.contains(c))
                .map(|(ax, _)| (ax, o.chunks.axis(ax).len()))
                .collect();
            let counts: Vec<usize> = contracted.iter().map(|&(_, n)| n).collect();
            let mut n = 0;
            for combo in BlockIndices::new(counts) {
                let src: Vec<u32> = idx
                    .iter()
                    .enumerate()
                    .map(|(ax, c)| match out.iter().position(|d| d == c) {
                        Some(k) => oidx[k],
                        None => combo[contracted.iter().position(|&(a, _)| a == ax).unwrap_or(0)],
                    })
                    .collect();
                args.push(r(o.key(&src)));
                n += 1;
            }
            plan.push((n, contracted));
        }
        Task::new(make(plan, out_chunks.block_shape(oidx)), args)
    });
    Ok(Array::from_parts(out_chunks.shape(), out_chunks, layer))
}

/// Concatenates blocks laid out row-major over the contracted axes.
fn join<T: Element>(blocks: Vec<ArrayD<T>>, contracted: &[(usize, usize)]) -> Result<ArrayD<T>, TaskError> {
    let mut level = blocks;
    // Innermost contracted axis first: groups of its count join into one.
    for &(ax, n) in contracted.iter().rev() {
        level = level
            .chunks(n.max(1))
            .map(|g| {
                let views: Vec<_> = g.iter().map(|a| a.view()).collect();
                ndarray::concatenate(Axis(ax), &views).map_err(TaskError::new)
            })
            .collect::<Result<_, _>>()?;
    }
    level.pop().ok_or_else(|| TaskError::new("blockwise: no blocks"))
}
