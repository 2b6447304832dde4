//! Python callables as graph tasks: what `blockwork.delayed` and
//! `blockwork.get` (Dask graphs) run on the engine's schedulers.
//!
//! A task is a Python callable and the indices of the tasks whose results
//! it takes, positionally. The engine orders and schedules the graph
//! without the GIL; a task takes the GIL only while its callable runs.
//! Results stay Python objects ([`PyValue`]) between tasks. An exception
//! raised by a task is kept and re-raised to the caller as it was (its type
//! and traceback), with a note naming the task.

use blockwork_graph::{r, Data, Graph, Key, Op, Task, Value};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::errors::python_task_error;
use crate::run::{run, Sched};

/// A Python object held as a task's result.
pub struct PyValue(pub Py<PyAny>);

impl std::fmt::Debug for PyValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PyValue(..)")
    }
}

impl Data for PyValue {
    fn nbytes(&self) -> usize {
        // The engine cannot see into the object without the GIL; Python
        // objects are counted by their handle.
        std::mem::size_of::<Self>()
    }

    fn type_name(&self) -> &'static str {
        "Python object"
    }
}

/// A task value as a Python object.
pub fn to_python(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Value::Unit => py.None(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::Int(i) => i.into_pyobject(py)?.into_any().unbind(),
        Value::Float(x) => x.into_pyobject(py)?.into_any().unbind(),
        Value::Str(s) => s.as_ref().into_pyobject(py)?.into_any().unbind(),
        Value::Bytes(b) => pyo3::types::PyBytes::new(py, b).into_any().unbind(),
        Value::List(xs) => {
            let items = xs.iter().map(|x| to_python(py, x)).collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any().unbind()
        }
        Value::Object(_) => match v.downcast_ref::<PyValue>() {
            Some(p) => p.0.clone_ref(py),
            None => {
                return Err(PyTypeError::new_err(format!(
                    "a task result of type {} cannot be passed to Python",
                    v.type_name()
                )))
            }
        },
    })
}

/// Keeps the calling thread's Python thread state between its tasks.
///
/// Attaching a thread Python has never seen creates a thread state, and
/// detaching it again destroys it: microseconds per task. Each engine
/// thread instead makes its state once, at its first Python task, and
/// frees it when the thread ends (the engine's threads live for one run).
pub(crate) mod kept_state {
    use std::cell::RefCell;

    use pyo3::ffi;

    struct Kept {
        tstate: *mut ffi::PyThreadState,
        gstate: ffi::PyGILState_STATE,
    }

    impl Drop for Kept {
        #[allow(unsafe_code)]
        fn drop(&mut self) {
            // SAFETY: `tstate` is this thread's state, saved by
            // `PyEval_SaveThread` in `keep` on this same thread; restoring
            // it takes the GIL, and releasing the `PyGILState_Ensure` made
            // in `keep` frees the state and the GIL.
            unsafe {
                ffi::PyEval_RestoreThread(self.tstate);
                ffi::PyGILState_Release(self.gstate);
            }
        }
    }

    thread_local! {
        static KEPT: RefCell<Option<Kept>> = const { RefCell::new(None) };
    }

    /// Makes this thread's Python state if it has none, and keeps it.
    /// Must be called while the thread is not attached to Python.
    pub fn keep() {
        KEPT.with(|k| {
            if k.borrow().is_some() {
                return;
            }
            #[allow(unsafe_code)]
            // SAFETY: the thread is not attached (the caller's contract), so
            // `PyGILState_Ensure` makes or finds its state and takes the GIL;
            // `PyEval_SaveThread` then releases the GIL at once, keeping the
            // state for later attaches on this thread.
            let kept = unsafe {
                let gstate = ffi::PyGILState_Ensure();
                let tstate = ffi::PyEval_SaveThread();
                Kept { tstate, gstate }
            };
            *k.borrow_mut() = Some(kept);
        });
    }
}

fn python_op(label: String, key: String, func: Py<PyAny>) -> Op {
    Op::local(label, move |args: Vec<Value>| {
        kept_state::keep();
        Python::attach(|py| {
            let call = || -> PyResult<Py<PyAny>> {
                let items = args.iter().map(|a| to_python(py, a)).collect::<PyResult<Vec<_>>>()?;
                let out = func.bind(py).call1(PyTuple::new(py, items)?)?;
                Ok(out.unbind())
            };
            call().map(|out| Value::object(PyValue(out))).map_err(|e| python_task_error(py, &key, e))
        })
    })
}

/// Runs a graph of Python callables: task `i` is `funcs[i]` called with the
/// results of the tasks `deps[i]`, keyed `keys[i]` (its label the key's
/// prefix); returns the results of the tasks `outputs`.
#[pyfunction]
pub fn compute_tasks(
    py: Python<'_>,
    keys: Vec<String>,
    funcs: Vec<Py<PyAny>>,
    deps: Vec<Vec<u32>>,
    outputs: Vec<u32>,
    scheduler: Sched,
) -> PyResult<Vec<Py<PyAny>>> {
    if keys.len() != funcs.len() || keys.len() != deps.len() {
        return Err(PyValueError::new_err(format!(
            "{} keys, {} functions and {} dependency lists: one of each per task",
            keys.len(),
            funcs.len(),
            deps.len()
        )));
    }
    let engine_keys: Vec<Key> = keys.iter().map(|k| Key::new(k.as_str())).collect();
    let key_of = |i: u32| -> PyResult<Key> {
        engine_keys.get(i as usize).cloned().ok_or_else(|| {
            PyValueError::new_err(format!("task index {i} is out of range: the graph has {} tasks", keys.len()))
        })
    };
    let mut tasks = Vec::with_capacity(funcs.len());
    for (i, (func, ds)) in funcs.into_iter().zip(deps).enumerate() {
        let args = ds.iter().map(|&d| key_of(d).map(r)).collect::<PyResult<Vec<_>>>()?;
        let label = blockwork_graph::key_prefix(&keys[i]).to_string();
        let op = python_op(label, keys[i].clone(), func);
        tasks.push((engine_keys[i].clone(), Task::new(op, args)));
    }
    let out_keys = outputs.iter().map(|&o| key_of(o)).collect::<PyResult<Vec<_>>>()?;
    let graph = Graph::from_tasks(tasks).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let result = run(py, scheduler, move |config| {
        // Python calls gain nothing from fusion (each still takes the GIL),
        // and a fused chain would hold its intermediate results.
        let config = blockwork_local::Config { optimize: false, ..config.clone() };
        blockwork_local::compute(graph, &out_keys, &config).map_err(blockwork_array::ArrayError::from)
    });
    result?.iter().map(|v| to_python(py, v)).collect()
}
