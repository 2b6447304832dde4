//! `blockwork cluster`: a scheduler in this process and worker processes
//! (this executable's `worker` command), scaled from standard input.
//!
//! ```text
//!  blockwork cluster ── the scheduler, tcp://HOST:PORT ◀── clients
//!     │  starts, SIGTERMs       ▲ registers
//!     ├─ blockwork worker tcp://127.0.0.1:PORT --name worker-0 …
//!     └─ blockwork worker tcp://127.0.0.1:PORT --name worker-1 …
//!  standard input: `scale N` · `status` · `help`
//! ```
//!
//! One loop owns the children. It wakes for a line on standard input or
//! on a worker's standard output (a thread reads each), and every 100 ms
//! to notice Ctrl-C / SIGTERM and workers that exited (logged, not
//! restarted). Workers run in process groups of their own, so a Ctrl-C
//! at the terminal reaches only this process, which stops them in order:
//! the workers (SIGTERM, then a kill after five seconds), then the
//! scheduler. A worker left behind by a cluster that was killed stops by
//! itself once it notices that the scheduler is gone.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use blockwork::distributed::{serve_scheduler, SchedulerOptions};

/// How long a worker gets between SIGTERM and being killed.
const GRACE: Duration = Duration::from_secs(5);

const COMMANDS: &str = "commands: scale N (start or stop workers until N run), status, help";

/// Options of `blockwork cluster`.
#[derive(clap::Args)]
pub struct ClusterArgs {
    /// Worker processes to start (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Threads per worker.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    nthreads: u32,
    /// Port the scheduler listens on (0 picks a free one).
    #[arg(long, default_value_t = 8786)]
    port: u16,
    /// Interface the scheduler listens on (0.0.0.0 lets other machines'
    /// clients and workers in).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Memory each worker may use, e.g. `4GiB` (spilling above 60% of it,
    /// pausing above 80%).
    #[arg(long)]
    memory_limit: Option<String>,
    /// Where the workers spill values (default: under the system's
    /// temporary directory).
    #[arg(long)]
    local_directory: Option<String>,
    /// Abstract resources each worker offers, e.g. `GPU=1`.
    #[arg(long)]
    resources: Option<String>,
    /// A token every client and worker must present (default: the
    /// environment's BLOCKWORK_TOKEN); the workers get it through their
    /// environment, never their command line.
    #[arg(long)]
    token: Option<String>,
    #[command(flatten)]
    tls: crate::serve::TlsArgs,
}

pub fn run(args: ClusterArgs) -> anyhow::Result<()> {
    // The scheduler relays gathered values to clients, so it decodes them.
    blockwork::register_builtins();
    if let Some(m) = &args.memory_limit {
        blockwork::WorkerCommand::parse_memory_limit(m)?;
    }
    let stop = crate::serve::stop_flag()?;
    let listen = host_port(&args.host, args.port);
    let token = crate::serve::token_of(args.token.clone());
    let options = SchedulerOptions { token: token.clone(), tls: args.tls.files(), ..SchedulerOptions::default() };
    let (served, addr) =
        serve_scheduler(&listen, options).with_context(|| format!("starting a scheduler on {listen}"))?;
    say(format_args!("scheduler at tcp://{addr}"));

    let (events, rx) = mpsc::channel();
    read_lines(std::io::stdin(), events.clone(), Event::Input);
    let mut workers = Workers::new(&args, addr, events)?;
    let n = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if let Err(e) = workers.scale(n) {
        workers.scale_down(0);
        return Err(e);
    }
    while !stop.load(Ordering::SeqCst) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Event::Input(line)) => workers.command(&line),
            Ok(Event::Said(pid, line)) => workers.said(pid, line),
            Err(_) => {}
        }
        workers.reap();
    }
    tracing::info!("cluster stopping");
    workers.scale_down(0);
    drop(served);
    Ok(())
}

/// What wakes the loop.
enum Event {
    /// A line typed on standard input.
    Input(String),
    /// A line a worker printed: its process id, the line.
    Said(u32, String),
}

/// A command typed on standard input.
#[derive(Debug, PartialEq)]
enum Input {
    Scale(usize),
    Status,
    Help,
}

/// Reads one line of standard input; `None` for a blank one.
fn parse_input(line: &str) -> Result<Option<Input>, String> {
    match line.split_whitespace().collect::<Vec<_>>().as_slice() {
        [] => Ok(None),
        ["scale", n] => {
            n.parse().map(|n| Some(Input::Scale(n))).map_err(|_| format!("scale wants a number of workers, not {n:?}"))
        }
        ["scale", ..] => Err("scale wants one number of workers, e.g. scale 4".into()),
        ["status"] => Ok(Some(Input::Status)),
        ["help"] => Ok(Some(Input::Help)),
        _ => Err(format!("unknown command {:?}; {COMMANDS}", line.trim())),
    }
}

/// The worker processes, oldest first.
struct Workers {
    exe: PathBuf,
    /// The arguments of every worker after `worker`, but its name.
    args: Vec<String>,
    /// The token, handed to each worker in its environment.
    token: Option<String>,
    running: Vec<Proc>,
    /// Workers started so far: the next one's number.
    started: usize,
    events: mpsc::Sender<Event>,
}

struct Proc {
    name: String,
    child: Child,
    /// The line it printed once it joined.
    joined: Option<String>,
}

impl Workers {
    fn new(args: &ClusterArgs, scheduler: SocketAddr, events: mpsc::Sender<Event>) -> anyhow::Result<Workers> {
        let exe = std::env::current_exe().context("finding this executable, to start workers with")?;
        // Workers run here: a scheduler listening everywhere is reached
        // on loopback.
        let mut reach = scheduler;
        if reach.ip().is_unspecified() {
            reach.set_ip(if reach.is_ipv4() {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            });
        }
        let mut worker_args = vec![format!("tcp://{reach}"), "--nthreads".into(), args.nthreads.to_string()];
        if let Some(m) = &args.memory_limit {
            worker_args.extend(["--memory-limit".into(), m.clone()]);
        }
        if let Some(d) = &args.local_directory {
            worker_args.extend(["--local-directory".into(), d.clone()]);
        }
        if let Some(r) = &args.resources {
            blockwork::WorkerCommand::parse_resources(r)?;
            worker_args.extend(["--resources".into(), r.clone()]);
        }
        worker_args.extend(args.tls.to_args());
        let token = crate::serve::token_of(args.token.clone());
        Ok(Workers { exe, args: worker_args, token, running: Vec::new(), started: 0, events })
    }

    /// Starts one worker process; it says when it has joined.
    fn start(&mut self) -> anyhow::Result<()> {
        let name = format!("worker-{}", self.started);
        self.started += 1;
        let mut cmd = Command::new(&self.exe);
        cmd.arg("worker").args(&self.args).args(["--name", &name]).stdin(Stdio::null()).stdout(Stdio::piped());
        // In its environment, not on its command line (which every user
        // of the machine can read in the process list).
        match &self.token {
            Some(t) => cmd.env(blockwork::TOKEN_VAR, t),
            None => cmd.env_remove(blockwork::TOKEN_VAR),
        };
        own_process_group(&mut cmd);
        let mut child = cmd.spawn().with_context(|| format!("starting {name} ({})", self.exe.display()))?;
        let pid = child.id();
        if let Some(out) = child.stdout.take() {
            read_lines(out, self.events.clone(), move |line| Event::Said(pid, line));
        }
        self.running.push(Proc { name, child, joined: None });
        Ok(())
    }

    /// Starts or stops workers until `n` run; stops the newest first.
    /// Workers that exited meanwhile are forgotten first, so that one
    /// killed just before is replaced rather than counted.
    fn scale(&mut self, n: usize) -> anyhow::Result<()> {
        self.reap();
        while self.running.len() < n {
            self.start()?;
        }
        self.scale_down(n);
        Ok(())
    }

    /// Stops the newest workers until at most `n` run: SIGTERM to each,
    /// then a kill for those still there after [`GRACE`].
    fn scale_down(&mut self, n: usize) {
        let mut stopping = self.running.split_off(n.min(self.running.len()));
        for p in &mut stopping {
            terminate(&mut p.child);
        }
        let deadline = Instant::now() + GRACE;
        while !stopping.is_empty() {
            stopping.retain_mut(|p| match p.child.try_wait() {
                Ok(Some(status)) if status.success() => {
                    say(format_args!("worker {} stopped", p.name));
                    false
                }
                Ok(Some(status)) => {
                    say(format_args!("worker {} stopped ({status})", p.name));
                    false
                }
                Ok(None) if Instant::now() < deadline => true,
                _ => {
                    let _ = p.child.kill();
                    let _ = p.child.wait();
                    tracing::warn!("cluster: worker {} did not stop within {GRACE:?}; killed", p.name);
                    false
                }
            });
            if !stopping.is_empty() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Forgets the workers that exited by themselves, with a log line.
    fn reap(&mut self) {
        self.running.retain_mut(|p| match p.child.try_wait() {
            Ok(Some(status)) => {
                let pid = p.child.id();
                tracing::warn!("cluster: worker {} (pid {pid}) exited unexpectedly ({status}); not restarted", p.name);
                false
            }
            Ok(None) => true,
            Err(e) => {
                tracing::warn!("cluster: cannot check on worker {}: {e}", p.name);
                true
            }
        });
    }

    /// Acts on a line of standard input; a bad one is reported and the
    /// cluster goes on.
    fn command(&mut self, line: &str) {
        match parse_input(line) {
            Ok(None) => {}
            Ok(Some(Input::Scale(n))) => {
                if let Err(e) = self.scale(n) {
                    eprintln!("error: {e:#}");
                }
            }
            Ok(Some(Input::Status)) => self.status(),
            Ok(Some(Input::Help)) => say(COMMANDS),
            Err(e) => eprintln!("error: {e}"),
        }
    }

    /// Passes on a worker's line, with its process id on the first (the
    /// worker's `worker NAME at ADDRESS (N threads)`).
    fn said(&mut self, pid: u32, line: String) {
        match self.running.iter_mut().find(|p| p.child.id() == pid && p.joined.is_none()) {
            Some(p) => {
                say(format_args!("{line}, pid {pid}"));
                p.joined = Some(line);
            }
            None => say(line),
        }
    }

    fn status(&self) {
        say(format_args!("{} workers", self.running.len()));
        for p in &self.running {
            let at = p.joined.as_deref().and_then(|l| l.split(" at ").nth(1)).and_then(|s| s.split_whitespace().next());
            match at {
                Some(at) => say(format_args!("  {} pid {} at {at}", p.name, p.child.id())),
                None => say(format_args!("  {} pid {} starting", p.name, p.child.id())),
            }
        }
    }
}

/// Sends each line of `from` (lossily decoded) to the loop, on a thread
/// of its own, until it ends or fails.
fn read_lines(
    from: impl Read + Send + 'static,
    events: mpsc::Sender<Event>,
    wrap: impl Fn(String) -> Event + Send + 'static,
) {
    std::thread::spawn(move || {
        let mut from = BufReader::new(from);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match from.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf).trim_end_matches(['\r', '\n']).to_string();
                    if events.send(wrap(line)).is_err() {
                        return;
                    }
                }
            }
        }
    });
}

/// Asks a child to stop with SIGTERM (through `kill`: this crate has no
/// signal API of its own), or kills it where that is not possible.
fn terminate(child: &mut Child) {
    if cfg!(unix) {
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).stderr(Stdio::null()).status();
        if sent.is_ok_and(|s| s.success()) {
            return;
        }
    }
    let _ = child.kill();
}

#[cfg(unix)]
fn own_process_group(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
}

#[cfg(not(unix))]
fn own_process_group(_: &mut Command) {}

/// `host:port`, with an IPv6 host in brackets.
pub(crate) fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Writes a line to standard output; a closed output is not an error
/// worth stopping the cluster for.
fn say(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_lines_become_commands_or_errors() {
        assert_eq!(parse_input("  scale 3 "), Ok(Some(Input::Scale(3))));
        assert_eq!(parse_input("status"), Ok(Some(Input::Status)));
        assert_eq!(parse_input("help"), Ok(Some(Input::Help)));
        assert_eq!(parse_input(" \t"), Ok(None));
        assert!(parse_input("scale abc").unwrap_err().contains("\"abc\""));
        assert!(parse_input("scale -1").unwrap_err().contains("\"-1\""));
        assert!(parse_input("scale").unwrap_err().contains("one number"));
        assert!(parse_input("grow 2").unwrap_err().contains("\"grow 2\""));
    }

    #[test]
    fn ipv6_hosts_get_brackets() {
        assert_eq!(host_port("::", 1), "[::]:1");
        assert_eq!(host_port("[::1]", 2), "[::1]:2");
        assert_eq!(host_port("127.0.0.1", 3), "127.0.0.1:3");
    }
}
