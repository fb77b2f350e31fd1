//! Many clusters at once (docs/fan-out.md, "Many clusters"): one fan-out
//! run over the nodes of the shared cluster (its real node among them) and
//! a second local cluster of simulated nodes started beside it, plus a
//! third kubeconfig context whose server is down. Lines come prefixed
//! `CONTEXT/NODE:`, `--gather` folds across clusters, `-o json` gives each
//! node its context, the summary is per cluster, and the down one fails
//! alone with its reason. cleanup and sessions list take the same flags.
//! Nothing is left in either cluster.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use harness::{
    TOOLBOX_SELECTOR, TestNs, random_suffix, real_node, repo_root, send_signal, stderr_of,
    stdout_of, wait_with_timeout,
};
use kube::api::ListParams;
use serde_yaml::{Mapping, Value};

/// A second local cluster of two simulated nodes (no real node: one is
/// enough, and the shared cluster has it), stopped and removed when
/// dropped, however the test ends.
struct SecondCluster {
    dir: PathBuf,
    kubeconfig: PathBuf,
}

impl SecondCluster {
    fn up() -> SecondCluster {
        let dir = repo_root().join(format!("target/many-clusters-{}", random_suffix()));
        std::fs::create_dir_all(&dir).expect("creating the cluster's directory");
        let cluster = SecondCluster {
            kubeconfig: dir.join("kubeconfig"),
            dir,
        };
        // The release the shared cluster runs.
        harness::start_own_cluster(
            &cluster.dir,
            &harness::cluster().kube_bin,
            &["-nodes", "2", "-real-nodes", "0"],
            None,
        );
        cluster
    }

    /// Its simulated nodes' names.
    fn nodes(&self) -> Vec<String> {
        kubectl_ok(&self.kubeconfig, &["get", "nodes", "-o", "name"])
            .lines()
            .map(|line| line.trim_start_matches("node/").to_string())
            .collect()
    }
}

impl Drop for SecondCluster {
    fn drop(&mut self) {
        harness::remove_own_cluster(&self.dir, true);
    }
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(&harness::cluster().kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("running kubectl")
}

fn kubectl_ok(kubeconfig: &Path, args: &[&str]) -> String {
    let out = kubectl(kubeconfig, args);
    assert!(
        out.status.success(),
        "kubectl {} failed: {}",
        args.join(" "),
        stderr_of(&out)
    );
    stdout_of(&out)
}

/// The admin's cluster, user and context of a localcluster kubeconfig,
/// renamed `name`. The user's credentials come from an exec plugin, a
/// script in `dir` that hands out the admin's token and counts its runs in
/// `dir/runs-NAME`, as a cloud provider's kubeconfig would.
fn admin_entries(kubeconfig: &Path, name: &str, dir: &Path) -> (Value, Value, Value) {
    let text = std::fs::read_to_string(kubeconfig).expect("reading a kubeconfig");
    let config: Value = serde_yaml::from_str(&text).expect("a kubeconfig");
    let mut cluster = config["clusters"][0].clone();
    cluster["name"] = name.into();
    let admin = config["users"]
        .as_sequence()
        .expect("users")
        .iter()
        .find(|user| user["name"] == "admin")
        .expect("the admin user");
    let token = admin["user"]["token"].as_str().expect("the admin's token");
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": { "token": token }
    });
    let script = dir.join(format!("plugin-{name}"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho run >> '{}'\nprintf '%s\\n' '{credential}'\n",
            dir.join(format!("runs-{name}")).display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let user: Value = serde_yaml::from_str(&format!(
        "{{name: {name}, user: {{exec: {{apiVersion: client.authentication.k8s.io/v1, command: '{}', interactiveMode: Never}}}}}}",
        script.display()
    ))
    .unwrap();
    let context: Value = serde_yaml::from_str(&format!(
        "{{name: {name}, context: {{cluster: {name}, user: {name}}}}}"
    ))
    .unwrap();
    (cluster, user, context)
}

/// One kubeconfig with three contexts: `shared` (the shared cluster),
/// `second` (the test's own) and `down`, whose server nothing listens on;
/// and the directory of its credential plugins.
fn three_contexts(ns: &TestNs, second: &SecondCluster) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("{}-contexts", ns.name));
    std::fs::create_dir_all(&dir).unwrap();
    let mut clusters = Vec::new();
    let mut users = Vec::new();
    let mut contexts = Vec::new();
    for (kubeconfig, name) in [
        (ns.env.kubeconfig.as_path(), "shared"),
        (second.kubeconfig.as_path(), "second"),
    ] {
        let (cluster, user, context) = admin_entries(kubeconfig, name, &dir);
        clusters.push(cluster);
        users.push(user);
        contexts.push(context);
    }
    clusters.push(
        serde_yaml::from_str("{name: down, cluster: {server: 'https://127.0.0.1:1'}}").unwrap(),
    );
    users.push(serde_yaml::from_str("{name: down, user: {token: t}}").unwrap());
    contexts
        .push(serde_yaml::from_str("{name: down, context: {cluster: down, user: down}}").unwrap());
    let mut config = Mapping::new();
    config.insert("apiVersion".into(), "v1".into());
    config.insert("kind".into(), "Config".into());
    config.insert("clusters".into(), Value::Sequence(clusters));
    config.insert("users".into(), Value::Sequence(users));
    config.insert("contexts".into(), Value::Sequence(contexts));
    config.insert("current-context".into(), "shared".into());
    let path = dir.join("kubeconfig");
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    (path, dir)
}

/// How many times the credential plugin of context `name` ran, since the
/// last call.
fn plugin_runs(setup: &Setup, name: &str) -> usize {
    let counter = setup.plugins.join(format!("runs-{name}"));
    let runs = std::fs::read_to_string(&counter)
        .map(|text| text.lines().count())
        .unwrap_or(0);
    let _ = std::fs::remove_file(&counter);
    runs
}

/// The label both clusters' targeted nodes carry for this test: a key of
/// its own, as tests running at once label the same real node.
fn label(ns: &TestNs) -> String {
    format!("toolbox.test/{}", ns.name)
}

/// The test's slice of both clusters: its namespace in each (toolbox's pods
/// go there), two simulated nodes of its own and the real node in the
/// shared one, the second one's nodes, all labelled for the run. The real
/// node's label is taken off when dropped.
struct Setup {
    kubeconfig: PathBuf,
    /// The credential plugins' scripts and counters.
    plugins: PathBuf,
    label: String,
    shared_nodes: Vec<String>,
    second_nodes: Vec<String>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = kubectl(
            &harness::cluster().kubeconfig,
            &[
                "label",
                "node",
                &real_node().name,
                &format!("{}-", self.label),
            ],
        );
    }
}

async fn set_up(ns: &mut TestNs, second: &SecondCluster) -> Setup {
    let (kubeconfig, plugins) = three_contexts(ns, second);
    let label = label(ns);
    let mut shared_nodes = vec![ns.node("n1", Default::default()).await];
    shared_nodes.push(ns.node("n2", Default::default()).await);
    shared_nodes.push(real_node().name.clone());
    for node in &shared_nodes {
        kubectl_ok(
            &ns.env.kubeconfig,
            &["label", "node", node, &format!("{label}=")],
        );
    }
    let second_nodes = second.nodes();
    kubectl_ok(&second.kubeconfig, &["create", "namespace", &ns.name]);
    for node in &second_nodes {
        kubectl_ok(
            &second.kubeconfig,
            &["label", "node", node, &format!("{label}=")],
        );
    }
    Setup {
        kubeconfig,
        plugins,
        label,
        shared_nodes,
        second_nodes,
    }
}

/// toolbox with the three contexts, in the test's namespace, with the real
/// node's settings (its local images) for every cluster.
fn toolbox(ns: &TestNs, setup: &Setup) -> Command {
    let mut cmd = ns.toolbox_process_via(&setup.kubeconfig);
    cmd.env("TOOLBOX_CONFIG", &real_node().settings);
    cmd
}

/// Asserts that no toolbox pod is left in the second cluster.
fn nothing_left_in(second: &SecondCluster) {
    let left = kubectl_ok(
        &second.kubeconfig,
        &["get", "pods", "-A", "-l", TOOLBOX_SELECTOR, "-o", "name"],
    );
    assert!(left.trim().is_empty(), "left in the second cluster: {left}");
}

#[tokio::test]
async fn a_run_over_three_contexts_finishes_on_two_and_reports_the_down_one_alone() {
    let started = Instant::now();
    let second = SecondCluster::up();
    let mut ns = TestNs::new("many-clusters").await;
    let setup = set_up(&mut ns, &second).await;
    let selector = label(&ns);
    let mut want: BTreeSet<String> = BTreeSet::new();
    want.extend(setup.shared_nodes.iter().map(|n| format!("shared/{n}")));
    want.extend(setup.second_nodes.iter().map(|n| format!("second/{n}")));

    // Every line prefixed CONTEXT/NODE; the down context fails alone.
    let out = toolbox(&ns, &setup)
        .args(["node-shell", "--all-contexts", "--all", "-l", &selector])
        .args(["--", "sh", "-c", "echo one; echo two"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(6),
        "a context could not run: {stderr}"
    );
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for line in stdout_of(&out).lines() {
        let (node, text) = line.split_once(": ").expect("CONTEXT/NODE: line");
        assert!(text == "one" || text == "two", "{line}");
        seen.insert(node.to_string());
    }
    assert_eq!(seen, want, "every node of both clusters, prefixed");
    for context in ["shared", "second"] {
        assert_eq!(
            plugin_runs(&setup, context),
            1,
            "each cluster's own credentials, its plugin run once"
        );
    }
    for expected in [
        "down: toolbox: cannot reach the API server of context \"down\" at https://127.0.0.1:1",
        "shared: 3 nodes: 3 succeeded, 0 failed, 0 could not run\n",
        "second: 2 nodes: 2 succeeded, 0 failed, 0 could not run\n",
        "down: could not run: cannot reach the API server of context \"down\"",
        "3 contexts: 2 ran, 1 could not run\n",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in: {stderr}");
    }

    // --gather folds the same output across clusters.
    let out = toolbox(&ns, &setup)
        .args(["node-shell", "--context", "shared", "--context", "second"])
        // Through an exec: a simulated node's stream-less pod answers with
        // its name, whatever the command (hack/cluster/stages/pods.yaml).
        .args(["--all", "-l", &selector, "--gather", "--stream"])
        .args(["--", "echo", "same"])
        .output()
        .unwrap();
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let header = stdout.lines().nth(1).expect("a gathered group's header");
    assert!(
        header.starts_with("second/") && header.contains(",shared/") && header.ends_with(" (5)"),
        "one group of five nodes of both clusters: {stdout}"
    );
    assert_eq!(stdout.lines().nth(3), Some("same"), "{stdout}");

    // -o json: a context on every node, the run's summary and each context's.
    let out = toolbox(&ns, &setup)
        .args(["node-shell", "--contexts", "s*", "--all", "-l", &selector])
        .args([
            "-o",
            "json",
            "--stream",
            "--",
            "sh",
            "-c",
            "echo out; exit 3",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let document: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON document");
    let nodes: BTreeSet<String> = document["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| {
            assert_eq!(node["exitCode"], 3, "{node}");
            assert_eq!(node["stdout"], "out\n", "{node}");
            format!(
                "{}/{}",
                node["context"].as_str().expect("a context"),
                node["node"].as_str().expect("a node")
            )
        })
        .collect();
    assert_eq!(nodes, want);
    assert_eq!(document["summary"]["failed"], 5, "{document}");
    let contexts: Vec<(&str, &str)> = document["contexts"]
        .as_array()
        .expect("contexts")
        .iter()
        .map(|c| {
            (
                c["context"].as_str().unwrap(),
                c["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(contexts, [("second", "ran"), ("shared", "ran")]);
    assert_eq!(document["contexts"][1]["summary"]["nodes"], 3);

    // Stream-less (-o's default): each node's pod runs the command as its
    // own process in each cluster, the real node for real, and the
    // simulated ones answer with their name as uname -n would.
    let out = toolbox(&ns, &setup)
        .args(["node-shell", "--all-contexts", "--all", "-l", &selector])
        .args(["-o", "json", "--", "uname", "-n"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    let document: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON document");
    let mut answered = BTreeSet::new();
    for node in document["nodes"].as_array().expect("nodes") {
        let name = node["node"].as_str().expect("a node");
        assert_eq!(node["exitCode"], 0, "{node}");
        assert_eq!(node["stdout"], format!("{name}\n"), "{node}");
        answered.insert(format!("{}/{name}", node["context"].as_str().unwrap()));
    }
    assert_eq!(answered, want);
    assert_eq!(document["contexts"][0]["context"], "down");
    assert_eq!(document["contexts"][0]["outcome"], "failed");
    assert!(
        document["contexts"][0]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("cannot reach the API server of context \"down\"")),
        "{document}"
    );

    // One context is one cluster's run, as it was: no prefix.
    let out = toolbox(&ns, &setup)
        .args([
            "node-shell",
            "--context",
            "second",
            "--all",
            "-l",
            &selector,
        ])
        .args(["--", "echo", "plain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let lines: BTreeSet<String> = stdout_of(&out).lines().map(str::to_string).collect();
    let plain: BTreeSet<String> = setup
        .second_nodes
        .iter()
        .map(|n| format!("{n}: plain"))
        .collect();
    assert_eq!(lines, plain);

    // A glob that matches no context is a usage error, before any request.
    let out = toolbox(&ns, &setup)
        .args(["node-shell", "--contexts", "prod-*", "--all", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr_of(&out).trim(),
        "error: --contexts 'prod-*' matches no context of the kubeconfig (its contexts: shared, second, down)"
    );

    // --fanout is the whole run's width: 2 over two clusters is one node
    // at a time in each. Ctrl-C then stops both and deletes every pod.
    let mut child = toolbox(&ns, &setup)
        .args(["node-shell", "--context", "shared", "--context", "second"])
        .args(["--all", "-l", &selector, "--fanout", "2"])
        .args(["--", "sh", "-c", "echo started; sleep 120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut contexts_started = BTreeSet::new();
    for _ in 0..2 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let (context, _) = line.split_once('/').expect("CONTEXT/NODE: started");
        contexts_started.insert(context.to_string());
    }
    assert_eq!(
        contexts_started,
        BTreeSet::from(["second".to_string(), "shared".to_string()]),
        "one node in each cluster"
    );
    // Pods of the earlier runs may still be going (deleted, not yet gone).
    let in_shared = ns
        .pods()
        .list(&ListParams::default().labels("toolbox.dev/run"))
        .await
        .unwrap()
        .items
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .count();
    let listed: serde_json::Value = serde_json::from_str(&kubectl_ok(
        &second.kubeconfig,
        &[
            "get",
            "pods",
            "-n",
            &ns.name,
            "-l",
            "toolbox.dev/run",
            "-o",
            "json",
        ],
    ))
    .unwrap();
    let in_second = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pod| pod["metadata"]["deletionTimestamp"].is_null())
        .count();
    assert_eq!((in_shared, in_second), (1, 1), "one pod in each cluster");
    send_signal(child.id(), "INT");
    let status = wait_with_timeout(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    for expected in [
        "shared: 3 nodes: 0 succeeded",
        "second: 2 nodes: 0 succeeded",
    ] {
        assert!(stderr.contains(expected), "a summary still: {stderr}");
    }
    assert!(
        !stderr.contains("error:"),
        "an interruption is not an error: {stderr}"
    );

    nothing_left_in(&second);
    drop(setup);
    ns.finish().await;
    eprintln!("many clusters: the run took {:.1?}", started.elapsed());
}

#[tokio::test]
async fn cleanup_and_sessions_list_take_the_same_contexts() {
    let second = SecondCluster::up();
    let mut ns = TestNs::new("many-clusters-list").await;
    let setup = set_up(&mut ns, &second).await;
    // A kept pod in each cluster: a recorded session on the real node, and
    // a simulated node's in the second cluster.
    for (context, node) in [
        ("shared", real_node().name.as_str()),
        ("second", setup.second_nodes[0].as_str()),
    ] {
        let out = toolbox(&ns, &setup)
            .args(["node-shell", "--context", context, node, "--keep"])
            .args(["--", "echo", "kept"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    }

    // The live session, with its context; the down context fails alone.
    let out = toolbox(&ns, &setup)
        .args(["sessions", "list", "--all-contexts", "-o", "json"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: down: cannot reach the API server of context \"down\""),
        "{stderr}"
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("rows");
    assert!(
        rows.iter()
            .any(|row| row["context"] == "shared" && row["node"] == real_node().name.as_str()),
        "the real node's live session, in context shared: {rows:?}"
    );
    assert!(rows.iter().all(|row| row["context"] != "down"), "{rows:?}");

    // Both clusters' pods in one table, with their context.
    let out = toolbox(&ns, &setup)
        .args(["cleanup", "--context", "shared", "--context", "second"])
        .args(["-n", &ns.name, "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let table = stdout_of(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().take(3).collect::<Vec<_>>(),
        ["CONTEXT", "NAMESPACE", "NAME"],
        "{table}"
    );
    let contexts: BTreeSet<&str> = lines[1..]
        .iter()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(contexts, BTreeSet::from(["second", "shared"]), "{table}");
    assert!(
        stderr_of(&out).contains("Dry run: 2 pods would be deleted."),
        "{}",
        stderr_of(&out)
    );

    // Deleted in both, confirmed once (-y); the down context fails alone.
    let out = toolbox(&ns, &setup)
        .args([
            "cleanup",
            "--all-contexts",
            "-n",
            &ns.name,
            "-y",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a report");
    assert_eq!(report["deleted"], 2, "{report}");
    let deleted: BTreeSet<&str> = report["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pod| pod["context"].as_str().unwrap())
        .collect();
    assert_eq!(deleted, BTreeSet::from(["second", "shared"]));
    assert_eq!(report["failedContexts"][0]["context"], "down", "{report}");

    let out = toolbox(&ns, &setup)
        .args(["cleanup", "--contexts", "s*", "-n", &ns.name, "-y"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out).trim(),
        format!(
            "No node-debug pods found in namespace {} of 2 contexts.",
            ns.name
        )
    );

    nothing_left_in(&second);
    drop(setup);
    ns.finish().await;
}
