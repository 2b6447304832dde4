//! The lazy expression behind a [`crate::Delayed`]: a persistent DAG of
//! nodes linked by `Arc`, turned into a [`Graph`] only when computed.
//!
//! Building an expression is O(1) per call: nothing is merged until
//! compute time, when one walk from the outputs collects exactly the
//! tasks they need (so no separate cull is needed either).

use std::sync::Arc;

use blockwork_graph::{Arg, Graph, GraphBuilder, GraphError, Key, Op, Task, Tokenize, Tokenizer, Value};
use rustc_hash::FxHashSet;

/// One call in a delayed expression (opaque).
pub struct Node {
    pub(crate) key: Key,
    pub(crate) op: Op,
    pub(crate) args: Vec<NodeArg>,
}

/// An argument of a call: another call's result, a literal, or a list.
pub enum NodeArg {
    /// The result of another delayed call.
    Node(Arc<Node>),
    /// A literal value.
    Lit(Value),
    /// A list of arguments.
    List(Vec<NodeArg>),
}

impl NodeArg {
    fn to_arg(&self) -> Arg<Key> {
        match self {
            NodeArg::Node(n) => Arg::Ref(n.key.clone()),
            NodeArg::Lit(v) => Arg::Lit(v.clone()),
            NodeArg::List(xs) => Arg::List(xs.iter().map(NodeArg::to_arg).collect()),
        }
    }

    fn children<'a>(&'a self, out: &mut Vec<&'a Arc<Node>>) {
        match self {
            NodeArg::Node(n) => out.push(n),
            NodeArg::Lit(_) => {}
            NodeArg::List(xs) => xs.iter().for_each(|x| x.children(out)),
        }
    }

    fn into_children(self, out: &mut Vec<Arc<Node>>) {
        match self {
            NodeArg::Node(n) => out.push(n),
            NodeArg::Lit(_) => {}
            NodeArg::List(xs) => xs.into_iter().for_each(|x| x.into_children(out)),
        }
    }
}

impl Tokenize for NodeArg {
    fn tokenize(&self, t: &mut Tokenizer) {
        match self {
            NodeArg::Node(n) => {
                t.tag(80).add(&n.key);
            }
            NodeArg::Lit(v) => {
                t.tag(81).add(v);
            }
            NodeArg::List(xs) => {
                t.tag(82).add(&(xs.len() as u64));
                xs.iter().for_each(|x| x.tokenize(t));
            }
        }
    }
}

impl Drop for Node {
    /// Drops long chains iteratively: the default recursive drop of a
    /// million-deep chain of `Arc`s would overflow the stack.
    fn drop(&mut self) {
        let mut stack = Vec::new();
        std::mem::take(&mut self.args).into_iter().for_each(|a| a.into_children(&mut stack));
        while let Some(n) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(n) {
                std::mem::take(&mut node.args).into_iter().for_each(|a| a.into_children(&mut stack));
            }
        }
    }
}

/// Collects the tasks of every node reachable from `roots`, each once.
pub(crate) fn build_graph<'a>(roots: impl IntoIterator<Item = &'a Arc<Node>>) -> Result<Graph, GraphError> {
    let mut b = GraphBuilder::new();
    let mut seen: FxHashSet<*const Node> = FxHashSet::default();
    let mut stack: Vec<&Arc<Node>> = roots.into_iter().collect();
    while let Some(n) = stack.pop() {
        if !seen.insert(Arc::as_ptr(n)) {
            continue;
        }
        // Equal keys are equal computations: a second node with a key
        // already present (a pure call made twice) adds nothing.
        let task = Task::new(n.op.clone(), n.args.iter().map(NodeArg::to_arg).collect());
        if b.insert(n.key.clone(), task) {
            n.args.iter().for_each(|a| a.children(&mut stack));
        }
    }
    b.build()
}
