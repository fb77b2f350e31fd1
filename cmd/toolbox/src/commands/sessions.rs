//! `toolbox sessions`: find recorded sessions (`list`), read one back
//! (`get`), replay one in the terminal (`play`). pkg/cluster's recordings
//! wing finds them (live pods' logs, a node's files through a reader pod);
//! pkg/recording parses and renders them.

use std::io::{IsTerminal, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use clap_complete::engine::ArgValueCompleter;
use comfy_table::{Table, TableStyle};
use futures::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value};
use toolbox_cluster::recordings::{Found, Scope};
use toolbox_cluster::signals::Signals;
use toolbox_cluster::terminal::EchoOff;
use toolbox_cluster::{ClusterError, parse_node_arg};
use toolbox_podtemplate::{reader_cat_command, reader_index_command};
use toolbox_recording::cast::whole_length;
use toolbox_recording::{Event, Location, Recording, State, Summary, node_of};

use crate::app::App;
use crate::complete;
use crate::contexts::{ContextArgs, selected_contexts};
use crate::exit::{AppError, ExitStatus, usage};
use crate::session::pod::reader_session;
use crate::session::preflight::{NodeUse, preflight, preflight_connected};
use crate::session::spinner::Spinner;

/// Find, read and replay recorded sessions.
///
/// Every toolbox session is recorded on its node (docs/sessions.md). While
/// a session's pod lives, its recording is read from the pod's container
/// log; afterwards from the node's file, through a short-lived reader pod on
/// that node (deleted when done, and bounded by a TTL like every toolbox
/// pod).
#[derive(Debug, Args)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub command: SessionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List recorded sessions: live ones, and with NODE those kept on the node
    ///
    /// Without NODE: the live sessions, from the container logs of recorded
    /// pods in the namespace (-A: in every namespace). With NODE: that node's
    /// live sessions and the recordings kept in its sessions directory, read by
    /// a reader pod on the node. A session seen in both is one row.
    #[command(
        after_help = "Examples:\n  toolbox sessions list -A\n  toolbox sessions list node-1 --since 24h --user alice@example.com\n  toolbox sessions list node-1 -o json"
    )]
    List(ListArgs),

    /// Print one session's recording: asciicast, JSON, or plain text for grep
    ///
    /// The session's id names its node. While a pod with the session lives, its
    /// container log is read; otherwise the node's file. A recording cut short
    /// is read up to its last whole event, and said to be truncated on stderr.
    #[command(
        after_help = "Examples:\n  toolbox sessions get node-1.20261203T101500Z-4f1c9a2e > session.cast\n  toolbox sessions get node-1.20261203T101500Z-4f1c9a2e -o text | grep systemctl"
    )]
    Get(GetArgs),

    /// Replay one session in the terminal, with its timing
    ///
    /// The output is shown with the recording's timing. Resizes are not
    /// replayed (toolbox cannot resize your terminal); input is not shown (the
    /// output echoed it). Ctrl-C stops the replay; the terminal is put back as
    /// it was however the replay ends.
    #[command(
        after_help = "Examples:\n  toolbox sessions play node-1.20261203T101500Z-4f1c9a2e\n  toolbox sessions play node-1.20261203T101500Z-4f1c9a2e --speed 4 --idle-limit 2"
    )]
    Play(PlayArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The node whose kept recordings to list too (NAME or node/NAME)
    #[arg(value_name = "NODE", add = ArgValueCompleter::new(complete::nodes))]
    pub node: Option<String>,

    /// Live pods in all namespaces, even when -n is given
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Only sessions that started within this long, e.g. 30m or 24h
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<Duration>,

    /// Only the sessions of this user (the recording's requested-by)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Output format
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = ["table", "json", "yaml"], default_value = "table")]
    pub output: String,

    #[command(flatten)]
    pub contexts: ContextArgs,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    /// The session's id, as toolbox printed it or sessions list shows it
    #[arg(value_name = "ID")]
    pub id: String,

    /// Look for the live pod in all namespaces, even when -n is given
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// cast: asciicast v2, as asciinema plays it; json: the header, events and
    /// whether it is truncated, as one document; text: the output with escape
    /// sequences removed
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = ["cast", "json", "text"], default_value = "cast")]
    pub output: String,
}

#[derive(Debug, Args)]
pub struct PlayArgs {
    /// The session's id
    #[arg(value_name = "ID")]
    pub id: String,

    /// Look for the live pod in all namespaces, even when -n is given
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Play this many times faster (0.5 is half speed)
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_positive)]
    pub speed: f64,

    /// Shorten every pause longer than this many seconds to it
    #[arg(long, value_name = "SECONDS", value_parser = parse_positive)]
    pub idle_limit: Option<f64>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 90s, 30m, 24h)"))
}

fn parse_positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err("must be a number above 0, e.g. 2 or 0.5".to_string()),
    }
}

pub async fn run(args: SessionsArgs, app: &App) -> Result<ExitStatus, AppError> {
    match args.command {
        SessionsCommand::List(args) => list(args, app).await,
        SessionsCommand::Get(args) => get(args, app).await,
        SessionsCommand::Play(args) => play(args, app).await,
    }
}

async fn list(args: ListArgs, app: &App) -> Result<ExitStatus, AppError> {
    let node = args.node.as_deref().map(parse_node_arg).transpose()?;
    let contexts = selected_contexts(app, &args.contexts)?;
    let spinner = Spinner::new(
        match (node, &contexts) {
            (Some(node), None) => format!("Reading the recordings on node {node}"),
            (None, None) => "Reading the logs of recorded pods".to_string(),
            (Some(node), Some(contexts)) => format!(
                "Reading the recordings on node {node} in {} contexts",
                contexts.len()
            ),
            (None, Some(contexts)) => format!(
                "Reading the logs of recorded pods in {} contexts",
                contexts.len()
            ),
        },
        None,
    );
    let Some(contexts) = contexts else {
        let listed = list_in(app, None, &args, node, &spinner).await;
        spinner.finish();
        let (rows, notes) = listed?;
        for note in &notes {
            eprintln!("{note}");
        }
        let rows = wanted(rows, &args);
        match args.output.as_str() {
            format @ ("json" | "yaml") => out!("{}", crate::output::document(&rows, format)?),
            _ if rows.is_empty() => eprintln!("No sessions found."),
            _ => outln!("{}", render_table(&rows, None)),
        }
        return Ok(ExitStatus::Success);
    };

    let answers: Vec<(String, Result<Listed, AppError>)> =
        futures::stream::iter(contexts.into_iter().map(|context| {
            let (args, spinner) = (&args, &spinner);
            async move {
                let rows = list_in(app, Some(&context), args, node, spinner).await;
                (context, rows)
            }
        }))
        .buffered(CONTEXTS_AT_ONCE)
        .collect()
        .await;
    spinner.finish();
    let contexts_asked = answers.len();
    let (mut rows, mut notes, mut failures) = (Vec::new(), Vec::new(), Vec::new());
    for (context, answer) in answers {
        match answer {
            Ok((found, context_notes)) => {
                rows.extend(
                    wanted(found, &args)
                        .into_iter()
                        .map(|row| (context.clone(), row)),
                );
                notes.extend(
                    context_notes
                        .into_iter()
                        .map(|note| (context.clone(), note)),
                );
            }
            Err(err) => failures.push((context, err)),
        }
    }
    // A note every context gives alike (what a listing without NODE
    // leaves out) is told once; one of a single context names it.
    let contexts_answered = contexts_asked - failures.len();
    let mut told = Vec::new();
    for (context, note) in &notes {
        let alike = notes.iter().filter(|(_, other)| other == note).count();
        if alike == contexts_answered && contexts_answered > 1 {
            if !told.contains(note) {
                eprintln!("{note}");
                told.push(note.clone());
            }
        } else {
            eprintln!("{context}: {note}");
        }
    }
    // A context that could not be listed fails alone, told with its
    // reason; the others are listed, and the exit code is 1.
    let failures = crate::contexts::tell_failures(failures, contexts_answered == 0)?;
    let rows_in_context: Vec<RowInContext<'_>> = rows
        .iter()
        .map(|(context, row)| RowInContext { context, row })
        .collect();
    match args.output.as_str() {
        format @ ("json" | "yaml") => {
            out!("{}", crate::output::document(&rows_in_context, format)?)
        }
        _ if rows.is_empty() => eprintln!("No sessions found."),
        _ => {
            let contexts: Vec<&str> = rows.iter().map(|(context, _)| context.as_str()).collect();
            let rows: Vec<Summary> = rows.iter().map(|(_, row)| row.clone()).collect();
            outln!("{}", render_table(&rows, Some(&contexts)))
        }
    }
    Ok(if failures.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// How many contexts list at once: see [`crate::session::clusters`]'s
/// pre-flights, which are as light.
const CONTEXTS_AT_ONCE: usize = 8;

/// A `sessions list` row of a listing over several clusters, with its
/// context.
#[derive(Debug, Serialize)]
struct RowInContext<'a> {
    context: &'a str,
    #[serde(flatten)]
    row: &'a Summary,
}

/// A cluster's rows and the notes for stderr.
type Listed = (Vec<Summary>, Vec<String>);

/// One cluster's rows, unfiltered, and the listing's notes for stderr:
/// the one `--context` names (or the current one), or `context`. A node's
/// kept recordings are read by a pod there.
async fn list_in(
    app: &App,
    context: Option<&str>,
    args: &ListArgs,
    node: Option<&str>,
    spinner: &Spinner,
) -> Result<Listed, AppError> {
    let node_use = match node {
        Some(_) => NodeUse::Session,
        None => NodeUse::Inspect,
    };
    let cluster = match context {
        Some(context) => app.connect_to(context).await?,
        None => app.connect().await?,
    };
    let (cluster, user, ()) = preflight_connected(cluster, context, node_use, async |cluster| {
        if let Some(node) = node {
            cluster.get_node(node).await?;
        }
        Ok(())
    })
    .await?;
    let scope = Scope {
        all_namespaces: args.all_namespaces,
        node: node.map(str::to_string),
    };
    let reader = node.map(|node| {
        let mut audit_line = vec!["list".to_string(), node.to_string()];
        if args.all_namespaces {
            audit_line.push("-A".into());
        }
        reader_session(
            &app.settings,
            node,
            &cluster.namespace,
            user,
            audit_line,
            reader_index_command(),
        )
    });
    let listing = cluster.list_recordings(&scope, reader, spinner).await?;
    Ok((listing.rows, listing.notes))
}

/// The rows --user and --since keep.
fn wanted(rows: Vec<Summary>, args: &ListArgs) -> Vec<Summary> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rows.into_iter()
        .filter(|row| {
            args.user
                .as_ref()
                .is_none_or(|u| row.user.as_ref() == Some(u))
        })
        .filter(|row| match (args.since, row.start) {
            (Some(since), Some(start)) => start + since.as_secs() >= now,
            _ => true,
        })
        .collect()
}

/// kubectl's look, as cleanup's: no borders, three spaces between columns;
/// with `contexts` (one per row), a CONTEXT column first.
fn render_table(rows: &[Summary], contexts: Option<&[&str]>) -> String {
    let mut table = Table::new();
    table.load_style(TableStyle::new());
    let columns = [
        "ID",
        "NODE",
        "POD",
        "USER",
        "START",
        "DURATION",
        "EXIT",
        "SIZE",
        "STATE",
        "RECORDING",
    ];
    table.set_header(contexts.map(|_| "CONTEXT").into_iter().chain(columns));
    let dash = || "-".to_string();
    for (i, row) in rows.iter().enumerate() {
        let columns = [
            row.id.clone(),
            row.node.clone(),
            row.pod.clone().unwrap_or_else(dash),
            row.user.clone().unwrap_or_else(dash),
            row.start.map(start_time).unwrap_or_else(dash),
            seconds(row.duration),
            row.exit.map(|e| e.to_string()).unwrap_or_else(dash),
            bytes(row.size),
            state_word(row.state).to_string(),
            row.locations
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ];
        let context = contexts.map(|contexts| contexts[i].to_string());
        table.add_row(context.into_iter().chain(columns));
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    table.trim_fmt()
}

fn start_time(epoch_seconds: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(epoch_seconds)).to_string()
}

fn seconds(duration: f64) -> String {
    humantime::format_duration(Duration::from_secs(duration.round() as u64)).to_string()
}

fn bytes(size: u64) -> String {
    match size {
        n if n < 1024 => format!("{n}B"),
        n if n < 1024 * 1024 => format!("{:.1}KiB", n as f64 / 1024.0),
        n => format!("{:.1}MiB", n as f64 / (1024.0 * 1024.0)),
    }
}

fn state_word(state: State) -> &'static str {
    match state {
        State::Ended => "ended",
        State::Running => "running",
        State::Truncated => "truncated",
        State::Corrupt => "corrupt",
    }
}

/// A session's recording as found, parsed.
struct Read {
    recording: Recording,
    /// The asciicast bytes: a file's own whole lines, or the log's lines
    /// written out.
    cast: Vec<u8>,
    location: Location,
}

/// Finds and parses session `id`. `what` is the subcommand, for the audit
/// annotation of a reader pod.
async fn read_session(
    id: &str,
    all_namespaces: bool,
    what: &str,
    app: &App,
) -> Result<Read, AppError> {
    toolbox_recording::validate(id).map_err(|e| usage(e.to_string()))?;
    let node = node_of(id).unwrap_or_default().to_string();
    // A node that does not exist keeps no recording, and would hold a
    // reader pod in Pending until its start timeout.
    let (cluster, user, _) = preflight(app, NodeUse::Inspect, async |cluster| {
        Ok(cluster.get_node(&node).await?)
    })
    .await?;
    let reader = reader_session(
        &app.settings,
        &node,
        &cluster.namespace,
        user,
        vec![what.to_string(), id.to_string()],
        reader_cat_command(id),
    );
    let spinner = Spinner::new(format!("Reading session {id}"), None);
    let found = cluster
        .find_recording(id, all_namespaces, reader, &spinner)
        .await;
    spinner.finish();
    let read = match found? {
        Found::Log {
            namespace,
            pod,
            logged,
        } => {
            // find_recording returns a log only with its header.
            let recording = logged.recording().ok_or_else(|| {
                anyhow::anyhow!("the log of pod {namespace}/{pod} lost the header of session {id}")
            })?;
            Read {
                cast: recording.to_cast(),
                recording,
                location: Location::Log { namespace, pod },
            }
        }
        Found::File { path, bytes } => {
            let recording = toolbox_recording::parse(&bytes).map_err(|corrupt| {
                anyhow::anyhow!(
                    "the recording of session {id} ({path} on node {node}) is corrupt: {corrupt}"
                )
            })?;
            let whole = whole_length(&bytes, &recording);
            let mut cast = bytes;
            cast.truncate(whole);
            Read {
                recording,
                cast,
                location: Location::Node { path },
            }
        }
    };
    Ok(read)
}

/// The line said when a recording was cut short.
fn truncated_line(id: &str, recording: &Recording) -> String {
    format!(
        "note: the recording of session {id} is truncated: it ends at its last whole event, {:.1}s in, without the session's exit",
        recording.duration()
    )
}

/// `get -o json`: the recording as one document.
#[derive(Serialize)]
struct Document<'a> {
    id: &'a str,
    source: &'a Location,
    header: &'a Map<String, Value>,
    events: &'a [Event],
    exit: Option<i64>,
    truncated: bool,
}

async fn get(args: GetArgs, app: &App) -> Result<ExitStatus, AppError> {
    let read = read_session(&args.id, args.all_namespaces, "get", app).await?;
    let recording = &read.recording;
    let out = match args.output.as_str() {
        "json" => {
            let document = Document {
                id: &args.id,
                source: &read.location,
                header: &recording.header,
                events: &recording.events,
                exit: recording.exit(),
                truncated: recording.truncated,
            };
            crate::output::document(&document, "json")?.into_bytes()
        }
        "text" => toolbox_recording::plain_text(recording).into_bytes(),
        _ => read.cast.clone(),
    };
    crate::output::write_stdout(out);
    if recording.truncated {
        eprintln!("{}", truncated_line(&args.id, recording));
    }
    Ok(ExitStatus::Success)
}

/// What the recorded output may have left on the terminal, undone: colours
/// and attributes, a hidden cursor, the alternate screen.
const TERMINAL_RESET: &str = "\u{1b}[0m\u{1b}[?25h";
const LEAVE_ALTERNATE_SCREEN: &str = "\u{1b}[?1049l";

/// The terminal while a replay runs: echo off, and on every way out (the
/// end, Ctrl-C, SIGTERM, a closed terminal, an error) the recorded output's
/// leftovers undone and the terminal's mode put back.
struct Replay {
    _echo_off: EchoOff,
    alternate_screen: bool,
}

impl Drop for Replay {
    fn drop(&mut self) {
        let mut stdout = std::io::stdout();
        let mut reset = TERMINAL_RESET.to_string();
        if self.alternate_screen {
            reset.push_str(LEAVE_ALTERNATE_SCREEN);
        }
        let _ = stdout.write_all(reset.as_bytes());
        let _ = stdout.flush();
    }
}

async fn play(args: PlayArgs, app: &App) -> Result<ExitStatus, AppError> {
    if !std::io::stdout().is_terminal() {
        return Err(usage(format!(
            "sessions play needs a terminal on stdout; to save the recording instead: toolbox sessions get {} -o cast > session.cast",
            args.id
        )));
    }
    let read = read_session(&args.id, args.all_namespaces, "play", app).await?;
    let recording = &read.recording;
    let frames = toolbox_recording::schedule(&recording.events, args.speed, args.idle_limit);
    let mut signals = Signals::install().map_err(anyhow::Error::from)?;
    let mut replay = Replay {
        _echo_off: EchoOff::enable().map_err(ClusterError::from)?,
        alternate_screen: false,
    };
    let start = tokio::time::Instant::now();
    let mut stdout = tokio::io::stdout();
    for frame in frames {
        tokio::select! {
            signal = signals.recv() => {
                drop(replay);
                return Err(ClusterError::Interrupted { signal }.into());
            }
            () = tokio::time::sleep_until(start + frame.at) => {}
        }
        replay.alternate_screen |= frame.data.contains("\u{1b}[?1049h")
            || frame.data.contains("\u{1b}[?1047h")
            || frame.data.contains("\u{1b}[?47h");
        use tokio::io::AsyncWriteExt;
        if stdout.write_all(frame.data.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
            // The terminal went away: nothing left to show it on.
            break;
        }
    }
    drop(replay);
    if recording.truncated {
        eprintln!("\r\n{}", truncated_line(&args.id, recording));
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_as_a_person_says_them() {
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1536), "1.5KiB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0MiB");
        assert_eq!(seconds(4.5), "5s");
        assert_eq!(seconds(125.0), "2m 5s");
        assert_eq!(start_time(1_764_756_900), "2025-12-03T10:15:00Z");
        assert!(parse_positive("0").is_err() && parse_positive("-1").is_err());
        assert_eq!(parse_positive("0.5"), Ok(0.5));
    }

    #[test]
    fn the_table_has_one_row_per_session_with_where_it_is() {
        let row = Summary {
            id: "node-1.20261203T101500Z-4f1c9a2e".into(),
            node: "node-1".into(),
            namespace: Some("ns".into()),
            pod: Some("toolbox-shell-node-1-x7k2p".into()),
            user: Some("alice".into()),
            command: None,
            start: Some(1_764_756_900),
            duration: 4.2,
            exit: Some(3),
            size: 2048,
            truncated: false,
            state: State::Ended,
            locations: vec![Location::Log {
                namespace: "ns".into(),
                pod: "toolbox-shell-node-1-x7k2p".into(),
            }],
        };
        let table = render_table(std::slice::from_ref(&row), None);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("ID "), "{table}");
        for word in [
            "node-1.20261203T101500Z-4f1c9a2e",
            "alice",
            "4s",
            "2.0KiB",
            "ended",
            "log ns/toolbox-shell-node-1-x7k2p",
        ] {
            assert!(lines[1].contains(word), "{word} in {table}");
        }
        let in_contexts = render_table(&[row.clone(), row.clone()], Some(&["prod-eu", "staging"]));
        let lines: Vec<&str> = in_contexts.lines().collect();
        assert!(lines[0].starts_with("CONTEXT   ID "), "{in_contexts}");
        assert!(lines[1].starts_with("prod-eu   node-1."), "{in_contexts}");
        assert!(lines[2].starts_with("staging   node-1."), "{in_contexts}");
        let json = serde_json::to_value(RowInContext {
            context: "staging",
            row: &row,
        })
        .unwrap();
        assert_eq!(json["context"], "staging");
        assert_eq!(json["id"], "node-1.20261203T101500Z-4f1c9a2e");
    }
}
