//! A small, fast, seedable generator for `random` arrays.
//!
//! Each block gets its own stream, seeded from the user's seed and the
//! block's position, so an array is the same on any scheduler, any thread
//! count and any order of execution. xoshiro256++ seeded by splitmix64.

/// splitmix64: seeds and mixes.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// xoshiro256++.
pub(crate) struct Rng([u64; 4]);

impl Rng {
    /// The stream of block `block` of an array seeded with `seed`.
    pub(crate) fn for_block(seed: u64, block: u64) -> Rng {
        let mut s = seed ^ block.wrapping_mul(0xd134_2543_de82_ef95);
        Rng([splitmix64(&mut s), splitmix64(&mut s), splitmix64(&mut s), splitmix64(&mut s)])
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    #[inline]
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform integer in [low, high) (Lemire's multiply, without rejection).
    pub(crate) fn integer(&mut self, low: i64, high: i64) -> i64 {
        let span = high.wrapping_sub(low) as u64;
        low.wrapping_add(((u128::from(self.next_u64()) * u128::from(span)) >> 64) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::for_block(42, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::for_block(42, 0).next_u64(), Rng::for_block(42, 1).next_u64());
        let mut r = Rng::for_block(1, 2);
        let m: f64 = (0..100_000).map(|_| r.uniform()).sum::<f64>() / 1e5;
        assert!((m - 0.5).abs() < 0.01);
        let n: Vec<f64> = (0..100_000).map(|_| r.normal()).collect();
        let mean = n.iter().sum::<f64>() / 1e5;
        let var = n.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 1e5;
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.02);
        assert!((0..1000).map(|_| r.integer(-3, 4)).all(|x| (-3..4).contains(&x)));
    }
}

/// A counter-based stream: element `i` is a pure function of the key and
/// `i` (the splitmix64 finalizer of `key + (i + 1)·γ`), so elements can be
/// drawn in any order — rows, columns, tiles — and always agree. Uniform
/// blocks use it, so a fused expression can draw exactly the numbers the
/// block would hold without the block ever existing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stream {
    key: u64,
}

const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

#[inline]
fn fmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Stream {
    /// The stream of block number `block` of an array seeded with `seed`.
    pub(crate) fn for_block(seed: u64, block: u64) -> Stream {
        Stream { key: fmix(fmix(seed ^ 0x5851_f42d_4c95_7f2d).wrapping_add(block.wrapping_mul(GAMMA))) }
    }

    /// The `i`-th uniform number in [0, 1), with 52 random bits: the
    /// bits go straight into the mantissa of a number in [1, 2) (integer
    /// operations only, which vectorize; no integer-to-float conversion).
    #[inline]
    pub(crate) fn uniform(self, i: u64) -> f64 {
        let w = fmix(self.key.wrapping_add(i.wrapping_add(1).wrapping_mul(GAMMA)));
        f64::from_bits(0x3ff0_0000_0000_0000 | (w >> 12)) - 1.0
    }
}

impl Stream {
    /// Fills `out[t]` with `low + scale · uniform(first + t · step)`.
    ///
    /// The loop is the hot path of fused expressions over random arrays.
    /// On x86-64 CPUs with AVX-512DQ it runs a copy compiled for that
    /// instruction set (64-bit vector multiplies, 8 lanes); elsewhere the
    /// portable one. Both compute the same numbers.
    pub(crate) fn fill_uniform(self, out: &mut [f64], first: i64, step: i64, low: f64, scale: f64) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512dq") {
                // SAFETY: the CPU has just been checked to support every
                // feature `fill_avx512` is compiled for.
                #[allow(unsafe_code)]
                unsafe {
                    self.fill_avx512(out, first, step, low, scale)
                };
                return;
            }
        }
        self.fill_portable(out, first, step, low, scale);
    }

    #[inline(always)]
    fn fill_portable(self, out: &mut [f64], first: i64, step: i64, low: f64, scale: f64) {
        for (t, o) in out.iter_mut().enumerate() {
            *o = low + scale * self.uniform((first + t as i64 * step) as u64);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn fill_avx512(self, out: &mut [f64], first: i64, step: i64, low: f64, scale: f64) {
        self.fill_portable(out, first, step, low, scale);
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn stream_is_uniform_and_order_free() {
        let s = Stream::for_block(42, 3);
        assert_eq!(s.uniform(17), Stream::for_block(42, 3).uniform(17));
        assert_ne!(s.uniform(0), Stream::for_block(42, 4).uniform(0));
        let m: f64 = (0..100_000).map(|i| s.uniform(i)).sum::<f64>() / 1e5;
        assert!((m - 0.5).abs() < 0.01);
        assert!((0..1000).all(|i| (0.0..1.0).contains(&s.uniform(i))));
        let mut fast = vec![0.0; 1001];
        s.fill_uniform(&mut fast, 5, 3, 2.0, 4.0);
        let mut slow = vec![0.0; 1001];
        s.fill_portable(&mut slow, 5, 3, 2.0, 4.0);
        assert_eq!(fast, slow);
    }
}
