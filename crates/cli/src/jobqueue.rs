//! `blockwork jobqueue slurm|pbs|sge|lsf`: prints the submission script of
//! one job of workers, or, with `--scale N`, runs a scheduler here and
//! keeps jobs for N workers in the queue until Ctrl-C, then cancels them.

use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use blockwork::distributed::{serve_scheduler, SchedulerOptions};
use blockwork_jobqueue::{Commands, JobQueueCluster, JobSpec, System};

/// Options of `blockwork jobqueue`, named as dask-jobqueue's parameters.
#[derive(clap::Args)]
pub struct JobQueueArgs {
    /// The queue system: slurm, pbs, sge or lsf.
    system: String,
    /// Cores per job.
    #[arg(long)]
    cores: u32,
    /// Memory per job, e.g. 100GB.
    #[arg(long)]
    memory: String,
    /// Workers per job (each gets cores / processes threads).
    #[arg(long, default_value_t = 1)]
    processes: u32,
    /// The queue (partition).
    #[arg(long)]
    queue: Option<String>,
    /// The account (SLURM, PBS) or project (SGE, LSF) charged.
    #[arg(long, alias = "project")]
    account: Option<String>,
    /// The wall-clock limit, e.g. 02:00:00.
    #[arg(long)]
    walltime: Option<String>,
    /// A directive added as given (repeatable), e.g. --job-extra-directive=--exclusive.
    #[arg(long = "job-extra-directive", allow_hyphen_values = true)]
    job_extra_directives: Vec<String>,
    /// A shell line run before the workers (repeatable), e.g. "module load gcc".
    #[arg(long = "job-script-prologue")]
    job_script_prologue: Vec<String>,
    /// Where workers spill.
    #[arg(long)]
    local_directory: Option<String>,
    /// SGE's resource list (`-l`), e.g. h_vmem=10G.
    #[arg(long)]
    resource_spec: Option<String>,
    /// More flags for every worker (repeatable).
    #[arg(long = "worker-extra-arg", allow_hyphen_values = true)]
    worker_extra_args: Vec<String>,
    /// The job name.
    #[arg(long, default_value = "blockwork-worker")]
    name: String,
    /// The command that starts a worker.
    #[arg(long, default_value = "blockwork worker")]
    worker_command: String,
    /// The scheduler the workers join (for the printed script; `--scale`
    /// uses the one it starts).
    #[arg(long)]
    scheduler: Option<String>,
    /// Run a scheduler here (on --port) and keep jobs for this many workers.
    #[arg(long)]
    scale: Option<usize>,
    /// Port of the scheduler `--scale` starts.
    #[arg(long, default_value_t = 8786)]
    port: u16,
}

impl JobQueueArgs {
    fn spec(&self) -> anyhow::Result<(System, JobSpec)> {
        let system = System::parse(&self.system)?;
        let mut spec = JobSpec::new(self.cores, &self.memory)?.processes(self.processes).name(&self.name);
        spec.queue.clone_from(&self.queue);
        spec.account.clone_from(&self.account);
        spec.walltime.clone_from(&self.walltime);
        spec.job_extra_directives.clone_from(&self.job_extra_directives);
        spec.job_script_prologue.clone_from(&self.job_script_prologue);
        spec.local_directory.clone_from(&self.local_directory);
        spec.resource_spec.clone_from(&self.resource_spec);
        spec.worker_extra_args.clone_from(&self.worker_extra_args);
        spec.worker_command.clone_from(&self.worker_command);
        spec.validate()?;
        Ok((system, spec))
    }
}

/// This machine's name, for the address workers on other nodes dial.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map_or_else(|_| "localhost".into(), |h| h.trim().to_string())
}

pub fn run(args: JobQueueArgs) -> anyhow::Result<()> {
    let (system, spec) = args.spec()?;
    let Some(n) = args.scale else {
        let scheduler = args.scheduler.clone().unwrap_or_else(|| format!("tcp://{}:{}", hostname(), args.port));
        print!("{}", blockwork_jobqueue::job_script(system, &spec, &scheduler, "0"));
        return Ok(());
    };
    blockwork::register_builtins();
    let stop = crate::serve::stop_flag()?;
    let listen = crate::cluster::host_port("0.0.0.0", args.port);
    let (served, addr) = serve_scheduler(&listen, SchedulerOptions::default())
        .with_context(|| format!("starting a scheduler on {listen}"))?;
    let address = format!("tcp://{}:{}", hostname(), addr.port());
    println!("scheduler at {address}");
    let mut cluster = JobQueueCluster::new(system, spec, &address, Commands::new())?;
    cluster.scale(n).with_context(|| format!("submitting jobs for {n} workers"))?;
    println!("jobs {}", cluster.jobs().join(" "));
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("cancelling jobs {}", cluster.jobs().join(" "));
    cluster.close()?;
    drop(served);
    Ok(())
}
