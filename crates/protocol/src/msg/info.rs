//! What a client may ask of the cluster's state (Dask's `who_has`,
//! `has_what`, `scheduler_info`), and the layouts of the questions and
//! answers.
//!
//! ```text
//!  question := u8(0) keys                        who has these keys (none: every key in memory)
//!            | u8(1) strs(workers)               what these workers hold (none: every worker)
//!            | u8(2)                             the scheduler and its workers
//!  answer   := u8(0) count (key strs(addresses))*
//!            | u8(1) count (str(address) keys)*
//!            | u8(2) varint(tasks) varint(clients) count worker-info*
//!            | u8(3) count (key str(from) str(to))*          moves started by a rebalance
//!  worker-info := varint(id) str(address) str(name) bool(retiring) varint(nthreads)
//!                 varint(memory limit) varint(processing) duration(occupancy)
//!                 varint(keys held) varint(nbytes) memory
//! ```

use blockwork_graph::Key;
use blockwork_scheduler::{WorkerId, WorkerInfo};

use super::{read_memory, read_strs, write_memory, write_strs};
use crate::error::ProtocolError;
use crate::wire::{Reader, Writer};

/// A question about the cluster's state.
#[derive(Clone, PartialEq, Debug)]
pub enum InfoRequest {
    /// Which workers hold each of these keys (empty: every key in memory).
    WhoHas(Vec<Key>),
    /// Which keys each of these workers (by address or name) holds
    /// (empty: every worker).
    HasWhat(Vec<String>),
    /// The scheduler's figures and every worker's.
    Scheduler,
}

/// The answer.
#[derive(Clone, PartialEq, Debug)]
pub enum ClusterInfo {
    /// Each key asked for, with the addresses of the workers holding it
    /// (none: not in memory, or unknown).
    WhoHas(Vec<(Key, Vec<String>)>),
    /// Each worker's address, with the keys it holds.
    HasWhat(Vec<(String, Vec<Key>)>),
    /// The scheduler's figures.
    Scheduler(SchedulerInfo),
    /// Results being moved: each key, the address it leaves, the address
    /// it goes to (the answer to a rebalance).
    Moves(Vec<(Key, String, String)>),
}

/// The scheduler and its workers, as `Client::scheduler_info` reports them.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct SchedulerInfo {
    /// Tasks the scheduler knows.
    pub tasks: u64,
    /// Clients connected (the scheduler's own among them).
    pub clients: u64,
    /// Every running or retiring worker.
    pub workers: Vec<WorkerInfo>,
}

pub(super) fn write_request(w: &mut Writer, q: &InfoRequest) {
    match q {
        InfoRequest::WhoHas(keys) => {
            w.u8(0);
            w.keys(keys);
        }
        InfoRequest::HasWhat(workers) => {
            w.u8(1);
            write_strs(w, workers);
        }
        InfoRequest::Scheduler => w.u8(2),
    }
}

pub(super) fn read_request(r: &mut Reader<'_>) -> Result<InfoRequest, ProtocolError> {
    match r.u8("info question")? {
        0 => Ok(InfoRequest::WhoHas(r.keys()?)),
        1 => Ok(InfoRequest::HasWhat(read_strs(r, "workers")?)),
        2 => Ok(InfoRequest::Scheduler),
        t => Err(ProtocolError::Invalid { field: "info question", value: u64::from(t) }),
    }
}

fn write_worker(w: &mut Writer, i: &WorkerInfo) {
    w.varint(u64::from(i.id.0));
    w.str(&i.address);
    w.str(&i.name);
    w.bool(i.retiring);
    w.varint(u64::from(i.nthreads));
    w.varint(i.memory_limit);
    w.varint(i.processing as u64);
    w.duration(i.occupancy);
    w.varint(i.keys_held as u64);
    w.varint(i.nbytes);
    write_memory(w, &i.memory);
}

fn read_worker(r: &mut Reader<'_>) -> Result<WorkerInfo, ProtocolError> {
    Ok(WorkerInfo {
        id: WorkerId(r.u32("worker id")?),
        address: r.arc_str("worker address")?,
        name: r.arc_str("worker name")?,
        retiring: r.bool("retiring")?,
        nthreads: r.u32("worker threads")?,
        memory_limit: r.varint("worker memory limit")?,
        processing: r.varint("tasks processing")? as usize,
        occupancy: r.duration("occupancy")?,
        keys_held: r.varint("keys held")? as usize,
        nbytes: r.varint("bytes held")?,
        memory: read_memory(r)?,
    })
}

pub(super) fn write_answer(w: &mut Writer, a: &ClusterInfo) {
    match a {
        ClusterInfo::WhoHas(holders) => {
            w.u8(0);
            w.len(holders.len());
            for (k, ws) in holders {
                w.key(k);
                write_strs(w, ws);
            }
        }
        ClusterInfo::HasWhat(held) => {
            w.u8(1);
            w.len(held.len());
            for (worker, keys) in held {
                w.str(worker);
                w.keys(keys);
            }
        }
        ClusterInfo::Moves(moves) => {
            w.u8(3);
            w.len(moves.len());
            for (k, from, to) in moves {
                w.key(k);
                w.str(from);
                w.str(to);
            }
        }
        ClusterInfo::Scheduler(s) => {
            w.u8(2);
            w.varint(s.tasks);
            w.varint(s.clients);
            w.len(s.workers.len());
            for i in &s.workers {
                write_worker(w, i);
            }
        }
    }
}

pub(super) fn read_answer(r: &mut Reader<'_>) -> Result<ClusterInfo, ProtocolError> {
    match r.u8("info answer")? {
        0 => {
            let n = r.count("keys")?;
            let holders = (0..n).map(|_| Ok((r.key()?, read_strs(r, "holders")?))).collect::<Result<_, _>>()?;
            Ok(ClusterInfo::WhoHas(holders))
        }
        1 => {
            let n = r.count("workers")?;
            let held = (0..n).map(|_| Ok((r.string("worker")?, r.keys()?))).collect::<Result<_, _>>()?;
            Ok(ClusterInfo::HasWhat(held))
        }
        2 => {
            let tasks = r.varint("tasks")?;
            let clients = r.varint("clients")?;
            let n = r.count("workers")?;
            let workers = (0..n).map(|_| read_worker(r)).collect::<Result<_, _>>()?;
            Ok(ClusterInfo::Scheduler(SchedulerInfo { tasks, clients, workers }))
        }
        3 => {
            let n = r.count("moves")?;
            let moves = (0..n)
                .map(|_| Ok((r.key()?, r.string("moved from")?, r.string("moved to")?)))
                .collect::<Result<_, _>>()?;
            Ok(ClusterInfo::Moves(moves))
        }
        t => Err(ProtocolError::Invalid { field: "info answer", value: u64::from(t) }),
    }
}
