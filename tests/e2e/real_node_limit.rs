//! The real node at its pod limit (the kubelet's maxPods): an ordinary
//! node-shell pod is rejected by the kubelet (`OutOfpods`), and one with
//! `--priority-class system-node-critical` is admitted as the kubelet admits
//! critical pods, by preempting another pod.
//!
//! It holds the whole cluster, so that no other real-node test runs while
//! the node is full. It fails, never skips, when the cluster has no real
//! node.

use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use harness::{RealNode, TestNs, real_node, stderr_of, stdout_of, wait_until};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

/// The exit code for a pod that could not start (docs/node-shell.md).
const POD_FAILED: i32 = 4;
const FILLER_SELECTOR: &str = "toolbox.test/filler=true";

/// The filler pods of one namespace. Dropping it (a panic included) deletes
/// them at once, so that a failing test does not leave the shared node full;
/// the test empties `names` once it has deleted them itself.
struct Fillers {
    kubectl: std::path::PathBuf,
    kubeconfig: std::path::PathBuf,
    namespace: String,
    names: Vec<String>,
}

impl Drop for Fillers {
    fn drop(&mut self) {
        if self.names.is_empty() {
            return;
        }
        let _ = StdCommand::new(&self.kubectl)
            .env("KUBECONFIG", &self.kubeconfig)
            .args([
                "-n",
                &self.namespace,
                "delete",
                "pods",
                "-l",
                FILLER_SELECTOR,
            ])
            .args(["--grace-period=0", "--force", "--wait=false"])
            .output();
    }
}

/// A pod that only takes one of the node's pod slots: the pause image, host
/// network (no CNI involved), no requests, bound to the node directly.
fn filler(node: &RealNode, name: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": { "toolbox.test/filler": "true" } },
        "spec": {
            "nodeName": node.name, "hostNetwork": true, "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0, "automountServiceAccountToken": false,
            "containers": [{ "name": "pause", "image": node.pause_image, "imagePullPolicy": "Never" }]
        }
    }))
    .expect("filler pod")
}

fn is_active(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    pod.metadata.deletion_timestamp.is_none() && !matches!(phase, Some("Succeeded" | "Failed"))
}

/// The pods the kubelet counts against maxPods: bound to the node, not
/// finished and not being deleted, in every namespace.
async fn active_pods_on(ns: &TestNs, node: &str) -> Vec<Pod> {
    Api::<Pod>::all(ns.admin.clone())
        .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
        .await
        .expect("listing the node's pods")
        .items
        .into_iter()
        .filter(is_active)
        .collect()
}

async fn max_pods(ns: &TestNs, node: &str) -> usize {
    let node: Node = Api::all(ns.admin.clone()).get(node).await.unwrap();
    node.status
        .and_then(|s| s.allocatable)
        .and_then(|a| a.get("pods").map(|q| q.0.clone()))
        .expect("the node reports allocatable pods")
        .parse()
        .expect("a whole number of pods")
}

/// Fills the node up to `max` active pods with fillers, and waits until
/// each new one runs (or is rejected, when another test's pod took the slot
/// meanwhile). Other tests may use the node too: it counts again each round.
async fn fill(ns: &TestNs, node: &RealNode, max: usize, fillers: &mut Fillers) {
    let pods = ns.pods();
    for _round in 0..5 {
        let active = active_pods_on(ns, &node.name).await.len();
        if active >= max {
            return;
        }
        let mut created = Vec::new();
        for _ in active..max {
            let name = format!("filler-{:02}", fillers.names.len());
            pods.create(&PostParams::default(), &filler(node, &name))
                .await
                .expect("creating a filler pod");
            fillers.names.push(name.clone());
            created.push(name);
        }
        for name in &created {
            wait_until(
                Duration::from_secs(90),
                &format!("filler {name} to run or be rejected"),
                || async {
                    pods.get(name).await.ok().is_some_and(|p| {
                        matches!(
                            p.status.and_then(|s| s.phase).as_deref(),
                            Some("Running" | "Failed" | "Succeeded")
                        )
                    })
                },
            )
            .await;
        }
    }
    let active = active_pods_on(ns, &node.name).await.len();
    assert!(
        active >= max,
        "could not fill {}: {active} of {max} pods",
        node.name
    );
}

/// The Preempting Events the kubelet recorded since `since`, in every
/// namespace: "namespace/pod: message".
async fn preemptions_since(ns: &TestNs, since: k8s_openapi::jiff::Timestamp) -> Vec<String> {
    Api::<Event>::all(ns.admin.clone())
        .list(&ListParams::default().fields("reason=Preempting"))
        .await
        .expect("listing events")
        .items
        .into_iter()
        .filter(|e| {
            let at = e
                .last_timestamp
                .as_ref()
                .map(|t| t.0)
                .or(e.event_time.as_ref().map(|t| t.0));
            at.is_some_and(|t| t >= since)
        })
        .map(|e| {
            format!(
                "{}/{}: {}",
                e.involved_object.namespace.unwrap_or_default(),
                e.involved_object.name.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_full_node_rejects_an_ordinary_pod_and_admits_a_node_critical_one() {
    // The node is full meanwhile: no other test's pod could start there.
    let _whole = harness::whole_cluster();
    let node = real_node();
    let ns = TestNs::new("rn-limit").await;
    let mut fillers = Fillers {
        kubectl: ns.env.kubectl.clone(),
        kubeconfig: ns.env.kubeconfig.clone(),
        namespace: ns.name.clone(),
        names: Vec::new(),
    };
    // Built (or waited for) before the node is full and the clock starts.
    harness::toolbox_bin();
    let max = max_pods(&ns, &node.name).await;
    let started = Instant::now();
    fill(&ns, node, max, &mut fillers).await;
    eprintln!(
        "{} filler pods brought {} to {max} pods in {:?}",
        fillers.names.len(),
        node.name,
        started.elapsed()
    );

    // (a) An ordinary pod: the kubelet rejects it, and toolbox says so.
    // Each step tops the node up first: another test's pod may have ended.
    fill(&ns, node, max, &mut fillers).await;
    let started = Instant::now();
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name, "--", "true"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = stderr_of(&out);
    eprintln!("without a priority class ({took:?}): {stderr}");
    assert_eq!(out.status.code(), Some(POD_FAILED), "{stderr}");
    assert_eq!(stdout_of(&out), "");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: pod "), "{stderr}");
    assert!(stderr.contains("OutOfpods"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Node didn't have enough resource: pods, requested: 1, used: {max}, capacity: {max}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("--priority-class system-node-critical"),
        "the way out: {stderr}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(
        ns.toolbox_pods().await.is_empty(),
        "the rejected pod was deleted"
    );

    // (b) A node-critical pod: the kubelet preempts a pod to admit it.
    fill(&ns, node, max, &mut fillers).await;
    let since = k8s_openapi::jiff::Timestamp::now() - Duration::from_secs(1);
    let started = Instant::now();
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &node.name])
        .args(["--priority-class", "system-node-critical", "--", "hostname"])
        .output()
        .unwrap();
    let took = started.elapsed();
    eprintln!(
        "with system-node-critical ({took:?}): {}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), format!("{}\n", node.name));
    assert!(took < Duration::from_secs(30), "took {took:?}");
    let deadline = Instant::now() + Duration::from_secs(15);
    let preempted = loop {
        let preempted = preemptions_since(&ns, since).await;
        if !preempted.is_empty() {
            break preempted;
        }
        assert!(
            Instant::now() < deadline,
            "the kubelet recorded no Preempting Event"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("preempted: {preempted:#?}");
    assert!(
        preempted
            .iter()
            .all(|p| p.contains("Preempted in order to admit critical pod")),
        "{preempted:#?}"
    );
    assert!(
        ns.toolbox_pods().await.is_empty(),
        "the session's pod was deleted"
    );

    let pods = ns.pods();
    pods.delete_collection(
        &DeleteParams::default().grace_period(0),
        &ListParams::default().labels(FILLER_SELECTOR),
    )
    .await
    .expect("deleting the fillers");
    wait_until(
        Duration::from_secs(30),
        "the fillers to be gone",
        || async {
            pods.list(&ListParams::default().labels(FILLER_SELECTOR))
                .await
                .is_ok_and(|l| l.items.is_empty())
        },
    )
    .await;
    fillers.names.clear();
    ns.finish().await;
}
