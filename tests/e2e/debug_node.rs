//! `toolbox debug-node` against the local cluster, and against the cluster's
//! own `kubectl debug node/...`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::{
    NodeSpec, TOOLBOX_SELECTOR, TestNs, assert_image_pull_failure, exit_pty_session, random_suffix,
    send_signal, spawn_on_pty, standin_records_with, stderr_of, stdout_of, wait_with_timeout,
};
use kube::api::{DeleteParams, ListParams};
use serde_json::Value;

const IMAGE: &str = "docker.io/library/busybox:1.37";
/// kubectl debug's pods are named node-debugger-<node>-xxxxx; kubectl 1.34
/// and later also label them app.kubernetes.io/managed-by=kubectl-debug.
const KUBECTL_DEBUG_PREFIX: &str = "node-debugger-";

// ---------------------------------------------------------------------------
// Parity with kubectl debug node/NAME
// ---------------------------------------------------------------------------

/// Where toolbox's pod spec may differ from kubectl's, and why. Everything
/// else must be equal, field by field (docs/debug-node.md has the same list).
const ALLOWED_DIFFERENCES: &[(&str, &str)] = &[
    (
        "spec.containers[0].command",
        "the container runs the holder (sleep <ttl>); the user's command is an exec into it",
    ),
    (
        "spec.activeDeadlineSeconds",
        "the --ttl backstop: the pod stops by itself even if toolbox is killed",
    ),
    (
        "spec.containers[0].resources",
        "toolbox's configured requests and limits (the resources setting)",
    ),
];

/// One field where the two pods differ; `None` is a missing field.
#[derive(Debug)]
struct Difference {
    path: String,
    kubectl: Option<Value>,
    toolbox: Option<Value>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or("(absent)".to_string(), Value::to_string);
        write!(
            f,
            "{}: kubectl {} / toolbox {}",
            self.path,
            show(&self.kubectl),
            show(&self.toolbox)
        )
    }
}

fn diff(path: &str, kubectl: Option<&Value>, toolbox: Option<&Value>, out: &mut Vec<Difference>) {
    match (kubectl, toolbox) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                diff(&format!("{path}.{key}"), a.get(key), b.get(key), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                diff(&format!("{path}[{i}]"), a.get(i), b.get(i), out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Difference {
            path: path.to_string(),
            kubectl: a.cloned(),
            toolbox: b.cloned(),
        }),
    }
}

fn is_allowed(path: &str) -> bool {
    ALLOWED_DIFFERENCES.iter().any(|(allowed, _)| {
        path == *allowed
            || path.starts_with(&format!("{allowed}."))
            || path.starts_with(&format!("{allowed}["))
    })
}

/// What recording adds to a pod (docs/sessions.md), taken out of toolbox's
/// pod before it is compared with kubectl's, after checking that it is
/// there: the recorder's init container and emptyDir (the image is not the
/// recorder image here), the node's sessions directory, and the
/// `TOOLBOX_SESSION_*` variables. kubectl's `--env` variables stay, in
/// their order.
fn without_recording(pod: &mut Value, profile: &str) {
    let spec = &mut pod["spec"];
    let init = spec["initContainers"]
        .as_array_mut()
        .expect("an init container");
    init.retain(|c| c["name"] != "toolbox-recorder");
    assert!(
        init.is_empty(),
        "only the recorder's init container: {init:?}"
    );
    spec.as_object_mut().unwrap().remove("initContainers");
    let ours = |name: &Value| {
        name.as_str()
            .is_some_and(|n| n == "toolbox-recorder" || n == "toolbox-sessions")
    };
    let volumes = spec["volumes"].as_array_mut().expect("volumes");
    let before = volumes.len();
    volumes.retain(|v| !ours(&v["name"]));
    let node_file = !matches!(profile, "baseline" | "restricted");
    assert_eq!(
        before - volumes.len(),
        1 + usize::from(node_file),
        "{profile}"
    );
    let container = &mut spec["containers"][0];
    let mounts = container["volumeMounts"].as_array_mut().expect("mounts");
    mounts.retain(|m| !ours(&m["name"]));
    let env = container["env"].as_array_mut().expect("the identity env");
    let before = env.len();
    env.retain(|e| {
        !e["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("TOOLBOX_SESSION_"))
    });
    assert_eq!(
        before - env.len(),
        4,
        "the four TOOLBOX_SESSION_* variables"
    );
    let container = container.as_object_mut().unwrap();
    for key in ["env", "volumeMounts"] {
        if container[key].as_array().is_some_and(Vec::is_empty) {
            container.remove(key);
        }
    }
    if spec["volumes"].as_array().is_some_and(Vec::is_empty) {
        spec.as_object_mut().unwrap().remove("volumes");
    }
}

/// The service account token volume gets a random name from the API server
/// (`kube-api-access-x7k2p`); only its name differs between two pods.
fn normalise(value: &mut Value) {
    match value {
        Value::String(text) if text.starts_with("kube-api-access-") => {
            *text = "kube-api-access-<random>".to_string();
        }
        Value::Object(map) => map.values_mut().for_each(normalise),
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

/// The namespace's pods as the API server stores them, every field included
/// (kubectl's JSON, so that fields newer than k8s-openapi's are compared too).
fn pods_json(ns: &TestNs, selector: Option<&str>) -> Vec<Value> {
    let mut args = vec!["get", "pods", "-o", "json"];
    if let Some(selector) = selector {
        args.extend(["-l", selector]);
    }
    let out = ns.kubectl().args(&args).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list["items"].as_array().cloned().unwrap_or_default()
}

/// The one pod with `selector`.
fn pod_json(ns: &TestNs, selector: &str) -> Value {
    let items = pods_json(ns, Some(selector));
    assert_eq!(items.len(), 1, "expected one pod with {selector}");
    items.into_iter().next().unwrap()
}

/// The one pod kubectl debug node/... made.
fn kubectl_debug_pod(ns: &TestNs) -> Value {
    let items: Vec<Value> = pods_json(ns, None)
        .into_iter()
        .filter(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with(KUBECTL_DEBUG_PREFIX))
        })
        .collect();
    assert_eq!(
        items.len(),
        1,
        "expected one pod named {KUBECTL_DEBUG_PREFIX}*"
    );
    items.into_iter().next().unwrap()
}

async fn delete_pods(ns: &TestNs, selector: &str) {
    let pods = ns.pods();
    pods.delete_collection(
        &DeleteParams::default().grace_period(0),
        &ListParams::default().labels(selector),
    )
    .await
    .unwrap();
    harness::wait_until(Duration::from_secs(20), "the pods to be gone", || async {
        pods.list(&ListParams::default().labels(selector))
            .await
            .unwrap()
            .items
            .is_empty()
    })
    .await;
}

/// Creates kubectl's debug pod and toolbox's (with `extra` flags for both) on
/// one node, and compares the two.
async fn assert_parity(profile: &str, extra: &[&str]) {
    let mut ns = TestNs::new(&format!("dn-parity-{profile}")).await;
    let node = ns.node("n", NodeSpec::default()).await;

    let kubectl = ns
        .kubectl()
        .args(["debug", &format!("node/{node}"), "--image", IMAGE])
        .args(["--profile", profile])
        .args(extra)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert!(kubectl.status.success(), "kubectl: {}", stderr_of(&kubectl));

    let toolbox = ns
        .toolbox()
        .args(["debug-node", &node, "--image", IMAGE, "--profile", profile])
        .args(extra)
        .args(["--keep", "--", "true"])
        .output()
        .unwrap();
    assert!(toolbox.status.success(), "toolbox: {}", stderr_of(&toolbox));
    if profile == "legacy" {
        for (who, out) in [("kubectl", &kubectl), ("toolbox", &toolbox)] {
            assert!(
                stderr_of(out).contains("deprecated"),
                "{who} warns about legacy: {}",
                stderr_of(out)
            );
        }
    }

    let mut theirs = kubectl_debug_pod(&ns);
    let kubectl_pod = theirs["metadata"]["name"].as_str().unwrap().to_string();
    let mut ours = pod_json(&ns, TOOLBOX_SELECTOR);
    without_recording(&mut ours, profile);
    normalise(&mut theirs);
    normalise(&mut ours);
    assert_eq!(
        theirs["metadata"]["namespace"],
        ours["metadata"]["namespace"]
    );
    let mut differences = Vec::new();
    diff(
        "spec",
        Some(&theirs["spec"]),
        Some(&ours["spec"]),
        &mut differences,
    );
    let (allowed, unexpected): (Vec<_>, Vec<_>) =
        differences.into_iter().partition(|d| is_allowed(&d.path));
    assert!(
        unexpected.is_empty(),
        "--profile {profile} {extra:?}: toolbox's pod differs from kubectl's beyond the \
         documented differences:\n  {}\n(allowed and seen: {})",
        unexpected
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n  "),
        allowed.len()
    );
    // The allowed differences are the ones the docs explain, not just any.
    assert_eq!(ours["spec"]["containers"][0]["command"][0], "sleep");
    assert_eq!(
        theirs["spec"]["containers"][0]["command"],
        serde_json::json!(["true"])
    );
    assert_eq!(ours["spec"]["activeDeadlineSeconds"], 3600);
    assert_eq!(theirs["spec"]["activeDeadlineSeconds"], Value::Null);

    ns.delete_pod_now(&kubectl_pod).await;
    delete_pods(&ns, TOOLBOX_SELECTOR).await;
    ns.finish().await;
}

#[tokio::test]
async fn parity_with_kubectl_legacy() {
    assert_parity("legacy", &[]).await;
}

#[tokio::test]
async fn parity_with_kubectl_general() {
    assert_parity("general", &[]).await;
}

#[tokio::test]
async fn parity_with_kubectl_baseline() {
    assert_parity("baseline", &[]).await;
}

#[tokio::test]
async fn parity_with_kubectl_restricted() {
    assert_parity("restricted", &[]).await;
}

#[tokio::test]
async fn parity_with_kubectl_netadmin() {
    assert_parity("netadmin", &[]).await;
}

#[tokio::test]
async fn parity_with_kubectl_sysadmin() {
    assert_parity("sysadmin", &[]).await;
}

/// Writes a `--custom` file for one test.
fn custom_file(yaml: &str) -> String {
    let path = std::env::temp_dir().join(format!("dn-custom-{}.yaml", random_suffix()));
    std::fs::write(&path, yaml).unwrap();
    path.to_str().unwrap().to_string()
}

/// `--custom`, `--env`, `-c` and `--image-pull-policy` reach the pod as kubectl's do.
#[tokio::test]
async fn parity_with_kubectl_custom_env_container_and_pull_policy() {
    let custom = custom_file(
        "env:\n- name: FROM_FLAG\n  value: overridden\n- name: FROM_FILE\n  value: file\n\
         workingDir: /tmp\n\
         securityContext:\n  runAsUser: 0\n  capabilities:\n    add: [SYS_PTRACE]\n",
    );
    let flags = [
        "--custom",
        &custom,
        "--env",
        "FROM_FLAG=flag",
        "-c",
        "dbg",
        "--image-pull-policy",
        "Never",
    ];
    assert_parity("netadmin", &flags).await;
    let _ = std::fs::remove_file(&custom);
}

/// A custom mount merges onto the profile's /host mount by its path.
#[tokio::test]
async fn parity_with_kubectl_custom_read_only_host_mount() {
    let custom =
        custom_file("volumeMounts:\n- mountPath: /host\n  name: host-root\n  readOnly: true\n");
    assert_parity("general", &["--custom", &custom]).await;
    let _ = std::fs::remove_file(&custom);
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_command_runs_with_its_output_and_exit_status() {
    let mut ns = TestNs::new("dn-command").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args([
            "debug-node",
            &node,
            "--",
            "sh",
            "-c",
            "echo hi; echo oops >&2; exit 3",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), "hi\n", "stdout is the command's alone");
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.starts_with("Creating debugging pod toolbox-debug-")
            && stderr.contains(&format!("with container debugger on node {node}.")),
        "{stderr}"
    );
    assert!(stderr.ends_with("oops\n"), "{stderr}");

    // -q leaves stderr to the command, and node/NAME works as in kubectl.
    let quiet = ns
        .toolbox()
        .args([
            "debug-node",
            &format!("node/{node}"),
            "-q",
            "--",
            "sh",
            "-c",
            "echo oops >&2",
        ])
        .output()
        .unwrap();
    assert_eq!(stderr_of(&quiet), "oops\n");
    assert_eq!(quiet.status.code(), Some(0));
    ns.finish().await;
}

#[tokio::test]
async fn an_interactive_session_through_a_pty() {
    use expectrl::Expect;
    let mut ns = TestNs::new("dn-pty").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let mut cmd = ns.toolbox_process();
    cmd.args(["debug-node", &node]);
    let token = random_suffix();
    let result = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
        session
            .send_line(format!("tty >/dev/null && echo debug-{token}-$((40+2))"))
            .unwrap();
        session
            .expect(format!("debug-{token}-42"))
            .expect("the command's output, from a shell on a TTY");
        exit_pty_session(session, "exit")
    })
    .await
    .unwrap();
    assert!(
        matches!(result, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{result:?}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn chroot_runs_in_the_hosts_root_where_the_profile_allows_it() {
    let mut ns = TestNs::new("dn-chroot").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let token = format!("chroot-{}", random_suffix());
    let out = ns
        .toolbox()
        .args([
            "debug-node",
            &node,
            "--profile",
            "sysadmin",
            "--chroot",
            "--",
            "echo",
            &token,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), format!("{token}\n"));
    let records = standin_records_with(&token);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].tool, "chroot");
    assert_eq!(records[0].args, ["/host", "echo", token.as_str()]);

    for profile in ["baseline", "restricted", "netadmin"] {
        let started = Instant::now();
        let refused = ns
            .toolbox()
            .args([
                "debug-node",
                &node,
                "--profile",
                profile,
                "--chroot",
                "--",
                "true",
            ])
            .output()
            .unwrap();
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{profile}: {}",
            stderr_of(&refused)
        );
        let stderr = stderr_of(&refused);
        assert!(
            stderr.contains(&format!("--chroot needs the node's / mounted at /host and CAP_SYS_CHROOT, which profile {profile} does not give"))
                && stderr.contains("--profile general")
                && stderr.contains("--profile sysadmin"),
            "{stderr}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "refused up front"
        );
        assert!(ns.toolbox_pods().await.is_empty(), "nothing was created");
    }
    ns.finish().await;
}

#[tokio::test]
async fn an_image_pull_failure_ends_within_seconds_and_removes_the_pod() {
    let mut ns = TestNs::new("dn-pull").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let settings =
        ns.settings_file("[annotations]\n\"toolbox.test/simulate\" = \"image-pull-error\"\n");
    let started = Instant::now();
    let out = ns
        .toolbox()
        .args(["--config", settings.to_str().unwrap()])
        .args([
            "debug-node",
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

#[tokio::test]
async fn ctrl_c_during_a_session_deletes_the_pod() {
    let mut ns = TestNs::new("dn-ctrlc").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let mut child = ns
        .toolbox_process()
        .args(["debug-node", &node, "--", "sleep", "60"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting toolbox");
    let pod = ns
        .wait_for_toolbox_pod("Running", Duration::from_secs(20))
        .await;
    // The signal lands mid-session once the exec has started.
    ns.wait_for_exec(
        pod.metadata.name.as_deref().unwrap(),
        Duration::from_secs(20),
    )
    .await;
    send_signal(child.id(), "INT");
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(130));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        !stderr.contains("error:"),
        "an interruption is no error: {stderr}"
    );
    assert!(
        ns.toolbox_pods().await.is_empty(),
        "Ctrl-C left the pod behind"
    );
    ns.finish().await;
}

#[tokio::test]
async fn a_restricted_namespace_refuses_privileged_profiles_up_front() {
    let mut ns = TestNs::with_pod_security("dn-restricted", "restricted").await;
    let node = ns.node("n", NodeSpec::default()).await;
    for (profile, needed) in [("sysadmin", "privileged"), ("baseline", "baseline")] {
        let out = ns
            .toolbox()
            .args(["debug-node", &node, "--profile", profile, "--", "true"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{profile}: {}", stderr_of(&out));
        let stderr = stderr_of(&out);
        assert!(
            stderr.contains(&format!(
                "namespace \"{}\" enforces PodSecurity \"restricted\" (label pod-security.kubernetes.io/enforce); debug-node --profile {profile} needs \"{needed}\"",
                ns.name
            )),
            "{stderr}"
        );
        assert!(
            stderr.contains("(refused: "),
            "the server's reasons: {stderr}"
        );
        // kubectl's announcement comes only once the pod exists.
        assert!(
            !stderr.contains("Creating debugging pod"),
            "nothing was created, so nothing is announced: {stderr}"
        );
        assert!(ns.toolbox_pods().await.is_empty(), "nothing was created");
    }

    let ok = ns
        .toolbox()
        .args(["debug-node", &node, "--profile", "restricted", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", stderr_of(&ok));
    ns.finish().await;
}
