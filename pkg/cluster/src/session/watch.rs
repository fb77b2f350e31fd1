//! One watch for every pod that waits to start: a session's one pod, or all
//! the pods of a fan-out run. N pods cost one watch, not N, and each pod
//! learns of its own changes through a channel of its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, WatchEvent, WatchParams};
use tokio::sync::watch;

use super::pods::Pods;
use crate::error::{Action, Result, api_status, innermost_cause};

/// How soon a watch that lost its connection is opened again.
const WATCH_RETRY: Duration = Duration::from_millis(500);
/// How long the server keeps one watch request open before toolbox opens
/// the next; below the API server's own limit.
const WATCH_SECONDS: u32 = 290;

/// The newest the watch knows of one pod.
#[derive(Debug, Clone)]
pub(crate) enum PodUpdate {
    /// Nothing seen yet.
    Unseen,
    Changed(Arc<Pod>),
    Deleted,
    /// The watch failed for good, in words.
    WatchFailed(String),
}

/// Which pods the watch follows.
#[derive(Debug, Clone)]
pub(crate) enum PodSelection {
    /// One pod, by name (`metadata.name=`).
    Named(String),
    /// Pods carrying a label selector, e.g. a fan-out run's label.
    Labelled(String),
}

impl PodSelection {
    fn watch_params(&self) -> WatchParams {
        let params = WatchParams::default().timeout(WATCH_SECONDS);
        match self {
            PodSelection::Named(name) => params.fields(&format!("metadata.name={name}")),
            PodSelection::Labelled(selector) => params.labels(selector),
        }
    }
}

#[derive(Default)]
struct Shared {
    subscribers: Mutex<HashMap<String, watch::Sender<PodUpdate>>>,
    /// Why the server cannot be reached, while it cannot.
    unreachable: Mutex<Option<String>>,
    failed: Mutex<Option<String>>,
}

impl Shared {
    fn dispatch(&self, pod: &str, update: PodUpdate) {
        let subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = subscribers.get(pod) {
            sender.send_replace(update);
        }
    }

    fn fail(&self, reason: String) {
        *self.failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason.clone());
        let subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for sender in subscribers.values() {
            sender.send_replace(PodUpdate::WatchFailed(reason.clone()));
        }
    }

    fn set_unreachable(&self, reason: Option<String>) {
        *self
            .unreachable
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = reason;
    }
}

/// A watch of pods that runs in a task of its own until dropped.
#[derive(Default)]
pub(crate) struct PodWatch {
    shared: Arc<Shared>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for PodWatch {
    fn drop(&mut self) {
        if let Some(task) = self
            .task
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

impl PodWatch {
    /// Opens the watch from `resource_version` ("0": from whatever the
    /// server has, with the pods that exist now as additions). It fails
    /// here, before anything else happens, when the server refuses it.
    /// Pods subscribed before this miss nothing.
    pub(crate) async fn open(
        &self,
        pods: &Pods<'_>,
        selection: PodSelection,
        resource_version: &str,
    ) -> Result<()> {
        let (cluster, api) = (pods.cluster, &pods.api);
        let first = api
            .watch(&selection.watch_params(), resource_version)
            .await
            .map_err(|err| {
                cluster.request_error(Action::namespaced("watch", "pods", &cluster.namespace), err)
            })?;
        let task = tokio::spawn(follow(
            api.clone(),
            selection,
            resource_version.to_string(),
            first.boxed(),
            self.shared.clone(),
        ));
        *self.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(task);
        Ok(())
    }

    /// A channel of `pod`'s updates, from now until [`PodWatch::unsubscribe`].
    /// Subscribe before creating the pod, so that no update goes unseen.
    pub(crate) fn subscribe(&self, pod: &str) -> watch::Receiver<PodUpdate> {
        let initial = match &*self
            .shared
            .failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(reason) => PodUpdate::WatchFailed(reason.clone()),
            None => PodUpdate::Unseen,
        };
        let (sender, receiver) = watch::channel(initial);
        self.shared
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(pod.to_string(), sender);
        receiver
    }

    pub(crate) fn unsubscribe(&self, pod: &str) {
        self.shared
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(pod);
    }

    /// Why the API server cannot be reached, while the watch cannot reach it.
    pub(crate) fn unreachable(&self) -> Option<String> {
        self.shared
            .unreachable
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

type PodEvents = futures::stream::BoxStream<'static, kube::Result<WatchEvent<Pod>>>;

/// Follows the watch, opening it again whenever the server ends it or the
/// connection drops, from the newest resourceVersion seen; after a 410 Gone,
/// from a fresh list.
async fn follow(
    api: Api<Pod>,
    selection: PodSelection,
    mut resource_version: String,
    first: PodEvents,
    shared: Arc<Shared>,
) {
    let mut stream = Some(first);
    loop {
        let mut events = match stream.take() {
            Some(events) => events,
            None => match api
                .watch(&selection.watch_params(), &resource_version)
                .await
            {
                Ok(events) => {
                    shared.set_unreachable(None);
                    events.boxed()
                }
                Err(err) if api_status(&err).is_none() => {
                    shared.set_unreachable(Some(innermost_cause(&err)));
                    tokio::time::sleep(WATCH_RETRY).await;
                    continue;
                }
                Err(err) if api_status(&err).is_some_and(|s| s.code == 410) => {
                    match relist(&api, &selection, &shared).await {
                        Some(version) => resource_version = version,
                        None => tokio::time::sleep(WATCH_RETRY).await,
                    }
                    continue;
                }
                Err(err) => return shared.fail(innermost_cause(&err)),
            },
        };
        loop {
            match events.try_next().await {
                Ok(Some(WatchEvent::Added(pod) | WatchEvent::Modified(pod))) => {
                    if let Some(version) = &pod.metadata.resource_version {
                        resource_version.clone_from(version);
                    }
                    let name = pod.metadata.name.clone().unwrap_or_default();
                    shared.dispatch(&name, PodUpdate::Changed(Arc::new(pod)));
                }
                Ok(Some(WatchEvent::Deleted(pod))) => {
                    let name = pod.metadata.name.clone().unwrap_or_default();
                    shared.dispatch(&name, PodUpdate::Deleted);
                }
                Ok(Some(WatchEvent::Bookmark(bookmark))) => {
                    resource_version = bookmark.metadata.resource_version;
                }
                Ok(Some(WatchEvent::Error(status))) if status.code == 410 => {
                    // Our resourceVersion is too old: start again from a list.
                    if let Some(version) = relist(&api, &selection, &shared).await {
                        resource_version = version;
                    }
                    break;
                }
                Ok(Some(WatchEvent::Error(status))) => {
                    return shared.fail(format!("{} ({})", status.message, status.reason));
                }
                // The server closed the watch at its timeout: open it again.
                Ok(None) => break,
                Err(err) if api_status(&err).is_none() => {
                    shared.set_unreachable(Some(innermost_cause(&err)));
                    tokio::time::sleep(WATCH_RETRY).await;
                    break;
                }
                Err(err) => return shared.fail(innermost_cause(&err)),
            }
        }
    }
}

/// Reads the followed pods again, tells each subscriber its pod's state, and
/// returns the resourceVersion to watch from. One pod is read with `get`,
/// so that a session needs no `list` permission; a run's pods with one list.
async fn relist(api: &Api<Pod>, selection: &PodSelection, shared: &Shared) -> Option<String> {
    let read = match selection {
        PodSelection::Named(name) => match api.get_opt(name).await {
            Ok(Some(pod)) => Ok((pod.metadata.resource_version.clone(), vec![pod])),
            Ok(None) => {
                shared.dispatch(name, PodUpdate::Deleted);
                return None;
            }
            Err(err) => Err(err),
        },
        PodSelection::Labelled(selector) => api
            .list(&ListParams::default().labels(selector))
            .await
            .map(|list| (list.metadata.resource_version, list.items)),
    };
    match read {
        Ok((version, pods)) => {
            shared.set_unreachable(None);
            for pod in pods {
                let name = pod.metadata.name.clone().unwrap_or_default();
                shared.dispatch(&name, PodUpdate::Changed(Arc::new(pod)));
            }
            version
        }
        Err(err) => {
            shared.set_unreachable(Some(innermost_cause(&err)));
            None
        }
    }
}
