//! `map_blocks` with a Python function on NumPy blocks.
//!
//! Each task is the named function `blockwork.python.map_block`, so the
//! same graph runs on local threads and on a cluster's Python workers. Its
//! parameters hold the function itself ([`PyCallable`]): in this process
//! the task calls it directly; sent to a worker it travels pickled
//! (cloudpickle) and is unpickled there once per worker.
//!
//! A task copies its block into a NumPy array (the function may keep or
//! modify it) before taking the GIL, calls the function, and copies the
//! result, converted to the declared type, into the output block (that copy
//! reads a Python object, so it holds the GIL). A Python exception becomes
//! the task's error and reaches the caller as itself.

use std::sync::Arc;

use blockwork_array::{block_of, Block, BlockInfo, ChunkSpec, DType, Element};
use blockwork_graph::Buffer;
use blockwork_graph::{kernel_params, Data, KernelParams, NamedFn, TaskError, TaskResult, Value};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::array::parse_dtype;
use crate::buffer::{read_numpy_as, IntoBuffer};
use crate::errors::{python_task_error, OrPy};
use crate::pytask::kept_state;
use crate::remote::{callable, dumps, task_error, Pickled};
use blockwork_array::dynamic::{Dyn, Typed};
use blockwork_array::{dyn_each as each, dyn_numeric_type as numeric_type};

/// A Python callable held in a task's parameters.
pub struct PyCallable(pub Py<PyAny>);

impl std::fmt::Debug for PyCallable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PyCallable(..)")
    }
}

impl Data for PyCallable {
    fn nbytes(&self) -> usize {
        std::mem::size_of::<Self>()
    }

    fn type_name(&self) -> &'static str {
        CALLABLE
    }
}

pub(crate) const CALLABLE: &str = "blockwork.python.callable";

/// Pickles the callable (taking the GIL); `None` if it cannot be pickled,
/// which the sender reports as an object it cannot encode. It arrives as
/// [`Pickled`] bytes (the pickled-object codec's decoder), unpickled when
/// called.
pub(crate) fn encode_callable(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let c = (d as &dyn std::any::Any).downcast_ref::<PyCallable>()?;
    Python::attach(|py| dumps(py, c.0.bind(py)).ok()).map(|b| (Vec::new(), vec![b]))
}

/// The task function of Python `map_blocks`.
pub static PY_MAP_BLOCK: NamedFn = NamedFn::new("blockwork.python.map_block", map_block).params::<MapBlockParams>();

kernel_params! {
    /// Python `map_blocks`' own parameters, the same for every block.
    struct MapBlocksFn {
        /// The function: a [`PyCallable`] in this process, its pickle on a worker.
        func: Value,
        /// Whether it also gets the block's location.
        with_info: bool,
        /// The element type of its results.
        out: DType,
        /// The call's name, for errors.
        name: Arc<str>,
    }
}

kernel_params! {
    /// One block's task, as `Array::map_blocks_named` makes it; the
    /// argument is the input block.
    struct MapBlockParams {
        /// What `map_blocks` was given.
        own: MapBlocksFn,
        /// Where the input block sits.
        info: BlockInfo,
        /// The shape the result must have.
        want: Vec<usize>,
    }
}

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
    let shape: Vec<usize> = chunks.iter().map(|c| c.iter().sum()).collect();
    let params = MapBlocksFn { func: Value::object(PyCallable(func)), with_info, out, name: name.into() }.to_value();
    let spec = ChunkSpec::Explicit(chunks);
    each!(d, a => numeric_type!(out,
        U => Ok(U::wrap(a.map_blocks_named::<U>(name, spec, &shape, &PY_MAP_BLOCK, params).py()?)),
        bool => Ok(bool::wrap(a.map_blocks_named::<bool>(name, spec, &shape, &PY_MAP_BLOCK, params).py()?))))
}

/// One block of Python `map_blocks`.
fn map_block(params: &Value, args: Vec<Value>) -> TaskResult {
    let MapBlockParams { own: MapBlocksFn { func, with_info, out, name }, info, want } =
        MapBlockParams::from_value(params)?;
    let block = args.first().ok_or_else(|| TaskError::new("map_blocks without input"))?;
    // The block's copy is made before taking the GIL.
    let copy = block_buffer(block)?;
    let label = || format!("{name}{:?}", info.index);
    in_python(&func, label, |py, f, np| {
        let x = np.call_method1("asarray", (Py::new(py, copy)?,))?;
        let y = if with_info {
            let where_ = (info.index.clone(), info.offset.clone(), info.shape.clone(), info.array_shape.clone());
            f.call1((x, where_))?
        } else {
            f.call1(PyTuple::new(py, [x])?)?
        };
        numeric_type!(out, U => output::<U>(np, &y, &want), bool => output::<bool>(np, &y, &want))
    })
}

/// Runs `body` with the GIL, the task's function and NumPy: on this
/// thread's kept Python state, its exception becoming the task's error
/// (kept to raise again here, or pickled when the task runs on a worker;
/// `label` names the task).
pub(crate) fn in_python(
    func: &Value,
    label: impl Fn() -> String,
    body: impl for<'py> FnOnce(Python<'py>, &Bound<'py, PyAny>, &Bound<'py, PyModule>) -> PyResult<Value>,
) -> TaskResult {
    let here = func.downcast_ref::<PyCallable>().is_some();
    kept_state::keep();
    Python::attach(|py| {
        let call = || -> PyResult<Value> {
            let f = function(py, func)?;
            let np = py.import("numpy")?;
            body(py, f.bind(py), &np)
        };
        call().map_err(|e| if here { python_task_error(py, &label(), e) } else { task_error(py, e) })
    })
}

/// A task's function: the object itself in this process, unpickled (once
/// per process) on a worker.
fn function(py: Python<'_>, func: &Value) -> PyResult<Py<PyAny>> {
    match (func.downcast_ref::<PyCallable>(), func.downcast_ref::<Pickled>()) {
        (Some(c), _) => Ok(c.0.clone_ref(py)),
        (None, Some(p)) => callable(py, &p.0),
        _ => Err(pyo3::exceptions::PyTypeError::new_err("a block task without its function")),
    }
}

/// The function's result as an output block of type `U` and shape `want`.
fn output<U: Typed>(np: &Bound<'_, PyModule>, y: &Bound<'_, PyAny>, want: &[usize]) -> PyResult<Value> {
    let y = np.call_method1("ascontiguousarray", (y, U::DTYPE.name()))?;
    let a = read_numpy_as::<U>(&y)?;
    if a.shape() != want {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "the function returned a block of shape {:?}, expected {want:?}",
            a.shape()
        )));
    }
    Ok(Block::Dense(a).into_value())
}

/// A copy of an input block that NumPy can view.
fn block_buffer(v: &Value) -> Result<crate::buffer::NdBuffer, TaskError> {
    fn as_buffer<T: Element + IntoBuffer>(v: &Value) -> Option<crate::buffer::NdBuffer> {
        block_of::<T>(v).ok().map(|b| T::buffer(b.view().into_owned()))
    }
    as_buffer::<f64>(v)
        .or_else(|| as_buffer::<f32>(v))
        .or_else(|| as_buffer::<i64>(v))
        .or_else(|| as_buffer::<i32>(v))
        .or_else(|| as_buffer::<u8>(v))
        .or_else(|| as_buffer::<bool>(v))
        .ok_or_else(|| TaskError::new(format!("map_blocks got a {} instead of an array block", v.type_name())))
}

/// The task function of Python `blockwise` and of `map_blocks` over
/// several arrays.
pub static PY_BLOCKWISE: NamedFn =
    NamedFn::new("blockwork.python.blockwise", blockwise_block).params::<BlockwiseParams>();

kernel_params! {
    /// Python `blockwise`'s own parameters, the same for every block.
    struct BlockwiseFn {
        /// The function: a [`PyCallable`] in this process, its pickle on a worker.
        func: Value,
        /// The element type of its results.
        out: DType,
        /// The call's name, for errors.
        name: Arc<str>,
        /// Whether the blocks along contracted axes are passed
        /// concatenated, or as nested lists.
        concatenate: bool,
    }
}

kernel_params! {
    /// A contracted axis of an operand and its number of blocks in a task.
    struct Contracted {
        axis: usize,
        count: usize,
    }
}

kernel_params! {
    /// An operand's blocks in a task: `blocks` of them, row-major over
    /// its `contracted` axes.
    struct OperandPlan {
        blocks: usize,
        contracted: Vec<Contracted>,
    }
}

kernel_params! {
    /// One output block's task, as `blockwise_named` makes it; the
    /// arguments are the operands' blocks in order.
    struct BlockwiseParams {
        /// What `blockwise` was given.
        own: BlockwiseFn,
        /// Per operand, how its blocks come.
        plan: Vec<OperandPlan>,
        /// The shape the result must have.
        want: Vec<usize>,
    }
}

/// `func` over the blocks of `operands` aligned by their index letters
/// (`blockwork_array::blockwise_named`); contracted letters pass their
/// blocks concatenated, or with `concatenate` false as nested lists.
pub fn blockwise(
    out_index: &str,
    operands: &[(Dyn, String)],
    func: Py<PyAny>,
    out: DType,
    name: &str,
    concatenate: bool,
) -> PyResult<Dyn> {
    let ops: Vec<(blockwork_array::Operand, &str)> =
        operands.iter().map(|(d, s)| (each!(d, a => a.as_operand()), s.as_str())).collect();
    let params = BlockwiseFn { func: Value::object(PyCallable(func)), out, name: name.into(), concatenate }.to_value();
    numeric_type!(out,
        U => Ok(U::wrap(blockwork_array::blockwise_named::<U>(name, out_index, &ops, &PY_BLOCKWISE, params).py()?)),
        bool => Ok(bool::wrap(blockwork_array::blockwise_named::<bool>(name, out_index, &ops, &PY_BLOCKWISE, params).py()?)))
}

/// One output block of Python `blockwise`.
fn blockwise_block(params: &Value, args: Vec<Value>) -> TaskResult {
    let BlockwiseParams { own: BlockwiseFn { func, out, name, concatenate }, plan, want } =
        BlockwiseParams::from_value(params)?;
    // The blocks' copies are made before taking the GIL.
    let copies = args.iter().map(block_buffer).collect::<Result<Vec<_>, _>>()?;
    in_python(
        &func,
        || name.to_string(),
        |py, f, np| {
            let mut blocks = copies.into_iter();
            let mut inputs = Vec::with_capacity(plan.len());
            for OperandPlan { blocks: n, contracted } in &plan {
                let mut level = Vec::with_capacity(*n);
                for b in blocks.by_ref().take(*n) {
                    level.push(np.call_method1("asarray", (Py::new(py, b)?,))?);
                }
                // Innermost contracted axis first: groups of its count join.
                for &Contracted { axis: ax, count } in contracted.iter().rev() {
                    let mut next = Vec::with_capacity(level.len() / count.max(1));
                    for group in level.chunks(count.max(1)) {
                        let list = pyo3::types::PyList::new(py, group)?;
                        next.push(if concatenate {
                            np.call_method1("concatenate", (list, ax))?
                        } else {
                            list.into_any()
                        });
                    }
                    level = next;
                }
                inputs.push(level.pop().ok_or_else(|| pyo3::exceptions::PyValueError::new_err("no blocks"))?);
            }
            let y = f.call1(PyTuple::new(py, inputs)?)?;
            numeric_type!(out, U => output::<U>(np, &y, &want), bool => output::<bool>(np, &y, &want))
        },
    )
}

/// `blockwork.array.blockwise`'s engine side: `operands` are (array,
/// index letters) pairs.
#[pyfunction]
#[pyo3(signature = (func, out_index, operands, dtype, name, concatenate = true))]
pub fn blockwise_arrays(
    func: Py<PyAny>,
    out_index: &str,
    operands: Vec<(PyRef<'_, crate::array::PyArr>, String)>,
    dtype: &str,
    name: &str,
    concatenate: bool,
) -> PyResult<crate::array::PyArr> {
    let ops: Vec<(Dyn, String)> = operands.iter().map(|(a, s)| (a.0.clone(), s.clone())).collect();
    blockwise(out_index, &ops, func, parse_dtype(dtype)?, name, concatenate).map(crate::array::PyArr)
}
