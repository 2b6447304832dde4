//! Graceful retirement: a worker leaves without losing anything.
//!
//! As Dask's `retire_workers`: a retiring worker is given no new task
//! (placement, the root queue, stealing thieves and scatters skip it), it
//! is asked at once to give up the tasks it has not started (each goes
//! where it would start soonest), and every result only
//! it holds is copied to another worker, which fetches it straight from
//! the retiring one (`ToWorker::AcquireReplicas`). Once it runs nothing
//! and holds nothing the others lack, it is removed; nothing is
//! recomputed. The copy goes to the running worker holding the fewest
//! bytes (counting the copies planned in the same pass) that has room
//! for it under its memory limit. A copy not confirmed within
//! [`MOVE_TIMEOUT`] (the receiver died, or could not reach the retiring
//! worker) is asked again, of another worker if one fits better.
//!
//! When no running worker is left to take its results, the retirement is
//! refused and the worker runs on, as in Dask. Either way the outcome
//! waits in [`Core::take_retirements`] for the runtime, which closes the
//! retired worker's connection (and tells whoever asked).

use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;

use crate::comm::{Comm, DepInfo, Holder};
use crate::core::Core;
use crate::error::SchedError;
use crate::ids::{TaskId, WorkerId};
use crate::task::TaskState;
use crate::worker::Retiring;

/// How long a copy asked of another worker may take before it is asked
/// again.
pub const MOVE_TIMEOUT: Duration = Duration::from_secs(10);

/// How a retirement ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retirement {
    /// The worker.
    pub worker: WorkerId,
    /// Its name.
    pub name: Arc<str>,
    /// Its address.
    pub address: Arc<str>,
    /// `Ok`: every result it alone held is on another worker and it was
    /// removed. `Err`: why it was not retired (it runs on, or it left
    /// before its results moved).
    pub outcome: Result<(), String>,
}

impl Core {
    /// Starts retiring `workers` (already retiring ones are left as they
    /// are). An unknown worker is an error and nothing changes.
    pub(crate) fn retire(
        &mut self,
        workers: &[WorkerId],
        now: Duration,
        comm: &mut dyn Comm,
    ) -> Result<(), SchedError> {
        if let Some(&w) = workers.iter().find(|&&w| self.worker(w).is_none()) {
            return Err(SchedError::UnknownWorker(w));
        }
        for &w in workers {
            let wk = self.worker_mut(w).expect("checked above");
            if wk.retiring.is_none() {
                wk.retiring = Some(Retiring::default());
                self.n_retiring += 1;
                self.steal_away(w, comm);
            }
        }
        // Its queued tasks may run elsewhere now.
        self.retry_no_worker = true;
        self.advance_retirements(now, comm);
        Ok(())
    }

    /// Asks retiring worker `w` to give up the tasks it has not started,
    /// each toward the running worker where it would start soonest: a
    /// worker queued ahead with short roots leaves sooner.
    fn steal_away(&mut self, w: WorkerId, comm: &mut dyn Comm) {
        let Some(wk) = self.worker(w) else { return };
        let mut tasks: Vec<TaskId> = wk.processing.iter().copied().collect();
        tasks.sort_unstable();
        for t in tasks {
            let TaskState::Processing(p) = &self.t(t).state else { continue };
            if p.steal.is_some() {
                continue;
            }
            let Some(thief) = self.decide_worker(t) else { continue };
            self.request_steal(t, w, thief, comm);
        }
    }

    /// The `n` running workers whose retirement costs least: fewest tasks
    /// processing, then fewest bytes held, then the newest.
    pub fn retirement_candidates(&self, n: usize) -> Vec<WorkerId> {
        let mut ws: Vec<_> =
            self.running_workers().map(|(w, wk)| (wk.processing.len(), wk.nbytes, std::cmp::Reverse(w))).collect();
        ws.sort_unstable();
        ws.into_iter().take(n).map(|(_, _, w)| w.0).collect()
    }

    /// The retirements that ended since the last call.
    pub fn take_retirements(&mut self) -> Vec<Retirement> {
        std::mem::take(&mut self.retirements)
    }

    /// Whether any worker is being retired (asked after every task that
    /// finishes: a counter, not a pass over the workers).
    pub(crate) fn any_retiring(&self) -> bool {
        self.n_retiring > 0
    }

    /// Moves on every retirement: asks for copies of results only
    /// retiring workers hold, removes the workers that are done, refuses
    /// those whose results have nowhere to go.
    pub(crate) fn advance_retirements(&mut self, now: Duration, comm: &mut dyn Comm) {
        let retiring: Vec<WorkerId> = self.live_workers().filter(|(_, w)| !w.is_running()).map(|(w, _)| w).collect();
        if retiring.is_empty() {
            return;
        }
        // Bytes each running worker is about to receive, so that one pass
        // spreads copies instead of sending them all to the emptiest.
        let mut incoming: FxHashMap<WorkerId, u64> = FxHashMap::default();
        let mut asks: FxHashMap<WorkerId, Vec<DepInfo>> = FxHashMap::default();
        for w in retiring {
            let mut unique = self.held_only_by_retiring(w);
            unique.sort_unstable();
            let mut refused = None;
            for (t, nbytes) in &unique {
                let pending = self.worker(w).and_then(|wk| wk.retiring.as_ref()).and_then(|r| r.moves.get(t).copied());
                if let Some((to, since)) = pending {
                    let alive = self.worker(to).is_some_and(|d| d.is_running());
                    if alive && now.saturating_sub(since) < MOVE_TIMEOUT {
                        continue;
                    }
                }
                let Some(to) = self.copy_target(*nbytes, &incoming) else {
                    refused = Some(format!(
                        "no running worker can take the {} result(s) only it holds ({} bytes)",
                        unique.len(),
                        unique.iter().map(|(_, b)| b).sum::<u64>()
                    ));
                    break;
                };
                *incoming.entry(to).or_default() += nbytes;
                let holder = Holder { worker: w, address: self.worker(w).expect("live").address.clone() };
                let info =
                    DepInfo { key: self.t(*t).key.clone(), nbytes: *nbytes, who_has: [holder].into_iter().collect() };
                asks.entry(to).or_default().push(info);
                let r = self.worker_mut(w).and_then(|wk| wk.retiring.as_mut()).expect("retiring");
                r.moves.insert(*t, (to, now));
            }
            let wk = self.worker(w).expect("live");
            let outcome = match refused {
                Some(reason) => Some(Err(reason)),
                None if unique.is_empty() && wk.processing.is_empty() => Some(Ok(())),
                None => None,
            };
            if let Some(outcome) = outcome {
                let done = Retirement { worker: w, name: wk.name.clone(), address: wk.address.clone(), outcome };
                let ok = done.outcome.is_ok();
                self.worker_mut(w).expect("live").retiring = None;
                self.n_retiring -= 1;
                self.retirements.push(done);
                if ok {
                    // Every result it holds has another copy: nothing is lost.
                    self.remove_worker(w, comm);
                } else {
                    for asks in asks.values_mut() {
                        asks.retain(|d| d.who_has[0].worker != w);
                    }
                    self.retry_no_worker = true;
                }
            }
        }
        crate::replicate::send_acquires(asks, comm);
    }

    /// Results `w` holds with no copy on a running worker, and their sizes.
    fn held_only_by_retiring(&self, w: WorkerId) -> Vec<(TaskId, u64)> {
        let Some(wk) = self.worker(w) else { return Vec::new() };
        wk.has_what
            .iter()
            .filter_map(|&t| match &self.t(t).state {
                TaskState::Memory { who_has, nbytes } => {
                    let elsewhere = who_has.iter().any(|&h| self.worker(h).is_some_and(|x| x.is_running()));
                    (!elsewhere).then_some((t, *nbytes))
                }
                _ => None,
            })
            .collect()
    }

    /// The running worker to copy `nbytes` to: the one holding the fewest
    /// bytes (with `incoming` counted) that stays under its memory limit,
    /// else the one holding the fewest.
    fn copy_target(&self, nbytes: u64, incoming: &FxHashMap<WorkerId, u64>) -> Option<WorkerId> {
        let held = |w: WorkerId, b: u64| b + incoming.get(&w).copied().unwrap_or(0);
        let fits = |w: WorkerId, limit: u64, b: u64| limit == 0 || held(w, b) + nbytes <= limit;
        let mut ws: Vec<_> =
            self.running_workers().map(|(w, wk)| (held(w, wk.nbytes), w, wk.memory_limit, wk.nbytes)).collect();
        ws.sort_unstable();
        ws.iter().find(|&&(_, w, limit, b)| fits(w, limit, b)).or(ws.first()).map(|&(_, w, _, _)| w)
    }
}
