//! Scattered data: values a client stored on a worker directly.
//!
//! A scattered key is a task with no recipe (flagged `scattered`): it is in
//! memory on the worker the value was stored on, wanted by the client
//! that scattered it, and usable as an input by any later task. Having no
//! recipe, it cannot be recomputed: when its last copy is lost (its worker
//! died) or it is needed again after being released, it errs with a
//! failure that says so, and so does every task waiting for it.

use std::sync::Arc;

use blockwork_graph::{ErrorKind, Key};
use smallvec::smallvec;

use crate::comm::{Comm, ToClient};
use crate::core::Core;
use crate::error::SchedError;
use crate::ids::{ClientId, TaskId, WorkerId};
use crate::task::{FailureKind, TaskFailure, TaskState};
use crate::update::TaskSpec;

impl Core {
    /// The worker to store scattered values on: the live one holding the
    /// fewest bytes per thread.
    pub fn scatter_target(&self) -> Option<WorkerId> {
        self.running_workers()
            .min_by(|(_, a), (_, b)| {
                let (a, b) = (a.nbytes as u128 * u128::from(b.nthreads), b.nbytes as u128 * u128::from(a.nthreads));
                a.cmp(&b)
            })
            .map(|(w, _)| w)
    }

    /// Whether `key` may be scattered: it is unknown, or already in memory
    /// (another copy). A key being computed or erred may not.
    pub fn check_scatter(&self, key: &Key) -> Result<(), SchedError> {
        match self.id_of(key).map(|t| &self.t(t).state) {
            None | Some(TaskState::Memory { .. }) => Ok(()),
            Some(_) => Err(SchedError::ScatterKnownKey(key.clone())),
        }
    }

    /// `worker` stores `data` (key, size) for `client`: each key becomes
    /// (or gains a copy) in memory there, wanted by the client. Checked
    /// first; on error nothing changed.
    pub(crate) fn scattered(
        &mut self,
        client: ClientId,
        worker: WorkerId,
        data: &[(Key, u64)],
        comm: &mut dyn Comm,
    ) -> Result<(), SchedError> {
        if self.clients.get(client.idx()).and_then(Option::as_ref).is_none() {
            return Err(SchedError::UnknownClient(client));
        }
        if self.worker_info(worker).is_none() {
            return Err(SchedError::UnknownWorker(worker));
        }
        for (key, _) in data {
            self.check_scatter(key)?;
        }
        for (key, nbytes) in data {
            let t = match self.id_of(key) {
                Some(t) => {
                    self.add_copy(t, worker);
                    t
                }
                None => {
                    let spec = TaskSpec::new(key.clone(), Vec::new(), 0, Arc::from(&[][..]));
                    let t = self.new_task(&spec, smallvec![], None);
                    self.tm(t).scattered = true;
                    self.set_state(t, TaskState::Memory { who_has: smallvec![worker], nbytes: *nbytes });
                    let wk = self.worker_mut(worker).expect("checked");
                    wk.has_what.insert(t);
                    wk.nbytes += nbytes;
                    t
                }
            };
            self.want(client, t, comm);
        }
        Ok(())
    }

    /// Adds `worker` to the holders of `t`, which is in memory; the size
    /// is the one the first holder reported.
    pub(crate) fn add_copy(&mut self, t: TaskId, worker: WorkerId) {
        let TaskState::Memory { who_has, nbytes } = &mut self.tm(t).state else { unreachable!("a copy of {t}") };
        if who_has.contains(&worker) {
            return;
        }
        who_has.push(worker);
        let nbytes = *nbytes;
        let wk = self.worker_mut(worker).expect("a live worker");
        wk.has_what.insert(t);
        wk.nbytes += nbytes;
    }

    /// Whether `t` has no recipe: its value was scattered.
    pub(crate) fn is_scattered(&self, t: TaskId) -> bool {
        self.t(t).scattered
    }

    /// A scattered `t` must be recomputed, which it cannot be: it errs.
    pub(crate) fn scattered_lost(&mut self, t: TaskId, comm: &mut dyn Comm) {
        let key = self.t(t).key.clone();
        let message = format!("the scattered value of {key} was lost with the worker that held it; scatter it again");
        let failure = Arc::new(TaskFailure {
            key,
            message: message.into(),
            kind: FailureKind::Error,
            fault: ErrorKind::Environment,
        });
        self.fail(t, failure, comm);
    }

    /// `client` wants `t`: it hears at once if `t` is in memory or erred.
    pub(crate) fn want(&mut self, client: ClientId, t: TaskId, comm: &mut dyn Comm) {
        let cl = self.clients[client.idx()].as_mut().expect("a connected client");
        if cl.wants.insert(t) {
            self.tm(t).who_wants.push(client);
            self.dirty.push(t);
        }
        let task = self.t(t);
        match &task.state {
            TaskState::Memory { nbytes, .. } => {
                comm.send_client(client, ToClient::KeyInMemory { key: task.key.clone(), nbytes: *nbytes })
            }
            TaskState::Erred(f) => {
                comm.send_client(client, ToClient::KeyErred { key: task.key.clone(), failure: f.clone() })
            }
            _ => {}
        }
    }
}
