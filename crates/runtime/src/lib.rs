//! The tokio shells of a blockwork cluster.
//!
//! The scheduler's and the worker's brains are sans-IO state machines
//! (`blockwork-scheduler`, `blockwork-worker`); the wire format is sans-IO
//! too (`blockwork-protocol`). This crate is the thin layer that makes a
//! real cluster of them: it moves bytes between sockets and state
//! machines, runs tasks on threads, and keeps time. Every decision stays
//! in the state machines.
//!
//! ```text
//!  Client ──TCP──▶ Scheduler server ──TCP──▶ Worker server ◀──TCP──▶ Worker server
//!  (blocking)      one loop owns Core        one loop owns WorkerState,
//!                  (reactor::on_*)           a store, nthreads threads, a data port
//! ```
//!
//! - [`Scheduler::bind`]: accepts clients and workers, runs the handshake,
//!   routes every message into `blockwork_scheduler::reactor` on one loop
//!   that owns the core, ticks its clock, and serves clients' gathers by
//!   asking the workers' data ports; with `SchedulerOptions::http`, an
//!   HTTP API ([`http`]: the adaptive target, workers, task counts,
//!   Prometheus metrics) answered by the same loop.
//! - [`Worker::start`]: connects and registers, runs the worker state
//!   machine on one loop, executes tasks on `nthreads` threads, fetches
//!   inputs from peers and serves its own on a data port, heartbeats.
//! - [`Client`]: `compute(graph, outputs)` culls, orders, encodes (named
//!   functions only), submits, waits, gathers and releases; `persist`,
//!   `submit`, `map` and `scatter` return [`Future`]s, which `gather`,
//!   `wait`, `as_completed`, `cancel` and `Future::result` work on.
//! - [`LocalCluster`]: a scheduler and workers on local ports, in a
//!   runtime of its own; for tests and single-machine use. It scales
//!   while it runs (`scale(n)`, `add_worker`, `stop_worker`).
//!
//! # Invariants
//!
//! - One task owns each state machine; everything else talks to it
//!   through a channel, so the machines see events one at a time.
//! - A connection that breaks the protocol (garbage bytes, a refused
//!   handshake, a message of the wrong direction) is closed with a log
//!   line; no other connection notices. Losing a worker's connection
//!   removes the worker; losing a client's releases what it wanted.
//! - No socket write happens on a state machine's loop: each connection
//!   has a writer task fed by a channel of encoded frames.
//!
//! # Errors
//!
//! [`ClientError`] tells the user's mistake (an invalid graph, a closure
//! in a task) from a task's failure on a worker (naming the key) from a
//! broken connection. [`RuntimeError`] is a server that could not start.

mod client;
mod cluster;
mod conn;
mod coord;
mod coordinator;
mod dashboard;
mod error;
mod future;
mod get_client;
pub mod http;
mod info;
mod memory;
mod remote;
mod report;
mod scheduler;
mod serve;
mod store;
mod tls;
mod tracker;
mod worker;
mod worker_pages;

pub use crate::client::{Client, Retire, TaskOptions};
pub use crate::cluster::LocalCluster;
pub use crate::coord::{Dataset, Event, Lock, LockGuard, Queue, Semaphore, Shared, Variable};
pub use crate::error::{ClientError, ConnError, RuntimeError};
pub use crate::future::{AsCompleted, Future};
pub use crate::get_client::get_client;
pub use crate::info::RunResult;
pub use crate::memory::MemoryThresholds;
pub use crate::report::{performance_report, PerformanceReport};
pub use crate::scheduler::{Scheduler, SchedulerHandle, SchedulerOptions};
pub use crate::serve::{serve_scheduler, serve_worker, Served};
pub use crate::tls::{Security, TlsError, TlsFiles};
pub use crate::tracker::{Retired, Status};
pub use crate::worker::{Worker, WorkerHandle, WorkerOptions, WorkerStats, RETIRE_WAIT};
pub use blockwork_protocol::{register_codec, Buffer, CodecError, DecodeFn, EncodeFn, SchedulerInfo};
pub use blockwork_scheduler::{Held, WorkerInfo};

/// Logs one line: a `tracing` event at `$level` (`INFO`, `WARN`, `ERROR`;
/// its target the calling module, so `RUST_LOG=blockwork_runtime::worker=warn`
/// filters it) — the subscriber a program installs writes it
/// (`blockwork::init_logging` in the command line and the Python
/// package) — and the line kept for the dashboard's log page.
macro_rules! log {
    ($level:ident, $($arg:tt)*) => {{
        let line = format!($($arg)*);
        tracing::event!(tracing::Level::$level, "{line}");
        $crate::remember(line);
    }};
}
pub(crate) use log;

/// Keeps a log line for the dashboard (the process's last [`LOG_LINES`]).
pub(crate) fn remember(line: String) {
    let mut ring = LOG.lock().unwrap_or_else(|p| p.into_inner());
    if ring.len() == LOG_LINES {
        ring.pop_front();
    }
    ring.push_back((epoch_seconds(), line));
}

/// Seconds since the Unix epoch, now.
pub(crate) fn epoch_seconds() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// How many of the process's last log lines are kept for the dashboard.
const LOG_LINES: usize = 1000;

/// The process's last log lines (seconds since the epoch, text).
static LOG: std::sync::Mutex<std::collections::VecDeque<(f64, String)>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());

/// The process's last log lines, oldest first.
pub(crate) fn log_lines() -> Vec<(f64, String)> {
    LOG.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
}
