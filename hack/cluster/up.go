package main

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed stages/nodes.yaml
var nodeStages string

//go:embed stages/pods.yaml
var podStages string

// component is one control-plane process that up started.
type component struct {
	name string
	cmd  *exec.Cmd
	log  string
	died chan error
}

type cluster struct {
	// How long a simulated node's lease lasts.
	nodeLease time.Duration
	layout
	// The release kube-apiserver reports (e.g. v1.32.13); simulated kubelets
	// report it too.
	version    string
	busybox    string
	recorder   string
	realNodes  int
	realNode   *realNode
	components []*component
	ports      ports
	tokens     map[string]token
}

type ports struct {
	etcdClient, etcdPeer, apiserver, kwok, nodeAgent int
}

func runUp(args []string) error {
	fs, flags := commonFlags("up")
	nodes := fs.Int("nodes", 3, "number of simulated nodes to create")
	startDelay := fs.Duration("start-delay", 0, "how long simulated nodes and pods take to become Ready and Running")
	nodeLease := fs.Duration("node-lease", 40*time.Second, "how long a simulated node's lease lasts; kwok renews it every quarter of that")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for the cluster to become ready")
	realNodes := fs.Int("real-nodes", 1, "real nodes (kubelet, containerd, runc) beside the simulated ones: 0 or 1")
	busybox := fs.String("busybox", "/bin/busybox", "Debian's static busybox, the node-tools image's only program")
	recorder := fs.String("recorder", "", "the static session recorder (make recorder builds it) that the real node's images carry")
	_ = fs.Parse(args)
	if *realNodes != 0 && *realNodes != 1 {
		return fmt.Errorf("-real-nodes is %d: the local cluster has 0 or 1 real nodes", *realNodes)
	}

	l, err := flags.layout()
	if err != nil {
		return err
	}
	version, err := releaseOf(l)
	if err != nil {
		return err
	}
	if running(l) {
		if runs := recordedVersion(l); runs != "" && runs != version {
			return fmt.Errorf("the cluster in %s runs Kubernetes %s, not %s: stop it first (make cluster-down CLUSTER_DIR=%s)", l.dir, runs, version, l.dir)
		}
		fmt.Fprintf(os.Stderr, "cluster in %s is already running\n", l.dir)
		printExport(l)
		return nil
	}
	// A cluster that died without `down` leaves stale state; start afresh.
	if err := stopAndRemove(l); err != nil {
		return err
	}
	binaries := []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}
	if *realNodes > 0 {
		binaries = append(binaries, "kubelet", "pause")
		for _, tool := range []string{"containerd", "ctr", "runc", "containerd-shim-runc-v2", "/usr/lib/cni/bridge", "/usr/lib/cni/host-local", *busybox} {
			if _, err := exec.LookPath(tool); err != nil {
				return fmt.Errorf("the real node needs %s: run `make node-deps` (apt-get install containerd runc containernetworking-plugins busybox-static), or REAL_NODES=0", tool)
			}
		}
		if *recorder == "" {
			return fmt.Errorf("the real node's images need the session recorder: pass -recorder target/recorder/toolbox-recorder (make recorder builds it)")
		}
	}
	for _, binary := range binaries {
		if _, err := os.Stat(l.binary(binary)); err != nil {
			return fmt.Errorf("%s is missing: run `make kube-bin` first", l.binary(binary))
		}
	}

	if *nodeLease < time.Second {
		return fmt.Errorf("-node-lease is %s: at least 1s", *nodeLease)
	}
	c := &cluster{layout: l, version: version, busybox: *busybox, recorder: *recorder, realNodes: *realNodes, nodeLease: *nodeLease}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	started := time.Now()
	if err := c.start(ctx, *nodes, *startDelay); err != nil {
		c.stopAll()
		_ = removeMachineState(l)
		_ = removeState(l)
		return err
	}
	real := ""
	if *realNodes > 0 {
		real = " and the real node " + RealNodeName
	}
	fmt.Fprintf(os.Stderr, "cluster ready in %s: %s, %d simulated nodes%s\n", time.Since(started).Round(100*time.Millisecond), version, *nodes, real)
	printExport(l)
	return nil
}

// releaseOf asks the release's kube-apiserver which release it is
// ("Kubernetes v1.32.13").
func releaseOf(l layout) (string, error) {
	out, err := exec.Command(l.binary("kube-apiserver"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w (run `make kube-bin` first)", l.binary("kube-apiserver"), err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 || !strings.HasPrefix(fields[1], "v1.") {
		return "", fmt.Errorf("%s --version printed %q, not \"Kubernetes v1.N.P\"", l.binary("kube-apiserver"), out)
	}
	return fields[1], nil
}

// recordedVersion is the release a running cluster was started with.
func recordedVersion(l layout) string {
	raw, _ := os.ReadFile(l.envFile)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "TOOLBOX_CLUSTER_VERSION="); ok {
			return v
		}
	}
	return ""
}

func printExport(l layout) {
	fmt.Printf("export KUBECONFIG=%s\n", l.adminKubeconfig)
}

func (c *cluster) start(ctx context.Context, nodes int, startDelay time.Duration) error {
	for _, d := range []string{c.state, c.logs, c.etcd, c.componentKubeconf} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	free, err := freePorts(5)
	if err != nil {
		return err
	}
	c.ports = ports{etcdClient: free[0], etcdPeer: free[1], apiserver: free[2], kwok: free[3], nodeAgent: free[4]}
	certs, err := newPKI(c.pki)
	if err != nil {
		return fmt.Errorf("generating certificates: %w", err)
	}
	if c.tokens, err = certs.newTokens(); err != nil {
		return err
	}
	if err := c.writeConfigs(certs, startDelay); err != nil {
		return err
	}
	if c.realNodes > 0 {
		if c.realNode, err = c.prepareRealNode(certs, c.busybox, c.recorder); err != nil {
			return fmt.Errorf("preparing the real node: %w", err)
		}
	}

	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", c.ports.etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", c.ports.etcdPeer)
	etcd, err := c.spawn("etcd", "", nil,
		"--name=local", "--data-dir="+c.etcd,
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=local="+peerURL,
		"--unsafe-no-fsync", "--log-level=warn", "--quota-backend-bytes=8589934592")
	if err != nil {
		return err
	}
	if err := c.waitHTTP(ctx, etcd, etcdURL+"/health", ""); err != nil {
		return err
	}

	apiserver, err := c.spawn("kube-apiserver", "", nil,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(c.ports.apiserver),
		"--tls-cert-file="+certs.servingCert, "--tls-private-key-file="+certs.servingKey,
		"--client-ca-file="+certs.caCert,
		"--token-auth-file="+certs.tokenFile,
		"--authorization-mode=Node,RBAC",
		"--allow-privileged=true",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+certs.saPublicKey,
		"--service-account-signing-key-file="+certs.saPrivateKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		"--kubelet-client-certificate="+certs.clientCert, "--kubelet-client-key="+certs.clientKey,
		"--kubelet-preferred-address-types=InternalIP",
		"--audit-log-path="+c.auditLog, "--audit-policy-file="+c.auditPolicy,
		"--audit-log-maxsize=0", "--audit-log-format=json",
		"--profiling=false",
		"--max-requests-inflight=1000", "--max-mutating-requests-inflight=500",
		"--v=0")
	if err != nil {
		return err
	}
	server := c.apiserverURL()
	if err := c.waitHTTP(ctx, apiserver, server+"/readyz", c.tokens["admin"].value); err != nil {
		return err
	}

	controllers := "namespace-controller,serviceaccount-controller,serviceaccount-token-controller,garbage-collector-controller,root-ca-certificate-publisher-controller,pod-garbage-collector-controller,ttl-after-finished-controller"
	if c.realNodes > 0 {
		// A kubelet registers its node with the not-ready taint, and only this
		// controller takes it off once the node is Ready; without it, no pod
		// without a toleration would ever be scheduled onto the real node. The
		// simulated-only clusters (the 5,000-node benchmark) are left as they were.
		controllers += ",node-lifecycle-controller"
	}
	if _, err := c.spawn("kube-controller-manager", "", nil,
		"--kubeconfig="+filepath.Join(c.componentKubeconf, "kube-controller-manager"),
		"--controllers="+controllers,
		"--service-account-private-key-file="+certs.saPrivateKey,
		"--root-ca-file="+certs.caCert,
		"--use-service-account-credentials=false",
		"--leader-elect=false",
		"--secure-port=0",
		"--kube-api-qps=200", "--kube-api-burst=400",
		"--v=0"); err != nil {
		return err
	}
	if _, err := c.spawn("kube-scheduler", "", nil,
		"--kubeconfig="+filepath.Join(c.componentKubeconf, "kube-scheduler"),
		"--leader-elect=false",
		"--secure-port=0",
		"--kube-api-qps=200", "--kube-api-burst=400",
		"--v=0"); err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	// Every simulated node's kubelet endpoint is the node agent's port: it
	// runs exec on this machine and forwards the rest to kwok.
	kwok, err := c.spawn("kwok", "", nil,
		"--kubeconfig="+filepath.Join(c.componentKubeconf, "kwok"),
		"--config="+c.kwokConfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-label-selector=type=kwok",
		"--server-address=127.0.0.1:"+strconv.Itoa(c.ports.kwok),
		"--node-port="+strconv.Itoa(c.ports.nodeAgent),
		"--node-ip=127.0.0.1",
		"--tls-cert-file="+certs.kubeletCert, "--tls-private-key-file="+certs.kubeletKey,
		"--node-lease-duration-seconds="+strconv.Itoa(int(c.nodeLease.Seconds())))
	if err != nil {
		return err
	}
	agent, err := c.spawn("node-agent", self, nil, "node-agent",
		"-listen=0.0.0.0:"+strconv.Itoa(c.ports.nodeAgent),
		"-kwok="+fmt.Sprintf("https://127.0.0.1:%d", c.ports.kwok),
		"-tls-cert-file="+certs.kubeletCert, "-tls-private-key-file="+certs.kubeletKey,
		"-standin-log="+c.standinLog,
		"-state="+c.state)
	if err != nil {
		return err
	}
	if err := c.waitHTTP(ctx, kwok, fmt.Sprintf("https://127.0.0.1:%d/healthz", c.ports.kwok), ""); err != nil {
		return err
	}
	if err := c.waitHTTP(ctx, agent, fmt.Sprintf("https://127.0.0.1:%d/healthz", c.ports.nodeAgent), ""); err != nil {
		return err
	}
	var nodeInit *component
	if c.realNode != nil {
		// PID 1 of new PID, mount, UTS and IPC namespaces: the node.
		if nodeInit, err = c.spawnWith("node-init", self, &syscall.SysProcAttr{
			Setsid:     true,
			Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC,
		}, "node-init", "-config="+c.realNodeConfig()); err != nil {
			return err
		}
	}
	if err := c.writePIDs(); err != nil {
		return err
	}

	api := newAPI(server, c.tokens["admin"].value, certs.caCert)
	if err := api.createNodes(ctx, nodes, c.version); err != nil {
		return c.failed(nil, fmt.Errorf("creating nodes: %w", err))
	}
	if err := c.waitFor(ctx, "all nodes Ready", func() (bool, error) { return api.allNodesReady(ctx, nodes) }); err != nil {
		return err
	}
	if c.realNode != nil {
		if err := c.waitFor(ctx, "the real node "+c.realNode.Name+" Ready", func() (bool, error) {
			return api.nodeReady(ctx, c.realNode.Name)
		}); err != nil {
			return c.failedWithNodeLogs(nodeInit, err)
		}
	}
	if err := c.waitFor(ctx, "the default service account", func() (bool, error) {
		return api.exists(ctx, "/api/v1/namespaces/default/serviceaccounts/default")
	}); err != nil {
		return err
	}
	return c.writeEnv()
}

func (c *cluster) apiserverURL() string {
	return fmt.Sprintf("https://127.0.0.1:%d", c.ports.apiserver)
}

// spawn starts a component in a session of its own, so that it outlives this
// command and `down` can stop it with everything it started.
func (c *cluster) spawn(name, binary string, env []string, args ...string) (*component, error) {
	if binary == "" {
		binary = c.binary(name)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	if os.Getenv("GOGC") == "" {
		// This machine has memory to spare and two cores, shared by every
		// component: collect garbage a quarter as often as Go's default.
		// At 5,000 nodes the API server spent a sixth of its time in GC.
		cmd.Env = append(cmd.Env, "GOGC=400")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return c.startComponent(name, cmd)
}

// spawnWith starts a component with its own process attributes (namespaces).
func (c *cluster) spawnWith(name, binary string, attr *syscall.SysProcAttr, args ...string) (*component, error) {
	cmd := exec.Command(binary, args...)
	cmd.SysProcAttr = attr
	return c.startComponent(name, cmd)
}

func (c *cluster) startComponent(name string, cmd *exec.Cmd) (*component, error) {
	logPath := filepath.Join(c.logs, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = c.state
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	comp := &component{name: name, cmd: cmd, log: logPath, died: make(chan error, 1)}
	go func() { comp.died <- cmd.Wait() }()
	c.components = append(c.components, comp)
	return comp, nil
}

// waitFor polls check until it reports true, failing as soon as any component
// dies or the deadline passes.
func (c *cluster) waitFor(ctx context.Context, what string, check func() (bool, error)) error {
	var lastErr error
	for {
		ok, err := check()
		if ok {
			return nil
		}
		lastErr = err
		for _, comp := range c.components {
			select {
			case err := <-comp.died:
				return c.failed(comp, fmt.Errorf("%s exited while waiting for %s: %v", comp.name, what, err))
			default:
			}
		}
		select {
		case <-ctx.Done():
			return c.failed(nil, fmt.Errorf("timed out waiting for %s (last error: %v)", what, lastErr))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *cluster) waitHTTP(ctx context.Context, comp *component, url, bearer string) error {
	probe := newProbe(c.pki)
	return c.waitFor(ctx, comp.name+" at "+url, func() (bool, error) { return probe.ok(ctx, url, bearer) })
}

// failed prints the tail of the failing component's log (or every log when
// the culprit is unknown) and returns err.
func (c *cluster) failed(culprit *component, err error) error {
	for _, comp := range c.components {
		if culprit != nil && comp != culprit {
			continue
		}
		fmt.Fprintf(os.Stderr, "---- last lines of %s (%s)\n", comp.name, comp.log)
		for _, line := range tail(comp.log, 25) {
			fmt.Fprintln(os.Stderr, line)
		}
	}
	return err
}

func (c *cluster) stopAll() {
	for i := len(c.components) - 1; i >= 0; i-- {
		terminate(c.components[i].cmd.Process.Pid)
	}
}

func (c *cluster) writePIDs() error {
	var b strings.Builder
	for _, comp := range c.components {
		fmt.Fprintf(&b, "%s %d\n", comp.name, comp.cmd.Process.Pid)
	}
	return os.WriteFile(c.pidFile, []byte(b.String()), 0o600)
}

// writeEnv records where everything is, for the Makefile, benchmarks and tests.
func (c *cluster) writeEnv() error {
	env := fmt.Sprintf(`KUBECONFIG=%s
TOOLBOX_CLUSTER_KUBECONFIG_DEV=%s
TOOLBOX_CLUSTER_SERVER=%s
TOOLBOX_CLUSTER_AUDIT_LOG=%s
TOOLBOX_CLUSTER_STANDIN_LOG=%s
TOOLBOX_CLUSTER_VERSION=%s
TOOLBOX_CLUSTER_KUBECTL=%s
TOOLBOX_CLUSTER_KUBE_BIN=%s
TOOLBOX_CLUSTER_NODE_PORT=%d
`, c.adminKubeconfig, c.devKubeconfig, c.apiserverURL(), c.auditLog, c.standinLog, c.version, c.binary("kubectl"), c.kubeBin, c.ports.nodeAgent)
	if c.realNode != nil {
		// A toolbox settings file that points node-shell, debug-node and the
		// session recorder at the local images, which no registry serves.
		settings := fmt.Sprintf("# toolbox settings for the local cluster's real node: its images are local builds.\nimage = %q\ndebug_image = %q\nimage_pull_policy = \"Never\"\nrecorder_image = %q\n", NodeToolsImage, NodeToolsImage, NodeToolsImage)
		if err := os.WriteFile(c.settingsFile, []byte(settings), 0o644); err != nil {
			return err
		}
		env += fmt.Sprintf("TOOLBOX_CLUSTER_REAL_NODE=%s\nTOOLBOX_CLUSTER_NODE_IMAGE=%s\nTOOLBOX_CLUSTER_PAUSE_IMAGE=%s\nTOOLBOX_CLUSTER_RECORDER_IMAGE=%s\nTOOLBOX_CLUSTER_PLAIN_IMAGE=%s\nTOOLBOX_CLUSTER_SETTINGS=%s\nTOOLBOX_CLUSTER_CGROUP_ROOT=%s\n",
			c.realNode.Name, NodeToolsImage, PauseImage, RecorderImage, PlainImage, c.settingsFile, c.realNode.CgroupRoot)
	}
	return os.WriteFile(c.envFile, []byte(env), 0o644)
}

func (c *cluster) writeConfigs(certs *pki, startDelay time.Duration) error {
	server := c.apiserverURL()
	admin, dev := c.tokens["admin"].value, c.tokens["dev"].value
	adminConfig := kubeconfig(server, certs.caCert, "toolbox-local",
		[]kubeUser{{"admin", admin}, {"dev", dev}})
	if err := os.WriteFile(c.adminKubeconfig, []byte(adminConfig), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(c.devKubeconfig, []byte(kubeconfig(server, certs.caCert, "toolbox-local", []kubeUser{{"dev", dev}})), 0o600); err != nil {
		return err
	}
	for _, name := range []string{"kwok", "kube-controller-manager", "kube-scheduler"} {
		user := name
		if name != "kwok" {
			user = "system:" + name
		}
		path := filepath.Join(c.componentKubeconf, name)
		if err := os.WriteFile(path, []byte(kubeconfig(server, certs.caCert, "local", []kubeUser{{name, c.tokens[user].value}})), 0o600); err != nil {
			return err
		}
	}

	delay := strconv.FormatInt(startDelay.Milliseconds(), 10)
	stages := strings.ReplaceAll(nodeStages+"\n---\n"+podStages, "${START_DELAY_MS}", delay)
	kwokConfig := fmt.Sprintf(`apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  enableDebuggingHandlers: true
  nodePlayStageParallelism: 16
  podPlayStageParallelism: 8
  nodeLeaseParallelism: 16
---
%s`, stages)
	if err := os.WriteFile(c.kwokConfig, []byte(kwokConfig), 0o600); err != nil {
		return err
	}

	// Metadata for every request made by people and tools; the components'
	// own traffic (heartbeats, leases, controllers) would only drown it.
	policy := `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: None
  users: ["kwok", "system:kube-controller-manager", "system:kube-scheduler", "system:apiserver"]
- level: None
  userGroups: ["system:nodes"]
- level: None
  nonResourceURLs: ["/readyz*", "/healthz*", "/livez*"]
- level: Metadata
`
	return os.WriteFile(c.auditPolicy, []byte(policy), 0o600)
}

type kubeUser struct{ name, token string }

// kubeconfig renders a kubeconfig with one context per user; the first is current.
func kubeconfig(server, caFile, clusterName string, users []kubeUser) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Config\nclusters:\n- name: %s\n  cluster:\n    server: %s\n    certificate-authority: %s\n", clusterName, server, caFile)
	b.WriteString("users:\n")
	for _, u := range users {
		fmt.Fprintf(&b, "- name: %s\n  user:\n    token: %s\n", u.name, u.token)
	}
	b.WriteString("contexts:\n")
	for i, u := range users {
		name := clusterName
		if i > 0 {
			name = clusterName + "-" + u.name
		}
		fmt.Fprintf(&b, "- name: %s\n  context:\n    cluster: %s\n    user: %s\n    namespace: default\n", name, clusterName, u.name)
	}
	fmt.Fprintf(&b, "current-context: %s\n", clusterName)
	return b.String()
}

func freePorts(n int) ([]int, error) {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func tail(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return []string{err.Error()}
	}
	defer f.Close()
	var lines []string
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1024*1024), 1024*1024)
	for scanner.Scan() {
		lines = append(lines, scanner.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines
}
