//! The codec registry: how [`Value::Object`]s (blocks, partitions, a
//! user's own types) cross a process boundary.
//!
//! The graph crate never sees a block type, so it cannot say how to turn
//! one into bytes. Each crate that defines a [`Data`] type registers a
//! codec for it under a stable name, the name its
//! [`Data::type_name`] returns. A codec turns an object into small
//! metadata plus raw buffers (an array block: dtype and shape as
//! metadata, its elements as one buffer) and back; the buffers travel
//! out of band, never element by element.
//!
//! ```
//! use std::sync::Arc;
//! use blockwork_graph::{Data, Value};
//! use blockwork_graph::{register_codec, Buffer, CodecError};
//!
//! #[derive(Debug)]
//! struct Blob(Vec<u8>);
//! impl Data for Blob {
//!     fn nbytes(&self) -> usize { self.0.len() }
//!     fn type_name(&self) -> &'static str { "example.blob" }
//! }
//! fn encode(d: &dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)> {
//!     let b = (d as &dyn std::any::Any).downcast_ref::<Blob>()?;
//!     Some((vec![], vec![Buffer::from(&b.0[..])]))
//! }
//! fn decode(_meta: &[u8], buffers: Vec<Buffer>) -> Result<Value, CodecError> {
//!     match buffers.as_slice() {
//!         [b] => Ok(Value::object(Blob(b.to_vec()))),
//!         _ => Err(CodecError::new("a blob is one buffer")),
//!     }
//! }
//! register_codec("example.blob", encode, decode);
//! ```

use std::sync::{OnceLock, RwLock};

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::value::{Data, Value};

/// A raw buffer of an object's bytes: shared, so the wire format sends it
/// out of band without copying it.
pub type Buffer = Arc<[u8]>;

/// Turns an object into metadata and buffers; `None` if it is not the
/// type the codec is for.
pub type EncodeFn = fn(&dyn Data) -> Option<(Vec<u8>, Vec<Buffer>)>;

/// Rebuilds an object from its metadata and buffers.
pub type DecodeFn = fn(&[u8], Vec<Buffer>) -> Result<Value, CodecError>;

/// A codec's complaint about the bytes it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CodecError(pub String);

impl CodecError {
    /// An error with a message.
    pub fn new(msg: impl std::fmt::Display) -> Self {
        CodecError(msg.to_string())
    }
}

/// A registered codec.
#[derive(Clone, Copy, Debug)]
pub struct Codec {
    /// The stable type name it is registered under.
    pub type_name: &'static str,
    /// Object → bytes.
    pub encode: EncodeFn,
    /// Bytes → object.
    pub decode: DecodeFn,
}

fn codecs() -> &'static RwLock<FxHashMap<&'static str, Codec>> {
    static REG: OnceLock<RwLock<FxHashMap<&'static str, Codec>>> = OnceLock::new();
    REG.get_or_init(|| RwLock::new(FxHashMap::default()))
}

/// Registers the codec of the objects whose [`Data::type_name`] is
/// `type_name`, in this process. Call it at start-up in every process
/// that sends or receives such objects. Registering the same functions
/// twice is fine; two different codecs under one name is a bug and
/// panics.
pub fn register_codec(type_name: &'static str, encode: EncodeFn, decode: DecodeFn) {
    let mut m = codecs().write().unwrap_or_else(|e| e.into_inner());
    let new = Codec { type_name, encode, decode };
    if let Some(old) = m.insert(type_name, new) {
        assert!(
            old.encode as usize == encode as usize && old.decode as usize == decode as usize,
            "two different codecs registered under the type name {type_name:?}"
        );
    }
}

/// The codec registered under `type_name`, if any.
pub fn codec(type_name: &str) -> Option<Codec> {
    codecs().read().unwrap_or_else(|e| e.into_inner()).get(type_name).copied()
}
