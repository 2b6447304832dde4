//! The distributed worker of blockwork, as a sans-IO state machine.
//!
//! A worker runs the tasks the scheduler gives it, fetches their inputs
//! directly from the peers holding them, holds results until the
//! scheduler frees them, and serves them to peers. This crate is the
//! worker's brain and nothing else: it never opens a socket, reads a
//! clock or spawns a thread. Events go in ([`Event`], or the `on_*`
//! methods of [`WorkerState`]), with the current time where it matters;
//! what must happen comes out through the [`Port`]: messages to the
//! scheduler ([`ToScheduler`]) and instructions to the runtime
//! ([`Instruction`]: run a task, fetch from a peer, send data, drop a
//! value). The runtime owns the values, the threads and the connections;
//! tests and simulations drive the state machine directly.
//!
//! ```text
//!  scheduler ──Compute / FreeKeys / CancelCompute / StealRequest──▶ ┌───────────────────┐ ──finished / erred / fetch failed──▶ scheduler
//!  runtime   ──task finished / erred (thread done)───────────────▶ │ WorkerState       │   steal response / add keys
//!  runtime   ──fetch done / failed / peer busy (transfer done)───▶ │  tasks, ready     │
//!  peers     ──data requested / data sent────────────────────────▶ │  queue, fetch     │ ──execute / fetch / send data──────▶ runtime
//!  timer     ──tick(now)─────────────────────────────────────────▶ │  queues, transfers│   busy / drop data
//!                                                                   └───────────────────┘
//! ```
//!
//! The scheduler's messages are its own types ([`blockwork_scheduler::ToWorker`]);
//! each [`ToScheduler`] variant is what one of its `reactor::on_*`
//! functions consumes, so a runtime only has to route.
//!
//! # Shape
//!
//! - [`WorkerState`] holds a slab of keys (`state.rs`): tasks to run and
//!   inputs to fetch alike, each with a state enum whose variants carry
//!   their data (the run of a task, the peer a value is coming from).
//!   The crate's `README.md` has the states, the table of legal
//!   transitions and a diagram.
//! - Split by concept: `compute.rs` (the scheduler's requests, the ready
//!   queue, the threads), `fetch.rs` (the fetch queues and transfers,
//!   failures and busy peers).
//! - Every event ends by starting what may start: ready tasks while
//!   threads are free (most urgent first), transfers while slots are free.
//!
//! # Invariants
//!
//! Checked by [`WorkerState::sanity_check`], which tests call after every
//! event:
//!
//! - at most `nthreads + pipeline` tasks hold a thread or a place in the
//!   pool's queue (executing or cancelled), and none of those places is
//!   free while a task is ready;
//! - a ready task has every input in memory and is in the ready queue; a
//!   waiting one misses exactly `missing` (> 0) inputs;
//! - each task to run is a dependent of each of its inputs, and every
//!   input not in memory has only waiting dependents;
//! - a key to fetch has dependents and holders, and is queued under each
//!   holder; a key in flight is part of exactly one transfer; at most
//!   `max_concurrent_fetches` transfers, one per peer; no free slot while
//!   a key to fetch has an idle holder;
//! - a value in memory is held for the scheduler or for local
//!   dependents, and managed memory is the sum of their sizes;
//! - this worker is never among the holders it fetches from.
//!
//! Stale and surprising events (a cancel after a finish, a transfer's
//! answer after a failure) are expected and handled, never errors. The
//! only error is a bad [`Config`].

mod compute;
mod config;
mod error;
mod event;
mod fetch;
mod port;
mod state;
mod task;

pub use crate::config::Config;
pub use crate::error::WorkerError;
pub use crate::event::Event;
pub use crate::port::{Erred, Finished, Instruction, Out, Port, Recorder, ToScheduler};
pub use crate::state::WorkerState;
pub use crate::task::TaskStateKind;
