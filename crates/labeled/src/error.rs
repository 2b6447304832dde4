//! Errors that name what is at fault: the file, the variable, the
//! dimension or the label.

use std::path::PathBuf;

use blockwork_array::ArrayError;

/// Why a labeled-array operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LabeledError {
    /// The system or the object store could not open, read or write a
    /// file. What is not there (a file, a store, a glob's match) has
    /// `source.kind()` `NotFound`, which Python raises as
    /// `FileNotFoundError`.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file that is not what it should be (corrupt metadata, a variable
    /// it lacks, a grid that does not fit the others), or cannot be
    /// written as asked.
    #[error("{}: {message}", path.display())]
    File {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A variable that is not in the dataset.
    #[error("no variable `{name}` in {within}")]
    MissingVariable {
        /// The variable asked for.
        name: String,
        /// Where it was looked for (a file, or "the dataset").
        within: String,
    },
    /// A dimension that does not exist, or dimensions that do not fit.
    #[error("{0}")]
    Dim(String),
    /// A label that is not in a coordinate, or a malformed one.
    #[error("{0}")]
    Label(String),
    /// Coordinates that do not agree (grids of different files, operands
    /// of an arithmetic operation).
    #[error("{0}")]
    Coords(String),
    /// An error of the underlying chunked arrays.
    #[error(transparent)]
    Array(#[from] ArrayError),
}

/// Result of labeled-array operations.
pub type Result<T, E = LabeledError> = std::result::Result<T, E>;

/// The system's error reading or writing a file.
pub(crate) fn io_err(path: impl Into<PathBuf>, source: std::io::Error) -> LabeledError {
    LabeledError::Io { path: path.into(), source }
}

/// A file's error met while computing: the file was there and read when
/// the graph was built, so the system failing to read it now is the
/// environment's fault; other errors keep their kind.
pub(crate) fn task_err(e: LabeledError) -> blockwork_graph::TaskError {
    match e {
        LabeledError::Io { .. } => blockwork_graph::TaskError::environment(e),
        e => blockwork_graph::TaskError::of(&e),
    }
}

/// A file, a store or a glob's match that is not there: an I/O error of
/// kind `NotFound`, so that every caller tells it apart the same way.
pub(crate) fn not_found(path: impl Into<PathBuf>, message: &str) -> LabeledError {
    io_err(path, std::io::Error::new(std::io::ErrorKind::NotFound, message))
}

/// What is wrong with a file.
pub(crate) fn file_err(path: impl Into<PathBuf>, message: impl ToString) -> LabeledError {
    LabeledError::File { path: path.into(), message: message.to_string() }
}

impl blockwork_graph::Fault for LabeledError {
    /// A path that does not exist and a file that is not what it claims
    /// are the user's; a file the system cannot read is the
    /// environment's. The message names the file.
    fn kind(&self) -> blockwork_graph::ErrorKind {
        match self {
            LabeledError::Array(e) => blockwork_graph::Fault::kind(e),
            LabeledError::Io { source, .. } if source.kind() != std::io::ErrorKind::NotFound => {
                blockwork_graph::ErrorKind::Environment
            }
            _ => blockwork_graph::ErrorKind::User,
        }
    }
}
