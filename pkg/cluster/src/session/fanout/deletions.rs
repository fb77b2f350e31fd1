//! A run's deletions: finished pods in batches while it runs, every pod of
//! the run at its end, and the guard that deletes them on every exit path.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams};
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;

use super::spec::{RUN_LABEL, SLOT_LABEL};
use crate::client::context::ClientSource;
use crate::session::delete::{
    DELETE_TOTAL_TIMEOUT, DeleteFailure, delete_from_drop, delete_with_retries,
};

/// How long finished pods are gathered before one request deletes them.
const DELETE_BATCH_WINDOW: Duration = Duration::from_millis(50);
/// The most pods one deletion request names: its selector stays a few KiB.
const DELETE_BATCH_MAX: usize = 250;
/// How many deletion requests are in flight at once. The API server deletes
/// the pods of one `deletecollection` one after another (its
/// `--delete-collection-workers` is 1 by default), so batches in flight
/// side by side are what keeps deletion up with a fast run.
const DELETE_BATCHES_IN_FLIGHT: usize = 4;

/// One finished pod to delete, and its place among the run's live pods,
/// given back once its deletion has been answered.
type Finished = (usize, String, Option<OwnedSemaphorePermit>);

/// Deletes finished pods in the background, many per request: the pods
/// that finish within [`DELETE_BATCH_WINDOW`] of each other go together,
/// [`DELETE_BATCHES_IN_FLIGHT`] requests at a time. Each request is tried
/// once, and a failure is not reported: the run's own deletion at the end
/// removes whatever is left, and says so if it cannot.
pub(super) struct BatchDeleter {
    sender: mpsc::UnboundedSender<Finished>,
    task: tokio::task::JoinHandle<()>,
}

impl BatchDeleter {
    pub(super) fn start(api: Api<Pod>, run_id: String) -> BatchDeleter {
        let (sender, receiver) = mpsc::unbounded_channel::<Finished>();
        let task = tokio::spawn(async move {
            // Until the server refuses deletecollection (RBAC may grant
            // delete alone); then pod by pod.
            let by_collection = std::sync::atomic::AtomicBool::new(true);
            // Batches are gathered one after another, and sent side by side.
            let batches = futures::stream::unfold(receiver, |mut receiver| async move {
                let first = receiver.recv().await?;
                let mut batch = vec![first];
                let until = Instant::now() + DELETE_BATCH_WINDOW;
                while batch.len() < DELETE_BATCH_MAX {
                    tokio::select! {
                        next = receiver.recv() => match next {
                            Some(item) => batch.push(item),
                            None => break,
                        },
                        () = tokio::time::sleep_until(until) => break,
                    }
                }
                Some((batch, receiver))
            });
            batches
                .for_each_concurrent(DELETE_BATCHES_IN_FLIGHT, |batch| {
                    let (api, run_id, by_collection) = (&api, &run_id, &by_collection);
                    async move {
                        let pods: Vec<(usize, String)> = batch
                            .iter()
                            .map(|(slot, name, _)| (*slot, name.clone()))
                            .collect();
                        delete_batch(api, run_id, &pods, by_collection).await;
                        // The places come back once the server has answered.
                        drop(batch);
                    }
                })
                .await;
        });
        BatchDeleter { sender, task }
    }

    /// Deletes `pod`, of the run's `slot`; `place`, if any, is given back
    /// once its deletion has been answered.
    pub(super) fn delete(&self, slot: usize, pod: String, place: Option<OwnedSemaphorePermit>) {
        // The receiver lives as long as the task, which outlives every sender.
        let _ = self.sender.send((slot, pod, place));
    }

    /// Stops at once: the run's own deletion, which follows, removes what
    /// is still queued in one request, where draining the queue could cost
    /// a timeout per batch against a server that does not answer.
    pub(super) fn stop(&self) {
        self.task.abort();
    }
}

fn delete_params() -> DeleteParams {
    DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    }
}

async fn delete_batch(
    api: &Api<Pod>,
    run_id: &str,
    batch: &[(usize, String)],
    by_collection: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering;
    if by_collection.load(Ordering::Relaxed) && batch.len() > 1 {
        let slots: Vec<String> = batch.iter().map(|(slot, _)| slot.to_string()).collect();
        let selector = format!("{RUN_LABEL}={run_id},{SLOT_LABEL} in ({})", slots.join(","));
        let (dp, lp) = (delete_params(), ListParams::default().labels(&selector));
        match delete_with_retries("finished pods", Duration::ZERO, || {
            api.delete_collection(&dp, &lp)
        })
        .await
        {
            Err(DeleteFailure::Refused { code: 403, .. }) => {
                by_collection.store(false, Ordering::Relaxed);
            }
            Err(failure) => {
                tracing::debug!(%failure, "deleting finished pods");
                return;
            }
            Ok(()) => return,
        }
    }
    let dp = &delete_params();
    futures::stream::iter(batch)
        .for_each_concurrent(16, |(_, name)| async move {
            if let Err(failure) =
                delete_with_retries(name, Duration::ZERO, || api.delete(name, dp)).await
            {
                tracing::debug!(pod = name, %failure, "deleting a finished pod");
            }
        })
        .await;
}

/// Deletes every pod of the run, in one request where RBAC allows
/// deletecollection, else pod by pod.
pub(super) async fn delete_run(
    api: &Api<Pod>,
    selector: &str,
) -> std::result::Result<(), DeleteFailure> {
    let (dp, lp) = (&delete_params(), ListParams::default().labels(selector));
    match delete_with_retries("the run's pods", DELETE_TOTAL_TIMEOUT, || {
        api.delete_collection(dp, &lp)
    })
    .await
    {
        Err(DeleteFailure::Refused { code: 403, .. }) => {}
        other => return other,
    }
    let listed = Mutex::new(Vec::new());
    delete_with_retries("the run's pods", DELETE_TOTAL_TIMEOUT, || async {
        let list = api.list_metadata(&lp).await?;
        *listed.lock().unwrap_or_else(PoisonError::into_inner) = list.items;
        Ok(())
    })
    .await?;
    let names: Vec<String> = listed
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .filter_map(|pod| pod.metadata.name)
        .collect();
    let failures: Vec<DeleteFailure> = futures::stream::iter(&names)
        .map(|name| async move {
            delete_with_retries(name, DELETE_TOTAL_TIMEOUT, || api.delete(name, dp))
                .await
                .err()
        })
        .buffer_unordered(16)
        .filter_map(|failure| async move { failure })
        .collect()
        .await;
    match failures.into_iter().next() {
        Some(failure) => Err(failure),
        None => Ok(()),
    }
}

/// Deletes the run's pods when dropped before [`RunGuard::disarm`]: a panic
/// or an early return cannot leave them behind.
pub(super) struct RunGuard {
    api: Api<Pod>,
    clients: ClientSource,
    selector: String,
    armed: bool,
}

impl RunGuard {
    /// Guards the pods `selector` matches, from the run's start.
    pub(super) fn new(api: Api<Pod>, clients: ClientSource, selector: String) -> RunGuard {
        RunGuard {
            api,
            clients,
            selector,
            armed: true,
        }
    }

    pub(super) fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if self.armed {
            let selector = self.selector.clone();
            delete_from_drop(&self.api, &self.clients, move |api| async move {
                let _ = delete_run(&api, &selector).await;
            });
        }
    }
}
