//! toolbox's end-to-end tests against the local cluster (docs/testing.md),
//! as one test binary. Every test holds the cluster shared or, the few that
//! disturb all of it, whole (harness/sharing.rs): within that, libtest runs
//! any test beside any other. `cargo test -p toolbox-e2e -- faults::` runs
//! one module; `make test` runs them all but `older_server`, which `make
//! test-oldest` runs.

// The local cluster itself: what every other test relies on, and that it
// leaves no trace on the machine.
mod cluster;
mod cluster_hygiene;

// Commands on simulated nodes (kwok, with the stand-in host tools).
mod cleanup;
mod compare;
mod debug_node;
// A diagnostic bundle from the real node and simulated ones at once.
mod dump;
mod fanout;
// One run over several clusters: the shared one and one of the test's own.
mod many_clusters;
mod node_shell;
mod persist;
mod picker_completion;
mod pod_target;
mod policy;
mod require_recording;
mod version;

// Credentials, load and the API server's own limits.
mod concurrency;
mod credentials;
mod priority_and_fairness;

// The real node (kubelet, containerd, runc).
mod real_node_lifecycle;
mod real_node_limit;
mod real_node_shell;
// A node's journals and log files without a shell: toolbox logs.
mod logs;
// The session recorder in real pods: node-tools, and a plain image with the init container.
mod recorder;
// Sessions recorded by toolbox on the real node.
mod recording;
// Finding, reading and replaying them: toolbox sessions.
mod sessions;
// Files between the real node and this machine: toolbox cp.
mod cp;
// Fleet runs with no stream: the output in each pod's status.
mod streamless;

// Faults: the link to the API server, the server itself, the node's daemons.
mod apiserver_restart;
mod faults;
mod real_node_faults;

// Distribution: make try, make install, make dist, make images (the image
// toolbox defaults to, on the real node), the k9s plugin file, and the docs'
// exit-code table against the tests that prove it.
mod dist;
mod exit_code_table;
mod images;
mod install;
mod k9s;
mod make_try;

// A server older than the supported range, on a 1.31 control plane of its
// own: only `make test-oldest` builds that and runs it.
mod older_server;
