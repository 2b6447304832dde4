//! How many workers the work in hand calls for: the target an adaptive
//! deployment (a job queue, Kubernetes) scales toward.
//!
//! As Dask's `adaptive_target`: the expected run time of everything
//! processing and waiting to run (queued roots and tasks no worker can
//! take, from the durations measured per key prefix), spread over workers
//! so that it would finish within `target_duration`; never more workers
//! than there are tasks to give them. Memory pressure asks for more: when
//! results fill more than 60% of the workers' memory, twice as many. Below
//! the current count, only workers with nothing to do may go, those
//! holding the least data first, and only as many as leave the others
//! room for the data; those are named, so that a scaler retires those
//! (`retire.rs` moves their results away) and not others. Workers being
//! retired are not counted.

use std::time::Duration;

use crate::core::Core;
use crate::ids::{TaskId, WorkerId};

/// How many queued tasks are priced one by one; the rest are counted at
/// the average of those (pricing a million queued roots every few seconds
/// would be the scheduler's own slowdown).
const SAMPLE: usize = 100;

/// The fraction of the workers' memory limit that results may fill before
/// more workers are asked for.
const MEMORY_PRESSURE: f64 = 0.6;

/// What the scheduler proposes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdaptiveTarget {
    /// The number of workers the work calls for.
    pub workers: usize,
    /// When that is fewer than there are: the workers to let go, idle ones
    /// holding the least data first.
    pub to_close: Vec<WorkerId>,
}

impl Core {
    /// The number of workers that would finish the work in hand within
    /// `target_duration`, and which to close when fewer are needed.
    pub fn adaptive_target(&self, target_duration: Duration) -> AdaptiveTarget {
        let workers: Vec<_> = self.running_workers().collect();
        let unknown = self.config.unknown_task_duration.as_micros() as u64;
        let estimate = |t: TaskId| self.durations.estimate_us(self.t(t).prefix, unknown);
        let waiting = self.queue.len() + self.no_worker.len();
        let sampled: u64 = self.queue.iter().chain(self.no_worker.iter()).take(SAMPLE).map(|&(_, t)| estimate(t)).sum();
        let queued_us = if waiting > SAMPLE { sampled as f64 * waiting as f64 / SAMPLE as f64 } else { sampled as f64 };
        let processing_us: u64 = workers.iter().map(|(_, w)| w.occupancy_us).sum();
        let processing: usize = workers.iter().map(|(_, w)| w.processing.len()).sum();
        let threads_per_worker = if workers.is_empty() {
            1.0
        } else {
            workers.iter().map(|(_, w)| f64::from(w.nthreads)).sum::<f64>() / workers.len() as f64
        };
        let target_us = target_duration.as_micros().max(1) as f64;
        let threads = ((processing_us as f64 + queued_us) / target_us).ceil();
        let mut cpu = (threads / threads_per_worker).ceil() as usize;
        // A few long tasks do not call for more workers than they can use.
        cpu = cpu.min((waiting + processing).div_ceil(threads_per_worker.max(1.0) as usize));
        if waiting > 0 {
            cpu = cpu.max(1);
        }
        let limit: u64 = workers.iter().map(|(_, w)| w.memory_limit).sum();
        let used: u64 = workers.iter().map(|(_, w)| w.nbytes).sum();
        let memory = if limit > 0 && used as f64 > MEMORY_PRESSURE * limit as f64 { 2 * workers.len() } else { 0 };
        let target = cpu.max(memory);
        if target >= workers.len() {
            return AdaptiveTarget { workers: target, to_close: Vec::new() };
        }
        // Idle workers, holding the least data first (a scaler retires
        // them, which moves their results to the others), while the
        // others keep room for all the data.
        let mut idle: Vec<_> = workers.iter().filter(|(_, w)| w.processing.is_empty()).collect();
        idle.sort_by_key(|(id, w)| (w.nbytes, *id));
        let mut kept_limit = limit;
        let mut to_close = Vec::new();
        for (id, w) in idle {
            if workers.len() - to_close.len() <= target {
                break;
            }
            let after = kept_limit.saturating_sub(w.memory_limit);
            if limit > 0 && used as f64 > MEMORY_PRESSURE * after as f64 {
                break;
            }
            // Results need a worker to move to.
            if used > 0 && workers.len() - to_close.len() == 1 {
                break;
            }
            kept_limit = after;
            to_close.push(*id);
        }
        AdaptiveTarget { workers: workers.len() - to_close.len(), to_close }
    }
}
