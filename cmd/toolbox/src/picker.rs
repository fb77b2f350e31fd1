//! The interactive node picker: a fuzzy search over one aligned line per node.
//!
//! dialoguer's FuzzySelect cannot give `q` a meaning (every printable key is
//! part of its query), so the picker draws its own list with crossterm and
//! ranks with the same fuzzy matcher FuzzySelect uses. `q` on an empty query
//! cancels, as Esc and Ctrl-C do.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::io::{IsTerminal, Write};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;

use crossterm::cursor;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::style::Print;
use crossterm::terminal::{self, ClearType};
use crossterm::{QueueableCommand, queue};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use toolbox_cluster::terminal::RawMode;
use toolbox_cluster::{ClusterContext, NodeRow, aligned_lines, fill_label_columns};

use crate::exit::{AppError, usage};

const PROMPT: &str = "Node (type to search, Enter to choose, Esc or q to cancel)";
const MAX_ROWS: u16 = 15;

/// Whether a picker can be shown: it reads keys from stdin and draws on stderr.
pub fn terminal_available() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Chooses the node when NODE was not given: the only node that matches
/// `selector` is used as is; several open the picker on a terminal.
///
/// The rows come from the server's node Table, which is quick even at
/// thousands of nodes, and the picker opens with them. Its label columns
/// (zone, instance type, OS) come from a second list, asked for only then:
/// asked for at the same time, it took the CPU the Table needed on a small
/// control plane and delayed the picker's opening (docs/benchmarks-notes.md).
pub async fn choose_node(
    cluster: &ClusterContext,
    selector: Option<&str>,
) -> Result<String, AppError> {
    let rows = cluster.node_rows(selector).await?;
    match (rows.as_slice(), selector) {
        ([], Some(selector)) => Err(usage(format!("no nodes match selector {selector}"))),
        ([], None) => Err(usage("the cluster has no nodes")),
        ([only], _) => {
            let why = selector
                .map(|s| format!("matching {s}"))
                .unwrap_or_else(|| "in the cluster".into());
            eprintln!("Using node {}, the only node {why}.", only.name);
            Ok(only.name.clone())
        }
        (many, _) if !terminal_available() => Err(usage(format!(
            "{} nodes match selector {}; pass NODE, or a selector that matches one node",
            many.len(),
            selector.unwrap_or("(none)")
        ))),
        _ => pick(rows, cluster.node_labels(selector)).await,
    }
}

/// Every node's labels, by name.
type NodeLabels = HashMap<String, BTreeMap<String, String>>;

/// Opens the picker on `rows` and fills their label columns in when
/// `labels` brings them; a pick before then does not wait for them.
async fn pick(
    rows: Vec<NodeRow>,
    labels: impl Future<Output = toolbox_cluster::Result<NodeLabels>>,
) -> Result<String, AppError> {
    let (send, receive) = std::sync::mpsc::channel();
    let labels = async move {
        // Without them the columns say <unknown>; the picker still works.
        let labels = labels.await.unwrap_or_else(|err| {
            tracing::debug!("the node labels for the picker: {err}");
            NodeLabels::new()
        });
        // The picker may have ended already; then nobody needs them.
        let _ = send.send(labels);
        std::future::pending::<Infallible>().await
    };
    // Key reads block, so the picker gets a thread of its own.
    let picker = tokio::task::spawn_blocking(move || run_picker(rows, receive));
    let choice = tokio::select! {
        choice = picker => choice,
        never = labels => match never {},
    };
    choice
        .map_err(|e| anyhow::anyhow!("the node picker failed: {e}"))?
        .map_err(|e| anyhow::anyhow!("the node picker failed: {e}"))?
        .ok_or(AppError::Cancelled)
}

/// The picker's state: the query typed so far and the highlighted match.
#[derive(Debug, Default)]
struct Search {
    query: String,
    selected: usize,
}

/// What a key does to the search.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Continue,
    Choose,
    Cancel,
}

impl Search {
    fn key(&mut self, key: KeyEvent, matches: usize) -> Step {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => Step::Cancel,
            KeyCode::Char('c' | 'd') if ctrl => Step::Cancel,
            KeyCode::Char('q') if self.query.is_empty() => Step::Cancel,
            KeyCode::Enter if matches > 0 => Step::Choose,
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                Step::Continue
            }
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(matches.saturating_sub(1));
                Step::Continue
            }
            KeyCode::Backspace => {
                self.query.pop();
                self.selected = 0;
                Step::Continue
            }
            KeyCode::Char(c) if !ctrl => {
                self.query.push(c);
                self.selected = 0;
                Step::Continue
            }
            _ => Step::Continue,
        }
    }

    /// Keeps the highlight on the same line when the lines change under
    /// it (the label columns arrived): `highlighted` was the line
    /// highlighted before, `matches` are the matches now.
    fn keep_highlighted(&mut self, highlighted: Option<usize>, matches: &[usize]) {
        self.selected = highlighted
            .and_then(|line| matches.iter().position(|&m| m == line))
            .unwrap_or(0);
    }

    /// Indexes of the lines that match the query, best first.
    fn matches(&self, matcher: &SkimMatcherV2, lines: &[String]) -> Vec<usize> {
        if self.query.is_empty() {
            return (0..lines.len()).collect();
        }
        let mut scored: Vec<(i64, usize)> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, line)| {
                matcher
                    .fuzzy_match(line, &self.query)
                    .map(|score| (score, i))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, i)| i).collect()
    }
}

/// Shows the cursor again however the picker ends.
struct HiddenCursor;

impl HiddenCursor {
    fn hide() -> std::io::Result<HiddenCursor> {
        std::io::stderr().queue(cursor::Hide)?;
        Ok(HiddenCursor)
    }
}

impl Drop for HiddenCursor {
    fn drop(&mut self) {
        let mut err = std::io::stderr();
        let _ = err.queue(cursor::Show);
        let _ = err.flush();
    }
}

/// Runs the picker on `rows` until a node is chosen (its name) or the
/// picker is cancelled (`None`); fills the rows' label columns in when
/// `labels` brings them.
fn run_picker(
    mut rows: Vec<NodeRow>,
    labels: Receiver<NodeLabels>,
) -> std::io::Result<Option<String>> {
    let _raw = RawMode::enable()?;
    let _cursor = HiddenCursor::hide()?;
    let mut err = std::io::stderr();
    let matcher = SkimMatcherV2::default();
    let mut search = Search::default();
    let mut lines = aligned_lines(&rows);
    let mut labels = Some(labels);
    let mut drawn: u16 = 0;
    loop {
        let matches = search.matches(&matcher, &lines);
        search.selected = search.selected.min(matches.len().saturating_sub(1));
        drawn = draw(&mut err, &lines, &matches, &search, drawn)?;
        let key = match next_input(&mut labels)? {
            Input::Key(key) => key,
            Input::Labels(found) => {
                let highlighted = matches.get(search.selected).copied();
                fill_label_columns(&mut rows, &found);
                lines = aligned_lines(&rows);
                search.keep_highlighted(highlighted, &search.matches(&matcher, &lines));
                continue;
            }
        };
        match search.key(key, matches.len()) {
            Step::Continue => {}
            step => {
                erase(&mut err, drawn)?;
                return Ok(
                    (step == Step::Choose).then(|| rows[matches[search.selected]].name.clone())
                );
            }
        }
    }
}

/// What the picker waits for: a key, or the label columns.
enum Input {
    Key(KeyEvent),
    Labels(NodeLabels),
}

/// How often the picker looks for the labels while it waits for a key.
const LABELS_POLL: Duration = Duration::from_millis(10);

/// The next key press, or the labels when they arrive first (once: then
/// `labels` is `None`, and only keys are waited for).
fn next_input(labels: &mut Option<Receiver<NodeLabels>>) -> std::io::Result<Input> {
    loop {
        if let Some(receiver) = labels {
            let found = match receiver.try_recv() {
                Ok(found) => Some(found),
                Err(TryRecvError::Disconnected) => Some(NodeLabels::new()),
                Err(TryRecvError::Empty) => None,
            };
            if let Some(found) = found {
                *labels = None;
                return Ok(Input::Labels(found));
            }
            if !event::poll(LABELS_POLL)? {
                continue;
            }
        }
        if let Event::Key(key) = event::read()?
            && key.kind == KeyEventKind::Press
        {
            return Ok(Input::Key(key));
        }
    }
}

/// Redraws the prompt and the visible matches over what was drawn before;
/// returns how many lines it drew.
fn draw(
    err: &mut std::io::Stderr,
    lines: &[String],
    matches: &[usize],
    search: &Search,
    drawn: u16,
) -> std::io::Result<u16> {
    let (width, height) = terminal::size().unwrap_or((100, 24));
    let rows = MAX_ROWS.min(height.saturating_sub(2)).max(1) as usize;
    let first = search.selected.saturating_sub(rows - 1);
    erase(err, drawn)?;
    queue!(err, Print(format!("? {PROMPT} › {}\r\n", search.query)))?;
    let mut count = 1;
    for (position, &index) in matches.iter().enumerate().skip(first).take(rows) {
        let marker = if position == search.selected {
            "❯ "
        } else {
            "  "
        };
        let line: String = lines[index]
            .chars()
            .take(width.saturating_sub(3) as usize)
            .collect();
        queue!(err, Print(format!("{marker}{line}\r\n")))?;
        count += 1;
    }
    if matches.is_empty() {
        queue!(err, Print("  (no node matches)\r\n"))?;
        count += 1;
    }
    err.flush()?;
    Ok(count)
}

fn erase(err: &mut std::io::Stderr, drawn: u16) -> std::io::Result<()> {
    if drawn > 0 {
        queue!(err, cursor::MoveUp(drawn))?;
    }
    queue!(
        err,
        cursor::MoveToColumn(0),
        terminal::Clear(ClearType::FromCursorDown)
    )?;
    err.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(search: &mut Search, code: KeyCode, matches: usize) -> Step {
        search.key(KeyEvent::new(code, KeyModifiers::NONE), matches)
    }

    #[test]
    fn q_cancels_only_before_anything_is_typed() {
        let mut search = Search::default();
        assert_eq!(press(&mut search, KeyCode::Char('q'), 3), Step::Cancel);
        press(&mut search, KeyCode::Char('a'), 3);
        assert_eq!(press(&mut search, KeyCode::Char('q'), 3), Step::Continue);
        assert_eq!(search.query, "aq");
        assert_eq!(press(&mut search, KeyCode::Esc, 3), Step::Cancel);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(search.key(ctrl_c, 3), Step::Cancel);
    }

    #[test]
    fn arrows_move_within_the_matches_and_enter_needs_one() {
        let mut search = Search::default();
        press(&mut search, KeyCode::Down, 2);
        press(&mut search, KeyCode::Down, 2);
        assert_eq!(search.selected, 1);
        press(&mut search, KeyCode::Up, 2);
        assert_eq!(search.selected, 0);
        assert_eq!(press(&mut search, KeyCode::Enter, 0), Step::Continue);
        assert_eq!(press(&mut search, KeyCode::Enter, 2), Step::Choose);
    }

    #[test]
    fn the_highlight_stays_on_its_line_when_the_label_columns_arrive() {
        let mut search = Search {
            query: "eu".into(),
            selected: 1,
        };
        // Line 4 was highlighted (second of [2, 4]); with the labels, line 7 matches too.
        search.keep_highlighted(Some(4), &[7, 2, 4]);
        assert_eq!(search.selected, 2);
        // A line that no longer matches leaves the highlight on the best match.
        search.keep_highlighted(Some(9), &[7, 2]);
        assert_eq!(search.selected, 0);
        search.keep_highlighted(None, &[]);
        assert_eq!(search.selected, 0);
    }

    #[test]
    fn typing_narrows_to_the_best_matches_first() {
        let lines: Vec<String> = ["alpha  Ready", "bravo  Ready", "charlie  NotReady"]
            .map(String::from)
            .to_vec();
        let matcher = SkimMatcherV2::default();
        let mut search = Search::default();
        assert_eq!(search.matches(&matcher, &lines), vec![0, 1, 2]);
        for c in "bra".chars() {
            press(&mut search, KeyCode::Char(c), 3);
        }
        assert_eq!(search.matches(&matcher, &lines), vec![1]);
    }
}
