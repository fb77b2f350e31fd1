//! `toolbox dump [NODE...|--all|-l SEL] [-o DIR|FILE.tar.gz]`: a diagnostic
//! bundle from many nodes at once (docs/dump.md). pkg/cluster's dump wing
//! collects, caps, redacts and writes it; this file checks the flags and
//! the spec before any request, draws the progress line and tells the end.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use clap_complete::engine::ArgValueCompleter;
use indicatif::{ProgressBar, ProgressStyle};
use toolbox_cluster::ClusterError;
use toolbox_cluster::dump::bundle::{Bundle, Destination};
use toolbox_cluster::dump::caps::Caps;
use toolbox_cluster::dump::index::{Index, ItemStatus, NodeEntry, NodeStatus, RunFacts};
use toolbox_cluster::dump::spec::Spec;
use toolbox_cluster::dump::{self, DumpError, DumpPlan, DumpProgress};
use toolbox_cluster::input::validation;
use toolbox_cluster::nodes::nodeset::fold;
use toolbox_podtemplate::{COMMAND_ANNOTATION, DUMP_ITEMS_ANNOTATION, REASON_ANNOTATION};

use crate::app::App;
use crate::exit::{AppError, ExitStatus, usage};
use crate::session::args::{FanoutArgs, PodArgs, SessionArgs, TargetArgs};
use crate::session::fanout::{DEFAULT_FANOUT, nothing_to_run_on};
use crate::session::pod::{DumpPodOptions, PodOptions, random_suffix};
use crate::session::preflight::{NodeUse, preflight};
use crate::settings::ANNOTATIONS_BUDGET;
use crate::{complete, values};

const DEFAULT_SINCE: &str = "1h";
const DEFAULT_MAX_PER_NODE: &str = "64MiB";
const DEFAULT_MAX_TOTAL: &str = "1GiB";

/// Collect a diagnostic bundle from many nodes at once: the kubelet's and the
/// runtime's logs, dmesg, the runtime's containers, disk and memory, the
/// kubelet's config, the pod-log listing, and the node object and its Events.
///
/// Each node is read by one short-lived pod of its own (privileged, in the
/// node's PID namespace, deleted when done and bounded by --ttl), one exec per
/// item. What is collected is the built-in list (docs/dump.md), or --spec's.
/// Each node's share and the whole run are capped; what a cap cut is named in
/// the bundle's index.json, with each item's size, sha256, and what failed.
/// Tokens, passwords and private keys are redacted before anything is
/// written, and the index says how many of each kind. A node that cannot be
/// collected fails alone: the bundle is still written, and the exit status
/// says so (6; 5 when only some items failed).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  toolbox dump --all\n  toolbox dump node-1 node-2 -o incident-42.tar.gz\n  toolbox dump -l node-role.kubernetes.io/worker --since 30m --max-per-node 16MiB\n  toolbox dump 'node-[01-40]' --spec my-spec.yaml -o ./bundle\n  toolbox dump node-1 --pod-logs"
)]
pub struct DumpArgs {
    /// The nodes: NAME or node/NAME, several, or a node set such as node-[01-20]
    #[arg(value_name = "NODE", add = ArgValueCompleter::new(complete::nodes))]
    pub nodes: Vec<String>,

    /// Every node matching this label selector
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "nodes", value_parser = values::parse_selector)]
    pub selector: Option<String>,

    /// Every node (with -l, every matching node)
    #[arg(long, conflicts_with = "nodes")]
    pub all: bool,

    /// Where to write the bundle: a new directory, or FILE.tar.gz [default: a new
    /// toolbox-dump-TIMESTAMP directory here]
    #[arg(short = 'o', long, value_name = "DIR|FILE.tar.gz")]
    pub output: Option<PathBuf>,

    /// The services' logs from this long ago on, e.g. 30m or 24h
    #[arg(long, value_name = "DURATION", default_value = DEFAULT_SINCE, value_parser = values::parse_duration)]
    pub since: Duration,

    /// What to collect, in YAML or JSON, instead of the built-in list (docs/dump.md)
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,

    /// Collect the contents of the pods' logs under /var/log/pods, not only their listing
    #[arg(long)]
    pub pod_logs: bool,

    /// The most read from one node; an item cut there is named in the index
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MAX_PER_NODE, value_parser = values::parse_size)]
    pub max_per_node: u64,

    /// The most read from all nodes together
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MAX_TOTAL, value_parser = values::parse_size)]
    pub max_total: u64,

    /// The pods' image; it needs busybox's applets and nsenter [default: the image setting]
    #[arg(long, value_name = "IMAGE", value_parser = values::parse_image)]
    pub image: Option<String>,

    #[command(flatten)]
    pub pod: PodArgs,

    #[command(flatten)]
    pub fanout: FanoutArgs,
}

impl DumpArgs {
    /// The session flags the pods are built from: dump's pods are never
    /// kept, persisting or recorded.
    fn session(&self) -> SessionArgs {
        SessionArgs {
            pod: self.pod.clone(),
            keep: false,
            persist: None,
            no_record: true,
            record_input: false,
        }
    }

    /// What the pods' audit annotation records after `dump`.
    fn audit_line(&self) -> Vec<String> {
        let mut line = self.nodes.clone();
        if self.all {
            line.push("--all".into());
        }
        if let Some(selector) = &self.selector {
            line.extend(["-l".into(), selector.clone()]);
        }
        line.extend([
            "--since".into(),
            humantime::format_duration(self.since).to_string(),
        ]);
        if let Some(spec) = &self.spec {
            line.extend(["--spec".into(), spec.display().to_string()]);
        }
        if self.pod_logs {
            line.push("--pod-logs".into());
        }
        line
    }
}

pub async fn run(args: DumpArgs, app: &App) -> Result<ExitStatus, AppError> {
    // Everything that can be refused is refused before any request.
    if args.nodes.is_empty() && !args.all && args.selector.is_none() {
        return Err(usage(
            "no nodes given: name them (NODE NODE..., or a node set such as node-[01-20]), or pass --all or -l SELECTOR",
        ));
    }
    let names = TargetArgs {
        nodes: args.nodes.clone(),
        ..TargetArgs::default()
    }
    .node_names()?;
    let spec = read_spec(&args)?;
    let audit_line = args.audit_line();
    check_annotations(&args, app, &audit_line, &spec)?;
    let now = SystemTime::now();
    let created_at = humantime::format_rfc3339_seconds(now).to_string();
    let destination = match &args.output {
        Some(path) => Destination::from_output(path),
        None => Destination::default_at(&created_at),
    };
    let bundle = Bundle::create(destination, &random_suffix()).map_err(|e| usage(e.to_string()))?;

    let filter = args.fanout.filter();
    let (cluster, user, targets) = preflight(app, NodeUse::Session, async |cluster| {
        cluster
            .fanout_targets(&names, args.selector.as_deref(), &filter)
            .await
            .map_err(AppError::from)
    })
    .await?;
    if targets.nodes.is_empty() {
        return Err(nothing_to_run_on(
            args.selector.as_deref(),
            &targets.skipped,
        ));
    }
    for (node, reason) in &targets.skipped {
        eprintln!("note: skipping node {node} ({reason})");
    }

    let pods = DumpPodOptions {
        pod: PodOptions::resolve(&args.session(), &app.settings),
        image: args
            .image
            .clone()
            .unwrap_or_else(|| app.settings.settings.image.clone()),
        namespace: cluster.namespace.clone(),
        user,
        audit_line,
        items: spec.lines(),
        start_timeout: args
            .pod
            .timeout
            .unwrap_or_else(|| app.settings.start_timeout()),
    };
    let pod_for = |node: &str| pods.session(node);
    let since_time = now.checked_sub(args.since).unwrap_or(UNIX_EPOCH);
    let nodes: Vec<String> = targets.nodes.iter().map(|n| n.name.clone()).collect();
    let plan = DumpPlan {
        spec: &spec,
        nodes: nodes.clone(),
        since_epoch: since_time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        fanout: args.fanout.fanout.map_or(DEFAULT_FANOUT, usize::from),
        caps: Caps {
            max_per_node: args.max_per_node,
            max_total: args.max_total,
        },
        command_timeout: args.fanout.command_timeout,
        pod_for: &pod_for,
        facts: RunFacts {
            context: cluster.context.clone(),
            spec: args
                .spec
                .as_ref()
                .map_or("built-in".to_string(), |p| p.display().to_string()),
            since: humantime::format_duration(args.since).to_string(),
            since_time: humantime::format_rfc3339_seconds(since_time).to_string(),
            pod_logs: args.pod_logs,
            namespace: cluster.namespace.clone(),
        },
        created_at,
    };
    let progress = Progress::new(nodes.len());
    let dumped = dump::run(&cluster, plan, bundle, &progress).await;
    progress.finish();
    let dumped = match dumped {
        Ok(dumped) => dumped,
        Err(DumpError::Interrupted { signal, left }) => {
            for left in left {
                eprintln!("warning: {}", crate::invocation::name_commands(&left));
            }
            eprintln!("no bundle written: the run was interrupted");
            return Err(ClusterError::Interrupted { signal }.into());
        }
        Err(DumpError::Cluster(err)) => return Err(err.into()),
        Err(DumpError::Bundle(err)) => return Err(anyhow::Error::from(err).into()),
    };
    eprint!("{}", summary(&dumped.index));
    outln!("{}", dumped.path.display());
    Ok(exit_status(&dumped.index))
}

/// The spec: `--spec`'s file (JSON when it ends in .json), else the
/// built-in one; with `--pod-logs`' item.
fn read_spec(args: &DumpArgs) -> Result<Spec, AppError> {
    let spec = match &args.spec {
        None => Spec::default_spec(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("--spec {}: {e}", path.display())))?;
            let json = path.extension().is_some_and(|ext| ext == "json");
            Spec::parse(&text, json)
                .map_err(|e| usage(format!("--spec {}: {e}", path.display())))?
        }
    };
    Ok(if args.pod_logs {
        spec.with_pod_logs()
    } else {
        spec
    })
}

/// The pods' annotations (the settings', --reason, the command line and
/// the items read) fit in what the API server takes.
fn check_annotations(
    args: &DumpArgs,
    app: &App,
    audit_line: &[String],
    spec: &Spec,
) -> Result<(), AppError> {
    let mut annotations = app.settings.settings.annotations.clone();
    if let Some(reason) = &args.pod.reason {
        annotations.insert(REASON_ANNOTATION.into(), reason.clone());
    }
    let command: Vec<&str> = std::iter::once("dump")
        .chain(audit_line.iter().map(String::as_str))
        .collect();
    annotations.insert(
        COMMAND_ANNOTATION.into(),
        serde_json::to_string(&command).map_err(anyhow::Error::from)?,
    );
    annotations.insert(
        DUMP_ITEMS_ANNOTATION.into(),
        serde_json::to_string(&spec.lines()).map_err(anyhow::Error::from)?,
    );
    validation::check_annotations(&annotations, ANNOTATIONS_BUDGET).map_err(|invalid| {
        usage(format!(
            "--reason, the command and the spec's items are recorded in the pods' annotations, with the annotations setting: {invalid}"
        ))
    })
}

/// 6 when some node could not be collected, else 5 when some item failed,
/// else 0: a fan-out run's statuses (docs/fan-out.md).
fn exit_status(index: &Index) -> ExitStatus {
    if index.totals.nodes_failed > 0 {
        ExitStatus::NodesNotRun
    } else if index.totals.items_failed > 0 {
        ExitStatus::CommandsFailed
    } else {
        ExitStatus::Success
    }
}

/// How the run went, on stderr: the counts, then the failed nodes grouped
/// by reason, the failed items, and what the caps cut.
fn summary(index: &Index) -> String {
    let totals = &index.totals;
    let mut text = format!(
        "{} node{}: {} collected, {} could not be collected; {} items, {} truncated, {} failed, {} missing, {} skipped; {} read, {} written, {} redacted\n",
        totals.nodes,
        if totals.nodes == 1 { "" } else { "s" },
        totals.nodes_collected,
        totals.nodes_failed,
        totals.items,
        totals.items_truncated,
        totals.items_failed,
        totals.items_missing,
        totals.items_skipped,
        human_bytes(totals.bytes_read),
        human_bytes(totals.bytes_written),
        totals.redactions,
    );
    let mut groups: Vec<(String, Vec<String>, String)> = Vec::new();
    for node in index
        .nodes
        .iter()
        .filter(|n| n.status == NodeStatus::Failed)
    {
        let Some(error) = &node.error else { continue };
        match groups
            .iter_mut()
            .find(|(reason, _, _)| *reason == error.reason)
        {
            Some((_, nodes, _)) => nodes.push(node.name.clone()),
            None => groups.push((
                error.reason.clone(),
                vec![node.name.clone()],
                error.message.clone(),
            )),
        }
    }
    for (reason, nodes, message) in groups {
        text.push_str(&format!(
            "  could not be collected ({reason}): {}: {message}\n",
            fold(&nodes)
        ));
    }
    for node in &index.nodes {
        for item in node.items.iter().filter(|i| i.status == ItemStatus::Failed) {
            text.push_str(&format!(
                "  failed: {}/{}: {}\n",
                node.name,
                item.name,
                item.error.as_deref().unwrap_or("failed")
            ));
        }
    }
    let mut capped: Vec<(&str, Vec<String>)> = Vec::new();
    for hit in &index.capped {
        let flag = hit.cap.flag();
        let what = format!("{}/{}", hit.node, hit.item);
        match capped.iter_mut().find(|(f, _)| *f == flag) {
            Some((_, list)) => list.push(what),
            None => capped.push((flag, vec![what])),
        }
    }
    for (flag, items) in capped {
        let shown: Vec<&str> = items.iter().take(5).map(String::as_str).collect();
        let more = items.len().saturating_sub(shown.len());
        text.push_str(&format!(
            "  cut or left out at {flag}: {}{}\n",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more (index.json's capped)")
            } else {
                String::new()
            }
        ));
    }
    for node in &index.nodes {
        if let Some(left) = &node.pod_left {
            text.push_str(&format!(
                "warning: {}\n",
                crate::invocation::name_commands(left)
            ));
        }
    }
    text
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n if n < 1024 * 1024 * 1024 => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
        n => format!("{:.2} GiB", n as f64 / (1024.0 * 1024.0 * 1024.0)),
    }
}

/// The progress line on a terminal's stderr: nodes done and bytes read;
/// nothing elsewhere.
struct Progress {
    bar: Option<ProgressBar>,
    bytes: AtomicU64,
}

impl Progress {
    fn new(nodes: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(nodes as u64);
            bar.set_style(
                ProgressStyle::with_template("{spinner} dump: {pos}/{len} nodes done, {msg} read")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(human_bytes(0));
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            bytes: AtomicU64::new(0),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl DumpProgress for Progress {
    fn bytes(&self, bytes: u64) {
        let total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if let Some(bar) = &self.bar {
            bar.set_message(human_bytes(total));
        }
    }

    fn node_done(&self, _node: &NodeEntry) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolbox_cluster::dump::caps::Cap;
    use toolbox_cluster::dump::index::{ItemEntry, NodeError};

    #[test]
    fn the_summary_names_failed_nodes_items_and_caps_and_sets_the_exit_status() {
        let facts = RunFacts {
            context: "c".into(),
            spec: "built-in".into(),
            since: "1h".into(),
            since_time: "t".into(),
            pod_logs: false,
            namespace: "default".into(),
        };
        let node = |name: &str, status, items| NodeEntry {
            name: name.into(),
            status,
            pod: None,
            error: (status == NodeStatus::Failed).then(|| NodeError {
                reason: "ErrImagePull".into(),
                message: "pod p could not start".into(),
            }),
            pod_left: None,
            bytes_read: 0,
            items,
        };
        let cut = ItemEntry {
            truncated: true,
            cap: Some(Cap::PerNode),
            ..ItemEntry::new("kubelet.log".into(), "s".into(), ItemStatus::Truncated)
        };
        let failed = ItemEntry {
            error: Some("exit 1: dmesg: denied".into()),
            ..ItemEntry::new("dmesg.txt".into(), "s".into(), ItemStatus::Failed)
        };
        let caps = Caps {
            max_per_node: 1,
            max_total: 1,
        };
        let index = Index::new(
            "t".into(),
            facts.clone(),
            caps,
            vec![
                node("n-1", NodeStatus::Collected, vec![cut.clone(), failed]),
                node("n-2", NodeStatus::Failed, vec![]),
                node("n-3", NodeStatus::Failed, vec![]),
            ],
        );
        let text = summary(&index);
        assert!(
            text.starts_with(
                "3 nodes: 1 collected, 2 could not be collected; 2 items, 1 truncated, 1 failed"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "  could not be collected (ErrImagePull): n-[2-3]: pod p could not start\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  failed: n-1/dmesg.txt: exit 1: dmesg: denied\n"),
            "{text}"
        );
        assert!(
            text.contains("  cut or left out at --max-per-node: n-1/kubelet.log\n"),
            "{text}"
        );
        assert_eq!(exit_status(&index), ExitStatus::NodesNotRun);
        let only_items = Index::new(
            "t".into(),
            facts.clone(),
            caps,
            vec![node(
                "n-1",
                NodeStatus::Collected,
                vec![ItemEntry {
                    error: Some("x".into()),
                    ..ItemEntry::new("a".into(), "s".into(), ItemStatus::Failed)
                }],
            )],
        );
        assert_eq!(exit_status(&only_items), ExitStatus::CommandsFailed);
        let fine = Index::new(
            "t".into(),
            facts,
            caps,
            vec![node("n-1", NodeStatus::Collected, vec![cut])],
        );
        assert_eq!(exit_status(&fine), ExitStatus::Success);
        assert_eq!(human_bytes(1536), "1.5 KiB");
    }
}
