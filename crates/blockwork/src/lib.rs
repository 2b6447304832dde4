//! blockwork: parallel computing by blocked algorithms and dynamic task
//! scheduling.
//!
//! Big computations are cut into many small tasks on blocks; the tasks
//! form a graph; a scheduler runs the graph on the threads of this machine
//! or the workers of a cluster, keeping memory low.
//!
//! ```
//! use blockwork as bw;
//!
//! let load = bw::delayed::func("load", |i: i64| (0..1000).map(|x| (x * i) as f64).collect::<Vec<f64>>());
//! let mean = bw::delayed::func("mean", |xs: Vec<f64>| xs.iter().sum::<f64>() / xs.len() as f64);
//! let total = bw::delayed::func("total", |ms: Vec<f64>| ms.iter().sum::<f64>());
//!
//! let means: Vec<_> = (0..8).map(|i| mean.call((load.call((i,)),))).collect();
//! let t = total.call((&means,));                  // a graph of 17 tasks; nothing ran
//! let v: f64 = t.compute()?;                      // threads, one per core
//! assert_eq!(v, (0..8).map(|i| 999.0 * i as f64 / 2.0).sum::<f64>());
//!
//! let v: f64 = t.compute_with(&bw::Config::with_scheduler(bw::Scheduler::Sync))?; // one thread, for debugging
//! # Ok::<(), bw::ComputeError>(())
//! ```
//!
//! The crates behind this facade, from the bottom up:
//!
//! | module | crate | holds |
//! |---|---|---|
//! | [`graph`] | `blockwork-graph` | keys, tasks, values, validated graphs, cull, fuse, order, DOT |
//! | [`local`] | `blockwork-local` | the sync and threaded schedulers, callbacks, progress bar, profilers |
//! | [`delayed`] | `blockwork-delayed` | lazy function calls |
//! | [`array`](mod@array) | `blockwork-array` | chunked N-d arrays (NumPy's API over ndarray blocks) |
//! | [`labeled`] | `blockwork-labeled` | xarray-style labeled arrays; NetCDF piles as one dataset |
//! | [`plot`] | `blockwork-plot` | faceted PNG maps |
//! | [`dataframe`] | `blockwork-dataframe` | partitioned dataframes over Polars partitions (feature `dataframe`, on by default) |
//! | [`distributed`] | `blockwork-runtime` | a cluster over TCP: scheduler and worker servers, `Client`, `LocalCluster` |
//!
//! Tasks reach a cluster's workers as the names of registered functions,
//! never as code. A program whose own [`graph::NamedFn`]s must run on
//! workers calls [`worker_main`] first thing in `main`: started as
//! `program worker tcp://HOST:PORT`, the same binary serves as a worker
//! and exits; started otherwise, it goes on. Values of the program's own
//! types (any [`graph::Data`]) travel between workers and back to the
//! client once their codec is registered in every process with
//! [`distributed::register_codec`] (see `tests/user_types.rs`).

pub use blockwork_array as array;
pub use blockwork_bag as bag;
#[cfg(feature = "dataframe")]
pub use blockwork_dataframe as dataframe;
pub use blockwork_delayed as delayed;
pub use blockwork_graph as graph;
pub use blockwork_labeled as labeled;
pub use blockwork_local as local;
pub use blockwork_plot as plot;
pub use blockwork_runtime as distributed;
pub use blockwork_store as store;

pub use blockwork_delayed::{compute, compute_with, Delayed};
pub use blockwork_graph::{Graph, GraphError, Key, Value};
pub use blockwork_local::{CancelToken, ComputeError, Config, Profiler, ProgressBar, ResourceProfiler, Scheduler};

mod alloc;
mod logging;
mod worker;

pub use alloc::{Allocator, HUGE, PURGE_DELAY_MS};
pub use logging::init_logging;

pub use worker::{
    interface_address, worker_main, WorkerCommand, WorkerCommandError, TOKEN_VAR, WORKER_HELP, WORKER_USAGE,
};

/// Registers every built-in named function and codec (array kernels,
/// block codecs, bag partitions and tasks): what a process needs to run tasks that arrive from a
/// cluster. `blockwork worker` and [`worker_main`] call it.
pub fn register_builtins() {
    blockwork_labeled::register();
    blockwork_bag::register();
    #[cfg(feature = "dataframe")]
    blockwork_dataframe::register();
}

/// The README's Rust examples, each a doctest (made by `build.rs`, which
/// also says how a README comment sets an example up or marks it compiled
/// only).
#[cfg(doctest)]
#[doc = include_str!(concat!(env!("OUT_DIR"), "/readme_doctests.md"))]
pub struct ReadmeDoctests;
