//! Running tasks: what the scheduler asks, the ready queue, the threads.

use std::time::Duration;

use blockwork_graph::Key;
use blockwork_scheduler::{ComputeTask, StealId, StealOutcome};
use smallvec::SmallVec;

use crate::port::{Erred, Finished, Instruction, Port, ToScheduler};
use crate::state::WorkerState;
use crate::task::{Run, TaskState, Tid};

impl WorkerState {
    /// The scheduler asks to run a task. Its inputs already in memory are
    /// used; the others are fetched from their holders, once each
    /// however many tasks need them. A key known here is not run twice:
    /// a value in memory is reported at once, a key in flight is reported
    /// when it arrives (and run here only if the transfer fails), a
    /// cancelled task still executing resumes.
    pub fn on_compute(&mut self, port: &mut impl Port, ct: Box<ComputeTask>) {
        match self.id_of(&ct.key) {
            None => self.start_compute(port, None, *ct),
            Some(t) => match &mut self.tm(t).state {
                TaskState::Fetch { .. } => {
                    self.dequeue_fetch(t);
                    self.tm(t).replica = false;
                    self.start_compute(port, Some(t), *ct);
                }
                TaskState::Flight { compute, .. } => *compute = Some(ct),
                TaskState::Waiting { .. } | TaskState::Ready { .. } | TaskState::Executing { .. } => {}
                TaskState::Cancelled { .. } => {
                    let TaskState::Cancelled { run } =
                        std::mem::replace(&mut self.tm(t).state, TaskState::Memory { held: false })
                    else {
                        unreachable!()
                    };
                    self.set_state(t, TaskState::Executing { run });
                }
                TaskState::Memory { held } => {
                    *held = true;
                    let task = self.t(t);
                    let msg = ToScheduler::TaskFinished(Finished {
                        key: task.key.clone(),
                        nbytes: task.nbytes,
                        duration: Duration::ZERO,
                    });
                    port.to_scheduler(msg);
                }
            },
        }
        self.settle(port);
    }

    /// Makes `t` (or a new key) a task to run: registers it with each
    /// input, queueing inputs not known here for fetching. `t`, if given,
    /// is out of every queue.
    pub(crate) fn start_compute(&mut self, port: &mut impl Port, t: Option<Tid>, ct: ComputeTask) {
        let ComputeTask { key, payload, priority, deps } = ct;
        let inputs: Vec<Key> = deps.iter().map(|d| d.key.clone()).collect();
        // A new key's state is set below, before anything reads it.
        let t = t.unwrap_or_else(|| self.insert_new(key));
        let mut dep_ids: SmallVec<[Tid; 4]> = SmallVec::new();
        let mut unfetchable: SmallVec<[Tid; 2]> = SmallVec::new();
        for info in deps {
            let holders: SmallVec<[_; 2]> = info.who_has.iter().filter(|h| h.worker != self.id).collect();
            for h in &holders {
                self.addresses.entry(h.worker).or_insert_with(|| h.address.clone());
            }
            let d = match self.id_of(&info.key) {
                Some(d) => {
                    if !self.tm(d).dependents.insert(t) {
                        continue; // listed twice
                    }
                    for h in &holders {
                        self.add_holder(d, h.worker);
                    }
                    if let TaskState::Fetch { priority: p } = self.t(d).state {
                        if priority < p {
                            self.dequeue_fetch(d);
                            self.enqueue_fetch(d, priority);
                        }
                    }
                    d
                }
                None => {
                    let d = self.insert(info.key, TaskState::Fetch { priority });
                    let task = self.tm(d);
                    task.nbytes = info.nbytes;
                    task.who_has = holders.iter().map(|h| h.worker).collect();
                    task.dependents.insert(t);
                    if task.who_has.is_empty() {
                        unfetchable.push(d);
                    } else {
                        self.enqueue_fetch(d, priority);
                    }
                    d
                }
            };
            dep_ids.push(d);
        }
        let missing = dep_ids.iter().filter(|&&d| !matches!(self.t(d).state, TaskState::Memory { .. })).count() as u32;
        let run = Box::new(Run { payload, priority, inputs, deps: dep_ids });
        let state = if missing == 0 {
            self.ready.insert((priority, t));
            TaskState::Ready { run }
        } else {
            TaskState::Waiting { run, missing }
        };
        self.set_state(t, state);
        let me = self.id;
        for d in unfetchable {
            if self.is_live(d) {
                self.no_holders(port, d, me);
            }
        }
    }

    /// The scheduler is done with these values: each is dropped, or, if a
    /// local task still needs it, dropped once that task has run. Keys
    /// not in memory are ignored (the scheduler never frees a task it
    /// asked to run; it cancels it).
    pub fn on_free_keys(&mut self, port: &mut impl Port, keys: &[Key]) {
        for key in keys {
            let Some(t) = self.id_of(key) else { continue };
            let task = self.tm(t);
            match &mut task.state {
                TaskState::Memory { held } => {
                    *held = false;
                    self.maybe_forget(port, t);
                }
                // A copy it asked for and no longer wants: not kept on arrival.
                TaskState::Fetch { .. } | TaskState::Flight { .. } if task.replica => {
                    task.replica = false;
                    self.maybe_forget(port, t);
                }
                _ => {}
            }
        }
        self.settle(port);
    }

    /// The scheduler no longer wants `key` run here. A task not started is
    /// dropped; an executing one runs on, but its result will be dropped
    /// and not reported (the scheduler has moved on: a report would only
    /// be answered with a free). A result already in memory is kept until
    /// the free that follows.
    pub fn on_cancel_compute(&mut self, port: &mut impl Port, key: &Key) {
        if let Some(t) = self.id_of(key) {
            self.unwant(port, t);
        }
        self.settle(port);
    }

    /// The scheduler wants to move `key` to another worker: released if it
    /// has not started here, refused otherwise (running, done, or unknown).
    pub fn on_steal_request(&mut self, port: &mut impl Port, key: &Key, id: StealId) {
        let released = match self.id_of(key) {
            Some(t) => match &self.t(t).state {
                TaskState::Waiting { .. } | TaskState::Ready { .. } | TaskState::Flight { compute: Some(_), .. } => {
                    self.unwant(port, t);
                    true
                }
                _ => false,
            },
            None => false,
        };
        let outcome = if released { StealOutcome::Released } else { StealOutcome::Refused };
        port.to_scheduler(ToScheduler::StealResponse { key: key.clone(), id, outcome });
        self.settle(port);
    }

    /// The scheduler no longer wants `t` run here.
    fn unwant(&mut self, port: &mut impl Port, t: Tid) {
        match &mut self.tm(t).state {
            TaskState::Waiting { .. } | TaskState::Ready { .. } => self.release_compute(port, t),
            TaskState::Executing { .. } => {
                let TaskState::Executing { run } =
                    std::mem::replace(&mut self.tm(t).state, TaskState::Memory { held: false })
                else {
                    unreachable!()
                };
                self.set_state(t, TaskState::Cancelled { run });
            }
            TaskState::Flight { compute, .. } => *compute = None,
            _ => {}
        }
    }

    /// A waiting or ready task is given up: it lets go of its inputs
    /// (which may then be forgotten), and is forgotten itself unless local
    /// tasks wait for its value.
    pub(crate) fn release_compute(&mut self, port: &mut impl Port, t: Tid) {
        let state = std::mem::replace(&mut self.tm(t).state, TaskState::Memory { held: false });
        let run = match state {
            TaskState::Waiting { run, .. } => run,
            TaskState::Ready { run } => {
                self.ready.remove(&(run.priority, t));
                run
            }
            other => unreachable!("releasing a task that is {:?}", other.kind()),
        };
        self.let_go_of_inputs(port, t, &run);
        self.without_run(port, t);
    }

    /// `t` stops reading its inputs.
    fn let_go_of_inputs(&mut self, port: &mut impl Port, t: Tid, run: &Run) {
        for &d in &run.deps {
            if self.is_live(d) {
                self.tm(d).dependents.remove(&t);
                self.maybe_forget(port, d);
            }
        }
    }

    /// `t` (its state taken, no value here) will not be run here: if local
    /// tasks need its value it is fetched, else forgotten.
    pub(crate) fn without_run(&mut self, port: &mut impl Port, t: Tid) {
        if self.t(t).dependents.is_empty() {
            self.forget(t);
        } else if self.t(t).who_has.is_empty() {
            let me = self.id;
            self.no_holders(port, t, me);
        } else {
            let priority = self.fetch_priority(t);
            self.enqueue_fetch(t, priority);
        }
    }

    /// Starts ready tasks, most urgent first, while threads (or the
    /// pool's pipeline) have room.
    pub(crate) fn ensure_executing(&mut self, port: &mut impl Port) {
        while self.running < self.config.slots() && !self.paused {
            let Some((_, t)) = self.ready.pop_first() else { break };
            let task = self.tm(t);
            let TaskState::Ready { run } = std::mem::replace(&mut task.state, TaskState::Memory { held: false }) else {
                unreachable!("{} in the ready queue is not ready", task.key)
            };
            let ins = Instruction::Execute {
                key: task.key.clone(),
                payload: run.payload.clone(),
                inputs: run.inputs.clone(),
            };
            self.set_state(t, TaskState::Executing { run });
            self.running += 1;
            port.instruct(ins);
        }
    }

    /// The thread running `t` is done with it; its inputs are let go.
    fn end_run(&mut self, port: &mut impl Port, t: Tid) -> bool {
        let state = std::mem::replace(&mut self.tm(t).state, TaskState::Memory { held: false });
        let (run, wanted) = match state {
            TaskState::Executing { run } => (run, true),
            TaskState::Cancelled { run } => (run, false),
            _ => unreachable!(),
        };
        self.running -= 1;
        self.let_go_of_inputs(port, t, &run);
        wanted
    }

    fn is_running(&self, key: &Key) -> Option<Tid> {
        self.id_of(key)
            .filter(|&t| matches!(self.t(t).state, TaskState::Executing { .. } | TaskState::Cancelled { .. }))
    }

    /// A task finished on a thread; its result is in the store. Reported
    /// and held if the scheduler still wants it; if it was cancelled, kept
    /// only for local tasks that need it (and reported as a copy, like a
    /// fetched one), else dropped. A result for a key not running here is
    /// dropped from the store (unless the key is in memory anyway).
    pub fn on_task_finished(&mut self, port: &mut impl Port, done: Finished) {
        let Some(t) = self.is_running(&done.key) else {
            if self.state_of(&done.key) != Some(crate::TaskStateKind::Memory) {
                port.instruct(Instruction::DropData(done.key));
            }
            return;
        };
        if self.end_run(port, t) {
            self.store_value(t, done.nbytes, true);
            port.to_scheduler(ToScheduler::TaskFinished(done));
        } else if !self.t(t).dependents.is_empty() {
            self.store_value(t, done.nbytes, true);
            self.add_keys.push(done.key);
        } else {
            port.instruct(Instruction::DropData(done.key));
            self.forget(t);
        }
        self.settle(port);
    }

    /// A task raised an error on a thread: reported (unless cancelled) and
    /// forgotten; the scheduler keeps the error and decides on retries.
    pub fn on_task_erred(&mut self, port: &mut impl Port, erred: Erred) {
        let Some(t) = self.is_running(&erred.key) else { return };
        if self.end_run(port, t) {
            port.to_scheduler(ToScheduler::TaskErred(erred));
        }
        self.without_run(port, t);
        self.settle(port);
    }

    /// A peer asks for values: those in memory are sent, the others named
    /// missing; beyond `max_outgoing` transfers at once the peer hears
    /// busy.
    pub fn on_data_requested(&mut self, port: &mut impl Port, from: blockwork_scheduler::WorkerId, keys: &[Key]) {
        if self.outgoing >= self.config.max_outgoing {
            port.instruct(Instruction::Busy { to: from });
            return;
        }
        let (mut have, mut missing) = (Vec::new(), Vec::new());
        for key in keys {
            if self.state_of(key) == Some(crate::TaskStateKind::Memory) {
                have.push(key.clone());
            } else {
                missing.push(key.clone());
            }
        }
        self.outgoing += 1;
        port.instruct(Instruction::SendData { to: from, keys: have, missing });
    }

    /// A `SendData` is done.
    pub fn on_data_sent(&mut self, _port: &mut impl Port, _to: blockwork_scheduler::WorkerId) {
        self.outgoing = self.outgoing.saturating_sub(1);
    }
}
