//! The nodes a fan-out run targets: the nodes named (each must exist), or
//! every node a selector matches, sorted by name; then those the run skips
//! unless asked not to (NotReady, cordoned, another OS), with why.

use std::collections::HashMap;

use toolbox_podtemplate::NodeOs;

use super::lookup::{TargetNode, closest};
use super::nodeset::natural_cmp;
use crate::client::context::ClusterContext;
use crate::error::{ClusterError, Result};

/// Which nodes a run skips unless asked not to.
#[derive(Debug, Clone, Default)]
pub struct TargetFilter {
    pub include_not_ready: bool,
    pub include_cordoned: bool,
    /// Only nodes of this OS (`kubernetes.io/os`: linux, windows); None for any.
    pub os: Option<String>,
}

/// The nodes a run targets, and those it skips, with why.
#[derive(Debug, Default)]
pub struct Targets {
    pub nodes: Vec<TargetNode>,
    /// (node, reason): "NotReady", "cordoned", "OS windows".
    pub skipped: Vec<(String, String)>,
}

/// Up to this many named nodes are read one by one; more, with one list.
const NAMED_NODES_BY_GET: usize = 20;

impl ClusterContext {
    /// The nodes named (each must exist), or else every node `selector`
    /// matches, sorted by name; then those the filter skips set apart.
    pub async fn fanout_targets(
        &self,
        names: &[String],
        selector: Option<&str>,
        filter: &TargetFilter,
    ) -> Result<Targets> {
        let nodes = if names.is_empty() {
            let mut nodes = self.node_table(selector).await?;
            nodes.sort_by(|a, b| natural_cmp(&a.name, &b.name));
            nodes
        } else if names.len() <= NAMED_NODES_BY_GET {
            futures::future::try_join_all(names.iter().map(|name| self.get_node(name)))
                .await?
                .iter()
                .map(TargetNode::from)
                .collect()
        } else {
            let mut listed: HashMap<String, TargetNode> = self
                .node_table(None)
                .await?
                .into_iter()
                .map(|node| (node.name.clone(), node))
                .collect();
            let mut nodes = Vec::with_capacity(names.len());
            for name in names {
                match listed.remove(name) {
                    Some(node) => nodes.push(node),
                    None => {
                        let known: Vec<String> = listed.keys().cloned().collect();
                        return Err(ClusterError::NodeNotFound {
                            name: name.clone(),
                            suggestions: closest(name, &known, 3),
                        });
                    }
                }
            }
            nodes
        };
        let mut targets = Targets::default();
        for node in nodes {
            match skip_reason(&node, filter) {
                Some(reason) => targets.skipped.push((node.name, reason)),
                None => targets.nodes.push(node),
            }
        }
        Ok(targets)
    }
}

/// Why the filter skips `node`, if it does.
fn skip_reason(node: &TargetNode, filter: &TargetFilter) -> Option<String> {
    if !filter.include_not_ready && node.not_ready.is_some() {
        return Some("NotReady".into());
    }
    if !filter.include_cordoned && node.cordoned {
        return Some("cordoned".into());
    }
    if let Some(wanted) = &filter.os {
        let os = match node.os {
            NodeOs::Windows => "windows",
            NodeOs::Linux | NodeOs::Bottlerocket => "linux",
        };
        if os != wanted {
            return Some(format!("OS {os}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_say_readiness_cordoning_and_os() {
        let ready = TargetNode::from_row("n1".into(), "Ready", "Debian GNU/Linux 13", false);
        assert_eq!(
            (ready.not_ready.clone(), ready.cordoned, ready.os),
            (None, false, NodeOs::Linux)
        );
        let drained = TargetNode::from_row(
            "n2".into(),
            "NotReady,SchedulingDisabled",
            "Bottlerocket OS 1.20.0",
            false,
        );
        assert_eq!(drained.not_ready.as_deref(), Some("NotReady"));
        assert!(drained.cordoned);
        assert_eq!(drained.os, NodeOs::Bottlerocket);
        let windows = TargetNode::from_row("w1".into(), "Ready", "Windows Server 2022", true);
        assert_eq!(windows.os, NodeOs::Windows);
        let filter = TargetFilter {
            os: Some("linux".into()),
            ..TargetFilter::default()
        };
        assert_eq!(
            skip_reason(&windows, &filter).as_deref(),
            Some("OS windows")
        );
        assert_eq!(skip_reason(&drained, &filter).as_deref(), Some("NotReady"));
        assert_eq!(skip_reason(&ready, &filter), None);
    }
}
