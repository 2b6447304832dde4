//! `delayed`: lazy Rust function calls that build a task graph, like
//! `dask.delayed`.
//!
//! ```
//! use blockwork_delayed::{delayed, func};
//!
//! let inc = func("inc", |x: i64| x + 1);
//! let add = func("add", |a: i64, b: i64| a + b);
//! let total = func("total", |xs: Vec<i64>| xs.iter().sum::<i64>());
//!
//! let xs: Vec<_> = (0..10).map(|i| inc.call((i,))).collect();    // nothing runs yet
//! let s = add.call((total.call((&xs,)), delayed(100i64)));
//! assert_eq!(s.compute().unwrap(), 155);                         // threads by default
//! ```
//!
//! A [`Delayed<T>`] is a handle on a node of a persistent expression DAG;
//! calls cost O(1) and share their inputs by `Arc`, so building a
//! million-call chain is linear (no graph merging per call). Computing
//! walks the expression once to make a [`Graph`] of exactly the tasks the
//! outputs need, then hands it to a local scheduler. [`compute`] takes
//! several outputs at once (a tuple or a `Vec`) and computes their common
//! parts once. A task's error or panic comes back with its key.

mod func;
mod node;

use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use blockwork_graph::{builtins, tokenize, FromValue, GraphError, IntoValue, Op};
pub use blockwork_graph::{Graph, Key, Value};
pub use blockwork_local::{ComputeError, Config, Scheduler};
pub use func::{arg, func, named, DelayedFn, Inputs, IntoArg, NamedDelayed, TaskFn, TaskOutput};
pub use node::{Node, NodeArg};

use node::build_graph;

/// A lazy value of type `T`: the result of a delayed call, not computed yet.
pub struct Delayed<T> {
    pub(crate) node: Arc<Node>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Delayed { node: Arc::clone(&self.node), _t: PhantomData }
    }
}

impl<T> std::fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Delayed({})", self.node.key)
    }
}

/// Lifts a value into the graph, keyed by its content.
pub fn delayed<T: IntoValue>(x: T) -> Delayed<T> {
    let v = x.into_value();
    let key = Key::new(format!("value-{}", tokenize(&v)));
    Delayed::from_node(Node { key, op: Op::named(&builtins::CONSTANT, v), args: Vec::new() })
}

impl<T> Delayed<T> {
    pub(crate) fn from_node(node: Node) -> Self {
        Delayed { node: Arc::new(node), _t: PhantomData }
    }

    /// The key of this value's task.
    pub fn key(&self) -> &Key {
        &self.node.key
    }

    /// The graph of every task this value needs.
    pub fn graph(&self) -> Result<Graph, GraphError> {
        build_graph([&self.node])
    }

    /// Writes a picture of the graph (`.dot`, or `.svg`/`.png` with Graphviz).
    pub fn visualize(&self, path: impl AsRef<Path>) -> Result<(), GraphError> {
        blockwork_graph::visualize(&self.graph()?, path)
    }

    /// Reinterprets the result type (checked when computed).
    pub fn cast<U>(self) -> Delayed<U> {
        Delayed { node: self.node, _t: PhantomData }
    }
}

impl<T: FromValue> Delayed<T> {
    /// Computes the value on the default scheduler (threads, or
    /// `BLOCKWORK_SCHEDULER`).
    pub fn compute(&self) -> Result<T, ComputeError> {
        self.compute_with(&Config::default())
    }

    /// Computes the value with a given configuration.
    pub fn compute_with(&self, config: &Config) -> Result<T, ComputeError> {
        compute_with(self, config)
    }

    /// Computes the value and returns a handle holding the result, with
    /// the same key: later expressions built on it start from the value.
    pub fn persist(&self) -> Result<Delayed<T>, ComputeError> {
        self.persist_with(&Config::default())
    }

    /// [`Delayed::persist`] with a given configuration.
    pub fn persist_with(&self, config: &Config) -> Result<Delayed<T>, ComputeError> {
        let graph = self.graph()?;
        let key = self.key().clone();
        let mut vals = blockwork_local::compute(graph, std::slice::from_ref(&key), config)?;
        let v = vals.pop().unwrap_or_default();
        Ok(Delayed::from_node(Node { key, op: Op::named(&builtins::CONSTANT, v), args: Vec::new() }))
    }
}

impl<T: FromValue> Delayed<Vec<T>> {
    /// Element `i` of a delayed list (a cheap task, inlined into its readers).
    pub fn get(&self, i: usize) -> Delayed<T> {
        let op = Op::named(&builtins::GETITEM, Value::Int(i as i64));
        let key = Key::new(format!("getitem-{}", tokenize(&(self.key(), i))));
        Delayed::from_node(Node { key, op, args: vec![NodeArg::Node(Arc::clone(&self.node))] })
    }
}

/// Things that can be computed together: a `&Delayed`, a `Vec` or slice
/// of them, or a tuple of such things.
pub trait Computable {
    /// What computing gives.
    type Output;
    /// Adds the output nodes.
    #[doc(hidden)]
    fn nodes<'a>(&'a self, out: &mut Vec<&'a Arc<Node>>);
    /// Takes this collection's results, in the order of `nodes`.
    #[doc(hidden)]
    fn take(&self, vals: &mut std::vec::IntoIter<Value>) -> Result<Self::Output, ComputeError>;
}

impl<T: FromValue> Computable for &Delayed<T> {
    type Output = T;
    fn nodes<'a>(&'a self, out: &mut Vec<&'a Arc<Node>>) {
        out.push(&self.node);
    }
    fn take(&self, vals: &mut std::vec::IntoIter<Value>) -> Result<T, ComputeError> {
        let v = vals.next().unwrap_or_default();
        T::from_value(v).map_err(|source| ComputeError::Output { key: self.key().clone(), source })
    }
}

impl<T: FromValue> Computable for &[Delayed<T>] {
    type Output = Vec<T>;
    fn nodes<'a>(&'a self, out: &mut Vec<&'a Arc<Node>>) {
        out.extend(self.iter().map(|d| &d.node));
    }
    fn take(&self, vals: &mut std::vec::IntoIter<Value>) -> Result<Vec<T>, ComputeError> {
        self.iter().map(|d| (&d).take(vals)).collect()
    }
}

impl<T: FromValue> Computable for &Vec<Delayed<T>> {
    type Output = Vec<T>;
    fn nodes<'a>(&'a self, out: &mut Vec<&'a Arc<Node>>) {
        out.extend(self.iter().map(|d| &d.node));
    }
    fn take(&self, vals: &mut std::vec::IntoIter<Value>) -> Result<Vec<T>, ComputeError> {
        self.iter().map(|d| (&d).take(vals)).collect()
    }
}

macro_rules! computable_tuple {
    ($($C:ident $i:tt),+) => {
        impl<$($C: Computable),+> Computable for ($($C,)+) {
            type Output = ($($C::Output,)+);
            fn nodes<'a>(&'a self, out: &mut Vec<&'a Arc<Node>>) {
                $(self.$i.nodes(out);)+
            }
            fn take(&self, vals: &mut std::vec::IntoIter<Value>) -> Result<Self::Output, ComputeError> {
                Ok(($(self.$i.take(vals)?,)+))
            }
        }
    };
}
computable_tuple!(A 0, B 1);
computable_tuple!(A 0, B 1, C 2);
computable_tuple!(A 0, B 1, C 2, D 3);
computable_tuple!(A 0, B 1, C 2, D 3, E 4);

/// Computes several things at once, sharing their common tasks:
/// `let (a, b) = compute((&x, &y))?`.
pub fn compute<C: Computable>(c: C) -> Result<C::Output, ComputeError> {
    compute_with(c, &Config::default())
}

/// [`compute`] with a given configuration.
pub fn compute_with<C: Computable>(c: C, config: &Config) -> Result<C::Output, ComputeError> {
    let mut nodes = Vec::new();
    c.nodes(&mut nodes);
    let keys: Vec<Key> = nodes.iter().map(|n| n.key.clone()).collect();
    let graph = build_graph(nodes.iter().copied())?;
    let vals = blockwork_local::compute(graph, &keys, config)?;
    c.take(&mut vals.into_iter())
}

/// The graph of several things at once.
pub fn graph_of<C: Computable>(c: C) -> Result<(Graph, Vec<Key>), GraphError> {
    let mut nodes = Vec::new();
    c.nodes(&mut nodes);
    let keys = nodes.iter().map(|n| n.key.clone()).collect();
    Ok((build_graph(nodes.iter().copied())?, keys))
}
