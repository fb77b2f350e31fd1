//! toolbox (or make, kubectl, a shell) on a pseudo-terminal, through
//! expectrl: what a test of a prompt, a picker or an interactive shell types
//! and reads. expectrl blocks, so tests call these inside
//! `tokio::task::spawn_blocking`.

use std::process::Command as StdCommand;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect};

/// A program running on a pseudo-terminal of its own.
pub type PtySession = expectrl::session::OsSession;

/// Starts `cmd` on a new pseudo-terminal; each `expect` then waits at most
/// `timeout`.
pub fn spawn_on_pty(cmd: StdCommand, timeout: Duration) -> PtySession {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut session = expectrl::Session::spawn(cmd)
        .unwrap_or_else(|e| panic!("spawning {program} on a pty: {e}"));
    session.set_expect_timeout(Some(timeout));
    session
}

/// Types `exit_line` (`exit`, `exit 5`) into the session's shell and returns
/// toolbox's own exit status once the session has ended.
pub fn exit_pty_session(mut session: PtySession, exit_line: &str) -> WaitStatus {
    session.send_line(exit_line).unwrap();
    wait_for_pty_end(&mut session)
}

/// Waits for the program to end by itself and returns its exit status.
pub fn wait_for_pty_end(session: &mut PtySession) -> WaitStatus {
    session.expect(Eof).expect("the session to end");
    session.get_process().wait().expect("the exit status")
}
