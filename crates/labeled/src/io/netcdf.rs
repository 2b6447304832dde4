//! NetCDF files (NetCDF-4/HDF5, classic and 64-bit offset) through the
//! pure-Rust `netcdf-reader`: metadata and coordinates are read when a
//! file is opened; a data variable becomes a chunked array whose every
//! block is one task that reads its hyperslab, so nothing else is read
//! until it is computed.
//!
//! CF decoding happens in the read task: `_FillValue` and
//! `missing_value` become NaN, `scale_factor`/`add_offset` unpack, and the
//! element type follows xarray's choice (packed 8/16-bit integers with
//! float32 scales give float32, other packed or masked integers float64;
//! unmasked bytes and shorts widen to int32). Time coordinates with
//! `units = "<unit> since <date>"` decode in their calendar.
//!
//! Open files are kept in a small per-process cache keyed by path, size
//! and modification time, so the many tasks reading one file share one
//! parsed header and memory map, and a rewritten file is never read
//! through a stale one. They are opened without the reader's chunk cache
//! (every block is read once), so memory stays that of the blocks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use blockwork_array::rows::{EachSlab, RowSource};
use blockwork_array::DType;
use blockwork_graph::{kernel_params, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Tokenizer, Value};
use netcdf_reader::{NcAttrValue, NcFile, NcSliceInfo, NcSliceInfoElem, NcType, NcVariable};

use crate::attrs::{AttrValue, Attrs};
use crate::cf::{self, Decode, Stored};
use crate::data::Data;
use crate::dataarray::{Coord, DataArray};
use crate::dataset::Dataset;
use crate::error::{file_err, io_err, task_err, LabeledError, Result};
use crate::index::Index;
use crate::io::{block, h5chunks};

/// The identity of a file's contents: path, size and modification time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FileId {
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) mtime_ns: i64,
}

impl FileId {
    pub(crate) fn of(path: &Path) -> Result<FileId> {
        let stat = blockwork_store::stat(&path.to_string_lossy()).map_err(|e| io_err(path, e))?;
        Ok(FileId { path: path.to_path_buf(), size: stat.size, mtime_ns: stat.mtime_ns })
    }

    /// As its read tasks' parameters carry it.
    pub(crate) fn to_ref(&self) -> FileRef {
        FileRef { path: self.path.display().to_string().into(), size: self.size, mtime_ns: self.mtime_ns }
    }
}

kernel_params! {
    /// A file's identity ([`FileId`]) in the parameters of its read tasks,
    /// which share one path string.
    pub(crate) struct FileRef {
        pub(crate) path: Arc<str>,
        pub(crate) size: u64,
        pub(crate) mtime_ns: i64,
    }
}

impl From<&FileRef> for FileId {
    fn from(f: &FileRef) -> FileId {
        FileId { path: PathBuf::from(&*f.path), size: f.size, mtime_ns: f.mtime_ns }
    }
}

/// Open files, shared by the tasks of a process.
fn open_cached(id: &FileId) -> Result<Arc<NcFile>> {
    static CACHE: OnceLock<Mutex<HashMap<FileId, Arc<NcFile>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(f) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
        return Ok(Arc::clone(f));
    }
    // No chunk cache: each task reads its hyperslab once, and hundreds of
    // open files each holding 64 MiB of decompressed chunks would be
    // gigabytes of memory nobody reads again.
    let options = netcdf_reader::NcOpenOptions {
        chunk_cache_bytes: 0,
        filter_registry: Some(crate::io::unshuffle::registry()),
        ..Default::default()
    };
    let location = id.path.to_string_lossy();
    let f = if blockwork_store::is_url(&location) {
        let storage = Arc::new(ObjectStorage(blockwork_store::Ranges::new(location, id.size)));
        NcFile::from_storage_with_options(storage, options)
    } else {
        NcFile::open_with_options(&id.path, options)
    };
    let f = Arc::new(f.map_err(|e| nc_err(&id.path, e))?);
    let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
    if c.len() >= 1024 {
        c.clear();
    }
    c.insert(id.clone(), Arc::clone(&f));
    Ok(f)
}

/// A file in an object store, as the reader's random-access storage: its
/// header reads come from the ranges' cached blocks, each chunk of data
/// is one ranged request.
struct ObjectStorage(blockwork_store::Ranges);

impl hdf5_reader::Storage for ObjectStorage {
    fn len(&self) -> u64 {
        self.0.size()
    }

    fn read_range(&self, offset: u64, len: usize) -> hdf5_reader::error::Result<hdf5_reader::StorageBuffer> {
        let bytes = self.0.read(offset, len as u64).map_err(hdf5_reader::error::Error::Io)?;
        let n = bytes.len();
        hdf5_reader::StorageBuffer::from_shared_owner(Arc::new(bytes), 0, n)
    }
}

fn stored(t: &NcType) -> Option<Stored> {
    Some(match t {
        NcType::Byte => Stored::I8,
        NcType::Short => Stored::I16,
        NcType::Int => Stored::I32,
        NcType::Int64 => Stored::I64,
        NcType::UByte => Stored::U8,
        NcType::UShort => Stored::U16,
        NcType::UInt => Stored::U32,
        NcType::UInt64 => Stored::U64,
        NcType::Float => Stored::F32,
        NcType::Double => Stored::F64,
        _ => return None,
    })
}

/// A variable's attributes, undecoded.
fn raw_attrs(var: &NcVariable) -> Attrs {
    var.attributes.iter().filter_map(|a| Some((a.name.clone(), attr_value(&a.value)?))).collect()
}

/// Whether the packing attributes present are float32.
fn scales_f32(var: &NcVariable) -> bool {
    ["scale_factor", "add_offset"]
        .iter()
        .all(|n| var.attribute(n).is_none_or(|a| matches!(a.value, NcAttrValue::Floats(_))))
}

kernel_params! {
    /// One hyperslab of a variable, decoded into a block.
    struct ReadNetcdfParams {
        /// The file.
        file: FileRef,
        /// The variable's name.
        variable: Arc<str>,
        /// The block's element type.
        dtype: DType,
        /// How the stored values become the block's.
        decode: Decode,
        /// The hyperslab's first index along each dimension.
        start: Vec<u64>,
        /// Its length along each dimension.
        count: Vec<u64>,
    }
}

/// A reader's error about `path`: its I/O errors are the system's (kept
/// as the source), the rest the file's.
fn nc_err(path: &Path, e: netcdf_reader::Error) -> LabeledError {
    match e {
        netcdf_reader::Error::Io(io) => io_err(path, io),
        e => file_err(path, e),
    }
}

/// Reads one hyperslab of a variable and decodes it into a block.
fn read_kernel(params: &Value, _args: Vec<Value>) -> TaskResult {
    let p = ReadNetcdfParams::from_value(params)?;
    let id = FileId::from(&p.file);
    let f = open_cached(&id).map_err(task_err)?;
    read_block(&p, &id, &f)
}

/// The read task's block, from its file `f` (opened).
fn read_block(p: &ReadNetcdfParams, id: &FileId, f: &NcFile) -> TaskResult {
    let ReadNetcdfParams { variable, dtype, decode, start, count, .. } = p;
    let (name, dtype) = (&**variable, *dtype);
    let err = |e| var_err(id, name, e);
    let sel = hyperslab(start, count);
    let var = f.variable(name).map_err(err)?;
    let native = native(&var.dtype, dtype);
    let read = Native { id, f, name, sel: &sel, start, count };
    if native && decode.is_identity() {
        return Ok(match dtype {
            DType::F32 => block(read.slice::<f32>().map_err(err)?),
            DType::F64 => block(read.slice::<f64>().map_err(err)?),
            DType::I32 => block(read.slice::<i32>().map_err(err)?),
            DType::I64 => block(read.slice::<i64>().map_err(err)?),
            _ => block(read.slice::<u8>().map_err(err)?),
        });
    }
    if var.dtype == NcType::Float && dtype == DType::F32 {
        // Masked float32 stays float32 without a trip through f64.
        let mut a = read.slice::<f32>().map_err(err)?;
        a.mapv_inplace(|x| decode.apply(x as f64) as f32);
        return Ok(block(a));
    }
    let a = f.read_variable_slice_as_f64(name, &sel).map_err(err)?;
    Ok(match dtype {
        DType::F32 => block(a.mapv(|x| decode.apply(x) as f32)),
        DType::F64 => block(a.mapv(|x| decode.apply(x))),
        DType::I32 => block(a.mapv(|x| x as i32)),
        DType::U8 => block(a.mapv(|x| x as u8)),
        _ => block(a.mapv(|x| x as i64)),
    })
}

/// A read task's error about variable `name`: the file was read when the
/// graph was built, so a read failing now is the system's; anything else,
/// the file's.
fn var_err(id: &FileId, name: &str, e: netcdf_reader::Error) -> TaskError {
    let message = format!("{}: variable `{name}`: {e}", id.path.display());
    match e {
        netcdf_reader::Error::Io(_) => TaskError::environment(message),
        _ => TaskError::new(message),
    }
}

/// Whether a block of `dtype` holds a variable of `stored` type as stored.
fn native(stored: &NcType, dtype: DType) -> bool {
    matches!(
        (stored, dtype),
        (NcType::Float, DType::F32)
            | (NcType::Double, DType::F64)
            | (NcType::Int, DType::I32)
            | (NcType::Int64, DType::I64)
            | (NcType::UByte, DType::U8)
    )
}

/// The plan of a local NetCDF-4 variable stored contiguously or in a
/// common chunk layout (`h5chunks`); `None`: the reader reads it.
fn plan(id: &FileId, f: &NcFile, name: &str) -> Option<Arc<h5chunks::Chunked>> {
    let local = f.as_classic().is_none() && !blockwork_store::is_url(&id.path.to_string_lossy());
    local.then(|| h5chunks::chunked(id, name)).flatten()
}

/// A chunk that does not decode is the file's fault, a failed read the system's.
fn chunk_err(e: std::io::Error) -> netcdf_reader::Error {
    match e.kind() {
        std::io::ErrorKind::InvalidData => netcdf_reader::Error::InvalidData(e.to_string()),
        _ => netcdf_reader::Error::Io(e),
    }
}

/// The block of a read task handed over in slabs of rows
/// (`blockwork_array::rows`): a local NetCDF-4 variable read as stored,
/// from chunks that are slabs of the block (a month of maps per chunk, a
/// map per chunk) or stored contiguously, is taken a few maps at a time
/// from each inflated chunk or from the file; any other block is read
/// whole and handed over once.
fn read_rows(params: &Value, bytes: usize, each: &mut EachSlab<'_>) -> Result<(), TaskError> {
    let p = ReadNetcdfParams::from_value(params)?;
    let id = FileId::from(&p.file);
    let f = open_cached(&id).map_err(task_err)?;
    let var = f.variable(&p.variable).map_err(|e| var_err(&id, &p.variable, e))?;
    if native(&var.dtype, p.dtype) && p.decode.is_identity() {
        if let Some(c) = plan(&id, &f, &p.variable) {
            let err = |e| var_err(&id, &p.variable, chunk_err(e));
            let (start, count) = (&p.start, &p.count);
            let streamed = match p.dtype {
                DType::F32 => slabs::<f32>(&c, start, count, bytes, err, each),
                DType::F64 => slabs::<f64>(&c, start, count, bytes, err, each),
                DType::I32 => slabs::<i32>(&c, start, count, bytes, err, each),
                DType::I64 => slabs::<i64>(&c, start, count, bytes, err, each),
                _ => slabs::<u8>(&c, start, count, bytes, err, each),
            }?;
            if streamed {
                return Ok(());
            }
        }
    }
    each(read_block(&p, &id, &f)?)
}

/// The hyperslab `start`/`count` handed to `each` in blocks of as many
/// rows as fit in `bytes` (at least one); `false` if the plan cannot.
fn slabs<T: h5chunks::Plain + blockwork_array::Element>(
    c: &h5chunks::Chunked,
    start: &[u64],
    count: &[u64],
    bytes: usize,
    err: impl Fn(std::io::Error) -> TaskError,
    each: &mut EachSlab<'_>,
) -> Result<bool, TaskError> {
    let rest: Vec<usize> = count.iter().skip(1).map(|&n| n as usize).collect();
    let row = rest.iter().product::<usize>().max(1) * std::mem::size_of::<T>();
    c.read_rows::<T, TaskError>(start, count, bytes / row, err, |v, rows| {
        let shape: Vec<usize> = std::iter::once(rows).chain(rest.iter().copied()).collect();
        each(block(ndarray::ArrayD::from_shape_vec(shape, v).expect("a slab of its rows' elements")))
    })
}

/// The row source of NetCDF reads.
pub(crate) static NETCDF_ROWS: RowSource = RowSource { op: &READ_NETCDF, rows: read_rows };

/// The reader's selection of the hyperslab `start`/`count`.
pub(crate) fn hyperslab(start: &[u64], count: &[u64]) -> NcSliceInfo {
    let selections =
        start.iter().zip(count).map(|(&s, &c)| NcSliceInfoElem::Slice { start: s, end: s + c, step: 1 }).collect();
    NcSliceInfo { selections }
}

/// A hyperslab of a variable read as it is stored.
struct Native<'a> {
    id: &'a FileId,
    f: &'a NcFile,
    name: &'a str,
    sel: &'a NcSliceInfo,
    start: &'a [u64],
    count: &'a [u64],
}

impl Native<'_> {
    /// Local NetCDF-4 variables of the common chunk layouts chunk by
    /// chunk straight into the block (`h5chunks`); the rest by the reader.
    fn slice<T: h5chunks::Plain + netcdf_reader::NcReadable>(&self) -> netcdf_reader::Result<ndarray::ArrayD<T>> {
        if let Some(c) = plan(self.id, self.f, self.name) {
            if let Some(v) = c.read::<T>(self.start, self.count).map_err(chunk_err)? {
                let shape: Vec<usize> = self.count.iter().map(|&n| n as usize).collect();
                return Ok(ndarray::ArrayD::from_shape_vec(shape, v).expect("a block of count's elements"));
            }
        }
        self.f.read_variable_slice::<T>(self.name, self.sel)
    }
}

pub(crate) static READ_NETCDF: NamedFn =
    NamedFn::new("blockwork.labeled.read_netcdf", read_kernel).params::<ReadNetcdfParams>();

/// A variable of an opened file, before it becomes an array.
pub(crate) struct FileVar {
    pub(crate) name: String,
    pub(crate) dims: Vec<String>,
    pub(crate) shape: Vec<usize>,
    pub(crate) dtype: DType,
    pub(crate) source: VarSource,
    pub(crate) attrs: Attrs,
}

/// How a variable of a file is cut into blocks.
pub(crate) struct VarBlocks {
    /// Block lengths per axis.
    pub(crate) axes: Vec<Vec<usize>>,
    /// Where each block starts, per axis.
    pub(crate) starts: Vec<Vec<usize>>,
    /// The token of the variable's contents (file identity and name).
    pub(crate) token: blockwork_graph::Token,
}

impl FileVar {
    /// Its blocks: lengths `chunks` names per dimension, else one block.
    pub(crate) fn blocks(&self, file: &FileId, chunks: &[(&str, usize)]) -> Result<VarBlocks> {
        let axes = crate::io::dim_blocks(&self.dims, &self.shape, &vec![None; self.dims.len()], chunks)?;
        let mut t = Tokenizer::new();
        t.add(&file.path.display().to_string());
        t.add(&file.size);
        t.add(&(file.mtime_ns as u64));
        t.add(&self.name);
        let starts = axes
            .iter()
            .map(|c| {
                c.iter()
                    .scan(0, |s, &x| {
                        *s += x;
                        Some(*s - x)
                    })
                    .collect()
            })
            .collect();
        Ok(VarBlocks { axes, starts, token: t.finish() })
    }
}

/// How a variable's blocks are read.
pub(crate) enum VarSource {
    /// Hyperslabs of a NetCDF variable, CF-decoded.
    Netcdf(Decode),
    /// The fields of GRIB messages.
    Grib(Arc<crate::io::grib::GribVar>),
}

/// What opening a file learns: its variables, index coordinates, other
/// coordinates (scalar ones, and those along another's dimension) and
/// global attributes.
pub(crate) struct FileMeta {
    pub(crate) id: FileId,
    pub(crate) vars: Vec<FileVar>,
    pub(crate) coords: Vec<(String, Coord)>,
    pub(crate) attrs: Attrs,
    pub(crate) aux: Vec<crate::dataset::AuxCoord>,
}

fn attr_value(v: &NcAttrValue) -> Option<AttrValue> {
    Some(match v {
        NcAttrValue::Chars(s) => AttrValue::Str(s.clone()),
        NcAttrValue::Strings(s) => AttrValue::Str(s.join("\n")),
        NcAttrValue::Floats(_) | NcAttrValue::Doubles(_) => AttrValue::Num(v.as_f64_vec()?),
        NcAttrValue::UserDefined { .. } => return None,
        other => AttrValue::Int(other.as_f64_vec()?.into_iter().map(|x| x as i64).collect()),
    })
}

/// Reads and decodes a 1-d coordinate variable into an index; whether
/// it holds times.
fn read_index(f: &NcFile, var: &NcVariable, attrs: &Attrs, path: &Path) -> Result<(Index, bool)> {
    let ferr = |e: &dyn std::fmt::Display| file_err(path, format!("coordinate `{}`: {e}", var.name));
    if var.dtype == NcType::String {
        return Ok((Index::Str(f.read_variable_as_strings(&var.name).map_err(|e| ferr(&e))?), false));
    }
    let raw = f.read_variable_as_f64(&var.name).map_err(|e| ferr(&e))?;
    let raw = raw.as_slice().map(<[f64]>::to_vec).unwrap_or_else(|| raw.iter().copied().collect());
    cf::index_of(&raw, attrs, matches!(var.dtype, NcType::Float | NcType::Double)).map_err(|e| ferr(&e))
}

/// Opens a file's metadata and index coordinates.
pub(crate) fn read_meta(path: &Path) -> Result<FileMeta> {
    let id = FileId::of(path)?;
    if crate::io::grib::is_grib(path) {
        return crate::io::grib::read_meta(id);
    }
    let f = open_cached(&id)?;
    let ferr = |e: &dyn std::fmt::Display| file_err(path, e);
    let mut vars = Vec::new();
    let mut coords = Vec::new();
    for var in f.variables().map_err(|e| ferr(&e))? {
        let dims: Vec<String> = var.dimensions.iter().map(|d| d.name.clone()).collect();
        let attrs = raw_attrs(var);
        if var.is_coordinate_variable() && dims.len() == 1 && var.dtype != NcType::Char {
            let (index, time) = read_index(&f, var, &attrs, path)?;
            coords.push((var.name.clone(), Coord { index, attrs: cf::decoded_attrs(&attrs, time) }));
            continue;
        }
        let Some(st) = stored(&var.dtype) else { continue };
        let decode = Decode::of(&attrs);
        vars.push(FileVar {
            name: var.name.clone(),
            shape: var.dimensions.iter().map(|d| d.size as usize).collect(),
            dims,
            dtype: cf::decoded_dtype(st, &decode, scales_f32(var)),
            source: VarSource::Netcdf(decode),
            attrs: cf::decoded_attrs(&attrs, false),
        });
    }
    let attrs = f
        .global_attributes()
        .map_err(|e| ferr(&e))?
        .iter()
        .filter_map(|a| Some((a.name.clone(), attr_value(&a.value)?)))
        .collect();
    Ok(FileMeta { id, vars, coords, attrs, aux: Vec::new() })
}

/// The lazy chunked array of one variable of one file.
pub(crate) fn var_data(meta: &FileMeta, var: &FileVar, chunks: &[(&str, usize)]) -> Result<Data> {
    let decode = match &var.source {
        VarSource::Netcdf(d) => d,
        VarSource::Grib(g) => return crate::io::grib::var_data(meta, var, g, chunks),
    };
    blockwork_graph::register(&READ_NETCDF);
    blockwork_array::rows::register_rows(&NETCDF_ROWS);
    let VarBlocks { axes, starts: offsets, token } = var.blocks(&meta.id, chunks)?;
    let file = meta.id.to_ref();
    let variable: Arc<str> = var.name.as_str().into();
    let task = |idx: &[u32]| {
        let params = ReadNetcdfParams {
            file: file.clone(),
            variable: Arc::clone(&variable),
            dtype: var.dtype,
            decode: decode.clone(),
            start: idx.iter().enumerate().map(|(ax, &i)| offsets[ax][i as usize] as u64).collect(),
            count: idx.iter().enumerate().map(|(ax, &i)| axes[ax][i as usize] as u64).collect(),
        };
        Task::new(Op::named(&READ_NETCDF, params.to_value()), vec![])
    };
    crate::io::lazy_data(&format!("open-{}", var.name), token, &var.shape, axes.clone(), var.dtype, task)
}

/// Refuses `chunks` naming no dimension of the file's variables.
pub(crate) fn check_chunks_of(meta: &FileMeta, chunks: &[(&str, usize)]) -> Result<()> {
    let dims = meta.vars.iter().flat_map(|v| v.dims.iter().map(String::as_str));
    crate::io::check_chunks(&meta.id.path, chunks, dims.chain(meta.coords.iter().map(|(d, _)| d.as_str())))
}

/// Where the chunks of variable `name` of a local NetCDF-4 file are
/// stored, as h5py's `get_chunk_info` gives them (offset, stored size,
/// origin, filters), when its layout is the one blockwork reads chunk by
/// chunk: a B-tree-indexed chunked layout with at most the shuffle and
/// deflate filters, little-endian elements. `Ok(None)` for any other
/// layout (contiguous, other filters or indexes); an error names the file
/// when it cannot be read. For tools that read or measure chunks
/// themselves, such as `blockwork-bench inflate`.
pub fn stored_chunks(path: impl AsRef<Path>, name: &str) -> Result<Option<Vec<h5chunks::StoredChunk>>> {
    let path = path.as_ref();
    let id = FileId::of(path)?;
    // The reader's errors say what is wrong with a file the plan skips.
    let f = open_cached(&id)?;
    if f.variables().map_err(|e| file_err(path, e))?.iter().all(|v| v.name != name) {
        return Err(LabeledError::MissingVariable { name: name.to_string(), within: path.display().to_string() });
    }
    Ok(h5chunks::chunked(&id, name).and_then(|c| c.stored()))
}

/// Opens one NetCDF file as a dataset. `chunks` gives block lengths of
/// some dimensions (`&[("time", 31)]`); the others are one block. Only
/// metadata and coordinates are read now.
pub fn open_dataset(path: impl AsRef<Path>, chunks: &[(&str, usize)]) -> Result<Dataset> {
    let meta = read_meta(path.as_ref())?;
    dataset_of(&meta, chunks)
}

/// One variable of one file (NetCDF or GRIB2) as a lazy chunked array:
/// axis `i` in blocks of `sizes[i]` (`None`: one block). Only metadata
/// is read now, and no other variable's array is made.
pub fn open_variable(path: impl AsRef<Path>, name: &str, sizes: &[Option<usize>]) -> Result<Data> {
    let meta = read_meta(path.as_ref())?;
    let var = meta.vars.iter().find(|v| v.name == name).ok_or_else(|| crate::error::LabeledError::MissingVariable {
        name: name.to_string(),
        within: path.as_ref().display().to_string(),
    })?;
    let chunks: Vec<(&str, usize)> =
        var.dims.iter().zip(sizes).filter_map(|(d, s)| s.map(|n| (d.as_str(), n))).collect();
    var_data(&meta, var, &chunks)
}

pub(crate) fn dataset_of(meta: &FileMeta, chunks: &[(&str, usize)]) -> Result<Dataset> {
    check_chunks_of(meta, chunks)?;
    let coords: crate::dataarray::Coords = meta.coords.iter().cloned().collect();
    let mut vars = Vec::new();
    for v in &meta.vars {
        let data = var_data(meta, v, chunks)?;
        let vc = coords.iter().filter(|(d, _)| v.dims.contains(d)).map(|(d, c)| (d.clone(), c.clone())).collect();
        let dims: Vec<&str> = v.dims.iter().map(String::as_str).collect();
        vars.push(DataArray::new(Some(&v.name), &dims, data, vc, v.attrs.clone())?);
    }
    Ok(Dataset::new(vars, coords, meta.attrs.clone(), meta.id.path.display().to_string()).with_aux(meta.aux.clone()))
}
