//! The local cluster the tests run against: where it is (`cluster()` reads
//! its `cluster.env`, or starts it), its real node, clients for it, the
//! clusters a test starts of its own, and the logs that say what reached it
//! (the stand-in host tools' records and the API server's audit log).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::sync::OnceLock;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::Deserialize;

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
    /// Only the session recorder, for a recorded pod's init container.
    pub recorder_image: String,
    /// busybox without the recorder, as most images are.
    pub plain_image: String,
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
                recorder_image: get("TOOLBOX_CLUSTER_RECORDER_IMAGE")?,
                plain_image: get("TOOLBOX_CLUSTER_PLAIN_IMAGE")?,
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

/// Starts a cluster of a test's own in `dir` (`localcluster up -dir`) from
/// the release in `kube_bin`, with `args` (`-nodes`, `-real-nodes`) and,
/// for a real node, its `recorder`: panics with localcluster's stderr when
/// it fails. The test's Drop calls [`remove_own_cluster`].
pub fn start_own_cluster(dir: &Path, kube_bin: &Path, args: &[&str], recorder: Option<&Path>) {
    let bin = repo_root().join("target/cluster/bin");
    let started = std::time::Instant::now();
    let out = StdCommand::new(bin.join("localcluster"))
        .arg("up")
        .arg("-dir")
        .arg(dir)
        .arg("-bin")
        .arg(&bin)
        .arg("-kube-bin")
        .arg(kube_bin)
        .args(args)
        .args(
            recorder
                .map(|path| [Path::new("-recorder"), path])
                .into_iter()
                .flatten(),
        )
        .output()
        .expect("running localcluster up (make kube-bin builds it)");
    assert!(
        out.status.success(),
        "localcluster up -dir {} failed: {}",
        dir.display(),
        crate::stderr_of(&out)
    );
    eprintln!("cluster {} up in {:.1?}", dir.display(), started.elapsed());
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

pub async fn client_from(kubeconfig: &Path) -> Client {
    let kc = Kubeconfig::read_from(kubeconfig).expect("reading kubeconfig");
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("loading kubeconfig");
    Client::try_from(config).expect("building client")
}

/// What a stand-in host tool (nsenter, chroot) was called with.
#[derive(Debug, Clone, Deserialize)]
pub struct StandinRecord {
    pub tool: String,
    pub time: String,
    pub args: Vec<String>,
}

/// The stand-in host tools' records whose arguments contain `token`: tests
/// put a unique token into the command they run, so that parallel tests
/// never mix records. The recorder's own records, which wrap every recorded
/// exec, are left out: see [`recorder_records_with`].
pub fn standin_records_with(token: &str) -> Vec<StandinRecord> {
    all_standin_records_with(token)
        .into_iter()
        .filter(|r| r.tool != RECORDER_STANDIN)
        .collect()
}

/// The stand-in recorder's records (`toolbox-recorder record --id ...`)
/// whose arguments contain `token`.
pub fn recorder_records_with(token: &str) -> Vec<StandinRecord> {
    all_standin_records_with(token)
        .into_iter()
        .filter(|r| r.tool == RECORDER_STANDIN)
        .collect()
}

/// The tool name of the recorder's stand-in on simulated nodes.
const RECORDER_STANDIN: &str = "toolbox-recorder";

fn all_standin_records_with(token: &str) -> Vec<StandinRecord> {
    let text = std::fs::read_to_string(&cluster().standin_log).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<StandinRecord>(line).ok())
        .filter(|r| r.args.iter().any(|a| a.contains(token)))
        .collect()
}

/// The API server's audit log so far, one JSON event a line (Metadata
/// level; RequestReceived is left out, see hack/cluster).
pub fn audit_events() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(&cluster().audit_log).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The process id of the real node's init in the cluster of `dir`, from
/// its `state/pids`: it restarts the kubelet on SIGUSR1 and containerd on
/// SIGUSR2.
pub fn node_init_pid(dir: &Path) -> u32 {
    std::fs::read_to_string(dir.join("state/pids"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("node-init ")?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{}/state/pids names no node-init", dir.display()))
}
