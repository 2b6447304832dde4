//! Metadata primitives: how fields are written into a frame's metadata
//! and read back, with every length checked before it is trusted.
//!
//! - unsigned integers are LEB128 varints (at most 10 bytes; overlong or
//!   overflowing encodings are refused), signed ones zigzag varints;
//! - floats are 8 bytes, little-endian IEEE 754;
//! - strings and inline bytes are a varint length then the bytes;
//! - a count of elements is a varint, refused when larger than the bytes
//!   left (every element takes at least one byte), so a count never
//!   reserves memory the message does not back;
//! - key names are interned per message: the first use writes `0` and the
//!   name, later uses write `1 + its index` (1,000 blocks of one array
//!   carry its name once, and decode to keys sharing one `Arc<str>`);
//! - blobs (task payloads, bytes values) are inline up to
//!   [`INLINE_MAX`] bytes, otherwise the next out-of-band buffer.

use std::sync::Arc;
use std::time::Duration;

use blockwork_graph::Key;
use rustc_hash::FxHashMap;

use crate::error::ProtocolError;
use crate::frame::Buffer;

/// Blobs up to this many bytes travel inside the metadata; larger ones
/// as out-of-band buffers.
pub const INLINE_MAX: usize = 1024;

/// How deep values and task arguments may nest.
pub const MAX_DEPTH: u32 = 128;

/// Builds a message's metadata and its out-of-band buffers.
#[derive(Default)]
pub(crate) struct Writer {
    pub meta: Vec<u8>,
    pub buffers: Vec<Buffer>,
    names: FxHashMap<Arc<str>, u32>,
}

impl Writer {
    pub fn u8(&mut self, x: u8) {
        self.meta.push(x);
    }

    pub fn bool(&mut self, b: bool) {
        self.meta.push(u8::from(b));
    }

    pub fn varint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.meta.push((x as u8) | 0x80);
            x >>= 7;
        }
        self.meta.push(x as u8);
    }

    pub fn len(&mut self, n: usize) {
        self.varint(n as u64);
    }

    pub fn i64(&mut self, x: i64) {
        self.varint(((x << 1) ^ (x >> 63)) as u64);
    }

    pub fn f64(&mut self, x: f64) {
        self.meta.extend_from_slice(&x.to_le_bytes());
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.meta.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }

    pub fn duration(&mut self, d: Duration) {
        self.varint(d.as_secs());
        self.varint(u64::from(d.subsec_nanos()));
    }

    pub fn key(&mut self, k: &Key) {
        match self.names.get(k.name()) {
            Some(&i) => self.varint(u64::from(i) + 1),
            None => {
                let i = self.names.len() as u32;
                self.names.insert(k.shared_name().clone(), i);
                self.u8(0);
                self.str(k.name());
            }
        }
        self.len(k.index().len());
        for &i in k.index() {
            self.varint(u64::from(i));
        }
    }

    pub fn keys(&mut self, ks: &[Key]) {
        self.len(ks.len());
        for k in ks {
            self.key(k);
        }
    }

    /// A blob: inline when small, else the next out-of-band buffer.
    pub fn blob(&mut self, b: &Buffer) {
        if b.len() <= INLINE_MAX {
            self.u8(0);
            self.bytes(b);
        } else {
            self.u8(1);
            self.buffers.push(b.clone());
        }
    }
}

/// Reads a message's metadata and takes its buffers in order.
pub(crate) struct Reader<'a> {
    meta: &'a [u8],
    pos: usize,
    buffers: std::vec::IntoIter<Buffer>,
    present: u64,
    names: Vec<Arc<str>>,
    pub depth: u32,
}

impl<'a> Reader<'a> {
    pub fn new(meta: &'a [u8], buffers: Vec<Buffer>) -> Self {
        let present = buffers.len() as u64;
        Reader { meta, pos: 0, buffers: buffers.into_iter(), present, names: Vec::new(), depth: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.meta.len() - self.pos
    }

    /// [`Reader::finish`] for a message whose later versions append
    /// fields: bytes left are theirs, buffers left are still an error.
    pub fn finish_appendable(mut self, what: &'static str) -> Result<(), ProtocolError> {
        self.pos = self.meta.len();
        self.finish(what)
    }

    /// Checks that everything was read: no bytes and no buffers left.
    pub fn finish(self, what: &'static str) -> Result<(), ProtocolError> {
        if self.remaining() > 0 {
            return Err(ProtocolError::TrailingBytes { what, count: self.remaining() as u64 });
        }
        let left = self.buffers.len() as u64;
        if left > 0 {
            return Err(ProtocolError::BufferCount { used: self.present - left, present: self.present });
        }
        Ok(())
    }

    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ProtocolError> {
        if n > self.remaining() {
            return Err(ProtocolError::Truncated { field });
        }
        let s = &self.meta[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, ProtocolError> {
        Ok(self.take(1, field)?[0])
    }

    pub fn bool(&mut self, field: &'static str) -> Result<bool, ProtocolError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            x => Err(ProtocolError::Invalid { field, value: u64::from(x) }),
        }
    }

    pub fn varint(&mut self, field: &'static str) -> Result<u64, ProtocolError> {
        let mut x: u64 = 0;
        for i in 0..10 {
            let b = self.u8(field)?;
            let bits = u64::from(b & 0x7f);
            if i == 9 && b > 1 {
                return Err(ProtocolError::Invalid { field, value: u64::from(b) });
            }
            x |= bits << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && b == 0 {
                    // Overlong: a trailing zero group.
                    return Err(ProtocolError::Invalid { field, value: x });
                }
                return Ok(x);
            }
        }
        unreachable!("the tenth byte always ends or fails the varint")
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, ProtocolError> {
        let x = self.varint(field)?;
        u32::try_from(x).map_err(|_| ProtocolError::Invalid { field, value: x })
    }

    pub fn i64(&mut self, field: &'static str) -> Result<i64, ProtocolError> {
        let z = self.varint(field)?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    pub fn f64(&mut self, field: &'static str) -> Result<f64, ProtocolError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }

    /// A count of elements, each at least one byte long.
    pub fn count(&mut self, field: &'static str) -> Result<usize, ProtocolError> {
        let n = self.varint(field)?;
        if n > self.remaining() as u64 {
            return Err(ProtocolError::Truncated { field });
        }
        Ok(n as usize)
    }

    pub fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], ProtocolError> {
        let n = self.varint(field)?;
        if n > self.remaining() as u64 {
            return Err(ProtocolError::Truncated { field });
        }
        self.take(n as usize, field)
    }

    pub fn str(&mut self, field: &'static str) -> Result<&'a str, ProtocolError> {
        std::str::from_utf8(self.bytes(field)?).map_err(|_| ProtocolError::InvalidUtf8 { field })
    }

    pub fn string(&mut self, field: &'static str) -> Result<String, ProtocolError> {
        self.str(field).map(str::to_owned)
    }

    pub fn arc_str(&mut self, field: &'static str) -> Result<Arc<str>, ProtocolError> {
        self.str(field).map(Arc::from)
    }

    pub fn opt_string(&mut self, field: &'static str) -> Result<Option<String>, ProtocolError> {
        match self.bool(field)? {
            false => Ok(None),
            true => self.string(field).map(Some),
        }
    }

    pub fn duration(&mut self, field: &'static str) -> Result<Duration, ProtocolError> {
        let secs = self.varint(field)?;
        let nanos = self.varint(field)?;
        if nanos >= 1_000_000_000 {
            return Err(ProtocolError::Invalid { field, value: nanos });
        }
        Ok(Duration::new(secs, nanos as u32))
    }

    pub fn key(&mut self) -> Result<Key, ProtocolError> {
        let r = self.varint("key name reference")?;
        let name = if r == 0 {
            let name = self.arc_str("key name")?;
            self.names.push(name.clone());
            name
        } else {
            match self.names.get((r - 1) as usize) {
                Some(n) => n.clone(),
                None => return Err(ProtocolError::Invalid { field: "key name reference", value: r }),
            }
        };
        let n = self.count("key index")?;
        let mut index = smallvec::SmallVec::<[u32; 3]>::with_capacity(n);
        for _ in 0..n {
            index.push(self.u32("key index")?);
        }
        Ok(Key::with_shared_name(&name, &index))
    }

    pub fn keys(&mut self) -> Result<Vec<Key>, ProtocolError> {
        let n = self.count("key list")?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.key()?);
        }
        Ok(v)
    }

    /// The next out-of-band buffer.
    pub fn buffer(&mut self) -> Result<Buffer, ProtocolError> {
        let used = self.present - self.buffers.len() as u64;
        self.buffers.next().ok_or(ProtocolError::BufferCount { used: used + 1, present: self.present })
    }

    pub fn blob(&mut self, field: &'static str) -> Result<Buffer, ProtocolError> {
        match self.u8(field)? {
            0 => self.bytes(field).map(Buffer::from),
            1 => self.buffer(),
            x => Err(ProtocolError::Invalid { field, value: u64::from(x) }),
        }
    }

    /// Enters one level of nesting.
    pub fn enter(&mut self, field: &'static str) -> Result<(), ProtocolError> {
        if self.depth >= MAX_DEPTH {
            return Err(ProtocolError::TooDeep { field, limit: MAX_DEPTH });
        }
        self.depth += 1;
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_refuse_bad_encodings() {
        for x in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let mut w = Writer::default();
            w.varint(x);
            let mut r = Reader::new(&w.meta, vec![]);
            assert_eq!(r.varint("x").unwrap(), x);
            r.finish("x").unwrap();
        }
        // Overlong zero, eleven bytes, overflow in the tenth byte.
        assert!(Reader::new(&[0x80, 0x00], vec![]).varint("x").is_err());
        assert!(Reader::new(&[0xff; 11], vec![]).varint("x").is_err());
        assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], vec![])
            .varint("x")
            .is_err());
    }

    #[test]
    fn zigzag_round_trips() {
        for x in [0, -1, 1, i64::MIN, i64::MAX, -123_456] {
            let mut w = Writer::default();
            w.i64(x);
            assert_eq!(Reader::new(&w.meta, vec![]).i64("x").unwrap(), x);
        }
    }

    #[test]
    fn key_names_are_written_once_and_shared() {
        let name: Arc<str> = "x-ab12".into();
        let keys: Vec<Key> = (0..100).map(|i| Key::with_shared_name(&name, &[i, 0])).collect();
        let mut w = Writer::default();
        w.keys(&keys);
        assert!(w.meta.len() < 6 + 100 * 4 + 10, "{} bytes", w.meta.len());
        let mut r = Reader::new(&w.meta, vec![]);
        let back = r.keys().unwrap();
        assert_eq!(back, keys);
        assert!(Arc::ptr_eq(back[0].shared_name(), back[99].shared_name()));
    }

    #[test]
    fn counts_never_exceed_the_bytes_left() {
        let mut w = Writer::default();
        w.varint(1 << 40);
        assert_eq!(Reader::new(&w.meta, vec![]).keys(), Err(ProtocolError::Truncated { field: "key list" }));
    }
}
