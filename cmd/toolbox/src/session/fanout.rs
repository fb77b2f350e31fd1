//! One command on many nodes, for node-shell and debug-node: the checks
//! before any request, the pre-flight ([`super::preflight::preflight`])
//! with the run's nodes, how the run's events are printed (prefixed lines,
//! gathered groups, JSON or YAML), the summary, and the exit status. The
//! run itself is pkg/cluster's `run_fanout`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::ProgressBar;
use serde::Serialize;
use toolbox_cluster::fanout::{
    FanoutEvents, FanoutReport, FanoutSpec, NodeOutcome, NodeSession, OutputStream, TargetFilter,
};
use toolbox_cluster::nodeset::{self, fold};
use toolbox_cluster::{ClusterContext, ClusterError, TargetNode};

use super::args::{FanoutArgs, SessionArgs, TargetArgs};
use super::pod::random_suffix;
use super::preflight::{NodeUse, preflight};
use super::spinner::terminal_spinner;
use crate::app::App;
use crate::exit::{AppError, ExitStatus, usage};

/// How many nodes run at once by default: see "Fan-out width" in
/// docs/fan-out.md for why.
pub const DEFAULT_FANOUT: usize = 64;

/// What node-shell or debug-node hands over for a run.
pub struct RunInputs<'a> {
    pub target: &'a TargetArgs,
    pub session: &'a SessionArgs,
    pub command: &'a [String],
    /// "node-shell", "debug-node --profile sysadmin".
    pub what: String,
}

/// Checks what can be checked before any request, and returns the nodes
/// named (none for `--all`).
fn check(inputs: &RunInputs<'_>) -> Result<Vec<String>, AppError> {
    if inputs.command.is_empty() {
        return Err(usage(
            "a command is required on several nodes (there is no shell on many nodes at once): add -- COMMAND",
        ));
    }
    if inputs.session.persist.is_some() {
        return Err(usage(
            "--persist takes one node: a run's pods are deleted when it ends",
        ));
    }
    if inputs.session.keep {
        return Err(usage(
            "--keep takes one node: a run's pods are deleted when it ends",
        ));
    }
    if inputs.target.nodes.is_empty() && !inputs.target.all {
        return Err(usage(
            "no nodes given: name them (NODE NODE..., or a node set such as node-[01-20]), or pass --all (with -l SELECTOR for some)",
        ));
    }
    inputs.target.node_names()
}

/// Runs the command on every targeted node and prints it all.
/// `session_for` builds a node's pod and command, as the single-node
/// command would.
pub async fn run(
    app: &App,
    inputs: RunInputs<'_>,
    session_for: impl Fn(&ClusterContext, &TargetNode, &str) -> Result<NodeSession, AppError> + Sync,
) -> Result<ExitStatus, AppError> {
    let names = check(&inputs)?;
    let target = inputs.target;
    let filter = TargetFilter {
        include_not_ready: target.fanout.include_not_ready,
        include_cordoned: target.fanout.include_cordoned,
        os: match target.fanout.os.as_deref() {
            Some("any") => None,
            Some(os) => Some(os.to_string()),
            None => Some("linux".into()),
        },
    };
    let (cluster, user, targets) = preflight(app, NodeUse::Session, async |cluster| {
        cluster
            .fanout_targets(&names, target.selector.as_deref(), &filter)
            .await
            .map_err(AppError::from)
    })
    .await?;
    if targets.nodes.is_empty() {
        return Err(nothing_to_run_on(target, &targets.skipped));
    }

    // A pod the template refuses (a bad --custom) is refused for every
    // node: found on the first, before anything is created.
    session_for(&cluster, &targets.nodes[0], &user)?;
    // Each node's pod is built when its turn comes, so that memory follows
    // the fan-out width rather than the node count.
    let session_for_index =
        |i: usize| session_for(&cluster, &targets.nodes[i], &user).map_err(|err| err.to_string());
    let node_names: Vec<String> = targets.nodes.iter().map(|n| n.name.clone()).collect();
    let mode = Mode::from(&target.fanout);
    let printer = Arc::new(Printer::new(mode, node_names.len()));
    let spec = FanoutSpec {
        run_id: random_suffix(),
        nodes: node_names.clone(),
        session_for: &session_for_index,
        fanout: target.fanout.fanout.map_or(DEFAULT_FANOUT, usize::from),
        start_timeout: inputs
            .session
            .timeout
            .unwrap_or_else(|| app.settings.start_timeout()),
        command_timeout: target.fanout.command_timeout,
        what: inputs.what.clone(),
    };
    let report = cluster.run_fanout(spec, printer.clone()).await;
    printer.finish_progress();
    finish(&printer, &node_names, &targets.skipped, report?)
}

fn nothing_to_run_on(target: &TargetArgs, skipped: &[(String, String)]) -> AppError {
    let what = match (&target.selector, skipped.is_empty()) {
        (Some(selector), true) => format!("no node matches -l {selector}"),
        (None, true) => "no node to run on".to_string(),
        (selector, false) => {
            let reasons: Vec<String> = skipped_groups(skipped)
                .iter()
                .map(|(reason, nodes)| {
                    format!("{reason}: {}; {}", fold(nodes), include_hint(reason))
                })
                .collect();
            format!(
                "all {} nodes{} are skipped ({})",
                skipped.len(),
                selector
                    .as_ref()
                    .map(|s| format!(" matching -l {s}"))
                    .unwrap_or_default(),
                reasons.join("; ")
            )
        }
    };
    ClusterError::NoNodes { what }.into()
}

/// The flag that runs on nodes skipped for `reason`.
fn include_hint(reason: &str) -> &'static str {
    match reason {
        "NotReady" => "--include-not-ready runs on them",
        "cordoned" => "--include-cordoned runs on them",
        _ => "--os any runs on every OS",
    }
}

/// Skipped nodes by reason.
fn skipped_groups(skipped: &[(String, String)]) -> Vec<(String, Vec<String>)> {
    grouped(
        skipped
            .iter()
            .map(|(node, reason)| (reason.clone(), node.clone())),
    )
}

/// Values grouped by key, in the order each key first appears.
fn grouped<K: PartialEq, V>(items: impl IntoIterator<Item = (K, V)>) -> Vec<(K, Vec<V>)> {
    let mut groups: Vec<(K, Vec<V>)> = Vec::new();
    for (key, value) in items {
        match groups.iter_mut().find(|(known, _)| *known == key) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    groups
}

/// Prints what only the end can tell (gathered groups, the document, the
/// summary) and turns the run into toolbox's exit status.
fn finish(
    printer: &Printer,
    nodes: &[String],
    skipped: &[(String, String)],
    report: FanoutReport,
) -> Result<ExitStatus, AppError> {
    // Refused before any node ran (PodSecurity, RBAC): the error alone says it.
    let nothing_ran = !report
        .outcomes
        .iter()
        .any(|outcome| matches!(outcome, NodeOutcome::Exited(_)));
    if nothing_ran
        && report.left.is_none()
        && let Some(err) = report.aborted
    {
        return Err(err.into());
    }
    let summary = Summary::new(nodes, &report.outcomes, skipped);
    match &printer.mode {
        Mode::Stream => {}
        Mode::Gather => print_gathered(printer),
        Mode::Document(format) => {
            print_document(printer, nodes, &report.outcomes, &summary, format)?
        }
    }
    eprint!("{}", summary.render());
    if let Some(left) = &report.left {
        eprintln!(
            "warning: {}",
            crate::invocation::name_commands(&left.to_string())
        );
    }
    if let Some(err) = report.aborted {
        return Err(err.into());
    }
    if let Some(signal) = report.interrupted {
        return Err(ClusterError::Interrupted { signal }.into());
    }
    Ok(summary.exit_status())
}

/// How the run's output is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// Each line as it comes, as `NODE: line`.
    Stream,
    /// Identical outputs once, under their node set, at the end.
    Gather,
    /// One JSON or YAML document at the end.
    Document(String),
}

impl From<&FanoutArgs> for Mode {
    fn from(args: &FanoutArgs) -> Mode {
        match (&args.output, args.gather) {
            (Some(format), _) => Mode::Document(format.clone()),
            (None, true) => Mode::Gather,
            (None, false) => Mode::Stream,
        }
    }
}

/// One node's output, kept for `--gather` and `-o`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Receives the run's events and prints them as the mode asks. Output is
/// kept only for the nodes still running, then, for `--gather`, once per
/// distinct output; for a document, per node.
struct Printer {
    mode: Mode,
    progress: Option<ProgressBar>,
    counts: Mutex<Counts>,
    running: Mutex<HashMap<String, Output>>,
    /// Distinct outputs and the nodes that gave each (`--gather`).
    groups: Mutex<HashMap<Output, Vec<String>>>,
    /// Every node's output (`-o`).
    outputs: Mutex<HashMap<String, Output>>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    started: usize,
    running: usize,
    done: usize,
    failed: usize,
}

impl Printer {
    fn new(mode: Mode, total: usize) -> Printer {
        let progress = terminal_spinner();
        let printer = Printer {
            mode,
            progress,
            counts: Mutex::new(Counts {
                total,
                ..Counts::default()
            }),
            running: Mutex::default(),
            groups: Mutex::default(),
            outputs: Mutex::default(),
        };
        printer.show_progress(
            &printer
                .counts
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        printer
    }

    fn show_progress(&self, counts: &Counts) {
        if let Some(bar) = &self.progress {
            bar.set_message(format!(
                "{}/{} started, {} running, {} done, {} failed",
                counts.started, counts.total, counts.running, counts.done, counts.failed
            ));
        }
    }

    fn count(&self, change: impl FnOnce(&mut Counts)) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut counts);
        self.show_progress(&counts);
    }

    fn finish_progress(&self) {
        if let Some(bar) = &self.progress {
            bar.finish_and_clear();
        }
    }

    /// Writes with the progress line out of the way.
    fn write(&self, stream: OutputStream, bytes: &[u8]) {
        let write = || {
            let _ = match stream {
                OutputStream::Stdout => std::io::stdout().lock().write_all(bytes),
                OutputStream::Stderr => std::io::stderr().lock().write_all(bytes),
            };
        };
        match &self.progress {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

impl FanoutEvents for Printer {
    fn note(&self, line: &str) {
        self.write(OutputStream::Stderr, format!("{line}\n").as_bytes());
    }

    fn created(&self, _: &str) {
        self.count(|c| c.started += 1);
    }

    fn running(&self, _: &str) {
        self.count(|c| c.running += 1);
    }

    fn line(&self, node: &str, stream: OutputStream, line: &[u8]) {
        if self.mode == Mode::Stream {
            // One write per line, so that lines of different nodes never mix.
            let mut text = Vec::with_capacity(node.len() + line.len() + 3);
            text.extend_from_slice(node.as_bytes());
            text.extend_from_slice(b": ");
            text.extend_from_slice(line);
            text.push(b'\n');
            self.write(stream, &text);
            return;
        }
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let output = running.entry(node.to_string()).or_default();
        let buffer = match stream {
            OutputStream::Stdout => &mut output.stdout,
            OutputStream::Stderr => &mut output.stderr,
        };
        buffer.extend_from_slice(line);
        buffer.push(b'\n');
    }

    fn finished(&self, node: &str, outcome: &NodeOutcome) {
        let ran = matches!(outcome, NodeOutcome::Exited(_));
        let failed = !matches!(outcome, NodeOutcome::Exited(0));
        self.count(|c| {
            if ran {
                c.running = c.running.saturating_sub(1);
            }
            c.done += 1;
            if failed {
                c.failed += 1;
            }
        });
        let output = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(node)
            .unwrap_or_default();
        match (&self.mode, outcome) {
            // Nodes a stopped run never got to, or stopped, are for the
            // summary alone: one line each would bury the reason.
            (Mode::Stream, stopped) if stopped.stopped_by_run() => {}
            (Mode::Stream, NodeOutcome::NotRun { message, .. }) => {
                self.write(
                    OutputStream::Stderr,
                    format!("{node}: toolbox: {message}\n").as_bytes(),
                );
            }
            (Mode::Stream, NodeOutcome::Exited(_)) => {}
            (Mode::Gather, NodeOutcome::Exited(_)) => self
                .groups
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(output)
                .or_default()
                .push(node.to_string()),
            // A node that never ran has no output to gather: the summary
            // lists it.
            (Mode::Gather, NodeOutcome::NotRun { .. }) => {}
            (Mode::Document(_), _) => {
                self.outputs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(node.to_string(), output);
            }
        }
    }
}

/// dshbak's and clush -b's layout: each distinct output once, under the
/// folded set of nodes that gave it, largest group first.
fn print_gathered(printer: &Printer) {
    let groups = std::mem::take(
        &mut *printer
            .groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    let mut groups: Vec<(String, usize, Output)> = groups
        .into_iter()
        .map(|(output, nodes)| (fold(&nodes), nodes.len(), output))
        .collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| nodeset::natural_cmp(&a.0, &b.0)));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (nodes, count, output) in groups {
        let header = format!("{nodes} ({count})");
        let rule = "-".repeat(header.len().min(78));
        let _ = writeln!(out, "{rule}\n{header}\n{rule}");
        let _ = out.write_all(&output.stdout);
        let _ = out.flush();
        if !output.stderr.is_empty() {
            let stderr = std::io::stderr();
            let mut err = stderr.lock();
            let _ = err.write_all(&output.stderr);
            let _ = err.flush();
        }
    }
}

/// The `-o json|yaml` document.
#[derive(Debug, Serialize)]
struct Document<'a> {
    nodes: Vec<NodeDocument<'a>>,
    summary: &'a Summary,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeDocument<'a> {
    node: &'a str,
    exit_code: Option<i32>,
    stdout: String,
    stderr: String,
    error: Option<&'a str>,
}

fn print_document(
    printer: &Printer,
    nodes: &[String],
    outcomes: &[NodeOutcome],
    summary: &Summary,
    format: &str,
) -> Result<(), AppError> {
    let mut outputs = std::mem::take(
        &mut *printer
            .outputs
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    let document = Document {
        nodes: nodes
            .iter()
            .zip(outcomes)
            .map(|(node, outcome)| {
                let output = outputs.remove(node).unwrap_or_default();
                let (exit_code, error) = match outcome {
                    NodeOutcome::Exited(code) => (Some(*code), None),
                    NodeOutcome::NotRun { message, .. } => (None, Some(message.as_str())),
                };
                NodeDocument {
                    node,
                    exit_code,
                    stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                    error,
                }
            })
            .collect(),
        summary,
    };
    let text = if format == "yaml" {
        serde_yaml::to_string(&document).map_err(anyhow::Error::from)?
    } else {
        let mut text = serde_json::to_string_pretty(&document).map_err(anyhow::Error::from)?;
        text.push('\n');
        text
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(())
}

/// How the run went, by outcome, with folded node sets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    /// Nodes the command was to run on (skipped ones aside).
    nodes: usize,
    succeeded: usize,
    failed: usize,
    not_run: usize,
    skipped: usize,
    groups: Vec<Group>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Group {
    /// succeeded, failed, notRun or skipped.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The first node's error, for nodes that did not run the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    count: usize,
    nodes: String,
}

impl Summary {
    fn new(nodes: &[String], outcomes: &[NodeOutcome], skipped: &[(String, String)]) -> Summary {
        let mut succeeded = Vec::new();
        let mut failed = Vec::new();
        let mut not_run = Vec::new();
        for (node, outcome) in nodes.iter().zip(outcomes) {
            match outcome {
                NodeOutcome::Exited(0) => succeeded.push(node.clone()),
                NodeOutcome::Exited(code) => failed.push((*code, node.clone())),
                NodeOutcome::NotRun { reason, message } => {
                    not_run.push((reason.clone(), (node.clone(), message.clone())))
                }
            }
        }
        let mut failed = grouped(failed);
        failed.sort_by_key(|(_, nodes)| std::cmp::Reverse(nodes.len()));
        let mut not_run = grouped(not_run);
        not_run.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
        let group = |outcome, nodes: &[String]| Group {
            outcome,
            exit_code: None,
            reason: None,
            message: None,
            count: nodes.len(),
            nodes: fold(nodes),
        };
        let mut groups = Vec::new();
        if !succeeded.is_empty() {
            groups.push(group("succeeded", &succeeded));
        }
        for (code, nodes) in &failed {
            groups.push(Group {
                exit_code: Some(*code),
                ..group("failed", nodes)
            });
        }
        for (reason, members) in &not_run {
            let nodes: Vec<String> = members.iter().map(|(node, _)| node.clone()).collect();
            groups.push(Group {
                reason: Some(reason.clone()),
                // The first node's message stands for the group's.
                message: members.first().map(|(_, message)| message.clone()),
                ..group("notRun", &nodes)
            });
        }
        for (reason, nodes) in skipped_groups(skipped) {
            groups.push(Group {
                reason: Some(reason),
                ..group("skipped", &nodes)
            });
        }
        Summary {
            nodes: nodes.len(),
            succeeded: succeeded.len(),
            failed: failed.iter().map(|(_, n)| n.len()).sum(),
            not_run: not_run.iter().map(|(_, n)| n.len()).sum(),
            skipped: skipped.len(),
            groups,
        }
    }

    /// 0 when every node ran the command with status 0; else 6 when some
    /// could not run it, else 5 (see docs/fan-out.md).
    fn exit_status(&self) -> ExitStatus {
        if self.not_run > 0 {
            ExitStatus::NodesNotRun
        } else if self.failed > 0 {
            ExitStatus::CommandsFailed
        } else {
            ExitStatus::Success
        }
    }

    /// The summary as people read it, on stderr.
    fn render(&self) -> String {
        let mut text = format!(
            "{} node{}: {} succeeded, {} failed, {} could not run",
            self.nodes,
            if self.nodes == 1 { "" } else { "s" },
            self.succeeded,
            self.failed,
            self.not_run
        );
        if self.skipped > 0 {
            text.push_str(&format!("; {} skipped", self.skipped));
        }
        text.push('\n');
        for group in &self.groups {
            let label = match (group.outcome, group.exit_code, &group.reason) {
                ("failed", Some(code), _) => format!("exit {code}"),
                ("notRun", _, Some(reason)) => format!("could not run ({reason})"),
                ("skipped", _, Some(reason)) => format!("skipped ({reason})"),
                (outcome, _, _) => outcome.to_string(),
            };
            text.push_str(&format!("  {label}: {}", group.nodes));
            match (group.outcome, &group.message, &group.reason) {
                ("notRun", Some(message), _) => text.push_str(&format!(": {message}")),
                ("skipped", _, Some(reason)) => {
                    text.push_str(&format!("; {}", include_hint(reason)))
                }
                _ => {}
            }
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_summary_groups_nodes_by_outcome_and_sets_the_exit_status() {
        let nodes = names(&["n-01", "n-02", "n-03", "n-04", "n-05"]);
        let pull = NodeOutcome::NotRun {
            reason: "ImagePullBackOff".into(),
            message: "pod p could not start: ImagePullBackOff".into(),
        };
        let outcomes = vec![
            NodeOutcome::Exited(0),
            NodeOutcome::Exited(0),
            NodeOutcome::Exited(3),
            pull,
            NodeOutcome::Exited(0),
        ];
        let skipped = vec![("n-06".to_string(), "NotReady".to_string())];
        let summary = Summary::new(&nodes, &outcomes, &skipped);
        assert_eq!(
            summary.render(),
            "5 nodes: 3 succeeded, 1 failed, 1 could not run; 1 skipped\n  succeeded: n-[01-02,05]\n  exit 3: n-03\n  could not run (ImagePullBackOff): n-04: pod p could not start: ImagePullBackOff\n  skipped (NotReady): n-06; --include-not-ready runs on them\n"
        );
        assert_eq!(summary.exit_status(), ExitStatus::NodesNotRun);
        let failed_only = Summary::new(&nodes[..3], &outcomes[..3], &[]);
        assert_eq!(failed_only.exit_status(), ExitStatus::CommandsFailed);
        let all_good = Summary::new(&nodes[..2], &outcomes[..2], &skipped);
        assert_eq!(all_good.exit_status(), ExitStatus::Success);
    }

    #[test]
    fn nothing_to_run_on_says_why_and_how_to_include_the_skipped() {
        let target = TargetArgs {
            selector: Some("pool=gpu".into()),
            all: true,
            ..Default::default()
        };
        assert_eq!(
            nothing_to_run_on(&target, &[]).to_string(),
            "no node matches -l pool=gpu"
        );
        let skipped = vec![
            ("gpu-01".to_string(), "NotReady".to_string()),
            ("gpu-02".to_string(), "NotReady".to_string()),
            ("gpu-03".to_string(), "cordoned".to_string()),
        ];
        assert_eq!(
            nothing_to_run_on(&target, &skipped).to_string(),
            "all 3 nodes matching -l pool=gpu are skipped (NotReady: gpu-[01-02]; --include-not-ready runs on them; cordoned: gpu-03; --include-cordoned runs on them)"
        );
    }
}
