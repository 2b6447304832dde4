//! Adaptive scaling, sans-IO: given the scheduler's target (how many
//! workers the work in hand calls for, and which idle ones could go), how
//! many workers to keep. Up at once; down only when the same workers were
//! proposed `wait_count` times in a row (a pause between two bursts of
//! work does not cost a round of job submissions), never below `minimum`
//! nor above `maximum`. The caller asks the scheduler every `interval`
//! and scales its jobs to the answer ([`run_adaptive`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{JobQueueCluster, JobQueueError};

/// The bounds and pace of adaptive scaling (dask-jobqueue's
/// `cluster.adapt(minimum=, maximum=, interval=, wait_count=)`).
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptOptions {
    /// Fewest workers kept.
    pub minimum: usize,
    /// Most workers asked for.
    pub maximum: usize,
    /// How often the scheduler is asked.
    pub interval: Duration,
    /// How many answers in a row must propose closing a worker before it goes.
    pub wait_count: u32,
    /// The time the work in hand should take with the target's workers.
    pub target_duration: Duration,
}

impl Default for AdaptOptions {
    fn default() -> Self {
        AdaptOptions {
            minimum: 0,
            maximum: usize::MAX,
            interval: Duration::from_secs(1),
            wait_count: 3,
            target_duration: Duration::from_secs(5),
        }
    }
}

impl AdaptOptions {
    /// Refuses bounds that cannot hold.
    pub fn validate(&self) -> Result<(), JobQueueError> {
        if self.minimum > self.maximum {
            return Err(JobQueueError::Invalid(format!(
                "adapt: minimum {} is above maximum {}",
                self.minimum, self.maximum
            )));
        }
        if self.wait_count == 0 || self.interval.is_zero() || self.target_duration.is_zero() {
            return Err(JobQueueError::Invalid(
                "adapt: wait_count, interval and target_duration must be above zero".into(),
            ));
        }
        Ok(())
    }
}

/// What to do after one answer of the scheduler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Keep this many workers (more than now).
    Up(usize),
    /// Keep this many workers (fewer than now): these were proposed for
    /// closing `wait_count` times in a row.
    Down(usize, Vec<String>),
    /// Nothing to change.
    Same,
}

/// The state of adaptive scaling between answers.
#[derive(Clone, Debug)]
pub struct Adaptive {
    options: AdaptOptions,
    /// How many answers in a row proposed closing each worker.
    proposed: HashMap<String, u32>,
}

impl Adaptive {
    /// Adaptive scaling within `options`.
    pub fn new(options: AdaptOptions) -> Result<Self, JobQueueError> {
        options.validate()?;
        Ok(Adaptive { options, proposed: HashMap::new() })
    }

    /// Its options.
    pub fn options(&self) -> &AdaptOptions {
        &self.options
    }

    /// The decision for the scheduler's answer (`target` workers; the
    /// idle workers it would close) with `current` workers planned now.
    pub fn decide(&mut self, target: usize, to_close: &[String], current: usize) -> Decision {
        let target = target.clamp(self.options.minimum, self.options.maximum);
        if target > current {
            self.proposed.clear();
            return Decision::Up(target);
        }
        if target == current {
            self.proposed.clear();
            return Decision::Same;
        }
        if to_close.is_empty() {
            // Closing by count when the scheduler names no worker (workers
            // it does not know of, such as jobs still queued) waits as long.
            self.proposed.retain(|w, _| w.is_empty());
            let by_count = self.proposed.entry(String::new()).or_insert(0);
            *by_count += 1;
            if *by_count >= self.options.wait_count {
                self.proposed.clear();
                return Decision::Down(target, Vec::new());
            }
            return Decision::Same;
        }
        self.proposed.retain(|w, _| to_close.contains(w));
        for w in to_close {
            *self.proposed.entry(w.clone()).or_insert(0) += 1;
        }
        let mut firm: Vec<String> =
            to_close.iter().filter(|w| self.proposed[*w] >= self.options.wait_count).cloned().collect();
        // Never below the target (the scheduler may name more than it needs
        // to close), nor below the minimum.
        firm.truncate(current - target);
        if firm.is_empty() {
            return Decision::Same;
        }
        for w in &firm {
            self.proposed.remove(w);
        }
        Decision::Down(current - firm.len(), firm)
    }
}

/// Runs adaptive scaling of `cluster` until `stop` is set: every interval
/// asks `target` (the scheduler's adaptive target: a worker count and the
/// names of the idle workers it would close), decides, and scales the
/// jobs, retiring workers through `retire` before their jobs are
/// cancelled, and replacing jobs that ended while wanted
/// ([`JobQueueCluster::check_jobs`]); `report` hears every change. An
/// error of the scheduler or the queue ends it, as do jobs that keep
/// dying ([`JobQueueError::Dying`]).
pub fn run_adaptive(
    cluster: &Mutex<JobQueueCluster>,
    mut adaptive: Adaptive,
    mut target: impl FnMut(Duration) -> Result<(usize, Vec<String>), String>,
    mut retire: impl FnMut(&[String]) -> Result<(), String>,
    stop: &AtomicBool,
    mut report: impl FnMut(&Decision, &[String]),
) -> Result<(), JobQueueError> {
    let interval = adaptive.options.interval;
    let mut next = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        if Instant::now() >= next {
            next += interval;
            let (workers, to_close) = target(adaptive.options.target_duration)
                .map_err(|e| JobQueueError::Invalid(format!("adapt: asking the scheduler: {e}")))?;
            let mut c = cluster.lock().unwrap_or_else(|p| p.into_inner());
            // Jobs that ended while wanted are replaced first. A queue
            // command that fails (a busy controller timing out) is tried
            // again at the next interval rather than ending adaptivity.
            let step = c.check_jobs().and_then(|_| {
                let decision = adaptive.decide(workers, &to_close, c.planned_workers());
                if decision != Decision::Same {
                    c.apply(&decision, &mut retire)?;
                    report(&decision, &c.jobs());
                }
                Ok(())
            });
            match step {
                Err(JobQueueError::Command { command, message }) => {
                    tracing::warn!("adapt: {command} failed ({message}); trying again in {interval:?}");
                }
                other => other?,
            }
        }
        std::thread::sleep(Duration::from_millis(20).min(interval));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adaptive(minimum: usize, maximum: usize, wait_count: u32) -> Adaptive {
        Adaptive::new(AdaptOptions { minimum, maximum, wait_count, ..AdaptOptions::default() }).unwrap()
    }

    fn names(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn up_at_once_within_the_bounds() {
        let mut a = adaptive(1, 10, 3);
        assert_eq!(a.decide(4, &[], 0), Decision::Up(4));
        assert_eq!(a.decide(400, &[], 4), Decision::Up(10));
        assert_eq!(a.decide(0, &[], 0), Decision::Up(1), "never below the minimum");
        assert_eq!(a.decide(10, &[], 10), Decision::Same);
    }

    #[test]
    fn down_only_after_the_same_workers_were_proposed_wait_count_times() {
        let mut a = adaptive(0, 10, 3);
        let idle = names(&["tcp://a:1", "tcp://b:1"]);
        assert_eq!(a.decide(2, &idle, 4), Decision::Same);
        assert_eq!(a.decide(2, &idle, 4), Decision::Same);
        assert_eq!(a.decide(2, &idle, 4), Decision::Down(2, idle.clone()));
        // A worker busy again in between starts over.
        let mut a = adaptive(0, 10, 2);
        assert_eq!(a.decide(1, &names(&["tcp://a:1"]), 2), Decision::Same);
        assert_eq!(a.decide(1, &names(&["tcp://b:1"]), 2), Decision::Same);
        assert_eq!(a.decide(1, &names(&["tcp://b:1"]), 2), Decision::Down(1, names(&["tcp://b:1"])));
        // Work arriving resets every count.
        let mut a = adaptive(0, 10, 2);
        assert_eq!(a.decide(0, &names(&["tcp://a:1"]), 1), Decision::Same);
        assert_eq!(a.decide(3, &[], 1), Decision::Up(3));
        assert_eq!(a.decide(0, &names(&["tcp://a:1"]), 3), Decision::Same);
    }

    #[test]
    fn never_below_the_minimum_or_the_target() {
        let mut a = adaptive(2, 10, 1);
        let idle = names(&["tcp://a:1", "tcp://b:1", "tcp://c:1"]);
        assert_eq!(a.decide(0, &idle, 3), Decision::Down(2, names(&["tcp://a:1"])));
        // Jobs whose workers the scheduler does not know yet go by count.
        let mut a = adaptive(0, 10, 2);
        assert_eq!(a.decide(1, &[], 3), Decision::Same);
        assert_eq!(a.decide(1, &[], 3), Decision::Down(1, vec![]));
    }

    #[test]
    fn bounds_that_cannot_hold_are_refused() {
        let e = Adaptive::new(AdaptOptions { minimum: 5, maximum: 2, ..AdaptOptions::default() }).unwrap_err();
        assert!(e.to_string().contains("minimum 5 is above maximum 2"), "{e}");
        assert!(Adaptive::new(AdaptOptions { wait_count: 0, ..AdaptOptions::default() }).is_err());
    }

    /// A queue whose `active` fails its first calls, as a busy controller's
    /// timeouts do.
    struct Flaky {
        failures: usize,
        submitted: std::sync::Arc<Mutex<Vec<String>>>,
    }

    impl crate::Queue for Flaky {
        fn submit(&mut self, _: crate::System, _: &str) -> Result<String, JobQueueError> {
            let mut s = self.submitted.lock().unwrap();
            let id = s.len().to_string();
            s.push(id.clone());
            Ok(id)
        }
        fn cancel(&mut self, _: crate::System, _: &[String]) -> Result<(), JobQueueError> {
            Ok(())
        }
        fn active(&mut self, _: crate::System, ids: &[String]) -> Result<Vec<String>, JobQueueError> {
            if self.failures > 0 {
                self.failures -= 1;
                return Err(JobQueueError::Command { command: "squeue".into(), message: "timed out".into() });
            }
            Ok(ids.to_vec())
        }
    }

    #[test]
    fn a_failing_queue_command_is_tried_again_not_the_end_of_adapting() {
        let submitted = std::sync::Arc::new(Mutex::new(Vec::new()));
        let queue = Flaky { failures: 2, submitted: submitted.clone() };
        let spec = crate::JobSpec::new(1, "1GB").unwrap();
        let cluster = Mutex::new(JobQueueCluster::new(crate::System::Slurm, spec, "tcp://h:1", queue).unwrap());
        // One job already: checking on it is what fails, twice.
        cluster.lock().unwrap().scale(1).unwrap();
        let options = AdaptOptions { minimum: 0, maximum: 3, interval: Duration::from_millis(5), ..Default::default() };
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            let run = s.spawn(|| {
                run_adaptive(
                    &cluster,
                    Adaptive::new(options).unwrap(),
                    |_| Ok((2, vec![])),
                    |_| Ok(()),
                    &stop,
                    |_, _| {},
                )
            });
            let t0 = Instant::now();
            while submitted.lock().unwrap().len() < 2 {
                assert!(!run.is_finished(), "adapting stopped: {:?}", run.join());
                assert!(t0.elapsed() < Duration::from_secs(10), "no job submitted");
                std::thread::sleep(Duration::from_millis(5));
            }
            stop.store(true, Ordering::SeqCst);
            run.join().unwrap().unwrap();
        });
    }
}
