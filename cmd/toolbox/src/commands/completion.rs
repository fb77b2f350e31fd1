//! `toolbox completion SHELL`: the static completion script for a shell.

use clap::Args;
use clap_complete::Shell;

use crate::app::App;
use crate::exit::{AppError, ExitStatus};

/// Print a completion script for SHELL. The files in completions/ are these
/// scripts; `make completions` regenerates them.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to complete for
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

pub async fn run(args: CompletionArgs, app: &App) -> Result<ExitStatus, AppError> {
    let mut command = (app.command_line)();
    // Generated whole first: clap_complete panics on a write that fails,
    // as one into a closed pipe does.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "toolbox", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(ExitStatus::Success)
}
