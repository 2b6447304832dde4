//! The worker's state: the task slab, the queues, and the invariants.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::Key;
use blockwork_scheduler::{KeyHasher, MemoryReport, Priority, ToWorker, Transitions, WorkerId};
use rustc_hash::FxHashSet;
use smallvec::SmallVec;

use crate::config::Config;
use crate::error::WorkerError;
use crate::event::Event;
use crate::port::{Instruction, Port, ToScheduler};
use crate::task::{Task, TaskState, TaskStateKind, Tid};

/// One transfer in flight from a peer.
#[derive(Debug)]
pub(crate) struct Transfer {
    pub keys: Vec<Tid>,
}

/// The state machine of one worker. Feed it events (through
/// [`WorkerState::handle`] or the `on_*` methods); it answers through a
/// [`Port`]. See the crate docs for the invariants.
#[derive(Debug)]
pub struct WorkerState {
    pub(crate) id: WorkerId,
    pub(crate) config: Config,
    pub(crate) tasks: Vec<Option<Task>>,
    pub(crate) free_ids: Vec<Tid>,
    pub(crate) index: HashMap<Key, Tid, KeyHasher>,
    /// Ready tasks, most urgent first.
    pub(crate) ready: BTreeSet<(Priority, Tid)>,
    /// Tasks executing or cancelled (each holds a thread).
    pub(crate) running: u32,
    /// Keys in `Fetch`, most urgent first.
    pub(crate) fetch: BTreeSet<(Priority, Tid)>,
    /// Keys in `Fetch` by holder.
    pub(crate) by_peer: BTreeMap<WorkerId, BTreeSet<(Priority, Tid)>>,
    /// Transfers in flight, at most one per peer.
    pub(crate) transfers: BTreeMap<WorkerId, Transfer>,
    /// Peers that answered busy, until when they are left alone.
    pub(crate) busy: BTreeMap<WorkerId, Duration>,
    /// Peers' addresses, as the scheduler named them.
    pub(crate) addresses: BTreeMap<WorkerId, Arc<str>>,
    /// Bytes of values in memory.
    pub(crate) managed: u64,
    /// `SendData` answers not yet reported sent.
    pub(crate) outgoing: u32,
    /// Fetched keys to report held, sent at the end of the event.
    pub(crate) add_keys: Vec<Key>,
    /// No new task starts while paused (memory is short).
    pub(crate) paused: bool,
    /// Every state change made, by source and target state.
    pub(crate) transitions: Transitions<TaskStateKind>,
}

impl WorkerState {
    /// A worker known to the scheduler as `id`.
    pub fn new(id: WorkerId, config: Config) -> Result<WorkerState, WorkerError> {
        config.validate()?;
        Ok(WorkerState {
            id,
            config,
            tasks: Vec::new(),
            free_ids: Vec::new(),
            index: HashMap::default(),
            ready: BTreeSet::new(),
            running: 0,
            fetch: BTreeSet::new(),
            by_peer: BTreeMap::new(),
            transfers: BTreeMap::new(),
            busy: BTreeMap::new(),
            addresses: BTreeMap::new(),
            managed: 0,
            outgoing: 0,
            add_keys: Vec::new(),
            paused: false,
            transitions: Transitions::default(),
        })
    }

    /// Handles one event.
    pub fn handle(&mut self, port: &mut impl Port, event: Event) {
        match event {
            Event::Scheduler(ToWorker::Compute(ct)) => self.on_compute(port, ct),
            Event::Scheduler(ToWorker::FreeKeys(keys)) => self.on_free_keys(port, &keys),
            Event::Scheduler(ToWorker::CancelCompute(key)) => self.on_cancel_compute(port, &key),
            Event::Scheduler(ToWorker::StealRequest { key, id }) => self.on_steal_request(port, &key, id),
            Event::Scheduler(ToWorker::AcquireReplicas(deps)) => self.on_acquire_replicas(port, deps),
            Event::FetchDone { peer, data, missing } => self.on_fetch_done(port, peer, &data, &missing),
            Event::FetchFailed { peer } => self.on_fetch_failed(port, peer),
            Event::PeerBusy { now, peer } => self.on_peer_busy(port, now, peer),
            Event::TaskFinished(done) => self.on_task_finished(port, done),
            Event::TaskErred(erred) => self.on_task_erred(port, erred),
            Event::DataRequested { from, keys } => self.on_data_requested(port, from, &keys),
            Event::DataSent { to } => self.on_data_sent(port, to),
            Event::Stored { data } => self.on_stored(port, &data),
            Event::Tick { now } => self.on_tick(port, now),
            Event::Paused(paused) => {
                self.paused = paused;
                self.settle(port);
            }
        }
    }

    /// Values stored here by the scheduler are in memory and held. A key
    /// waiting to be fetched needs fetching no more; a key in flight or
    /// being computed here is left to finish as it would have.
    pub fn on_stored(&mut self, port: &mut impl Port, data: &[(Key, u64)]) {
        for (key, nbytes) in data {
            match self.id_of(key) {
                None => {
                    let t = self.insert_new(key.clone());
                    self.store_value(t, *nbytes, true);
                }
                Some(t) => match &mut self.tm(t).state {
                    TaskState::Memory { held } => *held = true,
                    TaskState::Fetch { .. } => {
                        self.dequeue_fetch(t);
                        self.store_value(t, *nbytes, true);
                    }
                    _ => {}
                },
            }
        }
        self.settle(port);
    }

    // ---- queries ------------------------------------------------------

    /// Whether new tasks wait because memory is short.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Tasks running on its threads (cancelled ones included).
    pub fn executing(&self) -> u32 {
        self.running
    }

    /// This worker's id.
    pub fn id(&self) -> WorkerId {
        self.id
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Bytes of values held in memory (managed memory).
    pub fn managed_bytes(&self) -> u64 {
        self.managed
    }

    /// The memory figures for a heartbeat (nothing is spilled; unmanaged
    /// memory is the runtime's to measure).
    pub fn memory_report(&self) -> MemoryReport {
        MemoryReport { managed: self.managed, spilled: 0, unmanaged: 0 }
    }

    /// The state of `key`, if the worker knows it.
    pub fn state_of(&self, key: &Key) -> Option<TaskStateKind> {
        self.index.get(key).map(|&t| self.t(t).state.kind())
    }

    /// Keys known to the worker.
    pub fn num_tasks(&self) -> usize {
        self.index.len()
    }

    /// Tasks holding a thread (executing or cancelled).
    pub fn num_running(&self) -> usize {
        self.running as usize
    }

    /// Transfers from peers in flight.
    pub fn num_transfers(&self) -> usize {
        self.transfers.len()
    }

    /// Keys whose values are in memory, sorted.
    pub fn keys_in_memory(&self) -> Vec<Key> {
        let mut keys: Vec<Key> = self
            .live()
            .filter(|(_, task)| matches!(task.state, TaskState::Memory { .. }))
            .map(|(_, task)| task.key.clone())
            .collect();
        keys.sort();
        keys
    }

    // ---- slab -----------------------------------------------------------

    #[inline]
    pub(crate) fn t(&self, t: Tid) -> &Task {
        self.tasks[t.idx()].as_ref().expect("a live task")
    }

    #[inline]
    pub(crate) fn tm(&mut self, t: Tid) -> &mut Task {
        self.tasks[t.idx()].as_mut().expect("a live task")
    }

    pub(crate) fn is_live(&self, t: Tid) -> bool {
        self.tasks.get(t.idx()).is_some_and(Option::is_some)
    }

    pub(crate) fn live(&self) -> impl Iterator<Item = (Tid, &Task)> {
        self.tasks.iter().enumerate().filter_map(|(i, t)| t.as_ref().map(|t| (Tid(i as u32), t)))
    }

    pub(crate) fn id_of(&self, key: &Key) -> Option<Tid> {
        self.index.get(key).copied()
    }

    /// A new key in `state`.
    pub(crate) fn insert(&mut self, key: Key, state: TaskState) -> Tid {
        let t = self.insert_new(key);
        self.set_state(t, state);
        t
    }

    /// A new key whose state the caller sets (with [`Self::set_state`])
    /// before the event ends; until then it holds a placeholder.
    pub(crate) fn insert_new(&mut self, key: Key) -> Tid {
        let task = Task {
            key: key.clone(),
            state: TaskState::Memory { held: false },
            recorded: None,
            nbytes: 0,
            who_has: SmallVec::new(),
            dependents: FxHashSet::default(),
            replica: false,
        };
        let t = match self.free_ids.pop() {
            Some(t) => {
                self.tasks[t.idx()] = Some(task);
                t
            }
            None => {
                self.tasks.push(Some(task));
                Tid(self.tasks.len() as u32 - 1)
            }
        };
        self.index.insert(key, t);
        t
    }

    /// Moves `t` to `state`: the one place a key's state changes, so the
    /// transition table is checked (see [`Transitions::record`]). Handlers
    /// may move a state's contents out first (leaving a placeholder); the
    /// table sees the state last set here.
    pub(crate) fn set_state(&mut self, t: Tid, state: TaskState) {
        let task = self.tasks[t.idx()].as_mut().expect("a live task");
        let to = state.kind();
        self.transitions.record(&task.key, task.recorded, Some(to));
        task.recorded = Some(to);
        task.state = state;
    }

    /// The state changes made so far, by source and target.
    pub fn transitions(&self) -> &Transitions<TaskStateKind> {
        &self.transitions
    }

    /// Drops a task from the slab. The caller has taken it out of every
    /// queue and every dependents set.
    pub(crate) fn forget(&mut self, t: Tid) {
        let task = self.tasks[t.idx()].take().expect("forgetting a live task");
        self.transitions.record(&task.key, task.recorded, None);
        self.index.remove(&task.key);
        self.free_ids.push(t);
    }

    /// Ends every event: starts what may start, reports fetched keys.
    pub(crate) fn settle(&mut self, port: &mut impl Port) {
        self.ensure_executing(port);
        self.ensure_fetching(port);
        if !self.add_keys.is_empty() {
            port.to_scheduler(ToScheduler::AddKeys(std::mem::take(&mut self.add_keys)));
        }
    }

    /// The value of `t` (any state but memory) is now in the store.
    pub(crate) fn store_value(&mut self, t: Tid, nbytes: u64, held: bool) {
        self.set_state(t, TaskState::Memory { held });
        self.tm(t).nbytes = nbytes;
        self.managed += nbytes;
        let dependents: SmallVec<[Tid; 8]> = self.t(t).dependents.iter().copied().collect();
        for d in dependents {
            let task = self.tm(d);
            if let TaskState::Waiting { missing, .. } = &mut task.state {
                *missing -= 1;
                if *missing == 0 {
                    let TaskState::Waiting { run, .. } =
                        std::mem::replace(&mut task.state, TaskState::Memory { held: false })
                    else {
                        unreachable!()
                    };
                    self.ready.insert((run.priority, d));
                    self.set_state(d, TaskState::Ready { run });
                }
            }
        }
    }

    /// Forgets `t` if nothing keeps it: a key to fetch, or a value not
    /// held for the scheduler, that no local task needs any more.
    pub(crate) fn maybe_forget(&mut self, port: &mut impl Port, t: Tid) {
        let task = self.t(t);
        if !task.dependents.is_empty() {
            return;
        }
        match task.state {
            TaskState::Fetch { .. } if !task.replica => {
                self.dequeue_fetch(t);
                self.forget(t);
            }
            TaskState::Memory { held: false } => {
                let (nbytes, key) = (task.nbytes, task.key.clone());
                self.managed -= nbytes;
                port.instruct(Instruction::DropData(key));
                self.forget(t);
            }
            _ => {}
        }
    }

    // ---- invariants -----------------------------------------------------

    /// Checks every invariant; panics (naming the key) on the first broken
    /// one. Tests call it after every event.
    pub fn sanity_check(&self) {
        assert_eq!(self.index.len(), self.live().count(), "index and slab agree");
        let mut managed = 0;
        let mut running = 0;
        let mut ready = 0;
        let mut fetch = 0;
        let mut flight = 0;
        for (t, task) in self.live() {
            let key = &task.key;
            assert_eq!(self.index.get(key), Some(&t), "{key} is indexed");
            assert!(!task.who_has.contains(&self.id), "{key}: this worker is not its own holder");
            for &d in &task.dependents {
                let dt = self.t(d);
                let run = dt.state.run().unwrap_or_else(|| panic!("{key}: dependent {} is not a task to run", dt.key));
                assert!(run.deps.contains(&t), "{key}: dependent {} lists it", dt.key);
            }
            if let Some(run) = task.state.run() {
                for &d in &run.deps {
                    assert!(
                        self.t(d).dependents.contains(&t),
                        "{key}: input {} lists it as a dependent",
                        self.t(d).key
                    );
                }
                let mut distinct = run.deps.clone();
                distinct.sort_unstable();
                distinct.dedup();
                assert_eq!(distinct.len(), run.deps.len(), "{key}: inputs are distinct");
            }
            let in_memory = |d: &Tid| matches!(self.t(*d).state, TaskState::Memory { .. });
            match &task.state {
                TaskState::Fetch { priority } => {
                    fetch += 1;
                    assert!(!task.dependents.is_empty() || task.replica, "{key}: fetched for someone");
                    assert!(!task.who_has.is_empty(), "{key}: fetched from someone");
                    assert!(self.fetch.contains(&(*priority, t)), "{key}: in the fetch queue");
                    for h in &task.who_has {
                        assert!(self.by_peer[h].contains(&(*priority, t)), "{key}: queued under holder {h}");
                        assert!(self.addresses.contains_key(h), "{key}: address of {h} known");
                    }
                }
                TaskState::Flight { from, .. } => {
                    flight += 1;
                    assert!(self.transfers[from].keys.contains(&t), "{key}: part of the transfer from {from}");
                }
                TaskState::Waiting { run, missing } => {
                    assert!(*missing > 0, "{key}: waiting for something");
                    let n = run.deps.iter().filter(|d| !in_memory(d)).count();
                    assert_eq!(n, *missing as usize, "{key}: missing inputs counted");
                }
                TaskState::Ready { run } => {
                    ready += 1;
                    assert!(run.deps.iter().all(in_memory), "{key}: ready with every input in memory");
                    assert!(self.ready.contains(&(run.priority, t)), "{key}: in the ready queue");
                }
                TaskState::Executing { run } | TaskState::Cancelled { run } => {
                    running += 1;
                    assert!(run.deps.iter().all(in_memory), "{key}: running with every input in memory");
                }
                TaskState::Memory { held } => {
                    managed += task.nbytes;
                    assert!(*held || !task.dependents.is_empty(), "{key}: in memory for the scheduler or a local task");
                }
            }
            if !matches!(task.state, TaskState::Memory { .. }) {
                for &d in &task.dependents {
                    assert!(
                        matches!(self.t(d).state, TaskState::Waiting { .. }),
                        "{key}: not in memory, so dependent {} waits",
                        self.t(d).key
                    );
                }
            }
        }
        assert_eq!(managed, self.managed, "managed bytes are the sum over values in memory");
        assert_eq!(running, self.running, "running tasks counted");
        assert!(self.running <= self.config.slots(), "at most nthreads + pipeline tasks run");
        assert_eq!(ready, self.ready.len(), "ready queue holds exactly the ready tasks");
        assert!(
            self.ready.is_empty() || self.paused || self.running == self.config.slots(),
            "no idle slot while tasks are ready"
        );
        assert_eq!(fetch, self.fetch.len(), "fetch queue holds exactly the keys to fetch");
        let queued: usize = self.by_peer.values().map(BTreeSet::len).sum();
        let listed: usize =
            self.live().filter(|(_, t)| matches!(t.state, TaskState::Fetch { .. })).map(|(_, t)| t.who_has.len()).sum();
        assert_eq!(queued, listed, "per-peer queues hold exactly the holders of keys to fetch");
        assert!(self.by_peer.values().all(|s| !s.is_empty()), "no empty per-peer queue");
        assert!(self.transfers.len() <= self.config.max_concurrent_fetches as usize, "bounded transfers");
        let in_transfers: usize = self.transfers.values().map(|tr| tr.keys.len()).sum();
        assert_eq!(in_transfers, flight, "transfers hold exactly the keys in flight");
        assert!(self.transfers.values().all(|tr| !tr.keys.is_empty()), "no empty transfer");
        assert!(self.outgoing <= self.config.max_outgoing, "bounded outgoing transfers");
        assert!(self.add_keys.is_empty(), "fetched keys reported");
        if self.transfers.len() < self.config.max_concurrent_fetches as usize {
            for (_, t) in &self.fetch {
                for h in &self.t(*t).who_has {
                    assert!(
                        self.transfers.contains_key(h) || self.busy.contains_key(h),
                        "{}: a free transfer slot and an idle holder {h}",
                        self.t(*t).key
                    );
                }
            }
        }
    }
}
