//! node-shell `--pod`: a session on a pod's node, in that pod's container's
//! namespaces. The node-shell pod is the same (privileged, in the host's PID
//! namespace); it also carries the recorder, whose `enter` finds the
//! container's process by its cgroup and enters the namespaces asked for
//! (cmd/recorder/src/enter.rs), and it names the target pod for the audit
//! trail.

use k8s_openapi::api::core::v1::Pod;

use crate::common::best_login_shell;
use crate::recording::{RECORDER_PATH, carry_recorder};

/// Annotation on a `--pod` session's pod: `NAMESPACE/POD/CONTAINER`.
pub const TARGET_POD_ANNOTATION: &str = "toolbox.dev/target-pod";

/// Which of the container's namespaces a session enters; the others stay
/// the node's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodNamespaces {
    pub net: bool,
    pub pid: bool,
    pub mnt: bool,
    pub ipc: bool,
    pub uts: bool,
}

impl PodNamespaces {
    /// The network namespace only: the pod's interfaces with the node's
    /// tools and files.
    pub const NET: PodNamespaces = PodNamespaces {
        net: true,
        pid: false,
        mnt: false,
        ipc: false,
        uts: false,
    };

    const NONE: PodNamespaces = PodNamespaces {
        net: false,
        pid: false,
        mnt: false,
        ipc: false,
        uts: false,
    };

    pub const ALL: PodNamespaces = PodNamespaces {
        net: true,
        pid: true,
        mnt: true,
        ipc: true,
        uts: true,
    };

    /// `--enter`'s value: `all`, or names from net, pid, mnt, ipc, uts
    /// separated by commas.
    pub fn parse(text: &str) -> Result<PodNamespaces, String> {
        if text == "all" {
            return Ok(PodNamespaces::ALL);
        }
        let mut chosen = PodNamespaces::NONE;
        for word in text.split(',') {
            let slot = match word.trim() {
                "net" => &mut chosen.net,
                "pid" => &mut chosen.pid,
                "mnt" => &mut chosen.mnt,
                "ipc" => &mut chosen.ipc,
                "uts" => &mut chosen.uts,
                other => {
                    return Err(format!(
                        "unknown namespace {other:?}: choose from net, pid, mnt, ipc, uts, or all"
                    ));
                }
            };
            *slot = true;
        }
        Ok(chosen)
    }

    /// The recorder's `--enter` value, in one order.
    pub fn list(&self) -> String {
        [
            (self.net, "net"),
            (self.pid, "pid"),
            (self.mnt, "mnt"),
            (self.ipc, "ipc"),
            (self.uts, "uts"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// The container a session enters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTarget {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    /// The runtime's ID from the pod's status, without its `containerd://`.
    pub container_id: String,
    pub enter: PodNamespaces,
    /// The image the recorder comes from when the pod's image lacks it.
    pub recorder_image: String,
}

impl PodTarget {
    /// `NAMESPACE/POD/CONTAINER`, as the annotation says it.
    pub fn reference(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.pod, self.container)
    }
}

/// Makes a node-shell pod able to enter `target`: the recorder, and the
/// annotation naming the target.
pub(crate) fn equip_for_target(pod: &mut Pod, target: &PodTarget) {
    carry_recorder(pod, &target.recorder_image);
    pod.metadata
        .annotations
        .get_or_insert_default()
        .insert(TARGET_POD_ANNOTATION.to_owned(), target.reference());
}

/// The exec of `command` (a login shell when empty) in `target`'s
/// namespaces on node `node`.
pub(crate) fn enter_command(target: &PodTarget, node: &str, command: &[String]) -> Vec<String> {
    let label = format!(
        "pod {}/{}, container {}, on node {node}",
        target.namespace, target.pod, target.container
    );
    let command = if command.is_empty() {
        best_login_shell()
    } else {
        command.to_vec()
    };
    [
        RECORDER_PATH,
        "enter",
        "--container-id",
        &target.container_id,
        "--enter",
        &target.enter.list(),
        "--label",
        &label,
        "--",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(command)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_takes_names_or_all() {
        assert_eq!(PodNamespaces::parse("net").unwrap(), PodNamespaces::NET);
        assert_eq!(PodNamespaces::parse("all").unwrap(), PodNamespaces::ALL);
        let chosen = PodNamespaces::parse("pid,net,mnt").unwrap();
        assert_eq!(chosen.list(), "net,pid,mnt");
        assert!(
            PodNamespaces::parse("net,user")
                .unwrap_err()
                .contains("unknown namespace \"user\"")
        );
    }
}
