//! Finding the node a session targets.

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};

use crate::context::ClusterContext;
use crate::error::{Action, ClusterError, Result, api_status};

/// Accepts `NAME` or `node/NAME` (also `nodes/NAME`), as kubectl does.
pub fn parse_node_arg(arg: &str) -> &str {
    arg.strip_prefix("node/")
        .or_else(|| arg.strip_prefix("nodes/"))
        .unwrap_or(arg)
}

impl ClusterContext {
    /// Fetches the node, failing with the closest names when it does not exist.
    pub async fn get_node(&self, name: &str) -> Result<Node> {
        let api: Api<Node> = Api::all(self.client.clone());
        match api.get(name).await {
            Ok(node) => Ok(node),
            Err(err) if api_status(&err).is_some_and(|s| s.code == 404) => {
                let names = self.node_names().await.unwrap_or_default();
                Err(ClusterError::NodeNotFound {
                    name: name.to_string(),
                    suggestions: closest(name, &names, 3),
                })
            }
            Err(err) => Err(self.request_error(Action::cluster("get", "nodes"), err)),
        }
    }

    /// Every node's name, from a metadata-only list served from the API
    /// server's cache (resourceVersion=0): cheap even at 5,000 nodes.
    pub async fn node_names(&self) -> Result<Vec<String>> {
        let api: Api<Node> = Api::all(self.client.clone());
        let list = api
            .list_metadata(&ListParams::default().match_any())
            .await
            .map_err(|e| self.request_error(Action::cluster("list", "nodes"), e))?;
        Ok(list
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect())
    }
}

/// The node's Ready condition: `Ok(())` when Ready, else why not.
pub fn node_readiness(node: &Node) -> std::result::Result<(), String> {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    match ready {
        Some(c) if c.status == "True" => Ok(()),
        Some(c) => Err(c
            .reason
            .clone()
            .or_else(|| c.message.clone())
            .unwrap_or_else(|| format!("Ready={}", c.status))),
        None => Err("no Ready condition reported".into()),
    }
}

/// The node's `kubernetes.io/os` label and osImage, for choosing the shell.
pub fn node_os_facts(node: &Node) -> (Option<&str>, Option<&str>) {
    let os = node
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("kubernetes.io/os"))
        .map(String::as_str);
    let image = node
        .status
        .as_ref()
        .and_then(|s| s.node_info.as_ref())
        .map(|i| i.os_image.as_str());
    (os, image)
}

/// Up to `limit` names closest to `wanted`: shared prefixes and small edit
/// distances first, so that a typo or a truncated name finds its node.
pub fn closest(wanted: &str, names: &[String], limit: usize) -> Vec<String> {
    let mut scored: Vec<(f64, &String)> = names
        .iter()
        .map(|n| {
            let similarity = strsim::jaro_winkler(wanted, n);
            let bonus = if n.contains(wanted) || wanted.contains(n.as_str()) {
                0.1
            } else {
                0.0
            };
            (similarity + bonus, n)
        })
        .filter(|(score, _)| *score >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(limit)
        .map(|(_, n)| n.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_arg_accepts_kubectl_forms() {
        assert_eq!(parse_node_arg("node/worker-1"), "worker-1");
        assert_eq!(parse_node_arg("nodes/worker-1"), "worker-1");
        assert_eq!(parse_node_arg("worker-1"), "worker-1");
    }

    #[test]
    fn closest_finds_typos_and_skips_strangers() {
        let names: Vec<String> = [
            "ip-10-0-1-17",
            "ip-10-0-2-33",
            "gpu-node-a",
            "control-plane",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            closest("ip-10-0-1-7", &names, 1),
            vec!["ip-10-0-1-17".to_string()]
        );
        assert!(closest("zzzz", &names, 3).is_empty());
        assert_eq!(
            closest("gpu-node", &names, 3).first().map(String::as_str),
            Some("gpu-node-a")
        );
    }
}
