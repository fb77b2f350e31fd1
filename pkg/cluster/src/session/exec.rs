//! Phase 3: the command runs. The exec stream is opened (the request that
//! starts the command) and relayed: to this process's own terminal, raw and
//! following its size, or into writers, as a fan-out run captures each
//! node's output. The command's exit status is the session's; a stream
//! that ends without one is a lost connection, in words.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status as ExecStatus;
use kube::api::AttachParams;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::pods::Pods;
use crate::client::exec_stream::{self, ExecStream};
use crate::error::{Action, ClusterError, Result, api_status, error_chain, innermost_cause};
use crate::terminal::{RawMode, terminal_size};

/// A writer an exec's output is copied into.
pub type BoxedWriter<'a> = Box<dyn tokio::io::AsyncWrite + Send + Unpin + 'a>;

/// A reader an exec's stdin is copied from.
pub type BoxedReader<'a> = Box<dyn tokio::io::AsyncRead + Send + Unpin + 'a>;

/// What the program does once a piped session's command ended with status
/// 0 and its output was all written, before the pod is deleted.
pub type Settle<'a> = Box<dyn FnOnce() -> futures::future::BoxFuture<'a, ()> + Send + 'a>;

/// A piped session's streams ([`super::piped`]).
pub struct PipedIo<'a> {
    pub stdin: BoxedReader<'a>,
    pub stdout: BoxedWriter<'a>,
    pub stderr: BoxedWriter<'a>,
    pub settle: Settle<'a>,
}

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
    /// All three streams are the program's ([`super::piped`]).
    Piped(PipedIo<'a>),
}

/// After the exec stream failed, how long its output that already arrived
/// may take to reach the local stdout and stderr.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

impl Pods<'_> {
    /// Runs `command` in the pod with its streams where `io` says, and
    /// returns its exit status.
    pub(crate) async fn exec_with(
        &self,
        pod: &str,
        container: &str,
        command: &[String],
        io: ExecIo<'_>,
    ) -> Result<i32> {
        let attached = self
            .open_exec(pod, container, command, &io)
            .await
            .map_err(|err| self.exec_error(pod, err))?;
        self.relay_exec(pod, attached, io).await
    }

    /// Asks for the exec stream: the request that starts the command.
    pub(super) async fn open_exec(
        &self,
        pod: &str,
        container: &str,
        command: &[String],
        io: &ExecIo<'_>,
    ) -> kube::Result<ExecStream> {
        let (tty, stdin) = match io {
            ExecIo::Local { tty } => (*tty, true),
            ExecIo::Captured { .. } => (false, false),
            ExecIo::Piped(_) => (false, true),
        };
        let params = AttachParams::default()
            .container(container)
            .stdin(stdin)
            .stdout(true)
            .stderr(!tty)
            .tty(tty);
        let namespace = self.api.namespace().unwrap_or(&self.cluster.namespace);
        exec_stream::open(
            &self.cluster.exec_client,
            &self.cluster.link,
            namespace,
            pod,
            command,
            &params,
        )
        .await
    }

    /// Why an exec could not be opened, in toolbox's words.
    pub(super) fn exec_error(&self, pod: &str, err: kube::Error) -> ClusterError {
        if let Some(silent) = exec_stream::silence_in(&err) {
            ClusterError::ConnectionLost {
                namespace: self.cluster.namespace.clone(),
                pod: pod.to_string(),
                reason: silent.to_string(),
            }
        } else if let kube::Error::UpgradeConnection(_) = &err {
            ClusterError::ExecFailed {
                pod: pod.to_string(),
                message: error_chain(&err),
            }
        } else {
            self.cluster.request_error(
                Action::namespaced("create", "pods/exec", &self.cluster.namespace),
                err,
            )
        }
    }

    /// Relays an opened exec stream to where `io` says until the command
    /// ends, and returns its exit status. With a local TTY, the terminal is
    /// raw for the session and resizes follow it; without, stdin is streamed
    /// in (EOF included) and stdout and stderr stay apart.
    pub(super) async fn relay_exec(
        &self,
        pod: &str,
        mut attached: ExecStream,
        io: ExecIo<'_>,
    ) -> Result<i32> {
        let (tty, local, writers) = match io {
            ExecIo::Local { tty } => (tty, true, None),
            ExecIo::Captured { stdout, stderr } => (false, false, Some((stdout, stderr))),
            ExecIo::Piped(piped) => return self.relay_piped(pod, attached, piped).await,
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
        let (mut local_stdout, mut local_stderr): (BoxedWriter<'_>, BoxedWriter<'_>) = match writers
        {
            Some(writers) => writers,
            None => (Box::new(tokio::io::stdout()), Box::new(tokio::io::stderr())),
        };
        // A captured writer that refuses more output (a reader at its size
        // limit) ends the exec: the stream is dropped below, so that the
        // command's output closes and it stops, rather than blocking with
        // no one reading. This process's own stdout gone keeps the session.
        let ends_on_refusal = !local;
        let copy_output = async {
            let copy_stdout = async {
                match remote_stdout {
                    Some(mut out) => copy_flushing(&mut out, &mut local_stdout, first_output).await,
                    None => Ok(()),
                }
            };
            let copy_stderr = async {
                match remote_stderr {
                    Some(mut err) => copy_flushing(&mut err, &mut local_stderr, first_output).await,
                    None => Ok(()),
                }
            };
            if !ends_on_refusal {
                let _ = tokio::join!(copy_stdout, copy_stderr);
                return None;
            }
            futures::future::try_join(copy_stdout, copy_stderr)
                .await
                .err()
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
        let (status, refused) = {
            tokio::pin!(copy_output, status);
            tokio::select! {
                refused = &mut copy_output => match refused {
                    Some(refused) => (None, Some(refused)),
                    None => (status.await, None),
                },
                status = &mut status => {
                    let refused = match status {
                        Some(_) => copy_output.await,
                        // What arrived before the failure is already buffered.
                        None => tokio::time::timeout(DRAIN_TIMEOUT, copy_output).await.ok().flatten(),
                    };
                    (status, refused)
                }
            }
        };
        if let Some(refused) = refused {
            // Dropping the stream ends the connection, and with it the
            // command's output.
            drop(attached);
            return Err(ClusterError::OutputClosed {
                pod: pod.to_string(),
                reason: refused.to_string(),
            });
        }
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
                namespace: self.cluster.namespace.clone(),
                pod: pod.to_string(),
                reason: lost_reason(joined.err().as_ref().map(|e| e as _)),
            }),
        }
    }
}

/// Whether an exec was refused only because the container has not started
/// yet: the kubelet does not know it yet, or the runtime has it created
/// but not running. Such a refusal runs nothing, so the exec can be tried
/// again. The texts are the kubelet's, containerd's and CRI-O's.
pub(super) fn container_not_started(err: &kube::Error) -> bool {
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
pub(super) fn container_gone(err: &kube::Error) -> bool {
    const GONE: &[&str] = &["not running", "stopped container", "CONTAINER_EXITED"];
    container_not_started(err)
        || api_status(err).is_some_and(|status| {
            status.code == 404
                || (status.code >= 400 && GONE.iter().any(|text| status.message.contains(text)))
        })
}

/// Why an exec stream ended without the command's status, in words.
pub(super) fn lost_reason(err: Option<&(dyn std::error::Error + 'static)>) -> String {
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
/// shows output as it comes; the writer's error, when it refused a chunk.
async fn copy_flushing(
    from: &mut (impl tokio::io::AsyncRead + Unpin),
    to: &mut (impl tokio::io::AsyncWrite + Unpin),
    first_output: Option<&std::sync::Once>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return Ok(()),
            Ok(n) => {
                if let Some(first) = first_output {
                    first.call_once(|| crate::steps::step("first output"));
                }
                to.write_all(&buf[..n]).await?;
                to.flush().await?;
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
pub(super) fn exit_status(pod: &str, status: &ExecStatus) -> Result<i32> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
