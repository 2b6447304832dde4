//! Engine errors as the Python exceptions a NumPy user expects.

use blockwork_array::ArrayError;
use pyo3::exceptions::{
    PyFileNotFoundError, PyIndexError, PyKeyboardInterrupt, PyOSError, PyOverflowError, PyRuntimeError, PyTypeError,
    PyValueError,
};
use pyo3::prelude::*;
use pyo3::PyErr;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use blockwork_array::dynamic::OpError;

/// Converts an engine error: shapes, axes, chunks and arguments are
/// `ValueError`s, indices `IndexError`s, a missing file
/// `FileNotFoundError`, other I/O `OSError`, a matrix a decomposition
/// cannot take NumPy's `LinAlgError`, a failed run `RuntimeError` and a
/// cancelled one `KeyboardInterrupt`.
pub fn to_py(e: ArrayError) -> PyErr {
    let msg = e.to_string();
    match e {
        ArrayError::Shape(_) | ArrayError::Axis(_) | ArrayError::Chunks(_) | ArrayError::Argument(_) => {
            PyValueError::new_err(msg)
        }
        ArrayError::Index(_) => PyIndexError::new_err(msg),
        ArrayError::Io { source, .. } => io_to_py(&source, msg),
        ArrayError::File { .. } => PyValueError::new_err(msg),
        ArrayError::Compute(blockwork_local::ComputeError::Cancelled) => PyKeyboardInterrupt::new_err(msg),
        ArrayError::Compute(blockwork_local::ComputeError::Config(_)) => PyValueError::new_err(msg),
        ArrayError::Compute(blockwork_local::ComputeError::Task { message, .. })
            if message.starts_with(blockwork_array::ops::blocksolve::LINALG_ERROR) =>
        {
            linalg_error(msg)
        }
        ArrayError::Compute(_) => take_python_error(&msg).unwrap_or_else(|| PyRuntimeError::new_err(msg)),
    }
}

/// An I/O error: `FileNotFoundError` when what was asked for is not there
/// (a file, a store, a glob's match), else `OSError`.
pub fn io_to_py(source: &std::io::Error, msg: String) -> PyErr {
    if source.kind() == std::io::ErrorKind::NotFound {
        PyFileNotFoundError::new_err(msg)
    } else {
        PyOSError::new_err(msg)
    }
}

/// NumPy's `LinAlgError` (a `ValueError`), or a `ValueError` without NumPy.
fn linalg_error(msg: String) -> PyErr {
    Python::attach(|py| {
        let found = py.import("numpy.linalg").and_then(|m| m.getattr("LinAlgError"));
        match found.ok().and_then(|t| t.cast_into::<pyo3::types::PyType>().ok()) {
            Some(t) => PyErr::from_type(t, msg),
            None => PyValueError::new_err(msg),
        }
    })
}

/// Python exceptions raised inside tasks, by id, until the run that raised
/// them reports its failure (the engine's errors carry only messages). A
/// run reports one failure; the others of a run where several tasks failed
/// are never asked for, so only the newest few are kept (an exception
/// holds its traceback's frames and whatever they reference).
static PYTHON_ERRORS: Mutex<VecDeque<(u64, String, PyErr)>> = Mutex::new(VecDeque::new());
const KEPT_ERRORS: usize = 64;
static NEXT_ERROR: AtomicU64 = AtomicU64::new(0);
const MARK: &str = "[python exception #";

/// Keeps a Python exception raised by task `key` and returns the task
/// error that stands for it; [`to_py`] turns that error back into the
/// exception (its type and traceback kept, a note naming the task).
pub fn python_task_error(py: Python<'_>, key: &str, e: PyErr) -> blockwork_graph::TaskError {
    let id = NEXT_ERROR.fetch_add(1, Ordering::Relaxed);
    let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_default();
    let message = format!("{kind}: {} {MARK}{id}]", e.value(py));
    let mut kept = PYTHON_ERRORS.lock().unwrap_or_else(|p| p.into_inner());
    if kept.len() == KEPT_ERRORS {
        kept.pop_front();
    }
    kept.push_back((id, key.to_string(), e));
    drop(kept);
    blockwork_graph::TaskError::new(message)
}

fn take_python_error(message: &str) -> Option<PyErr> {
    let start = message.rfind(MARK)? + MARK.len();
    let id: u64 = message[start..].split(']').next()?.parse().ok()?;
    let (_, key, err) = {
        let mut kept = PYTHON_ERRORS.lock().unwrap_or_else(|p| p.into_inner());
        let at = kept.iter().position(|(i, _, _)| *i == id)?;
        kept.remove(at)?
    };
    Python::attach(|py| {
        let value = err.value(py);
        if value.hasattr("add_note").unwrap_or(false) {
            let _ = value.call_method1("add_note", (format!("raised by blockwork task '{key}'"),));
        }
    });
    Some(err)
}

/// `?` on engine results inside Python-facing functions.
pub trait OrPy<T> {
    /// The result with its error converted to a Python exception.
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> OrPy<T> for Result<T, ArrayError> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}

impl<T> OrPy<T> for Result<T, OpError> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(|e| match e {
            OpError::Type(m) => PyTypeError::new_err(m),
            OpError::Overflow(m) => PyOverflowError::new_err(m),
            OpError::Engine(e) => to_py(e),
        })
    }
}
