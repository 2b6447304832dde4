//! A deterministic simulation of a cluster around the scheduler core.
//!
//! One seed fixes everything: the graph, the workers, the network delays,
//! task durations, and the faults injected (worker deaths and hangs,
//! workers joining, lost results, flaky tasks, a second client with an
//! overlapping graph, releases, cancels, a client disconnecting). Time
//! is virtual (microseconds); events sit in one queue ordered by (time,
//! sequence number), and messages on one channel are delivered in the
//! order they were sent, as on a TCP connection.
//!
//! Simulated workers do what real ones do: queue compute requests by
//! priority, run up to `nthreads` at once (respecting their GPUs), fetch
//! inputs from the peers the scheduler names (failing if that peer died,
//! hung or dropped the data), compute a value that hashes the key with
//! its inputs' values, hold results until told to free them, answer
//! steal requests according to whether the task has started, and
//! heartbeat. After every scheduler event the core's `sanity_check` runs;
//! at the end the results are compared with a plain evaluation of the
//! graph and the cluster is checked for leaks.

pub mod graphs;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::{ErrorKind, Key};
use blockwork_scheduler::reactor::*;
use blockwork_scheduler::{
    ClientId, ComputeTask, Config, Core, FailureKind, GraphUpdate, MemoryReport, Priority, Recorder, Sent, StealId,
    StealOutcome, TaskSpec, TaskStateKind, ToClient, ToWorker, Transitions, WorkerId, WorkerSpec,
};
use blockwork_testkit::sim::{Net, SimEvent, MS, SEC};
use rustc_hash::{FxHashMap, FxHashSet};

use blockwork_testkit::Rng;
use graphs::{task_value, Shape, SimGraph};

const TICK: u64 = 100 * MS;
const HEARTBEAT: u64 = SEC;
const BANDWIDTH: u64 = 100_000_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    Alive,
    /// Stopped answering; unreachable; still listed by the scheduler
    /// until the heartbeat timeout.
    Hung,
    /// Cut off until the given time (a network partition or a long GC
    /// pause): unreachable, sends nothing; messages to it wait. If the
    /// pause outlasts the heartbeat timeout the scheduler removes it and
    /// it is killed.
    Paused(u64),
    Dead,
}

struct Run {
    id: u64,
    gpu: bool,
    value: u64,
}

struct SimWorker {
    status: Status,
    nthreads: u32,
    gpus: u32,
    memory: FxHashMap<Key, u64>,
    pending: BTreeMap<(Priority, Key), Box<ComputeTask>>,
    running: FxHashMap<Key, Run>,
    /// Keeps fetched inputs and tells the scheduler (else drops them).
    report_replicas: bool,
    /// Drops a running task when cancelled (else lets it finish and report).
    abort_on_cancel: bool,
}

#[derive(Default)]
struct SimClient {
    connected: bool,
    /// Last report per key.
    reports: FxHashMap<Key, ToClient>,
    /// Keys submitted as wanted; exact while `changed_wants` is false.
    wanted: FxHashSet<Key>,
    changed_wants: bool,
}

enum FromWorker {
    Finished {
        w: WorkerId,
        key: Key,
        nbytes: u64,
        dur: u64,
    },
    Erred {
        w: WorkerId,
        key: Key,
    },
    HasKeys {
        w: WorkerId,
        keys: Vec<Key>,
    },
    LostKeys {
        w: WorkerId,
        keys: Vec<Key>,
    },
    FetchFailed {
        w: WorkerId,
        key: Key,
        dep: Key,
        holder: WorkerId,
    },
    Steal {
        w: WorkerId,
        key: Key,
        id: StealId,
        outcome: StealOutcome,
    },
    /// The runtime noticed the connection drop.
    Removed(WorkerId),
}

#[derive(Clone, Copy, Debug)]
enum Chaos {
    Join,
    Kill,
    Hang,
    Pause,
    LoseKey,
    SecondClient,
    Release,
    Rewant,
    Cancel,
    DisconnectSecond,
}

enum Ev {
    ToWorker(WorkerId, ToWorker),
    ToSched(FromWorker),
    ToClient(ClientId, ToClient),
    TaskDone { w: WorkerId, key: Key, run: u64 },
    Heartbeat(WorkerId),
    Resume(WorkerId),
    Tick,
    Chaos(Chaos),
}

impl SimEvent for Ev {
    fn in_flight(&self) -> bool {
        !matches!(self, Ev::Heartbeat(_) | Ev::Tick)
    }
}

blockwork_testkit::seed_stats! {
    /// What one seed did, for the test's summary.
    pub struct Stats {
        /// Events, tasks and how they ended.
        add counts: blockwork_testkit::sim::Counts,
        sum deaths: u32,
        sum steals: u64,
        sum fetch_failures: u64,
        max max_queued: usize,
        sum killed_worker: usize,
        sum pauses: u32,
        sum steals_released: u64,
        sum hangs_detected: u32,
        sum gpu_runs: u64,
        sum second_clients: u32,
        /// The scheduler's state changes, by source and target.
        merge transitions: Transitions<TaskStateKind>,
    }
}

pub struct Sim {
    seed: u64,
    rng: Rng,
    net: Net<Ev>,
    core: Core,
    comm: Recorder,
    workers: Vec<SimWorker>,
    clients: Vec<SimClient>,
    graph: SimGraph,
    /// Index of a definition by key.
    by_key: FxHashMap<Key, usize>,
    /// Tasks only the second client wants (after the base graph).
    extras: std::ops::Range<usize>,
    attempts: FxHashMap<Key, u32>,
    next_run: u64,
    chaos_end: u64,
    /// Instead of random chaos: kill a worker right after this many events
    /// (`u64::MAX`: no chaos at all).
    kill_at: Option<u64>,
    gpus_needed: bool,
    pub stats: Stats,
    shape: Shape,
}

const SCHED: u64 = 0;
fn wch(w: WorkerId) -> u64 {
    1 + u64::from(w.0)
}
fn cch(c: ClientId) -> u64 {
    1 << 32 | u64::from(c.0)
}

impl Sim {
    pub fn new(seed: u64) -> Sim {
        let mut rng = Rng::new(seed);
        let gpus_needed = rng.pct(30);
        let (shape, mut graph) = graphs::generate(&mut rng, seed, gpus_needed);
        // Tasks of the second client: a few readers of random base keys.
        let base = graph.defs.len();
        for e in 0..rng.below(4) as usize {
            let k = rng.range(1, 3);
            let mut deps: Vec<usize> = (0..k).map(|_| rng.below(base as u64) as usize).collect();
            deps.sort_unstable();
            deps.dedup();
            let key = Key::block(format!("extra-{:x}", seed & 0xffff_ffff), &[e as u32]);
            let inputs: Vec<u64> = deps.iter().map(|&j| graph.value[j]).collect();
            graph.value.push(task_value(&key, &inputs));
            graph.defs.push(graphs::Def {
                key,
                deps,
                fail_attempts: 0,
                retries: 0,
                gpu: false,
                duration_us: rng.range(MS, 50 * MS),
                nbytes: 64,
            });
        }
        let extras = base..graph.defs.len();
        let by_key = graph.defs.iter().enumerate().map(|(i, d)| (d.key.clone(), i)).collect();
        let config = Config {
            saturation: if rng.pct(20) { None } else { Some(1.1) },
            heartbeat_timeout: Duration::from_secs(5),
            stealing_interval: if rng.pct(20) { None } else { Some(Duration::from_millis(100)) },
            ..Config::default()
        };
        let mut sim = Sim {
            seed,
            rng,
            net: Net::default(),
            core: Core::new(config).unwrap(),
            comm: Recorder::default(),
            workers: Vec::new(),
            clients: Vec::new(),
            graph,
            by_key,
            extras,
            attempts: FxHashMap::default(),
            next_run: 0,
            chaos_end: 0,
            kill_at: None,
            gpus_needed,
            stats: Stats::default(),
            shape,
        };
        sim.stats.counts.tasks = sim.graph.defs.len();
        sim
    }

    fn push(&mut self, at: u64, ev: Ev) {
        self.net.push(at, ev);
    }

    /// Sends over a FIFO channel with a random latency.
    fn send(&mut self, from: u64, to: u64, ev: Ev) {
        self.net.send(&mut self.rng, from, to, 0, ev);
    }

    fn flush(&mut self) {
        self.core.sanity_check();
        self.stats.max_queued = self.stats.max_queued.max(self.core.num_queued());
        for s in self.comm.take() {
            match s {
                Sent::Worker(w, m) => {
                    if matches!(m, ToWorker::StealRequest { .. }) {
                        self.stats.steals += 1;
                    }
                    self.send(SCHED, wch(w), Ev::ToWorker(w, m))
                }
                Sent::Client(c, m) => self.send(SCHED, cch(c), Ev::ToClient(c, m)),
            }
        }
    }

    fn now_d(&self) -> Duration {
        Duration::from_micros(self.net.now())
    }

    fn spec(&self, i: usize) -> TaskSpec {
        let d = &self.graph.defs[i];
        let mut s = TaskSpec::new(
            d.key.clone(),
            d.deps.iter().map(|&j| self.graph.defs[j].key.clone()).collect(),
            i as u32,
            payload_of(&d.key),
        )
        .retries(d.retries);
        if d.gpu {
            s = s.resource("GPU", 1.0);
        }
        s
    }

    fn submit(&mut self, c: ClientId, wanted: &[usize]) {
        let closure = self.graph.closure(wanted);
        let update = GraphUpdate {
            tasks: closure.iter().map(|&i| self.spec(i)).collect(),
            wanted: wanted.iter().map(|&i| self.graph.defs[i].key.clone()).collect(),
        };
        on_update_graph(&mut self.core, &mut self.comm, c, update).unwrap();
        let cl = &mut self.clients[c.idx()];
        for &i in wanted {
            cl.wanted.insert(self.graph.defs[i].key.clone());
        }
        self.flush();
    }

    fn add_worker(&mut self, nthreads: u32, gpus: u32) -> WorkerId {
        let n = self.workers.len();
        let spec = WorkerSpec {
            address: format!("tcp://10.0.0.{n}:4000").into(),
            name: format!("w{n}").into(),
            nthreads,
            memory_limit: 4 << 30,
            resources: if gpus > 0 { vec![("GPU".into(), f64::from(gpus))] } else { vec![] },
        };
        let now = self.now_d();
        let w = on_worker_joined(&mut self.core, &mut self.comm, now, spec).unwrap();
        assert_eq!(w.idx(), n, "worker ids are dense");
        self.workers.push(SimWorker {
            status: Status::Alive,
            nthreads,
            gpus,
            memory: FxHashMap::default(),
            pending: BTreeMap::new(),
            running: FxHashMap::default(),
            report_replicas: self.rng.pct(50),
            abort_on_cancel: self.rng.pct(50),
        });
        self.flush();
        let at = self.net.now() + self.rng.range(1, HEARTBEAT);
        self.push(at, Ev::Heartbeat(w));
        w
    }

    fn alive_workers(&self) -> Vec<WorkerId> {
        (0..self.workers.len())
            .filter(|&i| self.workers[i].status == Status::Alive)
            .map(|i| WorkerId(i as u32))
            .collect()
    }

    /// Runs the seed to the end; panics (naming the seed) on any failed check.
    /// The same seed with no random chaos; a worker is killed (its
    /// connection seen dropped at once) right after event `step`.
    pub fn with_kill_at(seed: u64, step: u64) -> Sim {
        let mut sim = Sim::new(seed);
        sim.kill_at = Some(step);
        sim
    }

    /// Tasks in this seed's graph.
    pub fn num_tasks(&self) -> usize {
        self.graph.defs.len()
    }

    pub fn run(mut self) -> Stats {
        let nworkers = self.rng.range(1, 4);
        for _ in 0..nworkers {
            let threads = self.rng.range(1, 4) as u32;
            let gpus = if self.gpus_needed && self.rng.pct(50) { self.rng.range(1, 2) as u32 } else { 0 };
            self.add_worker(threads, gpus);
        }
        let c1 = on_client_connected(&mut self.core);
        self.clients.push(SimClient { connected: true, ..SimClient::default() });
        let base = self.extras.start;
        let mut wanted: Vec<usize> = self.graph.sinks().into_iter().filter(|&i| i < base).collect();
        for i in 0..base {
            if self.rng.pct(10) && !wanted.contains(&i) {
                wanted.push(i);
            }
        }
        self.submit(c1, &wanted);
        self.chaos_end = self.rng.range(0, 3 * SEC);
        let mut nchaos = if self.rng.pct(50) { self.rng.range(0, 6) } else { self.rng.range(6, 20) };
        if self.kill_at.is_some() {
            nchaos = 0;
        }
        const KINDS: [Chaos; 14] = [
            Chaos::Pause,
            Chaos::Pause,
            Chaos::Join,
            Chaos::Kill,
            Chaos::Kill,
            Chaos::Hang,
            Chaos::LoseKey,
            Chaos::SecondClient,
            Chaos::SecondClient,
            Chaos::Release,
            Chaos::Rewant,
            Chaos::Cancel,
            Chaos::DisconnectSecond,
            Chaos::Join,
        ];
        for _ in 0..nchaos {
            let at = self.rng.range(0, self.chaos_end);
            let kind = *self.rng.pick(&KINDS).unwrap();
            self.push(at, Ev::Chaos(kind));
        }
        self.push(TICK, Ev::Tick);
        let mut settled_once = false;
        while let Some(ev) = self.net.pop() {
            self.stats.counts.events += 1;
            if self.kill_at == Some(self.stats.counts.events) {
                self.kill_one_now();
            }
            match ev {
                Ev::ToWorker(w, m) => self.worker_receives(w, m),
                Ev::ToSched(m) => self.scheduler_receives(m),
                Ev::ToClient(c, m) => {
                    let key = match &m {
                        ToClient::KeyInMemory { key, .. } | ToClient::KeyErred { key, .. } => key.clone(),
                        ToClient::KeyLost(key) | ToClient::KeyCancelled(key) => key.clone(),
                    };
                    self.clients[c.idx()].reports.insert(key, m);
                }
                Ev::TaskDone { w, key, run } => self.task_done(w, key, run),
                Ev::Heartbeat(w) => {
                    if let Status::Paused(until) = self.workers[w.idx()].status {
                        self.push(until + 1, Ev::Heartbeat(w));
                    } else if self.workers[w.idx()].status == Status::Alive {
                        let managed = self.workers[w.idx()].memory.len() as u64;
                        let report = MemoryReport { managed, spilled: 0, unmanaged: 0 };
                        let now = self.now_d();
                        on_heartbeat(&mut self.core, now, w, report);
                        self.flush();
                        self.push(self.net.now() + HEARTBEAT, Ev::Heartbeat(w));
                    }
                }
                Ev::Tick => {
                    let now = self.now_d();
                    on_tick(&mut self.core, &mut self.comm, now);
                    self.flush();
                    self.reap_removed();
                    if self.net.now() > self.chaos_end && self.quiescent() {
                        if !settled_once {
                            settled_once = true;
                            self.check_results();
                            self.teardown();
                        } else {
                            self.check_no_leaks();
                            self.stats.transitions = self.core.transitions().clone();
                            return self.stats;
                        }
                    }
                    assert!(self.net.now() < self.chaos_end + 600 * SEC, "seed {}: no progress; stuck", self.seed);
                    self.push(self.net.now() + TICK, Ev::Tick);
                }
                Ev::Chaos(kind) => self.chaos(kind),
                Ev::Resume(w) => {
                    if matches!(self.workers[w.idx()].status, Status::Paused(_)) {
                        self.workers[w.idx()].status = Status::Alive;
                        self.try_start(w);
                    }
                }
            }
        }
        unreachable!("the tick never stops")
    }

    /// Kills a live worker whose loss the scheduler hears at once.
    fn kill_one_now(&mut self) {
        let Some(&w) = self.rng.pick(&self.alive_workers()) else { return };
        self.stats.deaths += 1;
        kill(&mut self.workers[w.idx()]);
        self.chaos_end = self.chaos_end.max(self.net.now());
        self.push(self.net.now(), Ev::ToSched(FromWorker::Removed(w)));
    }

    /// Nothing in flight, and the scheduler lists exactly the live workers.
    fn quiescent(&mut self) -> bool {
        if self.net.now() > self.chaos_end && self.need_final_worker() {
            let gpus = u32::from(self.gpus_needed);
            self.add_worker(2, gpus);
        }
        self.net.in_flight() == 0 && self.core.worker_ids() == self.alive_workers()
    }

    /// After the chaos, the run must be able to finish: some live worker,
    /// with a GPU if the graph has GPU tasks.
    fn need_final_worker(&self) -> bool {
        let alive = self.alive_workers();
        alive.is_empty() || (self.gpus_needed && !alive.iter().any(|w| self.workers[w.idx()].gpus > 0))
    }

    /// Workers the scheduler removed (silent too long) are gone for good:
    /// the runtime closes their connection and they shut down, even one
    /// whose pause just ended.
    fn reap_removed(&mut self) {
        let listed: FxHashSet<WorkerId> = self.core.worker_ids().into_iter().collect();
        for (i, wk) in self.workers.iter_mut().enumerate() {
            if wk.status != Status::Dead && !listed.contains(&WorkerId(i as u32)) {
                if wk.status == Status::Hung {
                    self.stats.hangs_detected += 1;
                } else {
                    // A pause that outlasted the timeout: counts as a death.
                    self.stats.deaths += 1;
                }
                kill(wk);
            }
        }
    }

    fn chaos(&mut self, kind: Chaos) {
        match kind {
            Chaos::Join => {
                let threads = self.rng.range(1, 4) as u32;
                let gpus = if self.gpus_needed { self.rng.below(2) as u32 } else { 0 };
                self.add_worker(threads, gpus);
            }
            Chaos::Kill | Chaos::Hang => {
                let Some(&w) = self.rng.pick(&self.alive_workers()) else { return };
                self.stats.deaths += 1;
                if matches!(kind, Chaos::Hang) {
                    self.workers[w.idx()].status = Status::Hung;
                } else {
                    kill(&mut self.workers[w.idx()]);
                    if self.rng.pct(60) {
                        let delay = self.rng.range(MS, 500 * MS);
                        self.push(self.net.now() + delay, Ev::ToSched(FromWorker::Removed(w)));
                    }
                }
            }
            Chaos::Pause => {
                let Some(&w) = self.rng.pick(&self.alive_workers()) else { return };
                self.stats.pauses += 1;
                let until = self.net.now() + self.rng.range(100 * MS, 8 * SEC);
                self.workers[w.idx()].status = Status::Paused(until);
                self.push(until, Ev::Resume(w));
            }
            Chaos::LoseKey => {
                let Some(&w) = self.rng.pick(&self.alive_workers()) else { return };
                let mut keys: Vec<Key> = self.workers[w.idx()].memory.keys().cloned().collect();
                keys.sort();
                let Some(key) = self.rng.pick(&keys).cloned() else { return };
                self.workers[w.idx()].memory.remove(&key);
                self.send(wch(w), SCHED, Ev::ToSched(FromWorker::LostKeys { w, keys: vec![key] }));
            }
            Chaos::SecondClient => {
                self.stats.second_clients += 1;
                let c = on_client_connected(&mut self.core);
                self.clients.push(SimClient { connected: true, ..SimClient::default() });
                let mut wanted: Vec<usize> = self.extras.clone().collect();
                for i in 0..self.extras.start {
                    if self.rng.pct(15) {
                        wanted.push(i);
                    }
                }
                if wanted.is_empty() {
                    wanted.push(0);
                }
                self.submit(c, &wanted);
            }
            Chaos::Release | Chaos::Cancel => {
                let c = ClientId(self.rng.below(self.clients.len() as u64) as u32);
                if !self.clients[c.idx()].connected {
                    return;
                }
                let mut keys: Vec<Key> = self.clients[c.idx()].wanted.iter().cloned().collect();
                keys.sort();
                let Some(key) = self.rng.pick(&keys).cloned() else { return };
                let cl = &mut self.clients[c.idx()];
                cl.changed_wants = true;
                cl.wanted.remove(&key);
                if matches!(kind, Chaos::Release) {
                    on_release_keys(&mut self.core, &mut self.comm, c, &[key]);
                } else {
                    let force = self.rng.pct(30);
                    on_cancel_keys(&mut self.core, &mut self.comm, c, &[key], force);
                    if force {
                        for cl in &mut self.clients {
                            cl.changed_wants = true;
                        }
                    }
                }
                self.flush();
            }
            Chaos::Rewant => {
                let i = self.rng.below(self.extras.start as u64) as usize;
                self.clients[0].changed_wants = true;
                self.submit(ClientId(0), &[i]);
            }
            Chaos::DisconnectSecond => {
                if self.clients.len() > 1 && self.clients[1].connected {
                    self.clients[1].connected = false;
                    on_client_disconnected(&mut self.core, &mut self.comm, ClientId(1));
                    self.flush();
                }
            }
        }
    }

    fn scheduler_receives(&mut self, m: FromWorker) {
        let (core, comm, now) = (&mut self.core, &mut self.comm, Duration::from_micros(self.net.now()));
        match m {
            FromWorker::Finished { w, key, nbytes, dur } => {
                on_task_finished(core, comm, now, w, &key, nbytes, Duration::from_micros(dur))
            }
            FromWorker::Erred { w, key } => on_task_erred(
                core,
                comm,
                now,
                w,
                &key,
                Raised { origin: None, message: "simulated failure", fault: ErrorKind::User },
            ),
            FromWorker::HasKeys { w, keys } => on_worker_has_keys(core, comm, now, w, &keys),
            FromWorker::LostKeys { w, keys } => on_worker_lost_keys(core, comm, now, w, &keys),
            FromWorker::FetchFailed { w, key, dep, holder } => {
                self.stats.fetch_failures += 1;
                on_fetch_failed(core, comm, now, w, &key, &dep, holder)
            }
            FromWorker::Steal { w, key, id, outcome } => on_steal_response(core, comm, now, w, &key, id, outcome),
            FromWorker::Removed(w) => on_worker_removed(core, comm, w),
        }
        self.flush();
    }

    fn report(&mut self, w: WorkerId, m: FromWorker) {
        self.send(wch(w), SCHED, Ev::ToSched(m));
    }

    fn worker_receives(&mut self, w: WorkerId, m: ToWorker) {
        if let Status::Paused(until) = self.workers[w.idx()].status {
            self.push(until, Ev::ToWorker(w, m));
            return;
        }
        if self.workers[w.idx()].status != Status::Alive {
            return;
        }
        match m {
            ToWorker::Compute(ct) => {
                let i = self.by_key[&ct.key];
                assert_eq!(ct.payload, payload_of(&ct.key), "seed {}: payload forwarded unchanged", self.seed);
                let expected: Vec<Key> =
                    self.graph.defs[i].deps.iter().map(|&j| self.graph.defs[j].key.clone()).collect();
                let got: Vec<Key> = ct.deps.iter().map(|d| d.key.clone()).collect();
                assert_eq!(got, expected, "seed {}: inputs of {} in argument order", self.seed, ct.key);
                let wk = &mut self.workers[w.idx()];
                if wk.memory.contains_key(&ct.key) {
                    let d = &self.graph.defs[i];
                    let (key, nbytes, dur) = (ct.key.clone(), d.nbytes, d.duration_us);
                    self.report(w, FromWorker::Finished { w, key, nbytes, dur });
                } else if !wk.running.contains_key(&ct.key) && !wk.pending.keys().any(|(_, k)| *k == ct.key) {
                    wk.pending.insert((ct.priority, ct.key.clone()), ct);
                    self.try_start(w);
                }
            }
            ToWorker::FreeKeys(keys) => {
                for k in keys {
                    self.workers[w.idx()].memory.remove(&k);
                }
            }
            ToWorker::CancelCompute(key) => {
                let wk = &mut self.workers[w.idx()];
                wk.pending.retain(|(_, k), _| *k != key);
                if wk.abort_on_cancel {
                    wk.running.remove(&key);
                }
                self.try_start(w);
            }
            ToWorker::StealRequest { key, id } => {
                let wk = &mut self.workers[w.idx()];
                let before = wk.pending.len();
                wk.pending.retain(|(_, k), _| *k != key);
                let outcome = if wk.pending.len() < before { StealOutcome::Released } else { StealOutcome::Refused };
                self.stats.steals_released += u64::from(outcome == StealOutcome::Released);
                self.report(w, FromWorker::Steal { w, key, id, outcome });
            }
            // Retirement runs in the worker crate's simulation, with real
            // worker state machines fetching the copies.
            ToWorker::AcquireReplicas(_) => panic!("seed {}: a copy asked for, but no worker retires here", self.seed),
        }
    }

    /// Starts pending tasks while threads (and GPUs) are free.
    fn try_start(&mut self, w: WorkerId) {
        loop {
            let wk = &self.workers[w.idx()];
            if wk.running.len() >= wk.nthreads as usize {
                return;
            }
            let gpus_busy = wk.running.values().filter(|r| r.gpu).count() as u32;
            let next =
                wk.pending.keys().find(|(_, k)| !self.graph.defs[self.by_key[k]].gpu || gpus_busy < wk.gpus).cloned();
            let Some(entry) = next else { return };
            let ct = self.workers[w.idx()].pending.remove(&entry).unwrap();
            let i = self.by_key[&ct.key];
            let mut inputs = Vec::with_capacity(ct.deps.len());
            let mut fetched: Vec<Key> = Vec::new();
            let mut fetch_bytes = 0;
            let mut failed = None;
            for dep in &ct.deps {
                if let Some(&v) = self.workers[w.idx()].memory.get(&dep.key) {
                    inputs.push(v);
                    continue;
                }
                let start = self.rng.below(dep.who_has.len() as u64) as usize;
                let mut got = None;
                let mut first_bad = None;
                for n in 0..dep.who_has.len() {
                    let h = dep.who_has[(start + n) % dep.who_has.len()].worker;
                    let hw = &self.workers[h.idx()];
                    match hw.memory.get(&dep.key) {
                        Some(&v) if hw.status == Status::Alive => {
                            got = Some(v);
                            break;
                        }
                        _ => first_bad = first_bad.or(Some(h)),
                    }
                }
                match got {
                    Some(v) => {
                        inputs.push(v);
                        fetch_bytes += dep.nbytes;
                        if self.workers[w.idx()].report_replicas {
                            self.workers[w.idx()].memory.insert(dep.key.clone(), v);
                            fetched.push(dep.key.clone());
                        }
                    }
                    None => {
                        failed = Some((dep.key.clone(), first_bad.expect("who_has is never empty")));
                        break;
                    }
                }
            }
            if !fetched.is_empty() {
                self.report(w, FromWorker::HasKeys { w, keys: fetched });
            }
            if let Some((dep, holder)) = failed {
                self.report(w, FromWorker::FetchFailed { w, key: ct.key.clone(), dep, holder });
                continue;
            }
            let value = task_value(&ct.key, &inputs);
            assert_eq!(value, self.graph.value[i], "seed {}: {} computed from wrong inputs", self.seed, ct.key);
            self.next_run += 1;
            let run = self.next_run;
            let d = &self.graph.defs[i];
            let at = self.net.now() + fetch_bytes * SEC / BANDWIDTH + d.duration_us;
            let gpu = d.gpu;
            self.stats.gpu_runs += u64::from(gpu);
            self.workers[w.idx()].running.insert(ct.key.clone(), Run { id: run, gpu, value });
            self.push(at, Ev::TaskDone { w, key: ct.key.clone(), run });
        }
    }

    fn task_done(&mut self, w: WorkerId, key: Key, run: u64) {
        if let Status::Paused(until) = self.workers[w.idx()].status {
            self.push(until, Ev::TaskDone { w, key, run });
            return;
        }
        let wk = &mut self.workers[w.idx()];
        if wk.status != Status::Alive || wk.running.get(&key).map(|r| r.id) != Some(run) {
            return;
        }
        let r = wk.running.remove(&key).unwrap();
        let d = &self.graph.defs[self.by_key[&key]];
        let attempt = self.attempts.entry(key.clone()).or_insert(0);
        *attempt += 1;
        if *attempt <= d.fail_attempts {
            self.report(w, FromWorker::Erred { w, key });
        } else {
            let (nbytes, dur) = (d.nbytes, d.duration_us);
            self.workers[w.idx()].memory.insert(key.clone(), r.value);
            self.report(w, FromWorker::Finished { w, key, nbytes, dur });
        }
        self.try_start(w);
    }

    /// At quiescence: every wanted key is in memory with the value a plain
    /// evaluation gives (on every holder), or erred for a reason the
    /// simulation injected; clients heard the same; the workers hold
    /// exactly what the scheduler thinks they hold.
    fn check_results(&mut self) {
        let seed = self.seed;
        let total_deaths = self.stats.deaths;
        for (c, cl) in self.clients.iter().enumerate() {
            let c = ClientId(c as u32);
            if !cl.connected {
                continue;
            }
            let wanted: Vec<usize> =
                (0..self.graph.defs.len()).filter(|&i| self.core.wants(c, &self.graph.defs[i].key)).collect();
            if !cl.changed_wants {
                let mut mine: Vec<&Key> = cl.wanted.iter().collect();
                mine.sort();
                let mut theirs: Vec<&Key> = wanted.iter().map(|&i| &self.graph.defs[i].key).collect();
                theirs.sort();
                assert_eq!(mine, theirs, "seed {seed}: {c} wants what it asked for");
            }
            for i in wanted {
                let key = &self.graph.defs[i].key;
                let report = cl.reports.get(key);
                match self.core.state_of(key) {
                    Some(TaskStateKind::Memory) => {
                        let holders = self.core.who_has(key).unwrap();
                        self.graph.assert_held(seed, i, holders, |h| self.workers[h.idx()].memory.get(key).copied());
                        assert!(
                            matches!(report, Some(ToClient::KeyInMemory { nbytes, .. }) if *nbytes == self.graph.defs[i].nbytes),
                            "seed {seed}: {c} last heard {report:?} about {key}, in memory"
                        );
                        self.stats.counts.in_memory += 1;
                    }
                    Some(TaskStateKind::Erred) => {
                        let f = self.core.failure(key).unwrap();
                        let origin = self.by_key[&f.key];
                        assert!(
                            self.graph.is_ancestor_or_self(origin, i),
                            "seed {seed}: {key} blamed on {}, not an input of it",
                            f.key
                        );
                        match f.kind {
                            FailureKind::Error => self.graph.assert_out_of_retries(seed, origin),
                            FailureKind::KilledWorker => {
                                self.stats.killed_worker += 1;
                                assert!(
                                    total_deaths > self.core.config().allowed_failures,
                                    "seed {seed}: {} killed workers, but only {total_deaths} died",
                                    f.key
                                )
                            }
                        }
                        assert!(
                            matches!(report, Some(ToClient::KeyErred { failure, .. }) if failure == f),
                            "seed {seed}: {c} last heard {report:?} about erred {key}"
                        );
                        self.stats.counts.erred += 1;
                    }
                    other => panic!("seed {seed}: wanted {key} is {other:?} at quiescence ({:?})", self.shape),
                }
            }
        }
        self.check_holdings();
    }

    /// Live workers hold exactly what the scheduler says they hold.
    fn check_holdings(&self) {
        for w in self.alive_workers() {
            let mut held: Vec<Key> = self.workers[w.idx()].memory.keys().cloned().collect();
            held.sort();
            assert_eq!(held, self.core.keys_held(w), "seed {}: what {w} holds", self.seed);
            let wk = &self.workers[w.idx()];
            assert!(wk.running.is_empty() && wk.pending.is_empty(), "seed {}: {w} idle at quiescence", self.seed);
        }
    }

    /// Every client leaves; what remains must be nothing.
    fn teardown(&mut self) {
        for c in 0..self.clients.len() {
            if self.clients[c].connected {
                self.clients[c].connected = false;
                on_client_disconnected(&mut self.core, &mut self.comm, ClientId(c as u32));
                self.flush();
            }
        }
    }

    fn check_no_leaks(&self) {
        assert_eq!(self.core.num_tasks(), 0, "seed {}: tasks left after every client left", self.seed);
        for w in self.alive_workers() {
            assert!(self.workers[w.idx()].memory.is_empty(), "seed {}: {w} still holds data", self.seed);
        }
        self.check_holdings();
    }
}

fn kill(wk: &mut SimWorker) {
    wk.status = Status::Dead;
    wk.memory.clear();
    wk.pending.clear();
    wk.running.clear();
}

/// The payload the simulated client sends: the key's bytes (the worker
/// checks it arrives unchanged).
fn payload_of(key: &Key) -> Arc<[u8]> {
    Arc::from(key.to_string().into_bytes())
}
