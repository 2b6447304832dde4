//! The worker server: TCP and threads around [`blockwork_worker::WorkerState`].
//!
//! ```text
//!  scheduler conn ──ToWorker──────────────────┐
//!  data port (peers) ──get-data───────────────┤
//!  task threads ──finished / erred────────────┤ Event (mpsc)
//!  fetch tasks ──data / busy / failed─────────┤
//!  timer ──tick, heartbeat────────────────────┤
//!                                             ▼
//!            one loop owns WorkerState and the store (key → value)
//!               │ ToScheduler → scheduler writer
//!               │ Execute → task threads     Fetch → a fetch task (connects to the peer's data port)
//!               │ SendData / Busy → the waiting data-port connection      DropData → store
//! ```
//!
//! The state machine decides; this module moves values between the store,
//! the threads and the sockets. A data-port request from the scheduler (a
//! client's gather, with no requester id) is answered from the store
//! directly: it is not a transfer between workers.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use blockwork_graph::{panic_message, ErrorKind, Fault, FusedPanic, Key, Value};
use blockwork_protocol::{
    decode_task, Acceptor, LogLine, Message, PeerMessage, Role, SchedulerToWorker, WorkerActivity, WorkerEvent,
    WorkerEventKind, WorkerToScheduler,
};
use blockwork_scheduler::{MemoryReport, Payload, WorkerId, WorkerSpec};
use blockwork_worker::{Erred, Event, Finished, Instruction, Out, Recorder, WorkerState};
use rustc_hash::FxHashMap;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use crate::conn::{self, post, spawn_writer, FrameReader, Outbox};
use crate::error::{ConnError, RuntimeError};
use crate::memory::{self, process_rss, MemoryThresholds};
use crate::store::Store;
use crate::tls::{Security, TlsFiles};

/// How a worker server runs.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Threads running tasks.
    pub nthreads: u32,
    /// Its name in handshakes and logs.
    pub name: String,
    /// Where its data port listens (`host:port`; port 0 picks one). The
    /// address told to the scheduler is the IP this worker reaches the
    /// scheduler from, with this port.
    pub listen: String,
    /// Memory it may use, bytes; 0 for no limit. Above fractions of it
    /// (`memory`) values are spilled to `local_directory` and new tasks
    /// wait (see [`MemoryThresholds`]).
    pub memory_limit: u64,
    /// When to spill and pause, as fractions of `memory_limit`.
    pub memory: MemoryThresholds,
    /// Whether the worker has its process to itself, so that the
    /// process's resident memory counts (spill and pause thresholds).
    /// Default true; in-process cluster workers share one process.
    pub process_memory: bool,
    /// Where spilled values go; by default a directory of its own under
    /// the system's temporary directory, removed when the worker stops.
    pub local_directory: Option<std::path::PathBuf>,
    /// The cluster's token: presented to the scheduler and to peers, and
    /// asked of whoever connects to this worker's data port.
    pub token: Option<String>,
    /// TLS for every connection (mutual: the cluster's authority signs
    /// every certificate).
    pub tls: Option<TlsFiles>,
    /// Abstract resources it offers, e.g. `[("GPU", 2.0)]`: a task asking
    /// for some runs only where they are free.
    pub resources: Vec<(String, f64)>,
    /// How often it heartbeats.
    pub heartbeat: Duration,
    /// How often the state machine's clock ticks (busy peers' backoff).
    pub tick: Duration,
    /// After this long the worker retires itself (Dask's `--lifetime`):
    /// set it below a job's walltime, so that the queue's kill finds it
    /// gone and its results moved.
    pub lifetime: Option<Duration>,
}

impl WorkerOptions {
    /// Defaults for `nthreads` threads and a name.
    pub fn new(nthreads: u32, name: impl Into<String>) -> Self {
        WorkerOptions {
            nthreads,
            name: name.into(),
            listen: "0.0.0.0:0".into(),
            memory_limit: 0,
            memory: MemoryThresholds::default(),
            process_memory: true,
            local_directory: None,
            token: None,
            tls: None,
            resources: Vec::new(),
            heartbeat: Duration::from_secs(1),
            tick: Duration::from_millis(50),
            lifetime: None,
        }
    }
}

/// The worker server.
pub struct Worker;

/// A running worker; [`WorkerHandle::shutdown`] (or drop) stops it.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    id: WorkerId,
    address: String,
    stats: Arc<WorkerStats>,
    running: Arc<AtomicBool>,
    events: mpsc::UnboundedSender<WEvent>,
    /// Why the scheduler told it to stop, once it did.
    closed: Arc<Mutex<Option<String>>>,
}

/// Counters of what a worker did, for tests and diagnostics.
#[derive(Default, Debug)]
pub struct WorkerStats {
    /// Tasks run to completion (finished or erred).
    pub tasks_run: AtomicU64,
    /// Values received from peers.
    pub keys_fetched: AtomicU64,
    /// Values sent to peers.
    pub keys_served: AtomicU64,
    /// Bytes of values spilled to disk (each time one is).
    pub bytes_spilled: AtomicU64,
    /// Times it paused because memory was short.
    pub pauses: AtomicU64,
}

impl WorkerHandle {
    /// Its id in the cluster.
    pub fn id(&self) -> WorkerId {
        self.id
    }

    /// The address of its data port, as told to the scheduler.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether its loop still runs: false once it lost its scheduler or
    /// was shut down.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// What it did so far.
    pub fn stats(&self) -> &WorkerStats {
        &self.stats
    }

    /// Asks the scheduler to retire this worker gracefully (what SIGTERM
    /// and the end of `lifetime` do): the results only it holds move to
    /// other workers, then the scheduler tells it to stop
    /// ([`WorkerHandle::close_reason`]). If no word comes within
    /// [`RETIRE_WAIT`], it stops anyway.
    pub fn retire(&self) {
        let _ = self.events.send(WEvent::Retire);
    }

    /// Why the scheduler told this worker to stop (it was retired), if it
    /// did.
    pub fn close_reason(&self) -> Option<String> {
        self.closed.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Closes its connections and stops its loop; its threads end after
    /// their current task.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Worker {
    /// Connects to the scheduler at `scheduler` (`host:port`), registers
    /// with `nthreads` threads, and serves in the current tokio runtime.
    pub async fn start(scheduler: &str, nthreads: u32, name: &str) -> Result<WorkerHandle, RuntimeError> {
        Worker::start_with(scheduler, WorkerOptions::new(nthreads, name)).await
    }

    /// Connects, registers and serves with `options`.
    pub async fn start_with(scheduler: &str, options: WorkerOptions) -> Result<WorkerHandle, RuntimeError> {
        let state_config = blockwork_worker::Config::new(options.nthreads);
        state_config.validate()?;
        let err = |what: String| move |source: ConnError| RuntimeError::Conn { what: what.clone(), source };
        let listener = TcpListener::bind(&options.listen)
            .await
            .map_err(|e| err(format!("binding the data port {}", options.listen))(e.into()))?;
        let bound = listener.local_addr().map_err(|e| err("the data port".into())(e.into()))?;
        let port = bound.port();
        let security = crate::scheduler::security(options.tls.as_ref(), options.token.clone())?;
        let (mut reader, mut write, _, info) = conn::connect(scheduler, Role::Worker, &options.name, &security)
            .await
            .map_err(err(format!("connecting to the scheduler at {scheduler}")))?;
        // Reached at the address it listens on when that is a given one (an
        // interface's), else at the one it reaches the scheduler from.
        let ip = if bound.ip().is_unspecified() { info.local.ip() } else { bound.ip() };
        let address = SocketAddr::new(ip, port).to_string();
        let spec = WorkerSpec {
            address: address.as_str().into(),
            name: options.name.as_str().into(),
            nthreads: options.nthreads,
            memory_limit: options.memory_limit,
            resources: options.resources.iter().map(|(n, a)| (n.as_str().into(), *a)).collect(),
        };
        let registering = err(format!("registering with the scheduler at {scheduler}"));
        conn::send(&mut write, &WorkerToScheduler::Register(spec)).await.map_err(&registering)?;
        let id = match reader.message::<SchedulerToWorker>("the registered answer").await {
            Ok(SchedulerToWorker::Registered { id }) => id,
            Ok(other) => return Err(registering(ConnError::Unexpected(format!("{other:?} before registered")))),
            Err(ConnError::Closed(_)) => {
                return Err(RuntimeError::Rejected {
                    name: options.name.clone(),
                    reason: "the scheduler closed the connection (see its log)".into(),
                })
            }
            Err(e) => return Err(registering(e)),
        };
        let state = WorkerState::new(id, state_config)?;
        let (stop, stopped) = watch::channel(false);
        let (events, rx) = mpsc::unbounded_channel();
        let stats = Arc::new(WorkerStats::default());
        let closed = Arc::new(Mutex::new(None));
        let shell_events = events.clone();
        let (to_scheduler, _) = spawn_writer(write, format!("the scheduler at {scheduler}"));
        let pool =
            ThreadPool::start(options.nthreads, &options.name, events.clone(), stats.clone(), (scheduler, &security));

        // The scheduler connection: its messages go to the loop; its end
        // ends the worker.
        let (ev, mut st) = (events.clone(), stopped.clone());
        tokio::spawn(async move {
            loop {
                let frame = tokio::select! {
                    _ = st.changed() => return,
                    f = reader.next() => f,
                };
                let msg = match frame.and_then(|f| match f {
                    Some(f) => SchedulerToWorker::from_frame(f).map(Some).map_err(ConnError::from),
                    None => Ok(None),
                }) {
                    Ok(Some(SchedulerToWorker::Request(req))) => req,
                    Ok(Some(SchedulerToWorker::Registered { .. })) => continue,
                    Ok(Some(SchedulerToWorker::Close { reason })) => {
                        let _ = ev.send(WEvent::Closed(reason));
                        return;
                    }
                    Ok(None) => {
                        let _ = ev.send(WEvent::SchedulerLost("the scheduler closed the connection".into()));
                        return;
                    }
                    Err(e) => {
                        let _ = ev.send(WEvent::SchedulerLost(e.to_string()));
                        return;
                    }
                };
                if ev.send(WEvent::State(Event::Scheduler(msg))).is_err() {
                    return;
                }
            }
        });

        let mut acceptor =
            Acceptor::new(Role::Worker, options.name.clone(), &[Role::Worker, Role::Client, Role::Scheduler]);
        acceptor.token = options.token.clone();
        let cluster: (Arc<str>, Security) = (scheduler.into(), security.clone());
        tokio::spawn(data_port(listener, Arc::new(acceptor), cluster, events.clone(), stopped.clone()));
        let spill_dir = options.local_directory.clone().unwrap_or_else(std::env::temp_dir).join(format!(
            "blockwork-{}-{}-{}",
            options.name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_"),
            std::process::id(),
            port
        ));
        let mut shell = Shell {
            state,
            security,
            durations: FxHashMap::default(),
            store: Store::new(spill_dir),
            memory_limit: options.memory_limit,
            memory: options.memory,
            process_memory: options.process_memory,
            to_scheduler,
            pool,
            events,
            pending: FxHashMap::default(),
            name: options.name.clone(),
            stats: stats.clone(),
            start: Instant::now(),
            closed: closed.clone(),
            retiring: None,
            happened: Vec::new(),
            said: VecDeque::new(),
            cpu_mark: (Instant::now(), 0.0),
            spill_failure: None,
            stuck: memory::Stuck::default(),
            refusing: None,
        };
        // The first line of its page (not printed: the command line says it).
        let limit =
            if options.memory_limit == 0 { "none".to_string() } else { format!("{} bytes", options.memory_limit) };
        shell.keep(format!(
            "joined the scheduler at {scheduler} as worker {}; data port {address}; {} threads; memory limit {limit}",
            id.0, options.nthreads
        ));
        let running = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&running);
        if let Some(lifetime) = options.lifetime {
            let ev = shell_events.clone();
            tokio::spawn(async move {
                tokio::time::sleep(lifetime).await;
                let _ = ev.send(WEvent::Retire);
            });
        }
        tokio::spawn(async move {
            shell.run(rx, stopped, options.heartbeat, options.tick).await;
            flag.store(false, Ordering::SeqCst);
        });
        Ok(WorkerHandle { stop, id, address, stats, running, events: shell_events, closed })
    }
}

/// What reaches the worker's loop.
enum WEvent {
    /// An event for the state machine, as it is.
    State(Event),
    /// A task ended on a thread.
    TaskDone { key: Key, result: Result<Value, Failed>, duration: Duration },
    /// A transfer from a peer ended, begun at `started`.
    Fetched { peer: WorkerId, result: Result<PeerMessage, ConnError>, started: Instant },
    /// A peer asks for keys; answer on `reply`.
    PeerRequest { from: WorkerId, keys: Vec<Key>, reply: oneshot::Sender<PeerMessage> },
    /// The scheduler (a gather) asks for keys.
    Gather { keys: Vec<Key>, reply: oneshot::Sender<PeerMessage> },
    /// The scheduler stores a client's scattered values here.
    Put { data: Vec<(Key, Value)>, reply: oneshot::Sender<PeerMessage> },
    /// The scheduler connection ended.
    SchedulerLost(String),
    /// Ask the scheduler to be retired.
    Retire,
    /// The scheduler says stop (retired).
    Closed(String),
}

/// How long a worker that asked to be retired waits for the scheduler's
/// word before it stops anyway.
pub const RETIRE_WAIT: Duration = Duration::from_secs(60);

/// Tasks of a kind that took less than this on average run on the loop
/// itself: handing them to a thread and hearing back would cost more
/// than running them.
const INLINE_MAX: Duration = Duration::from_micros(20);

struct Shell {
    state: WorkerState,
    /// How it reaches peers' data ports.
    security: Security,
    /// Average run time per key prefix, to pick the tasks run inline.
    durations: FxHashMap<Box<str>, Duration>,
    store: Store,
    memory_limit: u64,
    memory: MemoryThresholds,
    process_memory: bool,
    to_scheduler: Outbox,
    pool: ThreadPool,
    events: mpsc::UnboundedSender<WEvent>,
    /// Data-port requests waiting for the state machine's answer, per peer.
    pending: FxHashMap<WorkerId, VecDeque<oneshot::Sender<PeerMessage>>>,
    name: String,
    stats: Arc<WorkerStats>,
    start: Instant,
    closed: Arc<Mutex<Option<String>>>,
    /// When it asked to be retired.
    retiring: Option<Instant>,
    /// Transfers and spills since the last report: kind, peer, bytes,
    /// start, end.
    happened: Vec<(WorkerEventKind, u32, u64, Instant, Instant)>,
    /// Its log lines since the last report.
    said: VecDeque<LogLine>,
    /// CPU seconds used by the time of the last report, and when.
    cpu_mark: (Instant, f64),
    /// Why spilling failed, while it fails (said once; retried at ticks).
    spill_failure: Option<String>,
    /// Whether a paused worker's memory can still be expected to go down.
    stuck: memory::Stuck,
    /// Why tasks sent here fail at once: memory is short and nothing
    /// frees it ([`memory::Stuck`]).
    refusing: Option<String>,
}

/// The most transfers and spills kept between two reports (one a second);
/// past it they are not shown.
const MAX_EVENTS: usize = 100_000;

/// The most log lines kept between two reports; past it the oldest go.
const MAX_LOG_LINES: usize = 1000;

impl Shell {
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<WEvent>,
        mut stopped: watch::Receiver<bool>,
        heartbeat: Duration,
        tick: Duration,
    ) {
        let mut port = Recorder::default();
        let mut beat = tokio::time::interval(heartbeat);
        let mut ticks = tokio::time::interval(tick);
        loop {
            tokio::select! {
                _ = stopped.changed() => return,
                _ = beat.tick() => {
                    post(&self.to_scheduler, &WorkerToScheduler::Heartbeat(self.memory_report()), "the scheduler");
                    self.report_activity();
                }
                _ = ticks.tick() => {
                    if self.retiring.is_some_and(|since| since.elapsed() > RETIRE_WAIT) {
                        self.log(tracing::Level::WARN, format_args!("no word from the scheduler on retiring within {RETIRE_WAIT:?}; stopping"));
                        return;
                    }
                    let now = self.start.elapsed();
                    self.state.handle(&mut port, Event::Tick { now });
                    self.watch_memory(&mut port, true);
                }
                ev = rx.recv() => match ev {
                    None => return,
                    Some(WEvent::SchedulerLost(why)) => {
                        self.log(tracing::Level::WARN, format_args!("lost the scheduler ({why}); stopping"));
                        return;
                    }
                    Some(WEvent::Closed(reason)) => {
                        self.log(tracing::Level::INFO, format_args!("{reason}; stopping"));
                        *self.closed.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
                        return;
                    }
                    Some(WEvent::Retire) => {
                        if self.retiring.is_none() {
                            self.log(tracing::Level::INFO, format_args!("asking the scheduler to retire it"));
                            post(&self.to_scheduler, &WorkerToScheduler::RetireMe, "the scheduler");
                            self.retiring = Some(Instant::now());
                        }
                    }
                    Some(ev) => self.on_event(&mut port, ev),
                },
            }
            // Applying may run quick tasks inline, which makes more output.
            loop {
                let outs = port.take();
                if outs.is_empty() {
                    break;
                }
                for out in outs {
                    self.apply(&mut port, out);
                }
            }
        }
    }

    fn on_event(&mut self, port: &mut Recorder, ev: WEvent) {
        match ev {
            WEvent::State(e) => self.state.handle(port, e),
            WEvent::TaskDone { key, result, duration } => {
                self.learn(&key, duration);
                self.task_done(port, key, result, duration)
            }
            WEvent::Fetched { peer, result, started } => match result {
                Ok(PeerMessage::Data { data, missing }) => {
                    self.stats.keys_fetched.fetch_add(data.len() as u64, Ordering::Relaxed);
                    let nbytes = data.iter().map(|(_, v)| v.nbytes() as u64).sum();
                    self.happened(WorkerEventKind::Transfer, peer.0, nbytes, started);
                    let mut sizes = Vec::with_capacity(data.len());
                    for (k, v) in data {
                        sizes.push((k.clone(), v.nbytes() as u64));
                        self.store.insert(k, v);
                    }
                    self.watch_memory(port, false);
                    self.state.handle(port, Event::FetchDone { peer, data: sizes, missing });
                }
                Ok(PeerMessage::Busy) => {
                    self.state.handle(port, Event::PeerBusy { now: self.start.elapsed(), peer });
                }
                Ok(other) => {
                    self.log(tracing::Level::WARN, format_args!("peer {} answered get-data with {other:?}", peer.0));
                    self.state.handle(port, Event::FetchFailed { peer });
                }
                Err(e) => {
                    self.log(tracing::Level::WARN, format_args!("fetching from peer {} failed: {e}", peer.0));
                    self.state.handle(port, Event::FetchFailed { peer });
                }
            },
            WEvent::PeerRequest { from, keys, reply } => {
                self.pending.entry(from).or_default().push_back(reply);
                self.state.handle(port, Event::DataRequested { from, keys });
            }
            WEvent::Gather { keys, reply } => {
                let (mut data, mut missing) = (Vec::new(), Vec::new());
                for k in keys {
                    match self.value(&k) {
                        Ok(v) => data.push((k, v)),
                        Err(_) => missing.push(k),
                    }
                }
                data.shrink_to_fit();
                let _ = reply.send(PeerMessage::Data { data, missing });
            }
            WEvent::Put { data, reply } => {
                let mut sizes = Vec::with_capacity(data.len());
                for (k, v) in data {
                    sizes.push((k.clone(), v.nbytes() as u64));
                    self.store.insert(k, v);
                }
                self.watch_memory(port, false);
                let keys = sizes.iter().map(|(k, _)| k.clone()).collect();
                self.state.handle(port, Event::Stored { data: sizes });
                let _ = reply.send(PeerMessage::Stored { keys });
            }
            WEvent::SchedulerLost(_) | WEvent::Retire | WEvent::Closed(_) => {}
        }
    }

    /// Notes a transfer or a spill that began at `started` and ended now.
    fn happened(&mut self, kind: WorkerEventKind, peer: u32, nbytes: u64, started: Instant) {
        if self.happened.len() < MAX_EVENTS {
            self.happened.push((kind, peer, nbytes, started, Instant::now()));
        }
    }

    /// Writes a line to the log (standard error and the process's ring,
    /// as `worker NAME: …`) and keeps it for the scheduler, which shows
    /// it on the worker's dashboard page.
    fn log(&mut self, level: tracing::Level, args: std::fmt::Arguments<'_>) {
        let text = args.to_string();
        match level {
            tracing::Level::ERROR => crate::log!(ERROR, "worker {}: {text}", self.name),
            tracing::Level::WARN => crate::log!(WARN, "worker {}: {text}", self.name),
            _ => crate::log!(INFO, "worker {}: {text}", self.name),
        }
        self.keep(text);
    }

    /// Keeps a line for the worker's page only (not printed).
    fn keep(&mut self, text: String) {
        if self.said.len() == MAX_LOG_LINES {
            self.said.pop_front();
        }
        self.said.push_back(LogLine { at: crate::epoch_seconds(), text });
    }

    /// CPU seconds used so far: the whole process's when the worker has
    /// it to itself, else its task threads'.
    fn cpu_seconds(&self) -> f64 {
        use blockwork_local::procfs::{cpu_seconds, Process};
        if self.process_memory {
            return cpu_seconds(Process::This).unwrap_or(0.0);
        }
        self.pool.threads().into_iter().filter_map(|t| cpu_seconds(Process::Thread(t))).sum()
    }

    /// Sends what the dashboard shows of this worker since the last
    /// report: its CPU use, its transfers and spills (timed relative to
    /// now: the scheduler places them on its own clock), its log lines.
    fn report_activity(&mut self) {
        let now = Instant::now();
        let used = self.cpu_seconds();
        let (since, before) = std::mem::replace(&mut self.cpu_mark, (now, used));
        let secs = now.duration_since(since).as_secs_f64();
        let cpu = if secs > 0.0 { (used - before).max(0.0) / secs } else { 0.0 };
        let events = self
            .happened
            .drain(..)
            .map(|(kind, peer, nbytes, start, end)| WorkerEvent {
                kind,
                peer,
                nbytes,
                ago: now.duration_since(end),
                took: end.duration_since(start),
            })
            .collect();
        let logs = self.said.drain(..).collect();
        post(&self.to_scheduler, &WorkerToScheduler::Events(WorkerActivity { cpu, events, logs }), "the scheduler");
    }

    /// Managed (in memory), spilled and unmanaged bytes.
    fn memory_report(&self) -> MemoryReport {
        let managed = self.store.memory_bytes();
        let unmanaged = if self.process_memory { process_rss().unwrap_or(0).saturating_sub(managed) } else { 0 };
        MemoryReport { managed, spilled: self.store.disk_bytes(), unmanaged }
    }

    /// Spills and pauses as the memory policy says; the process's memory
    /// is read only at ticks (`with_process`), managed memory every time.
    fn watch_memory(&mut self, port: &mut Recorder, with_process: bool) {
        if self.memory_limit == 0 {
            return;
        }
        let rss = if with_process && self.process_memory { process_rss() } else { None };
        // A worker refusing tasks counts as paused: it resumes only when
        // its memory is below the pause threshold again.
        let held_back = self.state.is_paused() || self.refusing.is_some();
        let d = memory::decide(self.memory_limit, &self.memory, self.store.memory_bytes(), rss, held_back);
        // While spilling fails, it is tried again at ticks only.
        let spilled = match d.spill_to {
            Some(to) if with_process || self.spill_failure.is_none() => self.spill(to),
            _ => 0,
        };
        // Pausing is judged on the process's memory, read at ticks only.
        if let Some(p) = d.pause {
            let (how, level) =
                if p { ("pausing: memory is short", tracing::Level::WARN) } else { ("resuming", tracing::Level::INFO) };
            let held = self.store.memory_bytes();
            self.log(level, format_args!("{how} ({held} bytes in memory)"));
            if p {
                self.stats.pauses.fetch_add(1, Ordering::Relaxed);
            } else {
                self.refusing = None;
            }
            self.state.handle(port, Event::Paused(p));
        }
        if with_process && self.refusing.is_none() {
            let now = self.start.elapsed();
            if self.stuck.observe(now, self.state.is_paused(), self.state.executing(), spilled == 0) {
                self.refuse_tasks(port, rss.unwrap_or(0));
            }
        }
    }

    /// Spills values until at most `to` bytes are in memory; the bytes
    /// spilled. A failure is said when it starts and when it ends.
    fn spill(&mut self, to: u64) -> u64 {
        let started = Instant::now();
        match self.store.spill_to(to) {
            Ok(n) => {
                self.stats.bytes_spilled.fetch_add(n, Ordering::Relaxed);
                if n > 0 {
                    self.happened(WorkerEventKind::Spill, 0, n, started);
                    if self.spill_failure.take().is_some() {
                        self.log(tracing::Level::INFO, format_args!("spilling works again"));
                    }
                }
                n
            }
            Err(e) => {
                if self.spill_failure.is_none() {
                    self.log(tracing::Level::WARN, format_args!("{e}; values stay in memory"));
                }
                self.spill_failure = Some(e);
                0
            }
        }
    }

    /// Memory is short and nothing frees it ([`memory::Stuck`]): tasks
    /// sent here fail with the reason, rather than wait for ever.
    fn refuse_tasks(&mut self, port: &mut Recorder, rss: u64) {
        let why = match &self.spill_failure {
            Some(e) => format!("spilling fails: {e}"),
            None => format!("no value left in memory can be spilled ({} bytes)", self.store.memory_bytes()),
        };
        let reason = format!(
            "worker {}: out of memory: {rss} bytes resident, above the pause threshold of its limit of {} bytes, \
             and nothing frees it: {why}",
            self.name, self.memory_limit
        );
        self.log(tracing::Level::WARN, format_args!("{reason}; tasks sent here fail until memory is freed"));
        self.refusing = Some(reason);
        self.state.handle(port, Event::Paused(false));
    }

    fn task_done(&mut self, port: &mut Recorder, key: Key, result: Result<Value, Failed>, duration: Duration) {
        match result {
            Ok(v) => {
                let nbytes = v.nbytes() as u64;
                self.store.insert(key.clone(), v);
                self.watch_memory(port, false);
                self.state.handle(port, Event::TaskFinished(Finished { key, nbytes, duration }));
            }
            Err(Failed { origin, message, kind }) => {
                match &origin {
                    Some(o) => self.log(tracing::Level::WARN, format_args!("task {key} failed (in {o}): {message}")),
                    None => self.log(tracing::Level::WARN, format_args!("task {key} failed: {message}")),
                }
                self.state.handle(port, Event::TaskErred(Erred { key, message: message.into(), origin, kind }))
            }
        }
    }

    /// The value of `key` from the store (read back if spilled); an error
    /// (logged) names the key and says why it is not available.
    fn value(&mut self, key: &Key) -> Result<Value, String> {
        match self.store.get(key) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(format!("input {key} is not in this worker's store")),
            Err(e) => {
                self.log(tracing::Level::WARN, format_args!("{e}"));
                Err(e)
            }
        }
    }

    /// Folds a run time into its prefix's average (half old, half new).
    fn learn(&mut self, key: &Key, duration: Duration) {
        match self.durations.get_mut(key.prefix()) {
            Some(avg) => *avg = (*avg + duration) / 2,
            None => {
                self.durations.insert(key.prefix().into(), duration);
            }
        }
    }

    /// Whether tasks like `key` are known to be shorter than a handoff.
    fn is_quick(&self, key: &Key) -> bool {
        self.durations.get(key.prefix()).is_some_and(|d| *d < INLINE_MAX)
    }

    fn apply(&mut self, port: &mut Recorder, out: Out) {
        match out {
            Out::Scheduler(m) => post(&self.to_scheduler, &WorkerToScheduler::Report(m), "the scheduler"),
            Out::Runtime(Instruction::Execute { key, payload, inputs }) => {
                if let Some(reason) = &self.refusing {
                    let failed = Failed::new(reason.clone(), ErrorKind::Environment);
                    return self.task_done(port, key, Err(failed), Duration::ZERO);
                }
                let values = inputs.iter().map(|k| (k.clone(), self.value(k))).collect();
                let job = Job { key, payload, inputs: values };
                if self.is_quick(&job.key) {
                    let (result, duration) = job.run(&self.stats);
                    self.learn(&job.key, duration);
                    self.task_done(port, job.key, result, duration);
                } else {
                    self.pool.submit(job);
                }
            }
            Out::Runtime(Instruction::Fetch { peer, address, keys }) => {
                let (events, me, security) = (self.events.clone(), self.state.id(), self.security.clone());
                tokio::spawn(async move {
                    let started = Instant::now();
                    let result = crate::scheduler::fetch_from(&address, &keys, Some(me), &security).await;
                    let _ = events.send(WEvent::Fetched { peer, result, started });
                });
            }
            Out::Runtime(Instruction::SendData { to, keys, missing }) => {
                let data: Vec<(Key, Value)> =
                    keys.into_iter().filter_map(|k| self.value(&k).ok().map(|v| (k, v))).collect();
                self.stats.keys_served.fetch_add(data.len() as u64, Ordering::Relaxed);
                self.answer(to, PeerMessage::Data { data, missing });
            }
            Out::Runtime(Instruction::Busy { to }) => self.answer(to, PeerMessage::Busy),
            Out::Runtime(Instruction::DropData(key)) => {
                self.store.remove(&key);
            }
        }
    }

    /// Answers the oldest pending request of `to`; the connection reports
    /// `DataSent` once written.
    fn answer(&mut self, to: WorkerId, msg: PeerMessage) {
        let reply = self.pending.get_mut(&to).and_then(VecDeque::pop_front);
        if self.pending.get(&to).is_some_and(VecDeque::is_empty) {
            self.pending.remove(&to);
        }
        match reply {
            Some(reply) => {
                let _ = reply.send(msg);
            }
            None => self.log(tracing::Level::WARN, format_args!("an answer for peer {} nobody waits for", to.0)),
        }
    }
}

/// The data port: peers, the scheduler and clients ask for values.
/// `cluster` is the worker's scheduler and security (its TLS serves the
/// port; a `run`'s thread reaches the scheduler with both).
async fn data_port(
    listener: TcpListener,
    acceptor: Arc<Acceptor>,
    cluster: (Arc<str>, Security),
    events: mpsc::UnboundedSender<WEvent>,
    stopped: watch::Receiver<bool>,
) {
    let stop = stopped.clone();
    crate::conn::accept_until_stopped(listener, stop, "data port", move |stream, _peer| {
        let (acceptor, events, stopped, cluster) = (acceptor.clone(), events.clone(), stopped.clone(), cluster.clone());
        async move {
            let (read, write) = conn::server_halves(stream, &cluster.1).await?;
            serve_peer(read, write, &acceptor, &cluster, events, stopped).await
        }
    })
    .await
}

async fn serve_peer(
    read: conn::ReadHalf,
    mut write: conn::WriteHalf,
    acceptor: &Acceptor,
    cluster: &(Arc<str>, Security),
    events: mpsc::UnboundedSender<WEvent>,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), ConnError> {
    let mut reader = FrameReader::new(read);
    let hello = conn::accept(&mut reader, &mut write, acceptor).await?;
    loop {
        let frame = tokio::select! {
            _ = stopped.changed() => return Ok(()),
            f = reader.next() => f?,
        };
        let Some(frame) = frame else { return Ok(()) };
        let (reply, answer) = oneshot::channel();
        let (ev, requester) = match PeerMessage::from_frame(frame)? {
            PeerMessage::Run { function, params, args } if hello.role == Role::Client => {
                let result = run_now(function, params, args, cluster.clone()).await;
                conn::send(&mut write, &PeerMessage::Ran { result }).await?;
                continue;
            }
            PeerMessage::GetData { keys, requester: Some(from) } => {
                (WEvent::PeerRequest { from, keys, reply }, Some(from))
            }
            PeerMessage::GetData { keys, requester: None } => (WEvent::Gather { keys, reply }, None),
            PeerMessage::PutData { data } if hello.role == Role::Scheduler => (WEvent::Put { data, reply }, None),
            other => return Err(ConnError::Unexpected(format!("{other:?} on a data port"))),
        };
        if events.send(ev).is_err() {
            return Ok(());
        }
        let Ok(msg) = answer.await else { return Ok(()) };
        let res = conn::send(&mut write, &msg).await;
        if let (Some(to), PeerMessage::Data { .. }) = (requester, &msg) {
            let _ = events.send(WEvent::State(Event::DataSent { to }));
        }
        res?;
    }
}

/// Calls the registered `function` now, on a thread of its own (beside
/// the task threads, which may all be busy): a client's `run`. A panic is
/// its error, as a task's is. The thread reaches `cluster`'s scheduler
/// through `get_client`, as a task thread does.
async fn run_now(
    function: String,
    params: Value,
    args: Vec<Value>,
    cluster: (Arc<str>, Security),
) -> Result<Value, String> {
    let (tx, rx) = oneshot::channel();
    let spawned = std::thread::Builder::new().name("blockwork-run".into()).spawn(move || {
        crate::get_client::set_for_this_thread(&cluster.0, &cluster.1);
        let result = match blockwork_graph::registry(&function) {
            None => Err(format!("the function {function:?} is not registered in this worker")),
            Some(f) => {
                let op = blockwork_graph::Op::named(f, params);
                match catch_unwind(AssertUnwindSafe(|| op.call(args))) {
                    Ok(r) => r.map_err(|e| e.message),
                    Err(p) => Err(format!("{function} panicked: {}", panic_message(p))),
                }
            }
        };
        let _ = tx.send(result);
    });
    if let Err(e) = spawned {
        return Err(format!("starting a thread to run a function: {e}"));
    }
    rx.await.unwrap_or_else(|_| Err("the run's thread stopped without an answer".into()))
}

/// A task for a thread: its payload and its input values.
struct Job {
    key: Key,
    payload: Payload,
    inputs: Vec<(Key, Result<Value, String>)>,
}

/// `nthreads` std threads taking jobs from one queue.
struct ThreadPool {
    jobs: std::sync::mpsc::Sender<Job>,
    /// The threads' kernel ids (for their CPU time), as they start.
    tids: Arc<Mutex<Vec<u32>>>,
}

impl ThreadPool {
    /// `nthreads` task threads; `cluster` is the worker's scheduler and
    /// security, what a task's `get_client` connects with.
    fn start(
        nthreads: u32,
        name: &str,
        events: mpsc::UnboundedSender<WEvent>,
        stats: Arc<WorkerStats>,
        cluster: (&str, &Security),
    ) -> Self {
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let tids = Arc::new(Mutex::new(Vec::new()));
        for i in 0..nthreads {
            let (rx, events, stats, tids) = (rx.clone(), events.clone(), stats.clone(), tids.clone());
            let (scheduler, security) = (cluster.0.to_string(), cluster.1.clone());
            let spawned = std::thread::Builder::new().name(format!("{name}-task-{i}")).spawn(move || {
                crate::get_client::set_for_this_thread(&scheduler, &security);
                if let Some(t) = blockwork_local::procfs::this_thread() {
                    tids.lock().unwrap_or_else(|p| p.into_inner()).push(t);
                }
                loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    let (result, duration) = job.run(&stats);
                    let done = WEvent::TaskDone { key: job.key, result, duration };
                    if events.send(done).is_err() {
                        return;
                    }
                }
            });
            if let Err(e) = spawned {
                crate::log!(ERROR, "worker {name}: cannot start task thread {i}: {e}");
            }
        }
        ThreadPool { jobs, tids }
    }

    /// The threads' kernel ids.
    fn threads(&self) -> Vec<u32> {
        self.tids.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn submit(&self, job: Job) {
        // The threads end only when this sender is dropped.
        let _ = self.jobs.send(job);
    }
}

impl Job {
    /// Runs the task and counts it; returns its result and run time.
    fn run(&self, stats: &WorkerStats) -> (Result<Value, Failed>, Duration) {
        let started = Instant::now();
        let result = run_job(self);
        stats.tasks_run.fetch_add(1, Ordering::Relaxed);
        (result, started.elapsed())
    }
}

/// Why a task failed: the message, whose fault it is, and the task fused
/// into it that failed, if not the task itself.
struct Failed {
    origin: Option<Key>,
    message: String,
    kind: ErrorKind,
}

impl Failed {
    fn new(message: String, kind: ErrorKind) -> Failed {
        Failed { origin: None, message, kind }
    }
}

/// Decodes and evaluates a task; an error or a panic becomes a message,
/// naming the fused task at fault when it is not the task itself.
fn run_job(job: &Job) -> Result<Value, Failed> {
    let task = decode_task(&job.key, &job.payload).map_err(|e| Failed::new(e.to_string(), e.kind()))?;
    let mut inputs: FxHashMap<&Key, Value> = FxHashMap::default();
    for (k, v) in &job.inputs {
        match v {
            Ok(v) => {
                inputs.insert(k, v.clone());
            }
            // An input the store could not give back (a spilled file).
            Err(e) => return Err(Failed::new(e.clone(), ErrorKind::Environment)),
        }
    }
    let lookup = |k: &Key| inputs.get(k).cloned().unwrap_or_default();
    let inner = |k: Key| (k != job.key).then_some(k);
    match catch_unwind(AssertUnwindSafe(|| task.eval(&lookup))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Failed { origin: e.key.and_then(inner), message: e.message, kind: e.kind }),
        Err(payload) => match payload.downcast::<FusedPanic>() {
            Ok(fused) => Err(Failed {
                origin: inner(fused.key),
                message: format!("panicked: {}", panic_message(fused.payload)),
                kind: ErrorKind::Internal,
            }),
            Err(payload) => Err(Failed::new(format!("panicked: {}", panic_message(payload)), ErrorKind::Internal)),
        },
    }
}
