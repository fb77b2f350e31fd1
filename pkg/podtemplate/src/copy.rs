//! toolbox cp's pod: what node-shell's pod is to a shell (privileged, in the
//! host's PID namespace, a holder that sleeps for the pod's lifetime), for
//! one copy. Its exec is the recorder's `send` or `receive`, which enters
//! the mount namespace of the node's init itself, so the pod mounts nothing
//! of the node and shares neither its network nor its IPC.
//!
//! The recorder is the copy's node end, so the pod always has it (from the
//! image, or the recorder image's init container), whether or not sessions
//! are recorded by default, and it has the recorded pod's shape: `toolbox
//! policy --require-recording` admits it as it admits a node-shell pod.
//!
//! Its annotations say what the copy moves, for the audit trail: the
//! direction and the node's paths at creation, and, once the copy is done
//! and before the pod is deleted, each file with its size and sha256
//! ([`COPY_FILES_ANNOTATION`]).

use k8s_openapi::api::core::v1::Pod;

use crate::common::host_pid_holder_pod;
use crate::recording::{NodeFile, equip};
use crate::{PodCommon, RECORDER_PATH, Recording};

/// Pod-name prefix of cp's pods.
pub const COPY_POD_PREFIX: &str = "toolbox-cp";
/// `toolbox.dev/subcommand` of cp's pods.
pub const COPY_SUBCOMMAND: &str = "cp";
/// The pod's one container.
pub const COPY_CONTAINER: &str = "cp";
/// Annotation: `from-node` or `to-node`.
pub const COPY_DIRECTION_ANNOTATION: &str = "toolbox.dev/copy-direction";
/// Annotation: the node's paths, a JSON list: the sources of a copy from
/// the node, the destination of one to it.
pub const COPY_PATHS_ANNOTATION: &str = "toolbox.dev/copy-paths";
/// Annotation written after the copy: each file as `{"path", "size",
/// "sha256"}` in a JSON list, or, for a list too long for an annotation,
/// `{"count", "bytes", "manifest_sha256"}` (the node's recording lists them
/// all).
pub const COPY_FILES_ANNOTATION: &str = "toolbox.dev/copy-files";

/// Which way a copy goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyDirection {
    FromNode,
    ToNode,
}

impl CopyDirection {
    pub fn word(self) -> &'static str {
        match self {
            CopyDirection::FromNode => "from-node",
            CopyDirection::ToNode => "to-node",
        }
    }
}

/// One copy's pod.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyRequest {
    /// The pod's common parts: `image` must have `sleep` (the holder).
    pub common: PodCommon,
    pub direction: CopyDirection,
    /// The node's paths the copy reads or writes.
    pub node_paths: Vec<String>,
    /// Where the recorder comes from.
    pub recording: Recording,
}

/// Builds the copy's pod.
pub fn copy_pod(req: &CopyRequest) -> Pod {
    let mut pod = host_pid_holder_pod(
        &req.common,
        COPY_CONTAINER,
        COPY_POD_PREFIX,
        COPY_SUBCOMMAND,
    );
    let annotations = pod.metadata.annotations.get_or_insert_default();
    annotations.insert(
        COPY_DIRECTION_ANNOTATION.to_owned(),
        req.direction.word().to_owned(),
    );
    annotations.insert(
        COPY_PATHS_ANNOTATION.to_owned(),
        serde_json::to_string(&req.node_paths).unwrap_or_default(),
    );
    equip(&mut pod, &req.recording, NodeFile::ThroughHostPid);
    pod
}

/// The exec of a copy from the node: the recorder sends `paths`, recorded
/// as session `id`.
pub fn copy_send_command(id: &str, paths: &[String]) -> Vec<String> {
    [RECORDER_PATH, "send", "--id", id, "--"]
        .map(str::to_owned)
        .into_iter()
        .chain(paths.iter().cloned())
        .collect()
}

/// The exec of a copy to the node: the recorder receives into `dest`.
pub fn copy_receive_command(
    id: &str,
    dest: &str,
    force: bool,
    no_target_directory: bool,
) -> Vec<String> {
    let mut argv: Vec<String> = [RECORDER_PATH, "receive", "--id", id]
        .map(str::to_owned)
        .to_vec();
    if force {
        argv.push("--force".to_owned());
    }
    if no_target_directory {
        argv.push("--no-target-directory".to_owned());
    }
    argv.push("--".to_owned());
    argv.push(dest.to_owned());
    argv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::sample_common;

    #[test]
    fn the_copy_pod_reaches_the_node_through_its_init_and_mounts_nothing() {
        let pod = copy_pod(&CopyRequest {
            common: sample_common(),
            direction: CopyDirection::FromNode,
            node_paths: vec!["/var/log/syslog".into()],
            recording: Recording {
                recorder_image: "r:v1".into(),
            },
        });
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.host_pid, Some(true));
        assert_eq!(spec.host_network, None);
        let host_paths = spec
            .volumes
            .iter()
            .flatten()
            .filter(|v| v.host_path.is_some())
            .count();
        assert_eq!(host_paths, 0);
        let annotations = pod.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations[COPY_DIRECTION_ANNOTATION], "from-node");
        assert_eq!(annotations[COPY_PATHS_ANNOTATION], r#"["/var/log/syslog"]"#);
        assert_eq!(
            copy_send_command("n.1", &["/a".into()]),
            [RECORDER_PATH, "send", "--id", "n.1", "--", "/a"]
        );
        assert_eq!(
            copy_receive_command("n.1", "/tmp/x", true, false),
            [
                RECORDER_PATH,
                "receive",
                "--id",
                "n.1",
                "--force",
                "--",
                "/tmp/x"
            ]
        );
    }
}
