//! Item-wise operations (one task per partition), the hash shuffle behind
//! `groupby`, `take` and writing text files.

use std::borrow::Cow;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{r, Key, NamedFn, Op, Task, TaskError, Value};
use blockwork_local::Config;

use crate::counts::Keyed;
use crate::part::{self, Elem};
use crate::read::{compress, Compression};
use crate::step::PipelineParams;
use crate::{layer_name, Bag, BagError, Emit, Result};

impl<T: Elem> Bag<T> {
    /// `f` of every item. Item-wise steps (`map`, `filter`, `flat_map`)
    /// are fused: they run item by item inside the task that next needs
    /// the items, and no partition of an intermediate bag is built.
    pub fn map<U: Elem>(&self, f: impl Fn(&T) -> U + Send + Sync + 'static) -> Bag<U> {
        let each = self.each();
        self.with_stream(Arc::new(move |v, emit: &mut dyn FnMut(Cow<'_, U>)| each(v, &mut |x| emit(Cow::Owned(f(&x))))))
    }

    /// `f` of every item, where `f` may fail: the first error fails the
    /// partition's task (named with its key). Fused like `map`. The error
    /// is anything that becomes a [`TaskError`]: a message (the input's
    /// fault), or a `TaskError` of the kind the function decides
    /// ([`TaskError::environment`] for a service it could not reach).
    pub fn try_map<U: Elem, E: Into<TaskError>>(
        &self,
        f: impl Fn(&T) -> std::result::Result<U, E> + Send + Sync + 'static,
    ) -> Bag<U> {
        let each = self.each();
        self.with_stream(Arc::new(move |v, emit: &mut dyn FnMut(Cow<'_, U>)| {
            let mut failed = None;
            each(v, &mut |x| {
                if failed.is_none() {
                    match f(&x) {
                        Ok(u) => emit(Cow::Owned(u)),
                        Err(e) => failed = Some(e.into()),
                    }
                }
            })?;
            failed.map_or(Ok(()), Err)
        }))
    }

    /// The items for which `keep` is true.
    pub fn filter(&self, keep: impl Fn(&T) -> bool + Send + Sync + 'static) -> Bag<T> {
        let each = self.each();
        self.with_stream(Arc::new(move |v, emit: &mut dyn FnMut(Cow<'_, T>)| {
            each(v, &mut |x| {
                if keep(&x) {
                    emit(x)
                }
            })
        }))
    }

    /// The items of `f` of every item, in order (`map` then `flatten`).
    pub fn flat_map<U: Elem, I: IntoIterator<Item = U>>(&self, f: impl Fn(&T) -> I + Send + Sync + 'static) -> Bag<U> {
        let each = self.each();
        self.with_stream(Arc::new(move |v, emit: &mut dyn FnMut(Cow<'_, U>)| {
            each(v, &mut |x| {
                for u in f(&x) {
                    emit(Cow::Owned(u))
                }
            })
        }))
    }

    /// The items `f` emits for every item, in order: [`Bag::flat_map`]
    /// without a collection per item — `f` hands each output to `out`
    /// ([`Emit`]), made from borrowed parts of the item where it can
    /// (`|line, out| line.split_whitespace().for_each(|w| out.push_str(w))`:
    /// no `String` per word unless one is kept).
    pub fn flat_map_with<U: Elem>(&self, f: impl Fn(&T, &mut Emit<'_, U>) + Send + Sync + 'static) -> Bag<U> {
        self.with_stream(crate::step::then(self.each(), f))
    }

    /// `func` (a registered function, so that its tasks run on a cluster's
    /// workers too) of each partition with `params`: its input is a
    /// partition's value (read it with [`crate::partition_items`]), its
    /// result the new partition's ([`crate::partition_value`] of items of
    /// type `U`). Pending item-wise closures (`map`, `filter`, …) run
    /// first, in a task of their own on this machine's schedulers only.
    pub fn map_partitions_named<U: Elem>(&self, func: &'static NamedFn, params: Value) -> Bag<U> {
        Bag::<T>::from_shared_layer(self.own_layer()).layer_of(&func.name.replace('.', "-"), Op::named(func, params))
    }

    /// `f` of each partition's items: its result is the new partition.
    pub fn map_partitions<U: Elem>(&self, f: impl Fn(&[T]) -> Vec<U> + Send + Sync + 'static) -> Bag<U> {
        self.per_partition("map-partitions", move |items| Ok(f(items)))
    }

    /// [`Bag::map_partitions`] with a function that may fail: its error is
    /// the task's, named with the partition's key (as [`Bag::try_map`]'s).
    pub fn try_map_partitions<U: Elem, E: Into<TaskError>>(
        &self,
        f: impl Fn(&[T]) -> std::result::Result<Vec<U>, E> + Send + Sync + 'static,
    ) -> Bag<U> {
        self.per_partition("map-partitions", move |items| f(items).map_err(Into::into))
    }

    /// The items grouped by `key` into `npartitions` partitions (a hash
    /// shuffle: every input partition is split by the key's hash, and
    /// each output partition gathers its share of every split): one
    /// `(key, items)` pair per distinct key, items in input order.
    pub fn groupby<K: Elem + Hash + Eq>(
        &self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        npartitions: usize,
    ) -> Result<Bag<(K, Vec<T>)>> {
        if npartitions == 0 {
            return Err(BagError::Invalid("groupby into 0 partitions: give at least 1".into()));
        }
        let key = Arc::new(key);
        let hasher = rustc_hash::FxBuildHasher;
        let k = Arc::clone(&key);
        // Split: each input partition becomes `npartitions` pieces.
        let split = self.per_partition("groupby-split", move |items| {
            let mut pieces: Vec<Vec<T>> = vec![Vec::new(); npartitions];
            for x in items {
                pieces[(hasher.hash_one(k(x)) % npartitions as u64) as usize].push(x.clone());
            }
            Ok(pieces)
        });
        // Gather: output partition j takes piece j of every split.
        let op = Op::local("groupby-gather", move |args: Vec<Value>| {
            let j = match args.last() {
                Some(Value::Int(j)) => *j as usize,
                _ => return Err(TaskError::new("groupby-gather without its partition number")),
            };
            let mut groups: Keyed<K, Vec<T>> = Keyed::default();
            for v in &args[..args.len() - 1] {
                for x in &part::items::<Vec<T>>(v)?[j] {
                    groups.update(key(x), Vec::new, |mut xs| {
                        xs.push(x.clone());
                        xs
                    });
                }
            }
            Ok(part::value(groups.into_pairs()))
        });
        let name = layer_name("groupby", &Namer::new("groupby").input(&split.layer).add(&op));
        let inputs: Vec<Key> = split.keys();
        let tasks = (0..npartitions)
            .map(|j| {
                let mut args: Vec<_> = inputs.iter().map(|k| r(k.clone())).collect();
                args.push(blockwork_graph::lit(j as i64));
                (Key::with_shared_name(&name, &[j as u32]), Task::new(op.clone(), args))
            })
            .collect();
        Ok(Bag::from_layer(Layer::new(name, tasks, vec![Arc::clone(&split.layer)])))
    }

    /// The first `n` items. Only the partitions needed are computed: the
    /// first, then as many more as it takes.
    pub fn take(&self, n: usize) -> Result<Vec<T>> {
        self.take_with(n, &Config::default())
    }

    /// [`Bag::take`] with a given configuration.
    pub fn take_with(&self, n: usize, config: &Config) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(n);
        let graph = self.graph()?;
        for key in self.keys() {
            if out.len() >= n {
                break;
            }
            let v = blockwork_local::compute(graph.clone(), std::slice::from_ref(&key), config)?;
            let items = part::items::<T>(&v[0]).map_err(|e| crate::task_error(&key, e))?;
            out.extend(items.iter().take(n - out.len()).cloned());
        }
        Ok(out)
    }
}

/// `x` as a line of `text` (no second newline after one it ends with).
pub(crate) fn push_line(text: &mut String, x: &dyn std::fmt::Display) {
    use std::fmt::Write as _;
    let _ = write!(text, "{x}");
    if !text.ends_with('\n') {
        text.push('\n');
    }
}

impl<T: Elem + std::fmt::Display> Bag<T> {
    /// Writes each partition as a text file, one item per line (an item
    /// that ends with a newline, such as a line from `read_text`, gets no
    /// second one): `pattern` has one `*`, replaced by the partition's
    /// number (`out/part-*.txt.gz`), and its extension says the
    /// compression (`.gz`, `.zst`, else none). Local paths or `s3://`.
    /// Returns the files written.
    pub fn to_textfiles(&self, pattern: &str) -> Result<Vec<String>> {
        self.to_textfiles_with(pattern, &Config::default())
    }

    /// [`Bag::to_textfiles`] with a given configuration.
    pub fn to_textfiles_with(&self, pattern: &str, config: &Config) -> Result<Vec<String>> {
        if pattern.matches('*').count() != 1 {
            return Err(BagError::Invalid(format!(
                "to_textfiles({pattern:?}): the pattern needs one '*' for the partition number"
            )));
        }
        let width = self.npartitions.saturating_sub(1).to_string().len();
        let paths: Vec<String> = (0..self.npartitions).map(|i| pattern.replace('*', &format!("{i:0width$}"))).collect();
        if let Some(dir) = std::path::Path::new(pattern).parent().filter(|_| !blockwork_store::is_url(pattern)) {
            if !dir.as_os_str().is_empty() {
                blockwork_store::create_dir_all(&dir.to_string_lossy())
                    .map_err(|source| BagError::Io { what: format!("creating {}", dir.display()), source })?;
            }
        }
        let compression = Compression::of(pattern);
        // One task per partition, each writing its own file.
        let files = Arc::new(paths.clone());
        let each = self.each();
        let op = Op::local("to-textfiles", move |args: Vec<Value>| {
            let (Some(v), Some(Value::Int(i))) = (args.first(), args.get(1)) else {
                return Err(TaskError::new("to-textfiles without its partition"));
            };
            let mut text = String::new();
            each(v, &mut |x| push_line(&mut text, &*x))?;
            let path = &files[*i as usize];
            let bytes =
                compress(text.into_bytes(), compression).map_err(|e| TaskError::environment(format!("{path}: {e}")))?;
            blockwork_store::write_all(path, bytes)
                .map_err(|e| TaskError::environment(format!("writing {path}: {e}")))?;
            Ok(Value::Unit)
        });
        let name = layer_name("to-textfiles", &Namer::new("to-textfiles").input(&self.layer).add(&op));
        // Registered item types write through named tasks (on any worker).
        let named = crate::wire::is_written::<T>();
        let tasks: Vec<(Key, Task<Key>)> = (0..self.npartitions)
            .map(|i| {
                let input = r(self.layer.key(&[i as u32]));
                let write = self.pipeline(|steps| PipelineParams::Write { path: paths[i].as_str().into(), steps });
                let task = match write.filter(|_| named) {
                    Some(write) => Task::new(write, vec![input]),
                    None => Task::new(op.clone(), vec![input, blockwork_graph::lit(i as i64)]),
                };
                (Key::with_shared_name(&name, &[i as u32]), task)
            })
            .collect();
        let keys: Vec<Key> = tasks.iter().map(|(k, _)| k.clone()).collect();
        let layer = Arc::new(Layer::new(name, tasks, vec![Arc::clone(&self.layer)]));
        blockwork_local::compute(blockwork_graph::layer::collect(&[&layer])?, &keys, config)?;
        Ok(paths)
    }
}
