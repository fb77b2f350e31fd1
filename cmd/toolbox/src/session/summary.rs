//! How a fan-out run went, as its summary: the nodes grouped by outcome
//! (succeeded, failed by exit code, could not run by reason, skipped by
//! reason) with folded node sets, the run's exit status, and the text
//! people read on stderr. `-o` prints the same summary in its document.

use serde::Serialize;
use toolbox_cluster::nodes::nodeset::fold;
use toolbox_cluster::session::fanout::NodeOutcome;

use crate::exit::ExitStatus;

/// The flag that runs on nodes skipped for `reason`.
pub fn include_hint(reason: &str) -> &'static str {
    match reason {
        "NotReady" => "--include-not-ready runs on them",
        "cordoned" => "--include-cordoned runs on them",
        _ => "--os any runs on every OS",
    }
}

/// Skipped nodes by reason.
pub fn skipped_groups(skipped: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    grouped(
        skipped
            .iter()
            .map(|(node, reason)| (reason.clone(), node.clone())),
    )
}

/// Values grouped by key, in the order each key first appears.
fn grouped<K: PartialEq, V>(items: impl IntoIterator<Item = (K, V)>) -> Vec<(K, Vec<V>)> {
    let mut groups: Vec<(K, Vec<V>)> = Vec::new();
    for (key, value) in items {
        match groups.iter_mut().find(|(known, _)| *known == key) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    groups
}

/// How the run went, by outcome, with folded node sets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Nodes the command was to run on (skipped ones aside).
    nodes: usize,
    succeeded: usize,
    failed: usize,
    not_run: usize,
    skipped: usize,
    groups: Vec<Group>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Group {
    /// succeeded, failed, notRun or skipped.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The first node's error, for nodes that did not run the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    count: usize,
    nodes: String,
}

impl Summary {
    pub fn new(
        nodes: &[String],
        outcomes: &[NodeOutcome],
        skipped: &[(String, String)],
    ) -> Summary {
        let mut succeeded = Vec::new();
        let mut failed = Vec::new();
        let mut not_run = Vec::new();
        for (node, outcome) in nodes.iter().zip(outcomes) {
            match outcome {
                NodeOutcome::Exited(0) => succeeded.push(node.clone()),
                NodeOutcome::Exited(code) => failed.push((*code, node.clone())),
                NodeOutcome::NotRun { reason, message } => {
                    not_run.push((reason.clone(), (node.clone(), message.clone())))
                }
            }
        }
        let mut failed = grouped(failed);
        failed.sort_by_key(|(_, nodes)| std::cmp::Reverse(nodes.len()));
        let mut not_run = grouped(not_run);
        not_run.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
        let group = |outcome, nodes: &[String]| Group {
            outcome,
            exit_code: None,
            reason: None,
            message: None,
            count: nodes.len(),
            nodes: fold(nodes),
        };
        let mut groups = Vec::new();
        if !succeeded.is_empty() {
            groups.push(group("succeeded", &succeeded));
        }
        for (code, nodes) in &failed {
            groups.push(Group {
                exit_code: Some(*code),
                ..group("failed", nodes)
            });
        }
        for (reason, members) in &not_run {
            let nodes: Vec<String> = members.iter().map(|(node, _)| node.clone()).collect();
            groups.push(Group {
                reason: Some(reason.clone()),
                // The first node's message stands for the group's.
                message: members.first().map(|(_, message)| message.clone()),
                ..group("notRun", &nodes)
            });
        }
        for (reason, nodes) in skipped_groups(skipped) {
            groups.push(Group {
                reason: Some(reason),
                ..group("skipped", &nodes)
            });
        }
        Summary {
            nodes: nodes.len(),
            succeeded: succeeded.len(),
            failed: failed.iter().map(|(_, n)| n.len()).sum(),
            not_run: not_run.iter().map(|(_, n)| n.len()).sum(),
            skipped: skipped.len(),
            groups,
        }
    }

    /// 0 when every node ran the command with status 0; else 6 when some
    /// could not run it, else 5 (see docs/fan-out.md).
    pub fn exit_status(&self) -> ExitStatus {
        if self.not_run > 0 {
            ExitStatus::NodesNotRun
        } else if self.failed > 0 {
            ExitStatus::CommandsFailed
        } else {
            ExitStatus::Success
        }
    }

    /// The summary as people read it, on stderr.
    pub fn render(&self) -> String {
        let mut text = format!(
            "{} node{}: {} succeeded, {} failed, {} could not run",
            self.nodes,
            if self.nodes == 1 { "" } else { "s" },
            self.succeeded,
            self.failed,
            self.not_run
        );
        if self.skipped > 0 {
            text.push_str(&format!("; {} skipped", self.skipped));
        }
        text.push('\n');
        for group in &self.groups {
            let label = match (group.outcome, group.exit_code, &group.reason) {
                ("failed", Some(code), _) => format!("exit {code}"),
                ("notRun", _, Some(reason)) => format!("could not run ({reason})"),
                ("skipped", _, Some(reason)) => format!("skipped ({reason})"),
                (outcome, _, _) => outcome.to_string(),
            };
            text.push_str(&format!("  {label}: {}", group.nodes));
            match (group.outcome, &group.message, &group.reason) {
                ("notRun", Some(message), _) => text.push_str(&format!(": {message}")),
                ("skipped", _, Some(reason)) => {
                    text.push_str(&format!("; {}", include_hint(reason)))
                }
                _ => {}
            }
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_summary_groups_nodes_by_outcome_and_sets_the_exit_status() {
        let nodes = names(&["n-01", "n-02", "n-03", "n-04", "n-05"]);
        let pull = NodeOutcome::NotRun {
            reason: "ImagePullBackOff".into(),
            message: "pod p could not start: ImagePullBackOff".into(),
        };
        let outcomes = vec![
            NodeOutcome::Exited(0),
            NodeOutcome::Exited(0),
            NodeOutcome::Exited(3),
            pull,
            NodeOutcome::Exited(0),
        ];
        let skipped = vec![("n-06".to_string(), "NotReady".to_string())];
        let summary = Summary::new(&nodes, &outcomes, &skipped);
        assert_eq!(
            summary.render(),
            "5 nodes: 3 succeeded, 1 failed, 1 could not run; 1 skipped\n  succeeded: n-[01-02,05]\n  exit 3: n-03\n  could not run (ImagePullBackOff): n-04: pod p could not start: ImagePullBackOff\n  skipped (NotReady): n-06; --include-not-ready runs on them\n"
        );
        assert_eq!(summary.exit_status(), ExitStatus::NodesNotRun);
        let failed_only = Summary::new(&nodes[..3], &outcomes[..3], &[]);
        assert_eq!(failed_only.exit_status(), ExitStatus::CommandsFailed);
        let all_good = Summary::new(&nodes[..2], &outcomes[..2], &skipped);
        assert_eq!(all_good.exit_status(), ExitStatus::Success);
    }
}
