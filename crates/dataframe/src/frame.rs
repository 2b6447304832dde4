//! The collection: a DataFrame made of Polars partitions.

use std::sync::Arc;

use blockwork_graph::layer::{collect, Layer};
use blockwork_graph::TaskError;
use blockwork_graph::{Graph, Key, Value};
use blockwork_local::Config;
use polars::prelude::{DataFrame as PlFrame, IntoLazy, LazyFrame, UnionArgs};

use crate::error::{DataFrameError, Result};
use crate::partition::Partition;

/// A lazy dataframe: `npartitions` Polars DataFrames with the same
/// columns, the results of tasks of `layer` (which may hold more tasks:
/// a reduction's tree).
#[derive(Clone, Debug)]
pub struct DataFrame {
    pub(crate) layer: Arc<Layer>,
    pub(crate) partitions: Vec<Key>,
    pub(crate) columns: Vec<String>,
}

impl DataFrame {
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
}

/// Concatenates partitions vertically, in order.
pub(crate) fn assemble(values: &[Value]) -> Result<PlFrame> {
    if values.is_empty() {
        return Ok(PlFrame::empty());
    }
    let lf = concat(values).map_err(|e| DataFrameError::Partition(e.message))?;
    Ok(lf.collect()?)
}

/// Partitions (task values) stacked in order, lazily.
pub(crate) fn concat(values: &[Value]) -> std::result::Result<LazyFrame, TaskError> {
    let frames: Vec<LazyFrame> =
        values.iter().map(|v| Partition::of(v).map(|df| df.clone().lazy())).collect::<std::result::Result<_, _>>()?;
    polars::prelude::concat(frames, UnionArgs::default()).map_err(|e| TaskError::new(e.to_string()))
}
