//! Tasks as the scheduler sees them: a state enum that carries its data,
//! plus the graph edges and bookkeeping that every state shares.

use std::fmt;
use std::sync::Arc;

use blockwork_graph::{ErrorKind, Key};
use rustc_hash::FxHashSet;
use smallvec::SmallVec;

use crate::ids::{ClientId, PrefixId, StealId, TaskId, WorkerId};
use crate::legal::StateKind;
use crate::resources::ResourceRequest;

/// The serialized task, forwarded to workers unchanged.
pub type Payload = Arc<[u8]>;

/// Run preference: lower runs first. From the high bits: the user's
/// priority class (8 bits: higher user priorities first), the update's
/// generation (24 bits: earlier submissions first; updates past the
/// 16,777,215th share the last), the graph's static order (32 bits).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Priority(pub u64);

/// The generations the priority tells apart.
const GENERATIONS: u32 = (1 << 24) - 1;

impl Priority {
    /// The priority of the task at position `order` of the graph submitted
    /// as update number `generation`, of user priority 0.
    pub fn new(generation: u32, order: u32) -> Self {
        Priority::with_user(0, generation, order)
    }

    /// The priority of a task of user priority `user` (higher first;
    /// clamped to ±127).
    pub fn with_user(user: i32, generation: u32, order: u32) -> Self {
        let class = (128 - user.clamp(-127, 127)) as u64;
        Priority((class << 56) | (u64::from(generation.min(GENERATIONS)) << 32) | u64::from(order))
    }
}

/// Where a task may run: on these workers (by address or name); with
/// `loose`, anywhere while none of them runs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Restrict {
    pub workers: Vec<std::sync::Arc<str>>,
    pub loose: bool,
}

impl Restrict {
    /// The restriction a task spec asks for, if any.
    pub fn of(spec: &crate::update::TaskSpec) -> Option<Box<Restrict>> {
        if spec.workers.is_empty() {
            return None;
        }
        let workers = spec.workers.iter().map(|w| std::sync::Arc::from(crate::worker::bare_address(w))).collect();
        Some(Box::new(Restrict { workers, loose: spec.loose }))
    }

    /// Whether the worker at `address` named `name` is one of them.
    pub fn names(&self, address: &str, name: &str) -> bool {
        self.workers.iter().any(|w| &**w == address || &**w == name)
    }
}

/// Why a task is erred.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FailureKind {
    /// The task raised an error on a worker, with no retries left.
    Error,
    /// The task was processing on more workers that died than
    /// [`Config::allowed_failures`](crate::Config::allowed_failures) allows.
    KilledWorker,
}

/// The error of an erred task, shared by every dependent it made fail.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TaskFailure {
    /// The key that originally failed (the erred key itself, or one of its
    /// dependencies).
    pub key: Key,
    /// What happened, for the user.
    pub message: Arc<str>,
    /// Error raised by the task, or workers killed by it.
    pub kind: FailureKind,
    /// Whose fault it is: the task's own error's kind; the environment
    /// for workers killed or a scattered value lost.
    pub fault: ErrorKind,
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FailureKind::Error => write!(f, "task {} failed: {}", self.key, self.message),
            FailureKind::KilledWorker => write!(f, "task {} killed workers: {}", self.key, self.message),
        }
    }
}

/// Where a processing task runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Processing {
    pub worker: WorkerId,
    /// Expected run time added to the worker's occupancy, microseconds;
    /// subtracted again, exactly, when the task leaves.
    pub est_us: u64,
    /// A steal asked of `worker`, to move the task to the second worker.
    pub steal: Option<(StealId, WorkerId)>,
}

/// The state of a task; see the crate README for the transitions.
#[derive(Clone, Debug)]
pub(crate) enum TaskState {
    /// Known (it has a dependent) but not needed now; no data anywhere.
    Released,
    /// Needed; `missing` dependencies are not in memory yet (always > 0
    /// between events).
    Waiting { missing: u32 },
    /// Ready root task, in the scheduler's queue until a worker has room.
    Queued,
    /// Ready, but no running worker can take it (none, or none with the
    /// resources it needs).
    NoWorker,
    /// Assigned to a worker.
    Processing(Processing),
    /// Computed; held by these workers (never empty).
    Memory { who_has: SmallVec<[WorkerId; 2]>, nbytes: u64 },
    /// Failed, itself or through a dependency.
    Erred(Arc<TaskFailure>),
}

impl TaskState {
    /// Waiting, queued, no-worker or processing: the task will need its
    /// dependencies' data.
    #[inline]
    pub fn is_active(&self) -> bool {
        matches!(self, TaskState::Waiting { .. } | TaskState::Queued | TaskState::NoWorker | TaskState::Processing(_))
    }

    pub fn kind(&self) -> TaskStateKind {
        match self {
            TaskState::Released => TaskStateKind::Released,
            TaskState::Waiting { .. } => TaskStateKind::Waiting,
            TaskState::Queued => TaskStateKind::Queued,
            TaskState::NoWorker => TaskStateKind::NoWorker,
            TaskState::Processing(_) => TaskStateKind::Processing,
            TaskState::Memory { .. } => TaskStateKind::Memory,
            TaskState::Erred(_) => TaskStateKind::Erred,
        }
    }
}

/// The state of a task, without its data, for callers and tests.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TaskStateKind {
    /// Not needed now, no data.
    Released,
    /// Waiting for dependencies.
    Waiting,
    /// Ready root task held by the scheduler.
    Queued,
    /// Ready, no worker can take it.
    NoWorker,
    /// Assigned to a worker.
    Processing,
    /// Held by workers.
    Memory,
    /// Failed.
    Erred,
}

impl TaskStateKind {
    /// Every state, in the order of a task's life.
    pub const ALL: [TaskStateKind; 7] = [
        TaskStateKind::Released,
        TaskStateKind::Waiting,
        TaskStateKind::Queued,
        TaskStateKind::NoWorker,
        TaskStateKind::Processing,
        TaskStateKind::Memory,
        TaskStateKind::Erred,
    ];

    /// Its name as Dask's dashboards and metrics give it.
    pub fn name(self) -> &'static str {
        match self {
            TaskStateKind::Released => "released",
            TaskStateKind::Waiting => "waiting",
            TaskStateKind::Queued => "queued",
            TaskStateKind::NoWorker => "no-worker",
            TaskStateKind::Processing => "processing",
            TaskStateKind::Memory => "memory",
            TaskStateKind::Erred => "erred",
        }
    }
}

/// The README's table of legal transitions, row by row.
impl StateKind for TaskStateKind {
    const ALL: &'static [Self] = &TaskStateKind::ALL;
    const LEGAL: &'static [(Option<Self>, Option<Self>)] = {
        use TaskStateKind::*;
        &[
            (None, Some(Released)),
            (Some(Released), Some(Waiting)),
            (Some(Released), Some(Erred)),
            (Some(Released), Some(Memory)),
            (Some(Released), None),
            (Some(Waiting), Some(Queued)),
            (Some(Waiting), Some(Processing)),
            (Some(Waiting), Some(NoWorker)),
            (Some(Waiting), Some(Released)),
            (Some(Queued), Some(Released)),
            (Some(NoWorker), Some(Released)),
            (Some(Processing), Some(Released)),
            (Some(Waiting), Some(Erred)),
            (Some(Processing), Some(Erred)),
            (Some(Queued), Some(Processing)),
            (Some(NoWorker), Some(Processing)),
            (Some(Queued), Some(Waiting)),
            (Some(NoWorker), Some(Waiting)),
            (Some(Processing), Some(Waiting)),
            (Some(Processing), Some(Processing)),
            (Some(Processing), Some(Memory)),
            (Some(Memory), Some(Released)),
            (Some(Erred), None),
        ]
    };

    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        TaskStateKind::name(self)
    }
}

/// One task known to the scheduler.
#[derive(Debug)]
pub(crate) struct Task {
    pub key: Key,
    pub state: TaskState,
    pub priority: Priority,
    pub payload: Payload,
    /// Dependencies, in the order the client gave them (workers get their
    /// inputs in this order).
    pub deps: SmallVec<[TaskId; 4]>,
    /// Tasks depending on this one that the scheduler still knows.
    pub dependents: FxHashSet<TaskId>,
    /// Dependents in an active state (see [`TaskState::is_active`]).
    pub waiters: u32,
    /// Clients that want the result.
    pub who_wants: SmallVec<[ClientId; 1]>,
    pub prefix: PrefixId,
    /// Retries left after an error.
    pub retries: u32,
    /// Workers that died while this task was processing on them.
    pub suspicious: u32,
    /// Abstract resources the task holds while processing.
    pub resources: Option<Box<ResourceRequest>>,
    /// The workers it may run on, if restricted.
    pub restrict: Option<Box<Restrict>>,
    /// Its value was scattered by a client: it has no recipe.
    pub scattered: bool,
}

impl Task {
    /// Whether anything needs this task's data: a client, or a dependent
    /// that will run.
    #[inline]
    pub fn needed(&self) -> bool {
        !self.who_wants.is_empty() || self.waiters > 0
    }

    /// Whether the task is only kept for nothing: no client wants it and no
    /// dependent refers to it.
    #[inline]
    pub fn unreferenced(&self) -> bool {
        self.who_wants.is_empty() && self.dependents.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::TaskStateKind;

    #[test]
    fn all_states_are_listed_in_declaration_order() {
        // `Core::task_counts` indexes `ALL` by the state's discriminant.
        for (i, k) in TaskStateKind::ALL.iter().enumerate() {
            assert_eq!(*k as usize, i, "{k:?}");
        }
    }
}
