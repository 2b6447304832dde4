//! A client as the default scheduler: with `client.as_default()` every
//! collection's `compute`, `compute_many`, `persist` and `to_npy` runs on
//! the cluster and equals the threaded scheduler's result (complex blocks
//! of Fourier transforms too); persisted blocks
//! stay on the workers and are reused without recomputation; a closure
//! says what to do instead; with the guard gone, computing is local again.
//! A client named in one configuration (`Scheduler::Client`) computes a
//! dataframe there.

use blockwork as bw;
use bw::array::{self as bwa, Array};
use bw::distributed::LocalCluster;
use bw::{Config, Scheduler};
use ndarray::ArrayD;

#[path = "common/readme_examples.rs"]
mod readme_examples;

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
        // Transforms along the unchunked axis: complex blocks cross the wire.
        let rows = bwa::random::random(&[n, m], [1 + n / 3, m], seed).unwrap();
        let spec = bwa::fft::rfft(&rows, None, -1, bwa::fft::Norm::Backward).unwrap();
        let turned = &spec * bwa::Complex::new(0.0, 1.0);
        let exprs: Vec<(&str, Array<f64>)> = vec![
            ("centred sums", (&x * 3.0).sub(x.mean_axis(0).unwrap()).unwrap().sum_axis(1).unwrap()),
            ("x·xᵀ", x.dot(&x.t()).unwrap()),
            ("cumsum", x.cumsum(1).unwrap()),
            ("|rfft|", spec.abs()),
            ("irfft(i·rfft)", bwa::fft::irfft(&turned, Some(m), -1, bwa::fft::Norm::Ortho).unwrap()),
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

/// A named partition function: the partition with a column `twice`
/// (`value` × the parameter), so that it runs on a cluster's workers.
fn scaled(params: &bw::Value, inputs: Vec<bw::Value>) -> bw::graph::TaskResult {
    use bw::dataframe::polars::prelude::*;
    let (bw::Value::Float(k), [part]) = (params, inputs.as_slice()) else {
        return Err(bw::graph::TaskError::new("scaled: a float and one partition"));
    };
    let fail = |e: PolarsError| bw::graph::TaskError::new(e.to_string());
    let mut df = bw::dataframe::Partition::of(part)?.clone();
    let value = df.column("value").map_err(fail)?.cast(&DataType::Float64).map_err(fail)?;
    let twice = (value.as_materialized_series() * *k).with_name("twice".into());
    df.with_column(twice.into_column()).map_err(fail)?;
    Ok(bw::dataframe::Partition(df).into_value())
}
static SCALED: bw::graph::NamedFn = bw::graph::NamedFn::new("test.scaled", scaled);

#[test]
fn dataframe_writers_sorting_describe_and_persist_on_the_default_client() {
    use bw::dataframe::{col, read_csv, read_parquet, CsvOptions, ParquetOptions};
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    bw::register_builtins();
    bw::graph::register(&SCALED);
    let dir = std::env::temp_dir().join(format!("bw-default-df-ops-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for f in 0..4 {
        let rows: String = (0..50 + f * 30)
            .map(|_| format!("{},{},{}\n", next() % 7, (next() % 100_000) as f64 / 7.0, next() % 1000))
            .collect();
        std::fs::write(dir.join(format!("part-{f}.csv")), format!("group,value,id\n{rows}")).unwrap();
    }
    let df = read_csv(&format!("{}/part-*.csv", dir.display()), &CsvOptions::default()).unwrap();
    let threads = Config::with_scheduler(Scheduler::Threads(2));
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let guard = client.as_default();

    // Sorting and indexing sample the divisions on the cluster.
    let sorted = df.sort_values("value", true).unwrap();
    let before = tasks_run(&cluster);
    let there = sorted.compute().unwrap();
    assert!(tasks_run(&cluster) > before, "sort_values ran nowhere on the cluster");
    assert!(there.equals_missing(&sorted.compute_with(&threads).unwrap()), "sort_values");
    let indexed = df.set_index("id").unwrap();
    assert!(indexed.compute().unwrap().equals_missing(&indexed.compute_with(&threads).unwrap()), "set_index");
    let before = tasks_run(&cluster);
    let described = df.describe().unwrap();
    assert!(tasks_run(&cluster) > before, "describe ran nowhere on the cluster");
    drop(guard);
    assert!(described.equals_missing(&df.describe().unwrap()), "describe: {described}");
    let guard = client.as_default();

    // Writers: the workers write the files; read back, they are the frame.
    let want = df.compute_with(&threads).unwrap();
    let csv = df.to_csv(&dir.join("out-csv").display().to_string()).unwrap();
    let parquet = df.to_parquet(&dir.join("out-parquet").display().to_string()).unwrap();
    assert_eq!((csv.len(), parquet.len()), (4, 4));
    drop(guard);
    let back = read_csv(&dir.join("out-csv/*.csv").display().to_string(), &CsvOptions::default()).unwrap();
    assert!(back.compute().unwrap().equals_missing(&want), "to_csv");
    let back = read_parquet(&dir.join("out-parquet/*.parquet").display().to_string(), &ParquetOptions::default());
    assert!(back.unwrap().compute().unwrap().equals_missing(&want), "to_parquet");
    let guard = client.as_default();

    // Joins, counts and the edges of the frame, on the cluster as on threads.
    let other = df.groupby(&[col("group")]).unwrap().mean(&["value"]).unwrap();
    let merged = df.merge(&other, &["group"], bw::dataframe::How::Inner).unwrap();
    let sort = |f: bw::dataframe::polars::prelude::DataFrame| f.sort(["id", "value"], Default::default()).unwrap();
    assert!(sort(merged.compute().unwrap()).equals_missing(&sort(merged.compute_with(&threads).unwrap())), "merge");
    let counts = df.col("group").unwrap().value_counts().unwrap();
    let by_group = |f: bw::dataframe::polars::prelude::DataFrame| f.sort(["group"], Default::default()).unwrap();
    assert!(by_group(counts.compute().unwrap()).equals_missing(&by_group(counts.compute_with(&threads).unwrap())));
    assert!(df.head(7).unwrap().equals_missing(&want.head(Some(7))), "head");
    assert!(df.tail(5).unwrap().equals_missing(&want.tail(Some(5))), "tail");
    let distinct = df.col("id").unwrap().nunique_approx().unwrap().compute().unwrap();
    drop(guard);
    assert_eq!(distinct, df.col("id").unwrap().nunique_approx().unwrap().compute().unwrap(), "nunique_approx");
    let guard = client.as_default();

    // A registered partition function runs on the workers.
    let mapped = df.map_partitions_named(&SCALED, bw::Value::Float(2.0), &["group", "value", "id", "twice"]);
    assert!(mapped.compute().unwrap().equals_missing(&mapped.compute_with(&threads).unwrap()), "map_partitions_named");

    // Persisted: kept on the workers, not read again.
    let persisted = mapped.persist().unwrap();
    let first = persisted.compute().unwrap();
    let after_persist = tasks_run(&cluster);
    assert!(persisted.compute().unwrap().equals_missing(&first), "persisted, again");
    assert_eq!(tasks_run(&cluster), after_persist, "the persisted partitions were computed again");
    assert!(first.equals_missing(&mapped.compute_with(&threads).unwrap()), "persisted");
    let sums = persisted.groupby(&[col("group")]).unwrap().sum(&["twice"]).unwrap();
    let on_cluster = sums.compute().unwrap();
    drop(guard);
    let here = mapped.groupby(&[col("group")]).unwrap().sum(&["twice"]).unwrap().compute_with(&threads).unwrap();
    assert!(on_cluster.equals_missing(&here), "built on the persisted: {on_cluster} vs {here}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A named overlap function: each cell plus its left and right
/// neighbours along the last axis (the edges keep their cell).
fn smooth3(_: &bw::Value, inputs: Vec<bw::Value>) -> bw::graph::TaskResult {
    let b = bwa::block_of::<f64>(&inputs[0])?.view().into_owned();
    Ok(bwa::Block::Dense(neighbours(b.view())).into_value())
}
static SMOOTH3: bw::graph::NamedFn = bw::graph::NamedFn::new("test.smooth3", smooth3);

fn neighbours(b: ndarray::ArrayViewD<'_, f64>) -> ArrayD<f64> {
    let last = b.ndim() - 1;
    let n = b.shape()[last];
    let mut out = b.to_owned();
    for i in 1..n.saturating_sub(1) {
        let sum = &b.index_axis(ndarray::Axis(last), i - 1) + &b.index_axis(ndarray::Axis(last), i + 1);
        let mut lane = out.index_axis_mut(ndarray::Axis(last), i);
        lane += &sum;
    }
    out
}

/// A named blockwise function: the elementwise product of two operands'
/// blocks.
fn product(_: &bw::Value, inputs: Vec<bw::Value>) -> bw::graph::TaskResult {
    let a = bwa::block_of::<f64>(&inputs[0])?.view();
    let b = bwa::block_of::<f64>(&inputs[1])?.view();
    Ok(bwa::Block::Dense(&*a * &*b).into_value())
}
static PRODUCT: bw::graph::NamedFn = bw::graph::NamedFn::new("test.product", product);

#[test]
fn named_overlap_and_blockwise_functions_run_on_the_default_client() {
    use bwa::Boundary;
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    bw::register_builtins();
    bw::graph::register(&SMOOTH3);
    bw::graph::register(&PRODUCT);
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let threads = Config::with_scheduler(Scheduler::Threads(2));
    let _guard = client.as_default();
    for seed in 0..5u64 {
        let (n, m) = (4 + (seed as usize * 5) % 17, 6 + (seed as usize * 13) % 29);
        let x = bwa::random::random(&[n, m], [1 + n / 2, 2 + m / (2 + seed as usize % 3)], seed).unwrap();
        for boundary in [Boundary::None, Boundary::Reflect, Boundary::Constant(0.5)] {
            let named = x.map_overlap_named::<f64>("smooth3", &[0, 1], boundary, &SMOOTH3, bw::Value::Unit).unwrap();
            let closure = x.map_overlap("smooth3", &[0, 1], boundary, |b, _| neighbours(b)).unwrap();
            let got = named.compute().unwrap();
            assert_close(
                &got,
                &closure.compute_with(&threads).unwrap(),
                &format!("map_overlap {boundary:?}, seed {seed}"),
            );
        }
        let y = bwa::random::random(&[m], [1 + m / 3], seed + 100).unwrap();
        let named = bwa::blockwise_named::<f64>(
            "product",
            "ij",
            &[(x.as_operand(), "ij"), (y.as_operand(), "j")],
            &PRODUCT,
            bw::Value::Unit,
        )
        .unwrap();
        let want = bwa::blockwise("product", "ij", &[(&x, "ij"), (&y, "j")], |b| &b[0] * &b[1]).unwrap();
        assert_close(
            &named.compute().unwrap(),
            &want.compute_with(&threads).unwrap(),
            &format!("blockwise, seed {seed}"),
        );
    }
}

/// One month of a small daily field (3 × 4 cells) as a dataset.
fn month(year: i32, m: u8, seed: u64) -> bw::labeled::Dataset {
    use bw::labeled::{Calendar, Coord, Coords, Data, DataArray, DateTime, Index};
    let days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1];
    let x = bwa::random::random(&[days, 3, 4], [days, 3, 4], seed).unwrap();
    let mut coords = Coords::new();
    let times = (1..=days as u8).map(|d| DateTime::date(year, m, d)).collect();
    coords.insert("time".into(), Coord::new(Index::Time { calendar: Calendar::NoLeap, values: times }));
    coords.insert("lat".into(), Coord::new(Index::Float(vec![10.0, 0.0, -10.0])));
    coords.insert("lon".into(), Coord::new(Index::Float(vec![0.0, 90.0, 180.0, 270.0])));
    let t =
        DataArray::new(Some("t"), &["time", "lat", "lon"], Data::F64(&x * 30.0 + 270.0), coords, Default::default());
    bw::labeled::Dataset::from_vars(vec![t.unwrap()], Default::default()).unwrap()
}

#[test]
fn labeled_arrays_persist_write_and_plot_on_the_default_client() {
    use bw::labeled::{self as xr, ZarrVersion};
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    bw::register_builtins();
    let dir = std::env::temp_dir().join(format!("bw-default-labeled-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (y, m)) in (2000..2003).flat_map(|y| (1..=12u8).map(move |m| (y, m))).enumerate() {
        month(y, m, i as u64).to_netcdf(dir.join(format!("t_{y}_{m:02}.nc"))).unwrap();
    }
    let anomaly = || {
        let t = xr::open_mfdataset(dir.join("t_*.nc").display().to_string().as_str(), &[("time", 10)])?.get("t")?;
        let clim = t.sel("time", "2000"..="2001")?.groupby("time.season")?.mean("time")?;
        t.sel("time", "2002")?.groupby("time.season")?.mean("time")?.sub(&clim)
    };
    let want = anomaly().unwrap().values().unwrap();

    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let guard = client.as_default();
    let before = tasks_run(&cluster);
    let anom = anomaly().unwrap().persist().unwrap();
    assert_close(&anom.values().unwrap(), &want, "the persisted anomaly");
    let after_persist = tasks_run(&cluster);
    assert!(after_persist > before, "persist ran nowhere on the cluster");
    anom.to_netcdf(dir.join("anomaly.nc")).unwrap();
    anom.plot_facets(dir.join("anomaly.png"), "season", 2, None).unwrap();
    assert_eq!(tasks_run(&cluster), after_persist, "the persisted anomaly was computed again");
    // Written by the workers: one task per chunk, nothing computed again.
    anom.to_zarr(dir.join("anomaly.zarr"), ZarrVersion::V2).unwrap();
    // A new expression on the cluster, written by its workers.
    let zonal = anomaly().unwrap().mean("lon").unwrap();
    let before = tasks_run(&cluster);
    zonal.to_zarr(dir.join("zonal.zarr"), ZarrVersion::V3).unwrap();
    assert!(tasks_run(&cluster) > before, "to_zarr ran nowhere on the cluster");
    drop(guard);

    // Read back on threads: each file holds the threads' answer.
    let nc = xr::open_dataset(dir.join("anomaly.nc"), &[]).unwrap().get("t").unwrap().values().unwrap();
    assert_close(&nc, &want, "to_netcdf");
    let zarr = xr::open_zarr(dir.join("anomaly.zarr"), &[]).unwrap().get("t").unwrap().values().unwrap();
    assert_close(&zarr, &want, "to_zarr");
    let zonal = xr::open_zarr(dir.join("zonal.zarr"), &[]).unwrap().get("t").unwrap().values().unwrap();
    assert_close(&zonal, &anomaly().unwrap().mean("lon").unwrap().values().unwrap(), "to_zarr of a new expression");
    let png = std::fs::read(dir.join("anomaly.png")).unwrap();
    anomaly().unwrap().plot_facets(dir.join("threads.png"), "season", 2, None).unwrap();
    assert_eq!(png, std::fs::read(dir.join("threads.png")).unwrap(), "the maps differ");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A named bag step: the lowercase words of each line of a partition.
fn words(_: &bw::Value, inputs: Vec<bw::Value>) -> bw::graph::TaskResult {
    let lines = bw::bag::partition_items::<String>(&inputs[0])?;
    let out: Vec<String> = lines.iter().flat_map(|l| l.split_whitespace().map(str::to_lowercase)).collect();
    Ok(bw::bag::partition_value(out))
}
static WORDS: bw::graph::NamedFn = bw::graph::NamedFn::new("test.words", words);

/// The same as a registered item-wise step, fused into what consumes it.
fn line_words(line: &str, out: &mut bw::bag::Emit<'_, String>) {
    line.split_whitespace().for_each(|w| out.push(w.to_lowercase()));
}
static LINE_WORDS: bw::bag::ItemFn<String, String> = bw::bag::ItemFn::text("test.line-words", line_words);

static SQUARES: bw::bag::FoldFn<i64, i64> = bw::bag::FoldFn::new("test.squares", || 0, |a, x| a + x * x, |a, b| a + b);
static BY_TENS: bw::bag::FoldByFn<i64, i64, u64> =
    bw::bag::FoldByFn::new("test.by-tens", |x| x / 10, || 0, |n, _| n + 1, |a, b| a + b);
static ITSELF: bw::bag::KeyFn<i64, i64> = bw::bag::KeyFn::new("test.itself", |x| *x);
static LAST_DIGIT: bw::bag::KeyFn<i64, i64> = bw::bag::KeyFn::new("test.last-digit", |x| x % 10);

#[test]
fn bags_and_json_lines_compute_on_the_default_client() {
    use bw::bag::{from_sequence, read_json_lines, read_text, TextOptions};
    use bw::dataframe::col;
    use std::io::Write as _;
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    bw::register_builtins();
    bw::graph::register(&WORDS);
    let dir = std::env::temp_dir().join(format!("bw-default-bag-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let vocab = ["Sea", "ice", "melt", "the", "Arctic", "the", "a", "warming", "ICE", "ocean"];
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut logs = Vec::new();
    for f in 0..5 {
        let text: String = (0..40 + f * 17)
            .map(|_| (0..1 + next() % 9).map(|_| vocab[(next() % 10) as usize]).collect::<Vec<_>>().join(" ") + "\n")
            .collect();
        if f == 4 {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text.as_bytes()).unwrap();
            std::fs::write(dir.join("text-4.txt.gz"), gz.finish().unwrap()).unwrap();
        } else {
            std::fs::write(dir.join(format!("text-{f}.txt")), text).unwrap();
        }
        let records: String = (0..30 + f * 11)
            .map(|i| {
                let level = ["info", "warn", "error"][(next() % 3) as usize];
                let blank = if i % 13 == 0 { "\n" } else { "" };
                format!(
                    "{{\"service\": \"svc-{}\", \"level\": \"{level}\", \"ms\": {}}}\n{blank}",
                    next() % 4,
                    next() % 500
                )
            })
            .collect();
        logs.push(records.clone());
        std::fs::write(dir.join(format!("log-{f}.jsonl")), records).unwrap();
    }
    let threads = Config::with_scheduler(Scheduler::Threads(2));
    let text = read_text(&format!("{}/text-*", dir.display()), &TextOptions { blocksize: Some(300) }).unwrap();
    assert!(text.npartitions() > 5, "blocks of lines: {}", text.npartitions());
    let by_closure = text.flat_map(|l| l.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>());
    let words = text.map_partitions_named::<String>(&WORDS, bw::Value::Unit);
    let logs_bag = read_json_lines(&format!("{}/log-*.jsonl", dir.display()), &TextOptions::default()).unwrap();

    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let guard = client.as_default();
    let before = tasks_run(&cluster);
    assert_eq!(text.count().compute().unwrap(), text.count().compute_with(&threads).unwrap(), "count");
    assert!(tasks_run(&cluster) > before, "count ran nowhere on the cluster");
    assert_eq!(text.compute().unwrap(), text.compute_with(&threads).unwrap(), "lines");
    let freqs = words.frequencies();
    let want = by_closure.frequencies().compute_with(&threads).unwrap();
    assert_eq!(freqs.compute().unwrap(), want, "frequencies");
    assert_eq!(freqs.take(3).unwrap(), want[..3].to_vec(), "take");
    assert_eq!(words.distinct().compute().unwrap(), by_closure.distinct().compute_with(&threads).unwrap(), "distinct");
    assert_eq!(words.count().compute().unwrap(), want.iter().map(|p| p.1).sum::<u64>(), "count of words");
    let stepped = text.flat_map_named(&LINE_WORDS);
    assert_eq!(stepped.frequencies().compute().unwrap(), want, "frequencies through a registered step");
    assert_eq!(stepped.compute().unwrap(), by_closure.compute_with(&threads).unwrap(), "items of a registered step");
    assert_eq!(stepped.count().compute().unwrap(), want.iter().map(|p| p.1).sum::<u64>(), "count of a step's items");
    let numbers = from_sequence((0..1000i64).map(|i| (i * 7919) % 101).collect(), 7).unwrap();
    assert_eq!(numbers.frequencies().compute().unwrap(), numbers.frequencies().compute_with(&threads).unwrap());
    assert_eq!(numbers.count().compute().unwrap(), 1000);
    // Reductions: built-in, and with registered functions.
    let before = tasks_run(&cluster);
    assert_eq!(numbers.sum().compute().unwrap(), numbers.sum().compute_with(&threads).unwrap(), "sum");
    assert!(tasks_run(&cluster) > before, "sum ran nowhere on the cluster");
    assert_eq!(numbers.mean().compute().unwrap(), numbers.mean().compute_with(&threads).unwrap(), "mean");
    assert_eq!(numbers.min().compute().unwrap(), Some(0), "min");
    assert_eq!(numbers.max().compute().unwrap(), Some(100), "max");
    let lines_min = text.min().compute().unwrap();
    assert_eq!(lines_min, text.min().compute_with(&threads).unwrap(), "min of lines");
    assert_eq!(
        numbers.fold_named(&SQUARES).compute().unwrap(),
        numbers.fold_named(&SQUARES).compute_with(&threads).unwrap()
    );
    let by = numbers.foldby_named(&BY_TENS);
    assert_eq!(by.compute().unwrap(), by.compute_with(&threads).unwrap(), "foldby");
    assert_eq!(numbers.topk_named(5, &ITSELF).compute().unwrap(), vec![100; 5], "topk");
    let groups = numbers.groupby_named(&LAST_DIGIT, 3).unwrap();
    assert_eq!(groups.compute().unwrap(), groups.compute_with(&threads).unwrap(), "groupby");
    let written = dir.join("out");
    let before = tasks_run(&cluster);
    stepped.to_textfiles(&format!("{}/words-*.txt.gz", written.display())).unwrap();
    assert!(tasks_run(&cluster) > before, "to_textfiles ran nowhere on the cluster");
    let back = read_text(&format!("{}/words-*.txt.gz", written.display()), &TextOptions::default()).unwrap();
    let back: Vec<String> =
        back.compute_with(&threads).unwrap().into_iter().map(|l| l.trim_end().to_string()).collect();
    assert_eq!(back, by_closure.compute_with(&threads).unwrap(), "words written by the workers");

    // A JSON-lines log pile: records plucked, and summarized as a dataframe.
    let levels = logs_bag.pluck("level").compute().unwrap();
    assert_eq!(levels, logs_bag.pluck("level").compute_with(&threads).unwrap(), "pluck");
    let all: usize = logs.iter().map(|l| l.lines().filter(|x| !x.is_empty()).count()).sum();
    assert_eq!(levels.len(), all);
    let frame = bw::dataframe::from_records(&logs_bag, &Config::default()).unwrap();
    let summary = frame.groupby(&[col("service"), col("level")]).unwrap().mean(&["ms"]).unwrap();
    let before = tasks_run(&cluster);
    let there = summary.compute().unwrap();
    assert!(tasks_run(&cluster) > before, "the summary ran nowhere on the cluster");
    drop(guard);
    let here = bw::dataframe::from_records(&logs_bag, &threads).unwrap();
    let here = here.groupby(&[col("service"), col("level")]).unwrap().mean(&["ms"]).unwrap().compute().unwrap();
    assert!(there.equals_missing(&here), "{there} vs {here}");

    // A closure in a bag is refused there, saying what to do.
    let _guard = client.as_default();
    let err = by_closure.count().compute().unwrap_err().to_string();
    assert!(err.contains("closure") && err.contains("NamedFn"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn array_operations_on_the_default_client_equal_threads() {
    use ndarray::s;
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    bw::register_builtins();
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let threads = Config::with_scheduler(Scheduler::Threads(2));
    let _guard = client.as_default();
    for seed in 0..5u64 {
        let (n, m) = (4 + (seed as usize * 7) % 23, 3 + (seed as usize * 5) % 19);
        let chunks = [1 + n / (2 + seed as usize % 2), 1 + m / (1 + seed as usize % 3)];
        let x = bwa::random::random(&[n, m], chunks, seed).unwrap();
        let w = bwa::random::draw::<f64>(
            bwa::random::Dist::Normal { loc: 0.5, scale: 2.0 },
            &[n, m],
            [2 + n / 3, m],
            seed + 50,
        )
        .unwrap();
        let floats: Vec<(&str, Array<f64>)> = vec![
            ("normal draws", w.clone()),
            ("std", x.std(1)),
            ("var of a sum", (&x + &w).var(0)),
            ("argmax", x.argmax_axis(1).unwrap().astype::<f64>()),
            ("rechunk", x.rechunk([1 + n / 3, 2]).unwrap()),
            ("slice with steps", x.slice(s![1..;2, ..;-1]).unwrap()),
            ("take", x.take(&[2, 0, -1, 1], 0).unwrap()),
            ("reshape", x.reshape(&[m, n]).unwrap()),
            ("concatenate", bwa::concatenate(&[&x, &w], 0).unwrap()),
            ("stack", bwa::stack(&[&x, &w], 2).unwrap()),
            ("where", bwa::where_(&x.greater(0.5).unwrap(), &x, &w).unwrap()),
            ("clip", w.clip(-0.5, 1.5)),
            ("cumprod", (&x + 0.5).cumprod(0).unwrap()),
            ("matmul", x.matmul(&w.t()).unwrap()),
            ("swapaxes", x.swapaxes(0, 1).unwrap().sum_axis(1).unwrap()),
            ("broadcast", x.sum_axis(0).unwrap().broadcast_to(&[3, m]).unwrap()),
            ("maximum", x.maximum(&w).unwrap()),
        ];
        for (what, e) in floats {
            let before = tasks_run(&cluster);
            let got = e.compute().unwrap();
            assert!(tasks_run(&cluster) > before, "{what}: nothing ran on the cluster");
            assert_close(&got, &e.compute_with(&threads).unwrap(), &format!("{what}, seed {seed}"));
        }
        // Decompositions of a tall-and-skinny matrix: the same factors.
        let tall = bwa::random::random(&[8 * n, 3], [n, 3], seed + 9).unwrap();
        let (q, r) = tall.qr().unwrap();
        let (u, sv, v) = tall.svd().unwrap();
        for (what, e) in [("q", q), ("r", r), ("u", u), ("s", sv), ("v", v)] {
            assert_close(&e.compute().unwrap(), &e.compute_with(&threads).unwrap(), &format!("{what}, seed {seed}"));
        }
    }
}

#[test]
fn the_readmes_examples_run_the_same_on_the_default_client() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    bw::register_builtins();
    bw::graph::register(&readme_examples::SCALE);
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let _guard = client.as_default();
    readme_examples::arrays().unwrap();
    readme_examples::named_functions().unwrap();
    assert!(tasks_run(&cluster) > 0, "nothing ran on the cluster");
}
