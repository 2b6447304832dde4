//! The climate job's reading and folding as one plain loop per chunk,
//! with no engine around it: a floor for the job, and a measure of what a
//! read fused with the fold would gain. Each chunk's bytes are read from
//! the file into a buffer, inflated by libdeflate, its float32 elements
//! taken from the shuffle's planes, and each map (one step of the first
//! dimension) added into a float64 sum, in one of two orders:
//!
//! - `Block`: the whole chunk taken into a block, then the block's maps
//!   folded, as the job does it (a read task, then the reduction's; here
//!   the thread keeps its block, where the job allocates one per read);
//! - `Map`: each map taken from the planes into a map-sized buffer and
//!   folded at once, while it is in cache (a read fused with the fold).
//!
//! Both run on every thread, compiled for AVX2 where the CPU has it (as
//! the job's fold is), and their sums are checked against each other.

use std::os::unix::fs::FileExt;
use std::path::PathBuf;

/// A shuffled float32 chunk, where it is stored.
pub struct Located {
    pub path: PathBuf,
    pub offset: u64,
    pub size: usize,
    pub decoded: usize,
    /// Elements per step of the first dimension.
    pub map: usize,
}

/// The order of taking and folding.
#[derive(Clone, Copy, Debug)]
pub enum Order {
    Block,
    Map,
}

impl Order {
    pub fn name(self) -> &'static str {
        match self {
            Order::Block => "read, inflate, unshuffle the chunk, fold its maps",
            Order::Map => "read, inflate, unshuffle and fold map by map",
        }
    }
}

/// What a thread keeps between chunks.
struct Thread {
    raw: Vec<u8>,
    inflated: Vec<u8>,
    block: Vec<f32>,
    sum: Vec<f64>,
    inflater: libdeflater::Decompressor,
}

/// Runs every chunk on `threads` threads: the seconds and the total of
/// every element, summed in float64.
pub fn run(order: Order, chunks: &[Located], threads: usize) -> anyhow::Result<(f64, f64)> {
    let largest = chunks.iter().map(|c| c.decoded).max().unwrap_or(0);
    let map = chunks.iter().map(|c| c.map).max().unwrap_or(0);
    let mut states: Vec<Thread> = (0..threads.max(1))
        .map(|_| Thread {
            raw: vec![0xa5; chunks.iter().map(|c| c.size).max().unwrap_or(0)],
            inflated: vec![0xa5; largest],
            block: vec![0.5; largest / 4],
            sum: vec![0.0; map],
            inflater: libdeflater::Decompressor::new(),
        })
        .collect();
    let seconds = crate::inflate::on_threads(&mut states, chunks, |t, c| t.chunk(order, c))?;
    Ok((seconds, states.iter().flat_map(|t| &t.sum).sum()))
}

impl Thread {
    fn chunk(&mut self, order: Order, c: &Located) -> anyhow::Result<()> {
        let raw = &mut self.raw[..c.size];
        std::fs::File::open(&c.path)?.read_exact_at(raw, c.offset)?;
        let inflated = &mut self.inflated[..c.decoded];
        let n = self.inflater.zlib_decompress(raw, inflated)?;
        anyhow::ensure!(n == c.decoded, "{}: a chunk inflated to {n} bytes, not {}", c.path.display(), c.decoded);
        let elements = c.decoded / 4;
        let planes: [&[u8]; 4] = std::array::from_fn(|b| &inflated[b * elements..(b + 1) * elements]);
        let (block, sum) = (&mut self.block[..elements], &mut self.sum[..c.map]);
        dispatch(order, &planes, block, sum);
        Ok(())
    }
}

fn dispatch(order: Order, planes: &[&[u8]; 4], block: &mut [f32], sum: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has just been checked to support AVX2, the
            // one feature `take_and_fold_avx2` is compiled for.
            #[allow(unsafe_code)]
            unsafe {
                take_and_fold_avx2(order, planes, block, sum)
            };
            return;
        }
    }
    take_and_fold(order, planes, block, sum);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn take_and_fold_avx2(order: Order, planes: &[&[u8]; 4], block: &mut [f32], sum: &mut [f64]) {
    take_and_fold(order, planes, block, sum);
}

#[inline(always)]
fn take_and_fold(order: Order, planes: &[&[u8]; 4], block: &mut [f32], sum: &mut [f64]) {
    let map = sum.len();
    match order {
        Order::Block => {
            take(planes, 0, block);
            for m in block.chunks_exact(map) {
                fold(sum, m);
            }
        }
        Order::Map => {
            let buf = &mut block[..map];
            for first in (0..planes[0].len()).step_by(map) {
                take(planes, first, buf);
                fold(sum, buf);
            }
        }
    }
}

/// Elements `first..first + out.len()` from the planes.
#[inline(always)]
fn take(planes: &[&[u8]; 4], first: usize, out: &mut [f32]) {
    let [a, b, c, d] = planes.map(|p| &p[first..first + out.len()]);
    for ((((a, b), c), d), o) in a.iter().zip(b).zip(c).zip(d).zip(out) {
        *o = f32::from_le_bytes([*a, *b, *c, *d]);
    }
}

/// `sum += map`, NaN as 0 (the job's mean skips NaN).
#[inline(always)]
fn fold(sum: &mut [f64], map: &[f32]) {
    for (s, &x) in sum.iter_mut().zip(map) {
        let x = f64::from(x);
        *s += if x.is_nan() { 0.0 } else { x };
    }
}
