//! The recorder's `record` against real processes, on a PTY and on pipes:
//! the output passes through unchanged, the recording holds the same output
//! in order, resizes and exit statuses are right, and a recorder killed
//! mid-session leaves whole lines only. And its `run`, as a stream-less
//! run's container process: the output in the termination message, stream
//! by stream and in order, recorded or passed through, however it ends.
//!
//! The recorder reads its fd 0 to choose a mode, so it must run in a process
//! of its own. This test binary is that process too (it has its own main,
//! `harness = false`): started with [`HELPER`] set, it calls the library's
//! `record` with the sink paths from the environment, as main does with the
//! fixed ones. The sinks are a fake /proc (whose holder's stdout is a file)
//! and a temporary sessions directory.

use std::ffi::OsString;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use expectrl::{Eof, Expect};
use serde_json::Value;
use toolbox_recorder::cli::{self, Command as Sub};
use toolbox_recorder::record::{SinkPaths, record};
use toolbox_recorder::{index, run, sys};
use toolbox_recording::message::{self, Output, Stream};

const HELPER: &str = "TOOLBOX_RECORDER_TEST_HELPER";
const PROC: &str = "TOOLBOX_RECORDER_TEST_PROC";
const SESSIONS: &str = "TOOLBOX_RECORDER_TEST_SESSIONS";
const MESSAGE: &str = "TOOLBOX_RECORDER_TEST_MESSAGE";
const ID: &str = "node.20261203T000000Z-00000000";

fn main() {
    if std::env::var_os(HELPER).is_some() {
        helper();
    }
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let tests: &[(&str, fn())] = &[
        (
            "pipes_pass_output_through_and_record_it_in_order",
            pipes_pass_output_through_and_record_it_in_order,
        ),
        (
            "big_output_is_whole_in_the_file_and_split_in_the_log",
            big_output_is_whole_in_the_file_and_split_in_the_log,
        ),
        ("exit_statuses_are_a_shells", exit_statuses_are_a_shells),
        (
            "input_is_recorded_only_when_asked",
            input_is_recorded_only_when_asked,
        ),
        (
            "a_pty_session_is_recorded_with_its_resize_and_exit",
            a_pty_session_is_recorded_with_its_resize_and_exit,
        ),
        (
            "an_outer_terminal_that_hangs_up_hangs_up_the_command",
            an_outer_terminal_that_hangs_up_hangs_up_the_command,
        ),
        (
            "a_terminal_without_a_size_starts_at_80x24_and_is_restored_at_the_end",
            a_terminal_without_a_size_starts_at_80x24_and_is_restored_at_the_end,
        ),
        (
            "a_client_gone_on_pipes_hangs_up_the_command",
            a_client_gone_on_pipes_hangs_up_the_command,
        ),
        (
            "a_killed_recorder_leaves_whole_lines",
            a_killed_recorder_leaves_whole_lines,
        ),
        ("no_log_means_no_command", no_log_means_no_command),
        ("no_file_means_the_log_only", no_file_means_the_log_only),
        (
            "run_passes_output_through_unrecorded_and_keeps_it_in_order_in_the_message",
            run_passes_output_through_unrecorded_and_keeps_it_in_order_in_the_message,
        ),
        (
            "run_records_to_its_own_stdout_and_the_file",
            run_records_to_its_own_stdout_and_the_file,
        ),
        (
            "run_of_a_command_that_cannot_start_says_why_in_the_message",
            run_of_a_command_that_cannot_start_says_why_in_the_message,
        ),
        (
            "run_ended_by_sigterm_keeps_what_was_written",
            run_ended_by_sigterm_keeps_what_was_written,
        ),
        (
            "run_of_a_long_output_gives_its_size_and_the_log_has_it_all",
            run_of_a_long_output_gives_its_size_and_the_log_has_it_all,
        ),
    ];
    let mut failed = Vec::new();
    let selected: Vec<_> = tests
        .iter()
        .filter(|(name, _)| filter.as_deref().is_none_or(|f| name.contains(f)))
        .collect();
    println!("\nrunning {} tests", selected.len());
    for (name, test) in selected {
        let passed = std::panic::catch_unwind(test).is_ok();
        println!("test {name} ... {}", if passed { "ok" } else { "FAILED" });
        if !passed {
            failed.push(*name);
        }
    }
    if !failed.is_empty() {
        println!("\nfailed: {failed:?}");
        std::process::exit(1);
    }
    println!("\ntest result: ok");
}

/// The recorder, as main runs it but with the test's sinks.
fn helper() -> ! {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let paths = SinkPaths {
        proc_root: std::env::var_os(PROC).unwrap().into(),
        sessions_dir: std::env::var_os(SESSIONS).unwrap().into(),
        // A temporary directory, not a volume.
        sessions_mounted: false,
    };
    match cli::parse(&args) {
        Ok(Sub::Record(args)) => std::process::exit(record(&args, &paths)),
        Ok(Sub::Run(args)) => {
            let message = PathBuf::from(std::env::var_os(MESSAGE).unwrap());
            std::process::exit(run::run(&args, &paths, &message))
        }
        _ => std::process::exit(2),
    }
}

/// A fake /proc and sessions directory for one test.
struct Sinks {
    root: PathBuf,
}

impl Sinks {
    fn new(name: &str) -> Sinks {
        let root =
            std::env::temp_dir().join(format!("toolbox-recorder-it-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for (pid, start) in [(100, 500), (300, 900)] {
            let dir = root.join(format!("proc/{pid}"));
            fs::create_dir_all(dir.join("fd")).unwrap();
            fs::write(dir.join("cgroup"), "0::/pod/c1\n").unwrap();
            fs::write(
                dir.join("stat"),
                format!("{pid} (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 1 1\n"),
            )
            .unwrap();
        }
        symlink("300", root.join("proc/self")).unwrap();
        fs::write(root.join("container.log"), "").unwrap();
        symlink(root.join("container.log"), root.join("proc/100/fd/1")).unwrap();
        fs::create_dir_all(root.join("sessions")).unwrap();
        Sinks { root }
    }

    fn command(&self, extra: &[&str], argv: &[&str]) -> Command {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .arg("record")
            .args(["--id", ID])
            .args(extra)
            .arg("--")
            .args(argv)
            .env(HELPER, "1")
            .env(PROC, self.root.join("proc"))
            .env(SESSIONS, self.root.join("sessions"))
            .env("TERM", "dumb")
            .env("TOOLBOX_SESSION_NODE", "node")
            .env("TOOLBOX_SESSION_USER", "dev");
        command
    }

    /// `run` with these sinks, its message going to [`Sinks::message`].
    fn run_command(&self, extra: &[&str], argv: &[&str]) -> Command {
        let command = self.command(extra, argv);
        // The same flags, under the other subcommand.
        let args: Vec<OsString> = command.get_args().skip(1).map(OsString::from).collect();
        let mut run = Command::new(command.get_program());
        run.arg("run").args(args);
        for (key, value) in command.get_envs() {
            if let Some(value) = value {
                run.env(key, value);
            }
        }
        run.env(MESSAGE, self.message_path());
        run
    }

    fn message_path(&self) -> PathBuf {
        self.root.join("termination-log")
    }

    /// The termination message, decoded.
    fn message(&self) -> Output {
        message::decode(&fs::read_to_string(self.message_path()).unwrap()).unwrap()
    }

    fn file(&self) -> PathBuf {
        self.root.join(format!("sessions/{ID}.cast"))
    }

    /// The node's file, each line parsed; panics on a line that is not whole JSON.
    fn file_lines(&self) -> Vec<Value> {
        parse_lines(&fs::read(self.file()).unwrap())
    }

    /// The container log's lines, unwrapped, after checking that each is a
    /// whole line of this session within PIPE_BUF.
    fn log_casts(&self) -> Vec<Value> {
        parse_lines(&fs::read(self.root.join("container.log")).unwrap())
            .into_iter()
            .map(|line| {
                assert_eq!(line["session"], ID);
                line["cast"].clone()
            })
            .collect()
    }
}

impl Drop for Sinks {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn parse_lines(bytes: &[u8]) -> Vec<Value> {
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "the last line is not whole"
    );
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(|line| {
            assert!(
                line.len() <= 4096 || !line.starts_with(b"{\"session\""),
                "a log line of {} bytes",
                line.len()
            );
            serde_json::from_slice(line)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(line)))
        })
        .collect()
}

/// The data of every event with `code`, joined.
fn joined(events: &[Value], code: &str) -> String {
    events[1..]
        .iter()
        .filter(|e| e[1] == code)
        .map(|e| e[2].as_str().unwrap())
        .collect()
}

/// Log events split to fit are joined back, so the log's events can be
/// compared with the file's.
fn rejoin_log(casts: &[Value]) -> Vec<Value> {
    let mut events: Vec<Value> = Vec::new();
    for cast in casts {
        match events.last_mut() {
            Some(last)
                if last.is_array()
                    && last[0] == cast[0]
                    && last[1] == cast[1]
                    && cast[1] == "o" =>
            {
                let data = last[2].as_str().unwrap().to_owned() + cast[2].as_str().unwrap();
                last[2] = Value::String(data);
            }
            _ => events.push(cast.clone()),
        }
    }
    events
}

fn pipes_pass_output_through_and_record_it_in_order() {
    let sinks = Sinks::new("pipes");
    let script = INTERLEAVED;
    let (stderr, status) = drive_interleaved(sinks.command(&[], &["sh", "-c", script]), false);
    assert_eq!(stderr, b"err1\n");
    assert_eq!(status, Some(3));

    let file = sinks.file_lines();
    let header = &file[0];
    assert_eq!(
        (
            header["version"].as_u64(),
            header["width"].as_u64(),
            header["height"].as_u64()
        ),
        (Some(2), Some(80), Some(24))
    );
    assert_eq!(header["command"], format!("sh -c {script}"));
    assert_eq!(header["env"]["TERM"], "dumb");
    assert_eq!(header["toolbox"]["session"], ID);
    assert_eq!(
        (
            header["toolbox"]["node"].as_str(),
            header["toolbox"]["user"].as_str()
        ),
        (Some("node"), Some("dev"))
    );
    assert_eq!(
        (
            header["toolbox"]["tty"].as_bool(),
            header["toolbox"]["input"].as_bool()
        ),
        (Some(false), Some(false))
    );
    assert_eq!(joined(&file, "o"), "out1\nerr1\nout2 é\n");
    assert!(
        !file
            .iter()
            .any(|e| e[2].as_str().is_some_and(|d| d.contains('\u{fffd}')))
    );
    assert_eq!(
        (&file.last().unwrap()[1], &file.last().unwrap()[2]),
        (&Value::from("m"), &Value::from("exit 3"))
    );
    let times: Vec<f64> = file[1..].iter().map(|e| e[0].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert_eq!(rejoin_log(&sinks.log_casts()), file);
}

fn big_output_is_whole_in_the_file_and_split_in_the_log() {
    let sinks = Sinks::new("big");
    let script =
        "i=0; while [ $i -lt 2000 ]; do printf '\\033[1m%s\\t\"é€\\\\\\n' $i; i=$((i+1)); done";
    let out = sinks.command(&[], &["sh", "-c", script]).output().unwrap();
    let direct = Command::new("sh").args(["-c", script]).output().unwrap();
    assert_eq!(out.stdout, direct.stdout);
    let file = sinks.file_lines();
    assert_eq!(joined(&file, "o").as_bytes(), direct.stdout.as_slice());
    let log = sinks.log_casts();
    assert!(log.len() >= file.len());
    assert_eq!(rejoin_log(&log), file);
}

fn exit_statuses_are_a_shells() {
    let sinks = Sinks::new("status");
    let not_executable = sinks.root.join("not-executable");
    fs::write(&not_executable, "#!/bin/sh\n").unwrap();
    fs::set_permissions(&not_executable, fs::Permissions::from_mode(0o644)).unwrap();
    let cases: [(&[&str], i32, &str); 4] = [
        (&["sh", "-c", "exit 3"], 3, ""),
        (
            &["no-such-command-here"],
            127,
            "toolbox-recorder: no-such-command-here: command not found\n",
        ),
        (
            &[not_executable.to_str().unwrap()],
            126,
            "permission denied\n",
        ),
        (&["sh", "-c", "kill -TERM $$"], 143, ""),
    ];
    for (argv, status, stderr) in cases {
        let _ = fs::remove_file(sinks.file());
        let out = sinks.command(&[], argv).output().unwrap();
        assert_eq!(out.status.code(), Some(status), "{argv:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.ends_with(stderr) && err.lines().count() == usize::from(!stderr.is_empty()),
            "{argv:?}: {err:?}"
        );
        let file = sinks.file_lines();
        assert!(
            joined(&file, "o").ends_with(stderr),
            "{argv:?}: the failure is recorded"
        );
        assert_eq!(file.last().unwrap()[2], format!("exit {status}"));
    }
}

fn input_is_recorded_only_when_asked() {
    for (extra, recorded) in [(&["--input"][..], "typed\n"), (&[], "")] {
        let sinks = Sinks::new("input");
        let mut child = sinks
            .command(extra, &["cat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"typed\n").unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.stdout, b"typed\n");
        assert_eq!(out.status.code(), Some(0));
        let file = sinks.file_lines();
        assert_eq!(file[0]["toolbox"]["input"], !extra.is_empty());
        assert_eq!(joined(&file, "i"), recorded);
        assert_eq!(joined(&file, "o"), "typed\n");
    }
}

fn a_pty_session_is_recorded_with_its_resize_and_exit() {
    let sinks = Sinks::new("pty");
    let mut session = expectrl::Session::spawn(sinks.command(&[], &["sh"])).unwrap();
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session.get_process_mut().set_window_size(90, 30).unwrap();
    let mut seen = Vec::new();
    let mut expect = |session: &mut expectrl::session::OsSession, what: &str| {
        let found = session
            .expect(what)
            .unwrap_or_else(|e| panic!("waiting for {what:?}: {e}"));
        seen.extend_from_slice(found.before());
        seen.extend_from_slice(&found[0]);
    };
    // The PTY expectrl makes does not echo; the recorder's copies that, so
    // the inner shell turns echo on, as a user's terminal has it.
    session.send_line("stty echo; echo echo-on").unwrap();
    expect(&mut session, "echo-on");
    session.send_line("echo hi-$((40+2))").unwrap();
    expect(&mut session, "hi-42");
    session.get_process_mut().set_window_size(100, 40).unwrap();
    session.send_line("stty size").unwrap();
    expect(&mut session, "40 100");
    session.send_line("exit 3").unwrap();
    let rest = session.expect(Eof).unwrap();
    seen.extend_from_slice(rest.before());
    seen.extend_from_slice(&rest[0]);
    let status = session.get_process().wait().unwrap();
    assert_eq!(
        status,
        expectrl::process::unix::WaitStatus::Exited(session.get_process().pid(), 3)
    );

    let file = sinks.file_lines();
    assert_eq!(file[0]["toolbox"]["tty"], true);
    let resizes: Vec<&str> = file[1..]
        .iter()
        .filter(|e| e[1] == "r")
        .map(|e| e[2].as_str().unwrap())
        .collect();
    assert_eq!(resizes.last(), Some(&"100x40"), "{file:?}");
    // What the terminal showed is what was recorded, byte for byte.
    assert_eq!(joined(&file, "o"), String::from_utf8_lossy(&seen));
    let output = joined(&file, "o");
    assert!(output.contains("echo hi-$((40+2))\r\nhi-42"), "{output:?}");
    assert!(joined(&file, "o").contains("exit 3"));
    assert_eq!(
        (&file.last().unwrap()[1], &file.last().unwrap()[2]),
        (&Value::from("m"), &Value::from("exit 3"))
    );
    assert_eq!(rejoin_log(&sinks.log_casts()), file);
}

/// Starts the recorder with a new PTY as its controlling terminal, as a
/// kubectl exec's is; returns it, the PTY's master and its slave.
fn on_own_pty(mut command: Command) -> (std::process::Child, fs::File, std::os::fd::OwnedFd) {
    let (master, slave) = sys::open_pty().unwrap();
    let kept = slave.try_clone().unwrap();
    command
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let recorder = command.spawn().unwrap();
    drop(command);
    (recorder, fs::File::from(master), kept)
}

/// Reads the master until `needle` has come.
fn read_until(master: &mut fs::File, needle: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0; 4096];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let n = master.read(&mut buf).unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

fn an_outer_terminal_that_hangs_up_hangs_up_the_command() {
    let sinks = Sinks::new("hangup");
    let (mut recorder, mut master, slave) =
        on_own_pty(sinks.command(&[], &["sh", "-c", "echo ready; exec sleep 1000"]));
    read_until(&mut master, "ready");
    drop(slave);
    // The client goes away: its end of the terminal closes.
    drop(master);
    let status = recorder.wait().unwrap();
    assert_eq!(status.code(), Some(129), "{status:?}");
    let file = sinks.file_lines();
    assert!(joined(&file, "o").contains("ready"));
    assert_eq!(file.last().unwrap()[2], "exit 129");
}

fn a_client_gone_on_pipes_hangs_up_the_command() {
    let sinks = Sinks::new("gone");
    let mut recorder = sinks
        .command(
            &[],
            &["sh", "-c", "trap 'exit 5' HUP; while :; do echo tick; done"],
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = recorder.stdout.take().unwrap();
    let mut buf = [0; 64];
    stdout.read_exact(&mut buf).unwrap();
    drop(stdout);
    let status = recorder.wait().unwrap();
    assert_eq!(status.code(), Some(5), "{status:?}");
    let file = sinks.file_lines();
    assert!(joined(&file, "o").starts_with("tick\n"));
    assert_eq!(file.last().unwrap()[2], "exit 5");
}

fn a_killed_recorder_leaves_whole_lines() {
    let sinks = Sinks::new("killed");
    let mut recorder = sinks
        .command(
            &[],
            &["sh", "-c", "while :; do echo 0123456789abcdef; done"],
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = recorder.stdout.take().unwrap();
    let mut buf = vec![0; 1 << 20];
    stdout.read_exact(&mut buf).unwrap();
    recorder.kill().unwrap();
    assert_eq!(recorder.wait().unwrap().signal(), Some(libc::SIGKILL));
    drop(stdout);
    // Every line is whole and parses, in the file and in the log; the file
    // has no exit marker, and index says it is truncated.
    let file = sinks.file_lines();
    assert!(file.len() > 2);
    assert!(file.iter().all(|e| e[1] != "m"));
    let log = sinks.log_casts();
    assert!(log.len() >= file.len() - 1);
    let entry = index::inspect(&sinks.file()).unwrap();
    assert!(
        entry.truncated && entry.exit.is_none() && entry.duration > 0.0,
        "{entry:?}"
    );
}

fn no_log_means_no_command() {
    let sinks = Sinks::new("nolog");
    fs::remove_file(sinks.root.join("proc/100/fd/1")).unwrap();
    let marker = sinks.root.join("ran");
    let out = sinks
        .command(&[], &["touch", marker.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(126));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("not running the command unrecorded") && err.lines().count() == 1,
        "{err}"
    );
    assert!(!marker.exists());
    // An id that has a recording already is refused too: it is never added to.
    fs::write(sinks.file(), "kept\n").unwrap();
    symlink(
        sinks.root.join("container.log"),
        sinks.root.join("proc/100/fd/1"),
    )
    .unwrap();
    let out = sinks
        .command(&[], &["touch", marker.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(126));
    assert!(!marker.exists());
    assert_eq!(fs::read_to_string(sinks.file()).unwrap(), "kept\n");
}

fn no_file_means_the_log_only() {
    let sinks = Sinks::new("nofile");
    fs::remove_dir_all(sinks.root.join("sessions")).unwrap();
    let out = sinks
        .command(&[], &["sh", "-c", "echo hello"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"hello\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.ends_with(": recording to the container log only\n") && err.lines().count() == 1,
        "{err}"
    );
    let log = sinks.log_casts();
    assert_eq!(joined(&log, "o"), "hello\n");
    assert_eq!(log.last().unwrap()[2], "exit 0");
    assert!(!Path::new(&sinks.root.join("sessions")).exists());
}

fn a_terminal_without_a_size_starts_at_80x24_and_is_restored_at_the_end() {
    let sinks = Sinks::new("nosize");
    let (mut recorder, mut master, slave) =
        on_own_pty(sinks.command(&[], &["sh", "-c", "echo ready; read line; stty size"]));
    let before = sys::termios(slave.as_raw_fd()).unwrap();
    read_until(&mut master, "ready");
    // The size arrives later, as a kubectl exec's does.
    sys::set_window_size(master.as_raw_fd(), (120, 50)).unwrap();
    master.write_all(b"\n").unwrap();
    read_until(&mut master, "50 120");
    assert_eq!(recorder.wait().unwrap().code(), Some(0));

    let file = sinks.file_lines();
    assert_eq!(
        (file[0]["width"].as_u64(), file[0]["height"].as_u64()),
        (Some(80), Some(24))
    );
    let resizes: Vec<&str> = file
        .iter()
        .filter(|e| e[1] == "r")
        .map(|e| e[2].as_str().unwrap())
        .collect();
    assert_eq!(resizes, ["120x50"]);
    // Raw mode is gone: the terminal is as the recorder found it.
    let after = sys::termios(slave.as_raw_fd()).unwrap();
    assert_eq!(
        (after.c_iflag, after.c_oflag, after.c_lflag, after.c_cflag),
        (
            before.c_iflag,
            before.c_oflag,
            before.c_lflag,
            before.c_cflag
        )
    );
    assert_ne!(
        before.c_lflag & libc::ICANON,
        0,
        "the terminal started cooked"
    );
}

fn run_passes_output_through_unrecorded_and_keeps_it_in_order_in_the_message() {
    let sinks = Sinks::new("run-pipes");
    let command = sinks.run_command(&["--unrecorded"], &["sh", "-c", INTERLEAVED]);
    // Both streams go to stdout, the container log, in order.
    let (stderr, status) = drive_interleaved(command, true);
    assert_eq!(stderr, b"", "nothing on stderr");
    assert_eq!(status, Some(3));
    assert_eq!(
        sinks.message(),
        Output::Whole(vec![
            (Stream::Stdout, b"out1\n".to_vec()),
            (Stream::Stderr, b"err1\n".to_vec()),
            (Stream::Stdout, "out2 é\n".as_bytes().to_vec()),
        ])
    );
    // Unrecorded: no file, and nothing but the output in the log.
    assert!(!sinks.file().exists());
    assert_eq!(fs::read(sinks.root.join("container.log")).unwrap(), b"");
}

/// Writes to stdout, stderr, then stdout again (the last line split
/// inside a UTF-8 character), each after a line of input, and exits 3.
const INTERLEAVED: &str = "printf 'out1\\n'; read x; printf 'err1\\n' >&2; read x; printf 'out2 \\303'; printf '\\251\\n'; exit 3";

/// Runs [`INTERLEAVED`] through `command`, sending each line of input
/// only once the write before it has been read, so that the order across
/// the streams is known; with `merged`, its stderr is expected on stdout.
/// Checks stdout, and returns what came on stderr and the exit code.
fn drive_interleaved(mut command: Command, merged: bool) -> (Vec<u8>, Option<i32>) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut line = [0; 5];
    stdout.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"out1\n");
    stdin.write_all(b"\n").unwrap();
    let mut err = Vec::new();
    if merged {
        stdout.read_exact(&mut line).unwrap();
        assert_eq!(&line, b"err1\n");
    } else {
        stderr.read_exact(&mut line).unwrap();
        err.extend_from_slice(&line);
    }
    stdin.write_all(b"\n").unwrap();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, "out2 é\n".as_bytes());
    stderr.read_to_end(&mut err).unwrap();
    (err, child.wait().unwrap().code())
}

fn run_records_to_its_own_stdout_and_the_file() {
    let sinks = Sinks::new("run-recorded");
    // The recorder is the container's process: its stdout is the log.
    let log = fs::File::create(sinks.root.join("own-stdout.log")).unwrap();
    let out = sinks
        .run_command(&[], &["sh", "-c", "echo hello; echo oops >&2; exit 4"])
        .stdout(log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(out.stderr, b"", "nothing but the recording is written");
    let Output::Whole(chunks) = sinks.message() else {
        panic!("too long")
    };
    let text: Vec<u8> = chunks.iter().flat_map(|(_, b)| b.clone()).collect();
    assert_eq!(text, b"hello\noops\n");
    assert!(chunks.contains(&(Stream::Stderr, b"oops\n".to_vec())));
    let file = sinks.file_lines();
    assert_eq!(file[0]["toolbox"]["session"], ID);
    assert_eq!(joined(&file, "o").len(), "hello\noops\n".len());
    assert_eq!(file.last().unwrap()[2], "exit 4");
    // The log is the recording, not the raw output; the holder's is untouched.
    let own: Vec<Value> = parse_lines(&fs::read(sinks.root.join("own-stdout.log")).unwrap())
        .into_iter()
        .map(|line| line["cast"].clone())
        .collect();
    assert_eq!(rejoin_log(&own), file);
    assert_eq!(fs::read(sinks.root.join("container.log")).unwrap(), b"");
}

fn run_of_a_command_that_cannot_start_says_why_in_the_message() {
    let sinks = Sinks::new("run-cannot-start");
    let out = sinks
        .run_command(&["--unrecorded"], &["/no/such/command"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    let Output::Whole(chunks) = sinks.message() else {
        panic!("too long")
    };
    let [(Stream::Stderr, said)] = &chunks[..] else {
        panic!("{chunks:?}")
    };
    let said = String::from_utf8_lossy(said);
    assert!(
        said.contains("/no/such/command") && said.ends_with('\n'),
        "{said}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        said,
        "said on stderr too"
    );
}

fn run_ended_by_sigterm_keeps_what_was_written() {
    let sinks = Sinks::new("run-sigterm");
    let mut child = sinks
        .run_command(
            &["--unrecorded"],
            &["sh", "-c", "echo started; exec sleep 100"],
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = [0; 8];
    child.stdout.take().unwrap().read_exact(&mut line).unwrap();
    assert_eq!(&line, b"started\n");
    // What the kubelet sends when the pod's lifetime runs out.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(128 + libc::SIGTERM));
    assert_eq!(
        sinks.message(),
        Output::Whole(vec![(Stream::Stdout, b"started\n".to_vec())])
    );
}

fn run_of_a_long_output_gives_its_size_and_the_log_has_it_all() {
    let sinks = Sinks::new("run-long");
    let log = fs::File::create(sinks.root.join("own-stdout.log")).unwrap();
    let out = sinks
        .run_command(&[], &["sh", "-c", "seq 1 20000"])
        .stdout(log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let expected: String = (1..=20000).map(|n| format!("{n}\n")).collect();
    assert_eq!(
        sinks.message(),
        Output::TooLong {
            total: expected.len() as u64
        }
    );
    let own: Vec<Value> = parse_lines(&fs::read(sinks.root.join("own-stdout.log")).unwrap())
        .into_iter()
        .map(|line| line["cast"].clone())
        .collect();
    assert_eq!(joined(&rejoin_log(&own), "o"), expected);
}
