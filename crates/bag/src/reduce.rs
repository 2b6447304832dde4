//! Reductions: a partial per partition, partials combined in a tree of at
//! most [`SPLIT_EVERY`] inputs per task, and a last step. Aggregations
//! over the whole bag (`count`, `sum`, `fold`) end in one [`Item`];
//! those that make items (`frequencies`, `distinct`, `topk`, `foldby`)
//! end in a one-partition bag.

use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{r, Key, Op, Task, Value};
use rustc_hash::FxHashMap;

use crate::part::{self, Elem};
use crate::{layer_name, Bag, Item, SPLIT_EVERY};

impl<T: Elem> Bag<T> {
    /// The general reduction: `partial` of each partition's items, partials
    /// combined by `combine` (in groups of at most [`SPLIT_EVERY`]), and
    /// the last partial through `finish`.
    pub fn reduction<P: Elem, R: Elem>(
        &self,
        what: &str,
        partial: impl Fn(&[T]) -> P + Send + Sync + 'static,
        combine: impl Fn(Vec<P>) -> P + Send + Sync + 'static,
        finish: impl Fn(P) -> R + Send + Sync + 'static,
    ) -> Item<R> {
        let partials = self.per_partition(&format!("{what}-partial"), move |items| Ok(vec![partial(items)]));
        let combine = Arc::new(combine);
        let mut level = partials;
        while level.npartitions > 1 {
            let c = Arc::clone(&combine);
            let op = Op::local(format!("{what}-combine"), move |args: Vec<Value>| {
                let mut ps = Vec::with_capacity(args.len());
                for v in &args {
                    ps.extend_from_slice(part::items::<P>(v)?);
                }
                Ok(part::value(vec![c(ps)]))
            });
            level = level.tree_step(&format!("{what}-combine"), op);
        }
        let op = Op::local(what.to_string(), move |args: Vec<Value>| {
            let p = part::items::<P>(&args[0])?.first().cloned();
            Ok(part::value(p.map(&finish).into_iter().collect()))
        });
        let name = layer_name(what, &Namer::new(what).input(&level.layer).add(&op));
        let task = Task::new(op, vec![r(level.layer.key(&[0]))]);
        let layer = Layer::new(name.clone(), vec![(Key::with_shared_name(&name, &[0]), task)], vec![level.layer]);
        Item { layer: Arc::new(layer), _r: PhantomData }
    }

    /// One level of a reduction tree: each task reads up to
    /// [`SPLIT_EVERY`] consecutive partitions of this bag.
    fn tree_step<U: Elem>(&self, what: &str, op: Op) -> Bag<U> {
        let name = layer_name(what, &Namer::new(what).input(&self.layer).add(&op));
        let keys = self.keys();
        let tasks = keys
            .chunks(SPLIT_EVERY)
            .enumerate()
            .map(|(i, group)| {
                let args = group.iter().map(|k| r(k.clone())).collect();
                (Key::with_shared_name(&name, &[i as u32]), Task::new(op.clone(), args))
            })
            .collect();
        Bag::from_layer(Layer::new(name, tasks, vec![Arc::clone(&self.layer)]))
    }

    /// A reduction whose result is a bag of one partition (the items
    /// `finish` makes).
    fn reduce_to_bag<P: Elem, U: Elem>(
        &self,
        what: &str,
        partial: impl Fn(&[T]) -> P + Send + Sync + 'static,
        combine: impl Fn(Vec<P>) -> P + Send + Sync + 'static,
        finish: impl Fn(P) -> Vec<U> + Send + Sync + 'static,
    ) -> Bag<U> {
        let item = self.reduction(what, partial, combine, finish);
        // The item's one task holds a partition of one Vec<U>: unwrap it.
        let op = Op::local(format!("{what}-items"), |args: Vec<Value>| {
            let items = part::items::<Vec<U>>(&args[0])?;
            Ok(part::value(items.first().cloned().unwrap_or_default()))
        });
        let name = layer_name(what, &Namer::new(what).input(&item.layer).add(&op));
        let task = Task::new(op, vec![r(item.layer.key(&[0]))]);
        Bag::from_layer(Layer::new(name.clone(), vec![(Key::with_shared_name(&name, &[0]), task)], vec![item.layer]))
    }

    /// How many items.
    pub fn count(&self) -> Item<u64> {
        self.reduction("count", |items| items.len() as u64, |ps| ps.into_iter().sum(), |n| n)
    }

    /// Folds every item into an accumulator starting at `initial` (per
    /// partition, with `binop`), then the partitions' accumulators
    /// together with `combine` (Dask's `fold(binop, combine, initial)`).
    pub fn fold<A: Elem>(
        &self,
        initial: A,
        binop: impl Fn(A, &T) -> A + Send + Sync + 'static,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
    ) -> Item<A> {
        let start = initial.clone();
        self.reduction(
            "fold",
            move |items| items.iter().fold(start.clone(), &binop),
            move |ps| {
                let mut ps = ps.into_iter();
                let first = ps.next().unwrap_or_else(|| initial.clone());
                ps.fold(first, &combine)
            },
            |a| a,
        )
    }

    /// The smallest item (`None` of an empty bag).
    pub fn min(&self) -> Item<Option<T>>
    where
        T: PartialOrd,
    {
        self.extreme("min", |best, x| x < best)
    }

    /// The largest item (`None` of an empty bag).
    pub fn max(&self) -> Item<Option<T>>
    where
        T: PartialOrd,
    {
        self.extreme("max", |best, x| x > best)
    }

    /// The first item that no later one `beats`.
    fn extreme(&self, what: &str, beats: fn(&T, &T) -> bool) -> Item<Option<T>> {
        let pick = move |a: Option<T>, b: Option<T>| match (a, b) {
            (Some(a), Some(b)) => Some(if beats(&a, &b) { b } else { a }),
            (a, b) => a.or(b),
        };
        self.reduction(
            what,
            move |items| items.iter().cloned().map(Some).fold(None, pick),
            move |ps| ps.into_iter().fold(None, pick),
            |m| m,
        )
    }

    /// Each distinct item and how often it occurs, most frequent first
    /// (ties in first-seen order), in one partition.
    pub fn frequencies(&self) -> Bag<(T, u64)>
    where
        T: Hash + Eq,
    {
        self.reduce_to_bag(
            "frequencies",
            |items| {
                let mut counts: Counts<T> = Counts::default();
                for x in items {
                    counts.add_ref(x, 1);
                }
                counts
            },
            |ps| {
                let mut all = Counts::default();
                for p in ps {
                    for (x, n) in p.order.into_iter().zip(p.n) {
                        all.add(x, n);
                    }
                }
                all
            },
            |c| {
                let mut pairs: Vec<(T, u64)> = c.order.into_iter().zip(c.n).collect();
                pairs.sort_by_key(|p| std::cmp::Reverse(p.1));
                pairs
            },
        )
    }

    /// The distinct items, in first-seen order, in one partition.
    pub fn distinct(&self) -> Bag<T>
    where
        T: Hash + Eq,
    {
        self.frequencies().map(|(x, _)| x.clone())
    }

    /// The `k` items with the largest `key`, largest first (ties in bag
    /// order), in one partition.
    pub fn topk<K: Ord>(&self, k: usize, key: impl Fn(&T) -> K + Send + Sync + 'static) -> Bag<T> {
        let key = Arc::new(key);
        let (k1, k2) = (Arc::clone(&key), key);
        let top = move |mut xs: Vec<T>, key: &dyn Fn(&T) -> K| {
            // A stable sort keeps bag order among equal keys.
            xs.sort_by_key(|x| std::cmp::Reverse(key(x)));
            xs.truncate(k);
            xs
        };
        self.reduce_to_bag(
            "topk",
            move |items| top(items.to_vec(), &*k1),
            move |ps| top(ps.into_iter().flatten().collect(), &*k2),
            |xs| xs,
        )
    }

    /// Items folded per key (Dask's `foldby`): within each partition the
    /// items of a key are folded with `binop` from `initial`, then the
    /// partitions' accumulators of a key with `combine`. One `(key,
    /// accumulator)` pair per key, in first-seen order, in one partition.
    pub fn foldby<K: Elem + Hash + Eq, A: Elem>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        initial: A,
        binop: impl Fn(A, &T) -> A + Send + Sync + 'static,
        combine: impl Fn(A, A) -> A + Send + Sync + 'static,
    ) -> Bag<(K, A)> {
        self.reduce_to_bag(
            "foldby",
            move |items| {
                let mut acc: Keyed<K, A> = Keyed::default();
                for x in items {
                    let at = acc.slot(key(x), &initial);
                    let a = std::mem::replace(&mut acc.values[at], initial.clone());
                    acc.values[at] = binop(a, x);
                }
                acc
            },
            move |ps| {
                let mut all: Keyed<K, A> = Keyed::default();
                for p in ps {
                    for (k, a) in p.keys.into_iter().zip(p.values) {
                        match all.index.get(&k) {
                            Some(&at) => {
                                let prev = all.values[at].clone();
                                all.values[at] = combine(prev, a);
                            }
                            None => {
                                all.index.insert(k.clone(), all.keys.len());
                                all.keys.push(k);
                                all.values.push(a);
                            }
                        }
                    }
                }
                all
            },
            |acc| acc.keys.into_iter().zip(acc.values).collect(),
        )
    }
}

/// Counts of distinct items, in first-seen order.
#[derive(Clone, Debug)]
struct Counts<T> {
    index: FxHashMap<T, usize>,
    order: Vec<T>,
    n: Vec<u64>,
}

impl<T> Default for Counts<T> {
    fn default() -> Self {
        Counts { index: FxHashMap::default(), order: Vec::new(), n: Vec::new() }
    }
}

impl<T: Hash + Eq + Clone> Counts<T> {
    /// Counts `x` (copied only the first time it is seen).
    fn add_ref(&mut self, x: &T, n: u64) {
        match self.index.get(x) {
            Some(&at) => self.n[at] += n,
            None => self.add(x.clone(), n),
        }
    }

    fn add(&mut self, x: T, n: u64) {
        match self.index.get(&x) {
            Some(&at) => self.n[at] += n,
            None => {
                self.index.insert(x.clone(), self.order.len());
                self.order.push(x);
                self.n.push(n);
            }
        }
    }
}

/// Accumulators by key, in first-seen order.
#[derive(Clone, Debug)]
struct Keyed<K, A> {
    index: FxHashMap<K, usize>,
    keys: Vec<K>,
    values: Vec<A>,
}

impl<K, A> Default for Keyed<K, A> {
    fn default() -> Self {
        Keyed { index: FxHashMap::default(), keys: Vec::new(), values: Vec::new() }
    }
}

impl<K: Hash + Eq + Clone, A: Clone> Keyed<K, A> {
    /// The slot of `k`, made with `initial` if new.
    fn slot(&mut self, k: K, initial: &A) -> usize {
        if let Some(&at) = self.index.get(&k) {
            return at;
        }
        self.index.insert(k.clone(), self.keys.len());
        self.keys.push(k);
        self.values.push(initial.clone());
        self.keys.len() - 1
    }
}

/// Numbers a bag can sum and average.
pub trait Number: Elem + Copy + std::iter::Sum<Self> {
    /// As a float, for means.
    fn to_f64(self) -> f64;
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Number for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
number!(i8, i16, i32, i64, u8, u16, u32, u64, usize, f32, f64);

/// Sums and means of numbers.
impl<T: Number> Bag<T> {
    /// The sum of the items, of their type (integers wrap as Rust's `Sum`
    /// does in release builds).
    pub fn sum(&self) -> Item<T> {
        self.reduction("sum", |items| items.iter().copied().sum::<T>(), |ps| ps.into_iter().sum(), |s| s)
    }

    /// The mean of the items (NaN of an empty bag).
    pub fn mean(&self) -> Item<f64> {
        self.reduction(
            "mean",
            |items| (items.iter().map(|&x| x.to_f64()).sum::<f64>(), items.len() as u64),
            |ps| ps.into_iter().fold((0.0, 0), |(s, n), (ps, pn)| (s + ps, n + pn)),
            |(s, n)| if n == 0 { f64::NAN } else { s / n as f64 },
        )
    }
}
