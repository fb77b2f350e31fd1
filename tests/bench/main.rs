//! `make bench`: toolbox against kubectl on the local cluster, side by side in
//! one run, alternating the tools within each round so that drift in the
//! machine's load falls on both alike. It writes docs/benchmarks.md.
//!
//! Whole processes are timed, with kwok's start delay at 0, so what is
//! measured is the tool itself: its start-up, its requests and its waiting.
//!
//! Scenario 1b runs on a cluster with a real node instead (`make bench-real`,
//! `BENCH_ONLY=real`), each command on a pseudo-terminal; it rewrites only its
//! own marked section of the document, which a full run carries over.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{
    ClusterEnv, NODE_SHELL_NSENTER, RealNode, cluster, kubectl_node_shell_overrides, random_suffix,
    repo_root,
};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

const NAMESPACE: &str = "toolbox-bench";
const ALPINE: &str = "docker.io/library/alpine:3.22";

/// Around scenario 1b in docs/benchmarks.md: `make bench-real` rewrites what
/// lies between them, and a full run on the simulated nodes carries it over.
const REAL_BEGIN: &str = "<!-- real node: begin (written by make bench-real) -->";
const REAL_END: &str = "<!-- real node: end -->";
/// Before the text copied from docs/benchmarks-notes.md.
const NOTES_BEGIN: &str = "<!-- from docs/benchmarks-notes.md -->";
/// A terminal session that takes longer is killed and its row says so.
const PTY_TIMEOUT: Duration = Duration::from_secs(120);
/// The kubelet's gauge of running pods is as of its last relist of the
/// runtime, once a second; it is read this long after the pods were deleted.
const KUBELET_RELIST: Duration = Duration::from_millis(1100);

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

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Sample {
    fn median(&self) -> f64 {
        median(&self.seconds)
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

/// The remote command of scenario 1b: it answers a line typed at the
/// terminal, so that its output can only show once the session relays both
/// ways. Typing `abc` shows `abc` (the remote terminal's echo) and then
/// `first-output-abcabc`, the marker that is timed.
const ANSWER: &str = "read reply; echo first-output-$reply$reply";

/// A command typed at a terminal. In `script`, `@ID@` stands for a fresh
/// suffix for a pod's name.
struct TtyCase {
    label: String,
    /// What the time to first output covers, for the row.
    covers: String,
    script: String,
}

/// A terminal case's measurements.
#[derive(Debug, Default, Clone)]
struct TtySample {
    /// From spawning the command until its marker is read from the terminal.
    first_output: Sample,
    /// From spawning the command until it has exited.
    until_exit: Vec<f64>,
    /// Runs where kubectl could not attach and showed the container's log
    /// instead.
    logs_fallbacks: usize,
}

struct TtyRun {
    first_output: f64,
    until_exit: f64,
    peak_rss_kib: u64,
    transcript: String,
}

/// Runs `script` with bash on a pseudo-terminal, under GNU time for its peak
/// RSS, types `typed` at once (the terminal holds it until the tool reads
/// it), and times the first appearance of `marker` in what the terminal shows.
///
/// The terminal is read with blocking reads: expectrl's `expect` polls
/// without sleeping, which would take one of the machine's cores from the
/// node being measured. A watchdog kills a session that outlives PTY_TIMEOUT.
fn run_on_pty(
    script: &str,
    typed: &str,
    marker: &str,
    env: &BTreeMap<String, String>,
) -> Result<TtyRun, String> {
    use expectrl::process::unix::WaitStatus;
    use std::io::{Read as _, Write as _};
    use std::sync::mpsc::{RecvTimeoutError, channel};

    let rss_file = std::env::temp_dir().join(format!("toolbox-bench-{marker}.rss"));
    let mut command = Command::new("/usr/bin/time");
    command
        .args(["-f", "%M", "-o"])
        .arg(&rss_file)
        .args(["bash", "-c", script])
        .env_clear()
        .envs(env);
    let started = Instant::now();
    let mut session = expectrl::Session::spawn(command).map_err(|e| e.to_string())?;
    session
        .write_all(typed.as_bytes())
        .map_err(|e| e.to_string())?;
    // The session leads its own process group: killing the group ends bash
    // and the tool it runs.
    let group = format!("-{}", session.get_process().pid());
    let (finished, watching) = channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = watching.recv_timeout(PTY_TIMEOUT) {
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        }
    });
    let mut transcript = Vec::new();
    let mut first_output = None;
    let mut buf = [0u8; 4096];
    loop {
        match session.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                transcript.extend_from_slice(&buf[..n]);
                if first_output.is_none()
                    && transcript
                        .windows(marker.len())
                        .any(|w| w == marker.as_bytes())
                {
                    first_output = Some(started.elapsed().as_secs_f64());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // EIO: every process on the terminal has closed it.
            Err(_) => break,
        }
    }
    let status = session.get_process().wait();
    let until_exit = started.elapsed().as_secs_f64();
    drop(finished);
    let _ = watchdog.join();
    let peak_rss_kib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or(0);
    let _ = std::fs::remove_file(&rss_file);
    let transcript = String::from_utf8_lossy(&transcript).replace('\r', "");
    let tail = || {
        let text = transcript.split_whitespace().collect::<Vec<_>>().join(" ");
        let skip = text.chars().count().saturating_sub(300);
        text.chars().skip(skip).collect::<String>()
    };
    match (status, first_output) {
        (Ok(WaitStatus::Exited(_, 0)), Some(first_output)) => Ok(TtyRun {
            first_output,
            until_exit,
            peak_rss_kib,
            transcript,
        }),
        (Ok(WaitStatus::Exited(_, 0)), None) => Err(format!(
            "exit 0, but the command's output never showed: {}",
            tail()
        )),
        (Ok(WaitStatus::Exited(_, code)), _) => Err(format!("exit {code}: {}", tail())),
        (Ok(_), _) if until_exit >= PTY_TIMEOUT.as_secs_f64() => Err(format!(
            "killed after {} s without exiting: {}",
            PTY_TIMEOUT.as_secs(),
            tail()
        )),
        (Ok(other), _) => Err(format!("{other:?}: {}", tail())),
        (Err(e), _) => Err(e.to_string()),
    }
}

/// Runs every terminal case `rounds` times after one warm-up each,
/// alternating between them within a round, with `between` (untimed) before
/// every run.
fn measure_on_pty(
    cases: &[TtyCase],
    rounds: usize,
    env: &BTreeMap<String, String>,
    mut between: impl FnMut(),
) -> Vec<TtySample> {
    let run = |case: &TtyCase| {
        let reply = random_suffix();
        let script = case.script.replace("@ID@", &random_suffix());
        run_on_pty(
            &script,
            &format!("{reply}\r"),
            &format!("first-output-{reply}{reply}"),
            env,
        )
    };
    for case in cases {
        between();
        let _ = run(case);
    }
    let mut samples = vec![TtySample::default(); cases.len()];
    for _ in 0..rounds {
        for (case, sample) in cases.iter().zip(samples.iter_mut()) {
            if sample.first_output.failure.is_some() {
                continue;
            }
            between();
            match run(case) {
                Ok(run) => {
                    eprintln!(
                        "bench:   {} to first output, {} to exit: {}",
                        ms(run.first_output),
                        ms(run.until_exit),
                        case.label
                    );
                    sample.first_output.seconds.push(run.first_output);
                    sample.first_output.peak_rss_kib.push(run.peak_rss_kib);
                    sample.until_exit.push(run.until_exit);
                    if run.transcript.contains("falling back to streaming logs") {
                        sample.logs_fallbacks += 1;
                    }
                }
                Err(e) => sample.first_output.failure = Some(e),
            }
        }
    }
    between();
    samples
}

fn tty_table(cases: &[TtyCase], samples: &[TtySample]) -> String {
    let mut out = String::from(
        "| command | the time to first output covers | first output, median | min – max | vs. toolbox | until exit, median | peak RSS |\n|---|---|---|---|---|---|---|\n",
    );
    let base = samples[0].first_output.median();
    for (case, sample) in cases.iter().zip(samples) {
        let first = &sample.first_output;
        if let Some(failure) = &first.failure {
            let _ = writeln!(
                out,
                "| {} | {} | did not work here: {} | | | | |",
                case.label,
                case.covers,
                failure.replace('|', "/")
            );
            continue;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} – {} | {:.2}× | {} | {:.1} MiB |",
            case.label,
            case.covers,
            ms(first.median()),
            ms(first.min()),
            ms(first.max()),
            first.median() / base,
            ms(median(&sample.until_exit)),
            first.peak_rss_mib()
        );
    }
    out
}

/// Deletes every pod in the bench namespace and waits until they are gone.
async fn clear_namespace(pods: &Api<Pod>) {
    let _ = pods
        .delete_collection(
            &DeleteParams::default().grace_period(1),
            &ListParams::default(),
        )
        .await;
    harness::wait_until(
        Duration::from_secs(60),
        "the bench namespace's pods to be gone",
        || async {
            pods.list_metadata(&ListParams::default())
                .await
                .is_ok_and(|l| l.items.is_empty())
        },
    )
    .await;
}

/// Waits until the kubelet of `node` runs no pod, so that a run does not
/// share the node with the teardown of the one before: a pod force-deleted
/// from the API still has its containers stopped for two seconds or more.
fn wait_until_node_is_idle(kubectl: &Path, kubeconfig: &Path, node: &str) {
    let idle = || {
        let Ok(out) = Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args([
                "get",
                "--raw",
                &format!("/api/v1/nodes/{node}/proxy/metrics"),
            ])
            .output()
        else {
            return false;
        };
        // Pods with a running sandbox; kubelet_running_containers is no
        // help, as it keeps its last non-zero count for a state none is in.
        let text = String::from_utf8_lossy(&out.stdout);
        out.status.success()
            && text
                .lines()
                .any(|l| l.strip_prefix("kubelet_running_pods ") == Some("0"))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    std::thread::sleep(KUBELET_RELIST);
    while !idle() {
        assert!(
            Instant::now() < deadline,
            "the kubelet of {node} still runs pods a minute after they were deleted"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Scenario 1b: time to first output on the real node, each tool typed at a
/// terminal as a person would. Returns the section, between its markers.
async fn real_node_section(
    env_dir: &ClusterEnv,
    real: &RealNode,
    admin: &Client,
    env: &BTreeMap<String, String>,
    rounds: usize,
) -> String {
    let node = &real.name;
    let image = &real.image;
    let mut env = env.clone();
    env.insert("TOOLBOX_CONFIG".into(), real.settings.display().to_string());
    env.insert("TERM".into(), "xterm-256color".into());
    // kubectl-node-shell's command: CMD in the node's namespaces.
    let answer_in_node: Vec<&str> = NODE_SHELL_NSENTER
        .into_iter()
        .chain(["--", "sh", "-c", ANSWER])
        .collect();
    let overrides = |tty: bool, command: &[&str]| {
        kubectl_node_shell_overrides(node, Some("nsenter-@ID@"), image, tty, command)
    };
    let cases = vec![
        TtyCase {
            label: format!("`toolbox node-shell {node} -- CMD`"),
            covers: "create the pod, watch it until it runs, exec CMD with a TTY (toolbox deletes the pod after, within until exit)".into(),
            script: format!("\"$TB\" node-shell {node} -- sh -c '{ANSWER}'"),
        },
        TtyCase {
            label: format!("`kubectl debug node/{node} -it --profile sysadmin --image node-tools --image-pull-policy Never -- CMD`"),
            covers: "create the pod, wait until it runs, attach to CMD, the container's own process (kubectl leaves the pod: deleted between runs, untimed)".into(),
            script: format!(
                "\"$K\" debug node/{node} -n {NAMESPACE} -it --profile sysadmin --image {image} --image-pull-policy Never -- sh -c '{ANSWER}'"
            ),
        },
        TtyCase {
            label: "`kubectl run -it --rm --overrides` (kubectl-node-shell's one command)".into(),
            covers: "create the pod, wait until it runs, attach to its `nsenter … -- CMD` (`--rm` then waits until the kubelet reports the pod finished and deletes it, within until exit)".into(),
            script: format!(
                "\"$K\" run nsenter-@ID@ -n {NAMESPACE} -it --rm --restart=Never --image {image} --image-pull-policy=Never --overrides '{}'",
                overrides(true, &answer_in_node)
            ),
        },
        TtyCase {
            label: "kubectl run + wait + exec -it + delete (kubectl-node-shell's steps)".into(),
            covers: "`kubectl run` of a pod that sleeps, `kubectl wait` for Ready, `kubectl exec -it` of `nsenter … -- CMD` (then `kubectl delete --force --wait=false`, within until exit)".into(),
            script: format!(
                "set -e; n=nsenter-@ID@; \"$K\" run \"$n\" -n {NAMESPACE} --image {image} --image-pull-policy=Never --restart=Never --overrides '{}' >/dev/null; \
                 \"$K\" wait -n {NAMESPACE} --for=condition=Ready \"pod/$n\" --timeout=60s >/dev/null; \
                 \"$K\" exec -it -n {NAMESPACE} \"$n\" -- {} '{ANSWER}'; \
                 \"$K\" delete pod -n {NAMESPACE} \"$n\" --grace-period=0 --force --wait=false >/dev/null 2>&1",
                overrides(false, &["sleep", "3600"]),
                answer_in_node[..answer_in_node.len() - 1].join(" ")
            ),
        },
    ];
    eprintln!("bench: time to first output on the real node {node} ({rounds} rounds)");
    let pods: Api<Pod> = Api::namespaced(admin.clone(), NAMESPACE);
    let runtime = tokio::runtime::Handle::current();
    let samples = tokio::task::block_in_place(|| {
        measure_on_pty(&cases, rounds, &env, || {
            runtime.block_on(clear_namespace(&pods));
            wait_until_node_is_idle(&env_dir.kubectl, &env_dir.kubeconfig, node);
        })
    });

    let info = Api::<Node>::all(admin.clone())
        .get(node)
        .await
        .ok()
        .and_then(|n| n.status)
        .and_then(|s| s.node_info);
    let (kubelet, runtime_version, kernel) = info
        .map(|i| {
            (
                i.kubelet_version,
                i.container_runtime_version,
                i.kernel_version,
            )
        })
        .unwrap_or_default();
    // The node's containerd runs the machine's runc.
    let runc = Command::new("runc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|t| {
            t.lines()
                .next()
                .map(|l| l.trim_start_matches("runc version ").to_string())
        })
        .unwrap_or_else(|| "unknown".into());

    let mut out = format!("{REAL_BEGIN}\n## 1b. Time to first output on a real node\n\n");
    let _ = writeln!(
        out,
        "Written by `make bench-real` on {}, on a cluster of its own (Kubernetes {}) whose one node, `{node}`, is real: kubelet {kubelet} with {} and runc {runc} (kernel {kernel}). Its pods' sandboxes and containers really start, and the command's output comes back through the kubelet's exec and attach streams. What is not as on a server: the node is a set of namespaces on this machine rather than a machine, and its one image is local (node-tools: busybox, util-linux nsenter), so nothing is pulled. Machine: {}.\n",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        env_dir.version,
        runtime_version.replace("://", " "),
        machine(),
    );
    let _ = writeln!(
        out,
        "Each command runs on a pseudo-terminal, as a person types it. Its CMD, `sh -c '{ANSWER}'`, answers a line: a fresh word and Enter are typed as soon as the command is spawned (the terminal holds them until the tool reads them, as when one presses Enter at kubectl's \"If you don't see a command prompt\"), and the answer is the marker. The time to first output runs from spawning the command until the marker is read from the terminal, so it covers the whole way to a session that relays both ways; until exit runs until the command has exited. {rounds} rounds after one warm-up each, alternating the tools within each round. Before every run, untimed, every pod in the namespace is deleted (kubectl debug leaves its pod behind), and the run waits until the kubelet's gauge of running pods is back at 0, so that each run starts on a quiet node. Ratios against toolbox (the first row).\n"
    );
    out.push_str(&tty_table(&cases, &samples));
    for (case, sample) in cases.iter().zip(&samples) {
        if sample.logs_fallbacks > 0 {
            let _ = writeln!(
                out,
                "\n{}: in {} of {} runs kubectl could not attach to CMD and showed the container's log instead (`warning: couldn't attach to pod/…, falling back to streaming logs`).",
                case.label,
                sample.logs_fallbacks,
                sample.first_output.seconds.len()
            );
        }
    }
    let _ = writeln!(out, "\n{REAL_END}\n");
    out
}

/// The text between `begin` and `end` (both included) in `doc`.
fn marked_section<'a>(doc: &'a str, begin: &str, end: &str) -> Option<&'a str> {
    let start = doc.find(begin)?;
    let stop = start + doc[start..].find(end)? + end.len();
    Some(&doc[start..stop])
}

/// docs/benchmarks.md with scenario 1b replaced by `section` (placed before
/// scenario 2 if the document has none yet) and the notes refreshed.
fn with_real_section(doc: &str, section: &str, notes: &str) -> String {
    let section = section.trim_end();
    let mut doc = match marked_section(doc, REAL_BEGIN, REAL_END) {
        Some(old) => doc.replacen(old, section, 1),
        None => match doc.find("## 2. ") {
            Some(at) => format!("{}{section}\n\n{}", &doc[..at], &doc[at..]),
            None => format!("{doc}\n{section}\n"),
        },
    };
    let notes_at = doc
        .find(NOTES_BEGIN)
        .or_else(|| notes.lines().next().and_then(|first| doc.find(first)));
    if let Some(at) = notes_at {
        doc.truncate(at);
    }
    format!("{}\n\n{NOTES_BEGIN}\n{notes}", doc.trim_end())
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

/// kubectl-node-shell's pod, as its `kubectl run --overrides`: kubectl
/// merges it as a JSON merge patch, so its container replaces the one
/// `kubectl run` generates (and `tty` must match `-t`, as the script sets it).

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
    let only = std::env::var("BENCH_ONLY").ok().filter(|o| !o.is_empty());
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
        "Written by `make bench` on {}. Every figure is a ratio against kubectl measured in the same run, on the same local cluster (Kubernetes {}, {} simulated nodes, kwok start delay 0), alternating the tools within each round; {} rounds after one warm-up each. Times are whole processes, wall clock. Scenario 1b alone runs on a cluster with a real node, and says how.\n",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        env_dir.version,
        node_count,
        rounds
    );
    let _ = writeln!(doc, "Machine: {}.\n", machine());

    let doc_path = root.join("docs/benchmarks.md");
    let existing_doc = std::fs::read_to_string(&doc_path).unwrap_or_default();
    // 1b. Time to first output on a real node, when this cluster has one.
    let real_section = match &env_dir.real_node {
        Some(real) if wanted("real") => {
            Some(real_node_section(env_dir, real, &admin, &env, rounds).await)
        }
        None if only
            .as_deref()
            .is_some_and(|o| o.split(',').any(|w| w == "real")) =>
        {
            panic!(
                "BENCH_ONLY=real needs a cluster with a real node, and {} has none: run `make bench-real`",
                env_dir.dir.display()
            )
        }
        _ => None,
    };
    if !wanted("sessions") {
        doc.push_str(real_section.as_deref().unwrap_or_default());
    }

    // 1. Time to first output, and 2. API requests per session.
    let mut session_rss = None;
    if wanted("sessions") {
        let pod = |prefix: &str| format!("{prefix}-$RANDOM$RANDOM");
        let ns_cmd: Vec<&str> = NODE_SHELL_NSENTER
            .into_iter()
            .chain(["--", "true"])
            .collect();
        let plain_name = pod("nsenter");
        let plain = format!(
            "set -e; n={plain_name}; \"$K\" run \"$n\" -n {NAMESPACE} --image={ALPINE} --restart=Never --overrides='{}' >/dev/null; \
         \"$K\" wait -n {NAMESPACE} --for=condition=Ready \"pod/$n\" --timeout=60s >/dev/null; \
         \"$K\" exec -n {NAMESPACE} \"$n\" -- {}; \
         \"$K\" delete pod -n {NAMESPACE} \"$n\" --grace-period=0 --force --wait=false >/dev/null 2>&1",
            kubectl_node_shell_overrides(
                node,
                Some("placeholder"),
                ALPINE,
                false,
                &["sleep", "3600"]
            )
            .replace("\"placeholder\"", "\"'\"$n\"'\""),
            ns_cmd.join(" ")
        );
        let attach_name = pod("nsenter");
        let attach = format!(
            "n={attach_name}; timeout 60 \"$K\" run \"$n\" -n {NAMESPACE} -i --rm --quiet --image={ALPINE} --restart=Never --overrides='{}' </dev/null",
            kubectl_node_shell_overrides(node, Some("placeholder"), ALPINE, false, &ns_cmd)
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
            "\nkwok never runs a container's own process, so `kubectl debug` is followed by a wait for Ready rather than for completion, and `kubectl run -i` has no process to attach to on these simulated nodes (its row says how it ended). On a real node it runs: see 1b.\n"
        );
        // Measured now, or else carried over from the last `make bench-real`.
        let real = real_section
            .clone()
            .or_else(|| {
                marked_section(&existing_doc, REAL_BEGIN, REAL_END).map(|s| format!("{s}\n\n"))
            })
            .unwrap_or_else(|| {
                format!("{REAL_BEGIN}\n## 1b. Time to first output on a real node\n\nNot measured yet: run `make bench-real`.\n\n{REAL_END}\n\n")
            });
        doc.push_str(&real);

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

    let notes = std::fs::read_to_string(root.join("docs/benchmarks-notes.md")).unwrap_or_default();
    let _ = write!(doc, "{NOTES_BEGIN}\n{notes}");
    println!("{doc}");
    // A partial run (BENCH_ONLY) prints its figures but leaves the document
    // whole, except that scenario 1b, when measured, replaces its own section.
    if only.is_none() {
        std::fs::write(&doc_path, &doc).expect("writing docs/benchmarks.md");
        eprintln!("bench: wrote {}", doc_path.display());
    } else if let Some(section) = &real_section {
        std::fs::write(&doc_path, with_real_section(&existing_doc, section, &notes))
            .expect("writing docs/benchmarks.md");
        eprintln!("bench: wrote scenario 1b into {}", doc_path.display());
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
                          "containers": [{ "name": "shell", "image": ALPINE, "command": ["sleep", "3600"] }] }
            }))
            .unwrap();
            async move { pods.create(&PostParams::default(), &pod).await.map(|_| ()) }
        })
        .buffer_unordered(32)
        .for_each(|_| async {})
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(figure: &str) -> String {
        format!("{REAL_BEGIN}\n## 1b. Real\n\n{figure}\n\n{REAL_END}\n\n")
    }

    #[test]
    fn the_real_node_section_goes_before_scenario_2_then_replaces_itself() {
        let before = "# Benchmarks\n\n## 1. First\n\none\n\n## 2. Requests\n\ntwo\n## How the figures are made\n\nold notes\n";
        let notes = "## How the figures are made\n\nnew notes\n";
        let first = with_real_section(before, &section("1 ms"), notes);
        assert_eq!(
            first,
            format!(
                "# Benchmarks\n\n## 1. First\n\none\n\n{}## 2. Requests\n\ntwo\n\n{NOTES_BEGIN}\n{notes}",
                section("1 ms")
            )
        );
        let second = with_real_section(&first, &section("2 ms"), notes);
        assert_eq!(second, first.replace("1 ms", "2 ms"));
        assert_eq!(
            marked_section(&second, REAL_BEGIN, REAL_END),
            Some(section("2 ms").trim_end())
        );
    }
}
