//! `map_partitions` with a Python function on pandas partitions.
//!
//! Each task is the named function `blockwork.python.map_partition`, so
//! the same graph runs on local threads and on a cluster's Python workers
//! (the function travels pickled, as `map_blocks`' does). A task exports
//! its partition's columns over the Arrow C data interface before taking
//! the GIL, builds the pandas frame with pyarrow, calls the function, and
//! takes the pandas result back the same way; its columns must be the
//! ones declared (`meta`), in order.

use std::sync::Arc;

use blockwork_dataframe::arrow;
use blockwork_dataframe::{DataFrame, Partition};
use blockwork_graph::{kernel_params, KernelParams, NamedFn, TaskError, TaskResult, Value};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyList};

use crate::frame::{import_capsules, wrap_columns, PyFrame};
use crate::mapblocks::{in_python, PyCallable};

/// The task function of Python `map_partitions`.
pub static PY_MAP_PARTITION: NamedFn =
    NamedFn::new("blockwork.python.map_partition", map_partition).params::<MapPartitionParams>();

kernel_params! {
    /// A Python function on one partition (the task's argument).
    struct MapPartitionParams {
        /// The function: a [`PyCallable`] in this process, its pickle on a worker.
        func: Value,
        /// The call's name, for errors.
        name: Arc<str>,
        /// The columns its results must have, in order (its `meta`).
        columns: Vec<String>,
    }
}

/// `func` applied to every partition of `df` as a pandas DataFrame; its
/// results have the columns `columns`. `name` tells this call's tasks
/// from another's (the function itself is not tokenized).
pub fn map_partitions(df: &DataFrame, func: Py<PyAny>, columns: Vec<String>, name: &str) -> PyFrame {
    let params = MapPartitionParams { func: Value::object(PyCallable(func)), name: name.into(), columns };
    let names: Vec<&str> = params.columns.iter().map(String::as_str).collect();
    PyFrame(df.map_partitions_named(&PY_MAP_PARTITION, params.to_value(), &names))
}

/// One partition of Python `map_partitions`.
fn map_partition(params: &Value, args: Vec<Value>) -> TaskResult {
    let MapPartitionParams { func, name, columns: declared } = MapPartitionParams::from_value(params)?;
    let part = args.first().ok_or_else(|| TaskError::new("map_partitions without input"))?;
    let frame = Partition::of(part)?.clone();
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    // The export (joining chunks) happens before taking the GIL.
    let exported = arrow::export(frame);
    in_python(
        &func,
        || name.to_string(),
        |py, f, _np| {
            let convert = py.import("blockwork.dataframe._arrow")?;
            let pdf = convert.call_method1("to_pandas", (wrap_columns(exported), names))?;
            let out = f.call1((pdf,))?;
            let arrays = convert.call_method1("arrow_columns", (out,))?;
            let arrays = arrays.cast::<PyList>()?;
            let mut got = Vec::with_capacity(arrays.len());
            let mut cols = Vec::with_capacity(arrays.len());
            for item in arrays.iter() {
                let (col_name, schema, array): (String, Bound<'_, PyCapsule>, Bound<'_, PyCapsule>) = item.extract()?;
                cols.push(import_capsules(&col_name, &schema, &array)?);
                got.push(col_name);
            }
            if got != declared {
                return Err(PyValueError::new_err(format!(
                    "the function returned the columns {got:?}, but its meta declares {declared:?}"
                )));
            }
            let df = arrow::frame(cols).map_err(crate::frame::to_py)?;
            Ok(Partition(df).into_value())
        },
    )
}
