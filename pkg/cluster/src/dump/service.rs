//! A `service` item: the service's log since `--since`, read as `toolbox
//! logs` reads it (the nodelogs wing): through the kubelet's node log query
//! where it serves the node (no pod), else through a short-lived pod of
//! dump's shape. Its lines go through the item's cap and the redactor into
//! its file; a cap reached drops the read, which ends the query's stream
//! (or deletes the fallback pod), on the spot.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use super::caps::NodeBudget;
use super::collect::NodeRun;
use super::index::{ItemEntry, ItemStatus};
use super::spec::Item;
use crate::error::ClusterError;
use crate::nodelogs::{LogRequest, Source as LogSource, read_node_logs};
use crate::session::fanout::{FanoutEvents, NodeOutcome, OutputStream};
use crate::session::{SessionSpec, Silent};

/// What the logs wing says, as it says it.
enum Said {
    Line(Vec<u8>),
    Error(String),
    Note(String),
}

/// The logs wing's events, sent on to the item's writer.
struct Relay(UnboundedSender<Said>);

impl FanoutEvents for Relay {
    fn line(&self, _node: &str, stream: OutputStream, line: &[u8]) {
        let said = match stream {
            OutputStream::Stdout => {
                let mut line = line.to_vec();
                line.push(b'\n');
                Said::Line(line)
            }
            OutputStream::Stderr => Said::Error(String::from_utf8_lossy(line).into_owned()),
        };
        // The receiver is gone only once the item is done with the read.
        let _ = self.0.send(said);
    }

    fn finished(&self, _node: &str, _outcome: &NodeOutcome) {}

    fn note(&self, line: &str) {
        let _ = self.0.send(Said::Note(line.to_string()));
    }
}

impl NodeRun<'_> {
    /// Service `name`'s log on `node` into item `item`'s file.
    pub(super) async fn service_item(
        &self,
        node: &str,
        item: &Item,
        name: &str,
        budget: &NodeBudget<'_>,
    ) -> ItemEntry {
        let source = item.source.describe();
        let (room, cap) = budget.room();
        if room == 0 {
            return ItemEntry::skipped_at(item.name.clone(), source, cap);
        }
        let mut writer = match self.writer(node, &item.name, budget) {
            Ok(writer) => writer,
            Err(error) => return ItemEntry::failed(&item.name, source, error),
        };
        let request = LogRequest {
            sources: vec![LogSource::Unit(name.to_string())],
            since: Timestamp::from_second(self.since_epoch as i64).ok(),
            ..LogRequest::default()
        };
        let (sender, mut said) = unbounded_channel();
        let events: Arc<dyn FanoutEvents> = Arc::new(Relay(sender));
        let pod = |exec: Vec<String>| SessionSpec {
            command: exec,
            ..(self.pod_for)(node)
        };
        let read = read_node_logs(self.cluster, node, &request, pod, &Silent, events);
        let limit = self.command_timeout.unwrap_or(Duration::MAX);
        let read = tokio::time::timeout(limit, read);
        tokio::pin!(read);
        let (mut errors, mut notes) = (Vec::new(), Vec::new());
        let mut take = |said: Said, writer: &mut super::collect::ItemWriter<'_>| match said {
            Said::Line(line) => writer.accept(&line).is_ok(),
            Said::Error(line) => {
                errors.push(line);
                true
            }
            Said::Note(line) => {
                notes.push(line);
                true
            }
        };
        // The read's lines as they come; at a cap, the read is dropped.
        let mut open = true;
        let result = loop {
            tokio::select! {
                biased;
                next = said.recv(), if open => match next {
                    Some(next) => {
                        if !take(next, &mut writer) {
                            break None;
                        }
                    }
                    None => open = false,
                },
                result = &mut read => break Some(result),
            }
        };
        if result.is_some() {
            // What was said before the read ended.
            while let Ok(next) = said.try_recv() {
                if !take(next, &mut writer) {
                    break;
                }
            }
        }
        let file = writer.path.clone();
        let mut entry = writer.finish(&item.name, source);
        entry.read_from = notes.iter().find_map(|note| {
            let (_, how) = note.split_once(": through ")?;
            Some(format!("through {how}"))
        });
        let said = errors.join("\n");
        match result {
            // Cut at a cap: the writer's entry says so.
            None => {}
            Some(Ok(Ok(0))) => {}
            Some(Ok(Ok(status))) => {
                entry.exit_code = Some(status);
                entry.status = if said.contains("no log of") || said.contains("no file") {
                    ItemStatus::Missing
                } else {
                    ItemStatus::Failed
                };
                entry.error = Some(match errors.last() {
                    Some(line) => format!("exit {status}: {line}"),
                    None => format!("exit {status}"),
                });
            }
            Some(Ok(Err(err))) => {
                entry.status = ItemStatus::Failed;
                entry.error = Some(one_line(&err));
            }
            Some(Err(_)) => {
                entry.status = ItemStatus::Failed;
                entry.error = Some(format!(
                    "the read ran longer than --command-timeout {}",
                    humantime::format_duration(limit)
                ));
            }
        }
        if entry.drop_empty_file() {
            let _ = std::fs::remove_file(file);
        }
        entry
    }
}

fn one_line(err: &ClusterError) -> String {
    err.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
