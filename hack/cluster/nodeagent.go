package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/creack/pty"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// The node agent answers the apiserver's kubelet requests for every
// simulated node. It runs exec itself and forwards everything else (logs,
// attach, port-forward) to kwok.
//
// kwok v0.8 runs exec too, but it wraps the command's error, so the kubelet
// streaming library no longer sees the exit status and reports every
// failure as an internal error with status 1; and it never closes the
// command's stdin when the client's stdin ends. toolbox passes the remote
// command's status through and streams piped stdin, so its tests need both.
//
// Commands run on this machine; host tools are stand-ins (standin.go).
func runNodeAgent(args []string) error {
	fs := flag.NewFlagSet("node-agent", flag.ExitOnError)
	listen := fs.String("listen", "", "address to serve on")
	kwokURL := fs.String("kwok", "", "kwok's server, for everything but exec")
	cert := fs.String("tls-cert-file", "", "serving certificate")
	key := fs.String("tls-private-key-file", "", "serving key")
	standinLog := fs.String("standin-log", "", "file the stand-ins record their calls in")
	state := fs.String("state", "", "the cluster's state directory, which also marks this process as the cluster's for `down`")
	_ = fs.Parse(args)

	upstream, err := url.Parse(*kwokURL)
	if err != nil {
		return err
	}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	// kwok serves a certificate of this cluster's CA; the hop is loopback.
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}

	// Commands are looked up on this process's PATH, so the stand-ins go first on it.
	standins := filepath.Join(*state, "standins")
	if err := standinDir(standins); err != nil {
		return err
	}
	if err := os.Setenv("PATH", standins+string(os.PathListSeparator)+os.Getenv("PATH")); err != nil {
		return err
	}
	executor := &localExecutor{
		env:        append(os.Environ(), standinLogEnv+"="+*standinLog),
		standinLog: *standinLog,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/", func(w http.ResponseWriter, r *http.Request) { serveExec(w, r, executor) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.Handle("/", proxy)
	server := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return server.ListenAndServeTLS(*cert, *key)
}

// serveExec handles /exec/{namespace}/{pod}/{container} and
// /exec/{namespace}/{pod}/{uid}/{container}, as a kubelet does.
func serveExec(w http.ResponseWriter, r *http.Request, executor remotecommand.Executor) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/exec/"), "/"), "/")
	var namespace, pod, uid, container string
	switch len(parts) {
	case 3:
		namespace, pod, container = parts[0], parts[1], parts[2]
	case 4:
		namespace, pod, uid, container = parts[0], parts[1], parts[2], parts[3]
	default:
		http.Error(w, "expected /exec/{namespace}/{pod}/{container}", http.StatusBadRequest)
		return
	}
	options, err := remotecommand.NewOptions(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	command := r.URL.Query()["command"]
	if len(command) == 0 {
		http.Error(w, "no command", http.StatusBadRequest)
		return
	}
	remotecommand.ServeExec(w, r, executor, namespace+"/"+pod, uid, container, command, options,
		4*time.Hour, 30*time.Second, remotecommand.SupportedStreamingProtocols)
}

type localExecutor struct {
	env        []string
	standinLog string
}

// ExecInContainer runs the command on this machine. A non-zero exit comes
// back as an ExitError, which the streaming library reports as the
// command's status, as a real kubelet does.
func (e *localExecutor) ExecInContainer(ctx context.Context, _ string, _ string, _ string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	// A stand-in's command may be another stand-in: the recorder's is
	// nsenter's.
	for tool := filepath.Base(cmd[0]); standinTools[tool]; tool = filepath.Base(cmd[0]) {
		if err := recordStandin(e.standinLog, tool, cmd[1:]); err != nil {
			return err
		}
		cmd = standinCommand(tool, cmd[1:])
	}
	command := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	command.Env = e.env
	command.Dir = "/"
	if _, err := exec.LookPath(cmd[0]); err != nil {
		// What a container runtime reports for a missing executable.
		return utilexec.CodeExitError{Err: fmt.Errorf("exec: %q: executable file not found in $PATH", cmd[0]), Code: 127}
	}
	var err error
	if tty {
		err = runWithTTY(command, in, out, resize)
	} else {
		if in != nil {
			command.Stdin = in
		}
		command.Stdout, command.Stderr = out, errOut
		err = command.Run()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code := exitErr.ExitCode()
		if code < 0 {
			code = 137 // killed by a signal
		}
		return utilexec.CodeExitError{Err: err, Code: code}
	}
	return err
}

func runWithTTY(command *exec.Cmd, in io.Reader, out io.Writer, resize <-chan remotecommand.TerminalSize) error {
	terminal, err := pty.Start(command)
	if err != nil {
		return err
	}
	defer terminal.Close()
	go func() {
		for size := range resize {
			_ = pty.Setsize(terminal, &pty.Winsize{Rows: size.Height, Cols: size.Width})
		}
	}()
	if in != nil {
		go func() { _, _ = io.Copy(terminal, in) }()
	}
	copied := make(chan struct{})
	go func() {
		// Reading the pty ends with an error once the command has exited
		// and its last output is read.
		_, _ = io.Copy(out, terminal)
		close(copied)
	}()
	err = command.Wait()
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	return err
}
