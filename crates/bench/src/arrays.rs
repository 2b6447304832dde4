//! Array workloads of the benchmark contract: `ones-sum`, `xxt`,
//! `dot-std`, `big-sum`.

use std::time::Instant;

use blockwork as bw;
use bw::array::{self as bwa, Array};
use serde_json::{json, Value as Json};

/// How the input matrix is filled.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Fill {
    /// `random((n, n))`, seeded.
    Random,
    /// `((7 i + 13 j) mod 101) / 101`, reproducible by NumPy.
    Pattern,
    /// `ones((n, n))` (what the reference's `dot` case uses).
    Ones,
}

fn input(n: usize, chunk: usize, fill: Fill, seed: u64) -> anyhow::Result<Array<f64>> {
    Ok(match fill {
        Fill::Random => bwa::random::random(&[n, n], [chunk, chunk], seed)?,
        Fill::Pattern => bwa::pattern(&[n, n], [chunk, chunk])?,
        Fill::Ones => bwa::ones(&[n, n], [chunk, chunk])?,
    })
}

/// One timed run: build the expression and compute it.
fn timed(
    repeats: usize,
    target: &crate::overhead::Target,
    mut build: impl FnMut() -> anyhow::Result<Array<f64>>,
) -> anyhow::Result<(f64, f64, Vec<f64>)> {
    let mut times = Vec::new();
    let mut result = f64::NAN;
    let mut tasks = 0.0;
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        let expr = build()?;
        tasks = expr.ntasks() as f64;
        result = target.compute_array(&expr)?.iter().next().copied().unwrap_or(f64::NAN);
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], result, vec![tasks]))
}

/// Runs an array workload and returns its JSON record (without the
/// common fields the caller adds).
pub fn run(
    workload: &str,
    n: usize,
    chunk: usize,
    fill: Fill,
    seed: u64,
    repeats: usize,
    target: &crate::overhead::Target,
) -> anyhow::Result<(f64, Json, Json)> {
    let (seconds, result, extra) = match workload {
        "ones-sum" => timed(repeats, target, || Ok(bwa::ones::<f64>(&[n], chunk)?.sum()))?,
        "xxt" => timed(repeats, target, || {
            let x = input(n, chunk, fill, seed)?;
            Ok(x.add(x.t())?.sub(x.mean_axis(0)?)?.sum())
        })?,
        "dot-std" => timed(repeats, target, || {
            let x = input(n, chunk, fill, seed)?;
            Ok(x.dot(&(&x.t() + 1.0))?.sub(x.mean())?.std(0))
        })?,
        "big-sum" => timed(repeats, target, || Ok(bwa::random::random(&[n, n], [chunk, chunk], seed)?.sum()))?,
        other => anyhow::bail!("unknown array workload {other:?}"),
    };
    let mut params = json!({"n": n, "chunk": chunk, "repeats": repeats, "seed": seed});
    if matches!(workload, "xxt" | "dot-std") {
        params["fill"] = json!(format!("{fill:?}").to_lowercase());
    }
    let mut extras = json!({"tasks": extra[0]});
    if workload == "dot-std" {
        let flops = 2.0 * (n as f64).powi(3);
        extras["gemm_gflops_lower_bound"] = json!(flops / seconds / 1e9);
    }
    Ok((seconds, json!({"params": params, "result": result}), extras))
}

/// The chunked product `x.dot(y)` of two n×n random matrices against one
/// faer GEMM of the same size on the same threads: how much of a GEMM's
/// speed the blocked algorithm keeps.
pub fn gemm(n: usize, chunk: usize, repeats: usize, config: &bw::Config) -> anyhow::Result<Json> {
    let threads = config.scheduler.nthreads();
    let flops = 2.0 * (n as f64).powi(3);
    let x = bwa::random::random(&[n, n], [chunk, chunk], 1)?.persist_with(config)?;
    let y = bwa::random::random(&[n, n], [chunk, chunk], 2)?.persist_with(config)?;
    // The product's blocks are made and summed (no n×n result assembled).
    let chunked = median_of(|| x.dot(&y)?.sum().compute_scalar_with(config).map(|_| ()).map_err(Into::into), repeats)?;
    let a = faer::Mat::<f64>::from_fn(n, n, |i, j| ((i * 7 + j * 13) % 101) as f64 / 101.0);
    let b = faer::Mat::<f64>::from_fn(n, n, |i, j| ((i * 3 + j * 5) % 97) as f64 / 97.0);
    let mut c = faer::Mat::<f64>::zeros(n, n);
    let par = if threads > 1 { faer::Par::rayon(threads) } else { faer::Par::Seq };
    let single = median_of(
        || {
            faer::linalg::matmul::matmul(c.as_mut(), faer::Accum::Replace, a.as_ref(), b.as_ref(), 1.0, par);
            Ok(())
        },
        repeats,
    )?;
    Ok(json!({
        "workload": "gemm",
        "params": {"n": n, "chunk": chunk, "repeats": repeats, "threads": threads},
        "chunked_seconds": chunked,
        "chunked_gflops": flops / chunked / 1e9,
        "faer_seconds": single,
        "faer_gflops": flops / single / 1e9,
        "chunked_over_faer": single / chunked,
    }))
}

fn median_of(mut f: impl FnMut() -> anyhow::Result<()>, repeats: usize) -> anyhow::Result<f64> {
    let mut t = Vec::new();
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        f()?;
        t.push(t0.elapsed().as_secs_f64());
    }
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

/// One block of n×n through blockwork (sync scheduler, one task per
/// step) against plain ndarray on the same in-memory data.
pub fn kernel(n: usize, repeats: usize) -> anyhow::Result<Json> {
    let data =
        ndarray::ArrayD::from_shape_fn(ndarray::IxDyn(&[n, n]), |i| ((7 * i[0] + 13 * i[1]) % 101) as f64 / 101.0);
    let x = bwa::from_ndarray(data.clone(), [n, n])?.persist()?;
    let sync = bw::Config::with_scheduler(bw::Scheduler::Sync);
    let mut sink = 0.0;
    let bw_map = median_of(
        || {
            let y = (&x * 2.0 + 1.0).compute_with(&sync)?;
            sink += y[[0, 0]];
            Ok(())
        },
        repeats,
    )?;
    let nd_map = median_of(
        || {
            let y = data.mapv(|v| v * 2.0 + 1.0);
            sink += y[[0, 0]];
            Ok(())
        },
        repeats,
    )?;
    let bw_sum = median_of(
        || {
            sink += x.sum().compute_scalar_with(&sync)?;
            Ok(())
        },
        repeats,
    )?;
    let nd_sum = median_of(
        || {
            sink += data.sum();
            Ok(())
        },
        repeats,
    )?;
    Ok(json!({
        "workload": "kernel",
        "impl": "blockwork-sync",
        "params": {"n": n, "repeats": repeats},
        "seconds": bw_map + bw_sum,
        "result": {"map_ratio": bw_map / nd_map, "sum_ratio": bw_sum / nd_sum},
        "blockwork_map_s": bw_map, "ndarray_map_s": nd_map, "blockwork_sum_s": bw_sum, "ndarray_sum_s": nd_sum,
        "peak_rss_mib": crate::alloc::peak_rss_mib(),
        "checksum": sink,
    }))
}
