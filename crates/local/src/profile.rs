//! A task profiler: which thread ran which task, when.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use blockwork_graph::{Graph, Key, TaskId};

use crate::{Callback, ResourceProfiler, ResourceSample};

/// One task as the profiler saw it.
#[derive(Clone, Debug)]
pub struct TaskRecord {
    /// The task.
    pub key: Key,
    /// The thread (0 is the calling thread).
    pub worker: usize,
    /// Start, since the run started.
    pub start: Duration,
    /// End, since the run started.
    pub end: Duration,
    /// Whether it succeeded.
    pub ok: bool,
}

#[derive(Default)]
struct Lane {
    started: Duration,
    records: Vec<TaskRecord>,
}

/// Records every task's start, end and thread, like
/// `dask.diagnostics.Profiler`, and draws them as an HTML timeline.
///
/// Each thread appends to its own buffer, so recording costs two clock
/// reads and a push per task.
pub struct Profiler {
    t0: RwLock<Instant>,
    lanes: RwLock<Vec<Mutex<Lane>>>,
}

impl Default for Profiler {
    fn default() -> Self {
        Profiler { t0: RwLock::new(Instant::now()), lanes: RwLock::default() }
    }
}

impl Profiler {
    /// A profiler with no records.
    pub fn new() -> Self {
        Self::default()
    }

    /// The records of the last run, by start time.
    pub fn records(&self) -> Vec<TaskRecord> {
        let lanes = self.lanes.read().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<TaskRecord> =
            lanes.iter().flat_map(|l| l.lock().unwrap_or_else(|e| e.into_inner()).records.clone()).collect();
        all.sort_by_key(|r| r.start);
        all
    }

    /// Writes an HTML page with the task timeline and, if given, the
    /// resource samples of the same run.
    pub fn write_html(&self, path: impl AsRef<Path>, resources: Option<&ResourceProfiler>) -> std::io::Result<()> {
        let samples = resources.map(ResourceProfiler::samples).unwrap_or_default();
        std::fs::write(path, render_html(&self.records(), &samples))
    }
}

impl Callback for Profiler {
    fn start(&self, _graph: &Graph, nthreads: usize) {
        *self.t0.write().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        let mut lanes = self.lanes.write().unwrap_or_else(|e| e.into_inner());
        *lanes = (0..nthreads).map(|_| Mutex::new(Lane::default())).collect();
    }

    fn task_start(&self, _graph: &Graph, _task: TaskId, worker: usize) {
        let t = self.t0.read().unwrap_or_else(|e| e.into_inner()).elapsed();
        if let Some(lane) = self.lanes.read().unwrap_or_else(|e| e.into_inner()).get(worker) {
            lane.lock().unwrap_or_else(|e| e.into_inner()).started = t;
        }
    }

    fn task_finish(&self, graph: &Graph, task: TaskId, worker: usize, ok: bool) {
        let end = self.t0.read().unwrap_or_else(|e| e.into_inner()).elapsed();
        if let Some(lane) = self.lanes.read().unwrap_or_else(|e| e.into_inner()).get(worker) {
            let mut lane = lane.lock().unwrap_or_else(|e| e.into_inner());
            let start = lane.started;
            lane.records.push(TaskRecord { key: graph.key(task).clone(), worker, start, end, ok });
        }
    }
}

const WIDTH: f64 = 1100.0;
const LANE: f64 = 22.0;

fn color(prefix: &str) -> String {
    let h = blockwork_graph::tokenize(prefix).0;
    format!("hsl({}, 60%, 55%)", h % 360)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn rect(s: &mut String, x: f64, w: f64, y: f64, prefix: &str, title: &str) {
    let _ = write!(
        s,
        "<rect x=\"{:.2}\" y=\"{y}\" width=\"{w:.2}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>",
        x + 70.0,
        LANE - 4.0,
        color(prefix),
        esc(title)
    );
}

/// The HTML page: a timeline with one lane per thread, CPU and memory
/// curves, and a table of time per kind of task.
pub(crate) fn render_html(records: &[TaskRecord], samples: &[ResourceSample]) -> String {
    let span = records
        .iter()
        .map(|r| r.end)
        .chain(samples.iter().map(|s| s.time))
        .max()
        .unwrap_or_default()
        .as_secs_f64()
        .max(1e-6);
    let x = |d: Duration| d.as_secs_f64() / span * WIDTH;
    let nlanes = records.iter().map(|r| r.worker + 1).max().unwrap_or(0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>blockwork profile</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:2px 10px;text-align:right}}\
         rect:hover{{stroke:#000}}</style></head><body><h1>blockwork profile</h1>\
         <p>{} tasks on {} threads in {:.3} s</p><h2>Tasks</h2>",
        records.len(),
        nlanes,
        span
    );
    let h = nlanes as f64 * LANE + 20.0;
    let _ = write!(s, "<svg width=\"{}\" height=\"{h}\" xmlns=\"http://www.w3.org/2000/svg\">", WIDTH + 80.0);
    for lane in 0..nlanes {
        let y = lane as f64 * LANE;
        let _ = write!(s, "<text x=\"0\" y=\"{}\" font-size=\"11\">thread {lane}</text>", y + 15.0);
        // Tasks narrower than a pixel are binned per pixel column and the
        // column is drawn in the colour of the kind that took most time in
        // it, so a million tasks make a page of a few thousand bars.
        let mut bins: BTreeMap<usize, BTreeMap<&str, (usize, f64)>> = BTreeMap::new();
        for r in records.iter().filter(|r| r.worker == lane) {
            let (x0, x1, p) = (x(r.start), x(r.end), r.key.prefix());
            if x1 - x0 >= 1.0 {
                let title = format!("{} ({:.3} ms)", r.key, (r.end - r.start).as_secs_f64() * 1e3);
                rect(&mut s, x0, x1 - x0, y, p, &title);
            } else {
                let e = bins.entry(x0 as usize).or_default().entry(p).or_default();
                e.0 += 1;
                e.1 += (r.end - r.start).as_secs_f64();
            }
        }
        for (px, kinds) in bins {
            let Some((top, _)) = kinds.iter().max_by(|a, b| a.1 .1.total_cmp(&b.1 .1)) else { continue };
            let title: Vec<String> = kinds.iter().map(|(k, (n, _))| format!("{k} ×{n}")).collect();
            rect(&mut s, px as f64, 1.0, y, top, &title.join(", "));
        }
    }
    let _ = write!(s, "<text x=\"70\" y=\"{}\" font-size=\"11\">0 s</text>", h - 4.0);
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" font-size=\"11\">{span:.3} s</text></svg>", WIDTH + 30.0, h - 4.0);

    if !samples.is_empty() {
        let max_cpu = samples.iter().map(|p| p.cpu_percent).fold(100.0, f64::max);
        let max_mem = samples.iter().map(|p| p.rss_bytes).max().unwrap_or(1).max(1) as f64;
        let line = |f: &dyn Fn(&ResourceSample) -> f64| {
            samples
                .iter()
                .map(|p| format!("{:.1},{:.1}", x(p.time) + 70.0, 150.0 - 140.0 * f(p)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ = write!(
            s,
            "<h2>Resources</h2><svg width=\"{}\" height=\"160\" xmlns=\"http://www.w3.org/2000/svg\">\
             <polyline fill=\"none\" stroke=\"#c33\" points=\"{}\"/><polyline fill=\"none\" stroke=\"#36c\" points=\"{}\"/>\
             <text x=\"0\" y=\"12\" font-size=\"11\" fill=\"#c33\">CPU ≤ {max_cpu:.0}%</text>\
             <text x=\"0\" y=\"26\" font-size=\"11\" fill=\"#36c\">RSS ≤ {:.1} MiB</text></svg>",
            WIDTH + 80.0,
            line(&|p| p.cpu_percent / max_cpu),
            line(&|p| p.rss_bytes as f64 / max_mem),
            max_mem / 1048576.0
        );
    }

    let mut by_kind: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    for r in records {
        let e = by_kind.entry(r.key.prefix()).or_default();
        e.0 += 1;
        e.1 += (r.end - r.start).as_secs_f64();
    }
    s.push_str("<h2>By kind</h2><table><tr><th>kind</th><th>tasks</th><th>total s</th><th>mean µs</th></tr>");
    for (k, (n, t)) in by_kind {
        let _ = write!(
            s,
            "<tr><td style=\"text-align:left\"><span style=\"color:{}\">■</span> {}</td><td>{n}</td><td>{t:.4}</td><td>{:.2}</td></tr>",
            color(k),
            esc(k),
            t / n as f64 * 1e6
        );
    }
    s.push_str("</table></body></html>\n");
    s
}
