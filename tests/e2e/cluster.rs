//! The local cluster itself: what every other e2e test relies on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use harness::{
    NodeSpec, TestNs, exec, node_ready, random_suffix, standin_records_with, wait_for_phase,
};
use k8s_openapi::api::core::v1::{Event, Node, Pod, Taint};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

fn pinned_pod(
    name: &str,
    node: &str,
    annotations: serde_json::Value,
    deadline: Option<i64>,
) -> Pod {
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": { "app.kubernetes.io/managed-by": "toolbox-e2e" }, "annotations": annotations },
        "spec": {
            "nodeName": node,
            "restartPolicy": "Never",
            "activeDeadlineSeconds": deadline,
            "tolerations": [{ "operator": "Exists" }],
            "containers": [{ "name": "main", "image": "alpine:3.22", "command": ["sleep", "3600"] }]
        }
    }))
    .expect("pod object")
}

#[tokio::test]
async fn smoke_nodes_pod_exec_standin_delete() {
    let ns = TestNs::new("smoke").await;

    // 1. The simulated nodes, listed with kube-rs.
    let nodes: Api<Node> = Api::all(ns.admin.clone());
    let list = nodes
        .list(&ListParams::default().labels("type=kwok"))
        .await
        .unwrap();
    assert!(
        list.items.len() >= 3,
        "expected at least 3 simulated nodes, got {}",
        list.items.len()
    );
    let node = list
        .items
        .iter()
        .find(|n| node_ready(n).as_deref() == Some("True"))
        .expect("a Ready node");
    let node_name = node.metadata.name.clone().unwrap();
    let labels = node.metadata.labels.clone().unwrap_or_default();
    for key in [
        "kubernetes.io/hostname",
        "kubernetes.io/os",
        "kubernetes.io/arch",
        "topology.kubernetes.io/zone",
        "node.kubernetes.io/instance-type",
    ] {
        assert!(
            labels.contains_key(key),
            "node {node_name} lacks label {key}"
        );
    }

    // 2. A pod pinned to it reaches Running.
    let pods = ns.pods();
    pods.create(
        &PostParams::default(),
        &pinned_pod("smoke", &node_name, json!({}), None),
    )
    .await
    .unwrap();
    let pod = wait_for_phase(&pods, "smoke", &["Running"], Duration::from_secs(30)).await;
    assert_eq!(
        pod.spec.unwrap().node_name.as_deref(),
        Some(node_name.as_str())
    );

    // 3. exec without a TTY keeps stdout and stderr apart and reports the exit status.
    let out = exec(
        &pods,
        "smoke",
        &["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"],
        false,
    )
    .await;
    assert_eq!(out.stdout, "to-stdout\n");
    assert_eq!(out.stderr, "to-stderr\n");
    assert_eq!(out.exit_code, 3, "a non-zero status is reported as such");
    let ok = exec(&pods, "smoke", &["true"], false).await;
    assert_eq!(ok.exit_code, 0);
    //    ...and with a TTY.
    let tty = exec(
        &pods,
        "smoke",
        &["sh", "-c", "test -t 0 && test -t 1 && echo on-a-tty"],
        true,
    )
    .await;
    assert_eq!(tty.stdout.trim(), "on-a-tty");
    assert_eq!(tty.exit_code, 0);

    // 4. The stand-in nsenter records what a real node would have received.
    let token = format!("smoke-{}", random_suffix());
    let out = exec(
        &pods,
        "smoke",
        &[
            "nsenter", "--target", "1", "--mount", "--pid", "--", "echo", &token,
        ],
        false,
    )
    .await;
    assert_eq!(out.stdout.trim(), token);
    let records = standin_records_with(&token);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].tool, "nsenter");
    assert_eq!(
        records[0].args,
        [
            "--target",
            "1",
            "--mount",
            "--pid",
            "--",
            "echo",
            token.as_str()
        ]
    );

    // 5. Deleting it.
    pods.delete("smoke", &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    harness::wait_until(Duration::from_secs(10), "the pod to be gone", || async {
        pods.get_opt("smoke").await.unwrap().is_none()
    })
    .await;
    ns.finish().await;
}

#[tokio::test]
async fn active_deadline_fails_the_pod_like_a_kubelet() {
    let mut ns = TestNs::new("deadline").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    pods.create(
        &PostParams::default(),
        &pinned_pod("deadline", &node, json!({}), Some(2)),
    )
    .await
    .unwrap();
    wait_for_phase(&pods, "deadline", &["Running"], Duration::from_secs(20)).await;
    let started = Instant::now();
    let pod = wait_for_phase(&pods, "deadline", &["Failed"], Duration::from_secs(20)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "failed before its deadline"
    );
    let status = pod.status.unwrap();
    assert_eq!(status.reason.as_deref(), Some("DeadlineExceeded"));
    ns.cleanup().await;
}

async fn events_for(ns: &TestNs, pod: &str) -> Vec<Event> {
    Api::<Event>::namespaced(ns.admin.clone(), &ns.name)
        .list(&ListParams::default().fields(&format!("involvedObject.name={pod}")))
        .await
        .unwrap()
        .items
}

#[tokio::test]
async fn simulated_image_pull_error_then_backoff_with_events() {
    let mut ns = TestNs::new("pull-error").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    let pod = pinned_pod(
        "pull",
        &node,
        json!({ "toolbox.test/simulate": "image-pull-error" }),
        None,
    );
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let waiting_reason = |p: &Pod| -> Option<String> {
        p.status
            .as_ref()?
            .container_statuses
            .as_ref()?
            .first()?
            .state
            .as_ref()?
            .waiting
            .as_ref()?
            .reason
            .clone()
    };
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.last().map(String::as_str) != Some("ImagePullBackOff") {
        assert!(
            Instant::now() < deadline,
            "no ImagePullBackOff; saw {seen:?}"
        );
        if let Some(reason) = pods
            .get("pull")
            .await
            .ok()
            .as_ref()
            .and_then(waiting_reason)
            && seen.last() != Some(&reason)
        {
            seen.push(reason);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen.first().map(String::as_str),
        Some("ErrImagePull"),
        "{seen:?}"
    );
    let pod = pods.get("pull").await.unwrap();
    assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Pending"));
    harness::wait_until(Duration::from_secs(10), "a Failed event", || async {
        events_for(&ns, "pull")
            .await
            .iter()
            .any(|e| e.reason.as_deref() == Some("Failed"))
    })
    .await;
    ns.cleanup().await;
}

#[tokio::test]
async fn simulated_crash_and_slow_start() {
    let mut ns = TestNs::new("crash").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let pods = ns.pods();
    pods.create(
        &PostParams::default(),
        &pinned_pod(
            "crash",
            &node,
            json!({ "toolbox.test/simulate": "crash" }),
            None,
        ),
    )
    .await
    .unwrap();
    let pod = wait_for_phase(&pods, "crash", &["Failed"], Duration::from_secs(20)).await;
    let terminated = pod.status.unwrap().container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(terminated.exit_code, 1);

    let slow = pinned_pod(
        "slow",
        &node,
        json!({ "toolbox.test/simulate": "slow-start", "toolbox.test/start-delay": "3s" }),
        None,
    );
    let created = Instant::now();
    pods.create(&PostParams::default(), &slow).await.unwrap();
    // A fixed second on purpose, a third of the delay: the pod must still
    // be Pending then, so there is no event to wait for.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let phase = pods.get("slow").await.unwrap().status.and_then(|s| s.phase);
    assert_eq!(
        phase.as_deref(),
        Some("Pending"),
        "slow-start pods stay Pending at first"
    );
    wait_for_phase(&pods, "slow", &["Running"], Duration::from_secs(20)).await;
    assert!(
        created.elapsed() >= Duration::from_secs(3),
        "Running only after the delay"
    );
    ns.cleanup().await;
}

#[tokio::test]
async fn harness_creates_the_nodes_tests_need() {
    let mut ns = TestNs::new("nodes").await;
    let windows = ns
        .node(
            "win",
            NodeSpec {
                windows: true,
                ..Default::default()
            },
        )
        .await;
    let not_ready = ns
        .node(
            "down",
            NodeSpec {
                not_ready: true,
                ..Default::default()
            },
        )
        .await;
    let taint = Taint {
        key: "dedicated".into(),
        value: Some("db".into()),
        effect: "NoSchedule".into(),
        time_added: None,
    };
    let tainted = ns
        .node(
            "tainted",
            NodeSpec {
                taints: vec![taint],
                unschedulable: true,
                labels: BTreeMap::from([("pool".into(), "db".into())]),
                ..Default::default()
            },
        )
        .await;
    let nodes: Api<Node> = Api::all(ns.admin.clone());
    let win = nodes.get(&windows).await.unwrap();
    assert_eq!(win.metadata.labels.unwrap()["kubernetes.io/os"], "windows");
    assert_eq!(
        node_ready(&nodes.get(&not_ready).await.unwrap()).as_deref(),
        Some("False")
    );
    let t = nodes.get(&tainted).await.unwrap();
    assert_eq!(t.spec.as_ref().unwrap().unschedulable, Some(true));
    assert_eq!(t.spec.unwrap().taints.unwrap()[0].key, "dedicated");
    // A node can go NotReady later, as when its kubelet stops.
    ns.set_node_not_ready(&windows, true).await;
    harness::wait_until(
        Duration::from_secs(20),
        "the node to go NotReady",
        || async { node_ready(&nodes.get(&windows).await.unwrap()).as_deref() == Some("False") },
    )
    .await;
    ns.cleanup().await;
}

#[tokio::test]
async fn kubectl_server_version_rbac_and_audit() {
    let ns = TestNs::new("basics").await;
    // kubectl is built at the cluster's version and /version reports it.
    let out = ns
        .kubectl()
        .args(["version", "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let version: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        version["serverVersion"]["gitVersion"],
        ns.env.version.as_str()
    );
    assert_eq!(
        version["clientVersion"]["gitVersion"],
        ns.env.version.as_str()
    );

    // dev starts with no permissions at all.
    let forbidden = Api::<Pod>::namespaced(ns.dev.clone(), &ns.name)
        .list(&ListParams::default())
        .await;
    match forbidden {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403),
        other => panic!("dev should be forbidden to list pods, got {other:?}"),
    }

    // Requests are audited at Metadata level, with the user and the namespace.
    let audit = std::fs::read_to_string(&ns.env.audit_log).unwrap();
    assert!(
        audit.lines().any(|l| l.contains(&ns.name)
            && l.contains("\"username\":\"dev\"")
            && l.contains("\"level\":\"Metadata\"")),
        "the audit log records dev's request in {}",
        ns.name
    );
    ns.finish().await;
}

/// kube-scheduler places a pod that names no node, and the real node takes it
/// once its not-ready taint is gone: a plain pod, no toleration, really run.
#[tokio::test]
async fn the_scheduler_places_a_plain_pod_on_the_real_node_which_runs_it() {
    let ns = TestNs::new("scheduled").await;
    let real = harness::real_node();
    let nodes: Api<Node> = Api::all(ns.admin.clone());
    let node = nodes.get(&real.name).await.expect("the real node");
    let taints = node.spec.and_then(|s| s.taints).unwrap_or_default();
    assert!(
        taints.is_empty(),
        "a Ready real node carries no taint: {taints:?}"
    );

    let token = random_suffix();
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": "plain" },
        "spec": {
            "restartPolicy": "Never",
            "nodeSelector": { "toolbox.test/real-node": "true" },
            "containers": [{
                "name": "main", "image": real.image, "imagePullPolicy": "Never",
                "command": ["sh", "-c", format!("echo ran-{token} on $(hostname)")]
            }]
        }
    }))
    .unwrap();
    let pods = ns.pods();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let done = wait_for_phase(
        &pods,
        "plain",
        &["Succeeded", "Failed"],
        Duration::from_secs(60),
    )
    .await;
    let spec = done.spec.unwrap();
    assert_eq!(spec.node_name.as_deref(), Some(real.name.as_str()));
    assert_eq!(
        done.status.unwrap().phase.as_deref(),
        Some("Succeeded"),
        "the container ran to completion"
    );
    let log = pods.logs("plain", &Default::default()).await.unwrap();
    // Not hostNetwork: the pod has a UTS namespace of its own, named after it.
    assert_eq!(log.trim(), format!("ran-{token} on plain"));
    ns.finish().await;
}
