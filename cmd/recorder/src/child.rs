//! The recorded command as a process: what a failed start means as an exit
//! status (127 not found, 126 not executable, as a shell says), its status
//! as the recorder's own (a signal N gives 128+N), and hanging it up when
//! the client is gone.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};

use crate::sys::{self, SignalPipe};

/// A command that could not be started: its exit status and its one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnFailure {
    pub status: i32,
    pub message: String,
}

pub fn spawn_failure(program: &str, err: &io::Error) -> SpawnFailure {
    let (status, what) = match err.kind() {
        io::ErrorKind::NotFound => (127, "command not found".to_owned()),
        io::ErrorKind::PermissionDenied => (126, "permission denied".to_owned()),
        _ => (126, err.to_string()),
    };
    SpawnFailure {
        status,
        message: format!("toolbox-recorder: {program}: {what}"),
    }
}

/// A status as a shell gives it.
pub fn exit_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => 1,
    }
}

/// Waits for `child` to exit, or returns None when `timeout_ms` passes
/// first; woken by SIGCHLD through the signal pipe.
pub fn wait_until(child: &mut Child, signals: &SignalPipe, timeout_ms: i32) -> Option<ExitStatus> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms as u64);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return None;
        }
        let mut fds = [sys::pollfd(signals.fd(), libc::POLLIN)];
        let _ = sys::poll(&mut fds, left.as_millis() as i32);
        signals.take();
    }
}

/// How long a hung-up command has to end before it is killed.
const HANGUP_GRACE_MS: i32 = 5_000;

/// The client is gone: the command's process group gets SIGHUP (and
/// SIGCONT, so a stopped job sees it), as a terminal that hangs up sends;
/// what ignores it is killed after a grace period. Returns its status.
pub fn hang_up(child: &mut Child, signals: &SignalPipe) -> ExitStatus {
    let pgid = child.id() as libc::pid_t;
    sys::kill_group(pgid, libc::SIGHUP);
    sys::kill_group(pgid, libc::SIGCONT);
    if let Some(status) = wait_until(child, signals, HANGUP_GRACE_MS) {
        return status;
    }
    sys::kill_group(pgid, libc::SIGKILL);
    match child.wait() {
        Ok(status) => status,
        Err(_) => ExitStatus::from_raw(libc::SIGKILL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_to_start_are_127_and_126_as_in_a_shell() {
        let missing = spawn_failure("nope", &io::Error::from(io::ErrorKind::NotFound));
        assert_eq!(missing.status, 127);
        assert_eq!(missing.message, "toolbox-recorder: nope: command not found");
        assert_eq!(
            spawn_failure("/etc", &io::Error::from_raw_os_error(libc::EACCES)).status,
            126
        );
        assert_eq!(
            spawn_failure("x", &io::Error::from_raw_os_error(libc::ENOEXEC)).status,
            126
        );
    }

    #[test]
    fn a_signal_is_128_plus_its_number() {
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGKILL)), 137);
    }
}
