//! The command line: global flags as kubectl names them, and one subcommand each.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::{commands, complete, values};
use clap_complete::engine::ArgValueCompleter;

/// Get onto Kubernetes nodes safely.
///
/// toolbox opens root shells and debug pods on nodes, and makes sure that none
/// of its pods outlives its session.
#[derive(Debug, Parser)]
#[command(
    name = "toolbox",
    version,
    long_version = commands::version::long_version(),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes, with kubectl's names and meanings.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Global options",
        add = ArgValueCompleter::new(complete::contexts)
    )]
    pub context: Option<String>,

    /// The namespace toolbox creates its pods in
    #[arg(
        short = 'n',
        long,
        global = true,
        value_name = "NAMESPACE",
        help_heading = "Global options",
        add = ArgValueCompleter::new(complete::namespaces)
    )]
    pub namespace: Option<String>,

    /// Username to impersonate for the operation
    #[arg(
        long = "as",
        global = true,
        value_name = "USER",
        help_heading = "Global options",
        value_parser = values::parse_impersonated
    )]
    pub as_user: Option<String>,

    /// Group to impersonate for the operation (repeatable)
    #[arg(
        long = "as-group",
        global = true,
        value_name = "GROUP",
        help_heading = "Global options",
        value_parser = values::parse_impersonated
    )]
    pub as_groups: Vec<String>,

    /// toolbox's settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "TOOLBOX_CONFIG",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,

    /// More output on stderr: -v for details, -vv for debugging
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a root shell on a node (nsenter into the host's namespaces)
    #[command(name = "node-shell")]
    NodeShell(commands::node_shell::NodeShellArgs),

    /// Debug a node with kubectl's debug-node pod, deleted when the session ends
    #[command(name = "debug-node")]
    DebugNode(commands::debug_node::DebugNodeArgs),

    /// Compare node-shell and debug-node on this cluster, node and namespace
    Compare(commands::compare::CompareArgs),

    /// Find and delete the node-debug pods that toolbox and other tools left behind
    Cleanup(commands::cleanup::CleanupArgs),

    /// Print RBAC and admission policies that bound node access, for kubectl apply -f -
    Policy(commands::policy::PolicyArgs),

    /// Show the effective settings and where each value came from
    Config(commands::config::ConfigArgs),

    /// Print a shell completion script
    Completion(commands::completion::CompletionArgs),

    /// Show the version of toolbox and of the cluster's API server
    Version(commands::version::VersionArgs),
}
