//! Where a ready task runs.
//!
//! A task goes to the worker where it can *start* soonest:
//!
//! ```text
//! start(w) = occupancy(w) / nthreads(w)                 expected backlog
//!          + bytes of inputs not on w / bandwidth       transfer time
//! ```
//!
//! among the workers its restriction allows (`workers=`; with
//! `allow_other_workers`, any while none of those runs) with enough free
//! resources for it; ties go to the
//! worker holding fewer bytes, then the lower id. Occupancy is the sum of
//! the expected durations of the worker's processing tasks, learned per
//! key prefix. Every running worker is a candidate: O(workers × inputs)
//! per task, which is fine for the clusters of hundreds of workers this
//! targets; holders-of-inputs plus idle workers is the obvious cut if
//! that ever shows in a profile.
//!
//! A task no worker can take becomes no-worker and is retried when a
//! worker joins or resources are given back.

use smallvec::SmallVec;

use crate::comm::{Comm, ComputeTask, DepInfo, Holder, ToWorker};
use crate::core::Core;
use crate::ids::{TaskId, WorkerId};
use crate::resources;
use crate::task::{Processing, TaskState};
use crate::worker::Worker;

impl Core {
    /// Places a ready task: queued if it is a root, else on the best
    /// worker, else no-worker.
    pub(crate) fn place(&mut self, t: TaskId, comm: &mut dyn Comm) {
        if self.config.saturation.is_some() && self.is_rootish(t) {
            self.set_state(t, TaskState::Queued);
            let entry = (self.t(t).priority, t);
            self.queue.insert(entry);
            return;
        }
        match self.decide_worker(t) {
            Some(w) => self.assign(t, w, comm),
            None => {
                self.set_state(t, TaskState::NoWorker);
                let entry = (self.t(t).priority, t);
                self.no_worker.insert(entry);
            }
        }
    }

    /// Microseconds to move `bytes` between workers.
    #[inline]
    pub(crate) fn transfer_us(&self, bytes: u64) -> u64 {
        (u128::from(bytes) * 1_000_000 / u128::from(self.config.bandwidth)) as u64
    }

    /// Bytes of `t`'s inputs that `wk` would have to fetch.
    pub(crate) fn bytes_to_fetch(&self, t: TaskId, wk: &Worker) -> u64 {
        self.t(t)
            .deps
            .iter()
            .filter(|d| !wk.has_what.contains(d))
            .map(|&d| match self.t(d).state {
                TaskState::Memory { nbytes, .. } => nbytes,
                _ => 0,
            })
            .sum()
    }

    /// Whether `t` may run on `wk` (its restriction allows it) and `wk`
    /// has the free resources `t` needs.
    pub(crate) fn fits(&self, t: TaskId, wk: &Worker) -> bool {
        let task = self.t(t);
        if let Some(r) = &task.restrict {
            let allowed = r.names(&wk.address, &wk.name)
                || (r.loose && !self.running_workers().any(|(_, o)| r.names(&o.address, &o.name)));
            if !allowed {
                return false;
            }
        }
        match &task.resources {
            None => true,
            Some(r) => resources::fits_free(&wk.resources, &wk.used, r),
        }
    }

    /// The worker where `t` could start soonest, if any can take it now.
    pub(crate) fn decide_worker(&self, t: TaskId) -> Option<WorkerId> {
        let mut best: Option<(u64, u64, WorkerId)> = None;
        for (w, wk) in self.running_workers() {
            if !self.fits(t, wk) {
                continue;
            }
            let score = (wk.wait_us() + self.transfer_us(self.bytes_to_fetch(t, wk)), wk.nbytes, w);
            if best.is_none_or(|b| score < b) {
                best = Some(score);
            }
        }
        best.map(|(_, _, w)| w)
    }

    /// Assigns a ready task to `w` and sends it there with the holders of
    /// each input.
    pub(crate) fn assign(&mut self, t: TaskId, w: WorkerId, comm: &mut dyn Comm) {
        let unknown = self.config.unknown_task_duration.as_micros() as u64;
        let task = self.tasks[t.idx()].as_ref().expect("live");
        let est_us = self.durations.estimate_us(task.prefix, unknown);
        let deps: Vec<DepInfo> = task
            .deps
            .iter()
            .map(|&d| {
                self.dep_info(d).unwrap_or_else(|| {
                    unreachable!("assigning {} before its input {} is in memory", task.key, self.t(d).key)
                })
            })
            .collect();
        let msg = ComputeTask { key: task.key.clone(), payload: task.payload.clone(), priority: task.priority, deps };
        let wk = self.workers[w.idx()].as_mut().expect("assigning to a live worker");
        wk.processing.insert(t);
        wk.occupancy_us += est_us;
        if let Some(r) = &task.resources {
            resources::apply(&mut wk.used, r, true);
        }
        self.set_state(t, TaskState::Processing(Processing { worker: w, est_us, steal: None }));
        comm.send_worker(w, ToWorker::Compute(Box::new(msg)));
    }

    /// `t`, in memory, as an input to fetch: its key, size and holders
    /// (`None` when it is not in memory).
    pub(crate) fn dep_info(&self, t: TaskId) -> Option<DepInfo> {
        let task = self.t(t);
        let TaskState::Memory { who_has, nbytes } = &task.state else { return None };
        let who_has: SmallVec<[Holder; 2]> = who_has
            .iter()
            .map(|&h| Holder { worker: h, address: self.worker(h).expect("a holder is live").address.clone() })
            .collect();
        Some(DepInfo { key: task.key.clone(), nbytes: *nbytes, who_has })
    }

    /// Places the no-worker tasks that now fit somewhere, best first.
    pub(crate) fn retry_unrunnable(&mut self, comm: &mut dyn Comm) {
        let waiting: Vec<_> = self.no_worker.iter().copied().collect();
        for entry in waiting {
            if let Some(w) = self.decide_worker(entry.1) {
                self.no_worker.remove(&entry);
                self.assign(entry.1, w, comm);
            }
        }
    }
}
