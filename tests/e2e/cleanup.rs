//! `toolbox cleanup` against the local cluster: the leftovers of every tool,
//! look-alikes left alone, the filters, confirming, RBAC, and 1,000 pods.
//!
//! Without -n, cleanup looks in every namespace, and tests run side by side:
//! every run here is scoped to the test's own nodes (--node) or namespace.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::{
    FaultProxy, NodeSpec, TOOLBOX_SELECTOR, TestNs, core_rule as rule, pod_exists, random_suffix,
    spawn_on_pty, stderr_of, stdout_of, wait_for_phase, wait_for_pty_end,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Value, json};

/// kubectl-node-shell's pod, as its script builds it with `kubectl run`.
fn node_shell_pod(name: &str, node: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": { "run": name } },
        "spec": {
            "nodeName": node, "hostPID": true, "hostNetwork": true, "restartPolicy": "Never",
            "containers": [{ "name": "nsenter", "image": "docker.io/library/alpine",
                "securityContext": { "privileged": true }, "stdin": true, "stdinOnce": true,
                "command": ["nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--", "bash", "-l"] }],
            "tolerations": [{ "key": "CriticalAddonsOnly", "operator": "Exists" }, { "effect": "NoExecute", "operator": "Exists" }]
        }
    }))
    .unwrap()
}

/// k9s's node shell pod.
fn k9s_pod(name: &str, node: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": {
            "nodeName": node, "hostPID": true, "hostNetwork": true, "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "containers": [{ "name": "k9s-shell", "image": "busybox:1.37", "stdin": true,
                "securityContext": { "privileged": true },
                "volumeMounts": [{ "name": "root-vol", "mountPath": "/host", "readOnly": true }] }],
            "volumes": [{ "name": "root-vol", "hostPath": { "path": "/" } }],
            "tolerations": [{ "operator": "Exists" }]
        }
    }))
    .unwrap()
}

/// Lens's node shell pod (Lens puts it in kube-system).
fn lens_pod(name: &str, node: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": {
            "nodeName": node, "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
            "hostPID": true, "hostIPC": true, "hostNetwork": true,
            "priorityClassName": "system-node-critical",
            "tolerations": [{ "operator": "Exists" }],
            "containers": [{ "name": "shell", "image": "docker.io/alpine:3.13",
                "securityContext": { "privileged": true },
                "command": ["nsenter"], "args": ["-t", "1", "-m", "-u", "-i", "-n", "sleep", "14000"] }]
        }
    }))
    .unwrap()
}

/// An ordinary pod on the node, with no host namespaces and no privilege.
fn ordinary_pod(name: &str, node: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": { "nodeName": node, "containers": [{ "name": "app", "image": "alpine" }] }
    }))
    .unwrap()
}

async fn create(pods: &Api<Pod>, pod: &Pod) -> String {
    pods.create(&PostParams::default(), pod)
        .await
        .expect("creating a pod")
        .metadata
        .name
        .unwrap_or_default()
}

fn uuid_like() -> String {
    // Lens uses a v4 UUID; any lowercase hex in its groups will do.
    let hex = |n: usize| {
        (0..n)
            .map(|i| {
                let c = random_suffix().as_bytes()[i % 6];
                char::from(b"0123456789abcdef"[(c % 16) as usize])
            })
            .collect::<String>()
    };
    format!("{}-{}-4{}-a{}-{}", hex(8), hex(4), hex(3), hex(3), hex(12))
}

/// cleanup's JSON report: pod name to its tool and result.
fn report(output: &std::process::Output) -> BTreeMap<String, (String, String)> {
    let value: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", stdout_of(output)));
    value["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                (
                    p["tool"].as_str().unwrap().to_string(),
                    p["result"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

/// The names cleanup would delete with `flags` (a dry run, as JSON).
fn found(ns: &TestNs, flags: &[&str]) -> Vec<String> {
    let out = ns
        .toolbox()
        .args(["cleanup", "--dry-run", "-o", "json"])
        .args(flags)
        .output()
        .unwrap();
    assert!(out.status.success(), "{flags:?}: {}", stderr_of(&out));
    report(&out).into_keys().collect()
}

#[tokio::test]
async fn the_leftovers_of_every_tool_are_found_and_removed_and_look_alikes_kept() {
    let mut ns = TestNs::new("cl-every-tool").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    let kube_system: Api<Pod> = Api::namespaced(ns.admin.clone(), "kube-system");

    // toolbox's own, kept after its session.
    let out = ns
        .toolbox()
        .args([
            "node-shell",
            &node,
            "--keep",
            "--reason",
            "e2e",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let toolbox_pod = ns.toolbox_pods().await[0].metadata.name.clone().unwrap();
    // kubectl debug's, through the cluster's own kubectl.
    let out = ns
        .kubectl()
        .args([
            "debug",
            &format!("node/{node}"),
            "--image",
            "busybox",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let kubectl_pod = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("node-debugger-"))
        .expect("kubectl names its pod")
        .to_string();
    let node_shell = create(
        &pods,
        &node_shell_pod(&format!("nsenter-{}", random_suffix()), &node),
    )
    .await;
    let k9s = create(&pods, &k9s_pod("k9s-shell-48213", &node)).await;
    let lens = create(
        &kube_system,
        &lens_pod(&format!("node-shell-{}", uuid_like()), &node),
    )
    .await;
    let look_alike = create(&pods, &ordinary_pod("nsenter-abc123", &node)).await;

    let listed = ns
        .toolbox()
        .args(["cleanup", "--node", &node, "--dry-run", "-o", "json"])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", stderr_of(&listed));
    let expected: BTreeMap<String, (String, String)> = [
        (&toolbox_pod, "toolbox"),
        (&kubectl_pod, "kubectl-debug"),
        (&node_shell, "node-shell"),
        (&k9s, "k9s"),
        (&lens, "lens"),
    ]
    .into_iter()
    .map(|(name, tool)| (name.clone(), (tool.to_string(), "dry-run".to_string())))
    .collect();
    assert_eq!(
        report(&listed),
        expected,
        "the namespace setting does not narrow"
    );
    let json: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let ours = json["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == toolbox_pod.as_str())
        .unwrap();
    assert_eq!(ours["startedBy"], "admin");
    assert_eq!(ours["reason"], "e2e");

    let table = ns
        .toolbox()
        .args(["cleanup", "--node", &node, "--dry-run"])
        .output()
        .unwrap();
    let text = stdout_of(&table);
    assert!(
        text.starts_with("NAMESPACE") && text.contains("STARTED BY"),
        "{text}"
    );
    let row = text.lines().find(|l| l.contains(&toolbox_pod)).unwrap();
    assert!(
        row.contains("toolbox") && row.trim_end().ends_with("admin"),
        "{row}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("kube-system") && l.contains(&lens)),
        "{text}"
    );

    let out = ns
        .toolbox()
        .args(["cleanup", "--node", &node, "-y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    for name in [&toolbox_pod, &kubectl_pod, &node_shell, &k9s] {
        assert!(
            stdout_of(&out).contains(&format!(
                "pod \"{name}\" deleted from {} namespace",
                ns.name
            )),
            "{}",
            stdout_of(&out)
        );
        assert!(!pod_exists(&pods, name).await, "{name} is gone");
    }
    assert!(!pod_exists(&kube_system, &lens).await, "{lens} is gone");
    assert!(
        stderr_of(&out).contains("Deleted 5 pods."),
        "{}",
        stderr_of(&out)
    );
    assert!(
        pod_exists(&pods, &look_alike).await,
        "the ordinary pod is left alone"
    );
    assert!(!stdout_of(&out).contains("nsenter-abc123"));

    ns.delete_pod_now(&look_alike).await;
    ns.finish().await;
}

#[tokio::test]
async fn the_filters_narrow_by_node_tool_age_phase_and_namespace() {
    let mut ns = TestNs::new("cl-filters").await;
    let node_a = ns.node("a", NodeSpec::default()).await;
    let node_b = ns.node("b", NodeSpec::default()).await;
    let pods = ns.pods();

    let old = create(
        &pods,
        &node_shell_pod(&format!("nsenter-{}", random_suffix()), &node_a),
    )
    .await;
    // The first pod is 20s older than the others; the 8s threshold leaves
    // the younger ones 12s of slack on a loaded machine (the real node's
    // tests may run beside this one). A fixed wait on purpose: it ages the
    // pod, there is no event to wait for.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let mut crashed = k9s_pod("k9s-shell-7", &node_a);
    crashed.metadata.annotations =
        Some([("toolbox.test/simulate".to_string(), "crash".to_string())].into());
    let crashed = create(&pods, &crashed).await;
    let on_b = create(&pods, &k9s_pod("k9s-shell-8", &node_b)).await;
    // At once, while the new pods are seconds younger than the first one.
    assert_eq!(
        found(&ns, &["--node", &node_a, "--older-than", "8s"]),
        [old.as_str()],
        "--older-than"
    );
    wait_for_phase(&pods, &crashed, &["Failed"], Duration::from_secs(30)).await;

    let mut all = found(&ns, &["-n", &ns.name]);
    all.sort();
    let mut expected = vec![old.clone(), crashed.clone(), on_b.clone()];
    expected.sort();
    assert_eq!(all, expected, "-n alone");
    assert_eq!(found(&ns, &["--node", &node_b]), [on_b.as_str()], "--node");
    assert_eq!(
        found(&ns, &["--node", &format!("node/{node_b}")]),
        [on_b.as_str()],
        "--node node/NAME"
    );
    assert_eq!(
        found(&ns, &["--node", &node_a, "--tool", "node-shell"]),
        [old.as_str()],
        "--tool"
    );
    let mut two_tools = found(
        &ns,
        &["--node", &node_a, "--tool", "node-shell", "--tool", "k9s"],
    );
    two_tools.sort();
    let mut a_pods = vec![old.clone(), crashed.clone()];
    a_pods.sort();
    assert_eq!(two_tools, a_pods, "--tool, repeated");
    assert_eq!(
        found(&ns, &["--node", &node_a, "--finished"]),
        [crashed.as_str()],
        "--finished"
    );
    assert!(found(&ns, &["--node", &node_a, "--older-than", "1h"]).is_empty());
    assert!(
        found(&ns, &["--node", &node_a, "-n", "default"]).is_empty(),
        "-n narrows"
    );
    assert_eq!(
        found(&ns, &["--node", &node_b, "-n", "default", "-A"]),
        [on_b.as_str()],
        "-A wins over -n, as in kubectl"
    );

    let none = ns
        .toolbox()
        .args(["cleanup", "--node", &node_a, "--older-than", "1h"])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(0));
    assert_eq!(stdout_of(&none), "");
    assert!(
        stderr_of(&none).contains("No node-debug pods found in any namespace."),
        "{}",
        stderr_of(&none)
    );

    let out = ns
        .toolbox()
        .args(["cleanup", "-n", &ns.name, "-y", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (value["found"].as_u64(), value["deleted"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(report(&out).values().all(|(_, result)| result == "deleted"));
    ns.finish().await;
}

#[tokio::test]
async fn without_a_terminal_or_yes_it_lists_and_refuses() {
    let mut ns = TestNs::new("cl-refuse").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    let name = create(
        &pods,
        &node_shell_pod(&format!("nsenter-{}", random_suffix()), &node),
    )
    .await;

    let out = ns
        .toolbox()
        .args(["cleanup", "--node", &node])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains(&name),
        "the pods are listed: {}",
        stdout_of(&out)
    );
    assert_eq!(
        stderr_of(&out).trim(),
        "error: refusing to delete 1 pod without a terminal to confirm; add -y"
    );
    let out = ns
        .toolbox()
        .args(["cleanup", "--node", &node, "-o", "yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout_of(&out).contains("result: unconfirmed"),
        "{}",
        stdout_of(&out)
    );
    assert!(pod_exists(&pods, &name).await, "nothing was deleted");

    let out = ns
        .toolbox()
        .args(["cleanup", "--node", &node, "-y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!pod_exists(&pods, &name).await);
    ns.finish().await;
}

#[tokio::test]
async fn on_a_terminal_a_multi_select_confirms_what_to_delete() {
    use expectrl::Expect;
    use expectrl::process::unix::WaitStatus;

    let mut ns = TestNs::new("cl-select").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    // Listed in this order: k9s-shell-1 first, where the cursor starts.
    let kept = create(&pods, &k9s_pod("k9s-shell-1", &node)).await;
    let chosen = create(
        &pods,
        &node_shell_pod(&format!("nsenter-{}", random_suffix()), &node),
    )
    .await;
    let run = |keys: &'static str| {
        let mut cmd = ns.toolbox_process();
        cmd.args(["cleanup", "--node", &node]);
        move || {
            let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
            session.expect("Delete 2 pods?").expect("the prompt");
            session.expect("nsenter-").expect("the pods");
            session.send(keys).unwrap();
            wait_for_pty_end(&mut session)
        }
    };

    // Esc cancels: 130, and nothing is deleted.
    let status = tokio::task::spawn_blocking(run("\x1b")).await.unwrap();
    assert!(matches!(status, WaitStatus::Exited(_, 130)), "{status:?}");
    assert!(pod_exists(&pods, &kept).await && pod_exists(&pods, &chosen).await);

    // Space unselects the first pod; Enter deletes the rest.
    let status = tokio::task::spawn_blocking(run(" \r")).await.unwrap();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
    assert!(pod_exists(&pods, &kept).await, "the unselected pod stays");
    assert!(
        !pod_exists(&pods, &chosen).await,
        "the selected pod is gone"
    );

    ns.delete_pod_now(&kept).await;
    ns.finish().await;
}

#[tokio::test]
async fn ctrl_c_at_the_prompt_cancels_with_130_shows_the_cursor_and_deletes_nothing() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Eof, Expect};

    let mut ns = TestNs::new("cl-ctrlc").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    let leftover = create(&pods, &k9s_pod("k9s-shell-1", &node)).await;
    let mut cmd = ns.toolbox_process();
    cmd.args(["cleanup", "--node", &node]);
    let (status, screen) = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
        // Everything toolbox wrote to the terminal, in order.
        let mut screen = Vec::new();
        for awaited in ["Delete 1 pod?", "k9s-shell-1"] {
            let seen = session.expect(awaited).expect("the prompt and its pod");
            screen.extend_from_slice(seen.as_bytes());
        }
        session.send("\x03").unwrap();
        let rest = session.expect(Eof).expect("toolbox to exit");
        screen.extend_from_slice(rest.as_bytes());
        let status = session.get_process().wait().unwrap();
        (status, String::from_utf8_lossy(&screen).into_owned())
    })
    .await
    .unwrap();

    // Killed by the SIGINT that the prompt raises, toolbox would end
    // Signaled, with the cursor still hidden.
    assert!(
        matches!(status, WaitStatus::Exited(_, 130)),
        "{status:?}: {screen:?}"
    );
    let hidden = screen
        .rfind("\x1b[?25l")
        .expect("the prompt hides the cursor");
    assert!(
        screen[hidden..].contains("\x1b[?25h"),
        "the cursor is shown again after the prompt: {screen:?}"
    );
    let after_prompt = &screen[hidden..];
    assert!(
        after_prompt.contains("Cancelled; nothing deleted."),
        "{screen:?}"
    );
    assert!(
        !after_prompt.contains("error:"),
        "a cancellation is no error: {screen:?}"
    );
    assert!(pod_exists(&pods, &leftover).await, "Ctrl-C deleted the pod");

    ns.delete_pod_now(&leftover).await;
    ns.finish().await;
}

#[tokio::test]
async fn ctrl_c_while_deleting_stops_with_130_and_says_how_far_it_got() {
    use expectrl::process::unix::WaitStatus;
    use expectrl::{Eof, Expect};

    let mut ns = TestNs::new("cl-ctrlc-del").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    let leftover = create(&pods, &k9s_pod("k9s-shell-1", &node)).await;
    let proxy = FaultProxy::to_cluster();
    let mut cmd = ns.toolbox_process_via(&proxy.kubeconfig());
    cmd.args(["cleanup", "--node", &node]);
    let (status, rest, took) = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(60));
        session
            .expect("k9s-shell-1")
            .expect("the prompt and its pod");
        // The deletion then waits longer than toolbox's own 30 s limit for it.
        proxy.set_latency(Duration::from_secs(45));
        let sent = proxy.chunks_from_clients();
        session.send("\r").unwrap();
        // The deletion has begun once toolbox sends its request (which the
        // proxy then holds back).
        proxy.wait_for_client_chunk_after(sent, Duration::from_secs(20));
        let interrupted_at = Instant::now();
        session.send("\x03").unwrap();
        let rest = session.expect(Eof).expect("toolbox to exit");
        let status = session.get_process().wait().unwrap();
        let took = interrupted_at.elapsed();
        drop(proxy);
        (
            status,
            String::from_utf8_lossy(rest.as_bytes()).into_owned(),
            took,
        )
    })
    .await
    .unwrap();

    // Caught for the prompt and left unwatched, SIGINT would do nothing:
    // the deletion would fail after 30 s and toolbox exit 1.
    assert!(
        matches!(status, WaitStatus::Exited(_, 130)),
        "{status:?}: {rest:?}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(
        rest.contains("Interrupted by SIGINT: 0 of 1 pod deleted."),
        "{rest:?}"
    );
    assert!(
        !rest.contains("error:"),
        "an interruption is no error: {rest:?}"
    );
    assert!(pod_exists(&pods, &leftover).await);

    ns.delete_pod_now(&leftover).await;
    ns.finish().await;
}

#[tokio::test]
async fn dev_may_list_but_not_delete_and_gets_an_error_per_pod() {
    let mut ns = TestNs::new("cl-rbac").await;
    let node = ns.node("n", NodeSpec::default()).await;
    ns.grant_dev(vec![rule(&["pods"], &["get", "list"])]).await;
    let pods = ns.pods();
    let first = create(
        &pods,
        &node_shell_pod(&format!("nsenter-{}", random_suffix()), &node),
    )
    .await;
    let second = create(&pods, &k9s_pod("k9s-shell-99", &node)).await;

    let out = ns
        .toolbox_as_dev()
        .args(["cleanup", "-n", &ns.name, "-y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    for name in [&first, &second] {
        let line = format!(
            "error: cannot delete pod \"{name}\" in namespace {ns}: permission denied: dev cannot delete pods in namespace {ns}",
            ns = ns.name
        );
        assert_eq!(stderr.matches(&line).count(), 1, "{stderr}");
        assert!(pod_exists(&pods, name).await);
    }
    assert!(
        stderr.contains("Deleted 0 pods; 2 pods could not be deleted."),
        "{stderr}"
    );

    let out = ns
        .toolbox_as_dev()
        .args(["cleanup", "-n", &ns.name, "-y", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["failed"], 2);
    assert!(
        value["pods"][0]["error"]
            .as_str()
            .unwrap()
            .contains("dev cannot delete pods")
    );

    // Every namespace needs a cluster-wide list, which dev does not have.
    let out = ns
        .toolbox_as_dev()
        .args(["cleanup", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr_of(&out).contains("dev cannot list pods"),
        "{}",
        stderr_of(&out)
    );

    let out = ns
        .toolbox()
        .args(["cleanup", "-n", &ns.name, "-y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    ns.finish().await;
}

#[tokio::test]
async fn a_thousand_leftovers_are_removed_in_one_run() {
    const COUNT: usize = 1000;
    let mut ns = TestNs::new("cl-thousand").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    ns.create_leftovers(&node, COUNT).await;

    let started = Instant::now();
    let out = ns
        .toolbox()
        .args(["cleanup", "--node", &node, "-y", "-o", "json"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["found"].as_u64(), Some(COUNT as u64));
    assert_eq!(value["deleted"].as_u64(), Some(COUNT as u64));
    // How fast is scenario 4 of make bench's (docs/benchmarks.md), on a
    // quiet machine: a bound here failed on a busy one, and proved nothing
    // a benchmark does not.
    let left = pods
        .list(&ListParams::default().labels(TOOLBOX_SELECTOR))
        .await
        .unwrap()
        .items;
    assert!(left.is_empty(), "{} pods left", left.len());
    eprintln!("cleanup of {COUNT} pods took {took:?}");
    ns.finish().await;
}

/// SIGTERM and SIGHUP from outside the terminal while cleanup's prompt waits
/// for a key: toolbox ends with the signal's code and one line, and the
/// terminal's mode is as it was before the prompt, read back with stty on
/// the same terminal after toolbox exited.
#[tokio::test]
async fn sigterm_and_sighup_at_the_prompt_leave_the_terminal_as_it_was() {
    let mut ns = TestNs::new("cl-sig-tty").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    let leftover = create(&pods, &k9s_pod("k9s-shell-1", &node)).await;
    for (signal, code, name) in [("TERM", 143, "SIGTERM"), ("HUP", 129, "SIGHUP")] {
        let toolbox = ns.toolbox_process();
        let node = node.clone();
        let screen =
            tokio::task::spawn_blocking(move || signal_at_the_prompt(toolbox, &node, signal))
                .await
                .unwrap();
        let line_after = |marker: &str| {
            let at = screen
                .find(marker)
                .unwrap_or_else(|| panic!("{marker}: {screen:?}"));
            screen[at + marker.len()..]
                .split(['\r', '\n'])
                .find(|line| !line.is_empty())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(
            line_after("toolbox exited "),
            code.to_string(),
            "{screen:?}"
        );
        assert!(
            screen.contains(&format!("Interrupted by {name}; nothing deleted.")),
            "{screen:?}"
        );
        let (before, after) = (line_after("mode before: "), line_after("mode after: "));
        assert!(!before.is_empty(), "{screen:?}");
        assert_eq!(
            after, before,
            "{name} at the prompt left the terminal in another mode (stty -g): {screen:?}"
        );
        assert!(pod_exists(&pods, &leftover).await, "{name} deleted the pod");
    }
    ns.delete_pod_now(&leftover).await;
    ns.finish().await;
}

/// Runs `toolbox cleanup --node NODE` on a PTY, in a shell that first sets
/// a mode of its own (so that "as it was" is not the default one) and prints
/// the mode before and after; sends `signal` to toolbox once the prompt is
/// up. Returns all the terminal showed.
fn signal_at_the_prompt(toolbox: std::process::Command, node: &str, signal: &str) -> String {
    use expectrl::{Eof, Expect};

    let mut shell = std::process::Command::new("sh");
    shell.env_clear();
    for (key, value) in toolbox.get_envs() {
        if let Some(value) = value {
            shell.env(key, value);
        }
    }
    shell
        .arg("-c")
        .arg(
            "stty -echoctl erase '^H'; echo \"mode before: $(stty -g)\"; \"$@\"; \
             echo \"toolbox exited $?\"; echo \"mode after: $(stty -g)\"",
        )
        .arg("sh")
        .arg(toolbox.get_program())
        .args(["cleanup", "--node", node]);
    let mut session = spawn_on_pty(shell, Duration::from_secs(30));
    let mut screen = Vec::new();
    for awaited in ["Delete 1 pod?", "k9s-shell-1"] {
        let seen = session.expect(awaited).expect("the prompt and its pod");
        screen.extend_from_slice(seen.as_bytes());
    }
    let shell_pid = session.get_process().pid().as_raw();
    let toolbox_pid = child_of(shell_pid).expect("toolbox under the shell");
    let sent = std::process::Command::new("kill")
        .args([format!("-{signal}"), toolbox_pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let rest = session.expect(Eof).expect("the shell to exit");
    screen.extend_from_slice(rest.as_bytes());
    session.get_process().wait().unwrap();
    String::from_utf8_lossy(&screen).into_owned()
}

/// The process whose parent is `parent`, from /proc.
fn child_of(parent: i32) -> Option<i32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // pid (comm) state ppid ...: comm may hold spaces, so read after ')'.
            let ppid: i32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent).then_some(pid)
        })
}

#[tokio::test]
async fn a_silent_server_ends_cleanup_with_one_line_within_the_target() {
    let ns = TestNs::new("cl-silent").await;
    let proxy = FaultProxy::to_cluster();
    // A black hole: TCP connects (the kernel's backlog), TLS hears nothing.
    proxy.go_silent();
    let mut cleanup = ns.toolbox_process_via(&proxy.kubeconfig());
    cleanup.args(["cleanup", "--yes"]);
    let started = Instant::now();
    let out = cleanup.output().expect("running toolbox");
    let took = started.elapsed();
    proxy.restore();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("cannot reach the API server"),
        "{stderr}"
    );
    // docs/node-shell.md: a silent link is given up within 15 s.
    assert!(took < Duration::from_secs(15), "took {took:?}: {stderr}");
    ns.finish().await;
}
