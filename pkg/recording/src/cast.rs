//! One recording in asciicast v2: a header line, then one event per line
//! (`[TIME, CODE, DATA]`), the last of a whole recording being the
//! recorder's `[TIME, "m", "exit N"]`.
//!
//! A recording may have been cut anywhere: the pod killed mid-write, the
//! node's disk full. [`parse`] keeps every event up to the last whole one
//! and marks the recording truncated when a line was cut, a line is not an
//! event, or no exit marker ends it. Only a header that is not one makes
//! the recording [`Corrupt`]: without it nothing says what it is.

use serde::ser::SerializeTuple;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// One event: its time in seconds since the start, its code (`o` output,
/// `i` input, `r` resize, `m` marker) and its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub time: f64,
    pub code: String,
    pub data: String,
}

impl Serialize for Event {
    /// As asciicast writes it: `[TIME, CODE, DATA]`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(3)?;
        tuple.serialize_element(&self.time)?;
        tuple.serialize_element(&self.code)?;
        tuple.serialize_element(&self.data)?;
        tuple.end()
    }
}

impl Event {
    /// An event from its JSON form, if it is one.
    pub fn from_value(value: &Value) -> Option<Event> {
        let Value::Array(parts) = value else {
            return None;
        };
        match parts.as_slice() {
            [time, Value::String(code), Value::String(data)] => Some(Event {
                time: time.as_f64().filter(|t| t.is_finite() && *t >= 0.0)?,
                code: code.clone(),
                data: data.clone(),
            }),
            _ => None,
        }
    }

    /// The status N of an `exit N` marker.
    pub fn exit_status(&self) -> Option<i64> {
        (self.code == "m")
            .then(|| self.data.strip_prefix("exit ")?.parse().ok())
            .flatten()
    }
}

/// A recording read up to its last whole event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recording {
    pub header: Map<String, Value>,
    pub events: Vec<Event>,
    /// Cut short: a line cut mid-way, a line that is not an event, or no
    /// exit marker at the end.
    pub truncated: bool,
}

/// A recording whose first line is not an asciicast v2 header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corrupt {
    pub reason: String,
}

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Corrupt {}

/// What a first line says, as a header: the object, or why it is none.
pub fn header_of(value: Value) -> Result<Map<String, Value>, Corrupt> {
    let Value::Object(header) = value else {
        return Err(Corrupt {
            reason: "its first line is not an asciicast header (a JSON object)".into(),
        });
    };
    match header.get("version").and_then(Value::as_u64) {
        Some(2) => Ok(header),
        _ => Err(Corrupt {
            reason: "its header is not asciicast version 2".into(),
        }),
    }
}

/// Parses a `.cast` file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Recording, Corrupt> {
    let mut lines = bytes.split_inclusive(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    let header = first
        .strip_suffix(b"\n")
        .and_then(|line| serde_json::from_slice::<Value>(line).ok())
        .ok_or_else(|| Corrupt {
            reason: "its first line is not a whole JSON header".into(),
        })
        .and_then(header_of)?;
    let mut events = Vec::new();
    let mut cut = false;
    for line in lines {
        let event = line
            .strip_suffix(b"\n")
            .and_then(|line| serde_json::from_slice::<Value>(line).ok())
            .and_then(|value| Event::from_value(&value));
        match event {
            Some(event) => events.push(event),
            None => {
                cut = true;
                break;
            }
        }
    }
    Ok(Recording::new(header, events, cut))
}

impl Recording {
    /// A recording of `events` after `header`; `cut` when more was there
    /// that is not whole.
    pub fn new(header: Map<String, Value>, events: Vec<Event>, cut: bool) -> Recording {
        let ended = events.last().and_then(Event::exit_status).is_some();
        Recording {
            header,
            events,
            truncated: cut || !ended,
        }
    }

    /// The status of the command, from the exit marker.
    pub fn exit(&self) -> Option<i64> {
        self.events.last().and_then(Event::exit_status)
    }

    /// The time of the last event.
    pub fn duration(&self) -> f64 {
        self.events.last().map_or(0.0, |e| e.time)
    }

    /// The recording as asciicast v2: the header line, then each event's.
    pub fn to_cast(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Plain JSON values and the events' numbers and strings serialize
        // without fail.
        serde_json::to_writer(&mut out, &self.header).expect("a header serializes");
        out.push(b'\n');
        for event in &self.events {
            serde_json::to_writer(&mut out, event).expect("an event serializes");
            out.push(b'\n');
        }
        out
    }

    /// A field under the header's `toolbox` object (`session`, `node`,
    /// `pod`, `namespace`, `user`).
    pub fn toolbox(&self, field: &str) -> Option<&str> {
        self.header.get("toolbox")?.get(field)?.as_str()
    }
}

/// The length of the whole lines of `bytes` that [`parse`] read: what a
/// truncated file is cut back to.
pub fn whole_length(bytes: &[u8], recording: &Recording) -> usize {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .take(1 + recording.events.len())
        .map(<[u8]>::len)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"version":2,"width":80,"height":24,"timestamp":1764756900,"command":"sh","env":{},"toolbox":{"session":"n.1","node":"n","pod":"p","user":"alice"}}"#;

    #[test]
    fn a_whole_recording_has_its_exit_and_is_not_truncated() {
        let text = format!(
            "{HEADER}\n[0.5,\"o\",\"hi\\r\\n\"]\n[1.0,\"r\",\"100x30\"]\n[1.25,\"m\",\"exit 3\"]\n"
        );
        let rec = parse(text.as_bytes()).unwrap();
        assert_eq!(rec.events.len(), 3);
        assert_eq!(rec.exit(), Some(3));
        assert!(!rec.truncated);
        assert_eq!(rec.duration(), 1.25);
        assert_eq!(rec.toolbox("user"), Some("alice"));
        assert_eq!(whole_length(text.as_bytes(), &rec), text.len());
        // Written back, it reads the same.
        assert_eq!(parse(&rec.to_cast()).unwrap(), rec);
    }

    #[test]
    fn a_cut_last_line_is_left_out_and_marks_the_recording() {
        let text = format!("{HEADER}\n[0.5,\"o\",\"hi\"]\n[0.7,\"o\",\"th");
        let rec = parse(text.as_bytes()).unwrap();
        assert_eq!(rec.events.len(), 1);
        assert!(rec.truncated);
        assert_eq!(rec.exit(), None);
        assert_eq!(
            whole_length(text.as_bytes(), &rec),
            HEADER.len() + 1 + "[0.5,\"o\",\"hi\"]\n".len()
        );
    }

    #[test]
    fn whole_lines_without_an_exit_marker_are_truncated_too() {
        let rec = parse(format!("{HEADER}\n[2.5,\"r\",\"100x40\"]\n").as_bytes()).unwrap();
        assert_eq!(rec.events.len(), 1);
        assert!(rec.truncated);
    }

    #[test]
    fn reading_stops_at_a_corrupt_line() {
        let text = format!(
            "{HEADER}\n[0.5,\"o\",\"a\"]\nnot json\n[0.9,\"o\",\"b\"]\n[1,\"m\",\"exit 0\"]\n"
        );
        let rec = parse(text.as_bytes()).unwrap();
        assert_eq!(rec.events.len(), 1);
        assert!(rec.truncated);
        // An event of the wrong shape is as corrupt as a line of garbage.
        let rec = parse(format!("{HEADER}\n[0.5,\"o\"]\n").as_bytes()).unwrap();
        assert!(rec.events.is_empty() && rec.truncated);
    }

    #[test]
    fn a_bad_header_is_corrupt() {
        for bad in [
            "",
            "garbage\n[0.1,\"o\",\"x\"]\n",
            "[0.1,\"o\",\"x\"]\n",
            "{\"version\":1}\n",
            HEADER, // no newline: the header line itself was cut
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_event_serializes_as_an_array() {
        let event = Event {
            time: 0.25,
            code: "o".into(),
            data: "\u{1b}[0m".into(),
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"[0.25,"o","\u001b[0m"]"#
        );
        assert_eq!(event.exit_status(), None);
    }
}
