//! Array workloads of the benchmark contract: `ones-sum`, `xxt`,
//! `dot-std`, `big-sum`.

use std::time::Instant;

use std::path::PathBuf;

use blockwork as bw;
use bw::array::{self as bwa, Array};
use serde_json::{json, Value as Json};

use crate::check::{Check, Verdict};

/// How the input matrix is filled (`--fill`).
#[derive(Clone, Debug)]
pub enum Fill {
    /// `random((n, n))`, seeded.
    Random,
    /// `((7 i + 13 j) mod 101) / 101`, reproducible by NumPy.
    Pattern,
    /// `ones((n, n))` (what the reference's `dot` case uses).
    Ones,
    /// A square f64 `.npy` file (`npy:PATH`), read block by block.
    Npy(PathBuf),
}

impl std::str::FromStr for Fill {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "random" => Ok(Fill::Random),
            "pattern" => Ok(Fill::Pattern),
            "ones" => Ok(Fill::Ones),
            _ => match s.strip_prefix("npy:") {
                Some(path) if !path.is_empty() => Ok(Fill::Npy(path.into())),
                _ => Err(format!("unknown fill {s:?}: use random, pattern, ones or npy:PATH")),
            },
        }
    }
}

impl Fill {
    pub(crate) fn name(&self) -> String {
        match self {
            Fill::Random => "random".into(),
            Fill::Pattern => "pattern".into(),
            Fill::Ones => "ones".into(),
            Fill::Npy(p) => format!("npy:{}", p.display()),
        }
    }

    /// The side of the input: `n`, or the file's.
    fn side(&self, n: usize) -> anyhow::Result<usize> {
        let Fill::Npy(path) = self else { return Ok(n) };
        let h = bwa::read_npy_header(path)?;
        match h.shape[..] {
            [a, b] if a == b && h.descr == "<f8" => Ok(a),
            _ => anyhow::bail!(
                "{}: the array workloads take a square f64 matrix, not {:?} {}",
                path.display(),
                h.shape,
                h.descr
            ),
        }
    }
}

pub(crate) fn input(n: usize, chunk: usize, fill: &Fill, seed: u64) -> anyhow::Result<Array<f64>> {
    Ok(match fill {
        Fill::Random => bwa::random::random(&[n, n], [chunk, chunk], seed)?,
        Fill::Pattern => bwa::pattern(&[n, n], [chunk, chunk])?,
        Fill::Ones => bwa::ones(&[n, n], [chunk, chunk])?,
        Fill::Npy(path) => bwa::from_npy(path, [chunk, chunk])?,
    })
}

/// Runs `repeats` times: build the expression and compute it. Returns
/// each run's time and result, in order, and the task count.
fn timed(
    repeats: usize,
    target: &crate::overhead::Target,
    mut build: impl FnMut() -> anyhow::Result<Array<f64>>,
) -> anyhow::Result<(Vec<f64>, Vec<f64>, f64)> {
    let mut times = Vec::new();
    let mut results = Vec::new();
    let mut tasks = 0.0;
    for _ in 0..repeats.max(1) {
        let t0 = Instant::now();
        let expr = build()?;
        tasks = expr.ntasks() as f64;
        results.push(target.compute_array(&expr)?.iter().next().copied().unwrap_or(f64::NAN));
        times.push(t0.elapsed().as_secs_f64());
    }
    Ok((times, results, tasks))
}

/// The reported time: the median of every run, or on a cluster the
/// median of the warm runs, the first (on fresh worker processes) being
/// reported apart as `cold_seconds`.
pub fn seconds_of(times: &[f64], target: &crate::overhead::Target, record: &mut Json) -> f64 {
    let median = |xs: &[f64]| {
        let mut xs = xs.to_vec();
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    record["runs_seconds"] = json!(times);
    if matches!(target, crate::overhead::Target::Cluster { .. }) && times.len() > 1 {
        record["cold_seconds"] = json!(times[0]);
        record["warm_seconds"] = json!(median(&times[1..]));
        median(&times[1..])
    } else {
        median(times)
    }
}

/// What every workload on a generated or read matrix takes alike: the
/// input, the seed of random fills, the runs, the check.
#[derive(Clone, Copy)]
pub struct Input<'a> {
    pub fill: &'a Fill,
    pub seed: u64,
    pub repeats: usize,
    pub check: Option<&'a Check>,
}

/// What one array workload is asked to do.
pub struct Spec<'a> {
    pub workload: &'a str,
    pub n: usize,
    pub chunk: usize,
    pub input: Input<'a>,
}

/// Runs an array workload and returns its JSON record (without the
/// common fields the caller adds).
pub fn run(spec: &Spec<'_>, target: &crate::overhead::Target) -> anyhow::Result<(f64, Json)> {
    let Spec { workload, chunk, input: Input { fill, seed, repeats, check }, .. } = *spec;
    let n = fill.side(spec.n)?;
    let (times, results, tasks) = match workload {
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
        params["fill"] = json!(fill.name());
    }
    let mut record =
        json!({"params": params, "result": results[results.len() - 1], "results": results, "tasks": tasks});
    let seconds = seconds_of(&times, target, &mut record);
    if workload == "dot-std" {
        let flops = 2.0 * (n as f64).powi(3);
        record["gemm_gflops_lower_bound"] = json!(flops / seconds / 1e9);
        if matches!(fill, Fill::Ones) {
            record["note"] =
                json!("constant blocks are reduced in closed form: with ones every product is constant and std is 0");
        }
    }
    // Read before the check, whose plain computation may hold the whole input.
    record["peak_rss_mib"] = json!(crate::alloc::peak_rss_mib());
    if let Some(check) = check {
        record["check"] = verify(spec, n, &results, check)?.to_json();
    }
    Ok((seconds, record))
}

/// Checks results against a reference computed without the workload's graph.
fn verify(spec: &Spec<'_>, n: usize, results: &[f64], check: &Check) -> anyhow::Result<Verdict> {
    let (reference, method, rtol) = match (check, spec.workload) {
        (Check::Value(v), _) => (*v, "the value given to --check".to_string(), 1e-9),
        (Check::File(p), _) => anyhow::bail!("{}: array workloads check against a value or `auto`", p.display()),
        (Check::Auto, "ones-sum") => (spec.n as f64, "closed form: n".into(), 0.0),
        // ((x + xᵀ) − x.mean(axis=0)).sum() = 2 Σx − n Σⱼ mean(x[:, j]) = Σx.
        (Check::Auto, "xxt") => {
            let (sum, how) = plain_sum(n, spec.chunk, spec.input.fill, spec.input.seed)?;
            (sum, format!("Σx (the workload's closed form), {how}"), 1e-9)
        }
        (Check::Auto, "dot-std") => {
            let x = plain_matrix(n, spec.chunk, spec.input.fill, spec.input.seed)?;
            (plain_dot_std(n, &x), "one faer GEMM of the whole x·(xᵀ + 1), then a two-pass std".into(), 1e-8)
        }
        (Check::Auto, "big-sum") => {
            // A sum of n² uniform draws: mean n²/2, standard deviation n/√12.
            let nn = (n as f64).powi(2);
            (
                nn / 2.0,
                "closed form n²/2, within 6 standard deviations (n/√12 each)".into(),
                6.0 * n as f64 / 12f64.sqrt() / (nn / 2.0),
            )
        }
        (_, other) => anyhow::bail!("no check for {other:?}"),
    };
    Ok(Verdict::of(results, reference, rtol, method))
}

/// Σx of the input, computed without the workload's expression.
fn plain_sum(n: usize, chunk: usize, fill: &Fill, seed: u64) -> anyhow::Result<(f64, &'static str)> {
    Ok(match fill {
        Fill::Ones => ((n * n) as f64, "closed form n²"),
        Fill::Pattern => {
            // Along a row the residues (7i + 13j) mod 101 run through all of
            // 0..101 every 101 columns (13 is invertible mod 101).
            let (q, r) = ((n / 101) as u64, n % 101);
            let total: u64 = (0..n)
                .map(|i| {
                    let a = (7 * i) % 101;
                    q * 5050 + (0..r).map(|j| ((a + 13 * j) % 101) as u64).sum::<u64>()
                })
                .sum();
            (total as f64 / 101.0, "closed form (residues counted per row)")
        }
        Fill::Random => {
            let sync = bw::Config::with_scheduler(bw::Scheduler::Sync).optimize(false);
            let x = bwa::random::random(&[n, n], [chunk, chunk], seed)?;
            (x.sum().compute_scalar_with(&sync)?, "the same draws reduced directly (sync scheduler)")
        }
        Fill::Npy(path) => {
            use std::io::{Read, Seek};
            let h = bwa::read_npy_header(path)?;
            let mut file = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
            file.seek(std::io::SeekFrom::Start(h.data_offset))?;
            let (mut sum, mut value) = (0.0, [0u8; 8]);
            while file.read_exact(&mut value).is_ok() {
                sum += f64::from_le_bytes(value);
            }
            (sum, "the file's values summed by a plain loop")
        }
    })
}

/// The whole input matrix, row-major, made without blockwork's graph
/// where it can be.
pub(crate) fn plain_matrix(n: usize, chunk: usize, fill: &Fill, seed: u64) -> anyhow::Result<Vec<f64>> {
    Ok(match fill {
        Fill::Ones => vec![1.0; n * n],
        Fill::Pattern => (0..n * n).map(|k| ((7 * (k / n) + 13 * (k % n)) % 101) as f64 / 101.0).collect(),
        Fill::Random => {
            let sync = bw::Config::with_scheduler(bw::Scheduler::Sync).optimize(false);
            let x = bwa::random::random(&[n, n], [chunk, chunk], seed)?.compute_with(&sync)?;
            x.as_standard_layout().iter().copied().collect()
        }
        Fill::Npy(path) => npy_values(path)?,
    })
}

/// The f64 values of a `.npy` file, read with a plain loop.
fn npy_values(path: &std::path::Path) -> anyhow::Result<Vec<f64>> {
    let h = bwa::read_npy_header(path)?;
    let bytes = std::fs::read(path)?;
    let data = bytes.get(h.data_offset as usize..).ok_or_else(|| anyhow::anyhow!("{}: truncated", path.display()))?;
    Ok(data.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect())
}

/// std(x·(xᵀ + 1)) by one faer GEMM (the mean subtracted in the workload
/// does not change the standard deviation).
fn plain_dot_std(n: usize, x: &[f64]) -> f64 {
    let a = faer::Mat::<f64>::from_fn(n, n, |i, j| x[i * n + j]);
    let b = faer::Mat::<f64>::from_fn(n, n, |i, j| x[j * n + i] + 1.0);
    let mut y = faer::Mat::<f64>::zeros(n, n);
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    faer::linalg::matmul::matmul(
        y.as_mut(),
        faer::Accum::Replace,
        a.as_ref(),
        b.as_ref(),
        1.0,
        faer::Par::rayon(threads),
    );
    let count = (n * n) as f64;
    let mean = (0..n).map(|j| y.col(j).iter().sum::<f64>()).sum::<f64>() / count;
    let m2 = (0..n).map(|j| y.col(j).iter().map(|v| (v - mean) * (v - mean)).sum::<f64>()).sum::<f64>();
    (m2 / count).sqrt()
}

/// The chunked product `x.dot(y)` of two n×n random matrices against one
/// faer GEMM of the same matrices on the same threads: how much of a
/// GEMM's speed the blocked algorithm keeps. The sums of both products
/// must agree.
pub fn gemm(n: usize, chunk: usize, repeats: usize, config: &bw::Config) -> anyhow::Result<Json> {
    let threads = config.scheduler.nthreads();
    let flops = 2.0 * (n as f64).powi(3);
    let x = bwa::random::random(&[n, n], [chunk, chunk], 1)?.persist_with(config)?;
    let y = bwa::random::random(&[n, n], [chunk, chunk], 2)?.persist_with(config)?;
    // The product's blocks are made and summed (no n×n result assembled).
    let mut sums = Vec::new();
    let chunked = median_of(
        || {
            sums.push(x.dot(&y)?.sum().compute_scalar_with(config)?);
            Ok(())
        },
        repeats,
    )?;
    let to_faer = |a: &Array<f64>| -> anyhow::Result<faer::Mat<f64>> {
        let a = a.compute_with(config)?;
        Ok(faer::Mat::<f64>::from_fn(n, n, |i, j| a[[i, j]]))
    };
    let (a, b) = (to_faer(&x)?, to_faer(&y)?);
    let mut c = faer::Mat::<f64>::zeros(n, n);
    let par = if threads > 1 { faer::Par::rayon(threads) } else { faer::Par::Seq };
    let single = median_of(
        || {
            faer::linalg::matmul::matmul(c.as_mut(), faer::Accum::Replace, a.as_ref(), b.as_ref(), 1.0, par);
            Ok(())
        },
        repeats,
    )?;
    let reference = (0..n).map(|j| c.col(j).iter().sum::<f64>()).sum::<f64>();
    let check = Verdict::of(&sums, reference, 1e-10, "the sum of one faer GEMM of the same matrices");
    Ok(json!({
        "workload": "gemm",
        "params": {"n": n, "chunk": chunk, "repeats": repeats, "threads": threads},
        "seconds": chunked,
        "result": sums.last(),
        "chunked_seconds": chunked,
        "chunked_gflops": flops / chunked / 1e9,
        "faer_seconds": single,
        "faer_gflops": flops / single / 1e9,
        "chunked_over_faer": single / chunked,
        "check": check.to_json(),
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
    let (mut bw_maps, mut nd_maps, mut bw_sums, mut nd_sums) = (None, None, Vec::new(), Vec::new());
    let bw_map = median_of(
        || {
            bw_maps = Some((&x * 2.0 + 1.0).compute_with(&sync)?);
            Ok(())
        },
        repeats,
    )?;
    let nd_map = median_of(
        || {
            nd_maps = Some(data.mapv(|v| v * 2.0 + 1.0));
            Ok(())
        },
        repeats,
    )?;
    let bw_sum = median_of(
        || {
            bw_sums.push(x.sum().compute_scalar_with(&sync)?);
            Ok(())
        },
        repeats,
    )?;
    let nd_sum = median_of(
        || {
            nd_sums.push(data.sum());
            Ok(())
        },
        repeats,
    )?;
    // The map must equal ndarray's element for element, the sums to rounding.
    let map_ok = bw_maps.is_some() && bw_maps == nd_maps;
    let reference = nd_sums.last().copied().unwrap_or(f64::NAN);
    let mut check = Verdict::of(&bw_sums, reference, 1e-12, "the same map and sum by ndarray");
    if !map_ok {
        check.worst = f64::INFINITY;
    }
    Ok(json!({
        "workload": "kernel",
        "impl": "blockwork-sync",
        "params": {"n": n, "repeats": repeats},
        "seconds": bw_map + bw_sum,
        "result": {"map_ratio": bw_map / nd_map, "sum_ratio": bw_sum / nd_sum},
        "blockwork_map_s": bw_map, "ndarray_map_s": nd_map, "blockwork_sum_s": bw_sum, "ndarray_sum_s": nd_sum,
        "peak_rss_mib": crate::alloc::peak_rss_mib(),
        "check": check.to_json(),
    }))
}
