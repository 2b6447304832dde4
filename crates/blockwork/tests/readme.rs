//! The README's examples, kept compiling and correct.

use std::sync::Arc;

use blockwork as bw;
use bw::delayed::{delayed, func};
use bw::graph::{lit, r, Graph, Key, Op, Task, Value};

#[path = "common/readme_examples.rs"]
mod examples;

#[test]
fn quickstart() -> Result<(), Box<dyn std::error::Error>> {
    let inc = func("inc", |x: i64| x + 1);
    let add = func("add", |a: i64, b: i64| a + b);
    let total = func("total", |xs: Vec<i64>| xs.iter().sum::<i64>());

    let xs: Vec<_> = (0..10).map(|i| inc.call((i,))).collect();
    let s = add.call((total.call((&xs,)), delayed(100i64)));
    assert_eq!(s.graph()?.len(), 13);
    assert_eq!(s.compute()?, 155);

    let (a, b) = bw::compute((&s, &xs[3]))?;
    assert_eq!((a, b), (155, 4));

    let v = s.compute_with(&bw::Config::with_scheduler(bw::Scheduler::Sync))?;
    assert_eq!(v, 155);

    let profiler = Arc::new(bw::Profiler::new());
    let resources = Arc::new(bw::ResourceProfiler::default());
    let cancel = bw::CancelToken::new();
    let config = bw::Config::with_scheduler(bw::Scheduler::Threads(4))
        .callback(Arc::new(bw::ProgressBar::default()))
        .callback(profiler.clone())
        .callback(resources.clone())
        .cancel_token(cancel.clone());
    assert_eq!(s.compute_with(&config)?, 155);
    let path = std::env::temp_dir().join(format!("bw-readme-{}.html", std::process::id()));
    profiler.write_html(&path, Some(&resources))?;
    std::fs::remove_file(path)?;
    Ok(())
}

#[test]
fn named_functions() -> Result<(), Box<dyn std::error::Error>> {
    examples::named_functions()
}

#[test]
fn graphs_by_hand() -> Result<(), Box<dyn std::error::Error>> {
    let add = Op::local("add", |a| Ok(Value::Int(a.iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).sum())));
    let g = Graph::from_tasks([
        (Key::block("x", &[0]), Task::new(add.clone(), vec![lit(1i64)])),
        (Key::block("x", &[1]), Task::new(add.clone(), vec![lit(2i64)])),
        (Key::new("total"), Task::new(add, vec![r(Key::block("x", &[0])), r(Key::block("x", &[1]))])),
    ])?;
    let out = bw::local::compute(g, &[Key::new("total")], &bw::Config::default())?;
    assert_eq!(out, vec![Value::Int(3)]);
    Ok(())
}

#[test]
fn arrays() -> Result<(), Box<dyn std::error::Error>> {
    examples::arrays()
}

#[test]
fn arrays_on_a_local_cluster() -> Result<(), Box<dyn std::error::Error>> {
    use bw::array as bwa;
    bw::register_builtins();
    let cluster = bw::distributed::LocalCluster::start(2, 1)?;
    let client = cluster.client()?;
    let x = bwa::random::random(&[120, 120], [40, 40], 5)?;
    let y = (&x + &x.t()).sub(x.mean_axis(0)?)?;
    let local = y.compute()?;
    let remote = y.assemble(client.compute(y.graph()?, &y.keys())?)?;
    assert!(local.iter().zip(remote.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
    let s = x.dot(&(&x.t() + 1.0))?.std(0);
    let v = s.assemble(client.compute(s.graph()?, &s.keys())?)?;
    assert!((v[[]] - s.compute_scalar()?).abs() < 1e-9);
    Ok(())
}

fn inc(_: &bw::Value, args: Vec<bw::Value>) -> bw::graph::TaskResult {
    match args[0] {
        bw::Value::Int(i) => Ok(bw::Value::Int(i + 1)),
        _ => Err(bw::graph::TaskError::new("expected an int")),
    }
}

fn add(_: &bw::Value, args: Vec<bw::Value>) -> bw::graph::TaskResult {
    Ok(bw::Value::Int(args.iter().map(|v| if let bw::Value::Int(i) = v { *i } else { 0 }).sum()))
}

static INC: bw::graph::NamedFn = bw::graph::NamedFn::new("readme.inc", inc);
static ADD: bw::graph::NamedFn = bw::graph::NamedFn::new("readme.add", add);

#[test]
fn futures_on_a_local_cluster() -> Result<(), Box<dyn std::error::Error>> {
    use bw::graph::{lit, Arg};
    use std::time::Duration;
    bw::register_builtins();
    bw::graph::register(&INC);
    bw::graph::register(&ADD);
    let cluster = bw::distributed::LocalCluster::start(2, 1)?;
    let client = cluster.client()?;
    let y = bw::array::random::random(&[40, 40], [20, 20], 1)?;
    let a = client.submit(&INC, vec![lit(1i64)])?;
    let b = client.submit(&ADD, vec![Arg::from(&a), lit(10i64)])?;
    let xs = client.map(&INC, (0..100i64).map(lit))?;
    let data = client.scatter(vec![bw::Value::Int(5)])?;
    assert_eq!(b.result()?, bw::Value::Int(12));
    let values = client.gather(&xs)?;
    assert_eq!(values[99], bw::Value::Int(100));
    for f in client.as_completed(xs.clone())? {
        let _ = f?.result_timeout(Duration::from_secs(5))?;
    }
    let (done, not_done) = client.wait(&xs, Some(Duration::from_secs(1)))?;
    assert_eq!((done.len(), not_done.len()), (100, 0));
    a.cancel();
    let held = client.persist(y.graph()?, &y.keys())?;
    assert_eq!(held.len(), 4);
    assert_eq!(client.gather(&data)?, vec![bw::Value::Int(5)]);
    Ok(())
}

#[test]
fn a_local_cluster_scales() -> Result<(), Box<dyn std::error::Error>> {
    use bw::array as bwa;
    bw::register_builtins();
    let mut cluster = bw::distributed::LocalCluster::start(2, 1)?;
    let client = cluster.client()?;
    cluster.scale(4)?;
    cluster.add_worker()?;
    cluster.stop_worker(0)?;
    assert_eq!(cluster.workers().len(), 4);
    let x = bwa::random::random(&[80, 80], [20, 20], 7)?;
    let y = (&x * 2.0).sum();
    let v = y.assemble(client.compute(y.graph()?, &y.keys())?)?;
    assert!((v[[]] - y.compute_scalar()?).abs() < 1e-9);
    Ok(())
}

#[test]
fn worker_main_returns_in_a_process_not_started_as_a_worker() {
    // This test binary's first argument is not `worker`.
    bw::worker_main();
}

#[test]
fn coordination_primitives_on_a_local_cluster() -> Result<(), Box<dyn std::error::Error>> {
    use std::time::Duration;
    bw::register_builtins();
    bw::graph::register(&INC);
    let cluster = bw::distributed::LocalCluster::start(2, 1)?;
    let (client, other_client) = (cluster.client()?, cluster.client()?);
    let lock = client.lock("ingest");
    {
        let _held = lock.lock()?; // released when dropped
        client.variable("stage").set(bw::Value::Str("loading".into()))?;
        assert!(lock.locked()?);
    }
    assert!(!lock.locked()?);
    let f = client.submit(&INC, vec![bw::graph::lit(4i64)])?;
    client.queue("results").put_future(&f)?; // kept on the cluster while queued
    let g = other_client.queue("results").get(Some(Duration::from_secs(5)))?.value()?;
    assert_eq!(g, bw::Value::Int(5));
    let ready = client.event("ready").wait(Some(Duration::from_secs(1)))?; // false on timeout
    assert!(!ready);
    let db = client.semaphore("db", 4); // at most 4 leases at once
    if db.acquire(None)? {
        assert_eq!(other_client.semaphore("db", 4).leases()?, 1);
        db.release()?;
    }
    Ok(())
}

#[test]
fn json_records_to_a_dataframe() -> Result<(), Box<dyn std::error::Error>> {
    use bw::bag::{read_json_lines, TextOptions};
    use bw::dataframe::{col, Agg, Aggregation};
    let dir = std::env::temp_dir().join(format!("bw-readme-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("a.jsonl"),
        "{\"level\": \"info\", \"ms\": 3}\n{\"level\": \"debug\", \"ms\": 90}\n{\"level\": \"warn\", \"ms\": 12.5}\n",
    )?;
    std::fs::write(dir.join("b.jsonl"), "{\"level\": \"info\", \"ms\": 7}\n")?;
    let logs = read_json_lines(dir.join("*.jsonl").to_str().expect("a UTF-8 path"), &TextOptions { blocksize: None })?;
    let df = bw::dataframe::from_records(&logs.filter(|r| r["level"] != "debug"), &bw::Config::default())?;
    let slow = df.groupby(&[col("level")])?.agg(&[Aggregation::new(col("ms"), Agg::Max)])?.compute()?;
    assert_eq!(slow.height(), 2);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
