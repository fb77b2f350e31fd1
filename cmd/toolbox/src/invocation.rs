//! How toolbox was started, from the name it was started by: as itself; as
//! a kubectl plugin (`kubectl toolbox …` runs an executable named
//! `kubectl-toolbox`), when usage, help and hints name it `kubectl toolbox`;
//! or as kubectl's completion helper for that plugin
//! (`kubectl_complete-toolbox`, kubectl 1.26+), which prints the candidates
//! for the words after `kubectl toolbox` in cobra's format
//! ([`crate::cli::complete_for_kubectl`]). And how toolbox names itself: to
//! the user ([`display_name`], [`name_commands`]) and to the API server
//! ([`user_agent`]).

use std::path::Path;
use std::sync::OnceLock;

/// The kubectl plugin's executable name.
pub const PLUGIN_EXECUTABLE: &str = "kubectl-toolbox";
/// The executable kubectl runs to complete the plugin's arguments.
pub const PLUGIN_COMPLETION_EXECUTABLE: &str = "kubectl_complete-toolbox";
/// Subcommands, as hints name them ("run toolbox cleanup").
const SUBCOMMANDS: [&str; 8] = [
    "node-shell",
    "debug-node",
    "compare",
    "cleanup",
    "policy",
    "config",
    "completion",
    "version",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invocation {
    Toolbox,
    KubectlPlugin,
    KubectlCompletion,
}

static INVOCATION: OnceLock<Invocation> = OnceLock::new();

/// How this process was started, from the file name of argv[0].
pub fn invocation() -> Invocation {
    *INVOCATION.get_or_init(|| {
        let argv0 = std::env::args_os().next().unwrap_or_default();
        from_argv0(Path::new(&argv0))
    })
}

fn from_argv0(argv0: &Path) -> Invocation {
    let stem = argv0
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.as_str() {
        PLUGIN_EXECUTABLE => Invocation::KubectlPlugin,
        PLUGIN_COMPLETION_EXECUTABLE => Invocation::KubectlCompletion,
        _ => Invocation::Toolbox,
    }
}

/// What the user types to run toolbox: `toolbox` or `kubectl toolbox`.
pub fn display_name() -> &'static str {
    match invocation() {
        Invocation::Toolbox => "toolbox",
        Invocation::KubectlPlugin | Invocation::KubectlCompletion => "kubectl toolbox",
    }
}

/// `text` with each command it names ("toolbox cleanup") as the user
/// types it here ("kubectl toolbox cleanup").
pub fn name_commands(text: &str) -> String {
    name_commands_as(text, display_name())
}

fn name_commands_as(text: &str, name: &str) -> String {
    if name == "toolbox" {
        return text.to_string();
    }
    let mut out = text.to_string();
    for subcommand in SUBCOMMANDS {
        let plain = format!("toolbox {subcommand}");
        let named_here = format!("{name} {subcommand}");
        let mut rewritten = String::with_capacity(out.len());
        let mut rest = out.as_str();
        while let Some(at) = rest.find(&plain) {
            let before = &rest[..at];
            // Already "kubectl toolbox …", or part of a longer word.
            let named = before.ends_with("kubectl ")
                || before.ends_with(|c: char| c.is_alphanumeric() || c == '-' || c == '_');
            rewritten.push_str(before);
            rewritten.push_str(if named { &plain } else { &named_here });
            rest = &rest[at + plain.len()..];
        }
        rewritten.push_str(rest);
        out = rewritten;
    }
    out
}

/// toolbox/VERSION (OS/ARCH), as kubectl names itself in audit logs.
pub fn user_agent() -> String {
    format!(
        "toolbox/v{} ({}/{})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_it_was_started_by_decides_the_mode() {
        assert_eq!(
            from_argv0(Path::new("/usr/bin/toolbox")),
            Invocation::Toolbox
        );
        assert_eq!(
            from_argv0(Path::new("/home/u/.local/bin/kubectl-toolbox")),
            Invocation::KubectlPlugin
        );
        assert_eq!(
            from_argv0(Path::new("kubectl-toolbox.exe")),
            Invocation::KubectlPlugin
        );
        assert_eq!(
            from_argv0(Path::new("kubectl_complete-toolbox")),
            Invocation::KubectlCompletion
        );
    }

    #[test]
    fn hints_name_commands_as_the_user_types_them() {
        let hint = "remove it now with: kubectl delete pod -n a p (or toolbox cleanup); see `toolbox node-shell --help`";
        assert_eq!(
            name_commands_as(hint, "kubectl toolbox"),
            "remove it now with: kubectl delete pod -n a p (or kubectl toolbox cleanup); see `kubectl toolbox node-shell --help`"
        );
        assert_eq!(name_commands_as(hint, "toolbox"), hint);
        assert_eq!(
            name_commands_as("already kubectl toolbox cleanup", "kubectl toolbox"),
            "already kubectl toolbox cleanup"
        );
        assert_eq!(
            name_commands_as("my-toolbox cleanup and toolbox's pods", "kubectl toolbox"),
            "my-toolbox cleanup and toolbox's pods"
        );
    }
}
