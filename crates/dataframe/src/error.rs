//! What goes wrong, naming the file, the column or the key at fault.

use blockwork_graph::GraphError;
use blockwork_local::ComputeError;
use polars::prelude::PolarsError;

/// A dataframe operation's error.
#[derive(Debug, thiserror::Error)]
pub enum DataFrameError {
    /// A file pattern matched nothing, or a directory could not be read.
    #[error("{0}")]
    Files(String),
    /// A column that is not in the frame.
    #[error("no column {column:?}; the columns are {columns:?}")]
    NoColumn {
        /// The column asked for.
        column: String,
        /// The columns there are.
        columns: Vec<String>,
    },
    /// An argument that cannot work (no keys, no aggregation).
    #[error("{0}")]
    Invalid(String),
    /// Polars refused (a parse error, a type mismatch), with its message.
    #[error("{0}")]
    Polars(#[from] PolarsError),
    /// A partition was not a dataframe.
    #[error("{0}")]
    Partition(String),
    /// Building the graph failed.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A task failed while computing (its key and message).
    #[error(transparent)]
    Compute(#[from] ComputeError),
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, DataFrameError>;
