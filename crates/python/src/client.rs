//! `blockwork.distributed`'s engine side: a client of a scheduler, its
//! futures, the scheduler a `LocalCluster` starts in this process, and the
//! entry point of `python -m blockwork worker`.
//!
//! Every call that waits (compute, gather, wait, a future's result) waits
//! with the GIL released, waking every 50 ms so that Ctrl-C is seen: an
//! interrupted compute cancels what it submitted.

use std::sync::Arc;
use std::time::Duration;

use blockwork::distributed::{
    serve_scheduler, AsCompleted, Client, ClientError, Future, Retire, SchedulerHandle, SchedulerOptions, Served,
    Status, TaskOptions,
};
use blockwork_graph::{lit, r, Arg, Graph, Key, Op, Task, Value};
use pyo3::exceptions::{PyConnectionError, PyRuntimeError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::array::PyArr;
use crate::buffer::{assemble_dyn, buffer_of, NdBuffer};
use crate::errors::OrPy;
use crate::frame::{columns_out, PyArrowColumn, PyFrame};
use crate::remote::{from_value, raised_remotely, Pickled, PY_CALL};
use blockwork_array::dyn_each as each;

/// A worker's figures for `scheduler_info`.
type WorkerRow = (u32, String, String, u32, u64, usize, usize, u64, u64, u64, u64, bool);

/// Workers retired (addresses), and those refused with why.
type RetireOutcome = (Vec<String>, Vec<(String, String)>);

/// A client error as the Python exception a Dask user expects: a task's
/// own exception raised again, `CancelledError`, `TimeoutError`,
/// `ConnectionError`, `ValueError` for a graph the scheduler cannot take.
pub(crate) fn to_py(py: Python<'_>, e: ClientError) -> PyErr {
    match e {
        ClientError::Task { key, message, .. } => raised_remotely(py, &key.to_string(), &message)
            .unwrap_or_else(|| PyRuntimeError::new_err(format!("task {key} failed: {message}"))),
        ClientError::Cancelled(_) => match py.import("concurrent.futures").and_then(|m| m.getattr("CancelledError")) {
            Ok(t) => PyErr::from_type(t.cast_into().expect("CancelledError is a type"), e.to_string()),
            Err(err) => err,
        },
        ClientError::Timeout(_) => PyTimeoutError::new_err(e.to_string()),
        ClientError::Conn { .. } | ClientError::Worker { .. } => PyConnectionError::new_err(e.to_string()),
        ClientError::NoWorker(_) => PyValueError::new_err(e.to_string()),
        ClientError::Lost(_) | ClientError::InAsync(_) => PyRuntimeError::new_err(e.to_string()),
        ClientError::Encode(blockwork_protocol::EncodeError::LocalOp { key, .. }) => PyValueError::new_err(format!(
            "task {key} runs a function that exists only in this process and cannot go to a cluster: \
             compute it with scheduler=\"threads\""
        )),
        ClientError::Graph(_) | ClientError::Encode(_) | ClientError::Refused(_) | ClientError::OtherClient(_) => {
            PyValueError::new_err(e.to_string())
        }
    }
}

/// Runs `f` with the GIL released, in slices of at most 50 ms (`f` is
/// given the slice's timeout and answers `None` while not done), checking
/// for Ctrl-C between them until `deadline`.
fn waiting<R>(
    py: Python<'_>,
    timeout: Option<Duration>,
    mut f: impl FnMut(Duration) -> Result<Option<R>, ClientError> + Send,
) -> PyResult<Option<R>>
where
    R: Send,
{
    let deadline = timeout.map(|t| std::time::Instant::now() + t);
    loop {
        let slice = match deadline {
            Some(d) => d.saturating_duration_since(std::time::Instant::now()).min(Duration::from_millis(50)),
            None => Duration::from_millis(50),
        };
        if let Some(out) = py.detach(|| f(slice)).map_err(|e| to_py(py, e))? {
            return Ok(Some(out));
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Ok(None);
        }
    }
}

pub(crate) fn seconds(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout
        .map(|t| {
            Duration::try_from_secs_f64(t).map_err(|_| {
                PyValueError::new_err(format!("timeout must be a non-negative number of seconds, not {t}"))
            })
        })
        .transpose()
}

/// A connection to a scheduler (see `blockwork.distributed.Client`).
/// A Python sequence of futures, as the client's calls take them.
struct Futures(Vec<Future>);

impl<'a, 'py> FromPyObject<'a, 'py> for Futures {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let fs: Vec<PyRef<'py, PyFuture>> = obj.extract()?;
        Ok(Futures(fs.iter().map(|f| f.0.clone()).collect()))
    }
}

#[pyclass(frozen, module = "blockwork._core", name = "Client")]
pub struct PyClient(pub(crate) Client);

/// A result on the cluster (see `blockwork.distributed.Future`).
#[pyclass(frozen, module = "blockwork._core", name = "Future")]
pub struct PyFuture(pub(crate) Future);

/// Futures as they complete (see `blockwork.distributed.as_completed`).
#[pyclass(module = "blockwork._core", name = "AsCompleted")]
pub struct PyAsCompleted(AsCompleted);

/// A scheduler serving in this process (see `LocalCluster`).
#[pyclass(module = "blockwork._core", name = "Scheduler")]
pub struct PyScheduler(Option<(Served<SchedulerHandle>, String)>);

impl PyClient {
    /// Submits `graph` and gathers `keys`, cancelling them on Ctrl-C.
    fn run(&self, py: Python<'_>, graph: Graph, keys: &[Key]) -> PyResult<Vec<Value>> {
        let futures = py.detach(|| self.0.persist(graph, keys)).map_err(|e| to_py(py, e))?;
        let gathered = waiting(py, None, |slice| match self.0.gather_timeout(&futures, slice) {
            Ok(v) => Ok(Some(v)),
            Err(ClientError::Timeout(_)) => Ok(None),
            Err(e) => Err(e),
        });
        if gathered.is_err() {
            self.0.cancel(&futures, false);
        }
        Ok(gathered?.unwrap_or_default())
    }

    fn gather_values(&self, py: Python<'_>, fs: &[Future], timeout: Option<f64>) -> PyResult<Vec<Value>> {
        let out = waiting(py, seconds(timeout)?, |slice| match self.0.gather_timeout(fs, slice) {
            Ok(v) => Ok(Some(v)),
            Err(ClientError::Timeout(_)) => Ok(None),
            Err(e) => Err(e),
        })?;
        out.ok_or_else(|| PyTimeoutError::new_err(format!("gather: not done after {timeout:?} s")))
    }

    /// Submits `graph` with placement `opts`; the futures of `outputs`.
    fn persist_graph(
        &self,
        py: Python<'_>,
        graph: Graph,
        outputs: &[Key],
        opts: TaskOptions,
    ) -> PyResult<Vec<PyFuture>> {
        let futures = py.detach(|| self.0.persist_with(graph, outputs, &opts)).map_err(|e| to_py(py, e))?;
        Ok(futures.into_iter().map(PyFuture).collect())
    }
}

/// The options of `submit`, `compute` and `persist`: retries, the workers
/// the tasks may run on (addresses or names; elsewhere too while none of
/// them runs with `allow_other_workers`) and their priority.
fn placement(retries: u32, workers: Vec<String>, allow_other_workers: bool, priority: i32) -> TaskOptions {
    let mut opts = TaskOptions::default().retries(retries).priority(priority);
    opts.workers = workers;
    opts.allow_other_workers = allow_other_workers;
    opts
}

/// The graph of arrays and the keys of each one's blocks.
fn array_graph(arrays: &[PyRef<'_, PyArr>]) -> PyResult<(Graph, Vec<Vec<Key>>)> {
    let layers: Vec<Arc<blockwork_array::Layer>> = arrays.iter().map(|a| each!(&a.0, x => x.layer().clone())).collect();
    let refs: Vec<&Arc<blockwork_array::Layer>> = layers.iter().collect();
    let graph = blockwork_graph::layer::collect(&refs).map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok((graph, arrays.iter().map(|a| each!(&a.0, x => x.keys())).collect()))
}

/// What `persist` takes.
#[derive(FromPyObject)]
enum Collection<'py> {
    Array(PyRef<'py, PyArr>),
    Frame(PyRef<'py, PyFrame>),
}

/// A graph of Python callables as four lists, `(keys, funcs, deps,
/// outputs)`: task `i` is the pickled callable `funcs[i]` called with the
/// results of the tasks `deps[i]`; `outputs` are the indices of the tasks
/// wanted.
#[derive(FromPyObject)]
struct TaskLists(Vec<String>, Vec<Vec<u8>>, Vec<Vec<u32>>, Vec<u32>);

/// The graph of Python callables and the keys of its outputs.
fn python_graph(TaskLists(keys, funcs, deps, outputs): TaskLists) -> PyResult<(Graph, Vec<Key>)> {
    if keys.len() != funcs.len() || keys.len() != deps.len() {
        return Err(PyValueError::new_err("one key, callable and dependency list per task"));
    }
    let ks: Vec<Key> = keys.iter().map(|k| Key::new(k.as_str())).collect();
    let mut tasks = Vec::with_capacity(ks.len());
    for ((key, func), ds) in ks.iter().zip(funcs).zip(deps) {
        let mut args = Vec::with_capacity(ds.len());
        for d in ds {
            let dep =
                ks.get(d as usize).ok_or_else(|| PyValueError::new_err(format!("task index {d} is out of range")))?;
            args.push(r(dep.clone()));
        }
        let op = Op::named(&PY_CALL, Value::Bytes(Arc::from(func)));
        tasks.push((key.clone(), Task::new(op, args)));
    }
    let graph = Graph::from_tasks(tasks).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let out = outputs
        .iter()
        .map(|&o| {
            ks.get(o as usize).cloned().ok_or_else(|| PyValueError::new_err(format!("output {o} is out of range")))
        })
        .collect::<PyResult<_>>()?;
    Ok((graph, out))
}

#[pymethods]
impl PyClient {
    #[new]
    fn new(py: Python<'_>, address: &str) -> PyResult<PyClient> {
        crate::remote::register(false);
        blockwork_array::register_codecs();
        // Partitions (Arrow IPC) and the labeled readers' values.
        blockwork::register_builtins();
        let addr = address.trim_start_matches("tcp://").to_string();
        py.detach(|| Client::connect(&addr)).map(PyClient).map_err(|e| to_py(py, e))
    }

    /// Publishes futures and a pickled template under `name`.
    fn publish_dataset(
        &self,
        py: Python<'_>,
        name: &str,
        futures: Futures,
        meta: Vec<u8>,
        replace: bool,
    ) -> PyResult<()> {
        let Futures(futures) = futures;
        let meta = Value::Bytes(Arc::from(meta));
        py.detach(|| self.0.publish_dataset(name, &futures, meta, replace)).map_err(|e| to_py(py, e))
    }

    /// A published dataset's pickled template and futures.
    fn get_dataset<'py>(&self, py: Python<'py>, name: &str) -> PyResult<(Bound<'py, PyBytes>, Vec<PyFuture>)> {
        let d = py.detach(|| self.0.get_dataset(name)).map_err(|e| to_py(py, e))?;
        let Value::Bytes(meta) = d.meta else {
            return Err(PyValueError::new_err(format!("dataset {name:?} was not published from Python")));
        };
        Ok((PyBytes::new(py, &meta), d.futures.into_iter().map(PyFuture).collect()))
    }

    /// Withdraws a dataset.
    fn unpublish_dataset(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        py.detach(|| self.0.unpublish_dataset(name)).map_err(|e| to_py(py, e))
    }

    /// The published datasets' names, sorted.
    fn list_datasets(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        py.detach(|| self.0.list_datasets()).map_err(|e| to_py(py, e))
    }

    /// Closes the connection (futures and other handles on it stop working).
    fn close(&self) {
        self.0.close();
    }

    /// The scheduler's address, `tcp://host:port`.
    #[getter]
    fn address(&self) -> String {
        format!("tcp://{}", self.0.address())
    }

    /// Computes arrays on the cluster into NumPy buffers.
    fn compute_arrays(&self, py: Python<'_>, arrays: Vec<PyRef<'_, PyArr>>) -> PyResult<Vec<NdBuffer>> {
        let (graph, keys) = array_graph(&arrays)?;
        let all: Vec<Key> = keys.iter().flatten().cloned().collect();
        let mut values = self.run(py, graph, &all)?.into_iter();
        arrays
            .iter()
            .zip(&keys)
            .map(|(a, k)| assemble_dyn(&a.0, values.by_ref().take(k.len()).collect()).py().map(buffer_of))
            .collect()
    }

    /// Computes a dataframe on the cluster into Arrow columns.
    fn compute_frame(&self, py: Python<'_>, frame: PyRef<'_, PyFrame>) -> PyResult<Vec<PyArrowColumn>> {
        let df = frame.0.clone();
        let values = self.run(py, df.graph().py()?, &df.keys())?;
        py.detach(|| df.assemble(values)).py().map(|df| columns_out(py, df))
    }

    /// Submits an array's or a dataframe's graph; returns the futures of
    /// its blocks or partitions (held: later computes of this client reuse
    /// them).
    #[pyo3(signature = (collection, workers=Vec::new(), allow_other_workers=false, priority=0))]
    fn persist(
        &self,
        py: Python<'_>,
        collection: Collection<'_>,
        workers: Vec<String>,
        allow_other_workers: bool,
        priority: i32,
    ) -> PyResult<Vec<PyFuture>> {
        let (graph, keys) = match collection {
            Collection::Array(array) => {
                let (graph, mut keys) = array_graph(std::slice::from_ref(&array))?;
                (graph, keys.swap_remove(0))
            }
            Collection::Frame(frame) => (frame.0.graph().py()?, frame.0.keys()),
        };
        self.persist_graph(py, graph, &keys, placement(0, workers, allow_other_workers, priority))
    }

    /// Gathers the blocks of `array` (its futures, from `persist`)
    /// into a NumPy buffer, waiting at most `timeout` seconds.
    #[pyo3(signature = (array, futures, timeout=None))]
    fn gather_array(
        &self,
        py: Python<'_>,
        array: PyRef<'_, PyArr>,
        futures: Futures,
        timeout: Option<f64>,
    ) -> PyResult<NdBuffer> {
        let values = self.gather_values(py, &futures.0, timeout)?;
        assemble_dyn(&array.0, values).py().map(buffer_of)
    }

    /// Computes a graph of pickled Python callables (`TaskLists`);
    /// returns the objects of its outputs.
    fn compute_tasks(&self, py: Python<'_>, tasks: TaskLists) -> PyResult<Vec<Py<PyAny>>> {
        let (graph, out) = python_graph(tasks)?;
        self.run(py, graph, &out)?.iter().map(|v| from_value(py, v)).collect()
    }

    /// Submits a graph of pickled Python callables (`TaskLists`); returns
    /// futures of its outputs.
    #[pyo3(signature = (tasks, workers=Vec::new(), allow_other_workers=false, priority=0))]
    fn persist_tasks(
        &self,
        py: Python<'_>,
        tasks: TaskLists,
        workers: Vec<String>,
        allow_other_workers: bool,
        priority: i32,
    ) -> PyResult<Vec<PyFuture>> {
        let (graph, out) = python_graph(tasks)?;
        self.persist_graph(py, graph, &out, placement(0, workers, allow_other_workers, priority))
    }

    /// Submits one call: `func` (pickled) with `args`, each a future (its
    /// result) or bytes (a pickled value); `retries` reruns on failure.
    #[pyo3(signature = (key, func, args, retries=0, workers=Vec::new(), allow_other_workers=false, priority=0))]
    #[allow(clippy::too_many_arguments)] // Python's keyword arguments
    fn submit(
        &self,
        py: Python<'_>,
        key: &str,
        func: Vec<u8>,
        args: Vec<Bound<'_, PyAny>>,
        retries: u32,
        workers: Vec<String>,
        allow_other_workers: bool,
        priority: i32,
    ) -> PyResult<PyFuture> {
        let mut task_args: Vec<Arg<Key>> = Vec::with_capacity(args.len());
        for a in &args {
            if let Ok(f) = a.cast::<PyFuture>() {
                task_args.push(r(f.get().0.key().clone()));
            } else if let Ok(b) = a.cast::<PyBytes>() {
                task_args.push(lit(Value::object(Pickled(Arc::from(b.as_bytes())))));
            } else {
                return Err(PyValueError::new_err("submit's arguments are futures or pickled values"));
            }
        }
        let task = Task::new(Op::named(&PY_CALL, Value::Bytes(Arc::from(func))), task_args);
        let opts = placement(retries, workers, allow_other_workers, priority);
        py.detach(|| self.0.submit_task(Key::new(key), task, &opts)).map(PyFuture).map_err(|e| to_py(py, e))
    }

    /// Runs a pickled callable now on every running worker (or those
    /// `workers` names), beside their tasks: `(address, result)` pairs; the
    /// first failure is raised.
    #[pyo3(signature = (func, workers=Vec::new()))]
    fn run_on_workers(
        &self,
        py: Python<'_>,
        func: Vec<u8>,
        workers: Vec<String>,
    ) -> PyResult<Vec<(String, Py<PyAny>)>> {
        let params = Value::Bytes(Arc::from(func));
        let results = py.detach(|| self.0.run_on(&PY_CALL, params, vec![], &workers)).map_err(|e| to_py(py, e))?;
        results
            .into_iter()
            .map(|(address, r)| {
                let v = r.map_err(|e| to_py(py, e))?;
                Ok((address, from_value(py, &v)?))
            })
            .collect()
    }

    /// Sends pickled values to the workers; returns their futures.
    fn scatter(&self, py: Python<'_>, values: Vec<Vec<u8>>) -> PyResult<Vec<PyFuture>> {
        let values = values.into_iter().map(|v| Value::object(Pickled(Arc::from(v)))).collect();
        let futures = py.detach(|| self.0.scatter(values)).map_err(|e| to_py(py, e))?;
        Ok(futures.into_iter().map(PyFuture).collect())
    }

    /// The results of `futures` (unpickled), waiting at most `timeout`
    /// seconds.
    #[pyo3(signature = (futures, timeout=None))]
    fn gather(&self, py: Python<'_>, futures: Futures, timeout: Option<f64>) -> PyResult<Vec<Py<PyAny>>> {
        let values = self.gather_values(py, &futures.0, timeout)?;
        values.iter().map(|v| from_value(py, v)).collect()
    }

    /// Copies the futures' results onto `n` workers (all when None),
    /// waiting at most `timeout` seconds.
    #[pyo3(signature = (futures, n=None, timeout=300.0))]
    fn replicate(&self, py: Python<'_>, futures: Futures, n: Option<usize>, timeout: f64) -> PyResult<()> {
        let Futures(fs) = futures;
        let timeout = seconds(Some(timeout))?.unwrap_or(Duration::from_secs(300));
        py.detach(|| self.0.replicate(&fs, n, timeout)).map_err(|e| to_py(py, e))
    }

    /// Moves results (of `keys`, among `workers`; none: all) so the
    /// workers hold about equal bytes; the number of results moved.
    #[pyo3(signature = (keys, workers, timeout=300.0))]
    fn rebalance(&self, py: Python<'_>, keys: Vec<String>, workers: Vec<String>, timeout: f64) -> PyResult<usize> {
        let keys: Vec<Key> = keys.iter().map(|k| Key::new(k.as_str())).collect();
        let timeout = seconds(Some(timeout))?.unwrap_or(Duration::from_secs(300));
        py.detach(|| self.0.rebalance(&keys, &workers, timeout)).map(|m| m.len()).map_err(|e| to_py(py, e))
    }

    /// Cancels every client's futures and frees every result.
    fn restart(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.0.restart()).map(|_| ()).map_err(|e| to_py(py, e))
    }

    /// The addresses of the workers holding each key (every key in memory
    /// when none is named).
    fn who_has(&self, py: Python<'_>, keys: Vec<String>) -> PyResult<Vec<(String, Vec<String>)>> {
        let keys: Vec<Key> = keys.iter().map(|k| Key::new(k.as_str())).collect();
        let held = py.detach(|| self.0.who_has(&keys)).map_err(|e| to_py(py, e))?;
        Ok(held.into_iter().map(|(k, ws)| (k.to_string(), ws)).collect())
    }

    /// The keys each worker (by address or name; every worker when none is
    /// named) holds, by address.
    fn has_what(&self, py: Python<'_>, workers: Vec<String>) -> PyResult<Vec<(String, Vec<String>)>> {
        let held = py.detach(|| self.0.has_what(&workers)).map_err(|e| to_py(py, e))?;
        Ok(held.into_iter().map(|(w, ks)| (w, ks.iter().map(|k| k.to_string()).collect())).collect())
    }

    /// The scheduler's task and client counts, and each worker's figures:
    /// (id, address, name, nthreads, memory limit, tasks processing, keys
    /// held, bytes held, managed, spilled, unmanaged, retiring).
    fn scheduler_info(&self, py: Python<'_>) -> PyResult<(u64, u64, Vec<WorkerRow>)> {
        let info = py.detach(|| self.0.scheduler_info()).map_err(|e| to_py(py, e))?;
        let rows = info
            .workers
            .iter()
            .map(|w| {
                (
                    w.id.0,
                    w.address.to_string(),
                    w.name.to_string(),
                    w.nthreads,
                    w.memory_limit,
                    w.processing,
                    w.keys_held,
                    w.nbytes,
                    w.memory.managed,
                    w.memory.spilled,
                    w.memory.unmanaged,
                    w.retiring,
                )
            })
            .collect();
        Ok((info.tasks, info.clients, rows))
    }

    /// Retires workers gracefully (by address or name; with none named,
    /// `n` picked by the scheduler): their results move to the others,
    /// then they stop. Returns the addresses retired and, for those not
    /// retired, (address, why).
    #[pyo3(signature = (workers, n, timeout))]
    fn retire_workers(&self, py: Python<'_>, workers: Vec<String>, n: usize, timeout: f64) -> PyResult<RetireOutcome> {
        let which = if workers.is_empty() { Retire::Count(n) } else { Retire::Workers(workers) };
        let timeout = Duration::try_from_secs_f64(timeout)
            .map_err(|_| PyValueError::new_err(format!("timeout {timeout} is not a number of seconds")))?;
        let out = py.detach(|| self.0.retire_workers(which, timeout)).map_err(|e| to_py(py, e))?;
        Ok((out.retired, out.refused))
    }

    /// Cancels `futures` (with `force`, for every client that wants them).
    #[pyo3(signature = (futures, force=false))]
    fn cancel(&self, futures: Futures, force: bool) {
        self.0.cancel(&futures.0, force);
    }

    /// Waits until all (or, with `first`, one) of `futures` are done, or
    /// `timeout` seconds pass: the indices of those done and not done.
    #[pyo3(signature = (futures, timeout=None, first=false))]
    fn wait(
        &self,
        py: Python<'_>,
        futures: Futures,
        timeout: Option<f64>,
        first: bool,
    ) -> PyResult<(Vec<usize>, Vec<usize>)> {
        let Futures(fs) = futures;
        let want = if first { fs.len().min(1) } else { fs.len() };
        waiting(py, seconds(timeout)?, |slice| {
            let (done, _) = if first { self.0.wait_first(&fs, Some(slice))? } else { self.0.wait(&fs, Some(slice))? };
            Ok((done.len() >= want).then_some(()))
        })?;
        Ok((0..fs.len()).partition(|&i| fs[i].done()))
    }

    /// Futures in the order they complete.
    fn as_completed(&self, py: Python<'_>, futures: Futures) -> PyResult<PyAsCompleted> {
        self.0.as_completed(futures.0).map(PyAsCompleted).map_err(|e| to_py(py, e))
    }
}

#[pymethods]
impl PyFuture {
    /// The task's key.
    #[getter]
    fn key(&self) -> String {
        self.0.key().to_string()
    }

    /// "pending", "finished", "error" or "cancelled".
    #[getter]
    fn status(&self) -> &'static str {
        match self.0.status() {
            Status::Pending => "pending",
            Status::Finished => "finished",
            Status::Erred(_) => "error",
            Status::Cancelled => "cancelled",
            Status::Refused(_) => "error",
        }
    }

    /// Whether it finished, failed or was cancelled.
    fn done(&self) -> bool {
        self.0.done()
    }

    /// Its value, waiting at most `timeout` seconds; a failed task's
    /// exception is raised again.
    #[pyo3(signature = (timeout=None))]
    fn result(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let out = waiting(py, seconds(timeout)?, |slice| match self.0.result_timeout(slice) {
            Ok(v) => Ok(Some(v)),
            Err(ClientError::Timeout(_)) => Ok(None),
            Err(e) => Err(e),
        })?;
        let v = out.ok_or_else(|| PyTimeoutError::new_err(format!("{} not done after {timeout:?} s", self.0.key())))?;
        from_value(py, &v)
    }

    /// The exception of a failed task (waiting for it to end), else None.
    #[pyo3(signature = (timeout=None))]
    fn exception(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        match self.result(py, timeout) {
            Ok(_) => Ok(None),
            Err(e) if e.is_instance_of::<PyTimeoutError>(py) && !self.0.done() => Err(e),
            Err(e) => Ok(Some(e.into_value(py).into_any())),
        }
    }

    /// Cancels it.
    fn cancel(&self) {
        self.0.cancel();
    }
}

#[pymethods]
impl PyAsCompleted {
    /// The next future to complete, waiting at most `timeout` seconds;
    /// None when none is left (or the time passed).
    #[pyo3(signature = (timeout=None))]
    fn next(&mut self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<PyFuture>> {
        let it = &mut self.0;
        let out = waiting(py, seconds(timeout)?, |slice| match it.next_timeout(Some(slice))? {
            Some(f) => Ok(Some(Some(f))),
            None if it.is_empty() => Ok(Some(None)),
            None => Ok(None),
        })?;
        Ok(out.flatten().map(PyFuture))
    }

    /// Adds a future to wait for.
    fn add(&mut self, future: PyRef<'_, PyFuture>) {
        self.0.add(future.0.clone());
    }
}

#[pymethods]
impl PyScheduler {
    /// Starts a scheduler on `address` (`host:port`; port 0 picks one),
    /// with its dashboard and HTTP API on `dashboard_address` (another
    /// port when that one is taken; None: none).
    #[new]
    #[pyo3(signature = (address, dashboard_address = None))]
    fn new(py: Python<'_>, address: &str, dashboard_address: Option<String>) -> PyResult<PyScheduler> {
        // Every function this build has, so the handshake compares their
        // parameter layouts with each worker's when it joins (a worker
        // built from other sources is refused then, not at a later gather).
        crate::remote::register(false);
        blockwork::register_builtins();
        let options = SchedulerOptions { http: dashboard_address, ..SchedulerOptions::default() };
        let (served, addr) = py
            .detach(|| serve_scheduler(address, options))
            .map_err(|e| PyRuntimeError::new_err(format!("starting a scheduler on {address}: {e}")))?;
        Ok(PyScheduler(Some((served, format!("tcp://{addr}")))))
    }

    /// The dashboard's address, `http://host:port/status`, if it serves one.
    #[getter]
    fn dashboard_link(&self) -> Option<String> {
        let http = self.0.as_ref()?.0.handle().http_address()?;
        Some(format!("http://{http}/status"))
    }

    /// Its address, `tcp://host:port`.
    #[getter]
    fn address(&self) -> PyResult<String> {
        self.0.as_ref().map(|(_, a)| a.clone()).ok_or_else(|| PyRuntimeError::new_err("the scheduler was closed"))
    }

    /// Stops it.
    fn close(&mut self, py: Python<'_>) {
        let served = self.0.take();
        py.detach(|| drop(served));
    }
}

/// A performance report being recorded (see
/// `blockwork.distributed.performance_report`).
#[pyclass(frozen, module = "blockwork._core", name = "PerformanceReport")]
pub struct PyPerformanceReport(blockwork::distributed::PerformanceReport);

#[pymethods]
impl PyPerformanceReport {
    /// Starts recording what the scheduler whose dashboard listens at
    /// `dashboard` (`host:port`) does.
    #[new]
    fn new(py: Python<'_>, dashboard: &str) -> PyResult<PyPerformanceReport> {
        let addr: std::net::SocketAddr = dashboard
            .parse()
            .map_err(|_| PyValueError::new_err(format!("{dashboard:?} is not a host:port address of a dashboard")))?;
        py.detach(|| blockwork::distributed::PerformanceReport::begin(addr))
            .map(PyPerformanceReport)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// Writes the report to `path`.
    fn finish(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        py.detach(|| self.0.finish(&path)).map(|_| ()).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }
}

/// `python -m blockwork worker ADDRESS [--nthreads N] [--name NAME]
/// [--memory-limit SIZE] ...`: serves as a worker that also runs Python
/// tasks, until Ctrl-C or SIGTERM, or until its scheduler is gone.
#[pyfunction]
pub fn worker_main(py: Python<'_>, args: Vec<String>) -> PyResult<()> {
    crate::remote::register(true);
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let command = blockwork::WorkerCommand::from_args(&args).map_err(|e| PyValueError::new_err(e.to_string()))?;
    py.detach(|| command.run()).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// The client of this worker's scheduler that a task (or a `run`) uses
/// (`blockwork::distributed::get_client`: `get_client()` and coordination
/// handles unpickled on a worker), or None outside a worker's threads.
#[pyfunction]
pub fn worker_client(py: Python<'_>) -> PyResult<Option<PyClient>> {
    match py.detach(blockwork::distributed::get_client) {
        Ok(client) => Ok(Some(PyClient(client))),
        Err(ClientError::NoWorker(_)) => Ok(None),
        Err(e) => Err(to_py(py, e)),
    }
}
