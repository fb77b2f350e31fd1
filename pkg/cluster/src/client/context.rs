//! Which cluster, as whom, in which namespace: resolved the way kubectl does.

use std::path::{Path, PathBuf};

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use std::sync::Arc;

use crate::client::credentials::{ExecPlugin, MakeClient, PluginCredentials};
use crate::client::transport;
use crate::error::{Action, ClusterError, PluginError, Result, api_status, error_chain};

/// How to reach the cluster, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`: one file, used alone.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`.
    pub context: Option<String>,
    /// `-n/--namespace`, or toolbox's configured namespace.
    pub namespace: Option<String>,
    /// `--as`.
    pub as_user: Option<String>,
    /// `--as-group`, repeatable.
    pub as_groups: Vec<String>,
    /// Sent with every request, so that audit logs name the tool.
    pub user_agent: Option<String>,
    /// Told what toolbox waits for when the user's credential plugin takes
    /// more than a second; the caller decides whether anyone is watching.
    pub on_slow_credentials: Option<fn(&str)>,
}

/// A connected cluster: the one client every command shares, and what it
/// was resolved from.
#[derive(Clone)]
pub struct ClusterContext {
    /// Requests and watches.
    pub client: Client,
    /// Exec streams, which need HTTP/1.1 ([`crate::client::transport`]).
    pub exec_client: Client,
    /// What both clients have heard from the API server: whether the link
    /// went silent.
    pub link: std::sync::Arc<transport::Link>,
    /// What the clients were built from, without a credential plugin's
    /// credentials: those are in `clients`.
    pub config: Config,
    /// Builds another client like `client`, for a guard's Drop.
    pub(crate) clients: ClientSource,
    /// The kubeconfig context's name, or "in-cluster".
    pub context: String,
    /// The namespace toolbox works in.
    pub namespace: String,
    /// The user as the kubeconfig names it, until the server says otherwise.
    kubeconfig_user: Option<String>,
    /// `--kubeconfig`, `--context`, `--as` and `--as-group` as given, for
    /// hints that name a kubectl or toolbox command (" --context prod").
    pub kubectl_flags: String,
}

impl std::fmt::Debug for ClusterContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterContext")
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .field("server", &self.config.cluster_url)
            .finish()
    }
}

/// The kubeconfig kubectl would use: `--kubeconfig` alone; else every file in
/// KUBECONFIG that exists, merged (first one wins); else ~/.kube/config.
pub fn load_kubeconfig(explicit: Option<&Path>) -> Result<Option<Kubeconfig>> {
    let read = |path: &Path| {
        Kubeconfig::read_from(path).map_err(|e| ClusterError::BadKubeconfig {
            path: path.display().to_string(),
            message: error_chain(&e),
        })
    };
    if let Some(path) = explicit {
        if !path.exists() {
            return Err(ClusterError::BadKubeconfig {
                path: path.display().to_string(),
                message: "no such file".into(),
            });
        }
        return read(path).map(Some);
    }
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty() && p.exists())
            .collect();
        if !paths.is_empty() {
            let mut merged = Kubeconfig::default();
            for path in &paths {
                merged = merged
                    .merge(read(path)?)
                    .map_err(|e| ClusterError::BadKubeconfig {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?;
            }
            return Ok(Some(merged));
        }
    }
    match home_kubeconfig() {
        Some(path) if path.exists() => read(&path).map(Some),
        _ => Ok(None),
    }
}

fn home_kubeconfig() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".kube").join("config"))
}

/// The context names a kubeconfig defines, for errors and completion.
pub fn context_names(kubeconfig: &Kubeconfig) -> Vec<String> {
    kubeconfig.contexts.iter().map(|c| c.name.clone()).collect()
}

impl ClusterContext {
    /// Resolves the options into one client. Nothing is sent to the server yet.
    pub async fn connect(options: &ConnectOptions) -> Result<Self> {
        let (mut config, context, kubeconfig_user) =
            match load_kubeconfig(options.kubeconfig.as_deref())? {
                Some(kubeconfig) => {
                    let context = options
                        .context
                        .clone()
                        .or_else(|| kubeconfig.current_context.clone())
                        .ok_or_else(|| ClusterError::BadContext {
                            context: String::new(),
                            message: "the kubeconfig has no current-context; pass --context".into(),
                        })?;
                    let Some(named) = kubeconfig.contexts.iter().find(|c| c.name == context) else {
                        return Err(ClusterError::UnknownContext {
                            name: context,
                            valid: context_names(&kubeconfig),
                        });
                    };
                    let user = named.context.as_ref().and_then(|c| c.user.clone());
                    let kube_options = KubeConfigOptions {
                        context: Some(context.clone()),
                        ..Default::default()
                    };
                    let config = Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                        .await
                        .map_err(|e| ClusterError::BadContext {
                            context: context.clone(),
                            message: error_chain(&e),
                        })?;
                    (config, context, user)
                }
                None => match Config::incluster() {
                    Ok(config) => (config, "in-cluster".to_string(), None),
                    Err(_) => return Err(ClusterError::NoKubeconfig),
                },
            };
        if let Some(user) = &options.as_user {
            config.auth_info.impersonate = Some(user.clone());
        }
        if !options.as_groups.is_empty() {
            config.auth_info.impersonate_groups = Some(options.as_groups.clone());
        }
        if let Some(agent) = options
            .user_agent
            .as_deref()
            .and_then(|a| http::HeaderValue::from_str(a).ok())
        {
            config.headers.push((http::header::USER_AGENT, agent));
        }
        let namespace = options
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let link = std::sync::Arc::new(transport::Link::default());
        let clients = ClientSource::new(&mut config, &context, options.on_slow_credentials).await?;
        let bad_context = |e: kube::Error| ClusterError::BadContext {
            context: context.clone(),
            message: error_chain(&e),
        };
        let client = clients.api_client(&link).map_err(bad_context)?;
        let exec_client = clients.exec_client(&link).map_err(bad_context)?;
        let kubectl_flags = crate::input::names::connection_flags(
            options.kubeconfig.as_deref(),
            options.context.as_deref(),
            options.as_user.as_deref(),
            &options.as_groups,
        );
        Ok(ClusterContext {
            client,
            exec_client,
            link,
            config,
            clients,
            context,
            namespace,
            kubeconfig_user,
            kubectl_flags,
        })
    }

    pub fn server_url(&self) -> String {
        self.config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string()
    }

    /// Turns a failed request into the error a person can act on: the
    /// server unreachable, the credentials rejected, or `action` denied.
    pub fn request_error(&self, action: Action, err: kube::Error) -> ClusterError {
        if let Some(plugin) = plugin_error(&err) {
            return plugin.clone().into();
        }
        if let Some(status) = api_status(&err) {
            match status.code {
                401 => {
                    return ClusterError::Unauthorized {
                        context: self.context.clone(),
                    };
                }
                403 => {
                    return ClusterError::Forbidden {
                        user: self.user_for_errors(),
                        action,
                        flags: self.kubectl_flags.clone(),
                    };
                }
                _ => {}
            }
            return ClusterError::Api {
                action: format!("cannot {action}"),
                source: err,
            };
        }
        if is_transport_error(&err) {
            return ClusterError::Unreachable {
                context: self.context.clone(),
                url: self.server_url(),
                message: transport_message(&err),
                source: Box::new(err),
            };
        }
        ClusterError::Api {
            action: format!("cannot {action}"),
            source: err,
        }
    }

    fn user_for_errors(&self) -> String {
        self.config
            .auth_info
            .impersonate
            .clone()
            .or_else(|| self.kubeconfig_user.clone())
            .unwrap_or_else(|| "you".into())
    }

    /// Who the server thinks we are (SelfSubjectReview). Servers without
    /// that API, or that forbid it, get the kubeconfig's user name instead.
    pub async fn identity(&self) -> Result<String> {
        let api: Api<SelfSubjectReview> = Api::all(self.client.clone());
        match api
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
        {
            Ok(review) => Ok(review
                .status
                .and_then(|s| s.user_info)
                .and_then(|u| u.username)
                .unwrap_or_else(|| self.user_for_errors())),
            Err(err) => match api_status(&err).map(|s| s.code) {
                Some(403..=405) => Ok(self.user_for_errors()),
                _ => Err(self.request_error(Action::cluster("create", "selfsubjectreviews"), err)),
            },
        }
    }

    /// The server's version, e.g. "v1.37.2".
    pub async fn server_version(&self) -> Result<k8s_openapi::apimachinery::pkg::version::Info> {
        self.client
            .apiserver_version()
            .await
            .map_err(|e| self.request_error(Action::cluster("get", "/version"), e))
    }
}

/// Builds the clients of an invocation: the one every command shares, and
/// one a guard's Drop makes on a runtime of its own (the command's may be
/// shutting down). A credential plugin's clients share what it gave, so
/// that a pod deleted at the end goes with the credential of then, not
/// that of connect time.
#[derive(Clone)]
pub(crate) enum ClientSource {
    /// kube-rs reads the credentials from the config.
    Config(Box<Config>),
    Plugin(Arc<PluginCredentials>),
}

impl ClientSource {
    /// A credential plugin runs here, once; kube-rs alone would run it
    /// three times while building the client.
    async fn new(config: &mut Config, context: &str, on_slow: Option<fn(&str)>) -> Result<Self> {
        let Some(plugin) = ExecPlugin::of(&config.auth_info, context) else {
            return Ok(ClientSource::Config(Box::new(config.clone())));
        };
        config.auth_info.exec = None;
        let credential = plugin.run(on_slow).await?;
        Ok(ClientSource::Plugin(PluginCredentials::new(
            plugin,
            config.clone(),
            credential,
        )))
    }

    /// The client for requests and watches ([`transport::api_client_builder`]),
    /// with connections of its own; it must be made in the runtime that
    /// uses it.
    pub fn api_client(&self, link: &Arc<transport::Link>) -> kube::Result<Client> {
        let link = link.clone();
        self.client(Arc::new(move |config| {
            Ok(transport::api_client_builder(config, &link)?.build())
        }))
    }

    /// The client for requests and watches without kube's retry of 429,
    /// 503 and 504: for a fan-out run's creates, which its pace sends again
    /// itself, fewer at once (session::fanout's `pace`), where kube would
    /// retry every refused one at once, at full width.
    pub fn paced_client(&self, link: &Arc<transport::Link>) -> kube::Result<Client> {
        let link = link.clone();
        self.client(Arc::new(move |config| {
            let mut config = config.clone();
            config.default_retry = false;
            Ok(transport::api_client_builder(&config, &link)?.build())
        }))
    }

    /// The client for exec streams ([`transport::exec_client_builder`]).
    pub fn exec_client(&self, link: &Arc<transport::Link>) -> kube::Result<Client> {
        let link = link.clone();
        self.client(Arc::new(move |config| {
            Ok(transport::exec_client_builder(config, &link)?.build())
        }))
    }

    fn client(&self, make: MakeClient) -> kube::Result<Client> {
        match self {
            ClientSource::Config(config) => make(config),
            ClientSource::Plugin(credentials) => Ok(credentials.client(make)),
        }
    }
}

/// A credential plugin that failed while renewing the token of a request.
fn plugin_error(err: &kube::Error) -> Option<&PluginError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if let Some(plugin) = cause.downcast_ref::<PluginError>() {
            return Some(plugin);
        }
        source = cause.source();
    }
    None
}

fn is_transport_error(err: &kube::Error) -> bool {
    matches!(
        err,
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_)
    ) || matches!(err, kube::Error::Auth(_))
}

fn transport_message(err: &kube::Error) -> String {
    let chain = error_chain(err);
    // The innermost causes say what happened ("Connection refused"); the
    // outer layers only repeat that a request failed. rustls ends some
    // messages with a link to its manual, which says nothing by itself.
    chain
        .rsplit(": ")
        .find(|part| !part.starts_with("https://"))
        .map(str::to_string)
        .unwrap_or(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transport_message_is_the_innermost_cause_without_links() {
        let eof = std::io::Error::other(
            "peer closed connection without sending TLS close_notify: https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof",
        );
        let err = kube::Error::Service(Box::new(eof));
        assert_eq!(
            transport_message(&err),
            "peer closed connection without sending TLS close_notify"
        );
    }

    #[test]
    fn a_plugin_failing_to_renew_a_token_is_named_not_taken_for_the_network() {
        let failure = PluginError {
            plugin: "aws".into(),
            context: "prod".into(),
            problem: "failed (exit status 255): the SSO session has expired".into(),
        };
        let err = kube::Error::Service(Box::new(failure.clone()));
        assert_eq!(
            plugin_error(&err).map(ToString::to_string),
            Some(failure.to_string())
        );
        assert!(plugin_error(&kube::Error::LinesCodecMaxLineLengthExceeded).is_none());
    }
}
