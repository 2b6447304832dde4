//! Helpers for tests that run `blockwork` processes.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn blockwork() -> Command {
    Command::new(env!("CARGO_BIN_EXE_blockwork"))
}

/// Sends each line of `from` down a channel, on a thread of its own.
pub fn lines_of(from: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for `child` to exit, killing it and failing after `limit`.
pub fn wait_within(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether process `pid` exists.
pub fn alive(pid: u32) -> bool {
    Command::new("kill").args(["-0", &pid.to_string()]).stderr(Stdio::null()).status().unwrap().success()
}

/// A child that gets SIGTERM if the test fails before it stopped it.
pub struct Terminated(pub std::process::Child);

impl Drop for Terminated {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
            let _ = self.0.wait();
        }
    }
}

/// A running `blockwork cluster`: the process (SIGTERM'd on drop), its
/// standard input and output lines, the scheduler's address and the
/// workers' pids in the order they joined.
pub struct Cluster {
    pub process: Terminated,
    pub stdin: std::process::ChildStdin,
    pub stdout: std::sync::mpsc::Receiver<String>,
    pub address: String,
    pub pids: Vec<u32>,
}

/// The pid of a `worker NAME at ADDRESS (N threads), pid PID` line.
pub fn worker_pid(line: &str) -> u32 {
    line.rsplit(", pid ").next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("not a worker line: {line}"))
}

/// Starts `blockwork cluster --port 0 --workers N ARGS…` and waits for its
/// scheduler line and its `workers` worker lines.
pub fn start_cluster(workers: usize, args: &[&std::ffi::OsStr]) -> Cluster {
    let mut child = blockwork()
        .args(["cluster", "--port", "0", "--workers", &workers.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = lines_of(child.stdout.take().unwrap());
    let next = || stdout.recv_timeout(Duration::from_secs(120)).expect("a line of the cluster");
    let address = next().trim_start_matches("scheduler at tcp://").to_string();
    let pids = (0..workers).map(|_| worker_pid(&next())).collect();
    Cluster { process: Terminated(child), stdin, stdout, address, pids }
}
