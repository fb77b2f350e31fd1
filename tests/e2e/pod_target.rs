//! node-shell `--pod`: a session on a pod's node, in its container's
//! namespaces, proved on the real node with a pod of the pause image (no
//! shell, no tools): the node's `ip` sees the pod's interface, `ps` in the
//! pod's PID namespace sees the pod's processes only, and with `mnt` the
//! container's root is `/` and the node's root is `/proc/1/root` (with
//! `mnt,pid`, at `$TOOLBOX_NODE_ROOT`, shown from a busybox pod). The
//! target pod is never changed, and the session's pod names it.

use std::time::Duration;

use harness::{TestNs, real_node, stderr_of, stdout_of, wait_until};
use k8s_openapi::api::core::v1::Pod;
use kube::api::PostParams;
use serde_json::json;

/// The exit code for a target pod toolbox cannot find or enter.
const NOT_FOUND: i32 = 3;

/// A pause pod on the real node, with its own network namespace; running.
async fn pause_pod(ns: &TestNs, name: &str) -> Pod {
    running_pod(
        ns,
        name,
        json!({ "name": "app", "image": real_node().pause_image, "imagePullPolicy": "Never" }),
    )
    .await
}

/// A pod of `container` on the real node, once it runs.
async fn running_pod(ns: &TestNs, name: &str, container: serde_json::Value) -> Pod {
    let node = real_node();
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": {
            "nodeName": node.name, "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": false,
            "containers": [container]
        }
    }))
    .unwrap();
    ns.pods()
        .create(&PostParams::default(), &pod)
        .await
        .unwrap();
    wait_until(
        Duration::from_secs(60),
        "the target pod running",
        || async {
            ns.pods().get(name).await.ok().is_some_and(|p| {
                p.status.as_ref().and_then(|s| s.pod_ip.as_ref()).is_some()
                    && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
            })
        },
    )
    .await;
    ns.pods().get(name).await.unwrap()
}

#[tokio::test]
async fn a_pause_pod_is_entered_from_its_node_and_left_unchanged() {
    let ns = TestNs::new("pod-target").await;
    let web = pause_pod(&ns, "web").await;
    let ip = web.status.as_ref().unwrap().pod_ip.clone().unwrap();
    let target = format!("{}/web", ns.name);

    // The default: the pod's network, the node's tools.
    let (watch, stop) = harness::watch_pods(&ns).await;
    let out = ns
        .toolbox_on_real_node()
        .args([
            "node-shell",
            "--pod",
            &target,
            "--",
            "ip",
            "-4",
            "-o",
            "addr",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let addresses = stdout_of(&out);
    assert!(addresses.contains(&format!("inet {ip}/")), "{addresses}");
    assert_eq!(
        addresses.lines().count(),
        2,
        "lo and the pod's eth0 only, not the node's: {addresses}"
    );
    stop.send(()).unwrap();
    let seen = watch.await.unwrap();
    assert!(
        seen.iter().any(|p| {
            p.metadata.name.as_deref() != Some("web")
                && p.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get("toolbox.dev/target-pod"))
                    == Some(&format!("{target}/app"))
        }),
        "the session's pod names its target for the audit trail"
    );
    let line = stderr_of(&out);
    assert!(
        line.starts_with(&format!(
            "toolbox: in pod {target}, container app, on node {}, PID ",
            real_node().name
        )) && line.contains("the container's net namespace, the node's others"),
        "{line}"
    );

    // Its processes only.
    let out = ns
        .toolbox_on_real_node()
        .args([
            "node-shell",
            "--pod",
            &target,
            "--enter",
            "pid",
            "--",
            "ps",
            "-e",
            "-o",
            "comm=",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out).split_whitespace().collect::<Vec<_>>(),
        ["pause", "ps"]
    );

    // Its filesystem, with the node's at /proc/1/root (a static binary
    // runs from there; the pause image has nothing else).
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", "--pod", &target, "--enter", "mnt", "--"])
        .args(["/proc/1/root/bin/busybox", "ls", "/"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let listing = stdout_of(&out);
    assert!(listing.lines().any(|l| l == "pause"), "{listing}");
    assert!(
        !listing.lines().any(|l| l == "usr"),
        "not the node's /: {listing}"
    );

    let after = ns.pods().get("web").await.unwrap();
    assert_eq!(
        after.metadata.resource_version,
        web.metadata.resource_version
    );
    assert_eq!(
        after.spec, web.spec,
        "the target pod's spec is never changed"
    );
    ns.finish().await;
}

/// With `mnt` and `pid` both, the container's files and processes, and the
/// node's root at `$TOOLBOX_NODE_ROOT`: a pod with a shell of its own.
#[tokio::test]
async fn with_mnt_and_pid_the_nodes_root_is_where_the_session_is_told() {
    let ns = TestNs::new("pod-target-root").await;
    let image = real_node().plain_image.clone();
    running_pod(
        &ns,
        "box",
        json!({ "name": "box", "image": image, "imagePullPolicy": "Never",
                "command": ["sh", "-c", "echo from-the-container > /written; exec sleep 3600"] }),
    )
    .await;
    let marker = format!("toolbox-e2e-{}", ns.name);
    let on_node = std::path::Path::new("/var/tmp").join(&marker);
    std::fs::write(&on_node, "on the node\n").unwrap();
    let out = ns
        .toolbox_on_real_node()
        .args([
            "node-shell",
            "--pod",
            &format!("{}/box", ns.name),
            "--enter",
            "mnt,pid",
            "--",
        ])
        .args([
            "sh",
            "-c",
            &format!(
                "cat /written; cat \"$TOOLBOX_NODE_ROOT/var/tmp/{marker}\"; ps -o comm= | sort"
            ),
        ])
        .output()
        .unwrap();
    std::fs::remove_file(&on_node).unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..2],
        ["from-the-container", "on the node"],
        "the container's file, then the node's: {stdout}"
    );
    // The pod's processes only: its sleep, and the session's own (sort may
    // not have started when ps reads /proc); nothing of the node's.
    let processes = &lines[2..];
    assert!(
        processes.contains(&"sleep") && processes.contains(&"ps"),
        "{stdout}"
    );
    assert!(
        processes
            .iter()
            .all(|p| ["ps", "sh", "sleep", "sort"].contains(p)),
        "{stdout}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn what_cannot_be_entered_is_one_line() {
    let ns = TestNs::new("pod-target-bad").await;
    pause_pod(&ns, "web").await;
    for (args, code, message) in [
        (
            vec!["--pod", "nope"],
            NOT_FOUND,
            format!("error: pod \"nope\" not found in namespace {}", ns.name),
        ),
        (
            vec!["--pod", "web", "-c", "db"],
            NOT_FOUND,
            format!(
                "error: cannot enter pod {}/web: it has no container \"db\"; its containers: app",
                ns.name
            ),
        ),
        (
            vec!["--pod", "web", "--enter", "user"],
            2,
            "unknown namespace \"user\"".to_string(),
        ),
        (
            vec!["--pod", "web", "--gather"],
            2,
            "error: --pod opens one session, on one cluster".to_string(),
        ),
    ] {
        let out = ns
            .toolbox_on_real_node()
            .arg("node-shell")
            .args(&args)
            .args(["--", "true"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr_of(&out)
        );
        let stderr = stderr_of(&out);
        assert!(stderr.contains(&message), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
    ns.finish().await;
}
