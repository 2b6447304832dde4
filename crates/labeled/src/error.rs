//! Errors that name what is at fault: the file, the variable, the
//! dimension or the label.

use std::path::PathBuf;

use blockwork_array::ArrayError;

/// Why a labeled-array operation failed.
#[derive(Debug, thiserror::Error)]
pub enum LabeledError {
    /// A file could not be opened, read or written, or is not valid.
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

/// An error about a file.
pub(crate) fn file_err(path: impl Into<PathBuf>, message: impl ToString) -> LabeledError {
    LabeledError::File { path: path.into(), message: message.to_string() }
}

impl blockwork_graph::Fault for LabeledError {
    /// A file's errors are the user's (a path, or a file that is not
    /// what it claims); the message names the file.
    fn kind(&self) -> blockwork_graph::ErrorKind {
        match self {
            LabeledError::Array(e) => blockwork_graph::Fault::kind(e),
            _ => blockwork_graph::ErrorKind::User,
        }
    }
}
