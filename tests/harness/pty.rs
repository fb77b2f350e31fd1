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

/// Runs `cmd` on a pseudo-terminal to its end (each wait at most
/// `timeout`), requiring a line that matches the regex `shown` while it
/// runs, as a progress line: its exit status, and the screen from that
/// line to the end. It blocks: call it inside `spawn_blocking`, or through
/// [`run_showing`].
pub fn run_on_pty_showing(cmd: StdCommand, timeout: Duration, shown: &str) -> (WaitStatus, String) {
    let mut session = spawn_on_pty(cmd, timeout);
    let found = session
        .expect(expectrl::Regex(shown))
        .unwrap_or_else(|e| panic!("a line matching {shown:?} while the run goes on: {e}"));
    let first = String::from_utf8_lossy(found.get(0).unwrap_or_default()).into_owned();
    let rest = session.expect(Eof).expect("the run to end");
    let screen = format!("{first}{}", String::from_utf8_lossy(rest.as_bytes()));
    (session.get_process().wait().expect("exit status"), screen)
}

/// [`run_on_pty_showing`] from async code.
pub async fn run_showing(cmd: StdCommand, timeout: Duration, shown: &str) -> (WaitStatus, String) {
    let shown = shown.to_string();
    tokio::task::spawn_blocking(move || run_on_pty_showing(cmd, timeout, &shown))
        .await
        .expect("the pty's thread")
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
