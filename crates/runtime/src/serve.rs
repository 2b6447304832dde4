//! Blocking entry points for processes that are only a scheduler or a
//! worker (the `blockwork scheduler` and `blockwork worker` commands, and
//! a user's own binary acting as a worker): they own their tokio runtime,
//! so callers never see one.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::RuntimeError;
use crate::scheduler::{Scheduler, SchedulerHandle, SchedulerOptions};
use crate::worker::{Worker, WorkerHandle, WorkerOptions};

/// A server running on its own runtime; dropping it shuts the server down.
pub struct Served<H> {
    handle: H,
    /// Runs the server's tasks; dropped after the handle (which shuts the
    /// server down).
    _rt: tokio::runtime::Runtime,
}

impl<H> Served<H> {
    /// The server's handle.
    pub fn handle(&self) -> &H {
        &self.handle
    }

    /// Blocks until `stop()` returns true (checked every 100 ms).
    pub fn wait_until(&self, stop: impl Fn() -> bool) {
        while !stop() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Served<WorkerHandle> {
    /// Whether the worker still serves: false once its loop has ended (it
    /// lost its scheduler, or was shut down).
    pub fn is_serving(&self) -> bool {
        self.handle.is_running()
    }
}

fn runtime(what: &str) -> Result<tokio::runtime::Runtime, RuntimeError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(format!("blockwork-{what}"))
        .enable_all()
        .build()
        .map_err(|e| RuntimeError::Conn { what: format!("starting the {what}'s runtime"), source: e.into() })
}

/// Starts a scheduler listening on `addr` (`host:port`; port 0 picks one).
pub fn serve_scheduler(
    addr: &str,
    options: SchedulerOptions,
) -> Result<(Served<SchedulerHandle>, SocketAddr), RuntimeError> {
    if crate::error::in_async_runtime() {
        return Err(RuntimeError::InAsync("serve_scheduler"));
    }
    let rt = runtime("scheduler")?;
    let (handle, local) = rt.block_on(Scheduler::bind_with(addr, options))?;
    Ok((Served { handle, _rt: rt }, local))
}

/// Starts a worker of the scheduler at `scheduler` (`host:port`).
pub fn serve_worker(scheduler: &str, options: WorkerOptions) -> Result<Served<WorkerHandle>, RuntimeError> {
    if crate::error::in_async_runtime() {
        return Err(RuntimeError::InAsync("serve_worker"));
    }
    let rt = runtime("worker")?;
    let handle = rt.block_on(Worker::start_with(scheduler, options))?;
    Ok(Served { handle, _rt: rt })
}
