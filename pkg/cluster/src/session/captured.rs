//! The driver of a session whose output is the program's to read, not the
//! terminal's: one pod made for it, its command's stdout and stderr copied
//! into writers, and the pod deleted however it ends (a signal, an error, a
//! panic). `toolbox sessions` reads a node's recordings this way.

use super::end::Disposal;
use super::exec::{BoxedWriter, ExecIo};
use super::pods::Pods;
use super::spec::{Progress, SessionOutcome, SessionSpec};
use crate::client::context::ClusterContext;
use crate::error::Result;
use crate::signals::Signals;

/// Creates `spec.pod`, runs `spec.command` in it with no stdin and its
/// output in `stdout` and `stderr`, and deletes the pod. `spec.keep` and
/// `spec.persist` do not apply: the pod is the command's only.
pub async fn run_captured(
    cluster: &ClusterContext,
    spec: SessionSpec,
    progress: &dyn Progress,
    stdout: BoxedWriter<'_>,
    stderr: BoxedWriter<'_>,
) -> Result<SessionOutcome> {
    let mut signals = Signals::install()?;
    let pods = Pods::of(cluster);
    let io = ExecIo::Captured { stdout, stderr };
    pods.run_created(
        &spec.pod,
        &spec,
        Disposal::Delete,
        progress,
        &mut signals,
        io,
    )
    .await
}
