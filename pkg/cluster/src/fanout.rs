//! Many nodes at once, pdsh-style. The single-node lifecycle (create, wait,
//! exec, delete) is the unit of work, run `fanout` at a time. What a run
//! shares makes it cheap at 5,000 nodes: one watch for all its pods, and
//! deletions gathered into few requests by the run's label.
//!
//! A run produces events (created, running, a line of output, finished);
//! how they look is the printer's business, in the binary.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::context::{ClientSource, ClusterContext};
use crate::error::{ClusterError, Result};
use crate::lifecycle::{
    DELETE_TOTAL_TIMEOUT, DeleteFailure, ExecIo, Silent, delete_from_drop, delete_with_retries,
};
use crate::lifetime::LearntMaximum;
use crate::nodes::{TargetNode, closest};
use crate::podwatch::{PodSelection, PodWatch};
use crate::signals::{Signal, Signals};
use toolbox_podtemplate::NodeOs;

/// The label every pod of one run carries, with the run's id.
pub const RUN_LABEL: &str = "toolbox.dev/run";
/// The pod's place in its run, so that finished pods are deleted by label.
pub const SLOT_LABEL: &str = "toolbox.dev/slot";

/// How long finished pods are gathered before one request deletes them.
const DELETE_BATCH_WINDOW: Duration = Duration::from_millis(50);
/// The most pods one deletion request names: its selector stays a few KiB.
const DELETE_BATCH_MAX: usize = 250;
/// A line longer than this is passed on in pieces, so that output without
/// newlines cannot grow without bound.
const MAX_LINE: usize = 64 * 1024;
/// After a signal, how long pods whose creation was already asked for may
/// take to answer, so that the run's deletion finds them.
const CREATE_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What one node of the run runs.
#[derive(Debug, Clone)]
pub struct NodeSession {
    pub pod: Pod,
    pub container: String,
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// The reason of a node the run never started, having stopped first.
const NOT_STARTED: &str = "not started";
/// The reason of a node whose command the run stopped while it ran.
const INTERRUPTED: &str = "interrupted";

/// How one node's part of a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeOutcome {
    /// The command ran and exited with this status.
    Exited(i32),
    /// The command did not run, or how it ended is unknown: a short reason
    /// to group nodes by ("ImagePullBackOff", "start timeout"), and the
    /// whole message.
    NotRun { reason: String, message: String },
}

impl NodeOutcome {
    /// The run stopped (a signal, or an error that concerns every node)
    /// before or while this node ran: nothing about the node itself.
    pub fn stopped_by_run(&self) -> bool {
        matches!(self, NodeOutcome::NotRun { reason, .. } if reason == NOT_STARTED || reason == INTERRUPTED)
    }
}

/// Receives a run's events as they happen. Calls come from one task, one
/// at a time; printers implement this.
pub trait FanoutEvents: Send + Sync {
    /// The node's pod exists.
    fn created(&self, _node: &str) {}
    /// The node's command is starting.
    fn running(&self, _node: &str) {}
    /// One line of the node's output, without its newline.
    fn line(&self, node: &str, stream: OutputStream, line: &[u8]);
    fn finished(&self, node: &str, outcome: &NodeOutcome);
    /// A line about the whole run, once, before its output.
    fn note(&self, _line: &str) {}
}

/// One command on many nodes.
pub struct FanoutSpec<'a> {
    /// Labels the run's pods, so that they are watched and deleted together.
    pub run_id: String,
    pub nodes: Vec<String>,
    /// The pod and command for `nodes[i]`, or why there is none.
    pub session_for: &'a (dyn Fn(usize) -> std::result::Result<NodeSession, String> + Sync),
    /// How many nodes run at once.
    pub fanout: usize,
    pub start_timeout: Duration,
    /// How long a command may run before its node is given up on.
    pub command_timeout: Option<Duration>,
    /// What the pods are for, in messages: "node-shell".
    pub what: String,
}

/// How a run ended.
#[derive(Debug)]
pub struct FanoutReport {
    /// One per node, in the order of [`FanoutSpec::nodes`].
    pub outcomes: Vec<NodeOutcome>,
    /// The signal that stopped the run early.
    pub interrupted: Option<Signal>,
    /// An error that concerns every node (PodSecurity, RBAC, a missing
    /// namespace): the run stopped at the first one.
    pub aborted: Option<ClusterError>,
    /// The run's pods could not all be deleted.
    pub left: Option<LeftRun>,
}

/// A run whose pods toolbox could not delete, with how to remove them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftRun {
    pub namespace: String,
    pub run_id: String,
    pub reason: String,
    /// The connection flags the hints repeat (" --context prod").
    pub flags: String,
}

impl std::fmt::Display for LeftRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LeftRun {
            namespace,
            run_id,
            reason,
            flags,
        } = self;
        write!(
            f,
            "could not delete the run's pods in namespace {namespace} ({reason}); they stop by themselves when their --ttl runs out; remove them now with: kubectl delete pods -n {namespace}{flags} -l {RUN_LABEL}={run_id} (or toolbox cleanup{flags})"
        )
    }
}

impl ClusterContext {
    /// Runs each node's session, `spec.fanout` at a time, and deletes every
    /// pod of the run however it ends: normally, by a signal, on an error
    /// that stops the run, or on a lost connection.
    pub async fn run_fanout(
        &self,
        spec: FanoutSpec<'_>,
        events: Arc<dyn FanoutEvents>,
    ) -> Result<FanoutReport> {
        // Caught before any pod exists, so that no signal can kill toolbox
        // between creating a pod and deleting it.
        let mut signals = Signals::install()?;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let selector = format!("{RUN_LABEL}={}", spec.run_id);
        // Opened before any pod exists: a refused watch stops the run
        // before it creates anything, and no pod's change goes unseen.
        let watch = PodWatch::default();
        watch
            .open(self, &api, PodSelection::Labelled(selector.clone()), "0")
            .await?;
        let guard = RunGuard {
            api: api.clone(),
            clients: self.clients.clone(),
            selector: selector.clone(),
            armed: true,
        };
        let run = Run {
            cluster: self,
            api: &api,
            spec: &spec,
            watch: &watch,
            events: events.clone(),
            stop: CancellationToken::new(),
            stop_reason: Mutex::new(None),
            aborted: Mutex::new(None),
            deletions: BatchDeleter::start(api.clone(), spec.run_id.clone()),
            maximum: LearntMaximum::default(),
        };

        let mut outcomes: Vec<Option<NodeOutcome>> = vec![None; spec.nodes.len()];
        let mut interrupted = None;
        {
            let run = &run;
            let work = futures::stream::iter(0..spec.nodes.len())
                .map(|i| async move { (i, run.node(i).await) })
                .buffer_unordered(spec.fanout.max(1));
            tokio::pin!(work);
            loop {
                tokio::select! {
                    next = work.next() => match next {
                        Some((i, outcome)) => {
                            events.finished(&spec.nodes[i], &outcome);
                            outcomes[i] = Some(outcome);
                        }
                        None => break,
                    },
                    signal = signals.recv() => {
                        if interrupted.is_some() {
                            // A second signal: stop waiting for creations
                            // to answer; the run's deletion still follows.
                            break;
                        }
                        interrupted = Some(signal);
                        run.stop_with(format!("interrupted by {signal}"));
                        tracing::debug!(%signal, "stopping the run");
                    }
                }
            }
        }
        run.deletions.stop();
        let outcomes = outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or_else(|| run.stopped()))
            .collect();
        let aborted = run
            .aborted
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        drop(watch);
        let left = tokio::select! {
            result = delete_run(&api, &selector) => result.err(),
            signal = signals.recv() => Some(DeleteFailure::Unreachable(format!("deletion given up on {signal}"))),
        };
        guard.disarm();
        Ok(FanoutReport {
            outcomes,
            interrupted,
            aborted,
            left: left.map(|failure| LeftRun {
                namespace: self.namespace.clone(),
                run_id: spec.run_id.clone(),
                reason: failure.to_string(),
                flags: self.kubectl_flags.clone(),
            }),
        })
    }
}

/// Which nodes a run skips unless asked not to.
#[derive(Debug, Clone, Default)]
pub struct TargetFilter {
    pub include_not_ready: bool,
    pub include_cordoned: bool,
    /// Only nodes of this OS (`kubernetes.io/os`: linux, windows); None for any.
    pub os: Option<String>,
}

/// The nodes a run targets, and those it skips, with why.
#[derive(Debug, Default)]
pub struct Targets {
    pub nodes: Vec<TargetNode>,
    /// (node, reason): "NotReady", "cordoned", "OS windows".
    pub skipped: Vec<(String, String)>,
}

/// Up to this many named nodes are read one by one; more, with one list.
const NAMED_NODES_BY_GET: usize = 20;

impl ClusterContext {
    /// The nodes named (each must exist), or else every node `selector`
    /// matches, sorted by name; then those the filter skips set apart.
    pub async fn fanout_targets(
        &self,
        names: &[String],
        selector: Option<&str>,
        filter: &TargetFilter,
    ) -> Result<Targets> {
        let nodes = if names.is_empty() {
            let mut nodes = self.node_table(selector).await?;
            nodes.sort_by(|a, b| crate::nodeset::natural_cmp(&a.name, &b.name));
            nodes
        } else if names.len() <= NAMED_NODES_BY_GET {
            futures::future::try_join_all(names.iter().map(|name| self.get_node(name)))
                .await?
                .iter()
                .map(TargetNode::from)
                .collect()
        } else {
            let mut listed: std::collections::HashMap<String, TargetNode> = self
                .node_table(None)
                .await?
                .into_iter()
                .map(|node| (node.name.clone(), node))
                .collect();
            let mut nodes = Vec::with_capacity(names.len());
            for name in names {
                match listed.remove(name) {
                    Some(node) => nodes.push(node),
                    None => {
                        let known: Vec<String> = listed.keys().cloned().collect();
                        return Err(ClusterError::NodeNotFound {
                            name: name.clone(),
                            suggestions: closest(name, &known, 3),
                        });
                    }
                }
            }
            nodes
        };
        let mut targets = Targets::default();
        for node in nodes {
            match skip_reason(&node, filter) {
                Some(reason) => targets.skipped.push((node.name, reason)),
                None => targets.nodes.push(node),
            }
        }
        Ok(targets)
    }
}

/// Why the filter skips `node`, if it does.
fn skip_reason(node: &TargetNode, filter: &TargetFilter) -> Option<String> {
    if !filter.include_not_ready && node.not_ready.is_some() {
        return Some("NotReady".into());
    }
    if !filter.include_cordoned && node.cordoned {
        return Some("cordoned".into());
    }
    if let Some(wanted) = &filter.os {
        let os = match node.os {
            NodeOs::Windows => "windows",
            NodeOs::Linux | NodeOs::Bottlerocket => "linux",
        };
        if os != wanted {
            return Some(format!("OS {os}"));
        }
    }
    None
}

/// What the nodes of one run share.
struct Run<'a> {
    cluster: &'a ClusterContext,
    api: &'a Api<Pod>,
    spec: &'a FanoutSpec<'a>,
    watch: &'a PodWatch,
    events: Arc<dyn FanoutEvents>,
    /// Cancelled by a signal or by an error that concerns every node.
    stop: CancellationToken,
    stop_reason: Mutex<Option<String>>,
    aborted: Mutex<Option<ClusterError>>,
    deletions: BatchDeleter,
    /// The namespace's maximum lifetime, once a pod was fitted to it
    /// (see [`crate::lifetime`]).
    maximum: LearntMaximum,
}

impl Run<'_> {
    fn stop_with(&self, reason: String) {
        self.stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(reason);
        self.stop.cancel();
    }

    fn stopped(&self) -> NodeOutcome {
        let reason = self
            .stop_reason
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| "the run stopped".into());
        NodeOutcome::NotRun {
            reason: NOT_STARTED.into(),
            message: reason,
        }
    }

    /// One node's session: the single-node lifecycle, with the run's watch
    /// and the run's deletions.
    async fn node(&self, i: usize) -> NodeOutcome {
        if self.stop.is_cancelled() {
            return self.stopped();
        }
        let node = &self.spec.nodes[i];
        let NodeSession {
            mut pod,
            container,
            command,
        } = match (self.spec.session_for)(i) {
            Ok(session) => session,
            Err(message) => {
                return NodeOutcome::NotRun {
                    reason: "no pod".into(),
                    message,
                };
            }
        };
        let labels = pod.metadata.labels.get_or_insert_default();
        labels.insert(RUN_LABEL.into(), self.spec.run_id.clone());
        labels.insert(SLOT_LABEL.into(), i.to_string());
        let name = pod.metadata.name.clone().unwrap_or_default();
        let pod = self.maximum.fit(pod);

        let updates = self.watch.subscribe(&name);
        // Not cancelled by a signal: a creation already sent is let answer,
        // for a while, so that the pod it makes is known and deleted with
        // the run. Until then it takes as long as the server asks: one that
        // throttles (429, Retry-After) is answering, and a silent link is
        // the transport's to end (crate::transport).
        let creating = self.cluster.create_pod(self.api, &pod, &self.spec.what);
        tokio::pin!(creating);
        let created = tokio::select! {
            created = &mut creating => Ok(created),
            () = self.stop.cancelled() => tokio::time::timeout(CREATE_DRAIN_TIMEOUT, &mut creating).await,
        };
        let created = match created {
            Ok(Ok(created)) => created,
            Ok(Err(err)) => {
                self.watch.unsubscribe(&name);
                if concerns_every_node(&err) {
                    // Reported once, as the run's error, rather than per node.
                    self.stop_with(format!("the run stopped: {err}"));
                    self.aborted
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(err);
                    return self.stopped();
                }
                return not_run(&err);
            }
            Err(_) => {
                self.watch.unsubscribe(&name);
                return NodeOutcome::NotRun {
                    reason: "no answer".into(),
                    message: format!(
                        "the API server did not answer the creation of pod {name} within {}s",
                        CREATE_DRAIN_TIMEOUT.as_secs()
                    ),
                };
            }
        };
        if let Some(line) = self.maximum.learn(&pod, &created, &self.cluster.namespace) {
            self.events.note(&line);
        }
        self.events.created(node);
        let outcome = self
            .start_and_run(node, &created, updates, container, command)
            .await;
        self.watch.unsubscribe(&name);
        self.deletions.delete(i, name);
        outcome
    }

    async fn start_and_run(
        &self,
        node: &str,
        created: &Pod,
        updates: tokio::sync::watch::Receiver<crate::podwatch::PodUpdate>,
        container: String,
        command: Vec<String>,
    ) -> NodeOutcome {
        let name = created.metadata.name.as_deref().unwrap_or_default();
        let timeout = self.spec.start_timeout;
        let started = tokio::select! {
            () = self.stop.cancelled() => return self.stopped(),
            started = self.cluster.wait_for_start(
                created,
                updates,
                self.watch,
                Instant::now() + timeout,
                timeout,
                &Silent,
                futures::stream::pending().boxed(),
            ) => started,
        };
        if let Err(err) = started {
            return not_run(&err);
        }
        self.events.running(node);
        let io = ExecIo::Captured {
            stdout: Box::new(LineSink::new(
                self.events.clone(),
                node,
                OutputStream::Stdout,
            )),
            stderr: Box::new(LineSink::new(
                self.events.clone(),
                node,
                OutputStream::Stderr,
            )),
        };
        let exec = self
            .cluster
            .exec_with(self.api, name, &container, &command, io);
        let limit = self.spec.command_timeout.unwrap_or(Duration::MAX);
        tokio::select! {
            () = self.stop.cancelled() => NodeOutcome::NotRun {
                reason: INTERRUPTED.into(),
                message: "the run stopped while the command ran".into(),
            },
            ran = tokio::time::timeout(limit, exec) => match ran {
                Ok(Ok(code)) => NodeOutcome::Exited(code),
                Ok(Err(err)) => not_run(&err),
                Err(_) => NodeOutcome::NotRun {
                    reason: "command timeout".into(),
                    message: format!(
                        "the command ran longer than --command-timeout {}",
                        humantime::format_duration(limit)
                    ),
                },
            },
        }
    }
}

/// Errors that every other node would meet as well, so that the run stops
/// at the first rather than repeating it 5,000 times.
fn concerns_every_node(err: &ClusterError) -> bool {
    matches!(
        err,
        ClusterError::PodSecurity { .. }
            | ClusterError::Forbidden { .. }
            | ClusterError::Unauthorized { .. }
            | ClusterError::NamespaceNotFound { .. }
            | ClusterError::CredentialPlugin(_)
    )
}

/// A node that could not run the command: the error in words, and a short
/// reason that groups nodes which failed alike.
fn not_run(err: &ClusterError) -> NodeOutcome {
    let reason = match err {
        ClusterError::PodFailed { reason, .. } => reason.clone(),
        ClusterError::StartTimeout { .. } => "start timeout".into(),
        ClusterError::AdmissionRejected { .. } => "refused by admission".into(),
        ClusterError::PodSecurity { .. } => "PodSecurity".into(),
        ClusterError::Forbidden { .. } | ClusterError::Unauthorized { .. } => {
            "permission denied".into()
        }
        ClusterError::NamespaceNotFound { .. } => "namespace not found".into(),
        ClusterError::ConnectionLost { .. } => "connection lost".into(),
        ClusterError::Unreachable { .. } => "API server unreachable".into(),
        ClusterError::ExecFailed { .. } => "exec failed".into(),
        ClusterError::WatchFailed { .. } => "watch lost".into(),
        ClusterError::Interrupted { .. } => INTERRUPTED.into(),
        _ => "API error".into(),
    };
    NodeOutcome::NotRun {
        reason,
        message: err.to_string(),
    }
}

/// Passes a node's output on line by line; the last line, even without its
/// newline, when the stream ends.
struct LineSink {
    events: Arc<dyn FanoutEvents>,
    node: String,
    stream: OutputStream,
    pending: Vec<u8>,
}

impl LineSink {
    fn new(events: Arc<dyn FanoutEvents>, node: &str, stream: OutputStream) -> Self {
        LineSink {
            events,
            node: node.to_string(),
            stream,
            pending: Vec::new(),
        }
    }

    fn take(&mut self, mut bytes: &[u8]) {
        while let Some(at) = bytes.iter().position(|&b| b == b'\n') {
            if self.pending.is_empty() {
                self.events.line(&self.node, self.stream, &bytes[..at]);
            } else {
                self.pending.extend_from_slice(&bytes[..at]);
                self.events.line(&self.node, self.stream, &self.pending);
                self.pending.clear();
            }
            bytes = &bytes[at + 1..];
        }
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= MAX_LINE {
            self.events.line(&self.node, self.stream, &self.pending);
            self.pending.clear();
        }
    }
}

impl tokio::io::AsyncWrite for LineSink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.get_mut().take(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineSink {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            self.events.line(&self.node, self.stream, &self.pending);
        }
    }
}

/// Deletes finished pods in the background, many per request: the pods
/// that finish within [`DELETE_BATCH_WINDOW`] of each other go together.
/// Each request is tried once, and a failure is not reported: the run's
/// own deletion at the end removes whatever is left, and says so if it
/// cannot.
struct BatchDeleter {
    sender: mpsc::UnboundedSender<(usize, String)>,
    task: tokio::task::JoinHandle<()>,
}

impl BatchDeleter {
    fn start(api: Api<Pod>, run_id: String) -> BatchDeleter {
        let (sender, mut receiver) = mpsc::unbounded_channel::<(usize, String)>();
        let task = tokio::spawn(async move {
            // Until the server refuses deletecollection (RBAC may grant
            // delete alone); then pod by pod.
            let mut by_collection = true;
            while let Some(first) = receiver.recv().await {
                let mut batch = vec![first];
                let until = Instant::now() + DELETE_BATCH_WINDOW;
                while batch.len() < DELETE_BATCH_MAX {
                    tokio::select! {
                        next = receiver.recv() => match next {
                            Some(item) => batch.push(item),
                            None => break,
                        },
                        () = tokio::time::sleep_until(until) => break,
                    }
                }
                delete_batch(&api, &run_id, &batch, &mut by_collection).await;
            }
        });
        BatchDeleter { sender, task }
    }

    fn delete(&self, slot: usize, pod: String) {
        // The receiver lives as long as the task, which outlives every sender.
        let _ = self.sender.send((slot, pod));
    }

    /// Stops at once: the run's own deletion, which follows, removes what
    /// is still queued in one request, where draining the queue could cost
    /// a timeout per batch against a server that does not answer.
    fn stop(&self) {
        self.task.abort();
    }
}

fn delete_params() -> DeleteParams {
    DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    }
}

async fn delete_batch(
    api: &Api<Pod>,
    run_id: &str,
    batch: &[(usize, String)],
    by_collection: &mut bool,
) {
    if *by_collection && batch.len() > 1 {
        let slots: Vec<String> = batch.iter().map(|(slot, _)| slot.to_string()).collect();
        let selector = format!("{RUN_LABEL}={run_id},{SLOT_LABEL} in ({})", slots.join(","));
        let (dp, lp) = (delete_params(), ListParams::default().labels(&selector));
        match delete_with_retries("finished pods", Duration::ZERO, || {
            api.delete_collection(&dp, &lp)
        })
        .await
        {
            Err(DeleteFailure::Refused { code: 403, .. }) => *by_collection = false,
            Err(failure) => {
                tracing::debug!(%failure, "deleting finished pods");
                return;
            }
            Ok(()) => return,
        }
    }
    let dp = &delete_params();
    futures::stream::iter(batch)
        .for_each_concurrent(16, |(_, name)| async move {
            if let Err(failure) =
                delete_with_retries(name, Duration::ZERO, || api.delete(name, dp)).await
            {
                tracing::debug!(pod = name, %failure, "deleting a finished pod");
            }
        })
        .await;
}

/// Deletes every pod of the run, in one request where RBAC allows
/// deletecollection, else pod by pod.
async fn delete_run(api: &Api<Pod>, selector: &str) -> std::result::Result<(), DeleteFailure> {
    let (dp, lp) = (&delete_params(), ListParams::default().labels(selector));
    match delete_with_retries("the run's pods", DELETE_TOTAL_TIMEOUT, || {
        api.delete_collection(dp, &lp)
    })
    .await
    {
        Err(DeleteFailure::Refused { code: 403, .. }) => {}
        other => return other,
    }
    let listed = Mutex::new(Vec::new());
    delete_with_retries("the run's pods", DELETE_TOTAL_TIMEOUT, || async {
        let list = api.list_metadata(&lp).await?;
        *listed.lock().unwrap_or_else(PoisonError::into_inner) = list.items;
        Ok(())
    })
    .await?;
    let names: Vec<String> = listed
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .filter_map(|pod| pod.metadata.name)
        .collect();
    let failures: Vec<DeleteFailure> = futures::stream::iter(&names)
        .map(|name| async move {
            delete_with_retries(name, DELETE_TOTAL_TIMEOUT, || api.delete(name, dp))
                .await
                .err()
        })
        .buffer_unordered(16)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    match failures.into_iter().next() {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

/// Deletes the run's pods when dropped before [`RunGuard::disarm`]: a panic
/// or an early return cannot leave them behind.
struct RunGuard {
    api: Api<Pod>,
    clients: ClientSource,
    selector: String,
    armed: bool,
}

impl RunGuard {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if self.armed {
            let selector = self.selector.clone();
            delete_from_drop(&self.api, &self.clients, move |api| async move {
                let _ = delete_run(&api, &selector).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, OutputStream, String)>>);

    impl FanoutEvents for Recorder {
        fn line(&self, node: &str, stream: OutputStream, line: &[u8]) {
            self.0.lock().unwrap().push((
                node.to_string(),
                stream,
                String::from_utf8_lossy(line).into_owned(),
            ));
        }
        fn finished(&self, _: &str, _: &NodeOutcome) {}
    }

    #[test]
    fn output_is_passed_on_in_whole_lines_and_the_last_one_at_the_end() {
        let recorder = Arc::new(Recorder::default());
        let mut sink = LineSink::new(recorder.clone(), "n1", OutputStream::Stdout);
        sink.take(b"one\ntw");
        sink.take(b"o\n\nthree");
        assert_eq!(recorder.0.lock().unwrap().len(), 3);
        drop(sink);
        let lines: Vec<String> = recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, _, l)| l.clone())
            .collect();
        assert_eq!(lines, ["one", "two", "", "three"]);
    }

    #[test]
    fn a_line_without_end_is_passed_on_in_pieces() {
        let recorder = Arc::new(Recorder::default());
        let mut sink = LineSink::new(recorder.clone(), "n1", OutputStream::Stderr);
        sink.take(&vec![b'x'; MAX_LINE + 10]);
        assert_eq!(recorder.0.lock().unwrap()[0].2.len(), MAX_LINE + 10);
    }

    #[test]
    fn errors_that_concern_every_node_stop_the_run_and_others_do_not() {
        let refused = ClusterError::PodSecurity {
            namespace: "ns".into(),
            enforced: "baseline".into(),
            needed: "privileged".into(),
            what: "node-shell".into(),
            detail: None,
        };
        assert!(concerns_every_node(&refused));
        let pull = ClusterError::PodFailed {
            pod: "p".into(),
            reason: "ImagePullBackOff".into(),
            message: None,
            hint: None,
        };
        assert!(!concerns_every_node(&pull));
        let NodeOutcome::NotRun { reason, message } = not_run(&pull) else {
            panic!("not run")
        };
        assert_eq!(reason, "ImagePullBackOff");
        assert!(message.contains("could not start"), "{message}");
    }

    #[test]
    fn table_rows_say_readiness_cordoning_and_os() {
        let ready = TargetNode::from_row("n1".into(), "Ready", "Debian GNU/Linux 13", false);
        assert_eq!(
            (ready.not_ready.clone(), ready.cordoned, ready.os),
            (None, false, NodeOs::Linux)
        );
        let drained = TargetNode::from_row(
            "n2".into(),
            "NotReady,SchedulingDisabled",
            "Bottlerocket OS 1.20.0",
            false,
        );
        assert_eq!(drained.not_ready.as_deref(), Some("NotReady"));
        assert!(drained.cordoned);
        assert_eq!(drained.os, NodeOs::Bottlerocket);
        let windows = TargetNode::from_row("w1".into(), "Ready", "Windows Server 2022", true);
        assert_eq!(windows.os, NodeOs::Windows);
        let filter = TargetFilter {
            os: Some("linux".into()),
            ..TargetFilter::default()
        };
        assert_eq!(
            skip_reason(&windows, &filter).as_deref(),
            Some("OS windows")
        );
        assert_eq!(skip_reason(&drained, &filter).as_deref(), Some("NotReady"));
        assert_eq!(skip_reason(&ready, &filter), None);
    }

    #[test]
    fn a_left_run_says_how_to_remove_its_pods() {
        let left = LeftRun {
            namespace: "ops".into(),
            run_id: "x7k2p".into(),
            reason: "the API server could not be reached for 30s: connection refused".into(),
            flags: " --as dev".into(),
        };
        assert!(
            left.to_string()
                .contains("kubectl delete pods -n ops --as dev -l toolbox.dev/run=x7k2p (or toolbox cleanup --as dev)"),
            "{left}"
        );
    }
}
