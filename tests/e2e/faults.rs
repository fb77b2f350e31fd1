//! Faults between toolbox and the API server, injected with the harness's
//! [`FaultProxy`]: connections cut mid-session or while the pod starts, a
//! server that stays down, a slow server. What the user sees (one line, the
//! exit code) and what becomes of the pod are both asserted.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::{FaultProxy, NodeSpec, TestNs, stderr_of, wait_with_timeout};

const SESSION: &str = "echo start; sleep 30; echo end";

/// A node-shell session through `proxy`, its stdout lines sent to the
/// returned channel as they come.
fn session_via(ns: &TestNs, proxy: &FaultProxy, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = ns
        .toolbox_process_via(&proxy.kubeconfig())
        .args(["node-shell"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting toolbox");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    (child, received)
}

fn wait_for_line(lines: &mpsc::Receiver<String>, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line == want => return,
            Ok(_) => {}
            Err(e) => panic!("no line {want:?} from the session: {e}"),
        }
    }
}

fn rest_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        use std::io::Read;
        let _ = err.read_to_string(&mut text);
    }
    text
}

fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.starts_with("error:")).collect()
}

#[tokio::test]
async fn a_cut_mid_session_ends_it_with_one_error_and_the_pod_is_deleted() {
    let mut ns = TestNs::new("faults-cut").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let proxy = FaultProxy::to_cluster();
    let (mut child, lines) = session_via(&ns, &proxy, &[&node, "--", "sh", "-c", SESSION]);
    wait_for_line(&lines, "start");

    proxy.refuse_for(Duration::from_secs(5));
    proxy.cut();
    let cut_at = Instant::now();
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let took = cut_at.elapsed();
    let stderr = rest_of(&mut child);

    assert_eq!(status.code(), Some(1), "{stderr}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert!(
        errors[0].contains("lost the connection to the API server") && errors[0].contains(&ns.name),
        "{stderr}"
    );
    assert!(!stderr.contains("WARN"), "no log lines: {stderr}");
    assert!(
        lines.try_iter().all(|l| l != "end"),
        "the session did not go on"
    );
    // Deletion retries while the port refuses (5s), then succeeds.
    assert!(took < Duration::from_secs(20), "took {took:?}: {stderr}");
    ns.finish().await;
}
