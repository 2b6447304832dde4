//! Local schedulers: run a blockwork task graph on this machine.
//!
//! ```text
//! compute(graph, outputs, config)
//!   ├─ cull to outputs, inline cheap tasks, fuse linear chains  (blockwork-graph)
//!   ├─ order → a priority per task                              (blockwork-graph)
//!   └─ run on the chosen scheduler
//!        Sync      one thread: the caller's (for debugging)
//!        Threads   N threads around one sans-IO ExecState
//!        Client    a cluster's client (`Remote`): the graph goes there whole
//! ```
//!
//! Both schedulers drive the same [`ExecState`]: ready tasks run in
//! priority order, a result is dropped as soon as its last reader has
//! run, and the first task that fails or panics stops the run with an
//! error naming its key. [`Callback`]s observe the run; [`ProgressBar`],
//! [`Profiler`] and [`ResourceProfiler`] are built on them. A
//! [`CancelToken`] stops a run from another thread. A client set with
//! [`set_default_client`] is the scheduler of `Config::default()`: every
//! collection then computes on its cluster.

mod callback;
mod cancel;
mod error;
pub mod procfs;
mod profile;
mod progress;
mod remote;
mod resources;
mod run;
mod state;
mod sync;
mod threads;

use std::sync::Arc;

use blockwork_graph::{fuse_linear, inline_cheap, order, Graph, Key, Value, DEFAULT_MAX_FUSED_DEPTH};

pub use callback::{Callback, Callbacks};
pub use cancel::CancelToken;
pub use error::{ComputeError, ConfigError};
pub use profile::{Profiler, TaskRecord};
pub use progress::ProgressBar;
pub use remote::{default_client, set_default_client, DefaultClient, Pin, Remote};
pub use resources::{ResourceProfiler, ResourceSample};
pub use run::run_task;
pub use state::ExecState;

/// Which scheduler runs the tasks.
#[derive(Clone)]
pub enum Scheduler {
    /// One thread, the caller's.
    Sync,
    /// A pool of this many threads (0: one per core).
    Threads(usize),
    /// A cluster, through its client: the graph is sent there and the
    /// results come back (see [`Remote`]).
    Client(Arc<dyn Remote>),
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scheduler::Sync => f.write_str("Sync"),
            Scheduler::Threads(n) => write!(f, "Threads({n})"),
            Scheduler::Client(c) => write!(f, "Client({})", c.describe()),
        }
    }
}

impl PartialEq for Scheduler {
    /// Clients are equal when they are the same client.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Scheduler::Sync, Scheduler::Sync) => true,
            (Scheduler::Threads(a), Scheduler::Threads(b)) => a == b,
            (Scheduler::Client(a), Scheduler::Client(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Scheduler {
    /// The number of threads this scheduler uses on this machine (one for
    /// a cluster's client: the caller's, waiting).
    pub fn nthreads(&self) -> usize {
        match self {
            Scheduler::Sync | Scheduler::Client(_) => 1,
            Scheduler::Threads(0) => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            Scheduler::Threads(n) => *n,
        }
    }

    /// The cluster's client, when this scheduler is one.
    pub fn client(&self) -> Option<&Arc<dyn Remote>> {
        match self {
            Scheduler::Client(c) => Some(c),
            _ => None,
        }
    }

    /// Parses `sync`, `threads` or `threads:N`.
    pub fn parse(s: &str) -> Option<Scheduler> {
        match s {
            "sync" | "synchronous" | "single-threaded" => Some(Scheduler::Sync),
            "threads" | "threading" => Some(Scheduler::Threads(0)),
            _ => s.strip_prefix("threads:").and_then(|n| n.parse().ok()).map(Scheduler::Threads),
        }
    }
}

impl Scheduler {
    /// `BLOCKWORK_SCHEDULER` if set (an error that says what is allowed
    /// if it does not parse), else `None`.
    pub fn from_env() -> Result<Option<Scheduler>, ConfigError> {
        const VARIABLE: &str = "BLOCKWORK_SCHEDULER";
        let bad = |value: String, problem: &str| ConfigError { variable: VARIABLE, value, problem: problem.into() };
        match std::env::var(VARIABLE) {
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(v)) => Err(bad(v.to_string_lossy().into_owned(), "is not text")),
            Ok(s) => Scheduler::parse(s.trim()).map(Some).ok_or_else(|| {
                bad(
                    s,
                    "is not a scheduler: use sync (also synchronous, single-threaded), threads (also threading) \
                     or threads:N",
                )
            }),
        }
    }
}

impl Default for Scheduler {
    /// The default client if one is set ([`set_default_client`]), else
    /// `BLOCKWORK_SCHEDULER` (`sync`, `threads`, `threads:N`) if set and
    /// valid, otherwise one thread per core. ([`Config::default`] also
    /// remembers a malformed value, and computing with it is an error.)
    fn default() -> Self {
        if let Some(c) = default_client() {
            return Scheduler::Client(c);
        }
        Scheduler::from_env().ok().flatten().unwrap_or(Scheduler::Threads(0))
    }
}

/// How to run a computation.
#[derive(Clone)]
pub struct Config {
    /// Which scheduler.
    pub scheduler: Scheduler,
    /// Observers of the run.
    pub callbacks: Callbacks,
    /// Stops the run when cancelled.
    pub cancel: Option<CancelToken>,
    /// Inline cheap tasks and fuse linear chains before running.
    pub optimize: bool,
    /// A mistake found while making the configuration (a malformed
    /// `BLOCKWORK_SCHEDULER`): computing with it is an error that says
    /// what was wrong, rather than a silent fallback.
    pub problem: Option<ConfigError>,
}

impl Default for Config {
    /// The default client's cluster if one is set ([`set_default_client`]),
    /// else the environment's scheduler (see [`Scheduler::default`]).
    fn default() -> Self {
        if let Some(c) = default_client() {
            let scheduler = Scheduler::Client(c);
            return Config { scheduler, callbacks: Callbacks::default(), cancel: None, optimize: true, problem: None };
        }
        let (scheduler, problem) = match Scheduler::from_env() {
            Ok(s) => (s.unwrap_or(Scheduler::Threads(0)), None),
            Err(e) => (Scheduler::Threads(0), Some(e)),
        };
        Config { scheduler, callbacks: Callbacks::default(), cancel: None, optimize: true, problem }
    }
}

impl Config {
    /// The default config with another scheduler (the environment's
    /// choice, and any mistake in it, set aside).
    pub fn with_scheduler(scheduler: Scheduler) -> Self {
        Config { scheduler, problem: None, ..Config::default() }
    }

    /// Adds a callback.
    pub fn callback(mut self, c: Arc<dyn Callback>) -> Self {
        self.callbacks.0.push(c);
        self
    }

    /// Sets the cancel token.
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Turns graph optimization on or off.
    pub fn optimize(mut self, on: bool) -> Self {
        self.optimize = on;
        self
    }
}

/// Computes `outputs` of `graph`: culls, optimizes (if configured),
/// orders and runs. Results come back in the order of `outputs`.
pub fn compute(graph: Graph, outputs: &[Key], config: &Config) -> Result<Vec<Value>, ComputeError> {
    if let Some(p) = &config.problem {
        return Err(ComputeError::Config(p.clone()));
    }
    if let Scheduler::Client(client) = &config.scheduler {
        // The client culls, optimizes and orders for its cluster.
        return client.compute(graph, outputs);
    }
    let mut graph = graph.cull(outputs)?;
    if config.optimize {
        graph = inline_cheap(graph, outputs, DEFAULT_MAX_FUSED_DEPTH)?;
        graph = fuse_linear(graph, outputs, DEFAULT_MAX_FUSED_DEPTH)?;
    }
    let priority = order(&graph);
    execute(&graph, outputs, priority, config)
}

/// Runs an already prepared graph with given priorities (no cull, no
/// optimization): what `compute` does after preparing, and what benchmarks
/// time on their own.
pub fn execute(
    graph: &Graph,
    outputs: &[Key],
    priority: Vec<u32>,
    config: &Config,
) -> Result<Vec<Value>, ComputeError> {
    if let Some(p) = &config.problem {
        return Err(ComputeError::Config(p.clone()));
    }
    // A cluster runs the graph itself; callbacks observe local runs only.
    let sync = match &config.scheduler {
        Scheduler::Client(client) => return client.compute(graph.clone(), outputs),
        s => *s == Scheduler::Sync,
    };
    let out_ids = graph.ids_of(outputs)?;
    let nthreads = config.scheduler.nthreads();
    config.callbacks.start(graph, nthreads);
    let res = if sync {
        sync::run(graph, &out_ids, priority, &config.callbacks, config.cancel.as_ref())
    } else {
        threads::run(graph, &out_ids, priority, nthreads, &config.callbacks, config.cancel.as_ref())
    };
    config.callbacks.finish(graph, res.is_ok());
    res
}
