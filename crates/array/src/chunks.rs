//! Chunk specifications, normalized in one place.
//!
//! Users say how to cut an array in several ways — one size for every
//! axis, one size per axis (`None` for "the whole axis"), explicit sizes
//! per axis, or "auto" (blocks of about a target number of bytes,
//! 128 MiB by default). [`Chunks::normalize`] turns every form into the
//! one representation the rest of the crate uses: for each axis, the list
//! of block lengths, which sum to the axis length. A zero-length axis has
//! one block of length 0.

use crate::error::{ArrayError, Result};

/// The default target size of an automatic block.
pub const AUTO_BLOCK_BYTES: usize = 128 << 20;

/// How to cut an array into blocks.
#[derive(Clone, Debug, PartialEq)]
pub enum ChunkSpec {
    /// Blocks of about [`AUTO_BLOCK_BYTES`].
    Auto,
    /// Blocks of about this many bytes.
    AutoBytes(usize),
    /// One block length per axis (`None`: the whole axis); a single entry
    /// applies to every axis.
    Sizes(Vec<Option<usize>>),
    /// Explicit block lengths for each axis.
    Explicit(Vec<Vec<usize>>),
    /// Text that is neither `"auto"` nor a size: normalizing it is an
    /// error that quotes it (a `&str` spec cannot fail on conversion).
    Invalid(String),
}

impl From<usize> for ChunkSpec {
    fn from(n: usize) -> Self {
        ChunkSpec::Sizes(vec![Some(n)])
    }
}

impl From<&[usize]> for ChunkSpec {
    fn from(s: &[usize]) -> Self {
        ChunkSpec::Sizes(s.iter().map(|&n| Some(n)).collect())
    }
}

impl<const N: usize> From<[usize; N]> for ChunkSpec {
    fn from(s: [usize; N]) -> Self {
        ChunkSpec::Sizes(s.iter().map(|&n| Some(n)).collect())
    }
}

impl<const N: usize> From<&[usize; N]> for ChunkSpec {
    fn from(s: &[usize; N]) -> Self {
        ChunkSpec::Sizes(s.iter().map(|&n| Some(n)).collect())
    }
}

impl From<Vec<usize>> for ChunkSpec {
    fn from(s: Vec<usize>) -> Self {
        ChunkSpec::Sizes(s.into_iter().map(Some).collect())
    }
}

impl From<Vec<Vec<usize>>> for ChunkSpec {
    fn from(s: Vec<Vec<usize>>) -> Self {
        ChunkSpec::Explicit(s)
    }
}

impl From<&Chunks> for ChunkSpec {
    fn from(c: &Chunks) -> Self {
        ChunkSpec::Explicit(c.0.clone())
    }
}

impl From<&str> for ChunkSpec {
    /// `"auto"`, or a size like `"64MiB"`; anything else is kept as
    /// [`ChunkSpec::Invalid`], which normalization reports.
    fn from(s: &str) -> Self {
        if s.trim() == "auto" {
            return ChunkSpec::Auto;
        }
        parse_bytes(s).map(ChunkSpec::AutoBytes).unwrap_or_else(|| ChunkSpec::Invalid(s.to_string()))
    }
}

/// Parses `"128MiB"`, `"2 GB"`, `"4096"`, and Kubernetes' `"4Gi"`.
pub fn parse_bytes(s: &str) -> Option<usize> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let x: f64 = num.parse().ok()?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" | "ki" => 1024.0,
        "mib" | "mi" => 1024.0 * 1024.0,
        "gib" | "gi" => 1024.0 * 1024.0 * 1024.0,
        "tib" | "ti" => 1024f64.powi(4),
        _ => return None,
    };
    Some((x * mult) as usize)
}

/// Block lengths per axis.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Chunks(pub(crate) Vec<Vec<usize>>);

impl Chunks {
    /// Normalizes a spec for an array of `shape` with elements of `itemsize` bytes.
    pub fn normalize(spec: &ChunkSpec, shape: &[usize], itemsize: usize) -> Result<Chunks> {
        let nd = shape.len();
        let per_axis = |sizes: &[Option<usize>]| -> Result<Vec<Option<usize>>> {
            match sizes.len() {
                1 if nd != 1 => Ok(vec![sizes[0]; nd]),
                n if n == nd => Ok(sizes.to_vec()),
                n => {
                    Err(ArrayError::Chunks(format!("{n} chunk sizes given for an array of {nd} dimensions {shape:?}")))
                }
            }
        };
        let chunks = match spec {
            ChunkSpec::Auto => auto(shape, itemsize, AUTO_BLOCK_BYTES),
            ChunkSpec::AutoBytes(b) => auto(shape, itemsize, *b),
            ChunkSpec::Invalid(text) => {
                return Err(ArrayError::Chunks(format!(
                    "{text:?} is neither \"auto\" nor a size like \"64MiB\", \"128MB\" or \"1GB\""
                )))
            }
            ChunkSpec::Sizes(sizes) => {
                let sizes = per_axis(sizes)?;
                shape
                    .iter()
                    .zip(sizes)
                    .enumerate()
                    .map(|(ax, (&len, size))| match size {
                        Some(0) if len > 0 => {
                            Err(ArrayError::Chunks(format!("chunk size 0 on axis {ax} of length {len}")))
                        }
                        Some(c) => Ok(regular(len, c)),
                        None => Ok(vec![len]),
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            ChunkSpec::Explicit(c) => {
                if c.len() != nd {
                    return Err(ArrayError::Chunks(format!(
                        "chunks for {} dimensions given for an array of {nd} dimensions {shape:?}",
                        c.len()
                    )));
                }
                for (ax, (lens, &len)) in c.iter().zip(shape).enumerate() {
                    let sum: usize = lens.iter().sum();
                    if sum != len {
                        return Err(ArrayError::Chunks(format!(
                            "chunks {lens:?} on axis {ax} sum to {sum}, but the axis has length {len}"
                        )));
                    }
                    if lens.is_empty() || (len > 0 && lens.contains(&0)) {
                        return Err(ArrayError::Chunks(format!("chunks {lens:?} on axis {ax} have an empty block")));
                    }
                }
                c.clone()
            }
        };
        Ok(Chunks(chunks))
    }

    /// Regular blocks of `size` (the last one shorter) on every axis.
    pub fn regular(shape: &[usize], size: &[usize]) -> Chunks {
        Chunks(shape.iter().zip(size).map(|(&l, &c)| regular(l, c)).collect())
    }

    /// Block lengths of each axis.
    pub fn axes(&self) -> &[Vec<usize>] {
        &self.0
    }

    /// Block lengths of one axis.
    pub fn axis(&self, ax: usize) -> &[usize] {
        &self.0[ax]
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.0.len()
    }

    /// The shape these chunks cover.
    pub fn shape(&self) -> Vec<usize> {
        self.0.iter().map(|c| c.iter().sum()).collect()
    }

    /// Blocks along each axis.
    pub fn numblocks(&self) -> Vec<usize> {
        self.0.iter().map(Vec::len).collect()
    }

    /// Total number of blocks.
    pub fn nblocks(&self) -> usize {
        self.0.iter().map(Vec::len).product()
    }

    /// Start of each block along an axis, plus the axis length at the end.
    pub fn offsets(&self, ax: usize) -> Vec<usize> {
        let mut o = Vec::with_capacity(self.0[ax].len() + 1);
        let mut acc = 0;
        o.push(0);
        for &c in &self.0[ax] {
            acc += c;
            o.push(acc);
        }
        o
    }

    /// The shape of one block.
    pub fn block_shape(&self, idx: &[u32]) -> Vec<usize> {
        idx.iter().enumerate().map(|(ax, &i)| self.0[ax][i as usize]).collect()
    }

    /// The largest block's number of elements.
    pub fn max_block_len(&self) -> usize {
        self.0.iter().map(|c| c.iter().copied().max().unwrap_or(0)).product()
    }

    /// Every block index, in row-major order.
    pub fn indices(&self) -> BlockIndices {
        BlockIndices::new(self.numblocks())
    }
}

fn regular(len: usize, c: usize) -> Vec<usize> {
    if len == 0 {
        return vec![0];
    }
    let c = c.min(len).max(1);
    let mut v = vec![c; len / c];
    if !len.is_multiple_of(c) {
        v.push(len % c);
    }
    v
}

/// Halves the longest block side until a block fits in `bytes`.
fn auto(shape: &[usize], itemsize: usize, bytes: usize) -> Vec<Vec<usize>> {
    let limit = (bytes / itemsize.max(1)).max(1);
    let mut size: Vec<usize> = shape.iter().map(|&l| l.max(1)).collect();
    while size.iter().product::<usize>() > limit {
        let Some((ax, _)) = size.iter().enumerate().filter(|(_, &s)| s > 1).max_by_key(|(_, &s)| s) else { break };
        size[ax] = size[ax].div_ceil(2);
    }
    shape.iter().zip(size).map(|(&l, c)| regular(l, c)).collect()
}

/// Iterates over block indices in row-major order.
pub struct BlockIndices {
    numblocks: Vec<usize>,
    next: Option<Vec<u32>>,
}

impl BlockIndices {
    /// All indices of a grid.
    pub fn new(numblocks: Vec<usize>) -> Self {
        let next = if numblocks.contains(&0) { None } else { Some(vec![0; numblocks.len()]) };
        BlockIndices { numblocks, next }
    }
}

impl Iterator for BlockIndices {
    type Item = Vec<u32>;
    fn next(&mut self) -> Option<Vec<u32>> {
        let cur = self.next.take()?;
        let mut n = cur.clone();
        let mut ax = n.len();
        loop {
            if ax == 0 {
                break;
            }
            ax -= 1;
            n[ax] += 1;
            if (n[ax] as usize) < self.numblocks[ax] {
                self.next = Some(n);
                break;
            }
            n[ax] = 0;
        }
        Some(cur)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_normalizes() {
        let c = |spec: ChunkSpec, shape: &[usize]| Chunks::normalize(&spec, shape, 8).unwrap().0;
        assert_eq!(c(5.into(), &[12, 5]), vec![vec![5, 5, 2], vec![5]]);
        assert_eq!(c([4, 2].into(), &[8, 3]), vec![vec![4, 4], vec![2, 1]]);
        assert_eq!(c(ChunkSpec::Sizes(vec![None, Some(2)]), &[8, 3]), vec![vec![8], vec![2, 1]]);
        assert_eq!(c(vec![vec![3, 5], vec![3]].into(), &[8, 3]), vec![vec![3, 5], vec![3]]);
        assert_eq!(
            c(ChunkSpec::AutoBytes(8 * 100), &[100, 100]),
            vec![vec![13; 7].into_iter().chain([9]).collect::<Vec<_>>(), vec![7; 14].into_iter().chain([2]).collect()]
        );
        assert_eq!(c(ChunkSpec::Auto, &[1000]), vec![vec![1000]]);
        assert_eq!(c(3.into(), &[0]), vec![vec![0]]);
        assert_eq!(c(3.into(), &[]), Vec::<Vec<usize>>::new());
    }

    #[test]
    fn bad_chunks_say_what_is_wrong() {
        let e = |spec: ChunkSpec, shape: &[usize]| Chunks::normalize(&spec, shape, 8).unwrap_err().to_string();
        assert_eq!(
            e(vec![vec![3, 4]].into(), &[8]),
            "bad chunks: chunks [3, 4] on axis 0 sum to 7, but the axis has length 8"
        );
        assert_eq!(e([1, 2, 3].into(), &[8, 8]), "bad chunks: 3 chunk sizes given for an array of 2 dimensions [8, 8]");
        assert_eq!(e(0.into(), &[8]), "bad chunks: chunk size 0 on axis 0 of length 8");
    }

    #[test]
    fn auto_blocks_fit_the_target() {
        let ch = Chunks::normalize(&ChunkSpec::AutoBytes(1 << 20), &[10_000, 3_000], 8).unwrap();
        assert!(ch.max_block_len() * 8 <= 1 << 20);
        assert!(ch.max_block_len() * 8 > 1 << 18, "not needlessly small");
        assert_eq!(parse_bytes("128MiB"), Some(128 << 20));
        assert_eq!(parse_bytes("2 GB"), Some(2_000_000_000));
        assert_eq!(parse_bytes("4Gi"), Some(4 << 30), "Kubernetes' quantities");
        assert_eq!(parse_bytes("64MB!"), None);
    }

    #[test]
    fn indices_are_row_major() {
        let v: Vec<Vec<u32>> = BlockIndices::new(vec![2, 3]).collect();
        assert_eq!(v, vec![vec![0, 0], vec![0, 1], vec![0, 2], vec![1, 0], vec![1, 1], vec![1, 2]]);
        assert_eq!(BlockIndices::new(vec![]).count(), 1);
        assert_eq!(BlockIndices::new(vec![0]).count(), 0);
    }
}
