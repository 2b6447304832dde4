//! Workers as jobs of a queue, end to end: a stand-in for SLURM's `sbatch`
//! and `scancel` runs each submitted script as a local process group; the
//! script's workers join a real scheduler, compute, and the jobs are
//! cancelled by scaling down and by `close`.

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use blockwork_jobqueue::{Commands, JobQueueCluster, JobSpec, System};
use common::{alive, blockwork, Terminated};

/// The stand-in queue commands (crates/jobqueue/tests/fake-slurm), copied
/// into `dir`: they keep each job's script, log and pid beside themselves.
fn fake_slurm(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../jobqueue/tests/fake-slurm");
    for name in ["sbatch", "scancel", "squeue"] {
        std::fs::copy(src.join(name), dir.join(name)).unwrap();
    }
}

fn write_exe(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !ok() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn jobs_start_workers_that_compute_and_are_cancelled() {
    use blockwork::array as bwa;
    blockwork::register_builtins();
    let dir = std::env::temp_dir().join(format!("bw-jobqueue-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    fake_slurm(&dir);

    let mut sched = Terminated(blockwork().args(["scheduler", "--port", "0"]).stdout(Stdio::piped()).spawn().unwrap());
    let mut line = String::new();
    BufReader::new(sched.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("scheduler at ").to_string();

    let mut spec = JobSpec::new(2, "1GB").unwrap().processes(2).name("bw");
    spec.worker_command = format!("{} worker", env!("CARGO_BIN_EXE_blockwork"));
    let mut cluster = JobQueueCluster::new(System::Slurm, spec, &addr, Commands::in_dir(&dir)).unwrap();
    cluster.scale(3).unwrap(); // two workers a job: two jobs
    assert_eq!(cluster.jobs(), ["0", "1"]);
    let log = |n: usize| std::fs::read_to_string(dir.join(format!("job-{n}.log"))).unwrap_or_default();
    for n in 0..2 {
        wait_for("the job's workers", Duration::from_secs(30), || {
            (0..2).all(|i| log(n).contains(&format!("worker bw-{n}-{i} at ")))
        });
    }
    let script = std::fs::read_to_string(dir.join("job-0.sh")).unwrap();
    assert!(script.contains("#SBATCH --cpus-per-task=2") && script.contains("--nthreads 1"), "{script}");

    let client = blockwork::distributed::Client::connect(addr.trim_start_matches("tcp://")).unwrap();
    let x = bwa::random::random(&[60, 60], [20, 20], 5).unwrap();
    let y = (&x + &x.t()).sum_axis(0).unwrap();
    let got = y.assemble(client.compute(y.graph().unwrap(), &y.keys()).unwrap()).unwrap();
    assert_eq!(got, y.compute().unwrap());
    drop(client);

    let pid =
        |n: usize| std::fs::read_to_string(dir.join(format!("job-{n}.pid"))).unwrap().trim().parse::<u32>().unwrap();
    let (first, second) = (pid(0), pid(1));
    cluster.scale(2).unwrap(); // one job is enough: the newest goes
    assert_eq!(cluster.jobs(), ["0"]);
    wait_for("the cancelled job to end", Duration::from_secs(10), || !alive(second));
    assert!(alive(first));
    cluster.close().unwrap();
    wait_for("the last job to end", Duration::from_secs(10), || !alive(first));
    assert_eq!(std::fs::read_to_string(dir.join("cancelled")).unwrap(), "1\n0\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_submission_says_what_the_queue_said() {
    let dir = std::env::temp_dir().join(format!("bw-jobqueue-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    write_exe(
        &dir.join("sbatch"),
        "#!/usr/bin/env bash\necho 'sbatch: error: invalid partition specified: nope' >&2\nexit 1\n",
    );
    let spec = JobSpec::new(1, "1GB").unwrap().queue("nope");
    let mut cluster = JobQueueCluster::new(System::Slurm, spec, "tcp://h:1", Commands::in_dir(&dir)).unwrap();
    let err = cluster.scale(1).unwrap_err().to_string();
    assert!(err.contains("sbatch failed") && err.contains("invalid partition specified: nope"), "{err}");
    assert!(cluster.jobs().is_empty());
    let err = JobSpec::new(6, "1GB").unwrap().processes(4).validate().unwrap_err().to_string();
    assert!(err.contains("processes = 4 must divide cores = 6"), "{err}");
    assert!(JobSpec::new(1, "lots").unwrap_err().to_string().contains("\"lots\" is not a size"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_command_prints_a_script() {
    let out = blockwork()
        .args(["jobqueue", "pbs", "--cores", "8", "--memory", "16GB", "--processes", "2", "--queue", "q"])
        .args(["--scheduler", "tcp://head:8786"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("#PBS -l select=1:ncpus=8:mem=15GB"), "{text}");
    assert!(text.contains("blockwork worker tcp://head:8786 --nthreads 4 --memory-limit 8000000000"), "{text}");
    let bad = blockwork().args(["jobqueue", "condor", "--cores", "1", "--memory", "1GB"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown job queue \"condor\""));
}

#[test]
fn adapt_grows_under_queued_work_and_shrinks_when_idle() {
    use blockwork::array as bwa;
    blockwork::register_builtins();
    let dir = std::env::temp_dir().join(format!("bw-jobqueue-adapt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    fake_slurm(&dir);
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    let worker = format!("{} worker", env!("CARGO_BIN_EXE_blockwork"));
    let mut cli = Terminated(
        blockwork()
            .env("PATH", &path)
            .args(["jobqueue", "slurm", "--cores", "1", "--memory", "1GB", "--name", "bw", "--port", "0"])
            .args(["--worker-command", &worker, "--adapt", "0:3", "--adapt-interval", "200ms", "--wait-count", "2"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Its output stays open: it reports every scaling decision.
    let mut out = BufReader::new(cli.0.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line.trim().trim_start_matches("scheduler at ").to_string();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    std::thread::sleep(Duration::from_millis(600));
    assert!(!dir.join("job-0.sh").exists(), "no work, no jobs (minimum 0)");

    // Queued work: the target grows, jobs start, their workers compute.
    let client = blockwork::distributed::Client::connect(addr.trim_start_matches("tcp://")).unwrap();
    let x = bwa::random::random(&[400, 400], [100, 100], 9).unwrap();
    let y = x.matmul(&x.t()).unwrap().sum_axis(0).unwrap();
    let got = y.assemble(client.compute(y.graph().unwrap(), &y.keys()).unwrap()).unwrap();
    assert_eq!(got, y.compute().unwrap());
    assert!(dir.join("job-0.sh").exists(), "the queued work started a job");
    drop(client);

    // Idle: after two answers in a row proposing it, every job is cancelled.
    let submitted = || {
        std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".sh"))
            .count()
    };
    wait_for("the idle cluster's jobs to be cancelled", Duration::from_secs(30), || {
        let cancelled = std::fs::read_to_string(dir.join("cancelled")).unwrap_or_default();
        cancelled.lines().count() == submitted()
    });
    let _ = std::fs::remove_dir_all(&dir);
}
