//! Phase 2, the judgement without the waiting: what one pod status says
//! about a session's start (running, still waiting and why, or failed and
//! why), and the words and hints for it. Pure functions of the pod, as
//! `kube::runtime::conditions` are; [`super::start`] does the waiting.

use k8s_openapi::api::core::v1::{Event, Pod};

use super::spec::WaitState;

/// What one status of a starting pod says.
pub(super) enum Assessment {
    Running,
    Waiting(WaitState),
    Failed(Failure),
}

/// Why a pod cannot start: the kubelet's reason, and its message.
#[derive(Debug)]
pub(super) struct Failure {
    pub(super) reason: String,
    pub(super) message: Option<String>,
}

/// Container waiting reasons that a kubelet does not recover from by itself
/// within a session's patience.
const FATAL_WAITING_REASONS: &[&str] = &[
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "CrashLoopBackOff",
];

pub(super) fn assess(pod: &Pod) -> Assessment {
    let Some(status) = pod.status.as_ref() else {
        return Assessment::Waiting(WaitState {
            phase: "Pending".into(),
            ..Default::default()
        });
    };
    let phase = status.phase.clone().unwrap_or_else(|| "Pending".into());
    let containers = status.container_statuses.as_deref().unwrap_or_default();
    if matches!(phase.as_str(), "Failed" | "Succeeded") {
        let terminated = containers
            .iter()
            .find_map(|c| c.state.as_ref()?.terminated.as_ref());
        let reason = status
            .reason
            .clone()
            .or_else(|| terminated.and_then(|t| t.reason.clone()))
            .unwrap_or_else(|| phase.clone());
        let message = status
            .message
            .clone()
            .or_else(|| terminated.map(exit_words));
        return Assessment::Failed(Failure { reason, message });
    }
    // An init container (the recorder's installer) that cannot start, or
    // fails, holds the pod in Pending for good: say so as for the main one.
    let init_containers = status
        .init_container_statuses
        .as_deref()
        .unwrap_or_default();
    for container in init_containers {
        let Some(state) = container.state.as_ref() else {
            continue;
        };
        let name = &container.name;
        if let Some(waiting) = &state.waiting {
            let reason = waiting.reason.clone().unwrap_or_default();
            if FATAL_WAITING_REASONS.contains(&reason.as_str()) {
                return Assessment::Failed(Failure {
                    reason,
                    message: Some(match &waiting.message {
                        Some(message) => format!("init container {name}: {message}"),
                        None => format!("init container {name}"),
                    }),
                });
            }
        }
        if let Some(terminated) = state.terminated.as_ref().filter(|t| t.exit_code != 0) {
            return Assessment::Failed(Failure {
                reason: terminated.reason.clone().unwrap_or_else(|| "Error".into()),
                message: Some(format!("init container {name}: {}", exit_words(terminated))),
            });
        }
    }
    for container in containers {
        let Some(state) = container.state.as_ref() else {
            continue;
        };
        if let Some(waiting) = &state.waiting {
            let reason = waiting.reason.clone().unwrap_or_default();
            if FATAL_WAITING_REASONS.contains(&reason.as_str()) {
                return Assessment::Failed(Failure {
                    reason,
                    message: waiting.message.clone(),
                });
            }
        }
        if let Some(terminated) = &state.terminated {
            return Assessment::Failed(Failure {
                reason: terminated
                    .reason
                    .clone()
                    .unwrap_or_else(|| "Terminated".into()),
                message: Some(exit_words(terminated)),
            });
        }
    }
    let all_running = !containers.is_empty()
        && containers
            .iter()
            .all(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()));
    if phase == "Running" && all_running {
        return Assessment::Running;
    }
    let detail = containers
        .iter()
        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    Assessment::Waiting(WaitState {
        phase,
        detail,
        last_event: None,
    })
}

/// Whether the kubelet reports the pod's sandbox up, so that its
/// containers are being created: the PodReadyToStartContainers condition
/// (PodHasNetwork before Kubernetes 1.29).
pub(super) fn sandbox_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions.iter().any(|c| {
                matches!(
                    c.type_.as_str(),
                    "PodReadyToStartContainers" | "PodHasNetwork"
                ) && c.status == "True"
            })
        })
}

/// "container exited with code 128: exec: "sleep": executable file not found
/// in $PATH": the code, and the runtime's reason without the layers that
/// only repeat that a container could not be started.
pub(super) fn exit_words(
    terminated: &k8s_openapi::api::core::v1::ContainerStateTerminated,
) -> String {
    let code = terminated.exit_code;
    match terminated.message.as_deref().map(str::trim) {
        Some(message) if !message.is_empty() => {
            let reason = message
                .rsplit("unable to start container process: ")
                .next()
                .unwrap_or(message);
            let reason = reason.strip_suffix(": unknown").unwrap_or(reason);
            format!("container exited with code {code}: {reason}")
        }
        _ => format!("container exited with code {code}"),
    }
}

pub(super) fn merge_state(previous: WaitState, next: WaitState) -> WaitState {
    WaitState {
        last_event: previous.last_event,
        ..next
    }
}

pub(super) fn describe_state(state: &WaitState) -> String {
    let mut text = state.phase.clone();
    if let Some(detail) = &state.detail {
        text.push_str(&format!(", {detail}"));
    }
    if let Some(event) = &state.last_event {
        text.push_str(&format!("; last event: {event}"));
    }
    text
}

pub(super) fn event_line(event: &Event) -> String {
    format!(
        "{}: {}",
        event.reason.as_deref().unwrap_or("Event"),
        event.message.as_deref().unwrap_or_default().trim()
    )
}

/// The way out of a failure, from the kubelet's reason and, where it tells
/// causes apart, its message. `events` is the kubectl command that lists
/// the pod's Events.
pub(super) fn failure_hint(reason: &str, message: &str, events: &str) -> Option<String> {
    match reason {
        "ErrImageNeverPull" => Some(
            "the image is not on the node and --image-pull-policy is Never: use an image the node has, or let it pull (--image-pull-policy IfNotPresent)".into(),
        ),
        "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName" => Some(
            "check --image, and pass --image-pull-secret if the registry needs credentials".into(),
        ),
        "CreateContainerConfigError" if message.contains("runAsNonRoot") => Some(
            "the profile forbids root and the image runs as root: use an image with a non-root USER, or another --profile".into(),
        ),
        "CreateContainerConfigError" | "CreateContainerError" => {
            Some("the kubelet could not create the container from its configuration".into())
        }
        "DeadlineExceeded" => Some("the pod outlived its --ttl; start a new session".into()),
        // The holder could not be started: the image has no `sleep`.
        _ if message.contains("executable file not found") => Some(
            "the image cannot run toolbox's holder (`sleep`), which keeps the pod up for the session: use an image that has sleep and sh (busybox, alpine and debian do)".into(),
        ),
        "OOMKilled" => Some(
            "the container ran out of memory: raise the memory limit (the resources.memory_limit setting, or TOOLBOX_RESOURCES__MEMORY_LIMIT)".into(),
        ),
        // The holder, `sleep`, ended by itself: a crash of the image's or the node's making.
        "Error" | "StartError" | "ContainerCannotRun" | "Completed" => Some(format!(
            "the container stopped before the session began; the kubelet's Events on the pod say why, and outlast it for an hour: {events}"
        )),
        // The kubelet's own admission: OutOfpods, OutOfcpu, OutOfmemory, ...
        full if full.starts_with("OutOf") => Some(
            "the node is full; --priority-class system-node-critical has the kubelet make room, as for its other critical pods".into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({ "metadata": { "name": "p" }, "status": status })).unwrap()
    }

    #[test]
    fn running_pods_with_running_containers_are_ready() {
        let p = pod(json!({ "phase": "Running", "containerStatuses": [
            { "name": "c", "image": "i", "imageID": "", "ready": true, "restartCount": 0, "state": { "running": {} } }] }));
        assert!(matches!(assess(&p), Assessment::Running));
    }

    #[test]
    fn the_sandbox_is_ready_when_the_kubelet_says_containers_can_start() {
        let creating = |condition: &str, status: &str| {
            pod(json!({ "phase": "Pending", "conditions": [
                { "type": "PodScheduled", "status": "True" },
                { "type": condition, "status": status }] }))
        };
        assert!(sandbox_ready(&creating(
            "PodReadyToStartContainers",
            "True"
        )));
        assert!(sandbox_ready(&creating("PodHasNetwork", "True")));
        assert!(!sandbox_ready(&creating(
            "PodReadyToStartContainers",
            "False"
        )));
        assert!(!sandbox_ready(&pod(json!({ "phase": "Pending" }))));
    }

    #[test]
    fn an_init_container_that_cannot_start_or_fails_fails_the_pod() {
        let pulling = pod(json!({ "phase": "Pending", "initContainerStatuses": [
            { "name": "toolbox-recorder", "image": "r", "imageID": "", "ready": false, "restartCount": 0,
              "state": { "waiting": { "reason": "ErrImagePull", "message": "not found" } } }] }));
        let Assessment::Failed(failure) = assess(&pulling) else {
            panic!("an unpullable recorder image fails the pod");
        };
        assert_eq!(failure.reason, "ErrImagePull");
        assert_eq!(
            failure.message.as_deref(),
            Some("init container toolbox-recorder: not found")
        );
        let installed = pod(json!({ "phase": "Pending", "initContainerStatuses": [
            { "name": "toolbox-recorder", "image": "r", "imageID": "", "ready": true, "restartCount": 0,
              "state": { "terminated": { "exitCode": 0, "reason": "Completed" } } }] }));
        assert!(
            matches!(assess(&installed), Assessment::Waiting(_)),
            "installed: go on waiting"
        );
        let failed = pod(json!({ "phase": "Pending", "initContainerStatuses": [
            { "name": "toolbox-recorder", "image": "r", "imageID": "", "ready": false, "restartCount": 0,
              "state": { "terminated": { "exitCode": 1, "reason": "Error" } } }] }));
        let Assessment::Failed(failure) = assess(&failed) else {
            panic!("a failed install fails the pod");
        };
        assert_eq!(
            failure.message.as_deref(),
            Some("init container toolbox-recorder: container exited with code 1")
        );
    }

    #[test]
    fn a_container_that_stopped_before_the_session_gets_a_hint() {
        let events = "kubectl get events -n a --field-selector involvedObject.name=p";
        let crashed = failure_hint("Error", "container exited with code 1", events).unwrap();
        assert!(crashed.ends_with(events), "{crashed}");
        let no_sleep = failure_hint(
            "StartError",
            "container exited with code 128: exec: \"sleep\": executable file not found in $PATH",
            events,
        )
        .unwrap();
        assert!(no_sleep.contains("sleep and sh"), "{no_sleep}");
        let oom = failure_hint("OOMKilled", "container exited with code 137", events).unwrap();
        assert!(oom.contains("memory_limit"), "{oom}");
    }

    #[test]
    fn the_runtimes_reason_is_kept_without_its_wrapping() {
        let terminated =
            |message: Option<&str>| k8s_openapi::api::core::v1::ContainerStateTerminated {
                exit_code: 128,
                message: message.map(String::from),
                ..Default::default()
            };
        assert_eq!(
            exit_words(&terminated(Some(
                "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"sleep\": executable file not found in $PATH: unknown"
            ))),
            "container exited with code 128: exec: \"sleep\": executable file not found in $PATH"
        );
        assert_eq!(
            exit_words(&terminated(None)),
            "container exited with code 128"
        );
        assert_eq!(
            exit_words(&terminated(Some("simulated crash"))),
            "container exited with code 128: simulated crash"
        );
    }

    #[test]
    fn hints_tell_causes_apart_by_the_kubelets_message() {
        let never = failure_hint(
            "ErrImageNeverPull",
            "Container image \"x\" is not present with pull policy of Never",
            "",
        )
        .unwrap();
        assert!(never.contains("--image-pull-policy"), "{never}");
        let root = failure_hint(
            "CreateContainerConfigError",
            "container has runAsNonRoot and image will run as root",
            "",
        )
        .unwrap();
        assert!(
            root.contains("non-root USER") && root.contains("--profile"),
            "{root}"
        );
        let full = failure_hint("OutOfpods", "Node didn't have enough resource: pods", "").unwrap();
        assert!(
            full.contains("--priority-class system-node-critical"),
            "{full}"
        );
        let other =
            failure_hint("CreateContainerConfigError", "secret \"s\" not found", "").unwrap();
        assert!(other.contains("from its configuration"), "{other}");
    }

    #[test]
    fn image_pull_errors_fail_at_once_with_a_hint() {
        let p = pod(json!({ "phase": "Pending", "containerStatuses": [
            { "name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
              "state": { "waiting": { "reason": "ImagePullBackOff", "message": "Back-off pulling image" } } }] }));
        let Assessment::Failed(f) = assess(&p) else {
            panic!("should fail")
        };
        assert_eq!(f.reason, "ImagePullBackOff");
        assert!(
            failure_hint(&f.reason, "", "")
                .unwrap()
                .contains("--image-pull-secret")
        );
    }

    #[test]
    fn deadline_exceeded_and_terminated_containers_fail() {
        let p = pod(
            json!({ "phase": "Failed", "reason": "DeadlineExceeded", "message": "Pod was active too long" }),
        );
        let Assessment::Failed(f) = assess(&p) else {
            panic!("should fail")
        };
        assert_eq!(f.reason, "DeadlineExceeded");
        let crashed = pod(json!({ "phase": "Pending", "containerStatuses": [
            { "name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
              "state": { "terminated": { "exitCode": 1, "reason": "Error" } } }] }));
        let Assessment::Failed(f) = assess(&crashed) else {
            panic!("should fail")
        };
        assert_eq!(f.message.as_deref(), Some("container exited with code 1"));
    }

    #[test]
    fn pending_pods_wait_with_their_container_reason() {
        let p = pod(json!({ "phase": "Pending", "containerStatuses": [
            { "name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
              "state": { "waiting": { "reason": "ContainerCreating" } } }] }));
        let Assessment::Waiting(state) = assess(&p) else {
            panic!("should wait")
        };
        assert_eq!(state.detail.as_deref(), Some("ContainerCreating"));
    }
}
