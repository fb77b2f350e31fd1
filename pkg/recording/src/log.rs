//! The container log's copy of recordings: each line is
//! `{"session":ID,"cast":LINE}`, where LINE is the header object or one
//! event. One pod's log may hold several sessions (a `--persist` pod), in
//! whole lines each. The recorder splits an event too big for one log line
//! (4,096 bytes) into several with the same time and code (padded with
//! spaces to 4,096 bytes each, which JSON allows), and shortens a
//! header's command that does not fit (ending it with `…`); the node's file
//! has both whole.
//!
//! The kubelet rotates the log (`containerLogMaxSize`): the log of a long
//! session may have lost its beginning, header included. Such a session
//! is still listed, and its recording is read from the node's file.

use serde_json::{Map, Value};

use crate::cast::{Event, Recording, header_of};

/// One session as the log has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub id: String,
    /// `None` when the header is no longer in the log (rotated out), or
    /// was not a header.
    pub header: Option<Map<String, Value>>,
    pub events: Vec<Event>,
}

impl Logged {
    /// The recording, when the log still has its header. Whatever the log
    /// holds is whole lines, so only a missing exit marker truncates it.
    pub fn recording(&self) -> Option<Recording> {
        Some(Recording::new(
            self.header.clone()?,
            self.events.clone(),
            false,
        ))
    }
}

/// The sessions in a pod's log, in the order each first appears. Lines that
/// are not a recording's (anything else the container wrote) are skipped.
pub fn sessions_in_log(log: &str) -> Vec<Logged> {
    let mut sessions: Vec<Logged> = Vec::new();
    for line in log.lines() {
        let Ok(Value::Object(mut wrapped)) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let (Some(Value::String(id)), Some(cast)) =
            (wrapped.remove("session"), wrapped.remove("cast"))
        else {
            continue;
        };
        let at = match sessions.iter().position(|s| s.id == id) {
            Some(at) => at,
            None => {
                sessions.push(Logged {
                    id,
                    header: None,
                    events: Vec::new(),
                });
                sessions.len() - 1
            }
        };
        let session = &mut sessions[at];
        if cast.is_object() {
            if session.header.is_none() && session.events.is_empty() {
                session.header = header_of(cast).ok();
            }
            continue;
        }
        let Some(event) = Event::from_value(&cast) else {
            continue;
        };
        match session.events.last_mut() {
            // One event split across lines: same time, same code.
            Some(last)
                if last.time == event.time
                    && last.code == event.code
                    && matches!(event.code.as_str(), "o" | "i") =>
            {
                last.data.push_str(&event.data);
            }
            _ => session.events.push(event),
        }
    }
    sessions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, cast: Value) -> String {
        serde_json::json!({ "session": id, "cast": cast }).to_string()
    }

    fn header(id: &str) -> Value {
        serde_json::json!({ "version": 2, "width": 80, "height": 24, "timestamp": 1, "command": "sh…", "toolbox": { "session": id } })
    }

    #[test]
    fn split_output_is_joined_and_sessions_are_kept_apart() {
        let log = [
            line("n.a", header("n.a")),
            line("n.b", header("n.b")),
            line("n.a", serde_json::json!([0.5, "o", "hel"])),
            line("n.b", serde_json::json!([0.5, "o", "other"])),
            // The recorder pads the lines of a big event to one page each.
            format!("{}   ", line("n.a", serde_json::json!([0.5, "o", "lo"]))),
            "some other line the container wrote".to_string(),
            line("n.a", serde_json::json!([0.6, "o", "!"])),
            line("n.a", serde_json::json!([0.6, "r", "10x10"])),
            line("n.a", serde_json::json!([0.6, "r", "20x20"])),
            line("n.a", serde_json::json!([0.7, "m", "exit 0"])),
        ]
        .join("\n");
        let sessions = sessions_in_log(&log);
        assert_eq!(sessions.len(), 2);
        let a = sessions[0].recording().unwrap();
        let data: Vec<&str> = a.events.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["hello", "!", "10x10", "20x20", "exit 0"]);
        assert!(!a.truncated);
        assert_eq!(a.header["command"], "sh…");
        let b = sessions[1].recording().unwrap();
        assert_eq!(b.events.len(), 1);
        assert!(b.truncated, "no exit marker yet");
    }

    #[test]
    fn a_log_that_lost_its_header_still_names_the_session() {
        let log = line("n.a", serde_json::json!([9.5, "o", "late"]));
        let sessions = sessions_in_log(&log);
        assert_eq!(sessions[0].id, "n.a");
        assert_eq!(sessions[0].header, None);
        assert_eq!(sessions[0].recording(), None);
        assert_eq!(sessions[0].events.len(), 1);
    }
}
