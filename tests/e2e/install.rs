//! `make install` into a scratch PREFIX, then toolbox as kubectl runs it:
//! `kubectl toolbox …` names itself so, and kubectl's own completion
//! (`kubectl __complete toolbox …`) offers the cluster's nodes through
//! `kubectl_complete-toolbox`.

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::{
    NodeSpec, TestNs, cluster, random_suffix, repo_root, stderr_of, stdout_of, toolbox_bin,
};

/// `make install-files` of the binary under test into a fresh PREFIX.
fn install() -> PathBuf {
    let prefix = std::env::temp_dir().join(format!("toolbox-install-{}", random_suffix()));
    let out = Command::new("make")
        .args(["-s", "--no-print-directory", "install-files"])
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("TOOLBOX_BIN={}", toolbox_bin().display()))
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = stdout_of(&out);
    assert!(
        said.contains(&format!("Installed into {}", prefix.display())),
        "{said}"
    );
    assert!(said.contains("fpath+="), "how to enable completion: {said}");
    prefix
}

/// The cluster's kubectl with PREFIX/bin first on PATH, as the admin.
fn kubectl(ns: &TestNs, prefix: &Path) -> assert_cmd::Command {
    // No -n before the plugin's name: kubectl refuses flags there.
    let env = cluster();
    let mut cmd = assert_cmd::Command::new(&env.kubectl);
    cmd.env("KUBECONFIG", &env.kubeconfig)
        .timeout(std::time::Duration::from_secs(60));
    let path = format!(
        "{}:{}",
        prefix.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path).env("TOOLBOX_NAMESPACE", &ns.name);
    cmd
}

#[tokio::test]
async fn make_install_puts_everything_in_place_and_kubectl_runs_and_completes_the_plugin() {
    let mut ns = TestNs::new("install").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let prefix = install();
    let mut expected: Vec<String> = [
        "bin/toolbox",
        "bin/kubectl-toolbox",
        "bin/kubectl_complete-toolbox",
        "share/bash-completion/completions/toolbox",
        "share/zsh/site-functions/_toolbox",
        "share/fish/vendor_completions.d/toolbox.fish",
    ]
    .map(String::from)
    .to_vec();
    for page in std::fs::read_dir(repo_root().join("man")).unwrap() {
        let name = page.unwrap().file_name().to_string_lossy().into_owned();
        expected.push(format!("share/man/man1/{name}"));
    }
    assert!(expected.contains(&"share/man/man1/toolbox-node-shell.1".to_string()));
    for file in &expected {
        assert!(prefix.join(file).exists(), "{file} was not installed");
    }
    // The completion scripts ask the installed binary, for live values.
    let installed = prefix.join("bin/toolbox");
    for script in [
        "share/bash-completion/completions/toolbox",
        "share/zsh/site-functions/_toolbox",
        "share/fish/vendor_completions.d/toolbox.fish",
    ] {
        let text = std::fs::read_to_string(prefix.join(script)).unwrap();
        assert!(
            text.contains(&installed.display().to_string()) && text.contains("COMPLETE="),
            "{script}:\n{text}"
        );
    }

    // kubectl toolbox … names itself as typed.
    let help = kubectl(&ns, &prefix)
        .args(["toolbox", "node-shell", "--help"])
        .output()
        .unwrap();
    assert_eq!(help.status.code(), Some(0), "{}", stderr_of(&help));
    assert!(
        stdout_of(&help).contains("Usage: kubectl toolbox node-shell"),
        "{}",
        stdout_of(&help)
    );
    let wrong = kubectl(&ns, &prefix)
        .args(["toolbox", "node-shell", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr_of(&wrong).contains("Usage: kubectl toolbox node-shell"),
        "{}",
        stderr_of(&wrong)
    );

    // kubectl's own completion goes through kubectl_complete-toolbox.
    let completed = kubectl(&ns, &prefix)
        .args(["__complete", "toolbox", "node-shell", ""])
        .output()
        .unwrap();
    assert_eq!(
        completed.status.code(),
        Some(0),
        "{}",
        stderr_of(&completed)
    );
    let lines = stdout_of(&completed);
    assert!(
        lines.lines().any(|l| l.starts_with(&format!("{node}\t"))),
        "{node} not offered:\n{lines}"
    );
    assert!(lines.lines().any(|l| l == ":4"), "no directive:\n{lines}");
    let subcommands = kubectl(&ns, &prefix)
        .args(["__complete", "toolbox", "no"])
        .output()
        .unwrap();
    assert!(
        stdout_of(&subcommands)
            .lines()
            .any(|l| l.starts_with("node-shell\t")),
        "{}",
        stdout_of(&subcommands)
    );

    let out = Command::new("make")
        .args(["-s", "--no-print-directory", "uninstall"])
        .arg(format!("PREFIX={}", prefix.display()))
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    for file in &expected {
        assert!(
            !prefix.join(file).exists(),
            "{file} was left by make uninstall"
        );
    }
    let _ = std::fs::remove_dir_all(&prefix);
    ns.finish().await;
}
