//! `blockwork scheduler` and `blockwork worker`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use blockwork::distributed::{serve_scheduler, SchedulerOptions};

/// TLS on every connection (all three, or none).
#[derive(clap::Args, Clone, Default)]
pub struct TlsArgs {
    /// The certificate authority (PEM) every peer's certificate must be signed by.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    pub tls_ca_file: Option<std::path::PathBuf>,
    /// This side's certificate (PEM).
    #[arg(long, requires_all = ["tls_ca_file", "tls_key"])]
    pub tls_cert: Option<std::path::PathBuf>,
    /// This side's private key (PEM).
    #[arg(long, requires_all = ["tls_ca_file", "tls_cert"])]
    pub tls_key: Option<std::path::PathBuf>,
}

impl TlsArgs {
    /// The files, when TLS is on.
    pub fn files(&self) -> Option<blockwork::distributed::TlsFiles> {
        match (&self.tls_ca_file, &self.tls_cert, &self.tls_key) {
            (Some(ca), Some(cert), Some(key)) => {
                Some(blockwork::distributed::TlsFiles { ca: ca.clone(), cert: cert.clone(), key: key.clone() })
            }
            _ => None,
        }
    }

    /// The same flags, for a worker's command line.
    pub fn to_args(&self) -> Vec<String> {
        let mut v = Vec::new();
        for (flag, path) in
            [("--tls-ca-file", &self.tls_ca_file), ("--tls-cert", &self.tls_cert), ("--tls-key", &self.tls_key)]
        {
            if let Some(p) = path {
                v.extend([flag.to_string(), p.display().to_string()]);
            }
        }
        v
    }
}

/// Options of `blockwork scheduler`.
#[derive(clap::Args)]
pub struct SchedulerArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8786)]
    port: u16,
    /// Interface to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    host: String,
    /// A token every client and worker must present.
    #[arg(long)]
    token: Option<String>,
    #[command(flatten)]
    tls: TlsArgs,
}

/// Options of `blockwork worker`.
#[derive(clap::Args)]
pub struct WorkerArgs {
    /// The scheduler, `tcp://HOST:PORT` or `HOST:PORT`.
    scheduler: String,
    /// Threads running tasks (default: one per core).
    #[arg(long, default_value_t = 0)]
    nthreads: u32,
    /// The worker's name.
    #[arg(long)]
    name: Option<String>,
    /// Memory it may use, e.g. `4GiB`: above 60% of it values spill to
    /// the local directory, above 80% of it (the process) new tasks wait.
    #[arg(long)]
    memory_limit: Option<String>,
    /// Where values are spilled (default: under the system's temporary
    /// directory); the worker's files are removed when it stops.
    #[arg(long)]
    local_directory: Option<std::path::PathBuf>,
    /// Abstract resources it offers, e.g. `GPU=2,MEM=8e9`: tasks asking for
    /// some run only where they are free.
    #[arg(long)]
    resources: Option<String>,
    /// The token the scheduler asks for.
    #[arg(long)]
    token: Option<String>,
    #[command(flatten)]
    tls: TlsArgs,
}

/// Stops on Ctrl-C or SIGTERM.
pub(crate) fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    ctrlc::set_handler(move || s.store(true, Ordering::SeqCst)).context("installing the Ctrl-C handler")?;
    Ok(stop)
}

pub fn scheduler(args: SchedulerArgs) -> anyhow::Result<()> {
    // The scheduler relays gathered values to clients, so it decodes them.
    blockwork::register_builtins();
    let stop = stop_flag()?;
    let options = SchedulerOptions { token: args.token, tls: args.tls.files(), ..SchedulerOptions::default() };
    let listen = crate::cluster::host_port(&args.host, args.port);
    let (served, addr) =
        serve_scheduler(&listen, options).with_context(|| format!("starting a scheduler on {listen}"))?;
    println!("scheduler at tcp://{addr}");
    served.wait_until(|| stop.load(Ordering::SeqCst));
    eprintln!("scheduler stopping");
    Ok(())
}

/// Runs the worker through the same code as a user's binary that calls
/// `blockwork::worker_main`.
pub fn worker(args: WorkerArgs) -> anyhow::Result<()> {
    let mut command = blockwork::WorkerCommand::new(&args.scheduler);
    if args.nthreads > 0 {
        command.nthreads = args.nthreads;
    }
    if let Some(name) = args.name {
        command.name = name;
    }
    if let Some(m) = &args.memory_limit {
        command.memory_limit = blockwork::WorkerCommand::parse_memory_limit(m)?;
    }
    command.local_directory = args.local_directory;
    command.tls = args.tls.files();
    if let Some(r) = &args.resources {
        command.resources = blockwork::WorkerCommand::parse_resources(r)?;
    }
    command.token = args.token;
    Ok(command.run()?)
}
