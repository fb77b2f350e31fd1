package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// runImages writes node-tools as a release publishes it: the same image as
// the local one, from the same files, under the release's name (make images
// passes the name toolbox's settings.rs defaults to).
func runImages(args []string) error {
	fs := flag.NewFlagSet("images", flag.ExitOnError)
	out := fs.String("out", "", "directory to write node-tools.tar into (a docker-archive)")
	recorder := fs.String("recorder", "", "the static session recorder (make recorder builds it)")
	busybox := fs.String("busybox", "/bin/busybox", "Debian's static busybox (busybox-static)")
	tag := fs.String("tag", "", "the image's name, e.g. ghcr.io/toolbox-dev/node-tools:v0.1.0")
	_ = fs.Parse(args)
	if *out == "" || *recorder == "" || *tag == "" || fs.NArg() > 0 {
		return errors.New("usage: localcluster images -out DIR -recorder PATH [-busybox PATH] -tag REF")
	}
	path := filepath.Join(*out, "node-tools.tar")
	if err := writeNodeToolsImage(path, *tag, *busybox, *recorder); err != nil {
		return err
	}
	fmt.Printf("%s: %s (docker-archive)\n", path, *tag)
	return nil
}

// The local images of the real node. No registry is reachable here, so they
// are built from files already on this machine and imported into the node's
// containerd; their names say that they are local builds, not public images.
const (
	NodeToolsImage = "localhost/toolbox/node-tools:local"
	PauseImage     = "localhost/toolbox/pause:local"
	// RecorderImage holds only the session recorder: the init container of
	// a recorded pod copies it into an image that lacks it.
	RecorderImage = "localhost/toolbox/recorder:local"
	// PlainImage is busybox without the recorder, as most images are: what
	// tests run a recorded pod of when its image is not node-tools.
	PlainImage = "localhost/toolbox/busybox:local"
)

// RecorderPath is where every image that carries the session recorder has
// it, and where a recorded pod's main container finds it
// (cmd/recorder, docs/recorder.md).
const RecorderPath = "toolbox/bin/toolbox-recorder"

// recorderFiles is the recorder binary at RecorderPath, with its directories.
func recorderFiles(recorder string) ([]imageFile, error) {
	body, err := os.ReadFile(recorder)
	if err != nil {
		return nil, fmt.Errorf("reading the session recorder (make recorder builds it): %w", err)
	}
	if err := requireStatic(recorder); err != nil {
		return nil, err
	}
	return []imageFile{
		{path: "toolbox/", mode: 0o755}, {path: "toolbox/bin/", mode: 0o755},
		{path: RecorderPath, mode: 0o755, body: body},
	}, nil
}

// imageFile is one file of an image's single layer.
type imageFile struct {
	path   string // inside the image, without a leading slash
	mode   int64
	body   []byte
	target string // for a symlink
}

// realTools are taken from the machine's Debian packages (util-linux and
// coreutils) with their libraries rather than from busybox: the static
// busybox prefers its own applets to the programs it execs, so its nsenter and
// chroot would run busybox's sh on the node instead of the node's own.
var realTools = []string{"/usr/bin/nsenter", "/usr/sbin/chroot"}

// busyboxFiles is a root file system with Debian's static busybox and a link
// for each of its applets (sh, sleep, hostname and the rest of what
// node-shell and debug-node run), leaving out the ones in skip.
func busyboxFiles(busybox string, skip map[string]bool) ([]imageFile, error) {
	body, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("reading %s (Debian's busybox-static): %w", busybox, err)
	}
	if err := requireStatic(busybox); err != nil {
		return nil, fmt.Errorf("%w (Debian's busybox-static has the static one)", err)
	}
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("listing busybox applets: %w", err)
	}
	files := []imageFile{
		{path: "bin/", mode: 0o755}, {path: "etc/", mode: 0o755}, {path: "root/", mode: 0o700},
		{path: "tmp/", mode: 0o1777}, {path: "proc/", mode: 0o555}, {path: "sys/", mode: 0o555},
		{path: "dev/", mode: 0o755},
		{path: "bin/busybox", mode: 0o755, body: body},
		{path: "etc/passwd", mode: 0o644, body: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{path: "etc/group", mode: 0o644, body: []byte("root:x:0:\nnogroup:x:65534:\n")},
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" && !strings.Contains(applet, "/") && !skip[applet] {
			files = append(files, imageFile{path: "bin/" + applet, mode: 0o777, target: "busybox"})
		}
	}
	return files, nil
}

// requireStatic fails for a program that needs a loader or libraries: the
// images carry none for it.
func requireStatic(program string) error {
	f, err := elf.Open(program)
	if err != nil {
		return fmt.Errorf("%s: %w", program, err)
	}
	defer f.Close()
	libraries, err := f.ImportedLibraries()
	if err != nil {
		return fmt.Errorf("%s: %w", program, err)
	}
	if len(libraries) > 0 {
		return fmt.Errorf("%s is not static: it needs %s", program, strings.Join(libraries, ", "))
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is not static: it needs a loader", program)
		}
	}
	return nil
}

// imagePath is the PATH of the images that hold programs.
var imagePath = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// writeNodeToolsImage writes node-tools, tagged ref, as a docker-archive at
// path: the local cluster's image and the one a release publishes are this.
func writeNodeToolsImage(path, ref, busybox, recorder string) error {
	files, err := nodeToolsFiles(busybox, recorder)
	if err != nil {
		return err
	}
	if err := writeImageArchive(path, ref, files, imageConfig{Cmd: []string{"sh"}, Env: imagePath}); err != nil {
		return fmt.Errorf("building %s: %w", ref, err)
	}
	return nil
}

// nodeToolsFiles is busybox plus real nsenter and chroot, a /host for the
// node's root and the session recorder.
func nodeToolsFiles(busybox, recorder string) ([]imageFile, error) {
	real := map[string]bool{}
	for _, tool := range realTools {
		real[filepath.Base(tool)] = true
	}
	files, err := busyboxFiles(busybox, real)
	if err != nil {
		return nil, err
	}
	files = append(files, imageFile{path: "host/", mode: 0o755})
	dynamic, err := withLibraries(realTools)
	if err != nil {
		return nil, err
	}
	recorderFiles, err := recorderFiles(recorder)
	if err != nil {
		return nil, err
	}
	return append(append(files, dynamic...), recorderFiles...), nil
}

// withLibraries returns the programs and the shared libraries ldd names for
// them, each at its path on this machine.
func withLibraries(programs []string) ([]imageFile, error) {
	paths := map[string]bool{}
	for _, program := range programs {
		paths[program] = true
		out, err := exec.Command("ldd", program).Output()
		if err != nil {
			return nil, fmt.Errorf("ldd %s: %w", program, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			for _, field := range strings.Fields(line) {
				if strings.HasPrefix(field, "/") {
					paths[field] = true
				}
			}
		}
	}
	var files []imageFile
	dirs := map[string]bool{}
	for path := range paths {
		body, err := os.ReadFile(path) // follows links: the image gets the file itself
		if err != nil {
			return nil, err
		}
		rel := strings.TrimPrefix(path, "/")
		for dir := filepath.Dir(rel); dir != "."; dir = filepath.Dir(dir) {
			dirs[dir+"/"] = true
		}
		files = append(files, imageFile{path: rel, mode: 0o755, body: body})
	}
	for dir := range dirs {
		if dir != "bin/" {
			files = append(files, imageFile{path: dir, mode: 0o755})
		}
	}
	return files, nil
}

// imageConfig is the part of an OCI image configuration these images set.
type imageConfig struct {
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	Env        []string `json:"Env,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

// writeImageArchive writes a docker-archive tarball (manifest.json, one
// config, one layer) that `ctr images import` takes.
func writeImageArchive(path, ref string, files []imageFile, config imageConfig) error {
	layer, err := layerTar(files)
	if err != nil {
		return err
	}
	layerDigest := sha256.Sum256(layer)
	layerID := hex.EncodeToString(layerDigest[:])
	configJSON, err := json.Marshal(map[string]any{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      time.Unix(0, 0).UTC().Format(time.RFC3339),
		"config":       config,
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerID}},
		"history":      []map[string]string{{"created_by": "toolbox hack/cluster (localcluster), from files on the building machine"}},
	})
	if err != nil {
		return err
	}
	configDigest := sha256.Sum256(configJSON)
	configName := hex.EncodeToString(configDigest[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{
		"Config": configName, "RepoTags": []string{ref}, "Layers": []string{layerID + "/layer.tar"},
	}})
	if err != nil {
		return err
	}
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	for _, entry := range []struct {
		name string
		body []byte
	}{{"manifest.json", manifest}, {configName, configJSON}, {layerID + "/layer.tar", layer}} {
		if err := tw.WriteHeader(&tar.Header{Name: entry.name, Mode: 0o644, Size: int64(len(entry.body)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(entry.body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, archive.Bytes(), 0o644)
}

// layerTar packs files as one image layer, in a stable order so that the same
// inputs give the same digest.
func layerTar(files []imageFile) ([]byte, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		header := &tar.Header{Name: f.path, Mode: f.mode, Uname: "root", Gname: "root", Format: tar.FormatPAX}
		switch {
		case strings.HasSuffix(f.path, "/"):
			header.Typeflag = tar.TypeDir
		case f.target != "":
			header.Typeflag, header.Linkname = tar.TypeSymlink, f.target
		default:
			header.Typeflag, header.Size = tar.TypeReg, int64(len(f.body))
		}
		if err := tw.WriteHeader(header); err != nil {
			return nil, err
		}
		if f.body != nil {
			if _, err := io.Copy(tw, bytes.NewReader(f.body)); err != nil {
				return nil, err
			}
		}
	}
	err := tw.Close()
	return buf.Bytes(), err
}

// buildNodeImages writes the node-tools, pause, recorder and plain image
// archives into dir and returns their paths.
func buildNodeImages(dir, busybox, pauseBinary, recorder string) ([]string, error) {
	tools := filepath.Join(dir, "node-tools.tar")
	if err := writeNodeToolsImage(tools, NodeToolsImage, busybox, recorder); err != nil {
		return nil, err
	}
	pause, err := os.ReadFile(pauseBinary)
	if err != nil {
		return nil, fmt.Errorf("reading the pause program (make kube-bin builds it): %w", err)
	}
	recorderOnly, err := recorderFiles(recorder)
	if err != nil {
		return nil, err
	}
	plain, err := busyboxFiles(busybox, nil)
	if err != nil {
		return nil, err
	}
	images := []struct {
		file, ref string
		files     []imageFile
		config    imageConfig
	}{
		{"pause.tar", PauseImage, []imageFile{{path: "pause", mode: 0o755, body: pause}}, imageConfig{
			Entrypoint: []string{"/pause"},
		}},
		{"recorder.tar", RecorderImage, recorderOnly, imageConfig{Entrypoint: []string{"/" + RecorderPath}}},
		{"busybox.tar", PlainImage, plain, imageConfig{Cmd: []string{"sh"}, Env: imagePath}},
	}
	paths := []string{tools}
	for _, image := range images {
		path := filepath.Join(dir, image.file)
		if err := writeImageArchive(path, image.ref, image.files, image.config); err != nil {
			return nil, fmt.Errorf("building %s: %w", image.ref, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}
