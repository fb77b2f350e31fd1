//! One module per subcommand, and nothing else. Each holds its clap `Args`
//! and `async fn run(args, app) -> Result<ExitStatus, AppError>`.
//!
//! A subcommand never uses another one's module: what node-shell,
//! debug-node and compare share (the pre-flight, the pod options, running
//! a session on one node or many) is in [`crate::session`], and what every
//! subcommand gets is [`crate::app::App`].

pub mod cleanup;
pub mod compare;
pub mod completion;
pub mod config;
pub mod cp;
pub mod debug_node;
pub mod dump;
pub mod logs;
pub mod node_shell;
pub mod policy;
pub mod sessions;
pub mod version;
