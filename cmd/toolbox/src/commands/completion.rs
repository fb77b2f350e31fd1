//! `toolbox completion SHELL`: the static completion script for a shell.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::commands::App;
use crate::exit::{AppError, ExitStatus};

/// Print a completion script for SHELL. The files in completions/ are these
/// scripts; `make completions` regenerates them.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

pub async fn run(args: CompletionArgs, _app: &App) -> Result<ExitStatus, AppError> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "toolbox", &mut std::io::stdout());
    Ok(ExitStatus::Success)
}
