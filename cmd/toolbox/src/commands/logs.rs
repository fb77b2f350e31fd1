//! `toolbox logs NODE... [UNIT|FILE...]`: a node's service journals and
//! log files without a root shell, through the kubelet's node log query
//! where it answers, else a short-lived pod (pkg/cluster's nodelogs wing).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use clap_complete::engine::ArgValueCompleter;
use k8s_openapi::jiff::Timestamp;
use toolbox_cluster::nodelogs::lines::{MAX_TAIL, TimeArg, grep_regex};
use toolbox_cluster::nodelogs::{LogRequest, LogsRun, Source, read_node_logs, run_logs};
use toolbox_cluster::session::fanout::{
    FanoutEvents, NodeOutcome, NodeSession, NodeWork, OutputStream,
};
use toolbox_cluster::{ClusterContext, parse_node_arg};

use crate::app::App;
use crate::exit::{AppError, ExitStatus, usage};
use crate::session::args::{FanoutArgs, PodArgs, RunOutputArgs, SessionArgs, TargetArgs};
use crate::session::fanout::{DEFAULT_FANOUT, finish, nothing_to_run_on};
use crate::session::pod::{NodeLogsOptions, PodOptions, random_suffix};
use crate::session::preflight::{NodeUse, preflight};
use crate::session::printer::{Mode, Printer};
use crate::session::spinner::Spinner;
use crate::{complete, values};

/// `toolbox logs`' flags: the about text is cli.rs's.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  toolbox logs node-1                                 # the kubelet's log\n  toolbox logs node-1 containerd --since 1h --grep error\n  toolbox logs node-1 /var/log/syslog --tail 100\n  toolbox logs node-1 -f                              # follow, until Ctrl-C\n  toolbox logs node-1 node-2 kubelet containerd --since 2026-12-06T20:00:00Z\n  toolbox logs --all -l node-role.kubernetes.io/worker --grep 'PLEG is not healthy' -o json"
)]
pub struct LogsArgs {
    /// NODE... then UNIT|FILE... [default log: kubelet]
    #[arg(value_name = "NODE|UNIT|FILE", add = ArgValueCompleter::new(complete::nodes))]
    pub words: Vec<String>,

    /// Nodes matching this label selector (with --all); every argument is then a log
    #[arg(short = 'l', long, value_name = "SELECTOR", value_parser = values::parse_selector, help_heading = "Many nodes")]
    pub selector: Option<String>,

    /// Every node (with -l, every matching node); every argument is then a log
    #[arg(long, help_heading = "Many nodes")]
    pub all: bool,

    #[command(flatten)]
    pub fanout: FanoutArgs,

    #[command(flatten)]
    pub printed: RunOutputArgs,

    /// Only lines since then: a duration ago (1h, 30m) or a time (RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<TimeArg>,

    /// Only lines until then: a duration ago or a time, as --since
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<TimeArg>,

    /// Only the last N lines (at most 100000) [with -f: 10]
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = parse_tail)]
    pub tail: Option<usize>,

    /// Only lines that match this regular expression (RE2; case-insensitive when all lower-case, as journalctl's)
    #[arg(long, value_name = "REGEX", value_parser = parse_grep)]
    pub grep: Option<String>,

    /// Only this boot's journal: 0 the current, -1 the one before, ...
    #[arg(long, value_name = "N", allow_hyphen_values = true, value_parser = parse_boot)]
    pub boot: Option<i32>,

    /// Follow the log as it grows, until Ctrl-C (one log per node)
    #[arg(short = 'f', long)]
    pub follow: bool,

    #[command(flatten)]
    pub pod: FallbackPodArgs,
}

const POD_HEADING: &str = "The fallback pod (when the node log query cannot serve a node)";

/// The flags of the fallback pod: the pod flags every toolbox pod takes,
/// its image, and whether its session is recorded.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = POD_HEADING)]
pub struct FallbackPodArgs {
    /// Its image; it needs busybox's sh, cat, tail and nsenter [default: the image setting, toolbox's node-tools]
    #[arg(long, value_name = "IMAGE", value_parser = values::parse_image)]
    pub image: Option<String>,

    #[command(flatten)]
    pub pod: PodArgs,

    /// Do not record its session (where the namespace's policy allows it)
    #[arg(long)]
    pub no_record: bool,
}

impl FallbackPodArgs {
    /// As a session's flags, for the pod options every toolbox pod takes.
    fn session(&self) -> SessionArgs {
        SessionArgs {
            pod: self.pod.clone(),
            keep: false,
            persist: None,
            no_record: self.no_record,
            record_input: false,
        }
    }
}

fn parse_time(text: &str) -> Result<TimeArg, String> {
    TimeArg::parse(text)
}

fn parse_tail(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n <= MAX_TAIL => Ok(n),
        _ => Err(format!(
            "must be a number of lines from 0 to {MAX_TAIL} (the kubelet's limit)"
        )),
    }
}

fn parse_boot(text: &str) -> Result<i32, String> {
    match text.parse::<i32>() {
        Ok(n) if n <= 0 => Ok(n),
        _ => Err(
            "must be 0 (the current boot) or a negative offset, e.g. -1 for the one before".into(),
        ),
    }
}

fn parse_grep(text: &str) -> Result<String, String> {
    grep_regex(text).map(|_| text.to_string())
}

/// What an argument can be, from its shape alone.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// node/NAME or a node set.
    Node(String),
    /// A FILE, or NAME.service.
    Log(Source),
    /// A name a node and a unit may both have: the cluster says which.
    Either(String),
}

/// The units the kubelet accepts: `[a-zA-Z0-9-_.:@]`, at most 256.
fn is_unit(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 256
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:@".contains(&b))
}

fn shape(word: &str) -> Result<Shape, AppError> {
    if word.starts_with('/') {
        if word.split('/').any(|part| part == "..") || word.contains(['\0', '\n']) {
            return Err(usage(format!(
                "{word:?}: a FILE is an absolute path on the node, without .. and on one line"
            )));
        }
        return Ok(Shape::Log(Source::File(word.to_string())));
    }
    if let Some(unit) = word.strip_suffix(".service") {
        return if is_unit(unit) {
            Ok(Shape::Log(Source::Unit(unit.to_string())))
        } else {
            Err(usage(format!(
                "{word:?} is not a unit name the kubelet takes ([a-zA-Z0-9-_.:@], at most 256)"
            )))
        };
    }
    if word.starts_with("node/") || word.contains('[') {
        return Ok(Shape::Node(word.to_string()));
    }
    if parse_node_arg(word).is_ok() {
        return Ok(Shape::Either(word.to_string()));
    }
    if is_unit(word) {
        return Ok(Shape::Log(Source::Unit(word.to_string())));
    }
    Err(usage(format!(
        "{word:?} is neither a node, a unit ([a-zA-Z0-9-_.:@]) nor a FILE (an absolute path)"
    )))
}

/// The arguments, nodes then logs.
#[derive(Debug, Default, PartialEq)]
struct Words {
    nodes: Vec<String>,
    logs: Vec<Source>,
}

/// Tells nodes from logs: `first` is a node (none with --all or -l);
/// the arguments after it are nodes while they name nodes, then logs.
/// `is_node` asks the cluster about a word that could be either.
async fn resolve_words(
    first: Option<String>,
    shapes: Vec<Shape>,
    is_node: impl AsyncFn(&str) -> Result<bool, AppError>,
) -> Result<Words, AppError> {
    let nodes_first = first.is_some();
    let mut words = Words {
        nodes: first.into_iter().collect(),
        logs: Vec::new(),
    };
    for shape in shapes {
        let in_nodes = nodes_first && words.logs.is_empty();
        match shape {
            Shape::Node(node) if in_nodes => words.nodes.push(node),
            Shape::Node(node) => return Err(after_logs(&node, &words.logs)),
            Shape::Log(log) => words.logs.push(log),
            Shape::Either(word) => {
                // With --all every argument is a log: nothing to ask.
                if !nodes_first {
                    words.logs.push(Source::Unit(word));
                    continue;
                }
                match (is_node(&word).await?, in_nodes) {
                    (true, true) => words.nodes.push(word),
                    (true, false) => return Err(after_logs(&word, &words.logs)),
                    (false, _) => words.logs.push(Source::Unit(word)),
                }
            }
        }
    }
    Ok(words)
}

/// The first argument, a node: refused for its shape before any request.
fn first_node(word: &str) -> Result<String, AppError> {
    if word.starts_with('/') || word.ends_with(".service") {
        return Err(usage(format!(
            "the first argument is the node, and {word} is a log: toolbox logs NODE... [UNIT|FILE...], or --all (with -l SELECTOR) for every node"
        )));
    }
    TargetArgs {
        nodes: vec![word.to_string()],
        ..TargetArgs::default()
    }
    .node_names()?;
    Ok(word.to_string())
}

fn after_logs(word: &str, logs: &[Source]) -> AppError {
    let (what, name) = match logs.last() {
        Some(Source::File(path)) => ("the file", path.as_str()),
        Some(Source::Unit(unit)) => ("the unit", unit.as_str()),
        None => ("", ""),
    };
    usage(format!(
        "{word} names a node but comes after {what} {name}: name the nodes first (toolbox logs NODE... [UNIT|FILE...]); for a unit of that name, write {word}.service"
    ))
}

/// The checks that concern flags together, before any request.
fn check_flags(args: &LogsArgs) -> Result<(), AppError> {
    if args.follow && args.until.is_some() {
        return Err(usage(
            "-f follows new lines, which come after any --until: use one or the other",
        ));
    }
    if args.selector.is_some() && !args.all {
        return Err(usage(
            "-l SELECTOR takes --all here: toolbox logs --all -l SELECTOR [UNIT|FILE...]",
        ));
    }
    if args.all
        && args
            .words
            .iter()
            .any(|w| shape(w).is_ok_and(|s| matches!(s, Shape::Node(_))))
    {
        return Err(usage(
            "--all reads every node's logs: name logs only (UNIT|FILE), not nodes",
        ));
    }
    Ok(())
}

/// The checks of the logs asked for, once they are known.
fn check_logs(args: &LogsArgs, logs: &[Source]) -> Result<(), AppError> {
    if args.follow && logs.len() > 1 {
        return Err(usage("-f follows one log per node: name one UNIT or FILE"));
    }
    if args.boot.is_some()
        && let Some(file) = logs.iter().find(|log| matches!(log, Source::File(_)))
    {
        return Err(usage(format!(
            "--boot applies to the journal; {} is a file, which has no boots",
            file.name()
        )));
    }
    Ok(())
}

/// --since and --until as times, read from now; refused when nothing is
/// between them.
type Times = (Option<Timestamp>, Option<Timestamp>);

fn times(args: &LogsArgs, now: Timestamp) -> Result<Times, AppError> {
    let since = args.since.map(|t| t.resolve(now));
    let until = args.until.map(|t| t.resolve(now));
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        return Err(usage(format!(
            "--since {since} is after --until {until}: nothing is between them"
        )));
    }
    Ok((since, until))
}

/// The request: the logs (the kubelet's by default) and the filters.
fn request(args: &LogsArgs, (since, until): Times, logs: Vec<Source>) -> LogRequest {
    LogRequest {
        sources: if logs.is_empty() {
            vec![Source::Unit("kubelet".into())]
        } else {
            logs
        },
        since,
        until,
        tail: args.tail,
        grep: args.grep.clone(),
        boot: args.boot,
        follow: args.follow,
    }
}

/// What the pod's audit annotation records: the logs and the filters as
/// resolved (a --since of 1h as the time it meant).
fn audit_line(request: &LogRequest) -> Vec<String> {
    let mut line: Vec<String> = request
        .sources
        .iter()
        .map(|s| s.name().to_string())
        .collect();
    let mut flag = |name: &str, value: String| {
        line.push(name.to_string());
        line.push(value);
    };
    if let Some(since) = request.since {
        flag("--since", since.to_string());
    }
    if let Some(until) = request.until {
        flag("--until", until.to_string());
    }
    if let Some(tail) = request.tail {
        flag("--tail", tail.to_string());
    }
    if let Some(grep) = &request.grep {
        flag("--grep", grep.clone());
    }
    if let Some(boot) = request.boot {
        flag("--boot", boot.to_string());
    }
    if request.follow {
        line.push("-f".into());
    }
    line
}

pub async fn run(args: LogsArgs, app: &App) -> Result<ExitStatus, AppError> {
    check_flags(&args)?;
    let nodes_first = !args.all;
    if nodes_first && args.words.is_empty() {
        return Err(usage(
            "no node given: toolbox logs NODE... [UNIT|FILE...], or --all (with -l SELECTOR) for every node",
        ));
    }
    let first = match nodes_first {
        true => Some(first_node(&args.words[0])?),
        false => None,
    };
    let shapes = args.words[usize::from(nodes_first)..]
        .iter()
        .map(|w| shape(w))
        .collect::<Result<Vec<_>, _>>()?;
    let known: Vec<Source> = shapes
        .iter()
        .filter_map(|s| match s {
            Shape::Log(log) => Some(log.clone()),
            _ => None,
        })
        .collect();
    check_logs(&args, &known)?;
    let times = times(&args, Timestamp::now())?;
    let session = args.pod.session();
    let target = TargetArgs {
        nodes: Vec::new(),
        selector: args.selector.clone(),
        all: args.all,
        fanout: args.fanout.clone(),
        printed: args.printed.clone(),
        streaming: Default::default(),
    };
    let filter = target.fanout.filter();
    let (cluster, user, (target, request, targets)) =
        preflight(app, NodeUse::Inspect, async |cluster| {
            let words = resolve_words(first, shapes, async |word| {
                Ok(cluster.find_node(word).await?.is_some())
            })
            .await?;
            check_logs(&args, &words.logs)?;
            let request = request(&args, times, words.logs);
            session.check(app, &audit_line(&request))?;
            let target = TargetArgs {
                nodes: words.nodes,
                ..target
            };
            let targets = if target.is_run() {
                let names = target.node_names()?;
                Some(
                    cluster
                        .fanout_targets(&names, target.selector.as_deref(), &filter)
                        .await?,
                )
            } else {
                let name = target.node_names()?.remove(0);
                cluster.get_node(&name).await?;
                None
            };
            Ok((target, request, targets))
        })
        .await?;
    let options = NodeLogsOptions {
        pod: PodOptions::resolve(&session, &app.settings),
        image: args
            .pod
            .image
            .clone()
            .unwrap_or_else(|| app.settings.settings.image.clone()),
        audit_line: audit_line(&request),
    };
    let start_timeout = args
        .pod
        .pod
        .timeout
        .unwrap_or_else(|| app.settings.start_timeout());
    match targets {
        None => {
            let node = target.node_names()?.remove(0);
            single(&cluster, &node, &request, &options, user, start_timeout).await
        }
        Some(targets) => {
            if targets.nodes.is_empty() {
                return Err(nothing_to_run_on(
                    target.selector.as_deref(),
                    &targets.skipped,
                ));
            }
            let nodes: Vec<String> = targets.nodes.iter().map(|n| n.name.clone()).collect();
            many(
                &cluster,
                nodes,
                &targets.skipped,
                &target,
                &request,
                &options,
                &user,
                start_timeout,
            )
            .await
        }
    }
}

/// One node: its lines as they are, and its status as toolbox's.
async fn single(
    cluster: &ClusterContext,
    node: &str,
    request: &LogRequest,
    options: &NodeLogsOptions,
    user: String,
    start_timeout: Duration,
) -> Result<ExitStatus, AppError> {
    let spinner = Arc::new(Spinner::new(
        format!("Reading the logs of node {node}"),
        None,
    ));
    let lines = Arc::new(PlainLines {
        spinner: spinner.clone(),
        started: AtomicBool::new(false),
    });
    let namespace = cluster.namespace.clone();
    let pod = |command| options.session(node, &namespace, user, command, start_timeout);
    let read = read_node_logs(cluster, node, request, pod, spinner.as_ref(), lines).await;
    spinner.finish();
    Ok(match read? {
        0 => ExitStatus::Success,
        code => ExitStatus::Remote(u8::try_from(code).unwrap_or(1)),
    })
}

/// Many nodes: a run's output, summary and exit status.
#[allow(clippy::too_many_arguments)]
async fn many(
    cluster: &ClusterContext,
    nodes: Vec<String>,
    skipped: &[(String, String)],
    target: &TargetArgs,
    request: &LogRequest,
    options: &NodeLogsOptions,
    user: &str,
    start_timeout: Duration,
) -> Result<ExitStatus, AppError> {
    let mode = Mode::from(&target.printed);
    let printer = Arc::new(Printer::new(mode, nodes.len()));
    let namespace = cluster.namespace.clone();
    let pod_for = |node: &str, command: Vec<String>| {
        let (pod, command) = options.build(node, &namespace, user.to_string(), command);
        Ok(NodeSession {
            pod,
            container: toolbox_podtemplate::LOGS_CONTAINER.to_string(),
            work: NodeWork::Exec(command),
        })
    };
    let run = LogsRun {
        nodes: nodes.clone(),
        request,
        pod_for: &pod_for,
        user,
        run_id: random_suffix(),
        fanout: target.fanout.fanout.map_or(DEFAULT_FANOUT, usize::from),
        start_timeout,
        command_timeout: target.fanout.command_timeout,
    };
    let report = run_logs(cluster, run, printer.clone()).await;
    printer.finish_progress();
    finish(&printer, &nodes, skipped, report?)
}

/// One node's lines, as they come: stdout's as they are, toolbox's own on
/// stderr, the spinner cleared before the first.
struct PlainLines {
    spinner: Arc<Spinner>,
    started: AtomicBool,
}

impl FanoutEvents for PlainLines {
    fn line(&self, _: &str, stream: OutputStream, line: &[u8]) {
        if !self.started.swap(true, Ordering::Relaxed) {
            self.spinner.finish();
        }
        let mut text = Vec::with_capacity(line.len() + 1);
        text.extend_from_slice(line);
        text.push(b'\n');
        match stream {
            OutputStream::Stdout => crate::output::write_stdout(text),
            OutputStream::Stderr => {
                let _ = std::io::stderr().lock().write_all(&text);
            }
        }
    }

    fn finished(&self, _: &str, _: &NodeOutcome) {}

    fn note(&self, line: &str) {
        use toolbox_cluster::Progress;
        self.spinner.note(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes(words: &[&str]) -> Vec<Shape> {
        words.iter().map(|w| shape(w).unwrap()).collect()
    }

    async fn resolve(words: &[&str], nodes: &[&str]) -> Result<Words, AppError> {
        let first = first_node(words[0])?;
        resolve_words(Some(first), shapes(&words[1..]), async |word| {
            Ok(nodes.contains(&word))
        })
        .await
    }

    #[tokio::test]
    async fn nodes_come_first_then_logs() {
        let words = resolve(&["n1", "n2", "kubelet", "/var/log/syslog"], &["n1", "n2"])
            .await
            .unwrap();
        assert_eq!(words.nodes, ["n1", "n2"]);
        assert_eq!(
            words.logs,
            [
                Source::Unit("kubelet".into()),
                Source::File("/var/log/syslog".into())
            ]
        );
        // The first is a node even when no node has its name: the lookup
        // of the targets says it is not found.
        let words = resolve(&["n9", "containerd"], &[]).await.unwrap();
        assert_eq!(words.nodes, ["n9"]);
        let set = resolve(&["n-[1-3]", "node/x", "kubelet.service"], &[])
            .await
            .unwrap();
        assert_eq!(set.nodes, ["n-[1-3]", "node/x"]);
        assert_eq!(set.logs, [Source::Unit("kubelet".into())]);
    }

    #[tokio::test]
    async fn a_node_after_a_log_is_ambiguous_and_says_how_to_name_the_unit() {
        let err = resolve(&["n1", "kubelet", "n2"], &["n1", "n2"])
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "n2 names a node but comes after the unit kubelet: name the nodes first (toolbox logs NODE... [UNIT|FILE...]); for a unit of that name, write n2.service"
        );
        assert_eq!(err.exit_code(), 2);
        let err = resolve(&["/var/log/x"], &[]).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the first argument is the node"),
            "{err}"
        );
    }

    #[test]
    fn words_that_are_nothing_at_all_are_refused_by_their_shape() {
        assert!(shape("has space").is_err());
        assert!(shape("/var/log/../../etc/shadow").is_err());
        assert_eq!(
            shape("systemd-journald@x").unwrap(),
            Shape::Log(Source::Unit("systemd-journald@x".into()))
        );
        assert_eq!(
            shape("Docker").unwrap(),
            Shape::Log(Source::Unit("Docker".into()))
        );
        assert_eq!(shape("kubelet").unwrap(), Shape::Either("kubelet".into()));
    }

    #[test]
    fn flag_values_are_refused_with_their_rule() {
        assert_eq!(parse_tail("100000"), Ok(100_000));
        assert!(parse_tail("100001").is_err() && parse_tail("-1").is_err());
        assert_eq!(parse_boot("-1"), Ok(-1));
        assert!(parse_boot("1").is_err());
        assert!(parse_grep("(").is_err());
        assert!(parse_time("soon").is_err());
    }

    #[test]
    fn the_audit_line_names_the_logs_and_the_flags_as_resolved() {
        let request = LogRequest {
            sources: vec![Source::Unit("kubelet".into())],
            since: Some("2026-12-06T20:00:00Z".parse().unwrap()),
            tail: Some(5),
            follow: true,
            ..LogRequest::default()
        };
        assert_eq!(
            audit_line(&request),
            [
                "kubelet",
                "--since",
                "2026-12-06T20:00:00Z",
                "--tail",
                "5",
                "-f"
            ]
        );
    }
}
