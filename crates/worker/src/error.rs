//! The worker's typed error.
//!
//! Only setting a worker up can fail: every event is legal (stale and
//! surprising messages are expected in a distributed system and handled),
//! and a broken invariant is a bug that panics in `sanity_check`.

/// What can go wrong when creating a [`WorkerState`](crate::WorkerState).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WorkerError {
    /// A setting is out of range; the message names it.
    #[error("invalid worker config: {0}")]
    InvalidConfig(String),
}

impl blockwork_graph::Fault for WorkerError {
    fn kind(&self) -> blockwork_graph::ErrorKind {
        blockwork_graph::ErrorKind::User
    }
}
