//! Sorting a frame across partitions (`sort_values`, `set_index`): a
//! sample of the column from every partition gives cut points (weighted
//! by the partitions' sizes), rows are range-partitioned between them,
//! and each partition is sorted on its own. The cut points are the
//! frame's *divisions*: partition `i` holds the values from division `i`
//! up to division `i + 1`.

use blockwork_graph::{kernel_params, KernelParams, NamedFn, Op, TaskError, TaskResult, Value};
use blockwork_local::Config;
use polars::prelude::{
    DataFrame as PlFrame, Float64Chunked, IntoColumn, IntoSeries, PolarsResult, SortMultipleOptions, SortOptions,
};

use crate::error::Result;
use crate::expr::{col, Expr};
use crate::frame::{assemble, DataFrame};
use crate::lit::Lit;
use crate::ops::Step;
use crate::partition::Partition;
use crate::shuffle::Partitioner;

/// Values sampled per partition.
const SAMPLE: usize = 256;

/// The sorted column a frame is indexed by, and where its partitions
/// start and end.
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    /// The column.
    pub column: String,
    /// `npartitions + 1` bounds: the first partition's smallest value, the
    /// cut points, the last partition's largest (dates and datetimes as
    /// their integer value).
    pub divisions: Vec<Lit>,
}

/// Up to `SAMPLE` evenly spaced values of a partition's sorted column
/// (its smallest and largest among them), each weighing `rows / sampled`.
fn sample(df: &PlFrame, by: &Expr) -> PolarsResult<PlFrame> {
    let values = by.eval(df)?.drop_nulls().sort(SortOptions::default())?;
    let n = values.len();
    let k = n.min(SAMPLE);
    let positions: Vec<polars::prelude::IdxSize> =
        (0..k).map(|i| if k == 1 { 0 } else { (i * (n - 1) / (k - 1)) as polars::prelude::IdxSize }).collect();
    let picked = values.take(&polars::prelude::IdxCa::from_vec("idx".into(), positions))?;
    let weight = if k == 0 { 0.0 } else { n as f64 / k as f64 };
    let w = Float64Chunked::from_vec("w".into(), vec![weight; k]).into_series();
    PlFrame::new(k, vec![picked.with_name("v".into()).into_column(), w.into_column()])
}

kernel_params! {
    /// A partition's sample of the values of `by`.
    struct SampleParams {
        by: Expr,
    }
}

fn sample_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let SampleParams { by } = SampleParams::from_value(params)?;
    let [input] = inputs.as_slice() else { return Err(TaskError::new("dataframe.sample takes one partition")) };
    let out = sample(Partition::of(input)?, &by).map_err(|e| TaskError::new(e.to_string()))?;
    Ok(Partition(out).into_value())
}

pub(crate) static SAMPLE_FN: NamedFn = NamedFn::new("dataframe.sample", sample_task).params::<SampleParams>();

/// `n + 1` divisions from weighted samples: the smallest value, the
/// values at each `1/n` of the total weight, the largest; repeated values
/// (many equal keys) merged.
fn divisions(samples: &PlFrame, n: usize) -> PolarsResult<Vec<Lit>> {
    let v = samples.column("v")?.as_materialized_series();
    if v.is_empty() {
        return Ok(Vec::new());
    }
    let w = samples.column("w")?.f64()?.clone();
    let order = v.arg_sort(SortOptions::default());
    let total: f64 = w.iter().flatten().sum();
    let mut out = vec![Lit::from_any(&v.get(order.get(0).unwrap_or(0) as usize)?)];
    let (mut cum, mut next) = (0.0, 1);
    for idx in order.iter().flatten() {
        cum += w.get(idx as usize).unwrap_or(0.0);
        while next < n && cum >= total * next as f64 / n as f64 {
            out.push(Lit::from_any(&v.get(idx as usize)?));
            next += 1;
        }
    }
    out.push(Lit::from_any(&v.get(order.get(order.len() - 1).unwrap_or(0) as usize)?));
    out.dedup();
    Ok(out)
}

impl DataFrame {
    /// Sorted by the column `by` across partitions (missing values last),
    /// equal values in their original order. Computes a sample of the
    /// column first (on this machine's threads), as dask does.
    pub fn sort_values(&self, by: &str, ascending: bool) -> Result<DataFrame> {
        Ok(self.sorted(by, ascending)?.0)
    }

    /// Sorted by `column`, which becomes the index: the frame knows its
    /// divisions ([`DataFrame::divisions`]).
    pub fn set_index(&self, column: &str) -> Result<DataFrame> {
        let (mut df, divisions) = self.sorted(column, true)?;
        df.index = Some(Index { column: column.to_string(), divisions });
        Ok(df)
    }

    /// The index column and its divisions, when the frame has one.
    pub fn index(&self) -> Option<&Index> {
        self.index.as_ref()
    }

    /// The divisions of the index (`npartitions + 1` bounds), when known.
    pub fn divisions(&self) -> Option<&[Lit]> {
        self.index.as_ref().map(|i| i.divisions.as_slice())
    }

    fn sorted(&self, by: &str, ascending: bool) -> Result<(DataFrame, Vec<Lit>)> {
        self.check_column(by)?;
        let sort = Step::Sort { by: vec![by.to_string()], descending: vec![!ascending] };
        let samples = self.map_op(
            &crate::frame::unique_name("sample"),
            Op::named(&SAMPLE_FN, SampleParams { by: col(by) }.to_value()),
            vec!["v".into(), "w".into()],
        );
        let values = blockwork_local::compute(samples.graph()?, &samples.keys(), &Config::default().optimize(true))?;
        let samples = assemble(&values)?;
        let bounds = divisions(&samples, self.npartitions())?;
        let cuts: Vec<Lit> = bounds.iter().skip(1).take(bounds.len().saturating_sub(2)).cloned().collect();
        let partitioned = if self.npartitions() == 1 {
            self.clone()
        } else {
            let range = Partitioner::Range { by: col(by), cuts: cuts.clone(), descending: !ascending };
            self.partition_by(&range, cuts.len() + 1)?
        };
        let out = partitioned.step("sort", sort)?;
        // One partition per cut interval; an empty frame has no bounds.
        let divisions = if bounds.is_empty() || out.npartitions() != bounds.len() - 1 { Vec::new() } else { bounds };
        Ok((out, divisions))
    }
}

/// Sorts a partition (the `Sort` step).
pub(crate) fn sort_frame(df: &PlFrame, by: &[String], descending: &[bool]) -> PolarsResult<PlFrame> {
    let options = SortMultipleOptions::default()
        .with_order_descending_multi(descending.iter().copied())
        .with_nulls_last(true)
        .with_maintain_order(true);
    df.sort(by.to_vec(), options)
}
