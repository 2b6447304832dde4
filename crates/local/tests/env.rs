//! A malformed `BLOCKWORK_SCHEDULER` is an error, not a silent fallback.
//! (Its own test binary: it sets the process environment.)

use blockwork_graph::{Graph, Key, Op, Task, Value};
use blockwork_local::{compute, ComputeError, Config, Scheduler};

#[test]
fn a_mistyped_scheduler_variable_is_refused_with_what_is_allowed() {
    let graph =
        Graph::from_tasks([(Key::new("one"), Task::new(Op::local("one", |_| Ok(Value::Int(1))), vec![]))]).unwrap();
    std::env::set_var("BLOCKWORK_SCHEDULER", "thread");
    let err = compute(graph.clone(), &[Key::new("one")], &Config::default()).unwrap_err();
    assert!(matches!(err, ComputeError::Config(_)), "{err}");
    assert!(matches!(&err, ComputeError::Config(c) if c.variable == "BLOCKWORK_SCHEDULER" && c.value == "thread"));
    let msg = err.to_string();
    assert!(msg.contains("\"thread\"") && msg.contains("threads:N") && msg.contains("sync"), "{msg}");
    // An explicit scheduler sets the environment's choice aside.
    let v = compute(graph.clone(), &[Key::new("one")], &Config::with_scheduler(Scheduler::Sync)).unwrap();
    assert!(matches!(v[0], Value::Int(1)));
    std::env::set_var("BLOCKWORK_SCHEDULER", "threads:3");
    assert_eq!(Scheduler::from_env(), Ok(Some(Scheduler::Threads(3))));
    assert!(compute(graph, &[Key::new("one")], &Config::default()).is_ok());
    std::env::remove_var("BLOCKWORK_SCHEDULER");
}
