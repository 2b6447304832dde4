//! The `blockwork` command.
//!
//! - `demo` (and `demo climate`): the demos, on threads or a local cluster.
//! - `scheduler`, `worker`: one server per process, for a cluster over
//!   machines. `worker` runs the same code as a user's binary that calls
//!   `blockwork::worker_main`.
//! - `cluster`: a scheduler in this process and `worker` child processes
//!   of this same executable, scaled from standard input (`cluster.rs`).
//! - `jobqueue`: workers as jobs of SLURM, PBS, SGE or LSF (`jobqueue.rs`).
//! - `kubernetes`: the manifests of a cluster on Kubernetes (`kubernetes.rs`).
//!
//! Library crates return typed errors; here they become `anyhow` errors
//! with the context of what was being done.
//!
//! The allocator is mimalloc. Blocks are megabytes, allocated and freed by
//! the thousand: glibc's malloc hands each freed block back to the kernel,
//! and every new one then costs page faults and zeroed pages (on a
//! compressed NetCDF pile, more time than inflating it). mimalloc keeps
//! freed memory for reuse a short while and then returns it.

mod climate;
mod cluster;
mod demo;
mod jobqueue;
mod kubernetes;
mod serve;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: blockwork::Allocator = blockwork::Allocator;

/// blockwork: parallel computing for scientific data.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the demo: a delayed pipeline, then a big graph of no-op tasks
    /// with a progress bar and a profile.
    Demo(demo::DemoArgs),
    /// Runs a scheduler: `blockwork scheduler --port 8786`.
    Scheduler(serve::SchedulerArgs),
    /// Runs a worker of a scheduler: `blockwork worker tcp://HOST:8786`
    /// (`blockwork worker --help` lists its flags).
    #[command(disable_help_flag = true)]
    Worker(serve::WorkerArgs),
    /// Runs a scheduler and worker processes on this machine:
    /// `blockwork cluster --workers 4`.
    ///
    /// Prints `scheduler at tcp://ADDRESS`, then a line per worker that
    /// joined. Lines on standard input change it while it runs: `scale N`
    /// starts or stops workers (the newest first) until N run, `status`
    /// lists them. Ctrl-C or SIGTERM stops the workers, then the scheduler.
    Cluster(cluster::ClusterArgs),
    /// Workers as jobs of an HPC queue (slurm, pbs, sge, lsf): prints the
    /// submission script of one job (`blockwork jobqueue slurm --cores 24
    /// --memory 100GB`), or with `--scale N` runs a scheduler here and keeps
    /// jobs for N workers queued until Ctrl-C, then cancels them.
    Jobqueue(jobqueue::JobQueueArgs),
    /// Prints the manifests of a cluster on Kubernetes: scheduler
    /// Deployment and Service, worker Deployment, optional TLS Secret and
    /// KEDA autoscaler (`blockwork kubernetes --workers 4 | kubectl apply -f -`).
    Kubernetes(kubernetes::KubernetesArgs),
}

fn main() -> anyhow::Result<()> {
    blockwork::init_logging();
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(demo::DemoArgs { which: Some(demo::Which::Climate(args)), .. }) => climate::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Scheduler(args) => serve::scheduler(args),
        Command::Worker(args) => serve::worker(args),
        Command::Cluster(args) => cluster::run(args),
        Command::Jobqueue(args) => jobqueue::run(args),
        Command::Kubernetes(args) => kubernetes::run(args),
    }
}
