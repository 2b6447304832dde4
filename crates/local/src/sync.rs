//! The single-threaded scheduler: every task runs in the calling thread,
//! one at a time, in priority order. For debugging: a panic's backtrace
//! and a breakpoint in a task are where you expect them.

use blockwork_graph::{Graph, TaskId, Value};

use crate::run::run_task;
use crate::{Callbacks, CancelToken, ComputeError, ExecState};

pub(crate) fn run(
    graph: &Graph,
    outputs: &[TaskId],
    priority: Vec<u32>,
    callbacks: &Callbacks,
    cancel: Option<&CancelToken>,
) -> Result<Vec<Value>, ComputeError> {
    let mut st = ExecState::new(graph, outputs, priority);
    let mut freed = Vec::new();
    while let Some(t) = st.pop_ready() {
        if cancel.is_some_and(CancelToken::is_cancelled) {
            return Err(ComputeError::Cancelled);
        }
        let inputs = st.inputs(t);
        if !callbacks.is_empty() {
            callbacks.task_start(graph, t, 0);
        }
        let res = run_task(graph, t, inputs);
        if !callbacks.is_empty() {
            callbacks.task_finish(graph, t, 0, res.is_ok());
        }
        st.finish(t, res?, &mut freed);
        freed.clear();
    }
    debug_assert!(st.is_done());
    Ok(st.outputs(outputs))
}
