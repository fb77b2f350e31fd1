//! Live sessions: the container logs of the pods labelled
//! `toolbox.dev/recorded` that still exist. The holder's stdout (the main
//! container's log) carries every session of the pod; pkg/recording splits
//! it per session.

use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, LogParams};
use toolbox_podtemplate::RECORDED_LABEL;
use toolbox_recording::{Logged, sessions_in_log};

use crate::client::context::ClusterContext;
use crate::error::{Action, Result, api_status};

/// How many logs are read at once.
const LOGS_AT_ONCE: usize = 8;

/// A recorded pod that exists, and the sessions its log holds.
#[derive(Debug, Clone)]
pub struct LivePod {
    pub namespace: String,
    pub name: String,
    pub sessions: Vec<Logged>,
}

impl ClusterContext {
    /// The recorded pods in the namespace (or all), on `node` if given,
    /// with their logs' sessions; and a `note:` for each namespace whose
    /// logs the user may not read.
    pub(super) async fn live_pods(
        &self,
        all_namespaces: bool,
        node: Option<&str>,
    ) -> Result<(Vec<LivePod>, Vec<String>)> {
        let api: Api<Pod> = if all_namespaces {
            Api::all(self.client.clone())
        } else {
            Api::namespaced(self.client.clone(), &self.namespace)
        };
        let mut params = ListParams::default().labels(&format!("{RECORDED_LABEL}=true"));
        if let Some(node) = node {
            params = params.fields(&format!("spec.nodeName={node}"));
        }
        let action = if all_namespaces {
            Action::cluster("list", "pods")
        } else {
            Action::namespaced("list", "pods", &self.namespace)
        };
        let pods = api
            .list(&params)
            .await
            .map_err(|err| self.request_error(action, err))?
            .items;
        let read = stream::iter(pods)
            .map(|pod| self.pod_sessions(pod))
            .buffer_unordered(LOGS_AT_ONCE)
            .collect::<Vec<_>>()
            .await;
        let mut live = Vec::new();
        let mut refused: Vec<String> = Vec::new();
        for result in read {
            match result? {
                LogRead::Sessions(pod) => live.push(pod),
                LogRead::NoLog => {}
                LogRead::Forbidden(namespace) => {
                    if !refused.contains(&namespace) {
                        refused.push(namespace);
                    }
                }
            }
        }
        live.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let notes = refused
            .into_iter()
            .map(|ns| {
                format!(
                    "note: you may not read pod logs (pods/log) in namespace {ns}: its live sessions are not listed from their logs"
                )
            })
            .collect();
        Ok((live, notes))
    }

    /// The sessions in one pod's log. A pod with no log yet (not started:
    /// 400) or gone meanwhile (404) has none; a refused read is told once
    /// per namespace; any other failure (the server unreachable, say) is the
    /// listing's error, not an empty list.
    async fn pod_sessions(&self, pod: Pod) -> Result<LogRead> {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        // The holder is the first container: its stdout is the recorder's log.
        let container = pod
            .spec
            .as_ref()
            .and_then(|spec| spec.containers.first())
            .map(|c| c.name.clone());
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
        let params = LogParams {
            container,
            ..LogParams::default()
        };
        match api.logs(&name, &params).await {
            Ok(log) => Ok(LogRead::Sessions(LivePod {
                sessions: sessions_in_log(&log),
                namespace,
                name,
            })),
            Err(err) => match api_status(&err).map(|s| s.code) {
                Some(403) => Ok(LogRead::Forbidden(namespace)),
                Some(400 | 404) => {
                    tracing::debug!(pod = %name, error = %err, "no log to read");
                    Ok(LogRead::NoLog)
                }
                _ => {
                    Err(self.request_error(Action::namespaced("get", "pods/log", &namespace), err))
                }
            },
        }
    }
}

/// What reading one recorded pod's log gave.
enum LogRead {
    Sessions(LivePod),
    /// Not started yet, or gone meanwhile: no sessions to read.
    NoLog,
    /// The user may not read logs in this namespace.
    Forbidden(String),
}
