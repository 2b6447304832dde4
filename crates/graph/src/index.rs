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

/// FxHash of the key, then murmur3's finalizer: Fx alone leaves the high
/// bits of keys that differ only in a small block index nearly equal, and
/// hashbrown uses the high bits to filter probes, so a million
/// `("x", i)` keys would collide into long probe chains.
#[inline]
fn hash(k: &Key) -> u64 {
    let mut h = FxBuildHasher.hash_one(k);
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
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
