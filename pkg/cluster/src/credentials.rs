//! Exec credential plugins (`users[].user.exec`: aws, gke-gcloud-auth-plugin,
//! kubelogin, ...), run once per invocation as kubectl does.
//!
//! kube-rs runs the plugin each time it asks the auth info for credentials,
//! and building one client asks three times (the auth layer, the TLS
//! identity, the client's expiry). So toolbox runs the plugin itself, once,
//! before the client is built: a client certificate goes into the TLS
//! config, and a token into a layer that every request of the client shares
//! and that runs the plugin again only when the token is about to expire.

use std::future::Future;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use http::{HeaderValue, Request, header::AUTHORIZATION};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::client::Body;
use kube::config::{AuthInfo, ExecConfig, ExecInteractiveMode};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

/// How long a plugin may take before a terminal is told what toolbox waits for.
pub const SLOW_PLUGIN: Duration = Duration::from_secs(1);

/// A token this close to its expiry is renewed before a request uses it,
/// as kube-rs and client-go do.
const RENEW_BEFORE_EXPIRY: SignedDuration = SignedDuration::from_secs(60);

/// The kubeconfig user's exec plugin, and where it is named for messages.
#[derive(Debug, Clone)]
pub(crate) struct ExecPlugin {
    exec: ExecConfig,
    /// The command's file name: "aws", "kubelogin".
    pub name: String,
    /// The kubeconfig context whose user runs it.
    pub context: String,
}

/// What a plugin gave.
pub(crate) enum Credential {
    Token {
        token: String,
        expires: Option<Timestamp>,
    },
    /// PEM, as the plugin printed them.
    Certificate { cert: String, key: String },
}

/// Why a plugin gave no credential, said so that a person can act on it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the credential plugin {plugin} (users[].user.exec of context \"{context}\") {problem}")]
pub struct PluginError {
    pub plugin: String,
    pub context: String,
    pub problem: String,
}

#[derive(Serialize, Deserialize)]
struct ExecCredential {
    #[serde(rename = "apiVersion", skip_serializing_if = "Option::is_none")]
    api_version: Option<String>,
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    spec: Option<ExecCredentialSpec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<ExecCredentialStatus>,
}

#[derive(Serialize, Deserialize)]
struct ExecCredentialSpec {
    interactive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<kube::config::ExecAuthCluster>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialStatus {
    expiration_timestamp: Option<String>,
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
}

impl ExecPlugin {
    /// The plugin that would give this user's credentials, when nothing the
    /// kubeconfig states directly (a token, a token file, a password, an
    /// auth provider) takes precedence over it, as in kube-rs.
    pub fn of(auth: &AuthInfo, context: &str) -> Option<Self> {
        let exec = auth.exec.as_ref()?;
        let stated = auth.auth_provider.is_some()
            || (auth.username.is_some() && auth.password.is_some())
            || auth.token.is_some()
            || auth.token_file.is_some();
        if stated {
            return None;
        }
        let command = exec.command.as_deref().unwrap_or_default();
        let name = std::path::Path::new(command)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| command.to_string());
        Some(ExecPlugin {
            exec: exec.clone(),
            name,
            context: context.to_string(),
        })
    }

    fn error(&self, problem: impl Into<String>) -> PluginError {
        PluginError {
            plugin: self.name.clone(),
            context: self.context.clone(),
            problem: problem.into(),
        }
    }

    /// What a terminal is told while a slow plugin runs.
    pub fn waiting_message(&self) -> String {
        format!(
            "waiting for the credential plugin {} (users[].user.exec of context \"{}\") ...",
            self.name, self.context
        )
    }

    /// Runs the plugin; `on_slow` is called once if it takes longer than
    /// [`SLOW_PLUGIN`].
    pub async fn run(&self, on_slow: Option<fn(&str)>) -> Result<Credential, PluginError> {
        let output = self.spawn()?;
        tokio::pin!(output);
        let output = match on_slow {
            None => output.await,
            Some(notify) => tokio::select! {
                out = &mut output => out,
                () = tokio::time::sleep(SLOW_PLUGIN) => {
                    notify(&self.waiting_message());
                    output.await
                }
            },
        }
        .map_err(|e| self.error(format!("could not run: {e}{}", self.install_hint())))?;
        if !output.status.success() {
            let said = one_line(&String::from_utf8_lossy(&output.stderr));
            let status = output
                .status
                .code()
                .map(|c| format!("exit status {c}"))
                .unwrap_or_else(|| output.status.to_string());
            return Err(self.error(if said.is_empty() {
                format!("failed ({status})")
            } else {
                format!("failed ({status}): {said}")
            }));
        }
        self.parse(&output.stdout)
    }

    fn install_hint(&self) -> String {
        self.exec
            .install_hint
            .as_deref()
            .map(one_line)
            .filter(|h| !h.is_empty())
            .map(|h| format!(" ({h})"))
            .unwrap_or_default()
    }

    fn spawn(
        &self,
    ) -> Result<impl Future<Output = std::io::Result<std::process::Output>> + use<>, PluginError>
    {
        let command = self
            .exec
            .command
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| self.error("names no command"))?;
        let mut cmd = tokio::process::Command::new(command);
        cmd.args(self.exec.args.iter().flatten());
        for var in self.exec.env.iter().flatten() {
            if let (Some(name), Some(value)) = (var.get("name"), var.get("value")) {
                cmd.env(name, value);
            }
        }
        // client-go's IfAvailable: the plugin may prompt (a device code, a
        // password) only when there is someone at a terminal to answer, and
        // then its stderr is theirs; otherwise toolbox reports what it said.
        let interactive = match self.exec.interactive_mode {
            Some(ExecInteractiveMode::Never) => false,
            Some(ExecInteractiveMode::Always) => true,
            Some(ExecInteractiveMode::IfAvailable) | None => crate::terminal::stdin_is_terminal(),
        };
        if interactive {
            cmd.stdin(Stdio::inherit()).stderr(Stdio::inherit());
        } else {
            cmd.stdin(Stdio::null()).stderr(Stdio::piped());
        }
        cmd.stdout(Stdio::piped()).kill_on_drop(true);
        let cluster = if self.exec.provide_cluster_info {
            Some(
                self.exec
                    .cluster
                    .clone()
                    .ok_or_else(|| self.error("wants cluster info the kubeconfig does not give"))?,
            )
        } else {
            None
        };
        let info = ExecCredential {
            api_version: self.exec.api_version.clone(),
            kind: "ExecCredential".into(),
            spec: Some(ExecCredentialSpec {
                interactive,
                cluster,
            }),
            status: None,
        };
        let info = serde_json::to_string(&info).map_err(|e| self.error(e.to_string()))?;
        cmd.env("KUBERNETES_EXEC_INFO", info);
        for name in self.exec.drop_env.iter().flatten() {
            cmd.env_remove(name);
        }
        Ok(cmd.output())
    }

    /// The ExecCredential on stdout. Like client-go, YAML is accepted too.
    fn parse(&self, stdout: &[u8]) -> Result<Credential, PluginError> {
        let bad = |why: String| self.error(format!("printed no ExecCredential: {why}"));
        let text = String::from_utf8_lossy(stdout);
        let credential: ExecCredential =
            serde_yaml::from_str(&text).map_err(|e| bad(one_line(&e.to_string())))?;
        if credential.kind != "ExecCredential" {
            return Err(bad(format!("kind is {:?}", credential.kind)));
        }
        let status = credential
            .status
            .ok_or_else(|| bad("it has no status".into()))?;
        let expires = status
            .expiration_timestamp
            .as_deref()
            .map(|t| t.parse::<Timestamp>())
            .transpose()
            .map_err(|e| bad(format!("bad expirationTimestamp: {e}")))?;
        match status {
            ExecCredentialStatus {
                client_certificate_data: Some(cert),
                client_key_data: Some(key),
                ..
            } => Ok(Credential::Certificate { cert, key }),
            ExecCredentialStatus {
                token: Some(token), ..
            } if !token.is_empty() => Ok(Credential::Token { token, expires }),
            _ => Err(bad(
                "its status has neither a token nor a client certificate and key".into(),
            )),
        }
    }
}

/// Puts a plugin's client certificate where kube-rs's TLS config reads it.
pub(crate) fn use_certificate(auth: &mut AuthInfo, cert: &str, key: &str) {
    let base64 = base64::engine::general_purpose::STANDARD;
    auth.client_certificate_data = Some(base64.encode(cert));
    auth.client_key_data = Some(base64.encode(key).into());
}

/// The `Authorization` of every request of one client: the plugin's token,
/// renewed by running the plugin again when it is about to expire.
#[derive(Clone)]
pub(crate) struct TokenLayer {
    plugin: Arc<ExecPlugin>,
    token: Arc<Mutex<(String, Option<Timestamp>)>>,
}

impl TokenLayer {
    pub fn new(plugin: ExecPlugin, token: String, expires: Option<Timestamp>) -> Self {
        TokenLayer {
            plugin: Arc::new(plugin),
            token: Arc::new(Mutex::new((token, expires))),
        }
    }

    async fn header(&self) -> Result<HeaderValue, PluginError> {
        let mut token = self.token.lock().await;
        if token
            .1
            .is_some_and(|expires| Timestamp::now() + RENEW_BEFORE_EXPIRY >= expires)
        {
            match self.plugin.run(None).await? {
                Credential::Token { token: t, expires } => *token = (t, expires),
                Credential::Certificate { .. } => {
                    return Err(self.plugin.error(
                        "gave a client certificate where it had given a token; run toolbox again",
                    ));
                }
            }
        }
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.0)).map_err(|_| {
            self.plugin
                .error("gave a token that is not a valid header value")
        })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl tower::filter::AsyncPredicate<Request<Body>> for TokenLayer {
    type Future = Pin<Box<dyn Future<Output = Result<Request<Body>, tower::BoxError>> + Send>>;
    type Request = Request<Body>;

    fn check(&mut self, mut request: Request<Body>) -> Self::Future {
        let layer = self.clone();
        Box::pin(async move {
            let value = layer.header().await?;
            request.headers_mut().insert(AUTHORIZATION, value);
            Ok(request)
        })
    }
}

/// Several lines of a plugin's stderr as one, so that an error stays one line.
fn one_line(text: &str) -> String {
    const MAX: usize = 400;
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    match joined.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &joined[..cut]),
        None => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(command: &str) -> ExecPlugin {
        let auth: AuthInfo = serde_json::from_value(serde_json::json!({
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": command,
                "interactiveMode": "Never",
            }
        }))
        .unwrap();
        ExecPlugin::of(&auth, "prod").unwrap()
    }

    #[test]
    fn a_stated_token_takes_precedence_over_the_plugin() {
        let auth: AuthInfo = serde_json::from_value(serde_json::json!({
            "token": "abc",
            "exec": { "command": "aws" }
        }))
        .unwrap();
        assert!(ExecPlugin::of(&auth, "prod").is_none());
    }

    #[test]
    fn the_plugin_is_named_by_its_file_name() {
        let p = plugin("/usr/local/bin/aws");
        assert_eq!(
            p.waiting_message(),
            "waiting for the credential plugin aws (users[].user.exec of context \"prod\") ..."
        );
    }

    #[test]
    fn a_token_with_its_expiry() {
        let out = br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"2030-01-02T03:04:05Z"}}"#;
        match plugin("aws").parse(out) {
            Ok(Credential::Token { token, expires }) => {
                assert_eq!(token, "t");
                assert_eq!(expires, Some("2030-01-02T03:04:05Z".parse().unwrap()));
            }
            _ => panic!("expected a token"),
        }
    }

    #[test]
    fn garbage_is_one_line_naming_the_plugin() {
        let err = match plugin("aws").parse(b"<html>\n<body>oops</body>\n</html>\n") {
            Err(err) => err.to_string(),
            Ok(_) => panic!("garbage parsed"),
        };
        assert!(
            err.starts_with("the credential plugin aws (users[].user.exec of context \"prod\") printed no ExecCredential: "),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn a_status_without_credentials_is_refused() {
        let out = br#"{"kind":"ExecCredential","status":{}}"#;
        let err = match plugin("aws").parse(out) {
            Err(err) => err.to_string(),
            Ok(_) => panic!("an empty status parsed"),
        };
        assert!(
            err.ends_with("neither a token nor a client certificate and key"),
            "{err}"
        );
    }

    #[test]
    fn stderr_becomes_one_bounded_line() {
        assert_eq!(
            one_line("\nAn error occurred\n  (ExpiredToken)\n"),
            "An error occurred (ExpiredToken)"
        );
        assert_eq!(one_line(&"x".repeat(1000)).len(), 403);
    }
}
