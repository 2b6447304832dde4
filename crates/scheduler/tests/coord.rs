//! The coordination primitives' state machine: each against a plain model
//! on random request sequences, and the cases where order and timing
//! matter (parking, timeouts, a client leaving, held keys).

use std::collections::VecDeque;
use std::time::Duration;

use blockwork_graph::{Key, Value};
use blockwork_scheduler::{ClientId, Coord, CoordOp, CoordOut, CoordReply, Held};
use blockwork_testkit::Rng;

const A: ClientId = ClientId(1);
const B: ClientId = ClientId(2);

fn s(x: &str) -> String {
    x.to_string()
}

fn val(i: i64) -> Held {
    Held::Value(Value::Int(i))
}

fn key(name: &str) -> Held {
    Held::Key(Key::new(name))
}

fn secs(n: u64) -> Option<Duration> {
    Some(Duration::from_secs(n))
}

/// Sends one request; returns everything it produced.
fn ask(c: &mut Coord, client: ClientId, id: u64, op: CoordOp, now: u64) -> CoordOut {
    let mut out = CoordOut::default();
    c.on_request(client, id, op, Duration::from_secs(now), &mut out);
    out
}

fn only_reply(out: &CoordOut) -> &CoordReply {
    assert_eq!(out.replies.len(), 1, "{out:?}");
    &out.replies[0].2
}

#[test]
fn a_queue_behaves_as_a_fifo_on_random_requests() {
    for seed in 0..20 {
        let mut rng = Rng::new(seed);
        let mut c = Coord::default();
        let mut model: VecDeque<i64> = VecDeque::new();
        let maxsize = rng.below(4);
        let mut next = 0;
        for id in 0..300 {
            match rng.below(4) {
                0 | 1 => {
                    let out = ask(
                        &mut c,
                        A,
                        id,
                        CoordOp::Put { name: s("q"), item: val(next), maxsize, timeout: Some(Duration::ZERO) },
                        0,
                    );
                    if maxsize == 0 || (model.len() as u64) < maxsize {
                        assert_eq!(only_reply(&out), &CoordReply::Done);
                        model.push_back(next);
                    } else {
                        assert_eq!(only_reply(&out), &CoordReply::TimedOut, "a full queue refuses at once");
                    }
                    next += 1;
                }
                2 => {
                    let count = rng.below(3);
                    let out =
                        ask(&mut c, B, id, CoordOp::Get { name: s("q"), count, timeout: Some(Duration::ZERO) }, 0);
                    let want: Option<Vec<Held>> = if count == 0 {
                        Some(model.drain(..).map(val).collect())
                    } else if model.len() as u64 >= count {
                        Some(model.drain(..count as usize).map(val).collect())
                    } else {
                        None
                    };
                    match want {
                        Some(items) => assert_eq!(only_reply(&out), &CoordReply::Held(items)),
                        None => assert_eq!(only_reply(&out), &CoordReply::TimedOut),
                    }
                }
                _ => {
                    let out = ask(&mut c, A, id, CoordOp::QueueSize { name: s("q") }, 0);
                    assert_eq!(only_reply(&out), &CoordReply::Count(model.len() as u64));
                }
            }
        }
        assert_eq!(c.num_parked(), 0);
    }
}

#[test]
fn parked_getters_and_putters_are_served_in_order() {
    let mut c = Coord::default();
    // Two getters wait on an empty queue of two items at most.
    assert!(ask(&mut c, A, 1, CoordOp::Get { name: s("q"), count: 2, timeout: None }, 0).replies.is_empty());
    assert!(ask(&mut c, B, 2, CoordOp::Get { name: s("q"), count: 1, timeout: None }, 0).replies.is_empty());
    let put = |i| CoordOp::Put { name: s("q"), item: val(i), maxsize: 2, timeout: None };
    // The first item is not enough for the first getter; the second
    // getter waits behind it (first come, first served).
    assert_eq!(ask(&mut c, A, 3, put(10), 0).replies, vec![(A, 3, CoordReply::Done)]);
    let out = ask(&mut c, A, 4, put(11), 0);
    assert_eq!(out.replies, vec![(A, 4, CoordReply::Done), (A, 1, CoordReply::Held(vec![val(10), val(11)]))]);
    // A full queue parks its putter until a get makes room.
    assert_eq!(
        ask(&mut c, A, 5, put(12), 0).replies,
        vec![(A, 5, CoordReply::Done), (B, 2, CoordReply::Held(vec![val(12)]))]
    );
    assert_eq!(ask(&mut c, A, 6, put(13), 0).replies, vec![(A, 6, CoordReply::Done)]);
    assert_eq!(ask(&mut c, A, 7, put(14), 0).replies, vec![(A, 7, CoordReply::Done)]);
    assert!(ask(&mut c, A, 8, put(15), 0).replies.is_empty(), "full: parked");
    let out = ask(&mut c, B, 9, CoordOp::Get { name: s("q"), count: 1, timeout: None }, 0);
    assert_eq!(out.replies, vec![(B, 9, CoordReply::Held(vec![val(13)])), (A, 8, CoordReply::Done)]);
    let out = ask(&mut c, B, 10, CoordOp::Get { name: s("q"), count: 0, timeout: None }, 0);
    assert_eq!(only_reply(&out), &CoordReply::Held(vec![val(14), val(15)]));
}

#[test]
fn timeouts_answer_parked_requests_once_due() {
    let mut c = Coord::default();
    ask(&mut c, A, 1, CoordOp::GetVariable { name: s("v"), timeout: secs(5) }, 0);
    ask(&mut c, A, 2, CoordOp::Get { name: s("q"), count: 1, timeout: secs(3) }, 0);
    ask(&mut c, A, 3, CoordOp::WaitEvent { name: s("e"), timeout: secs(2) }, 0);
    ask(&mut c, B, 4, CoordOp::Acquire { name: s("l"), handle: 1, timeout: None }, 0);
    ask(&mut c, A, 5, CoordOp::Acquire { name: s("l"), handle: 1, timeout: secs(1) }, 0);
    ask(&mut c, A, 6, CoordOp::AcquireLease { name: s("s"), max_leases: 1, handle: 1, timeout: None }, 0);
    ask(&mut c, B, 7, CoordOp::AcquireLease { name: s("s"), max_leases: 1, handle: 2, timeout: secs(4) }, 0);
    assert_eq!(c.num_parked(), 5);
    let tick = |c: &mut Coord, t: u64| {
        let mut out = CoordOut::default();
        c.on_tick(Duration::from_secs(t), &mut out);
        out.replies
    };
    assert!(tick(&mut c, 0).is_empty());
    assert_eq!(tick(&mut c, 1), vec![(A, 5, CoordReply::Bool(false))]);
    assert_eq!(tick(&mut c, 2), vec![(A, 3, CoordReply::Bool(false))]);
    assert_eq!(tick(&mut c, 3), vec![(A, 2, CoordReply::TimedOut)]);
    assert_eq!(tick(&mut c, 4), vec![(B, 7, CoordReply::Bool(false))]);
    assert_eq!(tick(&mut c, 60), vec![(A, 1, CoordReply::TimedOut)]);
    assert_eq!(c.num_parked(), 0);
    // The lock is still B's, the lease still A's.
    assert_eq!(only_reply(&ask(&mut c, A, 8, CoordOp::Locked { name: s("l") }, 60)), &CoordReply::Bool(true));
    assert_eq!(only_reply(&ask(&mut c, A, 9, CoordOp::Leases { name: s("s") }, 60)), &CoordReply::Count(1));
}

#[test]
fn a_lock_excludes_and_passes_on_in_order() {
    let mut c = Coord::default();
    let acquire = |h| CoordOp::Acquire { name: s("l"), handle: h, timeout: None };
    let release = |h| CoordOp::Release { name: s("l"), handle: h };
    assert_eq!(only_reply(&ask(&mut c, A, 1, acquire(1), 0)), &CoordReply::Bool(true));
    // Another handle of the same client is excluded too; so is B.
    assert!(ask(&mut c, A, 2, acquire(2), 0).replies.is_empty());
    assert!(ask(&mut c, B, 3, acquire(1), 0).replies.is_empty());
    let out = ask(&mut c, B, 4, release(1), 0);
    assert!(matches!(only_reply(&out), CoordReply::Refused(m) if m.contains("\"l\"") && m.contains("not held")));
    assert_eq!(
        ask(&mut c, A, 5, release(1), 0).replies,
        vec![(A, 2, CoordReply::Bool(true)), (A, 5, CoordReply::Done)]
    );
    assert_eq!(
        ask(&mut c, A, 6, release(2), 0).replies,
        vec![(B, 3, CoordReply::Bool(true)), (A, 6, CoordReply::Done)]
    );
    let try_acquire = CoordOp::Acquire { name: s("l"), handle: 1, timeout: Some(Duration::ZERO) };
    assert_eq!(only_reply(&ask(&mut c, A, 7, try_acquire, 0)), &CoordReply::Bool(false), "B holds it now");
    assert_eq!(only_reply(&ask(&mut c, A, 8, CoordOp::Locked { name: s("l") }, 0)), &CoordReply::Bool(true));
}

#[test]
fn a_semaphore_counts_leases_against_a_model() {
    for seed in 0..20 {
        let mut rng = Rng::new(seed);
        let mut c = Coord::default();
        let max = 1 + rng.below(3);
        let mut leases: Vec<(ClientId, u64)> = Vec::new();
        for id in 0..200 {
            let client = if rng.pct(50) { A } else { B };
            let handle = rng.below(3);
            if rng.pct(55) {
                let op = CoordOp::AcquireLease { name: s("s"), max_leases: max, handle, timeout: Some(Duration::ZERO) };
                let out = ask(&mut c, client, id, op, 0);
                let ok = (leases.len() as u64) < max;
                assert_eq!(only_reply(&out), &CoordReply::Bool(ok));
                if ok {
                    leases.push((client, handle));
                }
            } else {
                let out = ask(&mut c, client, id, CoordOp::ReleaseLease { name: s("s"), handle }, 0);
                match leases.iter().position(|l| *l == (client, handle)) {
                    Some(i) => {
                        leases.swap_remove(i);
                        assert_eq!(only_reply(&out), &CoordReply::Done);
                    }
                    None => assert!(matches!(only_reply(&out), CoordReply::Refused(_))),
                }
            }
            let out = ask(&mut c, A, id, CoordOp::Leases { name: s("s") }, 0);
            assert_eq!(only_reply(&out), &CoordReply::Count(leases.len() as u64));
        }
    }
}

#[test]
fn a_semaphore_refuses_a_different_size_and_zero_leases() {
    let mut c = Coord::default();
    let acquire = |max| CoordOp::AcquireLease { name: s("s"), max_leases: max, handle: 0, timeout: None };
    assert_eq!(only_reply(&ask(&mut c, A, 1, acquire(2), 0)), &CoordReply::Bool(true));
    let out = ask(&mut c, A, 2, acquire(3), 0);
    assert!(
        matches!(only_reply(&out), CoordReply::Refused(m) if m.contains("has 2 leases") && m.contains("asks for 3"))
    );
    let out = ask(&mut c, A, 3, CoordOp::AcquireLease { name: s("t"), max_leases: 0, handle: 0, timeout: None }, 0);
    assert!(matches!(only_reply(&out), CoordReply::Refused(m) if m.contains("\"t\"")));
}

#[test]
fn events_wake_every_waiter_and_stay_set_until_cleared() {
    let mut c = Coord::default();
    let wait = |t| CoordOp::WaitEvent { name: s("e"), timeout: t };
    assert!(ask(&mut c, A, 1, wait(None), 0).replies.is_empty());
    assert!(ask(&mut c, B, 2, wait(secs(10)), 0).replies.is_empty());
    assert_eq!(only_reply(&ask(&mut c, A, 3, CoordOp::IsSet { name: s("e") }, 0)), &CoordReply::Bool(false));
    let out = ask(&mut c, B, 4, CoordOp::SetEvent { name: s("e") }, 0);
    assert_eq!(
        out.replies,
        vec![(A, 1, CoordReply::Bool(true)), (B, 2, CoordReply::Bool(true)), (B, 4, CoordReply::Done)]
    );
    assert_eq!(only_reply(&ask(&mut c, A, 5, wait(None), 0)), &CoordReply::Bool(true));
    ask(&mut c, A, 6, CoordOp::ClearEvent { name: s("e") }, 0);
    assert_eq!(only_reply(&ask(&mut c, A, 7, wait(Some(Duration::ZERO)), 0)), &CoordReply::Bool(false));
}

#[test]
fn variables_wake_getters_and_hold_keys_once() {
    let mut c = Coord::default();
    assert!(ask(&mut c, A, 1, CoordOp::GetVariable { name: s("v"), timeout: None }, 0).replies.is_empty());
    let out = ask(&mut c, B, 2, CoordOp::SetVariable { name: s("v"), value: key("x") }, 0);
    assert_eq!(out.replies, vec![(A, 1, CoordReply::Held(vec![key("x")])), (B, 2, CoordReply::Done)]);
    assert_eq!(out.hold, vec![Key::new("x")]);
    // The same key in a second place is not held twice.
    let out = ask(&mut c, B, 3, CoordOp::Put { name: s("q"), item: key("x"), maxsize: 0, timeout: None }, 0);
    assert!(out.hold.is_empty() && out.release.is_empty());
    // Overwriting the variable lets go of one of two references.
    let out = ask(&mut c, B, 4, CoordOp::SetVariable { name: s("v"), value: val(3) }, 0);
    assert!(out.release.is_empty());
    // The queue hands the last reference out: released, after the answer
    // that makes the getter want it.
    let out = ask(&mut c, A, 5, CoordOp::Get { name: s("q"), count: 1, timeout: None }, 0);
    assert_eq!(only_reply(&out), &CoordReply::Held(vec![key("x")]));
    assert_eq!(out.release, vec![Key::new("x")]);
    assert_eq!(c.held_keys().count(), 0);
    // A key set then deleted is held, then released.
    let out = ask(&mut c, A, 6, CoordOp::SetVariable { name: s("w"), value: key("y") }, 0);
    assert_eq!(out.hold, vec![Key::new("y")]);
    let out = ask(&mut c, A, 7, CoordOp::DeleteVariable { name: s("w") }, 0);
    assert_eq!(out.release, vec![Key::new("y")]);
    let out = ask(&mut c, A, 8, CoordOp::GetVariable { name: s("w"), timeout: Some(Duration::ZERO) }, 0);
    assert_eq!(only_reply(&out), &CoordReply::TimedOut);
}

#[test]
fn a_client_that_leaves_lets_go_of_its_locks_and_leases_not_its_data() {
    let mut c = Coord::default();
    ask(&mut c, A, 1, CoordOp::Acquire { name: s("l"), handle: 0, timeout: None }, 0);
    ask(&mut c, A, 2, CoordOp::AcquireLease { name: s("s"), max_leases: 1, handle: 0, timeout: None }, 0);
    ask(&mut c, A, 3, CoordOp::SetVariable { name: s("v"), value: key("k") }, 0);
    ask(&mut c, A, 4, CoordOp::Put { name: s("q"), item: val(1), maxsize: 1, timeout: None }, 0);
    ask(&mut c, A, 5, CoordOp::Put { name: s("q"), item: val(2), maxsize: 1, timeout: None }, 0);
    ask(&mut c, A, 6, CoordOp::WaitEvent { name: s("e"), timeout: None }, 0);
    assert!(ask(&mut c, B, 7, CoordOp::Acquire { name: s("l"), handle: 0, timeout: None }, 0).replies.is_empty());
    let lease = CoordOp::AcquireLease { name: s("s"), max_leases: 1, handle: 0, timeout: None };
    assert!(ask(&mut c, B, 8, lease, 0).replies.is_empty());
    let mut out = CoordOut::default();
    c.on_client_gone(A, &mut out);
    assert_eq!(out.replies, vec![(B, 7, CoordReply::Bool(true)), (B, 8, CoordReply::Bool(true))]);
    assert!(out.release.is_empty(), "the variable keeps its key");
    assert_eq!(c.num_parked(), 0, "A's parked put and wait are gone");
    let out = ask(&mut c, B, 9, CoordOp::Get { name: s("q"), count: 0, timeout: None }, 0);
    assert_eq!(only_reply(&out), &CoordReply::Held(vec![val(1)]));
    let out = ask(&mut c, B, 10, CoordOp::GetVariable { name: s("v"), timeout: None }, 0);
    assert_eq!(only_reply(&out), &CoordReply::Held(vec![key("k")]));
}

#[test]
fn a_getter_that_gives_up_unblocks_the_ones_behind_it() {
    let mut c = Coord::default();
    ask(&mut c, A, 1, CoordOp::Get { name: s("q"), count: 3, timeout: secs(1) }, 0);
    ask(&mut c, B, 2, CoordOp::Get { name: s("q"), count: 1, timeout: None }, 0);
    let out = ask(&mut c, A, 3, CoordOp::Put { name: s("q"), item: val(7), maxsize: 0, timeout: None }, 0);
    assert_eq!(out.replies, vec![(A, 3, CoordReply::Done)]);
    let mut out = CoordOut::default();
    c.on_tick(Duration::from_secs(1), &mut out);
    assert_eq!(out.replies, vec![(A, 1, CoordReply::TimedOut), (B, 2, CoordReply::Held(vec![val(7)]))]);
}

#[test]
fn datasets_hold_their_futures_until_unpublished() {
    let mut c = Coord::default();
    let publish =
        |name: &str, replace| CoordOp::Publish { name: s(name), items: vec![val(1), key("a"), key("b")], replace };
    let out = ask(&mut c, A, 1, publish("d", false), 0);
    assert_eq!(only_reply(&out), &CoordReply::Done);
    assert_eq!(out.hold, vec![Key::new("a"), Key::new("b")]);
    let out = ask(&mut c, B, 2, publish("d", false), 0);
    assert!(
        matches!(only_reply(&out), CoordReply::Refused(m) if m.contains("\"d\"") && m.contains("published already"))
    );
    assert!(out.hold.is_empty(), "a refused publish holds nothing");
    let out = ask(&mut c, B, 3, CoordOp::GetDataset { name: s("d") }, 0);
    assert_eq!(only_reply(&out), &CoordReply::Held(vec![val(1), key("a"), key("b")]));
    assert!(out.release.is_empty(), "reading keeps them held");
    // Replacing lets go of what is no longer named (b), keeps what still is.
    let out = ask(&mut c, B, 4, CoordOp::Publish { name: s("d"), items: vec![key("a"), key("c")], replace: true }, 0);
    assert_eq!((out.hold, out.release), (vec![Key::new("c")], vec![Key::new("b")]));
    ask(&mut c, A, 5, CoordOp::Publish { name: s("alpha"), items: vec![], replace: false }, 0);
    let out = ask(&mut c, A, 6, CoordOp::ListDatasets, 0);
    let names = vec![Held::Value(Value::Str("alpha".into())), Held::Value(Value::Str("d".into()))];
    assert_eq!(only_reply(&out), &CoordReply::Held(names));
    let out = ask(&mut c, A, 7, CoordOp::Unpublish { name: s("d") }, 0);
    assert_eq!(out.release, vec![Key::new("a"), Key::new("c")]);
    let out = ask(&mut c, A, 8, CoordOp::GetDataset { name: s("d") }, 0);
    assert!(
        matches!(only_reply(&out), CoordReply::Refused(m) if m.contains("no dataset \"d\"") && m.contains("alpha"))
    );
    let out = ask(&mut c, A, 9, CoordOp::Unpublish { name: s("d") }, 0);
    assert!(matches!(only_reply(&out), CoordReply::Refused(_)));
}

#[test]
fn a_restart_forgets_the_keys_and_keeps_the_rest() {
    let mut c = Coord::default();
    ask(&mut c, A, 1, CoordOp::SetVariable { name: s("k"), value: key("x") }, 0);
    ask(&mut c, A, 2, CoordOp::SetVariable { name: s("v"), value: val(1) }, 0);
    ask(&mut c, A, 3, CoordOp::Put { name: s("q"), item: key("y"), maxsize: 2, timeout: None }, 0);
    ask(&mut c, A, 4, CoordOp::Put { name: s("q"), item: val(2), maxsize: 2, timeout: None }, 0);
    assert!(ask(&mut c, B, 5, CoordOp::Put { name: s("q"), item: key("z"), maxsize: 2, timeout: None }, 0)
        .replies
        .is_empty());
    ask(&mut c, A, 6, CoordOp::Publish { name: s("d"), items: vec![key("x")], replace: false }, 0);
    ask(&mut c, A, 7, CoordOp::Acquire { name: s("l"), handle: 0, timeout: None }, 0);
    let mut out = CoordOut::default();
    c.forget_keys(&mut out);
    assert!(matches!(out.replies.as_slice(), [(B, 5, CoordReply::Refused(m))] if m.contains("restarted")));
    assert_eq!(c.held_keys().count(), 0);
    let get = |c: &mut Coord, name: &str| {
        ask(c, A, 9, CoordOp::GetVariable { name: s(name), timeout: Some(Duration::ZERO) }, 0)
    };
    assert_eq!(only_reply(&get(&mut c, "k")), &CoordReply::TimedOut);
    assert_eq!(only_reply(&get(&mut c, "v")), &CoordReply::Held(vec![val(1)]));
    let out = ask(&mut c, A, 10, CoordOp::Get { name: s("q"), count: 0, timeout: None }, 0);
    assert_eq!(only_reply(&out), &CoordReply::Held(vec![val(2)]));
    assert_eq!(only_reply(&ask(&mut c, A, 11, CoordOp::ListDatasets, 0)), &CoordReply::Held(vec![]));
    assert_eq!(only_reply(&ask(&mut c, A, 12, CoordOp::Locked { name: s("l") }, 0)), &CoordReply::Bool(true));
}
