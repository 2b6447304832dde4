//! Keys: the names of tasks.
//!
//! A key is a name plus a block index, like Dask's `("add-3fa2c1", 1, 2)`.
//! Names are shared (`Arc<str>`) so the thousands of blocks of one
//! operation cost one string; indices are stored inline up to three
//! dimensions, so most keys never allocate beyond their name.

use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

/// The block index part of a key; empty for a key that is a name only.
pub type BlockIndex = SmallVec<[u32; 3]>;

/// The name of a task: `name` alone, or `name` and a block index.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    name: Arc<str>,
    index: BlockIndex,
}

impl Key {
    /// A key with a name and no block index.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Key { name: name.into(), index: BlockIndex::new() }
    }

    /// A key with a name and a block index, e.g. `("x-ab12", 1, 2)`.
    pub fn block(name: impl Into<Arc<str>>, index: &[u32]) -> Self {
        Key { name: name.into(), index: BlockIndex::from_slice(index) }
    }

    /// A key sharing an already allocated name: the cheap way to make the
    /// many keys of one blocked operation.
    pub fn with_shared_name(name: &Arc<str>, index: &[u32]) -> Self {
        Key { name: Arc::clone(name), index: BlockIndex::from_slice(index) }
    }

    /// The name part.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The shared name, to build more keys of the same operation.
    pub fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// The block index part (empty for plain names).
    pub fn index(&self) -> &[u32] {
        &self.index
    }

    /// The name up to its token: `"add-3fa2c1…"` gives `"add"`. Used to
    /// group tasks of one kind in progress bars, profiles and pictures.
    pub fn prefix(&self) -> &str {
        key_prefix(&self.name)
    }
}

/// The part of a task name before its `-token` suffix, if it has one.
pub fn key_prefix(name: &str) -> &str {
    match name.rfind('-') {
        Some(i) if i > 0 && name[i + 1..].chars().all(|c| c.is_ascii_hexdigit()) => &name[..i],
        _ => name,
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.index.is_empty() {
            return write!(f, "{}", self.name);
        }
        write!(f, "(\"{}\"", self.name)?;
        for i in &self.index {
            write!(f, ", {i}")?;
        }
        write!(f, ")")
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key::new(s)
    }
}

impl From<String> for Key {
    fn from(s: String) -> Self {
        Key::new(s)
    }
}

impl From<(&str, u32)> for Key {
    fn from((s, i): (&str, u32)) -> Self {
        Key::block(s, &[i])
    }
}

impl From<(&str, u32, u32)> for Key {
    fn from((s, i, j): (&str, u32, u32)) -> Self {
        Key::block(s, &[i, j])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_like_dask() {
        assert_eq!(Key::new("x").to_string(), "x");
        assert_eq!(Key::block("add-3fa2", &[1, 2]).to_string(), "(\"add-3fa2\", 1, 2)");
    }

    #[test]
    fn prefix_strips_hex_token_only() {
        assert_eq!(Key::new("add-3fa2c1").prefix(), "add");
        assert_eq!(Key::new("mean-chunk-ff").prefix(), "mean-chunk");
        assert_eq!(Key::new("my-task").prefix(), "my-task");
        assert_eq!(Key::new("-ab").prefix(), "-ab");
    }

    #[test]
    fn keys_are_small() {
        assert!(std::mem::size_of::<Key>() <= 40);
    }
}
