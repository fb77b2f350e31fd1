//! One node's part of a dump: its `api` items asked of the API server, and
//! the rest read by its pod (the session lifecycle's held driver: one pod,
//! one exec per item, deleted however it ends), at the same time. Each
//! item's bytes go through its cap, then the redactor, into its file;
//! a cap reached ends the item's exec, which ends the read on the node.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use toolbox_podtemplate::{ItemNote, NOTE_PREFIX, NodeRead, dump_item_command};

use super::DumpProgress;
use super::bundle::Bundle;
use super::caps::{Cap, NodeBudget};
use super::index::{ItemEntry, ItemStatus, NodeEntry, NodeError, NodeStatus};
use super::redact::{Counts, Redactor};
use super::spec::{ApiObject, Item, Source, Spec};
use crate::client::context::ClusterContext;
use crate::error::{Action, ClusterError};
use crate::session::fanout::not_run_reason;
use crate::session::{PodExecs, SessionSpec, Silent, run_held};

/// What a directory item's file list may take, beside the caps: a path a
/// line, so thousands of pod logs fit.
const FILE_LIST_LIMIT: u64 = 4 * 1024 * 1024;
/// What is kept of an item's stderr: its notes and its error.
const STDERR_LIMIT: usize = 64 * 1024;

/// What every node of a run shares.
pub(super) struct NodeRun<'a> {
    pub(super) cluster: &'a ClusterContext,
    pub(super) bundle: &'a Bundle,
    pub(super) spec: &'a Spec,
    pub(super) since_epoch: u64,
    pub(super) progress: &'a dyn DumpProgress,
    /// Cancelled by a signal: no more nodes, and no more items.
    pub(super) stop: &'a CancellationToken,
    /// How long one item's read may take.
    pub(super) command_timeout: Option<std::time::Duration>,
    /// The node's pod, built by the caller.
    pub(super) pod_for: &'a (dyn Fn(&str) -> SessionSpec + Sync),
}

impl NodeRun<'_> {
    /// Collects `node`'s items within `budget`.
    pub(super) async fn node(&self, node: &str, budget: &NodeBudget<'_>) -> NodeEntry {
        let by_pod: Vec<&Item> = self
            .spec
            .items
            .iter()
            .filter(|item| item.source.by_pod())
            .collect();
        // The API server's objects while the pod reads its items.
        let api = async {
            let mut entries = Vec::new();
            for item in &self.spec.items {
                if let Source::Api(_) = item.source {
                    entries.push(self.api_item(node, item, budget).await);
                }
            }
            entries
        };
        let (api, (mut entry, from_pod)) = tokio::join!(api, self.on_node(node, &by_pod, budget));
        // The services' logs after them (the node log query where the
        // kubelet serves it, without the pod): large as they are, they come
        // last, so that they cannot crowd the small items out of the cap.
        let mut services = Vec::new();
        for item in &self.spec.items {
            if let Source::Service(name) = &item.source {
                // A node whose pod did not run would most likely keep the
                // logs' own pod from running too, and wait as long again.
                services.push(if self.stop.is_cancelled() {
                    not_read(item, "the run was interrupted")
                } else if entry.status == NodeStatus::Failed {
                    not_read(
                        item,
                        &format!("the node's pod did not run (toolbox logs {node} {name} reads it through the kubelet's node log query where it serves the node, without a pod)"),
                    )
                } else {
                    self.service_item(node, item, name, budget).await
                });
            }
        }
        // In the spec's order.
        let (mut api, mut from_pod, mut services) =
            (api.into_iter(), from_pod.into_iter(), services.into_iter());
        for item in &self.spec.items {
            let next = match item.source {
                Source::Api(_) => api.next().map(|entry| vec![entry]),
                Source::Service(_) => services.next().map(|entry| vec![entry]),
                _ => from_pod.next(),
            };
            entry.items.extend(next.unwrap_or_default());
        }
        entry.bytes_read = budget.used();
        entry
    }

    /// The items read on the node, through its pod: the node's entry (with
    /// no items yet), and each item's entries in order.
    async fn on_node(
        &self,
        node: &str,
        items: &[&Item],
        budget: &NodeBudget<'_>,
    ) -> (NodeEntry, Vec<Vec<ItemEntry>>) {
        let mut entry = NodeEntry {
            name: node.to_string(),
            status: NodeStatus::Collected,
            pod: None,
            error: None,
            pod_left: None,
            bytes_read: 0,
            items: Vec::new(),
        };
        if items.is_empty() {
            return (entry, Vec::new());
        }
        let (room, cap) = budget.room();
        if room == 0 {
            let skipped = items
                .iter()
                .map(|item| {
                    vec![ItemEntry::skipped_at(
                        item.name.clone(),
                        item.source.describe(),
                        cap,
                    )]
                })
                .collect();
            return (entry, skipped);
        }
        let session = (self.pod_for)(node);
        entry.pod = session.pod.metadata.name.clone();
        let collected = run_held(self.cluster, session, &Silent, async |execs| {
            let mut entries = Vec::new();
            for item in items {
                if self.stop.is_cancelled() {
                    entries.push(vec![not_read(item, "the run was interrupted")]);
                    continue;
                }
                entries.push(self.item_on_node(execs, node, item, budget).await);
            }
            entries
        })
        .await;
        match collected {
            Ok((entries, outcome)) => {
                entry.pod = Some(outcome.pod);
                entry.pod_left = outcome.not_deleted.map(|left| left.to_string());
                (entry, entries)
            }
            Err(err) => {
                if let Some(left) = err.left_pod() {
                    entry.pod_left = Some(left.to_string());
                }
                let reason = not_run_reason(err.cause());
                let message = err.to_string();
                let why = format!("the node's pod did not run: {message}");
                entry.status = NodeStatus::Failed;
                entry.error = Some(NodeError { reason, message });
                let skipped = items
                    .iter()
                    .map(|item| vec![not_read(item, &why)])
                    .collect();
                (entry, skipped)
            }
        }
    }

    /// One item read by the node's pod: one entry, or one per file of a
    /// directory item.
    async fn item_on_node(
        &self,
        execs: &PodExecs<'_>,
        node: &str,
        item: &Item,
        budget: &NodeBudget<'_>,
    ) -> Vec<ItemEntry> {
        let source = item.source.describe();
        let read = match &item.source {
            Source::File { path, from_flag } => NodeRead::File {
                path: path.clone(),
                from_flag: from_flag.clone(),
            },
            Source::Command(argv) => NodeRead::Command { argv: argv.clone() },
            Source::Listing(path) => NodeRead::Listing { path: path.clone() },
            Source::Directory(dir) => return self.directory(execs, node, item, dir, budget).await,
            Source::Service(_) | Source::Api(_) => return Vec::new(),
        };
        vec![
            self.read(execs, node, &item.name, source, &read, budget)
                .await,
        ]
    }

    /// Every file under `dir`, each an entry `NAME/PATH`.
    async fn directory(
        &self,
        execs: &PodExecs<'_>,
        node: &str,
        item: &Item,
        dir: &str,
        budget: &NodeBudget<'_>,
    ) -> Vec<ItemEntry> {
        let source = item.source.describe();
        let list = NodeRead::Files {
            path: dir.to_string(),
        };
        let (mut stdout, mut stderr) = (Vec::new(), Limited::default());
        let command = dump_item_command(&list, FILE_LIST_LIMIT + 1);
        let listed = execs
            .run(&command, Box::new(&mut stdout), Box::new(&mut stderr))
            .await;
        let stderr = stderr.text();
        match listed {
            Ok(0) => {}
            Ok(code) => {
                let mut entry =
                    ItemEntry::new(item.name.clone(), source, failed_or_missing(code, &stderr));
                entry.exit_code = Some(code);
                entry.error = Some(error_line(code, &stderr));
                return vec![entry];
            }
            Err(err) => {
                let mut entry = ItemEntry::new(item.name.clone(), source, ItemStatus::Failed);
                entry.error = Some(err.to_string());
                return vec![entry];
            }
        }
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let mut files: Vec<String> = String::from_utf8_lossy(&stdout)
            .lines()
            .filter_map(|line| line.strip_prefix(&prefix))
            .filter(|relative| {
                !relative.is_empty()
                    && relative
                        .split('/')
                        .all(|part| !part.is_empty() && part != "." && part != "..")
            })
            .map(str::to_string)
            .collect();
        files.sort();
        let mut entries = Vec::new();
        for relative in files {
            let name = format!("{}/{relative}", item.name);
            if self.stop.is_cancelled() {
                entries.push(ItemEntry {
                    note: Some("not read: the run was interrupted".into()),
                    ..ItemEntry::new(name, source.clone(), ItemStatus::Skipped)
                });
                continue;
            }
            let read = NodeRead::File {
                path: format!("{prefix}{relative}"),
                from_flag: None,
            };
            entries.push(
                self.read(execs, node, &name, source.clone(), &read, budget)
                    .await,
            );
        }
        if entries.is_empty() {
            entries.push(ItemEntry {
                note: Some(format!("no files under {dir}")),
                ..ItemEntry::new(item.name.clone(), source, ItemStatus::Collected)
            });
        }
        entries
    }

    /// One exec that reads `read` on the node into item `name`'s file.
    async fn read(
        &self,
        execs: &PodExecs<'_>,
        node: &str,
        name: &str,
        source: String,
        read: &NodeRead,
        budget: &NodeBudget<'_>,
    ) -> ItemEntry {
        let (room, cap) = budget.room();
        if room == 0 {
            return ItemEntry::skipped_at(name.to_string(), source, cap);
        }
        let mut writer = match self.writer(node, name, budget) {
            Ok(writer) => writer,
            Err(error) => return ItemEntry::failed(name, source, error),
        };
        let mut stderr = Limited::default();
        // One byte more than there is room for: an item cut there is told
        // from one exactly that long.
        let command = dump_item_command(read, room + 1);
        let limit = self.command_timeout.unwrap_or(std::time::Duration::MAX);
        // Dropped at the timeout, the exec's stream ends the read on the node.
        let result = tokio::time::timeout(
            limit,
            execs.run(&command, Box::new(&mut writer), Box::new(&mut stderr)),
        )
        .await
        .unwrap_or_else(|_| {
            Err(ClusterError::OutputClosed {
                pod: execs.pod().to_string(),
                reason: format!(
                    "the read ran longer than --command-timeout {}",
                    humantime::format_duration(limit)
                ),
            })
        });
        let stderr = stderr.text();
        let file = writer.path.clone();
        let mut entry = writer.finish(name, source);
        for line in stderr.lines() {
            if let Some(ItemNote::Path(path)) = ItemNote::parse(line) {
                entry.read_from = Some(path);
            }
        }
        match result {
            Ok(0) => {}
            Err(ClusterError::OutputClosed { .. }) if entry.truncated => {}
            Ok(code) => {
                entry.status = failed_or_missing(code, &stderr);
                entry.exit_code = Some(code);
                entry.error = Some(error_line(code, &stderr));
            }
            Err(err) => {
                entry.status = ItemStatus::Failed;
                entry.error = Some(err.to_string());
            }
        }
        if entry.drop_empty_file() {
            let _ = std::fs::remove_file(file);
        }
        entry
    }

    /// An `api` item: the object asked of the API server, as YAML.
    async fn api_item(&self, node: &str, item: &Item, budget: &NodeBudget<'_>) -> ItemEntry {
        let source = item.source.describe();
        let (room, cap) = budget.room();
        if room == 0 {
            return ItemEntry::skipped_at(item.name.clone(), source, cap);
        }
        let Source::Api(object) = item.source else {
            return ItemEntry::new(item.name.clone(), source, ItemStatus::Skipped);
        };
        let yaml = match object {
            ApiObject::Node => self.node_yaml(node).await,
            ApiObject::Events => self.events_yaml(node).await,
        };
        let yaml = match yaml {
            Ok(yaml) => yaml,
            Err(err) => {
                let mut entry = ItemEntry::new(item.name.clone(), source, ItemStatus::Failed);
                entry.error = Some(err);
                return entry;
            }
        };
        let mut writer = match self.writer(node, &item.name, budget) {
            Ok(writer) => writer,
            Err(error) => return ItemEntry::failed(&item.name, source, error),
        };
        // A cut is the writer's to tell, in its entry.
        let _ = writer.write_all(yaml.as_bytes()).await;
        writer.finish(&item.name, source)
    }

    async fn node_yaml(&self, node: &str) -> Result<String, String> {
        let mut object = self
            .cluster
            .get_node(node)
            .await
            .map_err(|e| e.to_string())?;
        object.metadata.managed_fields = None;
        serde_yaml::to_string(&object).map_err(|e| e.to_string())
    }

    async fn events_yaml(&self, node: &str) -> Result<String, String> {
        let events: Api<Event> = Api::all(self.cluster.client.clone());
        let fields = format!("involvedObject.kind=Node,involvedObject.name={node}");
        let list = events
            .list(&ListParams::default().fields(&fields))
            .await
            .map_err(|err| {
                self.cluster
                    .request_error(Action::cluster("list", "events"), err)
                    .to_string()
            })?;
        let mut items = list.items;
        for event in &mut items {
            event.metadata.managed_fields = None;
        }
        items.sort_by_key(|e| {
            e.last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or(e.event_time.as_ref().map(|t| t.0))
        });
        serde_yaml::to_string(&items).map_err(|e| e.to_string())
    }

    /// The writer of item `name`'s file, or why there is none.
    pub(super) fn writer<'b>(
        &'b self,
        node: &str,
        name: &str,
        budget: &'b NodeBudget<'b>,
    ) -> Result<ItemWriter<'b>, String> {
        let (relative, path) = self
            .bundle
            .item_file(node, name)
            .map_err(|err| err.to_string())?;
        let file = File::create_new(&path)
            .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        Ok(ItemWriter {
            budget,
            progress: self.progress,
            relative,
            path,
            file: Some(BufWriter::new(file)),
            hasher: Sha256::new(),
            redactor: Redactor::default(),
            out: Vec::new(),
            read: 0,
            written: 0,
            cut: None,
            write_error: None,
        })
    }
}

impl ItemEntry {
    /// An item whose file could not be written.
    pub(super) fn failed(name: &str, source: String, error: String) -> ItemEntry {
        ItemEntry {
            error: Some(error),
            ..ItemEntry::new(name.to_string(), source, ItemStatus::Failed)
        }
    }

    /// A failed or missing item that wrote nothing keeps no empty file:
    /// whether its file is to go.
    pub(super) fn drop_empty_file(&mut self) -> bool {
        let empty =
            matches!(self.status, ItemStatus::Failed | ItemStatus::Missing) && self.size == Some(0);
        if empty {
            self.path = None;
            self.size = None;
            self.sha256 = None;
        }
        empty
    }
}

/// An item of a node whose reads did not happen.
fn not_read(item: &Item, why: &str) -> ItemEntry {
    ItemEntry {
        note: Some(format!("not read: {why}")),
        ..ItemEntry::new(
            item.name.clone(),
            item.source.describe(),
            ItemStatus::Skipped,
        )
    }
}

/// Not on the node (the file, the program or the service's log), else
/// failed: by the status a shell gives a missing program, or the words a
/// missing file's error has.
fn failed_or_missing(code: i32, stderr: &str) -> ItemStatus {
    let missing = code == 127
        || stderr.contains("No such file or directory")
        || stderr.contains("executable file not found");
    if missing {
        ItemStatus::Missing
    } else {
        ItemStatus::Failed
    }
}

/// The last thing the command said that was not a note, with its status.
fn error_line(code: i32, stderr: &str) -> String {
    let said = stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with(NOTE_PREFIX.trim_end()));
    match said {
        Some(line) => format!("exit {code}: {line}"),
        None => format!("exit {code}"),
    }
}

/// An item's file as it is written: each chunk taken from the caps, then
/// redacted, hashed and written. A chunk the caps cut is written up to the
/// cap, and the writer refuses from then on, which ends the exec.
///
/// The file is written with blocking calls: a local file's writes land in
/// the page cache, and an async file would cost a thread hop per chunk.
pub(super) struct ItemWriter<'b> {
    budget: &'b NodeBudget<'b>,
    progress: &'b dyn DumpProgress,
    relative: String,
    pub(super) path: PathBuf,
    file: Option<BufWriter<File>>,
    hasher: Sha256,
    redactor: Redactor,
    out: Vec<u8>,
    read: u64,
    written: u64,
    cut: Option<Cap>,
    write_error: Option<String>,
}

impl ItemWriter<'_> {
    /// Takes `buf` as far as the caps let it: an error once they stop it.
    pub(super) fn accept(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(cap) = self.cut {
            return Err(cap_reached(cap));
        }
        if let Some(error) = &self.write_error {
            return Err(std::io::Error::other(error.clone()));
        }
        let granted = self.budget.take(buf.len() as u64);
        let taken = &buf[..granted.bytes as usize];
        self.read += granted.bytes;
        self.progress.bytes(granted.bytes);
        let mut out = std::mem::take(&mut self.out);
        out.clear();
        self.redactor.push(taken, &mut out);
        self.emit(&out);
        self.out = out;
        if let Some(cap) = granted.cut {
            self.cut = Some(cap);
            return Err(cap_reached(cap));
        }
        match &self.write_error {
            Some(error) => Err(std::io::Error::other(error.clone())),
            None => Ok(buf.len()),
        }
    }

    fn emit(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        if let Some(file) = &mut self.file
            && let Err(err) = file.write_all(bytes)
        {
            self.write_error = Some(format!("cannot write {}: {err}", self.path.display()));
            self.file = None;
        }
    }

    /// The last line redacted and written; the item's entry.
    pub(super) fn finish(mut self, name: &str, source: String) -> ItemEntry {
        let mut out = Vec::new();
        self.redactor.finish(&mut out);
        self.emit(&out);
        if let Some(mut file) = self.file.take()
            && let Err(err) = file.flush()
        {
            self.write_error = Some(format!("cannot write {}: {err}", self.path.display()));
        }
        let sha256: String = self
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let counts: &Counts = self.redactor.counts();
        let status = match (&self.write_error, self.cut) {
            (Some(_), _) => ItemStatus::Failed,
            (None, Some(_)) => ItemStatus::Truncated,
            (None, None) => ItemStatus::Collected,
        };
        ItemEntry {
            path: Some(self.relative.clone()),
            size: Some(self.written),
            sha256: Some(sha256),
            bytes_read: self.read,
            truncated: self.cut.is_some(),
            cap: self.cut,
            error: self.write_error.clone(),
            redacted: ItemEntry::redactions(counts),
            ..ItemEntry::new(name.to_string(), source, status)
        }
    }
}

fn cap_reached(cap: Cap) -> std::io::Error {
    std::io::Error::other(format!("the {} cap was reached", cap.flag()))
}

impl AsyncWrite for ItemWriter<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.get_mut().accept(buf))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A command's stderr: the first [`STDERR_LIMIT`] bytes, the rest let go.
#[derive(Default)]
struct Limited {
    kept: Vec<u8>,
}

impl Limited {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept).into_owned()
    }
}

impl AsyncWrite for Limited {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let room = STDERR_LIMIT.saturating_sub(this.kept.len());
        this.kept.extend_from_slice(&buf[..buf.len().min(room)]);
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

    #[test]
    fn a_missing_file_or_program_is_told_from_a_failure() {
        assert_eq!(
            failed_or_missing(
                1,
                "cat: /var/lib/kubelet/config.yaml: No such file or directory\n"
            ),
            ItemStatus::Missing
        );
        assert_eq!(
            failed_or_missing(
                127,
                "nsenter: failed to execute crictl: No such file or directory"
            ),
            ItemStatus::Missing
        );
        assert_eq!(
            failed_or_missing(
                1,
                "dmesg: read kernel buffer failed: Operation not permitted"
            ),
            ItemStatus::Failed
        );
        assert_eq!(
            error_line(
                1,
                "toolbox-dump: path /x\ndmesg: read kernel buffer failed\n\n"
            ),
            "exit 1: dmesg: read kernel buffer failed"
        );
        assert_eq!(error_line(3, "toolbox-dump: journal\n"), "exit 3");
    }
}
