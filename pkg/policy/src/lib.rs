//! The objects a cluster admin applies so that node access through a
//! namespace is bounded and attributable for every tool, not only toolbox:
//! the namespace, least-privilege RBAC for one group, a
//! MutatingAdmissionPolicy that gives node-access pods a lifetime and the
//! requester's name, and a ValidatingAdmissionPolicy that bounds them.
//! Before Kubernetes 1.36 there is no MutatingAdmissionPolicy (v1): the
//! ValidatingAdmissionPolicy then requires a lifetime instead of giving one.
//! The same ValidatingAdmissionPolicy closes the other ways onto a node
//! through the namespace: ephemeral containers, image changes, and pods
//! that controllers make. With `--require-recording`, a second
//! ValidatingAdmissionPolicy ([`recording`]) lets no session into the
//! namespace but a recorded one.
//!
//! Pure functions from a [`PolicyRequest`] to objects; no I/O. Rendering as
//! YAML puts each object's reasons, and each RBAC rule's, in comments.

use serde_json::{Value, json};
use toolbox_podtemplate::REQUESTED_BY_ANNOTATION;

pub mod recording;

pub use recording::{RECORDER_IMAGE_ANNOTATION, Recording};

/// What the admin asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRequest {
    /// The node-access namespace: where node-debug pods may run.
    pub namespace: String,
    /// The group allowed node access (e.g. an on-call group).
    pub group: String,
    /// The group allowed to find and delete leftovers everywhere, if any.
    pub cleanup_group: Option<String>,
    /// The longest lifetime a node-access pod may ask for, in seconds.
    pub max_ttl_seconds: i64,
    /// The lifetime given to a node-access pod that asks for none.
    pub default_ttl_seconds: i64,
    /// Whether the server has MutatingAdmissionPolicy v1 (Kubernetes 1.36+):
    /// without it, nothing can give a pod a lifetime or set its requester.
    pub mutating_policies: bool,
    /// `--require-recording`: every session into the namespace is recorded.
    pub recording: Option<Recording>,
}

/// The first Kubernetes minor with MutatingAdmissionPolicy v1.
pub const MUTATING_POLICY_SINCE_MINOR: u32 = 36;

impl PolicyRequest {
    /// What the objects leave out on a server without
    /// MutatingAdmissionPolicy, in one line; None when nothing is left out.
    pub fn fallback_note(&self, server: &str) -> Option<String> {
        (!self.mutating_policies).then(|| {
            format!(
                "{server} has no MutatingAdmissionPolicy (v1 from Kubernetes 1.{MUTATING_POLICY_SINCE_MINOR}): node-access pods in {ns} must ask for a lifetime of at most {max} instead of being given {default}, so kubectl debug's pods, which ask for none, are refused there",
                ns = self.namespace,
                max = ttl_words(self.max_ttl_seconds),
                default = ttl_words(self.default_ttl_seconds),
            )
        })
    }
}

/// The capabilities PodSecurity's baseline level lets a container add; any
/// other (SYS_ADMIN, SYS_MODULE, SYS_PTRACE, NET_ADMIN, ALL) is a way out of
/// the container, or onto the node's network.
pub const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The SELinux types PodSecurity's baseline level allows; any other (such
/// as spc_t, the "super privileged container") is not confined.
const BASELINE_SELINUX_TYPES: [&str; 5] = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

fn cel_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// CEL: whether `context` (a container's or the pod's securityContext, an
/// expression) reaches past the container onto the node: a privileged
/// container, a Windows HostProcess one, an unconfined SELinux type, an
/// unmasked /proc, or a capability beyond PodSecurity baseline's.
fn context_reaches_node(context: &str) -> String {
    format!(
        "(has({context}.privileged) && {context}.privileged) || \
(has({context}.windowsOptions) && has({context}.windowsOptions.hostProcess) && {context}.windowsOptions.hostProcess) || \
(has({context}.seLinuxOptions) && has({context}.seLinuxOptions.type) && !({context}.seLinuxOptions.type in {types})) || \
(has({context}.procMount) && {context}.procMount == 'Unmasked') || \
(has({context}.capabilities) && has({context}.capabilities.add) && {context}.capabilities.add.exists(k, !(k in {capabilities})))",
        types = cel_list(&BASELINE_SELINUX_TYPES),
        capabilities = cel_list(&BASELINE_CAPABILITIES),
    )
}

/// CEL: whether any container of `list` (an expression, possibly absent)
/// reaches the node.
fn containers_reach_node(list: &str) -> String {
    format!(
        "(has({list}) && {list}.exists(c, has(c.securityContext) && ({})))",
        context_reaches_node("c.securityContext")
    )
}

/// The CEL condition that picks out node-access pods: what PodSecurity's
/// baseline level refuses because it reaches the node. Any host namespace; a
/// hostPath volume; a container or init container that is privileged, a
/// Windows HostProcess one, adds a capability beyond baseline's, or has an
/// unconfined SELinux type or /proc; the same set for the whole pod. The
/// policies leave every other pod in the namespace alone.
pub fn node_access_condition() -> String {
    let containers = format!(
        "(object.spec.containers.exists(c, has(c.securityContext) && ({})))",
        context_reaches_node("c.securityContext")
    );
    [
        "(has(object.spec.hostPID) && object.spec.hostPID)".to_string(),
        "(has(object.spec.hostNetwork) && object.spec.hostNetwork)".to_string(),
        "(has(object.spec.hostIPC) && object.spec.hostIPC)".to_string(),
        "(has(object.spec.volumes) && object.spec.volumes.exists(v, has(v.hostPath)))".to_string(),
        format!(
            "(has(object.spec.securityContext) && ({}))",
            pod_context_reaches_node()
        ),
        containers,
        containers_reach_node("object.spec.initContainers"),
    ]
    .join(" || ")
}

/// CEL: the pod-wide securityContext's part: only its SELinux type and
/// Windows options apply to every container (it has no privileged field).
fn pod_context_reaches_node() -> String {
    let context = "object.spec.securityContext";
    format!(
        "(has({context}.windowsOptions) && has({context}.windowsOptions.hostProcess) && {context}.windowsOptions.hostProcess) || \
(has({context}.seLinuxOptions) && has({context}.seLinuxOptions.type) && !({context}.seLinuxOptions.type in {types}))",
        types = cel_list(&BASELINE_SELINUX_TYPES),
    )
}

/// The ValidatingAdmissionPolicy's condition: a node-access pod, or a pod
/// (of any kind) that an ephemeral container would give node access.
fn node_access_or_ephemeral_condition() -> String {
    format!(
        "{} || {}",
        node_access_condition(),
        containers_reach_node("object.spec.ephemeralContainers")
    )
}

/// CEL: the request's subresource, "" for the pod itself (the request
/// then has no subResource at all).
const SUBRESOURCE: &str = "(has(request.subResource) ? request.subResource : '')";

/// The words between which the ValidatingAdmissionPolicy's refusal of an
/// over-long lifetime names the namespace's maximum, in seconds: toolbox
/// reads it back to fit a lifetime the user did not choose
/// ([`max_ttl_in_refusal`]).
const MAXIMUM_WORDS: (&str, &str) = ("exceeds this namespace's maximum of ", "s;");

/// The namespace's maximum lifetime, in seconds, as toolbox's
/// ValidatingAdmissionPolicy names it when it refuses a pod's lifetime:
/// "lifetime 3600s exceeds this namespace's maximum of 1800s; use --ttl 30m
/// or less". None for any other refusal.
pub fn max_ttl_in_refusal(message: &str) -> Option<i64> {
    let (before, after) = MAXIMUM_WORDS;
    let rest = message.split_once(before)?.1;
    let digits = rest.split_once(after)?.0;
    digits.parse().ok().filter(|max: &i64| *max >= 1)
}

/// Annotation on the admission policies: the lifetime given to a pod that
/// asks for none, in seconds; `toolbox compare` reads it.
pub const DEFAULT_TTL_ANNOTATION: &str = "toolbox.dev/default-ttl-seconds";
/// Annotation on the admission policies: the longest lifetime allowed, in seconds.
pub const MAX_TTL_ANNOTATION: &str = "toolbox.dev/max-ttl-seconds";
/// Annotation on the admission policies: the group given node access.
pub const GROUP_ANNOTATION: &str = "toolbox.dev/group";

/// One object with the comment that goes above it in YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct Documented {
    pub why: String,
    pub object: Value,
    /// For a Role or ClusterRole: why each rule is there, in rule order.
    pub rule_reasons: Vec<&'static str>,
}

/// The name the objects share, derived from the namespace so that several
/// node-access namespaces can coexist.
pub fn base_name(namespace: &str) -> String {
    format!("toolbox-node-access-{namespace}")
}

/// A duration as `--ttl` takes it: 90s, 30m, 2h, 1h30m.
pub fn ttl_words(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut text = String::new();
    if h > 0 {
        text.push_str(&format!("{h}h"));
    }
    if m > 0 {
        text.push_str(&format!("{m}m"));
    }
    if s > 0 || text.is_empty() {
        text.push_str(&format!("{s}s"));
    }
    text
}

/// Every object, in the order `kubectl apply` needs them.
pub fn policy_objects(req: &PolicyRequest) -> Vec<Documented> {
    let ns = req.namespace.as_str();
    let name = base_name(ns);
    let group = |group: &str| json!([{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group }]);
    // Where recording is required, nothing may attach (the recording
    // policy refuses it for everyone): the group is not granted it either.
    let (sessions, sessions_reason) = if req.recording.is_some() {
        (
            json!(["pods/exec"]),
            "pods/exec: toolbox's recorded sessions (the recording policy below lets only the recorder's command through); no pods/attach, since an attach is not recorded. A WebSocket session is a GET, which the API server also checks for create",
        )
    } else {
        (
            json!(["pods/exec", "pods/attach"]),
            "pods/exec (toolbox) and pods/attach (kubectl debug -it, kubectl run -i): reach the pod's process. A WebSocket session is a GET, which the API server also checks for create",
        )
    };
    let mut objects = vec![
        Documented {
            why: "The node-access namespace. Node shells need privileged pods with host namespaces, which only PodSecurity's privileged level admits; warn and audit at baseline keep every such pod visible to the user (a warning) and in the audit log."
                .to_string(),
            object: json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": ns,
                    "labels": {
                        "pod-security.kubernetes.io/enforce": "privileged",
                        "pod-security.kubernetes.io/warn": "baseline",
                        "pod-security.kubernetes.io/audit": "baseline",
                    }
                }
            }),
            rule_reasons: Vec::new(),
        },
        Documented {
            why: format!(
                "What group {} may do in {ns}: start node-access pods, reach them, and remove them. Nothing else in the namespace.",
                req.group
            ),
            object: json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": { "name": name, "namespace": ns },
                "rules": [
                    { "apiGroups": [""], "resources": ["pods"], "verbs": ["create", "get", "list", "watch", "delete", "patch"] },
                    { "apiGroups": [""], "resources": sessions, "verbs": ["create", "get"] },
                    { "apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"] },
                ]
            }),
            rule_reasons: vec![
                "pods: create the pod (a session's, toolbox sessions' reader, toolbox logs' fallback); get, list and watch it while it starts; delete it when the session ends; patch only for toolbox --persist, which records each reuse on the pod (the ValidatingAdmissionPolicy below keeps requested-by from being changed)",
                sessions_reason,
                "pods/log: get: toolbox sessions reads a live session's recording from its pod's container log (the recorder writes it there); the node's kept recordings it reads with a reader pod, which the rules above allow",
            ],
        },
        Documented {
            why: format!("Group {} gets the Role in {ns} only.", req.group),
            object: json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": { "name": name, "namespace": ns },
                "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name },
                "subjects": group(&req.group),
            }),
            rule_reasons: Vec::new(),
        },
        Documented {
            why: "Reading nodes, cluster-wide: node access starts by naming a node. Not nodes/proxy, with which toolbox logs would read a node's logs without a pod: it reaches all of every kubelet's API (pods' logs, exec, metrics), so it is an admin's choice, not a default (docs/security.md).".to_string(),
            object: json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": { "name": format!("{name}-nodes") },
                "rules": [
                    { "apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"] },
                ]
            }),
            rule_reasons: vec![
                "nodes: get (toolbox and kubectl debug node/ check the node), list and watch (the picker and shell completion)",
            ],
        },
        Documented {
            why: format!("Group {} may read nodes.", req.group),
            object: json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": { "name": format!("{name}-nodes") },
                "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("{name}-nodes") },
                "subjects": group(&req.group),
            }),
            rule_reasons: Vec::new(),
        },
    ];
    if let Some(cleanup_group) = &req.cleanup_group {
        objects.push(Documented {
            why: "Finding and removing node-debug pods that any tool left anywhere (toolbox cleanup -A).".to_string(),
            object: json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": { "name": format!("{name}-cleanup") },
                "rules": [
                    { "apiGroups": [""], "resources": ["pods"], "verbs": ["list", "delete"] },
                ]
            }),
            rule_reasons: vec![
                "pods, in every namespace: list (to find leftovers) and delete (to remove them); no create, so no node access comes with it",
            ],
        });
        objects.push(Documented {
            why: format!("Group {cleanup_group} may clean up everywhere."),
            object: json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": { "name": format!("{name}-cleanup") },
                "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": format!("{name}-cleanup") },
                "subjects": group(cleanup_group),
            }),
            rule_reasons: Vec::new(),
        });
    }
    let mut facts = json!({
        MAX_TTL_ANNOTATION: req.max_ttl_seconds.to_string(),
        GROUP_ANNOTATION: req.group,
    });
    if req.mutating_policies {
        facts[DEFAULT_TTL_ANNOTATION] = json!(req.default_ttl_seconds.to_string());
    }
    let in_namespace =
        json!({ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": ns } } });
    let max = req.max_ttl_seconds;
    if req.mutating_policies {
        objects.extend(mutating_policy(req, &facts, &in_namespace));
    }
    objects.extend([
        Documented {
            why: format!(
                "Node-access pods in {ns} (what PodSecurity baseline refuses for reaching the node) are refused when they would live longer than {}{}, are not pinned to one node by spec.nodeName, or are made by a controller (a Job, a DaemonSet), which would make them again and again; {REQUESTED_BY_ANNOTATION} must name the user who creates the pod, and neither it nor the pod's images can be changed afterwards. An ephemeral container (kubectl debug pod/NAME) that would reach the node, or join a node-access pod, is refused: it cannot be given a lifetime or a requester. Each message names the rule and the way out.",
                ttl_words(max),
                if req.mutating_policies { "" } else { ", ask for no lifetime (this server has no MutatingAdmissionPolicy to give them one)" }
            ),
            object: json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicy",
                "metadata": { "name": name, "annotations": facts },
                "spec": {
                    "failurePolicy": "Fail",
                    "matchConstraints": {
                        "resourceRules": [
                            { "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"] },
                            { "apiGroups": [""], "apiVersions": ["v1"], "operations": ["UPDATE"], "resources": ["pods/ephemeralcontainers"] }
                        ]
                    },
                    "matchConditions": [{ "name": "node-access", "expression": node_access_or_ephemeral_condition() }],
                    "validations": [
                        {
                            "expression": format!("request.operation != 'CREATE' || (has(object.spec.activeDeadlineSeconds) && object.spec.activeDeadlineSeconds <= {max})"),
                            "messageExpression": format!(
                                "has(object.spec.activeDeadlineSeconds) ? 'lifetime ' + string(object.spec.activeDeadlineSeconds) + 's exceeds this namespace\\'s maximum of {max}s; use --ttl {words} or less' : 'a node-access pod in {ns} must ask for a lifetime (spec.activeDeadlineSeconds) of at most {max}s: toolbox does (--ttl {words} or less); kubectl debug does not'",
                                words = ttl_words(max)
                            ),
                            "reason": "Invalid",
                        },
                        {
                            "expression": "request.operation != 'CREATE' || (has(object.spec.nodeName) && object.spec.nodeName != '')",
                            "message": format!("a node-access pod in {ns} must name its one node in spec.nodeName (a selector could place it on many); toolbox and kubectl debug node/NODE do"),
                            "reason": "Invalid",
                        },
                        {
                            "expression": format!(
                                "request.operation != 'CREATE' || !has(object.metadata.annotations) || !('{REQUESTED_BY_ANNOTATION}' in object.metadata.annotations) || object.metadata.annotations['{REQUESTED_BY_ANNOTATION}'] == request.userInfo.username"
                            ),
                            "messageExpression": format!("'{REQUESTED_BY_ANNOTATION} must name the user who creates the pod, ' + request.userInfo.username"),
                            "reason": "Forbidden",
                        },
                        {
                            "expression": format!(
                                "request.operation != 'UPDATE' || !has(oldObject.metadata.annotations) || !('{REQUESTED_BY_ANNOTATION}' in oldObject.metadata.annotations) || (has(object.metadata.annotations) && '{REQUESTED_BY_ANNOTATION}' in object.metadata.annotations && object.metadata.annotations['{REQUESTED_BY_ANNOTATION}'] == oldObject.metadata.annotations['{REQUESTED_BY_ANNOTATION}'])"
                            ),
                            "message": format!("{REQUESTED_BY_ANNOTATION} names who created the pod and cannot be changed"),
                            "reason": "Forbidden",
                        },
                        {
                            "expression": "request.operation != 'CREATE' || !has(object.metadata.ownerReferences) || !object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller)",
                            "message": format!("a node-access pod in {ns} is one person's session, not a controller's: a Job's, DaemonSet's or ReplicaSet's pods would be made again and again, each named after the controller; create the pod itself (toolbox node-shell, kubectl debug node/NODE)"),
                            "reason": "Forbidden",
                        },
                        {
                            "expression": format!("request.operation != 'UPDATE' || {SUBRESOURCE} != '' || (object.spec.containers.map(c, c.image) == oldObject.spec.containers.map(c, c.image) && (has(object.spec.initContainers) ? object.spec.initContainers.map(c, c.image) : []) == (has(oldObject.spec.initContainers) ? oldObject.spec.initContainers.map(c, c.image) : []))"),
                            "message": format!("the images of a node-access pod in {ns} cannot be changed: the pod would run what the user it names did not start; start a pod of your own"),
                            "reason": "Forbidden",
                        },
                        {
                            "expression": format!("{SUBRESOURCE} != 'ephemeralcontainers'"),
                            "message": format!("no ephemeral container in {ns} may reach the node (privileged, a capability beyond PodSecurity baseline's, HostProcess, an unconfined SELinux type or /proc) or join a node-access pod: it would get no lifetime and no {REQUESTED_BY_ANNOTATION} of its own; start a node-access pod instead (toolbox node-shell NODE, kubectl debug node/NODE)"),
                            "reason": "Forbidden",
                        }
                    ]
                }
            }),
            rule_reasons: Vec::new(),
        },
        Documented {
            why: format!("The ValidatingAdmissionPolicy applies in {ns} only, and denies."),
            object: json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": { "name": name },
                "spec": { "policyName": name, "validationActions": ["Deny"], "matchResources": in_namespace },
            }),
            rule_reasons: Vec::new(),
        },
    ]);
    if let Some(recording) = &req.recording {
        objects.extend(recording::recording_objects(req, recording, &in_namespace));
    }
    objects
}

/// The MutatingAdmissionPolicy that gives node-access pods a lifetime and
/// their requester's name, and its binding (Kubernetes 1.36+).
fn mutating_policy(req: &PolicyRequest, facts: &Value, in_namespace: &Value) -> [Documented; 2] {
    let ns = req.namespace.as_str();
    let name = base_name(ns);
    [
        Documented {
            why: format!(
                "For every node-access pod created in {ns} (host namespaces, privileged containers or hostPath volumes), by any tool: a lifetime of {} when it asks for none, so that kubectl debug's pods expire too; and {REQUESTED_BY_ANNOTATION} set to the identity the API server authenticated, whatever the client sent.",
                ttl_words(req.default_ttl_seconds)
            ),
            object: json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "MutatingAdmissionPolicy",
                "metadata": { "name": name, "annotations": facts },
                "spec": {
                    "failurePolicy": "Fail",
                    "reinvocationPolicy": "IfNeeded",
                    "matchConstraints": {
                        "resourceRules": [{ "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"] }]
                    },
                    "matchConditions": [{ "name": "node-access", "expression": node_access_condition() }],
                    "mutations": [
                        {
                            "patchType": "JSONPatch",
                            "jsonPatch": {
                                "expression": format!("has(object.spec.activeDeadlineSeconds) ? [] : [JSONPatch{{op: \"add\", path: \"/spec/activeDeadlineSeconds\", value: {}}}]", req.default_ttl_seconds)
                            }
                        },
                        {
                            "patchType": "ApplyConfiguration",
                            "applyConfiguration": {
                                "expression": format!("Object{{metadata: Object.metadata{{annotations: {{\"{REQUESTED_BY_ANNOTATION}\": request.userInfo.username}}}}}}")
                            }
                        }
                    ]
                }
            }),
            rule_reasons: Vec::new(),
        },
        Documented {
            why: format!("The MutatingAdmissionPolicy applies in {ns} only."),
            object: json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "MutatingAdmissionPolicyBinding",
                "metadata": { "name": name },
                "spec": { "policyName": name, "matchResources": in_namespace },
            }),
            rule_reasons: Vec::new(),
        },
    ]
}

/// The audit Policy that records node sessions: what was typed into them
/// (RequestResponse for exec and attach), who started which pod (Metadata
/// for pods), and who asked which kubelet what through the API server's
/// proxy (Metadata for nodes/proxy: `toolbox logs`' node log query, with
/// its query in the request URI).
pub fn audit_policy() -> Value {
    json!({
        "apiVersion": "audit.k8s.io/v1",
        "kind": "Policy",
        "omitStages": ["RequestReceived"],
        "rules": [
            { "level": "RequestResponse", "resources": [{ "group": "", "resources": ["pods/exec", "pods/attach"] }] },
            { "level": "Metadata", "resources": [{ "group": "", "resources": ["pods"] }] },
            { "level": "Metadata", "resources": [{ "group": "", "resources": ["nodes/proxy"] }] },
            { "level": "None" }
        ]
    })
}

/// The kube-apiserver flags an audit Policy needs.
pub const AUDIT_FLAGS: &str = "--audit-policy-file=/etc/kubernetes/audit-policy.yaml --audit-log-path=/var/log/kubernetes/audit.log --audit-log-maxage=30";

/// The objects as one YAML stream for `kubectl apply -f -`, each with its
/// reasons in comments, and the audit Policy as a comment at the end.
pub fn render_yaml(req: &PolicyRequest) -> String {
    let bound = if req.mutating_policies {
        format!(
            "lifetime {} by default, {} at most",
            ttl_words(req.default_ttl_seconds),
            ttl_words(req.max_ttl_seconds)
        )
    } else {
        format!(
            "a lifetime of {} at most required, for Kubernetes before 1.{MUTATING_POLICY_SINCE_MINOR}",
            ttl_words(req.max_ttl_seconds)
        )
    };
    let recorded = match &req.recording {
        Some(recording) => format!(
            ", attributable and recorded (recorder {})",
            recording.recorder_image
        ),
        None => " and attributable".to_string(),
    };
    let mut out = format!(
        "# Node access through namespace {ns} for group {group}: bounded ({bound}){recorded}.\n# Generated by toolbox policy. Apply: kubectl apply -f -   Remove: kubectl delete -f -\n",
        ns = req.namespace,
        group = req.group,
    );
    for doc in policy_objects(req) {
        out.push_str("---\n");
        out.push_str(&comment(&doc.why));
        let yaml = serde_yaml::to_string(&doc.object).unwrap_or_default();
        let mut reasons = doc.rule_reasons.iter();
        for line in yaml.lines() {
            // Each rule of a Role or ClusterRole starts with "- apiGroups:".
            if line.starts_with("- apiGroups:")
                && let Some(reason) = reasons.next()
            {
                out.push_str(&comment(reason));
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("---\n");
    out.push_str(&comment(&format!(
        "The API server's audit Policy for node sessions (not an object to apply: a file for kube-apiserver {AUDIT_FLAGS}; toolbox policy --audit-policy prints it alone):"
    )));
    for line in serde_yaml::to_string(&audit_policy())
        .unwrap_or_default()
        .lines()
    {
        out.push_str(&format!("#   {line}\n"));
    }
    out
}

/// The objects as a `v1` List, for `-o json`.
pub fn render_json(req: &PolicyRequest) -> String {
    let items: Vec<Value> = policy_objects(req).into_iter().map(|d| d.object).collect();
    let list = json!({ "apiVersion": "v1", "kind": "List", "items": items });
    serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
}

/// `text` as YAML comment lines, wrapped at about 78 columns.
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > 78 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> PolicyRequest {
        PolicyRequest {
            namespace: "node-access".into(),
            group: "oncall".into(),
            cleanup_group: Some("sre-leads".into()),
            max_ttl_seconds: 7200,
            default_ttl_seconds: 3600,
            mutating_policies: true,
            recording: None,
        }
    }

    #[test]
    fn before_mutating_policies_a_lifetime_is_required_not_given() {
        let req = PolicyRequest {
            mutating_policies: false,
            ..request()
        };
        let objects = policy_objects(&req);
        assert!(
            !objects
                .iter()
                .any(|d| d.object["kind"].as_str().unwrap().starts_with("Mutating"))
        );
        let vap = objects
            .iter()
            .find(|d| d.object["kind"] == "ValidatingAdmissionPolicy")
            .unwrap();
        assert_eq!(
            vap.object["metadata"]["annotations"][DEFAULT_TTL_ANNOTATION],
            Value::Null
        );
        assert_eq!(
            vap.object["metadata"]["annotations"][MAX_TTL_ANNOTATION],
            "7200"
        );
        insta::assert_snapshot!(render_yaml(&req));
        assert_eq!(
            req.fallback_note("Kubernetes v1.32.13").unwrap(),
            "Kubernetes v1.32.13 has no MutatingAdmissionPolicy (v1 from Kubernetes 1.36): node-access pods in node-access must ask for a lifetime of at most 2h instead of being given 1h, so kubectl debug's pods, which ask for none, are refused there"
        );
        assert_eq!(request().fallback_note("Kubernetes v1.37.2"), None);
    }

    #[test]
    fn the_yaml_stream_is_every_object_with_its_reasons() {
        insta::assert_snapshot!(render_yaml(&request()));
    }

    #[test]
    fn json_is_a_list_of_the_same_objects() {
        let list: Value = serde_json::from_str(&render_json(&request())).unwrap();
        let kinds: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "Role",
                "RoleBinding",
                "ClusterRole",
                "ClusterRoleBinding",
                "ClusterRole",
                "ClusterRoleBinding",
                "MutatingAdmissionPolicy",
                "MutatingAdmissionPolicyBinding",
                "ValidatingAdmissionPolicy",
                "ValidatingAdmissionPolicyBinding"
            ]
        );
        let yaml_docs = render_yaml(&request())
            .split("\n---\n")
            .filter(|d| d.lines().any(|l| l.starts_with("kind:")))
            .count();
        assert_eq!(yaml_docs, kinds.len());
    }

    #[test]
    fn without_a_cleanup_group_no_cleanup_role_is_made() {
        let req = PolicyRequest {
            cleanup_group: None,
            ..request()
        };
        assert!(
            !policy_objects(&req)
                .iter()
                .any(|d| d.object["metadata"]["name"] == "toolbox-node-access-node-access-cleanup")
        );
    }

    #[test]
    fn names_derive_from_the_namespace() {
        let other = PolicyRequest {
            namespace: "gpu-access".into(),
            ..request()
        };
        let names: Vec<String> = policy_objects(&other)
            .iter()
            .filter_map(|d| d.object["metadata"]["name"].as_str().map(String::from))
            .collect();
        assert!(
            names
                .iter()
                .all(|n| n == "gpu-access" || n.starts_with("toolbox-node-access-gpu-access")),
            "{names:?}"
        );
    }

    #[test]
    fn the_refusal_of_a_long_lifetime_names_the_maximum_toolbox_reads_back() {
        let objects = policy_objects(&request());
        let vap = objects
            .iter()
            .find(|d| d.object["kind"] == "ValidatingAdmissionPolicy")
            .unwrap();
        let message = vap.object["spec"]["validations"][0]["messageExpression"]
            .as_str()
            .unwrap();
        // The CEL string escapes its quote: the API server says "namespace's".
        assert!(
            message.contains("s exceeds this namespace\\'s maximum of 7200s; use --ttl 2h or less"),
            "{message}"
        );
        assert_eq!(
            max_ttl_in_refusal(
                "pods \"p\" is forbidden: ValidatingAdmissionPolicy 'toolbox-node-access-na' with binding 'toolbox-node-access-na' denied request: lifetime 10800s exceeds this namespace's maximum of 7200s; use --ttl 2h or less"
            ),
            Some(7200)
        );
        for other in [
            "a node-access pod in na must name its one node in spec.nodeName",
            "exceeds this namespace's maximum of 0s;",
            "exceeds this namespace's maximum of lots;",
        ] {
            assert_eq!(max_ttl_in_refusal(other), None, "{other}");
        }
    }

    #[test]
    fn ephemeral_containers_are_matched_and_refused_and_so_are_controllers_and_image_changes() {
        let objects = policy_objects(&request());
        let vap = &objects
            .iter()
            .find(|d| d.object["kind"] == "ValidatingAdmissionPolicy")
            .unwrap()
            .object["spec"];
        assert_eq!(
            vap["matchConstraints"]["resourceRules"][1]["resources"],
            json!(["pods/ephemeralcontainers"])
        );
        let condition = vap["matchConditions"][0]["expression"].as_str().unwrap();
        assert!(condition.contains("object.spec.ephemeralContainers.exists("));
        // The mutating policy only ever sees pods as they are created.
        let map = &objects
            .iter()
            .find(|d| d.object["kind"] == "MutatingAdmissionPolicy")
            .unwrap()
            .object["spec"];
        assert_eq!(
            map["matchConditions"][0]["expression"].as_str(),
            Some(node_access_condition().as_str())
        );
        let rules: Vec<&str> = vap["validations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["expression"].as_str().unwrap())
            .collect();
        assert!(rules.contains(
            &"(has(request.subResource) ? request.subResource : '') != 'ephemeralcontainers'"
        ));
        assert!(rules.iter().any(|r| r.contains("ownerReferences")));
        assert!(rules.iter().any(|r| r.contains("map(c, c.image)")));
    }

    #[test]
    fn node_access_is_what_baseline_refuses_for_reaching_the_node() {
        let condition = node_access_condition();
        for reach in [
            "object.spec.hostPID",
            "object.spec.hostNetwork",
            "object.spec.hostIPC",
            "has(v.hostPath)",
            "c.securityContext.privileged",
            "c.securityContext.windowsOptions.hostProcess",
            "object.spec.securityContext.windowsOptions.hostProcess",
            "c.securityContext.seLinuxOptions.type in ['', 'container_t'",
            "c.securityContext.procMount == 'Unmasked'",
            "c.securityContext.capabilities.add.exists(k, !(k in ['AUDIT_WRITE'",
            "object.spec.initContainers.exists(",
        ] {
            assert!(
                condition.contains(reach),
                "{reach} missing from {condition}"
            );
        }
    }

    fn recorded() -> PolicyRequest {
        PolicyRequest {
            recording: Some(Recording {
                recorder_image: "registry.example/toolbox-recorder:v0.1.0".into(),
            }),
            ..request()
        }
    }

    fn find<'a>(objects: &'a [Documented], kind: &str, name: &str) -> &'a Value {
        &objects
            .iter()
            .find(|d| d.object["kind"] == kind && d.object["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
            .object
    }

    #[test]
    fn the_yaml_stream_with_recording_required_adds_the_recording_policy() {
        insta::assert_snapshot!(render_yaml(&recorded()));
    }

    #[test]
    fn recording_adds_one_policy_bound_as_the_node_access_one_on_every_release() {
        for mutating_policies in [true, false] {
            let req = PolicyRequest {
                mutating_policies,
                ..recorded()
            };
            let objects = policy_objects(&req);
            let kinds: Vec<&str> = objects
                .iter()
                .map(|d| d.object["kind"].as_str().unwrap())
                .collect();
            assert_eq!(
                &kinds[kinds.len() - 4..],
                [
                    "ValidatingAdmissionPolicy",
                    "ValidatingAdmissionPolicyBinding",
                    "ValidatingAdmissionPolicy",
                    "ValidatingAdmissionPolicyBinding"
                ]
            );
            let name = "toolbox-node-access-node-access-recording";
            let policy = find(&objects, "ValidatingAdmissionPolicy", name);
            assert_eq!(policy["apiVersion"], "admissionregistration.k8s.io/v1");
            assert_eq!(
                policy["metadata"]["annotations"][RECORDER_IMAGE_ANNOTATION],
                "registry.example/toolbox-recorder:v0.1.0"
            );
            assert_eq!(
                policy["spec"]["matchConstraints"]["resourceRules"],
                json!([
                    { "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CONNECT"], "resources": ["pods/exec", "pods/attach"] },
                    { "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"] }
                ])
            );
            let binding = find(&objects, "ValidatingAdmissionPolicyBinding", name);
            let node_access = find(
                &objects,
                "ValidatingAdmissionPolicyBinding",
                "toolbox-node-access-node-access",
            );
            assert_eq!(binding["spec"]["policyName"], name);
            assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
            assert_eq!(
                binding["spec"]["matchResources"],
                node_access["spec"]["matchResources"]
            );
            // The same recording policy whatever the release: VAP is v1
            // on every release toolbox supports.
            assert_eq!(
                policy,
                find(
                    &policy_objects(&recorded()),
                    "ValidatingAdmissionPolicy",
                    name
                )
            );
        }
        assert!(!policy_objects(&request()).iter().any(|d| {
            d.object["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("-recording"))
        }));
    }

    #[test]
    fn where_recording_is_required_the_group_may_exec_but_not_attach() {
        let role = |req: &PolicyRequest| {
            find(
                &policy_objects(req),
                "Role",
                "toolbox-node-access-node-access",
            )["rules"][1]["resources"]
                .clone()
        };
        assert_eq!(role(&request()), json!(["pods/exec", "pods/attach"]));
        assert_eq!(role(&recorded()), json!(["pods/exec"]));
    }

    #[test]
    fn the_recording_rules_name_the_contract_s_shape_and_every_refusal_says_what_to_do() {
        let objects = policy_objects(&recorded());
        let policy = find(
            &objects,
            "ValidatingAdmissionPolicy",
            "toolbox-node-access-node-access-recording",
        );
        let validations = policy["spec"]["validations"].as_array().unwrap();
        let rule = |i: usize| validations[i]["expression"].as_str().unwrap();
        assert!(
            rule(1).contains(
                "object.command[0] == '/toolbox/bin/toolbox-recorder' && object.command[1] in ['record', 'index', 'cat', 'send', 'receive']"
            ),
            "{}",
            rule(1)
        );
        assert!(rule(0).contains("!= 'attach'"));
        assert!(rule(2).contains("c.stdin") && rule(2).contains("c.tty"));
        assert!(rule(3).contains("c.command[0] == 'sleep'"), "{}", rule(3));
        assert!(
            rule(3).contains(
                "c.command == ['/toolbox/bin/toolbox-recorder', 'install', '/toolbox/install/toolbox-recorder']"
            ),
            "{}",
            rule(3)
        );
        assert!(rule(4).contains("c.image == 'registry.example/toolbox-recorder:v0.1.0'"));
        assert!(rule(4).contains("m.name == 'toolbox-recorder' && m.mountPath == '/toolbox/bin' && has(m.readOnly) && m.readOnly"));
        assert!(rule(4).contains("has(v.emptyDir)"));
        assert!(
            rule(5).contains("m.mountPath == '/toolbox/sessions'")
                && rule(5).contains("v.hostPath.path == '/var/log/toolbox/sessions'")
        );
        assert!(rule(6).contains(
            "e.valueFrom.fieldRef.fieldPath == \"metadata.annotations['toolbox.dev/requested-by']\""
        ));
        // Pod rules never judge a CONNECT, and the CONNECT rules never a pod.
        for i in 0..2 {
            assert!(rule(i).starts_with("request.operation != 'CONNECT' || "));
        }
        for i in 2..validations.len() {
            assert!(rule(i).starts_with("request.operation == 'CONNECT' || "));
        }
        for v in validations {
            let message = v["message"].as_str().unwrap();
            assert!(
                message.starts_with("recording is required in namespace node-access: ")
                    && message.ends_with(
                        "; use toolbox node-shell or debug-node, which record; --no-record is not allowed here"
                    )
                    && !message.contains('\n'),
                "{message}"
            );
        }
        let condition = policy["spec"]["matchConditions"][0]["expression"]
            .as_str()
            .unwrap();
        assert_eq!(
            condition,
            format!(
                "request.operation == 'CONNECT' || {}",
                node_access_condition()
            )
        );
    }

    #[test]
    fn durations_read_as_ttl_flags() {
        assert_eq!(ttl_words(7200), "2h");
        assert_eq!(ttl_words(5400), "1h30m");
        assert_eq!(ttl_words(90), "1m30s");
        assert_eq!(ttl_words(0), "0s");
    }
}
