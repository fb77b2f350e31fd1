//! One exec stream: Kubernetes' remote-command protocol over a WebSocket
//! (`v5.channel.k8s.io`, or `v4` from older servers), with a heartbeat that
//! ends the stream when the link goes silent.
//!
//! kube's own `Api::exec` pings every 60 s but never checks that anything
//! comes back. A link that stops carrying packets without closing (Wi-Fi
//! gone, a VPN reconnecting, an expired NAT entry, a laptop asleep) then
//! leaves a session waiting for as long as the outage lasts, with its
//! privileged pod running: there is nothing to send, so no TCP timer fires.
//! client-go's heartbeat ends `kubectl exec` after 61 s. This one pings every
//! [`HEARTBEAT_INTERVAL`] and gives up after [`SILENCE_BOUND`] without a
//! frame (a pong, output, anything) from the server. An idle shell is never
//! mistaken for a dead link, since the server answers every ping.
//!
//! Time spent waiting for the local side (a paused pager reading stdout)
//! is not silence: the server is not being read then, so its answers wait
//! in the socket.
//!
//! The channels: each binary frame starts with its channel's number. 0 is
//! stdin, 1 stdout, 2 stderr, 3 the status (a `metav1.Status` as JSON) that
//! ends the command, 4 a terminal resize; `[255, N]` closes channel N (v5).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{AttachParams, TerminalSize};
use kube::{Client, Resource};
use tokio::io::{AsyncWriteExt, ReadHalf, SimplexStream, WriteHalf};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::client::transport::{Link, SILENCE_BOUND};

/// How often the client pings while the stream is open.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(4);

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;
/// The most each pipe between the stream's task and its user holds. kube's
/// 1 KiB cut a 100 MB `cat` into 100,000 local writes, at an eighth of the
/// speed `kubectl exec` reaches; 64 KiB holds a whole frame of the server's.
/// A pipe's buffer grows only as output waits in it, so an idle session of
/// a fan-out run costs nothing for it.
const PIPE_SIZE: usize = 64 * 1024;

/// Why an exec stream ended without the command's status.
#[derive(Debug, thiserror::Error)]
pub enum ExecStreamError {
    #[error("{}", crate::client::transport::silence_reason(*.0))]
    Silent(Duration),
    #[error("the exec stream failed: {0}")]
    Receive(#[source] tokio_tungstenite::tungstenite::Error),
    #[error("could not send on the exec stream: {0}")]
    Send(#[source] tokio_tungstenite::tungstenite::Error),
    #[error("the command's status could not be read: {0}")]
    Status(#[source] serde_json::Error),
    #[error("the exec stream's task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// A command running in a pod, with its streams.
pub struct ExecStream {
    stdin: Option<WriteHalf<SimplexStream>>,
    stdout: Option<ReadHalf<SimplexStream>>,
    stderr: Option<ReadHalf<SimplexStream>>,
    status: Option<oneshot::Receiver<Status>>,
    resize: Option<mpsc::Sender<TerminalSize>>,
    task: Option<tokio::task::JoinHandle<Result<(), ExecStreamError>>>,
}

impl Drop for ExecStream {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Asks for the exec of `command` in `pod`: the request that starts it.
/// Until the server upgrades it to a WebSocket there is no heartbeat of its
/// own, so the wait for that answer ends when `link` goes silent: a
/// [`ExecStreamError::Silent`] inside the error.
pub async fn open(
    client: &Client,
    link: &Link,
    namespace: &str,
    pod: &str,
    command: &[String],
    params: &AttachParams,
) -> kube::Result<ExecStream> {
    let pods = kube::core::Request::new(Pod::url_path(&(), Some(namespace)));
    let mut request = pods
        .exec(pod, command.iter().cloned(), params)
        .map_err(kube::Error::BuildRequest)?;
    request.extensions_mut().insert("exec");
    tokio::select! {
        connection = client.connect(request) => Ok(ExecStream::start(connection?, params)),
        silent = link.silence() => Err(kube::Error::Service(Box::new(ExecStreamError::Silent(silent)))),
    }
}

/// The silence that ended an exec stream, or its opening, if one did.
pub fn silence_in<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e ExecStreamError> {
    let mut source = Some(err);
    while let Some(cause) = source {
        if let Some(silent @ ExecStreamError::Silent(_)) = cause.downcast_ref::<ExecStreamError>() {
            return Some(silent);
        }
        source = cause.source();
    }
    None
}

impl ExecStream {
    fn start(connection: kube::client::Connection, params: &AttachParams) -> ExecStream {
        let (stdin_reader, stdin_writer) = tokio::io::simplex(PIPE_SIZE);
        let pipe = |wanted: bool| wanted.then(|| tokio::io::simplex(PIPE_SIZE)).unzip();
        let (stdout_reader, stdout_writer) = pipe(params.stdout);
        let (stderr_reader, stderr_writer) = pipe(params.stderr);
        let (status_sender, status) = oneshot::channel();
        let (resize, resizes) = params.tty.then(|| mpsc::channel(8)).unzip();
        let relay = Relay {
            stdout: stdout_writer,
            stderr: stderr_writer,
            status: Some(status_sender),
            heard: Arc::new(Mutex::new(Heard::Server(Instant::now()))),
        };
        let task = tokio::spawn(relay.run(connection, stdin_reader, resizes));
        ExecStream {
            stdin: params.stdin.then_some(stdin_writer),
            stdout: stdout_reader,
            stderr: stderr_reader,
            status: Some(status),
            resize,
            task: Some(task),
        }
    }

    /// The command's stdin, when asked for; shutting it down sends EOF.
    pub fn stdin(&mut self) -> Option<WriteHalf<SimplexStream>> {
        self.stdin.take()
    }

    pub fn stdout(&mut self) -> Option<ReadHalf<SimplexStream>> {
        self.stdout.take()
    }

    pub fn stderr(&mut self) -> Option<ReadHalf<SimplexStream>> {
        self.stderr.take()
    }

    /// Resolves with the command's status, or with none when the stream
    /// ended without one.
    pub fn take_status(&mut self) -> Option<impl Future<Output = Option<Status>> + use<>> {
        self.status
            .take()
            .map(|status| async move { status.await.ok() })
    }

    /// Where the terminal's sizes go (with a TTY).
    pub fn terminal_size(&mut self) -> Option<mpsc::Sender<TerminalSize>> {
        self.resize.take()
    }

    /// Waits for the stream's task: why it ended, if it failed.
    pub async fn join(mut self) -> Result<(), ExecStreamError> {
        if let Some(stdin) = &mut self.stdin {
            let _ = stdin.shutdown().await;
        }
        // Unread output must not keep the task writing into a full pipe.
        self.stdout = None;
        self.stderr = None;
        self.status = None;
        self.resize = None;
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(ExecStreamError::Task(e))),
            None => Ok(()),
        }
    }
}

/// What the stream last heard from, or is busy with.
#[derive(Debug, Clone, Copy)]
enum Heard {
    /// A frame from the server, at this time.
    Server(Instant),
    /// Writing output locally, which may wait on a slow reader: the server
    /// is not read meanwhile, so its silence says nothing.
    WritingLocally,
}

struct Relay {
    stdout: Option<WriteHalf<SimplexStream>>,
    stderr: Option<WriteHalf<SimplexStream>>,
    status: Option<oneshot::Sender<Status>>,
    heard: Arc<Mutex<Heard>>,
}

impl Relay {
    async fn run(
        mut self,
        connection: kube::client::Connection,
        stdin: ReadHalf<SimplexStream>,
        resizes: Option<mpsc::Receiver<TerminalSize>>,
    ) -> Result<(), ExecStreamError> {
        let heard = self.heard.clone();
        let ended = tokio::select! {
            ended = self.relay(connection, stdin, resizes) => ended,
            silence = silence(&heard) => Err(ExecStreamError::Silent(silence)),
        };
        // EOF on the output pipes, whatever ended the stream.
        for pipe in [self.stdout.as_mut(), self.stderr.as_mut()]
            .into_iter()
            .flatten()
        {
            let _ = pipe.shutdown().await;
        }
        ended
    }

    async fn relay(
        &mut self,
        connection: kube::client::Connection,
        stdin: ReadHalf<SimplexStream>,
        mut resizes: Option<mpsc::Receiver<TerminalSize>>,
    ) -> Result<(), ExecStreamError> {
        let closes_channels = connection.supports_stream_close();
        let (mut server_out, mut server_in) = connection.into_stream().split();
        // A frame takes what one read of the pipe gives, up to its size:
        // ReaderStream's default of 4 KiB cut a piped upload (toolbox cp)
        // into 250,000 frames a GB. A typed key is still a frame at once.
        let mut stdin = Some(tokio_util::io::ReaderStream::with_capacity(
            stdin, PIPE_SIZE,
        ));
        let mut heartbeat = tokio::time::interval(HEARTBEAT_INTERVAL);
        heartbeat.reset();
        loop {
            let resize = async {
                match resizes.as_mut() {
                    Some(sizes) => sizes.next().await,
                    None => std::future::pending().await,
                }
            };
            let typed = async {
                match stdin.as_mut() {
                    Some(typed) => typed.next().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = server_in.next() => {
                    self.heard(Heard::Server(Instant::now()));
                    match frame {
                        Some(Ok(Message::Binary(frame))) => {
                            if self.deliver(frame).await? {
                                return Ok(());
                            }
                        }
                        Some(Ok(_)) => {}
                        Some(Err(err)) => return Err(ExecStreamError::Receive(err)),
                        None => return Ok(()),
                    }
                }
                typed = typed => match typed {
                    Some(Ok(bytes)) if !bytes.is_empty() => {
                        server_out
                            .send(Message::binary(channel_frame(STDIN, &bytes)))
                            .await
                            .map_err(ExecStreamError::Send)?;
                    }
                    Some(Ok(_)) => {}
                    // The local stdin ended (or failed): EOF for the command.
                    Some(Err(_)) | None => {
                        stdin = None;
                        if closes_channels {
                            server_out
                                .send(Message::binary(vec![CLOSE, STDIN]))
                                .await
                                .map_err(ExecStreamError::Send)?;
                        } else {
                            // v4 has no way to close one channel; closing
                            // the stream may lose the command's last output.
                            server_out.close().await.map_err(ExecStreamError::Send)?;
                        }
                    }
                },
                size = resize => match size {
                    Some(size) => {
                        let json = serde_json::to_vec(&size).unwrap_or_default();
                        server_out
                            .send(Message::binary(channel_frame(RESIZE, &json)))
                            .await
                            .map_err(ExecStreamError::Send)?;
                    }
                    None => resizes = None,
                },
                _ = heartbeat.tick() => {
                    server_out
                        .send(Message::Ping(Bytes::new()))
                        .await
                        .map_err(ExecStreamError::Send)?;
                }
            }
        }
    }

    fn heard(&self, heard: Heard) {
        *self.heard.lock().unwrap_or_else(PoisonError::into_inner) = heard;
    }

    /// Hands one frame from the server on; true once the status came.
    async fn deliver(&mut self, frame: Bytes) -> Result<bool, ExecStreamError> {
        // A frame of the channel's number alone opens the channel.
        let Some((&channel, payload)) = frame.split_first().filter(|(_, p)| !p.is_empty()) else {
            return Ok(false);
        };
        let pipe = match channel {
            STDOUT => self.stdout.as_mut(),
            STDERR => self.stderr.as_mut(),
            STATUS => {
                let status: Status =
                    serde_json::from_slice(payload).map_err(ExecStreamError::Status)?;
                if let Some(sender) = self.status.take() {
                    let _ = sender.send(status);
                }
                return Ok(true);
            }
            _ => None,
        };
        if let Some(pipe) = pipe {
            *self.heard.lock().unwrap_or_else(PoisonError::into_inner) = Heard::WritingLocally;
            // A reader that went away only stops that output, as with kube.
            let _ = pipe.write_all(payload).await;
            self.heard(Heard::Server(Instant::now()));
        }
        Ok(false)
    }
}

fn channel_frame(channel: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 1);
    frame.push(channel);
    frame.extend_from_slice(payload);
    frame
}

/// Resolves once the server has said nothing for [`SILENCE_BOUND`] while
/// the stream waited for it, with how long that was.
async fn silence(heard: &Mutex<Heard>) -> Duration {
    loop {
        let last = *heard.lock().unwrap_or_else(PoisonError::into_inner);
        let check_at = match last {
            Heard::Server(at) if at.elapsed() >= SILENCE_BOUND => return at.elapsed(),
            Heard::Server(at) => at + SILENCE_BOUND,
            // Looked at again once writing may have ended.
            Heard::WritingLocally => Instant::now() + HEARTBEAT_INTERVAL,
        };
        tokio::time::sleep_until(check_at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn silence_is_counted_from_the_last_frame() {
        let heard = Arc::new(Mutex::new(Heard::Server(Instant::now())));
        let watcher = tokio::spawn({
            let heard = heard.clone();
            async move { silence(&heard).await }
        });
        tokio::time::sleep(Duration::from_secs(6)).await;
        *heard.lock().unwrap() = Heard::Server(Instant::now());
        let started = Instant::now();
        let silent_for = watcher.await.unwrap();
        assert_eq!(started.elapsed(), SILENCE_BOUND);
        assert_eq!(silent_for, SILENCE_BOUND);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_local_reader_is_not_silence() {
        let heard = Arc::new(Mutex::new(Heard::WritingLocally));
        let watcher = tokio::spawn({
            let heard = heard.clone();
            async move { silence(&heard).await }
        });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            !watcher.is_finished(),
            "a minute of writing locally is not silence"
        );
        *heard.lock().unwrap() = Heard::Server(Instant::now());
        let started = Instant::now();
        watcher.await.unwrap();
        assert!(started.elapsed() <= SILENCE_BOUND + HEARTBEAT_INTERVAL);
    }

    #[test]
    fn frames_carry_their_channel_first() {
        assert_eq!(channel_frame(STDIN, b"ls\n"), b"\0ls\n");
        assert_eq!(channel_frame(RESIZE, b"{}"), b"\x04{}");
    }
}
