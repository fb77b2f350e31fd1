//! `run`: the recorder as the container's own process, for a stream-less
//! fleet run (docs/fan-out.md). No exec reaches the pod: the command runs
//! when the container starts, and its output goes back in the container's
//! termination message, which the kubelet puts in the pod's status.
//!
//! - Recorded (the default): the recording goes where `record`'s does, the
//!   container log being the recorder's own stdout (it is the container's
//!   process, so there is no holder to find) and the node's file. The
//!   output is not copied to stdout as well: that is the recording's.
//! - `--unrecorded`: no recording; the output is copied to the recorder's
//!   stdout, the container log, both streams in the order they were read
//!   (the runtime reads stdout and stderr apart, and would not keep it).
//!
//! Either way the log holds the whole output, for toolbox to read when it
//! is longer than a message ([`toolbox_recording::message`]). The message
//! is written when the command has ended, however it ended: SIGTERM (the
//! pod's lifetime running out) is passed on to the command, and what it
//! wrote until then is kept.

use std::fs::File;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;

use crate::child::SpawnFailure;
use crate::cli::RunArgs;
use crate::pipe::{self, Passthrough};
use crate::record::{self, DEFAULT_SIZE, Recorder, SinkPaths, header};
use crate::sinks::Sinks;

/// Where the kubelet reads a container's termination message from by
/// default (`terminationMessagePath`); toolbox's pods keep the default.
pub const MESSAGE_PATH: &str = "/dev/termination-log";

/// Runs `args.argv`, writes its output to `message_path`, and returns the
/// status to exit with: the command's (126 or 127 when it could not start).
pub fn run(args: &RunArgs, paths: &SinkPaths, message_path: &Path) -> i32 {
    let sinks = if args.unrecorded {
        Sinks::none()
    } else {
        let log = match own_stdout() {
            Ok(log) => log,
            Err(e) => {
                eprintln!(
                    "toolbox-recorder: the container log: {e}: not running the command unrecorded"
                );
                return 126;
            }
        };
        match record::open_sinks_with_log(&args.id, paths, log) {
            Ok(sinks) => sinks,
            Err(status) => return status,
        }
    };
    let signals = match record::catch_signals() {
        Ok(signals) => signals,
        Err(status) => return status,
    };
    let mut recorder = Recorder::new(sinks, &args.id, false).keeping_output();
    if !args.unrecorded {
        recorder.header(&header(&args.id, &args.argv, false, false, DEFAULT_SIZE));
    }
    let passthrough = if args.unrecorded {
        Passthrough::Merged
    } else {
        Passthrough::No
    };
    let status = match pipe::run(&args.argv, &mut recorder, &signals, passthrough) {
        Ok(status) => status,
        Err(SpawnFailure { status, message }) => {
            if args.unrecorded {
                eprintln!("{message}");
            }
            recorder.say(&format!("{message}\n"));
            status
        }
    };
    recorder.event("m", &format!("exit {status}"));
    if let Some(transcript) = recorder.transcript()
        && let Err(e) = write_message(message_path, &transcript.message())
    {
        eprintln!(
            "toolbox-recorder: writing the termination message {}: {e}",
            message_path.display()
        );
    }
    status
}

/// A file of fd 1, which stays open for the recorder's other writes.
fn own_stdout() -> std::io::Result<File> {
    // SAFETY: fd 1 is open for the process's whole life; the duplicate is
    // a new descriptor that this File alone owns.
    let duplicate = unsafe { libc::dup(1) };
    if duplicate < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `duplicate` was just returned by dup and is owned by no one else.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(duplicate) }))
}

fn write_message(path: &Path, message: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.write_all(message)
}
