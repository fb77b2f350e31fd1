//! The pods node-shell, debug-node and compare build, as plain options with
//! no clap types: each command resolves its flags and the settings into
//! them once ([`PodOptions::resolve`], and the command's own fields), then
//! builds one pod per node from them with pkg/podtemplate's pure
//! templates.
//!
//! - [`PodOptions`]: what every node pod takes from the session flags and
//!   the settings (lifetime, reason, pull secrets and policy, priority
//!   class, labels, annotations, resources).
//! - [`reader_session`] and [`copy_session`]: the one-purpose pods of
//!   `toolbox sessions` and `toolbox cp`.
//! - [`NodeShellOptions`] and [`DebugNodeOptions`]: the rest of each
//!   command's pod. `new` gives the pod of a session without flags (what
//!   compare compares); the command sets what its flags change.
//!   `build(node, ...)` gives the template's request and the pod.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::{Container, Pod, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use toolbox_cluster::{SessionSpec, TargetNode};
use toolbox_podtemplate::{
    Audit, COPY_CONTAINER, COPY_SUBCOMMAND, CopyDirection, CopyRequest, DEBUG_NODE_SUBCOMMAND,
    DUMP_CONTAINER, DUMP_SUBCOMMAND, DebugNodeRequest, DumpRequest, HostNamespaces, LOGS_CONTAINER,
    LOGS_SUBCOMMAND, NODE_SHELL_SUBCOMMAND, NodeLogsRequest, NodeOs, NodeShellRequest, PodCommon,
    PodTarget, Profile, READER_CONTAINER, ReaderRequest, Recording, SESSIONS_SUBCOMMAND,
    TemplateError, copy_pod, debug_node_exec_command, debug_node_pod, dump_pod, node_logs_pod,
    node_shell_exec_command, node_shell_pod, reader_pod, recorded_exec_command, session_id,
};

use super::args::{PodArgs, SessionArgs};
use crate::exit::{AppError, usage};
use crate::settings::{LoadedSettings, Source};

/// The debug container's name when `-c` does not give one, as kubectl's.
pub const DEBUG_CONTAINER: &str = "debugger";

/// What every node pod takes from the session flags and the settings,
/// resolved once; the pod's name, node and expiry come when it is built.
#[derive(Debug, Clone)]
pub struct PodOptions {
    pub ttl: Duration,
    /// Whether the lifetime is toolbox's own default: no --ttl, and no ttl
    /// setting in a file or the environment. Only then may a namespace's
    /// maximum shorten it; a lifetime the user chose is theirs to change.
    pub ttl_is_default: bool,
    pub reason: Option<String>,
    pub image_pull_secrets: Vec<String>,
    pub image_pull_policy: Option<String>,
    pub priority_class: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub resources: Option<ResourceRequirements>,
    /// How the pods record their sessions; `None` with --no-record.
    pub recording: Option<Recording>,
    /// --record-input: what is typed is recorded too.
    pub record_input: bool,
}

/// What a session execs in its pod, and the id of the recording it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCommand {
    pub argv: Vec<String>,
    /// `None` when the session is not recorded.
    pub recording: Option<String>,
    /// The command itself, as `argv` runs it through the recorder or not.
    pub command: Vec<String>,
}

impl PodOptions {
    /// A session's flags over the settings.
    pub fn resolve(session: &SessionArgs, settings: &LoadedSettings) -> PodOptions {
        let pod = PodOptions::resolve_pod(&session.pod, settings);
        PodOptions {
            recording: pod.recording.clone().filter(|_| !session.no_record),
            record_input: session.record_input,
            ..pod
        }
    }

    /// A pod's flags over the settings.
    pub fn resolve_pod(flags: &PodArgs, settings: &LoadedSettings) -> PodOptions {
        let defaults = PodOptions::from_settings(settings);
        let mut image_pull_secrets = defaults.image_pull_secrets.clone();
        image_pull_secrets.extend(flags.image_pull_secrets.iter().cloned());
        image_pull_secrets.dedup();
        PodOptions {
            ttl: flags.ttl.unwrap_or(defaults.ttl),
            ttl_is_default: flags.ttl.is_none() && defaults.ttl_is_default,
            reason: flags.reason.clone(),
            image_pull_secrets,
            image_pull_policy: flags
                .image_pull_policy
                .clone()
                .or(defaults.image_pull_policy),
            priority_class: flags.priority_class.clone().or(defaults.priority_class),
            ..defaults
        }
    }

    /// The settings alone: a session without session flags.
    pub fn from_settings(settings: &LoadedSettings) -> PodOptions {
        let loaded = settings;
        let settings = &loaded.settings;
        let mut image_pull_secrets = settings.image_pull_secrets.clone();
        image_pull_secrets.dedup();
        PodOptions {
            ttl: loaded.ttl(),
            ttl_is_default: loaded.source_of("ttl") == Source::Default,
            reason: None,
            image_pull_secrets,
            image_pull_policy: settings.image_pull_policy.clone(),
            priority_class: settings.priority_class.clone(),
            labels: settings.labels.clone(),
            annotations: settings.annotations.clone(),
            resources: resources(&settings.resources),
            recording: settings.record.then(|| Recording {
                recorder_image: settings.recorder_image.clone(),
            }),
            record_input: false,
        }
    }

    /// `command` as a session execs it in a pod built from `common`:
    /// through the recorder, with a new session id, when the pod records.
    fn session_command(&self, common: &PodCommon, command: Vec<String>) -> SessionCommand {
        let Some(_) = &common.recording else {
            return SessionCommand {
                argv: command.clone(),
                recording: None,
                command,
            };
        };
        let id = new_session_id(&common.node_name);
        SessionCommand {
            argv: recorded_exec_command(&id, self.record_input, command.clone()),
            recording: Some(id),
            command,
        }
    }

    /// The parts of a pod on `node` that do not depend on the subcommand;
    /// `command_line` is what the audit annotation records.
    fn pod_common(
        &self,
        node: &str,
        namespace: &str,
        image: String,
        user: String,
        subcommand: &str,
        command_line: Vec<String>,
    ) -> PodCommon {
        let expires_at =
            humantime::format_rfc3339_seconds(SystemTime::now() + self.ttl).to_string();
        PodCommon {
            name_suffix: random_suffix(),
            namespace: namespace.to_string(),
            node_name: node.to_string(),
            image,
            image_pull_policy: self.image_pull_policy.clone(),
            image_pull_secrets: self.image_pull_secrets.clone(),
            extra_labels: self.labels.clone(),
            extra_annotations: self.annotations.clone(),
            resources: self.resources.clone(),
            priority_class: self.priority_class.clone(),
            ttl_seconds: self.ttl.as_secs() as i64,
            ttl_is_default: self.ttl_is_default,
            recording: self.recording.clone(),
            audit: Audit {
                user,
                client_host: gethostname::gethostname().to_string_lossy().into_owned(),
                subcommand: subcommand.to_string(),
                command: command_line,
                reason: self.reason.clone(),
                expires_at,
            },
        }
    }
}

/// How long a `toolbox sessions` reader pod may live: it runs one short
/// command (the recorder's `index` or `cat`), then toolbox deletes it.
pub const READER_TTL: Duration = Duration::from_secs(300);

/// `toolbox sessions`' reader pod on `node`, running `command` (the
/// recorder's `index` or `cat ID`): node-shell's image from the settings
/// (it has the holder's `sleep`) with the recorder of the recorder image,
/// whether or not sessions are recorded by default, and the settings' pull
/// options, labels and annotations. `audit_line` is what the audit
/// annotation records after `sessions`.
pub fn reader_session(
    settings: &LoadedSettings,
    node: &str,
    namespace: &str,
    user: String,
    audit_line: Vec<String>,
    command: Vec<String>,
) -> SessionSpec {
    let options = PodOptions {
        ttl: READER_TTL,
        ttl_is_default: true,
        ..PodOptions::from_settings(settings)
    };
    let common = options.pod_common(
        node,
        namespace,
        settings.settings.image.clone(),
        user,
        SESSIONS_SUBCOMMAND,
        audit_line,
    );
    let pod = reader_pod(&ReaderRequest {
        common,
        recording: Recording {
            recorder_image: settings.settings.recorder_image.clone(),
        },
    });
    SessionSpec {
        pod,
        container: READER_CONTAINER.to_string(),
        command,
        tty: false,
        start_timeout: settings.start_timeout(),
        keep: false,
        what: "sessions reader".to_string(),
        persist: None,
        early_exec: false,
    }
}

/// What `toolbox cp` runs: its pod on one node and the exec of its node
/// end, with the id the node's recording of the copy gets.
pub struct CopySession {
    pub spec: SessionSpec,
    pub recording: String,
}

/// What a copy's pod is made of, besides the pod flags and the settings.
pub struct CopyPlan {
    /// --image, else the image setting.
    pub image: Option<String>,
    pub node: String,
    pub direction: CopyDirection,
    /// The node's paths the copy reads or writes.
    pub node_paths: Vec<String>,
    /// What the audit annotation records after `cp`.
    pub audit_line: Vec<String>,
    pub start_timeout: Duration,
}

/// `toolbox cp`'s pod (pkg/podtemplate's copy pod, with the recorder of the
/// recorder image whatever the record setting says: the recorder is the
/// copy's node end) and the exec `command` makes from the recording's id.
pub fn copy_session(
    options: &PodOptions,
    settings: &LoadedSettings,
    plan: CopyPlan,
    namespace: &str,
    user: String,
    command: impl FnOnce(&str) -> Vec<String>,
) -> CopySession {
    let common = options.pod_common(
        &plan.node,
        namespace,
        plan.image
            .unwrap_or_else(|| settings.settings.image.clone()),
        user,
        COPY_SUBCOMMAND,
        plan.audit_line,
    );
    let recording = new_session_id(&plan.node);
    let pod = copy_pod(&CopyRequest {
        common,
        direction: plan.direction,
        node_paths: plan.node_paths,
        recording: Recording {
            recorder_image: settings.settings.recorder_image.clone(),
        },
    });
    CopySession {
        spec: SessionSpec {
            pod,
            container: COPY_CONTAINER.to_string(),
            command: command(&recording),
            tty: false,
            start_timeout: plan.start_timeout,
            keep: false,
            what: "cp".to_string(),
            persist: None,
            early_exec: false,
        },
        recording,
    }
}

/// All that `toolbox dump`'s pods are made of but the node: never
/// recorded (see pkg/podtemplate's dump module).
#[derive(Debug, Clone)]
pub struct DumpPodOptions {
    pub pod: PodOptions,
    pub image: String,
    pub namespace: String,
    pub user: String,
    /// What the audit annotation records after `dump`.
    pub audit_line: Vec<String>,
    /// What the pods read, `NAME: SOURCE` each, for their annotation.
    pub items: Vec<String>,
    pub start_timeout: Duration,
}

impl DumpPodOptions {
    /// The session of `node`'s pod.
    pub fn session(&self, node: &str) -> SessionSpec {
        let common = PodCommon {
            recording: None,
            ..self.pod.pod_common(
                node,
                &self.namespace,
                self.image.clone(),
                self.user.clone(),
                DUMP_SUBCOMMAND,
                self.audit_line.clone(),
            )
        };
        SessionSpec {
            pod: dump_pod(&DumpRequest {
                common,
                items: self.items.clone(),
            }),
            container: DUMP_CONTAINER.to_string(),
            command: Vec::new(),
            tty: false,
            start_timeout: self.start_timeout,
            keep: false,
            what: "dump".to_string(),
            persist: None,
            early_exec: false,
        }
    }
}

/// All that `toolbox logs`' fallback pod is made of but its node and exec.
#[derive(Debug, Clone)]
pub struct NodeLogsOptions {
    pub pod: PodOptions,
    /// node-tools, or --image: busybox's applets and nsenter.
    pub image: String,
    /// What the audit annotation records after `logs`: the logs and flags.
    pub audit_line: Vec<String>,
}

impl NodeLogsOptions {
    /// The pod on `node` and what its session execs: `command` (the
    /// script that reads the logs), through the recorder when the pod
    /// records.
    pub fn build(
        &self,
        node: &str,
        namespace: &str,
        user: String,
        command: Vec<String>,
    ) -> (Pod, Vec<String>) {
        let common = self.pod.pod_common(
            node,
            namespace,
            self.image.clone(),
            user,
            LOGS_SUBCOMMAND,
            self.audit_line.clone(),
        );
        let argv = self.pod.session_command(&common, command).argv;
        (node_logs_pod(&NodeLogsRequest { common }), argv)
    }

    /// The pod on `node` as one session, for pkg/cluster's captured driver.
    pub fn session(
        &self,
        node: &str,
        namespace: &str,
        user: String,
        command: Vec<String>,
        start_timeout: Duration,
    ) -> SessionSpec {
        let (pod, command) = self.build(node, namespace, user, command);
        SessionSpec {
            pod,
            container: LOGS_CONTAINER.to_string(),
            command,
            tty: false,
            start_timeout,
            keep: false,
            what: "logs".to_string(),
            persist: None,
            early_exec: false,
        }
    }
}

/// All that node-shell's pod is made of but the node it runs on.
#[derive(Debug, Clone)]
pub struct NodeShellOptions {
    pub pod: PodOptions,
    /// The image on Linux (and Bottlerocket) nodes and on Windows nodes.
    pub linux_image: String,
    pub windows_image: String,
    pub namespaces: HostNamespaces,
    /// Mount the host's / at /host and run in the container, without nsenter.
    pub host_mount: bool,
    /// The command to run instead of a login shell.
    pub command: Vec<String>,
    /// `--pod`: the container whose namespaces the sessions enter.
    pub target: Option<PodTarget>,
}

impl NodeShellOptions {
    /// A shell in all of the host's namespaces, in `image` if given, else
    /// in the settings' image for the node's OS.
    pub fn new(pod: PodOptions, image: Option<String>, settings: &LoadedSettings) -> Self {
        let settings = &settings.settings;
        NodeShellOptions {
            pod,
            linux_image: image.clone().unwrap_or_else(|| settings.image.clone()),
            windows_image: image.unwrap_or_else(|| settings.windows_image.clone()),
            namespaces: HostNamespaces::default(),
            host_mount: false,
            command: Vec::new(),
            target: None,
        }
    }

    /// The pod on `node`, and the request it is built from, without
    /// creating anything.
    pub fn build(
        &self,
        node: &TargetNode,
        namespace: &str,
        user: String,
    ) -> (NodeShellRequest, Pod) {
        let image = match node.os {
            NodeOs::Windows => self.windows_image.clone(),
            NodeOs::Linux | NodeOs::Bottlerocket => self.linux_image.clone(),
        };
        let command_line = if self.command.is_empty() {
            Vec::new()
        } else {
            std::iter::once("--".to_string())
                .chain(self.command.iter().cloned())
                .collect()
        };
        let request = NodeShellRequest {
            common: self.pod.pod_common(
                &node.name,
                namespace,
                image,
                user,
                NODE_SHELL_SUBCOMMAND,
                command_line,
            ),
            os: node.os,
            namespaces: self.namespaces,
            host_mount: self.host_mount,
            target: self.target.clone(),
        };
        let pod = node_shell_pod(&request);
        (request, pod)
    }

    /// What the session execs in the pod built from `request`.
    pub fn exec_command(&self, request: &NodeShellRequest) -> SessionCommand {
        let command = node_shell_exec_command(request, &self.command);
        match request.os {
            // The pod of a Windows node cannot run the Linux recorder: see
            // [`unrecorded_windows_line`].
            NodeOs::Windows => SessionCommand {
                argv: command.clone(),
                recording: None,
                command,
            },
            NodeOs::Linux | NodeOs::Bottlerocket => {
                self.pod.session_command(&request.common, command)
            }
        }
    }

    /// The line said before a session on a Windows node, whose sessions
    /// cannot be recorded, unless recording is off anyway.
    pub fn unrecorded_windows_line(&self, node: &TargetNode) -> Option<String> {
        (node.os == NodeOs::Windows && self.pod.recording.is_some()).then(|| {
            format!(
                "note: {} is a Windows node: its session is not recorded, as the recorder runs on Linux only",
                node.name
            )
        })
    }
}

/// All that debug-node's pod is made of but the node it runs on.
#[derive(Debug, Clone)]
pub struct DebugNodeOptions {
    pub pod: PodOptions,
    pub image: String,
    pub profile: Profile,
    pub container: String,
    pub env: Vec<(String, String)>,
    /// The --custom container, already read, and the file it came from.
    pub custom: Option<(PathBuf, Container)>,
    /// Run the shell or command chrooted into the node's / (at /host).
    pub chroot: bool,
    /// The command to run instead of a login shell.
    pub command: Vec<String>,
}

impl DebugNodeOptions {
    /// The debug pod of `profile` (else the debug_profile setting), in
    /// `image` (else the debug_image setting), with kubectl's container
    /// name and nothing more.
    pub fn new(
        pod: PodOptions,
        image: Option<String>,
        profile: Option<Profile>,
        settings: &LoadedSettings,
    ) -> Self {
        DebugNodeOptions {
            pod,
            image: image.unwrap_or_else(|| settings.settings.debug_image.clone()),
            profile: profile.unwrap_or_else(|| settings.debug_profile()),
            container: DEBUG_CONTAINER.to_string(),
            env: Vec::new(),
            custom: None,
            chroot: false,
            command: Vec::new(),
        }
    }

    /// The pod on `node`, and the request it is built from, without
    /// creating anything.
    pub fn build(
        &self,
        node: &str,
        namespace: &str,
        user: String,
    ) -> Result<(DebugNodeRequest, Pod), AppError> {
        let request = DebugNodeRequest {
            common: self.pod.pod_common(
                node,
                namespace,
                self.image.clone(),
                user,
                DEBUG_NODE_SUBCOMMAND,
                audit_command_line(self.profile, self.chroot, &self.command),
            ),
            profile: self.profile,
            container_name: self.container.clone(),
            env: self.env.clone(),
            custom: self.custom.as_ref().map(|(_, container)| container.clone()),
        };
        let pod = debug_node_pod(&request).map_err(|err| match &self.custom {
            Some((path, _)) => custom_error(path, err),
            None => usage(err.to_string()),
        })?;
        Ok((request, pod))
    }

    /// What the session execs in the pod built from `request`.
    pub fn exec_command(&self, request: &DebugNodeRequest) -> SessionCommand {
        let command = debug_node_exec_command(request, &self.command, self.chroot);
        self.pod.session_command(&request.common, command)
    }
}

/// A --custom container the template refuses, named by its file.
pub fn custom_error(path: &Path, err: TemplateError) -> AppError {
    usage(format!("--custom {}: {err}", path.display()))
}

/// What the audit annotation records: the effective profile (which may come
/// from the settings rather than a flag), --chroot, and the command.
fn audit_command_line(profile: Profile, chroot: bool, command: &[String]) -> Vec<String> {
    let mut line = vec!["--profile".to_string(), profile.name().to_string()];
    if chroot {
        line.push("--chroot".to_string());
    }
    if !command.is_empty() {
        line.push("--".to_string());
        line.extend(command.iter().cloned());
    }
    line
}

fn resources(r: &crate::settings::ResourceSettings) -> Option<ResourceRequirements> {
    let pairs = |cpu: &Option<String>, memory: &Option<String>| {
        let map: BTreeMap<String, Quantity> = [("cpu", cpu), ("memory", memory)]
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), Quantity(v.clone()?))))
            .collect();
        (!map.is_empty()).then_some(map)
    };
    let requests = pairs(&r.cpu_request, &r.memory_request);
    let limits = pairs(&r.cpu_limit, &r.memory_limit);
    (requests.is_some() || limits.is_some()).then(|| ResourceRequirements {
        requests,
        limits,
        ..Default::default()
    })
}

/// A new session's id on `node`: the node, the UTC time now, random bits.
pub fn new_session_id(node: &str) -> String {
    let now = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let compact: String = now.chars().filter(|c| !matches!(c, '-' | ':')).collect();
    session_id(node, &compact, random_bits() as u32)
}

/// 64 random bits: the standard library's hasher keys come from the OS's
/// randomness.
fn random_bits() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(std::process::id() as u64);
    hasher.finish()
}

/// Five lowercase letters and digits.
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = random_bits();
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_records_the_effective_profile_chroot_and_command() {
        assert_eq!(
            audit_command_line(Profile::General, false, &[]),
            ["--profile", "general"]
        );
        assert_eq!(
            audit_command_line(Profile::Sysadmin, true, &["uptime".into()]),
            ["--profile", "sysadmin", "--chroot", "--", "uptime"]
        );
    }
}
