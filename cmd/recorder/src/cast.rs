//! asciicast v2, as bytes: the header, one event per line for the node's
//! file, and the same lines wrapped for the container log
//! (`{"session":ID,"cast":...}`, at most [`LOG_LINE_MAX`] bytes each, output
//! split to fit). Pure: [`crate::record::Recorder`] does the writing.
//!
//! Output is the hot path (a `cat` of a big file), so events are encoded by
//! hand into reused buffers: one pass of JSON escaping, shared by both
//! sinks, and nothing else per byte. [`Utf8Carry`] keeps a character that a read split in two
//! for the next event, so no event holds half of one.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

/// The longest line the recorder writes to the container log: PIPE_BUF, so
/// that one `write(2)` of it is atomic and concurrent sessions of one pod
/// never interleave inside a line.
///
/// An event of one line is written alone. The lines of a bigger event are
/// all padded with spaces to exactly this size (JSON allows whitespace after
/// the value) and written with one `write(2)`, as one line each would cost
/// thousands of calls and as many wake-ups of the container runtime that
/// reads the log. A pipe holds pages; Linux fills a write of whole pages
/// page by page, and a write that sleeps on a full pipe and is cut short
/// (a signal, a SIGKILL) stops between two of them. Lines of one page each
/// are therefore never torn, neither by a kill nor by another session's
/// write in between: whatever is in the pipe stays whole lines.
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
    /// Where each log line ends in `log_lines`, so that writing them needs
    /// no second look at their bytes.
    log_ends: Vec<usize>,
}

impl Encoded {
    /// What goes to the log, with one `write(2)`: one line, or whole
    /// page-sized lines ([`LOG_LINE_MAX`]).
    pub fn log_write(&self) -> &[u8] {
        &self.log_lines
    }

    /// The log's lines one by one.
    pub fn log_lines(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.log_ends.iter().copied());
        starts
            .zip(self.log_ends.iter().copied())
            .map(|(start, end)| &self.log_lines[start..end])
    }

    fn clear(&mut self) {
        self.file_line.clear();
        self.log_lines.clear();
        self.log_ends.clear();
    }

    fn end_log_line(&mut self) {
        self.log_ends.push(self.log_lines.len());
    }
}

/// Encodes one session's header and events into reused buffers.
pub struct Encoder {
    /// `{"session":"ID","cast":` — every log line starts with it.
    log_prefix: Vec<u8>,
    pub encoded: Encoded,
    /// Where each log line's share of the data ends in the file's line.
    pieces: Vec<usize>,
}

impl Encoder {
    pub fn new(session: &str) -> Encoder {
        let mut log_prefix = b"{\"session\":\"".to_vec();
        escape_into(&mut log_prefix, session);
        log_prefix.extend_from_slice(b"\",\"cast\":");
        Encoder {
            log_prefix,
            encoded: Encoded::default(),
            pieces: Vec::new(),
        }
    }

    /// The header line. The log's copy must fit one line too: a command too
    /// long for it is shortened there (ending in `…`), and kept whole in the file.
    pub fn header(&mut self, header: &Header) -> &Encoded {
        let out = &mut self.encoded;
        out.clear();
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
        out.end_log_line();
        &self.encoded
    }

    /// One event `[TIME, CODE, DATA]` at `micros` since the start. The log
    /// gets as many lines as the data needs, all with the same time.
    ///
    /// The data is escaped once, into the file's line, in pieces that each
    /// fit one log line; the log's lines then copy those pieces as they are.
    pub fn event(&mut self, micros: u64, code: &str, data: &str) -> &Encoded {
        let out = &mut self.encoded;
        out.clear();
        let mut opening = [0u8; 48];
        let opening = {
            let mut cursor = &mut opening[..];
            // 48 bytes hold `[` a u64's 20 digits, `.`, six decimals and a
            // one-letter code with its quotes; writing into them cannot fail.
            let _ = write!(
                cursor,
                "[{}.{:06},\"{code}\",\"",
                micros / 1_000_000,
                micros % 1_000_000
            );
            let left = cursor.len();
            &opening[..opening.len() - left]
        };
        const CLOSING: &[u8] = b"\"]";

        out.file_line
            .reserve(opening.len() + data.len() + data.len() / 8 + 8);
        out.file_line.extend_from_slice(opening);
        let room = LOG_LINE_MAX - self.log_prefix.len() - opening.len() - CLOSING.len() - 2;
        self.pieces.clear();
        let mut rest = data;
        loop {
            let taken = escape_prefix_into(&mut out.file_line, rest, room);
            self.pieces.push(out.file_line.len());
            rest = &rest[taken..];
            if rest.is_empty() {
                break;
            }
        }
        let escaped_end = out.file_line.len();
        out.file_line.extend_from_slice(CLOSING);
        out.file_line.push(b'\n');

        let lines = self.pieces.len();
        out.log_lines.reserve(
            escaped_end + lines * (self.log_prefix.len() + opening.len() + CLOSING.len() + 2),
        );
        // Lines of a bigger event are padded to LOG_LINE_MAX (see there).
        let pad = lines > 1;
        let mut start = opening.len();
        for &end in &self.pieces {
            let line_start = out.log_lines.len();
            out.log_lines.extend_from_slice(&self.log_prefix);
            out.log_lines.extend_from_slice(opening);
            out.log_lines.extend_from_slice(&out.file_line[start..end]);
            out.log_lines.extend_from_slice(CLOSING);
            out.log_lines.push(b'}');
            if pad {
                out.log_lines.resize(line_start + LOG_LINE_MAX - 1, b' ');
            }
            out.log_lines.push(b'\n');
            out.log_ends.push(out.log_lines.len());
            start = end;
        }
        &self.encoded
    }
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
    escape_prefix_into(out, s, usize::MAX);
}

/// Appends the longest prefix of `s` whose escaped form fits in `room` bytes,
/// ending on a character boundary, and returns how many bytes of `s` it took.
/// Takes at least one character, so a caller's loop always ends.
///
/// The hot path of a big output: runs of bytes that go into JSON as they
/// are (found eight at a time, [`plain_run`]) are copied whole, and a
/// character is never looked at for its width, as only a cut needs that.
pub fn escape_prefix_into(out: &mut Vec<u8>, s: &str, room: usize) -> usize {
    let bytes = s.as_bytes();
    let base = out.len();
    let mut i = 0;
    while i < bytes.len() {
        let used = out.len() - base;
        // Each byte takes at least one byte of room.
        let limit = bytes.len().min(i.saturating_add(room - used));
        let end = i + plain_run(&bytes[i..limit]);
        out.extend_from_slice(&bytes[i..end]);
        i = end;
        if i == limit {
            break;
        }
        let byte = bytes[i];
        let escape = ESCAPE[byte as usize];
        let width = if escape == b'u' { 6 } else { 2 };
        if out.len() - base + width > room {
            break;
        }
        push_escape(out, byte, escape);
        i += 1;
    }
    if i < bytes.len() && !s.is_char_boundary(i) {
        // The cut fell inside a character, whose bytes were copied as they
        // are (none is escaped): they are taken back.
        let boundary = floor_char_boundary(s, i);
        out.truncate(out.len() - (i - boundary));
        i = boundary;
    }
    if i == 0 && !bytes.is_empty() {
        // Not even one character fits: it is taken anyway.
        out.truncate(base);
        let first = s.chars().next().map_or(0, char::len_utf8);
        escape_whole(out, &s[..first]);
        return first;
    }
    i
}

/// Escapes all of `s`, without a limit (the rare path of a character that
/// does not fit its room).
fn escape_whole(out: &mut Vec<u8>, s: &str) {
    for &byte in s.as_bytes() {
        match ESCAPE[byte as usize] {
            0 => out.push(byte),
            escape => push_escape(out, byte, escape),
        }
    }
}

/// How many bytes at the start of `bytes` go into a JSON string as they
/// are: none below 0x20, no `"` and no `\\`. Eight at a time, with the
/// usual bit tricks: a word has a byte below N when `(w - N·0x01…) & !w &
/// 0x80…` is not zero, and a byte equal to B when `w ^ B·0x01…` has one
/// below 1. Bytes from 0x80 up never match, so UTF-8 passes through.
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGHS;
    let mut words = bytes.chunks_exact(8);
    let mut i = 0;
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let special = below(w, 0x20)
            | below(w ^ (ONES * b'"' as u64), 1)
            | below(w ^ (ONES * b'\\' as u64), 1);
        if special != 0 {
            break;
        }
        i += 8;
    }
    i + bytes[i..]
        .iter()
        .position(|&b| ESCAPE[b as usize] != 0)
        .unwrap_or(bytes.len() - i)
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
        lossy(&bytes[..whole])
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

/// `bytes` as text, invalid bytes as U+FFFD. Valid UTF-8 (nearly all output)
/// is checked by `str::from_utf8`, which takes ASCII a word at a time, and
/// borrowed; only invalid bytes go the slower lossy way.
fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
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
        let lines = encoded.log_lines().count();
        assert_eq!(
            encoded.log_lines().map(<[u8]>::len).sum::<usize>(),
            encoded.log_write().len()
        );
        if lines > 1 {
            // Whole pages, so that no line of the write is ever torn.
            for line in encoded.log_lines() {
                assert_eq!(line.len(), LOG_LINE_MAX);
            }
        }
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

    /// The escaped width of one character, as JSON has it.
    fn width(c: char) -> usize {
        match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        }
    }

    #[test]
    fn a_prefix_is_the_longest_that_fits_and_ends_on_a_character() {
        // Long plain runs (the eight-at-a-time path) between every kind of
        // character, cut at every room.
        let text = format!("{0}\u{1}{0}é{0}\"{0}😀\\{0}€\n{0}", "plain-text-run-");
        for start in 0..text.len() {
            if !text.is_char_boundary(start) {
                continue;
            }
            let s = &text[start..];
            for room in 1..=s.len() * 2 {
                let mut out = b"x".to_vec();
                let taken = escape_prefix_into(&mut out, s, room);
                assert!(s.is_char_boundary(taken), "{start} {room}");
                let mut expected = b"x".to_vec();
                escape_whole(&mut expected, &s[..taken]);
                assert_eq!(out, expected, "{start} {room}");
                let used = out.len() - 1;
                let next = s[taken..].chars().next();
                if taken == s[..taken].chars().next().map_or(0, char::len_utf8) && used > room {
                    continue; // one character that does not fit is taken anyway
                }
                assert!(used <= room, "{start} {room}");
                if let Some(next) = next {
                    assert!(used + width(next) > room, "{start} {room}: stopped early");
                }
            }
        }
    }

    #[test]
    fn plain_runs_stop_at_the_first_byte_to_escape() {
        for special in [0u8, 0x1f, b'"', b'\\', b'\n'] {
            for at in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = special;
                assert_eq!(plain_run(&bytes), at, "{special} at {at}");
            }
        }
        assert_eq!(plain_run("é€😀 ~\u{7f}".repeat(3).as_bytes()), 3 * 12);
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
