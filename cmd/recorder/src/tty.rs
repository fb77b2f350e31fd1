//! The TTY relay: the command on a PTY of its own, as a session leader with
//! the inner PTY as its controlling terminal, and the outer terminal (the
//! exec's) in raw mode, so that the inner line discipline alone echoes and
//! edits. One poll loop watches the outer fd 0, the PTY master and the
//! signal pipe:
//!
//! - keys from fd 0 go to the master (held back while the master is full,
//!   so a paste never blocks the loop), recorded as `"i"` with `--input`;
//! - output from the master goes to fd 1 and is recorded as `"o"`;
//! - SIGWINCH copies the outer size to the PTY and records `"r"`;
//! - SIGTERM and SIGINT go on to the command's process group;
//! - when the outer side hangs up (SIGHUP, EIO or HUP on fd 0, an error on
//!   fd 1: the client is gone), the master is closed and the command hung
//!   up ([`crate::child::hang_up`]);
//! - when the command exits, what the master still holds is read, then the
//!   loop ends.

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};

use crate::CHUNK;
use crate::cast::Utf8Carry;
use crate::child::{self, SpawnFailure};
use crate::record::Recorder;
use crate::sys::{self, RawMode, SignalPipe};
use toolbox_recording::message::Stream;

const STDIN: RawFd = 0;
const STDOUT: RawFd = 1;

/// Runs `argv` on a new PTY and relays until it ends. `size` is the outer
/// terminal's size when the header was written (None: not known yet).
pub fn run(
    argv: &[OsString],
    recorder: &mut Recorder,
    signals: &SignalPipe,
    size: Option<(u16, u16)>,
) -> Result<i32, SpawnFailure> {
    let program = argv[0].to_string_lossy().into_owned();
    let (master, mut child, saved) = spawn(argv).map_err(|e| child::spawn_failure(&program, &e))?;
    // The terminal is restored when this guard drops, however run returns.
    let raw = RawMode::enter(STDIN, saved).ok();
    let mut relay = Relay {
        master: Some(master),
        pending_input: Vec::new(),
        buf: vec![0; CHUNK],
        output: Utf8Carry::default(),
        input: Utf8Carry::default(),
        size,
        outer_gone: false,
    };
    let status = relay.run(&mut child, recorder, signals);
    recorder.end_of_output(&mut relay.output);
    drop(raw);
    Ok(child::exit_code(status))
}

/// Opens the PTY and starts the command on its slave; returns the master,
/// the child and the outer terminal's settings (for raw mode's restore).
fn spawn(argv: &[OsString]) -> io::Result<(OwnedFd, Child, libc::termios)> {
    let saved = sys::termios(STDIN)?;
    let (master, slave) = sys::open_pty()?;
    // The command starts with the settings and size the user's terminal has.
    sys::set_termios(slave.as_raw_fd(), &saved)?;
    if let Some(size) = sys::window_size(STDIN) {
        sys::set_window_size(master.as_raw_fd(), size)?;
    }
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::from(slave.try_clone()?))
        .stdout(Stdio::from(slave.try_clone()?))
        .stderr(Stdio::from(slave));
    // SAFETY: setsid and ioctl are async-signal-safe, as code between fork
    // and exec must be.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn()?;
    // The Command held the slave's copies: dropped here, the slave closes
    // when the command's last process does, and the master then reads EIO.
    drop(command);
    sys::set_nonblocking(master.as_raw_fd())?;
    Ok((master, child, saved))
}

struct Relay {
    /// None once closed: at EIO (every holder of the slave closed it) or at a hang-up.
    master: Option<OwnedFd>,
    pending_input: Vec<u8>,
    buf: Vec<u8>,
    output: Utf8Carry,
    input: Utf8Carry,
    size: Option<(u16, u16)>,
    outer_gone: bool,
}

impl Relay {
    fn run(
        &mut self,
        child: &mut Child,
        recorder: &mut Recorder,
        signals: &SignalPipe,
    ) -> ExitStatus {
        loop {
            let master = self.master.as_ref().map(|m| m.as_raw_fd());
            if master.is_none() {
                self.pending_input.clear();
            }
            let mut fds = vec![sys::pollfd(signals.fd(), libc::POLLIN)];
            if self.pending_input.is_empty() {
                fds.push(sys::pollfd(STDIN, libc::POLLIN));
            }
            if let Some(master) = master {
                let mut events = libc::POLLIN;
                if !self.pending_input.is_empty() {
                    events |= libc::POLLOUT;
                }
                fds.push(sys::pollfd(master, events));
            }
            if sys::poll(&mut fds, -1).is_err() {
                self.outer_gone = true;
            }
            // Signals first, whatever poll reported for the pipe: a signal
            // that woke poll has its byte written by the time poll returns,
            // but poll may have looked at the pipe before. A resize is then
            // applied before the keys typed after it reach the command.
            for signal in signals.take() {
                match signal {
                    libc::SIGCHLD => {
                        if let Ok(Some(status)) = child.try_wait() {
                            self.drain(recorder);
                            return status;
                        }
                    }
                    libc::SIGWINCH => self.resize(recorder),
                    libc::SIGHUP => self.outer_gone = true,
                    other => sys::kill_group(child.id() as libc::pid_t, other),
                }
            }
            for fd in &fds {
                if fd.revents == 0 || fd.fd == signals.fd() {
                    continue;
                }
                if fd.fd == STDIN {
                    self.read_keys(recorder);
                } else if Some(fd.fd) == master {
                    if fd.revents & libc::POLLOUT != 0 {
                        self.write_keys();
                    }
                    if fd.revents & !libc::POLLOUT != 0 {
                        self.read_output(recorder);
                    }
                }
            }
            if self.outer_gone {
                // Closing the master hangs up the PTY: its foreground gets
                // SIGHUP from the kernel, the rest from hang_up.
                self.master = None;
                return child::hang_up(child, signals);
            }
        }
    }

    fn read_keys(&mut self, recorder: &mut Recorder) {
        match sys::read(STDIN, &mut self.buf) {
            // A terminal in raw mode reads 0 or EIO only when it hung up.
            Ok(0) | Err(_) => self.outer_gone = true,
            Ok(n) => {
                recorder.input(&mut self.input, &self.buf[..n]);
                self.pending_input.extend_from_slice(&self.buf[..n]);
                self.write_keys();
            }
        }
    }

    fn write_keys(&mut self) {
        let Some(master) = &self.master else {
            self.pending_input.clear();
            return;
        };
        match sys::write(master.as_raw_fd(), &self.pending_input) {
            Ok(n) => {
                self.pending_input.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => self.pending_input.clear(),
        }
    }

    /// Reads what the master holds, up to one chunk (a PTY gives at most
    /// 4 KiB a read, so several reads are joined into one event), relays and
    /// records it. Returns false when nothing was there.
    fn read_output(&mut self, recorder: &mut Recorder) -> bool {
        let Some(master) = self.master.as_ref().map(|m| m.as_raw_fd()) else {
            return false;
        };
        let mut filled = 0;
        let mut closed = false;
        while filled < self.buf.len() {
            match sys::read(master, &mut self.buf[filled..]) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // EIO: every process holding the slave has closed it.
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        if filled > 0 {
            recorder.output(Stream::Stdout, &mut self.output, &self.buf[..filled]);
            if !self.outer_gone && sys::write_all(STDOUT, &self.buf[..filled]).is_err() {
                self.outer_gone = true;
            }
        }
        if closed {
            self.master = None;
        }
        filled > 0
    }

    /// After the command's exit: what it wrote last is still in the PTY.
    /// Polling with no timeout flushes the kernel's buffer first, so this
    /// reads everything written before the exit, and waits for nothing.
    fn drain(&mut self, recorder: &mut Recorder) {
        while let Some(master) = self.master.as_ref().map(|m| m.as_raw_fd()) {
            let mut fds = [sys::pollfd(master, libc::POLLIN)];
            if !matches!(sys::poll(&mut fds, 0), Ok(1..)) || !self.read_output(recorder) {
                break;
            }
        }
    }

    fn resize(&mut self, recorder: &mut Recorder) {
        let Some(size) = sys::window_size(STDIN) else {
            return;
        };
        if Some(size) == self.size {
            return;
        }
        if let Some(master) = &self.master {
            let _ = sys::set_window_size(master.as_raw_fd(), size);
        }
        self.size = Some(size);
        recorder.resize(size);
    }
}
