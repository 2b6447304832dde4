//! `blockwork scheduler` and `blockwork worker`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use blockwork::distributed::{serve_scheduler, serve_worker, SchedulerOptions, WorkerOptions};

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
    /// Memory it may use, e.g. `4GiB` (reported to the scheduler).
    #[arg(long)]
    memory_limit: Option<String>,
    /// The token the scheduler asks for.
    #[arg(long)]
    token: Option<String>,
}

/// Stops on Ctrl-C or SIGTERM.
fn stop_flag() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    ctrlc::set_handler(move || s.store(true, Ordering::SeqCst)).context("installing the Ctrl-C handler")?;
    Ok(stop)
}

pub fn scheduler(args: SchedulerArgs) -> anyhow::Result<()> {
    // The scheduler relays gathered values to clients, so it decodes them.
    blockwork::register_builtins();
    let stop = stop_flag()?;
    let options = SchedulerOptions { token: args.token, ..SchedulerOptions::default() };
    let (served, addr) = serve_scheduler(&format!("{}:{}", args.host, args.port), options)
        .with_context(|| format!("starting a scheduler on {}:{}", args.host, args.port))?;
    println!("scheduler at tcp://{addr}");
    served.wait_until(|| stop.load(Ordering::SeqCst));
    eprintln!("scheduler stopping");
    Ok(())
}

pub fn worker(args: WorkerArgs) -> anyhow::Result<()> {
    blockwork::register_builtins();
    let stop = stop_flag()?;
    let addr = args.scheduler.trim_start_matches("tcp://").to_string();
    let nthreads = if args.nthreads == 0 {
        std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1)
    } else {
        args.nthreads
    };
    let name = args.name.unwrap_or_else(|| format!("worker-{}", std::process::id()));
    let mut options = WorkerOptions::new(nthreads, name.clone());
    options.token = args.token;
    if let Some(m) = &args.memory_limit {
        options.memory_limit = blockwork::array::parse_bytes(m)
            .ok_or_else(|| anyhow::anyhow!("cannot read the memory limit {m:?}; write e.g. 4GiB"))?
            as u64;
    }
    let served = serve_worker(&addr, options).with_context(|| format!("joining the scheduler at {addr}"))?;
    println!("worker {name} at {} ({nthreads} threads)", served.handle().address());
    served.wait_until(|| stop.load(Ordering::SeqCst));
    eprintln!("worker stopping");
    Ok(())
}
