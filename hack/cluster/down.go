package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func runDown(args []string) error {
	fs, flags := commonFlags("down")
	_ = fs.Parse(args)
	l, err := flags.layout()
	if err != nil {
		return err
	}
	return stopAndRemove(l)
}

// recordedPIDs returns the processes up started that are still this
// cluster's: a recycled PID that now belongs to something else is skipped.
func recordedPIDs(l layout) []int {
	f, err := os.Open(l.pidFile)
	if err != nil {
		return nil
	}
	defer f.Close()
	var pids []int
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) != 2 {
			continue
		}
		pid, err := strconv.Atoi(fields[1])
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.Contains(string(cmdline), l.state) {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// running reports whether every component up recorded is still alive.
func running(l layout) bool {
	raw, err := os.ReadFile(l.pidFile)
	if err != nil {
		return false
	}
	recorded := len(strings.Fields(string(raw))) / 2
	return recorded > 0 && len(recordedPIDs(l)) == recorded
}

func stopAndRemove(l layout) error {
	pids := recordedPIDs(l)
	// The node and kwok first, etcd last, as a real shutdown would.
	for i := len(pids) - 1; i >= 0; i-- {
		terminate(pids[i])
	}
	return errors.Join(removeMachineState(l), removeState(l))
}

// terminate stops a component's whole session: SIGTERM, then SIGKILL.
func terminate(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		reap(pid)
		if !alive(pid) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	reap(pid)
}

// alive reports whether pid still runs. A zombie does not: it has exited and
// waits only for its parent to collect it, and the parent of a component is
// the machine's init once up has exited, which here reaps only every second
// or so. Waiting for that made down take two seconds per component.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses.
	end := bytes.LastIndexByte(stat, ')')
	return end >= 0 && end+2 < len(stat) && stat[end+2] != 'Z'
}

// reap collects a child of this process so that it does not linger as a zombie.
func reap(pid int) {
	var status syscall.WaitStatus
	_, _ = syscall.Wait4(pid, &status, syscall.WNOHANG, nil)
}

func removeState(l layout) error {
	for _, path := range []string{l.state, l.adminKubeconfig, l.devKubeconfig, l.auditLog, l.standinLog, l.envFile, l.settingsFile} {
		if err := os.RemoveAll(path); err != nil {
			return err
		}
	}
	return nil
}
