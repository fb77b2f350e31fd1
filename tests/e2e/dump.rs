//! `toolbox dump`: a bundle from the real node and simulated nodes at once,
//! one of them failing alone; every node and every failure in index.json,
//! each file's size and sha256 as the index says; the caps cutting items on
//! the node and named; secrets redacted (the real kubelet's own kubeconfig
//! token, and a file planted on the node); `-o DIR` and `-o FILE.tar.gz`;
//! a bad --spec refused before any request; Ctrl-C leaving no pod and no
//! bundle. Every test ends with no pod left.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::Duration;

use harness::{
    NodeSpec, TestNs, random_suffix, real_node, send_signal, stderr_of, stdout_of,
    wait_with_timeout,
};
use serde_json::Value;

/// A directory of the test's own on this machine; the real node sees it
/// at the same path (its root is the machine's, docs/testing.md), and so
/// do the simulated nodes, whose commands run here.
fn scratch(ns: &TestNs) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("toolbox-e2e-{}-{}", ns.name, random_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read_index(bundle: &Path) -> Value {
    let text = std::fs::read_to_string(bundle.join("index.json"))
        .unwrap_or_else(|e| panic!("{}/index.json: {e}", bundle.display()));
    serde_json::from_str(&text).expect("index.json is JSON")
}

fn node<'a>(index: &'a Value, name: &str) -> &'a Value {
    index["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("node {name} in the index: {index:#}"))
}

fn item<'a>(node: &'a Value, name: &str) -> &'a Value {
    node["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("item {name} of node {}: {node:#}", node["name"]))
}

/// Every file of the bundle is one the index names, with the size and
/// sha256 it says; and every item the index gives a path has its file.
fn check_files_against_index(bundle: &Path, index: &Value) {
    let mut named = BTreeSet::new();
    for node in index["nodes"].as_array().unwrap() {
        for item in node["items"].as_array().unwrap() {
            let Some(path) = item["path"].as_str() else {
                continue;
            };
            named.insert(path.to_string());
            let file = bundle.join(path);
            let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(Some(bytes.len() as u64), item["size"].as_u64(), "{path}");
            let sum = StdCommand::new("sha256sum").arg(&file).output().unwrap();
            let sum = stdout_of(&sum);
            assert_eq!(
                sum.split_whitespace().next(),
                item["sha256"].as_str(),
                "{path}"
            );
        }
    }
    let mut found = BTreeSet::new();
    let mut dirs = vec![bundle.join("nodes")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(bundle).unwrap();
                found.insert(relative.display().to_string());
            }
        }
    }
    assert_eq!(found, named, "the bundle's files are the index's");
}

/// No `.NAME.partial-*` directory or file is left in `dir`.
fn no_partial_files(dir: &Path) {
    let partial: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".partial-"))
        .collect();
    assert!(partial.is_empty(), "left half-written: {partial:?}");
}

#[tokio::test]
async fn the_real_node_and_twenty_simulated_ones_one_failing_make_one_bundle() {
    let mut ns = TestNs::new("dump-many").await;
    let real = real_node();
    let mut simulated = Vec::new();
    for i in 1..=19 {
        simulated.push(ns.node(&format!("n{i:02}"), NodeSpec::default()).await);
    }
    // Every pod of a node named *-image-pull-error fails to pull its image
    // (hack/cluster/stages/pods.yaml): a node that cannot be collected.
    let bad = ns.node("bad-image-pull-error", NodeSpec::default()).await;
    let dir = scratch(&ns);
    let bundle = dir.join("bundle");

    let mut args = vec!["dump".to_string(), real.name.clone()];
    args.extend(simulated.iter().cloned());
    args.push(bad.clone());
    args.extend([
        "-o".into(),
        bundle.display().to_string(),
        "--pod-logs".into(),
    ]);
    let out = ns.toolbox_on_real_node().args(&args).output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(6),
        "a node could not be collected: {stderr}"
    );
    assert_eq!(stdout_of(&out), format!("{}\n", bundle.display()));
    assert!(
        stderr.starts_with("21 nodes: 20 collected, 1 could not be collected;"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("could not be collected (ErrImagePull): {bad}: "))
            || stderr.contains(&format!(
                "could not be collected (ImagePullBackOff): {bad}: "
            )),
        "{stderr}"
    );

    let index = read_index(&bundle);
    assert_eq!(index["version"], 1);
    assert_eq!(index["run"]["spec"], "built-in");
    assert_eq!(index["run"]["podLogs"], true);
    assert_eq!(index["totals"]["nodes"], 21);
    assert_eq!(index["totals"]["nodesFailed"], 1);
    let names: BTreeSet<&str> = index["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 21);
    for name in simulated.iter().chain([&real.name, &bad]) {
        assert!(names.contains(name.as_str()), "{name} in the index");
    }

    // The failing node fails alone, and says why; what the API server
    // knows of it is still there.
    let failed = node(&index, &bad);
    assert_eq!(failed["status"], "failed");
    let reason = failed["error"]["reason"].as_str().unwrap();
    assert!(
        reason == "ErrImagePull" || reason == "ImagePullBackOff",
        "{failed:#}"
    );
    assert_eq!(item(failed, "node.yaml")["status"], "collected");
    assert_eq!(item(failed, "dmesg.txt")["status"], "skipped");
    let log = item(failed, "kubelet.log");
    assert_eq!(log["status"], "skipped", "{log:#}");
    assert!(
        log["note"]
            .as_str()
            .unwrap()
            .contains(&format!("toolbox logs {bad} kubelet")),
        "{log:#}"
    );
    assert!(
        item(failed, "dmesg.txt")["note"]
            .as_str()
            .unwrap()
            .contains("the node's pod did not run"),
        "{failed:#}"
    );

    // The real node: its kubelet's config found from the kubelet's own
    // --config, its services' logs, its pods' logs' contents.
    let real_entry = node(&index, &real.name);
    assert_eq!(real_entry["status"], "collected", "{real_entry:#}");
    let config = item(real_entry, "kubelet-config.yaml");
    assert_eq!(config["status"], "collected");
    assert!(
        config["readFrom"]
            .as_str()
            .unwrap()
            .ends_with("/state/node/kubelet.yaml"),
        "{config:#}"
    );
    let kubelet_config =
        std::fs::read_to_string(bundle.join(config["path"].as_str().unwrap())).unwrap();
    assert!(
        kubelet_config.contains("kind: KubeletConfiguration"),
        "{kubelet_config}"
    );
    // As toolbox logs reads it: through the kubelet's node log query, or a
    // pod while a logs test has the query off (tests/e2e/logs.rs).
    let kubelet_log = item(real_entry, "kubelet.log");
    assert_eq!(kubelet_log["status"], "collected", "{kubelet_log:#}");
    assert!(
        kubelet_log["readFrom"]
            .as_str()
            .unwrap()
            .starts_with("through "),
        "{kubelet_log:#}"
    );
    assert!(kubelet_log["size"].as_u64().unwrap() > 0);
    for name in [
        "df.txt",
        "free.txt",
        "pressure-memory.txt",
        "var-log-pods.txt",
        "events.yaml",
    ] {
        let entry = item(real_entry, name);
        assert_eq!(entry["status"], "collected", "{entry:#}");
    }
    let node_yaml = std::fs::read_to_string(
        bundle.join(item(real_entry, "node.yaml")["path"].as_str().unwrap()),
    )
    .unwrap();
    assert!(
        node_yaml.contains(&format!("name: {}", real.name)),
        "{node_yaml}"
    );
    assert!(!node_yaml.contains("managedFields"));
    let pod_logs: Vec<&Value> = real_entry["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["name"].as_str().unwrap().starts_with("pod-logs/"))
        .collect();
    assert!(!pod_logs.is_empty(), "the pods' logs: {real_entry:#}");
    // crictl is not on this node: missing, not failed.
    assert_eq!(item(real_entry, "crictl-ps.txt")["status"], "missing");

    // A simulated node: what its stand-in tools give.
    let sim = node(&index, &simulated[0]);
    assert_eq!(sim["status"], "collected", "{sim:#}");
    assert_eq!(item(sim, "df.txt")["status"], "collected");
    // Its "kubelet" is none the API server proxies to: its services' logs
    // are looked for by a pod, and are not there.
    let sim_log = item(sim, "kubelet.log");
    assert_eq!(sim_log["status"], "missing", "{sim_log:#}");
    assert!(
        sim_log["readFrom"]
            .as_str()
            .unwrap()
            .starts_with("through a short-lived pod"),
        "{sim_log:#}"
    );

    check_files_against_index(&bundle, &index);
    no_partial_files(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    ns.finish().await;
}

#[tokio::test]
async fn caps_stop_items_on_the_node_and_the_index_names_them() {
    let mut ns = TestNs::new("dump-caps").await;
    let nodes = [
        ns.node("n01", NodeSpec::default()).await,
        ns.node("n02", NodeSpec::default()).await,
        ns.node("n03", NodeSpec::default()).await,
    ];
    let dir = scratch(&ns);
    // `yes` never ends by itself: the run ends only because the cap stops
    // it on the node.
    let spec = dir.join("spec.yaml");
    std::fs::write(
        &spec,
        "items:\n  - name: endless.txt\n    command: [yes, toolbox]\n  - name: hostname.txt\n    command: [hostname]\n  - name: node.yaml\n    api: node\n",
    )
    .unwrap();
    let archive = dir.join("capped.tar.gz");
    let out = ns
        .toolbox()
        .args([
            "dump",
            "-l",
            &format!("toolbox.test/e2e-namespace={}", ns.name),
        ])
        .args(["--spec", &spec.display().to_string()])
        // One node at a time: two reach their own cap, the third the run's.
        .args([
            "--max-per-node",
            "16KiB",
            "--max-total",
            "40KiB",
            "--fanout",
            "1",
        ])
        .args(["-o", &archive.display().to_string()])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("cut or left out at --max-per-node"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cut or left out at --max-total"),
        "{stderr}"
    );

    let unpacked = dir.join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let tar = StdCommand::new("tar")
        .args([
            "xzf",
            &archive.display().to_string(),
            "-C",
            &unpacked.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(tar.status.success(), "{}", stderr_of(&tar));
    let bundle = unpacked.join("capped");
    let index = read_index(&bundle);
    assert_eq!(index["caps"]["maxPerNode"], 16384);
    assert_eq!(index["caps"]["maxTotal"], 40960);
    assert_eq!(
        index["totals"]["bytesRead"], 40960,
        "the run's cap, exactly: {index:#}"
    );
    let capped = index["capped"].as_array().unwrap();
    let caps: BTreeSet<&str> = capped.iter().map(|c| c["cap"].as_str().unwrap()).collect();
    assert_eq!(caps, BTreeSet::from(["per-node", "total"]), "{index:#}");
    for name in &nodes {
        let entry = node(&index, name);
        assert!(entry["bytesRead"].as_u64().unwrap() <= 16384, "{entry:#}");
        let endless = item(entry, "endless.txt");
        assert_eq!(endless["status"], "truncated", "{endless:#}");
        assert_eq!(endless["truncated"], true);
        assert!(
            capped
                .iter()
                .any(|c| c["node"] == name.as_str() && c["item"] == "endless.txt")
        );
        // What came after a cap was reached was not read, and says so.
        let hostname = item(entry, "hostname.txt");
        assert_eq!(hostname["status"], "skipped", "{hostname:#}");
        assert!(
            hostname["note"]
                .as_str()
                .unwrap()
                .contains("cap was reached")
        );
    }
    // The node cut by its own cap read exactly that much, its node.yaml
    // (asked of the API server meanwhile) included.
    let per_node = capped
        .iter()
        .find(|c| c["cap"] == "per-node" && c["item"] == "endless.txt")
        .unwrap();
    let cut_node = node(&index, per_node["node"].as_str().unwrap());
    assert_eq!(cut_node["bytesRead"], 16384, "{cut_node:#}");
    let cut = item(cut_node, "endless.txt");
    assert_eq!(
        cut["size"].as_u64().unwrap() + item(cut_node, "node.yaml")["size"].as_u64().unwrap(),
        16384
    );
    let text = std::fs::read_to_string(bundle.join(cut["path"].as_str().unwrap())).unwrap();
    assert!(text.starts_with("toolbox\ntoolbox\n"), "{}", &text[..40]);
    check_files_against_index(&bundle, &index);
    no_partial_files(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    ns.finish().await;
}

#[tokio::test]
async fn secrets_are_redacted_before_anything_is_written() {
    let ns = TestNs::new("dump-redact").await;
    let real = real_node();
    let dir = scratch(&ns);
    // The real kubelet's own kubeconfig holds its token: found from the
    // kubelet's --kubeconfig, as a spec can ask.
    let node_config: Value =
        serde_json::from_str(&std::fs::read_to_string(ns.env.dir.join("state/node.json")).unwrap())
            .unwrap();
    let kubeconfig = std::fs::read_to_string(node_config["kubeconfig"].as_str().unwrap()).unwrap();
    let kubelet_token = kubeconfig
        .lines()
        .find_map(|line| line.trim().strip_prefix("token: "))
        .expect("the kubelet's kubeconfig has a token")
        .trim_matches('"')
        .to_string();
    // A file planted on the node with a password, a private key and a JWT.
    let password = format!("hunter2-{}", random_suffix());
    let jwt = format!(
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0b29sYm94In0.{}",
        random_suffix()
    );
    let planted = dir.join("app.yaml");
    std::fs::write(
        &planted,
        format!(
            "database:\n  host: db.local\n  password: {password}\ntls:\n  key: |\n-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretkeybody{password}\n-----END RSA PRIVATE KEY-----\nlog: 'Authorization: Bearer {jwt}'\n"
        ),
    )
    .unwrap();
    let spec = dir.join("spec.json");
    std::fs::write(
        &spec,
        serde_json::json!({ "items": [
            { "name": "kubelet-kubeconfig.yaml", "file": "/nowhere", "fromFlag": { "process": "kubelet", "flag": "--kubeconfig" } },
            { "name": "app.yaml", "file": planted.display().to_string() },
        ]})
        .to_string(),
    )
    .unwrap();
    let bundle = dir.join("bundle");
    let out = ns
        .toolbox_on_real_node()
        .args(["dump", &real.name, "--spec", &spec.display().to_string()])
        .args(["-o", &bundle.display().to_string()])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let index = read_index(&bundle);
    let entry = node(&index, &real.name);

    let config = item(entry, "kubelet-kubeconfig.yaml");
    assert_eq!(config["status"], "collected", "{config:#}");
    assert_eq!(config["readFrom"], node_config["kubeconfig"]);
    assert_eq!(
        config["redacted"],
        serde_json::json!([{ "kind": "secret-key", "count": 1 }]),
        "{config:#}"
    );
    let written = std::fs::read_to_string(bundle.join(config["path"].as_str().unwrap())).unwrap();
    assert!(written.contains("token: [REDACTED]"), "{written}");
    assert!(
        written.contains("server: https://"),
        "the rest is kept: {written}"
    );

    let app = item(entry, "app.yaml");
    assert_eq!(
        app["redacted"],
        serde_json::json!([
            { "kind": "secret-key", "count": 1 },
            { "kind": "private-key", "count": 1 },
            { "kind": "bearer-token", "count": 1 },
        ]),
        "{app:#}"
    );
    let written = std::fs::read_to_string(bundle.join(app["path"].as_str().unwrap())).unwrap();
    assert!(written.contains("host: db.local"), "{written}");
    assert_eq!(index["totals"]["redactions"], 4);

    // No secret anywhere in the bundle, the index included.
    let grep = StdCommand::new("grep")
        .args([
            "-rlF",
            "-e",
            &kubelet_token,
            "-e",
            &password,
            "-e",
            &jwt,
            "-e",
            "MIIEsecretkeybody",
        ])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(
        grep.status.code(),
        Some(1),
        "a secret in: {}",
        stdout_of(&grep)
    );
    std::fs::remove_dir_all(&dir).unwrap();
    ns.finish().await;
}

#[tokio::test]
async fn a_bad_spec_or_an_existing_output_is_refused_before_any_request() {
    let ns = TestNs::new("dump-refused").await;
    let dir = scratch(&ns);
    // A kubeconfig whose server is not there: any request would fail with
    // exit 3, so exit 2 means none was made.
    let unreachable = ns.unreachable_kubeconfig("dump");
    let spec = dir.join("bad.yaml");
    std::fs::write(&spec, "items:\n  - name: kubelet.log\n    service: kubelet\n  - name: x\n    file: relative/path\n").unwrap();
    let out = ns
        .toolbox_process_via(&unreachable)
        .args(["dump", "--all", "--spec", &spec.display().to_string()])
        .arg("-o")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        format!(
            "error: --spec {}: items[1] (x): \"relative/path\": an absolute path on the node, without '..'\n",
            spec.display()
        )
    );

    let existing = dir.join("existing");
    std::fs::create_dir(&existing).unwrap();
    let out = ns
        .toolbox_process_via(&unreachable)
        .args(["dump", "--all", "-o", &existing.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("already exists: toolbox dump never replaces a file or directory"),
        "{}",
        stderr_of(&out)
    );

    let out = ns
        .toolbox_process_via(&unreachable)
        .args(["dump"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("no nodes given"),
        "{}",
        stderr_of(&out)
    );
    assert!(!dir.join("out").exists());
    no_partial_files(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    ns.finish().await;
}

#[tokio::test]
async fn ctrl_c_deletes_every_pod_and_leaves_no_bundle() {
    let mut ns = TestNs::new("dump-interrupt").await;
    for i in 1..=4 {
        ns.node(&format!("n{i:02}"), NodeSpec::default()).await;
    }
    let dir = scratch(&ns);
    let spec = dir.join("spec.yaml");
    std::fs::write(
        &spec,
        "items:\n  - name: slow.txt\n    command: [sleep, '120']\n",
    )
    .unwrap();
    let mut child = ns
        .toolbox_process()
        .args([
            "dump",
            "-l",
            &format!("toolbox.test/e2e-namespace={}", ns.name),
        ])
        .args(["--spec", &spec.display().to_string()])
        .arg("-o")
        .arg(dir.join("bundle"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pod = ns
        .wait_for_toolbox_pod("Running", Duration::from_secs(30))
        .await;
    let name = pod.metadata.name.unwrap();
    assert!(name.starts_with("toolbox-dump-"), "{name}");
    ns.wait_for_exec(&name, Duration::from_secs(30)).await;
    send_signal(child.id(), "INT");
    let status = wait_with_timeout(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("no bundle written: the run was interrupted"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("error:"),
        "an interruption is not an error: {stderr}"
    );
    assert!(!dir.join("bundle").exists());
    no_partial_files(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    ns.finish().await;
}

#[tokio::test]
async fn an_item_that_fails_is_kept_and_named_and_the_run_exits_5() {
    let mut ns = TestNs::new("dump-item-fails").await;
    let name = ns.node("n01", NodeSpec::default()).await;
    let dir = scratch(&ns);
    let spec = dir.join("spec.yaml");
    std::fs::write(
        &spec,
        "items:\n  - name: half.txt\n    command: [sh, -c, 'echo some; echo broke >&2; exit 3']\n  - name: nothing.txt\n    file: /no/such/file\n",
    )
    .unwrap();
    let bundle = dir.join("bundle");
    let out = ns
        .toolbox()
        .args(["dump", &name, "--spec", &spec.display().to_string()])
        .arg("-o")
        .arg(&bundle)
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "an item failed: {stderr}");
    assert!(
        stderr.contains(&format!("  failed: {name}/half.txt: exit 3: broke\n")),
        "{stderr}"
    );
    let index = read_index(&bundle);
    let entry = node(&index, &name);
    assert_eq!(entry["status"], "collected");
    let half = item(entry, "half.txt");
    assert_eq!(half["status"], "failed");
    assert_eq!(half["exitCode"], 3);
    assert_eq!(
        std::fs::read_to_string(bundle.join(half["path"].as_str().unwrap())).unwrap(),
        "some\n",
        "what it wrote before it failed is kept"
    );
    // A file the node does not have is missing, not a failure, and leaves no file.
    let nothing = item(entry, "nothing.txt");
    assert_eq!(nothing["status"], "missing", "{nothing:#}");
    assert!(nothing.get("path").is_none());
    check_files_against_index(&bundle, &index);
    std::fs::remove_dir_all(&dir).unwrap();
    ns.finish().await;
}

#[tokio::test]
async fn a_terminal_shows_nodes_done_and_bytes_and_a_pipe_shows_nothing() {
    let mut ns = TestNs::new("dump-progress").await;
    for i in 1..=3 {
        ns.node(&format!("n{i:02}"), NodeSpec::default()).await;
    }
    let dir = scratch(&ns);
    let spec = dir.join("spec.yaml");
    std::fs::write(
        &spec,
        "items:\n  - name: slow.txt\n    command: [sh, -c, 'echo hello; sleep 1']\n",
    )
    .unwrap();
    let selector = format!("toolbox.test/e2e-namespace={}", ns.name);
    let mut cmd = ns.toolbox_process();
    cmd.args(["dump", "-l", &selector, "--fanout", "1"])
        .args(["--spec", &spec.display().to_string()])
        .arg("-o")
        .arg(dir.join("on-a-terminal"));
    let (status, screen) = harness::run_showing(
        cmd,
        Duration::from_secs(60),
        r"dump: [0-2]/3 nodes done, [0-9.]+ [KM]?i?B read",
    )
    .await;
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}: {screen}"
    );
    assert!(screen.contains("3 nodes: 3 collected"), "{screen}");

    let out = ns
        .toolbox()
        .args([
            "dump",
            "-l",
            &selector,
            "--spec",
            &spec.display().to_string(),
        ])
        .arg("-o")
        .arg(dir.join("into-a-pipe"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(!stderr.contains("nodes done"), "no progress line: {stderr}");
    assert!(stderr.starts_with("3 nodes: 3 collected"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
    ns.finish().await;
}
