//! `make bench`: toolbox against kubectl on the local cluster, side by side in
//! one run, alternating the tools within each round so that drift in the
//! machine's load falls on both alike. It writes docs/benchmarks.md.
//!
//! Whole processes are timed, with kwok's start delay at 0, so what is
//! measured is the tool itself: its start-up, its requests and its waiting.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{cluster, random_suffix, repo_root};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

const NAMESPACE: &str = "toolbox-bench";

/// One measured command: how to run it, and what to do between runs.
struct Case {
    label: String,
    script: String,
}

/// A case's measurements.
#[derive(Debug, Default, Clone)]
struct Sample {
    seconds: Vec<f64>,
    peak_rss_kib: Vec<u64>,
    failure: Option<String>,
}

impl Sample {
    fn median(&self) -> f64 {
        let mut v = self.seconds.clone();
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }
    fn min(&self) -> f64 {
        self.seconds.iter().copied().fold(f64::INFINITY, f64::min)
    }
    fn max(&self) -> f64 {
        self.seconds.iter().copied().fold(0.0, f64::max)
    }
    fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib.iter().copied().max().unwrap_or(0) as f64 / 1024.0
    }
}

/// Runs `script` with bash and returns its wall time and the peak RSS of
/// the largest process it ran (from wait4's rusage of every child).
fn run_once(script: &str, env: &BTreeMap<String, String>) -> Result<(f64, u64), String> {
    let started = Instant::now();
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M", "bash", "-c", script])
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    let elapsed = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let rss = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    if !output.status.success() {
        let mut lines: Vec<&str> = stderr.lines().collect();
        lines.pop();
        return Err(format!(
            "exit {:?}: {}",
            output.status.code(),
            lines.join(" ").chars().take(300).collect::<String>()
        ));
    }
    Ok((elapsed, rss))
}

/// Runs every case `rounds` times, alternating between them within a round.
fn measure(
    cases: &[Case],
    rounds: usize,
    env: &BTreeMap<String, String>,
    warm_up: bool,
    mut between: impl FnMut(),
) -> Vec<Sample> {
    let mut samples = vec![Sample::default(); cases.len()];
    // One unmeasured warm-up each: page cache, connection set-up, lazy paths.
    for case in cases.iter().filter(|_| warm_up) {
        between();
        let _ = run_once(&case.script, env);
    }
    for _ in 0..rounds {
        for (case, sample) in cases.iter().zip(samples.iter_mut()) {
            if sample.failure.is_some() {
                continue;
            }
            between();
            match run_once(&case.script, env) {
                Ok((seconds, rss)) => {
                    sample.seconds.push(seconds);
                    sample.peak_rss_kib.push(rss);
                }
                Err(e) => sample.failure = Some(e),
            }
        }
    }
    samples
}

fn table(cases: &[Case], samples: &[Sample], baseline: usize) -> String {
    let mut out = String::from(
        "| command | median | min – max | vs. baseline | peak RSS |\n|---|---|---|---|---|\n",
    );
    let base = samples[baseline].median();
    for (case, sample) in cases.iter().zip(samples) {
        if let Some(failure) = &sample.failure {
            let _ = writeln!(
                out,
                "| {} | did not work here: {} | | | |",
                case.label,
                failure.replace('|', "/")
            );
            continue;
        }
        let ratio = sample.median() / base;
        let _ = writeln!(
            out,
            "| {} | {} | {} – {} | {:.2}× | {:.1} MiB |",
            case.label,
            ms(sample.median()),
            ms(sample.min()),
            ms(sample.max()),
            ratio,
            sample.peak_rss_mib()
        );
    }
    out
}

fn ms(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.1} ms", seconds * 1000.0)
    } else {
        format!("{seconds:.2} s")
    }
}

/// Counts the audit log's requests that one run of `script` made, by verb
/// and resource, reading only what the run appended.
fn count_requests(
    script: &str,
    env: &BTreeMap<String, String>,
    audit_log: &Path,
) -> BTreeMap<String, usize> {
    let before = std::fs::metadata(audit_log).map(|m| m.len()).unwrap_or(0);
    let _ = run_once(script, env);
    std::thread::sleep(Duration::from_millis(300));
    let text = std::fs::read(audit_log).unwrap_or_default();
    let appended = String::from_utf8_lossy(&text[before as usize..]).into_owned();
    let mut seen = std::collections::BTreeSet::new();
    let mut counts = BTreeMap::new();
    for line in appended.lines() {
        let Ok(event) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if event["user"]["username"] != "admin"
            || !seen.insert(event["auditID"].as_str().unwrap_or_default().to_string())
        {
            continue;
        }
        let verb = event["verb"].as_str().unwrap_or("?");
        let resource = match (
            event["objectRef"]["resource"].as_str(),
            event["objectRef"]["subresource"].as_str(),
        ) {
            (Some(r), Some(s)) => format!("{r}/{s}"),
            (Some(r), None) => r.to_string(),
            _ => event["requestURI"]
                .as_str()
                .unwrap_or("?")
                .split('?')
                .next()
                .unwrap_or("?")
                .to_string(),
        };
        let dry = if event["requestURI"]
            .as_str()
            .unwrap_or_default()
            .contains("dryRun")
        {
            " (dry run)"
        } else {
            ""
        };
        *counts.entry(format!("{verb} {resource}{dry}")).or_insert(0) += 1;
    }
    counts
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines().next().and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<u64>().ok())
            })
        })
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cores} cores, {mem}, {cpu}")
}

fn node_shell_overrides(node: &str, name: &str, command: &[&str]) -> String {
    json!({
        "spec": {
            "nodeName": node, "hostPID": true, "hostNetwork": true, "hostIPC": true,
            "tolerations": [{"operator": "Exists"}],
            "containers": [{
                "name": "nsenter", "image": "docker.io/library/alpine:3.22",
                "command": command, "stdin": true, "tty": false,
                "securityContext": {"privileged": true}
            }]
        },
        "metadata": {"name": name}
    })
    .to_string()
}

#[tokio::main]
async fn main() {
    let env_dir = cluster();
    let root = repo_root();
    let toolbox = std::env::var("TOOLBOX_BIN")
        .map(PathBuf::from)
        .unwrap_or(root.join("target/release/toolbox"));
    let kubectl = env_dir.kubectl.clone();
    let admin = harness::client_from(&env_dir.kubeconfig).await;
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);

    let namespaces: Api<Namespace> = Api::all(admin.clone());
    if namespaces.get_opt(NAMESPACE).await.unwrap().is_none() {
        let ns: Namespace =
            serde_json::from_value(json!({"metadata": {"name": NAMESPACE}})).unwrap();
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap();
        harness::wait_until(
            Duration::from_secs(30),
            "the default service account",
            || async {
                Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(
                    admin.clone(),
                    NAMESPACE,
                )
                .get_opt("default")
                .await
                .ok()
                .flatten()
                .is_some()
            },
        )
        .await;
    }
    let node_count = Api::<k8s_openapi::api::core::v1::Node>::all(admin.clone())
        .list_metadata(&ListParams::default().match_any())
        .await
        .map(|l| l.items.len())
        .unwrap_or(0);
    let only = std::env::var("BENCH_ONLY").ok();
    let wanted = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|w| w == name))
    };
    let node = "node-0001";
    let env: BTreeMap<String, String> = [
        (
            "PATH".to_string(),
            std::env::var("PATH").unwrap_or_default(),
        ),
        (
            "HOME".to_string(),
            std::env::temp_dir().display().to_string(),
        ),
        (
            "KUBECONFIG".to_string(),
            env_dir.kubeconfig.display().to_string(),
        ),
        ("TOOLBOX_NAMESPACE".to_string(), NAMESPACE.to_string()),
        ("TB".to_string(), toolbox.display().to_string()),
        ("K".to_string(), kubectl.display().to_string()),
    ]
    .into_iter()
    .collect();

    let mut doc = String::new();
    let _ = writeln!(doc, "# Benchmarks\n");
    let _ = writeln!(
        doc,
        "Written by `make bench` on {}. Every figure is a ratio against kubectl measured in the same run, on the same local cluster (Kubernetes {}, {} simulated nodes, kwok start delay 0), alternating the tools within each round; {} rounds after one warm-up each. Times are whole processes, wall clock.\n",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        env_dir.version,
        node_count,
        rounds
    );
    let _ = writeln!(doc, "Machine: {}.\n", machine());

    // 1. Time to first output, and 2. API requests per session.
    let mut session_rss = None;
    if wanted("sessions") {
        let pod = |prefix: &str| format!("{prefix}-$RANDOM$RANDOM");
        let ns_cmd = [
            "nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid", "--", "true",
        ];
        let plain_name = pod("nsenter");
        let plain = format!(
            "set -e; n={plain_name}; \"$K\" run \"$n\" -n {NAMESPACE} --image=docker.io/library/alpine:3.22 --restart=Never --overrides='{}' >/dev/null; \
         \"$K\" wait -n {NAMESPACE} --for=condition=Ready \"pod/$n\" --timeout=60s >/dev/null; \
         \"$K\" exec -n {NAMESPACE} \"$n\" -- {}; \
         \"$K\" delete pod -n {NAMESPACE} \"$n\" --grace-period=0 --force --wait=false >/dev/null 2>&1",
            node_shell_overrides(node, "placeholder", &["sleep", "3600"])
                .replace("\"placeholder\"", "\"'\"$n\"'\""),
            ns_cmd.join(" ")
        );
        let attach_name = pod("nsenter");
        let attach = format!(
            "n={attach_name}; timeout 60 \"$K\" run \"$n\" -n {NAMESPACE} -i --rm --quiet --image=docker.io/library/alpine:3.22 --restart=Never --overrides='{}' </dev/null",
            node_shell_overrides(node, "placeholder", &ns_cmd)
                .replace("\"placeholder\"", "\"'\"$n\"'\"")
        );
        let shell_cases = vec![
            Case {
                label: "`toolbox node-shell N -- true`".into(),
                script: format!("\"$TB\" node-shell {node} -- true"),
            },
            Case {
                label: "kubectl run + wait + exec + delete (kubectl-node-shell's steps)".into(),
                script: plain,
            },
            Case {
                label: "`kubectl run -i --rm --overrides` (kubectl-node-shell's one command)"
                    .into(),
                script: attach,
            },
        ];
        let debug_cases = vec![
            Case {
                label: "`toolbox debug-node N --image busybox -- true`".into(),
                script: format!(
                    "\"$TB\" debug-node {node} -q --image docker.io/library/busybox:1.37 -- true"
                ),
            },
            Case {
                label: "`kubectl debug node/N --image busybox -- true` + wait + delete".into(),
                script: format!(
                    "set -e; out=$(\"$K\" debug node/{node} -n {NAMESPACE} --image docker.io/library/busybox:1.37 -- true 2>&1); \
                 p=$(echo \"$out\" | sed -n 's/^Creating debugging pod \\([^ ]*\\) .*/\\1/p'); \
                 \"$K\" wait -n {NAMESPACE} --for=condition=Ready \"pod/$p\" --timeout=60s >/dev/null; \
                 \"$K\" delete pod -n {NAMESPACE} \"$p\" --grace-period=0 --force --wait=false >/dev/null 2>&1"
                ),
            },
        ];
        eprintln!("bench: time to first output ({rounds} rounds)");
        let shell = measure(&shell_cases, rounds, &env, true, || {});
        let debug = measure(&debug_cases, rounds, &env, true, || {});
        let _ = writeln!(
            doc,
            "## 1. Time to first output\n\nA session that runs `true` on a node: create the pod, wait for it, exec, delete. Ratios are against toolbox (the first row).\n"
        );
        doc.push_str(&table(&shell_cases, &shell, 0));
        doc.push('\n');
        doc.push_str(&table(&debug_cases, &debug, 0));
        let _ = writeln!(
            doc,
            "\nkwok never runs a container's own process, so `kubectl debug` is followed by a wait for Ready rather than for completion, and `kubectl run -i` has no process to attach to on this cluster (its row says how it ended).\n"
        );

        // 2. API requests per session.
        let audit = &env_dir.audit_log;
        let _ = writeln!(
            doc,
            "## 2. API requests per session\n\nCounted in the API server's audit log (one entry per request), for one run of each command. Target for `toolbox node-shell -- true`: 6 or fewer, without discovery.\n"
        );
        for case in shell_cases.iter().take(2).chain(debug_cases.iter()) {
            let counts = count_requests(&case.script, &env, audit);
            let total: usize = counts.values().sum();
            let detail: Vec<String> = counts.iter().map(|(k, v)| format!("{k} ×{v}")).collect();
            let _ = writeln!(doc, "- {}: **{total}** — {}", case.label, detail.join(", "));
        }
        doc.push('\n');
        session_rss = Some((shell[0].peak_rss_mib(), shell[1].peak_rss_mib()));
    }

    if wanted("completion") {
        // 3. Completion and the picker's list at scale.
        let complete_cases = vec![
        Case {
            label: "node-name completion, first TAB (`COMPLETE=bash toolbox -- toolbox node-shell node-`, empty cache)".into(),
            script: "XDG_CACHE_HOME=$(mktemp -d) COMPLETE=bash _CLAP_COMPLETE_INDEX=2 _CLAP_COMPLETE_COMP_TYPE=9 _CLAP_COMPLETE_SPACE=true \"$TB\" -- toolbox node-shell node- >/dev/null".into(),
        },
        Case {
            label: "node-name completion, TAB again within 30 s (cached list)".into(),
            script: "COMPLETE=bash _CLAP_COMPLETE_INDEX=2 _CLAP_COMPLETE_COMP_TYPE=9 _CLAP_COMPLETE_SPACE=true \"$TB\" -- toolbox node-shell node- >/dev/null".into(),
        },
        Case {
            label: "the picker's node list (`toolbox node-shell -l type=kwok`, no terminal)".into(),
            script: "\"$TB\" node-shell -l type=kwok -- true 2>/dev/null; test $? -eq 2".into(),
        },
        Case { label: "`kubectl get nodes -o name`".into(), script: "\"$K\" get nodes -o name >/dev/null".into() },
    ];
        eprintln!("bench: completion at {node_count} nodes");
        let complete = measure(&complete_cases, rounds * 2, &env, true, || {});
        let _ = writeln!(
            doc,
            "## 3. Completion and the picker at {node_count} nodes\n\nRatios against `kubectl get nodes -o name` (the last row). Target: completion at 100 ms median or less, and at most 0.5× kubectl.\n"
        );
        doc.push_str(&table(&complete_cases, &complete, 3));
        doc.push('\n');
    }

    if wanted("cleanup") {
        // 4. Cleanup at scale.
        let cleanup_cases = vec![
        Case { label: "`toolbox cleanup -y --tool toolbox`".into(), script: "\"$TB\" cleanup -y -A --tool toolbox >/dev/null".into() },
        Case {
            label: "`kubectl delete pods -l app.kubernetes.io/managed-by=toolbox -A --wait=false`".into(),
            script: "\"$K\" delete pods -l app.kubernetes.io/managed-by=toolbox -A --wait=false >/dev/null".into(),
        },
        Case {
            label: "`kubectl delete pods -l app.kubernetes.io/managed-by=toolbox -A` (waits)".into(),
            script: "\"$K\" delete pods -l app.kubernetes.io/managed-by=toolbox -A >/dev/null".into(),
        },
    ];
        let leftovers: usize = std::env::var("BENCH_LEFTOVERS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(1000);
        eprintln!("bench: cleanup of {leftovers} pods");
        let pods: Api<Pod> = Api::namespaced(admin.clone(), NAMESPACE);
        let runtime = tokio::runtime::Handle::current();
        let cleanup = tokio::task::block_in_place(|| {
            measure(&cleanup_cases, rounds.min(2), &env, false, || {
                runtime.block_on(create_leftovers(&pods, node, leftovers));
            })
        });
        let _ = writeln!(
            doc,
            "## 4. Cleanup of {leftovers} leftover pods\n\nTwo rounds without a warm-up: each run starts from {leftovers} fresh toolbox pods (created between runs, not timed). Ratios against toolbox. Target: no slower than kubectl's fastest form.\n"
        );
        doc.push_str(&table(&cleanup_cases, &cleanup, 0));
        doc.push('\n');
        let _ = pods
            .delete_collection(
                &DeleteParams::default().grace_period(0),
                &ListParams::default(),
            )
            .await;
    }

    if wanted("startup") {
        // 5. Start-up and memory.
        let startup_cases = vec![
            Case {
                label: "`toolbox --version`".into(),
                script: "\"$TB\" --version >/dev/null".into(),
            },
            Case {
                label: "`true` in bash under GNU time: the harness's own floor".into(),
                script: "true".into(),
            },
            Case {
                label: "`kubectl version --client`".into(),
                script: "\"$K\" version --client >/dev/null".into(),
            },
        ];
        let startup = measure(&startup_cases, rounds * 4, &env, true, || {});
        let _ = writeln!(
            doc,
            "## 5. Start-up and memory\n\nTargets: start-up 5 ms or less; peak RSS over a whole `node-shell -- true` of 20 MiB or less. Ratios against toolbox.\n"
        );
        doc.push_str(&table(&startup_cases, &startup, 0));
        if let Some((toolbox_rss, kubectl_rss)) = session_rss {
            let _ = writeln!(
                doc,
                "\nPeak RSS over a whole session (from scenario 1; for kubectl, the largest of its processes): toolbox node-shell {toolbox_rss:.1} MiB; kubectl {kubectl_rss:.1} MiB ({:.2}×).\n",
                toolbox_rss / kubectl_rss
            );
        }
    }

    let notes = root.join("docs/benchmarks-notes.md");
    if let Ok(text) = std::fs::read_to_string(&notes) {
        doc.push_str(&text);
    }
    println!("{doc}");
    // A partial run (BENCH_ONLY) prints its figures but leaves the document whole.
    if only.is_none() {
        let path = root.join("docs/benchmarks.md");
        std::fs::write(&path, &doc).expect("writing docs/benchmarks.md");
        eprintln!("bench: wrote {}", path.display());
    }
}

/// Creates `count` toolbox-labelled pods, as sessions killed with -9 would leave.
async fn create_leftovers(pods: &Api<Pod>, node: &str, count: usize) {
    use futures::StreamExt;
    let suffix = random_suffix();
    futures::stream::iter(0..count)
        .map(|i| {
            let pod: Pod = serde_json::from_value(json!({
                "metadata": { "name": format!("toolbox-shell-bench-{suffix}-{i}"), "labels": { "app.kubernetes.io/managed-by": "toolbox" } },
                "spec": { "nodeName": node, "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                          "containers": [{ "name": "shell", "image": "docker.io/library/alpine:3.22", "command": ["sleep", "3600"] }] }
            }))
            .unwrap();
            async move { pods.create(&PostParams::default(), &pod).await.map(|_| ()) }
        })
        .buffer_unordered(32)
        .for_each(|_| async {})
        .await;
}
