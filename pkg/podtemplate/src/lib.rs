//! Pure functions from a typed request to the `Pod` that toolbox creates on a node.
//!
//! Nothing in this crate talks to a cluster, reads a clock or draws a random number:
//! pod-name suffixes, expiry times and TTLs all arrive in the request, so the same
//! request always yields the same pod. That is what makes the snapshot tests meaningful
//! and what lets the CLI print the exact pod it is about to create.
//!
//! Four pod shapes are built here:
//! - [`node_shell_pod`]: a privileged holder pod whose sessions `nsenter` into the host
//!   (or, on Windows, a HostProcess pod).
//! - [`debug_node_pod`]: the pod `kubectl debug node/NAME --profile P [--custom F]` would
//!   create, with toolbox's labels, annotations and TTL holder.
//! - [`reader_pod`]: `toolbox sessions`' short-lived pod that reads a node's recordings,
//!   in the recorded shape and nothing more.
//! - [`copy_pod`]: `toolbox cp`'s pod, node-shell's shape for one copy, whose exec is
//!   the recorder's `send` or `receive`.
//! - [`dump_pod`]: `toolbox dump`'s privileged pod in the node's PID namespace, whose
//!   execs ([`dump_item_command`]) each read one item of the bundle, cut on the node.
//! - [`node_logs_pod`]: `toolbox logs`' short-lived fallback pod that reads a node's
//!   journals and log files when the kubelet's node log query cannot.
//!
//! Both pods run a *holder* process that exits on its own after the TTL; interactive
//! sessions are `exec`s into the holder container ([`node_shell_exec_command`],
//! [`debug_node_exec_command`]). [`streamless_pod`] turns either into a stream-less
//! run's pod, whose container runs the command itself and reports it in its
//! termination message.

mod common;
mod copy;
mod debug_node;
mod dump;
mod logs;
mod node_shell;
mod persist;
mod pod_target;
mod reader;
mod recording;
mod strategic_merge;
mod streamless;

pub use common::{Audit, PodCommon, fit_lifetime, node_label_value, pod_name, ttl_is_default};
pub use copy::{
    COPY_CONTAINER, COPY_DIRECTION_ANNOTATION, COPY_FILES_ANNOTATION, COPY_PATHS_ANNOTATION,
    COPY_POD_PREFIX, COPY_SUBCOMMAND, CopyDirection, CopyRequest, copy_pod, copy_receive_command,
    copy_send_command,
};
pub use debug_node::{
    DebugNodeRequest, Profile, TemplateError, UnknownProfileError, debug_node_exec_command,
    debug_node_pod, parse_custom_container,
};
pub use dump::{
    DUMP_CONTAINER, DUMP_ITEMS_ANNOTATION, DUMP_POD_PREFIX, DUMP_SUBCOMMAND, DumpRequest, ItemNote,
    NOTE_PREFIX, NodeRead, ProcessFlag, dump_item_command, dump_pod,
};
pub use logs::{
    LOGS_CONTAINER, LOGS_POD_PREFIX, LOGS_SCRIPT, LOGS_SUBCOMMAND, LogsScriptArgs, NodeLogsRequest,
    node_logs_exec_command, node_logs_pod,
};
pub use node_shell::{
    HostNamespaces, NODE_SHELL_CONTAINER, NodeOs, NodeShellRequest, node_shell_exec_command,
    node_shell_pod,
};
pub use persist::{
    IDLE_HOLDER, IDLE_HOLDER_NAME, IDLE_UNTIL_ANNOTATION, MAX_REUSES_RECORDED, PERSIST_LABEL,
    PERSIST_SECONDS_ANNOTATION, REUSES_ANNOTATION, SHAPE_LABEL, make_persisting, pod_shape,
    seconds_to_expiry,
};
pub use pod_target::{PodNamespaces, PodTarget, TARGET_POD_ANNOTATION};
pub use reader::{
    READER_CONTAINER, ReaderRequest, SESSIONS_POD_PREFIX, SESSIONS_SUBCOMMAND, reader_cat_command,
    reader_index_command, reader_pod,
};
pub use recording::{
    RECORDED_LABEL, RECORDER_CONTAINER, RECORDER_PATH, RECORDER_VOLUME, Recording,
    SESSIONS_HOST_PATH, SESSIONS_MOUNT_PATH, SESSIONS_VOLUME, recorded_exec_command, session_id,
};

pub use streamless::{
    OUTPUT_ANNOTATION, OUTPUT_IN_MESSAGE, RUN_SUBCOMMAND, StreamlessRun, streamless_pod,
};

/// Standard Kubernetes label naming the tool that manages an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`] on every toolbox pod; list selectors rely on it.
pub const MANAGED_BY_TOOLBOX: &str = "toolbox";
/// Label carrying the node name, made label-safe by [`node_label_value`].
pub const NODE_LABEL: &str = "toolbox.dev/node";
/// Label carrying the toolbox subcommand that created the pod.
pub const SUBCOMMAND_LABEL: &str = "toolbox.dev/subcommand";

/// Annotation: the identity of the user who asked for the pod.
pub const REQUESTED_BY_ANNOTATION: &str = "toolbox.dev/requested-by";
/// Annotation: the host the request came from.
pub const CLIENT_HOST_ANNOTATION: &str = "toolbox.dev/client-host";
/// Annotation: JSON array of the subcommand followed by the user's command line.
pub const COMMAND_ANNOTATION: &str = "toolbox.dev/command";
/// Annotation: the user's free-text reason; present only when one was given.
pub const REASON_ANNOTATION: &str = "toolbox.dev/reason";
/// Annotation: RFC 3339 time after which the pod is expected to be gone.
pub const EXPIRES_AT_ANNOTATION: &str = "toolbox.dev/expires-at";
/// Annotation: the full node name, which the label may have had to shorten.
pub const NODE_ANNOTATION: &str = "toolbox.dev/node";
/// Annotation: the TTL the pod was created with, in seconds.
pub const TTL_ANNOTATION: &str = "toolbox.dev/ttl-seconds";
/// Annotation: `"true"` when the pod's lifetime is toolbox's default, which
/// toolbox fits to a namespace's maximum, not one the user chose; absent
/// otherwise.
pub const TTL_IS_DEFAULT_ANNOTATION: &str = "toolbox.dev/ttl-is-default";

/// [`SUBCOMMAND_LABEL`] value for node-shell pods.
pub const NODE_SHELL_SUBCOMMAND: &str = "node-shell";
/// [`SUBCOMMAND_LABEL`] value for debug-node pods.
pub const DEBUG_NODE_SUBCOMMAND: &str = "debug-node";

/// Pod-name prefix for node-shell pods (see [`pod_name`]).
pub const NODE_SHELL_POD_PREFIX: &str = "toolbox-shell";
/// Pod-name prefix for debug-node pods (see [`pod_name`]).
pub const DEBUG_NODE_POD_PREFIX: &str = "toolbox-debug";

/// Name of the hostPath volume that exposes the node's `/`.
pub const HOST_ROOT_VOLUME: &str = "host-root";
/// Where the node's `/` is mounted inside the container.
pub const HOST_ROOT_MOUNT_PATH: &str = "/host";
