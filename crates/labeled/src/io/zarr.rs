//! Zarr v2 and v3 stores on the local filesystem, as xarray writes them,
//! through `zarrs`: metadata and coordinates are read when a store is
//! opened (the consolidated metadata when there is some, else the arrays
//! of the root group one by one); a data variable becomes a chunked array
//! whose every block is one task that reads its region.
//!
//! Dimension names come from `_ARRAY_DIMENSIONS` (v2) or
//! `dimension_names` (v3). CF decoding is the NetCDF reader's (`cf::Decode`),
//! with the missing value xarray takes: in v2 the array's `fill_value`, in
//! v3 only a `_FillValue` attribute (base64 of a little-endian float64 for
//! floats), never the v3 `fill_value` itself. By default the blocks are
//! the store's chunks, as xarray's `open_zarr` makes them.
//!
//! The store's metadata and its per-process cache are `zarr_store`'s;
//! the read tasks find the store there by path and metadata mtime.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use blockwork_array::DType;
use blockwork_graph::{kernel_params, KernelParams, NamedFn, Op, Task, TaskError, TaskResult, Tokenizer, Value};
use ndarray::ArrayD;
use zarrs::array::ElementOwned;

use crate::cf::{self, Decode, Stored};
use crate::dataarray::{Coord, Coords, DataArray};
use crate::dataset::Dataset;
use crate::error::{file_err, Result};
use crate::index::Index;
use crate::io::block;
use crate::io::zarr_store::{cached, open_and_cache, Kind, ZArray, ZStore};

/// Stored element types, read and converted to a block's type.
trait Raw: ElementOwned + Copy + 'static {
    fn f64(self) -> f64;
    fn i64(self) -> i64;
    /// The array as a block, when it already has the block's type.
    fn native(a: ArrayD<Self>, _dtype: DType) -> std::result::Result<Value, ArrayD<Self>> {
        Err(a)
    }
}

macro_rules! raw {
    ($($t:ty),*) => {$(
        impl Raw for $t {
            fn f64(self) -> f64 { self as f64 }
            fn i64(self) -> i64 { self as i64 }
        }
    )*};
}
raw!(i8, i16, u16, u32, u64);

macro_rules! raw_native {
    ($($t:ty => $d:ident),*) => {$(
        impl Raw for $t {
            fn f64(self) -> f64 { self as f64 }
            fn i64(self) -> i64 { self as i64 }
            fn native(a: ArrayD<Self>, dtype: DType) -> std::result::Result<Value, ArrayD<Self>> {
                if dtype == DType::$d { Ok(block(a)) } else { Err(a) }
            }
        }
    )*};
}
raw_native!(f64 => F64, f32 => F32, i64 => I64, i32 => I32, u8 => U8);

/// A block of `dtype` from stored values, decoded.
fn finish<S: Raw>(a: ArrayD<S>, dtype: DType, d: &Decode) -> Value {
    let a = if d.is_identity() {
        match S::native(a, dtype) {
            Ok(v) => return v,
            Err(a) => a,
        }
    } else {
        a
    };
    match dtype {
        DType::F64 => block(a.mapv(|x| d.apply(x.f64()))),
        DType::F32 => block(a.mapv(|x| d.apply(x.f64()) as f32)),
        DType::I64 => block(a.mapv(|x| x.i64())),
        DType::I32 => block(a.mapv(|x| x.i64() as i32)),
        DType::U8 => block(a.mapv(|x| x.i64() as u8)),
        DType::Bool => block(a.mapv(|x| x.f64() != 0.0)),
        DType::C128 => block(a.mapv(|x| blockwork_array::Complex::new(d.apply(x.f64()), 0.0))),
        DType::C64 => block(a.mapv(|x| blockwork_array::Complex::new(d.apply(x.f64()) as f32, 0.0))),
    }
}

fn region<T: ElementOwned>(a: &ZArray, r: &[Range<u64>]) -> std::result::Result<ArrayD<T>, String> {
    a.array.retrieve_array_subset::<ArrayD<T>>(&r.to_vec()).map_err(|e| e.to_string())
}

/// Reads a region of a numeric array and decodes it into a block of `dtype`.
fn read_region(a: &ZArray, r: &[Range<u64>], dtype: DType, d: &Decode) -> std::result::Result<Value, String> {
    use Stored::*;
    Ok(match a.kind {
        Kind::Bool => block(region::<bool>(a, r)?),
        Kind::Str => return Err("text is not read as data".into()),
        Kind::Num(s) => match s {
            I8 => finish(region::<i8>(a, r)?, dtype, d),
            I16 => finish(region::<i16>(a, r)?, dtype, d),
            I32 => finish(region::<i32>(a, r)?, dtype, d),
            I64 => finish(region::<i64>(a, r)?, dtype, d),
            U8 => finish(region::<u8>(a, r)?, dtype, d),
            U16 => finish(region::<u16>(a, r)?, dtype, d),
            U32 => finish(region::<u32>(a, r)?, dtype, d),
            U64 => finish(region::<u64>(a, r)?, dtype, d),
            F32 => finish(region::<f32>(a, r)?, dtype, d),
            F64 => finish(region::<f64>(a, r)?, dtype, d),
        },
    })
}

kernel_params! {
    /// One region of an array, decoded into a block.
    struct ReadZarrParams {
        /// The store's path.
        store: Arc<str>,
        /// Its metadata's modification time: a store rewritten since the
        /// graph was made is opened again, not read through a stale cache.
        mtime_ns: i64,
        /// The array's name.
        array: Arc<str>,
        /// The block's element type.
        dtype: DType,
        /// How the stored values become the block's.
        decode: Decode,
        /// The region's first index along each dimension.
        start: Vec<u64>,
        /// Its length along each dimension.
        count: Vec<u64>,
    }
}

/// Reads one region of an array and decodes it into a block.
fn read_kernel(params: &Value, _args: Vec<Value>) -> TaskResult {
    let p = ReadZarrParams::from_value(params)?;
    let store = cached(&p.store, p.mtime_ns)?;
    let a = store.array(&p.array)?;
    let r: Vec<Range<u64>> = p.start.iter().zip(&p.count).map(|(&s, &c)| s..s + c).collect();
    read_region(a, &r, p.dtype, &p.decode).map_err(|e| TaskError::new(format!("{}: array `{}`: {e}", p.store, p.array)))
}

pub(crate) static READ_ZARR: NamedFn =
    NamedFn::new("blockwork.labeled.read_zarr", read_kernel).params::<ReadZarrParams>();

/// Reads a 1-d coordinate array into an index; whether it holds times.
fn read_index(s: &ZStore, a: &ZArray) -> Result<(Index, bool)> {
    let err = |e: &dyn std::fmt::Display| file_err(&s.path, format!("coordinate `{}`: {e}", a.name));
    let all: Vec<Range<u64>> = a.shape.iter().map(|&n| 0..n as u64).collect();
    if a.kind == Kind::Str {
        let v = a.array.retrieve_array_subset::<Vec<String>>(&all).map_err(|e| err(&e))?;
        return Ok((Index::Str(v), false));
    }
    let v = read_region(a, &all, DType::F64, &Decode::default()).map_err(|e| err(&e))?;
    let raw: Vec<f64> =
        v.downcast_ref::<blockwork_array::Block<f64>>().map(|b| b.view().iter().copied().collect()).unwrap_or_default();
    cf::index_of(&raw, &a.attrs, matches!(a.kind, Kind::Num(Stored::F32 | Stored::F64))).map_err(|e| err(&e))
}

/// The decoded element type of a data array.
fn decoded_dtype(a: &ZArray, decode: &Decode) -> Option<DType> {
    match a.kind {
        Kind::Num(s) => Some(cf::decoded_dtype(s, decode, false)),
        Kind::Bool => Some(DType::Bool),
        Kind::Str => None,
    }
}

/// The lazy chunked array of a data array: blocks of the store's chunks,
/// or of `chunks` along the dimensions it names.
fn lazy(s: &ZStore, a: &ZArray, dtype: DType, decode: &Decode, chunks: &[(&str, usize)]) -> Result<crate::Data> {
    blockwork_graph::register(&READ_ZARR);
    let store: Vec<Option<usize>> = a.chunks.iter().map(|&c| Some(c)).collect();
    let axes = crate::io::dim_blocks(&a.dims, &a.shape, &store, chunks)?;
    let path = s.path.display().to_string();
    let mut t = Tokenizer::new();
    t.add(&path);
    let (store, array): (Arc<str>, Arc<str>) = (path.into(), a.name.as_str().into());
    t.add(&(s.mtime_ns as u64));
    t.add(&a.name);
    let offsets: Vec<Vec<usize>> =
        axes.iter().map(|c| c.iter().scan(0, |o, &x| Some(std::mem::replace(o, *o + x))).collect()).collect();
    let task = |idx: &[u32]| {
        let params = ReadZarrParams {
            store: Arc::clone(&store),
            mtime_ns: s.mtime_ns,
            array: Arc::clone(&array),
            dtype,
            decode: decode.clone(),
            start: idx.iter().enumerate().map(|(ax, &i)| offsets[ax][i as usize] as u64).collect(),
            count: idx.iter().enumerate().map(|(ax, &i)| axes[ax][i as usize] as u64).collect(),
        };
        Task::new(Op::named(&READ_ZARR, params.to_value()), vec![])
    };
    crate::io::lazy_data(&format!("open-{}", a.name), t.finish(), &a.shape, axes.clone(), dtype, task)
}

/// Opens a Zarr v2 or v3 store (a directory written by xarray's `to_zarr`)
/// as a dataset. Blocks are the store's chunks; `chunks` gives other block
/// lengths to some dimensions (`&[("time", 100)]`). Only metadata and
/// coordinates are read now.
pub fn open_zarr(path: impl AsRef<Path>, chunks: &[(&str, usize)]) -> Result<Dataset> {
    let s = open_and_cache(path.as_ref())?;
    if let Some(a) = s.arrays.iter().find(|a| !a.named_dims) {
        return Err(file_err(
            &s.path,
            if a.name.is_empty() {
                "is a Zarr array, not a group of arrays (open it as one array: open_zarr_array)".to_string()
            } else {
                format!("array `{}`: no dimension names (neither `dimension_names` nor `_ARRAY_DIMENSIONS`)", a.name)
            },
        ));
    }
    crate::io::check_chunks(&s.path, chunks, s.arrays.iter().flat_map(|a| a.dims.iter().map(String::as_str)))?;
    let mut coords = Coords::new();
    for a in s.arrays.iter().filter(|a| a.dims.len() == 1 && a.dims[0] == a.name) {
        let (index, time) = read_index(&s, a)?;
        coords.insert(a.name.clone(), Coord { index, attrs: cf::decoded_attrs(&a.attrs, time) });
    }
    let mut vars = Vec::new();
    for a in s.arrays.iter().filter(|a| !coords.contains_key(&a.name)) {
        let decode = if a.kind == Kind::Bool { Decode::default() } else { Decode::of(&a.attrs) };
        let Some(dtype) = decoded_dtype(a, &decode) else { continue };
        let data = lazy(&s, a, dtype, &decode, chunks)?;
        let vc = coords.iter().filter(|(d, _)| a.dims.contains(d)).map(|(d, c)| (d.clone(), c.clone())).collect();
        let dims: Vec<&str> = a.dims.iter().map(String::as_str).collect();
        let mut attrs = cf::decoded_attrs(&a.attrs, false);
        attrs.remove("coordinates");
        vars.push(
            DataArray::new(Some(&a.name), &dims, data, vc, attrs)
                .map_err(|e| file_err(&s.path, format!("array `{}`: {e}", a.name)))?,
        );
    }
    Ok(Dataset::new(vars, coords, s.attrs.clone(), s.path.display().to_string()))
}

/// Opens one array of a Zarr v2 or v3 store as a chunked array, as
/// `dask.array.from_zarr` does: the store's root array, or the array
/// `component` of its root group. Values are as stored (no CF decoding);
/// element types widen as the NetCDF reader's do. Blocks are the store's
/// chunks, or `chunks` (a block length per axis). Only metadata is read now.
pub fn open_zarr_array(
    path: impl AsRef<Path>,
    component: Option<&str>,
    chunks: Option<&[usize]>,
) -> Result<crate::Data> {
    let s = open_and_cache(path.as_ref())?;
    let names = || s.arrays.iter().map(|a| format!("`{}`", a.name)).collect::<Vec<_>>().join(", ");
    let a = match component {
        Some(c) => s
            .arrays
            .iter()
            .find(|a| a.name == c)
            .ok_or_else(|| file_err(&s.path, format!("no array `{c}` in the group (its arrays: {})", names())))?,
        None => match s.arrays.as_slice() {
            [a] if a.name.is_empty() => a,
            _ => {
                return Err(file_err(
                    &s.path,
                    format!("is a group: name one of its arrays ({}) as the component", names()),
                ))
            }
        },
    };
    let decode = Decode::default();
    let dtype = decoded_dtype(a, &decode).ok_or_else(|| file_err(&s.path, "holds text, which arrays do not hold"))?;
    let by_dim: Vec<(&str, usize)> = match chunks {
        Some(c) if c.len() != a.shape.len() || c.contains(&0) => {
            let why = if c.contains(&0) {
                "a block length is at least 1".to_string()
            } else {
                format!("the array has {} dimensions", a.shape.len())
            };
            return Err(file_err(&s.path, format!("chunks {c:?}: {why}")));
        }
        Some(c) => a.dims.iter().map(String::as_str).zip(c.iter().copied()).collect(),
        None => Vec::new(),
    };
    lazy(&s, a, dtype, &decode, &by_dim)
}
