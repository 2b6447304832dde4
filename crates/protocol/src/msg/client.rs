//! Client ↔ scheduler.
//!
//! ```text
//!  client → scheduler                         scheduler → client
//!  update-graph     graph-update              key-in-memory   key varint(nbytes)
//!  release-keys     keys                      key-erred       key failure
//!  cancel-keys      keys bool(force)          key-lost        key
//!  gather           keys                      key-cancelled   key
//!  scatter          key-values                update-refused  str(message)
//!  client-heartbeat (empty)                   gather-reply    key-values keys(missing)
//!  close            (empty)                   scatter-done    keys
//! ```

use std::sync::Arc;

use blockwork_graph::{Key, Value};
use blockwork_scheduler::{GraphUpdate, ToClient};

use super::{
    frame, read_failure, read_key_values, read_update, write_failure, write_key_values, write_update, Message,
};
use crate::error::{EncodeError, ProtocolError};
use crate::frame::Frame;
use crate::kind::{Direction, Kind};
use crate::wire::{Reader, Writer};

/// Client → scheduler.
#[derive(Clone, PartialEq, Debug)]
pub enum ClientToScheduler {
    /// Submit tasks and want keys (`reactor::on_update_graph`).
    UpdateGraph(GraphUpdate),
    /// No longer want these keys (`reactor::on_release_keys`).
    ReleaseKeys(Vec<Key>),
    /// Cancel these keys (`reactor::on_cancel_keys`).
    CancelKeys {
        /// The keys.
        keys: Vec<Key>,
        /// Also for other clients that want them.
        force: bool,
    },
    /// Send me the values of these keys (answered by a gather reply).
    Gather {
        /// The keys, all wanted by this client and in memory.
        keys: Vec<Key>,
    },
    /// Store these values in the cluster under these keys (answered by
    /// scatter-done).
    Scatter {
        /// Keys and their values.
        data: Vec<(Key, Value)>,
    },
    /// Still here.
    Heartbeat,
    /// Goodbye: release everything this client wants.
    Close,
}

/// Scheduler → client.
#[derive(Clone, PartialEq, Debug)]
pub enum SchedulerToClient {
    /// A wanted key changed state (the scheduler's own message).
    KeyState(ToClient),
    /// An update was rejected; nothing of it was applied.
    UpdateRefused {
        /// The scheduler's error, naming the key at fault.
        message: String,
    },
    /// The answer to a gather.
    GatherReply {
        /// The values found.
        data: Vec<(Key, Value)>,
        /// Keys that are not in memory (anymore).
        missing: Vec<Key>,
    },
    /// The values of a scatter are stored.
    ScatterDone {
        /// Their keys.
        keys: Vec<Key>,
    },
}

impl Message for ClientToScheduler {
    fn to_frame(&self) -> Result<Frame, EncodeError> {
        let mut w = Writer::default();
        let kind = match self {
            ClientToScheduler::UpdateGraph(u) => {
                write_update(&mut w, u);
                Kind::UpdateGraph
            }
            ClientToScheduler::ReleaseKeys(keys) => {
                w.keys(keys);
                Kind::ReleaseKeys
            }
            ClientToScheduler::CancelKeys { keys, force } => {
                w.keys(keys);
                w.bool(*force);
                Kind::CancelKeys
            }
            ClientToScheduler::Gather { keys } => {
                w.keys(keys);
                Kind::Gather
            }
            ClientToScheduler::Scatter { data } => {
                write_key_values(&mut w, data)?;
                Kind::Scatter
            }
            ClientToScheduler::Heartbeat => Kind::ClientHeartbeat,
            ClientToScheduler::Close => Kind::Close,
        };
        Ok(frame(kind, w))
    }

    fn from_frame(f: Frame) -> Result<Self, ProtocolError> {
        f.expect(Direction::ClientToScheduler)?;
        let mut r = Reader::new(&f.meta, f.buffers);
        let m = match f.kind {
            Kind::UpdateGraph => ClientToScheduler::UpdateGraph(read_update(&mut r)?),
            Kind::ReleaseKeys => ClientToScheduler::ReleaseKeys(r.keys()?),
            Kind::CancelKeys => ClientToScheduler::CancelKeys { keys: r.keys()?, force: r.bool("force")? },
            Kind::Gather => ClientToScheduler::Gather { keys: r.keys()? },
            Kind::Scatter => ClientToScheduler::Scatter { data: read_key_values(&mut r)? },
            Kind::ClientHeartbeat => ClientToScheduler::Heartbeat,
            _ => ClientToScheduler::Close,
        };
        r.finish(f.kind.name())?;
        Ok(m)
    }
}

impl Message for SchedulerToClient {
    fn to_frame(&self) -> Result<Frame, EncodeError> {
        let mut w = Writer::default();
        let kind = match self {
            SchedulerToClient::KeyState(ToClient::KeyInMemory { key, nbytes }) => {
                w.key(key);
                w.varint(*nbytes);
                Kind::KeyInMemory
            }
            SchedulerToClient::KeyState(ToClient::KeyErred { key, failure }) => {
                w.key(key);
                write_failure(&mut w, failure);
                Kind::KeyErred
            }
            SchedulerToClient::KeyState(ToClient::KeyLost(key)) => {
                w.key(key);
                Kind::KeyLost
            }
            SchedulerToClient::KeyState(ToClient::KeyCancelled(key)) => {
                w.key(key);
                Kind::KeyCancelled
            }
            SchedulerToClient::UpdateRefused { message } => {
                w.str(message);
                Kind::UpdateRefused
            }
            SchedulerToClient::GatherReply { data, missing } => {
                write_key_values(&mut w, data)?;
                w.keys(missing);
                Kind::GatherReply
            }
            SchedulerToClient::ScatterDone { keys } => {
                w.keys(keys);
                Kind::ScatterDone
            }
        };
        Ok(frame(kind, w))
    }

    fn from_frame(f: Frame) -> Result<Self, ProtocolError> {
        f.expect(Direction::SchedulerToClient)?;
        let mut r = Reader::new(&f.meta, f.buffers);
        let m = match f.kind {
            Kind::KeyInMemory => {
                SchedulerToClient::KeyState(ToClient::KeyInMemory { key: r.key()?, nbytes: r.varint("nbytes")? })
            }
            Kind::KeyErred => SchedulerToClient::KeyState(ToClient::KeyErred {
                key: r.key()?,
                failure: Arc::new(read_failure(&mut r)?),
            }),
            Kind::KeyLost => SchedulerToClient::KeyState(ToClient::KeyLost(r.key()?)),
            Kind::KeyCancelled => SchedulerToClient::KeyState(ToClient::KeyCancelled(r.key()?)),
            Kind::UpdateRefused => SchedulerToClient::UpdateRefused { message: r.string("refusal message")? },
            Kind::GatherReply => SchedulerToClient::GatherReply { data: read_key_values(&mut r)?, missing: r.keys()? },
            _ => SchedulerToClient::ScatterDone { keys: r.keys()? },
        };
        r.finish(f.kind.name())?;
        Ok(m)
    }
}
