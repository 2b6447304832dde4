//! Running a computation from Python: off the GIL, and stoppable with
//! Ctrl-C.
//!
//! The run happens on a helper thread while the calling thread waits with
//! the GIL released, waking every 50 ms to let Python handle signals. A
//! `KeyboardInterrupt` cancels the run (its tasks stop and their results
//! are freed) and is raised once the helper has finished.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use blockwork_local::{Callbacks, CancelToken, Config, Scheduler};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::diagnostics::PyCallback;
use crate::errors::OrPy;

/// The scheduler from Python: `("sync" | "threads", num_workers,
/// [diagnostics])` (0 workers: one per core; the active progress bars and
/// profilers of `blockwork.diagnostics`).
#[derive(FromPyObject)]
pub struct Sched(SchedName, usize, Vec<PyCallback>);

#[derive(Clone, Copy, Debug)]
enum SchedName {
    Sync,
    Threads,
}

impl<'a, 'py> FromPyObject<'a, 'py> for SchedName {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let s: String = obj.extract()?;
        match s.as_str() {
            "sync" | "synchronous" | "single-threaded" => Ok(SchedName::Sync),
            "threads" | "threading" => Ok(SchedName::Threads),
            other => Err(PyValueError::new_err(format!(
                "unknown scheduler {other:?}: use \"sync\" (also \"synchronous\", \"single-threaded\") or \"threads\""
            ))),
        }
    }
}

impl Sched {
    fn config(self, cancel: CancelToken) -> Config {
        let scheduler = match self.0 {
            SchedName::Sync => Scheduler::Sync,
            SchedName::Threads => Scheduler::Threads(self.1),
        };
        let callbacks = Callbacks(self.2.into_iter().map(|c| c.0).collect());
        Config { cancel: Some(cancel), callbacks, ..Config::with_scheduler(scheduler) }
    }
}

type Slot<R, E> = Arc<(Mutex<Option<Result<R, E>>>, Condvar)>;

/// Runs `f` with the scheduler's config on a helper thread, the GIL
/// released; Ctrl-C cancels it.
pub fn run<R: Send + 'static, E: Send + 'static>(
    py: Python<'_>,
    sched: Sched,
    f: impl FnOnce(&Config) -> Result<R, E> + Send + 'static,
) -> PyResult<R>
where
    Result<R, E>: OrPy<R>,
{
    let token = CancelToken::new();
    let config = sched.config(token.clone());
    let slot: Slot<R, E> = Arc::new((Mutex::new(None), Condvar::new()));
    let theirs = Arc::clone(&slot);
    let handle = std::thread::Builder::new()
        .name("blockwork-compute".into())
        .spawn(move || {
            let out = f(&config);
            drop(config);
            let (lock, cv) = &*theirs;
            *lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(out);
            cv.notify_all();
        })
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start a compute thread: {e}")))?;
    let wait = |timeout: Option<Duration>| {
        let (lock, cv) = &*slot;
        let mut g = lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(out) = g.take() {
                return Some(out);
            }
            match timeout {
                Some(t) => {
                    let (g2, res) = cv.wait_timeout(g, t).unwrap_or_else(|p| p.into_inner());
                    g = g2;
                    if res.timed_out() {
                        return g.take();
                    }
                }
                None => g = cv.wait(g).unwrap_or_else(|p| p.into_inner()),
            }
        }
    };
    // The helper is joined with the GIL released: its thread state (kept
    // for Python tasks, see `pytask`) is freed as it ends, which takes the GIL.
    loop {
        if let Some(out) = py.detach(|| wait(Some(Duration::from_millis(50)))) {
            py.detach(|| handle.join()).ok();
            return out.py();
        }
        if let Err(interrupt) = py.check_signals() {
            token.cancel();
            py.detach(|| {
                wait(None);
                handle.join()
            })
            .ok();
            return Err(interrupt);
        }
        if handle.is_finished() {
            // The helper ended without a result: it panicked.
            if let Some(out) = wait(Some(Duration::ZERO)) {
                return out.py();
            }
            return Err(pyo3::exceptions::PyRuntimeError::new_err("the compute thread panicked"));
        }
    }
}
