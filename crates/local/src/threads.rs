//! The threaded scheduler: N threads share one [`ExecState`] behind a
//! mutex and run tasks outside it.
//!
//! A thread holds the lock only to pop a task, gather its inputs (cheap
//! `Arc` clones) and, after running it, to record the result; a thread
//! that finishes a task takes the next one in the same critical section.
//! Sleeping threads are woken only when more tasks are ready than the
//! running thread will take, so a chain runs on one thread with no
//! wake-ups at all. Freed blocks are dropped after the lock is released.
//! The calling thread is worker 0.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use blockwork_graph::{Graph, TaskId, Value};

use crate::run::run_task;
use crate::{Callbacks, CancelToken, ComputeError, ExecState};

struct Inner<'g> {
    st: ExecState<'g>,
    failure: Option<ComputeError>,
    idle: usize,
}

struct Shared<'g> {
    inner: Mutex<Inner<'g>>,
    wake: Condvar,
    callbacks: &'g Callbacks,
    cancel: Option<&'g CancelToken>,
}

impl<'g> Shared<'g> {
    fn lock(&self) -> MutexGuard<'_, Inner<'g>> {
        // A panic inside the lock would be our bug; tasks run outside it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub(crate) fn run(
    graph: &Graph,
    outputs: &[TaskId],
    priority: Vec<u32>,
    nthreads: usize,
    callbacks: &Callbacks,
    cancel: Option<&CancelToken>,
) -> Result<Vec<Value>, ComputeError> {
    let shared = Shared {
        inner: Mutex::new(Inner { st: ExecState::new(graph, outputs, priority), failure: None, idle: 0 }),
        wake: Condvar::new(),
        callbacks,
        cancel,
    };
    std::thread::scope(|s| {
        for w in 1..nthreads.max(1) {
            let shared = &shared;
            let spawned = std::thread::Builder::new()
                .name(format!("blockwork-{w}"))
                .spawn_scoped(s, move || worker(shared, graph, w));
            if let Err(e) = spawned {
                // The threads already started see the failure and stop.
                let mut inner = shared.lock();
                inner.failure.get_or_insert(ComputeError::Resource(format!(
                    "cannot start scheduler thread {w} of {nthreads}: {e}"
                )));
                drop(inner);
                shared.wake.notify_all();
                break;
            }
        }
        worker(&shared, graph, 0);
    });
    let inner = shared.inner.into_inner().unwrap_or_else(|e| e.into_inner());
    match inner.failure {
        Some(e) => Err(e),
        None => Ok(inner.st.outputs(outputs)),
    }
}

fn worker(shared: &Shared<'_>, graph: &Graph, w: usize) {
    let mut freed: Vec<Value> = Vec::new();
    let mut guard = shared.lock();
    loop {
        if guard.failure.is_some() || guard.st.is_done() {
            break;
        }
        if shared.cancel.is_some_and(CancelToken::is_cancelled) {
            guard.failure = Some(ComputeError::Cancelled);
            shared.wake.notify_all();
            break;
        }
        let Some(t) = guard.st.pop_ready() else {
            guard.idle += 1;
            // Time out now and then to notice a cancellation.
            guard = shared.wake.wait_timeout(guard, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
            guard.idle -= 1;
            continue;
        };
        if guard.st.num_ready() > 0 && guard.idle > 0 {
            shared.wake.notify_one();
        }
        let inputs = guard.st.inputs(t);
        drop(guard);

        let callbacks = shared.callbacks;
        if !callbacks.is_empty() {
            callbacks.task_start(graph, t, w);
        }
        let res = run_task(graph, t, inputs);
        if !callbacks.is_empty() {
            callbacks.task_finish(graph, t, w, res.is_ok());
        }

        guard = shared.lock();
        match res {
            Ok(v) => {
                guard.st.finish(t, v, &mut freed);
                if guard.st.is_done() {
                    shared.wake.notify_all();
                }
            }
            Err(e) => {
                if guard.failure.is_none() {
                    guard.failure = Some(e);
                }
                shared.wake.notify_all();
            }
        }
        if freed.iter().any(|v| matches!(v, Value::Object(_) | Value::List(_) | Value::Bytes(_))) {
            drop(guard);
            freed.clear();
            guard = shared.lock();
        } else {
            freed.clear();
        }
    }
}
