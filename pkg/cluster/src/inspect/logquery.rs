//! Whether the kubelet's node log query is there for `toolbox logs`: on
//! the node (the kubelet answers it: asked for its own log, for no line)
//! and to the user (a SelfSubjectAccessReview of get nodes/proxy). Where
//! both are, toolbox logs reads the node's logs without a pod.

use serde::Serialize;

use crate::client::context::ClusterContext;
use crate::error::Result;
use crate::inspect::review::Permission;
use crate::nodelogs::answer::{Unavailable, UnitProbe};
use crate::nodelogs::probe_unit;

/// What the node's kubelet says of the node log query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "state"
)]
pub enum QueryOnNode {
    /// It answers; `kubelet_log` is where its own log is: "journal", or
    /// "file" (under /var/log, which toolbox filters itself).
    Answers { kubelet_log: &'static str },
    /// It does not: why, and what an admin would change.
    Off { why: String, remedy: String },
    /// It could not be asked: you may not get nodes/proxy.
    Unknown { why: String },
    /// The kubelet could not be reached, or refused the question.
    Failed { message: String },
}

/// The node log query, on the node and for the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogQueryCheck {
    pub on_node: QueryOnNode,
    /// You may get nodes/proxy, which the query needs.
    pub for_you: bool,
}

impl LogQueryCheck {
    /// Whether `toolbox logs` reads the node's logs without a pod.
    pub fn without_a_pod(&self) -> bool {
        self.for_you && matches!(self.on_node, QueryOnNode::Answers { .. })
    }

    /// In words, for compare's table.
    pub fn describe(&self) -> String {
        let on_node = match &self.on_node {
            QueryOnNode::Answers { kubelet_log } => format!(
                "the kubelet answers it (its own log is {})",
                if *kubelet_log == "journal" {
                    "in the journal"
                } else {
                    "a file under /var/log, which toolbox filters itself"
                }
            ),
            QueryOnNode::Off { why, .. } => format!("off: {why}"),
            QueryOnNode::Unknown { why } => format!("unknown: {why}"),
            QueryOnNode::Failed { message } => format!("not answered: {message}"),
        };
        let for_you = if self.for_you {
            "you may get nodes/proxy"
        } else {
            "you may not get nodes/proxy"
        };
        let then = if self.without_a_pod() {
            "toolbox logs reads this node's logs without a pod".to_string()
        } else {
            let remedy = match &self.on_node {
                QueryOnNode::Off { remedy, .. } => remedy.clone(),
                _ if !self.for_you => "to read logs without a pod, an admin grants you get on nodes/proxy (cluster-wide: see docs/security.md)".to_string(),
                _ => String::new(),
            };
            let mut line = "toolbox logs reads this node's logs with a short-lived pod".to_string();
            if !remedy.is_empty() {
                line.push_str("; ");
                line.push_str(&remedy);
            }
            line
        };
        format!("{on_node}; {for_you}: {then}")
    }
}

/// The kubelet's answer to the probe, as compare reports it.
pub fn query_on_node(probe: UnitProbe) -> QueryOnNode {
    match probe {
        UnitProbe::Journal => QueryOnNode::Answers {
            kubelet_log: "journal",
        },
        UnitProbe::File => QueryOnNode::Answers {
            kubelet_log: "file",
        },
        UnitProbe::Unavailable(why @ Unavailable::NotAllowed { .. }) => {
            QueryOnNode::Unknown { why: why.why() }
        }
        UnitProbe::Unavailable(why) => QueryOnNode::Off {
            why: why.why(),
            remedy: why.remedy().to_string(),
        },
        UnitProbe::Failed(message) => QueryOnNode::Failed { message },
    }
}

impl ClusterContext {
    /// Asks the node's kubelet and the API server, together.
    pub async fn log_query_check(&self, node: &str) -> Result<LogQueryCheck> {
        let permission = Permission {
            verb: "get",
            resource: "nodes",
            subresource: Some("proxy"),
            namespace: None,
        };
        let permissions = [permission];
        let (probe, reviews) = tokio::join!(
            probe_unit(self, node, "kubelet"),
            self.check_permissions(&permissions)
        );
        let on_node = match probe {
            Ok(probe) => query_on_node(probe),
            Err(err) => QueryOnNode::Failed {
                message: err.to_string(),
            },
        };
        Ok(LogQueryCheck {
            on_node,
            for_you: reviews?.first().is_some_and(|check| check.allowed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_says_whether_a_pod_is_needed_and_what_avoids_it() {
        let answers = LogQueryCheck {
            on_node: query_on_node(UnitProbe::File),
            for_you: true,
        };
        assert!(answers.without_a_pod());
        assert_eq!(
            answers.describe(),
            "the kubelet answers it (its own log is a file under /var/log, which toolbox filters itself); you may get nodes/proxy: toolbox logs reads this node's logs without a pod"
        );
        let off = LogQueryCheck {
            on_node: query_on_node(UnitProbe::Unavailable(Unavailable::QueryOff)),
            for_you: true,
        };
        assert!(!off.without_a_pod());
        assert!(
            off.describe()
                .starts_with("off: the kubelet does not answer"),
            "{}",
            off.describe()
        );
        assert!(off.describe().contains("enableSystemLogQuery: true"));
        let not_yours = LogQueryCheck {
            on_node: query_on_node(UnitProbe::Unavailable(Unavailable::NotAllowed {
                message: "forbidden".into(),
            })),
            for_you: false,
        };
        assert!(
            not_yours
                .describe()
                .starts_with("unknown: you may not get nodes/proxy"),
            "{}",
            not_yours.describe()
        );
        assert!(
            not_yours
                .describe()
                .contains("an admin grants you get on nodes/proxy")
        );
    }

    #[test]
    fn compare_s_json_names_the_state_and_its_fields_in_camel_case() {
        let answers = LogQueryCheck {
            on_node: query_on_node(UnitProbe::File),
            for_you: true,
        };
        assert_eq!(
            serde_json::to_value(&answers).unwrap(),
            serde_json::json!({"forYou": true, "onNode": {"state": "answers", "kubeletLog": "file"}})
        );
    }
}
