//! `toolbox sessions list|get|play` on the real node (docs/sessions.md):
//! a session's recording found and read from its live pod's container log,
//! then from the node's file once the pod is gone (through a reader pod,
//! which is gone after every command); an interactive session replayed on a
//! PTY; truncated and corrupt recordings; bad input; a node without a
//! sessions directory; and the same under `--require-recording`.
//!
//! Recordings are written into the node's sessions directory through its
//! init process's root (`/proc/PID/root`), as tests/e2e/recording.rs reads
//! them: the real node has a mount namespace of its own.

use std::path::PathBuf;
use std::time::Duration;

use harness::{
    TestNs, cluster, node_init_pid, random_suffix, real_node, spawn_on_pty, stderr_of, stdout_of,
    wait_until,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::Value;

/// The real node's `/var/log/toolbox/sessions`, as this machine sees it.
fn node_sessions_dir() -> PathBuf {
    PathBuf::from(format!(
        "/proc/{}/root/var/log/toolbox/sessions",
        node_init_pid(&cluster().dir)
    ))
}

/// Waits until no reader pod of `toolbox sessions` is left in the test's
/// namespace, not even one being deleted.
async fn no_reader_left(ns: &TestNs) {
    let pods: Api<Pod> = ns.pods();
    wait_until(
        Duration::from_secs(30),
        "the reader pod to be gone",
        || async {
            pods.list(&ListParams::default().labels("toolbox.dev/subcommand=sessions"))
                .await
                .map(|list| list.items.is_empty())
                .unwrap_or(false)
        },
    )
    .await;
}

/// `toolbox sessions ARGS` on the real node's settings; its status, stdout
/// and stderr; and no reader pod left after it.
async fn sessions(ns: &TestNs, args: &[&str]) -> (Option<i32>, String, String) {
    let out = ns
        .toolbox_on_real_node()
        .arg("sessions")
        .args(args)
        .output()
        .unwrap();
    no_reader_left(ns).await;
    (out.status.code(), stdout_of(&out), stderr_of(&out))
}

/// The rows of `sessions list ARGS -o json`.
async fn rows(ns: &TestNs, args: &[&str]) -> Vec<Value> {
    let mut all: Vec<&str> = vec!["list"];
    all.extend(args);
    all.extend(["-o", "json"]);
    let (code, out, err) = sessions(ns, &all).await;
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str::<Vec<Value>>(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn row<'a>(rows: &'a [Value], id: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no row of {id} in {rows:?}"))
}

fn location_kinds(row: &Value) -> Vec<&str> {
    row["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect()
}

/// `script` run by bash on a PTY of its own, with toolbox's environment on
/// the real node and `$TOOLBOX` naming the binary.
fn shell_on_pty(ns: &TestNs, script: &str) -> harness::PtySession {
    let toolbox = ns.toolbox_process_on_real_node();
    let mut shell = std::process::Command::new("bash");
    shell
        .env_clear()
        .envs(toolbox.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .env("TOOLBOX", harness::toolbox_bin())
        .args(["--norc", "--noprofile", "-c", script]);
    spawn_on_pty(shell, Duration::from_secs(60))
}

/// `toolbox sessions play ARGS` in bash on a PTY, while `watch` reads the
/// replay: its exit status, once the terminal's mode (`stty -g`) after the
/// replay has been checked to be the one before it.
async fn replay_in_shell(
    ns: &TestNs,
    args: String,
    watch: impl FnOnce(&mut harness::PtySession) + Send + 'static,
) -> u32 {
    use expectrl::{Expect, Regex};
    let mut replay = shell_on_pty(
        ns,
        &format!(
            "echo before=$(stty -g); \"$TOOLBOX\" sessions play {args}; echo status=$?; echo after=$(stty -g)"
        ),
    );
    tokio::task::spawn_blocking(move || {
        let text =
            |found: &expectrl::Captures| String::from_utf8(found.get(1).unwrap().to_vec()).unwrap();
        let before = text(&replay.expect(Regex(r"before=(\S+)")).unwrap());
        watch(&mut replay);
        let status = text(&replay.expect(Regex(r"status=(\d+)")).unwrap());
        let after = text(&replay.expect(Regex(r"after=(\S+)")).unwrap());
        harness::wait_for_pty_end(&mut replay);
        assert_eq!(after, before, "the terminal's mode is put back");
        status.parse().unwrap()
    })
    .await
    .unwrap()
}

/// A recording written into the node's directory by the test, removed
/// however the test ends.
struct PlantedRecording {
    id: String,
    path: PathBuf,
}

impl PlantedRecording {
    fn new(kind: &str, contents: &str) -> PlantedRecording {
        let id = format!(
            "{}.20261204T000000Z-{kind}{}",
            real_node().name,
            random_suffix()
        );
        let dir = node_sessions_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{id}.cast"));
        std::fs::write(&path, contents.replace("SESSION", &id)).unwrap();
        PlantedRecording { id, path }
    }
}

impl Drop for PlantedRecording {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

const HEADER: &str = r#"{"version":2,"width":80,"height":24,"timestamp":1796342400,"command":"sh","env":{},"toolbox":{"session":"SESSION","node":"real-node","pod":"toolbox-shell-gone","namespace":"elsewhere","user":"planted","tty":true,"input":false}}"#;

#[tokio::test]
async fn a_command_s_recording_is_read_from_its_log_while_its_pod_lives_and_from_the_node_after() {
    let node = real_node();
    let ns = TestNs::new("sessions-get").await;
    let token = random_suffix();
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--persist", "10m", "--"])
        .args([
            "sh",
            "-c",
            &format!("printf '\\033[1mbold-{token}\\033[0m\\n'; exit 3"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let persisting = ns.toolbox_pods().await;
    assert_eq!(persisting.len(), 1, "the --persist pod lives");
    let pod = persisting[0].metadata.name.clone().unwrap();

    // Without NODE: the live session of this namespace, from the log, and a
    // note that the node's files were not searched.
    let (code, _, err) = sessions(&ns, &["list"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("note: only live sessions"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let live = rows(&ns, &[]).await;
    assert_eq!(live.len(), 1, "{live:?}");
    let id = live[0]["id"].as_str().unwrap().to_string();
    assert!(id.starts_with(&format!("{}.", node.name)), "{id}");
    assert_eq!(live[0]["exit"], 3);
    assert_eq!(live[0]["state"], "ended");
    assert_eq!(live[0]["pod"], pod.as_str());
    assert_eq!(location_kinds(&live[0]), ["log"]);

    // With NODE: the same session is one row, in the log and in the file.
    let on_node = rows(&ns, &[&node.name]).await;
    let ours = row(&on_node, &id);
    assert_eq!(ours["exit"], 3);
    assert!(ours["size"].as_u64().unwrap() > 100, "{ours}");
    assert_eq!(ours["truncated"], false);
    assert_eq!(location_kinds(ours), ["log", "node"]);
    assert_eq!(on_node.iter().filter(|r| r["id"] == id.as_str()).count(), 1);
    let (code, table, err) = sessions(&ns, &["list", &node.name]).await;
    assert_eq!(code, Some(0), "{err}");
    let line = table.lines().find(|l| l.starts_with(&id)).expect("a row");
    assert!(
        line.contains("ended") && line.contains(&format!("log {}/{pod}", ns.name)),
        "{table}"
    );

    let check_all_formats = |from: &'static str| {
        let ns = &ns;
        let id = id.clone();
        let token = token.clone();
        async move {
            let (code, cast, err) = sessions(ns, &["get", &id]).await;
            assert_eq!(code, Some(0), "{err}");
            let mut lines = cast.lines();
            let header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
            assert_eq!(header["version"], 2);
            assert_eq!(header["toolbox"]["session"], id.as_str());
            let last: Value = serde_json::from_str(cast.lines().last().unwrap()).unwrap();
            assert_eq!(last, serde_json::json!([last[0], "m", "exit 3"]));
            let (code, text, err) = sessions(ns, &["get", &id, "-o", "text"]).await;
            assert_eq!(code, Some(0), "{err}");
            assert_eq!(text, format!("bold-{token}\n"), "escapes removed");
            let (code, json, err) = sessions(ns, &["get", &id, "-o", "json"]).await;
            assert_eq!(code, Some(0), "{err}");
            let doc: Value = serde_json::from_str(&json).unwrap();
            assert_eq!(doc["source"]["kind"], from, "{doc}");
            assert_eq!(doc["truncated"], false);
            assert_eq!(doc["exit"], 3);
            assert!(doc["header"]["toolbox"]["pod"].is_string(), "{doc}");
            assert!(
                doc["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e[1] == "o")
            );
        }
    };
    check_all_formats("log").await;

    // The pod gone, the node's file is read.
    ns.delete_pod_now(&pod).await;
    let pods: Api<Pod> = ns.pods();
    wait_until(Duration::from_secs(30), "the pod to be gone", || async {
        !harness::pod_exists(&pods, &pod).await
    })
    .await;
    check_all_formats("node").await;
    let on_node = rows(&ns, &[&node.name]).await;
    assert_eq!(location_kinds(row(&on_node, &id)), ["node"]);
    // --user and --since narrow the rows.
    let user = row(&on_node, &id)["user"].as_str().unwrap().to_string();
    assert!(
        row(
            &rows(&ns, &[&node.name, "--user", &user, "--since", "1h"]).await,
            &id
        )["exit"]
            == 3
    );
    assert!(
        rows(&ns, &[&node.name, "--user", "nobody-at-all"])
            .await
            .is_empty()
    );
    ns.finish().await;
}

#[tokio::test]
async fn an_interactive_session_is_replayed_on_a_terminal_with_its_output_in_order() {
    use expectrl::{Expect, Regex};
    let node = real_node();
    let ns = TestNs::new("sessions-play").await;
    let token = random_suffix();
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args(["node-shell", &node.name]);
    let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
    let typed = token.clone();
    let id = tokio::task::spawn_blocking(move || {
        session
            .expect(Regex(format!(r"root@{}:[^\r\n]*# ", node.name)))
            .expect("the node's prompt");
        session
            .send_line(format!("echo typed-{typed}-$((40+2))"))
            .unwrap();
        session.expect(format!("typed-{typed}-42")).unwrap();
        session.get_process_mut().set_window_size(123, 41).unwrap();
        loop {
            session.send_line("echo size-$(stty size)-end").unwrap();
            let found = session.expect(Regex(r"size-(\d+ \d+)-end")).unwrap();
            if found.get(1) == Some(b"41 123".as_slice()) {
                break;
            }
        }
        session.send_line("exit 3").unwrap();
        let said = session
            .expect(Regex(r"Session recorded as (\S+);"))
            .expect("the recording's id");
        let id = String::from_utf8(said.get(1).unwrap().to_vec()).unwrap();
        harness::wait_for_pty_end(&mut session);
        id
    })
    .await
    .unwrap();
    no_reader_left(&ns).await;

    // Replayed fast, on a terminal: the same output in the same order, and
    // the terminal's mode after it as it was before.
    let expected = format!("typed-{token}-42");
    let played = replay_in_shell(&ns, format!("{id} --speed 100"), move |replay| {
        replay.expect(expected).expect("the typed command's output");
        replay
            .expect("size-41 123-end")
            .expect("the output after the resize, after it");
    })
    .await;
    assert_eq!(played, 0);

    // Ctrl-C in the middle of a replay, slowed down: it stops with 130, and
    // the terminal is put back all the same. At its own pace a session typed
    // by a test can be over before the Ctrl-C arrives (seen at 1.32): ten
    // times slower, what follows the first output takes a second or more.
    let expected = format!("typed-{token}-42");
    let stopped = replay_in_shell(&ns, format!("{id} --speed 0.1"), move |replay| {
        replay.expect(expected).expect("the replay's first output");
        replay.send("\u{3}").unwrap();
    })
    .await;
    assert_eq!(stopped, 130);
    no_reader_left(&ns).await;
    ns.finish().await;
}

#[tokio::test]
async fn truncated_and_corrupt_recordings_are_read_as_far_as_they_go() {
    use expectrl::{Expect, Regex};
    let node = real_node();
    let ns = TestNs::new("sessions-cut").await;
    let cut = PlantedRecording::new(
        "cut",
        &format!(
            "{HEADER}\n[0.1,\"o\",\"first-line\\r\\n\"]\n[0.2,\"o\",\"second-line\\r\\n\"]\n[0.3,\"o\",\"never-wh"
        ),
    );
    let corrupt = PlantedRecording::new("bad", "this is no header\n[0.1,\"o\",\"x\"]\n");
    let listed = rows(&ns, &[&node.name]).await;
    let row_cut = row(&listed, &cut.id);
    assert_eq!(row_cut["state"], "truncated");
    assert_eq!(row_cut["truncated"], true);
    assert!(row_cut["exit"].is_null());
    assert_eq!(row_cut["user"], "planted");
    assert_eq!(row(&listed, &corrupt.id)["state"], "corrupt");

    let (code, text, err) = sessions(&ns, &["get", &cut.id, "-o", "text"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text, "first-line\nsecond-line\n");
    assert!(
        err.contains(&format!(
            "note: the recording of session {} is truncated",
            cut.id
        )),
        "{err}"
    );
    let (code, cast, _) = sessions(&ns, &["get", &cut.id]).await;
    assert_eq!(code, Some(0));
    assert_eq!(
        cast.lines().count(),
        3,
        "the header and the two whole events: {cast}"
    );
    assert!(cast.ends_with('\n'));

    let (code, out, err) = sessions(&ns, &["get", &corrupt.id]).await;
    assert_eq!((code, out.as_str()), (Some(1), ""), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is corrupt"), "{err}");

    // Played: what is whole, then one line saying it was cut.
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args(["sessions", "play", &cut.id, "--speed", "100"]);
    let mut replay = spawn_on_pty(cmd, Duration::from_secs(60));
    let id = cut.id.clone();
    let status = tokio::task::spawn_blocking(move || {
        replay.expect("second-line").unwrap();
        replay
            .expect(format!("note: the recording of session {id} is truncated"))
            .unwrap();
        harness::wait_for_pty_end(&mut replay)
    })
    .await
    .unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args(["sessions", "play", &corrupt.id]);
    let mut replay = spawn_on_pty(cmd, Duration::from_secs(60));
    let status = tokio::task::spawn_blocking(move || {
        replay.expect(Regex("error: .* is corrupt")).unwrap();
        harness::wait_for_pty_end(&mut replay)
    })
    .await
    .unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 1)),
        "{status:?}"
    );
    no_reader_left(&ns).await;
    ns.finish().await;
}

#[tokio::test]
async fn bad_input_is_one_line_with_its_exit_code_and_leaves_no_pod() {
    let node = real_node();
    let ns = TestNs::new("sessions-bad").await;
    let unknown = format!("{}.20000101T000000Z-00000000", node.name);
    for (args, code, says) in [
        (vec!["get", unknown.as_str()], 3, "no recording of session"),
        (
            vec!["play", unknown.as_str()],
            2,
            "sessions play needs a terminal on stdout",
        ),
        (vec!["get", "no-dot-in-it"], 2, "is not a session id"),
        (
            vec!["get", "no-such-node.20000101T000000Z-00000000"],
            3,
            "node \"no-such-node\" not found",
        ),
        (
            vec!["list", "no-such-node"],
            3,
            "node \"no-such-node\" not found",
        ),
        (
            vec!["play", &unknown, "--speed", "0"],
            2,
            "must be a number above 0",
        ),
    ] {
        let (status, out, err) = sessions(&ns, &args).await;
        assert_eq!(status, Some(code), "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    ns.finish().await;
}

/// The node's sessions directory moved aside for the test, put back
/// however it ends.
struct DirectoryAside {
    dir: PathBuf,
    aside: PathBuf,
}

impl Drop for DirectoryAside {
    fn drop(&mut self) {
        // The reader's mount created it again (DirectoryOrCreate), empty,
        // unless a session of another process recorded into it meanwhile:
        // its files join the others.
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let _ = std::fs::rename(entry.path(), self.aside.join(entry.file_name()));
            }
        }
        let _ = std::fs::remove_dir(&self.dir);
        std::fs::rename(&self.aside, &self.dir).expect("putting the sessions directory back");
    }
}

#[tokio::test]
async fn a_node_without_a_sessions_directory_lists_nothing_and_says_so() {
    // Whole: every recorded session on the real node writes into the
    // directory this test moves aside for a moment.
    let _whole = harness::whole_cluster();
    let node = real_node();
    let ns = TestNs::new("sessions-nodir").await;
    let dir = node_sessions_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let aside = dir.with_file_name(format!("sessions-aside-{}", random_suffix()));
    std::fs::rename(&dir, &aside).unwrap();
    let moved = DirectoryAside { dir, aside };
    let (code, out, err) = sessions(&ns, &["list", &node.name]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "");
    assert!(
        err.contains(&format!("note: node {} keeps no recordings", node.name))
            || err.contains("has no sessions directory"),
        "{err}"
    );
    assert!(err.contains("No sessions found."), "{err}");
    assert!(rows(&ns, &[&node.name]).await.is_empty());
    drop(moved);
    ns.finish().await;
}

#[tokio::test]
async fn where_recording_is_required_a_member_lists_and_gets_sessions() {
    let node = real_node();
    let ns = TestNs::new("sessions-req").await;
    let group = format!("oncall-{}", random_suffix());
    let member = ["--as", "dev", "--as-group", group.as_str()];
    let yaml = ns
        .require_recording(&group, &node.name, &node.image, true)
        .await;

    let token = random_suffix();
    let out = ns
        .toolbox_on_real_node()
        // A --persist pod, as an on-call member keeps one between sessions.
        .args(["node-shell", &node.name, "--persist", "5m"])
        .args(member)
        .args(["--", "echo", &format!("member-{token}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));

    // While the pod lives, from its log: the Role lets members read it.
    let mut args = vec!["list", "-o", "json"];
    args.extend(member);
    let (code, live, err) = sessions(&ns, &args).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("may not read pod logs"), "{err}");
    let live: Vec<Value> = serde_json::from_str(&live).unwrap();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(location_kinds(&live[0]), ["log"]);
    assert_eq!(live[0]["user"], "dev");
    let persisting = ns.toolbox_pods().await;
    let pod = persisting[0].metadata.name.clone().unwrap();
    ns.delete_pod_now(&pod).await;
    let pods: Api<Pod> = ns.pods();
    wait_until(Duration::from_secs(30), "the pod to be gone", || async {
        !harness::pod_exists(&pods, &pod).await
    })
    .await;

    // Then from the node's file, through the reader pod the policy admits.
    let mut args = vec!["list", node.name.as_str(), "-o", "json"];
    args.extend(member);
    let (code, listed, err) = sessions(&ns, &args).await;
    assert_eq!(code, Some(0), "{err}");
    let listed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    let ours: Vec<&Value> = listed
        .iter()
        .filter(|r| r["namespace"] == ns.name.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{listed:?}");
    assert_eq!(ours[0]["user"], "dev");
    assert_eq!(ours[0]["exit"], 0);
    let id = ours[0]["id"].as_str().unwrap().to_string();
    let mut args = vec!["get", id.as_str(), "-o", "text"];
    args.extend(member);
    let (code, text, err) = sessions(&ns, &args).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(text, format!("member-{token}\n"));

    ns.delete_yaml(&yaml);
    ns.finish().await;
}
