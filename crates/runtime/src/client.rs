//! The client: submits graphs to a scheduler and gathers their results.
//!
//! ```text
//!  compute(graph, outputs)
//!    cull to outputs ─▶ inline cheap tasks ─▶ order
//!    ─▶ encode every task (named functions only)
//!    ─▶ update-graph (wanting the outputs)
//!    ◀─ key-in-memory / key-erred per output
//!    ─▶ gather ◀─ gather-reply (the scheduler asks the holders)
//!    ─▶ release-keys
//! ```
//!
//! The client is blocking: it owns a small tokio runtime of its own, so
//! it works from any thread and inside no runtime. One computation runs
//! at a time per client; use several clients for concurrent ones.

use std::sync::Mutex;

use blockwork_graph::{order, Graph, Key, Value};
use blockwork_protocol::{task_spec, ClientToScheduler, Role, SchedulerToClient};
use blockwork_scheduler::{GraphUpdate, ToClient};
use rustc_hash::{FxHashMap, FxHashSet};
use tokio::net::tcp::OwnedWriteHalf;

use crate::conn::{self, FrameReader};
use crate::error::{ClientError, ConnError};

/// A connection to a scheduler.
pub struct Client {
    addr: String,
    rt: tokio::runtime::Runtime,
    conn: Mutex<Conn>,
}

struct Conn {
    reader: FrameReader,
    write: OwnedWriteHalf,
}

impl Client {
    /// Connects to the scheduler at `addr` (`host:port`).
    pub fn connect(addr: &str) -> Result<Client, ClientError> {
        Client::connect_with(addr, "client", None)
    }

    /// Connects with a name and a token.
    pub fn connect_with(addr: &str, name: &str, token: Option<String>) -> Result<Client, ClientError> {
        let conn_err = |source: ConnError| ClientError::Conn { addr: addr.to_string(), source };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| conn_err(e.into()))?;
        let (reader, write, _, _) = rt.block_on(conn::connect(addr, Role::Client, name, token)).map_err(conn_err)?;
        Ok(Client { addr: addr.to_string(), rt, conn: Mutex::new(Conn { reader, write }) })
    }

    /// The scheduler's address.
    pub fn address(&self) -> &str {
        &self.addr
    }

    /// Computes `outputs` of `graph` on the cluster; results come back in
    /// the order of `outputs`. Every task must run a registered named
    /// function: a closure is refused before anything is sent, naming
    /// its key. A task that fails on a worker comes back as
    /// [`ClientError::Task`] naming the key that failed.
    pub fn compute(&self, graph: Graph, outputs: &[Key]) -> Result<Vec<Value>, ClientError> {
        // Cheap tasks (generated blocks, aliases) are inlined into their
        // readers instead of being computed, stored and moved between
        // workers. Linear chains are not fused yet: a worker reports an
        // error under the key the scheduler knows, so an error inside a
        // fused chain would name the chain's last key, not the failing one.
        let graph = graph.cull(outputs)?;
        let graph = blockwork_graph::inline_cheap(graph, outputs, blockwork_graph::DEFAULT_MAX_FUSED_DEPTH)?;
        let priority = order(&graph);
        let mut tasks = Vec::with_capacity(graph.len());
        for t in graph.ids() {
            let task = graph.task(t).clone().map_refs(|d| graph.key(d).clone());
            tasks.push(task_spec(graph.key(t), &task, priority[t.idx()])?);
        }
        let mut wanted: Vec<Key> = Vec::with_capacity(outputs.len());
        let mut seen = FxHashSet::default();
        for k in outputs {
            if seen.insert(k) {
                wanted.push(k.clone());
            }
        }
        let update = GraphUpdate { tasks, wanted: wanted.clone() };
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let conn = &mut *conn;
        let res = self.rt.block_on(run(conn, update, &wanted));
        let values = match res {
            Ok(v) => v,
            Err(ClientError::Conn { source, .. }) => return Err(ClientError::Conn { addr: self.addr.clone(), source }),
            Err(e) => return Err(e),
        };
        Ok(outputs.iter().map(|k| values[k].clone()).collect())
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(conn) = self.conn.get_mut() {
            let _ = self.rt.block_on(conn::send(&mut conn.write, &ClientToScheduler::Close));
        }
    }
}

fn conn_err(source: ConnError) -> ClientError {
    ClientError::Conn { addr: String::new(), source }
}

async fn run(conn: &mut Conn, update: GraphUpdate, wanted: &[Key]) -> Result<FxHashMap<Key, Value>, ClientError> {
    conn::send(&mut conn.write, &ClientToScheduler::UpdateGraph(update)).await.map_err(conn_err)?;
    let res = wait_and_gather(conn, wanted).await;
    // Whatever happened, this client no longer wants the keys.
    if !matches!(res, Err(ClientError::Conn { .. })) {
        conn::send(&mut conn.write, &ClientToScheduler::ReleaseKeys(wanted.to_vec())).await.map_err(conn_err)?;
    }
    res
}

async fn wait_and_gather(conn: &mut Conn, wanted: &[Key]) -> Result<FxHashMap<Key, Value>, ClientError> {
    let mut left: FxHashSet<&Key> = wanted.iter().collect();
    let mut values: FxHashMap<Key, Value> = FxHashMap::default();
    let mut gathering = false;
    loop {
        if left.is_empty() && !gathering {
            if values.len() == wanted.len() {
                return Ok(values);
            }
            let keys: Vec<Key> = wanted.iter().filter(|k| !values.contains_key(*k)).cloned().collect();
            conn::send(&mut conn.write, &ClientToScheduler::Gather { keys }).await.map_err(conn_err)?;
            gathering = true;
        }
        match conn.reader.message::<SchedulerToClient>("the results").await.map_err(conn_err)? {
            SchedulerToClient::KeyState(ToClient::KeyInMemory { key, .. }) => {
                left.remove(&key);
            }
            SchedulerToClient::KeyState(ToClient::KeyErred { key, failure }) => {
                if left.contains(&key) || wanted.contains(&key) {
                    return Err(ClientError::Task { key: failure.key.clone(), message: failure.message.to_string() });
                }
            }
            SchedulerToClient::KeyState(ToClient::KeyLost(key)) => {
                // Being recomputed: a new key-in-memory will follow.
                if let Some(k) = wanted.iter().find(|k| **k == key) {
                    values.remove(k);
                    left.insert(k);
                }
            }
            SchedulerToClient::KeyState(ToClient::KeyCancelled(key)) => {
                if wanted.contains(&key) {
                    return Err(ClientError::Cancelled(key));
                }
            }
            SchedulerToClient::UpdateRefused { message } => return Err(ClientError::Refused(message)),
            SchedulerToClient::GatherReply { data, missing } => {
                gathering = false;
                values.extend(data);
                // A key missing now was lost after it was reported in
                // memory; the scheduler says so with key-lost and
                // recomputes it, so wait for it again.
                for k in missing {
                    if let Some(k) = wanted.iter().find(|w| **w == k) {
                        if !left.contains(k) && !values.contains_key(k) {
                            return Err(ClientError::Lost(k.clone()));
                        }
                    }
                }
            }
            SchedulerToClient::ScatterDone { .. } => {}
        }
    }
}
