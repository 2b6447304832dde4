//! The local schedulers against a plain evaluation, and their failure,
//! cancellation, memory and callback behaviour.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blockwork_graph::{lit, r, Data, Graph, Key, Op, Task, TaskError, TaskId, Value};
use blockwork_local::{
    compute, Callback, CancelToken, ComputeError, Config, Profiler, ProgressBar, ResourceProfiler, Scheduler,
};
use proptest::prelude::*;

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        other => panic!("not an int: {other:?}"),
    }
}

fn sum_op() -> Op {
    Op::local("sum", |a| Ok(Value::Int(a.iter().map(int).sum())))
}

fn schedulers() -> [Scheduler; 4] {
    [Scheduler::Sync, Scheduler::Threads(1), Scheduler::Threads(2), Scheduler::Threads(4)]
}

/// Random DAG: task i sums a literal i and some earlier tasks; every third
/// task's op is serial ([`Op::local_serial`]).
fn random_graph(n: usize, edges: &[(usize, usize)]) -> (Graph, Vec<i64>) {
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        let (a, b) = (a % n, b % n);
        if a < b && !deps[b].contains(&a) {
            deps[b].push(a);
        }
    }
    let mut expect = vec![0i64; n];
    let mut tasks = Vec::new();
    for i in 0..n {
        expect[i] = i as i64 + deps[i].iter().map(|&d| expect[d]).sum::<i64>();
        let mut args = vec![lit(i as i64)];
        args.extend(deps[i].iter().map(|&d| r(Key::block("t", &[d as u32]))));
        let op =
            if i % 3 == 0 { Op::local_serial("sum", |a| Ok(Value::Int(a.iter().map(int).sum()))) } else { sum_op() };
        tasks.push((Key::block("t", &[i as u32]), Task::new(op, args)));
    }
    (Graph::from_tasks(tasks).unwrap(), expect)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_scheduler_matches_plain_evaluation(
        n in 1usize..80,
        edges in proptest::collection::vec((0usize..80, 0usize..80), 0..240),
        outs in proptest::collection::vec(0usize..80, 1..5),
        optimize in any::<bool>(),
    ) {
        let (g, expect) = random_graph(n, &edges);
        let keys: Vec<Key> = outs.iter().map(|&o| Key::block("t", &[(o % n) as u32])).collect();
        for s in schedulers() {
            let cfg = Config::with_scheduler(s).optimize(optimize);
            let got = compute(g.clone(), &keys, &cfg).unwrap();
            let want: Vec<Value> = outs.iter().map(|&o| Value::Int(expect[o % n])).collect();
            prop_assert_eq!(got, want);
        }
    }
}

/// A block that counts how many of its kind are alive.
#[derive(Debug)]
struct Tracked(&'static Counter);
#[derive(Debug)]
struct Counter {
    live: AtomicI64,
    max: AtomicI64,
}
impl Counter {
    const fn new() -> Self {
        Counter { live: AtomicI64::new(0), max: AtomicI64::new(0) }
    }
    fn make(&'static self) -> Value {
        let now = self.live.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        Value::object(Tracked(self))
    }
}
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}
impl Data for Tracked {
    fn nbytes(&self) -> usize {
        8
    }
}

fn chain_of_blocks(counter: &'static Counter, n: u32, fail_at: Option<u32>, panic_at: Option<u32>) -> Graph {
    let mut tasks = Vec::new();
    for i in 0..n {
        let op = Op::local("step", move |_args| {
            if Some(i) == fail_at {
                return Err(TaskError::new(format!("bad input at step {i}")));
            }
            if Some(i) == panic_at {
                panic!("step {i} exploded");
            }
            Ok(counter.make())
        });
        let args = if i == 0 { vec![] } else { vec![r(Key::block("step", &[i - 1]))] };
        tasks.push((Key::block("step", &[i]), Task::new(op, args)));
    }
    Graph::from_tasks(tasks).unwrap()
}

#[test]
fn blocks_are_freed_after_their_last_reader() {
    static C: Counter = Counter::new();
    for s in schedulers() {
        let g = chain_of_blocks(&C, 500, None, None);
        let out = compute(g, &[Key::block("step", &[499])], &Config::with_scheduler(s).optimize(false)).unwrap();
        assert_eq!(C.live.load(Ordering::SeqCst), 1, "only the output is alive");
        drop(out);
        assert_eq!(C.live.load(Ordering::SeqCst), 0);
        assert!(C.max.load(Ordering::SeqCst) <= 2, "a chain holds at most two blocks at once");
    }
}

#[test]
fn a_task_error_names_its_key_and_leaks_nothing() {
    static C: Counter = Counter::new();
    for s in schedulers() {
        let g = chain_of_blocks(&C, 100, Some(40), None);
        let err = compute(g, &[Key::block("step", &[99])], &Config::with_scheduler(s.clone())).unwrap_err();
        assert_eq!(err.to_string(), "task (\"step\", 40) failed: bad input at step 40");
        assert_eq!(err.key(), Some(&Key::block("step", &[40])));
        assert_eq!(C.live.load(Ordering::SeqCst), 0, "{s:?} leaked blocks");
    }
}

#[test]
fn a_panic_names_its_key_and_leaks_nothing() {
    static C: Counter = Counter::new();
    for s in schedulers() {
        let g = chain_of_blocks(&C, 100, None, Some(7));
        let err = compute(g, &[Key::block("step", &[99])], &Config::with_scheduler(s)).unwrap_err();
        assert!(matches!(err, ComputeError::Panic { .. }));
        assert_eq!(err.to_string(), "task (\"step\", 7) panicked: step 7 exploded");
        assert_eq!(C.live.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn an_unknown_output_is_named() {
    let (g, _) = random_graph(3, &[]);
    let err = compute(g, &[Key::new("nope")], &Config::default()).unwrap_err();
    assert_eq!(err.to_string(), "nope is not in the graph");
}

fn sleepy_fan(n: u32, ran: &'static AtomicUsize, cancel_at: Option<(u32, CancelToken)>) -> Graph {
    let mut tasks = Vec::new();
    for i in 0..n {
        let cancel = cancel_at.clone();
        let op = Op::local("sleepy", move |_| {
            ran.fetch_add(1, Ordering::SeqCst);
            if let Some((at, tok)) = &cancel {
                if *at == i {
                    tok.cancel();
                }
            }
            std::thread::sleep(Duration::from_millis(1));
            Ok(Value::Int(1))
        });
        tasks.push((Key::block("leaf", &[i]), Task::new(op, vec![])));
    }
    let refs = (0..n).map(|i| r(Key::block("leaf", &[i]))).collect();
    tasks.push((Key::new("total"), Task::new(sum_op(), refs)));
    Graph::from_tasks(tasks).unwrap()
}

#[test]
fn cancellation_stops_the_run() {
    for s in schedulers() {
        static RAN: AtomicUsize = AtomicUsize::new(0);
        RAN.store(0, Ordering::SeqCst);
        let tok = CancelToken::new();
        let g = sleepy_fan(1000, &RAN, Some((10, tok.clone())));
        let err = compute(g, &[Key::new("total")], &Config::with_scheduler(s.clone()).cancel_token(tok)).unwrap_err();
        assert!(matches!(err, ComputeError::Cancelled), "{err}");
        assert!(RAN.load(Ordering::SeqCst) < 20, "{s:?} ran {} tasks after cancel", RAN.load(Ordering::SeqCst));
    }
}

#[test]
fn cancellation_from_another_thread() {
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let tok = CancelToken::new();
    let g = sleepy_fan(100_000, &RAN, None);
    let t2 = tok.clone();
    let h = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        t2.cancel();
    });
    let err = compute(g, &[Key::new("total")], &Config::with_scheduler(Scheduler::Threads(2)).cancel_token(tok));
    h.join().unwrap();
    assert!(matches!(err, Err(ComputeError::Cancelled)));
    assert!(RAN.load(Ordering::SeqCst) < 100_000);
}

#[derive(Default)]
struct Counting {
    starts: AtomicUsize,
    task_starts: AtomicUsize,
    task_ends: AtomicUsize,
    failed: AtomicUsize,
    finishes: Mutex<Vec<bool>>,
    workers: Mutex<std::collections::BTreeSet<usize>>,
}

impl Callback for Counting {
    fn start(&self, _: &Graph, _: usize) {
        self.starts.fetch_add(1, Ordering::SeqCst);
    }
    fn task_start(&self, _: &Graph, _: TaskId, w: usize) {
        self.task_starts.fetch_add(1, Ordering::SeqCst);
        self.workers.lock().unwrap().insert(w);
    }
    fn task_finish(&self, _: &Graph, _: TaskId, _: usize, ok: bool) {
        self.task_ends.fetch_add(1, Ordering::SeqCst);
        if !ok {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn finish(&self, _: &Graph, ok: bool) {
        self.finishes.lock().unwrap().push(ok);
    }
}

#[test]
fn callbacks_see_every_task() {
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let cb = Arc::new(Counting::default());
    let progress = Arc::new(ProgressBar::new(Duration::from_secs(60)).hidden());
    let cfg = Config::with_scheduler(Scheduler::Threads(2)).callback(cb.clone()).callback(progress.clone());
    let out = compute(sleepy_fan(200, &RAN, None), &[Key::new("total")], &cfg).unwrap();
    assert_eq!(out, vec![Value::Int(200)]);
    assert_eq!(cb.starts.load(Ordering::SeqCst), 1);
    assert_eq!(cb.task_starts.load(Ordering::SeqCst), 201);
    assert_eq!(cb.task_ends.load(Ordering::SeqCst), 201);
    assert_eq!(*cb.finishes.lock().unwrap(), vec![true]);
    assert_eq!(*cb.workers.lock().unwrap(), [0, 1].into_iter().collect());
    assert_eq!(progress.completed(), 201);
    assert!(!progress.was_shown(), "a run shorter than min_time shows no bar");

    let progress = Arc::new(ProgressBar::new(Duration::from_millis(50)).hidden());
    let cfg = Config::with_scheduler(Scheduler::Threads(2)).callback(progress.clone());
    compute(sleepy_fan(400, &RAN, None), &[Key::new("total")], &cfg).unwrap();
    assert!(progress.was_shown(), "a run longer than min_time shows the bar");
    assert_eq!(progress.completed(), 401);

    static C: Counter = Counter::new();
    let cb = Arc::new(Counting::default());
    let g = chain_of_blocks(&C, 10, Some(5), None);
    let cfg = Config::with_scheduler(Scheduler::Sync).callback(cb.clone()).optimize(false);
    assert!(compute(g, &[Key::block("step", &[9])], &cfg).is_err());
    assert_eq!(cb.failed.load(Ordering::SeqCst), 1);
    assert_eq!(*cb.finishes.lock().unwrap(), vec![false]);
}

#[test]
fn profilers_record_tasks_and_resources() {
    static RAN: AtomicUsize = AtomicUsize::new(0);
    let prof = Arc::new(Profiler::new());
    let res = Arc::new(ResourceProfiler::new(Duration::from_millis(10)));
    let cfg = Config::with_scheduler(Scheduler::Threads(2)).callback(prof.clone()).callback(res.clone());
    compute(sleepy_fan(100, &RAN, None), &[Key::new("total")], &cfg).unwrap();
    let recs = prof.records();
    assert_eq!(recs.len(), 101);
    assert!(recs.iter().all(|r| r.start <= r.end && r.worker < 2 && r.ok));
    assert_eq!(recs.last().unwrap().key, Key::new("total"));
    let samples = res.samples();
    assert!(!samples.is_empty());
    assert!(samples.iter().all(|s| s.rss_bytes > 0));
    let path = std::env::temp_dir().join(format!("bw-profile-{}.html", std::process::id()));
    prof.write_html(&path, Some(&res)).unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("101 tasks on 2 threads"));
    assert!(html.contains("<polyline"));
    assert!(html.contains("leaf"));
    let _ = std::fs::remove_file(path);
}

#[test]
fn scheduler_names_parse() {
    assert_eq!(Scheduler::parse("sync"), Some(Scheduler::Sync));
    assert_eq!(Scheduler::parse("threads:3"), Some(Scheduler::Threads(3)));
    assert_eq!(Scheduler::parse("threads"), Some(Scheduler::Threads(0)));
    assert_eq!(Scheduler::parse("gpu"), None);
    assert!(Scheduler::Threads(0).nthreads() >= 1);
}

/// A fan of `n` serial tasks that each busy-wait `work` and record how many
/// serial tasks ran at once, and `n` ordinary tasks beside them.
fn serial_fan(n: u32, work: Duration, running: &'static AtomicUsize, most: &'static AtomicUsize) -> Graph {
    let mut tasks = Vec::new();
    for i in 0..n {
        let op = Op::local_serial("serial", move |_| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            let t0 = std::time::Instant::now();
            while t0.elapsed() < work {
                std::hint::spin_loop();
            }
            running.fetch_sub(1, Ordering::SeqCst);
            Ok(Value::Int(1))
        });
        tasks.push((Key::block("serial", &[i]), Task::new(op, vec![])));
        tasks.push((Key::block("plain", &[i]), Task::new(sum_op(), vec![lit(1i64)])));
    }
    let refs = (0..n).flat_map(|i| [r(Key::block("serial", &[i])), r(Key::block("plain", &[i]))]).collect();
    tasks.push((Key::new("total"), Task::new(sum_op(), refs)));
    Graph::from_tasks(tasks).unwrap()
}

#[test]
fn short_serial_tasks_run_one_at_a_time() {
    static RUNNING: AtomicUsize = AtomicUsize::new(0);
    static MOST: AtomicUsize = AtomicUsize::new(0);
    for threads in [2, 4] {
        MOST.store(0, Ordering::SeqCst);
        let g = serial_fan(2000, Duration::from_micros(5), &RUNNING, &MOST);
        let out = compute(g, &[Key::new("total")], &Config::with_scheduler(Scheduler::Threads(threads))).unwrap();
        assert_eq!(int(&out[0]), 4000);
        assert_eq!(MOST.load(Ordering::SeqCst), 1, "{threads} threads");
    }
}

#[test]
fn long_serial_tasks_run_in_parallel() {
    static RUNNING: AtomicUsize = AtomicUsize::new(0);
    static MOST: AtomicUsize = AtomicUsize::new(0);
    let g = serial_fan(40, Duration::from_millis(2), &RUNNING, &MOST);
    let out = compute(g, &[Key::new("total")], &Config::with_scheduler(Scheduler::Threads(2))).unwrap();
    assert_eq!(int(&out[0]), 80);
    assert_eq!(MOST.load(Ordering::SeqCst), 2);
}
