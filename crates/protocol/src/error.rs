//! The protocol's two error types.
//!
//! - [`EncodeError`]: what this process was asked to send cannot be sent.
//!   Almost always the user's mistake (a closure where a named function
//!   is needed, a block type without a codec); the message says how to fix
//!   it.
//! - [`ProtocolError`]: what arrived is not a valid frame or message
//!   (corrupt or hostile bytes, a peer of another version, a limit
//!   exceeded), or names something this process does not know (a
//!   function or codec that is not registered here). The connection that
//!   produced it should be closed; the process goes on.
//!
//! Neither is ever a panic: every length and tag read off the wire is
//! checked before it is used.

use blockwork_graph::{ErrorKind, Fault, Key};

/// What arrived cannot be decoded. Each variant names the field at fault
/// and the value found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The first four bytes of a frame are not `BWRK`.
    #[error("bad magic {found:02x?} at the start of a frame (expected \"BWRK\"): not a blockwork peer, or the stream lost its place")]
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// A frame of a protocol version this process does not speak.
    #[error("frame of protocol version {found}, but this process speaks version {supported}")]
    UnsupportedVersion {
        /// The version in the frame header.
        found: u16,
        /// The version spoken here.
        supported: u16,
    },
    /// The frame header's message kind is not one this version defines.
    #[error("unknown message kind {kind} in a frame header")]
    UnknownKind {
        /// The kind found.
        kind: u16,
    },
    /// A length or count field exceeds its configured limit.
    #[error("{field} is {value}, above the limit of {limit}")]
    TooLarge {
        /// The field, e.g. `"metadata length"`.
        field: &'static str,
        /// The value found.
        value: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A frame of a kind that does not belong on this connection now.
    #[error("unexpected {kind} message: expected {expected}")]
    UnexpectedKind {
        /// The kind that arrived.
        kind: &'static str,
        /// What was expected instead.
        expected: &'static str,
    },
    /// The metadata ended in the middle of a field.
    #[error("metadata ends inside {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A field holds a value that is not allowed (an unknown tag, an
    /// overlong varint, nanoseconds past a second, ...).
    #[error("invalid {field}: {value}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// A string field is not UTF-8.
    #[error("{field} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// Bytes are left over after the message was read.
    #[error("{count} bytes left over after {what}")]
    TrailingBytes {
        /// The message or structure that was read.
        what: &'static str,
        /// How many bytes are left.
        count: u64,
    },
    /// The metadata refers to more buffers than the frame carries, or
    /// leaves some unused.
    #[error("the message uses {used} out-of-band buffers, the frame carries {present}")]
    BufferCount {
        /// Buffers the metadata referred to (so far).
        used: u64,
        /// Buffers in the frame.
        present: u64,
    },
    /// Values or task arguments nested deeper than the limit.
    #[error("{field} nested deeper than {limit} levels")]
    TooDeep {
        /// What is nested.
        field: &'static str,
        /// The limit.
        limit: u32,
    },
    /// A task names a function that is not registered in this process.
    #[error(
        "task {key} calls the function {name:?}, which is not registered in this process; {}",
        register_hint(name)
    )]
    UnknownFunction {
        /// The task.
        key: Key,
        /// The function's name.
        name: String,
    },
    /// An object value of a type with no codec registered in this process.
    #[error(
        "an object of type {type_name:?} arrived, but no codec is registered for it in this process; \
         call blockwork_graph::register_codec at start-up"
    )]
    UnknownCodec {
        /// The type's registered name.
        type_name: String,
    },
    /// A codec refused the bytes it was given.
    #[error("the codec for {type_name:?} cannot decode an object: {message}")]
    Codec {
        /// The type's registered name.
        type_name: String,
        /// What the codec said.
        message: String,
    },
    /// A decoder that already failed was used again.
    #[error("the connection's decoder failed earlier ({0}); the connection must be closed")]
    Poisoned(Box<ProtocolError>),
}

/// What this process was asked to send cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A task (or a task fused into it) runs a closure.
    #[error(
        "task {key} runs the closure {label:?}, which cannot run in another process; \
         declare it as a `static NamedFn` (blockwork_graph::NamedFn::new(\"myapp.name\", function)), \
         register it with blockwork_graph::register in every process, and build the task with Op::named \
         (collections take registered functions: blockwise_named, map_blocks_named, map_overlap_named, \
         map_partitions_named, and a bag's flat_map_named, fold_named, foldby_named, topk_named, groupby_named)"
    )]
    LocalOp {
        /// The task.
        key: Key,
        /// The closure's label.
        label: String,
    },
    /// An object value of a type with no registered codec.
    #[error(
        "cannot send an object of type {type_name:?}: no codec is registered for it; \
         call blockwork_graph::register_codec(\"{type_name}\", encode, decode) in every process"
    )]
    NoCodec {
        /// The type's name (`Data::type_name`).
        type_name: String,
    },
    /// The codec registered under an object's type name did not accept it.
    #[error("the codec registered for {type_name:?} refused an object of that name (two types share the name?)")]
    CodecRefused {
        /// The type's name.
        type_name: String,
    },
    /// Values or task arguments nested deeper than the limit.
    #[error("{what} nested deeper than {limit} levels cannot be sent")]
    TooDeep {
        /// What is nested.
        what: String,
        /// The limit.
        limit: u32,
    },
    /// A frame would exceed what the header can describe.
    #[error("{field} is {value}, above what a frame can carry ({limit})")]
    TooLarge {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
        /// The most a frame can carry.
        limit: u64,
    },
}

/// What to do about a function this process does not know.
fn register_hint(name: &str) -> &'static str {
    if name.starts_with("blockwork.python.") {
        "it runs Python code, which only workers started from the Python package run: \
         start them with `python -m blockwork worker ADDRESS` (or `blockwork.distributed.LocalCluster`)"
    } else {
        "register its NamedFn with blockwork_graph::register at start-up"
    }
}

impl Fault for ProtocolError {
    fn kind(&self) -> ErrorKind {
        match self {
            // A function or codec this process never registered: the
            // program's set-up.
            ProtocolError::UnknownFunction { .. } | ProtocolError::UnknownCodec { .. } => ErrorKind::User,
            // What arrived could not be read: a peer's bug or a codec of
            // another build.
            ProtocolError::Codec { .. } => ErrorKind::Internal,
            ProtocolError::Poisoned(e) => e.kind(),
            // Bytes off a socket that are not a frame of ours, or exceed
            // a limit: the network or the peer at the other end.
            _ => ErrorKind::Environment,
        }
    }
}

impl Fault for EncodeError {
    /// What the sender asked to send: a closure, an object without a codec,
    /// something too big or deep.
    fn kind(&self) -> ErrorKind {
        match self {
            EncodeError::CodecRefused { .. } => ErrorKind::Internal,
            _ => ErrorKind::User,
        }
    }
}
