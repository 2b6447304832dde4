//! Blocks handed over in slabs of rows, to a reduction that folds them as
//! they come.
//!
//! A grouped mean adds each time step's map of a block to its group's sum:
//! it reads every element once. When the block is read from a file, the
//! reader has just written all of it, and a block of megabytes has left
//! the cache by the time the fold reads it back: a pass over memory each
//! way that the fold did not need. A [`RowSource`] hands a block over in
//! slabs of rows along its first axis instead, of about [`SLAB_BYTES`]
//! each, and the fold takes each slab while it is still in cache; the
//! block never exists whole.
//!
//! Grouped reductions along axis 0 and reductions over axis 0 (with or
//! without other axes) take their blocks this way; a reduction that keeps
//! axis 0 would have to put its slabs' partials together and takes blocks.
//!
//! Sources register under the name of the operation whose blocks they
//! give (the NetCDF reader registers its reads). A reduction built over
//! an array finds each block's source (`Sources::find`), through the
//! aliases that concatenation and whole-block selections make, and then
//! gives its task the source's parameters instead of the block, as fused
//! programs do with generated blocks. A block whose source is not known
//! here, or that was persisted, is read as a block as before.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use blockwork_graph::layer::Layer;
use blockwork_graph::{builtins, Arg, Key, NamedFn, OpKind, TaskError, Value};

/// About how many bytes a slab holds: a few maps that stay in a core's
/// cache between being written by the source and read by the fold.
pub const SLAB_BYTES: usize = 256 << 10;

/// What a source calls with each slab: a block of some of the rows (a
/// `Value` as the source's operation returns blocks), in order.
pub type EachSlab<'a> = dyn FnMut(Value) -> Result<(), TaskError> + 'a;

/// An operation whose blocks can be handed over in slabs of rows.
pub struct RowSource {
    /// The operation whose blocks this gives.
    pub op: &'static NamedFn,
    /// Calls `each` with the block that the operation with `params` makes,
    /// in consecutive slabs along its first axis of about `bytes` each
    /// (or once with the whole block, where the source cannot do better),
    /// the slabs together being exactly that block: at least one slab,
    /// even for a block of no rows.
    pub rows: fn(params: &Value, bytes: usize, each: &mut EachSlab<'_>) -> Result<(), TaskError>,
}

fn registry() -> &'static RwLock<Vec<&'static RowSource>> {
    static SOURCES: RwLock<Vec<&'static RowSource>> = RwLock::new(Vec::new());
    &SOURCES
}

/// Registers a row source (idempotent). Processes that run tasks from
/// elsewhere register their sources at start-up with their kernels.
pub fn register_rows(source: &'static RowSource) {
    let mut sources = registry().write().unwrap_or_else(|e| e.into_inner());
    if !sources.iter().any(|s| s.op.name == source.op.name) {
        sources.push(source);
    }
}

/// The row source of the operation named `op`.
pub fn row_source(op: &str) -> Option<&'static RowSource> {
    registry().read().unwrap_or_else(|e| e.into_inner()).iter().find(|s| s.op.name == op).copied()
}

/// Where block `idx` of a grid of `grid` blocks per axis is in its
/// layer's tasks, which are in the order of the blocks (C order).
pub(crate) fn position(idx: &[u32], grid: &[usize]) -> usize {
    idx.iter().zip(grid).fold(0, |at, (&i, &n)| at * n + i as usize)
}

/// Aliases followed at most, from a block to its source.
const MAX_ALIASES: usize = 8;

/// Finds the sources of blocks. A layer whose first, middle and last
/// tasks are neither aliases nor a source's is taken to hold none (a
/// layer's tasks share an operation, but at a selection's edges), so a
/// reduction over computed blocks looks at three tasks; other layers are
/// indexed once, when a block is not where its position says.
#[derive(Default)]
pub(crate) struct Sources {
    index: HashMap<*const Layer, HashMap<Key, usize>>,
    holds: HashMap<*const Layer, bool>,
}

impl Sources {
    /// The source and parameters of block `key` of `layer`, which the
    /// layer's task `at` is when its tasks are in the order of its blocks:
    /// its task, or the task an alias (`blockwork.identity`) of it names,
    /// is a registered source's operation with no arguments. `None` for
    /// any other task and for layers persisted on a cluster (their blocks
    /// are held there, not read again).
    pub(crate) fn find(&mut self, layer: &Arc<Layer>, key: &Key, at: usize) -> Option<(&'static RowSource, Value)> {
        let (mut layer, mut key, mut at) = (Arc::clone(layer), key.clone(), Some(at));
        for _ in 0..=MAX_ALIASES {
            if layer.pin.is_some() || !self.holds(&layer) {
                return None;
            }
            let i = match at.take().filter(|&i| layer.tasks.get(i).is_some_and(|(k, _)| *k == key)) {
                Some(i) => i,
                None => self.indexed(&layer, &key)?,
            };
            let task = &layer.tasks[i].1;
            let OpKind::Named { func, params } = task.op.kind() else { return None };
            let next = match &*task.args {
                [] => return row_source(func.name).map(|s| (s, params.clone())),
                [Arg::Ref(next)] if func.name == builtins::IDENTITY.name => next.clone(),
                _ => return None,
            };
            let dep = Arc::clone(layer.deps.iter().find(|d| d.name() == next.name())?);
            (layer, key) = (dep, next);
        }
        None
    }

    /// Whether the layer may hold sources or aliases of them: its first,
    /// middle or last task does (a selection's blocks cut at its edges
    /// are copies, and those between them aliases).
    fn holds(&mut self, layer: &Arc<Layer>) -> bool {
        *self.holds.entry(Arc::as_ptr(layer)).or_insert_with(|| {
            let n = layer.tasks.len();
            [0, n / 2, n.saturating_sub(1)].iter().filter_map(|&i| layer.tasks.get(i)).any(|(_, t)| match t.op.kind() {
                OpKind::Named { func, .. } => func.name == builtins::IDENTITY.name || row_source(func.name).is_some(),
                OpKind::Local { .. } => false,
            })
        })
    }

    /// Where block `key` is in the layer's tasks, by an index of the layer
    /// made once.
    fn indexed(&mut self, layer: &Arc<Layer>, key: &Key) -> Option<usize> {
        let index = self
            .index
            .entry(Arc::as_ptr(layer))
            .or_insert_with(|| layer.tasks.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
        index.get(key).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockwork_graph::{r, Op, Task, TaskResult, TaskSpec};

    fn make(_: &Value, _: Vec<Value>) -> TaskResult {
        Ok(Value::Unit)
    }
    static MAKE: NamedFn = NamedFn::new("test.rows.make", make);
    static OTHER: NamedFn = NamedFn::new("test.rows.other", make);

    fn whole(_: &Value, _: usize, each: &mut EachSlab<'_>) -> Result<(), TaskError> {
        each(Value::Unit)
    }
    static SOURCE: RowSource = RowSource { op: &MAKE, rows: whole };

    fn layer(name: &str, tasks: Vec<TaskSpec>, deps: Vec<Arc<Layer>>) -> Arc<Layer> {
        let name: Arc<str> = name.into();
        let tasks =
            tasks.into_iter().enumerate().map(|(i, t)| (Key::with_shared_name(&name, &[i as u32]), t)).collect();
        Arc::new(Layer::new(name, tasks, deps))
    }

    #[test]
    fn sources_are_found_through_aliases_and_nothing_else() {
        register_rows(&SOURCE);
        register_rows(&SOURCE);
        assert_eq!(registry().read().unwrap().iter().filter(|s| s.op.name == SOURCE.op.name).count(), 1);
        let made = |i: i64| Task::new(Op::named(&MAKE, Value::Int(i)), vec![]);
        let files = layer("files", vec![made(10), made(11), Task::new(Op::named(&OTHER, Value::Unit), vec![])], vec![]);
        let alias = |i: u32| Task::new(Op::named(&builtins::IDENTITY, Value::Unit), vec![r(files.key(&[i]))]);
        let joined = layer("joined", vec![alias(1), alias(0), alias(2)], vec![Arc::clone(&files)]);
        let computed = layer(
            "computed",
            vec![Task::new(Op::named(&MAKE, Value::Unit), vec![r(joined.key(&[0]))])],
            vec![Arc::clone(&joined)],
        );
        let mut s = Sources::default();
        let found = |s: &mut Sources, l: &Arc<Layer>, i: u32| {
            s.find(l, &l.key(&[i]), i as usize).map(|(src, p)| (src.op.name, p))
        };
        assert!(matches!(found(&mut s, &joined, 0), Some(("test.rows.make", Value::Int(11)))));
        assert!(matches!(found(&mut s, &joined, 1), Some(("test.rows.make", Value::Int(10)))));
        assert!(found(&mut s, &joined, 2).is_none(), "an operation with no row source");
        assert!(found(&mut s, &computed, 0).is_none(), "a task with arguments");
        assert!(found(&mut s, &joined, 7).is_none(), "no such block");
        let misplaced = s.find(&joined, &joined.key(&[0]), 2).map(|(_, p)| p);
        assert!(matches!(misplaced, Some(Value::Int(11))), "a block not where its index says is looked up");
        let other = || Task::new(Op::named(&OTHER, Value::Unit), vec![]);
        let edges = layer("edges", vec![other(), made(12), made(13), other()], vec![]);
        assert!(matches!(found(&mut s, &edges, 1), Some((_, Value::Int(12)))), "a selection's middle");
        let none = layer("none", vec![other(), made(14), other(), other(), other()], vec![]);
        assert!(found(&mut s, &none, 1).is_none(), "a layer whose first, middle and last tasks are no source's");
        let pinned = Arc::new(files.pinned_copy(Arc::new(())));
        assert!(found(&mut s, &pinned, 0).is_none(), "a persisted layer");
    }
}
