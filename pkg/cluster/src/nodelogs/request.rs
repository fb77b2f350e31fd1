//! What `toolbox logs` is asked for ([`LogRequest`]: the logs, the
//! filters, `-f`), how it is put to the kubelet and to journalctl, the ways
//! a node's logs are read, and the lines that say which way and why.

use k8s_openapi::jiff::Timestamp;

use super::answer::{QueryOptions, Unavailable};
use super::lines::{Filter, grep_regex};
use crate::session::fanout::{FanoutEvents, OutputStream};

/// One log on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A service: its journal, or the file the kubelet would read for it.
    Unit(String),
    /// A file, by its absolute path on the node.
    File(String),
}

impl Source {
    /// The unit's name, or the file's path.
    pub fn name(&self) -> &str {
        match self {
            Source::Unit(name) | Source::File(name) => name,
        }
    }
}

/// What `toolbox logs` reads on each node, and through what.
#[derive(Debug, Clone, Default)]
pub struct LogRequest {
    pub sources: Vec<Source>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub tail: Option<usize>,
    /// Checked with [`grep_regex`].
    pub grep: Option<String>,
    /// 0 is the current boot, -1 the one before, ...
    pub boot: Option<i32>,
    pub follow: bool,
}

/// How many lines `-f` shows first without `--tail` or `--since`, as
/// `tail -f` and `journalctl -f` do.
pub const FOLLOW_TAIL: usize = 10;

impl LogRequest {
    /// `--tail`, or [`FOLLOW_TAIL`] when following from no given time.
    pub fn effective_tail(&self) -> Option<usize> {
        self.tail
            .or((self.follow && self.since.is_none()).then_some(FOLLOW_TAIL))
    }

    /// What toolbox itself applies to a log kept as a file.
    pub fn filter(&self) -> Filter {
        Filter {
            since: self.since,
            until: self.until,
            grep: self.grep.as_deref().and_then(|p| grep_regex(p).ok()),
            tail: self.effective_tail(),
        }
    }

    /// The query's options for a journal, as the kubelet takes them.
    pub(super) fn query_options(&self) -> QueryOptions {
        QueryOptions {
            since: self.since,
            until: self.until,
            tail: self.effective_tail(),
            pattern: self.grep.clone(),
            boot: self.boot,
        }
    }

    /// journalctl's options in the fallback pod, as the kubelet would pass
    /// them (with the zone said, and `--follow`).
    pub(super) fn journal_options(&self) -> Vec<String> {
        let time = |at: &Timestamp| {
            at.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC)
                .strftime("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        };
        let mut options = Vec::new();
        if let Some(since) = &self.since {
            options.push(format!("--since={}", time(since)));
        }
        if let Some(until) = &self.until {
            options.push(format!("--until={}", time(until)));
        }
        if let Some(tail) = self.effective_tail() {
            options.push(format!("--lines={tail}"));
        }
        if let Some(grep) = &self.grep {
            options.push(format!("--grep={grep}"));
        }
        if let Some(boot) = self.boot {
            options.push(format!("--boot={boot}"));
        }
        if self.follow {
            options.push("--follow".into());
        }
        options
    }
}

/// One log the node log query serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum QuerySource {
    /// A unit in the journal: the kubelet applies the options.
    Journal(String),
    /// A unit the kubelet would read from a file: read raw, filtered here.
    UnitFile(String),
    /// A file, relative to /var/log.
    File(String),
}

/// Why a node's logs are read by a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodReason {
    /// The node log query cannot serve the node.
    Unavailable(Unavailable),
    /// A file outside /var/log, which is all the kubelet serves.
    OutsideVarLog(String),
}

impl PodReason {
    pub fn why(&self) -> String {
        match self {
            PodReason::Unavailable(why) => why.why(),
            PodReason::OutsideVarLog(path) => {
                format!("{path} is outside /var/log, the only directory the kubelet serves")
            }
        }
    }

    /// What would avoid the pod, when an admin can change it.
    pub fn remedy(&self) -> Option<&'static str> {
        match self {
            PodReason::Unavailable(why) => Some(why.remedy()),
            PodReason::OutsideVarLog(_) => None,
        }
    }
}

/// Where one node's lines go: its stdout, and its stderr for what toolbox
/// says about them.
pub(super) struct NodeOut<'a> {
    pub(super) node: &'a str,
    pub(super) events: &'a dyn FanoutEvents,
}

impl NodeOut<'_> {
    pub(super) fn line(&self, line: &[u8]) {
        self.events.line(self.node, OutputStream::Stdout, line);
    }

    pub(super) fn error(&self, message: &str) {
        self.events.line(
            self.node,
            OutputStream::Stderr,
            format!("toolbox logs: {message}").as_bytes(),
        );
    }
}

/// The line that says a node set's logs were read through the query.
pub fn query_line(nodes: &str) -> String {
    format!("note: {nodes}: through the kubelet's node log query (get nodes/proxy), no pod")
}

/// The line that says a node set's logs were read by a pod, and why.
pub fn pod_line(nodes: &str, reason: &PodReason) -> String {
    let mut line = format!(
        "note: {nodes}: through a short-lived pod, as {}",
        reason.why()
    );
    if let Some(remedy) = reason.remedy() {
        line.push_str("; ");
        line.push_str(remedy);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_followed_log_starts_with_its_last_lines_and_journalctl_gets_the_kubelet_s_options() {
        let request = LogRequest {
            sources: vec![Source::Unit("kubelet".into())],
            since: Some("2026-12-06T20:00:00.5Z".parse().unwrap()),
            grep: Some("err".into()),
            boot: Some(-1),
            follow: true,
            ..LogRequest::default()
        };
        assert_eq!(
            request.effective_tail(),
            None,
            "--since says where to start"
        );
        assert_eq!(
            request.journal_options(),
            [
                "--since=2026-12-06 20:00:00 UTC",
                "--grep=err",
                "--boot=-1",
                "--follow"
            ]
        );
        let plain_follow = LogRequest {
            follow: true,
            ..LogRequest::default()
        };
        assert_eq!(plain_follow.effective_tail(), Some(FOLLOW_TAIL));
        assert_eq!(LogRequest::default().effective_tail(), None);
    }

    #[test]
    fn the_path_lines_say_why_and_what_to_enable() {
        let off = pod_line("real-0001", &PodReason::Unavailable(Unavailable::QueryOff));
        assert!(off.starts_with("note: real-0001: through a short-lived pod, as the kubelet does not answer the node log query"), "{off}");
        assert!(off.contains("enableSystemLogQuery: true"), "{off}");
        assert!(off.contains("get on nodes/proxy"), "{off}");
        let outside = pod_line("n", &PodReason::OutsideVarLog("/etc/x".into()));
        assert_eq!(
            outside,
            "note: n: through a short-lived pod, as /etc/x is outside /var/log, the only directory the kubelet serves"
        );
    }
}
