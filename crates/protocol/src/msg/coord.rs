//! The layouts of coordination requests and answers (see
//! [`blockwork_scheduler::Coord`]).
//!
//! ```text
//!  held     := u8(0) value | u8(1) key
//!  timeout  := u8(0) (wait for ever) | u8(1) duration
//!  op       := u8(tag) str(name) fields
//!    0 set-variable   held            8  set-event
//!    1 get-variable   timeout         9  clear-event
//!    2 delete-variable                10 wait-event     timeout
//!    3 put            held varint(maxsize) timeout
//!    4 get            varint(count) timeout            11 is-set
//!    5 queue-size                     12 acquire-lease  varint(max) varint(handle) timeout
//!    6 acquire        varint(handle) timeout           13 release-lease  varint(handle)
//!    7 release        varint(handle)                   14 leases
//!    15 locked                       16 publish        count held* bool(replace)
//!    17 get-dataset                  18 unpublish      19 list-datasets (empty name)
//!  reply    := u8(0) done | u8(1) count held* | u8(2) bool | u8(3) varint
//!            | u8(4) timed-out | u8(5) str(why)
//! ```

use std::time::Duration;

use blockwork_scheduler::{CoordOp, CoordReply, Held};

use crate::error::{EncodeError, ProtocolError};
use crate::value::{read_value, write_value};
use crate::wire::{Reader, Writer};

fn write_held(w: &mut Writer, h: &Held) -> Result<(), EncodeError> {
    match h {
        Held::Value(v) => {
            w.u8(0);
            write_value(w, v)?;
        }
        Held::Key(k) => {
            w.u8(1);
            w.key(k);
        }
    }
    Ok(())
}

fn read_held(r: &mut Reader<'_>) -> Result<Held, ProtocolError> {
    match r.u8("held tag")? {
        0 => Ok(Held::Value(read_value(r)?)),
        1 => Ok(Held::Key(r.key()?)),
        t => Err(ProtocolError::Invalid { field: "held tag", value: u64::from(t) }),
    }
}

fn write_timeout(w: &mut Writer, t: Option<Duration>) {
    match t {
        None => w.u8(0),
        Some(d) => {
            w.u8(1);
            w.duration(d);
        }
    }
}

fn read_timeout(r: &mut Reader<'_>) -> Result<Option<Duration>, ProtocolError> {
    match r.u8("timeout tag")? {
        0 => Ok(None),
        1 => Ok(Some(r.duration("timeout")?)),
        t => Err(ProtocolError::Invalid { field: "timeout tag", value: u64::from(t) }),
    }
}

/// The name of requests on no primitive in particular.
static NO_NAME: String = String::new();

pub(super) fn write_op(w: &mut Writer, op: &CoordOp) -> Result<(), EncodeError> {
    let (tag, name) = match op {
        CoordOp::SetVariable { name, .. } => (0, name),
        CoordOp::GetVariable { name, .. } => (1, name),
        CoordOp::DeleteVariable { name } => (2, name),
        CoordOp::Put { name, .. } => (3, name),
        CoordOp::Get { name, .. } => (4, name),
        CoordOp::QueueSize { name } => (5, name),
        CoordOp::Acquire { name, .. } => (6, name),
        CoordOp::Release { name, .. } => (7, name),
        CoordOp::SetEvent { name } => (8, name),
        CoordOp::ClearEvent { name } => (9, name),
        CoordOp::WaitEvent { name, .. } => (10, name),
        CoordOp::IsSet { name } => (11, name),
        CoordOp::AcquireLease { name, .. } => (12, name),
        CoordOp::ReleaseLease { name, .. } => (13, name),
        CoordOp::Leases { name } => (14, name),
        CoordOp::Locked { name } => (15, name),
        CoordOp::Publish { name, .. } => (16, name),
        CoordOp::GetDataset { name } => (17, name),
        CoordOp::Unpublish { name } => (18, name),
        CoordOp::ListDatasets => (19, &NO_NAME),
    };
    w.u8(tag);
    w.str(name);
    match op {
        CoordOp::SetVariable { value, .. } => write_held(w, value)?,
        CoordOp::GetVariable { timeout, .. } | CoordOp::WaitEvent { timeout, .. } => write_timeout(w, *timeout),
        CoordOp::Put { item, maxsize, timeout, .. } => {
            write_held(w, item)?;
            w.varint(*maxsize);
            write_timeout(w, *timeout);
        }
        CoordOp::Get { count, timeout, .. } => {
            w.varint(*count);
            write_timeout(w, *timeout);
        }
        CoordOp::Acquire { handle, timeout, .. } => {
            w.varint(*handle);
            write_timeout(w, *timeout);
        }
        CoordOp::Release { handle, .. } | CoordOp::ReleaseLease { handle, .. } => w.varint(*handle),
        CoordOp::AcquireLease { max_leases, handle, timeout, .. } => {
            w.varint(*max_leases);
            w.varint(*handle);
            write_timeout(w, *timeout);
        }
        CoordOp::Publish { items, replace, .. } => {
            w.len(items.len());
            for h in items {
                write_held(w, h)?;
            }
            w.bool(*replace);
        }
        CoordOp::DeleteVariable { .. }
        | CoordOp::GetDataset { .. }
        | CoordOp::Unpublish { .. }
        | CoordOp::ListDatasets
        | CoordOp::QueueSize { .. }
        | CoordOp::SetEvent { .. }
        | CoordOp::ClearEvent { .. }
        | CoordOp::IsSet { .. }
        | CoordOp::Leases { .. }
        | CoordOp::Locked { .. } => {}
    }
    Ok(())
}

pub(super) fn read_op(r: &mut Reader<'_>) -> Result<CoordOp, ProtocolError> {
    let tag = r.u8("coordination op")?;
    let name = r.string("primitive name")?;
    Ok(match tag {
        0 => CoordOp::SetVariable { name, value: read_held(r)? },
        1 => CoordOp::GetVariable { name, timeout: read_timeout(r)? },
        2 => CoordOp::DeleteVariable { name },
        3 => CoordOp::Put { name, item: read_held(r)?, maxsize: r.varint("queue maxsize")?, timeout: read_timeout(r)? },
        4 => CoordOp::Get { name, count: r.varint("item count")?, timeout: read_timeout(r)? },
        5 => CoordOp::QueueSize { name },
        6 => CoordOp::Acquire { name, handle: r.varint("lock handle")?, timeout: read_timeout(r)? },
        7 => CoordOp::Release { name, handle: r.varint("lock handle")? },
        8 => CoordOp::SetEvent { name },
        9 => CoordOp::ClearEvent { name },
        10 => CoordOp::WaitEvent { name, timeout: read_timeout(r)? },
        11 => CoordOp::IsSet { name },
        12 => CoordOp::AcquireLease {
            name,
            max_leases: r.varint("max leases")?,
            handle: r.varint("semaphore handle")?,
            timeout: read_timeout(r)?,
        },
        13 => CoordOp::ReleaseLease { name, handle: r.varint("semaphore handle")? },
        14 => CoordOp::Leases { name },
        15 => CoordOp::Locked { name },
        16 => {
            let n = r.count("dataset items")?;
            let items = (0..n).map(|_| read_held(r)).collect::<Result<_, _>>()?;
            CoordOp::Publish { name, items, replace: r.bool("replace")? }
        }
        17 => CoordOp::GetDataset { name },
        18 => CoordOp::Unpublish { name },
        19 => CoordOp::ListDatasets,
        t => return Err(ProtocolError::Invalid { field: "coordination op", value: u64::from(t) }),
    })
}

pub(super) fn write_reply(w: &mut Writer, reply: &CoordReply) -> Result<(), EncodeError> {
    match reply {
        CoordReply::Done => w.u8(0),
        CoordReply::Held(items) => {
            w.u8(1);
            w.len(items.len());
            for h in items {
                write_held(w, h)?;
            }
        }
        CoordReply::Bool(b) => {
            w.u8(2);
            w.bool(*b);
        }
        CoordReply::Count(n) => {
            w.u8(3);
            w.varint(*n);
        }
        CoordReply::TimedOut => w.u8(4),
        CoordReply::Refused(why) => {
            w.u8(5);
            w.str(why);
        }
    }
    Ok(())
}

pub(super) fn read_reply(r: &mut Reader<'_>) -> Result<CoordReply, ProtocolError> {
    Ok(match r.u8("coordination reply")? {
        0 => CoordReply::Done,
        1 => {
            let n = r.count("held items")?;
            CoordReply::Held((0..n).map(|_| read_held(r)).collect::<Result<_, _>>()?)
        }
        2 => CoordReply::Bool(r.bool("answer")?),
        3 => CoordReply::Count(r.varint("count")?),
        4 => CoordReply::TimedOut,
        5 => CoordReply::Refused(r.string("refusal")?),
        t => return Err(ProtocolError::Invalid { field: "coordination reply", value: u64::from(t) }),
    })
}
