//! One test's slice of the shared cluster: [`TestNs`], a namespace of its
//! own with admin and `dev` clients, the simulated nodes and cluster-wide
//! grants it made, toolbox and kubectl commands aimed at it, and the check
//! at its end that toolbox left no pod behind. It holds the cluster shared
//! (crate::sharing) while it lives.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Taint};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::{
    ClusterEnv, ClusterHold, TOOLBOX_SELECTOR, audit_events, client_from, cluster, node_ready,
    real_node, shared_cluster, stderr_of, stdout_of, toolbox_command, wait_until,
};

/// Waits until the API server's authorizer lets `dev` do what each of
/// `rules` names first, in `namespace` or cluster-wide: a new binding
/// reaches the authorizer's cache a moment after it is stored, and a test
/// that runs toolbox before then is refused (seen in CI: `dev cannot get
/// nodes` right after the grant).
async fn may_dev(admin: &Client, rules: &[PolicyRule], namespace: Option<&str>) {
    use k8s_openapi::api::authorization::v1::{
        ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
    };
    for rule in rules {
        let (Some(verb), Some(resource)) = (
            rule.verbs.first(),
            rule.resources.as_ref().and_then(|r| r.first()),
        ) else {
            continue;
        };
        let (resource, subresource) = match resource.split_once('/') {
            Some((resource, sub)) => (resource.to_string(), Some(sub.to_string())),
            None => (resource.clone(), None),
        };
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some("dev".into()),
                resource_attributes: Some(ResourceAttributes {
                    namespace: namespace.map(str::to_string),
                    verb: Some(verb.clone()),
                    group: rule.api_groups.as_ref().and_then(|g| g.first()).cloned(),
                    resource: Some(resource.clone()),
                    subresource,
                    name: rule
                        .resource_names
                        .as_ref()
                        .and_then(|n| n.first())
                        .cloned(),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let reviews: Api<SubjectAccessReview> = Api::all(admin.clone());
        wait_until(
            Duration::from_secs(30),
            &format!("dev's grant to {verb} {resource} to take effect"),
            || async {
                reviews
                    .create(&PostParams::default(), &review)
                    .await
                    .ok()
                    .and_then(|r| r.status)
                    .is_some_and(|s| s.allowed)
            },
        )
        .await;
    }
}

/// Waits until the namespace's default service account exists: the
/// controller makes it a moment after the namespace, and pods wait for it.
pub async fn wait_for_default_service_account(admin: &Client, namespace: &str) {
    wait_until(
        Duration::from_secs(30),
        "the default service account",
        || async {
            Api::<k8s_openapi::api::core::v1::ServiceAccount>::namespaced(admin.clone(), namespace)
                .get_opt("default")
                .await
                .ok()
                .flatten()
                .is_some()
        },
    )
    .await;
}

/// A simulated node to create for one test.
#[derive(Debug, Clone, Default)]
pub struct NodeSpec {
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub windows: bool,
    pub not_ready: bool,
    pub unschedulable: bool,
    pub os_image: Option<String>,
}

/// One test's slice of the cluster: a namespace of its own, clients, and the
/// nodes it created. End every test with [`TestNs::finish`].
pub struct TestNs {
    pub name: String,
    pub admin: Client,
    pub dev: Client,
    pub env: &'static ClusterEnv,
    nodes: Vec<String>,
    cluster_objects: Vec<(&'static str, String)>,
    /// Dropped last, once the namespace's cleanup is done (or a panic ends
    /// the test).
    _hold: ClusterHold,
}

impl TestNs {
    pub async fn new(test: &str) -> Self {
        Self::create(test, BTreeMap::new()).await
    }

    /// A namespace whose PodSecurity admission enforces `level`.
    pub async fn with_pod_security(test: &str, level: &str) -> Self {
        let labels = BTreeMap::from([(
            "pod-security.kubernetes.io/enforce".to_string(),
            level.to_string(),
        )]);
        Self::create(test, labels).await
    }

    async fn create(test: &str, labels: BTreeMap<String, String>) -> Self {
        let hold = shared_cluster();
        let env = cluster();
        let admin = client_from(&env.kubeconfig).await;
        let dev = client_from(&env.kubeconfig_dev).await;
        let name = format!("e2e-{}-{}", sanitize(test), random_suffix());
        let mut labels = labels;
        labels.insert("toolbox.test/e2e".into(), "true".into());
        let ns: Namespace = serde_json::from_value(json!({
            "metadata": { "name": name, "labels": labels }
        }))
        .expect("namespace object");
        Api::<Namespace>::all(admin.clone())
            .create(&PostParams::default(), &ns)
            .await
            .expect("creating the test namespace");
        wait_for_default_service_account(&admin, &name).await;
        TestNs {
            name,
            admin,
            dev,
            env,
            nodes: Vec::new(),
            cluster_objects: Vec::new(),
            _hold: hold,
        }
    }

    pub fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.admin.clone(), &self.name)
    }

    /// toolbox as the admin, in this namespace unless the test passes `-n`.
    pub fn toolbox(&self) -> assert_cmd::Command {
        self.toolbox_with(&self.env.kubeconfig)
    }

    /// toolbox as the unprivileged user `dev`.
    pub fn toolbox_as_dev(&self) -> assert_cmd::Command {
        self.toolbox_with(&self.env.kubeconfig_dev)
    }

    fn toolbox_with(&self, kubeconfig: &Path) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::from_std(self.toolbox_process_with(kubeconfig));
        cmd.timeout(Duration::from_secs(120));
        cmd
    }

    /// toolbox as a plain process, for tests that signal it or give it a PTY.
    pub fn toolbox_process(&self) -> StdCommand {
        self.toolbox_process_with(&self.env.kubeconfig)
    }

    /// toolbox as a plain process with another kubeconfig, e.g. one that
    /// reaches the server through a [`FaultProxy`].
    pub fn toolbox_process_via(&self, kubeconfig: &Path) -> StdCommand {
        self.toolbox_process_with(kubeconfig)
    }

    fn toolbox_process_with(&self, kubeconfig: &Path) -> StdCommand {
        let cache = std::env::temp_dir().join(format!("{}-cache", self.name));
        let mut cmd = toolbox_command(kubeconfig, &cache);
        cmd.env("TERM", "xterm")
            .env("TOOLBOX_NAMESPACE", &self.name);
        cmd
    }

    /// toolbox as the admin with the real node's settings (its local images):
    /// what every session on the real node needs.
    pub fn toolbox_on_real_node(&self) -> assert_cmd::Command {
        let mut cmd = self.toolbox();
        cmd.env("TOOLBOX_CONFIG", &real_node().settings);
        cmd
    }

    /// [`TestNs::toolbox_on_real_node`] as a plain process.
    pub fn toolbox_process_on_real_node(&self) -> StdCommand {
        let mut cmd = self.toolbox_process();
        cmd.env("TOOLBOX_CONFIG", &real_node().settings);
        cmd
    }

    /// A kubeconfig, written for this test, whose server refuses every
    /// connection (127.0.0.1:1): for what toolbox does with no server.
    pub fn unreachable_kubeconfig(&self, suffix: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("{}-{suffix}", self.name));
        std::fs::create_dir_all(&dir).unwrap();
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: down\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: down\n",
        )
        .unwrap();
        kubeconfig
    }

    /// Waits until the exec into `pod` has started: the API server's audit
    /// log records the exec's upgrade (stage ResponseStarted, logged once the
    /// node has taken the stream), so that a signal or a keystroke lands
    /// mid-session rather than before it.
    pub async fn wait_for_exec(&self, pod: &str, timeout: Duration) {
        self.wait_for_request(&format!("the exec into pod {pod}"), timeout, |e| {
            e["stage"] == "ResponseStarted"
                && e["objectRef"]["subresource"] == "exec"
                && e["objectRef"]["name"] == pod
        })
        .await;
    }

    /// Waits until the audit log records a request on this namespace's
    /// objects that `matches` (an audit event, as JSON); `what` names it in
    /// the panic after `timeout`.
    pub async fn wait_for_request(
        &self,
        what: &str,
        timeout: Duration,
        matches: impl Fn(&serde_json::Value) -> bool,
    ) {
        wait_until(timeout, what, || async {
            audit_events()
                .iter()
                .any(|e| e["objectRef"]["namespace"] == self.name.as_str() && matches(e))
        })
        .await;
    }

    /// Writes a toolbox settings file for this test and returns its path.
    pub fn settings_file(&self, toml: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("{}-{}.toml", self.name, random_suffix()));
        std::fs::write(&path, toml).expect("writing settings file");
        path
    }

    /// Waits until a toolbox pod in this namespace reaches `phase`; returns it.
    pub async fn wait_for_toolbox_pod(&self, phase: &str, timeout: Duration) -> Pod {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let pods = self.toolbox_pods().await;
            if let Some(pod) = pods
                .into_iter()
                .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some(phase))
            {
                return pod;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no toolbox pod reached {phase} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The cluster's own kubectl, as the admin.
    pub fn kubectl(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(&self.env.kubectl);
        cmd.env("KUBECONFIG", &self.env.kubeconfig)
            .args(["-n", &self.name])
            .timeout(Duration::from_secs(120));
        cmd
    }

    /// `kubectl apply -f -` of `yaml`, as the admin; it must succeed.
    pub fn apply_yaml(&self, yaml: &str) {
        let out = self
            .kubectl()
            .args(["apply", "-f", "-"])
            .write_stdin(yaml.to_owned())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    }

    /// `kubectl delete -f - --wait=false` of `yaml` (what `apply_yaml`
    /// applied, cluster-wide objects too), as the admin; it must succeed.
    pub fn delete_yaml(&self, yaml: &str) {
        let out = self
            .kubectl()
            .args(["delete", "-f", "-", "--wait=false"])
            .write_stdin(yaml.to_owned())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    }

    /// `toolbox policy -n NS --group GROUP --require-recording` (with the
    /// real node's settings, whose recorder image is the node-tools image,
    /// when `on_real_node`), applied with `kubectl apply`, and waited for
    /// until the API server enforces it: a plain privileged pod on `node`
    /// (of `image`) is refused for recording's sake to a member of `group`.
    /// Returns the YAML, for the test's assertions and `kubectl delete -f -`.
    pub async fn require_recording(
        &self,
        group: &str,
        node: &str,
        image: &str,
        on_real_node: bool,
    ) -> String {
        let mut toolbox = if on_real_node {
            self.toolbox_on_real_node()
        } else {
            self.toolbox()
        };
        let printed = toolbox
            .args([
                "policy",
                "-n",
                &self.name,
                "--group",
                group,
                "--require-recording",
            ])
            .output()
            .unwrap();
        assert_eq!(printed.status.code(), Some(0), "{}", stderr_of(&printed));
        let yaml = stdout_of(&printed);
        self.apply_yaml(&yaml);
        let privileged = json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": { "name": "privileged" },
            "spec": { "nodeName": node, "hostPID": true, "activeDeadlineSeconds": 600,
                "containers": [{ "name": "c", "image": image, "command": ["sleep", "600"],
                    "securityContext": { "privileged": true } }] }
        });
        let policy = format!("toolbox-node-access-{}-recording", self.name);
        let refused = format!(
            "ValidatingAdmissionPolicy '{policy}' with binding '{policy}' denied request: recording is required in namespace {}: ",
            self.name
        );
        wait_until(
            Duration::from_secs(60),
            "the recording policy to be enforced",
            || async {
                let out = self
                    .kubectl()
                    .args(["create", "--dry-run=server", "-f", "-"])
                    .args(["--as", "dev", "--as-group", group])
                    .write_stdin(privileged.to_string())
                    .output()
                    .unwrap();
                stderr_of(&out).contains(&refused)
            },
        )
        .await;
        yaml
    }

    /// Creates a simulated node for this test and waits until kwok has it
    /// Ready (or NotReady, when asked).
    pub async fn node(&mut self, suffix: &str, spec: NodeSpec) -> String {
        let name = format!("{}-{}", self.name, sanitize(suffix));
        let os = if spec.windows { "windows" } else { "linux" };
        let mut labels = BTreeMap::from([
            ("kubernetes.io/hostname".to_string(), name.clone()),
            ("kubernetes.io/os".to_string(), os.to_string()),
            ("kubernetes.io/arch".to_string(), "amd64".to_string()),
            ("node-role.kubernetes.io/worker".to_string(), String::new()),
            (
                "topology.kubernetes.io/zone".to_string(),
                "local-1a".to_string(),
            ),
            (
                "node.kubernetes.io/instance-type".to_string(),
                "m7i.large".to_string(),
            ),
            ("toolbox.test/e2e-namespace".to_string(), self.name.clone()),
            // kwok manages the nodes with this label, and never the real node.
            ("type".to_string(), "kwok".to_string()),
        ]);
        if spec.not_ready {
            labels.insert("toolbox.test/not-ready".into(), "true".into());
        }
        labels.extend(spec.labels.clone());
        let os_image = spec.os_image.clone().unwrap_or_else(|| {
            if spec.windows {
                "Windows Server 2022 Datacenter".into()
            } else {
                "Debian GNU/Linux 13 (trixie)".into()
            }
        });
        let node: Node = serde_json::from_value(json!({
            "metadata": { "name": name, "labels": labels, "annotations": { "kwok.x-k8s.io/node": "fake" } },
            "spec": { "taints": spec.taints, "unschedulable": spec.unschedulable },
            "status": {
                "addresses": [{ "type": "InternalIP", "address": "127.0.0.1" }, { "type": "Hostname", "address": name }],
                "nodeInfo": {
                    "architecture": "amd64", "operatingSystem": os, "osImage": os_image,
                    "kubeletVersion": self.env.version, "kernelVersion": "6.12.0-kwok",
                    "containerRuntimeVersion": "containerd://2.1.0",
                    "machineID": "", "systemUUID": "", "bootID": "", "kubeProxyVersion": ""
                }
            }
        }))
        .expect("node object");
        let nodes: Api<Node> = Api::all(self.admin.clone());
        nodes
            .create(&PostParams::default(), &node)
            .await
            .expect("creating a simulated node");
        self.nodes.push(name.clone());
        let want = if spec.not_ready { "False" } else { "True" };
        wait_until(
            Duration::from_secs(30),
            &format!("node {name} Ready={want}"),
            || async {
                nodes
                    .get(&name)
                    .await
                    .ok()
                    .is_some_and(|n| node_ready(&n) == Some(want.to_string()))
            },
        )
        .await;
        name
    }

    /// Grants `dev` exactly these rules in this namespace.
    pub async fn grant_dev(&mut self, rules: Vec<PolicyRule>) {
        let name = format!("dev-{}", random_suffix());
        let role: Role =
            serde_json::from_value(json!({ "metadata": { "name": name }, "rules": rules }))
                .unwrap();
        Api::<Role>::namespaced(self.admin.clone(), &self.name)
            .create(&PostParams::default(), &role)
            .await
            .expect("creating role");
        let binding: RoleBinding = serde_json::from_value(json!({
            "metadata": { "name": name },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name },
            "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "dev" }]
        }))
        .unwrap();
        Api::<RoleBinding>::namespaced(self.admin.clone(), &self.name)
            .create(&PostParams::default(), &binding)
            .await
            .expect("creating role binding");
        may_dev(&self.admin, &rules, Some(&self.name)).await;
    }

    /// Grants `dev` these rules cluster-wide, for as long as this test runs.
    pub async fn grant_dev_cluster(&mut self, rules: Vec<PolicyRule>) {
        let name = format!("{}-dev", self.name);
        let role: ClusterRole =
            serde_json::from_value(json!({ "metadata": { "name": name }, "rules": rules }))
                .unwrap();
        Api::<ClusterRole>::all(self.admin.clone())
            .create(&PostParams::default(), &role)
            .await
            .expect("creating cluster role");
        let binding: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": { "name": name },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name },
            "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "dev" }]
        }))
        .unwrap();
        Api::<ClusterRoleBinding>::all(self.admin.clone())
            .create(&PostParams::default(), &binding)
            .await
            .expect("creating cluster role binding");
        self.cluster_objects.push(("clusterrole", name.clone()));
        self.cluster_objects.push(("clusterrolebinding", name));
        may_dev(&self.admin, &rules, None).await;
    }

    /// The toolbox pods in this namespace now.
    pub async fn toolbox_pods(&self) -> Vec<Pod> {
        self.pods()
            .list(&ListParams::default().labels(TOOLBOX_SELECTOR))
            .await
            .expect("listing pods")
            .items
    }

    /// Ends the test: asserts that no toolbox pod was left behind, then
    /// removes the namespace and the nodes the test created.
    pub async fn finish(self) {
        // Each with what made it and how far it got, since a CI log keeps
        // this line and little else of a failed test.
        let left: Vec<String> = self
            .toolbox_pods()
            .await
            .iter()
            .map(|p| {
                let labels = p.metadata.labels.clone().unwrap_or_default();
                format!(
                    "{} ({}, created {}, phase {}, deleting since {})",
                    p.metadata.name.as_deref().unwrap_or_default(),
                    labels
                        .get("toolbox.dev/subcommand")
                        .map_or("no subcommand", String::as_str),
                    p.metadata
                        .creation_timestamp
                        .as_ref()
                        .map_or_else(String::new, |t| t.0.to_string()),
                    p.status
                        .as_ref()
                        .and_then(|s| s.phase.as_deref())
                        .unwrap_or("unknown"),
                    p.metadata
                        .deletion_timestamp
                        .as_ref()
                        .map_or_else(|| "never".to_string(), |t| t.0.to_string()),
                )
            })
            .collect();
        assert!(
            left.is_empty(),
            "toolbox left pods behind in {}: {left:?}",
            self.name
        );
        self.cleanup().await;
    }

    /// Removes the namespace and nodes without the leftover check, for tests
    /// that deliberately keep a pod (`--keep`) and have checked it themselves.
    pub async fn cleanup(self) {
        let nodes: Api<Node> = Api::all(self.admin.clone());
        for node in &self.nodes {
            let _ = nodes.delete(node, &DeleteParams::default()).await;
        }
        for (kind, name) in &self.cluster_objects {
            let _ = match *kind {
                "clusterrole" => Api::<ClusterRole>::all(self.admin.clone())
                    .delete(name, &DeleteParams::default())
                    .await
                    .map(|_| ()),
                _ => Api::<ClusterRoleBinding>::all(self.admin.clone())
                    .delete(name, &DeleteParams::default())
                    .await
                    .map(|_| ()),
            };
        }
        let _ = Api::<Namespace>::all(self.admin.clone())
            .delete(&self.name, &DeleteParams::default())
            .await;
    }

    /// Deletes a pod at once (grace period 0), as toolbox does; for tests that
    /// leave a pod on purpose (`--keep`, look-alikes, a killed client).
    pub async fn delete_pod_now(&self, name: &str) {
        self.pods()
            .delete(name, &DeleteParams::default().grace_period(0))
            .await
            .expect("deleting the test's pod");
    }

    /// Marks a node NotReady (or Ready again) the way a stopped kubelet would.
    pub async fn set_node_not_ready(&self, node: &str, not_ready: bool) {
        let value = if not_ready {
            json!("true")
        } else {
            serde_json::Value::Null
        };
        Api::<Node>::all(self.admin.clone())
            .patch(
                node,
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"toolbox.test/not-ready": value}}})),
            )
            .await
            .expect("labelling node");
    }

    /// Creates `count` toolbox-labelled pods on `node`, as sessions killed
    /// with -9 would leave them, named `toolbox-shell-NODE-NNNN`; returns the
    /// names.
    pub async fn create_leftovers(&self, node: &str, count: usize) -> Vec<String> {
        use futures::{StreamExt, TryStreamExt};
        let template: Pod = serde_json::from_value(json!({
            "metadata": { "labels": { "app.kubernetes.io/managed-by": "toolbox" } },
            "spec": { "nodeName": node, "restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                "containers": [{ "name": "shell", "image": "alpine", "command": ["sleep", "3600"],
                    "securityContext": { "privileged": true } }] }
        }))
        .expect("leftover pod");
        let names: Vec<String> = (0..count)
            .map(|i| format!("toolbox-shell-{node}-{i:04}"))
            .collect();
        let pods = self.pods();
        futures::stream::iter(names.iter().cloned())
            .map(|name| {
                let mut pod = template.clone();
                pod.metadata.name = Some(name);
                let pods = &pods;
                async move { pods.create(&PostParams::default(), &pod).await }
            })
            .buffer_unordered(32)
            .try_collect::<Vec<_>>()
            .await
            .expect("creating the leftovers");
        names
    }
}

/// A short random lowercase suffix, unique enough to keep tests apart.
pub fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    let n = hasher.finish();
    (0..6)
        .map(|i| (b'a' + ((n >> (i * 5)) % 26) as u8) as char)
        .collect()
}

fn sanitize(s: &str) -> String {
    let s: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s.trim_matches('-').chars().take(30).collect()
}

/// An RBAC rule on core-group resources, for granting `dev` exactly that.
pub fn core_rule(resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(resources.iter().map(|s| s.to_string()).collect()),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}
