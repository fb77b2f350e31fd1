//! Faults between toolbox and the API server, injected with the harness's
//! [`FaultProxy`]: connections cut mid-session or while the pod starts, a
//! server that stays down, a slow server. What the user sees (one line, the
//! exit code) and what becomes of the pod are both asserted.

use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::{
    FaultProxy, NodeSpec, SILENT_LINK_TARGET, SessionEnd, SessionInProgress, TestNs, real_node,
    spawn_on_pty, spawn_session, start_session, stderr_of, wait_with_timeout,
};

const SESSION: &str = "echo start; sleep 30; echo end";

/// A node-shell session through `proxy`, once it has printed `start`.
fn session_via(ns: &TestNs, proxy: &FaultProxy, args: &[&str], stdin: Stdio) -> SessionInProgress {
    let mut toolbox = ns.toolbox_process_via(&proxy.kubeconfig());
    toolbox.arg("node-shell").args(args);
    start_session(toolbox, stdin, "start")
}

fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("error:")).collect()
}

#[tokio::test]
async fn a_cut_mid_session_ends_it_with_one_error_and_the_pod_is_deleted() {
    let mut ns = TestNs::new("faults-cut").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let proxy = FaultProxy::to_cluster();
    let session = session_via(
        &ns,
        &proxy,
        &[&node, "--", "sh", "-c", SESSION],
        Stdio::null(),
    );

    proxy.refuse_for(Duration::from_secs(5));
    proxy.cut();
    let cut_at = Instant::now();
    let SessionEnd {
        status,
        rest,
        stderr,
    } = session.end(Duration::from_secs(60));
    let took = cut_at.elapsed();

    assert_eq!(status.code(), Some(1), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert!(
        errors[0].contains("lost the connection to the API server") && errors[0].contains(&ns.name),
        "{stderr}"
    );
    assert!(!stderr.contains("WARN"), "no log lines: {stderr}");
    assert!(
        rest.lines().all(|l| l != "end"),
        "the session did not go on"
    );
    // Deletion retries while the port refuses (5s), then succeeds.
    assert!(took < Duration::from_secs(20), "took {took:?}: {stderr}");
    ns.finish().await;
}

#[tokio::test]
async fn a_server_that_stays_down_leaves_the_pod_with_one_complete_line() {
    let mut ns = TestNs::new("faults-down").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let proxy = FaultProxy::to_cluster();
    let session = session_via(
        &ns,
        &proxy,
        &[&node, "--ttl", "10m", "--", "sh", "-c", SESSION],
        Stdio::null(),
    );

    proxy.stay_down();
    let SessionEnd { status, stderr, .. } = session.end(Duration::from_secs(90));
    eprintln!("{stderr}");

    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(error_lines(&stderr).len(), 1, "{stderr}");
    let pods = ns.toolbox_pods().await;
    assert_eq!(pods.len(), 1, "the pod is still there");
    let pod = &pods[0];
    let name = pod.metadata.name.clone().unwrap();
    let expires_at = &pod.metadata.annotations.as_ref().unwrap()["toolbox.dev/expires-at"];
    assert_eq!(
        pod.spec.as_ref().unwrap().active_deadline_seconds,
        Some(600),
        "bounded by its TTL on the server"
    );
    let left: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("could not delete"))
        .collect();
    assert_eq!(left.len(), 1, "{stderr}");
    let line = left[0];
    for part in [
        format!("pod {name} in namespace {}", ns.name),
        format!("it stops by itself at {expires_at}"),
        format!("kubectl delete pod -n {} {name}", ns.name),
        "toolbox cleanup".to_string(),
        "could not be reached".to_string(),
    ] {
        assert!(line.contains(&part), "{part:?} missing from: {line}");
    }
    assert!(!stderr.contains("Status {"), "{stderr}");
    ns.delete_pod_now(&name).await;
    ns.finish().await;
}

#[tokio::test]
async fn a_cut_while_the_pod_starts_is_ridden_out() {
    let mut ns = TestNs::new("faults-wait").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let settings = ns.settings_file(
        "[annotations]\n\"toolbox.test/simulate\" = \"slow-start\"\n\"toolbox.test/start-delay\" = \"10s\"\n",
    );
    let proxy = FaultProxy::to_cluster();
    let mut child = ns
        .toolbox_process_via(&proxy.kubeconfig())
        .args(["--config", settings.to_str().unwrap(), "node-shell", &node])
        .args(["--", "echo", "ran"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting toolbox");
    ns.wait_for_toolbox_pod("Pending", Duration::from_secs(20))
        .await;
    // The cut comes while toolbox waits on the pod, through its watch.
    ns.wait_for_request("toolbox's watch of its pod", Duration::from_secs(20), |e| {
        e["verb"] == "watch"
            && e["objectRef"]["resource"] == "pods"
            && e["stage"] == "ResponseStarted"
    })
    .await;

    proxy.refuse_for(Duration::from_secs(3));
    proxy.cut();
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let out = child.wait_with_output().expect("output");
    let stderr = stderr_of(&out);
    eprintln!("{stderr}");

    assert_eq!(status.code(), Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ran\n");
    ns.finish().await;
}

#[tokio::test]
async fn a_slow_server_still_times_out_as_documented() {
    let mut ns = TestNs::new("faults-slow").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let settings = ns.settings_file(
        "[annotations]\n\"toolbox.test/simulate\" = \"slow-start\"\n\"toolbox.test/start-delay\" = \"60s\"\n",
    );
    let proxy = FaultProxy::to_cluster();
    proxy.set_latency(Duration::from_millis(200));
    let started = Instant::now();
    let out = ns
        .toolbox_process_via(&proxy.kubeconfig())
        .args(["--config", settings.to_str().unwrap(), "node-shell", &node])
        .args(["--timeout", "3s", "--", "true"])
        .output()
        .expect("running toolbox");
    let took = started.elapsed();
    let stderr = stderr_of(&out);
    eprintln!("{stderr}");

    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("was not running after 3s"), "{stderr}");
    assert_eq!(error_lines(&stderr).len(), 1, "{stderr}");
    // Connecting, creating and deleting cost a few slow round trips each;
    // the wait itself ends at --timeout.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    ns.finish().await;
}

#[tokio::test]
async fn a_cut_ends_a_session_whose_stdin_stays_open() {
    let mut ns = TestNs::new("faults-stdin").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let proxy = FaultProxy::to_cluster();
    // The remote command reads stdin, which toolbox keeps streaming.
    let session = session_via(
        &ns,
        &proxy,
        &[
            &node,
            "--",
            "sh",
            "-c",
            "echo start; cat >/dev/null; echo end",
        ],
        Stdio::piped(),
    );

    proxy.refuse_for(Duration::from_secs(3));
    proxy.cut();
    let SessionEnd { status, stderr, .. } = session.end(Duration::from_secs(60));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(error_lines(&stderr).len(), 1, "{stderr}");
    assert!(
        stderr.contains("lost the connection to the API server"),
        "{stderr}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn a_cut_ends_a_tty_session() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Eof, Expect};
    let mut ns = TestNs::new("faults-tty").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let proxy = std::sync::Arc::new(FaultProxy::to_cluster());
    let mut cmd = ns.toolbox_process_via(&proxy.kubeconfig());
    cmd.args(["node-shell", &node]);
    let cutter = proxy.clone();
    let (status, screen) = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
        session
            .send_line("echo started-$((40+2)); sleep 30")
            .unwrap();
        session.expect("started-42").expect("the shell to answer");
        cutter.refuse_for(Duration::from_secs(3));
        cutter.cut();
        let rest = session.expect(Eof).expect("toolbox to end");
        let screen = String::from_utf8_lossy(rest.as_bytes()).into_owned();
        (session.get_process().wait().unwrap(), screen)
    })
    .await
    .unwrap();
    assert!(
        matches!(status, WaitStatus::Exited(_, 1)),
        "{status:?}: {screen}"
    );
    assert!(
        screen.contains("error: lost the connection to the API server"),
        "{screen}"
    );
    ns.finish().await;
}

// ---------------------------------------------------------------------------
// A silent link: the proxy forwards nothing and closes nothing, as when
// Wi-Fi drops, a VPN reconnects or a laptop sleeps.

/// The one-command session of a silent-link test, with `-v` so that the
/// moment the command's stream ends shows on stderr.
fn silent_link_session(ns: &TestNs, proxy: &FaultProxy, node: &str) -> SessionInProgress {
    session_via(
        ns,
        proxy,
        &["-v", node, "--", "sh", "-c", SESSION],
        Stdio::null(),
    )
}

/// Silences `proxy` under a running session and checks that it ended
/// within the target, and what the user saw once the link came back.
fn end_by_silence(session: SessionInProgress, proxy: &FaultProxy) {
    let SessionEnd {
        status,
        rest,
        stderr,
    } = session.end_by_silence(proxy, "step: command ended");
    assert_eq!(status.code(), Some(1), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert!(
        errors[0].contains("lost the connection to the API server")
            && errors[0].contains("no answer from the API server for"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("could not delete"),
        "deleted once back: {stderr}"
    );
    assert!(
        rest.lines().all(|l| l != "end"),
        "the session did not go on"
    );
}

#[tokio::test]
async fn a_silent_link_mid_session_ends_it_within_the_target_and_the_pod_goes_once_it_is_back() {
    let mut ns = TestNs::new("faults-silent").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let proxy = FaultProxy::to_cluster();
    end_by_silence(silent_link_session(&ns, &proxy, &node), &proxy);
    ns.finish().await;
}

#[tokio::test]
async fn a_silent_link_mid_session_on_the_real_node_ends_it_within_the_target() {
    let ns = TestNs::new("faults-silent-real").await;
    let proxy = FaultProxy::to_cluster();
    let mut cmd = ns.toolbox_process_via(&proxy.kubeconfig());
    cmd.env("TOOLBOX_CONFIG", &real_node().settings).args([
        "node-shell",
        "-v",
        &real_node().name,
        "--",
        "sh",
        "-c",
        SESSION,
    ]);
    end_by_silence(start_session(cmd, Stdio::null(), "start"), &proxy);
    ns.finish().await;
}

#[tokio::test]
async fn a_link_silent_for_less_than_the_bound_loses_nothing() {
    let mut ns = TestNs::new("faults-blip").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let proxy = FaultProxy::to_cluster();
    let counting =
        "echo start; i=1; while [ $i -le 10 ]; do echo line-$i; i=$((i+1)); sleep 1; done";
    let session = session_via(
        &ns,
        &proxy,
        &[&node, "--", "sh", "-c", counting],
        Stdio::null(),
    );
    proxy.go_silent();
    // The outage itself, a fixed 5 s on purpose: shorter than the bound, so
    // it must be ridden out.
    std::thread::sleep(Duration::from_secs(5));
    proxy.restore();
    let SessionEnd {
        status,
        rest,
        stderr,
    } = session.end(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0), "{stderr}");
    let expected: String = (1..=10).map(|i| format!("line-{i}\n")).collect();
    assert_eq!(rest, expected, "every line, in order: {stderr}");
    assert!(error_lines(&stderr).is_empty(), "{stderr}");
    ns.finish().await;
}

#[tokio::test]
async fn a_silent_link_ends_a_tty_session_within_the_target() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Eof, Expect};
    let mut ns = TestNs::new("faults-silent-tty").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let proxy = std::sync::Arc::new(FaultProxy::to_cluster());
    let mut cmd = ns.toolbox_process_via(&proxy.kubeconfig());
    cmd.args(["node-shell", "-v", &node]);
    let silencer = proxy.clone();
    let (status, screen) = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
        session
            .send_line("echo started-$((40+2)); sleep 30")
            .unwrap();
        session.expect("started-42").expect("the shell to answer");
        silencer.go_silent();
        let silent_at = Instant::now();
        session.set_expect_timeout(Some(SILENT_LINK_TARGET));
        session
            .expect("step: command ended")
            .expect("the session to end within the target");
        eprintln!(
            "the silent link ended the TTY session after {:?}",
            silent_at.elapsed()
        );
        silencer.restore();
        session.set_expect_timeout(Some(Duration::from_secs(60)));
        let rest = session.expect(Eof).expect("toolbox to end");
        let screen = String::from_utf8_lossy(rest.as_bytes()).into_owned();
        (session.get_process().wait().unwrap(), screen)
    })
    .await
    .unwrap();
    assert!(
        matches!(status, WaitStatus::Exited(_, 1)),
        "{status:?}: {screen}"
    );
    assert!(
        screen.contains("error: lost the connection to the API server")
            && screen.contains("no answer from the API server for"),
        "{screen}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn an_idle_tty_session_outlives_the_silence_bound() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Eof, Expect};
    let mut ns = TestNs::new("faults-idle-tty").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let proxy = FaultProxy::to_cluster();
    let mut cmd = ns.toolbox_process_via(&proxy.kubeconfig());
    cmd.args(["node-shell", &node]);
    let (status, screen) = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
        // Nothing is printed for longer than the silence bound: only the
        // heartbeat's pings and pongs cross the link meanwhile.
        session.send_line("sleep 15; echo still-$((1+1))").unwrap();
        session.expect("still-2").expect("the session to be up");
        session.send_line("exit 3").unwrap();
        let rest = session.expect(Eof).expect("toolbox to end");
        let screen = String::from_utf8_lossy(rest.as_bytes()).into_owned();
        (session.get_process().wait().unwrap(), screen)
    })
    .await
    .unwrap();
    drop(proxy);
    assert!(
        matches!(status, WaitStatus::Exited(_, 3)),
        "{status:?}: {screen}"
    );
    assert!(!screen.contains("error:"), "{screen}");
    ns.finish().await;
}

#[tokio::test]
async fn a_silent_link_while_the_pod_starts_ends_the_session_within_the_target() {
    let mut ns = TestNs::new("faults-silent-wait").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let settings = ns.settings_file(
        "[annotations]\n\"toolbox.test/simulate\" = \"slow-start\"\n\"toolbox.test/start-delay\" = \"30s\"\n",
    );
    let proxy = FaultProxy::to_cluster();
    let mut toolbox = ns.toolbox_process_via(&proxy.kubeconfig());
    toolbox
        .args([
            "--config",
            settings.to_str().unwrap(),
            "node-shell",
            "-v",
            &node,
        ])
        .args(["--", "echo", "ran"]);
    let session = spawn_session(toolbox, Stdio::null());
    ns.wait_for_toolbox_pod("Pending", Duration::from_secs(20))
        .await;
    let SessionEnd {
        status,
        rest,
        stderr,
    } = session.end_by_silence(&proxy, "step: link silent");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(rest, "", "the command never ran");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("lost the connection to the API server")
            && errors[0].contains("the link went silent"),
        "{stderr}"
    );
    ns.finish().await;
}
