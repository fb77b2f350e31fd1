# toolbox: build, test and try it on a local Kubernetes.
#
#   make install        build and install toolbox into ~/.cargo/bin
#   make test           lint, unit tests, then e2e tests on a fresh local cluster
#   make cluster-up     start a local cluster (NODES=3) for trying toolbox by hand
#   make cluster-down   stop it and remove its state
#   make completions    regenerate the shell completion scripts in completions/
#   make bench          benchmarks against kubectl on 5,000 simulated nodes (docs/benchmarks.md)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The Kubernetes release the local cluster runs; hack/kube/kubernetes pins it.
KUBE_VERSION := v1.37.2
KUBE_MINOR := 37
# The Go toolchain that release needs at least; newer local ones are used as is.
export GOTOOLCHAIN := go1.26.8+auto
export GOFLAGS := -buildvcs=false

CLUSTER_DIR ?= target/cluster
CLUSTER_BIN := target/cluster/bin
NODES ?= 3
START_DELAY ?= 0s
# make test runs its own cluster so that one started by hand is left alone.
TEST_CLUSTER_DIR := target/cluster-test
CARGO ?= cargo

KUBE_BINARIES := $(addprefix $(CLUSTER_BIN)/,kube-apiserver kube-controller-manager kubectl)
CLUSTER_BINARIES := $(KUBE_BINARIES) $(CLUSTER_BIN)/etcd $(CLUSTER_BIN)/kwok $(CLUSTER_BIN)/localcluster
VERSION_LDFLAGS := $(foreach pkg,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(pkg).gitVersion=$(KUBE_VERSION) -X $(pkg).gitMajor=1 -X $(pkg).gitMinor=$(KUBE_MINOR) -X $(pkg).gitTreeState=clean)

.PHONY: help
help:
	@sed -n 's/^#   //p' Makefile

.PHONY: install
install:
	$(CARGO) install --locked --path cmd/toolbox

.PHONY: build
build:
	$(CARGO) build --locked -p toolbox

## ---- the local cluster --------------------------------------------------

.PHONY: kube-bin
kube-bin: $(CLUSTER_BINARIES)

$(KUBE_BINARIES) &: hack/kube/kubernetes/go.mod hack/kube/kubernetes/go.sum
	@echo "building kube-apiserver, kube-controller-manager and kubectl $(KUBE_VERSION) (the first build takes 10-20 minutes on 2 cores)"
	cd hack/kube/kubernetes && go build -trimpath -ldflags "-s -w $(VERSION_LDFLAGS)" -o $(CURDIR)/$(CLUSTER_BIN)/ \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
	@touch $(KUBE_BINARIES)

$(CLUSTER_BIN)/etcd: hack/kube/etcd/go.mod hack/kube/etcd/go.sum
	cd hack/kube/etcd && go build -trimpath -ldflags "-s -w" -o $(CURDIR)/$@ go.etcd.io/etcd/server/v3

$(CLUSTER_BIN)/kwok: hack/kube/kwok/go.mod hack/kube/kwok/go.sum
	cd hack/kube/kwok && go build -trimpath -ldflags "-s -w" -o $(CURDIR)/$@ sigs.k8s.io/kwok/cmd/kwok

$(CLUSTER_BIN)/localcluster: $(wildcard hack/cluster/*.go hack/cluster/go.mod hack/cluster/go.sum hack/cluster/stages/*.yaml)
	cd hack/cluster && go build -trimpath -o $(CURDIR)/$@ .

.PHONY: cluster-up
cluster-up: kube-bin
	@$(CLUSTER_BIN)/localcluster up -dir $(CLUSTER_DIR) -bin $(CLUSTER_BIN) -nodes $(NODES) -start-delay $(START_DELAY)

.PHONY: cluster-down
cluster-down:
	@if [ -x $(CLUSTER_BIN)/localcluster ]; then $(CLUSTER_BIN)/localcluster down -dir $(CLUSTER_DIR); fi

## ---- shell completion -----------------------------------------------------

COMPLETION_FILES := bash:toolbox.bash zsh:_toolbox fish:toolbox.fish powershell:_toolbox.ps1 elvish:toolbox.elv

# Regenerates the static scripts in completions/; a test fails when they are stale.
.PHONY: completions
completions: build
	@for entry in $(COMPLETION_FILES); do \
		target/debug/toolbox completion $${entry%%:*} > completions/$${entry#*:}; \
	done
	@echo "completions/ regenerated"

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
unit-test:
	$(CARGO) test --locked --workspace --exclude toolbox-e2e

# The e2e tests need a cluster; make test starts one and always stops it.
.PHONY: e2e-test
e2e-test: kube-bin build
	@$(MAKE) --no-print-directory cluster-down CLUSTER_DIR=$(TEST_CLUSTER_DIR)
	@trap '$(MAKE) --no-print-directory cluster-down CLUSTER_DIR=$(TEST_CLUSTER_DIR)' EXIT; \
	$(MAKE) --no-print-directory cluster-up CLUSTER_DIR=$(TEST_CLUSTER_DIR) NODES=3 >/dev/null; \
	TOOLBOX_E2E_CLUSTER=$(CURDIR)/$(TEST_CLUSTER_DIR) $(CARGO) test --locked -p toolbox-e2e -- --test-threads=4

.PHONY: test
test: lint-if-available unit-test e2e-test

## ---- benchmarks ---------------------------------------------------------------

# A cluster of 5,000 simulated nodes of its own; stopped at the end unless
# BENCH_KEEP_CLUSTER=1, since its heartbeats load the machine.
BENCH_CLUSTER_DIR := target/cluster-bench
BENCH_NODES ?= 5000

.PHONY: bench-tools
bench-tools:
	@test -x /usr/bin/time || { apt-get update -qq && apt-get install -y -qq time; }

.PHONY: bench
bench: kube-bin bench-tools
	$(CARGO) build --locked --release -p toolbox -p toolbox-e2e --bin toolbox --bin bench
	@$(MAKE) --no-print-directory cluster-up CLUSTER_DIR=$(BENCH_CLUSTER_DIR) NODES=$(BENCH_NODES) >/dev/null
	@trap '[ "$${BENCH_KEEP_CLUSTER:-}" = 1 ] || $(MAKE) --no-print-directory cluster-down CLUSTER_DIR=$(BENCH_CLUSTER_DIR)' EXIT; \
	TOOLBOX_E2E_CLUSTER=$(CURDIR)/$(BENCH_CLUSTER_DIR) target/release/bench

# Only the completion and picker figures (issue: node-name completion at scale).
.PHONY: bench-complete
bench-complete:
	@$(MAKE) --no-print-directory bench BENCH_ONLY=completion
