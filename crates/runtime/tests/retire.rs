//! Graceful retirement on an in-process cluster: a worker holding the
//! only copies of persisted results leaves without losing them (the
//! other worker fetches them straight from it), nothing is recomputed;
//! a worker asking to go itself (SIGTERM, `--lifetime`) goes the same
//! way; the HTTP API retires by count; a retirement with nowhere to put
//! the results is refused and the worker runs on.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

mod common;

use blockwork_graph::{lit, r, Graph, Key, NamedFn, Op, Task, TaskResult, Value};
use blockwork_runtime::{LocalCluster, Retire, SchedulerOptions, WorkerOptions};
use common::{int, timed, ADD};

// One counter per test (the tests run at once).
static CALLS_A: AtomicU64 = AtomicU64::new(0);
static CALLS_B: AtomicU64 = AtomicU64::new(0);
fn counted_a(_: &Value, args: Vec<Value>) -> TaskResult {
    CALLS_A.fetch_add(1, Ordering::SeqCst);
    Ok(Value::Int(int(&args[0]) * 10))
}
fn counted_b(_: &Value, args: Vec<Value>) -> TaskResult {
    CALLS_B.fetch_add(1, Ordering::SeqCst);
    Ok(Value::Int(int(&args[0]) * 10))
}
static COUNTED_A: NamedFn = NamedFn::new("retire.counted_a", counted_a);
static COUNTED_B: NamedFn = NamedFn::new("retire.counted_b", counted_b);

fn blocks(f: &'static NamedFn, prefix: &str, n: u32) -> Vec<(Key, Task<Key>)> {
    (0..n).map(|i| (Key::block(prefix, &[i]), Task::new(Op::named(f, Value::Unit), vec![lit(i as i64)]))).collect()
}

fn wait_until(what: &str, ok: impl Fn() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_retired_worker_hands_its_results_over_and_nothing_is_recomputed() {
    common::register(&[&COUNTED_A, &COUNTED_B]);
    timed(|| {
        let mut cluster = LocalCluster::start(1, 1).unwrap();
        let client = cluster.client().unwrap();
        let base = blocks(&COUNTED_A, "ret-a", 8);
        let keys: Vec<Key> = base.iter().map(|(k, _)| k.clone()).collect();
        let before = CALLS_A.load(Ordering::SeqCst);
        // Every result on the one worker, then a second joins.
        let held = client.persist(Graph::from_tasks(base.clone()).unwrap(), &keys).unwrap();
        client.wait(&held, None).unwrap();
        cluster.add_worker().unwrap();
        wait_until("the second worker", || cluster.client().is_ok());
        let first = cluster.workers()[0].address().to_string();
        let out =
            client.retire_workers(Retire::Workers(vec![format!("tcp://{first}")]), Duration::from_secs(30)).unwrap();
        assert_eq!((out.retired.clone(), out.refused.clone()), (vec![first.clone()], vec![]), "{out:?}");
        wait_until("the retired worker to stop", || !cluster.workers()[0].is_running());
        let reason = cluster.workers()[0].close_reason().expect("told why");
        assert!(reason.contains("retired"), "{reason}");
        let fetched = cluster.workers()[1].stats().keys_fetched.load(Ordering::Relaxed);
        assert_eq!(fetched, 8, "the other worker copied every result");
        // The results are still there, computed once.
        let mut tasks = base;
        let total = Key::new("ret-total");
        tasks.push((total.clone(), Task::new(Op::named(&ADD, Value::Unit), keys.iter().cloned().map(r).collect())));
        let v = client.compute(Graph::from_tasks(tasks).unwrap(), std::slice::from_ref(&total)).unwrap();
        assert_eq!(int(&v[0]), 10 * (0..8).sum::<i64>());
        assert_eq!(CALLS_A.load(Ordering::SeqCst) - before, 8, "nothing recomputed");
        // Retiring the last worker holding data is refused: it runs on.
        let last = cluster.workers()[1].address().to_string();
        let out = client.retire_workers(Retire::Workers(vec![last.clone()]), Duration::from_secs(30)).unwrap();
        assert!(out.retired.is_empty() && out.refused[0].0 == last, "{out:?}");
        assert!(out.refused[0].1.contains("no running worker"), "{out:?}");
        assert_eq!(client.gather(&held).unwrap()[3], Value::Int(30));
        // A worker the cluster does not have is named.
        let e = client.retire_workers(Retire::Workers(vec!["tcp://10.9.9.9:1".into()]), Duration::from_secs(5));
        assert!(e.unwrap_err().to_string().contains("no worker \"tcp://10.9.9.9:1\""));
    });
}

#[test]
fn a_worker_asking_to_go_and_the_http_api_retire_gracefully() {
    common::register(&[&COUNTED_A, &COUNTED_B]);
    timed(|| {
        let options = SchedulerOptions { http: Some("127.0.0.1:0".into()), ..SchedulerOptions::default() };
        let mut cluster = LocalCluster::start_with(2, WorkerOptions::new(1, "w"), options).unwrap();
        let http = cluster.http_address().unwrap();
        let client = cluster.client().unwrap();
        let base = blocks(&COUNTED_B, "ret-b", 16);
        let keys: Vec<Key> = base.iter().map(|(k, _)| k.clone()).collect();
        let before = CALLS_B.load(Ordering::SeqCst);
        let held = client.persist(Graph::from_tasks(base).unwrap(), &keys).unwrap();
        client.wait(&held, None).unwrap();
        // SIGTERM and the end of --lifetime ask the scheduler the same way.
        cluster.workers()[0].retire();
        wait_until("the worker that asked to stop", || !cluster.workers()[0].is_running());
        assert!(cluster.workers()[0].close_reason().unwrap().contains("retired"));
        // A worker with a lifetime goes by itself.
        let mut short = WorkerOptions::new(1, "short-lived");
        short.lifetime = Some(Duration::from_millis(300));
        cluster.add_worker_with(short).unwrap();
        wait_until("the short-lived worker", || !cluster.workers()[2].is_running());
        // POST /api/v1/retire_workers {"n": 1} with two workers left: one goes.
        cluster.add_worker().unwrap();
        let body = r#"{"n": 1}"#;
        let request = format!("POST /api/v1/retire_workers HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        let mut s = TcpStream::connect(http).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        let json: serde_json::Value = serde_json::from_str(reply.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_eq!(json["retired"].as_array().map(Vec::len), Some(1), "{reply}");
        assert_eq!(client.gather(&held).unwrap().iter().map(int).sum::<i64>(), 10 * (0..16).sum::<i64>());
        assert_eq!(CALLS_B.load(Ordering::SeqCst) - before, 16, "nothing recomputed");
        let mut s = TcpStream::connect(http).unwrap();
        s.write_all(b"POST /api/v1/retire_workers HTTP/1.1\r\nContent-Length: 9\r\n\r\n{\"n\": -1}").unwrap();
        let mut reply = String::new();
        s.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 400") && reply.contains("must be a number"), "{reply}");
    });
}
