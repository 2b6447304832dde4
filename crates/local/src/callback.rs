//! Hooks into a run: start, before each task, after each task, finish.
//!
//! Callbacks are called from the worker threads, outside the scheduler's
//! lock, so they must be cheap and thread-safe: the progress bar counts
//! with an atomic, the profiler appends to a per-thread buffer.

use blockwork_graph::{Graph, TaskId};

/// Observes a run. Every method has an empty default.
pub trait Callback: Send + Sync {
    /// The run starts on this (optimized) graph.
    fn start(&self, _graph: &Graph, _nthreads: usize) {}
    /// Thread `worker` is about to run `task`.
    fn task_start(&self, _graph: &Graph, _task: TaskId, _worker: usize) {}
    /// Thread `worker` ran `task`; `ok` is false if it failed or panicked.
    fn task_finish(&self, _graph: &Graph, _task: TaskId, _worker: usize, _ok: bool) {}
    /// The run is over; `ok` is false if it failed or was cancelled.
    fn finish(&self, _graph: &Graph, _ok: bool) {}
}

/// A set of callbacks called in turn.
#[derive(Clone, Default)]
pub struct Callbacks(pub Vec<std::sync::Arc<dyn Callback>>);

impl Callbacks {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn start(&self, g: &Graph, n: usize) {
        self.0.iter().for_each(|c| c.start(g, n));
    }

    pub(crate) fn task_start(&self, g: &Graph, t: TaskId, w: usize) {
        self.0.iter().for_each(|c| c.task_start(g, t, w));
    }

    pub(crate) fn task_finish(&self, g: &Graph, t: TaskId, w: usize, ok: bool) {
        self.0.iter().for_each(|c| c.task_finish(g, t, w, ok));
    }

    pub(crate) fn finish(&self, g: &Graph, ok: bool) {
        self.0.iter().for_each(|c| c.finish(g, ok));
    }
}
