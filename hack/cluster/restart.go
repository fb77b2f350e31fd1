package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runRestart stops one component of a running cluster and starts it again
// with the same command line, as an operator restarting it would: fault
// tests use it to restart kube-apiserver mid-session.
//
//	localcluster restart [-dir D] COMPONENT
func runRestart(args []string) error {
	fs, flags := commonFlags("restart")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return fmt.Errorf("name one component to restart, e.g. kube-apiserver")
	}
	name := fs.Arg(0)
	l, err := flags.layout()
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(l.pidFile)
	if err != nil {
		return fmt.Errorf("no cluster is running in %s: %w", l.dir, err)
	}
	var lines []string
	pid := 0
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 2 && fields[0] == name {
			pid, _ = strconv.Atoi(fields[1])
			continue
		}
		lines = append(lines, line)
	}
	if pid == 0 {
		return fmt.Errorf("the cluster in %s has no component %q", l.dir, name)
	}
	if name == "node-init" {
		return fmt.Errorf("the real node restarts its kubelet on SIGUSR1 and its containerd on SIGUSR2; node-init itself is the node")
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return fmt.Errorf("%s (pid %d) is not running: %w", name, pid, err)
	}
	argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	terminate(pid)

	logFile, err := os.OpenFile(filepath.Join(l.logs, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = l.state
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s again: %w", name, err)
	}
	lines = append(lines, fmt.Sprintf("%s %d", name, cmd.Process.Pid))
	if err := os.WriteFile(l.pidFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	if name != "kube-apiserver" {
		return nil
	}
	// Back when it answers /readyz again, like up's own wait.
	env, err := os.ReadFile(l.envFile)
	if err != nil {
		return err
	}
	server := ""
	for _, line := range strings.Split(string(env), "\n") {
		if v, ok := strings.CutPrefix(line, "TOOLBOX_CLUSTER_SERVER="); ok {
			server = v
		}
	}
	token, err := adminToken(l)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	probe := newProbe(l.pki)
	for {
		if ok, _ := probe.ok(ctx, server+"/readyz", token); ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-apiserver did not become ready again within a minute (see %s)", logFile.Name())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// adminToken reads the admin's token from the static token file.
func adminToken(l layout) (string, error) {
	raw, err := os.ReadFile(filepath.Join(l.pki, "tokens.csv"))
	if err != nil {
		return "", err
	}
	for _, line := range bytes.Split(raw, []byte("\n")) {
		fields := strings.Split(string(line), ",")
		if len(fields) > 1 && fields[1] == "admin" {
			return fields[0], nil
		}
	}
	return "", fmt.Errorf("no admin token in %s", l.pki)
}
