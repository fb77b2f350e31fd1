//! `toolbox logs`: a node's service journals and log files, without a root
//! shell (docs/logs.md). The least-privileged way first:
//!
//! 1. **Plan** ([`plan`]): ask each node's kubelet, through the API
//!    server's proxy, how it would serve each log ([`query::probe_unit`]:
//!    the node log query with `tailLines=0`, which returns no line). Its
//!    answer says whether a unit is in the journal, kept as a file, or
//!    whether the query is off, refused or not there at all
//!    ([`answer`], pure).
//! 2. **The node log query** ([`query`]): no pod. A journal is read with
//!    the kubelet's options; a file raw (`/logs/FILE`), through toolbox's
//!    own filters ([`lines`], pure), as the kubelet applies none to it.
//!    `-f` asks again every second.
//! 3. **Otherwise a short-lived pod** ([`pod`]): pkg/podtemplate's
//!    `node_logs_pod` through the session lifecycle (`run_captured` for one
//!    node, the fan-out driver for many), its output judged line by line.
//!
//! The drivers ([`run`]): [`read_node_logs`] for one node, [`run_logs`] for
//! many. Each says in one line which way each node was read and why.

pub mod answer;
pub mod lines;
mod plan;
mod pod;
mod query;
mod request;
mod run;

pub use query::probe_unit;
pub use request::{FOLLOW_TAIL, LogRequest, PodReason, Source, pod_line, query_line};
pub use run::{LogsRun, PodFor, read_node_logs, run_logs};
