//! Many nodes at once, pdsh-style. The single-node lifecycle (create, wait,
//! exec, delete) is the unit of work, run `fanout` at a time. What a run
//! shares makes it cheap at 5,000 nodes: one watch for all its pods, and
//! deletions gathered into few requests by the run's label.
//!
//! A run produces events (created, running, a line of output, finished);
//! how they look is the printer's business, in the binary.
//!
//! - [`spec`]: what a run is asked to do, its events and its report.
//! - [`run()`]: the driver, with each node's part of it (in `run.rs`).
//! - `lines`: a node's output passed on line by line (also the writers of
//!   a captured session whose output is judged line by line: `toolbox
//!   logs`' fallback pod).
//! - `deletions`: finished pods deleted in batches, the run's deletion at
//!   its end, and the guard that deletes the run's pods on every exit path.
//! - `pace`: how many creates are in flight at once, fewer while the API
//!   server pushes back (429, 503 with Retry-After).
//! - `streamless`: a node whose command is its container's own process,
//!   followed through the run's watch to its terminated state, its output
//!   read from the termination message (or, when longer, the log).
//!
//! run uses lines, deletions, pace, streamless and spec; streamless uses run's
//! shared state and lines; lines and deletions use spec only.

mod deletions;
mod lines;
mod pace;
mod run;
pub mod spec;
mod streamless;

pub use lines::{LineSink, LineSplitter};
pub use run::{not_run_reason, run};
pub use spec::{
    FanoutEvents, FanoutReport, FanoutSpec, INTERRUPTED, LeftRun, NOT_STARTED, NodeOutcome,
    NodeSession, NodeWork, OUTPUT_FROM_LOG, OutputStream, PaceChange, RUN_LABEL, SLOT_LABEL,
};
