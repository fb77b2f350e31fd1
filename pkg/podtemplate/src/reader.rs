//! The reader pod of `toolbox sessions`: a short-lived pod on one node that
//! reads the node's recordings once their session's pod is gone, with the
//! recorder's own `index` and `cat ID`.
//!
//! It has the shape of a recorded pod ([`equip`]: the recorder, the node's
//! sessions directory, the pod's identity), so that `toolbox policy
//! --require-recording` admits it as it admits a session's pod, and lets
//! its exec through (the recorder's `index` and `cat` are allowed execs).
//! Beyond that it reaches nothing of the node: not privileged, no host
//! namespace, no capability; its only hostPath is the sessions directory,
//! mounted writable only because the policy's recorded shape says so (the
//! recorder's `index` and `cat` write nothing).

use k8s_openapi::api::core::v1::{Container, Pod, SecurityContext};

use crate::common::{
    holder_pod_spec, linux_holder_command, pod_metadata, unprivileged_security_context,
};
use crate::recording::{NodeFile, equip};
use crate::{PodCommon, RECORDER_PATH, Recording, pod_name};

/// Pod-name prefix of reader pods.
pub const SESSIONS_POD_PREFIX: &str = "toolbox-sessions";
/// `toolbox.dev/subcommand` of reader pods.
pub const SESSIONS_SUBCOMMAND: &str = "sessions";
/// The reader pod's one container.
pub const READER_CONTAINER: &str = "reader";

/// The reader pod of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct ReaderRequest {
    /// The pod's common parts: `image` must have `sleep` (the holder), as
    /// node-shell's image does.
    pub common: PodCommon,
    /// Where the recorder comes from, as in a session's pod.
    pub recording: Recording,
}

/// Builds the reader pod: a holder that sleeps for the pod's lifetime, with
/// the recorder and the node's sessions directory.
pub fn reader_pod(req: &ReaderRequest) -> Pod {
    let common = &req.common;
    let container = Container {
        name: READER_CONTAINER.to_owned(),
        image: Some(common.image.clone()),
        image_pull_policy: common.image_pull_policy.clone(),
        resources: common.resources.clone(),
        command: Some(linux_holder_command(common.ttl_seconds)),
        // Reading root's 0600 files takes being root, and nothing more.
        security_context: Some(SecurityContext {
            privileged: Some(false),
            ..unprivileged_security_context()
        }),
        ..Container::default()
    };
    let spec = holder_pod_spec(common, container);
    let name = pod_name(SESSIONS_POD_PREFIX, &common.node_name, &common.name_suffix);
    let mut pod = Pod {
        metadata: pod_metadata(common, name, SESSIONS_SUBCOMMAND),
        spec: Some(spec),
        status: None,
    };
    equip(&mut pod, &req.recording, NodeFile::Written);
    pod
}

/// The reader's exec that lists the node's recordings, one JSON line each.
pub fn reader_index_command() -> Vec<String> {
    vec![RECORDER_PATH.to_owned(), "index".to_owned()]
}

/// The reader's exec that prints one recording's bytes.
pub fn reader_cat_command(id: &str) -> Vec<String> {
    vec![RECORDER_PATH.to_owned(), "cat".to_owned(), id.to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::sample_common;

    #[test]
    fn the_reader_reaches_nothing_of_the_node_but_its_sessions_directory() {
        let pod = reader_pod(&ReaderRequest {
            common: sample_common(),
            recording: Recording {
                recorder_image: "r:v1".into(),
            },
        });
        let spec = pod.spec.unwrap();
        assert_eq!(spec.host_pid, None);
        assert_eq!(spec.host_network, None);
        assert_eq!(spec.host_ipc, None);
        let host_paths: Vec<String> = spec
            .volumes
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| Some(v.host_path?.path))
            .collect();
        assert_eq!(host_paths, ["/var/log/toolbox/sessions"]);
        let main = &spec.containers[0];
        assert_eq!(
            main.security_context.as_ref().unwrap().privileged,
            Some(false)
        );
        assert_eq!(main.command.as_deref().unwrap()[0], "sleep");
        assert_eq!(reader_cat_command("n.1"), [RECORDER_PATH, "cat", "n.1"]);
    }
}
