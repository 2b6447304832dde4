//! A `LocalCluster` scaled while it computes: workers that join get
//! work, workers that leave take their tasks and results with them, and
//! the result still equals the local threaded scheduler's.
//!
//! Scaling happens at points of progress (roots run so far, counted by
//! the roots themselves), not after sleeps: the graph has more roots
//! than any of those points, so each change lands mid-computation.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use blockwork_graph::{Graph, NamedFn, TaskResult, Value};
use blockwork_runtime::{LocalCluster, RuntimeError, SchedulerOptions, WorkerOptions};
use common::{int, local, timed, tree, TIMEOUT};

/// Roots run so far, in every worker of this process.
static ROOTS_RUN: AtomicUsize = AtomicUsize::new(0);

/// A root that takes a millisecond, so that the computation lasts while
/// the cluster changes.
fn root(_: &Value, args: Vec<Value>) -> TaskResult {
    std::thread::sleep(Duration::from_millis(1));
    ROOTS_RUN.fetch_add(1, Ordering::Relaxed);
    Ok(Value::Int(int(&args[0])))
}

/// A root that takes a millisecond and is not counted.
fn quiet_root(_: &Value, args: Vec<Value>) -> TaskResult {
    std::thread::sleep(Duration::from_millis(1));
    Ok(Value::Int(int(&args[0])))
}

static ROOT: NamedFn = NamedFn::new("scaling.root", root);
static QUIET_ROOT: NamedFn = NamedFn::new("scaling.quiet_root", quiet_root);

fn setup() {
    common::register(&[&ROOT, &QUIET_ROOT]);
}

/// Waits until `ROOTS_RUN` reaches `n` (fails the test after the timeout).
fn wait_for_roots(n: usize) {
    let t0 = Instant::now();
    while ROOTS_RUN.load(Ordering::Relaxed) < n {
        assert!(t0.elapsed() < TIMEOUT, "timed out waiting for {n} roots");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn workers_join_and_leave_during_a_computation() {
    setup();
    let (tasks, out) = tree("scaled", 2048, &ROOT);
    let expected = local(tasks.clone(), &out);
    assert_eq!(int(&expected), (0..2048).sum::<i64>());
    ROOTS_RUN.store(0, Ordering::Relaxed);

    // Stopped workers take their running tasks with them; each such
    // task counts against `allowed_failures`, and several stops in a row
    // may hit one task more than the default allows.
    let mut scheduler = SchedulerOptions::default();
    scheduler.config.allowed_failures = 100;
    let mut cluster = LocalCluster::start_with(2, WorkerOptions::new(1, "w"), scheduler).unwrap();
    let client = cluster.client().unwrap();
    let (done, result) = mpsc::channel();
    let compute = std::thread::spawn(move || {
        let _ = done.send(client.compute(Graph::from_tasks(tasks).unwrap(), &[out]));
    });

    wait_for_roots(200);
    cluster.add_worker().unwrap();
    wait_for_roots(500);
    cluster.scale(5).unwrap();
    assert_eq!(cluster.workers().len(), 5);
    wait_for_roots(900);
    cluster.stop_worker(0).unwrap();
    wait_for_roots(1300);
    cluster.scale(2).unwrap();
    assert_eq!(cluster.workers().len(), 2);
    assert!(ROOTS_RUN.load(Ordering::Relaxed) < 2048, "the computation ended before the cluster changed");

    let got = result.recv_timeout(TIMEOUT).expect("timed out").unwrap();
    compute.join().unwrap();
    assert_eq!(got, vec![expected]);
}

#[test]
fn new_workers_receive_tasks() {
    setup();
    let mut cluster = LocalCluster::start(1, 1).unwrap();
    let first = cluster.workers()[0].id();
    cluster.scale(3).unwrap();
    let added = cluster.add_worker().unwrap().id();
    assert_eq!(cluster.workers().len(), 4);
    assert_ne!(added, first);

    let client = cluster.client().unwrap();
    let (tasks, out) = tree("spread", 256, &QUIET_ROOT);
    let got = timed(move || client.compute(Graph::from_tasks(tasks).unwrap(), &[out]).unwrap());
    assert_eq!(int(&got[0]), (0..256).sum::<i64>());
    let ran: Vec<u64> = cluster.workers().iter().map(|w| w.stats().tasks_run.load(Ordering::Relaxed)).collect();
    assert!(ran.iter().all(|&n| n > 0), "every worker ran tasks: {ran:?}");

    // Scaling down keeps the oldest.
    cluster.scale(1).unwrap();
    assert_eq!(cluster.workers().iter().map(|w| w.id()).collect::<Vec<_>>(), vec![first]);
}

#[test]
fn stopping_a_worker_that_is_not_there_is_an_error() {
    let mut cluster = LocalCluster::start(1, 1).unwrap();
    let err = cluster.stop_worker(3).unwrap_err();
    assert!(matches!(err, RuntimeError::NoSuchWorker { index: 3, count: 1 }), "{err}");
    assert_eq!(err.to_string(), "there is no worker 3: the cluster has 1");
    assert_eq!(cluster.workers().len(), 1);
}
