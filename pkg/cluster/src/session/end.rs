//! Phase 4: the one end-of-session decision. A pod created for the session
//! and a persisting pod the session reused end through the same table:
//!
//! | asked for      | the session | the pod                                         |
//! |----------------|-------------|-------------------------------------------------|
//! | `--keep`       | succeeded   | left running                                    |
//! | `--persist`    | succeeded   | left persisting for its idle time               |
//! | `--persist`    | failed      | deleted, unless reused (see below)              |
//! | anything else  | either way  | deleted                                         |
//!
//! A reused pod is left persisting even after a failed session, and even
//! when its idle time cannot be written: another session of the same user
//! may be running in it, and its holder and its TTL end it. A pod created
//! for the session whose idle time cannot be written could not be claimed
//! again either, so it is deleted, as without `--persist`.
//!
//! A pod that cannot be deleted is named in the outcome (or in the error
//! that ended the session), with when it stops by itself and how to
//! remove it now.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

use super::delete::{PodGuard, delete_unless_signalled};
use super::pods::Pods;
use super::spec::SessionOutcome;
use crate::error::{ClusterError, Result};
use crate::signals::Signals;
use crate::steps::step;

/// How the session asked for its pod to be left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Disposal {
    /// `--keep`: left running after a successful session.
    Keep,
    /// `--persist`: left persisting for this idle time, for the next session.
    Persist(Duration),
    /// Deleted.
    Delete,
}

/// A session whose command has ended, or that failed, with its pod.
pub(super) struct Ended<'a> {
    /// The pod, as the API server returned it.
    pub(super) pod: &'a Pod,
    pub(super) guard: PodGuard,
    /// The command's exit status, or what ended the session.
    pub(super) result: Result<i32>,
    /// How long the pod has lived: a command killed at the pod's lifetime
    /// is told from one killed earlier by it.
    pub(super) lived: Duration,
    /// The pod was there before the session: a persisting pod it reused.
    pub(super) reused: bool,
}

impl Pods<'_> {
    /// Leaves, persists or deletes the session's pod, as the table in this
    /// module's documentation says, and reports how the session ended.
    pub(super) async fn end(
        &self,
        ended: Ended<'_>,
        disposal: Disposal,
        signals: &mut Signals,
    ) -> Result<SessionOutcome> {
        let Ended {
            pod,
            guard,
            result,
            lived,
            reused,
        } = ended;
        let outcome = |exit_code, kept, not_deleted, persisting_until| SessionOutcome {
            pod: pod.metadata.name.clone().unwrap_or_default(),
            exit_code,
            kept,
            not_deleted,
            reused,
            persisting_until,
            ttl_reached: ttl_reached(exit_code, lived, pod),
        };
        match plan(disposal, result.is_ok(), reused) {
            Plan::Keep => {
                guard.keep();
                return result.map(|code| outcome(code, true, None, None));
            }
            Plan::Persist { idle, or_delete } => {
                let until = match self.leave_persisting(pod, idle).await {
                    Ok(until) => Some(until),
                    Err(reason) => {
                        tracing::debug!(%reason, "could not write the persisting pod's idle time");
                        None
                    }
                };
                if until.is_some() || !or_delete {
                    guard.keep();
                    step("pod left persisting");
                    return result.map(|code| outcome(code, false, None, until));
                }
            }
            Plan::Delete => {}
        }
        let deleted = delete_unless_signalled(guard, signals).await;
        step("pod deleted");
        match (result, deleted) {
            (Ok(code), deleted) => Ok(outcome(
                code,
                false,
                deleted.err().map(|reason| self.left(pod, reason)),
                None,
            )),
            (Err(err), Ok(())) => Err(err),
            (Err(err), Err(reason)) => Err(ClusterError::NotDeleted {
                cause: Box::new(err),
                left: Box::new(self.left(pod, reason)),
            }),
        }
    }
}

/// What [`Pods::end`] does with the pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Keep,
    /// Leave it persisting; `or_delete`: delete it when its idle time
    /// cannot be written.
    Persist {
        idle: Duration,
        or_delete: bool,
    },
    Delete,
}

/// The table of this module's documentation.
fn plan(disposal: Disposal, succeeded: bool, reused: bool) -> Plan {
    match disposal {
        Disposal::Keep if succeeded => Plan::Keep,
        Disposal::Persist(idle) if succeeded || reused => Plan::Persist {
            idle,
            or_delete: !reused,
        },
        _ => Plan::Delete,
    }
}

/// How much earlier than its lifetime a pod may seem to end, between the
/// kubelet's clock and ours.
const TTL_TOLERANCE: Duration = Duration::from_secs(1);

/// The pod's lifetime, when the command's end was the kubelet stopping the
/// pod at it: the status SIGKILL gives (137), once the pod has lived that
/// long. A command killed earlier (by the OOM killer, say) is not.
fn ttl_reached(exit_code: i32, lived: Duration, pod: &Pod) -> Option<Duration> {
    let ttl = pod.spec.as_ref()?.active_deadline_seconds?;
    let ttl = Duration::from_secs(u64::try_from(ttl).ok()?);
    (exit_code == 137 && lived + TTL_TOLERANCE >= ttl).then_some(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_decides_for_created_and_reused_pods() {
        let idle = Duration::from_secs(600);
        let persist = Disposal::Persist(idle);
        assert_eq!(plan(Disposal::Keep, true, false), Plan::Keep);
        assert_eq!(plan(Disposal::Keep, false, false), Plan::Delete);
        assert_eq!(
            plan(persist, true, false),
            Plan::Persist {
                idle,
                or_delete: true
            }
        );
        assert_eq!(plan(persist, false, false), Plan::Delete);
        let left_to_its_holder = Plan::Persist {
            idle,
            or_delete: false,
        };
        assert_eq!(plan(persist, true, true), left_to_its_holder);
        assert_eq!(plan(persist, false, true), left_to_its_holder);
        assert_eq!(plan(Disposal::Delete, true, true), Plan::Delete);
        assert_eq!(plan(Disposal::Delete, false, false), Plan::Delete);
    }

    #[test]
    fn only_a_kill_at_the_lifetime_is_the_ttl_reached() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": { "name": "p" }, "spec": { "containers": [], "activeDeadlineSeconds": 60 }
        }))
        .unwrap();
        let minute = Duration::from_secs(60);
        assert_eq!(ttl_reached(137, minute, &pod), Some(minute));
        assert_eq!(ttl_reached(137, Duration::from_secs(30), &pod), None);
        assert_eq!(ttl_reached(0, minute, &pod), None);
    }
}
