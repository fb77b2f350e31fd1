//! kube-apiserver restarted mid-session, for real: `localcluster restart`
//! stops it and starts it again with the same command line. It holds the
//! whole cluster, so that no other test runs while the server is away.

use std::time::{Duration, Instant};

use harness::{SessionEnd, TestNs, cluster, real_node, repo_root, start_session};

#[tokio::test]
async fn a_session_across_an_apiserver_restart_ends_in_one_line_and_its_pod_is_deleted() {
    // While the server is away, every other test's requests would fail.
    let _whole = harness::whole_cluster();
    let ns = TestNs::new("apiserver-restart").await;
    let node = real_node();
    let mut toolbox = ns.toolbox_process_on_real_node();
    toolbox
        .args(["node-shell", &node.name, "--", "sh", "-c"])
        .arg("echo start; sleep 120; echo end");
    let session = start_session(toolbox, std::process::Stdio::null(), "start");

    let restarted = Instant::now();
    let restart = std::process::Command::new(repo_root().join("target/cluster/bin/localcluster"))
        .args(["restart", "-dir"])
        .arg(&cluster().dir)
        .arg("kube-apiserver")
        .output()
        .expect("running localcluster restart");
    assert!(
        restart.status.success(),
        "{}",
        String::from_utf8_lossy(&restart.stderr)
    );
    let SessionEnd {
        status,
        rest,
        stderr,
    } = session.end(Duration::from_secs(90));
    let took = restarted.elapsed();

    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(rest, "", "the session ended with the server");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("error: lost the connection to the API server"),
        "{stderr}"
    );
    // The server is back within its restart; toolbox's delete retries ride it out.
    assert!(
        took < Duration::from_secs(60),
        "ended {took:?} after the restart"
    );
    ns.finish().await;
}
