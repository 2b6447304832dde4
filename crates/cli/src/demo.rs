//! `blockwork demo`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use blockwork as bw;
use bw::graph::{
    lit, r, Graph, GraphBuilder, KernelParams, Key, NamedFn, NoParams, Op, Task, TaskError, TaskResult, Value,
};

/// Options of the demo.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Another demo instead of the default one.
    #[command(subcommand)]
    pub(crate) which: Option<Which>,
    /// Number of no-op tasks in the big graph.
    #[arg(long, default_value_t = 1_000_000)]
    n: u32,
    /// Threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Where to write the profile of the big run (HTML).
    #[arg(long, default_value = "blockwork-profile.html")]
    profile: PathBuf,
    /// Side of the square arrays of the array step (blocks are an eighth of it).
    #[arg(long, default_value_t = 8000)]
    array_n: usize,
}

/// The other demos.
#[derive(clap::Subcommand)]
pub(crate) enum Which {
    /// The seasonal temperature anomaly of a year on a pile of ERA5-like
    /// NetCDF files (made first when none is given): NetCDF and a 2×2 map.
    Climate(crate::climate::ClimateArgs),
}

fn one(_: &Value, _: Vec<Value>) -> TaskResult {
    Ok(Value::Int(1))
}

fn sum(_: &Value, args: Vec<Value>) -> TaskResult {
    args.iter()
        .map(|v| match v {
            Value::Int(i) => Ok(*i),
            other => Err(TaskError::new(format!("sum wants ints, got {}", other.type_name()))),
        })
        .sum::<Result<i64, _>>()
        .map(Value::Int)
}

static ONE: NamedFn = NamedFn::new("demo.one", one).params::<NoParams>();
static SUM: NamedFn = NamedFn::new("demo.sum", sum).params::<NoParams>();

/// N leaves of 1, summed by a tree of fan-in 8: N + N/7 tasks.
fn tree_graph(n: u32) -> (Graph, Key) {
    let mut b = GraphBuilder::with_capacity(n as usize + n as usize / 7 + 8);
    let leaf: Arc<str> = "one".into();
    let mut level: Vec<Key> = (0..n).map(|i| Key::with_shared_name(&leaf, &[i])).collect();
    let (one, sum) = (Op::named(&ONE, NoParams {}.to_value()), Op::named(&SUM, NoParams {}.to_value()));
    for k in &level {
        b.insert(k.clone(), Task::new(one.clone(), vec![]));
    }
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        let name: Arc<str> = format!("sum-{depth:x}").into();
        level = level
            .chunks(8)
            .enumerate()
            .map(|(i, group)| {
                let k = Key::with_shared_name(&name, &[i as u32]);
                b.insert(k.clone(), Task::new(sum.clone(), group.iter().cloned().map(r).collect()));
                k
            })
            .collect();
    }
    let out = level.pop().unwrap_or_else(|| Key::new("none"));
    if b.is_empty() {
        b.insert(out.clone(), Task::new(Op::named(&bw::graph::builtins::CONSTANT, Value::Int(0)), vec![lit(0i64)]));
    }
    (b.build().expect("the demo graph is valid"), out)
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let cancel = bw::CancelToken::new();
    {
        let cancel = cancel.clone();
        ctrlc::set_handler(move || {
            eprintln!("\ncancelling…");
            cancel.cancel();
        })
        .context("installing the Ctrl-C handler")?;
    }
    let scheduler = bw::Scheduler::Threads(args.threads);

    println!("== 1. delayed: a small pipeline ==");
    let load = bw::delayed::func("load", |day: i64| -> Vec<f64> {
        (0..24)
            .map(|h| 15.0 + 8.0 * ((h as f64 - 14.0) / 24.0 * std::f64::consts::TAU).cos() + day as f64 * 0.1)
            .collect()
    });
    let daily_mean = bw::delayed::func("daily-mean", |xs: Vec<f64>| xs.iter().sum::<f64>() / xs.len() as f64);
    let warmest = bw::delayed::func("warmest", |ms: Vec<f64>| {
        ms.iter().enumerate().fold((0i64, f64::MIN), |acc, (i, &m)| if m > acc.1 { (i as i64, m) } else { acc })
    });
    let means: Vec<_> = (0..30).map(|d| daily_mean.call((load.call((d,)),))).collect();
    let best = warmest.call((&means,));
    let config = bw::Config::with_scheduler(scheduler.clone()).cancel_token(cancel.clone());
    let t0 = Instant::now();
    let ((day, temp), month) = bw::compute_with(
        (&best, &bw::delayed::func("mean", |ms: Vec<f64>| ms.iter().sum::<f64>() / ms.len() as f64).call((&means,))),
        &config,
    )?;
    println!(
        "  61 tasks: warmest day {day} ({temp:.2} °C), monthly mean {month:.2} °C, in {:.2} ms",
        t0.elapsed().as_secs_f64() * 1e3
    );

    println!("== 2. a big graph of no-op tasks on {} threads ==", scheduler.nthreads());
    let t0 = Instant::now();
    let (graph, out) = tree_graph(args.n);
    let build = t0.elapsed();
    let t1 = Instant::now();
    let priority = bw::graph::order(&graph);
    let order_time = t1.elapsed();
    let ntasks = graph.len();
    let profiler = Arc::new(bw::Profiler::new());
    let resources = Arc::new(bw::ResourceProfiler::default());
    let config = bw::Config::with_scheduler(scheduler.clone())
        .cancel_token(cancel.clone())
        .callback(Arc::new(bw::ProgressBar::default()))
        .callback(profiler.clone())
        .callback(resources.clone());
    let t2 = Instant::now();
    let result = bw::local::execute(&graph, std::slice::from_ref(&out), priority, &config)?;
    let exec = t2.elapsed();
    println!(
        "  {ntasks} tasks, result {:?}: build {:.3} s, order {:.3} s, run {:.3} s ({:.2} µs per task, profiled)",
        result[0],
        build.as_secs_f64(),
        order_time.as_secs_f64(),
        exec.as_secs_f64(),
        exec.as_secs_f64() / ntasks as f64 * 1e6
    );
    profiler
        .write_html(&args.profile, Some(&resources))
        .with_context(|| format!("writing the profile to {}", args.profile.display()))?;
    println!("  profile: {}", args.profile.display());

    println!("== 3. arrays ==");
    use bw::array as bwa;
    let config = bw::Config::with_scheduler(scheduler).cancel_token(cancel);
    let t0 = Instant::now();
    let (n, c) = (args.array_n, (args.array_n / 8).max(1));
    let x = bwa::random::random(&[n, n], [c, c], 42)?;
    let y = x.add(x.t())?.sub(x.mean_axis(0)?)?.sum();
    let v = y.compute_scalar_with(&config)?;
    println!("  ((x + x.T) - x.mean(axis=0)).sum() over {x}\n    = {v:.1} in {:.2} s", t0.elapsed().as_secs_f64());
    let t0 = Instant::now();
    let z = bwa::ones::<f64>(&[n / 2, n / 2], [c, c])?;
    let w = z.dot(&(&z.t() + 1.0))?.sub(z.mean())?.std(0);
    let v = w.compute_scalar_with(&config)?;
    println!(
        "  (x.dot(x.T + 1) - x.mean()).std() for ones(({0}, {0})) = {v} in {1:.2} s",
        n / 2,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
