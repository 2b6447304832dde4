//! The output port: what the worker asks of its runtime and tells the
//! scheduler.
//!
//! Every event method takes `&mut impl Port` and reports through it what
//! must happen. The runtime's implementation starts threads and transfers
//! and sends messages; tests and the simulation use [`Recorder`], which
//! just keeps them.

use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::{ErrorKind, Key};
use blockwork_scheduler::{reactor, Comm, Core, Payload, StealId, StealOutcome, WorkerId};

/// Where the worker's outputs go.
pub trait Port {
    /// Sends `msg` to the scheduler.
    fn to_scheduler(&mut self, msg: ToScheduler);
    /// Asks the runtime to do something.
    fn instruct(&mut self, ins: Instruction);
}

/// A task that ran here; its result is held here.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Finished {
    /// The task.
    pub key: Key,
    /// Size of its result.
    pub nbytes: u64,
    /// How long it ran; zero when the result came from a peer instead.
    pub duration: Duration,
}

/// A task that raised an error (or panicked).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Erred {
    /// The task.
    pub key: Key,
    /// What went wrong.
    pub message: Arc<str>,
    /// The task fused into it that failed, if not the task itself.
    pub origin: Option<Key>,
    /// Whose fault it is.
    pub kind: ErrorKind,
}

/// Worker → scheduler. Each variant is what one of
/// `blockwork_scheduler::reactor`'s `on_*` functions consumes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ToScheduler {
    /// A task ran here and its result is held here
    /// (`reactor::on_task_finished`); or a compute request for a key this
    /// worker was already fetching was answered by the fetch (duration
    /// zero).
    TaskFinished(Finished),
    /// A task raised an error (`reactor::on_task_erred`).
    TaskErred(Erred),
    /// No holder could give `dep`, an input of `key`; `key` was given up
    /// here (`reactor::on_fetch_failed`). `holder` is the last one tried.
    FetchFailed {
        /// The task given up.
        key: Key,
        /// Its input that could not be fetched.
        dep: Key,
        /// The last holder that failed.
        holder: WorkerId,
    },
    /// The answer to a steal request, echoing its id
    /// (`reactor::on_steal_response`).
    StealResponse {
        /// The task.
        key: Key,
        /// The attempt being answered.
        id: StealId,
        /// Released (dropped here) or refused (running or done here).
        outcome: StealOutcome,
    },
    /// Copies of results fetched from peers, now held here
    /// (`reactor::on_worker_has_keys`).
    AddKeys(Vec<Key>),
}

impl ToScheduler {
    /// Hands this report from `worker` to the scheduler's reactor
    /// function that consumes it, at `now`.
    pub fn deliver(self, core: &mut Core, comm: &mut impl Comm, now: Duration, worker: WorkerId) {
        match self {
            ToScheduler::TaskFinished(Finished { key, nbytes, duration }) => {
                reactor::on_task_finished(core, comm, now, worker, &key, nbytes, duration)
            }
            ToScheduler::TaskErred(Erred { key, message, origin, kind }) => {
                let raised = reactor::Raised { origin: origin.as_ref(), message: &message, fault: kind };
                reactor::on_task_erred(core, comm, now, worker, &key, raised)
            }
            ToScheduler::FetchFailed { key, dep, holder } => {
                reactor::on_fetch_failed(core, comm, now, worker, &key, &dep, holder)
            }
            ToScheduler::StealResponse { key, id, outcome } => {
                reactor::on_steal_response(core, comm, now, worker, &key, id, outcome)
            }
            ToScheduler::AddKeys(keys) => reactor::on_worker_has_keys(core, comm, now, worker, &keys),
        }
    }
}

/// Worker → its runtime.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Instruction {
    /// Run `key` on a thread, reading `inputs` (argument order) from the
    /// local store; report back with `Event::TaskFinished` (after storing
    /// the result) or `Event::TaskErred`.
    Execute {
        /// The task.
        key: Key,
        /// The serialized task.
        payload: Payload,
        /// Its inputs, all in the local store, in argument order.
        inputs: Vec<Key>,
    },
    /// Ask `peer` for `keys`; report back with `Event::FetchDone` (after
    /// storing what came), `Event::FetchFailed` or `Event::PeerBusy`.
    Fetch {
        /// The peer.
        peer: WorkerId,
        /// Where to reach it.
        address: Arc<str>,
        /// What to ask for (one transfer).
        keys: Vec<Key>,
    },
    /// Answer a peer's request: send it `keys` from the store and tell it
    /// `missing` are not here; report `Event::DataSent` when done.
    SendData {
        /// The requesting peer.
        to: WorkerId,
        /// Keys sent.
        keys: Vec<Key>,
        /// Keys asked for but not held here.
        missing: Vec<Key>,
    },
    /// Answer a peer's request with "busy, try later"; nothing is sent.
    Busy {
        /// The requesting peer.
        to: WorkerId,
    },
    /// Remove `key`'s value from the local store.
    DropData(Key),
}

/// One output.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Out {
    /// To the scheduler.
    Scheduler(ToScheduler),
    /// To the runtime.
    Runtime(Instruction),
}

/// A [`Port`] that records the outputs, in order.
#[derive(Default, Debug)]
pub struct Recorder {
    /// Everything emitted since the last [`Recorder::take`].
    pub out: Vec<Out>,
}

impl Recorder {
    /// Takes the recorded outputs.
    pub fn take(&mut self) -> Vec<Out> {
        std::mem::take(&mut self.out)
    }
}

impl Port for Recorder {
    fn to_scheduler(&mut self, msg: ToScheduler) {
        self.out.push(Out::Scheduler(msg));
    }
    fn instruct(&mut self, ins: Instruction) {
        self.out.push(Out::Runtime(ins));
    }
}
