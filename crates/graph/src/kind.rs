//! The kinds of the graph crate's errors (the vocabulary itself is
//! `blockwork-error`'s, shared by every crate, re-exported here).

pub use blockwork_error::{ErrorKind, Fault};

impl Fault for crate::GraphError {
    fn kind(&self) -> ErrorKind {
        use crate::GraphError::*;
        match self {
            MissingDependency { .. } | Cycle { .. } | UnknownKey(_) => ErrorKind::User,
            DotNotFound(_) | DotFailed { .. } | Io { .. } => ErrorKind::Environment,
        }
    }
}

impl Fault for crate::TaskError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl Fault for crate::ValueTypeError {
    /// A value of another type than asked for: the caller asked for the
    /// wrong type.
    fn kind(&self) -> ErrorKind {
        ErrorKind::User
    }
}

impl Fault for crate::CodecError {
    /// Bytes a codec cannot read: a peer's bug, or one built differently.
    fn kind(&self) -> ErrorKind {
        ErrorKind::Internal
    }
}
