//! A worker's data port: peers (and the scheduler or a client, which
//! speak the same messages) ask a worker for values.
//!
//! ```text
//!  get-data  keys u8(0 | 1) [varint(requester worker id)]
//!  data      key-values keys(missing)
//!  busy      (empty)
//!  put-data  key-values
//!  stored    keys
//!  run       str(function) value(params) len(n) n × value(argument)
//!  ran       u8(0) value(result) | u8(1) str(error)
//! ```
//!
//! `put-data` comes from the scheduler only: it stores a client's
//! scattered values on this worker, which answers `stored`. `run` comes
//! from a client only (Dask's `Client.run`): the worker calls the
//! registered function at once, on a thread of its own beside its task
//! threads, and answers `ran`.

use blockwork_graph::{Key, Value};
use blockwork_scheduler::WorkerId;

use super::{frame, read_key_values, write_key_values, Message};
use crate::error::{EncodeError, ProtocolError};
use crate::frame::Frame;
use crate::kind::{Direction, Kind};
use crate::value::{read_value, write_value};
use crate::wire::{Reader, Writer};

/// Messages on a worker's data port.
#[derive(Clone, PartialEq, Debug)]
pub enum PeerMessage {
    /// Send me these values (the worker's `Event::DataRequested`).
    GetData {
        /// What is wanted.
        keys: Vec<Key>,
        /// The asking worker, if a worker asks.
        requester: Option<WorkerId>,
    },
    /// The answer: values as buffers, and what is not here.
    Data {
        /// The values held.
        data: Vec<(Key, Value)>,
        /// Keys asked for but not held.
        missing: Vec<Key>,
    },
    /// Too many transfers at once; ask again later.
    Busy,
    /// Keep these values (a client's scatter, relayed by the scheduler).
    PutData {
        /// Keys and values.
        data: Vec<(Key, Value)>,
    },
    /// The answer to put-data: these keys are stored.
    Stored {
        /// The keys.
        keys: Vec<Key>,
    },
    /// Call this registered function now, outside the task slots.
    Run {
        /// The function's registered name.
        function: String,
        /// Its parameters.
        params: Value,
        /// Its arguments.
        args: Vec<Value>,
    },
    /// The answer to run: the function's result, or its error.
    Ran {
        /// The value, or what went wrong.
        result: Result<Value, String>,
    },
}

impl Message for PeerMessage {
    fn to_frame(&self) -> Result<Frame, EncodeError> {
        let mut w = Writer::default();
        let kind = match self {
            PeerMessage::GetData { keys, requester } => {
                w.keys(keys);
                match requester {
                    None => w.u8(0),
                    Some(id) => {
                        w.u8(1);
                        w.varint(u64::from(id.0));
                    }
                }
                Kind::GetData
            }
            PeerMessage::Data { data, missing } => {
                write_key_values(&mut w, data)?;
                w.keys(missing);
                Kind::Data
            }
            PeerMessage::Busy => Kind::Busy,
            PeerMessage::PutData { data } => {
                write_key_values(&mut w, data)?;
                Kind::PutData
            }
            PeerMessage::Stored { keys } => {
                w.keys(keys);
                Kind::Stored
            }
            PeerMessage::Run { function, params, args } => {
                w.str(function);
                write_value(&mut w, params)?;
                w.len(args.len());
                for a in args {
                    write_value(&mut w, a)?;
                }
                Kind::Run
            }
            PeerMessage::Ran { result } => {
                match result {
                    Ok(v) => {
                        w.u8(0);
                        write_value(&mut w, v)?;
                    }
                    Err(e) => {
                        w.u8(1);
                        w.str(e);
                    }
                }
                Kind::Ran
            }
        };
        Ok(frame(kind, w))
    }

    fn from_frame(f: Frame) -> Result<Self, ProtocolError> {
        f.expect(Direction::Peer)?;
        let mut r = Reader::new(&f.meta, f.buffers);
        let m = match f.kind {
            Kind::GetData => {
                let keys = r.keys()?;
                let requester = match r.bool("requester flag")? {
                    false => None,
                    true => Some(WorkerId(r.u32("requester id")?)),
                };
                PeerMessage::GetData { keys, requester }
            }
            Kind::Data => PeerMessage::Data { data: read_key_values(&mut r)?, missing: r.keys()? },
            Kind::PutData => PeerMessage::PutData { data: read_key_values(&mut r)? },
            Kind::Stored => PeerMessage::Stored { keys: r.keys()? },
            Kind::Run => {
                let function = r.string("function")?;
                let params = read_value(&mut r)?;
                let n = r.count("arguments")?;
                let args = (0..n).map(|_| read_value(&mut r)).collect::<Result<_, _>>()?;
                PeerMessage::Run { function, params, args }
            }
            Kind::Ran => match r.bool("ran flag")? {
                false => PeerMessage::Ran { result: Ok(read_value(&mut r)?) },
                true => PeerMessage::Ran { result: Err(r.string("error")?) },
            },
            _ => PeerMessage::Busy,
        };
        r.finish(f.kind.name())?;
        Ok(m)
    }
}
