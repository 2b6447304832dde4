//! Contractions beyond the matrix product: `tensordot` and `einsum`.
//!
//! `tensordot` moves the contracted axes of `a` last and of `b` first
//! (lazy transposes), folds both into matrices, multiplies them with
//! [`Array::matmul`] and unfolds the result. `einsum` takes one or two
//! operands: contractions without shared output indices go through
//! `tensordot`; the rest (batched products like `bij,bjk->bik`, and
//! single-operand sums and transposes) multiply with broadcasting and
//! sum the contracted indices.

use crate::array::Array;
use crate::dtype::Numeric;
use crate::error::{ArrayError, Result};
use crate::ops::reduce::ReduceOpts;

/// Sums `a` and `b` over pairs of axes (`a_axes[i]` with `b_axes[i]`), as
/// NumPy's `tensordot(a, b, axes=(a_axes, b_axes))`.
pub fn tensordot<T: Numeric + ndarray::LinalgScalar>(
    a: &Array<T>,
    b: &Array<T>,
    a_axes: &[usize],
    b_axes: &[usize],
) -> Result<Array<T>> {
    if a_axes.len() != b_axes.len() {
        return Err(ArrayError::Axis(format!("tensordot pairs {} axes of a with {} of b", a_axes.len(), b_axes.len())));
    }
    for (&i, &j) in a_axes.iter().zip(b_axes) {
        if i >= a.ndim() || j >= b.ndim() {
            return Err(ArrayError::Axis(format!(
                "tensordot axes ({i}, {j}) out of range for shapes {:?} and {:?}",
                a.shape(),
                b.shape()
            )));
        }
        if a.shape()[i] != b.shape()[j] {
            return Err(ArrayError::Shape(format!(
                "tensordot: axis {i} of a has length {} but axis {j} of b has {}",
                a.shape()[i],
                b.shape()[j]
            )));
        }
    }
    let a_free: Vec<usize> = (0..a.ndim()).filter(|x| !a_axes.contains(x)).collect();
    let b_free: Vec<usize> = (0..b.ndim()).filter(|x| !b_axes.contains(x)).collect();
    let pa: Vec<usize> = a_free.iter().chain(a_axes).copied().collect();
    let pb: Vec<usize> = b_axes.iter().chain(&b_free).copied().collect();
    let m: usize = a_free.iter().map(|&x| a.shape()[x]).product();
    let n: usize = b_free.iter().map(|&x| b.shape()[x]).product();
    let k: usize = a_axes.iter().map(|&x| a.shape()[x]).product();
    let am = a.permute_axes(&pa)?.reshape(&[m, k])?;
    let bm = b.permute_axes(&pb)?.reshape(&[k, n])?;
    let c = am.matmul(&bm)?;
    let shape: Vec<usize> = a_free.iter().map(|&x| a.shape()[x]).chain(b_free.iter().map(|&x| b.shape()[x])).collect();
    c.reshape(&shape)
}

/// Parsed `einsum` subscripts.
struct Spec {
    inputs: Vec<Vec<char>>,
    output: Vec<char>,
}

fn parse(spec: &str, n_operands: usize) -> Result<Spec> {
    let bad = |why: &str| ArrayError::Argument(format!("einsum {spec:?}: {why}"));
    let (ins, out) = match spec.split_once("->") {
        Some((i, o)) => (i, Some(o)),
        None => (spec, None),
    };
    let inputs: Vec<Vec<char>> = ins.split(',').map(|s| s.trim().chars().collect()).collect();
    if inputs.len() != n_operands {
        return Err(bad(&format!("{} operand subscripts for {n_operands} operands", inputs.len())));
    }
    for s in &inputs {
        if let Some(c) = s.iter().find(|c| !c.is_ascii_alphabetic()) {
            return Err(bad(&format!("{c:?} is not an index letter")));
        }
        let mut seen = s.clone();
        seen.sort_unstable();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err(bad(
                "an index repeated within one operand (traces and diagonals) is not an einsum this function does",
            ));
        }
    }
    let output: Vec<char> = match out {
        Some(o) => o.trim().chars().collect(),
        None => {
            // Implicit output: indices that appear once, in alphabetical order.
            let mut all: Vec<char> = inputs.concat();
            all.sort_unstable();
            let mut once: Vec<char> =
                all.iter().copied().filter(|c| all.iter().filter(|d| *d == c).count() == 1).collect();
            once.dedup();
            once
        }
    };
    for c in &output {
        if !inputs.iter().any(|s| s.contains(c)) {
            return Err(bad(&format!("output index {c:?} is in no operand")));
        }
    }
    Ok(Spec { inputs, output })
}

/// Places `x` (with indices `idx`) in the index space `all`: axes
/// permuted into `all`'s order, length-1 axes for indices it lacks.
fn align<T: Numeric>(x: &Array<T>, idx: &[char], all: &[char]) -> Result<Array<T>> {
    let present: Vec<char> = all.iter().copied().filter(|c| idx.contains(c)).collect();
    let perm: Vec<usize> = present.iter().map(|c| idx.iter().position(|d| d == c).unwrap_or(0)).collect();
    let mut y = x.permute_axes(&perm)?;
    for (pos, c) in all.iter().enumerate() {
        if !idx.contains(c) {
            y = y.expand_dims(pos as isize)?;
        }
    }
    Ok(y)
}

/// NumPy's `einsum` for one or two operands, e.g. `"ij,jk->ik"`,
/// `"ij->ji"`, `"ij->"`, `"bij,bjk->bik"`, `"i,i->"`.
pub fn einsum<T: Numeric + ndarray::LinalgScalar>(spec: &str, operands: &[&Array<T>]) -> Result<Array<T>> {
    let s = parse(spec, operands.len())?;
    for (x, idx) in operands.iter().zip(&s.inputs) {
        if x.ndim() != idx.len() {
            return Err(ArrayError::Shape(format!(
                "einsum {spec:?}: operand of shape {:?} has {} axes, the subscripts name {}",
                x.shape(),
                x.ndim(),
                idx.len()
            )));
        }
    }
    let size_of = |c: char| -> Option<usize> {
        operands.iter().zip(&s.inputs).find_map(|(x, idx)| idx.iter().position(|&d| d == c).map(|p| x.shape()[p]))
    };
    for (x, idx) in operands.iter().zip(&s.inputs) {
        for (p, &c) in idx.iter().enumerate() {
            if size_of(c) != Some(x.shape()[p]) {
                return Err(ArrayError::Shape(format!("einsum {spec:?}: index {c:?} has different lengths")));
            }
        }
    }
    // Two operands, no index shared with the output: a tensordot.
    if let [a, b] = operands {
        let (ia, ib) = (&s.inputs[0], &s.inputs[1]);
        let shared: Vec<char> = ia.iter().copied().filter(|c| ib.contains(c)).collect();
        let batch = shared.iter().any(|c| s.output.contains(c));
        let summed_alone = ia.iter().chain(ib).any(|c| !shared.contains(c) && !s.output.contains(c));
        if !batch && !summed_alone {
            let aa: Vec<usize> = shared.iter().map(|c| ia.iter().position(|d| d == c).unwrap_or(0)).collect();
            let ba: Vec<usize> = shared.iter().map(|c| ib.iter().position(|d| d == c).unwrap_or(0)).collect();
            let t = tensordot(a, b, &aa, &ba)?;
            let t_idx: Vec<char> = ia
                .iter()
                .filter(|c| !shared.contains(c))
                .chain(ib.iter().filter(|c| !shared.contains(c)))
                .copied()
                .collect();
            let perm: Vec<usize> = s.output.iter().map(|c| t_idx.iter().position(|d| d == c).unwrap_or(0)).collect();
            return t.permute_axes(&perm);
        }
    }
    // General: broadcast into one index space, multiply, sum the rest.
    let mut all: Vec<char> = s.output.clone();
    for idx in &s.inputs {
        for &c in idx {
            if !all.contains(&c) {
                all.push(c);
            }
        }
    }
    let mut prod = align(operands[0], &s.inputs[0], &all)?;
    for (x, idx) in operands.iter().zip(&s.inputs).skip(1) {
        prod = prod.mul(&align(x, idx, &all)?)?;
    }
    let summed: Vec<isize> = (s.output.len()..all.len()).map(|p| p as isize).collect();
    if summed.is_empty() {
        return Ok(prod);
    }
    prod.sum_with(&ReduceOpts::axes(&summed))
}
