//! Copies of results on more workers (Dask's `replicate`): for results
//! many tasks will read, or that must survive the loss of a worker.
//!
//! Each result in memory on fewer than `n` running workers is fetched by
//! as many more, those holding the fewest bytes first (counting the copies
//! planned in the same pass), which fetch it straight from a holder
//! (`ToWorker::AcquireReplicas`, as retirement does) and report it with
//! `add-keys`. Retiring workers neither give nor take copies. The request
//! returns at once; the copies arrive as the workers fetch them.

use blockwork_graph::Key;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::comm::{Comm, DepInfo, Holder, ToWorker};
use crate::core::Core;
use crate::ids::WorkerId;
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
            let Some(t) = self.id_of(key) else {
                missing.push(key.clone());
                continue;
            };
            let TaskState::Memory { who_has, nbytes } = &self.t(t).state else {
                missing.push(key.clone());
                continue;
            };
            let holders: SmallVec<[Holder; 2]> = who_has
                .iter()
                .filter_map(|&h| self.worker(h).map(|wk| Holder { worker: h, address: wk.address.clone() }))
                .collect();
            let want = n.min(targets.len()).saturating_sub(who_has.len());
            if want == 0 {
                continue;
            }
            targets.sort_unstable();
            let mut planned = 0;
            for (bytes, w) in targets.iter_mut() {
                if planned == want {
                    break;
                }
                if who_has.contains(w) {
                    continue;
                }
                *bytes += nbytes;
                planned += 1;
                let dep = DepInfo { key: key.clone(), nbytes: *nbytes, who_has: holders.clone() };
                asks.entry(*w).or_default().push(dep);
            }
        }
        let mut asks: Vec<_> = asks.into_iter().collect();
        asks.sort_unstable_by_key(|(w, _)| *w);
        for (w, deps) in asks {
            comm.send_worker(w, ToWorker::AcquireReplicas(deps));
        }
        missing
    }
}
