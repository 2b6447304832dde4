//! The `blockwork` command as a user runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn blockwork() -> Command {
    Command::new(env!("CARGO_BIN_EXE_blockwork"))
}

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
