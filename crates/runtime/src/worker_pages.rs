//! What the dashboard keeps of each worker besides its tasks: its log
//! lines (its own, shipped with each heartbeat, and the scheduler's about
//! it), its CPU use, and when it joined and left. A worker's page outlives
//! the worker (a crashed worker's last words are what one looks for), up
//! to [`MAX_GONE`] departed workers.

use std::collections::VecDeque;

use blockwork_protocol::{LogLine, WorkerActivity, WorkerEventKind};
use rustc_hash::FxHashMap;
use serde_json::{json, Value as Json};

/// The most log lines kept per worker; past it the oldest go.
const MAX_LINES: usize = 1000;

/// The most departed workers whose pages are kept; past it the oldest go.
const MAX_GONE: usize = 256;

/// One worker's page.
struct Page {
    name: Box<str>,
    address: Box<str>,
    /// When it joined and left, seconds since the epoch.
    joined: f64,
    left: Option<f64>,
    /// CPU cores busy over its last report.
    cpu: f64,
    /// Transfers from peers and spills to disk, ever: how many, bytes.
    transfers: (u64, u64),
    spills: (u64, u64),
    /// Its log lines, oldest first.
    lines: VecDeque<LogLine>,
}

impl Page {
    fn say(&mut self, line: LogLine) {
        if self.lines.len() == MAX_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

/// Every worker's page, by worker id.
#[derive(Default)]
pub(crate) struct WorkerPages {
    pages: FxHashMap<u32, Page>,
    /// Departed workers' ids, oldest first.
    gone: VecDeque<u32>,
}

impl WorkerPages {
    /// Worker `id` joined as `name` at `address`.
    pub fn joined(&mut self, id: u32, name: &str, address: &str) {
        let page = Page {
            name: name.into(),
            address: address.into(),
            joined: crate::epoch_seconds(),
            left: None,
            cpu: 0.0,
            transfers: (0, 0),
            spills: (0, 0),
            lines: VecDeque::new(),
        };
        self.pages.insert(id, page);
    }

    /// Worker `id` left; its page is kept among the last departed ones.
    pub fn left(&mut self, id: u32) {
        let Some(page) = self.pages.get_mut(&id) else { return };
        if page.left.is_some() {
            return;
        }
        page.left = Some(crate::epoch_seconds());
        self.gone.push_back(id);
        if self.gone.len() > MAX_GONE {
            if let Some(old) = self.gone.pop_front() {
                self.pages.remove(&old);
            }
        }
    }

    /// The scheduler's own line about worker `id` (also written to the
    /// scheduler's log, naming the worker).
    pub fn note(&mut self, id: u32, text: std::fmt::Arguments<'_>) {
        let text = text.to_string();
        match self.pages.get_mut(&id) {
            Some(page) => {
                crate::log!(INFO, "scheduler: worker {id} ({}) {text}", page.name);
                page.say(LogLine { at: crate::epoch_seconds(), text: format!("scheduler: {text}") });
            }
            None => crate::log!(INFO, "scheduler: worker {id} {text}"),
        }
    }

    /// Worker `id` reported its CPU use, transfers, spills and log lines.
    pub fn reported(&mut self, id: u32, activity: &WorkerActivity) {
        let Some(page) = self.pages.get_mut(&id) else { return };
        page.cpu = activity.cpu;
        for e in &activity.events {
            let count = match e.kind {
                WorkerEventKind::Transfer => &mut page.transfers,
                WorkerEventKind::Spill => &mut page.spills,
            };
            count.0 += 1;
            count.1 += e.nbytes;
        }
        for line in &activity.logs {
            page.say(line.clone());
        }
    }

    /// Worker `id`'s CPU use (cores busy over its last report).
    pub fn cpu(&self, id: u32) -> f64 {
        self.pages.get(&id).map_or(0.0, |p| p.cpu)
    }

    /// Worker `id`'s transfers from peers and spills to disk, ever: (how
    /// many, bytes) of each.
    pub fn moved(&self, id: u32) -> [(u64, u64); 2] {
        self.pages.get(&id).map_or([(0, 0); 2], |p| [p.transfers, p.spills])
    }

    /// The page of the worker named `who` (a name, an id or an address;
    /// of several with that name, a connected one or the last to join).
    pub fn page(&self, who: &str) -> Option<Json> {
        let bare = blockwork_scheduler::bare_address(who);
        let (id, page) = self
            .pages
            .iter()
            .filter(|(id, p)| &*p.name == who || &*p.address == bare || id.to_string() == who)
            .max_by(|a, b| {
                (a.1.left.is_none(), a.1.joined)
                    .partial_cmp(&(b.1.left.is_none(), b.1.joined))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })?;
        let lines: Vec<Json> = page.lines.iter().map(|l| json!([l.at, l.text])).collect();
        Some(json!({
            "id": id,
            "name": &*page.name,
            "address": &*page.address,
            "joined": page.joined,
            "left": page.left,
            "cpu": page.cpu,
            "transfers": { "count": page.transfers.0, "bytes": page.transfers.1 },
            "spills": { "count": page.spills.0, "bytes": page.spills.1 },
            "logs": lines,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> LogLine {
        LogLine { at: 1.0, text: text.into() }
    }

    #[test]
    fn a_page_is_found_by_name_id_or_address_and_outlives_its_worker() {
        let mut pages = WorkerPages::default();
        pages.joined(1, "a", "10.0.0.1:7000");
        let transfer = blockwork_protocol::WorkerEvent {
            kind: WorkerEventKind::Transfer,
            peer: 2,
            nbytes: 100,
            ago: std::time::Duration::ZERO,
            took: std::time::Duration::ZERO,
        };
        let activity = WorkerActivity { cpu: 1.5, events: vec![transfer; 2], logs: vec![line("task x failed: boom")] };
        pages.reported(1, &activity);
        assert_eq!(pages.moved(1), [(2, 200), (0, 0)]);
        pages.note(1, format_args!("left"));
        for who in ["a", "1", "10.0.0.1:7000", "tcp://10.0.0.1:7000"] {
            let page = pages.page(who).unwrap_or_else(|| panic!("{who} not found"));
            assert_eq!(page["name"], "a");
            assert_eq!(page["cpu"], 1.5);
            let logs = page["logs"].as_array().unwrap();
            assert_eq!(logs.len(), 2);
            assert_eq!(logs[0][1], "task x failed: boom");
            assert_eq!(logs[1][1], "scheduler: left");
        }
        assert!(pages.page("b").is_none());
        pages.left(1);
        assert!(pages.page("a").unwrap()["left"].is_f64(), "a departed worker's page stays");
        // A worker of the same name joining again is the one shown.
        pages.joined(2, "a", "10.0.0.1:7001");
        assert_eq!(pages.page("a").unwrap()["id"], 2);
        assert_eq!(pages.page("1").unwrap()["id"], 1);
    }

    #[test]
    fn lines_and_departed_pages_are_bounded() {
        let mut pages = WorkerPages::default();
        pages.joined(0, "w", "x:1");
        let many: Vec<LogLine> = (0..MAX_LINES + 10).map(|i| line(&i.to_string())).collect();
        pages.reported(0, &WorkerActivity { cpu: 0.0, events: vec![], logs: many });
        let page = pages.page("w").unwrap();
        let logs = page["logs"].as_array().unwrap();
        assert_eq!(logs.len(), MAX_LINES);
        assert_eq!(logs[0][1], "10", "the oldest lines went first");
        for id in 0..(MAX_GONE as u32 + 5) {
            pages.joined(id, &format!("w{id}"), "x:1");
            pages.left(id);
        }
        assert_eq!(pages.pages.len(), MAX_GONE);
        assert!(pages.page("w0").is_none() && pages.page(&format!("w{}", MAX_GONE + 4)).is_some());
    }
}
