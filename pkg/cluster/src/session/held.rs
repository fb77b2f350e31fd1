//! The driver of a session that runs several commands, one after another,
//! in one pod made for it, each with its output captured: `toolbox dump`
//! collects a node's items this way. The pod goes through the same phases
//! as every session's (create, start, end) and is deleted however the work
//! ends: a signal, an error, a panic.

use tokio::time::Instant;

use super::end::{Disposal, Ended};
use super::exec::{BoxedWriter, ExecIo};
use super::pods::Pods;
use super::spec::{Progress, SessionOutcome, SessionSpec};
use crate::client::context::ClusterContext;
use crate::error::{ClusterError, Result};
use crate::signals::Signals;
use crate::steps::step;

/// The running pod of a held session, for its commands.
pub struct PodExecs<'a> {
    pods: &'a Pods<'a>,
    pod: String,
    container: String,
}

impl PodExecs<'_> {
    /// The pod's name.
    pub fn pod(&self) -> &str {
        &self.pod
    }

    /// Runs `command` in the pod with no stdin and its output copied into
    /// the writers, and returns its exit status. A writer that refuses
    /// output ends the command there ([`ClusterError::OutputClosed`]): the
    /// stream is dropped, and the command's output with it.
    pub async fn run(
        &self,
        command: &[String],
        stdout: BoxedWriter<'_>,
        stderr: BoxedWriter<'_>,
    ) -> Result<i32> {
        let io = ExecIo::Captured { stdout, stderr };
        self.pods
            .exec_with(&self.pod, &self.container, command, io)
            .await
    }
}

/// Creates `spec.pod`, waits for it to run, hands it to `work`, and deletes
/// it when `work` is done, or earlier on a signal. `spec.command`,
/// `spec.keep`, `spec.persist` and `spec.early_exec` do not apply: the
/// commands are `work`'s, and the pod is theirs only. The outcome's exit
/// code is 0: each command's own status is `work`'s to keep.
pub async fn run_held<T>(
    cluster: &ClusterContext,
    spec: SessionSpec,
    progress: &dyn Progress,
    work: impl AsyncFnOnce(&PodExecs<'_>) -> T,
) -> Result<(T, SessionOutcome)> {
    // Caught before the pod exists, so that no signal can kill toolbox
    // between creating the pod and guarding it.
    let mut signals = Signals::install()?;
    let pods = Pods::of(cluster);
    let pod = &spec.pod;
    let name = pod.metadata.name.clone().unwrap_or_default();
    let (created, watched) = tokio::join!(
        pods.create(pod, &spec.what),
        pods.watch_start(&name, "0", progress)
    );
    let created = created?;
    let created_at = Instant::now();
    step("pod created");
    let name = created.metadata.name.clone().unwrap_or_default();
    progress.pod_ready(&name, false);
    let guard = pods.guard(name.clone());

    let execs = PodExecs {
        pods: &pods,
        pod: name,
        container: spec.container.clone(),
    };
    let held = async {
        let (watch, updates, events) = watched?;
        pods.wait_for_start(
            &created,
            updates,
            &watch,
            Instant::now() + spec.start_timeout,
            spec.start_timeout,
            progress,
            events,
        )
        .await?;
        step("container started");
        progress.started();
        Ok(work(&execs).await)
    };
    let result = match signals.pending() {
        Some(signal) => Err(ClusterError::Interrupted { signal }),
        None => tokio::select! {
            signal = signals.recv() => Err(ClusterError::Interrupted { signal }),
            result = held => result,
        },
    };
    let (result, output) = match result {
        Ok(output) => (Ok(0), Some(output)),
        Err(err) => (Err(err), None),
    };
    let ended = Ended {
        pod: &created,
        guard,
        result,
        lived: created_at.elapsed(),
        reused: false,
    };
    match (
        pods.end(ended, Disposal::Delete, &mut signals).await,
        output,
    ) {
        (Ok(outcome), Some(output)) => Ok((output, outcome)),
        (Err(err), _) => Err(err),
        (Ok(_), None) => unreachable!("Pods::end fails every session whose work failed"),
    }
}
