//! A node whose command is its container's own process (podtemplate's
//! `streamless_pod`): no exec and no stream. The run's one watch brings the
//! pod's status until its container has terminated; the exit code is the
//! terminated state's, the output the termination message's
//! (toolbox_recording::message). Only output longer than a message costs a
//! request of its own: one read of the pod's log.
//!
//! The judgement is pure ([`judge`]), the waiting is [`Run::own_process`].

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ContainerStateTerminated, Pod};
use kube::api::LogParams;
use tokio::time::Instant;
use toolbox_recording::message::{self, Output, Stream};

use super::lines::LineSplitter;
use super::run::{Run, not_run};
use super::spec::{INTERRUPTED, NodeOutcome, OUTPUT_FROM_LOG, OutputStream};
use crate::error::ClusterError;
use crate::session::assess::{Assessment, assess, describe_state};
use crate::session::spec::WaitState;
use crate::session::watch::PodUpdate;

/// What one status of a stream-less pod says.
#[derive(Debug)]
enum Judgement {
    /// Not started yet, and why.
    Waiting(WaitState),
    /// The command is running.
    Running,
    /// The command has ended: its container's terminated state, and the
    /// pod's reason when the kubelet stopped it (DeadlineExceeded).
    Ended {
        terminated: ContainerStateTerminated,
        pod_reason: Option<String>,
    },
    /// The pod cannot run the command (an image that cannot be pulled, an
    /// init container that failed).
    Failed(crate::session::assess::Failure),
}

fn judge(pod: &Pod, container: &str) -> Judgement {
    let status = pod.status.as_ref();
    let terminated = status
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|statuses| statuses.iter().find(|c| c.name == container))
        .and_then(|c| c.state.as_ref()?.terminated.clone());
    if let Some(terminated) = terminated {
        return Judgement::Ended {
            terminated,
            pod_reason: status.and_then(|s| s.reason.clone()),
        };
    }
    match assess(pod) {
        Assessment::Running => Judgement::Running,
        Assessment::Waiting(state) => Judgement::Waiting(state),
        Assessment::Failed(failure) => Judgement::Failed(failure),
    }
}

impl Run<'_> {
    /// Follows the node's pod until its command has ended, and passes its
    /// output on as a streamed run would, line by line.
    pub(super) async fn own_process(
        &self,
        node: &str,
        created: &Pod,
        mut updates: tokio::sync::watch::Receiver<PodUpdate>,
        container: &str,
    ) -> NodeOutcome {
        let name = created.metadata.name.clone().unwrap_or_default();
        let start_timeout = self.spec.start_timeout;
        let start_deadline = Instant::now() + start_timeout;
        // Set once the command runs: --command-timeout counts from there.
        let mut command_deadline: Option<Instant> = None;
        let mut pod = Arc::new(created.clone());
        let mut state = WaitState {
            phase: "Pending".into(),
            ..WaitState::default()
        };
        loop {
            match judge(&pod, container) {
                Judgement::Ended {
                    terminated,
                    pod_reason,
                } => {
                    if command_deadline.is_none() {
                        self.events.running(node);
                    }
                    return self
                        .ended(node, &pod, container, terminated, pod_reason)
                        .await;
                }
                Judgement::Failed(failure) => {
                    return not_run(&self.pods.start_failure(&name, failure).await);
                }
                Judgement::Running => {
                    if command_deadline.is_none() {
                        self.events.running(node);
                        let limit = self.spec.command_timeout.unwrap_or(Duration::MAX);
                        command_deadline =
                            Some(Instant::now().checked_add(limit).unwrap_or_else(far_future));
                    }
                }
                Judgement::Waiting(waiting) => state = waiting,
            }
            let running = command_deadline.is_some();
            let deadline = command_deadline.unwrap_or(start_deadline);
            tokio::select! {
                () = self.stop.cancelled() => {
                    return if running {
                        NodeOutcome::NotRun {
                            reason: INTERRUPTED.into(),
                            message: "the run stopped while the command ran".into(),
                        }
                    } else {
                        self.stopped()
                    };
                }
                silent = self.pods.cluster.link.silence() => {
                    return not_run(&ClusterError::ConnectionLost {
                        namespace: self.pods.cluster.namespace.clone(),
                        pod: name,
                        reason: crate::client::transport::silence_reason(silent),
                    });
                }
                () = tokio::time::sleep_until(deadline) => {
                    return if running {
                        NodeOutcome::NotRun {
                            reason: "command timeout".into(),
                            message: format!(
                                "the command ran longer than --command-timeout {}",
                                humantime::format_duration(
                                    self.spec.command_timeout.unwrap_or(Duration::MAX)
                                )
                            ),
                        }
                    } else {
                        not_run(&ClusterError::StartTimeout {
                            pod: name,
                            seconds: start_timeout.as_secs(),
                            state: describe_state(&state),
                        })
                    };
                }
                changed = updates.changed() => {
                    if changed.is_err() {
                        return not_run(&ClusterError::WatchFailed {
                            namespace: self.pods.cluster.namespace.clone(),
                            reason: "the run's watch ended".into(),
                        });
                    }
                    let update = updates.borrow_and_update().clone();
                    match update {
                        PodUpdate::Unseen => {}
                        PodUpdate::Changed(changed) => pod = changed,
                        PodUpdate::Deleted => {
                            return NodeOutcome::NotRun {
                                reason: "Deleted".into(),
                                message: format!("the pod {name} was deleted before its command ended"),
                            };
                        }
                        PodUpdate::WatchFailed(reason) => {
                            return not_run(&ClusterError::WatchFailed {
                                namespace: self.pods.cluster.namespace.clone(),
                                reason,
                            });
                        }
                    }
                }
            }
        }
    }

    /// The output and outcome of a command that has ended.
    async fn ended(
        &self,
        node: &str,
        pod: &Pod,
        container: &str,
        terminated: ContainerStateTerminated,
        pod_reason: Option<String>,
    ) -> NodeOutcome {
        let code = terminated.exit_code;
        let text = terminated.message.as_deref().unwrap_or_default();
        match message::decode(text) {
            Ok(Output::Whole(chunks)) => self.pass_on(node, &chunks),
            Ok(Output::TooLong { total }) => {
                let name = pod.metadata.name.as_deref().unwrap_or_default();
                match self.output_from_log(pod, name, container).await {
                    Ok(output) => {
                        self.events.remark(
                            node,
                            &format!(
                                "{OUTPUT_FROM_LOG}: its {total} bytes are more than a termination message holds, and the log has stdout and stderr as one stream"
                            ),
                        );
                        self.pass_on(node, &[(Stream::Stdout, output)]);
                    }
                    Err(err) => {
                        return NodeOutcome::NotRun {
                            reason: "output lost".into(),
                            message: format!(
                                "the command exited {code} with {total} bytes of output, more than a termination message holds, and its log could not be read: {err}"
                            ),
                        };
                    }
                }
            }
            Err(not_ours) => {
                return NodeOutcome::NotRun {
                    reason: "no output".into(),
                    message: format!(
                        "the container ended (exit {code}{}) without reporting its command: {not_ours}{}",
                        terminated
                            .reason
                            .as_deref()
                            .map(|r| format!(", {r}"))
                            .unwrap_or_default(),
                        if text.trim().is_empty() {
                            String::new()
                        } else {
                            format!(" (its message: {})", text.trim())
                        }
                    ),
                };
            }
        }
        if pod_reason.as_deref() == Some("DeadlineExceeded") {
            let ttl = pod
                .spec
                .as_ref()
                .and_then(|s| s.active_deadline_seconds)
                .unwrap_or_default();
            return NodeOutcome::NotRun {
                reason: "lifetime ended".into(),
                message: format!(
                    "the pod reached its lifetime ({ttl}s, --ttl) and the kubelet stopped the command (exit {code}); its output until then is above"
                ),
            };
        }
        NodeOutcome::Exited(code)
    }

    /// Passes `chunks` on line by line, in order, as a streamed run would.
    fn pass_on(&self, node: &str, chunks: &[(Stream, Vec<u8>)]) {
        let mut stdout = LineSplitter::default();
        let mut stderr = LineSplitter::default();
        let events = &self.events;
        for (stream, bytes) in chunks {
            match stream {
                Stream::Stdout => stdout.feed(bytes, &mut |line| {
                    events.line(node, OutputStream::Stdout, line)
                }),
                Stream::Stderr => stderr.feed(bytes, &mut |line| {
                    events.line(node, OutputStream::Stderr, line)
                }),
            }
        }
        stdout.finish(&mut |line| events.line(node, OutputStream::Stdout, line));
        stderr.finish(&mut |line| events.line(node, OutputStream::Stderr, line));
    }

    /// The whole output of a pod's command from its container log: the
    /// recording's output events when the pod records, else the log as the
    /// command wrote it.
    async fn output_from_log(
        &self,
        pod: &Pod,
        name: &str,
        container: &str,
    ) -> kube::Result<Vec<u8>> {
        let params = LogParams {
            container: Some(container.to_string()),
            ..LogParams::default()
        };
        let log = self.pods.api.logs(name, &params).await?;
        let recorded = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(toolbox_podtemplate::RECORDED_LABEL))
            .is_some_and(|v| v == "true");
        if !recorded {
            return Ok(log.into_bytes());
        }
        Ok(recorded_output(&log).into_bytes())
    }
}

/// The output events of the (one) recording in a stream-less pod's log.
fn recorded_output(log: &str) -> String {
    toolbox_recording::log::sessions_in_log(log)
        .into_iter()
        .flat_map(|session| session.events)
        .filter(|event| event.code == "o")
        .map(|event| event.data)
        .collect()
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({ "metadata": { "name": "p" }, "status": status }))
            .unwrap()
    }

    #[test]
    fn a_terminated_container_is_the_end_whatever_the_phase() {
        for phase in ["Running", "Succeeded", "Failed"] {
            let judged = judge(
                &pod(serde_json::json!({ "phase": phase, "containerStatuses": [
                    { "name": "shell", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                      "state": { "terminated": { "exitCode": 3, "message": "toolbox-output/1\n" } } }] })),
                "shell",
            );
            assert!(
                matches!(&judged, Judgement::Ended { terminated, .. } if terminated.exit_code == 3),
                "{phase}: {judged:?}"
            );
        }
        let killed = judge(
            &pod(
                serde_json::json!({ "phase": "Failed", "reason": "DeadlineExceeded", "containerStatuses": [
                { "name": "shell", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                  "state": { "terminated": { "exitCode": 143 } } }] }),
            ),
            "shell",
        );
        assert!(
            matches!(&killed, Judgement::Ended { pod_reason: Some(r), .. } if r == "DeadlineExceeded"),
            "{killed:?}"
        );
    }

    #[test]
    fn a_pull_failure_fails_and_a_running_container_runs() {
        let pulling = judge(
            &pod(
                serde_json::json!({ "phase": "Pending", "containerStatuses": [
                { "name": "shell", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                  "state": { "waiting": { "reason": "ErrImagePull" } } }] }),
            ),
            "shell",
        );
        assert!(matches!(pulling, Judgement::Failed(_)), "{pulling:?}");
        let running = judge(
            &pod(
                serde_json::json!({ "phase": "Running", "containerStatuses": [
                { "name": "shell", "image": "i", "imageID": "", "ready": true, "restartCount": 0,
                  "state": { "running": {} } }] }),
            ),
            "shell",
        );
        assert!(matches!(running, Judgement::Running), "{running:?}");
        let waiting = judge(&pod(serde_json::json!({ "phase": "Pending" })), "shell");
        assert!(matches!(waiting, Judgement::Waiting(_)), "{waiting:?}");
    }

    #[test]
    fn a_recorded_log_gives_its_output_events_and_skips_the_rest() {
        let log = concat!(
            "{\"session\":\"n.1\",\"cast\":{\"version\":2,\"width\":80,\"height\":24,\"timestamp\":0,\"command\":\"x\",\"env\":{},\"toolbox\":{}}}\n",
            "{\"session\":\"n.1\",\"cast\":[0.1,\"o\",\"one\\n\"]}\n",
            "toolbox-recorder: a warning of its own\n",
            "{\"session\":\"n.1\",\"cast\":[0.2,\"o\",\"two\\n\"]}\n",
            "{\"session\":\"n.1\",\"cast\":[0.3,\"m\",\"exit 0\"]}\n",
        );
        assert_eq!(recorded_output(log), "one\ntwo\n");
    }
}
