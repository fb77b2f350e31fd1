//! toolbox and its peers on the cluster's real node (kubelet, containerd,
//! runc): the --ttl enforced by a real kubelet, real image errors,
//! kubectl-node-shell and `kubectl debug node/...` run for real, and cleanup
//! of what those peers leave behind.
//!
//! These tests fail, never skip, when the cluster has no real node.

use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use harness::{
    NODE_SHELL_NSENTER, RealNode, TestNs, exit_pty_session, kubectl_node_shell_overrides,
    pod_exists, random_suffix, real_node, send_signal, spawn_on_pty, stderr_of, stdout_of,
    wait_for_phase, wait_with_timeout,
};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams};
use serde_json::Value;

/// The exit code for a pod that could not start (docs/node-shell.md).
const POD_FAILED: i32 = 4;

/// kubectl-node-shell's `--overrides`, with `command` run in the node's
/// namespaces and the node's local image.
fn node_shell_overrides(node: &RealNode, command: &[&str]) -> String {
    let command: Vec<&str> = NODE_SHELL_NSENTER
        .iter()
        .copied()
        .chain(["--"])
        .chain(command.iter().copied())
        .collect();
    kubectl_node_shell_overrides(&node.name, None, &node.image, false, &command)
}

/// kubectl-node-shell's pod name: `nsenter-` and six lowercase letters.
fn node_shell_name() -> String {
    format!("nsenter-{}", random_suffix())
}

fn phase_and_reason(pod: &Pod) -> (Option<&str>, Option<&str>) {
    let status = pod.status.as_ref();
    (
        status.and_then(|s| s.phase.as_deref()),
        status.and_then(|s| s.reason.as_deref()),
    )
}

/// cleanup's JSON report: (name, tool, phase, result) per pod, and the counts.
fn cleanup_report(out: &std::process::Output) -> (Vec<(String, String, String, String)>, Value) {
    let value: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout_of(out)));
    let mut pods: Vec<_> = value["pods"]
        .as_array()
        .expect("a pods array")
        .iter()
        .map(|p| {
            let field = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            (
                field("name"),
                field("tool"),
                field("phase"),
                field("result"),
            )
        })
        .collect();
    pods.sort();
    (pods, value)
}

// ---------------------------------------------------------------------------
// The --ttl, enforced by the real kubelet
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_killed_client_leaves_a_pod_the_real_kubelet_stops_at_its_ttl_then_cleanup_removes_it() {
    let node = real_node();
    let ns = TestNs::new("rn-ttl").await;
    let pods = ns.pods();
    let mut cmd = ns.toolbox_process_on_real_node();
    cmd.args([
        "node-shell",
        &node.name,
        "--ttl",
        "5s",
        "--",
        "sleep",
        "600",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("starting toolbox");
    let pod = ns
        .wait_for_toolbox_pod("Running", Duration::from_secs(60))
        .await;
    let name = pod.metadata.name.clone().unwrap();
    // The client dies mid-session, once the exec of `sleep 600` has started.
    ns.wait_for_exec(&name, Duration::from_secs(30)).await;
    send_signal(child.id(), "KILL");
    wait_with_timeout(&mut child, Duration::from_secs(10));
    assert!(
        pod_exists(&pods, &name).await,
        "SIGKILL gives toolbox no chance to delete its pod"
    );

    // 5s of TTL from the pod's start; the kubelet syncs a pod past its
    // deadline within a second or two.
    let stopped = wait_for_phase(
        &pods,
        &name,
        &["Failed", "Succeeded"],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        phase_and_reason(&stopped),
        (Some("Failed"), Some("DeadlineExceeded")),
        "{:?}",
        stopped.status
    );
    let lived = {
        let status = stopped.status.as_ref().unwrap();
        let started = status.start_time.as_ref().unwrap().0;
        let finished = status
            .container_statuses
            .as_ref()
            .and_then(|c| {
                c.first()?
                    .state
                    .as_ref()?
                    .terminated
                    .as_ref()?
                    .finished_at
                    .clone()
            })
            .expect("the container ended")
            .0;
        finished.as_millisecond() - started.as_millisecond()
    };
    assert!(
        (4_000..=15_000).contains(&lived),
        "the pod lived {lived}ms for a 5s TTL"
    );

    let out = ns
        .toolbox_on_real_node()
        .args(["cleanup", "-n", &ns.name, "--finished", "-y", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let (found, counts) = cleanup_report(&out);
    assert_eq!(
        found,
        [(
            name.clone(),
            "toolbox".to_string(),
            "Failed".to_string(),
            "deleted".to_string()
        )],
        "{}",
        stdout_of(&out)
    );
    assert_eq!(
        (counts["found"].as_u64(), counts["deleted"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(!pod_exists(&pods, &name).await, "cleanup removed {name}");
    ns.finish().await;
}

// ---------------------------------------------------------------------------
// Image errors, as the real kubelet reports them
// ---------------------------------------------------------------------------

/// An image without `sleep` cannot hold the pod: runc's own reason, without
/// its wrapping, and what image to use instead.
#[tokio::test]
async fn an_image_without_sleep_is_named_as_the_cause() {
    let ns = TestNs::new("real-no-sleep").await;
    let node = real_node();
    let out = ns
        .toolbox_on_real_node()
        .args([
            "debug-node",
            &node.name,
            "--image",
            &node.pause_image,
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(POD_FAILED), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        error.contains(
            "could not start: StartError: container exited with code 128: exec: \"sleep\": executable file not found in $PATH; the image cannot run toolbox's holder (`sleep`)"
        ),
        "{error}"
    );
    ns.finish().await;
}

/// The real kubelet stops the pod at its --ttl while the command runs: the
/// session ends with SIGKILL's status, as the command was killed, and one
/// line says why and how to ask for more.
#[tokio::test]
async fn a_session_that_outlives_its_ttl_is_told_so_in_one_line() {
    let ns = TestNs::new("real-ttl-reached").await;
    let node = real_node();
    let started = Instant::now();
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--ttl", "5s", "--"])
        .args(["sh", "-c", "echo start; sleep 60; echo end"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(137), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "start\n");
    // The kubelet acts on the deadline at once; the bound allows for a
    // loaded machine, while the command alone would run for a minute.
    assert!(took < Duration::from_secs(55), "ended after {took:?}");
    let stderr = stderr_of(&out);
    let line = stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "one line: {stderr}");
    assert!(
        line.starts_with("toolbox: pod toolbox-shell-")
            && line.ends_with(
                "reached its --ttl of 5s and the kubelet stopped it, killing the command (exit 137); for a longer session, ask for more, e.g. --ttl 10s"
            ),
        "{line}"
    );
    // A command that kills itself the same way is not mistaken for it.
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--", "sh", "-c", "kill -9 $$"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(137), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "");
    ns.finish().await;
}

/// Runs `node-shell NODE --image IMAGE --image-pull-policy POLICY -- true`
/// and checks what a user sees: one line with the kubelet's reason and
/// message (which is what the kubelet's Warning Event says) and a hint
/// naming `hint`, exit 4, within seconds, and no pod left. Returns the line.
async fn assert_kubelet_image_error(
    ns: &TestNs,
    image: &str,
    policy: &str,
    reasons: &[&str],
    message: &str,
    hint: &str,
) -> String {
    let node = real_node();
    // Built (or waited for) before the clock starts: the bound is toolbox's.
    harness::toolbox_bin();
    let started = Instant::now();
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--image", image])
        .args(["--image-pull-policy", policy, "--", "true"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = stderr_of(&out);
    assert!(
        took < Duration::from_secs(20),
        "{image} ({policy}) took {took:?}: {stderr}"
    );
    assert_eq!(out.status.code(), Some(POD_FAILED), "{stderr}");
    assert_eq!(stdout_of(&out), "");
    let line = stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "one line: {stderr}");

    // error: pod NAME could not start: REASON: MESSAGE; HINT
    let rest = line
        .strip_prefix("error: pod ")
        .unwrap_or_else(|| panic!("{line}"));
    let (pod, rest) = rest
        .split_once(" could not start: ")
        .unwrap_or_else(|| panic!("{line}"));
    let (reason, rest) = rest.split_once(": ").unwrap_or_else(|| panic!("{line}"));
    let (kubelet_message, printed_hint) =
        rest.rsplit_once("; ").unwrap_or_else(|| panic!("{line}"));
    assert!(reasons.contains(&reason), "reason {reason}: {line}");
    assert!(kubelet_message.contains(message), "{line}");
    assert!(printed_hint.contains(hint), "the hint names {hint}: {line}");
    assert!(
        !pod_exists(&ns.pods(), pod).await,
        "the pod {pod} was deleted: {line}"
    );

    // The kubelet's Warning Event about the pod says what toolbox printed.
    let events: Api<Event> = Api::namespaced(ns.admin.clone(), &ns.name);
    let fields = format!("involvedObject.name={pod}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let warnings: Vec<String> = events
            .list(&ListParams::default().fields(&fields))
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.type_.as_deref() == Some("Warning"))
            .map(|e| {
                format!(
                    "{}: {}",
                    e.reason.unwrap_or_default(),
                    e.message.unwrap_or_default()
                )
            })
            .collect();
        if warnings.iter().any(|e| e.contains(kubelet_message)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no Warning Event on {pod} says {kubelet_message:?}; Events: {warnings:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    line.to_string()
}

#[tokio::test]
async fn an_absent_image_with_pull_policy_never_is_the_kubelets_err_image_never_pull() {
    let ns = TestNs::new("rn-never-pull").await;
    let image = "localhost/toolbox/absent:1";
    let line = assert_kubelet_image_error(
        &ns,
        image,
        "Never",
        &["ErrImageNeverPull"],
        &format!("Container image \"{image}\" is not present with pull policy of Never"),
        "--image-pull-policy",
    )
    .await;
    eprintln!("{line}");
    ns.finish().await;
}

#[tokio::test]
async fn an_unreachable_registry_is_the_kubelets_err_image_pull_within_seconds() {
    let ns = TestNs::new("rn-pull").await;
    // Port 1 on loopback: nothing listens, so the pull fails at once.
    let image = "127.0.0.1:1/toolbox/absent:1";
    for policy in ["Always", "IfNotPresent"] {
        let line = assert_kubelet_image_error(
            &ns,
            image,
            policy,
            &["ErrImagePull", "ImagePullBackOff"],
            "127.0.0.1:1",
            "--image-pull-secret",
        )
        .await;
        assert!(line.contains("connection refused"), "{line}");
        eprintln!("{policy}: {line}");
    }
    ns.finish().await;
}

// ---------------------------------------------------------------------------
// The peers, run for real
// ---------------------------------------------------------------------------

#[tokio::test]
async fn kubectl_node_shell_runs_its_one_command_on_the_real_node() {
    let node = real_node();
    let ns = TestNs::new("rn-peer-node-shell").await;
    let name = node_shell_name();
    // What kubectl-node-shell runs when a script is piped to it: its login
    // shell on the host reads the script from the attached stdin. (A
    // one-shot command instead races kubectl's attach: a command that ends
    // first loses its output.)
    let out = ns
        .kubectl()
        .args(["run", &name, "-i", "--rm", "--restart=Never"])
        .args(["--image", &node.image, "--image-pull-policy=Never"])
        .args(["--overrides", &node_shell_overrides(node, &["bash", "-l"])])
        .write_stdin("hostname\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(
        stdout.lines().any(|l| l.trim() == node.name),
        "the node's hostname: {stdout}{}",
        stderr_of(&out)
    );
    assert!(!pod_exists(&ns.pods(), &name).await, "--rm removed {name}");
    ns.finish().await;
}

#[tokio::test]
async fn kubectl_debug_node_runs_an_interactive_shell_on_the_real_node() {
    use expectrl::Expect;
    use expectrl::process::unix::WaitStatus;

    let node = real_node();
    let ns = TestNs::new("rn-peer-debug").await;
    let mut cmd = StdCommand::new(&ns.env.kubectl);
    cmd.env("KUBECONFIG", &ns.env.kubeconfig)
        .args([
            "-n",
            &ns.name,
            "debug",
            &format!("node/{}", node.name),
            "-it",
        ])
        .args(["--profile", "sysadmin", "--image", &node.image])
        .args(["--image-pull-policy", "Never", "--", "sh"]);
    let token = random_suffix();
    // The typed line holds `$(...)`; only the shell's output holds the result.
    let expected = format!("host={}-{token}", node.name);
    let line = format!(
        "echo \"host=$({} -- hostname)-{token}\"",
        NODE_SHELL_NSENTER.join(" ")
    );
    let status = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(60));
        session
            .expect("If you don't see a command prompt")
            .expect("kubectl attaching");
        session.send_line(&line).unwrap();
        session
            .expect(expected.as_str())
            .expect("the node's hostname through nsenter");
        exit_pty_session(session, "exit")
    })
    .await
    .unwrap();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");

    // kubectl debug never deletes its pod.
    let left: Vec<String> = ns
        .pods()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|p| p.metadata.name)
        .collect();
    assert!(
        left.len() == 1 && left[0].starts_with(&format!("node-debugger-{}-", node.name)),
        "{left:?}"
    );
    ns.delete_pod_now(&left[0]).await;
    ns.finish().await;
}

// ---------------------------------------------------------------------------
// cleanup of the peers' leftovers on the real node
// ---------------------------------------------------------------------------

#[tokio::test]
async fn cleanup_removes_the_running_leftovers_of_kubectl_debug_and_kubectl_node_shell() {
    let node = real_node();
    let ns = TestNs::new("rn-cl-peers").await;
    let pods = ns.pods();

    let out = ns
        .kubectl()
        .args(["debug", &format!("node/{}", node.name)])
        .args(["--image", &node.image, "--image-pull-policy", "Never"])
        .args(["--", "sleep", "600"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let debugger = stdout_of(&out)
        .split_whitespace()
        .find(|w| w.starts_with("node-debugger-"))
        .unwrap_or_else(|| panic!("kubectl names its pod: {}", stdout_of(&out)))
        .to_string();

    let node_shell = node_shell_name();
    let out = ns
        .kubectl()
        .args(["run", &node_shell, "--restart=Never"])
        .args(["--image", &node.image, "--image-pull-policy=Never"])
        .args([
            "--overrides",
            &node_shell_overrides(node, &["sleep", "600"]),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));

    for name in [&debugger, &node_shell] {
        let pod = wait_for_phase(
            &pods,
            name,
            &["Running", "Failed", "Succeeded"],
            Duration::from_secs(60),
        )
        .await;
        assert_eq!(
            phase_and_reason(&pod).0,
            Some("Running"),
            "{name}: {:?}",
            pod.status
        );
    }

    let mut expected = vec![
        (
            debugger.clone(),
            "kubectl-debug".to_string(),
            "Running".to_string(),
            "deleted".to_string(),
        ),
        (
            node_shell.clone(),
            "node-shell".to_string(),
            "Running".to_string(),
            "deleted".to_string(),
        ),
    ];
    expected.sort();
    let out = ns
        .toolbox_on_real_node()
        .args(["cleanup", "-n", &ns.name, "--node", &node.name])
        .args(["-y", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let (found, counts) = cleanup_report(&out);
    assert_eq!(found, expected, "{}", stdout_of(&out));
    assert_eq!(
        (counts["found"].as_u64(), counts["deleted"].as_u64()),
        (Some(2), Some(2))
    );
    for name in [&debugger, &node_shell] {
        assert!(
            !pod_exists(&pods, name).await,
            "{name} is gone from the API"
        );
    }
    ns.finish().await;
}
