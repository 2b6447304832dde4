//! The array crate's errors.

use blockwork_graph::GraphError;
use blockwork_local::ComputeError;

/// What can go wrong building or computing an array.
#[derive(Debug, thiserror::Error)]
pub enum ArrayError {
    /// Shapes that do not broadcast, do not match, or do not fit.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// An axis out of range or repeated.
    #[error("bad axis: {0}")]
    Axis(String),
    /// A chunk specification that does not fit the shape.
    #[error("bad chunks: {0}")]
    Chunks(String),
    /// An index or slice out of range.
    #[error("bad index: {0}")]
    Index(String),
    /// An argument with a wrong value.
    #[error("bad argument: {0}")]
    Argument(String),
    /// The system could not read or write a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file that is not what it should be (not a `.npy` file, a
    /// truncated or malformed header, an unsupported dtype).
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The computation failed.
    #[error(transparent)]
    Compute(#[from] ComputeError),
}

impl From<GraphError> for ArrayError {
    fn from(e: GraphError) -> Self {
        ArrayError::Compute(ComputeError::Graph(e))
    }
}

/// Shorthand.
pub type Result<T, E = ArrayError> = std::result::Result<T, E>;

impl blockwork_graph::Fault for ArrayError {
    fn kind(&self) -> blockwork_graph::ErrorKind {
        use blockwork_graph::ErrorKind::*;
        match self {
            ArrayError::Shape(_)
            | ArrayError::Axis(_)
            | ArrayError::Chunks(_)
            | ArrayError::Index(_)
            | ArrayError::Argument(_)
            | ArrayError::File { .. } => User,
            // A path that does not exist is the user's; a file the
            // system cannot read, the environment's.
            ArrayError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => User,
            ArrayError::Io { .. } => Environment,
            ArrayError::Compute(e) => blockwork_graph::Fault::kind(e),
        }
    }
}
