//! A progress bar for long runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use blockwork_graph::{Graph, TaskId};
use indicatif::{ProgressDrawTarget, ProgressStyle};

use crate::Callback;

/// Shows a progress bar on stderr for runs that last longer than
/// `min_time` (one second by default), like `dask.diagnostics.ProgressBar`.
///
/// Tasks only bump an atomic counter; a separate thread redraws ten times
/// a second, so the bar costs the workers nothing measurable.
pub struct ProgressBar {
    min_time: Duration,
    to_stderr: bool,
    done: Arc<AtomicU64>,
    shown: Arc<std::sync::atomic::AtomicBool>,
    ticker: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
}

impl Default for ProgressBar {
    fn default() -> Self {
        Self::new(Duration::from_secs(1))
    }
}

impl ProgressBar {
    /// A bar that appears once a run has lasted `min_time`.
    pub fn new(min_time: Duration) -> Self {
        ProgressBar { min_time, to_stderr: true, done: Arc::default(), shown: Arc::default(), ticker: Mutex::new(None) }
    }

    /// The same bar, counting but never drawing (for tests and embedding).
    pub fn hidden(mut self) -> Self {
        self.to_stderr = false;
        self
    }

    /// Tasks finished in the current or last run.
    pub fn completed(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Whether the bar was drawn during the current or last run.
    pub fn was_shown(&self) -> bool {
        self.shown.load(Ordering::Relaxed)
    }
}

impl Callback for ProgressBar {
    fn start(&self, graph: &Graph, _nthreads: usize) {
        self.done.store(0, Ordering::Relaxed);
        self.shown.store(false, Ordering::Relaxed);
        let (tx, rx) = channel::<()>();
        let done = Arc::clone(&self.done);
        let shown = Arc::clone(&self.shown);
        let total = graph.len() as u64;
        let min_time = self.min_time;
        let to_stderr = self.to_stderr;
        let handle = std::thread::spawn(move || {
            let t0 = Instant::now();
            let bar = indicatif::ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
            if let Ok(style) =
                ProgressStyle::with_template("[{bar:40}] {percent:>3}% {pos}/{len} tasks | {elapsed_precise}")
            {
                bar.set_style(style.progress_chars("#>-"));
            }
            loop {
                let stop = match rx.recv_timeout(Duration::from_millis(100)) {
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
                    Err(RecvTimeoutError::Timeout) => false,
                };
                if !shown.load(Ordering::Relaxed) && t0.elapsed() >= min_time && (to_stderr || !stop) {
                    if to_stderr {
                        bar.set_draw_target(ProgressDrawTarget::stderr());
                    }
                    shown.store(true, Ordering::Relaxed);
                }
                bar.set_position(done.load(Ordering::Relaxed));
                if stop {
                    if shown.load(Ordering::Relaxed) {
                        bar.finish();
                    }
                    break;
                }
            }
        });
        if let Some((tx, h)) = self.ticker.lock().unwrap_or_else(|e| e.into_inner()).replace((tx, handle)) {
            drop(tx);
            let _ = h.join();
        }
    }

    fn task_finish(&self, _graph: &Graph, _task: TaskId, _worker: usize, _ok: bool) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    fn finish(&self, _graph: &Graph, _ok: bool) {
        if let Some((tx, h)) = self.ticker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
            let _ = h.join();
        }
    }
}
