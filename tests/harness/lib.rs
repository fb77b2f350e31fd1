//! The harness every e2e test uses: it finds (or starts) the local cluster,
//! gives each test a namespace of its own with admin and `dev` clients,
//! creates simulated nodes, and checks at the end that no toolbox pod is left.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::OnceLock;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Taint};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::Deserialize;
use serde_json::json;

mod fault_proxy;
pub use fault_proxy::FaultProxy;

/// The label every toolbox pod carries.
pub const TOOLBOX_SELECTOR: &str = "app.kubernetes.io/managed-by=toolbox";

/// Where the running local cluster keeps what tests need.
#[derive(Debug, Clone)]
pub struct ClusterEnv {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    pub kubeconfig_dev: PathBuf,
    pub server: String,
    pub audit_log: PathBuf,
    pub standin_log: PathBuf,
    /// The Kubernetes release the cluster runs, e.g. "v1.32.13".
    pub version: String,
    /// That release's kubectl.
    pub kubectl: PathBuf,
    /// That release's binaries (kube-apiserver, kubelet, kubectl, ...).
    pub kube_bin: PathBuf,
    /// The real node (kubelet, containerd, runc), when the cluster has one.
    pub real_node: Option<RealNode>,
}

impl ClusterEnv {
    /// The minor of the cluster's release: 32 for v1.32.13.
    pub fn minor(&self) -> u32 {
        self.version
            .split('.')
            .nth(1)
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("{} is not a v1.N.P release", self.version))
    }
}

/// The cluster's real node and its local images (no registry is reachable).
#[derive(Debug, Clone)]
pub struct RealNode {
    pub name: String,
    /// node-tools: busybox with sh, sleep, nsenter, chroot, hostname.
    pub image: String,
    /// The sandbox image, present on the node: a second image that is there.
    pub pause_image: String,
    /// A toolbox settings file whose images and pull policy are the local ones.
    pub settings: PathBuf,
}

/// The repository's root, where the Makefile is.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository")
        .to_path_buf()
}

/// The local cluster: the one `make test` started (`TOOLBOX_E2E_CLUSTER`), one
/// already running in target/cluster, or else one started now with
/// `make cluster-up` and left running for the next test run.
///
/// It panics when no cluster can be had: e2e tests fail, never skip.
pub fn cluster() -> &'static ClusterEnv {
    static CLUSTER: OnceLock<ClusterEnv> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let root = repo_root();
        if let Ok(dir) = std::env::var("TOOLBOX_E2E_CLUSTER") {
            return read_cluster_env(Path::new(&dir)).unwrap_or_else(|e| {
                panic!("TOOLBOX_E2E_CLUSTER={dir} names no running cluster: {e}")
            });
        }
        let dir = root.join("target/cluster");
        if let Some(env) = read_cluster_env(&dir).ok().filter(is_up) {
            return env;
        }
        eprintln!("no local cluster is running: starting one with `make cluster-up`");
        let status = StdCommand::new("make")
            .arg("cluster-up")
            .current_dir(&root)
            .status()
            .expect("running make cluster-up");
        assert!(
            status.success(),
            "make cluster-up failed: the e2e tests need the local cluster"
        );
        read_cluster_env(&dir).expect("make cluster-up wrote no cluster.env")
    })
}

fn read_cluster_env(dir: &Path) -> Result<ClusterEnv, String> {
    let text = std::fs::read_to_string(dir.join("cluster.env")).map_err(|e| e.to_string())?;
    let vars: BTreeMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let get = |key: &str| {
        vars.get(key)
            .map(|v| v.to_string())
            .ok_or_else(|| format!("cluster.env has no {key}"))
    };
    Ok(ClusterEnv {
        dir: dir.to_path_buf(),
        kubeconfig: get("KUBECONFIG")?.into(),
        kubeconfig_dev: get("TOOLBOX_CLUSTER_KUBECONFIG_DEV")?.into(),
        server: get("TOOLBOX_CLUSTER_SERVER")?,
        audit_log: get("TOOLBOX_CLUSTER_AUDIT_LOG")?.into(),
        standin_log: get("TOOLBOX_CLUSTER_STANDIN_LOG")?.into(),
        version: get("TOOLBOX_CLUSTER_VERSION")?,
        kubectl: get("TOOLBOX_CLUSTER_KUBECTL")?.into(),
        kube_bin: get("TOOLBOX_CLUSTER_KUBE_BIN")?.into(),
        real_node: match get("TOOLBOX_CLUSTER_REAL_NODE") {
            Ok(name) => Some(RealNode {
                name,
                image: get("TOOLBOX_CLUSTER_NODE_IMAGE")?,
                pause_image: get("TOOLBOX_CLUSTER_PAUSE_IMAGE")?,
                settings: get("TOOLBOX_CLUSTER_SETTINGS")?.into(),
            }),
            Err(_) => None,
        },
    })
}

fn is_up(env: &ClusterEnv) -> bool {
    StdCommand::new(&env.kubectl)
        .args([
            "--kubeconfig",
            &env.kubeconfig.to_string_lossy(),
            "get",
            "--raw",
            "/readyz",
        ])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The cluster's real node. It panics when the cluster has none: real-node
/// tests fail, never skip (start the cluster with REAL_NODES=1, the default).
pub fn real_node() -> &'static RealNode {
    cluster().real_node.as_ref().expect(
        "the local cluster has no real node: start it with `make cluster-up` (REAL_NODES=1); see docs/testing.md",
    )
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

/// Stops a cluster that a test started itself in `dir` (`localcluster up
/// -dir`), and removes the directory: what its Drop does.
pub fn remove_own_cluster(dir: &Path, stop: bool) {
    if stop {
        let _ = StdCommand::new(repo_root().join("target/cluster/bin/localcluster"))
            .arg("down")
            .arg("-dir")
            .arg(dir)
            .output();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The toolbox binary under test, built once per test run if needed.
pub fn toolbox_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(path) = std::env::var("TOOLBOX_BIN") {
            return PathBuf::from(path);
        }
        let root = repo_root();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = StdCommand::new(cargo)
            .args(["build", "--quiet", "-p", "toolbox"])
            .current_dir(&root)
            .status()
            .expect("running cargo build");
        assert!(status.success(), "cargo build -p toolbox failed");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or(root.join("target"));
        target.join("debug/toolbox")
    })
    .as_path()
}

pub async fn client_from(kubeconfig: &Path) -> Client {
    let kc = Kubeconfig::read_from(kubeconfig).expect("reading kubeconfig");
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("loading kubeconfig");
    Client::try_from(config).expect("building client")
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
        let mut cmd = StdCommand::new(toolbox_bin());
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .env("TERM", "xterm")
            .env("KUBECONFIG", kubeconfig)
            .env("TOOLBOX_NAMESPACE", &self.name)
            .env(
                "XDG_CACHE_HOME",
                std::env::temp_dir().join(format!("{}-cache", self.name)),
            )
            .env("NO_COLOR", "1");
        cmd
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
        let left: Vec<String> = self
            .toolbox_pods()
            .await
            .into_iter()
            .filter_map(|p| p.metadata.name)
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
}

pub fn node_ready(node: &Node) -> Option<String> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status.clone())
}

/// Polls `check` until it holds, panicking with `what` after `timeout`.
pub async fn wait_until<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the pod's phase is one of `phases`, returning the pod.
pub async fn wait_for_phase(
    pods: &Api<Pod>,
    name: &str,
    phases: &[&str],
    timeout: Duration,
) -> Pod {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Ok(pod) = pods.get(name).await
            && pod
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .is_some_and(|p| phases.contains(&p))
        {
            return pod;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for pod {name} in phase {phases:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What a stand-in host tool (nsenter, chroot) was called with.
#[derive(Debug, Clone, Deserialize)]
pub struct StandinRecord {
    pub tool: String,
    pub time: String,
    pub args: Vec<String>,
}

/// The stand-in records whose arguments contain `token`: tests put a unique
/// token into the command they run, so that parallel tests never mix records.
pub fn standin_records_with(token: &str) -> Vec<StandinRecord> {
    let text = std::fs::read_to_string(&cluster().standin_log).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<StandinRecord>(line).ok())
        .filter(|r| r.args.iter().any(|a| a.contains(token)))
        .collect()
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

/// What an exec into a pod printed and how it ended.
#[derive(Debug)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// Runs `command` in the pod's first container through the API server's exec,
/// with or without a TTY, the way toolbox does.
pub async fn exec(pods: &Api<Pod>, pod: &str, command: &[&str], tty: bool) -> ExecOutput {
    use kube::api::AttachParams;
    use tokio::io::AsyncReadExt;
    let params = AttachParams::default()
        .stdin(false)
        .stdout(true)
        .stderr(!tty)
        .tty(tty);
    let mut attached = pods
        .exec(pod, command.to_vec(), &params)
        .await
        .expect("exec");
    let status = attached.take_status().expect("status channel");
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut out = attached.stdout().expect("stdout");
    let err = attached.stderr();
    let read_err = async {
        if let Some(mut err) = err {
            err.read_to_string(&mut stderr)
                .await
                .expect("reading stderr");
        }
    };
    let read_out = async {
        out.read_to_string(&mut stdout)
            .await
            .expect("reading stdout")
    };
    tokio::join!(read_out, read_err);
    let status = status.await.expect("exec status");
    attached.join().await.expect("exec stream");
    ExecOutput {
        stdout,
        stderr,
        exit_code: exit_code(&status),
    }
}

/// The exit code an exec's final Status reports: 0 for Success, else the
/// ExitCode cause the kubelet attaches.
pub fn exit_code(status: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status) -> i32 {
    if status.status.as_deref() == Some("Success") {
        return 0;
    }
    status
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .and_then(|causes| {
            causes
                .iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
        })
        .and_then(|c| c.message.as_ref()?.parse().ok())
        .unwrap_or(-1)
}

/// Sends a signal to a process by name ("INT", "TERM", "HUP", "KILL").
pub fn send_signal(pid: u32, signal: &str) {
    let status = StdCommand::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -{signal} {pid} failed");
}

/// Waits for a child process with a deadline, killing it if it overstays.
pub fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for child") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("process did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A process's stdout as text.
pub fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A process's stderr as text.
pub fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
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

/// Asserts that toolbox reported an image pull failure the way a user should
/// see it: exit 4, the kubelet's reason, a hint, and within seconds.
pub fn assert_image_pull_failure(out: &std::process::Output, took: Duration) {
    assert!(took < Duration::from_secs(15), "took {took:?}");
    let stderr = stderr_of(out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("ErrImagePull") || stderr.contains("ImagePullBackOff"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--image-pull-secret"),
        "with a hint: {stderr}"
    );
}

/// A toolbox session that a test breaks mid-way (a restart, a signal): it has
/// printed its first line when [`start_session`] returns.
pub struct SessionInProgress {
    child: std::process::Child,
    stdout: std::process::ChildStdout,
    /// stderr's lines as they come, once [`SessionInProgress::wait_for_stderr`]
    /// started reading them, and what was read so far.
    stderr_lines: Option<std::sync::mpsc::Receiver<String>>,
    stderr_read: String,
}

/// How soon a session must end once its link went silent
/// (docs/node-shell.md): a quarter of `kubectl exec`'s 61 s.
pub const SILENT_LINK_TARGET: Duration = Duration::from_secs(15);

/// How a [`SessionInProgress`] ended.
#[derive(Debug)]
pub struct SessionEnd {
    pub status: std::process::ExitStatus,
    /// What the command printed after its first line.
    pub rest: String,
    pub stderr: String,
}

/// Starts `cmd` (toolbox, with its command) with `stdin`, and returns once
/// its first line of output, `first_line`, has arrived. A piped stdin stays
/// open until the session has ended.
pub fn start_session(
    cmd: StdCommand,
    stdin: std::process::Stdio,
    first_line: &str,
) -> SessionInProgress {
    use std::io::Read;
    let mut session = spawn_session(cmd, stdin);
    let mut first = vec![0u8; first_line.len() + 1];
    session
        .stdout
        .read_exact(&mut first)
        .expect("the command's first output");
    assert_eq!(String::from_utf8_lossy(&first), format!("{first_line}\n"));
    session
}

/// Starts `cmd` (toolbox, with its command) with `stdin`, at once.
pub fn spawn_session(mut cmd: StdCommand, stdin: std::process::Stdio) -> SessionInProgress {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting toolbox");
    let stdout = child.stdout.take().expect("stdout");
    SessionInProgress {
        child,
        stdout,
        stderr_lines: None,
        stderr_read: String::new(),
    }
}

impl SessionInProgress {
    /// Waits for toolbox to exit (killing it after `timeout`) and collects the rest.
    /// Waits until a line of toolbox's stderr contains `needle` and returns
    /// it; panics after `timeout`. What it read stays part of
    /// [`SessionEnd::stderr`].
    pub fn wait_for_stderr(&mut self, needle: &str, timeout: Duration) -> String {
        let lines = self.stderr_lines.get_or_insert_with(|| {
            use std::io::BufRead;
            let stderr = self.child.stderr.take().expect("stderr");
            let (sender, receiver) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
            receiver
        });
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    self.stderr_read.push_str(&line);
                    self.stderr_read.push('\n');
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line of stderr with {needle:?} within {timeout:?}; stderr so far:\n{}",
                    self.stderr_read
                ),
            }
        }
    }

    /// Silences `proxy` under this session, waits at most
    /// [`SILENT_LINK_TARGET`] for the stderr line with `ended` (a `-v` step),
    /// lets the link come back, and returns how the session ended.
    pub fn end_by_silence(mut self, proxy: &FaultProxy, ended: &str) -> SessionEnd {
        proxy.go_silent();
        let silent_at = std::time::Instant::now();
        self.wait_for_stderr(ended, SILENT_LINK_TARGET);
        eprintln!(
            "the silent link was noticed after {:?}",
            silent_at.elapsed()
        );
        proxy.restore();
        self.end(Duration::from_secs(60))
    }

    pub fn end(mut self, timeout: Duration) -> SessionEnd {
        use std::io::Read;
        let status = wait_with_timeout(&mut self.child, timeout);
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).expect("stdout");
        let mut stderr = std::mem::take(&mut self.stderr_read);
        match self.stderr_lines.take() {
            // The reader ends at EOF, once toolbox has exited.
            Some(lines) => {
                for line in lines {
                    stderr.push_str(&line);
                    stderr.push('\n');
                }
            }
            None => {
                if let Some(mut err) = self.child.stderr.take() {
                    err.read_to_string(&mut stderr).expect("stderr");
                }
            }
        }
        SessionEnd {
            status,
            rest,
            stderr,
        }
    }
}

impl TestNs {
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

/// The `nsenter` that kubectl-node-shell runs into the node's PID 1.
pub const NODE_SHELL_NSENTER: [&str; 8] = [
    "nsenter", "--target", "1", "--mount", "--uts", "--ipc", "--net", "--pid",
];

/// kubectl-node-shell's `--overrides` for `kubectl run`: the privileged pod
/// its script builds (host namespaces, its tolerations, stdin for `-i`),
/// running `command` (give it [`NODE_SHELL_NSENTER`] first to enter the node).
/// The pull policy is IfNotPresent, so that the real node's local image is used.
pub fn kubectl_node_shell_overrides(
    node: &str,
    name: Option<&str>,
    image: &str,
    tty: bool,
    command: &[&str],
) -> String {
    let mut overrides = json!({
        "spec": {
            "nodeName": node, "hostPID": true, "hostNetwork": true, "hostIPC": true,
            "containers": [{
                "name": "nsenter", "image": image, "imagePullPolicy": "IfNotPresent",
                "securityContext": { "privileged": true },
                "stdin": true, "stdinOnce": true, "tty": tty,
                "command": command
            }],
            "tolerations": [
                { "key": "CriticalAddonsOnly", "operator": "Exists" },
                { "effect": "NoExecute", "operator": "Exists" }
            ]
        }
    });
    if let Some(name) = name {
        overrides["metadata"] = json!({ "name": name });
    }
    overrides.to_string()
}

/// Asserts that `-v` printed every step of a one-command session, in order
/// of time: `step: WHAT at N ms` lines.
pub fn assert_session_steps(stderr: &str) {
    let steps: Vec<(&str, f64)> = stderr
        .lines()
        .filter_map(|line| line.split_once("step: ")?.1.rsplit_once(" at "))
        .map(|(name, time)| {
            let ms = time.trim_end_matches(" ms").parse().expect("milliseconds");
            (name, ms)
        })
        .collect();
    let names: Vec<&str> = steps.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        names,
        [
            "connected",
            "identity and node known",
            "pod created",
            "container started",
            "exec started",
            "first output",
            "command ended",
            "pod deleted"
        ],
        "{stderr}"
    );
    assert!(
        steps.windows(2).all(|pair| pair[0].1 <= pair[1].1),
        "in order of time: {steps:?}"
    );
}
