//! Group-by with aggregations, by a tree of partial aggregations (dask's
//! `groupby(...).agg` with `split_out=1`): each partition is aggregated
//! on its own, partials are combined `SPLIT_EVERY` at a time, and one
//! last task finishes (a mean divides its sum by its count) and sorts by
//! the key.

use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{r, Key, NamedFn, Op, Task, TaskError, TaskResult, Value};
use polars::prelude::{col, DataType, Expr, SortMultipleOptions};

use crate::error::{DataFrameError, Result};
use crate::frame::DataFrame;
use crate::partition::Partition;

/// Partials combined per task.
const SPLIT_EVERY: usize = 8;

/// What to group by: a column, or a part of a datetime column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum By {
    /// The values of a column.
    Column(String),
    /// The hour (0–23) of a datetime column (`df.timestamp.dt.hour`).
    Hour(String),
    /// The day of the month (1–31) of a date or datetime column.
    Day(String),
    /// The month (1–12) of a date or datetime column.
    Month(String),
    /// The year of a date or datetime column.
    Year(String),
}

impl By {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            By::Column(c) => ("column", c),
            By::Hour(c) => ("hour", c),
            By::Day(c) => ("day", c),
            By::Month(c) => ("month", c),
            By::Year(c) => ("year", c),
        }
    }

    fn from_parts(kind: &str, c: &str) -> Option<By> {
        let c = c.to_string();
        Some(match kind {
            "column" => By::Column(c),
            "hour" => By::Hour(c),
            "day" => By::Day(c),
            "month" => By::Month(c),
            "year" => By::Year(c),
            _ => return None,
        })
    }

    /// The key as a Polars expression, named `key`.
    fn expr(&self) -> Expr {
        let (kind, c) = self.parts();
        let e = col(c);
        match kind {
            "hour" => e.dt().hour(),
            "day" => e.dt().day(),
            "month" => e.dt().month(),
            "year" => e.dt().year(),
            _ => e,
        }
        .alias("key")
    }
}

/// An aggregation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agg {
    /// Sum of the values.
    Sum,
    /// Mean of the non-null values.
    Mean,
    /// Number of non-null values.
    Count,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
}

impl Agg {
    fn name(self) -> &'static str {
        match self {
            Agg::Sum => "sum",
            Agg::Mean => "mean",
            Agg::Count => "count",
            Agg::Min => "min",
            Agg::Max => "max",
        }
    }

    fn from_name(s: &str) -> Option<Agg> {
        [Agg::Sum, Agg::Mean, Agg::Count, Agg::Min, Agg::Max].into_iter().find(|a| a.name() == s)
    }

    /// The partial columns of one partition's values.
    fn partial(self, v: &str) -> Vec<Expr> {
        match self {
            Agg::Sum => vec![col(v).sum().alias("p0")],
            Agg::Mean => vec![col(v).sum().alias("p0"), col(v).count().cast(DataType::Int64).alias("p1")],
            Agg::Count => vec![col(v).count().cast(DataType::Int64).alias("p0")],
            Agg::Min => vec![col(v).min().alias("p0")],
            Agg::Max => vec![col(v).max().alias("p0")],
        }
    }

    /// Partials of partials.
    fn combine(self) -> Vec<Expr> {
        match self {
            Agg::Sum | Agg::Count => vec![col("p0").sum().alias("p0")],
            Agg::Mean => vec![col("p0").sum().alias("p0"), col("p1").sum().alias("p1")],
            Agg::Min => vec![col("p0").min().alias("p0")],
            Agg::Max => vec![col("p0").max().alias("p0")],
        }
    }

    /// The final value from the partials.
    fn finish(self, out: &str) -> Expr {
        match self {
            Agg::Mean => (col("p0").cast(DataType::Float64) / col("p1").cast(DataType::Float64)).alias(out),
            _ => col("p0").alias(out),
        }
    }
}

/// A dataframe grouped by a key.
#[derive(Clone, Debug)]
pub struct GroupBy {
    df: DataFrame,
    by: By,
}

impl DataFrame {
    /// Groups by a column or a part of a datetime column.
    pub fn groupby(&self, by: By) -> Result<GroupBy> {
        self.check_column(by.parts().1)?;
        Ok(GroupBy { df: self.clone(), by })
    }

    pub(crate) fn check_column(&self, c: &str) -> Result<()> {
        if self.columns.iter().any(|x| x == c) {
            Ok(())
        } else {
            Err(DataFrameError::NoColumn { column: c.to_string(), columns: self.columns.clone() })
        }
    }
}

impl GroupBy {
    /// `agg` of `column` per group: a one-partition frame of two columns,
    /// the key (named after the grouped column) and `column`, sorted by key.
    pub fn agg(&self, column: &str, agg: Agg) -> Result<DataFrame> {
        self.df.check_column(column)?;
        let (kind, by_col) = self.by.parts();
        let params = |stage: &str| {
            Value::List(
                [stage, kind, by_col, column, agg.name()]
                    .iter()
                    .map(|s| Value::Str((*s).into()))
                    .collect::<Vec<_>>()
                    .into(),
            )
        };
        let namer = Namer::new("groupby").input(&self.df.layer).add(kind).add(by_col).add(column).add(agg.name());
        let name: Arc<str> = format!("groupby-{}-{}", agg.name(), namer.token()).into();
        let mut tasks: Vec<(Key, Task<Key>)> = Vec::new();
        let mut level: Vec<Key> = self.df.keys();
        let mut depth = 0u32;
        let stage_task = |stage: &str, inputs: Vec<Key>| {
            Task::new(Op::named(&GROUPBY, params(stage)), inputs.into_iter().map(r).collect())
        };
        // Partials of each partition.
        let partials: Vec<Key> = level
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let key = Key::with_shared_name(&name, &[depth, i as u32]);
                tasks.push((key.clone(), stage_task("partial", vec![k.clone()])));
                key
            })
            .collect();
        level = partials;
        while level.len() > 1 {
            depth += 1;
            level = level
                .chunks(SPLIT_EVERY)
                .enumerate()
                .map(|(i, group)| {
                    let key = Key::with_shared_name(&name, &[depth, i as u32]);
                    tasks.push((key.clone(), stage_task("combine", group.to_vec())));
                    key
                })
                .collect();
        }
        let last = Key::with_shared_name(&name, &[depth + 1, 0]);
        tasks.push((last.clone(), stage_task("finish", level)));
        let layer = Layer { name, tasks, deps: vec![self.df.layer.clone()] };
        let columns = vec![by_col.to_string(), column.to_string()];
        Ok(DataFrame { layer: Arc::new(layer), partitions: vec![last], columns })
    }

    /// Mean of `column` per group.
    pub fn mean(&self, column: &str) -> Result<DataFrame> {
        self.agg(column, Agg::Mean)
    }

    /// Sum of `column` per group.
    pub fn sum(&self, column: &str) -> Result<DataFrame> {
        self.agg(column, Agg::Sum)
    }

    /// Non-null values of `column` per group.
    pub fn count(&self, column: &str) -> Result<DataFrame> {
        self.agg(column, Agg::Count)
    }

    /// Smallest `column` per group.
    pub fn min(&self, column: &str) -> Result<DataFrame> {
        self.agg(column, Agg::Min)
    }

    /// Largest `column` per group.
    pub fn max(&self, column: &str) -> Result<DataFrame> {
        self.agg(column, Agg::Max)
    }
}

/// The partial / combine / finish steps; params `[stage, by kind, by
/// column, value column, agg]`.
fn groupby_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let p: Vec<&str> = match params.as_list() {
        Some(xs) => xs.iter().filter_map(|x| if let Value::Str(s) = x { Some(&**s) } else { None }).collect(),
        None => Vec::new(),
    };
    let [stage, kind, by_col, column, agg] = p[..] else { return Err(TaskError::new("groupby wants 5 string params")) };
    let (Some(by), Some(agg)) = (By::from_parts(kind, by_col), Agg::from_name(agg)) else {
        return Err(TaskError::new(format!("groupby: unknown key {kind:?} or aggregation {agg:?}")));
    };
    let lf = crate::frame::concat(&inputs)?;
    let lf = match stage {
        "partial" => lf.group_by([by.expr()]).agg(agg.partial(column)),
        "combine" => lf.group_by([col("key")]).agg(agg.combine()),
        _ => lf
            .group_by([col("key")])
            .agg(agg.combine())
            .select([col("key").alias(by_col), agg.finish(column)])
            .sort([by_col], SortMultipleOptions::default()),
    };
    let df = lf.collect().map_err(|e| TaskError::new(format!("groupby {stage} of {column}: {e}")))?;
    Ok(Partition(df).into_value())
}

pub(crate) static GROUPBY: NamedFn = NamedFn::new("dataframe.groupby", groupby_task);
