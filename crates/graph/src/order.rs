//! Static ordering: which runnable task to prefer, so memory stays low.
//!
//! [`order`] gives every task a priority (0 runs first). The schedulers
//! keep runnable tasks sorted by it. The order is a depth-first walk from
//! the outputs with two rules on top:
//!
//! 1. **Deep first.** Among the missing dependencies of a task, walk the
//!    one with the longest chain below it first (then the biggest
//!    subtree), the Sethi–Ullman rule: the branch that needs most memory
//!    to compute runs while nothing else is held.
//! 2. **Finish what is in memory.** When a task is placed, any dependent
//!    that has become runnable and would release an input (it is the last
//!    reader of one) is placed at once, before the walk goes on to start
//!    new roots. This is what frees a shared input as soon as its last
//!    reader can run.
//!
//! The walk keeps an explicit stack (no recursion: a million-task chain is
//! fine) and sorts each task's dependencies once, so it costs
//! O((V + E) log E).

use crate::task::TaskId;
use crate::Graph;

/// Priorities by task id: `order(g)[t]` is the position of `t` in the
/// preferred run order.
pub fn order(graph: &Graph) -> Vec<u32> {
    Orderer::new(graph).run()
}

struct Orderer<'g> {
    g: &'g Graph,
    /// Longest chain of dependencies below a task, itself included.
    height: Vec<u32>,
    /// Size of the subtree below a task (shared parts counted again), saturating.
    weight: Vec<u32>,
    priority: Vec<u32>,
    next: u32,
    /// Dependencies of a task not placed yet.
    unplaced_deps: Vec<u32>,
    /// Dependents of a task not placed yet.
    unplaced_dependents: Vec<u32>,
}

impl<'g> Orderer<'g> {
    fn new(g: &'g Graph) -> Self {
        let n = g.len();
        let mut height = vec![1u32; n];
        let mut weight = vec![1u32; n];
        for t in g.topological() {
            for &d in g.deps(t) {
                height[t.idx()] = height[t.idx()].max(height[d.idx()] + 1);
                weight[t.idx()] = weight[t.idx()].saturating_add(weight[d.idx()]);
            }
        }
        Orderer {
            g,
            height,
            weight,
            priority: vec![u32::MAX; n],
            next: 0,
            unplaced_deps: g.ids().map(|t| g.deps(t).len() as u32).collect(),
            unplaced_dependents: g.ids().map(|t| g.dependents(t).len() as u32).collect(),
        }
    }

    fn placed(&self, t: TaskId) -> bool {
        self.priority[t.idx()] != u32::MAX
    }

    /// The preference among dependencies: deep first, then heavy, then
    /// insertion order.
    fn rank(&self, t: TaskId) -> (std::cmp::Reverse<u32>, std::cmp::Reverse<u32>, TaskId) {
        (std::cmp::Reverse(self.height[t.idx()]), std::cmp::Reverse(self.weight[t.idx()]), t)
    }

    fn run(mut self) -> Vec<u32> {
        // Frames of the walk: (task, start, end) of its sorted dependencies
        // in `pending`, consumed from the end.
        let mut frames: Vec<(TaskId, usize)> = Vec::new();
        let mut pending: Vec<TaskId> = Vec::new();
        let mut sinks: Vec<TaskId> = self.g.sinks().collect();
        sinks.sort_by_key(|&t| self.rank(t));
        for sink in sinks {
            if self.placed(sink) {
                continue;
            }
            self.push_frame(sink, &mut frames, &mut pending);
            while let Some(&(t, start)) = frames.last() {
                // Next dependency of t still to place.
                let mut next_dep = None;
                while pending.len() > start {
                    let d = pending.pop().expect("non-empty");
                    if !self.placed(d) {
                        next_dep = Some(d);
                        break;
                    }
                }
                match next_dep {
                    Some(d) => self.push_frame(d, &mut frames, &mut pending),
                    None => {
                        frames.pop();
                        if !self.placed(t) {
                            self.place(t);
                        }
                    }
                }
            }
        }
        debug_assert!(self.priority.iter().all(|&p| p != u32::MAX));
        self.priority
    }

    fn push_frame(&self, t: TaskId, frames: &mut Vec<(TaskId, usize)>, pending: &mut Vec<TaskId>) {
        let start = pending.len();
        pending.extend(self.g.deps(t).iter().copied().filter(|&d| !self.placed(d)));
        // Popped from the end: the preferred dependency goes last.
        pending[start..].sort_unstable_by_key(|&d| std::cmp::Reverse(self.rank(d)));
        frames.push((t, start));
    }

    /// Places `t`, then every dependent that became runnable and frees an input.
    fn place(&mut self, t: TaskId) {
        let mut work = vec![t];
        while let Some(x) = work.pop() {
            if self.placed(x) {
                continue;
            }
            self.priority[x.idx()] = self.next;
            self.next += 1;
            let g = self.g;
            let mark = work.len();
            for &dep in g.dependents(x) {
                self.unplaced_deps[dep.idx()] -= 1;
            }
            for &d in g.deps(x) {
                self.unplaced_dependents[d.idx()] -= 1;
                if self.unplaced_dependents[d.idx()] == 1 {
                    // One reader of d is left: run it now if it can run.
                    if let Some(&last) = g.dependents(d).iter().find(|&&r| !self.placed(r)) {
                        if self.unplaced_deps[last.idx()] == 0 {
                            work.push(last);
                        }
                    }
                }
            }
            for &dep in g.dependents(x) {
                if self.unplaced_deps[dep.idx()] == 0 && !self.placed(dep) && self.frees_input(dep) {
                    work.push(dep);
                }
            }
            work[mark..].sort_unstable_by_key(|&d| std::cmp::Reverse(self.rank(d)));
        }
    }

    /// Whether placing `t` makes it the last reader of one of its inputs.
    fn frees_input(&self, t: TaskId) -> bool {
        self.g.deps(t).iter().any(|d| self.unplaced_dependents[d.idx()] == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::spec;
    use crate::Key;
    use proptest::prelude::*;

    /// Builds a graph from `(name, deps)` and returns name → priority.
    fn ordered(tasks: &[(&str, &[&str])]) -> impl Fn(&str) -> u32 {
        let g = Graph::from_tasks(tasks.iter().map(|(k, d)| (Key::new(*k), spec(d)))).unwrap();
        let o = order(&g);
        check_valid(&g, &o);
        move |k: &str| o[g.id(&Key::new(k)).unwrap().idx()]
    }

    fn check_valid(g: &Graph, o: &[u32]) {
        let mut seen = vec![false; g.len()];
        for &p in o {
            assert!(!std::mem::replace(&mut seen[p as usize], true), "priority {p} given twice");
        }
        for t in g.ids() {
            for d in g.deps(t) {
                assert!(o[d.idx()] < o[t.idx()], "{} before its dependency {}", g.key(t), g.key(*d));
            }
        }
    }

    /// ```text
    ///    a       b
    ///   / \     / \
    ///  a1  a2  b1  b2
    /// ```
    /// One reduction finishes before the other starts.
    #[test]
    fn independent_reductions_do_not_interleave() {
        let o =
            ordered(&[("a1", &[]), ("a2", &[]), ("b1", &[]), ("b2", &[]), ("a", &["a1", "a2"]), ("b", &["b1", "b2"])]);
        let (first, second) = if o("a") < o("b") { ("a", "b") } else { ("b", "a") };
        for leaf in ["1", "2"] {
            assert!(o(first) < o(&format!("{second}{leaf}")));
        }
    }

    /// ```text
    ///  s1     s2     s3
    ///  /\     /\     /\
    /// r1 r2  r3 r4  r5 r6
    /// ```
    /// Reads are not all started first: each sum runs as soon as its two
    /// reads are done.
    #[test]
    fn roots_are_not_run_ahead_of_their_reductions() {
        let o = ordered(&[
            ("r1", &[]),
            ("r2", &[]),
            ("r3", &[]),
            ("r4", &[]),
            ("r5", &[]),
            ("r6", &[]),
            ("s1", &["r1", "r2"]),
            ("s2", &["r3", "r4"]),
            ("s3", &["r5", "r6"]),
            ("total", &["s1", "s2", "s3"]),
        ]);
        let mut sums = [o("s1"), o("s2"), o("s3")];
        sums.sort();
        // Exactly two reads come before the first sum, four before the second.
        let reads: Vec<u32> = ["r1", "r2", "r3", "r4", "r5", "r6"].iter().map(|r| o(r)).collect();
        assert_eq!(reads.iter().filter(|&&r| r < sums[0]).count(), 2);
        assert_eq!(reads.iter().filter(|&&r| r < sums[1]).count(), 4);
        assert_eq!(o("total"), 9);
    }

    /// ```text
    ///        out
    ///       /   \
    ///      a     d3
    ///      |     |
    ///      a1    d2
    ///            |
    ///            d1
    /// ```
    /// The deep branch runs first, so the shallow one's result is held for
    /// the shortest time.
    #[test]
    fn deep_branches_first() {
        let o = ordered(&[
            ("a1", &[]),
            ("a", &["a1"]),
            ("d1", &[]),
            ("d2", &["d1"]),
            ("d3", &["d2"]),
            ("out", &["a", "d3"]),
        ]);
        assert!(o("d3") < o("a1"));
    }

    /// ```text
    ///   out1   out2
    ///    |      |
    ///    c1     c2
    ///     \    /
    ///       x
    /// ```
    /// Once c1 ran, c2 is x's last reader: it is placed at once (after
    /// out1, which frees c1), so x is freed before anything else starts.
    #[test]
    fn last_reader_of_shared_input_runs_next() {
        let o = ordered(&[("x", &[]), ("c1", &["x"]), ("c2", &["x"]), ("out1", &["c1"]), ("out2", &["c2"])]);
        assert_eq!(o("x"), 0);
        assert_eq!(o("c2"), 3);
        assert_eq!(o("out2"), 4);
    }

    /// ```text
    ///   agg
    ///  / | \ …
    /// l0 l1 l2 …
    /// ```
    #[test]
    fn fan_in_runs_leaves_in_insertion_order() {
        let names: Vec<String> = (0..50).map(|i| format!("l{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut tasks: Vec<(&str, &[&str])> = refs.iter().map(|n| (*n, &[] as &[&str])).collect();
        tasks.push(("agg", &refs));
        let o = ordered(&tasks);
        for (i, name) in names.iter().enumerate() {
            assert_eq!(o(name), i as u32);
        }
        assert_eq!(o("agg"), 50);
    }

    #[test]
    fn long_chain_does_not_recurse() {
        let n = 200_000u32;
        let mut tasks = vec![(Key::block("c", &[0]), spec(&[]))];
        for i in 1..n {
            let t = crate::Task::new(
                crate::Op::named(&crate::builtins::IDENTITY, crate::Value::Unit),
                vec![crate::task::r(Key::block("c", &[i - 1]))],
            );
            tasks.push((Key::block("c", &[i]), t));
        }
        let g = Graph::from_tasks(tasks).unwrap();
        let o = order(&g);
        assert!(o.iter().enumerate().all(|(i, &p)| p == i as u32));
    }

    proptest! {
        /// On random DAGs the order is a permutation that respects every edge.
        #[test]
        fn random_dags_get_valid_orders(n in 1usize..60, edges in proptest::collection::vec((0usize..60, 0usize..60), 0..200)) {
            let mut deps: Vec<Vec<String>> = vec![Vec::new(); n];
            for (a, b) in edges {
                let (a, b) = (a % n, b % n);
                if a < b { deps[b].push(format!("t{a}")); }
            }
            let g = Graph::from_tasks((0..n).map(|i| {
                let d: Vec<&str> = deps[i].iter().map(String::as_str).collect();
                (Key::new(format!("t{i}")), spec(&d))
            })).unwrap();
            g.sanity_check();
            check_valid(&g, &order(&g));
        }
    }
}
