//! Engine errors as the Python exceptions a NumPy user expects.

use blockwork_array::ArrayError;
use pyo3::exceptions::{
    PyFileNotFoundError, PyIndexError, PyKeyboardInterrupt, PyOSError, PyOverflowError, PyRuntimeError, PyTypeError,
    PyValueError,
};
use pyo3::PyErr;

use crate::dynarray::OpError;

/// Converts an engine error: shapes, axes, chunks and arguments are
/// `ValueError`s, indices `IndexError`s, a missing file
/// `FileNotFoundError`, other I/O `OSError`, a failed run `RuntimeError`
/// and a cancelled one `KeyboardInterrupt`.
pub fn to_py(e: ArrayError) -> PyErr {
    let msg = e.to_string();
    match e {
        ArrayError::Shape(_) | ArrayError::Axis(_) | ArrayError::Chunks(_) | ArrayError::Argument(_) => {
            PyValueError::new_err(msg)
        }
        ArrayError::Index(_) => PyIndexError::new_err(msg),
        ArrayError::Io { path, .. } if !path.exists() => PyFileNotFoundError::new_err(msg),
        ArrayError::Io { .. } => PyOSError::new_err(msg),
        ArrayError::Compute(blockwork_local::ComputeError::Cancelled) => PyKeyboardInterrupt::new_err(msg),
        ArrayError::Compute(_) => PyRuntimeError::new_err(msg),
    }
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
