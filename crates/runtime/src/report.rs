//! Performance reports (Dask's `performance_report`): one self-contained
//! HTML file of what a cluster did during a piece of work — the task
//! stream, compute time per key prefix, progress, the workers, their
//! memory over time and the log — that opens offline.
//!
//! The report is the dashboard's own page with its data embedded instead
//! of pushed: at the start the scheduler's task-stream cursor is noted;
//! at the end everything since it is fetched from the HTTP API and written
//! into the page.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{ConnError, RuntimeError};

/// A report being recorded: the scheduler's dashboard and where its task
/// stream stood when it began.
#[derive(Clone, Debug)]
pub struct PerformanceReport {
    dashboard: SocketAddr,
    cursor: u64,
}

/// How long the scheduler may take to answer.
const TIMEOUT: Duration = Duration::from_secs(60);

/// `GET path` from the scheduler's HTTP API: the body of a 200 answer.
fn get(at: SocketAddr, path: &str) -> Result<String, RuntimeError> {
    let fail = |e: std::io::Error| RuntimeError::Conn { what: format!("GET http://{at}{path}"), source: e.into() };
    let mut s = TcpStream::connect_timeout(&at, TIMEOUT).map_err(fail)?;
    s.set_read_timeout(Some(TIMEOUT)).map_err(fail)?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {at}\r\nConnection: close\r\n\r\n").as_bytes()).map_err(fail)?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).map_err(fail)?;
    let reply = String::from_utf8_lossy(&reply);
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    if !head.starts_with("HTTP/1.1 200") {
        let status = head.lines().next().unwrap_or_default();
        return Err(RuntimeError::Conn {
            what: format!("GET http://{at}{path}"),
            source: ConnError::Unexpected(format!("{status}: {body}")),
        });
    }
    Ok(body.to_string())
}

impl PerformanceReport {
    /// Starts recording what the scheduler whose dashboard (HTTP API)
    /// listens at `dashboard` does from now on.
    pub fn begin(dashboard: SocketAddr) -> Result<PerformanceReport, RuntimeError> {
        if crate::error::in_async_runtime() {
            return Err(RuntimeError::InAsync("PerformanceReport::begin"));
        }
        let body = get(dashboard, &format!("/api/v1/stream?since={}", u64::MAX))?;
        let json: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| RuntimeError::Api(format!("the task stream is not JSON: {e}")))?;
        let cursor = json["next"].as_u64().ok_or_else(|| RuntimeError::Api("no cursor in the task stream".into()))?;
        Ok(PerformanceReport { dashboard, cursor })
    }

    /// Writes the report of everything since [`PerformanceReport::begin`]
    /// to `path`: one HTML file, its data inside it.
    pub fn finish(&self, path: impl AsRef<Path>) -> Result<PathBuf, RuntimeError> {
        if crate::error::in_async_runtime() {
            return Err(RuntimeError::InAsync("PerformanceReport::finish"));
        }
        let data = get(self.dashboard, &format!("/api/v1/report?since={}", self.cursor))?;
        let page = get(self.dashboard, "/status")?;
        // `</` cannot end the script element from inside JSON once escaped.
        let embedded = format!(
            "<script type=\"application/json\" id=\"report-data\">{}</script>\n<script>",
            data.replace("</", "<\\/")
        );
        let html = page.replacen("<script>", &embedded, 1);
        let path = path.as_ref().to_path_buf();
        std::fs::write(&path, html).map_err(|source| RuntimeError::Io {
            what: format!("writing the performance report {}", path.display()),
            source,
        })?;
        Ok(path)
    }
}

/// Runs `f` and writes a performance report of what the cluster whose
/// dashboard listens at `dashboard` did meanwhile to `path`.
pub fn performance_report<R>(
    dashboard: SocketAddr,
    path: impl AsRef<Path>,
    f: impl FnOnce() -> R,
) -> Result<R, RuntimeError> {
    let report = PerformanceReport::begin(dashboard)?;
    let out = f();
    report.finish(path)?;
    Ok(out)
}
