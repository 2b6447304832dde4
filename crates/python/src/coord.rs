//! The coordination primitives of `blockwork.distributed` (`Variable`,
//! `Queue`, `Lock`, `Event`, `Semaphore`): handles on the scheduler's.
//!
//! Values travel pickled (the scheduler keeps their bytes); futures travel
//! as futures. A wait without end is asked of the scheduler in slices of a
//! quarter second with the GIL released, so Ctrl-C is seen between them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use blockwork::distributed::{ClientError, Event, Held, Lock, Queue, Semaphore, Shared, Variable};
use blockwork_graph::Value;
use pyo3::exceptions::{PyTimeoutError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::client::{seconds, to_py, PyClient, PyFuture};

const SLICE: Duration = Duration::from_millis(250);

/// Asks `f` with timeouts of at most [`SLICE`] until it answers `Some` or
/// `timeout` passed (`None` then), checking for Ctrl-C between slices.
fn sliced<R: Send>(
    py: Python<'_>,
    timeout: Option<Duration>,
    mut f: impl FnMut(Option<Duration>) -> Result<Option<R>, ClientError> + Send,
) -> PyResult<Option<R>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let slice = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).min(SLICE),
            None => SLICE,
        };
        if let Some(out) = py.detach(|| f(Some(slice))).map_err(|e| to_py(py, e))? {
            return Ok(Some(out));
        }
        py.check_signals()?;
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(None);
        }
    }
}

/// `f` with the GIL released, its error as Python's.
fn call<R: Send>(py: Python<'_>, f: impl FnOnce() -> Result<R, ClientError> + Send) -> PyResult<R> {
    py.detach(f).map_err(|e| to_py(py, e))
}

/// An acquire (of a lock or a lease) waiting at most `timeout` seconds:
/// one request when it must not wait, else slices.
fn acquiring(
    py: Python<'_>,
    timeout: Option<f64>,
    acquire: impl Fn(Option<Duration>) -> Result<bool, ClientError> + Send + Sync,
) -> PyResult<bool> {
    let t = seconds(timeout)?;
    if t == Some(Duration::ZERO) {
        return call(py, || acquire(t));
    }
    Ok(sliced(py, t, |t| if_true(acquire(t)))?.is_some())
}

/// A timeout reported as `None`, for [`sliced`].
fn or_none<R>(r: Result<R, ClientError>) -> Result<Option<R>, ClientError> {
    match r {
        Ok(x) => Ok(Some(x)),
        Err(ClientError::Timeout(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `False` reported as `None`, for [`sliced`].
fn if_true(r: Result<bool, ClientError>) -> Result<Option<()>, ClientError> {
    r.map(|b| b.then_some(()))
}

/// A pickled value (bytes) or a future, as stored.
fn held(item: &Bound<'_, PyAny>) -> PyResult<Held> {
    if let Ok(f) = item.cast::<PyFuture>() {
        return Ok(Held::Key(f.get().0.key().clone()));
    }
    if let Ok(b) = item.cast::<PyBytes>() {
        return Ok(Held::Value(Value::Bytes(Arc::from(b.as_bytes()))));
    }
    Err(PyTypeError::new_err(format!(
        "a coordination primitive stores pickled bytes or a Future, not {}",
        item.get_type().name()?
    )))
}

/// Bytes (to unpickle) or a Future.
fn out(py: Python<'_>, s: Shared) -> PyResult<Py<PyAny>> {
    match s {
        Shared::Future(f) => Ok(Py::new(py, PyFuture(f))?.into_any()),
        Shared::Value(Value::Bytes(b)) => Ok(PyBytes::new(py, &b).into_any().unbind()),
        Shared::Value(v) => Err(PyTypeError::new_err(format!("the scheduler holds {v:?}, not a Python value"))),
    }
}

fn timed_out(what: &str, name: &str, timeout: Option<f64>) -> PyErr {
    PyTimeoutError::new_err(format!("{what} {name:?}: nothing after {} s", timeout.unwrap_or(0.0)))
}

/// A named variable of the cluster.
#[pyclass(frozen, module = "blockwork._core", name = "Variable")]
pub struct PyVariable(Variable);

#[pymethods]
impl PyVariable {
    #[new]
    fn new(client: PyRef<'_, PyClient>, name: &str) -> PyVariable {
        PyVariable(client.0.variable(name))
    }

    /// Sets it to pickled bytes or a Future.
    fn set(&self, py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<()> {
        let h = held(item)?;
        call(py, || self.0.set_item(h))
    }

    /// Its bytes or Future, waiting until it is set (at most `timeout` s).
    #[pyo3(signature = (timeout=None))]
    fn get(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let got = sliced(py, seconds(timeout)?, |t| or_none(self.0.get(t)))?;
        out(py, got.ok_or_else(|| timed_out("waiting for the variable", self.0.name(), timeout))?)
    }

    /// Unsets it.
    fn delete(&self, py: Python<'_>) -> PyResult<()> {
        call(py, || self.0.delete())
    }
}

/// A named queue of the cluster.
#[pyclass(frozen, module = "blockwork._core", name = "Queue")]
pub struct PyQueue(Queue);

#[pymethods]
impl PyQueue {
    #[new]
    fn new(client: PyRef<'_, PyClient>, name: &str, maxsize: usize) -> PyQueue {
        PyQueue(client.0.bounded_queue(name, maxsize))
    }

    /// Appends pickled bytes or a Future, waiting while it is full (at most
    /// `timeout` s).
    #[pyo3(signature = (item, timeout=None))]
    fn put(&self, py: Python<'_>, item: &Bound<'_, PyAny>, timeout: Option<f64>) -> PyResult<()> {
        let h = held(item)?;
        let done = sliced(py, seconds(timeout)?, |t| or_none(self.0.put_timeout(h.clone(), t)))?;
        done.ok_or_else(|| timed_out("waiting for room in the queue", self.0.name(), timeout))
    }

    /// Takes `count` items (waiting for them, at most `timeout` s); with
    /// `count` 0 every item there is, without waiting.
    #[pyo3(signature = (count, timeout=None))]
    fn get(&self, py: Python<'_>, count: usize, timeout: Option<f64>) -> PyResult<Vec<Py<PyAny>>> {
        let items = if count == 0 {
            call(py, || self.0.drain())?
        } else {
            let got = sliced(py, seconds(timeout)?, |t| or_none(self.0.get_many(count, t)))?;
            got.ok_or_else(|| timed_out("waiting for an item of the queue", self.0.name(), timeout))?
        };
        items.into_iter().map(|s| out(py, s)).collect()
    }

    /// How many items it holds.
    fn qsize(&self, py: Python<'_>) -> PyResult<usize> {
        call(py, || self.0.qsize())
    }
}

/// A handle on a named lock of the cluster.
#[pyclass(frozen, module = "blockwork._core", name = "Lock")]
pub struct PyLock(Lock);

#[pymethods]
impl PyLock {
    #[new]
    fn new(client: PyRef<'_, PyClient>, name: &str) -> PyLock {
        PyLock(client.0.lock(name))
    }

    /// Takes it, waiting at most `timeout` s (`None`: for ever; 0: only if
    /// free); whether it was taken.
    #[pyo3(signature = (timeout=None))]
    fn acquire(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        acquiring(py, timeout, |t| self.0.acquire(t))
    }

    /// Lets go of it (an error if this handle does not hold it).
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        call(py, || self.0.release())
    }

    /// Whether any handle holds it.
    fn locked(&self, py: Python<'_>) -> PyResult<bool> {
        call(py, || self.0.locked())
    }
}

/// A named event of the cluster.
#[pyclass(frozen, module = "blockwork._core", name = "Event")]
pub struct PyEvent(Event);

#[pymethods]
impl PyEvent {
    #[new]
    fn new(client: PyRef<'_, PyClient>, name: &str) -> PyEvent {
        PyEvent(client.0.event(name))
    }

    /// Sets it, waking every waiter.
    fn set(&self, py: Python<'_>) -> PyResult<()> {
        call(py, || self.0.set())
    }

    /// Clears it.
    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        call(py, || self.0.clear())
    }

    /// Waits until it is set, at most `timeout` s; whether it was set.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        Ok(sliced(py, seconds(timeout)?, |t| if_true(self.0.wait(t)))?.is_some())
    }

    /// Whether it is set.
    fn is_set(&self, py: Python<'_>) -> PyResult<bool> {
        call(py, || self.0.is_set())
    }
}

/// A handle on a named semaphore of the cluster.
#[pyclass(frozen, module = "blockwork._core", name = "Semaphore")]
pub struct PySemaphore(Semaphore);

#[pymethods]
impl PySemaphore {
    #[new]
    fn new(client: PyRef<'_, PyClient>, name: &str, max_leases: usize) -> PySemaphore {
        PySemaphore(client.0.semaphore(name, max_leases))
    }

    /// Takes a lease, waiting at most `timeout` s; whether one was taken.
    #[pyo3(signature = (timeout=None))]
    fn acquire(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        acquiring(py, timeout, |t| self.0.acquire(t))
    }

    /// Returns a lease this handle took.
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        call(py, || self.0.release())
    }

    /// How many leases are taken.
    fn leases(&self, py: Python<'_>) -> PyResult<usize> {
        call(py, || self.0.leases())
    }
}
