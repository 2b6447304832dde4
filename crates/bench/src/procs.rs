//! The local cluster of the benchmark contract: a scheduler in this
//! process and `--workers` worker processes of this very binary (which
//! serves as a worker when started as `blockwork-bench worker …`, see
//! `main`). Their peak memory counts in the run's `peak_rss_mib`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::Context;
use blockwork as bw;

/// A scheduler here and worker processes; dropping it stops them.
pub struct ProcCluster {
    children: Vec<Child>,
    address: String,
    _scheduler: bw::distributed::Served<bw::distributed::SchedulerHandle>,
}

impl ProcCluster {
    /// Starts the scheduler and `n` workers of `nthreads` threads, each
    /// with `memory_limit` (e.g. "2GiB") when given; returns once every
    /// worker has joined.
    pub fn start(n: usize, nthreads: u32, memory_limit: Option<&str>) -> anyhow::Result<ProcCluster> {
        let (scheduler, addr) =
            bw::distributed::serve_scheduler("127.0.0.1:0", bw::distributed::SchedulerOptions::default())?;
        let exe = std::env::current_exe().context("finding this program to start workers")?;
        let mut cluster = ProcCluster { children: Vec::new(), address: addr.to_string(), _scheduler: scheduler };
        for i in 0..n {
            let mut child = Command::new(&exe)
                .args(["worker", &format!("tcp://{addr}"), "--nthreads", &nthreads.to_string()])
                .args(["--name", &format!("bench-{i}")])
                .args(memory_limit.map(|m| ["--memory-limit", m]).into_iter().flatten())
                .stdout(Stdio::piped())
                .spawn()
                .with_context(|| format!("starting worker {i} ({})", exe.display()))?;
            // Its first line says it joined.
            let mut line = String::new();
            let stdout = child.stdout.take().context("a worker's output")?;
            BufReader::new(stdout).read_line(&mut line)?;
            cluster.children.push(child);
            anyhow::ensure!(line.starts_with("worker "), "worker {i} did not start: {line:?}");
            crate::alloc::add_child(cluster.children[i].id());
        }
        Ok(cluster)
    }

    /// The scheduler's address.
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl Drop for ProcCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            crate::alloc::remove_child(c.id());
            let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
    }
}
