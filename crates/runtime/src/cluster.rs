//! A whole cluster in this process: a scheduler and workers on
//! 127.0.0.1, in a tokio runtime the cluster owns, scaled while it runs.
//!
//! Workers are kept oldest first. Scaling down stops the newest: a
//! worker's stored bytes are not visible from here, and the newest has
//! had the least time to collect results that others wait for.

use std::net::SocketAddr;
use std::time::Duration;

use crate::client::Client;
use crate::error::{ClientError, RuntimeError};
use crate::scheduler::{Scheduler, SchedulerHandle, SchedulerOptions};
use crate::worker::{Worker, WorkerHandle, WorkerOptions};

/// A scheduler and workers on ephemeral local ports. Dropping it stops
/// them and the runtime they run on.
pub struct LocalCluster {
    // Field order: the servers stop before the runtime goes.
    workers: Vec<WorkerHandle>,
    scheduler: SchedulerHandle,
    address: SocketAddr,
    /// What every new worker is made from (its name is a prefix).
    template: WorkerOptions,
    /// Workers started so far, stopped ones included: the next one's number.
    started: usize,
    /// `Some` until the cluster is dropped.
    rt: Option<tokio::runtime::Runtime>,
}

impl LocalCluster {
    /// Starts a scheduler and `n_workers` workers of `threads_per_worker`
    /// threads each, and returns once every worker has registered.
    pub fn start(n_workers: usize, threads_per_worker: u32) -> Result<LocalCluster, RuntimeError> {
        LocalCluster::start_with(
            n_workers,
            WorkerOptions::new(threads_per_worker, "worker"),
            SchedulerOptions::default(),
        )
    }

    /// Starts a scheduler with `scheduler`'s settings and `n_workers`
    /// workers made from `worker`, and returns once every worker has
    /// registered. Worker `i` (counting every worker this cluster ever
    /// started) is named `{worker.name}-{i}`; the scheduler and the
    /// workers listen on 127.0.0.1, whatever `worker.listen` says.
    pub fn start_with(
        n_workers: usize,
        worker: WorkerOptions,
        scheduler: SchedulerOptions,
    ) -> Result<LocalCluster, RuntimeError> {
        if crate::error::in_async_runtime() {
            return Err(RuntimeError::InAsync("LocalCluster::start"));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("blockwork-cluster")
            .enable_all()
            .build()
            .map_err(|e| RuntimeError::Conn { what: "starting the cluster's runtime".into(), source: e.into() })?;
        let (handle, address) = rt.block_on(Scheduler::bind_with("127.0.0.1:0", scheduler))?;
        let mut cluster = LocalCluster {
            workers: Vec::with_capacity(n_workers),
            scheduler: handle,
            address,
            template: worker,
            started: 0,
            rt: Some(rt),
        };
        cluster.scale(n_workers)?;
        Ok(cluster)
    }

    /// The scheduler's address, `127.0.0.1:port`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// The address of the scheduler's HTTP API, if it serves one
    /// (`SchedulerOptions::http`).
    pub fn http_address(&self) -> Option<std::net::SocketAddr> {
        self.scheduler.http_address()
    }

    /// The dashboard's address, `http://host:port/status`, if the
    /// scheduler serves its HTTP API.
    pub fn dashboard_link(&self) -> Option<String> {
        self.http_address().map(|a| format!("http://{a}/status"))
    }

    /// A new client connected to the scheduler.
    pub fn client(&self) -> Result<Client, ClientError> {
        Client::connect(&self.address())
    }

    /// Starts one more worker and returns once it has registered; the
    /// scheduler gives it work from then on (queued tasks at once).
    pub fn add_worker(&mut self) -> Result<&WorkerHandle, RuntimeError> {
        self.add_worker_with(self.template.clone())
    }

    /// Starts one more worker made from `options` (a worker unlike the
    /// others: more threads, resources); named `{options.name}-{i}`.
    pub fn add_worker_with(&mut self, mut options: WorkerOptions) -> Result<&WorkerHandle, RuntimeError> {
        options.name = format!("{}-{}", options.name, self.started);
        options.listen = "127.0.0.1:0".into();
        // The workers share this process: its memory is not theirs alone.
        options.process_memory = false;
        self.started += 1;
        if crate::error::in_async_runtime() {
            return Err(RuntimeError::InAsync("LocalCluster::scale"));
        }
        let rt = self.rt.as_ref().expect("a cluster's runtime lives until the cluster is dropped");
        let handle = rt.block_on(Worker::start_with(&self.address.to_string(), options))?;
        self.workers.push(handle);
        Ok(&self.workers[self.workers.len() - 1])
    }

    /// Starts or stops workers until `n` run; stops the newest first.
    /// Returns once the new workers have registered; a stopped worker
    /// leaves as if it had been lost (see [`LocalCluster::stop_worker`]).
    pub fn scale(&mut self, n: usize) -> Result<(), RuntimeError> {
        while self.workers.len() < n {
            self.add_worker()?;
        }
        while self.workers.len() > n {
            if let Some(w) = self.workers.pop() {
                w.shutdown();
            }
        }
        Ok(())
    }

    /// Stops worker `i` (in [`LocalCluster::workers`]' order, oldest
    /// first). Its connections close and the scheduler removes it: its
    /// running tasks are rescheduled (each counts as a worker that died
    /// running it, against `allowed_failures`) and results only it held
    /// are recomputed. Its handle is dropped.
    pub fn stop_worker(&mut self, i: usize) -> Result<(), RuntimeError> {
        if i >= self.workers.len() {
            return Err(RuntimeError::NoSuchWorker { index: i, count: self.workers.len() });
        }
        self.workers.remove(i).shutdown();
        Ok(())
    }

    /// The workers still running, oldest first.
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
