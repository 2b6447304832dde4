//! The client: submits graphs and functions to a scheduler, tracks the
//! keys it wants, and gathers their results.
//!
//! ```text
//!  user threads                              client runtime (one thread)
//!  submit / compute / persist / scatter ──▶  writer task ──▶ scheduler
//!  Future::result / gather / wait      ◀──   reader task ◀── key states, replies
//!        (sleep on the Tracker)                  └──▶ Tracker::on_message
//! ```
//!
//! Every call is blocking and may come from any thread: the connection is
//! served by a small runtime of the client's own. Futures hold their keys
//! (reference counted in the [`Tracker`]); the scheduler releases a key
//! once the last future of it is dropped. Graphs are culled, cheap tasks
//! inlined and the rest ordered here; keys this client already holds
//! (persisted results) are not sent again, so a later graph built on a
//! persisted collection reuses its results from the cluster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use blockwork_graph::{order, Arg, Graph, Key, NamedFn, Op, Task, TaskError, TaskResult, Tokenize, Value};
use blockwork_protocol::{task_spec, ClientToScheduler, Role, SchedulerToClient};
use blockwork_scheduler::{GraphUpdate, TaskSpec};
use rustc_hash::FxHashSet;

use crate::conn::{self, post, spawn_writer, Outbox};
use crate::error::{ClientError, ConnError};
use crate::future::Future;
use crate::tls::Security;
use crate::tracker::{Reply, Retired, Tracker};

/// A connection to a scheduler. Cheap to clone; the connection closes
/// when the last clone and the last of its futures are dropped.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    addr: String,
    pub(crate) out: Outbox,
    pub(crate) tracker: Arc<Tracker>,
    writer: Option<tokio::task::JoinHandle<()>>,
    pub(crate) rt: Option<tokio::runtime::Runtime>,
    /// The token and TLS files it connected with: what reaches the
    /// workers' data ports too (`run`).
    pub(crate) security: Security,
}

/// Which workers [`Client::retire_workers`] retires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Retire {
    /// These, by address (`tcp://…` or `host:port`) or name.
    Workers(Vec<String>),
    /// This many, picked by the scheduler.
    Count(usize),
}

/// Settings of the tasks of a submission (Dask's `retries=`,
/// `resources=`, `workers=`, `allow_other_workers=` and `priority=`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskOptions {
    /// Times a failing task is run again before its error counts.
    pub retries: u32,
    /// Abstract resources each task holds while it runs, e.g.
    /// `[("GPU", 1.0)]`: it runs only on workers offering them, as many at
    /// once as the amounts allow.
    pub resources: Vec<(String, f64)>,
    /// The workers (by address or name) the tasks may run on; empty: any.
    /// Tasks wait for one of them to join.
    pub workers: Vec<String>,
    /// With `workers`: any worker may take the tasks while none of those
    /// runs.
    pub allow_other_workers: bool,
    /// Higher runs first, before lower-priority work submitted earlier
    /// (clamped to ±127; default 0).
    pub priority: i32,
}

impl TaskOptions {
    /// With `n` retries.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Also needing `amount` of `resource`.
    pub fn resource(mut self, resource: &str, amount: f64) -> Self {
        self.resources.push((resource.to_string(), amount));
        self
    }

    /// Only on `workers` (by address or name); with `allow_other_workers`,
    /// on any while none of them runs.
    pub fn workers(mut self, workers: &[&str], allow_other_workers: bool) -> Self {
        self.workers = workers.iter().map(|w| w.to_string()).collect();
        self.allow_other_workers = allow_other_workers;
        self
    }

    /// With priority `p` (higher first).
    pub fn priority(mut self, p: i32) -> Self {
        self.priority = p;
        self
    }

    fn apply(&self, spec: &mut TaskSpec) {
        spec.retries = self.retries;
        spec.resources = self.resources.iter().map(|(n, a)| (n.as_str().into(), *a)).collect();
        spec.workers = self.workers.iter().map(|w| w.as_str().into()).collect();
        spec.loose = self.allow_other_workers;
        spec.user_priority = self.priority;
    }
}

/// How many times a gather asks again for results reported in memory but
/// not found, before calling them lost.
const GATHER_ATTEMPTS: u32 = 5;

impl Client {
    /// Connects to the scheduler at `addr` (`host:port`).
    pub fn connect(addr: &str) -> Result<Client, ClientError> {
        Client::connect_with(addr, "client", &Security::default())
    }

    /// Connects with a name, and the cluster's token and TLS files
    /// ([`Security::token`], [`Security::tls`]).
    pub fn connect_with(addr: &str, name: &str, security: &Security) -> Result<Client, ClientError> {
        let addr = addr.trim_start_matches("tcp://");
        if crate::error::in_async_runtime() {
            return Err(ClientError::InAsync("Client::connect"));
        }
        let conn_err = |source: ConnError| ClientError::Conn { addr: addr.to_string(), source };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("blockwork-client")
            .enable_all()
            .build()
            .map_err(|e| conn_err(e.into()))?;
        let (mut reader, write, _, _) =
            rt.block_on(conn::connect(addr, Role::Client, name, security)).map_err(conn_err)?;
        let tracker = Arc::new(Tracker::default());
        let (out, writer) = rt.block_on(async { spawn_writer(write, format!("the scheduler at {addr}")) });
        let t = Arc::clone(&tracker);
        rt.spawn(async move {
            loop {
                match reader.next().await {
                    Ok(Some(frame)) => match <SchedulerToClient as blockwork_protocol::Message>::from_frame(frame) {
                        Ok(msg) => t.on_message(msg),
                        Err(e) => return t.close(format!("the scheduler sent a bad message: {e}")),
                    },
                    Ok(None) => return t.close("the scheduler closed the connection".into()),
                    Err(e) => return t.close(e.to_string()),
                }
            }
        });
        let inner = Inner {
            addr: addr.to_string(),
            out,
            tracker,
            writer: Some(writer),
            rt: Some(rt),
            security: security.clone(),
        };
        Ok(Client { inner: Arc::new(inner) })
    }

    /// Closes the connection now, as dropping the last handle on it does,
    /// even while futures, locks or other handles still hold it: the
    /// scheduler forgets what this client wanted and passes its locks and
    /// leases on; every later call through any of its handles fails.
    pub fn close(&self) {
        post(&self.inner.out, &ClientToScheduler::Close, "the scheduler");
        self.inner.tracker.close("the client was closed".into());
    }

    /// The scheduler's address.
    pub fn address(&self) -> &str {
        &self.inner.addr
    }

    /// Computes `outputs` of `graph` on the cluster and returns their
    /// values in the order of `outputs`. Every task must run a registered
    /// named function: a closure is refused before anything is sent,
    /// naming its key. A task that fails on a worker comes back as
    /// [`ClientError::Task`] naming the key that failed.
    pub fn compute(&self, graph: Graph, outputs: &[Key]) -> Result<Vec<Value>, ClientError> {
        let futures = self.persist(graph, outputs)?;
        self.gather(&futures)
    }

    /// Starts computing `outputs` of `graph` and returns at once with one
    /// future per output (Dask's `client.compute` / `persist`). The
    /// results stay in the cluster while their futures live; a later graph
    /// containing these keys reuses them instead of computing them again.
    pub fn persist(&self, graph: Graph, outputs: &[Key]) -> Result<Vec<Future>, ClientError> {
        self.persist_with(graph, outputs, &TaskOptions::default())
    }

    /// [`Client::persist`] with retries or resources for every task.
    pub fn persist_with(&self, graph: Graph, outputs: &[Key], opts: &TaskOptions) -> Result<Vec<Future>, ClientError> {
        let graph = graph.cull(outputs)?;
        let held = self.inner.tracker.held_among(graph.keys());
        let graph = prune_held(graph, outputs, &held)?;
        // Cheap tasks (generated blocks, aliases) are inlined into their
        // readers and linear chains fused into one task, as the local
        // schedulers do: fewer tasks to schedule, fewer results to store
        // and move. A worker reports an error inside a fused task under
        // the inner key that failed.
        // Held keys stay tasks of their own: their placeholders must reach
        // the scheduler as the held keys, never run inside a reader.
        let depth = blockwork_graph::DEFAULT_MAX_FUSED_DEPTH;
        let kept: Vec<Key> = outputs.iter().chain(held.iter().filter(|k| graph.id(k).is_some())).cloned().collect();
        let graph = blockwork_graph::inline_cheap(graph, &kept, depth)?;
        let graph = blockwork_graph::fuse_linear(graph, &kept, depth)?;
        let priority = order(&graph);
        let mut tasks = Vec::with_capacity(graph.len());
        let mut reused = Vec::new();
        for t in graph.ids() {
            let key = graph.key(t);
            if held.contains(key) {
                reused.push(key.clone());
                continue;
            }
            let task = graph.task(t).clone().map_refs(|d| graph.key(d).clone());
            let mut spec = task_spec(key, &task, priority[t.idx()])?;
            opts.apply(&mut spec);
            tasks.push(spec);
        }
        // Held inputs stay wanted until the scheduler has this update,
        // even if their futures are dropped meanwhile.
        self.inner.tracker.retain(&reused, None);
        let futures = self.update(tasks, outputs);
        self.inner.release(&reused);
        Ok(futures)
    }

    /// Runs `f(args…)` on the cluster; arguments may be literals or the
    /// keys of futures (`Arg::from(&future)`). The key is the function's
    /// name and a hash of its arguments, so equal calls are computed once.
    pub fn submit(&self, f: &'static NamedFn, args: Vec<Arg<Key>>) -> Result<Future, ClientError> {
        self.submit_with(f, args, &TaskOptions::default())
    }

    /// [`Client::submit`] with retries or resources.
    pub fn submit_with(
        &self,
        f: &'static NamedFn,
        args: Vec<Arg<Key>>,
        opts: &TaskOptions,
    ) -> Result<Future, ClientError> {
        let task = Task::new(Op::named(f, Value::Unit), args);
        let key = call_key(f, &task)?;
        self.submit_task(key, task, opts)
    }

    /// Runs one task under a key of the caller's choosing.
    pub fn submit_task(&self, key: Key, task: Task<Key>, opts: &TaskOptions) -> Result<Future, ClientError> {
        let mut spec = task_spec(&key, &task, 0)?;
        opts.apply(&mut spec);
        Ok(self.update(vec![spec], std::slice::from_ref(&key)).remove(0))
    }

    /// Runs `f(item)` for each item, in one update; one future per item.
    pub fn map(
        &self,
        f: &'static NamedFn,
        items: impl IntoIterator<Item = Arg<Key>>,
    ) -> Result<Vec<Future>, ClientError> {
        self.map_with(f, items, &TaskOptions::default())
    }

    /// [`Client::map`] with retries or resources.
    pub fn map_with(
        &self,
        f: &'static NamedFn,
        items: impl IntoIterator<Item = Arg<Key>>,
        opts: &TaskOptions,
    ) -> Result<Vec<Future>, ClientError> {
        let mut specs: Vec<TaskSpec> = Vec::new();
        let mut keys = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let task = Task::new(Op::named(f, Value::Unit), vec![item]);
            let key = call_key(f, &task)?;
            let mut spec = task_spec(&key, &task, i as u32)?;
            opts.apply(&mut spec);
            specs.push(spec);
            keys.push(key);
        }
        Ok(self.update(specs, &keys))
    }

    /// Sends tasks and wants `outputs`; one future per output.
    fn update(&self, tasks: Vec<TaskSpec>, outputs: &[Key]) -> Vec<Future> {
        let id = self.inner.tracker.next_id();
        let mut wanted: Vec<Key> = Vec::with_capacity(outputs.len());
        let mut seen = FxHashSet::default();
        for k in outputs {
            if seen.insert(k) {
                wanted.push(k.clone());
            }
        }
        self.inner.tracker.retain(outputs, Some(id));
        let update = GraphUpdate { tasks, wanted };
        post(&self.inner.out, &ClientToScheduler::UpdateGraph { id, update }, "the scheduler");
        outputs.iter().map(|k| Future::held(k.clone(), Arc::clone(&self.inner))).collect()
    }

    /// Stores `values` in the cluster (on the worker holding the least);
    /// one future per value, keyed by its content. Tasks take them as
    /// inputs like any result.
    pub fn scatter(&self, values: Vec<Value>) -> Result<Vec<Future>, ClientError> {
        let data: Vec<(Key, Value)> = values.into_iter().map(|v| (scatter_key(&v), v)).collect();
        let keys: Vec<Key> = data.iter().map(|(k, _)| k.clone()).collect();
        let id = self.inner.tracker.next_id();
        self.inner.tracker.retain(&keys, None);
        let futures: Vec<Future> = keys.iter().map(|k| Future::held(k.clone(), Arc::clone(&self.inner))).collect();
        post(&self.inner.out, &ClientToScheduler::Scatter { id, data }, "the scheduler");
        match self.inner.tracker.wait_reply(id, None).map_err(|e| self.inner.closed(e))? {
            Some(Reply::Scattered) => Ok(futures),
            Some(Reply::Refused(m)) => Err(ClientError::Refused(m)),
            _ => Err(ClientError::Refused("the scheduler answered a scatter with something else".into())),
        }
    }

    /// How many workers the scheduler proposes for the work in hand: as
    /// many as would finish what is processing and waiting to run within
    /// `target_duration` (from the durations it measured), more under
    /// memory pressure (Dask's `adaptive_target`); and, when that is fewer
    /// than there are, the names of the idle workers to let go.
    pub fn adaptive_target(&self, target_duration: Duration) -> Result<(usize, Vec<String>), ClientError> {
        let id = self.inner.tracker.next_id();
        post(&self.inner.out, &ClientToScheduler::AdaptiveTarget { id, target_duration }, "the scheduler");
        let deadline = Some(Instant::now() + Duration::from_secs(30));
        match self.inner.tracker.wait_reply(id, deadline).map_err(|e| self.inner.closed(e))? {
            Some(Reply::AdaptiveTarget { workers, to_close }) => Ok((workers as usize, to_close)),
            Some(_) => Err(ClientError::Refused(
                "the scheduler answered an adaptive-target request with something else".into(),
            )),
            None => {
                self.inner.tracker.drop_reply(id);
                Err(ClientError::Timeout("the scheduler's adaptive target".into()))
            }
        }
    }

    /// Retires workers gracefully (Dask's `Client.retire_workers`): each
    /// gets no new task, the results only it holds are copied to the
    /// others, then it stops; nothing is recomputed. `workers` are named
    /// by address or name; [`Retire::Count`] lets the scheduler pick (idle
    /// workers holding the least data first). Waits until every worker
    /// left or was refused (no other worker could take its results: it
    /// runs on), at most `timeout`.
    pub fn retire_workers(&self, which: Retire, timeout: Duration) -> Result<Retired, ClientError> {
        let id = self.inner.tracker.next_id();
        let (workers, n) = match which {
            Retire::Workers(w) => (w, 0),
            Retire::Count(n) => (Vec::new(), n as u64),
        };
        post(&self.inner.out, &ClientToScheduler::RetireWorkers { id, workers, n }, "the scheduler");
        match self.inner.tracker.wait_reply(id, Some(Instant::now() + timeout)).map_err(|e| self.inner.closed(e))? {
            Some(Reply::Retired(r)) => Ok(r),
            Some(Reply::Refused(message)) => Err(ClientError::Refused(message)),
            Some(_) => Err(ClientError::Refused("the scheduler answered a retire request with something else".into())),
            None => {
                self.inner.tracker.drop_reply(id);
                Err(ClientError::Timeout("retiring workers".into()))
            }
        }
    }

    /// The values of `futures`, in order; waits for them. The first error
    /// among them (a failed task names its key) is returned instead.
    pub fn gather(&self, futures: &[Future]) -> Result<Vec<Value>, ClientError> {
        self.gather_until(futures, None)
    }

    /// [`Client::gather`], giving up with [`ClientError::Timeout`] after
    /// `timeout`.
    pub fn gather_timeout(&self, futures: &[Future], timeout: Duration) -> Result<Vec<Value>, ClientError> {
        self.gather_until(futures, Some(Instant::now() + timeout))
    }

    fn gather_until(&self, futures: &[Future], deadline: Option<Instant>) -> Result<Vec<Value>, ClientError> {
        self.check_own(futures)?;
        let keys: Vec<Key> = futures.iter().map(|f| f.key().clone()).collect();
        self.inner.gather(&keys, deadline)
    }

    /// Cancels `futures`: their keys (and what only they need) stop
    /// running; their futures end as cancelled. With `force`, also for
    /// other clients that want them.
    pub fn cancel(&self, futures: &[Future], force: bool) {
        let keys: Vec<Key> = futures.iter().map(|f| f.key().clone()).collect();
        post(&self.inner.out, &ClientToScheduler::CancelKeys { keys, force }, "the scheduler");
    }

    /// Waits until all `futures` are done (finished, erred or cancelled),
    /// or until `timeout`: returns `(done, not_done)`.
    pub fn wait(
        &self,
        futures: &[Future],
        timeout: Option<Duration>,
    ) -> Result<(Vec<Future>, Vec<Future>), ClientError> {
        self.wait_for(futures, futures.len(), timeout)
    }

    /// Waits until at least one of `futures` is done, or until `timeout`:
    /// returns `(done, not_done)` (Dask's `FIRST_COMPLETED`).
    pub fn wait_first(
        &self,
        futures: &[Future],
        timeout: Option<Duration>,
    ) -> Result<(Vec<Future>, Vec<Future>), ClientError> {
        self.wait_for(futures, 1, timeout)
    }

    fn wait_for(
        &self,
        futures: &[Future],
        n: usize,
        timeout: Option<Duration>,
    ) -> Result<(Vec<Future>, Vec<Future>), ClientError> {
        self.check_own(futures)?;
        let keys: Vec<Key> = futures.iter().map(|f| f.key().clone()).collect();
        let deadline = timeout.map(|t| Instant::now() + t);
        let done = self.inner.tracker.wait_done(&keys, n, deadline).map_err(|e| self.inner.closed(e))?;
        // On a timeout, what is done by now.
        let done: FxHashSet<usize> = done.unwrap_or_else(|| self.inner.tracker.done(&keys)).into_iter().collect();
        let (mut d, mut nd) = (Vec::new(), Vec::new());
        for (i, f) in futures.iter().enumerate() {
            if done.contains(&i) {
                d.push(f.clone())
            } else {
                nd.push(f.clone())
            }
        }
        Ok((d, nd))
    }

    /// The futures in the order they complete (finished, erred or
    /// cancelled), like Dask's `as_completed`.
    pub fn as_completed(&self, futures: Vec<Future>) -> Result<crate::future::AsCompleted, ClientError> {
        self.check_own(&futures)?;
        Ok(crate::future::AsCompleted::new(Arc::clone(&self.inner), futures))
    }

    fn check_own(&self, futures: &[Future]) -> Result<(), ClientError> {
        match futures.iter().find(|f| !Arc::ptr_eq(&f.inner, &self.inner)) {
            Some(f) => Err(ClientError::OtherClient(f.key().clone())),
            None => Ok(()),
        }
    }
}

impl Inner {
    /// The connection's end, as an error.
    pub(crate) fn closed(&self, why: String) -> ClientError {
        ClientError::Conn { addr: self.addr.clone(), source: ConnError::Gone(why) }
    }

    /// Lets go of `keys` once; those nobody holds any more are released
    /// at the scheduler.
    pub(crate) fn release(&self, keys: &[Key]) {
        let gone = self.tracker.release(keys);
        if !gone.is_empty() {
            post(&self.out, &ClientToScheduler::ReleaseKeys(gone), "the scheduler");
        }
    }

    /// Waits for `keys` and fetches their values, in order.
    pub(crate) fn gather(&self, keys: &[Key], deadline: Option<Instant>) -> Result<Vec<Value>, ClientError> {
        let mut values: rustc_hash::FxHashMap<Key, Value> = rustc_hash::FxHashMap::default();
        let mut failures = 0;
        loop {
            let left: Vec<Key> = keys.iter().filter(|k| !values.contains_key(*k)).cloned().collect();
            if left.is_empty() {
                return Ok(keys.iter().map(|k| values[k].clone()).collect());
            }
            match self.tracker.wait_done(&left, left.len(), deadline).map_err(|e| self.closed(e))? {
                Some(_) => {}
                None => return Err(ClientError::Timeout(format!("{} of {} results", left.len(), keys.len()))),
            }
            for k in &left {
                let status = self.tracker.status(k).ok_or_else(|| ClientError::Lost(k.clone()))?;
                if let Some(e) = status.error(k) {
                    return Err(e);
                }
            }
            let id = self.tracker.next_id();
            post(&self.out, &ClientToScheduler::Gather { id, keys: left.clone() }, "the scheduler");
            let reply = self.tracker.wait_reply(id, deadline).map_err(|e| self.closed(e))?;
            let (data, missing) = match reply {
                Some(Reply::Gather { data, missing }) => (data, missing),
                Some(_) => {
                    return Err(ClientError::Refused("the scheduler answered a gather with something else".into()))
                }
                None => {
                    self.tracker.drop_reply(id);
                    return Err(ClientError::Timeout(format!("gathering {} results", left.len())));
                }
            };
            values.extend(data);
            if let Some(k) = missing.first() {
                // Reported in memory, not found: lost meanwhile (a key-lost
                // is on its way and it will be recomputed), or its holder
                // did not answer. Ask again a few times.
                failures += 1;
                if failures > GATHER_ATTEMPTS {
                    return Err(ClientError::Lost(k.clone()));
                }
                let pause = Instant::now() + Duration::from_millis(20 << failures);
                self.tracker
                    .wait_unfinished(&missing, deadline.map_or(pause, |d| d.min(pause)))
                    .map_err(|e| self.closed(e))?;
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        post(&self.out, &ClientToScheduler::Close, "the scheduler");
        // Closing the channel ends the writer once it wrote the goodbye.
        let (closed, _) = tokio::sync::mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.out, closed));
        if let (Some(rt), Some(writer)) = (self.rt.take(), self.writer.take()) {
            // Inside an async runtime blocking would panic: the goodbye
            // is then not waited for.
            if !crate::error::in_async_runtime() {
                let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(1), writer).await });
            }
            rt.shutdown_background();
        }
    }
}

/// The key of a call: the function's short name and a hash of the task.
fn call_key(f: &'static NamedFn, task: &Task<Key>) -> Result<Key, ClientError> {
    let payload = blockwork_protocol::encode_task(&Key::new(f.name), task)?;
    let short = f.name.rsplit('.').next().unwrap_or(f.name);
    let mut tok = blockwork_graph::Tokenizer::new();
    tok.bytes(&payload);
    Ok(Key::new(format!("{short}-{}", tok.finish())))
}

/// Stands in for a task whose result this client holds in the cluster:
/// never sent, so never run.
fn held_placeholder(_: &Value, _: Vec<Value>) -> TaskResult {
    Err(TaskError::new("a held result's placeholder ran; it should have been read from the cluster"))
}

/// Its parameter is the unit value (it takes none, and never runs).
static HELD: NamedFn = NamedFn::new("blockwork.held", held_placeholder).takes("()");

/// `graph` (culled to `outputs`) with the tasks of `held` keys (among its
/// own) replaced by placeholders without inputs, so that what only they
/// need is dropped.
fn prune_held(graph: Graph, outputs: &[Key], held: &FxHashSet<Key>) -> Result<Graph, ClientError> {
    if held.is_empty() {
        return Ok(graph);
    }
    let mut keep: Vec<bool> = vec![false; graph.len()];
    let mut stack = graph.ids_of(outputs)?;
    let mut tasks = Vec::new();
    while let Some(t) = stack.pop() {
        if std::mem::replace(&mut keep[t.idx()], true) {
            continue;
        }
        let key = graph.key(t).clone();
        if held.contains(&key) {
            tasks.push((key, Task::new(Op::named(&HELD, Value::Unit), Vec::new())));
            continue;
        }
        stack.extend_from_slice(graph.deps(t));
        tasks.push((key, graph.task(t).clone().map_refs(|d| graph.key(d).clone())));
    }
    Ok(Graph::from_tasks(tasks)?)
}

/// A key for a scattered value, unique to this scatter: a value's token may
/// be its address (an object's), and an address comes back once its value
/// is freed, so a later scatter would name an earlier, still-held value.
fn scatter_key(v: &Value) -> Key {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    let start = *START
        .get_or_init(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    let mut t = blockwork_graph::Tokenizer::new();
    v.tokenize(&mut t);
    t.add(&(std::process::id() as u64)).add(&(start as u64)).add(&NEXT.fetch_add(1, Ordering::Relaxed));
    Key::new(format!("value-{}", t.finish()))
}
