//! `make cluster-down` leaves no trace on the machine, and a cluster with its
//! own real node comes up beside another one.
//!
//! Each test starts a cluster of its own in a fresh directory under target/,
//! so that the shared cluster stays up. The real node shares the machine's
//! network namespace but has its own mount namespace, so what the tests see
//! here (mounts, paths, sysctls) is what the machine sees. They fail, never
//! skip, when the real node's packages are missing.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use harness::{node_init_pid, random_suffix, real_node, repo_root, stderr_of, stdout_of};
use serde_json::json;

/// Paths that the kubelet, containerd, runc and CNI write to by default. The
/// node keeps its own (its /var/lib, /var/log and /run are not the machine's),
/// so none of them may appear on the machine.
const HARD_CODED_PATHS: &[&str] = &[
    "/var/lib/kubelet",
    "/var/lib/containerd",
    "/var/lib/cni",
    "/var/lib/dockershim",
    "/var/log/pods",
    "/var/log/containers",
    "/run/containerd",
    "/run/runc",
    "/run/netns",
    "/run/kubelet",
    "/etc/cni",
    "/etc/containerd",
    "/etc/kubernetes",
    "/opt/cni",
    "/opt/containerd",
    "/usr/libexec/kubernetes",
];

/// The kernel settings the kubelet insists on (hack/cluster/realnode.go), and
/// one that a CNI bridge acting as a gateway would turn on. The node shares
/// the machine's network namespace, so its net.* settings are the machine's.
const WATCHED_SYSCTLS: &[&str] = &[
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",
];

/// Ports a cluster with fixed ports would take: etcd, the apiserver, the
/// kubelet's, kube-proxy's, the controller manager's and the scheduler's.
const WELL_KNOWN_PORTS: &[u16] = &[
    2379, 2380, 6443, 8080, 10248, 10249, 10250, 10255, 10256, 10257, 10259,
];

/// What a cluster could change on the machine, recorded at one moment.
#[derive(Debug, Clone, PartialEq)]
struct MachineState {
    mounts: BTreeSet<String>,
    /// Every directory directly below a cgroup hierarchy's root.
    top_cgroups: BTreeSet<PathBuf>,
    /// Network link names and their interface index.
    links: BTreeMap<String, u32>,
    hard_coded: BTreeSet<PathBuf>,
    sysctls: BTreeMap<&'static str, String>,
}

impl MachineState {
    fn now() -> Self {
        let mounts: BTreeSet<String> = read("/proc/self/mounts")
            .lines()
            .map(str::to_owned)
            .collect();
        let top_cgroups = cgroup_hierarchies(&mounts)
            .iter()
            .flat_map(|h| subdirs(h))
            .collect();
        let mut hard_coded: BTreeSet<PathBuf> = HARD_CODED_PATHS
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.symlink_metadata().is_ok())
            .collect();
        // containerd's plugins keep their state in /var/lib/containerd/io.containerd.*.
        if let Ok(entries) = std::fs::read_dir("/var/lib/containerd") {
            hard_coded.extend(entries.flatten().map(|e| e.path()));
        }
        let sysctls = WATCHED_SYSCTLS
            .iter()
            .map(|name| (*name, read(format!("/proc/sys/{name}")).trim().to_owned()))
            .collect();
        MachineState {
            top_cgroups,
            links: links(),
            hard_coded,
            sysctls,
            mounts,
        }
    }

    fn cgroup_hierarchies(&self) -> Vec<PathBuf> {
        cgroup_hierarchies(&self.mounts)
    }
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn cgroup_hierarchies(mounts: &BTreeSet<String>) -> Vec<PathBuf> {
    mounts
        .iter()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.len() > 2 && (fields[2] == "cgroup" || fields[2] == "cgroup2"))
                .then(|| PathBuf::from(fields[1]))
        })
        .collect()
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}

fn links() -> BTreeMap<String, u32> {
    std::fs::read_dir("/sys/class/net")
        .expect("listing /sys/class/net")
        .flatten()
        .filter_map(|e| {
            let index = std::fs::read_to_string(e.path().join("ifindex")).ok()?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                index.trim().parse().ok()?,
            ))
        })
        .collect()
}

/// One process, told apart from a later one that reuses its PID by its start time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Process {
    pid: u32,
    start_ticks: u64,
    cmdline: String,
}

/// PID, state and start time from /proc/PID/stat; comm may hold spaces.
fn stat_of(pid: u32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    // state is field 3 of stat, starttime field 22.
    Some((
        fields.first()?.chars().next()?,
        fields.get(19)?.parse().ok()?,
    ))
}

/// Every process that runs (zombies have exited: only their parent, the
/// machine's init, has yet to collect them).
fn running_processes() -> Vec<Process> {
    std::fs::read_dir("/proc")
        .expect("listing /proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let (state, start_ticks) = stat_of(pid)?;
            if state == 'Z' {
                return None;
            }
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            Some(Process {
                pid,
                start_ticks,
                cmdline: String::from_utf8_lossy(&cmdline).replace('\0', " "),
            })
        })
        .collect()
}

fn namespace_of(pid: u32, kind: &str) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).ok()
}

/// The real node's processes: its PID namespace (init, containerd, the
/// kubelet, the shims) and its pods' (in the node's cgroup subtree).
fn node_processes(node_init: u32, cgroup_root: &str) -> Vec<Process> {
    let pid_ns = namespace_of(node_init, "pid").expect("the node's PID namespace");
    let in_subtree = format!(":/{cgroup_root}/");
    running_processes()
        .into_iter()
        .filter(|p| {
            namespace_of(p.pid, "pid").as_ref() == Some(&pid_ns)
                || std::fs::read_to_string(format!("/proc/{}/cgroup", p.pid))
                    .is_ok_and(|c| c.contains(&in_subtree))
        })
        .collect()
}

/// A cluster of the test's own, in a fresh directory under target/. Dropping
/// it stops the cluster (if the test did not) and removes the directory, so
/// that a failing test leaves nothing running.
struct OwnCluster {
    dir: PathBuf,
    env: BTreeMap<String, String>,
    stopped: bool,
}

/// A file the directory held before up: down must leave it.
const KEPT_FILE: &str = "kept-by-down.txt";

impl OwnCluster {
    fn up(test: &str) -> Self {
        let dir = repo_root().join(format!("target/cluster-hygiene-{test}-{}", random_suffix()));
        std::fs::create_dir_all(&dir).expect("creating the cluster's directory");
        std::fs::write(dir.join(KEPT_FILE), "not the cluster's\n").expect("writing a file");
        let mut cluster = OwnCluster {
            dir,
            env: BTreeMap::new(),
            stopped: false,
        };
        // The release the shared cluster runs; make cluster-up, which
        // started the shared cluster, built the recorder.
        let recorder = repo_root().join("target/recorder/toolbox-recorder");
        harness::start_own_cluster(
            &cluster.dir,
            &harness::cluster().kube_bin,
            &["-nodes", "1", "-real-nodes", "1"],
            Some(&recorder),
        );
        cluster.env = read_env(&cluster.dir);
        cluster
    }

    fn env(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("{}/cluster.env has no {key}", self.dir.display()))
    }

    fn cgroup_root(&self) -> &str {
        self.env("TOOLBOX_CLUSTER_CGROUP_ROOT")
    }

    /// The node's bridge shares the cgroup root's id (hack/cluster/realnode.go).
    fn bridge(&self) -> String {
        let id = self
            .cgroup_root()
            .strip_prefix("toolbox-")
            .expect("the cgroup root is toolbox-<id>");
        format!("tbx{id}")
    }

    fn node_init(&self) -> u32 {
        node_init_pid(&self.dir)
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        kubectl(Path::new(self.env("KUBECONFIG")), args)
    }

    fn stop_with_make(&mut self) -> Duration {
        self.stopped = true;
        let started = Instant::now();
        let out = Command::new("make")
            .args(["--no-print-directory", "cluster-down"])
            .arg(format!("CLUSTER_DIR={}", self.dir.display()))
            .current_dir(repo_root())
            .output()
            .expect("running make cluster-down");
        assert!(
            out.status.success(),
            "make cluster-down CLUSTER_DIR={} failed: {}",
            self.dir.display(),
            stderr_of(&out)
        );
        started.elapsed()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        harness::remove_own_cluster(&self.dir, !self.stopped);
    }
}

fn read_env(dir: &Path) -> BTreeMap<String, String> {
    read(dir.join("cluster.env"))
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The node's init as `up` recorded it in state/pids.
fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(&harness::cluster().kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("running kubectl")
}

fn kubectl_ok(cluster: &OwnCluster, args: &[&str]) -> String {
    let out = cluster.kubectl(args);
    assert!(
        out.status.success(),
        "kubectl {} failed: {}",
        args.join(" "),
        stderr_of(&out)
    );
    stdout_of(&out)
}

fn node_ready(kubeconfig: &Path, node: &str) -> String {
    stdout_of(&kubectl(
        kubeconfig,
        &[
            "get",
            "node",
            node,
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ],
    ))
}

/// `kubectl run` of a `sleep` on the real node, with the local image.
fn run_sleeper(cluster: &OwnCluster, name: &str, host_network: bool) {
    let overrides = json!({
        "spec": {
            "nodeName": cluster.env("TOOLBOX_CLUSTER_REAL_NODE"),
            "hostNetwork": host_network,
            "tolerations": [{ "operator": "Exists" }]
        }
    })
    .to_string();
    kubectl_ok(
        cluster,
        &[
            "run",
            name,
            "--image",
            cluster.env("TOOLBOX_CLUSTER_NODE_IMAGE"),
            "--image-pull-policy",
            "Never",
            "--restart",
            "Never",
            "--overrides",
            &overrides,
            "--",
            "sleep",
            "60",
        ],
    );
}

#[test]
fn cluster_down_leaves_no_trace_on_the_machine() {
    // It compares the machine's mounts, cgroups, links and paths before and
    // after; other tests' pods on the shared real node change links (its
    // bridge appears with the first pod not on the host network).
    let _whole = harness::whole_cluster();
    let before = MachineState::now();
    let mut cluster = OwnCluster::up("trace");
    let root = cluster.cgroup_root().to_owned();
    let bridge = cluster.bridge();
    let node = cluster.env("TOOLBOX_CLUSTER_REAL_NODE").to_owned();
    let dir = cluster.dir.to_string_lossy().into_owned();
    assert!(
        !before.links.contains_key(&bridge),
        "bridge {bridge} existed before up"
    );

    // A pod in a network namespace of its own (CNI gives it the bridge and an
    // address) and one in the machine's.
    run_sleeper(&cluster, "pod-net", false);
    run_sleeper(&cluster, "pod-host", true);
    kubectl_ok(
        &cluster,
        &[
            "wait",
            "--for=jsonpath={.status.phase}=Running",
            "pod/pod-net",
            "pod/pod-host",
            "--timeout=60s",
        ],
    );
    let pod_ip = kubectl_ok(
        &cluster,
        &["get", "pod", "pod-net", "-o", "jsonpath={.status.podIP}"],
    );
    assert!(
        pod_ip.starts_with("10.244.0."),
        "pod-net's IP is {pod_ip:?}, not from the node's bridge network 10.244.0.0/24"
    );
    let node_ip = kubectl_ok(
        &cluster,
        &[
            "get",
            "node",
            &node,
            "-o",
            "jsonpath={.status.addresses[?(@.type==\"InternalIP\")].address}",
        ],
    );
    let host_pod_ip = kubectl_ok(
        &cluster,
        &["get", "pod", "pod-host", "-o", "jsonpath={.status.podIP}"],
    );
    assert_eq!(
        host_pod_ip, node_ip,
        "the hostNetwork pod has the node's address"
    );

    // The pod's end of its veth pair is eth0; the machine's end hangs on the bridge.
    let peer_index: u32 = kubectl_ok(
        &cluster,
        &["exec", "pod-net", "--", "cat", "/sys/class/net/eth0/iflink"],
    )
    .trim()
    .parse()
    .expect("eth0's iflink");
    let up = MachineState::now();
    let veth = up
        .links
        .iter()
        .find(|(_, index)| **index == peer_index)
        .map(|(name, _)| name.clone())
        .unwrap_or_else(|| panic!("no link on the machine has pod-net's peer index {peer_index}"));
    let master = std::fs::read_link(format!("/sys/class/net/{veth}/master"))
        .unwrap_or_else(|e| panic!("{veth} has no master: {e}"));
    assert!(
        master.ends_with(&bridge),
        "{veth} hangs on {}, not on the node's bridge {bridge}",
        master.display()
    );

    // Both pods' cgroups sit below the node's own root, in every hierarchy.
    for pod in ["pod-net", "pod-host"] {
        let cgroups = kubectl_ok(&cluster, &["exec", pod, "--", "cat", "/proc/1/cgroup"]);
        let lines: Vec<&str> = cgroups.lines().collect();
        assert_eq!(
            lines.len(),
            before.cgroup_hierarchies().len(),
            "{pod}: {cgroups}"
        );
        for line in lines {
            assert!(
                line.contains(&format!(":/{root}/kubepods/")),
                "{pod}'s cgroup is outside the node's root {root}: {line}"
            );
        }
    }
    for hierarchy in before.cgroup_hierarchies() {
        assert!(
            hierarchy.join(&root).is_dir(),
            "no {root} in {}",
            hierarchy.display()
        );
    }

    // While the node runs, the machine sees none of its mounts and none of
    // its files, and keeps its own kernel settings; the node sees the values
    // the kubelet wants.
    let node_init = cluster.node_init();
    assert_eq!(
        up.mounts
            .symmetric_difference(&before.mounts)
            .collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "the machine's mounts changed while the cluster runs"
    );
    assert_eq!(
        up.hard_coded, before.hard_coded,
        "hard-coded paths appeared on the machine"
    );
    assert_eq!(
        up.sysctls, before.sysctls,
        "the machine's kernel settings changed"
    );
    let inside = read(format!(
        "/proc/{node_init}/root/proc/sys/vm/overcommit_memory"
    ));
    assert_eq!(inside.trim(), "1", "the node's own vm.overcommit_memory");

    let node_pid_ns = namespace_of(node_init, "pid").expect("the node's PID namespace");
    let node_mnt_ns = namespace_of(node_init, "mnt").expect("the node's mount namespace");
    let node_processes = node_processes(node_init, &root);
    for expected in [
        "node-init",
        "containerd ",
        "kubelet",
        "containerd-shim",
        "sleep 60",
    ] {
        assert!(
            node_processes.iter().any(|p| p.cmdline.contains(expected)),
            "no {expected:?} among the node's processes: {node_processes:#?}"
        );
    }

    let took = cluster.stop_with_make();
    eprintln!("trace: make cluster-down took {took:.1?}");
    let after = MachineState::now();

    let left: Vec<Process> = running_processes()
        .into_iter()
        .filter(|p| {
            p.cmdline.contains(&dir)
                || node_processes
                    .iter()
                    .any(|n| n.pid == p.pid && n.start_ticks == p.start_ticks)
                || namespace_of(p.pid, "pid").as_ref() == Some(&node_pid_ns)
                || namespace_of(p.pid, "mnt").as_ref() == Some(&node_mnt_ns)
        })
        .collect();
    assert!(
        left.is_empty(),
        "processes of the cluster remain: {left:#?}"
    );
    assert_eq!(
        after
            .mounts
            .symmetric_difference(&before.mounts)
            .collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "the machine's mounts differ from before up"
    );
    let cgroups_left: Vec<&PathBuf> = after
        .top_cgroups
        .iter()
        .filter(|p| p.ends_with(&root))
        .collect();
    assert!(cgroups_left.is_empty(), "cgroups remain: {cgroups_left:?}");
    // Other clusters on this machine make and remove toolbox-<id> roots of
    // their own; anything else new below a hierarchy came from this one.
    let not_toolbox = |set: &BTreeSet<PathBuf>| -> BTreeSet<PathBuf> {
        set.iter()
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("toolbox-"))
            })
            .cloned()
            .collect()
    };
    assert_eq!(
        not_toolbox(&after.top_cgroups),
        not_toolbox(&before.top_cgroups),
        "cgroups outside toolbox-<id> roots changed"
    );
    assert!(
        !after.links.contains_key(&bridge),
        "the node's bridge {bridge} remains"
    );
    assert!(
        !after.links.values().any(|i| *i == peer_index),
        "pod-net's veth {veth} (index {peer_index}) remains"
    );
    assert_eq!(
        after
            .hard_coded
            .difference(&before.hard_coded)
            .collect::<Vec<_>>(),
        Vec::<&PathBuf>::new(),
        "hard-coded paths appeared on the machine"
    );
    assert_eq!(
        after.sysctls, before.sysctls,
        "the machine's kernel settings differ from before up"
    );
    let remaining: Vec<String> = std::fs::read_dir(&cluster.dir)
        .expect("listing the cluster's directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        remaining,
        vec![KEPT_FILE.to_owned()],
        "down left state in {dir}, or removed what was not its own"
    );
}

#[test]
fn a_second_cluster_comes_up_beside_the_shared_one_with_well_known_ports_taken() {
    // It holds well-known ports and checks that the shared cluster's bridge
    // is as it was, which another test's first pod not on the host network
    // would change.
    let _whole = harness::whole_cluster();
    let shared = harness::cluster();
    let shared_node = real_node();
    let shared_env = read_env(&shared.dir);
    let shared_root = shared_env
        .get("TOOLBOX_CLUSTER_CGROUP_ROOT")
        .expect("the shared cluster's cgroup root")
        .clone();
    let shared_init = node_init_pid(&shared.dir);
    let shared_pids = read(shared.dir.join("state/pids"));
    let before = MachineState::now();

    // Whatever another program holds, up picks free ports.
    let held: Vec<TcpListener> = WELL_KNOWN_PORTS
        .iter()
        .filter_map(|port| TcpListener::bind(("0.0.0.0", *port)).ok())
        .collect();
    eprintln!(
        "beside: holding {} of the ports {WELL_KNOWN_PORTS:?} (others hold the rest)",
        held.len()
    );

    let mut cluster = OwnCluster::up("beside");
    let own_kubeconfig = PathBuf::from(cluster.env("KUBECONFIG"));
    let own_node = cluster.env("TOOLBOX_CLUSTER_REAL_NODE").to_owned();
    assert_eq!(node_ready(&own_kubeconfig, &own_node), "True");
    assert_eq!(node_ready(&shared.kubeconfig, &shared_node.name), "True");
    assert_ne!(
        cluster.cgroup_root(),
        shared_root,
        "two clusters share a cgroup root"
    );
    for hierarchy in before.cgroup_hierarchies() {
        for root in [cluster.cgroup_root(), shared_root.as_str()] {
            assert!(
                hierarchy.join(root).is_dir(),
                "no {root} in {}",
                hierarchy.display()
            );
        }
    }
    let own_init = cluster.node_init();
    assert_ne!(
        namespace_of(own_init, "pid"),
        namespace_of(shared_init, "pid"),
        "the two real nodes share a PID namespace"
    );
    drop(held);

    cluster.stop_with_make();
    let after = MachineState::now();

    // Stopping one cluster leaves the other as it was.
    let shared_alive = shared_pids
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u32>().ok())
        .all(|pid| stat_of(pid).is_some_and(|(state, _)| state != 'Z'));
    assert!(
        shared_alive,
        "a process of the shared cluster in {} died when the other stopped",
        shared.dir.display()
    );
    for hierarchy in after.cgroup_hierarchies() {
        assert!(
            hierarchy.join(&shared_root).is_dir(),
            "the shared cluster's {shared_root} is gone from {}",
            hierarchy.display()
        );
        assert!(
            !hierarchy.join(cluster.cgroup_root()).exists(),
            "{} remains in {}",
            cluster.cgroup_root(),
            hierarchy.display()
        );
    }
    let shared_bridge = format!("tbx{}", shared_root.trim_start_matches("toolbox-"));
    assert_eq!(
        after.links.get(&shared_bridge),
        before.links.get(&shared_bridge),
        "the shared cluster's bridge changed"
    );
    assert_eq!(node_ready(&shared.kubeconfig, &shared_node.name), "True");
}
