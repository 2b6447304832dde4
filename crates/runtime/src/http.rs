//! The scheduler's HTTP API: what it knows, as JSON and as Prometheus
//! metrics, for deployments that scale from it (an HPC adaptive loop, a
//! Kubernetes autoscaler) and for monitoring.
//!
//! ```text
//!  GET /api/v1/adaptive_target[?target_duration=5s]   {"workers": 3, "to_close": ["worker name", …]}
//!  GET /api/v1/workers                                [{"address": …, "nthreads": …, "cpu": …, …}]
//!  GET /api/v1/workers/NAME                           a worker's page: {"name", "address", "cpu", "joined", "left",
//!                                                     "logs": [[seconds since the epoch, line], …]} (by name,
//!                                                     id or address; kept after it leaves)
//!  GET /api/v1/tasks                                  {"released": 0, "waiting": 12, …}
//!  GET /metrics                                       Prometheus text
//!  GET / (or /status)                                 the dashboard page (`dashboard.html`, embedded)
//!  GET /status/worker/NAME                            a worker's page: its figures, its tasks, its log
//!  GET /api/v1/progress                               [{"prefix": …, "waiting": …, "finished": …}, …]
//!  GET /api/v1/stream?since=N                         task-stream records from cursor N
//!  GET /api/v1/system                                 the scheduler's memory, CPU, loop lag
//!  GET /api/v1/logs                                   the process's last log lines
//!  GET /api/v1/graph                                  the tasks (key, prefix, state) and their edges, up to 5000 tasks
//!  GET /api/v1/report?since=N                         what a performance report holds (the stream from N,
//!                                                     memory over time, log lines, …)
//!  GET /api/v1/events                                 the page's pushed updates (server-sent events)
//!  POST /api/v1/retire_workers  {"workers": ["tcp://…" or a name, …]} or {"n": 2}
//!                               → {"retired": ["tcp://…"], "refused": {"tcp://…": "why"}}
//! ```
//!
//! Each request is read (its head at most 16 KiB, a body at most 64 KiB,
//! within 5 s), parsed by [`parse_request`], and answered by the
//! scheduler's loop from the core's state ([`respond`]): the answer is as
//! current as the core, and costs the loop one pass over workers (tasks,
//! for the task counts) per request. A retirement is answered once every
//! worker it names has left or was refused (the workers may also be given
//! in the query: `?workers=a,b` or `?n=2`). Anything malformed gets a 400 that says why; unknown paths
//! a 404; connections are closed after each answer.

use std::fmt::Write as _;
use std::time::Duration;

use blockwork_scheduler::Core;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

/// The most bytes of a request head.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The most bytes of a request body.
const MAX_BODY: usize = 64 * 1024;

/// A parsed request: its method, path and query parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    /// The body (empty without one).
    pub(crate) body: String,
}

/// An answer: status, content type and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
    /// For task-stream answers: the cursor to ask from next.
    pub(crate) next: Option<u64>,
}

impl Response {
    pub(crate) fn json(value: serde_json::Value) -> Response {
        Response { status: 200, content_type: "application/json", body: value.to_string(), next: None }
    }

    pub(crate) fn error(status: u16, message: impl Into<String>) -> Response {
        Response {
            status,
            content_type: "application/json",
            body: json!({ "error": message.into() }).to_string(),
            next: None,
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            405 => "Method Not Allowed",
            _ => "Error",
        };
        let mut out = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.status,
            self.content_type,
            self.body.len()
        )
        .into_bytes();
        out.extend_from_slice(self.body.as_bytes());
        out
    }
}

/// Parses a request head (`GET /path?a=b HTTP/1.1` and its headers).
pub(crate) fn parse_request(head: &[u8]) -> Result<Request, String> {
    let text = std::str::from_utf8(head).map_err(|_| "the request is not UTF-8 text".to_string())?;
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("malformed request line {line:?}"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("unsupported protocol {version:?}"));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((unescape(&k.replace('+', " "))?, unescape(&v.replace('+', " "))?))
        })
        .collect::<Result<_, String>>()?;
    Ok(Request { method: method.to_string(), path: path.to_string(), query, body: String::new() })
}

/// Decodes a URL's `%XX` escapes; a malformed escape or text that is not
/// UTF-8 is an error naming it.
pub(crate) fn unescape(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => out.push(b),
                None => return Err(format!("malformed escape in {s:?} (a % takes two hex digits)")),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} does not decode to UTF-8 text"))
}

/// The `Content-Length` of a request head (0 without one).
fn content_length(head: &[u8]) -> Result<usize, String> {
    let text = String::from_utf8_lossy(head);
    for line in text.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                return value.trim().parse().map_err(|_| format!("Content-Length {:?} is not a number", value.trim()));
            }
        }
    }
    Ok(0)
}

/// Whether `req` asks to retire workers.
pub(crate) fn is_retire(req: &Request) -> bool {
    req.path == "/api/v1/retire_workers" && req.method == "POST"
}

/// The workers a retire request names: `{"workers": [...]}` or `{"n": k}`
/// in the body (JSON), or `workers=a,b` / `n=k` in the query.
pub(crate) fn retire_request(req: &Request) -> Result<crate::client::Retire, String> {
    use crate::client::Retire;
    let query = |k: &str| req.query.iter().find(|(q, _)| q == k).map(|(_, v)| v.as_str());
    if req.body.trim().is_empty() {
        if let Some(ws) = query("workers") {
            return Ok(Retire::Workers(ws.split(',').filter(|w| !w.is_empty()).map(str::to_string).collect()));
        }
        return match query("n").map(str::parse::<usize>) {
            Some(Ok(n)) => Ok(Retire::Count(n)),
            Some(Err(_)) => Err(format!("n={:?} is not a number of workers", query("n").unwrap_or_default())),
            None => Err("say which workers to retire: {\"workers\": [...]} or {\"n\": 2}".into()),
        };
    }
    let body: serde_json::Value =
        serde_json::from_str(&req.body).map_err(|e| format!("the request body is not JSON: {e}"))?;
    if let Some(ws) = body.get("workers") {
        let names = ws.as_array().ok_or("\"workers\" must be a list of addresses or names")?;
        return names
            .iter()
            .map(|w| w.as_str().map(str::to_string).ok_or_else(|| format!("worker {w} is not a string")))
            .collect::<Result<Vec<_>, _>>()
            .map(Retire::Workers);
    }
    match body.get("n").map(serde_json::Value::as_u64) {
        Some(Some(n)) => Ok(Retire::Count(n as usize)),
        Some(None) => Err(format!("\"n\" must be a number of workers, not {}", body["n"])),
        None => Err("say which workers to retire: {\"workers\": [...]} or {\"n\": 2}".into()),
    }
}

/// The answer to a finished retirement.
pub(crate) fn retired_response(done: &crate::tracker::Retired) -> Response {
    let refused: serde_json::Map<String, serde_json::Value> =
        done.refused.iter().map(|(a, why)| (a.clone(), json!(why))).collect();
    Response::json(json!({ "retired": done.retired, "refused": refused }))
}

/// A duration like `5s`, `500ms`, `2m`, `1h` or a number of seconds (as Dask's
/// configuration writes them).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let n: f64 = t[..split].parse().ok()?;
    let seconds = match &t[split..] {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

/// The adaptive target: a worker count and the names of the workers to
/// close (what the HTTP API and a client's request answer).
pub(crate) fn adaptive_target(core: &Core, target_duration: Duration) -> (usize, Vec<String>) {
    let t = core.adaptive_target(target_duration);
    (t.workers, t.to_close.iter().filter_map(|&w| core.worker_info(w)).map(|i| i.name.to_string()).collect())
}

/// The dashboard page.
const PAGE: &str = include_str!("dashboard.html");

/// The most tasks the graph view draws.
const GRAPH_LIMIT: usize = 5000;

/// Task-stream records in one answer, at most.
const STREAM_LIMIT: usize = 200_000;

/// The workers, as the API and the page show them.
fn workers_json(core: &Core, dash: &crate::dashboard::Dashboard) -> serde_json::Value {
    let workers: Vec<serde_json::Value> = core
        .worker_ids()
        .into_iter()
        .filter_map(|w| core.worker_info(w))
        .map(|i| {
            json!({
                "id": i.id.0,
                "address": &*i.address,
                "name": &*i.name,
                "retiring": i.retiring,
                "nthreads": i.nthreads,
                "cpu": dash.workers.cpu(i.id.0),
                "memory_limit": i.memory_limit,
                "processing": i.processing,
                "occupancy_seconds": i.occupancy.as_secs_f64(),
                "keys_held": i.keys_held,
                "nbytes": i.nbytes,
                "memory": {
                    "managed": i.memory.managed,
                    "spilled": i.memory.spilled,
                    "unmanaged": i.memory.unmanaged,
                },
            })
        })
        .collect();
    serde_json::Value::Array(workers)
}

/// The `since` cursor of a task-stream request.
fn since(req: &Request) -> Result<u64, Response> {
    match req.query.iter().find(|(k, _)| k == "since") {
        None => Ok(0),
        Some((_, v)) => {
            v.parse().map_err(|_| Response::error(400, format!("since={v:?} is not a record number (0, 1, …)")))
        }
    }
}

/// What the scheduler's loop holds for the HTTP API.
pub(crate) struct View<'a> {
    pub(crate) core: &'a Core,
    pub(crate) dash: &'a crate::dashboard::Dashboard,
    pub(crate) uptime: Duration,
}

/// The answer to `req` from the core's state.
pub(crate) fn respond(view: &View<'_>, req: &Request) -> Response {
    let core = view.core;
    if req.method != "GET" {
        return Response::error(
            405,
            format!("{} {}: only GET is served here (POST: /api/v1/retire_workers)", req.method, req.path),
        );
    }
    match req.path.as_str() {
        "/api/v1/adaptive_target" => {
            let wanted = req.query.iter().find(|(k, _)| k == "target_duration").map(|(_, v)| v.as_str());
            let target_duration = match wanted.map(parse_duration) {
                None => Duration::from_secs(5),
                Some(Some(d)) if !d.is_zero() => d,
                Some(_) => {
                    return Response::error(
                        400,
                        format!("target_duration={:?} is not a duration (5s, 500ms, 2m)", wanted.unwrap_or_default()),
                    )
                }
            };
            let (workers, to_close) = adaptive_target(core, target_duration);
            Response::json(json!({ "workers": workers, "to_close": to_close }))
        }
        "/api/v1/workers" => Response::json(workers_json(core, view.dash)),
        "/" | "/status" => page(),
        p if p.starts_with("/status/worker/") => page(),
        p if p.starts_with("/api/v1/workers/") => {
            let who = match unescape(&p["/api/v1/workers/".len()..]) {
                Ok(w) => w,
                Err(e) => return Response::error(400, e),
            };
            match view.dash.workers.page(&who) {
                Some(page) => Response::json(page),
                None => Response::error(
                    404,
                    format!("no worker {who:?} (name one by its name, id or address; see /api/v1/workers)"),
                ),
            }
        }
        "/api/v1/progress" => Response::json(view.dash.progress(core)),
        "/api/v1/system" => Response::json(view.dash.system(view.uptime)),
        "/api/v1/logs" => Response::json(json!(crate::log_lines())),
        "/api/v1/graph" => match core.graph_snapshot(GRAPH_LIMIT) {
            Some(g) => {
                let nodes: Vec<serde_json::Value> =
                    g.nodes.iter().map(|(k, s)| json!([k.to_string(), k.prefix(), s.name()])).collect();
                Response::json(json!({ "nodes": nodes, "edges": g.edges }))
            }
            None => Response::json(json!({ "too_many": core.num_tasks(), "limit": GRAPH_LIMIT })),
        },
        "/api/v1/stream" | "/api/v1/update" | "/api/v1/report" => {
            let from = match since(req) {
                Ok(n) => n,
                Err(r) => return r,
            };
            // Written as text: the page asks twice a second, on the loop.
            let (records, next) = view.dash.stream_since(from, STREAM_LIMIT);
            let names = json!(view.dash.prefix_names()).to_string();
            let mut body = format!("{{\"prefixes\":{names},\"records\":{records},\"next\":{next}");
            if req.path != "/api/v1/stream" {
                // The progress is a pass over every task: the page asks for
                // it every few updates (`progress=0` skips it).
                if !req.query.iter().any(|(k, v)| k == "progress" && v == "0") {
                    body.push_str(&format!(",\"progress\":{}", view.dash.progress(core)));
                }
                body.push_str(&format!(",\"workers\":{}", workers_json(core, view.dash)));
                body.push_str(&format!(",\"system\":{}", view.dash.system(view.uptime)));
            }
            if req.path == "/api/v1/report" {
                body.push_str(&format!(",\"memory\":{}", view.dash.memory()));
                body.push_str(&format!(",\"logs\":{}", json!(crate::log_lines())));
            }
            body.push('}');
            Response { status: 200, content_type: "application/json", body, next: Some(next) }
        }
        "/api/v1/tasks" => {
            let counts: serde_json::Map<String, serde_json::Value> =
                core.task_counts().iter().map(|(k, n)| (k.name().to_string(), json!(n))).collect();
            Response::json(serde_json::Value::Object(counts))
        }
        "/metrics" => {
            Response { status: 200, content_type: "text/plain; version=0.0.4", body: metrics(view), next: None }
        }
        other => Response::error(
            404,
            format!(
                "no such path {other:?} (see /status, /status/worker/NAME, /api/v1/adaptive_target, /api/v1/workers, \
                 /api/v1/workers/NAME, /api/v1/tasks, /api/v1/progress, /api/v1/stream, /api/v1/system, /metrics)"
            ),
        ),
    }
}

/// The dashboard page (one page: it shows a worker's view when its path
/// is `/status/worker/NAME`).
fn page() -> Response {
    Response { status: 200, content_type: "text/html; charset=utf-8", body: PAGE.into(), next: None }
}

/// A Prometheus label value: backslashes, quotes and newlines escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// One figure of a worker, for its metric.
type WorkerFigure = fn(&blockwork_scheduler::WorkerInfo) -> u64;

/// One figure of a worker's transfers and spills (`WorkerPages::moved`).
type MovedFigure = fn([(u64, u64); 2]) -> u64;

/// Writes one metric's help and type lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The scheduler's Prometheus metrics, and each worker's as the scheduler
/// knows them (labelled `worker="NAME"`).
fn metrics(view: &View<'_>) -> String {
    let core = view.core;
    let mut out = String::new();
    let workers: Vec<_> = core.worker_ids().into_iter().filter_map(|w| core.worker_info(w)).collect();
    family(&mut out, "blockwork_scheduler_tasks", "gauge", "Tasks the scheduler knows, by state.");
    for (k, n) in core.task_counts() {
        let _ = writeln!(out, "blockwork_scheduler_tasks{{state=\"{}\"}} {n}", k.name());
    }
    let gauges: [(&str, &str, u64); 5] = [
        ("workers", "Workers connected.", workers.len() as u64),
        ("threads", "Threads of the connected workers.", workers.iter().map(|w| u64::from(w.nthreads)).sum()),
        ("memory_limit_bytes", "Memory limits of the workers, summed.", workers.iter().map(|w| w.memory_limit).sum()),
        ("managed_bytes", "Bytes of results held by workers.", workers.iter().map(|w| w.nbytes).sum()),
        ("spilled_bytes", "Bytes of results spilled to disk.", workers.iter().map(|w| w.memory.spilled).sum()),
    ];
    for (name, help, value) in gauges {
        family(&mut out, &format!("blockwork_scheduler_{name}"), "gauge", help);
        let _ = writeln!(out, "blockwork_scheduler_{name} {value}");
    }
    let (lag, lag_max) = view.dash.lag();
    family(
        &mut out,
        "blockwork_scheduler_loop_lag_seconds",
        "gauge",
        "How late the scheduler's loop handled its last tick.",
    );
    let _ = writeln!(out, "blockwork_scheduler_loop_lag_seconds {}", lag.as_secs_f64());
    family(&mut out, "blockwork_scheduler_loop_lag_max_seconds", "gauge", "The latest the loop ever handled a tick.");
    let _ = writeln!(out, "blockwork_scheduler_loop_lag_max_seconds {}", lag_max.as_secs_f64());
    family(&mut out, "blockwork_tasks_finished_total", "counter", "Tasks finished, by key prefix.");
    for (prefix, n, _) in view.dash.per_prefix() {
        let _ = writeln!(out, "blockwork_tasks_finished_total{{prefix=\"{}\"}} {n}", label(prefix));
    }
    family(&mut out, "blockwork_task_compute_seconds_total", "counter", "Time tasks ran, by key prefix.");
    for (prefix, _, secs) in view.dash.per_prefix() {
        let _ = writeln!(out, "blockwork_task_compute_seconds_total{{prefix=\"{}\"}} {secs}", label(prefix));
    }
    family(&mut out, "blockwork_worker_memory_bytes", "gauge", "Each worker's memory: managed, unmanaged, spilled.");
    for w in &workers {
        let name = label(&w.name);
        for (kind, v) in
            [("managed", w.memory.managed), ("unmanaged", w.memory.unmanaged), ("spilled", w.memory.spilled)]
        {
            let _ = writeln!(out, "blockwork_worker_memory_bytes{{worker=\"{name}\",kind=\"{kind}\"}} {v}");
        }
    }
    let per_worker: [(&str, &str, WorkerFigure); 4] = [
        ("threads", "Each worker's threads.", |w| u64::from(w.nthreads)),
        ("memory_limit_bytes", "Each worker's memory limit.", |w| w.memory_limit),
        ("processing_tasks", "Tasks processing on each worker.", |w| w.processing as u64),
        ("held_keys", "Results each worker holds.", |w| w.keys_held as u64),
    ];
    for (name, help, f) in per_worker {
        family(&mut out, &format!("blockwork_worker_{name}"), "gauge", help);
        for w in &workers {
            let _ = writeln!(out, "blockwork_worker_{name}{{worker=\"{}\"}} {}", label(&w.name), f(w));
        }
    }
    family(&mut out, "blockwork_worker_cpu", "gauge", "CPU cores each worker kept busy over its last report.");
    for w in &workers {
        let _ =
            writeln!(out, "blockwork_worker_cpu{{worker=\"{}\"}} {}", label(&w.name), view.dash.workers.cpu(w.id.0));
    }
    let moved: [(&str, &str, MovedFigure); 4] = [
        ("transfers_total", "Transfers each worker fetched from peers.", |m| m[0].0),
        ("transfer_bytes_total", "Bytes each worker fetched from peers.", |m| m[0].1),
        ("spills_total", "Times each worker spilled results to disk.", |m| m[1].0),
        ("spilled_bytes_total", "Bytes each worker spilled to disk.", |m| m[1].1),
    ];
    for (name, help, f) in moved {
        family(&mut out, &format!("blockwork_worker_{name}"), "counter", help);
        for w in &workers {
            let n = f(view.dash.workers.moved(w.id.0));
            let _ = writeln!(out, "blockwork_worker_{name}{{worker=\"{}\"}} {n}", label(&w.name));
        }
    }
    out
}

/// A request for the scheduler's loop, and where its answer goes.
pub(crate) type Query = (Request, oneshot::Sender<Response>);

/// Accepts HTTP connections until `stopped`; each request is answered by
/// the loop behind `queries`.
pub(crate) async fn serve(
    listener: TcpListener,
    queries: mpsc::UnboundedSender<Query>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let conn = tokio::select! {
            _ = stopped.changed() => return,
            c = listener.accept() => c,
        };
        let Ok((stream, _)) = conn else { continue };
        let queries = queries.clone();
        tokio::spawn(async move {
            let _ = answer(stream, queries).await;
        });
    }
}

async fn answer(mut stream: TcpStream, queries: mpsc::UnboundedSender<Query>) -> std::io::Result<()> {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(Some(head))) => head,
        Ok(Ok(None)) => {
            let refusal = Response::error(400, "the request head is too long or cut short");
            stream.write_all(&refusal.to_bytes()).await?;
            stream.shutdown().await?;
            // Read what is still coming (briefly), so that closing does not
            // reset the connection before the client reads the answer.
            let mut sink = [0u8; 4096];
            let drain = async { while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {} };
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
            return Ok(());
        }
        Ok(Err(e)) => return Err(e),
        Err(_) => return Ok(()),
    };
    let (head, mut body) = head;
    let parsed = parse_request(&head).and_then(|req| Ok((req, content_length(&head)?)));
    let response = match parsed {
        Err(why) => Response::error(400, why),
        Ok((_, n)) if n > MAX_BODY => Response::error(400, format!("the request body ({n} bytes) is over {MAX_BODY}")),
        Ok((req, 0)) if req.method == "GET" && req.path == "/api/v1/events" => {
            return push_updates(stream, queries).await;
        }
        Ok((mut req, n)) => {
            while body.len() < n {
                let mut chunk = [0u8; 4096];
                let got = match tokio::time::timeout(READ_TIMEOUT, stream.read(&mut chunk)).await {
                    Ok(Ok(got)) if got > 0 => got,
                    _ => return Ok(()),
                };
                body.extend_from_slice(&chunk[..got]);
            }
            body.truncate(n);
            req.body = String::from_utf8_lossy(&body).into_owned();
            let (tx, rx) = oneshot::channel();
            if queries.send((req, tx)).is_err() {
                return Ok(());
            }
            match rx.await {
                Ok(r) => r,
                Err(_) => return Ok(()),
            }
        }
    };
    stream.write_all(&response.to_bytes()).await?;
    stream.shutdown().await
}

/// How often the page is sent what changed.
const PUSH_EVERY: Duration = Duration::from_millis(500);
/// One update in this many carries the progress per prefix (a pass over
/// every task on the scheduler's loop).
const PROGRESS_EVERY: u64 = 4;

/// Server-sent events for the dashboard page: every [`PUSH_EVERY`], the
/// task-stream records since the last message, the progress per prefix,
/// the workers and the scheduler's figures, until the page goes away.
async fn push_updates(mut stream: TcpStream, queries: mpsc::UnboundedSender<Query>) -> std::io::Result<()> {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: keep-alive\r\n\r\n";
    stream.write_all(head.as_bytes()).await?;
    let mut cursor = 0u64;
    for round in 0u64.. {
        let mut query = vec![("since".into(), cursor.to_string())];
        if round % PROGRESS_EVERY != 0 {
            query.push(("progress".into(), "0".into()));
        }
        let req = Request { method: "GET".into(), path: "/api/v1/update".into(), query, body: String::new() };
        let (tx, rx) = oneshot::channel();
        if queries.send((req, tx)).is_err() {
            return Ok(());
        }
        let Ok(update) = rx.await else { return Ok(()) };
        cursor = update.next.unwrap_or(cursor);
        stream.write_all(format!("data: {}\n\n", update.body).as_bytes()).await?;
        tokio::time::sleep(PUSH_EVERY).await;
    }
    Ok(())
}

/// The bytes up to the blank line ending the head, and those read after
/// it; `None` if the head is longer than [`MAX_HEAD`] or the connection
/// ends first.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            buf.truncate(end);
            return Ok(Some((buf, rest)));
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_malformed_ones_say_why() {
        let r = parse_request(b"GET /api/v1/adaptive_target?target_duration=2s&x HTTP/1.1\r\nHost: h").unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/api/v1/adaptive_target");
        assert_eq!(r.query, vec![("target_duration".into(), "2s".into()), ("x".into(), String::new())]);
        assert!(parse_request(b"\xff\xfe").unwrap_err().contains("not UTF-8"));
        assert!(parse_request(b"GET /").unwrap_err().contains("malformed request line"));
        assert!(parse_request(b"GET / SPDY/3").unwrap_err().contains("unsupported protocol"));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn answers_from_the_core() {
        let core = Core::new(blockwork_scheduler::Config::default()).unwrap();
        let mut dash = crate::dashboard::Dashboard::default();
        dash.task_finished("add", 0, Duration::from_millis(5), Duration::from_millis(2));
        let view = View { core: &core, dash: &dash, uptime: Duration::from_secs(1) };
        let get = |path: &str| respond(&view, &parse_request(format!("GET {path} HTTP/1.1").as_bytes()).unwrap());
        let t = get("/api/v1/adaptive_target");
        let body: serde_json::Value = serde_json::from_str(&t.body).unwrap();
        assert_eq!((t.status, body), (200, json!({ "workers": 0, "to_close": [] })));
        assert_eq!(get("/api/v1/workers").body, "[]");
        assert!(get("/api/v1/tasks").body.contains(r#""processing":0"#));
        let m = get("/metrics");
        assert!(
            m.body.contains("blockwork_scheduler_tasks{state=\"memory\"} 0")
                && m.body.contains("blockwork_scheduler_workers 0")
        );
        let bad = get("/api/v1/adaptive_target?target_duration=soon");
        assert_eq!(bad.status, 400);
        assert!(bad.body.contains("not a duration"), "{}", bad.body);
        assert_eq!(get("/nope").status, 404);
        let post = respond(&view, &parse_request(b"POST /metrics HTTP/1.1").unwrap());
        assert_eq!(post.status, 405);
        let page = get("/status");
        assert!(page.content_type.starts_with("text/html") && page.body.contains("EventSource"));
        let stream: serde_json::Value = serde_json::from_str(&get("/api/v1/stream?since=0").body).unwrap();
        assert_eq!(stream, json!({ "prefixes": ["add"], "records": [[0, 0, 3000, 5000]], "next": 1 }));
        assert_eq!(get("/api/v1/stream?since=x").status, 400);
        let progress: serde_json::Value = serde_json::from_str(&get("/api/v1/progress").body).unwrap();
        assert_eq!((progress[0]["prefix"].clone(), progress[0]["finished"].clone()), (json!("add"), json!(1)));
        let update: serde_json::Value = serde_json::from_str(&get("/api/v1/update?since=1").body).unwrap();
        assert!(update["records"].as_array().unwrap().is_empty() && update["workers"].is_array());
        assert!(get("/api/v1/system").body.contains("loop_lag_seconds"));
        let graph: serde_json::Value = serde_json::from_str(&get("/api/v1/graph").body).unwrap();
        assert_eq!(graph, json!({ "nodes": [], "edges": [] }));
        let m = get("/metrics").body;
        assert!(m.contains("blockwork_tasks_finished_total{prefix=\"add\"} 1"), "{m}");
        assert!(m.contains("blockwork_task_compute_seconds_total{prefix=\"add\"} 0.002"), "{m}");
        assert!(m.contains("# TYPE blockwork_scheduler_loop_lag_seconds gauge"), "{m}");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
