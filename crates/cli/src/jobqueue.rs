//! `blockwork jobqueue slurm|pbs|sge|lsf`: prints the submission script of
//! one job of workers, or, with `--scale N`, runs a scheduler here and
//! keeps jobs for N workers in the queue until Ctrl-C, then cancels them;
//! with `--adapt MIN:MAX`, keeps as many as the scheduler's adaptive target
//! asks for (up at once, down after `--wait-count` answers in a row).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use blockwork::distributed::{serve_scheduler, SchedulerOptions};
use blockwork_jobqueue::{run_adaptive, AdaptOptions, Adaptive, Commands, JobQueueCluster, JobSpec, System};

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
    /// The network interface (e.g. ib0) workers listen on and are reached
    /// at; the scheduler started here is then dialled at this machine's
    /// address on it.
    #[arg(long)]
    interface: Option<String>,
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
    /// Run a scheduler here and keep as many workers as its work calls
    /// for, between MIN and MAX (`--adapt 0:20`).
    #[arg(long, value_name = "MIN:MAX", conflicts_with = "scale")]
    adapt: Option<String>,
    /// How often `--adapt` asks the scheduler, e.g. 1s or 500ms.
    #[arg(long, default_value = "1s")]
    adapt_interval: String,
    /// How many answers in a row must propose closing a worker before it goes.
    #[arg(long, default_value_t = 3)]
    wait_count: u32,
    /// Port of the scheduler `--scale` or `--adapt` starts.
    #[arg(long, default_value_t = 8786)]
    port: u16,
}

/// `MIN:MAX` of `--adapt`.
fn adapt_bounds(text: &str) -> anyhow::Result<(usize, usize)> {
    let parsed = text.split_once(':').and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)));
    parsed.ok_or_else(|| anyhow::anyhow!("--adapt {text:?}: give MIN:MAX worker counts, e.g. 0:20"))
}

/// A duration like `1s`, `500ms` or `2m`.
fn duration(text: &str) -> anyhow::Result<Duration> {
    blockwork::distributed::http::parse_duration(text)
        .ok_or_else(|| anyhow::anyhow!("{text:?} is not a duration (e.g. 1s, 500ms, 2m)"))
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
        spec.interface.clone_from(&self.interface);
        spec.worker_command.clone_from(&self.worker_command);
        spec.validate()?;
        Ok((system, spec))
    }
}

/// Where workers on other nodes dial this machine: its address on
/// `--interface`, else its name.
fn here(args: &JobQueueArgs) -> anyhow::Result<String> {
    match &args.interface {
        Some(name) => Ok(match blockwork::interface_address(name)? {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        }),
        None => Ok(hostname()),
    }
}

/// This machine's name, for the address workers on other nodes dial.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map_or_else(|_| "localhost".into(), |h| h.trim().to_string())
}

pub fn run(args: JobQueueArgs) -> anyhow::Result<()> {
    let (system, spec) = args.spec()?;
    let adapt = match &args.adapt {
        Some(bounds) => {
            let (minimum, maximum) = adapt_bounds(bounds)?;
            let options = AdaptOptions {
                minimum,
                maximum,
                interval: duration(&args.adapt_interval)?,
                wait_count: args.wait_count,
                ..AdaptOptions::default()
            };
            Some(Adaptive::new(options)?)
        }
        None => None,
    };
    let Some(n) = args.scale.or(adapt.as_ref().map(|a| a.options().minimum)) else {
        let scheduler = match args.scheduler.clone() {
            Some(s) => s,
            None => format!("tcp://{}:{}", here(&args)?, args.port),
        };
        print!("{}", blockwork_jobqueue::job_script(system, &spec, &scheduler, "0"));
        return Ok(());
    };
    blockwork::register_builtins();
    let stop = crate::serve::stop_flag()?;
    let listen = crate::cluster::host_port("0.0.0.0", args.port);
    let (served, addr) = serve_scheduler(&listen, SchedulerOptions::default())
        .with_context(|| format!("starting a scheduler on {listen}"))?;
    let address = format!("tcp://{}:{}", here(&args)?, addr.port());
    println!("scheduler at {address}");
    let mut cluster = JobQueueCluster::new(system, spec, &address, Commands::new())?;
    cluster.scale(n).with_context(|| format!("submitting jobs for {n} workers"))?;
    println!("jobs {}", cluster.jobs().join(" "));
    match adapt {
        Some(adaptive) => cluster = adapt_until_stopped(cluster, adaptive, &address, &stop)?,
        None => {
            // Jobs that end while wanted are replaced, every few seconds.
            let mut next = std::time::Instant::now() + CHECK_EVERY;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
                if std::time::Instant::now() >= next {
                    next += CHECK_EVERY;
                    let ended = cluster.check_jobs().context("replacing jobs that ended")?;
                    if !ended.is_empty() {
                        println!("jobs {} ended; jobs {}", ended.join(" "), cluster.jobs().join(" "));
                    }
                }
            }
        }
    }
    tracing::info!("cancelling jobs {}", cluster.jobs().join(" "));
    cluster.close()?;
    drop(served);
    Ok(())
}

/// Retires the workers `names` through the scheduler (their results move
/// to the others) before their jobs are cancelled.
fn retire(client: &blockwork::distributed::Client, names: &[String]) -> Result<(), String> {
    let which = blockwork::distributed::Retire::Workers(names.to_vec());
    let out = client.retire_workers(which, RETIRE_TIMEOUT).map_err(|e| e.to_string())?;
    for (worker, why) in out.refused {
        tracing::warn!("adapt: {worker} was not retired gracefully: {why}");
    }
    Ok(())
}

/// How often `--scale` asks the queue whether its jobs still run.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// How long scaling down waits for workers to hand their results over.
const RETIRE_TIMEOUT: Duration = Duration::from_secs(300);

/// Asks the scheduler for its target every interval and scales the jobs
/// to the adaptive decision, until Ctrl-C.
fn adapt_until_stopped(
    cluster: JobQueueCluster,
    adaptive: Adaptive,
    scheduler: &str,
    stop: &AtomicBool,
) -> anyhow::Result<JobQueueCluster> {
    let client = blockwork::distributed::Client::connect(scheduler.trim_start_matches("tcp://"))
        .with_context(|| format!("connecting to the scheduler at {scheduler} to adapt"))?;
    let cluster = std::sync::Mutex::new(cluster);
    run_adaptive(
        &cluster,
        adaptive,
        |d| client.adaptive_target(d).map_err(|e| e.to_string()),
        |names| retire(&client, names),
        stop,
        // A closed standard output does not stop the scaling.
        |decision, jobs| {
            let _ = writeln!(std::io::stdout(), "adapt: {decision:?}; jobs {}", jobs.join(" "));
        },
    )?;
    Ok(cluster.into_inner().unwrap_or_else(|p| p.into_inner()))
}
