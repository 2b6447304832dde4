//! Chunked N-d arrays: NumPy's API over ndarray blocks, computed by
//! dask.array's blocked algorithms on blockwork's schedulers.
//!
//! ```
//! use blockwork_array as bwa;
//!
//! let x = bwa::ones::<f64>(&[15, 15], [5, 5])?;             // 9 constant blocks, nothing computed
//! let y = (&x + &x.t()).mean_axis(0)?;                       // a graph of blockwise tasks and a tree
//! assert_eq!(y.shape(), &[15]);
//! assert_eq!(y.compute()?.sum(), 30.0);                      // threads by default
//! # Ok::<(), bwa::ArrayError>(())
//! ```
//!
//! Shape of the crate:
//!
//! - [`Array<T>`] holds metadata (shape, [`Chunks`], dtype) and the graph
//!   [`Layer`] that makes its blocks; operations make new layers and never
//!   run anything. [`Array::compute`] collects the layers into a graph and
//!   runs it on a local scheduler.
//! - Blocks are [`Block<T>`]: an owned `ndarray::ArrayD<T>`, or a constant
//!   with no memory behind it.
//! - Every kernel is a registered named function (`blockwork.array.*`)
//!   whose parameters say the dtype and the operation, so array graphs can
//!   run in other processes.
//! - Chunk specifications are normalized in one place ([`Chunks::normalize`]).
//! - A reader can hand its blocks over in slabs of rows ([`rows`]), which
//!   reductions over axis 0, grouped or not, fold while they are in cache.
//!
//! Element types: f64, f32, i64, i32, u8, bool and the complex
//! `Complex<f64>` (complex128) and `Complex<f32>` (complex64)
//! ([`Element`]); arithmetic of ordered numbers needs [`Numeric`], math
//! functions [`Float`]; complex arrays have their own ([`Complex`]).
//! An array whose type only a file or a Python caller knows is a
//! [`dynamic::Dyn`], whose operations take NumPy 2's result types.
//!
//! Shapes that do not broadcast, bad axes and bad chunks are
//! [`ArrayError`]s that say what is wrong; the arithmetic operators (`+`,
//! `-`, `*`, `/`, `%`) panic instead, as ndarray's do, and have fallible
//! twins (`add`, `sub`, …).

mod array;
mod block;
mod chunks;
mod codec;
mod complex;
mod creation;
mod dtype;
pub mod dynamic;
mod error;
pub(crate) use blockwork_graph::layer;
mod npy;
pub mod ops;
mod pattern;
mod rng;
pub mod rows;
pub mod simd;
mod sink;

pub use array::{compute_many, Array, Operand};
pub use block::{block_of, Block};
pub use chunks::{parse_bytes, ChunkSpec, Chunks, AUTO_BLOCK_BYTES};
pub use codec::{register, register_codecs};
pub use complex::{complex, Complex, Part};
pub use creation::{arange, empty, eye, from_ndarray, fromfunction, full, linspace, ones, pattern, random, zeros};
pub use dtype::{DType, Element, Float, Numeric};
pub use error::{ArrayError, Result};
pub use layer::Layer;
pub use npy::{from_npy, read_npy_header, NpyHeader};
pub use ops::blockwise::{blockwise, blockwise_named};
pub use ops::contract::{einsum, tensordot};
pub use ops::elementwise::{where_, BinOp, Input, IntoInput, MathFn};
pub use ops::fft;
pub use ops::groupby::GroupReduction;
pub use ops::join::{block, concatenate, stack};
pub use ops::map::BlockInfo;
pub use ops::overlap::Boundary;
pub use ops::rechunk::{plan_rechunk, plan_rechunk_with, RechunkOpts};
pub use ops::reduce::{ReduceOpts, Reduction};
