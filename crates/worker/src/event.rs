//! The events: every way the world can change a worker.

use std::time::Duration;

use blockwork_graph::Key;
use blockwork_scheduler::{ToWorker, WorkerId};

use crate::port::{Erred, Finished};

/// One input to [`WorkerState::handle`](crate::WorkerState::handle).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Event {
    /// A message from the scheduler.
    Scheduler(ToWorker),
    /// A transfer from `peer` completed: `data` (key, size) is now in
    /// the local store; the peer did not have `missing`.
    FetchDone {
        /// The peer.
        peer: WorkerId,
        /// What arrived and was stored.
        data: Vec<(Key, u64)>,
        /// What the peer said it does not have.
        missing: Vec<Key>,
    },
    /// A transfer from `peer` failed (connection lost, peer gone).
    FetchFailed {
        /// The peer.
        peer: WorkerId,
    },
    /// `peer` answered a transfer request with "busy".
    PeerBusy {
        /// When.
        now: Duration,
        /// The peer.
        peer: WorkerId,
    },
    /// A task finished on a thread; its result is in the local store.
    TaskFinished(Finished),
    /// A task raised an error (or panicked) on a thread.
    TaskErred(Erred),
    /// A peer asks for `keys`.
    DataRequested {
        /// The peer.
        from: WorkerId,
        /// What it wants.
        keys: Vec<Key>,
    },
    /// A `SendData` to `to` is done (sent or failed).
    DataSent {
        /// The peer.
        to: WorkerId,
    },
    /// The scheduler stored values here (a client's scatter): `data`
    /// (key, size) is in the local store, held for the scheduler.
    Stored {
        /// What was stored.
        data: Vec<(Key, u64)>,
    },
    /// Memory is short (`true`): start no new task until it is not
    /// (`false`). Running tasks, transfers and data requests go on.
    Paused(bool),
    /// Time passes: peers that were busy may be asked again.
    Tick {
        /// The time.
        now: Duration,
    },
}
