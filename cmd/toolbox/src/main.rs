//! toolbox: get onto Kubernetes nodes safely.
//!
//! This binary is glue: it parses the command line, loads settings, runs one
//! subcommand and maps how it ended to an exit code (see [`exit`]).

#[macro_use]
mod output;

mod app;
mod cli;
mod commands;
mod complete;
mod contexts;
mod exit;
mod invocation;
mod picker;
mod session;
mod settings;
mod values;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::app::App;
use crate::cli::{Cli, Command};
use crate::exit::{AppError, ExitStatus};

/// glibc's allocator gives each thread that allocates an arena of its own
/// and rarely returns memory from them: a fan-out over 1,000 nodes peaked
/// at twice the memory it needs (docs/benchmarks-notes.md). mimalloc is
/// built without transparent huge pages, which would make every arena it
/// commits resident in 2 MiB pieces and double a session's 15 MiB.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    toolbox_cluster::steps::start();
    if invocation::invocation() == invocation::Invocation::KubectlCompletion {
        return cli::complete_for_kubectl(std::env::args_os().skip(1).collect());
    }
    if let Some(dir) = std::env::var_os("TOOLBOX_GENERATE_MAN") {
        return match cli::generate_man(std::path::Path::new(&dir)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cannot write the man pages: {err}");
                ExitCode::FAILURE
            }
        };
    }
    // Answers a shell's completion request (COMPLETE=bash toolbox ...) and
    // exits, before any runtime or output starts.
    clap_complete::CompleteEnv::with_factory(cli::command).complete();
    let matches = cli::command()
        .try_get_matches()
        .unwrap_or_else(|err| exit::exit_on_parse_error(err));
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    init_tracing(cli.global.verbose);
    let verbose = cli.global.verbose;

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    let code = match result {
        Ok(status) => ExitCode::from(status),
        Err(err) => {
            if !err.is_interruption() {
                report(&err, verbose);
            }
            if let Some(left) = err.left_pod() {
                eprintln!("warning: {}", invocation::name_commands(&left.to_string()));
            }
            ExitCode::from(err.exit_code())
        }
    };
    // A blocking read of stdin may still be pending in the runtime; it must
    // not hold the process open.
    runtime.shutdown_background();
    code
}

async fn run(cli: Cli) -> Result<ExitStatus, AppError> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let app = App::new(cli.global, Cli::command, &env)?;
    match cli.command {
        Command::NodeShell(args) => commands::node_shell::run(args, &app).await,
        Command::DebugNode(args) => commands::debug_node::run(args, &app).await,
        Command::Logs(args) => commands::logs::run(args, &app).await,
        Command::Compare(args) => commands::compare::run(args, &app).await,
        Command::Cleanup(args) => commands::cleanup::run(args, &app).await,
        Command::Policy(args) => commands::policy::run(args, &app).await,
        Command::Cp(args) => commands::cp::run(args, &app).await,
        Command::Dump(args) => commands::dump::run(args, &app).await,
        Command::Sessions(args) => commands::sessions::run(args, &app).await,
        Command::Config(args) => commands::config::run(args, &app).await,
        Command::Completion(args) => commands::completion::run(args, &app).await,
        Command::Version(args) => commands::version::run(args, &app).await,
    }
}

/// One line by default; -v adds the chain of causes.
fn report(err: &AppError, verbose: u8) {
    eprintln!("error: {}", invocation::name_commands(&err.to_string()));
    if verbose > 0 {
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
    }
}

fn init_tracing(verbose: u8) {
    // Libraries' own logs (kube's included) stay out of a normal run: the
    // error toolbox prints says what they would.
    // kube's HTTP layer logs every 5xx answer as an ERROR of its own, even
    // one that toolbox expects and handles (an exec tried before the
    // container started): -v leaves it out, -vv shows it.
    let default = match verbose {
        0 => "toolbox=warn,toolbox_cluster=warn",
        1 => "warn,toolbox=debug,toolbox_cluster=debug,kube_client::client::builder=off",
        _ => "debug",
    };
    let filter = std::env::var("TOOLBOX_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default.to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .without_time()
        .with_target(false)
        .try_init();
}
