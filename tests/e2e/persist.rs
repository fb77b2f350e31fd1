//! `--persist`: a session's pod kept for the same user's next matching
//! session. What the pod does by itself (its holder ending it when idle, a
//! TTY, stdin and exit status in a reused pod) is proved on the real node;
//! which pods may be reused, the record of reuses, cleanup's listing and
//! `--persist 0` on simulated nodes too.

use std::time::Duration;

use harness::{
    FaultProxy, NodeSpec, SessionEnd, TestNs, annotation, core_rule as rule, real_node,
    spawn_on_pty, start_session, stderr_of, stdout_of, wait_until,
};

/// The name in "Pod NAME persists on node ..." on stderr.
fn persisting_pod(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("Pod ")?.split_once(" persists on node "))
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| panic!("no persisting pod named in:\n{stderr}"))
}

/// Ends a test whose pods persist on purpose: `toolbox cleanup` removes
/// them (as a person would), then the usual check that nothing is left.
async fn finish(ns: TestNs) {
    run(ns.toolbox(), &["cleanup", "-n", &ns.name, "-y"], 0);
    ns.finish().await;
}

/// Runs toolbox and returns its output, having checked its exit code.
fn run<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
    mut cmd: assert_cmd::Command,
    args: &[S],
    code: i32,
) -> std::process::Output {
    let out = cmd.args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: {}",
        stderr_of(&out)
    );
    out
}

#[tokio::test]
async fn the_same_user_reuses_the_pod_with_stdin_and_exit_status_and_each_reuse_is_recorded() {
    let node = real_node();
    let ns = TestNs::new("persist-reuse").await;
    let first = run(
        ns.toolbox_on_real_node(),
        &[
            "node-shell",
            &node.name,
            "--persist",
            "2m",
            "--",
            "hostname",
        ],
        0,
    );
    assert_eq!(stdout_of(&first), format!("{}\n", node.name));
    let pod = persisting_pod(&stderr_of(&first));

    let input = "through stdin\n";
    let mut piped = ns.toolbox_on_real_node();
    piped.write_stdin(input);
    let second = run(
        piped,
        &[
            "node-shell",
            &node.name,
            "--persist",
            "2m",
            "-v",
            "--",
            "cat",
        ],
        0,
    );
    assert_eq!(stdout_of(&second), input);
    let stderr = stderr_of(&second);
    assert!(stderr.contains("step: persisting pod claimed"), "{stderr}");
    assert!(!stderr.contains("step: pod created"), "{stderr}");
    assert_eq!(persisting_pod(&stderr), pod);

    let third = run(
        ns.toolbox_on_real_node(),
        &[
            "node-shell",
            &node.name,
            "--persist",
            "2m",
            "--",
            "sh",
            "-c",
            "exit 7",
        ],
        7,
    );
    assert_eq!(persisting_pod(&stderr_of(&third)), pod);

    let pods = ns.toolbox_pods().await;
    assert_eq!(pods.len(), 1, "one pod for three sessions");
    let reuses: serde_json::Value =
        serde_json::from_str(&annotation(&pods[0], "toolbox.dev/reuses").unwrap()).unwrap();
    let commands: Vec<&serde_json::Value> = reuses
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["command"])
        .collect();
    assert_eq!(
        commands,
        [
            &serde_json::json!(["node-shell", "--", "cat"]),
            &serde_json::json!(["node-shell", "--", "sh", "-c", "exit 7"])
        ]
    );
    assert!(reuses[0]["at"].as_str().unwrap().ends_with('Z'));
    assert!(annotation(&pods[0], "toolbox.dev/idle-until").is_some());
    finish(ns).await;
}

#[tokio::test]
async fn a_terminal_session_in_a_reused_pod_is_as_in_a_fresh_one() {
    use expectrl::{Eof, Expect};
    let node = real_node();
    let ns = TestNs::new("persist-pty").await;
    let first = run(
        ns.toolbox_on_real_node(),
        &["node-shell", &node.name, "--persist", "2m", "--", "true"],
        0,
    );
    let pod = persisting_pod(&stderr_of(&first));

    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args([
        "node-shell",
        &node.name,
        "--persist",
        "2m",
        "--",
        "sh",
        "-c",
        "[ -t 0 ] && [ -t 1 ] && echo on-a-tty; read answer; echo got-$answer; exit 3",
    ]);
    let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
    session.expect("on-a-tty").expect("a TTY in the reused pod");
    session.send_line("yes").unwrap();
    session.expect("got-yes").expect("input through the TTY");
    session.expect(Eof).expect("the session to end");
    let status = session.get_process().wait().unwrap();
    assert_eq!(
        status,
        expectrl::process::unix::WaitStatus::Exited(session.get_process().pid(), 3)
    );
    let pods = ns.toolbox_pods().await;
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].metadata.name.as_deref(), Some(pod.as_str()));
    finish(ns).await;
}

#[tokio::test]
async fn an_idle_pod_ends_by_itself_on_the_node_and_the_next_session_starts_afresh() {
    let node = real_node();
    let ns = TestNs::new("persist-idle").await;
    let first = run(
        ns.toolbox_on_real_node(),
        &["node-shell", &node.name, "--persist", "3s", "--", "true"],
        0,
    );
    let pod = persisting_pod(&stderr_of(&first));
    // Nothing but the pod's own holder ends it: toolbox has exited.
    wait_until(Duration::from_secs(30), "the idle pod to end", || async {
        ns.pods()
            .get(&pod)
            .await
            .ok()
            .and_then(|p| p.status?.phase)
            .is_some_and(|phase| phase == "Succeeded")
    })
    .await;

    let next = run(
        ns.toolbox_on_real_node(),
        &[
            "node-shell",
            &node.name,
            "--persist",
            "3s",
            "-v",
            "--",
            "true",
        ],
        0,
    );
    let stderr = stderr_of(&next);
    assert!(stderr.contains("step: pod created"), "{stderr}");
    assert_ne!(persisting_pod(&stderr), pod);
    wait_until(
        Duration::from_secs(30),
        "the ended pod to be deleted",
        || async { ns.pods().get_opt(&pod).await.ok().flatten().is_none() },
    )
    .await;
    finish(ns).await;
}

#[tokio::test]
async fn another_user_or_another_shape_never_reuses_a_pod() {
    let mut ns = TestNs::new("persist-owner").await;
    let node = ns.node("n", NodeSpec::default()).await;
    ns.grant_dev(vec![
        rule(
            &["pods"],
            &["create", "get", "list", "watch", "delete", "patch"],
        ),
        rule(&["pods/exec"], &["create", "get"]),
    ])
    .await;
    ns.grant_dev_cluster(vec![rule(&["nodes"], &["get", "list"])])
        .await;
    let persist = ["--persist", "5m"];
    let session = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["node-shell".to_string(), node.clone()];
        args.extend(persist.iter().chain(extra).map(|s| s.to_string()));
        args.extend(["--", "true"].map(String::from));
        args
    };

    let admins = persisting_pod(&stderr_of(&run(ns.toolbox(), &session(&[]), 0)));
    let devs = persisting_pod(&stderr_of(&run(ns.toolbox_as_dev(), &session(&[]), 0)));
    assert_ne!(devs, admins, "dev never runs in the admin's pod");
    let other_image = persisting_pod(&stderr_of(&run(
        ns.toolbox(),
        &session(&["--image", "busybox:1.37"]),
        0,
    )));
    let other_flags = persisting_pod(&stderr_of(&run(ns.toolbox(), &session(&["--no-net"]), 0)));
    let distinct: std::collections::BTreeSet<_> =
        [&admins, &devs, &other_image, &other_flags].into();
    assert_eq!(distinct.len(), 4, "four shapes or owners, four pods");

    // And each of them is found again by its own owner and shape.
    let again = persisting_pod(&stderr_of(&run(ns.toolbox(), &session(&[]), 0)));
    assert_eq!(again, admins);
    let dev_again = persisting_pod(&stderr_of(&run(ns.toolbox_as_dev(), &session(&[]), 0)));
    assert_eq!(dev_again, devs);
    let pods = ns.toolbox_pods().await;
    assert_eq!(pods.len(), 4);
    let dev_pod = pods
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some(devs.as_str()))
        .unwrap();
    assert_eq!(
        annotation(dev_pod, "toolbox.dev/requested-by").as_deref(),
        Some("dev")
    );
    finish(ns).await;
}

#[tokio::test]
async fn cleanup_lists_persisting_pods_with_their_idle_expiry() {
    let mut ns = TestNs::new("persist-cleanup").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = run(
        ns.toolbox(),
        &["node-shell", &node, "--persist", "10m", "--", "true"],
        0,
    );
    let pod = persisting_pod(&stderr_of(&out));
    let until = annotation(
        &ns.pods().get(&pod).await.unwrap(),
        "toolbox.dev/idle-until",
    )
    .expect("the idle expiry on the pod");

    let table = run(ns.toolbox(), &["cleanup", "-n", &ns.name, "--dry-run"], 0);
    let line = stdout_of(&table)
        .lines()
        .find(|l| l.contains(&pod))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{pod} not listed:\n{}", stdout_of(&table)));
    assert!(
        line.contains(&format!("Running (persisting, idle until {until})")),
        "{line}"
    );
    let json = run(
        ns.toolbox(),
        &["cleanup", "-n", &ns.name, "--dry-run", "-o", "json"],
        0,
    );
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["pods"][0]["persisting"]["idleUntil"], until);
    finish(ns).await;
}

#[tokio::test]
async fn persist_zero_ends_the_persisting_pod_after_its_session() {
    let mut ns = TestNs::new("persist-zero").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = run(
        ns.toolbox(),
        &["node-shell", &node, "--persist", "10m", "--", "true"],
        0,
    );
    persisting_pod(&stderr_of(&out));
    let ended = run(
        ns.toolbox(),
        &["node-shell", &node, "--persist", "0", "-v", "--", "true"],
        0,
    );
    let stderr = stderr_of(&ended);
    assert!(stderr.contains("step: persisting pod claimed"), "{stderr}");
    assert!(stderr.contains("step: pod deleted"), "{stderr}");
    assert!(!stderr.contains(" persists on node "), "{stderr}");
    assert!(ns.toolbox_pods().await.is_empty());
    ns.finish().await;
}

#[tokio::test]
async fn persist_is_for_one_session_and_is_checked_before_anything_starts() {
    let mut ns = TestNs::new("persist-usage").await;
    let a = ns.node("a", NodeSpec::default()).await;
    let b = ns.node("b", NodeSpec::default()).await;
    let fanout = run(
        ns.toolbox(),
        &["node-shell", &a, &b, "--persist", "1m", "--", "true"],
        2,
    );
    assert!(stderr_of(&fanout).contains("--persist takes one node"));
    let keep = run(
        ns.toolbox(),
        &["node-shell", &a, "--persist", "1m", "--keep", "--", "true"],
        2,
    );
    assert!(stderr_of(&keep).contains("--keep"), "{}", stderr_of(&keep));
    let bad = run(ns.toolbox(), &["node-shell", &a, "--persist", "soon"], 2);
    assert!(stderr_of(&bad).contains("--persist"), "{}", stderr_of(&bad));
    assert!(ns.toolbox_pods().await.is_empty());
    ns.finish().await;
}

#[tokio::test]
async fn the_persist_setting_keeps_pods_without_the_flag() {
    let mut ns = TestNs::new("persist-setting").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let with_setting = || {
        let mut cmd = ns.toolbox();
        cmd.env("TOOLBOX_PERSIST", "10m");
        cmd
    };
    let first = run(with_setting(), &["node-shell", &node, "--", "true"], 0);
    let pod = persisting_pod(&stderr_of(&first));
    let second = run(
        with_setting(),
        &["node-shell", &node, "-v", "--", "true"],
        0,
    );
    let stderr = stderr_of(&second);
    assert!(stderr.contains("step: persisting pod claimed"), "{stderr}");
    assert_eq!(persisting_pod(&stderr), pod);
    // Without the setting or the flag, a session neither looks nor persists.
    let plain = run(ns.toolbox(), &["node-shell", &node, "-v", "--", "true"], 0);
    let stderr = stderr_of(&plain);
    assert!(stderr.contains("step: pod deleted"), "{stderr}");
    assert!(!stderr.contains("persist"), "{stderr}");
    assert_eq!(ns.toolbox_pods().await.len(), 1);
    finish(ns).await;
}

#[tokio::test]
async fn a_silent_link_ends_a_session_in_a_reused_pod_within_the_target() {
    use std::process::Stdio;
    let mut ns = TestNs::new("persist-silent").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = run(
        ns.toolbox(),
        &["node-shell", &node, "--persist", "10m", "--", "true"],
        0,
    );
    let pod = persisting_pod(&stderr_of(&out));
    let proxy = FaultProxy::to_cluster();
    let mut reuse = ns.toolbox_process_via(&proxy.kubeconfig());
    reuse
        .args(["node-shell", "-v", &node, "--persist", "10m"])
        .args(["--", "sh", "-c", "echo start; sleep 30; echo end"]);
    let SessionEnd {
        status,
        rest,
        stderr,
    } = start_session(reuse, Stdio::null(), "start").end_by_silence(&proxy, "step: command ended");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("persisting pod claimed")
            && stderr.contains("no answer from the API server for"),
        "the session ran in the reused pod and ended on the silence: {stderr}"
    );
    assert!(
        rest.lines().all(|l| l != "end"),
        "the session did not go on"
    );
    // A failed session leaves a reused pod to its idle loop.
    let pods = ns.toolbox_pods().await;
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].metadata.name.as_deref(), Some(pod.as_str()));
    finish(ns).await;
}
