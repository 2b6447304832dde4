//! Memory limits on worker processes: a 3 GiB array persisted on two
//! workers limited to 1 GiB each spills to disk, a reduction over it
//! afterwards is right, and no worker is lost; then `big-sum` of a
//! 100000² array (80 GB, never all in memory) on the same workers. Each
//! worker's resident memory, sampled all along, stays within its limit.
//! A worker that cannot spill fails its tasks with the reason instead of
//! waiting for ever.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use blockwork::array as bwa;
use common::alive;

const GIB: u64 = 1 << 30;

fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .map_or(0, |kb: u64| kb * 1024)
}

/// Samples the resident memory of `pids` every 20 ms; the highest seen.
fn watch(pids: Vec<u32>, stop: Arc<AtomicBool>, peak: Arc<AtomicU64>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            for &p in &pids {
                peak.fetch_max(rss_bytes(p), Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    })
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Bytes free on the file system of `dir`, as `df` says.
fn free_bytes(dir: &std::path::Path) -> u64 {
    let out = std::process::Command::new("df").args(["--output=avail", "-B1"]).arg(dir).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1).and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("df {}: {text}", dir.display()))
}

#[test]
fn larger_than_memory_on_limited_workers() {
    blockwork::register_builtins();
    let tmp = std::env::temp_dir();
    let free = free_bytes(&tmp);
    assert!(free > 4 * GIB, "the test spills 1.8 GiB to {}, which has {} MiB free", tmp.display(), free >> 20);
    let spill = tmp.join(format!("bw-memory-test-{}", std::process::id()));
    let args = ["--nthreads".as_ref(), "1".as_ref(), "--memory-limit".as_ref(), "1GiB".as_ref()];
    let local = ["--local-directory".as_ref(), spill.as_os_str()];
    let cluster = common::start_cluster(2, &[&args[..], &local[..]].concat());
    let (addr, pids) = (cluster.address.clone(), cluster.pids.clone());
    let (stop, peak) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let watcher = watch(pids.clone(), stop.clone(), peak.clone());
    let dir = spill.clone();
    let out = common::within(Duration::from_secs(900), "the computations", move || {
        let client = blockwork::distributed::Client::connect(&addr).unwrap();
        spill_and_sum(&client, &dir, &pids)
    });
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= GIB, "a worker reached {peak} bytes resident (limit 1 GiB)");
    assert!(cluster.pids.iter().all(|&p| alive(p)), "no worker lost");
    println!("peak worker RSS {} MiB, spilled {} MiB", peak >> 20, out >> 20);
    drop(cluster);
    let _ = std::fs::remove_dir_all(&spill);
}

/// Persists a 3 GiB array, sums it, then sums a 80 GB one; the bytes
/// spilled by the persist.
fn spill_and_sum(client: &blockwork::distributed::Client, spill: &std::path::Path, pids: &[u32]) -> u64 {
    // 20000² float64 = 2.98 GiB in 100 blocks of 30 MiB; at most 60% of
    // the workers' 2 GiB stays in memory.
    let x = bwa::random::random(&[20_000, 20_000], [2000, 2000], 1).unwrap();
    let held = client.persist(x.graph().unwrap(), &x.keys()).unwrap();
    client.wait(&held, None).unwrap();
    let spilled = dir_bytes(spill);
    assert!(spilled > 3 * GIB / 2, "{spilled} bytes spilled");
    let s = x.sum();
    let got = s.assemble(client.compute(s.graph().unwrap(), &s.keys()).unwrap()).unwrap()[[]];
    let want = s.compute_scalar().unwrap();
    assert_eq!(got, want, "the reduction over the spilled array");
    assert!(pids.iter().all(|&p| alive(p)), "no worker lost");
    drop(held);

    // big-sum: 100000², 400 blocks of 5000² (190 MiB each) made and summed
    // one at a time per thread.
    let n = 100_000usize;
    let big = bwa::random::random(&[n, n], [5000, 5000], 42).unwrap().sum();
    let v = big.assemble(client.compute(big.graph().unwrap(), &big.keys()).unwrap()).unwrap()[[]];
    assert!((v / (n * n) as f64 - 0.5).abs() < 1e-4, "mean {}", v / (n * n) as f64);
    spilled
}

#[test]
fn a_worker_that_cannot_spill_fails_its_tasks_with_the_reason() {
    blockwork::register_builtins();
    // The spill directory's parent is a file: every spill fails.
    let file = std::env::temp_dir().join(format!("bw-nospill-{}", std::process::id()));
    std::fs::write(&file, b"not a directory").unwrap();
    let args = ["--nthreads".as_ref(), "1".as_ref(), "--memory-limit".as_ref(), "256MiB".as_ref()];
    let cluster = common::start_cluster(1, &[&args[..], &["--local-directory".as_ref(), file.as_os_str()]].concat());
    let addr = cluster.address.clone();
    let err = common::within(Duration::from_secs(300), "the persist", move || {
        let client = blockwork::distributed::Client::connect(&addr).unwrap();
        // 16000² float64 = 1.9 GiB in 64 blocks of 30 MiB.
        let x = bwa::random::random(&[16_000, 16_000], [2000, 2000], 1).unwrap();
        let held = client.persist(x.graph().unwrap(), &x.keys()).unwrap();
        client.gather(&held).map(|_| ()).map_err(|e| e.to_string())
    })
    .expect_err("1.9 GiB persisted on a worker limited to 256 MiB that cannot spill");
    for part in ["out of memory", "spilling fails", "Not a directory", "limit of 268435456 bytes"] {
        assert!(err.contains(part), "{part:?} not in the error: {err}");
    }
    assert!(cluster.pids.iter().all(|&p| alive(p)), "the worker lives on");
    drop(cluster);
    let _ = std::fs::remove_file(&file);
}
