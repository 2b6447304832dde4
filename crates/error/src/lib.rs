//! Whose fault an error is.
//!
//! Every public error type of blockwork says, through [`Fault::kind`],
//! which of three things went wrong — the split DataFusion makes between
//! user, runtime and internal errors:
//!
//! - [`ErrorKind::User`]: the input — a graph with a cycle, shapes that do
//!   not match, a malformed option, a file that is not what it claims, a
//!   user's function that failed. Fixed by changing the call.
//! - [`ErrorKind::Environment`]: the world around the program — a file
//!   system, a network, a lost worker, a machine out of threads. The same
//!   call may work when the world is right.
//! - [`ErrorKind::Internal`]: a bug of blockwork's (or two processes built
//!   from different sources) — a kernel given parameters it cannot read,
//!   a panic. Worth a report.
//!
//! A program decides from the kind whether to retry (environment), tell
//! its user (user) or report a bug (internal); the message names the
//! thing at fault in each case.

use std::fmt;

/// Whose fault an error is (see the [crate](crate) docs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum ErrorKind {
    /// The caller's input or function.
    #[default]
    User,
    /// The environment: files, network, workers, the machine.
    Environment,
    /// A bug of blockwork's.
    Internal,
}

impl ErrorKind {
    /// Its name: `user`, `environment` or `internal`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::User => "user",
            ErrorKind::Environment => "environment",
            ErrorKind::Internal => "internal",
        }
    }

    /// Its code on the wire.
    pub fn code(self) -> u8 {
        match self {
            ErrorKind::User => 0,
            ErrorKind::Environment => 1,
            ErrorKind::Internal => 2,
        }
    }

    /// The kind of a wire code.
    pub fn from_code(c: u8) -> Option<ErrorKind> {
        match c {
            0 => Some(ErrorKind::User),
            1 => Some(ErrorKind::Environment),
            2 => Some(ErrorKind::Internal),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error that knows whose fault it is.
pub trait Fault: std::error::Error {
    /// Whose fault it is.
    fn kind(&self) -> ErrorKind;
}
