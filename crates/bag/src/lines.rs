//! A partition of `read_text` that is read where its lines are used.
//!
//! A partition of lines as a `Vec<String>` costs an allocation and a copy
//! per line, and the whole text in memory at once: for a pile of text
//! that is counted or filtered, more than the counting. A local,
//! uncompressed piece therefore becomes a [`TextFile`]: the read task
//! only checks the file, and whatever streams the partition's items (the
//! fused `map`/`filter`/`flat_map` steps and the reduction after them)
//! reads the file a megabyte at a time and hands each line on, borrowed.
//! A consumer that needs the items as a slice (`compute`, a partition
//! function) makes the `Vec<String>` once and it is kept.
//!
//! Two consumers of one such partition each read the file: reading a
//! local file again costs less than holding its lines.

use std::any::{Any, TypeId};
use std::io::Read;
use std::sync::OnceLock;

use blockwork_graph::{Data, TaskError};

use crate::read::{read_piece, TextPiece};

/// Bytes read from the file at a time.
const READ_SIZE: usize = 1 << 20;

/// The lines of a local, uncompressed [`TextPiece`], read when streamed.
#[derive(Debug)]
pub(crate) struct TextFile {
    piece: TextPiece,
    /// The lines, once a consumer asked for them as a slice.
    lines: OnceLock<Result<Vec<String>, TaskError>>,
}

impl TextFile {
    /// The partition of `piece`, which must be a local file's (not an
    /// `s3://` URL) and not compressed; an error names the file when it
    /// cannot be opened now.
    pub(crate) fn open(piece: TextPiece) -> Result<TextFile, TaskError> {
        std::fs::metadata(&piece.file).map_err(|e| TaskError::new(format!("reading {}: {e}", piece.file)))?;
        Ok(TextFile { piece, lines: OnceLock::new() })
    }

    /// Its lines as a slice, read the first time.
    pub(crate) fn lines(&self) -> Result<&Vec<String>, TaskError> {
        self.lines.get_or_init(|| read_piece(&self.piece)).as_ref().map_err(Clone::clone)
    }

    /// Hands each line to `f`, in order: from the lines when they were
    /// made, else from the file.
    pub(crate) fn each(&self, f: &mut dyn FnMut(&String)) -> Result<(), TaskError> {
        if let Some(lines) = self.lines.get() {
            lines.as_ref().map_err(Clone::clone)?.iter().for_each(f);
            return Ok(());
        }
        let mut line = String::new();
        stream(&self.piece, &mut |text| {
            line.clear();
            line.push_str(text);
            f(&line);
        })
    }
}

/// Hands `f` each line of an uncompressed piece (a local file, or a byte
/// range of an `s3://` object), with its terminator, in order, read a
/// megabyte at a time; an error names the file.
pub(crate) fn stream(piece: &TextPiece, f: &mut dyn FnMut(&str)) -> Result<(), TaskError> {
    let file = &piece.file;
    let io = |e: std::io::Error| TaskError::environment(format!("reading {file}: {e}"));
    let (start, end) = piece.range.map_or((0, u64::MAX), |(start, end, _)| (start, end));
    let from = start.saturating_sub(1);
    let reader: Box<dyn Read> = match piece.range {
        Some((_, _, size)) if blockwork_store::is_url(file) => {
            Box::new(StoreReader { location: file, size, pos: from, buf: Vec::new() })
        }
        _ => {
            let mut f = std::fs::File::open(file).map_err(io)?;
            std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(from)).map_err(io)?;
            Box::new(f)
        }
    };
    let mut bad = None;
    each_line(reader, from, start, end, &mut |at, bytes| match std::str::from_utf8(bytes) {
        Ok(text) => {
            f(text);
            true
        }
        Err(e) => {
            let at = at + e.valid_up_to() as u64;
            bad = Some(TaskError::new(format!("{file} is not UTF-8 text: at byte {at}: {e}")));
            false
        }
    })
    .map_err(io)?;
    bad.map_or(Ok(()), Err)
}

/// An object's bytes from `pos` on, read by ranges through the store.
struct StoreReader<'a> {
    location: &'a str,
    size: u64,
    pos: u64,
    buf: Vec<u8>,
}

impl Read for StoreReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.buf.clear();
        let end = (self.pos + out.len() as u64).min(self.size);
        blockwork_store::read_range_of(self.location, Some(self.size), self.pos, end, &mut self.buf)?;
        let n = self.buf.len().min(out.len());
        out[..n].copy_from_slice(&self.buf[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Data for TextFile {
    /// As a `Part<String>`'s: the lines' own sizes once made, else none.
    fn nbytes(&self) -> usize {
        self.lines.get().and_then(|l| l.as_ref().ok()).map_or(0, |l| l.len() * std::mem::size_of::<String>())
    }

    /// That of a partition of `String`s: it crosses the wire as one.
    fn type_name(&self) -> &'static str {
        crate::wire::codec_name(std::any::TypeId::of::<crate::part::Part<String>>()).unwrap_or("bag partition")
    }
}

/// The lines of `file` as items of `T`; `None` when `T` is not `String`.
pub(crate) fn as_items<T: 'static>(file: &TextFile) -> Result<Option<&[T]>, TaskError> {
    if TypeId::of::<T>() != TypeId::of::<String>() {
        return Ok(None);
    }
    Ok((file.lines()? as &dyn Any).downcast_ref::<Vec<T>>().map(Vec::as_slice))
}

/// Hands `emit` each line of `file` as an item of `T`, borrowed; `None`
/// when `T` is not `String`.
pub(crate) fn stream_items<T: 'static>(file: &TextFile, emit: &mut dyn FnMut(&T)) -> Option<Result<(), TaskError>> {
    if TypeId::of::<T>() != TypeId::of::<String>() {
        return None;
    }
    Some(file.each(&mut |line| {
        if let Some(x) = (line as &dyn Any).downcast_ref::<T>() {
            emit(x)
        }
    }))
}

/// Hands `f` each line (its bytes with the terminator, and the offset of
/// its first byte) that starts in `[start, end)` of a text read by
/// `reader` from offset `from` (`start - 1`, or 0): a partial line at
/// `start` belongs to the range before, the last line is read on past
/// `end` to its end. Stops early when `f` returns false.
fn each_line(
    mut reader: impl Read,
    from: u64,
    start: u64,
    end: u64,
    f: &mut dyn FnMut(u64, &[u8]) -> bool,
) -> std::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(READ_SIZE);
    // `buf[lo..]` is unread; `base` is the file offset of `buf[0]`.
    let (mut base, mut lo) = (from, 0usize);
    let mut skipping = start > 0;
    let mut eof = false;
    loop {
        while let Some(i) = memchr::memchr(b'\n', &buf[lo..]) {
            let next = lo + i + 1;
            if !skipping && (base + lo as u64 >= end || !f(base + lo as u64, &buf[lo..next])) {
                return Ok(());
            }
            (skipping, lo) = (false, next);
        }
        let at = base + lo as u64;
        if skipping && base + buf.len() as u64 >= end {
            return Ok(()); // no line starts in the range
        }
        if eof {
            if !skipping && lo < buf.len() && at < end {
                f(at, &buf[lo..]);
            }
            return Ok(());
        }
        buf.drain(..lo);
        (base, lo) = (at, 0);
        let have = buf.len();
        buf.resize(have + READ_SIZE, 0);
        let n = read_full(&mut reader, &mut buf[have..])?;
        buf.truncate(have + n);
        eof = n == 0;
    }
}

/// Reads until `buf` is full or the end; how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines [`each_line`] finds in `text[start..end]`'s range.
    fn lines_in(text: &str, start: u64, end: u64) -> Vec<String> {
        let from = start.saturating_sub(1);
        let mut out = Vec::new();
        each_line(&text.as_bytes()[from as usize..], from, start, end, &mut |at, b| {
            assert_eq!(&text.as_bytes()[at as usize..at as usize + b.len()], b);
            out.push(String::from_utf8(b.to_vec()).unwrap());
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn ranges_split_lines_where_they_start() {
        let mut rng = blockwork_testkit::Rng::new(7);
        for _ in 0..300 {
            let n = rng.below(40) as usize;
            let text: String = (0..n)
                .map(|_| match rng.below(5) {
                    0 => '\n',
                    _ => 'a',
                })
                .collect();
            let size = text.len() as u64;
            let whole: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
            assert_eq!(lines_in(&text, 0, u64::MAX), whole);
            // Any cut into blocks gives every line once, in order.
            let block = 1 + rng.below(12);
            let mut joined = Vec::new();
            let mut start = 0;
            while start < size {
                let end = (start + block).min(size);
                joined.extend(lines_in(&text, start, end));
                start = end;
            }
            assert_eq!(joined, whole, "{text:?} in blocks of {block}");
        }
    }

    #[test]
    fn lines_longer_than_a_read_are_whole() {
        let long = "x".repeat(READ_SIZE * 2 + 17);
        let text = format!("a\n{long}\nb");
        assert_eq!(lines_in(&text, 0, u64::MAX), ["a\n".to_string(), format!("{long}\n"), "b".into()]);
        assert_eq!(lines_in(&text, 1, 5), [format!("{long}\n")]);
        assert_eq!(lines_in(&text, 3, 9), Vec::<String>::new());
    }
}
