//! Deleting a session's pod: the guard that deletes it on every exit path
//! (a panic and an early return included), deletion's retries while the API
//! server cannot be reached, and the words for a pod that could not be
//! deleted. Phase 4 ([`super::end`]) decides whether a pod is deleted;
//! this file does it.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams};
use tokio::time::Instant;

use super::pods::Pods;
use crate::client::context::ClientSource;
use crate::error::{LeftPod, api_status, innermost_cause};
use crate::signals::Signals;

impl Pods<'_> {
    /// A guard for the pod `name` of this namespace.
    pub(super) fn guard(&self, name: String) -> PodGuard {
        PodGuard::new(self.api.clone(), self.cluster.clients.clone(), name)
    }

    /// `pod` (as the API server returned it), left in this namespace for
    /// `reason`.
    pub(super) fn left(&self, pod: &Pod, reason: String) -> LeftPod {
        LeftPod {
            namespace: self.cluster.namespace.clone(),
            flags: self.cluster.kubectl_flags.clone(),
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

impl PodGuard {
    fn new(api: Api<Pod>, clients: ClientSource, name: String) -> Self {
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

    /// The same guard, deleting nothing when dropped: for a reused pod that
    /// is left to its holder, since another session may be running in it.
    pub(super) fn unarmed(mut self) -> Self {
        self.armed = false;
        self
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
pub(super) async fn delete_unless_signalled(
    guard: PodGuard,
    signals: &mut Signals,
) -> std::result::Result<(), String> {
    tokio::select! {
        result = guard.delete() => result,
        signal = signals.recv() => Err(format!("deletion given up on {signal}")),
    }
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
