//! Workers as jobs of a real SLURM and a real Grid Engine:
//! `scripts/slurm-local` and `scripts/sge-local` start one-node queues on
//! this machine and export `BLOCKWORK_SLURM` / `BLOCKWORK_SGE`; the
//! README's test command does so and also sets `BLOCKWORK_REQUIRE_SLURM` /
//! `BLOCKWORK_REQUIRE_SGE`, so that there these tests fail rather than
//! skip when a queue is missing.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use blockwork_jobqueue::{Commands, JobQueueCluster, JobSpec, System};
use common::{blockwork, Terminated};

/// Whether the local queue of `system` is up (its script's variable set);
/// when it is required and missing, a failure that says how to start it.
fn is_up(system: System) -> bool {
    let (var, script) = match system {
        System::Slurm => ("SLURM", "slurm-local"),
        System::Sge => ("SGE", "sge-local"),
        other => panic!("no local {other:?} for these tests"),
    };
    match std::env::var(format!("BLOCKWORK_{var}")) {
        Ok(_) => true,
        Err(_) if std::env::var(format!("BLOCKWORK_REQUIRE_{var}")).is_ok() => {
            panic!("BLOCKWORK_REQUIRE_{var} is set but BLOCKWORK_{var} is not: run eval \"$(scripts/{script})\"")
        }
        Err(_) => {
            eprintln!("skipped: no local {var} (eval \"$(scripts/{script})\" starts one)");
            false
        }
    }
}

/// The one-node queues share two cores: their tests take turns, or their
/// jobs would wait on each other's.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Whether the queue still lists any of `ids` (`squeue`, or `qstat`'s
/// first column).
fn queued(system: System, ids: &[String]) -> bool {
    let out = match system {
        System::Slurm => Command::new("squeue").args(["-h", "-o", "%i"]).output().expect("squeue runs"),
        _ => Command::new("qstat").output().expect("qstat runs"),
    };
    let listed = String::from_utf8_lossy(&out.stdout);
    listed.lines().filter_map(|l| l.split_whitespace().next()).any(|first| ids.iter().any(|id| first == id))
}

/// The queue's command that kills a job.
fn kill_command(system: System) -> &'static str {
    match system {
        System::Slurm => "scancel",
        _ => "qdel",
    }
}

#[test]
fn slurm_jobs_start_workers_that_compute_then_leave_the_queue() {
    jobs_start_workers_that_compute_then_leave_the_queue(System::Slurm);
}

#[test]
fn sge_jobs_start_workers_that_compute_then_leave_the_queue() {
    jobs_start_workers_that_compute_then_leave_the_queue(System::Sge);
}

fn jobs_start_workers_that_compute_then_leave_the_queue(system: System) {
    use blockwork::array as bwa;
    if !is_up(system) {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    blockwork::register_builtins();
    let dir = std::env::temp_dir().join(format!("bw-{}-{}", system, std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_sched, addr) = scheduler();
    let name = format!("bw-{}", system);
    let mut cluster = JobQueueCluster::new(system, spec(system, &name, &dir), &addr, Commands::new()).unwrap();
    cluster.scale(2).unwrap();
    let ids = cluster.jobs().to_vec();
    assert_eq!(ids.len(), 2);
    let t0 = Instant::now();
    let joined = |id: &String| {
        std::fs::read_to_string(dir.join(format!("job-{id}.out")))
            .unwrap_or_default()
            .contains(&format!("worker {name}-"))
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
    while queued(system, &ids) {
        assert!(t0.elapsed() < Duration::from_secs(30), "jobs {ids:?} are still queued");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts a scheduler process; returns it and its address.
fn scheduler() -> (Terminated, String) {
    let mut sched = Terminated(blockwork().args(["scheduler", "--port", "0"]).stdout(Stdio::piped()).spawn().unwrap());
    let mut line = String::new();
    BufReader::new(sched.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (sched, line.trim().trim_start_matches("scheduler at ").to_string())
}

/// One core and 1 GB per job; the job's output in `dir/job-ID.out`.
fn spec(system: System, name: &str, dir: &std::path::Path) -> JobSpec {
    let mut spec = JobSpec::new(1, "1GB").unwrap().name(name).walltime("00:10:00");
    spec.worker_command = format!("{} worker", env!("CARGO_BIN_EXE_blockwork"));
    let id = if system == System::Slurm { "%j" } else { "$JOB_ID" };
    spec.job_extra_directives = vec![format!("-o {}/job-{id}.out", dir.display())];
    spec
}

fn wait(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !ok() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn slurm_jobs_killed_are_replaced_and_adapt_grows_and_shrinks() {
    jobs_killed_are_replaced_and_adapt_grows_and_shrinks(System::Slurm);
}

#[test]
fn sge_jobs_killed_are_replaced_and_adapt_grows_and_shrinks() {
    jobs_killed_are_replaced_and_adapt_grows_and_shrinks(System::Sge);
}

/// A job killed (`scancel`, `qdel`) while its worker computes is replaced,
/// and the result is still exact; then `adapt` grows the jobs under queued
/// work and, once idle, retires the workers and cancels every job.
fn jobs_killed_are_replaced_and_adapt_grows_and_shrinks(system: System) {
    use blockwork::array as bwa;
    if !is_up(system) {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    blockwork::register_builtins();
    let dir = std::env::temp_dir().join(format!("bw-{}-r-{}", system, std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (_sched, addr) = scheduler();
    let mut cluster = JobQueueCluster::new(system, spec(system, "bw-r", &dir), &addr, Commands::new()).unwrap();
    cluster.scale(2).unwrap();
    let ids = cluster.jobs().to_vec();
    let client = blockwork::distributed::Client::connect(addr.trim_start_matches("tcp://")).unwrap();
    wait("two workers", Duration::from_secs(60), || {
        client.adaptive_target(Duration::from_secs(5)).is_ok_and(|_| {
            ids.iter().all(|id| {
                std::fs::read_to_string(dir.join(format!("job-{id}.out"))).unwrap_or_default().contains("worker bw-r-")
            })
        })
    });

    let x = bwa::random::random(&[1200, 1200], [150, 150], 5).unwrap();
    let y = x.dot(&x.t()).unwrap().sum_axis(0).unwrap();
    let want = y.compute().unwrap();
    let (graph, keys) = (y.graph().unwrap(), y.keys());
    let c2 = blockwork::distributed::Client::connect(addr.trim_start_matches("tcp://")).unwrap();
    let computing = std::thread::spawn(move || c2.compute(graph, &keys));
    std::thread::sleep(Duration::from_millis(200));
    let killed = Command::new(kill_command(system)).arg(&ids[0]).stdout(Stdio::null()).status().unwrap();
    assert!(killed.success());
    let mut ended = Vec::new();
    wait("the killed job to leave the queue", Duration::from_secs(30), || {
        ended.extend(cluster.check_jobs().unwrap());
        !ended.is_empty()
    });
    assert_eq!(ended, [ids[0].clone()]);
    assert_eq!(cluster.jobs().len(), 2, "a job in its place: {:?}", cluster.jobs());
    assert_ne!(cluster.jobs()[1], ids[0]);
    let got = y.assemble(computing.join().unwrap().unwrap()).unwrap();
    assert!(got.iter().zip(want.iter()).all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs().max(1.0)));

    // Adaptive: from no jobs, up under queued work, down to none when idle.
    // The cancelled jobs' workers retire first (SIGTERM): until they have
    // left they would take the work below, and adapt would have nothing
    // to do.
    cluster.scale(0).unwrap();
    wait("the cancelled jobs' workers to leave", Duration::from_secs(60), || {
        client.scheduler_info().is_ok_and(|i| i.workers.is_empty())
    });
    let cluster = std::sync::Mutex::new(cluster);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let options = blockwork_jobqueue::AdaptOptions {
        minimum: 0,
        maximum: 2,
        interval: Duration::from_millis(300),
        wait_count: 2,
        ..Default::default()
    };
    let adaptive = blockwork_jobqueue::Adaptive::new(options).unwrap();
    let most = std::sync::atomic::AtomicUsize::new(0);
    // However the body below ends (a failed assertion among them), the
    // adaptive loop stops, so the scope ends and the test reports.
    struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    std::thread::scope(|s| {
        let _stop_adapting = StopOnDrop(&stop);
        let adapting = s.spawn(|| {
            let retire = |names: &[String]| {
                let which = blockwork::distributed::Retire::Workers(names.to_vec());
                client.retire_workers(which, Duration::from_secs(60)).map(|_| ()).map_err(|e| e.to_string())
            };
            let target = |d| client.adaptive_target(d).map_err(|e| e.to_string());
            let report = |d: &blockwork_jobqueue::Decision, jobs: &[String]| {
                eprintln!("adapt: {d:?}; jobs {jobs:?}");
                most.fetch_max(jobs.len(), std::sync::atomic::Ordering::SeqCst);
            };
            blockwork_jobqueue::run_adaptive(&cluster, adaptive, target, retire, &stop, report)
        });
        let c3 = blockwork::distributed::Client::connect(addr.trim_start_matches("tcp://")).unwrap();
        // The work waits for adapt to start jobs: if the adaptive loop
        // stops (an error), say why rather than wait forever.
        let futures = c3.persist(y.graph().unwrap(), &y.keys()).unwrap();
        let t0 = Instant::now();
        let values = loop {
            match c3.gather_timeout(&futures, Duration::from_millis(500)) {
                Ok(v) => break v,
                Err(blockwork::distributed::ClientError::Timeout(_)) => {}
                Err(e) => panic!("gathering: {e}"),
            }
            assert!(!adapting.is_finished(), "the adaptive loop stopped: {:?}", adapting.join());
            assert!(t0.elapsed() < Duration::from_secs(120), "adapt started no worker in 120 s");
        };
        let got = y.assemble(values).unwrap();
        assert!(got.iter().zip(want.iter()).all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs().max(1.0)));
        drop((futures, c3));
        wait("adapt to cancel every job once idle", Duration::from_secs(60), || {
            cluster.lock().unwrap().jobs().is_empty() && most.load(std::sync::atomic::Ordering::SeqCst) > 0
        });
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        adapting.join().unwrap().unwrap();
    });
    let mut cluster = cluster.into_inner().unwrap();
    cluster.close().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
