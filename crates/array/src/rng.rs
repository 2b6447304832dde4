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
