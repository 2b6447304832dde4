//! Reductions: a partial per partition, partials combined in a tree of at
//! most [`SPLIT_EVERY`] inputs per task, and a last step. Aggregations
//! over the whole bag (`count`, `sum`, `fold`) end in one [`Item`];
//! those that make items (`frequencies`, `distinct`, `topk`, `foldby`)
//! end in a one-partition bag.

use std::borrow::Cow;
use std::hash::Hash;
use std::marker::PhantomData;
use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{r, KernelParams, Key, NoParams, Op, Task, Value};

use crate::counts::{Counts, Keyed};
use crate::part::{self, Elem};
use crate::step::PipelineParams;
use crate::{layer_name, Bag, Item, SPLIT_EVERY};

/// Items made by item-wise steps are folded in batches of this many.
const BATCH: usize = 4096;

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
        partials.tree(what, combine, finish)
    }

    /// A reduction whose partial takes the partition's items one by one as
    /// they stream out of the pending item-wise steps (`start` makes an
    /// empty partial, `step` adds an item): no partition is built.
    fn fold_items<P: Elem, R: Elem>(
        &self,
        what: &str,
        start: impl Fn() -> P + Send + Sync + 'static,
        step: impl Fn(&mut P, Cow<'_, T>) + Send + Sync + 'static,
        combine: impl Fn(Vec<P>) -> P + Send + Sync + 'static,
        finish: impl Fn(P) -> R + Send + Sync + 'static,
    ) -> Item<R> {
        let (each, direct) = (self.each(), self.direct());
        let op = Op::local(format!("{what}-partial"), move |args: Vec<Value>| {
            let mut p = start();
            if direct {
                each(&args[0], &mut |x| step(&mut p, x))?;
                return Ok(part::value(vec![p]));
            }
            // Items that operations make come in batches: making a batch
            // and then folding it keeps each loop's memory in cache. A
            // borrowed item (`Emit::push_str`) is folded as it comes, after
            // the batch before it: copying it would cost more.
            let mut batch: Vec<T> = Vec::with_capacity(BATCH);
            each(&args[0], &mut |x| match x {
                Cow::Owned(x) => {
                    batch.push(x);
                    if batch.len() == BATCH {
                        batch.drain(..).for_each(|x| step(&mut p, Cow::Owned(x)));
                    }
                }
                borrowed => {
                    if !batch.is_empty() {
                        batch.drain(..).for_each(|x| step(&mut p, Cow::Owned(x)));
                    }
                    step(&mut p, borrowed)
                }
            })?;
            batch.into_iter().for_each(|x| step(&mut p, Cow::Owned(x)));
            Ok(part::value(vec![p]))
        });
        let partials: Bag<P> = self.layer_of(&format!("{what}-partial"), op);
        partials.tree(what, combine, finish)
    }

    /// Combines this bag's items (one partial per partition) in a tree of
    /// at most [`SPLIT_EVERY`] per task, then `finish`es the last.
    fn tree<R: Elem>(
        self,
        what: &str,
        combine: impl Fn(Vec<T>) -> T + Send + Sync + 'static,
        finish: impl Fn(T) -> R + Send + Sync + 'static,
    ) -> Item<R> {
        let combine = Op::local(format!("{what}-combine"), move |args: Vec<Value>| {
            let mut ps = Vec::with_capacity(args.len());
            for v in &args {
                ps.extend_from_slice(part::items::<T>(v)?);
            }
            Ok(part::value(vec![combine(ps)]))
        });
        let finish = Op::local(what.to_string(), move |args: Vec<Value>| {
            let p = part::items::<T>(&args[0])?.first().cloned();
            Ok(part::value(p.map(&finish).into_iter().collect()))
        });
        Item { layer: self.tree_ops(what, combine, finish), _r: PhantomData }
    }

    /// The layers of a reduction tree over this bag's partitions: `combine`
    /// takes up to [`SPLIT_EVERY`] of them (then of its own results) until
    /// one is left, which `finish` takes. The last layer, of one task.
    pub(crate) fn tree_ops(self, what: &str, combine: Op, finish: Op) -> Arc<Layer> {
        let mut level = self;
        while level.npartitions > 1 {
            level = level.tree_step(&format!("{what}-combine"), combine.clone());
        }
        let name = layer_name(what, &Namer::new(what).input(&level.layer).add(&finish));
        let task = Task::new(finish, vec![r(level.layer.key(&[0]))]);
        Arc::new(Layer::new(name.clone(), vec![(Key::with_shared_name(&name, &[0]), task)], vec![level.layer]))
    }

    /// One level of a reduction tree: each task reads up to
    /// [`SPLIT_EVERY`] consecutive partitions of this bag (of partials:
    /// a direct bag).
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

    /// A streaming reduction whose result is a bag of one partition (the
    /// items `finish` makes).
    fn fold_to_bag<P: Elem, U: Elem>(
        &self,
        what: &str,
        start: impl Fn() -> P + Send + Sync + 'static,
        step: impl Fn(&mut P, Cow<'_, T>) + Send + Sync + 'static,
        combine: impl Fn(Vec<P>) -> P + Send + Sync + 'static,
        finish: impl Fn(P) -> Vec<U> + Send + Sync + 'static,
    ) -> Bag<U> {
        let item = self.fold_items(what, start, step, combine, finish);
        // The item's one task holds a partition of one Vec<U>: unwrap it.
        let op = Op::local(format!("{what}-items"), |args: Vec<Value>| {
            let items = part::items::<Vec<U>>(&args[0])?;
            Ok(part::value(items.first().cloned().unwrap_or_default()))
        });
        let name = layer_name(what, &Namer::new(what).input(&item.layer).add(&op));
        let task = Task::new(op, vec![r(item.layer.key(&[0]))]);
        Bag::from_layer(Layer::new(name.clone(), vec![(Key::with_shared_name(&name, &[0]), task)], vec![item.layer]))
    }

    /// How many items. Named tasks (cluster-ready) when the items come
    /// straight from named tasks and their type is registered
    /// ([`crate::register_items`]).
    pub fn count(&self) -> Item<u64> {
        if let Some(op) = self.pipeline(|steps| PipelineParams::Count { steps }) {
            let partials: Bag<u64> = self.layer_of("count-partial", op);
            let (sum, first) = (
                Op::named(&crate::wire::SUM_U64, NoParams {}.to_value()),
                Op::named(&crate::wire::FIRST, NoParams {}.to_value()),
            );
            return Item { layer: partials.tree_ops("count", sum, first), _r: PhantomData };
        }
        self.fold_items("count", || 0u64, |n, _| *n += 1, |ps| ps.into_iter().sum(), |n| n)
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
        let (start, last) = (initial.clone(), initial);
        self.fold_items(
            "fold",
            move || Some(start.clone()),
            move |acc: &mut Option<A>, x| {
                if let Some(a) = acc.take() {
                    *acc = Some(binop(a, &x));
                }
            },
            move |ps| ps.into_iter().flatten().reduce(&combine),
            move |a| a.unwrap_or_else(|| last.clone()),
        )
    }

    /// The smallest item (`None` of an empty bag).
    pub fn min(&self) -> Item<Option<T>>
    where
        T: PartialOrd,
    {
        if let Some(item) = self.reduced_builtin("min") {
            return item;
        }
        self.extreme("min", |best, x| x < best)
    }

    /// The largest item (`None` of an empty bag).
    pub fn max(&self) -> Item<Option<T>>
    where
        T: PartialOrd,
    {
        if let Some(item) = self.reduced_builtin("max") {
            return item;
        }
        self.extreme("max", |best, x| x > best)
    }

    /// The first item that no later one `beats`.
    fn extreme(&self, what: &str, beats: fn(&T, &T) -> bool) -> Item<Option<T>> {
        self.fold_items(
            what,
            || None,
            move |best: &mut Option<T>, x| {
                if best.as_ref().is_none_or(|b| beats(b, &x)) {
                    *best = Some(x.into_owned());
                }
            },
            move |ps| {
                ps.into_iter().flatten().fold(None, |best: Option<T>, x| match best {
                    Some(b) if !beats(&b, &x) => Some(b),
                    _ => Some(x),
                })
            },
            |m| m,
        )
    }

    /// Each distinct item and how often it occurs, most frequent first
    /// (ties in first-seen order), in one partition.
    pub fn frequencies(&self) -> Bag<(T, u64)>
    where
        T: Hash + Eq,
    {
        let partial = self.pipeline(|steps| PipelineParams::Frequencies { steps });
        if let Some(op) = partial.filter(|_| crate::wire::is_counted::<T>()) {
            // Named tasks: partials are partitions of (item, count) pairs.
            let partials: Bag<(T, u64)> = self.layer_of("frequencies-partial", op);
            let (merge, sort) = (
                Op::named(&crate::wire::MERGE, NoParams {}.to_value()),
                Op::named(&crate::wire::SORT, NoParams {}.to_value()),
            );
            return Bag::from_shared_layer(partials.tree_ops("frequencies", merge, sort));
        }
        self.fold_to_bag(
            "frequencies",
            Counts::default,
            |counts: &mut Counts<T>, x| counts.add_cow(x, 1),
            |ps| {
                let mut all = Counts::default();
                for p in ps {
                    for (x, n) in p.into_pairs() {
                        all.add_cow(Cow::Owned(x), n);
                    }
                }
                all
            },
            |c| {
                let mut pairs = c.into_pairs();
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
        let freqs = self.frequencies();
        if freqs.direct() && crate::wire::is_counted::<T>() {
            return freqs.layer_of("distinct", Op::named(&crate::wire::FIRSTS, NoParams {}.to_value()));
        }
        freqs.map(|(x, _)| x.clone())
    }

    /// The `k` items with the largest `key`, largest first (ties in bag
    /// order), in one partition.
    pub fn topk<K: Ord>(&self, k: usize, key: impl Fn(&T) -> K + Send + Sync + 'static) -> Bag<T> {
        let key = Arc::new(key);
        let (k1, k2, k3) = (Arc::clone(&key), Arc::clone(&key), key);
        // A stable sort keeps bag order among equal keys.
        let top = move |xs: &mut Vec<T>, key: &dyn Fn(&T) -> K| {
            xs.sort_by_key(|x| std::cmp::Reverse(key(x)));
            xs.truncate(k);
        };
        self.fold_to_bag(
            "topk",
            Vec::new,
            move |xs: &mut Vec<T>, x| {
                xs.push(x.into_owned());
                if xs.len() >= 2 * k.max(64) {
                    top(xs, &*k1);
                }
            },
            move |ps| {
                let mut xs: Vec<T> = ps.into_iter().flatten().collect();
                top(&mut xs, &*k2);
                xs
            },
            move |mut xs| {
                top(&mut xs, &*k3);
                xs
            },
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
        self.fold_to_bag(
            "foldby",
            Keyed::default,
            move |acc: &mut Keyed<K, A>, x| acc.update(key(&x), || initial.clone(), |a| binop(a, &x)),
            move |ps| {
                let mut all: Keyed<K, A> = Keyed::default();
                for (k, a) in ps.into_iter().flat_map(Keyed::into_pairs) {
                    all.merge(k, a, &combine);
                }
                all
            },
            Keyed::into_pairs,
        )
    }
}

/// Numbers a bag can sum and average.
pub trait Number: Elem + Copy + std::iter::Sum<Self> + std::ops::Add<Output = Self> {
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
        if let Some(item) = self.reduced_builtin("sum") {
            return item;
        }
        self.fold_items(
            "sum",
            || std::iter::empty::<T>().sum(),
            |s: &mut T, x| *s = *s + *x,
            |ps| ps.into_iter().sum(),
            |s| s,
        )
    }

    /// The mean of the items (NaN of an empty bag).
    pub fn mean(&self) -> Item<f64> {
        if let Some(item) = self.reduced_builtin("mean") {
            return item;
        }
        self.fold_items(
            "mean",
            || (0.0, 0u64),
            |(s, n): &mut (f64, u64), x| {
                *s += x.to_f64();
                *n += 1;
            },
            |ps| ps.into_iter().fold((0.0, 0), |(s, n), (ps, pn)| (s + ps, n + pn)),
            |(s, n)| if n == 0 { f64::NAN } else { s / n as f64 },
        )
    }
}
