//! Group-by with aggregations, by a tree of partial aggregations (dask's
//! `groupby(...).agg` with `split_out=1`): each partition is aggregated
//! on its own (`agg::partial`), partials are merged `SPLIT_EVERY` at a
//! time (`agg::combine`), and one last task merges, finishes (a mean
//! divides its sum by its count) and sorts by the keys. `nunique` goes
//! by distinct rows instead (its own tree), and a last task puts the
//! trees' columns side by side.

use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{kernel_params, r, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Value};
use polars::prelude::{Column, DataFrame as PlFrame, PolarsResult};

use crate::agg::{self, Agg, Aggregation};
use crate::error::{DataFrameError, Result};
use crate::expr::{col, Expr};
use crate::frame::{concat, DataFrame};
use crate::partition::Partition;
use crate::tree::{tree, Stage};

/// A dataframe grouped by keys: columns or expressions of them
/// (`col("timestamp").dt().hour()`).
#[derive(Clone, Debug)]
pub struct GroupBy {
    df: DataFrame,
    keys: Vec<Expr>,
    split_out: usize,
}

impl DataFrame {
    /// Groups by keys (each named after the column it reads; rows with a
    /// missing key are left out, as pandas does).
    pub fn groupby(&self, keys: &[Expr]) -> Result<GroupBy> {
        if keys.is_empty() {
            return Err(DataFrameError::Invalid("groupby wants at least one key".into()));
        }
        keys.iter().try_for_each(|k| self.check_expr(k))?;
        Ok(GroupBy { df: self.clone(), keys: keys.to_vec(), split_out: 1 })
    }
}

impl GroupBy {
    /// Results in `n` partitions (dask's `split_out`), for many groups:
    /// the partial states are hash-shuffled by key instead of merged up a
    /// tree into one task. Each partition is sorted by the keys; the
    /// partitions together are not.
    pub fn split_out(mut self, n: usize) -> GroupBy {
        self.split_out = n.max(1);
        self
    }

    /// Aggregations per group: a one-partition frame of the key columns
    /// and one column per aggregation, sorted by the keys.
    pub fn agg(&self, aggs: &[Aggregation]) -> Result<DataFrame> {
        aggs.iter().try_for_each(|a| self.df.check_expr(&a.expr))?;
        reduce(&self.df, &self.keys, aggs, self.split_out)
    }

    /// `agg` of each column named (`groupby(k).value.mean()`).
    fn each(&self, columns: &[&str], agg: Agg) -> Result<DataFrame> {
        self.agg(&columns.iter().map(|c| Aggregation::new(col(c), agg)).collect::<Vec<_>>())
    }

    /// Sums per group.
    pub fn sum(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::Sum)
    }
    /// Means per group.
    pub fn mean(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::Mean)
    }
    /// Present values per group.
    pub fn count(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::Count)
    }
    /// Smallest values per group.
    pub fn min(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::Min)
    }
    /// Largest values per group.
    pub fn max(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::Max)
    }
    /// Sample standard deviations per group.
    pub fn std(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::Std)
    }
    /// Sample variances per group.
    pub fn var(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::Var)
    }
    /// First present values per group.
    pub fn first(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::First)
    }
    /// Last present values per group.
    pub fn last(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::Last)
    }
    /// Distinct present values per group.
    pub fn nunique(&self, columns: &[&str]) -> Result<DataFrame> {
        self.each(columns, Agg::NUnique)
    }
    /// Rows per group, in a column named `size`.
    pub fn size(&self) -> Result<DataFrame> {
        self.agg(&[Aggregation::new(crate::expr::lit(0), Agg::Size).named("size")])
    }
}

/// The names of key columns: each after the column it reads.
fn key_names(keys: &[Expr]) -> Vec<String> {
    keys.iter().map(|k| k.name().to_string()).collect()
}

/// The reduction: per kind of aggregation (partial states; each
/// `nunique`) a tree into one partition, or with `split_out > 1` the
/// partials hash-shuffled by key into that many partitions and finished
/// there; when there are several kinds, a task per output partition puts
/// their columns side by side.
pub(crate) fn reduce(df: &DataFrame, keys: &[Expr], aggs: &[Aggregation], split_out: usize) -> Result<DataFrame> {
    if aggs.is_empty() {
        return Err(DataFrameError::Invalid("an aggregation wants at least one column".into()));
    }
    let needed: Vec<Arc<str>> = keys.iter().chain(aggs.iter().map(|a| &a.expr)).flat_map(Expr::columns).collect();
    let df = &df.project(&needed)?;
    let names = key_names(keys);
    let namer = Namer::new("agg").input(&df.layer).add(&split_out).with(|t| {
        use blockwork_graph::Tokenize;
        keys.tokenize(t);
        aggs.iter().for_each(|a| a.to_value().tokenize(t));
    });
    let label = match aggs {
        [a] => a.agg.name(),
        _ => "agg",
    };
    let name: Arc<str> = format!("{label}-{}", namer.token()).into();
    let (plain, distinct): (Vec<&Aggregation>, Vec<&Aggregation>) = aggs.iter().partition(|a| a.agg != Agg::NUnique);
    let mut specs = Vec::new();
    if !plain.is_empty() {
        specs.push(Spec::Partials {
            keys: keys.to_vec(),
            names: names.clone(),
            aggs: plain.into_iter().cloned().collect(),
        });
    }
    for a in distinct {
        specs.push(Spec::Distinct { keys: keys.to_vec(), names: names.clone(), agg: a.clone() });
    }
    let mut columns = names.clone();
    columns.extend(aggs.iter().map(|a| a.name.clone()));
    let mut frames: Vec<DataFrame> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| one_kind(df, spec, keys.len(), &format!("{name}-{i}"), split_out))
        .collect::<Result<_>>()?;
    if frames.len() == 1 {
        let mut only = frames.remove(0);
        only.columns = columns;
        return Ok(only);
    }
    let params = AggParams::SideBySide { order: aggs.iter().map(|a| a.name.clone()).collect(), keys: names }.to_value();
    let tasks: Vec<_> = (0..frames[0].npartitions())
        .map(|j| {
            let inputs = frames.iter().map(|f| r(f.partitions[j].clone())).collect();
            (Key::with_shared_name(&name, &[j as u32]), Task::new(Op::named(&AGG, params.clone()), inputs))
        })
        .collect();
    let partitions = tasks.iter().map(|(k, _)| k.clone()).collect();
    let deps = frames.iter().map(|f| f.layer.clone()).collect();
    Ok(DataFrame::from_layer(Layer::new(name, tasks, deps), partitions, columns))
}

/// One kind of aggregation: a tree into one partition, or partials
/// shuffled by key into `split_out` partitions, each finished alone.
fn one_kind(df: &DataFrame, spec: &Spec, nkeys: usize, name: &str, split_out: usize) -> Result<DataFrame> {
    let op = |stage| Op::named(&AGG, AggParams::Reduce { stage, spec: spec.clone() }.to_value());
    if split_out <= 1 {
        let name: Arc<str> = name.into();
        let (tasks, root) = tree(&name, &df.partitions, op);
        return Ok(DataFrame::from_layer(Layer::new(name, tasks, vec![df.layer.clone()]), vec![root], Vec::new()));
    }
    let key_columns: Vec<String> = (0..nkeys).map(|i| format!("k{i}")).collect();
    let partials = df.map_op(&format!("{name}-partial"), op(Stage::Partial), key_columns.clone());
    let shuffled = partials.shuffle(&key_columns.iter().map(|k| col(k)).collect::<Vec<_>>(), split_out)?;
    Ok(shuffled.map_op(&format!("{name}-finish"), op(Stage::Finish), Vec::new()))
}

kernel_params! {
    /// What a tree's tasks compute.
    enum Spec {
        /// Partial states of these aggregations per key.
        Partials { keys: Vec<Expr>, names: Vec<String>, aggs: Vec<Aggregation> },
        /// Distinct `(key, value)` rows, counted at the end (`nunique`).
        Distinct { keys: Vec<Expr>, names: Vec<String>, agg: Aggregation },
    }
}

kernel_params! {
    /// One task of a group-by's reduction.
    enum AggParams {
        /// A stage of one kind of aggregation.
        Reduce { stage: Stage, spec: Spec },
        /// The kinds' results side by side: the key columns, then the
        /// aggregations' columns in the order asked for.
        SideBySide { order: Vec<String>, keys: Vec<String> },
    }
}

fn stage(stage: Stage, spec: &Spec, input: &PlFrame) -> PolarsResult<PlFrame> {
    match (spec, stage) {
        (Spec::Partials { keys, aggs, .. }, Stage::Partial) => agg::partial(input, keys, aggs),
        (Spec::Partials { keys, aggs, .. }, Stage::Combine) => agg::combine(input, keys.len(), aggs),
        (Spec::Partials { keys, names, aggs }, Stage::Finish) => {
            agg::finish(&agg::combine(input, keys.len(), aggs)?, names, aggs)
        }
        (Spec::Distinct { keys, agg, .. }, Stage::Partial) => agg::distinct_partial(input, keys, &agg.expr),
        (Spec::Distinct { .. }, Stage::Combine) => agg::distinct(input),
        (Spec::Distinct { names, agg, .. }, Stage::Finish) => agg::distinct_finish(input, names, &agg.name),
    }
}

/// Trees' results (each sorted by the same keys) side by side, in the
/// order the aggregations were asked for.
fn side_by_side(order: &[String], keys: &[String], frames: &[&PlFrame]) -> PolarsResult<PlFrame> {
    let height = frames.first().map_or(0, |f| f.height());
    let mut cols: Vec<Column> = Vec::new();
    if let Some(first) = frames.first() {
        for k in keys {
            cols.push(first.column(k)?.clone());
        }
    }
    for name in order {
        let found = frames.iter().find_map(|f| f.column(name).ok());
        cols.push(found.ok_or_else(|| polars::prelude::polars_err!(ColumnNotFound: "{name}"))?.clone());
    }
    PlFrame::new(height, cols)
}

fn agg_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let fail = |e: polars::prelude::PolarsError| TaskError::new(e.to_string());
    let out = match AggParams::from_value(params)? {
        AggParams::SideBySide { order, keys } => {
            let frames: Vec<&PlFrame> = inputs.iter().map(Partition::of).collect::<std::result::Result<_, _>>()?;
            side_by_side(&order, &keys, &frames)
        }
        AggParams::Reduce { stage: at, spec } => stage(at, &spec, &concat(&inputs)?),
    };
    Ok(Partition(out.map_err(fail)?).into_value())
}

pub(crate) static AGG: NamedFn = NamedFn::new("dataframe.agg", agg_task).params::<AggParams>();
