//! Clients: who wants which keys.

use rustc_hash::FxHashSet;

use crate::ids::TaskId;

/// One connected client.
#[derive(Debug, Default)]
pub(crate) struct Client {
    /// Tasks whose results it wants (mirrored by `Task::who_wants`).
    pub wants: FxHashSet<TaskId>,
}
