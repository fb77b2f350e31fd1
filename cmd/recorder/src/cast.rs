//! asciicast v2, as bytes: the header, one event per line for the node's
//! file, and the same lines wrapped for the container log
//! (`{"session":ID,"cast":...}`, at most [`LOG_LINE_MAX`] bytes each, output
//! split to fit). Pure: [`crate::record::Recorder`] does the writing.
//!
//! Output is the hot path (a `cat` of a big file), so events are encoded by
//! hand into reused buffers: one pass of JSON escaping per sink and nothing
//! else per byte. [`Utf8Carry`] keeps a character that a read split in two
//! for the next event, so no event holds half of one.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

/// The longest line the recorder writes to the container log: PIPE_BUF, so
/// that one `write(2)` of it is atomic and concurrent sessions of one pod
/// never interleave inside a line.
pub const LOG_LINE_MAX: usize = 4096;

/// The first line of a recording.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Header {
    pub version: u32,
    pub width: u16,
    pub height: u16,
    pub timestamp: u64,
    pub command: String,
    pub env: BTreeMap<String, String>,
    pub toolbox: Identity,
}

/// Who and where, from the pod's downward-API variables (never the client's).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Identity {
    pub session: String,
    pub node: Option<String>,
    pub pod: Option<String>,
    pub namespace: Option<String>,
    pub user: Option<String>,
    pub tty: bool,
    pub input: bool,
}

/// The encoded form of one event or header: the file's line and the log's
/// lines (each ending in `\n`, each at most [`LOG_LINE_MAX`] bytes).
#[derive(Debug, Default)]
pub struct Encoded {
    pub file_line: Vec<u8>,
    pub log_lines: Vec<u8>,
}

impl Encoded {
    /// The log's lines one by one, each to be written with one `write(2)`.
    pub fn log_lines(&self) -> impl Iterator<Item = &[u8]> {
        self.log_lines.split_inclusive(|&b| b == b'\n')
    }
}

/// Encodes one session's header and events into reused buffers.
pub struct Encoder {
    /// `{"session":"ID","cast":` — every log line starts with it.
    log_prefix: Vec<u8>,
    pub encoded: Encoded,
}

impl Encoder {
    pub fn new(session: &str) -> Encoder {
        let mut log_prefix = b"{\"session\":\"".to_vec();
        escape_into(&mut log_prefix, session);
        log_prefix.extend_from_slice(b"\",\"cast\":");
        Encoder {
            log_prefix,
            encoded: Encoded::default(),
        }
    }

    /// The header line. The log's copy must fit one line too: a command too
    /// long for it is shortened there (ending in `…`), and kept whole in the file.
    pub fn header(&mut self, header: &Header) -> &Encoded {
        let out = &mut self.encoded;
        out.file_line.clear();
        out.log_lines.clear();
        // Serializing plain strings and numbers into a Vec cannot fail.
        serde_json::to_writer(&mut out.file_line, header).expect("a header serializes");
        let room = LOG_LINE_MAX - self.log_prefix.len() - 2;
        let mut shortened = Cow::Borrowed(header);
        let mut body = out.file_line.clone();
        while body.len() > room {
            let header = shortened.to_mut();
            let excess = body.len() - room + '…'.len_utf8();
            let keep = header
                .command
                .trim_end_matches('…')
                .len()
                .saturating_sub(excess);
            let cut = floor_char_boundary(&header.command, keep);
            header.command.truncate(cut);
            header.command.push('…');
            body.clear();
            serde_json::to_writer(&mut body, &*header).expect("a header serializes");
            if cut == 0 {
                break;
            }
        }
        out.file_line.push(b'\n');
        out.log_lines.extend_from_slice(&self.log_prefix);
        out.log_lines.extend_from_slice(&body);
        out.log_lines.extend_from_slice(b"}\n");
        &self.encoded
    }

    /// One event `[TIME, CODE, DATA]` at `micros` since the start. The log
    /// gets as many lines as the data needs, all with the same time.
    pub fn event(&mut self, micros: u64, code: &str, data: &str) -> &Encoded {
        let out = &mut self.encoded;
        out.file_line.clear();
        out.log_lines.clear();
        let mut opening = Vec::with_capacity(32);
        opening.push(b'[');
        push_time(&mut opening, micros);
        opening.extend_from_slice(b",\"");
        opening.extend_from_slice(code.as_bytes());
        opening.extend_from_slice(b"\",\"");
        const CLOSING: &[u8] = b"\"]";

        out.file_line
            .reserve(opening.len() + data.len() + data.len() / 8 + 8);
        out.file_line.extend_from_slice(&opening);
        escape_into(&mut out.file_line, data);
        out.file_line.extend_from_slice(CLOSING);
        out.file_line.push(b'\n');

        let room = LOG_LINE_MAX - self.log_prefix.len() - opening.len() - CLOSING.len() - 2;
        let mut rest = data;
        loop {
            out.log_lines.extend_from_slice(&self.log_prefix);
            out.log_lines.extend_from_slice(&opening);
            let taken = escape_prefix_into(&mut out.log_lines, rest, room);
            out.log_lines.extend_from_slice(CLOSING);
            out.log_lines.extend_from_slice(b"}\n");
            rest = &rest[taken..];
            if rest.is_empty() {
                break;
            }
        }
        &self.encoded
    }
}

/// `SECONDS.MICROS`, six decimals, exact (no floating point on the way).
fn push_time(out: &mut Vec<u8>, micros: u64) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{}.{:06}", micros / 1_000_000, micros % 1_000_000);
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    index = index.min(s.len());
    while !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// For each byte: 0 when it goes into a JSON string as it is, `u` when it
/// needs `\u00XX`, else the letter after the backslash.
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

fn push_escape(out: &mut Vec<u8>, byte: u8, escape: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if escape == b'u' {
        out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(byte >> 4) as usize],
            HEX[(byte & 0xf) as usize],
        ]);
    } else {
        out.extend_from_slice(&[b'\\', escape]);
    }
}

/// Appends `s` as the inside of a JSON string (no quotes): runs of bytes that
/// need nothing are copied whole.
pub fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPE[byte as usize];
        if escape != 0 {
            out.extend_from_slice(&bytes[start..i]);
            push_escape(out, byte, escape);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends the longest prefix of `s` whose escaped form fits in `room` bytes,
/// ending on a character boundary, and returns how many bytes of `s` it took.
/// Takes at least one character, so a caller's loop always ends.
pub fn escape_prefix_into(out: &mut Vec<u8>, s: &str, room: usize) -> usize {
    let bytes = s.as_bytes();
    let (mut used, mut start, mut i) = (0, 0, 0);
    while i < bytes.len() {
        let byte = bytes[i];
        let escape = ESCAPE[byte as usize];
        let (width, length) = match escape {
            0 if byte < 0x80 => (1, 1),
            0 => {
                let length = utf8_length(byte);
                (length, length)
            }
            b'u' => (6, 1),
            _ => (2, 1),
        };
        if used + width > room && i > 0 {
            break;
        }
        if escape != 0 {
            out.extend_from_slice(&bytes[start..i]);
            push_escape(out, byte, escape);
            start = i + 1;
        }
        used += width;
        i += length;
    }
    out.extend_from_slice(&bytes[start..i]);
    i
}

/// The length of the UTF-8 sequence a leading byte starts (in valid UTF-8).
fn utf8_length(lead: u8) -> usize {
    match lead {
        0xf0.. => 4,
        0xe0.. => 3,
        _ => 2,
    }
}

/// Turns a stream's reads into text, keeping a character split across two
/// reads for the next one. Invalid bytes become U+FFFD, as asciicast
/// players expect UTF-8.
#[derive(Debug, Default)]
pub struct Utf8Carry {
    pending: Vec<u8>,
    joined: Vec<u8>,
}

impl Utf8Carry {
    /// The text of `input` after what the last read left, without a
    /// trailing incomplete character (kept for next time).
    pub fn decode<'a>(&'a mut self, input: &'a [u8]) -> Cow<'a, str> {
        let bytes: &[u8] = if self.pending.is_empty() {
            input
        } else {
            self.joined.clear();
            self.joined.extend_from_slice(&self.pending);
            self.joined.extend_from_slice(input);
            &self.joined
        };
        let whole = bytes.len() - incomplete_tail(bytes);
        self.pending.clear();
        self.pending.extend_from_slice(&bytes[whole..]);
        String::from_utf8_lossy(&bytes[..whole])
    }

    /// What is left at the end of the stream: a character that never
    /// completed, as U+FFFD.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        Some(text)
    }
}

/// How many bytes at the end of `bytes` are the valid start of a character
/// that the next read completes (0 to 3).
fn incomplete_tail(bytes: &[u8]) -> usize {
    let lowest = bytes.len().saturating_sub(3);
    for start in (lowest..bytes.len()).rev() {
        let byte = bytes[start];
        if byte & 0xc0 == 0x80 {
            continue; // a continuation byte: the character started earlier
        }
        if byte < 0xc0 {
            return 0; // ASCII: nothing pending
        }
        return match std::str::from_utf8(&bytes[start..]) {
            Err(e) if e.error_len().is_none() => bytes.len() - start,
            _ => 0,
        };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn header(command: &str) -> Header {
        Header {
            version: 2,
            width: 80,
            height: 24,
            timestamp: 1_764_720_000,
            command: command.into(),
            env: BTreeMap::from([("TERM".into(), "xterm".into())]),
            toolbox: Identity {
                session: "n.1".into(),
                node: Some("n".into()),
                pod: Some("p".into()),
                namespace: Some("ns".into()),
                user: None,
                tty: true,
                input: false,
            },
        }
    }

    fn log_values(encoded: &Encoded) -> Vec<Value> {
        encoded
            .log_lines()
            .map(|line| {
                assert!(
                    line.len() <= LOG_LINE_MAX,
                    "a log line of {} bytes",
                    line.len()
                );
                assert_eq!(line.last(), Some(&b'\n'));
                serde_json::from_slice(line).expect("a log line is JSON")
            })
            .collect()
    }

    #[test]
    fn an_event_is_one_line_with_six_decimals() {
        let mut encoder = Encoder::new("n.1");
        let encoded = encoder.event(3_000_042, "o", "a\"b\\c\n\u{1b}[0mé\u{7f}");
        assert_eq!(
            String::from_utf8(encoded.file_line.clone()).unwrap(),
            "[3.000042,\"o\",\"a\\\"b\\\\c\\n\\u001b[0mé\u{7f}\"]\n"
        );
        let logged = log_values(encoded);
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0]["session"], "n.1");
        assert_eq!(
            logged[0]["cast"],
            serde_json::json!([3.000042, "o", "a\"b\\c\n\u{1b}[0mé\u{7f}"])
        );
    }

    #[test]
    fn escaping_agrees_with_serde_json_for_every_byte_value() {
        let all: String = (0u32..0x800).filter_map(char::from_u32).collect();
        let mut ours = b"\"".to_vec();
        escape_into(&mut ours, &all);
        ours.push(b'"');
        let back: String = serde_json::from_slice(&ours).unwrap();
        assert_eq!(back, all);
    }

    #[test]
    fn big_output_is_split_into_log_lines_that_rejoin_exactly() {
        // Escapes (6 bytes), two-byte, three- and four-byte characters, so cuts
        // fall beside all of them.
        let unit = "\u{1}x\"é€😀\n";
        let data: String = unit.repeat(3000);
        let mut encoder = Encoder::new("node.20261203T000000Z-00000000");
        let encoded = encoder.event(1, "o", &data);
        let logged = log_values(encoded);
        assert!(logged.len() > 10);
        let mut rejoined = String::new();
        for value in &logged {
            assert_eq!(value["cast"][0], serde_json::json!(0.000001));
            assert_eq!(value["cast"][1], "o");
            rejoined.push_str(value["cast"][2].as_str().unwrap());
        }
        assert_eq!(rejoined, data);
        // Lines are filled, not merely short.
        let first = encoded.log_lines().next().unwrap();
        assert!(first.len() > LOG_LINE_MAX - 8, "{}", first.len());
        let from_file: Value = serde_json::from_slice(&encoded.file_line).unwrap();
        assert_eq!(from_file[2], data.as_str());
    }

    #[test]
    fn a_header_too_long_for_the_log_is_shortened_there_only() {
        let mut encoder = Encoder::new("n.1");
        let long = "é".repeat(5000);
        let encoded = encoder.header(&header(&long));
        let file: Value = serde_json::from_slice(&encoded.file_line).unwrap();
        assert_eq!(file["command"], long.as_str());
        let logged = log_values(encoded);
        assert_eq!(logged.len(), 1);
        let shortened = logged[0]["cast"]["command"].as_str().unwrap();
        assert!(shortened.ends_with('…') && long.starts_with(shortened.trim_end_matches('…')));
        assert_eq!(logged[0]["cast"]["toolbox"]["session"], "n.1");

        let encoded = encoder.header(&header("sh -l"));
        let logged = log_values(encoded);
        assert_eq!(
            logged[0]["cast"],
            serde_json::from_slice::<Value>(&encoded.file_line).unwrap()
        );
        assert_eq!(logged[0]["cast"]["version"], 2);
    }

    #[test]
    fn a_character_split_across_reads_is_carried_to_the_next() {
        let text = "aé€😀";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut carry = Utf8Carry::default();
            let first = carry.decode(&bytes[..cut]).into_owned();
            let second = carry.decode(&bytes[cut..]).into_owned();
            assert_eq!(first.clone() + &second, text, "cut at {cut}");
            assert!(!first.contains('\u{fffd}') && !second.contains('\u{fffd}'));
            assert_eq!(carry.finish(), None);
        }
    }

    #[test]
    fn invalid_bytes_are_replaced_and_an_unfinished_character_is_flushed() {
        let mut carry = Utf8Carry::default();
        assert_eq!(carry.decode(b"a\xffb\xe2\x82"), "a\u{fffd}b");
        assert_eq!(carry.decode(b"\xac"), "€");
        assert_eq!(carry.decode(b"\xf0\x9f"), "");
        assert_eq!(carry.finish().as_deref(), Some("\u{fffd}"));
        // A byte that cannot start a character is not held back.
        assert_eq!(carry.decode(b"x\x80"), "x\u{fffd}");
    }
}
