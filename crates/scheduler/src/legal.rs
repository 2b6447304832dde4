//! Transition tables in code: which state changes a state machine allows,
//! and which ones it has made.
//!
//! The scheduler's and the worker's READMEs each give a table of legal
//! transitions. Each machine states the same table as
//! [`StateKind::LEGAL`] and sends every state change through one function
//! that records it here. An illegal change is a bug of ours: debug builds
//! (every test and simulation) stop at once with the key and both states;
//! release builds count it ([`Transitions::illegal`]) and go on, since a
//! running cluster should not fall over on its own bookkeeping. The counts
//! tell the simulations which rows of the table they exercised.

use std::fmt;

use blockwork_graph::Key;

/// The states of a machine, as its transition table names them.
pub trait StateKind: Copy + Eq + fmt::Debug + 'static {
    /// Every state; a state's position here is its [`index`](Self::index).
    const ALL: &'static [Self];
    /// The legal transitions. `None` as the source is a task that was not
    /// known before; `None` as the target, one that is forgotten.
    const LEGAL: &'static [(Option<Self>, Option<Self>)];
    /// Its position in [`ALL`](Self::ALL).
    fn index(self) -> usize;
    /// Its name in the table.
    fn name(self) -> &'static str;
}

/// The name of a side of a transition: a state, `(new)` or `forgotten`.
pub fn side_name<S: StateKind>(side: Option<S>, target: bool) -> &'static str {
    match side {
        Some(s) => s.name(),
        None if target => "forgotten",
        None => "(new)",
    }
}

/// Counts of the transitions a machine made, by source and target.
#[derive(Clone)]
pub struct Transitions<S: StateKind> {
    /// `(ALL.len() + 1)²` counts; slot 0 of each side is "none".
    counts: Vec<u64>,
    /// Bit `slot(from) * width + slot(to)` is set for a legal transition.
    legal: u128,
    illegal: u64,
    _states: std::marker::PhantomData<S>,
}

impl<S: StateKind> Default for Transitions<S> {
    fn default() -> Self {
        let width = S::ALL.len() + 1;
        assert!(width * width <= 128, "a transition table of at most 10 states");
        let mut legal = 0u128;
        for &(from, to) in S::LEGAL {
            legal |= 1 << (slot(from) * width + slot(to));
        }
        Transitions { counts: vec![0; width * width], legal, illegal: 0, _states: std::marker::PhantomData }
    }
}

fn slot<S: StateKind>(side: Option<S>) -> usize {
    side.map_or(0, |s| s.index() + 1)
}

impl<S: StateKind> Transitions<S> {
    fn cell(from: Option<S>, to: Option<S>) -> usize {
        slot(from) * (S::ALL.len() + 1) + slot(to)
    }

    /// Whether the table allows `from → to`.
    pub fn is_legal(&self, from: Option<S>, to: Option<S>) -> bool {
        self.legal & (1 << Self::cell(from, to)) != 0
    }

    /// Records that `key` went `from → to`. Debug builds panic on an
    /// illegal transition, naming the key and both states.
    pub fn record(&mut self, key: &Key, from: Option<S>, to: Option<S>) {
        if !self.is_legal(from, to) {
            self.illegal += 1;
            debug_assert!(
                false,
                "illegal transition of {key}: {} → {} (not in the transition table)",
                side_name(from, false),
                side_name(to, true)
            );
        }
        self.counts[Self::cell(from, to)] += 1;
    }

    /// How often `from → to` happened.
    pub fn count(&self, from: Option<S>, to: Option<S>) -> u64 {
        self.counts[Self::cell(from, to)]
    }

    /// Illegal transitions recorded (only ever non-zero in release builds).
    pub fn illegal(&self) -> u64 {
        self.illegal
    }

    /// The legal transitions that never happened.
    pub fn unexercised(&self) -> Vec<(Option<S>, Option<S>)> {
        S::LEGAL.iter().copied().filter(|&(from, to)| self.count(from, to) == 0).collect()
    }

    /// Adds another machine's counts to these (a simulation's workers).
    pub fn merge(&mut self, other: &Transitions<S>) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.illegal += other.illegal;
    }
}

impl<S: StateKind> fmt::Debug for Transitions<S> {
    /// The table with its counts, one row per legal transition.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &(from, to) in S::LEGAL {
            writeln!(f, "{:>12} → {:<12} {}", side_name(from, false), side_name(to, true), self.count(from, to))?;
        }
        write!(f, "illegal: {}", self.illegal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Light {
        Red,
        Green,
    }

    impl StateKind for Light {
        const ALL: &'static [Self] = &[Light::Red, Light::Green];
        const LEGAL: &'static [(Option<Self>, Option<Self>)] =
            &[(None, Some(Light::Red)), (Some(Light::Red), Some(Light::Green)), (Some(Light::Green), None)];
        fn index(self) -> usize {
            self as usize
        }
        fn name(self) -> &'static str {
            match self {
                Light::Red => "red",
                Light::Green => "green",
            }
        }
    }

    #[test]
    fn counts_legal_transitions_and_lists_the_missing_ones() {
        let mut t = Transitions::<Light>::default();
        let key = Key::new("light");
        t.record(&key, None, Some(Light::Red));
        t.record(&key, Some(Light::Red), Some(Light::Green));
        t.record(&key, Some(Light::Red), Some(Light::Green));
        assert_eq!(t.count(Some(Light::Red), Some(Light::Green)), 2);
        assert_eq!(t.unexercised(), vec![(Some(Light::Green), None)]);
        assert!(!t.is_legal(Some(Light::Green), Some(Light::Red)));
        assert!(!t.is_legal(None, None));
        let mut all = Transitions::default();
        all.merge(&t);
        all.merge(&t);
        assert_eq!(all.count(None, Some(Light::Red)), 2);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "illegal transition of light: green → red")]
    fn an_illegal_transition_stops_a_debug_build() {
        let mut t = Transitions::<Light>::default();
        t.record(&Key::new("light"), Some(Light::Green), Some(Light::Red));
    }
}
