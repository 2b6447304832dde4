//! The harness of blockwork's deterministic simulations, shared by the
//! scheduler's suite (the scheduler core among simulated workers) and the
//! worker's (the core and real worker state machines).
//!
//! - [`Net`]: virtual time in microseconds and one queue of events ordered
//!   by (time, sequence number); messages on one channel arrive in the
//!   order they were sent, as on a TCP connection, after a random latency
//!   drawn from the simulation's [`Rng`]; the count of events in flight
//!   (timers excluded) tells when the cluster is quiet.
//! - [`SimGraph`]: a simulated task graph ([`Def`]s, each suite generating
//!   its own mix of [`Shape`]s) with the plain evaluation every simulated
//!   result is compared against.
//!
//! One seed fixes everything, so a failing seed reproduces exactly.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Debug;
use std::ops::Range;

use blockwork_graph::Key;

use crate::{closure, sinks, task_value, Rng};

/// A millisecond of virtual time.
pub const MS: u64 = 1_000;
/// A second of virtual time.
pub const SEC: u64 = 1_000_000;

/// An event of a simulation.
pub trait SimEvent {
    /// Whether it is work in flight (a message, a running task), not a
    /// periodic timer: the cluster is quiet when none is queued.
    fn in_flight(&self) -> bool;
}

struct Queued<E> {
    at: u64,
    seq: u64,
    ev: E,
}

impl<E> PartialEq for Queued<E> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl<E> Eq for Queued<E> {}
impl<E> PartialOrd for Queued<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Queued<E> {
    /// Earliest first (the heap is a max-heap), ties by sequence.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// Virtual time, the event queue and FIFO channels between endpoints
/// (numbered by the suite: workers, the scheduler, clients).
pub struct Net<E> {
    now: u64,
    seq: u64,
    events: BinaryHeap<Queued<E>>,
    in_flight: usize,
    /// Last delivery time per (from, to) channel.
    channels: HashMap<(u64, u64), u64>,
}

impl<E: SimEvent> Default for Net<E> {
    fn default() -> Self {
        Net { now: 0, seq: 0, events: BinaryHeap::new(), in_flight: 0, channels: HashMap::new() }
    }
}

impl<E: SimEvent> Net<E> {
    /// The current virtual time, microseconds.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Events in flight (queued, not timers).
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Queues `ev` at time `at`.
    pub fn push(&mut self, at: u64, ev: E) {
        self.seq += 1;
        if ev.in_flight() {
            self.in_flight += 1;
        }
        self.events.push(Queued { at, seq: self.seq, ev });
    }

    /// Sends `ev` from `from` to `to` after a random latency (50 µs to
    /// 3 ms) plus `extra`, never before what was sent earlier on the same
    /// channel.
    pub fn send(&mut self, rng: &mut Rng, from: u64, to: u64, extra: u64, ev: E) {
        let latency = rng.range(50, 3 * MS) + extra;
        let last = self.channels.entry((from, to)).or_insert(0);
        let at = (self.now + latency).max(*last);
        *last = at;
        self.push(at, ev);
    }

    /// The next event; the clock moves to its time.
    pub fn pop(&mut self) -> Option<E> {
        let Queued { at, ev, .. } = self.events.pop()?;
        assert!(at >= self.now, "an event in the past");
        self.now = at;
        if ev.in_flight() {
            self.in_flight -= 1;
        }
        Some(ev)
    }
}

/// One simulated task: what it reads and how it behaves on a worker.
#[derive(Clone, Debug)]
pub struct Def {
    /// Its key; the name says what it does, the index which one it is.
    pub key: Key,
    /// Indices of its inputs in the graph, in argument order.
    pub deps: Vec<usize>,
    /// The first `fail_attempts` runs of it (over the whole simulation)
    /// raise an error; `u32::MAX`: always.
    pub fail_attempts: u32,
    /// Retries the scheduler grants it.
    pub retries: u32,
    /// It needs a GPU.
    pub gpu: bool,
    /// How long it runs, microseconds of virtual time.
    pub duration_us: u64,
    /// The size of its result.
    pub nbytes: u64,
}

/// The shapes of simulated graphs.
#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// Each task reads up to four earlier ones at random.
    Random,
    /// Each task reads the one before.
    Chain,
    /// One input read by every other task.
    FanOut,
    /// Every task read by one last task.
    FanIn,
    /// Leaves summed in a tree of 2–4 inputs per node.
    Tree,
    /// Splits and joins in a row: a → (b, c) → d → …
    Diamonds,
    /// Many blocks of one name, each with one small shared input (root-ish
    /// tasks, queued by the scheduler).
    SeededBlocks,
}

/// A simulated task graph, tasks only reading earlier ones.
pub struct SimGraph {
    /// The tasks, each reading only earlier ones.
    pub defs: Vec<Def>,
    /// `value[i]`: what task `i` computes, by plain evaluation.
    pub value: Vec<u64>,
}

impl SimGraph {
    /// The graph of `defs`, evaluated plainly.
    pub fn new(defs: Vec<Def>) -> SimGraph {
        let mut value = Vec::with_capacity(defs.len());
        for d in &defs {
            let inputs: Vec<u64> = d.deps.iter().map(|&j| value[j]).collect();
            value.push(task_value(&d.key, &inputs));
        }
        SimGraph { defs, value }
    }

    /// Asserts that every holder of task `i`'s result holds its value;
    /// `stored` reads what a holder has under the task's key.
    pub fn assert_held<H: Debug>(&self, seed: u64, i: usize, holders: &[H], stored: impl Fn(&H) -> Option<u64>) {
        let key = &self.defs[i].key;
        for h in holders {
            assert_eq!(stored(h), Some(self.value[i]), "seed {seed}: value of {key} on {h:?}");
        }
    }

    /// Asserts that task `origin` erred for good: with no retries to spare.
    pub fn assert_out_of_retries(&self, seed: u64, origin: usize) {
        let d = &self.defs[origin];
        assert!(d.fail_attempts > d.retries, "seed {seed}: {} erred with retries to spare", d.key);
    }

    /// The inputs of the structured shapes (all but `Random`, see
    /// [`SimGraph::random`], and `SeededBlocks`, which the scheduler's
    /// suite draws itself), `n` tasks or about.
    pub fn structured(shape: Shape, n: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
        let mut deps: Vec<Vec<usize>> = Vec::new();
        match shape {
            Shape::Chain => (0..n).for_each(|i| deps.push(if i == 0 { vec![] } else { vec![i - 1] })),
            Shape::FanOut => {
                deps.push(vec![]);
                (1..n).for_each(|_| deps.push(vec![0]));
            }
            Shape::FanIn => {
                (0..n.max(2) - 1).for_each(|_| deps.push(vec![]));
                deps.push((0..deps.len()).collect());
            }
            Shape::Tree => {
                let split = rng.range(2, 4) as usize;
                let mut level: Vec<usize> = (0..n.max(2)).collect();
                level.iter().for_each(|_| deps.push(vec![]));
                while level.len() > 1 {
                    let mut next = Vec::new();
                    for chunk in level.chunks(split) {
                        deps.push(chunk.to_vec());
                        next.push(deps.len() - 1);
                    }
                    level = next;
                }
            }
            Shape::Diamonds => {
                deps.push(vec![]);
                let mut top = 0;
                for _ in 0..(n / 3).max(1) {
                    deps.push(vec![top]);
                    deps.push(vec![top]);
                    deps.push(vec![deps.len() - 2, deps.len() - 1]);
                    top = deps.len() - 1;
                }
            }
            Shape::Random | Shape::SeededBlocks => unreachable!("{shape:?} is drawn by the suite"),
        }
        deps
    }

    /// The inputs of a `Random` graph of `n` tasks: each reads up to four
    /// distinct earlier ones.
    pub fn random(n: usize, rng: &mut Rng) -> Vec<Vec<usize>> {
        let mut deps: Vec<Vec<usize>> = Vec::new();
        for i in 0..n {
            let k = if i == 0 { 0 } else { rng.below(i.min(4) as u64 + 1) as usize };
            let mut d: Vec<usize> = Vec::new();
            for _ in 0..k {
                let j = rng.below(i as u64) as usize;
                if !d.contains(&j) {
                    d.push(j);
                }
            }
            deps.push(d);
        }
        deps
    }

    /// Indices of the tasks nothing depends on.
    pub fn sinks(&self) -> Vec<usize> {
        sinks(&self.deps())
    }

    /// `roots` and everything they depend on, in index order
    /// (dependencies first).
    pub fn closure(&self, roots: &[usize]) -> Vec<usize> {
        closure(&self.deps(), roots)
    }

    /// Whether `a` is `b` or one of its (transitive) dependencies.
    pub fn is_ancestor_or_self(&self, a: usize, b: usize) -> bool {
        self.closure(&[b]).contains(&a)
    }

    fn deps(&self) -> Vec<&[usize]> {
        self.defs.iter().map(|d| d.deps.as_slice()).collect()
    }
}

/// What one seed of a simulation did, summed over seeds for the test's
/// summary and its checks that the paths worth simulating were taken.
pub trait SeedStats: Default + Debug {
    /// Adds another seed's figures.
    fn add(&mut self, other: &Self);
}

/// Declares a simulation's figures of one seed, public fields each marked
/// with how seeds add up: `sum` (counters), `max` (high-water marks),
/// `merge` (state-change tables) or `add` (another [`SeedStats`], such as
/// [`Counts`]); and their [`SeedStats`].
#[macro_export]
macro_rules! seed_stats {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($(#[$fmeta:meta])* $how:ident $field:ident: $ty:ty,)* }
    ) => {
        $(#[$meta])*
        #[derive(Default, Debug, Clone)]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty,)* }

        impl $crate::sim::SeedStats for $name {
            fn add(&mut self, other: &Self) {
                $($crate::seed_stats!(@$how self.$field, other.$field);)*
            }
        }
    };
    (@sum $a:expr, $b:expr) => { $a += $b };
    (@max $a:expr, $b:expr) => { $a = $a.max($b) };
    (@merge $a:expr, $b:expr) => { $a.merge(&$b) };
    (@add $a:expr, $b:expr) => { $crate::sim::SeedStats::add(&mut $a, &$b) };
}

seed_stats! {
    /// What every simulation counts of a seed: its events, the tasks of
    /// its graph, and how they ended.
    pub struct Counts {
        /// Events handled.
        sum events: u64,
        /// Tasks in the graph.
        sum tasks: usize,
        /// Tasks whose results reached memory.
        sum in_memory: usize,
        /// Tasks that erred.
        sum erred: usize,
    }
}

/// Runs every seed of `seeds` and sums what they did; with
/// `SIM_SEED=<n>` in the environment, only seed `n` (to reproduce a
/// failure). A failing seed panics naming itself.
pub fn run_seeds<S: SeedStats>(seeds: Range<u64>, run: impl Fn(u64) -> S) -> S {
    if let Ok(s) = std::env::var("SIM_SEED") {
        return run(s.parse().expect("SIM_SEED is a number"));
    }
    let mut total = S::default();
    for seed in seeds {
        total.add(&run(seed));
    }
    eprintln!("{total:?}");
    total
}

/// With `SIM_SOAK=<n>` in the environment, runs seeds `from..from + n`
/// as well (for soaking, not CI).
pub fn soak<S: SeedStats>(from: u64, run: impl Fn(u64) -> S) {
    if let Ok(n) = std::env::var("SIM_SOAK") {
        let n: u64 = n.parse().expect("SIM_SOAK is a number");
        run_seeds(from..from + n, run);
    }
}

/// Whether only one seed runs (`SIM_SEED`): the checks over many seeds
/// do not apply.
pub fn one_seed() -> bool {
    std::env::var("SIM_SEED").is_ok()
}
