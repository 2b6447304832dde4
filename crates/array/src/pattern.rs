//! The benchmark fill `x[i, j] = ((7 i + 13 j) mod 101) / 101` (1-d:
//! `(i mod 101) / 101`), made at memory speed.
//!
//! Along any line through the array the residue `r = (7 i + 13 j) mod 101`
//! moves by a fixed step `s` (13 along a row, 7 down a column, 1 in 1-d).
//! Since 101 is prime, `r = s · m mod 101` for `m = r · s⁻¹ mod 101`, and
//! consecutive elements are consecutive `m`: a line is a slice of one
//! precomputed sequence `seq[m] = ((s · m) mod 101) / 101`, copied, not
//! computed element by element.

use crate::dtype::Element;

/// The modulus of the fill.
pub(crate) const MODULUS: i64 = 101;

/// The weights of the index in the residue: `[1]` in 1-d, `[7, 13]` in 2-d.
pub(crate) fn weights(ndim: usize) -> &'static [i64] {
    if ndim == 1 {
        &[1]
    } else {
        &[7, 13]
    }
}

/// The residue of the element at a global index.
pub(crate) fn residue(index: &[usize]) -> i64 {
    let w = weights(index.len());
    index.iter().zip(w).map(|(&i, &w)| (i as i64 % MODULUS) * w).sum::<i64>().rem_euclid(MODULUS)
}

/// Makes lines of the fill whose residue moves by `step` per element.
pub(crate) struct Line<T> {
    step: i64,
    /// `s⁻¹ mod 101` (unused for a step of 0).
    inverse: i64,
    /// `seq[m] = ((step · m) mod 101) / 101` for `m < 101 + span`; for a
    /// step of 0, `seq[r] = r / 101`.
    seq: Vec<T>,
}

impl<T: Element> Line<T> {
    /// Lines copied `span` elements at a time.
    pub(crate) fn new(step: i64, span: usize) -> Self {
        let step = step.rem_euclid(MODULUS);
        let inverse = (1..MODULUS).find(|&k| (k * step) % MODULUS == 1).unwrap_or(0);
        let (len, mul) = if step == 0 { (MODULUS as usize, 1) } else { (MODULUS as usize + span.max(1), step) };
        let seq = (0..len as i64).map(|m| T::from_f64(((mul * m) % MODULUS) as f64 / MODULUS as f64)).collect();
        Line { step, inverse, seq }
    }

    /// Fills `out` with the line starting at residue `first`.
    pub(crate) fn fill(&self, first: i64, out: &mut [T]) {
        if self.step == 0 {
            out.fill(self.seq[first.rem_euclid(MODULUS) as usize]);
            return;
        }
        let mut at = 0;
        self.pieces(first, out.len(), |piece| {
            out[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        });
    }

    /// Appends `len` elements of the line starting at residue `first`.
    pub(crate) fn extend(&self, first: i64, len: usize, out: &mut Vec<T>) {
        self.pieces(first, len, |piece| out.extend_from_slice(piece));
    }

    /// The line as consecutive slices of the sequence.
    fn pieces(&self, first: i64, len: usize, mut f: impl FnMut(&[T])) {
        let first = first.rem_euclid(MODULUS);
        if self.step == 0 {
            f(&vec![self.seq[first as usize]; len]);
            return;
        }
        let span = self.seq.len() - MODULUS as usize;
        let mut m = (first * self.inverse % MODULUS) as usize;
        let mut left = len;
        while left > 0 {
            let k = left.min(span);
            f(&self.seq[m..m + k]);
            m = (m + k) % MODULUS as usize;
            left -= k;
        }
    }
}

/// A whole block of the fill, rows of the last axis copied from one line
/// (appended, so the block's memory is written once).
pub(crate) fn block<T: Element>(shape: &[usize], offsets: &[usize]) -> Vec<T> {
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let w = weights(shape.len());
    let width = shape[shape.len() - 1];
    let line = Line::<T>::new(w[w.len() - 1], width.min(4096));
    let origin = residue(offsets);
    for row in 0..n / width {
        // Only 2-d blocks have more than one row; row r starts 7 r further.
        line.extend(origin + w[0] * (row as i64 % MODULUS) * i64::from(shape.len() > 1), width, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(i: usize, j: usize) -> f64 {
        ((7 * i + 13 * j) % 101) as f64 / 101.0
    }

    #[test]
    fn blocks_equal_the_formula() {
        for (shape, off) in [([3, 250], [0, 0]), ([17, 5], [1000, 333]), ([1, 1], [5, 7]), ([202, 303], [99, 1])] {
            let b = block::<f64>(&shape, &off);
            for i in 0..shape[0] {
                for j in 0..shape[1] {
                    assert_eq!(b[i * shape[1] + j], direct(off[0] + i, off[1] + j), "{shape:?} {off:?} at {i},{j}");
                }
            }
        }
        let one = block::<f32>(&[300], &[42]);
        assert!(one.iter().enumerate().all(|(i, &v)| v == (((42 + i) % 101) as f64 / 101.0) as f32));
    }

    #[test]
    fn lines_in_any_direction_equal_the_formula() {
        for step in [0i64, 1, 7, 13, -13, 100, 202] {
            let line = Line::<f64>::new(step, 10);
            let mut out = vec![0.0; 357];
            line.fill(38, &mut out);
            for (t, &v) in out.iter().enumerate() {
                assert_eq!(v, ((38 + step * t as i64).rem_euclid(101)) as f64 / 101.0, "step {step} at {t}");
            }
        }
    }
}
