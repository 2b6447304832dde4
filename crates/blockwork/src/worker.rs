//! A process as a worker of a cluster: [`worker_main`] for a user's own
//! binary, [`WorkerCommand`] for anything that has parsed its own
//! arguments (the `blockwork worker` command).
//!
//! A worker process registers every built-in function and codec, joins
//! the scheduler, prints `worker NAME at ADDRESS (N threads)` on standard
//! output once it has joined, and serves until it is retired (exit 0) or
//! its scheduler goes away (exit 1). Ctrl-C, SIGTERM and the end of
//! `--lifetime` retire it gracefully: the scheduler moves the results
//! only it holds to other workers first; a second Ctrl-C or SIGTERM stops
//! it at once.

use std::ffi::OsString;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use blockwork_runtime::{serve_worker, RuntimeError, WorkerOptions};

/// The environment variable a worker (and `blockwork scheduler` and
/// `blockwork cluster`) reads its token from when no `--token` is given:
/// unlike a command line, a process's environment is private to its user.
pub const TOKEN_VAR: &str = "BLOCKWORK_TOKEN";

/// The arguments [`worker_main`] understands, after the program's name.
pub const WORKER_USAGE: &str =
    "worker tcp://HOST:PORT [--nthreads N] [--name NAME] [--memory-limit SIZE] [--local-directory DIR] [--resources NAME=AMOUNT,…] [--token TOKEN] \
[--interface NAME] [--lifetime DURATION [--lifetime-stagger DURATION]] [--tls-ca-file CA.pem --tls-cert CERT.pem --tls-key KEY.pem]";

/// What each worker flag means: the help of `blockwork worker`, of
/// `python -m blockwork worker` and of a user's binary calling
/// [`worker_main`] (one parser, [`WorkerCommand::from_args`], reads them all).
pub const WORKER_HELP: &str = "  tcp://HOST:PORT          the scheduler (or HOST:PORT)
  --nthreads N             threads running tasks (default: one per core)
  --name NAME              the worker's name (default: worker-PID)
  --memory-limit SIZE      memory it may use, e.g. 4GiB: above 60% of it values spill to the
                           local directory, above 80% of it (the process) new tasks wait
  --local-directory DIR    where values are spilled (default: under the system's temporary
                           directory); the worker's files are removed when it stops
  --resources NAME=AMOUNT,...
                           abstract resources it offers, e.g. GPU=2,MEM=8e9: tasks asking for
                           some run only where they are free
  --token TOKEN            the token the scheduler asks for; better given as the environment
                           variable BLOCKWORK_TOKEN, which other users cannot read (a command
                           line they can, in the process list)
  --interface NAME         the network interface (e.g. ib0) to listen on and to be reached at
  --lifetime DURATION      retire gracefully after this long (e.g. 55m, below a job's walltime):
                           the scheduler moves its results to other workers, then it exits
  --lifetime-stagger DURATION
                           spread lifetimes by up to this much either way, so that workers
                           started together do not all leave at once
  --tls-ca-file CA.pem --tls-cert CERT.pem --tls-key KEY.pem
                           TLS on every connection (all three, or none)";

/// If this process was started as `<program> worker tcp://HOST:PORT
/// [--nthreads N] [--name NAME] [--memory-limit SIZE] [--local-directory DIR]
/// [--token TOKEN]`,
/// serves as a worker of that scheduler and then **exits the process**;
/// otherwise returns at once, and the program goes on.
///
/// Call it first thing in `main`, after registering your own
/// [`NamedFn`](crate::graph::NamedFn)s, so that the same binary that
/// builds graphs runs their tasks on a cluster's workers. The built-in
/// functions are registered here. The worker stops on Ctrl-C or SIGTERM
/// (exit status 0) or when the scheduler goes away (status 1); bad
/// arguments print the usage (status 2). Defaults: one thread per core,
/// the name `worker-PID`, no memory limit, no token.
///
/// It installs the process's Ctrl-C handler, so nothing else may have
/// installed one before.
pub fn worker_main() {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_none_or(|a| a != "worker") {
        return;
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("usage: {} {WORKER_USAGE}\n\n{WORKER_HELP}", program());
        std::process::exit(0);
    }
    let command = match WorkerCommand::from_args(&args[1..]) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}\nusage: {} {WORKER_USAGE}", program());
            std::process::exit(2);
        }
    };
    match command.run() {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

fn program() -> String {
    std::env::args_os().next().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|| "<program>".into())
}

/// A worker process's settings, checked: what `worker ...` arguments
/// mean.
#[derive(Clone, Debug)]
pub struct WorkerCommand {
    /// The scheduler, `host:port`.
    pub scheduler: String,
    /// Threads running tasks (at least one).
    pub nthreads: u32,
    /// The worker's name.
    pub name: String,
    /// Memory it may use, bytes; 0 for no limit (reported to the scheduler).
    pub memory_limit: u64,
    /// Where values are spilled when memory is short (default: a
    /// directory of its own under the system's temporary directory).
    pub local_directory: Option<std::path::PathBuf>,
    /// Abstract resources it offers (`--resources GPU=2,MEM=8e9`).
    pub resources: Vec<(String, f64)>,
    /// The token the scheduler asks for.
    pub token: Option<String>,
    /// TLS files, when the cluster uses TLS.
    pub tls: Option<blockwork_runtime::TlsFiles>,
    /// Retire gracefully after this long (`--lifetime`).
    pub lifetime: Option<Duration>,
    /// Spread of the lifetime either way (`--lifetime-stagger`).
    pub lifetime_stagger: Duration,
    /// The network interface whose address it listens on and is reached
    /// at (`--interface ib0`); by default every interface, reached at the
    /// address it reaches the scheduler from.
    pub interface: Option<String>,
}

/// The address of network interface `name` (`eth0`, `ib0`): its IPv4
/// address, else its first. An unknown name is an error that lists the
/// interfaces there are.
pub fn interface_address(name: &str) -> Result<std::net::IpAddr, WorkerCommandError> {
    let all = if_addrs::get_if_addrs().map_err(WorkerCommandError::Interfaces)?;
    let mine: Vec<std::net::IpAddr> = all.iter().filter(|i| i.name == name).map(|i| i.ip()).collect();
    mine.iter().find(|ip| ip.is_ipv4()).or(mine.first()).copied().ok_or_else(|| {
        let mut names: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        WorkerCommandError::Usage(format!("no network interface {name:?} here (there are: {})", names.join(", ")))
    })
}

/// Why a worker process could not start or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum WorkerCommandError {
    /// The arguments are wrong; the message names the one at fault.
    #[error("{0}")]
    Usage(String),
    /// The Ctrl-C / SIGTERM handler could not be installed.
    #[error("cannot install the Ctrl-C handler: {0}")]
    Signal(#[source] ctrlc::Error),
    /// The system would not list its network interfaces.
    #[error("cannot list the network interfaces: {0}")]
    Interfaces(#[source] std::io::Error),
    /// The worker could not join the scheduler.
    #[error("joining the scheduler at {scheduler}: {source}")]
    Join {
        /// The scheduler's address.
        scheduler: String,
        /// Why.
        source: RuntimeError,
    },
    /// The scheduler went away (it stopped, or the connection broke).
    #[error("worker {name}: the scheduler at {scheduler} is gone")]
    SchedulerGone {
        /// The worker's name.
        name: String,
        /// The scheduler's address.
        scheduler: String,
    },
}

impl WorkerCommand {
    /// Defaults for a worker of `scheduler` (`tcp://HOST:PORT` or
    /// `HOST:PORT`): one thread per core, the name `worker-PID`, no
    /// memory limit, no token.
    pub fn new(scheduler: &str) -> WorkerCommand {
        WorkerCommand {
            scheduler: scheduler.trim_start_matches("tcp://").to_string(),
            nthreads: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
            name: format!("worker-{}", std::process::id()),
            memory_limit: 0,
            local_directory: None,
            resources: Vec::new(),
            token: None,
            tls: None,
            lifetime: None,
            lifetime_stagger: Duration::ZERO,
            interface: None,
        }
    }

    /// Reads the arguments after `worker`: the scheduler's address, then
    /// `--nthreads N`, `--name NAME`, `--memory-limit SIZE`,
    /// `--local-directory DIR`, `--token T`
    /// (each also as `--flag=value`). Without `--token`, the token is the
    /// environment's `BLOCKWORK_TOKEN`, if set.
    pub fn from_args(args: &[OsString]) -> Result<WorkerCommand, WorkerCommandError> {
        WorkerCommand::from_args_and_token(args, std::env::var(TOKEN_VAR).ok().filter(|t| !t.is_empty()))
    }

    /// [`WorkerCommand::from_args`] with the environment's token given.
    fn from_args_and_token(args: &[OsString], env_token: Option<String>) -> Result<WorkerCommand, WorkerCommandError> {
        let usage = |m: String| WorkerCommandError::Usage(m);
        let mut strings = Vec::with_capacity(args.len());
        for a in args {
            let s = a.to_str().ok_or_else(|| usage(format!("argument {a:?} is not valid UTF-8")))?;
            match s.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => strings.extend([flag, value]),
                _ => strings.push(s),
            }
        }
        let mut it = strings.into_iter();
        let scheduler = match it.next() {
            Some(s) if !s.starts_with("--") => s,
            _ => return Err(usage("the scheduler's address (tcp://HOST:PORT) comes first".into())),
        };
        let mut command = WorkerCommand::new(scheduler);
        let mut tls: [Option<std::path::PathBuf>; 3] = [None, None, None];
        while let Some(flag) = it.next() {
            let value = match flag {
                "--nthreads" | "--name" | "--memory-limit" | "--local-directory" | "--resources" | "--token"
                | "--tls-ca-file" | "--tls-cert" | "--tls-key" | "--lifetime" | "--lifetime-stagger"
                | "--interface" => it.next().ok_or_else(|| usage(format!("{flag} needs a value")))?,
                other => return Err(usage(format!("unknown argument {other:?}"))),
            };
            match flag {
                "--nthreads" => {
                    command.nthreads = match value.parse::<u32>() {
                        Ok(n) if n > 0 => n,
                        _ => return Err(usage(format!("--nthreads wants a positive number, not {value:?}"))),
                    }
                }
                "--name" => command.name = value.to_string(),
                "--memory-limit" => command.memory_limit = WorkerCommand::parse_memory_limit(value)?,
                "--local-directory" => command.local_directory = Some(value.into()),
                "--resources" => command.resources = WorkerCommand::parse_resources(value)?,
                "--tls-ca-file" => tls[0] = Some(value.into()),
                "--tls-cert" => tls[1] = Some(value.into()),
                "--tls-key" => tls[2] = Some(value.into()),
                "--lifetime" => command.lifetime = Some(WorkerCommand::parse_duration(flag, value)?),
                "--lifetime-stagger" => command.lifetime_stagger = WorkerCommand::parse_duration(flag, value)?,
                "--interface" => command.interface = Some(value.to_string()),
                _ => command.token = Some(value.to_string()),
            }
        }
        if command.token.is_none() {
            command.token = env_token;
        }
        command.tls = match tls {
            [Some(ca), Some(cert), Some(key)] => Some(blockwork_runtime::TlsFiles { ca, cert, key }),
            [None, None, None] => None,
            _ => return Err(usage("--tls-ca-file, --tls-cert and --tls-key go together".into())),
        };
        Ok(command)
    }

    /// Reads a memory limit such as `4GiB` or `500MB` into bytes.
    /// Reads `NAME=AMOUNT,NAME=AMOUNT` (amounts finite and ≥ 0).
    pub fn parse_resources(s: &str) -> Result<Vec<(String, f64)>, WorkerCommandError> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                let bad = || {
                    WorkerCommandError::Usage(format!(
                        "--resources wants NAME=AMOUNT pairs like GPU=2,MEM=8e9, not {p:?}"
                    ))
                };
                let (name, amount) = p.split_once('=').ok_or_else(bad)?;
                match amount.trim().parse::<f64>() {
                    Ok(a) if a.is_finite() && a >= 0.0 && !name.trim().is_empty() => Ok((name.trim().to_string(), a)),
                    _ => Err(bad()),
                }
            })
            .collect()
    }

    /// Reads a duration like `55m`, `3600s`, `1h` or a number of seconds.
    pub fn parse_duration(flag: &str, s: &str) -> Result<Duration, WorkerCommandError> {
        blockwork_runtime::http::parse_duration(s)
            .ok_or_else(|| WorkerCommandError::Usage(format!("{flag} wants a duration like 55m or 3600s, not {s:?}")))
    }

    /// The lifetime with its stagger applied: uniform in `lifetime ±
    /// stagger` (never below one second), drawn from the clock and the
    /// process id so that workers started together differ.
    pub fn staggered_lifetime(&self) -> Option<Duration> {
        let lifetime = self.lifetime?;
        if self.lifetime_stagger.is_zero() {
            return Some(lifetime);
        }
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let mut x = u64::from(nanos) ^ (u64::from(std::process::id()) << 32) ^ 0x9E37_79B9_7F4A_7C15;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        let unit = (x >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        let offset = (2.0 * unit - 1.0) * self.lifetime_stagger.as_secs_f64();
        Some(Duration::from_secs_f64((lifetime.as_secs_f64() + offset).max(1.0)))
    }

    /// Reads a memory limit like `4GiB`.
    pub fn parse_memory_limit(s: &str) -> Result<u64, WorkerCommandError> {
        blockwork_array::parse_bytes(s)
            .map(|b| b as u64)
            .ok_or_else(|| WorkerCommandError::Usage(format!("cannot read the memory limit {s:?}; write e.g. 4GiB")))
    }

    /// Registers the built-in functions, joins the scheduler, prints
    /// `worker NAME at ADDRESS (N threads)` and serves until Ctrl-C or
    /// SIGTERM (`Ok`) or until the scheduler goes away (an error).
    /// Installs the process's Ctrl-C handler.
    pub fn run(&self) -> Result<(), WorkerCommandError> {
        crate::register_builtins();
        let signals = Arc::new(AtomicU32::new(0));
        let s = Arc::clone(&signals);
        ctrlc::set_handler(move || {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .map_err(WorkerCommandError::Signal)?;
        let mut options = WorkerOptions::new(self.nthreads, self.name.clone());
        options.memory_limit = self.memory_limit;
        options.local_directory = self.local_directory.clone();
        options.resources = self.resources.clone();
        options.tls = self.tls.clone();
        options.token = self.token.clone();
        options.lifetime = self.staggered_lifetime();
        if let Some(name) = &self.interface {
            options.listen = match interface_address(name)? {
                std::net::IpAddr::V4(ip) => format!("{ip}:0"),
                std::net::IpAddr::V6(ip) => format!("[{ip}]:0"),
            };
        }
        let served = serve_worker(&self.scheduler, options)
            .map_err(|source| WorkerCommandError::Join { scheduler: self.scheduler.clone(), source })?;
        println!("worker {} at {} ({} threads)", self.name, served.handle().address(), self.nthreads);
        let mut asked = false;
        loop {
            std::thread::sleep(Duration::from_millis(100));
            if !served.is_serving() {
                if served.handle().close_reason().is_some() || asked {
                    return Ok(()); // retired (or gone after asking to be)
                }
                let (name, scheduler) = (self.name.clone(), self.scheduler.clone());
                return Err(WorkerCommandError::SchedulerGone { name, scheduler });
            }
            match signals.load(Ordering::SeqCst) {
                0 => {}
                1 if !asked => {
                    tracing::info!("worker {}: retiring (its results move to other workers first)", self.name);
                    served.handle().retire();
                    asked = true;
                }
                1 => {}
                _ => {
                    tracing::info!("worker {}: stopping", self.name);
                    return Ok(());
                }
            }
        }
    }
}

impl blockwork_graph::Fault for WorkerCommandError {
    fn kind(&self) -> blockwork_graph::ErrorKind {
        use blockwork_graph::ErrorKind::*;
        match self {
            WorkerCommandError::Usage(_) => User,
            WorkerCommandError::Signal(_)
            | WorkerCommandError::Interfaces(_)
            | WorkerCommandError::SchedulerGone { .. } => Environment,
            WorkerCommandError::Join { source, .. } => blockwork_graph::Fault::kind(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<WorkerCommand, WorkerCommandError> {
        WorkerCommand::from_args(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn arguments_become_settings() {
        let c = parse(&["tcp://h:1", "--nthreads", "3", "--name=w", "--memory-limit", "2KiB", "--token", "t"]).unwrap();
        assert_eq!(c.local_directory, None);
        let r = parse(&["h:1", "--resources", "GPU=2,MEM=8e9"]).unwrap();
        assert_eq!(r.resources, vec![("GPU".to_string(), 2.0), ("MEM".to_string(), 8e9)]);
        assert!(parse(&["h:1", "--resources", "GPU"]).is_err());
        assert!(parse(&["h:1", "--resources", "GPU=-1"]).is_err());
        let t = parse(&["h:1", "--tls-ca-file", "ca.pem", "--tls-cert", "c.pem", "--tls-key", "k.pem"]).unwrap();
        assert_eq!(t.tls.map(|f| f.key), Some(std::path::PathBuf::from("k.pem")));
        assert!(parse(&["h:1", "--tls-cert", "c.pem"]).is_err(), "the three go together");
        let d = parse(&["h:1", "--local-directory", "/scratch/w"]).unwrap();
        assert_eq!(d.local_directory.as_deref(), Some(std::path::Path::new("/scratch/w")));
        assert_eq!((c.scheduler.as_str(), c.nthreads, c.name.as_str()), ("h:1", 3, "w"));
        assert_eq!((c.memory_limit, c.token.as_deref()), (2048, Some("t")));
        // The environment's token when the flag is absent; the flag wins.
        let os = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        let c = WorkerCommand::from_args_and_token(&os(&["tcp://h:1"]), Some("env".into())).unwrap();
        assert_eq!(c.token.as_deref(), Some("env"));
        let c = WorkerCommand::from_args_and_token(&os(&["tcp://h:1", "--token", "flag"]), Some("env".into())).unwrap();
        assert_eq!(c.token.as_deref(), Some("flag"));
        let l = parse(&["h:1", "--lifetime", "55m", "--lifetime-stagger=4m"]).unwrap();
        assert_eq!((l.lifetime, l.lifetime_stagger), (Some(Duration::from_secs(3300)), Duration::from_secs(240)));
        for _ in 0..20 {
            let d = l.staggered_lifetime().unwrap().as_secs_f64();
            assert!((3060.0..=3540.0).contains(&d), "{d}");
        }
        let c = parse(&["h:2"]).unwrap();
        assert_eq!((c.scheduler.as_str(), c.memory_limit, c.token), ("h:2", 0, None));
        assert!(c.nthreads >= 1 && c.name.starts_with("worker-"));
    }

    #[test]
    fn bad_arguments_are_named() {
        let msg = |args: &[&str]| parse(args).unwrap_err().to_string();
        assert!(msg(&[]).contains("address"));
        assert!(msg(&["--nthreads", "2"]).contains("address"));
        assert!(msg(&["h:1", "--nthreads", "0"]).contains("\"0\""));
        assert!(msg(&["h:1", "--nthreads", "many"]).contains("\"many\""));
        assert!(msg(&["h:1", "--memory-limit", "lots"]).contains("\"lots\""));
        assert!(msg(&["h:1", "--name"]).contains("--name needs a value"));
        assert!(msg(&["h:1", "--colour", "red"]).contains("\"--colour\""));
        assert!(msg(&["h:1", "--lifetime", "soon"]).contains("--lifetime wants a duration"));
        assert_eq!(parse(&["h:1", "--interface", "lo"]).unwrap().interface.as_deref(), Some("lo"));
        assert_eq!(interface_address("lo").unwrap(), std::net::IpAddr::from([127, 0, 0, 1]));
        let e = interface_address("nope0").unwrap_err().to_string();
        assert!(e.contains("no network interface \"nope0\"") && e.contains("lo"), "{e}");
    }
}
