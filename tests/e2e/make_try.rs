//! `make try`, as a newcomer runs it: one command that ends in a root shell on
//! the local cluster's real node, then says what to try next.

use std::time::Duration;

use harness::{TOOLBOX_SELECTOR, cluster, real_node, repo_root, spawn_on_pty};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

#[tokio::test]
async fn make_try_opens_a_root_shell_in_the_real_nodes_namespaces() {
    use expectrl::{Eof, Expect, Regex};
    // It uses the shared cluster without a namespace of its own.
    let _cluster = harness::shared_cluster();
    let env = cluster();
    let node = real_node().name.clone();
    // The running test cluster is reused, as `make try` reuses one started by hand.
    let mut make = std::process::Command::new("make");
    make.args([
        "--no-print-directory",
        "try",
        &format!("CLUSTER_DIR={}", env.dir.display()),
        // The release it runs: make refuses a running cluster of another.
        &format!("KUBE_VERSION={}", env.version),
    ])
    .current_dir(repo_root())
    .env("TERM", "xterm")
    .env_remove("MAKEFLAGS")
    .env_remove("MFLAGS")
    .env_remove("MAKELEVEL");
    let (facts, status, next) = tokio::task::spawn_blocking(move || {
        // make may still have to build toolbox when a test run changed it.
        let mut session = spawn_on_pty(make, Duration::from_secs(300));
        session
            .expect("Opening a root shell on the real node")
            .expect("make try says where it goes");
        session.set_expect_timeout(Some(Duration::from_secs(60)));
        session
            .send_line("echo \"facts:$(readlink /proc/self/ns/mnt):$(readlink /proc/1/ns/mnt):$(hostname):$(id -u):end\"")
            .unwrap();
        let found = session
            .expect(Regex(r"facts:(mnt:\[\d+\]):(mnt:\[\d+\]):([a-z0-9-]+):(\d+):end"))
            .expect("the shell's answer");
        let facts: Vec<String> = (1..=4)
            .map(|i| String::from_utf8_lossy(found.get(i).unwrap()).into_owned())
            .collect();
        session.send_line("exit").unwrap();
        session
            .expect("Things to try next")
            .expect("what to try next, after the shell");
        let rest = session.expect(Eof).expect("make try to end");
        // Eof's match is everything read up to the end.
        let next: String = std::iter::once(rest.before())
            .chain(rest.matches())
            .map(String::from_utf8_lossy)
            .collect();
        let status = session.get_process().wait().expect("make's exit status");
        (facts, status, next)
    })
    .await
    .unwrap();

    assert_eq!(
        facts[0], facts[1],
        "the shell is in the node's mount namespace"
    );
    assert_eq!(facts[2], node, "the node's hostname");
    assert_eq!(facts[3], "0", "a root shell");
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    for hint in [
        "debug-node",
        "compare",
        "cleanup",
        "COMPLETE=bash",
        "make cluster-down",
    ] {
        assert!(next.contains(hint), "{hint} in:\n{next}");
    }

    // The session's pod is gone; the cluster is still up.
    let admin = harness::client_from(&env.kubeconfig).await;
    let pods: Api<Pod> = Api::namespaced(admin, "default");
    let left: Vec<String> = pods
        .list(&ListParams::default().labels(TOOLBOX_SELECTOR))
        .await
        .expect("the cluster stays up after make try")
        .items
        .into_iter()
        .filter(|p| {
            p.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.values().any(|v| v == "make try"))
        })
        .filter_map(|p| p.metadata.name)
        .collect();
    assert!(left.is_empty(), "make try left {left:?}");
}
