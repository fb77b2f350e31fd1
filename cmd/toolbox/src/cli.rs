//! The command line: global flags as kubectl names them ([`GlobalArgs`]),
//! and one subcommand each. And what is answered from the definition alone,
//! without running a subcommand: kubectl's completion request and the man
//! pages.

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use clap::{CommandFactory, Parser, Subcommand};

use crate::app::GlobalArgs;
use crate::commands;
use crate::invocation::display_name;

/// Cobra's ShellCompDirectiveNoFileComp: never fall back to file names.
const NO_FILE_COMPLETION: u8 = 4;

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a root shell on a node (nsenter into the host's namespaces)
    #[command(name = "node-shell")]
    NodeShell(commands::node_shell::NodeShellArgs),

    /// Debug a node with kubectl's debug-node pod, deleted when the session ends
    #[command(name = "debug-node")]
    DebugNode(commands::debug_node::DebugNodeArgs),

    /// Read a node's service journals and log files, without a root shell
    ///
    /// The kubelet's node log query comes first: no pod, and only get on
    /// nodes/proxy. Where the query cannot serve a node (it is off, or you may
    /// not use it), a short-lived pod on the node reads the same logs, deleted
    /// when done. One line on stderr says which way each node was read, and
    /// why. The kubelet applies --since, --until, --tail, --grep and --boot to
    /// a journal; to a log kept as a file (as on nodes without journald),
    /// toolbox applies them itself.
    ///
    /// Arguments: the first is always a node; those after it are nodes while
    /// they name nodes (or node sets, or node/NAME), then logs: a UNIT (the
    /// kubelet by default; NAME.service for a unit that has a node's name) or a
    /// FILE, an absolute path on the node. With --all -l SELECTOR, every
    /// argument is a log.
    Logs(commands::logs::LogsArgs),

    /// Compare node-shell and debug-node on this cluster, node and namespace
    Compare(commands::compare::CompareArgs),

    /// Find and delete the node-debug pods that toolbox and other tools left behind
    Cleanup(commands::cleanup::CleanupArgs),

    /// Print RBAC and admission policies that bound node access, for kubectl apply -f -
    Policy(commands::policy::PolicyArgs),

    /// Copy files and directories between a node and this machine, sha256-checked
    Cp(commands::cp::CpArgs),

    /// Collect a diagnostic bundle from many nodes: logs, dmesg, runtime, disk, config
    Dump(commands::dump::DumpArgs),

    /// Find, read and replay recorded sessions
    Sessions(commands::sessions::SessionsArgs),

    /// Show the effective settings and where each value came from
    Config(commands::config::ConfigArgs),

    /// Print a shell completion script
    Completion(commands::completion::CompletionArgs),

    /// Show the version of toolbox and of the cluster's API server
    Version(commands::version::VersionArgs),
}

/// The command line definition, named as it was invoked.
pub fn command() -> clap::Command {
    Cli::command().bin_name(display_name())
}

/// Answers kubectl's completion request for `kubectl toolbox ARGS… WORD`:
/// the candidates for WORD, one a line (with its help after a tab), then
/// cobra's directive line.
pub fn complete_for_kubectl(args: Vec<OsString>) -> std::process::ExitCode {
    let mut words = vec![OsString::from("toolbox")];
    words.extend(args);
    if words.len() == 1 {
        words.push(OsString::new());
    }
    let index = words.len() - 1;
    let mut cmd = command();
    let current_dir = std::env::current_dir().ok();
    let candidates =
        clap_complete::engine::complete(&mut cmd, words, index, current_dir.as_deref())
            .unwrap_or_default();
    let mut out = String::new();
    for candidate in candidates.iter().filter(|c| !c.is_hide_set()) {
        out.push_str(&candidate.get_value().to_string_lossy());
        if let Some(help) = candidate.get_help() {
            out.push('\t');
            out.push_str(&help.to_string().replace('\n', " "));
        }
        out.push('\n');
    }
    out.push_str(&format!(":{NO_FILE_COMPLETION}\n"));
    let _ = std::io::stdout().write_all(out.as_bytes());
    std::process::ExitCode::SUCCESS
}

/// Writes toolbox's man pages (toolbox.1 and one per subcommand) into
/// `dir`: `TOOLBOX_GENERATE_MAN=DIR toolbox`, as `make man` runs it.
pub fn generate_man(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // The long version names the commit and the build date: the pages would
    // change with every build. They carry the version alone.
    clap_mangen::generate_to(Cli::command().long_version(None), dir)
}
