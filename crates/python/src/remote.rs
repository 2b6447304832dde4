//! Python on blockwork's distributed scheduler: pickled values and
//! callables, and the task function Python workers run.
//!
//! A Python callable crosses processes pickled (cloudpickle, so lambdas
//! and closures go too): its task is the named function
//! `blockwork.python.call`, whose parameter is the pickled callable and
//! whose arguments are other tasks' results. Python results travel as
//! [`Pickled`] bytes, so neither the scheduler, nor a worker's event loop,
//! nor the client's connection ever needs the GIL: only the thread running
//! a Python task takes it, to unpickle its inputs, call, and pickle its
//! result.
//!
//! Only workers started from the Python package (`python -m blockwork
//! worker`, or `blockwork.distributed.LocalCluster`) register the function;
//! any other worker refuses such a task with an error that says so.

use std::sync::{Arc, Mutex};

use blockwork_graph::{register_codec, Buffer, CodecError};
use blockwork_graph::{Data, NamedFn, TaskError, TaskResult, Value};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use rustc_hash::FxHashMap;

use crate::pytask::{kept_state, to_python};

/// A pickled Python object: what Python tasks on a cluster return.
#[derive(Debug)]
pub struct Pickled(pub Buffer);

impl Data for Pickled {
    fn nbytes(&self) -> usize {
        self.0.len()
    }

    fn type_name(&self) -> &'static str {
        PICKLED
    }
}

const PICKLED: &str = "blockwork.python.pickle";

fn encode(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
    let p = (d as &dyn std::any::Any).downcast_ref::<Pickled>()?;
    Some((Vec::new(), vec![Arc::clone(&p.0)]))
}

pub(crate) fn decode(_meta: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
    match <[Buffer; 1]>::try_from(buffers) {
        Ok([b]) => Ok(Value::object(Pickled(b))),
        Err(b) => Err(CodecError::new(format!("a pickled Python object (or callable) is one buffer, not {}", b.len()))),
    }
}

/// The task function of Python callables on a cluster; its parameter is
/// the pickled callable.
pub static PY_CALL: NamedFn = NamedFn::new("blockwork.python.call", py_call).takes("Arc<[u8]>");

/// Registers the pickled-object codec (every process of a Python cluster)
/// and, in a worker, the task function.
pub fn register(worker: bool) {
    use crate::mapblocks::{encode_callable, CALLABLE, PY_BLOCKWISE, PY_MAP_BLOCK};
    register_codec(PICKLED, encode, decode);
    register_codec(CALLABLE, encode_callable, decode);
    crate::rect::register(worker);
    if worker {
        blockwork_graph::register(&PY_CALL);
        blockwork_graph::register(&PY_MAP_BLOCK);
        blockwork_graph::register(&PY_BLOCKWISE);
        blockwork_graph::register(&crate::partitions::PY_MAP_PARTITION);
    }
}

/// Marks the pickled exception at the end of a failed task's message.
const EXCEPTION: &str = "\n[pickled exception] ";

fn py_call(params: &Value, args: Vec<Value>) -> TaskResult {
    let Value::Bytes(func) = params else {
        return Err(TaskError::internal("blockwork.python.call takes the pickled callable as its parameter"));
    };
    kept_state::keep();
    Python::attach(|py| call(py, func, &args).map_err(|e| task_error(py, e)))
}

fn call(py: Python<'_>, func: &Arc<[u8]>, args: &[Value]) -> PyResult<Value> {
    let f = callable(py, func)?;
    let items = args.iter().map(|a| from_value(py, a)).collect::<PyResult<Vec<_>>>()?;
    let out = f.bind(py).call1(PyTuple::new(py, items)?)?;
    Ok(Value::object(Pickled(dumps(py, &out)?)))
}

/// A task argument as a Python object: pickled values unpickled, the
/// engine's own values converted.
pub fn from_value(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    match v.downcast_ref::<Pickled>() {
        Some(p) => loads(py, &p.0),
        None => to_python(py, v),
    }
}

/// The object pickled with cloudpickle.
pub fn dumps(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Buffer> {
    let bytes = py.import("cloudpickle")?.call_method1("dumps", (obj,))?;
    Ok(Arc::from(bytes.cast::<PyBytes>()?.as_bytes()))
}

/// The object back from its pickle.
pub fn loads(py: Python<'_>, bytes: &[u8]) -> PyResult<Py<PyAny>> {
    Ok(py.import("pickle")?.call_method1("loads", (PyBytes::new(py, bytes),))?.unbind())
}

/// Unpickled callables by their pickle: a `map` of ten thousand calls of
/// one function unpickles it once per worker.
pub(crate) fn callable(py: Python<'_>, pickled: &Arc<[u8]>) -> PyResult<Py<PyAny>> {
    type Cache = FxHashMap<Arc<[u8]>, Py<PyAny>>;
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    if let Some(f) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_default().get(pickled) {
        return Ok(f.clone_ref(py));
    }
    let f = loads(py, pickled)?;
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_default();
    if cache.len() >= 256 {
        cache.clear();
    }
    cache.insert(Arc::clone(pickled), f.clone_ref(py));
    Ok(f)
}

/// A Python exception as a task error: its type and message, the worker's
/// traceback, and the exception itself pickled (hex) so that the client
/// raises it again as it was.
pub(crate) fn task_error(py: Python<'_>, e: PyErr) -> TaskError {
    let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_default();
    let traceback = py
        .import("traceback")
        .and_then(|tb| tb.call_method1("format_exception", (e.value(py),)))
        .and_then(|lines| lines.extract::<Vec<String>>())
        .map(|lines| lines.concat())
        .unwrap_or_default();
    let pickled = dumps(py, e.value(py).as_any()).map(|b| hex(&b)).unwrap_or_default();
    TaskError::new(format!("{kind}: {}\n{traceback}{EXCEPTION}{pickled}", e.value(py)))
}

/// The exception a failed Python task raised on a worker, from its task
/// error's message, with notes naming the task and giving the worker's
/// traceback; `None` if the message carries none.
pub fn raised_remotely(py: Python<'_>, key: &str, message: &str) -> Option<PyErr> {
    let (text, pickled) = message.rsplit_once(EXCEPTION)?;
    let exc = loads(py, &unhex(pickled)?).ok()?;
    let exc = exc.bind(py);
    if exc.hasattr("add_note").unwrap_or(false) {
        let traceback = text.split_once('\n').map_or("", |(_, t)| t);
        let _ = exc.call_method1("add_note", (format!("raised by blockwork task '{key}' on a worker:\n{traceback}"),));
    }
    Some(PyErr::from_value(exc.clone()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}
