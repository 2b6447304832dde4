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
//!
//! Tasks of serial ops ([`blockwork_graph::Op::local_serial`]: Python
//! callables, which hold the GIL) run one at a time while they are short:
//! the thread that finished one takes the next in the same critical
//! section, so a run of them stays on one thread holding the GIL instead
//! of threads handing it back and forth at every task and every NumPy
//! call (that costs more than the tasks themselves below ~100 µs). Other
//! threads run the other tasks meanwhile. Once serial tasks take longer on
//! average than [`SERIAL_PARALLEL_NS`] they run in parallel: long Python
//! tasks release the GIL for their heavy part, as NumPy does on large
//! arrays.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use blockwork_graph::{Graph, TaskId, Value};

use crate::run::run_task;
use crate::{Callbacks, CancelToken, ComputeError, ExecState};

/// The mean duration above which serial tasks run in parallel.
pub const SERIAL_PARALLEL_NS: f64 = 100_000.0;

struct Inner<'g> {
    st: ExecState<'g>,
    failure: Option<ComputeError>,
    idle: usize,
    /// Serial tasks running (at most one while they run one at a time).
    serial_running: usize,
    /// The mean duration of the serial tasks run so far (an exponential
    /// average; 0 before the first), in nanoseconds.
    serial_ns: f64,
}

impl Inner<'_> {
    /// Whether a thread may take a serial task now.
    fn serial_ok(&self) -> bool {
        self.serial_running == 0 || self.serial_ns > SERIAL_PARALLEL_NS
    }

    /// Ready tasks another thread could take now.
    fn takeable(&self) -> usize {
        let ready = self.st.num_ready();
        if self.serial_ok() {
            ready
        } else {
            ready - self.st.num_ready_serial()
        }
    }

    /// Folds a serial task's duration into the mean. A thread preempted
    /// mid-task (a busy machine) makes one short task look long: each
    /// duration counts for at most four times the threshold and weighs
    /// one eighth, so a few long tasks in a row, not one, switch serial
    /// tasks to running in parallel.
    fn finished_serial(&mut self, took: Duration) {
        let ns = took.as_nanos() as f64;
        self.serial_ns =
            if self.serial_ns == 0.0 { ns } else { 0.875 * self.serial_ns + 0.125 * ns.min(4.0 * SERIAL_PARALLEL_NS) };
        self.serial_running -= 1;
    }
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
        inner: Mutex::new(Inner {
            st: ExecState::new(graph, outputs, priority),
            failure: None,
            idle: 0,
            serial_running: 0,
            serial_ns: 0.0,
        }),
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
        let serial_ok = guard.serial_ok();
        let Some(t) = guard.st.pop_ready_serial_if(serial_ok) else {
            guard.idle += 1;
            // Time out now and then to notice a cancellation.
            guard = shared.wake.wait_timeout(guard, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
            guard.idle -= 1;
            continue;
        };
        let serial = graph.task(t).op.is_serial();
        guard.serial_running += usize::from(serial);
        if guard.takeable() > 0 && guard.idle > 0 {
            shared.wake.notify_one();
        }
        let inputs = guard.st.inputs(t);
        drop(guard);

        let callbacks = shared.callbacks;
        if !callbacks.is_empty() {
            callbacks.task_start(graph, t, w);
        }
        let started = serial.then(Instant::now);
        let res = run_task(graph, t, inputs);
        let took = started.map(|s| s.elapsed());
        if !callbacks.is_empty() {
            callbacks.task_finish(graph, t, w, res.is_ok());
        }

        guard = shared.lock();
        if let Some(took) = took {
            guard.finished_serial(took);
        }
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
