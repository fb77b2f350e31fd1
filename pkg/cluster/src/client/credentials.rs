//! Exec credential plugins (`users[].user.exec`: aws, gke-gcloud-auth-plugin,
//! kubelogin, ...), run once per invocation as kubectl does, and again only
//! when what they gave is about to expire or the server rejects it.
//!
//! kube-rs runs the plugin each time it asks the auth info for credentials,
//! and building one client asks three times (the auth layer, the TLS
//! identity, the client's expiry). So toolbox runs the plugin itself, once,
//! before the client is built, and keeps what it gave (a token, or a client
//! certificate and key) in [`PluginCredentials`], which every client of the
//! invocation sends through:
//! - a credential is renewed before it expires (`expirationTimestamp`);
//! - a 401 runs the plugin again, as client-go does, and the request is
//!   sent once more with the new credential.

use std::future::Future;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use http::{Request, Response, StatusCode};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Config;
use kube::client::Body;
use kube::config::{AuthInfo, ExecConfig, ExecInteractiveMode};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::error::PluginError;

/// How long a plugin may take before a terminal is told what toolbox waits for.
pub const SLOW_PLUGIN: Duration = Duration::from_secs(1);

/// A credential this close to its expiry is renewed before a request uses
/// it, as kube-rs does for tokens.
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
    Certificate {
        cert: String,
        key: String,
        expires: Option<Timestamp>,
    },
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
            } => Ok(Credential::Certificate { cert, key, expires }),
            ExecCredentialStatus {
                token: Some(token), ..
            } if !token.is_empty() => Ok(Credential::Token { token, expires }),
            _ => Err(bad(
                "its status has neither a token nor a client certificate and key".into(),
            )),
        }
    }
}

/// Builds the client that sends with the credentials a config holds.
pub(crate) type MakeClient =
    Arc<dyn Fn(&Config) -> Result<kube::Client, kube::Error> + Send + Sync>;

/// The credentials of one invocation whose user is a plugin: what it gave
/// last, shared by every client of the invocation (the command's, and one a
/// guard builds on a thread of its own to delete a pod), and run again
/// before that expires or after the server rejected it.
pub(crate) struct PluginCredentials {
    plugin: ExecPlugin,
    /// The resolved config without the plugin: a credential is written into
    /// a copy of it to build the client that sends with that credential.
    base: Config,
    issued: Mutex<Issued>,
}

/// One credential from the plugin. `generation` counts the plugin's runs,
/// so that requests rejected together run it again only once.
#[derive(Clone)]
struct Issued {
    generation: u64,
    credential: Arc<Credential>,
    renew_at: Option<Timestamp>,
}

impl Issued {
    fn new(generation: u64, credential: Credential) -> Self {
        let renew_at = credential
            .expires()
            .map(|expires| renewal_time(Timestamp::now(), expires));
        Issued {
            generation,
            credential: Arc::new(credential),
            renew_at,
        }
    }

    fn is_due(&self, now: Timestamp) -> bool {
        self.renew_at.is_some_and(|at| now >= at)
    }
}

impl Credential {
    fn expires(&self) -> Option<Timestamp> {
        match self {
            Credential::Token { expires, .. } | Credential::Certificate { expires, .. } => *expires,
        }
    }

    /// The config that sends with this credential, as kube-rs reads it: a
    /// token as a bearer token, a certificate in the TLS config.
    fn write_into(&self, config: &mut Config) {
        match self {
            Credential::Token { token, .. } => {
                config.auth_info.token = Some(token.clone().into());
            }
            Credential::Certificate { cert, key, .. } => {
                let base64 = base64::engine::general_purpose::STANDARD;
                config.auth_info.client_certificate_data = Some(base64.encode(cert));
                config.auth_info.client_key_data = Some(base64.encode(key).into());
            }
        }
    }
}

/// When a credential received at `now` is renewed: [`RENEW_BEFORE_EXPIRY`]
/// before it expires, or, for one that lives less than five times that,
/// when four fifths of its life have passed, so that a short-lived
/// certificate is not renewed on every request.
fn renewal_time(now: Timestamp, expires: Timestamp) -> Timestamp {
    let life = expires.duration_since(now);
    let margin = RENEW_BEFORE_EXPIRY.min(life / 5).max(SignedDuration::ZERO);
    expires - margin
}

impl PluginCredentials {
    /// `base` must no longer name the plugin, so that kube-rs does not run it
    /// itself; `credential` is what its first run gave.
    pub fn new(plugin: ExecPlugin, base: Config, credential: Credential) -> Arc<Self> {
        Arc::new(PluginCredentials {
            plugin,
            base,
            issued: Mutex::new(Issued::new(0, credential)),
        })
    }

    /// A client whose every request goes with the current credential,
    /// through a client that `make` builds for each credential.
    pub fn client(self: &Arc<Self>, make: MakeClient) -> kube::Client {
        let namespace = self.base.default_namespace.clone();
        kube::Client::new(
            RenewingService {
                credentials: self.clone(),
                make,
                sender: Arc::new(std::sync::Mutex::new(None)),
            },
            namespace,
        )
    }

    /// The credential to send with now, the plugin run again first if it
    /// is about to expire.
    async fn current(&self) -> Result<Issued, PluginError> {
        let mut issued = self.issued.lock().await;
        if issued.is_due(Timestamp::now()) {
            *issued = Issued::new(issued.generation + 1, self.plugin.run(None).await?);
        }
        Ok(issued.clone())
    }

    /// After the server answered 401 to the credential of `rejected`: the
    /// plugin run again, as client-go does, unless a request rejected at the
    /// same time already did.
    async fn after_rejection(&self, rejected: u64) -> Result<Issued, PluginError> {
        let mut issued = self.issued.lock().await;
        if issued.generation == rejected {
            *issued = Issued::new(rejected + 1, self.plugin.run(None).await?);
        }
        Ok(issued.clone())
    }
}

/// Sends each request through the client of the current credential, and
/// once more after a 401 with the plugin's next one.
///
/// Each credential gets a client of its own, so a renewed client
/// certificate goes into new TLS connections (the server checks a
/// certificate's expiry on every request of a connection); streams open on
/// the old ones (an exec, a watch) go on until they end.
#[derive(Clone)]
struct RenewingService {
    credentials: Arc<PluginCredentials>,
    make: MakeClient,
    /// The client of the latest credential this service sent with. Made on
    /// the runtime of its first request, which its connections then live on.
    sender: Arc<std::sync::Mutex<Option<(u64, kube::Client)>>>,
}

impl RenewingService {
    fn sender_for(&self, issued: &Issued) -> Result<kube::Client, kube::Error> {
        let mut sender = self.sender.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((generation, client)) = sender.as_ref()
            && *generation == issued.generation
        {
            return Ok(client.clone());
        }
        let mut config = self.credentials.base.clone();
        issued.credential.write_into(&mut config);
        let client = (self.make)(&config)?;
        *sender = Some((issued.generation, client.clone()));
        Ok(client)
    }

    async fn send(self, request: Request<Body>) -> Result<Response<Body>, tower::BoxError> {
        let issued = self.credentials.current().await?;
        // Only a body held in memory can be sent twice; kube-rs's requests,
        // a watch's and an exec's upgrade among them, all have one.
        let again = resendable_copy(&request);
        let response = self.sender_for(&issued)?.send(request).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let renewed = self.credentials.after_rejection(issued.generation).await?;
        match again {
            Some(request) => Ok(self.sender_for(&renewed)?.send(request).await?),
            None => Ok(response),
        }
    }
}

/// The same request again, when its body can be sent twice.
pub(crate) fn resendable_copy(request: &Request<Body>) -> Option<Request<Body>> {
    let mut copy = Request::new(request.body().try_clone()?);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

impl tower::Service<Request<Body>> for RenewingService {
    type Response = Response<Body>;
    type Error = tower::BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, tower::BoxError>> + Send>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        // Each request waits for its own client to be ready, in `send`.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        Box::pin(self.clone().send(request))
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
    fn a_credential_is_renewed_a_minute_before_it_expires_or_at_four_fifths_of_a_short_life() {
        let now: Timestamp = "2030-01-01T00:00:00Z".parse().unwrap();
        let at = |secs| now + SignedDuration::from_secs(secs);
        assert_eq!(renewal_time(now, at(3600)), at(3540));
        assert_eq!(renewal_time(now, at(10)), at(8));
        assert_eq!(
            renewal_time(now, at(-5)),
            at(-5),
            "already expired: renewed now"
        );
    }

    #[test]
    fn a_request_with_its_body_in_memory_is_copied_whole_for_a_resend() {
        let mut request = Request::post("https://server/api/v1/namespaces/ns/pods")
            .header("content-type", "application/json")
            .body(Body::from(b"{}".to_vec()))
            .unwrap();
        request.extensions_mut().insert("create");
        let copy = resendable_copy(&request).expect("a body in memory can be resent");
        assert_eq!(copy.method(), request.method());
        assert_eq!(copy.uri(), request.uri());
        assert_eq!(copy.headers(), request.headers());
        assert_eq!(copy.extensions().get::<&str>(), Some(&"create"));
    }

    /// A plugin script that prints `token` with `expires`, and counts its runs.
    fn counting_plugin(dir: &std::path::Path, token: &str) -> (ExecPlugin, std::path::PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let runs = dir.join("runs");
        let script = dir.join("cloud-auth");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho run >> '{}'\nsleep 0.2\necho '{{\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n",
                runs.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        (plugin(script.to_str().unwrap()), runs)
    }

    fn runs(path: &std::path::Path) -> usize {
        std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
    }

    fn token_of(issued: &Issued) -> &str {
        match issued.credential.as_ref() {
            Credential::Token { token, .. } => token,
            Credential::Certificate { .. } => panic!("expected a token"),
        }
    }

    fn scratch_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("toolbox-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[tokio::test]
    async fn requests_rejected_together_run_the_plugin_once() {
        let dir = scratch_dir("rejected-together");
        let (plugin, ran) = counting_plugin(&dir, "second");
        let first = Credential::Token {
            token: "first".into(),
            expires: None,
        };
        let config = Config::new("https://server".parse().unwrap());
        let credentials = PluginCredentials::new(plugin, config, first);
        let (a, b) = tokio::join!(
            credentials.after_rejection(0),
            credentials.after_rejection(0)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!((a.generation, b.generation), (1, 1));
        assert_eq!((token_of(&a), token_of(&b)), ("second", "second"));
        assert_eq!(runs(&ran), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn an_expired_credential_is_renewed_before_it_is_used() {
        let dir = scratch_dir("about-to-expire");
        let (plugin, ran) = counting_plugin(&dir, "second");
        let first = Credential::Token {
            token: "first".into(),
            expires: Some(Timestamp::now() - SignedDuration::from_secs(1)),
        };
        let config = Config::new("https://server".parse().unwrap());
        let credentials = PluginCredentials::new(plugin, config, first);
        let issued = credentials.current().await.unwrap();
        assert_eq!((issued.generation, token_of(&issued)), (1, "second"));
        let again = credentials.current().await.unwrap();
        assert_eq!(again.generation, 1, "the new one has no expiry: kept");
        assert_eq!(runs(&ran), 1);
        let _ = std::fs::remove_dir_all(&dir);
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
