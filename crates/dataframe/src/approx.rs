//! Approximate reductions that stay small however many rows there are:
//! quantiles from weighted samples (each partition's sorted values
//! thinned to `POINTS` evenly spaced ones, merged and thinned again up a
//! tree), and distinct counts by HyperLogLog (4096 registers, about 1.6%
//! relative error).

use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{kernel_params, KernelParams, NamedFn, Op, TaskError, TaskResult, Value};
use polars::prelude::{
    DataFrame as PlFrame, DataType, Float64Chunked, Int32Chunked, IntoColumn, IntoSeries, NamedFrom, NewChunkedArray,
    PolarsResult, SortOptions,
};

use crate::error::Result;
use crate::expr::Expr;
use crate::frame::{concat, DataFrame};
use crate::partition::Partition;
use crate::series::{Scalar, Series};
use crate::tree::{tree, Stage};

/// Points kept per partial (rank error about `1 / POINTS` of the rows).
const POINTS: usize = 1000;
/// HyperLogLog's registers: 2^BITS.
const BITS: u32 = 12;

/// `(values, weights)` thinned to at most `POINTS` points of equal
/// weight at evenly spaced ranks.
fn thin(values: &[f64], weights: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let total: f64 = weights.iter().sum();
    if values.len() <= POINTS || total <= 0.0 {
        return (values.to_vec(), weights.to_vec());
    }
    let step = total / POINTS as f64;
    let (mut out, mut cum, mut next) = (Vec::with_capacity(POINTS), 0.0, step / 2.0);
    for (v, w) in values.iter().zip(weights) {
        cum += w;
        while cum >= next && out.len() < POINTS {
            out.push(*v);
            next += step;
        }
    }
    let n = out.len();
    (out, vec![total / n as f64; n])
}

fn points(df: &PlFrame) -> PolarsResult<(Vec<f64>, Vec<f64>)> {
    let sorted = df.sort(["v"], Default::default())?;
    let v: Vec<f64> = sorted.column("v")?.f64()?.iter().flatten().collect();
    let w: Vec<f64> = sorted.column("w")?.f64()?.iter().flatten().collect();
    Ok((v, w))
}

fn frame_of(v: Vec<f64>, w: Vec<f64>) -> PolarsResult<PlFrame> {
    let n = v.len();
    PlFrame::new(
        n,
        vec![
            Float64Chunked::from_vec("v".into(), v).into_series().into_column(),
            Float64Chunked::from_vec("w".into(), w).into_series().into_column(),
        ],
    )
}

/// The weighted points' value at each quantile (linear between points).
fn quantiles(v: &[f64], w: &[f64], qs: &[f64]) -> Vec<Option<f64>> {
    let total: f64 = w.iter().sum();
    // Point i stands for the ranks around the middle of its weight.
    let mut centers = Vec::with_capacity(v.len());
    let mut cum = 0.0;
    for wi in w {
        centers.push((cum + wi / 2.0) / total);
        cum += wi;
    }
    qs.iter()
        .map(|&q| {
            if v.is_empty() {
                return None;
            }
            let i = centers.partition_point(|&c| c < q);
            Some(match i {
                0 => v[0],
                i if i >= v.len() => v[v.len() - 1],
                i => {
                    let (c0, c1) = (centers[i - 1], centers[i]);
                    let t = if c1 > c0 { (q - c0) / (c1 - c0) } else { 0.0 };
                    v[i - 1] + t * (v[i] - v[i - 1])
                }
            })
        })
        .collect()
}

fn register_of(h: u64) -> (usize, i32) {
    let index = (h >> (64 - BITS)) as usize;
    let rest = h << BITS;
    (index, (rest.leading_zeros().min(64 - BITS) + 1) as i32)
}

fn estimate(registers: &[i32]) -> f64 {
    let m = registers.len() as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let sum: f64 = registers.iter().map(|&r| 2f64.powi(-r)).sum();
    let raw = alpha * m * m / sum;
    let zeros = registers.iter().filter(|&&r| r == 0).count();
    if raw <= 2.5 * m && zeros > 0 {
        m * (m / zeros as f64).ln()
    } else {
        raw
    }
}

kernel_params! {
    /// One task of an approximate reduction of `expr`'s values.
    enum ApproxParams {
        /// Quantiles `qs` (in 0–1), from weighted points.
        Quantile { stage: Stage, expr: Expr, qs: Vec<f64> },
        /// The number of distinct values, by HyperLogLog.
        Distinct { stage: Stage, expr: Expr },
    }
}

impl ApproxParams {
    /// What it computes, for messages.
    fn what(&self) -> String {
        match self {
            ApproxParams::Quantile { expr, .. } => format!("quantile of {}", expr.name()),
            ApproxParams::Distinct { expr, .. } => format!("distinct count of {}", expr.name()),
        }
    }
}

/// The task's result.
fn stage(params: &ApproxParams, input: &PlFrame) -> PolarsResult<PlFrame> {
    match params {
        ApproxParams::Quantile { stage: Stage::Partial, expr, .. } => {
            let s = expr.eval(input)?.cast(&DataType::Float64)?.drop_nulls().sort(SortOptions::default())?;
            let v: Vec<f64> = s.f64()?.iter().flatten().filter(|x| !x.is_nan()).collect();
            let (v, w) = thin(&v, &vec![1.0; v.len()]);
            frame_of(v, w)
        }
        ApproxParams::Quantile { stage: Stage::Combine, .. } => {
            let (v, w) = points(input)?;
            let (v, w) = thin(&v, &w);
            frame_of(v, w)
        }
        ApproxParams::Quantile { stage: Stage::Finish, qs, .. } => {
            let (v, w) = points(input)?;
            let values = quantiles(&v, &w, qs);
            PlFrame::new(
                qs.len(),
                vec![
                    Float64Chunked::from_vec("quantile".into(), qs.to_vec()).into_series().into_column(),
                    Float64Chunked::from_iter_options("value".into(), values.into_iter()).into_series().into_column(),
                ],
            )
        }
        ApproxParams::Distinct { stage: Stage::Partial, expr } => {
            let s = expr.eval(input)?.drop_nulls();
            let mut hashes = vec![0u64; s.len()];
            crate::shuffle::hash_into(&s, &mut hashes)?;
            let mut registers = vec![0i32; 1 << BITS];
            for h in hashes {
                let (i, rho) = register_of(h);
                registers[i] = registers[i].max(rho);
            }
            PlFrame::new(
                registers.len(),
                vec![Int32Chunked::from_vec("r".into(), registers).into_series().into_column()],
            )
        }
        ApproxParams::Distinct { stage, .. } => {
            // Partials stacked: register j of each is row j of it.
            let r: Vec<i32> = input.column("r")?.i32()?.iter().flatten().collect();
            let m = 1usize << BITS;
            let mut registers = vec![0i32; m];
            for (j, x) in r.into_iter().enumerate() {
                registers[j % m] = registers[j % m].max(x);
            }
            if *stage == Stage::Combine {
                return PlFrame::new(
                    m,
                    vec![Int32Chunked::from_vec("r".into(), registers).into_series().into_column()],
                );
            }
            let n = estimate(&registers).round();
            PlFrame::new(1, vec![Float64Chunked::from_vec("value".into(), vec![n]).into_series().into_column()])
        }
    }
}

fn approx_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let params = ApproxParams::from_value(params)?;
    let input = concat(&inputs)?;
    let out = stage(&params, &input).map_err(|e| TaskError::new(format!("{}: {e}", params.what())))?;
    Ok(Partition(out).into_value())
}

pub(crate) static APPROX: NamedFn = NamedFn::new("dataframe.approx", approx_task).params::<ApproxParams>();

/// A tree of `at`'s tasks (`kind` names its layer) into a one-partition
/// frame of `columns`.
fn approx_tree(df: &DataFrame, kind: &str, columns: &[&str], at: impl Fn(Stage) -> ApproxParams) -> DataFrame {
    let namer = Namer::new(kind).input(&df.layer).add(&at(Stage::Finish).to_value());
    let name: Arc<str> = format!("{kind}-{}", namer.token()).into();
    let (tasks, root) = tree(&name, &df.partitions, |stage| Op::named(&APPROX, at(stage).to_value()));
    let columns = columns.iter().map(|c| c.to_string()).collect();
    DataFrame::from_layer(Layer::new(name, tasks, vec![df.layer.clone()]), vec![root], columns)
}

impl Series {
    /// Approximate quantiles (`qs` in 0–1) of its present values: a
    /// one-partition frame of `quantile` and `value` (rank error about
    /// 0.1% of the rows), as dask's approximate `quantile`.
    pub fn quantile(&self, qs: &[f64]) -> Result<DataFrame> {
        if let Some(q) = qs.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return Err(crate::error::DataFrameError::Invalid(format!("quantile {q} is not between 0 and 1")));
        }
        let df = self.frame().project(&self.expr().columns())?;
        let at = |stage| ApproxParams::Quantile { stage, expr: self.expr().clone(), qs: qs.to_vec() };
        Ok(approx_tree(&df, "quantile", &["quantile", "value"], at))
    }

    /// Approximate number of distinct present values (HyperLogLog, about
    /// 1.6% relative error), as dask's `nunique_approx`.
    pub fn nunique_approx(&self) -> Result<Scalar> {
        let df = self.frame().project(&self.expr().columns())?;
        let at = |stage| ApproxParams::Distinct { stage, expr: self.expr().clone() };
        Ok(Scalar::from_frame(approx_tree(&df, "hll", &["value"], at)))
    }
}

impl DataFrame {
    /// Summary statistics of the numeric columns, computed (pandas'
    /// `describe`): rows `count, mean, std, min, 25%, 50%, 75%, max`
    /// named in a `statistic` column, one column per numeric column; the
    /// quartiles approximate. The column types come from the first
    /// partition.
    pub fn describe(&self) -> Result<PlFrame> {
        use crate::agg::{Agg, Aggregation};
        let first = self.head(0)?;
        let numeric: Vec<String> =
            first.columns().iter().filter(|c| c.dtype().is_primitive_numeric()).map(|c| c.name().to_string()).collect();
        const MOMENTS: [Agg; 5] = [Agg::Count, Agg::Mean, Agg::Std, Agg::Min, Agg::Max];
        let aggs: Vec<Aggregation> = numeric
            .iter()
            .flat_map(|c| {
                MOMENTS
                    .iter()
                    .map(move |a| Aggregation::new(crate::expr::col(c), *a).named(&format!("{c}:{}", a.name())))
            })
            .collect();
        if aggs.is_empty() {
            return Err(crate::error::DataFrameError::Invalid("describe found no numeric column".into()));
        }
        let moments = crate::groupby::reduce(self, &[], &aggs, 1)?;
        let quartiles: Vec<DataFrame> =
            numeric.iter().map(|c| self.col(c).and_then(|s| s.quantile(&[0.25, 0.5, 0.75]))).collect::<Result<_>>()?;
        let layers: Vec<&Arc<Layer>> =
            std::iter::once(&moments.layer).chain(quartiles.iter().map(|q| &q.layer)).collect();
        let keys: Vec<_> = std::iter::once(&moments).chain(&quartiles).map(|f| f.partitions[0].clone()).collect();
        let graph = blockwork_graph::layer::collect(&layers)?;
        let values = blockwork_local::compute(graph, &keys, &blockwork_local::Config::default().optimize(true))?;
        let frames: Vec<&PlFrame> = values
            .iter()
            .map(Partition::of)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| crate::error::DataFrameError::Partition(e.message))?;
        let stats = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"];
        let mut cols = vec![polars::prelude::Series::new("statistic".into(), stats).into_column()];
        for (i, c) in numeric.iter().enumerate() {
            let m = |a: &str| -> Result<Option<f64>> {
                Ok(frames[0].column(&format!("{c}:{a}"))?.cast(&DataType::Float64)?.f64()?.get(0))
            };
            let q = frames[1 + i].column("value")?.f64()?.clone();
            let values = [m("count")?, m("mean")?, m("std")?, m("min")?, q.get(0), q.get(1), q.get(2), m("max")?];
            cols.push(
                Float64Chunked::from_iter_options(c.as_str().into(), values.into_iter()).into_series().into_column(),
            );
        }
        Ok(PlFrame::new(stats.len(), cols)?)
    }
}
