//! A node's files: the reader pod (built by the caller, run through the
//! session lifecycle's captured driver, deleted on every exit path) runs
//! the recorder's `index` or `cat ID` there.

use toolbox_podtemplate::SESSIONS_HOST_PATH;
use toolbox_recording::Summary;

use super::reader_failed;
use crate::client::context::ClusterContext;
use crate::error::{ClusterError, Result};
use crate::session::{Progress, SessionSpec, run_captured};

/// What `index` says of a node's directory.
pub(super) struct NodeIndex {
    pub(super) rows: Vec<Summary>,
    pub(super) notes: Vec<String>,
}

/// What the reader's command wrote, and its status.
struct Read {
    stdout: Vec<u8>,
    stderr: String,
    status: i32,
}

impl ClusterContext {
    /// Runs `reader` and keeps its output; a pod that could not be deleted
    /// is told on stderr, as every session tells it.
    async fn run_reader(&self, reader: SessionSpec, progress: &dyn Progress) -> Result<Read> {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let outcome = run_captured(
            self,
            reader,
            progress,
            Box::new(&mut stdout),
            Box::new(&mut stderr),
        )
        .await?;
        if let Some(left) = &outcome.not_deleted {
            progress.note(&format!("warning: {left}"));
        }
        Ok(Read {
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            status: outcome.exit_code,
        })
    }

    /// The node's recordings, one row each, from the recorder's `index`.
    pub(super) async fn node_index(
        &self,
        node: &str,
        reader: SessionSpec,
        progress: &dyn Progress,
    ) -> Result<NodeIndex> {
        let read = self.run_reader(reader, progress).await?;
        if read.status != 0 {
            return Err(reader_failed(node, read.status, &read.stderr));
        }
        let rows: Vec<Summary> = String::from_utf8_lossy(&read.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .filter_map(|line| Summary::from_index(&line, SESSIONS_HOST_PATH))
            .collect();
        let mut notes = Vec::new();
        if read.stderr.contains("no sessions directory") {
            notes.push(format!(
                "note: node {node} has no sessions directory ({SESSIONS_HOST_PATH}): no recorded session has run there"
            ));
        } else if rows.is_empty() {
            notes.push(format!(
                "note: node {node} keeps no recordings in {SESSIONS_HOST_PATH}"
            ));
        }
        Ok(NodeIndex { rows, notes })
    }

    /// The bytes of session `id`'s file on `node`, from the recorder's `cat`.
    pub(super) async fn node_cat(
        &self,
        node: &str,
        id: &str,
        reader: SessionSpec,
        progress: &dyn Progress,
    ) -> Result<Vec<u8>> {
        let read = self.run_reader(reader, progress).await?;
        match read.status {
            0 => Ok(read.stdout),
            1 if read.stderr.contains("no recording of session") => {
                Err(ClusterError::SessionNotFound {
                    id: id.to_string(),
                    node: node.to_string(),
                    live_searched: true,
                })
            }
            status => Err(reader_failed(node, status, &read.stderr)),
        }
    }
}
