//! Task graphs for blockwork.
//!
//! Everything in blockwork becomes a graph of tasks before it runs. This
//! crate holds that graph and the passes over it; it never runs anything
//! and never sees ndarray, Polars or tokio.
//!
//! ```text
//!  TaskSpec by Key ──GraphBuilder::build──▶ Graph (validated DAG, dense ids)
//!                                             │ cull(outputs)
//!                                             │ inline_cheap / fuse_linear
//!                                             │ order() → priorities
//!                                             ▼
//!                                        a scheduler (blockwork-local, distributed)
//! ```
//!
//! - [`Key`]: a task's name plus block index; names are [`tokenize`]d so
//!   the same expression built twice has the same keys.
//! - [`Task`]: an [`Op`] and [`Arg`]s (references, literals, lists, nested tasks).
//! - [`Value`]: what tasks exchange; cheap to clone, knows its size.
//! - [`Op`]: a registered [`NamedFn`] (can run in another process) or a
//!   local closure.
//! - [`Graph`]: validated once when built: a missing reference or a cycle is
//!   a [`GraphError`] naming the keys. A built graph is always a DAG.
//! - [`order`]: priorities that keep memory low.
//! - [`to_dot`] / [`visualize`]: pictures.
//! - [`register_codec`]: how an object value becomes bytes and back, so
//!   blocks can cross between processes; the wire format in
//!   `blockwork-protocol` looks codecs up here, collections register them
//!   here without depending on the cluster's crates.

pub mod builtins;
mod codec;
mod cull;
mod dot;
mod error;
mod fuse;
mod graph;
mod index;
mod key;
pub mod kind;
pub mod layer;
mod op;
mod order;
pub mod params;
mod task;
mod token;
mod value;

pub use codec::{codec, register_codec, Buffer, Codec, CodecError, DecodeFn, EncodeFn};
pub use dot::{to_dot, visualize};
pub use error::GraphError;
pub use fuse::{fuse_linear, inline_cheap, DEFAULT_MAX_FUSED_DEPTH};
pub use graph::{Graph, GraphBuilder};
pub use key::{key_prefix, BlockIndex, Key};
pub use kind::{ErrorKind, Fault};
pub use op::{
    register, registry, registry_layouts, NamedCall, NamedFn, Op, OpKind, Remake, TaskError, TaskResult,
    REMAKE_BUDGET_NS_PER_BYTE,
};
pub use order::order;
pub use params::{KernelParams, Layout, NoParams, Param};
pub use task::{lit, panic_message, r, Arg, FusedPanic, Task, TaskId, TaskSpec};
pub use token::{token_name, tokenize, Token, Tokenize, Tokenizer};
pub use value::{Data, FromValue, IntoValue, Obj, Object, Value, ValueTypeError};
