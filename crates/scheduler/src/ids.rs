//! Dense integer ids and the key hasher.
//!
//! Tasks, workers and clients are named by `u32` newtypes inside the
//! scheduler. Task ids are slots of the task slab and are reused after a
//! task is forgotten (messages from outside always name tasks by [`Key`],
//! never by id, so a reused id cannot be confused). Worker and client ids
//! are never reused: a late message from a removed worker is recognised
//! as stale and ignored.

use std::fmt;
use std::hash::{BuildHasher, Hasher};

use rustc_hash::FxHasher;

#[cfg(doc)]
use blockwork_graph::Key;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident($inner:ty), $prefix:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub struct $name(pub $inner);

        impl $name {
            /// As an index into per-id arrays.
            #[inline]
            pub fn idx(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

id_type!(
    /// A task known to the scheduler: a slot in its task slab.
    TaskId(u32),
    "task#"
);
id_type!(
    /// A worker, assigned by the scheduler when it joins; never reused.
    WorkerId(u32),
    "worker#"
);
id_type!(
    /// A client, assigned by the scheduler when it connects; never reused.
    ClientId(u32),
    "client#"
);
id_type!(
    /// An abstract resource name (`"GPU"`), interned.
    ResourceId(u32),
    "resource#"
);
id_type!(
    /// A key prefix (`"add"` of `"add-3fa2c1"`), interned for duration statistics.
    PrefixId(u32),
    "prefix#"
);
id_type!(
    /// One steal attempt. The victim echoes it in its answer, so an answer
    /// to an older attempt on the same task is recognised and ignored.
    StealId(u64),
    "steal#"
);

/// FxHash, then murmur3's finalizer, for hash maps keyed by [`Key`]: Fx
/// alone leaves the high bits of keys that differ only in a small block
/// index nearly equal, and the std map filters probes by the high bits.
#[derive(Clone, Copy, Default)]
pub struct KeyHasher;

/// The hasher built by [`KeyHasher`].
#[derive(Default)]
pub struct MixedFx(FxHasher);

impl BuildHasher for KeyHasher {
    type Hasher = MixedFx;
    fn build_hasher(&self) -> MixedFx {
        MixedFx(FxHasher::default())
    }
}

impl Hasher for MixedFx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.0.write_u32(i);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0.write_u64(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.0.write_usize(i);
    }
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.0.finish();
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}
