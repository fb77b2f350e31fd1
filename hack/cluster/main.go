// Command localcluster runs toolbox's local test cluster: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok, all on
// loopback, with simulated nodes, and one real node (kubelet, containerd,
// runc) in namespaces of its own (realnode.go).
//
//	localcluster up   [-dir D] [-nodes N] [-real-nodes 1] [-start-delay 0s] [-node-lease 40s]
//	localcluster down [-dir D]
//	localcluster restart [-dir D] COMPONENT
//	localcluster images -out DIR -recorder PATH [-busybox PATH] -tag REF
//
// up returns once the cluster is ready and leaves the components running in
// the background; down stops every process up started and removes its state.
// images writes the real node's node-tools image under a release's name, as
// a docker-archive (make images).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if tool := filepath.Base(os.Args[0]); standinTools[tool] {
		if err := runStandin(tool, os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "%s (stand-in): %v\n", tool, err)
			os.Exit(127)
		}
	}
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = runUp(os.Args[2:])
	case "down":
		err = runDown(os.Args[2:])
	case "node-agent":
		err = runNodeAgent(os.Args[2:])
	case "node-init":
		err = runNodeInit(os.Args[2:])
	case "restart":
		err = runRestart(os.Args[2:])
	case "images":
		err = runImages(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "localcluster %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: localcluster up [-dir DIR] [-nodes N] [-real-nodes 0|1] [-start-delay DURATION] [-node-lease DURATION] | down [-dir DIR] | restart [-dir DIR] COMPONENT | images -out DIR -recorder PATH [-busybox PATH] -tag REF")
	os.Exit(2)
}

// layout names every file of one cluster below its directory, so that two
// clusters with different directories can run side by side.
type layout struct {
	dir, bin, state string
	// Where the Kubernetes release's own binaries are: one directory per
	// release, so that clusters of different releases share etcd and kwok.
	kubeBin           string
	adminKubeconfig   string
	devKubeconfig     string
	auditLog          string
	standinLog        string
	pidFile, envFile  string
	logs, pki, etcd   string
	kwokConfig        string
	auditPolicy       string
	componentKubeconf string
	settingsFile      string
}

func newLayout(dir, bin, kubeBin string) (layout, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return layout{}, err
	}
	if bin == "" {
		bin = filepath.Join(dir, "bin")
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return layout{}, err
	}
	if kubeBin == "" {
		kubeBin = bin
	}
	if kubeBin, err = filepath.Abs(kubeBin); err != nil {
		return layout{}, err
	}
	state := filepath.Join(dir, "state")
	return layout{
		dir: dir, bin: bin, kubeBin: kubeBin, state: state,
		adminKubeconfig:   filepath.Join(dir, "kubeconfig"),
		devKubeconfig:     filepath.Join(dir, "kubeconfig-dev"),
		auditLog:          filepath.Join(dir, "audit.log"),
		standinLog:        filepath.Join(dir, "standin.log"),
		pidFile:           filepath.Join(state, "pids"),
		envFile:           filepath.Join(dir, "cluster.env"),
		logs:              filepath.Join(state, "logs"),
		pki:               filepath.Join(state, "pki"),
		etcd:              filepath.Join(state, "etcd"),
		kwokConfig:        filepath.Join(state, "kwok.yaml"),
		auditPolicy:       filepath.Join(state, "audit-policy.yaml"),
		componentKubeconf: filepath.Join(state, "kubeconfigs"),
		settingsFile:      filepath.Join(dir, "toolbox-settings.toml"),
	}, nil
}

// kubeBinaries come from the Kubernetes release's own directory (-kube-bin);
// the rest (etcd, kwok, pause) from -bin.
var kubeBinaries = map[string]bool{
	"kube-apiserver": true, "kube-controller-manager": true, "kube-scheduler": true, "kubelet": true, "kubectl": true,
}

// binary is the path of one of the cluster's programs.
func (l layout) binary(name string) string {
	if kubeBinaries[name] {
		return filepath.Join(l.kubeBin, name)
	}
	return filepath.Join(l.bin, name)
}

// clusterFlags are the flags every subcommand shares.
type clusterFlags struct {
	dir, bin, kubeBin *string
}

func (f clusterFlags) layout() (layout, error) { return newLayout(*f.dir, *f.bin, *f.kubeBin) }

func commonFlags(name string) (*flag.FlagSet, clusterFlags) {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	return fs, clusterFlags{
		dir:     fs.String("dir", envOr("CLUSTER_DIR", "target/cluster"), "directory that holds this cluster's state"),
		bin:     fs.String("bin", os.Getenv("CLUSTER_BIN"), "directory with the etcd, kwok and pause binaries (default DIR/bin)"),
		kubeBin: fs.String("kube-bin", os.Getenv("KUBE_BIN"), "directory with one Kubernetes release's kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kubectl (default: -bin)"),
	}
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

var errAlreadyRunning = errors.New("already running")
