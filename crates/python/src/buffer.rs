//! Memory shared with NumPy both ways, through NumPy's array interface.
//!
//! A computed result is handed to NumPy without a copy: [`NdBuffer`] owns
//! the elements and publishes `__array_interface__`; `numpy.asarray`
//! makes an array whose base is the buffer, so the memory lives as long
//! as any NumPy view of it. The other way, [`view_numpy`] makes a lazy
//! array whose block tasks copy their rectangles out of a NumPy array.

use blockwork_array::{Complex, DType, Element};
use ndarray::{ArrayD, IxDyn};
use pyo3::exceptions::PyValueError;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::errors::OrPy;
use blockwork_array::dyn_each as each;
use blockwork_array::dynamic::{Dyn, Typed};

/// Elements of one of the engine's types.
enum Elements {
    F64(Vec<f64>),
    F32(Vec<f32>),
    I64(Vec<i64>),
    I32(Vec<i32>),
    U8(Vec<u8>),
    Bool(Vec<bool>),
    C128(Vec<Complex<f64>>),
    C64(Vec<Complex<f32>>),
}

/// A computed array's memory, readable by NumPy without a copy
/// (`numpy.asarray(buffer)`).
#[pyclass(frozen, module = "blockwork._core")]
pub struct NdBuffer {
    elements: Elements,
    shape: Vec<usize>,
    typestr: &'static str,
}

impl NdBuffer {
    /// Takes a computed ndarray's memory (copied only when it is not in C order).
    fn new<T: Element>(a: ArrayD<T>, wrap: fn(Vec<T>) -> Elements) -> NdBuffer {
        let shape = a.shape().to_vec();
        let a = if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() };
        let (vec, offset) = a.into_raw_vec_and_offset();
        let vec = match offset {
            Some(0) | None => vec,
            Some(o) => vec[o..].to_vec(),
        };
        NdBuffer { elements: wrap(vec), shape, typestr: T::NPY_DESCR }
    }
}

macro_rules! buffers {
    ($($t:ty => $v:ident),*) => {
        /// A computed array of any type as a buffer.
        pub fn buffer_of(d: ComputedDyn) -> NdBuffer {
            match d { $(ComputedDyn::$v(a) => NdBuffer::new(a, Elements::$v),)* }
        }

        /// A computed array of one of the engine's types.
        pub enum ComputedDyn { $(
            #[allow(missing_docs)]
            $v(ArrayD<$t>),
        )* }

        /// Computes `d` into memory with `config`.
        pub fn compute_dyn(d: &Dyn, config: &blockwork_local::Config) -> blockwork_array::Result<ComputedDyn> {
            Ok(match d { $(Dyn::$v(a) => ComputedDyn::$v(a.compute_with(config)?),)* })
        }

        /// Assembles computed block values of `d` (in the order of its keys).
        pub fn assemble_dyn(d: &Dyn, values: Vec<blockwork_graph::Value>) -> blockwork_array::Result<ComputedDyn> {
            Ok(match d { $(Dyn::$v(a) => ComputedDyn::$v(a.assemble(values)?),)* })
        }

        /// Element types whose arrays become buffers.
        pub trait IntoBuffer: Element {
            /// The array as a buffer NumPy views.
            fn buffer(a: ArrayD<Self>) -> NdBuffer;
        }
        $(impl IntoBuffer for $t {
            fn buffer(a: ArrayD<Self>) -> NdBuffer {
                NdBuffer::new(a, Elements::$v)
            }
        })*

        fn pointer(e: &Elements) -> usize {
            match e { $(Elements::$v(v) => v.as_ptr() as usize,)* }
        }
    };
}
buffers!(f64 => F64, f32 => F32, i64 => I64, i32 => I32, u8 => U8, bool => Bool, Complex<f64> => C128, Complex<f32> => C64);

#[pymethods]
impl NdBuffer {
    /// NumPy's array interface (version 3): the data pointer, shape and
    /// element type of the buffer's memory.
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("version", 3)?;
        d.set_item("shape", PyTuple::new(py, &self.shape)?)?;
        d.set_item("typestr", self.typestr)?;
        // The memory is this object's alone; NumPy may write to it (a
        // computed result is the caller's to modify, as Dask's is).
        d.set_item("data", (pointer(&self.elements), false))?;
        d.set_item("strides", py.None())?;
        Ok(d)
    }
}

/// The engine's element type for NumPy's type string (`<f8`, `|b1`, …).
pub fn dtype_of_typestr(typestr: &str) -> Option<DType> {
    DType::ALL.into_iter().find(|dt| {
        let descr =
            blockwork_array::dyn_numeric_type!(*dt, T => <T as Element>::NPY_DESCR, bool => <bool as Element>::NPY_DESCR);
        descr == typestr || (descr.starts_with('<') && typestr == format!("={}", &descr[1..]))
    })
}

/// A lazy array over a C-contiguous NumPy array: nothing is copied when
/// it is made; each block task copies its own rectangle out of the NumPy
/// memory when it runs (without the GIL), and the block is freed when its
/// readers are done. The NumPy array is held (kept alive) by the graph.
pub fn view_numpy(obj: &Bound<'_, PyAny>, spec: blockwork_array::ChunkSpec) -> PyResult<Dyn> {
    let Interface { shape, dtype: dt, ptr } = Interface::of(obj)?;
    let source = Arc::new(NumpySource { _owner: obj.clone().unbind(), ptr, shape: shape.clone() });
    let chunks = blockwork_array::Chunks::normalize(&spec, &shape, dt.itemsize()).py()?;
    let id = NEXT_SOURCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let token = blockwork_graph::tokenize(&(PROCESS_TOKEN.0, id, ptr as u64));
    blockwork_array::dyn_numeric_type!(dt, T => view_typed::<T>(source, &chunks, token),
        bool => view_typed::<u8>(source, &chunks, token).map(|d| d.astype(DType::Bool)))
}

/// A NumPy array the graph reads from.
pub(crate) struct NumpySource {
    /// Keeps the array (and so its memory) alive while any task may read it.
    _owner: Py<PyAny>,
    ptr: usize,
    shape: Vec<usize>,
}

static NEXT_SOURCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
static PROCESS_TOKEN: std::sync::LazyLock<blockwork_graph::Token> = std::sync::LazyLock::new(|| {
    blockwork_graph::tokenize(&(std::process::id() as u64, format!("{:?}", std::time::SystemTime::now())))
});

impl NumpySource {
    /// Copies the rectangle `info` of the source, read as elements of `T`.
    #[allow(unsafe_code)]
    pub(crate) fn copy_block<T: Element>(&self, info: &[ndarray::SliceInfoElem]) -> ArrayD<T> {
        let len: usize = self.shape.iter().product();
        if len == 0 {
            return ArrayD::from_elem(IxDyn(&self.shape), T::default()).slice(info).to_owned();
        }
        // SAFETY: `ptr` is the data pointer of a C-contiguous array of
        // `len` elements of `T` (checked by `view_numpy`: its type string
        // named `T`, or bytes read as u8 for bool), kept alive by `_owner`
        // for as long as this source exists; the view is only read, and
        // dropped before this function returns.
        let whole = unsafe { ndarray::ArrayViewD::from_shape_ptr(IxDyn(&self.shape), self.ptr as *const T) };
        whole.slice(info).to_owned()
    }
}

fn view_typed<T: Typed>(
    source: Arc<NumpySource>,
    chunks: &blockwork_array::Chunks,
    token: blockwork_graph::Token,
) -> PyResult<Dyn> {
    if !source.ptr.is_multiple_of(std::mem::align_of::<T>()) {
        return Err(PyValueError::new_err("the NumPy array's memory is not aligned for its type"));
    }
    let offsets: Vec<Vec<usize>> = (0..source.shape.len()).map(|ax| chunks.offsets(ax)).collect();
    let block_chunks = chunks.clone();
    let arr = blockwork_array::Array::<T>::from_block_tasks(
        "array",
        token,
        &source.shape.clone(),
        blockwork_array::ChunkSpec::Explicit(chunks.axes().to_vec()),
        |idx| {
            let shape = block_chunks.block_shape(idx);
            let info: Vec<ndarray::SliceInfoElem> = idx
                .iter()
                .enumerate()
                .map(|(ax, &i)| {
                    let start = offsets[ax][i as usize];
                    ndarray::SliceInfoElem::Slice {
                        start: start as isize,
                        end: Some((start + shape[ax]) as isize),
                        step: 1,
                    }
                })
                .collect();
            crate::rect::block_task(Arc::clone(&source), info, T::DTYPE, &shape)
        },
    )
    .py()?;
    Ok(T::wrap(arr))
}

/// What a C-contiguous NumPy array publishes through
/// `__array_interface__`: its shape, element type and data pointer.
struct Interface {
    shape: Vec<usize>,
    dtype: DType,
    ptr: usize,
}

impl Interface {
    fn of(obj: &Bound<'_, PyAny>) -> PyResult<Interface> {
        let iface = obj.getattr("__array_interface__")?;
        let shape: Vec<usize> = iface.get_item("shape")?.extract()?;
        let typestr: String = iface.get_item("typestr")?.extract()?;
        let (ptr, _readonly): (usize, bool) = iface.get_item("data")?.extract()?;
        if !iface.get_item("strides")?.is_none() {
            return Err(PyValueError::new_err("expected a C-contiguous array (numpy.ascontiguousarray)"));
        }
        let dtype = dtype_of_typestr(&typestr)
            .ok_or_else(|| PyValueError::new_err(format!("NumPy type {typestr:?} has no blockwork element type")))?;
        Ok(Interface { shape, dtype, ptr })
    }
}

/// Copies a C-contiguous NumPy array of `T` (its type checked).
pub fn read_numpy_as<T: Element>(obj: &Bound<'_, PyAny>) -> PyResult<ArrayD<T>> {
    let Interface { shape, dtype, ptr } = Interface::of(obj)?;
    if dtype != T::DTYPE {
        return Err(PyValueError::new_err(format!("expected an array of {}, got {}", T::DTYPE.name(), dtype.name())));
    }
    let len: usize = shape.iter().product();
    if T::DTYPE == DType::Bool {
        return Ok(copy_elements::<u8>(ptr, len, &shape)?.mapv(|b| T::from_f64(f64::from(b))));
    }
    copy_elements::<T>(ptr, len, &shape)
}

#[allow(unsafe_code)]
fn copy_elements<T: Element>(ptr: usize, len: usize, shape: &[usize]) -> PyResult<ArrayD<T>> {
    if len > 0 && (ptr == 0 || !ptr.is_multiple_of(std::mem::align_of::<T>())) {
        return Err(PyValueError::new_err("the NumPy array's memory is not aligned for its type"));
    }
    let elements = if len == 0 {
        Vec::new()
    } else {
        // SAFETY: `ptr` is the data pointer the array published through
        // `__array_interface__` for `len` C-contiguous elements of `T`
        // (its type string named `T`); the caller holds a reference to the
        // array and the GIL for the whole copy, so the memory stays valid,
        // and it was checked to be non-null and aligned.
        unsafe { std::slice::from_raw_parts(ptr as *const T, len) }.to_vec()
    };
    ArrayD::from_shape_vec(IxDyn(shape), elements).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The element type of a [`Dyn`] as NumPy's name.
pub fn dtype_name(d: &Dyn) -> &'static str {
    each!(d, a => a.dtype().name())
}
