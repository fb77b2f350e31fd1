//! toolbox's cluster side: everything between a parsed command line and
//! the API server. The binary parses, prints and maps errors to exit codes;
//! this crate does the work, in wings that only ever use the wings below
//! them:
//!
//! ```text
//!   dump/       toolbox dump: a bundle from many nodes (spec, caps, redaction, index)
//!        |
//!   inspect/    compare's questions to the cluster     leftovers   cleanup's finding and deleting
//!   recordings/ toolbox sessions: live logs, a node's files (reader pod)
//!        \                                                 |
//!   nodelogs/   toolbox logs: the node log query, else a fallback pod
//!        |
//!   session/    the session lifecycle: create, start, exec, end; one session,
//!        |      a reused --persist session, a fan-out run
//!   nodes/      node lookup, node sets, a run's targets
//!        |
//!   client/     context, credentials, transport, exec streams, cache, versions
//!        |
//!   input/      values refused for their shape, before any request
//!
//!   leaves, used by every wing: error, signals, terminal, steps
//! ```
//!
//! Each wing's `mod.rs` maps its own parts. `docs/architecture.md` draws
//! the whole project.

pub mod client;
pub mod dump;
pub mod error;
pub mod input;
pub mod inspect;
pub mod leftovers;
pub mod nodelogs;
pub mod nodes;
pub mod recordings;
pub mod session;
pub mod signals;
pub mod steps;
pub mod terminal;

pub use client::context::{ClusterContext, ConnectOptions, load_kubeconfig};
pub use error::{Action, ClusterError, ErrorKind, LeftPod, Result, error_chain};
pub use input::names::{
    InvalidName, NameKind, parse_node_arg, validate_context_name, validate_namespace,
    validate_node_name,
};
pub use leftovers::{Deletion, Leftover, LeftoverFilter, Tool, classify};
pub use nodes::{
    NodeRow, TargetNode, aligned_lines, closest, fill_label_columns, node_os_facts, node_readiness,
    node_rows,
};
pub use session::podsecurity::{Level, required_level};
pub use session::{PodGuard, Progress, SessionOutcome, SessionSpec, Silent, WaitState};
pub use signals::Signal;
