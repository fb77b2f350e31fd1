//! node-shell against debug-node on one cluster: what each pod gives on the
//! node (read from the pods themselves), what kubectl debug offers at a
//! Kubernetes version, the node's environment, and the recommendation.
//! Everything here is pure: the live facts arrive as values.

use k8s_openapi::api::core::v1::{Container, Node, Pod};
use toolbox_podtemplate::{
    CLIENT_HOST_ANNOTATION, Profile, REASON_ANNOTATION, REQUESTED_BY_ANNOTATION,
};

use crate::inspect::review::{DryRun, Permission};
use crate::session::podsecurity::{Level, required_level};

/// What a pod gives its containers on the node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodAccess {
    pub privileged: bool,
    pub host_pid: bool,
    pub host_network: bool,
    pub host_ipc: bool,
    /// A Windows HostProcess pod: the container runs as a process on the host.
    pub host_process: bool,
    /// Where the node's / is mounted in the container.
    pub host_root_mount: Option<String>,
    pub capabilities_added: Vec<String>,
    pub capabilities_dropped: Vec<String>,
    pub image: String,
    /// activeDeadlineSeconds: the pod stops by itself after this long.
    pub lifetime_seconds: Option<i64>,
    /// The least restrictive PodSecurity level the pod needs.
    pub pod_security_level: &'static str,
    /// toolbox's audit annotations on the pod.
    pub audit_annotations: Vec<String>,
}

/// Reads what `pod` gives on its node.
pub fn pod_access(pod: &Pod) -> PodAccess {
    let spec = pod.spec.clone().unwrap_or_default();
    let containers: Vec<&Container> = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .collect();
    let security = |c: &&Container| c.security_context.clone().unwrap_or_default();
    let capabilities_of =
        |c: &&Container,
         pick: fn(k8s_openapi::api::core::v1::Capabilities) -> Option<Vec<String>>| {
            security(c).capabilities.and_then(pick).unwrap_or_default()
        };
    // Added anywhere is the pod's; dropped is the pod's only where every
    // container drops it (the recorder's installer drops ALL, the session's
    // container may not).
    let mut capabilities_added: Vec<String> = containers
        .iter()
        .flat_map(|c| capabilities_of(c, |caps| caps.add))
        .collect();
    capabilities_added.sort();
    capabilities_added.dedup();
    let mut capabilities_dropped: Vec<String> = containers
        .first()
        .map(|c| capabilities_of(c, |caps| caps.drop))
        .unwrap_or_default();
    capabilities_dropped.retain(|cap| {
        containers
            .iter()
            .all(|c| capabilities_of(c, |caps| caps.drop).contains(cap))
    });
    capabilities_dropped.sort();
    capabilities_dropped.dedup();
    let host_root_volume = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.host_path.as_ref().is_some_and(|h| h.path == "/"))
        .map(|v| v.name.clone());
    let host_root_mount = host_root_volume.and_then(|volume| {
        containers
            .iter()
            .flat_map(|c| c.volume_mounts.iter().flatten())
            .find(|m| m.name == volume)
            .map(|m| m.mount_path.clone())
    });
    let host_process = spec
        .security_context
        .as_ref()
        .and_then(|s| s.windows_options.as_ref())
        .and_then(|w| w.host_process)
        == Some(true);
    let annotations = pod.metadata.annotations.clone().unwrap_or_default();
    PodAccess {
        privileged: containers
            .iter()
            .any(|c| security(c).privileged == Some(true)),
        host_pid: spec.host_pid == Some(true),
        host_network: spec.host_network == Some(true),
        host_ipc: spec.host_ipc == Some(true),
        host_process,
        host_root_mount,
        capabilities_added,
        capabilities_dropped,
        image: spec
            .containers
            .first()
            .and_then(|c| c.image.clone())
            .unwrap_or_default(),
        lifetime_seconds: spec.active_deadline_seconds,
        pod_security_level: required_level(pod).name(),
        audit_annotations: [
            REQUESTED_BY_ANNOTATION,
            CLIENT_HOST_ANNOTATION,
            REASON_ANNOTATION,
        ]
        .into_iter()
        .filter(|key| annotations.contains_key(*key))
        .map(str::to_string)
        .collect(),
    }
}

impl PodAccess {
    /// "PID, network, IPC", or "none".
    pub fn host_namespaces(&self) -> String {
        let names: Vec<&str> = [
            (self.host_pid, "PID"),
            (self.host_network, "network"),
            (self.host_ipc, "IPC"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    /// The capabilities a container has, in words.
    pub fn capabilities(&self) -> String {
        if self.privileged || self.host_process {
            return "all (privileged)".into();
        }
        let dropped_all = self.capabilities_dropped.iter().any(|c| c == "ALL");
        match (self.capabilities_added.is_empty(), dropped_all) {
            (true, true) => "none (drops ALL)".into(),
            (true, false) => "the container runtime's defaults".into(),
            (false, true) => format!("only {}", self.capabilities_added.join(", ")),
            (false, false) => format!("runtime defaults + {}", self.capabilities_added.join(", ")),
        }
    }

    /// What the pod reaches of the host, in one phrase.
    pub fn summary(&self) -> String {
        if self.host_process {
            return "a HostProcess container: a process on the Windows host".into();
        }
        let mut parts = Vec::new();
        if self.privileged {
            parts.push("a privileged container".to_string());
        }
        let names: Vec<String> = [
            (self.host_pid, "PID"),
            (self.host_network, "network"),
            (self.host_ipc, "IPC"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| name.to_string())
        .collect();
        match names.as_slice() {
            [] => parts.push("no host namespaces".to_string()),
            names => parts.push(format!("the host's {} namespaces", join_words(names))),
        }
        if let Some(mount) = &self.host_root_mount {
            parts.push(format!("the node's / at {mount}"));
        }
        join_words(&parts)
    }
}

/// "a", "a and b", "a, b and c".
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// One point of the side-by-side comparison.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComparisonRow {
    pub point: &'static str,
    pub node_shell: String,
    pub debug_node: String,
}

/// The two pods being compared.
pub struct PodPair<'a> {
    pub node_shell: &'a Pod,
    /// The argv a node-shell session execs (nsenter on Linux).
    pub node_shell_command: &'a [String],
    pub debug_node: &'a Pod,
    pub profile: Profile,
    pub node: &'a str,
}

/// The rows of the comparison. Where a cell is a property of the pod, it is
/// read from the pod built by the same code the two commands use.
pub fn comparison_rows(pair: &PodPair) -> Vec<ComparisonRow> {
    let shell = pod_access(pair.node_shell);
    let debug = pod_access(pair.debug_node);
    let nsenter = pair.node_shell_command.iter().any(|w| w == "nsenter");
    let enters_host_mounts =
        nsenter && shell.host_pid && pair.node_shell_command.iter().any(|w| w == "--mount");
    let row = |point, node_shell: String, debug_node: String| ComparisonRow {
        point,
        node_shell,
        debug_node,
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let root_fs = |access: &PodAccess, enters: bool| match (&access.host_root_mount, enters) {
        (_, true) => "yes: as / (nsenter into PID 1's mount namespace)".to_string(),
        (Some(mount), false) => format!("yes: at {mount} (hostPath /)"),
        (None, false) if access.host_process => {
            "yes: a HostProcess container sees the host's drives".into()
        }
        (None, false) => "no".into(),
    };
    let lifetime = |access: &PodAccess| match access.lifetime_seconds {
        Some(seconds) => format!("stops by itself after {}", human_seconds(seconds)),
        None => "stays until deleted".into(),
    };
    let audit = |access: &PodAccess| {
        if access.audit_annotations.is_empty() {
            "no annotations".to_string()
        } else {
            let names: Vec<&str> = access
                .audit_annotations
                .iter()
                .map(|a| a.trim_start_matches("toolbox.dev/"))
                .collect();
            format!("{} annotations (--reason adds why)", names.join(", "))
        }
    };
    let needs = |access: &PodAccess| format!("PodSecurity {}", access.pod_security_level);
    let profile = pair.profile;
    vec![
        row(
            "native to Kubernetes",
            "no: a kubectl plugin (kubectl-node-shell) or toolbox".into(),
            format!("yes: kubectl debug node/{} --profile {profile}", pair.node),
        ),
        row(
            "needs external tooling",
            if nsenter {
                "the plugin or toolbox, and nsenter in the image".into()
            } else if shell.host_process {
                "the plugin or toolbox, and a HostProcess image".into()
            } else {
                "the plugin or toolbox".into()
            },
            "none beyond kubectl".into(),
        ),
        row(
            "image customizable",
            format!("yes: {}", shell.image),
            format!("yes: {}", debug.image),
        ),
        row(
            "privileged",
            yes_no(shell.privileged || shell.host_process),
            yes_no(debug.privileged),
        ),
        row(
            "host PID / network / IPC",
            shell.host_namespaces(),
            debug.host_namespaces(),
        ),
        row(
            "host root filesystem",
            root_fs(&shell, enters_host_mounts),
            root_fs(&debug, false),
        ),
        row("capabilities", shell.capabilities(), debug.capabilities()),
        row(
            "cleanup when the client dies",
            format!(
                "kubectl-node-shell: its pod stays; toolbox: deleted on every exit path, and {}",
                lifetime(&shell)
            ),
            format!(
                "kubectl debug: never deleted; toolbox: deleted on every exit path, and {}",
                lifetime(&debug)
            ),
        ),
        row(
            "audit trail (who and why)",
            format!("API audit log; toolbox: {}", audit(&shell)),
            format!(
                "API audit log and the managed-by label; toolbox: {}",
                audit(&debug)
            ),
        ),
        row(
            "PodSecurity level needed",
            shell.pod_security_level.to_string(),
            debug.pod_security_level.to_string(),
        ),
        row(
            "works on any compliant cluster",
            format!(
                "only where {} is allowed{}",
                needs(&shell),
                if nsenter {
                    "; the host needs a shell"
                } else {
                    ""
                }
            ),
            format!(
                "where {} is allowed, with kubectl 1.{} or later for profile {profile}",
                needs(&debug),
                profile_since(profile)
            ),
        ),
    ]
}

/// "1h", "30m", "90s": the largest unit that divides evenly.
fn human_seconds(seconds: i64) -> String {
    match seconds {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The first kubectl minor version whose `debug --profile` has `profile`.
pub fn profile_since(profile: Profile) -> u32 {
    match profile {
        Profile::Legacy => 20,
        Profile::General | Profile::Baseline | Profile::Restricted => 26,
        Profile::Netadmin => 27,
        Profile::Sysadmin => 30,
    }
}

/// kubectl debug --custom exists from this minor version.
pub const CUSTOM_SINCE: u32 = 30;
/// general replaces legacy as kubectl debug's default profile from this minor version.
pub const GENERAL_DEFAULT_SINCE: u32 = 36;

/// What `kubectl debug node/...` of one minor version offers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DebugSupport {
    pub kubectl_minor: u32,
    pub profiles: Vec<&'static str>,
    pub custom: bool,
    pub default_profile: &'static str,
}

/// What kubectl 1.`minor` (the version matching the server) offers.
pub fn debug_support(minor: u32) -> DebugSupport {
    DebugSupport {
        kubectl_minor: minor,
        profiles: Profile::ALL
            .into_iter()
            .filter(|p| profile_since(*p) <= minor)
            .map(|p| p.name())
            .collect(),
        custom: minor >= CUSTOM_SINCE,
        default_profile: if minor >= GENERAL_DEFAULT_SINCE {
            Profile::General.name()
        } else {
            Profile::Legacy.name()
        },
    }
}

/// Where the node runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    /// The kops instance group, on a kops cluster.
    pub kops_instance_group: Option<String>,
    /// The scheme of spec.providerID: aws, gce, azure, ...
    pub cloud_provider: Option<String>,
    pub provider_id: Option<String>,
    pub os: String,
    pub os_image: String,
    pub kernel: String,
    pub container_runtime: String,
    pub kubelet: String,
}

pub const KOPS_INSTANCE_GROUP_LABEL: &str = "kops.k8s.io/instancegroup";

pub fn environment(node: &Node) -> Environment {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let info = node
        .status
        .as_ref()
        .and_then(|s| s.node_info.clone())
        .unwrap_or_default();
    let provider_id = node
        .spec
        .as_ref()
        .and_then(|s| s.provider_id.clone())
        .filter(|p| !p.is_empty());
    Environment {
        kops_instance_group: labels.get(KOPS_INSTANCE_GROUP_LABEL).cloned(),
        cloud_provider: provider_id
            .as_deref()
            .and_then(|p| p.split_once("://"))
            .map(|(scheme, _)| scheme.to_string()),
        provider_id,
        os: labels
            .get("kubernetes.io/os")
            .cloned()
            .unwrap_or(info.operating_system),
        os_image: info.os_image,
        kernel: info.kernel_version,
        container_runtime: info.container_runtime_version,
        kubelet: info.kubelet_version,
    }
}

/// What admission made of one pod.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    Admitted,
    Rejected {
        message: String,
    },
    /// The dry run could not judge the pod, e.g. because the user may not
    /// create pods at all.
    NotChecked {
        why: String,
    },
}

impl Verdict {
    /// Reads a dry-run create. `may_create_pods` is the access review's
    /// answer: without it, a 403 is RBAC's refusal, not admission's.
    pub fn from_dry_run(dry_run: &DryRun, may_create_pods: bool) -> Verdict {
        match dry_run {
            DryRun::Admitted => Verdict::Admitted,
            DryRun::Refused {
                code: 403, message, ..
            } if !may_create_pods || message.contains("cannot create resource") => {
                Verdict::NotChecked {
                    why: message.clone(),
                }
            }
            DryRun::Refused { message, .. } => Verdict::Rejected {
                message: message.clone(),
            },
        }
    }

    pub fn is_admitted(&self) -> bool {
        matches!(self, Verdict::Admitted)
    }
}

/// Which approach to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Approach {
    DebugNode,
    NodeShell,
    Neither,
}

/// What compare advises.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    pub approach: Approach,
    pub summary: String,
    /// The exact command to run, when there is one.
    pub command: Option<String>,
    pub alternatives: Vec<String>,
    pub security_notes: Vec<String>,
}

/// What the recommendation is made from.
pub struct Situation<'a> {
    pub node: &'a str,
    pub namespace: &'a str,
    pub profile: Profile,
    /// --image, when the user gave one.
    pub image: Option<&'a str>,
    /// --context, when the user gave one.
    pub context: Option<&'a str>,
    pub node_os_windows: bool,
    pub node_shell: &'a Verdict,
    pub debug_node: &'a Verdict,
    /// What debug-node's pod gives on the node.
    pub debug_node_access: &'a PodAccess,
    /// The permissions the user lacks.
    pub missing: &'a [Permission],
    /// The namespace's enforced PodSecurity level, when it could be read.
    pub enforced: Option<Level>,
    /// `toolbox policy --require-recording` is bound in the namespace.
    pub recording_required: bool,
}

impl Situation<'_> {
    fn command(&self, subcommand: &str, profile: Option<&str>, namespace: &str) -> String {
        let mut words = vec![
            "toolbox".to_string(),
            subcommand.to_string(),
            self.node.to_string(),
        ];
        if let Some(profile) = profile {
            words.extend(["--profile".to_string(), profile.to_string()]);
        }
        if let Some(image) = self.image {
            words.extend(["--image".to_string(), image.to_string()]);
        }
        words.extend(["-n".to_string(), namespace.to_string()]);
        if let Some(context) = self.context {
            words.extend(["--context".to_string(), context.to_string()]);
        }
        words.join(" ")
    }

    fn lacks(&self, verb: &str, resource: &str, subresource: Option<&str>) -> bool {
        self.missing
            .iter()
            .any(|p| p.verb == verb && p.resource == resource && p.subresource == subresource)
    }
}

/// Prefers debug-node where it is admitted and sufficient; node-shell when it
/// alone is admitted, or on Windows nodes; says what stands in the way
/// otherwise. The security notes always apply.
pub fn recommend(s: &Situation) -> Recommendation {
    let ns = s.namespace;
    let profile = s.profile.name();
    let debug_command = s.command("debug-node", Some(profile), ns);
    let shell_command = s.command("node-shell", None, ns);
    let mut alternatives = Vec::new();
    let (approach, summary, command) = if s.lacks("create", "pods", None) {
        alternatives.push(format!(
            "ask for a Role in namespace {ns} that grants: {}",
            s.missing
                .iter()
                .map(Permission::short)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        (
            Approach::Neither,
            format!(
                "You cannot create pods in namespace {ns}, so neither approach works for you there."
            ),
            None,
        )
    } else if s.node_os_windows {
        if s.node_shell.is_admitted() {
            (
                Approach::NodeShell,
                format!(
                    "Node {} runs Windows: node-shell opens a HostProcess pod with PowerShell; kubectl debug's node pod is for Linux nodes.",
                    s.node
                ),
                Some(shell_command),
            )
        } else {
            alternatives.push(
                "HostProcess pods need PodSecurity privileged: use a namespace that allows it (for example -n kube-system)".into(),
            );
            (
                Approach::Neither,
                format!(
                    "Node {} runs Windows, where only node-shell's HostProcess pod works, and namespace {ns} does not admit it.",
                    s.node
                ),
                None,
            )
        }
    } else if s.debug_node.is_admitted() {
        let access = s.debug_node_access;
        if access.host_namespaces() == "none" && access.host_root_mount.is_none() {
            alternatives.push(format!(
                "profile {profile} sees only the pod's own namespaces, not the node's: for the node itself use --profile general (or sysadmin) in a namespace that allows it"
            ));
        }
        match s.node_shell {
            Verdict::Admitted => alternatives.push(format!(
                "node-shell when you need a root login in all of the host's namespaces (mount, UTS, IPC, network, PID), e.g. for systemctl or the host's own tools: {shell_command}"
            )),
            _ => alternatives.push(format!(
                "node-shell is not admitted in namespace {ns}: it needs a privileged pod"
            )),
        }
        (
            Approach::DebugNode,
            format!(
                "debug-node: kubectl debug's own pod with profile {profile} is admitted in namespace {ns}, with {}.",
                access.summary()
            ),
            Some(debug_command),
        )
    } else if s.node_shell.is_admitted() {
        (
            Approach::NodeShell,
            format!(
                "node-shell: it is admitted in namespace {ns}, and the debug-node pod with profile {profile} is not."
            ),
            Some(shell_command),
        )
    } else {
        let fitting = match s.enforced {
            Some(Level::Baseline) => Some(Profile::Baseline),
            Some(Level::Restricted) => Some(Profile::Restricted),
            _ => None,
        }
        .filter(|fit| *fit != s.profile);
        if s.recording_required {
            alternatives.push(format!(
                "recording is required in namespace {ns}: the pods must carry the recorder that the namespace's policy pins (see the recording check), which toolbox's pods do unless --no-record"
            ));
        }
        alternatives.push(
            "for the node itself, use a namespace whose PodSecurity allows privileged pods (for example -n kube-system), or ask an admin to label one pod-security.kubernetes.io/enforce=privileged".into(),
        );
        let command = fitting.map(|fit| {
            alternatives.push(format!(
                "debug-node --profile {fit} fits namespace {ns}'s PodSecurity level but sees only the pod's own namespaces, not the node's"
            ));
            s.command("debug-node", Some(fit.name()), ns)
        });
        (
            Approach::Neither,
            format!("Neither pod is admitted in namespace {ns}."),
            command,
        )
    };
    if approach != Approach::Neither || command.is_some() {
        if s.lacks("create", "pods", Some("exec")) {
            alternatives
                .push("toolbox opens its session with exec: you also need create pods/exec".into());
        }
        if s.lacks("delete", "pods", None) {
            alternatives.push(
                "without delete pods, the pod cannot be removed when you are done: ask for it too"
                    .into(),
            );
        }
        if s.lacks("create", "pods", Some("attach")) {
            alternatives
                .push("kubectl debug attaches to its pod: it needs create pods/attach".into());
        }
    }

    let mut security_notes = vec![
        "RBAC: whoever may create a pod with host access on a node is root on that node; grant create pods and pods/exec through a Role in one namespace, only to those who need it.".to_string(),
        "Audit logging: the API server's audit log records who created each pod and every exec; toolbox also records requested-by, the client host and --reason on the pod.".to_string(),
        "Don't leave pods running: kubectl debug never deletes its pod, and other tools lose theirs when the client dies; toolbox deletes its pod when the session ends and bounds it with --ttl, and `toolbox cleanup` removes leftovers.".to_string(),
    ];
    let privileged = match approach {
        Approach::NodeShell => true,
        Approach::DebugNode => s.debug_node_access.privileged,
        Approach::Neither => false,
    };
    if privileged {
        security_notes
            .push("This pod is privileged: anything run in it can change or stop the node.".into());
    }
    if s.recording_required {
        security_notes.push(format!(
            "Recording is required in namespace {ns}: every session is recorded on the node and in the container log as it happens; toolbox --no-record, kubectl debug node/, kubectl-node-shell and a plain kubectl exec or attach are refused there."
        ));
    }
    Recommendation {
        approach,
        summary,
        command,
        alternatives,
        security_notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({ "metadata": { "name": "p" }, "spec": spec })).unwrap()
    }

    fn general_access() -> PodAccess {
        pod_access(&pod(json!({
            "hostPID": true, "hostNetwork": true, "hostIPC": true,
            "containers": [{ "name": "debugger", "image": "busybox",
                "volumeMounts": [{ "name": "host-root", "mountPath": "/host" }] }],
            "volumes": [{ "name": "host-root", "hostPath": { "path": "/" } }]
        })))
    }

    fn baseline_access() -> PodAccess {
        pod_access(&pod(
            json!({ "containers": [{ "name": "debugger", "image": "busybox" }] }),
        ))
    }

    struct Case {
        node_shell: Verdict,
        debug_node: Verdict,
        access: PodAccess,
        missing: Vec<Permission>,
        enforced: Option<Level>,
        profile: Profile,
        windows: bool,
        recording_required: bool,
    }

    impl Case {
        fn new(node_shell: Verdict, debug_node: Verdict) -> Case {
            Case {
                node_shell,
                debug_node,
                access: general_access(),
                missing: Vec::new(),
                enforced: None,
                profile: Profile::General,
                windows: false,
                recording_required: false,
            }
        }

        fn recommend(&self) -> Recommendation {
            recommend(&Situation {
                node: "n1",
                namespace: "team-a",
                profile: self.profile,
                image: None,
                context: None,
                node_os_windows: self.windows,
                node_shell: &self.node_shell,
                debug_node: &self.debug_node,
                debug_node_access: &self.access,
                missing: &self.missing,
                enforced: self.enforced,
                recording_required: self.recording_required,
            })
        }
    }

    fn rejected() -> Verdict {
        Verdict::Rejected {
            message: "violates PodSecurity".into(),
        }
    }

    #[test]
    fn debug_node_is_preferred_where_both_are_admitted() {
        let advice = Case::new(Verdict::Admitted, Verdict::Admitted).recommend();
        assert_eq!(advice.approach, Approach::DebugNode);
        assert_eq!(
            advice.command.as_deref(),
            Some("toolbox debug-node n1 --profile general -n team-a")
        );
        assert!(
            advice.summary.contains("the node's / at /host"),
            "{}",
            advice.summary
        );
        assert!(
            advice
                .alternatives
                .iter()
                .any(|a| a.contains("toolbox node-shell n1 -n team-a")
                    && a.contains("all of the host's namespaces")),
            "{:?}",
            advice.alternatives
        );
        assert_eq!(advice.security_notes.len(), 3, "general is not privileged");
    }

    #[test]
    fn a_namespace_that_requires_recording_says_what_it_refuses() {
        let mut case = Case::new(Verdict::Admitted, Verdict::Admitted);
        case.recording_required = true;
        let notes = case.recommend().security_notes;
        assert_eq!(notes.len(), 4, "{notes:?}");
        let mut refused = Case::new(rejected(), rejected());
        refused.recording_required = true;
        assert!(refused.recommend().alternatives[0].starts_with(
            "recording is required in namespace team-a: the pods must carry the recorder"
        ),);
        assert!(
            notes[3].starts_with("Recording is required in namespace team-a:")
                && notes[3]
                    .contains("toolbox --no-record, kubectl debug node/, kubectl-node-shell"),
            "{notes:?}"
        );
    }

    #[test]
    fn a_baseline_namespace_gets_debug_node_with_its_limits_named() {
        let mut case = Case::new(rejected(), Verdict::Admitted);
        case.profile = Profile::Baseline;
        case.access = baseline_access();
        case.enforced = Some(Level::Baseline);
        let advice = case.recommend();
        assert_eq!(advice.approach, Approach::DebugNode);
        assert_eq!(
            advice.command.as_deref(),
            Some("toolbox debug-node n1 --profile baseline -n team-a")
        );
        let text = advice.alternatives.join("\n");
        assert!(
            text.contains("sees only the pod's own namespaces"),
            "{text}"
        );
        assert!(text.contains("node-shell is not admitted"), "{text}");
    }

    #[test]
    fn node_shell_when_only_it_is_admitted_with_a_privilege_note() {
        let advice = Case::new(Verdict::Admitted, rejected()).recommend();
        assert_eq!(advice.approach, Approach::NodeShell);
        assert_eq!(
            advice.command.as_deref(),
            Some("toolbox node-shell n1 -n team-a")
        );
        assert!(
            advice
                .security_notes
                .iter()
                .any(|n| n.contains("privileged"))
        );
    }

    #[test]
    fn both_rejected_suggests_the_profile_the_namespace_fits() {
        let mut case = Case::new(rejected(), rejected());
        case.enforced = Some(Level::Restricted);
        let advice = case.recommend();
        assert_eq!(advice.approach, Approach::Neither);
        assert_eq!(
            advice.command.as_deref(),
            Some("toolbox debug-node n1 --profile restricted -n team-a")
        );
        assert!(
            advice
                .alternatives
                .iter()
                .any(|a| a.contains("kube-system"))
        );

        case.enforced = None;
        assert_eq!(
            case.recommend().command,
            None,
            "a webhook's refusal has no profile to suggest"
        );
    }

    #[test]
    fn without_create_pods_nothing_is_recommended_and_the_missing_are_named() {
        let why = Verdict::NotChecked {
            why: "forbidden".into(),
        };
        let mut case = Case::new(why.clone(), why);
        case.missing = vec![
            Permission::namespaced("create", "pods", "team-a"),
            Permission::namespaced("create", "pods/exec", "team-a"),
            Permission::cluster("list", "nodes"),
        ];
        let advice = case.recommend();
        assert_eq!(advice.approach, Approach::Neither);
        assert_eq!(advice.command, None);
        assert!(
            advice.alternatives[0].contains("create pods, create pods/exec, list nodes"),
            "{:?}",
            advice.alternatives
        );
    }

    #[test]
    fn missing_exec_is_named_next_to_the_command() {
        let mut case = Case::new(Verdict::Admitted, Verdict::Admitted);
        case.missing = vec![
            Permission::namespaced("create", "pods/exec", "team-a"),
            Permission::namespaced("create", "pods/attach", "team-a"),
        ];
        let text = case.recommend().alternatives.join("\n");
        assert!(text.contains("you also need create pods/exec"), "{text}");
        assert!(text.contains("kubectl debug attaches"), "{text}");
    }

    #[test]
    fn windows_nodes_get_node_shell() {
        let mut case = Case::new(Verdict::Admitted, Verdict::Admitted);
        case.windows = true;
        assert_eq!(case.recommend().approach, Approach::NodeShell);
        case.node_shell = rejected();
        assert_eq!(case.recommend().approach, Approach::Neither);
    }

    #[test]
    fn a_forbidden_dry_run_is_not_an_admission_verdict() {
        let rbac = DryRun::Refused {
            code: 403,
            reason: "Forbidden".into(),
            message: "pods is forbidden: User \"dev\" cannot create resource \"pods\"".into(),
        };
        assert!(matches!(
            Verdict::from_dry_run(&rbac, true),
            Verdict::NotChecked { .. }
        ));
        let pod_security = DryRun::Refused {
            code: 403,
            reason: "Forbidden".into(),
            message: "pods \"p\" is forbidden: violates PodSecurity \"baseline:latest\"".into(),
        };
        assert!(matches!(
            Verdict::from_dry_run(&pod_security, true),
            Verdict::Rejected { .. }
        ));
        assert!(matches!(
            Verdict::from_dry_run(&pod_security, false),
            Verdict::NotChecked { .. }
        ));
        assert_eq!(
            Verdict::from_dry_run(&DryRun::Admitted, true),
            Verdict::Admitted
        );
    }

    #[test]
    fn kubectl_debug_support_follows_the_version() {
        let old = debug_support(26);
        assert_eq!(
            old.profiles,
            ["legacy", "general", "baseline", "restricted"]
        );
        assert!(!old.custom);
        assert_eq!(old.default_profile, "legacy");
        assert!(debug_support(27).profiles.contains(&"netadmin"));
        let v30 = debug_support(30);
        assert!(v30.profiles.contains(&"sysadmin") && v30.custom);
        assert_eq!(debug_support(35).default_profile, "legacy");
        assert_eq!(debug_support(36).default_profile, "general");
        assert_eq!(debug_support(37).profiles.len(), 6);
    }

    #[test]
    fn an_init_container_that_drops_every_capability_leaves_the_pods_as_they_are() {
        let recorded = pod_access(&pod(json!({
            "containers": [{ "name": "debugger", "image": "busybox" }],
            "initContainers": [{ "name": "toolbox-recorder", "image": "recorder",
                "securityContext": { "capabilities": { "drop": ["ALL"] } } }],
        })));
        assert_eq!(recorded.capabilities(), "the container runtime's defaults");
        let both = pod_access(&pod(json!({
            "containers": [{ "name": "debugger", "image": "busybox",
                "securityContext": { "capabilities": { "drop": ["ALL"] } } }],
            "initContainers": [{ "name": "toolbox-recorder", "image": "recorder",
                "securityContext": { "capabilities": { "drop": ["ALL"] } } }],
        })));
        assert_eq!(both.capabilities(), "none (drops ALL)");
    }

    #[test]
    fn access_is_read_from_the_pod() {
        let general = general_access();
        assert_eq!(general.host_namespaces(), "PID, network, IPC");
        assert_eq!(general.host_root_mount.as_deref(), Some("/host"));
        assert_eq!(general.capabilities(), "the container runtime's defaults");
        assert_eq!(general.pod_security_level, "privileged");
        let netadmin = pod_access(&pod(
            json!({ "hostNetwork": true, "containers": [{ "name": "d",
            "securityContext": { "capabilities": { "add": ["NET_RAW", "NET_ADMIN"] } } }] }),
        ));
        assert_eq!(
            netadmin.capabilities(),
            "runtime defaults + NET_ADMIN, NET_RAW"
        );
        let restricted = pod_access(&pod(json!({ "containers": [{ "name": "d",
            "securityContext": { "capabilities": { "drop": ["ALL"] } } }] })));
        assert_eq!(restricted.capabilities(), "none (drops ALL)");
        assert_eq!(baseline_access().summary(), "no host namespaces");
        assert_eq!(
            general.summary(),
            "the host's PID, network and IPC namespaces and the node's / at /host"
        );
    }

    #[test]
    fn rows_are_derived_from_the_pods() {
        let shell = pod(json!({
            "hostPID": true, "hostNetwork": true, "hostIPC": true, "activeDeadlineSeconds": 3600,
            "containers": [{ "name": "shell", "image": "alpine", "securityContext": { "privileged": true } }]
        }));
        let debug = pod(json!({ "activeDeadlineSeconds": 1800,
            "containers": [{ "name": "debugger", "image": "busybox" }] }));
        let command: Vec<String> = ["nsenter", "--target", "1", "--mount", "--", "sh"]
            .map(String::from)
            .to_vec();
        let rows = comparison_rows(&PodPair {
            node_shell: &shell,
            node_shell_command: &command,
            debug_node: &debug,
            profile: Profile::Baseline,
            node: "n1",
        });
        let cell = |point: &str| {
            let row = rows.iter().find(|r| r.point == point).unwrap();
            (row.node_shell.as_str(), row.debug_node.as_str())
        };
        assert_eq!(cell("privileged"), ("yes", "no"));
        assert_eq!(
            cell("host PID / network / IPC"),
            ("PID, network, IPC", "none")
        );
        assert_eq!(cell("host root filesystem").1, "no");
        assert!(cell("host root filesystem").0.contains("nsenter"));
        assert!(
            cell("cleanup when the client dies")
                .0
                .ends_with("stops by itself after 1h")
        );
        assert!(
            cell("cleanup when the client dies")
                .1
                .ends_with("after 30m")
        );
        assert_eq!(cell("PodSecurity level needed"), ("privileged", "baseline"));
        assert_eq!(cell("image customizable"), ("yes: alpine", "yes: busybox"));
        assert_eq!(rows.len(), 11);
    }

    #[test]
    fn the_environment_names_kops_and_the_cloud() {
        let node: Node = serde_json::from_value(json!({
            "metadata": { "name": "n1", "labels": { "kops.k8s.io/instancegroup": "nodes-a", "kubernetes.io/os": "linux" } },
            "spec": { "providerID": "aws:///eu-west-1a/i-0abc" },
            "status": { "nodeInfo": { "osImage": "Ubuntu 24.04", "kernelVersion": "6.8", "containerRuntimeVersion": "containerd://2.1",
                "kubeletVersion": "v1.37.2", "operatingSystem": "linux", "architecture": "amd64",
                "machineID": "", "systemUUID": "", "bootID": "", "kubeProxyVersion": "" } }
        }))
        .unwrap();
        let env = environment(&node);
        assert_eq!(env.kops_instance_group.as_deref(), Some("nodes-a"));
        assert_eq!(env.cloud_provider.as_deref(), Some("aws"));
        assert_eq!(env.os, "linux");
        assert_eq!(env.os_image, "Ubuntu 24.04");
        let bare: Node = serde_json::from_value(json!({ "metadata": { "name": "n2" } })).unwrap();
        assert_eq!(environment(&bare).cloud_provider, None);
    }
}
