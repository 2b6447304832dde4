//! Copies of results on more workers (Dask's `replicate`): for results
//! many tasks will read, or that must survive the loss of a worker; and
//! results moved to even out the workers' memory (Dask's `rebalance`).
//!
//! Each result in memory on fewer than `n` running workers is fetched by
//! as many more, those holding the fewest bytes first (counting the copies
//! planned in the same pass), which fetch it straight from a holder
//! (`ToWorker::AcquireReplicas`, as retirement does) and report it with
//! `add-keys`. Retiring workers neither give nor take copies. The request
//! returns at once; the copies arrive as the workers fetch them.

use std::sync::Arc;

use blockwork_graph::Key;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::comm::{Comm, DepInfo, ToWorker};
use crate::core::Core;
use crate::ids::{TaskId, WorkerId};
use crate::task::TaskState;

impl Core {
    /// Asks for copies of `keys` until each is on `n` running workers (or
    /// on every one, if fewer); returns the keys that are not in memory
    /// (nothing is done for them).
    pub(crate) fn replicate(&mut self, keys: &[Key], n: usize, comm: &mut dyn Comm) -> Vec<Key> {
        let mut targets: Vec<(u64, WorkerId)> = self.running_workers().map(|(w, wk)| (wk.nbytes, w)).collect();
        let mut asks: FxHashMap<WorkerId, Vec<DepInfo>> = FxHashMap::default();
        let mut missing = Vec::new();
        for key in keys {
            let Some(dep) = self.id_of(key).and_then(|t| self.dep_info(t)) else {
                missing.push(key.clone());
                continue;
            };
            let want = n.min(targets.len()).saturating_sub(dep.who_has.len());
            targets.sort_unstable();
            let chosen = targets.iter_mut().filter(|(_, w)| !dep.who_has.iter().any(|h| h.worker == *w)).take(want);
            for (bytes, w) in chosen {
                *bytes += dep.nbytes;
                asks.entry(*w).or_default().push(dep.clone());
            }
        }
        send_acquires(asks, comm);
        missing
    }
}

/// A result moved by [`Core::rebalance`]: fetched by `to` from `from`,
/// which frees it once `to` has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    /// The result.
    pub key: Key,
    /// The address of the worker it leaves.
    pub from: Arc<str>,
    /// The address of the worker it goes to.
    pub to: Arc<str>,
}

impl Core {
    /// Moves results so that every running worker holds about the mean
    /// of their bytes (within a tenth of it), as Dask's `rebalance`: from
    /// the fullest worker first, its results that only it holds, largest
    /// first, each to the emptiest worker it does not overfill; `to`
    /// fetches it and `from` frees it once `to` reports the copy
    /// (`add-keys`). Only `keys` are moved, and only among `workers`, when
    /// given. Returns the moves started.
    pub(crate) fn rebalance(
        &mut self,
        keys: Option<&[Key]>,
        workers: Option<&[WorkerId]>,
        comm: &mut dyn Comm,
    ) -> Vec<Move> {
        // Moves whose copy never came (the receiver left) are forgotten.
        let stale: Vec<TaskId> = self
            .moving
            .iter()
            .filter(|(t, (from, _))| {
                !matches!(self.tasks.get(t.idx()).and_then(Option::as_ref).map(|task| &task.state),
                    Some(TaskState::Memory { who_has, .. }) if who_has.contains(from))
            })
            .map(|(t, _)| *t)
            .collect();
        for t in stale {
            self.moving.remove(&t);
        }
        let only: Option<FxHashSet<TaskId>> = keys.map(|ks| ks.iter().filter_map(|k| self.id_of(k)).collect());
        let mut load: Vec<(WorkerId, u64)> = self
            .running_workers()
            .filter(|(w, _)| workers.is_none_or(|ws| ws.contains(w)))
            .map(|(w, wk)| (w, wk.nbytes))
            .collect();
        if load.len() < 2 {
            return Vec::new();
        }
        // Moves in flight count as done.
        for (&t, &(from, to)) in &self.moving {
            let TaskState::Memory { nbytes, .. } = &self.t(t).state else { continue };
            for (w, b) in load.iter_mut() {
                if *w == from {
                    *b = b.saturating_sub(*nbytes);
                } else if *w == to {
                    *b += nbytes;
                }
            }
        }
        let mean = load.iter().map(|(_, b)| b).sum::<u64>() / load.len() as u64;
        let slack = (mean / 10).max(1);
        let mut senders: Vec<(u64, WorkerId)> =
            load.iter().filter(|(_, b)| *b > mean + slack).map(|&(w, b)| (b, w)).collect();
        senders.sort_unstable_by(|a, b| b.cmp(a));
        let mut asks: FxHashMap<WorkerId, Vec<DepInfo>> = FxHashMap::default();
        let mut moves = Vec::new();
        for (_, from) in senders {
            let mut held: Vec<(u64, TaskId)> = self
                .worker(from)
                .map(|wk| wk.has_what.iter().copied().collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .filter(|t| only.as_ref().is_none_or(|o| o.contains(t)) && !self.moving.contains_key(t))
                .filter_map(|t| match &self.t(t).state {
                    TaskState::Memory { who_has, nbytes } if who_has.as_slice() == [from] => Some((*nbytes, t)),
                    _ => None,
                })
                .collect();
            held.sort_unstable_by(|a, b| b.cmp(a));
            for (nbytes, t) in held {
                let from_load = load.iter().find(|(w, _)| *w == from).map_or(0, |(_, b)| *b);
                if from_load <= mean + slack {
                    break;
                }
                // Not below the mean on this side, not above it on the other.
                if from_load - nbytes + slack < mean {
                    continue;
                }
                let Some(to) = load
                    .iter()
                    .filter(|(w, b)| *w != from && b + nbytes <= mean + slack)
                    .min_by_key(|(w, b)| (*b, *w))
                    .map(|(w, _)| *w)
                else {
                    continue;
                };
                for (w, b) in load.iter_mut() {
                    if *w == from {
                        *b -= nbytes;
                    } else if *w == to {
                        *b += nbytes;
                    }
                }
                let dep = self.dep_info(t).expect("in memory");
                let to_address = self.worker(to).expect("running").address.clone();
                moves.push(Move { key: dep.key.clone(), from: dep.who_has[0].address.clone(), to: to_address });
                asks.entry(to).or_default().push(dep);
                self.moving.insert(t, (from, to));
            }
        }
        send_acquires(asks, comm);
        moves
    }

    /// `worker` now holds a copy of `t`: if `t` was being moved to it,
    /// the worker it left frees its copy.
    pub(crate) fn finish_move(&mut self, t: TaskId, worker: WorkerId, comm: &mut dyn Comm) {
        let Some(&(from, to)) = self.moving.get(&t) else { return };
        if to != worker {
            return;
        }
        self.moving.remove(&t);
        let TaskState::Memory { who_has, .. } = &self.t(t).state else { return };
        if who_has.contains(&from) && who_has.contains(&worker) {
            comm.send_worker(from, ToWorker::FreeKeys(vec![self.t(t).key.clone()]));
            self.drop_replica(t, from, comm);
        }
    }
}

/// Asks each worker of `asks` to fetch its copies, in worker order.
pub(crate) fn send_acquires(asks: FxHashMap<WorkerId, Vec<DepInfo>>, comm: &mut dyn Comm) {
    let mut asks: Vec<_> = asks.into_iter().filter(|(_, a)| !a.is_empty()).collect();
    asks.sort_unstable_by_key(|(w, _)| *w);
    for (w, deps) in asks {
        comm.send_worker(w, ToWorker::AcquireReplicas(deps));
    }
}
