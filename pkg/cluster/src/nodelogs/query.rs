//! The node log query through the API server's proxy (`get nodes/proxy`):
//! one request ([`get`]), and a node's logs read through it, line by line
//! ([`read_by_query`]): a journal with the kubelet's options, a file raw
//! with toolbox's own filters. The query cannot follow, so `-f` asks again
//! every [`POLL`]: a journal since the last second printed, a file from
//! the byte it was read to (an HTTP range; the kubelet's file server
//! answers ranges).

use std::time::Duration;

use http_body_util::BodyExt;
use k8s_openapi::jiff::Timestamp;
use kube::client::Body;

use super::answer::{
    FileAnswer, Head, QueryOptions, UnitProbe, file_path, in_band_failure, judge_file, judge_probe,
    query_path, unit_file_candidates,
};
use super::lines::{JournalFollow, LineFilter};
use super::request::{LogRequest, NodeOut, QuerySource};
use crate::client::context::ClusterContext;
use crate::error::{Action, ClusterError, Result};
use crate::session::fanout::LineSplitter;

/// How often `-f` asks again.
pub const POLL: Duration = Duration::from_secs(1);

/// Most of an answer's body toolbox reads to judge it.
const HEAD_LIMIT: usize = 64 * 1024;

/// An answer whose body has not been read yet.
pub(super) struct Answer {
    pub(super) status: u16,
    content_type: String,
    content_range: Option<String>,
    body: Body,
}

/// GET `path` from the API server, from byte `from` on when given.
pub(super) async fn get(cluster: &ClusterContext, path: &str, from: Option<u64>) -> Result<Answer> {
    let mut request = http::Request::get(path);
    if let Some(from) = from {
        request = request.header(http::header::RANGE, format!("bytes={from}-"));
    }
    let request = request
        .body(Body::empty())
        .map_err(|err| ClusterError::LogQueryFailed {
            node: String::new(),
            message: format!("cannot build the request for {path}: {err}"),
        })?;
    let response = cluster
        .client
        .send(request)
        .await
        .map_err(|err| cluster.request_error(Action::cluster("get", "nodes/proxy"), err))?;
    let header = |name: http::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Ok(Answer {
        status: response.status().as_u16(),
        content_type: header(http::header::CONTENT_TYPE).unwrap_or_default(),
        content_range: header(http::header::CONTENT_RANGE),
        body: response.into_body(),
    })
}

impl Answer {
    /// The first bytes of the body, for judging an answer that is not a log.
    pub(super) async fn head_bytes(mut self) -> (u16, String, Option<String>, Vec<u8>) {
        let mut bytes = Vec::new();
        while bytes.len() < HEAD_LIMIT {
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        bytes.extend_from_slice(data);
                    }
                }
                _ => break,
            }
        }
        (self.status, self.content_type, self.content_range, bytes)
    }

    /// Reads the body to its end, passing each chunk on; returns how many
    /// bytes there were.
    async fn read(mut self, node: &str, chunk: &mut impl FnMut(&[u8])) -> Result<u64> {
        let mut read = 0;
        while let Some(frame) = self.body.frame().await {
            let frame = frame.map_err(|err| ClusterError::LogQueryFailed {
                node: node.to_string(),
                message: format!(
                    "the answer was cut after {read} bytes: {}",
                    crate::error::error_chain(&err)
                ),
            })?;
            if let Some(data) = frame.data_ref() {
                read += data.len() as u64;
                chunk(data);
            }
        }
        Ok(read)
    }
}

/// The probe of a unit: the query with an option that asks for nothing
/// (`tailLines=0`), so that the kubelet says whether the unit is in the
/// journal or would be read from a file, or that it answers no query.
pub async fn probe_unit(cluster: &ClusterContext, node: &str, unit: &str) -> Result<UnitProbe> {
    let options = QueryOptions {
        tail: Some(0),
        ..QueryOptions::default()
    };
    let (status, content_type, _, body) = get(cluster, &query_path(node, unit, &options), None)
        .await?
        .head_bytes()
        .await;
    Ok(judge_probe(Head {
        status,
        content_type: &content_type,
        body: &body,
    }))
}

/// A log read through the query failed for a reason of its own (no such
/// file, no log of a unit): told on the node's stderr, and the node's
/// status is 1, as the fallback pod's script would end.
type ReadFailure = String;

/// Reads `sources` on `node` one after the other (one only with `-f`,
/// which never ends on its own), into `out`. Returns the node's status:
/// 0, or 1 when some log could not be read (said on its stderr).
pub(super) async fn read_by_query(
    cluster: &ClusterContext,
    node: &str,
    sources: &[QuerySource],
    request: &LogRequest,
    out: &NodeOut<'_>,
) -> Result<i32> {
    let mut status = 0;
    for source in sources {
        let read = match source {
            QuerySource::Journal(unit) => read_journal(cluster, node, unit, request, out).await?,
            QuerySource::UnitFile(unit) => {
                read_unit_file(cluster, node, unit, request, out).await?
            }
            QuerySource::File(relative) => read_file(cluster, node, relative, request, out)
                .await?
                .map_err(|missing| missing.to_string()),
        };
        if let Err(failure) = read {
            out.error(&failure);
            status = 1;
        }
    }
    Ok(status)
}

/// A unit in the journal: the kubelet runs journalctl with the options;
/// with `-f`, again every [`POLL`] since the last second printed.
async fn read_journal(
    cluster: &ClusterContext,
    node: &str,
    unit: &str,
    request: &LogRequest,
    out: &NodeOut<'_>,
) -> Result<std::result::Result<(), ReadFailure>> {
    let started = Timestamp::now();
    let mut follow = JournalFollow::new(started);
    let mut options = request.query_options();
    let mut first = true;
    loop {
        let answer = get(cluster, &query_path(node, unit, &options), None).await?;
        if answer.status != 200 {
            let (status, content_type, _, body) = answer.head_bytes().await;
            let probe = judge_probe(Head {
                status,
                content_type: &content_type,
                body: &body,
            });
            return Err(query_failed(node, probe));
        }
        let mut failure = None;
        // The kubelet writes its own failures after an empty line.
        let mut held_empty = false;
        let mut lines = LineSplitter::default();
        let mut line = |line: &[u8]| {
            if line.is_empty() && !held_empty {
                held_empty = true;
                return;
            }
            if let Some(said) = kubelet_failure(line, unit) {
                failure = Some(said);
                held_empty = false;
                return;
            }
            let mut emit = |line: &[u8]| out.line(line);
            if std::mem::take(&mut held_empty) {
                pass(&mut follow, request.follow, b"", &mut emit);
            }
            pass(&mut follow, request.follow, line, &mut emit);
        };
        answer
            .read(node, &mut |chunk| lines.feed(chunk, &mut line))
            .await?;
        lines.finish(&mut line);
        if let Some(failure) = failure {
            return Ok(Err(failure));
        }
        if !request.follow {
            return Ok(Ok(()));
        }
        if first {
            first = false;
            options = QueryOptions {
                pattern: options.pattern.clone(),
                boot: options.boot,
                ..QueryOptions::default()
            };
        }
        options.since = Some(follow.since().unwrap_or(started));
        tokio::time::sleep(POLL).await;
        follow.next_answer();
    }
}

fn pass(follow: &mut JournalFollow, following: bool, line: &[u8], emit: &mut impl FnMut(&[u8])) {
    if following {
        follow.line(line, emit);
    } else {
        emit(line);
    }
}

/// The kubelet's own words in an answer (they start unlike any journal
/// line), when `line` is those.
fn kubelet_failure(line: &[u8], unit: &str) -> Option<String> {
    const STARTS: [&[u8]; 4] = [
        b"log not found",
        b"error",
        b"failed to get",
        b"context error",
    ];
    if STARTS.iter().any(|start| line.starts_with(start)) {
        in_band_failure(line, unit)
    } else {
        None
    }
}

/// A unit the kubelet would read from a file: the first of its file
/// heuristics that is a file, read raw.
async fn read_unit_file(
    cluster: &ClusterContext,
    node: &str,
    unit: &str,
    request: &LogRequest,
    out: &NodeOut<'_>,
) -> Result<std::result::Result<(), ReadFailure>> {
    if request.boot.is_some() {
        return Ok(Err(format!(
            "{unit} logs to a file under /var/log, which has no boots: --boot applies to the journal"
        )));
    }
    for candidate in unit_file_candidates(unit) {
        match read_file(cluster, node, &candidate, request, out).await? {
            Ok(()) => return Ok(Ok(())),
            Err(NotRead::Missing(_) | NotRead::Directory(_)) => continue,
        }
    }
    Ok(Err(super::answer::unit_not_found(unit)))
}

/// Why a file was not read.
enum NotRead {
    Missing(String),
    Directory(String),
}

impl std::fmt::Display for NotRead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotRead::Missing(path) => write!(f, "no file {path} on this node"),
            NotRead::Directory(path) => write!(f, "{path} is a directory"),
        }
    }
}

/// A file under /var/log (`relative` to it), through toolbox's filters;
/// with `-f`, what is added to it every [`POLL`], from where it was read
/// to.
async fn read_file(
    cluster: &ClusterContext,
    node: &str,
    relative: &str,
    request: &LogRequest,
    out: &NodeOut<'_>,
) -> Result<std::result::Result<(), NotRead>> {
    let shown = format!("/var/log/{relative}");
    let path = file_path(node, relative);
    let answer = get(cluster, &path, None).await?;
    match judge(answer).await {
        Judged::Bytes(answer) => {
            let now = Timestamp::now();
            let mut filter = LineFilter::new(request.filter(), now);
            let mut lines = LineSplitter::default();
            let mut emit = |line: &[u8]| out.line(line);
            let mut offset = answer
                .read(node, &mut |chunk| {
                    lines.feed(chunk, &mut |line| filter.push(line, &mut emit))
                })
                .await?;
            if !request.follow {
                lines.finish(&mut |line| filter.push(line, &mut emit));
                filter.end_initial(&mut emit);
                if let Some(note) = filter.untimed_note() {
                    out.error(&format!("{shown}: {note}"));
                }
                return Ok(Ok(()));
            }
            // What follows is new; a last line not yet ended waits for
            // its end in `lines`.
            filter.end_initial(&mut emit);
            loop {
                tokio::time::sleep(POLL).await;
                let answer = get(cluster, &path, Some(offset)).await?;
                let status = answer.status;
                match judge(answer).await {
                    Judged::Bytes(answer) => {
                        // A server that ignored the range sends it all.
                        let mut skip = if status == 200 { offset } else { 0 };
                        let read = answer
                            .read(node, &mut |chunk| {
                                let from = (skip as usize).min(chunk.len());
                                skip -= from as u64;
                                lines.feed(&chunk[from..], &mut |line| filter.push(line, &mut emit))
                            })
                            .await?;
                        offset = if status == 200 { read } else { offset + read };
                    }
                    Judged::Other(FileAnswer::PastEnd { size }) if size < offset => {
                        out.error(&format!(
                            "{shown} was truncated or replaced: following it from its start"
                        ));
                        offset = 0;
                        lines = LineSplitter::default();
                    }
                    // Nothing new; or rotated away and not there again yet.
                    Judged::Other(FileAnswer::PastEnd { .. } | FileAnswer::Missing) => {}
                    Judged::Other(other) => return Err(file_failed(node, other, &shown)),
                }
            }
        }
        Judged::Other(FileAnswer::Missing) => Ok(Err(NotRead::Missing(shown))),
        Judged::Other(FileAnswer::Directory) => Ok(Err(NotRead::Directory(shown))),
        Judged::Other(other) => Err(file_failed(node, other, &shown)),
    }
}

enum Judged {
    Bytes(Answer),
    Other(FileAnswer),
}

/// A file's answer: its bytes to read, or what it says instead.
async fn judge(answer: Answer) -> Judged {
    let status_only = Head {
        status: answer.status,
        content_type: &answer.content_type,
        body: &[],
    };
    if judge_file(status_only, None) == FileAnswer::Bytes {
        return Judged::Bytes(answer);
    }
    let (status, content_type, content_range, body) = answer.head_bytes().await;
    let head = Head {
        status,
        content_type: &content_type,
        body: &body,
    };
    Judged::Other(judge_file(head, content_range.as_deref()))
}

fn file_failed(node: &str, answer: FileAnswer, shown: &str) -> ClusterError {
    let message = match answer {
        FileAnswer::Unavailable(why) => why.why(),
        FileAnswer::Failed(message) => message,
        other => format!("unexpected answer for {shown}: {other:?}"),
    };
    ClusterError::LogQueryFailed {
        node: node.to_string(),
        message,
    }
}

fn query_failed(node: &str, probe: UnitProbe) -> ClusterError {
    let message = match probe {
        UnitProbe::Unavailable(why) => why.why(),
        UnitProbe::Failed(message) => message,
        other => format!("unexpected answer: {other:?}"),
    };
    ClusterError::LogQueryFailed {
        node: node.to_string(),
        message,
    }
}
