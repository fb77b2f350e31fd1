//! A stream-less run's pod: a node pod whose container runs the command
//! itself, through the recorder's `run`, instead of holding the pod open for
//! an exec. The kubelet then reports the command's exit code and output in
//! the container's terminated state (its termination message), which the
//! run's one watch brings back: one write per node and no stream
//! (docs/fan-out.md).
//!
//! The pod is the one the session would exec into, so that every other
//! part of it (privilege, namespaces, lifetime, audit, recording) is what
//! the same command would get streamed. Only its container's command
//! changes, and the recorder is brought in when the pod does not carry it
//! yet (an unrecorded pod of another image).

use k8s_openapi::api::core::v1::Pod;

use crate::recording::{RECORDER_PATH, carry_recorder};

/// The annotation naming where a pod's output goes: [`OUTPUT_IN_MESSAGE`]
/// on a stream-less run's pods.
pub const OUTPUT_ANNOTATION: &str = "toolbox.dev/output";
/// [`OUTPUT_ANNOTATION`]'s value on a stream-less run's pods.
pub const OUTPUT_IN_MESSAGE: &str = "termination-message";

/// The recorder's subcommand that runs a command as the container's process.
pub const RUN_SUBCOMMAND: &str = "run";

/// How a stream-less pod's command is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamlessRun {
    /// The session id: the recording's, or an id for the recorder's command
    /// line when nothing is recorded.
    pub session_id: String,
    /// Whether `pod` records (it was equipped by its builder).
    pub recorded: bool,
    /// Where the recorder comes from when the pod's image lacks it.
    pub recorder_image: String,
}

/// `pod`, whose main container (the first) would have been exec'd into with
/// `command`, made to run `command` itself and report it in its
/// termination message.
pub fn streamless_pod(mut pod: Pod, command: &[String], run: &StreamlessRun) -> Pod {
    if !run.recorded {
        carry_recorder(&mut pod, &run.recorder_image);
    }
    pod.metadata
        .annotations
        .get_or_insert_default()
        .insert(OUTPUT_ANNOTATION.to_owned(), OUTPUT_IN_MESSAGE.to_owned());
    if let Some(main) = pod.spec.as_mut().and_then(|s| s.containers.first_mut()) {
        main.command = Some(streamless_command(command, run));
        main.args = None;
        // The kubelet's default; said, since the run depends on it.
        main.termination_message_policy = Some("File".to_owned());
    }
    pod
}

/// The container's command: the recorder's `run`, recorded or not.
fn streamless_command(command: &[String], run: &StreamlessRun) -> Vec<String> {
    let mut argv = vec![
        RECORDER_PATH.to_owned(),
        RUN_SUBCOMMAND.to_owned(),
        "--id".to_owned(),
        run.session_id.clone(),
    ];
    if !run.recorded {
        argv.push("--unrecorded".to_owned());
    }
    argv.push("--".to_owned());
    argv.extend(command.iter().cloned());
    argv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::sample_common;
    use crate::recording::Recording;
    use crate::{HostNamespaces, NodeOs, NodeShellRequest, node_shell_pod};

    fn request(recorded: bool) -> NodeShellRequest {
        let mut common = sample_common();
        common.recording = recorded.then(|| Recording {
            recorder_image: "toolbox/node-tools:1".into(),
        });
        NodeShellRequest {
            common,
            os: NodeOs::Linux,
            namespaces: HostNamespaces::default(),
            host_mount: false,
            target: None,
        }
    }

    fn command() -> Vec<String> {
        ["nsenter", "--target", "1", "-m", "--", "uptime"]
            .map(str::to_owned)
            .to_vec()
    }

    #[test]
    fn a_recorded_pod_runs_the_command_through_the_recorder_with_its_session() {
        let run = StreamlessRun {
            session_id: "node-1.20261208T000000Z-0000abcd".into(),
            recorded: true,
            recorder_image: "toolbox/node-tools:1".into(),
        };
        let pod = streamless_pod(node_shell_pod(&request(true)), &command(), &run);
        insta::assert_yaml_snapshot!(pod);
    }

    #[test]
    fn an_unrecorded_pod_of_another_image_brings_the_recorder_and_says_so() {
        let run = StreamlessRun {
            session_id: "node-1.20261208T000000Z-0000abcd".into(),
            recorded: false,
            recorder_image: "toolbox/node-tools:1".into(),
        };
        let pod = streamless_pod(node_shell_pod(&request(false)), &command(), &run);
        let spec = pod.spec.as_ref().unwrap();
        let main = &spec.containers[0];
        assert_eq!(
            main.command.as_ref().unwrap()[..6],
            [
                RECORDER_PATH,
                "run",
                "--id",
                "node-1.20261208T000000Z-0000abcd",
                "--unrecorded",
                "--"
            ]
        );
        assert_eq!(main.command.as_ref().unwrap()[6..], command()[..]);
        let installer = &spec.init_containers.as_ref().unwrap()[0];
        assert_eq!(installer.image.as_deref(), Some("toolbox/node-tools:1"));
        assert_eq!(
            pod.metadata.annotations.as_ref().unwrap()[OUTPUT_ANNOTATION],
            OUTPUT_IN_MESSAGE
        );
        // The lifetime stays the server's to enforce.
        assert!(spec.active_deadline_seconds.is_some());
    }
}
