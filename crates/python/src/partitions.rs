//! `map_partitions` with a Python function on pandas partitions.
//!
//! Each task is the named function `blockwork.python.map_partition`, so
//! the same graph runs on local threads and on a cluster's Python workers
//! (the function travels pickled, as `map_blocks`' does). A task exports
//! its partition's columns over the Arrow C data interface before taking
//! the GIL, builds the pandas frame with pyarrow, calls the function, and
//! takes the pandas result back the same way; its columns must be the
//! ones declared (`meta`), in order.

use blockwork_dataframe::arrow;
use blockwork_dataframe::{DataFrame, Partition};
use blockwork_graph::{NamedFn, TaskError, TaskResult, Value};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyList};

use crate::frame::{import_capsules, wrap_columns, PyFrame};
use crate::mapblocks::{in_python, PyCallable};

/// The task function of Python `map_partitions`.
pub static PY_MAP_PARTITION: NamedFn = NamedFn::new("blockwork.python.map_partition", map_partition);

/// `func` applied to every partition of `df` as a pandas DataFrame; its
/// results have the columns `columns`. `name` tells this call's tasks
/// from another's (the function itself is not tokenized).
pub fn map_partitions(df: &DataFrame, func: Py<PyAny>, columns: Vec<String>, name: &str) -> PyFrame {
    let declared: Vec<Value> = columns.iter().map(|c| Value::Str(c.as_str().into())).collect();
    let params = Value::List(
        vec![Value::object(PyCallable(func)), Value::Str(name.into()), Value::List(declared.into())].into(),
    );
    let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
    PyFrame(df.map_partitions_named(&PY_MAP_PARTITION, params, &columns))
}

/// Parameters: `[callable, name, [declared columns]]`; the argument: one
/// partition.
fn map_partition(params: &Value, args: Vec<Value>) -> TaskResult {
    let bad = || TaskError::new("malformed map_partitions parameters");
    let [func, Value::Str(name), Value::List(declared)] = params.as_list().ok_or_else(bad)? else {
        return Err(bad());
    };
    let declared: Vec<String> = declared
        .iter()
        .map(|v| if let Value::Str(c) = v { Ok(c.to_string()) } else { Err(bad()) })
        .collect::<Result<_, _>>()?;
    let part = args.first().ok_or_else(|| TaskError::new("map_partitions without input"))?;
    let frame = Partition::of(part)?.clone();
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    // The export (joining chunks) happens before taking the GIL.
    let exported = arrow::export(frame);
    in_python(
        func,
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
