//! The node picker (through a real PTY) and shell completion of live values.

use std::collections::BTreeMap;
use std::time::Duration;

use expectrl::{Eof, Expect, Session};
use harness::{NodeSpec, TestNs, exit_pty_session, random_suffix, spawn_on_pty, wait_for_pty_end};

fn selector(ns: &TestNs) -> String {
    format!("toolbox.test/e2e-namespace={}", ns.name)
}

#[tokio::test]
async fn typing_part_of_a_name_and_enter_opens_the_shell_on_that_node() {
    let mut ns = TestNs::new("pick").await;
    ns.node("alpha", NodeSpec::default()).await;
    let bravo = ns.node("bravo", NodeSpec::default()).await;
    let mut cmd = ns.toolbox_process();
    cmd.args(["node-shell", "-l", &selector(&ns)]);
    let token = random_suffix();
    let pods = ns.pods();
    let mut session = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
        session.expect("Node").expect("the picker's prompt");
        session.expect("alpha").expect("the node list");
        session.send("bra").unwrap();
        // Enter chooses among what the picker drew for the query.
        session.expect("› bra").expect("the query, drawn");
        session.send("\r").unwrap();
        session
    })
    .await
    .unwrap();
    // The pod starts on the node that was picked; the shell follows.
    let pod = ns
        .wait_for_toolbox_pod("Running", Duration::from_secs(20))
        .await;
    let seen_node = pod.spec.unwrap().node_name.unwrap();
    // What is typed next goes to the shell once its exec has started.
    ns.wait_for_exec(
        pod.metadata.name.as_deref().unwrap(),
        Duration::from_secs(20),
    )
    .await;
    session = tokio::task::spawn_blocking(move || {
        session
            .send_line(format!("echo picked-{token}-$((6*7))"))
            .unwrap();
        session
            .expect(format!("picked-{token}-42"))
            .expect("the shell on the chosen node");
        session.send_line("exit").unwrap();
        session.expect(Eof).expect("the session to end");
        session
    })
    .await
    .unwrap();
    assert_eq!(seen_node, bravo);
    let status = session.get_process().wait().unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    assert!(
        pods.list(&Default::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    ns.finish().await;
}

#[tokio::test]
async fn the_label_columns_fill_in_after_the_picker_opens_and_can_be_searched() {
    let mut ns = TestNs::new("pick-labels").await;
    let spec = |zone: &str, instance_type: &str| NodeSpec {
        labels: BTreeMap::from([
            ("topology.kubernetes.io/zone".to_string(), zone.to_string()),
            (
                "node.kubernetes.io/instance-type".to_string(),
                instance_type.to_string(),
            ),
        ]),
        ..Default::default()
    };
    let alpha = ns.node("alpha", spec("zone-north-7", "x9.small")).await;
    let bravo = ns.node("bravo", spec("zone-south-9", "x9.huge")).await;
    let mut cmd = ns.toolbox_process();
    cmd.args(["node-shell", "-l", &selector(&ns)]);
    let token = random_suffix();
    let mut session = tokio::task::spawn_blocking(move || {
        let mut session = Session::spawn(cmd).expect("spawning toolbox on a pty");
        // Wide enough for every column of the long test node names.
        session.get_process_mut().set_window_size(200, 40).unwrap();
        session.set_expect_timeout(Some(Duration::from_secs(30)));
        // The rows come from the node Table; the zone, instance type and OS
        // columns from the labels, filled in when they arrive.
        let screen = session
            .expect("zone-south-9  x9.huge   linux")
            .expect("bravo's label columns");
        let screen = String::from_utf8_lossy(screen.before()).into_owned();
        assert!(screen.contains(&alpha), "{screen}");
        // Searching matches the label columns too: "south" is only in bravo's zone.
        session.send("south").unwrap();
        session.expect("› south").expect("the query, drawn");
        session.send("\r").unwrap();
        session
    })
    .await
    .unwrap();
    let pod = ns
        .wait_for_toolbox_pod("Running", Duration::from_secs(20))
        .await;
    ns.wait_for_exec(
        pod.metadata.name.as_deref().unwrap(),
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(pod.spec.unwrap().node_name.unwrap(), bravo);
    let status = tokio::task::spawn_blocking(move || {
        session.send_line(format!("echo labels-{token}")).unwrap();
        session
            .expect(format!("labels-{token}"))
            .expect("the shell on the chosen node");
        exit_pty_session(session, "exit")
    })
    .await
    .unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    ns.finish().await;
}

#[tokio::test]
async fn escape_or_q_cancels_with_130_and_creates_nothing() {
    let mut ns = TestNs::new("pick-esc").await;
    ns.node("alpha", NodeSpec::default()).await;
    ns.node("bravo", NodeSpec::default()).await;
    for (command, key) in [("debug-node", "\x1b"), ("node-shell", "q")] {
        let mut cmd = ns.toolbox_process();
        cmd.args([command, "-l", &selector(&ns)]);
        let status = tokio::task::spawn_blocking(move || {
            let mut session = spawn_on_pty(cmd, Duration::from_secs(30));
            session.expect("bravo").expect("the node list");
            session.send(key).unwrap();
            wait_for_pty_end(&mut session)
        })
        .await
        .unwrap();
        assert!(
            matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 130)),
            "{command} with {key:?}: {status:?}"
        );
    }
    let events = std::fs::read_to_string(&ns.env.audit_log).unwrap();
    assert!(
        !events.lines().any(|l| l.contains(&ns.name)
            && l.contains("\"verb\":\"create\"")
            && l.contains("\"resource\":\"pods\"")),
        "no pod was created"
    );
    ns.finish().await;
}

#[tokio::test]
async fn a_selector_matching_one_node_uses_it_and_none_is_an_error() {
    let mut ns = TestNs::new("pick-one").await;
    let only = ns.node("only", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args(["node-shell", "-l", &selector(&ns), "--", "echo", "ok"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("Using node {only}")));

    let out = ns
        .toolbox()
        .args([
            "node-shell",
            "-l",
            "toolbox.test/nothing=here",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: no nodes match selector toolbox.test/nothing=here"
    );
    ns.finish().await;
}

#[tokio::test]
async fn several_matches_without_a_terminal_fail_at_once() {
    let mut ns = TestNs::new("pick-many").await;
    ns.node("a", NodeSpec::default()).await;
    ns.node("b", NodeSpec::default()).await;
    let out = ns
        .toolbox()
        .args(["node-shell", "-l", &selector(&ns), "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2 nodes match selector"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ns.finish().await;
}

/// Runs the dynamic completion protocol of `shell` for the words typed so far.
fn complete(
    ns: &TestNs,
    shell: &str,
    words: &[&str],
    kubeconfig: Option<&std::path::Path>,
) -> std::process::Output {
    let mut cmd = ns.toolbox_process();
    if let Some(path) = kubeconfig {
        cmd.env("KUBECONFIG", path);
    }
    cmd.env("COMPLETE", shell)
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string());
    if shell == "bash" {
        cmd.env("_CLAP_COMPLETE_COMP_TYPE", "9")
            .env("_CLAP_COMPLETE_SPACE", "true")
            .env("_CLAP_IFS", "\n");
    }
    cmd.arg("--").args(words);
    cmd.output().unwrap()
}

fn lines(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn completion_offers_live_nodes_namespaces_and_contexts() {
    let mut ns = TestNs::new("complete").await;
    let node = ns.node("cmp", NodeSpec::default()).await;
    let cordoned = ns
        .node(
            "cordoned",
            NodeSpec {
                unschedulable: true,
                ..Default::default()
            },
        )
        .await;

    let bash = complete(&ns, "bash", &["toolbox", "node-shell", &ns.name], None);
    assert!(
        bash.status.success() && bash.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&bash.stderr)
    );
    let mut got = lines(&bash);
    got.sort();
    assert_eq!(got, vec![node.clone(), cordoned.clone()]);

    // zsh shows each node's status as its description.
    let zsh = complete(&ns, "zsh", &["toolbox", "debug-node", &ns.name], None);
    let got = lines(&zsh);
    assert!(got.contains(&format!("{node}:Ready")), "{got:?}");
    assert!(
        got.contains(&format!("{cordoned}:Ready,SchedulingDisabled")),
        "{got:?}"
    );

    let namespaces = complete(
        &ns,
        "bash",
        &["toolbox", "-n", &ns.name[..ns.name.len() - 2]],
        None,
    );
    assert_eq!(lines(&namespaces), vec![ns.name.clone()]);

    let contexts = complete(
        &ns,
        "bash",
        &["toolbox", "--context", "toolbox-local"],
        None,
    );
    assert_eq!(
        lines(&contexts),
        vec!["toolbox-local".to_string(), "toolbox-local-dev".to_string()]
    );

    // --kubeconfig already on the line is honoured: dev's kubeconfig has one context.
    let dev = ns.env.kubeconfig_dev.to_string_lossy().into_owned();
    let contexts = complete(
        &ns,
        "bash",
        &["toolbox", "--kubeconfig", &dev, "--context", ""],
        None,
    );
    assert_eq!(lines(&contexts), vec!["toolbox-local".to_string()]);
    ns.finish().await;
}

#[tokio::test]
async fn completion_with_the_server_down_prints_nothing() {
    let ns = TestNs::new("complete-down").await;
    let kubeconfig = ns.unreachable_kubeconfig("down");
    for shell in ["bash", "zsh"] {
        let out = complete(
            &ns,
            shell,
            &["toolbox", "node-shell", "node"],
            Some(&kubeconfig),
        );
        assert!(out.status.success(), "{shell}");
        assert!(
            out.stdout.iter().all(u8::is_ascii_whitespace),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            out.stderr.is_empty(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(kubeconfig.parent().unwrap());
    ns.finish().await;
}
