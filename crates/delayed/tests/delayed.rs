//! `delayed` with closures and named functions, many outputs at once,
//! persist, errors with keys, and very long chains.

use std::sync::atomic::{AtomicUsize, Ordering};

use blockwork_delayed::{arg, compute, compute_with, delayed, func, named, ComputeError, Config, Delayed, Scheduler};
use blockwork_graph::{kernel_params, KernelParams, NamedFn, TaskError, TaskResult, Value};

fn all_schedulers() -> [Config; 3] {
    [
        Config::with_scheduler(Scheduler::Sync),
        Config::with_scheduler(Scheduler::Threads(2)),
        Config::with_scheduler(Scheduler::Threads(4)).optimize(false),
    ]
}

#[test]
fn closures_build_graphs_and_compute() {
    let inc = func("inc", |x: i64| x + 1);
    let add = func("add", |a: i64, b: i64| a + b);
    let total = func("total", |xs: Vec<i64>| xs.iter().sum::<i64>());
    let xs: Vec<Delayed<i64>> = (0..20).map(|i| inc.call((i,))).collect();
    let s = add.call((total.call((&xs,)), 1000));
    for cfg in all_schedulers() {
        assert_eq!(s.compute_with(&cfg).unwrap(), 1000 + (1..=20).sum::<i64>());
    }
    assert_eq!(s.graph().unwrap().len(), 22);
}

#[test]
fn many_outputs_share_common_work() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let expensive = func("expensive", |x: i64| {
        RUNS.fetch_add(1, Ordering::SeqCst);
        x * 10
    });
    let double = func("double", |x: i64| x * 2);
    let neg = func("neg", |x: i64| -x);
    let base = expensive.call((4,));
    let a = double.call((&base,));
    let b = neg.call((&base,));
    let (ra, rb) = compute((&a, &b)).unwrap();
    assert_eq!((ra, rb), (80, -40));
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    let v: Vec<Delayed<i64>> = vec![a.clone(), b.clone(), a];
    assert_eq!(compute(&v).unwrap(), vec![80, -40, 80]);
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);
    let (x, (y, z)) = compute((&base, (&b, &v))).unwrap();
    assert_eq!((x, y, z), (40, -40, vec![80, -40, 80]));
}

#[test]
fn pure_calls_share_keys_impure_do_not() {
    let f = func("f", |x: i64| x);
    assert_ne!(f.call((1,)).key(), f.call((1,)).key());
    let p = func("p", |x: i64| x).pure();
    assert_eq!(p.call((1,)).key(), p.call((1,)).key());
    assert_ne!(p.call((1,)).key(), p.call((2,)).key());
    assert!(p.call((1,)).key().name().starts_with("p-"));
    let q = func("p", |x: i64| x + 1).pure();
    assert_ne!(p.call((1,)).key(), q.call((1,)).key(), "another closure under the same name");
    assert_eq!(delayed(5i64).key(), delayed(5i64).key());
}

#[test]
fn errors_and_panics_come_back_with_their_key() {
    let parse = func("parse", |s: String| s.parse::<i64>().map_err(|e| format!("cannot parse {s:?}: {e}")));
    let bad = parse.call(("x1".to_string(),));
    for cfg in all_schedulers() {
        let err = bad.compute_with(&cfg).unwrap_err();
        assert_eq!(err.key(), Some(bad.key()));
        assert!(err.to_string().ends_with("failed: cannot parse \"x1\": invalid digit found in string"), "{err}");
    }
    let boom = func("boom", |x: i64| -> i64 { panic!("boom at {x}") });
    let after = func("after", |x: i64| x + 1);
    let b = boom.call((3,));
    let c = after.call((&b,));
    for cfg in all_schedulers() {
        let err = c.compute_with(&cfg).unwrap_err();
        assert!(matches!(err, ComputeError::Panic { .. }));
        assert_eq!(err.key(), Some(b.key()), "the panicking task is named even when fused");
        assert!(err.to_string().ends_with("panicked: boom at 3"));
    }
}

#[test]
fn wrong_types_are_named() {
    let s = func("s", |x: i64| x.to_string()).call((1,));
    let err = s.clone().cast::<i64>().compute().unwrap_err();
    assert!(matches!(err, ComputeError::Output { .. }));
    assert!(err.to_string().contains("expected i64, found str"), "{err}");
    let needs_float = func("nf", |x: f64| x);
    let err = needs_float.call((s.cast::<f64>(),)).compute().unwrap_err();
    assert!(err.to_string().contains("argument 0: expected f64, found str"), "{err}");
}

kernel_params! {
    /// What `scale` multiplies by.
    struct ScaleParams {
        k: f64,
    }
}

fn scale(params: &Value, args: Vec<Value>) -> TaskResult {
    let ScaleParams { k } = ScaleParams::from_value(params)?;
    match args.as_slice() {
        [Value::Float(x)] => Ok(Value::Float(k * x)),
        [Value::List(xs)] => {
            Ok(Value::Float(xs.iter().map(|v| if let Value::Float(x) = v { k * x } else { 0.0 }).sum()))
        }
        _ => Err(TaskError::new("scale wants one float or a list of floats")),
    }
}
static SCALE: NamedFn = NamedFn::new("test.scale", scale).params::<ScaleParams>();

#[test]
fn named_functions_are_serializable_and_pure() {
    let triple = named(&SCALE).params(ScaleParams { k: 3.0 }.to_value());
    let x: Delayed<f64> = triple.call(vec![arg::<f64, _>(2.0)]);
    let y: Delayed<f64> = triple.call(vec![arg::<f64, _>(2.0)]);
    assert_eq!(x.key(), y.key());
    let g = x.graph().unwrap();
    assert!(g.ids().all(|t| g.task(t).is_serializable()));
    let z: Delayed<f64> =
        named(&SCALE).params(ScaleParams { k: 0.5 }.to_value()).call(vec![arg(vec![x.clone(), delayed(4.0)])]);
    for cfg in all_schedulers() {
        assert_eq!(z.compute_with(&cfg).unwrap(), 5.0);
    }
    assert!(blockwork_graph::registry("test.scale").is_some());
    let layouts = blockwork_graph::registry_layouts();
    assert!(layouts.iter().any(|(n, l)| *n == "test.scale" && l == "ScaleParams { k: f64 }"), "{layouts:?}");
    let err = named(&SCALE).call::<f64>(vec![arg::<f64, _>(2.0)]).compute().unwrap_err().to_string();
    assert!(err.contains("parameters of ScaleParams"), "{err}");
}

#[test]
fn persist_keeps_the_value_and_the_key() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let slow = func("slow", |x: i64| {
        RUNS.fetch_add(1, Ordering::SeqCst);
        x + 1
    });
    let a = slow.call((1,));
    let p = a.persist().unwrap();
    assert_eq!(p.key(), a.key());
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    let b = func("b", |x: i64| x * 100).call((&p,));
    assert_eq!(b.compute().unwrap(), 200);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
}

#[test]
fn list_elements() {
    let pair = func("pair", |x: i64| vec![x, x * 2]).call((21,));
    assert_eq!(pair.get(1).compute().unwrap(), 42);
    assert!(pair.get(5).compute().unwrap_err().to_string().contains("index 5 out of range for a list of 2"));
}

#[test]
fn very_long_chains_build_run_and_drop() {
    let inc = func("inc", |x: i64| x + 1);
    let mut x = delayed(0i64);
    for _ in 0..200_000 {
        x = inc.call((&x,));
    }
    for cfg in [Config::with_scheduler(Scheduler::Sync), Config::with_scheduler(Scheduler::Threads(2)).optimize(false)]
    {
        assert_eq!(compute_with(&x, &cfg).unwrap(), 200_000);
    }
    drop(x);
}

#[test]
fn visualize_writes_a_dot_file() {
    let x = func("inc", |x: i64| x + 1).call((1,));
    let path = std::env::temp_dir().join(format!("bw-delayed-{}.dot", std::process::id()));
    x.visualize(&path).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains("inc"));
    let _ = std::fs::remove_file(path);
}
