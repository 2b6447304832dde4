//! The `blockwork` command as a user runs it.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{alive, blockwork, lines_of, wait_within, Terminated};

#[test]
fn demo_runs_and_writes_a_profile() {
    let profile = std::env::temp_dir().join(format!("bw-cli-profile-{}.html", std::process::id()));
    let out =
        blockwork().args(["demo", "--n", "20000", "--array-n", "400", "--profile"]).arg(&profile).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("warmest day 29"), "{stdout}");
    assert!(stdout.contains("result 20000"), "{stdout}");
    assert!(stdout.contains("(x.dot(x.T + 1) - x.mean()).std() for ones((200, 200)) = 0 in"), "{stdout}");
    let html = std::fs::read_to_string(&profile).unwrap();
    assert!(html.contains("blockwork profile"));
    let _ = std::fs::remove_file(profile);
}

#[test]
fn climate_demo_makes_a_pile_then_an_anomaly_on_a_cluster() {
    let dir = std::env::temp_dir().join(format!("bw-cli-climate-{}", std::process::id()));
    let run = |workers: &str| {
        let out = blockwork()
            .current_dir(std::env::temp_dir())
            .args(["demo", "climate", "--start-year", "2017", "--end-year", "2018", "--clim-start", "2017"])
            .args(["--clim-end", "2017", "--year", "2018", "--workers", workers, "--dir"])
            .arg(dir.join("pile"))
            .arg("--out")
            .arg(dir.join("anomaly.nc"))
            .arg("--png")
            .arg(dir.join("anomaly.png"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    let on_cluster = run("2");
    assert_eq!(std::fs::read_dir(dir.join("pile")).unwrap().count(), 24, "one file per month");
    // The trend of the synthetic pile: 0.02 K a year, so 2018 is 0.02 K above 2017.
    for season in ["DJF", "JJA", "MAM", "SON"] {
        let line = on_cluster.lines().find(|l| l.trim_start().starts_with(season)).unwrap();
        let k: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!((k - 0.02).abs() < 0.01, "{line}");
    }
    assert!(dir.join("anomaly.png").exists() && dir.join("anomaly.nc").exists());
    // The pile is made once; on threads the numbers are the same.
    let on_threads = run("0");
    let means = |s: &str| s.lines().filter(|l| l.contains(" K")).map(String::from).collect::<Vec<_>>();
    assert_eq!(means(&on_cluster), means(&on_threads));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn ctrl_c_cancels_the_demo() {
    let mut child = blockwork()
        .args(["demo", "--n", "1000000", "--profile", "/dev/null"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        if line.unwrap().starts_with("== 2.") {
            break;
        }
    }
    let t0 = Instant::now();
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("the computation was cancelled"), "{stderr}");
    assert!(t0.elapsed() < Duration::from_secs(60));
}

#[test]
fn help_lists_the_demo() {
    let out = blockwork().arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("demo"));
}

/// A scheduler and two worker processes started with the CLI compute an
/// array expression sent by a client in this process.
#[test]
fn scheduler_and_workers_as_processes() {
    use blockwork::array as bwa;
    blockwork::register_builtins();
    let mut sched =
        blockwork().args(["scheduler", "--port", "0", "--host", "127.0.0.1"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(sched.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("scheduler at ").to_string();
    assert!(addr.starts_with("tcp://127.0.0.1:"), "{line}");
    let mut workers: Vec<_> = (0..2)
        .map(|i| {
            let mut w = blockwork()
                .args(["worker", &addr, "--nthreads", "1", "--name", &format!("w{i}")])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut l = String::new();
            BufReader::new(w.stdout.take().unwrap()).read_line(&mut l).unwrap();
            assert!(l.starts_with(&format!("worker w{i} at ")), "{l}");
            w
        })
        .collect();
    let client = blockwork::distributed::Client::connect(addr.trim_start_matches("tcp://")).unwrap();
    let x = bwa::random::random(&[90, 90], [30, 30], 11).unwrap();
    let y = (&x * 2.0).sub(x.mean_axis(1).unwrap().expand_dims(1).unwrap()).unwrap();
    let got = y.assemble(client.compute(y.graph().unwrap(), &y.keys()).unwrap()).unwrap();
    let want = y.compute().unwrap();
    assert!(got.iter().zip(want.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
    drop(client);
    for w in &mut workers {
        let _ = Command::new("kill").args(["-INT", &w.id().to_string()]).status();
        assert!(w.wait().unwrap().success());
    }
    let _ = Command::new("kill").args(["-INT", &sched.id().to_string()]).status();
    assert!(sched.wait().unwrap().success());
}

/// `blockwork cluster` starts a scheduler and worker processes, computes
/// for a client, scales on standard input, shrugs off a bad command, and
/// stops everything on SIGTERM.
#[test]
fn cluster_scales_from_stdin_and_stops_on_sigterm() {
    use blockwork::array as bwa;
    use std::io::Write;
    blockwork::register_builtins();
    let mut cluster = Terminated(
        blockwork()
            .args(["cluster", "--workers", "2", "--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let cluster = &mut cluster.0;
    let mut stdin = cluster.stdin.take().unwrap();
    let stdout = lines_of(cluster.stdout.take().unwrap());
    let stderr = lines_of(cluster.stderr.take().unwrap());
    let next = |what: &str| stdout.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("no {what}"));

    let line = next("scheduler line");
    let addr = line.trim_start_matches("scheduler at tcp://").to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    // `worker NAME at ADDRESS (N threads), pid PID`, once it joined, in
    // any order.
    let joined = |line: &str| -> (String, u32) {
        let name = line.strip_prefix("worker ").and_then(|l| l.split(" at 127.0.0.1:").next());
        let pid = line.rsplit(", pid ").next().and_then(|p| p.parse().ok());
        match (name, pid) {
            (Some(name), Some(pid)) => (name.to_string(), pid),
            _ => panic!("not a worker line: {line}"),
        }
    };
    let mut pids: std::collections::BTreeMap<String, u32> = (0..2).map(|_| joined(&next("worker line"))).collect();
    assert_eq!(pids.keys().collect::<Vec<_>>(), ["worker-0", "worker-1"]);

    let client = blockwork::distributed::Client::connect(&addr).unwrap();
    let x = bwa::random::random(&[60, 60], [20, 20], 5).unwrap();
    let y = (&x + 1.0).sum();
    let got = y.assemble(client.compute(y.graph().unwrap(), &y.keys()).unwrap()).unwrap();
    let want = y.compute().unwrap();
    assert!(got.iter().zip(want.iter()).all(|(a, b)| (a - b).abs() < 1e-9));
    drop(client);

    writeln!(stdin, "scale abc\nscale 3").unwrap();
    let (name, pid) = joined(&next("third worker"));
    assert_eq!(name, "worker-2");
    pids.insert(name, pid);
    writeln!(stdin, "status").unwrap();
    assert_eq!(next("status"), "3 workers");
    for (name, pid) in &pids {
        let line = next("status line");
        assert!(line.starts_with(&format!("  {name} pid {pid} at 127.0.0.1:")), "{line}");
    }

    let killed = Command::new("kill").args(["-TERM", &cluster.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = wait_within(cluster, Duration::from_secs(15));
    assert!(status.success(), "{status}");
    let rest: Vec<String> = stdout.try_iter().collect();
    for i in 0..3 {
        assert!(rest.contains(&format!("worker worker-{i} stopped")), "{rest:?}");
    }
    for pid in pids.into_values() {
        assert!(!alive(pid), "worker process {pid} outlived the cluster");
    }
    let errors: Vec<String> = stderr.iter().collect();
    assert!(errors.iter().any(|l| l == "error: scale wants a number of workers, not \"abc\""), "{errors:?}");
}

/// A worker process whose scheduler goes away notices and exits.
#[test]
fn a_worker_exits_when_its_scheduler_goes() {
    let mut sched =
        blockwork().args(["scheduler", "--port", "0", "--host", "127.0.0.1"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(sched.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("scheduler at ").to_string();
    let mut worker = blockwork()
        .args(["worker", &addr, "--nthreads", "1", "--name", "orphan"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut joined = String::new();
    BufReader::new(worker.stdout.take().unwrap()).read_line(&mut joined).unwrap();
    assert!(joined.starts_with("worker orphan at "), "{joined}");
    sched.kill().unwrap();
    sched.wait().unwrap();
    let status = wait_within(&mut worker, Duration::from_secs(30));
    assert_eq!(status.code(), Some(1));
    let mut stderr = String::new();
    worker.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(
        stderr.contains(&format!("worker orphan: the scheduler at {} is gone", addr.trim_start_matches("tcp://"))),
        "{stderr}"
    );
}

/// `blockwork cluster` with TLS and a token: its worker processes join
/// over TLS with the token in their environment (never on their command
/// line), a client with the cluster's certificate and token computes, one
/// without is refused.
#[test]
fn a_cluster_with_tls_and_a_token() {
    use blockwork::array as bwa;
    use blockwork::distributed::{Client, Security, TlsFiles};
    blockwork::register_builtins();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../runtime/tests/fixtures/tls");
    let files = TlsFiles { ca: dir.join("ca.pem"), cert: dir.join("node.pem"), key: dir.join("node.key") };
    let args = [
        "--token".as_ref(),
        "t0ken".as_ref(),
        "--tls-ca-file".as_ref(),
        files.ca.as_os_str(),
        "--tls-cert".as_ref(),
        files.cert.as_os_str(),
        "--tls-key".as_ref(),
        files.key.as_os_str(),
    ];
    // Both workers join over TLS.
    let cluster = common::start_cluster(2, &args);
    let addr = cluster.address.clone();
    // The token reaches them in their environment, not their command line
    // (which every user of the machine can read).
    for pid in &cluster.pids {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        assert!(!String::from_utf8_lossy(&cmdline).contains("t0ken"), "the token is on worker {pid}'s command line");
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        assert!(String::from_utf8_lossy(&environ).contains("BLOCKWORK_TOKEN=t0ken"), "worker {pid} has no token");
    }
    let client = Client::connect_with(&addr, "me", &Security::tls(&files, Some("t0ken".into())).unwrap()).unwrap();
    let x = bwa::random::random(&[60, 60], [20, 20], 3).unwrap();
    let y = (&x * 3.0).sum();
    let got = y.assemble(client.compute(y.graph().unwrap(), &y.keys()).unwrap()).unwrap();
    assert!((got[[]] - y.compute().unwrap()[[]]).abs() < 1e-9);
    assert!(Client::connect(&addr).is_err(), "a client without TLS is refused");
}

#[test]
fn worker_flags_have_one_parser_and_one_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_blockwork")).args(["worker", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && help.contains("--memory-limit SIZE") && help.contains("--resources"), "{help}");
    let out = Command::new(env!("CARGO_BIN_EXE_blockwork"))
        .args(["worker", "127.0.0.1:1", "--nthreads", "0"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--nthreads wants a positive number"), "{err}");
}
