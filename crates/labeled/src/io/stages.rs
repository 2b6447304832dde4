//! Where the reading of chunked NetCDF spends its time, by stage: the
//! file's bytes read (the kernel's copy out of the page cache) and the
//! chunks inflated. Every thread of the process adds to the same
//! counters, at the cost of two clock reads and three atomic additions
//! per chunk, so a workload can report how much of its threads' time
//! each stage took and at what throughput: the time not in these stages
//! is the engine's and the kernels' that use the blocks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One stage's totals.
pub struct Stage {
    nanos: AtomicU64,
    bytes: AtomicU64,
    calls: AtomicU64,
}

/// A stage's totals at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    /// Threads' time in the stage, summed over threads.
    pub time: Duration,
    /// Bytes the stage produced (read, or inflated).
    pub bytes: u64,
    /// Times it ran (once per chunk, or per contiguous run).
    pub calls: u64,
}

impl Totals {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: Totals) -> Totals {
        Totals {
            time: self.time.saturating_sub(earlier.time),
            bytes: self.bytes - earlier.bytes.min(self.bytes),
            calls: self.calls - earlier.calls.min(self.calls),
        }
    }

    /// Bytes per second of the stage's own time (0 when it never ran).
    pub fn throughput(self) -> f64 {
        let s = self.time.as_secs_f64();
        if s > 0.0 {
            self.bytes as f64 / s
        } else {
            0.0
        }
    }
}

impl Stage {
    const fn new() -> Self {
        Stage { nanos: AtomicU64::new(0), bytes: AtomicU64::new(0), calls: AtomicU64::new(0) }
    }

    /// Adds a run of the stage that began at `start` and made `bytes`.
    pub(crate) fn add(&self, start: Instant, bytes: usize) {
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Its totals since the process started.
    pub fn totals(&self) -> Totals {
        Totals {
            time: Duration::from_nanos(self.nanos.load(Ordering::Relaxed)),
            bytes: self.bytes.load(Ordering::Relaxed),
            calls: self.calls.load(Ordering::Relaxed),
        }
    }
}

/// Stored bytes read from files (chunks, and runs of contiguous variables).
pub static READ: Stage = Stage::new();
/// Deflated chunks inflated (bytes: the inflated size).
pub static INFLATE: Stage = Stage::new();

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_and_subtract() {
        let stage = Stage::new();
        let before = stage.totals();
        stage.add(Instant::now() - Duration::from_millis(5), 1000);
        stage.add(Instant::now(), 24);
        let t = stage.totals().since(before);
        assert_eq!((t.bytes, t.calls), (1024, 2));
        assert!(t.time >= Duration::from_millis(5));
        assert!(t.throughput() > 0.0 && t.throughput() < 1024.0 / 0.005);
        assert_eq!(Totals::default().throughput(), 0.0);
    }
}
