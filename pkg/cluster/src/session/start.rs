//! Phase 2: the wait for the pod to start. One watch follows the pod
//! (never a poll) until it runs, fails, or the start timeout passes; the
//! kubelet's reason ends the wait as soon as it is known, and so does a
//! link to the API server that has gone silent. [`super::assess`] judges
//! each status; this file only waits. A session may try its exec before
//! the kubelet reports Running, once the sandbox is up ([`early_exec_due`]).

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use tokio::time::Instant;

use super::assess::{
    Assessment, Failure, assess, describe_state, event_line, failure_hint, merge_state,
    sandbox_ready,
};
use super::exec::{ExecIo, container_not_started};
use super::pods::Pods;
use super::spec::{Progress, SessionSpec, WaitState};
use super::watch::{PodSelection, PodUpdate, PodWatch};
use crate::error::{ClusterError, Result, api_status};

/// The watches of a starting pod: the pod's own (and its updates), and its
/// Events when a spinner shows them.
pub(super) type StartWatch = (
    PodWatch,
    tokio::sync::watch::Receiver<PodUpdate>,
    futures::stream::BoxStream<'static, kube::Result<WatchEvent<Event>>>,
);

impl Pods<'_> {
    /// Waits for the pod to start and runs the command in it. The exec
    /// does not wait for the kubelet to report Running: once the kubelet
    /// says the pod's sandbox is up, the exec is tried every
    /// [`EARLY_EXEC_INTERVAL`], and the first one the container takes is the
    /// session. A try the container refuses because it has not started yet
    /// fails at once and runs nothing; any other failure, and every start
    /// failure the watch reports, ends the session as before.
    pub(super) async fn wait_then_exec(
        &self,
        created: &Pod,
        (watch, updates, events): StartWatch,
        spec: &SessionSpec,
        progress: &dyn Progress,
        io: ExecIo<'_>,
    ) -> Result<i32> {
        let name = created.metadata.name.as_deref().unwrap_or_default();
        let deadline = Instant::now() + spec.start_timeout;
        let mut sandbox = updates.clone();
        let started = self.wait_for_start(
            created,
            updates,
            &watch,
            deadline,
            spec.start_timeout,
            progress,
            events,
        );
        tokio::pin!(started);
        let mut running = false;
        let mut early_tries = if spec.early_exec { 0 } else { EARLY_EXEC_TRIES };
        let attached = loop {
            if !running {
                tokio::select! {
                    result = &mut started => {
                        result?;
                        running = true;
                        crate::steps::step("container started");
                    }
                    () = early_exec_due(&mut sandbox, early_tries) => {}
                }
            }
            match self
                .open_exec(name, &spec.container, &spec.command, &io)
                .await
            {
                Ok(attached) => {
                    if !running {
                        crate::steps::step("container started");
                        tracing::debug!(
                            failed_tries = early_tries,
                            "the exec was taken before the kubelet reported Running"
                        );
                    }
                    break attached;
                }
                Err(err) if !running && container_not_started(&err) => {
                    early_tries += 1;
                    tracing::debug!(try_number = early_tries, error = %err, "the container has not started yet");
                }
                // Anything else before Running is judged after Running, by
                // the exec every session makes then, except a refusal of
                // the exec itself, which the wait would not change.
                Err(err)
                    if !running
                        && !api_status(&err).is_some_and(|s| matches!(s.code, 401 | 403)) =>
                {
                    tracing::debug!(error = %err, "early exec failed; waiting for Running");
                    early_tries = EARLY_EXEC_TRIES;
                }
                Err(err) => return Err(self.exec_error(name, err)),
            }
        };
        progress.started();
        let status = self.relay_exec(name, attached, io).await;
        crate::steps::step("command ended");
        status
    }

    /// Opens the watch of one starting pod, from the version its creation
    /// returned, and one of its Events when a spinner will show them.
    pub(super) async fn watch_start(
        &self,
        name: &str,
        from: &str,
        progress: &dyn Progress,
    ) -> Result<StartWatch> {
        let watch = PodWatch::default();
        let updates = watch.subscribe(name);
        // Both watches are asked for at once: the Events only feed the
        // spinner, and must not delay the pod's.
        let events = async {
            if !progress.wants_events() {
                return futures::stream::pending().boxed();
            }
            let events_api: Api<Event> =
                Api::namespaced(self.cluster.client.clone(), &self.cluster.namespace);
            let fields = format!("involvedObject.name={name},involvedObject.kind=Pod");
            match events_api
                .watch(&WatchParams::default().fields(&fields), "0")
                .await
            {
                Ok(stream) => stream.boxed(),
                Err(_) => futures::stream::pending().boxed(),
            }
        };
        let (opened, events) = tokio::join!(
            watch.open(self, PodSelection::Named(name.to_string()), from),
            events
        );
        opened?;
        Ok((watch, updates, events))
    }

    /// Follows one pod's updates from a [`PodWatch`] until it runs, fails,
    /// or `deadline` passes. Events, when a spinner shows them, name what
    /// the kubelet is doing meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn wait_for_start(
        &self,
        created: &Pod,
        mut updates: tokio::sync::watch::Receiver<PodUpdate>,
        watch: &PodWatch,
        deadline: Instant,
        timeout: Duration,
        progress: &dyn Progress,
        mut events: futures::stream::BoxStream<'static, kube::Result<WatchEvent<Event>>>,
    ) -> Result<()> {
        let name = created.metadata.name.clone().unwrap_or_default();
        let mut state = WaitState {
            phase: "Pending".into(),
            ..Default::default()
        };
        match assess(created) {
            Assessment::Running => return Ok(()),
            Assessment::Failed(f) => return Err(self.start_failure(&name, f).await),
            Assessment::Waiting(s) => state = merge_state(state, s),
        }
        progress.waiting(&state);
        let mut watch_gone = false;
        loop {
            tokio::select! {
                // The watch cannot say that it hears nothing: the link can.
                silent = self.cluster.link.silence() => {
                    crate::steps::step("link silent");
                    return Err(ClusterError::ConnectionLost {
                        namespace: self.cluster.namespace.clone(),
                        pod: name,
                        reason: crate::client::transport::silence_reason(silent),
                    });
                }
                _ = tokio::time::sleep_until(deadline) => {
                    let mut described = describe_state(&state);
                    if let Some(reason) = watch.unreachable() {
                        described.push_str(&format!("; the API server could not be reached: {reason}"));
                    }
                    return Err(ClusterError::StartTimeout {
                        pod: name,
                        seconds: timeout.as_secs(),
                        state: described,
                    });
                }
                event = events.try_next() => match event {
                    Ok(Some(WatchEvent::Added(e) | WatchEvent::Modified(e))) => {
                        state.last_event = Some(event_line(&e));
                        progress.waiting(&state);
                    }
                    Ok(Some(_)) => {}
                    // Events are only for the spinner: not worth a retry.
                    Ok(None) | Err(_) => events = futures::stream::pending().boxed(),
                },
                changed = updates.changed(), if !watch_gone => {
                    if changed.is_err() {
                        // The watch is gone: only the deadline is left.
                        watch_gone = true;
                        continue;
                    }
                    let update = updates.borrow_and_update().clone();
                    match update {
                        PodUpdate::Unseen => {}
                        PodUpdate::Changed(pod) => match assess(&pod) {
                            Assessment::Running => return Ok(()),
                            Assessment::Failed(f) => return Err(self.start_failure(&name, f).await),
                            Assessment::Waiting(s) => {
                                state = merge_state(state, s);
                                progress.waiting(&state);
                            }
                        },
                        PodUpdate::Deleted => {
                            return Err(ClusterError::PodFailed {
                                pod: name,
                                reason: "Deleted".into(),
                                message: Some("the pod was deleted while it was starting".into()),
                                hint: None,
                            });
                        }
                        PodUpdate::WatchFailed(reason) => {
                            return Err(ClusterError::WatchFailed {
                                namespace: self.cluster.namespace.clone(),
                                reason,
                            });
                        }
                    }
                }
            }
        }
    }

    /// A start failure, completed with the newest Warning Event's message
    /// when the pod status alone does not say enough.
    pub(super) async fn start_failure(&self, pod: &str, failure: Failure) -> ClusterError {
        let mut message = failure.message;
        if message.is_none() {
            let events: Api<Event> =
                Api::namespaced(self.cluster.client.clone(), &self.cluster.namespace);
            let fields = format!("involvedObject.name={pod}");
            if let Ok(list) = events.list(&ListParams::default().fields(&fields)).await {
                message = list
                    .items
                    .iter()
                    .filter(|e| e.type_.as_deref() == Some("Warning"))
                    .max_by_key(|e| e.last_timestamp.as_ref().map(|t| t.0))
                    .and_then(|e| e.message.clone());
            }
        }
        ClusterError::PodFailed {
            pod: pod.to_string(),
            hint: failure_hint(
                &failure.reason,
                message.as_deref().unwrap_or_default(),
                &format!(
                    "kubectl get events -n {}{} --field-selector involvedObject.name={pod}",
                    self.cluster.namespace, self.cluster.kubectl_flags
                ),
            ),
            reason: failure.reason,
            message,
        }
    }
}

/// How soon an exec that the container refused because it had not started
/// yet is tried again. A refused try costs the kubelet a lookup, no more.
const EARLY_EXEC_INTERVAL: Duration = Duration::from_millis(10);

/// How many early tries a session makes before it waits for Running as
/// before: a container this slow to start is better waited for than polled.
const EARLY_EXEC_TRIES: u32 = 12;

/// Resolves when the next early exec try is due: the first once the
/// kubelet reports the pod's sandbox ready (its containers are being
/// created), the next ones [`EARLY_EXEC_INTERVAL`] apart, and never after
/// [`EARLY_EXEC_TRIES`].
async fn early_exec_due(sandbox: &mut tokio::sync::watch::Receiver<PodUpdate>, tries: u32) {
    if tries >= EARLY_EXEC_TRIES {
        return std::future::pending().await;
    }
    if tries > 0 {
        return tokio::time::sleep(EARLY_EXEC_INTERVAL).await;
    }
    loop {
        let ready =
            matches!(&*sandbox.borrow_and_update(), PodUpdate::Changed(pod) if sandbox_ready(pod));
        if ready {
            return;
        }
        if sandbox.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({ "metadata": { "name": "p" }, "status": status })).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn early_tries_start_with_the_sandbox_and_stop_after_a_few() {
        let (sender, mut receiver) = tokio::sync::watch::channel(PodUpdate::Unseen);
        let first = tokio::spawn(async move {
            early_exec_due(&mut receiver, 0).await;
            receiver
        });
        tokio::task::yield_now().await;
        assert!(!first.is_finished(), "no try before the sandbox is up");
        let ready = pod(json!({ "phase": "Pending", "conditions": [
            { "type": "PodReadyToStartContainers", "status": "True" }] }));
        sender.send_replace(PodUpdate::Changed(std::sync::Arc::new(ready)));
        let mut receiver = first.await.unwrap();
        let before = Instant::now();
        early_exec_due(&mut receiver, 1).await;
        assert_eq!(before.elapsed(), EARLY_EXEC_INTERVAL);
        let last = tokio::time::timeout(
            Duration::from_secs(3600),
            early_exec_due(&mut receiver, EARLY_EXEC_TRIES),
        )
        .await;
        assert!(last.is_err(), "no more tries after {EARLY_EXEC_TRIES}");
    }
}
