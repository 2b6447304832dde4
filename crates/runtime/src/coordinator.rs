//! The scheduler's side of the coordination primitives: the loop hands
//! requests, ticks and departed clients to [`Coord`] and carries out what
//! it decides.
//!
//! Keys held by variables and queues are wanted by a client of the
//! scheduler's own, opened when the loop starts and never closed: the core
//! keeps their results, and recomputes them when a worker holding one is
//! lost, exactly as for a user's future. A key handed out (a variable's
//! future read, a queue item taken) is wanted by its receiver right after
//! the answer is posted — the client's tracker takes the keys of an answer
//! before the key's state arrives — and only then released by the
//! scheduler's own client.

use std::time::Duration;

use blockwork_protocol::SchedulerToClient;
use blockwork_scheduler::{reactor, ClientId, Coord, CoordOp, CoordOut, CoordReply, Core, Held};

use crate::conn::post;
use crate::scheduler::Outboxes;

/// The primitives and the client that holds their keys.
pub(crate) struct Coordinator {
    state: Coord,
    holder: ClientId,
}

impl Coordinator {
    /// Opens the holding client in `core`.
    pub(crate) fn new(core: &mut Core) -> Coordinator {
        Coordinator { state: Coord::default(), holder: reactor::on_client_connected(core) }
    }

    /// Request `id` of `client`. A future the scheduler does not know
    /// (released already, or of another cluster) is refused.
    pub(crate) fn on_request(
        &mut self,
        core: &mut Core,
        comm: &mut Outboxes,
        now: Duration,
        client: ClientId,
        id: u64,
        op: CoordOp,
    ) {
        let mut out = CoordOut::default();
        match op.keys().into_iter().find(|k| core.state_of(k).is_none()) {
            Some(key) => {
                let why =
                    format!("the future {key} is not known to the scheduler (released already, or of another cluster)");
                out.replies.push((client, id, CoordReply::Refused(why)));
            }
            _ => self.state.on_request(client, id, op, now, &mut out),
        }
        self.apply(core, comm, out);
    }

    /// Answers the requests whose timeout passed.
    pub(crate) fn on_tick(&mut self, core: &mut Core, comm: &mut Outboxes, now: Duration) {
        let mut out = CoordOut::default();
        self.state.on_tick(now, &mut out);
        self.apply(core, comm, out);
    }

    /// The cluster was reset: every client's keys are cancelled
    /// ([`reactor::on_restart`]), and the primitives let go of theirs.
    pub(crate) fn on_restart(&mut self, core: &mut Core, comm: &mut Outboxes) {
        let mut out = CoordOut::default();
        self.state.forget_keys(&mut out);
        reactor::on_restart(core, comm);
        self.apply(core, comm, out);
    }

    /// `client` left: its locks and leases pass on.
    pub(crate) fn on_client_gone(&mut self, core: &mut Core, comm: &mut Outboxes, client: ClientId) {
        let mut out = CoordOut::default();
        self.state.on_client_gone(client, &mut out);
        self.apply(core, comm, out);
    }

    /// Posts the answers (each receiver then wants the keys it was
    /// handed), holds the new keys, and only then lets go of the old.
    fn apply(&mut self, core: &mut Core, comm: &mut Outboxes, out: CoordOut) {
        for (client, id, reply) in out.replies {
            let keys: Vec<_> = match &reply {
                CoordReply::Held(items) => items
                    .iter()
                    .filter_map(|h| match h {
                        Held::Key(k) => Some(k.clone()),
                        Held::Value(_) => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if let Some(o) = comm.clients.get(&client) {
                post(o, &SchedulerToClient::Coordinated { id, reply }, "a client");
            }
            if !keys.is_empty() {
                reactor::on_want_keys(core, comm, client, &keys);
            }
        }
        if !out.hold.is_empty() {
            reactor::on_want_keys(core, comm, self.holder, &out.hold);
        }
        if !out.release.is_empty() {
            reactor::on_release_keys(core, comm, self.holder, &out.release);
        }
    }
}
