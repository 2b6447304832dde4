//! The sans-IO core of the local schedulers.
//!
//! [`ExecState`] knows which tasks may run, holds finished results and
//! frees each one when its last reader has run. It never runs a task and
//! never touches a thread: the sync scheduler drives it in a loop, the
//! threaded one behind a mutex. Tests drive it directly.
//!
//! Per task it keeps:
//! - `missing`: dependencies not finished yet; at 0 the task is *ready*
//!   and enters the ready queue, keyed by its static priority;
//! - `readers`: dependents not finished yet, plus one if it is an output;
//!   at 0 its result is dropped;
//! - `result`: `Some` from its finish until its last reader finished.
//!
//! Ready tasks of serial ops ([`blockwork_graph::Op::local_serial`]) wait
//! in a queue of their own, so a thread may pass them by.
//!
//! Invariants (checked by [`ExecState::sanity_check`]):
//! a task is in the ready queue iff `missing == 0` and it was neither
//! popped nor finished; a result is held iff the task finished and
//! `readers > 0`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use blockwork_graph::{Graph, TaskId, Value};

/// What a task is doing, from the scheduler's point of view.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Waiting,
    Ready,
    Running,
    Done,
}

/// Scheduling state of one run.
pub struct ExecState<'g> {
    graph: &'g Graph,
    priority: Vec<u32>,
    phase: Vec<Phase>,
    missing: Vec<u32>,
    readers: Vec<u32>,
    results: Vec<Option<Value>>,
    /// Ready tasks as `priority << 32 | id`, smallest first.
    ready: BinaryHeap<Reverse<u64>>,
    /// Ready tasks of serial ops, the same way.
    ready_serial: BinaryHeap<Reverse<u64>>,
    running: usize,
    done: usize,
}

impl<'g> ExecState<'g> {
    /// State for running `graph` to produce `outputs`, preferring tasks by
    /// `priority` (lower first, e.g. from [`blockwork_graph::order`]).
    pub fn new(graph: &'g Graph, outputs: &[TaskId], priority: Vec<u32>) -> Self {
        let n = graph.len();
        assert_eq!(priority.len(), n, "one priority per task");
        let mut readers: Vec<u32> = graph.ids().map(|t| graph.dependents(t).len() as u32).collect();
        for o in outputs {
            readers[o.idx()] += 1;
        }
        let missing: Vec<u32> = graph.ids().map(|t| graph.deps(t).len() as u32).collect();
        let mut st = ExecState {
            graph,
            priority,
            phase: vec![Phase::Waiting; n],
            missing,
            readers,
            results: vec![None; n],
            ready: BinaryHeap::new(),
            ready_serial: BinaryHeap::new(),
            running: 0,
            done: 0,
        };
        for t in graph.ids() {
            if st.missing[t.idx()] == 0 {
                st.make_ready(t);
            }
        }
        st
    }

    fn make_ready(&mut self, t: TaskId) {
        self.phase[t.idx()] = Phase::Ready;
        let entry = Reverse(pack(self.priority[t.idx()], t));
        if self.graph.task(t).op.is_serial() {
            self.ready_serial.push(entry);
        } else {
            self.ready.push(entry);
        }
    }

    /// The graph being run.
    pub fn graph(&self) -> &'g Graph {
        self.graph
    }

    /// Takes the most preferred ready task and marks it running.
    pub fn pop_ready(&mut self) -> Option<TaskId> {
        self.pop_ready_serial_if(true)
    }

    /// Takes the most preferred ready task, passing serial ones by unless
    /// `serial`, and marks it running.
    pub fn pop_ready_serial_if(&mut self, serial: bool) -> Option<TaskId> {
        let best = |h: &BinaryHeap<Reverse<u64>>| h.peek().map(|r| r.0);
        let from_serial = match (best(&self.ready), best(&self.ready_serial)) {
            (_, None) => false,
            (None, Some(_)) => serial,
            (Some(a), Some(b)) => serial && b < a,
        };
        let Reverse(packed) = if from_serial { self.ready_serial.pop()? } else { self.ready.pop()? };
        let t = TaskId(packed as u32);
        self.phase[t.idx()] = Phase::Running;
        self.running += 1;
        Some(t)
    }

    /// Number of ready tasks waiting for a thread.
    pub fn num_ready(&self) -> usize {
        self.ready.len() + self.ready_serial.len()
    }

    /// Number of ready tasks of serial ops among them.
    pub fn num_ready_serial(&self) -> usize {
        self.ready_serial.len()
    }

    /// Number of tasks running.
    pub fn num_running(&self) -> usize {
        self.running
    }

    /// Whether every task finished.
    pub fn is_done(&self) -> bool {
        self.done == self.graph.len()
    }

    /// Number of finished tasks.
    pub fn num_done(&self) -> usize {
        self.done
    }

    /// The inputs of a running task, in the order of `graph.deps(t)`.
    pub fn inputs(&self, t: TaskId) -> Vec<Value> {
        self.graph
            .deps(t)
            .iter()
            .map(|d| self.results[d.idx()].clone().expect("a ready task's inputs are in memory"))
            .collect()
    }

    /// Records a running task's result: frees inputs it was the last reader
    /// of (pushed onto `freed`, for the caller to drop outside any lock)
    /// and queues dependents that became ready.
    pub fn finish(&mut self, t: TaskId, value: Value, freed: &mut Vec<Value>) {
        debug_assert_eq!(self.phase[t.idx()], Phase::Running);
        self.phase[t.idx()] = Phase::Done;
        self.running -= 1;
        self.done += 1;
        let g = self.graph;
        for &d in g.deps(t) {
            let r = &mut self.readers[d.idx()];
            *r -= 1;
            if *r == 0 {
                if let Some(v) = self.results[d.idx()].take() {
                    freed.push(v);
                }
            }
        }
        if self.readers[t.idx()] > 0 {
            self.results[t.idx()] = Some(value);
        } else {
            freed.push(value);
        }
        for &dep in g.dependents(t) {
            let m = &mut self.missing[dep.idx()];
            *m -= 1;
            if *m == 0 {
                self.make_ready(dep);
            }
        }
    }

    /// The results of `outputs` once done (each may be asked for several times).
    pub fn outputs(&self, outputs: &[TaskId]) -> Vec<Value> {
        outputs.iter().map(|o| self.results[o.idx()].clone().expect("outputs are held until the end")).collect()
    }

    /// Number of results held in memory.
    pub fn num_held(&self) -> usize {
        self.results.iter().filter(|r| r.is_some()).count()
    }

    /// Checks the invariants in the module doc; panics on a bug.
    pub fn sanity_check(&self) {
        let g = self.graph;
        let mut queued = vec![false; g.len()];
        for (heap, serial) in [(&self.ready, false), (&self.ready_serial, true)] {
            for Reverse(p) in heap.iter() {
                let t = TaskId(*p as u32);
                queued[t.idx()] = true;
                assert_eq!(g.task(t).op.is_serial(), serial, "ready queue of {}", g.key(t));
            }
        }
        let mut running = 0;
        let mut done = 0;
        for t in g.ids() {
            let i = t.idx();
            let finished_deps = g.deps(t).iter().filter(|d| self.phase[d.idx()] == Phase::Done).count();
            assert_eq!(self.missing[i] as usize, g.deps(t).len() - finished_deps, "missing count of {}", g.key(t));
            assert_eq!(queued[i], self.phase[i] == Phase::Ready, "ready queue vs phase of {}", g.key(t));
            assert_eq!(
                self.phase[i] == Phase::Waiting,
                self.missing[i] > 0,
                "waiting iff missing inputs: {}",
                g.key(t)
            );
            let held = self.phase[i] == Phase::Done && self.readers[i] > 0;
            assert_eq!(self.results[i].is_some(), held, "result held of {}", g.key(t));
            running += (self.phase[i] == Phase::Running) as usize;
            done += (self.phase[i] == Phase::Done) as usize;
        }
        assert_eq!(running, self.running);
        assert_eq!(done, self.done);
    }
}

#[inline]
fn pack(priority: u32, t: TaskId) -> u64 {
    (u64::from(priority) << 32) | u64::from(t.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockwork_graph::{lit, order, r, Key, Op, Task};

    fn add() -> Op {
        Op::local("add", |a| Ok(Value::Int(a.iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).sum())))
    }

    /// ```text
    ///      total
    ///     /     \
    ///    s1      s2
    ///   /  \    /  \
    ///  a    b  c    d
    /// ```
    /// Driven by hand: at most three results are ever held, every
    /// intermediate is freed by its last reader, only `total` is left.
    #[test]
    fn frees_results_after_last_reader() {
        let leaf = |i: i64| Task::new(add(), vec![lit(i)]);
        let g = blockwork_graph::Graph::from_tasks([
            (Key::new("a"), leaf(1)),
            (Key::new("b"), leaf(2)),
            (Key::new("c"), leaf(3)),
            (Key::new("d"), leaf(4)),
            (Key::new("s1"), Task::new(add(), vec![r(Key::new("a")), r(Key::new("b"))])),
            (Key::new("s2"), Task::new(add(), vec![r(Key::new("c")), r(Key::new("d"))])),
            (Key::new("total"), Task::new(add(), vec![r(Key::new("s1")), r(Key::new("s2"))])),
        ])
        .unwrap();
        let out = g.id(&Key::new("total")).unwrap();
        let mut st = ExecState::new(&g, &[out], order(&g));
        st.sanity_check();
        let mut freed = Vec::new();
        let mut max_held = 0;
        while let Some(t) = st.pop_ready() {
            st.sanity_check();
            let inputs = st.inputs(t);
            let deps = g.deps(t);
            let v = g.task(t).eval(&|d| inputs[deps.binary_search(d).unwrap()].clone()).unwrap();
            st.finish(t, v, &mut freed);
            st.sanity_check();
            max_held = max_held.max(st.num_held());
        }
        assert!(st.is_done());
        assert_eq!(st.outputs(&[out]), vec![Value::Int(10)]);
        assert_eq!(st.num_held(), 1);
        assert_eq!(max_held, 3);
        assert_eq!(freed.len(), 6);
    }

    #[test]
    fn serial_tasks_can_be_passed_by() {
        let serial = Op::local_serial("serial", |_| Ok(Value::Int(1)));
        let g = blockwork_graph::Graph::from_tasks([
            (Key::new("a"), Task::new(serial.clone(), vec![])),
            (Key::new("b"), Task::new(add(), vec![lit(1)])),
            (Key::new("c"), Task::new(serial, vec![])),
        ])
        .unwrap();
        let ids: Vec<_> = ["a", "b", "c"].iter().map(|k| g.id(&Key::new(*k)).unwrap()).collect();
        let mut st = ExecState::new(&g, &ids, vec![0, 1, 2]);
        assert_eq!((st.num_ready(), st.num_ready_serial()), (3, 2));
        assert_eq!(st.pop_ready_serial_if(false), Some(ids[1]));
        assert_eq!(st.pop_ready_serial_if(false), None);
        assert_eq!(st.pop_ready_serial_if(true), Some(ids[0]));
        st.sanity_check();
        assert_eq!(st.pop_ready(), Some(ids[2]));
        assert_eq!(st.num_ready(), 0);
    }
}
