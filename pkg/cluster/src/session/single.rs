//! The driver of one session: the entry point of node-shell and debug-node.
//! With `--persist`, the user's persisting pod of the same shape on the
//! node is tried first ([`super::reused`]); otherwise, or when none can be
//! used, a pod is created, started, exec'd into and ended, phase by phase.

use k8s_openapi::api::core::v1::Pod;
use tokio::time::Instant;
use toolbox_podtemplate::{SHAPE_LABEL, make_persisting};

use super::end::{Disposal, Ended};
use super::exec::ExecIo;
use super::lifetime;
use super::pods::Pods;
use super::spec::{Progress, SessionOutcome, SessionSpec};
use crate::client::context::ClusterContext;
use crate::error::{ClusterError, Result};
use crate::signals::Signals;
use crate::steps::step;

/// Creates the pod, waits for it, runs the command, and deletes the pod
/// however the session ends: normally, by a signal, on a lost connection,
/// or on an error. Only `keep` after a successful start leaves it, and
/// `persist` leaves it persisting for the next session.
pub async fn run(
    cluster: &ClusterContext,
    spec: SessionSpec,
    progress: &dyn Progress,
) -> Result<SessionOutcome> {
    // Caught before the pod exists, so that no signal can kill toolbox
    // between creating the pod and guarding it.
    let mut signals = Signals::install()?;
    let pods = Pods::of(cluster);
    let mut pod = spec.pod.clone();
    if let Some(idle) = spec.persist {
        let persisting = make_persisting(spec.pod.clone(), idle.as_secs().max(1) as i64);
        let found = pods.find_persisting(&persisting, shape(&persisting)).await;
        let reuse = async {
            match found.reusable {
                Some(existing) => {
                    pods.reuse(existing, &spec, idle, progress, &mut signals)
                        .await
                }
                None => None,
            }
        };
        let (reused, ()) = tokio::join!(reuse, pods.delete_ended(&found.ended));
        if let Some(result) = reused {
            return result;
        }
        if !idle.is_zero() {
            pod = persisting;
        }
    }
    let disposal = match spec.persist {
        _ if spec.keep => Disposal::Keep,
        Some(idle) if !idle.is_zero() => Disposal::Persist(idle),
        _ => Disposal::Delete,
    };
    let io = ExecIo::Local { tty: spec.tty };
    pods.run_created(&pod, &spec, disposal, progress, &mut signals, io)
        .await
}

impl Pods<'_> {
    /// The phases for a pod made for this session: create `pod`, wait for
    /// it, exec with `io`, and end as `disposal` says. Also the captured
    /// driver's ([`super::captured`]).
    pub(super) async fn run_created(
        &self,
        pod: &Pod,
        spec: &SessionSpec,
        disposal: Disposal,
        progress: &dyn Progress,
        signals: &mut Signals,
        io: ExecIo<'_>,
    ) -> Result<SessionOutcome> {
        // The watch is asked for while the pod is created: its name is known,
        // and a watch from "0" of a pod that does not exist yet sees it as it
        // is added, so starting them together saves a round trip.
        let name = pod.metadata.name.clone().unwrap_or_default();
        let (created, watched) = tokio::join!(
            self.create(pod, &spec.what),
            self.watch_start(&name, "0", progress)
        );
        let created = created?;
        let created_at = Instant::now();
        step("pod created");
        if let Some(line) = lifetime::fitted_line(pod, &created, &self.cluster.namespace) {
            progress.note(&line);
        }
        let name = created.metadata.name.clone().unwrap_or_default();
        progress.pod_ready(&name, false);
        let guard = self.guard(name);

        let result = match signals.pending() {
            Some(signal) => Err(ClusterError::Interrupted { signal }),
            None => tokio::select! {
                signal = signals.recv() => Err(ClusterError::Interrupted { signal }),
                result = async {
                    self.wait_then_exec(&created, watched?, spec, progress, io).await
                } => result,
            },
        };
        let ended = Ended {
            pod: &created,
            guard,
            result,
            lived: created_at.elapsed(),
            reused: false,
        };
        self.end(ended, disposal, signals).await
    }
}

/// The pod's shape label: which persisting pods it may reuse.
fn shape(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(SHAPE_LABEL))
        .map_or("", String::as_str)
}
