//! Helpers shared by the cluster tests: integer tasks, graph shapes, the
//! local scheduler's answer, and a timeout around blocking calls.
#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

use blockwork_graph::{lit, r, Graph, Key, NamedFn, Op, Task, TaskResult, Value};

pub const TIMEOUT: Duration = Duration::from_secs(120);

pub fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("not an int: {other:?}"),
    }
}

fn inc(_: &Value, args: Vec<Value>) -> TaskResult {
    Ok(Value::Int(int(&args[0]) + 1))
}

fn add(_: &Value, args: Vec<Value>) -> TaskResult {
    Ok(Value::Int(args.iter().map(int).sum()))
}

pub static INC: NamedFn = NamedFn::new("tests.inc", inc);
pub static ADD: NamedFn = NamedFn::new("tests.add", add);

/// Registers `INC`, `ADD` and `more`.
pub fn register(more: &[&'static NamedFn]) {
    for f in [&INC, &ADD].into_iter().chain(more.iter().copied()) {
        blockwork_graph::register(f);
    }
}

pub fn task(f: &'static NamedFn, args: Vec<blockwork_graph::Arg<Key>>) -> Task<Key> {
    Task::new(Op::named(f, Value::Unit), args)
}

/// `n` (a power of two) roots `root(i)` added pairwise up a binary tree:
/// `2n - 1` tasks whose results move between workers.
pub fn tree(prefix: &str, n: usize, root: &'static NamedFn) -> (Vec<(Key, Task<Key>)>, Key) {
    let mut tasks: Vec<_> =
        (0..n).map(|i| (Key::block(prefix, &[0, i as u32]), task(root, vec![lit(i as i64)]))).collect();
    let (mut level, mut width) = (0u32, n);
    while width > 1 {
        for i in 0..width / 2 {
            let a = Key::block(prefix, &[level, 2 * i as u32]);
            let b = Key::block(prefix, &[level, 2 * i as u32 + 1]);
            tasks.push((Key::block(prefix, &[level + 1, i as u32]), task(&ADD, vec![r(a), r(b)])));
        }
        level += 1;
        width /= 2;
    }
    (tasks, Key::block(prefix, &[level, 0]))
}

/// The threaded local scheduler's value of `out`.
pub fn local(tasks: Vec<(Key, Task<Key>)>, out: &Key) -> Value {
    let graph = Graph::from_tasks(tasks).unwrap();
    let config = blockwork_local::Config::with_scheduler(blockwork_local::Scheduler::Threads(2));
    blockwork_local::compute(graph, std::slice::from_ref(out), &config).unwrap().remove(0)
}

/// Runs `f` on another thread and fails the test if it takes too long.
pub fn timed<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(TIMEOUT).expect("timed out")
}
