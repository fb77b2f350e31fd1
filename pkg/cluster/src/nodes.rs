//! Finding the node a session targets.

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};

use crate::context::ClusterContext;
use crate::error::{Action, ClusterError, Result, api_status};
use toolbox_podtemplate::NodeOs;

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

impl ClusterContext {
    /// The nodes matching `selector`, in one list call served from the API
    /// server's cache, for the picker. Only the fields the picker shows are
    /// decoded: at 5,000 nodes most of the response is managedFields and
    /// images, which are skipped rather than built into objects.
    pub async fn list_nodes(&self, selector: Option<&str>) -> Result<Vec<Node>> {
        let mut uri = "/api/v1/nodes?resourceVersion=0".to_string();
        if let Some(selector) = selector {
            uri.push_str("&labelSelector=");
            uri.push_str(&percent_encode(selector));
        }
        let request = http::Request::get(uri)
            .body(Vec::new())
            .map_err(|e| ClusterError::Api {
                action: "cannot list nodes".into(),
                source: kube::Error::HttpError(e),
            })?;
        let list: slim::NodeList = self
            .client
            .request(request)
            .await
            .map_err(|e| self.request_error(Action::cluster("list", "nodes"), e))?;
        Ok(list.items.into_iter().map(slim::Node::into_node).collect())
    }

    /// The name and the STATUS column of every object of a cluster-scoped
    /// list (`path`, e.g. /api/v1/nodes), as the server renders them for
    /// `kubectl get`, without the objects themselves. At 5,000 nodes this
    /// is about 1.5 MB where even a metadata-only list is 20 MB, because
    /// it leaves managedFields out; and it carries the status.
    pub async fn name_and_status(
        &self,
        path: &str,
        resource: &'static str,
    ) -> Result<Vec<(String, String)>> {
        let rows = self.table(path, None, resource, &["Status"]).await?;
        Ok(rows
            .into_iter()
            .map(|(name, mut cells)| (name, cells.pop().unwrap_or_default()))
            .collect())
    }

    /// The name and the named columns (as `kubectl get -o wide` titles
    /// them: "Status", "OS-Image") of every object of a cluster-scoped list
    /// that `selector` matches, from the server's Table rendering. A column
    /// the server does not have is empty.
    pub async fn table(
        &self,
        path: &str,
        selector: Option<&str>,
        resource: &'static str,
        columns: &[&str],
    ) -> Result<Vec<(String, Vec<String>)>> {
        let mut uri = format!("{path}?resourceVersion=0&includeObject=None");
        if let Some(selector) = selector.filter(|s| !s.is_empty()) {
            uri.push_str("&labelSelector=");
            uri.push_str(&percent_encode(selector));
        }
        let request = http::Request::get(uri)
            .header(
                http::header::ACCEPT,
                "application/json;as=Table;v=v1;g=meta.k8s.io",
            )
            .body(Vec::new())
            .map_err(|e| ClusterError::Api {
                action: format!("cannot list {resource}"),
                source: kube::Error::HttpError(e),
            })?;
        let table: Table = self
            .client
            .request(request)
            .await
            .map_err(|e| self.request_error(Action::cluster("list", resource), e))?;
        let positions: Vec<Option<usize>> = columns
            .iter()
            .map(|wanted| {
                table
                    .column_definitions
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(wanted))
            })
            .collect();
        Ok(table
            .rows
            .into_iter()
            .filter_map(|row| {
                let name = row.cells.first()?.as_str()?.to_string();
                let cells = positions
                    .iter()
                    .map(|position| {
                        position
                            .and_then(|i| row.cells.get(i))
                            .and_then(|c| c.as_str())
                            .unwrap_or_default()
                            .to_string()
                    })
                    .collect();
                Some((name, cells))
            })
            .collect())
    }
}

/// What a run needs to know of a node: its name, its OS (for the pod),
/// and whether it can run a pod now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetNode {
    pub name: String,
    pub os: NodeOs,
    /// Why the node is not Ready, when it is not.
    pub not_ready: Option<String>,
    /// `spec.unschedulable`.
    pub cordoned: bool,
}

impl From<&Node> for TargetNode {
    fn from(node: &Node) -> TargetNode {
        let (label, image) = node_os_facts(node);
        TargetNode {
            name: node.metadata.name.clone().unwrap_or_default(),
            os: NodeOs::detect(label, image),
            not_ready: node_readiness(node).err(),
            cordoned: node
                .spec
                .as_ref()
                .and_then(|spec| spec.unschedulable)
                .unwrap_or(false),
        }
    }
}

impl TargetNode {
    /// From a row of the server's node Table: STATUS ("Ready",
    /// "NotReady,SchedulingDisabled", "Unknown") and OS-IMAGE.
    pub(crate) fn from_row(
        name: String,
        status: &str,
        os_image: &str,
        windows: bool,
    ) -> TargetNode {
        let mut parts = status.split(',');
        let readiness = parts.next().unwrap_or_default();
        TargetNode {
            name,
            os: if windows {
                NodeOs::Windows
            } else {
                NodeOs::detect(None, Some(os_image))
            },
            not_ready: (readiness != "Ready").then(|| readiness.to_string()),
            cordoned: parts.any(|part| part == "SchedulingDisabled"),
        }
    }
}

impl ClusterContext {
    /// Every node `selector` matches, from two server-rendered Tables (a
    /// few hundred bytes a node, where the objects are several KiB): all
    /// of them, with their status and OS image, and the Windows ones, whose
    /// label is the only sure sign.
    pub(crate) async fn node_table(&self, selector: Option<&str>) -> Result<Vec<TargetNode>> {
        let windows_selector = match selector.filter(|s| !s.is_empty()) {
            Some(selector) => format!("{selector},kubernetes.io/os=windows"),
            None => "kubernetes.io/os=windows".to_string(),
        };
        let (rows, windows) = tokio::try_join!(
            self.table("/api/v1/nodes", selector, "nodes", &["Status", "OS-Image"]),
            self.table("/api/v1/nodes", Some(&windows_selector), "nodes", &[]),
        )?;
        let windows: std::collections::HashSet<String> =
            windows.into_iter().map(|(name, _)| name).collect();
        Ok(rows
            .into_iter()
            .map(|(name, cells)| {
                let is_windows = windows.contains(&name);
                let (status, os_image) = match cells.as_slice() {
                    [status, os_image] => (status.as_str(), os_image.as_str()),
                    _ => ("", ""),
                };
                TargetNode::from_row(name, status, os_image, is_windows)
            })
            .collect())
    }
}

/// A label selector as a query-string value.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The few fields of a Node the picker reads, for a cheap decode.
mod slim {
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1 as core;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct NodeList {
        pub items: Vec<Node>,
    }

    #[derive(Deserialize)]
    pub struct Node {
        metadata: Meta,
        #[serde(default)]
        spec: Spec,
        #[serde(default)]
        status: Status,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Meta {
        name: String,
        #[serde(default)]
        labels: BTreeMap<String, String>,
        creation_timestamp: Option<Time>,
    }

    #[derive(Deserialize, Default)]
    struct Spec {
        unschedulable: Option<bool>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Status {
        #[serde(default)]
        conditions: Vec<Condition>,
        #[serde(default)]
        addresses: Vec<Address>,
        node_info: Option<NodeInfo>,
    }

    #[derive(Deserialize)]
    struct Condition {
        #[serde(rename = "type")]
        type_: String,
        status: String,
        reason: Option<String>,
    }

    #[derive(Deserialize)]
    struct Address {
        #[serde(rename = "type")]
        type_: String,
        address: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct NodeInfo {
        #[serde(default)]
        kubelet_version: String,
        #[serde(default)]
        os_image: String,
    }

    impl Node {
        pub fn into_node(self) -> core::Node {
            core::Node {
                metadata: ObjectMeta {
                    name: Some(self.metadata.name),
                    labels: Some(self.metadata.labels),
                    creation_timestamp: self.metadata.creation_timestamp,
                    ..Default::default()
                },
                spec: Some(core::NodeSpec {
                    unschedulable: self.spec.unschedulable,
                    ..Default::default()
                }),
                status: Some(core::NodeStatus {
                    conditions: Some(
                        self.status
                            .conditions
                            .into_iter()
                            .map(|c| core::NodeCondition {
                                type_: c.type_,
                                status: c.status,
                                reason: c.reason,
                                ..Default::default()
                            })
                            .collect(),
                    ),
                    addresses: Some(
                        self.status
                            .addresses
                            .into_iter()
                            .map(|a| core::NodeAddress {
                                type_: a.type_,
                                address: a.address,
                            })
                            .collect(),
                    ),
                    node_info: self.status.node_info.map(|i| core::NodeSystemInfo {
                        kubelet_version: i.kubelet_version,
                        os_image: i.os_image,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            }
        }
    }
}

/// The part of a meta.k8s.io/v1 Table that toolbox reads.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Table {
    column_definitions: Vec<TableColumn>,
    rows: Vec<TableRow>,
}

#[derive(serde::Deserialize)]
struct TableColumn {
    name: String,
}

#[derive(serde::Deserialize)]
struct TableRow {
    cells: Vec<serde_json::Value>,
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

/// One line of the node picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub name: String,
    pub status: String,
    pub ready: bool,
    pub roles: String,
    pub age: String,
    pub version: String,
    pub internal_ip: String,
    pub zone: String,
    pub instance_type: String,
    pub os: String,
}

/// The picker's rows: Ready nodes first, then by name.
pub fn node_rows(nodes: &[Node], now: k8s_openapi::jiff::Timestamp) -> Vec<NodeRow> {
    let mut rows: Vec<NodeRow> = nodes.iter().map(|n| node_row(n, now)).collect();
    rows.sort_by(|a, b| b.ready.cmp(&a.ready).then_with(|| a.name.cmp(&b.name)));
    rows
}

fn node_row(node: &Node, now: k8s_openapi::jiff::Timestamp) -> NodeRow {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let label = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| labels.get(*k).cloned())
            .unwrap_or_else(|| "<none>".into())
    };
    let ready_condition = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    let mut status = match ready_condition.map(|c| c.status.as_str()) {
        Some("True") => "Ready",
        Some("False") => "NotReady",
        _ => "Unknown",
    }
    .to_string();
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<&str> = labels
        .keys()
        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
        .filter(|r| !r.is_empty())
        .collect();
    if let Some(role) = labels.get("kubernetes.io/role") {
        roles.push(role);
    }
    roles.sort();
    roles.dedup();
    let info = node.status.as_ref().and_then(|s| s.node_info.as_ref());
    let internal_ip = node
        .status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
        .map(|a| a.address.clone())
        .unwrap_or_else(|| "<none>".into());
    NodeRow {
        name: node.metadata.name.clone().unwrap_or_default(),
        ready: node_readiness(node).is_ok(),
        status,
        roles: if roles.is_empty() {
            "<none>".into()
        } else {
            roles.join(",")
        },
        age: node
            .metadata
            .creation_timestamp
            .as_ref()
            .map(|t| human_age(now, t.0))
            .unwrap_or_else(|| "<unknown>".into()),
        version: info.map(|i| i.kubelet_version.clone()).unwrap_or_default(),
        internal_ip,
        zone: label(&[
            "topology.kubernetes.io/zone",
            "failure-domain.beta.kubernetes.io/zone",
        ]),
        instance_type: label(&[
            "node.kubernetes.io/instance-type",
            "beta.kubernetes.io/instance-type",
        ]),
        os: label(&["kubernetes.io/os", "beta.kubernetes.io/os"]),
    }
}

/// An age the way kubectl prints it: 45s, 12m, 5h, 3d, 2y.
pub fn human_age(now: k8s_openapi::jiff::Timestamp, then: k8s_openapi::jiff::Timestamp) -> String {
    let seconds = now.as_second().saturating_sub(then.as_second()).max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 2 * 3600 => format!("{}m", s / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s if s < 2 * 365 * 86400 => format!("{}d", s / 86400),
        s => format!("{}y", s / (365 * 86400)),
    }
}

/// The rows as aligned lines, one per node, for a fuzzy search.
pub fn aligned_lines(rows: &[NodeRow]) -> Vec<String> {
    let cells: Vec<[&str; 9]> = rows
        .iter()
        .map(|r| {
            [
                &r.name,
                &r.status,
                &r.roles,
                &r.age,
                &r.version,
                &r.internal_ip,
                &r.zone,
                &r.instance_type,
                &r.os,
            ]
            .map(String::as_str)
        })
        .collect();
    let mut widths = [0usize; 9];
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    cells
        .iter()
        .map(|row| {
            let line: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect();
            line.join("  ").trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, ready: &str, unschedulable: bool, labels: serde_json::Value) -> Node {
        serde_json::from_value(serde_json::json!({
            "metadata": { "name": name, "labels": labels, "creationTimestamp": "2026-11-20T12:00:00Z" },
            "spec": { "unschedulable": unschedulable },
            "status": {
                "conditions": [{ "type": "Ready", "status": ready }],
                "addresses": [{ "type": "InternalIP", "address": "10.0.1.17" }],
                "nodeInfo": { "kubeletVersion": "v1.37.2", "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "",
                    "kernelVersion": "", "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux", "osImage": "", "systemUUID": "" }
            }
        }))
        .unwrap()
    }

    #[test]
    fn picker_rows_put_ready_nodes_first_and_show_every_column() {
        let now: k8s_openapi::jiff::Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
        let labels = serde_json::json!({
            "node-role.kubernetes.io/worker": "", "topology.kubernetes.io/zone": "eu-west-1a",
            "node.kubernetes.io/instance-type": "m7i.large", "kubernetes.io/os": "linux"
        });
        let nodes = vec![
            node("b-ready", "True", true, labels.clone()),
            node("a-down", "False", false, serde_json::json!({})),
            node("c-ready", "True", false, labels),
        ];
        let rows = node_rows(&nodes, now);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["b-ready", "c-ready", "a-down"]);
        assert_eq!(rows[0].status, "Ready,SchedulingDisabled");
        assert_eq!(rows[2].status, "NotReady");
        assert_eq!(
            (rows[1].roles.as_str(), rows[1].age.as_str()),
            ("worker", "6d")
        );
        assert_eq!(
            (
                rows[1].zone.as_str(),
                rows[1].instance_type.as_str(),
                rows[1].os.as_str()
            ),
            ("eu-west-1a", "m7i.large", "linux")
        );
        assert_eq!(rows[2].roles, "<none>");
        let lines = aligned_lines(&rows);
        assert_eq!(
            lines[1],
            "c-ready  Ready                     worker  6d  v1.37.2  10.0.1.17  eu-west-1a  m7i.large  linux"
        );
        assert_eq!(
            lines[0].find("Ready"),
            lines[2].find("NotReady"),
            "columns line up"
        );
    }

    #[test]
    fn the_slim_decode_keeps_what_the_picker_shows() {
        let json = serde_json::json!({ "items": [{
            "metadata": { "name": "n1", "labels": { "kubernetes.io/os": "linux" }, "creationTimestamp": "2026-11-20T12:00:00Z",
                          "managedFields": [{ "manager": "kubelet", "fieldsV1": { "f:status": {} } }] },
            "spec": { "unschedulable": true, "podCIDR": "10.0.0.0/24" },
            "status": { "conditions": [{ "type": "Ready", "status": "True", "reason": "KubeletReady" }],
                        "addresses": [{ "type": "InternalIP", "address": "10.0.0.7" }],
                        "nodeInfo": { "kubeletVersion": "v1.37.2", "osImage": "Bottlerocket OS", "machineID": "x" },
                        "images": [{ "names": ["busybox"], "sizeBytes": 1 }] }
        }]});
        let list: slim::NodeList = serde_json::from_value(json).unwrap();
        let node = list.items.into_iter().next().unwrap().into_node();
        let now: k8s_openapi::jiff::Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
        let row = &node_rows(std::slice::from_ref(&node), now)[0];
        assert_eq!(row.status, "Ready,SchedulingDisabled");
        assert_eq!(
            (
                row.internal_ip.as_str(),
                row.version.as_str(),
                row.os.as_str()
            ),
            ("10.0.0.7", "v1.37.2", "linux")
        );
        assert_eq!(
            node_os_facts(&node),
            (Some("linux"), Some("Bottlerocket OS"))
        );
        assert_eq!(percent_encode("a=b,c in (d)"), "a%3Db%2Cc%20in%20%28d%29");
    }

    #[test]
    fn ages_read_like_kubectl() {
        let t = |s: &str| -> k8s_openapi::jiff::Timestamp { s.parse().unwrap() };
        assert_eq!(
            human_age(t("2026-01-01T00:01:30Z"), t("2026-01-01T00:00:00Z")),
            "90s"
        );
        assert_eq!(
            human_age(t("2026-01-01T01:00:00Z"), t("2026-01-01T00:00:00Z")),
            "60m"
        );
        assert_eq!(
            human_age(t("2026-01-01T05:00:00Z"), t("2026-01-01T00:00:00Z")),
            "5h"
        );
        assert_eq!(
            human_age(t("2026-01-10T00:00:00Z"), t("2026-01-01T00:00:00Z")),
            "9d"
        );
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
