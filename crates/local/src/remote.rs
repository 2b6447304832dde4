//! Computing on a cluster instead of this process's threads. A client of
//! a cluster implements [`Remote`]; a [`crate::Config`] whose scheduler is
//! [`crate::Scheduler::Client`] hands every graph to it, and
//! [`set_default_client`] makes it the scheduler of `Config::default()`,
//! so that every collection's `compute`, `persist` and writer runs on the
//! cluster without being told (Dask's `Client()` as the default
//! scheduler). The local crate knows no network: the runtime's client
//! implements the trait.

use std::sync::{Arc, RwLock};

use blockwork_graph::{Graph, Key, Value};

use crate::ComputeError;

pub use blockwork_graph::layer::Pin;

/// A client of a cluster: computes graphs there.
pub trait Remote: Send + Sync {
    /// Where it computes, for messages (`the cluster at HOST:PORT`).
    fn describe(&self) -> String;

    /// Computes `outputs` of `graph` on the cluster; the values come back
    /// in the order of `outputs`. Tasks must be registered named functions
    /// (a closure is an error that names its key and says so).
    fn compute(&self, graph: Graph, outputs: &[Key]) -> Result<Vec<Value>, ComputeError>;

    /// Starts computing `outputs` and keeps them on the cluster while the
    /// returned pin lives: a later graph naming these keys reuses them.
    fn persist(&self, graph: Graph, outputs: &[Key]) -> Result<Pin, ComputeError>;
}

/// The process's default client, if one was set.
static DEFAULT: RwLock<Option<Arc<dyn Remote>>> = RwLock::new(None);

/// The process's default client: what `Config::default()` computes on.
pub fn default_client() -> Option<Arc<dyn Remote>> {
    DEFAULT.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Makes `client` the scheduler of every `Config::default()` (every
/// collection's `compute` without a configuration) until the returned
/// guard is dropped, when the previous default comes back.
#[must_use = "the client stays the default only while the guard lives"]
pub fn set_default_client(client: Arc<dyn Remote>) -> DefaultClient {
    let previous = DEFAULT.write().unwrap_or_else(|p| p.into_inner()).replace(client);
    DefaultClient { previous }
}

/// Keeps a client the process's default; dropping it restores the one
/// before.
pub struct DefaultClient {
    previous: Option<Arc<dyn Remote>>,
}

impl Drop for DefaultClient {
    fn drop(&mut self) {
        *DEFAULT.write().unwrap_or_else(|p| p.into_inner()) = self.previous.take();
    }
}

impl std::fmt::Debug for DefaultClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DefaultClient")
    }
}
