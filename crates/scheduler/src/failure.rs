//! Losing workers and data.
//!
//! - A removed worker (disconnected, or silent past the heartbeat
//!   timeout) takes its running tasks and its results with it. Each of
//!   its processing tasks is blamed (`suspicious += 1`) and rescheduled,
//!   or erred as [`FailureKind::KilledWorker`] once more workers died
//!   running it than [`Config::allowed_failures`](crate::Config) allows:
//!   a task that crashes its worker must not take down the cluster one
//!   worker at a time.
//! - A result whose last copy is gone is recomputed from its
//!   dependencies if anything still needs it: it is released and settled
//!   again, which recursively makes its released dependencies wait too,
//!   down to results still in memory or to the roots. Dependents that
//!   were ready or running go back to waiting.
//! - A worker that could not fetch an input from a peer reports it; the
//!   peer is taken off that input's holders (and told to drop it, in case
//!   it has it after all, so the two views cannot disagree), and the task
//!   is rescheduled.

use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::ErrorKind;

use crate::comm::{Comm, ToWorker};
use crate::core::Core;
use crate::ids::{TaskId, WorkerId};
use crate::task::{FailureKind, TaskFailure, TaskState};

impl Core {
    /// Removes a worker: reschedules or errs its processing tasks and
    /// recomputes results only it held.
    pub(crate) fn remove_worker(&mut self, w: WorkerId, comm: &mut dyn Comm) {
        let Some(wk) = self.workers.get_mut(w.idx()).and_then(Option::take) else { return };
        self.total_nthreads -= u64::from(wk.nthreads);
        if wk.retiring.is_some() {
            self.n_retiring -= 1;
            self.retirements.push(crate::retire::Retirement {
                worker: w,
                name: wk.name.clone(),
                address: wk.address.clone(),
                outcome: Err("it left before the results only it held were copied".into()),
            });
        }
        let mut running: Vec<TaskId> = wk.processing.iter().copied().collect();
        running.sort_unstable_by_key(|&t| (self.t(t).priority, t));
        let allowed = self.config.allowed_failures;
        for t in running {
            let task = self.tm(t);
            task.suspicious += 1;
            if task.suspicious > allowed {
                let failure = Arc::new(TaskFailure {
                    key: task.key.clone(),
                    message: format!(
                        "{} workers died while running it (allowed_failures = {}); the last was {}",
                        task.suspicious, allowed, wk.address
                    )
                    .into(),
                    kind: FailureKind::KilledWorker,
                    fault: ErrorKind::Environment,
                });
                self.fail(t, failure, comm);
            } else {
                self.demote(t, false, comm);
            }
        }
        let mut held: Vec<TaskId> = wk.has_what.iter().copied().collect();
        held.sort_unstable();
        for t in held {
            self.drop_replica(t, w, comm);
        }
    }

    /// Takes `w` off the holders of `t`; recomputes `t` if that was the
    /// last copy. Does not tell `w`.
    pub(crate) fn drop_replica(&mut self, t: TaskId, w: WorkerId, comm: &mut dyn Comm) {
        let TaskState::Memory { who_has, nbytes } = &mut self.tm(t).state else { return };
        let Some(pos) = who_has.iter().position(|&h| h == w) else { return };
        who_has.remove(pos);
        let (nbytes, empty) = (*nbytes, who_has.is_empty());
        if let Some(wk) = self.worker_mut(w) {
            wk.has_what.remove(&t);
            wk.nbytes -= nbytes;
        }
        if empty {
            self.memory_lost(t, comm);
        }
    }

    /// Removes the workers not heard from for longer than the timeout.
    pub(crate) fn check_heartbeats(&mut self, now: Duration, comm: &mut dyn Comm) {
        let timeout = self.config.heartbeat_timeout;
        let silent: Vec<WorkerId> =
            self.live_workers().filter(|(_, wk)| now.saturating_sub(wk.last_seen) > timeout).map(|(w, _)| w).collect();
        for w in silent {
            self.remove_worker(w, comm);
        }
    }

    /// `reporter` could not fetch `dep` from `holder` for task `t`, and
    /// gave `t` up.
    pub(crate) fn fetch_failed(
        &mut self,
        reporter: WorkerId,
        t: Option<TaskId>,
        dep: Option<TaskId>,
        holder: WorkerId,
        comm: &mut dyn Comm,
    ) {
        if let Some(d) = dep {
            let holds = matches!(&self.t(d).state, TaskState::Memory { who_has, .. } if who_has.contains(&holder));
            if holds {
                if self.worker(holder).is_some() {
                    comm.send_worker(holder, ToWorker::FreeKeys(vec![self.t(d).key.clone()]));
                }
                self.drop_replica(d, holder, comm);
            }
        }
        if let Some(t) = t {
            if matches!(self.t(t).state, TaskState::Processing(p) if p.worker == reporter) {
                self.demote(t, false, comm);
            }
        }
    }
}
