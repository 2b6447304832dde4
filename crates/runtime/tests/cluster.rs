//! A whole cluster in this process: graphs of named functions computed on
//! a `LocalCluster` match the local threaded scheduler; errors name their
//! keys; clients share a cluster; bad connections hurt only themselves.
//!
//! Nothing here sleeps to synchronize: blocking calls run under a
//! timeout, and sockets are read until the server closes them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::time::Duration;

mod common;

use blockwork_graph::{lit, r, Graph, Key, NamedFn, Op, Task, TaskError, TaskResult, Value};
use blockwork_protocol::{encode_frame, read_answer, FrameDecoder, Handshake, Hello, Limits, Role};
use blockwork_runtime::{ClientError, LocalCluster};
use common::{int, local, task, timed, tree, ADD, INC, TIMEOUT};

fn sum_list(_: &Value, args: Vec<Value>) -> TaskResult {
    let xs = args[0].as_list().ok_or_else(|| TaskError::new("expected a list"))?;
    Ok(Value::Int(xs.iter().map(int).sum()))
}

fn fail(_: &Value, _: Vec<Value>) -> TaskResult {
    Err(TaskError::new("this task always fails"))
}

/// A root that takes a little while, so that roots spread over workers.
fn slow_one(_: &Value, args: Vec<Value>) -> TaskResult {
    std::thread::sleep(Duration::from_millis(5));
    Ok(Value::Int(int(&args[0])))
}

static SUM: NamedFn = NamedFn::new("tests.sum", sum_list);
static FAIL: NamedFn = NamedFn::new("tests.fail", fail);
static SLOW: NamedFn = NamedFn::new("tests.slow", slow_one);

fn setup() {
    common::register(&[&SUM, &FAIL, &SLOW]);
}

/// `x-0 = 0; x-i = inc(x-(i-1))`, `n` long.
fn chain(prefix: &str, n: usize) -> (Vec<(Key, Task<Key>)>, Key) {
    let mut tasks = vec![(Key::block(prefix, &[0]), task(&INC, vec![lit(-1i64)]))];
    for i in 1..n {
        tasks.push((Key::block(prefix, &[i as u32]), task(&INC, vec![r(Key::block(prefix, &[i as u32 - 1]))])));
    }
    (tasks, Key::block(prefix, &[n as u32 - 1]))
}

/// `n` roots `inc(i)`, summed by one list task.
fn fan(prefix: &str, n: usize) -> (Vec<(Key, Task<Key>)>, Key) {
    let mut tasks: Vec<_> =
        (0..n).map(|i| (Key::block(prefix, &[i as u32]), task(&INC, vec![lit(i as i64)]))).collect();
    let total = Key::new(format!("{prefix}-total"));
    let list = blockwork_graph::Arg::List((0..n).map(|i| r(Key::block(prefix, &[i as u32]))).collect());
    tasks.push((total.clone(), task(&SUM, vec![list])));
    (tasks, total)
}

#[test]
fn graphs_match_the_local_scheduler() {
    setup();
    let cluster = LocalCluster::start(2, 2).unwrap();
    let client = cluster.client().unwrap();
    let (client, cluster) = timed(move || {
        for (tasks, out) in [chain("chain", 1000), fan("fan", 1000), tree("tree", 64, &SLOW)] {
            let expected = local(tasks.clone(), &out);
            let got = client.compute(Graph::from_tasks(tasks).unwrap(), std::slice::from_ref(&out)).unwrap();
            assert_eq!(got, vec![expected], "{out}");
        }
        (client, cluster)
    });
    assert_eq!(int(&local(chain("c", 1000).0, &chain("c", 1000).1)), 999);
    drop(client);
    drop(cluster);
}

#[test]
fn several_outputs_come_back_in_order() {
    setup();
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let (tasks, _) = chain("many", 10);
    let outs: Vec<Key> = [7u32, 2, 9, 2].iter().map(|&i| Key::block("many", &[i])).collect();
    let got = timed(move || client.compute(Graph::from_tasks(tasks).unwrap(), &outs).unwrap());
    assert_eq!(got.iter().map(int).collect::<Vec<_>>(), vec![7, 2, 9, 2]);
}

/// The three tasks form a chain the client fuses into one: the worker
/// reports the error under the inner key that failed.
#[test]
fn a_failing_task_names_its_key() {
    setup();
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let bad = Key::new("bad-1");
    let tasks = vec![
        (Key::new("ok-1"), task(&INC, vec![lit(1i64)])),
        (bad.clone(), task(&FAIL, vec![r(Key::new("ok-1"))])),
        (Key::new("after-1"), task(&INC, vec![r(bad.clone())])),
    ];
    let (client, err) = timed(move || {
        let err = client.compute(Graph::from_tasks(tasks).unwrap(), &[Key::new("after-1")]).unwrap_err();
        (client, err)
    });
    match &err {
        ClientError::Task { key, message, .. } => {
            assert_eq!(key, &bad);
            assert!(message.contains("always fails"), "{message}");
        }
        other => panic!("expected a task error, got {other}"),
    }
    assert!(err.to_string().contains("bad-1"), "{err}");
    // The cluster goes on.
    let (tasks, out) = chain("after-error", 20);
    let got = timed(move || client.compute(Graph::from_tasks(tasks).unwrap(), &[out]).unwrap());
    assert_eq!(int(&got[0]), 19);
}

#[test]
fn a_closure_is_refused_at_the_client() {
    setup();
    let cluster = LocalCluster::start(1, 1).unwrap();
    let client = cluster.client().unwrap();
    let key = Key::new("closure-1");
    let tasks = vec![
        (Key::new("named-1"), task(&INC, vec![lit(1i64)])),
        (key.clone(), Task::new(Op::local("plus", |a: Vec<Value>| Ok(a[0].clone())), vec![r(Key::new("named-1"))])),
    ];
    let err = client.compute(Graph::from_tasks(tasks).unwrap(), std::slice::from_ref(&key)).unwrap_err();
    assert_eq!(err.key(), Some(&key));
    let msg = err.to_string();
    assert!(msg.contains("closure-1") && msg.contains("NamedFn"), "{msg}");
}

#[test]
fn two_clients_share_overlapping_graphs() {
    setup();
    let cluster = LocalCluster::start(2, 2).unwrap();
    let (a, b) = (cluster.client().unwrap(), cluster.client().unwrap());
    // Both graphs share the chain `shared-*`; each adds its own tail.
    let graph_for = |tail: &'static str, k: i64| {
        let (mut tasks, last) = chain("shared", 300);
        tasks.push((Key::new(tail), task(&ADD, vec![r(last), lit(k)])));
        (tasks, Key::new(tail))
    };
    let run = |client: blockwork_runtime::Client, tail: &'static str, k: i64| {
        let (tasks, out) = graph_for(tail, k);
        std::thread::spawn(move || {
            let mut results = Vec::new();
            for _ in 0..3 {
                results.push(int(&client
                    .compute(Graph::from_tasks(tasks.clone()).unwrap(), std::slice::from_ref(&out))
                    .unwrap()[0]));
            }
            results
        })
    };
    let (ta, tb) = (run(a, "tail-a", 1000), run(b, "tail-b", 2000));
    let (ra, rb) = timed(move || (ta.join().unwrap(), tb.join().unwrap()));
    assert_eq!(ra, vec![1299; 3]);
    assert_eq!(rb, vec![2299; 3]);
}

/// Reads until the server closes the connection (or the timeout).
fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    got
}

#[test]
fn bad_connections_are_closed_and_the_cluster_goes_on() {
    setup();
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();

    // Garbage: closed without an answer.
    let mut s = TcpStream::connect(cluster.address()).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(read_to_close(&mut s).is_empty());

    // A hello of another version: refused with a reason naming both.
    let mut s = TcpStream::connect(cluster.address()).unwrap();
    let hello = Hello {
        role: Role::Client,
        version: 99,
        name: "old".into(),
        token: None,
        release: "9.9.9".into(),
        functions: vec![],
    };
    s.write_all(&encode_frame(Handshake::Hello(hello).to_frame()).unwrap().to_vec()).unwrap();
    let answer = read_to_close(&mut s);
    let mut dec = FrameDecoder::new(Limits::default());
    dec.push(&answer).unwrap();
    let refused = read_answer(dec.next_frame().expect("an answer")).unwrap().unwrap_err();
    assert!(refused.reason.contains("version 99"), "{}", refused.reason);

    // A hello of this protocol from another blockwork release: refused,
    // naming both releases.
    let mut s = TcpStream::connect(cluster.address()).unwrap();
    let mut hello = Hello::new(Role::Worker, "stale", None);
    hello.release = "0.0.1".into();
    s.write_all(&encode_frame(Handshake::Hello(hello).to_frame()).unwrap().to_vec()).unwrap();
    let answer = read_to_close(&mut s);
    let mut dec = FrameDecoder::new(Limits::default());
    dec.push(&answer).unwrap();
    let refused = read_answer(dec.next_frame().expect("an answer")).unwrap().unwrap_err();
    assert!(
        refused.reason.contains("blockwork 0.0.1") && refused.reason.contains("release mismatch"),
        "{}",
        refused.reason
    );

    // A hello of this release from a build whose `SUM` takes other
    // parameters: refused, naming the function and both layouts.
    let mut s = TcpStream::connect(cluster.address()).unwrap();
    let mut hello = Hello::new(Role::Worker, "rebuilt", None);
    let entry = hello.functions.iter_mut().find(|(name, _)| name == SUM.name).expect("SUM is registered here");
    entry.1 = "SumParams { start: i64 }".into();
    s.write_all(&encode_frame(Handshake::Hello(hello).to_frame()).unwrap().to_vec()).unwrap();
    let answer = read_to_close(&mut s);
    let mut dec = FrameDecoder::new(Limits::default());
    dec.push(&answer).unwrap();
    let refused = read_answer(dec.next_frame().expect("an answer")).unwrap().unwrap_err();
    for part in [SUM.name, "SumParams { start: i64 } there", "undeclared parameters here", "different sources"] {
        assert!(refused.reason.contains(part), "{part} in {}", refused.reason);
    }

    // A valid handshake, then a frame of the wrong direction.
    let mut s = TcpStream::connect(cluster.address()).unwrap();
    let hello = Hello::new(Role::Client, "confused", None);
    s.write_all(&encode_frame(Handshake::Hello(hello).to_frame()).unwrap().to_vec()).unwrap();
    let busy = blockwork_protocol::Message::encode(&blockwork_protocol::PeerMessage::Busy).unwrap();
    s.write_all(&busy.to_vec()).unwrap();
    let answer = read_to_close(&mut s);
    let mut dec = FrameDecoder::new(Limits::default());
    dec.push(&answer).unwrap();
    assert!(read_answer(dec.next_frame().expect("a welcome")).unwrap().is_ok());

    // The client connected before, and a new one, still compute.
    let (tasks, out) = fan("after-garbage", 50);
    let got = timed(move || client.compute(Graph::from_tasks(tasks).unwrap(), &[out]).unwrap());
    assert_eq!(int(&got[0]), (1..=50).sum::<i64>());
    let (tasks, out) = chain("after-garbage-2", 10);
    let client = cluster.client().unwrap();
    let got = timed(move || client.compute(Graph::from_tasks(tasks).unwrap(), &[out]).unwrap());
    assert_eq!(int(&got[0]), 9);
}

#[test]
fn data_moves_between_workers() {
    setup();
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let (tasks, out) = tree("moves", 32, &SLOW);
    let expected = local(tasks.clone(), &out);
    let got = timed(move || client.compute(Graph::from_tasks(tasks).unwrap(), &[out]).unwrap());
    assert_eq!(got, vec![expected]);
    assert_eq!(int(&got[0]), (0..32).sum::<i64>());
    let ran: Vec<u64> = cluster.workers().iter().map(|w| w.stats().tasks_run.load(Ordering::Relaxed)).collect();
    assert!(ran.iter().all(|&n| n > 0), "both workers ran tasks: {ran:?}");
    let fetched: u64 = cluster.workers().iter().map(|w| w.stats().keys_fetched.load(Ordering::Relaxed)).sum();
    let served: u64 = cluster.workers().iter().map(|w| w.stats().keys_served.load(Ordering::Relaxed)).sum();
    assert!(fetched > 0, "a peer fetch happened");
    assert!(served >= fetched, "served {served}, fetched {fetched}");
}

#[test]
fn a_lost_worker_is_removed_and_the_rest_computes() {
    setup();
    let mut cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    cluster.stop_worker(0).unwrap();
    let (tasks, out) = fan("after-loss", 100);
    let expected = local(tasks.clone(), &out);
    let got = timed(move || client.compute(Graph::from_tasks(tasks).unwrap(), &[out]).unwrap());
    assert_eq!(got, vec![expected]);
}
