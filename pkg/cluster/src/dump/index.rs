//! The bundle's `index.json`: the run (when, what spec, `--since`, the
//! caps), its totals, and each node with each item: where it is in the
//! bundle, its size and sha256, whether a cap cut it, what failed and why,
//! and what was redacted (kinds and counts, never a value). Pure.

use serde::Serialize;

use super::caps::{Cap, Caps};
use super::redact::{Counts, Kind};

/// The index's format; a reader checks it.
pub const INDEX_VERSION: u32 = 1;

/// The whole index.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub version: u32,
    /// RFC 3339, when the run started.
    pub created_at: String,
    pub run: RunFacts,
    pub caps: Caps,
    pub totals: Totals,
    /// Every item a cap cut or kept out, `NODE/ITEM` with the cap.
    pub capped: Vec<Capped>,
    pub nodes: Vec<NodeEntry>,
}

/// How the run was asked for.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunFacts {
    /// The kubeconfig context.
    pub context: String,
    /// "built-in", or the --spec file.
    pub spec: String,
    /// `--since`, as given (e.g. "1h"), and as a time (RFC 3339).
    pub since: String,
    pub since_time: String,
    pub pod_logs: bool,
    /// The namespace the nodes' pods ran in.
    pub namespace: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub nodes: usize,
    pub nodes_collected: usize,
    pub nodes_failed: usize,
    pub items: usize,
    pub items_collected: usize,
    pub items_truncated: usize,
    pub items_failed: usize,
    pub items_missing: usize,
    pub items_skipped: usize,
    /// Read from the nodes and the API server: what the caps count.
    pub bytes_read: u64,
    /// Written into the bundle, after redaction.
    pub bytes_written: u64,
    /// Values redacted, of every kind.
    pub redactions: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capped {
    pub node: String,
    pub item: String,
    pub cap: Cap,
    /// Cut (kept up to the cap), or not collected at all.
    pub truncated: bool,
}

/// How a node went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeStatus {
    /// Its pod ran (or none was needed); its items say how each went.
    Collected,
    /// It could not be collected: its pod did not run, or the run stopped.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeEntry {
    pub name: String,
    pub status: NodeStatus,
    /// The node's pod, when one was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod: Option<String>,
    /// Why the node failed: a short reason to group nodes by, and words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<NodeError>,
    /// The pod could not be deleted: how to remove it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_left: Option<String>,
    pub bytes_read: u64,
    pub items: Vec<ItemEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeError {
    pub reason: String,
    pub message: String,
}

/// How an item went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemStatus {
    /// Whole.
    Collected,
    /// Kept up to a cap; `cap` names it.
    Truncated,
    /// The read failed; `error` says why (what it wrote before is kept).
    Failed,
    /// Not on the node: the file, the tool or the service's log.
    Missing,
    /// Not read: a cap was reached before it, or the node's pod did not run.
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemEntry {
    /// `NAME`, or `NAME/PATH` for a file of a directory item.
    pub name: String,
    /// The spec's source, in words.
    pub source: String,
    pub status: ItemStatus,
    /// Its file, relative to the bundle's root; none when nothing was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The file's size and sha256 (after redaction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub bytes_read: u64,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<Cap>,
    /// Where on the node it was read, when the node chose (a flag's value,
    /// a service's journal or log file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redacted: Vec<Redaction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redaction {
    pub kind: Kind,
    pub count: u64,
}

impl ItemEntry {
    /// An item with nothing kept yet.
    pub fn new(name: String, source: String, status: ItemStatus) -> ItemEntry {
        ItemEntry {
            name,
            source,
            status,
            path: None,
            size: None,
            sha256: None,
            bytes_read: 0,
            truncated: false,
            cap: None,
            read_from: None,
            exit_code: None,
            error: None,
            note: None,
            redacted: Vec::new(),
        }
    }

    /// An item not read because `cap` was reached before it.
    pub fn skipped_at(name: String, source: String, cap: Cap) -> ItemEntry {
        ItemEntry {
            cap: Some(cap),
            note: Some(format!("not read: the {} cap was reached", cap.flag())),
            ..ItemEntry::new(name, source, ItemStatus::Skipped)
        }
    }

    pub fn redactions(counts: &Counts) -> Vec<Redaction> {
        counts
            .iter()
            .map(|(&kind, &count)| Redaction { kind, count })
            .collect()
    }
}

impl Index {
    /// The index of a run whose nodes went as `nodes` say.
    pub fn new(created_at: String, run: RunFacts, caps: Caps, nodes: Vec<NodeEntry>) -> Index {
        let mut totals = Totals {
            nodes: nodes.len(),
            ..Totals::default()
        };
        let mut capped = Vec::new();
        for node in &nodes {
            match node.status {
                NodeStatus::Collected => totals.nodes_collected += 1,
                NodeStatus::Failed => totals.nodes_failed += 1,
            }
            for item in &node.items {
                totals.items += 1;
                match item.status {
                    ItemStatus::Collected => totals.items_collected += 1,
                    ItemStatus::Truncated => totals.items_truncated += 1,
                    ItemStatus::Failed => totals.items_failed += 1,
                    ItemStatus::Missing => totals.items_missing += 1,
                    ItemStatus::Skipped => totals.items_skipped += 1,
                }
                totals.bytes_read += item.bytes_read;
                totals.bytes_written += item.size.unwrap_or(0);
                totals.redactions += item.redacted.iter().map(|r| r.count).sum::<u64>();
                if let Some(cap) = item.cap {
                    capped.push(Capped {
                        node: node.name.clone(),
                        item: item.name.clone(),
                        cap,
                        truncated: item.truncated,
                    });
                }
            }
        }
        Index {
            version: INDEX_VERSION,
            created_at,
            run,
            caps,
            totals,
            capped,
            nodes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> RunFacts {
        RunFacts {
            context: "local".into(),
            spec: "built-in".into(),
            since: "1h".into(),
            since_time: "2026-12-04T09:00:00Z".into(),
            pod_logs: false,
            namespace: "default".into(),
        }
    }

    #[test]
    fn the_index_totals_every_node_and_names_what_the_caps_stopped() {
        let collected = ItemEntry {
            path: Some("nodes/a/kubelet-config.yaml".into()),
            size: Some(90),
            sha256: Some("ab".into()),
            bytes_read: 100,
            redacted: ItemEntry::redactions(&Counts::from([
                (Kind::SecretKey, 2),
                (Kind::PrivateKey, 1),
            ])),
            ..ItemEntry::new(
                "kubelet-config.yaml".into(),
                "file /x".into(),
                ItemStatus::Collected,
            )
        };
        let cut = ItemEntry {
            size: Some(50),
            bytes_read: 50,
            truncated: true,
            cap: Some(Cap::PerNode),
            ..ItemEntry::new(
                "kubelet.log".into(),
                "service kubelet".into(),
                ItemStatus::Truncated,
            )
        };
        let skipped = ItemEntry::skipped_at("dmesg.txt".into(), "command dmesg".into(), Cap::Total);
        let failed_node = NodeEntry {
            name: "b".into(),
            status: NodeStatus::Failed,
            pod: Some("toolbox-dump-b-x".into()),
            error: Some(NodeError {
                reason: "ErrImagePull".into(),
                message: "pod toolbox-dump-b-x could not start".into(),
            }),
            pod_left: None,
            bytes_read: 0,
            items: vec![ItemEntry::new(
                "dmesg.txt".into(),
                "command dmesg".into(),
                ItemStatus::Skipped,
            )],
        };
        let node = NodeEntry {
            name: "a".into(),
            status: NodeStatus::Collected,
            pod: Some("toolbox-dump-a-x".into()),
            error: None,
            pod_left: None,
            bytes_read: 150,
            items: vec![collected, cut, skipped],
        };
        let caps = Caps {
            max_per_node: 150,
            max_total: 150,
        };
        let index = Index::new(
            "2026-12-04T10:00:00Z".into(),
            run(),
            caps,
            vec![node, failed_node],
        );
        assert_eq!(
            index.totals,
            Totals {
                nodes: 2,
                nodes_collected: 1,
                nodes_failed: 1,
                items: 4,
                items_collected: 1,
                items_truncated: 1,
                items_failed: 0,
                items_missing: 0,
                items_skipped: 2,
                bytes_read: 150,
                bytes_written: 140,
                redactions: 3,
            }
        );
        let json = serde_json::to_value(&index).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["caps"]["maxPerNode"], 150);
        assert_eq!(
            json["capped"],
            serde_json::json!([
                { "node": "a", "item": "kubelet.log", "cap": "per-node", "truncated": true },
                { "node": "a", "item": "dmesg.txt", "cap": "total", "truncated": false },
            ])
        );
        let item = &json["nodes"][0]["items"][0];
        assert_eq!(
            item["redacted"],
            serde_json::json!([
                { "kind": "secret-key", "count": 2 },
                { "kind": "private-key", "count": 1 },
            ])
        );
        assert_eq!(item["status"], "collected");
        assert!(item.get("error").is_none());
        assert_eq!(json["nodes"][1]["error"]["reason"], "ErrImagePull");
        assert_eq!(
            json["nodes"][0]["items"][2]["note"],
            "not read: the --max-total cap was reached"
        );
    }
}
