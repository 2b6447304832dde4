//! Fetching inputs from peers: the fetch queue, transfers, failures.
//!
//! A key to fetch is queued once, by the priority of its most urgent
//! dependent, globally and under each of its holders. A free transfer
//! slot goes to the most urgent key that has a holder with no transfer in
//! flight and not busy; that holder is asked for it and for its next most
//! urgent keys, up to `transfer_bytes`. A key a holder fails to give is
//! asked of the next holder; only when none is left is each task needing
//! it given up and reported to the scheduler as a failed fetch.

use std::time::Duration;

use blockwork_graph::Key;
use blockwork_scheduler::{DepInfo, Priority, WorkerId};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use crate::port::{Finished, Instruction, Port, ToScheduler};
use crate::state::{Transfer, WorkerState};
use crate::task::{TaskState, Tid};

/// Copies the scheduler asks for come after every input of a task.
const REPLICA_PRIORITY: Priority = Priority(u64::MAX);

impl WorkerState {
    /// Queues `t` for fetching (its state becomes `Fetch`).
    pub(crate) fn enqueue_fetch(&mut self, t: Tid, priority: Priority) {
        self.set_state(t, TaskState::Fetch { priority });
        self.fetch.insert((priority, t));
        for &h in &self.tasks[t.idx()].as_ref().expect("live").who_has {
            self.by_peer.entry(h).or_default().insert((priority, t));
        }
    }

    /// Takes `t` out of the fetch queues if it is queued (its state is left
    /// for the caller to change).
    pub(crate) fn dequeue_fetch(&mut self, t: Tid) {
        let task = self.tasks[t.idx()].as_ref().expect("live");
        let TaskState::Fetch { priority } = task.state else { return };
        self.fetch.remove(&(priority, t));
        for h in &task.who_has {
            if let Some(q) = self.by_peer.get_mut(h) {
                q.remove(&(priority, t));
                if q.is_empty() {
                    self.by_peer.remove(h);
                }
            }
        }
    }

    /// Adds a holder of `t` (a no-op if known).
    pub(crate) fn add_holder(&mut self, t: Tid, h: WorkerId) {
        let task = self.tm(t);
        if task.who_has.contains(&h) {
            return;
        }
        task.who_has.push(h);
        if let TaskState::Fetch { priority } = task.state {
            self.by_peer.entry(h).or_default().insert((priority, t));
        }
    }

    /// The priority to fetch `t` at: the most urgent local task reading
    /// it, else (a copy the scheduler asked for) after every task input.
    pub(crate) fn fetch_priority(&self, t: Tid) -> Priority {
        self.t(t)
            .dependents
            .iter()
            .filter_map(|&d| self.t(d).state.run().map(|r| r.priority))
            .min()
            .unwrap_or(REPLICA_PRIORITY)
    }

    /// The scheduler asks for copies of results (a worker it retires holds
    /// them): each is fetched from its holders and kept, and reported with
    /// `AddKeys` once here. A value already in memory is kept and
    /// reported at once; a key already being fetched for a local task is
    /// kept when it arrives; a key this worker is computing is left alone
    /// (the scheduler hears of it when it finishes). A copy that cannot be
    /// fetched is given up quietly: the scheduler asks again.
    pub fn on_acquire_replicas(&mut self, port: &mut impl Port, deps: Vec<DepInfo>) {
        for info in deps {
            let holders: SmallVec<[_; 2]> = info.who_has.iter().filter(|h| h.worker != self.id).collect();
            for h in &holders {
                self.addresses.entry(h.worker).or_insert_with(|| h.address.clone());
            }
            match self.id_of(&info.key) {
                Some(t) => match &mut self.tm(t).state {
                    TaskState::Memory { held } => {
                        *held = true;
                        self.add_keys.push(info.key);
                    }
                    TaskState::Fetch { .. } | TaskState::Flight { .. } => {
                        self.tm(t).replica = true;
                        for h in &holders {
                            self.add_holder(t, h.worker);
                        }
                    }
                    _ => {}
                },
                None if holders.is_empty() => {}
                None => {
                    let t = self.insert(info.key, TaskState::Fetch { priority: REPLICA_PRIORITY });
                    let task = self.tm(t);
                    task.nbytes = info.nbytes;
                    task.who_has = holders.iter().map(|h| h.worker).collect();
                    task.replica = true;
                    self.enqueue_fetch(t, REPLICA_PRIORITY);
                }
            }
        }
        self.settle(port);
    }

    fn available(&self, h: WorkerId) -> bool {
        !self.transfers.contains_key(&h) && !self.busy.contains_key(&h)
    }

    /// Starts transfers while slots are free and some key has an idle
    /// holder.
    pub(crate) fn ensure_fetching(&mut self, port: &mut impl Port) {
        while self.transfers.len() < self.config.max_concurrent_fetches as usize {
            let peer =
                self.fetch.iter().find_map(|&(_, t)| self.t(t).who_has.iter().copied().find(|&h| self.available(h)));
            let Some(peer) = peer else { break };
            let mut keys: Vec<Tid> = Vec::new();
            let mut bytes = 0;
            for &(_, t) in &self.by_peer[&peer] {
                let nbytes = self.t(t).nbytes;
                if !keys.is_empty() && bytes + nbytes > self.config.transfer_bytes {
                    break;
                }
                bytes += nbytes;
                keys.push(t);
            }
            let mut names = Vec::with_capacity(keys.len());
            for &t in &keys {
                self.dequeue_fetch(t);
                self.set_state(t, TaskState::Flight { from: peer, compute: None });
                names.push(self.t(t).key.clone());
            }
            self.transfers.insert(peer, Transfer { keys });
            let address = self.addresses[&peer].clone();
            port.instruct(Instruction::Fetch { peer, address, keys: names });
        }
    }

    /// A transfer from `peer` completed: `data` was stored; what the peer
    /// did not send is asked of the next holder.
    pub fn on_fetch_done(&mut self, port: &mut impl Port, peer: WorkerId, data: &[(Key, u64)], missing: &[Key]) {
        let _ = missing; // whatever did not come counts as missing
        let transfer = self.transfers.remove(&peer);
        let got: FxHashMap<&Key, u64> = data.iter().map(|(k, n)| (k, *n)).collect();
        let mut used = 0;
        for t in transfer.map(|tr| tr.keys).unwrap_or_default() {
            let key = self.t(t).key.clone();
            match got.get(&key) {
                Some(&nbytes) => {
                    used += 1;
                    self.arrived(port, t, nbytes);
                }
                None => self.failed_from(port, t, peer),
            }
        }
        if used < data.len() {
            // Stored, but not asked of this peer (a stale answer).
            for (key, _) in data {
                let ours = self.id_of(key).is_some_and(|t| matches!(self.t(t).state, TaskState::Memory { .. }));
                if !ours {
                    port.instruct(Instruction::DropData(key.clone()));
                }
            }
        }
        self.settle(port);
    }

    /// A value in flight arrived.
    fn arrived(&mut self, port: &mut impl Port, t: Tid, nbytes: u64) {
        let TaskState::Flight { compute, .. } =
            std::mem::replace(&mut self.tm(t).state, TaskState::Memory { held: false })
        else {
            unreachable!()
        };
        let key = self.t(t).key.clone();
        if compute.is_some() {
            self.store_value(t, nbytes, true);
            port.to_scheduler(ToScheduler::TaskFinished(Finished { key, nbytes, duration: Duration::ZERO }));
        } else if !self.t(t).dependents.is_empty() || self.t(t).replica {
            self.tm(t).replica = false;
            self.store_value(t, nbytes, true);
            self.add_keys.push(key);
        } else {
            port.instruct(Instruction::DropData(key));
            self.forget(t);
        }
    }

    /// `peer` did not give `t` (in flight from it).
    fn failed_from(&mut self, port: &mut impl Port, t: Tid, peer: WorkerId) {
        let task = self.tm(t);
        task.who_has.retain(|h| *h != peer);
        let TaskState::Flight { compute, .. } = std::mem::replace(&mut task.state, TaskState::Memory { held: false })
        else {
            unreachable!()
        };
        self.after_flight(port, t, compute, peer);
    }

    /// `t` left flight without its value (state taken).
    fn after_flight(
        &mut self,
        port: &mut impl Port,
        t: Tid,
        compute: Option<Box<blockwork_scheduler::ComputeTask>>,
        last: WorkerId,
    ) {
        if let Some(ct) = compute {
            // The scheduler asked for it: make it here instead.
            self.start_compute(port, Some(t), *ct);
        } else if self.t(t).dependents.is_empty() && !self.t(t).replica {
            self.forget(t);
        } else if self.t(t).who_has.is_empty() {
            self.no_holders(port, t, last);
        } else {
            let priority = self.fetch_priority(t);
            self.enqueue_fetch(t, priority);
        }
    }

    /// No holder is left for `t` (out of every queue): each local task
    /// needing it is given up and reported as a failed fetch naming
    /// `last`, the last holder tried; `t` is forgotten.
    pub(crate) fn no_holders(&mut self, port: &mut impl Port, t: Tid, last: WorkerId) {
        let dependents: Vec<Tid> = {
            let mut d: Vec<Tid> = self.tm(t).dependents.drain().collect();
            d.sort_unstable();
            d
        };
        let dep = self.t(t).key.clone();
        self.forget(t);
        for d in dependents {
            if !self.is_live(d) {
                continue;
            }
            let key = self.t(d).key.clone();
            port.to_scheduler(ToScheduler::FetchFailed { key, dep: dep.clone(), holder: last });
            self.release_compute(port, d);
        }
    }

    /// A transfer from `peer` failed: the peer is taken off the holders of
    /// every key to fetch, and its keys are asked of the next holder.
    pub fn on_fetch_failed(&mut self, port: &mut impl Port, peer: WorkerId) {
        if let Some(tr) = self.transfers.remove(&peer) {
            for t in tr.keys {
                self.failed_from(port, t, peer);
            }
        }
        if let Some(queued) = self.by_peer.remove(&peer) {
            for (priority, t) in queued {
                // Handling an earlier key may have released this one (its
                // only reader gave up): then it left the fetch queue too.
                if !self.fetch.remove(&(priority, t)) {
                    continue;
                }
                let task = self.tm(t);
                task.who_has.retain(|h| *h != peer);
                if task.who_has.is_empty() {
                    self.no_holders(port, t, peer);
                } else {
                    // Re-queue under the remaining holders (same priority).
                    self.dequeue_fetch(t);
                    self.enqueue_fetch(t, priority);
                }
            }
        }
        self.settle(port);
    }

    /// `peer` is busy: its keys go back to the queue and it is left alone
    /// until `busy_backoff` has passed (seen at a tick).
    pub fn on_peer_busy(&mut self, port: &mut impl Port, now: Duration, peer: WorkerId) {
        if let Some(tr) = self.transfers.remove(&peer) {
            self.busy.insert(peer, now + self.config.busy_backoff);
            for t in tr.keys {
                let TaskState::Flight { compute, .. } =
                    std::mem::replace(&mut self.tm(t).state, TaskState::Memory { held: false })
                else {
                    unreachable!()
                };
                self.after_flight(port, t, compute, peer);
            }
        }
        self.settle(port);
    }

    /// Time passes: busy peers whose backoff is over may be asked again.
    pub fn on_tick(&mut self, port: &mut impl Port, now: Duration) {
        self.busy.retain(|_, until| *until > now);
        self.settle(port);
    }
}
