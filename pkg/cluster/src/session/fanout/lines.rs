//! A node's output, passed on to the run's events line by line
//! ([`LineSink`]), split by [`LineSplitter`].

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::spec::{FanoutEvents, OutputStream};

/// A line longer than this is passed on in pieces, so that output without
/// newlines cannot grow without bound.
const MAX_LINE: usize = 64 * 1024;

/// Bytes in, whole lines out (without their newlines): a line longer than
/// [`MAX_LINE`] comes out in pieces. Also what reads the node log query's
/// answers (crate::nodelogs).
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Takes `bytes`; `line` gets each line they complete.
    pub fn feed(&mut self, mut bytes: &[u8], line: &mut impl FnMut(&[u8])) {
        while let Some(at) = bytes.iter().position(|&b| b == b'\n') {
            if self.pending.is_empty() {
                line(&bytes[..at]);
            } else {
                self.pending.extend_from_slice(&bytes[..at]);
                line(&self.pending);
                self.pending.clear();
            }
            bytes = &bytes[at + 1..];
        }
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= MAX_LINE {
            line(&self.pending);
            self.pending.clear();
        }
    }

    /// The end of the bytes: a last line without its newline comes out.
    pub fn finish(&mut self, line: &mut impl FnMut(&[u8])) {
        if !self.pending.is_empty() {
            line(&self.pending);
            self.pending.clear();
        }
    }
}

/// Passes a node's output on line by line; the last line, even without its
/// newline, when the stream ends.
pub struct LineSink {
    events: Arc<dyn FanoutEvents>,
    node: String,
    stream: OutputStream,
    lines: LineSplitter,
}

impl LineSink {
    pub fn new(events: Arc<dyn FanoutEvents>, node: &str, stream: OutputStream) -> Self {
        LineSink {
            events,
            node: node.to_string(),
            stream,
            lines: LineSplitter::default(),
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        let (events, node, stream) = (&self.events, &self.node, self.stream);
        self.lines
            .feed(bytes, &mut |line| events.line(node, stream, line));
    }
}

impl tokio::io::AsyncWrite for LineSink {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.get_mut().take(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineSink {
    fn drop(&mut self) {
        let (events, node, stream) = (&self.events, &self.node, self.stream);
        self.lines
            .finish(&mut |line| events.line(node, stream, line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::fanout::spec::NodeOutcome;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, OutputStream, String)>>);

    impl FanoutEvents for Recorder {
        fn line(&self, node: &str, stream: OutputStream, line: &[u8]) {
            self.0.lock().unwrap().push((
                node.to_string(),
                stream,
                String::from_utf8_lossy(line).into_owned(),
            ));
        }
        fn finished(&self, _: &str, _: &NodeOutcome) {}
    }

    #[test]
    fn output_is_passed_on_in_whole_lines_and_the_last_one_at_the_end() {
        let recorder = Arc::new(Recorder::default());
        let mut sink = LineSink::new(recorder.clone(), "n1", OutputStream::Stdout);
        sink.take(b"one\ntw");
        sink.take(b"o\n\nthree");
        assert_eq!(recorder.0.lock().unwrap().len(), 3);
        drop(sink);
        let lines: Vec<String> = recorder
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, _, l)| l.clone())
            .collect();
        assert_eq!(lines, ["one", "two", "", "three"]);
    }

    #[test]
    fn a_line_without_end_is_passed_on_in_pieces() {
        let recorder = Arc::new(Recorder::default());
        let mut sink = LineSink::new(recorder.clone(), "n1", OutputStream::Stderr);
        sink.take(&vec![b'x'; MAX_LINE + 10]);
        assert_eq!(recorder.0.lock().unwrap()[0].2.len(), MAX_LINE + 10);
    }
}
