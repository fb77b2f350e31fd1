//! Exec credential plugins (`users[].user.exec`, as in EKS, GKE and AKS
//! kubeconfigs): toolbox runs the plugin once per invocation, as kubectl
//! does, and a plugin that fails is one line that names it.

use std::path::PathBuf;
use std::time::Duration;

use harness::{TestNs, random_suffix, stderr_of};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::config::Kubeconfig;

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
    use expectrl::{Eof, Expect, Session};
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
        let mut session = Session::spawn(cmd).expect("spawning toolbox on a pty");
        session.set_expect_timeout(Some(Duration::from_secs(60)));
        session
            .expect(
                "waiting for the credential plugin slow-auth (users[].user.exec of context \"cloud\") ...",
            )
            .expect("a line on the terminal saying what toolbox waits for");
        session.expect(Eof).expect("the session to end");
        session.get_process().wait().expect("toolbox's exit status")
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
    assert_eq!(plugin.runs(), 1);
    ns.finish().await;
}
