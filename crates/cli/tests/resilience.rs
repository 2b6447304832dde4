//! A worker process killed (SIGKILL) at a random moment of a large array
//! computation: the scheduler notices the lost connection, reschedules
//! what it ran and recomputes what only it held, and the result is the
//! same every time.

mod common;

use std::io::Write;
use std::time::Duration;

use blockwork::array as bwa;
use std::process::Command;

/// Rounds of computation with one worker killed in each.
const ROUNDS: u64 = 20;

#[test]
fn a_killed_worker_changes_no_result() {
    blockwork::register_builtins();
    let mut cluster = common::start_cluster(3, &["--nthreads".as_ref(), "1".as_ref()]);
    let (addr, mut pids) = (cluster.address.clone(), cluster.pids.clone());

    // ~100k tasks: 90,000 random blocks of 10×10 and the sum's tree.
    let x = bwa::random::random(&[3000, 3000], [10, 10], 7).unwrap();
    let y = (&x * 2.0).sum();
    let graph = y.graph().unwrap();
    assert!(graph.len() >= 90_000, "{} tasks", graph.len());
    let want = y.compute().unwrap();
    let client = blockwork::distributed::Client::connect(&addr).unwrap();
    let mut rng = 12345u64;
    for round in 0..ROUNDS {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let (delay, victim) = (Duration::from_millis((rng >> 33) % 1500), ((rng >> 20) % 3) as usize);
        let futures = client.persist(graph.clone(), &y.keys()).unwrap();
        std::thread::sleep(delay);
        let killed = Command::new("kill").args(["-KILL", &pids[victim].to_string()]).status().unwrap();
        assert!(killed.success());
        let got = y.assemble(client.gather(&futures).unwrap()).unwrap();
        assert_eq!(got, want, "round {round}: killed worker {victim} after {delay:?}");
        drop(futures);
        // The result may be complete before the victim has died: the
        // cluster replaces only a worker that has exited.
        let t0 = std::time::Instant::now();
        while common::alive(pids[victim]) {
            assert!(t0.elapsed() < Duration::from_secs(60), "round {round}: worker {victim} survived SIGKILL");
            std::thread::sleep(Duration::from_millis(10));
        }
        // Back to three workers.
        writeln!(cluster.stdin, "scale 3").unwrap();
        loop {
            let line = cluster.stdout.recv_timeout(Duration::from_secs(120)).expect("a replacement worker");
            if line.starts_with("worker ") && line.contains(", pid ") {
                pids[victim] = common::worker_pid(&line);
                break;
            }
        }
    }
}
