//! Chunk-level reads of a local NetCDF-4 variable whose chunks are stored
//! as they are, deflated, or shuffled and deflated (the layout of
//! compressed climate piles), or that is stored contiguously (the layout
//! of uncompressed ones), straight into the block.
//!
//! The reader's own path allocates the compressed bytes, the inflated
//! chunk, the unshuffled chunk and the block, zeroing some of them, and
//! copies the chunk into the block: on a pile of 8 MB chunks, fresh pages,
//! zeroing and the copy cost about a third of what inflating does. Here
//! a chunk's bytes are read into a buffer the thread keeps, inflated whole
//! by libdeflate into another, and each element is taken from the
//! shuffle's byte planes into its place in the block: one fresh allocation
//! (the block), no copy, and where chunks are slabs of the block, no
//! zeroing of it either. A contiguous variable is one chunk the size of
//! the variable, stored as it is: only the bytes a block needs are read.
//!
//! A reduction over the first dimension need not have the block at all:
//! [`Chunked::read_rows`] hands it over in slabs of a few rows, taken from
//! each inflated chunk or read from the file a slab at a time, which the
//! reduction folds while they are in cache (the NetCDF reader's
//! `RowSource`, see `blockwork_array::rows`).
//!
//! Only what this module knows is read here: a contiguous layout, or a
//! chunked one indexed by a version-1 B-tree (what the NetCDF library
//! writes by default) with at most the shuffle and deflate filters in
//! that order; a little-endian element of the block's size; and every
//! element of the block stored (a contiguous variable's block made of
//! whole rows). Anything else — another index, filter or byte order,
//! chunks not yet written, an object store — is read by the reader, as
//! before.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::mem::MaybeUninit;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use hdf5_reader::btree_v1::{collect_btree_v1_leaves_storage, BTreeV1Key};
use hdf5_reader::messages::layout::DataLayout;
use hdf5_reader::messages::HdfMessage;
use hdf5_reader::{ByteOrder, Datatype, Hdf5File};

use crate::io::netcdf::FileId;
use crate::io::stages;
use crate::io::unshuffle::quads;
use blockwork_array::simd::with_avx2;

/// HDF5's filter id for deflate.
const DEFLATE: u16 = 1;
/// HDF5's filter id for shuffle.
const SHUFFLE: u16 = 2;
/// Chunks larger than this, stored or decoded, are left to the reader.
const MAX_CHUNK_BYTES: u64 = 256 << 20;

/// One stored chunk of a variable.
struct Chunk {
    /// Where its bytes start in the file.
    address: u64,
    /// How many bytes are stored.
    size: usize,
    /// Its first index along each dimension.
    offsets: Vec<u64>,
    /// Whether its bytes are deflated (the filter mask may skip it).
    deflated: bool,
    /// Whether its bytes are shuffled.
    shuffled: bool,
}

/// A variable whose chunks are read here.
pub(crate) struct Chunked {
    /// The file, opened by each read: plans are kept for many files, and
    /// holding a descriptor for each would run into the process's limit.
    path: PathBuf,
    shape: Vec<u64>,
    chunk: Vec<u64>,
    elem: usize,
    chunks: Vec<Chunk>,
    /// Whether the variable is stored contiguously (one chunk of its
    /// shape, not listed by `stored`).
    contiguous: bool,
}

/// The variable `name` of a local file, if its layout is one this module
/// reads (`None`: the reader's path). Planned once per file and variable.
pub(crate) fn chunked(id: &FileId, name: &str) -> Option<Arc<Chunked>> {
    type Plans = Mutex<HashMap<(FileId, String), Option<Arc<Chunked>>>>;
    static PLANS: OnceLock<Plans> = OnceLock::new();
    let plans = PLANS.get_or_init(Default::default);
    let key = (id.clone(), name.to_string());
    if let Some(p) = plans.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return p.clone();
    }
    // A file the plan cannot parse is left to the reader, whose errors
    // say what is wrong with it.
    let plan = plan(&id.path, name).ok().flatten().map(Arc::new);
    let mut p = plans.lock().unwrap_or_else(|e| e.into_inner());
    if p.len() >= 1024 {
        p.clear();
    }
    p.insert(key, plan.clone());
    plan
}

fn plan(path: &Path, name: &str) -> hdf5_reader::error::Result<Option<Chunked>> {
    let h5 = Hdf5File::open(path)?;
    let ds = h5.dataset(name)?;
    let elem = match ds.dtype() {
        Datatype::FloatingPoint { size, byte_order: ByteOrder::LittleEndian }
        | Datatype::FixedPoint { size, byte_order: ByteOrder::LittleEndian, .. } => usize::from(*size),
        _ => return Ok(None),
    };
    let header = h5.get_or_parse_header(ds.address())?;
    let (mut layout, mut filters) = (None, Vec::new());
    for m in &header.messages {
        match m {
            HdfMessage::DataLayout(l) => layout = Some(l.layout.clone()),
            HdfMessage::FilterPipeline(p) => filters = p.filters.iter().map(|f| f.id).collect(),
            _ => {}
        }
    }
    // Which filter of the pipeline each is (the chunk's mask may skip it).
    let (shuffle, deflate) = match filters.as_slice() {
        [] => (None, None),
        [DEFLATE] => (None, Some(0)),
        [SHUFFLE, DEFLATE] => (Some(0), Some(1)),
        _ => return Ok(None),
    };
    let shape = ds.shape().to_vec();
    if let Some(DataLayout::Contiguous { address, size }) = layout {
        return Ok(contiguous(path, shape, elem, address, size, &filters));
    }
    let Some(DataLayout::Chunked { address, dims, chunk_indexing: None, .. }) = layout else { return Ok(None) };
    let chunk: Vec<u64> = dims.iter().map(|&d| u64::from(d)).collect();
    let bytes = chunk.iter().try_fold(elem as u64, |n, &d| n.checked_mul(d));
    if shape.is_empty() || chunk.len() != shape.len() || chunk.contains(&0) || bytes.is_none_or(|b| b > MAX_CHUNK_BYTES)
    {
        return Ok(None);
    }
    let sb = h5.superblock();
    let leaves = collect_btree_v1_leaves_storage(
        h5.storage(),
        address,
        sb.offset_size,
        sb.length_size,
        Some(shape.len() as u32),
        &dims,
        None,
    )?;
    // Bit `i` of a chunk's filter mask set: filter `i` was not applied to it.
    let applied = |mask: u32, filter: Option<usize>| filter.is_some_and(|i| mask & (1 << i) == 0);
    let mut chunks = Vec::with_capacity(leaves.len());
    for (key, address) in leaves {
        let BTreeV1Key::RawData { chunk_size, filter_mask, offsets } = key else { return Ok(None) };
        let Some(offsets) = offsets.get(..shape.len()) else { return Ok(None) };
        if u64::from(chunk_size) > MAX_CHUNK_BYTES {
            return Ok(None);
        }
        chunks.push(Chunk {
            address,
            size: chunk_size as usize,
            offsets: offsets.to_vec(),
            deflated: applied(filter_mask, deflate),
            shuffled: applied(filter_mask, shuffle),
        });
    }
    // Chunks on the grid, each once: then the chunks a block meets cover
    // it exactly when their overlaps add up to its size (`read`).
    let mut at: Vec<&[u64]> = chunks.iter().map(|c| c.offsets.as_slice()).collect();
    at.sort_unstable();
    let on_grid = chunks.iter().all(|c| c.offsets.iter().zip(&chunk).all(|(o, n)| o % n == 0));
    if !on_grid || at.windows(2).any(|w| w[0] == w[1]) {
        return Ok(None);
    }
    Ok(Some(Chunked { path: path.to_path_buf(), shape, chunk, elem, chunks, contiguous: false }))
}

/// A contiguous variable (the layout of an uncompressed NetCDF-4 file)
/// as one chunk the size of the variable, stored as it is: written, of
/// the size its shape says, and with no filter. Its runs are read from
/// the file as a block needs them (`Chunked::decoded`), never whole.
fn contiguous(path: &Path, shape: Vec<u64>, elem: usize, address: u64, size: u64, filters: &[u16]) -> Option<Chunked> {
    let bytes = shape.iter().try_fold(elem as u64, |n, &d| n.checked_mul(d))?;
    // An address of all ones: never written (the reader gives fill values).
    if shape.is_empty() || !filters.is_empty() || address == u64::MAX || size != bytes {
        return None;
    }
    let chunk = Chunk {
        address,
        size: usize::try_from(size).ok()?,
        offsets: vec![0; shape.len()],
        deflated: false,
        shuffled: false,
    };
    Some(Chunked { path: path.to_path_buf(), chunk: shape.clone(), shape, elem, chunks: vec![chunk], contiguous: true })
}

/// Where one chunk of a variable is stored in its file, as h5py's
/// `get_chunk_info` tells it: for tools that read, copy or measure chunks
/// themselves ([`stored_chunks`](crate::io::netcdf::stored_chunks)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredChunk {
    /// Where its bytes start in the file.
    pub offset: u64,
    /// How many bytes are stored.
    pub size: usize,
    /// Its first index along each dimension.
    pub origin: Vec<u64>,
    /// Whether the bytes are a zlib stream (deflate applied).
    pub deflated: bool,
    /// Whether the elements' bytes are shuffled into planes.
    pub shuffled: bool,
    /// The chunk's shape (the variable's chunking; edge chunks are stored
    /// whole too).
    pub shape: Vec<u64>,
    /// How many bytes it holds once decoded: the chunk's shape times the
    /// element's size.
    pub decoded_size: usize,
}

impl Chunked {
    /// The variable's stored chunks, in the index's order; `None` for a
    /// contiguous variable, which has none.
    pub(crate) fn stored(&self) -> Option<Vec<StoredChunk>> {
        if self.contiguous {
            return None;
        }
        let decoded_size = self.chunk.iter().product::<u64>() as usize * self.elem;
        Some(
            self.chunks
                .iter()
                .map(|c| StoredChunk {
                    offset: c.address,
                    size: c.size,
                    origin: c.offsets.clone(),
                    deflated: c.deflated,
                    shuffled: c.shuffled,
                    shape: self.chunk.clone(),
                    decoded_size,
                })
                .collect(),
        )
    }
}

/// The block's element types, as stored little-endian.
pub(crate) trait Plain: Copy + Default {
    /// Bytes per element.
    const SIZE: usize;
    /// Elements from their bytes, in order, into every slot of `out`.
    fn from_bytes<S: Slot<Self>>(bytes: &[u8], out: &mut [S]);
    /// Elements from the shuffle's byte planes (`planes[b][i]` is byte
    /// `b` of element `i`) into every slot of `out`.
    fn from_planes<S: Slot<Self>>(planes: &[&[u8]], out: &mut [S]);
}

/// Where an element is put: an element of a zeroed block, or a slot of
/// a block's spare capacity (`Chunked::read`). Both are one plain store.
pub(crate) trait Slot<T> {
    fn put(&mut self, value: T);
}

impl<T> Slot<T> for T {
    #[inline(always)]
    fn put(&mut self, value: T) {
        *self = value;
    }
}

impl<T> Slot<T> for MaybeUninit<T> {
    #[inline(always)]
    fn put(&mut self, value: T) {
        self.write(value);
    }
}

// Each writes every slot of `out`: the callers give bytes or planes of
// exactly `out`'s length (`Chunked::place`), and a shorter one would make
// `zip` stop early.
macro_rules! stored {
    ($size:literal: $($t:ty),*; $planes:ident, $out:ident => $gather:expr) => {$(
        impl Plain for $t {
            const SIZE: usize = $size;

            #[inline(always)]
            fn from_bytes<S: Slot<Self>>(bytes: &[u8], out: &mut [S]) {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact($size)) {
                    o.put(<$t>::from_le_bytes(b.try_into().expect("chunks_exact gives SIZE bytes")));
                }
            }

            #[inline(always)]
            fn from_planes<S: Slot<Self>>($planes: &[&[u8]], $out: &mut [S]) {
                $gather
            }
        }
    )*};
}
stored!(1: u8; planes, out => {
    for (o, &b) in out.iter_mut().zip(planes[0]) {
        o.put(b);
    }
});
stored!(4: f32, i32; planes, out => {
    // Zipped planes vectorize (see `unshuffle`).
    for (q, o) in quads(planes).zip(out) {
        o.put(Self::from_le_bytes(q));
    }
});
stored!(8: f64, i64; planes, out => {
    for ((lo, hi), o) in quads(&planes[..4]).zip(quads(&planes[4..])).zip(out) {
        o.put(Self::from_le_bytes([lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]]));
    }
});

/// A chunk's elements as stored after deflate, from its element `first`
/// on (`Chunked::decoded`).
#[derive(Clone, Copy)]
struct Stored<'a> {
    bytes: &'a [u8],
    first: usize,
}

/// A chunk a hyperslab meets, the overlap (per dimension), and the
/// overlap's first and one-past-last element in the hyperslab's order.
type Meet<'a> = (&'a Chunk, Vec<(u64, u64)>, (usize, usize));

/// What a thread keeps between chunks, so reading a pile allocates and
/// zeroes it once: a chunk's stored bytes, its inflated bytes, and the
/// inflater's state. Chunks are inflated whole by libdeflate, which needs
/// the whole stream and knows the size it inflates to: both are known
/// here, and it inflates a pile's chunks at 1.3 times zlib-rs' speed
/// (`blockwork-bench inflate`).
struct Scratch {
    raw: Vec<u8>,
    inflated: Vec<u8>,
    inflater: libdeflater::Decompressor,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> =
        RefCell::new(Scratch { raw: Vec::new(), inflated: Vec::new(), inflater: libdeflater::Decompressor::new() });
}

impl Chunked {
    /// The hyperslab `start`/`count` in C order, or `None` when a chunk
    /// of it was never written (the reader fills it with the fill value)
    /// or its elements are not `T`'s size. Nothing is read in either case.
    pub(crate) fn read<T: Plain>(&self, start: &[u64], count: &[u64]) -> std::io::Result<Option<Vec<T>>> {
        let Some((meets, n)) = self.covering::<T>(start, count) else { return Ok(None) };
        // Where each chunk's part is one run of the block and the runs
        // tile it in order (chunks that are slabs of the block: a month of
        // maps, a map per time step), the chunks are written straight into
        // the block's uninitialised memory.
        let tiled = self.tiled(&meets, count, n);
        // A contiguous variable's block is read as one run of its bytes
        // into the thread's buffer, so only a block of whole rows, and not
        // too large a one for the buffer to keep.
        if self.contiguous && (!tiled || (n * self.elem) as u64 > MAX_CHUNK_BYTES) {
            return Ok(None);
        }
        let file = File::open(&self.path)?;
        let mut out: Vec<T> = Vec::with_capacity(n);
        SCRATCH.with_borrow_mut(|scratch| {
            for (c, overlap, (_, end)) in &meets {
                let data = self.decoded(&file, c, overlap, scratch)?;
                if tiled {
                    self.place::<T, _>(c, data, overlap, start, count, out.spare_capacity_mut());
                } else {
                    // Otherwise the block grows to the end of each chunk's
                    // part, zeroed, just before the chunk is placed.
                    // Asking the allocator for zeroed memory instead had
                    // mimalloc hand out fresh pages, each faulted in and
                    // cleared by the kernel: a block's worth of page faults
                    // per read.
                    if out.len() < *end {
                        out.resize(*end, T::default());
                    }
                    self.place(c, data, overlap, start, count, &mut out);
                }
            }
            Ok::<_, std::io::Error>(())
        })?;
        if tiled {
            #[allow(unsafe_code)]
            // SAFETY: `out` has capacity `n`. Each chunk's part is one run
            // (`one_run`), which `place` writes whole with one `from_planes`
            // or `from_bytes` on a slice of exactly that run, and the runs
            // tile `0..n` (checked above): every element is written.
            unsafe {
                out.set_len(n);
            }
        }
        Ok(Some(out))
    }

    /// The hyperslab as [`read`](Self::read) gives it, handed to `each`
    /// in consecutive slabs of at most `rows` indices of the first
    /// dimension (the slab's elements in C order, and its number of rows).
    /// A filtered chunk is decoded once and its rows taken from it a slab
    /// at a time; a chunk stored as it is (a contiguous variable) is read
    /// from the file a slab at a time. A caller that folds the slabs reads
    /// each while it is in cache, and the block is never whole.
    /// `Ok(false)`, with nothing read and `each` never called, where `read`
    /// gives `None`, the hyperslab is empty or the chunks are not slabs of
    /// the block (`tiled`). I/O errors go through `io`. `each` must not
    /// read chunks on this thread: the thread's scratch is held while it
    /// runs.
    pub(crate) fn read_rows<T: Plain, E>(
        &self,
        start: &[u64],
        count: &[u64],
        rows: usize,
        io: impl Fn(std::io::Error) -> E,
        mut each: impl FnMut(Vec<T>, usize) -> Result<(), E>,
    ) -> Result<bool, E> {
        let Some((meets, n)) = self.covering::<T>(start, count) else { return Ok(false) };
        if n == 0 || count.is_empty() || !self.tiled(&meets, count, n) {
            return Ok(false);
        }
        let file = File::open(&self.path).map_err(&io)?;
        let row = count[1..].iter().product::<u64>() as usize;
        let rows = rows.max(1) as u64;
        // The slab of rows `first..end` of chunk `c`, from its stored
        // elements `data`, to `each`.
        let mut emit = |c: &Chunk, data: Stored<'_>, o: &[(u64, u64)]| {
            let (first, end) = o[0];
            let (mut s, mut k) = (start.to_vec(), count.to_vec());
            (s[0], k[0]) = (first, end - first);
            let len = (end - first) as usize * row;
            let mut slab: Vec<T> = Vec::with_capacity(len);
            // The slab is the hyperslab of these rows, and still one run
            // of the chunk: `place` writes all of it.
            self.place::<T, _>(c, data, o, &s, &k, slab.spare_capacity_mut());
            #[allow(unsafe_code)]
            // SAFETY: `slab` has capacity `len`; its rows are one run in
            // the chunk and in the slab (`tiled` checked each chunk's part
            // is one run, and a run of whole rows cut to fewer rows is one
            // still), which `place` writes whole from the slab's first slot.
            unsafe {
                slab.set_len(len);
            }
            each(slab, (end - first) as usize)
        };
        SCRATCH.with_borrow_mut(|scratch| {
            for (c, overlap, _) in &meets {
                let (lo, hi) = overlap[0];
                let slabs = (lo..hi).step_by(rows as usize).map(|first| {
                    let mut o = overlap.clone();
                    o[0] = (first, (first + rows).min(hi));
                    o
                });
                if c.deflated || c.shuffled {
                    // Decoded whole once, its slabs taken from it.
                    let data = self.decoded(&file, c, overlap, scratch).map_err(&io)?;
                    for o in slabs {
                        emit(c, data, &o)?;
                    }
                } else {
                    // As stored: each slab's bytes read from the file alone.
                    for o in slabs {
                        let data = self.decoded(&file, c, &o, scratch).map_err(&io)?;
                        emit(c, data, &o)?;
                    }
                }
            }
            Ok(true)
        })
    }

    /// The chunks the hyperslab meets (`meets`) and its number of
    /// elements, when its elements are `T`'s size and every one of them is
    /// in a stored chunk.
    fn covering<T: Plain>(&self, start: &[u64], count: &[u64]) -> Option<(Vec<Meet<'_>>, usize)> {
        if T::SIZE != self.elem || start.len() != self.shape.len() || count.len() != self.shape.len() {
            return None;
        }
        let n = count.iter().product::<u64>() as usize;
        let meets = self.meets(start, count);
        // The plan's chunks are on the grid and distinct: their overlaps
        // cover the hyperslab when they add up to it.
        let covered: usize =
            meets.iter().map(|(_, o, _)| o.iter().map(|(lo, hi)| (hi - lo) as usize).product::<usize>()).sum();
        (covered == n).then_some((meets, n))
    }

    /// Each chunk the hyperslab meets, where, and which of its elements
    /// (first, one past the last) that is, in the hyperslab's order.
    fn meets(&self, start: &[u64], count: &[u64]) -> Vec<Meet<'_>> {
        let mut meets: Vec<Meet<'_>> = self
            .chunks
            .iter()
            .filter_map(|c| {
                let o = self.overlap(c, start, count)?;
                let span = span(&o, start, count);
                Some((c, o, span))
            })
            .collect();
        meets.sort_unstable_by_key(|&(_, _, (first, _))| first);
        meets
    }

    /// Whether each chunk's part is one run of the block (`one_run`) and,
    /// in the order of `meets`, the runs tile the block's `n` elements.
    fn tiled(&self, meets: &[Meet<'_>], count: &[u64], n: usize) -> bool {
        let mut at = 0;
        meets.iter().all(|(_, o, (first, end))| {
            let next = *first == at && self.one_run(o, count);
            at = *end;
            next
        }) && at == n
    }

    /// Whether an overlap is one run in both the chunk and the block: past
    /// its first dimension it spans the chunk and the block whole.
    fn one_run(&self, overlap: &[(u64, u64)], count: &[u64]) -> bool {
        overlap.iter().zip(&self.chunk).zip(count).skip(1).all(|((&(lo, hi), &c), &n)| hi - lo == c && hi - lo == n)
    }

    /// Where chunk `c` meets the hyperslab, per dimension (`None`: nowhere).
    fn overlap(&self, c: &Chunk, start: &[u64], count: &[u64]) -> Option<Vec<(u64, u64)>> {
        (0..self.shape.len())
            .map(|d| {
                let lo = start[d].max(c.offsets[d]);
                let hi = (start[d] + count[d]).min(c.offsets[d] + self.chunk[d]).min(self.shape[d]);
                (lo < hi).then_some((lo, hi))
            })
            .collect()
    }

    /// Chunk `c`'s elements as stored after deflate (shuffled if it is),
    /// for its `overlap` with a block: a filtered chunk whole; a chunk
    /// stored as it is, only the elements from the overlap's first to its
    /// last, read from the file alone (a contiguous variable is one such
    /// chunk, of any size).
    fn decoded<'a>(
        &self,
        file: &File,
        c: &Chunk,
        overlap: &[(u64, u64)],
        scratch: &'a mut Scratch,
    ) -> std::io::Result<Stored<'a>> {
        let Scratch { raw, inflated, inflater } = scratch;
        let bytes = self.chunk.iter().product::<u64>() as usize * self.elem;
        if !c.deflated && !c.shuffled {
            if c.size != bytes {
                return Err(bad(format!("a chunk of {} bytes where {bytes} were expected", c.size)));
            }
            let (first, end) = span(overlap, &c.offsets, &self.chunk);
            raw.resize((end - first) * self.elem, 0);
            let read = Instant::now();
            file.read_exact_at(raw, c.address + (first * self.elem) as u64)?;
            stages::READ.add(read, raw.len());
            return Ok(Stored { bytes: raw, first });
        }
        raw.resize(c.size, 0);
        let read = Instant::now();
        file.read_exact_at(raw, c.address)?;
        stages::READ.add(read, raw.len());
        if !c.deflated {
            if raw.len() != bytes {
                return Err(bad(format!("a chunk of {} bytes where {bytes} were expected", raw.len())));
            }
            return Ok(Stored { bytes: raw, first: 0 });
        }
        inflated.resize(bytes, 0);
        // The zlib stream's checksum is checked too (`BadData` if wrong).
        let inflating = Instant::now();
        let inflated_to = inflater.zlib_decompress(raw, inflated);
        stages::INFLATE.add(inflating, bytes);
        match inflated_to {
            Ok(n) if n == bytes => Ok(Stored { bytes: inflated, first: 0 }),
            Ok(_) | Err(libdeflater::DecompressionError::InsufficientSpace) => {
                Err(bad(format!("a chunk that does not inflate to its {bytes} bytes")))
            }
            Err(e) => Err(bad(format!("a chunk that does not inflate: {e}"))),
        }
    }

    /// Puts the `overlap` of a decoded chunk into the block `out`, one
    /// run at a time; each run's slots are written whole.
    fn place<T: Plain, S: Slot<T>>(
        &self,
        c: &Chunk,
        Stored { bytes: data, first }: Stored<'_>,
        overlap: &[(u64, u64)],
        start: &[u64],
        count: &[u64],
        out: &mut [S],
    ) {
        let ndim = overlap.len();
        let (cs, os) = (c_strides(&self.chunk), c_strides(count));
        // Trailing dimensions the overlap spans whole in both the chunk and
        // the block are contiguous in both: one run covers them.
        let mut run_dim = ndim - 1;
        while run_dim > 0 && {
            let (lo, hi) = overlap[run_dim];
            hi - lo == self.chunk[run_dim] && hi - lo == count[run_dim]
        } {
            run_dim -= 1;
        }
        let (lo, hi) = overlap[run_dim];
        let len = (hi - lo) as usize * cs[run_dim];
        let elements = data.len() / self.elem;
        let mut idx: Vec<u64> = overlap[..run_dim].iter().map(|&(lo, _)| lo).collect();
        loop {
            let at = |d: usize, i: u64| ((i - c.offsets[d]) as usize * cs[d], (i - start[d]) as usize * os[d]);
            let (mut ci, mut oi) = at(run_dim, lo);
            for (d, &i) in idx.iter().enumerate() {
                let (a, b) = at(d, i);
                ci += a;
                oi += b;
            }
            // Shuffled data is always the whole chunk (`first` is 0).
            ci -= first;
            let dst = &mut out[oi..oi + len];
            if c.shuffled {
                // Byte `b` of the run's elements, for each of the element's bytes (at most 8).
                let planes: [&[u8]; 8] = std::array::from_fn(|b| {
                    if b < self.elem {
                        &data[b * elements + ci..b * elements + ci + len]
                    } else {
                        &[]
                    }
                });
                // Taking from planes vectorizes twice as wide with AVX2.
                with_avx2(|| T::from_planes(&planes[..self.elem], dst));
            } else {
                with_avx2(|| T::from_bytes(&data[ci * self.elem..(ci + len) * self.elem], dst));
            }
            // The next index of the dimensions before the run's.
            let mut d = run_dim;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                idx[d] += 1;
                if idx[d] < overlap[d].1 {
                    break;
                }
                idx[d] = overlap[d].0;
            }
        }
    }
}

/// The first element of an `overlap` in the C-order hyperslab
/// `start`/`count`, and one past its last.
fn span(overlap: &[(u64, u64)], start: &[u64], count: &[u64]) -> (usize, usize) {
    let strides = c_strides(count);
    let offset = |corner: fn((u64, u64)) -> u64| -> usize {
        overlap.iter().zip(start).zip(&strides).map(|((&o, &s), &st)| (corner(o) - s) as usize * st).sum()
    };
    (offset(|(lo, _)| lo), offset(|(_, hi)| hi - 1) + 1)
}

/// Element strides of a C-order array of this extent.
fn c_strides(extent: &[u64]) -> Vec<usize> {
    let mut s = vec![1usize; extent.len()];
    for d in (0..extent.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * extent[d + 1] as usize;
    }
    s
}

fn bad(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockwork_testkit::Rng;
    use netcdf_reader::{NcFile, NcReadable};

    fn fixture(name: &str) -> FileId {
        FileId::of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap()
    }

    /// Random hyperslabs read chunk by chunk equal the reader's.
    fn same_as_reader<T: Plain + NcReadable + std::fmt::Debug>(file: &str, var: &str, rng: &mut Rng) {
        let id = fixture(file);
        let c = chunked(&id, var).unwrap_or_else(|| panic!("{file}: {var} is read chunk by chunk"));
        let nc = NcFile::open(&id.path).unwrap();
        for i in 0..40 {
            // The whole variable first, then random hyperslabs, every
            // third one whole past its first dimension (a slab).
            let slab = i % 3 == 1;
            let start: Vec<u64> = c
                .shape
                .iter()
                .enumerate()
                .map(|(d, &n)| if i == 0 || (slab && d > 0) { 0 } else { rng.below(n) })
                .collect();
            let count: Vec<u64> = c.shape.iter().zip(&start).map(|(&n, &s)| 1 + rng.below(n - s)).collect();
            let count = if i == 0 { c.shape.clone() } else { count };
            let count: Vec<u64> =
                count.iter().enumerate().map(|(d, &k)| if slab && d > 0 { c.shape[d] } else { k }).collect();
            let sel = crate::io::netcdf::hyperslab(&start, &count);
            let want = nc.read_variable_slice::<T>(var, &sel).unwrap();
            let Some(got) = c.read::<T>(&start, &count).unwrap() else {
                // A contiguous variable's blocks of part rows are the reader's.
                assert!(c.contiguous && !is_tiled(&c, &start, &count), "{file}: {var} at {start:?} + {count:?}");
                continue;
            };
            // As text, so NaN equals NaN.
            assert_eq!(
                format!("{got:?}"),
                format!("{:?}", want.as_slice().unwrap()),
                "{file}: {var} at {start:?} + {count:?}"
            );
            // In slabs of a few rows, where the chunks are slabs of the block.
            let rows = 1 + rng.below(3) as usize;
            let row = count[1..].iter().product::<u64>() as usize;
            let (mut joined, mut seen) = (Vec::new(), 0);
            let streamed = c
                .read_rows::<T, std::io::Error>(
                    &start,
                    &count,
                    rows,
                    |e| e,
                    |slab, k| {
                        assert!((1..=rows).contains(&k) && slab.len() == k * row, "{k} rows of {}", slab.len());
                        (seen, joined) = (seen + k, [joined.as_slice(), &slab].concat());
                        Ok(())
                    },
                )
                .unwrap();
            assert_eq!(streamed, is_tiled(&c, &start, &count), "{file}: {var} at {start:?} + {count:?}");
            if streamed {
                assert_eq!(seen as u64, count[0]);
                assert_eq!(format!("{joined:?}"), format!("{got:?}"), "{file}: {var} at {start:?} + {count:?}");
            }
        }
    }

    #[test]
    fn a_span_runs_from_the_first_to_the_last_element_of_an_overlap() {
        // Rows 2..4 and columns 1..3 of the 4 × 5 hyperslab at (1, 0):
        // elements (1, 1) = 6 to (2, 2) = 12.
        assert_eq!(span(&[(2, 4), (1, 3)], &[1, 0], &[4, 5]), (6, 13));
        assert_eq!(span(&[(0, 3)], &[0], &[3]), (0, 3));
    }

    /// Whether the hyperslab is read into uninitialised memory.
    fn is_tiled(c: &Chunked, start: &[u64], count: &[u64]) -> bool {
        c.tiled(&c.meets(start, count), count, count.iter().product::<u64>() as usize)
    }

    #[test]
    fn slabs_of_whole_chunks_are_tiled_and_others_are_not() {
        // One chunk per file (31 × 7 × 8): any run of whole maps.
        let pile = chunked(&fixture("pile_zlib/era5_t2m_1981_01.nc"), "t2m").unwrap();
        assert!(is_tiled(&pile, &[0, 0, 0], &[31, 7, 8]));
        assert!(is_tiled(&pile, &[3, 0, 0], &[10, 7, 8]));
        assert!(!is_tiled(&pile, &[3, 1, 0], &[10, 6, 8]), "part of each map");
        // Chunks of 4 × 5 × 3 in a 10 × 5 × 6 variable: half a map each.
        let halves = chunked(&fixture("nc4_zlib.nc"), "t2m").unwrap();
        assert!(!is_tiled(&halves, &[0, 0, 0], &[10, 5, 6]));
        assert!(is_tiled(&halves, &[0, 0, 0], &[10, 5, 3]), "the first half of every map");
    }

    #[test]
    fn hyperslabs_match_the_reader_for_every_layout() {
        let mut rng = Rng::new(7);
        same_as_reader::<f32>("nc4_zlib.nc", "t2m", &mut rng);
        same_as_reader::<f64>("h5netcdf.nc", "z", &mut rng);
        same_as_reader::<f32>("pile_zlib/era5_t2m_1981_01.nc", "t2m", &mut rng);
        same_as_reader::<i32>("nc4_chunks.nc", "i4_shuffled", &mut rng);
        same_as_reader::<i64>("nc4_chunks.nc", "i8_shuffled", &mut rng);
        same_as_reader::<u8>("nc4_chunks.nc", "u1_shuffled", &mut rng);
        same_as_reader::<u8>("nc4_chunks.nc", "u1_deflated", &mut rng);
        same_as_reader::<f64>("nc4_chunks.nc", "f8_chunked", &mut rng);
        // Contiguous: one chunk of the variable's shape, read run by run.
        same_as_reader::<f32>("pile/era5_t2m_1979_01.nc", "t2m", &mut rng);
    }

    #[test]
    fn other_layouts_and_unwritten_chunks_are_left_to_the_reader() {
        let id = fixture("nc4_chunks.nc");
        assert!(chunked(&id, "f4_big_endian").is_none(), "big-endian chunks");
        let contiguous = chunked(&fixture("pile/era5_t2m_1979_01.nc"), "t2m").unwrap();
        assert!(contiguous.stored().is_none(), "a contiguous variable has no chunks to list");
        assert!(contiguous.read::<f32>(&[0, 1, 0], &[2, 3, 8]).unwrap().is_none(), "part of each map");
        let partial = chunked(&id, "f4_partial").unwrap();
        // Times 0-3 are in written chunks; time 4 on were never written.
        assert!(partial.read::<f32>(&[0, 0, 0], &[4, 5, 6]).unwrap().is_some());
        assert!(partial.read::<f32>(&[2, 0, 0], &[3, 5, 6]).unwrap().is_none());
        // Another element size than the variable's.
        assert!(partial.read::<f64>(&[0, 0, 0], &[1, 1, 1]).unwrap().is_none());
    }

    #[test]
    fn a_chunk_that_does_not_inflate_is_invalid_data() {
        let dir = std::env::temp_dir().join(format!("blockwork-h5chunks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("corrupt.nc");
        std::fs::copy(&fixture("nc4_zlib.nc").path, &path).unwrap();
        let id = FileId::of(&path).unwrap();
        let c = chunked(&id, "t2m").unwrap();
        // Garbage in the middle of the first chunk's deflate stream.
        let first = &c.chunks[0];
        let garbage = vec![0xA5u8; first.size / 2];
        let writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        writer.write_all_at(&garbage, first.address + 2).unwrap();
        let at: Vec<u64> = first.offsets.clone();
        let e = c.read::<f32>(&at, &[1, 1, 1]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
        let e = c.read_rows::<f32, _>(&at, &[1, 5, 3], 1, |e| e, |_, _| Ok(())).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
