//! Work stealing: moving tasks that have not started from busy workers to
//! idle ones.
//!
//! Placement decides with what it knows when a task becomes ready;
//! durations turn out different, workers join. Every
//! [`Config::stealing_interval`](crate::Config::stealing_interval) the tick
//! rebalances: for each worker with an idle thread (a *thief*), the
//! worker with the longest expected backlog that has more tasks than
//! threads (the *victim*) gives up its last task in priority order, if
//!
//! - the thief has the free resources for it,
//! - moving its inputs takes at most half its expected run time
//!   (compute outweighs transfer), and
//! - on the thief it would start before the victim's backlog drains.
//!
//! The scheduler does not know which of the victim's tasks have started,
//! so a steal is a request: the victim answers [`StealOutcome::Released`]
//! if it had not started the task (the scheduler then sends it to the
//! thief, or places it afresh if the thief is gone or full) or
//! [`StealOutcome::Refused`] if it is running or done. The task stays
//! processing on the victim until the answer; a finished report, a worker
//! death or a release in between settles the task and the answer is then
//! ignored. Each request carries a [`StealId`] that the answer echoes, so
//! an answer to an older attempt is never taken for a newer one.
//!
//! Queued roots need no stealing: a worker with a free slot takes them
//! from the queue.

use crate::comm::{Comm, ToWorker};
use crate::core::Core;
use crate::ids::{StealId, TaskId, WorkerId};
use crate::task::TaskState;

/// A victim's answer to a steal request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StealOutcome {
    /// The task had not started; the victim dropped it.
    Released,
    /// The task is running, done, or unknown to the victim; it keeps it.
    Refused,
}

impl Core {
    /// Sends steal requests from saturated workers towards idle ones.
    pub(crate) fn balance(&mut self, comm: &mut dyn Comm) {
        let mut thieves: Vec<(u64, WorkerId)> =
            self.running_workers().filter(|(_, wk)| wk.has_idle_thread()).map(|(w, wk)| (wk.wait_us(), w)).collect();
        thieves.sort_unstable();
        for (_, thief) in thieves {
            while self.worker(thief).is_some_and(|wk| wk.has_idle_thread()) {
                let Some((victim, t)) = self.steal_candidate(thief) else { break };
                self.request_steal(t, victim, thief, comm);
            }
        }
    }

    /// Asks `victim` to give up processing task `t` for `thief`.
    pub(crate) fn request_steal(&mut self, t: TaskId, victim: WorkerId, thief: WorkerId, comm: &mut dyn Comm) {
        self.next_steal += 1;
        let id = StealId(self.next_steal);
        let TaskState::Processing(p) = &mut self.tm(t).state else { unreachable!("stealing {t}, not processing") };
        p.steal = Some((id, thief));
        self.worker_mut(thief).expect("thief").incoming_steals += 1;
        let key = self.t(t).key.clone();
        comm.send_worker(victim, ToWorker::StealRequest { key, id });
    }

    /// The best task to move to `thief`, and its victim.
    fn steal_candidate(&self, thief: WorkerId) -> Option<(WorkerId, TaskId)> {
        let th = self.worker(thief)?;
        let thief_wait = th.wait_us();
        // Victims by backlog, longest first: those with more tasks than
        // threads (some have not started), not counting tasks being stolen.
        let mut victims: Vec<(u64, WorkerId)> = Vec::new();
        for (w, wk) in self.live_workers() {
            if w == thief {
                continue;
            }
            let mut stealing = 0;
            let mut stealing_us = 0;
            for &t in &wk.processing {
                if let TaskState::Processing(p) = &self.t(t).state {
                    if p.steal.is_some() {
                        stealing += 1;
                        stealing_us += p.est_us;
                    }
                }
            }
            if wk.processing.len() - stealing > wk.nthreads as usize {
                victims.push(((wk.occupancy_us - stealing_us) / u64::from(wk.nthreads), w));
            }
        }
        victims.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (victim_wait, victim) in victims {
            let wk = self.worker(victim)?;
            let mut best: Option<(crate::task::Priority, TaskId)> = None;
            for &t in &wk.processing {
                let task = self.t(t);
                let TaskState::Processing(p) = &task.state else { continue };
                if p.steal.is_some() || !self.fits(t, th) {
                    continue;
                }
                let transfer = self.transfer_us(self.bytes_to_fetch(t, th));
                if transfer * 2 > p.est_us || thief_wait + transfer >= victim_wait {
                    continue;
                }
                if best.is_none_or(|b| (task.priority, t) > b) {
                    best = Some((task.priority, t));
                }
            }
            if let Some((_, t)) = best {
                return Some((victim, t));
            }
        }
        None
    }

    /// Handles a victim's answer to steal request `id` for `t`.
    pub(crate) fn steal_answered(
        &mut self,
        victim: WorkerId,
        t: TaskId,
        id: StealId,
        outcome: StealOutcome,
        comm: &mut dyn Comm,
    ) {
        let TaskState::Processing(p) = self.t(t).state else { return };
        let Some((sid, thief)) = p.steal else { return };
        if p.worker != victim || sid != id {
            return;
        }
        match outcome {
            StealOutcome::Refused => {
                let TaskState::Processing(p) = &mut self.tm(t).state else { unreachable!() };
                p.steal = None;
                if let Some(th) = self.worker_mut(thief) {
                    th.incoming_steals -= 1;
                }
            }
            StealOutcome::Released => {
                // The victim dropped it already: no cancel to send.
                self.unassign(t, false, comm);
                // A thief retired meanwhile takes nothing new.
                let fits = self.worker(thief).is_some_and(|th| th.is_running() && self.fits(t, th));
                if fits {
                    self.assign(t, thief, comm);
                } else {
                    self.set_state(t, TaskState::Waiting { missing: 0 });
                    self.ready.push(t);
                }
            }
        }
    }
}
