//! `blockwork-bench`: each workload prints exactly one JSON line on
//! stdout (the contract of `BENCHMARKS.md`); logs go to stderr.

mod alloc;
mod overhead;

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
        /// sync, threads or threads:N.
        #[arg(long, default_value = "threads")]
        scheduler: String,
        /// Runs; the median is reported.
        #[arg(long, default_value_t = 3)]
        repeats: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().workload {
        Workload::Overhead { n, pattern, mode, scheduler, repeats } => {
            let sched = blockwork::Scheduler::parse(&scheduler)
                .ok_or_else(|| anyhow::anyhow!("unknown scheduler {scheduler:?}: use sync, threads or threads:N"))?;
            let record = overhead::run(n, &pattern, &mode, sched, repeats)?;
            println!("{record}");
        }
    }
    Ok(())
}
