//! node-shell `--pod`: a session on a pod's node, in its container's
//! namespaces (docs/node-shell.md, "A pod, from its node"). The pod is read
//! once in the pre-flight; the session is node-shell's, whose pod carries
//! the recorder's `enter`. A container that restarted between that read
//! and the entry (the recorder finds no process of its ID: exit 125) is
//! looked up again and entered once more under its new ID.

use k8s_openapi::api::core::v1::Node;
use toolbox_cluster::nodes::target_pod::{self, TargetContainer};
use toolbox_cluster::{ClusterContext, TargetNode, node_readiness};
use toolbox_podtemplate::{NodeOs, PodNamespaces, PodTarget};

use super::args::SessionArgs;
use super::pod::NodeShellOptions;
use super::preflight::{NodeUse, preflight};
use super::single;
use crate::app::App;
use crate::exit::{AppError, ExitStatus, usage};

/// The recorder's status when the container has no process on the node.
const NO_PROCESS: u8 = 125;

/// What `--pod` names, and how.
pub struct PodChoice<'a> {
    /// `NS/POD` or `POD`.
    pub pod: &'a str,
    pub container: Option<&'a str>,
    pub enter: PodNamespaces,
    pub session: &'a SessionArgs,
}

pub async fn run(
    app: &App,
    choice: PodChoice<'_>,
    options: NodeShellOptions,
) -> Result<ExitStatus, AppError> {
    if choice.session.persist(app).is_some() {
        return Err(usage(
            "--persist is not for --pod sessions yet: each enters the container it is given",
        ));
    }
    let (namespace, name) = split_pod(choice.pod)?;
    let (cluster, user, (target, node)) = preflight(app, NodeUse::Session, async |cluster| {
        let namespace = namespace.as_deref().unwrap_or(&cluster.namespace);
        let target = target_pod::find(cluster, namespace, name, choice.container).await?;
        let node = cluster.get_node(&target.node).await?;
        if let Err(reason) = node_readiness(&node) {
            return Err(toolbox_cluster::ClusterError::NodeNotReady {
                name: target.node.clone(),
                reason,
            }
            .into());
        }
        Ok((target, node))
    })
    .await?;
    if TargetNode::from(&node).os == NodeOs::Windows {
        return Err(usage(format!(
            "pod {}/{} is on {}, a Windows node: --pod enters Linux namespaces only",
            target.namespace, target.pod, target.node
        )));
    }
    if target.host_network && choice.enter.net {
        eprintln!(
            "note: pod {}/{} uses the node's network (hostNetwork): its network namespace is the node's",
            target.namespace, target.pod
        );
    }
    let status = session(&cluster, &user, &node, &target, &choice, &options, app).await?;
    if status != ExitStatus::Remote(NO_PROCESS) {
        return Ok(status);
    }
    // Restarted meanwhile? Then once more, under the container's new ID.
    let again = target_pod::find(
        &cluster,
        &target.namespace,
        &target.pod,
        Some(&target.container),
    )
    .await?;
    if again.container_id == target.container_id || again.node != target.node {
        return Ok(status);
    }
    eprintln!(
        "toolbox: container {} of pod {}/{} restarted; entering it again",
        target.container, target.namespace, target.pod
    );
    session(&cluster, &user, &node, &again, &choice, &options, app).await
}

/// `NS/POD` or `POD`, each a possible name.
fn split_pod(text: &str) -> Result<(Option<String>, &str), AppError> {
    let (namespace, name) = match text.split_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, text),
    };
    let valid = |part: &str| {
        !part.is_empty()
            && part.len() <= 253
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    };
    if !valid(name) || namespace.is_some_and(|ns| !valid(ns)) {
        return Err(usage(format!(
            "--pod {text:?} is not NS/POD or POD (lowercase names)"
        )));
    }
    Ok((namespace.map(str::to_string), name))
}

/// The session in `target`'s namespaces: node-shell's, with the target.
async fn session(
    cluster: &ClusterContext,
    user: &str,
    node: &Node,
    target: &TargetContainer,
    choice: &PodChoice<'_>,
    options: &NodeShellOptions,
    app: &App,
) -> Result<ExitStatus, AppError> {
    let options = NodeShellOptions {
        target: Some(PodTarget {
            namespace: target.namespace.clone(),
            pod: target.pod.clone(),
            container: target.container.clone(),
            container_id: target.container_id.clone(),
            enter: choice.enter,
            recorder_image: app.settings.settings.recorder_image.clone(),
        }),
        ..options.clone()
    };
    single::run_node_shell(
        cluster,
        user.to_string(),
        node,
        &options,
        choice.session,
        None,
        app,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_is_named_with_or_without_its_namespace() {
        assert_eq!(
            split_pod("shop/web-1").unwrap(),
            (Some("shop".into()), "web-1")
        );
        assert_eq!(split_pod("web-1").unwrap(), (None, "web-1"));
        for bad in ["", "a/", "/b", "A/b", "a/b/c", "a b"] {
            assert!(split_pod(bad).is_err(), "{bad:?}");
        }
    }
}
