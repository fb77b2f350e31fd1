//! Every way toolbox ends, and the exit code each one gets, in one place.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | any other failure, a connection lost during the session among them |
//! | 2 | usage: bad flags, arguments or settings |
//! | 3 | the cluster: kubeconfig, context, unreachable server, rejected credentials, permission denied, node, namespace, session recording or `--pod` target not found (or not enterable) |
//! | 4 | the pod: refused by admission or PodSecurity, could not start, or not running in time |
//! | 5 | on many nodes: every node ran the command, and it failed (non-zero) on some |
//! | 6 | on many nodes: some nodes could not run the command (their pod did not start, the connection was lost, ...); on several clusters, also a cluster that could not run it |
//! | 129, 130, 143 | ended by SIGHUP, SIGINT (or a cancelled picker), SIGTERM |
//!
//! When a remote command ran, its own exit status passes through unchanged.
//! A flag value that its parser refused ends here too, before anything
//! runs ([`exit_on_parse_error`]).

use std::process::ExitCode;

use toolbox_cluster::{ClusterError, ErrorKind, InvalidName};

use crate::settings::SettingsError;

/// How a command ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    /// A remote command's own status.
    Remote(u8),
    /// The user cancelled (Esc in the picker, Ctrl-C at a prompt).
    Cancelled,
    /// The command did what it could but reports failure (e.g. some deletions failed).
    Failure,
    /// On many nodes: every node ran the command, and it failed on some.
    CommandsFailed,
    /// On many nodes: some nodes could not run the command.
    NodesNotRun,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Remote(code) => ExitCode::from(code),
            ExitStatus::Cancelled => ExitCode::from(130),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::CommandsFailed => ExitCode::from(COMMANDS_FAILED),
            ExitStatus::NodesNotRun => ExitCode::from(NODES_NOT_RUN),
        }
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Flags or arguments that make no sense together.
    #[error("{0}")]
    Usage(String),
    /// A namespace, node or context name that cannot exist.
    #[error(transparent)]
    InvalidName(#[from] InvalidName),
    /// The user cancelled a prompt (Esc or Ctrl-C in the picker).
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
    /// What ended one cluster of a command on several, named by its
    /// context; its exit code is the error's own.
    #[error("{context}: {error}")]
    InContext {
        context: String,
        error: Box<AppError>,
    },
}

pub const USAGE: u8 = 2;
pub const CLUSTER: u8 = 3;
pub const POD: u8 = 4;
pub const COMMANDS_FAILED: u8 = 5;
pub const NODES_NOT_RUN: u8 = 6;

impl AppError {
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Usage(_) | AppError::Settings(_) | AppError::InvalidName(_) => USAGE,
            AppError::Cluster(err) => match err.kind() {
                ErrorKind::Connection | ErrorKind::Access | ErrorKind::NotFound => CLUSTER,
                ErrorKind::PodStart => POD,
                ErrorKind::SessionLost | ErrorKind::Failed => 1,
                ErrorKind::Usage => USAGE,
                ErrorKind::Interrupted => match err.cause() {
                    ClusterError::Interrupted { signal } => signal.exit_code(),
                    _ => 130,
                },
            },
            AppError::Other(_) => 1,
            AppError::Cancelled => 130,
            AppError::InContext { error, .. } => error.exit_code(),
        }
    }

    /// Interruptions need no "error:" line: the user asked for them.
    pub fn is_interruption(&self) -> bool {
        match self {
            AppError::Cancelled => true,
            AppError::Cluster(err) => matches!(err.cause(), ClusterError::Interrupted { .. }),
            AppError::InContext { error, .. } => error.is_interruption(),
            _ => false,
        }
    }

    /// A pod the failed session left behind, to be reported on a line of
    /// its own after the error (and after an interruption too).
    pub fn left_pod(&self) -> Option<&toolbox_cluster::LeftPod> {
        match self {
            AppError::Cluster(err) => err.left_pod(),
            AppError::InContext { error, .. } => error.left_pod(),
            _ => None,
        }
    }
}

pub fn usage(message: impl Into<String>) -> AppError {
    AppError::Usage(message.into())
}

/// clap's report of a flag whose value its parser refused, on one line:
/// the value (escaped, so that a newline in it cannot break the line), the
/// flag and the rule. Other parse errors (unknown flags, missing values)
/// keep clap's report, hints and all.
pub fn exit_on_parse_error(err: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match err.get(kind) {
        Some(ContextValue::String(text)) => Some(text.clone()),
        _ => None,
    };
    if err.kind() == ErrorKind::ValueValidation
        && let (Some(arg), Some(value), Some(rule)) = (
            context(ContextKind::InvalidArg),
            context(ContextKind::InvalidValue),
            std::error::Error::source(&err),
        )
    {
        eprintln!(
            "error: invalid value '{}' for '{arg}': {rule}",
            value.escape_debug()
        );
        std::process::exit(USAGE.into());
    }
    err.exit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use toolbox_cluster::{Action, Signal};

    #[test]
    fn each_kind_of_failure_has_its_documented_code() {
        let forbidden = AppError::from(ClusterError::Forbidden {
            user: "dev".into(),
            action: Action::cluster("list", "nodes"),
            flags: String::new(),
        });
        assert_eq!(forbidden.exit_code(), CLUSTER);
        let missing = AppError::from(ClusterError::NodeNotFound {
            name: "x".into(),
            suggestions: vec![],
        });
        assert_eq!(missing.exit_code(), CLUSTER);
        let pull = AppError::from(ClusterError::PodFailed {
            pod: "p".into(),
            reason: "ErrImagePull".into(),
            message: None,
            hint: None,
        });
        assert_eq!(pull.exit_code(), POD);
        assert_eq!(usage("bad").exit_code(), USAGE);
        let invalid = AppError::from(toolbox_cluster::validate_namespace("A").unwrap_err());
        assert_eq!(invalid.exit_code(), USAGE);
        let sigterm = AppError::from(ClusterError::Interrupted {
            signal: Signal::Terminate,
        });
        assert_eq!(sigterm.exit_code(), 143);
        assert!(sigterm.is_interruption());
        assert_eq!(ExitCode::from(ExitStatus::Remote(7)), ExitCode::from(7));
        assert_eq!(
            ExitCode::from(ExitStatus::CommandsFailed),
            ExitCode::from(5)
        );
        assert_eq!(ExitCode::from(ExitStatus::NodesNotRun), ExitCode::from(6));
        let lost = AppError::from(ClusterError::ConnectionLost {
            namespace: "ns".into(),
            pod: "p".into(),
            reason: "the connection was reset".into(),
        });
        assert_eq!(lost.exit_code(), 1);
        let left = toolbox_cluster::LeftPod {
            namespace: "ns".into(),
            pod: "p".into(),
            expires_at: None,
            reason: "r".into(),
            flags: String::new(),
        };
        let interrupted_then_left = AppError::from(ClusterError::NotDeleted {
            cause: Box::new(ClusterError::Interrupted {
                signal: Signal::Interrupt,
            }),
            left: Box::new(left.clone()),
        });
        assert_eq!(interrupted_then_left.exit_code(), 130);
        assert!(interrupted_then_left.is_interruption());
        assert_eq!(interrupted_then_left.left_pod(), Some(&left));
    }
}
