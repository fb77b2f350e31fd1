//! The node log query's requests and what their answers mean. Pure: the
//! paths toolbox asks the API server for, and the judgement of a status,
//! a content type and the start of a body, as the kubelet v1.37 writes them
//! (pkg/kubelet/kubelet_server_journal.go, kubelet.go's log server,
//! server.go's InstallSystemLogHandler).
//!
//! - `/logs/?query=UNIT&...` with the query on: journalctl's output (the
//!   kubelet applied the options), or, for a unit that logs to a file
//!   while options were given, one line saying so (`options present and
//!   query resolved to log files for [UNIT]`).
//! - The same with `enableSystemLogQuery: false` (or the NodeLogQuery gate
//!   off, before 1.36): `/logs/` is a plain file server of `/var/log`, so the
//!   query's answer is its directory listing, in HTML.
//! - `/logs/FILE`: the file itself, query on or off; a directory is a
//!   redirect or a listing.
//! - `enableSystemLogHandler: false`: 405, `logs endpoint is disabled.`

use k8s_openapi::jiff::Timestamp;

/// What the query is asked: one unit, with the kubelet's options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryOptions {
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub tail: Option<usize>,
    pub pattern: Option<String>,
    pub boot: Option<i32>,
}

/// The API server's path to a node's `/logs/` with a query string.
pub fn query_path(node: &str, unit: &str, options: &QueryOptions) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("query", unit);
    // Seconds only: the kubelet passes sinceTime to journalctl without its
    // fraction anyway.
    let seconds = |at: &Timestamp| {
        Timestamp::from_second(at.as_second())
            .unwrap_or(*at)
            .to_string()
    };
    if let Some(since) = &options.since {
        query.append_pair("sinceTime", &seconds(since));
    }
    if let Some(until) = &options.until {
        // Up to the end of its second, as the line times have fractions.
        let end =
            Timestamp::from_second(until.as_second() + i64::from(until.subsec_nanosecond() > 0))
                .unwrap_or(*until);
        query.append_pair("untilTime", &end.to_string());
    }
    if let Some(tail) = options.tail {
        query.append_pair("tailLines", &tail.to_string());
    }
    if let Some(pattern) = &options.pattern {
        query.append_pair("pattern", pattern);
    }
    if let Some(boot) = options.boot {
        query.append_pair("boot", &boot.to_string());
    }
    format!("{}?{}", logs_path(node), query.finish())
}

/// The API server's path to a node's `/logs/`, through its proxy.
pub fn logs_path(node: &str) -> String {
    format!("/api/v1/nodes/{node}/proxy/logs/")
}

/// The path to a file under the node's `/var/log` (`relative` to it).
pub fn file_path(node: &str, relative: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    format!(
        "{}{}",
        logs_path(node),
        percent_encoding::utf8_percent_encode(relative, SEGMENT)
    )
}

/// The directory the kubelet serves, and reads a unit's file log from.
pub const NODE_LOG_DIR: &str = "/var/log/";

/// Where the kubelet looks for the log of a unit that is not in the
/// journal, in its order, relative to [`NODE_LOG_DIR`].
pub fn unit_file_candidates(unit: &str) -> [String; 3] {
    [
        unit.to_string(),
        format!("{unit}.log"),
        format!("{unit}/{unit}.log"),
    ]
}

/// The status, content type and first bytes of an answer.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

impl Head<'_> {
    fn text(&self) -> String {
        String::from_utf8_lossy(self.body).trim().to_string()
    }

    /// A `Status` object: the API server's own answer, not the kubelet's.
    fn api_status(&self) -> Option<(String, String)> {
        if !self.content_type.starts_with("application/json") {
            return None;
        }
        let value: serde_json::Value = serde_json::from_slice(self.body).ok()?;
        (value["kind"] == "Status").then(|| {
            (
                value["reason"].as_str().unwrap_or_default().to_string(),
                value["message"].as_str().unwrap_or_default().to_string(),
            )
        })
    }

    fn is_listing(&self) -> bool {
        self.content_type.starts_with("text/html")
    }
}

/// Why the node log query cannot serve a node, when a pod could.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// The kubelet serves `/var/log` but does not answer queries.
    QueryOff,
    /// `enableSystemLogHandler: false`: no `/logs/` at all.
    HandlerOff,
    /// The user may not `get nodes/proxy` (the API server's message, for -v).
    NotAllowed { message: String },
    /// The kubelet refused the API server's own client (it needs
    /// `nodes/log` on the kubelet's authorizer).
    KubeletRefused { status: u16, message: String },
    /// The API server does not proxy to the node's address.
    NotProxied { message: String },
    /// Something answered that is not a kubelet's log server.
    Unknown { status: u16, message: String },
}

impl Unavailable {
    /// Why, in words, for the line that names the path taken.
    pub fn why(&self) -> String {
        match self {
            Unavailable::QueryOff => "the kubelet does not answer the node log query (its /logs/ is a plain file server: enableSystemLogQuery is false, or the NodeLogQuery feature gate is off)".to_string(),
            Unavailable::HandlerOff => {
                "the kubelet serves no logs (enableSystemLogHandler: false)".to_string()
            }
            Unavailable::NotAllowed { .. } => {
                "you may not get nodes/proxy, which the node log query needs".to_string()
            }
            Unavailable::KubeletRefused { status, message } => format!(
                "the kubelet refused the API server's request ({status}: {message})"
            ),
            Unavailable::NotProxied { message } => {
                format!("the API server does not proxy to the node's kubelet ({message})")
            }
            Unavailable::Unknown { status, message } => format!(
                "what answered is not a kubelet's log server ({status}: {message})"
            ),
        }
    }

    /// What an admin would change so that the query serves the node and no
    /// pod is needed.
    pub fn remedy(&self) -> &'static str {
        match self {
            Unavailable::NotAllowed { .. } => {
                "to read logs without a pod, an admin grants you get on nodes/proxy (cluster-wide: see docs/security.md)"
            }
            Unavailable::KubeletRefused { .. } => {
                "to read logs without a pod, an admin lets the API server's kubelet client get nodes/log (and grants you get on nodes/proxy)"
            }
            Unavailable::NotProxied { .. } | Unavailable::Unknown { .. } => {
                "to read logs without a pod, the node needs a kubelet that the API server proxies to, with enableSystemLogQuery: true"
            }
            Unavailable::QueryOff | Unavailable::HandlerOff => {
                "to read logs without a pod, an admin sets enableSystemLogHandler and enableSystemLogQuery: true in the kubelet's configuration (and the NodeLogQuery feature gate before Kubernetes 1.36), and grants get on nodes/proxy"
            }
        }
    }
}

/// A unit's log, as the query with an option (`tailLines=0`) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitProbe {
    /// In the journal: the kubelet runs journalctl with the options.
    Journal,
    /// Not in the journal: the kubelet would read a file under /var/log,
    /// without options.
    File,
    /// No query: a pod may read it.
    Unavailable(Unavailable),
    /// The query cannot be answered, nor a pod help.
    Failed(String),
}

/// The words the kubelet answers a query with options with when the unit
/// logs to a file.
const RESOLVED_TO_FILES: &str = "options present and query resolved to log files for";

/// Judges the answer to `/logs/?query=UNIT&tailLines=0`.
pub fn judge_probe(head: Head<'_>) -> UnitProbe {
    match head.status {
        200 if head.is_listing() => UnitProbe::Unavailable(Unavailable::QueryOff),
        200 if head.text().contains(RESOLVED_TO_FILES) => UnitProbe::File,
        200 if head.text().contains("error: journal output not available") => UnitProbe::Failed(
            "the kubelet found the unit in the journal, but journalctl gave no output".into(),
        ),
        200 => UnitProbe::Journal,
        _ => match judge_refusal(head) {
            Ok(unavailable) => UnitProbe::Unavailable(unavailable),
            Err(failure) => UnitProbe::Failed(failure),
        },
    }
}

/// A file under /var/log, as `/logs/FILE` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileAnswer {
    /// The file's bytes follow (all of it, or the range asked for).
    Bytes,
    /// A range past the file's end: the file is `size` bytes long.
    PastEnd {
        size: u64,
    },
    /// No such file.
    Missing,
    /// A directory (a redirect to it with a slash, or its listing).
    Directory,
    Unavailable(Unavailable),
    Failed(String),
}

/// Judges the answer to `/logs/FILE` (with a `Range` or not), given its
/// Content-Range header.
pub fn judge_file(head: Head<'_>, content_range: Option<&str>) -> FileAnswer {
    match head.status {
        200 if head.is_listing() => FileAnswer::Directory,
        200 | 206 => FileAnswer::Bytes,
        301 => FileAnswer::Directory,
        404 if head.api_status().is_none() => FileAnswer::Missing,
        416 => match content_range
            .and_then(|range| range.strip_prefix("bytes */"))
            .and_then(|size| size.trim().parse().ok())
        {
            Some(size) => FileAnswer::PastEnd { size },
            None => FileAnswer::Failed(format!("the kubelet refused a range: {}", head.text())),
        },
        _ => match judge_refusal(head) {
            Ok(unavailable) => FileAnswer::Unavailable(unavailable),
            Err(failure) => FileAnswer::Failed(failure),
        },
    }
}

/// A refusal of `/logs/`: the reason a pod may get around, or the failure
/// none can.
fn judge_refusal(head: Head<'_>) -> Result<Unavailable, String> {
    let first_line = |text: String| text.lines().next().unwrap_or_default().to_string();
    if let Some((reason, message)) = head.api_status() {
        return match (head.status, reason.as_str()) {
            (403, _) => Ok(Unavailable::NotAllowed { message }),
            (404, _) => Err(format!("the API server says: {message}")),
            // The API server's proxy refuses loopback and link-local
            // addresses (a simulated node's), before any kubelet is asked.
            (400, _) if message.contains("address not allowed") => {
                Ok(Unavailable::NotProxied { message })
            }
            (500..=599, _) => Err(format!(
                "the API server could not reach the node's kubelet ({}: {message})",
                head.status
            )),
            (status, _) => Ok(Unavailable::Unknown { status, message }),
        };
    }
    let text = head.text();
    match head.status {
        405 if text.contains("logs endpoint is disabled") => Ok(Unavailable::HandlerOff),
        401 | 403 => Ok(Unavailable::KubeletRefused {
            status: head.status,
            message: first_line(text),
        }),
        400 | 406 => Err(format!(
            "the kubelet refused the query: {}",
            first_line(text)
        )),
        502..=504 => Err(format!(
            "the API server could not reach the node's kubelet ({}: {})",
            head.status,
            first_line(text)
        )),
        status => Ok(Unavailable::Unknown {
            status,
            message: first_line(text),
        }),
    }
}

/// A unit that neither the journal nor the kubelet's file heuristics
/// have, in the words of the fallback pod's script.
pub fn unit_not_found(unit: &str) -> String {
    format!(
        "no log of {unit}: not in the journal, nor in /var/log/{unit}, /var/log/{unit}.log or /var/log/{unit}/{unit}.log"
    )
}

/// What the kubelet writes into an answer, after a unit's lines, when it
/// could not give them: the failure in words, if `line` is that.
pub fn in_band_failure(line: &[u8], unit: &str) -> Option<String> {
    let text = std::str::from_utf8(line).ok()?.trim();
    if text == format!("log not found for {unit}") {
        return Some(unit_not_found(unit));
    }
    if text == "error: journal output not available" {
        return Some(format!("journalctl gave no output for {unit}"));
    }
    for prefix in [
        "failed to get logging cmd:",
        "context error:",
        &format!("error getting log for {unit}:"),
    ] {
        if let Some(rest) = text.strip_prefix(prefix) {
            return Some(format!(
                "the kubelet could not read the log of {unit}:{rest}"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head<'a>(status: u16, content_type: &'a str, body: &'a str) -> Head<'a> {
        Head {
            status,
            content_type,
            body: body.as_bytes(),
        }
    }

    fn status(code: u16, reason: &str, message: &str) -> String {
        serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason, "message": message, "code": code}).to_string()
    }

    #[test]
    fn the_query_s_paths_carry_its_options_encoded() {
        let options = QueryOptions {
            since: Some("2026-12-06T20:56:47.5Z".parse().unwrap()),
            until: Some("2026-12-06T21:00:00.1Z".parse().unwrap()),
            tail: Some(20),
            pattern: Some("a b&c".into()),
            boot: Some(-1),
        };
        assert_eq!(
            query_path("real-0001", "kubelet", &options),
            "/api/v1/nodes/real-0001/proxy/logs/?query=kubelet&sinceTime=2026-12-06T20%3A56%3A47Z&untilTime=2026-12-06T21%3A00%3A01Z&tailLines=20&pattern=a+b%26c&boot=-1"
        );
        assert_eq!(
            file_path("n", "pods/ns_p/c 1/0.log"),
            "/api/v1/nodes/n/proxy/logs/pods/ns_p/c%201/0.log"
        );
        assert_eq!(
            unit_file_candidates("kubelet"),
            ["kubelet", "kubelet.log", "kubelet/kubelet.log"]
        );
    }

    #[test]
    fn a_probe_tells_the_journal_a_file_and_each_reason_for_no_query() {
        let text = "text/plain;charset=UTF-8";
        assert_eq!(judge_probe(head(200, text, "")), UnitProbe::Journal);
        assert_eq!(
            judge_probe(head(
                200,
                text,
                "\noptions present and query resolved to log files for [kubelet]\ntry without specifying options\n"
            )),
            UnitProbe::File
        );
        assert_eq!(
            judge_probe(head(
                200,
                "text/html; charset=utf-8",
                "<!doctype html>\n<pre>"
            )),
            UnitProbe::Unavailable(Unavailable::QueryOff)
        );
        assert_eq!(
            judge_probe(head(
                405,
                "text/plain; charset=utf-8",
                "logs endpoint is disabled.\n"
            )),
            UnitProbe::Unavailable(Unavailable::HandlerOff)
        );
        let denied = status(
            403,
            "Forbidden",
            "nodes \"real-0001\" is forbidden: User \"dev\" cannot get resource \"nodes/proxy\"",
        );
        assert!(matches!(
            judge_probe(head(403, "application/json", &denied)),
            UnitProbe::Unavailable(Unavailable::NotAllowed { .. })
        ));
        assert!(matches!(
            judge_probe(head(
                403,
                "text/plain; charset=utf-8",
                "Forbidden (user=kube-apiserver, verb=get, resource=nodes, subresource(s)=[log])"
            )),
            UnitProbe::Unavailable(Unavailable::KubeletRefused { status: 403, .. })
        ));
        let loopback = status(400, "BadRequest", "address not allowed");
        assert!(matches!(
            judge_probe(head(400, "application/json", &loopback)),
            UnitProbe::Unavailable(Unavailable::NotProxied { .. })
        ));
        let unreachable = status(
            503,
            "ServiceUnavailable",
            "error trying to reach service: dial tcp 10.0.0.1:10250: connect: connection refused",
        );
        assert!(
            matches!(judge_probe(head(503, "application/json", &unreachable)), UnitProbe::Failed(m) if m.contains("connection refused"))
        );
        assert_eq!(
            judge_probe(head(406, "text/plain", "pattern: Invalid value: \"(\": error parsing regexp\n")),
            UnitProbe::Failed("the kubelet refused the query: pattern: Invalid value: \"(\": error parsing regexp".into())
        );
    }

    #[test]
    fn a_file_s_answer_tells_bytes_its_end_missing_and_directories() {
        let plain = "text/x-log; charset=utf-8";
        assert_eq!(
            judge_file(head(206, plain, "x"), Some("bytes 0-0/10")),
            FileAnswer::Bytes
        );
        assert_eq!(
            judge_file(
                head(416, "text/plain", "invalid range: failed to overlap"),
                Some("bytes */29141")
            ),
            FileAnswer::PastEnd { size: 29141 }
        );
        assert_eq!(
            judge_file(head(404, "text/plain", "404 page not found"), None),
            FileAnswer::Missing
        );
        assert_eq!(judge_file(head(301, "", ""), None), FileAnswer::Directory);
        assert_eq!(
            judge_file(head(200, "text/html; charset=utf-8", "<pre>"), None),
            FileAnswer::Directory
        );
        let gone = status(404, "NotFound", "nodes \"x\" not found");
        assert!(matches!(
            judge_file(head(404, "application/json", &gone), None),
            FileAnswer::Failed(_)
        ));
    }

    #[test]
    fn the_kubelet_s_in_band_failures_are_told_from_log_lines() {
        assert_eq!(
            in_band_failure(b"log not found for nosuch", "nosuch").unwrap(),
            "no log of nosuch: not in the journal, nor in /var/log/nosuch, /var/log/nosuch.log or /var/log/nosuch/nosuch.log"
        );
        assert!(
            in_band_failure(
                b"error getting log for kubelet: context deadline exceeded",
                "kubelet"
            )
            .is_some()
        );
        assert!(in_band_failure(b"log not found for nosuch, said someone", "nosuch").is_none());
        assert!(in_band_failure(b"I1206 20:56:47.1 1 a.go:1] log not found for x", "x").is_none());
    }

    #[test]
    fn each_reason_says_what_an_admin_would_enable() {
        let off = Unavailable::QueryOff;
        assert!(off.why().contains("enableSystemLogQuery"));
        assert!(off.remedy().contains("enableSystemLogQuery: true"));
        assert!(off.remedy().contains("NodeLogQuery"));
        assert!(off.remedy().contains("nodes/proxy"));
        let denied = Unavailable::NotAllowed {
            message: "m".into(),
        };
        assert!(denied.remedy().contains("get on nodes/proxy"));
    }
}
