//! The harness every e2e test uses (`tests/e2e/main.rs` is the suite). A
//! test reaches it through the names re-exported here; the modules are:
//!
//! - [`cluster`]: the local cluster (found through `TOOLBOX_E2E_CLUSTER` or
//!   `target/cluster`, or started), its real node, clients, the clusters a
//!   test starts of its own, and the stand-in and audit logs.
//! - [`sharing`]: who may use that cluster at once: tests hold it shared,
//!   and the few that disturb all of it hold it whole.
//! - [`namespaces`]: [`TestNs`], one test's namespace, nodes, grants and
//!   commands, and its check that no toolbox pod is left. It holds the
//!   cluster shared and is built on `cluster` and `processes`.
//! - [`pods`]: waiting for pods and nodes, exec into a pod, and the pods of
//!   other tools (kubectl-node-shell).
//! - [`processes`]: toolbox as a process: the binary, its environment,
//!   signals, deadlines, output as text.
//! - [`sessions`]: a toolbox session watched or broken mid-way, and checks
//!   on what a session printed; it uses `processes` and `fault_proxy`.
//! - [`pty`]: toolbox on a pseudo-terminal (expectrl), for prompts, pickers
//!   and interactive shells.
//! - [`fault_proxy`]: a TCP proxy that cuts, refuses, silences or slows the
//!   link to the API server.

pub mod cluster;
pub mod fault_proxy;
pub mod namespaces;
pub mod pods;
pub mod processes;
pub mod pty;
pub mod sessions;
pub mod sharing;

pub use cluster::*;
pub use fault_proxy::FaultProxy;
pub use namespaces::*;
pub use pods::*;
pub use processes::*;
pub use pty::*;
pub use sessions::*;
pub use sharing::*;
