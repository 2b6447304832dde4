//! `map_blocks` with a Python function on NumPy blocks.
//!
//! Each task copies its block into a NumPy array (the function may keep or
//! modify it) before taking the GIL, calls the function, and copies the
//! result, converted to the declared type, into the output block (that copy
//! reads a Python object, so it holds the GIL). A Python
//! exception becomes the task's error and reaches the caller as itself.

use std::sync::Arc;

use blockwork_array::{Array, ChunkSpec, DType, Element};
use ndarray::ArrayD;
use pyo3::prelude::*;

use crate::buffer::{read_numpy_as, IntoBuffer};
use crate::dynarray::{each, numeric_type, Dyn, Typed};
use crate::errors::{python_task_error, OrPy};
use crate::pytask::kept_state;

/// `func` applied to every block of `d`; the result has element type `out`
/// and the block lengths `chunks` (one output block per input block).
/// With `with_info`, `func` also gets the block's (index, offset, shape,
/// array shape).
pub fn map_blocks(
    d: &Dyn,
    func: Py<PyAny>,
    out: DType,
    chunks: Vec<Vec<usize>>,
    name: &str,
    with_info: bool,
) -> PyResult<Dyn> {
    let func = Arc::new(func);
    each!(d, a => numeric_type!(out, U => map_typed::<_, U>(a, &func, &chunks, name, with_info),
        bool => map_typed::<_, bool>(a, &func, &chunks, name, with_info)))
}

fn map_typed<T: Element + IntoBuffer, U: Typed>(
    a: &Array<T>,
    func: &Arc<Py<PyAny>>,
    chunks: &[Vec<usize>],
    name: &str,
    with_info: bool,
) -> PyResult<Dyn> {
    let shape: Vec<usize> = chunks.iter().map(|c| c.iter().sum()).collect();
    let func = Arc::clone(func);
    let label = name.to_string();
    let f = move |block: ndarray::ArrayViewD<'_, T>, info: &blockwork_array::BlockInfo| {
        kept_state::keep();
        // The block's copy is made before taking the GIL.
        let copy = T::buffer(block.to_owned());
        Python::attach(|py| {
            let call = || -> PyResult<ArrayD<U>> {
                let np = py.import("numpy")?;
                let x = np.call_method1("asarray", (Py::new(py, copy)?,))?;
                let y = if with_info {
                    let where_ =
                        (info.index.clone(), info.offset.clone(), info.shape.clone(), info.array_shape.clone());
                    func.bind(py).call1((x, where_))?
                } else {
                    func.bind(py).call1((x,))?
                };
                let y = np.call_method1("ascontiguousarray", (y, U::DTYPE.name()))?;
                read_numpy_as::<U>(&y)
            };
            call().map_err(|e| python_task_error(py, &format!("{label}{:?}", info.index), e))
        })
    };
    let arr = a.try_map_blocks_to(name, ChunkSpec::Explicit(chunks.to_vec()), &shape, f).py()?;
    Ok(U::wrap(arr))
}
