//! Shared pieces of blockwork's deterministic simulations (the
//! scheduler's and the worker's test suites): a seeded generator that is
//! the same on every machine, and the helpers every simulated task graph
//! needs — the value a task computes, its sinks, the closure of a set of
//! tasks — and the local S3 server's endpoint and buckets that the
//! object-store tests share ([`s3`]). Test-only; not part of the public API.

use blockwork_graph::Key;

pub mod s3;
pub mod sim;

/// A seeded PRNG (splitmix64): tiny, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent / 100`.
    pub fn pct(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element, uniformly.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> {
        if xs.is_empty() {
            None
        } else {
            Some(&xs[self.below(xs.len() as u64) as usize])
        }
    }
}

/// splitmix64's finalizer: a good 64-bit mixing function.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A simulated task's value: a hash of its key and its inputs' values, in order.
pub fn task_value(key: &Key, inputs: &[u64]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in key.name().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    for i in key.index() {
        h = mix(h ^ u64::from(*i));
    }
    for v in inputs {
        h = mix(h.rotate_left(5) ^ v);
    }
    h
}

/// Tasks nothing depends on, given each task's inputs.
pub fn sinks(deps: &[&[usize]]) -> Vec<usize> {
    let mut has_dependent = vec![false; deps.len()];
    for d in deps {
        for &j in *d {
            has_dependent[j] = true;
        }
    }
    (0..deps.len()).filter(|&i| !has_dependent[i]).collect()
}

/// `roots` and everything they depend on, in index order (inputs first
/// when tasks only read earlier ones).
pub fn closure(deps: &[&[usize]], roots: &[usize]) -> Vec<usize> {
    let mut seen = vec![false; deps.len()];
    let mut stack: Vec<usize> = roots.to_vec();
    while let Some(i) = stack.pop() {
        if !seen[i] {
            seen[i] = true;
            stack.extend(deps[i].iter().copied());
        }
    }
    (0..deps.len()).filter(|&i| seen[i]).collect()
}
