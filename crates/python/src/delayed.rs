//! The data of `blockwork.delayed` values, in Rust.
//!
//! `blockwork.delayed.Delayed` subclasses [`DelayedBase`] and adds the
//! Python behaviour (operators, attributes, `compute`). Keeping the data
//! here makes a delayed call cheap to record: the dependencies are found
//! in Rust, and the objects are not tracked by Python's cyclic garbage
//! collector, which otherwise passes over the whole growing graph again
//! and again while it is built (a third of the time of recording a
//! 100k-task chain). Delayed values cannot form cycles among themselves: a
//! value only refers to values made before it. A cycle through a mutable
//! argument (a list that is later given the delayed value made from it) is
//! never collected; it is the one price of this.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFrozenSet, PyList, PySet, PyString, PyTuple};
use rustc_hash::FxHashSet;

/// A recorded call: its key, function, arguments and the delayed values
/// among them.
#[pyclass(subclass, frozen, module = "blockwork._core", name = "DelayedBase")]
pub struct DelayedBase {
    pub(crate) key: Py<PyString>,
    pub(crate) func: Option<Py<PyAny>>,
    pub(crate) args: Py<PyTuple>,
    pub(crate) kwargs: Option<Py<PyDict>>,
    pub(crate) deps: Py<PyTuple>,
    pub(crate) direct: bool,
}

fn is_container(x: &Bound<'_, PyAny>) -> bool {
    x.is_instance_of::<PyList>()
        || x.is_instance_of::<PyTuple>()
        || x.is_instance_of::<PyDict>()
        || x.is_instance_of::<PySet>()
        || x.is_instance_of::<PyFrozenSet>()
}

/// The delayed values inside the arguments, each once, in order.
fn find_delayed<'py>(
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let mut seen: FxHashSet<String> = FxHashSet::default();
    let mut found = Vec::new();
    let mut stack: Vec<Bound<'py, PyAny>> = Vec::new();
    if let Some(k) = kwargs {
        stack.extend(k.values().iter().collect::<Vec<_>>().into_iter().rev());
    }
    stack.extend(args.iter().collect::<Vec<_>>().into_iter().rev());
    while let Some(x) = stack.pop() {
        if let Ok(d) = x.cast::<DelayedBase>() {
            if seen.insert(d.get().key.bind(x.py()).to_str()?.to_owned()) {
                found.push(x);
            }
        } else if let Ok(dict) = x.cast::<PyDict>() {
            stack.extend(dict.values().iter().collect::<Vec<_>>().into_iter().rev());
        } else if is_container(&x) {
            stack.extend(x.try_iter()?.collect::<PyResult<Vec<_>>>()?.into_iter().rev());
        }
    }
    Ok(found)
}

#[pymethods]
impl DelayedBase {
    #[new]
    #[pyo3(signature = (key, func, args, kwargs = None))]
    fn new(
        key: Bound<'_, PyString>,
        func: Option<Bound<'_, PyAny>>,
        args: Bound<'_, PyTuple>,
        kwargs: Option<Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let py = key.py();
        let kwargs = kwargs.filter(|k| !k.is_empty());
        let mut deps = Vec::new();
        let mut nested = kwargs.is_some();
        for a in args.iter() {
            if a.is_instance_of::<DelayedBase>() {
                deps.push(a);
            } else if is_container(&a) {
                nested = true;
                break;
            }
        }
        let unique = |deps: &[Bound<'_, PyAny>]| -> PyResult<bool> {
            if deps.len() < 2 {
                return Ok(true);
            }
            let mut seen = FxHashSet::default();
            for d in deps {
                if !seen.insert(d.cast::<DelayedBase>()?.get().key.bind(py).to_str()?.to_owned()) {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        // `direct`: the arguments are exactly the results of distinct tasks,
        // in order (the engine passes them straight to the function).
        let (deps, direct) = if nested || !unique(&deps)? {
            (find_delayed(&args, kwargs.as_ref())?, false)
        } else {
            let direct = deps.len() == args.len();
            (deps, direct)
        };
        Ok(DelayedBase {
            key: key.unbind(),
            func: func.filter(|f| !f.is_none()).map(Bound::unbind),
            args: args.unbind(),
            kwargs: kwargs.map(Bound::unbind),
            deps: PyTuple::new(py, deps)?.unbind(),
            direct,
        })
    }

    /// Takes the new value out of the cyclic garbage collector's care (see
    /// the module's doc). Python subclasses are always collector-tracked
    /// types, so this is done per object, once it exists.
    #[pyo3(signature = (*_args, **_kwargs))]
    fn __init__(slf: &Bound<'_, Self>, _args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>) {
        // SAFETY: `slf` is a live object of a collector-tracked type;
        // untracking only stops the collector from visiting it.
        #[allow(unsafe_code)]
        unsafe {
            pyo3::ffi::PyObject_GC_UnTrack(slf.as_ptr().cast())
        }
    }

    /// The task's key.
    #[getter]
    fn _key(&self, py: Python<'_>) -> Py<PyString> {
        self.key.clone_ref(py)
    }

    /// The function (None for a literal value).
    #[getter]
    fn _func(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        self.func.as_ref().map(|f| f.clone_ref(py))
    }

    /// The positional arguments (for a literal, the value alone).
    #[getter]
    fn _args(&self, py: Python<'_>) -> Py<PyTuple> {
        self.args.clone_ref(py)
    }

    /// The keyword arguments.
    #[getter]
    fn _kwargs<'py>(&self, py: Python<'py>) -> Bound<'py, PyDict> {
        match &self.kwargs {
            Some(k) => k.bind(py).clone(),
            None => PyDict::new(py),
        }
    }

    /// The delayed values among the arguments, each once, in order.
    #[getter]
    fn _deps(&self, py: Python<'_>) -> Py<PyTuple> {
        self.deps.clone_ref(py)
    }

    /// Whether the arguments are exactly the results of distinct tasks.
    #[getter]
    fn _direct(&self) -> bool {
        self.direct
    }
}
