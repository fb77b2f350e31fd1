//! One fan-out run over the nodes of several clusters (`--context A
//! --context B`, `--contexts GLOB`, `--all-contexts`), for node-shell and
//! debug-node, driven by [`run`] in this order:
//!
//! 1. Each context's pre-flight, [`PREFLIGHTS_AT_ONCE`] at a time: its own
//!    connection and credentials (a credential plugin runs once per
//!    context), version check, identity, targets and session access, as
//!    [`super::preflight::preflight_connected`] does for one cluster. A
//!    context that fails it is set apart with its reason; the others go on.
//! 2. The pod template, checked once on the first node: it is the same
//!    everywhere.
//! 3. One pkg/cluster `session::fanout::run` per cluster at the same time,
//!    the `--fanout` width split between them ([`split_width`]), their
//!    events going to one [`Printer`] with each node named `CONTEXT/NODE`.
//! 4. The end: gathered groups (folded across clusters) or one document (a
//!    `context` on every node), a summary per cluster
//!    ([`render_summaries`]) and the exit status ([`exit_status`]).
//!
//! [`fan_out`] is what node-shell and debug-node call for a run: this one
//! when the flags name several contexts, else [`super::fanout::run`], on
//! one cluster as it was.

use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use serde::Serialize;
use toolbox_cluster::nodes::Targets;
use toolbox_cluster::session::fanout::{
    self, FanoutEvents, FanoutReport, FanoutSpec, NodeOutcome, OutputStream,
};
use toolbox_cluster::signals::Signals;
use toolbox_cluster::{ClusterContext, ClusterError, Signal, TargetNode};

use super::fanout::{DEFAULT_FANOUT, NodePod, RunInputs, RunShape, check, nothing_to_run_on};
use super::pod::random_suffix;
use super::preflight::{NodeUse, preflight_connected};
use super::printer::{Mode, NodeDocument, Printer, print_gathered};
use super::summary::Summary;
use crate::app::App;
use crate::contexts::selected_contexts;
use crate::exit::{AppError, ExitStatus};

/// How many contexts connect and check at once: each may run a credential
/// plugin (a process, often a cloud CLI of a few hundred MiB), and the
/// pre-flight's requests are few, so a handful at a time keeps the machine
/// responsive without making a dozen clusters wait long.
const PREFLIGHTS_AT_ONCE: usize = 8;

/// A cluster that passed its pre-flight and has nodes to run on.
struct ReadyCluster {
    context: String,
    cluster: ClusterContext,
    user: String,
    targets: Targets,
    node_names: Vec<String>,
}

/// How one context's part of the run ended.
#[derive(Debug)]
pub enum ContextEnd {
    /// Its nodes ran as the summary says; `stopped` is an error that
    /// stopped its run after some nodes had run.
    Ran {
        summary: Summary,
        stopped: Option<String>,
    },
    /// No node to run on there: none matched, or every one was skipped.
    /// Nothing failed.
    NothingToRunOn(String),
    /// The cluster could not run the command: unreachable, credentials
    /// refused, RBAC, a named node missing, its pods refused.
    Failed(AppError),
}

/// One context and how its part ended, in the order of the contexts.
#[derive(Debug)]
pub struct ContextResult {
    pub context: String,
    pub end: ContextEnd,
}

/// A run on many nodes: on the clusters of several contexts when the flags
/// name them, else on the one cluster ([`super::fanout::run`]).
pub async fn fan_out(
    app: &App,
    inputs: RunInputs<'_>,
    session_for: impl Fn(&ClusterContext, &TargetNode, &str) -> Result<NodePod, AppError> + Sync,
) -> Result<ExitStatus, AppError> {
    match selected_contexts(app, inputs.contexts)? {
        Some(contexts) => run(app, inputs, contexts, session_for).await,
        None => super::fanout::run(app, inputs, session_for).await,
    }
}

/// Runs the command on the targeted nodes of every context, each cluster
/// failing alone, and prints it all.
async fn run(
    app: &App,
    inputs: RunInputs<'_>,
    contexts: Vec<String>,
    session_for: impl Fn(&ClusterContext, &TargetNode, &str) -> Result<NodePod, AppError> + Sync,
) -> Result<ExitStatus, AppError> {
    let names = check(&inputs)?;
    let target = inputs.target;
    let filter = target.fanout.filter();
    let mode = Mode::from(&target.printed);
    let selector = target.selector.as_deref();

    let preflights: Vec<(String, Result<_, AppError>)> =
        futures::stream::iter(contexts.into_iter().map(|context| {
            let (names, filter) = (&names, &filter);
            async move {
                let found = async {
                    let cluster = app.connect_to(&context).await?;
                    preflight_connected(
                        cluster,
                        Some(&context),
                        NodeUse::Session,
                        async |cluster| {
                            cluster
                                .fanout_targets(names, selector, filter)
                                .await
                                .map_err(AppError::from)
                        },
                    )
                    .await
                }
                .await;
                (context, found)
            }
        }))
        .buffered(PREFLIGHTS_AT_ONCE)
        .collect()
        .await;

    // Each context's place in the results, filled as its part ends.
    let mut ends: Vec<(String, Option<ContextEnd>)> = Vec::new();
    let mut ready: Vec<(usize, ReadyCluster)> = Vec::new();
    for (context, found) in preflights {
        let place = ends.len();
        match found {
            Err(err) => {
                if mode == Mode::Stream {
                    eprintln!("{context}: toolbox: {err}");
                }
                ends.push((context, Some(ContextEnd::Failed(err))));
            }
            Ok((_, _, targets)) if targets.nodes.is_empty() => {
                let why = nothing_to_run_on(selector, &targets.skipped).to_string();
                ends.push((context, Some(ContextEnd::NothingToRunOn(why))));
            }
            Ok((cluster, user, targets)) => {
                let node_names = targets.nodes.iter().map(|n| n.name.clone()).collect();
                ends.push((context.clone(), None));
                ready.push((
                    place,
                    ReadyCluster {
                        context,
                        cluster,
                        user,
                        targets,
                        node_names,
                    },
                ));
            }
        }
    }
    let Some((_, first)) = ready.first() else {
        return Err(none_could_run(ends));
    };
    // A pod the template refuses (a bad --custom) is refused for every
    // node of every cluster: found on the first, before anything is created.
    session_for(&first.cluster, &first.targets.nodes[0], &first.user)?;

    let total: usize = ready.iter().map(|(_, r)| r.node_names.len()).sum();
    let printer = Arc::new(Printer::new(mode.clone(), total));
    let width = target.fanout.fanout.map_or(DEFAULT_FANOUT, usize::from);
    let counts: Vec<usize> = ready.iter().map(|(_, r)| r.node_names.len()).collect();
    let widths = split_width(width, &counts);
    // One id for the run in every cluster: its pods are found by the same
    // label wherever they are.
    let run_id = random_suffix();
    let start_timeout = inputs
        .session
        .pod
        .timeout
        .unwrap_or_else(|| app.settings.start_timeout());
    let session_for = &session_for;
    // Stream-less or exec'd as on one cluster (--stream, --no-stream,
    // --gather, -o).
    let shape = RunShape {
        streamless: target.streamless(),
        recorder_image: &app.settings.settings.recorder_image,
    };
    let shape = &shape;
    let stopped_by: Mutex<Option<Signal>> = Mutex::new(None);
    let stopped_by = &stopped_by;
    let runs = ready.iter().zip(widths).map(|((_, ready), width)| {
        let (printer, run_id, what) = (printer.clone(), run_id.clone(), inputs.what.clone());
        async move {
            // Each node's pod is built when its turn comes, as for one cluster.
            let session_for_index = |i: usize| {
                session_for(&ready.cluster, &ready.targets.nodes[i], &ready.user)
                    .map(|node| shape.session(node))
                    .map_err(|err| err.to_string())
            };
            let spec = FanoutSpec {
                run_id,
                nodes: ready.node_names.clone(),
                session_for: &session_for_index,
                fanout: width,
                start_timeout,
                command_timeout: target.fanout.command_timeout,
                what,
                // Each cluster's API server pushes back on its own; its
                // run's pace follows it alone.
                back_off: !target.fanout.no_back_off,
            };
            let events = Arc::new(InContext {
                context: ready.context.clone(),
                printer,
            });
            // A cluster still waiting its turn when a signal came (more
            // clusters than the width) never starts: the running ones
            // see the signal themselves.
            let interrupted = *stopped_by.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(signal) = interrupted {
                return Ok(FanoutReport::stopped_before_start(
                    ready.node_names.len(),
                    signal,
                ));
            }
            fanout::run(&ready.cluster, spec, events).await
        }
    });
    let mut signals = Signals::install().map_err(anyhow::Error::from)?;
    let mut runs =
        std::pin::pin!(futures::stream::iter(runs).buffered(width.min(ready.len()).max(1)));
    let mut reports = Vec::with_capacity(ready.len());
    loop {
        tokio::select! {
            next = runs.next() => match next {
                Some(report) => reports.push(report),
                None => break,
            },
            signal = signals.recv() => {
                stopped_by.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(signal);
            }
        }
    }
    printer.finish_progress();

    let mut interrupted: Option<Signal> = None;
    let mut warnings = Vec::new();
    let mut nodes_in_order: Vec<(usize, String, NodeOutcome)> = Vec::new();
    let mut prefixed_skipped = Vec::new();
    for ((place, ready), report) in ready.iter().zip(reports) {
        let report = match report {
            Ok(report) => report,
            Err(err) => {
                ends[*place].1 = Some(ContextEnd::Failed(err.into()));
                continue;
            }
        };
        interrupted = interrupted.or(report.interrupted);
        if let Some(left) = &report.left {
            warnings.push(format!("{}: {left}", ready.context));
        }
        let nothing_ran = !report
            .outcomes
            .iter()
            .any(|outcome| matches!(outcome, NodeOutcome::Exited(_)));
        let end = match report.aborted {
            // Refused before any node ran (PodSecurity, RBAC): the error
            // alone says it, as for one cluster.
            Some(err) if nothing_ran && report.left.is_none() => ContextEnd::Failed(err.into()),
            stopped => {
                let summary =
                    Summary::new(&ready.node_names, &report.outcomes, &ready.targets.skipped);
                nodes_in_order.extend(
                    ready
                        .node_names
                        .iter()
                        .cloned()
                        .zip(report.outcomes)
                        .map(|(node, outcome)| (*place, node, outcome)),
                );
                prefixed_skipped.extend(
                    ready
                        .targets
                        .skipped
                        .iter()
                        .map(|(node, why)| (format!("{}/{node}", ready.context), why.clone())),
                );
                ContextEnd::Ran {
                    summary,
                    stopped: stopped.map(|err| AppError::from(err).to_string()),
                }
            }
        };
        ends[*place].1 = Some(end);
    }
    let results: Vec<ContextResult> = ends
        .into_iter()
        .map(|(context, end)| ContextResult {
            context,
            end: end.unwrap_or(ContextEnd::NothingToRunOn(
                "the run stopped before it".to_string(),
            )),
        })
        .collect();

    match &mode {
        Mode::Stream => {}
        Mode::Gather => print_gathered(&printer),
        Mode::Document(format) => {
            let nodes: Vec<(&str, &str, &NodeOutcome)> = nodes_in_order
                .iter()
                .map(|(place, node, outcome)| {
                    (results[*place].context.as_str(), node.as_str(), outcome)
                })
                .collect();
            let document = document(&printer, &nodes, &prefixed_skipped, &results);
            out!("{}", crate::output::document(&document, format)?);
        }
    }
    eprint!("{}", render_summaries(&results));
    for warning in warnings {
        eprintln!("warning: {}", crate::invocation::name_commands(&warning));
    }
    if let Some(signal) = interrupted {
        return Err(ClusterError::Interrupted { signal }.into());
    }
    Ok(exit_status(&results))
}

/// Every context failed or had nothing to run on: the first failure, named
/// by its context, is the error (with its exit code, as for one cluster);
/// with no failure, that no context had a node to run on.
fn none_could_run(ends: Vec<(String, Option<ContextEnd>)>) -> AppError {
    let mut nothing = Vec::new();
    for (context, end) in ends {
        match end {
            Some(ContextEnd::Failed(error)) => {
                return AppError::InContext {
                    context,
                    error: Box::new(error),
                };
            }
            Some(ContextEnd::NothingToRunOn(why)) => nothing.push(format!("{context}: {why}")),
            _ => {}
        }
    }
    ClusterError::NoNodes {
        what: format!("no context has a node to run on ({})", nothing.join("; ")),
    }
    .into()
}

/// The events of one cluster's run, passed to the run's printer with its
/// nodes named `CONTEXT/NODE`, so that lines, gathered groups and the
/// progress count are the whole run's.
struct InContext {
    context: String,
    printer: Arc<Printer>,
}

impl InContext {
    fn name(&self, node: &str) -> String {
        format!("{}/{node}", self.context)
    }
}

impl FanoutEvents for InContext {
    fn created(&self, node: &str) {
        self.printer.created(&self.name(node));
    }

    fn running(&self, node: &str) {
        self.printer.running(&self.name(node));
    }

    fn line(&self, node: &str, stream: OutputStream, line: &[u8]) {
        self.printer.line(&self.name(node), stream, line);
    }

    fn finished(&self, node: &str, outcome: &NodeOutcome) {
        self.printer.finished(&self.name(node), outcome);
    }

    fn remark(&self, node: &str, remark: &str) {
        self.printer.remark(&self.name(node), remark);
    }

    fn note(&self, line: &str) {
        self.printer.note(&format!("{}: {line}", self.context));
    }
}

/// The `--fanout` width shared between clusters of these node counts, so
/// that the run as a whole never has more nodes in flight: one each at
/// least, the rest in proportion to their nodes (no cluster more than it
/// has). With more clusters than the width, each runs one node at a time
/// and only `width` clusters run at once.
pub fn split_width(width: usize, counts: &[usize]) -> Vec<usize> {
    let width = width.max(1);
    if counts.len() >= width {
        return vec![1; counts.len()];
    }
    let spare = width - counts.len();
    let nodes: usize = counts.iter().sum::<usize>().max(1);
    let mut widths: Vec<usize> = counts.iter().map(|c| 1 + spare * c / nodes).collect();
    // What rounding down left over goes to the largest remainders.
    let mut left = width - widths.iter().sum::<usize>();
    let mut by_remainder: Vec<usize> = (0..counts.len()).collect();
    by_remainder.sort_by_key(|&i| std::cmp::Reverse(spare * counts[i] % nodes));
    for i in by_remainder {
        if left == 0 {
            break;
        }
        widths[i] += 1;
        left -= 1;
    }
    widths
        .iter()
        .zip(counts)
        .map(|(width, count)| (*width).min((*count).max(1)))
        .collect()
}

/// The summary people read on stderr: each context's own, headed by its
/// name, then one line for the run.
pub fn render_summaries(results: &[ContextResult]) -> String {
    let mut text = String::new();
    let (mut ran, mut failed, mut nothing) = (0, 0, 0);
    for ContextResult { context, end } in results {
        match end {
            ContextEnd::Ran { summary, stopped } => {
                ran += 1;
                text.push_str(&format!("{context}: {}", summary.render()));
                if let Some(stopped) = stopped {
                    text.push_str(&format!("  stopped: {stopped}\n"));
                }
            }
            ContextEnd::NothingToRunOn(why) => {
                nothing += 1;
                text.push_str(&format!("{context}: nothing to run on: {why}\n"));
            }
            ContextEnd::Failed(err) => {
                failed += 1;
                text.push_str(&format!("{context}: could not run: {err}\n"));
            }
        }
    }
    text.push_str(&format!(
        "{} contexts: {ran} ran, {failed} could not run",
        results.len()
    ));
    if nothing > 0 {
        text.push_str(&format!(", {nothing} had nothing to run on"));
    }
    text.push('\n');
    text
}

/// 6 when a context could not run (or stopped early), as for nodes that
/// could not run; else the worst of the clusters' own: 6, 5, then 0 (see
/// docs/fan-out.md, "Many clusters").
pub fn exit_status(results: &[ContextResult]) -> ExitStatus {
    let mut status = ExitStatus::Success;
    for result in results {
        match &result.end {
            ContextEnd::Failed(_)
            | ContextEnd::Ran {
                stopped: Some(_), ..
            } => return ExitStatus::NodesNotRun,
            ContextEnd::Ran { summary, .. } => match summary.exit_status() {
                ExitStatus::NodesNotRun => return ExitStatus::NodesNotRun,
                ExitStatus::CommandsFailed => status = ExitStatus::CommandsFailed,
                _ => {}
            },
            ContextEnd::NothingToRunOn(_) => {}
        }
    }
    status
}

/// The `-o json|yaml` document of a run on many clusters: one's, with a
/// `context` on every node, the whole run's summary (nodes as
/// `CONTEXT/NODE`) and each context's own.
#[derive(Debug, Serialize)]
struct Document<'a> {
    nodes: Vec<NodeDocument<'a>>,
    summary: Summary,
    contexts: Vec<ContextDocument<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContextDocument<'a> {
    context: &'a str,
    /// ran, nothingToRunOn or failed.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a Summary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn document<'a>(
    printer: &Printer,
    nodes: &[(&'a str, &'a str, &'a NodeOutcome)],
    skipped: &[(String, String)],
    results: &'a [ContextResult],
) -> Document<'a> {
    let names: Vec<String> = nodes
        .iter()
        .map(|(context, node, _)| format!("{context}/{node}"))
        .collect();
    let outcomes: Vec<NodeOutcome> = nodes.iter().map(|(_, _, o)| (*o).clone()).collect();
    Document {
        nodes: nodes
            .iter()
            .zip(&names)
            .map(|((context, node, outcome), name)| {
                NodeDocument::take(printer, name, Some(context), node, outcome)
            })
            .collect(),
        summary: Summary::new(&names, &outcomes, skipped),
        contexts: results
            .iter()
            .map(|ContextResult { context, end }| match end {
                ContextEnd::Ran { summary, stopped } => ContextDocument {
                    context,
                    outcome: "ran",
                    summary: Some(summary),
                    error: stopped.clone(),
                },
                ContextEnd::NothingToRunOn(why) => ContextDocument {
                    context,
                    outcome: "nothingToRunOn",
                    summary: None,
                    error: Some(why.clone()),
                },
                ContextEnd::Failed(err) => ContextDocument {
                    context,
                    outcome: "failed",
                    summary: None,
                    error: Some(err.to_string()),
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_width_is_shared_by_node_count_and_never_exceeded() {
        assert_eq!(split_width(64, &[1, 1000]), [1, 63]);
        assert_eq!(split_width(64, &[500, 500]), [32, 32]);
        assert_eq!(
            split_width(64, &[3, 3]),
            [3, 3],
            "no cluster more than it has"
        );
        assert_eq!(split_width(10, &[10, 20, 30]), [2, 3, 5]);
        assert_eq!(
            split_width(2, &[5, 5, 5]),
            [1, 1, 1],
            "one each, two at once"
        );
        for (width, counts) in [
            (64, vec![7, 13, 2000]),
            (5, vec![1, 1, 1, 9]),
            (3, vec![4, 4]),
        ] {
            let split = split_width(width, &counts);
            assert!(
                split.iter().sum::<usize>() <= width,
                "{split:?} within {width}"
            );
            assert!(split.iter().all(|w| *w >= 1));
        }
    }

    #[test]
    fn the_summary_is_per_context_and_a_failed_one_stands_alone() {
        let nodes = names(&["n-1", "n-2"]);
        let ok = Summary::new(
            &nodes,
            &[NodeOutcome::Exited(0), NodeOutcome::Exited(0)],
            &[],
        );
        let one_failed = Summary::new(
            &nodes,
            &[NodeOutcome::Exited(0), NodeOutcome::Exited(2)],
            &[],
        );
        let results = vec![
            ContextResult {
                context: "a".into(),
                end: ContextEnd::Ran {
                    summary: ok,
                    stopped: None,
                },
            },
            ContextResult {
                context: "b".into(),
                end: ContextEnd::Ran {
                    summary: one_failed,
                    stopped: None,
                },
            },
            ContextResult {
                context: "down".into(),
                end: ContextEnd::Failed(crate::exit::usage("cannot reach the server")),
            },
            ContextResult {
                context: "empty".into(),
                end: ContextEnd::NothingToRunOn("no node matches -l pool=gpu".into()),
            },
        ];
        assert_eq!(
            render_summaries(&results),
            "a: 2 nodes: 2 succeeded, 0 failed, 0 could not run\n  succeeded: n-[1-2]\n\
             b: 2 nodes: 1 succeeded, 1 failed, 0 could not run\n  succeeded: n-1\n  exit 2: n-2\n\
             down: could not run: cannot reach the server\n\
             empty: nothing to run on: no node matches -l pool=gpu\n\
             4 contexts: 2 ran, 1 could not run, 1 had nothing to run on\n"
        );
        assert_eq!(exit_status(&results), ExitStatus::NodesNotRun);
        let without_down: Vec<ContextResult> = results
            .into_iter()
            .filter(|r| r.context != "down")
            .collect();
        assert_eq!(exit_status(&without_down), ExitStatus::CommandsFailed);
        assert_eq!(exit_status(&without_down[2..]), ExitStatus::Success);
    }

    #[test]
    fn a_run_where_no_context_could_run_fails_with_the_first_reason() {
        let ends = vec![
            (
                "empty".to_string(),
                Some(ContextEnd::NothingToRunOn("no node to run on".into())),
            ),
            (
                "down".to_string(),
                Some(ContextEnd::Failed(
                    ClusterError::NodeNotFound {
                        name: "x".into(),
                        suggestions: vec![],
                    }
                    .into(),
                )),
            ),
        ];
        let err = none_could_run(ends);
        assert_eq!(err.exit_code(), crate::exit::CLUSTER);
        assert!(
            err.to_string().starts_with("down: node \"x\" not found"),
            "{err}"
        );
        let nothing = none_could_run(vec![(
            "empty".to_string(),
            Some(ContextEnd::NothingToRunOn("no node to run on".into())),
        )]);
        assert_eq!(
            nothing.to_string(),
            "no context has a node to run on (empty: no node to run on)"
        );
    }
}
