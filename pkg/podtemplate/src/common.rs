//! What every toolbox pod shares: naming, labels, audit annotations, tolerations and
//! the TTL holder process.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, HostPathVolumeSource, LocalObjectReference, Pod, PodSpec,
    ResourceRequirements, SeccompProfile, SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::{
    CLIENT_HOST_ANNOTATION, COMMAND_ANNOTATION, EXPIRES_AT_ANNOTATION, HOST_ROOT_MOUNT_PATH,
    HOST_ROOT_VOLUME, MANAGED_BY_LABEL, MANAGED_BY_TOOLBOX, NODE_ANNOTATION, NODE_LABEL,
    REASON_ANNOTATION, REQUESTED_BY_ANNOTATION, SUBCOMMAND_LABEL, TTL_ANNOTATION,
    TTL_IS_DEFAULT_ANNOTATION,
};

/// Longest DNS-1123 label, and also the longest label value Kubernetes accepts.
const MAX_LABEL_LEN: usize = 63;

/// Hex digits of the FNV-1a hash appended to shortened label values.
const HASH_HEX_LEN: usize = 8;

/// Who asked for a pod, from where, and why; recorded as annotations so that the pod
/// itself is the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Identity of the requesting user (e.g. the kubeconfig user or an OIDC email).
    pub user: String,
    /// Host name of the machine the CLI ran on.
    pub client_host: String,
    /// The toolbox subcommand, e.g. `node-shell`; first element of [`COMMAND_ANNOTATION`].
    pub subcommand: String,
    /// The user's arguments after the subcommand, verbatim (e.g. `["--", "uptime"]`).
    pub command: Vec<String>,
    /// Free-text justification, if the user gave one.
    pub reason: Option<String>,
    /// RFC 3339 time at which the TTL runs out, computed by the caller.
    pub expires_at: String,
}

/// What every toolbox pod has in common.
#[derive(Debug, Clone, PartialEq)]
pub struct PodCommon {
    /// Caller-supplied random suffix that makes the pod name unique, e.g. `x7k2p`.
    pub name_suffix: String,
    /// Namespace to create the pod in.
    pub namespace: String,
    /// Name of the node the pod is pinned to.
    pub node_name: String,
    /// Container image.
    pub image: String,
    /// `Always`, `IfNotPresent` or `Never`; `None` leaves the API server's default.
    pub image_pull_policy: Option<String>,
    /// Names of Secrets to pull the image with.
    pub image_pull_secrets: Vec<String>,
    /// Labels added to the pod; they cannot replace toolbox's own labels.
    pub extra_labels: BTreeMap<String, String>,
    /// Annotations added to the pod; they cannot replace toolbox's own annotations.
    pub extra_annotations: BTreeMap<String, String>,
    /// Resource requests and limits of the toolbox container.
    pub resources: Option<ResourceRequirements>,
    /// PriorityClass of the pod, e.g. `system-node-critical` to survive node pressure.
    pub priority_class: Option<String>,
    /// Lifetime of the pod in seconds; must be positive (the API rejects an
    /// `activeDeadlineSeconds` below 1), which the caller validates.
    pub ttl_seconds: i64,
    /// The lifetime is toolbox's default, not one the user chose: it may be
    /// fitted to a namespace's maximum ([`fit_lifetime`]).
    pub ttl_is_default: bool,
    /// Audit facts recorded as annotations.
    pub audit: Audit,
    /// How the pod records its sessions; `None` for a pod whose sessions
    /// are not recorded (`--no-record`, a Windows node).
    pub recording: Option<crate::Recording>,
}

/// DNS-1123-safe pod name `<prefix>-<node>-<suffix>`, at most 63 characters.
///
/// Each part is lowercased and every character outside `[a-z0-9-]` (such as the dots
/// of a node FQDN) becomes `-`. Only the node part is shortened, because the prefix
/// says what the pod is and the suffix is what keeps names unique. `-` is trimmed
/// where the parts meet so the result starts and ends with an alphanumeric.
pub fn pod_name(prefix: &str, node: &str, suffix: &str) -> String {
    let prefix = dns_label_chars(prefix);
    let suffix = dns_label_chars(suffix);
    let fixed_parts = [prefix.as_str(), suffix.as_str()];
    let fixed_len: usize = fixed_parts.iter().map(|part| part.len()).sum();
    let separators = fixed_parts.iter().filter(|part| !part.is_empty()).count();
    let node_budget = MAX_LABEL_LEN.saturating_sub(fixed_len + separators);

    let node = dns_label_chars(node);
    let node = node[..node.len().min(node_budget)].trim_matches('-');

    let joined = [prefix.as_str(), node, suffix.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    // Only an over-long prefix plus suffix can still exceed the limit here.
    joined[..joined.len().min(MAX_LABEL_LEN)]
        .trim_end_matches('-')
        .to_owned()
}

/// Lowercases and replaces anything outside `[a-z0-9-]`, trimming `-` at both ends.
/// The result is ASCII, so byte lengths equal character counts.
fn dns_label_chars(text: &str) -> String {
    let mapped: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    mapped.trim_matches('-').to_owned()
}

/// The [`NODE_LABEL`] value for a node.
///
/// Node names are DNS subdomains of up to 253 characters, but label values stop at 63.
/// A name that is already a valid label value is used as is; any other becomes a
/// readable prefix plus `-` and 8 hex digits of the FNV-1a hash of the full name, so
/// two long names sharing a prefix still get different, stable values.
pub fn node_label_value(node: &str) -> String {
    if is_valid_label_value(node) {
        return node.to_owned();
    }
    let hash = format!("{:08x}", fnv1a_32(node.as_bytes()));
    let readable: String = node
        .chars()
        .map(|c| if is_label_char(c) { c } else { '-' })
        .take(MAX_LABEL_LEN - HASH_HEX_LEN - 1)
        .collect();
    let readable = readable.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if readable.is_empty() {
        hash
    } else {
        format!("{readable}-{hash}")
    }
}

/// Kubernetes label value syntax: empty, or up to 63 of `[A-Za-z0-9._-]` that start
/// and end with an alphanumeric.
fn is_valid_label_value(value: &str) -> bool {
    let starts_and_ends_alphanumeric = match (value.chars().next(), value.chars().last()) {
        (Some(first), Some(last)) => first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric(),
        _ => true,
    };
    value.len() <= MAX_LABEL_LEN && value.chars().all(is_label_char) && starts_and_ends_alphanumeric
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// 32-bit FNV-1a: tiny, dependency-free and stable across releases and platforms,
/// which is all a label-shortening hash needs.
fn fnv1a_32(bytes: &[u8]) -> u32 {
    const OFFSET_BASIS: u32 = 0x811c_9dc5;
    const PRIME: u32 = 0x0100_0193;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(PRIME)
    })
}

/// Metadata shared by all toolbox pods: name, namespace, labels and audit annotations.
pub(crate) fn pod_metadata(common: &PodCommon, name: String, subcommand: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: Some(common.namespace.clone()),
        labels: Some(pod_labels(common, subcommand)),
        annotations: Some(pod_annotations(common)),
        ..ObjectMeta::default()
    }
}

/// Extra labels first, then toolbox's own, so a user label can never hide a pod from
/// toolbox's list/cleanup selectors.
fn pod_labels(common: &PodCommon, subcommand: &str) -> BTreeMap<String, String> {
    let mut labels = common.extra_labels.clone();
    labels.insert(MANAGED_BY_LABEL.to_owned(), MANAGED_BY_TOOLBOX.to_owned());
    labels.insert(NODE_LABEL.to_owned(), node_label_value(&common.node_name));
    labels.insert(SUBCOMMAND_LABEL.to_owned(), subcommand.to_owned());
    labels
}

/// Extra annotations first, then the audit ones, so the audit trail cannot be forged
/// through `extra_annotations`.
fn pod_annotations(common: &PodCommon) -> BTreeMap<String, String> {
    let audit = &common.audit;
    let mut annotations = common.extra_annotations.clone();
    // A stale reason from the extras must not pass for this request's
    // reason, nor a lifetime the user chose for toolbox's default.
    annotations.remove(REASON_ANNOTATION);
    annotations.remove(TTL_IS_DEFAULT_ANNOTATION);
    let ours = [
        (REQUESTED_BY_ANNOTATION, audit.user.clone()),
        (CLIENT_HOST_ANNOTATION, audit.client_host.clone()),
        (COMMAND_ANNOTATION, command_annotation(audit)),
        (EXPIRES_AT_ANNOTATION, audit.expires_at.clone()),
        (NODE_ANNOTATION, common.node_name.clone()),
        (TTL_ANNOTATION, common.ttl_seconds.to_string()),
    ];
    for (key, value) in ours {
        annotations.insert(key.to_owned(), value);
    }
    if let Some(reason) = &audit.reason {
        annotations.insert(REASON_ANNOTATION.to_owned(), reason.clone());
    }
    if common.ttl_is_default {
        annotations.insert(TTL_IS_DEFAULT_ANNOTATION.to_owned(), "true".to_owned());
    }
    annotations
}

/// Whether `pod`'s lifetime is toolbox's default, which toolbox may fit to
/// a namespace's maximum, rather than one its user chose.
pub fn ttl_is_default(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(TTL_IS_DEFAULT_ANNOTATION))
        .is_some_and(|v| v == "true")
}

/// `pod` with a shorter lifetime: `ttl_seconds` from creation, ending at
/// `expires_at` (RFC 3339, computed by the caller). The holder's own count
/// is left as it was: the kubelet ends the pod at its
/// `activeDeadlineSeconds`, before the holder would.
pub fn fit_lifetime(mut pod: Pod, ttl_seconds: i64, expires_at: String) -> Pod {
    pod.spec.get_or_insert_default().active_deadline_seconds = Some(ttl_seconds);
    let annotations = pod.metadata.annotations.get_or_insert_default();
    annotations.insert(TTL_ANNOTATION.to_owned(), ttl_seconds.to_string());
    annotations.insert(EXPIRES_AT_ANNOTATION.to_owned(), expires_at);
    pod
}

/// JSON array so that arguments containing spaces stay unambiguous.
fn command_annotation(audit: &Audit) -> String {
    let words = std::iter::once(&audit.subcommand)
        .filter(|subcommand| !subcommand.is_empty())
        .chain(&audit.command)
        .map(|word| serde_json::Value::String(word.clone()))
        .collect();
    serde_json::Value::Array(words).to_string()
}

/// A single toleration with `operator: Exists` and no key matches every taint, so the
/// pod lands on cordoned, NotReady or dedicated nodes, which is where it is needed most.
pub(crate) fn tolerate_every_taint() -> Vec<Toleration> {
    vec![Toleration {
        operator: Some("Exists".to_owned()),
        ..Toleration::default()
    }]
}

/// The container's main process on Linux: it exits by itself when the TTL runs out,
/// so a forgotten pod cleans itself up even if the CLI never comes back.
/// `sleep` exists in busybox, alpine and every distro image.
pub(crate) fn linux_holder_command(ttl_seconds: i64) -> Vec<String> {
    vec!["sleep".to_owned(), ttl_seconds.to_string()]
}

/// The spec of a toolbox holder pod with its one `container`: on the node,
/// on every taint, never restarted, gone at once when deleted and at its
/// TTL at the latest, with no cluster credentials (root on the node needs
/// none, and a shell must not leak a token) and no service links.
pub(crate) fn holder_pod_spec(common: &PodCommon, container: Container) -> PodSpec {
    PodSpec {
        node_name: Some(common.node_name.clone()),
        tolerations: Some(tolerate_every_taint()),
        restart_policy: Some("Never".to_owned()),
        // Nothing in the holder needs a graceful stop; deleting the pod should be instant.
        termination_grace_period_seconds: Some(0),
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        active_deadline_seconds: Some(common.ttl_seconds),
        priority_class_name: common.priority_class.clone(),
        image_pull_secrets: image_pull_secrets(common),
        containers: vec![container],
        ..PodSpec::default()
    }
}

/// A holder pod privileged in the node's PID namespace, with nothing else
/// of the node's (no host network, no volume): the shape of the pods that
/// reach the node's files through its init (`/proc/1/root`, `nsenter
/// --target 1`) for one fixed job, as cp, logs' fallback and dump do. Its
/// one container is `container_name`; the caller adds its annotations.
pub(crate) fn host_pid_holder_pod(
    common: &PodCommon,
    container_name: &str,
    name_prefix: &str,
    subcommand: &str,
) -> Pod {
    let container = Container {
        name: container_name.to_owned(),
        image: Some(common.image.clone()),
        image_pull_policy: common.image_pull_policy.clone(),
        resources: common.resources.clone(),
        command: Some(linux_holder_command(common.ttl_seconds)),
        // setns or nsenter into PID 1's mount namespace takes CAP_SYS_ADMIN,
        // and the node's files, dmesg and the runtime's socket root's reach.
        security_context: Some(SecurityContext {
            privileged: Some(true),
            ..SecurityContext::default()
        }),
        ..Container::default()
    };
    let mut spec = holder_pod_spec(common, container);
    spec.host_pid = Some(true);
    let name = pod_name(name_prefix, &common.node_name, &common.name_suffix);
    Pod {
        metadata: pod_metadata(common, name, subcommand),
        spec: Some(spec),
        status: None,
    }
}

/// A container's securityContext that takes nothing beyond its user: no
/// privilege escalation, no capability, a read-only root, RuntimeDefault
/// seccomp. PodSecurity's restricted level asks for all of it.
pub(crate) fn unprivileged_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        capabilities: Some(Capabilities {
            add: None,
            drop: Some(vec!["ALL".to_owned()]),
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".to_owned(),
            localhost_profile: None,
        }),
        ..SecurityContext::default()
    }
}

/// `imagePullSecrets`, omitted entirely when there are none.
pub(crate) fn image_pull_secrets(common: &PodCommon) -> Option<Vec<LocalObjectReference>> {
    if common.image_pull_secrets.is_empty() {
        return None;
    }
    Some(
        common
            .image_pull_secrets
            .iter()
            .map(|name| LocalObjectReference { name: name.clone() })
            .collect(),
    )
}

/// hostPath volume exposing the node's `/`; paired with [`host_root_mount`].
pub(crate) fn host_root_volume() -> Volume {
    Volume {
        name: HOST_ROOT_VOLUME.to_owned(),
        host_path: Some(HostPathVolumeSource {
            path: "/".to_owned(),
            type_: None,
        }),
        ..Volume::default()
    }
}

/// Mounts [`host_root_volume`] at [`HOST_ROOT_MOUNT_PATH`].
pub(crate) fn host_root_mount() -> VolumeMount {
    VolumeMount {
        name: HOST_ROOT_VOLUME.to_owned(),
        mount_path: HOST_ROOT_MOUNT_PATH.to_owned(),
        ..VolumeMount::default()
    }
}

/// Starts the nicest login shell available: many minimal hosts and images have no bash.
///
/// After `nsenter --mount` or `chroot` the session's terminal, which comes from the
/// container's own `/dev/pts`, has no name in the node's `/dev`: `tty` says "not a tty",
/// and tmux, screen and who fail. When that is so and the node has util-linux `script`,
/// the shell runs under it, on a terminal of the node's own (`-e` keeps the shell's exit
/// status; `script` passes window resizes on).
pub(crate) const LOGIN_SHELL_SNIPPET: &str = "if [ -t 0 ] && ! tty >/dev/null 2>&1 && command -v script >/dev/null 2>&1; then \
exec script -qec 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi' /dev/null; fi; \
if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi";

/// `sh -c` running [`LOGIN_SHELL_SNIPPET`].
pub(crate) fn best_login_shell() -> Vec<String> {
    vec![
        "sh".to_owned(),
        "-c".to_owned(),
        LOGIN_SHELL_SNIPPET.to_owned(),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fully populated request part, shared by the unit tests of every module.
    pub(crate) fn sample_common() -> PodCommon {
        PodCommon {
            name_suffix: "x7k2p".to_owned(),
            namespace: "toolbox".to_owned(),
            node_name: "ip-10-0-1-23.ec2.internal".to_owned(),
            image: "docker.io/library/alpine:3.22".to_owned(),
            image_pull_policy: None,
            image_pull_secrets: Vec::new(),
            extra_labels: BTreeMap::new(),
            extra_annotations: BTreeMap::new(),
            resources: None,
            priority_class: None,
            ttl_seconds: 3600,
            ttl_is_default: false,
            recording: None,
            audit: Audit {
                user: "alice@example.com".to_owned(),
                client_host: "laptop-42".to_owned(),
                subcommand: "node-shell".to_owned(),
                command: vec!["--".to_owned(), "uptime".to_owned()],
                reason: None,
                expires_at: "2026-05-01T13:00:00Z".to_owned(),
            },
        }
    }

    fn is_dns1123_label(name: &str) -> bool {
        let bytes = name.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_LABEL_LEN
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
    }

    #[test]
    fn pod_name_replaces_dots_and_keeps_short_names_whole() {
        let name = pod_name("toolbox-shell", "ip-10-0-1-23.ec2.internal", "x7k2p");
        assert_eq!(name, "toolbox-shell-ip-10-0-1-23-ec2-internal-x7k2p");
        assert!(is_dns1123_label(&name));
    }

    #[test]
    fn pod_name_lowercases_and_maps_foreign_characters() {
        assert_eq!(
            pod_name("toolbox-debug", "Node_A.Example", "AB1"),
            "toolbox-debug-node-a-example-ab1"
        );
    }

    #[test]
    fn pod_name_of_a_253_char_node_is_a_valid_63_char_label() {
        // Four 62-char DNS labels and a short one: the longest node name the API allows.
        let label = "a".repeat(62);
        let node = format!("{label}.{label}.{label}.{label}.x");
        assert_eq!(node.len(), 253);
        let name = pod_name("toolbox-shell", &node, "x7k2p");
        assert_eq!(name.len(), MAX_LABEL_LEN);
        assert!(is_dns1123_label(&name), "{name}");
        assert!(name.starts_with("toolbox-shell-aaaa"));
        assert!(name.ends_with("-x7k2p"));
    }

    #[test]
    fn pod_name_trims_dashes_where_truncation_cuts_at_a_dot() {
        // 63 - len("toolbox-shell") - len("x7k2p") - 2 = 43 node chars; char 43 is '.'.
        let node = format!("{}.{}", "n".repeat(42), "m".repeat(30));
        let name = pod_name("toolbox-shell", &node, "x7k2p");
        assert_eq!(name, format!("toolbox-shell-{}-x7k2p", "n".repeat(42)));
        assert!(is_dns1123_label(&name));
    }

    #[test]
    fn pod_name_survives_degenerate_parts() {
        assert_eq!(
            pod_name("toolbox-shell", "...", "x7k2p"),
            "toolbox-shell-x7k2p"
        );
        assert_eq!(pod_name("toolbox-shell", "node", ""), "toolbox-shell-node");
        let name = pod_name(&"p".repeat(70), "node", "x7k2p");
        assert!(is_dns1123_label(&name), "{name}");
    }

    #[test]
    fn short_node_names_are_their_own_label_value() {
        assert_eq!(node_label_value("worker-1"), "worker-1");
        assert_eq!(
            node_label_value("ip-10-0-1-23.ec2.internal"),
            "ip-10-0-1-23.ec2.internal"
        );
    }

    #[test]
    fn long_node_names_get_a_prefix_and_a_stable_hash() {
        let node = format!("{}.example.com", "worker".repeat(12));
        let value = node_label_value(&node);
        assert!(value.len() <= MAX_LABEL_LEN);
        assert!(is_valid_label_value(&value), "{value}");
        let (readable, hash) = value.split_at(value.len() - HASH_HEX_LEN);
        assert!(node.starts_with(readable.trim_end_matches('-')));
        assert_eq!(hash, format!("{:08x}", fnv1a_32(node.as_bytes())));
        assert_eq!(node_label_value(&node), value, "must be deterministic");
    }

    #[test]
    fn long_names_with_a_shared_prefix_get_different_values() {
        let first = format!("{}-1", "n".repeat(80));
        let second = format!("{}-2", "n".repeat(80));
        assert_ne!(node_label_value(&first), node_label_value(&second));
    }

    #[test]
    fn invalid_label_characters_are_replaced_before_hashing() {
        let value = node_label_value("node with spaces/and:colons");
        assert!(is_valid_label_value(&value), "{value}");
        assert!(value.starts_with("node-with-spaces-and-colons-"));
    }

    #[test]
    fn a_name_without_any_alphanumerics_becomes_just_the_hash() {
        let value = node_label_value("...");
        assert_eq!(value.len(), HASH_HEX_LEN);
        assert!(is_valid_label_value(&value));
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a_32(b""), 0x811c_9dc5);
        assert_eq!(fnv1a_32(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn extras_cannot_override_toolbox_labels_or_annotations() {
        let mut common = sample_common();
        common
            .extra_labels
            .insert(MANAGED_BY_LABEL.to_owned(), "someone-else".to_owned());
        common
            .extra_labels
            .insert("team".to_owned(), "sre".to_owned());
        common
            .extra_annotations
            .insert(REQUESTED_BY_ANNOTATION.to_owned(), "mallory".to_owned());
        common
            .extra_annotations
            .insert(REASON_ANNOTATION.to_owned(), "forged".to_owned());
        let meta = pod_metadata(&common, "p".to_owned(), "node-shell");
        let labels = meta.labels.unwrap_or_default();
        let annotations = meta.annotations.unwrap_or_default();
        assert_eq!(labels[MANAGED_BY_LABEL], MANAGED_BY_TOOLBOX);
        assert_eq!(labels["team"], "sre");
        assert_eq!(annotations[REQUESTED_BY_ANNOTATION], "alice@example.com");
        assert!(!annotations.contains_key(REASON_ANNOTATION));
    }

    #[test]
    fn only_toolbox_default_lifetime_may_be_fitted_and_fitting_moves_every_trace_of_it() {
        let pod = |common: &PodCommon| Pod {
            metadata: pod_metadata(common, "p".to_owned(), "node-shell"),
            spec: Some(k8s_openapi::api::core::v1::PodSpec {
                active_deadline_seconds: Some(common.ttl_seconds),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut chosen = sample_common();
        // An extra annotation cannot pass a chosen lifetime for the default.
        chosen
            .extra_annotations
            .insert(TTL_IS_DEFAULT_ANNOTATION.to_owned(), "true".to_owned());
        assert!(!ttl_is_default(&pod(&chosen)));
        let default = PodCommon {
            ttl_is_default: true,
            ..sample_common()
        };
        let fitted = fit_lifetime(pod(&default), 1800, "2026-05-01T12:30:00Z".to_owned());
        assert!(ttl_is_default(&fitted));
        assert_eq!(fitted.spec.unwrap().active_deadline_seconds, Some(1800));
        let annotations = fitted.metadata.annotations.unwrap();
        assert_eq!(annotations[TTL_ANNOTATION], "1800");
        assert_eq!(annotations[EXPIRES_AT_ANNOTATION], "2026-05-01T12:30:00Z");
    }

    #[test]
    fn command_annotation_is_a_json_array_starting_with_the_subcommand() {
        let mut audit = sample_common().audit;
        audit.command = vec!["--".to_owned(), "echo".to_owned(), "a \"b\"".to_owned()];
        assert_eq!(
            command_annotation(&audit),
            r#"["node-shell","--","echo","a \"b\""]"#
        );
    }
}
