//! The global flags and what every subcommand gets from them: [`App`], the
//! flags with the loaded settings, and the connection to the cluster they
//! name. Subcommands and the shared session code take an `&App`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use clap_complete::engine::ArgValueCompleter;
use toolbox_cluster::{ClusterContext, ConnectOptions, validate_context_name, validate_namespace};

use crate::exit::{AppError, usage};
use crate::settings::{self, LoadedSettings};
use crate::{complete, invocation, values};

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

    // Repeatable where a command runs on several clusters (crate::contexts);
    // the help stays kubectl's.
    /// The kubeconfig context to use
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        help_heading = "Global options",
        add = ArgValueCompleter::new(complete::contexts)
    )]
    pub context: Vec<String>,

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

impl GlobalArgs {
    /// The one `--context`, if given; given several times, a usage error
    /// for a command that runs on one cluster.
    pub fn single_context(&self) -> Result<Option<&str>, AppError> {
        match self.context.as_slice() {
            [] => Ok(None),
            [context] => Ok(Some(context)),
            several => Err(usage(format!(
                "--context is given {} times, and this command runs on one cluster; several contexts are for node-shell and debug-node on many nodes, cleanup and sessions list",
                several.len()
            ))),
        }
    }
}

/// What every subcommand gets: the global flags and the loaded settings.
pub struct App {
    pub global: GlobalArgs,
    pub settings: LoadedSettings,
    /// The whole command line's definition, for `toolbox completion`.
    /// cli.rs builds it from the subcommands' `Args`, so a subcommand is
    /// handed it here rather than naming cli.rs, which names it.
    pub command_line: fn() -> clap::Command,
}

impl App {
    /// Checks the global flags' names, loads the settings and applies `-n`.
    /// A namespace or context that cannot exist is a usage error here, before
    /// any command sends a request.
    pub fn new(
        global: GlobalArgs,
        command_line: fn() -> clap::Command,
        env: &BTreeMap<String, String>,
    ) -> Result<App, AppError> {
        for context in &global.context {
            validate_context_name(context)?;
        }
        if let Some(namespace) = &global.namespace {
            validate_namespace(namespace)?;
        }
        if !global.as_groups.is_empty() && global.as_user.as_deref().is_none_or(str::is_empty) {
            return Err(usage(
                "--as-group needs --as USER: the API server impersonates groups only together with a user",
            ));
        }
        let mut settings = settings::load(global.config.as_deref(), env)?;
        for warning in &settings.warnings {
            eprintln!("warning: {warning}");
        }
        if let Some(namespace) = &global.namespace {
            settings.settings.namespace = Some(namespace.clone());
            settings.set_by_flag("namespace", "--namespace");
        }
        Ok(App {
            global,
            settings,
            command_line,
        })
    }

    /// Connects to the cluster: the namespace is -n, else the configured
    /// one, else the context's. Several `--context` are for the commands
    /// that run on many clusters, which connect to each with
    /// [`App::connect_to`]; anywhere else they are a usage error.
    pub async fn connect(&self) -> Result<ClusterContext, AppError> {
        let context = self.global.single_context()?.map(str::to_string);
        self.connect_with(context).await
    }

    /// Connects to the cluster of this kubeconfig context, as
    /// [`App::connect`] does to the one `--context` names.
    pub async fn connect_to(&self, context: &str) -> Result<ClusterContext, AppError> {
        self.connect_with(Some(context.to_string())).await
    }

    async fn connect_with(&self, context: Option<String>) -> Result<ClusterContext, AppError> {
        let options = ConnectOptions {
            kubeconfig: self.global.kubeconfig.clone(),
            context,
            namespace: self.settings.settings.namespace.clone(),
            as_user: self.global.as_user.clone(),
            as_groups: self.global.as_groups.clone(),
            user_agent: Some(invocation::user_agent()),
            on_slow_credentials: slow_credentials_notice(std::io::stderr().is_terminal()),
        };
        Ok(ClusterContext::connect(&options).await?)
    }
}

/// Progress goes to stderr only when a person is watching it.
fn slow_credentials_notice(stderr_is_terminal: bool) -> Option<fn(&str)> {
    stderr_is_terminal.then_some(|waiting_for: &str| eprintln!("{waiting_for}"))
}
