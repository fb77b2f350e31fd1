# toolbox: build, test and try it on a local Kubernetes.
#
#   make try            install what is missing, start the local cluster, open a root shell on its real node
#   make test           lint, unit tests, then e2e tests on a fresh local cluster (KUBE_VERSION=v1.N.P: at that release)
#   make test-oldest    the e2e tests on the oldest supported Kubernetes release, and on an older server (CI runs it after make test)
#   make test-versions  the e2e tests on every supported release, oldest first (for releases; not in CI)
#   make install        build and install toolbox, kubectl-toolbox, man pages and completions into PREFIX (~/.local)
#   make uninstall      remove what make install put into PREFIX
#   make cluster-up     start a local cluster (NODES=3, REAL_NODES=1, KUBE_VERSION=newest) for trying toolbox by hand
#   make cluster-down   stop it and remove its state
#   make recorder       build the static session recorder the real node's images carry (target/recorder/toolbox-recorder)
#   make images         the release's node-tools image, toolbox's default, as a docker-archive (target/images/node-tools.tar)
#   make completions    regenerate the shell completion scripts in completions/
#   make man            regenerate the man pages in man/
#   make dist           this machine's release archive, its sha256 and the krew manifest (target/dist)
#   make bench          benchmarks against kubectl: a real node, then 5,000 simulated nodes (docs/benchmarks.md)
#   make bench-real     only the real-node benchmark (scenario 1b, with 1c and 1d); BENCH_ONLY=cp: 1d alone

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The Kubernetes releases the local cluster can run, one per supported minor,
# oldest to newest. Each is pinned in hack/kube/kubernetes/RELEASE/go.mod
# (hack/kube/pin-kubernetes writes one); docs/testing.md says why the oldest
# is the oldest, and pkg/cluster/src/client/versions.rs holds the same range.
KUBE_VERSIONS := v1.32.13 v1.33.13 v1.34.4 v1.35.4 v1.36.3 v1.37.2
KUBE_OLDEST := $(firstword $(KUBE_VERSIONS))
# The release the local cluster runs: the newest unless KUBE_VERSION says.
KUBE_VERSION ?= $(lastword $(KUBE_VERSIONS))
ifeq ($(filter $(KUBE_VERSION),$(KUBE_VERSIONS)),)
$(error KUBE_VERSION=$(KUBE_VERSION) is not a release the local cluster builds; pick one of $(KUBE_VERSIONS))
endif
KUBE_MINOR := $(word 2,$(subst ., ,$(KUBE_VERSION)))
# Each release's binaries have a directory of their own, so that switching
# releases never rebuilds another's.
KUBE_BIN := target/kube/$(KUBE_VERSION)/bin
KUBE_MODULE := hack/kube/kubernetes/$(KUBE_VERSION)
# The Go toolchain that release needs at least; newer local ones are used as is.
export GOTOOLCHAIN := go1.26.8+auto
export GOFLAGS := -buildvcs=false
# cargo's incremental cache is for editing loops, not for test runs: it grew
# to 24 GB over a day of them here, on machines whose disk can run short.
export CARGO_INCREMENTAL ?= 0

CLUSTER_DIR ?= target/cluster
CLUSTER_BIN := target/cluster/bin
NODES ?= 3
# One real node (kubelet, containerd, runc) beside the simulated ones; 0 leaves it out.
REAL_NODES ?= 1
START_DELAY ?= 0s
# How long a simulated node's lease lasts; kwok renews it every quarter of
# that, as a kubelet does (see docs/testing.md for why the benchmark's is long).
NODE_LEASE ?= 40s
# make test runs its own cluster so that one started by hand is left alone.
TEST_CLUSTER_DIR ?= target/cluster-test
CARGO ?= cargo

KUBE_BINARIES := $(addprefix $(KUBE_BIN)/,kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
CLUSTER_BINARIES := $(KUBE_BINARIES) $(CLUSTER_BIN)/etcd $(CLUSTER_BIN)/kwok $(CLUSTER_BIN)/localcluster $(CLUSTER_BIN)/pause
# What a release's binaries report as their version: $(call version_ldflags,v1.N.P).
version_ldflags = $(foreach pkg,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(pkg).gitVersion=$(1) -X $(pkg).gitMajor=1 -X $(pkg).gitMinor=$(word 2,$(subst ., ,$(1))) -X $(pkg).gitTreeState=clean)
# One release older than the supported range: its control plane (no kubelet)
# runs in the e2e test of toolbox's warning for servers older than it supports.
KUBE_OLDER := v1.31.14
KUBE_OLDER_BIN := target/kube/$(KUBE_OLDER)/bin
KUBE_OLDER_BINARIES := $(addprefix $(KUBE_OLDER_BIN)/,kube-apiserver kube-controller-manager kube-scheduler)

.PHONY: help
help:
	@sed -n 's/^#   //p' Makefile

# Where `make install` puts toolbox: bin/, share/man/man1/ and the shells'
# completion directories under it.
PREFIX ?= $(HOME)/.local
TOOLBOX_BIN ?= target/release/toolbox
COMPLETION_INSTALL := bash:share/bash-completion/completions/toolbox zsh:share/zsh/site-functions/_toolbox fish:share/fish/vendor_completions.d/toolbox.fish

.PHONY: install
install:
	$(CARGO) build --locked --release -p toolbox
	@$(MAKE) --no-print-directory install-files PREFIX="$(PREFIX)" TOOLBOX_BIN=target/release/toolbox

# Installs an already built TOOLBOX_BIN (what `make install` builds).
.PHONY: install-files
install-files:
	@install -d "$(PREFIX)/bin" "$(PREFIX)/share/man/man1"
	@install -m 0755 "$(TOOLBOX_BIN)" "$(PREFIX)/bin/toolbox"
	@ln -sf toolbox "$(PREFIX)/bin/kubectl-toolbox"
	@ln -sf toolbox "$(PREFIX)/bin/kubectl_complete-toolbox"
	@install -m 0644 man/*.1 "$(PREFIX)/share/man/man1/"
	@for entry in $(COMPLETION_INSTALL); do \
		install -d "$$(dirname "$(PREFIX)/$${entry#*:}")"; \
		COMPLETE=$${entry%%:*} "$(PREFIX)/bin/toolbox" > "$(PREFIX)/$${entry#*:}"; \
	done
	@echo "Installed into $(PREFIX):"
	@echo "  bin/toolbox, bin/kubectl-toolbox (kubectl toolbox ...), bin/kubectl_complete-toolbox (kubectl's completion of it)"
	@echo "  share/man/man1/: $$(cd man && ls *.1 | tr '\n' ' ')"
	@for entry in $(COMPLETION_INSTALL); do echo "  $${entry#*:}"; done
	@echo "Completion, with live node names: bash needs bash-completion, which loads $(PREFIX)/share/bash-completion/completions"
	@echo "  (or add: source <(COMPLETE=bash toolbox)); zsh: fpath+=($(PREFIX)/share/zsh/site-functions) before compinit;"
	@echo "  fish: loads $(PREFIX)/share/fish/vendor_completions.d when it is on \$$fish_complete_path; kubectl toolbox <TAB>: kubectl 1.26+ finds kubectl_complete-toolbox on PATH."
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "Note: $(PREFIX)/bin is not on PATH.";; esac

.PHONY: uninstall
uninstall:
	@rm -f "$(PREFIX)/bin/toolbox" "$(PREFIX)/bin/kubectl-toolbox" "$(PREFIX)/bin/kubectl_complete-toolbox"
	@for page in man/*.1; do rm -f "$(PREFIX)/share/man/man1/$$(basename $$page)"; done
	@for entry in $(COMPLETION_INSTALL); do rm -f "$(PREFIX)/$${entry#*:}"; done
	@echo "Removed toolbox from $(PREFIX)"

.PHONY: build
build:
	$(CARGO) build --locked -p toolbox

## ---- the local cluster --------------------------------------------------

.PHONY: kube-bin
kube-bin: $(CLUSTER_BINARIES)

$(KUBE_BINARIES) &: $(KUBE_MODULE)/go.mod $(KUBE_MODULE)/go.sum
	@echo "building kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and kubectl $(KUBE_VERSION) (the first build takes about 8-10 minutes on 2 cores)"
	@mkdir -p $(KUBE_BIN)
	cd $(KUBE_MODULE) && go build -trimpath -ldflags "-s -w $(call version_ldflags,$(KUBE_VERSION))" -o $(CURDIR)/$(KUBE_BIN)/ \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubectl
	@touch $(KUBE_BINARIES)

.PHONY: kube-bin-older
kube-bin-older: $(KUBE_OLDER_BINARIES)

$(KUBE_OLDER_BINARIES) &: hack/kube/kubernetes/$(KUBE_OLDER)/go.mod hack/kube/kubernetes/$(KUBE_OLDER)/go.sum
	@echo "building kube-apiserver, kube-controller-manager and kube-scheduler $(KUBE_OLDER), older than the supported range, for one e2e test"
	@mkdir -p $(KUBE_OLDER_BIN)
	cd hack/kube/kubernetes/$(KUBE_OLDER) && go build -trimpath -ldflags "-s -w $(call version_ldflags,$(KUBE_OLDER))" -o $(CURDIR)/$(KUBE_OLDER_BIN)/ \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
	@touch $(KUBE_OLDER_BINARIES)

$(CLUSTER_BIN)/etcd: hack/kube/etcd/go.mod hack/kube/etcd/go.sum
	cd hack/kube/etcd && go build -trimpath -ldflags "-s -w" -o $(CURDIR)/$@ go.etcd.io/etcd/server/v3

$(CLUSTER_BIN)/kwok: hack/kube/kwok/go.mod hack/kube/kwok/go.sum
	cd hack/kube/kwok && go build -trimpath -ldflags "-s -w" -o $(CURDIR)/$@ sigs.k8s.io/kwok/cmd/kwok

$(CLUSTER_BIN)/localcluster: $(wildcard hack/cluster/*.go hack/cluster/go.mod hack/cluster/go.sum hack/cluster/stages/*.yaml)
	cd hack/cluster && go build -trimpath -o $(CURDIR)/$@ .

# The real node's sandbox program; static, as its image holds nothing else.
$(CLUSTER_BIN)/pause: hack/cluster/pause/main.go
	cd hack/cluster && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o $(CURDIR)/$@ ./pause

# What the real node runs on, from Debian's packages (installed as root when
# missing; no daemon is started: localcluster runs them inside the node).
NODE_PACKAGES := containerd runc containernetworking-plugins busybox-static iproute2
.PHONY: node-deps
node-deps:
	@missing=$$(for p in $(NODE_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing the real node's packages: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# The session recorder that runs inside recorded pods (docs/recorder.md):
# static, since it is copied into images it knows nothing of. glibc's libc.a
# is on the machine, so nothing is downloaded. Its own target directory keeps
# these RUSTFLAGS from invalidating the main build's cache.
RECORDER := target/recorder/toolbox-recorder
RECORDER_TARGET := x86_64-unknown-linux-gnu
.PHONY: recorder
recorder:
	RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=target/recorder-build \
		$(CARGO) build --locked --release -p toolbox-recorder --target $(RECORDER_TARGET)
	@mkdir -p $(dir $(RECORDER))
	@install -m 0755 target/recorder-build/$(RECORDER_TARGET)/release/toolbox-recorder $(RECORDER)
	@ldd $(RECORDER) 2>&1 | grep -qE 'statically linked|not a dynamic executable' || { echo "$(RECORDER) is not static: $$(ldd $(RECORDER) | tr '\n' ' ')" >&2; exit 1; }

# node-tools as a release publishes it (docs/install.md): the real node's
# image under the name toolbox defaults to, which settings.rs alone writes
# (DEFAULT_NODE_IMAGE; a test checks that this finds it). NODE_TOOLS_IMAGE=REF
# on the command line builds it under another name, for an image of your own.
NODE_TOOLS_IMAGE := $(shell sed -n 's/^pub const DEFAULT_NODE_IMAGE: &str = "\(.*\)";$$/\1/p' cmd/toolbox/src/settings.rs)
IMAGES_DIR ?= target/images
.PHONY: images
images: recorder $(CLUSTER_BIN)/localcluster
	@test -n "$(NODE_TOOLS_IMAGE)" || { echo "no DEFAULT_NODE_IMAGE found in cmd/toolbox/src/settings.rs" >&2; exit 1; }
	@$(CLUSTER_BIN)/localcluster images -out $(IMAGES_DIR) -recorder $(RECORDER) -tag $(NODE_TOOLS_IMAGE)

# The name make images tags node-tools with, for a release's publishing step.
.PHONY: images-tag
images-tag:
	@echo $(NODE_TOOLS_IMAGE)

.PHONY: cluster-up
cluster-up: kube-bin $(if $(filter 0,$(REAL_NODES)),,node-deps recorder)
	@$(CLUSTER_BIN)/localcluster up -dir $(CLUSTER_DIR) -bin $(CLUSTER_BIN) -kube-bin $(KUBE_BIN) -nodes $(NODES) -real-nodes $(REAL_NODES) -start-delay $(START_DELAY) -node-lease $(NODE_LEASE) $(if $(filter 0,$(REAL_NODES)),,-recorder $(RECORDER))

.PHONY: cluster-down
cluster-down:
	@if [ -x $(CLUSTER_BIN)/localcluster ]; then $(CLUSTER_BIN)/localcluster down -dir $(CLUSTER_DIR); fi

## ---- trying it -------------------------------------------------------------

# One command on a fresh machine: what is missing is installed, toolbox and the
# cluster are built, the cluster starts (or the running one is reused), and a
# root shell opens on the real node. The cluster stays up afterwards.
.PHONY: try
try: tools-check node-deps kube-bin build
	@$(MAKE) --no-print-directory cluster-up REAL_NODES=1 >/dev/null
	@. $(CLUSTER_DIR)/cluster.env; \
	if [ -z "$${TOOLBOX_CLUSTER_REAL_NODE:-}" ]; then \
		echo "the cluster running in $(CLUSTER_DIR) has no real node: run make cluster-down, then make try again" >&2; exit 1; \
	fi; \
	export KUBECONFIG TOOLBOX_CONFIG=$$TOOLBOX_CLUSTER_SETTINGS; \
	echo "Opening a root shell on the real node $$TOOLBOX_CLUSTER_REAL_NODE (type exit to leave; the cluster stays up)."; \
	status=0; target/debug/toolbox node-shell "$$TOOLBOX_CLUSTER_REAL_NODE" --reason "make try" || status=$$?; \
	sed -e "s|@NODE@|$$TOOLBOX_CLUSTER_REAL_NODE|g" -e "s|@KUBECONFIG@|$$KUBECONFIG|g" -e "s|@SETTINGS@|$$TOOLBOX_CONFIG|g" -e "s|@TOOLBOX@|$(CURDIR)/target/debug/toolbox|g" hack/try-next.txt; \
	exit $$status

# Go and Rust come with this kind of machine; say so plainly where they are not.
.PHONY: tools-check
tools-check:
	@command -v go >/dev/null || { echo "make try needs Go 1.22 or newer (https://go.dev/doc/install); GOTOOLCHAIN then fetches the version the cluster needs" >&2; exit 1; }
	@command -v $(CARGO) >/dev/null || { echo "make try needs Rust's cargo (https://rustup.rs)" >&2; exit 1; }

## ---- shell completion -----------------------------------------------------

COMPLETION_FILES := bash:toolbox.bash zsh:_toolbox fish:toolbox.fish powershell:_toolbox.ps1 elvish:toolbox.elv

# Regenerates the static scripts in completions/; a test fails when they are stale.
.PHONY: completions
completions: build
	@for entry in $(COMPLETION_FILES); do \
		target/debug/toolbox completion $${entry%%:*} > completions/$${entry#*:}; \
	done
	@echo "completions/ regenerated"

## ---- release archive and krew manifest -----------------------------------

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
DIST_DIR ?= target/dist
DIST_OS := $(shell uname -s | tr '[:upper:]' '[:lower:]')
DIST_ARCH := $(shell uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')
# Where a release publishes its archives, for the krew manifest; a release
# sets it (the default is a placeholder that resolves nowhere).
RELEASE_URL ?= https://releases.invalid/toolbox/v$(VERSION)

# This machine's release archive (binary, LICENSE, README, man pages,
# completions), its sha256, and the krew manifest with this platform filled in.
.PHONY: dist
dist:
	$(CARGO) build --locked --release -p toolbox
	@$(MAKE) --no-print-directory dist-files TOOLBOX_BIN=target/release/toolbox

.PHONY: dist-files
dist-files:
	@archive=toolbox-v$(VERSION)-$(DIST_OS)-$(DIST_ARCH).tar.gz; stage=$(DIST_DIR)/stage; \
	rm -rf $$stage && mkdir -p $$stage/man $$stage/completions && \
	install -m 0755 "$(TOOLBOX_BIN)" $$stage/toolbox && \
	cp LICENSE README.md $$stage/ && cp man/*.1 $$stage/man/ && cp completions/* $$stage/completions/ && \
	tar -C $$stage -czf $(DIST_DIR)/$$archive toolbox LICENSE README.md man completions && \
	(cd $(DIST_DIR) && sha256sum $$archive > $$archive.sha256) && \
	sha=$$(cut -d' ' -f1 $(DIST_DIR)/$$archive.sha256) && \
	sed -e "s|{{VERSION}}|v$(VERSION)|g" -e "s|{{RELEASE_URL}}|$(RELEASE_URL)|g" \
	    -e "s|{{SHA256_$(DIST_OS)_$(DIST_ARCH)}}|$$sha|g" dist/krew/toolbox.yaml > $(DIST_DIR)/toolbox.yaml && \
	rm -rf $$stage && \
	echo "$(DIST_DIR)/$$archive (sha256 $$sha)" && \
	echo "$(DIST_DIR)/toolbox.yaml: the krew manifest, with $(DIST_OS)/$(DIST_ARCH) filled in"

# Regenerates the man pages in man/ from the command line's definition; a
# test fails when they are stale.
.PHONY: man
man: build
	@rm -f man/*.1
	@TOOLBOX_GENERATE_MAN=man target/debug/toolbox
	@echo "man/ regenerated"

## ---- checks ---------------------------------------------------------------

.PHONY: fmt
fmt:
	$(CARGO) fmt --all
	cd hack/cluster && gofmt -w .

.PHONY: lint
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	@test -z "$$(cd hack/cluster && gofmt -l .)" || { echo "hack/cluster needs gofmt"; exit 1; }
	cd hack/cluster && go vet ./...

# lint runs first where rustfmt and clippy are installed.
.PHONY: lint-if-available
lint-if-available:
	@if $(CARGO) fmt --version >/dev/null 2>&1 && $(CARGO) clippy --version >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory lint; \
	else \
		echo "rustfmt or clippy is not installed: skipping make lint"; \
	fi

.PHONY: unit-test
unit-test: doc-deps
	$(CARGO) test --locked --workspace --exclude toolbox-e2e

# man renders the man pages in a test (Debian's man-db; installed as root
# when missing).
.PHONY: doc-deps
doc-deps:
	@command -v man >/dev/null 2>&1 || { echo "installing man-db"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends man-db >/dev/null; }

# The e2e tests need a cluster; make test starts one and always stops it.
# All but older_server, which needs a 1.31 control plane (minutes to build on
# a fresh machine): make test-oldest runs it, with e2e-older-server.
.PHONY: e2e-test
# No backtraces: a failed test's panic message (file, line, what was
# wrong) then ends its output, where a CI log that keeps only the tail of
# a long run still shows it.
e2e-test: kube-bin build
	@$(MAKE) --no-print-directory cluster-down CLUSTER_DIR=$(TEST_CLUSTER_DIR)
	@trap '$(MAKE) --no-print-directory cluster-down CLUSTER_DIR=$(TEST_CLUSTER_DIR)' EXIT; \
	$(MAKE) --no-print-directory cluster-up CLUSTER_DIR=$(TEST_CLUSTER_DIR) NODES=3 >/dev/null; \
	TOOLBOX_E2E_CLUSTER=$(CURDIR)/$(TEST_CLUSTER_DIR) RUST_BACKTRACE=0 \
		$(CARGO) test --locked -p toolbox-e2e --no-fail-fast -- --test-threads=4 --skip older_server::

# The e2e test of toolbox's warning on a server older than the supported
# range: it starts that server's control plane itself, from kube-bin-older.
.PHONY: e2e-older-server
e2e-older-server: kube-bin-older $(CLUSTER_BIN)/etcd $(CLUSTER_BIN)/kwok $(CLUSTER_BIN)/localcluster build
	TOOLBOX_E2E_OLDER_KUBE_BIN=$(CURDIR)/$(KUBE_OLDER_BIN) \
		$(CARGO) test --locked -p toolbox-e2e --no-fail-fast -- older_server::

.PHONY: test
test: lint-if-available unit-test e2e-test

# The e2e suite on the oldest supported release (its own cluster directory,
# so that it never meets a cluster of another release), then the test on a
# server older than that.
.PHONY: test-oldest
test-oldest:
	@$(MAKE) --no-print-directory e2e-test KUBE_VERSION=$(KUBE_OLDEST) TEST_CLUSTER_DIR=target/cluster-test-$(KUBE_OLDEST)
	@$(MAKE) --no-print-directory e2e-older-server

# The e2e suite on every supported release, oldest first; stops at the first
# release that fails. About 15 minutes a release once its binaries are built.
.PHONY: test-versions
test-versions:
	@for version in $(KUBE_VERSIONS); do \
		echo "== e2e tests on Kubernetes $$version"; \
		$(MAKE) --no-print-directory e2e-test KUBE_VERSION=$$version TEST_CLUSTER_DIR=target/cluster-test-$$version || exit 1; \
	done

## ---- benchmarks ---------------------------------------------------------------

# A cluster of 5,000 simulated nodes of its own; stopped at the end unless
# BENCH_KEEP_CLUSTER=1, since its heartbeats load the machine.
BENCH_CLUSTER_DIR := target/cluster-bench
BENCH_NODES ?= 5000
# 5,000 kubelets renewing a 40 s lease every 10 s are 500 writes a second,
# which on 2 cores leave the control plane no time for anything measured;
# no controller of this cluster reads the leases.
BENCH_NODE_LEASE ?= 1h
# Scenario 1b's cluster: one real node and nothing else, so that no other test
# fills the node while it is measured.
BENCH_REAL_CLUSTER_DIR := target/cluster-bench-real

# BENCH_ONLY=a,b runs those parts: "real" (and "cp", toolbox cp's part of
# it alone) on the real node, the rest on the simulated ones; empty runs
# them all.
comma := ,
empty :=
space := $(empty) $(empty)
BENCH_PARTS := $(subst $(comma), ,$(BENCH_ONLY))
BENCH_ON_REAL := $(if $(BENCH_ONLY),$(filter real cp,$(BENCH_PARTS)),real)
BENCH_ON_SIMULATED := $(if $(BENCH_ONLY),$(filter-out real cp,$(BENCH_PARTS)),all)
BENCH_REAL_PART := $(if $(filter real,$(BENCH_ON_REAL)),real,$(if $(BENCH_ON_REAL),cp,real))

.PHONY: bench-tools
bench-tools:
	@test -x /usr/bin/time || { apt-get update -qq && apt-get install -y -qq time; }

.PHONY: bench-build
bench-build: bench-tools
	$(CARGO) build --locked --release -p toolbox -p toolbox-e2e --bin toolbox --bin bench

.PHONY: bench
bench: kube-bin bench-build
	@$(if $(BENCH_ON_REAL),$(MAKE) --no-print-directory bench-real-run,true)
	@$(if $(BENCH_ON_SIMULATED),$(MAKE) --no-print-directory bench-simulated-run,true)

.PHONY: bench-simulated-run
bench-simulated-run:
	@$(MAKE) --no-print-directory cluster-up CLUSTER_DIR=$(BENCH_CLUSTER_DIR) NODES=$(BENCH_NODES) REAL_NODES=0 NODE_LEASE=$(BENCH_NODE_LEASE) >/dev/null
	@trap '[ "$${BENCH_KEEP_CLUSTER:-}" = 1 ] || $(MAKE) --no-print-directory cluster-down CLUSTER_DIR=$(BENCH_CLUSTER_DIR)' EXIT; \
	TOOLBOX_E2E_CLUSTER=$(CURDIR)/$(BENCH_CLUSTER_DIR) $(if $(filter-out all,$(BENCH_ON_SIMULATED)),BENCH_ONLY=$(subst $(space),$(comma),$(BENCH_ON_SIMULATED))) target/release/bench

# Only scenario 1b, on a fresh cluster with one real node (always stopped at
# the end); it rewrites that section of docs/benchmarks.md and leaves the rest.
.PHONY: bench-real
bench-real: kube-bin bench-build
	@$(MAKE) --no-print-directory bench-real-run

.PHONY: bench-real-run
bench-real-run: node-deps
	@$(MAKE) --no-print-directory cluster-down CLUSTER_DIR=$(BENCH_REAL_CLUSTER_DIR)
	@trap '$(MAKE) --no-print-directory cluster-down CLUSTER_DIR=$(BENCH_REAL_CLUSTER_DIR)' EXIT; \
	$(MAKE) --no-print-directory cluster-up CLUSTER_DIR=$(BENCH_REAL_CLUSTER_DIR) NODES=0 REAL_NODES=1 >/dev/null; \
	TOOLBOX_E2E_CLUSTER=$(CURDIR)/$(BENCH_REAL_CLUSTER_DIR) BENCH_ONLY=$(BENCH_REAL_PART) target/release/bench

# Only the completion and picker figures (issue: node-name completion at scale).
.PHONY: bench-complete
bench-complete:
	@$(MAKE) --no-print-directory bench BENCH_ONLY=completion
