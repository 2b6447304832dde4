//! A whole cluster in this process: a scheduler and workers on
//! 127.0.0.1, in a tokio runtime the cluster owns.

use std::net::SocketAddr;
use std::time::Duration;

use crate::client::Client;
use crate::error::{ClientError, RuntimeError};
use crate::scheduler::{Scheduler, SchedulerHandle};
use crate::worker::{Worker, WorkerHandle};

/// A scheduler and `n` workers on ephemeral local ports. Dropping it
/// stops them and the runtime they run on.
pub struct LocalCluster {
    // Field order: the servers stop before the runtime goes.
    workers: Vec<WorkerHandle>,
    scheduler: SchedulerHandle,
    address: SocketAddr,
    rt: Option<tokio::runtime::Runtime>,
}

impl LocalCluster {
    /// Starts a scheduler and `n_workers` workers of `threads_per_worker`
    /// threads each, and returns once every worker has registered.
    pub fn start(n_workers: usize, threads_per_worker: u32) -> Result<LocalCluster, RuntimeError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("blockwork-cluster")
            .enable_all()
            .build()
            .map_err(|e| RuntimeError::Conn { what: "starting the cluster's runtime".into(), source: e.into() })?;
        let (scheduler, address) = rt.block_on(Scheduler::bind("127.0.0.1:0"))?;
        let mut workers = Vec::with_capacity(n_workers);
        for i in 0..n_workers {
            let mut options = crate::WorkerOptions::new(threads_per_worker, format!("worker-{i}"));
            options.listen = "127.0.0.1:0".into();
            workers.push(rt.block_on(Worker::start_with(&address.to_string(), options))?);
        }
        Ok(LocalCluster { workers, scheduler, address, rt: Some(rt) })
    }

    /// The scheduler's address, `127.0.0.1:port`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// A new client connected to the scheduler.
    pub fn client(&self) -> Result<Client, ClientError> {
        Client::connect(&self.address())
    }

    /// Stops worker `i` (its connections close; the scheduler removes
    /// it and reschedules its work). Its handle is dropped.
    pub fn stop_worker(&mut self, i: usize) {
        let w = self.workers.remove(i);
        w.shutdown();
    }

    /// The workers still running.
    pub fn workers(&self) -> &[WorkerHandle] {
        &self.workers
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for w in &self.workers {
            w.shutdown();
        }
        self.scheduler.shutdown();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}
