//! `toolbox dump`: a diagnostic bundle from many nodes at once
//! (docs/dump.md), in this order:
//!
//! 1. **What** ([`spec`]): the items to collect from each node, the
//!    built-in list or a `--spec` file, checked before any request.
//! 2. **Where** ([`bundle`]): the bundle is started in a temporary
//!    directory beside its destination, which must not exist.
//! 3. **Each node** (`collect`), `fanout` at a time: its `api` items
//!    asked of the API server, and the others read by one pod of its own
//!    (the session lifecycle's held driver, one exec per item), at once.
//!    Every chunk is taken from the node's cap and the run's ([`caps`]),
//!    redacted ([`redact`]) and written; a cap reached ends the item's
//!    exec, and with it the read on the node. A node whose pod does not
//!    run fails alone.
//! 4. **The end** ([`run`]): the [`index`] goes in at the bundle's root,
//!    and the bundle is renamed into place (a directory, or a gzip'd tar).
//!    A signal stops the run: no more nodes start, each node's pod is
//!    deleted, and no bundle is left.
//!
//! spec, caps, redact and index are pure; bundle writes local files only.

pub mod bundle;
pub mod caps;
mod collect;
pub mod index;
pub mod redact;
mod service;
pub mod spec;

use std::path::PathBuf;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use self::bundle::{Bundle, BundleError};
use self::caps::{Caps, RunBudget};
use self::collect::NodeRun;
use self::index::{Index, NodeEntry, NodeError, NodeStatus, RunFacts};
use self::spec::Spec;
use crate::client::context::ClusterContext;
use crate::error::ClusterError;
use crate::session::SessionSpec;
use crate::signals::{Signal, Signals};

/// What a run is asked to do.
pub struct DumpPlan<'a> {
    pub spec: &'a Spec,
    /// The nodes, in the index's order.
    pub nodes: Vec<String>,
    /// `--since`, as seconds since the epoch.
    pub since_epoch: u64,
    /// How many nodes are collected at once.
    pub fanout: usize,
    pub caps: Caps,
    /// How long one item's read may take (`--command-timeout`).
    pub command_timeout: Option<std::time::Duration>,
    /// A node's pod, with the image and flags the command resolved.
    pub pod_for: &'a (dyn Fn(&str) -> SessionSpec + Sync),
    /// How the run was asked for, and when it started (RFC 3339).
    pub facts: RunFacts,
    pub created_at: String,
}

/// Receives a run's progress; the binary draws it.
pub trait DumpProgress: Send + Sync {
    /// This many more bytes were read.
    fn bytes(&self, _bytes: u64) {}
    /// A node is done.
    fn node_done(&self, _node: &NodeEntry) {}
}

/// A run that wrote its bundle.
#[derive(Debug)]
pub struct Dumped {
    pub path: PathBuf,
    pub index: Index,
}

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// A signal stopped the run; no bundle was written. `left` names the
    /// pods that could not be deleted.
    #[error("interrupted by {signal}")]
    Interrupted { signal: Signal, left: Vec<String> },
}

/// Collects every node of `plan` into `bundle`, and moves the bundle into
/// place with its index.
pub async fn run(
    cluster: &ClusterContext,
    plan: DumpPlan<'_>,
    bundle: Bundle,
    progress: &dyn DumpProgress,
) -> Result<Dumped, DumpError> {
    // Caught before any pod exists; each node's session catches them too,
    // and deletes its pod.
    let mut signals = Signals::install().map_err(ClusterError::from)?;
    let stop = CancellationToken::new();
    let budget = RunBudget::new(plan.caps);
    let node_run = NodeRun {
        cluster,
        bundle: &bundle,
        spec: plan.spec,
        since_epoch: plan.since_epoch,
        progress,
        stop: &stop,
        command_timeout: plan.command_timeout,
        pod_for: plan.pod_for,
    };
    let mut entries: Vec<Option<NodeEntry>> = vec![None; plan.nodes.len()];
    let mut interrupted = None;
    {
        let (node_run, budget, stop, nodes) = (&node_run, &budget, &stop, &plan.nodes);
        let work = futures::stream::iter(0..nodes.len())
            .map(|i| async move {
                if stop.is_cancelled() {
                    return (i, interrupted_node(&nodes[i]));
                }
                let node_budget = budget.node();
                (i, node_run.node(&nodes[i], &node_budget).await)
            })
            .buffer_unordered(plan.fanout.max(1));
        tokio::pin!(work);
        loop {
            tokio::select! {
                next = work.next() => match next {
                    Some((i, entry)) => {
                        progress.node_done(&entry);
                        entries[i] = Some(entry);
                    }
                    None => break,
                },
                signal = signals.recv() => {
                    if interrupted.is_some() {
                        // A second signal: the nodes' guards delete their
                        // pods as the work is dropped.
                        break;
                    }
                    interrupted = Some(signal);
                    stop.cancel();
                }
            }
        }
    }
    if let Some(signal) = interrupted {
        let left = entries
            .iter()
            .flatten()
            .filter_map(|entry| entry.pod_left.clone())
            .collect();
        return Err(DumpError::Interrupted { signal, left });
    }
    let nodes = entries
        .into_iter()
        .zip(&plan.nodes)
        .map(|(entry, node)| entry.unwrap_or_else(|| interrupted_node(node)))
        .collect();
    let index = Index::new(plan.created_at, plan.facts, plan.caps, nodes);
    let path = bundle.finish(&index)?;
    Ok(Dumped { path, index })
}

/// A node the run stopped before.
fn interrupted_node(node: &str) -> NodeEntry {
    NodeEntry {
        name: node.to_string(),
        status: NodeStatus::Failed,
        pod: None,
        error: Some(NodeError {
            reason: "interrupted".into(),
            message: "the run was interrupted before this node".into(),
        }),
        pod_left: None,
        bytes_read: 0,
        items: Vec::new(),
    }
}
