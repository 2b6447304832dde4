//! Where files are: local paths, or URLs of an S3-compatible object store
//! (`s3://bucket/dir/part-*.csv`). Readers and writers go through these
//! few calls, so every format reads from both.
//!
//! S3 is configured from the environment, as the AWS tools are:
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` (or
//! `AWS_DEFAULT_REGION`), and `AWS_ENDPOINT_URL` for another service than
//! AWS (a plain `http://` endpoint is allowed). Requests run on one small
//! I/O runtime shared by the process.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, OnceLock};

use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

type IoResult<T> = std::io::Result<T>;

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
pub(crate) fn is_url(location: &str) -> bool {
    location.starts_with("s3://")
}

/// The locations a pattern matches (wildcards in the last part), sorted.
pub(crate) fn list(pattern: &str) -> IoResult<Vec<String>> {
    let Some((b, key)) = s3(pattern) else {
        let paths = blockwork_graph::glob(pattern).map_err(|(dir, e)| {
            std::io::Error::new(e.kind(), format!("reading the directory {}: {e}", dir.display()))
        })?;
        return Ok(paths.into_iter().map(|p| p.display().to_string()).collect());
    };
    let (dir, name) = key.rsplit_once('/').unwrap_or(("", key));
    let store = bucket(b)?;
    let prefix = (!dir.is_empty()).then(|| StorePath::from(dir));
    let objects: Vec<_> = run(store.list(prefix.as_ref()).try_collect())?;
    let mut out: Vec<String> = objects
        .into_iter()
        .map(|o| o.location.to_string())
        .filter(|loc| {
            let (parent, file) = loc.rsplit_once('/').unwrap_or(("", loc));
            parent == dir && blockwork_graph::glob_match(name, file)
        })
        .map(|loc| format!("s3://{b}/{loc}"))
        .collect();
    out.sort();
    Ok(out)
}

/// Its size in bytes.
pub(crate) fn len(location: &str) -> IoResult<u64> {
    match s3(location) {
        Some((b, key)) => Ok(run(bucket(b)?.head(&StorePath::from(key)))?.size),
        None => Ok(std::fs::metadata(location)?.len()),
    }
}

/// Appends bytes `[start, end)` (clipped to its end) to `buf`.
pub(crate) fn read_range(location: &str, start: u64, end: u64, buf: &mut Vec<u8>) -> IoResult<()> {
    read_range_of(location, None, start, end, buf)
}

/// [`read_range`] of a location whose size is known (an object store is
/// then not asked for it again).
pub(crate) fn read_range_of(
    location: &str,
    size: Option<u64>,
    start: u64,
    end: u64,
    buf: &mut Vec<u8>,
) -> IoResult<()> {
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
pub(crate) fn read_all(location: &str) -> IoResult<Vec<u8>> {
    match s3(location) {
        Some((b, key)) => {
            let store = bucket(b)?;
            let path = StorePath::from(key);
            Ok(run(async move { store.get(&path).await?.bytes().await })?.to_vec())
        }
        None => std::fs::read(location),
    }
}

/// Writes `bytes` there (directories created for local paths).
pub(crate) fn write_all(location: &str, bytes: Vec<u8>) -> IoResult<()> {
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

/// `dir` joined with a file name, for paths and URLs alike.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if is_url(dir) {
        format!("{}/{name}", dir.trim_end_matches('/'))
    } else {
        std::path::Path::new(dir).join(name).display().to_string()
    }
}
