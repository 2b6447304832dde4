//! What a client knows of the keys it wants: the scheduler's reports,
//! folded into one table that every future and blocking call reads.
//!
//! ```text
//!  reader task ── SchedulerToClient ──▶ Tracker::on_message ──▶ table, replies
//!                                                             └─▶ notify waiters
//!  user threads ── wait_done / wait_reply (Condvar, with a deadline) ──┘
//! ```
//!
//! The table is reference counted: each [`Future`](crate::Future) (and
//! each computation in flight) holds its key once; when the last holder
//! lets go the key is dropped from the table and the caller tells the
//! scheduler to release it. Requests (updates, gathers, scatters) carry a
//! number; their answers are filed under it until their caller takes them.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use blockwork_graph::{Key, Value};
use blockwork_protocol::{ClusterInfo, SchedulerToClient};
use blockwork_scheduler::{CoordReply, Held, TaskFailure, ToClient};
use rustc_hash::FxHashMap;

use crate::error::ClientError;

/// Where a wanted key stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Not computed yet (or being recomputed after its result was lost).
    Pending,
    /// Its result is in the cluster's memory.
    Finished,
    /// It failed, or an input of it did.
    Erred(Arc<TaskFailure>),
    /// It was cancelled.
    Cancelled,
    /// The scheduler refused the update that asked for it.
    Refused(String),
}

impl Status {
    /// Whether the key will not change any more by itself (a finished key
    /// may still be lost and recomputed).
    pub fn is_done(&self) -> bool {
        !matches!(self, Status::Pending)
    }

    /// The error of a key that will never give a value.
    pub(crate) fn error(&self, key: &Key) -> Option<ClientError> {
        match self {
            Status::Erred(f) => {
                Some(ClientError::Task { key: f.key.clone(), message: f.message.to_string(), kind: f.fault })
            }
            Status::Cancelled => Some(ClientError::Cancelled(key.clone())),
            Status::Refused(m) => Some(ClientError::Refused(m.clone())),
            Status::Pending | Status::Finished => None,
        }
    }
}

struct Entry {
    status: Status,
    refs: usize,
    /// The last update that asked for it (a refusal of that update errs it).
    update: u64,
}

/// How a retire-workers request ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Retired {
    /// Addresses of the workers retired: their results moved, they left.
    pub retired: Vec<String>,
    /// Workers not retired, with why (they run on).
    pub refused: Vec<(String, String)>,
}

/// An answer to a numbered request.
pub(crate) enum Reply {
    Gather { data: Vec<(Key, Value)>, missing: Vec<Key> },
    Scattered,
    Refused(String),
    AdaptiveTarget { workers: u64, to_close: Vec<String> },
    Retired(Retired),
    Coordinated(CoordReply),
    Info(ClusterInfo),
}

impl Table {
    fn done(&self, keys: &[Key]) -> Vec<usize> {
        (0..keys.len()).filter(|&i| self.keys.get(&keys[i]).is_none_or(|e| e.status.is_done())).collect()
    }
}

#[derive(Default)]
struct Table {
    keys: FxHashMap<Key, Entry>,
    replies: FxHashMap<u64, Reply>,
    next_id: u64,
    /// Why the connection ended, once it has.
    closed: Option<String>,
}

/// The shared table and the condition its waiters sleep on.
#[derive(Default)]
pub(crate) struct Tracker {
    table: Mutex<Table>,
    changed: Condvar,
}

impl Tracker {
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh request number.
    pub(crate) fn next_id(&self) -> u64 {
        let mut t = self.lock();
        t.next_id += 1;
        t.next_id
    }

    /// Holds each of `keys` once more, as wanted by `update` (new keys
    /// start pending).
    pub(crate) fn retain(&self, keys: &[Key], update: Option<u64>) {
        let mut t = self.lock();
        for k in keys {
            let e = t.keys.entry(k.clone()).or_insert(Entry { status: Status::Pending, refs: 0, update: 0 });
            e.refs += 1;
            if let Some(u) = update {
                e.update = u;
                if matches!(e.status, Status::Refused(_) | Status::Cancelled) {
                    e.status = Status::Pending;
                }
            }
        }
    }

    /// Lets go of each of `keys` once; returns those nobody holds any more
    /// (to be released at the scheduler).
    pub(crate) fn release(&self, keys: &[Key]) -> Vec<Key> {
        let mut t = self.lock();
        let mut gone = Vec::new();
        for k in keys {
            if let Some(e) = t.keys.get_mut(k) {
                e.refs -= 1;
                if e.refs == 0 {
                    t.keys.remove(k);
                    gone.push(k.clone());
                }
            }
        }
        gone
    }

    /// Those of `keys` held here that the scheduler knows (pending,
    /// finished or erred; not refused or cancelled).
    pub(crate) fn held_among(&self, keys: &[Key]) -> rustc_hash::FxHashSet<Key> {
        let t = self.lock();
        keys.iter()
            .filter(|k| t.keys.get(*k).is_some_and(|e| !matches!(e.status, Status::Refused(_) | Status::Cancelled)))
            .cloned()
            .collect()
    }

    /// The status of `key` (`None` if not held).
    pub(crate) fn status(&self, key: &Key) -> Option<Status> {
        self.lock().keys.get(key).map(|e| e.status.clone())
    }

    /// Folds one message from the scheduler in and wakes the waiters.
    pub(crate) fn on_message(&self, msg: SchedulerToClient) {
        let mut t = self.lock();
        match msg {
            SchedulerToClient::KeyState(s) => {
                let (key, status) = match s {
                    ToClient::KeyInMemory { key, .. } => (key, Status::Finished),
                    ToClient::KeyErred { key, failure } => (key, Status::Erred(failure)),
                    ToClient::KeyLost(key) => (key, Status::Pending),
                    ToClient::KeyCancelled(key) => (key, Status::Cancelled),
                };
                // A key let go of meanwhile is not tracked.
                if let Some(e) = t.keys.get_mut(&key) {
                    e.status = status;
                }
            }
            SchedulerToClient::UpdateRefused { id, message } => {
                for e in t.keys.values_mut() {
                    if e.update == id && e.status == Status::Pending {
                        e.status = Status::Refused(message.clone());
                    }
                }
                t.replies.insert(id, Reply::Refused(message));
            }
            SchedulerToClient::GatherReply { id, data, missing } => {
                t.replies.insert(id, Reply::Gather { data, missing });
            }
            SchedulerToClient::ScatterDone { id, .. } => {
                t.replies.insert(id, Reply::Scattered);
            }
            SchedulerToClient::Retired { id, retired, refused } => {
                t.replies.insert(id, Reply::Retired(Retired { retired, refused }));
            }
            SchedulerToClient::AdaptiveTarget { id, workers, to_close } => {
                t.replies.insert(id, Reply::AdaptiveTarget { workers, to_close });
            }
            SchedulerToClient::Coordinated { id, reply } => {
                // Futures handed over: held here before the scheduler's
                // report of their state (the next message) arrives; the
                // caller turns each into a Future.
                if let CoordReply::Held(items) = &reply {
                    for h in items {
                        if let Held::Key(k) = h {
                            let e = t.keys.entry(k.clone()).or_insert(Entry {
                                status: Status::Pending,
                                refs: 0,
                                update: 0,
                            });
                            e.refs += 1;
                        }
                    }
                }
                t.replies.insert(id, Reply::Coordinated(reply));
            }
            SchedulerToClient::Info { id, info } => {
                t.replies.insert(id, Reply::Info(info));
            }
        }
        drop(t);
        self.changed.notify_all();
    }

    /// Whether the connection ended.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed.is_some()
    }

    /// The connection ended: every waiter gives up with `why`.
    pub(crate) fn close(&self, why: String) {
        self.lock().closed.get_or_insert(why);
        self.changed.notify_all();
    }

    /// Sleeps until `ready` says the table is as wanted, the connection
    /// ends, or `deadline` passes; `ready` sees the table each time it
    /// changes. `Ok(None)` is a timeout.
    fn wait_for<T>(
        &self,
        deadline: Option<Instant>,
        mut ready: impl FnMut(&mut Table) -> Option<T>,
    ) -> Result<Option<T>, String> {
        let mut t = self.lock();
        loop {
            if let Some(x) = ready(&mut t) {
                return Ok(Some(x));
            }
            if let Some(why) = &t.closed {
                return Err(why.clone());
            }
            t = match deadline {
                None => self.changed.wait(t).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(None);
                    }
                    self.changed.wait_timeout(t, d - now).unwrap_or_else(|p| p.into_inner()).0
                }
            };
        }
    }

    /// Waits until `n` of `keys` are done (or all, if fewer are held);
    /// returns the done ones' positions, `Ok(None)` on timeout.
    pub(crate) fn wait_done(
        &self,
        keys: &[Key],
        n: usize,
        deadline: Option<Instant>,
    ) -> Result<Option<Vec<usize>>, String> {
        self.wait_for(deadline, |t| {
            let done = t.done(keys);
            (done.len() >= n.min(keys.len())).then_some(done)
        })
    }

    /// The positions of `keys` done now (or not held).
    pub(crate) fn done(&self, keys: &[Key]) -> Vec<usize> {
        self.lock().done(keys)
    }

    /// Waits until one of `keys` is not finished any more (lost, so being
    /// recomputed) or `deadline` passes.
    pub(crate) fn wait_unfinished(&self, keys: &[Key], deadline: Instant) -> Result<(), String> {
        let unfinished =
            |t: &mut Table| keys.iter().any(|k| t.keys.get(k).is_some_and(|e| e.status != Status::Finished));
        self.wait_for(Some(deadline), |t| unfinished(t).then_some(())).map(|_| ())
    }

    /// Waits for the answer to request `id`.
    pub(crate) fn wait_reply(&self, id: u64, deadline: Option<Instant>) -> Result<Option<Reply>, String> {
        self.wait_for(deadline, |t| t.replies.remove(&id))
    }

    /// Forgets the answer to request `id` if it came (its caller gave up).
    pub(crate) fn drop_reply(&self, id: u64) {
        self.lock().replies.remove(&id);
    }
}
