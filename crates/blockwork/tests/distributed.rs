//! Array expressions and delayed graphs computed on an in-process cluster
//! give the threaded scheduler's results, on random shapes and chunkings.
//! (The multi-process cluster is exercised in `crates/cli/tests/cli.rs`.)

use blockwork as bw;
use bw::array::{self as bwa, Array, ReduceOpts};
use bw::distributed::{Client, LocalCluster};
use bw::graph::{NamedFn, TaskResult, Value};
use ndarray::{ArrayD, IxDyn};

/// Shapes, chunkings and data from the workspace's seeded generator.
struct Rng(blockwork_testkit::Rng);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(blockwork_testkit::Rng::new(seed))
    }
    fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }
    fn data(&mut self, shape: &[usize]) -> ArrayD<f64> {
        ArrayD::from_shape_fn(IxDyn(shape), |_| self.0.below(2000) as f64 / 100.0 - 10.0)
    }
    /// A shape of 1–3 axes and a block length per axis.
    fn shape_and_chunks(&mut self) -> (Vec<usize>, Vec<usize>) {
        let ndim = 1 + self.below(3);
        let shape: Vec<usize> = (0..ndim).map(|_| 1 + self.below(9)).collect();
        let chunks = shape.iter().map(|&n| 1 + self.below(n)).collect();
        (shape, chunks)
    }
}

fn on(client: &Client, x: &Array<f64>) -> ArrayD<f64> {
    x.assemble(client.compute(x.graph().unwrap(), &x.keys()).unwrap()).unwrap()
}

fn assert_close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}");
    for (a, b) in got.iter().zip(want.iter()) {
        assert!(
            a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs())),
            "{what}: {a} vs {b}"
        );
    }
}

#[test]
fn array_expressions_match_the_threaded_scheduler() {
    bw::register_builtins();
    let cluster = LocalCluster::start(2, 2).unwrap();
    let client = cluster.client().unwrap();
    let mut rng = Rng::new(42);
    for case in 0..25 {
        let (shape, chunks) = rng.shape_and_chunks();
        let a = rng.data(&shape);
        let x = bwa::from_ndarray(a, chunks.clone()).unwrap();
        let last = *shape.last().unwrap();
        let row = bwa::from_ndarray(rng.data(&[last]), 1 + rng.below(last)).unwrap();
        let axis = rng.below(shape.len()) as isize;
        let rechunked: Vec<usize> = shape.iter().map(|&n| 1 + rng.below(n)).collect();
        let exprs: Vec<(&str, Array<f64>)> = vec![
            ("elementwise and broadcasting", ((&x * 2.0 - &row).abs().sqrt() + 1.0)),
            ("where", bwa::where_(&x.greater(0.0).unwrap(), &x, &(&x * -3.0)).unwrap()),
            ("sum over an axis", x.sum_with(&ReduceOpts::axes(&[axis]).split_every(2)).unwrap()),
            ("mean keeping dims", x.mean_with(&ReduceOpts::axes(&[axis]).keepdims()).unwrap()),
            ("std of all", x.std_with(&ReduceOpts::default().ddof(1)).unwrap()),
            ("max", x.max_with(&ReduceOpts::axes(&[0])).unwrap()),
            ("cumsum", x.cumsum(axis).unwrap()),
            ("rechunk", x.rechunk(rechunked).unwrap()),
            ("concatenate", bwa::concatenate(&[&x, &(&x + 1.0)], axis).unwrap()),
        ];
        for (what, e) in exprs {
            assert_close(
                &on(&client, &e),
                &e.compute().unwrap(),
                &format!("case {case} {what} on {shape:?}/{chunks:?}"),
            );
        }
    }
    for case in 0..10 {
        let (m, k, n) = (1 + rng.below(12), 1 + rng.below(12), 1 + rng.below(12));
        let x = bwa::from_ndarray(rng.data(&[m, k]), [1 + rng.below(m), 1 + rng.below(k)]).unwrap();
        let y = bwa::from_ndarray(rng.data(&[k, n]), [1 + rng.below(k), 1 + rng.below(n)]).unwrap();
        let p = x.matmul(&y).unwrap();
        assert_close(&on(&client, &p), &p.compute().unwrap(), &format!("matmul case {case}"));
        let xxt = &x.dot(&(&x.t() + 1.0)).unwrap() - x.mean_axis(0).unwrap().sum();
        assert_close(&on(&client, &xxt), &xxt.compute().unwrap(), &format!("x·(xᵀ+1) case {case}"));
    }
    let r = bwa::random::random(&[60, 50], [17, 20], 3).unwrap();
    let e = (&r - r.mean_axis(1).unwrap().expand_dims(1).unwrap()).var(0);
    assert_close(&on(&client, &e), &e.compute().unwrap(), "random, centred, variance");
}

fn double(_: &Value, args: Vec<Value>) -> TaskResult {
    let Value::Int(i) = args[0] else { return Err(bw::graph::TaskError::new("expected an int")) };
    Ok(Value::Int(2 * i))
}

fn total(_: &Value, args: Vec<Value>) -> TaskResult {
    let xs = args[0].as_list().ok_or_else(|| bw::graph::TaskError::new("expected a list"))?;
    Ok(Value::Int(xs.iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).sum()))
}

static DOUBLE: NamedFn = NamedFn::new("tests.double", double);
static TOTAL: NamedFn = NamedFn::new("tests.total", total);

#[test]
fn delayed_graphs_match_the_threaded_scheduler() {
    bw::register_builtins();
    let cluster = LocalCluster::start(2, 1).unwrap();
    let client = cluster.client().unwrap();
    let (d, t) = (bw::delayed::named(&DOUBLE), bw::delayed::named(&TOTAL));
    let xs: Vec<bw::Delayed<i64>> = (0..50i64).map(|i| d.call(vec![bw::delayed::arg(i)])).collect();
    let nested: Vec<bw::Delayed<i64>> = xs.iter().map(|x| d.call(vec![bw::delayed::arg(x)])).collect();
    let s: bw::Delayed<i64> = t.call(vec![bw::delayed::arg(&nested)]);
    let want: i64 = s.compute().unwrap();
    let got = client.compute(s.graph().unwrap(), std::slice::from_ref(s.key())).unwrap();
    assert_eq!(got, vec![Value::Int(want)]);
    assert_eq!(want, 4 * (0..50).sum::<i64>());
}

#[test]
fn dataframes_compute_on_a_cluster_as_on_threads() {
    use bw::dataframe::{col, lit, read_csv, Agg, Aggregation, CsvOptions};
    bw::register_builtins();
    let dir = std::env::temp_dir().join(format!("bw-dist-df-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(7);
    for f in 0..6 {
        let mut text = String::from("timestamp,group,value,name\n");
        for _ in 0..rng.below(400) {
            let (h, g, v) = (rng.below(24), rng.below(5), rng.below(1000) as f64 / 8.0);
            text.push_str(&format!("2024-05-{:02} {h:02}:17:00,{g},{v},n{}\n", 1 + rng.below(30), rng.below(3)));
        }
        std::fs::write(dir.join(format!("part-{f}.csv")), text).unwrap();
    }
    let options = CsvOptions { blocksize: Some(2000), ..CsvOptions::parse_dates(&["timestamp"]) };
    let df = read_csv(&format!("{}/part-*.csv", dir.display()), &options).unwrap();
    let filtered = df.filter(col("value").gt(20.0)).unwrap().assign(&[(col("value") * 2).alias("twice")]).unwrap();
    let grouped = filtered
        .groupby(&[col("timestamp").dt().hour(), col("group")])
        .unwrap()
        .agg(&[
            Aggregation::new(col("twice"), Agg::Mean),
            Aggregation::new(col("value"), Agg::Std).named("std"),
            Aggregation::new(col("name"), Agg::NUnique).named("names"),
            Aggregation::new(lit(0), Agg::Size).named("n"),
        ])
        .unwrap();
    // A join of two many-partition frames: both sides hash-shuffled.
    let counts = df.groupby(&[col("group")]).unwrap().size().unwrap();
    let joined = df
        .merge(&bw::dataframe::concat(&[counts.clone(), counts]).unwrap(), &["group"], bw::dataframe::How::Left)
        .unwrap();
    let cluster = LocalCluster::start(2, 2).unwrap();
    let client = cluster.client().unwrap();
    let counts = df.col("group").unwrap().value_counts().unwrap();
    for frame in [&filtered, &grouped, &joined, &counts] {
        let here = frame.compute().unwrap();
        let there = frame.assemble(client.compute(frame.graph().unwrap(), &frame.keys()).unwrap()).unwrap();
        assert!(there.equals_missing(&here), "{there} vs {here}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
