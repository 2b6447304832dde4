//! The metadata of Zarr v2 and v3 stores: a store's root group and its
//! arrays, from consolidated metadata when there is some (`.zmetadata`,
//! or `consolidated_metadata` in the root `zarr.json`), else from each
//! array's own documents. Each array becomes a `zarrs` array for reads and
//! writes, with what labeled arrays need beside it: dimension names,
//! chunk shape, element kind and attributes (`_FillValue` as xarray takes
//! it: the v2 `fill_value`, or a v3 `_FillValue` attribute).
//!
//! Opened stores are kept in a small per-process cache keyed by path and
//! the latest modification time of the metadata read, so the tasks of a
//! process share the parsed metadata and codecs, and a store rewritten
//! since it was opened is an error rather than a stale read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use blockwork_graph::TaskError;
use serde_json::{Map, Value as Json};
use zarrs::array::{Array, ArrayMetadata, ArrayMetadataV2, ArrayMetadataV3};
use zarrs::filesystem::FilesystemStore;
use zarrs::storage::ReadableWritableStorageTraits;

use crate::attrs::{AttrValue, Attrs};
use crate::cf::Stored;
use crate::error::{file_err, io_err, not_found, task_err, LabeledError, Result};
use crate::io::zarr_object::ObjectZarr;

/// What an array holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Num(Stored),
    Bool,
    Str,
}

/// One array of a store's root group (or the store's root array, named "").
pub(crate) struct ZArray {
    pub(crate) name: String,
    /// Its dimension names; `dim_0`, `dim_1`, … when the store names none
    /// (`named_dims` false: a plain Zarr array, not one xarray wrote).
    pub(crate) dims: Vec<String>,
    pub(crate) named_dims: bool,
    pub(crate) shape: Vec<usize>,
    /// The store's chunk shape.
    pub(crate) chunks: Vec<usize>,
    pub(crate) kind: Kind,
    /// Attributes as stored, `_FillValue` as xarray takes it, without
    /// `_ARRAY_DIMENSIONS`.
    pub(crate) attrs: Attrs,
    /// Its data: a directory's files or an object store's objects.
    pub(crate) array: Array<dyn ReadableWritableStorageTraits>,
}

/// An opened store: its root group's attributes and arrays.
pub(crate) struct ZStore {
    pub(crate) path: PathBuf,
    /// Latest modification time of the metadata read, in ns.
    pub(crate) mtime_ns: i64,
    pub(crate) attrs: Attrs,
    pub(crate) arrays: Vec<ZArray>,
}

impl ZStore {
    pub(crate) fn array(&self, name: &str) -> std::result::Result<&ZArray, TaskError> {
        self.arrays
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| TaskError::new(format!("{}: no array `{name}`", self.path.display())))
    }
}

/// Reads a metadata document; `None` when it does not exist.
fn read_json(store: &Path, rel: &str, mtime: &mut i64) -> Result<Option<Json>> {
    let location = blockwork_store::join(&store.to_string_lossy(), rel);
    let (text, stat) = match blockwork_store::read_with_stat(&location) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(store.join(rel), e)),
    };
    *mtime = (*mtime).max(stat.mtime_ns);
    serde_json::from_slice(&text).map(Some).map_err(|e| file_err(store, format!("corrupt metadata {rel}: {e}")))
}

/// Subdirectories of the store, sorted: candidate arrays of the root group.
fn children(store: &Path) -> Result<Vec<String>> {
    blockwork_store::subdirs(&store.to_string_lossy()).map_err(|e| io_err(store, e))
}

/// The root group's attributes and arrays' metadata documents (for v2,
/// `.zarray` and `.zattrs`), from consolidated metadata if present.
type Nodes = (Json, Vec<(String, Json, Json)>);

fn nodes_v3(path: &Path, root: Json, mtime: &mut i64) -> Result<Nodes> {
    if root.get("node_type").and_then(Json::as_str) == Some("array") {
        return Ok((Json::Null, vec![(String::new(), root, Json::Null)]));
    }
    if root.get("node_type").and_then(Json::as_str) != Some("group") {
        return Err(file_err(path, "zarr.json is the metadata of neither a group nor an array"));
    }
    let attrs = root.get("attributes").cloned().unwrap_or(Json::Null);
    let is_array = |m: &Json| m.get("node_type").and_then(Json::as_str) == Some("array");
    let mut arrays = Vec::new();
    if let Some(Json::Object(all)) = root.pointer("/consolidated_metadata/metadata") {
        for (name, m) in all {
            if !name.contains('/') && is_array(m) {
                arrays.push((name.clone(), m.clone(), Json::Null));
            }
        }
    } else {
        for name in children(path)? {
            if let Some(m) = read_json(path, &format!("{name}/zarr.json"), mtime)?.filter(is_array) {
                arrays.push((name, m, Json::Null));
            }
        }
    }
    Ok((attrs, arrays))
}

fn nodes_v2(path: &Path, mtime: &mut i64) -> Result<Nodes> {
    if let Some(z) = read_json(path, ".zmetadata", mtime)? {
        let Some(Json::Object(all)) = z.get("metadata") else {
            return Err(file_err(path, "corrupt metadata .zmetadata: no `metadata` object"));
        };
        let mut arrays = Vec::new();
        for (key, m) in all {
            if let Some(name) = key.strip_suffix("/.zarray").filter(|n| !n.contains('/')) {
                let attrs = all.get(&format!("{name}/.zattrs")).cloned().unwrap_or(Json::Null);
                arrays.push((name.to_string(), m.clone(), attrs));
            }
        }
        arrays.sort_by(|a, b| a.0.cmp(&b.0));
        return Ok((all.get(".zattrs").cloned().unwrap_or(Json::Null), arrays));
    }
    if let Some(m) = read_json(path, ".zarray", mtime)? {
        let attrs = read_json(path, ".zattrs", mtime)?.unwrap_or(Json::Null);
        return Ok((Json::Null, vec![(String::new(), m, attrs)]));
    }
    if read_json(path, ".zgroup", mtime)?.is_none() {
        return Err(not_a_store(path));
    }
    let attrs = read_json(path, ".zattrs", mtime)?.unwrap_or(Json::Null);
    let mut arrays = Vec::new();
    for name in children(path)? {
        if let Some(m) = read_json(path, &format!("{name}/.zarray"), mtime)? {
            let a = read_json(path, &format!("{name}/.zattrs"), mtime)?.unwrap_or(Json::Null);
            arrays.push((name, m, a));
        }
    }
    Ok((attrs, arrays))
}

/// An attribute value from JSON; objects, nulls and mixed lists are
/// left out.
pub(crate) fn attr_of_json(v: &Json) -> Option<AttrValue> {
    let one = |x: &Json| match x {
        Json::Number(n) if n.is_i64() || n.is_u64() => n.as_i64().map(|i| AttrValue::Int(vec![i])),
        Json::Number(n) => n.as_f64().map(|f| AttrValue::Num(vec![f])),
        Json::Bool(b) => Some(AttrValue::Int(vec![*b as i64])),
        Json::String(s) => Some(AttrValue::Str(s.clone())),
        _ => None,
    };
    match v {
        Json::Array(xs) if xs.iter().all(Json::is_string) && !xs.is_empty() => {
            Some(AttrValue::Str(xs.iter().filter_map(Json::as_str).collect::<Vec<_>>().join("\n")))
        }
        Json::Array(xs) if !xs.is_empty() => {
            let parts: Vec<AttrValue> = xs.iter().map(one).collect::<Option<_>>()?;
            if parts.iter().all(|p| matches!(p, AttrValue::Int(_))) {
                Some(AttrValue::Int(parts.iter().filter_map(AttrValue::as_f64).map(|x| x as i64).collect()))
            } else {
                Some(AttrValue::Num(parts.iter().filter_map(AttrValue::as_f64).collect()))
            }
        }
        other => one(other),
    }
}

fn attrs_of_json(v: &Json) -> Attrs {
    v.as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), attr_of_json(v)?))).collect())
        .unwrap_or_default()
}

/// A number of Zarr metadata: JSON numbers and the strings of NaN and
/// the infinities.
fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::Bool(b) => Some(*b as i64 as f64),
        Json::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// xarray's `_FillValue` attribute of Zarr v3 floats: base64 of a
/// little-endian float64.
fn base64_f64(s: &str) -> Option<f64> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut bytes = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        bits = (bits << 6) | ALPHABET.iter().position(|&a| a == c)? as u32;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((bits >> nbits) as u8);
        }
    }
    Some(f64::from_le_bytes(bytes.try_into().ok()?))
}

fn kind_of(dtype: &str) -> Option<Kind> {
    use Stored::*;
    Some(match dtype.trim_start_matches(['<', '>', '|', '=']) {
        "i1" | "int8" => Kind::Num(I8),
        "i2" | "int16" => Kind::Num(I16),
        "i4" | "int32" => Kind::Num(I32),
        "i8" | "int64" => Kind::Num(I64),
        "u1" | "uint8" => Kind::Num(U8),
        "u2" | "uint16" => Kind::Num(U16),
        "u4" | "uint32" => Kind::Num(U32),
        "u8" | "uint64" => Kind::Num(U64),
        "f4" | "float32" => Kind::Num(F32),
        "f8" | "float64" => Kind::Num(F64),
        "b1" | "bool" => Kind::Bool,
        "O" | "string" => Kind::Str,
        _ => return None,
    })
}

fn usizes(v: Option<&Json>) -> Option<Vec<usize>> {
    v?.as_array()?.iter().map(|x| x.as_u64().map(|x| x as usize)).collect()
}

/// One array of the root group, from its metadata; `None` for element
/// types labeled arrays do not hold.
fn zarray(path: &Path, v3: bool, node: (String, Json, Json)) -> Result<Option<ZArray>> {
    let (name, meta, zattrs) = node;
    let err = |e: &dyn std::fmt::Display| file_err(path, format!("array `{name}`: {e}"));
    let dtype = meta.get(if v3 { "data_type" } else { "dtype" }).and_then(Json::as_str);
    let Some(kind) = dtype.and_then(kind_of) else { return Ok(None) };
    let raw_attrs = if v3 { meta.get("attributes").cloned().unwrap_or(Json::Null) } else { zattrs };
    let mut attrs = attrs_of_json(&raw_attrs);
    let dims_json = meta.get("dimension_names").filter(|d| !d.is_null()).or_else(|| raw_attrs.get("_ARRAY_DIMENSIONS"));
    attrs.remove("_ARRAY_DIMENSIONS");
    let shape = usizes(meta.get("shape")).ok_or_else(|| err(&"corrupt metadata: no shape"))?;
    let named: Option<Vec<String>> = match dims_json.and_then(Json::as_array) {
        Some(d) => d.iter().map(|x| x.as_str().map(str::to_string)).collect::<Option<_>>(),
        None => None,
    };
    let named_dims = named.is_some();
    let dims = named.unwrap_or_else(|| (0..shape.len()).map(|i| format!("dim_{i}")).collect());
    if dims.len() != shape.len() {
        return Err(err(&format!("{} dimension names {dims:?} for shape {shape:?}", dims.len())));
    }
    let chunks = usizes(if v3 { meta.pointer("/chunk_grid/configuration/chunk_shape") } else { meta.get("chunks") })
        .filter(|c| c.len() == shape.len())
        .unwrap_or_else(|| shape.clone());
    // The missing value, as xarray reads it.
    if v3 {
        if let Some(fv) = raw_attrs.get("_FillValue") {
            let x = match fv {
                Json::String(s) => base64_f64(s).or_else(|| number(fv)),
                other => number(other),
            };
            match x {
                Some(x) => attrs.insert("_FillValue".into(), AttrValue::Num(vec![x])),
                None => attrs.remove("_FillValue"),
            };
        }
    } else if let Some(x) = meta.get("fill_value").filter(|f| !f.is_null()).and_then(number) {
        attrs.insert("_FillValue".into(), AttrValue::Num(vec![x]));
    }
    let parsed = if v3 {
        serde_json::from_value::<ArrayMetadataV3>(meta).map(ArrayMetadata::V3)
    } else {
        serde_json::from_value::<ArrayMetadataV2>(meta).map(|mut m| {
            m.attributes = raw_attrs.as_object().cloned().unwrap_or_else(Map::new);
            ArrayMetadata::V2(m)
        })
    };
    let parsed = parsed.map_err(|e| err(&format!("corrupt metadata: {e}")))?;
    // A store rooted at the array's directory: xarray's names (such as
    // `__xarray_dataarray_variable__`) need not be valid zarrs node paths.
    let location = path.to_string_lossy();
    let storage: Arc<dyn ReadableWritableStorageTraits> = if blockwork_store::is_url(&location) {
        Arc::new(ObjectZarr::new(&blockwork_store::join(&location, &name)))
    } else {
        Arc::new(FilesystemStore::new(path.join(&name)).map_err(|e| err(&e))?)
    };
    let array = Array::new_with_metadata(storage, "/", parsed).map_err(|e| err(&e))?;
    Ok(Some(ZArray { name, dims, named_dims, shape, chunks, kind, attrs, array }))
}

/// A location with none of the metadata documents. A local directory
/// that is there is not a Zarr store; under an object store's prefix
/// nothing at all was found, so the store is missing.
fn not_a_store(path: &Path) -> LabeledError {
    let what = "not a Zarr store (no zarr.json, .zmetadata, .zgroup or .zarray)";
    if blockwork_store::is_url(&path.to_string_lossy()) {
        not_found(path, what)
    } else {
        file_err(path, what)
    }
}

/// Opens a store's metadata (not its data).
pub(crate) fn open_store(path: &Path) -> Result<ZStore> {
    if !blockwork_store::is_url(&path.to_string_lossy()) && !path.is_dir() {
        return Err(if path.exists() {
            file_err(path, "cannot open Zarr store: not a directory")
        } else {
            not_found(path, "cannot open Zarr store: no such file or directory")
        });
    }
    let mut mtime = 0;
    let (v3, (attrs, nodes)) = match read_json(path, "zarr.json", &mut mtime)? {
        Some(root) => (true, nodes_v3(path, root, &mut mtime)?),
        None => (false, nodes_v2(path, &mut mtime)?),
    };
    let mut arrays = Vec::new();
    for node in nodes {
        arrays.extend(zarray(path, v3, node)?);
    }
    let attrs = attrs_of_json(&attrs).into_iter().filter(|(k, _)| !k.to_lowercase().starts_with("_nc")).collect();
    Ok(ZStore { path: path.to_path_buf(), mtime_ns: mtime, attrs, arrays })
}

type Cache = Mutex<HashMap<(PathBuf, i64), Arc<ZStore>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Opens a store and keeps it for the tasks of this process.
pub(crate) fn open_and_cache(path: &Path) -> Result<Arc<ZStore>> {
    let s = Arc::new(open_store(path)?);
    let mut c = cache().lock().unwrap_or_else(|e| e.into_inner());
    if c.len() >= 256 {
        c.clear();
    }
    c.insert((s.path.clone(), s.mtime_ns), Arc::clone(&s));
    Ok(s)
}

/// The store as it was when opened at `mtime_ns`: from the cache, or
/// opened again (in another process) and checked to be the same.
pub(crate) fn cached(path: &str, mtime_ns: i64) -> std::result::Result<Arc<ZStore>, TaskError> {
    let key = (PathBuf::from(path), mtime_ns);
    if let Some(s) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(Arc::clone(s));
    }
    let s = open_and_cache(&key.0).map_err(task_err)?;
    if s.mtime_ns != mtime_ns {
        return Err(TaskError::new(format!("{path}: the Zarr store's metadata changed since it was opened")));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_values_and_types() {
        assert!(base64_f64("AAAAAAAA+H8=").unwrap().is_nan());
        assert_eq!(base64_f64("AAAAAAAA8D8="), Some(1.0));
        assert_eq!(base64_f64("AAAA"), None);
        assert!(number(&Json::String("NaN".into())).unwrap().is_nan());
        assert_eq!(kind_of("<f4"), Some(Kind::Num(Stored::F32)));
        assert_eq!(kind_of("uint8"), Some(Kind::Num(Stored::U8)));
        assert_eq!(kind_of("|b1"), Some(Kind::Bool));
        assert_eq!(kind_of("<M8[ns]"), None);
        let a = attr_of_json(&serde_json::json!([1, 2.5])).unwrap();
        assert_eq!(a, AttrValue::Num(vec![1.0, 2.5]));
        assert_eq!(attr_of_json(&serde_json::json!(3)), Some(AttrValue::Int(vec![3])));
        assert_eq!(attr_of_json(&serde_json::json!({"a": 1})), None);
    }

    #[test]
    fn a_store_changed_since_it_was_opened_is_an_error() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zarr_v3.zarr");
        let s = open_and_cache(&path).unwrap();
        assert!(cached(&path.display().to_string(), s.mtime_ns).is_ok());
        let e = cached(&path.display().to_string(), s.mtime_ns + 1).err().unwrap().message;
        assert!(e.contains("zarr_v3.zarr") && e.contains("changed since it was opened"), "{e}");
    }
}
