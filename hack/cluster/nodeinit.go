package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runNodeInit is the real node's PID 1: it makes the node's file system its
// own, starts containerd, imports the local images, starts the kubelet, reaps
// orphans as an init must, and on SIGTERM stops both and exits, which ends
// every other process of the node's PID namespace.
//
// SIGUSR1 restarts the kubelet and SIGUSR2 restarts containerd, as an
// operator's `systemctl restart` would: tests use them to break a session's
// stream on the node side, or to apply a changed kubelet.yaml. Pods keep
// running across either restart. A daemon that exits after such a restart
// (a configuration it refuses) is started by the next signal.
func runNodeInit(args []string) error {
	fs := flag.NewFlagSet("node-init", flag.ExitOnError)
	configPath := fs.String("config", "", "the node's JSON configuration, written by up")
	_ = fs.Parse(args)
	raw, err := os.ReadFile(*configPath)
	if err != nil {
		return err
	}
	var node realNode
	if err := json.Unmarshal(raw, &node); err != nil {
		return err
	}
	if os.Getpid() != 1 {
		return errors.New("node-init must be PID 1 of a new PID namespace (localcluster up starts it so)")
	}
	// Signals first: a SIGTERM from down during start-up must not be lost.
	signals := make(chan os.Signal, 16)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD, syscall.SIGUSR1, syscall.SIGUSR2)

	if err := node.setUpFileSystem(); err != nil {
		return fmt.Errorf("setting up the node's file system: %w", err)
	}
	if err := syscall.Sethostname([]byte(node.Name)); err != nil {
		return err
	}
	daemons := map[string][]string{
		"containerd": {"containerd", "--config", filepath.Join(node.Dir, "containerd.toml")},
		"kubelet": {filepath.Join(node.Bin, "kubelet"),
			"--config=" + filepath.Join(node.Dir, "kubelet.yaml"),
			"--kubeconfig=" + node.Kubeconfig,
			"--hostname-override=" + node.Name,
			"--node-ip=" + node.NodeIP,
			"--node-labels=toolbox.test/real-node=true",
			"--v=1"},
	}
	children := map[int]string{}
	start := func(name string) error {
		pid, err := node.startLogged(name, daemons[name][0], daemons[name][1:]...)
		if err == nil {
			children[pid] = name
		}
		return err
	}
	if err := start("containerd"); err != nil {
		return err
	}
	if err := waitForSocket("/run/containerd/containerd.sock", 30*time.Second); err != nil {
		return fmt.Errorf("containerd: %w (see %s)", err, node.logPath("containerd"))
	}
	for _, image := range node.Images {
		out, err := exec.Command("ctr", "--address", "/run/containerd/containerd.sock", "-n", "k8s.io",
			"images", "import", image).CombinedOutput()
		if err != nil {
			return fmt.Errorf("importing %s into containerd: %v: %s", image, err, out)
		}
	}
	if err := start("kubelet"); err != nil {
		return err
	}

	restarting := map[string]bool{}
	// Daemons started again by a signal: a test may have given them a
	// configuration they refuse. One that then exits leaves the node up and
	// waiting for the next signal (with the configuration put back), rather
	// than ending the node under every other test.
	restarted := map[string]bool{}
	for sig := range signals {
		switch sig {
		case syscall.SIGUSR1, syscall.SIGUSR2:
			name := map[os.Signal]string{syscall.SIGUSR1: "kubelet", syscall.SIGUSR2: "containerd"}[sig]
			running := false
			for pid, child := range children {
				if child == name {
					running = true
					restarting[name] = true
					_ = syscall.Kill(pid, syscall.SIGTERM)
				}
			}
			if !running {
				if err := start(name); err != nil {
					stopChildren(children)
					return err
				}
			}
		case syscall.SIGCHLD:
			for _, name := range reapChildren(children) {
				if restarting[name] {
					delete(restarting, name)
					restarted[name] = true
					if err := start(name); err != nil {
						stopChildren(children)
						return err
					}
					continue
				}
				if restarted[name] {
					fmt.Fprintf(os.Stderr, "node-init: %s exited after a restart; waiting for the next signal to start it again (see %s)\n", name, node.logPath(name))
					continue
				}
				// containerd or the kubelet died: the node is gone, and up or a test
				// should see it rather than a node that silently never comes back.
				stopChildren(children)
				return fmt.Errorf("%s exited (see %s)", name, node.logPath(name))
			}
		default:
			stopChildren(children)
			return nil
		}
	}
	return nil
}

// setUpFileSystem gives the node its own mounts: nothing mounted here
// propagates to the machine, yet mounts inside the node propagate (the
// kubelet needs a shared root), and the paths that the kubelet, containerd
// and CNI hard-code live in the cluster's directory.
func (n *realNode) setUpFileSystem() error {
	steps := []struct {
		source, target, fstype string
		flags                  uintptr
	}{
		{"", "/", "", syscall.MS_REC | syscall.MS_PRIVATE},
		{"", "/", "", syscall.MS_REC | syscall.MS_SHARED},
		{"proc", "/proc", "proc", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC},
		{"tmpfs", "/run", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV},
		{filepath.Join(n.Dir, "var-lib"), "/var/lib", "", syscall.MS_BIND},
		{filepath.Join(n.Dir, "var-log"), "/var/log", "", syscall.MS_BIND},
	}
	for name := range kubeletSysctls {
		steps = append(steps, struct {
			source, target, fstype string
			flags                  uintptr
		}{filepath.Join(n.Dir, "sysctl", name), "/proc/sys/" + strings.ReplaceAll(name, ".", "/"), "", syscall.MS_BIND})
	}
	for _, s := range steps {
		if err := syscall.Mount(s.source, s.target, s.fstype, s.flags, ""); err != nil {
			return fmt.Errorf("mount %s on %s: %w", s.source, s.target, err)
		}
	}
	// What programs expect under a fresh /run.
	if err := os.Symlink("/dev/shm", "/run/shm"); err != nil {
		return err
	}
	return os.MkdirAll("/run/lock", 0o1777)
}

// logPath is where the cluster keeps a node daemon's log. It outlives the
// node: down removes the node's files, never the logs.
func (n *realNode) logPath(name string) string {
	return filepath.Join(n.Logs, n.Name+"-"+name+".log")
}

// nodeLogPath is the same file as a file of the node's /var/log, seen from
// the machine (the node's /var/log is a bind mount of var-log): where a
// node's daemons without a journal log, and where the kubelet's node log
// query finds them (/var/log/kubelet.log for the query `kubelet`). It is a
// hard link, not a symlink: the kubelet opens it inside /var/log and
// refuses a link out of there.
func (n *realNode) nodeLogPath(name string) string {
	return filepath.Join(n.Dir, "var-log", name+".log")
}

// startLogged starts a node process with its output in the cluster's logs
// (appended, so that a restart keeps what came before) and returns its PID.
// Exec.Cmd.Wait is not used: PID 1 reaps every child itself.
func (n *realNode) startLogged(name, binary string, args ...string) (int, error) {
	log, err := os.OpenFile(n.logPath(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	if err := os.Link(n.logPath(name), n.nodeLogPath(name)); err != nil && !errors.Is(err, os.ErrExist) {
		_ = log.Close()
		return 0, fmt.Errorf("linking %s into the node's /var/log: %w", name, err)
	}
	defer log.Close()
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = "/"
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("starting %s: %w", name, err)
	}
	return cmd.Process.Pid, nil
}

// reapChildren collects every exited process (orphans are this init's to
// reap) and returns the names of the node's own daemons among them.
func reapChildren(children map[int]string) []string {
	var exited []string
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return exited
		}
		if name, ok := children[pid]; ok {
			delete(children, pid)
			fmt.Fprintf(os.Stderr, "node-init: %s exited with status %d\n", name, status.ExitStatus())
			exited = append(exited, name)
		}
	}
}

// stopChildren asks the kubelet and containerd to stop, and waits a little.
func stopChildren(children map[int]string) {
	for pid := range children {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(children) > 0 && time.Now().Before(deadline) {
		reapChildren(children)
		time.Sleep(50 * time.Millisecond)
	}
}

func waitForSocket(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if info, err := os.Stat(path); err == nil && info.Mode()&os.ModeSocket != 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no socket at %s after %s", path, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
