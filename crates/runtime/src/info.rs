//! Answers to a client's questions about the cluster's state (Dask's
//! `who_has`, `has_what`, `scheduler_info`), read from the core.

use blockwork_graph::{ErrorKind, Key};

use crate::ConnError;
use blockwork_protocol::{ClusterInfo, InfoRequest, SchedulerInfo};
use blockwork_scheduler::{Core, WorkerId, WorkerInfo};

/// The answer to `question`. Workers are named by address; one asked for
/// by address or name that is not in the cluster is left out.
pub(crate) fn answer(core: &Core, question: InfoRequest) -> ClusterInfo {
    let infos: Vec<WorkerInfo> = core.worker_ids().into_iter().filter_map(|w| core.worker_info(w)).collect();
    let address = |w: &WorkerId| infos.iter().find(|i| i.id == *w).map(|i| i.address.to_string());
    match question {
        InfoRequest::WhoHas(keys) => {
            // None named: every key in memory, in order.
            let keys = if keys.is_empty() {
                let all: std::collections::BTreeSet<Key> = infos.iter().flat_map(|i| core.keys_held(i.id)).collect();
                all.into_iter().collect()
            } else {
                keys
            };
            let holders = keys
                .into_iter()
                .map(|k| {
                    let ws = core.who_has(&k).unwrap_or(&[]).iter().filter_map(address).collect();
                    (k, ws)
                })
                .collect();
            ClusterInfo::WhoHas(holders)
        }
        InfoRequest::HasWhat(names) => {
            let wanted = |i: &WorkerInfo| names.is_empty() || names.iter().any(|n| i.is_named(n));
            ClusterInfo::HasWhat(
                infos.iter().filter(|i| wanted(i)).map(|i| (i.address.to_string(), core.keys_held(i.id))).collect(),
            )
        }
        InfoRequest::Scheduler => ClusterInfo::Scheduler(SchedulerInfo {
            tasks: core.num_tasks() as u64,
            clients: core.num_clients() as u64,
            workers: infos,
        }),
    }
}

/// A worker's address and what a function run there returned.
pub type RunResult = (String, Result<blockwork_graph::Value, crate::ClientError>);

/// Starts a rebalance of `keys` (none: any) among `workers` (by address
/// or name; none: all) and names the moves started.
pub(crate) fn rebalance(
    core: &mut Core,
    comm: &mut impl blockwork_scheduler::Comm,
    keys: &[Key],
    workers: &[String],
) -> ClusterInfo {
    let ids: Vec<WorkerId> = core
        .worker_ids()
        .into_iter()
        .filter(|&w| core.worker_info(w).is_some_and(|i| workers.iter().any(|n| i.is_named(n))))
        .collect();
    let keys = (!keys.is_empty()).then_some(keys);
    let workers = (!workers.is_empty()).then_some(ids.as_slice());
    let moves = blockwork_scheduler::reactor::on_rebalance(core, comm, keys, workers);
    ClusterInfo::Moves(moves.into_iter().map(|m| (m.key, m.from.to_string(), m.to.to_string())).collect())
}

impl crate::Client {
    /// Sends the request `make(id)` and waits (at most a minute) for the
    /// scheduler's answer about the cluster.
    fn ask(
        &self,
        make: impl FnOnce(u64) -> blockwork_protocol::ClientToScheduler,
        what: &str,
    ) -> Result<ClusterInfo, crate::ClientError> {
        let inner = &self.inner;
        let id = inner.tracker.next_id();
        crate::conn::post(&inner.out, &make(id), "the scheduler");
        let deadline = Some(std::time::Instant::now() + std::time::Duration::from_secs(60));
        match inner.tracker.wait_reply(id, deadline).map_err(|e| inner.closed(e))? {
            Some(crate::tracker::Reply::Info(info)) => Ok(info),
            Some(_) => Err(crate::ClientError::Refused(format!("the scheduler answered {what} with something else"))),
            None => {
                inner.tracker.drop_reply(id);
                Err(crate::ClientError::Timeout(format!("the scheduler's answer to {what}")))
            }
        }
    }

    fn info(&self, question: InfoRequest) -> Result<ClusterInfo, crate::ClientError> {
        self.ask(|id| blockwork_protocol::ClientToScheduler::Info { id, question }, "a question")
    }

    /// The addresses of the workers holding each of `keys`, in order
    /// (none: not in memory); with no keys, every key in memory (Dask's
    /// `Client.who_has`).
    pub fn who_has(&self, keys: &[Key]) -> Result<Vec<(Key, Vec<String>)>, crate::ClientError> {
        match self.info(InfoRequest::WhoHas(keys.to_vec()))? {
            ClusterInfo::WhoHas(h) => Ok(h),
            other => Err(crate::ClientError::Refused(format!("who_has was answered with {other:?}"))),
        }
    }

    /// The keys each of `workers` (by address or name) holds, by address;
    /// with none named, every worker (Dask's `Client.has_what`).
    pub fn has_what(&self, workers: &[String]) -> Result<Vec<(String, Vec<Key>)>, crate::ClientError> {
        match self.info(InfoRequest::HasWhat(workers.to_vec()))? {
            ClusterInfo::HasWhat(h) => Ok(h),
            other => Err(crate::ClientError::Refused(format!("has_what was answered with {other:?}"))),
        }
    }

    /// Copies the results of `futures` onto `n` running workers (every
    /// worker when `None`, or when there are fewer), as Dask's
    /// `Client.replicate`: waits for the futures, asks the scheduler, and
    /// returns once every result is on that many workers; at most
    /// `timeout` in all. Workers holding the fewest bytes take the copies.
    pub fn replicate(
        &self,
        futures: &[crate::Future],
        n: Option<usize>,
        timeout: std::time::Duration,
    ) -> Result<(), crate::ClientError> {
        let deadline = std::time::Instant::now() + timeout;
        let (_, pending) = self.wait(futures, Some(timeout))?;
        if let Some(f) = pending.first() {
            return Err(crate::ClientError::Timeout(format!("{} to finish before replicating it", f.key())));
        }
        if let Some(e) = futures.iter().find_map(|f| f.error()) {
            return Err(e);
        }
        let workers = self.scheduler_info()?.workers.iter().filter(|w| !w.retiring).count();
        let want = n.unwrap_or(workers).min(workers);
        let keys: Vec<Key> = futures.iter().map(|f| f.key().clone()).collect();
        let ask = |id| blockwork_protocol::ClientToScheduler::Replicate { id, keys: keys.clone(), n: want as u64 };
        match self.ask(ask, "a replicate")? {
            ClusterInfo::WhoHas(holders) => {
                if let Some((k, _)) = holders.iter().find(|(_, ws)| ws.is_empty()) {
                    return Err(crate::ClientError::Lost(k.clone()));
                }
            }
            other => return Err(crate::ClientError::Refused(format!("replicate was answered with {other:?}"))),
        }
        loop {
            let holders = self.who_has(&keys)?;
            if holders.iter().all(|(_, ws)| ws.len() >= want) {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                let (k, ws) = holders.iter().find(|(_, ws)| ws.len() < want).expect("one short");
                return Err(crate::ClientError::Timeout(format!("{k} on {} of {want} workers", ws.len())));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Runs `f(args…)` once on every running worker (Dask's
    /// `Client.run`): the client asks each worker's data port directly,
    /// and the worker calls the function at once on a thread of its own
    /// beside its task threads (a busy worker answers too). Returns each
    /// worker's address with its result, in the order of
    /// `scheduler_info`.
    pub fn run(
        &self,
        f: &'static blockwork_graph::NamedFn,
        args: Vec<blockwork_graph::Value>,
    ) -> Result<Vec<RunResult>, crate::ClientError> {
        self.run_on(f, blockwork_graph::Value::Unit, args, &[])
    }

    /// [`Client::run`] with the function's parameters, on the running
    /// workers `workers` names (addresses or names; every running worker
    /// when empty). Naming none that runs is an error.
    pub fn run_on(
        &self,
        f: &'static blockwork_graph::NamedFn,
        params: blockwork_graph::Value,
        args: Vec<blockwork_graph::Value>,
        workers: &[String],
    ) -> Result<Vec<RunResult>, crate::ClientError> {
        use blockwork_protocol::{PeerMessage, Role};
        let info = self.scheduler_info()?;
        let chosen: Vec<String> = info
            .workers
            .iter()
            .filter(|w| !w.retiring && (workers.is_empty() || workers.iter().any(|n| w.is_named(n))))
            .map(|w| w.address.to_string())
            .collect();
        if chosen.is_empty() && !workers.is_empty() {
            return Err(crate::ClientError::NoWorker(format!("run: no running worker among {workers:?}")));
        }
        if crate::error::in_async_runtime() {
            return Err(crate::ClientError::InAsync("Client::run"));
        }
        let rt =
            self.inner.rt.as_ref().ok_or_else(|| crate::ClientError::NoWorker("run: the client is closed".into()))?;
        let msg = PeerMessage::Run { function: f.name.to_string(), params, args };
        let security = &self.inner.security;
        let answers = rt.block_on(async {
            // Every worker asked at once; the answers taken in order.
            let asks: Vec<_> = chosen
                .iter()
                .map(|address| {
                    let (address, msg, security) = (address.clone(), msg.clone(), security.clone());
                    tokio::spawn(async move { crate::conn::ask(&address, &msg, Role::Client, &security).await })
                })
                .collect();
            let mut out = Vec::with_capacity(asks.len());
            for ask in asks {
                out.push(
                    ask.await.unwrap_or_else(|e| Err(ConnError::Unexpected(format!("the run request stopped: {e}")))),
                );
            }
            out
        });
        let key = Key::new(format!("run-{}", f.name));
        Ok(chosen
            .into_iter()
            .zip(answers)
            .map(|(address, answer)| {
                let result = match answer {
                    Ok(PeerMessage::Ran { result }) => result.map_err(|message| crate::ClientError::Task {
                        key: key.clone(),
                        message,
                        kind: ErrorKind::User,
                    }),
                    Ok(other) => Err(crate::ClientError::Worker {
                        addr: address.clone(),
                        message: format!("answered run with {other:?}"),
                    }),
                    Err(source) => {
                        Err(crate::ClientError::Worker { addr: address.clone(), message: source.to_string() })
                    }
                };
                (address, result)
            })
            .collect())
    }

    /// Moves results so the running workers hold about equal bytes, as
    /// Dask's `Client.rebalance`: from the fullest worker, results only it
    /// holds go to the emptiest until each is within a tenth of the mean;
    /// only `keys` (none: any) among `workers` (by address or name; none:
    /// all). Returns the moves (key, from, to) once each is done, at most
    /// `timeout`.
    pub fn rebalance(
        &self,
        keys: &[Key],
        workers: &[String],
        timeout: std::time::Duration,
    ) -> Result<Vec<(Key, String, String)>, crate::ClientError> {
        let deadline = std::time::Instant::now() + timeout;
        let ask = |id| blockwork_protocol::ClientToScheduler::Rebalance {
            id,
            keys: keys.to_vec(),
            workers: workers.to_vec(),
        };
        let moves = match self.ask(ask, "a rebalance")? {
            ClusterInfo::Moves(m) => m,
            other => return Err(crate::ClientError::Refused(format!("rebalance was answered with {other:?}"))),
        };
        let moved: Vec<Key> = moves.iter().map(|(k, _, _)| k.clone()).collect();
        loop {
            let holders = self.who_has(&moved)?;
            // Done when the copy is on its new worker and gone from the old
            // one, or the result is gone altogether (nobody wanted it).
            let pending = moves
                .iter()
                .zip(&holders)
                .find(|((_, from, to), (_, ws))| !ws.is_empty() && (!ws.contains(to) || ws.contains(from)));
            match pending {
                None => return Ok(moves),
                Some(((k, from, to), _)) if std::time::Instant::now() >= deadline => {
                    return Err(crate::ClientError::Timeout(format!("moving {k} from {from} to {to}")));
                }
                Some(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
    }

    /// Resets the cluster (Dask's `Client.restart`, without restarting the
    /// worker processes): every client's futures are cancelled, running
    /// tasks stop and every result is freed; futures held by variables,
    /// queues and published datasets are let go. Workers and clients stay
    /// connected; returns the scheduler's figures after.
    pub fn restart(&self) -> Result<SchedulerInfo, crate::ClientError> {
        match self.ask(|id| blockwork_protocol::ClientToScheduler::Restart { id }, "a restart")? {
            ClusterInfo::Scheduler(s) => Ok(s),
            other => Err(crate::ClientError::Refused(format!("restart was answered with {other:?}"))),
        }
    }

    /// The scheduler's figures and every worker's (Dask's
    /// `Client.scheduler_info`).
    pub fn scheduler_info(&self) -> Result<SchedulerInfo, crate::ClientError> {
        match self.info(InfoRequest::Scheduler)? {
            ClusterInfo::Scheduler(s) => Ok(s),
            other => Err(crate::ClientError::Refused(format!("scheduler_info was answered with {other:?}"))),
        }
    }
}
