//! What the dashboard shows, recorded by the scheduler's loop off the
//! core: the task stream (one record per finished task: its key prefix,
//! its worker, when it started and stopped), how many tasks of each prefix
//! finished, and the loop's own health (its lag behind the tick timer).
//!
//! Recording a task is a push onto a vector and a hash lookup of its
//! prefix; nothing is computed until someone asks (the HTTP API, the page's
//! pushed updates), and then only what is new since their cursor.

use std::time::Duration;

use blockwork_scheduler::{Core, TaskStateKind};
use rustc_hash::FxHashMap;
use serde_json::{json, Value as Json};

/// The most task-stream records kept (24 bytes each): past it the oldest
/// half is dropped, so the stream covers at least the last million tasks.
const MAX_RECORDS: usize = 2_000_000;

/// One finished task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// Index into [`Dashboard::prefixes`].
    pub prefix: u32,
    /// The worker's id.
    pub worker: u32,
    /// When it started and stopped, microseconds since the scheduler started.
    pub start_us: u64,
    pub stop_us: u64,
}

/// The dashboard's state, owned by the scheduler's loop.
#[derive(Default)]
pub(crate) struct Dashboard {
    records: Vec<Record>,
    /// How many records were dropped from the front (cursors count from
    /// the first record ever).
    dropped: u64,
    prefixes: Vec<Box<str>>,
    index: FxHashMap<Box<str>, u32>,
    /// Names in `prefixes` that are a worker's transfers and spills.
    events: rustc_hash::FxHashSet<u32>,
    /// Tasks finished per prefix, ever, and their compute time (µs).
    finished: Vec<u64>,
    compute_us: Vec<u64>,
    /// Ticks seen, and the summed and largest lag of the loop behind them.
    ticks: u64,
    lag_total: Duration,
    lag_max: Duration,
    /// The last tick's lag.
    lag_last: Duration,
    /// The workers' memory, summed, once a second: (µs, managed,
    /// unmanaged, spilled).
    memory: Vec<(u64, u64, u64, u64)>,
    /// Each worker's log lines and CPU use.
    pub workers: crate::worker_pages::WorkerPages,
}

/// The most memory samples kept (a day at one a second).
const MAX_SAMPLES: usize = 86_400;

/// How often the workers' memory is sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(1);

impl Dashboard {
    /// A task of `prefix` finished on `worker` at `now` after running `took`.
    pub fn task_finished(&mut self, prefix: &str, worker: u32, now: Duration, took: Duration) {
        self.record(prefix, worker, now, took);
    }

    /// Something of `prefix` ended on `worker` at `now` after `took`.
    fn record(&mut self, prefix: &str, worker: u32, now: Duration, took: Duration) {
        let p = match self.index.get(prefix) {
            Some(&p) => p,
            None => {
                let p = self.prefixes.len() as u32;
                self.prefixes.push(prefix.into());
                self.index.insert(prefix.into(), p);
                self.finished.push(0);
                self.compute_us.push(0);
                p
            }
        };
        self.finished[p as usize] += 1;
        self.compute_us[p as usize] += took.as_micros() as u64;
        let stop_us = now.as_micros() as u64;
        let start_us = stop_us.saturating_sub(took.as_micros() as u64);
        if self.records.len() >= MAX_RECORDS {
            let half = MAX_RECORDS / 2;
            self.records.drain(..half);
            self.dropped += half as u64;
        }
        self.records.push(Record { prefix: p, worker, start_us, stop_us });
    }

    /// A worker's report at `now`: its transfers and spills go into the
    /// stream under the names `transfer` and `spill` (not task prefixes:
    /// they count in no progress and no task metric); its CPU use and log
    /// lines onto its page.
    pub fn worker_activity(&mut self, worker: u32, now: Duration, activity: &blockwork_protocol::WorkerActivity) {
        self.workers.reported(worker, activity);
        for e in &activity.events {
            let name = match e.kind {
                blockwork_protocol::WorkerEventKind::Transfer => "transfer",
                blockwork_protocol::WorkerEventKind::Spill => "spill",
            };
            let stop = now.saturating_sub(e.ago);
            self.record(name, worker, stop, e.took);
            let p = self.index[name];
            self.events.insert(p);
        }
    }

    /// The loop handled a tick `lag` after it was due.
    pub fn tick(&mut self, lag: Duration) {
        self.ticks += 1;
        self.lag_total += lag;
        self.lag_max = self.lag_max.max(lag);
        self.lag_last = lag;
    }

    /// Samples the workers' memory at `now` if a second passed since the
    /// last sample.
    pub fn sample_memory(&mut self, now: Duration, core: &Core) {
        let us = now.as_micros() as u64;
        if self.memory.last().is_some_and(|s| us < s.0 + SAMPLE_EVERY.as_micros() as u64) {
            return;
        }
        let (mut managed, mut unmanaged, mut spilled) = (0, 0, 0);
        for w in core.worker_ids() {
            if let Some(i) = core.worker_info(w) {
                managed += i.memory.managed;
                unmanaged += i.memory.unmanaged;
                spilled += i.memory.spilled;
            }
        }
        if self.memory.len() == MAX_SAMPLES {
            self.memory.remove(0);
        }
        self.memory.push((us, managed, unmanaged, spilled));
    }

    /// The memory samples, as columns.
    pub fn memory(&self) -> Json {
        let col = |f: fn(&(u64, u64, u64, u64)) -> u64| self.memory.iter().map(f).collect::<Vec<u64>>();
        json!({ "t_us": col(|s| s.0), "managed": col(|s| s.1), "unmanaged": col(|s| s.2), "spilled": col(|s| s.3) })
    }

    /// The task-stream records from cursor `since` on (at most `limit`),
    /// as the JSON text of a list of `[prefix, worker, start µs, stop µs]`
    /// (written directly: this runs on the scheduler's loop), and the next
    /// cursor.
    pub fn stream_since(&self, since: u64, limit: usize) -> (String, u64) {
        use std::fmt::Write as _;
        let first = since.saturating_sub(self.dropped) as usize;
        let first = first.min(self.records.len());
        let end = (first + limit).min(self.records.len());
        let mut out = String::with_capacity(2 + (end - first) * 28);
        out.push('[');
        for (i, r) in self.records[first..end].iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "[{},{},{},{}]", r.prefix, r.worker, r.start_us, r.stop_us);
        }
        out.push(']');
        (out, self.dropped + end as u64)
    }

    /// Per prefix: its name, tasks finished and their compute seconds.
    pub fn per_prefix(&self) -> impl Iterator<Item = (&str, u64, f64)> + '_ {
        (0..self.prefixes.len())
            .filter(|i| !self.events.contains(&(*i as u32)))
            .map(|i| (&*self.prefixes[i], self.finished[i], self.compute_us[i] as f64 / 1e6))
    }

    /// The loop's lag at the last tick, and the largest.
    pub fn lag(&self) -> (Duration, Duration) {
        (self.lag_last, self.lag_max)
    }

    /// The prefixes' names, by index.
    pub fn prefix_names(&self) -> &[Box<str>] {
        &self.prefixes
    }

    /// Per key prefix: tasks in each state the core knows, and finished
    /// ever (a pass over the core's tasks).
    pub fn progress(&self, core: &Core) -> Json {
        let mut by: FxHashMap<&str, [u64; 7]> = FxHashMap::default();
        core.for_each_task(|prefix, state| {
            by.entry(prefix).or_default()[state as usize] += 1;
        });
        let tasks = self.per_prefix().map(|(p, _, _)| p);
        let mut names: Vec<&str> = by.keys().copied().chain(tasks).collect();
        names.sort_unstable();
        names.dedup();
        let rows: Vec<Json> = names
            .into_iter()
            .map(|name| {
                let counts = by.get(name).copied().unwrap_or_default();
                let mut row = serde_json::Map::new();
                row.insert("prefix".into(), json!(name));
                for k in TaskStateKind::ALL {
                    row.insert(k.name().into(), json!(counts[k as usize]));
                }
                let done = self.index.get(name).map_or(0, |&p| self.finished[p as usize]);
                row.insert("finished".into(), json!(done));
                // Finished and no longer held by the scheduler.
                row.insert("forgotten".into(), json!(done.saturating_sub(counts[TaskStateKind::Memory as usize])));
                Json::Object(row)
            })
            .collect();
        Json::Array(rows)
    }

    /// The scheduler process: memory, CPU time, the loop's lag.
    pub fn system(&self, uptime: Duration) -> Json {
        use blockwork_local::procfs::{cpu_seconds, rss, Process};
        let mean = if self.ticks == 0 { 0.0 } else { self.lag_total.as_secs_f64() / self.ticks as f64 };
        json!({
            "uptime_seconds": uptime.as_secs_f64(),
            "rss_bytes": rss(Process::This),
            "cpu_seconds": cpu_seconds(Process::This),
            "loop_lag_seconds": { "last": self.lag_last.as_secs_f64(), "mean": mean, "max": self.lag_max.as_secs_f64() },
            "stream_records": self.records.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_read_from_a_cursor_and_keeps_its_numbering_when_trimmed() {
        let mut d = Dashboard::default();
        let ms = Duration::from_millis;
        d.task_finished("add", 0, ms(10), ms(4));
        d.task_finished("sum", 1, ms(12), ms(1));
        d.task_finished("add", 1, ms(15), ms(20));
        let (recs, next) = d.stream_since(0, 10);
        assert_eq!(next, 3);
        let recs: Json = serde_json::from_str(&recs).unwrap();
        assert_eq!(recs[0], json!([0, 0, 6000, 10000]));
        assert_eq!(recs[2], json!([0, 1, 0, 15000]), "a start before the scheduler is clamped");
        assert_eq!(d.stream_since(2, 10).0, "[[0,1,0,15000]]");
        assert_eq!(d.stream_since(1, 1), ("[[1,1,11000,12000]]".to_string(), 2));
        assert_eq!(d.finished, [2, 1]);
        // Trimmed at the front, cursors still count from the first record.
        d.records.drain(..2);
        d.dropped = 2;
        assert_eq!(d.stream_since(0, 10), ("[[0,1,0,15000]]".to_string(), 3));
        assert_eq!(d.stream_since(3, 10).0, "[]");
        let activity = blockwork_protocol::WorkerActivity {
            cpu: 0.5,
            events: vec![blockwork_protocol::WorkerEvent {
                kind: blockwork_protocol::WorkerEventKind::Transfer,
                peer: 0,
                nbytes: 8,
                ago: ms(10),
                took: ms(5),
            }],
            logs: vec![],
        };
        d.worker_activity(1, ms(40), &activity);
        assert_eq!(d.stream_since(3, 10).0, "[[2,1,25000,30000]]", "placed on the scheduler's clock");
        assert_eq!(d.per_prefix().count(), 2, "a transfer is no task prefix");
        d.tick(ms(3));
        d.tick(ms(1));
        let s = d.system(Duration::from_secs(1));
        assert_eq!(s["loop_lag_seconds"]["max"], json!(0.003));
    }
}
