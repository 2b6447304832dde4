//! Frames: the unit of the byte stream, and the sans-IO decoder that cuts
//! a stream into them.
//!
//! ```text
//!  offset  size   field
//!  0       4      magic "BWRK"
//!  4       2      protocol version   u16 LE
//!  6       2      message kind       u16 LE
//!  8       4      metadata length    u32 LE   (≤ Limits::max_meta)
//!  12      4      buffer count n     u32 LE   (≤ Limits::max_buffers)
//!  16      8·n    buffer lengths     u64 LE each (≤ Limits::max_buffer, sum ≤ Limits::max_frame)
//!  …       m      metadata
//!  …       Σ      the buffers, back to back
//! ```
//!
//! The decoder checks each header field as soon as it is complete, before
//! any byte that depends on it is awaited, and never reserves memory for
//! a length: it grows its buffers only as bytes arrive. A frame of a
//! handshake kind is accepted at any version (so two sides of different
//! versions can still tell each other why they part); every other frame
//! must be of the decoder's version.

use std::collections::VecDeque;

use crate::error::{EncodeError, ProtocolError};
use crate::kind::{Direction, Kind};
use crate::PROTOCOL_VERSION;

pub use blockwork_graph::Buffer;

/// The four bytes every frame starts with.
pub const MAGIC: [u8; 4] = *b"BWRK";

/// Size of the fixed part of the header.
pub const FIXED_HEADER: usize = 16;

/// Bounds on what a decoder accepts. Exceeding one is a
/// [`ProtocolError::TooLarge`] naming the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of metadata in one frame. Default 256 MiB.
    pub max_meta: u32,
    /// Bytes of one buffer. Default 4 GiB.
    pub max_buffer: u64,
    /// Buffers in one frame. Default 1,048,576.
    pub max_buffers: u32,
    /// Bytes of all buffers of one frame together. Default 16 GiB.
    pub max_frame: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_meta: 256 << 20, max_buffer: 4 << 30, max_buffers: 1 << 20, max_frame: 16 << 30 }
    }
}

/// One message on the wire: its kind, its metadata and its raw buffers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The protocol version it was written in.
    pub version: u16,
    /// What message it carries.
    pub kind: Kind,
    /// The message's fields (see the message types).
    pub meta: Vec<u8>,
    /// Large payloads, carried as they are.
    pub buffers: Vec<Buffer>,
}

impl Frame {
    /// A frame of this process's version.
    pub fn new(kind: Kind, meta: Vec<u8>, buffers: Vec<Buffer>) -> Frame {
        Frame { version: PROTOCOL_VERSION, kind, meta, buffers }
    }

    /// Refuses a frame whose kind does not travel in `dir`.
    pub fn expect(&self, dir: Direction) -> Result<(), ProtocolError> {
        if self.kind.direction() == dir {
            Ok(())
        } else {
            Err(ProtocolError::UnexpectedKind { kind: self.kind.name(), expected: dir.name() })
        }
    }

    /// Bytes on the wire.
    pub fn wire_len(&self) -> u64 {
        (FIXED_HEADER + 8 * self.buffers.len() + self.meta.len()) as u64
            + self.buffers.iter().map(|b| b.len() as u64).sum::<u64>()
    }
}

/// A frame ready to write: the header, the metadata and the buffers as
/// separate chunks (write them in order, e.g. with vectored writes).
#[derive(Clone, Debug)]
pub struct EncodedFrame {
    header: Vec<u8>,
    meta: Vec<u8>,
    buffers: Vec<Buffer>,
}

impl EncodedFrame {
    /// The chunks to write, in order. Buffers are the caller's own
    /// allocations, not copies.
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        [&self.header[..], &self.meta[..]]
            .into_iter()
            .chain(self.buffers.iter().map(|b| &b[..]))
            .filter(|c| !c.is_empty())
    }

    /// Total bytes.
    pub fn len(&self) -> usize {
        self.chunks().map(<[u8]>::len).sum()
    }

    /// Whether there is nothing to write (never: a header is 16 bytes).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// All chunks copied into one vector (for tests and small messages).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len());
        self.chunks().for_each(|c| v.extend_from_slice(c));
        v
    }
}

/// Lays a frame out for writing. Fails only when a length does not fit
/// its header field.
pub fn encode_frame(frame: Frame) -> Result<EncodedFrame, EncodeError> {
    let meta_len = u32::try_from(frame.meta.len()).map_err(|_| EncodeError::TooLarge {
        field: "metadata length",
        value: frame.meta.len() as u64,
        limit: u64::from(u32::MAX),
    })?;
    let n = u32::try_from(frame.buffers.len()).map_err(|_| EncodeError::TooLarge {
        field: "buffer count",
        value: frame.buffers.len() as u64,
        limit: u64::from(u32::MAX),
    })?;
    let mut header = Vec::with_capacity(FIXED_HEADER + 8 * frame.buffers.len());
    header.extend_from_slice(&MAGIC);
    header.extend_from_slice(&frame.version.to_le_bytes());
    header.extend_from_slice(&frame.kind.to_u16().to_le_bytes());
    header.extend_from_slice(&meta_len.to_le_bytes());
    header.extend_from_slice(&n.to_le_bytes());
    for b in &frame.buffers {
        header.extend_from_slice(&(b.len() as u64).to_le_bytes());
    }
    Ok(EncodedFrame { header, meta: frame.meta, buffers: frame.buffers })
}

/// The header fields of the frame being read.
#[derive(Clone, Copy, Debug)]
struct Head {
    version: u16,
    kind: Kind,
    meta_len: u32,
    nbufs: u32,
}

#[derive(Debug)]
enum Stage {
    /// Reading the 16 fixed bytes.
    Fixed(Vec<u8>),
    /// Reading buffer lengths; `part` holds the bytes of the next one.
    Lengths { head: Head, lens: Vec<u64>, part: Vec<u8>, total: u64 },
    /// Reading the metadata.
    Meta { head: Head, lens: Vec<u64>, meta: Vec<u8> },
    /// Reading buffer `bufs.len()` into `cur`.
    Buffers { head: Head, lens: Vec<u64>, meta: Vec<u8>, bufs: Vec<Buffer>, cur: Vec<u8> },
}

/// Cuts a byte stream into frames, however the stream is split.
///
/// Push bytes as they arrive with [`FrameDecoder::push`], then take the
/// complete frames with [`FrameDecoder::next_frame`]. After an error the
/// decoder is poisoned: the stream has lost its place and the connection
/// must be closed (other connections, with their own decoders, are not
/// affected).
#[derive(Debug)]
pub struct FrameDecoder {
    limits: Limits,
    version: u16,
    stage: Stage,
    ready: VecDeque<Frame>,
    failed: Option<ProtocolError>,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(Limits::default())
    }
}

/// Bytes of a buffer allocated when its first bytes arrive: a block of up
/// to this size is received into one allocation, not a doubling `Vec`
/// that copies it and faults in fresh pages at every step; a larger
/// buffer grows from there, so a length a peer claims but never sends
/// costs at most this much (untouched) memory.
const PREALLOC: usize = 64 << 20;

/// Moves bytes from `input` into `dst` until it holds `want`; whether it does.
fn fill(dst: &mut Vec<u8>, want: usize, input: &mut &[u8]) -> bool {
    let n = (want - dst.len()).min(input.len());
    dst.extend_from_slice(&input[..n]);
    *input = &input[n..];
    dst.len() == want
}

impl FrameDecoder {
    /// A decoder of this process's version with these limits.
    pub fn new(limits: Limits) -> Self {
        FrameDecoder::with_version(limits, PROTOCOL_VERSION)
    }

    /// A decoder that accepts frames of `version` (tests, simulations).
    pub fn with_version(limits: Limits, version: u16) -> Self {
        FrameDecoder { limits, version, stage: Stage::Fixed(Vec::new()), ready: VecDeque::new(), failed: None }
    }

    /// Feeds bytes from the stream. Complete frames become available from
    /// [`FrameDecoder::next_frame`]; an invalid header or a limit exceeded
    /// is an error, and so is every later call.
    pub fn push(&mut self, mut input: &[u8]) -> Result<(), ProtocolError> {
        if let Some(e) = &self.failed {
            return Err(ProtocolError::Poisoned(Box::new(e.clone())));
        }
        loop {
            match self.step(&mut input) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => {
                    self.failed = Some(e.clone());
                    self.stage = Stage::Fixed(Vec::new());
                    return Err(e);
                }
            }
        }
    }

    /// The next complete frame, oldest first.
    pub fn next_frame(&mut self) -> Option<Frame> {
        self.ready.pop_front()
    }

    /// Whether the decoder is in the middle of a frame (a stream that
    /// ends now ends inside a frame).
    pub fn is_mid_frame(&self) -> bool {
        !matches!(&self.stage, Stage::Fixed(v) if v.is_empty())
    }

    /// One step of progress; `false` when more input is needed.
    fn step(&mut self, input: &mut &[u8]) -> Result<bool, ProtocolError> {
        let stage = std::mem::replace(&mut self.stage, Stage::Fixed(Vec::new()));
        let (next, progressed) = match stage {
            Stage::Fixed(mut got) => {
                let done = fill(&mut got, FIXED_HEADER, input);
                if got.len() >= 4 && got[..4] != MAGIC {
                    return Err(ProtocolError::BadMagic { found: [got[0], got[1], got[2], got[3]] });
                }
                if !done {
                    (Stage::Fixed(got), false)
                } else {
                    let head = self.check_head(&got)?;
                    (Stage::Lengths { head, lens: Vec::new(), part: Vec::new(), total: 0 }, true)
                }
            }
            Stage::Lengths { head, mut lens, mut part, mut total } => {
                if lens.len() == head.nbufs as usize {
                    (Stage::Meta { head, lens, meta: Vec::new() }, true)
                } else if fill(&mut part, 8, input) {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(&part);
                    let len = u64::from_le_bytes(a);
                    let l = &self.limits;
                    if len > l.max_buffer {
                        return Err(ProtocolError::TooLarge {
                            field: "buffer length",
                            value: len,
                            limit: l.max_buffer,
                        });
                    }
                    total = total.saturating_add(len);
                    if total > l.max_frame {
                        return Err(ProtocolError::TooLarge {
                            field: "total buffer length",
                            value: total,
                            limit: l.max_frame,
                        });
                    }
                    lens.push(len);
                    part.clear();
                    (Stage::Lengths { head, lens, part, total }, true)
                } else {
                    (Stage::Lengths { head, lens, part, total }, false)
                }
            }
            Stage::Meta { head, lens, mut meta } => {
                if fill(&mut meta, head.meta_len as usize, input) {
                    (Stage::Buffers { head, lens, meta, bufs: Vec::new(), cur: Vec::new() }, true)
                } else {
                    (Stage::Meta { head, lens, meta }, false)
                }
            }
            Stage::Buffers { head, lens, meta, mut bufs, mut cur } => {
                if bufs.len() == lens.len() {
                    self.ready.push_back(Frame { version: head.version, kind: head.kind, meta, buffers: bufs });
                    (Stage::Fixed(Vec::new()), true)
                } else {
                    // Sizes beyond usize cannot arrive anyway; clamp so
                    // 32-bit targets wait instead of overflowing.
                    let want = usize::try_from(lens[bufs.len()]).unwrap_or(usize::MAX);
                    if cur.capacity() == 0 {
                        cur.reserve_exact(want.min(PREALLOC));
                    }
                    if fill(&mut cur, want, input) {
                        bufs.push(Buffer::from(std::mem::take(&mut cur)));
                        (Stage::Buffers { head, lens, meta, bufs, cur }, true)
                    } else {
                        (Stage::Buffers { head, lens, meta, bufs, cur }, false)
                    }
                }
            }
        };
        self.stage = next;
        Ok(progressed)
    }

    fn check_head(&self, b: &[u8]) -> Result<Head, ProtocolError> {
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let version = u16_at(4);
        let raw_kind = u16_at(6);
        let kind = Kind::from_u16(raw_kind).ok_or(ProtocolError::UnknownKind { kind: raw_kind })?;
        if version != self.version && kind.direction() != Direction::Handshake {
            return Err(ProtocolError::UnsupportedVersion { found: version, supported: self.version });
        }
        let meta_len = u32_at(8);
        if meta_len > self.limits.max_meta {
            return Err(ProtocolError::TooLarge {
                field: "metadata length",
                value: u64::from(meta_len),
                limit: u64::from(self.limits.max_meta),
            });
        }
        let nbufs = u32_at(12);
        if nbufs > self.limits.max_buffers {
            return Err(ProtocolError::TooLarge {
                field: "buffer count",
                value: u64::from(nbufs),
                limit: u64::from(self.limits.max_buffers),
            });
        }
        Ok(Head { version, kind, meta_len, nbufs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Frame {
        Frame::new(
            Kind::Data,
            b"meta".to_vec(),
            vec![Buffer::from(&b"first"[..]), Buffer::from(&b""[..]), vec![7u8; 3000].into()],
        )
    }

    #[test]
    fn a_frame_survives_every_split() {
        let f = sample();
        let bytes = encode_frame(f.clone()).unwrap().to_vec();
        assert_eq!(bytes.len() as u64, f.wire_len());
        for cut in 0..bytes.len() {
            let mut d = FrameDecoder::default();
            d.push(&bytes[..cut]).unwrap();
            assert_eq!(d.next_frame(), None);
            d.push(&bytes[cut..]).unwrap();
            assert_eq!(d.next_frame(), Some(f.clone()));
            assert!(!d.is_mid_frame());
        }
        let mut d = FrameDecoder::default();
        for b in &bytes {
            d.push(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(d.next_frame(), Some(f));
    }

    #[test]
    fn encoding_does_not_copy_buffers() {
        let f = sample();
        let big = f.buffers[2].clone();
        let e = encode_frame(f).unwrap();
        assert!(e.chunks().any(|c| std::ptr::eq(c.as_ptr(), big.as_ptr())));
    }

    #[test]
    fn empty_frames_and_back_to_back_frames() {
        let a = Frame::new(Kind::Busy, vec![], vec![]);
        let b = sample();
        let mut bytes = encode_frame(a.clone()).unwrap().to_vec();
        bytes.extend(encode_frame(b.clone()).unwrap().to_vec());
        let mut d = FrameDecoder::default();
        d.push(&bytes).unwrap();
        assert_eq!(d.next_frame(), Some(a));
        assert_eq!(d.next_frame(), Some(b));
        assert_eq!(d.next_frame(), None);
    }

    #[test]
    fn header_faults_name_the_field() {
        let good = encode_frame(sample()).unwrap().to_vec();
        let with = |i: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[i..i + bytes.len()].copy_from_slice(bytes);
            let mut d = FrameDecoder::new(Limits { max_meta: 100, max_buffer: 5000, max_buffers: 3, max_frame: 6000 });
            d.push(&b).unwrap_err()
        };
        assert!(matches!(with(0, b"HTTP"), ProtocolError::BadMagic { found } if &found == b"HTTP"));
        assert_eq!(with(4, &[9, 0]), ProtocolError::UnsupportedVersion { found: 9, supported: PROTOCOL_VERSION });
        assert_eq!(with(6, &[0xee, 0xee]), ProtocolError::UnknownKind { kind: 0xeeee });
        assert_eq!(
            with(8, &1000u32.to_le_bytes()),
            ProtocolError::TooLarge { field: "metadata length", value: 1000, limit: 100 }
        );
        assert_eq!(
            with(12, &4u32.to_le_bytes()),
            ProtocolError::TooLarge { field: "buffer count", value: 4, limit: 3 }
        );
        assert_eq!(
            with(16, &u64::MAX.to_le_bytes()),
            ProtocolError::TooLarge { field: "buffer length", value: u64::MAX, limit: 5000 }
        );
        assert_eq!(
            with(16, &4000u64.to_le_bytes()),
            ProtocolError::TooLarge { field: "total buffer length", value: 7000, limit: 6000 }
        );
    }

    #[test]
    fn a_huge_declared_buffer_reserves_a_bounded_amount() {
        let mut header = Vec::new();
        header.extend_from_slice(&MAGIC);
        header.extend_from_slice(&PROTOCOL_VERSION.to_le_bytes());
        header.extend_from_slice(&Kind::Data.to_u16().to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes());
        header.extend_from_slice(&1u32.to_le_bytes());
        header.extend_from_slice(&(4u64 << 30).to_le_bytes());
        let mut d = FrameDecoder::default();
        d.push(&header).unwrap();
        d.push(&[1, 2, 3]).unwrap();
        match &d.stage {
            Stage::Buffers { cur, .. } => assert_eq!(cur.capacity(), PREALLOC),
            s => panic!("unexpected stage {s:?}"),
        }
    }

    #[test]
    fn handshake_frames_pass_at_any_version_and_errors_poison() {
        let mut hello = encode_frame(Frame::new(Kind::Hello, vec![], vec![])).unwrap().to_vec();
        hello[4] = 77;
        let mut d = FrameDecoder::default();
        d.push(&hello).unwrap();
        assert_eq!(d.next_frame().unwrap().version, 77);
        assert!(d.push(b"garbage!").is_err());
        assert!(matches!(d.push(&hello), Err(ProtocolError::Poisoned(_))));
    }
}
