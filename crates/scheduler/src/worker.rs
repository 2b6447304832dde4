//! Workers as the scheduler sees them.

use std::sync::Arc;
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::ids::{TaskId, WorkerId};
use crate::resources::ResourceVec;

/// What a joining worker says about itself.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerSpec {
    /// Where peers fetch data from, e.g. `"tcp://10.0.0.7:40123"`.
    pub address: Arc<str>,
    /// Its name, as given at start (`--name`; a job queue names each
    /// job's workers after the job); the address when none was given.
    pub name: Arc<str>,
    /// Tasks it runs at once.
    pub nthreads: u32,
    /// Memory it may use, bytes.
    pub memory_limit: u64,
    /// Abstract resources it offers, e.g. `[("GPU", 2.0)]`.
    pub resources: Vec<(Arc<str>, f64)>,
}

/// Memory figures from a heartbeat.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct MemoryReport {
    /// Bytes of task results in memory.
    pub managed: u64,
    /// Bytes of task results spilled to disk.
    pub spilled: u64,
    /// Process memory not accounted for by results.
    pub unmanaged: u64,
}

/// One running worker.
#[derive(Debug)]
pub(crate) struct Worker {
    pub address: Arc<str>,
    pub name: Arc<str>,
    pub nthreads: u32,
    pub memory_limit: u64,
    pub resources: ResourceVec,
    /// Resources held by its processing tasks.
    pub used: ResourceVec,
    /// Tasks assigned to it and not finished.
    pub processing: FxHashSet<TaskId>,
    /// Sum of the expected durations of `processing`, microseconds.
    pub occupancy_us: u64,
    /// Tasks whose results it holds.
    pub has_what: FxHashSet<TaskId>,
    /// Sum of their sizes.
    pub nbytes: u64,
    /// Steals in flight towards this worker.
    pub incoming_steals: u32,
    pub last_seen: Duration,
    pub memory: MemoryReport,
    /// Being retired: given no new task while its results move away.
    pub retiring: Option<Retiring>,
}

/// A retirement in progress (`retire.rs`).
#[derive(Debug, Default)]
pub(crate) struct Retiring {
    /// Results only it holds that another worker was asked to copy:
    /// task → (that worker, when asked).
    pub moves: FxHashMap<TaskId, (WorkerId, Duration)>,
}

impl Worker {
    pub fn new(spec: &WorkerSpec, resources: ResourceVec, now: Duration) -> Self {
        Worker {
            address: spec.address.clone(),
            name: spec.name.clone(),
            nthreads: spec.nthreads,
            memory_limit: spec.memory_limit,
            resources,
            used: ResourceVec::new(),
            processing: FxHashSet::default(),
            occupancy_us: 0,
            has_what: FxHashSet::default(),
            nbytes: 0,
            incoming_steals: 0,
            last_seen: now,
            memory: MemoryReport::default(),
            retiring: None,
        }
    }

    /// Expected time until a new task could start here, microseconds.
    #[inline]
    pub fn wait_us(&self) -> u64 {
        self.occupancy_us / u64::from(self.nthreads)
    }

    /// Whether it takes new tasks (it is not being retired).
    #[inline]
    pub fn is_running(&self) -> bool {
        self.retiring.is_none()
    }

    /// Whether some thread has nothing assigned (steals on the way count).
    #[inline]
    pub fn has_idle_thread(&self) -> bool {
        self.processing.len() + (self.incoming_steals as usize) < self.nthreads as usize
    }
}

/// A worker's address as a user may give it (`tcp://host:port`,
/// `tls://host:port` or `host:port`), without its scheme.
pub fn bare_address(given: &str) -> &str {
    given.strip_prefix("tcp://").or_else(|| given.strip_prefix("tls://")).unwrap_or(given)
}

/// A read-only view of a worker, for callers and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerInfo {
    /// Its id.
    pub id: WorkerId,
    /// Its address.
    pub address: Arc<str>,
    /// Its name.
    pub name: Arc<str>,
    /// Whether it is being retired.
    pub retiring: bool,
    /// Its threads.
    pub nthreads: u32,
    /// Its memory limit.
    pub memory_limit: u64,
    /// Tasks processing on it.
    pub processing: usize,
    /// Expected work assigned to it.
    pub occupancy: Duration,
    /// Results it holds.
    pub keys_held: usize,
    /// Bytes of results it holds.
    pub nbytes: u64,
    /// Its last memory report.
    pub memory: MemoryReport,
}

impl WorkerInfo {
    /// Whether `given` names it: its address (with or without a scheme)
    /// or its name.
    pub fn is_named(&self, given: &str) -> bool {
        *self.address == *bare_address(given) || *self.name == *given
    }
}
