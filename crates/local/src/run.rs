//! Running one task: evaluate it on its inputs, catch panics, name the key.

use std::panic::{catch_unwind, AssertUnwindSafe};

use blockwork_graph::{panic_message, FusedPanic, Graph, TaskId, Value};

use crate::ComputeError;

/// Runs task `t` on `inputs` (its dependencies' results in `graph.deps(t)`
/// order). An error or a panic becomes a [`ComputeError`] naming the key.
pub fn run_task(graph: &Graph, t: TaskId, inputs: Vec<Value>) -> Result<Value, ComputeError> {
    let deps = graph.deps(t);
    let lookup = |d: &TaskId| match deps.binary_search(d) {
        Ok(i) => inputs[i].clone(),
        Err(_) => unreachable!("a task refers only to its dependencies"),
    };
    match catch_unwind(AssertUnwindSafe(|| graph.task(t).eval(&lookup))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ComputeError::Task {
            key: e.key.unwrap_or_else(|| graph.key(t).clone()),
            message: e.message,
            kind: e.kind,
        }),
        Err(payload) => match payload.downcast::<FusedPanic>() {
            Ok(fused) => Err(ComputeError::Panic { key: fused.key, message: panic_message(fused.payload) }),
            Err(payload) => Err(ComputeError::Panic { key: graph.key(t).clone(), message: panic_message(payload) }),
        },
    }
}
