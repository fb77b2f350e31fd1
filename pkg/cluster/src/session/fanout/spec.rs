//! What a fan-out run is asked to do, the events it reports as it goes,
//! and how it ended.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

pub use super::pace::PaceChange;
use crate::error::ClusterError;
use crate::signals::Signal;

/// The label every pod of one run carries, with the run's id.
pub const RUN_LABEL: &str = "toolbox.dev/run";
/// The pod's place in its run, so that finished pods are deleted by label.
pub const SLOT_LABEL: &str = "toolbox.dev/slot";

/// What one node of the run runs.
#[derive(Debug, Clone)]
pub struct NodeSession {
    pub pod: Pod,
    pub container: String,
    pub work: NodeWork,
}

/// How a node's command runs in its pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeWork {
    /// Exec'd into the pod's holder, its output streamed back.
    Exec(Vec<String>),
    /// The container's own process (podtemplate's `streamless_pod`), its
    /// exit code and output reported in the pod's status: no stream.
    OwnProcess,
}

/// A remark on how a node's output came back, for the node's result: the
/// output was longer than a termination message holds.
pub const OUTPUT_FROM_LOG: &str = "output read from the container log";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// The reason of a node the run never started, having stopped first.
pub const NOT_STARTED: &str = "not started";
/// The reason of a node whose command the run stopped while it ran.
pub const INTERRUPTED: &str = "interrupted";

/// How one node's part of a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeOutcome {
    /// The command ran and exited with this status.
    Exited(i32),
    /// The command did not run, or how it ended is unknown: a short reason
    /// to group nodes by ("ImagePullBackOff", "start timeout"), and the
    /// whole message.
    NotRun { reason: String, message: String },
}

impl NodeOutcome {
    /// The run stopped (a signal, or an error that concerns every node)
    /// before or while this node ran: nothing about the node itself.
    pub fn stopped_by_run(&self) -> bool {
        matches!(self, NodeOutcome::NotRun { reason, .. } if reason == NOT_STARTED || reason == INTERRUPTED)
    }
}

/// Receives a run's events as they happen. Calls come from one task, one
/// at a time; printers implement this.
pub trait FanoutEvents: Send + Sync {
    /// The node's pod exists.
    fn created(&self, _node: &str) {}
    /// The node's command is starting.
    fn running(&self, _node: &str) {}
    /// One line of the node's output, without its newline.
    fn line(&self, node: &str, stream: OutputStream, line: &[u8]);
    fn finished(&self, node: &str, outcome: &NodeOutcome);
    /// A remark on the node's result, before it finishes: how its output
    /// came back when that changes what it shows.
    fn remark(&self, _node: &str, _remark: &str) {}
    /// A line about the whole run, once, before its output.
    fn note(&self, _line: &str) {}
    /// The run sends this many creates at once now, of its width: fewer
    /// while the API server pushes back.
    fn paced(&self, _change: PaceChange) {}
}

/// One command on many nodes.
pub struct FanoutSpec<'a> {
    /// Labels the run's pods, so that they are watched and deleted together.
    pub run_id: String,
    pub nodes: Vec<String>,
    /// The pod and command for `nodes[i]`, or why there is none.
    pub session_for: &'a (dyn Fn(usize) -> std::result::Result<NodeSession, String> + Sync),
    /// How many nodes run at once.
    pub fanout: usize,
    pub start_timeout: Duration,
    /// How long a command may run before its node is given up on.
    pub command_timeout: Option<Duration>,
    /// What the pods are for, in messages: "node-shell".
    pub what: String,
    /// Whether the run sends fewer creates at once while the API server
    /// pushes back (the default); false keeps `fanout` whatever it says.
    pub back_off: bool,
}

/// How a run ended.
#[derive(Debug)]
pub struct FanoutReport {
    /// One per node, in the order of [`FanoutSpec::nodes`].
    pub outcomes: Vec<NodeOutcome>,
    /// The signal that stopped the run early.
    pub interrupted: Option<Signal>,
    /// An error that concerns every node (PodSecurity, RBAC, a missing
    /// namespace): the run stopped at the first one.
    pub aborted: Option<ClusterError>,
    /// The run's pods could not all be deleted.
    pub left: Option<LeftRun>,
}

impl FanoutReport {
    /// The report of a run that `signal` stopped before any of its `nodes`
    /// started: each is not started, and nothing was created.
    pub fn stopped_before_start(nodes: usize, signal: Signal) -> FanoutReport {
        FanoutReport {
            outcomes: vec![
                NodeOutcome::NotRun {
                    reason: NOT_STARTED.into(),
                    message: format!("interrupted by {signal}"),
                };
                nodes
            ],
            interrupted: Some(signal),
            aborted: None,
            left: None,
        }
    }
}

/// A run whose pods toolbox could not delete, with how to remove them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftRun {
    pub namespace: String,
    pub run_id: String,
    pub reason: String,
    /// The connection flags the hints repeat (" --context prod").
    pub flags: String,
}

impl std::fmt::Display for LeftRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LeftRun {
            namespace,
            run_id,
            reason,
            flags,
        } = self;
        write!(
            f,
            "could not delete the run's pods in namespace {namespace} ({reason}); they stop by themselves when their --ttl runs out; remove them now with: kubectl delete pods -n {namespace}{flags} -l {RUN_LABEL}={run_id} (or toolbox cleanup{flags})"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_left_run_says_how_to_remove_its_pods() {
        let left = LeftRun {
            namespace: "ops".into(),
            run_id: "x7k2p".into(),
            reason: "the API server could not be reached for 30s: connection refused".into(),
            flags: " --as dev".into(),
        };
        assert!(
            left.to_string()
                .contains("kubectl delete pods -n ops --as dev -l toolbox.dev/run=x7k2p (or toolbox cleanup --as dev)"),
            "{left}"
        );
    }
}
