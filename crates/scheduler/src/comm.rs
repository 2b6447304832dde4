//! The output port: what the scheduler sends, and to whom.
//!
//! Every event function takes `&mut impl Comm` and reports through it
//! what must be sent. The runtime's implementation serializes and batches
//! the messages of one event onto the connections; tests and the
//! simulation use [`Recorder`], which just keeps them.

use std::sync::Arc;

use blockwork_graph::Key;
use smallvec::SmallVec;

use crate::ids::{ClientId, StealId, WorkerId};
use crate::task::{Payload, Priority, TaskFailure};

/// Where the scheduler's messages go.
pub trait Comm {
    /// Sends `msg` to a worker.
    fn send_worker(&mut self, worker: WorkerId, msg: ToWorker);
    /// Sends `msg` to a client.
    fn send_client(&mut self, client: ClientId, msg: ToClient);
}

/// A worker holding a copy of a dependency.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Holder {
    /// The worker.
    pub worker: WorkerId,
    /// Where to fetch from.
    pub address: Arc<str>,
}

/// A dependency of a task to compute.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DepInfo {
    /// Its key.
    pub key: Key,
    /// Size of its result.
    pub nbytes: u64,
    /// Workers holding it (never empty; may include the receiver).
    pub who_has: SmallVec<[Holder; 2]>,
}

/// Everything a worker needs to run a task.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ComputeTask {
    /// The task.
    pub key: Key,
    /// The serialized task, as the client sent it.
    pub payload: Payload,
    /// Its priority: among ready tasks a worker runs the lowest first.
    pub priority: Priority,
    /// Its inputs, in the order the client listed them.
    pub deps: Vec<DepInfo>,
}

/// Scheduler → worker.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ToWorker {
    /// Fetch the inputs and run the task; answer with a finished or erred
    /// report (or a failed fetch).
    Compute(Box<ComputeTask>),
    /// Drop these results.
    FreeKeys(Vec<Key>),
    /// Do not run (or drop the result of) this task: nobody needs it here.
    CancelCompute(Key),
    /// Fetch copies of these results from their holders and keep them
    /// (answer with `AddKeys` as they arrive): the scheduler moves results
    /// off a worker it retires.
    AcquireReplicas(Vec<DepInfo>),
    /// Give up this task if it has not started; answer with a steal
    /// response echoing `id`.
    StealRequest {
        /// The task.
        key: Key,
        /// The attempt.
        id: StealId,
    },
}

/// Scheduler → client.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ToClient {
    /// A wanted key is in memory.
    KeyInMemory {
        /// The key.
        key: Key,
        /// Size of its result.
        nbytes: u64,
    },
    /// A wanted key failed.
    KeyErred {
        /// The key.
        key: Key,
        /// The failure, naming the key that originally failed.
        failure: Arc<TaskFailure>,
    },
    /// A wanted key's result was lost; it is being recomputed, and a
    /// new `KeyInMemory` (or `KeyErred`) will follow.
    KeyLost(Key),
    /// The key was cancelled; the client no longer wants it.
    KeyCancelled(Key),
}

/// One sent message.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Sent {
    /// To a worker.
    Worker(WorkerId, ToWorker),
    /// To a client.
    Client(ClientId, ToClient),
}

/// A [`Comm`] that records what was sent, in order.
#[derive(Default, Debug)]
pub struct Recorder {
    /// Everything sent since the last [`Recorder::take`].
    pub sent: Vec<Sent>,
}

impl Recorder {
    /// Takes the recorded messages.
    pub fn take(&mut self) -> Vec<Sent> {
        std::mem::take(&mut self.sent)
    }
}

impl Comm for Recorder {
    fn send_worker(&mut self, worker: WorkerId, msg: ToWorker) {
        self.sent.push(Sent::Worker(worker, msg));
    }
    fn send_client(&mut self, client: ClientId, msg: ToClient) {
        self.sent.push(Sent::Client(client, msg));
    }
}
