//! Fusion and inlining: fewer, bigger tasks.
//!
//! Both passes *substitute* a task into its dependents: the reference is
//! replaced by the task itself ([`crate::Arg::Task`]), so the substituted
//! task runs inside its dependent and its result never becomes a separate
//! key the scheduler must track, store and free.
//!
//! - [`fuse_linear`] collapses chains `a → b → c` where each link is the
//!   only dependency of the next and has no other dependent. The chain
//!   keeps the key of its last task, so outputs still resolve.
//! - [`inline_cheap`] substitutes tasks whose result is cheaper to make
//!   again than to keep (taking an element of a list, a block generated at
//!   memory speed for a few readers: [`crate::Remake`]) into every
//!   dependent, duplicating the work instead of storing its result.
//!
//! Outputs are never substituted away. Nesting is capped by `max_depth`,
//! so evaluation recursion stays shallow however long the chain.

use crate::task::{Arg, Task, TaskId};
use crate::{Graph, GraphError, Key};

/// Default cap on how many tasks fuse into one.
pub const DEFAULT_MAX_FUSED_DEPTH: usize = 32;

/// Fuses linear chains, keeping `outputs` as keys.
pub fn fuse_linear(graph: Graph, outputs: &[Key], max_depth: usize) -> Result<Graph, GraphError> {
    let protected = protected(&graph, outputs)?;
    let refs = ref_counts(&graph);
    Ok(substitute(graph, max_depth, |g, t, _| {
        let ds = g.dependents(t);
        !protected[t.idx()] && ds.len() == 1 && refs[t.idx()] == 1 && g.deps(ds[0]).len() == 1
    }))
}

/// Inlines tasks cheaper to remake than to keep into their dependents
/// (by their op's [`crate::Remake`] and their number of readers), keeping
/// `outputs`.
pub fn inline_cheap(graph: Graph, outputs: &[Key], max_depth: usize) -> Result<Graph, GraphError> {
    let protected = protected(&graph, outputs)?;
    let refs = ref_counts(&graph);
    Ok(substitute(graph, max_depth, |g, t, task| {
        !protected[t.idx()] && !g.dependents(t).is_empty() && task.op.remade_for(refs[t.idx()] as usize)
    }))
}

/// How many references each task's result has among the tasks.
fn ref_counts(graph: &Graph) -> Vec<u32> {
    let mut refs = vec![0u32; graph.len()];
    for t in graph.ids() {
        graph.task(t).visit_refs(&mut |d| refs[d.idx()] += 1);
    }
    refs
}

fn protected(graph: &Graph, outputs: &[Key]) -> Result<Vec<bool>, GraphError> {
    let mut p = vec![false; graph.len()];
    for id in graph.ids_of(outputs)? {
        p[id.idx()] = true;
    }
    Ok(p)
}

/// Substitutes every task selected by `pick` into its dependents, in
/// topological order so a substituted task already holds its own
/// substitutions. A task whose result would nest deeper than `max_depth`
/// stays a task of its own.
fn substitute(mut graph: Graph, max_depth: usize, pick: impl Fn(&Graph, TaskId, &Task<TaskId>) -> bool) -> Graph {
    let order = graph.topological();
    let mut tasks: Vec<Option<Task<TaskId>>> = graph.take_tasks().into_iter().map(Some).collect();
    let mut keep = vec![true; graph.len()];
    let mut any = false;
    for t in order {
        let task = tasks[t.idx()].take().expect("each task is visited once");
        let task = if graph.deps(t).iter().any(|d| !keep[d.idx()]) {
            task.replace_refs(|d| match &tasks[d.idx()] {
                Some(dt) if !keep[d.idx()] => Arg::Fused(Box::new((graph.key(d).clone(), dt.clone()))),
                _ => Arg::Ref(d),
            })
        } else {
            task
        };
        if task.depth() < max_depth && pick(&graph, t, &task) {
            keep[t.idx()] = false;
            any = true;
        }
        tasks[t.idx()] = Some(task);
    }
    let tasks: Vec<Task<TaskId>> = tasks.into_iter().map(|t| t.expect("every task was put back")).collect();
    if !any {
        graph.put_tasks(tasks);
        return graph;
    }
    graph.retain_with(&keep, tasks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins;
    use crate::task::{lit, r};
    use crate::{NamedFn, Op, TaskResult, Value};

    fn inc() -> Op {
        Op::local("inc", |a| match a.as_slice() {
            [Value::Int(i)] => Ok(Value::Int(i + 1)),
            _ => Err(crate::TaskError::new("inc wants an int")),
        })
    }

    fn add() -> Op {
        Op::local("add", |a| Ok(Value::Int(a.iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).sum())))
    }

    fn eval_all(g: &Graph) -> Vec<(Key, Value)> {
        let mut vals: Vec<Option<Value>> = vec![None; g.len()];
        for t in g.topological() {
            let v = g.task(t).eval(&|d: &TaskId| vals[d.idx()].clone().unwrap()).unwrap();
            vals[t.idx()] = Some(v);
        }
        g.ids().map(|t| (g.key(t).clone(), vals[t.idx()].clone().unwrap())).collect()
    }

    /// ```text
    ///  d        chain a → b → c → d fuses into d;
    ///  |        e also reads b, so a → b fuses, but b stays a key
    ///  c   e
    ///   \ /
    ///    b
    ///    |
    ///    a
    /// ```
    #[test]
    fn fuses_linear_chains_only() {
        let g = Graph::from_tasks([
            (Key::new("a"), Task::new(inc(), vec![lit(0i64)])),
            (Key::new("b"), Task::new(inc(), vec![r(Key::new("a"))])),
            (Key::new("c"), Task::new(inc(), vec![r(Key::new("b"))])),
            (Key::new("d"), Task::new(inc(), vec![r(Key::new("c"))])),
            (Key::new("e"), Task::new(inc(), vec![r(Key::new("b"))])),
        ])
        .unwrap();
        let outs = [Key::new("d"), Key::new("e")];
        let f = fuse_linear(g, &outs, DEFAULT_MAX_FUSED_DEPTH).unwrap();
        f.sanity_check();
        let mut names: Vec<&str> = f.keys().iter().map(Key::name).collect();
        names.sort();
        assert_eq!(names, ["b", "d", "e"]);
        let vals = eval_all(&f);
        assert!(vals.contains(&(Key::new("d"), Value::Int(4))));
        assert!(vals.contains(&(Key::new("e"), Value::Int(3))));
    }

    #[test]
    fn long_chains_are_cut_at_max_depth() {
        let n = 100;
        let mut tasks = vec![(Key::block("x", &[0]), Task::new(inc(), vec![lit(0i64)]))];
        for i in 1..n {
            tasks.push((Key::block("x", &[i]), Task::new(inc(), vec![r(Key::block("x", &[i - 1]))])));
        }
        let g = Graph::from_tasks(tasks).unwrap();
        let f = fuse_linear(g, &[Key::block("x", &[n - 1])], 10).unwrap();
        f.sanity_check();
        assert_eq!(f.len(), 10);
        assert!(f.ids().all(|t| f.task(t).depth() <= 10));
        let vals = eval_all(&f);
        assert!(vals.contains(&(Key::block("x", &[n - 1]), Value::Int(n as i64))));
    }

    #[test]
    fn a_task_read_twice_by_its_dependent_is_not_fused() {
        let g = Graph::from_tasks([
            (Key::new("a"), Task::new(inc(), vec![lit(1i64)])),
            (Key::new("b"), Task::new(add(), vec![r(Key::new("a")), r(Key::new("a"))])),
        ])
        .unwrap();
        let f = fuse_linear(g, &[Key::new("b")], 8).unwrap();
        assert_eq!(f.len(), 2);
    }

    /// ```text
    ///   s1    s2        getitem is cheap: each sum gets its own copy
    ///    \   /          and the getitem key disappears
    ///   getitem
    ///     |
    ///    pair
    /// ```
    #[test]
    fn inlines_cheap_tasks_into_every_dependent() {
        let getitem = Op::named(&builtins::GETITEM, Value::Int(1));
        let g = Graph::from_tasks([
            (Key::new("pair"), Task::new(Op::named(&builtins::CONSTANT, (5i64, 7i64).into_value()), vec![])),
            (Key::new("second"), Task::new(getitem, vec![r(Key::new("pair"))])),
            (Key::new("s1"), Task::new(add(), vec![r(Key::new("second")), lit(1i64)])),
            (Key::new("s2"), Task::new(add(), vec![r(Key::new("second")), lit(2i64)])),
        ])
        .unwrap();
        let outs = [Key::new("s1"), Key::new("s2")];
        let f = inline_cheap(g, &outs, 8).unwrap();
        f.sanity_check();
        assert!(f.id(&Key::new("second")).is_none());
        let vals = eval_all(&f);
        assert!(vals.contains(&(Key::new("s1"), Value::Int(8))));
        assert!(vals.contains(&(Key::new("s2"), Value::Int(9))));
    }

    fn costly(params: &Value, _: Vec<Value>) -> TaskResult {
        Ok(params.clone())
    }

    /// Its parameter is its cost in ns per byte.
    static COSTLY: NamedFn = NamedFn::remade_by_cost("test.costly", costly, |p| match p {
        Value::Float(x) => *x,
        _ => f64::INFINITY,
    });

    /// ```text
    ///   s1 … sN         a block made at 0.4 ns/byte is remade for 2 and
    ///    \ | /          3 readers (0.8 ≤ 1 ns/byte of extra work), kept
    ///     gen           for 4 (1.2); one made at 2 ns/byte is kept for 2
    /// ```
    #[test]
    fn remakes_by_cost_and_readers() {
        for (cost, readers, remade) in
            [(0.4, 1, true), (0.4, 2, true), (0.4, 3, true), (0.4, 4, false), (2.0, 2, false)]
        {
            let mut tasks = vec![(Key::new("gen"), Task::new(Op::named(&COSTLY, Value::Float(cost)), vec![]))];
            let outs: Vec<Key> = (0..readers).map(|i| Key::block("s", &[i])).collect();
            for k in &outs {
                tasks.push((k.clone(), Task::new(add(), vec![r(Key::new("gen")), lit(1i64)])));
            }
            let f = inline_cheap(Graph::from_tasks(tasks).unwrap(), &outs, 8).unwrap();
            f.sanity_check();
            assert_eq!(f.id(&Key::new("gen")).is_none(), remade, "cost {cost}, {readers} readers");
        }
    }

    use crate::IntoValue;
}
