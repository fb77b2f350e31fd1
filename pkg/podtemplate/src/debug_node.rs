//! The debug-node pod: what `kubectl debug node/NAME --image I --profile P [--custom F]`
//! creates (kubectl 1.37), with toolbox's name, labels, annotations and TTL holder.

use std::fmt;
use std::str::FromStr;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EnvVar, Pod, PodSpec, SeccompProfile, SecurityContext,
};
use serde_json::{Map, Value};

use crate::common::{
    best_login_shell, host_root_mount, host_root_volume, image_pull_secrets, linux_holder_command,
    pod_metadata, tolerate_every_taint,
};
use crate::recording::{NodeFile, equip};
use crate::strategic_merge::merge_container;
use crate::{
    DEBUG_NODE_POD_PREFIX, DEBUG_NODE_SUBCOMMAND, HOST_ROOT_MOUNT_PATH, PodCommon, pod_name,
};

/// A `kubectl debug --profile`: the privileges the debug container gets on the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// Pre-1.27 behaviour: host namespaces and the host's `/` at `/host`. Deprecated.
    Legacy,
    /// kubectl's default: host namespaces and `/host`, no extra privileges.
    #[default]
    General,
    /// Fits the Pod Security "baseline" level: no host namespaces, no host mount.
    Baseline,
    /// Fits the Pod Security "restricted" level: non-root, no capabilities, seccomp.
    Restricted,
    /// Host namespaces plus `NET_ADMIN` and `NET_RAW`, for network debugging.
    Netadmin,
    /// Host namespaces, `/host` and a privileged container.
    Sysadmin,
}

/// A `--profile` value that names no [`Profile`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown debug profile {given:?}; expected one of: {}",
    Profile::ALL.map(|profile| profile.name()).join(", ")
)]
pub struct UnknownProfileError {
    /// The rejected value, as given.
    pub given: String,
}

impl Profile {
    /// Every profile, in the order kubectl documents them.
    pub const ALL: [Profile; 6] = [
        Profile::Legacy,
        Profile::General,
        Profile::Baseline,
        Profile::Restricted,
        Profile::Netadmin,
        Profile::Sysadmin,
    ];

    /// The `--profile` spelling, same as kubectl's.
    pub fn name(&self) -> &'static str {
        match self {
            Profile::Legacy => "legacy",
            Profile::General => "general",
            Profile::Baseline => "baseline",
            Profile::Restricted => "restricted",
            Profile::Netadmin => "netadmin",
            Profile::Sysadmin => "sysadmin",
        }
    }

    /// Whether the profile's pod may mount the node's sessions directory:
    /// baseline and restricted keep to PodSecurity levels that refuse any
    /// hostPath, so their recordings go to the container log only.
    pub(crate) fn node_file(&self) -> NodeFile {
        match self {
            Profile::Baseline | Profile::Restricted => NodeFile::LeftOut,
            _ => NodeFile::Written,
        }
    }

    /// Whether the profile leaves the node's `/` mounted at `/host`.
    pub fn mounts_host_root(&self) -> bool {
        matches!(self, Profile::Legacy | Profile::General | Profile::Sysadmin)
    }

    /// Whether `chroot /host` can work: it needs the `/host` mount and `CAP_SYS_CHROOT`.
    /// The container runtime grants `CAP_SYS_CHROOT` by default, so every profile that
    /// mounts `/host` keeps it: only `restricted` drops capabilities, and it has no
    /// mount anyway. `sysadmin` is privileged besides.
    pub fn allows_chroot(&self) -> bool {
        self.mounts_host_root() && !self.drops_all_capabilities()
    }

    fn drops_all_capabilities(&self) -> bool {
        matches!(self, Profile::Restricted)
    }

    /// A warning to show the user before creating the pod, if the profile has one.
    pub fn deprecation_warning(&self) -> Option<&'static str> {
        match self {
            Profile::Legacy => Some(
                "the \"legacy\" debug profile is deprecated and kubectl plans to remove it in \
                 v1.39; pick another profile, e.g. --profile=general",
            ),
            _ => None,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = UnknownProfileError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|profile| profile.name() == text)
            .ok_or_else(|| UnknownProfileError {
                given: text.to_owned(),
            })
    }
}

/// Everything needed to build a debug-node pod.
#[derive(Debug, Clone, PartialEq)]
pub struct DebugNodeRequest {
    /// Fields shared by all toolbox pods.
    pub common: PodCommon,
    /// Privileges of the debug container.
    pub profile: Profile,
    /// Name of the debug container (kubectl's default is `debugger`).
    pub container_name: String,
    /// `--env NAME=VALUE` pairs, in order.
    pub env: Vec<(String, String)>,
    /// `--custom`: a partial container merged onto the debug container, typically from
    /// [`parse_custom_container`].
    pub custom: Option<Container>,
}

/// Why a debug-node pod could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The custom container sets a field that toolbox owns.
    #[error(
        "the custom container spec sets `{0}`, which cannot be customised (name, image, \
         command, args, lifecycle and volumeDevices are set by toolbox); remove `{0}` \
         from the --custom file"
    )]
    CustomForbiddenField(&'static str),
    /// The custom container text is not a container spec.
    #[error("the --custom file is not a valid partial container spec: {0}")]
    CustomInvalid(String),
    /// The custom container could not be merged onto the debug container.
    #[error("cannot merge the --custom container spec onto the debug container: {0}")]
    CustomMerge(String),
}

/// Parses a `--custom` partial container from JSON or YAML text.
///
/// JSON is tried first, then YAML, as kubectl does. Unlike kubectl, which silently
/// ignores fields it does not know, unknown fields are rejected (with their paths), so a
/// typo such as `securityContex` fails loudly instead of doing nothing. Fields toolbox
/// owns are rejected as [`TemplateError::CustomForbiddenField`].
pub fn parse_custom_container(text: &str) -> Result<Container, TemplateError> {
    let document: Value = match serde_json::from_str(text) {
        Ok(document) => document,
        Err(_) => serde_yaml::from_str(text).map_err(|error| {
            TemplateError::CustomInvalid(format!("neither JSON nor YAML: {error}"))
        })?,
    };
    if !document.is_object() {
        return Err(TemplateError::CustomInvalid(format!(
            "expected a mapping of container fields (e.g. `securityContext:`), found {}",
            json_kind(&document)
        )));
    }
    let container: Container = serde_json::from_value(document.clone())
        .map_err(|error| TemplateError::CustomInvalid(error.to_string()))?;
    let understood = serde_json::to_value(&container)
        .map_err(|error| TemplateError::CustomInvalid(error.to_string()))?;
    let mut unknown = Vec::new();
    collect_unknown_fields(&document, &understood, "", &mut unknown);
    if !unknown.is_empty() {
        return Err(TemplateError::CustomInvalid(format!(
            "unknown field(s) {}; see `kubectl explain pod.spec.containers`",
            unknown.join(", ")
        )));
    }
    reject_forbidden_fields(&container)?;
    Ok(container)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "an empty document",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Paths present in `given` but lost when deserializing it into a Container, i.e. the
/// fields the Container type does not have.
fn collect_unknown_fields(
    given: &Value,
    understood: &Value,
    path: &str,
    unknown: &mut Vec<String>,
) {
    match (given, understood) {
        (Value::Object(given), Value::Object(understood)) => {
            for (field, given_value) in given {
                let field_path = if path.is_empty() {
                    field.clone()
                } else {
                    format!("{path}.{field}")
                };
                match understood.get(field) {
                    Some(understood_value) => {
                        collect_unknown_fields(given_value, understood_value, &field_path, unknown);
                    }
                    None if given_value.is_null() => {}
                    None => unknown.push(format!("`{field_path}`")),
                }
            }
        }
        (Value::Array(given), Value::Array(understood)) => {
            for (index, (given_item, understood_item)) in given.iter().zip(understood).enumerate() {
                let item_path = format!("{path}[{index}]");
                collect_unknown_fields(given_item, understood_item, &item_path, unknown);
            }
        }
        _ => {}
    }
}

/// kubectl refuses a custom profile that sets name, image, command, lifecycle or
/// volumeDevices. toolbox also refuses `args`: the container's process is the TTL
/// holder (`sleep <ttl>`), which extra arguments would break.
fn reject_forbidden_fields(custom: &Container) -> Result<(), TemplateError> {
    let non_empty_list = |list: &Option<Vec<_>>| list.as_ref().is_some_and(|l| !l.is_empty());
    let forbidden = [
        ("name", !custom.name.is_empty()),
        (
            "image",
            custom.image.as_ref().is_some_and(|i| !i.is_empty()),
        ),
        ("command", non_empty_list(&custom.command)),
        ("args", non_empty_list(&custom.args)),
        ("lifecycle", custom.lifecycle.is_some()),
        (
            "volumeDevices",
            custom
                .volume_devices
                .as_ref()
                .is_some_and(|d| !d.is_empty()),
        ),
    ];
    match forbidden.into_iter().find(|(_, is_set)| *is_set) {
        Some((field, _)) => Err(TemplateError::CustomForbiddenField(field)),
        None => Ok(()),
    }
}

/// Builds the pod `kubectl debug node/NAME --image I --profile P [--custom F]` would
/// create, adapted to toolbox.
///
/// Same as kubectl: one container with the image, pull policy, `--env` variables and
/// `terminationMessagePolicy: File`; `nodeName`; `restartPolicy: Never`; a toleration
/// for every taint; the profile's node settings; then the custom container merged on.
///
/// Different from kubectl:
/// - name `toolbox-debug-<node>-<suffix>` and toolbox's labels and audit annotations
///   instead of `node-debugger-<node>-<suffix>` and `managed-by: kubectl-debug`;
/// - the namespace is set here rather than at creation time;
/// - the container runs the TTL holder (`sleep <ttl>`) instead of the user's command,
///   without stdin or TTY; sessions are execs ([`debug_node_exec_command`]);
/// - `activeDeadlineSeconds`, `imagePullSecrets`, `priorityClassName` and container
///   `resources` come from the request.
///
/// The custom merge follows apimachinery's strategic merge for a Container (see the
/// `strategic_merge` module): `env` merges by name, `volumeMounts` by mountPath, `ports`
/// by containerPort; objects such as `securityContext` and `resources` merge field by
/// field; other lists, including capability `add`/`drop`, are replaced. As with Go's
/// encoder, false, "" and 0 in the custom spec's plain Go fields (e.g. `stdin`,
/// `workingDir`, an env `value`) and empty lists are no-ops rather than overrides.
/// Known differences: such zero values nested deeper (e.g. inside `securityContext.
/// seLinuxOptions`) are kept, which can only add an explicit default, never change a
/// setting; a volume mount without a `name` keeps the matched mount's name instead of
/// blanking it; and `args` is refused (see [`TemplateError::CustomForbiddenField`]).
pub fn debug_node_pod(req: &DebugNodeRequest) -> Result<Pod, TemplateError> {
    let common = &req.common;
    let mut container = Container {
        name: req.container_name.clone(),
        image: Some(common.image.clone()),
        image_pull_policy: common.image_pull_policy.clone(),
        env: env_vars(&req.env),
        command: Some(linux_holder_command(common.ttl_seconds)),
        termination_message_policy: Some("File".to_owned()),
        resources: common.resources.clone(),
        ..Container::default()
    };
    let mut spec = PodSpec {
        node_name: Some(common.node_name.clone()),
        restart_policy: Some("Never".to_owned()),
        tolerations: Some(tolerate_every_taint()),
        active_deadline_seconds: Some(common.ttl_seconds),
        priority_class_name: common.priority_class.clone(),
        image_pull_secrets: image_pull_secrets(common),
        ..PodSpec::default()
    };
    apply_profile(req.profile, &mut spec, &mut container);
    if let Some(custom) = &req.custom {
        container = apply_custom(container, custom)?;
    }
    spec.containers = vec![container];
    let name = pod_name(
        DEBUG_NODE_POD_PREFIX,
        &common.node_name,
        &common.name_suffix,
    );
    let mut pod = Pod {
        metadata: pod_metadata(common, name, DEBUG_NODE_SUBCOMMAND),
        spec: Some(spec),
        status: None,
    };
    if let Some(recording) = &common.recording {
        equip(&mut pod, recording, req.profile.node_file());
    }
    Ok(pod)
}

/// kubectl leaves `value` out for `--env NAME=`, so an empty value is omitted here too.
fn env_vars(env: &[(String, String)]) -> Option<Vec<EnvVar>> {
    if env.is_empty() {
        return None;
    }
    let vars = env
        .iter()
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            value: (!value.is_empty()).then(|| value.clone()),
            value_from: None,
        })
        .collect();
    Some(vars)
}

/// The node-target branch of each kubectl profile, one function each.
fn apply_profile(profile: Profile, spec: &mut PodSpec, container: &mut Container) {
    match profile {
        Profile::Legacy => legacy_profile(spec, container),
        Profile::General => general_profile(spec, container),
        Profile::Baseline => baseline_profile(spec, container),
        Profile::Restricted => restricted_profile(spec, container),
        Profile::Netadmin => netadmin_profile(spec, container),
        Profile::Sysadmin => sysadmin_profile(spec, container),
    }
}

fn legacy_profile(spec: &mut PodSpec, container: &mut Container) {
    mount_host_root(spec, container);
    use_host_namespaces(spec);
}

fn general_profile(spec: &mut PodSpec, container: &mut Container) {
    mount_host_root(spec, container);
    clear_security_context(container);
    use_host_namespaces(spec);
}

fn baseline_profile(_spec: &mut PodSpec, container: &mut Container) {
    clear_security_context(container);
}

fn restricted_profile(_spec: &mut PodSpec, container: &mut Container) {
    clear_security_context(container);
    let security = container
        .security_context
        .get_or_insert_with(SecurityContext::default);
    security.run_as_non_root = Some(true);
    security.capabilities = Some(Capabilities {
        add: None,
        drop: Some(vec!["ALL".to_owned()]),
    });
    security.allow_privilege_escalation = Some(false);
    security.seccomp_profile = Some(SeccompProfile {
        type_: "RuntimeDefault".to_owned(),
        localhost_profile: None,
    });
}

fn netadmin_profile(spec: &mut PodSpec, container: &mut Container) {
    add_capabilities(container, &["NET_ADMIN", "NET_RAW"]);
    use_host_namespaces(spec);
}

fn sysadmin_profile(spec: &mut PodSpec, container: &mut Container) {
    container
        .security_context
        .get_or_insert_with(SecurityContext::default)
        .privileged = Some(true);
    use_host_namespaces(spec);
    mount_host_root(spec, container);
}

fn mount_host_root(spec: &mut PodSpec, container: &mut Container) {
    spec.volumes
        .get_or_insert_with(Vec::new)
        .push(host_root_volume());
    container
        .volume_mounts
        .get_or_insert_with(Vec::new)
        .push(host_root_mount());
}

fn use_host_namespaces(spec: &mut PodSpec) {
    spec.host_network = Some(true);
    spec.host_pid = Some(true);
    spec.host_ipc = Some(true);
}

fn clear_security_context(container: &mut Container) {
    container.security_context = None;
}

fn add_capabilities(container: &mut Container, capabilities: &[&str]) {
    let added = container
        .security_context
        .get_or_insert_with(SecurityContext::default)
        .capabilities
        .get_or_insert_with(Capabilities::default)
        .add
        .get_or_insert_with(Vec::new);
    added.extend(
        capabilities
            .iter()
            .map(|capability| (*capability).to_owned()),
    );
}

/// Merges the custom container onto the debug container, as kubectl's
/// `applyCustomProfile` does (see [`debug_node_pod`] for the rules).
fn apply_custom(container: Container, custom: &Container) -> Result<Container, TemplateError> {
    reject_forbidden_fields(custom)?;
    let mut patch = to_json_object(custom)?;
    drop_values_go_would_omit(&mut patch);
    // kubectl names the patch after the debug container so the two always match.
    patch.insert("name".to_owned(), Value::String(container.name.clone()));
    let mut merged = to_json_object(&container)?;
    merge_container(&mut merged, patch).map_err(TemplateError::CustomMerge)?;
    serde_json::from_value(Value::Object(merged))
        .map_err(|error| TemplateError::CustomMerge(error.to_string()))
}

fn to_json_object(container: &Container) -> Result<Map<String, Value>, TemplateError> {
    match serde_json::to_value(container) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(TemplateError::CustomMerge(format!(
            "a container serialized to {} instead of a mapping",
            json_kind(&other)
        ))),
        Err(error) => Err(TemplateError::CustomMerge(error.to_string())),
    }
}

/// Container fields that are plain (non-pointer) `omitempty` values in Go: kubectl's
/// `json.Marshal` of the custom container leaves them out at their zero value, so
/// setting them to false, "" or 0 never overrides anything.
const GO_OMITEMPTY_FIELDS: [&str; 8] = [
    "image",
    "imagePullPolicy",
    "stdin",
    "stdinOnce",
    "tty",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "workingDir",
];

/// The same for the elements of the lists that merge element-wise, where a dropped
/// zero value keeps the original element's value (e.g. an `--env` value).
///
/// One deliberate difference: a volume mount's `name` is required, so Go always sends
/// it, and kubectl blanks the `host-root` name when a custom file only says
/// `{mountPath: /host, readOnly: true}`, yielding a pod the API rejects. Here an empty
/// name keeps the original one.
const GO_OMITEMPTY_ELEMENT_FIELDS: [(&str, &[&str]); 3] = [
    ("env", &["value"]),
    (
        "volumeMounts",
        &["name", "readOnly", "subPath", "subPathExpr"],
    ),
    ("ports", &["name", "hostPort", "hostIP", "protocol"]),
];

fn drop_values_go_would_omit(patch: &mut Map<String, Value>) {
    patch.retain(|field, value| {
        !(GO_OMITEMPTY_FIELDS.contains(&field.as_str()) && is_go_zero(value))
    });
    for (list_field, element_fields) in GO_OMITEMPTY_ELEMENT_FIELDS {
        let Some(Value::Array(elements)) = patch.get_mut(list_field) else {
            continue;
        };
        for element in elements.iter_mut().filter_map(Value::as_object_mut) {
            element.retain(|field, value| {
                !(element_fields.contains(&field.as_str()) && is_go_zero(value))
            });
        }
    }
    drop_empty_lists(patch);
}

fn is_go_zero(value: &Value) -> bool {
    match value {
        Value::Bool(flag) => !flag,
        Value::String(text) => text.is_empty(),
        Value::Number(number) => number.as_f64() == Some(0.0),
        _ => false,
    }
}

/// Go slices in the Container API are all `omitempty`, so an empty list in the custom
/// file never reaches kubectl's patch.
fn drop_empty_lists(object: &mut Map<String, Value>) {
    object.retain(|_, value| !matches!(value, Value::Array(list) if list.is_empty()));
    for value in object.values_mut() {
        match value {
            Value::Object(nested) => drop_empty_lists(nested),
            Value::Array(list) => {
                for item in list.iter_mut() {
                    if let Value::Object(nested) = item {
                        drop_empty_lists(nested);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The argv to exec in the debug container.
///
/// Without `chroot`: the user's command, or `sh -l` (debug images are not guaranteed
/// to have bash). With `chroot`: the same wrapped in `chroot /host`, where the
/// interactive default prefers bash and falls back to sh, like node-shell.
///
/// Callers should refuse `chroot` for profiles where [`Profile::allows_chroot`] is
/// false; this function wraps regardless, so the failure surfaces from `chroot`
/// itself instead of silently running outside the host's root.
pub fn debug_node_exec_command(
    _req: &DebugNodeRequest,
    user_command: &[String],
    chroot: bool,
) -> Vec<String> {
    if !chroot {
        if user_command.is_empty() {
            return vec!["sh".to_owned(), "-l".to_owned()];
        }
        return user_command.to_vec();
    }
    let inner = if user_command.is_empty() {
        best_login_shell()
    } else {
        user_command.to_vec()
    };
    ["chroot", HOST_ROOT_MOUNT_PATH]
        .map(str::to_owned)
        .into_iter()
        .chain(inner)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HOST_ROOT_VOLUME;
    use crate::common::LOGIN_SHELL_SNIPPET;
    use crate::common::tests::sample_common;

    fn request(profile: Profile) -> DebugNodeRequest {
        DebugNodeRequest {
            common: sample_common(),
            profile,
            container_name: "debugger".to_owned(),
            env: Vec::new(),
            custom: None,
        }
    }

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn debug_container(pod: &Pod) -> &Container {
        &pod.spec.as_ref().expect("spec").containers[0]
    }

    #[test]
    fn profiles_round_trip_through_their_names() {
        for profile in Profile::ALL {
            assert_eq!(profile.name().parse::<Profile>(), Ok(profile));
            assert_eq!(profile.to_string(), profile.name());
        }
        assert_eq!(Profile::default(), Profile::General);
    }

    #[test]
    fn unknown_profile_error_lists_the_allowed_values() {
        let error = "admin".parse::<Profile>().expect_err("not a profile");
        assert_eq!(
            error.to_string(),
            "unknown debug profile \"admin\"; expected one of: legacy, general, baseline, \
             restricted, netadmin, sysadmin"
        );
        assert!("General".parse::<Profile>().is_err(), "names are lowercase");
        assert!("".parse::<Profile>().is_err());
    }

    #[test]
    fn chroot_is_allowed_exactly_where_host_root_and_sys_chroot_are() {
        let allowed: Vec<Profile> = Profile::ALL
            .into_iter()
            .filter(Profile::allows_chroot)
            .collect();
        assert_eq!(
            allowed,
            [Profile::Legacy, Profile::General, Profile::Sysadmin]
        );
    }

    /// Ties the `mounts_host_root` / `allows_chroot` table to the pods really built.
    #[test]
    fn chroot_table_matches_the_generated_pods() {
        for profile in Profile::ALL {
            let pod = debug_node_pod(&request(profile)).expect("pod");
            let container = debug_container(&pod);
            let mounts_host = container
                .volume_mounts
                .iter()
                .flatten()
                .any(|m| m.mount_path == HOST_ROOT_MOUNT_PATH && m.name == HOST_ROOT_VOLUME);
            let security = container.security_context.clone().unwrap_or_default();
            let privileged = security.privileged == Some(true);
            let dropped = security
                .capabilities
                .and_then(|c| c.drop)
                .unwrap_or_default();
            let keeps_sys_chroot = !dropped.iter().any(|c| c == "ALL" || c == "SYS_CHROOT");
            assert_eq!(profile.mounts_host_root(), mounts_host, "{profile}");
            assert_eq!(
                profile.allows_chroot(),
                mounts_host && (privileged || keeps_sys_chroot),
                "{profile}"
            );
        }
    }

    #[test]
    fn only_legacy_is_deprecated() {
        for profile in Profile::ALL {
            assert_eq!(
                profile.deprecation_warning().is_some(),
                profile == Profile::Legacy
            );
        }
    }

    #[test]
    fn legacy_and_general_build_the_same_node_pod() {
        let legacy = debug_node_pod(&request(Profile::Legacy)).expect("pod");
        let general = debug_node_pod(&request(Profile::General)).expect("pod");
        assert_eq!(legacy, general);
    }

    #[test]
    fn forbidden_custom_fields_are_rejected_like_kubectl() {
        let cases = [
            (r#"{"name": "x"}"#, "name"),
            (r#"{"image": "busybox"}"#, "image"),
            (r#"{"command": ["sh"]}"#, "command"),
            (r#"{"args": ["-c", "true"]}"#, "args"),
            (
                r#"{"lifecycle": {"preStop": {"exec": {"command": ["true"]}}}}"#,
                "lifecycle",
            ),
            (
                r#"{"volumeDevices": [{"name": "d", "devicePath": "/dev/xvda"}]}"#,
                "volumeDevices",
            ),
        ];
        for (text, field) in cases {
            assert_eq!(
                parse_custom_container(text),
                Err(TemplateError::CustomForbiddenField(field)),
                "{text}"
            );
        }
    }

    #[test]
    fn empty_forbidden_fields_are_allowed_like_kubectl() {
        let custom = parse_custom_container(r#"{"name": "", "command": [], "image": ""}"#);
        assert!(custom.is_ok(), "{custom:?}");
    }

    #[test]
    fn forbidden_fields_are_checked_even_when_the_caller_builds_the_container() {
        let mut req = request(Profile::General);
        req.custom = Some(Container {
            image: Some("evil".to_owned()),
            ..Container::default()
        });
        assert_eq!(
            debug_node_pod(&req),
            Err(TemplateError::CustomForbiddenField("image"))
        );
    }

    #[test]
    fn custom_parses_json_and_yaml() {
        let from_json =
            parse_custom_container(r#"{"securityContext": {"runAsUser": 0}}"#).expect("json");
        let from_yaml = parse_custom_container("securityContext:\n  runAsUser: 0\n").expect("yaml");
        assert_eq!(from_json, from_yaml);
        assert_eq!(
            from_yaml.security_context.and_then(|s| s.run_as_user),
            Some(0)
        );
    }

    #[test]
    fn custom_accepts_numeric_quantities() {
        let custom =
            parse_custom_container("resources:\n  limits:\n    cpu: 1\n    memory: 512Mi\n")
                .expect("yaml");
        let limits = custom.resources.and_then(|r| r.limits).unwrap_or_default();
        assert_eq!(limits["cpu"].0, "1");
    }

    #[test]
    fn custom_rejects_unknown_fields_with_their_paths() {
        let error = parse_custom_container(
            "securityContex:\n  privileged: true\nenv:\n- name: A\n  valu: x\n",
        )
        .expect_err("typos");
        let message = error.to_string();
        assert!(message.contains("`securityContex`"), "{message}");
        assert!(message.contains("`env[0].valu`"), "{message}");
    }

    #[test]
    fn custom_rejects_wrong_shapes() {
        for text in ["", "[]", "- a\n- b\n", "42", "just words"] {
            let error = parse_custom_container(text).expect_err(text);
            assert!(
                error.to_string().contains("expected a mapping"),
                "{text:?}: {error}"
            );
        }
        let error = parse_custom_container(r#"{"stdin": "yes please"}"#).expect_err("type");
        assert!(matches!(error, TemplateError::CustomInvalid(_)), "{error}");
        let error = parse_custom_container("{ not: [valid").expect_err("syntax");
        assert!(
            error.to_string().contains("neither JSON nor YAML"),
            "{error}"
        );
    }

    #[test]
    fn custom_env_merges_by_name_with_request_env() {
        let mut req = request(Profile::General);
        req.env = vec![("A".into(), "1".into()), ("B".into(), "2".into())];
        req.custom = Some(
            parse_custom_container(
                r#"{"env": [{"name": "B", "value": "override"}, {"name": "C", "value": "3"}]}"#,
            )
            .expect("custom"),
        );
        let pod = debug_node_pod(&req).expect("pod");
        let env: Vec<(String, Option<String>)> = debug_container(&pod)
            .env
            .iter()
            .flatten()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect();
        assert_eq!(
            env,
            [
                ("A".to_owned(), Some("1".to_owned())),
                ("B".to_owned(), Some("override".to_owned())),
                ("C".to_owned(), Some("3".to_owned())),
            ]
        );
    }

    #[test]
    fn custom_capabilities_replace_the_profile_list() {
        let mut req = request(Profile::Netadmin);
        req.custom = Some(
            parse_custom_container(
                r#"{"securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}"#,
            )
            .expect("custom"),
        );
        let pod = debug_node_pod(&req).expect("pod");
        let add = debug_container(&pod)
            .security_context
            .clone()
            .and_then(|s| s.capabilities)
            .and_then(|c| c.add);
        assert_eq!(add, Some(vec!["SYS_PTRACE".to_owned()]));
    }

    #[test]
    fn custom_zero_values_do_not_override() {
        let mut req = request(Profile::General);
        req.custom = Some(
            parse_custom_container(
                r#"{"stdin": false, "workingDir": "", "env": [], "terminationMessagePolicy": ""}"#,
            )
            .expect("custom"),
        );
        assert_eq!(
            debug_node_pod(&req),
            debug_node_pod(&request(Profile::General))
        );
    }

    #[test]
    fn custom_privileged_false_does_override() {
        let mut req = request(Profile::Sysadmin);
        req.custom = Some(
            parse_custom_container(r#"{"securityContext": {"privileged": false}}"#)
                .expect("custom"),
        );
        let pod = debug_node_pod(&req).expect("pod");
        let privileged = debug_container(&pod)
            .security_context
            .clone()
            .and_then(|s| s.privileged);
        assert_eq!(privileged, Some(false));
    }

    #[test]
    fn custom_mount_without_a_name_keeps_the_host_root_name() {
        let mut req = request(Profile::General);
        req.custom = Some(
            parse_custom_container("volumeMounts:\n- mountPath: /host\n  readOnly: true\n")
                .expect("custom"),
        );
        let pod = debug_node_pod(&req).expect("pod");
        let mounts = debug_container(&pod)
            .volume_mounts
            .clone()
            .unwrap_or_default();
        assert_eq!(mounts.len(), 1);
        assert_eq!(mounts[0].name, HOST_ROOT_VOLUME);
        assert_eq!(mounts[0].read_only, Some(true));
    }

    #[test]
    fn empty_env_values_are_omitted_like_kubectl() {
        let mut req = request(Profile::Baseline);
        req.env = vec![("EMPTY".into(), String::new())];
        let pod = debug_node_pod(&req).expect("pod");
        let env = debug_container(&pod).env.clone().unwrap_or_default();
        assert_eq!(env[0].value, None);
    }

    #[test]
    fn exec_command_without_chroot() {
        let req = request(Profile::General);
        assert_eq!(debug_node_exec_command(&req, &[], false), words("sh -l"));
        assert_eq!(
            debug_node_exec_command(&req, &words("ip addr"), false),
            words("ip addr")
        );
    }

    #[test]
    fn exec_command_with_chroot() {
        let req = request(Profile::Sysadmin);
        assert_eq!(
            debug_node_exec_command(&req, &words("journalctl -u kubelet"), true),
            words("chroot /host journalctl -u kubelet")
        );
        let interactive: Vec<String> = words("chroot /host sh -c")
            .into_iter()
            .chain([LOGIN_SHELL_SNIPPET.to_owned()])
            .collect();
        assert_eq!(debug_node_exec_command(&req, &[], true), interactive);
    }
}
