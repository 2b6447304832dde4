//! Byte ranges of one file or object, the small reads served from cached
//! aligned blocks.
//!
//! Formats that seek — a NetCDF-4 file is HDF5, whose headers, B-trees and
//! heaps are read a few dozen bytes at a time — would otherwise make one
//! request per field to an object store. Reads below [`BLOCK`] are
//! rounded out to aligned blocks, fetched once (contiguous missing blocks
//! in one request) and kept, at most [`MAX_BLOCKS`] per object (the oldest
//! go first) and [`BUDGET`] bytes in the whole process (past it, blocks
//! are served but not kept); larger reads (a chunk of data) go straight to
//! the store and are not kept. Opened files stay open in their readers'
//! caches, so without these bounds a pile of hundreds of files would hold
//! hundreds of caches.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use bytes::{Bytes, BytesMut};

use crate::{get_range, IoResult};

/// The size of a cached block, and the read size from which reads are not cached.
pub const BLOCK: u64 = 64 * 1024;
/// The most blocks kept per object.
pub const MAX_BLOCKS: usize = 16;
/// The most bytes of blocks kept by all objects of the process.
pub const BUDGET: usize = 128 << 20;

/// Bytes of blocks kept now, by all objects.
static KEPT: AtomicUsize = AtomicUsize::new(0);

/// Counts `n` more bytes kept if the budget allows.
fn reserve(n: usize) -> bool {
    KEPT.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |k| (k + n <= BUDGET).then_some(k + n)).is_ok()
}

fn release(n: usize) {
    KEPT.fetch_sub(n, Ordering::Relaxed);
}

/// One file or object of known size, read by ranges.
pub struct Ranges {
    location: String,
    size: u64,
    /// Cached blocks by index, oldest first.
    blocks: Mutex<Vec<(u64, Bytes)>>,
}

impl Ranges {
    /// `location` (a path or an `s3://` URL) of `size` bytes.
    pub fn new(location: impl Into<String>, size: u64) -> Self {
        Ranges { location: location.into(), size, blocks: Mutex::new(Vec::new()) }
    }

    /// Its location.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// `len` bytes at `offset`; an error if they reach past the end.
    pub fn read(&self, offset: u64, len: u64) -> IoResult<Bytes> {
        let end = offset.checked_add(len).filter(|&e| e <= self.size).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: bytes {offset}..{} asked of {} bytes",
                    self.location,
                    offset.saturating_add(len),
                    self.size
                ),
            )
        })?;
        if len == 0 {
            return Ok(Bytes::new());
        }
        if len >= BLOCK {
            return get_range(&self.location, offset, end);
        }
        let (first, last) = (offset / BLOCK, (end - 1) / BLOCK);
        let blocks = self.blocks(first, last)?;
        let from = (offset - first * BLOCK) as usize;
        if let [only] = blocks.as_slice() {
            return Ok(only.slice(from..from + len as usize));
        }
        let mut out = BytesMut::with_capacity(len as usize);
        for b in &blocks {
            out.extend_from_slice(b);
        }
        Ok(out.freeze().slice(from..from + len as usize))
    }

    /// Blocks `first..=last`, fetching the missing ones in one request.
    fn blocks(&self, first: u64, last: u64) -> IoResult<Vec<Bytes>> {
        let cached = |i: u64| {
            let blocks = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
            blocks.iter().find(|(j, _)| *j == i).map(|(_, b)| b.clone())
        };
        let mut got: Vec<Option<Bytes>> = (first..=last).map(cached).collect();
        let missing: Vec<u64> = (first..=last).filter(|i| got[(i - first) as usize].is_none()).collect();
        if let (Some(&lo), Some(&hi)) = (missing.first(), missing.last()) {
            let end = ((hi + 1) * BLOCK).min(self.size);
            let fetched = get_range(&self.location, lo * BLOCK, end)?;
            let mut blocks = self.blocks.lock().unwrap_or_else(|e| e.into_inner());
            for i in lo..=hi {
                let at = ((i - lo) * BLOCK) as usize;
                let block = fetched.slice(at..(at + BLOCK as usize).min(fetched.len()));
                if !blocks.iter().any(|(j, _)| *j == i) {
                    if blocks.len() >= MAX_BLOCKS {
                        release(blocks.remove(0).1.len());
                    }
                    if reserve(block.len()) {
                        blocks.push((i, block.clone()));
                    }
                }
                got[(i - first) as usize] = Some(block);
            }
        }
        Ok(got.into_iter().map(|b| b.unwrap_or_default()).collect())
    }
}

/// A [`Ranges`] as a reader that seeks, for parsers that take
/// `Read + Seek` (a GRIB file's sections are read by seeking past data).
pub struct RangesReader {
    ranges: Ranges,
    pos: u64,
}

impl RangesReader {
    /// Reads `ranges` from its start.
    pub fn new(ranges: Ranges) -> Self {
        RangesReader { ranges, pos: 0 }
    }
}

impl std::io::Read for RangesReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.ranges.size().saturating_sub(self.pos));
        if n == 0 {
            return Ok(0);
        }
        let bytes = self.ranges.read(self.pos, n)?;
        buf[..bytes.len()].copy_from_slice(&bytes);
        self.pos += bytes.len() as u64;
        Ok(bytes.len())
    }
}

impl std::io::Seek for RangesReader {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let at = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::End(d) => self.ranges.size().checked_add_signed(d),
            std::io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = at.ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{}: seek before the start", self.ranges.location),
            )
        })?;
        Ok(self.pos)
    }
}

impl Drop for Ranges {
    fn drop(&mut self) {
        let blocks = self.blocks.get_mut().unwrap_or_else(|e| e.into_inner());
        release(blocks.iter().map(|(_, b)| b.len()).sum());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every range of a local file reads as the file's own bytes, across
    /// block edges and with the cache full.
    #[test]
    fn ranges_read_what_the_file_holds() {
        let dir = std::env::temp_dir().join(format!("bw-ranges-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.bin");
        let data: Vec<u8> = (0..(BLOCK as usize * 3 + 1234)).map(|i| (i * 7 + i / 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let r = Ranges::new(path.display().to_string(), data.len() as u64);
        let mut seed = 12345u64;
        for _ in 0..400 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let offset = (seed >> 33) % data.len() as u64;
            let len = ((seed >> 13) % (2 * BLOCK)).min(data.len() as u64 - offset);
            let got = r.read(offset, len).unwrap();
            assert_eq!(&got[..], &data[offset as usize..(offset + len) as usize], "{offset}+{len}");
        }
        let kept: usize = r.blocks.lock().unwrap().iter().map(|(_, b)| b.len()).sum();
        assert!(r.blocks.lock().unwrap().len() <= MAX_BLOCKS && kept > 0);
        assert!(KEPT.load(Ordering::Relaxed) >= kept);
        drop(r);
        assert_eq!(KEPT.load(Ordering::Relaxed), 0, "a dropped object's blocks leave the budget");
        let r = Ranges::new(path.display().to_string(), data.len() as u64);
        let err = r.read(data.len() as u64 - 2, 3).unwrap_err();
        assert!(err.to_string().contains("data.bin"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
