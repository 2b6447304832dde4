//! Questions about the cluster's state: who holds which keys, what each
//! worker holds, the scheduler's figures — checked against where the
//! results were put and moved.

use blockwork_graph::{lit, Arg, Key, Value};
use blockwork_runtime::{LocalCluster, Retire};
use std::time::Duration;

mod common;

use common::{timed, ADD, INC};

#[test]
fn who_has_has_what_and_scheduler_info_follow_the_results() {
    common::register(&[]);
    timed(|| {
        let cluster = LocalCluster::start(2, 1).unwrap();
        let client = cluster.client().unwrap();
        let xs = client.map(&INC, (0..8i64).map(lit)).unwrap();
        let total = client.submit(&ADD, xs.iter().map(Arg::from).collect()).unwrap();
        assert_eq!(total.result().unwrap(), Value::Int((1..=8).sum()));
        let keys: Vec<Key> = xs.iter().map(|f| f.key().clone()).collect();
        let addresses: Vec<String> = cluster.workers().iter().map(|w| w.address().to_string()).collect();

        let info = client.scheduler_info().unwrap();
        assert_eq!(info.workers.len(), 2);
        let mut seen: Vec<String> = info.workers.iter().map(|w| w.address.to_string()).collect();
        seen.sort();
        let mut want = addresses.clone();
        want.sort();
        assert_eq!(seen, want);
        assert!(info.tasks >= 9, "{info:?}");
        assert!(info.clients >= 1);
        assert!(info.workers.iter().all(|w| w.nthreads == 1));

        // who_has and has_what are two views of one relation.
        let holders = client.who_has(&keys).unwrap();
        assert_eq!(holders.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), keys);
        assert!(holders.iter().all(|(_, ws)| !ws.is_empty() && ws.iter().all(|w| addresses.contains(w))));
        let held = client.has_what(&[]).unwrap();
        assert_eq!(held.len(), 2);
        for (k, ws) in &holders {
            for (w, ks) in &held {
                assert_eq!(ws.contains(w), ks.contains(k), "{k} on {w}");
            }
        }
        let all = client.who_has(&[]).unwrap();
        assert!(keys.iter().all(|k| all.iter().any(|(a, _)| a == k)), "every key in memory is listed");
        assert_eq!(client.who_has(&[Key::new("nope")]).unwrap(), vec![(Key::new("nope"), vec![])]);
        let one = client.has_what(&[format!("tcp://{}", addresses[0])]).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].0, addresses[0]);

        // After retiring the first worker, everything is on the second.
        let r = client.retire_workers(Retire::Workers(vec![addresses[0].clone()]), Duration::from_secs(60)).unwrap();
        assert_eq!(r.retired.len(), 1, "{r:?}");
        let holders = client.who_has(&keys).unwrap();
        assert!(holders.iter().all(|(_, ws)| ws == &[addresses[1].clone()]), "{holders:?}");
        assert_eq!(client.scheduler_info().unwrap().workers.len(), 1);
    });
}

#[test]
fn workers_restrict_where_tasks_run() {
    use blockwork_runtime::{Status, TaskOptions};
    common::register(&[]);
    timed(|| {
        let mut cluster = LocalCluster::start(2, 1).unwrap();
        let client = cluster.client().unwrap();
        let second = cluster.workers()[1].address().to_string();
        let on_second = TaskOptions::default().workers(&[second.as_str()], false);
        let fs: Vec<_> = (0..6i64).map(|i| client.submit_with(&INC, vec![lit(i)], &on_second).unwrap()).collect();
        client.gather(&fs).unwrap();
        let keys: Vec<Key> = fs.iter().map(|f| f.key().clone()).collect();
        assert!(client.who_has(&keys).unwrap().iter().all(|(_, ws)| ws.as_slice() == std::slice::from_ref(&second)));
        // A worker not (yet) in the cluster: strict waits, loose runs anywhere.
        // (The next worker of this cluster is named "late-2".)
        let absent = TaskOptions::default().workers(&["late-2"], false).priority(3);
        let waiting = client.submit_with(&INC, vec![lit(100i64)], &absent).unwrap();
        let anywhere = TaskOptions::default().workers(&["late-2"], true);
        let ran = client.submit_with(&INC, vec![lit(200i64)], &anywhere).unwrap();
        assert_eq!(ran.result().unwrap(), Value::Int(201));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(waiting.status(), Status::Pending);
        // It runs once a worker by that name joins.
        let options = blockwork_runtime::WorkerOptions::new(1, "late");
        cluster.add_worker_with(options).unwrap();
        assert_eq!(waiting.result_timeout(Duration::from_secs(60)).unwrap(), Value::Int(101));
        let sum = client.submit(&ADD, vec![Arg::from(&waiting), Arg::from(&ran)]).unwrap();
        assert_eq!(sum.result().unwrap(), Value::Int(302));
    });
}

/// The worker a task runs on, by its thread's name (`{worker name}-…`).
/// The thread it runs on, and its arguments; an argument "fail" fails it.
fn where_am_i(_: &Value, args: Vec<Value>) -> blockwork_graph::TaskResult {
    if args.contains(&Value::Str("fail".into())) {
        return Err(blockwork_graph::TaskError::new("asked to fail"));
    }
    let here = Value::Str(std::thread::current().name().unwrap_or("?").into());
    Ok(Value::List(std::iter::once(here).chain(args).collect()))
}
static WHERE: blockwork_graph::NamedFn = blockwork_graph::NamedFn::new("info.where", where_am_i);

/// Whether the blocking tasks may finish, and how many started.
static RELEASED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static STARTED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Holds its thread until [`RELEASED`].
fn block(_: &Value, _: Vec<Value>) -> blockwork_graph::TaskResult {
    STARTED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    while !RELEASED.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(Value::Unit)
}
static BLOCK: blockwork_graph::NamedFn = blockwork_graph::NamedFn::new("info.block", block);

#[test]
fn replicate_and_run_reach_every_worker() {
    common::register(&[&WHERE, &BLOCK]);
    timed(|| {
        let cluster = LocalCluster::start(3, 1).unwrap();
        let client = cluster.client().unwrap();
        let fs = client.map(&INC, (0..4i64).map(lit)).unwrap();
        let keys: Vec<Key> = fs.iter().map(|f| f.key().clone()).collect();
        client.replicate(&fs, Some(2), Duration::from_secs(60)).unwrap();
        assert!(client.who_has(&keys).unwrap().iter().all(|(_, ws)| ws.len() == 2));
        client.replicate(&fs, None, Duration::from_secs(60)).unwrap();
        assert!(client.who_has(&keys).unwrap().iter().all(|(_, ws)| ws.len() == 3));
        // Every copy is a result: the values are unchanged.
        assert_eq!(client.gather(&fs).unwrap(), (1..=4i64).map(Value::Int).collect::<Vec<_>>());

        // Every task thread busy: run answers anyway, from a thread of its own.
        let addresses: Vec<String> = cluster.workers().iter().map(|w| w.address().to_string()).collect();
        let busy: Vec<_> = addresses
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let task = blockwork_graph::Task::new(blockwork_graph::Op::named(&BLOCK, Value::Int(i as i64)), vec![]);
                let opts = blockwork_runtime::TaskOptions::default().workers(&[a.as_str()], false);
                client.submit_task(Key::new(format!("block-{i}")), task, &opts).unwrap()
            })
            .collect();
        while STARTED.load(std::sync::atomic::Ordering::SeqCst) < 3 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let ran = client.run(&WHERE, vec![Value::Int(7)]).unwrap();
        assert_eq!(ran.len(), 3);
        for (address, result) in &ran {
            assert!(addresses.contains(address), "{address}");
            let want = Value::List(vec![Value::Str("blockwork-run".into()), Value::Int(7)].into());
            assert_eq!(result.as_ref().unwrap(), &want, "{address}");
        }
        RELEASED.store(true, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(client.gather(&busy).unwrap(), vec![Value::Unit; 3]);

        // On named workers only; a failure is that worker's error.
        let one = vec![addresses[1].clone()];
        let ran = client.run_on(&WHERE, Value::Unit, vec![], &one).unwrap();
        assert_eq!(ran.iter().map(|(a, _)| a.clone()).collect::<Vec<_>>(), one);
        let failed = client.run(&WHERE, vec![Value::Str("fail".into())]).unwrap();
        assert!(failed.iter().all(|(_, r)| r.as_ref().is_err_and(|e| e.to_string().contains("asked to fail"))));
        let err = client.run_on(&WHERE, Value::Unit, vec![], &["no-such-worker".to_string()]).unwrap_err();
        assert!(err.to_string().contains("no running worker"), "{err}");
    });
}

#[test]
fn restart_cancels_every_future_and_the_cluster_goes_on() {
    use blockwork_runtime::{ClientError, Status};
    common::register(&[]);
    timed(|| {
        let cluster = LocalCluster::start(2, 1).unwrap();
        let (a, b) = (cluster.client().unwrap(), cluster.client().unwrap());
        let fs = a.map(&INC, (0..10i64).map(lit)).unwrap();
        a.gather(&fs).unwrap();
        let g = b.submit(&INC, vec![lit(100i64)]).unwrap();
        g.result().unwrap();
        a.variable("v").set_future(&fs[0]).unwrap();
        let info = b.restart().unwrap();
        assert_eq!(info.workers.len(), 2);
        assert_eq!(info.tasks, 0, "{info:?}");
        assert!(matches!(fs[3].result(), Err(ClientError::Cancelled(_))));
        assert_eq!(g.status(), Status::Cancelled);
        assert!(matches!(a.variable("v").get(Some(Duration::ZERO)), Err(ClientError::Timeout(_))));
        // The workers free what they held, and take new work.
        let fresh = a.submit(&INC, vec![lit(1i64)]).unwrap();
        assert_eq!(fresh.result().unwrap(), Value::Int(2));
        let held: Vec<Key> = a.has_what(&[]).unwrap().into_iter().flat_map(|(_, ks)| ks).collect();
        assert_eq!(held, [fresh.key().clone()], "nothing from before the restart is held");
    });
}

/// `n` values of `n` kilobytes.
fn kilobytes(_: &Value, args: Vec<Value>) -> blockwork_graph::TaskResult {
    let Value::Int(n) = args[0] else { return Err(blockwork_graph::TaskError::new("an int")) };
    Ok(Value::Bytes(vec![7u8; n as usize * 1024].into()))
}
static KB: blockwork_graph::NamedFn = blockwork_graph::NamedFn::new("info.kb", kilobytes);

#[test]
fn rebalance_evens_out_the_workers() {
    common::register(&[&KB]);
    timed(|| {
        let mut cluster = LocalCluster::start(1, 1).unwrap();
        let client = cluster.client().unwrap();
        let fs: Vec<_> = (1..=8i64).map(|i| client.submit(&KB, vec![lit(i * 10)]).unwrap()).collect();
        client.gather(&fs).unwrap();
        cluster.add_worker().unwrap();
        let keys: Vec<Key> = fs.iter().map(|f| f.key().clone()).collect();
        let moves = client.rebalance(&[], &[], Duration::from_secs(60)).unwrap();
        assert!(!moves.is_empty());
        let info = client.scheduler_info().unwrap();
        let bytes: Vec<u64> = info.workers.iter().map(|w| w.nbytes).collect();
        let mean = bytes.iter().sum::<u64>() / 2;
        assert!(bytes.iter().all(|b| b.abs_diff(mean) <= mean / 5), "{bytes:?}");
        // Every result is still there, once, and the values are intact.
        assert!(client.who_has(&keys).unwrap().iter().all(|(_, ws)| ws.len() == 1));
        let values = client.gather(&fs).unwrap();
        assert!(values.iter().zip(1..=8usize).all(|(v, i)| matches!(v, Value::Bytes(b) if b.len() == i * 10 * 1024)));
        // Balanced already: nothing moves.
        assert!(client.rebalance(&[], &[], Duration::from_secs(60)).unwrap().is_empty());
    });
}
