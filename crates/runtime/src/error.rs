//! Errors: of a connection, of starting a server, of a client's request.

use blockwork_graph::{ErrorKind, Fault, GraphError, Key};
use blockwork_protocol::{EncodeError, ProtocolError};

/// Why a connection ended or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// The socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The peer sent bytes or a message that break the protocol.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// A message could not be encoded.
    #[error("cannot encode: {0}")]
    Encode(#[from] EncodeError),
    /// The TLS handshake failed (a certificate of another authority, or
    /// none).
    #[error("TLS: {0}")]
    Tls(#[source] std::io::Error),
    /// With TLS, the peer ended the connection right after the handshake:
    /// with TLS 1.3 that is how a server refuses this side's certificate.
    #[error(
        "TLS: {addr} ended the connection after the TLS handshake ({source}): \
         does it accept this side's certificate?"
    )]
    TlsEnded {
        /// The peer.
        addr: String,
        /// How the connection ended.
        source: Box<ConnError>,
    },
    /// The handshake was refused (by either side).
    #[error("refused: {0}")]
    Refused(String),
    /// The peer closed the connection where a message was due.
    #[error("the connection closed while waiting for {0}")]
    Closed(&'static str),
    /// The peer closed the connection in the middle of a frame.
    #[error("the connection closed in the middle of a frame")]
    ClosedMidFrame,
    /// The connection ended earlier, for this reason.
    #[error("{0}")]
    Gone(String),
    /// The peer sent a message that is legal on the wire but not here.
    #[error("unexpected message: {0}")]
    Unexpected(String),
}

/// Why a scheduler, a worker or a cluster could not start, or a cluster
/// could not change.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Binding, connecting or the handshake failed.
    #[error("{what}: {source}")]
    Conn {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: ConnError,
    },
    /// The scheduler refused the worker's registration.
    #[error("the scheduler refused worker {name}: {reason}")]
    Rejected {
        /// The worker's name.
        name: String,
        /// The scheduler's reason.
        reason: String,
    },
    /// A worker's setting is invalid.
    #[error("invalid setting: {0}")]
    WorkerConfig(#[from] blockwork_worker::WorkerError),
    /// A scheduler's setting is invalid.
    #[error("invalid setting: {0}")]
    SchedulerConfig(#[from] blockwork_scheduler::SchedError),
    /// The TLS files could not be loaded.
    #[error(transparent)]
    Tls(#[from] crate::TlsError),
    /// A file could not be written (a performance report).
    #[error("{what}: {source}")]
    Io {
        /// What was being written.
        what: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The scheduler's HTTP API answered what it should not (a bug).
    #[error("the scheduler's HTTP API: {0}")]
    Api(String),
    /// A cluster was asked about a worker it does not have.
    #[error("there is no worker {index}: the cluster has {count}")]
    NoSuchWorker {
        /// The index asked for.
        index: usize,
        /// How many workers the cluster has.
        count: usize,
    },
    /// A blocking call was made from inside an async runtime.
    #[error("{0}{IN_ASYNC}")]
    InAsync(&'static str),
}

/// The rest of the message of a blocking call made inside an async runtime.
const IN_ASYNC: &str = " blocks, so it cannot be called from inside an async runtime (a tokio task): \
     call it from a plain thread, e.g. through tokio::task::spawn_blocking";

/// Whether this thread is inside an async runtime, where a blocking call
/// (tokio's `block_on` among them) would panic or stall the runtime.
pub(crate) fn in_async_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Why a client's computation did not produce its results.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The graph is invalid (a cycle, a missing key, an unknown output).
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A task cannot be sent to a cluster (a closure: its message names
    /// the key and says to register a `NamedFn`).
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A task failed on a worker, or its input did.
    #[error("task {key} failed: {message}")]
    Task {
        /// The key that originally failed.
        key: Key,
        /// The worker's message.
        message: String,
        /// Whose fault it is (the task's own error's kind; the
        /// environment for workers lost while running it).
        kind: ErrorKind,
    },
    /// The scheduler refused the graph; its message names the key.
    #[error("the scheduler refused the graph: {0}")]
    Refused(String),
    /// A wanted key was cancelled.
    #[error("key {0} was cancelled")]
    Cancelled(Key),
    /// A result vanished between being computed and being gathered.
    #[error("the result of {0} was lost before it could be gathered")]
    Lost(Key),
    /// Waiting took longer than the timeout given.
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// A future of another client was given to this one.
    #[error("the future of {0} belongs to another client")]
    OtherClient(Key),
    /// The connection to the scheduler failed.
    #[error("connection to the scheduler at {addr}: {source}")]
    Conn {
        /// The scheduler's address.
        addr: String,
        /// What went wrong.
        source: ConnError,
    },
    /// A blocking call was made from inside an async runtime.
    #[error("{0}{IN_ASYNC}")]
    InAsync(&'static str),
    /// A worker asked directly (`run`) could not answer: unreachable,
    /// or an answer that was not one.
    #[error("the worker at {addr}: {message}")]
    Worker {
        /// The worker's address.
        addr: String,
        /// What went wrong.
        message: String,
    },
    /// The request names no worker that runs.
    #[error("{0}")]
    NoWorker(String),
}

impl ClientError {
    /// The key at fault, if one is.
    pub fn key(&self) -> Option<&Key> {
        match self {
            ClientError::Task { key, .. }
            | ClientError::Cancelled(key)
            | ClientError::Lost(key)
            | ClientError::OtherClient(key) => Some(key),
            ClientError::Encode(EncodeError::LocalOp { key, .. }) => Some(key),
            _ => None,
        }
    }
}

impl Fault for ConnError {
    fn kind(&self) -> ErrorKind {
        match self {
            ConnError::Protocol(e) => e.kind(),
            ConnError::Encode(e) => e.kind(),
            // The peer refused us (version, release, token, layouts): how
            // the two were set up.
            ConnError::Refused(_) => ErrorKind::User,
            // Sockets, TLS, a peer that closed or went away.
            _ => ErrorKind::Environment,
        }
    }
}

impl Fault for RuntimeError {
    fn kind(&self) -> ErrorKind {
        match self {
            RuntimeError::Conn { source, .. } => source.kind(),
            RuntimeError::Rejected { .. } | RuntimeError::NoSuchWorker { .. } => ErrorKind::User,
            RuntimeError::WorkerConfig(e) => e.kind(),
            RuntimeError::SchedulerConfig(e) => e.kind(),
            RuntimeError::InAsync(_) => ErrorKind::User,
            RuntimeError::Tls(e) => e.kind(),
            RuntimeError::Io { .. } => ErrorKind::Environment,
            RuntimeError::Api(_) => ErrorKind::Internal,
        }
    }
}

impl Fault for ClientError {
    fn kind(&self) -> ErrorKind {
        match self {
            ClientError::Graph(e) => e.kind(),
            ClientError::Encode(e) => e.kind(),
            ClientError::Task { kind, .. } => *kind,
            ClientError::Conn { source, .. } => source.kind(),
            // A result lost with its worker, a worker that did not answer.
            ClientError::Lost(_) | ClientError::Worker { .. } | ClientError::Timeout(_) => ErrorKind::Environment,
            ClientError::Refused(_)
            | ClientError::Cancelled(_)
            | ClientError::OtherClient(_)
            | ClientError::InAsync(_)
            | ClientError::NoWorker(_) => ErrorKind::User,
        }
    }
}
