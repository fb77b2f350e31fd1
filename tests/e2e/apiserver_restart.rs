//! kube-apiserver restarted mid-session, for real: `localcluster restart`
//! stops it and starts it again with the same command line. A test binary of
//! its own, so that no other test runs while the server is away.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::{TestNs, cluster, real_node, repo_root, wait_with_timeout};

#[tokio::test]
async fn a_session_across_an_apiserver_restart_ends_in_one_line_and_its_pod_is_deleted() {
    let ns = TestNs::new("apiserver-restart").await;
    let node = real_node();
    let mut child = ns
        .toolbox_process()
        .env("TOOLBOX_CONFIG", &node.settings)
        .args(["node-shell", &node.name, "--", "sh", "-c"])
        .arg("echo start; sleep 120; echo end")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting toolbox");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 6];
    stdout
        .read_exact(&mut first)
        .expect("the command's first output");
    assert_eq!(&first, b"start\n");

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
    let status = wait_with_timeout(&mut child, Duration::from_secs(90));
    let took = restarted.elapsed();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();

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
