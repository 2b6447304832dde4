//! The collection: a DataFrame made of Polars partitions, and its
//! partition-wise operations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use blockwork_graph::layer::{collect, Layer, Namer};
use blockwork_graph::{builtins, r, Graph, KernelParams, Key, NamedFn, Op, Task, TaskError, Value};
use blockwork_local::Config;
use polars::prelude::DataFrame as PlFrame;

use crate::agg::{Agg, Aggregation};
use crate::error::{DataFrameError, Result};
use crate::expr::{col, Expr};
use crate::lit::{DType, Lit};
use crate::ops::{Step, MAP};
use crate::partition::Partition;
use crate::series::{Scalar, Series};

/// A lazy dataframe: `npartitions` Polars DataFrames with the same
/// columns, the results of tasks of `layer` (which may hold more tasks:
/// a reduction's tree).
#[derive(Clone, Debug)]
pub struct DataFrame {
    pub(crate) layer: Arc<Layer>,
    pub(crate) partitions: Vec<Key>,
    pub(crate) columns: Vec<String>,
    /// For a frame read from files: the same read of fewer columns
    /// (column projection: an operation that needs only some columns
    /// reads only those).
    pub(crate) reread: Option<Reread>,
    /// The sorted column it is indexed by, and its divisions.
    pub(crate) index: Option<crate::sort::Index>,
}

/// Reads the same files again, keeping only some columns.
#[derive(Clone)]
pub(crate) struct Reread(pub(crate) Arc<RereadFn>);

/// Reads again, keeping only the columns given.
pub(crate) type RereadFn = dyn Fn(&[String]) -> Result<DataFrame> + Send + Sync;

impl std::fmt::Debug for Reread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reread")
    }
}

/// A name no other layer has (for data and closures, which are not
/// tokenized by content).
pub(crate) fn unique_name(prefix: &str) -> Arc<str> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let token = Namer::new(prefix)
        .add(&(std::process::id() as usize))
        .add(&(NEXT.fetch_add(1, Ordering::Relaxed) as usize))
        .token();
    format!("{prefix}-{token}").into()
}

impl DataFrame {
    /// A frame of `partitions` (keys of `layer`) with these columns.
    pub(crate) fn from_layer(layer: Layer, partitions: Vec<Key>, columns: Vec<String>) -> Self {
        DataFrame { layer: Arc::new(layer), partitions, columns, reread: None, index: None }
    }

    /// The frame to read for an operation that uses only `needed`
    /// columns: a narrower read when this frame comes straight from
    /// files, itself otherwise.
    pub(crate) fn project(&self, needed: &[Arc<str>]) -> Result<DataFrame> {
        match &self.reread {
            Some(reread) if needed.len() < self.columns.len() => {
                let keep: Vec<String> =
                    self.columns.iter().filter(|c| needed.iter().any(|n| **n == ***c)).cloned().collect();
                (reread.0)(&keep)
            }
            _ => Ok(self.clone()),
        }
    }

    /// A Polars DataFrame cut into `npartitions` row ranges of (nearly)
    /// equal length.
    pub fn from_polars(df: &PlFrame, npartitions: usize) -> Result<DataFrame> {
        let n = npartitions.max(1);
        let height = df.height();
        let parts = (0..n)
            .map(|i| {
                let (start, end) = (i * height / n, (i + 1) * height / n);
                Partition(df.slice(start as i64, end - start)).into_value()
            })
            .collect();
        let columns = df.get_column_names().iter().map(|c| c.to_string()).collect();
        Ok(DataFrame::of_values("from-polars", parts, columns))
    }

    /// A frame whose partitions are `values` (held by its tasks).
    fn of_values(prefix: &str, values: Vec<Value>, columns: Vec<String>) -> DataFrame {
        let name = unique_name(prefix);
        let tasks: Vec<_> = values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                (Key::with_shared_name(&name, &[i as u32]), Task::new(Op::named(&builtins::CONSTANT, v), vec![]))
            })
            .collect();
        let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
        DataFrame::from_layer(Layer::new(name, tasks, Vec::new()), partitions, columns)
    }

    /// Computes its partitions and returns a frame backed by them (dask's
    /// `persist`): what is built on it starts from the computed partitions
    /// instead of reading again. On a cluster (a default client, or
    /// `Scheduler::Client`) the partitions stay on its workers while the
    /// frame, or one built on it, lives.
    pub fn persist(&self) -> Result<DataFrame> {
        self.persist_with(&Config::default())
    }

    /// [`DataFrame::persist`] with a given configuration.
    pub fn persist_with(&self, config: &Config) -> Result<DataFrame> {
        if let Some(client) = config.scheduler.client() {
            // The same tasks under the same keys, their results pinned on
            // the workers; never read again through a narrower projection.
            let pin = client.persist(self.graph()?, &self.partitions)?;
            let layer = self.layer.pinned_copy(pin);
            let mut out = DataFrame::from_layer(layer, self.partitions.clone(), self.columns.clone());
            out.index = self.index.clone();
            return Ok(out);
        }
        let values = blockwork_local::compute(self.graph()?, &self.keys(), &config.clone().optimize(true))?;
        let mut out = DataFrame::of_values("persist", values, self.columns.clone());
        out.index = self.index.clone();
        Ok(out)
    }

    /// Every row reduced by `aggs` (dask's `df.agg({...})` without keys):
    /// a one-row frame with a column per aggregation, named by it.
    pub fn aggregate(&self, aggs: &[Aggregation]) -> Result<DataFrame> {
        aggs.iter().try_for_each(|a| self.check_expr(&a.expr))?;
        if aggs.is_empty() {
            return Err(DataFrameError::Invalid("aggregate wants at least one aggregation".into()));
        }
        crate::groupby::reduce(self, &[], aggs, 1)
    }

    /// Its partitions' count.
    pub fn npartitions(&self) -> usize {
        self.partitions.len()
    }

    /// Its column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The keys of its partitions, in order.
    pub fn keys(&self) -> Vec<Key> {
        self.partitions.clone()
    }

    /// The graph of every task its partitions need.
    pub fn graph(&self) -> Result<Graph> {
        Ok(collect(&[&self.layer])?)
    }

    /// Computes it on the threads of this machine into one Polars
    /// DataFrame (partitions in order).
    pub fn compute(&self) -> Result<PlFrame> {
        self.compute_with(&Config::default())
    }

    /// Computes it with `config` (scheduler, callbacks).
    pub fn compute_with(&self, config: &Config) -> Result<PlFrame> {
        let values = blockwork_local::compute(self.graph()?, &self.keys(), &config.clone().optimize(true))?;
        assemble(&values)
    }

    /// Joins computed partitions (from any scheduler, e.g. a cluster's
    /// `Client::compute(df.graph()?, &df.keys())`) into one frame.
    pub fn assemble(&self, values: Vec<Value>) -> Result<PlFrame> {
        assemble(&values)
    }

    pub(crate) fn check_column(&self, c: &str) -> Result<()> {
        if self.columns.iter().any(|x| x == c) {
            Ok(())
        } else {
            Err(DataFrameError::NoColumn { column: c.to_string(), columns: self.columns.clone() })
        }
    }

    pub(crate) fn check_expr(&self, e: &Expr) -> Result<()> {
        e.columns().iter().try_for_each(|c| self.check_column(c))
    }

    /// One task per partition applying `step`.
    pub(crate) fn step(&self, prefix: &str, step: Step) -> Result<DataFrame> {
        step.reads().iter().try_for_each(|c| self.check_column(c))?;
        let columns = step.columns(&self.columns);
        let params = step.to_value();
        let namer = Namer::new(prefix).input(&self.layer).add(&params);
        let op = Op::named(&MAP, params);
        let mut out = self.map_op(&format!("{prefix}-{}", namer.token()), op, columns);
        // Row-wise steps keep the rows' partitions and order: the index
        // stays while its column does (a filter only narrows the ranges).
        out.index = self.index.clone().filter(|i| out.columns.contains(&i.column));
        Ok(out)
    }

    /// One task of `op` per partition, under the layer `name`.
    pub(crate) fn map_op(&self, name: &str, op: Op, columns: Vec<String>) -> DataFrame {
        let name: Arc<str> = name.into();
        let tasks: Vec<_> = self
            .partitions
            .iter()
            .enumerate()
            .map(|(i, k)| (Key::with_shared_name(&name, &[i as u32]), Task::new(op.clone(), vec![r(k.clone())])))
            .collect();
        let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
        DataFrame::from_layer(Layer::new(name, tasks, vec![self.layer.clone()]), partitions, columns)
    }

    /// Exactly these columns, computed from the frame's
    /// (`df[["a", "b"]]`, or expressions: `col("a") * 2`).
    pub fn select(&self, exprs: &[Expr]) -> Result<DataFrame> {
        exprs.iter().try_for_each(|e| self.check_expr(e))?;
        let needed: Vec<Arc<str>> = exprs.iter().flat_map(Expr::columns).collect();
        self.project(&needed)?.step("select", Step::Select { exprs: exprs.to_vec() })
    }

    /// Exactly the columns named.
    pub fn select_columns(&self, names: &[&str]) -> Result<DataFrame> {
        self.select(&names.iter().map(|n| col(n)).collect::<Vec<_>>())
    }

    /// Columns added, or replaced when one has the name (pandas'
    /// `assign`; name an expression with `alias`).
    pub fn assign(&self, exprs: &[Expr]) -> Result<DataFrame> {
        self.step("assign", Step::Assign { exprs: exprs.to_vec() })
    }

    /// The rows where `predicate` holds (`df[df.value > 0]`).
    pub fn filter(&self, predicate: Expr) -> Result<DataFrame> {
        self.step("filter", Step::Filter { predicate })
    }

    /// Rows without a missing value in `subset` (every column when empty).
    pub fn dropna(&self, subset: &[&str]) -> Result<DataFrame> {
        self.step("dropna", Step::DropNa { subset: subset.iter().map(|s| s.to_string()).collect() })
    }

    /// Missing values replaced by `value` in every column of its kind.
    pub fn fillna(&self, value: impl Into<Lit>) -> Result<DataFrame> {
        self.step("fillna", Step::FillNa { value: value.into() })
    }

    /// Columns converted (`astype({"a": "float64"})`).
    pub fn astype(&self, types: &[(&str, DType)]) -> Result<DataFrame> {
        self.assign(&types.iter().map(|(c, t)| col(c).astype(*t)).collect::<Vec<_>>())
    }

    /// A column as a series.
    pub fn col(&self, name: &str) -> Result<Series> {
        self.series(col(name))
    }

    /// An expression of the frame's columns as a series.
    pub fn series(&self, expr: Expr) -> Result<Series> {
        self.check_expr(&expr)?;
        Ok(Series::new(self.clone(), expr))
    }

    /// `f` applied to every partition, on this machine's schedulers only
    /// (a closure cannot travel to a worker process: see
    /// [`DataFrame::map_partitions_named`]). `columns` are the result's.
    pub fn map_partitions(
        &self,
        label: &str,
        columns: &[&str],
        f: impl Fn(&PlFrame) -> std::result::Result<PlFrame, String> + Send + Sync + 'static,
    ) -> DataFrame {
        let op = Op::local(label, move |args: Vec<Value>| {
            let [v] = args.as_slice() else { return Err(TaskError::new("map_partitions takes one partition")) };
            f(Partition::of(v)?).map(|df| Partition(df).into_value()).map_err(TaskError::new)
        });
        let name = unique_name(label);
        self.map_op(&name, op, columns.iter().map(|c| c.to_string()).collect())
    }

    /// `func` (registered in every process, e.g. by the worker's
    /// start-up) applied to every partition with `params`: its inputs are
    /// one partition, its result a partition ([`Partition`]).
    pub fn map_partitions_named(&self, func: &'static NamedFn, params: Value, columns: &[&str]) -> DataFrame {
        let namer = Namer::new(func.name).input(&self.layer).add(&params);
        let name = format!("{}-{}", func.name.replace('.', "-"), namer.token());
        self.map_op(&name, Op::named(func, params), columns.iter().map(|c| c.to_string()).collect())
    }

    /// Its first `n` rows, computed (from the first partitions only,
    /// more of them when the first are short).
    pub fn head(&self, n: usize) -> Result<PlFrame> {
        let out = self.edge(Step::Head { n }, (0..self.npartitions()).collect())?;
        Ok(out.head(Some(n)))
    }

    /// Its last `n` rows, computed (from the last partitions only).
    pub fn tail(&self, n: usize) -> Result<PlFrame> {
        let out = self.edge(Step::Tail { n }, (0..self.npartitions()).rev().collect())?;
        Ok(out.tail(Some(n)))
    }

    /// `step` (a head or a tail of `n` rows) on the partitions in `order`,
    /// computed a batch at a time (1, 2, 4, … partitions) until `n` rows
    /// are in; stacked in the frame's order.
    fn edge(&self, step: Step, order: Vec<usize>) -> Result<PlFrame> {
        let (Step::Head { n } | Step::Tail { n }) = step else { return Ok(PlFrame::empty()) };
        let frame = self.step("edge", step)?;
        let graph = frame.graph()?;
        let (mut parts, mut rows, mut batch) = (Vec::new(), 0, 1);
        let mut rest = order.as_slice();
        while (rows < n || parts.is_empty()) && !rest.is_empty() {
            let (now, later) = rest.split_at(batch.min(rest.len()));
            let keys: Vec<Key> = now.iter().map(|&i| frame.partitions[i].clone()).collect();
            for (v, &i) in blockwork_local::compute(graph.clone(), &keys, &Config::default())?.into_iter().zip(now) {
                rows += Partition::of(&v).map_err(|e| DataFrameError::Partition(e.message))?.height();
                parts.push((i, v));
            }
            rest = later;
            batch *= 2;
        }
        parts.sort_by_key(|(i, _)| *i);
        assemble(&parts.into_iter().map(|(_, v)| v).collect::<Vec<_>>())
    }

    /// Its number of rows, computed.
    pub fn len(&self) -> Result<usize> {
        let rows = Scalar::reduce(self, Vec::new(), vec![Aggregation::new(crate::expr::lit(0), Agg::Size)])?;
        Ok(rows.compute()?.as_f64().unwrap_or(0.0) as usize)
    }

    /// Whether it has no rows (computed).
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
}

/// Concatenates partitions vertically, in order.
/// Computes several frames in one run (work they share runs once), each
/// into one Polars DataFrame.
pub fn compute_many(frames: &[DataFrame], config: &Config) -> Result<Vec<PlFrame>> {
    let layers: Vec<&Arc<Layer>> = frames.iter().map(|f| &f.layer).collect();
    let keys: Vec<Key> = frames.iter().flat_map(|f| f.partitions.iter().cloned()).collect();
    let values = blockwork_local::compute(collect(&layers)?, &keys, &config.clone().optimize(true))?;
    let mut values = values.into_iter();
    frames.iter().map(|f| assemble(&values.by_ref().take(f.partitions.len()).collect::<Vec<_>>())).collect()
}

pub(crate) fn assemble(values: &[Value]) -> Result<PlFrame> {
    concat(values).map_err(|e| DataFrameError::Partition(e.message))
}

/// Partitions (task values) stacked in order.
pub(crate) fn concat(values: &[Value]) -> std::result::Result<PlFrame, TaskError> {
    let mut frames = values.iter().map(Partition::of);
    let Some(first) = frames.next() else { return Ok(PlFrame::empty()) };
    let mut out = first?.clone();
    for f in frames {
        out.vstack_mut(f?).map_err(|e| TaskError::new(format!("stacking partitions: {e}")))?;
    }
    Ok(out)
}
