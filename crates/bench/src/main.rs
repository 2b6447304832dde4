//! `blockwork-bench`: each workload prints exactly one JSON line on
//! stdout (the contract of `BENCHMARKS.md`); logs go to stderr.

mod alloc;
mod arrays;
mod check;
mod climate;
mod decomp;
mod frames;
mod inflate;
mod overhead;
mod procs;
mod readfold;
mod wordfreq;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// Benchmarks of blockwork.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    workload: Workload,
}

#[derive(Subcommand)]
enum Workload {
    /// No-op tasks: chain, fan or tree; result = N.
    Overhead {
        /// Number of no-op tasks (leaves for fan and tree).
        #[arg(long, default_value_t = 100_000)]
        n: u32,
        /// chain, fan or tree.
        #[arg(long, default_value = "fan")]
        pattern: String,
        /// raw (graph built directly) or delayed (through the delayed API).
        #[arg(long, default_value = "raw")]
        mode: String,
        #[command(flatten)]
        run: Run,
    },
    /// `ones((n,), chunks=c).sum()`; result = n.
    OnesSum {
        /// Length.
        #[arg(long, default_value_t = 150_000_000)]
        n: usize,
        /// Block length.
        #[arg(long, default_value_t = 5_000_000)]
        chunk: usize,
        #[command(flatten)]
        common: Common,
    },
    /// `((x + x.T) - x.mean(axis=0)).sum()` for an n×n x.
    Xxt {
        /// Side of x.
        #[arg(long, default_value_t = 20_000)]
        n: usize,
        /// Block side.
        #[arg(long, default_value_t = 1000)]
        chunk: usize,
        /// Fill of x: random, pattern, ones or npy:PATH.
        #[arg(long, default_value = "random")]
        fill: arrays::Fill,
        #[command(flatten)]
        common: Common,
    },
    /// `(x.dot(x.T + 1) - x.mean()).std()` for an n×n x.
    DotStd {
        /// Side of x.
        #[arg(long, default_value_t = 8000)]
        n: usize,
        /// Block side.
        #[arg(long, default_value_t = 1000)]
        chunk: usize,
        /// Fill of x: random, pattern, ones or npy:PATH (the reference's default is ones).
        #[arg(long, default_value = "ones")]
        fill: arrays::Fill,
        #[command(flatten)]
        common: Common,
    },
    /// The exact SVD of a tall-and-skinny m×k x chunked by rows (`u`, `s`
    /// and `v` all computed); result = the sum of the singular values.
    Svd {
        /// Rows of x.
        #[arg(long, default_value_t = 2_000_000)]
        m: usize,
        /// Columns of x.
        #[arg(long, default_value_t = 100)]
        k: usize,
        /// Rows per block.
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// Fill of x: random or pattern.
        #[arg(long, default_value = "random")]
        fill: arrays::Fill,
        #[command(flatten)]
        common: Common,
    },
    /// `svd_compressed(x, k, n_power_iter=2, seed)` of a square n×n x (or
    /// with `--gram` of `x.dot(x.T)`, the talks' line); result = the sum of
    /// the k singular values. Runs on local schedulers or a cluster.
    SvdCompressed {
        /// Side of x.
        #[arg(long, default_value_t = 20_000)]
        n: usize,
        /// Block side.
        #[arg(long, default_value_t = 1000)]
        chunk: usize,
        /// Singular triplets.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// Fill of x: random, pattern, ones or npy:PATH.
        #[arg(long, default_value = "random")]
        fill: arrays::Fill,
        /// Factor `x.dot(x.T)` instead of x.
        #[arg(long)]
        gram: bool,
        /// Memory limit of each worker of a local cluster (e.g. 2GiB).
        #[arg(long)]
        memory_limit: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// One block: `x * 2 + 1` and `x.sum()` through blockwork against the
    /// same loops in plain ndarray; result = the blockwork/ndarray time ratios.
    Kernel {
        /// Side of the one square block.
        #[arg(long, default_value_t = 4000)]
        n: usize,
        /// Runs; the median is reported.
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
    /// The chunked `x.dot(y)` of two random n×n matrices against one faer
    /// GEMM of the same size on the same threads.
    Gemm {
        /// Side.
        #[arg(long, default_value_t = 8000)]
        n: usize,
        /// Block side.
        #[arg(long, default_value_t = 1000)]
        chunk: usize,
        #[command(flatten)]
        common: Common,
    },
    /// `random((n, n), chunks=c).sum()`, larger than memory; result ≈ n²/2.
    BigSum {
        /// Side.
        #[arg(long, default_value_t = 100_000)]
        n: usize,
        /// Block side.
        #[arg(long, default_value_t = 5000)]
        chunk: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Hourly mean of `value` over a pile of CSV files (gen_csv.py);
    /// result = `[[hour, mean]]`.
    Groupby {
        /// The pile.
        #[arg(long, default_value = "/tmp/refdata/csv/part-*.csv")]
        glob: String,
        #[command(flatten)]
        run: Run,
    },
    /// The ten most frequent words of a text pile (dask.bag's
    /// `read_text(glob).map(str.split).flatten().frequencies().topk(10)`);
    /// result = the top count.
    Wordfreq {
        /// The pile.
        #[arg(long, default_value = "/tmp/refdata/text/part-*.txt")]
        glob: String,
        /// Bytes per partition (default: a partition per file).
        #[arg(long)]
        blocksize: Option<u64>,
        /// How the threads split lines: `collect` (`flat_map` to a Vec of
        /// words per line) or `emit` (`flat_map_with`, each word handed on).
        #[arg(long, default_value = "collect")]
        style: String,
        #[command(flatten)]
        run: Run,
    },
    /// Seasonal anomaly of a year against a climatology on a pile of
    /// ERA5-like NetCDF files; result = mean anomaly per season.
    Climate {
        /// The pile.
        #[arg(long, default_value = "/tmp/refdata/era5/era5_t2m_*.nc")]
        glob: String,
        /// Time steps per block (31: one block per monthly file).
        #[arg(long, default_value_t = 31)]
        time_chunk: usize,
        #[command(flatten)]
        years: blockwork_cli::Years,
        /// Write the 2×2 map here.
        #[arg(long)]
        png: Option<std::path::PathBuf>,
        /// Write the anomaly (NetCDF-4) here.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[command(flatten)]
        run: Run,
    },
    /// The climate job's bound on a compressed pile: the chunks it reads,
    /// already in memory, inflated on every thread by libdeflate and by
    /// zlib-rs, nothing else done; result = the bytes inflated.
    Inflate {
        /// The pile.
        #[arg(long, default_value = "/tmp/refdata/era5_zlib/era5_t2m_*.nc")]
        glob: String,
        /// The variable.
        #[arg(long, default_value = "t2m")]
        var: String,
        #[command(flatten)]
        years: blockwork_cli::Years,
        /// Threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Runs of each inflater; the median is reported.
        #[arg(long, default_value_t = 5)]
        repeats: usize,
    },
}

/// Where and how often a workload runs.
#[derive(clap::Args)]
struct Run {
    /// sync, threads, threads:N, local-cluster or tcp://HOST:PORT (gemm: sync or threads).
    #[arg(long, default_value = "threads")]
    scheduler: String,
    /// Workers of a local cluster.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Runs; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Check every repeat's result: against a value computed here another
    /// way (`--check` alone), a given value (`--check 1.5e8`), or, for
    /// climate, the file xarray wrote (`--check anomaly_ref.nc`). A
    /// mismatch fails the run.
    #[arg(long, num_args = 0..=1, default_missing_value = "auto")]
    check: Option<check::Check>,
}

/// Flags every array workload takes.
#[derive(clap::Args)]
struct Common {
    #[command(flatten)]
    run: Run,
    /// Seed of random fills.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

impl Common {
    /// The workload's input from `fill`, with these flags.
    fn input<'a>(&'a self, fill: &'a arrays::Fill) -> arrays::Input<'a> {
        arrays::Input { fill, seed: self.seed, repeats: self.run.repeats, check: self.run.check.as_ref() }
    }
}

fn scheduler(s: &str) -> anyhow::Result<blockwork::Scheduler> {
    blockwork::Scheduler::parse(s)
        .ok_or_else(|| anyhow::anyhow!("unknown scheduler {s:?}: use sync, threads or threads:N"))
}

fn array_workload(workload: &str, n: usize, chunk: usize, fill: &arrays::Fill, common: &Common) -> anyhow::Result<()> {
    let run = &common.run;
    let target = overhead::Target::parse(&run.scheduler, run.workers)?;
    let spec = arrays::Spec { workload, n, chunk, input: common.input(fill) };
    let (seconds, mut record) = arrays::run(&spec, &target)?;
    record["workload"] = serde_json::json!(workload);
    record["impl"] = serde_json::json!(target.impl_name());
    record["params"]["threads"] = serde_json::json!(target.threads());
    record["seconds"] = serde_json::json!(seconds);
    check::emit(&record)
}

/// Runs a workload on the local scheduler `--scheduler` names and emits its
/// record with the scheduler's name and threads.
fn local_workload(
    common: &Common,
    run: impl FnOnce(&blockwork::Config) -> anyhow::Result<serde_json::Value>,
) -> anyhow::Result<()> {
    let sched = scheduler(&common.run.scheduler)?;
    let mut record = run(&blockwork::Config::with_scheduler(sched.clone()))?;
    record["impl"] = serde_json::json!(impl_name(&sched));
    record["params"]["threads"] = serde_json::json!(sched.nthreads());
    check::emit(&record)
}

fn impl_name(s: &blockwork::Scheduler) -> &'static str {
    match s {
        blockwork::Scheduler::Sync => "blockwork-sync",
        blockwork::Scheduler::Threads(_) => "blockwork-threads",
        blockwork::Scheduler::Client(_) => "blockwork-distributed",
    }
}

fn main() -> anyhow::Result<()> {
    blockwork::init_logging();
    // Started as a worker of a local cluster (see `procs`): serve, exit.
    overhead::register();
    blockwork::worker_main();
    match Cli::parse().workload {
        Workload::Overhead { n, pattern, mode, run } => {
            let target = overhead::Target::parse(&run.scheduler, run.workers)?;
            let record = overhead::run(n, &pattern, &mode, &target, run.repeats)?;
            check::emit(&record)?;
        }
        Workload::OnesSum { n, chunk, common } => array_workload("ones-sum", n, chunk, &arrays::Fill::Ones, &common)?,
        Workload::Xxt { n, chunk, fill, common } => array_workload("xxt", n, chunk, &fill, &common)?,
        Workload::DotStd { n, chunk, fill, common } => array_workload("dot-std", n, chunk, &fill, &common)?,
        Workload::Gemm { n, chunk, common } => {
            let sched = scheduler(&common.run.scheduler)?;
            let mut record =
                arrays::gemm(n, chunk, common.run.repeats, &blockwork::Config::with_scheduler(sched.clone()))?;
            record["impl"] = serde_json::json!(impl_name(&sched));
            record["peak_rss_mib"] = serde_json::json!(alloc::peak_rss_mib());
            check::emit(&record)?;
        }
        Workload::Svd { m, k, rows, fill, common } => local_workload(&common, |config| {
            decomp::run(&decomp::Spec { m, k, rows, input: common.input(&fill) }, config)
        })?,
        Workload::SvdCompressed { n, chunk, k, fill, gram, memory_limit, common } => {
            let run = &common.run;
            let target = overhead::Target::parse_with(&run.scheduler, run.workers, memory_limit.as_deref())?;
            let spec = decomp::CompressedSpec { n, chunk, k, gram, input: common.input(&fill) };
            let mut record = decomp::run_compressed(&spec, &target)?;
            record["impl"] = serde_json::json!(target.impl_name());
            record["params"]["threads"] = serde_json::json!(target.threads());
            record["params"]["memory_limit"] = serde_json::json!(memory_limit);
            check::emit(&record)?;
        }
        Workload::Kernel { n, repeats } => {
            let record = arrays::kernel(n, repeats)?;
            check::emit(&record)?;
        }
        Workload::BigSum { n, chunk, common } => array_workload("big-sum", n, chunk, &arrays::Fill::Random, &common)?,
        Workload::Groupby { glob, run } => {
            let target = overhead::Target::parse(&run.scheduler, run.workers)?;
            let mut record = frames::run(&glob, &target, run.repeats, run.check.as_ref())?;
            record["impl"] = serde_json::json!(target.impl_name());
            record["params"]["threads"] = serde_json::json!(target.threads());
            record["peak_rss_mib"] = serde_json::json!(alloc::peak_rss_mib());
            check::emit(&record)?;
        }
        Workload::Wordfreq { glob, blocksize, style, run } => {
            let target = overhead::Target::parse(&run.scheduler, run.workers)?;
            let mut record = wordfreq::run(&glob, blocksize, &style, &target, run.repeats, run.check.as_ref())?;
            record["impl"] = serde_json::json!(target.impl_name());
            record["params"]["threads"] = serde_json::json!(target.threads());
            record["peak_rss_mib"] = serde_json::json!(alloc::peak_rss_mib());
            check::emit(&record)?;
        }
        Workload::Climate { glob, time_chunk, years, png, out, run } => {
            let target = overhead::Target::parse(&run.scheduler, run.workers)?;
            let p = climate::Params {
                glob: &glob,
                time_chunk,
                years,
                png: png.as_deref(),
                out: out.as_deref(),
                check: run.check.as_ref(),
            };
            let mut record = climate::run(&p, &target, run.repeats)?;
            record["impl"] = serde_json::json!(target.impl_name());
            record["params"]["threads"] = serde_json::json!(target.threads());
            record["peak_rss_mib"] = serde_json::json!(alloc::peak_rss_mib());
            check::emit(&record)?;
        }
        Workload::Inflate { glob, var, years, threads, repeats } => {
            let p = inflate::Params { glob: &glob, var: &var, years: &years, threads };
            check::emit(&inflate::run(&p, repeats)?)?;
        }
    }
    Ok(())
}
