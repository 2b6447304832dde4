//! The README's examples that its doctests (`ReadmeDoctests`, made from
//! the README by `build.rs`) only compile — big arrays, a cluster's
//! address, data files — run here at small sizes on local clusters.

use blockwork as bw;

#[path = "common/readme_examples.rs"]
mod examples;

/// On threads here; `default_client.rs` runs the same with a cluster.
#[test]
fn named_functions() -> Result<(), Box<dyn std::error::Error>> {
    examples::named_functions()
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
