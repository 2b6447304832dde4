//! Futures: handles on keys a client wants, like Dask's `Future`.
//!
//! A future holds its key in the client's tracker; the scheduler keeps
//! the result while any future of the key lives, and releases it when the
//! last is dropped. Asking for the value waits for the key and fetches
//! it from the worker holding it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use blockwork_graph::{Arg, Key, Value};
use blockwork_protocol::ClientToScheduler;

use crate::client::{Client, Inner};
use crate::conn::post;
use crate::error::ClientError;
use crate::tracker::Status;

/// A key being computed (or computed) on the cluster.
pub struct Future {
    key: Key,
    pub(crate) inner: Arc<Inner>,
}

impl Future {
    /// A future of a key the tracker already holds once for it.
    pub(crate) fn held(key: Key, inner: Arc<Inner>) -> Future {
        Future { key, inner }
    }

    /// Its key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Where it stands now.
    pub fn status(&self) -> Status {
        self.inner.tracker.status(&self.key).unwrap_or(Status::Pending)
    }

    /// Whether it is finished, erred or cancelled.
    pub fn done(&self) -> bool {
        self.status().is_done()
    }

    /// Its value; waits for it. A failure names the key that failed.
    pub fn result(&self) -> Result<Value, ClientError> {
        Ok(self.inner.gather(std::slice::from_ref(&self.key), None)?.remove(0))
    }

    /// [`Future::result`], giving up with [`ClientError::Timeout`] after
    /// `timeout`.
    pub fn result_timeout(&self, timeout: Duration) -> Result<Value, ClientError> {
        Ok(self.inner.gather(std::slice::from_ref(&self.key), Some(Instant::now() + timeout))?.remove(0))
    }

    /// Its error, once it is done and failed; `None` while pending or
    /// when it finished.
    pub fn error(&self) -> Option<ClientError> {
        self.status().error(&self.key)
    }

    /// Cancels it (see [`Client::cancel`]).
    pub fn cancel(&self) {
        let keys = vec![self.key.clone()];
        post(&self.inner.out, &ClientToScheduler::CancelKeys { keys, force: false }, "the scheduler");
    }

    /// The client it belongs to.
    pub fn client(&self) -> Client {
        Client { inner: Arc::clone(&self.inner) }
    }
}

impl Clone for Future {
    fn clone(&self) -> Self {
        self.inner.tracker.retain(std::slice::from_ref(&self.key), None);
        Future { key: self.key.clone(), inner: Arc::clone(&self.inner) }
    }
}

impl Drop for Future {
    fn drop(&mut self) {
        self.inner.release(std::slice::from_ref(&self.key));
    }
}

impl std::fmt::Debug for Future {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Future({}, {:?})", self.key, self.status())
    }
}

/// A future as a task argument: the task reads its result.
impl From<&Future> for Arg<Key> {
    fn from(f: &Future) -> Arg<Key> {
        Arg::Ref(f.key.clone())
    }
}

/// Futures in the order they complete; see [`Client::as_completed`].
pub struct AsCompleted {
    inner: Arc<Inner>,
    pending: Vec<Future>,
    ready: VecDeque<Future>,
}

impl AsCompleted {
    pub(crate) fn new(inner: Arc<Inner>, pending: Vec<Future>) -> Self {
        AsCompleted { inner, pending, ready: VecDeque::new() }
    }

    /// Adds a future to wait for.
    pub fn add(&mut self, f: Future) {
        self.pending.push(f);
    }

    /// Whether every future was handed out.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.ready.is_empty()
    }

    /// The next future to complete; `Ok(None)` when none is left, or when
    /// `timeout` passed first.
    pub fn next_timeout(&mut self, timeout: Option<Duration>) -> Result<Option<Future>, ClientError> {
        if self.ready.is_empty() && !self.pending.is_empty() {
            let keys: Vec<Key> = self.pending.iter().map(|f| f.key.clone()).collect();
            let deadline = timeout.map(|t| Instant::now() + t);
            let Some(done) = self.inner.tracker.wait_done(&keys, 1, deadline).map_err(|e| self.inner.closed(e))? else {
                return Ok(None);
            };
            // Everything done by now, in one pass, keeping the rest's order.
            let mut is_done = vec![false; self.pending.len()];
            for i in done {
                is_done[i] = true;
            }
            let mut i = 0;
            self.pending.retain(|f| {
                let keep = !is_done[i];
                i += 1;
                if !keep {
                    self.ready.push_back(f.clone());
                }
                keep
            });
        }
        Ok(self.ready.pop_front())
    }
}

impl Iterator for AsCompleted {
    type Item = Result<Future, ClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_timeout(None).transpose()
    }
}
