//! `from_zarr` and `to_zarr`: plain Zarr arrays through the labeled
//! crate's Zarr reader and writer (each block one read or write task).

use std::path::PathBuf;

use blockwork::labeled::{self, LabeledError, ZarrVersion};
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::array::PyArr;
use crate::errors::to_py;

pub(crate) fn labeled_err(e: LabeledError) -> PyErr {
    match e {
        LabeledError::Io { ref source, .. } => crate::errors::io_to_py(source, e.to_string()),
        LabeledError::File { .. } => PyOSError::new_err(e.to_string()),
        LabeledError::Array(a) => to_py(a),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A lazy array over a Zarr array (a store's root array, or `component`
/// of its group), in the store's chunks or `chunks` (a length per axis).
#[pyfunction]
#[pyo3(signature = (path, component=None, chunks=None))]
pub fn from_zarr(path: PathBuf, component: Option<String>, chunks: Option<Vec<usize>>) -> PyResult<PyArr> {
    let d = labeled::open_zarr_array(&path, component.as_deref(), chunks.as_deref()).map_err(labeled_err)?;
    Ok(PyArr(d))
}

/// Writes the array as a new Zarr store whose root is the array (`version`
/// 2 or 3), a task per block on local threads, the GIL released.
#[pyfunction]
pub fn to_zarr(py: Python<'_>, array: &PyArr, path: PathBuf, version: u8) -> PyResult<()> {
    let version = match version {
        2 => ZarrVersion::V2,
        3 => ZarrVersion::V3,
        v => return Err(PyValueError::new_err(format!("zarr_format must be 2 or 3, not {v}"))),
    };
    if array.0.dtype().is_complex() {
        let name = crate::buffer::dtype_name(&array.0);
        return Err(PyTypeError::new_err(format!("{name} arrays are not written to Zarr")));
    }
    py.detach(|| labeled::write_zarr_array(&array.0, &path, version)).map_err(labeled_err)
}
