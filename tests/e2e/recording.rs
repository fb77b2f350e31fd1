//! Session recording on the real node (docs/sessions.md): what toolbox's
//! sessions leave in the node's sessions directory and in the container
//! log, read back the way a person auditing them would, by the asciicast
//! format's rules.
//!
//! The node's directory is read through its init process's root
//! (`/proc/PID/root`): the real node has a mount namespace of its own.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use harness::{
    NodeSpec, TestNs, cluster, node_init_pid, random_suffix, real_node, recorder_records_with,
    send_signal, spawn_on_pty, standin_records_with, stderr_of, stdout_of, wait_until,
    wait_with_timeout,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use serde_json::Value;

/// The real node's `/var/log/toolbox/sessions`, as this machine sees it.
fn node_sessions_dir() -> PathBuf {
    PathBuf::from(format!(
        "/proc/{}/root/var/log/toolbox/sessions",
        node_init_pid(&cluster().dir)
    ))
}

/// One recording, checked line by line against asciicast v2.
#[derive(Debug)]
struct Cast {
    header: Value,
    /// (time, code, data), in the file's order.
    events: Vec<(f64, String, String)>,
}

impl Cast {
    /// Parses `text`, failing the test on anything asciicast v2 does not
    /// allow: every line whole JSON, a version 2 header with a size, events
    /// of the four codes with times that never go back.
    fn parse(text: &str) -> Cast {
        let mut lines = text.lines();
        let header: Value = serde_json::from_str(lines.next().expect("a header line"))
            .unwrap_or_else(|e| panic!("header: {e}\n{text}"));
        assert_eq!(header["version"], 2, "{header}");
        assert!(header["width"].as_u64().unwrap_or(0) > 0, "{header}");
        assert!(header["height"].as_u64().unwrap_or(0) > 0, "{header}");
        assert!(header["timestamp"].as_u64().is_some(), "{header}");
        let mut events = Vec::new();
        let mut last = 0.0;
        for line in lines {
            let event: (f64, String, String) = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("event {line:?}: {e}\n{text}"));
            assert!(event.0 >= last, "time went back at {line}");
            assert!(
                ["o", "i", "r", "m"].contains(&event.1.as_str()),
                "unknown event code in {line}"
            );
            last = event.0;
            events.push(event);
        }
        Cast { header, events }
    }

    /// What the output events say, joined.
    fn output(&self) -> String {
        self.data_of("o")
    }

    fn data_of(&self, code: &str) -> String {
        self.events
            .iter()
            .filter(|(_, c, _)| c == code)
            .map(|(_, _, data)| data.as_str())
            .collect()
    }

    fn exit_marker(&self) -> Option<&str> {
        self.events
            .last()
            .filter(|(_, code, _)| code == "m")
            .map(|(_, _, data)| data.as_str())
    }
}

/// The node's recordings whose text contains `token`, by id.
fn node_recordings_with(token: &str) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(node_sessions_dir()) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".cast")?.to_string();
            let text = std::fs::read_to_string(entry.path()).ok()?;
            text.contains(token).then_some((id, text))
        })
        .collect()
}

/// Waits until exactly one of the node's recordings mentions `token` and
/// has ended (its exit marker is written); returns its id and contents.
async fn ended_recording_with(token: &str) -> (String, Cast) {
    wait_until(Duration::from_secs(30), "an ended recording", || async {
        let found = node_recordings_with(token);
        found.len() == 1 && Cast::parse(&found[0].1).exit_marker().is_some()
    })
    .await;
    let (id, text) = node_recordings_with(token).remove(0);
    (id, Cast::parse(&text))
}

/// The session ids of the recorded execs the stand-ins saw with `token`.
fn recorded_ids_in_standins(token: &str) -> Vec<String> {
    recorder_records_with(token)
        .into_iter()
        .filter_map(|record| {
            let at = record.args.iter().position(|a| a == "--id")?;
            record.args.get(at + 1).cloned()
        })
        .collect()
}

#[tokio::test]
async fn an_interactive_session_is_recorded_with_what_it_showed_its_resize_and_its_exit() {
    use expectrl::{Expect, Regex};
    let node = real_node();
    let ns = TestNs::new("rec-pty").await;
    let token = random_suffix();
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args(["node-shell", &node.name]);
    let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
    let typed_output = format!("typed-{token}-42");
    let (status, id) = tokio::task::spawn_blocking(move || {
        session
            .expect(Regex(format!(r"root@{}:[^\r\n]*# ", node.name)))
            .expect("the node's prompt");
        session
            .send_line(format!("echo typed-{token}-$((40+2))"))
            .unwrap();
        session
            .expect(format!("typed-{token}-42"))
            .expect("the command's output");
        session.get_process_mut().set_window_size(123, 41).unwrap();
        // The resize travels on its own channel: ask until the shell sees it.
        loop {
            session.send_line("echo size-$(stty size)-end").unwrap();
            let found = session
                .expect(Regex(r"size-(\d+ \d+)-end"))
                .expect("stty size's output");
            if found.get(1) == Some(b"41 123".as_slice()) {
                break;
            }
        }
        session.send_line("exit 3").unwrap();
        let said = session
            .expect(Regex(r"Session recorded as (\S+);"))
            .expect("the recording's id after the session");
        let id = String::from_utf8(said.get(1).unwrap().to_vec()).unwrap();
        (harness::wait_for_pty_end(&mut session), id)
    })
    .await
    .unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 3)),
        "{status:?}"
    );

    let (found, cast) = ended_recording_with(&typed_output).await;
    assert_eq!(found, id, "the id toolbox printed names the node's file");
    let who = &cast.header["toolbox"];
    assert_eq!(who["session"], id.as_str());
    assert_eq!(who["node"], node.name.as_str());
    assert_eq!(who["namespace"], ns.name.as_str());
    assert!(
        who["pod"]
            .as_str()
            .is_some_and(|pod| pod.starts_with("toolbox-shell-")),
        "{who}"
    );
    assert!(who["user"].as_str().is_some_and(|u| !u.is_empty()), "{who}");
    assert_eq!(who["tty"], true);
    assert_eq!(who["input"], false);
    assert!(
        id.starts_with(&format!("{}.", node.name)),
        "the id names its node first: {id}"
    );
    let output = cast.output();
    let typed = output.find("-42").expect("the echo's output is recorded");
    let resized = output
        .find("size-41 123-end")
        .expect("stty size after the resize");
    assert!(typed < resized, "output in the order it was shown");
    assert!(
        cast.events
            .iter()
            .any(|(_, code, data)| code == "r" && data == "123x41"),
        "the resize is recorded: {:?}",
        cast.events
            .iter()
            .filter(|e| e.1 == "r")
            .collect::<Vec<_>>()
    );
    assert!(cast.data_of("i").is_empty(), "input is left out by default");
    assert_eq!(cast.exit_marker(), Some("exit 3"));
    ns.finish().await;
}

#[tokio::test]
async fn the_container_log_carries_the_recording_while_the_session_runs_and_the_file_outlives_the_pod()
 {
    let node = real_node();
    let ns = TestNs::new("rec-log").await;
    let token = random_suffix();
    let mut child = ns
        .toolbox_process_on_real_node()
        .args(["node-shell", &node.name, "--", "sh", "-c"])
        .arg(format!("echo started-{token}; exec sleep 600"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting toolbox");
    let pod = ns
        .wait_for_toolbox_pod("Running", Duration::from_secs(60))
        .await;
    let name = pod.metadata.name.clone().unwrap();
    let pods: Api<Pod> = ns.pods();
    let log_params = LogParams {
        container: Some("shell".to_string()),
        ..LogParams::default()
    };
    let log_lines = || async {
        let log = pods.logs(&name, &log_params).await.unwrap_or_default();
        log.lines()
            .map(|line| {
                serde_json::from_str::<Value>(line)
                    .unwrap_or_else(|e| panic!("log line {line:?}: {e}"))
            })
            .collect::<Vec<Value>>()
    };
    let started = format!("started-{token}");
    wait_until(
        Duration::from_secs(30),
        "the session's output in the container log",
        || async {
            log_lines().await.iter().any(|line| {
                line["cast"][1] == "o"
                    && line["cast"][2]
                        .as_str()
                        .is_some_and(|d| d.contains(&started))
            })
        },
    )
    .await;
    let lines = log_lines().await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the session still runs while its output is in the log"
    );
    let id = lines[0]["session"]
        .as_str()
        .expect("a session id")
        .to_string();
    assert_eq!(lines[0]["cast"]["version"], 2, "the header comes first");
    assert!(
        lines.iter().all(|line| line["session"] == id.as_str()),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|line| line.to_string().len() <= 4096),
        "each log line fits in one atomic pipe write"
    );

    // Ctrl-C ends the session; toolbox deletes its pod.
    send_signal(child.id(), "INT");
    wait_with_timeout(&mut child, Duration::from_secs(30));
    wait_until(Duration::from_secs(30), "the pod to be gone", || async {
        !harness::pod_exists(&pods, &name).await
    })
    .await;
    let file = std::fs::read_to_string(node_sessions_dir().join(format!("{id}.cast")))
        .expect("the node's file outlives the pod");
    let cast = Cast::parse(&file);
    assert!(cast.output().contains(&format!("started-{token}")));
    assert_eq!(cast.header["toolbox"]["pod"], name.as_str());
    ns.finish().await;
}

#[tokio::test]
async fn a_client_killed_mid_session_leaves_a_whole_recording_up_to_that_point() {
    use expectrl::{Expect, Regex};
    let node = real_node();
    let ns = TestNs::new("rec-kill").await;
    let token = random_suffix();
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args(["node-shell", &node.name]);
    let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
    let pid = session.get_process().pid();
    let marker = format!("before-kill-{token}");
    let typed = marker.clone();
    tokio::task::spawn_blocking(move || {
        session
            .expect(Regex(format!(r"root@{}:[^\r\n]*# ", node.name)))
            .expect("the node's prompt");
        session.send_line(format!("echo {typed}-$((1+1))")).unwrap();
        session
            .expect(format!("{typed}-2"))
            .expect("the command's output");
        send_signal(pid.as_raw() as u32, "KILL");
    })
    .await
    .unwrap();

    // Whatever the recorder saw is on the node, in whole events; the pod
    // stays (SIGKILL gave toolbox no chance) until the test removes it.
    wait_until(
        Duration::from_secs(30),
        "the recording of the output",
        || async {
            node_recordings_with(&format!("{marker}-2"))
                .iter()
                .any(|(_, text)| text.contains(&format!("{marker}-2\\r\\n")))
        },
    )
    .await;
    let (_, text) = node_recordings_with(&format!("{marker}-2")).remove(0);
    assert!(text.ends_with('\n'), "only whole lines: {text}");
    let cast = Cast::parse(&text);
    assert!(cast.output().contains(&format!("{marker}-2")));
    for pod in ns.toolbox_pods().await {
        ns.delete_pod_now(pod.metadata.name.as_deref().unwrap())
            .await;
    }
    ns.finish().await;
}

#[tokio::test]
async fn record_input_adds_what_was_typed_and_the_default_leaves_it_out() {
    let node = real_node();
    let ns = TestNs::new("rec-input").await;
    for (flag, token) in [
        (None, random_suffix()),
        (Some("--record-input"), random_suffix()),
    ] {
        let mut cmd = ns.toolbox_on_real_node();
        cmd.args(["node-shell", &node.name]);
        if let Some(flag) = flag {
            cmd.arg(flag);
        }
        let out = cmd
            .args(["--", "sh", "-c"])
            .arg(format!("read line; echo read-{token}-${{#line}}"))
            .write_stdin(format!("secret-{token}\n"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        assert_eq!(stdout_of(&out), format!("read-{token}-13\n"));
        let (_, cast) = ended_recording_with(&format!("read-{token}")).await;
        assert_eq!(cast.header["toolbox"]["tty"], false);
        let typed = cast.data_of("i");
        match flag {
            None => {
                assert!(typed.is_empty(), "no input events by default: {typed:?}");
                assert_eq!(cast.header["toolbox"]["input"], false);
                assert!(
                    !node_recordings_with(&format!("read-{token}"))[0]
                        .1
                        .contains("secret-"),
                    "what was typed stays out of the recording"
                );
            }
            Some(_) => {
                assert_eq!(typed, format!("secret-{token}\n"));
                assert_eq!(cast.header["toolbox"]["input"], true);
            }
        }
        assert_eq!(cast.exit_marker(), Some("exit 0"));
    }
    ns.finish().await;
}

#[tokio::test]
async fn no_record_runs_the_command_without_the_recorder() {
    let node = real_node();
    let mut ns = TestNs::new("rec-off").await;
    let simulated = ns.node("n1", NodeSpec::default()).await;
    let token = random_suffix();
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &simulated, &node.name, "--no-record", "--"])
        .args(["echo", &format!("unrecorded-{token}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(recorded_ids_in_standins(&token).is_empty());
    assert!(
        !standin_records_with(&token).is_empty(),
        "the simulated node ran the command"
    );
    assert!(node_recordings_with(&format!("unrecorded-{token}")).is_empty());
    ns.finish().await;
}

#[tokio::test]
async fn a_fan_out_run_records_each_node_with_its_own_session() {
    let node = real_node();
    let mut ns = TestNs::new("rec-fan").await;
    for i in 1..=9 {
        ns.node(&format!("n{i}"), NodeSpec::default()).await;
    }
    let set = format!("{}-n[1-9]", ns.name);
    let token = random_suffix();
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &set, &node.name, "--"])
        .args(["echo", &format!("fanned-{token}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // Simulated nodes: each exec went through the recorder, with an id of
    // its own that names its node.
    let ids = recorded_ids_in_standins(&token);
    assert_eq!(ids.len(), 9, "{ids:?}");
    let mut nodes: Vec<&str> = ids
        .iter()
        .map(|id| id.rsplit_once('.').unwrap().0)
        .collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes.len(), 9, "one session per node: {ids:?}");
    // The real node: a real recording, of that node.
    let (id, cast) = ended_recording_with(&format!("fanned-{token}")).await;
    assert!(id.starts_with(&format!("{}.", node.name)), "{id}");
    assert_eq!(cast.output(), format!("fanned-{token}\n"));
    assert_eq!(cast.exit_marker(), Some("exit 0"));
    ns.finish().await;
}

#[tokio::test]
async fn an_image_without_the_recorder_gets_it_from_the_recorder_image() {
    let node = real_node();
    let ns = TestNs::new("rec-init").await;
    let token = random_suffix();
    // The node-tools image is not the recorder image here, so an init
    // container of the recorder image brings the binary.
    let settings = ns.settings_file(&format!(
        "image = {img:?}\ndebug_image = {img:?}\nrecorder_image = {rec:?}\nimage_pull_policy = \"Never\"\n",
        img = node.image,
        rec = node.recorder_image
    ));
    let out = ns
        .toolbox()
        .env("TOOLBOX_CONFIG", &settings)
        .args(["debug-node", &node.name, "--profile", "sysadmin", "--"])
        .args(["echo", &format!("installed-{token}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let (_, cast) = ended_recording_with(&format!("installed-{token}")).await;
    assert!(
        cast.header["toolbox"]["pod"]
            .as_str()
            .is_some_and(|pod| pod.starts_with("toolbox-debug-"))
    );

    // baseline keeps to its PodSecurity level: no hostPath, so the
    // recording goes to the container log only, and the recorder says so.
    let out = ns
        .toolbox()
        .env("TOOLBOX_CONFIG", &settings)
        .args(["debug-node", &node.name, "--profile", "baseline", "--"])
        .args(["echo", &format!("log-only-{token}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("recording to the container log only"),
        "{}",
        stderr_of(&out)
    );
    assert!(node_recordings_with(&format!("log-only-{token}")).is_empty());
    ns.finish().await;
}
