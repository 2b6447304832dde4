//! Python callables as graph tasks: what `blockwork.delayed` and
//! `blockwork.get` (Dask graphs) run on the engine's schedulers.
//!
//! A task is a Python callable and the indices of the tasks whose results
//! it takes, positionally. The engine orders and schedules the graph
//! without the GIL; a task takes the GIL only while its callable runs.
//! Results stay Python objects ([`PyValue`]) between tasks. An exception
//! raised by a task is kept and re-raised to the caller as it was (its type
//! and traceback), with a note naming the task.

use std::sync::Arc;

use blockwork_graph::{r, Data, Graph, Key, Op, Task, Value};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::delayed::DelayedBase;
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

/// A task's Python callable, and the literal arguments it is called with
/// when it takes no task results.
type Callable = (Py<PyAny>, Option<Py<PyTuple>>);

fn python_op(label: Arc<str>, key: Key, (func, fixed): Callable) -> Op {
    Op::local(label, move |args: Vec<Value>| {
        kept_state::keep();
        Python::attach(|py| {
            let call = || -> PyResult<Py<PyAny>> {
                if let Some(fixed) = &fixed {
                    return Ok(func.bind(py).call1(fixed.bind(py))?.unbind());
                }
                let items = args.iter().map(|a| to_python(py, a)).collect::<PyResult<Vec<_>>>()?;
                let out = func.bind(py).call1(PyTuple::new(py, items)?)?;
                Ok(out.unbind())
            };
            call().map(|out| Value::object(PyValue(out))).map_err(|e| python_task_error(py, &key.to_string(), e))
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
    let n = keys.len();
    for &i in deps.iter().flatten().chain(&outputs) {
        if i as usize >= n {
            return Err(PyValueError::new_err(format!("task index {i} is out of range: the graph has {n} tasks")));
        }
    }
    let funcs = funcs.into_iter().map(|f| (f, None)).collect();
    run_python_graph(py, keys, funcs, deps, &outputs, scheduler)
}

/// Builds and runs a graph of Python callables (indices already checked).
fn run_python_graph(
    py: Python<'_>,
    keys: Vec<String>,
    funcs: Vec<Callable>,
    deps: Vec<Vec<u32>>,
    outputs: &[u32],
    scheduler: Sched,
) -> PyResult<Vec<Py<PyAny>>> {
    let engine_keys: Vec<Key> = keys.iter().map(|k| Key::new(k.as_str())).collect();
    // One label per function name, shared by its tasks.
    let mut labels: rustc_hash::FxHashMap<&str, Arc<str>> = rustc_hash::FxHashMap::default();
    let mut tasks = Vec::with_capacity(funcs.len());
    for (i, (func, ds)) in funcs.into_iter().zip(deps).enumerate() {
        let args = ds.iter().map(|&d| r(engine_keys[d as usize].clone())).collect();
        let prefix = blockwork_graph::key_prefix(&keys[i]);
        let label = labels.entry(prefix).or_insert_with(|| Arc::from(prefix)).clone();
        let op = python_op(label, engine_keys[i].clone(), func);
        tasks.push((engine_keys[i].clone(), Task::new(op, args)));
    }
    let out_keys: Vec<Key> = outputs.iter().map(|&o| engine_keys[o as usize].clone()).collect();
    drop(labels);
    let graph = Graph::from_tasks(tasks).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let result = run(py, scheduler, move |config| {
        // Python calls gain nothing from fusion (each still takes the GIL),
        // and a fused chain would hold its intermediate results.
        let config = blockwork_local::Config { optimize: false, ..config.clone() };
        blockwork_local::compute(graph, &out_keys, &config).map_err(blockwork_array::ArrayError::from)
    });
    result?.iter().map(|v| to_python(py, v)).collect()
}

/// Computes `blockwork.delayed` values: walks their graph, each task after
/// its dependencies, and runs it. `task_callable(d)` gives the callable of
/// a value whose arguments are not simply the results of distinct tasks.
#[pyfunction]
pub fn compute_delayed(
    py: Python<'_>,
    outputs: Vec<Bound<'_, DelayedBase>>,
    task_callable: Bound<'_, PyAny>,
    scheduler: Sched,
) -> PyResult<Vec<Py<PyAny>>> {
    let key_of = |d: &DelayedBase| -> PyResult<String> { Ok(d.key.bind(py).to_str()?.to_owned()) };
    let mut index: rustc_hash::FxHashMap<String, u32> = rustc_hash::FxHashMap::default();
    let mut expanded: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
    let (mut keys, mut funcs, mut deps) = (Vec::new(), Vec::new(), Vec::new());
    let mut stack: Vec<Bound<'_, DelayedBase>> = outputs.iter().rev().cloned().collect();
    while let Some(node) = stack.last().cloned() {
        let d = node.get();
        let key = key_of(d)?;
        if index.contains_key(&key) {
            stack.pop();
            continue;
        }
        let ds = d.deps.bind(py);
        let mut ids = Vec::with_capacity(ds.len());
        let mut missing = false;
        for x in ds.iter() {
            let x = x.cast_into::<DelayedBase>()?;
            let xk = key_of(x.get())?;
            match index.get(&xk) {
                Some(&i) => ids.push(i),
                None if expanded.contains(&xk) => {
                    return Err(PyValueError::new_err(format!("the graph has a cycle through task {xk:?}")))
                }
                None => {
                    missing = true;
                    stack.push(x);
                }
            }
        }
        if missing {
            expanded.insert(key);
            continue;
        }
        stack.pop();
        let func: Callable = match &d.func {
            Some(f) if d.direct => (f.clone_ref(py), None),
            // A call on literals only: the engine passes them itself.
            Some(f) if ds.is_empty() && d.kwargs.is_none() => (f.clone_ref(py), Some(d.args.clone_ref(py))),
            _ => (task_callable.call1((&node,))?.get_item(0)?.unbind(), None),
        };
        index.insert(key.clone(), keys.len() as u32);
        keys.push(key);
        funcs.push(func);
        deps.push(ids);
    }
    let outs = outputs.iter().map(|d| Ok(index[&key_of(d.get())?])).collect::<PyResult<Vec<u32>>>()?;
    run_python_graph(py, keys, funcs, deps, &outs, scheduler)
}
