//! Worker ↔ scheduler.
//!
//! ```text
//!  worker → scheduler                                   scheduler → worker
//!  register         worker-spec                         registered     varint(worker id)
//!  task-finished    key varint(nbytes) duration          compute        compute
//!  task-erred       key str(message) origin u8(fault)   free-keys      keys
//!  fetch-failed     key key(dep) varint(holder id)      cancel-compute key
//!  steal-response   key varint(steal id) u8(outcome)    steal-request  key varint(steal id)
//!  add-keys         keys                                acquire-replicas count dep*
//!  worker-heartbeat memory                              close-worker   str(reason)
//!  retire-me        (empty)
//!  worker-events    f64(cpu) count (u8(kind) varint(peer) varint(nbytes) varint(µs ago) varint(µs took))*
//!                   count (f64(seconds since the epoch) str(line))*
//! ```
//!
//! `duration` is varint seconds then varint nanoseconds (< 10⁹);
//! `outcome` is 0 released, 1 refused.

use blockwork_scheduler::{MemoryReport, StealId, StealOutcome, ToWorker, WorkerId, WorkerSpec};
use blockwork_worker::{Erred, Finished, ToScheduler};

use super::{
    frame, read_compute, read_deps, read_error_kind, read_memory, read_worker_spec, write_compute, write_deps,
    write_memory, write_worker_spec, Message,
};
use crate::error::{EncodeError, ProtocolError};
use crate::frame::Frame;
use crate::kind::{Direction, Kind};
use crate::wire::{Reader, Writer};

/// Worker → scheduler.
#[derive(Clone, PartialEq, Debug)]
pub enum WorkerToScheduler {
    /// The first message after the handshake (`reactor::on_worker_joined`).
    Register(WorkerSpec),
    /// What the worker's state machine tells the scheduler.
    Report(ToScheduler),
    /// Still alive, holding this much (`reactor::on_heartbeat`).
    Heartbeat(MemoryReport),
    /// Retire me (`reactor::on_retire_workers`): the worker is told to
    /// stop (SIGTERM, its lifetime is over) and asks for its results to
    /// move first. A close-worker answers.
    RetireMe,
    /// What it did besides tasks since the last report (its CPU use,
    /// transfers from peers, spilling, its log lines), for the dashboard.
    Events(WorkerActivity),
}

/// What a worker reports for the dashboard with each heartbeat.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct WorkerActivity {
    /// CPU used since the last report, in cores (1.5: one and a half
    /// cores busy on average).
    pub cpu: f64,
    /// Transfers and spills since the last report.
    pub events: Vec<WorkerEvent>,
    /// Its log lines since the last report, oldest first.
    pub logs: Vec<LogLine>,
}

/// One line of a worker's log.
#[derive(Clone, PartialEq, Debug)]
pub struct LogLine {
    /// When, in seconds since the Unix epoch (the worker's clock).
    pub at: f64,
    /// What it said.
    pub text: String,
}

/// What a worker did besides running tasks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WorkerEventKind {
    /// Values fetched from a peer.
    Transfer,
    /// Values written to disk.
    Spill,
}

/// One thing a worker did besides running a task, timed by its own clock:
/// it ended `ago` before the report was sent and took `took`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WorkerEvent {
    /// What it was.
    pub kind: WorkerEventKind,
    /// The peer of a transfer (0 for a spill).
    pub peer: u32,
    /// Bytes moved.
    pub nbytes: u64,
    /// How long before the report it ended.
    pub ago: std::time::Duration,
    /// How long it took.
    pub took: std::time::Duration,
}

/// Scheduler → worker.
#[derive(Clone, PartialEq, Debug)]
pub enum SchedulerToWorker {
    /// The answer to a register: the worker's id in this cluster (peers'
    /// ids in compute requests are of the same kind).
    Registered {
        /// The id.
        id: WorkerId,
    },
    /// What the scheduler's state machine asks of the worker.
    Request(ToWorker),
    /// Stop now: the worker was retired (or asked to go); `reason` says
    /// how it went, for its log.
    Close {
        /// Why.
        reason: String,
    },
}

impl Message for WorkerToScheduler {
    fn to_frame(&self) -> Result<Frame, EncodeError> {
        let mut w = Writer::default();
        let kind = match self {
            WorkerToScheduler::Register(spec) => {
                write_worker_spec(&mut w, spec);
                Kind::Register
            }
            WorkerToScheduler::Heartbeat(m) => {
                write_memory(&mut w, m);
                Kind::WorkerHeartbeat
            }
            WorkerToScheduler::RetireMe => Kind::RetireMe,
            WorkerToScheduler::Events(WorkerActivity { cpu, events, logs }) => {
                w.f64(*cpu);
                w.len(events.len());
                for e in events {
                    w.u8(match e.kind {
                        WorkerEventKind::Transfer => 0,
                        WorkerEventKind::Spill => 1,
                    });
                    w.varint(u64::from(e.peer));
                    w.varint(e.nbytes);
                    w.varint(e.ago.as_micros().min(u128::from(u64::MAX)) as u64);
                    w.varint(e.took.as_micros().min(u128::from(u64::MAX)) as u64);
                }
                w.len(logs.len());
                for line in logs {
                    w.f64(line.at);
                    w.str(&line.text);
                }
                Kind::WorkerEvents
            }
            WorkerToScheduler::Report(ToScheduler::TaskFinished(Finished { key, nbytes, duration })) => {
                w.key(key);
                w.varint(*nbytes);
                w.duration(*duration);
                Kind::TaskFinished
            }
            WorkerToScheduler::Report(ToScheduler::TaskErred(Erred { key, message, origin, kind })) => {
                w.key(key);
                w.str(message);
                match origin {
                    None => w.u8(0),
                    Some(o) => {
                        w.u8(1);
                        w.key(o);
                    }
                }
                w.u8(kind.code());
                Kind::TaskErred
            }
            WorkerToScheduler::Report(ToScheduler::FetchFailed { key, dep, holder }) => {
                w.key(key);
                w.key(dep);
                w.varint(u64::from(holder.0));
                Kind::FetchFailed
            }
            WorkerToScheduler::Report(ToScheduler::StealResponse { key, id, outcome }) => {
                w.key(key);
                w.varint(id.0);
                w.u8(match outcome {
                    StealOutcome::Released => 0,
                    StealOutcome::Refused => 1,
                });
                Kind::StealResponse
            }
            WorkerToScheduler::Report(ToScheduler::AddKeys(keys)) => {
                w.keys(keys);
                Kind::AddKeys
            }
        };
        Ok(frame(kind, w))
    }

    fn from_frame(f: Frame) -> Result<Self, ProtocolError> {
        f.expect(Direction::WorkerToScheduler)?;
        let mut r = Reader::new(&f.meta, f.buffers);
        let m = match f.kind {
            Kind::Register => WorkerToScheduler::Register(read_worker_spec(&mut r)?),
            Kind::WorkerHeartbeat => WorkerToScheduler::Heartbeat(read_memory(&mut r)?),
            Kind::RetireMe => WorkerToScheduler::RetireMe,
            Kind::WorkerEvents => {
                let cpu = r.f64("worker cpu")?;
                let n = r.count("worker events")?;
                let mut events = Vec::with_capacity(n);
                for _ in 0..n {
                    let kind = match r.u8("worker event kind")? {
                        0 => WorkerEventKind::Transfer,
                        1 => WorkerEventKind::Spill,
                        x => return Err(ProtocolError::Invalid { field: "worker event kind", value: u64::from(x) }),
                    };
                    events.push(WorkerEvent {
                        kind,
                        peer: r.u32("event peer")?,
                        nbytes: r.varint("event bytes")?,
                        ago: std::time::Duration::from_micros(r.varint("event end")?),
                        took: std::time::Duration::from_micros(r.varint("event length")?),
                    });
                }
                let n = r.count("worker log lines")?;
                let mut logs = Vec::with_capacity(n);
                for _ in 0..n {
                    logs.push(LogLine { at: r.f64("log line time")?, text: r.string("log line")? });
                }
                WorkerToScheduler::Events(WorkerActivity { cpu, events, logs })
            }
            Kind::TaskFinished => WorkerToScheduler::Report(ToScheduler::TaskFinished(Finished {
                key: r.key()?,
                nbytes: r.varint("nbytes")?,
                duration: r.duration("duration")?,
            })),
            Kind::TaskErred => WorkerToScheduler::Report(ToScheduler::TaskErred(Erred {
                key: r.key()?,
                message: r.arc_str("error message")?,
                origin: if r.bool("origin flag")? { Some(r.key()?) } else { None },
                kind: read_error_kind(&mut r)?,
            })),
            Kind::FetchFailed => WorkerToScheduler::Report(ToScheduler::FetchFailed {
                key: r.key()?,
                dep: r.key()?,
                holder: WorkerId(r.u32("holder id")?),
            }),
            Kind::StealResponse => WorkerToScheduler::Report(ToScheduler::StealResponse {
                key: r.key()?,
                id: StealId(r.varint("steal id")?),
                outcome: match r.u8("steal outcome")? {
                    0 => StealOutcome::Released,
                    1 => StealOutcome::Refused,
                    x => return Err(ProtocolError::Invalid { field: "steal outcome", value: u64::from(x) }),
                },
            }),
            _ => WorkerToScheduler::Report(ToScheduler::AddKeys(r.keys()?)),
        };
        r.finish(f.kind.name())?;
        Ok(m)
    }
}

impl Message for SchedulerToWorker {
    fn to_frame(&self) -> Result<Frame, EncodeError> {
        let mut w = Writer::default();
        let kind = match self {
            SchedulerToWorker::Registered { id } => {
                w.varint(u64::from(id.0));
                Kind::Registered
            }
            SchedulerToWorker::Request(ToWorker::Compute(c)) => {
                write_compute(&mut w, c);
                Kind::Compute
            }
            SchedulerToWorker::Request(ToWorker::FreeKeys(keys)) => {
                w.keys(keys);
                Kind::FreeKeys
            }
            SchedulerToWorker::Request(ToWorker::CancelCompute(key)) => {
                w.key(key);
                Kind::CancelCompute
            }
            SchedulerToWorker::Request(ToWorker::StealRequest { key, id }) => {
                w.key(key);
                w.varint(id.0);
                Kind::StealRequest
            }
            SchedulerToWorker::Request(ToWorker::AcquireReplicas(deps)) => {
                write_deps(&mut w, deps);
                Kind::AcquireReplicas
            }
            SchedulerToWorker::Close { reason } => {
                w.str(reason);
                Kind::CloseWorker
            }
        };
        Ok(frame(kind, w))
    }

    fn from_frame(f: Frame) -> Result<Self, ProtocolError> {
        f.expect(Direction::SchedulerToWorker)?;
        let mut r = Reader::new(&f.meta, f.buffers);
        let m = match f.kind {
            Kind::Registered => SchedulerToWorker::Registered { id: WorkerId(r.u32("worker id")?) },
            Kind::Compute => SchedulerToWorker::Request(ToWorker::Compute(Box::new(read_compute(&mut r)?))),
            Kind::FreeKeys => SchedulerToWorker::Request(ToWorker::FreeKeys(r.keys()?)),
            Kind::CancelCompute => SchedulerToWorker::Request(ToWorker::CancelCompute(r.key()?)),
            Kind::AcquireReplicas => SchedulerToWorker::Request(ToWorker::AcquireReplicas(read_deps(&mut r)?)),
            Kind::CloseWorker => SchedulerToWorker::Close { reason: r.string("close reason")? },
            _ => {
                SchedulerToWorker::Request(ToWorker::StealRequest { key: r.key()?, id: StealId(r.varint("steal id")?) })
            }
        };
        r.finish(f.kind.name())?;
        Ok(m)
    }
}
