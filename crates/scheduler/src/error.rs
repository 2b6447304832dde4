//! Errors a caller of the scheduler can cause.
//!
//! Every variant is a mistake in what was sent to the scheduler (by a
//! client, or by the shell around it); the state is left untouched when
//! one is returned. A broken invariant of the scheduler itself is a bug
//! and panics in [`Core::sanity_check`](crate::Core::sanity_check) instead.

use blockwork_graph::Key;

use crate::ids::{ClientId, WorkerId};

/// A rejected event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchedError {
    /// The client is not connected (never was, or disconnected).
    #[error("{0} is not connected")]
    UnknownClient(ClientId),
    /// A graph update names a key twice.
    #[error("the graph update defines {0} twice")]
    DuplicateKey(Key),
    /// A task depends on a key that is neither in the update nor known.
    #[error("task {key} depends on {dep}, which is neither in the update nor known to the scheduler")]
    UnknownDependency {
        /// The task.
        key: Key,
        /// Its missing dependency.
        dep: Key,
    },
    /// A wanted key is neither in the update nor known.
    #[error("{0} is wanted but is neither in the update nor known to the scheduler")]
    UnknownKey(Key),
    /// The tasks of an update depend on each other in a cycle.
    #[error("the graph update has a cycle through {0}")]
    Cycle(Key),
    /// A resource amount is negative or not a number.
    #[error("{key} asks for {amount} of resource {resource:?}; amounts must be finite and non-negative")]
    InvalidResource {
        /// The task (or the worker's address, for a worker's resources).
        key: String,
        /// The resource name.
        resource: String,
        /// The amount given.
        amount: f64,
    },
    /// A worker joined with zero threads.
    #[error("worker {0} has no threads")]
    NoThreads(String),
    /// A scatter names a key the scheduler is computing (or has erred).
    #[error("cannot scatter {0}: the scheduler already has a task of that key that is not in memory")]
    ScatterKnownKey(Key),
    /// The worker is not (or no longer) in the cluster.
    #[error("{0} is not in the cluster")]
    UnknownWorker(WorkerId),
    /// A setting is out of range.
    #[error("invalid scheduler config: {0}")]
    InvalidConfig(String),
}

impl blockwork_graph::Fault for SchedError {
    fn kind(&self) -> blockwork_graph::ErrorKind {
        use blockwork_graph::ErrorKind::*;
        match self {
            // A client or worker that left while its message was on the way.
            SchedError::UnknownClient(_) | SchedError::UnknownWorker(_) => Environment,
            _ => User,
        }
    }
}
