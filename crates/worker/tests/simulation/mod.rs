//! A deterministic simulation of a small cluster: one scheduler core from
//! `blockwork-scheduler` and 2–4 [`WorkerState`]s, connected by FIFO
//! message queues with random latencies.
//!
//! One seed fixes everything: the graph, the workers and their settings,
//! latencies, task durations, flaky tasks, failed and refused transfers,
//! and the client's releases, cancels and re-submissions. Time is virtual
//! (microseconds); events sit in one queue ordered by (time, sequence).
//!
//! Each worker's runtime is simulated around its state machine: `Execute`
//! reads the inputs from the worker's store (they must be there), computes
//! the value as a hash of the key and the inputs' values and finishes after
//! the task's duration (or errs, for a flaky task's first run); `Fetch`
//! asks the peer's state machine for the keys (`DataRequested`) and
//! delivers what its `SendData` carried, or fails the transfer, or is
//! answered busy; `DropData` removes from the store. After every event
//! both sides' `sanity_check` runs, and each worker's store must hold
//! exactly the keys its state has in memory. At quiescence (nothing in
//! flight, no busy backoff still running) every wanted key is in memory
//! with its plainly evaluated value on every holder (or erred for an
//! injected reason), and workers hold exactly what the scheduler thinks;
//! once the client leaves, workers hold nothing.

pub mod graphs;

use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::{ErrorKind, Key};
use blockwork_scheduler::reactor as sched;
use blockwork_scheduler::{
    ClientId, Config as SchedConfig, Core, GraphUpdate, Recorder as SchedRecorder, Sent, StealOutcome, TaskSpec,
    TaskStateKind, ToClient, ToWorker, Transitions, WorkerId, WorkerSpec,
};
use blockwork_testkit::sim::{Net, SimEvent, MS, SEC};
use blockwork_worker::{Config, Erred, Event, Finished, Instruction, Out, Recorder, ToScheduler, WorkerState};
use rustc_hash::{FxHashMap, FxHashSet};

use blockwork_testkit::Rng;
use graphs::{task_value, Shape, SimGraph};

const TICK: u64 = 50 * MS;
const BANDWIDTH: u64 = 100_000_000;

impl SimEvent for Ev {
    fn in_flight(&self) -> bool {
        !matches!(self, Ev::Tick)
    }
}

struct SimWorker {
    ws: WorkerState,
    port: Recorder,
    /// The runtime's store: key → value.
    store: FxHashMap<Key, u64>,
}

enum Ev {
    ToWorker(WorkerId, ToWorker),
    ToSched(WorkerId, ToScheduler),
    ToClient(ToClient),
    /// A thread finished `key` on `w` with `value` (or erred).
    TaskDone {
        w: WorkerId,
        key: Key,
        value: Option<u64>,
        dur: u64,
    },
    /// `from` asks `to` for keys.
    DataRequest {
        from: WorkerId,
        to: WorkerId,
        keys: Vec<Key>,
    },
    /// `peer` answers `to`'s request.
    DataReply {
        to: WorkerId,
        peer: WorkerId,
        data: Vec<(Key, u64, u64)>,
        missing: Vec<Key>,
    },
    BusyReply {
        to: WorkerId,
        peer: WorkerId,
    },
    TransferFailed {
        to: WorkerId,
        peer: WorkerId,
    },
    DataSent {
        w: WorkerId,
        to: WorkerId,
    },
    Tick,
    Chaos,
}

blockwork_testkit::seed_stats! {
    /// What one seed did.
    pub struct Stats {
        /// Events, tasks and how they ended.
        add counts: blockwork_testkit::sim::Counts,
        sum executed: u64,
        sum transfers: u64,
        sum transfer_failures: u64,
        sum busy: u64,
        sum fetch_failed_reports: u64,
        sum steals_released: u64,
        sum steals_refused: u64,
        sum cancels: u64,
        sum retired: u64,
        sum retire_refused: u64,
        /// The scheduler's state changes, by source and target.
        merge scheduler_transitions: Transitions<blockwork_scheduler::TaskStateKind>,
        /// The workers' state changes, all workers together.
        merge worker_transitions: Transitions<blockwork_worker::TaskStateKind>,
    }
}

pub struct Sim {
    seed: u64,
    rng: Rng,
    net: Net<Ev>,
    /// Until when some worker leaves a busy peer alone. Its keys wait for
    /// a tick past this time, not for a message: nothing is in flight, yet
    /// the cluster is not quiescent before it.
    backoff_until: u64,
    core: Core,
    comm: SchedRecorder,
    client: ClientId,
    workers: Vec<SimWorker>,
    graph: SimGraph,
    shape: Shape,
    by_key: FxHashMap<Key, usize>,
    attempts: FxHashMap<Key, u32>,
    reports: FxHashMap<Key, ToClient>,
    chaos_end: u64,
    /// Percent of transfers that fail.
    transfer_failure_pct: u64,
    /// Workers retired: the scheduler let them go, and they closed (peers
    /// asking them for data fail).
    gone: FxHashSet<WorkerId>,
    pub stats: Stats,
}

const SCHED: u64 = u64::MAX;

impl Sim {
    pub fn new(seed: u64) -> Sim {
        let mut rng = Rng::new(seed);
        let (shape, graph) = graphs::generate(&mut rng, seed);
        let by_key = graph.defs.iter().enumerate().map(|(i, d)| (d.key.clone(), i)).collect();
        let config = SchedConfig {
            stealing_interval: if rng.pct(25) { None } else { Some(Duration::from_millis(50)) },
            saturation: if rng.pct(25) { None } else { Some(1.1) },
            unknown_task_duration: Duration::from_millis(rng.range(5, 500)),
            ..SchedConfig::default()
        };
        let mut core = Core::new(config).unwrap();
        let client = sched::on_client_connected(&mut core);
        let transfer_failure_pct = [0, 0, 3, 10][rng.below(4) as usize];
        let mut sim = Sim {
            seed,
            rng,
            net: Net::default(),
            backoff_until: 0,
            core,
            comm: SchedRecorder::default(),
            client,
            workers: Vec::new(),
            graph,
            shape,
            by_key,
            attempts: FxHashMap::default(),
            reports: FxHashMap::default(),
            chaos_end: 0,
            transfer_failure_pct,
            gone: FxHashSet::default(),
            stats: Stats::default(),
        };
        sim.stats.counts.tasks = sim.graph.defs.len();
        sim
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.net.push(at, ev);
    }

    /// Sends over a FIFO channel with a random latency (plus `extra`).
    fn send(&mut self, from: u64, to: u64, extra: u64, ev: Ev) {
        self.net.send(&mut self.rng, from, to, extra, ev);
    }

    fn now_d(&self) -> Duration {
        Duration::from_micros(self.net.now())
    }

    /// Routes what the scheduler sent.
    fn flush_sched(&mut self) {
        self.core.sanity_check();
        for r in self.core.take_retirements() {
            match r.outcome {
                Ok(()) => {
                    self.stats.retired += 1;
                    self.gone.insert(r.worker);
                }
                Err(_) => self.stats.retire_refused += 1,
            }
        }
        for s in self.comm.take() {
            match s {
                Sent::Worker(w, m) => self.send(SCHED, u64::from(w.0), 0, Ev::ToWorker(w, m)),
                Sent::Client(_, m) => self.send(SCHED, SCHED - 1, 0, Ev::ToClient(m)),
            }
        }
    }

    /// Feeds one event to worker `w`, checks it, and carries out what it asks.
    fn worker_event(&mut self, w: WorkerId, e: Event) {
        let wk = &mut self.workers[w.idx()];
        wk.ws.handle(&mut wk.port, e);
        wk.ws.sanity_check();
        let out = wk.port.take();
        for o in out {
            match o {
                Out::Scheduler(m) => {
                    match &m {
                        ToScheduler::FetchFailed { .. } => self.stats.fetch_failed_reports += 1,
                        ToScheduler::StealResponse { outcome: StealOutcome::Released, .. } => {
                            self.stats.steals_released += 1
                        }
                        ToScheduler::StealResponse { .. } => self.stats.steals_refused += 1,
                        _ => {}
                    }
                    self.send(u64::from(w.0), SCHED, 0, Ev::ToSched(w, m));
                }
                Out::Runtime(ins) => self.runtime(w, ins),
            }
        }
        let wk = &self.workers[w.idx()];
        let mut stored: Vec<Key> = wk.store.keys().cloned().collect();
        stored.sort();
        assert_eq!(stored, wk.ws.keys_in_memory(), "seed {}: store of {w} matches its memory", self.seed);
    }

    fn runtime(&mut self, w: WorkerId, ins: Instruction) {
        match ins {
            Instruction::Execute { key, payload, inputs } => {
                let i = self.by_key[&key];
                assert_eq!(&*payload, key.to_string().as_bytes(), "seed {}: payload forwarded", self.seed);
                let store = &self.workers[w.idx()].store;
                let values: Vec<u64> = inputs
                    .iter()
                    .map(|k| {
                        *store.get(k).unwrap_or_else(|| panic!("seed {}: {key} runs without {k} on {w}", self.seed))
                    })
                    .collect();
                let value = task_value(&key, &values);
                assert_eq!(value, self.graph.value[i], "seed {}: {key} computed from wrong inputs", self.seed);
                self.stats.executed += 1;
                let d = &self.graph.defs[i];
                let attempt = self.attempts.entry(key.clone()).or_insert(0);
                *attempt += 1;
                let value = (*attempt > d.fail_attempts).then_some(value);
                let dur = d.duration_us;
                self.push(self.net.now() + dur, Ev::TaskDone { w, key, value, dur });
            }
            Instruction::Fetch { peer, keys, address } => {
                assert_eq!(&*address, addr(peer).as_str(), "seed {}: address of {peer}", self.seed);
                assert_ne!(peer, w, "seed {}: {w} fetches from itself", self.seed);
                self.stats.transfers += 1;
                if self.rng.pct(self.transfer_failure_pct) {
                    self.stats.transfer_failures += 1;
                    self.send(u64::from(peer.0), u64::from(w.0), MS, Ev::TransferFailed { to: w, peer });
                } else {
                    self.send(u64::from(w.0), u64::from(peer.0), 0, Ev::DataRequest { from: w, to: peer, keys });
                }
            }
            Instruction::SendData { to, keys, missing } => {
                let store = &self.workers[w.idx()].store;
                let data: Vec<(Key, u64, u64)> = keys
                    .into_iter()
                    .map(|k| {
                        let v = store[&k];
                        let nbytes = self.graph.defs[self.by_key[&k]].nbytes;
                        (k, v, nbytes)
                    })
                    .collect();
                let bytes: u64 = data.iter().map(|d| d.2).sum();
                let transfer = bytes * SEC / BANDWIDTH;
                self.send(u64::from(w.0), u64::from(to.0), transfer, Ev::DataReply { to, peer: w, data, missing });
                self.push(self.net.now() + transfer, Ev::DataSent { w, to });
            }
            Instruction::Busy { to } => {
                self.stats.busy += 1;
                self.send(u64::from(w.0), u64::from(to.0), 0, Ev::BusyReply { to, peer: w });
            }
            Instruction::DropData(key) => {
                let removed = self.workers[w.idx()].store.remove(&key);
                assert!(removed.is_some(), "seed {}: {w} drops {key}, which it does not have", self.seed);
            }
        }
    }

    fn scheduler_receives(&mut self, w: WorkerId, m: ToScheduler) {
        m.deliver(&mut self.core, &mut self.comm, Duration::from_micros(self.net.now()), w);
        self.flush_sched();
    }

    fn spec(&self, i: usize) -> TaskSpec {
        let d = &self.graph.defs[i];
        let deps = d.deps.iter().map(|&j| self.graph.defs[j].key.clone()).collect();
        TaskSpec::new(d.key.clone(), deps, i as u32, Arc::from(d.key.to_string().into_bytes())).retries(d.retries)
    }

    fn submit(&mut self, wanted: &[usize]) {
        let closure = self.graph.closure(wanted);
        let update = GraphUpdate {
            tasks: closure.iter().map(|&i| self.spec(i)).collect(),
            wanted: wanted.iter().map(|&i| self.graph.defs[i].key.clone()).collect(),
        };
        sched::on_update_graph(&mut self.core, &mut self.comm, self.client, update).unwrap();
        self.flush_sched();
    }

    fn add_worker(&mut self) {
        let n = self.workers.len() as u32;
        let nthreads = self.rng.range(1, 3) as u32;
        let spec = WorkerSpec {
            address: addr(WorkerId(n)).into(),
            name: format!("w{n}").into(),
            nthreads,
            memory_limit: 1 << 30,
            resources: vec![],
        };
        let now = self.now_d();
        let w = sched::on_worker_joined(&mut self.core, &mut self.comm, now, spec).unwrap();
        assert_eq!(w, WorkerId(n));
        let config = Config {
            max_concurrent_fetches: self.rng.range(1, 4) as u32,
            transfer_bytes: 1 << self.rng.range(10, 24),
            max_outgoing: self.rng.range(1, 3) as u32,
            busy_backoff: Duration::from_millis(self.rng.range(5, 100)),
            ..Config::new(nthreads)
        };
        let ws = WorkerState::new(w, config).unwrap();
        self.workers.push(SimWorker { ws, port: Recorder::default(), store: FxHashMap::default() });
        self.flush_sched();
    }

    /// Runs the seed to the end; panics, naming the seed, on a failed check.
    pub fn run(mut self) -> Stats {
        for _ in 0..self.rng.range(2, 4) {
            self.add_worker();
        }
        let mut wanted = self.graph.sinks();
        for i in 0..self.graph.defs.len() {
            if self.rng.pct(10) && !wanted.contains(&i) {
                wanted.push(i);
            }
        }
        self.submit(&wanted);
        self.chaos_end = self.rng.range(0, 2 * SEC);
        for _ in 0..self.rng.range(0, 6) {
            let at = self.rng.range(0, self.chaos_end);
            self.push(at, Ev::Chaos);
        }
        self.push(TICK, Ev::Tick);
        let mut settled_once = false;
        while let Some(ev) = self.net.pop() {
            self.stats.counts.events += 1;
            match ev {
                Ev::ToWorker(w, m) => self.worker_event(w, Event::Scheduler(m)),
                Ev::ToSched(w, m) => self.scheduler_receives(w, m),
                Ev::ToClient(m) => {
                    let key = match &m {
                        ToClient::KeyInMemory { key, .. } | ToClient::KeyErred { key, .. } => key.clone(),
                        ToClient::KeyLost(key) | ToClient::KeyCancelled(key) => key.clone(),
                    };
                    self.reports.insert(key, m);
                }
                Ev::TaskDone { w, key, value, dur } => {
                    let e = match value {
                        Some(v) => {
                            self.workers[w.idx()].store.insert(key.clone(), v);
                            let nbytes = self.graph.defs[self.by_key[&key]].nbytes;
                            Event::TaskFinished(Finished { key, nbytes, duration: Duration::from_micros(dur) })
                        }
                        None => Event::TaskErred(Erred {
                            key,
                            message: "simulated failure".into(),
                            origin: None,
                            kind: ErrorKind::User,
                        }),
                    };
                    self.worker_event(w, e);
                }
                Ev::DataRequest { from, to, .. } if self.gone.contains(&to) => {
                    self.send(u64::from(to.0), u64::from(from.0), MS, Ev::TransferFailed { to: from, peer: to })
                }
                Ev::DataRequest { from, to, keys } => self.worker_event(to, Event::DataRequested { from, keys }),
                Ev::DataReply { to, peer, data, missing } => {
                    let mut got = Vec::with_capacity(data.len());
                    for (k, v, nbytes) in data {
                        let store = &mut self.workers[to.idx()].store;
                        if let Some(old) = store.insert(k.clone(), v) {
                            assert_eq!(old, v, "seed {}: two values of {k}", self.seed);
                        }
                        got.push((k, nbytes));
                    }
                    self.worker_event(to, Event::FetchDone { peer, data: got, missing });
                }
                Ev::BusyReply { to, peer } => {
                    let now = self.now_d();
                    let backoff = self.workers[to.idx()].ws.config().busy_backoff.as_micros() as u64;
                    self.backoff_until = self.backoff_until.max(self.net.now() + backoff);
                    self.worker_event(to, Event::PeerBusy { now, peer });
                }
                Ev::TransferFailed { to, peer } => self.worker_event(to, Event::FetchFailed { peer }),
                Ev::DataSent { w, to } => self.worker_event(w, Event::DataSent { to }),
                Ev::Chaos => self.chaos(),
                Ev::Tick => {
                    let now = self.now_d();
                    sched::on_tick(&mut self.core, &mut self.comm, now);
                    self.flush_sched();
                    for w in 0..self.workers.len() {
                        self.worker_event(WorkerId(w as u32), Event::Tick { now });
                    }
                    let quiet = self.net.in_flight() == 0 && self.net.now() >= self.backoff_until;
                    if self.net.now() > self.chaos_end && quiet {
                        if !settled_once {
                            settled_once = true;
                            self.check_results();
                            sched::on_client_disconnected(&mut self.core, &mut self.comm, self.client);
                            self.flush_sched();
                        } else {
                            self.check_no_leaks();
                            self.stats.scheduler_transitions = self.core.transitions().clone();
                            for w in &self.workers {
                                self.stats.worker_transitions.merge(w.ws.transitions());
                            }
                            return self.stats;
                        }
                    }
                    assert!(self.net.now() < 600 * SEC, "seed {}: stuck ({:?})", self.seed, self.shape);
                    self.push(self.net.now() + TICK, Ev::Tick);
                }
            }
        }
        unreachable!("the tick never stops")
    }

    /// The client changes its mind: releases or cancels a wanted key, or
    /// wants one again.
    fn chaos(&mut self) {
        let i = self.rng.below(self.graph.defs.len() as u64) as usize;
        let key = self.graph.defs[i].key.clone();
        match self.rng.below(4) {
            0 => sched::on_release_keys(&mut self.core, &mut self.comm, self.client, &[key]),
            3 => {
                // Retire a worker (never the last one standing): its results
                // move to the others, nothing it finished is recomputed.
                let running: Vec<WorkerId> = (0..self.workers.len() as u32)
                    .map(WorkerId)
                    .filter(|&w| self.core.worker_info(w).is_some_and(|i| !i.retiring))
                    .collect();
                if running.len() < 2 {
                    return;
                }
                let w = running[self.rng.below(running.len() as u64) as usize];
                let now = self.now_d();
                sched::on_retire_workers(&mut self.core, &mut self.comm, now, &[w]).unwrap();
            }
            1 => {
                self.stats.cancels += 1;
                sched::on_cancel_keys(&mut self.core, &mut self.comm, self.client, &[key], false)
            }
            _ => return self.submit(&[i]),
        }
        self.flush_sched();
    }

    /// At quiescence: wanted keys in memory with the right value on every
    /// holder, or erred for an injected reason; workers idle, holding
    /// exactly what the scheduler thinks.
    fn check_results(&mut self) {
        let seed = self.seed;
        for i in 0..self.graph.defs.len() {
            let key = &self.graph.defs[i].key;
            if !self.core.wants(self.client, key) {
                continue;
            }
            match self.core.state_of(key) {
                Some(TaskStateKind::Memory) => {
                    let holders = self.core.who_has(key).unwrap();
                    self.graph.assert_held(seed, i, holders, |h| self.workers[h.idx()].store.get(key).copied());
                    assert!(
                        matches!(self.reports.get(key), Some(ToClient::KeyInMemory { .. })),
                        "seed {seed}: client heard {:?} about {key}",
                        self.reports.get(key)
                    );
                    self.stats.counts.in_memory += 1;
                }
                Some(TaskStateKind::Erred) => {
                    let f = self.core.failure(key).unwrap();
                    self.graph.assert_out_of_retries(seed, self.by_key[&f.key]);
                    self.stats.counts.erred += 1;
                }
                other => panic!("seed {seed}: wanted {key} is {other:?} at quiescence ({:?})", self.shape),
            }
        }
        for (w, wk) in self.workers.iter().enumerate() {
            let w = WorkerId(w as u32);
            if self.gone.contains(&w) {
                continue;
            }
            assert_eq!(wk.ws.keys_in_memory(), self.core.keys_held(w), "seed {seed}: what {w} holds");
            assert_eq!(wk.ws.num_tasks(), wk.ws.keys_in_memory().len(), "seed {seed}: {w} has nothing but results");
            assert_eq!(wk.ws.num_running(), 0, "seed {seed}: {w} idle");
            assert_eq!(wk.ws.num_transfers(), 0, "seed {seed}: {w} fetches nothing");
        }
    }

    /// After the client left: nothing anywhere.
    fn check_no_leaks(&self) {
        assert_eq!(self.core.num_tasks(), 0, "seed {}: scheduler tasks left", self.seed);
        for (w, wk) in self.workers.iter().enumerate() {
            if self.gone.contains(&WorkerId(w as u32)) {
                continue;
            }
            assert_eq!(wk.ws.num_tasks(), 0, "seed {}: worker#{w} still knows keys", self.seed);
            assert!(wk.store.is_empty(), "seed {}: worker#{w} still stores data", self.seed);
            assert_eq!(wk.ws.managed_bytes(), 0, "seed {}: worker#{w} managed memory", self.seed);
        }
    }
}

fn addr(w: WorkerId) -> String {
    format!("tcp://10.0.0.{}:4000", w.0)
}
