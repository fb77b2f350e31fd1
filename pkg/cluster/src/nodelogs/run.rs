//! The drivers: one node ([`read_node_logs`]) and many ([`run_logs`]).
//! Both plan each node first, say in one line which way its logs are read
//! and why, then read them through the node log query, or through a pod
//! made by the caller's `pod_for` and run by the session lifecycle.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::plan::{Plan, plan};
use super::pod::{PodLines, mark_token, pod_command};
use super::query::read_by_query;
use super::request::{LogRequest, NodeOut, PodReason, pod_line, query_line};
use crate::client::context::ClusterContext;
use crate::error::{ClusterError, Result};
use crate::nodes::nodeset::fold;
use crate::session::fanout::{
    self, FanoutEvents, FanoutReport, FanoutSpec, INTERRUPTED, LineSink, NodeOutcome, NodeSession,
    OutputStream,
};
use crate::session::{Progress, SessionSpec, run_captured};
use crate::signals::Signals;

/// Reads `request`'s logs on `node` into `events` (its lines, and the
/// line that says which way): through the node log query, else through
/// the pod `pod` builds around the exec it is given. Returns the node's
/// status: 0, 1 when some log could not be read (said on stderr), or the
/// pod's command's own.
pub async fn read_node_logs(
    cluster: &ClusterContext,
    node: &str,
    request: &LogRequest,
    pod: impl FnOnce(Vec<String>) -> SessionSpec,
    progress: &dyn Progress,
    events: Arc<dyn FanoutEvents>,
) -> Result<i32> {
    let mut signals = Signals::install()?;
    let planned = tokio::select! {
        planned = plan(cluster, node, request) => planned,
        signal = signals.recv() => return Err(ClusterError::Interrupted { signal }),
    };
    match planned {
        Plan::Failed(err) => Err(err),
        Plan::Query(sources) => {
            events.note(&query_line(node));
            let out = NodeOut {
                node,
                events: events.as_ref(),
            };
            tokio::select! {
                read = read_by_query(cluster, node, &sources, request, &out) => read,
                signal = signals.recv() => Err(ClusterError::Interrupted { signal }),
            }
        }
        Plan::Pod(reason) => {
            let missing = cluster.session_access_missing().await;
            if !missing.is_empty() {
                let user = cluster.identity().await.unwrap_or_else(|_| "you".into());
                return Err(not_allowed(cluster, node, &reason, &user, &missing));
            }
            events.note(&pod_line(node, &reason));
            let token = mark_token();
            let spec = pod(pod_command(request, &token));
            let lines = Arc::new(PodLines::new(events, token, request));
            let outcome = run_captured(
                cluster,
                spec,
                progress,
                Box::new(LineSink::new(lines.clone(), node, OutputStream::Stdout)),
                Box::new(LineSink::new(lines.clone(), node, OutputStream::Stderr)),
            )
            .await?;
            lines.finish(node);
            if let Some(left) = &outcome.not_deleted {
                progress.note(&format!("warning: {left}"));
            }
            Ok(outcome.exit_code)
        }
    }
}

fn not_allowed(
    cluster: &ClusterContext,
    node: &str,
    reason: &PodReason,
    user: &str,
    missing: &[(&'static str, &'static str)],
) -> ClusterError {
    ClusterError::LogsNotAllowed {
        node: node.to_string(),
        why: reason.why(),
        remedy: reason.remedy().map(str::to_string),
        refused: Box::new(cluster.session_not_allowed(user, missing)),
    }
}

/// The fallback pod of a node, around the exec it is given, or why there
/// is none.
pub type PodFor<'f> =
    dyn Fn(&str, Vec<String>) -> std::result::Result<NodeSession, String> + Sync + 'f;

/// Many nodes' logs at once.
pub struct LogsRun<'a> {
    pub nodes: Vec<String>,
    pub request: &'a LogRequest,
    pub pod_for: &'a PodFor<'a>,
    /// The user, for the message of a pod that may not be made.
    pub user: &'a str,
    pub run_id: String,
    /// How many nodes are planned and read at once.
    pub fanout: usize,
    pub start_timeout: Duration,
    pub command_timeout: Option<Duration>,
}

/// Reads the logs of every node of `run`, each the least-privileged way
/// it can be, into `events`: the nodes the query serves at once, the
/// others through the fan-out driver's pods, beside them. A signal stops
/// both; the pods are deleted however the run ends.
pub async fn run_logs(
    cluster: &ClusterContext,
    run: LogsRun<'_>,
    events: Arc<dyn FanoutEvents>,
) -> Result<FanoutReport> {
    let mut signals = Signals::install()?;
    let nodes = &run.nodes;
    let mut outcomes: Vec<Option<NodeOutcome>> = vec![None; nodes.len()];
    let planning = futures::stream::iter(nodes.iter())
        .map(|node| plan(cluster, node, run.request))
        .buffered(run.fanout.max(1))
        .collect::<Vec<Plan>>();
    let plans = tokio::select! {
        plans = planning => plans,
        signal = signals.recv() => return Ok(FanoutReport::stopped_before_start(nodes.len(), signal)),
    };

    let mut by_query = Vec::new();
    let mut by_pod: Vec<(usize, PodReason)> = Vec::new();
    for (i, planned) in plans.into_iter().enumerate() {
        match planned {
            Plan::Query(sources) => by_query.push((i, sources)),
            Plan::Pod(reason) => by_pod.push((i, reason)),
            Plan::Failed(err) => outcomes[i] = Some(not_read(&err)),
        }
    }
    if !by_query.is_empty() {
        let names: Vec<String> = by_query.iter().map(|(i, _)| nodes[*i].clone()).collect();
        events.note(&query_line(&fold(&names)));
    }
    if !by_pod.is_empty() {
        let missing = cluster.session_access_missing().await;
        if !missing.is_empty() {
            for (i, reason) in by_pod.drain(..) {
                let refused = not_allowed(cluster, &nodes[i], &reason, run.user, &missing);
                outcomes[i] = Some(NodeOutcome::NotRun {
                    reason: "no query, no pod".into(),
                    message: refused.to_string(),
                });
            }
        }
        let mut reasons: Vec<(&PodReason, Vec<String>)> = Vec::new();
        for (i, reason) in &by_pod {
            match reasons.iter_mut().find(|(known, _)| *known == reason) {
                Some((_, names)) => names.push(nodes[*i].clone()),
                None => reasons.push((reason, vec![nodes[*i].clone()])),
            }
        }
        for (reason, names) in reasons {
            events.note(&pod_line(&fold(&names), reason));
        }
    }
    for (i, outcome) in outcomes.iter().enumerate() {
        if let Some(outcome) = outcome {
            events.finished(&nodes[i], outcome);
        }
    }

    let limit = run.command_timeout.unwrap_or(Duration::MAX);
    let queried = async {
        let reads = futures::stream::iter(by_query.iter())
            .map(|(i, sources)| {
                let node = &nodes[*i];
                let events = events.as_ref();
                async move {
                    events.created(node);
                    events.running(node);
                    let out = NodeOut { node, events };
                    let read = tokio::time::timeout(
                        limit,
                        read_by_query(cluster, node, sources, run.request, &out),
                    )
                    .await;
                    let outcome = match read {
                        Ok(Ok(status)) => NodeOutcome::Exited(status),
                        Ok(Err(err)) => not_read(&err),
                        Err(_) => NodeOutcome::NotRun {
                            reason: "command timeout".into(),
                            message: format!(
                                "the logs were read longer than --command-timeout {}",
                                humantime::format_duration(limit)
                            ),
                        },
                    };
                    events.finished(node, &outcome);
                    (*i, outcome)
                }
            })
            .buffer_unordered(run.fanout.max(1));
        tokio::pin!(reads);
        let mut done = Vec::new();
        loop {
            tokio::select! {
                next = reads.next() => match next {
                    Some(read) => done.push(read),
                    None => return (done, None),
                },
                signal = signals.recv() => return (done, Some(signal)),
            }
        }
    };
    let pod_nodes: Vec<String> = by_pod.iter().map(|(i, _)| nodes[*i].clone()).collect();
    let token = mark_token();
    let command = pod_command(run.request, &token);
    let session_for = |i: usize| (run.pod_for)(&pod_nodes[i], command.clone());
    let lines = Arc::new(PodLines::new(events.clone(), token, run.request));
    let podded = async {
        if pod_nodes.is_empty() {
            return None;
        }
        let spec = FanoutSpec {
            run_id: run.run_id.clone(),
            nodes: pod_nodes.clone(),
            session_for: &session_for,
            fanout: run.fanout,
            start_timeout: run.start_timeout,
            command_timeout: run.command_timeout,
            what: "logs".to_string(),
            back_off: true,
        };
        Some(fanout::run(cluster, spec, lines.clone()).await)
    };
    let ((queried, query_signal), podded) = tokio::join!(queried, podded);

    for (i, outcome) in queried {
        outcomes[i] = Some(outcome);
    }
    let mut report = FanoutReport {
        outcomes: Vec::new(),
        interrupted: query_signal,
        aborted: None,
        left: None,
    };
    match podded {
        Some(Ok(pods)) => {
            for ((i, _), outcome) in by_pod.iter().zip(pods.outcomes) {
                outcomes[*i] = Some(outcome);
            }
            report.interrupted = report.interrupted.or(pods.interrupted);
            report.aborted = pods.aborted;
            report.left = pods.left;
        }
        Some(Err(err)) => {
            for (i, _) in &by_pod {
                let outcome = not_read(&err);
                events.finished(&nodes[*i], &outcome);
                outcomes[*i] = Some(outcome);
            }
        }
        None => {}
    }
    let stopped = |signal: Option<crate::signals::Signal>| NodeOutcome::NotRun {
        reason: INTERRUPTED.into(),
        message: match signal {
            Some(signal) => format!("the run stopped on {signal} while the logs were read"),
            None => "the run stopped".into(),
        },
    };
    report.outcomes = outcomes
        .into_iter()
        .map(|outcome| outcome.unwrap_or_else(|| stopped(report.interrupted)))
        .collect();
    Ok(report)
}

/// A node whose logs could not be read at all: a short reason to group
/// nodes by, and the whole message.
fn not_read(err: &ClusterError) -> NodeOutcome {
    let reason = match err {
        ClusterError::LogQueryFailed { .. } => "log query failed",
        ClusterError::LogsNotAllowed { .. } => "no query, no pod",
        ClusterError::Forbidden { .. } | ClusterError::Unauthorized { .. } => "permission denied",
        ClusterError::Unreachable { .. } => "API server unreachable",
        ClusterError::Interrupted { .. } => INTERRUPTED,
        _ => "API error",
    };
    NodeOutcome::NotRun {
        reason: reason.into(),
        message: err.to_string(),
    }
}
