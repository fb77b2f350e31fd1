//! `toolbox cp` on the real node (docs/cp.md), both ways: trees and files
//! arrive byte for byte with their modes, times and symlinks; a gigabyte
//! streams through in bounded memory; a connection cut mid-copy leaves no
//! partial file under its final name, here or on the node; and what cannot
//! be copied is one line. Each test checks that its pod is gone.
//!
//! The node shares this machine's /var/tmp, so a test makes and checks the
//! node's files there directly; the node's /var/log is a directory of the
//! cluster's own (`state/node/var-log`), which proves that paths are the
//! node's, not the pod's.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{
    FaultProxy, TestNs, cluster, real_node, spawn_session, stderr_of, stdout_of, watch_pods,
};
use k8s_openapi::api::core::v1::Pod;

/// A directory on the node (and here) for one test, removed when dropped.
struct NodeDir(PathBuf);

impl NodeDir {
    fn new(ns: &TestNs) -> NodeDir {
        let dir = PathBuf::from(format!("/var/tmp/toolbox-e2e-{}", ns.name));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        NodeDir(dir)
    }

    /// `real-0001:PATH` for a path in this directory.
    fn on_node(&self, name: &str) -> String {
        format!("{}:{}", real_node().name, self.0.join(name).display())
    }
}

impl Drop for NodeDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "sha256sum {}", path.display());
    stdout_of(&out)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// A tree with a nested directory of mode 0750, a script of 0755, a file of
/// 0600, an empty file, a symlink and a dangling one, with old mtimes.
fn sample_tree(parent: &Path) -> PathBuf {
    let top = parent.join("crash");
    fs::create_dir_all(top.join("sub/deeper")).unwrap();
    fs::write(
        top.join("core.1"),
        (0..200_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    fs::write(top.join("empty"), b"").unwrap();
    fs::write(top.join("sub/fix.sh"), b"#!/bin/sh\necho fixed\n").unwrap();
    fs::write(top.join("sub/deeper/notes"), b"a line\n").unwrap();
    symlink("../core.1", top.join("sub/core")).unwrap();
    symlink("/nowhere", top.join("dangling")).unwrap();
    for (path, mode) in [("core.1", 0o600), ("sub/fix.sh", 0o755), ("sub", 0o750)] {
        fs::set_permissions(top.join(path), fs::Permissions::from_mode(mode)).unwrap();
    }
    for (i, path) in [
        "core.1",
        "empty",
        "sub/fix.sh",
        "sub/deeper/notes",
        "sub/deeper",
        "sub",
        "",
    ]
    .iter()
    .enumerate()
    {
        let time = 1_700_000_000 + i as i64 * 1000;
        let c = std::ffi::CString::new(top.join(path).as_os_str().as_encoded_bytes()).unwrap();
        let times = [
            libc::timespec {
                tv_sec: time,
                tv_nsec: 0,
            },
            libc::timespec {
                tv_sec: time,
                tv_nsec: 0,
            },
        ];
        // SAFETY: a valid path and two timespecs.
        assert_eq!(
            unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), 0) },
            0
        );
    }
    top
}

/// Asserts that `b` is `a`: the same entries, kinds, modes, mtimes,
/// symlink targets and file bytes.
fn assert_same_tree(a: &Path, b: &Path) {
    let (ma, mb) = (
        fs::symlink_metadata(a).unwrap(),
        fs::symlink_metadata(b).unwrap(),
    );
    assert_eq!(ma.mode(), mb.mode(), "mode of {}", b.display());
    if ma.file_type().is_symlink() {
        assert_eq!(
            fs::read_link(a).unwrap(),
            fs::read_link(b).unwrap(),
            "{}",
            b.display()
        );
        return;
    }
    assert_eq!(ma.mtime(), mb.mtime(), "mtime of {}", b.display());
    if ma.is_file() {
        assert_eq!(sha256(a), sha256(b), "{}", b.display());
        return;
    }
    let names = |dir: &Path| {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(a), names(b), "{}", b.display());
    for name in names(a) {
        assert_same_tree(&a.join(&name), &b.join(&name));
    }
}

/// What is in `dir` (one level), by name.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn annotation(pod: &Pod, key: &str) -> Option<String> {
    pod.metadata.annotations.as_ref()?.get(key).cloned()
}

/// The node's recording of the copy made by `pod`: its lines.
fn recording_of(pod: &str) -> Vec<serde_json::Value> {
    let dir = cluster().dir.join("state/node/var-log/toolbox/sessions");
    for entry in fs::read_dir(&dir).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if lines.first().is_some_and(|h| h["toolbox"]["pod"] == pod) {
            return lines;
        }
    }
    panic!("no recording of pod {pod} in {}", dir.display());
}

fn output_of_recording(lines: &[serde_json::Value]) -> String {
    lines[1..]
        .iter()
        .filter(|e| e[1] == "o")
        .map(|e| e[2].as_str().unwrap_or_default().to_string())
        .collect()
}

// Multi-threaded: the watch of the pods runs while the test waits on toolbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_goes_to_the_node_and_back_whole_and_each_file_is_on_the_record() {
    let ns = TestNs::new("cp-tree").await;
    let node_dir = NodeDir::new(&ns);
    let here = tempfile::tempdir().unwrap();
    let top = sample_tree(here.path());

    let (watch, stop) = watch_pods(&ns).await;
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", top.to_str().unwrap(), &node_dir.on_node("")])
        .args(["--reason", "e2e cp"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "", "nothing on a non-terminal");
    assert_same_tree(&top, &node_dir.0.join("crash"));
    assert_eq!(
        listing(&node_dir.0),
        ["crash"],
        "no staging directory is left on the node"
    );

    let back = tempfile::tempdir().unwrap();
    let out = ns
        .toolbox_on_real_node()
        .args([
            "cp",
            &node_dir.on_node("crash/"),
            back.path().join("copy/").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_same_tree(&top, &back.path().join("copy"));
    assert_eq!(listing(back.path()), ["copy"]);

    // One file, into a directory: the node's own /var/log, not the pod's.
    let log_name = format!("toolbox-e2e-{}.log", ns.name);
    let node_log = cluster().dir.join("state/node/var-log").join(&log_name);
    fs::write(&node_log, "only on the node\n").unwrap();
    assert!(!Path::new("/var/log").join(&log_name).exists());
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", &format!("{}:/var/log/{log_name}", real_node().name)])
        .arg(back.path())
        .output()
        .unwrap();
    fs::remove_file(&node_log).unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        fs::read_to_string(back.path().join(&log_name)).unwrap(),
        "only on the node\n"
    );

    stop.send(()).unwrap();
    let seen = watch.await.unwrap();
    // The audit trail: each pod names its direction and paths when created,
    // and every file with its size and sha256 before it is deleted.
    let upload: Vec<&Pod> = seen
        .iter()
        .filter(|p| annotation(p, "toolbox.dev/copy-direction").as_deref() == Some("to-node"))
        .collect();
    let created = upload.first().unwrap_or_else(|| {
        let names: Vec<_> = seen
            .iter()
            .map(|p| (p.metadata.name.clone(), p.metadata.annotations.clone()))
            .collect();
        panic!("no upload pod among {names:?}")
    });
    assert_eq!(
        annotation(created, "toolbox.dev/copy-paths").unwrap(),
        format!("[\"{}/\"]", node_dir.0.display())
    );
    assert_eq!(
        annotation(created, "toolbox.dev/reason").as_deref(),
        Some("e2e cp")
    );
    let files = upload
        .iter()
        .find_map(|p| annotation(p, "toolbox.dev/copy-files"))
        .expect("the upload's files are named on its pod before it is deleted");
    let files: Vec<BTreeMap<String, serde_json::Value>> = serde_json::from_str(&files).unwrap();
    let core = files.iter().find(|f| f["path"] == "crash/core.1").unwrap();
    assert_eq!(core["size"], 200_000);
    assert_eq!(
        core["sha256"].as_str().unwrap(),
        sha256(&top.join("core.1"))
    );
    assert_eq!(files.len(), 4, "the regular files: {files:?}");

    // The node's record of each copy, with every file and its sha256.
    let upload_pod = created.metadata.name.clone().unwrap();
    let recorded = recording_of(&upload_pod);
    let text = output_of_recording(&recorded);
    assert!(
        text.contains(&format!(
            "received {}/crash/core.1 (200000 bytes, sha256 {})",
            node_dir.0.display(),
            sha256(&top.join("core.1"))
        )),
        "{text}"
    );
    assert_eq!(recorded.last().unwrap()[2], "exit 0");
    let download = seen
        .iter()
        .find(|p| annotation(p, "toolbox.dev/copy-direction").as_deref() == Some("from-node"))
        .and_then(|p| p.metadata.name.clone())
        .unwrap();
    let text = output_of_recording(&recording_of(&download));
    assert!(
        text.contains(&format!(
            "sent {}/crash/sub/fix.sh (21 bytes",
            node_dir.0.display()
        )),
        "{text}"
    );
    // toolbox sessions lists the copy among the node's recordings.
    let id = recording_of(&download)[0]["toolbox"]["session"]
        .as_str()
        .unwrap()
        .to_string();
    let out = ns
        .toolbox_on_real_node()
        .args(["sessions", "list", &real_node().name, "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains(&id), "{id} in {}", stdout_of(&out));
    ns.finish().await;
}

/// Runs `cmd` to its end while reading its peak resident memory (VmHWM)
/// from /proc; returns the output and the peak in KiB. VmHWM is a mark that
/// only rises, read every 20 ms, not an event waited for; wait4's
/// `ru_maxrss` would be exact but is not toolbox's own: Linux keeps in it
/// the test process's RSS from before the exec (std spawns with vfork).
fn run_measuring_peak(mut cmd: Command) -> (std::process::Output, u64) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let pid = child.id();
    let reader = std::thread::spawn(move || child.wait_with_output().unwrap());
    let mut peak = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    while !reader.is_finished() && Instant::now() < deadline {
        if let Ok(status) = fs::read_to_string(&status_file)
            && let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        reader.is_finished(),
        "toolbox (pid {pid}) ran past 5 minutes"
    );
    (reader.join().unwrap(), peak)
}

/// Peak RSS target of docs/cp.md, for the release build that users run
/// (and `make bench` measures). The debug build the suite runs needs some
/// 40 MiB for a session that copies nothing, so here a copy is held to that
/// session's peak plus [`FLAT_MARGIN_KIB`], whatever its size; and to the
/// target itself when TOOLBOX_BIN is a release build.
const PEAK_RSS_TARGET_KIB: u64 = 40 * 1024;
const FLAT_MARGIN_KIB: u64 = 8 * 1024;

fn assert_flat(peak: u64, baseline: u64) {
    assert!(
        peak > 0 && peak < baseline + FLAT_MARGIN_KIB,
        "peak RSS {peak} KiB, a session's {baseline} KiB"
    );
    if harness::toolbox_bin()
        .components()
        .any(|c| c.as_os_str() == "release")
    {
        assert!(peak < PEAK_RSS_TARGET_KIB, "peak RSS {peak} KiB");
    }
}

#[tokio::test]
async fn a_gigabyte_streams_both_ways_in_bounded_memory() {
    let ns = TestNs::new("cp-gigabyte").await;
    let node_dir = NodeDir::new(&ns);
    let size: u64 = 1 << 30;
    // Sparse, with some data at both ends and in the middle.
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut file = fs::File::create(node_dir.0.join("big")).unwrap();
        for at in [0, size / 2, size - 4096] {
            file.seek(SeekFrom::Start(at)).unwrap();
            file.write_all(&[0xa5; 4096]).unwrap();
        }
        file.set_len(size).unwrap();
    }
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args(["node-shell", &real_node().name, "--", "true"]);
    let (out, baseline) = run_measuring_peak(cmd);
    assert!(out.status.success(), "{}", stderr_of(&out));
    println!(
        "a session that copies nothing: peak RSS {:.1} MiB",
        baseline as f64 / 1024.0
    );
    let here = tempfile::tempdir().unwrap();
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args(["cp", &node_dir.on_node("big")]).arg(here.path());
    let started = Instant::now();
    let (out, peak) = run_measuring_peak(cmd);
    let took = started.elapsed();
    println!(
        "cp of 1 GiB from the node: {:.1} s, peak RSS {:.1} MiB",
        took.as_secs_f64(),
        peak as f64 / 1024.0
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let copy = here.path().join("big");
    assert_eq!(fs::metadata(&copy).unwrap().len(), size);
    assert_eq!(sha256(&copy), sha256(&node_dir.0.join("big")));
    assert_flat(peak, baseline);

    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.arg("cp").arg(&copy).arg(node_dir.on_node("back"));
    let started = Instant::now();
    let (out, peak) = run_measuring_peak(cmd);
    println!(
        "cp of 1 GiB to the node: {:.1} s, peak RSS {:.1} MiB",
        started.elapsed().as_secs_f64(),
        peak as f64 / 1024.0
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(sha256(&node_dir.0.join("back")), sha256(&copy));
    assert_flat(peak, baseline);
    ns.finish().await;
}

/// A file of `size` bytes that do not compress: the cut tests' payload.
fn random_file(path: &Path, size: usize) {
    let mut bytes = vec![0u8; size];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in bytes.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    fs::write(path, bytes).unwrap();
}

/// Waits until the staging directory under `dir` holds at least `bytes`:
/// inotify tells of each staging directory made in `dir` and of each write
/// into one, and the size is counted again then, up to `timeout`.
fn wait_for_staged_bytes(dir: &Path, bytes: u64, timeout: Duration) {
    use std::os::unix::ffi::OsStrExt;
    let deadline = Instant::now() + timeout;
    // SAFETY: plain syscalls on a descriptor this function owns and closes.
    let inotify = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
    assert!(inotify >= 0, "inotify: {}", std::io::Error::last_os_error());
    let watch = |path: &Path| {
        let path = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: as above; path is a NUL-terminated string that outlives the call.
        unsafe {
            libc::inotify_add_watch(inotify, path.as_ptr(), libc::IN_CREATE | libc::IN_MODIFY)
        };
    };
    watch(dir);
    let mut watched = std::collections::BTreeSet::new();
    loop {
        let staging: Vec<PathBuf> = fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".toolbox-cp-"))
            .map(|e| e.path())
            .collect();
        for path in &staging {
            // Watched before it is counted: a write after the count wakes us.
            if watched.insert(path.clone()) {
                watch(path);
            }
        }
        let staged: u64 = staging
            .iter()
            .flat_map(|path| fs::read_dir(path).into_iter().flatten().flatten())
            .map(|e| e.metadata().map(|m| m.blocks() * 512).unwrap_or(0))
            .sum();
        if staged >= bytes {
            // SAFETY: the descriptor is ours, closed once.
            unsafe { libc::close(inotify) };
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no {bytes} bytes staged in {} within {timeout:?}",
            dir.display()
        );
        let mut ready = libc::pollfd {
            fd: inotify,
            events: libc::POLLIN,
            revents: 0,
        };
        let mut events = [0u8; 4096];
        // SAFETY: one pollfd, and a read into a buffer of its own length.
        unsafe {
            if libc::poll(&mut ready, 1, left.as_millis().min(i32::MAX as u128) as i32) > 0 {
                libc::read(inotify, events.as_mut_ptr().cast(), events.len());
            }
        }
    }
}

fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("error:")).collect()
}

#[tokio::test]
async fn a_cut_mid_download_leaves_no_partial_file_and_no_pod() {
    let ns = TestNs::new("cp-cut-down").await;
    let node_dir = NodeDir::new(&ns);
    random_file(&node_dir.0.join("big"), 64 << 20);
    let here = tempfile::tempdir().unwrap();
    let proxy = FaultProxy::to_cluster();
    // Slow enough that the cut lands mid-copy.
    proxy.set_latency(Duration::from_millis(2));
    let mut cmd = ns.toolbox_process_via(&proxy.kubeconfig());
    cmd.env("TOOLBOX_CONFIG", &real_node().settings)
        .args(["cp", &node_dir.on_node("big")])
        .arg(here.path());
    let session = spawn_session(cmd, Stdio::null());
    wait_for_staged_bytes(here.path(), 1 << 20, Duration::from_secs(60));
    proxy.refuse_for(Duration::from_secs(3));
    proxy.cut();
    let end = session.end(Duration::from_secs(60));
    assert_eq!(end.status.code(), Some(1), "{}", end.stderr);
    let errors = error_lines(&end.stderr);
    assert_eq!(errors.len(), 1, "one line: {}", end.stderr);
    assert!(errors[0].contains("lost the connection"), "{}", end.stderr);
    assert!(
        listing(here.path()).is_empty(),
        "nothing left here: {:?}",
        listing(here.path())
    );
    ns.finish().await;
}

#[tokio::test]
async fn a_cut_mid_upload_leaves_no_partial_file_on_the_node() {
    let ns = TestNs::new("cp-cut-up").await;
    let node_dir = NodeDir::new(&ns);
    let here = tempfile::tempdir().unwrap();
    let big = here.path().join("big");
    random_file(&big, 64 << 20);
    let proxy = FaultProxy::to_cluster();
    proxy.set_latency(Duration::from_millis(2));
    let mut cmd = ns.toolbox_process_via(&proxy.kubeconfig());
    cmd.env("TOOLBOX_CONFIG", &real_node().settings)
        .arg("cp")
        .arg(&big)
        .arg(node_dir.on_node("big"));
    let session = spawn_session(cmd, Stdio::null());
    wait_for_staged_bytes(&node_dir.0, 1 << 20, Duration::from_secs(60));
    proxy.refuse_for(Duration::from_secs(3));
    proxy.cut();
    let end = session.end(Duration::from_secs(60));
    assert_eq!(end.status.code(), Some(1), "{}", end.stderr);
    assert_eq!(
        error_lines(&end.stderr).len(),
        1,
        "one line: {}",
        end.stderr
    );
    assert!(
        !node_dir.0.join("big").exists(),
        "no file under its final name on the node"
    );
    ns.finish().await;
    // The node's end saw its stream cut and removed what it had staged
    // (unless the pod's deletion killed it first).
    let left = listing(&node_dir.0);
    println!("left on the node after the cut: {left:?}");
    assert!(
        left.iter().all(|name| name.starts_with(".toolbox-cp-")),
        "{left:?}"
    );
}

/// Whether the API server saw a pod created in the namespace.
fn pod_created_in(ns: &TestNs) -> bool {
    harness::audit_events().iter().any(|e| {
        e["objectRef"]["namespace"] == ns.name.as_str()
            && e["objectRef"]["resource"] == "pods"
            && e["objectRef"]["subresource"].is_null()
            && e["verb"] == "create"
    })
}

#[tokio::test]
async fn what_cannot_be_copied_is_one_line() {
    let ns = TestNs::new("cp-refused").await;
    let node_dir = NodeDir::new(&ns);
    fs::write(node_dir.0.join("file"), b"on the node\n").unwrap();
    fs::create_dir(node_dir.0.join("dir")).unwrap();
    fs::write(node_dir.0.join("dir/inside"), b"x").unwrap();
    let here = tempfile::tempdir().unwrap();
    let existing = here.path().join("file");
    fs::write(&existing, b"mine\n").unwrap();
    let one_error = |out: &std::process::Output, needle: &str| {
        assert_eq!(out.status.code(), Some(1), "{}", stderr_of(out));
        let stderr = stderr_of(out);
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle),
            "{needle:?}: {stderr}"
        );
    };

    // An existing local file, refused before any pod exists.
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", &node_dir.on_node("file")])
        .arg(&existing)
        .output()
        .unwrap();
    one_error(
        &out,
        "exists: toolbox cp overwrites nothing without --force",
    );
    assert_eq!(fs::read(&existing).unwrap(), b"mine\n");
    assert!(!pod_created_in(&ns), "refused before any pod was created");

    // With --force it is replaced.
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", "--force", &node_dir.on_node("file")])
        .arg(&existing)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(fs::read(&existing).unwrap(), b"on the node\n");

    // A path that does not exist on the node.
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", &node_dir.on_node("missing")])
        .arg(here.path())
        .output()
        .unwrap();
    one_error(
        &out,
        &format!(
            "{}: No such file or directory",
            node_dir.0.join("missing").display()
        ),
    );

    // A directory given for a file: over a local file, and to stdout.
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", "--force", &node_dir.on_node("dir")])
        .arg(&existing)
        .output()
        .unwrap();
    one_error(&out, "cannot overwrite non-directory");
    assert_eq!(fs::read(&existing).unwrap(), b"on the node\n");
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", &node_dir.on_node("dir"), "-"])
        .output()
        .unwrap();
    one_error(&out, "only a file can be written to standard output");
    assert!(out.stdout.is_empty());

    // An existing file on the node, refused by the node's end.
    let out = ns
        .toolbox_on_real_node()
        .arg("cp")
        .arg(&existing)
        .arg(node_dir.on_node("file"))
        .output()
        .unwrap();
    one_error(
        &out,
        "exists: toolbox cp overwrites nothing without --force",
    );
    assert_eq!(fs::read(node_dir.0.join("file")).unwrap(), b"on the node\n");

    // A file given where the node has a directory, even with --force.
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", "--force", "-T"])
        .arg(&existing)
        .arg(node_dir.on_node("dir"))
        .output()
        .unwrap();
    one_error(&out, "cannot overwrite directory");
    ns.finish().await;
}

#[tokio::test]
async fn stdin_goes_to_a_node_file_and_a_node_file_to_stdout() {
    let ns = TestNs::new("cp-std").await;
    let node_dir = NodeDir::new(&ns);
    let text = "piped in, piped out\n".repeat(10_000);
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", "-", &node_dir.on_node("from-stdin")])
        .write_stdin(text.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let written = node_dir.0.join("from-stdin");
    assert_eq!(fs::read_to_string(&written).unwrap(), text);
    assert_eq!(fs::metadata(&written).unwrap().mode() & 0o7777, 0o644);

    let out = ns
        .toolbox_on_real_node()
        .args(["cp", &node_dir.on_node("from-stdin"), "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), text);
    ns.finish().await;
}

#[tokio::test]
async fn ctrl_c_mid_download_leaves_no_partial_file_and_no_pod() {
    let ns = TestNs::new("cp-sigint").await;
    let node_dir = NodeDir::new(&ns);
    random_file(&node_dir.0.join("big"), 64 << 20);
    let here = tempfile::tempdir().unwrap();
    // Slowed, so that the signal lands mid-copy.
    let proxy = FaultProxy::to_cluster();
    proxy.set_latency(Duration::from_millis(2));
    let mut cmd = ns.toolbox_process_via(&proxy.kubeconfig());
    let mut child = cmd
        .env("TOOLBOX_CONFIG", &real_node().settings)
        .args(["cp", &node_dir.on_node("big")])
        .arg(here.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_staged_bytes(here.path(), 1 << 20, Duration::from_secs(60));
    harness::send_signal(child.id(), "INT");
    let status = harness::wait_with_timeout(&mut child, Duration::from_secs(60));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("interrupted by SIGINT")
            && stderr.contains("nothing is left under its final name"),
        "{stderr}"
    );
    assert!(
        listing(here.path()).is_empty(),
        "nothing left here: {:?}",
        listing(here.path())
    );
    ns.finish().await;
}

/// Where `toolbox policy --require-recording` binds, a member copies both
/// ways: the copy's pod has the recorded shape, and the recorder's `send`
/// and `receive` are execs the policy lets through, each copy recorded.
#[tokio::test]
async fn a_member_copies_where_recording_is_required() {
    let ns = TestNs::new("cp-require-rec").await;
    let node = real_node();
    let node_dir = NodeDir::new(&ns);
    let group = format!("oncall-{}", harness::random_suffix());
    let member = ["--as", "dev", "--as-group", group.as_str()];
    let yaml = ns
        .require_recording(&group, &node.name, &node.image, true)
        .await;
    let here = tempfile::tempdir().unwrap();
    let file = here.path().join("fix.sh");
    fs::write(&file, b"#!/bin/sh\necho fixed\n").unwrap();
    let out = ns
        .toolbox_on_real_node()
        .arg("cp")
        .arg(&file)
        .arg(node_dir.on_node("fix.sh"))
        .args(member)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        fs::read(node_dir.0.join("fix.sh")).unwrap(),
        b"#!/bin/sh\necho fixed\n"
    );
    let out = ns
        .toolbox_on_real_node()
        .args(["cp", &node_dir.on_node("fix.sh"), "-"])
        .args(member)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "#!/bin/sh\necho fixed\n");
    ns.delete_yaml(&yaml);
    ns.finish().await;
}

/// On a terminal, a copy of more than a few MB draws its progress (bytes,
/// rate, ETA) on stderr, and ends with one line naming the node's record.
#[tokio::test]
async fn on_a_terminal_a_big_copy_shows_its_progress() {
    let ns = TestNs::new("cp-progress").await;
    let node_dir = NodeDir::new(&ns);
    random_file(&node_dir.0.join("big"), 100 << 20);
    let here = tempfile::tempdir().unwrap();
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args(["cp", &node_dir.on_node("big")]).arg(here.path());
    let screen = tokio::task::spawn_blocking(move || {
        use expectrl::Expect;
        let mut session = harness::spawn_on_pty(cmd, Duration::from_secs(60));
        let drawn = session.expect(expectrl::Regex("ETA [0-9]+s")).map(|_| ());
        let end = session.expect(expectrl::Regex("Copied 1 files, 104857600 bytes, each sha256 checked; the node's recording is real-0001\\.[0-9TZ]+-[0-9a-f]{8}"));
        let status = harness::wait_for_pty_end(&mut session);
        (drawn, end.map(|_| ()), status)
    })
    .await
    .unwrap();
    let (drawn, end, status) = screen;
    assert!(drawn.is_ok(), "no progress bar drawn: {drawn:?}");
    assert!(end.is_ok(), "no closing line: {end:?}");
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    assert_eq!(
        fs::metadata(here.path().join("big")).unwrap().len(),
        100 << 20
    );
    ns.finish().await;
}
