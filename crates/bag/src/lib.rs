//! Bags: partitioned collections of arbitrary items, as `dask.bag` — the
//! home of semi-structured data (log lines, records) before it becomes a
//! dataframe.
//!
//! ```text
//! read_text("logs/*.gz") ─┐ one partition per file (or per block of lines)
//! from_sequence(items, n) ┴─► Bag<T> ── map / filter / flat_map / map_partitions ──► Bag<U>
//!                                   ├─ count / sum / mean / min / max / fold ──► Item<R>   (a tree of partials)
//!                                   ├─ frequencies / distinct / topk / foldby ──► Bag      (one partition)
//!                                   ├─ groupby(key, n) ──► Bag<(K, Vec<T>)>                (a hash shuffle)
//!                                   └─ compute / take / to_textfiles
//! ```
//!
//! A bag is lazy: each operation adds one graph layer of one task per
//! partition, and nothing runs until `compute`. A partition is a `Vec<T>`
//! inside a task value (the lines of a local text file are read from the
//! file by whatever consumes them: the `lines` module); reductions
//! combine partials in a tree of at most [`SPLIT_EVERY`] inputs per task,
//! so no task holds more than a few partitions' partials. Item-wise steps (`map`, `filter`, `flat_map`)
//! are fused into the task that consumes their items. Functions are Rust
//! closures, which run on the local schedulers (threads by default,
//! `Config` to choose), or registered ones — item-wise steps ([`ItemFn`],
//! `flat_map_named`, fused on the workers as closures are here),
//! reductions ([`FoldFn`], [`FoldByFn`], [`KeyFn`] for top-k and
//! group-by) and partition functions (`map_partitions_named`) — which
//! also run on a cluster: on registered item types ([`register_items`];
//! the built-ins are registered by [`register`]) `read_text`,
//! `from_sequence`, `json`, `pluck`, `count`, `sum`/`mean`/`min`/`max`,
//! `frequencies`, `distinct` and `to_textfiles` are named tasks, and
//! partitions cross between processes (see the `wire` module).
//!
//! Lines from [`read_text`] keep their line terminator, as Dask's do.

mod counts;
mod json;
mod lines;
mod named;
mod ops;
mod part;
mod read;
mod reduce;
mod step;
mod wire;

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use blockwork_graph::layer::{collect, Layer, Namer};
use blockwork_graph::{r, Graph, GraphError, Key, Op, Task, TaskError, Value};
use blockwork_local::{ComputeError, Config};

use crate::step::PipelineParams;

pub use json::{read_json_lines, Json};
pub use named::{register_fold, register_foldby, register_key, FoldByFn, FoldFn, KeyFn};
pub use part::Elem;
pub use read::{from_sequence, read_piece, read_text, text_pieces, write_text_file, TextOptions, TextPiece};
pub use reduce::Number;
pub use step::{register_step, Emit, ItemFn};
pub use wire::{is_registered, register, register_counted, register_items, register_text, Wire};

/// The items of a bag partition's task value (see [`Bag::layer`]); an
/// error names the types when the value holds something else.
pub fn partition_items<T: Elem>(v: &Value) -> std::result::Result<&[T], TaskError> {
    part::items(v)
}

/// A bag partition's task value holding `items`: what the named function
/// of [`Bag::map_partitions_named`] returns.
pub fn partition_value<T: Elem>(items: Vec<T>) -> Value {
    part::value(items)
}

/// Reductions combine at most this many partials per task.
pub const SPLIT_EVERY: usize = 8;

/// What goes wrong with a bag.
#[derive(Debug, thiserror::Error)]
pub enum BagError {
    /// A file could not be listed, read or written; names it.
    #[error("{what}: {source}")]
    Io {
        /// Which file or pattern, and what was being done.
        what: String,
        /// What the file system or the store said.
        source: std::io::Error,
    },
    /// No file matches the pattern (named).
    #[error("read_text: no file matches {0:?}")]
    NoFiles(String),
    /// The arguments cannot make a bag (no partitions, a zero block); says why.
    #[error("{0}")]
    Invalid(String),
    /// The graph could not be built.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Computing failed (a task's error names its key).
    #[error(transparent)]
    Compute(#[from] ComputeError),
}

/// The result type of bag operations.
pub type Result<T> = std::result::Result<T, BagError>;

/// Where a bag's items come from: each partition value of its layer,
/// through the item-wise operations applied since (`map`, `filter`,
/// `flat_map`), fused — an intermediate bag's partition is never built.
/// Items pass as `Cow`: borrowed from a partition, or owned when an
/// operation made them.
pub(crate) type Stream<T> =
    Arc<dyn Fn(&Value, &mut dyn FnMut(Cow<'_, T>)) -> std::result::Result<(), TaskError> + Send + Sync>;

/// A lazy, partitioned collection of items of type `T`.
pub struct Bag<T: Clone> {
    /// The layer whose partitions the items come from.
    layer: Arc<Layer>,
    npartitions: usize,
    stream: Stream<T>,
    /// The names of the registered steps ([`ItemFn`]) the items pass
    /// through since the layer, in order (none: the items are the layer's
    /// partitions themselves); `None` once a closure step is among them.
    steps: Option<Vec<&'static str>>,
    /// The layer of this bag's own partitions, made once when asked for
    /// (its keys, its graph, `compute`).
    own: Arc<OnceLock<Arc<Layer>>>,
}

impl<T: Clone> Clone for Bag<T> {
    fn clone(&self) -> Self {
        Bag {
            layer: Arc::clone(&self.layer),
            npartitions: self.npartitions,
            stream: Arc::clone(&self.stream),
            steps: self.steps.clone(),
            own: Arc::clone(&self.own),
        }
    }
}

impl<T: Clone> std::fmt::Debug for Bag<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bag<{}>({}, {} partitions)", std::any::type_name::<T>(), self.layer.name, self.npartitions)
    }
}

/// The items of the partition values themselves.
fn direct<T: Elem>() -> Stream<T> {
    Arc::new(|v: &Value, emit: &mut dyn FnMut(Cow<'_, T>)| {
        if let Some(done) =
            v.downcast_ref::<lines::TextFile>().and_then(|f| lines::stream_items(f, &mut |x| emit(Cow::Borrowed(x))))
        {
            return done;
        }
        for x in part::items::<T>(v)? {
            emit(Cow::Borrowed(x));
        }
        Ok(())
    })
}

impl<T: Elem> Bag<T> {
    fn from_layer(layer: Layer) -> Bag<T> {
        Bag::from_shared_layer(Arc::new(layer))
    }

    /// The bag whose partitions are the results of `layer`'s tasks.
    fn from_shared_layer(layer: Arc<Layer>) -> Bag<T> {
        let npartitions = layer.tasks.len();
        Bag { layer, npartitions, stream: direct(), steps: Some(Vec::new()), own: Arc::default() }
    }

    /// The same partitions through one more item-wise step (a closure).
    fn with_stream<U: Elem>(&self, stream: Stream<U>) -> Bag<U> {
        Bag { layer: Arc::clone(&self.layer), npartitions: self.npartitions, stream, steps: None, own: Arc::default() }
    }

    /// Whether the items are the layer's partitions themselves.
    fn direct(&self) -> bool {
        self.steps.as_ref().is_some_and(Vec::is_empty)
    }

    /// This bag as the partitions of named tasks, when it can run on a
    /// cluster: itself when direct, else its registered steps' own
    /// partitions; `None` after a closure step.
    fn named_source(&self) -> Option<Bag<T>> {
        if self.direct() {
            return Some(self.clone());
        }
        self.pipeline(|steps| PipelineParams::Items { steps }).map(|_| Bag::from_shared_layer(self.own_layer()))
    }

    /// The graph layer whose tasks make this bag's partitions (one per
    /// partition, in order; their keys are [`Bag::keys`]), for collections
    /// built on a bag (a dataframe of its records). Each task's value
    /// holds the partition's items: read them with [`partition_items`].
    pub fn layer(&self) -> Arc<Layer> {
        self.own_layer()
    }

    /// The layer of this bag's own partitions.
    fn own_layer(&self) -> Arc<Layer> {
        if self.direct() {
            return Arc::clone(&self.layer);
        }
        Arc::clone(self.own.get_or_init(|| match self.pipeline(|steps| PipelineParams::Items { steps }) {
            Some(op) => self.layer_of::<T>("items", op).layer,
            None => self.per_partition("items", |items| Ok(items.to_vec())).layer,
        }))
    }

    /// How many partitions it has.
    pub fn npartitions(&self) -> usize {
        self.npartitions
    }

    /// The keys of its partitions, in order.
    pub fn keys(&self) -> Vec<Key> {
        let layer = self.own_layer();
        (0..self.npartitions).map(|i| layer.key(&[i as u32])).collect()
    }

    /// Its task graph.
    pub fn graph(&self) -> Result<Graph> {
        Ok(collect(&[&self.own_layer()])?)
    }

    /// Every item, partitions in order.
    pub fn compute(&self) -> Result<Vec<T>> {
        self.compute_with(&Config::default())
    }

    /// [`Bag::compute`] with a given configuration.
    pub fn compute_with(&self, config: &Config) -> Result<Vec<T>> {
        let keys = self.keys();
        let values = blockwork_local::compute(self.graph()?, &keys, config)?;
        let mut out = Vec::new();
        for (v, k) in values.iter().zip(&keys) {
            out.extend_from_slice(part::items::<T>(v).map_err(|e| task_error(k, e))?);
        }
        Ok(out)
    }

    /// What feeds every item of a partition value of the layer to a sink.
    fn each(&self) -> Stream<T> {
        Arc::clone(&self.stream)
    }

    /// A new layer of one task per partition, each applying `f` to the
    /// partition's items (the pending item-wise steps run in the same
    /// task).
    fn per_partition<U: Elem>(
        &self,
        what: &str,
        f: impl Fn(&[T]) -> std::result::Result<Vec<U>, TaskError> + Send + Sync + 'static,
    ) -> Bag<U> {
        let (f, direct, each) = (Arc::new(f), self.direct(), self.each());
        let op = Op::local(what, move |args: Vec<Value>| {
            if direct {
                return Ok(part::value(f(part::items::<T>(&args[0])?)?));
            }
            let mut items = Vec::new();
            each(&args[0], &mut |x| items.push(x.into_owned()))?;
            Ok(part::value(f(&items)?))
        });
        self.layer_of(what, op)
    }

    /// A layer of one task per partition running `op` on the source
    /// partition.
    fn layer_of<U: Elem>(&self, what: &str, op: Op) -> Bag<U> {
        let name = layer_name(what, &Namer::new(what).input(&self.layer).add(&op));
        let tasks = (0..self.npartitions)
            .map(|i| {
                (Key::with_shared_name(&name, &[i as u32]), Task::new(op.clone(), vec![r(self.layer.key(&[i as u32]))]))
            })
            .collect();
        Bag::from_layer(Layer::new(name, tasks, vec![Arc::clone(&self.layer)]))
    }
}

/// A layer's name: its operation and a token.
fn layer_name(what: &str, namer: &Namer) -> Arc<str> {
    format!("{what}-{}", namer.token()).into()
}

/// A partition of the wrong type, as the task error of `key`.
fn task_error(key: &Key, e: TaskError) -> BagError {
    BagError::Compute(ComputeError::Task { key: key.clone(), message: e.message, kind: e.kind })
}

/// One lazy value: the result of a reduction of a bag.
pub struct Item<R> {
    layer: Arc<Layer>,
    _r: PhantomData<fn() -> R>,
}

impl<R: Elem> Item<R> {
    /// Its key.
    pub fn key(&self) -> Key {
        self.layer.key(&[0])
    }

    /// Its task graph.
    pub fn graph(&self) -> Result<Graph> {
        Ok(collect(&[&self.layer])?)
    }

    /// The value.
    pub fn compute(&self) -> Result<R> {
        self.compute_with(&Config::default())
    }

    /// [`Item::compute`] with a given configuration.
    pub fn compute_with(&self, config: &Config) -> Result<R> {
        let key = self.key();
        let v = blockwork_local::compute(self.graph()?, std::slice::from_ref(&key), config)?;
        let items = part::items::<R>(&v[0]).map_err(|e| task_error(&key, e))?;
        items.first().cloned().ok_or_else(|| task_error(&key, TaskError::new("a reduction made no value")))
    }
}

impl blockwork_graph::Fault for BagError {
    fn kind(&self) -> blockwork_graph::ErrorKind {
        use blockwork_graph::ErrorKind::*;
        match self {
            BagError::Io { .. } => Environment,
            BagError::NoFiles(_) | BagError::Invalid(_) => User,
            BagError::Graph(e) => blockwork_graph::Fault::kind(e),
            BagError::Compute(e) => blockwork_graph::Fault::kind(e),
        }
    }
}
