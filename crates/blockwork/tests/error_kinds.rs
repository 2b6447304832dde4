//! A sample of each kind of error, made through the public API as a user
//! would meet it: each says whose fault it is ([`ErrorKind`]) and its
//! message names the thing at fault.

use blockwork as bw;
use bw::array::{self as bwa, ArrayError};
use bw::graph::{lit, r, ErrorKind, Fault, Graph, Key, Op, Task, TaskError, Value};

fn says<E: Fault + std::fmt::Display>(e: &E, kind: ErrorKind, names: &[&str]) {
    let message = e.to_string();
    assert_eq!(e.kind(), kind, "{message}");
    for n in names {
        assert!(message.contains(n), "{n:?} not named in: {message}");
    }
}

fn compute(g: Graph, out: &str) -> bw::ComputeError {
    bw::local::compute(g, &[Key::new(out)], &bw::Config::with_scheduler(bw::Scheduler::Sync)).unwrap_err()
}

#[test]
fn the_users_input() {
    // A graph with a cycle names the keys on it.
    let id = Op::local("id", |mut a| Ok(a.remove(0)));
    let err = Graph::from_tasks([
        (Key::new("a"), Task::new(id.clone(), vec![r(Key::new("b"))])),
        (Key::new("b"), Task::new(id, vec![r(Key::new("a"))])),
    ])
    .unwrap_err();
    says(&err, ErrorKind::User, &["cycle", "a", "b"]);

    // Shapes that do not broadcast name both shapes.
    let x = bwa::ones::<f64>(&[3, 4], [2, 2]).unwrap();
    let y = bwa::ones::<f64>(&[5], [5]).unwrap();
    let err: ArrayError = x.add(&y).unwrap_err();
    says(&err, ErrorKind::User, &["[3, 4]", "[5]"]);

    // A user's function that fails names its task.
    let fails = Op::local("parse", |_| Err(TaskError::new("not a number: \"x1\"")));
    let g = Graph::from_tasks([(Key::new("parse-row-7"), Task::new(fails, vec![lit(1i64)]))]).unwrap();
    says(&compute(g, "parse-row-7"), ErrorKind::User, &["parse-row-7", "not a number"]);

    // A pattern of files that matches nothing names the pattern.
    let err = bw::dataframe::read_csv("/nonexistent-dir/part-*.csv", &Default::default()).unwrap_err();
    says(&err, ErrorKind::User, &["/nonexistent-dir/part-*.csv"]);
}

#[test]
fn the_environment() {
    // A file removed between building the graph and computing it: the
    // read task fails naming the file.
    let dir = std::env::temp_dir().join(format!("bw-kinds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.npy");
    bwa::ones::<f64>(&[4, 4], [2, 2]).unwrap().to_npy(&path).unwrap();
    let x = bwa::from_npy::<f64>(&path, [2, 2]).unwrap();
    std::fs::remove_file(&path).unwrap();
    let err = x.sum().compute_scalar().unwrap_err();
    says(&err, ErrorKind::Environment, &["x.npy"]);
    std::fs::remove_dir_all(&dir).unwrap();

    // A scheduler address where nothing listens names the address.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let Err(err) = bw::distributed::Client::connect(&addr) else { panic!("connected to {addr}") };
    says(&err, ErrorKind::Environment, &[&addr]);

    // A cluster that went away under its default client: the array's
    // error names the cluster and keeps the client's error as its source.
    bw::register_builtins();
    let cluster = bw::distributed::LocalCluster::start(1, 1).unwrap();
    let client = cluster.client().unwrap();
    let address = client.address().to_string();
    drop(cluster);
    let _guard = client.as_default();
    let err = bwa::ones::<f64>(&[4], [2]).unwrap().sum().compute_scalar().unwrap_err();
    says(&err, ErrorKind::Environment, &[&address]);
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

#[test]
fn a_bug_of_ours() {
    // A kernel given parameters it cannot read (as from a peer built from
    // other sources) names its task and the parameter at fault.
    bwa::register();
    let reduce = bw::graph::registry("blockwork.array.reduce").expect("registered");
    let bad = Value::List(vec![Value::Str("chunk".into())].into());
    let g = Graph::from_tasks([(Key::new("sum-chunk-0"), Task::new(Op::named(reduce, bad), vec![]))]).unwrap();
    says(&compute(g, "sum-chunk-0"), ErrorKind::Internal, &["sum-chunk-0", "ReduceParams"]);

    // A function that panics names its task.
    let panics = Op::local("boom", |_| panic!("index out of bounds"));
    let g = Graph::from_tasks([(Key::new("boom-3"), Task::new(panics, vec![]))]).unwrap();
    says(&compute(g, "boom-3"), ErrorKind::Internal, &["boom-3", "index out of bounds"]);
}

/// A task's error keeps its kind on a cluster: the worker reports it,
/// the scheduler keeps it with the failure, the client's error has it.
#[test]
fn kinds_cross_the_cluster() {
    bw::register_builtins();
    let cluster = bw::distributed::LocalCluster::start(1, 1).unwrap();
    let client = cluster.client().unwrap();
    let reduce = bw::graph::registry("blockwork.array.reduce").expect("registered");
    let bad = Value::List(vec![Value::Int(0)].into());
    let g = Graph::from_tasks([(Key::new("sum-chunk-1"), Task::new(Op::named(reduce, bad), vec![]))]).unwrap();
    let err = client.compute(g, &[Key::new("sum-chunk-1")]).unwrap_err();
    says(&err, ErrorKind::Internal, &["sum-chunk-1", "ReduceParams"]);
}
