//! `toolbox version` and `--version`: the build's commit, the Kubernetes API
//! it was built against, the cluster's version when it answers, and a quick
//! exit 0 without a server when it does not.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{TestNs, random_suffix, stderr_of, stdout_of, toolbox_bin, wait_with_timeout};
use serde_json::Value;

fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The clientVersion every build must report, checked in full.
fn assert_client_version(version: &Value) {
    let client = &version["clientVersion"];
    let commit = client["gitCommit"].as_str().unwrap_or_default();
    assert!(is_commit(commit), "gitCommit names the commit: {version}");
    assert!(
        matches!(client["gitTreeState"].as_str(), Some("clean" | "dirty")),
        "{version}"
    );
    assert_eq!(
        client["gitVersion"],
        format!("v{}", env!("CARGO_PKG_VERSION")),
        "{version}"
    );
    assert!(
        client["kubernetesApiVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("v1.")),
        "{version}"
    );
    for key in ["buildDate", "rustcVersion", "platform"] {
        assert!(
            client[key].as_str().is_some_and(|v| !v.is_empty()),
            "clientVersion.{key}: {version}"
        );
    }
}

#[tokio::test]
async fn version_names_the_build_and_the_clusters_version() {
    let ns = TestNs::new("version").await;
    let out = ns
        .toolbox()
        .args(["version", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_client_version(&json);
    assert_eq!(
        json["serverVersion"]["gitVersion"],
        ns.env.version.as_str(),
        "{json}"
    );
    assert_eq!(json["serverVersion"]["major"], "1", "{json}");

    let out = ns
        .toolbox()
        .args(["version", "-o", "yaml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let yaml: Value = serde_yaml::from_slice(&out.stdout).unwrap();
    assert_eq!(yaml["clientVersion"], json["clientVersion"]);
    assert_eq!(yaml["serverVersion"], json["serverVersion"]);

    let out = ns.toolbox().arg("version").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let commit = json["clientVersion"]["gitCommit"].as_str().unwrap();
    assert!(
        text.starts_with(&format!("toolbox version {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains(commit), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("server:") && l.ends_with(&ns.env.version)),
        "{text}"
    );
    ns.finish().await;
}

#[test]
fn dash_dash_version_names_the_commit() {
    let out = Command::new(toolbox_bin())
        .arg("--version")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let commit_line = text
        .lines()
        .find_map(|l| l.strip_prefix("commit: "))
        .unwrap_or_else(|| panic!("no commit line in --version: {text}"));
    let commit = commit_line.trim_end_matches(" (dirty)");
    assert!(is_commit(commit), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("kubernetes api: v1.")),
        "{text}"
    );
}

/// A scratch folder for one test: HOME, and the kubeconfig if any.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("toolbox-{test}-{}", random_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn kubeconfig_for(dir: &Path, server: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\n\
             clusters:\n- name: c\n  cluster:\n    server: {server}\n    insecure-skip-tls-verify: true\n\
             users:\n- name: u\n  user:\n    token: t\n\
             contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
             current-context: c\n"
        ),
    )
    .unwrap();
    path
}

/// `toolbox version -o json` with only this HOME and KUBECONFIG: it must
/// exit 0 within 5 s and report no server.
fn version_without_a_server(home: &Path, kubeconfig: Option<&Path>) {
    let mut cmd = Command::new(toolbox_bin());
    cmd.args(["version", "-o", "json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(kubeconfig) = kubeconfig {
        cmd.env("KUBECONFIG", kubeconfig);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let status = wait_with_timeout(&mut child, Duration::from_secs(5));
    let took = started.elapsed();
    let out = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "{status} after {took:?}: {}",
        stderr_of(&out)
    );
    let json: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout_of(&out)));
    assert_client_version(&json);
    assert!(json.get("serverVersion").is_none(), "{json}");
    assert!(
        stderr_of(&out).is_empty(),
        "no server is not an error: {}",
        stderr_of(&out)
    );
}

#[test]
fn a_refused_connection_leaves_out_the_server() {
    let dir = scratch("version-refused");
    let kubeconfig = kubeconfig_for(&dir, "https://127.0.0.1:1");
    version_without_a_server(&dir, Some(&kubeconfig));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A server that takes the connection and never answers must not hold
/// `version` up: the kernel completes the handshake, nobody accepts it.
#[test]
fn a_server_that_never_answers_leaves_out_the_server() {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = format!("https://{}", silent.local_addr().unwrap());
    let dir = scratch("version-silent");
    let kubeconfig = kubeconfig_for(&dir, &server);
    version_without_a_server(&dir, Some(&kubeconfig));
    drop(silent);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_kubeconfig_at_all_leaves_out_the_server() {
    let dir = scratch("version-no-kubeconfig");
    version_without_a_server(&dir, None);
    std::fs::remove_dir_all(&dir).unwrap();
}
