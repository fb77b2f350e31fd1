//! `record`: open the sinks, prune, write the header, run the command through
//! a relay, and close the recording with its exit marker.
//!
//! The order matters: without the container log nothing runs (a session
//! must never run unrecorded), retention runs before this session's file
//! exists (so it can never be what is pruned), and signals are caught before
//! the terminal's size is read (so a resize in between is not lost).

use std::ffi::OsString;
use std::fs::File;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use toolbox_recording::message::{Stream, Transcript};

use crate::cast::{Encoder, Header, Identity, Utf8Carry};
use crate::child::SpawnFailure;
use crate::cli::RecordArgs;
use crate::sinks::{self, FileError, Sinks};
use crate::sys::{self, SignalPipe};
use crate::{pipe, retention, tty};

/// Where the sinks are. `main` passes only [`SinkPaths::fixed`]; tests pass
/// temporary directories.
#[derive(Debug, Clone)]
pub struct SinkPaths {
    /// The /proc in which the holder is found.
    pub proc_root: PathBuf,
    /// The node's sessions directory, as mounted in the pod; when it is
    /// not, the node's own, through PID 1's root in `proc_root`
    /// ([`sinks::sessions_dir`]).
    pub sessions_dir: PathBuf,
    /// Whether `sessions_dir` counts only when a volume is mounted there
    /// (always, but in tests of temporary directories).
    pub sessions_mounted: bool,
}

impl SinkPaths {
    pub fn fixed() -> SinkPaths {
        SinkPaths {
            proc_root: crate::PROC_ROOT.into(),
            sessions_dir: crate::SESSIONS_DIR.into(),
            sessions_mounted: true,
        }
    }
}

/// The size a recording says when the terminal has none (yet), and the
/// size of every session without one.
pub const DEFAULT_SIZE: (u16, u16) = (80, 24);

/// The signals the relays handle: a resize, the command's end, and the
/// ways the recorder is told to stop or that its client is gone.
pub const SIGNALS: &[libc::c_int] = &[
    libc::SIGWINCH,
    libc::SIGCHLD,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGINT,
];

/// The relays' [`SIGNALS`] caught, or the status to exit with (126, told
/// in one line) when they cannot be.
pub fn catch_signals() -> Result<SignalPipe, i32> {
    SignalPipe::install(SIGNALS).map_err(|e| {
        eprintln!("toolbox-recorder: catching signals: {e}");
        126
    })
}

/// Runs and records `args.argv` and returns the status to exit with.
pub fn record(args: &RecordArgs, paths: &SinkPaths) -> i32 {
    let sinks = match open_sinks(&args.id, paths) {
        Ok(sinks) => sinks,
        Err(status) => return status,
    };
    let signals = match catch_signals() {
        Ok(signals) => signals,
        Err(status) => return status,
    };
    let tty = sys::isatty(0);
    let size = if tty { sys::window_size(0) } else { None };
    let header = header(
        &args.id,
        &args.argv,
        args.input,
        tty,
        size.unwrap_or(DEFAULT_SIZE),
    );
    let mut recorder = Recorder::new(sinks, &args.id, args.input);
    recorder.header(&header);

    let outcome = if tty {
        tty::run(&args.argv, &mut recorder, &signals, size)
    } else {
        pipe::run(
            &args.argv,
            &mut recorder,
            &signals,
            pipe::Passthrough::Separate,
        )
    };
    let status = match outcome {
        Ok(status) => status,
        Err(SpawnFailure { status, message }) => {
            eprintln!("{message}");
            let line = if tty { "\r\n" } else { "\n" };
            recorder.say(&format!("{message}{line}"));
            status
        }
    };
    recorder.event("m", &format!("exit {status}"));
    status
}

/// Opens both sinks of session `id` (retention runs first), or says why
/// not and gives the status to exit with: without the container log
/// nothing runs. Also the transfers' ([`crate::transfer`]).
pub(crate) fn open_sinks(id: &str, paths: &SinkPaths) -> Result<Sinks, i32> {
    let log = match sinks::find_holder(&paths.proc_root)
        .and_then(|pid| sinks::open_log(&paths.proc_root, pid))
    {
        Ok(log) => log,
        Err(e) => {
            eprintln!(
                "toolbox-recorder: the container log: {e}: not running the command unrecorded"
            );
            return Err(126);
        }
    };
    open_sinks_with_log(id, paths, log)
}

/// Both sinks of session `id`, the container log being `log`: the holder's
/// stdout ([`open_sinks`]), or the recorder's own when it is the
/// container's process (`run`).
pub(crate) fn open_sinks_with_log(id: &str, paths: &SinkPaths, log: File) -> Result<Sinks, i32> {
    let file = match sinks::sessions_dir(
        &paths.proc_root,
        &paths.sessions_dir,
        paths.sessions_mounted,
    ) {
        Ok(dir) => {
            retention::prune(&dir, SystemTime::now(), retention::Limits::default());
            sinks::create_file(&dir, id)
        }
        Err(e) => Err(e),
    };
    let file = match file {
        Ok(file) => Some(file),
        Err(FileError::Exists(path)) => {
            eprintln!(
                "toolbox-recorder: {}: a recording of this session id exists, and is never overwritten",
                path.display()
            );
            return Err(126);
        }
        Err(FileError::Io(path, e)) => {
            eprintln!(
                "toolbox-recorder: {}: {e}: recording to the container log only",
                path.display()
            );
            None
        }
    };
    Ok(Sinks::new(log, file))
}

/// A recording's header: session `id` running `argv`, named by the pod's
/// downward-API variables.
pub(crate) fn header(
    id: &str,
    argv: &[OsString],
    input: bool,
    tty: bool,
    (width, height): (u16, u16),
) -> Header {
    let var = |name: &str| std::env::var(name).ok();
    Header {
        version: 2,
        width,
        height,
        timestamp: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        command: join(argv),
        env: var("TERM")
            .map(|term| ("TERM".to_owned(), term))
            .into_iter()
            .collect(),
        toolbox: Identity {
            session: id.to_owned(),
            node: var("TOOLBOX_SESSION_NODE"),
            pod: var("TOOLBOX_SESSION_POD"),
            namespace: var("TOOLBOX_SESSION_NAMESPACE"),
            user: var("TOOLBOX_SESSION_USER"),
            tty,
            input,
        },
    }
}

fn join(argv: &[OsString]) -> String {
    argv.iter()
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the relays hand what they copy to: it stamps, encodes and writes
/// every event to both sinks as it happens.
pub struct Recorder {
    sinks: Sinks,
    encoder: Encoder,
    start: Instant,
    input: bool,
    /// The output kept for a termination message (`run`), by stream.
    transcript: Option<Transcript>,
}

impl Recorder {
    pub fn new(sinks: Sinks, session: &str, input: bool) -> Recorder {
        Recorder {
            sinks,
            encoder: Encoder::new(session),
            start: Instant::now(),
            input,
            transcript: None,
        }
    }

    /// The same, also keeping the output, stream by stream, for
    /// [`Recorder::transcript`].
    pub fn keeping_output(mut self) -> Recorder {
        self.transcript = Some(Transcript::default());
        self
    }

    /// The output kept, when [`Recorder::keeping_output`].
    pub fn transcript(&self) -> Option<&Transcript> {
        self.transcript.as_ref()
    }

    /// A line the recorder itself says about the command (it could not
    /// start): recorded as output, and kept as the command's stderr.
    pub(crate) fn say(&mut self, line: &str) {
        if let Some(transcript) = &mut self.transcript {
            transcript.push(Stream::Stderr, line.as_bytes());
        }
        self.event("o", line);
    }

    pub(crate) fn header(&mut self, header: &Header) {
        let encoded = self.encoder.header(header);
        self.sinks.write(encoded);
    }

    pub(crate) fn event(&mut self, code: &str, data: &str) {
        let micros = self.start.elapsed().as_micros() as u64;
        let encoded = self.encoder.event(micros, code, data);
        self.sinks.write(encoded);
    }

    pub fn records_input(&self) -> bool {
        self.input
    }

    /// Output of the command, as read from `stream`.
    pub fn output(&mut self, stream: Stream, carry: &mut Utf8Carry, bytes: &[u8]) {
        if let Some(transcript) = &mut self.transcript {
            transcript.push(stream, bytes);
        }
        let text = carry.decode(bytes);
        if !text.is_empty() {
            self.event("o", &text);
        }
    }

    /// What was typed; kept only when the session records input.
    pub fn input(&mut self, carry: &mut Utf8Carry, bytes: &[u8]) {
        if self.input {
            let text = carry.decode(bytes);
            if !text.is_empty() {
                self.event("i", &text);
            }
        }
    }

    /// The end of a stream: a character it left unfinished.
    pub fn end_of_output(&mut self, carry: &mut Utf8Carry) {
        if let Some(text) = carry.finish() {
            self.event("o", &text);
        }
    }

    pub fn resize(&mut self, (cols, rows): (u16, u16)) {
        self.event("r", &format!("{cols}x{rows}"));
    }
}
