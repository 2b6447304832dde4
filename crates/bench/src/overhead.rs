//! `overhead`: per-task cost of the schedulers on no-op tasks.
//!
//! Graphs (result = N for all):
//! - `chain`: t0 = 0; t_i = inc(t_{i-1}), N tasks in a line;
//! - `fan`: N independent leaves, then one task taking all of them (returns their count);
//! - `tree`: N leaves of 1 summed by a binary tree (2N − 1 tasks).
//!
//! Modes: `raw` builds the graph directly with a `GraphBuilder` (what the
//! collections do); `delayed` builds it through the `delayed` API.
//! Timed phases: build (graph construction and validation), order, exec
//! (the scheduler run, unoptimized: every no-op task really is scheduled).

use std::sync::Arc;
use std::time::Instant;

use blockwork as bw;
use bw::graph::{r, Graph, GraphBuilder, KernelParams, Key, NamedFn, NoParams, Op, Task, TaskError, TaskResult, Value};
use serde_json::json;

use crate::alloc;

fn inc(_: &Value, args: Vec<Value>) -> TaskResult {
    match args.as_slice() {
        [] => Ok(Value::Int(1)),
        [Value::Int(i)] => Ok(Value::Int(i + 1)),
        _ => Err(TaskError::new("inc wants at most one int")),
    }
}

fn noop(_: &Value, args: Vec<Value>) -> TaskResult {
    Ok(args.into_iter().next().unwrap_or(Value::Int(1)))
}

fn count(_: &Value, args: Vec<Value>) -> TaskResult {
    match args.as_slice() {
        [Value::List(xs)] => Ok(Value::Int(xs.len() as i64)),
        _ => Err(TaskError::new("count wants one list")),
    }
}

fn add(_: &Value, args: Vec<Value>) -> TaskResult {
    Ok(Value::Int(args.iter().map(|v| if let Value::Int(i) = v { *i } else { 0 }).sum()))
}

static INC: NamedFn = NamedFn::new("bench.inc", inc).params::<NoParams>();
static NOOP: NamedFn = NamedFn::new("bench.noop", noop).params::<NoParams>();
static COUNT: NamedFn = NamedFn::new("bench.count", count).params::<NoParams>();
static ADD: NamedFn = NamedFn::new("bench.add", add).params::<NoParams>();

fn op(f: &'static NamedFn) -> Op {
    Op::named(f, NoParams {}.to_value())
}

/// Builds the graph directly; returns it and its output.
pub fn build_raw(pattern: &str, n: u32) -> anyhow::Result<(Graph, Key)> {
    let mut b = GraphBuilder::with_capacity(2 * n as usize);
    let out = match pattern {
        "chain" => {
            let name: Arc<str> = "inc".into();
            let inc = op(&INC);
            for i in 0..n {
                let args = if i == 0 { vec![] } else { vec![r(Key::with_shared_name(&name, &[i - 1]))] };
                b.insert(Key::with_shared_name(&name, &[i]), Task::new(inc.clone(), args));
            }
            Key::with_shared_name(&name, &[n - 1])
        }
        "fan" => {
            let name: Arc<str> = "leaf".into();
            let noop = op(&NOOP);
            for i in 0..n {
                b.insert(
                    Key::with_shared_name(&name, &[i]),
                    Task::new(noop.clone(), vec![bw::graph::lit(i64::from(i))]),
                );
            }
            let refs = (0..n).map(|i| r(Key::with_shared_name(&name, &[i]))).collect();
            b.insert(Key::new("agg"), Task::new(op(&COUNT), vec![bw::graph::Arg::List(refs)]));
            Key::new("agg")
        }
        "tree" => {
            let leaf: Arc<str> = "one".into();
            let mut level: Vec<Key> = (0..n).map(|i| Key::with_shared_name(&leaf, &[i])).collect();
            let (noop, add) = (op(&NOOP), op(&ADD));
            for k in &level {
                b.insert(k.clone(), Task::new(noop.clone(), vec![]));
            }
            let mut depth = 0u32;
            while level.len() > 1 {
                depth += 1;
                let name: Arc<str> = format!("add-{depth:x}").into();
                level = level
                    .chunks(2)
                    .enumerate()
                    .map(|(i, pair)| {
                        let k = Key::with_shared_name(&name, &[i as u32]);
                        b.insert(k.clone(), Task::new(add.clone(), pair.iter().cloned().map(r).collect()));
                        k
                    })
                    .collect();
            }
            level.pop().ok_or_else(|| anyhow::anyhow!("tree needs n >= 1"))?
        }
        other => anyhow::bail!("unknown pattern {other:?}: use chain, fan or tree"),
    };
    Ok((b.build()?, out))
}

/// Builds the same graph through `delayed`.
fn build_delayed(pattern: &str, n: u32) -> anyhow::Result<(Graph, Key)> {
    use bw::delayed::func;
    let d = match pattern {
        "chain" => {
            let inc = func("inc", |x: i64| x + 1);
            let mut x = inc.call((0,));
            for _ in 1..n {
                x = inc.call((&x,));
            }
            x
        }
        "fan" => {
            let noop = func("noop", |x: i64| x);
            let leaves: Vec<_> = (0..n).map(|i| noop.call((i64::from(i),))).collect();
            func("agg", |xs: Vec<i64>| xs.len() as i64).call((leaves,))
        }
        "tree" => {
            let one = func("one", || 1i64);
            let add = func("add", |a: i64, b: i64| a + b);
            let mut level: Vec<_> = (0..n).map(|_| one.call(())).collect();
            while level.len() > 1 {
                level = level
                    .chunks(2)
                    .map(|p| if p.len() == 2 { add.call((&p[0], &p[1])) } else { p[0].clone() })
                    .collect();
            }
            level.pop().ok_or_else(|| anyhow::anyhow!("tree needs n >= 1"))?
        }
        other => anyhow::bail!("unknown pattern {other:?}: use chain, fan or tree"),
    };
    Ok((d.graph()?, d.key().clone()))
}

/// Registers the workloads' functions and the built-ins: what a worker
/// process of the bench needs.
pub fn register() {
    bw::register_builtins();
    for f in [&INC, &NOOP, &COUNT, &ADD] {
        bw::graph::register(f);
    }
    bw::bag::register_step(&crate::wordfreq::WORDS);
}

/// Where the graphs run.
pub enum Target {
    /// A local scheduler (no graph optimization: every task is scheduled).
    Local(bw::Config),
    /// A cluster: a running one, or a local cluster started for the run.
    Cluster {
        /// The client.
        client: Box<bw::distributed::Client>,
        /// The cluster, when started here (kept alive for the run).
        local: Option<Box<crate::procs::ProcCluster>>,
        /// Threads over all workers, when known.
        threads: usize,
    },
}

impl Target {
    /// Computes an array here or on the cluster.
    pub fn compute_array(&self, a: &bw::array::Array<f64>) -> anyhow::Result<ndarray::ArrayD<f64>> {
        Ok(match self {
            Target::Local(c) => a.compute_with(&c.clone().optimize(true))?,
            Target::Cluster { client, .. } => a.assemble(client.compute(a.graph()?, &a.keys())?)?,
        })
    }

    /// From `--scheduler` (`sync`, `threads[:N]`, `local-cluster`, `tcp://HOST:PORT`).
    pub fn parse(s: &str, workers: usize) -> anyhow::Result<Target> {
        Target::parse_with(s, workers, None)
    }

    /// As [`Target::parse`], a local cluster's workers each limited to
    /// `memory_limit` (e.g. "2GiB": above 60% of it they spill).
    pub fn parse_with(s: &str, workers: usize, memory_limit: Option<&str>) -> anyhow::Result<Target> {
        if let Some(sched) = bw::Scheduler::parse(s) {
            return Ok(Target::Local(bw::Config::with_scheduler(sched).optimize(false)));
        }
        register();
        if s == "local-cluster" {
            let cluster = crate::procs::ProcCluster::start(workers.max(1), 1, memory_limit)?;
            let client = bw::distributed::Client::connect(cluster.address())?;
            return Ok(Target::Cluster {
                client: Box::new(client),
                local: Some(Box::new(cluster)),
                threads: workers.max(1),
            });
        }
        if let Some(addr) = s.strip_prefix("tcp://") {
            let client = bw::distributed::Client::connect(addr)?;
            return Ok(Target::Cluster { client: Box::new(client), local: None, threads: 0 });
        }
        anyhow::bail!("unknown scheduler {s:?}: use sync, threads, threads:N, local-cluster or tcp://HOST:PORT")
    }

    pub fn impl_name(&self) -> &'static str {
        match self {
            Target::Local(c) if c.scheduler == bw::Scheduler::Sync => "blockwork-sync",
            Target::Local(_) => "blockwork-threads",
            Target::Cluster { .. } => "blockwork-distributed",
        }
    }

    pub fn threads(&self) -> usize {
        match self {
            Target::Local(c) => c.scheduler.nthreads(),
            Target::Cluster { threads, local, .. } => {
                let _ = local;
                *threads
            }
        }
    }
}

/// One measured run.
struct Run {
    build: f64,
    order: f64,
    exec: f64,
    tasks: usize,
    edges: usize,
    graph_bytes: usize,
    peak_bytes: usize,
    result: i64,
    /// Tasks the workers ran (fewer than `tasks` where a client fused them).
    executed: usize,
}

fn run_once(mode: &str, pattern: &str, n: u32, target: &Target) -> anyhow::Result<Run> {
    let base = alloc::live();
    alloc::reset_peak();
    let t0 = Instant::now();
    let (graph, out) = match mode {
        "raw" => build_raw(pattern, n)?,
        "delayed" => build_delayed(pattern, n)?,
        other => anyhow::bail!("unknown mode {other:?}: use raw or delayed"),
    };
    let build = t0.elapsed().as_secs_f64();
    let graph_bytes = alloc::live().saturating_sub(base);
    let t1 = Instant::now();
    let priority = bw::graph::order(&graph);
    let order = t1.elapsed().as_secs_f64();
    let (tasks, edges) = (graph.len(), graph.num_edges());
    let t2 = Instant::now();
    let vals = match target {
        Target::Local(config) => bw::local::execute(&graph, std::slice::from_ref(&out), priority, config)?,
        Target::Cluster { client, .. } => client.compute(graph, std::slice::from_ref(&out))?,
    };
    let exec = t2.elapsed().as_secs_f64();
    let peak_bytes = alloc::peak().saturating_sub(base);
    // A client fuses chains and inlines cheap tasks before sending: count
    // what its workers executed (the same passes on the graph built again,
    // after the measurements).
    let executed = match target {
        Target::Local(_) => tasks,
        Target::Cluster { .. } => {
            let (graph, out) = if mode == "raw" { build_raw(pattern, n)? } else { build_delayed(pattern, n)? };
            let (depth, outs) = (bw::graph::DEFAULT_MAX_FUSED_DEPTH, std::slice::from_ref(&out));
            bw::graph::fuse_linear(bw::graph::inline_cheap(graph, outs, depth)?, outs, depth)?.len()
        }
    };
    let result = match vals.first() {
        Some(Value::Int(i)) => *i,
        other => anyhow::bail!("unexpected result {other:?}"),
    };
    Ok(Run { build, order, exec, tasks, executed, edges, graph_bytes, peak_bytes, result })
}

pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Runs the workload and returns its JSON record.
pub fn run(n: u32, pattern: &str, mode: &str, target: &Target, repeats: usize) -> anyhow::Result<serde_json::Value> {
    let runs: Vec<Run> = (0..repeats.max(1)).map(|_| run_once(mode, pattern, n, target)).collect::<Result<_, _>>()?;
    let last = runs.last().expect("at least one run");
    let results: Vec<f64> = runs.iter().map(|r| r.result as f64).collect();
    let check = crate::check::Verdict::of(&results, f64::from(n), 0.0, "closed form: N");
    // On a cluster the first run is on fresh worker processes: reported
    // apart (`cold_seconds`); the medians are of the warm runs.
    let totals: Vec<f64> = runs.iter().map(|r| r.build + r.order + r.exec).collect();
    let mut timing = json!({});
    let total = crate::arrays::seconds_of(&totals, target, &mut timing);
    let warm = if timing.get("cold_seconds").is_some() { &runs[1..] } else { &runs[..] };
    let exec = median(warm.iter().map(|r| r.exec).collect());
    let impl_name = target.impl_name();
    let mut record = json!({
        "workload": "overhead",
        "impl": impl_name,
        "params": {"n": n, "pattern": pattern, "mode": mode, "threads": target.threads(), "repeats": repeats},
        "seconds": total,
        "result": last.result,
        "peak_rss_mib": alloc::peak_rss_mib(),
        "tasks": last.tasks,
        "edges": last.edges,
        "build_s": median(warm.iter().map(|r| r.build).collect()),
        "order_s": median(warm.iter().map(|r| r.order).collect()),
        "exec_s": exec,
        "exec_us_per_task": exec / n as f64 * 1e6,
        "executed_tasks": last.executed,
        "exec_us_per_executed_task": exec / last.executed.max(1) as f64 * 1e6,
        "e2e_us_per_task": total / n as f64 * 1e6,
        "graph_bytes_per_task": last.graph_bytes as f64 / last.tasks as f64,
        "peak_heap_bytes_per_task": last.peak_bytes as f64 / last.tasks as f64,
        "check": check.to_json(),
    });
    if let (Some(r), Some(t)) = (record.as_object_mut(), timing.as_object()) {
        r.extend(t.clone());
    }
    Ok(record)
}
