//! A cluster older than the supported range: Kubernetes v1.31's own
//! kube-apiserver, kube-controller-manager and kube-scheduler (built by
//! `make kube-bin-older`), with one simulated node. toolbox warns, in one
//! line, and goes on: a warning, not a failure.
//!
//! The test starts that cluster itself, in a directory of its own, beside the
//! shared one; TOOLBOX_E2E_OLDER_KUBE_BIN names the release's binaries. It
//! fails without them. Building them takes minutes on a fresh machine, so
//! `make test` filters this module out and `make test-oldest` runs it (`make
//! e2e-older-server`).

use std::path::{Path, PathBuf};
use std::process::Output;

use harness::{random_suffix, repo_root, stderr_of, stdout_of, toolbox_command};

/// The older cluster, stopped and removed when dropped.
struct OlderCluster {
    dir: PathBuf,
}

impl OlderCluster {
    fn up() -> Self {
        let kube_bin = std::env::var("TOOLBOX_E2E_OLDER_KUBE_BIN").expect(
            "TOOLBOX_E2E_OLDER_KUBE_BIN names the older release's binaries: run this test with `make e2e-older-server` (make test-oldest does), which builds them",
        );
        let cluster = OlderCluster {
            dir: repo_root().join(format!("target/cluster-older-{}", random_suffix())),
        };
        harness::start_own_cluster(
            &cluster.dir,
            std::path::Path::new(&kube_bin),
            &["-nodes", "1", "-real-nodes", "0"],
            None,
        );
        cluster
    }

    /// toolbox against this cluster, with a cache directory of its own.
    fn toolbox(&self, cache: &Path, args: &[&str]) -> Output {
        toolbox_command(&self.dir.join("kubeconfig"), cache)
            .args(args)
            .output()
            .expect("running toolbox")
    }
}

impl Drop for OlderCluster {
    fn drop(&mut self) {
        harness::remove_own_cluster(&self.dir, true);
    }
}

const WARNING: &str = "warning: the cluster runs Kubernetes v1.31.14, older than 1.32, the oldest release toolbox supports (1.32 to 1.37); it may work, but it is not tested there";

fn warnings(out: &Output) -> Vec<String> {
    stderr_of(out)
        .lines()
        .filter(|l| l.contains("older than 1.32"))
        .map(String::from)
        .collect()
}

#[test]
fn toolbox_warns_once_on_a_server_older_than_it_supports_and_goes_on() {
    // A cluster of its own loads the machine: not beside a test that needs
    // it quiet.
    let _cluster = harness::shared_cluster();
    let cluster = OlderCluster::up();
    let cache = std::env::temp_dir().join(format!("toolbox-older-cache-{}", random_suffix()));

    let version = cluster.toolbox(&cache, &["version"]);
    assert_eq!(version.status.code(), Some(0), "{}", stderr_of(&version));
    assert!(
        stdout_of(&version).contains("v1.31.14"),
        "{}",
        stdout_of(&version)
    );
    assert_eq!(warnings(&version), [WARNING]);

    // A session on the simulated node runs to the end, with one warning
    // before it; the second session has the release from the cache and
    // warns all the same.
    for _ in 0..2 {
        let shell = cluster.toolbox(
            &cache,
            &[
                "node-shell",
                "node-0001",
                "-n",
                "default",
                "--",
                "echo",
                "ran",
            ],
        );
        assert_eq!(shell.status.code(), Some(0), "{}", stderr_of(&shell));
        assert_eq!(stdout_of(&shell), "ran\n");
        assert_eq!(warnings(&shell), [WARNING]);
    }
    assert!(
        std::fs::read_dir(cache.join("toolbox"))
            .map(|d| d
                .flatten()
                .any(|e| e.path().to_string_lossy().contains("server-version")))
            .unwrap_or(false),
        "the release is remembered in {}",
        cache.display()
    );

    // An error is still the error, with the warning beside it.
    let missing = cluster.toolbox(
        &cache,
        &["node-shell", "no-such-node", "-n", "default", "--", "true"],
    );
    assert_eq!(missing.status.code(), Some(3), "{}", stderr_of(&missing));
    assert_eq!(warnings(&missing), [WARNING]);

    let compare = cluster.toolbox(&cache, &["compare", "node-0001", "-n", "default"]);
    assert_eq!(compare.status.code(), Some(0), "{}", stderr_of(&compare));
    assert_eq!(warnings(&compare), [WARNING]);

    let cleanup = cluster.toolbox(&cache, &["cleanup", "-A"]);
    assert_eq!(cleanup.status.code(), Some(0), "{}", stderr_of(&cleanup));
    assert_eq!(warnings(&cleanup), [WARNING]);

    // toolbox policy prints what such a server can take: no
    // MutatingAdmissionPolicy, and it says so.
    let policy = cluster.toolbox(
        &cache,
        &["policy", "-n", "node-access", "--group", "oncall"],
    );
    assert_eq!(policy.status.code(), Some(0), "{}", stderr_of(&policy));
    assert!(!stdout_of(&policy).contains("kind: MutatingAdmissionPolicy"));
    assert!(
        stderr_of(&policy).contains("note: Kubernetes v1.31.14 has no MutatingAdmissionPolicy"),
        "{}",
        stderr_of(&policy)
    );
    assert_eq!(warnings(&policy), [WARNING]);
    let _ = std::fs::remove_dir_all(&cache);
}
