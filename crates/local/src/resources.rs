//! CPU and memory of this process over time.

use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use blockwork_graph::Graph;

use crate::Callback;

/// One sample of the process's resource use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResourceSample {
    /// Time since the run started.
    pub time: Duration,
    /// CPU used since the previous sample, in percent of one core.
    pub cpu_percent: f64,
    /// Resident memory, in bytes.
    pub rss_bytes: u64,
}

/// Samples CPU and resident memory while a run lasts, like
/// `dask.diagnostics.ResourceProfiler`. Reads `/proc/self`; on systems
/// without it no samples are taken.
pub struct ResourceProfiler {
    interval: Duration,
    samples: Arc<Mutex<Vec<ResourceSample>>>,
    sampler: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
}

impl Default for ResourceProfiler {
    fn default() -> Self {
        Self::new(Duration::from_millis(50))
    }
}

impl ResourceProfiler {
    /// A profiler sampling every `interval`.
    pub fn new(interval: Duration) -> Self {
        ResourceProfiler { interval, samples: Arc::default(), sampler: Mutex::new(None) }
    }

    /// The samples of the current or last run.
    pub fn samples(&self) -> Vec<ResourceSample> {
        self.samples.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// CPU seconds (user + system) and resident bytes of this process.
fn read_self() -> Option<(f64, u64)> {
    use crate::procfs::{cpu_seconds, rss, Process};
    Some((cpu_seconds(Process::This)?, rss(Process::This)?))
}

impl Callback for ResourceProfiler {
    fn start(&self, _graph: &Graph, _nthreads: usize) {
        self.samples.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let (tx, rx) = channel::<()>();
        let samples = Arc::clone(&self.samples);
        let interval = self.interval;
        let handle = std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut last = read_self().map(|(cpu, _)| (Instant::now(), cpu));
            loop {
                let stop = !matches!(rx.recv_timeout(interval), Err(RecvTimeoutError::Timeout));
                if let (Some((t_prev, cpu_prev)), Some((cpu, rss))) = (last, read_self()) {
                    let now = Instant::now();
                    let dt = now.duration_since(t_prev).as_secs_f64().max(1e-9);
                    let sample = ResourceSample {
                        time: now.duration_since(t0),
                        cpu_percent: 100.0 * (cpu - cpu_prev) / dt,
                        rss_bytes: rss,
                    };
                    samples.lock().unwrap_or_else(|e| e.into_inner()).push(sample);
                    last = Some((now, cpu));
                }
                if stop {
                    break;
                }
            }
        });
        if let Some((tx, h)) = self.sampler.lock().unwrap_or_else(|e| e.into_inner()).replace((tx, handle)) {
            drop(tx);
            let _ = h.join();
        }
    }

    fn finish(&self, _graph: &Graph, _ok: bool) {
        if let Some((tx, h)) = self.sampler.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
            let _ = h.join();
        }
    }
}
