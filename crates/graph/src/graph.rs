//! The task graph: tasks by dense id, dependencies both ways, validated.
//!
//! A [`GraphBuilder`] collects [`TaskSpec`]s by key; [`GraphBuilder::build`]
//! resolves every reference to a dense [`TaskId`] and checks the graph
//! once: a reference to a missing key names it and the task that wanted
//! it, a cycle lists its keys. A built [`Graph`] is therefore always a
//! DAG whose references all resolve; every pass (cull, fuse, inline)
//! maps a valid graph to a valid graph.
//!
//! Layout: tasks, keys and adjacency live in flat vectors indexed by id
//! (dependencies and dependents in CSR form, each list sorted and without
//! repeats), so a million-task graph is a handful of allocations.

use rustc_hash::FxHashMap;

use crate::index::KeyIndex;

use crate::error::GraphError;
use crate::task::{Task, TaskId, TaskSpec};
use crate::Key;

/// Collects tasks by key before validation.
#[derive(Default)]
pub struct GraphBuilder {
    keys: Vec<Key>,
    index: KeyIndex,
    tasks: Vec<TaskSpec>,
}

impl GraphBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder with room for `n` tasks.
    pub fn with_capacity(n: usize) -> Self {
        GraphBuilder { keys: Vec::with_capacity(n), index: KeyIndex::with_capacity(n), tasks: Vec::with_capacity(n) }
    }

    /// Adds a task. Keys name computations (they are tokenized from the
    /// operation and its inputs), so a key that is already present keeps
    /// its first task; returns whether the task was new.
    pub fn insert(&mut self, key: Key, task: TaskSpec) -> bool {
        if self.index.get(&self.keys, &key).is_some() {
            return false;
        }
        let id = TaskId(u32::try_from(self.keys.len()).expect("more than 4 billion tasks in one graph"));
        self.keys.push(key);
        self.index.insert_new(&self.keys, id);
        self.tasks.push(task);
        true
    }

    /// Whether a key is present.
    pub fn contains(&self, key: &Key) -> bool {
        self.index.get(&self.keys, key).is_some()
    }

    /// Number of tasks so far.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds every task of a built graph.
    pub fn extend(&mut self, graph: Graph) {
        let Graph { keys, tasks, .. } = graph;
        for (key, task) in keys.iter().zip(tasks) {
            let spec = task.map_refs(|id| keys[id.idx()].clone());
            self.insert(key.clone(), spec);
        }
    }

    /// Resolves references and validates: the result is a DAG.
    pub fn build(self) -> Result<Graph, GraphError> {
        let GraphBuilder { keys, index, tasks } = self;
        let mut resolved = Vec::with_capacity(tasks.len());
        for (i, t) in tasks.into_iter().enumerate() {
            let t = t.try_map_refs(|k| {
                index
                    .get(&keys, &k)
                    .ok_or_else(|| GraphError::MissingDependency { missing: k, wanted_by: keys[i].clone() })
            })?;
            resolved.push(t);
        }
        let graph = Graph::from_resolved(keys, index, resolved);
        graph.check_acyclic()?;
        Ok(graph)
    }
}

/// A validated task graph.
#[derive(Clone)]
pub struct Graph {
    keys: Vec<Key>,
    index: KeyIndex,
    tasks: Vec<Task<TaskId>>,
    dep_start: Vec<u32>,
    deps: Vec<TaskId>,
    dependent_start: Vec<u32>,
    dependents: Vec<TaskId>,
}

impl Graph {
    /// Builds a graph from `(key, task)` pairs.
    pub fn from_tasks(tasks: impl IntoIterator<Item = (Key, TaskSpec)>) -> Result<Graph, GraphError> {
        let mut b = GraphBuilder::new();
        for (k, t) in tasks {
            b.insert(k, t);
        }
        b.build()
    }

    /// Computes adjacency for tasks whose references are known to resolve.
    pub(crate) fn from_resolved(keys: Vec<Key>, index: KeyIndex, tasks: Vec<Task<TaskId>>) -> Graph {
        let n = tasks.len();
        let mut dep_start = Vec::with_capacity(n + 1);
        let mut deps = Vec::with_capacity(n);
        let mut scratch: Vec<TaskId> = Vec::new();
        dep_start.push(0);
        for t in &tasks {
            scratch.clear();
            t.visit_refs(&mut |&id| scratch.push(id));
            if scratch.len() > 1 {
                scratch.sort_unstable();
                scratch.dedup();
            }
            deps.extend_from_slice(&scratch);
            dep_start.push(deps.len() as u32);
        }
        let mut counts = vec![0u32; n + 1];
        for d in &deps {
            counts[d.idx() + 1] += 1;
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let dependent_start = counts.clone();
        let mut fill = counts;
        let mut dependents = vec![TaskId(0); deps.len()];
        for t in 0..n {
            for d in &deps[dep_start[t] as usize..dep_start[t + 1] as usize] {
                let slot = &mut fill[d.idx()];
                dependents[*slot as usize] = TaskId(t as u32);
                *slot += 1;
            }
        }
        Graph { keys, index, tasks, dep_start, deps, dependent_start, dependents }
    }

    /// Fails with the keys of a cycle if there is one (Kahn's algorithm;
    /// what it cannot peel off contains a cycle, which is then walked).
    fn check_acyclic(&self) -> Result<(), GraphError> {
        let n = self.len();
        let mut missing: Vec<u32> = (0..n).map(|t| self.deps(TaskId(t as u32)).len() as u32).collect();
        let mut ready: Vec<TaskId> = (0..n as u32).map(TaskId).filter(|t| missing[t.idx()] == 0).collect();
        let mut done = 0;
        while let Some(t) = ready.pop() {
            done += 1;
            for &d in self.dependents(t) {
                missing[d.idx()] -= 1;
                if missing[d.idx()] == 0 {
                    ready.push(d);
                }
            }
        }
        if done == n {
            return Ok(());
        }
        // Every task left has a dependency that is also left: follow them
        // until one repeats.
        let start = (0..n).find(|&t| missing[t] > 0).map(|t| TaskId(t as u32)).unwrap_or_default();
        let mut seen_at: FxHashMap<TaskId, usize> = FxHashMap::default();
        let mut path = Vec::new();
        let mut cur = start;
        loop {
            if let Some(&i) = seen_at.get(&cur) {
                let keys = path[i..].iter().map(|t: &TaskId| self.keys[t.idx()].clone()).collect();
                return Err(GraphError::Cycle { keys });
            }
            seen_at.insert(cur, path.len());
            path.push(cur);
            cur = *self
                .deps(cur)
                .iter()
                .find(|d| missing[d.idx()] > 0)
                .expect("a task left by Kahn's algorithm has a dependency left too");
        }
    }

    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no tasks.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Number of dependency edges.
    pub fn num_edges(&self) -> usize {
        self.deps.len()
    }

    /// All ids, in insertion order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = TaskId> {
        (0..self.len() as u32).map(TaskId)
    }

    /// The key of a task.
    pub fn key(&self, id: TaskId) -> &Key {
        &self.keys[id.idx()]
    }

    /// All keys, indexed by id.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// The id of a key.
    pub fn id(&self, key: &Key) -> Option<TaskId> {
        self.index.get(&self.keys, key)
    }

    /// The ids of keys, or an error naming the first unknown one.
    pub fn ids_of(&self, keys: &[Key]) -> Result<Vec<TaskId>, GraphError> {
        keys.iter().map(|k| self.id(k).ok_or_else(|| GraphError::UnknownKey(k.clone()))).collect()
    }

    /// The task of an id.
    pub fn task(&self, id: TaskId) -> &Task<TaskId> {
        &self.tasks[id.idx()]
    }

    /// The tasks an id depends on (sorted, each once).
    #[inline]
    pub fn deps(&self, id: TaskId) -> &[TaskId] {
        &self.deps[self.dep_start[id.idx()] as usize..self.dep_start[id.idx() + 1] as usize]
    }

    /// The tasks that depend on an id (sorted, each once).
    #[inline]
    pub fn dependents(&self, id: TaskId) -> &[TaskId] {
        &self.dependents[self.dependent_start[id.idx()] as usize..self.dependent_start[id.idx() + 1] as usize]
    }

    /// Tasks with no dependencies.
    pub fn roots(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.ids().filter(|&t| self.deps(t).is_empty())
    }

    /// Tasks nothing depends on.
    pub fn sinks(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.ids().filter(|&t| self.dependents(t).is_empty())
    }

    /// Ids in an order where every task comes after its dependencies.
    pub fn topological(&self) -> Vec<TaskId> {
        let mut missing: Vec<u32> = self.ids().map(|t| self.deps(t).len() as u32).collect();
        let mut out: Vec<TaskId> = self.roots().collect();
        let mut i = 0;
        while i < out.len() {
            let t = out[i];
            i += 1;
            for &d in self.dependents(t) {
                missing[d.idx()] -= 1;
                if missing[d.idx()] == 0 {
                    out.push(d);
                }
            }
        }
        out
    }

    /// Merges two graphs; a key in both keeps this graph's task.
    pub fn merge(self, other: Graph) -> Result<Graph, GraphError> {
        let mut b = GraphBuilder::with_capacity(self.len() + other.len());
        b.extend(self);
        b.extend(other);
        b.build()
    }

    /// Takes the graph apart: keys and tasks by id.
    pub fn into_parts(self) -> (Vec<Key>, Vec<Task<TaskId>>) {
        (self.keys, self.tasks)
    }

    /// Keeps the tasks for which `keep` is true, replacing each reference
    /// to a dropped task with `replace(dropped id)`. The caller ensures the
    /// result still resolves (a kept task never refers to a dropped one
    /// without replacing it).
    pub(crate) fn retain_with(self, keep: &[bool], mut tasks: Vec<Task<TaskId>>) -> Graph {
        let mut new_id = vec![TaskId(u32::MAX); self.len()];
        let mut keys = Vec::new();
        let mut n = 0u32;
        for (i, k) in self.keys.into_iter().enumerate() {
            if keep[i] {
                new_id[i] = TaskId(n);
                keys.push(k);
                n += 1;
            }
        }
        let index = KeyIndex::of(&keys);
        let mut kept = Vec::with_capacity(n as usize);
        for (i, t) in tasks.drain(..).enumerate() {
            if keep[i] {
                kept.push(t.map_refs(|id| {
                    let m = new_id[id.idx()];
                    debug_assert!(m.0 != u32::MAX, "a kept task refers to a dropped one");
                    m
                }));
            }
        }
        Graph::from_resolved(keys, index, kept)
    }

    /// Tasks by id, for passes that rewrite them.
    pub(crate) fn take_tasks(&mut self) -> Vec<Task<TaskId>> {
        std::mem::take(&mut self.tasks)
    }

    /// Puts rewritten tasks back (same ids, same references).
    pub(crate) fn put_tasks(&mut self, tasks: Vec<Task<TaskId>>) {
        debug_assert_eq!(tasks.len(), self.keys.len());
        self.tasks = tasks;
    }

    /// Checks the internal invariants; panics on a broken one (a bug).
    pub fn sanity_check(&self) {
        let n = self.len();
        assert_eq!(self.keys.len(), n);
        assert_eq!(self.index.len(), n);
        assert_eq!(self.dep_start.len(), n + 1);
        assert_eq!(self.dependent_start.len(), n + 1);
        for t in self.ids() {
            assert_eq!(self.id(self.key(t)), Some(t));
            let mut refs = Vec::new();
            self.task(t).visit_refs(&mut |&r| refs.push(r));
            refs.sort_unstable();
            refs.dedup();
            assert_eq!(refs, self.deps(t));
            for d in self.deps(t) {
                assert!(self.dependents(*d).contains(&t));
            }
        }
        assert_eq!(self.topological().len(), n, "cycle in a built graph");
    }
}

impl std::fmt::Debug for Graph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Graph({} tasks, {} edges)", self.len(), self.num_edges())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::task::{lit, r};
    use crate::{builtins, Op, Value};

    fn id_op() -> Op {
        Op::named(&builtins::IDENTITY, Value::Unit)
    }

    pub(crate) fn spec(deps: &[&str]) -> TaskSpec {
        if deps.is_empty() {
            return Task::new(Op::named(&builtins::CONSTANT, Value::Int(1)), vec![]);
        }
        Task::new(Op::named(&builtins::LIST, Value::Unit), deps.iter().map(|d| r(Key::new(*d))).collect())
    }

    #[test]
    fn builds_adjacency() {
        let g = Graph::from_tasks([
            (Key::new("a"), spec(&[])),
            (Key::new("b"), spec(&["a", "a"])),
            (Key::new("c"), spec(&["a", "b"])),
        ])
        .unwrap();
        g.sanity_check();
        let [a, b, c] = [g.id(&"a".into()).unwrap(), g.id(&"b".into()).unwrap(), g.id(&"c".into()).unwrap()];
        assert_eq!(g.deps(b), &[a]);
        assert_eq!(g.dependents(a), &[b, c]);
        assert_eq!(g.num_edges(), 3);
        assert_eq!(g.roots().collect::<Vec<_>>(), vec![a]);
        assert_eq!(g.sinks().collect::<Vec<_>>(), vec![c]);
    }

    #[test]
    fn missing_dependency_names_both_keys() {
        let err = Graph::from_tasks([(Key::block("x", &[0]), Task::new(id_op(), vec![r(Key::block("y", &[3]))]))])
            .err()
            .unwrap();
        assert_eq!(err.to_string(), "task (\"x\", 0) depends on (\"y\", 3), which is not in the graph");
    }

    #[test]
    fn cycle_lists_its_keys() {
        let err = Graph::from_tasks([
            (Key::new("root"), spec(&[])),
            (Key::new("a"), spec(&["c", "root"])),
            (Key::new("b"), spec(&["a"])),
            (Key::new("c"), spec(&["b"])),
            (Key::new("out"), spec(&["c"])),
        ])
        .err()
        .unwrap();
        let GraphError::Cycle { keys } = &err else { panic!("{err}") };
        let mut names: Vec<&str> = keys.iter().map(Key::name).collect();
        names.sort();
        assert_eq!(names, ["a", "b", "c"]);
        assert!(err.to_string().starts_with("the graph has a cycle: "), "{err}");
    }

    #[test]
    fn self_reference_is_a_cycle() {
        let err = Graph::from_tasks([(Key::new("a"), Task::new(id_op(), vec![r(Key::new("a"))]))]).err().unwrap();
        assert_eq!(err.to_string(), "the graph has a cycle: a -> a");
    }

    #[test]
    fn merge_shares_common_keys() {
        let g1 = Graph::from_tasks([(Key::new("a"), spec(&[])), (Key::new("b"), spec(&["a"]))]).unwrap();
        let g2 = Graph::from_tasks([(Key::new("a"), spec(&[])), (Key::new("c"), spec(&["a"]))]).unwrap();
        let g = g1.merge(g2).unwrap();
        g.sanity_check();
        assert_eq!(g.len(), 3);
        assert_eq!(g.dependents(g.id(&"a".into()).unwrap()).len(), 2);
    }

    #[test]
    fn hot_structs_stay_small() {
        assert_eq!(std::mem::size_of::<Op>(), 8);
        assert!(std::mem::size_of::<Task<TaskId>>() <= 24);
        assert!(std::mem::size_of::<crate::Arg<TaskId>>() <= 32);
    }

    #[test]
    fn literal_args_are_not_edges() {
        let g = Graph::from_tasks([(Key::new("a"), Task::new(id_op(), vec![lit(3i64)]))]).unwrap();
        assert_eq!(g.num_edges(), 0);
    }
}
