//! The messages, one enum per direction, and how the scheduler's and the
//! worker's own types are laid out in metadata.
//!
//! Each message is one frame: the variant is the frame's [`Kind`], the
//! fields its metadata, big payloads (task payloads over 1 KiB, bytes
//! values, objects' data) its buffers. The layouts of shared types:
//!
//! ```text
//!  task-spec   := key keys(deps) varint(priority) blob(payload) varint(retries) resources
//!                 u8(flags: 1 priority, 2 workers, 4 allow other workers)
//!                 [varint(zigzag user priority)] [strs(workers)]
//!  resources   := count (str(name) f64(amount))*
//!  graph-update:= count task-spec* keys(wanted)
//!  failure     := key(original) str(message) u8(kind: 0 error, 1 killed worker)
//!                 u8(fault: 0 user, 1 environment, 2 internal)
//!  worker-spec := str(address) str(name) varint(nthreads) varint(memory limit) resources
//!  memory      := varint(managed) varint(spilled) varint(unmanaged)
//!  compute     := key blob(payload) varint(priority) count dep*
//!  dep         := key varint(nbytes) count (varint(worker id) str(address))*
//!  key-values  := count (key value)*
//! ```

mod client;
mod coord;
mod info;
mod peer;
mod worker;

pub use client::{ClientToScheduler, SchedulerToClient};
pub use info::{ClusterInfo, InfoRequest, SchedulerInfo};
pub use peer::PeerMessage;
pub use worker::{LogLine, SchedulerToWorker, WorkerActivity, WorkerEvent, WorkerEventKind, WorkerToScheduler};

use std::sync::Arc;

use blockwork_graph::{ErrorKind, Key, Value};
use blockwork_scheduler::{
    ComputeTask, DepInfo, FailureKind, GraphUpdate, Holder, MemoryReport, Priority, TaskFailure, TaskSpec, WorkerId,
    WorkerSpec,
};

use crate::error::{EncodeError, ProtocolError};
use crate::frame::{encode_frame, EncodedFrame, Frame};
use crate::kind::Kind;
use crate::value::{read_value, write_value};
use crate::wire::{Reader, Writer};

/// A message that travels as one frame.
pub trait Message: Sized {
    /// Lays the message out as a frame. Fails only on what cannot be
    /// sent (an object without a codec, a value nested too deep).
    fn to_frame(&self) -> Result<Frame, EncodeError>;

    /// Reads a message of this direction from a frame; a frame of another
    /// direction, or metadata that does not parse, is an error.
    fn from_frame(frame: Frame) -> Result<Self, ProtocolError>;

    /// The frame, laid out for writing.
    fn encode(&self) -> Result<EncodedFrame, EncodeError> {
        encode_frame(self.to_frame()?)
    }
}

/// Ends a frame being written.
fn frame(kind: Kind, w: Writer) -> Frame {
    Frame::new(kind, w.meta, w.buffers)
}

fn write_resources(w: &mut Writer, rs: &[(Arc<str>, f64)]) {
    w.len(rs.len());
    for (name, amount) in rs {
        w.str(name);
        w.f64(*amount);
    }
}

fn read_resources(r: &mut Reader<'_>) -> Result<Vec<(Arc<str>, f64)>, ProtocolError> {
    let n = r.count("resources")?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push((r.arc_str("resource name")?, r.f64("resource amount")?));
    }
    Ok(v)
}

fn write_update(w: &mut Writer, u: &GraphUpdate) {
    w.len(u.tasks.len());
    for t in &u.tasks {
        w.key(&t.key);
        w.keys(&t.deps);
        w.varint(u64::from(t.priority));
        w.blob(&t.payload);
        w.varint(u64::from(t.retries));
        write_resources(w, &t.resources);
        // Placement, one byte for most tasks: which of the optional fields follow.
        let flags = u8::from(t.user_priority != 0) | (u8::from(!t.workers.is_empty()) << 1) | (u8::from(t.loose) << 2);
        w.u8(flags);
        if t.user_priority != 0 {
            w.varint(zigzag(t.user_priority));
        }
        if !t.workers.is_empty() {
            w.len(t.workers.len());
            for wk in &t.workers {
                w.str(wk);
            }
        }
    }
    w.keys(&u.wanted);
}

fn read_update(r: &mut Reader<'_>) -> Result<GraphUpdate, ProtocolError> {
    let n = r.count("graph update tasks")?;
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        tasks.push(TaskSpec {
            key: r.key()?,
            deps: r.keys()?,
            priority: r.u32("task priority")?,
            payload: r.blob("task payload")?,
            retries: r.u32("task retries")?,
            resources: read_resources(r)?,
            user_priority: 0,
            workers: Vec::new(),
            loose: false,
        });
        let t = tasks.last_mut().expect("just pushed");
        let flags = r.u8("task placement flags")?;
        if flags & !7 != 0 {
            return Err(ProtocolError::Invalid { field: "task placement flags", value: u64::from(flags) });
        }
        if flags & 1 != 0 {
            t.user_priority = unzigzag(r.varint("task user priority")?)?;
        }
        if flags & 2 != 0 {
            let n = r.count("task workers")?;
            t.workers = (0..n).map(|_| r.arc_str("task worker")).collect::<Result<_, _>>()?;
        }
        t.loose = flags & 4 != 0;
    }
    Ok(GraphUpdate { tasks, wanted: r.keys()? })
}

fn write_failure(w: &mut Writer, f: &TaskFailure) {
    w.key(&f.key);
    w.str(&f.message);
    w.u8(match f.kind {
        FailureKind::Error => 0,
        FailureKind::KilledWorker => 1,
    });
    w.u8(f.fault.code());
}

/// Whose fault an error is, as one byte.
pub(crate) fn read_error_kind(r: &mut Reader<'_>) -> Result<ErrorKind, ProtocolError> {
    let c = r.u8("error kind")?;
    ErrorKind::from_code(c).ok_or(ProtocolError::Invalid { field: "error kind", value: u64::from(c) })
}

fn read_failure(r: &mut Reader<'_>) -> Result<TaskFailure, ProtocolError> {
    let key = r.key()?;
    let message = r.arc_str("failure message")?;
    let kind = match r.u8("failure kind")? {
        0 => FailureKind::Error,
        1 => FailureKind::KilledWorker,
        x => return Err(ProtocolError::Invalid { field: "failure kind", value: u64::from(x) }),
    };
    Ok(TaskFailure { key, message, kind, fault: read_error_kind(r)? })
}

fn write_worker_spec(w: &mut Writer, s: &WorkerSpec) {
    w.str(&s.address);
    w.str(&s.name);
    w.varint(u64::from(s.nthreads));
    w.varint(s.memory_limit);
    write_resources(w, &s.resources);
}

fn read_worker_spec(r: &mut Reader<'_>) -> Result<WorkerSpec, ProtocolError> {
    Ok(WorkerSpec {
        address: r.arc_str("worker address")?,
        name: r.arc_str("worker name")?,
        nthreads: r.u32("worker threads")?,
        memory_limit: r.varint("worker memory limit")?,
        resources: read_resources(r)?,
    })
}

/// A small signed number as a small unsigned one (0, -1, 1, -2, … →
/// 0, 1, 2, 3, …), so it takes one varint byte.
fn zigzag(p: i32) -> u64 {
    u64::from(((p << 1) ^ (p >> 31)) as u32)
}

fn unzigzag(v: u64) -> Result<i32, ProtocolError> {
    let v = u32::try_from(v).map_err(|_| ProtocolError::Invalid { field: "task user priority", value: v })?;
    Ok((v >> 1) as i32 ^ -((v & 1) as i32))
}

fn write_strs(w: &mut Writer, strs: &[String]) {
    w.len(strs.len());
    for s in strs {
        w.str(s);
    }
}

fn read_strs(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<String>, ProtocolError> {
    let n = r.count(what)?;
    (0..n).map(|_| r.string(what)).collect()
}

fn write_memory(w: &mut Writer, m: &MemoryReport) {
    w.varint(m.managed);
    w.varint(m.spilled);
    w.varint(m.unmanaged);
}

fn read_memory(r: &mut Reader<'_>) -> Result<MemoryReport, ProtocolError> {
    Ok(MemoryReport {
        managed: r.varint("managed memory")?,
        spilled: r.varint("spilled memory")?,
        unmanaged: r.varint("unmanaged memory")?,
    })
}

fn write_compute(w: &mut Writer, c: &ComputeTask) {
    w.key(&c.key);
    w.blob(&c.payload);
    w.varint(c.priority.0);
    write_deps(w, &c.deps);
}

fn write_deps(w: &mut Writer, deps: &[DepInfo]) {
    w.len(deps.len());
    for d in deps {
        w.key(&d.key);
        w.varint(d.nbytes);
        w.len(d.who_has.len());
        for h in &d.who_has {
            w.varint(u64::from(h.worker.0));
            w.str(&h.address);
        }
    }
}

fn read_compute(r: &mut Reader<'_>) -> Result<ComputeTask, ProtocolError> {
    let key = r.key()?;
    let payload = r.blob("task payload")?;
    let priority = Priority(r.varint("task priority")?);
    let deps = read_deps(r)?;
    Ok(ComputeTask { key, payload, priority, deps })
}

fn read_deps(r: &mut Reader<'_>) -> Result<Vec<DepInfo>, ProtocolError> {
    let n = r.count("task inputs")?;
    let mut deps = Vec::with_capacity(n);
    for _ in 0..n {
        let key = r.key()?;
        let nbytes = r.varint("input size")?;
        let m = r.count("input holders")?;
        let mut who_has = smallvec::SmallVec::with_capacity(m);
        for _ in 0..m {
            who_has.push(Holder { worker: WorkerId(r.u32("holder id")?), address: r.arc_str("holder address")? });
        }
        deps.push(DepInfo { key, nbytes, who_has });
    }
    Ok(deps)
}

fn write_key_values(w: &mut Writer, data: &[(Key, Value)]) -> Result<(), EncodeError> {
    w.len(data.len());
    for (k, v) in data {
        w.key(k);
        write_value(w, v)?;
    }
    Ok(())
}

fn read_key_values(r: &mut Reader<'_>) -> Result<Vec<(Key, Value)>, ProtocolError> {
    let n = r.count("key-value pairs")?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push((r.key()?, read_value(r)?));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::{unzigzag, zigzag};

    #[test]
    fn zigzag_round_trips_every_edge() {
        for p in [0, 1, -1, 2, -2, 127, -127, i32::MAX, i32::MIN] {
            assert_eq!(unzigzag(zigzag(p)).unwrap(), p);
        }
        assert_eq!(zigzag(0), 0);
        assert_eq!(zigzag(-1), 1);
        assert!(unzigzag(u64::from(u32::MAX) + 1).is_err());
    }
}
