//! State-machine tests: events in, recorded messages out, invariants
//! checked after every event.

use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::{ErrorKind, Key};
use blockwork_scheduler::reactor::*;
use blockwork_scheduler::{
    ClientId, Config, Core, FailureKind, GraphUpdate, MemoryReport, Recorder, SchedError, Sent, StealOutcome, TaskSpec,
    TaskStateKind as S, ToClient, ToWorker, WorkerId, WorkerSpec,
};

const MS: Duration = Duration::from_millis(1);

struct H {
    core: Core,
    comm: Recorder,
    now: Duration,
}

fn k(s: &str) -> Key {
    Key::new(s)
}

fn spec(key: &str, deps: &[&str], prio: u32) -> TaskSpec {
    TaskSpec::new(key, deps.iter().map(|d| k(d)).collect(), prio, Arc::from(&b"payload"[..]))
}

impl H {
    fn new() -> H {
        H::with(Config::default())
    }

    fn with(config: Config) -> H {
        H { core: Core::new(config).unwrap(), comm: Recorder::default(), now: Duration::ZERO }
    }

    fn check(&mut self) -> Vec<Sent> {
        self.core.sanity_check();
        self.comm.take()
    }

    fn client(&mut self) -> ClientId {
        on_client_connected(&mut self.core)
    }

    fn worker(&mut self, addr: &str, nthreads: u32) -> WorkerId {
        self.worker_with(addr, nthreads, &[])
    }

    fn worker_with(&mut self, addr: &str, nthreads: u32, resources: &[(&str, f64)]) -> WorkerId {
        let spec = WorkerSpec {
            address: addr.into(),
            name: addr.into(),
            nthreads,
            memory_limit: 1 << 30,
            resources: resources.iter().map(|(r, a)| (Arc::from(*r), *a)).collect(),
        };
        let w = on_worker_joined(&mut self.core, &mut self.comm, self.now, spec).unwrap();
        self.core.sanity_check();
        w
    }

    fn submit(&mut self, c: ClientId, tasks: Vec<TaskSpec>, wanted: &[&str]) -> Vec<Sent> {
        let update = GraphUpdate { tasks, wanted: wanted.iter().map(|w| k(w)).collect() };
        on_update_graph(&mut self.core, &mut self.comm, c, update).unwrap();
        self.check()
    }

    fn finish(&mut self, w: WorkerId, key: &str, nbytes: u64) -> Vec<Sent> {
        on_task_finished(&mut self.core, &mut self.comm, self.now, w, &k(key), nbytes, 10 * MS);
        self.check()
    }

    fn state(&self, key: &str) -> Option<S> {
        self.core.state_of(&k(key))
    }
}

/// Keys of the compute messages to `w`, in order.
fn computes(sent: &[Sent], w: WorkerId) -> Vec<String> {
    sent.iter()
        .filter_map(|s| match s {
            Sent::Worker(x, ToWorker::Compute(c)) if *x == w => Some(c.key.to_string()),
            _ => None,
        })
        .collect()
}

fn all_computes(sent: &[Sent]) -> Vec<(WorkerId, String)> {
    sent.iter()
        .filter_map(|s| match s {
            Sent::Worker(x, ToWorker::Compute(c)) => Some((*x, c.key.to_string())),
            _ => None,
        })
        .collect()
}

fn freed(sent: &[Sent]) -> Vec<(WorkerId, String)> {
    let mut v: Vec<_> = sent
        .iter()
        .flat_map(|s| match s {
            Sent::Worker(x, ToWorker::FreeKeys(keys)) => keys.iter().map(|k| (*x, k.to_string())).collect(),
            _ => Vec::new(),
        })
        .collect();
    v.sort();
    v
}

fn to_client(sent: &[Sent], c: ClientId) -> Vec<ToClient> {
    sent.iter()
        .filter_map(|s| match s {
            Sent::Client(x, m) if *x == c => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// ```text
/// a ── b ── c      (c wanted)
/// ```
/// One worker runs the chain; each input is freed once its reader
/// finished; releasing `c` forgets everything.
#[test]
fn chain_runs_frees_and_forgets() {
    let mut h = H::new();
    let c = h.client();
    let w = h.worker("w0", 1);
    let sent = h.submit(c, vec![spec("a", &[], 0), spec("b", &["a"], 1), spec("c", &["b"], 2)], &["c"]);
    assert_eq!(computes(&sent, w), ["a"]);
    assert_eq!(h.state("b"), Some(S::Waiting));
    let sent = h.finish(w, "a", 100);
    assert_eq!(computes(&sent, w), ["b"]);
    let Sent::Worker(_, ToWorker::Compute(b)) = &sent[0] else { panic!() };
    assert_eq!(b.deps.len(), 1);
    assert_eq!((b.deps[0].key.to_string(), b.deps[0].nbytes, b.deps[0].who_has[0].worker), ("a".into(), 100, w));
    assert_eq!(&*b.deps[0].who_has[0].address, "w0");
    let sent = h.finish(w, "b", 5);
    assert_eq!(freed(&sent), [(w, "a".to_string())]);
    assert_eq!(h.state("a"), Some(S::Released));
    let sent = h.finish(w, "c", 7);
    assert_eq!(freed(&sent), [(w, "b".to_string())]);
    assert_eq!(to_client(&sent, c), [ToClient::KeyInMemory { key: k("c"), nbytes: 7 }]);
    assert_eq!(h.core.who_has(&k("c")), Some(&[w][..]));
    on_release_keys(&mut h.core, &mut h.comm, c, &[k("c")]);
    let sent = h.check();
    assert_eq!(freed(&sent), [(w, "c".to_string())]);
    assert_eq!(h.core.num_tasks(), 0);
    assert!(h.core.keys_held(w).is_empty());
}

/// Two clients want overlapping keys: `shared` is computed once and
/// reported to both; one client releasing it keeps it for the other.
#[test]
fn overlapping_clients_share_keys() {
    let mut h = H::new();
    let (c1, c2) = (h.client(), h.client());
    let w = h.worker("w0", 4);
    let s1 = h.submit(c1, vec![spec("x", &[], 0), spec("shared", &["x"], 1)], &["shared"]);
    let s2 = h.submit(
        c2,
        vec![spec("x", &[], 0), spec("shared", &["x"], 1), spec("own", &["shared"], 2)],
        &["shared", "own"],
    );
    assert_eq!(computes(&s1, w), ["x"]);
    assert!(computes(&s2, w).is_empty(), "nothing computed twice");
    h.finish(w, "x", 1);
    let sent = h.finish(w, "shared", 8);
    assert_eq!(to_client(&sent, c1), [ToClient::KeyInMemory { key: k("shared"), nbytes: 8 }]);
    assert_eq!(to_client(&sent, c2), [ToClient::KeyInMemory { key: k("shared"), nbytes: 8 }]);
    on_release_keys(&mut h.core, &mut h.comm, c1, &[k("shared")]);
    let sent = h.check();
    assert!(freed(&sent).is_empty());
    assert_eq!(h.state("shared"), Some(S::Memory));
    h.finish(w, "own", 1);
    on_client_disconnected(&mut h.core, &mut h.comm, c2);
    let sent = h.check();
    assert_eq!(freed(&sent), [(w, "own".to_string()), (w, "shared".to_string())]);
    assert_eq!(h.core.num_tasks(), 0);
}

/// A key already in memory is reported at once to a client that wants it later.
#[test]
fn late_want_is_reported_at_once() {
    let mut h = H::new();
    let (c1, c2) = (h.client(), h.client());
    let w = h.worker("w0", 1);
    h.submit(c1, vec![spec("x", &[], 0)], &["x"]);
    h.finish(w, "x", 3);
    let sent = h.submit(c2, vec![], &["x"]);
    assert_eq!(to_client(&sent, c2), [ToClient::KeyInMemory { key: k("x"), nbytes: 3 }]);
}

/// A key handed to another client (a future through a variable) is
/// wanted by it at once, survives the first client's release, and is
/// recomputed for it when its worker is lost.
#[test]
fn a_known_key_wanted_by_another_client_outlives_the_first() {
    let mut h = H::with(Config { saturation: None, ..Config::default() });
    let (c1, c2) = (h.client(), h.client());
    let w0 = h.worker("w0", 1);
    h.submit(c1, vec![spec("x", &[], 0)], &["x"]);
    h.finish(w0, "x", 3);
    let unknown = on_want_keys(&mut h.core, &mut h.comm, c2, &[k("x"), k("nope")]);
    assert_eq!(unknown, [k("nope")]);
    let sent = h.check();
    assert_eq!(to_client(&sent, c2), [ToClient::KeyInMemory { key: k("x"), nbytes: 3 }]);
    on_release_keys(&mut h.core, &mut h.comm, c1, &[k("x")]);
    assert!(freed(&h.check()).is_empty(), "c2 still wants x");
    let w1 = h.worker("w1", 1);
    on_worker_removed(&mut h.core, &mut h.comm, w0);
    let sent = h.check();
    assert_eq!(computes(&sent, w1), ["x"]);
    // A client that left wants nothing.
    on_client_disconnected(&mut h.core, &mut h.comm, c1);
    assert_eq!(on_want_keys(&mut h.core, &mut h.comm, c1, &[k("x")]), [k("x")]);
    h.check();
}

/// `workers=`: a restricted task runs only there, waits (no-worker) while
/// that worker is away and goes to it when it joins; with
/// `allow_other_workers` it runs anywhere while none of them runs. A
/// restricted task is never queued as a root.
#[test]
fn worker_restrictions_place_and_wait() {
    let mut h = H::new();
    let c = h.client();
    let w0 = h.worker("w0", 4);
    let sent = h.submit(c, vec![spec("strict", &[], 0).on_workers(&["w1"], false)], &["strict"]);
    assert!(computes(&sent, w0).is_empty());
    assert_eq!(h.state("strict"), Some(S::NoWorker));
    let sent = h.submit(c, vec![spec("loose", &[], 0).on_workers(&["tcp://w1"], true)], &["loose"]);
    assert_eq!(computes(&sent, w0), ["loose"], "no w1: anywhere");
    // w1 joins (named by address "w1"): the strict task goes there.
    let spec_w1 = WorkerSpec {
        address: "10.0.0.9:1".into(),
        name: "w1".into(),
        nthreads: 1,
        memory_limit: 1 << 30,
        resources: vec![],
    };
    let w1 = on_worker_joined(&mut h.core, &mut h.comm, h.now, spec_w1).unwrap();
    let sent = h.check();
    assert_eq!(computes(&sent, w1), ["strict"]);
    // Now that w1 runs, a loose task goes there too, even though w0 is idle.
    let sent = h.submit(c, vec![spec("loose2", &[], 0).on_workers(&["w1"], true)], &["loose2"]);
    assert_eq!(all_computes(&sent), [(w1, "loose2".to_string())]);
    // By address works as by name; roots restricted are not queued.
    let many: Vec<TaskSpec> =
        (0..20).map(|i| spec(&format!("r{i}"), &[], i).on_workers(&["10.0.0.9:1"], false)).collect();
    let names: Vec<String> = (0..20).map(|i| format!("r{i}")).collect();
    let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
    let sent = h.submit(c, many, &wanted);
    assert_eq!(computes(&sent, w1).len(), 20, "all on w1, none queued");
    assert!(computes(&sent, w0).is_empty());
}

/// `replicate`: copies go to the workers holding the fewest bytes, up to
/// `n` holders (or every worker); a copy reported arrives in `who_has`.
#[test]
fn replicate_asks_the_emptiest_workers_for_copies() {
    let mut h = H::with(Config { saturation: None, ..Config::default() });
    let c = h.client();
    let w0 = h.worker("w0", 1);
    h.submit(c, vec![spec("x", &[], 0), spec("big", &[], 1)], &["x", "big"]);
    h.finish(w0, "x", 10);
    let w1 = h.worker("w1", 1);
    let w2 = h.worker("w2", 1);
    let sent = h.finish(w0, "big", 1);
    assert!(computes(&sent, w1).is_empty());
    // big is on w0 only; w1 gets something to hold so w2 is emptier.
    h.submit(c, vec![spec("y", &[], 2)], &["y"]);
    let on = h.core.processing_on(&k("y")).unwrap();
    h.finish(on, "y", 1_000);
    let emptiest = if on == w1 { w2 } else { w1 };
    let missing = on_replicate(&mut h.core, &mut h.comm, &[k("x"), k("nope")], 2);
    assert_eq!(missing, [k("nope")]);
    let sent = h.check();
    let asked: Vec<(WorkerId, Vec<String>)> = sent
        .iter()
        .filter_map(|m| match m {
            Sent::Worker(w, ToWorker::AcquireReplicas(deps)) => {
                Some((*w, deps.iter().map(|d| d.key.to_string()).collect()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(asked, [(emptiest, vec!["x".to_string()])]);
    on_worker_has_keys(&mut h.core, &mut h.comm, h.now, emptiest, &[k("x")]);
    h.check();
    assert_eq!(h.core.who_has(&k("x")).unwrap().len(), 2);
    // Already on two: nothing more for n = 2; n = 9 means every worker.
    on_replicate(&mut h.core, &mut h.comm, &[k("x")], 2);
    assert!(h.check().is_empty());
    on_replicate(&mut h.core, &mut h.comm, &[k("x")], 9);
    let sent = h.check();
    assert_eq!(sent.len(), 1, "{sent:?}");
}

/// `rebalance`: results only the fullest worker holds move, largest
/// first, to the emptiest, and leave the full one once the copy is
/// reported; the workers end within a tenth of the mean.
#[test]
fn rebalance_moves_results_from_the_fullest_to_the_emptiest() {
    let mut h = H::with(Config { saturation: None, ..Config::default() });
    let c = h.client();
    let w0 = h.worker("w0", 1);
    let sizes = [400u64, 300, 200, 100];
    let tasks: Vec<TaskSpec> = (0..4).map(|i| spec(&format!("r{i}"), &[], i)).collect();
    h.submit(c, tasks, &["r0", "r1", "r2", "r3"]);
    for (i, n) in sizes.iter().enumerate() {
        h.finish(w0, &format!("r{i}"), *n);
    }
    let w1 = h.worker("w1", 1);
    assert!(on_rebalance(&mut h.core, &mut h.comm, Some(&[k("nope")]), None).is_empty(), "nothing named to move");
    let moves = on_rebalance(&mut h.core, &mut h.comm, None, None);
    let sent = h.check();
    let moved: Vec<String> = moves.iter().map(|m| m.key.to_string()).collect();
    // Mean 500: r0 (400) brings w1 to 400, then r3 (100) to 500.
    assert_eq!(moved, ["r0", "r3"]);
    assert!(moves.iter().all(|m| &*m.from == "w0" && &*m.to == "w1"));
    let asked: Vec<WorkerId> = sent
        .iter()
        .filter_map(|m| match m {
            Sent::Worker(w, ToWorker::AcquireReplicas(_)) => Some(*w),
            _ => None,
        })
        .collect();
    assert_eq!(asked, [w1]);
    assert!(on_rebalance(&mut h.core, &mut h.comm, None, None).is_empty(), "moves in flight are not planned twice");
    on_worker_has_keys(&mut h.core, &mut h.comm, h.now, w1, &[k("r0"), k("r3")]);
    let sent = h.check();
    let mut freed = freed(&sent);
    freed.sort();
    assert_eq!(freed, [(w0, "r0".to_string()), (w0, "r3".to_string())]);
    assert_eq!(h.core.who_has(&k("r0")).unwrap(), [w1]);
    let held = |w| h.core.worker_info(w).unwrap().nbytes;
    assert_eq!((held(w0), held(w1)), (500, 500));
}

/// `restart`: every client's keys are cancelled, running tasks stop, and
/// what was in memory is freed; the workers stay and take new work.
#[test]
fn restart_cancels_everything_and_keeps_the_workers() {
    let mut h = H::with(Config { saturation: None, ..Config::default() });
    let (c1, c2) = (h.client(), h.client());
    let w = h.worker("w0", 1);
    h.submit(c1, vec![spec("done", &[], 0), spec("busy", &[], 1)], &["done", "busy"]);
    h.finish(w, "done", 5);
    h.submit(c2, vec![], &["done"]);
    on_restart(&mut h.core, &mut h.comm);
    let sent = h.check();
    let mut cancelled: Vec<(ClientId, ToClient)> = sent
        .iter()
        .filter_map(|m| match m {
            Sent::Client(c, msg @ ToClient::KeyCancelled(_)) => Some((*c, msg.clone())),
            _ => None,
        })
        .collect();
    cancelled.sort_by_key(|(c, m)| (*c, format!("{m:?}")));
    assert_eq!(
        cancelled,
        [
            (c1, ToClient::KeyCancelled(k("busy"))),
            (c1, ToClient::KeyCancelled(k("done"))),
            (c2, ToClient::KeyCancelled(k("done")))
        ]
    );
    assert_eq!(freed(&sent), [(w, "done".to_string())]);
    assert_eq!(h.core.num_tasks(), 0);
    let sent = h.submit(c1, vec![spec("again", &[], 0)], &["again"]);
    assert_eq!(computes(&sent, w), ["again"]);
}

/// `priority=`: queued roots of a higher user priority start before lower
/// ones submitted earlier.
#[test]
fn user_priority_goes_first() {
    let mut h = H::new();
    let c = h.client();
    let w = h.worker("w0", 1);
    let roots: Vec<TaskSpec> = (0..10).map(|i| spec(&format!("low{i}"), &[], i)).collect();
    let names: Vec<String> = (0..10).map(|i| format!("low{i}")).collect();
    let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
    let sent = h.submit(c, roots, &wanted);
    let started = computes(&sent, w);
    assert!(started.len() < 10, "some queued: {started:?}");
    h.submit(c, vec![spec("urgent", &[], 0).user_priority(5)], &["urgent"]);
    let sent = h.finish(w, &started[0], 1);
    assert_eq!(computes(&sent, w), ["urgent"]);
}

/// 100 roots on a 2-thread worker with saturation 1.1: at most
/// ceil(2 × 1.1) = 3 processing at any time, the rest queued in order.
#[test]
fn root_queuing_bounds_processing_roots() {
    let mut h = H::new();
    let c = h.client();
    let w = h.worker("w0", 2);
    let tasks: Vec<TaskSpec> = (0..100).map(|i| spec(&format!("r{i:03}"), &[], i)).collect();
    let wanted: Vec<String> = (0..100).map(|i| format!("r{i:03}")).collect();
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let sent = h.submit(c, tasks, &wanted);
    assert_eq!(computes(&sent, w), ["r000", "r001", "r002"]);
    assert_eq!(h.core.num_queued(), 97);
    let mut done = 0;
    while done < 100 {
        let next = h.core.processing_keys(w);
        assert!(next.len() <= 3, "at most 3 roots processing, got {}", next.len());
        let sent = h.finish(w, &next[0].to_string(), 1);
        done += 1;
        assert!(computes(&sent, w).len() <= 1);
    }
    assert_eq!(h.core.num_queued(), 0);
}

/// A second worker joining takes queued roots; queuing off sends them all.
#[test]
fn queued_roots_go_to_joining_workers_and_queuing_can_be_off() {
    let mut h = H::new();
    let c = h.client();
    let tasks: Vec<TaskSpec> = (0..10).map(|i| spec(&format!("r{i}"), &[], i)).collect();
    let wanted: Vec<String> = (0..10).map(|i| format!("r{i}")).collect();
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    h.submit(c, tasks.clone(), &wanted);
    assert_eq!(h.core.num_queued(), 10, "no workers yet: all queued");
    let w0 = h.worker("w0", 1);
    let sent = h.check();
    assert_eq!(computes(&sent, w0), ["r0", "r1"], "ceil(1 × 1.1) = 2, best first");
    h.worker("w1", 4);
    assert_eq!(h.core.num_queued(), 10 - 2 - 5);

    let mut h = H::with(Config { saturation: None, ..Config::default() });
    let c = h.client();
    let w = h.worker("w0", 1);
    let sent = h.submit(c, tasks, &wanted);
    assert_eq!(computes(&sent, w).len(), 10);
}

/// ```text
///   big(1 MB) on w0     small(1 KB) on w1
///            \           /
///              combine
/// ```
/// `combine` goes where the most input bytes already are.
#[test]
fn placement_prefers_the_worker_holding_most_input_bytes() {
    for (big_on, expect) in [(0, 0), (1, 1)] {
        let mut h = H::with(Config { saturation: None, ..Config::default() });
        let c = h.client();
        let ws = [h.worker("w0", 1), h.worker("w1", 1)];
        let sent = h.submit(
            c,
            vec![spec("big", &[], 0), spec("small", &[], 1), spec("combine", &["big", "small"], 2)],
            &["combine"],
        );
        let placed = all_computes(&sent);
        let on = |key: &str| placed.iter().find(|(_, k)| k == key).unwrap().0;
        // The roots spread over the two idle workers; whichever holds the
        // big result gets `combine`.
        assert_ne!(on("big"), on("small"));
        let size = |w: WorkerId| if w == ws[big_on] { 1_000_000 } else { 1_000 };
        h.finish(on("big"), "big", size(on("big")));
        let sent = h.finish(on("small"), "small", size(on("small")));
        assert_eq!(computes(&sent, ws[expect]), ["combine"], "big input on w{big_on}");
    }
}

/// A worker dies: its processing task is rescheduled, a result only it
/// held is recomputed, and the client hears that a wanted key was lost.
#[test]
fn worker_death_reschedules_and_recomputes() {
    let mut h = H::with(Config { saturation: None, ..Config::default() });
    let c = h.client();
    let w0 = h.worker("w0", 1);
    let sent = h.submit(c, vec![spec("a", &[], 0), spec("b", &["a"], 1)], &["a", "b"]);
    assert_eq!(computes(&sent, w0), ["a"]);
    h.finish(w0, "a", 10);
    assert_eq!(h.state("b"), Some(S::Processing));
    let w1 = h.worker("w1", 1);
    on_worker_removed(&mut h.core, &mut h.comm, w0);
    let sent = h.check();
    assert_eq!(to_client(&sent, c), [ToClient::KeyLost(k("a"))]);
    assert_eq!(computes(&sent, w1), ["a"], "a recomputed; b waits for it");
    assert_eq!(h.state("b"), Some(S::Waiting));
    h.finish(w1, "a", 10);
    let sent = h.finish(w1, "b", 10);
    assert_eq!(to_client(&sent, c), [ToClient::KeyInMemory { key: k("b"), nbytes: 10 }]);
    // Late messages from the dead worker are ignored.
    on_task_finished(&mut h.core, &mut h.comm, h.now, w0, &k("b"), 1, MS);
    assert!(h.check().is_empty());
}

/// ```text
/// a ── b ── c       a and b released after c finished; c lost
/// ```
/// Losing `c` walks back: c waits on b, b on a, a runs again.
#[test]
fn lost_result_is_recomputed_recursively() {
    let mut h = H::new();
    let cl = h.client();
    let w = h.worker("w0", 1);
    h.submit(cl, vec![spec("a", &[], 0), spec("b", &["a"], 1), spec("c", &["b"], 2), spec("d", &["c"], 3)], &["d"]);
    h.finish(w, "a", 1);
    h.finish(w, "b", 1);
    h.finish(w, "c", 1);
    assert_eq!((h.state("a"), h.state("b"), h.state("d")), (Some(S::Released), Some(S::Released), Some(S::Processing)));
    on_worker_lost_keys(&mut h.core, &mut h.comm, h.now, w, &[k("c")]);
    let sent = h.check();
    assert_eq!(computes(&sent, w), ["a"]);
    assert!(sent.contains(&Sent::Worker(w, ToWorker::CancelCompute(k("d")))));
    assert_eq!((h.state("b"), h.state("c"), h.state("d")), (Some(S::Waiting), Some(S::Waiting), Some(S::Waiting)));
}

/// A task that was processing on three workers that died is erred as
/// KilledWorker, naming itself; its dependent is erred with the same blame.
#[test]
fn killed_worker_after_allowed_failures() {
    let mut h = H::new();
    let c = h.client();
    h.submit(c, vec![spec("bad", &[], 0), spec("after", &["bad"], 1)], &["after"]);
    for i in 0..3 {
        let w = h.worker(&format!("w{i}"), 1);
        assert_eq!(h.core.processing_on(&k("bad")), Some(w));
        on_worker_removed(&mut h.core, &mut h.comm, w);
        let sent = h.check();
        if i < 2 {
            assert_eq!(h.state("bad"), Some(S::Queued));
        } else {
            let msgs = to_client(&sent, c);
            let [ToClient::KeyErred { key, failure }] = msgs.as_slice() else { panic!("{msgs:?}") };
            assert_eq!(key, &k("after"));
            assert_eq!(failure.key, k("bad"));
            assert_eq!(failure.kind, FailureKind::KilledWorker);
            assert!(failure.message.contains("3 workers died"), "{}", failure.message);
        }
    }
    assert_eq!(h.state("bad"), Some(S::Erred));
    on_release_keys(&mut h.core, &mut h.comm, c, &[k("after")]);
    h.check();
    assert_eq!(h.core.num_tasks(), 0);
}

/// An error with retries left reruns the task; without, the task and its
/// dependents err, and clients learn which key failed.
#[test]
fn retries_then_error_blames_the_failing_key() {
    let mut h = H::new();
    let c = h.client();
    let w = h.worker("w0", 1);
    h.submit(c, vec![spec("flaky", &[], 0).retries(1), spec("top", &["flaky"], 1)], &["top"]);
    on_task_erred(
        &mut h.core,
        &mut h.comm,
        h.now,
        w,
        &k("flaky"),
        Raised { origin: None, message: "try again", fault: ErrorKind::User },
    );
    let sent = h.check();
    assert_eq!(computes(&sent, w), ["flaky"], "retried");
    on_task_erred(
        &mut h.core,
        &mut h.comm,
        h.now,
        w,
        &k("flaky"),
        Raised { origin: None, message: "boom", fault: ErrorKind::User },
    );
    let sent = h.check();
    let msgs = to_client(&sent, c);
    let [ToClient::KeyErred { key, failure }] = msgs.as_slice() else { panic!("{msgs:?}") };
    assert_eq!((key, &failure.key, &*failure.message), (&k("top"), &k("flaky"), "boom"));
    assert_eq!(h.state("top"), Some(S::Erred));
    // A new client wanting the erred key hears at once.
    let c2 = h.client();
    let sent = h.submit(c2, vec![], &["top"]);
    assert!(matches!(to_client(&sent, c2).as_slice(), [ToClient::KeyErred { .. }]));
}

/// A GPU task waits in no-worker until a worker with a GPU joins; with
/// one GPU, two GPU tasks run one after the other.
#[test]
fn resources_restrict_and_serialize() {
    let mut h = H::new();
    let c = h.client();
    let cpu = h.worker("cpu", 4);
    let sent = h.submit(
        c,
        vec![spec("g1", &[], 0).resource("GPU", 1.0), spec("g2", &[], 1).resource("GPU", 1.0)],
        &["g1", "g2"],
    );
    assert!(computes(&sent, cpu).is_empty());
    assert_eq!(h.core.num_no_worker(), 2);
    let gpu = h.worker_with("gpu", 4, &[("GPU", 1.0)]);
    let sent = h.check();
    assert_eq!(computes(&sent, gpu), ["g1"]);
    assert_eq!(h.core.num_no_worker(), 1);
    let sent = h.finish(gpu, "g1", 1);
    assert_eq!(computes(&sent, gpu), ["g2"]);
    assert!(h.core.processing_keys(cpu).is_empty());
}

/// Bad resource amounts and bad graphs are refused, naming the key, and
/// change nothing.
#[test]
fn invalid_updates_are_refused_whole() {
    let mut h = H::new();
    let c = h.client();
    let cases: Vec<(Vec<TaskSpec>, &[&str], SchedError)> = vec![
        (vec![spec("a", &["b"], 0), spec("b", &["a"], 1), spec("c", &["a"], 2)], &["c"], SchedError::Cycle(k("a"))),
        (vec![spec("a", &["nope"], 0)], &["a"], SchedError::UnknownDependency { key: k("a"), dep: k("nope") }),
        (vec![spec("a", &[], 0), spec("a", &[], 1)], &["a"], SchedError::DuplicateKey(k("a"))),
        (vec![spec("a", &[], 0)], &["zzz"], SchedError::UnknownKey(k("zzz"))),
        (vec![spec("s", &["s"], 0)], &["s"], SchedError::Cycle(k("s"))),
    ];
    for (tasks, wanted, err) in cases {
        let update = GraphUpdate { tasks, wanted: wanted.iter().map(|w| k(w)).collect() };
        let got = on_update_graph(&mut h.core, &mut h.comm, c, update).unwrap_err();
        assert!(got == err || matches!((&got, &err), (SchedError::Cycle(_), SchedError::Cycle(_))), "{got} vs {err}");
        assert_eq!(h.core.num_tasks(), 0);
        assert!(h.check().is_empty());
    }
    let update = GraphUpdate { tasks: vec![spec("g", &[], 0).resource("GPU", -1.0)], wanted: vec![k("g")] };
    let err = on_update_graph(&mut h.core, &mut h.comm, c, update).unwrap_err();
    assert!(err.to_string().contains("g asks for -1"), "{err}");
    let err = on_update_graph(&mut h.core, &mut h.comm, ClientId(99), GraphUpdate::default()).unwrap_err();
    assert_eq!(err, SchedError::UnknownClient(ClientId(99)));
}

/// Stealing: an idle worker joins next to a busy one; the tick asks the
/// busy one to give up its last tasks. Released → sent to the thief;
/// refused → stays; finished before the answer → the answer is ignored.
#[test]
fn stealing_moves_unstarted_tasks_safely() {
    let mut h = H::with(Config { saturation: None, ..Config::default() });
    let c = h.client();
    let busy = h.worker("busy", 1);
    let tasks: Vec<TaskSpec> = (0..6).map(|i| spec(&format!("t{i}"), &[], i)).collect();
    let wanted: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    h.submit(c, tasks, &wanted);
    assert_eq!(h.core.processing_keys(busy).len(), 6);
    let idle = h.worker_with("idle", 3, &[]);
    h.now += 200 * MS;
    on_tick(&mut h.core, &mut h.comm, h.now);
    let sent = h.check();
    let steals: Vec<_> = sent
        .iter()
        .filter_map(|s| match s {
            Sent::Worker(w, ToWorker::StealRequest { key, id }) => Some((*w, key.clone(), *id)),
            _ => None,
        })
        .collect();
    assert_eq!(steals.len(), 3, "one per idle thread: {sent:?}");
    assert!(steals.iter().all(|(w, ..)| *w == busy));
    assert_eq!(steals[0].1, k("t5"), "last in priority order first");
    // Released: goes to the thief.
    on_steal_response(&mut h.core, &mut h.comm, h.now, busy, &steals[0].1, steals[0].2, StealOutcome::Released);
    let sent = h.check();
    assert_eq!(computes(&sent, idle), ["t5"]);
    // Refused: stays.
    on_steal_response(&mut h.core, &mut h.comm, h.now, busy, &steals[1].1, steals[1].2, StealOutcome::Refused);
    assert!(h.check().is_empty());
    assert_eq!(h.core.processing_on(&steals[1].1), Some(busy));
    // Finished before the answer: the late "released" is ignored.
    let key = steals[2].1.to_string();
    h.finish(busy, &key, 1);
    on_steal_response(&mut h.core, &mut h.comm, h.now, busy, &steals[2].1, steals[2].2, StealOutcome::Released);
    assert!(h.check().is_empty());
    assert_eq!(h.state(&key), Some(S::Memory));
    // A stale id for a task processing again is ignored too.
    on_steal_response(&mut h.core, &mut h.comm, h.now, busy, &steals[1].1, steals[0].2, StealOutcome::Released);
    assert!(h.check().is_empty());
}

/// A worker that stops heartbeating is removed at the first tick past the
/// timeout; its task moves to the other worker.
#[test]
fn heartbeat_timeout_removes_silent_workers() {
    let mut h = H::with(Config { heartbeat_timeout: Duration::from_secs(5), ..Config::default() });
    let c = h.client();
    let w0 = h.worker("w0", 1);
    h.submit(c, vec![spec("a", &[], 0)], &["a"]);
    let w1 = h.worker("w1", 1);
    for s in 1..=5 {
        h.now = Duration::from_secs(s);
        on_heartbeat(&mut h.core, h.now, w1, MemoryReport { managed: 1, spilled: 0, unmanaged: 2 });
        on_tick(&mut h.core, &mut h.comm, h.now);
        h.check();
    }
    assert_eq!(h.core.processing_on(&k("a")), Some(w0));
    h.now = Duration::from_secs(6);
    on_tick(&mut h.core, &mut h.comm, h.now);
    let sent = h.check();
    assert_eq!(computes(&sent, w1), ["a"]);
    assert_eq!(h.core.worker_ids(), [w1]);
    assert_eq!(h.core.worker_info(w1).unwrap().memory.unmanaged, 2);
}

/// Cancelling a key cancels its wanted dependents too; running tasks are
/// told to stop and everything is forgotten.
#[test]
fn cancel_stops_work_and_reports() {
    let mut h = H::new();
    let c = h.client();
    let w = h.worker("w0", 2);
    h.submit(c, vec![spec("a", &[], 0), spec("b", &["a"], 1)], &["a", "b"]);
    on_cancel_keys(&mut h.core, &mut h.comm, c, &[k("a")], false);
    let sent = h.check();
    let msgs = to_client(&sent, c);
    assert!(msgs.contains(&ToClient::KeyCancelled(k("a"))) && msgs.contains(&ToClient::KeyCancelled(k("b"))));
    assert!(sent.contains(&Sent::Worker(w, ToWorker::CancelCompute(k("a")))));
    assert_eq!(h.core.num_tasks(), 0);
    // The worker finished anyway: told to free the result.
    let sent = h.finish(w, "a", 1);
    assert_eq!(freed(&sent), [(w, "a".to_string())]);
}

/// A worker that cannot fetch an input from a dead peer reports it; the
/// input, whose only copy was there, is recomputed, then the task rerun.
#[test]
fn fetch_failure_recomputes_missing_input() {
    let mut h = H::with(Config { saturation: None, ..Config::default() });
    let c = h.client();
    let w0 = h.worker("w0", 1);
    h.submit(c, vec![spec("a", &[], 0)], &["a"]);
    h.finish(w0, "a", 1_000);
    // Only w1 may run the reader, so it has to fetch `a` from w0.
    let w1 = h.worker_with("w1", 1, &[("X", 1.0)]);
    h.submit(c, vec![spec("b", &["a"], 2).resource("X", 1.0)], &["b"]);
    let reader = h.core.processing_on(&k("b")).unwrap();
    assert_eq!(reader, w1);
    on_fetch_failed(&mut h.core, &mut h.comm, h.now, reader, &k("b"), &k("a"), w0);
    let sent = h.check();
    assert!(freed(&sent).contains(&(w0, "a".to_string())));
    assert_eq!(h.state("a"), Some(S::Processing));
    assert_eq!(h.state("b"), Some(S::Waiting));
}

/// Replicas reported by workers count as holders; a copy of something
/// not in memory is freed.
#[test]
fn replicas_are_tracked_and_strays_freed() {
    let mut h = H::new();
    let c = h.client();
    let w0 = h.worker("w0", 1);
    let w1 = h.worker("w1", 1);
    h.submit(c, vec![spec("a", &[], 0)], &["a"]);
    let holder = h.core.processing_on(&k("a")).unwrap();
    h.finish(holder, "a", 4);
    let other = if holder == w0 { w1 } else { w0 };
    on_worker_has_keys(&mut h.core, &mut h.comm, h.now, other, &[k("a"), k("ghost")]);
    let sent = h.check();
    assert_eq!(freed(&sent), [(other, "ghost".to_string())]);
    assert_eq!(h.core.who_has(&k("a")).unwrap().len(), 2);
    on_worker_removed(&mut h.core, &mut h.comm, holder);
    let sent = h.check();
    assert!(to_client(&sent, c).is_empty(), "a survives on its replica");
    assert_eq!(h.core.who_has(&k("a")), Some(&[other][..]));
}

/// A worker fetched a copy of `a`, then `a`'s only other copy was lost
/// and its recomputation sent to that worker, before the worker's report
/// of the copy arrived. The worker answers the compute with its copy, so
/// the copy must not be freed: the free would reach the worker after its
/// `TaskFinished` and drop the result the scheduler records there.
#[test]
fn a_copy_reported_late_by_the_worker_recomputing_it_is_kept() {
    let mut h = H::new();
    let c = h.client();
    let w0 = h.worker_with("w0", 1, &[("Z", 1.0)]);
    h.submit(c, vec![spec("a", &[], 0).resource("Z", 1.0)], &["a"]);
    h.finish(w0, "a", 1_000);
    // Only w1 may read `a`: it fetches a copy from w0.
    let w1 = h.worker_with("w1", 1, &[("Z", 1.0), ("X", 1.0)]);
    h.submit(c, vec![spec("b", &["a"], 1).resource("X", 1.0)], &["b"]);
    assert_eq!(h.core.processing_on(&k("b")), Some(w1));
    // w0 goes before w1's report of its copy arrives: `a` is recomputed on
    // w1, the only worker left that can run it.
    on_worker_removed(&mut h.core, &mut h.comm, w0);
    let sent = h.check();
    assert_eq!(computes(&sent, w1), ["a"]);
    on_worker_has_keys(&mut h.core, &mut h.comm, h.now, w1, &[k("a")]);
    let sent = h.check();
    assert!(freed(&sent).is_empty(), "{sent:?}");
    // The worker answers the compute from its copy, and keeps it.
    let sent = h.finish(w1, "a", 1_000);
    assert!(freed(&sent).is_empty(), "{sent:?}");
    assert_eq!(h.core.who_has(&k("a")), Some(&[w1][..]));
    assert_eq!(computes(&sent, w1), ["b"]);
}

/// Durations are learned per prefix and drive occupancy.
#[test]
fn durations_are_learned_per_prefix() {
    let mut h = H::new();
    let c = h.client();
    let w = h.worker("w0", 1);
    assert_eq!(h.core.expected_duration("inc"), Duration::from_millis(500));
    h.submit(c, vec![spec("inc-aa", &[], 0)], &["inc-aa"]);
    on_task_finished(&mut h.core, &mut h.comm, h.now, w, &k("inc-aa"), 1, Duration::from_millis(40));
    h.check();
    assert_eq!(h.core.expected_duration("inc"), Duration::from_millis(40));
    h.submit(c, vec![spec("inc-bb", &[], 1)], &["inc-bb"]);
    assert_eq!(h.core.worker_info(w).unwrap().occupancy, Duration::from_millis(40));
}

/// A 100,000-task chain is settled, erred and forgotten through work
/// lists (no recursion), and 100,000 roots sharing one reader queue up.
#[test]
fn long_chains_and_wide_fans_do_not_recurse() {
    let n = 100_000u32;
    let mut h = H::new();
    let c = h.client();
    let w = h.worker("w0", 4);
    let name: Arc<str> = "step-ab".into();
    let key = |i: u32| Key::with_shared_name(&name, &[i]);
    let tasks: Vec<TaskSpec> = (0..n)
        .map(|i| TaskSpec::new(key(i), if i == 0 { vec![] } else { vec![key(i - 1)] }, i, Arc::from(&[][..])))
        .collect();
    let update = GraphUpdate { tasks, wanted: vec![key(n - 1)] };
    on_update_graph(&mut h.core, &mut h.comm, c, update).unwrap();
    let sent = h.check();
    assert_eq!(computes(&sent, w), [key(0).to_string()]);
    on_task_erred(
        &mut h.core,
        &mut h.comm,
        h.now,
        w,
        &key(0),
        Raised { origin: None, message: "first link broke", fault: ErrorKind::User },
    );
    let sent = h.check();
    assert_eq!(h.core.failure(&key(n - 1)).unwrap().key, key(0));
    assert_eq!(to_client(&sent, c).len(), 1);
    on_release_keys(&mut h.core, &mut h.comm, c, &[key(n - 1)]);
    h.check();
    assert_eq!(h.core.num_tasks(), 0);

    let roots: Vec<TaskSpec> =
        (0..n).map(|i| TaskSpec::new(Key::block("load-cd", &[i]), vec![], i, Arc::from(&[][..]))).collect();
    let all: Vec<Key> = roots.iter().map(|t| t.key.clone()).collect();
    let mut tasks = roots;
    tasks.push(TaskSpec::new("total", all, n, Arc::from(&[][..])));
    on_update_graph(&mut h.core, &mut h.comm, c, GraphUpdate { tasks, wanted: vec![k("total")] }).unwrap();
    h.check();
    assert_eq!(h.core.num_queued() as u32, n - 5, "ceil(4 × 1.1) = 5 roots processing");
}

/// A scattered value is in memory at once, feeds tasks like any result,
/// and errs (with its dependents) when its only worker dies: it has no
/// recipe to recompute it from.
#[test]
fn scattered_values_feed_tasks_and_err_when_lost() {
    let mut h = H::with(Config { saturation: None, ..Config::default() });
    let c = h.client();
    let w0 = h.worker("w0", 1);
    let w1 = h.worker("w1", 1);
    assert_eq!(h.core.scatter_target(), Some(w0), "both empty: the first");
    on_scattered(&mut h.core, &mut h.comm, h.now, c, w0, &[(k("x"), 100)]).unwrap();
    let sent = h.check();
    assert_eq!(to_client(&sent, c), [ToClient::KeyInMemory { key: k("x"), nbytes: 100 }]);
    assert_eq!(h.core.scatter_target(), Some(w1), "w1 holds fewer bytes");
    let sent = h.submit(c, vec![spec("y", &["x"], 0), spec("z", &["y"], 1)], &["z"]);
    assert_eq!(computes(&sent, w0), ["y"], "runs where its input is");
    // A known key that is not in memory cannot be scattered over.
    let err = on_scattered(&mut h.core, &mut h.comm, h.now, c, w1, &[(k("q"), 1), (k("y"), 1)]).unwrap_err();
    assert!(err.to_string().contains("cannot scatter y"), "{err}");
    assert_eq!(h.state("q"), None, "nothing of a refused scatter applied");
    on_worker_removed(&mut h.core, &mut h.comm, w0);
    let sent = h.check();
    let erred: Vec<String> = to_client(&sent, c)
        .into_iter()
        .filter_map(|m| match m {
            ToClient::KeyErred { key, failure } => {
                assert!(failure.message.contains("scattered value of x was lost"), "{}", failure.message);
                Some(key.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(erred, ["x", "z"]);
    assert!(all_computes(&sent).is_empty(), "nothing recomputes x");
    on_release_keys(&mut h.core, &mut h.comm, c, &[k("x"), k("z")]);
    h.check();
    assert_eq!(h.core.num_tasks(), 0);
    // The transitions the simulation never takes (it scatters nothing).
    use blockwork_scheduler::TaskStateKind::{Erred, Memory, Released};
    let tr = h.core.transitions();
    assert_eq!(tr.count(Some(Released), Some(Memory)), 1, "x scattered: {tr:?}");
    assert_eq!(tr.count(Some(Released), Some(Erred)), 1, "x lost and needed again: {tr:?}");
}

#[test]
fn the_adaptive_target_follows_queued_work_and_memory() {
    let five_s = Duration::from_secs(5);
    let mut h = H::new();
    let c = h.client();
    // No workers, 1000 roots of unknown duration (500 ms each): 500 s of
    // work over 5 s calls for 100 single-thread workers.
    let roots: Vec<TaskSpec> = (0..1000).map(|i| spec(&format!("r-{i}"), &[], i)).collect();
    let names: Vec<String> = (0..1000).map(|i| format!("r-{i}")).collect();
    let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
    h.submit(c, roots, &wanted);
    assert_eq!(h.core.adaptive_target(five_s).workers, 100);
    // Workers of 4 threads: a quarter as many.
    let w = h.worker("tcp://a:1", 4);
    assert_eq!(h.core.adaptive_target(five_s), blockwork_scheduler::AdaptiveTarget { workers: 25, to_close: vec![] });
    // Measured durations replace the guess: 10 ms each is 10 s of work in all.
    let sent = h.check();
    let running = computes(&sent, w);
    for key in &running {
        h.finish(w, key, 8);
    }
    let t = h.core.adaptive_target(five_s);
    assert!((1..=2).contains(&t.workers), "{t:?}");
    // Never more workers than tasks to give them.
    assert!(h.core.adaptive_target(Duration::from_micros(1)).workers <= 1000 / 4 + 1);

    // Idle workers go, those holding the least data first, while the rest
    // keep room for the results.
    let mut h = H::new();
    let c = h.client();
    let _a = h.worker("tcp://a:1", 1);
    let _b = h.worker("tcp://b:1", 1);
    let _d = h.worker("tcp://d:1", 1);
    h.submit(c, vec![spec("x", &[], 0)], &["x"]);
    let on = h.core.processing_on(&k("x")).unwrap();
    h.finish(on, "x", 1000);
    let t = h.core.adaptive_target(five_s);
    assert_eq!(t.workers, 1, "{t:?}");
    assert_eq!(t.to_close.len(), 2);
    assert!(!t.to_close.contains(&on), "the holder of the only result stays");
    // Results over 60% of the memory limit ask for twice the workers.
    let big = (1u64 << 30) * 3 / 4 * 3;
    h.submit(c, vec![spec("y", &[], 1)], &["y"]);
    let on = h.core.processing_on(&k("y")).unwrap();
    h.finish(on, "y", big);
    assert_eq!(h.core.adaptive_target(five_s), blockwork_scheduler::AdaptiveTarget { workers: 6, to_close: vec![] });
}

/// Copies asked of workers: (receiver, key, holder).
fn acquires(sent: &[Sent]) -> Vec<(WorkerId, String, WorkerId)> {
    sent.iter()
        .flat_map(|s| match s {
            Sent::Worker(x, ToWorker::AcquireReplicas(deps)) => {
                deps.iter().map(|d| (*x, d.key.to_string(), d.who_has[0].worker)).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}

/// A worker holding the only copy of a wanted result is retired: the
/// result is copied to the other worker straight from it, then it is
/// removed; nothing is recomputed, and it is given no new task meanwhile.
#[test]
fn retiring_moves_results_then_removes_the_worker() {
    let mut h = H::new();
    let c = h.client();
    let a = h.worker("tcp://a:1", 1);
    h.submit(c, vec![spec("x", &[], 0)], &["x"]);
    let on = h.core.processing_on(&k("x")).unwrap();
    assert_eq!(on, a);
    h.finish(a, "x", 100);
    let b = h.worker("tcp://b:1", 1);
    on_retire_workers(&mut h.core, &mut h.comm, h.now, &[a]).unwrap();
    let sent = h.check();
    assert_eq!(acquires(&sent), [(b, "x".to_string(), a)]);
    assert!(h.core.worker_info(a).unwrap().retiring);
    assert_eq!(h.core.take_retirements(), []);
    // New work goes to the running worker only.
    let sent = h.submit(c, vec![spec("y", &["x"], 1), spec("z", &[], 2)], &["y", "z"]);
    assert!(all_computes(&sent).iter().all(|(w, _)| *w == b), "{sent:?}");
    // The copy arrives: the retired worker is removed, no task is rerun.
    on_worker_has_keys(&mut h.core, &mut h.comm, h.now, b, &[k("x")]);
    let sent = h.check();
    assert!(all_computes(&sent).is_empty(), "nothing recomputed: {sent:?}");
    let done = h.core.take_retirements();
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].worker, done[0].outcome.clone()), (a, Ok(())));
    assert_eq!(h.core.worker_ids(), [b]);
    assert_eq!(h.core.who_has(&k("x")), Some(&[b][..]));
}

/// A retiring worker finishes what it runs; its new result moves too.
#[test]
fn retiring_waits_for_running_tasks() {
    let mut h = H::new();
    let c = h.client();
    let a = h.worker("tcp://a:1", 1);
    h.submit(c, vec![spec("x", &[], 0)], &["x"]);
    let b = h.worker("tcp://b:1", 1);
    on_retire_workers(&mut h.core, &mut h.comm, h.now, &[a]).unwrap();
    assert!(acquires(&h.check()).is_empty());
    let sent = h.finish(a, "x", 10);
    assert_eq!(acquires(&sent), [(b, "x".to_string(), a)]);
    on_worker_has_keys(&mut h.core, &mut h.comm, h.now, b, &[k("x")]);
    h.check();
    assert_eq!(h.core.take_retirements()[0].outcome, Ok(()));
    assert_eq!(h.state("x"), Some(S::Memory));
}

/// With nowhere to put its results the retirement is refused and the
/// worker runs on; a copy not confirmed in time is asked again; a worker
/// that dies while retiring is reported and its results recomputed.
#[test]
fn retirement_refused_retried_and_lost() {
    let mut h = H::new();
    let c = h.client();
    let a = h.worker("tcp://a:1", 1);
    h.submit(c, vec![spec("x", &[], 0)], &["x"]);
    h.finish(a, "x", 10);
    on_retire_workers(&mut h.core, &mut h.comm, h.now, &[a]).unwrap();
    h.check();
    let done = h.core.take_retirements();
    let why = done[0].outcome.clone().unwrap_err();
    assert!(why.contains("no running worker can take the 1 result(s)"), "{why}");
    assert!(!h.core.worker_info(a).unwrap().retiring);
    let sent = h.submit(c, vec![spec("y", &[], 1)], &["y"]);
    assert_eq!(computes(&sent, a), ["y"], "it runs on");
    assert!(on_retire_workers(&mut h.core, &mut h.comm, h.now, &[WorkerId(9)]).is_err());

    let b = h.worker("tcp://b:1", 1);
    on_retire_workers(&mut h.core, &mut h.comm, h.now, &[a]).unwrap();
    assert_eq!(acquires(&h.check()).len(), 1, "x moves; y still runs");
    h.now += Duration::from_secs(1);
    on_tick(&mut h.core, &mut h.comm, h.now);
    assert!(acquires(&h.check()).is_empty(), "asked once while it may still come");
    h.now += blockwork_scheduler::MOVE_TIMEOUT;
    on_tick(&mut h.core, &mut h.comm, h.now);
    assert_eq!(acquires(&h.check()), [(b, "x".to_string(), a)], "asked again");
    on_worker_removed(&mut h.core, &mut h.comm, a);
    let sent = h.check();
    let done = h.core.take_retirements();
    assert!(done[0].outcome.clone().unwrap_err().contains("left before"), "{done:?}");
    assert!(computes(&sent, b).contains(&"x".to_string()), "x recomputed: {sent:?}");
}

/// A retiring worker is asked at once to give up the tasks it has not
/// started; those it releases run elsewhere.
#[test]
fn retiring_steals_unstarted_tasks_away() {
    let mut h = H::with(Config { saturation: None, stealing_interval: None, ..Config::default() });
    let c = h.client();
    let a = h.worker("tcp://a:1", 1);
    let sent = h.submit(c, (0..3).map(|i| spec(&format!("r-{i}"), &[], i)).collect(), &["r-0", "r-1", "r-2"]);
    assert_eq!(computes(&sent, a).len(), 3);
    let b = h.worker("tcp://b:1", 1);
    on_retire_workers(&mut h.core, &mut h.comm, h.now, &[a]).unwrap();
    let steals: Vec<(Key, blockwork_scheduler::StealId)> = h
        .check()
        .into_iter()
        .filter_map(|s| match s {
            Sent::Worker(w, ToWorker::StealRequest { key, id }) if w == a => Some((key, id)),
            _ => None,
        })
        .collect();
    assert_eq!(steals.len(), 3, "every unstarted task asked back");
    // r-0 runs already (refused); r-1 is released and goes to b.
    on_steal_response(&mut h.core, &mut h.comm, h.now, a, &steals[0].0, steals[0].1, StealOutcome::Refused);
    h.check();
    on_steal_response(&mut h.core, &mut h.comm, h.now, a, &steals[1].0, steals[1].1, StealOutcome::Released);
    let sent = h.check();
    assert_eq!(computes(&sent, b), [steals[1].0.to_string()]);
    assert_eq!(h.core.processing_on(&steals[1].0), Some(b));
}
