//! `toolbox node-shell [NODE] [-- COMMAND...]`: a root shell on a node.

use clap::Args;
use toolbox_cluster::TargetNode;

use toolbox_podtemplate::{HostNamespaces, NODE_SHELL_CONTAINER, NodeOs, PodNamespaces};

use crate::app::App;
use crate::contexts::ContextArgs;
use crate::exit::{AppError, ExitStatus, usage};
use crate::session::args::{SessionArgs, TargetArgs};
use crate::session::clusters;
use crate::session::fanout::{NodePod, RunInputs};
use crate::session::pod::{NodeShellOptions, PodOptions};
use crate::session::preflight::{NodeUse, connect_to_node};
use crate::session::single;
use crate::session::target_pod::{self, PodChoice};
use crate::values;

/// Open a root shell on a node, through a privileged pod in the host's PID,
/// network and IPC namespaces that enters PID 1's namespaces with nsenter.
///
/// The pod is deleted when the session ends, however it ends, and stops by
/// itself after --ttl even if toolbox is killed.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  toolbox node-shell node-1\n  toolbox node-shell node/node-1 -- journalctl -u kubelet -n 50\n  toolbox node-shell node-1 -x -- ls /host/etc\n  toolbox node-shell --all -l node-role.kubernetes.io/worker -- uname -r\n  toolbox node-shell 'node-[01-40]' --gather -- cat /etc/os-release"
)]
pub struct NodeShellArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub contexts: ContextArgs,

    /// The command to run instead of a login shell
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,

    /// The image; it needs nsenter and sleep [default: the image setting, toolbox's node-tools]
    #[arg(long, value_name = "IMAGE", value_parser = values::parse_image)]
    pub image: Option<String>,

    /// Do not enter the host's mount namespace
    #[arg(long)]
    pub no_mount: bool,

    /// Do not enter the host's UTS namespace (hostname)
    #[arg(long)]
    pub no_uts: bool,

    /// Do not enter the host's IPC namespace, and do not share it with the pod
    #[arg(long)]
    pub no_ipc: bool,

    /// Do not enter the host's network namespace, and do not share it with the pod
    #[arg(long)]
    pub no_net: bool,

    /// Do not enter the host's PID namespace, and do not share it with the pod
    #[arg(long)]
    pub no_pid: bool,

    /// Mount the host's / at /host and run the shell in the container, without nsenter
    #[arg(short = 'x', long)]
    pub host_mount: bool,

    /// Open the session on this pod's node, in its container's namespaces: NS/POD, or POD in the namespace of -n
    #[arg(long, value_name = "[NS/]POD", conflicts_with_all = ["nodes", "selector", "all", "host_mount", "no_mount", "no_uts", "no_ipc", "no_net", "no_pid"])]
    pub pod: Option<String>,

    /// With --pod: the container [default: the pod's kubectl.kubernetes.io/default-container, or its first]
    #[arg(short = 'c', long, value_name = "CONTAINER", requires = "pod")]
    pub container: Option<String>,

    /// With --pod: the container's namespaces to enter, from net, pid, mnt, ipc and uts, or all; the others stay the node's
    #[arg(long, value_name = "NS[,NS...]", default_value = "net", requires = "pod", value_parser = values::parse_pod_namespaces)]
    pub enter: PodNamespaces,

    #[command(flatten)]
    pub session: SessionArgs,
}

pub async fn run(args: NodeShellArgs, app: &App) -> Result<ExitStatus, AppError> {
    args.session.check(app, &args.command)?;
    let options = pod_options(&args, app);
    if args.pod.is_some() {
        if args.target.is_run() || args.contexts.several(app) {
            return Err(usage(
                "--pod opens one session, on one cluster: it does not take a fan-out's or several contexts' flags",
            ));
        }
        let choice = PodChoice {
            pod: args.pod.as_deref().unwrap_or_default(),
            container: args.container.as_deref(),
            enter: args.enter,
            session: &args.session,
        };
        return target_pod::run(app, choice, options).await;
    }
    if args.target.is_run() || args.contexts.several(app) {
        let inputs = RunInputs {
            target: &args.target,
            session: &args.session,
            command: &args.command,
            contexts: &args.contexts,
            what: "node-shell".to_string(),
        };
        return clusters::fan_out(app, inputs, |cluster, node, user| {
            if let Some(line) = options.unrecorded_windows_line(node) {
                eprintln!("{line}");
            }
            let (request, pod) = options.build(node, &cluster.namespace, user.to_string());
            Ok(NodePod {
                pod,
                container: NODE_SHELL_CONTAINER.to_string(),
                command: options.exec_command(&request),
            })
        })
        .await;
    }
    let (cluster, user, node) =
        connect_to_node(app, &args.target.single(), NodeUse::Session).await?;
    let persist = args.session.persist(app);
    if persist.is_some() && TargetNode::from(&node).os == NodeOs::Windows {
        return Err(usage(format!(
            "--persist is for Linux nodes; {} is a Windows node, whose HostProcess pods have no idle holder",
            node.metadata.name.as_deref().unwrap_or_default()
        )));
    }
    single::run_node_shell(&cluster, user, &node, &options, &args.session, persist, app).await
}

/// The pod options these flags and the settings give, resolved once for
/// every node the command runs on.
fn pod_options(args: &NodeShellArgs, app: &App) -> NodeShellOptions {
    let pod = PodOptions::resolve(&args.session, &app.settings);
    NodeShellOptions {
        namespaces: HostNamespaces {
            mount: !args.no_mount,
            uts: !args.no_uts,
            ipc: !args.no_ipc,
            net: !args.no_net,
            pid: !args.no_pid,
        },
        host_mount: args.host_mount,
        command: args.command.clone(),
        ..NodeShellOptions::new(pod, args.image.clone(), &app.settings)
    }
}
