//! The client as a scheduler of collections: [`Client`] implements
//! `blockwork_local::Remote`, so a `Config` whose scheduler is
//! `Scheduler::Client(..)` computes on the cluster, and
//! [`Client::as_default`] makes it the scheduler of every
//! `Config::default()` — every array's, dataframe's and delayed value's
//! `compute`, `persist` and writer — until its guard is dropped.

use std::sync::Arc;

use blockwork_graph::{Fault, Graph, Key, Value};
use blockwork_local::{ComputeError, DefaultClient, Pin, Remote, Scheduler};

use crate::{Client, ClientError};

impl Client {
    /// Makes this client the process's default scheduler (Dask's
    /// `Client()`): collections computed without a configuration run on
    /// its cluster, results assembled here, until the guard is dropped.
    #[must_use = "the client stays the default only while the guard lives"]
    pub fn as_default(&self) -> DefaultClient {
        blockwork_local::set_default_client(Arc::new(self.clone()))
    }

    /// This client as a scheduler for one configuration
    /// (`Config::with_scheduler(client.scheduler())`).
    pub fn scheduler(&self) -> Scheduler {
        Scheduler::Client(Arc::new(self.clone()))
    }
}

impl Remote for Client {
    fn describe(&self) -> String {
        format!("the cluster at {}", self.address())
    }

    fn compute(&self, graph: Graph, outputs: &[Key]) -> Result<Vec<Value>, ComputeError> {
        Client::compute(self, graph, outputs).map_err(|e| into_compute_error(self, e))
    }

    fn persist(&self, graph: Graph, outputs: &[Key]) -> Result<Pin, ComputeError> {
        let futures = Client::persist(self, graph, outputs).map_err(|e| into_compute_error(self, e))?;
        Ok(Arc::new(futures))
    }
}

/// A client's error as a computation's: a task's failure stays one (its
/// key and message); the rest says which cluster and what went wrong.
fn into_compute_error(client: &Client, e: ClientError) -> ComputeError {
    match e {
        ClientError::Task { key, message, kind } => ComputeError::Task { key, message, kind },
        ClientError::Graph(g) => ComputeError::Graph(g),
        other => ComputeError::Cluster { cluster: client.describe(), kind: other.kind(), source: Box::new(other) },
    }
}
