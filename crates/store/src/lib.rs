//! Where files are: local paths, or URLs of an S3-compatible object store
//! (`s3://bucket/dir/part-*.csv`). Readers and writers of every format
//! (CSV, Parquet, JSON, NetCDF, Zarr) go through these few calls, so each
//! reads from both. [`Ranges`] serves the many small reads of formats that
//! seek (a NetCDF-4 file's HDF5 metadata) from a small cache of aligned
//! blocks, so an object is not asked once per header field.
//!
//! S3 is configured from the environment, as the AWS tools are:
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` (or
//! `AWS_DEFAULT_REGION`), and `AWS_ENDPOINT_URL` for another service than
//! AWS (a plain `http://` endpoint is allowed). Requests run on one small
//! I/O runtime shared by the process.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, OnceLock};

pub use bytes::Bytes;

pub mod glob;
mod ranges;
pub use ranges::{Ranges, RangesReader};

use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// The result of a store call: what the file system or the store said.
pub type IoResult<T> = std::io::Result<T>;

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// `(bucket, key)` of an `s3://` URL.
fn s3(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    Some(rest.split_once('/').unwrap_or((rest, "")))
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("blockwork-store")
            .enable_all()
            .build()
            .expect("an I/O runtime for object stores")
    })
}

/// The store of a bucket, built once per process.
fn bucket(name: &str) -> IoResult<Arc<AmazonS3>> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<AmazonS3>>>> = OnceLock::new();
    let mut stores = STORES.get_or_init(Default::default).lock().map_err(other)?;
    if let Some(s) = stores.get(name) {
        return Ok(s.clone());
    }
    // rustls needs its crypto chosen once per process (ring, as the cluster's TLS).
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(name);
    if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL").or_else(|_| std::env::var("AWS_ENDPOINT")) {
        builder = builder.with_endpoint(&endpoint).with_allow_http(endpoint.starts_with("http://"));
    }
    if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
        builder = builder.with_region("us-east-1");
    }
    let store = Arc::new(builder.build().map_err(other)?);
    stores.insert(name.to_string(), store.clone());
    Ok(store)
}

fn run<T>(f: impl std::future::Future<Output = object_store::Result<T>>) -> IoResult<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        // Blocking on our runtime from inside another would panic.
        return Err(std::io::Error::other(
            "object-store reads and writes block, so they cannot run inside an async runtime (a tokio task): \
             call them from a plain thread, e.g. through tokio::task::spawn_blocking",
        ));
    }
    runtime().block_on(f).map_err(|e| match e {
        object_store::Error::NotFound { path, .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("no object {path}"))
        }
        e => other(e),
    })
}

/// Whether `location` is an object-store URL.
pub fn is_url(location: &str) -> bool {
    location.starts_with("s3://")
}

/// The locations a pattern matches, sorted: local paths or keys of a
/// bucket (`s3://bucket/data/**/*.csv`); see [`glob`](crate::glob) for
/// the wildcards. A pattern without wildcards is the location itself, if
/// it exists (an object: listed under its own key).
pub fn list(pattern: &str) -> IoResult<Vec<String>> {
    let Some((b, key)) = s3(pattern) else {
        return glob::local(pattern);
    };
    let m = glob::matcher(key)?;
    let (base, _) = glob::literal_base(key);
    let store = bucket(b)?;
    let prefix = (!base.is_empty()).then(|| StorePath::from(base));
    let objects: Vec<_> = run(store.list(prefix.as_ref()).try_collect())?;
    let mut out: Vec<String> = objects
        .into_iter()
        .map(|o| o.location.to_string())
        .filter(|loc| m.is_match(loc))
        .map(|loc| format!("s3://{b}/{loc}"))
        .collect();
    out.sort();
    Ok(out)
}

/// The names of the directories directly inside `location` (in an object
/// store: the key prefixes one level down), sorted.
pub fn subdirs(location: &str) -> IoResult<Vec<String>> {
    let Some((b, key)) = s3(location) else {
        let mut out = Vec::new();
        for e in std::fs::read_dir(location)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                out.push(e.file_name().to_string_lossy().into_owned());
            }
        }
        out.sort();
        return Ok(out);
    };
    let key = key.trim_end_matches('/');
    let prefix = (!key.is_empty()).then(|| StorePath::from(key));
    let listed = run(bucket(b)?.list_with_delimiter(prefix.as_ref()))?;
    let mut out: Vec<String> = listed.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect();
    out.sort();
    Ok(out)
}

/// Its size in bytes.
pub fn len(location: &str) -> IoResult<u64> {
    match s3(location) {
        Some((b, key)) => Ok(run(bucket(b)?.head(&StorePath::from(key)))?.size),
        None => Ok(std::fs::metadata(location)?.len()),
    }
}

/// What identifies a version of a file or object's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Stat {
    /// Its size in bytes.
    pub size: u64,
    /// Its last modification, in ns since the Unix epoch (0 when unknown).
    pub mtime_ns: i64,
}

/// Its size and last modification.
pub fn stat(location: &str) -> IoResult<Stat> {
    match s3(location) {
        Some((b, key)) => Ok(object_stat(&run(bucket(b)?.head(&StorePath::from(key)))?)),
        None => Ok(file_stat(&std::fs::metadata(location)?)),
    }
}

fn object_stat(meta: &object_store::ObjectMeta) -> Stat {
    Stat { size: meta.size, mtime_ns: meta.last_modified.timestamp_nanos_opt().unwrap_or(0) }
}

fn file_stat(m: &std::fs::Metadata) -> Stat {
    let mtime_ns =
        m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos() as i64);
    Stat { size: m.len(), mtime_ns }
}

/// Bytes `[start, end)` of an object or file whose size is known, as one
/// shared buffer (an object's bytes as the store returned them).
pub fn get_range(location: &str, start: u64, end: u64) -> IoResult<Bytes> {
    match s3(location) {
        Some((b, key)) if end > start => Ok(run(bucket(b)?.get_range(&StorePath::from(key), start..end))?),
        Some(_) => Ok(Bytes::new()),
        None => {
            let mut buf = Vec::new();
            read_range(location, start, end, &mut buf)?;
            Ok(Bytes::from(buf))
        }
    }
}

/// Appends bytes `[start, end)` (clipped to its end) to `buf`.
pub fn read_range(location: &str, start: u64, end: u64, buf: &mut Vec<u8>) -> IoResult<()> {
    read_range_of(location, None, start, end, buf)
}

/// [`read_range`] of a location whose size is known (an object store is
/// then not asked for it again).
pub fn read_range_of(location: &str, size: Option<u64>, start: u64, end: u64, buf: &mut Vec<u8>) -> IoResult<()> {
    if end <= start {
        return Ok(());
    }
    match s3(location) {
        Some((b, key)) => {
            let size = match size {
                Some(n) => n,
                None => len(location)?,
            };
            let end = end.min(size);
            if end > start {
                let bytes = run(bucket(b)?.get_range(&StorePath::from(key), start..end))?;
                buf.extend_from_slice(&bytes);
            }
            Ok(())
        }
        None => {
            let mut file = std::fs::File::open(location)?;
            file.seek(SeekFrom::Start(start))?;
            file.take(end - start).read_to_end(buf)?;
            Ok(())
        }
    }
}

/// All of it.
pub fn read_all(location: &str) -> IoResult<Vec<u8>> {
    Ok(read_with_stat(location)?.0)
}

/// All of it, and the size and modification time of the version read (an
/// object's in the same request).
pub fn read_with_stat(location: &str) -> IoResult<(Vec<u8>, Stat)> {
    match s3(location) {
        Some((b, key)) => {
            let store = bucket(b)?;
            let path = StorePath::from(key);
            run(async move {
                let got = store.get(&path).await?;
                let stat = object_stat(&got.meta);
                Ok((got.bytes().await?.to_vec(), stat))
            })
        }
        None => {
            let mut file = std::fs::File::open(location)?;
            let stat = file_stat(&file.metadata()?);
            let mut bytes = Vec::with_capacity(stat.size as usize);
            file.read_to_end(&mut bytes)?;
            Ok((bytes, stat))
        }
    }
}

/// Writes `bytes` there (directories created for local paths).
pub fn write_all(location: &str, bytes: Vec<u8>) -> IoResult<()> {
    match s3(location) {
        Some((b, key)) => {
            let store = bucket(b)?;
            run(store.put(&StorePath::from(key), PutPayload::from(bytes)))?;
            Ok(())
        }
        None => {
            if let Some(dir) = std::path::Path::new(location).parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(location, bytes)
        }
    }
}

/// Removes it; one that is not there is not an error.
pub fn delete(location: &str) -> IoResult<()> {
    let r = match s3(location) {
        Some((b, key)) => run(bucket(b)?.delete(&StorePath::from(key))),
        None => std::fs::remove_file(location),
    };
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// Removes everything under `location` (a directory, or every object
/// whose key starts with its key and a `/`).
pub fn delete_prefix(location: &str) -> IoResult<()> {
    let Some((b, key)) = s3(location) else {
        return match std::fs::remove_dir_all(location) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        };
    };
    let store = bucket(b)?;
    let prefix = StorePath::from(key.trim_end_matches('/'));
    let objects: Vec<_> = run(store.list(Some(&prefix)).try_collect())?;
    for o in objects {
        run(store.delete(&o.location))?;
    }
    Ok(())
}

/// Makes a local directory and its parents; nothing for an object store,
/// where keys need no directories.
pub fn create_dir_all(location: &str) -> IoResult<()> {
    if is_url(location) {
        return Ok(());
    }
    std::fs::create_dir_all(location)
}

/// `dir` joined with a file name, for paths and URLs alike.
pub fn join(dir: &str, name: &str) -> String {
    if is_url(dir) {
        format!("{}/{name}", dir.trim_end_matches('/'))
    } else {
        std::path::Path::new(dir).join(name).display().to_string()
    }
}
