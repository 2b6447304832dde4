//! The decomposition workloads: `svd`, the exact SVD of a tall-and-skinny
//! m×k array chunked by rows (TSQR), `u`, `s` and `v` all computed, as the
//! reference's `dask.compute(u, s, v)`; result = Σ s. `svd-compressed`,
//! the randomized SVD of a square n×n array (k triplets, 2 power
//! iterations), as the reference's `svd_compressed(x, k, n_power_iter=2,
//! seed)[1].sum()` — or of `x.dot(x.T)` (`--gram`), the talks' line, on
//! local schedulers or a cluster (whose workers' peak memory is recorded);
//! result = Σ s.

use std::time::Instant;

use blockwork as bw;
use bw::array::{self as bwa, Array};
use faer::Mat;
use serde_json::{json, Value as Json};

use crate::arrays::{Fill, Input};
use crate::check::{Check, Verdict};

/// What the workload is asked to do.
pub struct Spec<'a> {
    pub m: usize,
    pub k: usize,
    pub rows: usize,
    pub input: Input<'a>,
}

fn input(s: &Spec<'_>) -> anyhow::Result<Array<f64>> {
    Ok(match s.input.fill {
        Fill::Random => bwa::random::random(&[s.m, s.k], [s.rows, s.k], s.input.seed)?,
        Fill::Pattern => bwa::pattern(&[s.m, s.k], [s.rows, s.k])?,
        other => anyhow::bail!("svd takes --fill random or pattern, not {other:?}"),
    })
}

/// Runs `once` one time uncounted — as the reference warms up: the first
/// run of a process faults in every page the allocator later reuses — then
/// `repeats` times. `once` returns its result and task count. Returns the
/// record with the timings, the results and `params`, and the results.
fn warm_runs(
    workload: &str,
    params: Json,
    repeats: usize,
    mut once: impl FnMut() -> anyhow::Result<(f64, usize)>,
) -> anyhow::Result<(Json, Vec<f64>)> {
    let (mut times, mut results) = (Vec::new(), Vec::new());
    let mut tasks = 0;
    for _ in 0..repeats.max(1) + 1 {
        let t0 = Instant::now();
        let (result, n) = once()?;
        times.push(t0.elapsed().as_secs_f64());
        results.push(result);
        tasks = n;
    }
    let warmup = times.remove(0);
    results.remove(0);
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let record = json!({
        "workload": workload,
        "warmup_seconds": warmup,
        "params": params,
        "seconds": sorted[sorted.len() / 2],
        "runs_seconds": times,
        "result": results[results.len() - 1],
        "results": results,
        "tasks": tasks,
        "peak_rss_mib": crate::alloc::peak_rss_mib(),
    });
    Ok((record, results))
}

/// Runs the workload on `config`; returns the JSON record.
pub fn run(s: &Spec<'_>, config: &bw::Config) -> anyhow::Result<Json> {
    let params = json!({"m": s.m, "k": s.k, "rows": s.rows, "fill": s.input.fill.name(), "seed": s.input.seed, "repeats": s.input.repeats});
    let (mut record, results) = warm_runs("svd", params, s.input.repeats, || {
        let (u, sv, v) = input(s)?.svd()?;
        let out = bwa::compute_many(&[&u, &sv, &v], config)?;
        Ok((out[1].sum(), u.ntasks() + v.ntasks()))
    })?;
    if let Some(check) = s.input.check {
        let verdict = match check {
            Check::Value(v) => Verdict::of(&results, *v, 1e-9, "the value given to --check"),
            Check::Auto => {
                let x = input(s)?.compute_with(config)?;
                let x2 = x.view().into_dimensionality::<ndarray::Ix2>()?;
                let whole = Mat::from_fn(s.m, s.k, |i, j| x2[[i, j]]);
                let expect: f64 = whole.singular_values().map_err(|e| anyhow::anyhow!("{e:?}"))?.iter().sum();
                Verdict::of(&results, expect, 1e-9, "Σ of faer's singular values of the whole matrix")
            }
            Check::File(p) => anyhow::bail!("{}: svd checks against a value or `auto`", p.display()),
        };
        record["check"] = verdict.to_json();
    }
    Ok(record)
}

/// What `svd-compressed` is asked to do.
pub struct CompressedSpec<'a> {
    pub n: usize,
    pub chunk: usize,
    pub k: usize,
    pub gram: bool,
    pub input: Input<'a>,
}

/// The randomized SVD's power iterations and oversampling, as the
/// reference's `svd_compressed(x, k, n_power_iter=2)` (its default
/// oversampling is 10).
const POWER_ITERS: usize = 2;
const OVERSAMPLES: usize = 10;

/// Runs `svd-compressed` on `target`; returns the JSON record.
pub fn run_compressed(s: &CompressedSpec<'_>, target: &crate::overhead::Target) -> anyhow::Result<Json> {
    let params = json!({"n": s.n, "chunk": s.chunk, "k": s.k, "n_power_iter": POWER_ITERS, "fill": s.input.fill.name(),
        "gram": s.gram, "seed": s.input.seed, "repeats": s.input.repeats});
    let (mut record, results) = warm_runs("svd-compressed", params, s.input.repeats, || {
        let x = crate::arrays::input(s.n, s.chunk, s.input.fill, s.input.seed)?;
        let a = if s.gram { x.dot(&x.t())? } else { x };
        let (_, sv, _) = a.svd_compressed(s.k, POWER_ITERS, OVERSAMPLES, s.input.seed)?;
        Ok((target.compute_array(&sv)?.sum(), sv.ntasks()))
    })?;
    if matches!(target, crate::overhead::Target::Cluster { .. }) {
        record["worker_peak_rss_mib"] = json!(crate::alloc::worker_peaks_mib());
    }
    if let Some(check) = s.input.check {
        let verdict = match check {
            // The libraries draw different random numbers: the sum agrees
            // with another draw's to about 1e-4 at n = 20000.
            Check::Value(v) => Verdict::of(&results, *v, 1e-3, "the value given to --check (another draw: rtol 1e-3)"),
            // x·xᵀ's singular values are the squares of x's.
            Check::Auto if matches!(s.input.fill, Fill::Pattern) => Verdict::of(
                &results,
                pattern_top_singular_values(s.n, s.k, if s.gram { 2 } else { 1 })?,
                1e-3,
                "Σ of the k largest singular values of the pattern (squared, for x·xᵀ), from its 101×101 \
                 residue matrix (rtol 1e-3)",
            ),
            Check::Auto if !s.gram => Verdict::of(
                &results,
                plain_randomized_top_sum(s)?,
                1e-8,
                "Σ s of the same randomized SVD done on the whole matrix by faer (the same Gaussian test \
                 matrix; whole products and QRs for blocked ones and TSQR; rtol 1e-8)",
            ),
            _ => anyhow::bail!(
                "svd-compressed --gram checks by itself on --fill pattern only, or against a value (the \
                 reference's result)"
            ),
        };
        record["check"] = verdict.to_json();
    }
    Ok(record)
}

/// Σ of the `k` singular values the randomized SVD finds, computed the
/// same way on the whole matrix by faer: the same Gaussian test matrix
/// (drawn by blockwork's generator, whose stream follows the chunking), then
/// whole products and Householder QRs where the workload has blocked
/// products and TSQR. Each step spans the same subspace, so the singular
/// values agree to rounding; a wrong block, product or factor shows.
fn plain_randomized_top_sum(s: &CompressedSpec<'_>) -> anyhow::Result<f64> {
    use faer::linalg::matmul::matmul;
    let n = s.n;
    let l = (s.k + OVERSAMPLES).min(n);
    let values = crate::arrays::plain_matrix(n, s.chunk, s.input.fill, s.input.seed)?;
    let x = Mat::from_fn(n, n, |i, j| values[i * n + j]);
    drop(values);
    // The test matrix is chunked as the workload's (its rows as x's columns).
    let rows = crate::arrays::input(n, s.chunk, s.input.fill, s.input.seed)?.chunks().axis(1).to_vec();
    let sync = bw::Config::with_scheduler(bw::Scheduler::Sync).optimize(false);
    let omega = bwa::random::draw::<f64>(
        bwa::random::Dist::Normal { loc: 0.0, scale: 1.0 },
        &[n, l],
        vec![rows, vec![l]],
        s.input.seed,
    )?
    .compute_with(&sync)?;
    let omega = omega.into_dimensionality::<ndarray::Ix2>()?;
    let omega = Mat::from_fn(n, l, |i, j| omega[[i, j]]);
    let par = faer::Par::rayon(std::thread::available_parallelism().map_or(1, |t| t.get()));
    let mul = |a: faer::MatRef<'_, f64>, b: faer::MatRef<'_, f64>| {
        let mut c = Mat::<f64>::zeros(a.nrows(), b.ncols());
        matmul(c.as_mut(), faer::Accum::Replace, a, b, 1.0, par);
        c
    };
    let orthonormal = |y: &Mat<f64>| y.qr().compute_thin_Q();
    let mut y = mul(x.as_ref(), omega.as_ref());
    for _ in 0..POWER_ITERS {
        let q = orthonormal(&y);
        let q = orthonormal(&mul(x.transpose(), q.as_ref()));
        y = mul(x.as_ref(), q.as_ref());
    }
    let q = orthonormal(&y);
    let projected = mul(q.transpose(), x.as_ref());
    let mut sv: Vec<f64> = projected.singular_values().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    sv.sort_by(|a, b| b.total_cmp(a));
    Ok(sv.iter().take(s.k).sum())
}

/// The sum of the `k` largest singular values of the n×n pattern
/// `x[i, j] = ((7 i + 13 j) mod 101) / 101`, computed another way: with
/// `R` (n×101) and `C` the indicators of the residues `7 i mod 101` and
/// `13 j mod 101`, `x = R M Cᵀ` where `M[a, b] = ((a + b) mod 101) / 101`,
/// and `RᵀR`, `CᵀC` are the diagonal counts `D_R`, `D_C`; so `x`'s nonzero
/// singular values are those of the 101×101 `√D_R M √D_C`. Each value
/// is raised to `power` before summing.
fn pattern_top_singular_values(n: usize, k: usize, power: i32) -> anyhow::Result<f64> {
    const P: usize = 101;
    let (mut rows, mut cols) = ([0f64; P], [0f64; P]);
    for i in 0..n {
        rows[(7 * i) % P] += 1.0;
        cols[(13 * i) % P] += 1.0;
    }
    let b = Mat::from_fn(P, P, |a, c| rows[a].sqrt() * (((a + c) % P) as f64 / P as f64) * cols[c].sqrt());
    let mut s: Vec<f64> = b.singular_values().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    s.sort_by(|x, y| y.total_cmp(x));
    Ok(s.iter().take(k).map(|v| v.powi(power)).sum())
}
