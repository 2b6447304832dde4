//! Client ↔ scheduler.
//!
//! ```text
//!  client → scheduler                         scheduler → client
//!  update-graph     id graph-update           key-in-memory   key varint(nbytes)
//!  release-keys     keys                      key-erred       key failure
//!  cancel-keys      keys bool(force)          key-lost        key
//!  gather           id keys                   key-cancelled   key
//!  scatter          id key-values             update-refused  id str(message)
//!  client-heartbeat (empty)                   gather-reply    id key-values keys(missing)
//!  close            (empty)                   scatter-done    id keys
//!  adaptive-target  id varint(µs)             adaptive-target-reply id varint(workers) strs(to close)
//!  retire-workers   id strs(workers) varint(n) retired         id strs(retired) count (str str)*(refused)
//!  coordinate       id op                     coordinated     id reply
//!  info             id question               info-reply      id answer
//!  replicate        id keys varint(n)         (info-reply: who holds the keys now)
//!  restart          id                        (info-reply: the scheduler's figures after)
//!  rebalance        id keys strs(workers)     (info-reply: the moves started)
//! ```
//!
//! (`op` and `reply`: see the `coord` module; `question` and `answer`: the
//! `info` module.)
//!
//! `id` (a varint) is the client's number for a request; the answer to it
//! carries the same number, so requests may be answered in any order.

use std::sync::Arc;

use blockwork_graph::{Key, Value};
use blockwork_scheduler::{CoordOp, CoordReply, GraphUpdate, ToClient};

use super::info::{ClusterInfo, InfoRequest};
use super::{
    frame, read_failure, read_key_values, read_strs, read_update, write_failure, write_key_values, write_strs,
    write_update, Message,
};
use crate::error::{EncodeError, ProtocolError};
use crate::frame::Frame;
use crate::kind::{Direction, Kind};
use crate::wire::{Reader, Writer};

/// Client → scheduler.
#[derive(Clone, PartialEq, Debug)]
pub enum ClientToScheduler {
    /// Submit tasks and want keys (`reactor::on_update_graph`); a refusal
    /// answers with the same id.
    UpdateGraph {
        /// The client's number for this update.
        id: u64,
        /// The tasks and wanted keys.
        update: GraphUpdate,
    },
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
        /// The client's number for this request.
        id: u64,
        /// The keys, all wanted by this client and in memory.
        keys: Vec<Key>,
    },
    /// Store these values in the cluster under these keys (answered by
    /// scatter-done, or update-refused).
    Scatter {
        /// The client's number for this request.
        id: u64,
        /// Keys and their values.
        data: Vec<(Key, Value)>,
    },
    /// Still here.
    Heartbeat,
    /// Goodbye: release everything this client wants.
    Close,
    /// How many workers would finish the work in hand within
    /// `target_duration` (`Core::adaptive_target`; answered by an
    /// adaptive-target reply).
    AdaptiveTarget {
        /// The client's number for this request.
        id: u64,
        /// The time the work should take.
        target_duration: std::time::Duration,
    },
    /// Retire workers gracefully (`reactor::on_retire_workers`; answered
    /// by a retired reply once each has left or was refused).
    RetireWorkers {
        /// The client's number for this request.
        id: u64,
        /// The workers, by address or name; when empty, the scheduler
        /// picks `n` (the idle ones holding the least data first).
        workers: Vec<String>,
        /// How many to pick when `workers` is empty.
        n: u64,
    },
    /// A request on a coordination primitive (a variable, queue, lock,
    /// event or semaphore; answered by coordinated, perhaps much later).
    Coordinate {
        /// The client's number for this request.
        id: u64,
        /// The request.
        op: CoordOp,
    },
    /// Copy these results onto `n` running workers (answered by info:
    /// who holds them as the copies start; those not in memory have none).
    Replicate {
        /// The client's number for this request.
        id: u64,
        /// The keys.
        keys: Vec<Key>,
        /// How many workers should hold each.
        n: u64,
    },
    /// Move results so the workers hold about equal bytes (answered by
    /// info: the moves started).
    Rebalance {
        /// The client's number for this request.
        id: u64,
        /// Only these results (none: any).
        keys: Vec<Key>,
        /// Only among these workers, by address or name (none: all).
        workers: Vec<String>,
    },
    /// Reset the cluster: cancel every client's keys (answered by info:
    /// the scheduler's figures after).
    Restart {
        /// The client's number for this request.
        id: u64,
    },
    /// A question about the cluster's state (answered by info).
    Info {
        /// The client's number for this request.
        id: u64,
        /// The question.
        question: InfoRequest,
    },
}

/// Scheduler → client.
#[derive(Clone, PartialEq, Debug)]
pub enum SchedulerToClient {
    /// A wanted key changed state (the scheduler's own message).
    KeyState(ToClient),
    /// An update (or a scatter) was rejected; nothing of it was applied.
    UpdateRefused {
        /// The id of the update.
        id: u64,
        /// The scheduler's error, naming the key at fault.
        message: String,
    },
    /// The answer to a gather.
    GatherReply {
        /// The id of the gather.
        id: u64,
        /// The values found.
        data: Vec<(Key, Value)>,
        /// Keys that are not in memory (anymore).
        missing: Vec<Key>,
    },
    /// The values of a scatter are stored.
    ScatterDone {
        /// The id of the scatter.
        id: u64,
        /// Their keys.
        keys: Vec<Key>,
    },
    /// The answer to an adaptive-target request.
    AdaptiveTarget {
        /// The id of the request.
        id: u64,
        /// The number of workers the work calls for.
        workers: u64,
        /// When fewer than there are: the names of the workers to let go.
        to_close: Vec<String>,
    },
    /// The answer to a retire-workers request.
    Retired {
        /// The id of the request.
        id: u64,
        /// Addresses of the workers retired (their results moved; gone).
        retired: Vec<String>,
        /// Workers not retired (address, why): they run on.
        refused: Vec<(String, String)>,
    },
    /// The answer to a coordination request.
    Coordinated {
        /// The id of the request.
        id: u64,
        /// The answer.
        reply: CoordReply,
    },
    /// The answer to a question about the cluster's state.
    Info {
        /// The id of the request.
        id: u64,
        /// The answer.
        info: ClusterInfo,
    },
}

impl Message for ClientToScheduler {
    fn to_frame(&self) -> Result<Frame, EncodeError> {
        let mut w = Writer::default();
        let kind = match self {
            ClientToScheduler::UpdateGraph { id, update } => {
                w.varint(*id);
                write_update(&mut w, update);
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
            ClientToScheduler::Gather { id, keys } => {
                w.varint(*id);
                w.keys(keys);
                Kind::Gather
            }
            ClientToScheduler::Scatter { id, data } => {
                w.varint(*id);
                write_key_values(&mut w, data)?;
                Kind::Scatter
            }
            ClientToScheduler::Heartbeat => Kind::ClientHeartbeat,
            ClientToScheduler::Close => Kind::Close,
            ClientToScheduler::AdaptiveTarget { id, target_duration } => {
                w.varint(*id);
                w.varint(target_duration.as_micros().min(u128::from(u64::MAX)) as u64);
                Kind::AdaptiveTarget
            }
            ClientToScheduler::RetireWorkers { id, workers, n } => {
                w.varint(*id);
                write_strs(&mut w, workers);
                w.varint(*n);
                Kind::RetireWorkers
            }
            ClientToScheduler::Coordinate { id, op } => {
                w.varint(*id);
                super::coord::write_op(&mut w, op)?;
                Kind::Coordinate
            }
            ClientToScheduler::Replicate { id, keys, n } => {
                w.varint(*id);
                w.keys(keys);
                w.varint(*n);
                Kind::Replicate
            }
            ClientToScheduler::Restart { id } => {
                w.varint(*id);
                Kind::Restart
            }
            ClientToScheduler::Rebalance { id, keys, workers } => {
                w.varint(*id);
                w.keys(keys);
                write_strs(&mut w, workers);
                Kind::Rebalance
            }
            ClientToScheduler::Info { id, question } => {
                w.varint(*id);
                super::info::write_request(&mut w, question);
                Kind::Info
            }
        };
        Ok(frame(kind, w))
    }

    fn from_frame(f: Frame) -> Result<Self, ProtocolError> {
        f.expect(Direction::ClientToScheduler)?;
        let mut r = Reader::new(&f.meta, f.buffers);
        let m = match f.kind {
            Kind::UpdateGraph => {
                ClientToScheduler::UpdateGraph { id: r.varint("update id")?, update: read_update(&mut r)? }
            }
            Kind::ReleaseKeys => ClientToScheduler::ReleaseKeys(r.keys()?),
            Kind::CancelKeys => ClientToScheduler::CancelKeys { keys: r.keys()?, force: r.bool("force")? },
            Kind::Gather => ClientToScheduler::Gather { id: r.varint("gather id")?, keys: r.keys()? },
            Kind::Scatter => ClientToScheduler::Scatter { id: r.varint("scatter id")?, data: read_key_values(&mut r)? },
            Kind::ClientHeartbeat => ClientToScheduler::Heartbeat,
            Kind::AdaptiveTarget => ClientToScheduler::AdaptiveTarget {
                id: r.varint("adaptive-target id")?,
                target_duration: std::time::Duration::from_micros(r.varint("target duration")?),
            },
            Kind::RetireWorkers => ClientToScheduler::RetireWorkers {
                id: r.varint("retire-workers id")?,
                workers: read_strs(&mut r, "workers to retire")?,
                n: r.varint("number of workers to retire")?,
            },
            Kind::Coordinate => {
                ClientToScheduler::Coordinate { id: r.varint("coordinate id")?, op: super::coord::read_op(&mut r)? }
            }
            Kind::Restart => ClientToScheduler::Restart { id: r.varint("restart id")? },
            Kind::Rebalance => ClientToScheduler::Rebalance {
                id: r.varint("rebalance id")?,
                keys: r.keys()?,
                workers: read_strs(&mut r, "workers")?,
            },
            Kind::Replicate => ClientToScheduler::Replicate {
                id: r.varint("replicate id")?,
                keys: r.keys()?,
                n: r.varint("replica count")?,
            },
            Kind::Info => {
                ClientToScheduler::Info { id: r.varint("info id")?, question: super::info::read_request(&mut r)? }
            }
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
            SchedulerToClient::UpdateRefused { id, message } => {
                w.varint(*id);
                w.str(message);
                Kind::UpdateRefused
            }
            SchedulerToClient::GatherReply { id, data, missing } => {
                w.varint(*id);
                write_key_values(&mut w, data)?;
                w.keys(missing);
                Kind::GatherReply
            }
            SchedulerToClient::ScatterDone { id, keys } => {
                w.varint(*id);
                w.keys(keys);
                Kind::ScatterDone
            }
            SchedulerToClient::AdaptiveTarget { id, workers, to_close } => {
                w.varint(*id);
                w.varint(*workers);
                write_strs(&mut w, to_close);
                Kind::AdaptiveTargetReply
            }
            SchedulerToClient::Retired { id, retired, refused } => {
                w.varint(*id);
                write_strs(&mut w, retired);
                w.len(refused.len());
                for (a, why) in refused {
                    w.str(a);
                    w.str(why);
                }
                Kind::Retired
            }
            SchedulerToClient::Coordinated { id, reply } => {
                w.varint(*id);
                super::coord::write_reply(&mut w, reply)?;
                Kind::Coordinated
            }
            SchedulerToClient::Info { id, info } => {
                w.varint(*id);
                super::info::write_answer(&mut w, info);
                Kind::InfoReply
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
            Kind::UpdateRefused => {
                SchedulerToClient::UpdateRefused { id: r.varint("update id")?, message: r.string("refusal message")? }
            }
            Kind::GatherReply => SchedulerToClient::GatherReply {
                id: r.varint("gather id")?,
                data: read_key_values(&mut r)?,
                missing: r.keys()?,
            },
            Kind::AdaptiveTargetReply => {
                let id = r.varint("adaptive-target id")?;
                let workers = r.varint("worker count")?;
                let to_close = read_strs(&mut r, "workers to close")?;
                SchedulerToClient::AdaptiveTarget { id, workers, to_close }
            }
            Kind::Retired => {
                let id = r.varint("retired id")?;
                let retired = read_strs(&mut r, "retired workers")?;
                let n = r.count("refused workers")?;
                let refused = (0..n)
                    .map(|_| Ok((r.string("worker address")?, r.string("refusal")?)))
                    .collect::<Result<_, _>>()?;
                SchedulerToClient::Retired { id, retired, refused }
            }
            Kind::Coordinated => SchedulerToClient::Coordinated {
                id: r.varint("coordinated id")?,
                reply: super::coord::read_reply(&mut r)?,
            },
            Kind::InfoReply => {
                SchedulerToClient::Info { id: r.varint("info id")?, info: super::info::read_answer(&mut r)? }
            }
            _ => SchedulerToClient::ScatterDone { id: r.varint("scatter id")?, keys: r.keys()? },
        };
        r.finish(f.kind.name())?;
        Ok(m)
    }
}
