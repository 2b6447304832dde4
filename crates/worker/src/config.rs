//! Tunables of a worker, with Dask's defaults where they make sense.

use std::time::Duration;

use crate::error::WorkerError;

/// Worker settings. [`Config::new`] gives the defaults for `nthreads`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Tasks executed at once (threads of the worker's pool).
    pub nthreads: u32,
    /// Tasks handed to the thread pool ahead of a free thread, so that a
    /// thread that finishes one starts the next without waiting for the
    /// loop to hear of it (Ray's task pipelining). Such a task counts as
    /// executing: it is no longer stolen or reprioritized. Default
    /// `nthreads`, one queued per thread.
    pub pipeline: u32,
    /// Transfers from peers in flight at once (Dask's
    /// `transfer-incoming-count-limit`). Default 4.
    pub max_concurrent_fetches: u32,
    /// Bytes asked of one peer in one transfer: keys of that peer are
    /// batched until the next would exceed it (the first key always
    /// goes, however big). Default 50 MB (Dask's
    /// `transfer-message-bytes-limit`).
    pub transfer_bytes: u64,
    /// Transfers to peers served at once; a request beyond is answered
    /// busy. Default 4.
    pub max_outgoing: u32,
    /// How long a peer that answered busy is left alone. Default 100 ms.
    pub busy_backoff: Duration,
}

impl Config {
    /// The defaults, with `nthreads` threads.
    pub fn new(nthreads: u32) -> Config {
        Config {
            nthreads,
            pipeline: nthreads,
            max_concurrent_fetches: 4,
            transfer_bytes: 50_000_000,
            max_outgoing: 4,
            busy_backoff: Duration::from_millis(100),
        }
    }

    /// Tasks executing or handed to the pool at once.
    pub fn slots(&self) -> u32 {
        self.nthreads.saturating_add(self.pipeline)
    }

    /// Checks the settings, naming the one at fault.
    pub fn validate(&self) -> Result<(), WorkerError> {
        if self.nthreads == 0 {
            return Err(WorkerError::InvalidConfig("nthreads must be at least 1".into()));
        }
        if self.max_concurrent_fetches == 0 {
            return Err(WorkerError::InvalidConfig("max_concurrent_fetches must be at least 1".into()));
        }
        if self.max_outgoing == 0 {
            return Err(WorkerError::InvalidConfig("max_outgoing must be at least 1".into()));
        }
        Ok(())
    }
}
