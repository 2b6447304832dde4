//! [`Core`]: the scheduler's state, its read-only queries and its
//! invariant check. The transitions live in `transitions.rs`, placement,
//! queuing, stealing and failure handling in their own files, and the
//! public events in `reactor.rs`; they all extend `Core` with methods.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::Key;
use rustc_hash::FxHashMap;

use crate::client::Client;
use crate::config::Config;
use crate::durations::Durations;
use crate::error::SchedError;
use crate::ids::{ClientId, KeyHasher, TaskId, WorkerId};
use crate::legal::Transitions;
use crate::resources::{self, ResourceNames, ResourceVec};
use crate::task::{Priority, Task, TaskFailure, TaskState, TaskStateKind};
use crate::worker::{Worker, WorkerInfo};

/// Short roots queued on a worker ahead of its threads, per thread, at
/// most (see [`Core::slots`]): enough to hide a round trip behind tasks
/// of a few microseconds, few enough that their results stay small.
pub(crate) const MAX_AHEAD_PER_THREAD: f64 = 16.0;

/// The known tasks and their dependencies ([`Core::graph_snapshot`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphSnapshot {
    /// Each task's key and state.
    pub nodes: Vec<(Key, TaskStateKind)>,
    /// (dependency, dependent), as indices into `nodes`.
    pub edges: Vec<(u32, u32)>,
}

/// The state of the distributed scheduler.
///
/// Drive it with the functions of [`crate::reactor`]; read it with the
/// query methods below. Nothing in it does IO or reads a clock.
pub struct Core {
    pub(crate) config: Config,
    /// Task slab; `None` slots are free and listed in `free_ids`.
    pub(crate) tasks: Vec<Option<Task>>,
    pub(crate) free_ids: Vec<TaskId>,
    pub(crate) index: HashMap<Key, TaskId, KeyHasher>,
    /// Worker table indexed by id; `None` once removed (ids are not reused).
    pub(crate) workers: Vec<Option<Worker>>,
    pub(crate) total_nthreads: u64,
    /// Client table indexed by id; `None` once disconnected.
    pub(crate) clients: Vec<Option<Client>>,
    pub(crate) durations: Durations,
    /// Number of known tasks per key name (a "group" of blocks).
    pub(crate) groups: FxHashMap<Arc<str>, u32>,
    pub(crate) resource_names: ResourceNames,
    /// Queued root tasks, best first.
    pub(crate) queue: BTreeSet<(Priority, TaskId)>,
    /// No-worker tasks, best first.
    pub(crate) no_worker: BTreeSet<(Priority, TaskId)>,
    pub(crate) generation: u32,
    pub(crate) next_steal: u64,
    pub(crate) last_balance: Duration,
    /// Tasks whose need may have changed, to settle before the event ends.
    pub(crate) dirty: Vec<TaskId>,
    /// Waiting tasks whose inputs all arrived, to place before the event ends.
    pub(crate) ready: Vec<TaskId>,
    /// Resources were released or a worker joined: retry no-worker tasks.
    pub(crate) retry_no_worker: bool,
    /// Retirements that ended since the runtime last took them.
    pub(crate) retirements: Vec<crate::retire::Retirement>,
    /// Workers being retired.
    pub(crate) n_retiring: usize,
    /// Results being moved by a rebalance: the worker each leaves, the
    /// one it goes to.
    pub(crate) moving: FxHashMap<TaskId, (WorkerId, WorkerId)>,
    /// Every state change made, by source and target state.
    pub(crate) transitions: Transitions<TaskStateKind>,
}

impl Core {
    /// An empty scheduler.
    pub fn new(config: Config) -> Result<Core, SchedError> {
        config.validate()?;
        Ok(Core {
            config,
            tasks: Vec::new(),
            free_ids: Vec::new(),
            index: HashMap::with_hasher(KeyHasher),
            workers: Vec::new(),
            total_nthreads: 0,
            clients: Vec::new(),
            durations: Durations::default(),
            groups: FxHashMap::default(),
            resource_names: ResourceNames::default(),
            queue: BTreeSet::new(),
            no_worker: BTreeSet::new(),
            generation: 0,
            next_steal: 0,
            last_balance: Duration::ZERO,
            dirty: Vec::new(),
            ready: Vec::new(),
            retry_no_worker: false,
            retirements: Vec::new(),
            n_retiring: 0,
            moving: FxHashMap::default(),
            transitions: Transitions::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The state changes made so far, by source and target
    /// ([`Transitions::unexercised`] lists the table's rows never taken).
    pub fn transitions(&self) -> &Transitions<TaskStateKind> {
        &self.transitions
    }

    /// Moves `t` to `state`: the one place a task's state changes, so the
    /// transition table is checked (see [`Transitions::record`]).
    pub(crate) fn set_state(&mut self, t: TaskId, state: TaskState) {
        let task = self.tasks[t.idx()].as_mut().expect("a live task id");
        self.transitions.record(&task.key, Some(task.state.kind()), Some(state.kind()));
        task.state = state;
    }

    #[inline]
    pub(crate) fn t(&self, t: TaskId) -> &Task {
        self.tasks[t.idx()].as_ref().expect("a live task id")
    }

    #[inline]
    pub(crate) fn tm(&mut self, t: TaskId) -> &mut Task {
        self.tasks[t.idx()].as_mut().expect("a live task id")
    }

    #[inline]
    pub(crate) fn worker(&self, w: WorkerId) -> Option<&Worker> {
        self.workers.get(w.idx()).and_then(Option::as_ref)
    }

    #[inline]
    pub(crate) fn worker_mut(&mut self, w: WorkerId) -> Option<&mut Worker> {
        self.workers.get_mut(w.idx()).and_then(Option::as_mut)
    }

    /// Live workers that take new tasks (not being retired).
    pub(crate) fn running_workers(&self) -> impl Iterator<Item = (WorkerId, &Worker)> + '_ {
        self.live_workers().filter(|(_, w)| w.is_running())
    }

    pub(crate) fn live_workers(&self) -> impl Iterator<Item = (WorkerId, &Worker)> + '_ {
        self.workers.iter().enumerate().filter_map(|(i, w)| w.as_ref().map(|w| (WorkerId(i as u32), w)))
    }

    pub(crate) fn id_of(&self, key: &Key) -> Option<TaskId> {
        self.index.get(key).copied()
    }

    pub(crate) fn group_size(&self, t: TaskId) -> u32 {
        self.groups.get(self.t(t).key.name()).copied().unwrap_or(0)
    }

    // ---- queries -------------------------------------------------------

    /// The state of a key, `None` if the scheduler does not know it
    /// (never submitted, or forgotten).
    pub fn state_of(&self, key: &Key) -> Option<TaskStateKind> {
        self.id_of(key).map(|t| self.t(t).state.kind())
    }

    /// Workers holding a key in memory.
    pub fn who_has(&self, key: &Key) -> Option<&[WorkerId]> {
        match &self.t(self.id_of(key)?).state {
            TaskState::Memory { who_has, .. } => Some(who_has),
            _ => None,
        }
    }

    /// The worker a processing key is assigned to.
    pub fn processing_on(&self, key: &Key) -> Option<WorkerId> {
        match &self.t(self.id_of(key)?).state {
            TaskState::Processing(p) => Some(p.worker),
            _ => None,
        }
    }

    /// Why an erred key failed.
    pub fn failure(&self, key: &Key) -> Option<&Arc<TaskFailure>> {
        match &self.t(self.id_of(key)?).state {
            TaskState::Erred(f) => Some(f),
            _ => None,
        }
    }

    /// Number of tasks the scheduler knows.
    pub fn num_tasks(&self) -> usize {
        self.index.len()
    }

    /// How many tasks are in each state, in [`TaskStateKind::ALL`]'s order
    /// (a pass over every task: for reports, not the hot path).
    pub fn task_counts(&self) -> [(TaskStateKind, usize); 7] {
        let mut counts = TaskStateKind::ALL.map(|k| (k, 0));
        for t in self.tasks.iter().flatten() {
            // `ALL` lists the states in their declaration order.
            counts[t.state.kind() as usize].1 += 1;
        }
        counts
    }

    /// Calls `f` with the key prefix and state of every task (a pass over
    /// every task: for reports, not the hot path).
    pub fn for_each_task<'a>(&'a self, mut f: impl FnMut(&'a str, TaskStateKind)) {
        for t in self.tasks.iter().flatten() {
            f(t.key.prefix(), t.state.kind());
        }
    }

    /// The graph of known tasks, when there are at most `limit`: each
    /// task's key and state, and the edges (dependency, dependent) as
    /// indices into that list. `None` when there are more (drawing them
    /// would tell nothing).
    pub fn graph_snapshot(&self, limit: usize) -> Option<GraphSnapshot> {
        if self.index.len() > limit {
            return None;
        }
        let mut position = vec![u32::MAX; self.tasks.len()];
        let mut nodes = Vec::with_capacity(self.index.len());
        for (i, t) in self.tasks.iter().enumerate() {
            if let Some(t) = t {
                position[i] = nodes.len() as u32;
                nodes.push((t.key.clone(), t.state.kind()));
            }
        }
        let mut edges = Vec::new();
        for (i, t) in self.tasks.iter().enumerate() {
            if let Some(t) = t {
                edges.extend(t.deps.iter().map(|d| (position[d.idx()], position[i])));
            }
        }
        Some(GraphSnapshot { nodes, edges })
    }

    /// Number of root tasks held in the queue.
    pub fn num_queued(&self) -> usize {
        self.queue.len()
    }

    /// Number of ready tasks no worker can take.
    pub fn num_no_worker(&self) -> usize {
        self.no_worker.len()
    }

    /// The running workers.
    pub fn worker_ids(&self) -> Vec<WorkerId> {
        self.live_workers().map(|(id, _)| id).collect()
    }

    /// A running worker's figures.
    pub fn worker_info(&self, w: WorkerId) -> Option<WorkerInfo> {
        let wk = self.worker(w)?;
        Some(WorkerInfo {
            id: w,
            address: wk.address.clone(),
            name: wk.name.clone(),
            retiring: wk.retiring.is_some(),
            nthreads: wk.nthreads,
            memory_limit: wk.memory_limit,
            processing: wk.processing.len(),
            occupancy: Duration::from_micros(wk.occupancy_us),
            keys_held: wk.has_what.len(),
            nbytes: wk.nbytes,
            memory: wk.memory,
        })
    }

    /// Keys processing on a worker, best priority first.
    pub fn processing_keys(&self, w: WorkerId) -> Vec<Key> {
        let Some(wk) = self.worker(w) else { return Vec::new() };
        let mut ts: Vec<TaskId> = wk.processing.iter().copied().collect();
        ts.sort_by_key(|&t| (self.t(t).priority, t));
        ts.into_iter().map(|t| self.t(t).key.clone()).collect()
    }

    /// Keys a worker holds, sorted.
    pub fn keys_held(&self, w: WorkerId) -> Vec<Key> {
        let Some(wk) = self.worker(w) else { return Vec::new() };
        let mut keys: Vec<Key> = wk.has_what.iter().map(|&t| self.t(t).key.clone()).collect();
        keys.sort();
        keys
    }

    /// Clients connected.
    pub fn num_clients(&self) -> usize {
        self.clients.iter().flatten().count()
    }

    /// Whether a client wants a key.
    pub fn wants(&self, client: ClientId, key: &Key) -> bool {
        self.id_of(key).is_some_and(|t| self.t(t).who_wants.contains(&client))
    }

    /// The expected duration of tasks of a key prefix.
    pub fn expected_duration(&self, prefix: &str) -> Duration {
        let unknown = self.config.unknown_task_duration.as_micros() as u64;
        Duration::from_micros(self.durations.lookup(prefix).map_or(unknown, |p| self.durations.estimate_us(p, unknown)))
    }

    /// How many root tasks a worker takes from the queue at most:
    /// `ceil(nthreads × saturation)`, plus, when the best queued root is
    /// expected to take less than a [`Config::round_trip`](crate::Config),
    /// enough more to keep its threads busy while finished reports travel
    /// here and new tasks travel back (`nthreads × round_trip / duration`,
    /// at most [`MAX_AHEAD_PER_THREAD`] per thread). Without that, a
    /// worker given microsecond tasks would idle for a round trip after
    /// each one.
    pub(crate) fn slots(&self, wk: &Worker) -> usize {
        let Some(s) = self.config.saturation else { return usize::MAX };
        let threads = f64::from(wk.nthreads);
        let ahead = match self.queue.first() {
            Some(&(_, t)) => {
                let unknown = self.config.unknown_task_duration.as_micros() as u64;
                let us = self.durations.estimate_us(self.t(t).prefix, unknown).max(1) as f64;
                let per_thread = (self.config.round_trip.as_micros() as f64 / us).min(MAX_AHEAD_PER_THREAD);
                (threads * per_thread).floor()
            }
            None => 0.0,
        };
        ((threads * s).ceil() + ahead).max(1.0) as usize
    }

    /// Checks every invariant listed in the crate README; panics on a bug.
    /// Costs O(tasks + edges + workers): tests call it after every event.
    pub fn sanity_check(&self) {
        assert!(self.dirty.is_empty() && self.ready.is_empty(), "work lists drained between events");
        let live = self.tasks.iter().filter(|t| t.is_some()).count();
        assert_eq!(live, self.index.len(), "index and slab agree");
        assert_eq!(live + self.free_ids.len(), self.tasks.len(), "free list covers the empty slots");
        for f in &self.free_ids {
            assert!(self.tasks[f.idx()].is_none(), "free id {f} is empty");
        }
        let mut group_sizes: FxHashMap<&str, u32> = FxHashMap::default();
        let mut processing_on: Vec<Vec<TaskId>> = vec![Vec::new(); self.workers.len()];
        let mut held_by: Vec<Vec<TaskId>> = vec![Vec::new(); self.workers.len()];
        let mut incoming: Vec<u32> = vec![0; self.workers.len()];
        let (mut dep_edges, mut dependent_edges) = (0, 0);
        for (i, slot) in self.tasks.iter().enumerate() {
            let Some(task) = slot else { continue };
            let t = TaskId(i as u32);
            let k = &task.key;
            assert_eq!(self.index.get(k), Some(&t), "index of {k}");
            *group_sizes.entry(k.name()).or_default() += 1;
            assert!(!task.unreferenced(), "{k} is neither wanted nor depended on, yet not forgotten");
            // Every dependency edge is mirrored; with equal edge counts
            // (below) the two directions are the same set of edges.
            for &d in &task.deps {
                assert!(self.tasks[d.idx()].as_ref().is_some_and(|dt| dt.dependents.contains(&t)), "edge {k} -> dep");
            }
            dep_edges += task.deps.len();
            dependent_edges += task.dependents.len();
            let waiters = task.dependents.iter().filter(|&&d| self.t(d).state.is_active()).count();
            assert_eq!(task.waiters as usize, waiters, "waiters of {k}");
            for &c in &task.who_wants {
                let client = self.clients[c.idx()].as_ref().unwrap_or_else(|| panic!("{k} wanted by gone {c}"));
                assert!(client.wants.contains(&t), "{c} wants {k} both ways");
            }
            let needed = task.needed();
            let deps_in_memory =
                task.deps.iter().filter(|&&d| matches!(self.t(d).state, TaskState::Memory { .. })).count();
            if task.state.is_active() {
                assert!(needed, "{k} is {:?} but not needed", task.state.kind());
                for &d in &task.deps {
                    assert!(!matches!(self.t(d).state, TaskState::Erred(_)), "{k} is active on an erred dependency");
                }
            }
            match &task.state {
                TaskState::Released => assert!(!needed, "{k} is released but needed"),
                TaskState::Waiting { missing } => {
                    assert_eq!(*missing as usize, task.deps.len() - deps_in_memory, "missing of {k}");
                    assert!(*missing > 0, "{k} is waiting with all its inputs (should have been placed)");
                }
                TaskState::Queued => {
                    assert_eq!(deps_in_memory, task.deps.len(), "queued {k} has its inputs");
                    assert!(self.queue.contains(&(task.priority, t)), "queued {k} in the queue");
                }
                TaskState::NoWorker => {
                    assert_eq!(deps_in_memory, task.deps.len(), "no-worker {k} has its inputs");
                    assert!(self.no_worker.contains(&(task.priority, t)), "no-worker {k} in its set");
                    assert!(self.decide_worker(t).is_none(), "no-worker {k} could run on a worker");
                }
                TaskState::Processing(p) => {
                    assert_eq!(deps_in_memory, task.deps.len(), "processing {k} has its inputs");
                    assert!(self.worker(p.worker).is_some(), "{k} processing on removed {}", p.worker);
                    processing_on[p.worker.idx()].push(t);
                    if let Some((_, thief)) = p.steal {
                        assert_ne!(thief, p.worker, "{k} stolen by its own worker");
                        incoming[thief.idx()] += 1;
                    }
                }
                TaskState::Memory { who_has, .. } => {
                    assert!(needed, "{k} in memory but nobody needs it");
                    assert!(!who_has.is_empty(), "{k} in memory nowhere");
                    for (j, w) in who_has.iter().enumerate() {
                        assert!(self.worker(*w).is_some(), "{k} held by removed {w}");
                        assert!(!who_has[..j].contains(w), "{k} held twice by {w}");
                        held_by[w.idx()].push(t);
                    }
                }
                TaskState::Erred(_) => {}
            }
        }
        assert_eq!(dep_edges, dependent_edges, "dependencies and dependents mirror each other");
        assert_eq!(group_sizes.len(), self.groups.len(), "group table size");
        for (name, n) in &group_sizes {
            assert_eq!(self.groups.get(*name), Some(n), "group size of {name}");
        }
        for &(p, t) in self.queue.iter().chain(self.no_worker.iter()) {
            assert!(self.tasks[t.idx()].as_ref().is_some_and(|x| x.priority == p), "stale entry {t} in a queue");
        }
        let queued = self.queue.len() + self.no_worker.len();
        let states = self.tasks.iter().flatten();
        assert_eq!(
            queued,
            states.filter(|x| matches!(x.state, TaskState::Queued | TaskState::NoWorker)).count(),
            "queue sizes"
        );
        let mut threads = 0;
        for (w, wk) in self.live_workers() {
            threads += u64::from(wk.nthreads);
            let mine = &mut processing_on[w.idx()];
            assert_eq!(mine.len(), wk.processing.len(), "processing count of {w}");
            let mut occupancy = 0;
            let mut used = ResourceVec::new();
            for t in mine.iter() {
                assert!(wk.processing.contains(t), "{w} lists its processing tasks");
                let TaskState::Processing(p) = &self.t(*t).state else { unreachable!() };
                occupancy += p.est_us;
                if let Some(r) = &self.t(*t).resources {
                    resources::apply(&mut used, r, true);
                }
            }
            assert_eq!(occupancy, wk.occupancy_us, "occupancy of {w}");
            let n = used.len().max(wk.used.len());
            for r in 0..n {
                let r = crate::ids::ResourceId(r as u32);
                assert_eq!(resources::get(&used, r), resources::get(&wk.used, r), "resources used on {w}");
                assert!(resources::get(&wk.used, r) <= resources::get(&wk.resources, r), "overcommitted {w}");
            }
            let held = &held_by[w.idx()];
            assert_eq!(held.len(), wk.has_what.len(), "keys held by {w}");
            let mut nbytes = 0;
            for t in held {
                assert!(wk.has_what.contains(t), "{w} lists what it holds");
                if let TaskState::Memory { nbytes: b, .. } = self.t(*t).state {
                    nbytes += b;
                }
            }
            assert_eq!(nbytes, wk.nbytes, "bytes held by {w}");
            assert_eq!(incoming[w.idx()], wk.incoming_steals, "steals towards {w}");
            if !self.queue.is_empty() && wk.is_running() {
                assert!(wk.processing.len() >= self.slots(wk), "{w} has room while roots are queued");
            }
        }
        assert_eq!(threads, self.total_nthreads, "thread count");
        let retiring = self.live_workers().filter(|(_, w)| !w.is_running()).count();
        assert_eq!(retiring, self.n_retiring, "retiring workers counted");
        for (i, c) in self.clients.iter().enumerate() {
            let Some(c) = c else { continue };
            for &t in &c.wants {
                let task = self.tasks[t.idx()].as_ref().expect("a wanted task exists");
                assert!(task.who_wants.contains(&ClientId(i as u32)), "client wants both ways");
            }
        }
    }
}
