//! State-machine tests: events in, recorded outputs out, invariants
//! checked after every event.

use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::{ErrorKind, Key};
use blockwork_scheduler::{ComputeTask, DepInfo, Holder, Priority, StealId, StealOutcome, ToWorker, WorkerId};
use blockwork_worker::{
    Config, Erred, Event, Finished, Instruction as I, Out, Recorder, TaskStateKind as S, ToScheduler as M, WorkerState,
};

const ME: WorkerId = WorkerId(0);
const MS: Duration = Duration::from_millis(1);

fn k(s: &str) -> Key {
    Key::new(s)
}

fn w(n: u32) -> WorkerId {
    WorkerId(n)
}

fn holder(n: u32) -> Holder {
    Holder { worker: w(n), address: format!("tcp://w{n}").into() }
}

/// An input of `nbytes` held by `holders`.
fn dep(key: &str, nbytes: u64, holders: &[u32]) -> DepInfo {
    DepInfo { key: k(key), nbytes, who_has: holders.iter().map(|&h| holder(h)).collect() }
}

fn task(key: &str, prio: u64, deps: Vec<DepInfo>) -> ToWorker {
    ToWorker::Compute(Box::new(ComputeTask {
        key: k(key),
        payload: Arc::from(key.as_bytes()),
        priority: Priority(prio),
        deps,
    }))
}

struct H {
    ws: WorkerState,
    port: Recorder,
}

impl H {
    /// A worker without pipelining: each task holds a thread.
    fn new(nthreads: u32) -> H {
        H::with(Config { pipeline: 0, ..Config::new(nthreads) })
    }

    fn with(config: Config) -> H {
        H { ws: WorkerState::new(ME, config).unwrap(), port: Recorder::default() }
    }

    fn ev(&mut self, e: Event) -> Vec<Out> {
        self.ws.handle(&mut self.port, e);
        self.ws.sanity_check();
        self.port.take()
    }

    fn sched(&mut self, m: ToWorker) -> Vec<Out> {
        self.ev(Event::Scheduler(m))
    }

    fn finish(&mut self, key: &str, nbytes: u64) -> Vec<Out> {
        self.ev(Event::TaskFinished(Finished { key: k(key), nbytes, duration: 5 * MS }))
    }

    fn got(&mut self, peer: u32, data: &[(&str, u64)]) -> Vec<Out> {
        let data = data.iter().map(|(key, n)| (k(key), *n)).collect();
        self.ev(Event::FetchDone { peer: w(peer), data, missing: vec![] })
    }

    fn state(&self, key: &str) -> Option<S> {
        self.ws.state_of(&k(key))
    }
}

/// Keys of the `Execute` instructions, in order.
fn executed(out: &[Out]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Out::Runtime(I::Execute { key, .. }) => Some(key.to_string()),
            _ => None,
        })
        .collect()
}

/// `(peer, keys)` of the `Fetch` instructions, in order.
fn fetches(out: &[Out]) -> Vec<(u32, Vec<String>)> {
    out.iter()
        .filter_map(|o| match o {
            Out::Runtime(I::Fetch { peer, keys, .. }) => Some((peer.0, keys.iter().map(Key::to_string).collect())),
            _ => None,
        })
        .collect()
}

fn to_sched(out: &[Out]) -> Vec<M> {
    out.iter()
        .filter_map(|o| match o {
            Out::Scheduler(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn dropped(out: &[Out]) -> Vec<String> {
    out.iter()
        .filter_map(|o| match o {
            Out::Runtime(I::DropData(key)) => Some(key.to_string()),
            _ => None,
        })
        .collect()
}

fn finished(key: &str, nbytes: u64) -> M {
    M::TaskFinished(Finished { key: k(key), nbytes, duration: 5 * MS })
}

#[test]
fn config_is_checked() {
    let err = WorkerState::new(ME, Config::new(0)).unwrap_err();
    assert!(err.to_string().contains("nthreads"), "{err}");
    let c = Config { max_concurrent_fetches: 0, ..Config::new(1) };
    assert!(WorkerState::new(ME, c).unwrap_err().to_string().contains("max_concurrent_fetches"));
}

/// a → b → c, each run here: inputs in local memory are never fetched.
#[test]
fn chain_with_local_inputs() {
    let mut h = H::new(1);
    let out = h.sched(task("a", 0, vec![]));
    assert_eq!(out, vec![Out::Runtime(I::Execute { key: k("a"), payload: Arc::from(&b"a"[..]), inputs: vec![] })]);
    assert_eq!(to_sched(&h.finish("a", 8)), vec![finished("a", 8)]);
    assert_eq!(h.ws.managed_bytes(), 8);
    // The scheduler names this worker as the holder: nothing to fetch.
    let out = h.sched(task("b", 1, vec![dep("a", 8, &[0])]));
    assert_eq!(
        out,
        vec![Out::Runtime(I::Execute { key: k("b"), payload: Arc::from(&b"b"[..]), inputs: vec![k("a")] })]
    );
    assert_eq!(to_sched(&h.finish("b", 16)), vec![finished("b", 16)]);
    // The scheduler frees a once b is done.
    assert_eq!(dropped(&h.sched(ToWorker::FreeKeys(vec![k("a")]))), vec!["a"]);
    let out = h.sched(task("c", 2, vec![dep("b", 16, &[0])]));
    assert_eq!(executed(&out), vec!["c"]);
    h.finish("c", 4);
    assert_eq!(h.ws.managed_bytes(), 20);
    assert_eq!(h.ws.memory_report().managed, 20);
    assert_eq!(h.ws.keys_in_memory(), vec![k("b"), k("c")]);
}

/// Inputs on peers: batched per peer up to the byte budget, at most
/// `max_concurrent_fetches` transfers at once, one per peer; arrived
/// copies are reported to the scheduler.
#[test]
fn inputs_fetched_batched_per_peer_with_bounded_concurrency() {
    let mut h = H::with(Config { max_concurrent_fetches: 2, transfer_bytes: 100, ..Config::new(1) });
    let deps = vec![
        dep("x1", 40, &[1]),
        dep("x2", 40, &[1]),
        dep("x3", 40, &[1]),
        dep("y", 10, &[2]),
        dep("z", 10, &[3]),
        dep("local", 10, &[0]),
    ];
    let out = h.sched(task("t", 0, deps));
    // "local" is listed on this worker only but is not here: t is given
    // up at once, before anything is fetched for it.
    assert_eq!(to_sched(&out), vec![M::FetchFailed { key: k("t"), dep: k("local"), holder: ME }]);
    assert!(fetches(&out).is_empty());
    assert_eq!(h.ws.num_tasks(), 0);

    // Again without the bad input.
    let mut h = H::with(Config { max_concurrent_fetches: 2, transfer_bytes: 100, ..Config::new(1) });
    let deps =
        vec![dep("x1", 40, &[1]), dep("x2", 40, &[1]), dep("x3", 40, &[1]), dep("y", 10, &[2]), dep("z", 10, &[3])];
    let out = h.sched(task("t", 0, deps));
    assert_eq!(fetches(&out), vec![(1, vec!["x1".into(), "x2".into()]), (2, vec!["y".into()])]);
    assert_eq!(h.ws.num_transfers(), 2);
    assert_eq!(h.state("x3"), Some(S::Fetch));
    assert_eq!(h.state("x1"), Some(S::Flight));
    let out = h.got(2, &[("y", 10)]);
    assert_eq!(fetches(&out), vec![(3, vec!["z".into()])]);
    assert_eq!(to_sched(&out), vec![M::AddKeys(vec![k("y")])]);
    let out = h.got(1, &[("x1", 40), ("x2", 40)]);
    assert_eq!(fetches(&out), vec![(1, vec!["x3".into()])]);
    h.got(3, &[("z", 10)]);
    assert_eq!(h.state("t"), Some(S::Waiting));
    let out = h.got(1, &[("x3", 40)]);
    assert_eq!(executed(&out), vec!["t"]);
    match &out.iter().find(|o| matches!(o, Out::Runtime(I::Execute { .. }))).unwrap() {
        Out::Runtime(I::Execute { inputs, .. }) => {
            assert_eq!(inputs, &vec![k("x1"), k("x2"), k("x3"), k("y"), k("z")], "inputs in argument order")
        }
        _ => unreachable!(),
    }
    assert_eq!(h.ws.managed_bytes(), 140);
}

/// The first key of a transfer goes even when bigger than the budget.
#[test]
fn a_big_key_goes_alone() {
    let mut h = H::with(Config { transfer_bytes: 100, ..Config::new(1) });
    let out = h.sched(task("t", 0, vec![dep("big", 500, &[1]), dep("small", 1, &[1])]));
    assert_eq!(fetches(&out), vec![(1, vec!["big".into()])]);
}

/// Two tasks need x: it is fetched once, and stays until both ran.
#[test]
fn a_key_needed_by_two_tasks_is_fetched_once() {
    let mut h = H::new(1);
    let out = h.sched(task("a", 0, vec![dep("x", 10, &[1])]));
    assert_eq!(fetches(&out), vec![(1, vec!["x".into()])]);
    let out = h.sched(task("b", 1, vec![dep("x", 10, &[1, 2])]));
    assert!(fetches(&out).is_empty(), "x is already in flight");
    let out = h.got(1, &[("x", 10)]);
    assert_eq!(executed(&out), vec!["a"]);
    h.finish("a", 1);
    assert_eq!(h.state("x"), Some(S::Memory));
    let out = h.finish("b", 1);
    assert!(dropped(&out).is_empty(), "the scheduler holds x here until it frees it");
    assert_eq!(dropped(&h.sched(ToWorker::FreeKeys(vec![k("x")]))), vec!["x"]);
}

/// A failed fetch asks the next holder; when none is left, the task is
/// given up and the scheduler told, naming the last holder tried.
#[test]
fn fetch_failure_falls_back_to_the_next_holder_then_reports() {
    let mut h = H::new(1);
    let out = h.sched(task("t", 0, vec![dep("x", 10, &[1, 2]), dep("y", 10, &[3])]));
    assert_eq!(fetches(&out), vec![(1, vec!["x".into()]), (3, vec!["y".into()])]);
    // Peer 1 does not have x.
    let out = h.ev(Event::FetchDone { peer: w(1), data: vec![], missing: vec![k("x")] });
    assert_eq!(fetches(&out), vec![(2, vec!["x".into()])]);
    assert!(to_sched(&out).is_empty());
    // Peer 2 is unreachable.
    let out = h.ev(Event::FetchFailed { peer: w(2) });
    assert_eq!(to_sched(&out), vec![M::FetchFailed { key: k("t"), dep: k("x"), holder: w(2) }]);
    assert_eq!(h.state("t"), None);
    // y is still coming; nobody needs it any more: dropped on arrival, not reported.
    assert_eq!(h.state("y"), Some(S::Flight));
    let out = h.got(3, &[("y", 10)]);
    assert_eq!(dropped(&out), vec!["y"]);
    assert!(to_sched(&out).is_empty());
    assert_eq!(h.ws.num_tasks(), 0);
}

/// A failed transfer takes the peer off the holders of every key queued.
#[test]
fn a_failed_peer_is_dropped_from_queued_keys() {
    let mut h = H::with(Config { max_concurrent_fetches: 1, ..Config::new(1) });
    let out = h.sched(task("t", 0, vec![dep("x", 10, &[1])]));
    assert_eq!(fetches(&out), vec![(1, vec!["x".into()])]);
    let out = h.sched(task("u", 1, vec![dep("y", 10, &[2, 1]), dep("z", 10, &[1])]));
    assert!(fetches(&out).is_empty(), "one transfer at a time");
    let out = h.ev(Event::FetchFailed { peer: w(1) });
    let sent = to_sched(&out);
    assert!(sent.contains(&M::FetchFailed { key: k("t"), dep: k("x"), holder: w(1) }), "{sent:?}");
    assert!(sent.contains(&M::FetchFailed { key: k("u"), dep: k("z"), holder: w(1) }), "{sent:?}");
    assert_eq!(sent.len(), 2);
    assert_eq!(h.ws.num_tasks(), 0, "y was only needed by u");
}

/// A busy peer is left alone until its backoff passed.
#[test]
fn a_busy_peer_is_asked_again_after_the_backoff() {
    let mut h = H::new(1);
    h.sched(task("t", 0, vec![dep("x", 10, &[1])]));
    let out = h.ev(Event::PeerBusy { now: 10 * MS, peer: w(1) });
    assert!(fetches(&out).is_empty());
    assert_eq!(h.state("x"), Some(S::Fetch));
    assert!(fetches(&h.ev(Event::Tick { now: 50 * MS })).is_empty());
    assert_eq!(fetches(&h.ev(Event::Tick { now: 111 * MS })), vec![(1, vec!["x".into()])]);
}

/// Ready tasks run lowest priority first; never more than nthreads.
#[test]
fn priorities_and_the_thread_bound() {
    let mut h = H::new(2);
    assert_eq!(executed(&h.sched(task("r5", 5, vec![]))), vec!["r5"]);
    assert_eq!(executed(&h.sched(task("r4", 4, vec![]))), vec!["r4"]);
    for (key, p) in [("r3", 3), ("r9", 9), ("r1", 1), ("r2", 2)] {
        assert!(executed(&h.sched(task(key, p, vec![]))).is_empty(), "both threads busy");
    }
    assert_eq!(h.ws.num_running(), 2);
    assert_eq!(h.state("r1"), Some(S::Ready));
    let mut order = Vec::new();
    for key in ["r5", "r4", "r1", "r2", "r3"] {
        order.extend(executed(&h.finish(key, 1)));
    }
    assert_eq!(order, vec!["r1", "r2", "r3", "r9"]);
}

/// With a pipeline, that many more tasks are handed to the pool, still
/// most urgent first.
#[test]
fn pipelined_tasks() {
    let mut h = H::with(Config { pipeline: 1, ..Config::new(1) });
    for (key, p) in [("r5", 5), ("r3", 3), ("r9", 9), ("r1", 1)] {
        h.sched(task(key, p, vec![]));
    }
    assert_eq!(h.ws.num_running(), 2, "one thread, one queued ahead");
    assert_eq!(h.state("r1"), Some(S::Ready));
    let mut order = Vec::new();
    for key in ["r5", "r3", "r1"] {
        order.extend(executed(&h.finish(key, 1)));
    }
    assert_eq!(order, vec!["r1", "r9"]);
    assert_eq!(h.ws.num_running(), 1);
}

/// Stolen while its input is in flight: released, and the input is
/// dropped when it lands.
#[test]
fn steal_while_fetching() {
    let mut h = H::new(1);
    h.sched(task("t", 0, vec![dep("x", 10, &[1])]));
    let out = h.sched(ToWorker::StealRequest { key: k("t"), id: StealId(7) });
    assert_eq!(to_sched(&out), vec![M::StealResponse { key: k("t"), id: StealId(7), outcome: StealOutcome::Released }]);
    assert_eq!(h.state("t"), None);
    let out = h.got(1, &[("x", 10)]);
    assert_eq!(dropped(&out), vec!["x"]);
    assert!(to_sched(&out).is_empty());
    assert_eq!(h.ws.num_tasks(), 0);
    assert_eq!(h.ws.managed_bytes(), 0);
}

/// A steal of a ready task releases it; of a running or finished one,
/// or one never heard of, is refused.
#[test]
fn steal_of_ready_running_done_and_unknown() {
    let mut h = H::new(1);
    h.sched(task("a", 0, vec![]));
    h.sched(task("b", 1, vec![]));
    let steal = |h: &mut H, key: &str| {
        let out = h.sched(ToWorker::StealRequest { key: k(key), id: StealId(1) });
        match to_sched(&out).as_slice() {
            [M::StealResponse { outcome, .. }] => *outcome,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(steal(&mut h, "b"), StealOutcome::Released);
    assert_eq!(steal(&mut h, "a"), StealOutcome::Refused);
    h.finish("a", 1);
    assert_eq!(steal(&mut h, "a"), StealOutcome::Refused);
    assert_eq!(steal(&mut h, "nope"), StealOutcome::Refused);
    assert_eq!(h.state("a"), Some(S::Memory));
}

/// Cancelled while executing: it runs on, its result is dropped and not
/// reported; its thread is only free once it is done.
#[test]
fn cancel_while_executing() {
    let mut h = H::new(1);
    h.sched(task("a", 0, vec![]));
    h.sched(task("b", 1, vec![]));
    let out = h.sched(ToWorker::CancelCompute(k("a")));
    assert!(executed(&out).is_empty(), "a still holds the thread");
    assert_eq!(h.state("a"), Some(S::Cancelled));
    let out = h.finish("a", 8);
    assert!(to_sched(&out).is_empty(), "not reported");
    assert_eq!(dropped(&out), vec!["a"]);
    assert_eq!(executed(&out), vec!["b"]);
    assert_eq!(h.state("a"), None);
    // An error of a cancelled task is not reported either.
    h.sched(ToWorker::CancelCompute(k("b")));
    let out =
        h.ev(Event::TaskErred(Erred { key: k("b"), message: "boom".into(), origin: None, kind: ErrorKind::User }));
    assert!(to_sched(&out).is_empty());
    assert_eq!(h.ws.num_tasks(), 0);
}

/// Cancelled, then asked again while still running: it resumes and is
/// reported.
#[test]
fn cancelled_then_wanted_again_resumes() {
    let mut h = H::new(1);
    h.sched(task("a", 0, vec![]));
    h.sched(ToWorker::CancelCompute(k("a")));
    let out = h.sched(task("a", 0, vec![]));
    assert!(executed(&out).is_empty(), "not started twice");
    assert_eq!(h.state("a"), Some(S::Executing));
    assert_eq!(to_sched(&h.finish("a", 3)), vec![finished("a", 3)]);
}

/// Cancel of a waiting task lets go of its inputs; of a result already
/// in memory changes nothing (the scheduler's free follows).
#[test]
fn cancel_of_waiting_and_of_done() {
    let mut h = H::new(1);
    h.sched(task("t", 0, vec![dep("x", 10, &[1]), dep("y", 10, &[1])]));
    let mut h2 = H::with(Config { max_concurrent_fetches: 1, transfer_bytes: 10, ..Config::new(1) });
    h2.sched(task("t", 0, vec![dep("x", 10, &[1]), dep("y", 10, &[2])]));
    assert_eq!(h2.state("y"), Some(S::Fetch));
    h2.sched(ToWorker::CancelCompute(k("t")));
    assert_eq!(h2.state("y"), None, "a queued input nobody needs is forgotten");
    assert_eq!(h2.state("x"), Some(S::Flight));

    h.sched(ToWorker::CancelCompute(k("t")));
    h.got(1, &[("x", 10), ("y", 10)]);
    assert_eq!(h.ws.num_tasks(), 0);

    h.sched(task("a", 0, vec![]));
    h.finish("a", 1);
    let out = h.sched(ToWorker::CancelCompute(k("a")));
    assert!(out.is_empty());
    assert_eq!(h.state("a"), Some(S::Memory));
}

/// The scheduler frees a result a waiting local task still needs: it
/// stays until that task has run, then goes.
#[test]
fn free_of_a_key_a_waiting_task_needs() {
    let mut h = H::new(1);
    h.sched(task("a", 0, vec![]));
    h.finish("a", 8);
    h.sched(task("b", 1, vec![dep("a", 8, &[0]), dep("c", 4, &[1])]));
    assert_eq!(h.state("b"), Some(S::Waiting));
    let out = h.sched(ToWorker::FreeKeys(vec![k("a")]));
    assert!(dropped(&out).is_empty(), "b still needs a");
    assert_eq!(h.state("a"), Some(S::Memory));
    assert_eq!(executed(&h.got(1, &[("c", 4)])), vec!["b"]);
    let out = h.finish("b", 2);
    assert_eq!(dropped(&out), vec!["a"]);
    assert_eq!(h.ws.keys_in_memory(), vec![k("b"), k("c")]);
    assert_eq!(h.ws.managed_bytes(), 6);
}

/// An erred task is reported and forgotten; its inputs are let go.
#[test]
fn errors_are_reported_and_forgotten() {
    let mut h = H::new(1);
    h.sched(task("t", 0, vec![dep("x", 1, &[1])]));
    h.got(1, &[("x", 1)]);
    let out =
        h.ev(Event::TaskErred(Erred { key: k("t"), message: "boom".into(), origin: None, kind: ErrorKind::User }));
    assert_eq!(
        to_sched(&out),
        vec![M::TaskErred(Erred { key: k("t"), message: "boom".into(), origin: None, kind: ErrorKind::User })]
    );
    assert_eq!(h.state("t"), None);
    assert_eq!(h.state("x"), Some(S::Memory), "held for the scheduler until freed");
    // Stale reports are ignored or cleaned up.
    assert!(h
        .ev(Event::TaskErred(Erred { key: k("t"), message: "again".into(), origin: None, kind: ErrorKind::User }))
        .is_empty());
    assert_eq!(dropped(&h.finish("zzz", 1)), vec!["zzz"]);
}

/// Asked to compute a key it is fetching: the arrived copy is the
/// result; asked to compute a key in memory: reported at once.
#[test]
fn compute_of_a_key_in_flight_or_in_memory() {
    let mut h = H::new(1);
    h.sched(task("t", 0, vec![dep("x", 10, &[1])]));
    let out = h.sched(task("x", 0, vec![]));
    assert!(executed(&out).is_empty());
    let out = h.got(1, &[("x", 10)]);
    assert_eq!(to_sched(&out), vec![M::TaskFinished(Finished { key: k("x"), nbytes: 10, duration: Duration::ZERO })]);
    assert_eq!(executed(&out), vec!["t"]);
    let out = h.sched(task("x", 0, vec![]));
    assert_eq!(to_sched(&out), vec![M::TaskFinished(Finished { key: k("x"), nbytes: 10, duration: Duration::ZERO })]);
    // In flight, the transfer fails: computed here instead.
    let mut h = H::new(1);
    h.sched(task("t", 0, vec![dep("y", 10, &[1])]));
    h.sched(task("y", 0, vec![]));
    let out = h.ev(Event::FetchFailed { peer: w(1) });
    assert_eq!(executed(&out), vec!["y"]);
    assert!(to_sched(&out).is_empty(), "t waits for y, computed here");
    assert_eq!(to_sched(&h.finish("y", 10)), vec![finished("y", 10)]);
    assert_eq!(h.state("t"), Some(S::Executing));
}

/// Peers' requests: present keys are sent, the rest named missing;
/// beyond max_outgoing the peer hears busy.
#[test]
fn serving_peers() {
    let mut h = H::with(Config { max_outgoing: 1, ..Config::new(1) });
    h.sched(task("a", 0, vec![]));
    h.finish("a", 1);
    let out = h.ev(Event::DataRequested { from: w(3), keys: vec![k("a"), k("b")] });
    assert_eq!(out, vec![Out::Runtime(I::SendData { to: w(3), keys: vec![k("a")], missing: vec![k("b")] })]);
    let out = h.ev(Event::DataRequested { from: w(4), keys: vec![k("a")] });
    assert_eq!(out, vec![Out::Runtime(I::Busy { to: w(4) })]);
    h.ev(Event::DataSent { to: w(3) });
    let out = h.ev(Event::DataRequested { from: w(4), keys: vec![k("a")] });
    assert!(matches!(out.as_slice(), [Out::Runtime(I::SendData { .. })]));
}

/// The most urgent input is fetched first.
#[test]
fn fetches_follow_priority() {
    let mut h = H::with(Config { max_concurrent_fetches: 1, ..Config::new(1) });
    h.sched(task("late", 9, vec![dep("x", 1, &[1])]));
    h.sched(task("soon", 1, vec![dep("y", 1, &[2])]));
    h.sched(task("sooner", 0, vec![dep("z", 1, &[3])]));
    let out = h.got(1, &[("x", 1)]);
    assert_eq!(fetches(&out), vec![(3, vec!["z".into()])]);
}

/// Values the scheduler stores here (a client's scatter) are held like
/// results: a task reading one runs at once, and the scheduler frees it.
#[test]
fn stored_values_are_held_until_freed() {
    let mut h = H::new(1);
    let out = h.ev(Event::Stored { data: vec![(k("x"), 8)] });
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(h.state("x"), Some(S::Memory));
    assert_eq!(h.ws.managed_bytes(), 8);
    assert_eq!(executed(&h.sched(task("y", 0, vec![dep("x", 8, &[ME.0])]))), vec!["y"]);
    h.finish("y", 1);
    assert_eq!(h.state("x"), Some(S::Memory), "held for the scheduler after its reader finished");
    assert_eq!(dropped(&h.sched(ToWorker::FreeKeys(vec![k("x")]))), vec!["x"]);
    assert_eq!(h.ws.managed_bytes(), 1);
}

/// While paused, ready tasks wait; running ones finish; resuming starts
/// them.
#[test]
fn paused_workers_start_nothing_new() {
    let mut h = H::new(1);
    assert_eq!(executed(&h.sched(task("a", 0, vec![]))), vec!["a"]);
    assert!(h.ev(Event::Paused(true)).is_empty());
    assert!(h.ws.is_paused());
    assert!(executed(&h.sched(task("b", 1, vec![]))).is_empty());
    let out = h.finish("a", 1);
    assert!(executed(&out).is_empty(), "paused: b waits");
    assert_eq!(h.state("b"), Some(S::Ready));
    assert_eq!(executed(&h.ev(Event::Paused(false))), vec!["b"]);
}

/// The rows of the transition table the simulation rarely or never
/// takes (it stores no data on workers and loses no holder while a
/// worker fetches), each taken here once, by name.
#[test]
fn the_transitions_the_simulation_misses() {
    use S::*;
    let fetching = || {
        // x goes in flight from w1; y waits in the fetch queue for w2.
        let mut h = H::with(Config { max_concurrent_fetches: 1, transfer_bytes: 10, ..Config::new(1) });
        h.sched(task("t", 0, vec![dep("x", 10, &[1]), dep("y", 10, &[2])]));
        assert_eq!((h.state("x"), h.state("y")), (Some(Flight), Some(Fetch)));
        h
    };
    let count = |h: &H, from: Option<S>, to: Option<S>| h.ws.transitions().count(from, to);

    // The scheduler asks to compute a key being fetched: run here.
    let mut h = fetching();
    h.sched(task("y", 0, vec![]));
    assert_eq!(count(&h, Some(Fetch), Some(Ready)), 1);
    let mut h = fetching();
    h.sched(task("y", 0, vec![dep("q", 1, &[3])]));
    assert_eq!(h.state("y"), Some(Waiting));
    assert_eq!(count(&h, Some(Fetch), Some(Waiting)), 1);
    // Data stored here under a key being fetched.
    let mut h = fetching();
    h.ev(Event::Stored { data: vec![(k("y"), 10)] });
    assert_eq!(h.state("y"), Some(Memory));
    assert_eq!(count(&h, Some(Fetch), Some(Memory)), 1);
    // Asked to compute a key in flight, whose transfer fails: computed
    // here, after its own input.
    let mut h = fetching();
    h.sched(task("x", 0, vec![dep("q", 1, &[3])]));
    h.ev(Event::FetchFailed { peer: w(1) });
    assert_eq!(h.state("x"), Some(Waiting));
    assert_eq!(count(&h, Some(Flight), Some(Waiting)), 1);

    // A running task the scheduler gave up on (it is in memory on w1)
    // finishes while a local task reads it: kept, reported as a copy.
    let mut h = H::new(1);
    h.sched(task("a", 0, vec![]));
    h.sched(ToWorker::CancelCompute(k("a")));
    h.sched(task("b", 1, vec![dep("a", 4, &[1])]));
    let out = h.finish("a", 4);
    assert_eq!(to_sched(&out), vec![M::AddKeys(vec![k("a")])]);
    assert_eq!(count(&h, Some(Cancelled), Some(Memory)), 1);

    // Given up while a local task reads its value: fetched from a holder.
    let mut h = H::new(1);
    h.sched(task("a", 0, vec![]));
    h.sched(task("b", 1, vec![dep("a", 4, &[1])]));
    h.ev(Event::TaskErred(Erred { key: k("a"), message: "boom".into(), origin: None, kind: ErrorKind::User }));
    assert_eq!(h.state("a"), Some(Flight), "fetched from w1");
    assert_eq!(count(&h, Some(Executing), Some(Fetch)), 1);
    let mut h = H::new(1);
    h.sched(task("a", 0, vec![]));
    h.sched(ToWorker::CancelCompute(k("a")));
    h.sched(task("b", 1, vec![dep("a", 4, &[1])]));
    h.ev(Event::TaskErred(Erred { key: k("a"), message: "boom".into(), origin: None, kind: ErrorKind::User }));
    assert_eq!(count(&h, Some(Cancelled), Some(Fetch)), 1);
    let mut h = H::new(1);
    h.sched(task("a", 0, vec![dep("q", 1, &[3])]));
    h.sched(task("b", 1, vec![dep("a", 4, &[1])]));
    h.sched(ToWorker::CancelCompute(k("a")));
    assert_eq!(count(&h, Some(Waiting), Some(Fetch)), 1);
    let mut h = H::new(1);
    h.sched(task("z", 0, vec![]));
    h.sched(task("a", 1, vec![]));
    h.sched(task("b", 2, vec![dep("a", 4, &[1])]));
    assert_eq!(h.state("a"), Some(Ready), "z holds the one thread");
    h.sched(ToWorker::CancelCompute(k("a")));
    assert_eq!(count(&h, Some(Ready), Some(Fetch)), 1);

    // Data stored under a new key.
    let mut h = H::new(1);
    h.ev(Event::Stored { data: vec![(k("s"), 1)] });
    assert_eq!(count(&h, None, Some(Memory)), 1);
    assert_eq!(h.ws.transitions().illegal(), 0);
}
