//! Graph layers: the tasks of one operation on a collection.
//!
//! Every operation makes one [`Layer`]: a name (`prefix-token`, where the
//! token covers the operation, its parameters and its inputs' names), one
//! task per output block or partition, and the layers it reads.
//! Collections (arrays, dataframes) share layers by `Arc`, so building an
//! expression costs only its own tasks, and computing it walks the layers
//! once into a [`Graph`] (each layer once, however often it is reached).

use std::sync::Arc;

use crate::{Graph, GraphBuilder, GraphError, Key, TaskSpec, Token, Tokenize, Tokenizer};
use rustc_hash::FxHashSet;

/// Something that keeps a layer's results where they were computed (the
/// futures of a cluster's `persist`) while the layer lives, and so while
/// any collection built on it does.
pub type Pin = Arc<dyn std::any::Any + Send + Sync>;

/// The tasks of one operation.
pub struct Layer {
    /// `prefix-token`: the name part of every key of the layer.
    pub name: Arc<str>,
    /// One task per output block or partition.
    pub tasks: Vec<(Key, TaskSpec)>,
    /// The layers its tasks read.
    pub deps: Vec<Arc<Layer>>,
    /// What keeps its results on a cluster, when it was persisted there.
    pub pin: Option<Pin>,
}

impl Layer {
    /// A layer of `tasks` named `name` reading `deps`.
    pub fn new(name: Arc<str>, tasks: Vec<(Key, TaskSpec)>, deps: Vec<Arc<Layer>>) -> Layer {
        Layer { name, tasks, deps, pin: None }
    }

    /// The same layer, keeping `pin` alive with it.
    pub fn pinned(mut self, pin: Pin) -> Layer {
        self.pin = Some(pin);
        self
    }

    /// A copy of this layer (the same tasks under the same keys, the same
    /// inputs) that keeps `pin` alive: what a collection persisted on a
    /// cluster is built on.
    pub fn pinned_copy(&self, pin: Pin) -> Layer {
        Layer::new(Arc::clone(&self.name), self.tasks.clone(), self.deps.clone()).pinned(pin)
    }

    /// The layer's name (the name part of its keys).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key of one block (or partition) of this layer.
    pub fn key(&self, idx: &[u32]) -> Key {
        Key::with_shared_name(&self.name, idx)
    }
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Layer({}, {} tasks)", self.name, self.tasks.len())
    }
}

/// Builds a token from the operation's description and its input layers.
pub struct Namer(Tokenizer);

impl Namer {
    /// A token of the operation `op`.
    pub fn new(op: &str) -> Self {
        let mut t = Tokenizer::new();
        t.add(op);
        Namer(t)
    }

    /// Also covers a parameter. (A builder step, not `std::ops::Add`.)
    #[allow(clippy::should_implement_trait)]
    pub fn add<T: Tokenize + ?Sized>(mut self, x: &T) -> Self {
        self.0.add(x);
        self
    }

    /// Also covers an input layer (by name).
    pub fn input(mut self, layer: &Layer) -> Self {
        self.0.add(&*layer.name);
        self
    }

    /// Also covers whatever `f` feeds the tokenizer.
    pub fn with(mut self, f: impl FnOnce(&mut Tokenizer)) -> Self {
        f(&mut self.0);
        self
    }

    /// The token of everything covered.
    pub fn token(&self) -> Token {
        self.0.finish()
    }
}

/// Collects the tasks of `roots` and every layer below them.
pub fn collect(roots: &[&Arc<Layer>]) -> Result<Graph, GraphError> {
    let mut seen: FxHashSet<*const Layer> = FxHashSet::default();
    let mut stack: Vec<&Arc<Layer>> = roots.to_vec();
    let mut n = 0;
    let mut layers = Vec::new();
    while let Some(l) = stack.pop() {
        if seen.insert(Arc::as_ptr(l)) {
            n += l.tasks.len();
            layers.push(l);
            stack.extend(l.deps.iter());
        }
    }
    let mut b = GraphBuilder::with_capacity(n);
    for l in layers {
        for (k, t) in &l.tasks {
            b.insert(k.clone(), t.clone());
        }
    }
    b.build()
}

/// Number of distinct tasks under `root`.
pub fn count_tasks(root: &Arc<Layer>) -> usize {
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    let mut stack = vec![root];
    let mut n = 0;
    while let Some(l) = stack.pop() {
        if seen.insert(&l.name) {
            n += l.tasks.len();
            stack.extend(l.deps.iter());
        }
    }
    n
}
