//! `blockwork._core.Frame` and `Expr`: the engine's partitioned dataframe
//! and its column expressions, driven from Python.
//!
//! The Python package (`blockwork.dataframe`) gives them pandas' and
//! dask.dataframe's API; here every call builds graph layers or computes.
//! A computed frame leaves as Arrow columns ([`PyArrowColumn`], the Arrow
//! PyCapsule protocol) that pyarrow takes without copying, and pandas
//! frames arrive the same way ([`PyFrame::from_arrow`]).

use std::ffi::CStr;
use std::sync::Mutex;

use blockwork_dataframe::arrow::{self, ArrowArray, ArrowSchema, ExportedColumn};
use blockwork_dataframe::{
    col, Agg, Aggregation, BinOp, CsvOptions, DType, DataFrame, DataFrameError, Expr, Format, How, Lit, ParquetOptions,
    UnaryOp, Window,
};
use pyo3::exceptions::{PyFileNotFoundError, PyKeyError, PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyCapsule, PyFloat, PyInt, PyString};

use crate::errors::OrPy;
use crate::run::{run, Sched};

const SCHEMA: &CStr = c"arrow_schema";
const ARRAY: &CStr = c"arrow_array";

/// A dataframe error as the exception a pandas user expects: a missing
/// column is a `KeyError`, a missing file `FileNotFoundError`, a bad
/// argument or a type mismatch `ValueError`, a cancelled run
/// `KeyboardInterrupt`, a failed task (a Python exception raised again)
/// or a broken partition `RuntimeError`.
pub fn to_py(e: DataFrameError) -> PyErr {
    let msg = e.to_string();
    match e {
        DataFrameError::NoColumn { .. } => PyKeyError::new_err(msg),
        DataFrameError::Missing(_) => PyFileNotFoundError::new_err(msg),
        DataFrameError::Unreadable { .. } => pyo3::exceptions::PyOSError::new_err(msg),
        DataFrameError::Invalid(_) | DataFrameError::Polars(_) | DataFrameError::Graph(_) => PyValueError::new_err(msg),
        DataFrameError::Compute(blockwork_local::ComputeError::Cancelled) => PyKeyboardInterrupt::new_err(msg),
        DataFrameError::Compute(e) => crate::errors::to_py(blockwork_array::ArrayError::Compute(e)),
        DataFrameError::Partition(_) => PyRuntimeError::new_err(msg),
    }
}

impl<T> OrPy<T> for Result<T, DataFrameError> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// A literal from Python: `None`, a bool, an int, a float or a str.
pub struct PyLit(pub Lit);

impl<'a, 'py> FromPyObject<'a, 'py> for PyLit {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        Ok(PyLit(if obj.is_none() {
            Lit::Null
        } else if obj.is_instance_of::<PyBool>() {
            Lit::Bool(obj.extract()?)
        } else if obj.is_instance_of::<PyInt>() {
            Lit::Int(obj.extract()?)
        } else if obj.is_instance_of::<PyFloat>() {
            Lit::Float(obj.extract()?)
        } else if let Ok(s) = obj.cast::<PyString>() {
            Lit::Str(s.to_cow()?.into_owned())
        } else if let Ok(i) = obj.extract::<i64>() {
            Lit::Int(i)
        } else if let Ok(f) = obj.extract::<f64>() {
            Lit::Float(f)
        } else {
            return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                "a dataframe literal is None, a bool, an int, a float or a str, not {}",
                obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            )));
        }))
    }
}

/// A literal as a Python object.
pub fn lit_to_py(py: Python<'_>, lit: &Lit) -> PyResult<Py<PyAny>> {
    Ok(match lit {
        Lit::Null => py.None(),
        Lit::Bool(b) => PyBool::new(py, *b).to_owned().into_any().unbind(),
        Lit::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        Lit::Float(f) => f.into_pyobject(py)?.into_any().unbind(),
        Lit::Str(s) => s.into_pyobject(py)?.into_any().unbind(),
    })
}

fn parse_dtype(name: &str) -> PyResult<DType> {
    DType::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "dtype {name:?} is not one of: bool, int32, int64, float32, float64, str (object, string), date, \
             datetime64[ns] (datetime64[us], datetime64[ms])"
        ))
    })
}

fn parse_agg(name: &str) -> PyResult<Agg> {
    Agg::parse(name).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown aggregation {name:?}: use sum, mean, count, size, min, max, std, var, first, last or nunique"
        ))
    })
}

fn aggregations(aggs: &[(PyRef<'_, PyExpr>, String, String)]) -> PyResult<Vec<Aggregation>> {
    aggs.iter().map(|(e, a, name)| Ok(Aggregation::new(e.0.clone(), parse_agg(a)?).named(name))).collect()
}

/// A column expression (`blockwork.dataframe`'s Series are a frame and one
/// of these).
#[pyclass(frozen, module = "blockwork._core", name = "Expr")]
#[derive(Clone)]
pub struct PyExpr(pub Expr);

fn exprs(list: &[PyRef<'_, PyExpr>]) -> Vec<Expr> {
    list.iter().map(|e| e.0.clone()).collect()
}

#[pymethods]
impl PyExpr {
    /// The column `name`.
    #[staticmethod]
    fn col(name: &str) -> PyExpr {
        PyExpr(col(name))
    }

    /// A literal, broadcast to every row.
    #[staticmethod]
    fn lit(value: PyLit) -> PyExpr {
        PyExpr(Expr::Lit(value.0))
    }

    /// `self <op> other` (`op` by the operator module's name: `add`,
    /// `truediv`, `eq`, …, and `and`, `or`).
    fn binary(&self, op: &str, other: &PyExpr) -> PyResult<PyExpr> {
        let op = BinOp::parse(op).ok_or_else(|| PyValueError::new_err(format!("unknown operation {op:?}")))?;
        Ok(PyExpr(Expr::Binary(op, Box::new(self.0.clone()), Box::new(other.0.clone()))))
    }

    /// `neg`, `not`, `isna`, `notna` or `abs` of it.
    fn unary(&self, op: &str) -> PyResult<PyExpr> {
        let op = UnaryOp::parse(op).ok_or_else(|| PyValueError::new_err(format!("unknown operation {op:?}")))?;
        Ok(PyExpr(Expr::Unary(op, Box::new(self.0.clone()))))
    }

    /// Whether each value is one of `values`.
    fn isin(&self, values: Vec<PyLit>) -> PyExpr {
        PyExpr(self.0.clone().isin(values.into_iter().map(|v| v.0)))
    }

    /// Missing values replaced by `value`.
    fn fillna(&self, value: PyLit) -> PyExpr {
        PyExpr(self.0.clone().fillna(value.0))
    }

    /// Converted to `dtype` (pandas' names: `float64`, `int64`, `str`, …).
    fn astype(&self, dtype: &str) -> PyResult<PyExpr> {
        Ok(PyExpr(self.0.clone().astype(parse_dtype(dtype)?)))
    }

    /// Renamed.
    fn alias(&self, name: &str) -> PyExpr {
        PyExpr(self.0.clone().alias(name))
    }

    /// A part of its dates (`year`, `month`, `day`, `hour`, `minute`,
    /// `second`, `dayofweek`), or `floor` to a frequency.
    #[pyo3(signature = (part, freq=None))]
    fn dt(&self, part: &str, freq: Option<&str>) -> PyResult<PyExpr> {
        let d = self.0.clone().dt();
        Ok(PyExpr(match part {
            "year" => d.year(),
            "month" => d.month(),
            "day" => d.day(),
            "hour" => d.hour(),
            "minute" => d.minute(),
            "second" => d.second(),
            "dayofweek" | "weekday" | "day_of_week" => d.dayofweek(),
            "floor" => {
                let freq = freq.unwrap_or("");
                d.floor(freq).ok_or_else(|| {
                    PyValueError::new_err(format!("{freq:?} is not a fixed frequency (\"1h\", \"15min\", \"D\")"))
                })?
            }
            other => return Err(PyValueError::new_err(format!("no dt.{other}"))),
        }))
    }

    /// A string operation: `lower`, `upper`, `len`, or `contains` of
    /// `pattern` (a regular expression when `regex`).
    #[pyo3(signature = (op, pattern=None, regex=true))]
    fn string(&self, op: &str, pattern: Option<&str>, regex: bool) -> PyResult<PyExpr> {
        let s = self.0.clone().str();
        Ok(PyExpr(match (op, pattern) {
            ("lower", _) => s.lower(),
            ("upper", _) => s.upper(),
            ("len", _) => s.len(),
            ("contains", Some(p)) if regex => s.contains(p),
            ("contains", Some(p)) => s.contains_literal(p),
            ("contains", None) => return Err(PyValueError::new_err("str.contains needs a pattern")),
            (other, _) => return Err(PyValueError::new_err(format!("no str.{other}"))),
        }))
    }

    /// The name of the column it makes.
    #[getter]
    fn name(&self) -> String {
        self.0.name().to_string()
    }

    /// The columns it reads.
    fn columns(&self) -> Vec<String> {
        self.0.columns().iter().map(|c| c.to_string()).collect()
    }

    fn __repr__(&self) -> String {
        format!("{:?}", self.0)
    }
}

/// One computed column, handed to pyarrow by the Arrow PyCapsule protocol
/// (`pyarrow.array(column)`) without a copy; it can be taken once.
#[pyclass(module = "blockwork._core", name = "ArrowColumn")]
pub struct PyArrowColumn(Mutex<Option<ExportedColumn>>);

#[pymethods]
impl PyArrowColumn {
    /// The column's field and values as the Arrow C data interface's
    /// capsules. A `requested_schema` is a hint the PyCapsule protocol lets
    /// a producer pass over: the column comes in its own type, which the
    /// consumer reads from the schema capsule (pyarrow casts when asked).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
        let _ = requested_schema;
        let taken = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        let ExportedColumn { schema, array } =
            taken.ok_or_else(|| PyRuntimeError::new_err("this Arrow column was already taken"))?;
        Ok((PyCapsule::new_with_value(py, schema, SCHEMA)?, PyCapsule::new_with_value(py, array, ARRAY)?))
    }
}

/// A column from the capsules of the Arrow C data interface that pyarrow's
/// `__arrow_c_array__` makes; the array is moved out of its capsule.
#[allow(unsafe_code)]
pub fn import_capsules(
    name: &str,
    schema: &Bound<'_, PyCapsule>,
    array: &Bound<'_, PyCapsule>,
) -> PyResult<blockwork_dataframe::polars::prelude::Column> {
    let schema = schema.pointer_checked(Some(SCHEMA))?.cast::<ArrowSchema>();
    let array = array.pointer_checked(Some(ARRAY))?.cast::<ArrowArray>();
    // SAFETY: the capsules are the C data interface's, by their names; the
    // array is moved out and left released, as the interface asks.
    unsafe { arrow::import_column(name, schema.as_ref(), array.as_ptr()) }.py()
}

/// A computed frame's columns for pyarrow, exported with the GIL released:
/// joining a column's chunks runs on Polars' threads and frees the old
/// ones, and a chunk that came from pyarrow (a pandas frame's column) takes
/// the GIL to be freed.
pub fn columns_out(py: Python<'_>, df: blockwork_dataframe::polars::prelude::DataFrame) -> Vec<PyArrowColumn> {
    wrap_columns(py.detach(|| arrow::export(df)))
}

/// Exported columns as Python objects.
pub fn wrap_columns(columns: Vec<ExportedColumn>) -> Vec<PyArrowColumn> {
    columns.into_iter().map(|c| PyArrowColumn(Mutex::new(Some(c)))).collect()
}

/// A lazy partitioned dataframe of the engine (see
/// `blockwork.dataframe.DataFrame`).
#[pyclass(frozen, module = "blockwork._core", name = "Frame")]
pub struct PyFrame(pub DataFrame);

#[pymethods]
impl PyFrame {
    /// CSV files: each of `paths` a path, a glob or an `s3://` URL;
    /// `na_values` read as missing in every column (after pandas'
    /// defaults when `keep_default_na`), `column_na_values` in some.
    #[staticmethod]
    #[pyo3(signature = (paths, parse_dates, dtypes, usecols, blocksize, keep_default_na, na_values, column_na_values))]
    #[allow(clippy::too_many_arguments)]
    fn read_csv(
        py: Python<'_>,
        paths: Vec<String>,
        parse_dates: Vec<String>,
        dtypes: Vec<(String, String)>,
        usecols: Vec<String>,
        blocksize: Option<u64>,
        keep_default_na: bool,
        na_values: Vec<String>,
        column_na_values: Vec<(String, Vec<String>)>,
    ) -> PyResult<PyFrame> {
        let dtypes = dtypes.into_iter().map(|(c, t)| Ok((c, parse_dtype(&t)?))).collect::<PyResult<Vec<_>>>()?;
        let defaults = blockwork_dataframe::NA_VALUES.iter().filter(|_| keep_default_na).map(|t| t.to_string());
        let na_values = defaults.chain(na_values).collect();
        let options = CsvOptions { parse_dates, dtypes, usecols, blocksize, na_values, column_na_values };
        let frames = py
            .detach(|| paths.iter().map(|p| blockwork_dataframe::read_csv(p, &options)).collect::<Result<Vec<_>, _>>());
        one_of(frames.py()?)
    }

    /// Parquet files (`pattern`: a path, a glob, a directory or an
    /// `s3://` URL), maybe only some columns and rows.
    #[staticmethod]
    #[pyo3(signature = (pattern, columns, filter, split_row_groups))]
    fn read_parquet(
        py: Python<'_>,
        pattern: String,
        columns: Vec<String>,
        filter: Option<PyRef<'_, PyExpr>>,
        split_row_groups: bool,
    ) -> PyResult<PyFrame> {
        let options = ParquetOptions { columns, filter: filter.map(|f| f.0.clone()), split_row_groups };
        py.detach(|| blockwork_dataframe::read_parquet(&pattern, &options)).py().map(PyFrame)
    }

    /// JSON-lines files.
    #[staticmethod]
    fn read_json(py: Python<'_>, pattern: String) -> PyResult<PyFrame> {
        py.detach(|| blockwork_dataframe::read_json(&pattern)).py().map(PyFrame)
    }

    /// A frame of Arrow columns (`(name, schema capsule, array capsule)`,
    /// taken from pyarrow without a copy) cut into `npartitions` row ranges.
    #[staticmethod]
    fn from_arrow(
        columns: Vec<(String, Bound<'_, PyCapsule>, Bound<'_, PyCapsule>)>,
        npartitions: usize,
    ) -> PyResult<PyFrame> {
        let out = columns
            .iter()
            .map(|(name, schema, array)| import_capsules(name, schema, array))
            .collect::<PyResult<_>>()?;
        let df = arrow::frame(out).py()?;
        DataFrame::from_polars(&df, npartitions).py().map(PyFrame)
    }

    /// The frames one after the other (the same columns).
    #[staticmethod]
    fn concat(frames: Vec<PyRef<'_, PyFrame>>) -> PyResult<PyFrame> {
        let frames: Vec<DataFrame> = frames.iter().map(|f| f.0.clone()).collect();
        blockwork_dataframe::concat(&frames).py().map(PyFrame)
    }

    /// Its column names.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.0.columns().to_vec()
    }

    /// Its partitions' count.
    #[getter]
    fn npartitions(&self) -> usize {
        self.0.npartitions()
    }

    /// The column it is indexed by (after `set_index`), if any.
    #[getter]
    fn index(&self) -> Option<String> {
        self.0.index().map(|i| i.column.clone())
    }

    /// The index's `npartitions + 1` bounds, if it is indexed.
    #[getter]
    fn divisions(&self, py: Python<'_>) -> PyResult<Option<Vec<Py<PyAny>>>> {
        self.0.divisions().map(|d| d.iter().map(|l| lit_to_py(py, l)).collect()).transpose()
    }

    /// The keys of its partitions (their names as strings).
    fn keys(&self) -> Vec<String> {
        self.0.keys().iter().map(|k| k.to_string()).collect()
    }

    /// The columns `exprs` make.
    fn select(&self, exprs_: Vec<PyRef<'_, PyExpr>>) -> PyResult<PyFrame> {
        self.0.select(&exprs(&exprs_)).py().map(PyFrame)
    }

    /// With the columns `exprs` make added (or replaced, by name).
    fn assign(&self, exprs_: Vec<PyRef<'_, PyExpr>>) -> PyResult<PyFrame> {
        self.0.assign(&exprs(&exprs_)).py().map(PyFrame)
    }

    /// The rows where `predicate` holds.
    fn filter(&self, predicate: &PyExpr) -> PyResult<PyFrame> {
        self.0.filter(predicate.0.clone()).py().map(PyFrame)
    }

    /// Without the rows missing a value in `subset` (every column when empty).
    fn dropna(&self, subset: Vec<String>) -> PyResult<PyFrame> {
        let subset: Vec<&str> = subset.iter().map(String::as_str).collect();
        self.0.dropna(&subset).py().map(PyFrame)
    }

    /// Missing values replaced by `value`.
    fn fillna(&self, value: PyLit) -> PyResult<PyFrame> {
        self.0.fillna(value.0).py().map(PyFrame)
    }

    /// Grouped by `keys`, reduced by `aggs` (`(expr, aggregation, name)`),
    /// into `split_out` partitions: the key columns, then one column per
    /// aggregation, sorted by the keys.
    #[pyo3(signature = (keys, aggs, split_out=1))]
    fn groupby_agg(
        &self,
        keys: Vec<PyRef<'_, PyExpr>>,
        aggs: Vec<(PyRef<'_, PyExpr>, String, String)>,
        split_out: usize,
    ) -> PyResult<PyFrame> {
        let aggs = aggregations(&aggs)?;
        self.0.groupby(&exprs(&keys)).and_then(|g| g.split_out(split_out).agg(&aggs)).py().map(PyFrame)
    }

    /// Every row reduced by `aggs` (`(expr, aggregation, name)`): a
    /// one-row frame with a column per aggregation.
    fn aggregate(&self, aggs: Vec<(PyRef<'_, PyExpr>, String, String)>) -> PyResult<PyFrame> {
        self.0.aggregate(&aggregations(&aggs)?).py().map(PyFrame)
    }

    /// Approximate quantiles (`qs` in 0–1) of `expr`: a frame of
    /// `quantile` and `value`.
    fn quantile(&self, expr: &PyExpr, qs: Vec<f64>) -> PyResult<PyFrame> {
        self.0.series(expr.0.clone()).and_then(|s| s.quantile(&qs)).py().map(PyFrame)
    }

    /// The approximate number of distinct values of `expr` (HyperLogLog):
    /// a one-row frame.
    fn nunique_approx(&self, expr: &PyExpr) -> PyResult<PyFrame> {
        self.0.series(expr.0.clone()).and_then(|s| s.nunique_approx()).map(|s| PyFrame(s.to_frame().clone())).py()
    }

    /// Summary statistics of the numeric columns, computed on this
    /// machine's threads: a `statistic` column, then one per numeric column.
    fn describe(&self, py: Python<'_>) -> PyResult<Vec<PyArrowColumn>> {
        py.detach(|| self.0.describe()).py().map(|df| columns_out(py, df))
    }

    /// Rows per distinct value of `expr`, most frequent first: the value
    /// column and `count`.
    fn value_counts(&self, expr: &PyExpr) -> PyResult<PyFrame> {
        self.0.series(expr.0.clone()).and_then(|s| s.value_counts()).py().map(PyFrame)
    }

    /// Joined with `right` on equal keys (`how`: inner, left, right, outer);
    /// with no keys, on both frames' indexes.
    fn merge(&self, right: &PyFrame, left_on: Vec<String>, right_on: Vec<String>, how: &str) -> PyResult<PyFrame> {
        let how = How::parse(how)
            .ok_or_else(|| PyValueError::new_err(format!("unknown join {how:?}: use inner, left, right or outer")))?;
        if left_on.is_empty() {
            return self.0.join(&right.0, how).py().map(PyFrame);
        }
        let l: Vec<&str> = left_on.iter().map(String::as_str).collect();
        let r: Vec<&str> = right_on.iter().map(String::as_str).collect();
        self.0.merge_on(&right.0, &l, &r, how).py().map(PyFrame)
    }

    /// Sorted by `column` and indexed by it (divisions from a sample).
    fn set_index(&self, py: Python<'_>, column: String) -> PyResult<PyFrame> {
        py.detach(|| self.0.set_index(&column)).py().map(PyFrame)
    }

    /// Sorted by `by` across partitions.
    fn sort_values(&self, py: Python<'_>, by: String, ascending: bool) -> PyResult<PyFrame> {
        py.detach(|| self.0.sort_values(&by, ascending)).py().map(PyFrame)
    }

    /// `agg` of `column` in fixed-frequency bins of the datetime index.
    fn resample(&self, freq: &str, column: &str, agg: &str) -> PyResult<PyFrame> {
        self.0.resample(freq, column, parse_agg(agg)?).py().map(PyFrame)
    }

    /// A rolling `agg` of `column` over the index order, as a new column
    /// `name`: `window` rows (an int) or a duration (`"1h"`).
    fn rolling(&self, window: Bound<'_, PyAny>, column: &str, agg: &str, name: &str) -> PyResult<PyFrame> {
        let window = match window.extract::<usize>() {
            Ok(n) => Window::Rows(n),
            Err(_) => Window::Time(window.extract::<String>().map_err(|_| {
                PyValueError::new_err("a rolling window is a number of rows or a duration like \"1h\"")
            })?),
        };
        self.0.rolling(&window, column, parse_agg(agg)?, name).py().map(PyFrame)
    }

    /// The first `n` rows (reading only the partitions it needs).
    fn head(&self, py: Python<'_>, n: usize) -> PyResult<Vec<PyArrowColumn>> {
        py.detach(|| self.0.head(n)).py().map(|df| columns_out(py, df))
    }

    /// The last `n` rows.
    fn tail(&self, py: Python<'_>, n: usize) -> PyResult<Vec<PyArrowColumn>> {
        py.detach(|| self.0.tail(n)).py().map(|df| columns_out(py, df))
    }

    /// Computes it (the GIL released, Ctrl-C cancelling) into Arrow columns.
    fn compute(&self, py: Python<'_>, scheduler: Sched) -> PyResult<Vec<PyArrowColumn>> {
        let df = self.0.clone();
        run(py, scheduler, move |config| df.compute_with(config)).map(|df| columns_out(py, df))
    }

    /// Computes the partitions and returns a frame backed by them.
    fn persist(&self, py: Python<'_>, scheduler: Sched) -> PyResult<PyFrame> {
        let df = self.0.clone();
        run(py, scheduler, move |config| df.persist_with(config)).map(PyFrame)
    }

    /// `func` on every partition as a pandas DataFrame; its results have
    /// the columns `columns` (`name` tells this call's tasks apart).
    fn map_partitions(&self, func: Py<PyAny>, columns: Vec<String>, name: &str) -> PyFrame {
        crate::partitions::map_partitions(&self.0, func, columns, name)
    }

    /// The partitions written to `dir`, one file each, as `format` (csv,
    /// parquet, json), lazily: a frame of the paths written.
    fn write(&self, dir: &str, format: &str) -> PyResult<PyFrame> {
        let format = match format {
            "csv" => Format::Csv,
            "parquet" => Format::Parquet,
            "json" => Format::Json,
            other => return Err(PyValueError::new_err(format!("unknown format {other:?}: csv, parquet or json"))),
        };
        self.0.write(dir, format).py().map(PyFrame)
    }

    fn __repr__(&self) -> String {
        format!("Frame(columns={:?}, npartitions={})", self.0.columns(), self.0.npartitions())
    }
}

/// Computes several frames in one run (work they share runs once) into
/// each one's Arrow columns.
#[pyfunction]
pub fn compute_frames(
    py: Python<'_>,
    frames: Vec<PyRef<'_, PyFrame>>,
    scheduler: Sched,
) -> PyResult<Vec<Vec<PyArrowColumn>>> {
    let frames: Vec<DataFrame> = frames.iter().map(|f| f.0.clone()).collect();
    let out = run(py, scheduler, move |config| blockwork_dataframe::compute_many(&frames, config))?;
    Ok(out.into_iter().map(|df| columns_out(py, df)).collect())
}

/// One frame from several reads.
fn one_of(mut frames: Vec<DataFrame>) -> PyResult<PyFrame> {
    if frames.len() == 1 {
        return Ok(PyFrame(frames.remove(0)));
    }
    blockwork_dataframe::concat(&frames).py().map(PyFrame)
}
