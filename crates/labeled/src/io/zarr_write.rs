//! Writing datasets as Zarr v2 or v3 stores that xarray reads back:
//! its dimension conventions (`_ARRAY_DIMENSIONS`, `dimension_names`),
//! coordinates as 1-d arrays named like their dimension (times as
//! `"<unit> since <date>"` numbers with their calendar), attributes,
//! consolidated metadata, and zarr-python's default codecs (v2: Blosc
//! lz4 with shuffle; v3: zstd). Floats have the fill value NaN, as
//! xarray writes them.
//!
//! Metadata and coordinates are written first; then every block of every
//! data variable is one task ("blockwork.labeled.write_zarr") that
//! writes its chunk, so the chunk grid is the blocks' (data whose blocks
//! are not regular is rechunked to the largest block first) and no two
//! tasks write one chunk.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use blockwork_array::{Block, DType, Element};
use blockwork_graph::{
    kernel_params, r, Graph, GraphBuilder, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Tokenizer,
    Value,
};
use serde_json::{json, Map, Value as Json};

use crate::attrs::{AttrValue, Attrs};
use crate::cf;
use crate::data::Data;
use crate::dataarray::{Coord, DataArray};
use crate::dataset::Dataset;
use crate::error::{file_err, io_err, LabeledError, Result};
use crate::index::Index;
use crate::io::zarr_store::{cached, open_and_cache, ZArray, ZStore};

/// Which Zarr format to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ZarrVersion {
    /// Zarr v2: `.zarray`/`.zattrs` per array, `.zmetadata` consolidated.
    V2,
    /// Zarr v3: `zarr.json` per node, consolidated into the root's.
    #[default]
    V3,
}

/// The element type of an array to write.
#[derive(Clone, Copy, PartialEq)]
enum Elem {
    D(DType),
    Str,
}

/// One array's metadata, before it is a document.
struct Meta {
    name: String,
    dims: Vec<String>,
    shape: Vec<usize>,
    chunks: Vec<usize>,
    elem: Elem,
    attrs: Map<String, Json>,
}

fn json_num(x: f64) -> Json {
    match x {
        x if x.is_nan() => json!("NaN"),
        x if x.is_infinite() => json!(if x > 0.0 { "Infinity" } else { "-Infinity" }),
        x => json!(x),
    }
}

fn attrs_json(attrs: &Attrs) -> Map<String, Json> {
    let many = |v: Vec<Json>| if v.len() == 1 { v.into_iter().next().unwrap_or(Json::Null) } else { Json::Array(v) };
    attrs
        .iter()
        .map(|(k, v)| {
            let j = match v {
                AttrValue::Str(s) => json!(s),
                AttrValue::Num(x) => many(x.iter().map(|&x| json_num(x)).collect()),
                AttrValue::Int(x) => many(x.iter().map(|&x| json!(x)).collect()),
            };
            (k.clone(), j)
        })
        .collect()
}

/// The `.zarray` (v2) or `zarr.json` (v3) document of an array.
fn array_doc(m: &Meta, version: ZarrVersion) -> Json {
    let float = matches!(m.elem, Elem::D(DType::F64 | DType::F32));
    let (v2, v3, size) = match m.elem {
        Elem::D(DType::F64) => ("<f8", "float64", 8),
        Elem::D(DType::F32) => ("<f4", "float32", 4),
        Elem::D(DType::I64) => ("<i8", "int64", 8),
        Elem::D(DType::I32) => ("<i4", "int32", 4),
        Elem::D(DType::U8) => ("|u1", "uint8", 1),
        Elem::D(DType::Bool) => ("|b1", "bool", 1),
        Elem::D(DType::C128) => ("<c16", "complex128", 16),
        Elem::D(DType::C64) => ("<c8", "complex64", 8),
        Elem::Str => ("|O", "string", 0),
    };
    match version {
        ZarrVersion::V2 => json!({
            "zarr_format": 2,
            "shape": m.shape,
            "chunks": m.chunks,
            "dtype": v2,
            "fill_value": if float { json!("NaN") } else { Json::Null },
            "order": "C",
            "filters": if m.elem == Elem::Str { json!([{"id": "vlen-utf8"}]) } else { Json::Null },
            "dimension_separator": ".",
            "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": i32::from(size > 1), "blocksize": 0},
        }),
        ZarrVersion::V3 => {
            let mut attrs = m.attrs.clone();
            let fill = match m.elem {
                // xarray's encoding of a float _FillValue: base64 of a little-endian float64.
                _ if float => {
                    attrs.insert("_FillValue".into(), json!("AAAAAAAA+H8="));
                    json!("NaN")
                }
                Elem::D(DType::Bool) => json!(false),
                Elem::Str => json!(""),
                _ => json!(0),
            };
            let serializer = match m.elem {
                Elem::Str => json!({"name": "vlen-utf8", "configuration": {}}),
                _ => json!({"name": "bytes", "configuration": {"endian": "little"}}),
            };
            json!({
                "zarr_format": 3,
                "node_type": "array",
                "shape": m.shape,
                "data_type": v3,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": m.chunks}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": fill,
                "codecs": [serializer, {"name": "zstd", "configuration": {"level": 0, "checksum": false}}],
                "attributes": attrs,
                "dimension_names": m.dims,
                "storage_transformers": [],
            })
        }
    }
}

fn write_doc(store: &Path, rel: &str, doc: &Json) -> Result<()> {
    let location = blockwork_store::join(&store.to_string_lossy(), rel);
    let text = serde_json::to_vec_pretty(doc).map_err(|e| file_err(store, e))?;
    blockwork_store::write_all(&location, text).map_err(|e| io_err(store.join(rel), e))
}

/// Writes every array's metadata and the group's, consolidated.
fn write_metadata(store: &Path, metas: &[Meta], attrs: &Attrs, version: ZarrVersion) -> Result<()> {
    let group_attrs = Json::Object(attrs_json(attrs));
    let mut all = Map::new();
    for m in metas {
        let doc = array_doc(m, version);
        match version {
            ZarrVersion::V2 => {
                let mut a = m.attrs.clone();
                a.insert("_ARRAY_DIMENSIONS".into(), json!(m.dims));
                write_doc(store, &format!("{}/.zarray", m.name), &doc)?;
                write_doc(store, &format!("{}/.zattrs", m.name), &Json::Object(a.clone()))?;
                all.insert(format!("{}/.zarray", m.name), doc);
                all.insert(format!("{}/.zattrs", m.name), Json::Object(a));
            }
            ZarrVersion::V3 => {
                write_doc(store, &format!("{}/zarr.json", m.name), &doc)?;
                all.insert(m.name.clone(), doc);
            }
        }
    }
    match version {
        ZarrVersion::V2 => {
            let group = json!({"zarr_format": 2});
            write_doc(store, ".zgroup", &group)?;
            write_doc(store, ".zattrs", &group_attrs)?;
            all.insert(".zgroup".into(), group);
            all.insert(".zattrs".into(), group_attrs);
            write_doc(store, ".zmetadata", &json!({"metadata": all, "zarr_consolidated_format": 1}))
        }
        ZarrVersion::V3 => write_doc(
            store,
            "zarr.json",
            &json!({
                "zarr_format": 3,
                "node_type": "group",
                "attributes": group_attrs,
                "consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata": all},
            }),
        ),
    }
}

/// A coordinate's values to write, and its metadata (times encoded).
enum CoordValues {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Str(Vec<String>),
}

fn coord_meta(dim: &str, c: &Coord) -> (Meta, CoordValues) {
    let mut attrs = attrs_json(&c.attrs);
    let (elem, values) = match &c.index {
        Index::Float(v) => (Elem::D(DType::F64), CoordValues::F64(v.clone())),
        Index::Int(v) => (Elem::D(DType::I64), CoordValues::I64(v.clone())),
        Index::Str(v) => (Elem::Str, CoordValues::Str(v.clone())),
        Index::Time { calendar, values } => {
            let (nums, units, whole) = cf::encode_times(values, *calendar);
            attrs.insert("units".into(), json!(units));
            attrs.insert("calendar".into(), json!(calendar.name()));
            if whole {
                (Elem::D(DType::I64), CoordValues::I64(nums.iter().map(|&x| x as i64).collect()))
            } else {
                (Elem::D(DType::F64), CoordValues::F64(nums))
            }
        }
    };
    let n = c.index.len();
    let meta = Meta { name: dim.into(), dims: vec![dim.into()], shape: vec![n], chunks: vec![n.max(1)], elem, attrs };
    (meta, values)
}

fn put_coord(store: &Path, a: &ZArray, values: CoordValues) -> Result<()> {
    let all: Vec<Range<u64>> = a.shape.iter().map(|&n| 0..n as u64).collect();
    let res = match values {
        _ if a.shape[0] == 0 => Ok(()),
        CoordValues::F64(v) => a.array.store_array_subset(&all, v),
        CoordValues::I64(v) => a.array.store_array_subset(&all, v),
        CoordValues::Str(v) => a.array.store_array_subset(&all, v),
    };
    res.map_err(|e| file_err(store, format!("coordinate `{}`: {e}", a.name)))
}

/// Block lengths that make a regular chunk grid: all but the last equal,
/// the last no longer. `None` when they are not.
fn regular(blocks: &[usize]) -> Option<usize> {
    let c = *blocks.first()?;
    let (last, body) = blocks.split_last()?;
    (body.iter().all(|&b| b == c) && *last <= c && (*last > 0 || blocks.len() == 1)).then_some(c.max(1))
}

/// The index and key of every block.
type BlockKeys = Vec<(Vec<u32>, Key)>;

/// The graph of a variable's data and the key of every block.
fn blocks(d: &Data) -> Result<(Graph, BlockKeys)> {
    macro_rules! go {
        ($a:expr) => {{
            let a = $a;
            (a.graph()?, a.chunks().indices().map(|i| (i.clone(), a.key(&i))).collect())
        }};
    }
    Ok(blockwork_array::dyn_each!(d, a => go!(a)))
}

fn put<T: Element + zarrs::array::Element>(a: &ZArray, v: &Value, start: &[u64]) -> std::result::Result<(), String> {
    let b = v
        .downcast_ref::<Block<T>>()
        .ok_or_else(|| format!("expected a {} block, found {}", T::DTYPE, v.type_name()))?;
    let view = b.view();
    let region: Vec<Range<u64>> = start.iter().zip(view.shape()).map(|(&s, &n)| s..s + n as u64).collect();
    a.array.store_array_subset(&region, &*view).map_err(|e| e.to_string())
}

kernel_params! {
    /// One block written into its chunk of an array.
    struct WriteZarrParams {
        /// The store's path.
        store: Arc<str>,
        /// Its metadata's modification time, as written before the blocks.
        mtime_ns: i64,
        /// The array's name.
        array: Arc<str>,
        /// The block's element type.
        dtype: DType,
        /// The block's first index along each dimension.
        start: Vec<u64>,
    }
}

/// Writes one block (the argument) into its chunk of an array.
fn write_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let WriteZarrParams { store: path, mtime_ns, array: name, dtype, start } = WriteZarrParams::from_value(params)?;
    let v = args.first().ok_or_else(|| TaskError::new("Zarr write without a block"))?;
    let store = cached(&path, mtime_ns)?;
    let a = store.array(&name)?;
    match dtype {
        DType::F64 => put::<f64>(a, v, &start),
        DType::F32 => put::<f32>(a, v, &start),
        DType::I64 => put::<i64>(a, v, &start),
        DType::I32 => put::<i32>(a, v, &start),
        DType::U8 => put::<u8>(a, v, &start),
        DType::Bool => put::<bool>(a, v, &start),
        // The writers refuse complex data before building the graph
        // (`real_only`): a complex block is a bug of the builder.
        d @ (DType::C128 | DType::C64) => {
            return Err(TaskError::internal(format!("{path}: array `{name}`: a Zarr write of {d} blocks")))
        }
    }
    .map_err(|e| TaskError::new(format!("{path}: array `{name}`: {e}")))?;
    Ok(Value::Unit)
}

pub(crate) static WRITE_ZARR: NamedFn =
    NamedFn::new("blockwork.labeled.write_zarr", write_kernel).params::<WriteZarrParams>();

/// Refuses complex data: the chunk writer puts the real types only.
fn real_only(store: &Path, what: &str, data: &Data) -> Result<()> {
    if data.dtype().is_complex() {
        return Err(file_err(store, format!("{what} is {}: Zarr stores are written of real types only", data.dtype())));
    }
    Ok(())
}

fn check_name(store: &Path, name: &str) -> Result<()> {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) || name == "zarr.json" {
        return Err(file_err(store, format!("`{name}` cannot name a Zarr array")));
    }
    Ok(())
}

fn write_dataset(ds: &Dataset, store: &Path, version: ZarrVersion) -> Result<()> {
    blockwork_graph::register(&WRITE_ZARR);
    if store.exists() {
        return Err(file_err(store, "already exists (remove it first to write a new Zarr store)"));
    }
    let mut metas = Vec::new();
    let mut coords = Vec::new();
    for (dim, c) in ds.coords() {
        check_name(store, dim)?;
        let (m, values) = coord_meta(dim, c);
        metas.push(m);
        coords.push((dim.clone(), values));
    }
    let mut vars = Vec::new();
    for name in ds.data_vars() {
        check_name(store, name)?;
        if ds.coords().contains_key(name) {
            return Err(file_err(store, format!("variable `{name}` has the name of a coordinate")));
        }
        let da = ds.get(name)?;
        real_only(store, name, da.data())?;
        let (data, sizes) = regular_data(da.data(), da.shape())?;
        let dims: Vec<String> = da.dims().iter().map(|d| d.to_string()).collect();
        let mut attrs = attrs_json(da.attrs());
        attrs.retain(|k, _| !matches!(k.as_str(), "_FillValue" | "missing_value" | "scale_factor" | "add_offset"));
        let elem = Elem::D(data.dtype());
        metas.push(Meta { name: name.into(), dims, shape: da.shape().to_vec(), chunks: sizes.clone(), elem, attrs });
        vars.push((name.to_string(), data, sizes));
    }
    blockwork_store::create_dir_all(&store.to_string_lossy()).map_err(|e| io_err(store, e))?;
    write_metadata(store, &metas, ds.attrs(), version)?;
    // The store as just written, read back: its arrays write the chunks.
    let zs = open_and_cache(store)?;
    for (dim, values) in coords {
        let a = zs.array(&dim).map_err(|e| file_err(store, e.message))?;
        put_coord(store, a, values)?;
    }
    write_blocks(&zs, vars)
}

/// The data with regular blocks (rechunked to its largest block if they
/// are not), and the chunk shape they make.
fn regular_data(data: &Data, shape: &[usize]) -> Result<(Data, Vec<usize>)> {
    let axes: Vec<Vec<usize>> = data.chunks().to_vec();
    let sizes: Vec<usize> =
        axes.iter().map(|c| regular(c).unwrap_or_else(|| c.iter().copied().max().unwrap_or(1))).collect();
    if axes.iter().all(|c| regular(c).is_some()) {
        return Ok((data.clone(), sizes));
    }
    let lengths = crate::io::block_lengths(shape, &sizes.iter().map(|&c| Some(c)).collect::<Vec<_>>())?;
    Ok((data.rechunk(lengths)?, sizes))
}

/// Writes the blocks of each `(array name, data, chunk shape)` into the
/// store's arrays: a task per block, computed on the threaded scheduler.
fn write_blocks(zs: &ZStore, vars: Vec<(String, Data, Vec<usize>)>) -> Result<()> {
    let path: Arc<str> = zs.path.display().to_string().into();
    let mut gb = GraphBuilder::new();
    let mut outs = Vec::new();
    for (name, data, sizes) in vars {
        let (graph, keys) = blocks(&data)?;
        gb.extend(graph);
        let mut t = Tokenizer::new();
        t.add(&*path);
        t.add(&(zs.mtime_ns as u64));
        t.add(&name);
        let layer: Arc<str> = format!("to-zarr-{name}-{}", t.finish()).into();
        let array: Arc<str> = name.into();
        for (idx, key) in keys {
            let params = WriteZarrParams {
                store: Arc::clone(&path),
                mtime_ns: zs.mtime_ns,
                array: Arc::clone(&array),
                dtype: data.dtype(),
                start: idx.iter().zip(&sizes).map(|(&i, &c)| u64::from(i) * c as u64).collect(),
            };
            let k = Key::with_shared_name(&layer, &idx);
            gb.insert(k.clone(), Task::new(Op::named(&WRITE_ZARR, params.to_value()), vec![r(key)]));
            outs.push(k);
        }
    }
    let graph = gb.build().map_err(blockwork_array::ArrayError::from)?;
    blockwork_local::compute(graph, &outs, &blockwork_local::Config::default())
        .map_err(|e| LabeledError::Array(e.into()))?;
    Ok(())
}

/// Writes a chunked array as a new Zarr store whose root is the array (as
/// `dask.array.to_zarr` does without a component): one chunk per block
/// (blocks made regular first), no dimension names, no attributes.
pub fn write_zarr_array(data: &Data, store: impl AsRef<Path>, version: ZarrVersion) -> Result<()> {
    let store = store.as_ref();
    blockwork_graph::register(&WRITE_ZARR);
    if store.exists() {
        return Err(file_err(store, "already exists (remove it first to write a new Zarr store)"));
    }
    real_only(store, "the array", data)?;
    let shape: Vec<usize> = data.shape().to_vec();
    let (data, sizes) = regular_data(data, &shape)?;
    let meta = Meta {
        name: String::new(),
        dims: Vec::new(),
        shape,
        chunks: sizes.clone(),
        elem: Elem::D(data.dtype()),
        attrs: Map::new(),
    };
    let mut doc = array_doc(&meta, version);
    blockwork_store::create_dir_all(&store.to_string_lossy()).map_err(|e| io_err(store, e))?;
    match version {
        ZarrVersion::V2 => {
            write_doc(store, ".zarray", &doc)?;
            write_doc(store, ".zattrs", &json!({}))?;
        }
        ZarrVersion::V3 => {
            if let Some(m) = doc.as_object_mut() {
                m.remove("dimension_names");
            }
            write_doc(store, "zarr.json", &doc)?;
        }
    }
    let zs = open_and_cache(store)?;
    write_blocks(&zs, vec![(String::new(), data, sizes)])
}

impl Dataset {
    /// Writes the dataset as a new Zarr store (a directory, which must not
    /// exist yet) that xarray's `open_zarr` reads: coordinates, data
    /// variables (one chunk per block, written by one task each, computed
    /// on the threaded scheduler), attributes and consolidated metadata.
    pub fn to_zarr(&self, path: impl AsRef<Path>, version: ZarrVersion) -> Result<()> {
        write_dataset(self, path.as_ref(), version)
    }
}

impl DataArray {
    /// Writes the array as a Zarr store of one data variable (named
    /// `__xarray_dataarray_variable__` when it has no name, as xarray
    /// does) with its coordinates.
    pub fn to_zarr(&self, path: impl AsRef<Path>, version: ZarrVersion) -> Result<()> {
        let name = self.name().unwrap_or("__xarray_dataarray_variable__");
        let da = self.clone().rename(name);
        let ds = Dataset::new(vec![da], self.coords().clone(), Attrs::new(), name.to_string());
        write_dataset(&ds, path.as_ref(), version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_grids() {
        assert_eq!(regular(&[3, 3, 2]), Some(3));
        assert_eq!(regular(&[5]), Some(5));
        assert_eq!(regular(&[0]), Some(1));
        assert_eq!(regular(&[3, 2, 3]), None);
        assert_eq!(regular(&[2, 3]), None);
    }
}
