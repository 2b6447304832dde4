//! The scheduler server: TCP in front of [`blockwork_scheduler::Core`].
//!
//! ```text
//!  accept ─▶ per connection: handshake (client | worker), then read frames ──┐
//!                                                                            │ Event (mpsc)
//!  timer ─────────────────────────────────────────── tick ──────────────────▶│
//!                                                                            ▼
//!                         one loop owns the Core: reactor::on_*(core, &mut Outboxes, now, …)
//!                                                                            │ encoded frames (mpsc)
//!                                                                            ▼
//!                                                  per connection: writer task ─▶ socket
//! ```
//!
//! Every decision is the core's; this module only routes. A connection
//! that breaks the protocol is closed with a log line and nothing else
//! changes; a worker connection that ends is `on_worker_removed`, a client
//! connection that ends is `on_client_disconnected`. A client's gather is
//! served by asking the holders' data ports, off the loop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blockwork_graph::{Key, Value};
use blockwork_protocol::{
    Acceptor, ClientToScheduler, Message, PeerMessage, Role, SchedulerToClient, SchedulerToWorker, WorkerToScheduler,
};
use blockwork_scheduler::{reactor, ClientId, Comm, Core, Recorder, Sent, ToClient, ToWorker, WorkerId, WorkerSpec};
use blockwork_worker::{Finished, ToScheduler};
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use crate::client::Retire;
use crate::conn::{self, post, spawn_writer, FrameReader, Outbox};
use crate::coordinator::Coordinator;
use crate::error::{ConnError, RuntimeError};
use crate::tls::{Security, TlsFiles};
use crate::tracker::Retired;

/// How a scheduler server runs.
#[derive(Clone, Debug)]
pub struct SchedulerOptions {
    /// The state machine's settings.
    pub config: blockwork_scheduler::Config,
    /// Its name in handshakes.
    pub name: String,
    /// A token every client and worker must present (and that the
    /// scheduler presents to workers' data ports).
    pub token: Option<String>,
    /// TLS for every connection (mutual: peers need a certificate of the
    /// same authority).
    pub tls: Option<TlsFiles>,
    /// How often the core's clock ticks (heartbeat checks, stealing).
    pub tick: Duration,
    /// Where to serve the HTTP API (`host:port`; port 0 picks one): the
    /// adaptive target, workers, task counts and Prometheus metrics
    /// ([`crate::http`]). When the port is taken, another is picked and
    /// logged ([`SchedulerHandle::http_address`] tells which). `None`: not
    /// served.
    pub http: Option<String>,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            config: blockwork_scheduler::Config::default(),
            name: "scheduler".into(),
            token: None,
            tls: None,
            tick: Duration::from_millis(100),
            http: None,
        }
    }
}

/// The scheduler server.
pub struct Scheduler;

/// A running scheduler server; [`SchedulerHandle::shutdown`] (or drop)
/// stops it and closes every connection.
pub struct SchedulerHandle {
    stop: watch::Sender<bool>,
    address: SocketAddr,
    http: Option<SocketAddr>,
}

impl SchedulerHandle {
    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The address of its HTTP API, if it serves one.
    pub fn http_address(&self) -> Option<SocketAddr> {
        self.http
    }

    /// Stops accepting, stops the loop and closes every connection.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for SchedulerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Scheduler {
    /// Binds `addr` (`host:port`; port 0 picks one) and serves in the
    /// current tokio runtime with default options.
    pub async fn bind(addr: &str) -> Result<(SchedulerHandle, SocketAddr), RuntimeError> {
        Scheduler::bind_with(addr, SchedulerOptions::default()).await
    }

    /// Binds `addr` and serves with `options`.
    pub async fn bind_with(
        addr: &str,
        options: SchedulerOptions,
    ) -> Result<(SchedulerHandle, SocketAddr), RuntimeError> {
        let core = Core::new(options.config.clone())?;
        let bind_err = |e: std::io::Error| RuntimeError::Conn { what: format!("binding {addr}"), source: e.into() };
        let listener = TcpListener::bind(addr).await.map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        let (stop, stopped) = watch::channel(false);
        let (events, rx) = mpsc::unbounded_channel();
        let mut acceptor = Acceptor::new(Role::Scheduler, options.name.clone(), &[Role::Client, Role::Worker]);
        acceptor.token = options.token.clone();
        let acceptor = Arc::new(acceptor);
        let security = security(options.tls.as_ref(), options.token.clone())?;
        let (queries, asked) = mpsc::unbounded_channel();
        let http = match &options.http {
            Some(at) => {
                let http_err = |e: std::io::Error| RuntimeError::Conn {
                    what: format!("binding {at} for the HTTP API"),
                    source: e.into(),
                };
                let listener = match TcpListener::bind(at).await {
                    // Its port taken (another scheduler on this machine): another one, as Dask does.
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                        let host = at.rsplit_once(':').map_or("", |(h, _)| h);
                        crate::log!(WARN, "scheduler: {at} is in use; the HTTP API takes another port");
                        TcpListener::bind(format!("{host}:0")).await.map_err(http_err)?
                    }
                    r => r.map_err(http_err)?,
                };
                let bound = listener.local_addr().map_err(http_err)?;
                tokio::spawn(crate::http::serve(listener, queries.clone(), stopped.clone()));
                Some(bound)
            }
            None => None,
        };
        let loop_state = LoopIo { events: (events.clone(), rx), queries: (queries, asked) };
        tokio::spawn(run_loop(core, loop_state, security.clone(), options.tick, stopped.clone()));
        tokio::spawn(accept_loop(listener, acceptor, security, events, stopped));
        Ok((SchedulerHandle { stop, address: local, http }, local))
    }
}

/// What the connections and helpers tell the loop.
enum Event {
    ClientConnected {
        out: Outbox,
        reply: oneshot::Sender<ClientId>,
    },
    Client(ClientId, ClientToScheduler),
    ClientGone(ClientId),
    WorkerJoined {
        spec: WorkerSpec,
        out: Outbox,
        reply: oneshot::Sender<Result<WorkerId, String>>,
    },
    Worker(WorkerId, WorkerToScheduler),
    WorkerGone(WorkerId),
    /// A worker stored a client's scattered values (or failed to).
    Scattered {
        client: ClientId,
        id: u64,
        worker: WorkerId,
        data: Vec<(Key, u64)>,
        result: Result<(), String>,
    },
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Arc<Acceptor>,
    security: Security,
    events: mpsc::UnboundedSender<Event>,
    stopped: watch::Receiver<bool>,
) {
    let stop = stopped.clone();
    crate::conn::accept_until_stopped(listener, stop, "scheduler", move |stream, peer| {
        let (acceptor, events, stopped, security) =
            (acceptor.clone(), events.clone(), stopped.clone(), security.clone());
        async move {
            let (read, write) = conn::server_halves(stream, &security).await?;
            serve_connection(read, write, peer, &acceptor, events, stopped).await
        }
    })
    .await
}

/// Loads the TLS files, if any; an error names the file at fault.
pub(crate) fn security(tls: Option<&TlsFiles>, token: Option<String>) -> Result<Security, RuntimeError> {
    match tls {
        None => Ok(Security::token(token)),
        Some(files) => Ok(Security::tls(files, token)?),
    }
}

async fn serve_connection(
    read: conn::ReadHalf,
    mut write: conn::WriteHalf,
    peer: SocketAddr,
    acceptor: &Acceptor,
    events: mpsc::UnboundedSender<Event>,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), ConnError> {
    let mut reader = FrameReader::new(read);
    let hello = conn::accept(&mut reader, &mut write, acceptor).await?;
    let (out, _) = spawn_writer(write, format!("{} {:?} at {peer}", hello.role.name(), hello.name));
    match hello.role {
        Role::Worker => {
            let spec = match reader.message::<WorkerToScheduler>("a register").await? {
                WorkerToScheduler::Register(spec) => spec,
                other => return Err(ConnError::Unexpected(format!("{other:?} before register"))),
            };
            let (reply, id) = oneshot::channel();
            events
                .send(Event::WorkerJoined { spec, out: out.clone(), reply })
                .map_err(|_| ConnError::Closed("the scheduler loop"))?;
            let id = match id.await.map_err(|_| ConnError::Closed("the scheduler loop"))? {
                Ok(id) => id,
                Err(reason) => return Err(ConnError::Refused(reason)),
            };
            let res = read_loop(&mut reader, &mut stopped, |m| events.send(Event::Worker(id, m)).is_ok()).await;
            let _ = events.send(Event::WorkerGone(id));
            res
        }
        _ => {
            let (reply, id) = oneshot::channel();
            events.send(Event::ClientConnected { out, reply }).map_err(|_| ConnError::Closed("the scheduler loop"))?;
            let id = id.await.map_err(|_| ConnError::Closed("the scheduler loop"))?;
            let res = read_loop(&mut reader, &mut stopped, |m| {
                let close = matches!(m, ClientToScheduler::Close);
                events.send(Event::Client(id, m)).is_ok() && !close
            })
            .await;
            let _ = events.send(Event::ClientGone(id));
            res
        }
    }
}

/// Reads messages of type `M` and hands each to `route` until the peer
/// closes, `route` says stop, the server stops, or the protocol breaks.
async fn read_loop<M: Message>(
    reader: &mut FrameReader,
    stopped: &mut watch::Receiver<bool>,
    mut route: impl FnMut(M) -> bool,
) -> Result<(), ConnError> {
    loop {
        let frame = tokio::select! {
            _ = stopped.changed() => return Ok(()),
            f = reader.next() => f?,
        };
        let Some(frame) = frame else { return Ok(()) };
        if !route(M::from_frame(frame)?) {
            return Ok(());
        }
    }
}

/// The loop's [`Comm`]: encodes each message onto its connection.
pub(crate) struct Outboxes {
    workers: FxHashMap<WorkerId, Outbox>,
    pub(crate) clients: FxHashMap<ClientId, Outbox>,
    /// How the loop's helpers (gathers, scatters) reach workers' data ports.
    security: Security,
}

impl Comm for Outboxes {
    fn send_worker(&mut self, worker: WorkerId, msg: ToWorker) {
        if let Some(out) = self.workers.get(&worker) {
            post(out, &SchedulerToWorker::Request(msg), "a worker");
        }
    }
    fn send_client(&mut self, client: ClientId, msg: ToClient) {
        if let Some(out) = self.clients.get(&client) {
            post(out, &SchedulerToClient::KeyState(msg), "a client");
        }
    }
}

/// What the loop reads: connection events, and the HTTP API's queries
/// (their sender is kept, so the channel stays open without an API).
struct LoopIo {
    events: (mpsc::UnboundedSender<Event>, mpsc::UnboundedReceiver<Event>),
    queries: (mpsc::UnboundedSender<crate::http::Query>, mpsc::UnboundedReceiver<crate::http::Query>),
}

async fn run_loop(mut core: Core, io: LoopIo, security: Security, tick: Duration, mut stopped: watch::Receiver<bool>) {
    let LoopIo { events: (me, mut events), queries: (_keep_open, mut asked) } = io;
    let start = Instant::now();
    let mut comm = Outboxes { workers: FxHashMap::default(), clients: FxHashMap::default(), security };
    let mut waits = RetireWaits::default();
    let mut dash = crate::dashboard::Dashboard::default();
    let mut coord = Coordinator::new(&mut core);
    let mut timer = tokio::time::interval(tick);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let ev = tokio::select! {
            _ = stopped.changed() => return,
            due = timer.tick() => {
                dash.tick(due.elapsed());
                reactor::on_tick(&mut core, &mut comm, start.elapsed());
                coord.on_tick(&mut core, &mut comm, start.elapsed());
                dash.sample_memory(start.elapsed(), &core);
                None
            }
            Some((request, reply)) = asked.recv() => {
                if crate::http::is_retire(&request) {
                    match crate::http::retire_request(&request) {
                        Err(message) => {
                            let _ = reply.send(crate::http::Response::error(400, message));
                        }
                        Ok(which) => {
                            let now = start.elapsed();
                            let asked = retire(&mut core, &mut comm, now, &which, &mut waits, Waiter::Http(reply));
                            if let Err((message, Waiter::Http(reply))) = asked {
                                let _ = reply.send(crate::http::Response::error(400, message));
                            }
                        }
                    }
                } else {
                    let view = crate::http::View { core: &core, dash: &dash, uptime: start.elapsed() };
                    let _ = reply.send(crate::http::respond(&view, &request));
                }
                None
            }
            ev = events.recv() => match ev {
                Some(ev) => Some(ev),
                None => return,
            },
        };
        if let Some(ev) = ev {
            let mut state = LoopState { waits: &mut waits, dash: &mut dash, coord: &mut coord };
            on_event(&mut core, &mut comm, &me, start.elapsed(), ev, &mut state);
        }
        settle_retirements(&mut core, &mut comm, &mut waits, &mut dash.workers);
    }
}

/// What the loop keeps besides the core: who waits for retirements, the
/// dashboard's records, and the coordination primitives.
struct LoopState<'a> {
    waits: &'a mut RetireWaits,
    dash: &'a mut crate::dashboard::Dashboard,
    coord: &'a mut Coordinator,
}

/// One connection event.
fn on_event(
    core: &mut Core,
    comm: &mut Outboxes,
    me: &mpsc::UnboundedSender<Event>,
    now: Duration,
    ev: Event,
    state: &mut LoopState<'_>,
) {
    match ev {
        Event::ClientConnected { out, reply } => {
            let id = reactor::on_client_connected(core);
            comm.clients.insert(id, out);
            let _ = reply.send(id);
        }
        Event::Client(id, msg) => on_client_message(core, comm, me, now, id, msg, state),
        Event::ClientGone(id) => {
            comm.clients.remove(&id);
            state.coord.on_client_gone(core, comm, id);
            reactor::on_client_disconnected(core, comm, id);
        }
        Event::WorkerJoined { spec, out, reply } => {
            let (address, name) = (spec.address.clone(), spec.name.clone());
            // The worker's id is known only once it joined: what the
            // core sends it while joining is recorded, then replayed
            // after the registered answer.
            let mut rec = Recorder::default();
            match reactor::on_worker_joined(core, &mut rec, now, spec) {
                Ok(id) => {
                    post(&out, &SchedulerToWorker::Registered { id }, "a worker");
                    comm.workers.insert(id, out);
                    for sent in rec.take() {
                        match sent {
                            Sent::Worker(w, m) => comm.send_worker(w, m),
                            Sent::Client(c, m) => comm.send_client(c, m),
                        }
                    }
                    let _ = reply.send(Ok(id));
                    state.dash.workers.joined(id.0, &name, &address);
                    state.dash.workers.note(id.0, format_args!("joined at {address}"));
                }
                Err(e) => {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
        Event::Worker(id, msg) => on_worker_message(core, comm, now, id, msg, state),
        Event::WorkerGone(id) => {
            comm.workers.remove(&id);
            reactor::on_worker_removed(core, comm, id);
            state.dash.workers.note(id.0, format_args!("left"));
            state.dash.workers.left(id.0);
        }
        Event::Scattered { client, id, worker, data, result } => {
            let result = result.and_then(|()| {
                reactor::on_scattered(core, comm, now, client, worker, &data).map_err(|e| e.to_string())
            });
            let keys: Vec<Key> = data.into_iter().map(|(k, _)| k).collect();
            match result {
                Ok(()) => {
                    if let Some(out) = comm.clients.get(&client) {
                        post(out, &SchedulerToClient::ScatterDone { id, keys }, "a client");
                    }
                }
                Err(message) => {
                    // Whatever the worker stored is not the cluster's.
                    comm.send_worker(worker, ToWorker::FreeKeys(keys));
                    if let Some(out) = comm.clients.get(&client) {
                        post(out, &SchedulerToClient::UpdateRefused { id, message }, "a client");
                    }
                }
            }
        }
    }
}

fn on_client_message(
    core: &mut Core,
    comm: &mut Outboxes,
    me: &mpsc::UnboundedSender<Event>,
    now: Duration,
    id: ClientId,
    msg: ClientToScheduler,
    state: &mut LoopState<'_>,
) {
    let refuse = |comm: &Outboxes, req: u64, message: String| {
        if let Some(out) = comm.clients.get(&id) {
            post(out, &SchedulerToClient::UpdateRefused { id: req, message }, "a client");
        }
    };
    match msg {
        ClientToScheduler::UpdateGraph { id: req, update } => {
            if let Err(e) = reactor::on_update_graph(core, comm, id, update) {
                refuse(comm, req, e.to_string());
            }
        }
        ClientToScheduler::ReleaseKeys(keys) => reactor::on_release_keys(core, comm, id, &keys),
        ClientToScheduler::CancelKeys { keys, force } => reactor::on_cancel_keys(core, comm, id, &keys, force),
        ClientToScheduler::Gather { id: req, keys } => {
            let Some(out) = comm.clients.get(&id).cloned() else { return };
            gather(core, req, keys, out, comm.security.clone());
        }
        ClientToScheduler::Scatter { id: req, data } => {
            if let Err(message) = scatter(core, id, req, data, me.clone(), comm.security.clone()) {
                refuse(comm, req, message);
            }
        }
        ClientToScheduler::Heartbeat => {}
        ClientToScheduler::AdaptiveTarget { id: req, target_duration } => {
            let (workers, to_close) = crate::http::adaptive_target(core, target_duration);
            if let Some(out) = comm.clients.get(&id) {
                let reply = SchedulerToClient::AdaptiveTarget { id: req, workers: workers as u64, to_close };
                post(out, &reply, "a client");
            }
        }
        ClientToScheduler::RetireWorkers { id: req, workers, n } => {
            let which = if workers.is_empty() { Retire::Count(n as usize) } else { Retire::Workers(workers) };
            if let Err((message, _)) = retire(core, comm, now, &which, state.waits, Waiter::Client(id, req)) {
                refuse(comm, req, message);
            }
        }
        ClientToScheduler::Coordinate { id: req, op } => state.coord.on_request(core, comm, now, id, req, op),
        ClientToScheduler::Replicate { id: req, keys, n } => {
            reactor::on_replicate(core, comm, &keys, usize::try_from(n).unwrap_or(usize::MAX));
            if let Some(out) = comm.clients.get(&id) {
                let info = crate::info::answer(core, blockwork_protocol::InfoRequest::WhoHas(keys));
                post(out, &SchedulerToClient::Info { id: req, info }, "a client");
            }
        }
        ClientToScheduler::Rebalance { id: req, keys, workers } => {
            let info = crate::info::rebalance(core, comm, &keys, &workers);
            if let Some(out) = comm.clients.get(&id) {
                post(out, &SchedulerToClient::Info { id: req, info }, "a client");
            }
        }
        ClientToScheduler::Restart { id: req } => {
            state.coord.on_restart(core, comm);
            if let Some(out) = comm.clients.get(&id) {
                let info = crate::info::answer(core, blockwork_protocol::InfoRequest::Scheduler);
                post(out, &SchedulerToClient::Info { id: req, info }, "a client");
            }
        }
        ClientToScheduler::Info { id: req, question } => {
            if let Some(out) = comm.clients.get(&id) {
                let info = crate::info::answer(core, question);
                post(out, &SchedulerToClient::Info { id: req, info }, "a client");
            }
        }
        ClientToScheduler::Close => {
            comm.clients.remove(&id);
            state.coord.on_client_gone(core, comm, id);
            reactor::on_client_disconnected(core, comm, id);
        }
    }
}

fn on_worker_message(
    core: &mut Core,
    comm: &mut Outboxes,
    now: Duration,
    id: WorkerId,
    msg: WorkerToScheduler,
    state: &mut LoopState<'_>,
) {
    match msg {
        WorkerToScheduler::Events(activity) => state.dash.worker_activity(id.0, now, &activity),
        WorkerToScheduler::RetireMe => {
            state.dash.workers.note(id.0, format_args!("asks to retire"));
            state.waits.self_asked.insert(id);
            if let Err(e) = reactor::on_retire_workers(core, comm, now, &[id]) {
                state.dash.workers.note(id.0, format_args!("cannot retire: {e}"));
            }
        }
        WorkerToScheduler::Register(_) => {
            crate::log!(WARN, "scheduler: worker {} registered twice; ignored", id.0);
        }
        WorkerToScheduler::Heartbeat(m) => reactor::on_heartbeat(core, now, id, m),
        WorkerToScheduler::Report(r) => {
            // A copy reported as a result (a worker that had it already)
            // ran nothing: its duration is zero.
            if let ToScheduler::TaskFinished(Finished { key, duration, .. }) = &r {
                if !duration.is_zero() {
                    state.dash.task_finished(key.prefix(), id.0, now, *duration);
                }
            }
            r.deliver(core, comm, now, id)
        }
    }
}

/// Who waits for the end of which retirements.
#[derive(Default)]
struct RetireWaits {
    /// Workers that asked to go (SIGTERM, their lifetime is over): told to
    /// stop however their retirement ends.
    self_asked: FxHashSet<WorkerId>,
    /// Requests waiting for their workers.
    requests: Vec<RetireRequest>,
}

struct RetireRequest {
    pending: FxHashSet<WorkerId>,
    done: Retired,
    waiter: Waiter,
}

/// Where the answer to a retire request goes.
enum Waiter {
    Client(ClientId, u64),
    Http(oneshot::Sender<crate::http::Response>),
}

/// Starts retiring the workers `which` names and registers `waiter` for
/// the outcome; a worker named that is not in the cluster refuses the
/// whole request (the waiter is handed back with why).
fn retire(
    core: &mut Core,
    comm: &mut Outboxes,
    now: Duration,
    which: &Retire,
    waits: &mut RetireWaits,
    waiter: Waiter,
) -> Result<(), (String, Waiter)> {
    let workers: Vec<WorkerId> = match which {
        Retire::Count(n) => core.retirement_candidates(*n),
        Retire::Workers(names) => {
            let infos: Vec<_> = core.worker_ids().into_iter().filter_map(|w| core.worker_info(w)).collect();
            let mut ids = Vec::with_capacity(names.len());
            for name in names {
                match infos.iter().find(|i| i.is_named(name)) {
                    Some(i) => ids.push(i.id),
                    None => {
                        return Err((format!("no worker {name:?} in the cluster (name it by address or name)"), waiter))
                    }
                }
            }
            ids
        }
    };
    if let Err(e) = reactor::on_retire_workers(core, comm, now, &workers) {
        return Err((e.to_string(), waiter));
    }
    let request = RetireRequest { pending: workers.iter().copied().collect(), done: Retired::default(), waiter };
    waits.requests.push(request);
    Ok(())
}

/// Acts on the retirements that ended: a retired worker (or one that
/// asked to go) is told to stop and its connection closed; waiting
/// requests whose workers are all done are answered.
fn settle_retirements(
    core: &mut Core,
    comm: &mut Outboxes,
    waits: &mut RetireWaits,
    pages: &mut crate::worker_pages::WorkerPages,
) {
    loop {
        let ended = core.take_retirements();
        if ended.is_empty() {
            break;
        }
        for r in ended {
            let asked_itself = waits.self_asked.remove(&r.worker);
            let reason = match &r.outcome {
                Ok(()) => "retired: its results moved to other workers".to_string(),
                Err(why) if asked_itself => {
                    format!("not retired gracefully ({why}); stopping as asked, its results will be recomputed")
                }
                Err(why) => format!("not retired: {why}"),
            };
            pages.note(r.worker.0, format_args!("{reason}"));
            if r.outcome.is_ok() || asked_itself {
                if let Some(out) = comm.workers.remove(&r.worker) {
                    post(&out, &SchedulerToWorker::Close { reason }, "a worker");
                }
                // Already removed when retired; else it goes now.
                reactor::on_worker_removed(core, comm, r.worker);
            }
            for req in &mut waits.requests {
                if req.pending.remove(&r.worker) {
                    match &r.outcome {
                        Ok(()) => req.done.retired.push(r.address.to_string()),
                        Err(why) => req.done.refused.push((r.address.to_string(), why.clone())),
                    }
                }
            }
        }
    }
    let (done, waiting): (Vec<_>, Vec<_>) =
        std::mem::take(&mut waits.requests).into_iter().partition(|r| r.pending.is_empty());
    waits.requests = waiting;
    for r in done {
        match r.waiter {
            Waiter::Client(c, id) => {
                if let Some(out) = comm.clients.get(&c) {
                    let msg = SchedulerToClient::Retired { id, retired: r.done.retired, refused: r.done.refused };
                    post(out, &msg, "a client");
                }
            }
            Waiter::Http(reply) => {
                let _ = reply.send(crate::http::retired_response(&r.done));
            }
        }
    }
}

/// Stores a client's scattered values on the worker holding the fewest
/// bytes, off the loop: the worker's answer comes back as
/// [`Event::Scattered`], and only then does the core learn of the keys.
fn scatter(
    core: &Core,
    client: ClientId,
    id: u64,
    data: Vec<(Key, Value)>,
    events: mpsc::UnboundedSender<Event>,
    security: Security,
) -> Result<(), String> {
    for (key, _) in &data {
        core.check_scatter(key).map_err(|e| e.to_string())?;
    }
    let worker = core.scatter_target().ok_or("no worker in the cluster to scatter to")?;
    let address = core.worker_info(worker).ok_or("no worker in the cluster to scatter to")?.address;
    let sizes: Vec<(Key, u64)> = data.iter().map(|(k, v)| (k.clone(), v.nbytes() as u64)).collect();
    tokio::spawn(async move {
        let result = match conn::ask(&address, &PeerMessage::PutData { data }, Role::Scheduler, &security).await {
            Ok(PeerMessage::Stored { .. }) => Ok(()),
            Ok(other) => Err(format!("worker at {address} answered a scatter with {other:?}")),
            Err(e) => Err(format!("storing the scattered values on the worker at {address} failed: {e}")),
        };
        let _ = events.send(Event::Scattered { client, id, worker, data: sizes, result });
    });
    Ok(())
}

/// Serves a client's gather off the loop: asks each holder's data port
/// for its share of the keys and answers with what came back.
fn gather(core: &Core, id: u64, keys: Vec<Key>, out: Outbox, security: Security) {
    let mut by_address: FxHashMap<Arc<str>, Vec<Key>> = FxHashMap::default();
    let mut missing = Vec::new();
    for key in keys {
        let holder = core.who_has(&key).and_then(|ws| ws.iter().find_map(|&w| core.worker_info(w)));
        match holder {
            Some(info) => by_address.entry(info.address).or_default().push(key),
            None => missing.push(key),
        }
    }
    tokio::spawn(async move {
        let mut data: Vec<(Key, Value)> = Vec::new();
        for (address, keys) in by_address {
            match fetch_from(&address, &keys, None, &security).await {
                Ok(PeerMessage::Data { data: d, missing: m }) => {
                    data.extend(d);
                    missing.extend(m);
                }
                Ok(_) => missing.extend(keys),
                Err(e) => {
                    crate::log!(WARN, "scheduler: gathering from {address} failed: {e}");
                    missing.extend(keys);
                }
            }
        }
        post(&out, &SchedulerToClient::GatherReply { id, data, missing }, "a client");
    });
}

/// Asks the data port at `address` for `keys` (as the scheduler when
/// `requester` is `None`, else as that worker) and returns its answer.
pub(crate) async fn fetch_from(
    address: &str,
    keys: &[Key],
    requester: Option<WorkerId>,
    security: &Security,
) -> Result<PeerMessage, ConnError> {
    let role = if requester.is_some() { Role::Worker } else { Role::Scheduler };
    conn::ask(address, &PeerMessage::GetData { keys: keys.to_vec(), requester }, role, security).await
}
