//! `toolbox logs` on the real node, whose kubelet and containerd log to
//! files in its /var/log (no journald), so that the kubelet's node log
//! query finds them as file logs:
//! - through the node log query: no pod (the namespace and the API
//!   server's audit log say so), the filters applied by toolbox to a file
//!   of known lines, the kubelet's own log, `-f` ended by SIGINT;
//! - with the query off, and with the kubelet's log handler off (the
//!   kubelet restarted with another configuration, the cluster held
//!   whole): through the fallback pod, with the one line that says why;
//! - a run over the real node and simulated ones, whose kubelets the API
//!   server does not proxy to;
//! - users who may get nodes/proxy but create no pod, and the other way
//!   round.
//!
//! A test's log files are its own: `/var/log/<namespace>.log` in the node
//! (the cluster's state/node/var-log), removed when the test ends.

use std::path::PathBuf;
use std::process::Command as StdCommand;
use std::time::Duration;

use harness::{
    TestNs, audit_events, cluster, core_rule as rule, node_init_pid, real_node, send_signal,
    spawn_session, stderr_of, stdout_of,
};
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// A file in the real node's /var/log, removed on every exit path.
struct NodeLogFile {
    on_machine: PathBuf,
    /// Its path on the node.
    path: String,
    /// The unit whose log the kubelet's heuristics find in it.
    unit: String,
}

impl NodeLogFile {
    fn new(ns: &TestNs, text: &str) -> NodeLogFile {
        let unit = ns.name.clone();
        let on_machine = cluster()
            .dir
            .join("state/node/var-log")
            .join(format!("{unit}.log"));
        std::fs::write(&on_machine, text).expect("writing the node's log file");
        NodeLogFile {
            on_machine,
            path: format!("/var/log/{unit}.log"),
            unit,
        }
    }

    fn append(&self, text: &str) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.on_machine)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }
}

impl Drop for NodeLogFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.on_machine);
    }
}

/// Lines in each format a node writes, an hour or more old and newer,
/// with lines that belong to the line before them.
struct KnownLines {
    text: String,
    lines: Vec<String>,
}

fn known_lines() -> KnownLines {
    let now = Timestamp::now();
    let ago = |minutes: i64| {
        now.checked_sub(SignedDuration::from_mins(minutes))
            .unwrap()
            .to_zoned(TimeZone::UTC)
    };
    let lines = vec![
        format!(
            "I{}.000000 1 main.go:12] three hours ago",
            ago(180).strftime("%m%d %H:%M:%S")
        ),
        "\tcontinued three hours ago".to_string(),
        format!(
            "time=\"{}\" level=error msg=\"two hours ago\"",
            ago(120).timestamp()
        ),
        format!("{} error: thirty minutes ago", ago(30).timestamp()),
        "goroutine 1 [running]:".to_string(),
        format!(
            "{} real-0001 e2e[1]: one minute ago ERROR",
            ago(1).strftime("%b %e %H:%M:%S")
        ),
    ];
    KnownLines {
        text: lines.iter().map(|l| format!("{l}\n")).collect(),
        lines,
    }
}

fn lines_of(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

/// `toolbox logs ARGS` as the admin with the real node's settings.
fn logs(ns: &TestNs, args: &[&str]) -> std::process::Output {
    ns.toolbox_on_real_node()
        .arg("logs")
        .args(args)
        .output()
        .unwrap()
}

const QUERY_LINE: &str = "through the kubelet's node log query (get nodes/proxy), no pod";

/// The filters, against the known lines; `via` is what the path line says.
fn assert_filters(ns: &TestNs, file: &NodeLogFile, known: &KnownLines, via: &str) {
    let node = &real_node().name;
    let cases: [(&[&str], Vec<&str>); 6] = [
        (&[], known.lines.iter().map(String::as_str).collect()),
        (&["--tail", "2"], vec![&known.lines[4], &known.lines[5]]),
        (
            &["--since", "1h"],
            vec![&known.lines[3], &known.lines[4], &known.lines[5]],
        ),
        (&["--until", "1h", "--grep", "error"], vec![&known.lines[2]]),
        // An upper-case letter makes it case-sensitive, as journalctl's.
        (&["--grep", "ERROR"], vec![&known.lines[5]]),
        (
            &["--since", "150m", "--until", "10m", "--tail", "1"],
            vec![&known.lines[4]],
        ),
    ];
    for log in [file.unit.as_str(), file.path.as_str()] {
        for (flags, want) in &cases {
            let mut args = vec![node.as_str(), log];
            args.extend_from_slice(flags);
            let out = logs(ns, &args);
            let stderr = stderr_of(&out);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
            assert_eq!(lines_of(&stdout_of(&out)), *want, "{args:?}: {stderr}");
            assert_eq!(
                stderr.trim_end(),
                format!("note: {node}: {via}"),
                "{args:?}: one line says which way"
            );
        }
    }
}

/// Asserts that `lines` are consecutive lines of `file` (the kubelet's log
/// grows while the test reads it).
fn assert_consecutive_in(lines: &[String], file: &std::path::Path) {
    let text = std::fs::read_to_string(file).unwrap();
    let all: Vec<&str> = text.lines().collect();
    assert!(!lines.is_empty());
    assert!(
        all.windows(lines.len()).any(|w| w == lines),
        "{lines:?} are not consecutive lines of {}",
        file.display()
    );
}

fn node_file(name: &str) -> PathBuf {
    cluster().dir.join("state/node/var-log").join(name)
}

/// The audit log's requests through the node proxy whose URI has `token`.
fn proxy_requests_with(token: &str) -> Vec<serde_json::Value> {
    audit_events()
        .into_iter()
        .filter(|e| {
            e["objectRef"]["resource"] == "nodes"
                && e["objectRef"]["subresource"] == "proxy"
                && e["requestURI"]
                    .as_str()
                    .is_some_and(|uri| uri.contains(token))
        })
        .collect()
}

/// Pod creations in the namespace, as the audit log has them.
fn pod_creations(ns: &TestNs) -> usize {
    audit_events()
        .iter()
        .filter(|e| {
            e["objectRef"]["namespace"] == ns.name.as_str()
                && e["objectRef"]["resource"] == "pods"
                && e["objectRef"]["subresource"].is_null()
                && e["verb"] == "create"
        })
        .count()
}

#[tokio::test]
async fn the_log_query_reads_a_node_s_logs_with_no_pod() {
    let ns = TestNs::new("logs-query").await;
    let known = known_lines();
    let file = NodeLogFile::new(&ns, &known.text);
    assert_filters(&ns, &file, &known, QUERY_LINE);

    // The kubelet's own log, the default.
    let out = logs(&ns, &[&real_node().name, "--tail", "5"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let lines = lines_of(&stdout_of(&out));
    assert_eq!(lines.len(), 5);
    assert_consecutive_in(&lines, &node_file("kubelet.log"));
    // containerd's, read by its logfmt time.
    let out = logs(
        &ns,
        &[
            &real_node().name,
            "containerd",
            "--since",
            "24h",
            "--tail",
            "3",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let lines = lines_of(&stdout_of(&out));
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.starts_with("time=\"")), "{lines:?}");
    assert_consecutive_in(&lines, &node_file("containerd.log"));

    // What is not there is one line and status 1.
    let out = logs(&ns, &[&real_node().name, &format!("{}-nosuch", ns.name)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains(&format!(
            "toolbox logs: no log of {}-nosuch: not in the journal",
            ns.name
        )),
        "{}",
        stderr_of(&out)
    );

    // The API server proxied the kubelet's answers, and no pod was made.
    let probes = proxy_requests_with(&format!("query={}", file.unit));
    assert!(
        !probes.is_empty(),
        "the query's probes are in the audit log"
    );
    assert!(
        probes.iter().all(|e| e["verb"] == "get"),
        "a nodes/proxy get: {probes:?}"
    );
    assert!(!proxy_requests_with(&format!("logs/{}.log", file.unit)).is_empty());
    assert_eq!(pod_creations(&ns), 0, "no pod was created");

    // compare says so too.
    let out = ns
        .toolbox_on_real_node()
        .args(["compare", &real_node().name, "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["checks"]["nodeLogQuery"],
        serde_json::json!({"forYou": true, "onNode": {"state": "answers", "kubeletLog": "file"}})
    );
    drop(file);
    ns.finish().await;
}

/// `toolbox logs ... -f` started, its first lines read, then lines added to
/// the file; Ctrl-C ends it with 130 and its output in order.
fn follow_until_sigint(ns: &TestNs, file: &NodeLogFile, log: &str) -> harness::SessionEnd {
    let mut toolbox = ns.toolbox_process_on_real_node();
    toolbox.args(["logs", &real_node().name, log, "-f"]);
    let mut session = spawn_session(toolbox, std::process::Stdio::null());
    session.wait_for_stdout("line 3", Duration::from_secs(120));
    file.append("line 4\nline 5\n");
    session.wait_for_stdout("line 5", Duration::from_secs(30));
    send_signal(session.pid(), "INT");
    let end = session.end(Duration::from_secs(30));
    assert_eq!(end.status.code(), Some(130), "{}", end.stderr);
    assert_eq!(end.rest, "line 1\nline 2\nline 3\nline 4\nline 5\n");
    end
}

#[tokio::test]
async fn follow_polls_the_query_until_sigint() {
    let ns = TestNs::new("logs-follow").await;
    let file = NodeLogFile::new(&ns, "line 1\nline 2\nline 3\n");
    let end = follow_until_sigint(&ns, &file, &file.path);
    assert!(end.stderr.contains(QUERY_LINE), "{}", end.stderr);
    assert_eq!(pod_creations(&ns), 0);
    drop(file);
    ns.finish().await;
}

#[tokio::test]
async fn a_followed_log_ends_quietly_when_its_reader_goes() {
    // `toolbox logs -f | head -3`: once head has its lines and exits, the
    // next line toolbox writes finds no reader (SIGPIPE), and it stops.
    let ns = TestNs::new("logs-pipe").await;
    let file = NodeLogFile::new(&ns, "line 1\nline 2\nline 3\n");
    let mut toolbox = ns.toolbox_process_on_real_node();
    toolbox.args(["logs", &real_node().name, &file.path, "-f"]);
    let session = spawn_session(toolbox, std::process::Stdio::null());
    let end = session.end_by_closing_stdout(
        "line 3",
        || file.append("line 4\n"),
        Duration::from_secs(60),
    );
    assert_eq!(end.status.code(), Some(141), "{}", end.stderr);
    assert!(
        !end.stderr.contains("error"),
        "no error line: {}",
        end.stderr
    );
    assert_eq!(end.rest, "line 1\nline 2\nline 3\n");
    drop(file);
    ns.finish().await;
}

/// Settings of the real node's kubelet changed for as long as this lives:
/// the kubelet restarted with them (node-init restarts it on SIGUSR1), and
/// with the file as it was again, however the test ends.
///
/// The kubelet refuses to start with a configuration it finds invalid
/// (`enableSystemLogQuery` without `enableSystemLogHandler`), and the node's
/// init ends with it, taking the real node away: a change is checked
/// against the rules the kubelet's validation has for these two settings
/// before it is written.
struct KubeletSetting {
    path: PathBuf,
    original: String,
}

impl KubeletSetting {
    /// Replaces each `(from, to)` in the kubelet's configuration, restarts
    /// it, and waits until its log endpoint answers as `answers` says.
    fn set(changes: &[(&str, &str)], answers: impl Fn(&str) -> bool) -> KubeletSetting {
        let path = cluster().dir.join("state/node/kubelet.yaml");
        let original = std::fs::read_to_string(&path).unwrap();
        let mut changed = original.clone();
        for (from, to) in changes {
            assert!(changed.contains(from), "{} has {from}", path.display());
            changed = changed.replace(from, to);
        }
        assert!(
            !(changed.contains("enableSystemLogQuery: true")
                && changed.contains("enableSystemLogHandler: false")),
            "the kubelet refuses enableSystemLogQuery without enableSystemLogHandler"
        );
        let setting = KubeletSetting {
            path,
            original: original.clone(),
        };
        if let Err(failure) = write_and_restart(&setting.path, &changed, answers) {
            panic!("{failure}");
        }
        setting
    }
}

impl Drop for KubeletSetting {
    fn drop(&mut self) {
        // A panic here, while a failed test unwinds, would abort the suite.
        let restored = write_and_restart(&self.path, &self.original, |answer| {
            answer.contains("options present and query resolved to log files")
        });
        if let Err(failure) = restored {
            eprintln!("the real node's kubelet was not restored: {failure}");
        }
    }
}

/// Writes the kubelet's configuration (whole, by a rename), restarts the
/// kubelet, and waits until its log endpoint answers as `answers` says
/// and the node is Ready.
fn write_and_restart(
    path: &std::path::Path,
    text: &str,
    answers: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let partial = path.with_extension("yaml.e2e");
    std::fs::write(&partial, text).map_err(|e| e.to_string())?;
    std::fs::rename(&partial, path).map_err(|e| e.to_string())?;
    let init = node_init_pid(&cluster().dir);
    let env = cluster();
    let kubectl = |args: &[&str]| {
        StdCommand::new(&env.kubectl)
            .arg("--kubeconfig")
            .arg(&env.kubeconfig)
            .args(args)
            .output()
    };
    // The kubelet renews its node's Lease as it starts and every 10 s after:
    // each renewal is the moment to ask it again. Watched before the
    // restart, so that the first renewal is not missed.
    let renewals = LeaseRenewals::watch(&real_node().name);
    let signalled = StdCommand::new("kill")
        .args(["-USR1", &init.to_string()])
        .status()
        .map_err(|e| e.to_string())?;
    if !signalled.success() {
        return Err(format!("the real node's init (pid {init}) is gone"));
    }
    let probe = format!(
        "/api/v1/nodes/{}/proxy/logs/?query=kubelet&tailLines=0",
        real_node().name
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let renewed = renewals.next(left);
        let out = kubectl(&["get", "--raw", &probe]).map_err(|e| e.to_string())?;
        let ready = kubectl(&[
            "get",
            "node",
            &real_node().name,
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ])
        .map_err(|e| e.to_string())?;
        let answer = format!("{}{}", stdout_of(&out), stderr_of(&out));
        if answers(&answer) && stdout_of(&ready) == "True" {
            return Ok(());
        }
        if !std::path::Path::new(&format!("/proc/{init}")).exists() {
            return Err(format!(
                "the real node's init (pid {init}) ended: its kubelet refused the configuration (see {})",
                env.dir.join("state/logs/real-0001-kubelet.log").display()
            ));
        }
        if !renewed {
            return Err(format!(
                "the restarted kubelet did not answer as expected within 90s: {answer}"
            ));
        }
    }
}

/// `kubectl get lease --watch` on a node's Lease: a line for each change.
struct LeaseRenewals {
    watch: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl LeaseRenewals {
    fn watch(node: &str) -> LeaseRenewals {
        use std::io::BufRead;
        let env = cluster();
        let mut watch = StdCommand::new(&env.kubectl)
            .arg("--kubeconfig")
            .arg(&env.kubeconfig)
            .args(["get", "lease", "-n", "kube-node-lease", node, "--watch"])
            .args(["-o", "jsonpath={.spec.renewTime}{\"\\n\"}"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("kubectl get lease --watch");
        let stdout = watch.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        LeaseRenewals { watch, lines }
    }

    /// Waits at most `timeout` for the next change; whether one came.
    fn next(&self, timeout: Duration) -> bool {
        self.lines.recv_timeout(timeout).is_ok()
    }
}

impl Drop for LeaseRenewals {
    fn drop(&mut self) {
        let _ = self.watch.kill();
        let _ = self.watch.wait();
    }
}

#[tokio::test]
async fn with_the_query_off_a_short_lived_pod_reads_the_logs_and_says_why() {
    // The real node's kubelet restarts twice with another configuration,
    // and every session and log query on the node meets it off.
    let _whole = harness::whole_cluster();
    let query_off = KubeletSetting::set(
        &[("enableSystemLogQuery: true", "enableSystemLogQuery: false")],
        |answer| answer.starts_with("<!doctype html>"),
    );
    let ns = TestNs::new("logs-off").await;
    let known = known_lines();
    let file = NodeLogFile::new(&ns, &known.text);
    let node = &real_node().name;

    // A unit: the query gives a directory's listing, so a pod reads it.
    let out = logs(&ns, &[node, &file.unit, "--since", "1h"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(lines_of(&stdout_of(&out)), known.lines[3..]);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for words in [
        "through a short-lived pod, as the kubelet does not answer the node log query",
        "enableSystemLogQuery: true",
        "NodeLogQuery feature gate before Kubernetes 1.36",
        "grants get on nodes/proxy",
    ] {
        assert!(stderr.contains(words), "{words:?} in {stderr}");
    }
    assert_eq!(pod_creations(&ns), 1, "one pod");
    let out = ns
        .toolbox_on_real_node()
        .args(["compare", node, "-o", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["checks"]["nodeLogQuery"]["onNode"]["state"], "off",
        "{report}"
    );
    // The kubelet's own log, by the kubelet's heuristics in the pod.
    let out = logs(&ns, &[node, "--tail", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let lines = lines_of(&stdout_of(&out));
    assert_eq!(lines.len(), 4);
    assert_consecutive_in(&lines, &node_file("kubelet.log"));
    // A FILE is still served raw, with the query off: no pod.
    let before = pod_creations(&ns);
    let out = logs(&ns, &[node, &file.path, "--grep", "ERROR"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(lines_of(&stdout_of(&out)), [known.lines[5].clone()]);
    assert!(stderr_of(&out).contains(QUERY_LINE), "{}", stderr_of(&out));
    assert_eq!(pod_creations(&ns), before);
    // Followed through the pod (tail -F), ended by SIGINT: the pod goes.
    let followed = NodeLogFile {
        unit: format!("{}-f", ns.name),
        on_machine: node_file(&format!("{}-f.log", ns.name)),
        path: String::new(),
    };
    std::fs::write(&followed.on_machine, "line 1\nline 2\nline 3\n").unwrap();
    let end = follow_until_sigint(&ns, &followed, &followed.unit);
    assert!(
        end.stderr.contains("through a short-lived pod"),
        "{}",
        end.stderr
    );
    assert!(
        ns.toolbox_pods().await.is_empty(),
        "the pod is deleted on SIGINT"
    );
    drop(query_off);

    // With the whole log handler off (and the query with it: the kubelet
    // refuses the query without the handler), even a FILE takes a pod.
    let handler_off = KubeletSetting::set(
        &[
            (
                "enableSystemLogHandler: true",
                "enableSystemLogHandler: false",
            ),
            ("enableSystemLogQuery: true", "enableSystemLogQuery: false"),
        ],
        // The kubelet answers 405 ("logs endpoint is disabled."), which the
        // API server passes on as its own MethodNotAllowed.
        |answer| {
            answer.contains("MethodNotAllowed") || answer.contains("logs endpoint is disabled")
        },
    );
    let out = logs(&ns, &[node, &file.path, "--tail", "1"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(lines_of(&stdout_of(&out)), [known.lines[5].clone()]);
    assert!(
        stderr.contains("through a short-lived pod, as the kubelet serves no logs (enableSystemLogHandler: false)"),
        "{stderr}"
    );
    drop(handler_off);
    drop((file, followed));
    ns.finish().await;
}

#[tokio::test]
async fn a_run_reads_the_real_node_by_query_and_simulated_ones_by_pod() {
    let mut ns = TestNs::new("logs-run").await;
    let a = ns.node("a", harness::NodeSpec::default()).await;
    let b = ns.node("b", harness::NodeSpec::default()).await;
    let file = NodeLogFile::new(&ns, "one\ntwo\nthree\n");
    let node = &real_node().name;

    let out = logs(
        &ns,
        &[node, &a, &b, &file.unit, "--tail", "2", "-o", "json"],
    );
    let stderr = stderr_of(&out);
    // The simulated nodes have no such log: their pods say so, exit 1.
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_node = |name: &str| {
        document["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_node(node)["exitCode"], 0);
    assert_eq!(by_node(node)["stdout"], "two\nthree\n");
    for simulated in [&a, &b] {
        let got = by_node(simulated);
        assert_eq!(got["exitCode"], 1, "{got}");
        assert!(
            got["stderr"]
                .as_str()
                .unwrap()
                .contains(&format!("no log of {}", file.unit)),
            "{got}"
        );
    }
    assert!(
        stderr.contains(&format!("note: {node}: {QUERY_LINE}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("through a short-lived pod, as the API server does not proxy to the node's kubelet (address not allowed)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 nodes: 1 succeeded, 2 failed, 0 could not run"),
        "{stderr}"
    );

    // Streamed: each line with its node.
    let out = logs(&ns, &[node, &file.unit, "--tail", "1"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "three\n", "one node is not a run");
    let out = logs(&ns, &[node, &a, &file.unit, "--tail", "1"]);
    assert_eq!(stdout_of(&out), format!("{node}: three\n"));
    assert!(
        stderr_of(&out).contains(&format!("{a}: toolbox logs: no log of {}", file.unit)),
        "{}",
        stderr_of(&out)
    );
    drop(file);
    ns.finish().await;
}

#[tokio::test]
async fn nodes_proxy_alone_reads_by_query_and_pods_alone_by_pod() {
    let node = real_node().name.clone();
    let as_dev = |ns: &TestNs, args: &[&str]| {
        ns.toolbox_as_dev()
            .env("TOOLBOX_CONFIG", &real_node().settings)
            .arg("logs")
            .args(args)
            .output()
            .unwrap()
    };
    // get nodes/proxy, and no pod.
    let mut proxy_only = TestNs::new("logs-proxy-only").await;
    proxy_only
        .grant_dev_cluster(vec![
            rule(&["nodes"], &["get", "list"]),
            rule(&["nodes/proxy"], &["get"]),
        ])
        .await;
    let file = NodeLogFile::new(&proxy_only, "one\ntwo\n");
    let out = as_dev(&proxy_only, &[&node, &file.unit]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "one\ntwo\n");
    assert!(stderr_of(&out).contains(QUERY_LINE), "{}", stderr_of(&out));
    drop(file);
    proxy_only.finish().await;

    // Pods, and no nodes/proxy.
    let mut pods_only = TestNs::new("logs-pods-only").await;
    pods_only
        .grant_dev(vec![
            rule(&["pods"], &["create", "get", "list", "watch", "delete"]),
            rule(&["pods/exec"], &["create", "get"]),
        ])
        .await;
    pods_only
        .grant_dev_cluster(vec![rule(&["nodes"], &["get", "list"])])
        .await;
    let file = NodeLogFile::new(&pods_only, "one\ntwo\n");
    let out = as_dev(&pods_only, &[&node, &file.unit, "--tail", "1"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout_of(&out), "two\n");
    assert!(
        stderr.contains("through a short-lived pod, as you may not get nodes/proxy, which the node log query needs"),
        "{stderr}"
    );
    assert!(
        stderr.contains("an admin grants you get on nodes/proxy"),
        "{stderr}"
    );
    assert_eq!(pod_creations(&pods_only), 1);
    drop(file);
    pods_only.finish().await;

    // Neither: one line that names both, exit 3, and nothing made.
    let mut neither = TestNs::new("logs-neither").await;
    neither
        .grant_dev_cluster(vec![rule(&["nodes"], &["get", "list"])])
        .await;
    let out = as_dev(&neither, &[&node]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: cannot read the logs of node {node} without a pod (you may not get nodes/proxy"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("nor with one: permission denied: dev cannot create, watch or delete pods, nor create or get pods/exec in namespace {}", neither.name)),
        "{stderr}"
    );
    assert_eq!(pod_creations(&neither), 0);
    neither.finish().await;
}
