//! What a dump collects from each node: the spec, a list of items, each
//! with a name (its file in the bundle) and one source. The default is
//! built in ([`Spec::default_spec`], from `default-spec.yaml`, which
//! docs/dump.md lists); `--spec FILE` gives another, in YAML or JSON.
//! Parsing and checking are pure, and a bad spec is one line.

use std::collections::HashSet;

use serde::Deserialize;
use toolbox_podtemplate::ProcessFlag;

/// The built-in spec, as docs/dump.md lists it.
pub const DEFAULT_SPEC: &str = include_str!("default-spec.yaml");

/// The item `--pod-logs` adds: every file under the kubelet's pod-log
/// directory, rather than its listing alone.
pub const POD_LOGS_ITEM: &str = "pod-logs";
const POD_LOGS_DIR: &str = "/var/log/pods";

/// The items to collect from each node, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub items: Vec<Item>,
}

/// One thing to collect from each node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its file under `nodes/NODE/` in the bundle (a directory of files,
    /// for [`Source::Directory`]).
    pub name: String,
    pub source: Source,
}

/// Where an item comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A node file; with `from_flag`, the file a process's flag names
    /// when it runs with it, else `path`.
    File {
        path: String,
        from_flag: Option<ProcessFlag>,
    },
    /// A command run in the node's namespaces, with the node's own tools.
    Command(Vec<String>),
    /// A node directory's listing (`ls -laR`), without contents.
    Listing(String),
    /// Every regular file under a node directory, each an item of its own.
    Directory(String),
    /// A service's log since `--since`, read as `toolbox logs` reads it.
    Service(String),
    /// An object of the API server's.
    Api(ApiObject),
}

/// What an `api` item asks the API server for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiObject {
    /// The Node object, as YAML.
    Node,
    /// The Events about the node, in every namespace, as YAML.
    Events,
}

impl Source {
    /// The source in a few words, for the index and the pod's annotation.
    pub fn describe(&self) -> String {
        match self {
            Source::File {
                path,
                from_flag: None,
            } => format!("file {path}"),
            Source::File {
                path,
                from_flag: Some(ProcessFlag { process, flag }),
            } => format!("file {path}, or the one {process}'s {flag} names"),
            Source::Command(argv) => format!("command {}", argv.join(" ")),
            Source::Listing(path) => format!("listing of {path}"),
            Source::Directory(path) => format!("files under {path}"),
            Source::Service(name) => format!("service {name}'s log"),
            Source::Api(ApiObject::Node) => "api: the Node object".to_string(),
            Source::Api(ApiObject::Events) => "api: the node's Events".to_string(),
        }
    }

    /// Read by the node's dump pod; else asked of the API server, or read
    /// as `toolbox logs` reads a service (the node log query first).
    pub fn by_pod(&self) -> bool {
        !matches!(self, Source::Api(_) | Source::Service(_))
    }
}

/// A spec that cannot be used, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    items: Vec<RawItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawItem {
    name: String,
    file: Option<String>,
    from_flag: Option<RawFlag>,
    command: Option<Vec<String>>,
    listing: Option<String>,
    directory: Option<String>,
    service: Option<String>,
    api: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    process: String,
    flag: String,
}

impl Spec {
    /// The built-in spec.
    pub fn default_spec() -> Spec {
        // Checked by a unit test: the built-in spec always parses.
        Spec::parse(DEFAULT_SPEC, false).unwrap_or(Spec { items: Vec::new() })
    }

    /// A spec from its text: JSON when `json`, else YAML.
    pub fn parse(text: &str, json: bool) -> Result<Spec, SpecError> {
        let raw: RawSpec = if json {
            serde_json::from_str(text).map_err(|e| SpecError(one_line(&e.to_string())))?
        } else {
            serde_yaml::from_str(text).map_err(|e| SpecError(one_line(&e.to_string())))?
        };
        if raw.items.is_empty() {
            return Err(SpecError("items: the list is empty".into()));
        }
        let mut names = HashSet::new();
        let mut items = Vec::new();
        for (i, raw) in raw.items.into_iter().enumerate() {
            let at = format!("items[{i}] ({})", raw.name);
            let item = checked(raw).map_err(|why| SpecError(format!("{at}: {why}")))?;
            if !names.insert(item.name.clone()) {
                return Err(SpecError(format!("{at}: another item has this name")));
            }
            items.push(item);
        }
        Ok(Spec { items })
    }

    /// The spec with `--pod-logs`' item added: the pod logs' contents,
    /// unless the spec already collects that directory.
    pub fn with_pod_logs(mut self) -> Spec {
        let has = self.items.iter().any(
            |item| matches!(&item.source, Source::Directory(dir) if dir.trim_end_matches('/') == POD_LOGS_DIR),
        );
        if !has {
            self.items.push(Item {
                name: POD_LOGS_ITEM.to_string(),
                source: Source::Directory(POD_LOGS_DIR.to_string()),
            });
        }
        self
    }

    /// Whether any item is read by the node's dump pod.
    pub fn needs_pod(&self) -> bool {
        self.items.iter().any(|item| item.source.by_pod())
    }

    /// `NAME: SOURCE` of every item, for the pod's annotation.
    pub fn lines(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|item| format!("{}: {}", item.name, item.source.describe()))
            .collect()
    }
}

/// serde's message on one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn checked(raw: RawItem) -> Result<Item, String> {
    check_name(&raw.name)?;
    let mut sources = Vec::new();
    if let Some(path) = raw.file {
        let from_flag = raw.from_flag.map(checked_flag).transpose()?;
        sources.push(Source::File {
            path: absolute(path)?,
            from_flag,
        });
    } else if raw.from_flag.is_some() {
        return Err(
            "fromFlag goes with file (the file to read when the process has no such flag)".into(),
        );
    }
    if let Some(argv) = raw.command {
        if argv.first().is_none_or(|word| word.is_empty()) {
            return Err(
                "command: give the program and its arguments, e.g. [crictl, ps, -a]".into(),
            );
        }
        sources.push(Source::Command(argv));
    }
    if let Some(path) = raw.listing {
        sources.push(Source::Listing(absolute(path)?));
    }
    if let Some(path) = raw.directory {
        sources.push(Source::Directory(absolute(path)?));
    }
    if let Some(name) = raw.service {
        let fits = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "@._-".contains(c));
        if !fits {
            return Err(format!("service {name:?}: a unit's name, e.g. kubelet"));
        }
        sources.push(Source::Service(name));
    }
    if let Some(object) = raw.api {
        sources.push(Source::Api(match object.as_str() {
            "node" => ApiObject::Node,
            "events" => ApiObject::Events,
            other => return Err(format!("api {other:?}: node or events")),
        }));
    }
    match sources.len() {
        1 => Ok(Item {
            name: raw.name,
            source: sources.remove(0),
        }),
        0 => Err("no source: give one of file, command, listing, directory, service, api".into()),
        _ => Err(
            "more than one source: give one of file, command, listing, directory, service, api"
                .into(),
        ),
    }
}

/// A name that is one file name in the bundle, the same on every system.
fn check_name(name: &str) -> Result<(), String> {
    let fits = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if fits {
        Ok(())
    } else {
        Err("name: a file name of letters, digits, '.', '_' and '-', not starting with '.', e.g. kubelet.log".into())
    }
}

fn absolute(path: String) -> Result<String, String> {
    if path.starts_with('/') && !path.split('/').any(|part| part == "..") {
        Ok(path)
    } else {
        Err(format!(
            "{path:?}: an absolute path on the node, without '..'"
        ))
    }
}

fn checked_flag(raw: RawFlag) -> Result<ProcessFlag, String> {
    let process_fits = !raw.process.is_empty()
        && raw.process.len() <= 15
        && !raw.process.contains(['/', '\0', ' ']);
    if !process_fits {
        return Err(format!(
            "fromFlag.process {:?}: a process name as /proc/PID/comm has it (at most 15 characters), e.g. kubelet",
            raw.process
        ));
    }
    let flag_fits =
        raw.flag.starts_with('-') && raw.flag.len() > 1 && !raw.flag.contains(['=', ' ', '\0']);
    if !flag_fits {
        return Err(format!(
            "fromFlag.flag {:?}: a flag with its dashes, e.g. --config",
            raw.flag
        ));
    }
    Ok(ProcessFlag {
        process: raw.process,
        flag: raw.flag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_spec_collects_what_the_issue_names() {
        let spec = Spec::parse(DEFAULT_SPEC, false).expect("the built-in spec parses");
        let names: Vec<&str> = spec.items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "node.yaml",
                "events.yaml",
                "df.txt",
                "free.txt",
                "pressure-cpu.txt",
                "pressure-memory.txt",
                "pressure-io.txt",
                "kubelet-config.yaml",
                "crictl-ps.txt",
                "crictl-pods.txt",
                "var-log-pods.txt",
                "dmesg.txt",
                "kubelet.log",
                "containerd.log"
            ]
        );
        assert_eq!(
            spec.items[7].source,
            Source::File {
                path: "/var/lib/kubelet/config.yaml".into(),
                from_flag: Some(ProcessFlag {
                    process: "kubelet".into(),
                    flag: "--config".into()
                })
            }
        );
        assert_eq!(Spec::default_spec(), spec);
        assert!(spec.needs_pod());
    }

    #[test]
    fn docs_dump_md_lists_the_built_in_spec_in_its_order() {
        let docs = include_str!("../../../../docs/dump.md");
        let listed: Vec<&str> = docs
            .lines()
            .skip_while(|line| !line.starts_with("## What is collected"))
            .take_while(|line| !line.starts_with("### "))
            .filter_map(|line| line.strip_prefix("| `")?.split_once('`'))
            .map(|(name, _)| name)
            .collect();
        let names: Vec<String> = Spec::default_spec()
            .items
            .into_iter()
            .map(|item| item.name)
            .collect();
        assert_eq!(listed, names);
    }

    #[test]
    fn yaml_and_json_give_the_same_spec() {
        let yaml = "items:\n  - name: hosts\n    file: /etc/hosts\n  - name: ps.txt\n    command: [ps, aux]\n";
        let json = r#"{"items": [{"name": "hosts", "file": "/etc/hosts"}, {"name": "ps.txt", "command": ["ps", "aux"]}]}"#;
        let from_yaml = Spec::parse(yaml, false).unwrap();
        assert_eq!(from_yaml, Spec::parse(json, true).unwrap());
        assert_eq!(
            from_yaml.lines(),
            ["hosts: file /etc/hosts", "ps.txt: command ps aux"]
        );
    }

    #[test]
    fn a_bad_spec_is_one_line_that_names_the_item() {
        let cases = [
            ("items: []", "items: the list is empty"),
            ("items:\n  - name: a\n    fle: /x\n", "unknown field `fle`"),
            (
                "items:\n  - name: a\n    file: etc/hosts\n",
                "items[0] (a): \"etc/hosts\": an absolute path on the node",
            ),
            (
                "items:\n  - name: a\n    file: /x\n    command: [ls]\n",
                "items[0] (a): more than one source",
            ),
            ("items:\n  - name: a\n", "items[0] (a): no source"),
            (
                "items:\n  - name: ../a\n    file: /x\n",
                "items[0] (../a): name: a file name",
            ),
            (
                "items:\n  - name: a\n    file: /x\n  - name: a\n    api: node\n",
                "items[1] (a): another item has this name",
            ),
            (
                "items:\n  - name: a\n    api: pods\n",
                "items[0] (a): api \"pods\": node or events",
            ),
            (
                "items:\n  - name: a\n    command: []\n",
                "items[0] (a): command: give the program",
            ),
            (
                "items:\n  - name: a\n    listing: /x\n    fromFlag: {process: kubelet, flag: --config}\n",
                "items[0] (a): fromFlag goes with file",
            ),
            (
                "items:\n  - name: a\n    file: /x\n    fromFlag: {process: kubelet, flag: config}\n",
                "fromFlag.flag \"config\": a flag with its dashes",
            ),
            ("not: [a spec", "unknown field `not`"),
            ("items: [a", "expected struct RawItem at line 1 column 9"),
            ("items:\n  - {name: a\n", "line 2"),
        ];
        for (text, expected) in cases {
            let err = Spec::parse(text, false).expect_err(text).to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(!err.contains('\n'), "one line: {err:?}");
        }
        let err = Spec::parse("{\"items\": [", true).unwrap_err().to_string();
        assert!(err.contains("EOF"), "{err}");
    }

    #[test]
    fn pod_logs_adds_the_directory_once() {
        let spec = Spec::default_spec().with_pod_logs();
        let last = spec.items.last().unwrap();
        assert_eq!(last.name, POD_LOGS_ITEM);
        assert_eq!(last.source, Source::Directory("/var/log/pods".into()));
        let again = spec.clone().with_pod_logs();
        assert_eq!(again, spec);
        let api_only = Spec::parse("items:\n  - name: n\n    api: node\n", false).unwrap();
        assert!(!api_only.needs_pod());
    }
}
