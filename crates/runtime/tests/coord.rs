//! Coordination primitives on an in-process cluster: each shared by two
//! clients, with a worker lost mid-use; futures held by variables and
//! queues outlive their first client's handle and the worker that held
//! their result.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use blockwork_graph::{lit, NamedFn, TaskResult, Value};
use blockwork_runtime::{ClientError, Held, LocalCluster, Shared};
use common::{int, timed};

static CALLS: AtomicU64 = AtomicU64::new(0);
fn counted(_: &Value, args: Vec<Value>) -> TaskResult {
    CALLS.fetch_add(1, Ordering::SeqCst);
    Ok(Value::Int(int(&args[0]) * 10))
}
static COUNTED: NamedFn = NamedFn::new("coord.counted", counted);

/// As `counted`, with a counter of its own (tests run in parallel).
static PUBLISHED_CALLS: AtomicU64 = AtomicU64::new(0);
fn counted_published(_: &Value, args: Vec<Value>) -> TaskResult {
    PUBLISHED_CALLS.fetch_add(1, Ordering::SeqCst);
    Ok(Value::Int(int(&args[0]) * 10))
}
static COUNTED_PUBLISHED: NamedFn = NamedFn::new("coord.counted_published", counted_published);

const SHORT: Option<Duration> = Some(Duration::from_millis(300));
const LONG: Option<Duration> = Some(Duration::from_secs(60));

fn value(s: Shared) -> Value {
    match s {
        Shared::Value(v) => v,
        Shared::Future(f) => panic!("expected a value, got the future {}", f.key()),
    }
}

/// Runs `f` on another thread now; its result is joined later.
fn meanwhile<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
    let h = std::thread::spawn(f);
    // Long enough for its request to be parked at the scheduler.
    std::thread::sleep(Duration::from_millis(200));
    h
}

#[test]
fn each_primitive_is_shared_by_two_clients_through_a_lost_worker() {
    common::register(&[]);
    timed(|| {
        let mut cluster = LocalCluster::start(2, 1).unwrap();
        let (a, b) = (cluster.client().unwrap(), cluster.client().unwrap());

        // Variable: a getter waits for the set; a lost worker changes nothing.
        let b2 = b.clone();
        let waiting = meanwhile(move || b2.variable("stage").get(LONG).map(value));
        cluster.stop_worker(0).unwrap();
        a.variable("stage").set(Value::Str("loading".into())).unwrap();
        assert_eq!(waiting.join().unwrap().unwrap(), Value::Str("loading".into()));
        assert_eq!(value(b.variable("stage").get(None).unwrap()), Value::Str("loading".into()));
        b.variable("stage").delete().unwrap();
        let t0 = Instant::now();
        assert!(matches!(a.variable("stage").get(SHORT), Err(ClientError::Timeout(m)) if m.contains("stage")));
        assert!(t0.elapsed() >= Duration::from_millis(250), "answered after its timeout, not before");

        // Queue: first in, first out, across clients; a bounded put waits.
        let q = a.bounded_queue("jobs", 2);
        q.put(Value::Int(1)).unwrap();
        q.put(Value::Int(2)).unwrap();
        let b2 = b.clone();
        let putter = meanwhile(move || b2.bounded_queue("jobs", 2).put(Value::Int(3)));
        assert_eq!(q.qsize().unwrap(), 2, "the third put waits");
        assert_eq!(value(b.queue("jobs").get(None).unwrap()), Value::Int(1));
        putter.join().unwrap().unwrap();
        let items: Vec<Value> = b.queue("jobs").get_many(2, LONG).unwrap().into_iter().map(value).collect();
        assert_eq!(items, [Value::Int(2), Value::Int(3)]);
        assert!(b.queue("jobs").drain().unwrap().is_empty());
        assert!(matches!(b.queue("jobs").get(SHORT), Err(ClientError::Timeout(_))));
        let full = a.bounded_queue("one", 1);
        full.put(Value::Unit).unwrap();
        assert!(matches!(full.put_timeout(Held::Value(Value::Unit), SHORT), Err(ClientError::Timeout(_))));

        // Lock: excludes across clients and handles; passes on release.
        let lock = a.lock("ingest");
        let guard = lock.lock().unwrap();
        assert!(!b.lock("ingest").acquire(SHORT).unwrap());
        assert!(!a.lock("ingest").acquire(Some(Duration::ZERO)).unwrap(), "another handle of a");
        let b2 = b.clone();
        let waiter = meanwhile(move || {
            let l = b2.lock("ingest");
            let got = l.acquire(LONG);
            (got, l.release())
        });
        cluster.add_worker().unwrap();
        assert!(matches!(b.lock("ingest").release(), Err(ClientError::Refused(m)) if m.contains("not held")));
        drop(guard);
        let (got, released) = waiter.join().unwrap();
        assert!(got.unwrap());
        released.unwrap();
        assert!(!lock.locked().unwrap());

        // Event: every waiter wakes on set; stays set until cleared.
        let b2 = b.clone();
        let w1 = meanwhile(move || b2.event("ready").wait(LONG));
        let b3 = b.clone();
        let w2 = meanwhile(move || b3.event("ready").wait(None));
        assert!(!a.event("ready").is_set().unwrap());
        a.event("ready").set().unwrap();
        assert!(w1.join().unwrap().unwrap() && w2.join().unwrap().unwrap());
        assert!(b.event("ready").wait(SHORT).unwrap());
        a.event("ready").clear().unwrap();
        assert!(!b.event("ready").wait(SHORT).unwrap());

        // Semaphore: at most two leases at once; a size disagreement is refused.
        let (s1, s2) = (a.semaphore("db", 2), a.semaphore("db", 2));
        assert!(s1.acquire(None).unwrap() && s2.acquire(None).unwrap());
        assert_eq!(b.semaphore("db", 2).leases().unwrap(), 2);
        assert!(!b.semaphore("db", 2).acquire(SHORT).unwrap());
        let b2 = b.clone();
        let waiter = meanwhile(move || b2.semaphore("db", 2).acquire(LONG));
        s1.release().unwrap();
        assert!(waiter.join().unwrap().unwrap());
        assert!(matches!(s1.release(), Err(ClientError::Refused(_))), "s1 has no lease left");
        assert!(
            matches!(b.semaphore("db", 3).acquire(None), Err(ClientError::Refused(m)) if m.contains("has 2 leases"))
        );
    });
}

#[test]
fn a_client_that_leaves_lets_go_of_its_lock_and_leases() {
    common::register(&[]);
    timed(|| {
        let cluster = LocalCluster::start(1, 1).unwrap();
        let b = cluster.client().unwrap();
        {
            let a = cluster.client().unwrap();
            assert!(a.lock("l").acquire(None).unwrap());
            assert!(a.semaphore("s", 1).acquire(None).unwrap());
            a.variable("kept").set(Value::Int(7)).unwrap();
        }
        assert!(b.lock("l").acquire(LONG).unwrap());
        assert!(b.semaphore("s", 1).acquire(LONG).unwrap());
        assert_eq!(value(b.variable("kept").get(None).unwrap()), Value::Int(7), "values stay");
        // Closed while a handle on its lock lives: the lock passes on, and
        // the handle fails from then on.
        let c = cluster.client().unwrap();
        let held = c.lock("m");
        assert!(held.acquire(None).unwrap());
        c.close();
        assert!(b.lock("m").acquire(LONG).unwrap());
        assert!(matches!(held.release(), Err(ClientError::Conn { .. })));
    });
}

#[test]
fn futures_held_by_a_variable_and_a_queue_outlive_their_worker() {
    common::register(&[&COUNTED]);
    timed(|| {
        let mut cluster = LocalCluster::start(1, 1).unwrap();
        let (a, b) = (cluster.client().unwrap(), cluster.client().unwrap());
        let before = CALLS.load(Ordering::SeqCst);
        let f = a.submit(&COUNTED, vec![lit(4i64)]).unwrap();
        assert_eq!(f.result().unwrap(), Value::Int(40));
        a.variable("result").set_future(&f).unwrap();
        a.queue("results").put_future(&f).unwrap();
        let key = f.key().clone();
        drop(f);
        // Only the variable and the queue hold the key now: kept, not recomputed.
        let Shared::Future(g) = b.variable("result").get(None).unwrap() else { panic!("a future") };
        assert_eq!(g.key(), &key);
        assert_eq!(g.result().unwrap(), Value::Int(40));
        assert_eq!(CALLS.load(Ordering::SeqCst) - before, 1);
        drop(g);
        // The one worker holding it is lost: recomputed on the next.
        cluster.add_worker().unwrap();
        cluster.stop_worker(0).unwrap();
        let Shared::Future(h) = b.queue("results").get(LONG).unwrap() else { panic!("a future") };
        assert_eq!(h.result_timeout(Duration::from_secs(60)).unwrap(), Value::Int(40));
        assert_eq!(CALLS.load(Ordering::SeqCst) - before, 2, "recomputed once, after the loss");
        // A future of another cluster is refused, naming its key.
        let other = LocalCluster::start(1, 1).unwrap();
        let stranger = other.client().unwrap().submit(&COUNTED, vec![lit(99i64)]).unwrap();
        match a.variable("result").set_future(&stranger) {
            Err(ClientError::Refused(m)) => assert!(m.contains(&stranger.key().to_string()), "{m}"),
            r => panic!("expected a refusal, got {r:?}"),
        }
    });
}

#[test]
fn a_published_dataset_outlives_its_publisher() {
    common::register(&[&COUNTED_PUBLISHED]);
    timed(|| {
        let cluster = LocalCluster::start(2, 1).unwrap();
        let b = cluster.client().unwrap();
        let before = PUBLISHED_CALLS.load(Ordering::SeqCst);
        {
            let a = cluster.client().unwrap();
            let fs = a.map(&COUNTED_PUBLISHED, (100..104i64).map(lit)).unwrap();
            a.gather(&fs).unwrap();
            a.publish_dataset("grid", &fs, Value::Str("four tens".into()), false).unwrap();
            let again = a.publish_dataset("grid", &fs, Value::Unit, false);
            assert!(matches!(again, Err(ClientError::Refused(m)) if m.contains("published already")));
        }
        assert_eq!(b.list_datasets().unwrap(), ["grid"]);
        let d = b.get_dataset("grid").unwrap();
        assert_eq!(d.meta, Value::Str("four tens".into()));
        let values = b.gather(&d.futures).unwrap();
        assert_eq!(values, (100..104i64).map(|i| Value::Int(i * 10)).collect::<Vec<_>>());
        assert_eq!(PUBLISHED_CALLS.load(Ordering::SeqCst) - before, 4, "kept, not recomputed");
        drop(d);
        b.unpublish_dataset("grid").unwrap();
        assert!(b.list_datasets().unwrap().is_empty());
        assert!(matches!(b.get_dataset("grid"), Err(ClientError::Refused(m)) if m.contains("no dataset \"grid\"")));
    });
}

/// A task that reaches the scheduler from its worker: it puts its input
/// on the queue "from-tasks" and answers with the variable "for-tasks".
fn uses_the_cluster(_: &Value, args: Vec<Value>) -> TaskResult {
    let fail = |e: ClientError| blockwork_graph::TaskError::new(e.to_string());
    let client = blockwork_runtime::get_client().map_err(fail)?;
    client.queue("from-tasks").put(args[0].clone()).map_err(fail)?;
    match client.variable("for-tasks").get(Some(Duration::from_secs(30))).map_err(fail)? {
        Shared::Value(v) => Ok(v),
        Shared::Future(f) => Err(blockwork_graph::TaskError::new(format!("a future {}", f.key()))),
    }
}
static USES_THE_CLUSTER: NamedFn = NamedFn::new("coord.uses_the_cluster", uses_the_cluster);

#[test]
fn tasks_reach_the_primitives_through_their_workers_client() {
    common::register(&[&USES_THE_CLUSTER]);
    timed(|| {
        let cluster = LocalCluster::start(2, 1).unwrap();
        let client = cluster.client().unwrap();
        client.variable("for-tasks").set(Value::Str("hello".into())).unwrap();
        let fs = client.map(&USES_THE_CLUSTER, (0..4i64).map(lit)).unwrap();
        let got = client.gather(&fs).unwrap();
        assert_eq!(got, vec![Value::Str("hello".into()); 4]);
        let mut put: Vec<i64> = (0..4)
            .map(|_| match client.queue("from-tasks").get(Some(Duration::from_secs(5))).unwrap() {
                Shared::Value(v) => int(&v),
                other => panic!("{other:?}"),
            })
            .collect();
        put.sort_unstable();
        assert_eq!(put, vec![0, 1, 2, 3]);
    });
}
