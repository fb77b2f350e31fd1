//! `send` and `receive`: toolbox cp's two ends on the node (docs/cp.md),
//! with the stream itself in pkg/transfer, shared with toolbox.
//!
//! Each transfer is recorded as a session of its own, to the same two
//! sinks as `record` (the container log, the node's sessions directory),
//! before anything is read: its header names the paths, each file sent or
//! received is an output line with its size and sha256, and the exit
//! marker ends it. `toolbox sessions list NODE` lists it; without the
//! container log nothing is sent or received, as with `record`.
//!
//! Paths are the node's own: once the sinks are open the process enters
//! the mount namespace of the node's init (the pod shares the host's PID
//! namespace and is privileged, as node-shell's), so `/` is the node's and
//! symlinks resolve as on the node.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use toolbox_transfer::dest::{Existing, place};
use toolbox_transfer::send::Sent;
use toolbox_transfer::{Placement, ReceiveOptions};

use crate::cli::{ReceiveArgs, SendArgs};
use crate::record::{self, DEFAULT_SIZE, Recorder, SinkPaths};
use crate::sinks;

/// Where the paths are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The node's: the mount namespace of PID 1, entered first.
    Node,
    /// This process's own (tests).
    Here,
}

/// Enters the mount namespace of the node's init, as `nsenter --mount
/// --target 1` does: the process's root and working directory become the
/// node's `/`.
pub fn enter_node(proc_root: &Path) -> io::Result<()> {
    if !sinks::init_is_the_nodes(proc_root) {
        return Err(io::Error::other(
            "PID 1 is not the node's init: the pod must share the host's PID namespace",
        ));
    }
    let ns = File::open(proc_root.join("1/ns/mnt"))?;
    // SAFETY: setns on a namespace file this process opened; the recorder
    // is single-threaded, as a mount namespace change requires.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNS) } != 0 {
        return Err(io::Error::last_os_error());
    }
    std::env::set_current_dir("/")
}

/// A transfer's recording, and its end.
struct Recorded {
    recorder: Recorder,
}

impl Recorded {
    fn open(id: &str, argv: Vec<OsString>, paths: &SinkPaths) -> Result<Recorded, i32> {
        let sinks = record::open_sinks(id, paths)?;
        let mut recorder = Recorder::new(sinks, id, false);
        recorder.header(&record::header(id, &argv, false, false, DEFAULT_SIZE));
        Ok(Recorded { recorder })
    }

    fn line(&mut self, text: &str) {
        self.recorder.event("o", &format!("{text}\n"));
    }

    fn fail(mut self, message: impl std::fmt::Display) -> i32 {
        eprintln!("toolbox-recorder: {message}");
        self.line(&format!("error: {message}"));
        self.end(1)
    }

    fn end(mut self, status: i32) -> i32 {
        self.recorder.event("m", &format!("exit {status}"));
        status
    }
}

fn argv(sub: &str, flags: &[&str], operands: &[OsString]) -> Vec<OsString> {
    ["toolbox-recorder", sub]
        .iter()
        .chain(flags)
        .map(OsString::from)
        .chain(operands.iter().cloned())
        .collect()
}

/// The node path of `name`, a path in the stream, sent from `sources`.
fn source_path(sources: &[PathBuf], name: &str) -> String {
    let top = name.split('/').next().unwrap_or(name);
    sources
        .iter()
        .find(|s| s.file_name().is_some_and(|n| n.to_string_lossy() == top))
        .and_then(|s| s.parent())
        .map_or_else(
            || name.to_string(),
            |parent| parent.join(name).display().to_string(),
        )
}

/// `send`: the paths as the stream on `out`; its first line on stderr says
/// how many bytes will follow (toolbox's progress bar), and a skipped
/// special file is a warning there.
pub fn send(args: &SendArgs, paths: &SinkPaths, root: Root, out: impl Write) -> i32 {
    let mut recorded = match Recorded::open(&args.id, argv("send", &[], &args.paths), paths) {
        Ok(recorded) => recorded,
        Err(status) => return status,
    };
    if root == Root::Node
        && let Err(e) = enter_node(&paths.proc_root)
    {
        return recorded.fail(format_args!("cannot enter the node's mount namespace: {e}"));
    }
    let sources: Vec<PathBuf> = args.paths.iter().map(PathBuf::from).collect();
    match toolbox_transfer::total_size(&sources) {
        Ok(total) => eprintln!("sending {total} bytes"),
        Err(e) => return recorded.fail(e),
    }
    // Each file is recorded as it is sent: a cut stream's recording still
    // names what left the node.
    let sent = toolbox_transfer::send(&sources, out, &mut |sent| match sent {
        Sent::File(file) => recorded.line(&format!(
            "sent {} ({} bytes, sha256 {})",
            source_path(&sources, &file.path),
            file.size,
            file.sha256
        )),
        Sent::Skipped(skipped) => {
            let line = format!(
                "skipped {}: {}",
                source_path(&sources, &skipped.path),
                skipped.kind
            );
            eprintln!("warning: {line}");
            recorded.line(&line);
        }
    });
    match sent {
        Ok(_) => recorded.end(0),
        Err(e) => recorded.fail(e),
    }
}

/// `receive`: the stream from `input` into DEST; once every file is in
/// place, what was written (the manifest as computed here) on `out`.
pub fn receive(
    args: &ReceiveArgs,
    paths: &SinkPaths,
    root: Root,
    input: impl Read,
    mut out: impl Write,
) -> i32 {
    let mut flags = Vec::new();
    if args.force {
        flags.push("--force");
    }
    if args.no_target_directory {
        flags.push("--no-target-directory");
    }
    let argv = argv("receive", &flags, std::slice::from_ref(&args.dest));
    let mut recorded = match Recorded::open(&args.id, argv, paths) {
        Ok(recorded) => recorded,
        Err(status) => return status,
    };
    if root == Root::Node
        && let Err(e) = enter_node(&paths.proc_root)
    {
        return recorded.fail(format_args!("cannot enter the node's mount namespace: {e}"));
    }
    let dest = PathBuf::from(&args.dest);
    let placed = Existing::of(&dest)
        .map_err(|e| format!("{}: {e}", dest.display()))
        .and_then(|existing| {
            place(&dest, existing, 1, args.no_target_directory).map_err(|e| e.to_string())
        });
    let placement = match placed {
        Ok(dest) => Placement {
            dest,
            force: args.force,
        },
        Err(e) => return recorded.fail(e),
    };
    if let Err(e) = placement.dest.check(&[], args.force) {
        return recorded.fail(e);
    }
    let options = ReceiveOptions {
        force: args.force,
        keep_owners: false,
    };
    let received = match toolbox_transfer::receive(input, &placement, options) {
        Ok(received) => received,
        Err(e) => return recorded.fail(e),
    };
    for file in &received.manifest.files {
        let (top, rest) = file.path.split_once('/').unwrap_or((&file.path, ""));
        let mut at = placement.dest.final_path(top.as_ref());
        if !rest.is_empty() {
            at.push(rest);
        }
        recorded.line(&format!(
            "received {} ({} bytes, sha256 {})",
            at.display(),
            file.size,
            file.sha256
        ));
    }
    let mut receipt = received.manifest.to_json();
    receipt.push('\n');
    if let Err(e) = out.write_all(receipt.as_bytes()).and_then(|()| out.flush()) {
        return recorded.fail(format_args!("writing what was received: {e}"));
    }
    recorded.end(0)
}
