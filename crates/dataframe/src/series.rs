//! A Series: one column of a dataframe, an expression of its columns
//! evaluated partition by partition, and its reductions (lazy
//! [`Scalar`]s, as dask's are).

use polars::prelude::Series as PlSeries;

use crate::agg::{Agg, Aggregation};
use crate::error::{DataFrameError, Result};
use crate::expr::Expr;
use crate::frame::DataFrame;
use crate::lit::Lit;
use crate::ops::Step;

/// A column of a dataframe: `expr` over the partitions of `frame`.
#[derive(Clone, Debug)]
pub struct Series {
    frame: DataFrame,
    expr: Expr,
}

impl Series {
    pub(crate) fn new(frame: DataFrame, expr: Expr) -> Self {
        Series { frame, expr }
    }

    /// The frame it is a column of.
    pub(crate) fn frame(&self) -> &DataFrame {
        &self.frame
    }

    /// The expression it evaluates.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Its name.
    pub fn name(&self) -> String {
        self.expr.name().to_string()
    }

    /// Another expression over the same frame (`s.map(|e| e * 2)`).
    pub fn map(&self, f: impl FnOnce(Expr) -> Expr) -> Series {
        Series::new(self.frame.clone(), f(self.expr.clone()))
    }

    /// As a one-column dataframe.
    pub fn to_frame(&self) -> Result<DataFrame> {
        self.frame.select(std::slice::from_ref(&self.expr))
    }

    /// Computes it into one Polars Series.
    pub fn compute(&self) -> Result<PlSeries> {
        let df = self.to_frame()?.compute()?;
        Ok(df.columns().first().map(|c| c.as_materialized_series().clone()).unwrap_or_default())
    }

    /// `agg` of its values.
    pub fn agg(&self, agg: Agg) -> Result<Scalar> {
        Scalar::reduce(&self.frame, Vec::new(), vec![Aggregation::new(self.expr.clone(), agg)])
    }

    /// Sum.
    pub fn sum(&self) -> Result<Scalar> {
        self.agg(Agg::Sum)
    }
    /// Mean of the present values.
    pub fn mean(&self) -> Result<Scalar> {
        self.agg(Agg::Mean)
    }
    /// Smallest value.
    pub fn min(&self) -> Result<Scalar> {
        self.agg(Agg::Min)
    }
    /// Largest value.
    pub fn max(&self) -> Result<Scalar> {
        self.agg(Agg::Max)
    }
    /// Number of present values.
    pub fn count(&self) -> Result<Scalar> {
        self.agg(Agg::Count)
    }
    /// Sample standard deviation.
    pub fn std(&self) -> Result<Scalar> {
        self.agg(Agg::Std)
    }
    /// Sample variance.
    pub fn var(&self) -> Result<Scalar> {
        self.agg(Agg::Var)
    }
    /// Number of distinct present values (exact).
    pub fn nunique(&self) -> Result<Scalar> {
        self.agg(Agg::NUnique)
    }

    /// Rows per distinct value, most frequent first (ties by value): a
    /// frame of the value column and `count`.
    pub fn value_counts(&self) -> Result<DataFrame> {
        let counted = self.frame.groupby(std::slice::from_ref(&self.expr))?.agg(&[Aggregation::new(
            crate::expr::lit(0),
            Agg::Size,
        )
        .named("count")])?;
        // A step, not a closure: it runs on any worker.
        counted
            .step("value-counts", Step::Sort { by: vec!["count".into(), self.name()], descending: vec![true, false] })
    }
}

/// A lazy single value: the result of a reduction.
#[derive(Clone, Debug)]
pub struct Scalar {
    frame: DataFrame,
}

impl Scalar {
    /// Reduces `df` by `aggs` over all rows (no keys).
    pub(crate) fn reduce(df: &DataFrame, keys: Vec<Expr>, aggs: Vec<Aggregation>) -> Result<Scalar> {
        Ok(Scalar { frame: crate::groupby::reduce(df, &keys, &aggs, 1)? })
    }

    pub(crate) fn from_frame(frame: DataFrame) -> Scalar {
        Scalar { frame }
    }

    /// As a one-row, one-column dataframe.
    pub fn to_frame(&self) -> &DataFrame {
        &self.frame
    }

    /// Computes it on this machine's threads.
    pub fn compute(&self) -> Result<Lit> {
        let df = self.frame.compute()?;
        let col = df.columns().first().ok_or_else(|| DataFrameError::Partition("a reduction made no column".into()))?;
        Ok(Lit::from_any(&col.get(0)?))
    }
}
