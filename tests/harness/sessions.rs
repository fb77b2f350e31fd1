//! A toolbox session that a test breaks or watches mid-way: started as a
//! process whose stdout and stderr the test reads as they come
//! ([`SessionInProgress`]), ended by a silent link or by itself, and the
//! checks on what a finished session printed (`-v`'s steps, an image pull
//! failure).

use std::process::Command as StdCommand;
use std::time::Duration;

use crate::{FaultProxy, stderr_of, wait_with_timeout};

/// Asserts that toolbox reported an image pull failure the way a user should
/// see it: exit 4, the kubelet's reason, a hint, and within seconds.
pub fn assert_image_pull_failure(out: &std::process::Output, took: Duration) {
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let stderr = stderr_of(out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("ErrImagePull") || stderr.contains("ImagePullBackOff"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--image-pull-secret"),
        "with a hint: {stderr}"
    );
}

/// A toolbox session that a test breaks mid-way (a restart, a signal): it has
/// printed its first line when [`start_session`] returns.
pub struct SessionInProgress {
    child: std::process::Child,
    /// Until [`SessionInProgress::wait_for_stdout`] reads it on a thread.
    stdout: Option<std::process::ChildStdout>,
    /// stderr's lines as they come, once [`SessionInProgress::wait_for_stderr`]
    /// started reading them, and what was read so far.
    stderr_lines: Option<std::sync::mpsc::Receiver<String>>,
    stderr_read: String,
    /// stdout's lines as they come, once [`SessionInProgress::wait_for_stdout`]
    /// started reading them, and what was read so far.
    stdout_lines: Option<std::sync::mpsc::Receiver<String>>,
    stdout_read: String,
}

/// A thread that sends `from`'s lines as they come.
fn line_reader(from: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Reads `lines` into `read` until one contains `needle`; panics after
/// `timeout`, naming `stream` and what was read.
fn wait_for_line(
    lines: &std::sync::mpsc::Receiver<String>,
    read: &mut String,
    needle: &str,
    timeout: Duration,
    stream: &str,
) -> String {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                read.push_str(&line);
                read.push('\n');
                if line.contains(needle) {
                    return line;
                }
            }
            Err(_) => panic!(
                "no line of {stream} with {needle:?} within {timeout:?}; {stream} so far:\n{read}"
            ),
        }
    }
}

/// How soon a session must end once its link went silent
/// (docs/node-shell.md): a quarter of `kubectl exec`'s 61 s.
pub const SILENT_LINK_TARGET: Duration = Duration::from_secs(15);

/// How a [`SessionInProgress`] ended.
#[derive(Debug)]
pub struct SessionEnd {
    pub status: std::process::ExitStatus,
    /// What the command printed after its first line (with what
    /// [`SessionInProgress::wait_for_stdout`] read).
    pub rest: String,
    pub stderr: String,
}

/// Starts `cmd` (toolbox, with its command) with `stdin`, and returns once
/// its first line of output, `first_line`, has arrived. A piped stdin stays
/// open until the session has ended.
pub fn start_session(
    cmd: StdCommand,
    stdin: std::process::Stdio,
    first_line: &str,
) -> SessionInProgress {
    use std::io::Read;
    let mut session = spawn_session(cmd, stdin);
    let mut first = vec![0u8; first_line.len() + 1];
    session
        .stdout
        .as_mut()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("the command's first output");
    assert_eq!(String::from_utf8_lossy(&first), format!("{first_line}\n"));
    session
}

/// Starts `cmd` (toolbox, with its command) with `stdin`, at once.
pub fn spawn_session(mut cmd: StdCommand, stdin: std::process::Stdio) -> SessionInProgress {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting toolbox");
    let stdout = child.stdout.take();
    SessionInProgress {
        child,
        stdout,
        stderr_lines: None,
        stderr_read: String::new(),
        stdout_lines: None,
        stdout_read: String::new(),
    }
}

impl SessionInProgress {
    /// Waits for toolbox to exit (killing it after `timeout`) and collects the rest.
    /// Waits until a line of toolbox's stderr contains `needle` and returns
    /// it; panics after `timeout`. What it read stays part of
    /// [`SessionEnd::stderr`].
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) -> String {
        let lines = self
            .stderr_lines
            .get_or_insert_with(|| line_reader(self.child.stderr.take().expect("stderr")));
        wait_for_line(lines, &mut self.stderr_read, needle, timeout, "stderr")
    }

    /// Waits until a line of toolbox's stdout contains `needle` and returns
    /// it; panics after `timeout`. What it read stays part of
    /// [`SessionEnd::rest`].
    pub fn wait_for_stdout(&mut self, needle: &str, timeout: Duration) -> String {
        let lines = self
            .stdout_lines
            .get_or_insert_with(|| line_reader(self.stdout.take().expect("stdout")));
        wait_for_line(lines, &mut self.stdout_read, needle, timeout, "stdout")
    }

    /// The PID of toolbox, for a signal.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Silences `proxy` under this session, waits at most
    /// [`SILENT_LINK_TARGET`] for the stderr line with `ended` (a `-v` step),
    /// lets the link come back, and returns how the session ended.
    pub fn end_by_silence(mut self, proxy: &FaultProxy, ended: &str) -> SessionEnd {
        proxy.go_silent();
        let silent_at = std::time::Instant::now();
        self.wait_for_stderr(ended, SILENT_LINK_TARGET);
        eprintln!(
            "the silent link was noticed after {:?}",
            silent_at.elapsed()
        );
        proxy.restore();
        self.end(Duration::from_secs(60))
    }

    /// Reads toolbox's stdout until a line contains `needle`, then closes
    /// it, as `| head` does once it has what it wants; `after` runs once it
    /// is closed (more output for toolbox to find no reader for), and the
    /// session's end is waited for as [`SessionInProgress::end`] does.
    pub fn end_by_closing_stdout(
        mut self,
        needle: &str,
        after: impl FnOnce(),
        timeout: Duration,
    ) -> SessionEnd {
        use std::io::BufRead;
        let stdout = self.stdout.take().expect("stdout, not read before");
        let needle = needle.to_string();
        let (found, seen) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut read = String::new();
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                read.push_str(&line);
                read.push('\n');
                if line.contains(&needle) {
                    break;
                }
            }
            // The reader is dropped here: the pipe's read end closes.
            let _ = found.send(read);
        });
        let read = seen
            .recv_timeout(timeout)
            .unwrap_or_else(|_| panic!("no line of stdout within {timeout:?}"));
        after();
        let mut end = self.end(timeout);
        end.rest = read + &end.rest;
        end
    }

    pub fn end(mut self, timeout: Duration) -> SessionEnd {
        use std::io::Read;
        let status = wait_with_timeout(&mut self.child, timeout);
        let mut rest = std::mem::take(&mut self.stdout_read);
        match self.stdout_lines.take() {
            // The reader ends at EOF, once toolbox has exited.
            Some(lines) => {
                for line in lines {
                    rest.push_str(&line);
                    rest.push('\n');
                }
            }
            None => {
                if let Some(mut out) = self.stdout.take() {
                    out.read_to_string(&mut rest).expect("stdout");
                }
            }
        }
        let mut stderr = std::mem::take(&mut self.stderr_read);
        match self.stderr_lines.take() {
            // The reader ends at EOF, once toolbox has exited.
            Some(lines) => {
                for line in lines {
                    stderr.push_str(&line);
                    stderr.push('\n');
                }
            }
            None => {
                if let Some(mut err) = self.child.stderr.take() {
                    err.read_to_string(&mut stderr).expect("stderr");
                }
            }
        }
        SessionEnd {
            status,
            rest,
            stderr,
        }
    }
}

/// Asserts that `-v` printed every step of a one-command session, in order
/// of time: `step: WHAT at N ms` lines.
pub fn assert_session_steps(stderr: &str) {
    let steps: Vec<(&str, f64)> = stderr
        .lines()
        .filter_map(|line| line.split_once("step: ")?.1.rsplit_once(" at "))
        .map(|(name, time)| {
            let ms = time.trim_end_matches(" ms").parse().expect("milliseconds");
            (name, ms)
        })
        .collect();
    let names: Vec<&str> = steps.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "connected",
            "identity and node known",
            "pod created",
            "container started",
            "exec started",
            "first output",
            "command ended",
            "pod deleted"
        ],
        "{stderr}"
    );
    assert!(
        steps.windows(2).all(|pair| pair[0].1 <= pair[1].1),
        "in order of time: {steps:?}"
    );
}
