//! Persisting sessions (`--persist`): finding the user's own pod that the
//! next session may reuse, claiming it with a record of the reuse, and
//! leaving a pod persisting when a session ends.
//!
//! Only a pod that is the same user's (its `requested-by`), on the same
//! node, in the same namespace and of the same shape (image, flags,
//! profile: see `toolbox_podtemplate::pod_shape`) is reused, and never one
//! that is terminating, not running, past its idle time or about to reach
//! its TTL. The pod's own holder ends it when idle (see
//! `toolbox_podtemplate::make_persisting`); `toolbox.dev/idle-until` only
//! tells people and the next session when that will be.

use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;
use toolbox_podtemplate::{
    CLIENT_HOST_ANNOTATION, COMMAND_ANNOTATION, EXPIRES_AT_ANNOTATION, IDLE_UNTIL_ANNOTATION,
    MANAGED_BY_LABEL, MANAGED_BY_TOOLBOX, MAX_REUSES_RECORDED, NODE_LABEL, PERSIST_LABEL,
    REQUESTED_BY_ANNOTATION, REUSES_ANNOTATION, SHAPE_LABEL,
};

use super::pods::Pods;
use crate::error::{api_status, innermost_cause};

/// A pod whose idle time ends sooner than this is not reused: its holder
/// may end it under the new session.
const IDLE_MARGIN: Duration = Duration::from_secs(3);
/// A pod whose TTL ends sooner than this is not reused: a session in it
/// would be cut short almost at once.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// What the lookup found among the user's persisting pods.
#[derive(Debug, Default)]
pub(crate) struct Found {
    /// The pod to reuse, if one qualifies.
    pub reusable: Option<Pod>,
    /// The user's persisting pods of this node that have ended (their
    /// holder ended them when idle): nothing runs in them, but the objects
    /// are still there.
    pub ended: Vec<String>,
}

/// Whether `pod` may be reused by `user` at `now`, and if not, why not.
pub(crate) fn reusable(pod: &Pod, user: &str, now: Timestamp) -> Result<(), &'static str> {
    let annotations = pod.metadata.annotations.clone().unwrap_or_default();
    if annotations.get(REQUESTED_BY_ANNOTATION).map(String::as_str) != Some(user) {
        return Err("another user's");
    }
    if pod.metadata.deletion_timestamp.is_some() {
        return Err("terminating");
    }
    let status = pod.status.as_ref();
    let running = status.and_then(|s| s.phase.as_deref()) == Some("Running")
        && status
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|c| {
                !c.is_empty()
                    && c.iter()
                        .all(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
            });
    if !running {
        return Err("not running");
    }
    let at = |key: &str| -> Option<Timestamp> { annotations.get(key)?.parse().ok() };
    let margin = |d: Duration| now.as_second() + d.as_secs() as i64;
    if let Some(idle_until) = at(IDLE_UNTIL_ANNOTATION)
        && idle_until.as_second() < margin(IDLE_MARGIN)
    {
        return Err("past its idle time");
    }
    match at(EXPIRES_AT_ANNOTATION) {
        Some(expires) if expires.as_second() >= margin(EXPIRY_MARGIN) => Ok(()),
        Some(_) => Err("about to reach its TTL"),
        None => Err("without an expiry"),
    }
}

/// The annotations that record one more session in a reused pod: the
/// reuse (time, command, host) appended to its record, and no idle time
/// while the session runs.
pub(crate) fn reuse_record(pod: &Pod, session: &Pod, now: Timestamp) -> serde_json::Value {
    let annotation = |pod: &Pod, key: &str| {
        pod.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .cloned()
    };
    let mut reuses: Vec<serde_json::Value> = annotation(pod, REUSES_ANNOTATION)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let command: serde_json::Value = annotation(session, COMMAND_ANNOTATION)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| json!([]));
    reuses.push(json!({
        "at": now.to_string(),
        "command": command,
        "clientHost": annotation(session, CLIENT_HOST_ANNOTATION).unwrap_or_default(),
    }));
    let keep_from = reuses.len().saturating_sub(MAX_REUSES_RECORDED);
    let reuses = serde_json::Value::Array(reuses.split_off(keep_from));
    json!({
        "metadata": {
            "resourceVersion": pod.metadata.resource_version,
            "annotations": {
                REUSES_ANNOTATION: reuses.to_string(),
                IDLE_UNTIL_ANNOTATION: null,
            }
        }
    })
}

/// When a pod left now ends if no session comes: after its idle time, and
/// never after its TTL.
pub(crate) fn idle_until(pod: &Pod, idle: Duration, now: SystemTime) -> String {
    let idle_end = Timestamp::try_from(now + idle).unwrap_or(Timestamp::MAX);
    let expires: Option<Timestamp> = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(EXPIRES_AT_ANNOTATION))
        .and_then(|t| t.parse().ok());
    let until = match expires {
        Some(expires) if expires < idle_end => expires,
        _ => idle_end,
    };
    // Whole seconds, as the other toolbox timestamps.
    Timestamp::from_second(until.as_second())
        .unwrap_or(until)
        .to_string()
}

impl Pods<'_> {
    /// The user's persisting pods on `session`'s node with `session`'s shape,
    /// in one list request.
    pub(crate) async fn find_persisting(&self, session: &Pod, shape: &str) -> Found {
        let labels = session.metadata.labels.clone().unwrap_or_default();
        let node = labels.get(NODE_LABEL).cloned().unwrap_or_default();
        let user = session
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REQUESTED_BY_ANNOTATION))
            .cloned()
            .unwrap_or_default();
        let selector = format!(
            "{MANAGED_BY_LABEL}={MANAGED_BY_TOOLBOX},{PERSIST_LABEL}=true,{NODE_LABEL}={node},{SHAPE_LABEL}={shape}"
        );
        let list = match self
            .api
            .list(&ListParams::default().labels(&selector))
            .await
        {
            Ok(list) => list,
            Err(err) => {
                // Not finding one is no failure: the session starts a pod.
                tracing::debug!(error = %err, "could not look for a persisting pod");
                return Found::default();
            }
        };
        let now = Timestamp::now();
        let mut found = Found::default();
        for pod in list.items {
            let name = pod.metadata.name.clone().unwrap_or_default();
            match reusable(&pod, &user, now) {
                Ok(()) => {
                    let later = |p: &Pod| {
                        p.metadata
                            .annotations
                            .as_ref()
                            .and_then(|a| a.get(EXPIRES_AT_ANNOTATION))
                            .cloned()
                    };
                    // The one with the most time left.
                    if found
                        .reusable
                        .as_ref()
                        .is_none_or(|best| later(best) < later(&pod))
                    {
                        found.reusable = Some(pod);
                    }
                }
                Err(why) => {
                    tracing::debug!(pod = %name, why, "persisting pod not reused");
                    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
                    if why != "another user's" && matches!(phase, Some("Succeeded" | "Failed")) {
                        found.ended.push(name);
                    }
                }
            }
        }
        found
    }

    /// Records a session in `pod` on the pod itself; fails when the pod
    /// changed since it was listed (another session claimed it, or it is
    /// ending), or when the user may not patch pods.
    pub(crate) async fn claim_persisting(
        &self,
        pod: &Pod,
        session: &Pod,
    ) -> std::result::Result<(), kube::Error> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let now = Timestamp::now();
        let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
        let patch = reuse_record(pod, session, now);
        self.api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map(|_| ())
    }

    /// Leaves `pod` persisting: writes when it ends if no session comes.
    /// Returns that time.
    pub(crate) async fn leave_persisting(
        &self,
        pod: &Pod,
        idle: Duration,
    ) -> std::result::Result<String, String> {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let until = idle_until(pod, idle, SystemTime::now());
        let patch = json!({ "metadata": { "annotations": { IDLE_UNTIL_ANNOTATION: until } } });
        let (params, patch) = (PatchParams::default(), Patch::Merge(&patch));
        let attempt = self.api.patch(&name, &params, &patch);
        match tokio::time::timeout(Duration::from_secs(5), attempt).await {
            Ok(Ok(_)) => Ok(until),
            Ok(Err(err)) => Err(match api_status(&err) {
                Some(status) => status.message.clone(),
                None => innermost_cause(&err),
            }),
            Err(_) => Err("no answer within 5s".into()),
        }
    }

    /// Deletes pods whose holder already ended them; they run nothing, so
    /// a failure is only logged.
    pub(crate) async fn delete_ended(&self, names: &[String]) {
        let params = DeleteParams::default();
        let deletions = names.iter().map(|name| self.api.delete(name, &params));
        for (name, result) in names.iter().zip(futures::future::join_all(deletions).await) {
            if let Err(err) = result {
                tracing::debug!(pod = %name, error = %err, "could not delete an ended persisting pod");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(user: &str, phase: &str, idle_until: Option<&str>, expires: &str) -> Pod {
        let mut annotations = json!({
            "toolbox.dev/requested-by": user,
            "toolbox.dev/expires-at": expires,
            "toolbox.dev/command": "[\"node-shell\",\"--\",\"uptime\"]",
            "toolbox.dev/client-host": "laptop",
        });
        if let Some(until) = idle_until {
            annotations["toolbox.dev/idle-until"] = json!(until);
        }
        serde_json::from_value(json!({
            "metadata": { "name": "p", "resourceVersion": "42", "annotations": annotations },
            "status": { "phase": phase, "containerStatuses": [{
                "name": "shell", "image": "i", "imageID": "", "ready": true, "restartCount": 0,
                "state": if phase == "Running" { json!({ "running": {} }) } else { json!({ "terminated": { "exitCode": 0 } }) }
            }] }
        }))
        .unwrap()
    }

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn only_the_users_own_running_pod_within_its_idle_time_is_reused() {
        let expires = "2026-11-27T11:00:00Z";
        assert_eq!(
            reusable(&pod("alice", "Running", None, expires), "alice", now()),
            Ok(())
        );
        assert_eq!(
            reusable(
                &pod("alice", "Running", Some("2026-11-27T10:05:00Z"), expires),
                "alice",
                now()
            ),
            Ok(())
        );
        assert_eq!(
            reusable(&pod("alice", "Running", None, expires), "dev", now()),
            Err("another user's")
        );
        assert_eq!(
            reusable(&pod("alice", "Succeeded", None, expires), "alice", now()),
            Err("not running")
        );
        assert_eq!(
            reusable(
                &pod("alice", "Running", Some("2026-11-27T10:00:02Z"), expires),
                "alice",
                now()
            ),
            Err("past its idle time")
        );
        assert_eq!(
            reusable(
                &pod("alice", "Running", None, "2026-11-27T10:00:30Z"),
                "alice",
                now()
            ),
            Err("about to reach its TTL")
        );
        let mut terminating = pod("alice", "Running", None, expires);
        terminating.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
        assert_eq!(reusable(&terminating, "alice", now()), Err("terminating"));
    }

    #[test]
    fn a_reuse_is_recorded_with_its_time_command_and_host() {
        let persisting = pod("alice", "Running", Some("2026-11-27T10:05:00Z"), "x");
        let mut session = pod("alice", "Running", None, "x");
        session.metadata.annotations.as_mut().unwrap().insert(
            COMMAND_ANNOTATION.into(),
            "[\"node-shell\",\"--\",\"df\"]".into(),
        );
        let patch = reuse_record(&persisting, &session, now());
        assert_eq!(patch["metadata"]["resourceVersion"], "42");
        assert!(patch["metadata"]["annotations"][IDLE_UNTIL_ANNOTATION].is_null());
        let reuses: serde_json::Value = serde_json::from_str(
            patch["metadata"]["annotations"][REUSES_ANNOTATION]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            reuses,
            json!([{ "at": "2026-11-27T10:00:00Z", "command": ["node-shell", "--", "df"], "clientHost": "laptop" }])
        );
    }

    #[test]
    fn the_record_keeps_the_newest_reuses() {
        let mut persisting = pod("alice", "Running", None, "x");
        let old: Vec<_> = (0..MAX_REUSES_RECORDED)
            .map(|i| json!({ "at": format!("old-{i}") }))
            .collect();
        persisting
            .metadata
            .annotations
            .as_mut()
            .unwrap()
            .insert(REUSES_ANNOTATION.into(), json!(old).to_string());
        let patch = reuse_record(&persisting, &persisting.clone(), now());
        let reuses: Vec<serde_json::Value> = serde_json::from_str(
            patch["metadata"]["annotations"][REUSES_ANNOTATION]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(reuses.len(), MAX_REUSES_RECORDED);
        assert_eq!(reuses[0]["at"], "old-1");
        assert_eq!(reuses.last().unwrap()["at"], "2026-11-27T10:00:00Z");
    }

    #[test]
    fn idle_time_never_runs_past_the_ttl() {
        let at: SystemTime = std::time::UNIX_EPOCH + Duration::from_secs(now().as_second() as u64);
        let p = pod("alice", "Running", None, "2026-11-27T10:30:00Z");
        assert_eq!(
            idle_until(&p, Duration::from_secs(600), at),
            "2026-11-27T10:10:00Z"
        );
        assert_eq!(
            idle_until(&p, Duration::from_secs(7200), at),
            "2026-11-27T10:30:00Z"
        );
    }
}
