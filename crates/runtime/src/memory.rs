//! A worker's memory limits: when to spill, when to pause.
//!
//! Dask's thresholds, as fractions of the worker's memory limit:
//!
//! | above | measured on | then |
//! |---|---|---|
//! | `target` (0.6) | values in memory (managed) | spill least recently used values until below it |
//! | `spill` (0.7) | the process's resident memory | spill until the process is below `target` |
//! | `pause` (0.8) | the process's resident memory | start no new task until it is below again |
//!
//! The process figures apply only when the worker has its process to
//! itself (`WorkerOptions::process_memory`); in-process workers of a
//! `LocalCluster` share one process and go by managed memory alone.
//! [`decide`] is the whole policy, without IO; the worker's loop applies
//! it after storing a value and at every tick.

/// Fractions of the memory limit (see the module docs). `None` turns a
/// threshold off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryThresholds {
    /// Spill managed memory above this fraction. Default 0.6.
    pub target: Option<f64>,
    /// Spill when the process is above this fraction. Default 0.7.
    pub spill: Option<f64>,
    /// Pause when the process is above this fraction. Default 0.8.
    pub pause: Option<f64>,
}

impl Default for MemoryThresholds {
    fn default() -> Self {
        MemoryThresholds { target: Some(0.6), spill: Some(0.7), pause: Some(0.8) }
    }
}

/// What the loop should do about memory now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Decision {
    /// Spill until at most this many bytes of values are in memory.
    pub spill_to: Option<u64>,
    /// Pause (`true`) or resume (`false`), if that changes.
    pub pause: Option<bool>,
}

/// The policy: `limit` bytes (0: no limit), `in_memory` bytes of values in
/// memory, `rss` the process's resident bytes if it is watched (without
/// it, pausing is left as it is).
pub(crate) fn decide(limit: u64, t: &MemoryThresholds, in_memory: u64, rss: Option<u64>, paused: bool) -> Decision {
    let mut d = Decision::default();
    if limit == 0 {
        if paused {
            d.pause = Some(false);
        }
        return d;
    }
    let of = |f: f64| (limit as f64 * f) as u64;
    let target = t.target.map(of);
    if let Some(target) = target {
        if in_memory > target {
            d.spill_to = Some(target);
        }
    }
    if let Some(rss) = rss {
        if let Some(spill) = t.spill.map(of) {
            if rss > spill {
                // Free what the process holds above the target (or the
                // spill threshold, without one), from the values in memory.
                let excess = rss - target.unwrap_or(spill).min(rss);
                let to = in_memory.saturating_sub(excess);
                d.spill_to = Some(d.spill_to.map_or(to, |x| x.min(to)));
            }
        }
        match t.pause.map(of) {
            Some(pause) if rss > pause && !paused => d.pause = Some(true),
            Some(pause) if rss <= pause && paused => d.pause = Some(false),
            None if paused => d.pause = Some(false),
            _ => {}
        }
    }
    d
}

/// How long a paused worker waits for its memory to be freed, with no
/// task running and spilling freeing nothing, before it gives up waiting
/// (see [`Stuck`]).
pub const STUCK_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether a paused worker can no longer expect its memory to be freed.
///
/// A worker pauses to let spilling and finishing tasks bring its memory
/// down. When no task runs and spilling frees nothing (the spill
/// directory is full or unwritable, or no value left can be spilled),
/// nothing will: waiting on would hang every computation that needs this
/// worker. After [`STUCK_AFTER`] of that, the worker fails the tasks sent
/// to it with the reason instead, until its memory is below the pause
/// threshold again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stuck {
    since: Option<std::time::Duration>,
}

impl Stuck {
    /// Observes one tick at `now`: whether the worker is paused, how many
    /// tasks run, and whether the tick's spilling freed nothing. True once
    /// it has been stuck for [`STUCK_AFTER`] without a break.
    pub fn observe(&mut self, now: std::time::Duration, paused: bool, executing: u32, freed_nothing: bool) -> bool {
        if !(paused && executing == 0 && freed_nothing) {
            self.since = None;
            return false;
        }
        let since = *self.since.get_or_insert(now);
        now.saturating_sub(since) >= STUCK_AFTER
    }
}

/// This process's resident memory, bytes (Linux; `None` elsewhere).
pub(crate) fn process_rss() -> Option<u64> {
    blockwork_local::procfs::rss(blockwork_local::procfs::Process::This)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1 << 30;

    #[test]
    fn thresholds_follow_dask() {
        let t = MemoryThresholds::default();
        assert_eq!(decide(0, &t, 5 * GB, Some(9 * GB), false), Decision::default(), "no limit, nothing to do");
        let d = decide(10 * GB, &t, 7 * GB, None, false);
        assert_eq!(d.spill_to, Some(6 * GB), "managed above 60%: back to 60%");
        assert_eq!(d.pause, None);
        // Process at 7.5 GB with 5 GB managed: free 1.5 GB of values.
        let d = decide(10 * GB, &t, 5 * GB, Some(7 * GB + GB / 2), false);
        assert_eq!(d.spill_to, Some(5 * GB - (GB + GB / 2)));
        assert_eq!(d.pause, None);
        let d = decide(10 * GB, &t, 5 * GB, Some(9 * GB), false);
        assert_eq!(d.pause, Some(true));
        assert_eq!(d.spill_to, Some(2 * GB));
        assert_eq!(decide(10 * GB, &t, GB, Some(7 * GB), true).pause, Some(false), "resumes below 80%");
        assert_eq!(decide(10 * GB, &t, GB, Some(9 * GB), true).pause, None, "stays paused");
        let off = MemoryThresholds { target: None, spill: None, pause: None };
        assert_eq!(decide(10 * GB, &off, 9 * GB, Some(9 * GB), false), Decision::default());
    }

    #[test]
    fn stuck_after_an_unbroken_stretch_of_paused_idle_ticks_that_free_nothing() {
        let s = |secs: u64| std::time::Duration::from_secs(secs);
        let mut st = Stuck::default();
        assert!(!st.observe(s(0), true, 0, true));
        assert!(!st.observe(s(9), true, 0, true));
        assert!(st.observe(s(10), true, 0, true), "10 s paused, idle, nothing freed");
        // Any break starts the stretch again: a running task, a spill that
        // freed something, a resume.
        for (paused, executing, freed_nothing) in [(true, 1, true), (true, 0, false), (false, 0, true)] {
            let mut st = Stuck::default();
            assert!(!st.observe(s(0), true, 0, true));
            assert!(!st.observe(s(5), paused, executing, freed_nothing));
            assert!(!st.observe(s(12), true, 0, true), "the stretch restarted at 12 s");
            assert!(st.observe(s(22), true, 0, true));
        }
    }
}
