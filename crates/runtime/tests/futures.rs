//! The futures API on an in-process cluster: submit, map, scatter,
//! gather, wait, as_completed, cancel, result with a timeout, persist and
//! reuse, errors with their keys.

use std::time::Duration;

mod common;

use blockwork_graph::{lit, r, Arg, Graph, Key, NamedFn, Op, Task, TaskError, TaskResult, Value};
use blockwork_runtime::{ClientError, LocalCluster, Status};
use common::{int, timed, ADD, INC, TIMEOUT};

fn fail(_: &Value, _: Vec<Value>) -> TaskResult {
    Err(TaskError::new("this task always fails"))
}

/// Sleeps as many milliseconds as its argument, then returns it.
fn sleep_ms(_: &Value, args: Vec<Value>) -> TaskResult {
    std::thread::sleep(Duration::from_millis(int(&args[0]) as u64));
    Ok(args[0].clone())
}

/// Counts its calls, so tests can tell a reused result from a recomputed one.
static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
fn counted(_: &Value, args: Vec<Value>) -> TaskResult {
    CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Ok(Value::Int(int(&args[0]) * 10))
}

static FAIL: NamedFn = NamedFn::new("futures.fail", fail);
static SLEEP: NamedFn = NamedFn::new("futures.sleep", sleep_ms);
static COUNTED: NamedFn = NamedFn::new("futures.counted", counted);

fn setup() {
    common::register(&[&FAIL, &SLEEP, &COUNTED]);
}

#[test]
fn submit_map_and_gather() {
    setup();
    timed(|| {
        let cluster = LocalCluster::start(2, 2).unwrap();
        let client = cluster.client().unwrap();
        let a = client.submit(&INC, vec![lit(1i64)]).unwrap();
        let b = client.submit(&ADD, vec![Arg::from(&a), lit(10i64)]).unwrap();
        assert_eq!(int(&b.result().unwrap()), 12);
        assert_eq!(a.status(), Status::Finished);
        assert!(a.key().name().starts_with("inc-"), "{}", a.key());
        // Equal calls are one key, computed once.
        let again = client.submit(&INC, vec![lit(1i64)]).unwrap();
        assert_eq!(again.key(), a.key());
        let xs = client.map(&INC, (0..100i64).map(lit)).unwrap();
        let total = client.submit(&ADD, xs.iter().map(Arg::from).collect()).unwrap();
        assert_eq!(int(&total.result().unwrap()), (1..=100).sum::<i64>());
        let values = client.gather(&xs).unwrap();
        assert_eq!(values.iter().map(int).collect::<Vec<_>>(), (1..=100).collect::<Vec<_>>());
    });
}

#[test]
fn scattered_values_feed_tasks() {
    setup();
    timed(|| {
        let cluster = LocalCluster::start(2, 1).unwrap();
        let client = cluster.client().unwrap();
        let data = client.scatter(vec![Value::Int(5), Value::Int(7)]).unwrap();
        assert_eq!(data[0].status(), Status::Finished);
        let s = client.submit(&ADD, data.iter().map(Arg::from).collect()).unwrap();
        assert_eq!(int(&s.result().unwrap()), 12);
        assert_eq!(client.gather(&data).unwrap(), vec![Value::Int(5), Value::Int(7)]);
    });
}

#[test]
fn errors_name_their_key_and_spread_to_dependents() {
    setup();
    timed(|| {
        let cluster = LocalCluster::start(1, 1).unwrap();
        let client = cluster.client().unwrap();
        let bad = client.submit(&FAIL, vec![]).unwrap();
        let after = client.submit(&INC, vec![Arg::from(&bad)]).unwrap();
        match after.result() {
            Err(ClientError::Task { key, message, .. }) => {
                assert_eq!(&key, bad.key());
                assert!(message.contains("always fails"), "{message}");
            }
            other => panic!("expected a task error, got {other:?}"),
        }
        assert!(matches!(bad.status(), Status::Erred(_)));
        assert!(matches!(bad.error(), Some(ClientError::Task { .. })));
        // A closure cannot be submitted, and says so with its key.
        let task = Task::new(Op::local("mine", |_| Ok(Value::Unit)), vec![]);
        let err = client.submit_task(Key::new("closure-1"), task, &Default::default()).unwrap_err();
        assert!(err.to_string().contains("closure-1"), "{err}");
    });
}

#[test]
fn wait_as_completed_timeout_and_cancel() {
    setup();
    timed(|| {
        let cluster = LocalCluster::start(2, 1).unwrap();
        let client = cluster.client().unwrap();
        let slow = client.submit(&SLEEP, vec![lit(1500i64)]).unwrap();
        let fast = client.submit(&SLEEP, vec![lit(1i64)]).unwrap();
        let (done, not_done) = client.wait_first(&[slow.clone(), fast.clone()], Some(TIMEOUT)).unwrap();
        assert_eq!(done.iter().map(|f| f.key().clone()).collect::<Vec<_>>(), vec![fast.key().clone()]);
        assert_eq!(not_done.len(), 1);
        assert!(matches!(slow.result_timeout(Duration::from_millis(50)), Err(ClientError::Timeout(_))));
        let (done, not_done) = client.wait(std::slice::from_ref(&slow), Some(Duration::from_millis(20))).unwrap();
        assert!(done.is_empty() && not_done.len() == 1);
        slow.cancel();
        match slow.result() {
            Err(ClientError::Cancelled(k)) => assert_eq!(&k, slow.key()),
            other => panic!("expected cancelled, got {other:?}"),
        }
        // as_completed yields in completion order.
        let fs: Vec<_> = [300i64, 2, 150].iter().map(|&ms| client.submit(&SLEEP, vec![lit(ms)]).unwrap()).collect();
        let order: Vec<i64> = client.as_completed(fs).unwrap().map(|f| int(&f.unwrap().result().unwrap())).collect();
        assert_eq!(order, vec![2, 150, 300]);
    });
}

#[test]
fn persisted_results_are_reused_and_released_with_their_futures() {
    setup();
    timed(|| {
        let cluster = LocalCluster::start(2, 1).unwrap();
        let client = cluster.client().unwrap();
        let base: Vec<(Key, Task<Key>)> = (0..4)
            .map(|i| (Key::block("counted-p", &[i]), Task::new(Op::named(&COUNTED, Value::Unit), vec![lit(i as i64)])))
            .collect();
        let keys: Vec<Key> = base.iter().map(|(k, _)| k.clone()).collect();
        let before = CALLS.load(std::sync::atomic::Ordering::SeqCst);
        let held = client.persist(Graph::from_tasks(base.clone()).unwrap(), &keys).unwrap();
        client.wait(&held, None).unwrap();
        let runs = CALLS.load(std::sync::atomic::Ordering::SeqCst) - before;
        assert_eq!(runs, 4);
        // A graph on top of the persisted keys: they are not computed again.
        let mut tasks = base.clone();
        let total = Key::new("total-p");
        tasks.push((total.clone(), Task::new(Op::named(&ADD, Value::Unit), keys.iter().cloned().map(r).collect())));
        let v = client.compute(Graph::from_tasks(tasks.clone()).unwrap(), std::slice::from_ref(&total)).unwrap();
        assert_eq!(int(&v[0]), 60);
        assert_eq!(CALLS.load(std::sync::atomic::Ordering::SeqCst) - before, 4, "persisted keys reused");
        // A held key with a single reader stays a task of its own (it is
        // not fused into the reader, where its placeholder cannot run).
        let mut chain = base.clone();
        let single = Key::new("single-p");
        chain.push((single.clone(), Task::new(Op::named(&ADD, Value::Unit), vec![r(keys[1].clone())])));
        let v = client.compute(Graph::from_tasks(chain).unwrap(), std::slice::from_ref(&single)).unwrap();
        assert_eq!(int(&v[0]), 10);
        assert_eq!(CALLS.load(std::sync::atomic::Ordering::SeqCst) - before, 4, "reused, not recomputed");
        // Once released, they are computed again.
        drop(held);
        let v = client.compute(Graph::from_tasks(tasks).unwrap(), std::slice::from_ref(&total)).unwrap();
        assert_eq!(int(&v[0]), 60);
        assert_eq!(CALLS.load(std::sync::atomic::Ordering::SeqCst) - before, 8);
    });
}

#[test]
fn futures_of_another_client_are_refused() {
    setup();
    timed(|| {
        let cluster = LocalCluster::start(1, 1).unwrap();
        let (c1, c2) = (cluster.client().unwrap(), cluster.client().unwrap());
        let f = c1.submit(&INC, vec![lit(1i64)]).unwrap();
        assert!(matches!(c2.gather(std::slice::from_ref(&f)), Err(ClientError::OtherClient(_))));
        assert_eq!(int(&c1.gather(&[f]).unwrap()[0]), 2);
    });
}

/// Fails the first two times it runs, then returns 1.
static FLAKY_RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
fn flaky(_: &Value, _: Vec<Value>) -> TaskResult {
    match FLAKY_RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
        0 | 1 => Err(TaskError::new("not yet")),
        _ => Ok(Value::Int(1)),
    }
}
static FLAKY: NamedFn = NamedFn::new("futures.flaky", flaky);

#[test]
fn retries_and_resources() {
    setup();
    blockwork_graph::register(&FLAKY);
    timed(|| {
        let mut gpu = blockwork_runtime::WorkerOptions::new(1, "gpu");
        gpu.resources = vec![("GPU".into(), 1.0)];
        let mut cluster =
            LocalCluster::start_with(1, blockwork_runtime::WorkerOptions::new(1, "cpu"), Default::default()).unwrap();
        let client = cluster.client().unwrap();
        let opts = blockwork_runtime::TaskOptions::default().resource("GPU", 1.0);
        // No worker offers a GPU yet: the tasks wait for one.
        let fs = client.map_with(&INC, (0..20i64).map(lit), &opts).unwrap();
        assert!(client.wait(&fs, Some(Duration::from_millis(300))).unwrap().0.is_empty());
        // The GPU worker may start on them before this thread looks again: the
        // wait above showed they waited, the counts below who ran them.
        LocalCluster::add_worker_with(&mut cluster, gpu).unwrap();
        assert_eq!(client.gather(&fs).unwrap().len(), 20);
        let ran: Vec<u64> =
            cluster.workers().iter().map(|w| w.stats().tasks_run.load(std::sync::atomic::Ordering::Relaxed)).collect();
        assert_eq!(ran, vec![0, 20], "only the GPU worker ran them");
        // Two failures, two retries: the third run's value.
        let f = client.submit_with(&FLAKY, vec![], &blockwork_runtime::TaskOptions::default().retries(2)).unwrap();
        assert_eq!(f.result().unwrap(), Value::Int(1));
    });
}
