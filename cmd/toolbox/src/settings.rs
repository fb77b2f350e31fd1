//! toolbox's settings, in layers: built-in defaults, then a TOML file, then
//! `TOOLBOX_*` environment variables, then flags. Every value remembers the
//! layer it came from, so that `toolbox config` can say.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toolbox_cluster::input::validation;
use toolbox_podtemplate::Profile;

/// What a pod's annotations may take besides toolbox's own audit ones
/// (requester, host, node, expiry), which get the rest of the API server's
/// 256 KiB: the annotations setting, and with --reason and the command
/// recorded, a session's.
pub const ANNOTATIONS_BUDGET: usize = validation::ANNOTATIONS_MAX_BYTES - 16 * 1024;

/// node-shell's image as a release of toolbox publishes it (`make images`):
/// busybox, the node's own kind of nsenter and chroot, and the session
/// recorder at `/toolbox/bin/toolbox-recorder`. Being the recorder image too,
/// its pods record with no init container, so recording costs no extra
/// container start. The Makefile reads this line for the name `make images`
/// tags node-tools with (docs/install.md), so it stays one literal on one
/// line; the e2e test `images` checks that the two agree.
pub const DEFAULT_NODE_IMAGE: &str = "ghcr.io/toolbox-dev/node-tools:v0.1.0";

/// The image the session recorder comes from for pods of other images: an
/// init container of it copies the binary in (docs/sessions.md).
pub const DEFAULT_RECORDER_IMAGE: &str = DEFAULT_NODE_IMAGE;

/// The effective settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// node-shell's image: it needs `nsenter` and `sleep`, and is best the
    /// recorder image too.
    pub image: String,
    /// debug-node's default image.
    pub debug_image: String,
    /// The image for Windows nodes' HostProcess pods.
    pub windows_image: String,
    /// Where toolbox creates its pods; else the context's namespace.
    pub namespace: Option<String>,
    pub image_pull_secrets: Vec<String>,
    pub image_pull_policy: Option<String>,
    /// Extra labels on every pod.
    pub labels: BTreeMap<String, String>,
    /// Extra annotations on every pod.
    pub annotations: BTreeMap<String, String>,
    pub resources: ResourceSettings,
    /// How long a pod may take to start, e.g. "2m".
    pub start_timeout: String,
    /// How long a pod may live, e.g. "1h".
    pub ttl: String,
    pub priority_class: Option<String>,
    pub debug_profile: String,
    /// Keep each session's pod for the next one until idle this long, e.g.
    /// "10m" (--persist); off when unset.
    pub persist: Option<String>,
    /// Record every session (false: as --no-record).
    pub record: bool,
    /// The image that carries the session recorder, toolbox-recorder.
    pub recorder_image: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceSettings {
    pub cpu_request: Option<String>,
    pub memory_request: Option<String>,
    pub cpu_limit: Option<String>,
    pub memory_limit: Option<String>,
}

impl Default for ResourceSettings {
    fn default() -> Self {
        ResourceSettings {
            cpu_request: Some("10m".into()),
            memory_request: Some("16Mi".into()),
            cpu_limit: None,
            memory_limit: Some("256Mi".into()),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            image: DEFAULT_NODE_IMAGE.into(),
            debug_image: "docker.io/library/busybox:1.37".into(),
            windows_image:
                "mcr.microsoft.com/oss/kubernetes/windows-host-process-containers-base-image:v1.0.0"
                    .into(),
            namespace: None,
            image_pull_secrets: Vec::new(),
            image_pull_policy: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            resources: ResourceSettings::default(),
            start_timeout: "2m".into(),
            ttl: "1h".into(),
            priority_class: None,
            debug_profile: Profile::default().name().into(),
            persist: None,
            record: true,
            recorder_image: DEFAULT_RECORDER_IMAGE.into(),
        }
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "name")]
pub enum Source {
    // In the order the layers apply, so that sorting puts them so.
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
    /// A map whose entries came from more than one of the others.
    Merged(Vec<Source>),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Merged(sources) => {
                let names: Vec<String> = sources.iter().map(Source::to_string).collect();
                f.write_str(&names.join(", "))
            }
        }
    }
}

/// Settings together with where each value came from.
#[derive(Debug, Clone)]
pub struct LoadedSettings {
    pub settings: Settings,
    /// Every set key ("ttl", "resources.cpu_limit", "labels.team") and its source.
    pub sources: BTreeMap<String, Source>,
    pub file: Option<PathBuf>,
    /// Things worth a line on stderr, such as a likely misspelt variable.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("config file {path} not found")]
    MissingFile { path: PathBuf },
    #[error("config file {path}: {message}")]
    BadFile { path: PathBuf, message: String },
    #[error("setting {key} = {value:?} (from {origin}) is invalid: {allowed}")]
    BadValue {
        key: String,
        value: String,
        origin: Source,
        allowed: String,
    },
    /// A value that is fine alone but not with the others.
    #[error("setting {key} (from {origin}) is invalid: {why}")]
    BadCombination {
        key: String,
        origin: Source,
        why: String,
    },
    #[error("settings: {0}")]
    Merge(String),
}

/// `TOOLBOX_*` variables that are not settings, and so no misspelling.
const NON_SETTING_VARS: &[&str] = &[
    // Read by toolbox itself: the settings file, the log filter, and the
    // man pages that make install asks for.
    "TOOLBOX_CONFIG",
    "TOOLBOX_LOG",
    "TOOLBOX_GENERATE_MAN",
    // Read by this repository's e2e tests, and exported by those who run them.
    "TOOLBOX_BIN",
    "TOOLBOX_E2E_CLUSTER",
    "TOOLBOX_E2E_OLDER_KUBE_BIN",
    // Set by toolbx (containers/toolbox) in every container it runs.
    "TOOLBOX_PATH",
];
const ENV_PREFIX: &str = "TOOLBOX_";
/// Settings that are maps: a variable sets one entry
/// (`TOOLBOX_LABELS__TEAM`), and the key's source is its entries'.
const MAP_KEYS: &[&str] = &["labels", "annotations"];

/// The file to read: `--config` or TOOLBOX_CONFIG (which must exist), else
/// `$XDG_CONFIG_HOME/toolbox/config.toml` (or ~/.config/...) when present.
pub fn config_file(
    explicit: Option<&Path>,
    env: &BTreeMap<String, String>,
) -> Result<Option<PathBuf>, SettingsError> {
    if let Some(path) = explicit
        .map(Path::to_path_buf)
        .or_else(|| env.get("TOOLBOX_CONFIG").map(PathBuf::from))
    {
        return if path.exists() {
            Ok(Some(path))
        } else {
            Err(SettingsError::MissingFile { path })
        };
    }
    let base = env
        .get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|home| Path::new(home).join(".config")));
    Ok(base
        .map(|b| b.join("toolbox").join("config.toml"))
        .filter(|p| p.exists()))
}

/// Loads defaults, the file and the environment (flags come later, through
/// [`LoadedSettings::set_by_flag`]).
pub fn load(
    explicit: Option<&Path>,
    env: &BTreeMap<String, String>,
) -> Result<LoadedSettings, SettingsError> {
    let file = config_file(explicit, env)?;
    let defaults = Settings::default();
    let mut builder = config::Config::builder().add_source(
        config::Config::try_from(&defaults).map_err(|e| SettingsError::Merge(e.to_string()))?,
    );

    let mut file_keys = Vec::new();
    if let Some(path) = &file {
        let text = std::fs::read_to_string(path).map_err(|e| SettingsError::BadFile {
            path: path.clone(),
            message: e.to_string(),
        })?;
        // Parsed alone first, so that an unknown key or a wrong type is
        // reported with the file's name and the key's line.
        let parsed: Settings = toml::from_str(&text).map_err(|e| SettingsError::BadFile {
            path: path.clone(),
            message: one_line(&e.to_string()),
        })?;
        file_keys = flatten_keys(&serde_json::to_value(&parsed).unwrap_or_default(), "")
            .into_iter()
            .filter(|key| toml_has_key(&text, key))
            .collect();
        builder = builder.add_source(config::File::from_str(&text, config::FileFormat::Toml));
    }

    let settings_env: BTreeMap<String, String> = env
        .iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX) && !NON_SETTING_VARS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // A variable that names no setting is ignored, with a warning: a
    // misspelt name would otherwise leave its setting silently as it was.
    let known = known_keys();
    let mut env_keys = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut settings_env = settings_env;
    settings_env.retain(|var, _| {
        let key = env_var_key(var);
        let top = key.split('.').next().unwrap_or_default();
        if MAP_KEYS.contains(&top) || known.contains(&key) {
            env_keys.insert(key, var.clone());
            return true;
        }
        warnings.push(match likely_meant(var, &known) {
            Some(meant) => {
                format!("ignoring {var}: not a toolbox setting (did you mean {meant}?)")
            }
            None => format!("ignoring {var}: not a toolbox setting"),
        });
        false
    });
    builder = builder.add_source(
        config::Environment::with_prefix("TOOLBOX")
            .prefix_separator("_")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("image_pull_secrets")
            .try_parsing(true)
            .source(Some(settings_env.into_iter().collect())),
    );
    let settings: Settings = builder
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(|e| SettingsError::Merge(one_line(&e.to_string())))?;

    let mut sources = BTreeMap::new();
    for key in flatten_keys(&serde_json::to_value(&settings).unwrap_or_default(), "") {
        let source = if let Some(var) = env_keys.get(&key) {
            Source::Env(var.clone())
        } else if file_keys.contains(&key) {
            Source::File(file.clone().unwrap_or_default())
        } else {
            Source::Default
        };
        sources.insert(key, source);
    }
    let loaded = LoadedSettings {
        settings,
        sources,
        file,
        warnings,
    };
    loaded.validate()?;
    Ok(loaded)
}

impl LoadedSettings {
    /// Records that a flag set `key`.
    pub fn set_by_flag(&mut self, key: &str, flag: &str) {
        self.sources
            .insert(key.to_string(), Source::Flag(flag.to_string()));
    }

    /// Where `key`'s value came from. A map (labels, annotations) with
    /// entries came from where its entries did.
    pub fn source_of(&self, key: &str) -> Source {
        if let Some(source) = self.sources.get(key) {
            return source.clone();
        }
        let entry_prefix = format!("{key}.");
        let mut entry_sources: Vec<Source> = self
            .sources
            .iter()
            .filter(|(entry, _)| entry.starts_with(&entry_prefix))
            .map(|(_, source)| source.clone())
            .collect();
        entry_sources.sort();
        entry_sources.dedup();
        match entry_sources.len() {
            0 => Source::Default,
            1 => entry_sources.remove(0),
            _ => Source::Merged(entry_sources),
        }
    }

    fn bad(&self, key: &str, value: &str, allowed: &str) -> SettingsError {
        SettingsError::BadValue {
            key: key.into(),
            value: value.into(),
            origin: self.source_of(key),
            allowed: allowed.into(),
        }
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let s = &self.settings;
        for (key, value) in [("ttl", &s.ttl), ("start_timeout", &s.start_timeout)] {
            match humantime::parse_duration(value) {
                Ok(d) if d >= Duration::from_secs(1) => {}
                _ => {
                    return Err(self.bad(
                        key,
                        value,
                        "a duration of at least 1s, such as 90s, 30m or 1h",
                    ));
                }
            }
        }
        if self.start_timeout() > validation::POD_LIFETIME_MAX {
            return Err(self.bad("start_timeout", &s.start_timeout, crate::values::TOO_LONG));
        }
        if let Some(persist) = &s.persist
            && parse_persist(persist).is_err()
        {
            return Err(self.bad(
                "persist",
                persist,
                "0, or a duration of 1s to about 68 years, such as 10m",
            ));
        }
        if s.debug_profile.parse::<Profile>().is_err() {
            let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
            return Err(self.bad(
                "debug_profile",
                &s.debug_profile,
                &format!("one of {}", names.join(", ")),
            ));
        }
        if let Some(policy) = &s.image_pull_policy
            && !matches!(policy.as_str(), "Always" | "IfNotPresent" | "Never")
        {
            return Err(self.bad(
                "image_pull_policy",
                policy,
                "one of Always, IfNotPresent, Never",
            ));
        }
        if let Some(namespace) = &s.namespace
            && let Err(invalid) = toolbox_cluster::validate_namespace(namespace)
        {
            return Err(self.bad("namespace", namespace, invalid.kind.rule()));
        }
        if let Err(invalid) = validation::check_pod_lifetime(self.ttl()) {
            return Err(self.bad("ttl", &s.ttl, &invalid.rule));
        }
        for (key, value) in [
            ("image", &s.image),
            ("debug_image", &s.debug_image),
            ("windows_image", &s.windows_image),
            ("recorder_image", &s.recorder_image),
        ] {
            if let Err(invalid) = validation::check_image(value) {
                return Err(self.bad(key, value, &invalid.rule));
            }
        }
        for secret in &s.image_pull_secrets {
            if let Err(invalid) = validation::check_object_name(secret) {
                return Err(self.bad("image_pull_secrets", secret, &invalid.rule));
            }
        }
        if let Some(class) = &s.priority_class
            && let Err(invalid) = validation::check_object_name(class)
        {
            return Err(self.bad("priority_class", class, &invalid.rule));
        }
        for (key, value) in &s.labels {
            if let Err(invalid) = validation::check_labels([(key, value)]) {
                return Err(self.bad(&format!("labels.{key}"), value, &invalid.rule));
            }
        }
        for (key, value) in &s.annotations {
            if let Err(invalid) = validation::check_annotations([(key, value)], ANNOTATIONS_BUDGET)
            {
                return Err(self.bad(&format!("annotations.{key}"), value, &invalid.rule));
            }
        }
        if let Err(invalid) = validation::check_annotations(&s.annotations, ANNOTATIONS_BUDGET) {
            return Err(SettingsError::BadCombination {
                key: "annotations".into(),
                origin: self.source_of("annotations"),
                why: invalid.rule,
            });
        }
        let r = &s.resources;
        for (resource, request, limit, keys) in [
            (
                "cpu",
                &r.cpu_request,
                &r.cpu_limit,
                ["resources.cpu_request", "resources.cpu_limit"],
            ),
            (
                "memory",
                &r.memory_request,
                &r.memory_limit,
                ["resources.memory_request", "resources.memory_limit"],
            ),
        ] {
            for (key, value) in keys.iter().zip([request, limit]) {
                if let Some(value) = value
                    && let Err(invalid) = validation::parse_quantity(value)
                {
                    return Err(self.bad(key, value, &invalid.rule));
                }
            }
            if let Err(invalid) =
                validation::check_request_and_limit(resource, request.as_deref(), limit.as_deref())
            {
                return Err(SettingsError::BadCombination {
                    key: keys[0].into(),
                    origin: self.source_of(keys[0]),
                    why: invalid.rule,
                });
            }
        }
        Ok(())
    }

    pub fn ttl(&self) -> Duration {
        humantime::parse_duration(&self.settings.ttl).unwrap_or(Duration::from_secs(3600))
    }

    pub fn start_timeout(&self) -> Duration {
        humantime::parse_duration(&self.settings.start_timeout).unwrap_or(Duration::from_secs(120))
    }

    /// The persist setting's idle time, if set.
    pub fn persist(&self) -> Option<Duration> {
        let persist = self.settings.persist.as_deref()?;
        parse_persist(persist).ok()
    }

    pub fn debug_profile(&self) -> Profile {
        self.settings.debug_profile.parse().unwrap_or_default()
    }
}

/// A persist idle time (--persist, the persist setting): 0 for none, else
/// a duration of at least 1s.
pub fn parse_persist(text: &str) -> Result<Duration, String> {
    match text.trim() {
        "0" => Ok(Duration::ZERO),
        other => match humantime::parse_duration(other) {
            Ok(d) if d > validation::POD_LIFETIME_MAX => Err(crate::values::TOO_LONG.into()),
            Ok(d) if d >= Duration::from_secs(1) => Ok(d),
            Ok(_) => Err("must be 0 or at least 1s".into()),
            Err(e) => Err(format!("{e} (examples: 0, 90s, 10m)")),
        },
    }
}

/// Every key a setting can have, nested ones dotted.
pub fn known_keys() -> Vec<String> {
    flatten_keys(
        &serde_json::to_value(Settings::default()).unwrap_or_default(),
        "",
    )
    .into_iter()
    .chain(
        [
            "namespace",
            "image_pull_policy",
            "priority_class",
            "persist",
            "resources.cpu_limit",
        ]
        .map(String::from),
    )
    .collect::<std::collections::BTreeSet<_>>()
    .into_iter()
    .collect()
}

fn flatten_keys(value: &serde_json::Value, prefix: &str) -> Vec<String> {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                if v.is_object() && !v.as_object().is_some_and(|m| m.is_empty()) {
                    flatten_keys(v, &key)
                } else if v.is_null() {
                    Vec::new()
                } else {
                    vec![key]
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn toml_has_key(text: &str, dotted: &str) -> bool {
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    let mut current = toml::Value::Table(table);
    for part in dotted.split('.') {
        match current.get(part) {
            Some(next) => current = next.clone(),
            None => return false,
        }
    }
    true
}

/// The variable that `var`, which names no setting, was probably meant to
/// be, if one is close.
fn likely_meant(var: &str, known: &[String]) -> Option<String> {
    // Compared without the prefix that every name shares, which would make
    // any two names look alike.
    let wanted = var.strip_prefix(ENV_PREFIX).unwrap_or(var);
    let names: Vec<String> = known
        .iter()
        .map(|key| key_env_var(key)[ENV_PREFIX.len()..].to_string())
        .collect();
    let is_map = |name: &str| MAP_KEYS.iter().any(|map| map.eq_ignore_ascii_case(name));
    let entry = wanted.split_once("__").map_or("<KEY>", |(_, entry)| entry);
    let variable = |name: &str| {
        if is_map(name) {
            format!("{ENV_PREFIX}{name}__{entry}")
        } else {
            format!("{ENV_PREFIX}{name}")
        }
    };

    // The same but for single and double underscores: a nested key or a
    // map entry needs a double one.
    let single_underscores = |name: &str| name.replace("__", "_");
    if let Some(name) = names
        .iter()
        .find(|name| single_underscores(name) == single_underscores(wanted))
    {
        return Some(variable(name));
    }
    if let Some((map, entry)) = names.iter().filter(|name| is_map(name)).find_map(|map| {
        let entry = single_underscores(wanted)
            .strip_prefix(&format!("{map}_"))?
            .to_string();
        (!entry.is_empty()).then_some((map, entry))
    }) {
        return Some(format!("{ENV_PREFIX}{map}__{entry}"));
    }
    // The last part of one setting's name alone (CPU_LIMIT).
    let ending = format!("_{wanted}");
    let mut ending_so = names.iter().filter(|name| name.ends_with(&ending));
    if let (Some(name), None) = (ending_so.next(), ending_so.next()) {
        return Some(variable(name));
    }
    // A typo.
    toolbox_cluster::closest(wanted, &names, 1)
        .pop()
        .map(|name| variable(&name))
}

/// TOOLBOX_RESOURCES__CPU_LIMIT -> resources.cpu_limit
fn env_var_key(var: &str) -> String {
    var.trim_start_matches(ENV_PREFIX)
        .to_ascii_lowercase()
        .replace("__", ".")
}

/// resources.cpu_limit -> TOOLBOX_RESOURCES__CPU_LIMIT
pub fn key_env_var(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.to_ascii_uppercase().replace('.', "__")
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn write(text: &str) -> (tempdir::Dir, PathBuf) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("config.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let path = std::env::temp_dir().join(format!(
                    "toolbox-settings-{}-{:?}",
                    std::process::id(),
                    std::thread::current().id()
                ));
                std::fs::create_dir_all(&path).unwrap();
                Dir(path)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn defaults_apply_without_file_or_environment() {
        let loaded = load(None, &env(&[])).unwrap();
        assert_eq!(loaded.settings, Settings::default());
        assert_eq!(loaded.ttl(), Duration::from_secs(3600));
        assert_eq!(loaded.source_of("image"), Source::Default);
    }

    #[test]
    fn the_environment_overrides_the_file_and_each_value_knows_its_source() {
        let (_dir, path) = write(
            "ttl = \"30m\"\nimage = \"registry.local/tools:1\"\n[resources]\ncpu_limit = \"1\"\n[labels]\nteam = \"sre\"\n",
        );
        let loaded = load(
            Some(&path),
            &env(&[
                ("TOOLBOX_TTL", "15m"),
                ("TOOLBOX_IMAGE_PULL_SECRETS", "a,b"),
            ]),
        )
        .unwrap();
        assert_eq!(loaded.settings.ttl, "15m");
        assert_eq!(loaded.settings.image, "registry.local/tools:1");
        assert_eq!(
            loaded.settings.image_pull_secrets,
            vec!["a".to_string(), "b".to_string()]
        );
        assert_eq!(loaded.settings.resources.cpu_limit.as_deref(), Some("1"));
        assert_eq!(loaded.settings.labels["team"], "sre");
        assert_eq!(loaded.source_of("ttl"), Source::Env("TOOLBOX_TTL".into()));
        assert_eq!(loaded.source_of("image"), Source::File(path.clone()));
        assert_eq!(loaded.source_of("resources.cpu_limit"), Source::File(path));
        assert_eq!(loaded.source_of("start_timeout"), Source::Default);
    }

    #[test]
    fn an_unknown_key_names_the_key_and_the_file() {
        let (_dir, path) = write("imagee = \"x\"\n");
        let err = load(Some(&path), &env(&[])).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("imagee"), "{err}");
        assert!(err.contains("expected one of"), "{err}");
    }

    #[test]
    fn a_bad_value_names_the_key_its_source_and_the_allowed_values() {
        let err = load(None, &env(&[("TOOLBOX_DEBUG_PROFILE", "root")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("debug_profile"), "{err}");
        assert!(err.contains("TOOLBOX_DEBUG_PROFILE"), "{err}");
        assert!(err.contains("sysadmin"), "{err}");
        let err = load(None, &env(&[("TOOLBOX_TTL", "soon")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ttl") && err.contains("1h"), "{err}");
    }

    #[test]
    fn a_namespace_that_cannot_exist_is_a_bad_value_from_its_source() {
        let err = load(None, &env(&[("TOOLBOX_NAMESPACE", "UPPER_case")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "setting namespace = \"UPPER_case\" (from env TOOLBOX_NAMESPACE) is invalid: {}",
                toolbox_cluster::NameKind::Namespace.rule()
            )
        );
        let (_dir, path) = write("namespace = \"-ops\"\n");
        let err = load(Some(&path), &env(&[])).unwrap_err().to_string();
        assert!(err.contains("namespace = \"-ops\""), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        let loaded = load(None, &env(&[("TOOLBOX_NAMESPACE", "kube-system")])).unwrap();
        assert_eq!(loaded.settings.namespace.as_deref(), Some("kube-system"));
    }

    #[test]
    fn an_unknown_variable_is_ignored_with_a_warning_naming_what_it_probably_meant() {
        let warnings = |var: &str| {
            let loaded = load(None, &env(&[(var, "1")])).unwrap();
            assert_eq!(
                loaded.settings,
                Settings::default(),
                "{var} changed a setting"
            );
            loaded.warnings
        };
        let ignored = |var: &str, meant: &str| {
            vec![format!(
                "ignoring {var}: not a toolbox setting (did you mean {meant}?)"
            )]
        };
        // A nested key or a map entry needs a double underscore.
        assert_eq!(
            warnings("TOOLBOX_RESOURCES_CPU_LIMIT"),
            ignored(
                "TOOLBOX_RESOURCES_CPU_LIMIT",
                "TOOLBOX_RESOURCES__CPU_LIMIT"
            )
        );
        assert_eq!(
            warnings("TOOLBOX_LABELS_TEAM"),
            ignored("TOOLBOX_LABELS_TEAM", "TOOLBOX_LABELS__TEAM")
        );
        assert_eq!(
            warnings("TOOLBOX_IMAGE__PULL_POLICY"),
            ignored("TOOLBOX_IMAGE__PULL_POLICY", "TOOLBOX_IMAGE_PULL_POLICY")
        );
        // The last part of a name alone.
        assert_eq!(
            warnings("TOOLBOX_CPU_LIMIT"),
            ignored("TOOLBOX_CPU_LIMIT", "TOOLBOX_RESOURCES__CPU_LIMIT")
        );
        // Typos, in a map's name too.
        assert_eq!(
            warnings("TOOLBOX_IMAGES"),
            ignored("TOOLBOX_IMAGES", "TOOLBOX_IMAGE")
        );
        assert_eq!(
            warnings("TOOLBOX_LABEL__TEAM"),
            ignored("TOOLBOX_LABEL__TEAM", "TOOLBOX_LABELS__TEAM")
        );
        assert_eq!(
            warnings("TOOLBOX_START_TIMOUT"),
            ignored("TOOLBOX_START_TIMOUT", "TOOLBOX_START_TIMEOUT")
        );
        // Nothing close: the warning all the same.
        assert_eq!(
            warnings("TOOLBOX_COLOR"),
            vec!["ignoring TOOLBOX_COLOR: not a toolbox setting".to_string()]
        );
        // One line per variable.
        let loaded = load(
            None,
            &env(&[("TOOLBOX_COLOR", "1"), ("TOOLBOX_TTLL", "1m")]),
        )
        .unwrap();
        assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    }

    #[test]
    fn settings_and_the_variables_that_are_not_settings_pass_silently() {
        let (_dir, path) = write("ttl = \"30m\"\n");
        let loaded = load(
            None,
            &env(&[
                ("TOOLBOX_CONFIG", path.to_str().unwrap()),
                ("TOOLBOX_LOG", "debug"),
                ("TOOLBOX_GENERATE_MAN", "/tmp/man"),
                ("TOOLBOX_BIN", "/tmp/toolbox"),
                ("TOOLBOX_E2E_CLUSTER", "/tmp/cluster"),
                ("TOOLBOX_E2E_OLDER_KUBE_BIN", "/tmp/kube"),
                ("TOOLBOX_PATH", "/usr/bin/toolbox"),
                ("TOOLBOX_TTL", "15m"),
                ("TOOLBOX_RESOURCES__CPU_LIMIT", "1"),
                ("TOOLBOX_LABELS__TEAM", "sre"),
                ("TOOLBOX_IMAGE_PULL_SECRETS", "a,b"),
            ]),
        )
        .unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.settings.ttl, "15m");
        assert_eq!(loaded.settings.resources.cpu_limit.as_deref(), Some("1"));
        assert_eq!(loaded.settings.labels["team"], "sre");
    }

    /// Every `TOOLBOX_*` variable that toolbox reads at run time, found in
    /// its sources, is either a setting or listed as not one: a new one
    /// must not make every run warn.
    #[test]
    fn every_variable_toolbox_reads_is_known() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut read = std::collections::BTreeSet::new();
        let mut dirs = vec![root.join("src"), root.join("../../pkg")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for reader in ["var(\"", "var_os(\"", "get(\""] {
                        for (at, _) in text.match_indices(&format!("{reader}{ENV_PREFIX}")) {
                            let name = &text[at + reader.len()..];
                            read.insert(name[..name.find('"').unwrap()].to_string());
                        }
                    }
                }
            }
        }
        for must_be_found in ["TOOLBOX_CONFIG", "TOOLBOX_LOG", "TOOLBOX_GENERATE_MAN"] {
            assert!(read.contains(must_be_found), "{read:?}");
        }
        for var in read {
            let loaded = load(None, &env(&[(&var, "/dev/null")])).unwrap();
            assert!(loaded.warnings.is_empty(), "{var}: {:?}", loaded.warnings);
        }
    }

    #[test]
    fn a_map_setting_comes_from_where_its_entries_did() {
        let (_dir, path) = write("[labels]\nteam = \"sre\"\n[annotations]\nowner = \"me\"\n");
        let loaded = load(
            Some(&path),
            &env(&[("TOOLBOX_ANNOTATIONS__TICKET", "INC-1")]),
        )
        .unwrap();
        assert_eq!(loaded.source_of("labels"), Source::File(path.clone()));
        assert_eq!(loaded.source_of("labels.team"), Source::File(path.clone()));
        let both = loaded.source_of("annotations");
        assert_eq!(
            both,
            Source::Merged(vec![
                Source::File(path.clone()),
                Source::Env("TOOLBOX_ANNOTATIONS__TICKET".into()),
            ])
        );
        assert_eq!(
            both.to_string(),
            format!("file {}, env TOOLBOX_ANNOTATIONS__TICKET", path.display())
        );

        let mut loaded = load(None, &env(&[("TOOLBOX_LABELS__TEAM", "sre")])).unwrap();
        assert_eq!(
            loaded.source_of("labels"),
            Source::Env("TOOLBOX_LABELS__TEAM".into())
        );
        assert_eq!(loaded.source_of("annotations"), Source::Default);
        loaded.set_by_flag("labels.team", "--label");
        assert_eq!(loaded.source_of("labels"), Source::Flag("--label".into()));
    }

    #[test]
    fn persist_is_off_unless_set_and_takes_zero_or_a_duration() {
        let loaded = load(None, &env(&[])).unwrap();
        assert_eq!(loaded.persist(), None);
        let loaded = load(None, &env(&[("TOOLBOX_PERSIST", "10m")])).unwrap();
        assert_eq!(loaded.persist(), Some(Duration::from_secs(600)));
        assert_eq!(
            loaded.source_of("persist"),
            Source::Env("TOOLBOX_PERSIST".into())
        );
        let loaded = load(None, &env(&[("TOOLBOX_PERSIST", "0")])).unwrap();
        assert_eq!(loaded.persist(), Some(Duration::ZERO));
        let err = load(None, &env(&[("TOOLBOX_PERSIST", "soon")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("persist") && err.contains("10m"), "{err}");
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let err = load(Some(Path::new("/nonexistent/toolbox.toml")), &env(&[])).unwrap_err();
        assert!(matches!(err, SettingsError::MissingFile { .. }));
    }
}
