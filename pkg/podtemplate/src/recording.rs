//! What makes a pod record its sessions: the recorder binary in the main
//! container, the node's sessions directory, the pod's identity for the
//! recording's header, and the exec that runs a command through the
//! recorder.
//!
//! The recorder is `toolbox-recorder` (cmd/recorder). It runs on the node,
//! between the exec and the command, so a modified or killed client cannot
//! skip or trim what it writes:
//! - to the holder's stdout, which is the container's log, shipped off the
//!   node by the cluster's log pipeline while the session runs;
//! - to `/var/log/toolbox/sessions/ID.cast` on the node, kept after the pod.
//!
//! The binary comes from the pod's own image when that image is the
//! recorder image, and otherwise from an init container of the recorder
//! image that copies it into an emptyDir: a static binary runs in any Linux
//! image, and the common case (toolbox's own image) costs no extra container
//! start.

use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, HostPathVolumeSource, ObjectFieldSelector, Pod, PodSpec,
    SecurityContext, Volume, VolumeMount,
};

use crate::REQUESTED_BY_ANNOTATION;
use crate::common::unprivileged_security_context;

/// Where the recorder is inside a recorded pod's main container.
pub const RECORDER_PATH: &str = "/toolbox/bin/toolbox-recorder";
/// The directory of [`RECORDER_PATH`]; the emptyDir's mount when an init
/// container brings the binary.
const RECORDER_DIR: &str = "/toolbox/bin";
/// Where the init container sees the emptyDir it installs into.
const RECORDER_INSTALL_DIR: &str = "/toolbox/install";
/// Name of the init container that installs the recorder, and of the emptyDir.
pub const RECORDER_CONTAINER: &str = "toolbox-recorder";
/// Name of the emptyDir volume that carries the recorder.
pub const RECORDER_VOLUME: &str = "toolbox-recorder";
/// Name of the hostPath volume of the node's sessions directory.
pub const SESSIONS_VOLUME: &str = "toolbox-sessions";
/// The node's sessions directory.
pub const SESSIONS_HOST_PATH: &str = "/var/log/toolbox/sessions";
/// Where the container sees [`SESSIONS_HOST_PATH`]; the recorder's file sink.
pub const SESSIONS_MOUNT_PATH: &str = "/toolbox/sessions";
/// Label `"true"` on a pod whose sessions are recorded.
pub const RECORDED_LABEL: &str = "toolbox.dev/recorded";

/// The non-root user the init container runs as: it only copies a file
/// into an emptyDir, which is world-writable.
const INSTALLER_UID: i64 = 65534;

/// How a pod records its sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The image that carries the recorder at [`RECORDER_PATH`].
    pub recorder_image: String,
}

/// Where a recorded pod writes the node's copy of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeFile {
    /// The sessions directory is mounted from the node.
    Written,
    /// The recorder reaches the node's directory itself, through the root of
    /// the node's init (`/proc/1/root`): a privileged pod in the host's PID
    /// namespace, node-shell's. It mounts nothing: any volume holds a pod's
    /// start back by the kubelet's volume manager, which looks again every
    /// 300 ms, and node-shell's pod has none otherwise.
    ThroughHostPid,
    /// The pod stays within a PodSecurity level that refuses hostPath
    /// (debug-node's baseline and restricted profiles): the recording goes
    /// to the container log only, and the recorder says so.
    LeftOut,
}

/// Makes `pod` record: the recorder in its main container (the first), the
/// sessions directory, and the downward-API identity.
pub(crate) fn equip(pod: &mut Pod, recording: &Recording, node_file: NodeFile) {
    pod.metadata
        .labels
        .get_or_insert_default()
        .insert(RECORDED_LABEL.to_owned(), "true".to_owned());
    carry_recorder(pod, &recording.recorder_image);
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    let mut mounts = Vec::new();
    if node_file == NodeFile::Written {
        spec.volumes.get_or_insert_default().push(Volume {
            name: SESSIONS_VOLUME.to_owned(),
            host_path: Some(HostPathVolumeSource {
                path: SESSIONS_HOST_PATH.to_owned(),
                type_: Some("DirectoryOrCreate".to_owned()),
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: SESSIONS_VOLUME.to_owned(),
            mount_path: SESSIONS_MOUNT_PATH.to_owned(),
            ..VolumeMount::default()
        });
    }
    if let Some(main) = spec.containers.first_mut() {
        if !mounts.is_empty() {
            main.volume_mounts.get_or_insert_default().extend(mounts);
        }
        main.env.get_or_insert_default().extend(identity_env());
    }
}

/// Puts the recorder at [`RECORDER_PATH`] in `pod`'s main container: it is
/// there already when that container's image is `recorder_image`;
/// otherwise an init container of that image copies it into an emptyDir.
pub(crate) fn carry_recorder(pod: &mut Pod, recorder_image: &str) {
    let Some(spec) = pod.spec.as_mut() else {
        return;
    };
    let carried = spec
        .containers
        .first()
        .is_some_and(|main| main.image.as_deref() == Some(recorder_image));
    let installed = spec
        .init_containers
        .iter()
        .flatten()
        .any(|c| c.name == RECORDER_CONTAINER);
    if carried || installed {
        return;
    }
    install_from_recorder_image(spec, recorder_image);
    if let Some(main) = spec.containers.first_mut() {
        main.volume_mounts
            .get_or_insert_default()
            .push(VolumeMount {
                name: RECORDER_VOLUME.to_owned(),
                mount_path: RECORDER_DIR.to_owned(),
                read_only: Some(true),
                ..VolumeMount::default()
            });
    }
}

/// The emptyDir and the init container that copies the recorder into it.
/// It pulls the recorder image if it is not there (`Never` where the main
/// container pulls nothing, as on a node without a registry); the session's
/// `--image-pull-policy Always` is for the session's image, not for a
/// release-tagged recorder. It takes the main container's resources (a
/// namespace's quota counts every container).
fn install_from_recorder_image(spec: &mut PodSpec, recorder_image: &str) {
    let main = spec.containers.first();
    let pull_policy = Some(
        match main.and_then(|main| main.image_pull_policy.as_deref()) {
            Some("Never") => "Never",
            _ => "IfNotPresent",
        }
        .to_owned(),
    );
    let resources = main.and_then(|main| main.resources.clone());
    spec.volumes.get_or_insert_default().push(Volume {
        name: RECORDER_VOLUME.to_owned(),
        empty_dir: Some(Default::default()),
        ..Volume::default()
    });
    let installer = Container {
        name: RECORDER_CONTAINER.to_owned(),
        image: Some(recorder_image.to_owned()),
        image_pull_policy: pull_policy,
        resources,
        command: Some(
            [
                RECORDER_PATH,
                "install",
                &format!("{RECORDER_INSTALL_DIR}/toolbox-recorder"),
            ]
            .map(str::to_owned)
            .to_vec(),
        ),
        volume_mounts: Some(vec![VolumeMount {
            name: RECORDER_VOLUME.to_owned(),
            mount_path: RECORDER_INSTALL_DIR.to_owned(),
            ..VolumeMount::default()
        }]),
        // Restricted in every way PodSecurity measures, so that the
        // installer never raises the level a pod needs.
        security_context: Some(SecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(INSTALLER_UID),
            ..unprivileged_security_context()
        }),
        ..Container::default()
    };
    spec.init_containers.get_or_insert_default().push(installer);
}

/// The recording header's who and where, from the pod as the API server
/// stored it: the requester is the annotation an admission policy sets,
/// not anything the client says.
fn identity_env() -> Vec<EnvVar> {
    [
        ("TOOLBOX_SESSION_POD", "metadata.name".to_owned()),
        ("TOOLBOX_SESSION_NAMESPACE", "metadata.namespace".to_owned()),
        ("TOOLBOX_SESSION_NODE", "spec.nodeName".to_owned()),
        (
            "TOOLBOX_SESSION_USER",
            format!("metadata.annotations['{REQUESTED_BY_ANNOTATION}']"),
        ),
    ]
    .into_iter()
    .map(|(name, field_path)| EnvVar {
        name: name.to_owned(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                api_version: None,
                field_path,
            }),
            ..EnvVarSource::default()
        }),
    })
    .collect()
}

/// `command` run through the recorder as session `session_id`; with
/// `record_input`, what is typed is recorded too.
pub fn recorded_exec_command(
    session_id: &str,
    record_input: bool,
    command: Vec<String>,
) -> Vec<String> {
    let mut argv = vec![
        RECORDER_PATH.to_owned(),
        "record".to_owned(),
        "--id".to_owned(),
        session_id.to_owned(),
    ];
    if record_input {
        argv.push("--input".to_owned());
    }
    argv.push("--".to_owned());
    argv.extend(command);
    argv
}

/// A session's id, `NODE.YYYYMMDDTHHMMSSZ-HHHHHHHH`: the node it ran on
/// (everything before the last dot, so that the id says where its file
/// is), the UTC time it began, and 32 random bits. `time` is the start as
/// `YYYYMMDDTHHMMSSZ`; the caller reads the clock and draws the bits.
pub fn session_id(node: &str, time: &str, random: u32) -> String {
    format!("{node}.{time}-{random:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exec_goes_through_the_recorder_with_its_id() {
        let argv = recorded_exec_command("n1.20261203T101500Z-0000abcd", false, vec!["sh".into()]);
        assert_eq!(
            argv,
            [
                RECORDER_PATH,
                "record",
                "--id",
                "n1.20261203T101500Z-0000abcd",
                "--",
                "sh"
            ]
        );
        let with_input = recorded_exec_command("i", true, vec!["sh".into()]);
        assert_eq!(with_input[4], "--input");
    }

    #[test]
    fn a_session_id_names_its_node_before_the_last_dot() {
        let id = session_id("ip-10-0-0-1.ec2.internal", "20261203T101500Z", 0xabc);
        assert_eq!(id, "ip-10-0-0-1.ec2.internal.20261203T101500Z-00000abc");
        let (node, rest) = id.rsplit_once('.').unwrap();
        assert_eq!(node, "ip-10-0-0-1.ec2.internal");
        assert_eq!(rest, "20261203T101500Z-00000abc");
    }
}
