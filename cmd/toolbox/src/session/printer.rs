//! How a fan-out run's events are printed, as `--gather` and `-o` ask:
//! [`Printer`] receives pkg/cluster's per-node events (lines as they come,
//! each node's end) and streams them as `NODE: line`, or keeps them for the
//! end, when [`print_gathered`] prints each distinct output once under its
//! nodes, or [`print_document`] prints one JSON or YAML document. The
//! printer knows nothing of how the run is driven.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, PoisonError};

use indicatif::ProgressBar;
use serde::Serialize;
use toolbox_cluster::nodes::nodeset::{self, fold};
use toolbox_cluster::session::fanout::{FanoutEvents, NodeOutcome, OutputStream, PaceChange};

use super::args::RunOutputArgs;
use super::spinner::terminal_spinner;
use super::summary::Summary;
use crate::exit::AppError;

/// How the run's output is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Each line as it comes, as `NODE: line`.
    Stream,
    /// Identical outputs once, under their node set, at the end.
    Gather,
    /// One JSON or YAML document at the end.
    Document(String),
}

impl From<&RunOutputArgs> for Mode {
    fn from(args: &RunOutputArgs) -> Mode {
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
pub struct Printer {
    pub mode: Mode,
    progress: Option<ProgressBar>,
    counts: Mutex<Counts>,
    running: Mutex<HashMap<String, Output>>,
    /// Distinct outputs and the nodes that gave each (`--gather`).
    groups: Mutex<HashMap<Output, Vec<String>>>,
    /// Every node's output (`-o`).
    outputs: Mutex<HashMap<String, Output>>,
    /// Remarks on how a node's output came back (`-o`; the other modes
    /// print them as they come).
    remarks: Mutex<HashMap<String, Vec<String>>>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    started: usize,
    running: usize,
    done: usize,
    failed: usize,
    /// While the API server pushes back: how many creates at once, of the
    /// run's width.
    paced: Option<PaceChange>,
}

impl Printer {
    pub fn new(mode: Mode, total: usize) -> Printer {
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
            remarks: Mutex::default(),
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
            let pushed_back = counts
                .paced
                .map(|PaceChange { width, max }| {
                    format!("; the API server is pushing back: {width} of {max} at once")
                })
                .unwrap_or_default();
            bar.set_message(format!(
                "{}/{} started, {} running, {} done, {} failed{pushed_back}",
                counts.started, counts.total, counts.running, counts.done, counts.failed
            ));
        }
    }

    fn count(&self, change: impl FnOnce(&mut Counts)) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut counts);
        self.show_progress(&counts);
    }

    /// The stdout and stderr kept for `node` (`-o`), taken out of the
    /// printer, for a document printed elsewhere.
    pub fn take_output(&self, node: &str) -> (String, String) {
        let output = self
            .outputs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(node)
            .unwrap_or_default();
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// The remarks kept for `node` (`-o`), taken out of the printer, as
    /// [`Printer::take_output`] takes its output.
    pub fn take_remarks(&self, node: &str) -> Vec<String> {
        self.remarks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(node)
            .unwrap_or_default()
    }

    pub fn finish_progress(&self) {
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

    fn remark(&self, node: &str, remark: &str) {
        match self.mode {
            Mode::Document(_) => self
                .remarks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(node.to_string())
                .or_default()
                .push(remark.to_string()),
            Mode::Stream | Mode::Gather => self.write(
                OutputStream::Stderr,
                format!("{node}: toolbox: {remark}\n").as_bytes(),
            ),
        }
    }

    fn paced(&self, change: PaceChange) {
        self.count(|c| c.paced = (change.width < change.max).then_some(change));
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
pub fn print_gathered(printer: &Printer) {
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

/// One node of a `-o json|yaml` document; a run on several clusters names
/// its context too.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeDocument<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<&'a str>,
    node: &'a str,
    exit_code: Option<i32>,
    stdout: String,
    stderr: String,
    error: Option<&'a str>,
    /// How the output came back, when that changes what it shows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    remarks: Vec<String>,
}

impl<'a> NodeDocument<'a> {
    /// `node`'s entry, with the output and remarks `printer` kept under
    /// `name` (the node's name, or `CONTEXT/NODE`) taken out of it.
    pub fn take(
        printer: &Printer,
        name: &str,
        context: Option<&'a str>,
        node: &'a str,
        outcome: &'a NodeOutcome,
    ) -> NodeDocument<'a> {
        let (stdout, stderr) = printer.take_output(name);
        let (exit_code, error) = match outcome {
            NodeOutcome::Exited(code) => (Some(*code), None),
            NodeOutcome::NotRun { message, .. } => (None, Some(message.as_str())),
        };
        NodeDocument {
            context,
            node,
            exit_code,
            stdout,
            stderr,
            error,
            remarks: printer.take_remarks(name),
        }
    }
}

pub fn print_document(
    printer: &Printer,
    nodes: &[String],
    outcomes: &[NodeOutcome],
    summary: &Summary,
    format: &str,
) -> Result<(), AppError> {
    let document = Document {
        nodes: nodes
            .iter()
            .zip(outcomes)
            .map(|(node, outcome)| NodeDocument::take(printer, node, None, node, outcome))
            .collect(),
        summary,
    };
    out!("{}", crate::output::document(&document, format)?);
    Ok(())
}
