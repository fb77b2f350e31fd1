//! What a session is asked to do, what it reports while its pod starts,
//! and how it ended: the types a command and the lifecycle share.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;

use crate::error::LeftPod;

/// One session on a node: the pod to create and what to run in it.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub pod: Pod,
    /// The container to exec into.
    pub container: String,
    /// The argv to exec.
    pub command: Vec<String>,
    /// Interactive: a TTY, raw mode, resizes forwarded.
    pub tty: bool,
    /// How long the pod may take to start.
    pub start_timeout: Duration,
    /// Leave the pod after a successful session.
    pub keep: bool,
    /// What the pod is for, in messages: "node-shell", "debug-node --profile sysadmin".
    pub what: String,
    /// `--persist`: run in the user's own persisting pod of this shape on
    /// this node if there is one, and leave the pod persisting for this
    /// idle time after the session; zero deletes it at the end.
    pub persist: Option<Duration>,
    /// Try the exec as soon as the pod's sandbox is ready, before the
    /// kubelet reports Running: only where the refusal of an exec whose
    /// container has not started is a request error
    /// ([`crate::nodes::kubelet_takes_exec_directly`]).
    pub early_exec: bool,
}

/// Where the pod is while toolbox waits for it, for a spinner to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitState {
    pub phase: String,
    /// A container's waiting reason, e.g. ContainerCreating.
    pub detail: Option<String>,
    /// The newest Event about the pod: "Reason: message".
    pub last_event: Option<String>,
}

/// Receives progress while a session starts; the binary draws it.
pub trait Progress: Send + Sync {
    /// Whether Events are worth a watch of their own (a spinner is showing).
    fn wants_events(&self) -> bool;
    fn waiting(&self, state: &WaitState);
    /// The pod is running; clear whatever was drawn.
    fn started(&self);
    /// The session's pod exists: created, or a persisting pod `reused`.
    fn pod_ready(&self, _pod: &str, _reused: bool) {}
    /// A line the user should read before the session starts.
    fn note(&self, _line: &str) {}
}

/// Progress that shows nothing.
pub struct Silent;

impl Progress for Silent {
    fn wants_events(&self) -> bool {
        false
    }
    fn waiting(&self, _: &WaitState) {}
    fn started(&self) {}
}

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOutcome {
    pub pod: String,
    /// The remote command's exit status.
    pub exit_code: i32,
    /// The pod was left running (`--keep`).
    pub kept: bool,
    /// The pod could not be deleted; it stops by itself at its TTL.
    pub not_deleted: Option<LeftPod>,
    /// The session ran in a persisting pod that was already there.
    pub reused: bool,
    /// The pod is left persisting, and ends at this time if no session
    /// comes (RFC 3339).
    pub persisting_until: Option<String>,
    /// The command ended because the pod reached its lifetime (`--ttl`, this
    /// long) and the kubelet stopped it.
    pub ttl_reached: Option<Duration>,
}
