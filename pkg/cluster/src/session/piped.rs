//! A session whose streams are the program's, not the terminal's: its
//! command's stdin is read from a reader (EOF included), its stdout and
//! stderr are written into writers, and the program settles what the
//! session did before its pod is deleted. toolbox cp's stream goes this way.
//!
//! This is phase 3 for such a session ([`Pods::relay_piped`]) and its
//! driver ([`run_piped`]), which goes through single's phases for a created
//! pod. The relay differs from a terminal's in how it ends: a writer that
//! fails (the program's own end of the stream gave up, say on a full disk)
//! ends the session at once, rather than leaving the command to block on
//! output no one reads; and a session that ended with status 0 is settled
//! (the program awaits its own work, and may annotate the pod through
//! [`annotate`]) before the end phase deletes the pod.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Patch, PatchParams};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::end::Disposal;
use super::exec::{ExecIo, PipedIo, exit_status, lost_reason};
use super::pods::Pods;
use super::spec::{Progress, SessionOutcome, SessionSpec};
use crate::client::context::ClusterContext;
use crate::client::exec_stream::ExecStream;
use crate::error::{Action, ClusterError, Result};
use crate::signals::Signals;

/// How much one copy between the exec's pipes and the program's takes:
/// the exec stream's own pipe size.
const CHUNK: usize = 64 * 1024;

/// Creates `spec.pod`, runs `spec.command` in it with `io`'s streams, and
/// deletes the pod however the session ends. `spec.keep` and
/// `spec.persist` do not apply.
pub async fn run_piped(
    cluster: &ClusterContext,
    spec: SessionSpec,
    progress: &dyn Progress,
    io: PipedIo<'_>,
) -> Result<SessionOutcome> {
    let mut signals = Signals::install()?;
    let pods = Pods::of(cluster);
    pods.run_created(
        &spec.pod,
        &spec,
        Disposal::Delete,
        progress,
        &mut signals,
        ExecIo::Piped(io),
    )
    .await
}

/// Puts `annotations` on the session's pod `pod` (a merge patch), for the
/// audit trail of what the session did.
pub async fn annotate(
    cluster: &ClusterContext,
    pod: &str,
    annotations: &BTreeMap<String, String>,
) -> Result<()> {
    let pods = Pods::of(cluster);
    let patch = serde_json::json!({ "metadata": { "annotations": annotations } });
    pods.api
        .patch(pod, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_: Pod| ())
        .map_err(|err| {
            cluster.request_error(Action::namespaced("patch", "pods", &cluster.namespace), err)
        })
}

/// Copies `from` into `to` until EOF, then shuts `to` down: the reader's
/// error as `Err(Ok(..))`, the writer's as `Err(Err(..))`.
async fn pump(
    from: &mut (impl tokio::io::AsyncRead + Unpin),
    to: &mut (impl tokio::io::AsyncWrite + Unpin),
) -> std::result::Result<(), std::result::Result<std::io::Error, std::io::Error>> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = from.read(&mut buf).await.map_err(Ok)?;
        if n == 0 {
            return to.shutdown().await.map_err(Err);
        }
        to.write_all(&buf[..n]).await.map_err(Err)?;
    }
}

impl Pods<'_> {
    /// Relays an opened exec stream to `io` until the command ends and the
    /// program has settled, and returns the command's exit status.
    pub(super) async fn relay_piped(
        &self,
        pod: &str,
        mut attached: ExecStream,
        io: PipedIo<'_>,
    ) -> Result<i32> {
        crate::steps::step("exec started");
        let PipedIo {
            mut stdin,
            mut stdout,
            mut stderr,
            settle,
        } = io;
        let status = attached.take_status();
        let (remote_stdin, remote_stdout, remote_stderr) =
            (attached.stdin(), attached.stdout(), attached.stderr());
        let local_failure = |what: &str, err: std::io::Error| ClusterError::StreamFailed {
            pod: pod.to_string(),
            reason: format!("{what}: {err}"),
        };
        // The command may end without reading all of its stdin (it refused
        // the stream): what is left is not an error of the session's.
        let feed = async {
            match remote_stdin {
                Some(mut remote) => match pump(&mut stdin, &mut remote).await {
                    Err(Ok(read)) => Err(local_failure("reading what the command is sent", read)),
                    _ => Ok(()),
                },
                None => Ok(()),
            }
        };
        let copy_out = async {
            match remote_stdout {
                Some(mut remote) => pump(&mut remote, &mut stdout).await.map_err(|e| {
                    local_failure("writing the command's output", e.unwrap_or_else(|e| e))
                }),
                None => Ok(()),
            }
        };
        let copy_err = async {
            match remote_stderr {
                Some(mut remote) => pump(&mut remote, &mut stderr).await.map_err(|e| {
                    local_failure("writing the command's errors", e.unwrap_or_else(|e| e))
                }),
                None => Ok(()),
            }
        };
        let status = async move {
            match status {
                Some(status) => status.await,
                None => None,
            }
        };
        let output = async { tokio::try_join!(copy_out, copy_err).map(|_| ()) };
        tokio::pin!(feed, output, status);
        let (mut fed, mut written) = (false, false);
        let status = loop {
            tokio::select! {
                result = &mut feed, if !fed => { fed = true; result?; }
                result = &mut output, if !written => { written = true; result?; }
                status = &mut status => break status,
            }
        };
        let Some(status) = status else {
            let joined = attached.join().await;
            return Err(ClusterError::ConnectionLost {
                namespace: self.cluster.namespace.clone(),
                pod: pod.to_string(),
                reason: lost_reason(joined.err().as_ref().map(|e| e as _)),
            });
        };
        // The output ends once the stream has given it all, after the status.
        if !written {
            output.await?;
        }
        let _ = attached.join().await;
        let code = exit_status(pod, &status)?;
        crate::steps::step("command ended");
        if code == 0 {
            settle().await;
        }
        Ok(code)
    }
}
