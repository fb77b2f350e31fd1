//! Finding the node a session targets.

use std::collections::{BTreeMap, HashMap};

use futures::AsyncReadExt;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use prost::Message;

use crate::client::context::ClusterContext;
use crate::error::{Action, ClusterError, Result, api_status, selector_refused};
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

    /// The node of that name, if there is one: whether a word names a node
    /// (`toolbox logs`' arguments).
    pub async fn find_node(&self, name: &str) -> Result<Option<Node>> {
        let api: Api<Node> = Api::all(self.client.clone());
        api.get_opt(name)
            .await
            .map_err(|e| self.request_error(Action::cluster("get", "nodes"), e))
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

    /// The picker's rows for the nodes `selector` matches, Ready nodes
    /// first, from the server's node Table: NAME, STATUS, ROLES, AGE,
    /// VERSION and INTERNAL-IP as `kubectl get nodes -o wide` shows them, at
    /// a few hundred bytes a node. The Table has no label columns, so ZONE,
    /// INSTANCE-TYPE and OS are left pending: [`ClusterContext::node_labels`]
    /// fetches them, and [`fill_label_columns`] fills them in.
    pub async fn node_rows(&self, selector: Option<&str>) -> Result<Vec<NodeRow>> {
        let cells = self
            .table("/api/v1/nodes", selector, "nodes", &NODE_ROW_COLUMNS)
            .await?;
        Ok(node_rows(cells))
    }

    /// Every label of the nodes `selector` matches, by node name, from a
    /// metadata-only list in protobuf served from the API server's cache.
    /// At 5,000 nodes this is about 10 MB, mostly managedFields, where the
    /// same list in JSON is 22 MB and the Node objects 36 MB; the server
    /// sends it in about half the time of the JSON list (no list leaves
    /// managedFields out, and the node Table has no labels).
    pub async fn node_labels(
        &self,
        selector: Option<&str>,
    ) -> Result<HashMap<String, BTreeMap<String, String>>> {
        let action = || Action::cluster("list", "nodes");
        let request = http::Request::get(list_uri("/api/v1/nodes", selector, ""))
            .header(
                http::header::ACCEPT,
                "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
            )
            .body(Vec::new())
            .map_err(|e| ClusterError::Api {
                action: "cannot list nodes".into(),
                source: kube::Error::HttpError(e),
            })?;
        let mut body = Vec::new();
        self.client
            .request_stream(request)
            .await
            .map_err(|e| {
                selector_refused(selector, &e).unwrap_or_else(|| self.request_error(action(), e))
            })?
            .read_to_end(&mut body)
            .await
            .map_err(|e| self.request_error(action(), kube::Error::ReadEvents(e)))?;
        decode_node_labels(body).map_err(|e| ClusterError::Api {
            action: "cannot read the node list".into(),
            source: kube::Error::Service(e.into()),
        })
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
        let request = http::Request::get(list_uri(path, selector, "&includeObject=None"))
            .header(
                http::header::ACCEPT,
                "application/json;as=Table;v=v1;g=meta.k8s.io",
            )
            .body(Vec::new())
            .map_err(|e| ClusterError::Api {
                action: format!("cannot list {resource}"),
                source: kube::Error::HttpError(e),
            })?;
        let table: Table = self.client.request(request).await.map_err(|e| {
            selector_refused(selector, &e)
                .unwrap_or_else(|| self.request_error(Action::cluster("list", resource), e))
        })?;
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

/// Whether the API server hands an exec on this node to its kubelet as it is
/// (a WebSocket end to end), rather than translating it: the kubelet declares
/// ExtendWebSocketsToKubelet (Kubernetes 1.36+). Only then is an exec refused
/// because its container has not started refused as a request, before any
/// stream; a translating API server accepts the stream first and reports the
/// refusal inside it, as if the command had failed.
pub fn kubelet_takes_exec_directly(node: &Node) -> bool {
    node.status
        .as_ref()
        .and_then(|s| s.declared_features.as_ref())
        .is_some_and(|features| features.iter().any(|f| f == "ExtendWebSocketsToKubelet"))
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

/// A list of `path` served from the API server's cache (resourceVersion=0)
/// rather than read from etcd, restricted to `selector`, with `extra`
/// query parameters.
fn list_uri(path: &str, selector: Option<&str>, extra: &str) -> String {
    let mut uri = format!("{path}?resourceVersion=0{extra}");
    if let Some(selector) = selector.filter(|s| !s.is_empty()) {
        uri.push_str("&labelSelector=");
        uri.push_str(&percent_encode(selector));
    }
    uri
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

/// Every node's labels from a PartialObjectMetadataList in the API
/// server's protobuf encoding: the magic `k8s\0`, then a runtime.Unknown
/// whose `raw` holds the list.
///
/// Each stage is dropped as soon as the next is decoded: at 5,000 nodes
/// each is some 10 MB, and kept to the end they would add up in the
/// picker's peak memory.
fn decode_node_labels(
    body: Vec<u8>,
) -> std::result::Result<HashMap<String, BTreeMap<String, String>>, String> {
    let envelope = body
        .strip_prefix(b"k8s\0")
        .ok_or("the API server did not answer in protobuf")?;
    let raw = k8s_pb::apimachinery::pkg::runtime::Unknown::decode(envelope)
        .map_err(|e| format!("cannot decode the protobuf envelope: {e}"))?
        .raw
        .unwrap_or_default();
    drop(body);
    let list = k8s_pb::apimachinery::pkg::apis::meta::v1::PartialObjectMetadataList::decode(
        raw.as_slice(),
    )
    .map_err(|e| format!("cannot decode the node list: {e}"))?;
    drop(raw);
    Ok(list
        .items
        .into_iter()
        .filter_map(|item| {
            let metadata = item.metadata?;
            Some((metadata.name?, metadata.labels))
        })
        .collect())
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

/// The node Table's columns a [`NodeRow`] takes, in its order.
const NODE_ROW_COLUMNS: [&str; 5] = ["Status", "Roles", "Age", "Version", "Internal-IP"];

/// What a label column shows until the node's labels arrive.
const PENDING: &str = "…";

/// The picker's rows from the node Table's cells (name, then
/// [`NODE_ROW_COLUMNS`]): Ready nodes first, then by name. The label
/// columns are [`PENDING`].
pub fn node_rows(table: Vec<(String, Vec<String>)>) -> Vec<NodeRow> {
    let mut rows: Vec<NodeRow> = table
        .into_iter()
        .map(|(name, cells)| {
            let mut cells = cells.into_iter();
            let mut next = || cells.next().unwrap_or_default();
            let status = next();
            NodeRow {
                name,
                // "Ready", "NotReady" or "Unknown", then ",SchedulingDisabled"
                // for a cordoned node.
                ready: status.split(',').next() == Some("Ready"),
                status,
                roles: next(),
                age: next(),
                version: next(),
                internal_ip: next(),
                zone: PENDING.into(),
                instance_type: PENDING.into(),
                os: PENDING.into(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.ready.cmp(&a.ready).then_with(|| a.name.cmp(&b.name)));
    rows
}

/// Fills the label columns of `rows` from each node's labels: a label the
/// node lacks is `<none>`, as `kubectl get -L` shows it, and a node the
/// labels do not name (added since the Table, or the list failed) is
/// `<unknown>`.
pub fn fill_label_columns(
    rows: &mut [NodeRow],
    labels: &HashMap<String, BTreeMap<String, String>>,
) {
    for row in rows {
        let Some(labels) = labels.get(&row.name) else {
            row.zone = "<unknown>".into();
            row.instance_type = "<unknown>".into();
            row.os = "<unknown>".into();
            continue;
        };
        let label = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| labels.get(*k).cloned())
                .unwrap_or_else(|| "<none>".into())
        };
        row.zone = label(&[
            "topology.kubernetes.io/zone",
            "failure-domain.beta.kubernetes.io/zone",
        ]);
        row.instance_type = label(&[
            "node.kubernetes.io/instance-type",
            "beta.kubernetes.io/instance-type",
        ]);
        row.os = label(&["kubernetes.io/os", "beta.kubernetes.io/os"]);
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
            *width = (*width).max(cell.chars().count());
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

    fn cells(status: &str, roles: &str) -> Vec<String> {
        [status, roles, "6d", "v1.37.2", "10.0.1.17"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn picker_rows_put_ready_nodes_first_and_fill_the_label_columns_later() {
        let table = vec![
            (
                "b-ready".to_string(),
                cells("Ready,SchedulingDisabled", "worker"),
            ),
            ("a-down".to_string(), cells("NotReady", "<none>")),
            ("c-ready".to_string(), cells("Ready", "worker")),
            ("d-unknown".to_string(), cells("Unknown", "<none>")),
        ];
        let mut rows = node_rows(table);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["b-ready", "c-ready", "a-down", "d-unknown"]);
        assert_eq!(rows[0].status, "Ready,SchedulingDisabled");
        assert!(rows[0].ready && !rows[2].ready && !rows[3].ready);
        assert_eq!(
            aligned_lines(&rows)[1],
            "c-ready    Ready                     worker  6d  v1.37.2  10.0.1.17  …  …  …"
        );

        let labels = HashMap::from([
            (
                "c-ready".to_string(),
                BTreeMap::from([
                    (
                        "topology.kubernetes.io/zone".to_string(),
                        "eu-west-1a".to_string(),
                    ),
                    (
                        "node.kubernetes.io/instance-type".to_string(),
                        "m7i.large".to_string(),
                    ),
                    ("kubernetes.io/os".to_string(), "linux".to_string()),
                ]),
            ),
            (
                "b-ready".to_string(),
                BTreeMap::from([
                    (
                        "failure-domain.beta.kubernetes.io/zone".to_string(),
                        "old-1b".to_string(),
                    ),
                    ("beta.kubernetes.io/os".to_string(), "windows".to_string()),
                ]),
            ),
            ("a-down".to_string(), BTreeMap::new()),
        ]);
        fill_label_columns(&mut rows, &labels);
        let columns = |row: &NodeRow| (row.zone.clone(), row.instance_type.clone(), row.os.clone());
        let expect = |zone: &str, instance_type: &str, os: &str| {
            (zone.to_string(), instance_type.to_string(), os.to_string())
        };
        assert_eq!(columns(&rows[0]), expect("old-1b", "<none>", "windows"));
        assert_eq!(
            columns(&rows[1]),
            expect("eu-west-1a", "m7i.large", "linux")
        );
        assert_eq!(columns(&rows[2]), expect("<none>", "<none>", "<none>"));
        // Not in the label list: created after the Table was served.
        assert_eq!(
            columns(&rows[3]),
            expect("<unknown>", "<unknown>", "<unknown>")
        );
        let lines = aligned_lines(&rows);
        assert_eq!(
            lines[1],
            "c-ready    Ready                     worker  6d  v1.37.2  10.0.1.17  eu-west-1a  m7i.large  linux"
        );
        assert_eq!(
            lines[0].find("Ready"),
            lines[2].find("NotReady"),
            "columns line up"
        );
    }

    /// A node's name, if any, and its labels.
    type Item<'a> = (Option<&'a str>, &'a [(&'a str, &'a str)]);

    /// A PartialObjectMetadataList as the API server sends it in protobuf.
    fn protobuf_list(items: Vec<Item>) -> Vec<u8> {
        use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
        let list = meta::PartialObjectMetadataList {
            metadata: Some(meta::ListMeta::default()),
            items: items
                .into_iter()
                .map(|(name, labels)| meta::PartialObjectMetadata {
                    metadata: Some(meta::ObjectMeta {
                        name: name.map(String::from),
                        labels: labels
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                        managed_fields: vec![meta::ManagedFieldsEntry {
                            manager: Some("kubelet".into()),
                            fields_v1: Some(meta::FieldsV1 {
                                raw: Some(br#"{"f:status":{}}"#.to_vec()),
                            }),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                })
                .collect(),
        };
        let unknown = k8s_pb::apimachinery::pkg::runtime::Unknown {
            type_meta: Some(k8s_pb::apimachinery::pkg::runtime::TypeMeta {
                api_version: Some("meta.k8s.io/v1".into()),
                kind: Some("PartialObjectMetadataList".into()),
            }),
            raw: Some(list.encode_to_vec()),
            content_encoding: Some(String::new()),
            content_type: Some(String::new()),
        };
        [b"k8s\0".as_slice(), &unknown.encode_to_vec()].concat()
    }

    #[test]
    fn node_labels_are_read_from_the_protobuf_list() {
        let body = protobuf_list(vec![
            (
                Some("n1"),
                &[("kubernetes.io/os", "linux"), ("type", "kwok")],
            ),
            (Some("n2"), &[]),
            (None, &[("kubernetes.io/os", "linux")]),
        ]);
        let labels = decode_node_labels(body.clone()).unwrap();
        assert_eq!(labels.len(), 2, "an item without a name is skipped");
        assert_eq!(labels["n1"]["kubernetes.io/os"], "linux");
        assert_eq!(labels["n1"].len(), 2);
        assert!(labels["n2"].is_empty());

        let json = br#"{"kind":"PartialObjectMetadataList","items":[]}"#;
        assert_eq!(
            decode_node_labels(json.to_vec()).unwrap_err(),
            "the API server did not answer in protobuf"
        );
        assert!(decode_node_labels(body[..body.len() / 2].to_vec()).is_err());
        assert_eq!(percent_encode("a=b,c in (d)"), "a%3Db%2Cc%20in%20%28d%29");
        assert_eq!(
            list_uri("/api/v1/nodes", Some("type=kwok"), "&includeObject=None"),
            "/api/v1/nodes?resourceVersion=0&includeObject=None&labelSelector=type%3Dkwok"
        );
        assert_eq!(
            list_uri("/api/v1/nodes", Some(""), ""),
            "/api/v1/nodes?resourceVersion=0"
        );
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

    #[test]
    fn only_a_kubelet_that_declares_websockets_takes_the_exec_itself() {
        let node = |features: Option<Vec<&str>>| Node {
            status: Some(k8s_openapi::api::core::v1::NodeStatus {
                declared_features: features.map(|f| f.into_iter().map(String::from).collect()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(kubelet_takes_exec_directly(&node(Some(vec![
            "InPlacePodLevelResourcesVerticalScaling",
            "ExtendWebSocketsToKubelet",
        ]))));
        assert!(!kubelet_takes_exec_directly(&node(Some(vec![]))));
        assert!(!kubelet_takes_exec_directly(&node(None)));
        assert!(!kubelet_takes_exec_directly(&Node::default()));
    }
}
