//! The pre-flight that every node session and every fan-out run goes
//! through before it creates a pod, written once in [`preflight`]:
//!
//! 1. Connect, with the global flags and the settings ([`App::connect`]).
//! 2. Start the check of the server's version, in the background.
//! 3. At the same time, ask who we are (the user the audit annotations
//!    name), find the targets (one node, named or picked; or a run's
//!    nodes) and, for a session, whether that user may create, exec into
//!    and delete pods.
//! 4. Warn about a server older than the supported range, even when the
//!    targets were not found: it may be why.
//! 5. Refuse a session that the user may not run, naming what is missing.
//!
//! [`connect_to_node`] is the pre-flight for one node (node-shell,
//! debug-node, compare); [`super::fanout::run`] calls [`preflight`] with
//! its nodes.

use k8s_openapi::api::core::v1::Node;
use toolbox_cluster::{ClusterContext, node_readiness};

use super::args::NodeArgs;
use crate::app::App;
use crate::exit::{AppError, usage};
use crate::picker;

/// Fails at once, before any request, when NODE names no possible node, or
/// when there is no NODE, no selector and no terminal to pick one on.
fn require_node_or_terminal(target: &NodeArgs) -> Result<(), AppError> {
    target.node_name()?;
    if target.node.is_none() && target.selector.is_none() && !picker::terminal_available() {
        return Err(usage(
            "no NODE given and no terminal to pick one; pass NODE or -l SELECTOR",
        ));
    }
    Ok(())
}

/// What a command does on the node it connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeUse {
    /// Creates a pod, execs into it and deletes it: the identity must be
    /// allowed all three before the pod is created.
    Session,
    /// Only reads and dry runs (compare), which report what is missing.
    Inspect,
}

/// Connects and finds the node, asking the server who we are at the same
/// time: the cluster, the user's name for the audit annotations, the node.
pub async fn connect_to_node(
    app: &App,
    target: &NodeArgs,
    node_use: NodeUse,
) -> Result<(ClusterContext, String, Node), AppError> {
    require_node_or_terminal(target)?;
    preflight(app, node_use, async |cluster| {
        resolve_node(cluster, target).await
    })
    .await
}

/// Connects, then finds the targets with `find_targets` while asking the
/// server who we are and (for a session) what that user may do: the
/// cluster, the user's name for the audit annotations, and the targets.
pub async fn preflight<T>(
    app: &App,
    node_use: NodeUse,
    find_targets: impl AsyncFnOnce(&ClusterContext) -> Result<T, AppError>,
) -> Result<(ClusterContext, String, T), AppError> {
    let cluster = app.connect().await?;
    preflight_connected(cluster, None, node_use, find_targets).await
}

/// [`preflight`] on a cluster already connected to: each cluster of a
/// command on several ([`super::clusters`], sessions list) connects to its
/// own context first, and passes it as `several` so that a warning names it.
pub async fn preflight_connected<T>(
    cluster: ClusterContext,
    several: Option<&str>,
    node_use: NodeUse,
    find_targets: impl AsyncFnOnce(&ClusterContext) -> Result<T, AppError>,
) -> Result<(ClusterContext, String, T), AppError> {
    toolbox_cluster::steps::step("connected");
    let version_check = cluster.start_version_check();
    let found = tokio::try_join!(
        async { cluster.identity().await.map_err(AppError::from) },
        find_targets(&cluster),
        async {
            Ok(match node_use {
                NodeUse::Session => cluster.session_access_missing().await,
                NodeUse::Inspect => Vec::new(),
            })
        },
    );
    // Told even when the targets are not found: an old server may be why.
    if let Some(warning) = version_check.warning().await {
        match several {
            Some(context) => eprintln!("warning: {context}: {warning}"),
            None => eprintln!("warning: {warning}"),
        }
    }
    let (user, targets, missing) = found?;
    if !missing.is_empty() {
        return Err(cluster.session_not_allowed(&user, &missing).into());
    }
    toolbox_cluster::steps::step("identity and node known");
    Ok((cluster, user, targets))
}

/// The node a session targets, checked to exist and to be Ready.
async fn resolve_node(cluster: &ClusterContext, target: &NodeArgs) -> Result<Node, AppError> {
    let name = match target.node_name()? {
        Some(name) => name.to_string(),
        None => picker::choose_node(cluster, target.selector.as_deref()).await?,
    };
    let node = cluster.get_node(&name).await?;
    if let Err(reason) = node_readiness(&node) {
        return Err(toolbox_cluster::ClusterError::NodeNotReady { name, reason }.into());
    }
    Ok(node)
}
