//! Why a computation did not produce its results.

use blockwork_graph::{ErrorKind, Fault, GraphError, Key, ValueTypeError};

/// A failed computation. Task failures name the key; nothing else from
/// the run is kept (every intermediate result is dropped).
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// A task's function returned an error.
    #[error("task {key} failed: {message}")]
    Task {
        /// The task.
        key: Key,
        /// Its error.
        message: String,
        /// Whose fault it is (the task error's kind).
        kind: ErrorKind,
    },
    /// A task's function panicked.
    #[error("task {key} panicked: {message}")]
    Panic {
        /// The task.
        key: Key,
        /// The panic message.
        message: String,
    },
    /// The run was cancelled (a [`crate::CancelToken`] or Ctrl-C).
    #[error("the computation was cancelled")]
    Cancelled,
    /// The configuration is wrong (a malformed `BLOCKWORK_SCHEDULER`); the
    /// message says what is allowed.
    #[error("bad configuration: {0}")]
    Config(#[from] ConfigError),
    /// The machine refused a resource the run needs (a thread).
    #[error("{0}")]
    Resource(String),
    /// The cluster a client computes on could not run the graph (the
    /// connection, the scheduler's refusal, a task that cannot be sent).
    #[error("computing on {cluster}: {source}")]
    Cluster {
        /// Which cluster ("the cluster at tcp://…").
        cluster: String,
        /// Whose fault it is (the client error's kind).
        kind: ErrorKind,
        /// The client's error.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The graph or the requested outputs were invalid.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A result was not of the type the caller asked for.
    #[error("result {key} has the wrong type: {source}")]
    Output {
        /// The output.
        key: Key,
        /// What was expected and found.
        source: ValueTypeError,
    },
}

/// A setting that does not parse: which, its value, and what is allowed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?} {problem}")]
pub struct ConfigError {
    /// The setting (an environment variable's name).
    pub variable: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong with it and what is allowed.
    pub problem: String,
}

impl Fault for ConfigError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::User
    }
}

impl ComputeError {
    /// The key at fault, if a task is at fault.
    pub fn key(&self) -> Option<&Key> {
        match self {
            ComputeError::Task { key, .. } | ComputeError::Panic { key, .. } | ComputeError::Output { key, .. } => {
                Some(key)
            }
            _ => None,
        }
    }
}

impl Fault for ComputeError {
    fn kind(&self) -> ErrorKind {
        match self {
            ComputeError::Task { kind, .. } => *kind,
            // A panic is a bug: blockwork's, or in a function it ran.
            ComputeError::Panic { .. } => ErrorKind::Internal,
            ComputeError::Cancelled | ComputeError::Config(_) | ComputeError::Output { .. } => ErrorKind::User,
            ComputeError::Resource(_) => ErrorKind::Environment,
            ComputeError::Cluster { kind, .. } => *kind,
            ComputeError::Graph(e) => e.kind(),
        }
    }
}
