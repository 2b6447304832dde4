//! Cancelling a running computation from another thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A shared flag; once set, schedulers start no new task and the run
/// returns [`crate::ComputeError::Cancelled`]. Tasks already running finish
/// first (a task is never interrupted halfway).
#[derive(Clone, Default, Debug)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every run holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
