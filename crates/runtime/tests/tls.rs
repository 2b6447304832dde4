//! A cluster with TLS and a token on every connection: a client with the
//! cluster's certificate and token computes (workers move data between
//! each other over TLS too); a client without TLS, without the token or
//! with a certificate of another authority is refused, and the cluster
//! goes on.

use std::path::PathBuf;

use blockwork_graph::{lit, r, Graph, Key, NamedFn, Op, Task, TaskResult, Value};
use blockwork_runtime::{Client, ClientError, LocalCluster, SchedulerOptions, Security, TlsFiles, WorkerOptions};

fn slow_add(_: &Value, args: Vec<Value>) -> TaskResult {
    std::thread::sleep(std::time::Duration::from_millis(2));
    Ok(Value::Int(args.iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).sum()))
}

static ADD: NamedFn = NamedFn::new("tls.add", slow_add);

fn files(who: &str, ca: &str) -> TlsFiles {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    TlsFiles {
        ca: dir.join(format!("{ca}.pem")),
        cert: dir.join(format!("{who}.pem")),
        key: dir.join(format!("{who}.key")),
    }
}

/// 64 roots spread over both workers, summed in one task: some inputs
/// travel between the workers.
fn graph() -> (Graph, Key) {
    let mut tasks: Vec<(Key, Task<Key>)> = (0..64)
        .map(|i| (Key::block("x", &[i]), Task::new(Op::named(&ADD, Value::Unit), vec![lit(i64::from(i))])))
        .collect();
    let total = Key::new("total");
    tasks.push((
        total.clone(),
        Task::new(Op::named(&ADD, Value::Unit), (0..64).map(|i| r(Key::block("x", &[i]))).collect()),
    ));
    (Graph::from_tasks(tasks).unwrap(), total)
}

#[test]
fn tls_and_token_let_in_only_the_cluster() {
    blockwork_graph::register(&ADD);
    let token = Some("s3cret".to_string());
    let node = files("node", "ca");
    let scheduler = SchedulerOptions { tls: Some(node.clone()), token: token.clone(), ..SchedulerOptions::default() };
    let mut worker = WorkerOptions::new(1, "tls");
    worker.tls = Some(node.clone());
    worker.token = token.clone();
    let cluster = LocalCluster::start_with(2, worker, scheduler).unwrap();
    let addr = cluster.address();

    let good = Security::tls(&node, token.clone()).unwrap();
    let client = Client::connect_with(&addr, "good", &good).unwrap();
    let (g, total) = graph();
    assert_eq!(client.compute(g, std::slice::from_ref(&total)).unwrap(), vec![Value::Int((0..64).sum())]);
    let moved: u64 =
        cluster.workers().iter().map(|w| w.stats().keys_fetched.load(std::sync::atomic::Ordering::Relaxed)).sum();
    assert!(moved > 0, "inputs moved between workers over TLS");

    // Plain TCP to a TLS port.
    let err = Client::connect(&addr).err().expect("a plain client is refused");
    assert!(matches!(err, ClientError::Conn { .. }), "{err}");
    // TLS without the token.
    let err = Client::connect_with(&addr, "no-token", &Security::tls(&node, None).unwrap()).err().expect("refused");
    assert!(err.to_string().contains("token"), "{err}");
    // A certificate of another authority.
    let intruder = Security::tls(&files("intruder", "ca"), token.clone()).unwrap();
    let err = Client::connect_with(&addr, "intruder", &intruder).err().expect("refused");
    assert!(err.to_string().contains("TLS"), "{err}");
    // The TLS layer's own error is kept as the source, and it is the
    // environment's (how the peers were set up), not the user's input.
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
    assert_eq!(blockwork_graph::Fault::kind(&err), blockwork_graph::ErrorKind::Environment, "{err}");
    // A missing file is named.
    let missing = TlsFiles { key: PathBuf::from("/nonexistent/node.key"), ..node.clone() };
    let err = Security::tls(&missing, None).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/node.key"), "{err}");

    // The cluster goes on, for the client that was in and for a new one.
    let (g, total) = graph();
    assert_eq!(client.compute(g, std::slice::from_ref(&total)).unwrap(), vec![Value::Int((0..64).sum())]);
    let again = Client::connect_with(&addr, "again", &good).unwrap();
    let (g, total) = graph();
    assert_eq!(again.compute(g, std::slice::from_ref(&total)).unwrap(), vec![Value::Int((0..64).sum())]);
}
