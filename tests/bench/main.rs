//! `make bench`: toolbox against kubectl on the local cluster, side by side in
//! one run, alternating the tools within each round so that drift in the
//! machine's load falls on both alike. It writes docs/benchmarks.md.
//!
//! Whole processes are timed, with kwok's start delay at 0, so what is
//! measured is the tool itself: its start-up, its requests and its waiting.
//!
//! Scenario 1b runs on a cluster with a real node instead (`make bench-real`,
//! `BENCH_ONLY=real`), each command on a pseudo-terminal; it rewrites only its
//! own marked section of the document, which a full run carries over. Its
//! part 1d (toolbox cp against kubectl cp) runs alone with `BENCH_ONLY=cp`
//! on any cluster with a real node, and rewrites its own part.

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
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

const NAMESPACE: &str = "toolbox-bench";
/// Where scenario 1b's warm toolbox row keeps its persisting pod: the
/// namespace that is cleared before every run is not it.
const WARM_NAMESPACE: &str = "toolbox-bench-warm";
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
    /// When each marker after the first showed.
    later: Vec<f64>,
    until_exit: f64,
    peak_rss_kib: u64,
    transcript: String,
}

/// Runs `script` with bash on a pseudo-terminal, under GNU time for its peak
/// RSS, types `typed` at once (the terminal holds it until the tool reads
/// it), and times the first appearance of each marker of `markers` in what
/// the terminal shows, in turn, typing each one's text once it shows.
///
/// The terminal is read with blocking reads: expectrl's `expect` polls
/// without sleeping, which would take one of the machine's cores from the
/// node being measured. A watchdog kills a session that outlives PTY_TIMEOUT.
fn run_on_pty(
    script: &str,
    typed: &str,
    markers: &[(&str, &str)],
    env: &BTreeMap<String, String>,
) -> Result<TtyRun, String> {
    use expectrl::process::unix::WaitStatus;
    use std::io::{Read as _, Write as _};
    use std::sync::mpsc::{RecvTimeoutError, channel};

    let rss_file = std::env::temp_dir().join(format!("toolbox-bench-{}.rss", random_suffix()));
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
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match session.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                transcript.extend_from_slice(&buf[..n]);
                while let Some((marker, then)) = markers.get(seen.len())
                    && transcript
                        .windows(marker.len())
                        .any(|w| w == marker.as_bytes())
                {
                    seen.push(started.elapsed().as_secs_f64());
                    // A failed write leaves the tool waiting: the watchdog ends it.
                    let _ = session.write_all(then.as_bytes());
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
    match (status, seen.len() == markers.len()) {
        (Ok(WaitStatus::Exited(_, 0)), true) => Ok(TtyRun {
            first_output: seen[0],
            later: seen[1..].to_vec(),
            until_exit,
            peak_rss_kib,
            transcript,
        }),
        (Ok(WaitStatus::Exited(_, 0)), false) => Err(format!(
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
            &[(&format!("first-output-{reply}{reply}"), "")],
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

/// Creates `name` unless it exists, and waits for its default service account.
async fn ensure_namespace(admin: &Client, name: &str) {
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    if namespaces.get_opt(name).await.unwrap().is_none() {
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap();
    }
    harness::wait_for_default_service_account(admin, name).await;
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
fn wait_until_node_is_idle(kubectl: &Path, kubeconfig: &Path, node: &str, persisting: usize) {
    let running = format!("{persisting}");
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
                .any(|l| l.strip_prefix("kubelet_running_pods ") == Some(running.as_str()))
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
            label: format!("`toolbox node-shell {node} --persist 30m -- CMD`, warm"),
            covers: "find the user's persisting pod of this shape, record the reuse on it, exec CMD with a TTY (the pod is the one the warm-up run left; it stays, idle, after each run)".into(),
            script: format!("\"$TB\" node-shell {node} -n {WARM_NAMESPACE} --persist 30m -- sh -c '{ANSWER}'"),
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
    let warm_pods: Api<Pod> = Api::namespaced(admin.clone(), WARM_NAMESPACE);
    ensure_namespace(admin, WARM_NAMESPACE).await;
    clear_namespace(&warm_pods).await;
    let runtime = tokio::runtime::Handle::current();
    let samples = tokio::task::block_in_place(|| {
        measure_on_pty(&cases, rounds, &env, || {
            runtime.block_on(clear_namespace(&pods));
            // The warm row's persisting pod is meant to stay running.
            let persisting = runtime
                .block_on(warm_pods.list_metadata(&ListParams::default()))
                .map(|l| l.items.len())
                .unwrap_or(0);
            wait_until_node_is_idle(&env_dir.kubectl, &env_dir.kubeconfig, node, persisting);
        })
    });
    clear_namespace(&warm_pods).await;

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
    let _ = writeln!(out, "\n{}", first_output_targets(&samples));
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
    out.push_str(&recording_section(env_dir, real, admin, &env, rounds).await);
    out.push_str(&copy_section(env_dir, real, admin, &env, rounds, true).await);
    let _ = writeln!(out, "\n{REAL_END}\n");
    out
}

/// Around scenario 1d inside the real node's section: `BENCH_ONLY=cp`
/// rewrites what lies between them alone.
const COPY_BEGIN: &str = "<!-- cp: begin -->";
const COPY_END: &str = "<!-- cp: end -->";
/// The file scenario 1d copies: 100 MB that do not compress, on this
/// machine and so on the node, which shares its /var/tmp.
const COPY_FILE: &str = "/var/tmp/toolbox-bench-cp-100MB.bin";
const COPY_BYTES: usize = 100_000_000;

/// Writes [`COPY_FILE`] unless it is there at its size already.
fn write_copy_file() {
    if std::fs::metadata(COPY_FILE).is_ok_and(|m| m.len() == COPY_BYTES as u64) {
        return;
    }
    let mut bytes = vec![0u8; COPY_BYTES];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in bytes.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(COPY_FILE, bytes).expect("writing the copy benchmark's file");
}

/// Scenario 1d: `toolbox cp` of 100 MB each way against `kubectl cp`
/// through a `kubectl debug node/N` pod and its /host, each whole (the
/// pod's creation, the copy, its deletion), the size checked on every run.
/// Returns the section between its markers. With `node_of_its_own` (the
/// cluster is the benchmark's) every run waits for a node that runs no pod
/// at all; on a cluster others use (`BENCH_ONLY=cp`) only for this
/// namespace's pods to be gone.
async fn copy_section(
    env_dir: &ClusterEnv,
    real: &RealNode,
    admin: &Client,
    env: &BTreeMap<String, String>,
    rounds: usize,
    node_of_its_own: bool,
) -> String {
    let node = &real.name;
    let image = &real.image;
    let mut env = env.clone();
    env.insert("TOOLBOX_CONFIG".into(), real.settings.display().to_string());
    let pods: Api<Pod> = Api::namespaced(admin.clone(), NAMESPACE);
    let runtime = tokio::runtime::Handle::current();
    let between = || {
        runtime.block_on(clear_namespace(&pods));
        if node_of_its_own {
            wait_until_node_is_idle(&env_dir.kubectl, &env_dir.kubeconfig, node, 0);
        }
    };
    write_copy_file();
    let debug_pod = format!(
        "out=$(\"$K\" debug node/{node} -n {NAMESPACE} --profile sysadmin --image {image} --image-pull-policy Never -- sleep 3600 2>&1); \
         p=$(echo \"$out\" | sed -n 's/^Creating debugging pod \\([^ ]*\\) .*/\\1/p'); \
         \"$K\" wait -n {NAMESPACE} --for=condition=Ready \"pod/$p\" --timeout=60s >/dev/null"
    );
    let delete_pod = format!(
        "\"$K\" delete pod -n {NAMESPACE} \"$p\" --grace-period=0 --force --wait=false >/dev/null 2>&1"
    );
    let size_is = |path: &str| format!("test \"$(stat -c %s {path})\" = {COPY_BYTES}");
    let up = "/var/tmp/toolbox-bench-cp-up-$$-$RANDOM";
    let cases = vec![
        Case {
            label: format!("`toolbox cp {node}:FILE DIR/` (from the node)"),
            script: format!(
                "set -e; d=$(mktemp -d); \"$TB\" cp {node}:{COPY_FILE} \"$d/\"; {}; rm -rf \"$d\"",
                size_is("\"$d/toolbox-bench-cp-100MB.bin\"")
            ),
        },
        Case {
            label: "`kubectl debug node/N` + wait + `kubectl cp POD:/host/FILE DIR/f` + delete (from the node)".into(),
            script: format!(
                "set -e; d=$(mktemp -d); {debug_pod}; \"$K\" cp -n {NAMESPACE} -c debugger \"$p:/host{COPY_FILE}\" \"$d/f\" >/dev/null 2>&1; {}; {delete_pod}; rm -rf \"$d\"",
                size_is("\"$d/f\"")
            ),
        },
        Case {
            label: format!("`toolbox cp FILE {node}:PATH` (to the node)"),
            script: format!(
                "set -e; n={up}; \"$TB\" cp {COPY_FILE} {node}:\"$n\"; {}; rm -f \"$n\"",
                size_is("\"$n\"")
            ),
        },
        Case {
            label: "`kubectl debug node/N` + wait + `kubectl cp FILE POD:/host/PATH` + delete (to the node)".into(),
            script: format!(
                "set -e; n={up}; {debug_pod}; \"$K\" cp -n {NAMESPACE} -c debugger {COPY_FILE} \"$p:/host$n\" >/dev/null 2>&1; {}; {delete_pod}; rm -f \"$n\"",
                size_is("\"$n\"")
            ),
        },
    ];
    eprintln!("bench: cp of 100 MB each way on the real node {node} ({rounds} rounds)");
    let samples = tokio::task::block_in_place(|| measure(&cases, rounds, &env, true, between));
    let _ = std::fs::remove_file(COPY_FILE);
    let mut out = format!("{COPY_BEGIN}\n## 1d. Copying 100 MB to and from the real node\n\n");
    let _ = writeln!(
        out,
        "Measured {} on the cluster in `target/{}` (Kubernetes {}), whose node `{node}` is real; machine: {}. A file of {} MB that does not compress (random bytes), copied from the node into a new directory here and from here to a new path on the node, each run checking the copy's size. `toolbox cp` is whole: the pre-flight, its pod created and watched until it runs, the copy (every file's sha256 compared end to end, then renamed into place), the pod deleted. The kubectl rows are the steps a person takes for the same copy without toolbox, also whole: `kubectl debug node/{node} --profile sysadmin --image node-tools -- sleep 3600`, `kubectl wait` for Ready, `kubectl cp` through the node's root at /host (tar in the pod: node-tools has busybox's), `kubectl delete pod --wait=false`. {rounds} rounds after one warm-up each, alternating the four within each round, {}. Ratios against the first row; peak RSS is the largest process's.\n",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
        env_dir
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        env_dir.version,
        machine(),
        COPY_BYTES / 1_000_000,
        if node_of_its_own {
            "every run on a quiet node (the namespace cleared and the kubelet's running pods back at 0, untimed)"
        } else {
            "each run after the namespace was cleared (untimed), on a cluster that other tests were using at the same time (`BENCH_ONLY=cp`), so its times carry their load on both sides alike"
        },
    );
    out.push_str(&table(&cases, &samples, 0));
    let ratio = |a: usize, b: usize| samples[a].median() / samples[b].median();
    let verdict = |ratio: f64| {
        let met = if ratio <= 0.8 { "met" } else { "not met" };
        format!("{ratio:.2}× (target 0.8× or less: {met})")
    };
    let rss = samples[0].peak_rss_mib().max(samples[2].peak_rss_mib());
    let _ = writeln!(
        out,
        "\nTargets: toolbox cp / kubectl cp, from the node {}, to the node {}; toolbox's peak RSS {rss:.1} MiB (target under 40 MiB: {}).\n\n{COPY_END}",
        verdict(ratio(0, 1)),
        verdict(ratio(2, 3)),
        if rss < 40.0 { "met" } else { "not met" },
    );
    out
}

/// `doc` with the section between `begin` and `end` replaced by `section`,
/// or `section` put before `before` (else at the end) when it has none.
fn with_marked_section(doc: &str, begin: &str, end: &str, before: &str, section: &str) -> String {
    let section = section.trim_end();
    match marked_section(doc, begin, end) {
        Some(old) => doc.replacen(old, section, 1),
        None => match doc.find(before) {
            Some(at) => format!("{}{section}\n\n{}", &doc[..at], &doc[at..]),
            None => format!("{}\n\n{section}\n", doc.trim_end()),
        },
    }
}

/// The file scenario 1c's `cat` reads on the real node: 100 MB of text
/// lines, as a log is. The node shares this machine's /var/tmp.
const CAT_FILE: &str = "/var/tmp/toolbox-bench-100MB.txt";
const CAT_BYTES: usize = 100_000_000;

/// Writes [`CAT_FILE`] unless it is there at its size already.
fn write_cat_file() {
    if std::fs::metadata(CAT_FILE).is_ok_and(|m| m.len() == CAT_BYTES as u64) {
        return;
    }
    let line = "2026-12-03T10:15:00.000000Z kubelet[1234]: I1203 10:15:00 reconciler.go:42] a line of a node's log, as a cat of one shows it\n";
    let mut text = line.repeat(CAT_BYTES / line.len() + 1);
    text.truncate(CAT_BYTES);
    std::fs::write(CAT_FILE, text).expect("writing the benchmark's file");
}

/// Scenario 1c: what recording costs on the real node, each session
/// recorded against the same one with --no-record: the time to first output
/// (typed at a terminal, as 1b) and a `cat` of 100 MB.
async fn recording_section(
    env_dir: &ClusterEnv,
    real: &RealNode,
    admin: &Client,
    env: &BTreeMap<String, String>,
    rounds: usize,
) -> String {
    let node = &real.name;
    let pods: Api<Pod> = Api::namespaced(admin.clone(), NAMESPACE);
    let runtime = tokio::runtime::Handle::current();
    let between = || {
        runtime.block_on(clear_namespace(&pods));
        wait_until_node_is_idle(&env_dir.kubectl, &env_dir.kubeconfig, node, 0);
    };
    let tty_cases: Vec<TtyCase> = [("", "recorded"), (" --no-record", "not recorded")]
        .into_iter()
        .map(|(flag, what)| TtyCase {
            label: format!("`toolbox node-shell {node}{flag} -- CMD`"),
            covers: format!("as in 1b, {what}"),
            script: format!("\"$TB\" node-shell {node}{flag} -- sh -c '{ANSWER}'"),
        })
        .collect();
    eprintln!("bench: recording's cost on the real node {node} ({rounds} rounds)");
    let first = tokio::task::block_in_place(|| measure_on_pty(&tty_cases, rounds, env, between));

    write_cat_file();
    // The byte count is checked on every run: a recording that lost or
    // added output would fail the row rather than look fast.
    let cat_cases: Vec<Case> = ["", " --no-record"]
        .into_iter()
        .map(|flag| Case {
            label: format!("`toolbox node-shell {node}{flag} -- cat` of 100 MB"),
            script: format!(
                "test \"$(\"$TB\" node-shell {node}{flag} -- cat {CAT_FILE} | wc -c)\" = {CAT_BYTES}"
            ),
        })
        .collect();
    let cat = tokio::task::block_in_place(|| measure(&cat_cases, rounds, env, true, between));
    let _ = std::fs::remove_file(CAT_FILE);

    let mut out = String::from("\n## 1c. What recording costs on the real node\n\n");
    let _ = writeln!(
        out,
        "On the same cluster as 1b, each session recorded (the default: toolbox-recorder between the exec and the command, writing the container log and the node's file) and the same session with `--no-record`, alternating within each round, {rounds} rounds after one warm-up each, every run on a quiet node as in 1b. Ratios against the recorded row.\n"
    );
    out.push_str(&tty_table(&tty_cases, &first));
    let _ = writeln!(
        out,
        "\nA `cat` of a {} MB text file on the node, its output read to the end (the byte count checked on every run), without a terminal:\n",
        CAT_BYTES / 1_000_000
    );
    out.push_str(&table(&cat_cases, &cat, 0));
    let ratio = |a: &Sample, b: &Sample| a.median() / b.median();
    let verdict = |ratio: f64, target: f64| {
        let met = if ratio <= target { "met" } else { "not met" };
        format!("{ratio:.2}× (target {target}× or less: {met})")
    };
    let _ = writeln!(
        out,
        "\nTargets, recorded / not recorded: first output {}; cat of 100 MB {}.",
        verdict(ratio(&first[0].first_output, &first[1].first_output), 1.1),
        verdict(ratio(&cat[0], &cat[1]), 1.3),
    );
    out
}

/// Issue 13's targets for scenario 1b, as ratios between the rows of one
/// run: toolbox cold (row 0) at 0.5× or less of `kubectl debug -it` (row 2)
/// and of `kubectl run -i --rm` (row 3); toolbox warm (row 1) at 0.2× or less
/// of `kubectl debug -it`.
fn first_output_targets(samples: &[TtySample]) -> String {
    let median = |row: usize| {
        samples
            .get(row)
            .filter(|s| s.first_output.failure.is_none() && !s.first_output.seconds.is_empty())
            .map(|s| s.first_output.median())
    };
    let ratio = |of: usize, to: usize, target: f64, what: &str| match (median(of), median(to)) {
        (Some(of), Some(to)) => {
            let ratio = of / to;
            let verdict = if ratio <= target { "met" } else { "not met" };
            format!("{what}: {ratio:.2}× (target {target}× or less: {verdict})")
        }
        _ => format!("{what}: not measured (a row did not work)"),
    };
    format!(
        "Targets, first output: {}; {}; {}.",
        ratio(0, 2, 0.5, "toolbox cold / kubectl debug -it"),
        ratio(0, 3, 0.5, "toolbox cold / kubectl run -it --rm"),
        ratio(1, 2, 0.2, "toolbox warm / kubectl debug -it"),
    )
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
    with_notes(&mut doc, notes)
}

/// `doc` with the notes copied from docs/benchmarks-notes.md refreshed.
fn with_notes(doc: &mut String, notes: &str) -> String {
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

    ensure_namespace(&admin, NAMESPACE).await;
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
    // 1d alone (BENCH_ONLY=cp), on a cluster with a real node: it rewrites
    // only its own section of the document.
    if only.as_deref() == Some("cp") {
        let Some(real) = &env_dir.real_node else {
            panic!(
                "BENCH_ONLY=cp needs a cluster with a real node, and {} has none",
                env_dir.dir.display()
            );
        };
        let section = copy_section(env_dir, real, &admin, &env, rounds, false).await;
        println!("{section}");
        let notes =
            std::fs::read_to_string(root.join("docs/benchmarks-notes.md")).unwrap_or_default();
        let mut doc = with_marked_section(&existing_doc, COPY_BEGIN, COPY_END, REAL_END, &section);
        std::fs::write(&doc_path, with_notes(&mut doc, &notes))
            .expect("writing docs/benchmarks.md");
        eprintln!("bench: wrote scenario 1d into {}", doc_path.display());
        return;
    }
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
        let mut complete_cases = vec![
        Case {
            label: "node-name completion, first TAB (`COMPLETE=bash toolbox -- toolbox node-shell node-`, empty cache)".into(),
            script: "XDG_CACHE_HOME=$(mktemp -d) COMPLETE=bash _CLAP_COMPLETE_INDEX=2 _CLAP_COMPLETE_COMP_TYPE=9 _CLAP_COMPLETE_SPACE=true \"$TB\" -- toolbox node-shell node- >/dev/null".into(),
        },
        Case {
            label: "node-name completion, TAB again within 30 s (cached list)".into(),
            script: "COMPLETE=bash _CLAP_COMPLETE_INDEX=2 _CLAP_COMPLETE_COMP_TYPE=9 _CLAP_COMPLETE_SPACE=true \"$TB\" -- toolbox node-shell node- >/dev/null".into(),
        },
        Case {
            label: "the picker's node list without a terminal (`toolbox node-shell -l type=kwok`: the node Table, then the error that 5,000 match)".into(),
            script: "\"$TB\" node-shell -l type=kwok -- true 2>/dev/null; test $? -eq 2".into(),
        },
        Case { label: "`kubectl get nodes -o name`".into(), script: "\"$K\" get nodes -o name >/dev/null".into() },
    ];
        eprintln!("bench: completion at {node_count} nodes");
        let mut complete = measure(&complete_cases, rounds * 2, &env, true, || {});
        // The picker on a terminal opens with the node Table's rows; its label
        // columns (zone, instance type, OS) follow from a second list. The
        // zones (local-1a, ...) show once they are in, within the 80 columns
        // of the terminal; then q cancels (exit 130).
        let picker_script = "\"$TB\" node-shell -l type=kwok -- true; test $? -eq 130";
        let picker_markers = [("node-0001", ""), ("local-1", "q")];
        let mut opened = Sample::default();
        let mut filled = Sample::default();
        for round in 0..=rounds * 2 {
            match run_on_pty(picker_script, "", &picker_markers, &env) {
                // The first run warms up.
                Ok(_) if round == 0 => {}
                Ok(run) => {
                    opened.seconds.push(run.first_output);
                    filled.seconds.extend(run.later);
                    opened.peak_rss_kib.push(run.peak_rss_kib);
                    filled.peak_rss_kib.push(run.peak_rss_kib);
                }
                Err(e) => {
                    opened.failure = Some(e.clone());
                    filled.failure = Some(e);
                    break;
                }
            }
        }
        complete_cases.push(Case {
            label:
                "the picker on a terminal, open with its rows (`toolbox node-shell -l type=kwok`)"
                    .into(),
            script: picker_script.into(),
        });
        complete_cases.push(Case {
            label: "the picker on a terminal, its label columns filled in".into(),
            script: picker_script.into(),
        });
        complete.push(opened);
        complete.push(filled);
        let _ = writeln!(
            doc,
            "## 3. Completion and the picker at {node_count} nodes\n\nRatios against `kubectl get nodes -o name` (the fourth row). Targets: completion at 100 ms median or less, and at most 0.5× kubectl; the picker's list at 100 ms median or less. On a terminal the picker opens with the node Table's rows and fills its label columns in when a second list (node metadata, in protobuf) arrives; the last two rows time both on a pseudo-terminal.\n"
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

    let mut fanout_only = None;
    if wanted("fanout") {
        // 6. Fan-out: one command on many nodes.
        if !doc.ends_with("\n\n") {
            doc.push('\n');
        }
        let section = fanout_section(&admin, &env, &env_dir.audit_log, &env_dir.dir).await;
        doc.push_str(&section);
        // In a partial run (BENCH_ONLY), it rewrites its own section only.
        if only.is_some() {
            fanout_only = Some(section);
        }
    }

    let mut clusters_only = None;
    if wanted("clusters") {
        // 6b. Two clusters at once.
        if !doc.ends_with("\n\n") {
            doc.push('\n');
        }
        let section = two_clusters_section(&admin, &env, env_dir, &root).await;
        doc.push_str(&section);
        if only.is_some() {
            clusters_only = Some(section);
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
    } else if fanout_only.is_some() || clusters_only.is_some() {
        // Scenario 6 and 6b, each rewriting its own section (6b's goes
        // after 6's when the document has none yet).
        let mut doc = existing_doc.clone();
        if let Some(section) = &fanout_only {
            doc = with_section(&doc, FANOUT_HEADING, section);
        }
        if let Some(section) = &clusters_only {
            doc = if doc.contains(CLUSTERS_HEADING) {
                with_section(&doc, CLUSTERS_HEADING, section)
            } else {
                let at = section_end(&doc, FANOUT_HEADING).unwrap_or(doc.len());
                format!("{}{section}{}", &doc[..at], &doc[at..])
            };
        }
        std::fs::write(&doc_path, doc).expect("writing docs/benchmarks.md");
        eprintln!("bench: wrote scenario 6 and 6b into {}", doc_path.display());
    }
}

/// Where the section that starts with `heading` ends: at the next heading
/// or the notes, after its last newline.
fn section_end(doc: &str, heading: &str) -> Option<usize> {
    let start = doc.find(heading)?;
    let rest = &doc[start + heading.len()..];
    let at = [rest.find("\n## "), rest.find(NOTES_BEGIN)]
        .into_iter()
        .flatten()
        .min()
        .map_or(doc.len(), |at| start + heading.len() + at);
    Some(if doc[at..].starts_with('\n') {
        at + 1
    } else {
        at
    })
}

/// The heading that starts scenario 6b's section.
const CLUSTERS_HEADING: &str = "## 6b. Two clusters";

/// The nodes of each cluster in scenario 6b.
const CLUSTER_NODES: usize = 1000;

/// Scenario 6b: one stream-less run over two clusters of 1,000 nodes each
/// (this one, and a second started beside it), against one 2,000-node run
/// on this cluster. Returns the section.
async fn two_clusters_section(
    admin: &Client,
    env: &BTreeMap<String, String>,
    env_dir: &harness::ClusterEnv,
    root: &Path,
) -> String {
    let rounds: usize = std::env::var("BENCH_FANOUT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2)
        .max(1);
    let nodes: Api<Node> = Api::all(admin.clone());
    let simulated = simulated_nodes(&nodes).await;
    assert!(
        simulated.len() >= 2 * CLUSTER_NODES,
        "scenario 6b needs {} simulated nodes here, and this cluster has {}",
        2 * CLUSTER_NODES,
        simulated.len()
    );
    label_first_nodes(&nodes, &simulated, &[CLUSTER_NODES, 2 * CLUSTER_NODES]).await;

    // The second cluster, beside this one, stopped at the end.
    let second_dir = root.join("target/cluster-bench-second");
    let make = |target: &str| {
        let status = Command::new("make")
            .current_dir(root)
            .args(["--no-print-directory", target])
            .arg(format!("CLUSTER_DIR={}", second_dir.display()))
            .args([
                format!("NODES={CLUSTER_NODES}"),
                "REAL_NODES=0".into(),
                "NODE_LEASE=1h".into(),
            ])
            .stdout(Stdio::null())
            .status()
            .expect("running make");
        assert!(
            status.success(),
            "make {target} for the second cluster failed"
        );
    };
    eprintln!("bench: a second cluster of {CLUSTER_NODES} simulated nodes");
    make("cluster-up");
    struct Down<F: Fn(&str)>(F);
    impl<F: Fn(&str)> Drop for Down<F> {
        fn drop(&mut self) {
            (self.0)("cluster-down");
        }
    }
    let _down = Down(make);
    let second_kubeconfig = second_dir.join("kubeconfig");
    let second = harness::client_from(&second_kubeconfig).await;
    ensure_namespace(&second, NAMESPACE).await;
    let second_nodes: Api<Node> = Api::all(second.clone());
    let theirs = simulated_nodes(&second_nodes).await;
    // Every one of its nodes carries the same label as this cluster's first 1,000.
    label_first_nodes(&second_nodes, &theirs, &[CLUSTER_NODES]).await;

    let both = std::env::temp_dir().join(format!("toolbox-bench-two-{}.yaml", random_suffix()));
    two_context_kubeconfig(&env_dir.kubeconfig, &second_kubeconfig, &both);
    let mut env_both = env.clone();
    env_both.insert("KUBECONFIG".into(), both.display().to_string());
    let selector = |n: usize| format!("type=kwok,{}=true", first_label(n));
    let two_script = format!(
        "\"$TB\" node-shell --context one --context two --all -l '{}' --no-stream -- true >/dev/null",
        selector(CLUSTER_NODES)
    );
    let one_script = format!(
        "\"$TB\" node-shell --all -l '{}' --no-stream -- true >/dev/null",
        selector(2 * CLUSTER_NODES)
    );
    let here: Api<Pod> = Api::namespaced(admin.clone(), NAMESPACE);
    let there: Api<Pod> = Api::namespaced(second.clone(), NAMESPACE);
    clear_namespace(&here).await;
    let run = |script: &str, env: &BTreeMap<String, String>| {
        tokio::task::block_in_place(|| run_once(script, env))
            .unwrap_or_else(|e| panic!("`{script}` did not exit 0: {e}"))
    };
    eprintln!("bench: two clusters, warm-up");
    run(&two_script, &env_both);
    run(&one_script, env);
    let (mut two, mut one) = (Sample::default(), Sample::default());
    let mut left = 0;
    for _ in 0..rounds {
        let (seconds, rss) = run(&two_script, &env_both);
        eprintln!(
            "bench:   2 × {CLUSTER_NODES} {} ({} MiB)",
            ms(seconds),
            rss / 1024
        );
        two.seconds.push(seconds);
        two.peak_rss_kib.push(rss);
        left = left.max(toolbox_pods_left(&here).await + toolbox_pods_left(&there).await);
        let (seconds, rss) = run(&one_script, env);
        eprintln!(
            "bench:   1 × {} {} ({} MiB)",
            2 * CLUSTER_NODES,
            ms(seconds),
            rss / 1024
        );
        one.seconds.push(seconds);
        one.peak_rss_kib.push(rss);
        left = left.max(toolbox_pods_left(&here).await);
    }
    let _ = std::fs::remove_file(&both);

    let mut out = format!(
        "{CLUSTERS_HEADING} at once

"
    );
    let _ = writeln!(
        out,
        "`toolbox node-shell --context one --context two --all -l SELECTOR --no-stream -- true` on {} simulated nodes of each of two clusters (this bench's, and a second local cluster of {} nodes started beside it on the same machine: two control planes on its two cores), against `toolbox node-shell --all -l SELECTOR --no-stream -- true` on {} nodes of this one. Each is {} after one unmeasured run each, alternating; the default `--fanout` of 64 is the whole run's, split between the clusters. Pods left are toolbox's pods in either cluster right after a run, the most after any.\n",
        thousands(CLUSTER_NODES),
        thousands(CLUSTER_NODES),
        thousands(2 * CLUSTER_NODES),
        if rounds > 1 {
            format!("the median of {rounds} runs")
        } else {
            "one run".into()
        }
    );
    out.push_str(
        "| run | wall | peak RSS | pods left |
|---|---|---|---|
",
    );
    for (name, sample) in [
        (format!("2 clusters × {}", thousands(CLUSTER_NODES)), &two),
        (
            format!("1 cluster × {}", thousands(2 * CLUSTER_NODES)),
            &one,
        ),
    ] {
        let _ = writeln!(
            out,
            "| {name} | {} ({} – {}) | {:.1} MiB | {left} |",
            ms(sample.median()),
            ms(sample.min()),
            ms(sample.max()),
            sample.peak_rss_mib()
        );
    }
    let _ = writeln!(
        out,
        "\nTwo clusters take {} of one cluster's time for as many nodes.\n",
        times(two.median() / one.median())
    );
    out
}

/// A kubeconfig with two contexts, `one` and `two`: the admin of each
/// localcluster kubeconfig, renamed so that their names do not collide.
fn two_context_kubeconfig(one: &Path, two: &Path, out: &Path) {
    let entries = |path: &Path, name: &str| {
        let config: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(path).expect("reading a kubeconfig"))
                .expect("a kubeconfig");
        let mut cluster = config["clusters"][0].clone();
        cluster["name"] = name.into();
        let mut user = config["users"]
            .as_sequence()
            .expect("users")
            .iter()
            .find(|user| user["name"] == "admin")
            .expect("the admin user")
            .clone();
        user["name"] = name.into();
        let context: serde_yaml::Value = serde_yaml::from_str(&format!(
            "{{name: {name}, context: {{cluster: {name}, user: {name}}}}}"
        ))
        .unwrap();
        (cluster, user, context)
    };
    let (c1, u1, x1) = entries(one, "one");
    let (c2, u2, x2) = entries(two, "two");
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [c1, c2],
        "users": [u1, u2],
        "contexts": [x1, x2],
        "current-context": "one",
    });
    std::fs::write(out, serde_yaml::to_string(&config).unwrap()).expect("writing the kubeconfig");
}

/// The heading that starts scenario 6's section.
const FANOUT_HEADING: &str = "## 6. Fan-out";

/// `existing` with the section that starts with `heading` replaced by
/// `section`: from its heading to the next heading or the notes.
/// Unchanged when it has none.
fn with_section(existing: &str, heading: &str, section: &str) -> String {
    match (existing.find(heading), section_end(existing, heading)) {
        (Some(start), Some(end)) => {
            format!("{}{section}{}", &existing[..start], &existing[end..])
        }
        _ => existing.to_string(),
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

/// Scenario 6's subsets: the first N simulated nodes by name carry this
/// label (`=true`), so that `-l` selects N of them.
fn first_label(n: usize) -> String {
    format!("toolbox.bench/first-{n}")
}

/// Scenario 6's baseline runs on subsets of up to this many nodes; beyond,
/// it would take many minutes, and its time is extrapolated.
const FANOUT_BASELINE_MAX: usize = 1000;
/// The baseline's `xargs -P`.
const FANOUT_BASELINE_PARALLEL: usize = 32;
/// Scenario 6's targets: every node within this time, toolbox's peak RSS
/// within this, and this fraction of the baseline's time or less.
const FANOUT_TARGET_SECONDS: f64 = 60.0;
const FANOUT_TARGET_RSS_MIB: f64 = 150.0;
const FANOUT_TARGET_RATIO: f64 = 0.1;
/// Issue 27's targets for stream-less runs: 5,000 nodes within the first
/// time, 15,000 within the second, at most this many requests per node,
/// and the API server's CPU per node at most this fraction of a streamed
/// run's on as many nodes.
const STREAMLESS_TARGET_5000_SECONDS: f64 = 30.0;
const STREAMLESS_TARGET_15000_SECONDS: f64 = 100.0;
const STREAMLESS_TARGET_REQUESTS: f64 = 1.1;
const STREAMLESS_TARGET_APISERVER_RATIO: f64 = 0.5;
/// Streamed runs go up to this many nodes; beyond, only stream-less ones.
const STREAMED_MAX: usize = 5000;

/// How a scenario 6 run gets each node's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FanoutMode {
    /// `true` exec'd in each pod, its output streamed back (the default
    /// when output is printed as it comes).
    Streamed,
    /// `--no-stream`: `true` is each pod's own process, its exit code read
    /// from the pod's status.
    Streamless,
}

impl FanoutMode {
    fn flag(self) -> &'static str {
        match self {
            FanoutMode::Streamed => "",
            FanoutMode::Streamless => " --no-stream",
        }
    }

    fn name(self) -> &'static str {
        match self {
            FanoutMode::Streamed => "streamed",
            FanoutMode::Streamless => "stream-less",
        }
    }
}

/// The control plane's processes, named as in the cluster's `state/pids`,
/// and the CPU seconds each has used so far (user and system).
fn control_plane_cpu(cluster_dir: &Path) -> BTreeMap<String, f64> {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    std::fs::read_to_string(cluster_dir.join("state/pids"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (name, pid) = line.split_once(' ')?;
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).ok()?;
            // Fields after the command's closing parenthesis: utime is the
            // 12th, stime the 13th.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let used: f64 =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some((name.to_string(), used / ticks))
        })
        .collect()
}

/// What each process used between two readings, in milliseconds per node.
fn cpu_per_node(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
    nodes: usize,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(name, used)| {
            let spent = used - before.get(name).copied().unwrap_or(0.0);
            (name.clone(), spent * 1000.0 / nodes as f64)
        })
        .collect()
}

/// `a` against `b` in natural order: runs of digits compare as numbers, so
/// that node-9 comes before node-10.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (da, db) = (digits(a), digits(b));
                let (na, nb) = (
                    a[..da].trim_start_matches('0'),
                    b[..db].trim_start_matches('0'),
                );
                let order = na
                    .len()
                    .cmp(&nb.len())
                    .then_with(|| na.cmp(nb))
                    .then_with(|| da.cmp(&db));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (&a[da..], &b[db..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            }
        }
    }
}

/// 5000 as "5,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio, with a third decimal when it is small.
fn times(ratio: f64) -> String {
    if ratio < 0.1 {
        format!("{ratio:.3}×")
    } else {
        format!("{ratio:.2}×")
    }
}

/// The simulated nodes (`type=kwok`) of a cluster, with their labels, in
/// natural order.
async fn simulated_nodes(nodes: &Api<Node>) -> Vec<(String, BTreeMap<String, String>)> {
    let mut simulated: Vec<(String, BTreeMap<String, String>)> = nodes
        .list_metadata(&ListParams::default().labels("type=kwok"))
        .await
        .expect("listing the simulated nodes (type=kwok)")
        .items
        .into_iter()
        .filter_map(|n| Some((n.metadata.name?, n.metadata.labels.unwrap_or_default())))
        .collect();
    simulated.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    simulated
}

/// One subset of scenario 6's nodes.
#[derive(Debug, Clone, PartialEq)]
struct FanoutSize {
    nodes: usize,
    selector: String,
    /// Every simulated node, rather than the first `nodes` of them.
    all: bool,
}

/// The subsets BENCH_FANOUT_SIZES names ("100,1000,all"), smallest first,
/// on a cluster of `simulated` nodes. A number that is not below
/// `simulated` stands for every node.
fn fanout_sizes(spec: &str, simulated: usize) -> Vec<FanoutSize> {
    let mut sizes: Vec<FanoutSize> = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let first = match item {
            "all" => None,
            n => match n.parse::<usize>() {
                Ok(n) if n > 0 => Some(n).filter(|&n| n < simulated),
                _ => panic!(
                    "BENCH_FANOUT_SIZES: {item:?} is neither a number of nodes nor \"all\" (say e.g. 100,1000,all)"
                ),
            },
        };
        let size = match first {
            Some(n) => FanoutSize {
                nodes: n,
                selector: format!("type=kwok,{}=true", first_label(n)),
                all: false,
            },
            None => FanoutSize {
                nodes: simulated,
                selector: "type=kwok".into(),
                all: true,
            },
        };
        if !sizes.contains(&size) {
            sizes.push(size);
        }
    }
    sizes.sort_by_key(|s| (s.nodes, s.all));
    sizes
}

/// Labels the first `n` of `simulated` (in natural order) with
/// `first_label(n)=true` for each `n` in `firsts`, and takes it off any
/// other; a node already as wanted gets no request.
async fn label_first_nodes(
    api: &Api<Node>,
    simulated: &[(String, BTreeMap<String, String>)],
    firsts: &[usize],
) {
    use futures::StreamExt;
    let patches: Vec<(String, serde_json::Value)> = simulated
        .iter()
        .enumerate()
        .filter_map(|(i, (name, labels))| {
            let mut changes = serde_json::Map::new();
            for &n in firsts {
                let key = first_label(n);
                match (i < n, labels.get(&key).map(String::as_str)) {
                    (true, Some("true")) | (false, None) => {}
                    (true, _) => {
                        changes.insert(key, json!("true"));
                    }
                    (false, Some(_)) => {
                        changes.insert(key, serde_json::Value::Null);
                    }
                }
            }
            (!changes.is_empty())
                .then(|| (name.clone(), json!({ "metadata": { "labels": changes } })))
        })
        .collect();
    if patches.is_empty() {
        return;
    }
    eprintln!(
        "bench: labelling {} nodes for the fan-out subsets",
        patches.len()
    );
    let failures: Vec<String> = futures::stream::iter(patches)
        .map(|(name, patch)| async move {
            api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ())
                .map_err(|e| format!("{name}: {e}"))
        })
        .buffer_unordered(32)
        .filter_map(|result| async move { result.err() })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "labelling the first nodes failed: {}",
        failures.join("; ")
    );
}

/// How many of toolbox's pods are in the bench namespace right after a run;
/// any there are deleted, so that the next run starts clean.
async fn toolbox_pods_left(pods: &Api<Pod>) -> usize {
    let left = pods
        .list_metadata(&ListParams::default().labels("app.kubernetes.io/managed-by=toolbox"))
        .await
        .map(|l| l.items.len())
        .expect("listing toolbox's pods in the bench namespace");
    if left > 0 {
        eprintln!("bench:   {left} toolbox pods left after the run");
        clear_namespace(pods).await;
    }
    left
}

/// One subset's figures in scenario 6, in one mode.
struct FanoutRow {
    size: FanoutSize,
    mode: FanoutMode,
    toolbox: Sample,
    /// Each control-plane process's CPU per node in the requests' run, ms.
    cpu: BTreeMap<String, f64>,
    requests: BTreeMap<String, usize>,
    /// The most toolbox pods found right after any of its runs.
    pods_left: usize,
    /// The baseline's wall time, when it ran.
    baseline: Option<Result<f64, String>>,
}

/// Scenario 6: `toolbox node-shell --all -l SELECTOR -- true` on subsets of
/// the simulated nodes, against kubectl-node-shell's steps run by
/// `xargs -P 32`. Returns the section.
async fn fanout_section(
    admin: &Client,
    env: &BTreeMap<String, String>,
    audit_log: &Path,
    cluster_dir: &Path,
) -> String {
    let rounds: usize = std::env::var("BENCH_FANOUT_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2)
        .max(1);
    let spec = std::env::var("BENCH_FANOUT_SIZES")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "100,1000,all".into());

    let nodes: Api<Node> = Api::all(admin.clone());
    let simulated = simulated_nodes(&nodes).await;
    assert!(
        !simulated.is_empty(),
        "scenario 6 runs on the simulated nodes (type=kwok), and this cluster has none"
    );
    let sizes = fanout_sizes(&spec, simulated.len());
    assert!(
        !sizes.is_empty(),
        "BENCH_FANOUT_SIZES={spec:?} names no subset"
    );
    let firsts: Vec<usize> = sizes.iter().filter(|s| !s.all).map(|s| s.nodes).collect();
    label_first_nodes(&nodes, &simulated, &firsts).await;

    let pods: Api<Pod> = Api::namespaced(admin.clone(), NAMESPACE);
    clear_namespace(&pods).await;

    // kubectl-node-shell's steps for the node in $1 (`node/NAME` or NAME).
    let per_node =
        std::env::temp_dir().join(format!("toolbox-bench-node-shell-{}.sh", random_suffix()));
    let nsenter_true: Vec<&str> = NODE_SHELL_NSENTER
        .into_iter()
        .chain(["--", "true"])
        .collect();
    std::fs::write(
        &per_node,
        format!(
            "set -e\nnode=${{1#node/}}\nn=nsenter-$$-$RANDOM$RANDOM\n\
             \"$K\" run \"$n\" -n {NAMESPACE} --image={ALPINE} --restart=Never --overrides='{}' >/dev/null\n\
             \"$K\" wait -n {NAMESPACE} --for=condition=Ready \"pod/$n\" --timeout=60s >/dev/null\n\
             \"$K\" exec -n {NAMESPACE} \"$n\" -- {}\n\
             \"$K\" delete pod -n {NAMESPACE} \"$n\" --grace-period=0 --force --wait=false >/dev/null 2>&1\n",
            kubectl_node_shell_overrides("@NODE@", Some("@POD@"), ALPINE, false, &["sleep", "3600"])
                .replace("\"@NODE@\"", "\"'\"$node\"'\"")
                .replace("\"@POD@\"", "\"'\"$n\"'\""),
            nsenter_true.join(" ")
        ),
    )
    .expect("writing the baseline's per-node script");
    let toolbox_script = |size: &FanoutSize, mode: FanoutMode| {
        format!(
            "\"$TB\" node-shell --all -l '{}'{} -- true >/dev/null",
            size.selector,
            mode.flag()
        )
    };
    let baseline_script = |size: &FanoutSize| {
        format!(
            "set -o pipefail; \"$K\" get nodes -o name -l '{}' | xargs -P {FANOUT_BASELINE_PARALLEL} -I{{}} bash '{}' {{}}",
            size.selector,
            per_node.display()
        )
    };
    let run_toolbox = |size: &FanoutSize, mode: FanoutMode| {
        tokio::task::block_in_place(|| run_once(&toolbox_script(size, mode), env)).unwrap_or_else(|e| {
            panic!(
                "`toolbox node-shell --all -l {}{} -- true` on {} nodes did not exit 0 ({e}); 5 means some commands failed, 6 that some nodes could not run",
                size.selector, mode.flag(), size.nodes
            )
        })
    };

    // Unmeasured: toolbox once on the smallest subset, and the per-node
    // script once on one node (kubectl's discovery cache).
    eprintln!("bench: fan-out warm-up on {} nodes", sizes[0].nodes);
    run_toolbox(&sizes[0], FanoutMode::Streamed);
    run_toolbox(&sizes[0], FanoutMode::Streamless);
    let _ = tokio::task::block_in_place(|| {
        run_once(
            &format!("bash '{}' {}", per_node.display(), simulated[0].0),
            env,
        )
    });
    clear_namespace(&pods).await;

    // toolbox on every subset first, then the baselines: a baseline leaves
    // the cluster busier (thousands of kubectl requests and pods in etcd's
    // history), and toolbox's runs should not pay for it.
    // On each subset, both modes, alternating within each round; streamed
    // runs only up to STREAMED_MAX nodes.
    let mut rows = Vec::new();
    for size in &sizes {
        let modes: Vec<FanoutMode> = if size.nodes <= STREAMED_MAX {
            vec![FanoutMode::Streamed, FanoutMode::Streamless]
        } else {
            vec![FanoutMode::Streamless]
        };
        eprintln!(
            "bench: fan-out on {} nodes (-l {}), {rounds} rounds",
            size.nodes, size.selector
        );
        let mut samples = vec![(Sample::default(), 0usize); modes.len()];
        for _ in 0..rounds {
            for (mode, (toolbox, pods_left)) in modes.iter().zip(samples.iter_mut()) {
                let (seconds, rss) = run_toolbox(size, *mode);
                eprintln!(
                    "bench:   toolbox {} {} ({} MiB)",
                    mode.name(),
                    ms(seconds),
                    rss / 1024
                );
                toolbox.seconds.push(seconds);
                toolbox.peak_rss_kib.push(rss);
                *pods_left = (*pods_left).max(toolbox_pods_left(&pods).await);
            }
        }
        for (mode, (toolbox, mut pods_left)) in modes.into_iter().zip(samples) {
            // One more run, for its requests and the control plane's CPU.
            let script = toolbox_script(size, mode);
            let before = control_plane_cpu(cluster_dir);
            let requests = tokio::task::block_in_place(|| count_requests(&script, env, audit_log));
            let cpu = cpu_per_node(&before, &control_plane_cpu(cluster_dir), size.nodes);
            pods_left = pods_left.max(toolbox_pods_left(&pods).await);
            rows.push(FanoutRow {
                size: size.clone(),
                mode,
                toolbox,
                cpu,
                requests,
                pods_left,
                baseline: None,
            });
        }
    }
    for row in &mut rows {
        if row.size.all || row.size.nodes > FANOUT_BASELINE_MAX || row.mode != FanoutMode::Streamed
        {
            continue;
        }
        let result = tokio::task::block_in_place(|| run_once(&baseline_script(&row.size), env))
            .map(|(seconds, _)| seconds);
        match &result {
            Ok(seconds) => eprintln!(
                "bench:   xargs -P {FANOUT_BASELINE_PARALLEL} kubectl on {} nodes {}",
                row.size.nodes,
                ms(*seconds)
            ),
            Err(e) => {
                eprintln!("bench:   xargs -P {FANOUT_BASELINE_PARALLEL} kubectl failed: {e}")
            }
        }
        clear_namespace(&pods).await;
        row.baseline = Some(result);
    }
    let _ = std::fs::remove_file(&per_node);
    fanout_text(&rows, rounds)
}

/// Scenario 6's section, from its figures.
fn fanout_text(rows: &[FanoutRow], rounds: usize) -> String {
    let firsts: Vec<usize> = rows
        .iter()
        .filter(|r| !r.size.all)
        .map(|r| r.size.nodes)
        .collect();
    let subsets = {
        let mut parts: Vec<String> = Vec::new();
        if !firsts.is_empty() {
            parts.push(format!(
                "the first {} simulated nodes by name (labelled {} beforehand, untimed)",
                firsts
                    .iter()
                    .map(|&n| thousands(n))
                    .collect::<Vec<_>>()
                    .join(" and the first "),
                firsts
                    .iter()
                    .map(|&n| format!("`{}=true`", first_label(n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(all) = rows.iter().find(|r| r.size.all) {
            parts.push(format!(
                "every simulated node ({}, `-l type=kwok`)",
                thousands(all.size.nodes)
            ));
        }
        parts.join(", and ")
    };
    let mut out = String::from("## 6. Fan-out: one command on many nodes\n\n");
    let _ = writeln!(
        out,
        "`toolbox node-shell --all -l SELECTOR -- true` runs `true` on every node the selector matches: a privileged pod per node, labelled with the run's id, at most 64 at a time (the default `--fanout`, and fewer while the API server pushes back); one watch follows the whole run; finished pods are deleted in batches. Two modes, alternating within each round: **streamed**, where `true` is exec'd in each pod and its output streamed back (the default when output is printed as it comes), and **stream-less** (`--no-stream`, the default with `--gather` and `-o`), where `true` is each pod's own process and its exit code and output come back in the pod's status, through the run's watch. Streamed runs go up to {} nodes. The subsets are {subsets}. toolbox's wall time is {}, after one unmeasured run of each mode on the smallest subset, with its output sent to /dev/null; its peak RSS is the largest of those runs; its requests per node are all the requests of one more run (counted in the audit log) divided by the node count, and the control plane's CPU per node is what each of its processes used during that run (user and system time from /proc, divided by the node count: kwok and node-agent are the simulated nodes' kubelets, the others the control plane proper); pods left are toolbox's pods (`app.kubernetes.io/managed-by=toolbox`) still in the namespace right after a run, the most after any run. Every timed run exited 0 (the bench stops otherwise): every node ran `true`.\n",
        thousands(STREAMED_MAX),
        if rounds > 1 {
            format!("the median of {rounds} runs (min – max in brackets)")
        } else {
            "from one run".into()
        }
    );
    let _ = writeln!(
        out,
        "The baseline is what one does without toolbox: `kubectl get nodes -o name -l SELECTOR | xargs -P {FANOUT_BASELINE_PARALLEL} -I{{}} node-shell.sh {{}}`, where node-shell.sh does kubectl-node-shell's steps for its node: `kubectl run` with `--overrides` of its privileged pod, which sleeps; `kubectl wait --for=condition=Ready`; `kubectl exec` of `nsenter … -- true`; `kubectl delete --grace-period=0 --force --wait=false`. It runs once on each subset of up to {} nodes, after toolbox has run on every subset (after one unmeasured run of node-shell.sh on one node); on more it would take many minutes, so its time there is extrapolated linearly from the largest run. After each baseline run the namespace is emptied, untimed, so that the next run starts clean. toolbox / baseline is the streamed run's.\n",
        thousands(FANOUT_BASELINE_MAX)
    );
    out.push_str(&format!(
        "| nodes | mode | toolbox wall | peak RSS | requests per node | control plane CPU per node | pods left | `xargs -P {FANOUT_BASELINE_PARALLEL}` kubectl baseline | toolbox / baseline |\n|---|---|---|---|---|---|---|---|---|\n"
    ));
    // The largest subset the baseline ran on, for the extrapolation.
    let reference = rows
        .iter()
        .filter_map(|r| match &r.baseline {
            Some(Ok(seconds)) => Some((r.size.nodes, *seconds)),
            _ => None,
        })
        .max_by_key(|&(nodes, _)| nodes);
    for row in rows {
        let n = row.size.nodes;
        let toolbox = row.toolbox.median();
        let wall = if row.toolbox.seconds.len() > 1 {
            format!(
                "{} ({} – {})",
                ms(toolbox),
                ms(row.toolbox.min()),
                ms(row.toolbox.max())
            )
        } else {
            ms(toolbox)
        };
        let total: usize = row.requests.values().sum();
        let (baseline, ratio) = match (&row.baseline, reference, row.mode) {
            (Some(Ok(seconds)), _, _) => (ms(*seconds), times(toolbox / seconds)),
            (Some(Err(e)), _, _) => (format!("failed: {}", e.replace('|', "/")), String::new()),
            (None, Some((ref_nodes, ref_seconds)), FanoutMode::Streamed) => {
                let expected = ref_seconds * n as f64 / ref_nodes as f64;
                (
                    format!(
                        "not run: about {expected:.0} s expected from the {}-node run",
                        thousands(ref_nodes)
                    ),
                    format!("about {}", times(toolbox / expected)),
                )
            }
            _ => (String::new(), String::new()),
        };
        let _ = writeln!(
            out,
            "| {}{} | {} | {wall} | {:.1} MiB | {:.2} | {} | {} | {baseline} | {ratio} |",
            thousands(n),
            if row.size.all { " (all)" } else { "" },
            row.mode.name(),
            row.toolbox.peak_rss_mib(),
            total as f64 / n as f64,
            cpu_words(&row.cpu),
            row.pods_left
        );
    }

    let verdict = |met: bool| if met { "**met**" } else { "**not met**" };
    let streamed = |row: &&FanoutRow| row.mode == FanoutMode::Streamed;
    let streamless = |row: &&FanoutRow| row.mode == FanoutMode::Streamless;
    let mut targets = Vec::new();
    match rows.iter().filter(streamed).find(|r| r.size.all) {
        Some(all) => targets.push(format!(
            "every node ({}) streamed in {FANOUT_TARGET_SECONDS:.0} s or less: {} ({})",
            thousands(all.size.nodes),
            verdict(all.toolbox.median() <= FANOUT_TARGET_SECONDS),
            ms(all.toolbox.median())
        )),
        None => targets.push(format!(
            "every node streamed in {FANOUT_TARGET_SECONDS:.0} s or less: not measured here (the cluster has more than {} nodes, or BENCH_FANOUT_SIZES has no `all`)",
            thousands(STREAMED_MAX)
        )),
    }
    for (nodes, limit) in [
        (5000, STREAMLESS_TARGET_5000_SECONDS),
        (15000, STREAMLESS_TARGET_15000_SECONDS),
    ] {
        targets.push(
            match rows.iter().filter(streamless).find(|r| r.size.nodes == nodes) {
                Some(row) => format!(
                    "{} nodes stream-less in {limit:.0} s or less: {} ({})",
                    thousands(nodes),
                    verdict(row.toolbox.median() <= limit),
                    ms(row.toolbox.median())
                ),
                None => format!(
                    "{} nodes stream-less in {limit:.0} s or less: not measured (no subset of {} nodes)",
                    thousands(nodes),
                    thousands(nodes)
                ),
            },
        );
    }
    let most_requests = rows
        .iter()
        .filter(streamless)
        .map(|r| r.requests.values().sum::<usize>() as f64 / r.size.nodes as f64)
        .fold(0.0, f64::max);
    targets.push(format!(
        "{STREAMLESS_TARGET_REQUESTS} requests per node or fewer stream-less: {} ({most_requests:.2} at most)",
        verdict(most_requests <= STREAMLESS_TARGET_REQUESTS)
    ));
    let both = rows
        .iter()
        .filter(streamless)
        .filter_map(|quiet| {
            let loud = rows
                .iter()
                .find(|r| r.mode == FanoutMode::Streamed && r.size == quiet.size)?;
            let cost = |r: &FanoutRow| r.cpu.get("kube-apiserver").copied().unwrap_or(0.0);
            Some((
                quiet.size.nodes,
                cost(quiet) / cost(loud).max(f64::MIN_POSITIVE),
            ))
        })
        .max_by_key(|&(nodes, _)| nodes);
    targets.push(match both {
        Some((nodes, ratio)) => format!(
            "the API server's CPU per node stream-less {STREAMLESS_TARGET_APISERVER_RATIO}× or less of streamed, at {} nodes: {} ({})",
            thousands(nodes),
            verdict(ratio <= STREAMLESS_TARGET_APISERVER_RATIO),
            times(ratio)
        ),
        None => format!(
            "the API server's CPU per node stream-less {STREAMLESS_TARGET_APISERVER_RATIO}× or less of streamed: not measured"
        ),
    });
    let largest = rows.iter().map(|r| r.size.nodes).max().unwrap_or(0);
    let rss = rows
        .iter()
        .filter(|r| r.size.nodes == largest)
        .map(|r| r.toolbox.peak_rss_mib())
        .fold(0.0, f64::max);
    targets.push(format!(
        "peak RSS {FANOUT_TARGET_RSS_MIB:.0} MiB or less at {} nodes: {} ({rss:.1} MiB)",
        thousands(largest),
        verdict(rss <= FANOUT_TARGET_RSS_MIB)
    ));
    let left: usize = rows.iter().map(|r| r.pods_left).max().unwrap_or(0);
    targets.push(format!(
        "0 pods left: {}{}",
        verdict(left == 0),
        if left > 0 {
            format!(" ({left} at most)")
        } else {
            String::new()
        }
    ));
    let against_baseline = rows
        .iter()
        .filter_map(|r| match &r.baseline {
            Some(Ok(seconds)) => Some((r.size.nodes, r.toolbox.median() / seconds)),
            _ => None,
        })
        .max_by_key(|&(nodes, _)| nodes);
    targets.push(match against_baseline {
        Some((nodes, ratio)) => format!(
            "{FANOUT_TARGET_RATIO}× or less of the baseline's time at {} nodes, the most where both ran: {} ({})",
            thousands(nodes),
            verdict(ratio <= FANOUT_TARGET_RATIO),
            times(ratio)
        ),
        None => format!(
            "{FANOUT_TARGET_RATIO}× or less of the baseline's time: not measured (the baseline did not run)"
        ),
    });
    let _ = writeln!(out, "\nTargets: {}.\n", targets.join("; "));

    for mode in [FanoutMode::Streamed, FanoutMode::Streamless] {
        let Some(largest) = rows.iter().rfind(|r| r.mode == mode) else {
            continue;
        };
        let total: usize = largest.requests.values().sum();
        let detail: Vec<String> = largest
            .requests
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        let _ = writeln!(
            out,
            "Requests of one {} run on {} nodes, by verb and resource: **{total}** — {}\n",
            mode.name(),
            thousands(largest.size.nodes),
            detail.join(", ")
        );
    }
    out
}

/// The control plane's CPU per node, by process: "apiserver 4.1 ms, …".
fn cpu_words(cpu: &BTreeMap<String, f64>) -> String {
    fn short(name: &str) -> &str {
        match name {
            "kube-apiserver" => "apiserver",
            "kube-controller-manager" => "controller-manager",
            "kube-scheduler" => "scheduler",
            other => other,
        }
    }
    let mut parts: Vec<(String, f64)> = cpu
        .iter()
        .filter(|(name, _)| name.as_str() != "node-init")
        .map(|(name, ms)| (short(name).to_string(), *ms))
        .collect();
    parts.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = parts.iter().map(|(_, ms)| ms).sum();
    let listed: Vec<String> = parts
        .iter()
        .map(|(name, ms)| format!("{name} {ms:.2}"))
        .collect();
    format!("{total:.1} ms: {}", listed.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(figure: &str) -> String {
        format!("{REAL_BEGIN}\n## 1b. Real\n\n{figure}\n\n{REAL_END}\n\n")
    }

    #[test]
    fn first_output_targets_are_ratios_between_rows_of_one_run() {
        let row = |seconds: &[f64]| TtySample {
            first_output: Sample {
                seconds: seconds.to_vec(),
                ..Sample::default()
            },
            ..TtySample::default()
        };
        let samples = [
            row(&[0.25, 0.26, 0.27]),
            row(&[0.1]),
            row(&[0.52]),
            row(&[0.5]),
        ];
        assert_eq!(
            first_output_targets(&samples),
            "Targets, first output: toolbox cold / kubectl debug -it: 0.50× (target 0.5× or less: met); toolbox cold / kubectl run -it --rm: 0.52× (target 0.5× or less: not met); toolbox warm / kubectl debug -it: 0.19× (target 0.2× or less: met)."
        );
        let failed = TtySample {
            first_output: Sample {
                failure: Some("exit 1".into()),
                ..Sample::default()
            },
            ..TtySample::default()
        };
        assert!(first_output_targets(&[row(&[0.2]), failed]).contains("not measured"));
    }

    #[test]
    fn the_fanout_section_replaces_its_own_and_nothing_else() {
        let doc = format!(
            "# B\n\n## 5. Start\n\nfive\n\n{FANOUT_HEADING}: old\n\nold rows\n\n{NOTES_BEGIN}\nnotes\n"
        );
        let new = with_section(
            &doc,
            FANOUT_HEADING,
            &format!("{FANOUT_HEADING}: new\n\nnew rows\n\n"),
        );
        assert_eq!(
            new,
            format!(
                "# B\n\n## 5. Start\n\nfive\n\n{FANOUT_HEADING}: new\n\nnew rows\n\n{NOTES_BEGIN}\nnotes\n"
            )
        );
        assert_eq!(with_section("# B\n", FANOUT_HEADING, "x"), "# B\n");
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

    #[test]
    fn the_copy_section_goes_inside_the_real_node_s_then_replaces_itself() {
        let doc = format!("# B\n\n{REAL_BEGIN}\n## 1b\n\n{REAL_END}\n\n## 2. x\n");
        let section = |t: &str| format!("{COPY_BEGIN}\n## 1d\n\n{t}\n\n{COPY_END}\n");
        let first = with_marked_section(&doc, COPY_BEGIN, COPY_END, REAL_END, &section("1 s"));
        assert!(
            first.find("1 s").unwrap() < first.find(REAL_END).unwrap(),
            "{first}"
        );
        let second = with_marked_section(&first, COPY_BEGIN, COPY_END, REAL_END, &section("2 s"));
        assert!(
            second.contains("2 s") && !second.contains("1 s"),
            "{second}"
        );
        assert_eq!(second.matches(COPY_BEGIN).count(), 1);
    }

    #[test]
    fn nodes_sort_in_natural_order() {
        let mut names = vec!["node-10", "node-9", "node-0100", "node-011", "a", "node-9b"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["a", "node-9", "node-9b", "node-10", "node-011", "node-0100"]
        );
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(5000), "5,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn fanout_sizes_are_subsets_then_every_node() {
        let sizes = fanout_sizes("all, 1000,100", 5000);
        assert_eq!(
            sizes
                .iter()
                .map(|s| (s.nodes, s.selector.as_str(), s.all))
                .collect::<Vec<_>>(),
            [
                (100, "type=kwok,toolbox.bench/first-100=true", false),
                (1000, "type=kwok,toolbox.bench/first-1000=true", false),
                (5000, "type=kwok", true),
            ]
        );
        // A subset as large as the cluster is every node, once.
        let sizes = fanout_sizes("100,1000,all", 300);
        assert_eq!(
            sizes.iter().map(|s| (s.nodes, s.all)).collect::<Vec<_>>(),
            [(100, false), (300, true)]
        );
    }
}
