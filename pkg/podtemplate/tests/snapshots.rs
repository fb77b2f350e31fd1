//! YAML snapshots of every pod shape toolbox creates. Review changes to the `.snap`
//! files as carefully as a change to a live cluster's RBAC: they are the pods.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use toolbox_podtemplate::{
    Audit, CopyDirection, CopyRequest, DebugNodeRequest, DumpRequest, HostNamespaces,
    NodeLogsRequest, NodeOs, NodeShellRequest, PodCommon, PodNamespaces, PodTarget, Profile,
    ReaderRequest, Recording, copy_pod, debug_node_pod, dump_pod, node_logs_pod,
    node_shell_exec_command, node_shell_pod, parse_custom_container, reader_pod,
};

fn common(subcommand: &str, command: &[&str]) -> PodCommon {
    PodCommon {
        name_suffix: "x7k2p".to_owned(),
        namespace: "toolbox".to_owned(),
        node_name: "ip-10-0-1-23.ec2.internal".to_owned(),
        image: "docker.io/library/alpine:3.22".to_owned(),
        image_pull_policy: None,
        image_pull_secrets: Vec::new(),
        extra_labels: BTreeMap::new(),
        extra_annotations: BTreeMap::new(),
        resources: None,
        priority_class: None,
        ttl_seconds: 3600,
        ttl_is_default: false,
        recording: None,
        audit: Audit {
            user: "alice@example.com".to_owned(),
            client_host: "laptop-42".to_owned(),
            subcommand: subcommand.to_owned(),
            command: command.iter().map(|word| (*word).to_owned()).collect(),
            reason: None,
            expires_at: "2026-05-01T13:00:00Z".to_owned(),
        },
    }
}

fn shell_request() -> NodeShellRequest {
    NodeShellRequest {
        common: common("node-shell", &[]),
        os: NodeOs::Linux,
        namespaces: HostNamespaces::default(),
        host_mount: false,
        target: None,
    }
}

fn debug_request(profile: Profile) -> DebugNodeRequest {
    DebugNodeRequest {
        common: common("debug-node", &["--profile", profile.name()]),
        profile,
        container_name: "debugger".to_owned(),
        env: Vec::new(),
        custom: None,
    }
}

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(name, amount)| ((*name).to_owned(), Quantity((*amount).to_owned())))
        .collect()
}

/// Every optional knob of [`PodCommon`] turned on.
fn decorate(common: &mut PodCommon) {
    common.image_pull_policy = Some("IfNotPresent".to_owned());
    common.image_pull_secrets = vec!["registry-a".to_owned(), "registry-b".to_owned()];
    common.resources = Some(ResourceRequirements {
        requests: Some(quantities(&[("cpu", "100m"), ("memory", "64Mi")])),
        limits: Some(quantities(&[("memory", "256Mi")])),
        claims: None,
    });
    common.priority_class = Some("system-node-critical".to_owned());
    common.extra_labels = BTreeMap::from([
        ("team".to_owned(), "sre".to_owned()),
        // Must lose against toolbox's own label.
        (
            "app.kubernetes.io/managed-by".to_owned(),
            "someone-else".to_owned(),
        ),
    ]);
    common.extra_annotations = BTreeMap::from([
        ("ticket".to_owned(), "INC-1234".to_owned()),
        // Must lose against toolbox's own annotation.
        ("toolbox.dev/requested-by".to_owned(), "mallory".to_owned()),
    ]);
    common.audit.reason = Some("kubelet is crash-looping".to_owned());
    common.ttl_is_default = true;
}

#[test]
fn node_shell_default() {
    insta::assert_yaml_snapshot!(node_shell_pod(&shell_request()));
}

#[test]
fn node_shell_with_command() {
    let mut req = shell_request();
    req.common.audit.command = vec!["--".to_owned(), "uptime".to_owned()];
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

/// `--pod`: node-shell's pod carrying the recorder (an init container, as
/// the image is not the recorder's) and naming the target; its exec is the
/// recorder's `enter`.
#[test]
fn node_shell_into_a_pod() {
    let mut req = shell_request();
    req.target = Some(PodTarget {
        namespace: "shop".to_owned(),
        pod: "web-1".to_owned(),
        container: "app".to_owned(),
        container_id: "0123456789abcdef".repeat(4),
        enter: PodNamespaces::parse("net,pid").unwrap(),
        recorder_image: "ghcr.io/toolbox-dev/recorder:v0.1.0".to_owned(),
    });
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
    insta::assert_yaml_snapshot!(node_shell_exec_command(
        &req,
        &["ss".to_owned(), "-tanp".to_owned()]
    ));
}

/// `--no-mount` and `--no-uts` only change the exec command, not the pod.
#[test]
fn node_shell_no_mount_no_uts_pod_is_unchanged() {
    let mut req = shell_request();
    req.namespaces.mount = false;
    req.namespaces.uts = false;
    assert_eq!(node_shell_pod(&req), node_shell_pod(&shell_request()));
}

#[test]
fn node_shell_no_ipc() {
    let mut req = shell_request();
    req.namespaces.ipc = false;
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_no_net() {
    let mut req = shell_request();
    req.namespaces.net = false;
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_no_pid() {
    let mut req = shell_request();
    req.namespaces.pid = false;
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_no_namespaces() {
    let mut req = shell_request();
    req.namespaces = HostNamespaces {
        mount: false,
        uts: false,
        ipc: false,
        net: false,
        pid: false,
    };
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_host_mount() {
    let mut req = shell_request();
    req.host_mount = true;
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_windows() {
    let mut req = shell_request();
    req.os = NodeOs::Windows;
    req.common.node_name = "akswin000001".to_owned();
    req.common.image =
        "mcr.microsoft.com/oss/kubernetes/windows-host-process-containers-base-image:v1.0.0"
            .to_owned();
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_bottlerocket() {
    let mut req = shell_request();
    req.os = NodeOs::Bottlerocket;
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_decorated() {
    let mut req = shell_request();
    req.common.audit.command = vec![
        "--".to_owned(),
        "journalctl".to_owned(),
        "-u".to_owned(),
        "kubelet".to_owned(),
    ];
    decorate(&mut req.common);
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_long_node_name() {
    let mut req = shell_request();
    let label = "a".repeat(62);
    req.common.node_name = format!("{label}.{label}.{label}.{label}.x");
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn debug_node_every_profile() {
    for profile in Profile::ALL {
        let pod = debug_node_pod(&debug_request(profile)).expect("pod");
        insta::assert_yaml_snapshot!(format!("debug_node_{profile}"), pod);
    }
}

#[test]
fn debug_node_env() {
    let mut req = debug_request(Profile::General);
    req.env = vec![
        ("HTTPS_PROXY".to_owned(), "http://proxy:3128".to_owned()),
        ("EMPTY".to_owned(), String::new()),
    ];
    insta::assert_yaml_snapshot!(debug_node_pod(&req).expect("pod"));
}

#[test]
fn debug_node_decorated() {
    let mut req = debug_request(Profile::Sysadmin);
    req.container_name = "inspector".to_owned();
    decorate(&mut req.common);
    insta::assert_yaml_snapshot!(debug_node_pod(&req).expect("pod"));
}

fn custom(text: &str) -> Container {
    match parse_custom_container(text) {
        Ok(container) => container,
        Err(error) => panic!("fixture must parse: {error}"),
    }
}

/// A typical `--custom` for the general profile: a read-only host mount (without a
/// volume name, which must keep `host-root`), an extra env var merged with `--env`,
/// more capabilities, resources and a working directory.
#[test]
fn debug_node_custom_general() {
    let mut req = debug_request(Profile::General);
    req.env = vec![
        ("A".to_owned(), "1".to_owned()),
        ("B".to_owned(), "2".to_owned()),
    ];
    req.custom = Some(custom(
        r#"
env:
- name: B
  value: from-custom
- name: C
  value: "3"
volumeMounts:
- mountPath: /host
  readOnly: true
securityContext:
  runAsUser: 0
  capabilities:
    add: [SYS_PTRACE, SYS_ADMIN]
resources:
  limits:
    cpu: 1
workingDir: /host/var/log
"#,
    ));
    insta::assert_yaml_snapshot!(debug_node_pod(&req).expect("pod"));
}

/// `--custom` on top of netadmin: capability lists are replaced, not appended, while
/// other securityContext fields are merged.
#[test]
fn debug_node_custom_netadmin() {
    let mut req = debug_request(Profile::Netadmin);
    req.custom = Some(custom(
        r#"{"securityContext": {"capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}, "readOnlyRootFilesystem": true}}"#,
    ));
    insta::assert_yaml_snapshot!(debug_node_pod(&req).expect("pod"));
}

/// `--custom` on top of restricted: a user id satisfies runAsNonRoot for root images.
#[test]
fn debug_node_custom_restricted() {
    let mut req = debug_request(Profile::Restricted);
    req.custom = Some(custom(
        "securityContext:\n  runAsUser: 65534\n  runAsGroup: 65534\n",
    ));
    insta::assert_yaml_snapshot!(debug_node_pod(&req).expect("pod"));
}

/// The recorder image of the recorded pods below.
const RECORDER_IMAGE: &str = "ghcr.io/toolbox-dev/toolbox-recorder:v0.1.0";

fn recorded(mut common: PodCommon, image: &str) -> PodCommon {
    common.image = image.to_owned();
    common.recording = Some(Recording {
        recorder_image: RECORDER_IMAGE.to_owned(),
    });
    common
}

#[test]
fn node_shell_recorded_with_the_recorder_brought_by_an_init_container() {
    let mut req = shell_request();
    req.common = recorded(req.common, "docker.io/library/alpine:3.22");
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_recorded_in_the_recorder_image_needs_no_init_container() {
    let mut req = shell_request();
    req.common = recorded(req.common, RECORDER_IMAGE);
    insta::assert_yaml_snapshot!(node_shell_pod(&req));
}

#[test]
fn node_shell_on_windows_is_not_recorded() {
    let mut req = shell_request();
    req.os = NodeOs::Windows;
    let unrecorded = node_shell_pod(&req);
    let image = req.common.image.clone();
    req.common = recorded(req.common, &image);
    let mut pod = node_shell_pod(&req);
    pod.metadata.name = unrecorded.metadata.name.clone();
    assert_eq!(pod.spec, unrecorded.spec);
    assert_eq!(pod.metadata.labels, unrecorded.metadata.labels);
}

#[test]
fn debug_node_recorded_general_and_baseline() {
    for profile in [Profile::General, Profile::Baseline] {
        let mut req = debug_request(profile);
        req.common = recorded(req.common, "docker.io/library/busybox:1.37");
        insta::assert_yaml_snapshot!(
            format!("debug_node_recorded_{profile}"),
            debug_node_pod(&req).expect("pod")
        );
    }
}

/// `toolbox sessions`' reader pod, in node-shell's image (which has the
/// holder's sleep) with the recorder from the recorder image.
#[test]
fn sessions_reader() {
    let mut common = common("sessions", &["list", "ip-10-0-1-23.ec2.internal"]);
    common.ttl_seconds = 300;
    insta::assert_yaml_snapshot!(reader_pod(&ReaderRequest {
        common,
        recording: Recording {
            recorder_image: "ghcr.io/toolbox-dev/toolbox-recorder:v0.1.0".to_owned(),
        },
    }));
}

/// The reader when node-shell's image is the recorder image: no init container.
#[test]
fn sessions_reader_in_the_recorder_image() {
    let mut common = common(
        "sessions",
        &["get", "ip-10-0-1-23.ec2.internal.20261203T101500Z-4f1c9a2e"],
    );
    common.ttl_seconds = 300;
    common.image = "ghcr.io/toolbox-dev/node-tools:v0.1.0".to_owned();
    insta::assert_yaml_snapshot!(reader_pod(&ReaderRequest {
        common,
        recording: Recording {
            recorder_image: "ghcr.io/toolbox-dev/node-tools:v0.1.0".to_owned(),
        },
    }));
}

/// `toolbox cp NODE:/var/log/syslog .` in toolbox's own image, which
/// carries the recorder: privileged in the host's PID namespace, no volume.
#[test]
fn copy_from_the_node() {
    let mut common = common("cp", &["ip-10-0-1-23.ec2.internal:/var/log/syslog", "."]);
    common.image = "ghcr.io/toolbox-dev/node-tools:v0.1.0".to_owned();
    insta::assert_yaml_snapshot!(copy_pod(&CopyRequest {
        common,
        direction: CopyDirection::FromNode,
        node_paths: vec!["/var/log/syslog".to_owned()],
        recording: Recording {
            recorder_image: "ghcr.io/toolbox-dev/node-tools:v0.1.0".to_owned(),
        },
    }));
}

/// `toolbox cp ./fix.sh NODE:/tmp/fix.sh --image alpine`: the recorder comes
/// from the recorder image's init container.
#[test]
fn copy_to_the_node_in_another_image() {
    let common = common("cp", &["./fix.sh", "ip-10-0-1-23.ec2.internal:/tmp/fix.sh"]);
    insta::assert_yaml_snapshot!(copy_pod(&CopyRequest {
        common,
        direction: CopyDirection::ToNode,
        node_paths: vec!["/tmp/fix.sh".to_owned()],
        recording: Recording {
            recorder_image: "ghcr.io/toolbox-dev/toolbox-recorder:v0.1.0".to_owned(),
        },
    }));
}

#[test]
fn dump_pod_reads_the_node_privileged_in_its_pid_namespace() {
    let common = common("dump", &["--all", "-l", "pool=gpu", "--since", "1h"]);
    let req = DumpRequest {
        common,
        items: vec![
            "kubelet.log: service kubelet".to_owned(),
            "kubelet-config.yaml: file /var/lib/kubelet/config.yaml (or the kubelet's --config)"
                .to_owned(),
        ],
    };
    insta::assert_yaml_snapshot!(dump_pod(&req));
}

/// `toolbox logs`' fallback pod, recorded through the node's init as
/// node-shell's pod is.
#[test]
fn node_logs_fallback() {
    let mut common = common(
        "logs",
        &["ip-10-0-1-23.ec2.internal", "kubelet", "--since", "1h"],
    );
    common.recording = Some(Recording {
        recorder_image: "ghcr.io/toolbox-dev/toolbox-recorder:v0.1.0".to_owned(),
    });
    insta::assert_yaml_snapshot!(node_logs_pod(&NodeLogsRequest { common }));
}
