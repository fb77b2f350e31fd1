//! One module per subcommand. Each holds its clap `Args` and
//! `async fn run(args, app) -> Result<ExitStatus, AppError>`.

pub mod cleanup;
pub mod compare;
pub mod completion;
pub mod config;
pub mod debug_node;
mod fanout;
pub mod node_shell;
pub mod policy;
mod session;
pub mod version;

use std::collections::BTreeMap;
use std::io::IsTerminal;

use toolbox_cluster::{ClusterContext, ConnectOptions, validate_context_name, validate_namespace};

use crate::cli::GlobalArgs;
use crate::exit::AppError;
use crate::settings::{self, LoadedSettings};

/// What every subcommand gets: the global flags and the loaded settings.
pub struct App {
    pub global: GlobalArgs,
    pub settings: LoadedSettings,
}

impl App {
    /// Checks the global flags' names, loads the settings and applies `-n`.
    /// A namespace or context that cannot exist is a usage error here, before
    /// any command sends a request.
    pub fn new(global: GlobalArgs, env: &BTreeMap<String, String>) -> Result<App, AppError> {
        if let Some(context) = &global.context {
            validate_context_name(context)?;
        }
        if let Some(namespace) = &global.namespace {
            validate_namespace(namespace)?;
        }
        if !global.as_groups.is_empty() && global.as_user.as_deref().is_none_or(str::is_empty) {
            return Err(crate::exit::usage(
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
        Ok(App { global, settings })
    }

    /// Connects to the cluster: the namespace is -n, else the configured
    /// one, else the context's.
    pub async fn connect(&self) -> Result<ClusterContext, AppError> {
        let options = ConnectOptions {
            kubeconfig: self.global.kubeconfig.clone(),
            context: self.global.context.clone(),
            namespace: self.settings.settings.namespace.clone(),
            as_user: self.global.as_user.clone(),
            as_groups: self.global.as_groups.clone(),
            user_agent: Some(user_agent()),
            on_slow_credentials: slow_credentials_notice(std::io::stderr().is_terminal()),
        };
        Ok(ClusterContext::connect(&options).await?)
    }
}

/// Progress goes to stderr only when a person is watching it.
fn slow_credentials_notice(stderr_is_terminal: bool) -> Option<fn(&str)> {
    stderr_is_terminal.then_some(|waiting_for: &str| eprintln!("{waiting_for}"))
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
