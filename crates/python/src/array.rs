//! `blockwork._core.Array`: the engine's lazy array, driven from Python.
//!
//! The Python class `blockwork.array.Array` wraps it and adds NumPy's
//! protocols; everything that builds graphs or touches elements is here,
//! in Rust. Computing releases the GIL for the whole run.

use blockwork_array::{BinOp, ChunkSpec, DType, MathFn, ReduceOpts};
use ndarray::SliceInfoElem;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::buffer::{buffer_of, compute_dyn, dtype_name, NdBuffer};
use crate::errors::OrPy;
use crate::run::{run, Sched};
use blockwork_array::dyn_each as each;
use blockwork_array::dynamic::{Decomposition, Dyn, Rhs};

/// A lazy chunked array of the engine (see `blockwork.array.Array`).
#[pyclass(frozen, module = "blockwork._core", name = "Array")]
pub struct PyArr(pub Dyn);

fn wrap(d: Dyn) -> PyArr {
    PyArr(d)
}

/// The element type for NumPy's name of it.
pub fn parse_dtype(name: &str) -> PyResult<DType> {
    Ok(match name {
        "float64" | "f8" | "float" => DType::F64,
        "float32" | "f4" => DType::F32,
        "int64" | "i8" | "int" => DType::I64,
        "int32" | "i4" => DType::I32,
        "uint8" | "u1" => DType::U8,
        "bool" | "b1" => DType::Bool,
        "complex128" | "c16" | "complex" => DType::C128,
        "complex64" | "c8" => DType::C64,
        other => {
            return Err(PyTypeError::new_err(format!(
                "dtype {other:?} is not one of blockwork's: float64, float32, int64, int32, uint8, bool, complex128, complex64"
            )))
        }
    })
}

/// A chunk specification from Python: `"auto"`, a size like `"64MiB"`, an
/// int (`-1`: the whole axis), a sequence of ints / `-1` / `None` per axis,
/// or a sequence of block-length tuples per axis.
pub fn parse_chunks(obj: &Bound<'_, PyAny>) -> PyResult<ChunkSpec> {
    if obj.is_none() {
        return Ok(ChunkSpec::Auto);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_cow()?;
        if s == "auto" {
            return Ok(ChunkSpec::Auto);
        }
        return blockwork_array::parse_bytes(&s).map(ChunkSpec::AutoBytes).ok_or_else(|| {
            PyValueError::new_err(format!(
                "chunks {s:?} is neither \"auto\" nor a size like \"64MiB\", \"128MB\" or \"1GB\""
            ))
        });
    }
    let one = |o: &Bound<'_, PyAny>| -> PyResult<Option<usize>> {
        if o.is_none() {
            return Ok(None);
        }
        let n: i64 = o.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "a chunk length must be an int, -1 or None, not {}",
                o.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        match n {
            -1 => Ok(None),
            n if n > 0 => Ok(Some(n as usize)),
            n => Err(PyValueError::new_err(format!("chunk length {n} must be positive (or -1 for the whole axis)"))),
        }
    };
    if obj.is_instance_of::<PyInt>() {
        return Ok(ChunkSpec::Sizes(vec![one(obj)?]));
    }
    let items: Vec<Bound<'_, PyAny>> = obj.try_iter()?.collect::<PyResult<_>>()?;
    if items.iter().any(|i| i.is_instance_of::<PyTuple>() || i.is_instance_of::<PyList>()) {
        let axes =
            items.iter().map(|i| i.extract::<Vec<usize>>()).collect::<PyResult<Vec<_>>>().map_err(|_| {
                PyTypeError::new_err("explicit chunks must give a tuple of block lengths for every axis")
            })?;
        return Ok(ChunkSpec::Explicit(axes));
    }
    Ok(ChunkSpec::Sizes(items.iter().map(one).collect::<PyResult<_>>()?))
}

/// The right-hand side of a binary operation from Python.
pub fn parse_rhs(obj: &Bound<'_, PyAny>) -> PyResult<Rhs> {
    if let Ok(a) = obj.cast::<PyArr>() {
        return Ok(Rhs::Array(a.get().0.clone()));
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Rhs::Bool(obj.extract()?));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>().map(Rhs::Int).map_err(|_| {
            PyValueError::new_err(format!("the integer {obj} does not fit blockwork's widest integer, int64"))
        });
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Rhs::Float(obj.extract()?));
    }
    if let Ok(z) = obj.cast::<pyo3::types::PyComplex>() {
        return Ok(Rhs::Complex(z.real(), z.imag()));
    }
    Err(PyTypeError::new_err(format!(
        "expected a blockwork array, bool, int, float or complex, got {}",
        obj.get_type().name().map(|n| n.to_string()).unwrap_or_default()
    )))
}

fn binop(name: &str) -> PyResult<BinOp> {
    Ok(match name {
        "add" => BinOp::Add,
        "sub" => BinOp::Sub,
        "mul" => BinOp::Mul,
        "truediv" => BinOp::Div,
        "mod" => BinOp::Rem,
        "pow" => BinOp::Pow,
        "maximum" => BinOp::Maximum,
        "minimum" => BinOp::Minimum,
        "eq" => BinOp::Equal,
        "ne" => BinOp::NotEqual,
        "lt" => BinOp::Less,
        "le" => BinOp::LessEqual,
        "gt" => BinOp::Greater,
        "ge" => BinOp::GreaterEqual,
        "and" => BinOp::And,
        "or" => BinOp::Or,
        "xor" => BinOp::Xor,
        "arctan2" => BinOp::Arctan2,
        other => return Err(PyValueError::new_err(format!("unknown binary operation {other:?}"))),
    })
}

/// Math functions by NumPy's name.
pub const MATH: [(&str, MathFn); 23] = [
    ("exp", MathFn::Exp),
    ("expm1", MathFn::Expm1),
    ("log", MathFn::Log),
    ("log1p", MathFn::Log1p),
    ("log2", MathFn::Log2),
    ("log10", MathFn::Log10),
    ("sqrt", MathFn::Sqrt),
    ("cbrt", MathFn::Cbrt),
    ("sin", MathFn::Sin),
    ("cos", MathFn::Cos),
    ("tan", MathFn::Tan),
    ("arcsin", MathFn::Arcsin),
    ("arccos", MathFn::Arccos),
    ("arctan", MathFn::Arctan),
    ("sinh", MathFn::Sinh),
    ("cosh", MathFn::Cosh),
    ("tanh", MathFn::Tanh),
    ("floor", MathFn::Floor),
    ("ceil", MathFn::Ceil),
    ("rint", MathFn::Round),
    ("trunc", MathFn::Trunc),
    ("deg2rad", MathFn::Deg2rad),
    ("rad2deg", MathFn::Rad2deg),
];

/// One entry of a basic index, as the Python side normalizes it.
#[derive(FromPyObject)]
enum IndexItem {
    /// `(start, stop, step)` of a slice, already clipped by `slice.indices`.
    Slice(isize, isize, isize),
    /// An integer (negative from the end).
    Int(isize),
    /// `None`: a new axis.
    NewAxis(NoneMarker),
}

/// Python's `None` as an index entry.
struct NoneMarker;

impl<'a, 'py> FromPyObject<'a, 'py> for NoneMarker {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_none() {
            Ok(NoneMarker)
        } else {
            Err(PyTypeError::new_err("expected None"))
        }
    }
}

#[pymethods]
impl PyArr {
    /// The shape.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.0.shape().to_vec())
    }

    /// NumPy's name of the element type.
    #[getter]
    fn dtype(&self) -> &'static str {
        dtype_name(&self.0)
    }

    /// Block lengths along each axis, as a tuple of tuples.
    #[getter]
    fn chunks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let axes: Vec<Vec<usize>> = self.0.chunks().to_vec();
        PyTuple::new(py, axes.into_iter().map(|ax| PyTuple::new(py, ax)).collect::<PyResult<Vec<_>>>()?)
    }

    /// The name of the layer that makes the blocks (its keys' prefix).
    #[getter]
    fn name(&self) -> String {
        each!(&self.0, a => a.name().to_string())
    }

    /// Number of tasks in the array's graph.
    #[getter]
    fn ntasks(&self) -> usize {
        self.0.ntasks()
    }

    /// `self op other` (or `other op self` when `reflected`) for an
    /// operation name: add, sub, mul, truediv, mod, pow, maximum, minimum,
    /// eq, ne, lt, le, gt, ge, and, or, xor, arctan2.
    #[pyo3(signature = (op, other, reflected = false))]
    fn binary(&self, op: &str, other: &Bound<'_, PyAny>, reflected: bool) -> PyResult<PyArr> {
        self.0.binary(binop(op)?, &parse_rhs(other)?, reflected).py().map(wrap)
    }

    /// `self // other` (or `other // self`).
    #[pyo3(signature = (other, reflected = false))]
    fn floordiv(&self, other: &Bound<'_, PyAny>, reflected: bool) -> PyResult<PyArr> {
        self.0.floordiv(&parse_rhs(other)?, reflected).py().map(wrap)
    }

    /// A unary operation: neg, abs, invert, isnan, or a math function by
    /// NumPy's name (exp, log, sqrt, sin, …, rint).
    fn unary(&self, op: &str) -> PyResult<PyArr> {
        let d = match op {
            "neg" => self.0.neg().py()?,
            "abs" => self.0.abs(),
            "invert" => self.0.invert().py()?,
            "isnan" => self.0.isnan(),
            "real" | "imag" | "conj" | "angle" => blockwork_array::dynamic::complex::unary(&self.0, op).py()?,
            name => {
                let f = MATH
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or_else(|| PyValueError::new_err(format!("unknown unary operation {name:?}")))?;
                self.0.math(f.1).py()?
            }
        };
        Ok(wrap(d))
    }

    /// A `numpy.fft` transform by name (`fft`, `ifft`, `rfft`, `irfft`,
    /// `hfft`, `ihfft` along `axis` with length `n`; `fftn`, `ifftn`,
    /// `rfftn`, `irfftn` over `axes` with lengths `s`), scaled as `norm`
    /// says (`"backward"`, `"ortho"`, `"forward"`).
    #[pyo3(signature = (name, n = None, axis = -1, s = None, axes = None, norm = None))]
    fn fft(
        &self,
        name: &str,
        n: Option<usize>,
        axis: isize,
        s: Option<Vec<usize>>,
        axes: Option<Vec<isize>>,
        norm: Option<&str>,
    ) -> PyResult<PyArr> {
        let norm = blockwork_array::fft::Norm::parse(norm).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let call =
            blockwork_array::dynamic::complex::FftCall { name, n, axis, s: s.as_deref(), axes: axes.as_deref(), norm };
        blockwork_array::dynamic::complex::fft_by_name(&self.0, &call).py().map(wrap)
    }

    /// Elements clipped to `[lo, hi]`.
    #[pyo3(signature = (lo = None, hi = None))]
    fn clip(&self, lo: Option<f64>, hi: Option<f64>) -> PyResult<PyArr> {
        self.0.clip(lo, hi).py().map(wrap)
    }

    /// A reduction by NumPy's name (sum, prod, min, max, mean, var, std,
    /// nan-variants, argmin, argmax, any, all).
    #[pyo3(signature = (name, axis = None, keepdims = false, ddof = 0, split_every = None))]
    fn reduce(
        &self,
        name: &str,
        axis: Option<Vec<isize>>,
        keepdims: bool,
        ddof: usize,
        split_every: Option<usize>,
    ) -> PyResult<PyArr> {
        let opts = ReduceOpts { axes: axis, keepdims, split_every, ddof };
        self.0.reduce(name, &opts).py().map(wrap)
    }

    /// A grouped reduction by NumPy's name along `axis` (flox's
    /// map-reduce): `labels` give each index's group (`0..ngroups`, or
    /// negative to leave it out).
    #[pyo3(signature = (name, axis, labels, ngroups, ddof = 0, split_every = None))]
    fn groupby_reduce(
        &self,
        name: &str,
        axis: isize,
        labels: Vec<i64>,
        ngroups: usize,
        ddof: usize,
        split_every: Option<usize>,
    ) -> PyResult<PyArr> {
        let opts = ReduceOpts { axes: None, keepdims: false, split_every, ddof };
        self.0.groupby_reduce(name, axis, &labels, ngroups, &opts).py().map(wrap)
    }

    /// `cumsum` or `cumprod` along an axis.
    fn cumulative(&self, name: &str, axis: isize) -> PyResult<PyArr> {
        self.0.cumulative(name, axis).py().map(wrap)
    }

    /// The matrix product.
    fn matmul(&self, other: &PyArr) -> PyResult<PyArr> {
        self.0.matmul(&other.0).py().map(wrap)
    }

    /// Matrix factors: `kind` is "tsqr" or "qr" (`[Q, R]`), "svd" or
    /// "svd_compressed" (`[U, S, Vt]`; the latter takes `k`,
    /// `power_iters`, `oversamples` and `seed`), "cholesky" (`[L]`) or
    /// "lu" (`[P, L, U]`).
    #[pyo3(signature = (kind, k = 0, power_iters = 0, oversamples = 10, seed = 0))]
    fn decompose(
        &self,
        kind: &str,
        k: usize,
        power_iters: usize,
        oversamples: usize,
        seed: u64,
    ) -> PyResult<Vec<PyArr>> {
        let d = match kind {
            "tsqr" => Decomposition::Tsqr,
            "qr" => Decomposition::Qr,
            "svd" => Decomposition::Svd,
            "svd_compressed" => Decomposition::SvdCompressed { k, power_iters, oversamples, seed },
            "cholesky" => Decomposition::Cholesky,
            "lu" => Decomposition::Lu,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown decomposition {other:?}: tsqr, qr, svd, svd_compressed, cholesky or lu"
                )))
            }
        };
        Ok(self.0.decompose(d).py()?.into_iter().map(wrap).collect())
    }

    /// `X` with `self @ X = b`, this array a triangular matrix.
    fn solve_triangular(&self, b: &PyArr, lower: bool) -> PyResult<PyArr> {
        self.0.solve_triangular(&b.0, lower).py().map(wrap)
    }

    /// The array cast to another element type.
    fn astype(&self, dtype: &str) -> PyResult<PyArr> {
        Ok(wrap(self.0.astype(parse_dtype(dtype)?)))
    }

    /// Axes permuted (reversed when `axes` is None).
    #[pyo3(signature = (axes = None))]
    fn transpose(&self, axes: Option<Vec<usize>>) -> PyResult<PyArr> {
        Ok(wrap(match axes {
            None => each!(&self.0, a => a.t().into()),
            Some(p) => self.0.permute_axes(&p).py()?,
        }))
    }

    /// The same elements in another shape (C order).
    fn reshape(&self, shape: Vec<usize>) -> PyResult<PyArr> {
        Ok(wrap(each!(&self.0, a => a.reshape(&shape).py()?.into())))
    }

    /// The same array cut into other blocks.
    fn rechunk(&self, chunks: &Bound<'_, PyAny>) -> PyResult<PyArr> {
        let spec = parse_chunks(chunks)?;
        Ok(wrap(self.0.rechunk(spec).py()?))
    }

    /// Basic indexing: one normalized entry per consumed axis or new axis.
    fn getitem(&self, index: Vec<IndexItem>) -> PyResult<PyArr> {
        let info: Vec<SliceInfoElem> = index
            .into_iter()
            .map(|i| match i {
                IndexItem::Slice(start, end, step) => SliceInfoElem::Slice { start, end: Some(end), step },
                IndexItem::Int(i) => SliceInfoElem::Index(i),
                IndexItem::NewAxis(_) => SliceInfoElem::NewAxis,
            })
            .collect();
        Ok(wrap(self.0.slice(&info).py()?))
    }

    /// Elements at integer positions along one axis.
    fn take(&self, indices: Vec<isize>, axis: isize) -> PyResult<PyArr> {
        Ok(wrap(self.0.take(&indices, axis).py()?))
    }

    /// Elements where a boolean vector is true along one axis.
    fn compress(&self, condition: Vec<bool>, axis: isize) -> PyResult<PyArr> {
        Ok(wrap(each!(&self.0, a => a.compress(&condition, axis).py()?.into())))
    }

    /// The elements where a boolean array of the same shape is true, in C
    /// order (a 1-d array; the mask is computed to know its length).
    fn mask_select(&self, py: Python<'_>, mask: &PyArr, scheduler: Sched) -> PyResult<PyArr> {
        let Dyn::Bool(m) = &mask.0 else {
            return Err(PyTypeError::new_err(format!("a mask must be a bool array, not {}", dtype_name(&mask.0))));
        };
        let d = self.0.clone();
        let m = m.clone();
        run(py, scheduler, move |config| {
            Ok::<Dyn, blockwork_array::ArrayError>(each!(&d, a => a.mask_select_with(&m, config)?.into()))
        })
        .map(wrap)
    }

    /// A Python function applied to every block (a NumPy array); its
    /// results, as `dtype`, are the blocks of lengths `chunks`. With
    /// `with_info`, the function also gets (index, offset, shape, array
    /// shape) of the block.
    #[pyo3(signature = (func, dtype, chunks, name, with_info = false))]
    fn map_blocks(
        &self,
        func: Py<PyAny>,
        dtype: &str,
        chunks: Vec<Vec<usize>>,
        name: &str,
        with_info: bool,
    ) -> PyResult<PyArr> {
        crate::mapblocks::map_blocks(&self.0, func, parse_dtype(dtype)?, chunks, name, with_info).map(wrap)
    }

    /// Each block grown by `depth` elements per axis from its neighbours
    /// (Dask's `overlap`); at the array's edges by `boundary`: "reflect",
    /// "periodic", "none", or a number (a constant).
    fn overlap(&self, depth: Vec<usize>, boundary: &Bound<'_, PyAny>) -> PyResult<PyArr> {
        let b = if let Ok(text) = boundary.extract::<String>() {
            match text.as_str() {
                "reflect" => blockwork_array::Boundary::Reflect,
                "periodic" => blockwork_array::Boundary::Periodic,
                "none" => blockwork_array::Boundary::None,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "boundary {other:?} is not one of \"reflect\", \"periodic\", \"none\" or a number"
                    )))
                }
            }
        } else {
            blockwork_array::Boundary::Constant(boundary.extract::<f64>().map_err(|_| {
                PyTypeError::new_err("boundary must be \"reflect\", \"periodic\", \"none\" or a number")
            })?)
        };
        Ok(wrap(each!(&self.0, a => a.overlap(&depth, b).py()?.into())))
    }

    /// The array broadcast to a shape.
    fn broadcast_to(&self, shape: Vec<usize>) -> PyResult<PyArr> {
        Ok(wrap(each!(&self.0, a => a.broadcast_to(&shape).py()?.into())))
    }

    /// Length-1 axes removed (all of them when `axes` is None).
    #[pyo3(signature = (axes = None))]
    fn squeeze(&self, axes: Option<Vec<isize>>) -> PyResult<PyArr> {
        Ok(wrap(each!(&self.0, a => a.squeeze(axes.as_deref()).py()?.into())))
    }

    /// A length-1 axis inserted at `axis`.
    fn expand_dims(&self, axis: isize) -> PyResult<PyArr> {
        Ok(wrap(self.0.expand_dims(axis).py()?))
    }

    /// Two axes swapped.
    fn swapaxes(&self, a: isize, b: isize) -> PyResult<PyArr> {
        Ok(wrap(each!(&self.0, x => x.swapaxes(a, b).py()?.into())))
    }

    /// The array as one block at a block index.
    fn block(&self, index: Vec<usize>) -> PyResult<PyArr> {
        Ok(wrap(each!(&self.0, a => a.block(&index).py()?.into())))
    }

    /// Computes the array (the GIL released for the run); the result's
    /// memory is handed to NumPy without a copy.
    fn compute(&self, py: Python<'_>, scheduler: Sched) -> PyResult<NdBuffer> {
        let d = self.0.clone();
        run(py, scheduler, move |config| compute_dyn(&d, config)).map(buffer_of)
    }

    /// Computes the blocks and returns an array backed by them.
    fn persist(&self, py: Python<'_>, scheduler: Sched) -> PyResult<PyArr> {
        let d = self.0.clone();
        run(py, scheduler, move |config| {
            Ok::<Dyn, blockwork_array::ArrayError>(each!(&d, a => a.persist_with(config)?.into()))
        })
        .map(wrap)
    }

    /// Computes the array (with the scheduler given, Ctrl-C cancelling)
    /// and writes it to a `.npy` file from the result's own memory.
    fn to_npy(&self, py: Python<'_>, path: std::path::PathBuf, scheduler: Sched) -> PyResult<()> {
        let d = self.0.clone();
        run(py, scheduler, move |config| each!(&d, a => a.to_npy_with(&path, config)))
    }

    /// Writes the task graph as Graphviz dot.
    fn visualize(&self, path: std::path::PathBuf) -> PyResult<()> {
        each!(&self.0, a => a.visualize(&path)).py()
    }

    fn __repr__(&self) -> String {
        each!(&self.0, a => a.to_string())
    }
}
