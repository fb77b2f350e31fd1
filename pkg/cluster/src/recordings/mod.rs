//! `toolbox sessions`: finding recordings and reading one back, wherever it
//! is kept (docs/sessions.md).
//!
//! 1. **Live** ([`logs`]): the pods labelled `toolbox.dev/recorded` (in the
//!    namespace, or all of them) still exist, and their container logs carry
//!    their sessions' recordings, read with pkg/recording.
//! 2. **On a node** ([`node`]): a short-lived reader pod on the node
//!    (pkg/podtemplate's `reader_pod`, built by the caller), through the
//!    session lifecycle's captured driver, runs the recorder's `index` or
//!    `cat ID`, and is deleted however that ends.
//! 3. The entry, here: [`ClusterContext::list_recordings`] puts both
//!    together into one row per session; [`ClusterContext::find_recording`]
//!    reads one session from its live pod's log, else from its node's file.
//!
//! A node's files are read only when the node is named: a cluster of
//! 15,000 nodes would take as many pods.

mod logs;
mod node;

use toolbox_podtemplate::SESSIONS_HOST_PATH;
use toolbox_recording::{Logged, Summary, merge, node_of};

use crate::client::context::ClusterContext;
use crate::error::{ClusterError, Result};
use crate::session::{Progress, SessionSpec};

pub use logs::LivePod;

/// Where to look for sessions.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Every namespace's live pods (-A), not only the context's namespace.
    pub all_namespaces: bool,
    /// Only this node's sessions, its files included.
    pub node: Option<String>,
}

/// The sessions found, and what the user should know about where they
/// were not looked for or could not be read (`note:` lines).
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub rows: Vec<Summary>,
    pub notes: Vec<String>,
}

/// One session's recording, as found.
#[derive(Debug, Clone)]
pub enum Found {
    /// In the container log of a pod that still exists.
    Log {
        namespace: String,
        pod: String,
        logged: Logged,
    },
    /// The node's file, as its bytes.
    File { path: String, bytes: Vec<u8> },
}

impl ClusterContext {
    /// The sessions of `scope`: the live pods' logs, and with a node its
    /// files through `reader` (a reader pod whose command is the recorder's
    /// `index`). A session seen in both is one row (pkg/recording's merge).
    pub async fn list_recordings(
        &self,
        scope: &Scope,
        reader: Option<SessionSpec>,
        progress: &dyn Progress,
    ) -> Result<Listing> {
        let live = self.live_pods(scope.all_namespaces, scope.node.as_deref());
        let files = async {
            match (&scope.node, reader) {
                (Some(node), Some(reader)) => {
                    self.node_index(node, reader, progress).await.map(Some)
                }
                _ => Ok(None),
            }
        };
        let (live, files) = tokio::join!(live, files);
        let (live, mut notes) = live?;
        let from_logs = live
            .iter()
            .flat_map(|pod| {
                pod.sessions
                    .iter()
                    .map(|logged| Summary::from_log(logged, &pod.namespace, &pod.name))
            })
            .collect();
        let from_files = match files? {
            Some(index) => {
                notes.extend(index.notes);
                index.rows
            }
            None => {
                notes.push(
                    "note: only live sessions (the logs of existing pods) are listed; name a node to list the recordings kept on it too: toolbox sessions list NODE".to_string(),
                );
                Vec::new()
            }
        };
        Ok(Listing {
            rows: merge(from_logs, from_files),
            notes,
        })
    }

    /// Session `id`: from the log of a live pod on its node that has it
    /// whole from its header on, else from the node's file through `reader`
    /// (a reader pod whose command is the recorder's `cat ID`).
    pub async fn find_recording(
        &self,
        id: &str,
        all_namespaces: bool,
        reader: SessionSpec,
        progress: &dyn Progress,
    ) -> Result<Found> {
        let node = node_of(id).unwrap_or(id).to_string();
        let (live, _) = self.live_pods(all_namespaces, Some(&node)).await?;
        for pod in live {
            if let Some(logged) = pod
                .sessions
                .into_iter()
                .find(|s| s.id == id && s.header.is_some())
            {
                return Ok(Found::Log {
                    namespace: pod.namespace,
                    pod: pod.name,
                    logged,
                });
            }
        }
        let bytes = self.node_cat(&node, id, reader, progress).await?;
        Ok(Found::File {
            path: format!("{SESSIONS_HOST_PATH}/{id}.cast"),
            bytes,
        })
    }
}

/// The error of a reader whose command failed, in one line.
fn reader_failed(node: &str, status: i32, stderr: &str) -> ClusterError {
    let said = stderr.lines().rev().find(|l| !l.trim().is_empty());
    ClusterError::ReaderFailed {
        node: node.to_string(),
        message: match said {
            Some(line) => format!("the recorder exited {status}: {line}"),
            None => format!("the recorder exited {status}"),
        },
    }
}
