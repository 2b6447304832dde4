//! Workers as jobs of a real SLURM: `scripts/slurm-local` starts a
//! one-node SLURM and exports `BLOCKWORK_SLURM`; the README's test command
//! does so and also sets `BLOCKWORK_REQUIRE_SLURM`, so that there this
//! test fails rather than skips when SLURM is missing.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use blockwork_jobqueue::{Commands, JobQueueCluster, JobSpec, System};
use common::{blockwork, Terminated};

fn slurm_is_up() -> bool {
    match std::env::var("BLOCKWORK_SLURM") {
        Ok(_) => true,
        Err(_) if std::env::var("BLOCKWORK_REQUIRE_SLURM").is_ok() => {
            panic!("BLOCKWORK_REQUIRE_SLURM is set but BLOCKWORK_SLURM is not: run eval \"$(scripts/slurm-local)\"")
        }
        Err(_) => {
            eprintln!("skipped: no local SLURM (eval \"$(scripts/slurm-local)\" starts one)");
            false
        }
    }
}

/// Whether `squeue` still lists any of `ids`.
fn queued(ids: &[String]) -> bool {
    let out = Command::new("squeue").args(["-h", "-o", "%i"]).output().expect("squeue runs");
    let listed = String::from_utf8_lossy(&out.stdout);
    listed.lines().any(|l| ids.iter().any(|id| l.trim() == id))
}

#[test]
fn slurm_jobs_start_workers_that_compute_then_leave_the_queue() {
    use blockwork::array as bwa;
    if !slurm_is_up() {
        return;
    }
    blockwork::register_builtins();
    let dir = std::env::temp_dir().join(format!("bw-slurm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut sched = Terminated(blockwork().args(["scheduler", "--port", "0"]).stdout(Stdio::piped()).spawn().unwrap());
    let mut line = String::new();
    BufReader::new(sched.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("scheduler at ").to_string();

    let mut spec = JobSpec::new(1, "1GB").unwrap().name("bw-slurm").walltime("00:10:00");
    spec.worker_command = format!("{} worker", env!("CARGO_BIN_EXE_blockwork"));
    spec.job_extra_directives = vec![format!("-o {}/job-%j.out", dir.display())];
    let mut cluster = JobQueueCluster::new(System::Slurm, spec, &addr, Commands::new()).unwrap();
    cluster.scale(2).unwrap();
    let ids = cluster.jobs().to_vec();
    assert_eq!(ids.len(), 2);
    let t0 = Instant::now();
    let joined = |id: &String| {
        std::fs::read_to_string(dir.join(format!("job-{id}.out"))).unwrap_or_default().contains("worker bw-slurm-")
    };
    while !ids.iter().all(joined) {
        assert!(t0.elapsed() < Duration::from_secs(60), "the jobs' workers did not start: {:?}", cluster.jobs());
        std::thread::sleep(Duration::from_millis(100));
    }

    let client = blockwork::distributed::Client::connect(addr.trim_start_matches("tcp://")).unwrap();
    let x = bwa::random::random(&[80, 80], [20, 20], 3).unwrap();
    let y = (&x * 3.0).sub(x.mean_axis(0).unwrap()).unwrap().sum_axis(1).unwrap();
    let got = y.assemble(client.compute(y.graph().unwrap(), &y.keys()).unwrap()).unwrap();
    let want = y.compute().unwrap();
    assert!(got.iter().zip(want.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
    drop(client);

    cluster.close().unwrap();
    let t0 = Instant::now();
    while queued(&ids) {
        assert!(t0.elapsed() < Duration::from_secs(30), "jobs {ids:?} are still in squeue");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
