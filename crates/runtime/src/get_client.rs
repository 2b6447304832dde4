//! A client from inside a task (Dask's `get_client`): a task running on a
//! worker reaches the cluster's scheduler — its coordination primitives,
//! published datasets, more work — through one client per process,
//! connected on first use to the scheduler of the first worker this
//! process serves, with that worker's token and TLS files.

use std::sync::{Mutex, OnceLock};

use crate::{Client, ClientError, Security};

/// The scheduler this process serves as a worker of, and how to reach it.
static SCHEDULER: OnceLock<(String, Security)> = OnceLock::new();

/// The process's client of it, once made.
static CLIENT: Mutex<Option<Client>> = Mutex::new(None);

/// Records the scheduler of a worker this process serves (the first one
/// counts: a process's workers belong to one cluster).
pub(crate) fn worker_of(scheduler: &str, security: &Security) {
    let _ = SCHEDULER.set((scheduler.trim_start_matches("tcp://").to_string(), security.clone()));
}

/// A client of the scheduler of the worker this process serves, for a
/// task to use (as Dask's `get_client` inside a task): made on the first
/// call, shared afterwards. Outside a worker process it is an error that
/// says to connect a client instead. Blocking, as every `Client` call: a
/// task waiting on the cluster holds its worker thread meanwhile.
pub fn get_client() -> Result<Client, ClientError> {
    let Some((scheduler, security)) = SCHEDULER.get() else {
        return Err(ClientError::NoWorker(
            "get_client: this process serves no worker; connect one with Client::connect(address)".into(),
        ));
    };
    let mut cached = CLIENT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = cached.as_ref() {
        return Ok(c.clone());
    }
    let client = Client::connect_with(scheduler, "worker-client", security)?;
    *cached = Some(client.clone());
    Ok(client)
}
