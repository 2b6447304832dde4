//! Root-task queuing.
//!
//! Root tasks (no inputs, or one of a large group with a few small
//! inputs, like the blocks of `random(…)` sharing a seed) would all be
//! ready at once. Handing them all to workers floods the workers with
//! inputs that nothing consumes yet: memory fills with roots while the
//! reductions that would free them wait behind. So ready roots are held
//! in a scheduler-side priority queue, and a worker is given one only
//! while it has fewer than `ceil(nthreads × saturation)` tasks
//! processing. As a worker finishes tasks, it gets the best queued roots,
//! so roots run in the graph's order, just ahead of their consumers.
//!
//! Invariant: while the queue is not empty, no running worker has room.
//! [`Core::process`] ends with [`Core::fill_queue`] to keep it so.

use crate::comm::Comm;
use crate::core::Core;
use crate::ids::{TaskId, WorkerId};

/// Inputs a root-ish task may have (and size of their groups) at most.
const ROOTISH_MAX_DEPS: usize = 4;

impl Core {
    /// Whether `t` is a root to queue: it needs no resources and may run
    /// anywhere, and has no
    /// dependencies or belongs to a group larger than
    /// `rootish_group_factor ×` the cluster's threads with few inputs from
    /// small groups.
    pub(crate) fn is_rootish(&self, t: TaskId) -> bool {
        let task = self.t(t);
        if task.resources.is_some() || task.restrict.is_some() {
            return false;
        }
        if task.deps.is_empty() {
            return true;
        }
        let big = u64::from(self.group_size(t)) > u64::from(self.config.rootish_group_factor) * self.total_nthreads;
        big && task.deps.len() <= ROOTISH_MAX_DEPS
            && task.deps.iter().all(|&d| self.group_size(d) as usize <= ROOTISH_MAX_DEPS)
    }

    /// The running worker with the most room for queued roots (fewest
    /// processing per thread), if any has room.
    fn worker_with_room(&self) -> Option<WorkerId> {
        let mut best: Option<(usize, u32, WorkerId)> = None;
        for (w, wk) in self.running_workers() {
            let n = wk.processing.len();
            if n >= self.slots(wk) {
                continue;
            }
            // n / nthreads < bn / bthreads, compared without division.
            let better = match best {
                None => true,
                Some((bn, bthreads, _)) => n * (bthreads as usize) < bn * (wk.nthreads as usize),
            };
            if better {
                best = Some((n, wk.nthreads, w));
            }
        }
        best.map(|(_, _, w)| w)
    }

    /// Hands queued roots, best first, to workers with room.
    pub(crate) fn fill_queue(&mut self, comm: &mut dyn Comm) {
        while let Some(&(_, t)) = self.queue.first() {
            let Some(w) = self.worker_with_room() else { break };
            self.queue.pop_first();
            self.assign(t, w, comm);
        }
    }
}
