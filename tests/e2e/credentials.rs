//! Exec credential plugins (`users[].user.exec`, as in EKS, GKE and AKS
//! kubeconfigs): toolbox runs the plugin once per invocation, as kubectl
//! does, again when what it gave expires or the server stops accepting it,
//! and a plugin that fails is one line that names it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures::FutureExt;
use harness::{
    NodeSpec, TestNs, random_suffix, spawn_on_pty, start_session, stderr_of, wait_for_pty_end,
    wait_until,
};
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

/// A kubeconfig whose user is a plugin script, and the file that counts its runs.
struct Plugin {
    dir: PathBuf,
    kubeconfig: PathBuf,
    counter: PathBuf,
}

impl Plugin {
    /// `name` is the script's file name, which toolbox's messages use;
    /// `body` is shell run after the run is counted.
    fn new(ns: &TestNs, name: &str, body: &str) -> Plugin {
        let dir = std::env::temp_dir().join(format!("{}-plugin-{}", ns.name, random_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let counter = dir.join("runs");
        let script = dir.join(name);
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho run >> '{}'\n{body}\n", counter.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {}\n    certificate-authority: {}\ncontexts:\n- name: cloud\n  context:\n    cluster: local\n    user: cloud-user\ncurrent-context: cloud\nusers:\n- name: cloud-user\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
                ns.env.server,
                ns.env.dir.join("state/pki/ca.crt").display(),
                script.display()
            ),
        )
        .unwrap();
        Plugin {
            dir,
            kubeconfig,
            counter,
        }
    }

    /// A plugin that prints an ExecCredential with this token, valid for an hour.
    fn giving(ns: &TestNs, name: &str, token: &str, before: &str) -> Plugin {
        let expires = Timestamp::now() + SignedDuration::from_hours(1);
        let credential = serde_json::json!({
            "apiVersion": "client.authentication.k8s.io/v1",
            "kind": "ExecCredential",
            "status": { "token": token, "expirationTimestamp": expires.to_string() }
        });
        Plugin::new(
            ns,
            name,
            &format!("{before}\nprintf '%s\\n' '{credential}'"),
        )
    }

    /// A plugin whose first run prints the first of these ExecCredential
    /// statuses, its second run the second, and so on; the last one after that.
    fn handing_out(ns: &TestNs, name: &str, statuses: &[Value]) -> Plugin {
        let plugin = Plugin::new(
            ns,
            name,
            &format!(
                "d=$(dirname \"$0\")\nn=$(wc -l < \"$d/runs\")\n[ \"$n\" -gt {last} ] && n={last}\ncat \"$d/issued-$n.json\"",
                last = statuses.len()
            ),
        );
        for (i, status) in statuses.iter().enumerate() {
            let credential = json!({
                "apiVersion": "client.authentication.k8s.io/v1",
                "kind": "ExecCredential",
                "status": status,
            });
            std::fs::write(
                plugin.dir.join(format!("issued-{}.json", i + 1)),
                credential.to_string(),
            )
            .unwrap();
        }
        plugin
    }

    fn runs(&self) -> usize {
        std::fs::read_to_string(&self.counter)
            .map(|text| text.lines().count())
            .unwrap_or(0)
    }

    fn reset(&self) {
        let _ = std::fs::remove_file(&self.counter);
    }

    fn toolbox(&self, ns: &TestNs, args: &[&str]) -> std::process::Output {
        self.reset();
        ns.toolbox()
            .env("KUBECONFIG", &self.kubeconfig)
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The admin's token in the local cluster's kubeconfig.
fn admin_token(ns: &TestNs) -> String {
    let kubeconfig = Kubeconfig::read_from(&ns.env.kubeconfig).unwrap();
    let users = serde_json::to_value(&kubeconfig.auth_infos).unwrap();
    users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "admin")
        .and_then(|u| u["user"]["token"].as_str())
        .expect("the local kubeconfig's admin has a token")
        .to_string()
}

fn assert_one_line(out: &std::process::Output) -> String {
    let stderr = stderr_of(out);
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(
        stderr.starts_with("error: ") && !stderr.contains("Error {") && !stderr.contains("[1"),
        "{stderr:?}"
    );
    stderr.trim_end().to_string()
}

#[tokio::test]
async fn the_plugin_runs_once_per_invocation() {
    let ns = TestNs::new("creds-once").await;
    let plugin = Plugin::giving(&ns, "cloud-auth", &admin_token(&ns), "");
    let commands: [&[&str]; 4] = [
        &["node-shell", "node-0001", "--", "true"],
        &[
            "debug-node",
            "node-0001",
            "--image",
            "busybox",
            "--",
            "true",
        ],
        &["compare", "node-0001"],
        &["cleanup", "-n", &ns.name, "--dry-run"],
    ];
    for args in commands {
        let out = plugin.toolbox(&ns, args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr_of(&out));
        assert_eq!(plugin.runs(), 1, "{args:?} ran the plugin more than once");
    }
    ns.finish().await;
}

#[tokio::test]
async fn a_slow_plugin_is_named_on_a_terminal_and_still_runs_once() {
    use expectrl::Expect;
    let ns = TestNs::new("creds-slow").await;
    let plugin = Plugin::giving(&ns, "slow-auth", &admin_token(&ns), "sleep 2");

    let out = plugin.toolbox(&ns, &["node-shell", "node-0001", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(plugin.runs(), 1);
    assert_eq!(
        stderr_of(&out),
        "",
        "no terminal, so no word of what toolbox waits for"
    );

    plugin.reset();
    let mut cmd = ns.toolbox_process();
    cmd.env("KUBECONFIG", &plugin.kubeconfig)
        .args(["node-shell", "node-0001", "--", "true"]);
    let status = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(cmd, Duration::from_secs(60));
        session
            .expect(
                "waiting for the credential plugin slow-auth (users[].user.exec of context \"cloud\") ...",
            )
            .expect("a line on the terminal saying what toolbox waits for");
        wait_for_pty_end(&mut session)
    })
    .await
    .unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    assert_eq!(plugin.runs(), 1);
    ns.finish().await;
}

#[tokio::test]
async fn a_failing_plugin_is_one_line_with_its_message() {
    let ns = TestNs::new("creds-fail").await;
    let plugin = Plugin::new(
        &ns,
        "cloud-auth",
        "echo 'Error: the SSO session has expired' >&2\necho 'run: cloud login' >&2\nexit 1",
    );
    let out = plugin.toolbox(&ns, &["node-shell", "node-0001", "--", "true"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert_eq!(
        assert_one_line(&out),
        "error: the credential plugin cloud-auth (users[].user.exec of context \"cloud\") failed (exit status 1): Error: the SSO session has expired run: cloud login"
    );
    assert_eq!(plugin.runs(), 1);
    ns.finish().await;
}

#[tokio::test]
async fn a_plugin_printing_garbage_is_one_line() {
    let ns = TestNs::new("creds-garbage").await;
    let plugin = Plugin::new(
        &ns,
        "cloud-auth",
        "echo '<html>'\necho 'Service Unavailable'",
    );
    let out = plugin.toolbox(&ns, &["node-shell", "node-0001", "--", "true"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    let line = assert_one_line(&out);
    assert!(
        line.starts_with(
            "error: the credential plugin cloud-auth (users[].user.exec of context \"cloud\") printed no ExecCredential: "
        ),
        "{line}"
    );
    assert_eq!(plugin.runs(), 1);
    ns.finish().await;
}

#[tokio::test]
async fn a_token_the_server_refuses_is_rejected_credentials() {
    let ns = TestNs::new("creds-refused").await;
    let plugin = Plugin::giving(&ns, "cloud-auth", "not-a-token-of-this-cluster", "");
    let out = plugin.toolbox(&ns, &["node-shell", "node-0001", "--", "true"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
    assert_eq!(
        assert_one_line(&out),
        "error: the API server of context \"cloud\" rejected the credentials (401 Unauthorized): they may have expired; log in again and retry"
    );
    assert_eq!(
        plugin.runs(),
        2,
        "run once more after the 401, and the resent request refused too"
    );
    ns.finish().await;
}

/// A kubeconfig's `users[].user` for `kube::Client`s of the test's own:
/// to ask whether the server still accepts a credential the plugin gives.
async fn client_as(ns: &TestNs, user: Value) -> kube::Client {
    let kubeconfig: Kubeconfig = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "local", "cluster": {
            "server": ns.env.server,
            "certificate-authority": ns.env.dir.join("state/pki/ca.crt"),
        }}],
        "users": [{ "name": "probe", "user": user }],
        "contexts": [{ "name": "probe", "context": { "cluster": "local", "user": "probe" } }],
        "current-context": "probe",
    }))
    .unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// Whether the server answers this client's credential with 401.
async fn refused(client: &kube::Client) -> bool {
    matches!(
        client.apiserver_version().await,
        Err(kube::Error::Api(status)) if status.code == 401
    )
}

/// The HTTP codes of the pod requests in `ns`'s namespace that the audit
/// log recorded, as (verb, code), in order: a 401 is logged too.
fn pod_requests(ns: &TestNs) -> Vec<(String, i64)> {
    let text = std::fs::read_to_string(&ns.env.audit_log).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|e| {
            e["stage"] != "RequestReceived"
                && e["requestURI"].as_str().is_some_and(|uri| {
                    uri.starts_with(&format!("/api/v1/namespaces/{}/pods", ns.name))
                })
        })
        .map(|e| {
            (
                e["verb"].as_str().unwrap_or_default().to_string(),
                e["responseStatus"]["code"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

/// A node-shell session whose command prints `start`, then waits until the
/// test creates `released`, then prints `end`.
fn waiting_session(
    ns: &TestNs,
    plugin: &Plugin,
    node: &str,
    released: &Path,
) -> std::process::Command {
    let mut toolbox = ns.toolbox_process();
    toolbox.env("KUBECONFIG", &plugin.kubeconfig).args([
        "node-shell",
        node,
        "--",
        "sh",
        "-c",
        &format!(
            "echo start; while [ ! -e '{}' ]; do sleep 0.1; done; echo end",
            released.display()
        ),
    ]);
    toolbox
}

/// A service account of the test's namespace that may do anything, whose
/// tokens are bound to Secrets: deleting one revokes its token on the
/// server, as an identity provider revokes a session.
struct CloudAccount {
    name: String,
    binding: String,
    admin: kube::Client,
    namespace: String,
}

impl CloudAccount {
    async fn new(ns: &TestNs) -> CloudAccount {
        let name = "cloud-user".to_string();
        let accounts: Api<ServiceAccount> = Api::namespaced(ns.admin.clone(), &ns.name);
        accounts
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({ "metadata": { "name": name } })).unwrap(),
            )
            .await
            .expect("creating the service account");
        let binding = format!("{}-cloud-user", ns.name);
        let role_binding: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": { "name": binding },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin" },
            "subjects": [{ "kind": "ServiceAccount", "name": name, "namespace": ns.name }]
        }))
        .unwrap();
        Api::<ClusterRoleBinding>::all(ns.admin.clone())
            .create(&PostParams::default(), &role_binding)
            .await
            .expect("binding the service account");
        CloudAccount {
            name,
            binding,
            admin: ns.admin.clone(),
            namespace: ns.name.clone(),
        }
    }

    /// A token valid for an hour, unless the Secret `secret` goes first.
    async fn token_bound_to(&self, secret: &str) -> String {
        let secrets: Api<Secret> = Api::namespaced(self.admin.clone(), &self.namespace);
        let created = secrets
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({ "metadata": { "name": secret } })).unwrap(),
            )
            .await
            .expect("creating the Secret a token is bound to");
        let request: TokenRequest = serde_json::from_value(json!({ "spec": {
            "audiences": [],
            "expirationSeconds": 3600,
            "boundObjectRef": { "apiVersion": "v1", "kind": "Secret", "name": secret, "uid": created.metadata.uid },
        }}))
        .unwrap();
        Api::<ServiceAccount>::namespaced(self.admin.clone(), &self.namespace)
            .create_token_request(&self.name, &PostParams::default(), &request)
            .await
            .expect("a token for the service account")
            .status
            .and_then(|status| status.token)
            .expect("a token")
    }

    async fn revoke(&self, secret: &str) {
        Api::<Secret>::namespaced(self.admin.clone(), &self.namespace)
            .delete(secret, &DeleteParams::default())
            .await
            .expect("deleting the Secret a token is bound to");
    }

    async fn remove(self) {
        let _ = Api::<ClusterRoleBinding>::all(self.admin.clone())
            .delete(&self.binding, &DeleteParams::default())
            .await;
    }
}

#[tokio::test]
async fn a_token_revoked_mid_session_runs_the_plugin_again_and_the_request_is_sent_once_more() {
    let mut ns = TestNs::new("creds-revoked").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let account = CloudAccount::new(&ns).await;
    let test = std::panic::AssertUnwindSafe(async {
        let first = account.token_bound_to("first").await;
        let second = account.token_bound_to("second").await;
        let plugin = Plugin::handing_out(
            &ns,
            "cloud-auth",
            &[json!({ "token": first }), json!({ "token": second })],
        );
        let released = plugin.dir.join("released");
        let session = start_session(
            waiting_session(&ns, &plugin, &node, &released),
            Stdio::null(),
            "start",
        );

        account.revoke("first").await;
        let probe = client_as(&ns, json!({ "token": first })).await;
        wait_until(
            Duration::from_secs(30),
            "the server to refuse the first token",
            || refused(&probe),
        )
        .await;
        std::fs::write(&released, "").unwrap();
        let end = session.end(Duration::from_secs(60));

        assert_eq!(end.status.code(), Some(0), "{}", end.stderr);
        assert_eq!(end.rest, "end\n");
        assert_eq!(end.stderr, "", "nothing to say");
        assert_eq!(plugin.runs(), 2, "once at the start, once after the 401");
        let deletes: Vec<i64> = pod_requests(&ns)
            .into_iter()
            .filter(|(verb, _)| verb == "delete")
            .map(|(_, code)| code)
            .collect();
        assert_eq!(deletes, [401, 200], "the refused deletion, sent once more");
    })
    .catch_unwind()
    .await;
    account.remove().await;
    if let Err(panic) = test {
        std::panic::resume_unwind(panic);
    }
    ns.finish().await;
}

/// Client certificates signed with the local cluster's CA, for whatever
/// lifetime a test wants (a CSR's `expirationSeconds` can be no shorter
/// than ten minutes). Version 3, with extensions: rustls refuses a
/// version 1 certificate, which `openssl ca` makes without them.
struct Signer {
    dir: PathBuf,
}

/// A certificate for a member of system:masters, and when it expires.
struct Issued {
    cert: PathBuf,
    key: PathBuf,
    not_after: Timestamp,
}

impl Signer {
    fn new(ns: &TestNs) -> Signer {
        let dir = std::env::temp_dir().join(format!("{}-signer-{}", ns.name, random_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let pki = ns.env.dir.join("state/pki");
        std::fs::write(
            dir.join("ca.cnf"),
            format!(
                "[ca]\ndefault_ca = signer\n[signer]\ndatabase = index.txt\nnew_certs_dir = .\ncertificate = {}\nprivate_key = {}\ndefault_md = sha256\npolicy = anything\nrand_serial = yes\nunique_subject = no\nx509_extensions = client\n[anything]\norganizationName = optional\ncommonName = supplied\n[client]\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = clientAuth\n",
                pki.join("ca.crt").display(),
                pki.join("ca.key").display()
            ),
        )
        .unwrap();
        std::fs::write(dir.join("index.txt"), "").unwrap();
        Signer { dir }
    }

    fn openssl(&self, args: &[&str]) {
        let out = std::process::Command::new("openssl")
            .current_dir(&self.dir)
            .args(args)
            .output()
            .expect("running openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            stderr_of(&out)
        );
    }

    /// A certificate valid for `life` from now, named `name`.
    fn issue(&self, name: &str, life: SignedDuration) -> Issued {
        let asn1 = |t: Timestamp| t.strftime("%Y%m%d%H%M%SZ").to_string();
        let now = Timestamp::now();
        // Whole seconds, as the certificate says it.
        let not_after = Timestamp::from_second((now + life).as_second()).unwrap();
        let (cert, key, csr) = (
            format!("{name}.crt"),
            format!("{name}.key"),
            format!("{name}.csr"),
        );
        self.openssl(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-subj",
            "/O=system:masters/CN=toolbox-e2e-cloud-user",
            "-out",
            &csr,
        ]);
        self.openssl(&[
            "ca",
            "-batch",
            "-notext",
            "-config",
            "ca.cnf",
            "-in",
            &csr,
            "-out",
            &cert,
            "-startdate",
            &asn1(now - SignedDuration::from_mins(1)),
            "-enddate",
            &asn1(not_after),
        ]);
        Issued {
            cert: self.dir.join(cert),
            key: self.dir.join(key),
            not_after,
        }
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Issued {
    fn status(&self) -> Value {
        json!({
            "clientCertificateData": std::fs::read_to_string(&self.cert).unwrap(),
            "clientKeyData": std::fs::read_to_string(&self.key).unwrap(),
            "expirationTimestamp": self.not_after.to_string(),
        })
    }
}

#[tokio::test]
async fn a_client_certificate_is_renewed_before_it_expires() {
    let mut ns = TestNs::new("creds-cert").await;
    let node = ns.node("n", NodeSpec::default()).await;
    // Built first, so that the first certificate's 15 s are the session's.
    harness::toolbox_bin();
    let signer = Signer::new(&ns);
    let short = signer.issue("short", SignedDuration::from_secs(15));
    let long = signer.issue("long", SignedDuration::from_hours(1));
    let plugin = Plugin::handing_out(&ns, "cloud-auth", &[short.status(), long.status()]);
    let released = plugin.dir.join("released");
    let session = start_session(
        waiting_session(&ns, &plugin, &node, &released),
        Stdio::null(),
        "start",
    );

    assert!(
        Timestamp::now() < short.not_after,
        "the session started with the first certificate"
    );
    // The session's next requests come after the first certificate has
    // expired, which the server then refuses.
    let probe = client_as(
        &ns,
        json!({ "client-certificate": short.cert, "client-key": short.key }),
    )
    .await;
    wait_until(
        Duration::from_secs(30),
        "the first certificate to expire",
        || refused(&probe),
    )
    .await;
    std::fs::write(&released, "").unwrap();
    let end = session.end(Duration::from_secs(60));

    assert_eq!(end.status.code(), Some(0), "{}", end.stderr);
    assert_eq!(end.rest, "end\n");
    assert_eq!(plugin.runs(), 2, "the first certificate, then its renewal");
    let requests = pod_requests(&ns);
    assert!(
        requests.iter().all(|(_, code)| *code != 401),
        "renewed before it expired, not after a 401: {requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|(verb, code)| verb == "delete" && *code == 200),
        "{requests:?}"
    );
    ns.finish().await;
}
