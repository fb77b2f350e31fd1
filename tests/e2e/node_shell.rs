//! `toolbox node-shell` against the local cluster.

use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::{
    NodeSpec, TestNs, assert_image_pull_failure, assert_session_steps, core_rule as rule,
    exit_pty_session, random_suffix, send_signal, spawn_on_pty, standin_records_with, stderr_of,
    stdout_of, wait_with_timeout,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;

#[tokio::test]
async fn a_command_runs_with_its_output_and_exit_status() {
    let mut ns = TestNs::new("ns-command").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args([
            "node-shell",
            &node,
            "--",
            "sh",
            "-c",
            "echo to-stdout; echo to-stderr >&2; exit 7",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "to-stdout\n");
    assert_eq!(
        stderr_of(&out),
        "to-stderr\n",
        "stderr stays apart and toolbox adds nothing"
    );
    assert_eq!(
        out.status.code(),
        Some(7),
        "the remote status passes through"
    );

    let ok = ns
        .toolbox()
        .args(["node-shell", &format!("node/{node}"), "--", "true"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", stderr_of(&ok));
    ns.finish().await;
}

#[tokio::test]
async fn piped_stdin_reaches_the_remote_command_and_the_login_shell() {
    let mut ns = TestNs::new("ns-stdin").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--", "cat"])
        .write_stdin("line one\nline two\n")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "line one\nline two\n");
    assert!(out.status.success(), "{}", stderr_of(&out));

    // Without a command, a login shell reads its commands from stdin.
    let token = format!("shell-{}", random_suffix());
    let out = ns
        .toolbox()
        .args(["node-shell", &node])
        .write_stdin(format!("echo {token}\nexit 3\n"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&token),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(out.status.code(), Some(3));
    let records = standin_records_with("exec bash -l");
    assert!(!records.is_empty(), "the shell is entered through nsenter");
    ns.finish().await;
}

/// What the stand-in nsenter received for one run of node-shell with `flags`.
async fn nsenter_args(ns: &TestNs, node: &str, flags: &[&str]) -> Option<Vec<String>> {
    let token = format!("ns-{}", random_suffix());
    let mut args = vec!["node-shell", node];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--", "echo", &token]);
    let out = ns.toolbox().args(&args).output().unwrap();
    assert!(out.status.success(), "{flags:?}: {}", stderr_of(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), token);
    let records = standin_records_with(&token);
    records
        .into_iter()
        .find(|r| r.tool == "nsenter")
        .map(|r| r.args)
}

#[tokio::test]
async fn each_no_flag_drops_one_namespace_and_x_skips_nsenter() {
    let mut ns = TestNs::new("ns-flags").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let all = ["--mount", "--uts", "--ipc", "--net", "--pid"];
    let expect = |dropped: &str| -> Vec<String> {
        let mut args: Vec<String> = ["--target", "1"].iter().map(|s| s.to_string()).collect();
        args.extend(all.iter().filter(|f| **f != dropped).map(|s| s.to_string()));
        args
    };
    let prefix =
        |args: Vec<String>| -> Vec<String> { args.into_iter().take_while(|a| a != "--").collect() };

    assert_eq!(
        prefix(nsenter_args(&ns, &node, &[]).await.unwrap()),
        expect("")
    );
    for (flag, namespace) in [
        ("--no-mount", "--mount"),
        ("--no-uts", "--uts"),
        ("--no-ipc", "--ipc"),
        ("--no-net", "--net"),
        ("--no-pid", "--pid"),
    ] {
        let args = nsenter_args(&ns, &node, &[flag])
            .await
            .unwrap_or_else(|| panic!("{flag}: no nsenter record"));
        assert_eq!(prefix(args), expect(namespace), "{flag}");
    }
    assert_eq!(
        nsenter_args(&ns, &node, &["-x"]).await,
        None,
        "-x runs without nsenter"
    );
    ns.finish().await;
}

#[tokio::test]
async fn keep_leaves_an_audited_pod_and_says_how_to_reach_and_remove_it() {
    let mut ns = TestNs::new("ns-keep").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args([
            "node-shell",
            &node,
            "--keep",
            "--reason",
            "INC-1234 disk full",
            "--ttl",
            "10m",
            "--no-net",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let pods = ns.toolbox_pods().await;
    assert_eq!(pods.len(), 1);
    let pod = &pods[0];
    let name = pod.metadata.name.clone().unwrap();
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!("kubectl delete pod -n {} {name}", ns.name)),
        "{stderr}"
    );
    assert!(stderr.contains("kubectl exec -it"), "{stderr}");

    assert!(name.starts_with("toolbox-shell-"), "{name}");
    let annotations = pod.metadata.annotations.clone().unwrap();
    assert_eq!(annotations["toolbox.dev/requested-by"], "admin");
    assert_eq!(annotations["toolbox.dev/reason"], "INC-1234 disk full");
    assert!(annotations.contains_key("toolbox.dev/expires-at"));
    assert!(annotations.contains_key("toolbox.dev/client-host"));
    assert!(annotations["toolbox.dev/command"].contains("true"));
    let labels = pod.metadata.labels.clone().unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "toolbox");
    assert_eq!(labels["toolbox.dev/node"], node);
    let spec = pod.spec.clone().unwrap();
    assert_eq!(spec.node_name.as_deref(), Some(node.as_str()));
    assert_eq!(spec.active_deadline_seconds, Some(600));
    assert_eq!(spec.host_pid, Some(true));
    assert_ne!(spec.host_network, Some(true), "--no-net drops hostNetwork");
    assert_eq!(
        spec.containers[0]
            .security_context
            .as_ref()
            .unwrap()
            .privileged,
        Some(true)
    );
    assert_eq!(
        spec.tolerations.unwrap()[0].operator.as_deref(),
        Some("Exists")
    );

    ns.delete_pod_now(&name).await;
    ns.cleanup().await;
}

/// A hint's command, run as printed with the cluster's kubectl, as a user
/// pasting it would (KUBECONFIG is the test's; the flags come from the hint).
fn run_hint(ns: &TestNs, hint: &str) -> std::process::Output {
    let words: Vec<&str> = hint.split_whitespace().collect();
    assert_eq!(words[0], "kubectl", "{hint}");
    std::process::Command::new(&ns.env.kubectl)
        .env("KUBECONFIG", &ns.env.kubeconfig)
        .args(&words[1..])
        .output()
        .unwrap()
}

/// The hints name the same cluster and identity as the command they came
/// from (--context, --as, ...), and they work when pasted.
#[tokio::test]
async fn hints_repeat_the_connection_flags_and_work_when_pasted() {
    let mut ns = TestNs::new("ns-hint-flags").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let nobody = format!("nobody-{}", random_suffix());
    let out = ns
        .toolbox()
        .args(["--context", "toolbox-local", "--as", &nobody])
        .args(["node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = stderr_of(&out);
    let check = stderr
        .split("(check with: ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("a check-with hint: {stderr}"));
    assert_eq!(
        check,
        format!("kubectl auth can-i get nodes --context toolbox-local --as {nobody}")
    );
    let answer = run_hint(&ns, check);
    assert_eq!(stdout_of(&answer).trim(), "no", "{}", stderr_of(&answer));

    let out = ns
        .toolbox()
        .args(["--context", "toolbox-local"])
        .args(["node-shell", &node, "--keep", "--", "true"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    let reach = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Reach it again: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(reach.contains(" --context toolbox-local "), "{reach}");
    let remove = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Remove it:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(remove.contains(" --context toolbox-local "), "{remove}");
    let removed = run_hint(&ns, remove);
    assert!(removed.status.success(), "{}", stderr_of(&removed));
    ns.finish().await;
}

#[tokio::test]
async fn an_unknown_node_is_named_with_the_closest_ones() {
    let mut ns = TestNs::new("ns-unknown").await;
    let node = ns.node("worker", NodeSpec::default()).await;
    let typo = node.replace("worker", "wroker");
    let out = ns
        .toolbox()
        .args(["node-shell", &typo, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = stderr_of(&out);
    assert!(
        stderr.starts_with(&format!("error: node \"{typo}\" not found (did you mean")),
        "{stderr}"
    );
    assert!(stderr.contains(&node), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
    ns.finish().await;
}

#[tokio::test]
async fn a_not_ready_node_fails_before_anything_is_created() {
    let mut ns = TestNs::new("ns-notready").await;
    let node = ns
        .node(
            "down",
            NodeSpec {
                not_ready: true,
                ..Default::default()
            },
        )
        .await;
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr_of(&out).contains("NotReady"), "{}", stderr_of(&out));
    ns.finish().await;
}

#[tokio::test]
async fn a_restricted_namespace_is_refused_up_front_naming_the_label() {
    let mut ns = TestNs::with_pod_security("ns-restricted", "restricted").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!(
            "namespace \"{}\" enforces PodSecurity \"restricted\"",
            ns.name
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("pod-security.kubernetes.io/enforce"),
        "{stderr}"
    );
    assert!(stderr.contains("privileged"), "{stderr}");
    ns.finish().await;
}

#[tokio::test]
async fn a_baseline_namespace_refuses_the_pod_at_admission_with_the_way_out() {
    let mut ns = TestNs::with_pod_security("ns-baseline", "baseline").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!(
            "namespace \"{}\" enforces PodSecurity \"baseline\"",
            ns.name
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("node-shell needs \"privileged\""),
        "{stderr}"
    );
    assert!(stderr.contains("-n kube-system"), "the way out: {stderr}");
    assert!(
        stderr.contains("(refused: host namespaces"),
        "the server's reasons: {stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    ns.finish().await;
}

#[tokio::test]
async fn dev_without_pods_exec_is_told_what_is_missing_and_leaves_nothing() {
    let mut ns = TestNs::new("ns-rbac").await;
    let node = ns.node("n", NodeSpec::default()).await;
    ns.grant_dev(vec![rule(
        &["pods"],
        &["create", "get", "list", "watch", "delete"],
    )])
    .await;
    ns.grant_dev_cluster(vec![
        rule(&["nodes"], &["get", "list"]),
        rule(&["namespaces"], &["get"]),
    ])
    .await;
    let out = ns
        .toolbox_as_dev()
        .args(["node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!(
            "dev cannot create or get pods/exec in namespace {}: toolbox creates no pod",
            ns.name
        )),
        "{stderr}"
    );
    assert!(ns.toolbox_pods().await.is_empty(), "no pod was created");

    // May create pods but not watch or delete them: such a pod would be
    // left running, so none is created, and the missing verbs are named.
    let mut create_only = TestNs::new("ns-rbac-create").await;
    create_only
        .grant_dev(vec![
            rule(&["pods"], &["create", "get", "list"]),
            rule(&["pods/exec"], &["create", "get"]),
        ])
        .await;
    let out = create_only
        .toolbox_as_dev()
        .args(["node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out).trim_end(),
        format!(
            "error: permission denied: dev cannot watch or delete pods in namespace {ns}: toolbox creates no pod that it could not follow, exec into and delete (check with: kubectl auth can-i watch pods -n {ns})",
            ns = create_only.name
        )
    );
    assert!(
        create_only.toolbox_pods().await.is_empty(),
        "no pod was created"
    );
    // The same for a fan-out run.
    let out = create_only
        .toolbox_as_dev()
        .args(["node-shell", &node, "--fanout", "2", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("dev cannot watch or delete pods"),
        "{}",
        stderr_of(&out)
    );
    assert!(
        create_only.toolbox_pods().await.is_empty(),
        "no pod was created"
    );
    create_only.finish().await;

    // dev may get nodes here, but not create pods in a namespace without a role.
    let bare = TestNs::new("ns-rbac-bare").await;
    let out = bare
        .toolbox_as_dev()
        .args(["node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr_of(&out).contains(&format!(
            "dev cannot create, watch or delete pods, nor create or get pods/exec in namespace {}",
            bare.name
        )),
        "{}",
        stderr_of(&out)
    );

    // A user with no grants at all (impersonated with --as) is stopped at the node lookup.
    let nobody = format!("nobody-{}", random_suffix());
    let out = ns
        .toolbox()
        .args(["--as", &nobody, "node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr_of(&out).contains(&format!("{nobody} cannot get nodes")),
        "{}",
        stderr_of(&out)
    );
    ns.finish().await;
    bare.finish().await;
}

#[tokio::test]
async fn an_image_pull_failure_ends_within_seconds_and_removes_the_pod() {
    let mut ns = TestNs::new("ns-pull").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let settings =
        ns.settings_file("[annotations]\n\"toolbox.test/simulate\" = \"image-pull-error\"\n");
    let started = Instant::now();
    let out = ns
        .toolbox()
        .args([
            "--config",
            settings.to_str().unwrap(),
            "node-shell",
            &node,
            "--image",
            "registry.invalid/nope:1",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_image_pull_failure(&out, started.elapsed());
    ns.finish().await;
}

/// A container that stops by itself before the session begins: the
/// kubelet's reason and exit code, and where to read why.
#[tokio::test]
async fn a_crashed_container_is_one_line_with_where_to_read_why() {
    let mut ns = TestNs::new("ns-crash").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let settings = ns.settings_file("[annotations]\n\"toolbox.test/simulate\" = \"crash\"\n");
    let out = ns
        .toolbox()
        .args(["--config", settings.to_str().unwrap()])
        .args(["node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    let line = stderr.trim_end();
    assert_eq!(line.lines().count(), 1, "{stderr}");
    let pod = line
        .strip_prefix("error: pod ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        line.ends_with(&format!(
            "could not start: Error: container exited with code 1: simulated crash; the container stopped before the session began; the kubelet's Events on the pod say why, and outlast it for an hour: kubectl get events -n {} --field-selector involvedObject.name={pod}",
            ns.name
        )),
        "{line}"
    );
    assert!(ns.toolbox_pods().await.is_empty(), "the pod is deleted");
    ns.finish().await;
}

#[tokio::test]
async fn a_slow_pod_times_out_with_its_state_and_is_removed() {
    let mut ns = TestNs::new("ns-timeout").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let settings = ns.settings_file("[annotations]\n\"toolbox.test/simulate\" = \"slow-start\"\n\"toolbox.test/start-delay\" = \"60s\"\n");
    let out = ns
        .toolbox()
        .args([
            "--config",
            settings.to_str().unwrap(),
            "node-shell",
            &node,
            "--timeout",
            "2s",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr_of(&out).contains("was not running after 2s"),
        "{}",
        stderr_of(&out)
    );
    ns.finish().await;
}

/// Starts `node-shell -- sleep 60` in the background and waits for its pod.
async fn running_session(
    ns: &TestNs,
    node: &str,
    extra: &[&str],
    settings: Option<&str>,
) -> std::process::Child {
    let mut cmd = ns.toolbox_process();
    if let Some(path) = settings {
        cmd.args(["--config", path]);
    }
    cmd.args(["node-shell", node])
        .args(extra)
        .args(["--", "sleep", "60"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().expect("starting toolbox")
}

#[tokio::test]
async fn signals_during_a_session_delete_the_pod() {
    let mut ns = TestNs::new("ns-signals").await;
    let node = ns.node("n", NodeSpec::default()).await;
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let mut child = running_session(&ns, &node, &[], None).await;
        let pod = ns
            .wait_for_toolbox_pod("Running", Duration::from_secs(20))
            .await;
        // The signal lands mid-session once the exec has started.
        ns.wait_for_exec(
            pod.metadata.name.as_deref().unwrap(),
            Duration::from_secs(20),
        )
        .await;
        send_signal(child.id(), signal);
        let status = wait_with_timeout(&mut child, Duration::from_secs(20));
        assert_eq!(status.code(), Some(code), "SIG{signal}");
        assert!(
            ns.toolbox_pods().await.is_empty(),
            "SIG{signal} left the pod behind"
        );
    }
    ns.finish().await;
}

#[tokio::test]
async fn ctrl_c_while_waiting_for_the_pod_deletes_it() {
    let mut ns = TestNs::new("ns-ctrlc-wait").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let settings = ns.settings_file("[annotations]\n\"toolbox.test/simulate\" = \"slow-start\"\n\"toolbox.test/start-delay\" = \"60s\"\n");
    let mut child = running_session(&ns, &node, &[], Some(settings.to_str().unwrap())).await;
    ns.wait_for_toolbox_pod("Pending", Duration::from_secs(20))
        .await;
    send_signal(child.id(), "INT");
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(130));
    ns.finish().await;
}

#[tokio::test]
async fn a_killed_client_leaves_a_pod_that_stops_itself_at_its_ttl() {
    let mut ns = TestNs::new("ns-sigkill").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let mut child = running_session(&ns, &node, &["--ttl", "3s"], None).await;
    let pod = ns
        .wait_for_toolbox_pod("Running", Duration::from_secs(20))
        .await;
    send_signal(child.id(), "KILL");
    wait_with_timeout(&mut child, Duration::from_secs(10));
    let name = pod.metadata.name.unwrap();
    let pods = ns.pods();
    let stopped: Pod = harness::wait_for_phase(
        &pods,
        &name,
        &["Failed", "Succeeded"],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(
        stopped.status.unwrap().reason.as_deref(),
        Some("DeadlineExceeded")
    );
    ns.delete_pod_now(&name).await;
    ns.cleanup().await;
}

#[tokio::test]
async fn an_interactive_session_through_a_pty() {
    use expectrl::Expect;
    let mut ns = TestNs::new("ns-pty").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let mut cmd = ns.toolbox_process();
    cmd.args(["node-shell", &node]);
    let token = random_suffix();
    let pods = ns.pods();
    let result = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
        // The remote side is a login shell on a TTY.
        session
            .send_line(format!(
                "tty >/dev/null && echo interactive-{token}-$((40+2))"
            ))
            .unwrap();
        session
            .expect(format!("interactive-{token}-42"))
            .expect("the command's output");
        exit_pty_session(session, "exit 5")
    })
    .await
    .unwrap();
    assert!(
        matches!(result, expectrl::process::unix::WaitStatus::Exited(_, 5)),
        "{result:?}"
    );
    assert!(
        pods.list(&ListParams::default().labels(harness::TOOLBOX_SELECTOR))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    ns.finish().await;
}

#[tokio::test]
async fn windows_nodes_get_a_host_process_pod() {
    let mut ns = TestNs::new("ns-windows").await;
    let node = ns
        .node(
            "win",
            NodeSpec {
                windows: true,
                ..Default::default()
            },
        )
        .await;
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--keep", "--", "hostname"])
        .output()
        .unwrap();
    // The simulated node runs Linux, so powershell is missing there; the pod is what counts.
    assert_eq!(out.status.code(), Some(127), "{}", stderr_of(&out));
    let pods = ns.toolbox_pods().await;
    let spec = pods[0].spec.clone().unwrap();
    let windows = spec.security_context.unwrap().windows_options.unwrap();
    assert_eq!(windows.host_process, Some(true));
    assert_eq!(
        windows.run_as_user_name.as_deref(),
        Some("NT AUTHORITY\\SYSTEM")
    );
    assert_eq!(spec.host_network, Some(true));
    assert!(
        spec.containers[0]
            .image
            .as_deref()
            .unwrap()
            .contains("windows")
    );
    ns.delete_pod_now(pods[0].metadata.name.as_deref().unwrap())
        .await;
    ns.cleanup().await;
}

#[tokio::test]
async fn bottlerocket_nodes_open_the_admin_container() {
    let mut ns = TestNs::new("ns-bottlerocket").await;
    let node = ns
        .node(
            "br",
            NodeSpec {
                os_image: Some("Bottlerocket OS 1.20.0 (aws-k8s-1.31)".into()),
                ..Default::default()
            },
        )
        .await;
    let token = format!("br-{}", random_suffix());
    let out = ns
        .toolbox()
        .args(["node-shell", &node])
        .write_stdin(format!("echo {token}\n"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&token));
    let log = std::fs::read_to_string(&ns.env.standin_log).unwrap();
    let apiclient = log
        .lines()
        .rev()
        .find(|l| l.contains("\"tool\":\"apiclient\""))
        .expect("apiclient was called");
    assert!(
        apiclient.contains("[\"exec\",\"admin\",\"bash\"]"),
        "{apiclient}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn rejected_credentials_are_one_clear_line() {
    let ns = TestNs::new("ns-creds").await;
    let server = &ns.env.server;
    let ca = ns.env.dir.join("state/pki/ca.crt");
    let kubeconfig = std::env::temp_dir().join(format!("{}-expired", ns.name));
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {server}\n    certificate-authority: {}\ncontexts:\n- name: expired\n  context:\n    cluster: local\n    user: old\nusers:\n- name: old\n  user:\n    token: expired-token\ncurrent-context: expired\n",
            ca.display()
        ),
    )
    .unwrap();
    let out = ns
        .toolbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["node-shell", "node-0001", "--", "true"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&kubeconfig);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out).trim(),
        "error: the API server of context \"expired\" rejected the credentials (401 Unauthorized): they may have expired; log in again and retry"
    );
    ns.finish().await;
}

#[tokio::test]
async fn verbose_shows_where_a_sessions_time_goes() {
    let mut ns = TestNs::new("ns-steps").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "-v", "--", "echo", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    assert_session_steps(&stderr_of(&out));
    ns.finish().await;
}

/// toolbox refuses a label selector before any request exactly when the
/// API server would refuse it: each selector is sent to the server (a node
/// list, 400 or not), and given to toolbox with a kubeconfig whose server
/// refuses connections (2 for refused by toolbox, 3 for sent).
#[tokio::test]
async fn toolbox_refuses_exactly_the_label_selectors_the_api_server_refuses() {
    let ns = TestNs::new("ns-selectors").await;
    let closed = ns.unreachable_kubeconfig("closed");
    let dir = closed.parent().unwrap().to_path_buf();
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(ns.admin.clone());
    let long = "a".repeat(64);
    let selectors = [
        "",
        "x",
        "!x",
        "x=a",
        "x==a",
        "x!=a",
        "x=",
        "x>1",
        "x<10",
        "x in (a,b)",
        "x notin (a)",
        "x in ()",
        "x in (,)",
        "x in (a,,b)",
        "x in(a)",
        "in",
        "in in (in)",
        "x=in",
        "example.com/X",
        "node-role.kubernetes.io/worker,!example.com/y",
        "bad selector!!",
        "a in (",
        "a in (b",
        "a in b",
        "a in (b c)",
        "a=b=c",
        "a===b",
        "a!==b",
        "!x=y",
        "x!",
        "!",
        "!!a",
        "a b",
        "a,",
        ",a",
        "a,,b",
        "(a)",
        "a)",
        "x>-1",
        "x>1.5",
        "x<a",
        "x>",
        "Example.com/x",
        "a/b/c",
        "a=b_",
        "a=-b",
        "a=ü",
        "a in (x)y",
        &long,
        &format!("x={long}"),
    ];
    for selector in selectors {
        let server = match nodes
            .list(&ListParams::default().labels(selector).limit(1))
            .await
        {
            Ok(_) => "accepted",
            Err(kube::Error::Api(status)) if status.code == 400 => "refused",
            Err(err) => panic!("{selector:?}: {err}"),
        };
        let out = std::process::Command::new(harness::toolbox_bin())
            .env("KUBECONFIG", &closed)
            .env("HOME", &dir)
            .args(["node-shell", "--all", "-l", selector, "--", "true"])
            .output()
            .unwrap();
        let toolbox = match out.status.code() {
            Some(3) => "accepted",
            Some(2) => "refused",
            other => panic!("{selector:?}: {other:?} {}", stderr_of(&out)),
        };
        assert_eq!(toolbox, server, "{selector:?}: {}", stderr_of(&out));
        if toolbox == "refused" {
            assert_eq!(stderr_of(&out).lines().count(), 1, "{}", stderr_of(&out));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    ns.finish().await;
}
