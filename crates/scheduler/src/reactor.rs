//! The events: every way the world can change the scheduler.
//!
//! Each function takes the [`Core`], the output port and, where time
//! matters, `now` (time since the scheduler started, from whatever clock
//! the caller runs on: the runtime's monotonic clock, or a simulation's
//! virtual one). Each leaves the core consistent
//! ([`Core::sanity_check`] passes) and has sent everything the event
//! implies before returning.
//!
//! Messages from workers may be stale: a worker may report on a task the
//! scheduler has since released, moved or given to another worker, and a
//! removed worker's last messages may still arrive. They are never
//! errors: a report from a removed worker is ignored, a result nobody
//! needs is freed on the worker that has it, and an answer that no longer
//! matches the task's state is dropped.

use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::{ErrorKind, Key};
use rustc_hash::FxHashSet;

use crate::client::Client;
use crate::comm::{Comm, ToClient, ToWorker};
use crate::core::Core;
use crate::error::SchedError;
use crate::ids::{ClientId, StealId, TaskId, WorkerId};
use crate::resources::{self, ResourceVec};
use crate::stealing::StealOutcome;
use crate::task::{FailureKind, TaskFailure, TaskState};
use crate::update::GraphUpdate;
use crate::worker::{MemoryReport, Worker, WorkerSpec};

// ---- clients ---------------------------------------------------------

/// A client connected; returns its id.
pub fn on_client_connected(core: &mut Core) -> ClientId {
    core.clients.push(Some(Client::default()));
    ClientId(core.clients.len() as u32 - 1)
}

/// A client disconnected: it wants nothing any more, and what nobody else
/// wants is released and forgotten.
pub fn on_client_disconnected(core: &mut Core, comm: &mut impl Comm, client: ClientId) {
    let Some(cl) = core.clients.get_mut(client.idx()).and_then(Option::take) else { return };
    for t in cl.wants {
        core.tm(t).who_wants.retain(|c| *c != client);
        core.dirty.push(t);
    }
    core.process(comm);
}

/// A client submits tasks and wants some keys. Known keys are shared, not
/// recomputed; wanted keys already in memory (or erred) are reported at
/// once. On error nothing changes.
pub fn on_update_graph(
    core: &mut Core,
    comm: &mut impl Comm,
    client: ClientId,
    update: GraphUpdate,
) -> Result<(), SchedError> {
    core.update_graph(client, update, comm)?;
    core.process(comm);
    Ok(())
}

/// `worker` stored values a client scattered: `data` (key, size) is in
/// memory there and wanted by `client`. Refused, changing nothing, if a
/// key is known and not in memory (see [`Core::check_scatter`]) or the
/// client or worker is gone.
pub fn on_scattered(
    core: &mut Core,
    comm: &mut impl Comm,
    now: Duration,
    client: ClientId,
    worker: WorkerId,
    data: &[(Key, u64)],
) -> Result<(), SchedError> {
    if !seen(core, worker, now) {
        return Err(SchedError::UnknownWorker(worker));
    }
    core.scattered(client, worker, data, comm)?;
    core.process(comm);
    Ok(())
}

/// `client` wants `keys` the scheduler already knows — a future another
/// client handed over (through a variable or a queue of [`crate::Coord`])
/// — and hears at once of those in memory or erred. Returns the keys it
/// does not know (nothing is done for them, nor for a client that left).
pub fn on_want_keys(core: &mut Core, comm: &mut impl Comm, client: ClientId, keys: &[Key]) -> Vec<Key> {
    if core.clients.get(client.idx()).is_none_or(Option::is_none) {
        return keys.to_vec();
    }
    let mut unknown = Vec::new();
    for key in keys {
        match core.id_of(key) {
            Some(t) => core.want(client, t, comm),
            None => unknown.push(key.clone()),
        }
    }
    core.process(comm);
    unknown
}

/// Copies of `keys` are wanted on `n` running workers (Dask's
/// `replicate`): workers holding the fewest bytes fetch them from a
/// holder. Returns the keys not in memory.
pub fn on_replicate(core: &mut Core, comm: &mut impl Comm, keys: &[Key], n: usize) -> Vec<Key> {
    core.replicate(keys, n, comm)
}

/// Every client's keys are cancelled, as Dask's `restart` resets the
/// cluster's state: each client hears [`ToClient::KeyCancelled`] for each
/// key it wanted, running tasks stop and every result is freed. The
/// workers stay (their processes are not restarted) and the clients stay
/// connected.
pub fn on_restart(core: &mut Core, comm: &mut impl Comm) {
    let clients: Vec<(ClientId, Vec<Key>)> = core
        .clients
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            c.as_ref().map(|c| (ClientId(i as u32), c.wants.iter().map(|&t| core.t(t).key.clone()).collect()))
        })
        .collect();
    for (c, keys) in clients {
        on_cancel_keys(core, comm, c, &keys, true);
    }
}

/// Results move so the running workers hold about equal bytes (Dask's
/// `rebalance`; see `Core::rebalance`): only `keys`, only among
/// `workers`, when given. Returns the moves started.
pub fn on_rebalance(
    core: &mut Core,
    comm: &mut impl Comm,
    keys: Option<&[Key]>,
    workers: Option<&[WorkerId]>,
) -> Vec<crate::Move> {
    core.rebalance(keys, workers, comm)
}

/// A client no longer wants `keys` (unknown keys are ignored).
pub fn on_release_keys(core: &mut Core, comm: &mut impl Comm, client: ClientId, keys: &[Key]) {
    for key in keys {
        if let Some(t) = core.id_of(key) {
            unwant(core, client, t);
        }
    }
    core.process(comm);
}

/// A client cancels `keys`: as in Dask, a key only this client wants (or
/// any key, with `force`) is cancelled with its wanted dependents, for
/// every client that wanted them (with `force`) or just this one. Each
/// client losing a key hears [`ToClient::KeyCancelled`]; what nobody
/// wants any more stops running and is forgotten.
pub fn on_cancel_keys(core: &mut Core, comm: &mut impl Comm, client: ClientId, keys: &[Key], force: bool) {
    let mut stack: Vec<TaskId> = keys.iter().filter_map(|k| core.id_of(k)).collect();
    let mut seen: FxHashSet<TaskId> = FxHashSet::default();
    while let Some(t) = stack.pop() {
        if !seen.insert(t) {
            continue;
        }
        let task = core.t(t);
        let only_mine = task.who_wants.as_slice() == [client];
        if force || only_mine {
            stack.extend(task.dependents.iter().copied());
        }
        let losers: Vec<ClientId> = if force {
            task.who_wants.to_vec()
        } else {
            task.who_wants.iter().copied().filter(|&c| c == client).collect()
        };
        let key = task.key.clone();
        for c in losers {
            unwant(core, c, t);
            comm.send_client(c, ToClient::KeyCancelled(key.clone()));
        }
    }
    core.process(comm);
}

fn unwant(core: &mut Core, client: ClientId, t: TaskId) {
    if let Some(cl) = core.clients.get_mut(client.idx()).and_then(Option::as_mut) {
        if cl.wants.remove(&t) {
            core.tm(t).who_wants.retain(|c| *c != client);
            core.dirty.push(t);
        }
    }
}

// ---- workers ---------------------------------------------------------

/// A worker joined; returns its id. Queued and no-worker tasks that can
/// run on it are sent to it.
pub fn on_worker_joined(
    core: &mut Core,
    comm: &mut impl Comm,
    now: Duration,
    spec: WorkerSpec,
) -> Result<WorkerId, SchedError> {
    if spec.nthreads == 0 {
        return Err(SchedError::NoThreads(spec.address.to_string()));
    }
    let req = core.resource_names.request(&|| spec.address.to_string(), &spec.resources)?;
    let mut total = ResourceVec::new();
    resources::apply(&mut total, &req, true);
    let w = WorkerId(core.workers.len() as u32);
    core.workers.push(Some(Worker::new(&spec, total, now)));
    core.total_nthreads += u64::from(spec.nthreads);
    core.retry_no_worker = true;
    core.process(comm);
    Ok(w)
}

/// A worker is alive and reports its memory.
pub fn on_heartbeat(core: &mut Core, now: Duration, worker: WorkerId, memory: MemoryReport) {
    if let Some(wk) = core.worker_mut(worker) {
        wk.last_seen = now;
        wk.memory = memory;
    }
}

/// A worker removed (disconnected, or closed by the runtime).
pub fn on_worker_removed(core: &mut Core, comm: &mut impl Comm, worker: WorkerId) {
    core.remove_worker(worker, comm);
    core.process(comm);
}

/// Retires `workers` gracefully (`retire.rs`): they get no new task, the
/// results only they hold are copied to other workers, then they are
/// removed; [`Core::take_retirements`] tells how each ended. An unknown
/// worker is an error and nothing changes.
pub fn on_retire_workers(
    core: &mut Core,
    comm: &mut impl Comm,
    now: Duration,
    workers: &[WorkerId],
) -> Result<(), SchedError> {
    core.retire(workers, now, comm)?;
    core.process(comm);
    Ok(())
}

/// Moves retirements on after an event that may have copied or made
/// results on a retiring worker.
fn advance_retirements(core: &mut Core, comm: &mut impl Comm, now: Duration) {
    if core.any_retiring() {
        core.advance_retirements(now, comm);
        core.process(comm);
    }
}

/// Whether `worker` is running; marks it seen at `now` if so.
fn seen(core: &mut Core, worker: WorkerId, now: Duration) -> bool {
    match core.worker_mut(worker) {
        Some(wk) => {
            wk.last_seen = now;
            true
        }
        None => false,
    }
}

/// A worker computed `key`: its result is `nbytes` large and took
/// `duration`. Dependents whose inputs are now all in memory are placed;
/// inputs nothing else waits for are freed.
pub fn on_task_finished(
    core: &mut Core,
    comm: &mut impl Comm,
    now: Duration,
    worker: WorkerId,
    key: &Key,
    nbytes: u64,
    duration: Duration,
) {
    if !seen(core, worker, now) {
        return;
    }
    let Some(t) = core.id_of(key) else {
        comm.send_worker(worker, ToWorker::FreeKeys(vec![key.clone()]));
        return;
    };
    match core.t(t).state {
        TaskState::Processing(_) => {
            let prefix = core.t(t).prefix;
            core.durations.record(prefix, duration.as_micros() as u64);
            core.store_result(t, worker, nbytes, comm);
        }
        TaskState::Memory { .. } => core.add_copy(t, worker),
        _ => comm.send_worker(worker, ToWorker::FreeKeys(vec![key.clone()])),
    }
    core.process(comm);
    advance_retirements(core, comm, now);
}

/// The error a worker reported for a task.
#[derive(Clone, Copy, Debug)]
pub struct Raised<'a> {
    /// The task fused into the erred one that failed, if not the task itself.
    pub origin: Option<&'a Key>,
    /// What the worker said.
    pub message: &'a str,
    /// Whose fault it is.
    pub fault: ErrorKind,
}

/// A task raised an error on a worker. With retries left it is
/// rescheduled; otherwise it and every dependent waiting for it are
/// erred, and the clients wanting them are told which key failed:
/// `origin`, when the error happened in a task fused into `key`.
pub fn on_task_erred(
    core: &mut Core,
    comm: &mut impl Comm,
    now: Duration,
    worker: WorkerId,
    key: &Key,
    raised: Raised<'_>,
) {
    let Raised { origin, message, fault } = raised;
    if !seen(core, worker, now) {
        return;
    }
    let Some(t) = core.id_of(key) else { return };
    if !matches!(core.t(t).state, TaskState::Processing(p) if p.worker == worker) {
        return;
    }
    let task = core.tm(t);
    if task.retries > 0 {
        task.retries -= 1;
        core.demote(t, false, comm);
    } else {
        let key = origin.unwrap_or(key).clone();
        let failure = Arc::new(TaskFailure { key, message: message.into(), kind: FailureKind::Error, fault });
        core.fail(t, failure, comm);
    }
    core.process(comm);
}

/// A worker holds copies of `keys` it fetched. Copies of results in
/// memory become replicas; a copy of a task processing on that same
/// worker is left alone (the worker answers the compute with it); any
/// other is freed on it.
pub fn on_worker_has_keys(core: &mut Core, comm: &mut impl Comm, now: Duration, worker: WorkerId, keys: &[Key]) {
    if !seen(core, worker, now) {
        return;
    }
    let mut free = Vec::new();
    for key in keys {
        match core.id_of(key) {
            Some(t) => match core.t(t).state {
                TaskState::Memory { .. } => {
                    core.add_copy(t, worker);
                    core.finish_move(t, worker, comm);
                }
                // The result was lost and is being recomputed on the very
                // worker that fetched a copy before. The `Compute` went out
                // first, so the worker answers it with `TaskFinished` from
                // that copy, before it reads anything sent now: a free
                // would land after that report and drop the result the
                // scheduler has just recorded there.
                TaskState::Processing(p) if p.worker == worker => {}
                _ => free.push(key.clone()),
            },
            None => free.push(key.clone()),
        }
    }
    if !free.is_empty() {
        comm.send_worker(worker, ToWorker::FreeKeys(free));
    }
    core.process(comm);
    advance_retirements(core, comm, now);
}

/// A worker lost results it held (evicted, corrupted spill file). Results
/// left with no copy are recomputed if needed.
pub fn on_worker_lost_keys(core: &mut Core, comm: &mut impl Comm, now: Duration, worker: WorkerId, keys: &[Key]) {
    if !seen(core, worker, now) {
        return;
    }
    for key in keys {
        if let Some(t) = core.id_of(key) {
            core.drop_replica(t, worker, comm);
        }
    }
    core.process(comm);
}

/// A worker could not fetch `dep` from `holder` to run `key`, and gave
/// `key` up. `holder` is taken off `dep`'s holders and `key` rescheduled.
pub fn on_fetch_failed(
    core: &mut Core,
    comm: &mut impl Comm,
    now: Duration,
    worker: WorkerId,
    key: &Key,
    dep: &Key,
    holder: WorkerId,
) {
    if !seen(core, worker, now) {
        return;
    }
    let (t, d) = (core.id_of(key), core.id_of(dep));
    core.fetch_failed(worker, t, d, holder, comm);
    core.process(comm);
}

/// A victim answers steal request `id` for `key`.
pub fn on_steal_response(
    core: &mut Core,
    comm: &mut impl Comm,
    now: Duration,
    worker: WorkerId,
    key: &Key,
    id: StealId,
    outcome: StealOutcome,
) {
    if !seen(core, worker, now) {
        return;
    }
    if let Some(t) = core.id_of(key) {
        core.steal_answered(worker, t, id, outcome, comm);
    }
    core.process(comm);
}

/// Time passes: removes workers silent past the heartbeat timeout, asks
/// again for copies a retirement waits on too long and, every stealing
/// interval, rebalances work.
pub fn on_tick(core: &mut Core, comm: &mut impl Comm, now: Duration) {
    core.check_heartbeats(now, comm);
    core.process(comm);
    advance_retirements(core, comm, now);
    if let Some(every) = core.config.stealing_interval {
        if now >= core.last_balance + every {
            core.last_balance = now;
            core.balance(comm);
            core.process(comm);
        }
    }
}
