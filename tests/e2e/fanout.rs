//! One command on many nodes (`node-shell NODE... | --all -l`, and
//! `debug-node` alike): prefixed lines, `--gather`, `-o json`, the summary,
//! exit codes 5 and 6, skipped nodes, a node whose pod cannot start, and
//! Ctrl-C leaving nothing behind. The real node answers differently from
//! the simulated ones, as a real cluster's odd node would.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use harness::{
    FaultProxy, NodeSpec, TestNs, real_node, send_signal, stderr_of, stdout_of, wait_with_timeout,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

/// The selector of the nodes a test created.
fn own_nodes(ns: &TestNs) -> String {
    format!("toolbox.test/e2e-namespace={}", ns.name)
}

/// `toolbox node-shell --all -l <this test's nodes>`, for the test to add
/// its flags and `-- COMMAND`.
fn on_own_nodes(ns: &TestNs) -> assert_cmd::Command {
    let mut cmd = ns.toolbox();
    cmd.args(["node-shell", "--all", "-l", &own_nodes(ns)]);
    cmd
}

/// [`on_own_nodes`] as a process the test can signal or read as it runs.
fn own_nodes_process(ns: &TestNs) -> std::process::Command {
    let mut cmd = ns.toolbox_process();
    cmd.args(["node-shell", "--all", "-l", &own_nodes(ns)]);
    cmd
}

/// Creates `count` Ready simulated nodes named `<ns>-nNN`.
async fn nodes(ns: &mut TestNs, count: usize) -> Vec<String> {
    let mut names = Vec::new();
    for i in 1..=count {
        names.push(ns.node(&format!("n{i:02}"), NodeSpec::default()).await);
    }
    names
}

#[tokio::test]
async fn each_line_comes_prefixed_whole_and_the_summary_lists_skipped_nodes() {
    let mut ns = TestNs::new("fan-lines").await;
    let ready = nodes(&mut ns, 20).await;
    let not_ready = ns
        .node(
            "down",
            NodeSpec {
                not_ready: true,
                ..Default::default()
            },
        )
        .await;
    let cordoned = ns
        .node(
            "cordoned",
            NodeSpec {
                unschedulable: true,
                ..Default::default()
            },
        )
        .await;
    // Many lines from every node at once: none may be cut or mixed.
    let script = "i=0; while [ $i -lt 200 ]; do echo line-$i-abcdefghijklmnopqrstuvwxyz0123456789; i=$((i+1)); done; echo oops >&2";
    let out = on_own_nodes(&ns)
        .args(["--", "sh", "-c", script])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let mut seen: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for line in stdout_of(&out).lines() {
        let (node, text) = line.split_once(": ").expect("NODE: line");
        let n: usize = text
            .strip_prefix("line-")
            .and_then(|t| t.strip_suffix("-abcdefghijklmnopqrstuvwxyz0123456789"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a whole line, not {line:?}"));
        seen.entry(node.to_string()).or_default().push(n);
    }
    assert_eq!(
        seen.keys().cloned().collect::<Vec<_>>(),
        ready,
        "every Ready node, and only those"
    );
    for (node, numbers) in &seen {
        assert_eq!(
            *numbers,
            (0..200).collect::<Vec<_>>(),
            "{node}'s lines in order"
        );
    }
    for node in &ready {
        assert!(
            stderr.contains(&format!("{node}: oops\n")),
            "stderr is prefixed too: {stderr}"
        );
    }
    let set = format!("{}-n[01-20]", ns.name);
    assert!(
        stderr.contains("20 nodes: 20 succeeded, 0 failed, 0 could not run; 2 skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("  succeeded: {set}\n")),
        "a folded node set: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "skipped (NotReady): {not_ready}; --include-not-ready runs on them"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("skipped (cordoned): {cordoned}")),
        "{stderr}"
    );

    // Asked for, the cordoned node runs too.
    let out = on_own_nodes(&ns)
        .args(["--include-cordoned", "--", "true"])
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).contains("21 nodes: 21 succeeded, 0 failed, 0 could not run; 1 skipped"),
        "{}",
        stderr_of(&out)
    );
    ns.finish().await;
}

#[tokio::test]
async fn gather_folds_identical_outputs_and_the_odd_node_stands_out() {
    let mut ns = TestNs::new("fan-gather").await;
    let simulated = nodes(&mut ns, 6).await;
    let real = real_node();
    let set = format!("{}-n[01-06]", ns.name);
    // The simulated nodes' commands run on this machine; the real node has
    // a hostname of its own.
    let out = ns
        .toolbox_on_real_node()
        .args([
            "node-shell",
            &set,
            &real.name,
            "--gather",
            // The exec path, whose commands the simulated nodes run (the
            // stream-less one is tests/e2e/streamless.rs').
            "--stream",
            "--",
            "uname",
            "-n",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let machine = String::from_utf8(
        std::process::Command::new("uname")
            .arg("-n")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let header = |nodes: &str, count: usize| {
        let title = format!("{nodes} ({count})");
        let rule = "-".repeat(title.len());
        format!("{rule}\n{title}\n{rule}\n")
    };
    assert_eq!(
        stdout_of(&out),
        format!(
            "{}{machine}{}{}\n",
            header(&set, simulated.len()),
            header(&real.name, 1),
            real.name
        ),
        "the largest group first, each output once"
    );

    // Standard input is not passed on: each command, on the real node too,
    // reads an empty one and goes on.
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &set, &real.name, "--gather", "--stream", "--"])
        .args(["sh", "-c", "cat; echo read-nothing"])
        .write_stdin("typed\n")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out),
        format!(
            "{}read-nothing\n",
            header(&format!("{set},{}", real.name), 7)
        )
    );
    ns.finish().await;
}

#[tokio::test]
async fn json_gives_every_nodes_output_and_status_and_failures_exit_5() {
    let mut ns = TestNs::new("fan-json").await;
    let simulated = nodes(&mut ns, 3).await;
    let real = real_node();
    // Fails on the simulated nodes, succeeds on the real one.
    let check = format!(
        "echo out; echo err >&2; test \"$(uname -n)\" = {}",
        real.name
    );
    let mut args: Vec<String> = ["node-shell", "-o", "json", "--stream"]
        .map(String::from)
        .to_vec();
    args.extend(simulated.iter().cloned());
    args.push(real.name.clone());
    args.extend(["--", "sh", "-c", &check].map(String::from));
    let out = ns.toolbox_on_real_node().args(&args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(5),
        "some commands failed: {}",
        stderr_of(&out)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let listed: Vec<&str> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = simulated.iter().map(String::as_str).collect();
    expected.push(&real.name);
    assert_eq!(listed, expected, "in the order given");
    for node in doc["nodes"].as_array().unwrap() {
        let on_real = node["node"] == real.name.as_str();
        assert_eq!(node["exitCode"], if on_real { 0 } else { 1 }, "{node}");
        assert_eq!(node["stdout"], "out\n");
        assert_eq!(node["stderr"], "err\n");
        assert!(node["error"].is_null());
    }
    let summary = &doc["summary"];
    assert_eq!(
        (
            summary["nodes"].as_u64(),
            summary["succeeded"].as_u64(),
            summary["failed"].as_u64(),
            summary["notRun"].as_u64()
        ),
        (Some(4), Some(1), Some(3), Some(0)),
        "{summary}"
    );
    let failed = summary["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["outcome"] == "failed")
        .expect("a failed group");
    assert_eq!(failed["exitCode"], 1);
    assert_eq!(failed["nodes"], format!("{}-n[01-03]", ns.name));

    // YAML is the same document.
    let out = ns
        .toolbox()
        .args(["node-shell", "-o", "yaml", &simulated[0], "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let doc: serde_json::Value = serde_yaml::from_str(&stdout_of(&out)).expect("one YAML document");
    assert_eq!(doc["nodes"][0]["exitCode"], 0);
    assert_eq!(doc["summary"]["succeeded"], 1);
    ns.finish().await;
}

#[tokio::test]
async fn a_node_whose_pod_cannot_start_is_listed_and_the_run_exits_6() {
    let mut ns = TestNs::new("fan-pull").await;
    let good = nodes(&mut ns, 3).await;
    // Every pod of a simulated node named *-image-pull-error fails to pull
    // its image, as on a node that cannot reach the registry
    // (hack/cluster/stages/pods.yaml).
    let bad = ns.node("bad-image-pull-error", NodeSpec::default()).await;

    let started = Instant::now();
    let out = on_own_nodes(&ns)
        .args(["--", "echo", "hi"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(6),
        "a node could not run it: {stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "failed fast: {:?}",
        started.elapsed()
    );
    for node in &good {
        assert!(
            stdout_of(&out).contains(&format!("{node}: hi\n")),
            "{}",
            stdout_of(&out)
        );
    }
    assert!(
        stderr.contains(&format!("{bad}: toolbox: pod toolbox-shell-")),
        "the node's error as it happens: {stderr}"
    );
    assert!(
        stderr.contains("3 succeeded, 0 failed, 1 could not run")
            && (stderr.contains(&format!("could not run (ErrImagePull): {bad}"))
                || stderr.contains(&format!("could not run (ImagePullBackOff): {bad}"))),
        "{stderr}"
    );
    assert!(
        stderr.contains("--image-pull-secret"),
        "with the hint: {stderr}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn ctrl_c_mid_run_removes_every_pod_of_the_run() {
    let mut ns = TestNs::new("fan-interrupt").await;
    nodes(&mut ns, 8).await;
    let mut child = own_nodes_process(&ns)
        .args(["--fanout", "4", "--", "sh", "-c", "echo started; sleep 120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.ends_with(": started\n"), "{first:?}");
    let pods: Api<Pod> = ns.pods();
    let running = pods
        .list(&ListParams::default().labels("toolbox.dev/run"))
        .await
        .unwrap()
        .items
        .len();
    assert!(
        (1..=4).contains(&running),
        "at most --fanout pods at once: {running}"
    );

    send_signal(child.id(), "INT");
    let status = wait_with_timeout(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("8 nodes: 0 succeeded"),
        "a summary still: {stderr}"
    );
    assert!(
        !stderr.contains("error:"),
        "an interruption is not an error: {stderr}"
    );
    let left = pods
        .list(&ListParams::default().labels("toolbox.dev/run"))
        .await
        .unwrap()
        .items;
    assert!(
        left.is_empty(),
        "pods left: {:?}",
        left.iter().map(|p| &p.metadata.name).collect::<Vec<_>>()
    );
    ns.finish().await;
}

#[tokio::test]
async fn targets_that_cannot_run_are_refused_before_anything_is_created() {
    let mut ns = TestNs::new("fan-refused").await;
    let node = ns.node("n01", NodeSpec::default()).await;

    let none = ns
        .toolbox()
        .args([
            "node-shell",
            "--all",
            "-l",
            &format!("{},nothing=here", own_nodes(&ns)),
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(3), "{}", stderr_of(&none));
    assert_eq!(
        stderr_of(&none),
        format!(
            "error: no node matches -l {},nothing=here\n",
            own_nodes(&ns)
        )
    );

    let missing = ns
        .toolbox()
        .args(["node-shell", &node, &format!("{node}x"), "--", "true"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(3), "{}", stderr_of(&missing));
    assert!(
        stderr_of(&missing).contains(&format!("node \"{node}x\" not found (did you mean"))
            && stderr_of(&missing).contains(&node),
        "{}",
        stderr_of(&missing)
    );

    let no_command = ns
        .toolbox()
        .args(["node-shell", &node, &node, "--all"])
        .output()
        .unwrap();
    assert_eq!(
        no_command.status.code(),
        Some(2),
        "{}",
        stderr_of(&no_command)
    );
    let no_command = ns.toolbox().args(["node-shell", "--all"]).output().unwrap();
    assert_eq!(no_command.status.code(), Some(2));
    assert!(
        stderr_of(&no_command).contains("a command is required"),
        "{}",
        stderr_of(&no_command)
    );
    let keep = ns
        .toolbox()
        .args(["node-shell", "--all", "--keep", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(keep.status.code(), Some(2));
    assert!(
        stderr_of(&keep).contains("--keep takes one node"),
        "{}",
        stderr_of(&keep)
    );
    assert!(ns.toolbox_pods().await.is_empty());
    ns.finish().await;
}

#[tokio::test]
async fn debug_node_takes_the_same_targets_with_its_profile() {
    let mut ns = TestNs::new("fan-debug").await;
    let names = nodes(&mut ns, 3).await;
    let out = ns
        .toolbox()
        .args([
            "debug-node",
            "--all",
            "-l",
            &own_nodes(&ns),
            "--profile",
            "sysadmin",
            "--",
            "sh",
            "-c",
            "echo debug; exit 2",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    for node in &names {
        assert!(
            stdout_of(&out).contains(&format!("{node}: debug\n")),
            "{}",
            stdout_of(&out)
        );
    }
    assert!(
        stderr.contains(&format!("  exit 2: {}-n[01-03]", ns.name)),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Creating debugging pod"),
        "one line per node would bury the output: {stderr}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn a_terminal_shows_the_runs_progress() {
    let mut ns = TestNs::new("fan-progress").await;
    nodes(&mut ns, 4).await;
    let mut cmd = own_nodes_process(&ns);
    cmd.args(["--fanout", "2", "--", "sh", "-c", "sleep 1; echo done-here"]);
    let (status, screen) = harness::run_showing(
        cmd,
        Duration::from_secs(60),
        r"\d/4 started, \d running, \d done, 0 failed",
    )
    .await;
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}: {screen}"
    );
    assert!(screen.contains(": done-here"), "{screen}");
    assert!(screen.contains("4 nodes: 4 succeeded"), "{screen}");
    ns.finish().await;
}

#[tokio::test]
async fn a_killed_clients_pods_stop_at_their_ttl_and_cleanup_finds_them() {
    let mut ns = TestNs::new("fan-killed").await;
    nodes(&mut ns, 3).await;
    let mut child = own_nodes_process(&ns)
        .args(["--ttl", "10m", "--", "sh", "-c", "echo started; sleep 120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    send_signal(child.id(), "KILL");
    wait_with_timeout(&mut child, Duration::from_secs(10));

    let left = ns.toolbox_pods().await;
    assert!(!left.is_empty(), "a killed client cannot delete");
    for pod in &left {
        assert_eq!(
            pod.spec.as_ref().and_then(|s| s.active_deadline_seconds),
            Some(600),
            "each pod stops by itself at its --ttl"
        );
        assert!(
            pod.metadata
                .labels
                .as_ref()
                .unwrap()
                .contains_key("toolbox.dev/run")
        );
    }
    let out = ns
        .toolbox()
        // -n: without it cleanup looks in every namespace, other tests' too.
        .args(["cleanup", "-y", "--tool", "toolbox", "-n", &ns.name])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    for pod in &left {
        let name = pod.metadata.name.as_deref().unwrap();
        assert!(
            stdout_of(&out).contains(name),
            "cleanup lists {name}: {}",
            stdout_of(&out)
        );
    }
    harness::wait_until(Duration::from_secs(30), "the run's pods gone", || async {
        ns.toolbox_pods().await.is_empty()
    })
    .await;
    ns.finish().await;
}

/// A run through `proxy` on this test's nodes, once the first node has
/// printed `start`.
fn run_via(ns: &TestNs, proxy: &FaultProxy, extra: &[&str]) -> std::process::Child {
    let mut child = ns
        .toolbox_process_via(&proxy.kubeconfig())
        .args(["node-shell", "--all", "-l", &own_nodes(ns)])
        .args(extra)
        .args(["--", "sh", "-c", "echo start; sleep 30; echo end"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.ends_with(": start\n"), "{first:?}");
    child
}

#[tokio::test]
async fn a_lost_connection_mid_run_is_reported_per_node_and_every_pod_is_deleted() {
    let mut ns = TestNs::new("fan-cut").await;
    nodes(&mut ns, 4).await;
    let proxy = FaultProxy::to_cluster();
    let mut child = run_via(&ns, &proxy, &[]);

    proxy.refuse_for(Duration::from_secs(5));
    proxy.cut();
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let out = child.wait_with_output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains("could not run (connection lost)"),
        "{stderr}"
    );
    // A node whose pod was still starting rides the cut out (as one session
    // does) and runs its command once the server answers again; only the
    // commands under way are lost.
    for line in stdout_of(&out).lines().filter(|l| l.ends_with(": end")) {
        let node = line.trim_end_matches(": end");
        assert!(
            !stderr.contains(&format!("{node}: toolbox: lost the connection")),
            "{node} ran on after its connection was lost: {stderr}"
        );
    }
    assert!(
        !stderr.contains("could not delete"),
        "deletion retried until the server answered: {stderr}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn a_silent_link_mid_run_ends_every_stream_within_the_target_and_leaves_nothing() {
    let mut ns = TestNs::new("fan-silent").await;
    nodes(&mut ns, 4).await;
    let proxy = FaultProxy::to_cluster();
    let mut child = run_via(&ns, &proxy, &[]);

    // Each node says on stderr, as it gives up, that the link went silent;
    // the link comes back once all four have, within the target
    // (docs/node-shell.md: 15 s). Nodes still starting give up too: their
    // watch hears nothing either, or their next connection is not answered.
    let (lines, stderr_lines) = std::sync::mpsc::channel();
    let stderr_pipe = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    proxy.go_silent();
    let silent_at = Instant::now();
    let mut stderr = String::new();
    let mut given_up = 0;
    while given_up < 4 {
        let left = Duration::from_secs(15).saturating_sub(silent_at.elapsed());
        let line = stderr_lines.recv_timeout(left).unwrap_or_else(|_| {
            panic!("{given_up} of 4 nodes gave up on the silent link within 15 s:\n{stderr}")
        });
        // A node between two requests when the link went silent gives up
        // on its next connection instead, in that step's words.
        given_up += usize::from(
            line.contains("(the link went silent)")
                || line.contains("no answer to a new connection within"),
        );
        stderr.push_str(&line);
        stderr.push('\n');
    }
    eprintln!(
        "every node gave up {:?} after the link went silent",
        silent_at.elapsed()
    );
    proxy.restore();
    let status = wait_with_timeout(&mut child, Duration::from_secs(60));
    let out = child.wait_with_output().unwrap();
    stderr.extend(stderr_lines.iter().map(|line| line + "\n"));
    assert_eq!(status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains("could not run (connection lost)")
            && stderr.contains("no answer from the API server for"),
        "{stderr}"
    );
    assert!(
        !stdout_of(&out).lines().any(|l| l.ends_with(": end")),
        "a stream went on after the silence: {}",
        stdout_of(&out)
    );
    assert!(!stderr.contains("could not delete"), "{stderr}");
    ns.finish().await;
}

#[tokio::test]
async fn a_server_that_stays_down_leaves_the_run_with_how_to_remove_it() {
    let mut ns = TestNs::new("fan-down").await;
    nodes(&mut ns, 2).await;
    let proxy = FaultProxy::to_cluster();
    let mut child = run_via(&ns, &proxy, &["--ttl", "10m"]);

    proxy.stay_down();
    let status = wait_with_timeout(&mut child, Duration::from_secs(90));
    let out = child.wait_with_output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(status.code(), Some(6), "{stderr}");
    let left: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("could not delete"))
        .collect();
    assert_eq!(left.len(), 1, "one line for the whole run: {stderr}");
    let pods = ns.toolbox_pods().await;
    assert!(!pods.is_empty());
    let run = &pods[0].metadata.labels.as_ref().unwrap()["toolbox.dev/run"];
    assert!(
        left[0].contains(&format!(
            "kubectl delete pods -n {} -l toolbox.dev/run={run}",
            ns.name
        )) && left[0].contains("--ttl")
            && left[0].contains("toolbox cleanup"),
        "{}",
        left[0]
    );
    for pod in &pods {
        assert_eq!(
            pod.spec.as_ref().unwrap().active_deadline_seconds,
            Some(600)
        );
        ns.delete_pod_now(pod.metadata.name.as_deref().unwrap())
            .await;
    }
    ns.finish().await;
}

#[tokio::test]
async fn nodes_whose_pod_is_not_running_in_time_are_given_up_and_their_pods_deleted() {
    let mut ns = TestNs::new("fan-timeout").await;
    nodes(&mut ns, 3).await;
    let settings = ns.settings_file(
        "[annotations]\n\"toolbox.test/simulate\" = \"slow-start\"\n\"toolbox.test/start-delay\" = \"60s\"\n",
    );
    let started = Instant::now();
    let out = on_own_nodes(&ns)
        .args(["--config", settings.to_str().unwrap()])
        .args(["--timeout", "2s", "--", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr.contains(&format!(
            "could not run (start timeout): {}-n[01-03]",
            ns.name
        )) && stderr.contains("was not running after 2s"),
        "{stderr}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn pod_security_refuses_the_run_once_with_one_error() {
    let mut ns = TestNs::with_pod_security("fan-psa", "baseline").await;
    nodes(&mut ns, 5).await;
    let started = Instant::now();
    let out = on_own_nodes(&ns)
        .args(["--fanout", "1", "--", "true"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line, not one per node: {stderr}"
    );
    assert!(
        stderr.starts_with(&format!(
            "error: namespace \"{}\" enforces PodSecurity \"baseline\"",
            ns.name
        )),
        "{stderr}"
    );
    assert!(ns.toolbox_pods().await.is_empty());
    ns.finish().await;
}

#[tokio::test]
async fn a_command_that_outlives_command_timeout_is_given_up() {
    let mut ns = TestNs::new("fan-cmd-timeout").await;
    nodes(&mut ns, 3).await;
    let started = Instant::now();
    let out = on_own_nodes(&ns)
        .args(["--command-timeout", "2s"])
        .args(["--", "sh", "-c", "echo begun; sleep 60"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        stdout_of(&out).matches(": begun\n").count(),
        3,
        "{}",
        stdout_of(&out)
    );
    assert!(
        stderr.contains(&format!(
            "could not run (command timeout): {}-n[01-03]",
            ns.name
        )) && stderr.contains("--command-timeout 2s"),
        "{stderr}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn nodes_of_another_os_are_skipped_unless_asked_for() {
    let mut ns = TestNs::new("fan-os").await;
    let linux = nodes(&mut ns, 2).await;
    let windows = ns
        .node(
            "win",
            NodeSpec {
                windows: true,
                ..Default::default()
            },
        )
        .await;
    let out = on_own_nodes(&ns)
        .args(["--", "echo", "hi"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "skipped (OS windows): {windows}; --os any runs on every OS"
        )),
        "{stderr}"
    );
    for node in &linux {
        assert!(stdout_of(&out).contains(&format!("{node}: hi")));
    }

    let out = on_own_nodes(&ns)
        .args(["--os", "windows", "-o", "json"])
        .args(["--", "echo", "hi"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let ran: Vec<&str> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].as_str().unwrap())
        .collect();
    assert_eq!(ran, [windows.as_str()], "{}", stderr_of(&out));
    assert_eq!(doc["summary"]["skipped"], 2);
    ns.finish().await;
}

#[tokio::test]
async fn an_image_the_real_node_lacks_fails_there_alone() {
    let mut ns = TestNs::new("fan-real-image").await;
    let simulated = nodes(&mut ns, 1).await;
    let real = real_node();
    // The real kubelet refuses to start it: the image is not on the node and
    // may not be pulled. A simulated node runs no image at all.
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &simulated[0], &real.name])
        .args([
            "--image",
            "localhost/toolbox/missing:1",
            "--image-pull-policy",
            "Never",
        ])
        .args(["--", "echo", "hi"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert_eq!(stdout_of(&out), format!("{}: hi\n", simulated[0]));
    assert!(
        stderr.contains(&format!(
            "could not run (ErrImageNeverPull): {}: pod toolbox-shell-",
            real.name
        )) && stderr.contains("--image-pull-policy IfNotPresent"),
        "the kubelet's reason and the way out: {stderr}"
    );
    ns.finish().await;
}
