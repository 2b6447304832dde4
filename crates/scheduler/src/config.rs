//! Tunables of the scheduler, with Dask's defaults where they make sense.

use std::time::Duration;

use crate::error::SchedError;

/// Scheduler settings. [`Config::default`] is what a cluster runs with.
#[derive(Clone, Debug)]
pub struct Config {
    /// Expected run time of a task whose key prefix never finished yet
    /// (Dask's `unknown-task-duration`). Default 500 ms: pessimistic enough
    /// that a burst of unknown tasks spreads over workers, small enough
    /// that one worker holding their inputs still wins.
    pub unknown_task_duration: Duration,
    /// Assumed network bandwidth between workers, bytes per second, to
    /// price moving inputs. Default 100 MB/s.
    pub bandwidth: u64,
    /// Root-task queuing: a worker is given queued root tasks only while it
    /// has fewer than `ceil(nthreads × saturation)` tasks processing.
    /// `None` turns queuing off (roots are placed like any task). Default 1.1.
    pub saturation: Option<f64>,
    /// How long a worker's report takes to reach the scheduler and a new
    /// task to come back. Roots expected to run shorter than this are
    /// queued on workers a few ahead (see `saturation`), so their threads
    /// do not idle between tasks. Default 1 ms.
    pub round_trip: Duration,
    /// How many worker deaths a task may be blamed for: a task that was
    /// processing on one more worker that died is erred with a
    /// [`FailureKind::KilledWorker`](crate::FailureKind) error. Default 2,
    /// so the third death while it runs is fatal (Dask's default is 3).
    pub allowed_failures: u32,
    /// A worker silent for longer than this is removed at the next tick.
    /// Default 60 s.
    pub heartbeat_timeout: Duration,
    /// How often the tick balances work between workers by stealing;
    /// `None` turns stealing off. Default 100 ms.
    pub stealing_interval: Option<Duration>,
    /// A task whose group (tasks sharing a key name) has more than this
    /// many tasks per thread of the cluster, and that has only a few inputs
    /// from small groups, is treated as a root and queued. Default 2.
    pub rootish_group_factor: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            unknown_task_duration: Duration::from_millis(500),
            bandwidth: 100_000_000,
            saturation: Some(1.1),
            round_trip: Duration::from_millis(1),
            allowed_failures: 2,
            heartbeat_timeout: Duration::from_secs(60),
            stealing_interval: Some(Duration::from_millis(100)),
            rootish_group_factor: 2,
        }
    }
}

impl Config {
    /// Checks the settings, naming the one at fault.
    pub fn validate(&self) -> Result<(), SchedError> {
        if self.bandwidth == 0 {
            return Err(SchedError::InvalidConfig("bandwidth must be positive".into()));
        }
        if let Some(s) = self.saturation {
            if !(s.is_finite() && s > 0.0) {
                return Err(SchedError::InvalidConfig(format!("saturation must be a positive number, not {s}")));
            }
        }
        if self.stealing_interval == Some(Duration::ZERO) {
            return Err(SchedError::InvalidConfig("stealing_interval must be positive".into()));
        }
        Ok(())
    }
}
