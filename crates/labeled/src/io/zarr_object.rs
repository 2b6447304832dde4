//! A Zarr store in an object store (`s3://bucket/data.zarr`), as `zarrs`
//! storage: each chunk is one request, a part of one a ranged request.

use std::sync::Arc;

use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs::storage::{
    Bytes, MaybeBytes, MaybeBytesIterator, OffsetBytesIterator, ReadableStorageTraits, StorageError, StoreKey,
    StorePrefix, WritableStorageTraits,
};

/// The keys under one URL prefix.
pub(crate) struct ObjectZarr {
    root: String,
}

impl ObjectZarr {
    /// The store at `root` (an `s3://` URL).
    pub(crate) fn new(root: &str) -> Self {
        ObjectZarr { root: root.trim_end_matches('/').to_string() }
    }

    fn location(&self, key: &StoreKey) -> String {
        blockwork_store::join(&self.root, key.as_str())
    }
}

fn io(e: std::io::Error) -> StorageError {
    StorageError::IOError(Arc::new(e))
}

/// `Ok(None)` for a key that is not there (a chunk never written reads as
/// the fill value).
fn found<T>(r: std::io::Result<T>) -> Result<Option<T>, StorageError> {
    match r {
        Ok(x) => Ok(Some(x)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

impl ReadableStorageTraits for ObjectZarr {
    fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        Ok(found(blockwork_store::read_all(&self.location(key)))?.map(Bytes::from))
    }

    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let location = self.location(key);
        let ranges: Vec<ByteRange> = byte_ranges.collect();
        // The object's size is asked for only when a range counts from its
        // end or runs to it; bounded ranges go straight to ranged reads.
        let size = if ranges.iter().all(|r| matches!(r, ByteRange::FromStart(_, Some(_)))) {
            u64::MAX
        } else {
            match found(blockwork_store::len(&location))? {
                Some(n) => n,
                None => return Ok(None),
            }
        };
        let mut parts: Vec<Result<Bytes, StorageError>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            let range = r.to_range(size);
            match found(blockwork_store::get_range(&location, range.start, range.end)) {
                Ok(Some(bytes)) => parts.push(Ok(bytes)),
                Ok(None) => return Ok(None),
                Err(e) => parts.push(Err(e)),
            }
        }
        Ok(Some(Box::new(parts.into_iter())))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        found(blockwork_store::len(&self.location(key)))
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}

impl WritableStorageTraits for ObjectZarr {
    fn set(&self, key: &StoreKey, value: Bytes) -> Result<(), StorageError> {
        blockwork_store::write_all(&self.location(key), value.to_vec()).map_err(io)
    }

    fn set_partial_many(&self, key: &StoreKey, _values: OffsetBytesIterator<'_>) -> Result<(), StorageError> {
        // Never called: `supports_set_partial` is false (objects are written whole).
        Err(io(std::io::Error::other(format!("{}: objects are written whole, not in parts", self.location(key)))))
    }

    fn erase(&self, key: &StoreKey) -> Result<(), StorageError> {
        blockwork_store::delete(&self.location(key)).map_err(io)
    }

    fn erase_prefix(&self, prefix: &StorePrefix) -> Result<(), StorageError> {
        blockwork_store::delete_prefix(&blockwork_store::join(&self.root, prefix.as_str())).map_err(io)
    }

    fn supports_set_partial(&self) -> bool {
        false
    }
}
