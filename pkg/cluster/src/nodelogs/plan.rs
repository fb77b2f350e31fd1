//! Each node's plan: how its kubelet would serve each log, asked before
//! anything is read ([`plan`]).

use super::answer::{FileAnswer, Head, UnitProbe, judge_file, logs_path};
use super::query;
use super::request::{LogRequest, PodReason, QuerySource, Source};
use crate::client::context::ClusterContext;
use crate::error::ClusterError;

/// How a node's logs will be read.
#[derive(Debug)]
pub(super) enum Plan {
    Query(Vec<QuerySource>),
    Pod(PodReason),
    Failed(ClusterError),
}

/// The directory the kubelet's `/logs/` serves.
const VAR_LOG: &str = "/var/log/";

/// Asks `node`'s kubelet how it would serve each of `request`'s logs. A node
/// is read one way: if any of its logs needs a pod, the pod reads them all.
pub(super) async fn plan(cluster: &ClusterContext, node: &str, request: &LogRequest) -> Plan {
    let mut files = Vec::new();
    let mut units = Vec::new();
    for source in &request.sources {
        match source {
            Source::File(path) => match path.strip_prefix(VAR_LOG) {
                Some(relative) if !relative.is_empty() => files.push(relative.to_string()),
                _ => return Plan::Pod(PodReason::OutsideVarLog(path.clone())),
            },
            Source::Unit(unit) => units.push(unit.as_str()),
        }
    }
    if units.is_empty() {
        // The directory's listing: served whether the query is on or off,
        // refused like it when the handler is off or the user may not.
        let listing = match query::get(cluster, &logs_path(node), None).await {
            Ok(answer) => answer.head_bytes().await,
            Err(err) => return Plan::Failed(err),
        };
        let (status, content_type, range, body) = listing;
        let head = Head {
            status,
            content_type: &content_type,
            body: &body,
        };
        return match judge_file(head, range.as_deref()) {
            FileAnswer::Directory | FileAnswer::Bytes => {
                Plan::Query(files.into_iter().map(QuerySource::File).collect())
            }
            FileAnswer::Unavailable(why) => Plan::Pod(PodReason::Unavailable(why)),
            other => Plan::Failed(query_failed(node, &format!("{other:?}"))),
        };
    }
    let probes = futures::future::join_all(
        units
            .iter()
            .map(|unit| query::probe_unit(cluster, node, unit)),
    )
    .await;
    let mut by_unit = std::collections::HashMap::new();
    for (unit, probe) in units.iter().zip(probes) {
        match probe {
            Ok(UnitProbe::Journal) => {
                by_unit.insert(*unit, QuerySource::Journal(unit.to_string()));
            }
            Ok(UnitProbe::File) => {
                by_unit.insert(*unit, QuerySource::UnitFile(unit.to_string()));
            }
            Ok(UnitProbe::Unavailable(why)) => return Plan::Pod(PodReason::Unavailable(why)),
            Ok(UnitProbe::Failed(message)) => return Plan::Failed(query_failed(node, &message)),
            Err(err) => return Plan::Failed(err),
        }
    }
    let mut files = files.into_iter();
    Plan::Query(
        request
            .sources
            .iter()
            .filter_map(|source| match source {
                Source::Unit(unit) => by_unit.remove(unit.as_str()),
                Source::File(_) => files.next().map(QuerySource::File),
            })
            .collect(),
    )
}

fn query_failed(node: &str, message: &str) -> ClusterError {
    ClusterError::LogQueryFailed {
        node: node.to_string(),
        message: message.to_string(),
    }
}
