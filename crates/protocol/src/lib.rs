//! The wire format of a blockwork cluster, sans IO.
//!
//! Clients, the scheduler and workers talk over byte streams. This crate
//! turns those bytes into typed messages and back, and nothing else: it
//! opens no socket and knows no runtime. Bytes go in, frames and messages
//! come out; messages go in, chunks of bytes to write come out. The tokio
//! shell around the scheduler and worker state machines only moves them.
//!
//! ```text
//!  bytes ──FrameDecoder::push──▶ Frame ──Message::from_frame──▶ ClientToScheduler / WorkerToScheduler / …
//!                                                                 (the scheduler's and worker's own types inside)
//!  message ──Message::to_frame──▶ Frame ──encode_frame──▶ EncodedFrame::chunks() ──▶ write
//! ```
//!
//! # Shape
//!
//! - [`frame`](Frame): a 16-byte header (magic `BWRK`, version, [`Kind`],
//!   metadata length, buffer count), one length per buffer, the metadata,
//!   the buffers. Big payloads (blocks, bytes values, task payloads) are
//!   out-of-band buffers: shared `Arc<[u8]>`s, never copied by the
//!   encoder and never encoded element by element. See `README.md` for
//!   the layout byte by byte.
//! - [`Handshake`]: the first frame each way ([`Hello`], then
//!   [`Welcome`] or [`Refused`]); [`Acceptor::answer`] decides on
//!   version, role and token.
//! - Messages, one enum per direction: [`ClientToScheduler`],
//!   [`SchedulerToClient`], [`WorkerToScheduler`], [`SchedulerToWorker`],
//!   [`PeerMessage`]. They carry the scheduler's and the worker's own
//!   types ([`blockwork_scheduler::GraphUpdate`], [`ToClient`](blockwork_scheduler::ToClient),
//!   [`ToWorker`](blockwork_scheduler::ToWorker), [`ToScheduler`](blockwork_worker::ToScheduler), …);
//!   each message is one frame whose kind is the variant.
//! - Values ([`blockwork_graph::Value`]) travel in the metadata when
//!   small, in buffers when big; [`Value::Object`](blockwork_graph::Value::Object)s go through
//!   the [codec registry](register_codec), keyed by their stable
//!   [`Data::type_name`](blockwork_graph::Data::type_name).
//! - Tasks ([`blockwork_graph::Task<Key>`](blockwork_graph::Task)) are
//!   encoded once by the client into the scheduler's
//!   [`Payload`](blockwork_scheduler::Payload) ([`encode_task`],
//!   [`task_spec`]) and decoded by the worker that runs them
//!   ([`decode_task`]), which looks named functions up in its own
//!   registry.
//!
//! # Invariants
//!
//! - Decoding never panics and never trusts a length: header fields are
//!   checked against [`Limits`] as soon as they are read, memory grows
//!   only as bytes arrive, counts inside metadata are checked against the
//!   bytes left, and nesting is capped at [`MAX_DEPTH`].
//! - A decoder that failed stays failed ([`ProtocolError::Poisoned`]):
//!   the stream has lost its place. Decoders share nothing, so one bad
//!   connection never disturbs another.
//! - Every message decodes to exactly what was encoded (objects through
//!   their codec), and a decoder consumes all of a frame's metadata and
//!   buffers or fails.
//!
//! # Errors
//!
//! [`EncodeError`] is the sender's own mistake (a closure in a task, an
//! object without a codec), with the fix in its message.
//! [`ProtocolError`] is about what arrived: corrupt or hostile bytes, a
//! peer of another version, a limit exceeded, or a function or codec not
//! registered in this process; it names the field and the value.

mod error;
mod frame;
mod handshake;
mod kind;
mod msg;
mod task;
mod value;
mod wire;

pub use crate::error::{EncodeError, ProtocolError};
pub use crate::frame::{encode_frame, EncodedFrame, Frame, FrameDecoder, Limits, FIXED_HEADER, MAGIC};
pub use crate::handshake::{read_answer, Acceptor, Handshake, Hello, Refused, Role, Welcome, RELEASE};
pub use crate::kind::{Direction, Kind};
pub use crate::msg::{
    ClientToScheduler, ClusterInfo, InfoRequest, LogLine, Message, PeerMessage, SchedulerInfo, SchedulerToClient,
    SchedulerToWorker, WorkerActivity, WorkerEvent, WorkerEventKind, WorkerToScheduler,
};
pub use crate::task::{decode_task, encode_task, task_spec};
pub use crate::wire::{INLINE_MAX, MAX_DEPTH};
/// The codec registry lives in the graph crate (collections register
/// their blocks' codecs without depending on the cluster's crates); it is
/// re-exported here, where the wire format uses it.
pub use blockwork_graph::{codec, register_codec, Buffer, Codec, CodecError, DecodeFn, EncodeFn};

/// The protocol version this build speaks. Every frame header carries it;
/// frames of other versions are refused, except the handshake's.
pub const PROTOCOL_VERSION: u16 = 7;
