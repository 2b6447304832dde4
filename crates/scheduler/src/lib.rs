//! The distributed scheduler of blockwork, as a sans-IO state machine.
//!
//! A cluster is one scheduler, many workers and some clients. Clients
//! submit task graphs and want some of their keys; the scheduler decides
//! which worker runs each task and when; workers run tasks, fetch inputs
//! directly from each other, and hold results until told to free them.
//! This crate is the scheduler's brain and nothing else: it never opens a
//! socket, reads a clock or spawns a thread. Events go in as calls to the
//! functions of [`reactor`], with the current time where it matters;
//! messages come out through the [`Comm`] port. The runtime wraps it in
//! tokio; tests and the simulation drive it directly, deterministically.
//!
//! ```text
//!  clients ──update / release / cancel──▶ ┌──────────────────────────┐ ──compute / free / steal──▶ workers
//!  workers ──finished / erred / lost ───▶ │ reactor::on_*(core, …)   │
//!  timer   ──tick(now) ─────────────────▶ │   Core: tasks, workers,  │ ──in memory / erred / lost──▶ clients
//!                                         │   clients, queue         │         (through impl Comm)
//!                                         └──────────────────────────┘
//! ```
//!
//! # Shape
//!
//! - [`Core`] holds the state: a slab of tasks indexed by dense
//!   [`TaskId`]s (keys are interned once per graph update), workers and
//!   clients by [`WorkerId`] / [`ClientId`]. Each task's state is an enum
//!   whose variants carry their data (the worker of a processing task,
//!   the holders of a result, the error of a failed one); see the
//!   crate's `README.md` for the states and the table of legal
//!   transitions.
//! - Split by concept: `transitions` (needed/released/forgotten, memory,
//!   errors), `placement` (which worker), `queue` (root-task queuing),
//!   `stealing` (rebalancing), `failure` (workers and data lost), `update`
//!   (checking and applying graph updates), `adaptive` (how many workers
//!   the work calls for), `retire` (workers leaving without losing
//!   results), [`reactor`] (the events); beside the core, [`Coord`]
//!   holds the coordination primitives (variables, queues, locks,
//!   events, semaphores).
//! - Every event settles the tasks it touched through one work list, so
//!   long chains never recurse, then places the ready tasks in priority
//!   order.
//!
//! # Invariants
//!
//! Checked by [`Core::sanity_check`], which tests call after every event:
//!
//! - a task exists while a client wants it or a known task depends on it;
//!   otherwise it is forgotten;
//! - a task is *needed* when a client wants it or a dependent is active
//!   (waiting, queued, no-worker, processing); a needed task is never
//!   released, and an unneeded one is neither active nor in memory;
//! - a waiting task misses at least one input; a queued, no-worker or
//!   processing task has all of its inputs in memory and none erred;
//! - a processing task is on exactly one running worker, whose
//!   occupancy and used resources are the sums over its tasks, never
//!   more resources than it has; a result in memory is on at least one
//!   running worker, and each worker's holdings mirror the holders;
//! - while roots are queued, no worker has room for one;
//! - no no-worker task could run on any worker.
//!
//! # Errors
//!
//! A malformed graph update (unknown dependency, cycle, duplicate key,
//! bad resource amount) is a [`SchedError`] that names the key, and
//! changes nothing. Stale or surprising messages from workers are
//! expected in a distributed system and handled, never errors. A broken
//! invariant is a bug and panics in `sanity_check`.

mod adaptive;
mod client;
mod comm;
mod config;
mod coord;
mod core;
mod durations;
mod error;
mod failure;
mod ids;
mod legal;
mod placement;
mod queue;
pub mod reactor;
mod replicate;
mod resources;
mod retire;
mod scatter;
mod stealing;
mod task;
mod transitions;
mod update;
mod worker;

pub use crate::adaptive::AdaptiveTarget;
pub use crate::comm::{Comm, ComputeTask, DepInfo, Holder, Recorder, Sent, ToClient, ToWorker};
pub use crate::config::Config;
pub use crate::coord::{Coord, CoordOp, CoordOut, CoordReply, Held, Owner};
pub use crate::core::{Core, GraphSnapshot};
pub use crate::error::SchedError;
pub use crate::ids::{ClientId, KeyHasher, StealId, TaskId, WorkerId};
pub use crate::legal::{side_name, StateKind, Transitions};
pub use crate::replicate::Move;
pub use crate::retire::{Retirement, MOVE_TIMEOUT};
pub use crate::stealing::StealOutcome;
pub use crate::task::{FailureKind, Payload, Priority, TaskFailure, TaskStateKind};
pub use crate::update::{GraphUpdate, TaskSpec};
pub use crate::worker::{bare_address, MemoryReport, WorkerInfo, WorkerSpec};
