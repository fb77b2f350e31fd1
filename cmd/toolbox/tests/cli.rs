//! The command line without a cluster: help text, bad flags, bad settings and
//! unusable kubeconfigs, each with its documented exit code and one clear line.

use std::path::PathBuf;

use assert_cmd::Command;

fn toolbox() -> Command {
    let mut cmd = Command::cargo_bin("toolbox").expect("the toolbox binary");
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", scratch_dir("home"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100");
    cmd
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("toolbox-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn help(args: &[&str]) -> String {
    let out = toolbox().args(args).arg("--help").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("help", help(&[]));
    insta::assert_snapshot!("help_node_shell", help(&["node-shell"]));
    insta::assert_snapshot!("help_config", help(&["config"]));
    insta::assert_snapshot!("help_completion", help(&["completion"]));
    insta::assert_snapshot!("help_debug_node", help(&["debug-node"]));
    insta::assert_snapshot!("help_dump", help(&["dump"]));
    insta::assert_snapshot!("help_cleanup", help(&["cleanup"]));
    insta::assert_snapshot!("help_compare", help(&["compare"]));
    insta::assert_snapshot!("help_logs", help(&["logs"]));
    insta::assert_snapshot!("help_policy", help(&["policy"]));
    insta::assert_snapshot!("help_version", help(&["version"]));
    insta::assert_snapshot!("help_cp", help(&["cp"]));
    insta::assert_snapshot!("help_sessions", help(&["sessions"]));
    insta::assert_snapshot!("help_sessions_list", help(&["sessions", "list"]));
    insta::assert_snapshot!("help_sessions_get", help(&["sessions", "get"]));
    insta::assert_snapshot!("help_sessions_play", help(&["sessions", "play"]));
}

#[test]
fn unknown_flags_and_bad_values_are_usage_errors() {
    let out = toolbox()
        .args(["node-shell", "n1", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unexpected argument '--bogus'"),
        "{}",
        stderr(&out)
    );

    let out = toolbox()
        .args(["node-shell", "n1", "--ttl", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'soon' for '--ttl <DURATION>'"),
        "{}",
        stderr(&out)
    );

    let out = toolbox()
        .args(["node-shell", "n1", "--image-pull-policy", "Sometimes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let out = toolbox().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_settings_name_the_key_the_file_and_what_is_allowed() {
    let dir = scratch_dir("settings");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "ttl = \"1h\"\nimagee = \"alpine\"\n").unwrap();
    let out = toolbox()
        .args(["--config", file.to_str().unwrap(), "config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains(file.to_str().unwrap())
            && text.contains("imagee")
            && text.contains("expected one of"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");

    let out = toolbox()
        .env("TOOLBOX_TTL", "forever")
        .arg("config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("TOOLBOX_TTL"), "{}", stderr(&out));

    let out = toolbox()
        .env("TOOLBOX_IMAGEE", "x")
        .arg("config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "a misspelt variable only warns");
    assert_eq!(
        stderr(&out).trim(),
        "warning: ignoring TOOLBOX_IMAGEE: not a toolbox setting (did you mean TOOLBOX_IMAGE?)"
    );
}

#[test]
fn config_shows_each_value_and_where_it_came_from() {
    let dir = scratch_dir("config");
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        "image = \"registry.local/tools:2\"\n[labels]\nteam = \"sre\"\n",
    )
    .unwrap();
    let out = toolbox()
        .env("TOOLBOX_CONFIG", &file)
        .env("TOOLBOX_TTL", "20m")
        .args(["-n", "ops", "config", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entry = |key: &str| {
        report["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .cloned()
            .unwrap()
    };
    assert_eq!(entry("image")["value"], "registry.local/tools:2");
    assert_eq!(entry("image")["source"]["kind"], "file");
    assert_eq!(entry("ttl")["value"], "20m");
    assert_eq!(
        entry("ttl")["source"],
        serde_json::json!({"kind": "env", "name": "TOOLBOX_TTL"})
    );
    assert_eq!(
        entry("namespace")["source"],
        serde_json::json!({"kind": "flag", "name": "--namespace"})
    );
    assert_eq!(entry("labels.team")["value"], "sre");
    assert_eq!(entry("start_timeout")["source"]["kind"], "default");

    let table = toolbox()
        .env("TOOLBOX_CONFIG", &file)
        .arg("config")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.lines().next().unwrap().starts_with("KEY"), "{text}");
    assert!(text.contains(&format!("file {}", file.display())), "{text}");
}

#[test]
fn kubeconfig_problems_are_one_line_cluster_errors() {
    let out = toolbox()
        .args(["node-shell", "n1", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out).trim(),
        "error: no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config"
    );

    let out = toolbox()
        .args([
            "--kubeconfig",
            "/nonexistent/kubeconfig",
            "node-shell",
            "n1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("/nonexistent/kubeconfig: no such file"),
        "{}",
        stderr(&out)
    );

    let dir = scratch_dir("kubeconfig");
    let kubeconfig = dir.join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: closed-port\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: closed-port\n",
    )
    .unwrap();
    let out = toolbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["node-shell", "n1", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = stderr(&out);
    assert!(
        text.starts_with(
            "error: cannot reach the API server of context \"closed-port\" at https://127.0.0.1:1"
        ),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");

    // -v adds the chain of causes under the same line, and no library's log.
    for command in [&["node-shell", "n1", "--", "true"][..], &["cleanup"]] {
        let out = toolbox()
            .env("KUBECONFIG", &kubeconfig)
            .arg("-v")
            .args(command)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        let text = stderr(&out);
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("DEBUG ")).collect();
        assert!(
            lines[0].starts_with("error: cannot reach the API server"),
            "{text}"
        );
        assert!(lines.len() > 2, "{text}");
        assert!(
            lines[1..].iter().all(|l| l.starts_with("  caused by: ")),
            "{text}"
        );
        assert!(
            lines.last().unwrap().contains("Connection refused"),
            "the innermost cause last: {text}"
        );
    }

    let out = toolbox()
        .env("KUBECONFIG", &kubeconfig)
        .args(["--context", "prod", "node-shell", "n1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out).trim(),
        "error: context \"prod\" not found in kubeconfig; valid contexts: closed-port"
    );
}

/// A kubeconfig whose server refuses every connection: a command that sent
/// a request would fail with exit 3 (unreachable) instead.
fn closed_port_kubeconfig(name: &str) -> PathBuf {
    let kubeconfig = scratch_dir(name).join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: closed-port\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: closed-port\n",
    )
    .unwrap();
    kubeconfig
}

#[test]
fn names_that_cannot_exist_are_usage_errors_on_every_command_before_any_request() {
    let kubeconfig = closed_port_kubeconfig("invalid-names");
    let namespace = "error: invalid namespace \"UPPER_case\": a namespace is a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit; at most 63 characters)";
    let node = |name: &str| {
        format!(
            "error: invalid node name {name:?}: a node name is a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', each '.'-separated part starting and ending with a letter or digit; at most 253 characters)"
        )
    };
    let context = |name: &str| {
        format!(
            "error: invalid context name {name:?}: a context name is not empty and has no control characters"
        )
    };
    let setting = "error: setting namespace = \"UPPER_case\" (from env TOOLBOX_NAMESPACE) is invalid: a namespace is a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit; at most 63 characters)";
    type Case = (Vec<String>, Vec<(&'static str, &'static str)>, String);
    let commands: [&[&str]; 5] = [
        &["node-shell", "node-1", "--", "true"],
        &["debug-node", "node-1", "--", "true"],
        &["compare", "node-1"],
        &["cleanup", "-y"],
        &["logs", "node-1"],
    ];
    for command in commands {
        let with_node = |arg: &str| -> Vec<String> {
            command
                .iter()
                .map(|word| if *word == "node-1" { arg } else { word }.to_string())
                .chain(
                    (command[0] == "cleanup")
                        .then(|| ["--node".to_string(), arg.to_string()])
                        .into_iter()
                        .flatten(),
                )
                .collect()
        };
        let plain = with_node("node-1");
        // The arguments, the environment, and the one line expected on stderr.
        let cases: Vec<Case> = vec![
            (
                ["-n", "UPPER_case"]
                    .map(String::from)
                    .into_iter()
                    .chain(plain.clone())
                    .collect(),
                vec![],
                namespace.to_string(),
            ),
            (
                plain.clone(),
                vec![("TOOLBOX_NAMESPACE", "UPPER_case")],
                setting.to_string(),
            ),
            (with_node("Node_1"), vec![], node("Node_1")),
            (with_node("node/Node_1"), vec![], node("Node_1")),
            (with_node(&"a".repeat(254)), vec![], node(&"a".repeat(254))),
            (
                ["--context", ""]
                    .map(String::from)
                    .into_iter()
                    .chain(plain.clone())
                    .collect(),
                vec![],
                context(""),
            ),
            (
                ["--context", "prod\n"]
                    .map(String::from)
                    .into_iter()
                    .chain(plain.clone())
                    .collect(),
                vec![],
                context("prod\n"),
            ),
        ];
        for (args, env, expected) in cases {
            let out = toolbox()
                .env("KUBECONFIG", &kubeconfig)
                .envs(env.iter().copied())
                .args(&args)
                .output()
                .unwrap();
            let text = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {text}");
            assert_eq!(text.trim_end(), expected, "{args:?} {env:?}");
            assert_eq!(text.lines().count(), 1, "{args:?} {env:?}: {text}");
        }
    }

    // Valid names still reach the (closed) server: exit 3, not 2.
    let out = toolbox()
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "-n",
            "kube-system",
            "cleanup",
            "--node",
            "node/ip-10-0-1-17.eu-west-1.compute.internal",
            "-y",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let out = toolbox()
        .env("KUBECONFIG", &kubeconfig)
        .args([
            "--context",
            "closed-port",
            "node-shell",
            "node/node-1",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
}

#[test]
fn no_node_and_no_terminal_fails_at_once() {
    let out = toolbox().args(["node-shell"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).trim(),
        "error: no NODE given and no terminal to pick one; pass NODE or -l SELECTOR"
    );
}

#[test]
fn completion_scripts_in_the_repository_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../completions");
    for (shell, file) in [
        ("bash", "toolbox.bash"),
        ("zsh", "_toolbox"),
        ("fish", "toolbox.fish"),
        ("powershell", "_toolbox.ps1"),
        ("elvish", "toolbox.elv"),
    ] {
        let out = toolbox().args(["completion", shell]).output().unwrap();
        let checked_in = std::fs::read(dir.join(file)).unwrap_or_default();
        assert!(
            out.stdout == checked_in,
            "completions/{file} is stale: run `make completions`"
        );
    }
}

#[test]
fn completion_scripts_print_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = toolbox().args(["completion", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("node-shell"),
            "{shell}"
        );
    }
}

/// The man pages in man/, as `make man` wrote them.
fn checked_in_man_pages() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../man");
    let mut pages: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "1"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    pages.sort();
    pages
}

#[test]
fn man_pages_in_the_repository_are_current() {
    let out_dir = scratch_dir("man");
    let out = toolbox()
        .env("TOOLBOX_GENERATE_MAN", &out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut generated: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    generated.sort();
    let names: Vec<&str> = generated.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.contains(&"toolbox.1") && names.contains(&"toolbox-node-shell.1"),
        "{names:?}"
    );
    assert!(
        generated == checked_in_man_pages(),
        "man/ is stale: run `make man`"
    );
}

#[test]
fn each_man_page_renders() {
    for (name, _) in checked_in_man_pages() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../man")
            .join(&name);
        let out = std::process::Command::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .expect("man (man-db) installed: make test installs it");
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        let command = name.trim_end_matches(".1");
        assert!(
            text.contains("NAME") && text.contains(command) && text.contains("SYNOPSIS"),
            "{name} rendered as:\n{text}"
        );
    }
}

/// Flag values and settings that the API server (or, for an image, the
/// kubelet) would refuse for their shape alone: one line naming the flag or
/// setting and the rule, exit 2, and no request sent (the kubeconfig's
/// server refuses connections, which would be exit 3).
#[test]
fn values_the_server_would_refuse_are_one_line_usage_errors_before_any_request() {
    let kubeconfig = closed_port_kubeconfig("shape");
    let dir = scratch_dir("shape");
    let settings = |name: &str, toml: &str| {
        let path = dir.join(name);
        std::fs::write(&path, toml).unwrap();
        path.to_string_lossy().into_owned()
    };
    let bad_annotation = settings("annotation.toml", "[annotations]\n\"a b\" = \"x\"\n");
    let bad_quantity = settings("quantity.toml", "[resources]\ncpu_request = \"lots\"\n");
    let big_annotation = settings(
        "big.toml",
        &format!(
            "[annotations]\n\"example.com/notes\" = \"{}\"\n",
            "x".repeat(120_000)
        ),
    );
    let long_reason = "r".repeat(125_000);
    let long_word = "w".repeat(125_000);
    let lifetime =
        "a pod's lifetime is 1s to 2147483647s (about 68 years), what activeDeadlineSeconds allows";
    let image_rule = "an image reference is [REGISTRY[:PORT]/]PATH[:TAG][@DIGEST], PATH lowercase, such as alpine:3.22 or registry.example.com/tools/shell:1.0";
    let name_rule = "a name is a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', each '.'-separated part starting and ending with a letter or digit; at most 253 characters)";
    // The arguments, the environment, and the line expected on stderr.
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, String);
    let cases: Vec<Case> = vec![
        (
            vec!["node-shell", "--all", "-l", "bad selector!!", "--", "true"],
            vec![],
            "error: invalid value 'bad selector!!' for '--selector <SELECTOR>': found \"selector\" after key \"bad\", expected an operator: =, ==, !=, in, notin, >, <".into(),
        ),
        (
            vec!["node-shell", "-l", "a in ("],
            vec![],
            "error: invalid value 'a in (' for '--selector <SELECTOR>': found the end, expected a value, ',' or ')'".into(),
        ),
        (
            vec!["debug-node", "--all", "-l", "zone=eu west", "--", "true"],
            vec![],
            "error: invalid value 'zone=eu west' for '--selector <SELECTOR>': found \"west\", expected ',' or the end".into(),
        ),
        (
            vec!["compare", "-l", "Example.com/x"],
            vec![],
            "error: invalid value 'Example.com/x' for '--selector <SELECTOR>': key \"Example.com/x\": a key is [PREFIX/]NAME: NAME 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit; PREFIX a lowercase DNS subdomain such as example.com".into(),
        ),
        (
            vec!["node-shell", "n1", "--ttl", "100y", "--", "true"],
            vec![],
            format!("error: invalid value '100y' for '--ttl <DURATION>': {lifetime}"),
        ),
        (
            vec!["debug-node", "--all", "--ttl", "100y", "--", "true"],
            vec![],
            format!("error: invalid value '100y' for '--ttl <DURATION>': {lifetime}"),
        ),
        (
            vec!["node-shell", "n1", "--", "true"],
            vec![("TOOLBOX_TTL", "100y")],
            format!("error: setting ttl = \"100y\" (from env TOOLBOX_TTL) is invalid: {lifetime}"),
        ),
        (
            vec!["policy", "-n", "node-access", "--group", "oncall", "--max-ttl", "100y"],
            vec![],
            format!("error: invalid value '100y' for '--max-ttl <DURATION>': {lifetime}"),
        ),
        (
            vec!["node-shell", "n1", "--image", "", "--", "true"],
            vec![],
            format!("error: invalid value '' for '--image <IMAGE>': empty; {image_rule}"),
        ),
        (
            vec!["debug-node", "n1", "--image", "BusyBox", "--", "true"],
            vec![],
            format!("error: invalid value 'BusyBox' for '--image <IMAGE>': path \"BusyBox\" has uppercase letters; {image_rule}"),
        ),
        (
            vec!["compare", "n1", "--image", "alpine:3.22 "],
            vec![],
            format!("error: invalid value 'alpine:3.22 ' for '--image <IMAGE>': it starts or ends with whitespace; {image_rule}"),
        ),
        (
            vec!["node-shell", "n1", "--", "true"],
            vec![("TOOLBOX_IMAGE", "")],
            format!("error: setting image = \"\" (from env TOOLBOX_IMAGE) is invalid: empty; {image_rule}"),
        ),
        (
            vec!["node-shell", "n1", "--priority-class", "System_Critical", "--", "true"],
            vec![],
            format!("error: invalid value 'System_Critical' for '--priority-class <NAME>': {name_rule}"),
        ),
        (
            vec!["debug-node", "n1", "--image-pull-secret", "RegCred", "--", "true"],
            vec![],
            format!("error: invalid value 'RegCred' for '--image-pull-secret <SECRET>': {name_rule}"),
        ),
        (
            vec!["node-shell", "n1", "--", "true"],
            vec![("TOOLBOX_PRIORITY_CLASS", "Critical")],
            format!("error: setting priority_class = \"Critical\" (from env TOOLBOX_PRIORITY_CLASS) is invalid: {name_rule}"),
        ),
        (
            vec!["debug-node", "n1", "--env", "GRÜN=1", "--", "true"],
            vec![],
            "error: invalid value 'GRÜN=1' for '--env <NAME=VALUE>': \"GRÜN=1\": a variable name is printable ASCII characters other than '=', and not empty".into(),
        ),
        (
            vec!["policy", "-n", "node-access", "--group", "oncall\nkind: Secret"],
            vec![],
            "error: invalid value 'oncall\\nkind: Secret' for '--group <GROUP>': a name is not empty and has no control characters".into(),
        ),
        (
            vec!["policy", "-n", "node-access", "--group", ""],
            vec![],
            "error: invalid value '' for '--group <GROUP>': a name is not empty and has no control characters".into(),
        ),
        (
            vec!["--as", "dev\r\n", "cleanup", "-y"],
            vec![],
            "error: invalid value 'dev\\r\\n' for '--as <USER>': a name is not empty and has no control characters".into(),
        ),
        (
            vec!["--as-group", "oncall", "cleanup", "-y"],
            vec![],
            "error: --as-group needs --as USER: the API server impersonates groups only together with a user".into(),
        ),
        (
            vec!["node-shell", "n1", "--", "true"],
            vec![("TOOLBOX_LABELS__TEAM", "SRE team")],
            "error: setting labels.team = \"SRE team\" (from env TOOLBOX_LABELS__TEAM) is invalid: label \"team\" value \"SRE team\": a label value is empty or 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit".into(),
        ),
        (
            vec!["--config", &bad_annotation, "node-shell", "n1", "--", "true"],
            vec![],
            format!("error: setting annotations.a b = \"x\" (from file {bad_annotation}) is invalid: annotation key \"a b\": a key is [PREFIX/]NAME: NAME 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit; PREFIX a lowercase DNS subdomain such as example.com"),
        ),
        (
            vec!["--config", &bad_quantity, "debug-node", "n1", "--", "true"],
            vec![],
            format!("error: setting resources.cpu_request = \"lots\" (from file {bad_quantity}) is invalid: a quantity is a number with an optional suffix (m, k, M, G, Ki, Mi, Gi, ... or an exponent such as e3), such as 100m, 0.5 or 256Mi, and not negative"),
        ),
        (
            vec!["node-shell", "n1", "--", "true"],
            vec![("TOOLBOX_RESOURCES__MEMORY_REQUEST", "1Gi")],
            "error: setting resources.memory_request (from env TOOLBOX_RESOURCES__MEMORY_REQUEST) is invalid: memory request 1Gi is more than its limit 256Mi: a request must be at most its limit".into(),
        ),
        (
            vec!["--config", &big_annotation, "node-shell", "n1", "--reason", &long_reason, "--", "echo", &long_word],
            vec![],
            "error: --reason and the command are recorded in the pod's annotations, with the annotations setting: annotations of 370065 bytes; a pod's annotations hold at most 256 KiB, and toolbox needs 16 KiB of them for its own".into(),
        ),
    ];
    for (args, env, expected) in cases {
        let out = toolbox()
            .env("KUBECONFIG", &kubeconfig)
            .envs(env.iter().copied())
            .args(&args)
            .output()
            .unwrap();
        let text = stderr(&out);
        let shown: Vec<&str> = args.iter().map(|a| &a[..a.len().min(40)]).collect();
        assert_eq!(out.status.code(), Some(2), "{shown:?} {env:?}: {text}");
        assert_eq!(text.trim_end_matches('\n'), expected, "{shown:?} {env:?}");
        assert_eq!(text.lines().count(), 1, "{shown:?}: {text}");
    }

    // Values the server takes still reach the (closed) server: exit 3.
    for args in [
        vec![
            "node-shell",
            "--all",
            "-l",
            "a in (b,c),!d,e!=f,g>1",
            "--",
            "true",
        ],
        vec![
            "node-shell",
            "n1",
            "--ttl",
            "68y",
            "--image",
            "localhost:5000/tools/shell:1.0",
            "--",
            "true",
        ],
        vec![
            "debug-node",
            "n1",
            "--env",
            "my.var=1",
            "--priority-class",
            "system-node-critical",
            "--",
            "true",
        ],
        vec![
            "--as",
            "",
            "node-shell",
            "n1",
            "--reason",
            "INC-1234",
            "--",
            "true",
        ],
    ] {
        let out = toolbox()
            .env("KUBECONFIG", &kubeconfig)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
    }
}

/// A reader that has gone (`toolbox ... | head`) ends the output quietly:
/// no panic, no error, exit 0. The pipe's read end is closed before toolbox
/// starts, so every write fails.
#[test]
fn output_into_a_closed_pipe_is_not_a_panic() {
    for args in [
        &["completion", "bash"][..],
        &["policy", "-n", "node-access", "--group", "oncall"],
        &["config"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_toolbox"))
            .env_clear()
            .env("HOME", scratch_dir("home"))
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn logs_refuses_bad_flags_and_arguments_in_one_line_before_any_request() {
    let kubeconfig = closed_port_kubeconfig("logs-usage");
    let cases: [(&[&str], &str); 11] = [
        (
            &["--since", "soon"],
            "error: invalid value 'soon' for '--since <TIME>': not a duration or a time",
        ),
        (
            &["--until", "2026-13-01"],
            "error: invalid value '2026-13-01' for '--until <TIME>'",
        ),
        (
            &["--tail", "100001"],
            "error: invalid value '100001' for '--tail <N>': must be a number of lines from 0 to 100000",
        ),
        (
            &["--tail", "-1"],
            "error: invalid value '-1' for '--tail <N>'",
        ),
        (
            &["--boot", "1"],
            "error: invalid value '1' for '--boot <N>': must be 0 (the current boot) or a negative offset",
        ),
        (
            &["--grep", "a("],
            "error: invalid value 'a(' for '--grep <REGEX>': unclosed group",
        ),
        (
            &["-f", "--until", "1h"],
            "error: -f follows new lines, which come after any --until",
        ),
        (&["--since", "1h", "--until", "2h"], "error: --since "),
        (
            &["kubelet.service", "containerd.service", "-f"],
            "error: -f follows one log per node",
        ),
        (
            &["/var/log/syslog", "--boot", "-1"],
            "error: --boot applies to the journal; /var/log/syslog is a file",
        ),
        (
            &["has space"],
            "error: \"has space\" is neither a node, a unit",
        ),
    ];
    for (args, start) in cases {
        let out = toolbox()
            .env("KUBECONFIG", &kubeconfig)
            .args(["logs", "node-1"])
            .args(args)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with(start), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    }
    for (args, start) in [
        (&["logs"][..], "error: no node given"),
        (
            &["logs", "/var/log/syslog"],
            "error: the first argument is the node",
        ),
        (
            &["logs", "--all", "node/x"],
            "error: --all reads every node's logs",
        ),
        (
            &["logs", "-l", "a=b", "kubelet"],
            "error: -l SELECTOR takes --all here",
        ),
    ] {
        let out = toolbox()
            .env("KUBECONFIG", &kubeconfig)
            .args(args)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with(start), "{args:?}: {err}");
    }
}
