//! Kernels compiled for the CPU they run on.
//!
//! The workspace builds for baseline x86-64 (SSE2), so a release binary
//! runs on any x86-64 machine. Hot loops that vectorize twice as wide
//! with AVX2 run through [`with_avx2`]: one copy of the loop compiled for
//! AVX2, chosen at run time when the CPU has it, the baseline copy
//! otherwise. Both compute the same values.

/// Runs `f`, compiled for AVX2 where the CPU supports it.
///
/// `f` is inlined into a function compiled with AVX2 enabled, so the
/// loops in it vectorize with 256-bit registers; the check is one cached
/// CPUID lookup, made once per call, so `f` should be a whole loop, not
/// one element. On other CPUs and architectures `f` runs as compiled.
#[inline(always)]
pub fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has just been checked to support AVX2, the
            // one feature `avx2` is compiled for.
            #[allow(unsafe_code)]
            return unsafe { avx2(f) };
        }
    }
    f()
}

#[cfg(test)]
mod tests {
    use super::with_avx2;

    #[test]
    fn a_loop_run_through_with_avx2_computes_what_it_computes_without() {
        let xs: Vec<f32> = (0..1003).map(|i| (i as f32 * 0.37).sin()).collect();
        let plain: Vec<f64> = xs.iter().map(|&x| f64::from(x) * 2.0 + 1.0).collect();
        let wide = with_avx2(|| xs.iter().map(|&x| f64::from(x) * 2.0 + 1.0).collect::<Vec<_>>());
        assert_eq!(plain, wide);
    }
}
