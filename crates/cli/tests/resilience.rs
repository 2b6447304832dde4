//! A worker process killed (SIGKILL) at a random moment of a large array
//! computation: the scheduler notices the lost connection, reschedules
//! what it ran and recomputes what only it held, and the result is the
//! same every time.

mod common;

use std::io::Write;
use std::time::Duration;

use blockwork::array as bwa;
use common::{blockwork, lines_of, Terminated};
use std::process::{Command, Stdio};

/// Rounds of computation with one worker killed in each.
const ROUNDS: u64 = 20;

#[test]
fn a_killed_worker_changes_no_result() {
    blockwork::register_builtins();
    let mut cluster = Terminated(
        blockwork()
            .args(["cluster", "--workers", "3", "--port", "0", "--nthreads", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stdin = cluster.0.stdin.take().unwrap();
    let stdout = lines_of(cluster.0.stdout.take().unwrap());
    let next = |what: &str| stdout.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| panic!("no {what}"));
    let addr = next("scheduler line").trim_start_matches("scheduler at tcp://").to_string();
    let pid_of = |line: &str| -> u32 {
        line.rsplit(", pid ").next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("not a worker line: {line}"))
    };
    let mut pids: Vec<u32> = (0..3).map(|_| pid_of(&next("worker line"))).collect();

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
        // Back to three workers.
        writeln!(stdin, "scale 3").unwrap();
        loop {
            let line = next("a replacement");
            if line.starts_with("worker ") && line.contains(", pid ") {
                pids[victim] = pid_of(&line);
                break;
            }
        }
    }
}
