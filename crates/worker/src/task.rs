//! Keys as a worker sees them: a state enum that carries its data, plus
//! what every state shares.

use std::fmt;

use blockwork_graph::Key;
use blockwork_scheduler::{ComputeTask, Payload, Priority, StateKind, WorkerId};
use rustc_hash::FxHashSet;
use smallvec::SmallVec;

/// A key known to the worker: a slot of its task slab, reused once the
/// key is forgotten (outside messages always name keys, never ids).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub(crate) struct Tid(pub u32);

impl Tid {
    #[inline]
    pub fn idx(self) -> usize {
        self.0 as usize
    }
}

/// A task the scheduler asked this worker to run.
#[derive(Debug)]
pub(crate) struct Run {
    pub payload: Payload,
    pub priority: Priority,
    /// Inputs in argument order (repeats allowed), for the runtime.
    pub inputs: Vec<Key>,
    /// Distinct inputs; this task is among the `dependents` of each from
    /// the moment it waits until it stops executing.
    pub deps: SmallVec<[Tid; 4]>,
}

/// The state of a key on the worker; see the crate README for the
/// transitions.
#[derive(Debug)]
pub(crate) enum TaskState {
    /// An input of local tasks, to fetch from a peer; queued for fetching
    /// under each holder, by `priority` (the most urgent dependent's).
    Fetch { priority: Priority },
    /// Being fetched from `from`. `compute`: the scheduler asked to run
    /// it meanwhile; if the transfer fails, it is run here.
    Flight { from: WorkerId, compute: Option<Box<ComputeTask>> },
    /// To run; `missing` inputs (> 0) are not in memory yet.
    Waiting { run: Box<Run>, missing: u32 },
    /// To run; every input in memory; in the ready queue.
    Ready { run: Box<Run> },
    /// Running on a thread.
    Executing { run: Box<Run> },
    /// Running on a thread, but the scheduler no longer wants it: the
    /// result is dropped (or kept only for local dependents) and not
    /// reported.
    Cancelled { run: Box<Run> },
    /// The value is in the local store. `held`: the scheduler knows
    /// (computed and reported here, or fetched and reported) and it stays
    /// until the scheduler frees it; otherwise it stays only while local
    /// dependents need it.
    Memory { held: bool },
}

impl TaskState {
    pub fn kind(&self) -> TaskStateKind {
        match self {
            TaskState::Fetch { .. } => TaskStateKind::Fetch,
            TaskState::Flight { .. } => TaskStateKind::Flight,
            TaskState::Waiting { .. } => TaskStateKind::Waiting,
            TaskState::Ready { .. } => TaskStateKind::Ready,
            TaskState::Executing { .. } => TaskStateKind::Executing,
            TaskState::Cancelled { .. } => TaskStateKind::Cancelled,
            TaskState::Memory { .. } => TaskStateKind::Memory,
        }
    }

    /// The run of a task waiting, ready, executing or cancelled.
    pub fn run(&self) -> Option<&Run> {
        match self {
            TaskState::Waiting { run, .. }
            | TaskState::Ready { run }
            | TaskState::Executing { run }
            | TaskState::Cancelled { run } => Some(run),
            _ => None,
        }
    }
}

/// The state of a key, without its data, for callers and tests.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TaskStateKind {
    /// An input to fetch from a peer.
    Fetch,
    /// Being fetched.
    Flight,
    /// To run, waiting for inputs.
    Waiting,
    /// To run, inputs here, queued by priority.
    Ready,
    /// Running.
    Executing,
    /// Running, result not wanted.
    Cancelled,
    /// Value in the local store.
    Memory,
}

/// The README's table of legal transitions, row by row.
impl StateKind for TaskStateKind {
    const ALL: &'static [Self] = &[
        TaskStateKind::Fetch,
        TaskStateKind::Flight,
        TaskStateKind::Waiting,
        TaskStateKind::Ready,
        TaskStateKind::Executing,
        TaskStateKind::Cancelled,
        TaskStateKind::Memory,
    ];
    const LEGAL: &'static [(Option<Self>, Option<Self>)] = {
        use TaskStateKind::*;
        &[
            (None, Some(Waiting)),
            (None, Some(Ready)),
            (None, Some(Fetch)),
            (None, Some(Memory)),
            (Some(Fetch), Some(Flight)),
            (Some(Fetch), Some(Fetch)),
            (Some(Fetch), Some(Waiting)),
            (Some(Fetch), Some(Ready)),
            (Some(Fetch), Some(Memory)),
            (Some(Fetch), None),
            (Some(Flight), Some(Memory)),
            (Some(Flight), Some(Fetch)),
            (Some(Flight), Some(Waiting)),
            (Some(Flight), Some(Ready)),
            (Some(Flight), None),
            (Some(Waiting), Some(Ready)),
            (Some(Waiting), None),
            (Some(Ready), None),
            (Some(Ready), Some(Executing)),
            (Some(Executing), Some(Memory)),
            (Some(Executing), None),
            (Some(Executing), Some(Cancelled)),
            (Some(Cancelled), Some(Executing)),
            (Some(Cancelled), None),
            (Some(Cancelled), Some(Memory)),
            (Some(Waiting), Some(Fetch)),
            (Some(Ready), Some(Fetch)),
            (Some(Executing), Some(Fetch)),
            (Some(Cancelled), Some(Fetch)),
            (Some(Memory), None),
        ]
    };

    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        match self {
            TaskStateKind::Fetch => "fetch",
            TaskStateKind::Flight => "flight",
            TaskStateKind::Waiting => "waiting",
            TaskStateKind::Ready => "ready",
            TaskStateKind::Executing => "executing",
            TaskStateKind::Cancelled => "cancelled",
            TaskStateKind::Memory => "memory",
        }
    }
}

impl fmt::Display for TaskStateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// One key known to the worker.
#[derive(Debug)]
pub(crate) struct Task {
    pub key: Key,
    pub state: TaskState,
    /// The state as the transition table last saw it (`None`: just
    /// inserted); `state` may hold a placeholder inside an event.
    pub recorded: Option<TaskStateKind>,
    /// Size of the value: from the scheduler for an input, measured for
    /// a result.
    pub nbytes: u64,
    /// Peers said to hold the value (never this worker), minus those that
    /// failed to give it.
    pub who_has: SmallVec<[WorkerId; 2]>,
    /// Local tasks that will read the value: waiting, ready, executing or
    /// cancelled ones listing it among their inputs.
    pub dependents: FxHashSet<Tid>,
    /// The scheduler asked for a copy (`AcquireReplicas`): fetched and
    /// kept even if no local task reads it.
    pub replica: bool,
}
