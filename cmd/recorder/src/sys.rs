//! The raw system calls the relays need, each wrapped once: reads and writes
//! that retry on EINTR, poll, PTY pairs, termios (raw mode as a guard that
//! restores the terminal when dropped), window sizes and a self-pipe for
//! signals, so that the relays' poll loops see signals as readable bytes.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// `read(2)`, retried on EINTR.
pub fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// `write(2)`, retried on EINTR; may write less than `buf`.
pub fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    loop {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Writes all of `buf` to a blocking descriptor.
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match write(fd, buf)? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

/// `poll(2)` with a timeout in milliseconds (-1: none); EINTR counts as
/// nothing ready, since a signal's byte is then waiting in the signal pipe.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> io::Result<usize> {
    // SAFETY: fds is a valid slice of pollfd.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if n >= 0 {
        return Ok(n as usize);
    }
    let err = io::Error::last_os_error();
    if err.kind() == io::ErrorKind::Interrupted {
        for fd in fds.iter_mut() {
            fd.revents = 0;
        }
        return Ok(0);
    }
    Err(err)
}

pub fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor the caller owns.
    unsafe {
        let flags = check(libc::fcntl(fd, libc::F_GETFL))?;
        check(libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK))?;
    }
    Ok(())
}

/// How much a pipe the recorder writes to may hold: 1 MiB, the default
/// `fs.pipe-max-size`, so an unprivileged process may ask for it too.
pub const PIPE_SIZE: libc::c_int = 1 << 20;

/// Lets the pipe `fd` hold [`PIPE_SIZE`], when it is a pipe: two slow readers
/// (the container log's and the exec stream's) then drain at the same time
/// instead of by turns, with the data in the kernel, where a SIGKILL of the
/// recorder cannot lose it. Anything else is left as it is.
pub fn grow_pipe(fd: RawFd) {
    // SAFETY: F_SETPIPE_SZ has no memory effects; it fails on a non-pipe.
    unsafe {
        libc::fcntl(fd, libc::F_SETPIPE_SZ, PIPE_SIZE);
    }
}

pub fn isatty(fd: RawFd) -> bool {
    // SAFETY: isatty only reads the descriptor's state.
    unsafe { libc::isatty(fd) == 1 }
}

/// A terminal's size as (columns, rows); None when it is not a terminal or
/// its size is not known yet (0x0, as a kubectl exec's is before the client
/// sends it).
pub fn window_size(fd: RawFd) -> Option<(u16, u16)> {
    // SAFETY: TIOCGWINSZ fills a winsize.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0 && size.ws_row > 0).then_some((size.ws_col, size.ws_row))
}

pub fn set_window_size(fd: RawFd, (cols, rows): (u16, u16)) -> io::Result<()> {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize.
    check(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &size) })?;
    Ok(())
}

pub fn termios(fd: RawFd) -> io::Result<libc::termios> {
    // SAFETY: tcgetattr fills a termios.
    let mut termios: libc::termios = unsafe { std::mem::zeroed() };
    check(unsafe { libc::tcgetattr(fd, &mut termios) })?;
    Ok(termios)
}

pub fn set_termios(fd: RawFd, termios: &libc::termios) -> io::Result<()> {
    // SAFETY: tcsetattr reads a termios.
    check(unsafe { libc::tcsetattr(fd, libc::TCSADRAIN, termios) })?;
    Ok(())
}

/// The outer terminal in raw mode while this lives: keys go to the inner
/// PTY as they are, and its line discipline does the echoing. Dropping it
/// restores the terminal, on every way out (return, `?`, panic).
pub struct RawMode {
    fd: RawFd,
    saved: libc::termios,
}

impl RawMode {
    pub fn enter(fd: RawFd, saved: libc::termios) -> io::Result<RawMode> {
        let mut raw = saved;
        // SAFETY: cfmakeraw edits the termios in place.
        unsafe { libc::cfmakeraw(&mut raw) };
        set_termios(fd, &raw)?;
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // A terminal that hung up cannot be restored, and needs not be.
        let _ = set_termios(self.fd, &self.saved);
    }
}

/// A new PTY pair (master, slave), both close-on-exec.
pub fn open_pty() -> io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: plain libc calls on the descriptors opened here; ptsname_r
    // writes at most name.len() bytes.
    unsafe {
        let master = check(libc::posix_openpt(
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        ))?;
        let master = OwnedFd::from_raw_fd(master);
        check(libc::grantpt(master.as_raw_fd()))?;
        check(libc::unlockpt(master.as_raw_fd()))?;
        let mut name = [0 as libc::c_char; 128];
        let err = libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len());
        if err != 0 {
            return Err(io::Error::from_raw_os_error(err));
        }
        let slave = check(libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        ))?;
        Ok((master, OwnedFd::from_raw_fd(slave)))
    }
}

/// The write end of the signal pipe, for the handler (which may only make
/// async-signal-safe calls: one `write(2)`).
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);
/// Set by the handler after it writes its byte, so that [`SignalPipe::take`]
/// reads the pipe only when there is something in it: the relays call it on
/// every turn of their loops, and a big output has thousands.
static SIGNAL_PENDING: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(signal: libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: errno is thread-local; write(2) is async-signal-safe. A
        // full pipe drops the byte, which is fine: the loop reads the
        // state (child status, window size) again anyway.
        unsafe {
            let errno = *libc::__errno_location();
            let byte = signal as u8;
            libc::write(fd, (&byte as *const u8).cast(), 1);
            *libc::__errno_location() = errno;
        }
        SIGNAL_PENDING.store(true, Ordering::Release);
    }
}

/// Signals turned into bytes on a pipe that the relays poll.
pub struct SignalPipe {
    read: OwnedFd,
    _write: OwnedFd,
}

impl SignalPipe {
    /// Catches `signals` from now on. One per process: the handler writes
    /// to the last pipe installed.
    pub fn install(signals: &[libc::c_int]) -> io::Result<SignalPipe> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two descriptors, owned from here on.
        check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) })?;
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        SIGNAL_PIPE.store(write.as_raw_fd(), Ordering::Relaxed);
        for &signal in signals {
            // SAFETY: a handler that only writes one byte; SA_RESTART keeps
            // blocking writes to the outer side going.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART | libc::SA_NOCLDSTOP;
                libc::sigemptyset(&mut action.sa_mask);
                check(libc::sigaction(signal, &action, std::ptr::null_mut()))?;
            }
        }
        Ok(SignalPipe {
            read,
            _write: write,
        })
    }

    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// The signals that arrived since the last call, in order.
    pub fn take(&self) -> Vec<libc::c_int> {
        let mut signals = Vec::new();
        // The handler interrupts this thread, the only one: its byte and
        // the flag are both there or both not, as seen from here.
        if !SIGNAL_PENDING.swap(false, Ordering::Acquire) {
            return signals;
        }
        let mut buf = [0u8; 64];
        while let Ok(n @ 1..) = read(self.fd(), &mut buf) {
            signals.extend(buf[..n].iter().map(|&b| b as libc::c_int));
        }
        signals
    }
}

/// `kill(2)` of a process group; a group already gone is not an error here.
pub fn kill_group(pgid: libc::pid_t, signal: libc::c_int) {
    // SAFETY: kill has no memory effects.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// `flock(2)`; `Ok(false)` when LOCK_NB found it held.
pub fn flock(fd: RawFd, operation: libc::c_int) -> io::Result<bool> {
    // SAFETY: flock has no memory effects.
    match check(unsafe { libc::flock(fd, operation) }) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(false),
        Err(e) => Err(e),
    }
}
