//! The one pod lifecycle node-shell, debug-node and compare share: create,
//! wait with Events, exec, and delete on every exit path.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status as ExecStatus;
use kube::api::{Api, AttachParams, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::context::{ClientSource, ClusterContext, error_chain};
use crate::error::{Action, ClusterError, Result, api_status};
use crate::exec_stream::{self, ExecStream};
use crate::podwatch::{PodSelection, PodUpdate, PodWatch};
use crate::signals::Signals;
use crate::terminal::{RawMode, terminal_size};
use toolbox_podtemplate::{SHAPE_LABEL, make_persisting};

/// One session on a node: the pod to create and what to run in it.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub pod: Pod,
    /// The container to exec into.
    pub container: String,
    /// The argv to exec.
    pub command: Vec<String>,
    /// Interactive: a TTY, raw mode, resizes forwarded.
    pub tty: bool,
    /// How long the pod may take to start.
    pub start_timeout: Duration,
    /// Leave the pod after a successful session.
    pub keep: bool,
    /// What the pod is for, in messages: "node-shell", "debug-node --profile sysadmin".
    pub what: String,
    /// `--persist`: run in the user's own persisting pod of this shape on
    /// this node if there is one, and leave the pod persisting for this
    /// idle time after the session; zero deletes it at the end.
    pub persist: Option<Duration>,
    /// Try the exec as soon as the pod's sandbox is ready, before the
    /// kubelet reports Running: only where the refusal of an exec whose
    /// container has not started is a request error
    /// ([`crate::nodes::kubelet_takes_exec_directly`]).
    pub early_exec: bool,
}

/// Where the pod is while toolbox waits for it, for a spinner to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitState {
    pub phase: String,
    /// A container's waiting reason, e.g. ContainerCreating.
    pub detail: Option<String>,
    /// The newest Event about the pod: "Reason: message".
    pub last_event: Option<String>,
}

/// Receives progress while a session starts; the binary draws it.
pub trait Progress: Send + Sync {
    /// Whether Events are worth a watch of their own (a spinner is showing).
    fn wants_events(&self) -> bool;
    fn waiting(&self, state: &WaitState);
    /// The pod is running; clear whatever was drawn.
    fn started(&self);
    /// The session's pod exists: created, or a persisting pod `reused`.
    fn pod_ready(&self, _pod: &str, _reused: bool) {}
    /// A line the user should read before the session starts.
    fn note(&self, _line: &str) {}
}

/// Progress that shows nothing.
pub struct Silent;

impl Progress for Silent {
    fn wants_events(&self) -> bool {
        false
    }
    fn waiting(&self, _: &WaitState) {}
    fn started(&self) {}
}

/// The watches of a starting pod: the pod's own (and its updates), and its
/// Events when a spinner shows them.
type StartWatch = (
    PodWatch,
    tokio::sync::watch::Receiver<PodUpdate>,
    futures::stream::BoxStream<'static, kube::Result<WatchEvent<Event>>>,
);

/// A writer an exec's output is copied into.
pub type BoxedWriter<'a> = Box<dyn tokio::io::AsyncWrite + Send + Unpin + 'a>;

/// Where an exec's streams go.
pub enum ExecIo<'a> {
    /// This process's own stdin, stdout and stderr; with `tty`, the local
    /// terminal is raw and the remote one follows its size.
    Local { tty: bool },
    /// No stdin; stdout and stderr are copied into these writers.
    Captured {
        stdout: BoxedWriter<'a>,
        stderr: BoxedWriter<'a>,
    },
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOutcome {
    pub pod: String,
    /// The remote command's exit status.
    pub exit_code: i32,
    /// The pod was left running (`--keep`).
    pub kept: bool,
    /// The pod could not be deleted; it stops by itself at its TTL.
    pub not_deleted: Option<LeftPod>,
    /// The session ran in a persisting pod that was already there.
    pub reused: bool,
    /// The pod is left persisting, and ends at this time if no session
    /// comes (RFC 3339).
    pub persisting_until: Option<String>,
    /// The command ended because the pod reached its lifetime (`--ttl`, this
    /// long) and the kubelet stopped it.
    pub ttl_reached: Option<Duration>,
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

/// A pod toolbox could not delete, with all a person needs to remove it:
/// where it is, when it stops by itself, the command, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftPod {
    pub namespace: String,
    pub pod: String,
    /// When the pod stops by itself (its `toolbox.dev/expires-at`).
    pub expires_at: Option<String>,
    /// The server's reason, or why it could not be asked, in words.
    pub reason: String,
    /// The connection flags the hints repeat (" --context prod").
    pub flags: String,
}

impl LeftPod {
    /// `pod` (as the API server returned it), left in `cluster`'s namespace
    /// for `reason`.
    fn of(cluster: &ClusterContext, pod: &Pod, reason: String) -> LeftPod {
        LeftPod {
            namespace: cluster.namespace.clone(),
            flags: cluster.kubectl_flags.clone(),
            pod: pod.metadata.name.clone().unwrap_or_default(),
            expires_at: pod
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(toolbox_podtemplate::EXPIRES_AT_ANNOTATION))
                .cloned(),
            reason,
        }
    }
}

impl std::fmt::Display for LeftPod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LeftPod {
            namespace,
            pod,
            expires_at,
            reason,
            flags,
        } = self;
        write!(
            f,
            "could not delete pod {pod} in namespace {namespace} ({reason}); "
        )?;
        match expires_at {
            Some(at) => write!(f, "it stops by itself at {at} (its --ttl)")?,
            None => write!(f, "it stops by itself when its --ttl runs out")?,
        }
        write!(
            f,
            "; remove it now with: kubectl delete pod -n {namespace}{flags} {pod} (or toolbox cleanup{flags})"
        )
    }
}

/// Deletes its pod when dropped without [`PodGuard::delete`] or
/// [`PodGuard::keep`]: a panic or an early return cannot leave it behind.
pub struct PodGuard {
    api: Api<Pod>,
    clients: ClientSource,
    name: String,
    armed: bool,
}

const DELETE_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long deletion keeps trying while the server cannot be reached: long
/// enough for an apiserver restart or a network blip, short enough that a
/// person is not left waiting at a dead prompt.
pub(crate) const DELETE_TOTAL_TIMEOUT: Duration = Duration::from_secs(30);
/// After the exec stream failed, how long its output that already arrived
/// may take to reach the local stdout and stderr.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

impl PodGuard {
    pub(crate) fn new(api: Api<Pod>, clients: ClientSource, name: String) -> Self {
        PodGuard {
            api,
            clients,
            name,
            armed: true,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Leaves the pod in place.
    pub fn keep(mut self) {
        self.armed = false;
    }

    /// Deletes the pod now, at once (grace period 0), retrying transport
    /// failures for a while. Already gone counts as deleted.
    pub async fn delete(mut self) -> std::result::Result<(), String> {
        self.armed = false;
        delete_pod(&self.api, &self.name).await
    }
}

/// Deletes the pod, retrying while the server cannot be reached (a restart,
/// a cut connection) for [`DELETE_TOTAL_TIMEOUT`]. The error is the reason in
/// words: the server's own message, or what kept the request from it.
async fn delete_pod(api: &Api<Pod>, name: &str) -> std::result::Result<(), String> {
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    delete_with_retries(name, DELETE_TOTAL_TIMEOUT, || api.delete(name, &params))
        .await
        .map_err(|failure| failure.to_string())
}

/// Why a deletion did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DeleteFailure {
    /// The API server answered no, with this HTTP code.
    Refused { code: u16, message: String },
    /// The API server could not be reached in time.
    Unreachable(String),
}

impl std::fmt::Display for DeleteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeleteFailure::Refused { message, .. } => {
                write!(f, "the API server refused: {message}")
            }
            DeleteFailure::Unreachable(reason) => write!(
                f,
                "the API server could not be reached for {}s: {reason}",
                DELETE_TOTAL_TIMEOUT.as_secs()
            ),
        }
    }
}

/// Runs a deletion request, again while the server cannot be reached (a
/// restart, a cut connection), until `patience` has passed (zero: once).
/// Already gone (404) counts as deleted.
pub(crate) async fn delete_with_retries<T, Fut>(
    what: &str,
    patience: Duration,
    mut attempt: impl FnMut() -> Fut,
) -> std::result::Result<(), DeleteFailure>
where
    Fut: std::future::Future<Output = kube::Result<T>>,
{
    let deadline = Instant::now() + patience;
    loop {
        let answer = tokio::time::timeout(DELETE_ATTEMPT_TIMEOUT, attempt()).await;
        let err = match answer {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(err)) if api_status(&err).is_some_and(|s| s.code == 404) => return Ok(()),
            Ok(Err(ref err)) if let Some(status) = api_status(err) => {
                return Err(DeleteFailure::Refused {
                    code: status.code,
                    message: if status.message.is_empty() {
                        status.reason.clone()
                    } else {
                        status.message.clone()
                    },
                });
            }
            Ok(Err(err)) => innermost_cause(&err),
            Err(_) => format!("no answer within {}s", DELETE_ATTEMPT_TIMEOUT.as_secs()),
        };
        if Instant::now() >= deadline {
            return Err(DeleteFailure::Unreachable(err));
        }
        tracing::debug!(what, error = %err, "retrying deletion");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Deletes the guarded pod; a further SIGINT, SIGTERM or SIGHUP gives up
/// waiting for a server that does not answer.
async fn delete_unless_signalled(
    guard: PodGuard,
    signals: &mut Signals,
) -> std::result::Result<(), String> {
    tokio::select! {
        result = guard.delete() => result,
        signal = signals.recv() => Err(format!("deletion given up on {signal}")),
    }
}

/// What finally went wrong under a transport error, without the layers
/// that only repeat that a request failed, nor the OS's error number.
pub(crate) fn innermost_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &dyn std::error::Error = err;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    let text = innermost.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    text.to_lowercase()
}

impl Drop for PodGuard {
    fn drop(&mut self) {
        if self.armed {
            let name = self.name.clone();
            delete_from_drop(&self.api, &self.clients, move |api| async move {
                let _ = delete_pod(&api, &name).await;
            });
        }
    }
}

/// Runs `delete` with a fresh client for `api`'s namespace, on a thread and
/// runtime of its own, and waits for it: a guard's Drop cannot await, and
/// the runtime that owns the session's client may be shutting down. The
/// client sends with the invocation's current credentials.
pub(crate) fn delete_from_drop<Fut>(
    api: &Api<Pod>,
    clients: &ClientSource,
    delete: impl FnOnce(Api<Pod>) -> Fut + Send + 'static,
) where
    Fut: std::future::Future<Output = ()>,
{
    let clients = clients.clone();
    let namespace = api.namespace().map(str::to_string).unwrap_or_default();
    let worker = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async {
            if let Ok(client) = clients.api_client(&Default::default()) {
                delete(Api::namespaced(client, &namespace)).await;
            }
        });
    });
    let _ = worker.join();
}

impl ClusterContext {
    /// Creates the pod, waits for it, runs the command, and deletes the pod
    /// however the session ends: normally, by a signal, on a lost connection,
    /// or on an error. Only `keep` after a successful start leaves it.
    pub async fn run_session(
        &self,
        spec: SessionSpec,
        progress: &dyn Progress,
    ) -> Result<SessionOutcome> {
        // Caught before the pod exists, so that no signal can kill toolbox
        // between creating the pod and guarding it.
        let mut signals = Signals::install()?;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let mut pod = spec.pod.clone();
        if let Some(idle) = spec.persist {
            let persisting = make_persisting(spec.pod.clone(), idle.as_secs().max(1) as i64);
            let shape = persisting
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(SHAPE_LABEL))
                .cloned()
                .unwrap_or_default();
            let found = self.find_persisting(&api, &persisting, &shape).await;
            let reuse = async {
                match found.reusable {
                    Some(existing) => {
                        self.reuse_session(&api, existing, &spec, idle, progress, &mut signals)
                            .await
                    }
                    None => None,
                }
            };
            let (reused, ()) = tokio::join!(reuse, self.delete_ended(&api, &found.ended));
            if let Some(result) = reused {
                return result;
            }
            if !idle.is_zero() {
                pod = persisting;
            }
        }
        let persist_after = spec.persist.filter(|idle| !idle.is_zero());
        // The watch is asked for while the pod is created: its name is
        // known, and a watch from "0" of a pod that does not exist yet sees
        // it as it is added, so starting them together saves a round trip.
        let name = pod.metadata.name.clone().unwrap_or_default();
        let (created, watched) = tokio::join!(
            self.create_pod(&api, &pod, &spec.what),
            self.watch_start(&api, &name, "0", progress)
        );
        let created = created?;
        let created_at = Instant::now();
        crate::steps::step("pod created");
        if let Some(line) = crate::lifetime::fitted_line(&pod, &created, &self.namespace) {
            progress.note(&line);
        }
        let name = created.metadata.name.clone().unwrap_or_default();
        progress.pod_ready(&name, false);
        let guard = PodGuard::new(api.clone(), self.clients.clone(), name.clone());
        let left_pod = |reason: String| LeftPod::of(self, &created, reason);

        let result = match signals.pending() {
            Some(signal) => Err(ClusterError::Interrupted { signal }),
            None => tokio::select! {
                signal = signals.recv() => Err(ClusterError::Interrupted { signal }),
                result = async {
                    self.wait_then_exec(&api, &created, watched?, &spec, progress).await
                } => result,
            },
        };
        let outcome = |exit_code, kept, not_deleted, persisting_until| SessionOutcome {
            pod: name.clone(),
            exit_code,
            kept,
            not_deleted,
            reused: false,
            persisting_until,
            ttl_reached: ttl_reached(exit_code, created_at.elapsed(), &created),
        };
        match result {
            Ok(exit_code) if spec.keep => {
                guard.keep();
                Ok(outcome(exit_code, true, None, None))
            }
            Ok(exit_code) if let Some(idle) = persist_after => {
                match self.leave_persisting(&api, &created, idle).await {
                    Ok(until) => {
                        guard.keep();
                        crate::steps::step("pod left persisting");
                        Ok(outcome(exit_code, false, None, Some(until)))
                    }
                    // A pod whose idle time cannot be written could not be
                    // claimed again either: it goes, as without --persist.
                    Err(reason) => {
                        tracing::debug!(%reason, "could not leave the pod persisting");
                        let not_deleted = delete_unless_signalled(guard, &mut signals)
                            .await
                            .err()
                            .map(left_pod);
                        Ok(outcome(exit_code, false, not_deleted, None))
                    }
                }
            }
            Ok(exit_code) => {
                let not_deleted = delete_unless_signalled(guard, &mut signals)
                    .await
                    .err()
                    .map(left_pod);
                crate::steps::step("pod deleted");
                Ok(outcome(exit_code, false, not_deleted, None))
            }
            Err(err) => match delete_unless_signalled(guard, &mut signals).await {
                Ok(()) => Err(err),
                Err(reason) => Err(ClusterError::NotDeleted {
                    cause: Box::new(err),
                    left: Box::new(left_pod(reason)),
                }),
            },
        }
    }

    /// Runs the session in `existing`, the user's persisting pod: claims
    /// it (recording the reuse on it), execs, and then leaves it persisting
    /// for `idle`, or deletes it when `idle` is zero. `None` when the pod
    /// cannot be claimed or no longer takes an exec (its holder ended it
    /// meanwhile): the session then starts a pod of its own.
    async fn reuse_session(
        &self,
        api: &Api<Pod>,
        existing: Pod,
        spec: &SessionSpec,
        idle: Duration,
        progress: &dyn Progress,
        signals: &mut Signals,
    ) -> Option<Result<SessionOutcome>> {
        let name = existing.metadata.name.clone().unwrap_or_default();
        if let Err(err) = self.claim_persisting(api, &existing, &spec.pod).await {
            tracing::debug!(pod = %name, error = %err, "could not claim the persisting pod");
            return None;
        }
        crate::steps::step("persisting pod claimed");
        progress.pod_ready(&name, true);
        let io = ExecIo::Local { tty: spec.tty };
        let opened = tokio::select! {
            signal = signals.recv() => Err(Err(ClusterError::Interrupted { signal })),
            opened = self.open_exec(api, &name, &spec.container, &spec.command, &io) => match opened {
                Ok(attached) => Ok(attached),
                Err(err) if container_gone(&err) => {
                    tracing::debug!(pod = %name, error = %err, "the persisting pod no longer takes an exec");
                    return None;
                }
                Err(err) => Err(Err(self.exec_error(&name, err))),
            },
        };
        let result = match opened {
            Ok(attached) => {
                progress.started();
                let status = tokio::select! {
                    signal = signals.recv() => Err(ClusterError::Interrupted { signal }),
                    status = self.relay_exec(&name, attached, io) => status,
                };
                crate::steps::step("command ended");
                status
            }
            Err(failed) => failed,
        };
        // The pod was created by an earlier session: its age is the server's.
        let lived = existing
            .metadata
            .creation_timestamp
            .as_ref()
            .and_then(|t| {
                Duration::try_from(k8s_openapi::jiff::Timestamp::now().duration_since(t.0)).ok()
            })
            .unwrap_or_default();
        let outcome = |exit_code, not_deleted, persisting_until| SessionOutcome {
            pod: name.clone(),
            exit_code,
            kept: false,
            not_deleted,
            reused: true,
            persisting_until,
            ttl_reached: ttl_reached(exit_code, lived, &existing),
        };
        if idle.is_zero() {
            let guard = PodGuard::new(api.clone(), self.clients.clone(), name.clone());
            let deleted = delete_unless_signalled(guard, signals).await;
            crate::steps::step("pod deleted");
            let left = |reason| LeftPod::of(self, &existing, reason);
            return Some(match (result, deleted) {
                (Ok(code), deleted) => Ok(outcome(code, deleted.err().map(left), None)),
                (Err(err), Ok(())) => Err(err),
                (Err(err), Err(reason)) => Err(ClusterError::NotDeleted {
                    cause: Box::new(err),
                    left: Box::new(left(reason)),
                }),
            });
        }
        // Another session of the same user may be running in the pod, so
        // even a failed session leaves it to its holder, which ends it when
        // idle, and to its TTL.
        let until = match self.leave_persisting(api, &existing, idle).await {
            Ok(until) => Some(until),
            Err(reason) => {
                tracing::debug!(%reason, "could not write the persisting pod's idle time");
                None
            }
        };
        crate::steps::step("pod left persisting");
        Some(result.map(|code| outcome(code, None, until)))
    }

    /// Creates the pod; a pod with toolbox's default lifetime that the
    /// namespace's policy refuses as too long is made again, once, with the
    /// maximum the refusal names (see [`crate::lifetime`]).
    pub(crate) async fn create_pod(&self, api: &Api<Pod>, pod: &Pod, what: &str) -> Result<Pod> {
        match self.create_pod_once(api, pod, what).await {
            Err(ClusterError::AdmissionRejected { message, .. })
                if let Some(fitted) = crate::lifetime::fitted_to_refusal(
                    pod,
                    &message,
                    k8s_openapi::jiff::Timestamp::now(),
                ) =>
            {
                self.create_pod_once(api, &fitted, what).await
            }
            created => created,
        }
    }

    async fn create_pod_once(&self, api: &Api<Pod>, pod: &Pod, what: &str) -> Result<Pod> {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        api.create(&PostParams::default(), pod)
            .await
            .map_err(|err| {
                let Some(status) = api_status(&err) else {
                    return self
                        .request_error(Action::namespaced("create", "pods", &self.namespace), err);
                };
                let message = status.message.clone();
                match status.code {
                    403 if message.contains("cannot create resource") => self
                        .request_error(Action::namespaced("create", "pods", &self.namespace), err),
                    403 if let Some(enforced) = pod_security_level(&message) => {
                        ClusterError::PodSecurity {
                            namespace: self.namespace.clone(),
                            enforced: enforced.to_string(),
                            needed: crate::podsecurity::required_level(pod).name().to_string(),
                            what: what.to_string(),
                            detail: violations(&message),
                        }
                    }
                    403 | 400 | 422 => ClusterError::AdmissionRejected {
                        hint: admission_hint(&message, &self.kubectl_flags),
                        pod: pod_name,
                        message,
                    },
                    404 => ClusterError::NamespaceNotFound {
                        name: self.namespace.clone(),
                    },
                    _ => self
                        .request_error(Action::namespaced("create", "pods", &self.namespace), err),
                }
            })
    }

    /// Waits for the pod to start and runs the command in it. The exec
    /// does not wait for the kubelet to report Running: once the kubelet
    /// says the pod's sandbox is up, the exec is tried every
    /// [`EARLY_EXEC_INTERVAL`], and the first one the container takes is the
    /// session. A try the container refuses because it has not started yet
    /// fails at once and runs nothing; any other failure, and every start
    /// failure the watch reports, ends the session as before.
    async fn wait_then_exec(
        &self,
        api: &Api<Pod>,
        created: &Pod,
        (watch, updates, events): StartWatch,
        spec: &SessionSpec,
        progress: &dyn Progress,
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
        let io = ExecIo::Local { tty: spec.tty };
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
                .open_exec(api, name, &spec.container, &spec.command, &io)
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

    /// Watches the pod (never polls) until it runs, fails, or the timeout
    /// passes. A pod that cannot start ends the wait as soon as the
    /// kubelet reports why.
    pub async fn wait_until_running(
        &self,
        api: &Api<Pod>,
        created: &Pod,
        timeout: Duration,
        progress: &dyn Progress,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let name = created.metadata.name.as_deref().unwrap_or_default();
        let from = created.metadata.resource_version.as_deref().unwrap_or("0");
        let (watch, updates, events) = self.watch_start(api, name, from, progress).await?;
        self.wait_for_start(
            created, updates, &watch, deadline, timeout, progress, events,
        )
        .await
    }

    /// Opens the watch of one starting pod, from the version its creation
    /// returned, and one of its Events when a spinner will show them.
    async fn watch_start(
        &self,
        api: &Api<Pod>,
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
            let events_api: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
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
            watch.open(self, api, PodSelection::Named(name.to_string()), from),
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
                silent = self.link.silence() => {
                    crate::steps::step("link silent");
                    return Err(ClusterError::ConnectionLost {
                        namespace: self.namespace.clone(),
                        pod: name,
                        reason: crate::transport::silence_reason(silent),
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
                                namespace: self.namespace.clone(),
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
    async fn start_failure(&self, pod: &str, failure: Failure) -> ClusterError {
        let mut message = failure.message;
        if message.is_none() {
            let events: Api<Event> = Api::namespaced(self.client.clone(), &self.namespace);
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
                    self.namespace, self.kubectl_flags
                ),
            ),
            reason: failure.reason,
            message,
        }
    }

    /// Runs `command` in the pod and returns its exit status. With `tty`,
    /// the local terminal is raw for the session and resizes follow it;
    /// without, stdin is streamed in (EOF included) and stdout and stderr
    /// stay apart.
    pub async fn exec(
        &self,
        api: &Api<Pod>,
        pod: &str,
        container: &str,
        command: &[String],
        tty: bool,
    ) -> Result<i32> {
        self.exec_with(api, pod, container, command, ExecIo::Local { tty })
            .await
    }

    /// Runs `command` in the pod with its streams where `io` says, and
    /// returns its exit status.
    pub async fn exec_with(
        &self,
        api: &Api<Pod>,
        pod: &str,
        container: &str,
        command: &[String],
        io: ExecIo<'_>,
    ) -> Result<i32> {
        let attached = self
            .open_exec(api, pod, container, command, &io)
            .await
            .map_err(|err| self.exec_error(pod, err))?;
        self.relay_exec(pod, attached, io).await
    }

    /// Asks for the exec stream: the request that starts the command.
    async fn open_exec(
        &self,
        api: &Api<Pod>,
        pod: &str,
        container: &str,
        command: &[String],
        io: &ExecIo<'_>,
    ) -> kube::Result<ExecStream> {
        let (tty, local) = match io {
            ExecIo::Local { tty } => (*tty, true),
            ExecIo::Captured { .. } => (false, false),
        };
        let params = AttachParams::default()
            .container(container)
            .stdin(local)
            .stdout(true)
            .stderr(!tty)
            .tty(tty);
        let namespace = api.namespace().unwrap_or(&self.namespace);
        exec_stream::open(
            &self.exec_client,
            &self.link,
            namespace,
            pod,
            command,
            &params,
        )
        .await
    }

    /// Why an exec could not be opened, in toolbox's words.
    fn exec_error(&self, pod: &str, err: kube::Error) -> ClusterError {
        if let Some(silent) = exec_stream::silence_in(&err) {
            ClusterError::ConnectionLost {
                namespace: self.namespace.clone(),
                pod: pod.to_string(),
                reason: silent.to_string(),
            }
        } else if let kube::Error::UpgradeConnection(_) = &err {
            ClusterError::ExecFailed {
                pod: pod.to_string(),
                message: error_chain(&err),
            }
        } else {
            self.request_error(
                Action::namespaced("create", "pods/exec", &self.namespace),
                err,
            )
        }
    }

    /// Relays an opened exec stream to where `io` says until the command
    /// ends, and returns its exit status. With a local TTY, the terminal is
    /// raw for the session and resizes follow it; without, stdin is streamed
    /// in (EOF included) and stdout and stderr stay apart.
    async fn relay_exec(&self, pod: &str, mut attached: ExecStream, io: ExecIo<'_>) -> Result<i32> {
        let (tty, local) = match &io {
            ExecIo::Local { tty } => (*tty, true),
            ExecIo::Captured { .. } => (false, false),
        };
        if local {
            crate::steps::step("exec started");
        }
        let status = attached.take_status();
        let _raw = if tty { Some(RawMode::enable()?) } else { None };

        if tty && let Some(mut sizes) = attached.terminal_size() {
            use futures::SinkExt;
            if let Some((width, height)) = terminal_size() {
                let _ = sizes.send(kube::api::TerminalSize { width, height }).await;
            }
            tokio::spawn(async move {
                #[cfg(unix)]
                if let Ok(mut winch) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
                {
                    while winch.recv().await.is_some() {
                        if let Some((width, height)) = terminal_size()
                            && sizes
                                .send(kube::api::TerminalSize { width, height })
                                .await
                                .is_err()
                        {
                            break;
                        }
                    }
                }
            });
        }

        // Nothing can interrupt a blocking read of stdin, so this task is
        // left behind when the session ends; the process exits right after.
        if let Some(mut remote_stdin) = attached.stdin() {
            tokio::spawn(async move {
                let mut local = tokio::io::stdin();
                let mut buf = vec![0u8; 8192];
                loop {
                    match local.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if remote_stdin.write_all(&buf[..n]).await.is_err()
                                || remote_stdin.flush().await.is_err()
                            {
                                return;
                            }
                        }
                    }
                }
                // EOF reaches the remote command (v5.channel.k8s.io closes the stream).
                let _ = remote_stdin.shutdown().await;
            });
        }

        let (remote_stdout, remote_stderr) = (attached.stdout(), attached.stderr());
        // A session on this process's own streams times its first output (-v).
        let first_output = std::sync::Once::new();
        let first_output = local.then_some(&first_output);
        let (mut local_stdout, mut local_stderr): (BoxedWriter<'_>, BoxedWriter<'_>) = match io {
            ExecIo::Local { .. } => (Box::new(tokio::io::stdout()), Box::new(tokio::io::stderr())),
            ExecIo::Captured { stdout, stderr } => (stdout, stderr),
        };
        let copy_output = async {
            let copy_stdout = async {
                if let Some(mut out) = remote_stdout {
                    copy_flushing(&mut out, &mut local_stdout, first_output).await;
                }
            };
            let copy_stderr = async {
                if let Some(mut err) = remote_stderr {
                    copy_flushing(&mut err, &mut local_stderr, first_output).await;
                }
            };
            tokio::join!(copy_stdout, copy_stderr);
        };
        // The status resolves when the stream's task ends: with the command's
        // status, or with none when the connection failed. kube closes
        // stdout and stderr only after a status, so on a failure the copies
        // would wait forever; the status, not the output, ends the session.
        let status = async move {
            match status {
                Some(status) => status.await,
                None => None,
            }
        };
        let status = {
            tokio::pin!(copy_output, status);
            tokio::select! {
                () = &mut copy_output => status.await,
                status = &mut status => {
                    match status {
                        Some(_) => copy_output.await,
                        // What arrived before the failure is already buffered.
                        None => { let _ = tokio::time::timeout(DRAIN_TIMEOUT, copy_output).await; }
                    }
                    status
                }
            }
        };
        let joined = attached.join().await;
        drop(_raw);
        match status {
            Some(status) => match exit_status(pod, &status) {
                // A command the runtime could not start ends as a shell's
                // would: its reason on the session's stderr, 127 or 126.
                Err(ClusterError::ExecFailed { message, .. })
                    if let Some((code, reason)) = not_runnable(&message) =>
                {
                    let line = format!("toolbox: {reason}\n");
                    let _ = local_stderr.write_all(line.as_bytes()).await;
                    let _ = local_stderr.flush().await;
                    Ok(code)
                }
                other => other,
            },
            None => Err(ClusterError::ConnectionLost {
                namespace: self.namespace.clone(),
                pod: pod.to_string(),
                reason: lost_reason(joined.err().as_ref().map(|e| e as _)),
            }),
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

/// Whether the kubelet reports the pod's sandbox up, so that its
/// containers are being created: the PodReadyToStartContainers condition
/// (PodHasNetwork before Kubernetes 1.29).
fn sandbox_ready(pod: &Pod) -> bool {
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

/// Whether an exec was refused only because the container has not started
/// yet: the kubelet does not know it yet, or the runtime has it created
/// but not running. Such a refusal runs nothing, so the exec can be tried
/// again. The texts are the kubelet's, containerd's and CRI-O's.
fn container_not_started(err: &kube::Error) -> bool {
    const NOT_STARTED: &[&str] = &[
        "container not found",
        "is in CONTAINER_CREATED state",
        "is in CONTAINER_UNKNOWN state",
        "not created or running",
    ];
    api_status(err).is_some_and(|status| {
        status.code >= 500 && NOT_STARTED.iter().any(|text| status.message.contains(text))
    })
}

/// Whether an exec failed because the pod's container is gone or stopped:
/// a persisting pod whose holder ended it just now.
fn container_gone(err: &kube::Error) -> bool {
    const GONE: &[&str] = &["not running", "stopped container", "CONTAINER_EXITED"];
    container_not_started(err)
        || api_status(err).is_some_and(|status| {
            status.code == 404
                || (status.code >= 400 && GONE.iter().any(|text| status.message.contains(text)))
        })
}

/// Why an exec stream ended without the command's status, in words.
fn lost_reason(err: Option<&(dyn std::error::Error + 'static)>) -> String {
    let Some(err) = err else {
        return "the server closed the exec stream without the command's exit status".into();
    };
    let mut source = Some(err);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionReset => return "the connection was reset".into(),
                BrokenPipe | ConnectionAborted | UnexpectedEof => {
                    return "the connection was cut".into();
                }
                TimedOut => return "the connection timed out".into(),
                _ => {}
            }
        }
        source = cause.source();
    }
    if let Some(silent) = exec_stream::silence_in(err) {
        return silent.to_string();
    }
    if error_chain(err).contains("without closing handshake") {
        return "the connection was closed before the command ended".into();
    }
    innermost_cause(err)
}

/// Copies until EOF, flushing each chunk so that an interactive session
/// shows output as it comes.
async fn copy_flushing(
    from: &mut (impl tokio::io::AsyncRead + Unpin),
    to: &mut (impl tokio::io::AsyncWrite + Unpin),
    first_output: Option<&std::sync::Once>,
) {
    let mut buf = vec![0u8; 16384];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if let Some(first) = first_output {
                    first.call_once(|| crate::steps::step("first output"));
                }
                if to.write_all(&buf[..n]).await.is_err() || to.flush().await.is_err() {
                    return;
                }
            }
        }
    }
}

/// A shell's status for a command the container runtime could not start,
/// and the runtime's reason: 127 when it does not exist, 126 when it cannot
/// be executed. From runc's `exec: "CMD": executable file not found in
/// $PATH` (as containerd and CRI-O pass it on).
fn not_runnable(message: &str) -> Option<(i32, String)> {
    let code = if message.contains("executable file not found")
        || message.contains("no such file or directory")
    {
        127
    } else if message.contains("permission denied") {
        126
    } else {
        return None;
    };
    let reason = match message.rfind("exec: \"") {
        Some(at) => message[at..].trim_end_matches(": unknown").trim_end(),
        None => message.trim(),
    };
    Some((code, reason.to_string()))
}

/// The exit status an exec's final Status reports.
fn exit_status(pod: &str, status: &ExecStatus) -> Result<i32> {
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    let exit_code = status
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|causes| {
            causes
                .iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
        })
        .and_then(|c| c.message.as_ref()?.parse().ok());
    match exit_code {
        Some(code) => Ok(code),
        None => Err(ClusterError::ExecFailed {
            pod: pod.to_string(),
            message: status.message.clone().unwrap_or_default(),
        }),
    }
}

enum Assessment {
    Running,
    Waiting(WaitState),
    Failed(Failure),
}

struct Failure {
    reason: String,
    message: Option<String>,
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

fn assess(pod: &Pod) -> Assessment {
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

/// "container exited with code 128: exec: "sleep": executable file not found
/// in $PATH": the code, and the runtime's reason without the layers that
/// only repeat that a container could not be started.
fn exit_words(terminated: &k8s_openapi::api::core::v1::ContainerStateTerminated) -> String {
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

fn merge_state(previous: WaitState, next: WaitState) -> WaitState {
    WaitState {
        last_event: previous.last_event,
        ..next
    }
}

fn describe_state(state: &WaitState) -> String {
    let mut text = state.phase.clone();
    if let Some(detail) = &state.detail {
        text.push_str(&format!(", {detail}"));
    }
    if let Some(event) = &state.last_event {
        text.push_str(&format!("; last event: {event}"));
    }
    text
}

fn event_line(event: &Event) -> String {
    format!(
        "{}: {}",
        event.reason.as_deref().unwrap_or("Event"),
        event.message.as_deref().unwrap_or_default().trim()
    )
}

/// The way out of a failure, from the kubelet's reason and, where it tells
/// causes apart, its message. `events` is the kubectl command that lists
/// the pod's Events.
fn failure_hint(reason: &str, message: &str, events: &str) -> Option<String> {
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

/// The level in a PodSecurity admission refusal:
/// `... violates PodSecurity "baseline:latest": host namespaces (...)`.
fn pod_security_level(message: &str) -> Option<&str> {
    let rest = message.split("violates PodSecurity \"").nth(1)?;
    let level = rest.split(['"', ':']).next()?;
    crate::podsecurity::Level::parse(level).map(|l| l.name())
}

/// What the refusal lists, after the level: "host namespaces (...), privileged (...)".
fn violations(message: &str) -> Option<String> {
    let rest = message.split("violates PodSecurity \"").nth(1)?;
    rest.split_once("\": ")
        .map(|(_, list)| list.trim().to_string())
}

fn admission_hint(message: &str, flags: &str) -> Option<String> {
    // "ValidatingAdmissionPolicy 'NAME' with binding 'B' denied request: ..."
    let policy = message
        .split("ValidatingAdmissionPolicy '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next());
    if let Some(policy) = policy {
        return Some(format!(
            "the cluster's ValidatingAdmissionPolicy {policy} refused it; what it requires: kubectl get validatingadmissionpolicy {policy} -o yaml{flags}"
        ));
    }
    if message.contains("PodSecurity") {
        Some("use a namespace whose pod-security.kubernetes.io/enforce label allows this pod (for example -n kube-system)".into())
    } else if message.contains("PriorityClass") {
        Some("check --priority-class".into())
    } else if message.contains("webhook") {
        Some("an admission webhook (for example Gatekeeper or Kyverno) refused it; ask the cluster's admins for an exception".into())
    } else {
        None
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

    fn api_error(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(message, "Failed to parse error data")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn only_a_container_that_has_not_started_yet_is_worth_another_exec() {
        assert!(container_not_started(&api_error(
            500,
            "container not found (\"shell\")"
        )));
        assert!(container_not_started(&api_error(
            500,
            "failed to exec in container: container is in CONTAINER_CREATED state"
        )));
        assert!(!container_not_started(&api_error(
            403,
            "pods \"p\" is forbidden: User \"dev\" cannot create resource \"pods/exec\""
        )));
        assert!(!container_not_started(&api_error(
            400,
            "container shell is not valid for pod p"
        )));
        assert!(!container_not_started(&api_error(
            500,
            "etcdserver: timeout"
        )));
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

    #[test]
    fn a_pod_left_behind_is_one_line_with_when_it_stops_and_how_to_remove_it() {
        let left = LeftPod {
            namespace: "team-a".into(),
            pod: "toolbox-shell-n-x7k2p".into(),
            expires_at: Some("2026-11-26T15:06:54Z".into()),
            reason: "the API server could not be reached for 30s: connection refused".into(),
            flags: " --context prod".into(),
        };
        assert_eq!(
            left.to_string(),
            "could not delete pod toolbox-shell-n-x7k2p in namespace team-a (the API server could not be reached for 30s: connection refused); it stops by itself at 2026-11-26T15:06:54Z (its --ttl); remove it now with: kubectl delete pod -n team-a --context prod toolbox-shell-n-x7k2p (or toolbox cleanup --context prod)"
        );
        let unknown = LeftPod {
            expires_at: None,
            ..left
        };
        assert!(
            unknown
                .to_string()
                .contains("it stops by itself when its --ttl runs out"),
            "{unknown}"
        );
    }

    #[test]
    fn a_lost_stream_is_explained_in_words() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(lost_reason(Some(&reset)), "the connection was reset");
        assert_eq!(
            lost_reason(None),
            "the server closed the exec stream without the command's exit status"
        );
        let refused = std::io::Error::other("Connection refused (os error 111)");
        assert_eq!(innermost_cause(&refused), "connection refused");
    }

    #[test]
    fn a_command_the_runtime_cannot_start_ends_as_in_a_shell() {
        let missing = "failed to exec in container: failed to start exec \"abc\": OCI runtime exec failed: exec failed: unable to start container process: exec: \"nonexistentcmd\": executable file not found in $PATH: unknown";
        assert_eq!(
            not_runnable(missing),
            Some((
                127,
                "exec: \"nonexistentcmd\": executable file not found in $PATH".to_string()
            ))
        );
        let denied = "OCI runtime exec failed: exec failed: unable to start container process: exec: \"/etc/hosts\": permission denied: unknown";
        assert_eq!(not_runnable(denied).map(|(code, _)| code), Some(126));
        assert_eq!(not_runnable("error dialing backend: EOF"), None);
    }

    #[test]
    fn exec_status_carries_the_exit_code() {
        let failure: ExecStatus = serde_json::from_value(json!({
            "status": "Failure", "message": "command terminated with non-zero exit code", "reason": "NonZeroExitCode",
            "details": { "causes": [{ "reason": "ExitCode", "message": "42" }] }
        }))
        .unwrap();
        assert_eq!(exit_status("p", &failure).unwrap(), 42);
        let success: ExecStatus = serde_json::from_value(json!({ "status": "Success" })).unwrap();
        assert_eq!(exit_status("p", &success).unwrap(), 0);
    }

    #[test]
    fn pod_security_refusals_name_the_level_and_what_was_refused() {
        let message = "pods \"toolbox-shell-n-abcde\" is forbidden: violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true, hostPID=true), privileged (container \"shell\" must not set securityContext.privileged=true)";
        assert_eq!(pod_security_level(message), Some("baseline"));
        assert_eq!(
            violations(message).as_deref(),
            Some(
                "host namespaces (hostNetwork=true, hostPID=true), privileged (container \"shell\" must not set securityContext.privileged=true)"
            )
        );
        assert_eq!(pod_security_level("admission webhook denied"), None);
    }

    #[test]
    fn admission_hints_point_the_way() {
        assert!(
            admission_hint("violates PodSecurity \"restricted:latest\"", "")
                .unwrap()
                .contains("kube-system")
        );
        assert!(
            admission_hint(
                "admission webhook \"validate.kyverno.svc\" denied the request",
                ""
            )
            .unwrap()
            .contains("webhook")
        );
        assert_eq!(
            admission_hint(
                "pods \"p\" is forbidden: ValidatingAdmissionPolicy 'no-host-pid' with binding 'b' denied request: no hostPID",
                " --context prod"
            )
            .as_deref(),
            Some(
                "the cluster's ValidatingAdmissionPolicy no-host-pid refused it; what it requires: kubectl get validatingadmissionpolicy no-host-pid -o yaml --context prod"
            )
        );
        assert!(admission_hint("something else", "").is_none());
    }
}
