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

/// Whether process `pid` runs: it exists and is not a zombie (one that
/// exited but whose parent has not reaped it yet).
pub fn alive(pid: u32) -> bool {
    // The state is the field after the parenthesized command name.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with(|c| c != 'Z' && c != 'X')))
        .unwrap_or(false)
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
/// workers' pids in the order they joined. Its log (standard error) goes
/// to a file, printed when the test fails.
pub struct Cluster {
    pub process: Terminated,
    pub stdin: std::process::ChildStdin,
    pub stdout: std::sync::mpsc::Receiver<String>,
    pub address: String,
    pub pids: Vec<u32>,
    log: std::path::PathBuf,
}

/// The pid of a `worker NAME at ADDRESS (N threads), pid PID` line.
pub fn worker_pid(line: &str) -> u32 {
    line.rsplit(", pid ").next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("not a worker line: {line}"))
}

/// Starts `blockwork cluster --port 0 --workers N ARGS…` and waits for its
/// scheduler line and its `workers` worker lines.
pub fn start_cluster(workers: usize, args: &[&std::ffi::OsStr]) -> Cluster {
    static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = std::env::temp_dir().join(format!("bw-test-cluster-{}-{n}.log", std::process::id()));
    let mut child = blockwork()
        .args(["cluster", "--port", "0", "--workers", &workers.to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let stdout = lines_of(child.stdout.take().unwrap());
    let next = || stdout.recv_timeout(Duration::from_secs(120)).expect("a line of the cluster");
    let address = next().trim_start_matches("scheduler at tcp://").to_string();
    let pids = (0..workers).map(|_| worker_pid(&next())).collect();
    Cluster { process: Terminated(child), stdin, stdout, address, pids, log }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(80)..];
            eprintln!("the cluster's log, last {} lines:\n{}", tail.len(), tail.join("\n"));
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Runs `f` on a thread of its own and waits at most `limit` for it: a
/// test that would hang fails instead, saying `what` did not finish; a
/// panic in `f` is the test's.
pub fn within<T: Send + 'static>(limit: Duration, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("{what} did not finish within {limit:?}"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the thread sent nothing and did not panic"),
        },
    }
}
