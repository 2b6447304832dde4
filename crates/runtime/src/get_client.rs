//! A client from inside a task (Dask's `get_client`): a task running on a
//! worker reaches that worker's scheduler — its coordination primitives,
//! published datasets, more work — through a client of the process,
//! connected on first use with the worker's token and TLS files, and
//! shared by the tasks of every worker of that scheduler here.

use std::cell::RefCell;
use std::sync::Mutex;

use crate::{Client, ClientError, Security};

thread_local! {
    /// The scheduler of the worker whose task thread this is, and how to
    /// reach it (set when a worker starts its task threads).
    static SCHEDULER: RefCell<Option<(String, Security)>> = const { RefCell::new(None) };
}

/// The process's clients, by scheduler address (a process may serve
/// workers of several clusters over its life, as a test suite does).
static CLIENTS: Mutex<Vec<(String, Client)>> = Mutex::new(Vec::new());

/// Marks this thread as a task thread of a worker of `scheduler`.
pub(crate) fn set_for_this_thread(scheduler: &str, security: &Security) {
    let scheduler = scheduler.trim_start_matches("tcp://").to_string();
    SCHEDULER.with(|s| *s.borrow_mut() = Some((scheduler, security.clone())));
}

/// A client of the scheduler of the worker running this task (as Dask's
/// `get_client` inside a task): made on first use, shared afterwards by
/// the tasks of that scheduler's workers in this process, and made again
/// if its connection ended. Outside a worker's task thread it is an error
/// that says to connect a client instead. Blocking, as every `Client`
/// call: a task waiting on the cluster holds its worker thread meanwhile.
pub fn get_client() -> Result<Client, ClientError> {
    let Some((scheduler, security)) = SCHEDULER.with(|s| s.borrow().clone()) else {
        return Err(ClientError::NoWorker(
            "get_client: not inside a task on a worker; connect a client with Client::connect(address)".into(),
        ));
    };
    let mut clients = CLIENTS.lock().unwrap_or_else(|p| p.into_inner());
    clients.retain(|(_, c)| !c.inner.tracker.is_closed());
    if let Some((_, c)) = clients.iter().find(|(a, _)| *a == scheduler) {
        return Ok(c.clone());
    }
    let client = Client::connect_with(&scheduler, "worker-client", &security)?;
    clients.push((scheduler, client.clone()));
    Ok(client)
}
