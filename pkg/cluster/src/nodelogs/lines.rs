//! What toolbox does itself to a log the kubelet cannot filter (one kept
//! as a file): `--since`/`--until` by the time a line starts with,
//! `--grep`, and `--tail` in a ring of at most N lines. Streaming and in
//! bounded memory: a line is judged as it comes and kept only while it may
//! still be among the last N. Pure: the clock comes in as `now`.
//!
//! - [`line_time`]: the time a line starts with (RFC 3339, logfmt's
//!   `time="..."`, klog's `I1206 20:56:47.123456`, syslog's and
//!   journalctl's `Dec  6 20:56:47`). A line without one belongs to the
//!   entry before it (a stack trace, a multi-line message).
//! - [`Filter`] (the flags, checked) and [`LineFilter`] (one log read
//!   through them).
//! - [`PodOutput`]: the fallback pod's output, a section per log, each
//!   introduced by a mark line ([`mark_line`]) that says whether the log
//!   came from the journal (filtered by journalctl already) or a file.
//! - [`JournalFollow`]: a journal followed by asking again since the last
//!   second seen, without the lines already printed.

use std::collections::VecDeque;
use std::time::Duration;

use k8s_openapi::jiff::civil::{Date, DateTime, Time};
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use regex::bytes::{Regex, RegexBuilder};

/// The most lines `--tail` keeps: the kubelet's own bound (`maxTailLines`).
pub const MAX_TAIL: usize = 100_000;

/// A time given to `--since` or `--until`: that long ago, or a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeArg {
    Ago(Duration),
    At(Timestamp),
}

impl TimeArg {
    /// `1h`, `30m` (that long ago); `2026-12-06T20:56:47Z` or with an
    /// offset (RFC 3339); `2026-12-06 20:56:47` or `2026-12-06` (UTC).
    pub fn parse(text: &str) -> Result<TimeArg, String> {
        let text = text.trim();
        if let Ok(ago) = humantime::parse_duration(text) {
            return Ok(TimeArg::Ago(ago));
        }
        if let Ok(at) = text.parse::<Timestamp>() {
            return Ok(TimeArg::At(at));
        }
        let civil = text.parse::<DateTime>().or_else(|_| {
            text.parse::<Date>()
                .map(|d| d.to_datetime(Time::midnight()))
        });
        match civil.ok().and_then(|dt| dt.to_zoned(TimeZone::UTC).ok()) {
            Some(zoned) => Ok(TimeArg::At(zoned.timestamp())),
            None => Err(
                "not a duration or a time (examples: 1h, 30m, 2026-12-06T20:00:00Z, 2026-12-06 20:00:00 in UTC)"
                    .into(),
            ),
        }
    }

    /// The time this names, seen from `now`.
    pub fn resolve(self, now: Timestamp) -> Timestamp {
        match self {
            TimeArg::At(at) => at,
            TimeArg::Ago(ago) => SignedDuration::try_from(ago)
                .ok()
                .and_then(|ago| now.checked_sub(ago).ok())
                .unwrap_or(Timestamp::MIN),
        }
    }
}

/// A `--grep` pattern as the kubelet passes it to journalctl, whose
/// `--grep` ignores case when the pattern has no upper-case letter (an
/// escape such as `\S` is not one): toolbox matches a file's lines the same
/// way. The kubelet checks the pattern with Go's RE2 syntax; the `regex`
/// crate's is the same family, so a pattern refused here would be refused
/// there.
pub fn grep_regex(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(!has_upper_case(pattern))
        .size_limit(1 << 20)
        .build()
        .map_err(|err| match err {
            regex::Error::Syntax(text) => text
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .map(|l| l.trim_start_matches("error:").trim().to_string())
                .unwrap_or(text),
            other => other.to_string(),
        })
}

fn has_upper_case(pattern: &str) -> bool {
    let mut escaped = false;
    for c in pattern.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c.is_uppercase() {
            return true;
        }
    }
    false
}

/// What a log is read through, with the times resolved.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub grep: Option<Regex>,
    /// The last N lines (of those the other filters let through).
    pub tail: Option<usize>,
}

impl Filter {
    /// Whether anything is filtered at all.
    pub fn is_empty(&self) -> bool {
        self.since.is_none() && self.until.is_none() && self.grep.is_none() && self.tail.is_none()
    }
}

/// The time `line` starts with, in UTC where the line names no zone (klog,
/// syslog and a bare RFC 3339 time do not). A year-less time (klog,
/// syslog) is taken in `now`'s year, or the year before when that would be
/// more than a day ahead of `now` (a December line read in January).
pub fn line_time(line: &[u8], now: Timestamp) -> Option<Timestamp> {
    let head = &line[..line.len().min(64)];
    let text = std::str::from_utf8(head)
        .or_else(|err| std::str::from_utf8(&head[..err.valid_up_to()]))
        .ok()?;
    if let Some(rest) = text.strip_prefix("time=") {
        let value = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next()?,
            None => rest.split(' ').next()?,
        };
        return rfc3339(value);
    }
    let first = text.as_bytes().first()?;
    if first.is_ascii_digit() {
        return rfc3339_prefix(text);
    }
    if matches!(first, b'I' | b'W' | b'E' | b'F')
        && text.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
    {
        return klog(text, now);
    }
    syslog(text, now)
}

/// `2026-12-06T20:56:47.123Z`, `2026-12-06 20:56:47+01:00`, or without a
/// zone (UTC), up to the first space after the time.
fn rfc3339_prefix(text: &str) -> Option<Timestamp> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b' ')
    {
        return None;
    }
    let end = text[11..]
        .find([' ', '\t', ',', ']'])
        .map_or(text.len(), |at| at + 11);
    rfc3339(&text[..end])
}

fn rfc3339(value: &str) -> Option<Timestamp> {
    if let Ok(at) = value.parse::<Timestamp>() {
        return Some(at);
    }
    let civil = value.parse::<DateTime>().ok()?;
    Some(civil.to_zoned(TimeZone::UTC).ok()?.timestamp())
}

fn number(text: &str, range: std::ops::Range<usize>) -> Option<i32> {
    let part = text.get(range)?;
    if part.bytes().all(|b| b.is_ascii_digit() || b == b' ')
        && part.bytes().any(|b| b.is_ascii_digit())
    {
        part.trim().parse().ok()
    } else {
        None
    }
}

/// The fraction after `HH:MM:SS` at `at` (`.123456`), in nanoseconds.
fn fraction(text: &str, at: usize) -> i32 {
    let Some(digits) = text.get(at..).and_then(|rest| rest.strip_prefix('.')) else {
        return 0;
    };
    let digits: String = digits
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    format!("{digits:0<9}").parse().unwrap_or(0)
}

/// `I1206 20:56:47.123456`: klog's level, month, day and time.
fn klog(text: &str, now: Timestamp) -> Option<Timestamp> {
    if text.as_bytes().get(5) != Some(&b' ') {
        return None;
    }
    let (month, day) = (number(text, 1..3)?, number(text, 3..5)?);
    let time = clock(text, 6)?;
    in_year(month, day, time, now)
}

/// `HH:MM:SS[.frac]` at `at`.
fn clock(text: &str, at: usize) -> Option<Time> {
    let bytes = text.as_bytes();
    if bytes.get(at + 2) != Some(&b':') || bytes.get(at + 5) != Some(&b':') {
        return None;
    }
    let (h, m, s) = (
        number(text, at..at + 2)?,
        number(text, at + 3..at + 5)?,
        number(text, at + 6..at + 8)?,
    );
    Time::new(h as i8, m as i8, s as i8, fraction(text, at + 8)).ok()
}

/// `Dec  6 20:56:47` (syslog) or `Dec 06 20:56:47.123456` (journalctl's
/// short-precise).
fn syslog(text: &str, now: Timestamp) -> Option<Timestamp> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| text.starts_with(m))? as i32 + 1;
    if text.as_bytes().get(3) != Some(&b' ') {
        return None;
    }
    let day = number(text, 4..6)?;
    let time = clock(text, 7)?;
    in_year(month, day, time, now)
}

fn in_year(month: i32, day: i32, time: Time, now: Timestamp) -> Option<Timestamp> {
    let year = now.to_zoned(TimeZone::UTC).year();
    let at = |year: i16| -> Option<Timestamp> {
        let date = Date::new(year, month as i8, day as i8).ok()?;
        Some(
            date.to_datetime(time)
                .to_zoned(TimeZone::UTC)
                .ok()?
                .timestamp(),
        )
    };
    let this_year = at(year)?;
    if this_year.duration_since(now) > SignedDuration::from_hours(24) {
        return at(year - 1);
    }
    Some(this_year)
}

/// One log read through a [`Filter`]: lines in, the lines to print out.
/// With `--tail`, the lines that pass are kept in a ring of at most N until
/// [`LineFilter::end_initial`] (the end of what was there: the end of the
/// read, or where following starts); after it, lines pass at once.
#[derive(Debug)]
pub struct LineFilter {
    filter: Filter,
    now: Timestamp,
    /// The time of the entry the current line belongs to.
    entry_time: Option<Timestamp>,
    ring: VecDeque<Vec<u8>>,
    initial: bool,
    /// How many lines started with a time toolbox reads.
    timed: u64,
    lines: u64,
}

impl LineFilter {
    pub fn new(filter: Filter, now: Timestamp) -> LineFilter {
        LineFilter {
            filter,
            now,
            entry_time: None,
            ring: VecDeque::new(),
            initial: true,
            timed: 0,
            lines: 0,
        }
    }

    /// Takes one line (without its newline); `out` gets what is printed now.
    pub fn push(&mut self, line: &[u8], out: &mut impl FnMut(&[u8])) {
        self.lines += 1;
        if self.filter.since.is_some() || self.filter.until.is_some() {
            if let Some(at) = line_time(line, self.now) {
                self.timed += 1;
                self.entry_time = Some(at);
            }
            let within = self.entry_time.is_some_and(|at| {
                self.filter.since.is_none_or(|since| at >= since)
                    && self.filter.until.is_none_or(|until| at <= until)
            });
            if !within {
                return;
            }
        }
        if let Some(grep) = &self.filter.grep
            && !grep.is_match(line)
        {
            return;
        }
        match self.filter.tail {
            Some(n) if self.initial => {
                if n == 0 {
                    return;
                }
                if self.ring.len() == n {
                    self.ring.pop_front();
                }
                self.ring.push_back(line.to_vec());
            }
            _ => out(line),
        }
    }

    /// What was there has been read: the kept last N lines go out, and
    /// lines from now on pass at once.
    pub fn end_initial(&mut self, out: &mut impl FnMut(&[u8])) {
        self.initial = false;
        for line in self.ring.drain(..) {
            out(&line);
        }
    }

    /// A line for the user when `--since`/`--until` could judge no line at
    /// all: none started with a time toolbox reads.
    pub fn untimed_note(&self) -> Option<String> {
        let timed_filter = self.filter.since.is_some() || self.filter.until.is_some();
        (timed_filter && self.lines > 0 && self.timed == 0).then(|| {
            "no line starts with a time toolbox reads (RFC 3339, logfmt time=, klog, syslog), so --since/--until let none through".to_string()
        })
    }
}

/// The first word of a mark line: what the fallback pod's script prints
/// before each log, followed by the run's token.
const MARK: &str = "@toolbox-logs:";

/// Where one log of the fallback pod's output came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Section {
    /// The node's journal, through journalctl, which applied the options.
    Journal { unit: String },
    /// A file, `size` bytes long when the pod started reading it.
    File { path: String, size: u64 },
}

/// The mark line the pod's script prints before a log, as the script
/// writes it (for tests and the script's contract):
/// `@toolbox-logs:TOKEN journal UNIT` or `@toolbox-logs:TOKEN file SIZE PATH`.
pub fn mark_line(token: &str, section: &Section) -> String {
    match section {
        Section::Journal { unit } => format!("{MARK}{token} journal {unit}"),
        Section::File { path, size } => format!("{MARK}{token} file {size} {path}"),
    }
}

fn parse_mark(line: &[u8], token: &str) -> Option<Section> {
    let text = std::str::from_utf8(line).ok()?;
    let rest = text
        .strip_prefix(MARK)?
        .strip_prefix(token)?
        .strip_prefix(' ')?;
    if let Some(unit) = rest.strip_prefix("journal ") {
        return Some(Section::Journal {
            unit: unit.to_string(),
        });
    }
    let (size, path) = rest.strip_prefix("file ")?.split_once(' ')?;
    Some(Section::File {
        path: path.to_string(),
        size: size.parse().ok()?,
    })
}

/// The fallback pod's stdout, read line by line: journal sections pass as
/// they are (journalctl applied the options), file sections go through a
/// [`LineFilter`]. When following a file, the first `size` bytes are what
/// was there (the last N lines of them are printed), the rest is new.
#[derive(Debug)]
pub struct PodOutput {
    token: String,
    filter: Filter,
    now: Timestamp,
    follow: bool,
    file: Option<LineFilter>,
    /// Bytes of the file still to come before following starts.
    initial_left: Option<u64>,
    notes: Vec<String>,
}

impl PodOutput {
    pub fn new(token: &str, filter: Filter, follow: bool, now: Timestamp) -> PodOutput {
        PodOutput {
            token: token.to_string(),
            filter,
            now,
            follow,
            file: None,
            initial_left: None,
            notes: Vec::new(),
        }
    }

    pub fn line(&mut self, line: &[u8], out: &mut impl FnMut(&[u8])) {
        if let Some(section) = parse_mark(line, &self.token) {
            self.end_section(out);
            if let Section::File { size, .. } = section {
                self.file = Some(LineFilter::new(self.filter.clone(), self.now));
                if self.follow {
                    self.initial_left = Some(size);
                    if size == 0 {
                        self.reach_new_lines(out);
                    }
                }
            }
            return;
        }
        let Some(file) = &mut self.file else {
            return out(line);
        };
        file.push(line, out);
        if let Some(left) = self.initial_left {
            let left = left.saturating_sub(line.len() as u64 + 1);
            self.initial_left = Some(left);
            if left == 0 {
                self.reach_new_lines(out);
            }
        }
    }

    fn reach_new_lines(&mut self, out: &mut impl FnMut(&[u8])) {
        self.initial_left = None;
        if let Some(file) = &mut self.file {
            file.end_initial(out);
        }
    }

    fn end_section(&mut self, out: &mut impl FnMut(&[u8])) {
        if let Some(mut file) = self.file.take() {
            file.end_initial(out);
            self.notes.extend(file.untimed_note());
        }
        self.initial_left = None;
    }

    /// The output ended: the last file's kept lines go out. Returns the
    /// notes for the user (a file whose lines had no time to filter by).
    pub fn finish(&mut self, out: &mut impl FnMut(&[u8])) -> Vec<String> {
        self.end_section(out);
        std::mem::take(&mut self.notes)
    }
}

/// A journal followed by asking the log query again and again since the
/// second of the last line printed (the query's `sinceTime` has seconds
/// only): the lines of that second already printed are left out, the rest
/// printed.
#[derive(Debug)]
pub struct JournalFollow {
    now: Timestamp,
    /// The time of the last line printed, and the lines printed at it.
    last: Option<(Timestamp, Vec<Vec<u8>>)>,
    /// Whether the current entry (a line and the untimed lines after it)
    /// was printed already.
    skipping: bool,
}

impl JournalFollow {
    pub fn new(now: Timestamp) -> JournalFollow {
        JournalFollow {
            now,
            last: None,
            skipping: false,
        }
    }

    /// The `sinceTime` of the next query: the last second seen, if any.
    pub fn since(&self) -> Option<Timestamp> {
        self.last
            .as_ref()
            .and_then(|(at, _)| Timestamp::from_second(at.as_second()).ok())
    }

    /// Takes a line of a query's answer; `out` gets it if it is new.
    /// journalctl's own remarks (`-- No entries --`) are left out.
    pub fn line(&mut self, line: &[u8], out: &mut impl FnMut(&[u8])) {
        if line.starts_with(b"-- ") && line.ends_with(b" --") {
            return;
        }
        if let Some(at) = line_time(line, self.now) {
            match &mut self.last {
                Some((last, _)) if at < *last => self.skipping = true,
                Some((last, seen)) if at == *last => {
                    self.skipping = seen.iter().any(|l| l == line);
                    if !self.skipping {
                        seen.push(line.to_vec());
                    }
                }
                _ => {
                    self.last = Some((at, vec![line.to_vec()]));
                    self.skipping = false;
                }
            }
        }
        if !self.skipping {
            out(line);
        }
    }

    /// Before the answer of the next query: an untimed line at its start
    /// belongs to an entry already printed.
    pub fn next_answer(&mut self) {
        self.skipping = self.last.is_some();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-06T21:00:00Z".parse().unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn run(filter: Filter, lines: &[&str]) -> Vec<String> {
        let mut printed = Vec::new();
        let mut out = |l: &[u8]| printed.push(String::from_utf8_lossy(l).into_owned());
        let mut f = LineFilter::new(filter, now());
        for line in lines {
            f.push(line.as_bytes(), &mut out);
        }
        f.end_initial(&mut out);
        printed
    }

    #[test]
    fn a_line_s_time_is_read_in_each_format_a_node_writes() {
        let cases = [
            (
                "2026-12-06T20:56:47.123456789Z stdout F hello",
                "2026-12-06T20:56:47.123456789Z",
            ),
            ("2026-12-06T21:56:47+01:00 host msg", "2026-12-06T20:56:47Z"),
            ("2026-12-06 20:56:47 plain", "2026-12-06T20:56:47Z"),
            (
                r#"time="2026-12-06T20:56:47.123456789Z" level=info msg="starting containerd""#,
                "2026-12-06T20:56:47.123456789Z",
            ),
            (
                "time=2026-12-06T20:56:47Z level=info",
                "2026-12-06T20:56:47Z",
            ),
            (
                "I1206 20:56:47.123456      41 server.go:257] \"Effective\"",
                "2026-12-06T20:56:47.123456Z",
            ),
            ("E1206 20:56:47.5 x", "2026-12-06T20:56:47.5Z"),
            (
                "Dec  6 20:56:47 real-0001 kubelet[41]: msg",
                "2026-12-06T20:56:47Z",
            ),
            (
                "Dec 06 20:56:47.123456 real-0001 kubelet[41]: msg",
                "2026-12-06T20:56:47.123456Z",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(line_time(line.as_bytes(), now()), Some(at(want)), "{line}");
        }
        for line in [
            "\tat main.go:12",
            "",
            "goroutine 1 [running]:",
            "Info about 12:00:00",
            "I am here",
            "2026 was a year",
        ] {
            assert_eq!(line_time(line.as_bytes(), now()), None, "{line}");
        }
    }

    #[test]
    fn a_year_less_time_ahead_of_now_is_last_year_s() {
        let january: Timestamp = at("2027-01-02T00:00:00Z");
        assert_eq!(
            line_time(b"I1231 23:59:59.000000 1 x.go:1] bye", january),
            Some(at("2026-12-31T23:59:59Z"))
        );
        // A clock a few hours ahead of the reader's is still this year's.
        assert_eq!(
            line_time(b"Dec  6 23:00:00 h p: m", now()),
            Some(at("2026-12-06T23:00:00Z"))
        );
    }

    #[test]
    fn since_and_until_keep_an_entry_whole_and_drop_untimed_lines_before_any_time() {
        let filter = Filter {
            since: Some(at("2026-12-06T20:00:00Z")),
            until: Some(at("2026-12-06T20:30:00Z")),
            ..Filter::default()
        };
        let lines = [
            "orphan line before any time",
            "I1206 19:59:59.000000 1 a.go:1] too early",
            "\tcontinued too early",
            "I1206 20:00:00.000000 1 a.go:1] first",
            "goroutine 7 [running]:",
            "\tmain.go:12",
            "I1206 20:30:00.000000 1 a.go:1] last",
            "I1206 20:30:00.000001 1 a.go:1] too late",
            "\tcontinued too late",
        ];
        assert_eq!(
            run(filter, &lines),
            [
                "I1206 20:00:00.000000 1 a.go:1] first",
                "goroutine 7 [running]:",
                "\tmain.go:12",
                "I1206 20:30:00.000000 1 a.go:1] last"
            ]
        );
    }

    #[test]
    fn grep_then_tail_keeps_the_last_matching_lines_in_a_bounded_ring() {
        let filter = Filter {
            grep: Some(grep_regex("error").unwrap()),
            tail: Some(2),
            ..Filter::default()
        };
        let lines: Vec<String> = (0..1000)
            .map(|i| format!("line {i} {}", if i % 10 == 0 { "ERROR" } else { "ok" }))
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let mut f = LineFilter::new(filter, now());
        let mut printed = Vec::new();
        for line in &lines {
            f.push(line.as_bytes(), &mut |l: &[u8]| printed.push(l.to_vec()));
            assert!(f.ring.len() <= 2);
        }
        assert!(printed.is_empty(), "nothing before the end of the read");
        f.end_initial(&mut |l: &[u8]| printed.push(l.to_vec()));
        assert_eq!(
            printed,
            [b"line 980 ERROR".to_vec(), b"line 990 ERROR".to_vec()]
        );
        // After the end of what was there, lines pass at once.
        f.push(b"new error", &mut |l: &[u8]| printed.push(l.to_vec()));
        assert_eq!(printed.len(), 3);
        assert_eq!(
            run(
                Filter {
                    tail: Some(0),
                    ..Filter::default()
                },
                &["a", "b"]
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn grep_ignores_case_only_for_an_all_lower_case_pattern_as_journalctl_does() {
        assert!(grep_regex("error").unwrap().is_match(b"Error: x"));
        assert!(!grep_regex("Error").unwrap().is_match(b"error: x"));
        assert!(
            grep_regex(r"\Sx").unwrap().is_match(b"AX"),
            "an escape is no upper-case letter"
        );
        assert_eq!(
            grep_regex("(").unwrap_err(),
            "unclosed group",
            "the reason alone, on one line"
        );
        assert!(grep_regex("a{2,3}b|c+").is_ok());
    }

    #[test]
    fn untimed_lines_with_a_time_filter_say_so() {
        let mut f = LineFilter::new(
            Filter {
                since: Some(at("2026-12-06T20:00:00Z")),
                ..Filter::default()
            },
            now(),
        );
        f.push(b"no time here", &mut |_: &[u8]| {});
        assert!(f.untimed_note().is_some());
        let f = LineFilter::new(Filter::default(), now());
        assert!(f.untimed_note().is_none());
    }

    #[test]
    fn times_given_to_since_and_until_are_durations_or_times() {
        assert_eq!(
            TimeArg::parse("1h"),
            Ok(TimeArg::Ago(Duration::from_secs(3600)))
        );
        assert_eq!(
            TimeArg::parse("2026-12-06T20:00:00+01:00").map(|t| t.resolve(now())),
            Ok(at("2026-12-06T19:00:00Z"))
        );
        assert_eq!(
            TimeArg::parse("2026-12-06 20:00:00").map(|t| t.resolve(now())),
            Ok(at("2026-12-06T20:00:00Z"))
        );
        assert_eq!(
            TimeArg::parse("2026-12-06").map(|t| t.resolve(now())),
            Ok(at("2026-12-06T00:00:00Z"))
        );
        assert_eq!(
            TimeArg::Ago(Duration::from_secs(60)).resolve(now()),
            at("2026-12-06T20:59:00Z")
        );
        assert!(TimeArg::parse("yesterday-ish").is_err());
    }

    #[test]
    fn the_pod_s_output_is_split_at_its_marks_and_only_files_are_filtered() {
        let filter = Filter {
            tail: Some(1),
            ..Filter::default()
        };
        let mut pod = PodOutput::new("t0k", filter, false, now());
        let mut printed = Vec::new();
        let journal = mark_line(
            "t0k",
            &Section::Journal {
                unit: "kubelet".into(),
            },
        );
        let file = mark_line(
            "t0k",
            &Section::File {
                path: "/var/log/my app.log".into(),
                size: 6,
            },
        );
        let forged = mark_line("other", &Section::Journal { unit: "x".into() });
        for line in [
            journal.as_str(),
            "j1",
            "j2",
            file.as_str(),
            "f1",
            "f2",
            forged.as_str(),
        ] {
            pod.line(line.as_bytes(), &mut |l: &[u8]| {
                printed.push(String::from_utf8_lossy(l).into_owned())
            });
        }
        let notes =
            pod.finish(&mut |l: &[u8]| printed.push(String::from_utf8_lossy(l).into_owned()));
        assert_eq!(printed, ["j1", "j2", forged.as_str()]);
        assert!(notes.is_empty());
        assert_eq!(
            parse_mark(file.as_bytes(), "t0k"),
            Some(Section::File {
                path: "/var/log/my app.log".into(),
                size: 6
            })
        );
    }

    #[test]
    fn a_followed_file_prints_its_last_lines_then_every_new_one() {
        let filter = Filter {
            tail: Some(2),
            ..Filter::default()
        };
        let mut pod = PodOutput::new("t", filter, true, now());
        let mut printed = Vec::new();
        let mark = mark_line(
            "t",
            &Section::File {
                path: "/var/log/a.log".into(),
                size: 9,
            },
        );
        for line in [mark.as_str(), "a1", "a2", "a3", "new1", "new2"] {
            pod.line(line.as_bytes(), &mut |l: &[u8]| {
                printed.push(String::from_utf8_lossy(l).into_owned())
            });
            if line == "a3" {
                assert_eq!(
                    printed,
                    ["a2", "a3"],
                    "the 9 bytes that were there: their last 2 lines"
                );
            }
        }
        assert_eq!(printed, ["a2", "a3", "new1", "new2"]);
    }

    #[test]
    fn a_journal_followed_by_polling_prints_each_line_once() {
        let mut follow = JournalFollow::new(now());
        let mut printed = Vec::new();
        let mut feed = |follow: &mut JournalFollow, lines: &[&str]| {
            follow.next_answer();
            for line in lines {
                follow.line(line.as_bytes(), &mut |l: &[u8]| {
                    printed.push(String::from_utf8_lossy(l).into_owned())
                });
            }
        };
        feed(
            &mut follow,
            &[
                "Dec 06 20:56:46.900000 h k[1]: a",
                "Dec 06 20:56:47.100000 h k[1]: b",
                "\tb's trace",
            ],
        );
        assert_eq!(follow.since(), Some(at("2026-12-06T20:56:47Z")));
        feed(
            &mut follow,
            &[
                "\tb's trace",
                "Dec 06 20:56:47.100000 h k[1]: b",
                "\tb's trace",
                "Dec 06 20:56:47.100000 h k[1]: b2",
                "Dec 06 20:56:48.000000 h k[1]: c",
            ],
        );
        feed(&mut follow, &["-- No entries --"]);
        assert_eq!(
            printed,
            [
                "Dec 06 20:56:46.900000 h k[1]: a",
                "Dec 06 20:56:47.100000 h k[1]: b",
                "\tb's trace",
                "Dec 06 20:56:47.100000 h k[1]: b2",
                "Dec 06 20:56:48.000000 h k[1]: c"
            ]
        );
    }
}
