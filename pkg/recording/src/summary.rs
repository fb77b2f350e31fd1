//! One row of `toolbox sessions list`: who ran what where, when and for how
//! long, how it ended, and where its recording can be read.
//!
//! A session is seen in up to two places: the container log of its pod
//! while the pod lives, and the node's file once `list NODE` reads it. The
//! same session seen in both is one row, by [`merge`]:
//! - the facts come from the **file** first: its header is whole (the log's
//!   may have a shortened command, or none at all once the kubelet rotated
//!   it away), and its size is what is kept on the node after the pod;
//! - the ending from either: a session that ended in one of them ended;
//! - both places are listed, the log first: `get` and `play` read the log
//!   while the pod lives, which needs no pod on the node.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::cast::Recording;
use crate::id::node_of;
use crate::log::Logged;

/// Where a recording can be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Location {
    /// The container log of a pod that still exists.
    Log { namespace: String, pod: String },
    /// The node's file.
    Node { path: String },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Log { namespace, pod } => write!(f, "log {namespace}/{pod}"),
            Location::Node { path } => write!(f, "node {path}"),
        }
    }
}

/// How a session's recording ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Its exit marker is there: whole.
    Ended,
    /// No exit marker yet, and its pod still exists: it may still run.
    Running,
    /// Cut short: no exit marker and no pod, or a line cut or corrupt.
    Truncated,
    /// Its header is not one: nothing in it can be read.
    Corrupt,
}

/// One session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub id: String,
    pub node: String,
    pub namespace: Option<String>,
    pub pod: Option<String>,
    pub user: Option<String>,
    pub command: Option<String>,
    /// The start, in seconds since the epoch (the header's timestamp).
    pub start: Option<u64>,
    /// Seconds, to the last whole event.
    pub duration: f64,
    pub exit: Option<i64>,
    /// Bytes of the recording: the node's file, or what the log holds.
    pub size: u64,
    pub truncated: bool,
    pub state: State,
    pub locations: Vec<Location>,
}

impl Summary {
    fn from_header(
        id: String,
        header: Option<&Map<String, Value>>,
        duration: f64,
        exit: Option<i64>,
        size: u64,
        truncated: bool,
        location: Location,
    ) -> Summary {
        let field = |name: &str| -> Option<String> {
            Some(header?.get("toolbox")?.get(name)?.as_str()?.to_owned())
        };
        let node = field("node")
            .or_else(|| node_of(&id).map(str::to_owned))
            .unwrap_or_default();
        let state = match (header, exit) {
            (None, _) => State::Corrupt,
            (Some(_), Some(_)) if !truncated => State::Ended,
            _ => State::Truncated,
        };
        Summary {
            node,
            namespace: field("namespace"),
            pod: field("pod"),
            user: field("user"),
            command: header
                .and_then(|h| h.get("command"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            start: header
                .and_then(|h| h.get("timestamp"))
                .and_then(Value::as_u64),
            duration,
            exit,
            size,
            truncated: truncated || exit.is_none(),
            state,
            locations: vec![location],
            id,
        }
    }

    /// A session in the log of `pod` (which exists) in `namespace`. One
    /// whose header was rotated out of the log takes the pod's names.
    pub fn from_log(logged: &Logged, namespace: &str, pod: &str) -> Summary {
        let location = Location::Log {
            namespace: namespace.to_owned(),
            pod: pod.to_owned(),
        };
        let mut summary = match logged.recording() {
            Some(recording) => {
                let size = recording.to_cast().len() as u64;
                Summary::from_recording(&logged.id, &recording, size, location)
            }
            None => {
                let mut summary = Summary::from_header(
                    logged.id.clone(),
                    None,
                    logged.events.last().map_or(0.0, |e| e.time),
                    logged.events.last().and_then(|e| e.exit_status()),
                    0,
                    true,
                    location,
                );
                summary.state = State::Truncated;
                summary
            }
        };
        summary
            .namespace
            .get_or_insert_with(|| namespace.to_owned());
        summary.pod.get_or_insert_with(|| pod.to_owned());
        // The pod lives, so a session without its end may still run.
        if summary.exit.is_none() {
            summary.state = State::Running;
        }
        summary
    }

    /// A session of the node's directory, from the recorder's `index` line
    /// (`id`, `size`, `header`, `duration`, `exit`, `truncated`); `dir` is
    /// the node's sessions directory. None for a line that is not one.
    pub fn from_index(line: &Value, dir: &str) -> Option<Summary> {
        let id = line.get("id")?.as_str()?.to_owned();
        let header = line
            .get("header")
            .cloned()
            .and_then(|h| crate::cast::header_of(h).ok());
        let path = format!("{dir}/{id}.cast");
        Some(Summary::from_header(
            id,
            header.as_ref(),
            line.get("duration").and_then(Value::as_f64).unwrap_or(0.0),
            line.get("exit").and_then(Value::as_i64),
            line.get("size").and_then(Value::as_u64).unwrap_or(0),
            line.get("truncated")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            Location::Node { path },
        ))
    }

    /// A recording read whole (`get`), for the same facts as a row.
    pub fn from_recording(
        id: &str,
        recording: &Recording,
        size: u64,
        location: Location,
    ) -> Summary {
        Summary::from_header(
            id.to_owned(),
            Some(&recording.header),
            recording.duration(),
            recording.exit(),
            size,
            recording.truncated,
            location,
        )
    }
}

/// The rows of sessions seen in logs and in nodes' files, one per session
/// (see this module's documentation), by start time and then id.
pub fn merge(from_logs: Vec<Summary>, from_files: Vec<Summary>) -> Vec<Summary> {
    let mut rows: Vec<Summary> = Vec::new();
    for file in from_files {
        rows.push(file);
    }
    for log in from_logs {
        match rows.iter_mut().find(|row| row.id == log.id) {
            Some(row) => {
                let ended = row.exit.is_some() || log.exit.is_some();
                row.exit = row.exit.or(log.exit);
                row.duration = row.duration.max(log.duration);
                row.state = match (row.state, log.state) {
                    (State::Corrupt, _) => log.state,
                    (_, State::Ended) | (State::Ended, _) => State::Ended,
                    (_, State::Running) => State::Running,
                    (state, _) => state,
                };
                row.truncated = row.state != State::Ended || !ended;
                for field in [
                    (&mut row.namespace, log.namespace),
                    (&mut row.pod, log.pod),
                    (&mut row.user, log.user),
                    (&mut row.command, log.command),
                ] {
                    if field.0.is_none() {
                        *field.0 = field.1;
                    }
                }
                row.start = row.start.or(log.start);
                let mut locations = log.locations;
                locations.append(&mut row.locations);
                row.locations = locations;
            }
            None => rows.push(log),
        }
    }
    rows.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::sessions_in_log;

    fn index_line(id: &str, exit: Option<i64>, truncated: bool, command: &str) -> Value {
        serde_json::json!({
            "id": id, "size": 1234, "modified": "2026-12-03T10:15:05Z",
            "header": { "version": 2, "width": 80, "height": 24, "timestamp": 1764756900, "command": command,
                "toolbox": { "session": id, "node": "node-1", "pod": "toolbox-shell-node-1-x", "namespace": "ns", "user": "alice" } },
            "duration": 4.5, "exit": exit, "truncated": truncated,
        })
    }

    #[test]
    fn an_index_line_is_a_row_of_the_node() {
        let dir = "/var/log/toolbox/sessions";
        let row = Summary::from_index(&index_line("node-1.a", Some(3), false, "sh"), dir).unwrap();
        assert_eq!(row.state, State::Ended);
        assert_eq!((row.exit, row.size, row.duration), (Some(3), 1234, 4.5));
        assert_eq!(row.user.as_deref(), Some("alice"));
        assert_eq!(
            row.locations,
            [Location::Node {
                path: format!("{dir}/node-1.a.cast")
            }]
        );
        let cut = Summary::from_index(&index_line("node-1.b", None, true, "sh"), dir).unwrap();
        assert_eq!((cut.state, cut.truncated), (State::Truncated, true));
        let corrupt = serde_json::json!({ "id": "node-1.c", "size": 9, "header": null, "duration": 0.0, "exit": null, "truncated": true });
        let corrupt = Summary::from_index(&corrupt, dir).unwrap();
        assert_eq!(corrupt.state, State::Corrupt);
        assert_eq!(corrupt.node, "node-1", "named by its id");
    }

    #[test]
    fn a_session_in_both_is_one_row_with_the_file_s_facts_and_both_places() {
        let id = "node-1.20261203T101500Z-4f1c9a2e";
        let log = [
            serde_json::json!({ "session": id, "cast": { "version": 2, "width": 80, "height": 24, "timestamp": 1764756900, "command": "nsenter…", "toolbox": { "session": id, "node": "node-1", "user": "alice" } } }),
            serde_json::json!({ "session": id, "cast": [0.5, "o", "hi"] }),
            serde_json::json!({ "session": id, "cast": [4.5, "m", "exit 3"] }),
        ]
        .map(|l| l.to_string())
        .join("\n");
        let logged = &sessions_in_log(&log)[0];
        let from_log = Summary::from_log(logged, "ns", "toolbox-shell-node-1-x");
        assert_eq!(from_log.state, State::Ended);
        let from_file = Summary::from_index(
            &index_line(id, Some(3), false, "nsenter --target 1 -- sh"),
            "/var/log/toolbox/sessions",
        )
        .unwrap();
        let rows = merge(vec![from_log], vec![from_file]);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].command.as_deref(),
            Some("nsenter --target 1 -- sh"),
            "the file's whole command"
        );
        assert_eq!(rows[0].size, 1234);
        assert_eq!(rows[0].exit, Some(3));
        assert!(!rows[0].truncated);
        let places: Vec<String> = rows[0].locations.iter().map(ToString::to_string).collect();
        assert_eq!(
            places,
            [
                "log ns/toolbox-shell-node-1-x".to_string(),
                format!("node /var/log/toolbox/sessions/{id}.cast")
            ]
        );
    }

    #[test]
    fn a_live_session_without_its_end_is_running_and_one_without_a_header_still_a_row() {
        let log = [
            serde_json::json!({ "session": "n.a", "cast": { "version": 2, "width": 80, "height": 24, "timestamp": 5, "toolbox": {} } }),
            serde_json::json!({ "session": "n.a", "cast": [0.5, "o", "hi"] }),
            serde_json::json!({ "session": "n.b", "cast": [7.5, "o", "rotated"] }),
        ]
        .map(|l| l.to_string())
        .join("\n");
        let rows: Vec<Summary> = sessions_in_log(&log)
            .iter()
            .map(|l| Summary::from_log(l, "ns", "p"))
            .collect();
        assert_eq!(rows[0].state, State::Running);
        assert_eq!(rows[0].pod.as_deref(), Some("p"));
        assert_eq!(rows[1].state, State::Running);
        assert_eq!((rows[1].node.as_str(), rows[1].start), ("n", None));
        // The file of a session whose pod is gone and that never ended.
        let merged = merge(
            Vec::new(),
            vec![Summary {
                locations: vec![],
                ..rows[0].clone()
            }],
        );
        assert_eq!(merged.len(), 1);
    }
}
