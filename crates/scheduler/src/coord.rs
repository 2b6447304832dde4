//! Coordination primitives held by the scheduler, as Dask's: named
//! variables, queues, locks, events, semaphores and published datasets
//! shared by every client of a cluster.
//!
//! They live here, beside the tasks, and not on any worker: losing a
//! worker loses none of them. A variable or queue may hold a future's
//! key instead of a value; while it does, the key is *held* — the
//! runtime makes a client of its own want it, so its result is kept, and
//! recomputed if the worker holding it is lost — and *released* when the
//! last variable or queue item naming it is gone ([`CoordOut::hold`],
//! [`CoordOut::release`]).
//!
//! A blocking request (a get from an empty queue, an acquire of a held
//! lock, a wait on a clear event) is parked, first come first served,
//! until it can be answered or its timeout passes ([`Coord::on_tick`]).
//! A client that leaves releases the locks and leases of its handles and
//! drops its parked requests; what it put into variables and queues
//! stays.
//!
//! Like the rest of the crate this is sans-IO: requests go in with the
//! time, answers come out in a [`CoordOut`] for the runtime to post.

use std::collections::VecDeque;
use std::time::Duration;

use blockwork_graph::{Key, Value};
use rustc_hash::FxHashMap;

use crate::ids::ClientId;

/// What a variable or queue item holds.
#[derive(Clone, PartialEq, Debug)]
pub enum Held {
    /// A value, kept by the scheduler.
    Value(Value),
    /// A future's key, kept in the cluster while held.
    Key(Key),
}

/// A lock's or semaphore's holder: a client's handle object (a client may
/// have several, which exclude each other like different clients).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Owner {
    /// The client.
    pub client: ClientId,
    /// The client's number for its handle.
    pub handle: u64,
}

/// A request on a primitive. The fields mean the same in every variant:
/// `name` names the primitive (each kind has its own names); `timeout` is
/// how long a blocking request may wait (`None`: for ever; zero: not at
/// all); `handle` is the client's number for its `Lock` or `Semaphore`
/// object; `value`/`item` is what is stored.
#[derive(Clone, PartialEq, Debug)]
#[allow(missing_docs)] // the fields, documented once above
pub enum CoordOp {
    /// Sets a variable (answered `Done`).
    SetVariable { name: String, value: Held },
    /// A variable's value, waiting until it is set (`Held`, or `TimedOut`).
    GetVariable { name: String, timeout: Option<Duration> },
    /// Deletes a variable (`Done`, also when it was not set).
    DeleteVariable { name: String },
    /// Appends to a queue, waiting while it holds `maxsize` items
    /// (0: unbounded); `Done`, or `TimedOut`.
    Put { name: String, item: Held, maxsize: u64, timeout: Option<Duration> },
    /// Takes `count` items from a queue, waiting until it has them; with
    /// `count` 0, every item it has now, without waiting (`Held`, or
    /// `TimedOut`).
    Get { name: String, count: u64, timeout: Option<Duration> },
    /// The number of items in a queue (`Count`).
    QueueSize { name: String },
    /// Takes a lock for `handle`, waiting while another holds it
    /// (`Bool(true)`; `Bool(false)` when the timeout passed).
    Acquire { name: String, handle: u64, timeout: Option<Duration> },
    /// Lets go of a lock `handle` holds (`Done`; refused otherwise).
    Release { name: String, handle: u64 },
    /// Whether a lock is held (`Bool`).
    Locked { name: String },
    /// Sets an event, waking its waiters (`Done`).
    SetEvent { name: String },
    /// Clears an event (`Done`).
    ClearEvent { name: String },
    /// Waits until an event is set (`Bool(true)`; `Bool(false)` when the
    /// timeout passed).
    WaitEvent { name: String, timeout: Option<Duration> },
    /// Whether an event is set (`Bool`).
    IsSet { name: String },
    /// Takes a lease of a semaphore of `max_leases` for `handle`, waiting
    /// while all are taken (`Bool(true)`; `Bool(false)` on timeout).
    AcquireLease { name: String, max_leases: u64, handle: u64, timeout: Option<Duration> },
    /// Returns one lease `handle` holds (`Done`; refused otherwise).
    ReleaseLease { name: String, handle: u64 },
    /// The number of leases taken (`Count`).
    Leases { name: String },
    /// Publishes a dataset: its items (futures and a description) under
    /// `name`, refused if the name is taken unless `replace` (`Done`).
    Publish { name: String, items: Vec<Held>, replace: bool },
    /// A published dataset's items (`Held`; refused when there is none).
    GetDataset { name: String },
    /// Withdraws a dataset (`Done`; refused when there is none).
    Unpublish { name: String },
    /// The names of the published datasets, sorted (`Held` of strings).
    ListDatasets,
}

impl CoordOp {
    /// Every key this request stores (the runtime checks that the
    /// scheduler knows them before handing the request over).
    pub fn keys(&self) -> Vec<&Key> {
        let items: &[Held] = match self {
            CoordOp::SetVariable { value, .. } => std::slice::from_ref(value),
            CoordOp::Put { item, .. } => std::slice::from_ref(item),
            CoordOp::Publish { items, .. } => items,
            _ => &[],
        };
        items
            .iter()
            .filter_map(|h| match h {
                Held::Key(k) => Some(k),
                Held::Value(_) => None,
            })
            .collect()
    }
}

/// An answer.
#[derive(Clone, PartialEq, Debug)]
pub enum CoordReply {
    /// Done.
    Done,
    /// A variable's value, or items of a queue.
    Held(Vec<Held>),
    /// A yes or no (acquired, set, locked).
    Bool(bool),
    /// A count (queue items, leases taken).
    Count(u64),
    /// The request's timeout passed first.
    TimedOut,
    /// The request is wrong; the message says why.
    Refused(String),
}

/// What the runtime does after a request: post the answers, then make its
/// own client want `hold`, then release `release`. An answer that carries
/// keys (a variable's future, a queue's items) must make its client want
/// them before `release` is applied, so no key is forgotten in between.
#[derive(Default, Debug, PartialEq)]
pub struct CoordOut {
    /// Answers: the client, its request number, the answer.
    pub replies: Vec<(ClientId, u64, CoordReply)>,
    /// Keys that became held.
    pub hold: Vec<Key>,
    /// Keys no longer held.
    pub release: Vec<Key>,
}

/// A parked request.
#[derive(Debug)]
struct Parked<T> {
    client: ClientId,
    id: u64,
    deadline: Option<Duration>,
    what: T,
}

impl<T> Parked<T> {
    /// Whether its timeout passed by `now`.
    fn due(&self, now: Duration) -> bool {
        self.deadline.is_some_and(|d| d <= now)
    }
}

/// Parks request `id` of `client` on `waiters` with `what`, unless its
/// timeout is zero: then it is answered `no` at once.
#[allow(clippy::too_many_arguments)] // the request's parts, as they come
fn park<T>(
    waiters: &mut VecDeque<Parked<T>>,
    client: ClientId,
    id: u64,
    now: Duration,
    timeout: Option<Duration>,
    what: T,
    no: CoordReply,
    out: &mut CoordOut,
) {
    if timeout == Some(Duration::ZERO) {
        out.replies.push((client, id, no));
    } else {
        waiters.push_back(Parked { client, id, deadline: timeout.map(|t| now.saturating_add(t)), what });
    }
}

#[derive(Default, Debug)]
struct Variable {
    value: Option<Held>,
    getters: VecDeque<Parked<()>>,
}

#[derive(Default, Debug)]
struct Queue {
    items: VecDeque<Held>,
    maxsize: u64,
    getters: VecDeque<Parked<u64>>,
    putters: VecDeque<Parked<Held>>,
}

#[derive(Default, Debug)]
struct Event {
    set: bool,
    waiters: VecDeque<Parked<()>>,
}

/// A semaphore, and a lock: a semaphore of one lease.
#[derive(Default, Debug)]
struct Semaphore {
    max_leases: u64,
    leases: Vec<Owner>,
    /// Parked acquires, with their handles.
    waiters: VecDeque<Parked<u64>>,
}

impl Semaphore {
    /// A lease for `owner` now, if one is free and nobody waits before it.
    fn try_acquire(&mut self, owner: Owner) -> bool {
        let free = self.waiters.is_empty() && (self.leases.len() as u64) < self.max_leases;
        if free {
            self.leases.push(owner);
        }
        free
    }

    /// Returns a lease of `owner`; whether it had one.
    fn release(&mut self, owner: Owner) -> bool {
        let Some(i) = self.leases.iter().position(|o| *o == owner) else { return false };
        self.leases.swap_remove(i);
        true
    }

    /// Gives the free leases to the waiters, in order.
    fn serve(&mut self, out: &mut CoordOut) {
        while (self.leases.len() as u64) < self.max_leases {
            let Some(p) = self.waiters.pop_front() else { return };
            self.leases.push(Owner { client: p.client, handle: p.what });
            out.replies.push((p.client, p.id, CoordReply::Bool(true)));
        }
    }

    /// `client` left: its leases pass on, its waits are dropped.
    fn drop_client(&mut self, client: ClientId, out: &mut CoordOut) {
        self.waiters.retain(|p| p.client != client);
        self.leases.retain(|o| o.client != client);
        self.serve(out);
    }
}

/// Every primitive of the cluster.
#[derive(Default, Debug)]
pub struct Coord {
    variables: FxHashMap<String, Variable>,
    queues: FxHashMap<String, Queue>,
    /// Locks, as semaphores of one lease.
    locks: FxHashMap<String, Semaphore>,
    events: FxHashMap<String, Event>,
    semaphores: FxHashMap<String, Semaphore>,
    datasets: FxHashMap<String, Vec<Held>>,
    /// How many variables, queue items and datasets hold each key.
    held: FxHashMap<Key, usize>,
}

impl Coord {
    /// Handles request `id` of `client` at `now`.
    pub fn on_request(&mut self, client: ClientId, id: u64, op: CoordOp, now: Duration, out: &mut CoordOut) {
        let reply = |out: &mut CoordOut, r: CoordReply| out.replies.push((client, id, r));
        match op {
            CoordOp::SetVariable { name, value } => {
                self.hold(&value, out);
                let var = self.variables.entry(name).or_default();
                for p in var.getters.drain(..) {
                    out.replies.push((p.client, p.id, CoordReply::Held(vec![value.clone()])));
                }
                if let Some(old) = var.value.replace(value) {
                    self.let_go(old, out);
                }
                reply(out, CoordReply::Done);
            }
            CoordOp::GetVariable { name, timeout } => {
                let var = self.variables.entry(name).or_default();
                match &var.value {
                    Some(v) => reply(out, CoordReply::Held(vec![v.clone()])),
                    None => park(&mut var.getters, client, id, now, timeout, (), CoordReply::TimedOut, out),
                }
            }
            CoordOp::DeleteVariable { name } => {
                if let Some(var) = self.variables.get_mut(&name) {
                    let old = var.value.take();
                    if var.getters.is_empty() {
                        self.variables.remove(&name);
                    }
                    if let Some(old) = old {
                        self.let_go(old, out);
                    }
                }
                reply(out, CoordReply::Done);
            }
            CoordOp::Put { name, item, maxsize, timeout } => {
                let q = self.queues.entry(name.clone()).or_default();
                if q.maxsize == 0 {
                    q.maxsize = maxsize;
                }
                let full = q.maxsize > 0 && q.items.len() as u64 >= q.maxsize;
                if !full {
                    q.items.push_back(item.clone());
                    self.hold(&item, out);
                    reply(out, CoordReply::Done);
                    self.serve_queue(&name, out);
                } else if timeout == Some(Duration::ZERO) {
                    reply(out, CoordReply::TimedOut);
                } else {
                    // Held while parked too: the client may drop its
                    // future before there is room.
                    self.hold(&item, out);
                    let q = self.queues.get_mut(&name).expect("just made");
                    park(&mut q.putters, client, id, now, timeout, item, CoordReply::TimedOut, out);
                }
            }
            CoordOp::Get { name, count, timeout } => {
                let q = self.queues.entry(name.clone()).or_default();
                // Every item there is, or `count` when they are there and
                // nobody waits before.
                let take = match count {
                    0 => Some(q.items.len()),
                    n if q.getters.is_empty() && q.items.len() as u64 >= n => Some(n as usize),
                    _ => None,
                };
                match take {
                    Some(n) => {
                        let items: Vec<Held> = q.items.drain(..n).collect();
                        self.handed_out(&items, out);
                        reply(out, CoordReply::Held(items));
                        self.serve_queue(&name, out);
                    }
                    None => park(&mut q.getters, client, id, now, timeout, count, CoordReply::TimedOut, out),
                }
            }
            CoordOp::QueueSize { name } => {
                let n = self.queues.get(&name).map_or(0, |q| q.items.len() as u64);
                reply(out, CoordReply::Count(n));
            }
            CoordOp::Acquire { name, handle, timeout } => {
                let lock =
                    self.locks.entry(name).or_insert_with(|| Semaphore { max_leases: 1, ..Semaphore::default() });
                if lock.try_acquire(Owner { client, handle }) {
                    reply(out, CoordReply::Bool(true));
                } else {
                    park(&mut lock.waiters, client, id, now, timeout, handle, CoordReply::Bool(false), out);
                }
            }
            CoordOp::Release { name, handle } => {
                if give_back(&mut self.locks, &name, Owner { client, handle }, out) {
                    reply(out, CoordReply::Done);
                } else {
                    reply(out, CoordReply::Refused(format!("lock {name:?} is not held by this Lock; released twice?")));
                }
            }
            CoordOp::Locked { name } => {
                let held = self.locks.get(&name).is_some_and(|l| !l.leases.is_empty());
                reply(out, CoordReply::Bool(held));
            }
            CoordOp::SetEvent { name } => {
                let ev = self.events.entry(name).or_default();
                ev.set = true;
                for p in ev.waiters.drain(..) {
                    out.replies.push((p.client, p.id, CoordReply::Bool(true)));
                }
                reply(out, CoordReply::Done);
            }
            CoordOp::ClearEvent { name } => {
                if let Some(ev) = self.events.get_mut(&name) {
                    ev.set = false;
                }
                reply(out, CoordReply::Done);
            }
            CoordOp::WaitEvent { name, timeout } => {
                let ev = self.events.entry(name).or_default();
                if ev.set {
                    reply(out, CoordReply::Bool(true));
                } else {
                    park(&mut ev.waiters, client, id, now, timeout, (), CoordReply::Bool(false), out);
                }
            }
            CoordOp::IsSet { name } => {
                let set = self.events.get(&name).is_some_and(|e| e.set);
                reply(out, CoordReply::Bool(set));
            }
            CoordOp::AcquireLease { name, max_leases, handle, timeout } => {
                if max_leases == 0 {
                    return reply(out, CoordReply::Refused(format!("semaphore {name:?} needs at least one lease")));
                }
                let sem = self.semaphores.entry(name.clone()).or_default();
                if sem.max_leases == 0 {
                    sem.max_leases = max_leases;
                } else if sem.max_leases != max_leases {
                    let msg = format!(
                        "semaphore {name:?} has {} leases; this Semaphore asks for {max_leases}",
                        sem.max_leases
                    );
                    return reply(out, CoordReply::Refused(msg));
                }
                if sem.try_acquire(Owner { client, handle }) {
                    reply(out, CoordReply::Bool(true));
                } else {
                    park(&mut sem.waiters, client, id, now, timeout, handle, CoordReply::Bool(false), out);
                }
            }
            CoordOp::ReleaseLease { name, handle } => {
                if give_back(&mut self.semaphores, &name, Owner { client, handle }, out) {
                    reply(out, CoordReply::Done);
                } else {
                    let msg = format!("semaphore {name:?} has no lease of this Semaphore; released twice?");
                    reply(out, CoordReply::Refused(msg));
                }
            }
            CoordOp::Leases { name } => {
                let n = self.semaphores.get(&name).map_or(0, |s| s.leases.len() as u64);
                reply(out, CoordReply::Count(n));
            }
            CoordOp::Publish { name, items, replace } => {
                if !replace && self.datasets.contains_key(&name) {
                    let why = format!("a dataset {name:?} is published already (unpublish it, or replace it)");
                    return reply(out, CoordReply::Refused(why));
                }
                for h in &items {
                    self.hold(h, out);
                }
                for old in self.datasets.insert(name, items).unwrap_or_default() {
                    self.let_go(old, out);
                }
                reply(out, CoordReply::Done);
            }
            CoordOp::GetDataset { name } => match self.datasets.get(&name) {
                Some(items) => reply(out, CoordReply::Held(items.clone())),
                None => reply(out, CoordReply::Refused(self.no_dataset(&name))),
            },
            CoordOp::Unpublish { name } => match self.datasets.remove(&name) {
                Some(items) => {
                    for old in items {
                        self.let_go(old, out);
                    }
                    reply(out, CoordReply::Done);
                }
                None => reply(out, CoordReply::Refused(self.no_dataset(&name))),
            },
            CoordOp::ListDatasets => {
                let mut names: Vec<&String> = self.datasets.keys().collect();
                names.sort();
                let names = names.into_iter().map(|n| Held::Value(Value::Str(n.as_str().into()))).collect();
                reply(out, CoordReply::Held(names));
            }
        }
    }

    /// Answers the parked requests whose timeout passed by `now`.
    pub fn on_tick(&mut self, now: Duration, out: &mut CoordOut) {
        for var in self.variables.values_mut() {
            var.getters.retain(|p| !expire(p.due(now), p, CoordReply::TimedOut, out));
        }
        let (mut touched, mut dropped) = (Vec::new(), Vec::new());
        for (name, q) in &mut self.queues {
            let before = q.getters.len();
            q.getters.retain(|p| !expire(p.due(now), p, CoordReply::TimedOut, out));
            let (gone, kept): (VecDeque<_>, VecDeque<_>) = q.putters.drain(..).partition(|p| p.due(now));
            q.putters = kept;
            for p in gone {
                expire(true, &p, CoordReply::TimedOut, out);
                dropped.push(p.what);
            }
            if q.getters.len() != before {
                touched.push(name.clone());
            }
        }
        for item in dropped {
            self.let_go(item, out);
        }
        for ev in self.events.values_mut() {
            ev.waiters.retain(|p| !expire(p.due(now), p, CoordReply::Bool(false), out));
        }
        for sem in self.locks.values_mut().chain(self.semaphores.values_mut()) {
            sem.waiters.retain(|p| !expire(p.due(now), p, CoordReply::Bool(false), out));
        }
        // A getter that gave up may have blocked smaller ones behind it.
        for name in touched {
            self.serve_queue(&name, out);
        }
    }

    /// `client` left: the locks and leases of its handles are released
    /// (and passed on to waiters); its parked requests are dropped.
    pub fn on_client_gone(&mut self, client: ClientId, out: &mut CoordOut) {
        for var in self.variables.values_mut() {
            var.getters.retain(|p| p.client != client);
        }
        let queues: Vec<String> = self.queues.keys().cloned().collect();
        for name in queues {
            let q = self.queues.get_mut(&name).expect("listed");
            q.getters.retain(|p| p.client != client);
            let (dropped, kept): (VecDeque<_>, VecDeque<_>) = q.putters.drain(..).partition(|p| p.client == client);
            q.putters = kept;
            for p in dropped {
                self.let_go(p.what, out);
            }
            self.serve_queue(&name, out);
        }
        for ev in self.events.values_mut() {
            ev.waiters.retain(|p| p.client != client);
        }
        for sem in self.locks.values_mut().chain(self.semaphores.values_mut()) {
            sem.drop_client(client, out);
        }
    }

    fn no_dataset(&self, name: &str) -> String {
        let mut names: Vec<&String> = self.datasets.keys().collect();
        names.sort();
        format!("no dataset {name:?} is published (published: {names:?})")
    }

    /// Forgets every key it holds (the cluster was reset): variables
    /// holding one are unset, such queue items dropped (a put of one still
    /// waiting is refused), datasets naming one withdrawn; values, locks,
    /// events and semaphores stay. The keys are not reported as released:
    /// the caller cancelled them already.
    pub fn forget_keys(&mut self, out: &mut CoordOut) {
        let is_key = |h: &Held| matches!(h, Held::Key(_));
        for var in self.variables.values_mut() {
            if var.value.as_ref().is_some_and(is_key) {
                var.value = None;
            }
        }
        for q in self.queues.values_mut() {
            q.items.retain(|h| !is_key(h));
            q.putters.retain(|p| {
                let dropped = is_key(&p.what);
                if dropped {
                    out.replies.push((p.client, p.id, CoordReply::Refused("the cluster was restarted".into())));
                }
                !dropped
            });
        }
        self.datasets.retain(|_, items| !items.iter().any(is_key));
        self.held.clear();
    }

    /// The keys held now (each once).
    pub fn held_keys(&self) -> impl Iterator<Item = &Key> + '_ {
        self.held.keys()
    }

    /// How many parked requests wait (for the dashboard and tests).
    pub fn num_parked(&self) -> usize {
        self.variables.values().map(|v| v.getters.len()).sum::<usize>()
            + self.queues.values().map(|q| q.getters.len() + q.putters.len()).sum::<usize>()
            + self.events.values().map(|e| e.waiters.len()).sum::<usize>()
            + self.locks.values().chain(self.semaphores.values()).map(|s| s.waiters.len()).sum::<usize>()
    }

    fn hold(&mut self, h: &Held, out: &mut CoordOut) {
        if let Held::Key(k) = h {
            let n = self.held.entry(k.clone()).or_default();
            *n += 1;
            if *n == 1 {
                out.hold.push(k.clone());
            }
        }
    }

    fn let_go(&mut self, h: Held, out: &mut CoordOut) {
        if let Held::Key(k) = h {
            if let Some(n) = self.held.get_mut(&k) {
                *n -= 1;
                if *n == 0 {
                    self.held.remove(&k);
                    out.release.push(k);
                }
            }
        }
    }

    /// Items leave a queue for a client (whose answer makes it want the
    /// keys among them).
    fn handed_out(&mut self, items: &[Held], out: &mut CoordOut) {
        for h in items {
            self.let_go(h.clone(), out);
        }
    }

    /// Admits parked putters while there is room and answers parked
    /// getters, in order, while there are items.
    fn serve_queue(&mut self, name: &str, out: &mut CoordOut) {
        loop {
            let Some(q) = self.queues.get_mut(name) else { return };
            let room = q.maxsize == 0 || (q.items.len() as u64) < q.maxsize;
            if room {
                if let Some(p) = q.putters.pop_front() {
                    // Held since it was parked.
                    q.items.push_back(p.what);
                    out.replies.push((p.client, p.id, CoordReply::Done));
                    continue;
                }
            }
            let Some(count) = q.getters.front().map(|p| p.what) else { return };
            if (q.items.len() as u64) < count {
                return;
            }
            let p = q.getters.pop_front().expect("a getter");
            let items: Vec<Held> = q.items.drain(..count as usize).collect();
            self.handed_out(&items, out);
            out.replies.push((p.client, p.id, CoordReply::Held(items)));
        }
    }
}

/// Returns `owner`'s lease of the semaphore (or lock) `name`, passing it
/// on to a waiter; whether it had one.
fn give_back(sems: &mut FxHashMap<String, Semaphore>, name: &str, owner: Owner, out: &mut CoordOut) -> bool {
    let Some(sem) = sems.get_mut(name) else { return false };
    let had = sem.release(owner);
    if had {
        sem.serve(out);
    }
    had
}

/// Answers `p` with `reply` when `due`; whether it did.
fn expire<T>(due: bool, p: &Parked<T>, reply: CoordReply, out: &mut CoordOut) -> bool {
    if due {
        out.replies.push((p.client, p.id, reply));
    }
    due
}
