//! The driver of a session in the user's persisting pod (`--persist`):
//! the pod is claimed (the reuse recorded on it), the command exec'd into
//! it at once, and the pod then ends through the same decision as a pod
//! created for the session ([`super::end`]). Finding and claiming the pod
//! is [`super::persist`]'s.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;

use super::end::{Disposal, Ended};
use super::exec::{ExecIo, container_gone};
use super::pods::Pods;
use super::spec::{Progress, SessionOutcome, SessionSpec};
use crate::error::{ClusterError, Result};
use crate::signals::Signals;
use crate::steps::step;

impl Pods<'_> {
    /// Runs the session in `existing`, the user's persisting pod: claims
    /// it (recording the reuse on it), execs, and then leaves it persisting
    /// for `idle`, or deletes it when `idle` is zero. `None` when the pod
    /// cannot be claimed or no longer takes an exec (its holder ended it
    /// meanwhile): the session then starts a pod of its own.
    pub(super) async fn reuse(
        &self,
        existing: Pod,
        spec: &SessionSpec,
        idle: Duration,
        progress: &dyn Progress,
        signals: &mut Signals,
    ) -> Option<Result<SessionOutcome>> {
        let name = existing.metadata.name.clone().unwrap_or_default();
        if let Err(err) = self.claim_persisting(&existing, &spec.pod).await {
            tracing::debug!(pod = %name, error = %err, "could not claim the persisting pod");
            return None;
        }
        step("persisting pod claimed");
        progress.pod_ready(&name, true);
        let io = ExecIo::Local { tty: spec.tty };
        let opened = tokio::select! {
            signal = signals.recv() => Err(Err(ClusterError::Interrupted { signal })),
            opened = self.open_exec(&name, &spec.container, &spec.command, &io) => match opened {
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
                step("command ended");
                status
            }
            Err(failed) => failed,
        };
        // The pod was created by an earlier session: its age is the server's.
        let lived = existing
            .metadata
            .creation_timestamp
            .as_ref()
            .and_then(|t| Duration::try_from(Timestamp::now().duration_since(t.0)).ok())
            .unwrap_or_default();
        let (disposal, guard) = if idle.is_zero() {
            (Disposal::Delete, self.guard(name))
        } else {
            (Disposal::Persist(idle), self.guard(name).unarmed())
        };
        let ended = Ended {
            pod: &existing,
            guard,
            result,
            lived,
            reused: true,
        };
        Some(self.end(ended, disposal, signals).await)
    }
}
