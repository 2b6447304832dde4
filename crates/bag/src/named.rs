//! Reductions, keyed folds, top-k and group-by with registered functions,
//! so that they run on a cluster's workers as their closure forms run on
//! threads; and the built-in `sum`/`mean`/`min`/`max` of registered item
//! types, which need no function of the user's.
//!
//! A registered reduction is a *reducer* known by name in every process:
//! a partial of a partition's items (streamed out of the pending
//! registered steps, `PIPELINE`), partials combined (`COMBINE`, in the
//! same tree of at most [`crate::SPLIT_EVERY`] per task as on threads),
//! and a last step (`FINISH`). Each may take an argument (`k` of top-k,
//! the number of partitions of a group-by). A group-by is a partial that
//! splits a partition by the key's hash and a combine that gathers one
//! share of every split.

use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock, RwLock};

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{kernel_params, r, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Value};
use rustc_hash::FxHashMap;

use crate::counts::Keyed;
use crate::part::{self, Elem, Part};
use crate::step::PipelineParams;
use crate::wire::{register_items, stream, Wire};
use crate::{layer_name, Bag, BagError, Item, Result};

/// Dask's `fold(binop, combine, initial)` with registered functions:
/// `binop` folds a partition's items into an accumulator starting at
/// `initial()`, `combine` merges two accumulators.
///
/// ```
/// use blockwork_bag::FoldFn;
/// static LONGEST: FoldFn<String, u64> =
///     FoldFn::new("myapp.longest", || 0, |a, s| a.max(s.len() as u64), |a, b| a.max(b));
/// ```
pub struct FoldFn<T, A> {
    /// Its name, the same in every process.
    pub name: &'static str,
    initial: fn() -> A,
    binop: fn(A, &T) -> A,
    combine: fn(A, A) -> A,
}

impl<T, A> FoldFn<T, A> {
    /// The fold of `binop` from `initial()`, partitions merged by `combine`.
    pub const fn new(name: &'static str, initial: fn() -> A, binop: fn(A, &T) -> A, combine: fn(A, A) -> A) -> Self {
        FoldFn { name, initial, binop, combine }
    }
}

/// Dask's `foldby(key, binop, initial, combine)` with registered
/// functions: the items of each `key` folded as [`FoldFn`] folds them.
pub struct FoldByFn<T, K, A> {
    /// Its name, the same in every process.
    pub name: &'static str,
    key: fn(&T) -> K,
    initial: fn() -> A,
    binop: fn(A, &T) -> A,
    combine: fn(A, A) -> A,
}

impl<T, K, A> FoldByFn<T, K, A> {
    /// Items grouped by `key`, each group folded by `binop` from
    /// `initial()`, partitions' accumulators of a key merged by `combine`.
    pub const fn new(
        name: &'static str,
        key: fn(&T) -> K,
        initial: fn() -> A,
        binop: fn(A, &T) -> A,
        combine: fn(A, A) -> A,
    ) -> Self {
        FoldByFn { name, key, initial, binop, combine }
    }
}

/// A registered key of an item: what [`Bag::topk_named`] orders by and
/// [`Bag::groupby_named`] groups by.
pub struct KeyFn<T, K> {
    /// Its name, the same in every process.
    pub name: &'static str,
    key: fn(&T) -> K,
}

impl<T, K> KeyFn<T, K> {
    /// The key `key` of each item.
    pub const fn new(name: &'static str, key: fn(&T) -> K) -> Self {
        KeyFn { name, key }
    }
}

type Partial = Box<dyn Fn(Option<usize>, &dyn Any, &Value) -> TaskResult + Send + Sync>;
type Combine = Box<dyn Fn(Option<usize>, &[Value]) -> TaskResult + Send + Sync>;
type Finish = Box<dyn Fn(Option<usize>, &Value) -> TaskResult + Send + Sync>;

/// A registered reduction, its types erased. Each part takes the
/// reduction's argument first ([`ReduceParams::arg`]).
pub(crate) struct Reducer {
    /// `Part<T>` of the items it reduces, and `T`'s name.
    pub(crate) input: TypeId,
    pub(crate) input_name: String,
    /// A partition's items (a boxed `Stream<T>` of the partition value).
    pub(crate) partial: Partial,
    combine: Combine,
    finish: Finish,
}

fn reducers() -> &'static RwLock<FxHashMap<String, Arc<Reducer>>> {
    static REDUCERS: OnceLock<RwLock<FxHashMap<String, Arc<Reducer>>>> = OnceLock::new();
    REDUCERS.get_or_init(Default::default)
}

fn add(name: String, reducer: Reducer) {
    reducers().write().unwrap_or_else(|p| p.into_inner()).insert(name, Arc::new(reducer));
}

fn known(name: &str) -> bool {
    reducers().read().unwrap_or_else(|p| p.into_inner()).contains_key(name)
}

/// The reducer `name`; the error says how to register it.
pub(crate) fn reducer(name: &str) -> std::result::Result<Arc<Reducer>, TaskError> {
    reducers().read().unwrap_or_else(|p| p.into_inner()).get(name).cloned().ok_or_else(|| {
        TaskError::new(format!(
            "bag reduction {name:?} is not registered in this process: register its function \
             (blockwork_bag::register_fold, register_foldby, register_key) at start-up in every worker process"
        ))
    })
}

/// The one item of a partial's partition.
fn single<P: Elem>(v: &Value) -> std::result::Result<P, TaskError> {
    part::items::<P>(v)?.first().cloned().ok_or_else(|| TaskError::new("bag reduction: an empty partial"))
}

/// A reducer of items `T` through partials `P` (one per partition, made
/// in a working form `W` and closed into `P`) to the items of `R`
/// (`finish`'s), registering the partitions' codecs.
fn reducer_of<T: Wire, W, P: Wire, R: Wire>(
    start: impl Fn(Option<usize>) -> std::result::Result<W, TaskError> + Send + Sync + 'static,
    step: impl Fn(&mut W, Cow<'_, T>) + Send + Sync + 'static,
    close: impl Fn(W) -> P + Send + Sync + 'static,
    merge: impl Fn(Option<usize>, Vec<P>) -> P + Send + Sync + 'static,
    finish: impl Fn(Option<usize>, P) -> Vec<R> + Send + Sync + 'static,
) -> Reducer {
    register_items::<T>();
    register_items::<P>();
    register_items::<R>();
    Reducer {
        input: TypeId::of::<Part<T>>(),
        input_name: T::name(),
        partial: Box::new(move |arg, s, v| {
            let mut w = start(arg)?;
            stream::<T>(s)?(v, &mut |x| step(&mut w, x))?;
            Ok(part::value(vec![close(w)]))
        }),
        combine: Box::new(move |arg, vs| {
            let ps = vs.iter().map(single::<P>).collect::<std::result::Result<Vec<P>, _>>()?;
            Ok(part::value(vec![merge(arg, ps)]))
        }),
        finish: Box::new(move |arg, v| Ok(part::value(finish(arg, single::<P>(v)?)))),
    }
}

/// Makes `fold` known by its name in this process (and its types'
/// partitions). Call it at start-up in every worker process.
pub fn register_fold<T: Wire, A: Wire>(fold: &'static FoldFn<T, A>) {
    let reducer = reducer_of::<T, A, A, A>(
        move |_| Ok((fold.initial)()),
        move |a, x| *a = (fold.binop)(std::mem::replace(a, (fold.initial)()), &x),
        |a| a,
        move |_, ps| ps.into_iter().reduce(fold.combine).unwrap_or_else(fold.initial),
        |_, a| vec![a],
    );
    add(format!("fold:{}", fold.name), reducer);
}

/// Makes `foldby` known by its name in this process (and its types'
/// partitions). Call it at start-up in every worker process.
pub fn register_foldby<T: Wire, K: Wire + Hash + Eq, A: Wire>(foldby: &'static FoldByFn<T, K, A>) {
    let reducer = reducer_of::<T, Keyed<K, A>, Vec<(K, A)>, (K, A)>(
        |_| Ok(Keyed::default()),
        move |acc, x| acc.update((foldby.key)(&x), foldby.initial, |a| (foldby.binop)(a, &x)),
        Keyed::into_pairs,
        move |_, ps| {
            let mut all = Keyed::default();
            for (k, a) in ps.into_iter().flatten() {
                all.merge(k, a, foldby.combine);
            }
            all.into_pairs()
        },
        |_, pairs| pairs,
    );
    add(format!("foldby:{}", foldby.name), reducer);
}

/// The count a reducer's argument must be (`k` of top-k, a group-by's
/// partitions): its absence is a bug of the graph's builder.
fn count_arg(arg: Option<usize>, what: &str) -> std::result::Result<usize, TaskError> {
    arg.ok_or_else(|| TaskError::internal(format!("{what}: a reduction without its count")))
}

/// The `k` items of the largest keys, stable among equal keys.
fn top<T, K: Ord>(xs: &mut Vec<T>, k: usize, key: fn(&T) -> K) {
    xs.sort_by_key(|x| std::cmp::Reverse(key(x)));
    xs.truncate(k);
}

/// Makes `key` known by its name in this process, for
/// [`Bag::topk_named`] and [`Bag::groupby_named`] (and its types'
/// partitions). Call it at start-up in every worker process.
pub fn register_key<T: Wire, K: Wire + Ord + Hash + Eq>(key: &'static KeyFn<T, K>) {
    let f = key.key;
    let topk = reducer_of::<T, (usize, Vec<T>), Vec<T>, T>(
        |arg| Ok((count_arg(arg, "topk")?, Vec::new())),
        move |(k, xs), x| {
            xs.push(x.into_owned());
            if xs.len() >= 2 * (*k).max(64) {
                top(xs, *k, f);
            }
        },
        move |(k, mut xs)| {
            top(&mut xs, k, f);
            xs
        },
        move |arg, ps| {
            let mut xs: Vec<T> = ps.into_iter().flatten().collect();
            top(&mut xs, arg.unwrap_or(usize::MAX), f);
            xs
        },
        |_, xs| xs,
    );
    add(format!("topk:{}", key.name), topk);
    register_items::<Vec<T>>();
    register_items::<(K, Vec<T>)>();
    let split: Partial = Box::new(move |arg, s, v| {
        let n = count_arg(arg, "groupby")?.max(1);
        let mut pieces: Vec<Vec<T>> = vec![Vec::new(); n];
        stream::<T>(s)?(v, &mut |x| {
            pieces[(rustc_hash::FxBuildHasher.hash_one(f(&x)) % n as u64) as usize].push(x.into_owned())
        })?;
        Ok(part::value(pieces))
    });
    let gather: Combine = Box::new(move |arg, vs| {
        let j = count_arg(arg, "groupby")?;
        let mut groups: Keyed<K, Vec<T>> = Keyed::default();
        for v in vs {
            let piece = part::items::<Vec<T>>(v)?.get(j).ok_or_else(|| TaskError::new("groupby: a missing share"))?;
            for x in piece {
                groups.update(f(x), Vec::new, |mut xs| {
                    xs.push(x.clone());
                    xs
                });
            }
        }
        Ok(part::value(groups.into_pairs()))
    });
    let finish: Finish = Box::new(|_, _| Err(TaskError::new("groupby has no last step")));
    let (input, input_name) = (TypeId::of::<Part<T>>(), T::name());
    add(format!("groupby:{}", key.name), Reducer { input, input_name, partial: split, combine: gather, finish });
}

/// `sum`, `mean`, `min` and `max` of `T` as reducers (`register` calls it
/// for the built-in item types).
pub(crate) fn register_numbers<T: Wire + crate::Number + PartialOrd>() {
    add(
        builtin::<T>("sum"),
        reducer_of::<T, T, T, T>(
            |_| Ok(std::iter::empty::<T>().sum()),
            |s, x| *s = *s + *x,
            |s| s,
            |_, ps| ps.into_iter().sum(),
            |_, s| vec![s],
        ),
    );
    add(
        builtin::<T>("mean"),
        reducer_of::<T, (f64, u64), (f64, u64), f64>(
            |_| Ok((0.0, 0)),
            |(s, n), x| {
                *s += x.to_f64();
                *n += 1;
            },
            |p| p,
            |_, ps| ps.into_iter().fold((0.0, 0), |(s, n), (ps, pn)| (s + ps, n + pn)),
            |_, (s, n)| vec![if n == 0 { f64::NAN } else { s / n as f64 }],
        ),
    );
    register_extremes::<T>();
}

/// `min` and `max` of `T` as reducers.
pub(crate) fn register_extremes<T: Wire + PartialOrd>() {
    for (what, beats) in [("min", (|best: &T, x: &T| x < best) as fn(&T, &T) -> bool), ("max", |best, x| x > best)] {
        let pick = move |best: Option<T>, x: T| match best {
            Some(b) if !beats(&b, &x) => Some(b),
            _ => Some(x),
        };
        add(
            builtin::<T>(what),
            reducer_of::<T, Option<T>, Option<T>, Option<T>>(
                |_| Ok(None),
                move |best, x| {
                    if best.as_ref().is_none_or(|b| beats(b, &x)) {
                        *best = Some(x.into_owned());
                    }
                },
                |b| b,
                move |_, ps| ps.into_iter().flatten().fold(None, pick),
                |_, b| vec![b],
            ),
        );
    }
}

/// The name of the built-in reducer `what` of `T`.
fn builtin<T: 'static>(what: &str) -> String {
    format!("blockwork.bag.{what}<{}>", std::any::type_name::<T>())
}

kernel_params! {
    /// A step of a registered reduction.
    pub(crate) struct ReduceParams {
        /// The reducer's registered name (`"topk:myapp.len"`).
        pub(crate) reducer: Arc<str>,
        /// Its argument: `k` of a top-k, the partitions of a group-by's
        /// split or the share of its gather; none for the others.
        pub(crate) arg: Option<usize>,
    }
}

fn combine_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let p = ReduceParams::from_value(params)?;
    (reducer(&p.reducer)?.combine)(p.arg, &args)
}

fn finish_kernel(params: &Value, args: Vec<Value>) -> TaskResult {
    let p = ReduceParams::from_value(params)?;
    let [v] = args.as_slice() else { return Err(TaskError::new("bag reduction: one partial is wanted")) };
    (reducer(&p.reducer)?.finish)(p.arg, v)
}

/// A reducer's partials combined.
pub(crate) static COMBINE: NamedFn =
    NamedFn::new("blockwork.bag.reduce_combine", combine_kernel).params::<ReduceParams>();
/// A reducer's last step.
pub(crate) static FINISH: NamedFn = NamedFn::new("blockwork.bag.reduce_finish", finish_kernel).params::<ReduceParams>();

impl<T: Elem> Bag<T> {
    /// The tree of the registered reducer `name` over this bag, when the
    /// bag's steps are all registered; its last layer.
    fn reduced(&self, what: &str, name: &str, arg: Option<usize>) -> Option<Arc<Layer>> {
        if !known(name) {
            return None;
        }
        let reducer: Arc<str> = name.into();
        let partial = self.pipeline(|steps| PipelineParams::Reduce { reducer: Arc::clone(&reducer), arg, steps })?;
        let partials: Bag<T> = self.layer_of(&format!("{what}-partial"), partial);
        let params = ReduceParams { reducer, arg }.to_value();
        Some(partials.tree_ops(what, Op::named(&COMBINE, params.clone()), Op::named(&FINISH, params)))
    }

    /// The built-in reducer `what` of `T` (`sum`, `mean`, `min`, `max`),
    /// when `T` has it and the steps are registered: named tasks.
    pub(crate) fn reduced_builtin<R: Elem>(&self, what: &str) -> Option<Item<R>> {
        let layer = self.reduced(what, &builtin::<T>(what), None)?;
        Some(Item { layer, _r: PhantomData })
    }

    /// [`Bag::fold`] with registered functions: named tasks, so that it
    /// runs on a cluster too (after closure steps, on this machine's
    /// threads).
    pub fn fold_named<A: Wire>(&self, fold: &'static FoldFn<T, A>) -> Item<A>
    where
        T: Wire,
    {
        register_fold(fold);
        if let Some(layer) = self.reduced("fold", &format!("fold:{}", fold.name), None) {
            return Item { layer, _r: PhantomData };
        }
        self.fold((fold.initial)(), fold.binop, fold.combine)
    }

    /// [`Bag::foldby`] with registered functions (see [`Bag::fold_named`]).
    pub fn foldby_named<K: Wire + Hash + Eq, A: Wire>(&self, foldby: &'static FoldByFn<T, K, A>) -> Bag<(K, A)>
    where
        T: Wire,
    {
        register_foldby(foldby);
        if let Some(layer) = self.reduced("foldby", &format!("foldby:{}", foldby.name), None) {
            return Bag::from_shared_layer(layer);
        }
        self.foldby(foldby.key, (foldby.initial)(), foldby.binop, foldby.combine)
    }

    /// [`Bag::topk`] by a registered key (see [`Bag::fold_named`]).
    pub fn topk_named<K: Wire + Ord + Hash + Eq>(&self, k: usize, key: &'static KeyFn<T, K>) -> Bag<T>
    where
        T: Wire,
    {
        register_key(key);
        if let Some(layer) = self.reduced("topk", &format!("topk:{}", key.name), Some(k)) {
            return Bag::from_shared_layer(layer);
        }
        self.topk(k, key.key)
    }

    /// [`Bag::groupby`] by a registered key: a hash shuffle of named
    /// tasks (see [`Bag::fold_named`]).
    pub fn groupby_named<K: Wire + Ord + Hash + Eq>(
        &self,
        key: &'static KeyFn<T, K>,
        npartitions: usize,
    ) -> Result<Bag<(K, Vec<T>)>>
    where
        T: Wire,
    {
        if npartitions == 0 {
            return Err(BagError::Invalid("groupby into 0 partitions: give at least 1".into()));
        }
        register_key(key);
        let name = format!("groupby:{}", key.name);
        let reducer: Arc<str> = name.as_str().into();
        let split = self.pipeline(|steps| PipelineParams::Reduce {
            reducer: Arc::clone(&reducer),
            arg: Some(npartitions),
            steps,
        });
        let Some(op) = split else {
            return self.groupby(key.key, npartitions);
        };
        let split: Bag<T> = self.layer_of("groupby-split", op);
        let layer_token =
            layer_name("groupby", &Namer::new("groupby").input(&split.layer).add(&name).add(&npartitions));
        let inputs = split.keys();
        let tasks = (0..npartitions)
            .map(|j| {
                let op = Op::named(&COMBINE, ReduceParams { reducer: Arc::clone(&reducer), arg: Some(j) }.to_value());
                let args = inputs.iter().map(|k| r(k.clone())).collect();
                (Key::with_shared_name(&layer_token, &[j as u32]), Task::new(op, args))
            })
            .collect();
        Ok(Bag::from_layer(Layer::new(layer_token, tasks, vec![Arc::clone(&split.layer)])))
    }
}
