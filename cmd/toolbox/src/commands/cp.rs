//! `toolbox cp SRC... DEST`: files between a node and this machine, one
//! way or the other, through a short-lived pod on the node whose exec is
//! the recorder's `send` or `receive` (docs/cp.md).
//!
//! The command decides the copy's shape from its operands (pure, in
//! [`parse`]), checks this machine's side before any request (the
//! destination, or the sources), then runs the session through pkg/cluster's
//! piped driver with pkg/transfer's stream on a thread of its own, which
//! verifies every file's sha256 before anything is renamed into place.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::io::AsyncWrite;
use tokio_util::io::SyncIoBridge;
use toolbox_cluster::session::{PipedIo, annotate, run_piped};
use toolbox_cluster::{ClusterContext, ClusterError, parse_node_arg};
use toolbox_podtemplate::{
    COPY_FILES_ANNOTATION, CopyDirection, copy_receive_command, copy_send_command,
};
use toolbox_transfer::dest::{Existing, place};
use toolbox_transfer::send::Sent;
use toolbox_transfer::{Manifest, Placement, ReceiveOptions, TransferError};

use crate::app::App;
use crate::exit::{AppError, ExitStatus, usage};
use crate::session::args::{NodeArgs, PodArgs};
use crate::session::pod::{CopyPlan, PodOptions, copy_session};
use crate::session::preflight::{NodeUse, connect_to_node};
use crate::session::spinner::Spinner;

/// Copy files and directories between a node and this machine.
///
/// One side is NODE:PATH, a path on the node itself (never a pod's: there
/// is no /host to get wrong); the other is a path here, or - for standard
/// input or output. Directories are copied with everything in them; modes,
/// times and symlinks are kept, and devices, sockets and FIFOs are skipped
/// with a warning. Every file's sha256 is compared end to end, and nothing
/// is renamed into place until all of them match: a cut connection, Ctrl-C
/// or a full disk leaves no partial file under its final name. Nothing is
/// overwritten without --force.
///
/// The copy runs in a pod on the node, deleted when it ends, that records
/// it on the node (toolbox sessions list NODE shows it) and names every
/// file, with its size and sha256, in its annotations.
#[derive(Debug, Args)]
#[command(
    override_usage = "toolbox cp [OPTIONS] SRC... DEST",
    after_help = "Examples:\n  toolbox cp node-1:/var/log/syslog .\n  toolbox cp node-1:/var/crash/ ./crash/\n  toolbox cp ./fix.sh node-1:/tmp/fix.sh\n  toolbox cp node-1:/etc/kubernetes/kubelet.conf - | less\n  tar cz ./bundle | toolbox cp - node-1:/tmp/bundle.tgz\n  toolbox cp -f ./kubelet-config.yaml node-1:/var/lib/kubelet/config.yaml --reason INC-1234"
)]
pub struct CpArgs {
    /// The sources, then the destination: NODE:PATH on one side, a local
    /// path or - on the other
    #[arg(value_name = "PATH", required = true, num_args = 2..)]
    pub paths: Vec<String>,

    /// Overwrite files and merge into directories that exist
    #[arg(short = 'f', long)]
    pub force: bool,

    /// DEST is the name to write, never a directory to copy into
    #[arg(short = 'T', long)]
    pub no_target_directory: bool,

    /// The pod's image; it needs sleep [default: the image setting, toolbox's node-tools]
    #[arg(long, value_name = "IMAGE", value_parser = crate::values::parse_image)]
    pub image: Option<String>,

    #[command(flatten)]
    pub pod: PodArgs,
}

/// One operand of the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Operand {
    Node { node: String, path: String },
    Local(PathBuf),
    Std,
}

/// The copy the operands ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Copy {
    FromNode {
        node: String,
        paths: Vec<String>,
        to: Local,
    },
    ToNode {
        from: Local,
        node: String,
        path: String,
    },
}

/// This machine's side: paths, or standard input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Local {
    Paths(Vec<PathBuf>),
    Std,
}

/// `NODE:PATH` is a node's path; a path that starts with `/` or `.`, or has
/// no colon, is this machine's (so `./a:b` is a local file named `a:b`).
fn operand(arg: &str) -> Result<Operand, AppError> {
    if arg == "-" {
        return Ok(Operand::Std);
    }
    let local = arg.starts_with('/') || arg.starts_with('.') || !arg.contains(':');
    if local {
        return Ok(Operand::Local(PathBuf::from(arg)));
    }
    let (node, path) = arg.split_once(':').unwrap_or((arg, ""));
    let node = parse_node_arg(node)?.to_string();
    if !path.starts_with('/') {
        return Err(usage(format!(
            "{arg}: a node's path is absolute, from the node's / (e.g. {node}:/var/log/syslog)"
        )));
    }
    Ok(Operand::Node {
        node,
        path: path.to_string(),
    })
}

/// The copy the operands (sources, then the destination) ask for.
fn parse(args: &[String]) -> Result<Copy, AppError> {
    let operands = args
        .iter()
        .map(|arg| operand(arg))
        .collect::<Result<Vec<_>, _>>()?;
    let Some((dest, sources)) = operands.split_last() else {
        return Err(usage("a source and a destination are needed"));
    };
    let one_side = "one side must be a node (NODE:PATH) and the other this machine (a path, or -)";
    match dest {
        Operand::Node { node, path } => {
            let mut local = Vec::new();
            let mut std = false;
            for source in sources {
                match source {
                    Operand::Local(path) => local.push(path.clone()),
                    Operand::Std => std = true,
                    Operand::Node { .. } => return Err(usage(one_side)),
                }
            }
            let from = match (std, local.is_empty()) {
                (true, true) if sources.len() == 1 => Local::Std,
                (true, _) => return Err(usage("- (standard input) must be the only source")),
                (false, _) => Local::Paths(local),
            };
            Ok(Copy::ToNode {
                from,
                node: node.clone(),
                path: path.clone(),
            })
        }
        Operand::Local(_) | Operand::Std => {
            let mut node = None;
            let mut paths = Vec::new();
            for source in sources {
                let Operand::Node { node: n, path } = source else {
                    return Err(usage(one_side));
                };
                if node.as_ref().is_some_and(|known| known != n) {
                    return Err(usage(
                        "the sources are on several nodes: copy from one node at a time",
                    ));
                }
                node = Some(n.clone());
                paths.push(path.clone());
            }
            let Some(node) = node else {
                return Err(usage(one_side));
            };
            let to = match dest {
                Operand::Local(path) => Local::Paths(vec![path.clone()]),
                _ if paths.len() > 1 => {
                    return Err(usage(
                        "- (standard output) takes one source, a regular file",
                    ));
                }
                _ => Local::Std,
            };
            Ok(Copy::FromNode { node, paths, to })
        }
    }
}

fn failed(message: impl std::fmt::Display) -> AppError {
    AppError::Other(anyhow::anyhow!("{message}"))
}

pub async fn run(args: CpArgs, app: &App) -> Result<ExitStatus, AppError> {
    let copy = parse(&args.paths)?;
    args.pod.check(app, &args.paths)?;
    match copy {
        Copy::FromNode { node, paths, to } => from_node(&args, app, node, paths, to).await,
        Copy::ToNode { from, node, path } => to_node(&args, app, from, node, path).await,
    }
}

/// The most that an annotation lists of the files: past it, a summary.
const FILES_ANNOTATION_MAX: usize = 32 * 1024;
/// From this many bytes a copy on a terminal shows a progress bar.
const PROGRESS_FROM: u64 = 4 * 1024 * 1024;
/// How much the pipe between the exec and the stream's thread holds.
const PIPE: usize = 64 * 1024;

/// What a copy's session needs besides its operands.
struct Prepared {
    cluster: ClusterContext,
    node: String,
    spec: toolbox_cluster::SessionSpec,
    recording: String,
}

/// The copy's node, reached: the pre-flight done once for a copy, however
/// many pods it takes.
struct Connected {
    cluster: ClusterContext,
    user: String,
    node: String,
}

/// The pre-flight: connect, the node (Linux), and that the user may run a
/// session there.
async fn connect(app: &App, node: String) -> Result<Connected, AppError> {
    let target = NodeArgs {
        node: Some(node),
        selector: None,
    };
    let (cluster, user, node) = connect_to_node(app, &target, NodeUse::Session).await?;
    let node = toolbox_cluster::TargetNode::from(&node);
    if node.os == toolbox_podtemplate::NodeOs::Windows {
        return Err(usage(format!(
            "{} is a Windows node: toolbox cp copies with the recorder, which runs on Linux nodes only",
            node.name
        )));
    }
    Ok(Connected {
        cluster,
        user,
        node: node.name,
    })
}

impl Connected {
    /// A pod and exec of the copy, each time a new pod and recording.
    fn prepare(
        &self,
        args: &CpArgs,
        app: &App,
        direction: CopyDirection,
        node_paths: Vec<String>,
        command: impl FnOnce(&str) -> Vec<String>,
    ) -> Prepared {
        let options = PodOptions::resolve_pod(&args.pod, &app.settings);
        let plan = CopyPlan {
            image: args.image.clone(),
            node: self.node.clone(),
            direction,
            node_paths,
            audit_line: args.paths.clone(),
            start_timeout: args
                .pod
                .timeout
                .unwrap_or_else(|| app.settings.start_timeout()),
        };
        let session = copy_session(
            &options,
            &app.settings,
            plan,
            &self.cluster.namespace,
            self.user.clone(),
            command,
        );
        Prepared {
            cluster: self.cluster.clone(),
            node: self.node.clone(),
            spec: session.spec,
            recording: session.recording,
        }
    }
}

/// What the stream's thread came to: the files it wrote or read.
type Streamed = Result<Manifest, TransferError>;

/// The stream's thread, awaited by whichever comes first: the settling of
/// a session that went well, or the end of one that failed (so that its
/// staging directory is gone before toolbox exits).
type Thread = Arc<tokio::sync::Mutex<Option<tokio::task::JoinHandle<Streamed>>>>;

fn thread(handle: tokio::task::JoinHandle<Streamed>) -> Thread {
    Arc::new(tokio::sync::Mutex::new(Some(handle)))
}

async fn join(thread: &Thread) -> Option<Streamed> {
    let handle = thread.lock().await.take()?;
    Some(handle.await.unwrap_or_else(|e| {
        Err(TransferError::Refused(format!(
            "the copy's thread failed: {e}"
        )))
    }))
}

async fn from_node(
    args: &CpArgs,
    app: &App,
    node: String,
    paths: Vec<String>,
    to: Local,
) -> Result<ExitStatus, AppError> {
    // This machine's side, before any request: where each source lands and
    // that nothing there is overwritten without --force.
    let placement = match &to {
        Local::Paths(dest) => {
            let dest = &dest[0];
            let existing =
                Existing::of(dest).map_err(|e| failed(format!("{}: {e}", dest.display())))?;
            let dest =
                place(dest, existing, paths.len(), args.no_target_directory).map_err(failed)?;
            let names = paths
                .iter()
                .map(|path| {
                    Path::new(path).file_name().map(OsString::from).ok_or_else(|| {
                        usage(format!(
                            "{node}:{path} has no name to copy it under: name a file or directory in it"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            dest.check(&names, args.force).map_err(failed)?;
            Some(Placement {
                dest,
                force: args.force,
            })
        }
        Local::Std => None,
    };
    // The node's end can exit 0 with its stream cut short on the way here
    // (the API server or the runtime lost the output's end, as
    // kubernetes#124571 reports of kubectl exec). Nothing of it was kept
    // under a final name, so a copy into files is read once more, from a
    // new pod; one to stdout has already written what came.
    let again = placement.is_some();
    let connected = connect(app, node).await?;
    match read_from_node(args, app, &connected, &paths, placement.clone()).await {
        Err(Failure::Short(err)) if again => {
            eprintln!(
                "warning: {}: the stream came short although the node's end sent it whole ({err}); nothing was kept, reading it again",
                connected.node
            );
            read_from_node(args, app, &connected, &paths, placement)
                .await
                .map_err(Failure::into_app)
        }
        read => read.map_err(Failure::into_app),
    }
}

/// How a copy failed.
enum Failure {
    /// The node's end exited 0, but the stream that reached here was cut
    /// short or damaged.
    Short(TransferError),
    Other(AppError),
}

impl Failure {
    fn into_app(self) -> AppError {
        match self {
            Failure::Short(err) => failed(err),
            Failure::Other(err) => err,
        }
    }
}

impl From<AppError> for Failure {
    fn from(err: AppError) -> Failure {
        Failure::Other(err)
    }
}

/// One read of `paths` from the connected node, through its own pod.
async fn read_from_node(
    args: &CpArgs,
    app: &App,
    connected: &Connected,
    paths: &[String],
    placement: Option<Placement>,
) -> Result<ExitStatus, Failure> {
    let prepared = connected.prepare(args, app, CopyDirection::FromNode, paths.to_vec(), |id| {
        copy_send_command(id, paths)
    });
    let bar = Bar::new();
    let (stream_in, stream_out) = tokio::io::duplex(PIPE);
    let options = ReceiveOptions {
        force: args.force,
        // As tar does: only root keeps the owners the node's files have.
        keep_owners: is_root(),
    };
    let stream = thread(tokio::task::spawn_blocking(move || -> Streamed {
        let input = SyncIoBridge::new(stream_out);
        match placement {
            Some(placement) => {
                toolbox_transfer::receive(input, &placement, options).map(|r| r.manifest)
            }
            None => toolbox_transfer::receive_to_writer(input, std::io::stdout().lock()),
        }
    }));
    let agent = AgentLines::new(bar.clone(), prepared.node.clone());
    let done = Arc::new(Mutex::new(None));
    let io = PipedIo {
        stdin: Box::new(tokio::io::empty()),
        stdout: Box::new(Counted {
            inner: stream_in,
            bar: bar.clone(),
        }),
        stderr: Box::new(agent.clone()),
        settle: settle(&prepared, stream.clone(), done.clone(), None),
    };
    finish(&prepared, io, &stream, done, agent, bar).await
}

async fn to_node(
    args: &CpArgs,
    app: &App,
    from: Local,
    node: String,
    path: String,
) -> Result<ExitStatus, AppError> {
    // This machine's side, before any request: the sources can be read,
    // and standard input is spooled to a file (a tar entry's size comes
    // before its bytes).
    let (sources, spooled, no_target_directory) = match from {
        Local::Paths(sources) => {
            for source in &sources {
                std::fs::metadata(source).map_err(|e| {
                    failed(TransferError::Send(toolbox_transfer::SendError::Read {
                        path: source.clone(),
                        source: e,
                    }))
                })?;
            }
            (sources, None, args.no_target_directory)
        }
        Local::Std => {
            let spooled = tokio::task::spawn_blocking(spool_stdin)
                .await
                .map_err(|e| failed(format!("reading standard input: {e}")))?
                .map_err(|e| failed(format!("reading standard input: {e}")))?;
            (vec![spooled.path().to_path_buf()], Some(spooled), true)
        }
    };
    let total = toolbox_transfer::total_size(&sources).map_err(failed)?;
    let prepared = connect(app, node).await?.prepare(
        args,
        app,
        CopyDirection::ToNode,
        vec![path.clone()],
        |id| copy_receive_command(id, &path, args.force, no_target_directory),
    );
    let bar = Bar::new();
    bar.set_total(total);
    let (stream_in, stream_out) = tokio::io::duplex(PIPE);
    let counted = Counted {
        inner: stream_in,
        bar: bar.clone(),
    };
    let warn = bar.clone();
    let stream = thread(tokio::task::spawn_blocking(move || -> Streamed {
        let _spooled = spooled;
        let out = SyncIoBridge::new(counted);
        toolbox_transfer::send(&sources, out, &mut |sent| {
            if let Sent::Skipped(skipped) = sent {
                warn.line(&format!(
                    "warning: skipped {}: {}",
                    skipped.path, skipped.kind
                ));
            }
        })
        .map_err(TransferError::from)
    }));
    let agent = AgentLines::new(bar.clone(), prepared.node.clone());
    let receipt = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(Mutex::new(None));
    let io = PipedIo {
        stdin: Box::new(stream_out),
        stdout: Box::new(Collected(receipt.clone())),
        stderr: Box::new(agent.clone()),
        settle: settle(&prepared, stream.clone(), done.clone(), Some(receipt)),
    };
    finish(&prepared, io, &stream, done, agent, bar)
        .await
        .map_err(Failure::into_app)
}

/// Standard input in a temporary file, mode 0644 as a new file is.
fn spool_stdin() -> std::io::Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let mut spooled = tempfile::Builder::new()
        .prefix("toolbox-cp-stdin-")
        .tempfile()?;
    std::io::copy(&mut std::io::stdin().lock(), spooled.as_file_mut())?;
    spooled
        .as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    Ok(spooled)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// What happens once the node's end exited 0, before the pod is deleted:
/// the stream's thread is awaited, its result kept in `done`, the node's
/// receipt (to the node) compared with what was sent, and the files named
/// on the pod.
fn settle<'a>(
    prepared: &'a Prepared,
    stream: Thread,
    done: Arc<Mutex<Option<Streamed>>>,
    receipt: Option<Arc<Mutex<Vec<u8>>>>,
) -> toolbox_cluster::session::Settle<'a> {
    Box::new(move || {
        Box::pin(async move {
            let Some(mut result) = join(&stream).await else {
                return;
            };
            if let (Ok(sent), Some(receipt)) = (&result, receipt) {
                let receipt = receipt
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                if let Err(e) = check_receipt(sent, &receipt) {
                    result = Err(e);
                }
            }
            if let Ok(manifest) = &result {
                let annotations = BTreeMap::from([(
                    COPY_FILES_ANNOTATION.to_string(),
                    manifest.bounded_json(FILES_ANNOTATION_MAX),
                )]);
                let pod = prepared
                    .spec
                    .pod
                    .metadata
                    .name
                    .as_deref()
                    .unwrap_or_default();
                if let Err(e) = annotate(&prepared.cluster, pod, &annotations).await {
                    eprintln!(
                        "warning: the files were copied, but could not be named on pod {pod} for the audit trail ({e}); the node's recording {} names them",
                        prepared.recording
                    );
                }
            }
            *done.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        })
    })
}

/// The node's receipt, what it wrote as it hashed it, against what was sent.
fn check_receipt(sent: &Manifest, receipt: &[u8]) -> Result<(), TransferError> {
    let written: Manifest = serde_json::from_slice(receipt.trim_ascii())
        .map_err(|e| TransferError::BadManifest(format!("the node's receipt: {e}")))?;
    if written.files != sent.files {
        return Err(TransferError::Mismatch(format!(
            "the node wrote {} files ({} bytes), not the {} sent ({} bytes), or with other sha256s",
            written.files.len(),
            written.total_bytes(),
            sent.files.len(),
            sent.total_bytes()
        )));
    }
    Ok(())
}

/// Runs the session and tells how the copy ended, in one line when it failed.
async fn finish(
    prepared: &Prepared,
    io: PipedIo<'_>,
    stream: &Thread,
    done: Arc<Mutex<Option<Streamed>>>,
    agent: AgentLines,
    bar: Bar,
) -> Result<ExitStatus, Failure> {
    let spinner = Spinner::new(
        format!("Starting the copy's pod on node {}", prepared.node),
        None,
    );
    let outcome = run_piped(&prepared.cluster, prepared.spec.clone(), &spinner, io).await;
    spinner.finish();
    bar.finish();
    // A session that failed was not settled: its thread ends now that its
    // pipe is closed, and takes its staging directory with it.
    let unsettled = join(stream).await;
    let streamed = done
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .or(unsettled);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        // The thread's own failure (a full disk, a damaged stream) says
        // more than the exec that stopped because of it.
        Err(ClusterError::StreamFailed { reason, .. }) => {
            return Err(Failure::Other(match streamed {
                Some(Err(err)) => failed(err),
                _ => failed(format!("the copy stopped: {reason}")),
            }));
        }
        Err(err) => {
            if matches!(err.cause(), ClusterError::Interrupted { .. }) {
                eprintln!(
                    "toolbox: {err}: the copy was stopped, and nothing is left under its final name"
                );
            }
            return Err(AppError::from(err).into());
        }
    };
    if let Some(left) = &outcome.not_deleted {
        eprintln!(
            "warning: {}",
            crate::invocation::name_commands(&left.to_string())
        );
    }
    if outcome.exit_code != 0 {
        return Err(failed(format!(
            "{}: {}",
            prepared.node,
            agent.last_error().unwrap_or_else(|| format!(
                "the node's end of the copy exited {}",
                outcome.exit_code
            ))
        ))
        .into());
    }
    match streamed {
        Some(Ok(manifest)) => {
            if std::io::stderr().is_terminal() {
                eprintln!(
                    "Copied {} files, {} bytes, each sha256 checked; the node's recording is {}",
                    manifest.files.len(),
                    manifest.total_bytes(),
                    prepared.recording
                );
            }
            Ok(ExitStatus::Success)
        }
        Some(Err(err @ (TransferError::Stream(_) | TransferError::NoManifest))) => {
            Err(Failure::Short(err))
        }
        Some(Err(err)) => Err(failed(err).into()),
        None => Err(failed("the copy ended without its result").into()),
    }
}

/// The progress bar of a copy, drawn on a terminal for a copy of more
/// than [`PROGRESS_FROM`] bytes, with bytes, rate and ETA.
#[derive(Clone)]
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new() -> Bar {
        Bar(std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::hidden();
            bar.set_style(
                ProgressStyle::with_template(
                    "{bytes}/{total_bytes} [{wide_bar}] {binary_bytes_per_sec}, ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        }))
    }

    fn set_total(&self, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total);
            if total >= PROGRESS_FROM {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            }
        }
    }

    fn inc(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    /// A line on stderr that the bar does not overwrite.
    fn line(&self, line: &str) {
        match &self.0 {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// A writer that counts what passes into the progress bar.
struct Counted<W> {
    inner: W,
    bar: Bar,
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Counted<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.bar.inc(*n as u64);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The node's receipt, kept whole (one JSON line of the files written).
struct Collected(Arc<Mutex<Vec<u8>>>);

impl AsyncWrite for Collected {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The node's end's stderr, line by line: `sending N bytes` sets the
/// progress bar's length, a `warning:` line is shown (with the node's
/// name), and the last other line is the error told if the end failed.
#[derive(Clone)]
struct AgentLines {
    state: Arc<Mutex<AgentState>>,
    bar: Bar,
    node: String,
}

#[derive(Default)]
struct AgentState {
    partial: Vec<u8>,
    last_error: Option<String>,
}

/// How long a line of the node's stderr may grow before it is cut.
const LINE_MAX: usize = 4096;

impl AgentLines {
    fn new(bar: Bar, node: String) -> AgentLines {
        AgentLines {
            state: Arc::default(),
            bar,
            node,
        }
    }

    fn last_error(&self) -> Option<String> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let partial = String::from_utf8_lossy(&state.partial).trim().to_string();
        (!partial.is_empty())
            .then_some(partial)
            .or_else(|| state.last_error.clone())
    }

    fn line(&self, line: &str, state: &mut AgentState) {
        if let Some(total) = line
            .strip_prefix("sending ")
            .and_then(|rest| rest.strip_suffix(" bytes"))
            .and_then(|n| n.parse().ok())
        {
            self.bar.set_total(total);
        } else if let Some(warning) = line.strip_prefix("warning: ") {
            self.bar.line(&format!("warning: {}: {warning}", self.node));
        } else if !line.trim().is_empty() {
            let message = line.strip_prefix("toolbox-recorder: ").unwrap_or(line);
            state.last_error = Some(message.trim().to_string());
        }
    }
}

impl AsyncWrite for AgentLines {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.partial.extend_from_slice(buf);
        while let Some(at) = state.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = state.partial.drain(..=at).collect();
            let line = String::from_utf8_lossy(&line[..at]).into_owned();
            self.line(&line, &mut state);
        }
        if state.partial.len() > LINE_MAX {
            let line = String::from_utf8_lossy(&state.partial).into_owned();
            state.partial.clear();
            self.line(&line, &mut state);
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn one_side_is_a_node_and_the_other_this_machine() {
        assert_eq!(
            parse(&words(&["n1:/var/log/syslog", "."])).unwrap(),
            Copy::FromNode {
                node: "n1".into(),
                paths: vec!["/var/log/syslog".into()],
                to: Local::Paths(vec![".".into()]),
            }
        );
        assert_eq!(
            parse(&words(&["./fix.sh", "node/n1:/tmp/fix.sh"])).unwrap(),
            Copy::ToNode {
                from: Local::Paths(vec!["./fix.sh".into()]),
                node: "n1".into(),
                path: "/tmp/fix.sh".into(),
            }
        );
        assert_eq!(
            parse(&words(&["ip-10-0-0-1.ec2.internal:/etc/hosts", "-"])).unwrap(),
            Copy::FromNode {
                node: "ip-10-0-0-1.ec2.internal".into(),
                paths: vec!["/etc/hosts".into()],
                to: Local::Std,
            }
        );
        assert_eq!(
            parse(&words(&["-", "n1:/tmp/x"])).unwrap(),
            Copy::ToNode {
                from: Local::Std,
                node: "n1".into(),
                path: "/tmp/x".into(),
            }
        );
        assert!(matches!(
            operand("./a:b").unwrap(),
            Operand::Local(path) if path == Path::new("./a:b")
        ));
    }

    #[test]
    fn what_cannot_be_copied_is_refused_before_any_request() {
        for (args, message) in [
            (&["a", "b"][..], "one side must be a node"),
            (&["n1:/a", "n2:/b"], "one side must be a node"),
            (&["n1:/a", "n2:/b", "."], "several nodes"),
            (&["n1:var/log", "."], "a node's path is absolute"),
            (&["n1:/a", "n1:/b", "-"], "takes one source"),
            (&["-", "./x", "n1:/tmp"], "must be the only source"),
            (&["Bad_Node:/a", "."], "node"),
        ] {
            let err = parse(&words(args)).unwrap_err();
            assert!(err.to_string().contains(message), "{args:?}: {err}");
            assert_eq!(err.exit_code(), crate::exit::USAGE, "{args:?}");
        }
    }

    #[test]
    fn the_node_ends_lines_are_progress_warnings_or_its_error() {
        let agent = AgentLines::new(Bar(None), "n1".into());
        let mut writer = agent.clone();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let text = b"sending 12 bytes\nwarning: skipped /run/x: a socket\ntoolbox-recorder: /nope: No such";
        assert!(Pin::new(&mut writer).poll_write(&mut cx, text).is_ready());
        assert_eq!(
            agent.last_error().as_deref(),
            Some("toolbox-recorder: /nope: No such")
        );
        assert!(
            Pin::new(&mut writer)
                .poll_write(&mut cx, b" file or directory\n")
                .is_ready()
        );
        assert_eq!(
            agent.last_error().as_deref(),
            Some("/nope: No such file or directory")
        );
    }

    #[test]
    fn the_nodes_receipt_must_list_what_was_sent() {
        let sent = Manifest {
            files: vec![toolbox_transfer::FileDigest {
                path: "fix.sh".into(),
                size: 3,
                sha256: "a".repeat(64),
            }],
            skipped: Vec::new(),
        };
        assert!(check_receipt(&sent, sent.to_json().as_bytes()).is_ok());
        let other = Manifest::default();
        assert!(check_receipt(&sent, other.to_json().as_bytes()).is_err());
        assert!(check_receipt(&sent, b"").is_err());
    }
}
