//! The pipe relay, for a session without a terminal: the command's stdout
//! and stderr are pipes that one poll loop copies to the recorder's own, in
//! the order they arrive, each recorded as `"o"` (with its own UTF-8 carry).
//! Its stdin is the recorder's own, untouched, unless input is recorded:
//! then it is a pipe too, fed from fd 0 and recorded as `"i"`.
//!
//! The command runs in a process group of its own, so that SIGTERM, SIGINT
//! and SIGHUP reach all of it. The client is gone when fd 1 or fd 2 reports
//! an error (its reader closed): the command is then hung up. When the
//! command exits, what its pipes hold is read, without waiting for a
//! background process that may keep them open.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};

use toolbox_recording::message;

use crate::CHUNK;
use crate::cast::Utf8Carry;
use crate::child::{self, SpawnFailure};
use crate::record::Recorder;
use crate::sys::{self, SignalPipe};

/// One of the command's output streams and where it is copied to.
struct Stream {
    which: message::Stream,
    from: Option<OwnedFd>,
    /// The recorder's own stream it is copied to, if any.
    to: Option<RawFd>,
    carry: Utf8Carry,
}

/// Where the command's output is also copied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passthrough {
    /// Stdout to the recorder's stdout, stderr to its stderr: a session's
    /// exec, whose client reads the two streams.
    Separate,
    /// Both to the recorder's stdout, in the order they were read: an
    /// unrecorded `run`, whose stdout is the container log. The runtime
    /// reads a container's two streams apart, and would not keep their
    /// order in the log.
    Merged,
    /// Nowhere: a recorded `run`, whose stdout is the container log that
    /// the recording goes to.
    No,
}

/// Runs `argv` on pipes and relays until it ends.
pub fn run(
    argv: &[OsString],
    recorder: &mut Recorder,
    signals: &SignalPipe,
    passthrough: Passthrough,
) -> Result<i32, SpawnFailure> {
    let to = |fd| match passthrough {
        Passthrough::Separate => Some(fd),
        Passthrough::Merged => Some(1),
        Passthrough::No => None,
    };
    let program = argv[0].to_string_lossy().into_owned();
    let input = recorder.records_input();
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(if input {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| child::spawn_failure(&program, &e))?;
    let mut streams = [
        Stream {
            which: message::Stream::Stdout,
            from: child.stdout.take().map(OwnedFd::from),
            to: to(1),
            carry: Utf8Carry::default(),
        },
        Stream {
            which: message::Stream::Stderr,
            from: child.stderr.take().map(OwnedFd::from),
            to: to(2),
            carry: Utf8Carry::default(),
        },
    ];
    let child_stdin = child.stdin.take().map(OwnedFd::from);
    for fd in streams
        .iter()
        .filter_map(|s| s.from.as_ref())
        .chain(child_stdin.as_ref())
    {
        let _ = sys::set_nonblocking(fd.as_raw_fd());
    }
    // Both ends of each copy hold 1 MiB: the command writes on while the
    // recorder writes the sinks, and each read takes a big chunk.
    for stream in &streams {
        if let Some(to) = stream.to {
            sys::grow_pipe(to);
        }
        if let Some(from) = &stream.from {
            sys::grow_pipe(from.as_raw_fd());
        }
    }
    let mut relay = Relay {
        buf: vec![0; CHUNK],
        child_stdin,
        stdin_open: input,
        pending_input: Vec::new(),
        input: Utf8Carry::default(),
        outer_gone: false,
    };
    let status = relay.run(&mut child, &mut streams, recorder, signals);
    for stream in &mut streams {
        recorder.end_of_output(&mut stream.carry);
    }
    Ok(child::exit_code(status))
}

struct Relay {
    buf: Vec<u8>,
    child_stdin: Option<OwnedFd>,
    /// Whether fd 0 is still read (only with --input, until its end).
    stdin_open: bool,
    pending_input: Vec<u8>,
    input: Utf8Carry,
    outer_gone: bool,
}

impl Relay {
    fn run(
        &mut self,
        child: &mut Child,
        streams: &mut [Stream; 2],
        recorder: &mut Recorder,
        signals: &SignalPipe,
    ) -> ExitStatus {
        let mut exited = None;
        loop {
            let open: Vec<RawFd> = streams
                .iter()
                .filter_map(|s| s.from.as_ref().map(|f| f.as_raw_fd()))
                .collect();
            if let Some(status) = exited
                && open.is_empty()
            {
                return status;
            }
            let child_stdin = self.child_stdin.as_ref().map(|f| f.as_raw_fd());
            // An error on fd 1 or 2 (events 0 still reports it) is the client gone.
            let mut fds = vec![
                sys::pollfd(signals.fd(), libc::POLLIN),
                sys::pollfd(1, 0),
                sys::pollfd(2, 0),
            ];
            fds.extend(open.iter().map(|&fd| sys::pollfd(fd, libc::POLLIN)));
            if let Some(to_child) = child_stdin {
                if !self.pending_input.is_empty() {
                    fds.push(sys::pollfd(to_child, libc::POLLOUT));
                } else if self.stdin_open {
                    fds.push(sys::pollfd(0, libc::POLLIN));
                }
            }
            // After the exit, only what is already there is read.
            let timeout = if exited.is_some() { 0 } else { -1 };
            match sys::poll(&mut fds, timeout) {
                Ok(0) => {
                    if let Some(status) = exited {
                        return status;
                    }
                }
                Ok(_) => {}
                Err(_) => self.outer_gone = true,
            }
            // Signals first, whatever poll reported for their pipe (see tty.rs).
            for signal in signals.take() {
                match signal {
                    libc::SIGCHLD => {
                        if let Ok(Some(status)) = child.try_wait() {
                            exited = Some(status);
                        }
                    }
                    libc::SIGWINCH => {}
                    other => sys::kill_group(child.id() as libc::pid_t, other),
                }
            }
            for fd in &fds {
                if fd.revents == 0 || fd.fd == signals.fd() {
                    continue;
                }
                match fd.fd {
                    1 | 2 => self.outer_gone = true,
                    0 => self.read_input(recorder),
                    fd if Some(fd) == child_stdin => self.write_input(),
                    fd => {
                        if let Some(stream) = streams
                            .iter_mut()
                            .find(|s| s.from.as_ref().map(|f| f.as_raw_fd()) == Some(fd))
                        {
                            self.copy(stream, recorder);
                        }
                    }
                }
            }
            if self.outer_gone {
                return exited.unwrap_or_else(|| child::hang_up(child, signals));
            }
        }
    }

    fn copy(&mut self, stream: &mut Stream, recorder: &mut Recorder) {
        let Some(from) = &stream.from else {
            return;
        };
        match sys::read(from.as_raw_fd(), &mut self.buf) {
            Ok(0) => stream.from = None,
            Ok(n) => {
                recorder.output(stream.which, &mut stream.carry, &self.buf[..n]);
                if let Some(to) = stream.to
                    && sys::write_all(to, &self.buf[..n]).is_err()
                {
                    self.outer_gone = true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => stream.from = None,
        }
    }

    fn read_input(&mut self, recorder: &mut Recorder) {
        match sys::read(0, &mut self.buf) {
            Ok(n @ 1..) => {
                recorder.input(&mut self.input, &self.buf[..n]);
                self.pending_input.extend_from_slice(&self.buf[..n]);
                self.write_input();
            }
            // The end of the input is the end of the command's.
            _ => {
                self.stdin_open = false;
                self.child_stdin = None;
            }
        }
    }

    fn write_input(&mut self) {
        let Some(to_child) = &self.child_stdin else {
            self.pending_input.clear();
            return;
        };
        match sys::write(to_child.as_raw_fd(), &self.pending_input) {
            Ok(n) => {
                self.pending_input.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            // The command closed its stdin: what it does not read is dropped.
            Err(_) => {
                self.pending_input.clear();
                self.child_stdin = None;
                self.stdin_open = false;
            }
        }
        if self.pending_input.is_empty() && !self.stdin_open {
            self.child_stdin = None;
        }
    }
}
