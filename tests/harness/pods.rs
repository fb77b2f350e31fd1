//! Pods and nodes as the tests look at them: waiting for a condition or a
//! phase, a node's Ready condition, a pod's annotations, an exec into a pod
//! the way toolbox does one, the pod kubectl-node-shell builds, and every
//! version of a namespace's pods as a watch sees them ([`watch_pods`]).

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, WatchParams};
use kube::core::WatchEvent;
use serde_json::json;

/// The label every toolbox pod carries.
pub const TOOLBOX_SELECTOR: &str = "app.kubernetes.io/managed-by=toolbox";

pub fn node_ready(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone())
}

/// Whether the pod exists now.
pub async fn pod_exists(pods: &Api<Pod>, name: &str) -> bool {
    pods.get_opt(name).await.unwrap().is_some()
}

/// The pod's annotation `key`, if it has one.
pub fn annotation(pod: &Pod, key: &str) -> Option<String> {
    pod.metadata.annotations.as_ref()?.get(key).cloned()
}

/// Polls `check` until it holds, panicking with `what` after `timeout`.
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the pod's phase is one of `phases`, returning the pod.
pub async fn wait_for_phase(
    pods: &Api<Pod>,
    name: &str,
    phases: &[&str],
    timeout: Duration,
) -> Pod {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Ok(pod) = pods.get(name).await
            && pod
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .is_some_and(|p| phases.contains(&p))
        {
            return pod;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for pod {name} in phase {phases:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What an exec into a pod printed and how it ended.
#[derive(Debug)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// Runs `command` in the pod's first container through the API server's exec,
/// with or without a TTY, the way toolbox does.
pub async fn exec(pods: &Api<Pod>, pod: &str, command: &[&str], tty: bool) -> ExecOutput {
    use kube::api::AttachParams;
    use tokio::io::AsyncReadExt;
    let params = AttachParams::default()
        .stdin(false)
        .stdout(true)
        .stderr(!tty)
        .tty(tty);
    let mut attached = pods
        .exec(pod, command.to_vec(), &params)
        .await
        .expect("exec");
    let status = attached.take_status().expect("status channel");
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut out = attached.stdout().expect("stdout");
    let err = attached.stderr();
    let read_err = async {
        if let Some(mut err) = err {
            err.read_to_string(&mut stderr)
                .await
                .expect("reading stderr");
        }
    };
    let read_out = async {
        out.read_to_string(&mut stdout)
            .await
            .expect("reading stdout")
    };
    tokio::join!(read_out, read_err);
    let status = status.await.expect("exec status");
    attached.join().await.expect("exec stream");
    ExecOutput {
        stdout,
        stderr,
        exit_code: exit_code(&status),
    }
}

/// The exit code an exec's final Status reports: 0 for Success, else the
/// ExitCode cause the kubelet attaches.
pub fn exit_code(status: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status) -> i32 {
    if status.status.as_deref() == Some("Success") {
        return 0;
    }
    status
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|causes| {
            causes
                .iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
        })
        .and_then(|c| c.message.as_ref()?.parse().ok())
        .unwrap_or(-1)
}

/// The `nsenter` that kubectl-node-shell runs into the node's PID 1.
pub const NODE_SHELL_NSENTER: [&str; 8] = [
    "nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid",
];

/// kubectl-node-shell's `--overrides` for `kubectl run`: the privileged pod
/// its script builds (host namespaces, its tolerations, stdin for `-i`),
/// running `command` (give it [`NODE_SHELL_NSENTER`] first to enter the node).
/// The pull policy is IfNotPresent, so that the real node's local image is used.
pub fn kubectl_node_shell_overrides(
    node: &str,
    name: Option<&str>,
    image: &str,
    tty: bool,
    command: &[&str],
) -> String {
    let mut overrides = json!({
        "spec": {
            "nodeName": node, "hostPID": true, "hostNetwork": true, "hostIPC": true,
            "containers": [{
                "name": "nsenter", "image": image, "imagePullPolicy": "IfNotPresent",
                "securityContext": { "privileged": true },
                "stdin": true, "stdinOnce": true, "tty": tty,
                "command": command
            }],
            "tolerations": [
                { "key": "CriticalAddonsOnly", "operator": "Exists" },
                { "effect": "NoExecute", "operator": "Exists" }
            ]
        }
    });
    if let Some(name) = name {
        overrides["metadata"] = json!({ "name": name });
    }
    overrides.to_string()
}

/// Every version of every pod in the namespace, as a watch sees them, until
/// the returned handle is awaited after `stop`. The watch is open when this
/// returns, so that no pod made after it is missed.
pub async fn watch_pods(
    ns: &crate::TestNs,
) -> (
    tokio::task::JoinHandle<Vec<Pod>>,
    tokio::sync::oneshot::Sender<()>,
) {
    let pods = ns.pods();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listed = pods.list(&Default::default()).await.unwrap();
    let version = listed.metadata.resource_version.unwrap_or_default();
    let mut events = pods
        .watch(&WatchParams::default(), &version)
        .await
        .unwrap()
        .boxed();
    let handle = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut stopping = false;
        tokio::pin!(stopped);
        loop {
            // Once stopped, what the watch still holds is read, until it
            // has been quiet for a second.
            let next = async {
                if stopping {
                    tokio::time::timeout(Duration::from_secs(1), events.try_next())
                        .await
                        .unwrap_or(Ok(None))
                } else {
                    events.try_next().await
                }
            };
            tokio::select! {
                biased;
                event = next => match event {
                    Ok(Some(WatchEvent::Added(pod) | WatchEvent::Modified(pod) | WatchEvent::Deleted(pod))) => seen.push(pod),
                    Ok(Some(_)) => {}
                    _ => return seen,
                },
                _ = &mut stopped, if !stopping => stopping = true,
            }
        }
    });
    (handle, stop)
}
