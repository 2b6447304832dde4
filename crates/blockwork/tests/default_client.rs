//! A client as the default scheduler: with `client.as_default()` every
//! collection's `compute`, `compute_many`, `persist` and `to_npy` runs on
//! the cluster and equals the threaded scheduler's result; persisted blocks
//! stay on the workers and are reused without recomputation; a closure
//! says what to do instead; with the guard gone, computing is local again.
//! A client named in one configuration (`Scheduler::Client`) computes a
//! dataframe there.

use blockwork as bw;
use bw::array::{self as bwa, Array};
use bw::distributed::LocalCluster;
use bw::{Config, Scheduler};
use ndarray::ArrayD;

fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    for (a, b) in got.iter().zip(want.iter()) {
        assert!((a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs())), "{what}: {a} vs {b}");
    }
}

/// The tests take turns: one sets the process's default client, which
/// would reach anything the other computes without a configuration.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Tasks the cluster's workers ran so far.
fn tasks_run(cluster: &LocalCluster) -> u64 {
    cluster.workers().iter().map(|w| w.stats().tasks_run.load(std::sync::atomic::Ordering::SeqCst)).sum()
}

#[test]
fn collections_compute_on_the_default_client() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    bw::register_builtins();
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let threads = Config::with_scheduler(Scheduler::Threads(2));
    let guard = client.as_default();
    assert!(matches!(Config::default().scheduler, Scheduler::Client(_)));

    // Random shapes and chunkings: the cluster's answer is the threads'.
    for seed in 0..6u64 {
        let (n, m) = (5 + (seed as usize * 7) % 40, 3 + (seed as usize * 11) % 30);
        let x = bwa::random::random(&[n, m], [1 + n / (1 + seed as usize % 3), 1 + m / 2], seed).unwrap();
        let exprs: Vec<(&str, Array<f64>)> = vec![
            ("centred sums", (&x * 3.0).sub(x.mean_axis(0).unwrap()).unwrap().sum_axis(1).unwrap()),
            ("x·xᵀ", x.dot(&x.t()).unwrap()),
            ("cumsum", x.cumsum(1).unwrap()),
        ];
        for (what, e) in exprs {
            let before = tasks_run(&cluster);
            let got = e.compute().unwrap();
            assert!(tasks_run(&cluster) > before, "{what}: no task ran on the cluster");
            assert_close(&got, &e.compute_with(&threads).unwrap(), &format!("{what}, seed {seed}"));
        }
        // Several arrays at once, and a writer.
        let (a, b) = (&x + 1.0, x.sum_axis(0).unwrap());
        let both = bwa::compute_many(&[&a, &(&x * 2.0)], &Config::default()).unwrap();
        assert_close(&both[0], &a.compute_with(&threads).unwrap(), "compute_many");
        let path = std::env::temp_dir().join(format!("bw-default-client-{}-{seed}.npy", std::process::id()));
        b.to_npy(&path).unwrap();
        let back = bwa::from_npy::<f64>(&path, 4).unwrap().compute_with(&threads).unwrap();
        assert_close(&back, &b.compute_with(&threads).unwrap(), "to_npy");
        let _ = std::fs::remove_file(&path);
    }

    // Persisted on the cluster: computed once, then reused.
    let x = bwa::random::random(&[60, 40], [15, 20], 9).unwrap();
    let y = (&x * 2.0 + 1.0).sqrt();
    let p = y.persist().unwrap();
    let first = p.compute().unwrap();
    let after_persist = tasks_run(&cluster);
    assert_close(&first, &y.compute_with(&threads).unwrap(), "persisted");
    assert_close(&p.compute().unwrap(), &first, "persisted, again");
    assert_eq!(tasks_run(&cluster), after_persist, "the persisted blocks were computed again");
    let s = p.sum_axis(0).unwrap();
    assert_close(&s.compute().unwrap(), &s.compute_with(&threads).unwrap(), "built on the persisted");

    // A closure cannot go to another process: the error says what to do.
    let closure = x.map_blocks("my-closure", |b, _| b.mapv(|v| v + 1.0)).unwrap();
    let err = closure.compute().unwrap_err().to_string();
    assert!(err.contains("closure") && err.contains("NamedFn") && err.contains("the cluster at"), "{err}");
    assert!(closure.compute_with(&threads).is_ok(), "the same runs on threads");

    // The guard gone, computing is local again.
    drop(guard);
    assert!(!matches!(Config::default().scheduler, Scheduler::Client(_)));
    let before = tasks_run(&cluster);
    assert_close(&y.compute().unwrap(), &first, "local again");
    assert_eq!(tasks_run(&cluster), before, "computed on the cluster after the guard was dropped");
    // One configuration may still name the client (the persisted blocks,
    // still pinned by `p`, are reused there; new ones are computed).
    let on = Config::with_scheduler(client.scheduler());
    assert_close(&y.compute_with(&on).unwrap(), &first, "Scheduler::Client");
    assert_eq!(tasks_run(&cluster), before, "the persisted blocks were computed again");
    let z = &x - 1.0;
    assert_close(&z.compute_with(&on).unwrap(), &z.compute_with(&threads).unwrap(), "Scheduler::Client");
    assert!(tasks_run(&cluster) > before);
}

#[test]
fn dataframes_compute_on_a_client_given_in_the_configuration() {
    use bw::dataframe::{col, read_csv, CsvOptions};
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    bw::register_builtins();
    let dir = std::env::temp_dir().join(format!("bw-default-df-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in 0..3 {
        let rows: String = (0..200).map(|i| format!("{},{}\n", (i * 7 + f) % 5, (i * 13 + f) as f64 / 3.0)).collect();
        std::fs::write(dir.join(format!("part-{f}.csv")), format!("group,value\n{rows}")).unwrap();
    }
    let df = read_csv(&format!("{}/part-*.csv", dir.display()), &CsvOptions::default()).unwrap();
    let means = df.groupby(&[col("group")]).unwrap().mean(&["value"]).unwrap();
    let cluster = LocalCluster::start(2, 1).unwrap();
    let on = Config::with_scheduler(cluster.client().unwrap().scheduler());
    let there = means.compute_with(&on).unwrap();
    assert!(tasks_run(&cluster) > 0, "nothing ran on the cluster");
    let here = means.compute_with(&Config::with_scheduler(Scheduler::Threads(2))).unwrap();
    assert!(there.equals_missing(&here), "{there} vs {here}");
    let _ = std::fs::remove_dir_all(&dir);
}
