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
use pyo3::types::{PyDict, PyList, PyTuple};

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

/// How a task calls Python.
enum Call {
    /// The callable, given the results of its dependencies positionally.
    Positional(Py<PyAny>),
    /// The callable, given these literal arguments (it has no dependencies).
    Fixed(Py<PyAny>, Py<PyTuple>),
    /// A Dask task-spec node, given a dict from its dependencies' keys
    /// (these, in the order of its dependencies) to their results.
    Node(Py<PyAny>, Py<PyTuple>),
}

fn python_op(label: Arc<str>, key: Key, call: Call) -> Op {
    Op::local_serial(label, move |args: Vec<Value>| {
        kept_state::keep();
        Python::attach(|py| {
            let run = || -> PyResult<Py<PyAny>> {
                let out = match &call {
                    Call::Fixed(func, fixed) => func.bind(py).call1(fixed.bind(py))?,
                    Call::Positional(func) => {
                        let items = args.iter().map(|a| to_python(py, a)).collect::<PyResult<Vec<_>>>()?;
                        func.bind(py).call1(PyTuple::new(py, items)?)?
                    }
                    Call::Node(node, keys) => {
                        let values = PyDict::new(py);
                        for (k, a) in keys.bind(py).iter().zip(&args) {
                            values.set_item(k, to_python(py, a)?)?;
                        }
                        node.bind(py).call1((values,))?
                    }
                };
                Ok(out.unbind())
            };
            run().map(|out| Value::object(PyValue(out))).map_err(|e| python_task_error(py, &key.to_string(), e))
        })
    })
}

/// Builds and runs a graph of Python callables (indices already checked).
fn run_python_graph(
    py: Python<'_>,
    keys: Vec<String>,
    funcs: Vec<Call>,
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
        let func = match &d.func {
            Some(f) if d.direct => Call::Positional(f.clone_ref(py)),
            // A call on literals only: the engine passes them itself.
            Some(f) if ds.is_empty() && d.kwargs.is_none() => Call::Fixed(f.clone_ref(py), d.args.clone_ref(py)),
            _ => Call::Positional(task_callable.call1((&node,))?.get_item(0)?.unbind()),
        };
        index.insert(key.clone(), keys.len() as u32);
        keys.push(key);
        funcs.push(func);
        deps.push(ids);
    }
    let outs = outputs.iter().map(|d| Ok(index[&key_of(d.get())?])).collect::<PyResult<Vec<u32>>>()?;
    run_python_graph(py, keys, funcs, deps, &outs, scheduler)
}

/// Computes a Dask graph of task-spec nodes (`dask._task_spec`): `graph`
/// maps each key to its node, `outputs` are the keys wanted. Each node is
/// called with a dict of its dependencies' results, as Dask's schedulers
/// call it, except the nodes whose `func` is `fused` (Dask's
/// `_execute_subgraph`): for those `runner(node, dependencies)` gives a
/// callable, called with the dependencies' results positionally, in that
/// order. Only the tasks the outputs need run.
#[pyfunction]
pub fn compute_dask_graph(
    py: Python<'_>,
    graph: Bound<'_, PyDict>,
    outputs: Vec<Bound<'_, PyAny>>,
    fused: Bound<'_, PyAny>,
    runner: Bound<'_, PyAny>,
    scheduler: Sched,
) -> PyResult<Vec<Py<PyAny>>> {
    let index = PyDict::new(py);
    let mut keys = Vec::with_capacity(graph.len());
    for (i, k) in graph.keys().iter().enumerate() {
        index.set_item(&k, i)?;
        keys.push(match k.cast::<pyo3::types::PyString>() {
            Ok(s) => s.to_str()?.to_owned(),
            Err(_) => k.repr()?.to_str()?.to_owned(),
        });
    }
    let position = |k: &Bound<'_, PyAny>, wanted_by: Option<&Bound<'_, PyAny>>| -> PyResult<u32> {
        match index.get_item(k)? {
            Some(i) => i.extract(),
            None => Err(pyo3::exceptions::PyKeyError::new_err(match wanted_by {
                Some(w) => format!("task {} depends on {}, which is not in the graph", w.repr()?, k.repr()?),
                None => format!("{} is not in the graph", k.repr()?),
            })),
        }
    };
    let mut funcs = Vec::with_capacity(keys.len());
    let mut deps = Vec::with_capacity(keys.len());
    for (k, node) in graph.iter() {
        let dep_keys = PyTuple::new(
            py,
            node.getattr(pyo3::intern!(py, "dependencies"))?.try_iter()?.collect::<PyResult<Vec<_>>>()?,
        )?;
        deps.push(dep_keys.iter().map(|d| position(&d, Some(&k))).collect::<PyResult<Vec<u32>>>()?);
        let is_fused = node.getattr_opt(pyo3::intern!(py, "func"))?.is_some_and(|f| f.is(&fused));
        funcs.push(if is_fused {
            Call::Positional(runner.call1((&node, &dep_keys))?.unbind())
        } else {
            Call::Node(node.unbind(), dep_keys.unbind())
        });
    }
    let outs = outputs.iter().map(|k| position(k, None)).collect::<PyResult<Vec<u32>>>()?;
    run_python_graph(py, keys, funcs, deps, &outs, scheduler)
}
