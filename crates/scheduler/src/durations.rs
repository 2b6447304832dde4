//! Expected task durations, learned per key prefix.
//!
//! Placement and stealing price a task by how long tasks of its kind took
//! so far: an exponential moving average (half old, half new, as Dask
//! does) per [`Key::prefix`](blockwork_graph::Key::prefix). A prefix that
//! never finished is priced at
//! [`Config::unknown_task_duration`](crate::Config::unknown_task_duration).

use rustc_hash::FxHashMap;

use crate::ids::PrefixId;

#[derive(Default, Debug)]
pub(crate) struct Durations {
    ids: FxHashMap<Box<str>, PrefixId>,
    /// Average duration by prefix, microseconds; `None` until one finished.
    avg_us: Vec<Option<u64>>,
}

impl Durations {
    /// The id of `prefix`; allocates only the first time a prefix is seen.
    pub fn intern(&mut self, prefix: &str) -> PrefixId {
        if let Some(&id) = self.ids.get(prefix) {
            return id;
        }
        let id = PrefixId(self.avg_us.len() as u32);
        self.ids.insert(prefix.into(), id);
        self.avg_us.push(None);
        id
    }

    pub fn lookup(&self, prefix: &str) -> Option<PrefixId> {
        self.ids.get(prefix).copied()
    }

    /// Expected duration of a task of `prefix`, microseconds.
    #[inline]
    pub fn estimate_us(&self, prefix: PrefixId, unknown_us: u64) -> u64 {
        self.avg_us[prefix.idx()].unwrap_or(unknown_us)
    }

    /// Records that a task of `prefix` ran for `us` microseconds.
    pub fn record(&mut self, prefix: PrefixId, us: u64) {
        let avg = &mut self.avg_us[prefix.idx()];
        *avg = Some(match *avg {
            Some(old) => old / 2 + us / 2,
            None => us,
        });
    }
}
