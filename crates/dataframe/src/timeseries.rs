//! Time series on a sorted datetime index: `resample` (fixed-frequency
//! bins, empty bins included as pandas gives them) and `rolling` windows
//! of a number of rows or of a duration, computed partition by partition
//! with the rows a window needs from before carried along a chain of
//! small tasks.

use std::collections::VecDeque;
use std::sync::Arc;

use blockwork_graph::layer::{Layer, Namer};
use blockwork_graph::{kernel_params, r, KernelParams, Key, NamedFn, Op, Task, TaskError, TaskResult, Tokenize, Value};
use polars::prelude::{
    Column, DataFrame as PlFrame, DataFrameJoinOps, DataType, Float64Chunked, Int64Chunked, IntoColumn, IntoSeries,
    JoinArgs, JoinType, MaintainOrderJoin, NamedFrom, NewChunkedArray, PolarsResult, Series,
};

use crate::agg::{Agg, Aggregation};
use crate::error::{DataFrameError, Result};
use crate::expr::{col, parse_duration};
use crate::frame::{concat, DataFrame};
use crate::partition::Partition;

impl DataFrame {
    fn datetime_index(&self, what: &str) -> Result<String> {
        match &self.index {
            Some(i) => Ok(i.column.clone()),
            None => Err(DataFrameError::Invalid(format!("{what} wants a datetime index: call set_index first"))),
        }
    }

    /// Fixed-frequency bins of the index (`"1h"`, `"15min"`, `"D"`):
    /// `agg` of `column` per bin, every bin from the first to the last
    /// (an empty one gives 0 for sums and counts, missing otherwise).
    pub fn resample(&self, freq: &str, column: &str, agg: Agg) -> Result<DataFrame> {
        let index = self.datetime_index("resample")?;
        let step = parse_duration(freq).ok_or_else(|| {
            DataFrameError::Invalid(format!("{freq:?} is not a fixed frequency (\"1h\", \"15min\", \"D\")"))
        })?;
        let bins = col(&index).dt().floor(freq).ok_or_else(|| DataFrameError::Invalid(freq.to_string()))?;
        let grouped = self.groupby(&[bins])?.agg(&[Aggregation::new(col(column), agg)])?;
        let filled = grouped.map_op(
            &format!("fill-bins-{}", Namer::new("fill").input(&grouped.layer).add(&(step as usize)).token()),
            Op::named(&FILL_BINS, FillBinsParams { agg, index, step }.to_value()),
            grouped.columns.clone(),
        );
        Ok(filled)
    }

    /// A rolling `agg` of `column` over the index order (the row order
    /// of a frame without one): windows of the last `window` rows
    /// (`Window::Rows`, full windows only, as pandas' default
    /// `min_periods`) or of the rows within a duration up to each row
    /// (`Window::Time("1h")`, from one row on; this one needs a datetime
    /// index). Missing values are skipped. A new column `name`.
    pub fn rolling(&self, window: &Window, column: &str, agg: Agg, name: &str) -> Result<DataFrame> {
        let index = match window {
            Window::Rows(_) => self.index.as_ref().map(|i| i.column.clone()).unwrap_or_default(),
            Window::Time(_) => self.datetime_index("rolling over a duration")?,
        };
        self.check_column(column)?;
        if !matches!(agg, Agg::Sum | Agg::Mean | Agg::Count | Agg::Min | Agg::Max | Agg::Std | Agg::Var) {
            return Err(DataFrameError::Invalid(format!("rolling {} is not a windowed aggregation", agg.name())));
        }
        let spec =
            Rolling { window: window.resolve()?, index, column: column.to_string(), agg, name: name.to_string() };
        let namer = Namer::new("rolling").input(&self.layer).with(|t| spec.to_value().tokenize(t));
        // Every window task, and every carry task, has the same parameters.
        let window_op = Op::named(&ROLLING, RollingParams::Window { spec: spec.clone() }.to_value());
        let carry_op = Op::named(&ROLLING, RollingParams::Carry { spec: spec.clone() }.to_value());
        let token = namer.token();
        let name_out: Arc<str> = format!("rolling-{token}").into();
        let carry: Arc<str> = format!("rolling-carry-{token}").into();
        let mut tasks = Vec::new();
        let mut previous: Option<Key> = None;
        let mut partitions = Vec::new();
        for (i, k) in self.partitions.iter().enumerate() {
            let mut inputs = vec![r(k.clone())];
            inputs.extend(previous.iter().map(|p| r(p.clone())));
            let out = Key::with_shared_name(&name_out, &[i as u32]);
            tasks.push((out.clone(), Task::new(window_op.clone(), inputs.clone())));
            partitions.push(out);
            if i + 1 < self.npartitions() {
                let next = Key::with_shared_name(&carry, &[i as u32]);
                tasks.push((next.clone(), Task::new(carry_op.clone(), inputs)));
                previous = Some(next);
            }
        }
        let mut columns = self.columns.clone();
        if !columns.contains(&spec.name) {
            columns.push(spec.name.clone());
        }
        let mut out = DataFrame::from_layer(Layer::new(name_out, tasks, vec![self.layer.clone()]), partitions, columns);
        out.index = self.index.clone();
        Ok(out)
    }
}

/// A rolling window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Window {
    /// The last `n` rows.
    Rows(usize),
    /// The rows within a duration (`"1h"`, `"30min"`) up to each row.
    Time(String),
}

kernel_params! {
    /// A rolling window, resolved.
    enum Span {
        /// The last `n` rows.
        Rows { n: usize },
        /// The rows within `us` microseconds up to each row.
        Micros { us: i64 },
    }
}

impl Window {
    fn resolve(&self) -> Result<Span> {
        match self {
            Window::Rows(0) => Err(DataFrameError::Invalid("a rolling window of 0 rows".into())),
            Window::Rows(n) => Ok(Span::Rows { n: *n }),
            Window::Time(t) => parse_duration(t)
                .map(|us| Span::Micros { us })
                .ok_or_else(|| DataFrameError::Invalid(format!("{t:?} is not a duration (\"1h\", \"30min\")"))),
        }
    }
}

kernel_params! {
    /// A rolling aggregation: `agg` of `column` over `window` along the
    /// `index` column (the row order when empty), in a new column `name`.
    struct Rolling {
        window: Span,
        index: String,
        column: String,
        agg: Agg,
        name: String,
    }
}

kernel_params! {
    /// One task of a rolling window's chain over the partitions.
    enum RollingParams {
        /// The windows of a partition's rows (after those carried from
        /// before).
        Window { spec: Rolling },
        /// The rows of a partition (and those carried) a later window may
        /// still need.
        Carry { spec: Rolling },
    }
}

/// The index as microseconds.
fn micros(s: &Series) -> PolarsResult<Vec<Option<i64>>> {
    let us = s.cast(&crate::dates::datetime_type())?;
    Ok(us.to_physical_repr().i64()?.iter().collect())
}

impl Rolling {
    /// The rows of `df` (after `carried` rows from before) a later window
    /// may still need.
    fn carry(&self, df: &PlFrame) -> PolarsResult<PlFrame> {
        Ok(match self.window {
            Span::Rows { n } => df.tail(Some(n.saturating_sub(1))),
            Span::Micros { us: w } => {
                let t = micros(df.column(&self.index)?.as_materialized_series())?;
                let Some(last) = t.iter().rev().flatten().next() else { return Ok(df.clone()) };
                let keep = t.iter().rposition(|x| x.is_some_and(|x| x <= last - w)).map_or(0, |i| i + 1);
                df.slice(keep as i64, df.height() - keep)
            }
        })
    }

    /// The window values of the rows of `df` after the first `skip`.
    fn compute(&self, df: &PlFrame, skip: usize) -> PolarsResult<PlFrame> {
        let values: Vec<Option<f64>> = df
            .column(&self.column)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .map(|v| v.filter(|x| !x.is_nan()))
            .collect();
        let n = values.len();
        // Each row's window: [lo, row].
        let starts: Vec<usize> = match self.window {
            Span::Rows { n: w } => (0..n).map(|i| (i + 1).saturating_sub(w)).collect(),
            Span::Micros { us: w } => {
                let t = micros(df.column(&self.index)?.as_materialized_series())?;
                let mut lo = 0;
                (0..n)
                    .map(|i| {
                        if let Some(ti) = t[i] {
                            while lo < i && t[lo].is_none_or(|tl| tl <= ti - w) {
                                lo += 1;
                            }
                        }
                        lo
                    })
                    .collect()
            }
        };
        let min_periods = match self.window {
            Span::Rows { n: w } => w,
            Span::Micros { .. } => 1,
        };
        let full = |i: usize| match self.window {
            Span::Rows { n: w } => i + 1 >= w,
            Span::Micros { .. } => true,
        };
        let out = window_values(&values, &starts, self.agg, min_periods, &full);
        let mut result = df.slice(skip as i64, n - skip);
        let col = Float64Chunked::from_iter_options(self.name.as_str().into(), out.into_iter().skip(skip));
        let col = if self.agg == Agg::Count { col.into_series().cast(&DataType::Float64)? } else { col.into_series() };
        result.with_column(col.into_column())?;
        Ok(result)
    }
}

/// Sliding-window aggregates: sums and sums of squares added and removed
/// as the window moves, minima and maxima by monotonic queues.
fn window_values(
    v: &[Option<f64>],
    starts: &[usize],
    agg: Agg,
    min_periods: usize,
    full: &dyn Fn(usize) -> bool,
) -> Vec<Option<f64>> {
    let (mut lo, mut count, mut sum, mut sq) = (0usize, 0usize, 0f64, 0f64);
    let mut queue: VecDeque<usize> = VecDeque::new();
    let better = |a: f64, b: f64| if agg == Agg::Min { a <= b } else { a >= b };
    let mut out = Vec::with_capacity(v.len());
    for i in 0..v.len() {
        if let Some(x) = v[i] {
            count += 1;
            sum += x;
            sq += x * x;
            while queue.back().is_some_and(|&j| v[j].is_some_and(|y| better(x, y))) {
                queue.pop_back();
            }
            queue.push_back(i);
        }
        while lo < starts[i] {
            if let Some(x) = v[lo] {
                count -= 1;
                sum -= x;
                sq -= x * x;
            }
            if queue.front() == Some(&lo) {
                queue.pop_front();
            }
            lo += 1;
        }
        let enough = full(i) && (agg == Agg::Count || count >= min_periods.max(1));
        out.push(if !enough {
            None
        } else {
            let n = count as f64;
            match agg {
                Agg::Sum => Some(sum),
                Agg::Count => Some(n),
                Agg::Mean => Some(sum / n),
                Agg::Min | Agg::Max => queue.front().and_then(|&j| v[j]),
                _ if count < 2 => None,
                Agg::Var => Some(((sq - sum * sum / n) / (n - 1.0)).max(0.0)),
                _ => Some(((sq - sum * sum / n) / (n - 1.0)).max(0.0).sqrt()),
            }
        });
    }
    out
}

fn rolling_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let (spec, carry) = match RollingParams::from_value(params)? {
        RollingParams::Window { spec } => (spec, false),
        RollingParams::Carry { spec } => (spec, true),
    };
    let fail = |e: polars::prelude::PolarsError| TaskError::new(format!("rolling {}: {e}", spec.column));
    let (part, carried) = match inputs.as_slice() {
        [p] => (Partition::of(p)?, None),
        [p, c] => (Partition::of(p)?, Some(Partition::of(c)?)),
        _ => return Err(TaskError::new("dataframe.rolling takes a partition and what was carried")),
    };
    let skip = carried.map_or(0, PlFrame::height);
    let mut joined = carried.cloned().unwrap_or_else(|| part.clear());
    if carried.is_some() {
        joined.vstack_mut(part).map_err(fail)?;
    } else {
        joined = part.clone();
    }
    let out = if carry { spec.carry(&joined) } else { spec.compute(&joined, skip) }.map_err(fail)?;
    Ok(Partition(out).into_value())
}

/// Every bin from the first to the last, the missing ones filled.
fn fill_bins(df: &PlFrame, index: &str, step: i64, agg: Agg) -> PolarsResult<PlFrame> {
    let t = micros(df.column(index)?.as_materialized_series())?;
    let (Some(first), Some(last)) = (t.iter().flatten().min().copied(), t.iter().flatten().max().copied()) else {
        return Ok(df.clone());
    };
    let bins: Vec<i64> = (0..=((last - first) / step)).map(|i| first + i * step).collect();
    let dtype = df.column(index)?.dtype().clone();
    let all =
        Int64Chunked::from_vec(index.into(), bins).into_series().cast(&crate::dates::datetime_type())?.cast(&dtype)?;
    let all = PlFrame::new(all.len(), vec![all.into_column()])?;
    let mut args = JoinArgs::new(JoinType::Left);
    args.maintain_order = MaintainOrderJoin::Left;
    let mut out = all.join(df, [index], [index], args, None)?;
    if matches!(agg, Agg::Sum | Agg::Count | Agg::Size) {
        let cols: Vec<Column> = out
            .columns()
            .iter()
            .map(|c| {
                if c.name().as_str() == index {
                    Ok(c.clone())
                } else {
                    let zero = Series::new(c.name().clone(), [0i64]).cast(c.dtype())?;
                    Ok(c.as_materialized_series()
                        .zip_with(&c.is_not_null(), &zero.new_from_index(0, c.len()))?
                        .into_column())
                }
            })
            .collect::<PolarsResult<_>>()?;
        out = PlFrame::new(out.height(), cols)?;
    }
    Ok(out)
}

kernel_params! {
    /// A resampled frame's missing bins filled: every `step`
    /// microseconds of the `index` column, from its first bin to its last.
    struct FillBinsParams {
        /// The bins' aggregation: sums and counts of an empty bin are 0.
        agg: Agg,
        index: String,
        step: i64,
    }
}

fn fill_bins_task(params: &Value, inputs: Vec<Value>) -> TaskResult {
    let FillBinsParams { agg, index, step } = FillBinsParams::from_value(params)?;
    let df = concat(&inputs)?;
    let out = fill_bins(&df, &index, step.max(1), agg).map_err(|e| TaskError::new(format!("resample: {e}")))?;
    Ok(Partition(out).into_value())
}

pub(crate) static ROLLING: NamedFn = NamedFn::new("dataframe.rolling", rolling_task).params::<RollingParams>();
pub(crate) static FILL_BINS: NamedFn = NamedFn::new("dataframe.fill_bins", fill_bins_task).params::<FillBinsParams>();
