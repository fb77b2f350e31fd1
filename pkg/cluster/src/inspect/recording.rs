//! Whether the namespace requires recording (`toolbox policy
//! --require-recording`), and what that means for each way onto a node, for
//! `toolbox compare`. Pure: the bound policies and the dry runs' verdicts
//! arrive as values.
//!
//! The requirement is read from the recording policy's annotation among the
//! [`BoundPolicy`]s ([`crate::inspect::admission`]). A member may not read
//! admission policies; then a dry-run refusal in the recording policy's own
//! words still tells.

use serde::Serialize;

use crate::inspect::admission::BoundPolicy;
use crate::inspect::comparison::Verdict;

/// The words with which every refusal of the recording policy starts
/// (pkg/policy's recording module).
const REQUIRED_WORDS: &str = "recording is required in namespace ";

/// Whether sessions must be recorded in the namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Requirement {
    /// The recording policy is bound there: it is named when it could be read.
    #[serde(rename_all = "camelCase")]
    Required {
        policy: Option<String>,
        recorder_image: Option<String>,
    },
    NotRequired,
    /// The policies could not be read, and no dry run was refused for it.
    Unknown {
        why: String,
    },
}

/// One way onto a node, and what the requirement does to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Consequence {
    pub approach: &'static str,
    /// None when the requirement is unknown.
    pub works: Option<bool>,
    pub why: String,
}

/// The requirement and its consequences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingCheck {
    pub requirement: Requirement,
    pub approaches: Vec<Consequence>,
}

/// What the namespace requires: from the bound policies when they could be
/// read (`policies` is their error otherwise), else from a dry run refused
/// in the recording policy's words.
pub fn requirement(policies: Result<&[BoundPolicy], &str>, verdicts: &[&Verdict]) -> Requirement {
    match policies {
        Ok(policies) => policies.iter().find(|p| p.recorder_image.is_some()).map_or(
            Requirement::NotRequired,
            |p| Requirement::Required {
                policy: Some(p.name.clone()),
                recorder_image: p.recorder_image.clone(),
            },
        ),
        Err(why) => {
            let refused_for_it = verdicts.iter().any(
                |v| matches!(v, Verdict::Rejected { message } if message.contains(REQUIRED_WORDS)),
            );
            if refused_for_it {
                Requirement::Required {
                    policy: None,
                    recorder_image: None,
                }
            } else {
                Requirement::Unknown {
                    why: why.to_string(),
                }
            }
        }
    }
}

/// What the requirement means for toolbox (recorded, and with
/// `--no-record`), kubectl debug node/ and kubectl-node-shell, and a plain
/// kubectl exec or attach. `toolbox` is the dry run of toolbox's own
/// session pod (node-shell's, or debug-node's if that one is admitted).
pub fn consequences(requirement: Requirement, toolbox: &Verdict) -> RecordingCheck {
    let required = match &requirement {
        Requirement::Required { .. } => Some(true),
        Requirement::NotRequired => Some(false),
        Requirement::Unknown { .. } => None,
    };
    let consequence = |approach, works: Option<bool>, why: &str| Consequence {
        approach,
        works,
        why: why.to_string(),
    };
    let approaches = match required {
        Some(true) => vec![
            match toolbox {
                Verdict::Admitted => consequence(
                    "toolbox node-shell / debug-node (recorded)",
                    Some(true),
                    "works: every exec runs the recorder, which records on the node and in the container log",
                ),
                _ => consequence(
                    "toolbox node-shell / debug-node (recorded)",
                    Some(false),
                    "its pod is not admitted here: see admission (dry run)",
                ),
            },
            consequence(
                "toolbox --no-record",
                Some(false),
                "refused at create: its pod carries no recorder",
            ),
            consequence(
                "kubectl debug node/, kubectl-node-shell",
                Some(false),
                "refused at create: their pods carry no recorder and keep stdin or a TTY open to attach to",
            ),
            consequence(
                "kubectl exec or attach into a toolbox pod",
                Some(false),
                "refused: an exec must run the recorder, and nothing may attach",
            ),
        ],
        Some(false) => vec![
            consequence(
                "toolbox node-shell / debug-node (recorded)",
                Some(true),
                "works, recorded",
            ),
            consequence("toolbox --no-record", Some(true), "works, unrecorded"),
            consequence(
                "kubectl debug node/, kubectl-node-shell",
                Some(true),
                "works, unrecorded (the audit log names only the exec or attach)",
            ),
            consequence(
                "kubectl exec or attach into a toolbox pod",
                Some(true),
                "works, unrecorded",
            ),
        ],
        None => vec![consequence(
            "every approach",
            None,
            "unknown: the admission policies could not be read (an admin can say whether toolbox policy --require-recording is applied)",
        )],
    };
    RecordingCheck {
        requirement,
        approaches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(name: &str, recorder_image: Option<&str>) -> BoundPolicy {
        BoundPolicy {
            kind: "ValidatingAdmissionPolicy",
            name: name.into(),
            binding: name.into(),
            default_ttl_seconds: None,
            max_ttl_seconds: None,
            group: None,
            recorder_image: recorder_image.map(String::from),
        }
    }

    #[test]
    fn the_recording_policy_s_annotation_says_recording_is_required() {
        let policies = [
            bound("toolbox-node-access-na", None),
            bound("toolbox-node-access-na-recording", Some("r:v1")),
        ];
        assert_eq!(
            requirement(Ok(&policies), &[]),
            Requirement::Required {
                policy: Some("toolbox-node-access-na-recording".into()),
                recorder_image: Some("r:v1".into()),
            }
        );
        assert_eq!(
            requirement(Ok(&policies[..1]), &[]),
            Requirement::NotRequired
        );
    }

    #[test]
    fn a_member_who_cannot_read_policies_learns_it_from_a_refusal() {
        let refused = Verdict::Rejected {
            message: "pods \"p\" is forbidden: ValidatingAdmissionPolicy 'x' with binding 'x' denied request: recording is required in namespace na: a node-access pod must carry the recorder".into(),
        };
        assert_eq!(
            requirement(Err("forbidden"), &[&Verdict::Admitted, &refused]),
            Requirement::Required {
                policy: None,
                recorder_image: None
            }
        );
        assert_eq!(
            requirement(Err("forbidden"), &[&Verdict::Admitted]),
            Requirement::Unknown {
                why: "forbidden".into()
            }
        );
    }

    #[test]
    fn where_it_is_required_only_toolbox_s_recorded_session_works() {
        let required = Requirement::Required {
            policy: Some("p".into()),
            recorder_image: None,
        };
        let check = consequences(required.clone(), &Verdict::Admitted);
        let works: Vec<(&str, Option<bool>)> = check
            .approaches
            .iter()
            .map(|c| (c.approach, c.works))
            .collect();
        assert_eq!(
            works,
            [
                ("toolbox node-shell / debug-node (recorded)", Some(true)),
                ("toolbox --no-record", Some(false)),
                ("kubectl debug node/, kubectl-node-shell", Some(false)),
                ("kubectl exec or attach into a toolbox pod", Some(false)),
            ]
        );
        let refused = Verdict::Rejected {
            message: "m".into(),
        };
        assert_eq!(
            consequences(required, &refused).approaches[0].works,
            Some(false)
        );
        assert!(
            consequences(Requirement::NotRequired, &Verdict::Admitted)
                .approaches
                .iter()
                .all(|c| c.works == Some(true))
        );
        let unknown = consequences(Requirement::Unknown { why: "x".into() }, &Verdict::Admitted);
        assert_eq!(unknown.approaches.len(), 1);
        assert_eq!(unknown.approaches[0].works, None);
    }
}
