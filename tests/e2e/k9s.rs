//! The k9s plugin file (dist/k9s/plugins.yaml, shown in docs/k9s.md):
//! its shape against k9s's plugin schema, and each entry's command run as
//! k9s runs it for a node in the node view.

use harness::{NodeSpec, TestNs, cluster, repo_root, stderr_of};
use serde_yaml::Value;

/// k9s's plugin schema (internal/config/json/schemas/plugins.json): the
/// keys an entry may have, and those it must.
const ALLOWED: [&str; 11] = [
    "shortCut",
    "override",
    "description",
    "confirm",
    "dangerous",
    "scopes",
    "command",
    "background",
    "overwriteOutput",
    "args",
    "inputs",
];
const REQUIRED: [&str; 4] = ["shortCut", "description", "scopes", "command"];

fn plugins_file() -> String {
    std::fs::read_to_string(repo_root().join("dist/k9s/plugins.yaml")).unwrap()
}

#[test]
fn the_plugin_file_has_k9s_shape_and_the_docs_show_it() {
    let text = plugins_file();
    let file: Value = serde_yaml::from_str(&text).unwrap();
    let top = file.as_mapping().unwrap();
    assert_eq!(top.len(), 1, "only `plugins` at the top");
    let plugins = file["plugins"].as_mapping().expect("plugins: a map");
    assert_eq!(plugins.len(), 2);
    let mut keys = std::collections::BTreeSet::new();
    for (name, entry) in plugins {
        let entry = entry.as_mapping().unwrap();
        for key in entry.keys() {
            let key = key.as_str().unwrap();
            assert!(ALLOWED.contains(&key), "{name:?}: k9s refuses key {key}");
        }
        for key in REQUIRED {
            assert!(entry.contains_key(key), "{name:?}: {key} is required");
        }
        for key in ["shortCut", "description", "command"] {
            assert!(entry[key].is_string(), "{name:?}: {key} is a string");
        }
        for key in ["background", "confirm", "override", "dangerous"] {
            assert!(
                entry.get(key).is_none_or(Value::is_bool),
                "{name:?}: {key} is a boolean"
            );
        }
        assert!(
            entry["scopes"]
                .as_sequence()
                .unwrap()
                .iter()
                .all(Value::is_string)
        );
        assert!(
            entry["args"]
                .as_sequence()
                .unwrap()
                .iter()
                .all(|a| a.is_string() || a.is_number())
        );
        assert_eq!(entry["scopes"][0], "nodes");
        assert!(
            keys.insert(entry["shortCut"].as_str().unwrap().to_string()),
            "one key each"
        );
    }
    let docs = std::fs::read_to_string(repo_root().join("docs/k9s.md")).unwrap();
    assert!(
        docs.contains(text.trim_end()),
        "docs/k9s.md shows the file as it is"
    );
}

#[tokio::test]
async fn each_entry_runs_as_k9s_runs_it_for_a_node() {
    let mut ns = TestNs::new("k9s").await;
    let node = ns.node("n", NodeSpec::default()).await;
    let context = std::process::Command::new(&cluster().kubectl)
        .env("KUBECONFIG", &cluster().kubeconfig)
        .args(["config", "current-context"])
        .output()
        .unwrap();
    let context = String::from_utf8_lossy(&context.stdout).trim().to_string();
    let file: Value = serde_yaml::from_str(&plugins_file()).unwrap();
    for (name, entry) in file["plugins"].as_mapping().unwrap() {
        assert_eq!(entry["command"], "toolbox");
        let args: Vec<String> = entry["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| match a.as_str() {
                Some("$NAME") => node.clone(),
                Some("$CONTEXT") => context.clone(),
                Some(other) => other.to_string(),
                None => a.as_u64().unwrap().to_string(),
            })
            .collect();
        // k9s hands the session its terminal; here the shell gets an empty
        // stdin and ends at once.
        let out = ns.toolbox().args(&args).write_stdin("").output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name:?} {args:?}: {}",
            stderr_of(&out)
        );
    }
    ns.finish().await;
}
