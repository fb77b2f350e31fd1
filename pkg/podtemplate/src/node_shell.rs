//! The node-shell pod: a privileged holder pod in the host's namespaces; each session
//! is an `exec` that `nsenter`s PID 1's namespaces (or, on Windows, a HostProcess exec).

use k8s_openapi::api::core::v1::{
    Container, Pod, PodOS, PodSecurityContext, PodSpec, SecurityContext,
    WindowsSecurityContextOptions,
};

use crate::common::{
    best_login_shell, holder_pod_spec, host_root_mount, host_root_volume, linux_holder_command,
    pod_metadata,
};
use crate::pod_target::{PodTarget, enter_command, equip_for_target};
use crate::recording::{NodeFile, equip};
use crate::{NODE_SHELL_POD_PREFIX, NODE_SHELL_SUBCOMMAND, PodCommon, pod_name};

/// Name of the single container in a node-shell pod.
pub const NODE_SHELL_CONTAINER: &str = "shell";

/// Account HostProcess containers run as: the equivalent of root on the node.
const WINDOWS_SYSTEM_USER: &str = "NT AUTHORITY\\SYSTEM";

/// The operating system family of the target node, which decides the pod's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeOs {
    /// Any Linux node with a usable `/bin/sh` on the host.
    Linux,
    /// A Windows node: the pod becomes a HostProcess pod.
    Windows,
    /// Bottlerocket: the host has no shell of its own, so the default session goes
    /// through `apiclient exec admin` into the admin container.
    Bottlerocket,
}

impl NodeOs {
    /// Classifies a node from its `kubernetes.io/os` label and `status.nodeInfo.osImage`.
    ///
    /// The label wins because it is what the scheduler and kubelet trust; Bottlerocket
    /// is only recognisable from the OS image string.
    pub fn detect(os_label: Option<&str>, os_image: Option<&str>) -> NodeOs {
        if os_label.is_some_and(|os| os.eq_ignore_ascii_case("windows")) {
            return NodeOs::Windows;
        }
        if os_image.is_some_and(|image| image.to_ascii_lowercase().contains("bottlerocket")) {
            return NodeOs::Bottlerocket;
        }
        NodeOs::Linux
    }
}

/// Which host namespaces a session joins (`--no-mount`, `--no-uts`, ... turn them off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostNamespaces {
    /// Join the host's mount namespace (see the host's filesystem as `/`).
    pub mount: bool,
    /// Join the host's UTS namespace (the host's hostname).
    pub uts: bool,
    /// Join the host's IPC namespace; also sets `hostIPC`.
    pub ipc: bool,
    /// Join the host's network namespace; also sets `hostNetwork`.
    pub net: bool,
    /// Join the host's PID namespace; also sets `hostPID`. Without it, `nsenter
    /// --target 1` can only reach the pod's own PID 1, so the other namespaces are
    /// the container's rather than the host's.
    pub pid: bool,
}

impl Default for HostNamespaces {
    /// Everything on: a session looks exactly like a root login on the node.
    fn default() -> Self {
        HostNamespaces {
            mount: true,
            uts: true,
            ipc: true,
            net: true,
            pid: true,
        }
    }
}

impl HostNamespaces {
    /// `nsenter` flags in the order the sessions pass them.
    fn nsenter_flags(&self) -> Vec<&'static str> {
        [
            (self.mount, "--mount"),
            (self.uts, "--uts"),
            (self.ipc, "--ipc"),
            (self.net, "--net"),
            (self.pid, "--pid"),
        ]
        .into_iter()
        .filter_map(|(enabled, flag)| enabled.then_some(flag))
        .collect()
    }
}

/// Everything needed to build a node-shell pod and its session commands.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeShellRequest {
    /// Fields shared by all toolbox pods.
    pub common: PodCommon,
    /// The node's OS family, see [`NodeOs::detect`].
    pub os: NodeOs,
    /// Host namespaces to join (ignored on Windows, where HostProcess decides).
    pub namespaces: HostNamespaces,
    /// `-x`: mount the host's `/` at `/host` and run sessions in the container instead
    /// of `nsenter`ing the host (ignored on Windows, whose HostProcess containers
    /// already see the host's filesystem).
    pub host_mount: bool,
    /// `--pod`: sessions enter this container's namespaces instead of the
    /// host's (Linux only; `namespaces` and `host_mount` then do not apply
    /// to the sessions).
    pub target: Option<PodTarget>,
}

/// Builds the node-shell pod.
///
/// Its container only runs a holder that exits after `ttl_seconds`;
/// `activeDeadlineSeconds` is the server-side backstop should the holder not exit.
/// Sessions are execs built by [`node_shell_exec_command`], which is why the container
/// has neither stdin nor a TTY.
pub fn node_shell_pod(req: &NodeShellRequest) -> Pod {
    let common = &req.common;
    let name = pod_name(
        NODE_SHELL_POD_PREFIX,
        &common.node_name,
        &common.name_suffix,
    );
    let container = Container {
        name: NODE_SHELL_CONTAINER.to_owned(),
        image: Some(common.image.clone()),
        image_pull_policy: common.image_pull_policy.clone(),
        resources: common.resources.clone(),
        ..Container::default()
    };
    let spec = holder_pod_spec(common, container);
    let spec = match req.os {
        NodeOs::Linux | NodeOs::Bottlerocket => linux_host_access(spec, req),
        NodeOs::Windows => windows_host_process(spec, common.ttl_seconds),
    };
    let mut pod = Pod {
        metadata: pod_metadata(common, name, NODE_SHELL_SUBCOMMAND),
        spec: Some(spec),
        status: None,
    };
    // A Windows HostProcess pod cannot run the Linux recorder; the caller
    // says so before the session.
    if let (Some(recording), NodeOs::Linux | NodeOs::Bottlerocket) = (&common.recording, req.os) {
        // A pod that mounts the node's root anyway (`-x`: that volume's
        // wait is paid) or cannot see the node's init mounts the sessions
        // directory; the others reach it through the init.
        let node_file = if req.namespaces.pid && !req.host_mount {
            NodeFile::ThroughHostPid
        } else {
            NodeFile::Written
        };
        equip(&mut pod, recording, node_file);
    }
    if let Some(target) = &req.target {
        equip_for_target(&mut pod, target);
    }
    pod
}

/// Linux and Bottlerocket: a privileged container sharing the requested host
/// namespaces, which is what lets `nsenter` reach the host.
fn linux_host_access(mut spec: PodSpec, req: &NodeShellRequest) -> PodSpec {
    spec.host_pid = Some(req.namespaces.pid);
    spec.host_network = Some(req.namespaces.net);
    spec.host_ipc = Some(req.namespaces.ipc);
    if req.host_mount {
        spec.volumes = Some(vec![host_root_volume()]);
    }
    for container in &mut spec.containers {
        container.command = Some(linux_holder_command(req.common.ttl_seconds));
        container.security_context = Some(SecurityContext {
            privileged: Some(true),
            ..SecurityContext::default()
        });
        if req.host_mount {
            container.volume_mounts = Some(vec![host_root_mount()]);
        }
    }
    spec
}

/// Windows: a HostProcess pod. It runs directly on the host as SYSTEM, so there are no
/// namespaces to enter; HostProcess requires `hostNetwork`, and Windows has no host
/// PID or IPC namespace to share.
fn windows_host_process(mut spec: PodSpec, ttl_seconds: i64) -> PodSpec {
    spec.host_network = Some(true);
    // Lets admission (e.g. Pod Security) apply Windows rules instead of Linux ones.
    spec.os = Some(PodOS {
        name: "windows".to_owned(),
    });
    spec.security_context = Some(PodSecurityContext {
        windows_options: Some(WindowsSecurityContextOptions {
            host_process: Some(true),
            run_as_user_name: Some(WINDOWS_SYSTEM_USER.to_owned()),
            ..WindowsSecurityContextOptions::default()
        }),
        ..PodSecurityContext::default()
    });
    for container in &mut spec.containers {
        container.command = Some(windows_holder_command(ttl_seconds));
    }
    spec
}

fn windows_holder_command(ttl_seconds: i64) -> Vec<String> {
    [
        "powershell.exe",
        "-NoLogo",
        "-NoProfile",
        "-Command",
        &format!("Start-Sleep -Seconds {ttl_seconds}"),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The argv to exec in the shell container for the user's command (empty = interactive
/// login shell).
///
/// - Linux: `nsenter --target 1` with the enabled namespaces, in the order mount, uts,
///   ipc, net, pid, then the user's command or a login shell that prefers bash but
///   works with plain sh. With every namespace disabled there is nothing to enter and
///   the command runs as is.
/// - `host_mount` (`-x`): the command runs in the container, without `nsenter`; the
///   host's filesystem is under `/host`.
/// - Bottlerocket: like Linux, except that the interactive default is `apiclient exec
///   admin bash`, because the Bottlerocket host has no shell; that default needs the
///   host's mount namespace (where `apiclient` lives), otherwise the login shell is used.
/// - Windows: `powershell.exe -NoLogo` when interactive, otherwise
///   `cmd.exe /c ARG...`. Arguments stay separate so the runtime quotes each one, and
///   `cmd.exe` makes built-ins such as `dir` work alongside executables.
/// - `--pod` (a target, Linux): the recorder's `enter` into the container's
///   namespaces instead of `nsenter` into the host's.
pub fn node_shell_exec_command(req: &NodeShellRequest, user_command: &[String]) -> Vec<String> {
    if let (Some(target), NodeOs::Linux | NodeOs::Bottlerocket) = (&req.target, req.os) {
        return enter_command(target, &req.common.node_name, user_command);
    }
    match req.os {
        NodeOs::Windows => windows_exec_command(user_command),
        NodeOs::Linux => linux_exec_command(req, user_command.to_vec()),
        NodeOs::Bottlerocket => {
            let enters_host_mounts = !req.host_mount && req.namespaces.mount;
            if user_command.is_empty() && enters_host_mounts {
                let admin_shell = ["apiclient", "exec", "admin", "bash"].map(str::to_owned);
                enter_host(req, admin_shell.to_vec())
            } else {
                linux_exec_command(req, user_command.to_vec())
            }
        }
    }
}

fn linux_exec_command(req: &NodeShellRequest, user_command: Vec<String>) -> Vec<String> {
    let command = if user_command.is_empty() {
        best_login_shell()
    } else {
        user_command
    };
    enter_host(req, command)
}

/// Prefixes `command` with the `nsenter` that moves it into the host's namespaces.
fn enter_host(req: &NodeShellRequest, command: Vec<String>) -> Vec<String> {
    let flags = req.namespaces.nsenter_flags();
    if req.host_mount || flags.is_empty() {
        return command;
    }
    ["nsenter", "--target", "1"]
        .into_iter()
        .chain(flags)
        .chain(["--"])
        .map(str::to_owned)
        .chain(command)
        .collect()
}

fn windows_exec_command(user_command: &[String]) -> Vec<String> {
    if user_command.is_empty() {
        return vec!["powershell.exe".to_owned(), "-NoLogo".to_owned()];
    }
    ["cmd.exe", "/c"]
        .map(str::to_owned)
        .into_iter()
        .chain(user_command.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::LOGIN_SHELL_SNIPPET;
    use crate::common::tests::sample_common;

    fn request(os: NodeOs) -> NodeShellRequest {
        NodeShellRequest {
            common: sample_common(),
            os,
            namespaces: HostNamespaces::default(),
            host_mount: false,
            target: None,
        }
    }

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn login_shell() -> Vec<String> {
        vec!["sh".into(), "-c".into(), LOGIN_SHELL_SNIPPET.into()]
    }

    #[test]
    fn detect_prefers_the_os_label() {
        assert_eq!(
            NodeOs::detect(Some("windows"), Some("Bottlerocket OS 1.20")),
            NodeOs::Windows
        );
        assert_eq!(NodeOs::detect(Some("Windows"), None), NodeOs::Windows);
    }

    #[test]
    fn detect_finds_bottlerocket_in_the_os_image() {
        assert_eq!(
            NodeOs::detect(Some("linux"), Some("Bottlerocket OS 1.20.3 (aws-k8s-1.30)")),
            NodeOs::Bottlerocket
        );
        assert_eq!(
            NodeOs::detect(None, Some("bottlerocket")),
            NodeOs::Bottlerocket
        );
    }

    #[test]
    fn detect_defaults_to_linux() {
        assert_eq!(NodeOs::detect(None, None), NodeOs::Linux);
        assert_eq!(
            NodeOs::detect(Some("linux"), Some("Ubuntu 24.04.2 LTS")),
            NodeOs::Linux
        );
    }

    #[test]
    fn interactive_linux_session_enters_every_namespace() {
        let expected: Vec<String> = words("nsenter --target 1 --mount --uts --ipc --net --pid --")
            .into_iter()
            .chain(login_shell())
            .collect();
        assert_eq!(
            node_shell_exec_command(&request(NodeOs::Linux), &[]),
            expected
        );
    }

    #[test]
    fn user_command_replaces_the_login_shell() {
        assert_eq!(
            node_shell_exec_command(&request(NodeOs::Linux), &words("uptime -p")),
            words("nsenter --target 1 --mount --uts --ipc --net --pid -- uptime -p")
        );
    }

    #[test]
    fn every_namespace_combination_keeps_order_and_drops_disabled_flags() {
        let all = ["--mount", "--uts", "--ipc", "--net", "--pid"];
        for mask in 0u8..32 {
            let enabled = |bit: u8| mask & (1 << bit) != 0;
            let mut req = request(NodeOs::Linux);
            req.namespaces = HostNamespaces {
                mount: enabled(0),
                uts: enabled(1),
                ipc: enabled(2),
                net: enabled(3),
                pid: enabled(4),
            };
            let flags: Vec<&str> = (0..5)
                .filter(|bit| enabled(*bit))
                .map(|bit| all[usize::from(bit)])
                .collect();
            let expected: Vec<String> = if flags.is_empty() {
                words("uptime")
            } else {
                ["nsenter", "--target", "1"]
                    .into_iter()
                    .chain(flags)
                    .chain(["--", "uptime"])
                    .map(str::to_owned)
                    .collect()
            };
            assert_eq!(
                node_shell_exec_command(&req, &words("uptime")),
                expected,
                "namespaces {:?}",
                req.namespaces
            );
        }
    }

    #[test]
    fn no_namespaces_at_all_runs_the_login_shell_directly() {
        let mut req = request(NodeOs::Linux);
        req.namespaces = HostNamespaces {
            mount: false,
            uts: false,
            ipc: false,
            net: false,
            pid: false,
        };
        assert_eq!(node_shell_exec_command(&req, &[]), login_shell());
    }

    #[test]
    fn host_mount_skips_nsenter() {
        let mut req = request(NodeOs::Linux);
        req.host_mount = true;
        assert_eq!(node_shell_exec_command(&req, &[]), login_shell());
        assert_eq!(
            node_shell_exec_command(&req, &words("ls /host")),
            words("ls /host")
        );
    }

    #[test]
    fn bottlerocket_defaults_to_the_admin_container() {
        assert_eq!(
            node_shell_exec_command(&request(NodeOs::Bottlerocket), &[]),
            words(
                "nsenter --target 1 --mount --uts --ipc --net --pid -- apiclient exec admin bash"
            )
        );
    }

    #[test]
    fn bottlerocket_runs_user_commands_like_linux() {
        assert_eq!(
            node_shell_exec_command(&request(NodeOs::Bottlerocket), &words("uptime")),
            words("nsenter --target 1 --mount --uts --ipc --net --pid -- uptime")
        );
    }

    #[test]
    fn bottlerocket_without_host_mounts_falls_back_to_the_login_shell() {
        let mut req = request(NodeOs::Bottlerocket);
        req.host_mount = true;
        assert_eq!(node_shell_exec_command(&req, &[]), login_shell());

        let mut req = request(NodeOs::Bottlerocket);
        req.namespaces.mount = false;
        let expected: Vec<String> = words("nsenter --target 1 --uts --ipc --net --pid --")
            .into_iter()
            .chain(login_shell())
            .collect();
        assert_eq!(node_shell_exec_command(&req, &[]), expected);
    }

    #[test]
    fn windows_sessions_use_powershell_or_cmd() {
        let req = request(NodeOs::Windows);
        assert_eq!(
            node_shell_exec_command(&req, &[]),
            words("powershell.exe -NoLogo")
        );
        assert_eq!(
            node_shell_exec_command(&req, &["ipconfig".into(), "/all".into()]),
            words("cmd.exe /c ipconfig /all")
        );
    }

    #[test]
    fn windows_ignores_namespace_flags_and_host_mount() {
        let mut req = request(NodeOs::Windows);
        req.host_mount = true;
        req.namespaces.net = false;
        assert_eq!(
            node_shell_exec_command(&req, &words("hostname")),
            words("cmd.exe /c hostname")
        );
        let spec = node_shell_pod(&req).spec.unwrap_or_default();
        assert_eq!(spec.host_network, Some(true));
        assert_eq!(spec.host_pid, None);
        assert_eq!(spec.volumes, None);
    }

    #[test]
    fn linux_pod_follows_the_namespace_flags() {
        let mut req = request(NodeOs::Linux);
        req.namespaces.pid = false;
        req.namespaces.ipc = false;
        let spec = node_shell_pod(&req).spec.unwrap_or_default();
        assert_eq!(spec.host_pid, Some(false));
        assert_eq!(spec.host_ipc, Some(false));
        assert_eq!(spec.host_network, Some(true));
    }

    #[test]
    fn holder_exits_after_the_ttl() {
        let spec = node_shell_pod(&request(NodeOs::Linux))
            .spec
            .unwrap_or_default();
        assert_eq!(spec.containers[0].command, Some(words("sleep 3600")));
        assert_eq!(spec.active_deadline_seconds, Some(3600));
    }
}
