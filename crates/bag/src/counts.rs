//! Counting distinct items, in first-seen order: the partials of
//! `frequencies` and `distinct`; and accumulators by key in first-seen
//! order ([`Keyed`]: `foldby`, `groupby`).
//!
//! Counting is a hash-table lookup per item, and for text most of its
//! time is memory latency: a table of `String`s reads the bucket, then
//! the key's bytes elsewhere on the heap, then the count in a third
//! place. Text is therefore counted in a table of its own
//! ([`TextCounts`]) whose slots hold the count and the word's first 16
//! bytes: a lookup of a word that fits reads one slot. Other item types
//! use a plain hash map.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

/// Counts of distinct items, in first-seen order.
#[derive(Clone, Debug)]
pub(crate) struct Counts<T> {
    inner: Inner<T>,
}

#[derive(Clone, Debug)]
enum Inner<T> {
    Items { index: FxHashMap<T, usize>, order: Vec<T>, n: Vec<u64> },
    Text(TextCounts),
}

impl<T: 'static> Default for Counts<T> {
    fn default() -> Self {
        let inner = if TypeId::of::<T>() == TypeId::of::<String>() {
            Inner::Text(TextCounts::default())
        } else {
            Inner::Items { index: FxHashMap::default(), order: Vec::new(), n: Vec::new() }
        };
        Counts { inner }
    }
}

impl<T: Hash + Eq + Clone + 'static> Counts<T> {
    /// Counts `x` `n` times (copied, if borrowed, only the first time it
    /// is seen).
    pub(crate) fn add_cow(&mut self, x: Cow<'_, T>, n: u64) {
        match &mut self.inner {
            Inner::Text(t) => {
                let text = (&*x as &dyn Any).downcast_ref::<String>().expect("text counts hold Strings");
                t.add(text, n)
            }
            Inner::Items { index, order, n: counts } => match index.get(&*x) {
                Some(&at) => counts[at] += n,
                None => {
                    let x = x.into_owned();
                    index.insert(x.clone(), order.len());
                    order.push(x);
                    counts.push(n);
                }
            },
        }
    }

    /// The items and their counts, in first-seen order.
    pub(crate) fn into_pairs(self) -> Vec<(T, u64)> {
        match self.inner {
            Inner::Items { order, n, .. } => order.into_iter().zip(n).collect(),
            Inner::Text(t) => {
                let pairs: Box<dyn Any> = Box::new(t.into_pairs());
                *pairs.downcast::<Vec<(T, u64)>>().expect("text counts hold Strings")
            }
        }
    }
}

/// Bytes of a word kept in its slot: most words fit, and then a lookup
/// never leaves the table.
const HEAD: usize = 16;

/// A distinct word's slot in the table: its count, its place in first-seen
/// order, its length and its first [`HEAD`] bytes (zero-padded).
#[derive(Clone, Copy, Debug)]
struct Slot {
    count: u64,
    order: u32,
    len: u32,
    head: [u8; HEAD],
}

/// A word's first [`HEAD`] bytes, zero-padded.
fn head(word: &[u8]) -> [u8; HEAD] {
    let mut h = [0; HEAD];
    let k = word.len().min(HEAD);
    h[..k].copy_from_slice(&word[..k]);
    h
}

/// Counts of distinct words: the table of slots, and every word's text
/// (word `i` is `text[ends[i - 1]..ends[i]]`) for the words longer than a
/// slot holds and for the result.
#[derive(Clone, Debug, Default)]
struct TextCounts {
    table: HashTable<Slot>,
    ends: Vec<usize>,
    text: Vec<u8>,
}

impl TextCounts {
    fn word<'t>(text: &'t [u8], ends: &[usize], i: usize) -> &'t [u8] {
        &text[if i == 0 { 0 } else { ends[i - 1] }..ends[i]]
    }

    fn add(&mut self, word: &str, n: u64) {
        let bytes = word.as_bytes();
        let hash = FxBuildHasher.hash_one(bytes);
        let (first, len) = (head(bytes), bytes.len() as u32);
        let (text, ends) = (&self.text, &self.ends);
        let same = |s: &Slot| {
            s.len == len
                && s.head == first
                && (bytes.len() <= HEAD || Self::word(text, ends, s.order as usize)[HEAD..] == bytes[HEAD..])
        };
        if let Some(slot) = self.table.find_mut(hash, same) {
            slot.count += n;
            return;
        }
        let order = u32::try_from(self.ends.len()).expect("fewer than 2^32 distinct words in a partition");
        self.text.extend_from_slice(bytes);
        self.ends.push(self.text.len());
        let (text, ends) = (&self.text, &self.ends);
        let slot = Slot { count: n, order, len, head: first };
        self.table.insert_unique(hash, slot, |s| FxBuildHasher.hash_one(Self::word(text, ends, s.order as usize)));
    }

    fn into_pairs(self) -> Vec<(String, u64)> {
        let mut counts = vec![0; self.ends.len()];
        for s in &self.table {
            counts[s.order as usize] = s.count;
        }
        let words =
            (0..self.ends.len()).map(|i| String::from_utf8_lossy(Self::word(&self.text, &self.ends, i)).into_owned());
        words.zip(counts).collect()
    }
}

/// Accumulators by key, in first-seen order.
#[derive(Clone, Debug)]
pub(crate) struct Keyed<K, A> {
    index: FxHashMap<K, usize>,
    keys: Vec<K>,
    values: Vec<A>,
}

impl<K, A> Default for Keyed<K, A> {
    fn default() -> Self {
        Keyed { index: FxHashMap::default(), keys: Vec::new(), values: Vec::new() }
    }
}

impl<K: Hash + Eq + Clone, A> Keyed<K, A> {
    /// `k`'s accumulator through `f` (a new key's starts at `initial()`).
    pub(crate) fn update(&mut self, k: K, initial: impl Fn() -> A, f: impl FnOnce(A) -> A) {
        let at = match self.index.get(&k) {
            Some(&at) => at,
            None => {
                self.index.insert(k.clone(), self.keys.len());
                self.keys.push(k);
                self.values.push(initial());
                self.keys.len() - 1
            }
        };
        let a = std::mem::replace(&mut self.values[at], initial());
        self.values[at] = f(a);
    }

    /// Merges `a` into `k`'s accumulator with `combine` (or makes it `a`).
    pub(crate) fn merge(&mut self, k: K, a: A, combine: impl FnOnce(A, A) -> A)
    where
        A: Clone,
    {
        match self.index.get(&k) {
            Some(&at) => self.values[at] = combine(self.values[at].clone(), a),
            None => {
                self.index.insert(k.clone(), self.keys.len());
                self.keys.push(k);
                self.values.push(a);
            }
        }
    }

    /// The keys and their accumulators, in first-seen order.
    pub(crate) fn into_pairs(self) -> Vec<(K, A)> {
        self.keys.into_iter().zip(self.values).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_other_items_count_in_first_seen_order() {
        let words = ["b", "", "a", "b", "ünï", "a", "b", ""];
        let mut text = Counts::<String>::default();
        let mut numbers = Counts::<i64>::default();
        for (i, w) in words.iter().enumerate() {
            let owned = w.to_string();
            text.add_cow(if i % 2 == 0 { Cow::Borrowed(&owned) } else { Cow::Owned(owned.clone()) }, 1);
            numbers.add_cow(Cow::Owned(w.len() as i64), 2);
        }
        let want: Vec<(String, u64)> = [("b", 3), ("", 2), ("a", 2), ("ünï", 1)].map(|(w, n)| (w.into(), n)).into();
        assert_eq!(text.clone().into_pairs(), want);
        assert_eq!(numbers.into_pairs(), vec![(1, 10), (0, 4), (5, 2)]);
        // Words longer than a slot holds, alike in their first 16 bytes.
        let long =
            ["abcdefghijklmnopq", "abcdefghijklmnopr", "abcdefghijklmnop", "abcdefghijklmnopq", "abcdefghijklmnopqq"];
        let mut counts = Counts::<String>::default();
        long.iter().for_each(|w| counts.add_cow(Cow::Owned(w.to_string()), 1));
        let want: Vec<(String, u64)> =
            [(long[0], 2), (long[1], 1), (long[2], 1), (long[4], 1)].map(|(w, n)| (w.into(), n)).into();
        assert_eq!(counts.into_pairs(), want);
        // Many words: every count survives the table's growth.
        let mut many = Counts::<String>::default();
        for i in 0..50_000u64 {
            many.add_cow(Cow::Owned(format!("w{}{}", i % 7919, "x".repeat((i % 7919 % 23) as usize))), i % 3);
        }
        let pairs = many.into_pairs();
        assert_eq!(pairs.len(), 7919);
        assert_eq!(
            pairs[5],
            (format!("w5{}", "x".repeat(5)), (0..50_000u64).filter(|i| i % 7919 == 5).map(|i| i % 3).sum())
        );
    }
}
