//! The signals that end a session early. Once installed they no longer kill
//! the process, so that the pod can be deleted first.
//!
//! SIGPIPE is one of them when the reader of toolbox's output has gone (`|
//! head`, `| grep -m1`). Rust ignores it, so a write would only fail and a
//! session or a followed log would go on for no one; caught, it ends the
//! session as the others do, quietly, with the pod deleted. A SIGPIPE from
//! a connection the other end closed (a write to a cut link's socket) is
//! not toolbox's to stop for: that connection's own error tells it.

use std::fmt;

/// A signal that asked toolbox to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
    Hangup,
    /// The reader of stdout (or stderr) has gone.
    Pipe,
}

impl Signal {
    /// The shell's convention: 128 plus the signal's number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Hangup => 129,
            Signal::Interrupt => 130,
            Signal::Pipe => 141,
            Signal::Terminate => 143,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
            Signal::Pipe => "SIGPIPE",
        })
    }
}

/// SIGINT, SIGTERM, SIGHUP and SIGPIPE, caught for as long as this value
/// lives.
pub struct Signals {
    #[cfg(unix)]
    streams: [(Signal, tokio::signal::unix::Signal); 4],
}

impl Signals {
    pub fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                streams: [
                    (Signal::Interrupt, signal(SignalKind::interrupt())?),
                    (Signal::Terminate, signal(SignalKind::terminate())?),
                    (Signal::Hangup, signal(SignalKind::hangup())?),
                    (Signal::Pipe, signal(SignalKind::pipe())?),
                ],
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// Resolves with the next signal to arrive.
    pub async fn recv(&mut self) -> Signal {
        #[cfg(unix)]
        {
            let [(a, sa), (b, sb), (c, sc), (d, sd)] = &mut self.streams;
            loop {
                tokio::select! {
                    _ = sa.recv() => return *a,
                    _ = sb.recv() => return *b,
                    _ = sc.recv() => return *c,
                    _ = sd.recv() => if output_reader_gone() {
                        return *d;
                    },
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Signal::Interrupt
        }
    }

    /// A signal that has already arrived, without waiting.
    pub fn pending(&mut self) -> Option<Signal> {
        use futures::FutureExt;
        self.recv().now_or_never()
    }
}

/// Whether stdout or stderr is a pipe (or socket) whose reader has gone:
/// poll(2) says so with POLLERR or POLLHUP, and a terminal or a file never.
#[cfg(unix)]
fn output_reader_gone() -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let (stdout, stderr) = (std::io::stdout(), std::io::stderr());
    let mut fds = [
        PollFd::new(&stdout, PollFlags::OUT),
        PollFd::new(&stderr, PollFlags::OUT),
    ];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    poll(&mut fds, Some(&now)).is_ok()
        && fds
            .iter()
            .any(|fd| fd.revents().intersects(PollFlags::ERR | PollFlags::HUP))
}
