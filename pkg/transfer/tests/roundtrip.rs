//! Both ends together: trees sent and received whole, and every way a
//! stream can go wrong leaving nothing under a final name.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use toolbox_transfer::dest::{Existing, place};
use toolbox_transfer::digest::sha256_hex;
use toolbox_transfer::{
    Dest, Placement, ReceiveOptions, TransferError, receive, receive_to_writer, send,
};

fn tree(root: &Path) -> PathBuf {
    let top = root.join("crash");
    fs::create_dir_all(top.join("sub/deeper")).unwrap();
    fs::write(top.join("core.1"), vec![7u8; 300_000]).unwrap();
    fs::write(top.join("empty"), b"").unwrap();
    fs::write(top.join("sub/run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
    fs::write(top.join("sub/deeper/zeros"), vec![0u8; 600_000]).unwrap();
    symlink("../core.1", top.join("sub/link")).unwrap();
    symlink("/nowhere/at/all", top.join("dangling")).unwrap();
    fs::set_permissions(top.join("sub/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(top.join("core.1"), fs::Permissions::from_mode(0o600)).unwrap();
    fs::set_permissions(top.join("sub"), fs::Permissions::from_mode(0o750)).unwrap();
    for path in [
        "core.1",
        "empty",
        "sub/run.sh",
        "sub/deeper/zeros",
        "sub/deeper",
        "sub",
        "",
    ] {
        let time = filetime::FileTime::from_unix_time(1_700_000_000 + path.len() as i64, 0);
        filetime::set_file_times(top.join(path), time, time).unwrap();
    }
    top
}

fn stream_of(sources: &[PathBuf]) -> Vec<u8> {
    let mut stream = Vec::new();
    send(sources, &mut stream, &mut |_| {}).unwrap();
    stream
}

fn into(dir: &Path) -> Placement {
    Placement {
        dest: Dest::Into(dir.to_path_buf()),
        force: false,
    }
}

/// Everything under `dir`, but a staging directory left behind would show.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        out.push(entry.unwrap().file_name().to_string_lossy().into_owned());
    }
    out.sort();
    out
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (ma, mb) = (
        fs::symlink_metadata(a).unwrap(),
        fs::symlink_metadata(b).unwrap(),
    );
    assert_eq!(ma.mode(), mb.mode(), "{}", b.display());
    if ma.file_type().is_symlink() {
        assert_eq!(fs::read_link(a).unwrap(), fs::read_link(b).unwrap());
        return;
    }
    assert_eq!(ma.mtime(), mb.mtime(), "mtime of {}", b.display());
    if ma.is_file() {
        assert_eq!(
            sha256_hex(&fs::read(a).unwrap()),
            sha256_hex(&fs::read(b).unwrap())
        );
        return;
    }
    assert_eq!(listing(a), listing(b), "{}", b.display());
    for name in listing(a) {
        assert_same_tree(&a.join(&name), &b.join(&name));
    }
}

#[test]
fn a_tree_arrives_whole_with_modes_times_and_symlinks() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let top = tree(from.path());
    let stream = stream_of(std::slice::from_ref(&top));
    let received = receive(&stream[..], &into(to.path()), ReceiveOptions::default()).unwrap();
    assert_eq!(received.placed, [to.path().join("crash")]);
    assert_same_tree(&top, &to.path().join("crash"));
    assert_eq!(
        listing(to.path()),
        ["crash"],
        "no staging directory is left"
    );
    let paths: Vec<&str> = received
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        [
            "crash/core.1",
            "crash/empty",
            "crash/sub/deeper/zeros",
            "crash/sub/run.sh"
        ]
    );
    // The file of zeros is written as a hole.
    let zeros = fs::metadata(to.path().join("crash/sub/deeper/zeros")).unwrap();
    assert_eq!(zeros.len(), 600_000);
    assert!(
        zeros.blocks() * 512 < 600_000,
        "sparse: {} blocks",
        zeros.blocks()
    );
}

#[test]
fn a_file_lands_as_the_named_path_or_into_a_directory() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let file = from.path().join("syslog");
    fs::write(&file, b"a log line\n").unwrap();
    let stream = stream_of(std::slice::from_ref(&file));
    let renamed = to.path().join("copy.log");
    let dest = place(&renamed, Existing::of(&renamed).unwrap(), 1, false).unwrap();
    receive(
        &stream[..],
        &Placement { dest, force: false },
        ReceiveOptions::default(),
    )
    .unwrap();
    assert_eq!(fs::read(&renamed).unwrap(), b"a log line\n");
    receive(&stream[..], &into(to.path()), ReceiveOptions::default()).unwrap();
    assert_eq!(fs::read(to.path().join("syslog")).unwrap(), b"a log line\n");
    assert_eq!(listing(to.path()), ["copy.log", "syslog"]);
}

#[test]
fn nothing_is_overwritten_without_force_and_force_replaces_or_merges() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let top = tree(from.path());
    let stream = stream_of(std::slice::from_ref(&top));
    fs::create_dir(to.path().join("crash")).unwrap();
    fs::write(to.path().join("crash/core.1"), b"old").unwrap();
    fs::write(to.path().join("crash/mine"), b"kept").unwrap();
    let err = receive(&stream[..], &into(to.path()), ReceiveOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("exists: toolbox cp overwrites nothing without --force"),
        "{err}"
    );
    assert_eq!(fs::read(to.path().join("crash/core.1")).unwrap(), b"old");
    let forced = Placement {
        force: true,
        ..into(to.path())
    };
    receive(&stream[..], &forced, ReceiveOptions::default()).unwrap();
    assert_eq!(
        fs::read(to.path().join("crash/core.1")).unwrap(),
        vec![7u8; 300_000]
    );
    assert_eq!(
        fs::read(to.path().join("crash/mine")).unwrap(),
        b"kept",
        "merged"
    );
    assert_eq!(listing(to.path()), ["crash"]);
}

#[test]
fn a_cut_stream_leaves_nothing_under_any_final_name() {
    let from = tempfile::tempdir().unwrap();
    let top = tree(from.path());
    let stream = stream_of(std::slice::from_ref(&top));
    for cut in [
        0,
        100,
        512,
        1024,
        2048,
        150_000,
        stream.len() - 600,
        stream.len() - 10,
    ] {
        let to = tempfile::tempdir().unwrap();
        let err = receive(&stream[..cut], &into(to.path()), ReceiveOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                TransferError::Stream(_)
                    | TransferError::NoManifest
                    | TransferError::BadManifest(_)
            ),
            "cut at {cut}: {err}"
        );
        assert!(
            listing(to.path()).is_empty(),
            "cut at {cut}: {:?}",
            listing(to.path())
        );
    }
}

#[test]
fn a_byte_changed_in_transit_is_found_and_nothing_is_placed() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let file = from.path().join("data");
    fs::write(&file, vec![b'a'; 10_000]).unwrap();
    let mut stream = stream_of(std::slice::from_ref(&file));
    let at = stream.iter().position(|&b| b == b'a').unwrap() + 5000;
    stream[at] = b'b';
    let err = receive(&stream[..], &into(to.path()), ReceiveOptions::default()).unwrap_err();
    assert!(matches!(err, TransferError::Mismatch(_)), "{err}");
    assert!(err.to_string().contains("is not what was read"), "{err}");
    assert!(listing(to.path()).is_empty());
}

/// A tar made by hand with `entries`: (path, symlink target or file body).
fn crafted(entries: &[(&str, Result<&str, &[u8]>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, what) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        match what {
            Ok(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder.append_link(&mut header, path, target).unwrap();
            }
            Err(body) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(body.len() as u64);
                header.set_mode(0o644);
                // set_path refuses "..": the raw name field does not.
                let name = &mut header.as_old_mut().name;
                name[..path.len()].copy_from_slice(path.as_bytes());
                header.set_cksum();
                builder.append(&header, *body).unwrap();
            }
        }
    }
    let mut stream = builder.into_inner().unwrap();
    toolbox_transfer::Manifest::default()
        .write_trailer(&mut stream)
        .unwrap();
    stream
}

#[test]
fn a_stream_cannot_write_outside_its_destination() {
    let outside = tempfile::tempdir().unwrap();
    for stream in [
        crafted(&[("../escaped", Err(b"x"))]),
        crafted(&[("/etc/escaped", Err(b"x"))]),
        crafted(&[
            ("a", Ok(outside.path().to_str().unwrap())),
            ("a/escaped", Err(b"x")),
        ]),
        crafted(&[("never/introduced", Err(b"x"))]),
    ] {
        let to = tempfile::tempdir().unwrap();
        let err = receive(&stream[..], &into(to.path()), ReceiveOptions::default()).unwrap_err();
        assert!(matches!(err, TransferError::UnsafePath(_)), "{err}");
        assert!(listing(to.path()).is_empty());
    }
    assert!(listing(outside.path()).is_empty());
}

#[test]
fn devices_sockets_and_fifos_are_left_out_and_named() {
    let from = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let top = from.path().join("run");
    fs::create_dir(&top).unwrap();
    fs::write(top.join("pid"), b"1\n").unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(top.join("sock")).unwrap();
    let fifo = std::ffi::CString::new(top.join("fifo").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let mut told = Vec::new();
    let mut stream = Vec::new();
    let manifest = send(std::slice::from_ref(&top), &mut stream, &mut |sent| {
        if let toolbox_transfer::send::Sent::Skipped(s) = sent {
            told.push(format!("{} is {}", s.path, s.kind));
        }
    })
    .unwrap();
    assert_eq!(told, ["run/fifo is a FIFO", "run/sock is a socket"]);
    assert_eq!(manifest.skipped.len(), 2);
    let received = receive(&stream[..], &into(to.path()), ReceiveOptions::default()).unwrap();
    assert_eq!(received.manifest.skipped, manifest.skipped);
    assert_eq!(listing(&to.path().join("run")), ["pid"]);
}

#[test]
fn one_file_goes_to_a_writer_and_a_directory_does_not() {
    let from = tempfile::tempdir().unwrap();
    let file = from.path().join("syslog");
    fs::write(&file, b"line\n").unwrap();
    let mut out = Vec::new();
    let manifest =
        receive_to_writer(&stream_of(std::slice::from_ref(&file))[..], &mut out).unwrap();
    assert_eq!(out, b"line\n");
    assert_eq!(manifest.files[0].sha256, sha256_hex(b"line\n"));
    let top = tree(from.path());
    let err = receive_to_writer(&stream_of(&[top])[..], Vec::new()).unwrap_err();
    assert!(
        err.to_string()
            .contains("only a file can be written to standard output"),
        "{err}"
    );
}

#[test]
fn sources_that_cannot_be_sent_say_why() {
    let from = tempfile::tempdir().unwrap();
    let missing = from.path().join("missing");
    let err = send(std::slice::from_ref(&missing), Vec::new(), &mut |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}: No such file or directory", missing.display())
    );
    fs::create_dir(from.path().join("a")).unwrap();
    fs::create_dir_all(from.path().join("b/a")).unwrap();
    let err = send(
        &[from.path().join("a"), from.path().join("b/a")],
        Vec::new(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("two sources are named \"a\""),
        "{err}"
    );
    let names: Vec<OsString> = vec!["a".into()];
    assert!(
        Dest::Into(from.path().to_path_buf())
            .check(&names, false)
            .is_err()
    );
}
