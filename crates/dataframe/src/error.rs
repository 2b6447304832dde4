//! What goes wrong, naming the file, the column or the key at fault.

use blockwork_graph::GraphError;
use blockwork_local::ComputeError;
use polars::prelude::PolarsError;

/// A dataframe operation's error.
#[derive(Debug, thiserror::Error)]
pub enum DataFrameError {
    /// A file or object that is not there: a pattern that matches
    /// nothing, a path or key that does not exist.
    #[error("{0}")]
    Missing(String),
    /// A file or object that is there but cannot be read: permissions,
    /// an I/O error, an object store's refusal.
    #[error("{path}: {source}")]
    Unreadable {
        /// The file, object or pattern.
        path: String,
        /// What the system or the store said.
        source: std::sync::Arc<std::io::Error>,
    },
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

impl DataFrameError {
    /// Reading `path` failed: missing when the file system or the store
    /// says it is not there, unreadable otherwise.
    pub(crate) fn io(path: &str, e: impl Into<std::sync::Arc<std::io::Error>>) -> DataFrameError {
        let source = e.into();
        match source.kind() {
            std::io::ErrorKind::NotFound => DataFrameError::Missing(format!("{path}: {source}")),
            _ => DataFrameError::Unreadable { path: path.to_string(), source },
        }
    }

    /// Parsing `path` failed: its I/O errors as [`DataFrameError::io`],
    /// the rest (a corrupt file, a file of another format) the input's
    /// fault, naming the file.
    pub(crate) fn parsing(path: &str, e: PolarsError) -> DataFrameError {
        match e {
            PolarsError::IO { error, .. } => DataFrameError::io(path, error),
            other => DataFrameError::Invalid(format!("{path}: {other}")),
        }
    }
}

/// This crate's result.
pub type Result<T> = std::result::Result<T, DataFrameError>;

impl blockwork_graph::Fault for DataFrameError {
    fn kind(&self) -> blockwork_graph::ErrorKind {
        use blockwork_graph::ErrorKind::*;
        match self {
            DataFrameError::Missing(_) | DataFrameError::NoColumn { .. } | DataFrameError::Invalid(_) => User,
            DataFrameError::Unreadable { .. } => Environment,
            DataFrameError::Polars(PolarsError::IO { .. }) => Environment,
            DataFrameError::Polars(_) => User,
            // A task gave something else than a frame: a bug of ours.
            DataFrameError::Partition(_) => Internal,
            DataFrameError::Graph(e) => blockwork_graph::Fault::kind(e),
            DataFrameError::Compute(e) => blockwork_graph::Fault::kind(e),
        }
    }
}
