//! A stream-less run's output, as its container's termination message: the
//! recorder's `run` writes it (cmd/recorder), toolbox reads it back from the
//! pod's status, which the run's one watch already brings (docs/fan-out.md).
//!
//! The kubelet keeps at most [`MESSAGE_LIMIT`] bytes of the file, as a
//! string that the API server sends as JSON, so the format is text, exact
//! and compact:
//!
//! ```text
//! toolbox-output/1
//! o12
//! hello world
//! e5
//! oops
//! ```
//!
//! Each record is a tag, the payload's length in bytes, a newline and the
//! payload: `o` stdout and `e` stderr as they are (valid UTF-8), `O` and `E`
//! the same streams base64-encoded (bytes that are not UTF-8, which JSON
//! would replace). Records keep the order in which the streams were read,
//! with the chunks of one stream in a row joined into one record. When the
//! whole output does not fit, the message is the header and one `+TOTAL`
//! record (the output's size in bytes): toolbox then reads the container's
//! log for it.

/// The most the kubelet keeps of a container's termination message
/// (`maxContainerTerminationMessageLength`, 4 KiB).
pub const MESSAGE_LIMIT: usize = 4096;

/// The first line of every message.
pub const HEADER: &str = "toolbox-output/1\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The whole output, chunk by chunk, in the order it was read.
    Whole(Vec<(Stream, Vec<u8>)>),
    /// The output was this many bytes, more than a message holds.
    TooLong { total: u64 },
}

/// The output of a command as it is read, kept while it fits a message.
#[derive(Debug, Default)]
pub struct Transcript {
    chunks: Vec<(Stream, Vec<u8>)>,
    total: u64,
    /// The output no longer fits: nothing more is kept.
    overflowed: bool,
}

impl Transcript {
    /// Adds what was read from `stream`.
    pub fn push(&mut self, stream: Stream, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if self.overflowed || bytes.is_empty() {
            return;
        }
        // No encoding is shorter than the bytes themselves.
        if self.total as usize + HEADER.len() > MESSAGE_LIMIT {
            self.overflowed = true;
            self.chunks = Vec::new();
            return;
        }
        match self.chunks.last_mut() {
            Some((last, kept)) if *last == stream => kept.extend_from_slice(bytes),
            _ => self.chunks.push((stream, bytes.to_vec())),
        }
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The message: the whole output when it fits in [`MESSAGE_LIMIT`]
    /// bytes, otherwise the header and the output's size.
    pub fn message(&self) -> Vec<u8> {
        let mut out = HEADER.as_bytes().to_vec();
        if !self.overflowed {
            for (stream, bytes) in &self.chunks {
                encode_record(&mut out, *stream, bytes);
            }
            if out.len() <= MESSAGE_LIMIT {
                return out;
            }
            out.truncate(HEADER.len());
        }
        out.extend_from_slice(format!("+{}\n", self.total).as_bytes());
        out
    }
}

fn encode_record(out: &mut Vec<u8>, stream: Stream, bytes: &[u8]) {
    let (text, base64) = match stream {
        Stream::Stdout => ('o', 'O'),
        Stream::Stderr => ('e', 'E'),
    };
    match std::str::from_utf8(bytes) {
        Ok(_) => {
            out.extend_from_slice(format!("{text}{}\n", bytes.len()).as_bytes());
            out.extend_from_slice(bytes);
        }
        Err(_) => {
            let encoded = base64_encode(bytes);
            out.extend_from_slice(format!("{base64}{}\n", encoded.len()).as_bytes());
            out.extend_from_slice(encoded.as_bytes());
        }
    }
}

/// Why a message is not one of toolbox's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotOutput(pub String);

impl std::fmt::Display for NotOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the termination message is not toolbox's output: {}",
            self.0
        )
    }
}

/// Reads a termination message back.
pub fn decode(message: &str) -> Result<Output, NotOutput> {
    let mut rest = message
        .strip_prefix(HEADER)
        .ok_or_else(|| NotOutput("no toolbox-output/1 header".into()))?
        .as_bytes();
    let mut chunks = Vec::new();
    while !rest.is_empty() {
        let tag = rest[0];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| NotOutput("a record without its length".into()))?;
        let length: usize = std::str::from_utf8(&rest[1..end])
            .ok()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| NotOutput("a record's length is not a number".into()))?;
        if tag == b'+' {
            return Ok(Output::TooLong {
                total: length as u64,
            });
        }
        let payload = rest
            .get(end + 1..end + 1 + length)
            .ok_or_else(|| NotOutput("a record is cut short".into()))?;
        rest = &rest[end + 1 + length..];
        let (stream, bytes) = match tag {
            b'o' => (Stream::Stdout, payload.to_vec()),
            b'e' => (Stream::Stderr, payload.to_vec()),
            b'O' => (Stream::Stdout, base64_decode(payload)?),
            b'E' => (Stream::Stderr, base64_decode(payload)?),
            other => {
                return Err(NotOutput(format!("unknown record {:?}", char::from(other))));
            }
        };
        chunks.push((stream, bytes));
    }
    Ok(Output::Whole(chunks))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Base64 by hand: the recorder is a static binary with few dependencies,
// and this is the one place either side needs it.
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &[u8]) -> Result<Vec<u8>, NotOutput> {
    let bad = || NotOutput("a record's base64 is not valid".into());
    if !text.len().is_multiple_of(4) {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for quad in text.chunks(4) {
        let padding = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 {
            return Err(bad());
        }
        let mut n = 0u32;
        for (i, &b) in quad.iter().enumerate() {
            let value = if i >= 4 - padding {
                0
            } else {
                ALPHABET.iter().position(|&a| a == b).ok_or_else(bad)? as u32
            };
            n |= value << (18 - 6 * i);
        }
        out.extend((0..3 - padding).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_come_back_in_order_with_a_streams_chunks_joined() {
        let mut transcript = Transcript::default();
        transcript.push(Stream::Stdout, b"hello ");
        transcript.push(Stream::Stdout, b"world\n");
        transcript.push(Stream::Stderr, b"oops\n");
        transcript.push(Stream::Stdout, b"done\n");
        let message = transcript.message();
        assert_eq!(
            String::from_utf8(message.clone()).unwrap(),
            "toolbox-output/1\no12\nhello world\ne5\noops\no5\ndone\n"
        );
        assert_eq!(
            decode(std::str::from_utf8(&message).unwrap()).unwrap(),
            Output::Whole(vec![
                (Stream::Stdout, b"hello world\n".to_vec()),
                (Stream::Stderr, b"oops\n".to_vec()),
                (Stream::Stdout, b"done\n".to_vec()),
            ])
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_survive_as_base64() {
        for bytes in [&b"\xff\xfe\x00"[..], b"\x80", b"ab\xc3", b"\xc3\x28xyz"] {
            let mut transcript = Transcript::default();
            transcript.push(Stream::Stderr, bytes);
            let message = String::from_utf8(transcript.message()).unwrap();
            assert!(message.contains("\nE"), "{message}");
            assert_eq!(
                decode(&message).unwrap(),
                Output::Whole(vec![(Stream::Stderr, bytes.to_vec())])
            );
        }
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert_eq!(base64_encode(b"M"), "TQ==");
    }

    #[test]
    fn output_that_does_not_fit_says_its_size_only() {
        let mut transcript = Transcript::default();
        transcript.push(Stream::Stdout, &vec![b'x'; 3000]);
        transcript.push(Stream::Stdout, &vec![b'y'; 3000]);
        let message = transcript.message();
        assert!(message.len() <= MESSAGE_LIMIT);
        assert_eq!(
            decode(std::str::from_utf8(&message).unwrap()).unwrap(),
            Output::TooLong { total: 6000 }
        );
        // Close to the limit: the record's own header tips it over.
        let mut transcript = Transcript::default();
        transcript.push(Stream::Stdout, &vec![b'x'; MESSAGE_LIMIT - HEADER.len()]);
        let message = transcript.message();
        assert!(message.len() <= MESSAGE_LIMIT);
        assert!(matches!(
            decode(std::str::from_utf8(&message).unwrap()).unwrap(),
            Output::TooLong { .. }
        ));
        // Exactly at the limit: kept whole.
        let mut transcript = Transcript::default();
        let room = MESSAGE_LIMIT - HEADER.len() - "o4074\n".len();
        transcript.push(Stream::Stdout, &vec![b'x'; room]);
        let message = transcript.message();
        assert_eq!(message.len(), MESSAGE_LIMIT);
        assert!(matches!(
            decode(std::str::from_utf8(&message).unwrap()).unwrap(),
            Output::Whole(_)
        ));
    }

    #[test]
    fn no_output_is_an_empty_whole() {
        let message = Transcript::default().message();
        assert_eq!(
            decode(std::str::from_utf8(&message).unwrap()).unwrap(),
            Output::Whole(Vec::new())
        );
    }

    #[test]
    fn messages_that_are_not_toolboxs_are_refused() {
        for message in [
            "",
            "simulated crash",
            "toolbox-output/1\no5\nab",
            "toolbox-output/1\nx1\na",
            "toolbox-output/1\nonine\nab",
            "toolbox-output/1\nO3\n!!!",
        ] {
            assert!(decode(message).is_err(), "{message:?}");
        }
    }
}
