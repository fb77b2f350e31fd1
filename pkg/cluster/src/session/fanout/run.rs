//! The driver of a fan-out run: every node's session, `spec.fanout` at a
//! time, through the phases of the single-node lifecycle with the run's one
//! watch; then the run's pods deleted however it ended.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::deletions::{BatchDeleter, RunGuard, delete_run};
use super::lines::LineSink;
use super::pace::{Admitted, Pace};
use super::spec::{
    FanoutEvents, FanoutReport, FanoutSpec, INTERRUPTED, LeftRun, NOT_STARTED, NodeOutcome,
    NodeSession, NodeWork, OutputStream, RUN_LABEL, SLOT_LABEL,
};
use crate::client::context::ClusterContext;
use crate::error::{ClusterError, Result, api_status};
use crate::session::delete::DeleteFailure;
use crate::session::exec::ExecIo;
use crate::session::lifetime::LearntMaximum;
use crate::session::pods::Pods;
use crate::session::spec::Silent;
use crate::session::watch::{PodSelection, PodUpdate, PodWatch};
use crate::signals::Signals;

/// After a signal, how long pods whose creation was already asked for may
/// take to answer, so that the run's deletion finds them.
const CREATE_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs each node's session, `spec.fanout` at a time, and deletes every
/// pod of the run however it ends: normally, by a signal, on an error that
/// stops the run, or on a lost connection.
pub async fn run(
    cluster: &ClusterContext,
    spec: FanoutSpec<'_>,
    events: Arc<dyn FanoutEvents>,
) -> Result<FanoutReport> {
    // Caught before any pod exists, so that no signal can kill toolbox
    // between creating a pod and deleting it.
    let mut signals = Signals::install()?;
    let pods = Pods::of(cluster);
    let api = pods.api.clone();
    let selector = format!("{RUN_LABEL}={}", spec.run_id);
    // Opened before any pod exists: a refused watch stops the run
    // before it creates anything, and no pod's change goes unseen.
    let watch = PodWatch::default();
    watch
        .open(&pods, PodSelection::Labelled(selector.clone()), "0")
        .await?;
    let guard = RunGuard::new(api.clone(), cluster.clients.clone(), selector.clone());
    // The creates go through the pace, which sends a refused one again
    // itself; at a fixed width, kube's retry does.
    let creates = if spec.back_off {
        let client = cluster.clients.paced_client(&cluster.link).map_err(|err| {
            cluster.request_error(
                crate::error::Action::namespaced("create", "pods", &cluster.namespace),
                err,
            )
        })?;
        Pods::through(cluster, client)
    } else {
        pods.clone()
    };
    let run = Run {
        pods: &pods,
        creates,
        spec: &spec,
        watch: &watch,
        events: events.clone(),
        stop: CancellationToken::new(),
        stop_reason: Mutex::new(None),
        aborted: Mutex::new(None),
        deletions: BatchDeleter::start(api.clone(), spec.run_id.clone()),
        maximum: LearntMaximum::default(),
        pace: Pace::new(spec.fanout, cluster.link.clone(), spec.back_off),
        live: Arc::new(Semaphore::new(spec.fanout.max(1) * LIVE_PODS_PER_WIDTH)),
    };

    let mut outcomes: Vec<Option<NodeOutcome>> = vec![None; spec.nodes.len()];
    let mut interrupted = None;
    {
        let run = &run;
        let work = futures::stream::iter(0..spec.nodes.len())
            .map(|i| async move { (i, run.node(i).await) })
            .buffer_unordered(spec.fanout.max(1));
        tokio::pin!(work);
        loop {
            tokio::select! {
                next = work.next() => match next {
                    Some((i, outcome)) => {
                        events.finished(&spec.nodes[i], &outcome);
                        outcomes[i] = Some(outcome);
                    }
                    None => break,
                },
                signal = signals.recv() => {
                    if interrupted.is_some() {
                        // A second signal: stop waiting for creations
                        // to answer; the run's deletion still follows.
                        break;
                    }
                    interrupted = Some(signal);
                    run.stop_with(format!("interrupted by {signal}"));
                    tracing::debug!(%signal, "stopping the run");
                }
            }
        }
    }
    run.deletions.stop();
    let outcomes = outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| run.stopped()))
        .collect();
    let aborted = run
        .aborted
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    drop(watch);
    let left = tokio::select! {
        result = delete_run(&api, &selector) => result.err(),
        signal = signals.recv() => Some(DeleteFailure::Unreachable(format!("deletion given up on {signal}"))),
    };
    guard.disarm();
    Ok(FanoutReport {
        outcomes,
        interrupted,
        aborted,
        left: left.map(|failure| LeftRun {
            namespace: cluster.namespace.clone(),
            run_id: spec.run_id.clone(),
            reason: failure.to_string(),
            flags: cluster.kubectl_flags.clone(),
        }),
    })
}

/// What the nodes of one run share.
pub(super) struct Run<'a> {
    pub(super) pods: &'a Pods<'a>,
    /// Where the nodes' pods are created: `pods` through a client of its
    /// own, without kube's retry, when the run backs off.
    creates: Pods<'a>,
    pub(super) spec: &'a FanoutSpec<'a>,
    watch: &'a PodWatch,
    pub(super) events: Arc<dyn FanoutEvents>,
    /// Cancelled by a signal or by an error that concerns every node.
    pub(super) stop: CancellationToken,
    stop_reason: Mutex<Option<String>>,
    aborted: Mutex<Option<ClusterError>>,
    deletions: BatchDeleter,
    /// The namespace's maximum lifetime, once a pod was fitted to it
    /// (see [`super::lifetime`]).
    maximum: LearntMaximum,
    /// How many creates are in flight at once.
    pace: Pace,
    /// The run's pods that exist: a node takes a place before its pod is
    /// created and gives it back once the pod's deletion is answered, so
    /// that a run faster than its deletions waits for them rather than
    /// leave thousands of finished pods for the end.
    live: Arc<Semaphore>,
}

/// How many of a run's pods may exist at once, per unit of its width: the
/// nodes in flight, and as many finished ones whose deletion is on its way.
const LIVE_PODS_PER_WIDTH: usize = 2;

impl Run<'_> {
    fn stop_with(&self, reason: String) {
        self.stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(reason);
        self.stop.cancel();
    }

    pub(super) fn stopped(&self) -> NodeOutcome {
        let reason = self
            .stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| "the run stopped".into());
        NodeOutcome::NotRun {
            reason: NOT_STARTED.into(),
            message: reason,
        }
    }

    /// One node's session: the single-node lifecycle, with the run's watch
    /// and the run's deletions.
    async fn node(&self, i: usize) -> NodeOutcome {
        if self.stop.is_cancelled() {
            return self.stopped();
        }
        let node = &self.spec.nodes[i];
        let NodeSession {
            mut pod,
            container,
            work,
        } = match (self.spec.session_for)(i) {
            Ok(session) => session,
            Err(message) => {
                return NodeOutcome::NotRun {
                    reason: "no pod".into(),
                    message,
                };
            }
        };
        let labels = pod.metadata.labels.get_or_insert_default();
        labels.insert(RUN_LABEL.into(), self.spec.run_id.clone());
        labels.insert(SLOT_LABEL.into(), i.to_string());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let pod = self.maximum.fit(pod);

        let updates = self.watch.subscribe(&name);
        let (place, admitted) = tokio::select! {
            admitted = async {
                let place = self.live.clone().acquire_owned().await.ok();
                (place, self.pace.admit().await)
            } => admitted,
            () = self.stop.cancelled() => {
                self.watch.unsubscribe(&name);
                return self.stopped();
            }
        };
        // Not cancelled by a signal: a creation already sent is let answer,
        // for a while, so that the pod it makes is known and deleted with
        // the run. Until then it takes as long as the server asks: one that
        // throttles (429, Retry-After) is answering, and a silent link is
        // the transport's to end (crate::client::transport).
        let creating = self.create_paced(&pod, i, admitted);
        tokio::pin!(creating);
        let created = tokio::select! {
            created = &mut creating => Ok(created),
            () = self.stop.cancelled() => tokio::time::timeout(CREATE_DRAIN_TIMEOUT, &mut creating).await,
        };
        let created = match created {
            Ok(Ok(created)) => created,
            Ok(Err(err)) => {
                self.watch.unsubscribe(&name);
                if concerns_every_node(&err) {
                    // Reported once, as the run's error, rather than per node.
                    self.stop_with(format!("the run stopped: {err}"));
                    self.aborted
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(err);
                    return self.stopped();
                }
                return not_run(&err);
            }
            Err(_) => {
                self.watch.unsubscribe(&name);
                return NodeOutcome::NotRun {
                    reason: "no answer".into(),
                    message: format!(
                        "the API server did not answer the creation of pod {name} within {}s",
                        CREATE_DRAIN_TIMEOUT.as_secs()
                    ),
                };
            }
        };
        if let Some(line) = self
            .maximum
            .learn(&pod, &created, &self.pods.cluster.namespace)
        {
            self.events.note(&line);
        }
        self.events.created(node);
        let outcome = match work {
            NodeWork::Exec(command) => {
                self.start_and_run(node, &created, updates, container, command)
                    .await
            }
            NodeWork::OwnProcess => self.own_process(node, &created, updates, &container).await,
        };
        self.watch.unsubscribe(&name);
        self.deletions.delete(i, name, place);
        outcome
    }

    /// Creates the node's pod, its first send already admitted by the
    /// pace. A create the server still refused after kube's retries (429,
    /// or 503 with Retry-After) is sent again once the server's Retry-After
    /// has passed, as long as the run goes on: a node never fails for a
    /// push-back alone. A create whose pod exists already is one that went
    /// through before a retry (its answer lost, a 504): the pod carries
    /// this run's label and slot, and is this node's; its name is chosen
    /// here, never generated by the server, so no retry can make a second.
    async fn create_paced(&self, pod: &Pod, slot: usize, admitted: Admitted<'_>) -> Result<Pod> {
        let mut admitted = Some(admitted);
        loop {
            let place = match admitted.take() {
                Some(place) => place,
                None => self.pace.admit().await,
            };
            let created = self.creates.create(pod, &self.spec.what).await;
            if let Some(change) = place.settle() {
                self.events.paced(change);
            }
            match created {
                Err(err) if pushed_back(&err) && !self.stop.is_cancelled() => {
                    tracing::debug!(%err, "create refused for now, sent again");
                    // A signal ends the wait at once: the refused create
                    // made no pod, and the server's Retry-After may be 32 s.
                    tokio::select! {
                        () = tokio::time::sleep(self.pace.retry_after()) => {}
                        () = self.stop.cancelled() => return Err(err),
                    }
                }
                Err(err) if already_exists(&err) => {
                    let name = pod.metadata.name.as_deref().unwrap_or_default();
                    return match self.pods.api.get(name).await {
                        Ok(existing) if self.is_own(&existing, slot) => Ok(existing),
                        _ => Err(err),
                    };
                }
                created => return created,
            }
        }
    }

    /// Whether `pod` is the one this run made for `slot`.
    fn is_own(&self, pod: &Pod, slot: usize) -> bool {
        let labels = pod.metadata.labels.as_ref();
        let label = |key: &str| labels.and_then(|l| l.get(key)).map(String::as_str);
        label(RUN_LABEL) == Some(self.spec.run_id.as_str())
            && label(SLOT_LABEL) == Some(slot.to_string().as_str())
    }

    async fn start_and_run(
        &self,
        node: &str,
        created: &Pod,
        updates: tokio::sync::watch::Receiver<PodUpdate>,
        container: String,
        command: Vec<String>,
    ) -> NodeOutcome {
        let name = created.metadata.name.as_deref().unwrap_or_default();
        let timeout = self.spec.start_timeout;
        let started = tokio::select! {
            () = self.stop.cancelled() => return self.stopped(),
            started = self.pods.wait_for_start(
                created,
                updates,
                self.watch,
                Instant::now() + timeout,
                timeout,
                &Silent,
                futures::stream::pending().boxed(),
            ) => started,
        };
        if let Err(err) = started {
            return not_run(&err);
        }
        self.events.running(node);
        let io = ExecIo::Captured {
            stdout: Box::new(LineSink::new(
                self.events.clone(),
                node,
                OutputStream::Stdout,
            )),
            stderr: Box::new(LineSink::new(
                self.events.clone(),
                node,
                OutputStream::Stderr,
            )),
        };
        let exec = self.pods.exec_with(name, &container, &command, io);
        let limit = self.spec.command_timeout.unwrap_or(Duration::MAX);
        tokio::select! {
            () = self.stop.cancelled() => NodeOutcome::NotRun {
                reason: INTERRUPTED.into(),
                message: "the run stopped while the command ran".into(),
            },
            ran = tokio::time::timeout(limit, exec) => match ran {
                Ok(Ok(code)) => NodeOutcome::Exited(code),
                Ok(Err(err)) => not_run(&err),
                Err(_) => NodeOutcome::NotRun {
                    reason: "command timeout".into(),
                    message: format!(
                        "the command ran longer than --command-timeout {}",
                        humantime::format_duration(limit)
                    ),
                },
            },
        }
    }
}

/// A create the server refused for now, after kube's own retries: 429, or
/// 503 (which it sends with Retry-After when it means "later").
fn pushed_back(err: &ClusterError) -> bool {
    status_code(err).is_some_and(|code| code == 429 || code == 503)
}

/// A create whose name is taken.
fn already_exists(err: &ClusterError) -> bool {
    status_code(err) == Some(409)
}

fn status_code(err: &ClusterError) -> Option<u16> {
    match err {
        ClusterError::Api { source, .. } => api_status(source).map(|status| status.code),
        _ => None,
    }
}

/// Errors that every other node would meet as well, so that the run stops
/// at the first rather than repeating it 5,000 times.
fn concerns_every_node(err: &ClusterError) -> bool {
    matches!(
        err,
        ClusterError::PodSecurity { .. }
            | ClusterError::Forbidden { .. }
            | ClusterError::Unauthorized { .. }
            | ClusterError::NamespaceNotFound { .. }
            | ClusterError::CredentialPlugin(_)
    )
}

/// A node that could not run the command: the error in words, and a short
/// reason that groups nodes which failed alike.
pub(super) fn not_run(err: &ClusterError) -> NodeOutcome {
    NodeOutcome::NotRun {
        reason: not_run_reason(err),
        message: err.to_string(),
    }
}

/// The short reason that groups the nodes whose pod or exec failed alike,
/// in a run's summary and in dump's index.
pub fn not_run_reason(err: &ClusterError) -> String {
    match err {
        ClusterError::PodFailed { reason, .. } => reason.clone(),
        ClusterError::StartTimeout { .. } => "start timeout".into(),
        ClusterError::AdmissionRejected { .. } => "refused by admission".into(),
        ClusterError::PodSecurity { .. } => "PodSecurity".into(),
        ClusterError::Forbidden { .. } | ClusterError::Unauthorized { .. } => {
            "permission denied".into()
        }
        ClusterError::NamespaceNotFound { .. } => "namespace not found".into(),
        ClusterError::ConnectionLost { .. } => "connection lost".into(),
        ClusterError::Unreachable { .. } => "API server unreachable".into(),
        ClusterError::ExecFailed { .. } => "exec failed".into(),
        ClusterError::WatchFailed { .. } => "watch lost".into(),
        ClusterError::Interrupted { .. } => INTERRUPTED.into(),
        _ => "API error".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(code: u16) -> ClusterError {
        ClusterError::Api {
            action: "cannot create pods".into(),
            source: kube::Error::Api(Box::new(kube::core::Status {
                code,
                message: "m".into(),
                ..Default::default()
            })),
        }
    }

    #[test]
    fn a_refusal_for_now_is_sent_again_and_a_taken_name_is_looked_at() {
        assert!(pushed_back(&answered(429)));
        assert!(pushed_back(&answered(503)));
        assert!(!pushed_back(&answered(500)));
        assert!(!pushed_back(&ClusterError::NamespaceNotFound {
            name: "n".into()
        }));
        assert!(already_exists(&answered(409)));
        assert!(!already_exists(&answered(429)));
    }

    #[test]
    fn errors_that_concern_every_node_stop_the_run_and_others_do_not() {
        let refused = ClusterError::PodSecurity {
            namespace: "ns".into(),
            enforced: "baseline".into(),
            needed: "privileged".into(),
            what: "node-shell".into(),
            detail: None,
        };
        assert!(concerns_every_node(&refused));
        let pull = ClusterError::PodFailed {
            pod: "p".into(),
            reason: "ImagePullBackOff".into(),
            message: None,
            hint: None,
        };
        assert!(!concerns_every_node(&pull));
        let NodeOutcome::NotRun { reason, message } = not_run(&pull) else {
            panic!("not run")
        };
        assert_eq!(reason, "ImagePullBackOff");
        assert!(message.contains("could not start"), "{message}");
    }
}
