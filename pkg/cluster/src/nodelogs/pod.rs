//! The fallback pod's side: its exec (pkg/podtemplate's script, with this
//! request's logs and journalctl options), and its output judged line by
//! line on the way to the printer ([`PodLines`]): journal sections as they
//! are, file sections through toolbox's filters ([`super::lines::PodOutput`]).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, PoisonError};

use k8s_openapi::jiff::Timestamp;
use toolbox_podtemplate::{LogsScriptArgs, node_logs_exec_command};

use super::lines::PodOutput;
use super::request::LogRequest;
use crate::session::fanout::{FanoutEvents, NodeOutcome, OutputStream};

/// A random token for the script's mark lines: no log line can pass for one.
pub(super) fn mark_token() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!("{:016x}", hasher.finish())
}

/// The fallback pod's exec for `request`, its marks made with `token`.
pub(super) fn pod_command(request: &LogRequest, token: &str) -> Vec<String> {
    node_logs_exec_command(&LogsScriptArgs {
        token: token.to_string(),
        sources: request
            .sources
            .iter()
            .map(|s| s.name().to_string())
            .collect(),
        journal_options: request.journal_options(),
        boot: request.boot.is_some(),
        follow: request.follow,
    })
}

/// Passes the fallback pods' output on to `inner`, each node's stdout
/// through its own [`PodOutput`].
pub(super) struct PodLines {
    inner: Arc<dyn FanoutEvents>,
    token: String,
    request: LogRequest,
    now: Timestamp,
    nodes: Mutex<HashMap<String, PodOutput>>,
}

impl PodLines {
    pub(super) fn new(inner: Arc<dyn FanoutEvents>, token: String, request: &LogRequest) -> Self {
        PodLines {
            inner,
            token,
            request: request.clone(),
            now: Timestamp::now(),
            nodes: Mutex::default(),
        }
    }

    /// The node's output ended: what its last file kept goes out, and the
    /// notes about it.
    pub(super) fn finish(&self, node: &str) {
        let output = self
            .nodes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(node);
        if let Some(mut output) = output {
            let notes =
                output.finish(&mut |line| self.inner.line(node, OutputStream::Stdout, line));
            for note in notes {
                self.inner.line(
                    node,
                    OutputStream::Stderr,
                    format!("toolbox logs: {note}").as_bytes(),
                );
            }
        }
    }
}

impl FanoutEvents for PodLines {
    fn created(&self, node: &str) {
        self.inner.created(node);
    }

    fn running(&self, node: &str) {
        self.inner.running(node);
    }

    fn note(&self, line: &str) {
        self.inner.note(line);
    }

    fn line(&self, node: &str, stream: OutputStream, line: &[u8]) {
        if stream == OutputStream::Stderr {
            return self.inner.line(node, stream, line);
        }
        let mut nodes = self.nodes.lock().unwrap_or_else(PoisonError::into_inner);
        let output = nodes.entry(node.to_string()).or_insert_with(|| {
            PodOutput::new(
                &self.token,
                self.request.filter(),
                self.request.follow,
                self.now,
            )
        });
        output.line(line, &mut |line| self.inner.line(node, stream, line));
    }

    fn finished(&self, node: &str, outcome: &NodeOutcome) {
        self.finish(node);
        self.inner.finished(node, outcome);
    }
}
