//! The task state transitions.
//!
//! Events change what is *needed* (a client wants a key, a dependent
//! starts or stops waiting) and push the tasks concerned onto
//! `Core::dirty`. [`Core::process`] then settles each one: a needed
//! released task starts waiting (and makes its dependencies needed in
//! turn), an unneeded one is released (and may release its
//! dependencies), an unreferenced one is forgotten. Waiting tasks whose
//! inputs are all in memory collect in `Core::ready` and are placed in
//! priority order once nothing is dirty. Work lists instead of recursion:
//! a million-task chain is settled without deep stacks.

use std::sync::Arc;

use smallvec::{smallvec, SmallVec};

use crate::comm::{Comm, ToClient, ToWorker};
use crate::core::Core;
use crate::ids::{TaskId, WorkerId};
use crate::resources;
use crate::task::{TaskFailure, TaskState, TaskStateKind};

type Stack = SmallVec<[TaskId; 8]>;

impl Core {
    /// Settles dirty tasks, places ready ones, retries no-worker tasks and
    /// hands queued roots to workers with room. Every event ends here.
    pub(crate) fn process(&mut self, comm: &mut dyn Comm) {
        loop {
            while let Some(t) = self.dirty.pop() {
                self.settle(t, comm);
            }
            if !self.ready.is_empty() {
                let mut ready = std::mem::take(&mut self.ready);
                ready.sort_unstable_by_key(|&t| (self.tasks[t.idx()].as_ref().map(|x| x.priority), t));
                ready.dedup();
                for &t in &ready {
                    let is_ready = self.tasks[t.idx()]
                        .as_ref()
                        .is_some_and(|x| matches!(x.state, TaskState::Waiting { missing: 0 }));
                    if is_ready {
                        self.place(t, comm);
                    }
                }
                continue;
            }
            if self.retry_no_worker {
                self.retry_no_worker = false;
                self.retry_unrunnable(comm);
                continue;
            }
            break;
        }
        self.fill_queue(comm);
        debug_assert!(self.dirty.is_empty() && self.ready.is_empty());
    }

    /// Brings one task in line with whether it is needed, and forgets it if
    /// nothing refers to it.
    fn settle(&mut self, t: TaskId, comm: &mut dyn Comm) {
        let Some(task) = self.tasks[t.idx()].as_ref() else { return };
        let needed = task.needed();
        match &task.state {
            TaskState::Released if needed => self.start_waiting(t, comm),
            TaskState::Memory { .. } if !needed => self.release_memory(t, comm),
            s if s.is_active() && !needed => {
                self.leave_active(t, true, comm);
                self.set_state(t, TaskState::Released);
            }
            _ => {}
        }
        self.maybe_forget(t);
    }

    /// released → waiting (or erred, if a dependency is erred): the task
    /// becomes a waiter of each dependency, making released ones needed.
    fn start_waiting(&mut self, t: TaskId, comm: &mut dyn Comm) {
        if self.is_scattered(t) {
            self.scattered_lost(t, comm);
            return;
        }
        let deps = self.t(t).deps.clone();
        let erred = deps.iter().find_map(|&d| match &self.t(d).state {
            TaskState::Erred(f) => Some(f.clone()),
            _ => None,
        });
        if let Some(f) = erred {
            self.fail(t, f, comm);
            return;
        }
        let mut missing = 0;
        for &d in &deps {
            let dt = self.tm(d);
            dt.waiters += 1;
            match dt.state {
                TaskState::Memory { .. } => {}
                TaskState::Released => {
                    missing += 1;
                    if dt.waiters == 1 {
                        self.dirty.push(d);
                    }
                }
                _ => missing += 1,
            }
        }
        self.set_state(t, TaskState::Waiting { missing });
        if missing == 0 {
            self.ready.push(t);
        }
    }

    /// memory → released: every holder is told to drop the result.
    fn release_memory(&mut self, t: TaskId, comm: &mut dyn Comm) {
        let task = self.tasks[t.idx()].as_mut().expect("live");
        let TaskState::Memory { who_has, nbytes } = std::mem::replace(&mut task.state, TaskState::Released) else {
            unreachable!("release_memory of a task not in memory")
        };
        self.transitions.record(&task.key, Some(TaskStateKind::Memory), Some(TaskStateKind::Released));
        for w in who_has {
            if let Some(wk) = self.workers[w.idx()].as_mut() {
                wk.has_what.remove(&t);
                wk.nbytes -= nbytes;
            }
            comm.send_worker(w, ToWorker::FreeKeys(vec![task.key.clone()]));
        }
    }

    /// Forgets a released or erred task nothing refers to; its
    /// dependencies lose a dependent and are settled again.
    pub(crate) fn maybe_forget(&mut self, t: TaskId) {
        let Some(task) = self.tasks[t.idx()].as_ref() else { return };
        if !(matches!(task.state, TaskState::Released | TaskState::Erred(_)) && task.unreferenced()) {
            return;
        }
        let task = self.tasks[t.idx()].take().expect("live");
        self.transitions.record(&task.key, Some(task.state.kind()), None);
        self.index.remove(&task.key);
        // Its id is reused: a move of it must not apply to the next task.
        self.moving.remove(&t);
        self.free_ids.push(t);
        let name = task.key.name();
        let n = self.groups.get_mut(name).expect("group of a live task");
        *n -= 1;
        if *n == 0 {
            self.groups.remove(name);
        }
        for d in task.deps {
            self.tm(d).dependents.remove(&t);
            self.dirty.push(d);
        }
    }

    /// Takes an active task out of the queue, the no-worker set or its
    /// worker (telling the worker to drop it if `cancel`). Leaves the
    /// state for the caller to set.
    pub(crate) fn unassign(&mut self, t: TaskId, cancel: bool, comm: &mut dyn Comm) {
        let task = self.tasks[t.idx()].as_ref().expect("live");
        match &task.state {
            TaskState::Queued => {
                self.queue.remove(&(task.priority, t));
            }
            TaskState::NoWorker => {
                self.no_worker.remove(&(task.priority, t));
            }
            TaskState::Processing(p) => {
                if let Some(wk) = self.workers[p.worker.idx()].as_mut() {
                    wk.processing.remove(&t);
                    wk.occupancy_us -= p.est_us;
                    if let Some(r) = &task.resources {
                        resources::apply(&mut wk.used, r, false);
                        self.retry_no_worker = true;
                    }
                    if cancel {
                        comm.send_worker(p.worker, ToWorker::CancelCompute(task.key.clone()));
                    }
                }
                if let Some((_, thief)) = p.steal {
                    if let Some(th) = self.workers[thief.idx()].as_mut() {
                        th.incoming_steals -= 1;
                    }
                }
            }
            _ => {}
        }
    }

    /// Unassigns an active task and stops it waiting on its dependencies
    /// (which may then be released). The caller sets the new state.
    pub(crate) fn leave_active(&mut self, t: TaskId, cancel: bool, comm: &mut dyn Comm) {
        self.unassign(t, cancel, comm);
        let deps = self.t(t).deps.clone();
        for d in deps {
            let dt = self.tm(d);
            dt.waiters -= 1;
            if dt.waiters == 0 {
                self.dirty.push(d);
            }
        }
    }

    /// Back to waiting, still needed: a retry, a rescheduling after a
    /// worker died, or a dependency lost. Ready again at once if every
    /// input is in memory.
    pub(crate) fn demote(&mut self, t: TaskId, cancel: bool, comm: &mut dyn Comm) {
        self.unassign(t, cancel, comm);
        let missing = self.missing_inputs(t);
        self.set_state(t, TaskState::Waiting { missing });
        if missing == 0 {
            self.ready.push(t);
        }
    }

    pub(crate) fn missing_inputs(&self, t: TaskId) -> u32 {
        self.t(t).deps.iter().filter(|&&d| !matches!(self.t(d).state, TaskState::Memory { .. })).count() as u32
    }

    /// processing → memory on `w`. If another worker was assigned the
    /// task, it is told to drop it.
    pub(crate) fn store_result(&mut self, t: TaskId, w: WorkerId, nbytes: u64, comm: &mut dyn Comm) {
        let TaskState::Processing(p) = self.t(t).state else { unreachable!("store_result of a task not processing") };
        self.leave_active(t, p.worker != w, comm);
        let wk = self.workers[w.idx()].as_mut().expect("a live worker");
        wk.has_what.insert(t);
        wk.nbytes += nbytes;
        self.set_state(t, TaskState::Memory { who_has: smallvec![w], nbytes });
        let task = self.tasks[t.idx()].as_mut().expect("live");
        for &c in &task.who_wants {
            comm.send_client(c, ToClient::KeyInMemory { key: task.key.clone(), nbytes });
        }
        let dependents: Stack = task.dependents.iter().copied().collect();
        for d in dependents {
            if let TaskState::Waiting { missing } = &mut self.tm(d).state {
                *missing -= 1;
                if *missing == 0 {
                    self.ready.push(d);
                }
            }
        }
        self.dirty.push(t);
    }

    /// The last copy of a result is gone. Clients wanting it hear so; its
    /// dependents that were ready or running wait again; the task itself
    /// is released and, being needed, recomputed (or, scattered, erred).
    pub(crate) fn memory_lost(&mut self, t: TaskId, comm: &mut dyn Comm) {
        debug_assert!(matches!(&self.t(t).state, TaskState::Memory { who_has, .. } if who_has.is_empty()));
        self.set_state(t, TaskState::Released);
        let task = self.tasks[t.idx()].as_mut().expect("live");
        for &c in &task.who_wants {
            comm.send_client(c, ToClient::KeyLost(task.key.clone()));
        }
        let dependents: Stack = task.dependents.iter().copied().collect();
        for d in dependents {
            match &mut self.tm(d).state {
                TaskState::Waiting { missing } => *missing += 1,
                TaskState::Queued | TaskState::NoWorker | TaskState::Processing(_) => self.demote(d, true, comm),
                _ => {}
            }
        }
        if self.is_scattered(t) {
            self.scattered_lost(t, comm);
        }
        self.dirty.push(t);
    }

    /// Errs a task and, transitively, every active dependent, with the
    /// same failure; clients wanting any of them are told.
    pub(crate) fn fail(&mut self, t: TaskId, failure: Arc<TaskFailure>, comm: &mut dyn Comm) {
        let mut stack: Stack = smallvec![t];
        while let Some(x) = stack.pop() {
            let state = &self.t(x).state;
            if state.is_active() {
                self.leave_active(x, true, comm);
            } else if !matches!(state, TaskState::Released) {
                continue;
            }
            self.set_state(x, TaskState::Erred(failure.clone()));
            let task = self.tasks[x.idx()].as_mut().expect("live");
            for &c in &task.who_wants {
                comm.send_client(c, ToClient::KeyErred { key: task.key.clone(), failure: failure.clone() });
            }
            let dependents: Stack = task.dependents.iter().copied().collect();
            for d in dependents {
                if self.t(d).state.is_active() {
                    stack.push(d);
                }
            }
            self.dirty.push(x);
        }
    }
}
