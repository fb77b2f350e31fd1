//! node-shell `--pod`: the pod a session enters, read once, and what of it
//! the session needs: its node, the container, and that container's ID as
//! the runtime gave it, which is what the node's cgroups name.

use k8s_openapi::api::core::v1::Pod;
use kube::Api;

use crate::client::context::ClusterContext;
use crate::error::{Action, ClusterError, Result};

/// kubectl's annotation naming a pod's default container.
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// A running container of a pod, as a session enters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetContainer {
    pub namespace: String,
    pub pod: String,
    pub node: String,
    pub container: String,
    /// Without the runtime's prefix (`containerd://`, `cri-o://`).
    pub container_id: String,
    /// The pod uses the node's network namespace.
    pub host_network: bool,
}

/// Reads pod `name` in `namespace` and picks its container: `container`,
/// or the pod's default-container annotation, or its first, as kubectl does.
pub async fn find(
    cluster: &ClusterContext,
    namespace: &str,
    name: &str,
    container: Option<&str>,
) -> Result<TargetContainer> {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let pod = match pods.get_opt(name).await {
        Ok(Some(pod)) => pod,
        Ok(None) => {
            return Err(ClusterError::PodNotFound {
                namespace: namespace.to_string(),
                name: name.to_string(),
            });
        }
        Err(err) => {
            return Err(cluster.request_error(Action::namespaced("get", "pods", namespace), err));
        }
    };
    target_of(&pod, container)
}

/// What [`find`] decides from the pod it read. Pure.
pub fn target_of(pod: &Pod, container: Option<&str>) -> Result<TargetContainer> {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let refuse = |reason: String| ClusterError::PodNotEnterable {
        pod: format!("{namespace}/{name}"),
        reason,
    };
    let spec = pod
        .spec
        .as_ref()
        .ok_or_else(|| refuse("it has no spec".into()))?;
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    let default = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION))
        .map(String::as_str)
        .filter(|wanted| names.contains(wanted));
    let chosen = match container {
        Some(wanted) if names.contains(&wanted) => wanted,
        Some(wanted) => {
            return Err(refuse(format!(
                "it has no container {wanted:?}; its containers: {}",
                names.join(", ")
            )));
        }
        None => default
            .or_else(|| names.first().copied())
            .ok_or_else(|| refuse("it has no containers".into()))?,
    };
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
    if phase != "Running" {
        return Err(refuse(format!(
            "it is {phase}: only a running pod's namespaces can be entered"
        )));
    }
    let node = spec
        .node_name
        .clone()
        .ok_or_else(|| refuse("it is not on a node yet".into()))?;
    let state = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|all| all.iter().find(|c| c.name == chosen));
    let running = state
        .and_then(|c| c.state.as_ref())
        .is_some_and(|s| s.running.is_some());
    let container_id = state
        .and_then(|c| c.container_id.as_deref())
        .and_then(|id| id.split_once("://").map(|(_, id)| id))
        .filter(|_| running)
        .ok_or_else(|| {
            refuse(format!(
                "its container {chosen} is not running (it is waiting or ended)"
            ))
        })?;
    Ok(TargetContainer {
        namespace,
        pod: name,
        node,
        container: chosen.to_string(),
        container_id: container_id.to_string(),
        host_network: spec.host_network == Some(true),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(annotation: Option<&str>, phase: &str, running: bool) -> Pod {
        let id = "a".repeat(64);
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": "web", "namespace": "shop",
                "annotations": annotation.map(|a| serde_json::json!({ DEFAULT_CONTAINER_ANNOTATION: a })),
            },
            "spec": { "nodeName": "n1", "containers": [{ "name": "app" }, { "name": "sidecar" }] },
            "status": {
                "phase": phase,
                "containerStatuses": [
                    { "name": "app", "ready": true, "restartCount": 0, "image": "i", "imageID": "",
                      "containerID": format!("containerd://{id}"),
                      "state": if running { serde_json::json!({ "running": {} }) } else { serde_json::json!({ "waiting": { "reason": "CrashLoopBackOff" } }) } },
                    { "name": "sidecar", "ready": true, "restartCount": 0, "image": "i", "imageID": "",
                      "containerID": format!("containerd://{}", "b".repeat(64)), "state": { "running": {} } },
                ]
            }
        }))
        .unwrap()
    }

    #[test]
    fn the_container_is_the_named_one_the_default_or_the_first() {
        let first = target_of(&pod(None, "Running", true), None).unwrap();
        assert_eq!(
            (first.container.as_str(), first.node.as_str()),
            ("app", "n1")
        );
        assert_eq!(first.container_id, "a".repeat(64));
        let default = target_of(&pod(Some("sidecar"), "Running", true), None).unwrap();
        assert_eq!(default.container, "sidecar");
        let named = target_of(&pod(Some("sidecar"), "Running", true), Some("app")).unwrap();
        assert_eq!(named.container, "app");
    }

    #[test]
    fn what_cannot_be_entered_says_why() {
        let err = |p: &Pod, c| target_of(p, c).unwrap_err().to_string();
        assert_eq!(
            err(&pod(None, "Running", true), Some("db")),
            "cannot enter pod shop/web: it has no container \"db\"; its containers: app, sidecar"
        );
        assert_eq!(
            err(&pod(None, "Succeeded", true), None),
            "cannot enter pod shop/web: it is Succeeded: only a running pod's namespaces can be entered"
        );
        assert_eq!(
            err(&pod(None, "Running", false), None),
            "cannot enter pod shop/web: its container app is not running (it is waiting or ended)"
        );
    }
}
