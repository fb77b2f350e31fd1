//! `toolbox cleanup`: find the node-debug pods that toolbox and the other
//! node-shell tools left behind, and delete them.

use std::io::IsTerminal;
use std::time::Duration;

use clap::Args;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap_complete::engine::ArgValueCompleter;
use comfy_table::{Table, TableStyle};
use dialoguer::MultiSelect;
use dialoguer::console::Term;
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use toolbox_cluster::leftovers::Persisting;
use toolbox_cluster::nodes::human_age;
use toolbox_cluster::signals::Signals;
use toolbox_cluster::terminal::SavedMode;
use toolbox_cluster::{
    ClusterContext, ClusterError, Deletion, Leftover, LeftoverFilter, Signal, Tool, parse_node_arg,
};

use crate::app::App;
use crate::contexts::{ContextArgs, selected_contexts};
use crate::exit::{AppError, ExitStatus, usage};
use crate::{complete, picker};

/// Find the privileged pods that node-debug tools left on nodes, and delete
/// them.
///
/// Looks in every namespace (-n narrows to one) for the pods of toolbox,
/// kubectl debug, kubectl-node-shell, k9s and Lens. A pod named like another
/// tool's counts only when its shape matches too: bound to a node, in a host
/// namespace or privileged, owned by nothing. On a terminal you choose what
/// to delete; elsewhere, -y deletes everything listed.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  toolbox cleanup --dry-run\n  toolbox cleanup --tool kubectl-debug --older-than 2h -y\n  toolbox cleanup -n kube-system --node node-1 --finished"
)]
pub struct CleanupArgs {
    /// Look in all namespaces, even when -n is given (the default without -n)
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Only pods on this node (NAME or node/NAME)
    #[arg(long, value_name = "NODE", add = ArgValueCompleter::new(complete::nodes))]
    pub node: Option<String>,

    /// Only the pods of this tool (repeatable)
    #[arg(long, value_name = "TOOL", value_parser = tool_parser())]
    pub tool: Vec<Tool>,

    /// Only pods at least this old, e.g. 30m or 2h
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub older_than: Option<Duration>,

    /// Only pods whose containers have ended (phase Succeeded or Failed)
    #[arg(long)]
    pub finished: bool,

    /// Delete everything listed without asking
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// List what would be deleted, and delete nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Output format: a table, or what was found and done as JSON or YAML
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = ["table", "json", "yaml"], default_value = "table")]
    pub output: String,

    #[command(flatten)]
    pub contexts: ContextArgs,
}

/// A pod found, with its cluster's context when cleanup looks in several.
#[derive(Debug, Clone)]
struct Found {
    context: Option<String>,
    leftover: Leftover,
}

impl Found {
    /// `CONTEXT: ` before a line about the pod, when there are several.
    fn prefix(&self) -> String {
        self.context
            .as_ref()
            .map(|context| format!("{context}: "))
            .unwrap_or_default()
    }
}

/// How many contexts list at once: see [`crate::session::clusters`]'s
/// pre-flights, which are as light.
const CONTEXTS_AT_ONCE: usize = 8;

/// A context cleanup could not look in, and why, for -o json|yaml.
#[derive(Debug, Serialize)]
struct ContextFailure {
    context: String,
    error: String,
}

fn tool_parser() -> impl TypedValueParser<Value = Tool> {
    PossibleValuesParser::new(Tool::ALL.map(Tool::name)).try_map(|name| name.parse::<Tool>())
}

fn parse_age(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 90s, 30m, 2h)"))
}

/// What became of one pod, for -o json|yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
enum Outcome {
    Deleted,
    /// Gone before toolbox got to it; counts as done.
    AlreadyGone,
    Failed {
        error: String,
    },
    /// --dry-run.
    DryRun,
    /// Left out of the selection on the terminal.
    NotSelected,
    /// Listed without a terminal to confirm on, and without -y.
    Unconfirmed,
}

impl From<Deletion> for Outcome {
    fn from(deletion: Deletion) -> Outcome {
        match deletion {
            Deletion::Deleted => Outcome::Deleted,
            Deletion::AlreadyGone => Outcome::AlreadyGone,
            Deletion::Failed(error) => Outcome::Failed { error },
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PodReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    namespace: String,
    name: String,
    node: String,
    tool: Tool,
    phase: String,
    created: Option<String>,
    age: Option<String>,
    started_by: Option<String>,
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    persisting: Option<Persisting>,
    #[serde(flatten)]
    outcome: Outcome,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    found: usize,
    deleted: usize,
    failed: usize,
    pods: Vec<PodReport>,
    /// Contexts that could not be looked in (only with several).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    failed_contexts: Vec<ContextFailure>,
}

impl Report {
    fn new(pods: Vec<(Found, Outcome)>, now: Timestamp) -> Report {
        let count = |wanted: fn(&Outcome) -> bool| pods.iter().filter(|(_, o)| wanted(o)).count();
        Report {
            found: pods.len(),
            deleted: count(|o| matches!(o, Outcome::Deleted | Outcome::AlreadyGone)),
            failed: count(|o| matches!(o, Outcome::Failed { .. })),
            failed_contexts: Vec::new(),
            pods: pods
                .into_iter()
                .map(|(Found { context, leftover }, outcome)| PodReport {
                    context,
                    created: leftover.created.map(|t| t.to_string()),
                    age: leftover.created.map(|t| human_age(now, t)),
                    namespace: leftover.namespace,
                    name: leftover.name,
                    node: leftover.node,
                    tool: leftover.tool,
                    phase: leftover.phase,
                    started_by: leftover.started_by,
                    reason: leftover.reason,
                    persisting: leftover.persisting,
                    outcome,
                })
                .collect(),
        }
    }

    fn with_failures(mut self, failures: &[(String, AppError)]) -> Report {
        self.failed_contexts = failures
            .iter()
            .map(|(context, error)| ContextFailure {
                context: context.clone(),
                error: error.to_string(),
            })
            .collect();
        self
    }

    fn print(&self, format: &str) -> Result<(), AppError> {
        out!("{}", crate::output::document(self, format)?);
        Ok(())
    }
}

pub async fn run(args: CleanupArgs, app: &App) -> Result<ExitStatus, AppError> {
    let table_output = args.output == "table";
    let node = args.node.as_deref().map(parse_node_arg).transpose()?;
    let contexts = selected_contexts(app, &args.contexts)?;
    // -n narrows only when given on the command line: the namespace setting
    // (and TOOLBOX_NAMESPACE) says where toolbox creates its pods, while
    // leftovers are wherever other tools put theirs.
    let namespace = if args.all_namespaces {
        None
    } else {
        app.global.namespace.clone()
    };
    let filter = LeftoverFilter {
        namespace,
        node: node.map(str::to_string),
        tools: args.tool.clone(),
        older_than: args.older_than,
        finished: args.finished,
    };
    let now = Timestamp::now();
    let several = contexts.is_some();
    let (clusters, found, failures) = match contexts {
        None => {
            let (cluster, found) = find_in(app, None, &filter, now).await?;
            let found = found
                .into_iter()
                .map(|leftover| Found {
                    context: None,
                    leftover,
                })
                .collect();
            (vec![(None, cluster)], found, Vec::new())
        }
        Some(contexts) => find_in_each(app, contexts, &filter, now).await?,
    };
    // A context that could not be looked in fails alone; cleanup goes on
    // with the others, and ends with 1 (docs/cleanup.md).
    let failed_status = |status: ExitStatus| {
        if failures.is_empty() {
            status
        } else {
            ExitStatus::Failure
        }
    };
    let in_contexts = if several {
        format!(" of {} contexts", clusters.len() + failures.len())
    } else {
        String::new()
    };

    if found.is_empty() {
        if table_output {
            let scope = match &filter.namespace {
                Some(ns) => format!("in namespace {ns}"),
                None => "in any namespace".to_string(),
            };
            eprintln!("No node-debug pods found {scope}{in_contexts}.");
        } else {
            Report::new(Vec::new(), now)
                .with_failures(&failures)
                .print(&args.output)?;
        }
        return Ok(failed_status(ExitStatus::Success));
    }
    if table_output {
        outln!("{}", render_table(&found, now, true));
    }
    let count = found.len();
    let every = |outcome: Outcome| -> Vec<(Found, Outcome)> {
        found
            .iter()
            .cloned()
            .map(|l| (l, outcome.clone()))
            .collect()
    };

    if args.dry_run {
        if table_output {
            eprintln!("Dry run: {} would be deleted.", pods(count));
        } else {
            Report::new(every(Outcome::DryRun), now)
                .with_failures(&failures)
                .print(&args.output)?;
        }
        return Ok(failed_status(ExitStatus::Success));
    }
    // Ctrl-C at the prompt raises SIGINT (see confirm), which would kill
    // toolbox with the cursor hidden. Caught, a signal ends cleanup with its
    // exit code instead. tokio keeps a signal caught for the rest of the
    // process, so the deletions watch for it too.
    let mut signals = Signals::install().map_err(anyhow::Error::from)?;
    let (chosen, left_out) = if args.yes {
        (found.clone(), Vec::new())
    } else if picker::terminal_available() {
        match confirm(&found, now, &mut signals).await {
            Ok(choice) => choice,
            Err(err) => {
                match &err {
                    AppError::Cancelled => eprintln!("Cancelled; nothing deleted."),
                    AppError::Cluster(ClusterError::Interrupted { signal }) => {
                        eprintln!("Interrupted by {signal}; nothing deleted.")
                    }
                    _ => {}
                }
                return Err(err);
            }
        }
    } else {
        if !table_output {
            Report::new(every(Outcome::Unconfirmed), now)
                .with_failures(&failures)
                .print(&args.output)?;
        }
        return Err(usage(format!(
            "refusing to delete {} without a terminal to confirm; add -y",
            pods(count)
        )));
    };
    if chosen.is_empty() {
        if table_output {
            eprintln!("Nothing selected; nothing deleted.");
        } else {
            Report::new(every(Outcome::NotSelected), now)
                .with_failures(&failures)
                .print(&args.output)?;
        }
        return Ok(failed_status(ExitStatus::Success));
    }

    let chosen_count = chosen.len();
    let (mut results, interrupted) = delete(&clusters, chosen, table_output, &mut signals).await;
    if let Some(signal) = interrupted {
        let done = results
            .iter()
            .filter(|(_, outcome)| matches!(outcome, Outcome::Deleted | Outcome::AlreadyGone))
            .count();
        eprintln!(
            "Interrupted by {signal}: {done} of {} deleted.",
            pods(chosen_count)
        );
        return Err(ClusterError::Interrupted { signal }.into());
    }
    let failed = results
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::Failed { .. }))
        .count();
    let deleted = results.len() - failed;
    results.extend(left_out.into_iter().map(|l| (l, Outcome::NotSelected)));
    if table_output {
        match failed {
            0 => eprintln!("Deleted {}.", pods(deleted)),
            _ => eprintln!(
                "Deleted {}; {} could not be deleted.",
                pods(deleted),
                pods(failed)
            ),
        }
    } else {
        results.sort_by(|(a, _), (b, _)| {
            let key = |f: &Found| {
                (
                    f.context.clone(),
                    f.leftover.namespace.clone(),
                    f.leftover.name.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        Report::new(results, now)
            .with_failures(&failures)
            .print(&args.output)?;
    }
    Ok(failed_status(if failed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }))
}

/// One cluster's connection and its leftovers: the one `--context` names
/// (or the current one), or `context`.
async fn find_in(
    app: &App,
    context: Option<&str>,
    filter: &LeftoverFilter,
    now: Timestamp,
) -> Result<(ClusterContext, Vec<Leftover>), AppError> {
    let cluster = match context {
        Some(context) => app.connect_to(context).await?,
        None => app.connect().await?,
    };
    let version_check = cluster.start_version_check();
    let found = cluster.find_leftovers(filter, now).await;
    if let Some(warning) = version_check.warning().await {
        match context {
            Some(context) => eprintln!("warning: {context}: {warning}"),
            None => eprintln!("warning: {warning}"),
        }
    }
    Ok((cluster, found?))
}

/// The clusters cleanup looks in, each with its context.
type Clusters = Vec<(Option<String>, ClusterContext)>;

/// [`find_in`] on every context, a few at a time: the clusters that
/// answered, what was found in them (in the order of the contexts), and the
/// contexts that could not be looked in, each told on stderr.
/// When none answered, the first one's error is cleanup's.
async fn find_in_each(
    app: &App,
    contexts: Vec<String>,
    filter: &LeftoverFilter,
    now: Timestamp,
) -> Result<(Clusters, Vec<Found>, Vec<(String, AppError)>), AppError> {
    let answers: Vec<(String, Result<_, AppError>)> =
        futures::stream::iter(contexts.into_iter().map(|context| async move {
            let answer = find_in(app, Some(&context), filter, now).await;
            (context, answer)
        }))
        .buffered(CONTEXTS_AT_ONCE)
        .collect()
        .await;
    let (mut clusters, mut found, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for (context, answer) in answers {
        match answer {
            Ok((cluster, leftovers)) => {
                found.extend(leftovers.into_iter().map(|leftover| Found {
                    context: Some(context.clone()),
                    leftover,
                }));
                clusters.push((Some(context), cluster));
            }
            Err(err) => failures.push((context, err)),
        }
    }
    let failures = crate::contexts::tell_failures(failures, clusters.is_empty())?;
    Ok((clusters, found, failures))
}

fn pods(n: usize) -> String {
    if n == 1 {
        "1 pod".into()
    } else {
        format!("{n} pods")
    }
}

/// kubectl's look: no borders, three spaces between columns; a CONTEXT
/// column first when the pods are from several clusters.
fn render_table(found: &[Found], now: Timestamp, header: bool) -> String {
    let several = found.iter().any(|f| f.context.is_some());
    let mut table = Table::new();
    table.load_style(TableStyle::new());
    if header {
        let columns = [
            "NAMESPACE",
            "NAME",
            "NODE",
            "TOOL",
            "PHASE",
            "AGE",
            "STARTED BY",
        ];
        table.set_header(several.then_some("CONTEXT").into_iter().chain(columns));
    }
    for Found { context, leftover } in found {
        let columns = [
            leftover.namespace.clone(),
            leftover.name.clone(),
            leftover.node.clone(),
            leftover.tool.to_string(),
            match &leftover.persisting {
                Some(persisting) if !leftover.is_finished() => {
                    format!("{} ({})", leftover.phase, persisting.describe())
                }
                _ => leftover.phase.clone(),
            },
            leftover
                .created
                .map(|t| human_age(now, t))
                .unwrap_or_else(|| "<unknown>".into()),
            leftover.started_by.clone().unwrap_or_else(|| "-".into()),
        ];
        let context = several.then(|| context.clone().unwrap_or_default());
        table.add_row(context.into_iter().chain(columns));
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    table.trim_fmt()
}

/// The multi-select on the terminal, every pod selected: the chosen pods,
/// and the ones left out. Esc, q and Ctrl-C cancel; SIGTERM and SIGHUP
/// interrupt. Every way out leaves the terminal's mode as it was.
async fn confirm(
    found: &[Found],
    now: Timestamp,
    signals: &mut Signals,
) -> Result<(Vec<Found>, Vec<Found>), AppError> {
    let lines: Vec<String> = render_table(found, now, false)
        .lines()
        .map(str::to_string)
        .collect();
    let count = found.len();
    // Put back on every way out, a signal's too, while the prompt's thread
    // may still hold the terminal raw for its key read.
    let _mode = SavedMode::save();
    // dialoguer blocks on key reads, so it gets a thread of its own.
    let prompt = tokio::task::spawn_blocking(move || {
        let theme: Box<dyn Theme> = if std::env::var_os("NO_COLOR").is_some() {
            Box::new(SimpleTheme)
        } else {
            Box::new(ColorfulTheme::default())
        };
        let term = Term::stderr();
        let result = MultiSelect::with_theme(theme.as_ref())
            .with_prompt(format!(
                "Delete {}? (Space toggles, a toggles all, Enter deletes the selected, Esc cancels)",
                pods(count)
            ))
            .items(&lines)
            .defaults(&vec![true; count])
            .max_length(15)
            .interact_on_opt(&term);
        let _ = term.show_cursor();
        result
    });
    let choice = tokio::select! {
        choice = prompt => choice.map_err(|e| anyhow::anyhow!("the selection prompt failed: {e}"))?,
        signal = signals.recv() => {
            // Ctrl-C's own SIGINT may get here before the prompt's thread
            // shows the cursor again, and a signal from elsewhere leaves
            // that thread waiting for a key.
            let _ = Term::stderr().show_cursor();
            return Err(match signal {
                Signal::Interrupt => AppError::Cancelled,
                signal => ClusterError::Interrupted { signal }.into(),
            });
        }
    };
    match choice {
        Ok(Some(indices)) => {
            let (chosen, left_out): (Vec<_>, Vec<_>) = found
                .iter()
                .cloned()
                .enumerate()
                .partition(|(i, _)| indices.contains(i));
            Ok((
                chosen.into_iter().map(|(_, l)| l).collect(),
                left_out.into_iter().map(|(_, l)| l).collect(),
            ))
        }
        Ok(None) => Err(AppError::Cancelled),
        // console reads Ctrl-C as a key, puts the terminal back, raises
        // SIGINT and reports the read as interrupted.
        Err(dialoguer::Error::IO(err)) if err.kind() == std::io::ErrorKind::Interrupted => {
            Err(AppError::Cancelled)
        }
        Err(err) => Err(anyhow::anyhow!("the selection prompt failed: {err}").into()),
    }
}

/// Deletes the pods, 16 at a time in each cluster, with a progress bar on
/// a terminal. Each pod gets its line as its deletion ends: deletions on
/// stdout (with a table), failures on stderr. A signal stops the deletions
/// still under way; the pods whose deletion ended are returned with it.
async fn delete(
    clusters: &Clusters,
    chosen: Vec<Found>,
    table_output: bool,
    signals: &mut Signals,
) -> (Vec<(Found, Outcome)>, Option<Signal>) {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(chosen.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} deleted")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut results = Vec::with_capacity(chosen.len());
    let per_cluster = clusters.iter().map(|(context, cluster)| {
        let mine: Vec<Leftover> = chosen
            .iter()
            .filter(|found| &found.context == context)
            .map(|found| found.leftover.clone())
            .collect();
        cluster
            .delete_leftovers(mine)
            .map(move |(leftover, deletion)| {
                let context = context.clone();
                (Found { context, leftover }, deletion)
            })
            .boxed_local()
    });
    let mut deletions = futures::stream::select_all(per_cluster);
    let mut interrupted = None;
    loop {
        let (found, deletion) = tokio::select! {
            next = deletions.next() => match next {
                Some(ended) => ended,
                None => break,
            },
            signal = signals.recv() => {
                interrupted = Some(signal);
                break;
            }
        };
        let (ns, name) = (&found.leftover.namespace, &found.leftover.name);
        let prefix = found.prefix();
        bar.suspend(|| match &deletion {
            Deletion::Deleted if table_output => {
                outln!("{prefix}pod \"{name}\" deleted from {ns} namespace");
            }
            Deletion::AlreadyGone if table_output => {
                outln!("{prefix}pod \"{name}\" already gone from {ns} namespace");
            }
            Deletion::Failed(error) => {
                eprintln!("error: {prefix}cannot delete pod \"{name}\" in namespace {ns}: {error}");
            }
            _ => {}
        });
        bar.inc(1);
        results.push((found, deletion.into()));
    }
    bar.finish_and_clear();
    (results, interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: CleanupArgs,
        // --contexts conflicts with the global --context.
        #[command(flatten)]
        global: crate::app::GlobalArgs,
    }

    fn parse(words: &[&str]) -> Result<CleanupArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("cleanup").chain(words.iter().copied()))
            .map(|cli| cli.args)
    }

    #[test]
    fn filters_parse() {
        let args = parse(&[
            "--tool",
            "k9s",
            "--tool",
            "kubectl-debug",
            "--older-than",
            "1h30m",
            "--finished",
            "--node",
            "node/n1",
            "-A",
        ])
        .unwrap();
        assert_eq!(args.tool, [Tool::K9s, Tool::KubectlDebug]);
        assert_eq!(args.older_than, Some(Duration::from_secs(5400)));
        assert!(args.finished && args.all_namespaces && !args.yes && !args.dry_run);
        assert_eq!(args.output, "table");
    }

    #[test]
    fn unknown_tools_and_ages_are_usage_errors() {
        let err = parse(&["--tool", "lense"]).unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::USAGE as i32);
        assert!(err.to_string().contains("kubectl-debug"), "{err}");
        assert!(parse(&["--older-than", "soon"]).is_err());
        assert!(parse(&["-o", "wide"]).is_err());
    }

    fn leftover(name: &str, started_by: Option<&str>) -> Found {
        Found {
            context: None,
            leftover: bare_leftover(name, started_by),
        }
    }

    fn bare_leftover(name: &str, started_by: Option<&str>) -> Leftover {
        Leftover {
            namespace: "kube-system".into(),
            name: name.into(),
            uid: None,
            node: "node-1".into(),
            tool: Tool::Lens,
            phase: "Running".into(),
            created: Some("2026-05-01T11:00:00Z".parse().unwrap()),
            started_by: started_by.map(str::to_string),
            reason: None,
            persisting: None,
        }
    }

    #[test]
    fn the_table_reads_like_kubectl() {
        let now: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
        let text = render_table(
            &[
                leftover("node-shell-6f1c1e02-3c9b-4f4e-9d8a-0b7b8f9e2a11", None),
                leftover("toolbox-shell-node-1-x7k2p", Some("alice")),
            ],
            now,
            true,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "NAMESPACE     NAME                                              NODE     TOOL   PHASE     AGE   STARTED BY"
        );
        assert!(lines[1].ends_with("Running   60m   -"), "{}", lines[1]);
        assert!(lines[2].ends_with("alice"), "{}", lines[2]);
    }

    #[test]
    fn pods_of_several_clusters_name_their_context_first() {
        let now: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
        let in_context = |context: &str, name: &str| Found {
            context: Some(context.into()),
            leftover: bare_leftover(name, None),
        };
        let text = render_table(
            &[in_context("prod-eu", "a"), in_context("staging", "b")],
            now,
            true,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("CONTEXT   NAMESPACE"), "{}", lines[0]);
        assert!(
            lines[1].starts_with("prod-eu   kube-system   a"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("staging   kube-system   b"),
            "{}",
            lines[2]
        );
        let report = Report::new(vec![(in_context("staging", "b"), Outcome::Deleted)], now)
            .with_failures(&[("down".into(), usage("unreachable"))]);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["pods"][0]["context"], "staging");
        assert_eq!(json["failedContexts"][0]["context"], "down");
        assert_eq!(json["failedContexts"][0]["error"], "unreachable");
        let one = serde_json::to_value(Report::new(
            vec![(leftover("a", None), Outcome::Deleted)],
            now,
        ))
        .unwrap();
        assert!(
            one["pods"][0].get("context").is_none() && one.get("failedContexts").is_none(),
            "one cluster's report as it was: {one}"
        );
    }

    #[test]
    fn persisting_pods_say_so_with_their_idle_expiry() {
        let now: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
        let mut idle = leftover("toolbox-shell-node-1-x7k2p", Some("alice"));
        idle.leftover.tool = Tool::Toolbox;
        idle.leftover.persisting = Some(Persisting {
            idle_until: Some("2026-05-01T12:10:00Z".into()),
        });
        let mut in_use = idle.clone();
        in_use.leftover.persisting = Some(Persisting { idle_until: None });
        let text = render_table(&[idle, in_use], now, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].contains("Running (persisting, idle until 2026-05-01T12:10:00Z)"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].contains("Running (persisting, in use)"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn the_report_counts_already_gone_as_done() {
        let now: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
        let report = Report::new(
            vec![
                (leftover("a", None), Outcome::Deleted),
                (leftover("b", None), Outcome::AlreadyGone),
                (
                    leftover("c", None),
                    Outcome::Failed {
                        error: "denied".into(),
                    },
                ),
            ],
            now,
        );
        assert_eq!((report.found, report.deleted, report.failed), (3, 2, 1));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["pods"][1]["result"], "already-gone");
        assert_eq!(json["pods"][2]["result"], "failed");
        assert_eq!(json["pods"][2]["error"], "denied");
        assert_eq!(json["pods"][0]["tool"], "lens");
        assert_eq!(json["pods"][0]["age"], "60m");
    }
}
