//! The engine's progress bar and profilers for `blockwork.diagnostics`.
//!
//! Each is a run callback of the local scheduler; the Python objects hold
//! them while active (`with Profiler(): ...`) and `run` passes the active
//! ones to every compute. Profilers gather the records of every run while
//! they are active, stamped in seconds since the epoch (as Dask's).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use blockwork_graph::{Graph, TaskId};
use blockwork_local::{Callback, Profiler, ProgressBar, ResourceProfiler};
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// A callback object from Python.
pub struct PyCallback(pub Arc<dyn Callback>);

impl<'a, 'py> FromPyObject<'a, 'py> for PyCallback {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(p) = obj.cast::<PyProgress>() {
            return Ok(PyCallback(p.get().0.clone()));
        }
        if let Ok(p) = obj.cast::<PyProfiler>() {
            return Ok(PyCallback(p.get().0.clone()));
        }
        if let Ok(p) = obj.cast::<PyResources>() {
            return Ok(PyCallback(p.get().0.clone()));
        }
        Err(pyo3::exceptions::PyTypeError::new_err("expected a ProgressBar, Profiler or ResourceProfiler"))
    }
}

/// A progress bar on standard error for runs longer than `minimum` seconds.
#[pyclass(frozen, module = "blockwork._core", name = "ProgressBar")]
pub struct PyProgress(Arc<ProgressBar>);

#[pymethods]
impl PyProgress {
    #[new]
    #[pyo3(signature = (minimum = 0.0))]
    fn new(minimum: f64) -> Self {
        PyProgress(Arc::new(ProgressBar::new(Duration::from_secs_f64(minimum.max(0.0)))))
    }

    /// Tasks finished in the current or last run.
    #[getter]
    fn completed(&self) -> u64 {
        self.0.completed()
    }
}

/// Records of every task: (key, thread, start, end, ok), times in seconds
/// since the epoch.
type TaskRow = (String, usize, f64, f64, bool);

/// The engine's profiler, gathering the records of every run it sees.
pub struct Gathering {
    profiler: Profiler,
    started: Mutex<f64>,
    rows: Mutex<Vec<TaskRow>>,
}

impl Callback for Gathering {
    fn start(&self, graph: &Graph, nthreads: usize) {
        *self.started.lock().unwrap_or_else(|p| p.into_inner()) = now();
        self.profiler.start(graph, nthreads);
    }

    fn task_start(&self, graph: &Graph, task: TaskId, worker: usize) {
        self.profiler.task_start(graph, task, worker);
    }

    fn task_finish(&self, graph: &Graph, task: TaskId, worker: usize, ok: bool) {
        self.profiler.task_finish(graph, task, worker, ok);
    }

    fn finish(&self, graph: &Graph, ok: bool) {
        self.profiler.finish(graph, ok);
        let t0 = *self.started.lock().unwrap_or_else(|p| p.into_inner());
        let rows = self
            .profiler
            .records()
            .into_iter()
            .map(|r| (r.key.to_string(), r.worker, t0 + r.start.as_secs_f64(), t0 + r.end.as_secs_f64(), r.ok));
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).extend(rows);
    }
}

/// Task timings of every run while active (`dask.diagnostics.Profiler`).
#[pyclass(frozen, module = "blockwork._core", name = "Profiler")]
pub struct PyProfiler(Arc<Gathering>);

#[pymethods]
impl PyProfiler {
    #[new]
    fn new() -> Self {
        PyProfiler(Arc::new(Gathering { profiler: Profiler::new(), started: Mutex::new(0.0), rows: Mutex::default() }))
    }

    /// (key, thread, start, end, ok) of every task run, in seconds since the epoch.
    fn records(&self) -> Vec<TaskRow> {
        self.0.rows.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Writes the last run's timeline (a task per bar, a row per thread) as
    /// one self-contained HTML file.
    fn write_html(&self, path: std::path::PathBuf) -> PyResult<()> {
        self.0.profiler.write_html(&path, None).map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))
    }
}

/// The engine's resource sampler, gathering samples of every run it sees.
pub struct Sampling {
    sampler: ResourceProfiler,
    started: Mutex<f64>,
    rows: Mutex<Vec<(f64, f64, f64)>>,
}

impl Callback for Sampling {
    fn start(&self, graph: &Graph, nthreads: usize) {
        *self.started.lock().unwrap_or_else(|p| p.into_inner()) = now();
        self.sampler.start(graph, nthreads);
    }

    fn finish(&self, graph: &Graph, ok: bool) {
        self.sampler.finish(graph, ok);
        let t0 = *self.started.lock().unwrap_or_else(|p| p.into_inner());
        let rows = self
            .sampler
            .samples()
            .into_iter()
            .map(|s| (t0 + s.time.as_secs_f64(), s.rss_bytes as f64 / 1e6, s.cpu_percent));
        self.rows.lock().unwrap_or_else(|p| p.into_inner()).extend(rows);
    }
}

/// Memory and CPU of this process sampled every `dt` seconds while runs
/// last (`dask.diagnostics.ResourceProfiler`).
#[pyclass(frozen, module = "blockwork._core", name = "ResourceProfiler")]
pub struct PyResources(Arc<Sampling>);

#[pymethods]
impl PyResources {
    #[new]
    #[pyo3(signature = (dt = 1.0))]
    fn new(dt: f64) -> Self {
        let sampler = ResourceProfiler::new(Duration::from_secs_f64(dt.max(0.001)));
        PyResources(Arc::new(Sampling { sampler, started: Mutex::new(0.0), rows: Mutex::default() }))
    }

    /// (time since the epoch, resident MB, CPU percent) of every sample.
    fn samples(&self) -> Vec<(f64, f64, f64)> {
        self.0.rows.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
