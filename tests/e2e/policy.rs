//! `toolbox policy | kubectl apply -f -` on the local cluster: the RBAC it
//! prints lets a member of the group (and no one else) reach nodes through
//! the namespace, and its admission policies bound and name every
//! node-access pod there, whichever tool creates it.

use std::time::Duration;

use harness::{NodeSpec, TestNs, annotation, random_suffix, stderr_of, stdout_of};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;

/// Whether the cluster has MutatingAdmissionPolicy v1 (Kubernetes 1.36+);
/// before it, the printed policy requires a lifetime instead of giving one.
fn has_mutating_policies(ns: &TestNs) -> bool {
    ns.env.minor() >= 36
}

/// The printed policy for `ns`, applied with the cluster's kubectl; group
/// `group` gets node access, and `group`-cleaners cleanup everywhere.
fn apply(ns: &TestNs, group: &str) -> String {
    let cleaners = format!("{group}-cleaners");
    let out = ns
        .toolbox()
        .args([
            "policy",
            "-n",
            &ns.name,
            "--group",
            group,
            "--max-ttl",
            "2h",
            "--cleanup-group",
            &cleaners,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // Before 1.36 it says, in one line, what the server lacks and what it
    // prints instead.
    let notes: Vec<String> = stderr_of(&out)
        .lines()
        .filter(|l| l.contains("has no MutatingAdmissionPolicy"))
        .map(String::from)
        .collect();
    if has_mutating_policies(ns) {
        assert!(notes.is_empty(), "{notes:?}");
    } else {
        assert_eq!(
            notes,
            [format!(
                "note: Kubernetes {} has no MutatingAdmissionPolicy (v1 from Kubernetes 1.36): node-access pods in {} must ask for a lifetime of at most 2h instead of being given 1h, so kubectl debug's pods, which ask for none, are refused there",
                ns.env.version, ns.name
            )]
        );
    }
    let yaml = stdout_of(&out);
    ns.apply_yaml(&yaml);
    yaml
}

/// A pod as kubectl debug node/NODE makes it, created by `member`.
fn debug_pod(ns: &TestNs, node: &str, as_user: &[&str]) -> std::process::Output {
    ns.kubectl()
        .args(["debug", &format!("node/{node}"), "--image", "busybox:1.37"])
        .args(["--profile", "sysadmin"])
        .args(as_user)
        .output()
        .unwrap()
}

/// Kubernetes 1.36+: the MutatingAdmissionPolicy gives kubectl debug's pod,
/// which asks for no lifetime, the default one, and names its requester.
/// Policies take effect a moment after they are applied: this waits for it.
async fn kubectl_debug_gets_the_default_lifetime_and_its_requester(
    ns: &TestNs,
    node: &str,
    member: &[&str],
) {
    let pods: Api<Pod> = ns.pods();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let debug = loop {
        let out = debug_pod(ns, node, member);
        // The two policies take effect each on its own schedule: until the
        // mutating one does, the validating one refuses a pod without a
        // lifetime.
        let mutated_yet = !stderr_of(&out).contains("must ask for a lifetime");
        assert!(
            out.status.code() == Some(0) || !mutated_yet,
            "{}",
            stderr_of(&out)
        );
        let mut bounded = None;
        for pod in pods.list(&Default::default()).await.unwrap().items {
            let name = pod.metadata.name.clone().unwrap_or_default();
            if !name.starts_with("node-debugger-") {
                continue;
            }
            if pod.spec.as_ref().and_then(|s| s.active_deadline_seconds) == Some(3600) {
                bounded = Some(pod);
            } else {
                ns.delete_pod_now(&name).await;
            }
        }
        if let Some(pod) = bounded {
            break pod;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "kubectl debug's pods never got the default lifetime"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(
        annotation(&debug, "toolbox.dev/requested-by").as_deref(),
        Some("dev"),
        "kubectl debug's pod names its requester"
    );
    ns.delete_pod_now(debug.metadata.name.as_deref().unwrap())
        .await;
}

/// Before 1.36: the ValidatingAdmissionPolicy refuses kubectl debug's pod,
/// which asks for no lifetime, saying why and what to use instead.
async fn kubectl_debug_is_refused_for_want_of_a_lifetime(ns: &TestNs, node: &str, member: &[&str]) {
    let pods: Api<Pod> = ns.pods();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let out = debug_pod(ns, node, member);
        if out.status.code() != Some(0) {
            let stderr = stderr_of(&out);
            assert!(
                stderr.contains(&format!(
                    "a node-access pod in {} must ask for a lifetime (spec.activeDeadlineSeconds) of at most 7200s: toolbox does (--ttl 2h or less); kubectl debug does not",
                    ns.name
                )),
                "{stderr}"
            );
            break;
        }
        // Admitted before the policy took effect: remove it and try again.
        for pod in pods.list(&Default::default()).await.unwrap().items {
            let name = pod.metadata.name.unwrap_or_default();
            if name.starts_with("node-debugger-") {
                ns.delete_pod_now(&name).await;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "kubectl debug's pods without a lifetime were never refused"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[tokio::test]
async fn the_printed_policy_bounds_and_names_node_access_for_every_tool() {
    let mut ns = TestNs::new("policy").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let group = format!("oncall-{}", random_suffix());
    let member = ["--as", "dev", "--as-group", group.as_str()];
    let yaml = apply(&ns, &group);
    let mutating = has_mutating_policies(&ns);
    if mutating {
        kubectl_debug_gets_the_default_lifetime_and_its_requester(&ns, &node, &member).await;
    } else {
        kubectl_debug_is_refused_for_want_of_a_lifetime(&ns, &node, &member).await;
    }

    // The ValidatingAdmissionPolicy is picked up on its own schedule.
    wait_until_the_maximum_is_enforced(&ns, &node, &member, 10800).await;

    // A member opens a node shell and a debug-node session through it.
    for subcommand in [
        vec!["node-shell", node.as_str()],
        vec!["debug-node", node.as_str(), "--image", "busybox:1.37"],
    ] {
        let out = ns
            .toolbox()
            .args(&subcommand)
            .args(member)
            .args(["--", "true"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{subcommand:?}: {}",
            stderr_of(&out)
        );
    }

    // Over the maximum: refused, with the policy's own words.
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--ttl", "3h"])
        .args(member)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(
            "lifetime 10800s exceeds this namespace's maximum of 7200s; use --ttl 2h or less"
        ),
        "{stderr}"
    );
    // The hint names the policy and how to read it, as the same identity.
    assert!(
        stderr.trim_end().ends_with(&format!(
            "; the cluster's ValidatingAdmissionPolicy toolbox-node-access-{ns} refused it; what it requires: kubectl get validatingadmissionpolicy toolbox-node-access-{ns} -o yaml --as dev --as-group {group}",
            ns = ns.name
        )),
        "{stderr}"
    );

    // Outside the group: refused by RBAC, naming what is missing. A user of
    // its own: other tests grant dev cluster-wide reads while they run.
    let outsider = format!("outsider-{}", random_suffix());
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--as", &outsider, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains(&format!("permission denied: {outsider} cannot get nodes")),
        "{}",
        stderr_of(&out)
    );

    // A requested-by forged by the client names the member all the same
    // (1.36+), or is refused (before).
    let forged = format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"forged-{suffix}","annotations":{{"toolbox.dev/requested-by":"admin"}}}},"spec":{{"nodeName":"{node}","hostPID":true,"activeDeadlineSeconds":600,"containers":[{{"name":"c","image":"busybox:1.37"}}]}}}}"#,
        suffix = random_suffix()
    );
    let out = ns
        .kubectl()
        .args([
            "create",
            "-f",
            "-",
            "-o",
            "jsonpath={.metadata.annotations.toolbox\\.dev/requested-by}",
        ])
        .args(member)
        .write_stdin(forged)
        .output()
        .unwrap();
    if mutating {
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        assert_eq!(stdout_of(&out), "dev");
    } else {
        assert_ne!(out.status.code(), Some(0));
        assert!(
            stderr_of(&out)
                .contains("toolbox.dev/requested-by must name the user who creates the pod, dev"),
            "{}",
            stderr_of(&out)
        );
    }

    // No node name: refused, saying why.
    let unpinned = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"unpinned"},"spec":{"hostPID":true,"activeDeadlineSeconds":600,"containers":[{"name":"c","image":"busybox:1.37"}]}}"#;
    let out = ns
        .kubectl()
        .args(["create", "-f", "-"])
        .args(member)
        .write_stdin(unpinned)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr_of(&out).contains("must name its one node in spec.nodeName"),
        "{}",
        stderr_of(&out)
    );

    // compare names the policy and what it enforces, in its table and JSON.
    let out = ns.toolbox().args(["compare", &node]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let table = stdout_of(&out);
    let base = format!("toolbox-node-access-{}", ns.name);
    assert!(
        table.contains(&format!(
            "ValidatingAdmissionPolicy {base}: lifetime 2h at most"
        )),
        "{table}"
    );
    assert_eq!(
        table.contains(&format!(
            "MutatingAdmissionPolicy {base}: lifetime 1h when none is asked for"
        )),
        mutating,
        "{table}"
    );
    let out = ns
        .toolbox()
        .args(["compare", &node, "-o", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let policies = report["checks"]["nodeAccessPolicy"]["policies"]
        .as_array()
        .unwrap();
    assert!(
        policies
            .iter()
            .any(|p| p["kind"] == "ValidatingAdmissionPolicy"
                && p["maxTtlSeconds"] == 7200
                && p["group"] == group.as_str()),
        "{policies:?}"
    );

    // PodSecurity stays enforced outside the node-access namespace.
    let elsewhere = TestNs::with_pod_security("policy-elsewhere", "baseline").await;
    let out = elsewhere
        .toolbox()
        .args(["node-shell", &node, "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("PodSecurity"),
        "{}",
        stderr_of(&out)
    );
    elsewhere.finish().await;

    // The cleanup group may list and delete leftovers in every namespace.
    let cleaners = format!("{group}-cleaners");
    let out = ns
        .toolbox()
        .args([
            "cleanup",
            "-A",
            "--dry-run",
            "--as",
            "dev",
            "--as-group",
            &cleaners,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let out = ns
        .toolbox()
        .args(["cleanup", "-A", "--dry-run", "--as", "dev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));

    // kubectl delete -f of the same output removes every object.
    ns.delete_yaml(&yaml);
    let mut kinds = vec![
        ("clusterrole", format!("{base}-nodes")),
        ("clusterrolebinding", format!("{base}-nodes")),
        ("clusterrole", format!("{base}-cleanup")),
        ("clusterrolebinding", format!("{base}-cleanup")),
        ("mutatingadmissionpolicy", base.clone()),
        ("mutatingadmissionpolicybinding", base.clone()),
        ("validatingadmissionpolicy", base.clone()),
        ("validatingadmissionpolicybinding", base.clone()),
    ];
    if !mutating {
        kinds.retain(|(kind, _)| !kind.starts_with("mutating"));
    }
    for (kind, name) in kinds {
        let out = ns
            .kubectl()
            .args(["get", kind, &name, "--ignore-not-found", "-o", "name"])
            .output()
            .unwrap();
        assert_eq!(stdout_of(&out), "", "{kind} {name} is left");
    }
    ns.cleanup().await;
}

#[tokio::test]
async fn policy_usage_errors_are_one_line_and_create_nothing() {
    let ns = TestNs::new("policy-usage").await;
    let out = ns
        .toolbox()
        .args(["policy", "-n", &ns.name])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("--group"), "{}", stderr_of(&out));
    let out = ns
        .toolbox()
        .args([
            "policy",
            "-n",
            &ns.name,
            "--group",
            "g",
            "--default-ttl",
            "3h",
            "--max-ttl",
            "1h",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("--default-ttl 3h is longer than --max-ttl 1h"),
        "{}",
        stderr_of(&out)
    );
    let shared = ns
        .toolbox()
        .args(["policy", "-n", "kube-system", "--group", "g"])
        .output()
        .unwrap();
    assert_eq!(shared.status.code(), Some(2));
    assert!(
        stderr_of(&shared).contains("use a namespace of its own"),
        "{}",
        stderr_of(&shared)
    );
    let json = ns
        .toolbox()
        .args(["policy", "-n", &ns.name, "--group", "g", "-o", "json"])
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    let audit = ns
        .toolbox()
        .args(["policy", "--audit-policy", "-o", "json"])
        .output()
        .unwrap();
    let audit: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(audit["kind"], "Policy");
    assert_eq!(audit["rules"][0]["level"], "RequestResponse");

    // The objects follow the cluster's release, or the one named.
    let printed = |extra: &[&str]| {
        let out = ns
            .toolbox()
            .args(["policy", "-n", &ns.name, "--group", "g"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        (
            stdout_of(&out).contains("kind: MutatingAdmissionPolicy"),
            stderr_of(&out),
        )
    };
    assert_eq!(printed(&[]).0, ns.env.minor() >= 36);
    let (mutating, note) = printed(&["--kube-version", "1.35"]);
    assert!(!mutating);
    assert!(
        note.starts_with("note: Kubernetes 1.35 has no MutatingAdmissionPolicy"),
        "{note}"
    );
    assert_eq!(
        printed(&["--kube-version", "v1.36.3"]),
        (true, String::new())
    );
    assert_eq!(
        audit["rules"][0]["resources"][0]["resources"],
        serde_json::json!(["pods/exec", "pods/attach"])
    );
    ns.finish().await;
}

/// Waits until the printed ValidatingAdmissionPolicy, picked up on its own
/// schedule, refuses a node-access pod that asks to live `too_long` seconds,
/// by a server-side dry run as `member`.
async fn wait_until_the_maximum_is_enforced(
    ns: &TestNs,
    node: &str,
    member: &[&str],
    too_long: u32,
) {
    let over_long = format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"over-long"}},"spec":{{"nodeName":"{node}","hostPID":true,"activeDeadlineSeconds":{too_long},"containers":[{{"name":"c","image":"busybox:1.37"}}]}}}}"#
    );
    harness::wait_until(
        Duration::from_secs(60),
        "the maximum lifetime to be enforced",
        || async {
            let out = ns
                .kubectl()
                .args(["create", "--dry-run=server", "-f", "-"])
                .args(member)
                .write_stdin(over_long.clone())
                .output()
                .unwrap();
            stderr_of(&out).contains("exceeds this namespace's maximum")
        },
    )
    .await;
}

/// `kubectl create --dry-run=server` of `pod` (JSON) as `member`: its stderr
/// when refused, None when admitted.
fn refusal_of(ns: &TestNs, pod: &str, member: &[&str]) -> Option<String> {
    let out = ns
        .kubectl()
        .args(["create", "--dry-run=server", "-f", "-"])
        .args(member)
        .write_stdin(pod.to_string())
        .output()
        .unwrap();
    (out.status.code() != Some(0)).then(|| stderr_of(&out))
}

/// `toolbox policy --max-ttl 30m` alone, the obvious first try, applied:
/// a member's session without --ttl fits the maximum by itself and says so,
/// an explicit --ttl over it is refused, and the other ways onto a node
/// through the namespace (a privileged ephemeral container, a capability
/// beyond baseline's, a Job's pod, an image swapped into a node-access pod)
/// are refused.
#[tokio::test]
async fn the_printed_policy_fits_default_lifetimes_and_closes_every_route_to_a_node() {
    fits_default_lifetimes_and_closes_every_route_to_a_node(None).await;
}

/// The same with the objects printed for a release before 1.36, without
/// a MutatingAdmissionPolicy, so that the newest cluster checks that mode
/// too.
#[tokio::test]
async fn the_policy_for_releases_before_mutating_policies_does_the_same() {
    fits_default_lifetimes_and_closes_every_route_to_a_node(Some("1.35")).await;
}

async fn fits_default_lifetimes_and_closes_every_route_to_a_node(kube_version: Option<&str>) {
    let mut ns = TestNs::new("policy-routes").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let group = format!("oncall-{}", random_suffix());
    let member = ["--as", "dev", "--as-group", group.as_str()];
    let mutating = has_mutating_policies(&ns) && kube_version.is_none();

    let printed = ns
        .toolbox()
        .args(["policy", "-n", &ns.name, "--group", &group])
        .args(["--max-ttl", "30m"])
        .args(kube_version.map(|v| ["--kube-version", v]).iter().flatten())
        .output()
        .unwrap();
    assert_eq!(printed.status.code(), Some(0), "{}", stderr_of(&printed));
    let yaml = stdout_of(&printed);
    if mutating {
        assert!(
            yaml.contains("bounded (lifetime 30m by default, 30m at most)"),
            "{yaml}"
        );
    } else {
        assert!(
            stderr_of(&printed).contains("at most 30m instead of being given 30m"),
            "{}",
            stderr_of(&printed)
        );
    }
    ns.apply_yaml(&yaml);
    wait_until_the_maximum_is_enforced(&ns, &node, &member, 3600).await;

    // toolbox's default lifetime (1h) fits the maximum, said in one line.
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--keep"])
        .args(member)
        .args(["--", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let notes: Vec<&str> = stderr.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(
        notes,
        [format!(
            "note: lifetime 30m, namespace {}'s maximum, instead of toolbox's default 1h (choose with --ttl 30m or less)",
            ns.name
        )],
        "{stderr}"
    );
    let kept = ns.toolbox_pods().await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    let kept = &kept[0];
    let kept_name = kept.metadata.name.clone().unwrap();
    assert_eq!(
        kept.spec.as_ref().unwrap().active_deadline_seconds,
        Some(1800)
    );
    assert_eq!(
        annotation(kept, "toolbox.dev/ttl-seconds").as_deref(),
        Some("1800")
    );
    assert_eq!(
        annotation(kept, "toolbox.dev/requested-by").as_deref(),
        Some("dev")
    );

    // compare judges the pod as the session makes it: admitted.
    let out = ns
        .toolbox()
        .args(["compare", &node, "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["checks"]["admission"]["nodeShell"]["verdict"], "admitted",
        "{report}"
    );

    // A fan-out run learns the maximum once, and says so once.
    let second = ns.node("m", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args(["node-shell", &node, &second])
        .args(member)
        .args(["--", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("note:")).count(),
        1,
        "{stderr}"
    );

    // A lifetime the user chose is theirs: over the maximum, it is refused.
    let out = ns
        .toolbox()
        .args(["node-shell", &node, "--ttl", "1h"])
        .args(member)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains(
            "lifetime 3600s exceeds this namespace's maximum of 1800s; use --ttl 30m or less"
        ),
        "{}",
        stderr_of(&out)
    );

    // A node-access pod's images cannot be swapped for another's.
    let out = ns
        .kubectl()
        .args([
            "set",
            "image",
            &format!("pod/{kept_name}"),
            "shell=busybox:1.37",
        ])
        .args(member)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert!(
        stderr_of(&out).contains("the images of a node-access pod"),
        "{}",
        stderr_of(&out)
    );

    // A member whose other roles let them add ephemeral containers.
    // One List, not a `---` stream: kubectl 1.32 reads a stream that starts
    // with JSON as one JSON document.
    let debuggers = format!(
        r#"{{"apiVersion":"v1","kind":"List","items":[{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{{"name":"debuggers"}},"rules":[{{"apiGroups":[""],"resources":["pods/ephemeralcontainers"],"verbs":["patch","update"]}}]}},
{{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{{"name":"debuggers"}},"roleRef":{{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"debuggers"}},"subjects":[{{"apiGroup":"rbac.authorization.k8s.io","kind":"Group","name":"{group}"}}]}}]}}"#
    );
    ns.apply_yaml(&debuggers);
    let plain = format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"plain"}},"spec":{{"nodeName":"{node}","containers":[{{"name":"app","image":"busybox:1.37","command":["sleep","3600"]}}]}}}}"#
    );
    let out = ns
        .kubectl()
        .args(["create", "-f", "-"])
        .write_stdin(plain)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let debug = |profile: &str| {
        ns.kubectl()
            .args(["debug", "pod/plain", "--image", "busybox:1.37"])
            .args(["--profile", profile])
            .args(member)
            .output()
            .unwrap()
    };
    let out = debug("sysadmin");
    assert_ne!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert!(
        stderr_of(&out).contains(&format!(
            "no ephemeral container in {} may reach the node",
            ns.name
        )),
        "{}",
        stderr_of(&out)
    );
    // One that stays in the pod's own namespaces is let through.
    let out = debug("baseline");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let plain: Pod = ns.pods().get("plain").await.unwrap();
    let ephemeral = plain.spec.unwrap().ephemeral_containers.unwrap_or_default();
    assert_eq!(ephemeral.len(), 1, "{ephemeral:?}");
    assert_eq!(
        ephemeral[0]
            .security_context
            .as_ref()
            .and_then(|c| c.privileged),
        None
    );
    ns.delete_pod_now("plain").await;
    // Nor may any join a node-access pod: it would be a session in a pod
    // that names someone else.
    let out = ns
        .kubectl()
        .args([
            "debug",
            &format!("pod/{kept_name}"),
            "--image",
            "busybox:1.37",
        ])
        .args(["--profile", "baseline"])
        .args(member)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert!(
        stderr_of(&out).contains("may reach the node"),
        "{}",
        stderr_of(&out)
    );
    ns.delete_pod_now(&kept_name).await;

    // A capability beyond baseline's reaches the node as privileged does:
    // without a lifetime it is refused like any node-access pod.
    let with_sys_admin = format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"sys-admin"}},"spec":{{"nodeName":"{node}","activeDeadlineSeconds":3600,"containers":[{{"name":"c","image":"busybox:1.37","securityContext":{{"capabilities":{{"add":["SYS_ADMIN"]}}}}}}]}}}}"#
    );
    let refused = refusal_of(&ns, &with_sys_admin, &member);
    assert!(
        refused
            .as_deref()
            .is_some_and(|r| r.contains("exceeds this namespace's maximum of 1800s")),
        "{refused:?}"
    );

    // A controller's node-access pod is refused. The shared cluster runs no
    // Job controller, so the pod it would make for a real Job is sent as
    // it would send it: as its service account, owned by the Job.
    let job = format!(
        r#"{{"apiVersion":"batch/v1","kind":"Job","metadata":{{"name":"node-job"}},"spec":{{"suspend":true,"template":{{"spec":{{"restartPolicy":"Never","nodeName":"{node}","hostPID":true,"activeDeadlineSeconds":600,"containers":[{{"name":"c","image":"busybox:1.37"}}]}}}}}}}}"#
    );
    let out = ns
        .kubectl()
        .args(["create", "-f", "-", "-o", "jsonpath={.metadata.uid}"])
        .write_stdin(job)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let job_uid = stdout_of(&out);
    let jobs_pod = format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"generateName":"node-job-","labels":{{"job-name":"node-job"}},"ownerReferences":[{{"apiVersion":"batch/v1","kind":"Job","name":"node-job","uid":"{job_uid}","controller":true,"blockOwnerDeletion":true}}]}},"spec":{{"restartPolicy":"Never","nodeName":"{node}","hostPID":true,"activeDeadlineSeconds":600,"containers":[{{"name":"c","image":"busybox:1.37"}}]}}}}"#
    );
    let refused = refusal_of(
        &ns,
        &jobs_pod,
        &["--as", "system:serviceaccount:kube-system:job-controller"],
    );
    assert!(
        refused
            .as_deref()
            .is_some_and(|r| r.contains("is one person's session, not a controller's")),
        "{refused:?}"
    );
    let out = ns
        .kubectl()
        .args(["delete", "job", "node-job", "--wait=false"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));

    // The policy's cluster-wide objects go with the same output.
    ns.delete_yaml(&yaml);
    ns.finish().await;
}

/// On the real node, a session with toolbox's default lifetime under a
/// policy whose maximum is 10s: the pod is made with the maximum, and the
/// real kubelet ends it there, though its holder would sleep for the hour
/// toolbox's default asked.
#[tokio::test]
async fn a_fitted_lifetime_is_the_one_the_real_kubelet_enforces() {
    let ns = TestNs::new("policy-real-fit").await;
    let node = harness::real_node();
    let group = format!("oncall-{}", random_suffix());
    let member = ["--as", "dev", "--as-group", group.as_str()];
    let printed = ns
        .toolbox()
        .args(["policy", "-n", &ns.name, "--group", &group])
        .args(["--max-ttl", "10s"])
        .output()
        .unwrap();
    assert_eq!(printed.status.code(), Some(0), "{}", stderr_of(&printed));
    let yaml = stdout_of(&printed);
    ns.apply_yaml(&yaml);
    wait_until_the_maximum_is_enforced(&ns, &node.name, &member, 3600).await;

    let started = std::time::Instant::now();
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name])
        .args(member)
        .args(["--", "sh", "-c", "echo start; sleep 60; echo end"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(137), "{stderr}");
    assert_eq!(stdout_of(&out), "start\n");
    assert!(took < Duration::from_secs(55), "ended after {took:?}");
    assert!(
        stderr.contains(&format!(
            "note: lifetime 10s, namespace {}'s maximum, instead of toolbox's default 1h (choose with --ttl 10s or less)",
            ns.name
        )),
        "{stderr}"
    );
    assert!(stderr.contains("reached its --ttl of 10s"), "{stderr}");

    ns.delete_yaml(&yaml);
    ns.finish().await;
}
