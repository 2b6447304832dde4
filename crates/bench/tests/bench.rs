//! The bench binary keeps its contract: one JSON line on stdout per run.

use std::process::Command;

fn run(args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_blockwork-bench")).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stdout: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn overhead_prints_one_json_record_per_run() {
    for pattern in ["chain", "fan", "tree"] {
        for mode in ["raw", "delayed"] {
            for sched in ["sync", "threads"] {
                let v = run(&[
                    "overhead",
                    "--n",
                    "1000",
                    "--pattern",
                    pattern,
                    "--mode",
                    mode,
                    "--scheduler",
                    sched,
                    "--repeats",
                    "1",
                ]);
                assert_eq!(v["workload"], "overhead");
                assert_eq!(v["result"], 1000);
                assert_eq!(v["impl"], format!("blockwork-{sched}"));
                assert!(v["seconds"].as_f64().unwrap() > 0.0);
                assert!(v["peak_rss_mib"].as_f64().unwrap() > 0.0);
            }
        }
    }
}

#[test]
fn overhead_runs_on_a_local_cluster() {
    for pattern in ["chain", "fan", "tree"] {
        let v =
            run(&["overhead", "--n", "300", "--pattern", pattern, "--scheduler", "local-cluster", "--repeats", "1"]);
        assert_eq!(v["impl"], "blockwork-distributed");
        assert_eq!(v["result"], 300);
    }
}

#[test]
fn bad_flags_are_errors() {
    let out =
        Command::new(env!("CARGO_BIN_EXE_blockwork-bench")).args(["overhead", "--pattern", "spiral"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown pattern \"spiral\""));
}
