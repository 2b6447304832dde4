//! Making bags: lines of text files (globs, `s3://`, compressed by
//! extension, split into blocks of lines) and items in memory.

use std::io::{Read, Write};
use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{kernel_params, KernelParams, Key, Op, Task, TaskError, Value};

use crate::part::{self, Elem};
use crate::{layer_name, Bag, BagError, Result};

/// How [`read_text`] cuts files into partitions.
#[derive(Clone, Debug, Default)]
pub struct TextOptions {
    /// Bytes per partition of an uncompressed file (each partition holds
    /// the lines that start in its byte range); `None`: a partition per
    /// file. Compressed files are always read whole.
    pub blocksize: Option<u64>,
}

/// The compression of a file, by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub(crate) fn of(path: &str) -> Compression {
        if path.ends_with(".gz") {
            Compression::Gzip
        } else if path.ends_with(".zst") || path.ends_with(".zstd") {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// The text of `bytes` in `compression`.
fn decompress(bytes: Vec<u8>, compression: Compression) -> std::io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(bytes),
        Compression::Gzip => {
            let mut out = Vec::with_capacity(bytes.len() * 4);
            flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out)?;
            Ok(out)
        }
        Compression::Zstd => zstd::stream::decode_all(&bytes[..]),
    }
}

/// `bytes` compressed as `compression`.
pub(crate) fn compress(bytes: Vec<u8>, compression: Compression) -> std::io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(bytes),
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&bytes)?;
            enc.finish()
        }
        Compression::Zstd => zstd::stream::encode_all(&bytes[..], 3),
    }
}

/// Writes `text` to `path` (a local path, its directory made, or an
/// `s3://` URL), compressed as its extension says (`.gz`, `.zst`).
pub fn write_text_file(path: &str, text: String) -> std::io::Result<()> {
    let bytes = compress(text.into_bytes(), Compression::of(path))?;
    if !blockwork_store::is_url(path) {
        if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
            blockwork_store::create_dir_all(&dir.to_string_lossy())?;
        }
    }
    blockwork_store::write_all(path, bytes)
}

/// The lines of `text`, each with its terminator (the last may have none).
fn lines(text: &[u8], file: &str) -> std::result::Result<Vec<String>, TaskError> {
    let text = std::str::from_utf8(text).map_err(|e| TaskError::new(format!("{file} is not UTF-8 text: {e}")))?;
    Ok(text.split_inclusive('\n').map(str::to_string).collect())
}

/// One partition of [`read_text`]: the lines of a file, or of the lines
/// that start in a byte range of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextPiece {
    /// The file (a path or an `s3://` URL).
    pub file: String,
    /// `(start, end, file size)`: the byte range whose lines it holds;
    /// `None`: the whole file (decompressed by its extension).
    pub range: Option<(u64, u64, u64)>,
}

/// The lines of a piece, each with its terminator; an error names the file.
pub fn read_piece(p: &TextPiece) -> std::result::Result<Vec<String>, TaskError> {
    if p.range.is_none() && (blockwork_store::is_url(&p.file) || Compression::of(&p.file) != Compression::None) {
        let io = |e: std::io::Error| TaskError::new(format!("reading {}: {e}", p.file));
        let bytes =
            decompress(blockwork_store::read_all(&p.file).map_err(io)?, Compression::of(&p.file)).map_err(io)?;
        return lines(&bytes, &p.file);
    }
    let mut all = Vec::new();
    crate::lines::stream(p, &mut |line| all.push(line.to_string()))?;
    Ok(all)
}

/// The pieces [`read_text`] makes of the files `pattern` names: a piece
/// per file, or per `blocksize` bytes of an uncompressed file. No file
/// matching is an error naming the pattern.
pub fn text_pieces(pattern: &str, options: &TextOptions) -> Result<Vec<TextPiece>> {
    let files =
        blockwork_store::list(pattern).map_err(|source| BagError::Io { what: format!("listing {pattern}"), source })?;
    if files.is_empty() {
        return Err(BagError::NoFiles(pattern.to_string()));
    }
    if options.blocksize == Some(0) {
        return Err(BagError::Invalid("read_text: blocksize 0: give a number of bytes, or None".into()));
    }
    let mut pieces = Vec::new();
    for file in files {
        match options.blocksize {
            Some(block) if Compression::of(&file) == Compression::None => {
                let size = blockwork_store::len(&file)
                    .map_err(|source| BagError::Io { what: format!("the size of {file}"), source })?;
                let mut start = 0;
                loop {
                    let end = (start + block).min(size);
                    pieces.push(TextPiece { file: file.clone(), range: Some((start, end, size)) });
                    if end >= size {
                        break;
                    }
                    start = end;
                }
            }
            _ => pieces.push(TextPiece { file, range: None }),
        }
    }
    Ok(pieces)
}

/// The lines of the text files `pattern` names (a path, a glob with `*`,
/// `**`, `[ab]`, `{a,b}`, or an `s3://` URL of either), each with its line
/// terminator, as `dask.bag.read_text`: a partition per file, or per
/// `blocksize` bytes of an uncompressed file. `.gz` and `.zst` files are
/// decompressed (whole, a partition each). No file matching is an error
/// naming the pattern.
pub fn read_text(pattern: &str, options: &TextOptions) -> Result<Bag<String>> {
    let pieces = text_pieces(pattern, options)?;
    let mut namer = Namer::new("read-text");
    for p in &pieces {
        namer = namer.add(&*p.file).add(&format!("{:?}", p.range));
    }
    let name = layer_name("read-text", &namer);
    let tasks = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let op = Op::named(&crate::wire::READ_TEXT, p.to_params().to_value());
            (Key::with_shared_name(&name, &[i as u32]), Task::new(op, vec![]))
        })
        .collect();
    Ok(Bag::from_layer(Layer::new(name, tasks, vec![])))
}

kernel_params! {
    /// One piece of `read_text` (a [`TextPiece`]).
    pub(crate) enum ReadTextParams {
        /// A whole file, decompressed by its extension.
        Whole { file: String },
        /// The lines that start in bytes `[start, end)` of a file of
        /// `size` bytes.
        Range { file: String, start: u64, end: u64, size: u64 },
    }
}

impl TextPiece {
    /// The parameters of its named read task.
    fn to_params(&self) -> ReadTextParams {
        let file = self.file.clone();
        match self.range {
            None => ReadTextParams::Whole { file },
            Some((start, end, size)) => ReadTextParams::Range { file, start, end, size },
        }
    }
}

/// The named task of one piece of `read_text`.
pub(crate) fn read_kernel(params: &Value, _: Vec<Value>) -> blockwork_graph::TaskResult {
    let piece = match ReadTextParams::from_value(params)? {
        ReadTextParams::Whole { file } => TextPiece { file, range: None },
        ReadTextParams::Range { file, start, end, size } => TextPiece { file, range: Some((start, end, size)) },
    };
    // A local, uncompressed piece is read where its lines are used.
    if !blockwork_store::is_url(&piece.file) && Compression::of(&piece.file) == Compression::None {
        return Ok(Value::object(crate::lines::TextFile::open(piece)?));
    }
    Ok(part::value(read_piece(&piece)?))
}

/// A bag of `items` in `npartitions` partitions of nearly equal length
/// (at most as many partitions as items, at least one).
pub fn from_sequence<T: Elem>(items: Vec<T>, npartitions: usize) -> Result<Bag<T>> {
    if npartitions == 0 {
        return Err(BagError::Invalid("from_sequence into 0 partitions: give at least 1".into()));
    }
    let n = npartitions.min(items.len()).max(1);
    let per = items.len().div_ceil(n).max(1);
    if crate::wire::is_registered::<T>() {
        // Items that can cross to a worker travel in the graph, as values.
        let token = Op::local("from-sequence", |_| Ok(Value::Unit));
        let name = layer_name("from-sequence", &Namer::new("from-sequence").add(&token).add(&n));
        let mut rest = items.into_iter();
        let tasks = (0..n)
            .map(|i| {
                let chunk: Vec<T> = rest.by_ref().take(per).collect();
                let op = Op::named(&blockwork_graph::builtins::CONSTANT, part::value(chunk));
                (Key::with_shared_name(&name, &[i as u32]), Task::new(op, vec![]))
            })
            .collect();
        return Ok(Bag::from_layer(Layer::new(name, tasks, vec![])));
    }
    let items = Arc::new(items);
    let token = Op::local("from-sequence", |_| Ok(Value::Unit));
    let name = layer_name("from-sequence", &Namer::new("from-sequence").add(&token).add(&n));
    let tasks = (0..n)
        .map(|i| {
            let items = Arc::clone(&items);
            let op = Op::local("from-sequence", move |_| {
                let lo = (i * per).min(items.len());
                Ok(part::value(items[lo..(lo + per).min(items.len())].to_vec()))
            });
            (Key::with_shared_name(&name, &[i as u32]), Task::new(op, vec![]))
        })
        .collect();
    Ok(Bag::from_layer(Layer::new(name, tasks, vec![])))
}
