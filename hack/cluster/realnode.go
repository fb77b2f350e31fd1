package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A real node: a kubelet with containerd and runc, beside the simulated ones.
//
// This sandbox refuses entering the machine's own PID 1, so the node is a set
// of namespaces rather than the machine: `localcluster node-init` runs as
// PID 1 of new PID, mount, UTS and IPC namespaces, and starts containerd and
// the kubelet there. It shares the machine's network namespace, so the
// apiserver reaches the kubelet at the machine's address. A hostPID pod's
// `nsenter --target 1` then enters the node, as it would on a real one.
//
// Everything the node writes stays in the cluster's directory: the node's
// /var/lib and /var/log are bind mounts of directories there and its /run is
// a tmpfs of its own, so the paths that the kubelet, containerd and CNI
// hard-code land there too, and so do the session recordings that recorded
// pods keep in the node's /var/log/toolbox/sessions. `down` stops the init (the kernel ends the rest
// of its PID namespace, and the mount namespace goes with it), then removes
// the node's cgroup subtrees and its bridge.

// realNode is everything node-init needs, written by up as JSON.
type realNode struct {
	Name        string   `json:"name"`
	Dir         string   `json:"dir"` // the node's own files, under the cluster's state
	Logs        string   `json:"logs"`
	Bin         string   `json:"bin"`
	NodeIP      string   `json:"nodeIP"`
	KubeletPort int      `json:"kubeletPort"`
	CgroupRoot  string   `json:"cgroupRoot"`
	Bridge      string   `json:"bridge"`
	Images      []string `json:"images"`
	Kubeconfig  string   `json:"kubeconfig"`
	CACert      string   `json:"caCert"`
	MaxPods     int      `json:"maxPods"`
	// Version is the node's Kubernetes release: the kubelet's settings
	// depend on it (a feature gate that later releases lock or remove).
	Version string `json:"version"`
}

// RealNodeName names the real node; simulated ones are node-NNNN.
const RealNodeName = "real-0001"

// realNodeMaxPods is small so that a test can fill the node and see the
// kubelet's own admission refuse a pod (OutOfpods).
const realNodeMaxPods = 24

// clusterID tells this cluster's machine-wide names (cgroup root, bridge)
// apart from another cluster's on the same machine.
func clusterID(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return hex.EncodeToString(sum[:4])
}

func cgroupRootName(dir string) string { return "toolbox-" + clusterID(dir) }
func bridgeName(dir string) string     { return "tbx" + clusterID(dir) }

func (l layout) realNodeDir() string    { return filepath.Join(l.state, "node") }
func (l layout) realNodeConfig() string { return filepath.Join(l.state, "node.json") }

// prepareRealNode writes the node's configuration, images and cgroup roots.
func (c *cluster) prepareRealNode(certs *pki, busybox, recorder string) (*realNode, error) {
	ip, err := machineAddress()
	if err != nil {
		return nil, err
	}
	free, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	node := &realNode{
		Name: RealNodeName, Dir: c.realNodeDir(), Logs: c.logs, Bin: c.kubeBin,
		NodeIP: ip, KubeletPort: free[0],
		CgroupRoot: cgroupRootName(c.dir), Bridge: bridgeName(c.dir),
		Kubeconfig: filepath.Join(c.componentKubeconf, "kubelet"), CACert: certs.caCert,
		MaxPods: realNodeMaxPods, Version: c.version,
	}
	for _, d := range []string{"var-lib", "var-log", "cni", "sysctl", "volume-plugins", "opt", "images"} {
		if err := os.MkdirAll(filepath.Join(node.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if node.Images, err = buildNodeImages(filepath.Join(node.Dir, "images"), busybox, c.binary("pause"), recorder); err != nil {
		return nil, err
	}
	user := "system:node:" + node.Name
	if err := os.WriteFile(node.Kubeconfig, []byte(kubeconfig(c.apiserverURL(), certs.caCert, "local", []kubeUser{{user, c.tokens[user].value}})), 0o600); err != nil {
		return nil, err
	}
	files := map[string]string{
		"containerd.toml":         node.containerdConfig(),
		"kubelet.yaml":            node.kubeletConfig(),
		"cni/10-toolbox.conflist": node.cniConfig(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(node.Dir, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	// The kubelet sets these kernel settings machine-wide unless it reads the
	// values it wants. The node's own /proc shows it files with those values
	// instead (node-init mounts them), so the machine's settings stay as they are.
	for name, value := range kubeletSysctls {
		if err := os.WriteFile(filepath.Join(node.Dir, "sysctl", name), []byte(value+"\n"), 0o644); err != nil {
			return nil, err
		}
	}
	if err := createCgroupRoots(node.CgroupRoot); err != nil {
		return nil, err
	}
	raw, err := json.MarshalIndent(node, "", "  ")
	if err != nil {
		return nil, err
	}
	return node, os.WriteFile(c.realNodeConfig(), raw, 0o644)
}

// kubeletSysctls are the kernel settings the kubelet insists on, by their
// path under /proc/sys with dots.
var kubeletSysctls = map[string]string{
	"vm.overcommit_memory":      "1",
	"vm.panic_on_oom":           "0",
	"kernel.panic":              "10",
	"kernel.panic_on_oops":      "1",
	"kernel.keys.root_maxkeys":  "1000000",
	"kernel.keys.root_maxbytes": "25000000",
}

// machineAddress is the machine's first non-loopback IPv4 address: the
// kubelet refuses a loopback node IP.
func machineAddress() (string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, addr := range addrs {
			if ipnet, ok := addr.(*net.IPNet); ok && ipnet.IP.To4() != nil && !ipnet.IP.IsLoopback() {
				return ipnet.IP.String(), nil
			}
		}
	}
	return "", errors.New("the real node needs a non-loopback IPv4 address on this machine, and there is none (REAL_NODES=0 leaves the node out)")
}

func (n *realNode) containerdConfig() string {
	// restrict_oom_score_adj: the machine withholds CAP_SYS_RESOURCE, so runc
	// cannot give a sandbox the negative oom_score_adj that CRI asks for.
	return fmt.Sprintf(`version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "/run/containerd/containerd.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
`, filepath.Join(n.Dir, "opt"), PauseImage, filepath.Join(n.Dir, "cni"))
}

func (n *realNode) kubeletConfig() string {
	// failCgroupV1: this machine has cgroup v1 hierarchies only. The image GC
	// thresholds keep the local images, which no registry could give back.
	// enableSystemLogQuery: the kubelet answers the node log query (KEP-2258)
	// that toolbox logs uses before any pod; tests turn it off for the
	// fallback by rewriting this file and restarting the kubelet.
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: %d
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %s}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: /%s
failCgroupV1: false
failSwapOn: false
makeIPTablesUtilChains: false
maxPods: %d
volumePluginDir: %s
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%%, imagefs.available: 1%%, nodefs.inodesFree: 1%%}
shutdownGracePeriod: 0s
resolvConf: /etc/resolv.conf
enableSystemLogHandler: true
enableSystemLogQuery: true
%s`, n.NodeIP, n.KubeletPort, n.CACert, n.CgroupRoot, n.MaxPods, filepath.Join(n.Dir, "volume-plugins"), n.logQueryGate())
}

// logQueryGate turns on the NodeLogQuery gate where the release still has it
// off by default (beta until 1.36, GA and locked on since, removed in 1.39).
func (n *realNode) logQueryGate() string {
	var major, minor int
	if _, err := fmt.Sscanf(strings.TrimPrefix(n.Version, "v"), "%d.%d", &major, &minor); err == nil && major == 1 && minor < 36 {
		return "featureGates: {NodeLogQuery: true}\n"
	}
	return ""
}

// cniConfig is a bridge of the node's own, with no address and no uplink: a
// pod gets the eth0 that containerd needs, and no packet leaves the machine.
func (n *realNode) cniConfig() string {
	return fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "toolbox-local",
  "plugins": [{
    "type": "bridge", "bridge": %q, "isGateway": false, "ipMasq": false,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]]}
  }]
}
`, n.Bridge)
}

// cgroupHierarchies lists this machine's cgroup mount points: the v1
// hierarchies, and the v2 one that a hybrid machine has beside them (the
// kubelet creates its subtree there too).
func cgroupHierarchies() ([]string, error) {
	raw, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	var dirs []string
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 2 && (fields[2] == "cgroup" || fields[2] == "cgroup2") {
			dirs = append(dirs, fields[1])
		}
	}
	return dirs, nil
}

// createCgroupRoots makes the node's own subtree in every hierarchy, so that
// the kubelet (cgroupfs driver) keeps to it.
func createCgroupRoots(root string) error {
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	for _, h := range hierarchies {
		dir := filepath.Join(h, root)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating the node's cgroup %s: %w", dir, err)
		}
		// A new cpuset cgroup starts with no CPUs and no memory nodes.
		for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
			if value, err := os.ReadFile(filepath.Join(h, file)); err == nil {
				_ = os.WriteFile(filepath.Join(dir, file), value, 0o644)
			}
		}
	}
	return nil
}

// removeCgroupRoots removes the node's subtrees, deepest first, waiting for
// the last processes of the node to leave them.
func removeCgroupRoots(root string) error {
	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for _, h := range hierarchies {
		top := filepath.Join(h, root)
		for {
			err := removeCgroupTree(top)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("removing cgroup %s: %w", top, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeCgroupTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return syscall.Rmdir(dir)
}

// failedWithNodeLogs adds the tails of the node's own logs (containerd and
// the kubelet run inside the node, not as components of up).
func (c *cluster) failedWithNodeLogs(nodeInit *component, err error) error {
	for _, name := range []string{"containerd", "kubelet"} {
		path := c.realNode.logPath(name)
		fmt.Fprintf(os.Stderr, "---- last lines of the real node's %s (%s)\n", name, path)
		for _, line := range tail(path, 25) {
			fmt.Fprintln(os.Stderr, line)
		}
	}
	return c.failed(nodeInit, err)
}

// removeMachineState undoes what the real node put outside the cluster's
// directory: its cgroup subtrees and its bridge. Its processes must be gone.
func removeMachineState(l layout) error {
	errs := []error{removeCgroupRoots(cgroupRootName(l.dir))}
	bridge := bridgeName(l.dir)
	if _, err := net.InterfaceByName(bridge); err == nil {
		if out, err := exec.Command("ip", "link", "delete", bridge).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("deleting the node's bridge %s: %v: %s", bridge, err, out))
		}
	}
	return errors.Join(errs...)
}
