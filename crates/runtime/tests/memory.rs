//! Memory limits on an in-process cluster: results beyond a worker's
//! limit are spilled to its local directory and read back when needed;
//! nothing is lost and the results are right.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Duration;

use blockwork_graph::{lit, r, Graph, Key, NamedFn, Op, Task, TaskError, TaskResult, Value};
use blockwork_runtime::{LocalCluster, SchedulerOptions, WorkerOptions};

const MB: usize = 1 << 20;

/// One MiB of bytes, all equal to the argument modulo 256.
fn block(_: &Value, args: Vec<Value>) -> TaskResult {
    let Value::Int(i) = args[0] else { return Err(TaskError::new("expected an int")) };
    Ok(Value::Bytes(vec![i as u8; MB].into()))
}

/// The sum of every byte of its inputs.
fn checksum(_: &Value, args: Vec<Value>) -> TaskResult {
    let mut total = 0i64;
    for a in &args {
        let Value::Bytes(b) = a else { return Err(TaskError::new("expected bytes")) };
        total += b.iter().map(|&x| i64::from(x)).sum::<i64>();
    }
    Ok(Value::Int(total))
}

static BLOCK: NamedFn = NamedFn::new("memory.block", block);
static CHECKSUM: NamedFn = NamedFn::new("memory.checksum", checksum);

fn timed<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(120)).expect("timed out")
}

#[test]
fn persisted_data_beyond_the_limit_spills_and_reads_back() {
    blockwork_graph::register(&BLOCK);
    blockwork_graph::register(&CHECKSUM);
    timed(|| {
        let dir = std::env::temp_dir().join(format!("bw-spill-test-{}", std::process::id()));
        let mut worker = WorkerOptions::new(1, "limited");
        worker.memory_limit = 8 * MB as u64;
        worker.local_directory = Some(dir.clone());
        let cluster = LocalCluster::start_with(2, worker, SchedulerOptions::default()).unwrap();
        let client = cluster.client().unwrap();
        let n = 40;
        let blocks: Vec<(Key, Task<Key>)> = (0..n)
            .map(|i| (Key::block("bytes", &[i]), Task::new(Op::named(&BLOCK, Value::Unit), vec![lit(i64::from(i))])))
            .collect();
        let keys: Vec<Key> = blocks.iter().map(|(k, _)| k.clone()).collect();
        let held = client.persist(Graph::from_tasks(blocks.clone()).unwrap(), &keys).unwrap();
        client.wait(&held, None).unwrap();
        let spilled: u64 = cluster.workers().iter().map(|w| w.stats().bytes_spilled.load(Ordering::Relaxed)).sum();
        // 40 MiB held by two workers keeping at most 60% of 8 MiB each in memory.
        assert!(spilled >= 25 * MB as u64, "spilled {spilled} bytes");
        assert!(std::fs::read_dir(&dir).unwrap().count() >= 1, "spill directories under {}", dir.display());
        // A reduction over every block reads the spilled ones back.
        let mut tasks = blocks;
        let total = Key::new("checksum-all");
        tasks
            .push((total.clone(), Task::new(Op::named(&CHECKSUM, Value::Unit), keys.iter().cloned().map(r).collect())));
        let got = client.compute(Graph::from_tasks(tasks).unwrap(), std::slice::from_ref(&total)).unwrap();
        let want: i64 = (0..n).map(|i| i64::from(i as u8) * MB as i64).sum();
        assert_eq!(got, vec![Value::Int(want)]);
        assert_eq!(cluster.workers().len(), 2, "no worker lost");
        drop(held);
        drop(client);
        drop(cluster);
        assert_eq!(std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0), 0, "spill files removed");
        let _ = std::fs::remove_dir_all(&dir);
    });
}
