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
    /// A token every client and worker must present (default: the
    /// environment's BLOCKWORK_TOKEN, which, unlike a command line, other
    /// users cannot read).
    #[arg(long)]
    token: Option<String>,
    /// Where to serve the HTTP API (adaptive target, workers, tasks,
    /// Prometheus metrics): `[HOST]:PORT`; another port is taken when this
    /// one is in use; `none` serves none.
    #[arg(long, default_value = ":8787")]
    dashboard_address: String,
    #[command(flatten)]
    tls: TlsArgs,
}

/// Arguments of `blockwork worker`: the scheduler's address, then the
/// worker flags, read by the same parser as a user's binary that calls
/// `blockwork::worker_main` (`WorkerCommand::from_args`).
#[derive(clap::Args)]
pub struct WorkerArgs {
    /// tcp://HOST:PORT, then [--nthreads N] [--name NAME] [--memory-limit SIZE] [--local-directory DIR]
    /// [--resources NAME=AMOUNT,…] [--token TOKEN] [--lifetime D [--lifetime-stagger D]]
    /// [--tls-ca-file CA --tls-cert CERT --tls-key KEY]
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "SCHEDULER [FLAGS]")]
    args: Vec<std::ffi::OsString>,
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
    let http = match args.dashboard_address.as_str() {
        "none" => None,
        at => Some(match at.rsplit_once(':') {
            Some(("", port)) => {
                crate::cluster::host_port(&args.host, port.parse().context("--dashboard-address port")?)
            }
            _ => at.to_string(),
        }),
    };
    let options =
        SchedulerOptions { token: token_of(args.token), tls: args.tls.files(), http, ..SchedulerOptions::default() };
    let listen = crate::cluster::host_port(&args.host, args.port);
    let (served, addr) =
        serve_scheduler(&listen, options).with_context(|| format!("starting a scheduler on {listen}"))?;
    println!("scheduler at tcp://{addr}");
    if let Some(http) = served.handle().http_address() {
        eprintln!("dashboard at http://{http}/status; HTTP API at /api/v1/… and /metrics");
    }
    served.wait_until(|| stop.load(Ordering::SeqCst));
    tracing::info!("scheduler stopping");
    Ok(())
}

/// Runs the worker through the same code as a user's binary that calls
/// `blockwork::worker_main`.
pub fn worker(args: WorkerArgs) -> anyhow::Result<()> {
    if args.args.is_empty() || args.args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: blockwork {}\n\n{}", blockwork::WORKER_USAGE, blockwork::WORKER_HELP);
        return Ok(());
    }
    let command = blockwork::WorkerCommand::from_args(&args.args)?;
    Ok(command.run()?)
}

/// The token: the flag's, else the environment's `BLOCKWORK_TOKEN`.
pub fn token_of(flag: Option<String>) -> Option<String> {
    flag.or_else(|| std::env::var(blockwork::TOKEN_VAR).ok().filter(|t| !t.is_empty()))
}
