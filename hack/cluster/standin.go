package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A simulated node has no host namespaces, and this sandbox refuses
// `nsenter --target 1`. So on simulated nodes the host tools toolbox's pods
// call are stand-ins: each records the arguments a real node would have
// received, as one JSON line in the stand-in log, then runs the command
// those arguments name on this machine.
//
// The node agent runs a stand-in in process when it is the exec'd command
// itself (the usual case: a fan-out runs thousands at once, on the same
// cores as the control plane). Called from a shell instead, the tool is
// this binary under the tool's name, from the directory the agent puts
// first on PATH.
//
// toolbox-recorder is one too: a simulated node has no container whose log
// or node directory it could write to, so its stand-in records the call
// (which session id, whether input is recorded) and runs the command; the
// recorder itself is proved on the real node.
var standinTools = map[string]bool{"nsenter": true, "chroot": true, "apiclient": true, "toolbox-recorder": true}

// standinLogEnv names the stand-in log for stand-ins run as programs.
const standinLogEnv = "TOOLBOX_STANDIN_LOG"

type standinRecord struct {
	Tool string   `json:"tool"`
	Time string   `json:"time"`
	Args []string `json:"args"`
}

// recordStandin appends one call to the log; one write, so that calls
// from many nodes at once never mix.
func recordStandin(logPath, tool string, args []string) error {
	if logPath == "" {
		return nil
	}
	if args == nil {
		args = []string{}
	}
	line, err := json.Marshal(standinRecord{
		Tool: tool,
		Time: time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		Args: args,
	})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(line, '\n'))
	return err
}

// standinCommand is the command a tool's arguments name, as the real tool
// would run it on the node; a login shell when they name none.
func standinCommand(tool string, args []string) []string {
	switch tool {
	case "nsenter":
		// Options come first; the command follows `--` or the first non-option.
	options:
		for len(args) > 0 {
			switch arg := args[0]; {
			case arg == "--":
				args = args[1:]
				break options
			case arg == "-t" || arg == "--target" || arg == "-S" || arg == "--setuid" ||
				arg == "-G" || arg == "--setgid" || arg == "-w" || arg == "--wd" ||
				arg == "-r" || arg == "--root":
				args = args[min(2, len(args)):]
			case strings.HasPrefix(arg, "-"):
				args = args[1:]
			default:
				break options
			}
		}
	case "chroot":
		for len(args) > 0 && strings.HasPrefix(args[0], "-") {
			args = args[1:]
		}
		// NEWROOT: the simulated host's root is this machine's /.
		args = args[min(1, len(args)):]
	case "toolbox-recorder":
		// `toolbox-recorder record --id ID [--input] -- CMD...`: CMD.
		for i, arg := range args {
			if arg == "--" {
				args = args[i+1:]
				break
			}
		}
	case "apiclient":
		// `apiclient exec admin CMD...` on Bottlerocket: CMD in the admin container.
		if len(args) > 0 && args[0] == "exec" {
			args = args[min(2, len(args)):]
		}
	}
	if len(args) == 0 {
		shell := os.Getenv("SHELL")
		if shell == "" {
			shell = "/bin/sh"
		}
		return []string{shell}
	}
	return args
}

// runStandin is this binary run as a stand-in tool: it records the call and
// becomes the command.
func runStandin(tool string, args []string) error {
	if err := recordStandin(os.Getenv(standinLogEnv), tool, args); err != nil {
		return err
	}
	command := standinCommand(tool, args)
	// The recorder's command is itself a host tool (nsenter) as a rule.
	for inner := filepath.Base(command[0]); standinTools[inner]; inner = filepath.Base(command[0]) {
		if err := recordStandin(os.Getenv(standinLogEnv), inner, command[1:]); err != nil {
			return err
		}
		command = standinCommand(inner, command[1:])
	}
	path, err := exec.LookPath(command[0])
	if err != nil {
		return err
	}
	return syscall.Exec(path, command, os.Environ())
}

// standinDir makes dir hold each stand-in tool as a link to this binary.
func standinDir(dir string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for tool := range standinTools {
		link := filepath.Join(dir, tool)
		_ = os.Remove(link)
		if err := os.Symlink(self, link); err != nil {
			return err
		}
	}
	return nil
}
