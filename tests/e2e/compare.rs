//! `toolbox compare` against the local cluster: admission verdicts from the
//! server itself, the permissions a user lacks, the JSON report, and proof
//! that nothing is created.

use std::time::Duration;

use harness::{NodeSpec, TestNs, core_rule as rule, stderr_of, stdout_of, wait_until};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::Value;

/// `toolbox compare NODE ARGS... -o json`, as the admin unless `dev`.
fn compare_json(ns: &TestNs, node: &str, args: &[&str], dev: bool) -> Value {
    let mut cmd = if dev {
        ns.toolbox_as_dev()
    } else {
        ns.toolbox()
    };
    let out = cmd
        .args(["compare", node, "-o", "json"])
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn verdict(report: &Value, pod: &str) -> (String, String) {
    let admission = &report["checks"]["admission"][pod];
    (
        admission["verdict"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        admission["message"]
            .as_str()
            .or(admission["why"].as_str())
            .unwrap_or_default()
            .to_string(),
    )
}

async fn no_pods_in(ns: &TestNs) {
    let left = ns.pods().list(&ListParams::default()).await.unwrap().items;
    assert!(
        left.is_empty(),
        "compare created {:?}",
        left.iter().map(|p| &p.metadata.name).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_restricted_namespace_rejects_both_pods_with_the_servers_messages() {
    let mut ns = TestNs::with_pod_security("cmp-restricted", "restricted").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let report = compare_json(&ns, &node, &[], false);
    let (shell, shell_message) = verdict(&report, "nodeShell");
    let (debug, debug_message) = verdict(&report, "debugNode");
    assert_eq!((shell.as_str(), debug.as_str()), ("rejected", "rejected"));
    for message in [&shell_message, &debug_message] {
        assert!(
            message.contains("violates PodSecurity \"restricted:latest\""),
            "{message}"
        );
    }
    assert!(shell_message.contains("privileged"), "{shell_message}");
    assert!(debug_message.contains("\"host-root\""), "{debug_message}");
    assert_eq!(
        report["checks"]["namespace"]["podSecurity"]["enforce"],
        "restricted"
    );
    let advice = &report["recommendation"];
    assert_eq!(advice["approach"], "neither");
    assert_eq!(
        advice["command"],
        format!(
            "toolbox debug-node {node} --profile restricted -n {}",
            ns.name
        )
        .as_str()
    );

    let out = ns.toolbox().args(["compare", &node]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let shell_line = text
        .lines()
        .find(|l| l.contains("node-shell: rejected: "))
        .unwrap_or_else(|| panic!("{text}"));
    // Each run builds its pod afresh: only the pod's name differs.
    let (_, why) = shell_message.split_once(" is forbidden: ").unwrap();
    assert!(shell_line.contains(why), "{shell_line}");
    assert!(text.contains("RECOMMENDATION"), "{text}");
    no_pods_in(&ns).await;
    ns.finish().await;
}

/// Replaces every occurrence of `from` in the document's strings and keys.
fn replace_all(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(text) => *text = text.replace(from, to),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_all(v, from, to)),
        Value::Object(map) => {
            let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for (key, mut v) in entries {
                replace_all(&mut v, from, to);
                map.insert(key.replace(from, to), v);
            }
        }
        _ => {}
    }
}

/// compare says what `kubectl debug` of the server's release offers; the
/// cluster's own kubectl, built at that release, is asked the same: each
/// profile is tried (a profile it lacks is refused before any request), and
/// its help names the default profile and --custom.
#[tokio::test]
async fn compare_reports_what_kubectl_debug_of_the_servers_release_offers() {
    let mut ns = TestNs::new("cmp-kubectl").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let report = compare_json(&ns, &node, &[], false);
    let facts = &report["checks"]["kubectlDebug"];
    assert_eq!(facts["kubectlMinor"], ns.env.minor(), "{facts}");

    let listed: Vec<&str> = facts["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for profile in [
        "legacy",
        "general",
        "baseline",
        "restricted",
        "netadmin",
        "sysadmin",
    ] {
        let out = ns
            .kubectl()
            .args([
                "debug",
                "node/no-such-node",
                "--image",
                "busybox",
                "--profile",
                profile,
            ])
            .output()
            .unwrap();
        let refused = stderr_of(&out).contains(&format!("unknown profile: {profile}"));
        assert_eq!(
            !refused,
            listed.contains(&profile),
            "kubectl {} and compare disagree on profile {profile}: {}",
            ns.env.version,
            stderr_of(&out)
        );
    }

    let help = ns.kubectl().args(["debug", "--help"]).output().unwrap();
    let help = stdout_of(&help);
    let default = help
        .split("--profile='")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("kubectl debug --help shows --profile's default");
    assert_eq!(facts["defaultProfile"], default, "{facts}");
    assert_eq!(facts["custom"], help.contains("--custom="), "{facts}");
    ns.finish().await;
}

#[tokio::test]
async fn a_baseline_namespace_admits_debug_node_baseline_and_rejects_node_shell() {
    let mut ns = TestNs::with_pod_security("cmp-baseline", "baseline").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let mut report = compare_json(&ns, &node, &["--profile", "baseline"], false);
    let (shell, shell_message) = verdict(&report, "nodeShell");
    assert_eq!(shell, "rejected");
    assert!(
        shell_message.contains("violates PodSecurity \"baseline:latest\"")
            && shell_message.contains("host namespaces"),
        "{shell_message}"
    );
    assert_eq!(verdict(&report, "debugNode").0, "admitted");
    assert_eq!(report["recommendation"]["approach"], "debug-node");
    assert_eq!(
        report["recommendation"]["command"],
        format!(
            "toolbox debug-node {node} --profile baseline -n {}",
            ns.name
        )
        .as_str()
    );
    // The comparison is read from the pods themselves.
    let rows = report["comparison"].as_array().unwrap();
    let row = |point: &str| rows.iter().find(|r| r["point"] == point).unwrap().clone();
    assert_eq!(row("privileged")["nodeShell"], "yes");
    assert_eq!(row("privileged")["debugNode"], "no");
    assert_eq!(row("host PID / network / IPC")["debugNode"], "none");
    assert_eq!(row("PodSecurity level needed")["debugNode"], "baseline");

    // Names, the namespace and times change from run to run.
    for (pod, placeholder) in [
        ("nodeShell", "[node-shell pod]"),
        ("debugNode", "[debug-node pod]"),
    ] {
        let name = report["pods"][pod]["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_string();
        replace_all(&mut report, &name, placeholder);
    }
    replace_all(&mut report, &node, "[node]");
    replace_all(&mut report, &ns.name, "[namespace]");
    insta::assert_json_snapshot!("compare_baseline", report, {
        ".pods.*.metadata.annotations[\"toolbox.dev/expires-at\"]" => "[time]",
        ".pods.*.metadata.annotations[\"toolbox.dev/client-host\"]" => "[host]",
        ".checks.serverVersion" => "[version]",
        ".checks.environment.kubelet" => "[version]",
        // What kubectl debug offers follows the release; the test below
        // checks it against the cluster's own kubectl.
        ".checks.kubectlDebug" => "[kubectl debug of the server's release]",
    });
    no_pods_in(&ns).await;
    ns.finish().await;
}

#[tokio::test]
async fn dev_sees_the_permissions_it_lacks_named() {
    let mut ns = TestNs::new("cmp-dev").await;
    let node = ns.node("n", NodeSpec::default()).await;
    ns.grant_dev(vec![rule(&["pods"], &["get"])]).await;
    // compare reads the node it compares on.
    ns.grant_dev_cluster(vec![rule(&["nodes"], &["get"])]).await;
    // Other tests may grant dev `list nodes` cluster-wide meanwhile: the
    // cluster's own answer says whether it is missing.
    let dev_can = |verb: &str, resource: &str| {
        ns.kubectl()
            .args(["auth", "can-i", verb, resource, "--as", "dev"])
            .output()
            .unwrap()
            .status
            .success()
    };
    let can_list_nodes = dev_can("list", "nodes");
    let can_read_namespaces = dev_can("get", "namespaces");

    let report = compare_json(&ns, &node, &[], true);
    let missing: Vec<&str> = report["checks"]["missingPermissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut expected = vec![
        "create pods",
        "delete pods",
        "create pods/exec",
        "create pods/attach",
    ];
    if !can_list_nodes {
        expected.push("list nodes");
    }
    assert_eq!(missing, expected);
    for pod in ["nodeShell", "debugNode"] {
        let (verdict, why) = verdict(&report, pod);
        assert_eq!(verdict, "not-checked", "{pod}");
        assert!(
            why.contains("User \"dev\" cannot create resource \"pods\""),
            "{why}"
        );
    }
    assert_eq!(report["recommendation"]["approach"], "neither");
    if !can_read_namespaces {
        assert!(
            report["checks"]["namespace"]["error"]
                .as_str()
                .is_some_and(|e| e.contains("dev cannot get namespaces")),
            "{}",
            report["checks"]["namespace"]
        );
    }

    let out = ns
        .toolbox_as_dev()
        .args(["compare", &node])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("missing: {}", expected.join(", "))),
        "{text}"
    );
    assert!(
        text.contains(&format!("You cannot create pods in namespace {}", ns.name)),
        "{text}"
    );
    no_pods_in(&ns).await;
    ns.finish().await;
}

/// The audit events toolbox caused in `namespace`, at ResponseComplete.
fn toolbox_audit_events(ns: &TestNs) -> Vec<Value> {
    let text = std::fs::read_to_string(&ns.env.audit_log).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|e| {
            e["stage"] == "ResponseComplete"
                && e["objectRef"]["namespace"] == ns.name.as_str()
                && e["userAgent"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("toolbox/"))
        })
        .collect()
}

#[tokio::test]
async fn compare_creates_nothing_and_only_dry_runs_its_pods() {
    let mut ns = TestNs::new("cmp-nothing").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let report = compare_json(&ns, &node, &[], false);
    assert_eq!(verdict(&report, "nodeShell").0, "admitted");
    assert_eq!(verdict(&report, "debugNode").0, "admitted");
    let out = ns
        .toolbox()
        .args(["compare", &node, "--diff"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.starts_with("--- node-shell\n+++ debug-node\n"),
        "{diff}"
    );
    assert!(
        diff.contains("-    securityContext:\n-      privileged: true"),
        "{diff}"
    );

    no_pods_in(&ns).await;
    let on_node: Api<Pod> = Api::all(ns.admin.clone());
    let anywhere = on_node
        .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
        .await
        .unwrap()
        .items;
    assert!(anywhere.is_empty(), "no pod on the node in any namespace");

    let mut events = Vec::new();
    wait_until(Duration::from_secs(10), "the audit log", || {
        events = toolbox_audit_events(&ns);
        let found = events.iter().filter(|e| e["verb"] == "create").count() >= 2;
        async move { found }
    })
    .await;
    let writes: Vec<&Value> = events
        .iter()
        .filter(|e| !matches!(e["verb"].as_str(), Some("get" | "list" | "watch")))
        .collect();
    assert_eq!(writes.len(), 2, "one dry run per pod: {writes:#?}");
    for event in writes {
        assert_eq!(event["verb"], "create");
        assert_eq!(event["objectRef"]["resource"], "pods");
        let uri = event["requestURI"].as_str().unwrap();
        assert!(uri.contains("dryRun=All"), "{uri}");
    }
    ns.finish().await;
}
