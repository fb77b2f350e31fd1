//! The pod of `toolbox dump` on one node, and the commands it runs there:
//! a privileged holder in the node's PID namespace, whose execs each read
//! one item of the bundle through the node's own namespaces and tools
//! (`nsenter --target 1`), stopped on the node at the size the client
//! can still take.
//!
//! The pod is not recorded: its execs are the spec's fixed reads, named in
//! its annotations ([`DUMP_ITEMS_ANNOTATION`]), and a recording would copy
//! what they read, secrets the bundle redacts included, into the
//! container's log and the node's sessions directory.

use k8s_openapi::api::core::v1::Pod;

use crate::PodCommon;
use crate::common::host_pid_holder_pod;

/// Pod-name prefix of dump pods.
pub const DUMP_POD_PREFIX: &str = "toolbox-dump";
/// `toolbox.dev/subcommand` of dump pods.
pub const DUMP_SUBCOMMAND: &str = "dump";
/// The dump pod's one container.
pub const DUMP_CONTAINER: &str = "dump";
/// Annotation: JSON array of what the pod reads on the node, one
/// `NAME: SOURCE` each, for the audit trail.
pub const DUMP_ITEMS_ANNOTATION: &str = "toolbox.dev/dump-items";
/// The prefix of the lines an item's command writes on stderr to tell the
/// client where it read ([`ItemNote`]).
pub const NOTE_PREFIX: &str = "toolbox-dump: ";

/// The dump pod of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct DumpRequest {
    /// The pod's common parts; `common.recording` is ignored (see the
    /// module's documentation). `image` must have busybox's `sh`, `head`,
    /// `cat` and `tr` and util-linux's `nsenter`, as toolbox's node-tools
    /// has (and `tail`, `wc` and `grep` when the pod reads a service's log
    /// for pkg/cluster's nodelogs wing).
    pub common: PodCommon,
    /// What the pod reads, `NAME: SOURCE` each, for its annotation.
    pub items: Vec<String>,
}

/// Builds the dump pod: in the node's PID namespace (its `/proc` shows the
/// node's processes, and `nsenter --target 1` reaches the node), privileged
/// (`dmesg`, the runtime's socket, root's files), and nothing else of the
/// node's: no host network, no volume.
pub fn dump_pod(req: &DumpRequest) -> Pod {
    let mut pod = host_pid_holder_pod(
        &req.common,
        DUMP_CONTAINER,
        DUMP_POD_PREFIX,
        DUMP_SUBCOMMAND,
    );
    let items = serde_json::Value::from(req.items.clone()).to_string();
    pod.metadata
        .annotations
        .get_or_insert_default()
        .insert(DUMP_ITEMS_ANNOTATION.to_owned(), items);
    pod
}

/// What one exec of a dump pod reads on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeRead {
    /// A file of the node's. With `from_flag`, the file a process's flag
    /// names when it runs with it (the kubelet's `--config`), else `path`.
    File {
        path: String,
        from_flag: Option<ProcessFlag>,
    },
    /// A command run in the node's namespaces with the node's own tools.
    Command { argv: Vec<String> },
    /// `ls -laR` of a node directory: names, sizes and times, no contents.
    Listing { path: String },
    /// The regular files under a node directory, one path a line (each is
    /// then read as a [`NodeRead::File`]).
    Files { path: String },
}

/// A process found by its name (`/proc/PID/comm`), and one of its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessFlag {
    pub process: String,
    /// With its dashes: `--config`.
    pub flag: String,
}

/// What an item's command tells the client on its stderr, after
/// [`NOTE_PREFIX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemNote {
    /// The file read, when it was chosen on the node (a flag's value).
    Path(String),
}

impl ItemNote {
    /// The note of one stderr line, if it is one.
    pub fn parse(line: &str) -> Option<ItemNote> {
        let rest = line.strip_prefix(NOTE_PREFIX)?;
        let (word, value) = rest.split_once(' ').unwrap_or((rest, ""));
        match word {
            "path" => Some(ItemNote::Path(value.to_owned())),
            _ => None,
        }
    }
}

/// Every PID 1 namespace: the node's own view, as a root login has it.
const NSENTER: &str = "nsenter --target 1 --mount --uts --ipc --net --pid --";

/// The start of every item's script. `capped CMD...` runs CMD with its
/// output cut at `$limit` bytes on the node (`head -c` exits, and CMD
/// ends on its next write), and returns CMD's status, which a plain pipe
/// would lose (dash has no pipefail). `$1` is the limit.
const PRELUDE: &str = r#"limit=$1; shift
capped() { exec 3>&1; s=$( { { "$@"; echo $? >&4; } | head -c "$limit" >&3; } 4>&1 ); return "${s:-1}"; }
"#;

/// The command of one [`NodeRead`], whose output the node stops after
/// `limit` bytes: the client asks for one more than it can take, so that
/// it can tell an item cut there from one exactly that long.
pub fn dump_item_command(read: &NodeRead, limit: u64) -> Vec<String> {
    let (body, args): (String, Vec<String>) = match read {
        NodeRead::Command { argv } => (format!("capped {NSENTER} \"$@\""), argv.clone()),
        NodeRead::File {
            path,
            from_flag: None,
        } => (
            format!("capped {NSENTER} cat -- \"$1\""),
            vec![path.clone()],
        ),
        NodeRead::File {
            path,
            from_flag: Some(ProcessFlag { process, flag }),
        } => (
            // The process's own mount namespace holds the path it was given.
            format!(
                r#"path=$1 pid=1
for d in /proc/[0-9]*; do
  [ "$(cat "$d/comm" 2>/dev/null)" = "$2" ] || continue
  next=
  for arg in $(tr '\0' ' ' < "$d/cmdline"); do
    if [ -n "$next" ]; then path=$arg; pid=${{d#/proc/}}; break; fi
    case $arg in "$3") next=1 ;; "$3"=*) path=${{arg#"$3"=}}; pid=${{d#/proc/}}; break ;; esac
  done
  break
done
echo "{NOTE_PREFIX}path $path" >&2
capped nsenter --target "$pid" --mount -- cat -- "$path""#
            ),
            vec![path.clone(), process.clone(), flag.clone()],
        ),
        NodeRead::Listing { path } => (
            format!("capped {NSENTER} ls -laR -- \"$1\""),
            vec![path.clone()],
        ),
        NodeRead::Files { path } => (
            format!("capped {NSENTER} find \"$1\" -type f"),
            vec![path.clone()],
        ),
    };
    let mut argv = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        format!("{PRELUDE}{body}"),
        "toolbox-dump".to_owned(),
        limit.to_string(),
    ];
    argv.extend(args);
    argv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::tests::sample_common;

    fn request() -> DumpRequest {
        DumpRequest {
            common: sample_common(),
            items: vec!["dmesg.txt: command dmesg".into()],
        }
    }

    #[test]
    fn the_dump_pod_is_privileged_in_the_nodes_pid_namespace_and_nothing_more() {
        let pod = dump_pod(&request());
        let spec = pod.spec.unwrap();
        assert_eq!(spec.host_pid, Some(true));
        assert_eq!(spec.host_network, None);
        assert_eq!(spec.volumes, None);
        assert_eq!(spec.automount_service_account_token, Some(false));
        let container = &spec.containers[0];
        assert_eq!(
            container.security_context.as_ref().unwrap().privileged,
            Some(true)
        );
        assert_eq!(container.command.as_deref().unwrap(), ["sleep", "3600"]);
        let annotations = pod.metadata.annotations.unwrap();
        assert_eq!(
            annotations[DUMP_ITEMS_ANNOTATION],
            r#"["dmesg.txt: command dmesg"]"#
        );
        assert!(
            pod.metadata
                .name
                .unwrap()
                .starts_with("toolbox-dump-ip-10-0-1-23")
        );
    }

    #[test]
    fn an_items_command_passes_its_values_as_arguments_never_in_the_script() {
        let argv = dump_item_command(
            &NodeRead::File {
                path: "/etc/it's here".into(),
                from_flag: None,
            },
            1025,
        );
        assert_eq!(argv[0..2], ["sh", "-c"]);
        assert!(!argv[2].contains("it's"));
        assert_eq!(argv[3..], ["toolbox-dump", "1025", "/etc/it's here"]);
        let argv = dump_item_command(
            &NodeRead::Command {
                argv: vec!["crictl".into(), "ps".into(), "-a".into()],
            },
            10,
        );
        assert_eq!(argv[4..], ["10", "crictl", "ps", "-a"]);
    }

    #[test]
    fn notes_on_stderr_say_where_the_item_was_read() {
        assert_eq!(
            ItemNote::parse("toolbox-dump: path /etc/kubelet.yaml"),
            Some(ItemNote::Path("/etc/kubelet.yaml".into()))
        );
        assert_eq!(ItemNote::parse("cat: /x: No such file"), None);
    }
}
