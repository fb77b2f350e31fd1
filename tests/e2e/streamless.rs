//! Stream-less fleet runs (`--no-stream`, and the default with `--gather`
//! and `-o`): each node's pod runs the command as its own process and the
//! run's one watch brings back its exit code and output from the
//! container's termination message. Proved on the real node (stdout,
//! stderr, exit codes, an output longer than a message, a command that
//! cannot start, a pod stopped at its lifetime, the recording); the
//! simulated nodes finish their containers through a kwok stage
//! (hack/cluster/stages/pods.yaml), and the API server's audit log shows
//! what the run cost: one create per node, no exec at all.

use std::collections::BTreeMap;

use harness::{NodeSpec, TestNs, audit_events, cluster, real_node, stderr_of};
use serde_json::Value;

/// The real node's settings, with the annotations that tell the simulated
/// nodes' stage what to report: `exit_code` and `stderr`.
fn settings_for_simulated(ns: &TestNs, exit_code: u8, stderr: &str) -> std::path::PathBuf {
    let real = std::fs::read_to_string(&real_node().settings).unwrap();
    let stderr = stderr.replace('\n', "\\n");
    ns.settings_file(&format!(
        "{real}\n[annotations]\n\"toolbox.test/exit-code\" = \"{exit_code}\"\n\"toolbox.test/stderr\" = \"{stderr}\"\n"
    ))
}

/// The nodes of a JSON document, by name.
fn by_node(doc: &Value) -> BTreeMap<String, Value> {
    doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["node"].as_str().unwrap().to_string(), n.clone()))
        .collect()
}

/// The audit log's requests of this test's namespace: (verb, subresource).
fn requests_in(ns: &TestNs) -> Vec<(String, String)> {
    audit_events()
        .iter()
        .filter(|e| e["stage"] == "ResponseComplete")
        .filter(|e| e["objectRef"]["namespace"] == ns.name.as_str())
        .filter(|e| e["objectRef"]["resource"] == "pods")
        .map(|e| {
            (
                e["verb"].as_str().unwrap_or_default().to_string(),
                e["objectRef"]["subresource"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_real_node_and_simulated_ones_report_output_and_exit_codes_with_no_exec() {
    let mut ns = TestNs::new("nostream").await;
    let simulated: Vec<String> = {
        let mut names = Vec::new();
        for i in 1..=3 {
            names.push(ns.node(&format!("n{i}"), NodeSpec::default()).await);
        }
        names
    };
    let real = real_node();
    let settings = settings_for_simulated(&ns, 2, "simulated warning\n");
    let out = ns
        .toolbox_on_real_node()
        .args(["--config", settings.to_str().unwrap()])
        .args(["node-shell", "-o", "json"])
        .args(&simulated)
        .arg(&real.name)
        .args(["--", "sh", "-c", "echo out; echo err >&2; echo é; exit 3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let nodes = by_node(&doc);
    // The real node ran the command: its own streams, apart, and its status.
    let on_real = &nodes[&real.name];
    assert_eq!(on_real["exitCode"], 3, "{on_real}");
    assert_eq!(on_real["stdout"], "out\né\n");
    assert_eq!(on_real["stderr"], "err\n");
    assert!(on_real.get("remarks").is_none(), "{on_real}");
    // The simulated ones report what the stage says a kubelet would.
    for node in &simulated {
        let reported = &nodes[node];
        assert_eq!(reported["exitCode"], 2, "{reported}");
        assert_eq!(reported["stdout"], format!("{node}\n"));
        assert_eq!(reported["stderr"], "simulated warning\n");
    }
    // One create per node, no exec, and the run's one watch.
    let requests = requests_in(&ns);
    let count = |verb: &str, sub: &str| {
        requests
            .iter()
            .filter(|(v, s)| v == verb && s == sub)
            .count()
    };
    assert_eq!(count("create", ""), 4, "{requests:?}");
    assert_eq!(
        count("create", "exec") + count("get", "exec"),
        0,
        "{requests:?}"
    );
    assert_eq!(count("watch", ""), 1, "{requests:?}");
    assert_eq!(count("get", "log"), 0, "{requests:?}");

    // The real node's run is recorded as a streamed one is: its file on the
    // node holds the output and the exit.
    let sessions = cluster().dir.join("state/node/var-log/toolbox/sessions");
    let recorded = std::fs::read_dir(&sessions)
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .find(|text| text.contains(&ns.name) && text.contains("echo out; echo err"))
        .expect("a recording of the run on the real node");
    assert!(recorded.contains("\"exit 3\""), "{recorded}");
    assert!(recorded.contains("err\\n"), "{recorded}");
    ns.finish().await;
}

#[tokio::test]
async fn a_long_output_is_read_from_the_log_once_and_the_result_says_so() {
    let ns = TestNs::new("nostream-long").await;
    let real = real_node();
    for unrecorded in [false, true] {
        let mut cmd = ns.toolbox_on_real_node();
        cmd.args(["node-shell", &real.name, "-o", "json"]);
        if unrecorded {
            cmd.arg("--no-record");
        }
        let out = cmd
            .args(["--", "sh", "-c", "seq 1 5000; echo last >&2"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let node = &doc["nodes"][0];
        let expected: String = (1..=5000).map(|n| format!("{n}\n")).collect::<String>() + "last\n";
        assert_eq!(
            node["stdout"].as_str().unwrap(),
            expected,
            "whole and in order (unrecorded: {unrecorded})"
        );
        assert_eq!(node["stderr"], "", "the log has one stream");
        let remark = node["remarks"][0].as_str().unwrap_or_default();
        assert!(
            remark.contains("output read from the container log")
                && remark.contains(&expected.len().to_string()),
            "{node}"
        );
    }
    let reads = requests_in(&ns)
        .iter()
        .filter(|(verb, sub)| verb == "get" && sub == "log")
        .count();
    assert_eq!(reads, 2, "one log read per run");
    ns.finish().await;
}

#[tokio::test]
async fn a_command_that_cannot_start_and_one_stopped_at_its_lifetime() {
    let ns = TestNs::new("nostream-end").await;
    let real = real_node();
    let out = ns
        .toolbox_on_real_node()
        .args([
            "node-shell",
            &real.name,
            "--no-stream",
            "--",
            "/no/such/tool",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!(
            "{}: nsenter: failed to execute /no/such/tool",
            real.name
        )) && err.contains("exit 127"),
        "{err}"
    );

    // The server's lifetime stops the command; what it printed until then
    // comes back, and the node could not finish.
    let out = ns
        .toolbox_on_real_node()
        .args(["node-shell", &real.name, "--no-stream", "--ttl", "5s", "--"])
        .args(["sh", "-c", "echo started; exec sleep 120"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}: started\n", real.name)
    );
    let err = stderr_of(&out);
    assert!(
        err.contains("the pod reached its lifetime (5s, --ttl)") && err.contains("lifetime ended"),
        "{err}"
    );
    ns.finish().await;
}
