//! Coordination primitives, as Dask's: a [`Variable`], a [`Queue`], a
//! [`Lock`], an [`Event`] and a [`Semaphore`], each named and shared by
//! every client of the cluster.
//!
//! The scheduler holds them (`blockwork_scheduler::Coord`), so they
//! outlive any worker; a lock or lease is the handle's that took it, and
//! passes on when its client disconnects. A variable or queue item may be
//! a [`Future`]: the cluster keeps its result while it is held there (and
//! recomputes it if a worker holding it is lost), and whoever reads it
//! gets a future of their own.
//!
//! ```no_run
//! # fn main() -> Result<(), blockwork_runtime::ClientError> {
//! use std::time::Duration;
//! use blockwork_graph::Value;
//! let client = blockwork_runtime::Client::connect("127.0.0.1:8786")?;
//! let lock = client.lock("ingest");
//! {
//!     let _held = lock.lock()?;            // released when dropped
//!     client.variable("stage").set(Value::Str("loading".into()))?;
//! }
//! let q = client.queue("jobs");
//! q.put(Value::Int(1))?;
//! let next = q.get(Some(Duration::from_secs(5)))?;   // a Shared::Value
//! # let _ = next; Ok(()) }
//! ```

use std::time::Duration;

use blockwork_graph::Value;
use blockwork_protocol::ClientToScheduler;
use blockwork_scheduler::{CoordOp, CoordReply, Held};

use crate::client::{Client, Inner};
use crate::conn::post;
use crate::error::ClientError;
use crate::future::Future;
use crate::tracker::Reply;

/// What a variable or a queue item holds, as read back.
pub enum Shared {
    /// A value.
    Value(Value),
    /// A future (this client's own handle on the key).
    Future(Future),
}

impl Shared {
    /// The value: a [`Shared::Value`] as is, a [`Shared::Future`]'s
    /// result (waited for).
    pub fn value(self) -> Result<Value, ClientError> {
        match self {
            Shared::Value(v) => Ok(v),
            Shared::Future(f) => f.result(),
        }
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Shared::Value(v) => f.debug_tuple("Value").field(v).finish(),
            Shared::Future(x) => f.debug_tuple("Future").field(x.key()).finish(),
        }
    }
}

impl Client {
    /// The cluster's variable `name` (Dask's `Variable`).
    pub fn variable(&self, name: &str) -> Variable {
        Variable { client: self.clone(), name: name.to_string() }
    }

    /// The cluster's queue `name`, unbounded (Dask's `Queue`).
    pub fn queue(&self, name: &str) -> Queue {
        self.bounded_queue(name, 0)
    }

    /// The cluster's queue `name`, holding at most `maxsize` items (0:
    /// unbounded); a put waits while it is full. The bound is the first
    /// user's of the queue.
    pub fn bounded_queue(&self, name: &str, maxsize: usize) -> Queue {
        Queue { client: self.clone(), name: name.to_string(), maxsize: maxsize as u64 }
    }

    /// A handle on the cluster's lock `name` (Dask's `Lock`): handles
    /// exclude each other, within one client too.
    pub fn lock(&self, name: &str) -> Lock {
        Lock { client: self.clone(), name: name.to_string(), handle: self.inner.tracker.next_id() }
    }

    /// The cluster's event `name` (Dask's `Event`).
    pub fn event(&self, name: &str) -> Event {
        Event { client: self.clone(), name: name.to_string() }
    }

    /// A handle on the cluster's semaphore `name` of `max_leases` leases
    /// (Dask's `Semaphore`); every handle on it must agree on the number.
    pub fn semaphore(&self, name: &str, max_leases: usize) -> Semaphore {
        let handle = self.inner.tracker.next_id();
        Semaphore { client: self.clone(), name: name.to_string(), max_leases: max_leases as u64, handle }
    }
}

impl Inner {
    /// Sends `op` and waits for the scheduler's answer (which comes when
    /// the request is served or its own timeout passes).
    fn coordinate(&self, op: CoordOp, what: &str) -> Result<CoordReply, ClientError> {
        let id = self.tracker.next_id();
        post(&self.out, &ClientToScheduler::Coordinate { id, op }, "the scheduler");
        match self.tracker.wait_reply(id, None).map_err(|e| self.closed(e))? {
            Some(Reply::Coordinated(CoordReply::Refused(why))) => Err(ClientError::Refused(why)),
            Some(Reply::Coordinated(r)) => Ok(r),
            _ => Err(ClientError::Refused(format!("the scheduler answered {what} with something else"))),
        }
    }

    /// [`Inner::coordinate`] for a request answered `Done`.
    fn done(&self, op: CoordOp, what: &str) -> Result<(), ClientError> {
        match self.coordinate(op, what)? {
            CoordReply::Done => Ok(()),
            r => Err(unexpected(what, &r)),
        }
    }

    /// [`Inner::coordinate`] for a request answered yes or no.
    fn yes(&self, op: CoordOp, what: &str) -> Result<bool, ClientError> {
        match self.coordinate(op, what)? {
            CoordReply::Bool(b) => Ok(b),
            r => Err(unexpected(what, &r)),
        }
    }

    /// [`Inner::coordinate`] for a request answered with a count.
    fn count(&self, op: CoordOp, what: &str) -> Result<usize, ClientError> {
        match self.coordinate(op, what)? {
            CoordReply::Count(n) => Ok(n as usize),
            r => Err(unexpected(what, &r)),
        }
    }
}

fn future_held(f: &Future) -> Held {
    Held::Key(f.key().clone())
}

/// The tracker took each key of an answer once; each becomes a future.
fn shared(client: &Client, h: Held) -> Shared {
    match h {
        Held::Value(v) => Shared::Value(v),
        Held::Key(k) => Shared::Future(Future::held(k, client.inner.clone())),
    }
}

fn unexpected(what: &str, r: &CoordReply) -> ClientError {
    ClientError::Refused(format!("the scheduler answered {what} with {r:?}"))
}

fn timed_out(what: &str, name: &str) -> ClientError {
    ClientError::Timeout(format!("{what} {name:?}"))
}

/// A named value (or future) every client of the cluster can set and read.
pub struct Variable {
    client: Client,
    name: String,
}

impl Variable {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets it to `value`, waking whoever waits in [`Variable::get`].
    pub fn set(&self, value: Value) -> Result<(), ClientError> {
        self.set_item(Held::Value(value))
    }

    /// Sets it to `future`: the result stays in the cluster while the
    /// variable holds it.
    pub fn set_future(&self, future: &Future) -> Result<(), ClientError> {
        self.set_item(future_held(future))
    }

    /// Sets it to a value or a future's key (the caller keeps the future
    /// until this returns).
    pub fn set_item(&self, value: Held) -> Result<(), ClientError> {
        self.client.inner.done(CoordOp::SetVariable { name: self.name.clone(), value }, "a variable set")
    }

    /// Its value; waits until it is set, at most `timeout` (`None`: for
    /// ever), then [`ClientError::Timeout`].
    pub fn get(&self, timeout: Option<Duration>) -> Result<Shared, ClientError> {
        let op = CoordOp::GetVariable { name: self.name.clone(), timeout };
        match self.client.inner.coordinate(op, "a variable get")? {
            CoordReply::Held(mut items) if items.len() == 1 => Ok(shared(&self.client, items.remove(0))),
            CoordReply::TimedOut => Err(timed_out("waiting for the variable", &self.name)),
            r => Err(unexpected("a variable get", &r)),
        }
    }

    /// Unsets it (its future, if it held one, is let go).
    pub fn delete(&self) -> Result<(), ClientError> {
        self.client.inner.done(CoordOp::DeleteVariable { name: self.name.clone() }, "a variable delete")
    }
}

/// A named first-in first-out queue of values (or futures).
pub struct Queue {
    client: Client,
    name: String,
    maxsize: u64,
}

impl Queue {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Appends `value`; waits while the queue is full.
    pub fn put(&self, value: Value) -> Result<(), ClientError> {
        self.put_timeout(Held::Value(value), None)
    }

    /// Appends `future` (its result stays in the cluster while queued).
    pub fn put_future(&self, future: &Future) -> Result<(), ClientError> {
        self.put_timeout(future_held(future), None)
    }

    /// Appends a value or a future's key (the caller keeps the future until
    /// this returns); waits while the queue is full, at most `timeout`.
    pub fn put_timeout(&self, item: Held, timeout: Option<Duration>) -> Result<(), ClientError> {
        let op = CoordOp::Put { name: self.name.clone(), item, maxsize: self.maxsize, timeout };
        match self.client.inner.coordinate(op, "a queue put")? {
            CoordReply::TimedOut => Err(timed_out("waiting for room in the queue", &self.name)),
            CoordReply::Done => Ok(()),
            r => Err(unexpected("a queue put", &r)),
        }
    }

    /// Takes the first item; waits for one at most `timeout` (`None`: for
    /// ever), then [`ClientError::Timeout`].
    pub fn get(&self, timeout: Option<Duration>) -> Result<Shared, ClientError> {
        Ok(self.take(1, timeout)?.remove(0))
    }

    /// Takes `n` items, waiting until there are that many (Dask's
    /// `get(batch=n)`).
    pub fn get_many(&self, n: usize, timeout: Option<Duration>) -> Result<Vec<Shared>, ClientError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        self.take(n as u64, timeout)
    }

    /// Takes every item there is now, without waiting (Dask's
    /// `get(batch=True)`).
    pub fn drain(&self) -> Result<Vec<Shared>, ClientError> {
        self.take(0, None)
    }

    fn take(&self, count: u64, timeout: Option<Duration>) -> Result<Vec<Shared>, ClientError> {
        let op = CoordOp::Get { name: self.name.clone(), count, timeout };
        match self.client.inner.coordinate(op, "a queue get")? {
            CoordReply::Held(items) => Ok(items.into_iter().map(|h| shared(&self.client, h)).collect()),
            CoordReply::TimedOut => Err(timed_out("waiting for an item of the queue", &self.name)),
            r => Err(unexpected("a queue get", &r)),
        }
    }

    /// How many items it holds.
    pub fn qsize(&self) -> Result<usize, ClientError> {
        self.client.inner.count(CoordOp::QueueSize { name: self.name.clone() }, "a size")
    }
}

/// A handle on a named lock.
pub struct Lock {
    client: Client,
    name: String,
    handle: u64,
}

/// A held [`Lock`], released when dropped.
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.lock.release() {
            crate::log!(WARN, "releasing the lock {:?} failed: {e}", self.lock.name);
        }
    }
}

impl Lock {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes it, waiting while another handle holds it, at most `timeout`
    /// (`None`: for ever; zero: only if it is free); whether it was taken.
    pub fn acquire(&self, timeout: Option<Duration>) -> Result<bool, ClientError> {
        let op = CoordOp::Acquire { name: self.name.clone(), handle: self.handle, timeout };
        self.client.inner.yes(op, "a lock acquire")
    }

    /// Takes it (waiting as long as it takes) and returns a guard that
    /// releases it when dropped.
    pub fn lock(&self) -> Result<LockGuard<'_>, ClientError> {
        self.acquire(None)?;
        Ok(LockGuard { lock: self })
    }

    /// Lets go of it; an error if this handle does not hold it.
    pub fn release(&self) -> Result<(), ClientError> {
        let op = CoordOp::Release { name: self.name.clone(), handle: self.handle };
        self.client.inner.done(op, "a lock release")
    }

    /// Whether any handle holds it.
    pub fn locked(&self) -> Result<bool, ClientError> {
        self.client.inner.yes(CoordOp::Locked { name: self.name.clone() }, "locked")
    }
}

/// A named flag clients wait on.
pub struct Event {
    client: Client,
    name: String,
}

impl Event {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets it, waking every waiter.
    pub fn set(&self) -> Result<(), ClientError> {
        self.client.inner.done(CoordOp::SetEvent { name: self.name.clone() }, "an event set")
    }

    /// Clears it.
    pub fn clear(&self) -> Result<(), ClientError> {
        self.client.inner.done(CoordOp::ClearEvent { name: self.name.clone() }, "a clear")
    }

    /// Waits until it is set, at most `timeout`; whether it was set.
    pub fn wait(&self, timeout: Option<Duration>) -> Result<bool, ClientError> {
        let op = CoordOp::WaitEvent { name: self.name.clone(), timeout };
        self.client.inner.yes(op, "an event wait")
    }

    /// Whether it is set.
    pub fn is_set(&self) -> Result<bool, ClientError> {
        self.client.inner.yes(CoordOp::IsSet { name: self.name.clone() }, "is-set")
    }
}

/// A handle on a named semaphore: at most `max_leases` leases taken at
/// once across the cluster.
pub struct Semaphore {
    client: Client,
    name: String,
    max_leases: u64,
    handle: u64,
}

impl Semaphore {
    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Takes a lease, waiting while all are taken, at most `timeout`;
    /// whether one was taken.
    pub fn acquire(&self, timeout: Option<Duration>) -> Result<bool, ClientError> {
        let op = CoordOp::AcquireLease {
            name: self.name.clone(),
            max_leases: self.max_leases,
            handle: self.handle,
            timeout,
        };
        self.client.inner.yes(op, "a semaphore acquire")
    }

    /// Returns a lease this handle took.
    pub fn release(&self) -> Result<(), ClientError> {
        let op = CoordOp::ReleaseLease { name: self.name.clone(), handle: self.handle };
        self.client.inner.done(op, "a semaphore release")
    }

    /// How many leases are taken now.
    pub fn leases(&self) -> Result<usize, ClientError> {
        self.client.inner.count(CoordOp::Leases { name: self.name.clone() }, "leases")
    }
}

/// A published dataset, read back: its description and its futures (this
/// client's own handles on them).
pub struct Dataset {
    /// What the publisher said of it (a collection's layout, a pickled
    /// template, …).
    pub meta: Value,
    /// Its futures, in the order they were published.
    pub futures: Vec<Future>,
}

impl Client {
    /// Publishes `futures` and `meta` under `name` for every client of the
    /// cluster (Dask's `publish_dataset`): their results stay on the
    /// cluster until it is unpublished, whoever else lets go of them. A
    /// taken name is refused unless `replace`.
    pub fn publish_dataset(
        &self,
        name: &str,
        futures: &[Future],
        meta: Value,
        replace: bool,
    ) -> Result<(), ClientError> {
        let items = std::iter::once(Held::Value(meta)).chain(futures.iter().map(future_held)).collect();
        let op = CoordOp::Publish { name: name.to_string(), items, replace };
        self.inner.done(op, "a publish")
    }

    /// The dataset published as `name`; an error naming the published ones
    /// when there is none.
    pub fn get_dataset(&self, name: &str) -> Result<Dataset, ClientError> {
        match self.inner.coordinate(CoordOp::GetDataset { name: name.to_string() }, "a get_dataset")? {
            CoordReply::Held(items) => {
                let mut items = items.into_iter().map(|h| shared(self, h));
                let meta = match items.next() {
                    Some(Shared::Value(v)) => v,
                    _ => return Err(ClientError::Refused(format!("dataset {name:?} has no description"))),
                };
                let futures = items
                    .map(|s| match s {
                        Shared::Future(f) => Ok(f),
                        Shared::Value(v) => Err(ClientError::Refused(format!("dataset {name:?} holds a value {v:?}"))),
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Dataset { meta, futures })
            }
            r => Err(unexpected("a get_dataset", &r)),
        }
    }

    /// Withdraws the dataset `name` (its results go once nobody else wants
    /// them); an error when there is none.
    pub fn unpublish_dataset(&self, name: &str) -> Result<(), ClientError> {
        self.inner.done(CoordOp::Unpublish { name: name.to_string() }, "an unpublish")
    }

    /// The names of the published datasets, sorted.
    pub fn list_datasets(&self) -> Result<Vec<String>, ClientError> {
        match self.inner.coordinate(CoordOp::ListDatasets, "list_datasets")? {
            CoordReply::Held(items) => Ok(items
                .into_iter()
                .filter_map(|h| match h {
                    Held::Value(Value::Str(s)) => Some(s.to_string()),
                    _ => None,
                })
                .collect()),
            r => Err(unexpected("list_datasets", &r)),
        }
    }
}
