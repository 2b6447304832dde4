//! Array constructors, joins and `compute` of several arrays.

use std::path::PathBuf;

use blockwork_array::{self as bwa, DType};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::array::{parse_chunks, parse_dtype, parse_rhs, PyArr};
use crate::buffer::{assemble_dyn, buffer_of, NdBuffer};
use crate::errors::OrPy;
use crate::run::{run, Sched};
use blockwork_array::dynamic::{Dyn, Rhs, Typed};
use blockwork_array::{dyn_each as each, dyn_numeric_type as numeric_type};

fn float_only(dt: DType, what: &str) -> PyResult<()> {
    match dt {
        DType::F64 | DType::F32 => Ok(()),
        other => Err(PyTypeError::new_err(format!("{what} makes float64 or float32 arrays, not {}", other.name()))),
    }
}

/// An array of `shape` with every element `fill_value`.
#[pyfunction]
#[pyo3(signature = (shape, fill_value, dtype, chunks = None))]
pub fn full(
    shape: Vec<usize>,
    fill_value: &Bound<'_, PyAny>,
    dtype: &str,
    chunks: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArr> {
    let dt = parse_dtype(dtype)?;
    let spec = spec(chunks)?;
    let v = parse_rhs(fill_value)?;
    if matches!(v, Rhs::Array(_)) {
        return Err(PyTypeError::new_err("fill_value must be a scalar"));
    }
    let d: Dyn = numeric_type!(dt, T => bwa::full::<T>(&shape, v.scalar::<T>().unwrap_or_default(), spec).py()?.into(),
        bool => bwa::full::<bool>(&shape, v.scalar::<bool>().unwrap_or_default(), spec).py()?.into());
    Ok(PyArr(d))
}

/// The chunk specification of a constructor (`None`: automatic).
fn spec(chunks: Option<&Bound<'_, PyAny>>) -> PyResult<bwa::ChunkSpec> {
    Ok(chunks.map(parse_chunks).transpose()?.unwrap_or(bwa::ChunkSpec::Auto))
}

/// Evenly spaced values in `[start, stop)`.
#[pyfunction]
#[pyo3(signature = (start, stop, step, dtype, chunks = None))]
pub fn arange(start: f64, stop: f64, step: f64, dtype: &str, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArr> {
    let dt = parse_dtype(dtype)?;
    let spec = spec(chunks)?;
    let d: Dyn = numeric_type!(dt, T => bwa::arange::<T>(start, stop, step, spec).py()?.into(),
        bool => return Err(PyTypeError::new_err("arange cannot make a bool array")),
        complex => return Err(PyTypeError::new_err("arange cannot make a complex array")));
    Ok(PyArr(d))
}

/// `num` evenly spaced values from `start` to `stop`.
#[pyfunction]
#[pyo3(signature = (start, stop, num, endpoint, dtype, chunks = None))]
pub fn linspace(
    start: f64,
    stop: f64,
    num: usize,
    endpoint: bool,
    dtype: &str,
    chunks: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArr> {
    let dt = parse_dtype(dtype)?;
    let spec = spec(chunks)?;
    let a = bwa::linspace::<f64>(start, stop, num, endpoint, spec).py()?;
    Ok(PyArr(Dyn::F64(a).astype(dt)))
}

/// An `n × m` matrix with ones on diagonal `k`.
#[pyfunction]
#[pyo3(signature = (n, m, k, dtype, chunks = None))]
pub fn eye(n: usize, m: usize, k: i64, dtype: &str, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArr> {
    let dt = parse_dtype(dtype)?;
    let spec = spec(chunks)?;
    let d: Dyn = numeric_type!(dt, T => bwa::eye::<T>(n, m, k, spec).py()?.into(),
        bool => Dyn::I64(bwa::eye::<i64>(n, m, k, spec).py()?).astype(DType::Bool),
        complex => Dyn::F64(bwa::eye::<f64>(n, m, k, spec).py()?).astype(dt));
    Ok(PyArr(d))
}

/// Random numbers: `kind` is uniform (in `[a, b)`), normal (mean `a`,
/// standard deviation `b`) or integers (in `[a, b)`), drawn from the
/// counter-based generator seeded by `seed` (the same seed, shape and
/// chunks give the same numbers on any scheduler).
#[pyfunction]
#[pyo3(signature = (kind, a, b, shape, seed, dtype, chunks = None))]
#[allow(clippy::too_many_arguments)]
pub fn random(
    kind: &str,
    a: f64,
    b: f64,
    shape: Vec<usize>,
    seed: u64,
    dtype: &str,
    chunks: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyArr> {
    let dt = parse_dtype(dtype)?;
    let spec = spec(chunks)?;
    let dist = match kind {
        "uniform" => bwa::random::Dist::Uniform { low: a, high: b },
        "normal" => bwa::random::Dist::Normal { loc: a, scale: b },
        "integers" => bwa::random::Dist::Integers { low: a as i64, high: b as i64 },
        other => return Err(PyValueError::new_err(format!("unknown distribution {other:?}"))),
    };
    if !matches!(dist, bwa::random::Dist::Integers { .. }) {
        float_only(dt, kind)?;
    }
    let d: Dyn = numeric_type!(dt, T => bwa::random::draw::<T>(dist, &shape, spec, seed).py()?.into(),
        bool => Dyn::I64(bwa::random::draw::<i64>(dist, &shape, spec, seed).py()?).astype(DType::Bool),
        complex => return Err(PyTypeError::new_err("random draws cannot be complex")));
    Ok(PyArr(d))
}

/// A lazy array over a C-contiguous NumPy array: nothing is copied now;
/// each block is copied out of the NumPy memory when its task runs.
#[pyfunction]
#[pyo3(signature = (array, chunks = None))]
pub fn from_numpy(array: &Bound<'_, PyAny>, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArr> {
    let spec = spec(chunks)?;
    crate::buffer::view_numpy(array, spec).map(PyArr)
}

/// A lazy array over a `.npy` file: each block reads its own bytes.
#[pyfunction]
#[pyo3(signature = (path, chunks = None))]
pub fn from_npy(path: PathBuf, chunks: Option<&Bound<'_, PyAny>>) -> PyResult<PyArr> {
    let spec = spec(chunks)?;
    let header = bwa::read_npy_header(&path).py()?;
    let dt = crate::buffer::dtype_of_typestr(&header.descr).ok_or_else(|| {
        PyTypeError::new_err(format!("{}: NumPy type {:?} has no blockwork element type", path.display(), header.descr))
    })?;
    let d: Dyn = numeric_type!(dt, T => bwa::from_npy::<T>(&path, spec).py()?.into(),
        bool => bwa::from_npy::<bool>(&path, spec).py()?.into());
    Ok(PyArr(d))
}

/// `where(condition, x, y)`: elements of `x` where `condition` is true,
/// of `y` elsewhere.
#[pyfunction]
pub fn where_(condition: &PyArr, x: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<PyArr> {
    Dyn::where_(&condition.0, &parse_rhs(x)?, &parse_rhs(y)?).py().map(PyArr)
}

fn common(arrays: &[PyRef<'_, PyArr>]) -> PyResult<DType> {
    let first = arrays.first().ok_or_else(|| PyValueError::new_err("need at least one array"))?;
    Ok(arrays.iter().fold(first.0.dtype(), |dt, a| blockwork_array::dynamic::promote(dt, a.0.dtype())))
}

/// Arrays joined along an existing axis (`stack`: a new one).
#[pyfunction]
pub fn concatenate(arrays: Vec<PyRef<'_, PyArr>>, axis: isize, new_axis: bool) -> PyResult<PyArr> {
    let dt = common(&arrays)?;
    fn join<T: Typed>(arrays: &[PyRef<'_, PyArr>], axis: isize, new_axis: bool) -> bwa::Result<Dyn> {
        let typed: Vec<bwa::Array<T>> = arrays.iter().map(|a| T::cast(&a.0)).collect();
        let refs: Vec<&bwa::Array<T>> = typed.iter().collect();
        Ok(T::wrap(if new_axis { bwa::stack(&refs, axis)? } else { bwa::concatenate(&refs, axis)? }))
    }
    numeric_type!(dt, T => join::<T>(&arrays, axis, new_axis), bool => join::<bool>(&arrays, axis, new_axis))
        .py()
        .map(PyArr)
}

/// Computes several arrays in one graph (work they share runs once).
#[pyfunction]
pub fn compute_many(py: Python<'_>, arrays: Vec<PyRef<'_, PyArr>>, scheduler: Sched) -> PyResult<Vec<NdBuffer>> {
    let ds: Vec<Dyn> = arrays.iter().map(|a| a.0.clone()).collect();
    let out = run(py, scheduler, move |config| {
        let layers: Vec<std::sync::Arc<bwa::Layer>> = ds.iter().map(|d| each!(d, a => a.layer().clone())).collect();
        let refs: Vec<&std::sync::Arc<bwa::Layer>> = layers.iter().collect();
        let graph = blockwork_graph::layer::collect(&refs)?;
        let keys: Vec<Vec<blockwork_graph::Key>> = ds.iter().map(|d| each!(d, a => a.keys())).collect();
        let all: Vec<blockwork_graph::Key> = keys.iter().flatten().cloned().collect();
        let mut values = blockwork_local::compute(graph, &all, config).map_err(bwa::ArrayError::from)?.into_iter();
        ds.iter()
            .zip(&keys)
            .map(|(d, k)| assemble_dyn(d, values.by_ref().take(k.len()).collect()))
            .collect::<bwa::Result<Vec<_>>>()
    })?;
    Ok(out.into_iter().map(buffer_of).collect())
}

/// NumPy's `einsum` of one or two arrays.
#[pyfunction]
pub fn einsum(spec: &str, operands: Vec<PyRef<'_, PyArr>>) -> PyResult<PyArr> {
    let ds: Vec<&Dyn> = operands.iter().map(|a| &a.0).collect();
    Dyn::einsum(spec, &ds).py().map(PyArr)
}
