//! Key → id lookup without a second copy of every key.
//!
//! Keys live once, in the graph's `Vec<Key>` indexed by id; the table
//! holds only ids (4 bytes each) and compares through the vector. A
//! `HashMap<Key, TaskId>` would store every key twice.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::task::TaskId;
use crate::Key;

#[derive(Clone, Default)]
pub(crate) struct KeyIndex {
    table: HashTable<TaskId>,
}

#[inline]
fn hash(k: &Key) -> u64 {
    FxBuildHasher.hash_one(k)
}

impl KeyIndex {
    pub(crate) fn with_capacity(n: usize) -> Self {
        KeyIndex { table: HashTable::with_capacity(n) }
    }

    /// Indexes all of `keys` (which must be distinct).
    pub(crate) fn of(keys: &[Key]) -> Self {
        let mut ix = Self::with_capacity(keys.len());
        for i in 0..keys.len() {
            ix.insert_new(keys, TaskId(i as u32));
        }
        ix
    }

    pub(crate) fn get(&self, keys: &[Key], k: &Key) -> Option<TaskId> {
        self.table.find(hash(k), |id| keys[id.idx()] == *k).copied()
    }

    /// Adds `id`, whose key `keys[id]` is not in the index yet.
    pub(crate) fn insert_new(&mut self, keys: &[Key], id: TaskId) {
        self.table.insert_unique(hash(&keys[id.idx()]), id, |id| hash(&keys[id.idx()]));
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}
