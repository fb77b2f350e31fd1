//! `send` and `receive`, the node's end of toolbox cp, as main runs them
//! but in this directory tree (`Root::Here`) and with the sinks of a fake
//! /proc: what one sends the other receives whole, each transfer is
//! recorded with every file's size and sha256, and a cut or refused stream
//! leaves nothing under the final name.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use serde_json::Value;
use toolbox_recorder::cli::{ReceiveArgs, SendArgs};
use toolbox_recorder::record::SinkPaths;
use toolbox_recorder::transfer::{Root, receive, send};

/// A fake /proc whose holder's stdout is a file, and a sessions directory.
struct Sinks {
    root: tempfile::TempDir,
}

impl Sinks {
    fn new() -> Sinks {
        let root = tempfile::tempdir().unwrap();
        for (pid, start) in [(100, 500), (300, 900)] {
            let dir = root.path().join(format!("proc/{pid}"));
            fs::create_dir_all(dir.join("fd")).unwrap();
            fs::write(dir.join("cgroup"), "0::/pod/c1\n").unwrap();
            fs::write(
                dir.join("stat"),
                format!("{pid} (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 1 1\n"),
            )
            .unwrap();
        }
        symlink("300", root.path().join("proc/self")).unwrap();
        fs::write(root.path().join("container.log"), "").unwrap();
        symlink(
            root.path().join("container.log"),
            root.path().join("proc/100/fd/1"),
        )
        .unwrap();
        fs::create_dir_all(root.path().join("sessions")).unwrap();
        Sinks { root }
    }

    fn paths(&self) -> SinkPaths {
        SinkPaths {
            proc_root: self.root.path().join("proc"),
            sessions_dir: self.root.path().join("sessions"),
            sessions_mounted: false,
        }
    }

    /// The node's recording of session `id`: its header and events.
    fn recording(&self, id: &str) -> Vec<Value> {
        let text =
            fs::read_to_string(self.root.path().join(format!("sessions/{id}.cast"))).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn output(&self, id: &str) -> String {
        self.recording(id)[1..]
            .iter()
            .filter(|e| e[1] == "o")
            .map(|e| e[2].as_str().unwrap().to_string())
            .collect()
    }

    fn exit(&self, id: &str) -> Value {
        self.recording(id).last().unwrap()[2].clone()
    }
}

fn send_args(id: &str, paths: &[&Path]) -> SendArgs {
    SendArgs {
        id: id.into(),
        paths: paths
            .iter()
            .map(|p| OsString::from(p.as_os_str()))
            .collect(),
    }
}

fn receive_args(id: &str, dest: &Path, force: bool) -> ReceiveArgs {
    ReceiveArgs {
        id: id.into(),
        force,
        no_target_directory: false,
        dest: dest.as_os_str().into(),
    }
}

fn sample_tree(dir: &Path) -> PathBuf {
    let top = dir.join("crash");
    fs::create_dir_all(top.join("sub")).unwrap();
    fs::write(top.join("core"), vec![1u8; 100_000]).unwrap();
    fs::write(top.join("empty"), b"").unwrap();
    fs::write(top.join("sub/tool"), b"#!/bin/sh\n").unwrap();
    fs::set_permissions(top.join("sub/tool"), fs::Permissions::from_mode(0o750)).unwrap();
    symlink("../core", top.join("sub/core")).unwrap();
    top
}

#[test]
fn what_send_writes_receive_puts_in_place_and_both_are_recorded() {
    let sinks = Sinks::new();
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let top = sample_tree(from.path());
    let mut stream = Vec::new();
    let status = send(
        &send_args("n.send", &[&top]),
        &sinks.paths(),
        Root::Here,
        &mut stream,
    );
    assert_eq!(status, 0);

    let mut receipt = Vec::new();
    let status = receive(
        &receive_args("n.receive", to.path(), false),
        &sinks.paths(),
        Root::Here,
        &stream[..],
        &mut receipt,
    );
    assert_eq!(status, 0);
    assert_eq!(
        fs::read(to.path().join("crash/core")).unwrap(),
        vec![1u8; 100_000]
    );
    assert_eq!(
        fs::read_link(to.path().join("crash/sub/core")).unwrap(),
        Path::new("../core")
    );
    let mode = fs::metadata(to.path().join("crash/sub/tool"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o750);
    let receipt: Value = serde_json::from_slice(&receipt).unwrap();
    assert_eq!(receipt["files"].as_array().unwrap().len(), 3);

    let sha = toolbox_transfer::digest::sha256_hex(&vec![1u8; 100_000]);
    let sent = sinks.output("n.send");
    assert!(
        sent.contains(&format!(
            "sent {}/core (100000 bytes, sha256 {sha})",
            top.display()
        )),
        "{sent}"
    );
    let received = sinks.output("n.receive");
    assert!(
        received.contains(&format!(
            "received {}/crash/core (100000 bytes, sha256 {sha})",
            to.path().display()
        )),
        "{received}"
    );
    assert_eq!(sinks.exit("n.send"), "exit 0");
    assert_eq!(sinks.exit("n.receive"), "exit 0");
    let header = &sinks.recording("n.send")[0];
    assert_eq!(
        header["command"].as_str().unwrap(),
        format!("toolbox-recorder send {}", top.display())
    );
    let log = fs::read_to_string(sinks.root.path().join("container.log")).unwrap();
    assert!(log.contains("n.send") && log.contains("n.receive"), "{log}");
}

#[test]
fn a_cut_stream_is_received_into_nothing_and_recorded_as_failed() {
    let sinks = Sinks::new();
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let file = from.path().join("fix.sh");
    fs::write(&file, vec![b'x'; 50_000]).unwrap();
    let mut stream = Vec::new();
    assert_eq!(
        send(
            &send_args("n.s", &[&file]),
            &sinks.paths(),
            Root::Here,
            &mut stream
        ),
        0
    );
    let dest = to.path().join("fix.sh");
    let status = receive(
        &receive_args("n.r", &dest, false),
        &sinks.paths(),
        Root::Here,
        &stream[..30_000],
        Vec::new(),
    );
    assert_eq!(status, 1);
    assert!(
        fs::read_dir(to.path()).unwrap().next().is_none(),
        "nothing is left"
    );
    assert!(
        sinks.output("n.r").contains("error: the stream was cut"),
        "{}",
        sinks.output("n.r")
    );
    assert_eq!(sinks.exit("n.r"), "exit 1");
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let sinks = Sinks::new();
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let file = from.path().join("kubelet.conf");
    fs::write(&file, b"new").unwrap();
    let mut stream = Vec::new();
    assert_eq!(
        send(
            &send_args("n.s", &[&file]),
            &sinks.paths(),
            Root::Here,
            &mut stream
        ),
        0
    );
    let dest = to.path().join("kubelet.conf");
    fs::write(&dest, b"old").unwrap();
    let refused = receive(
        &receive_args("n.r1", &dest, false),
        &sinks.paths(),
        Root::Here,
        &stream[..],
        Vec::new(),
    );
    assert_eq!(refused, 1);
    assert_eq!(fs::read(&dest).unwrap(), b"old");
    assert!(
        sinks
            .output("n.r1")
            .contains("overwrites nothing without --force")
    );
    let forced = receive(
        &receive_args("n.r2", &dest, true),
        &sinks.paths(),
        Root::Here,
        &stream[..],
        Vec::new(),
    );
    assert_eq!(forced, 0);
    assert_eq!(fs::read(&dest).unwrap(), b"new");
}

#[test]
fn a_path_that_does_not_exist_is_one_recorded_line() {
    let sinks = Sinks::new();
    let from = tempfile::tempdir().unwrap();
    let missing = from.path().join("no-such-file");
    let mut stream = Vec::new();
    let status = send(
        &send_args("n.s", &[&missing]),
        &sinks.paths(),
        Root::Here,
        &mut stream,
    );
    assert_eq!(status, 1);
    assert!(stream.is_empty(), "nothing was sent");
    assert_eq!(
        sinks.output("n.s"),
        format!("error: {}: No such file or directory\n", missing.display())
    );
}

#[test]
fn without_the_container_log_nothing_is_sent() {
    let sinks = Sinks::new();
    fs::remove_file(sinks.root.path().join("proc/100/fd/1")).unwrap();
    let from = tempfile::tempdir().unwrap();
    let file = from.path().join("f");
    fs::write(&file, b"x").unwrap();
    let mut stream = Vec::new();
    assert_eq!(
        send(
            &send_args("n.s", &[&file]),
            &sinks.paths(),
            Root::Here,
            &mut stream
        ),
        126
    );
    assert!(stream.is_empty());
}
