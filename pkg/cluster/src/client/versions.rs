//! Which Kubernetes releases toolbox supports, and the warning for a server
//! older than them.
//!
//! The range is the one the e2e suite runs on: the Makefile's KUBE_VERSIONS
//! has one release of each minor from [`OLDEST_SUPPORTED_MINOR`] to
//! [`NEWEST_TESTED_MINOR`] (a test keeps the two in step). docs/testing.md
//! says why the oldest is the oldest.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::version::Info;

use crate::client::cache::{self, Scope};
use crate::client::context::ClusterContext;

/// The oldest Kubernetes minor toolbox supports and tests on: 1.32, the
/// oldest minor still in a major managed offering's support (Amazon EKS's
/// extended support of 1.32 runs to 2027-03-23; 1.31's ended 2026-11-26).
pub const OLDEST_SUPPORTED_MINOR: u32 = 32;

/// The newest Kubernetes minor the e2e suite runs on. A newer server gets no
/// warning: Kubernetes keeps its APIs compatible forwards.
pub const NEWEST_TESTED_MINOR: u32 = 37;

/// How long a server's release is remembered: clusters are upgraded rarely,
/// and the check must not add a request to every session.
const REMEMBER_FOR: Duration = Duration::from_secs(3600);

/// How long the check may take before it is given up silently: it runs
/// beside a session's first requests and must never hold one up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(2);

/// The supported range, as people write it: "1.32 to 1.37".
pub fn supported_range() -> String {
    format!("1.{OLDEST_SUPPORTED_MINOR} to 1.{NEWEST_TESTED_MINOR}")
}

/// The warning for a server older than the supported range, or None.
pub fn unsupported_server_warning(info: &Info) -> Option<String> {
    let minor = minor_version(info)?;
    (minor < OLDEST_SUPPORTED_MINOR).then(|| {
        format!(
            "the cluster runs Kubernetes {}, older than 1.{OLDEST_SUPPORTED_MINOR}, the oldest release toolbox supports ({}); it may work, but it is not tested there",
            info.git_version,
            supported_range()
        )
    })
}

impl ClusterContext {
    /// The server's release, from the cache when it was asked for within
    /// the last hour; None when the server does not answer in time.
    pub async fn remembered_server_version(&self) -> Option<Info> {
        let path = cache::cache_file(self, Scope::Server, "server-version");
        if let Some(info) = path
            .as_deref()
            .and_then(|p| cache::read_fresh(p, REMEMBER_FOR))
        {
            return Some(info);
        }
        let info = tokio::time::timeout(GIVE_UP_AFTER, self.server_version())
            .await
            .ok()?
            .ok()?;
        if let Some(path) = path {
            cache::write(&path, &info);
        }
        Some(info)
    }

    /// Starts checking the server's release beside whatever the command does
    /// first; [`VersionCheck::warn`] prints the outcome.
    pub fn start_version_check(&self) -> VersionCheck {
        let cluster = self.clone();
        VersionCheck(tokio::spawn(async move {
            let info = cluster.remembered_server_version().await?;
            unsupported_server_warning(&info)
        }))
    }
}

/// A check of the server's release, running in the background.
pub struct VersionCheck(tokio::task::JoinHandle<Option<String>>);

impl VersionCheck {
    /// Prints the warning for a server older than the supported range, if
    /// any, once the check is done (it gives up by itself within 2 s).
    pub async fn warn(self) {
        if let Some(warning) = self.warning().await {
            eprintln!("warning: {warning}");
        }
    }

    /// The warning [`VersionCheck::warn`] prints, for a caller that words
    /// it itself (a command on several clusters names the cluster's context).
    pub async fn warning(self) -> Option<String> {
        self.0.await.ok().flatten()
    }
}

/// The Kubernetes minor version of a server's /version answer: "37" and
/// "37+" (as some providers report it) are both 37.
pub fn minor_version(info: &k8s_openapi::apimachinery::pkg::version::Info) -> Option<u32> {
    if info.major.trim_end_matches('+') != "1" {
        return None;
    }
    let digits: String = info
        .minor
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(git_version: &str, minor: &str) -> Info {
        Info {
            git_version: git_version.into(),
            major: "1".into(),
            minor: minor.into(),
            ..Default::default()
        }
    }

    #[test]
    fn only_servers_older_than_the_range_are_warned_about() {
        let warning = unsupported_server_warning(&info("v1.31.14", "31")).unwrap();
        assert_eq!(
            warning,
            "the cluster runs Kubernetes v1.31.14, older than 1.32, the oldest release toolbox supports (1.32 to 1.37); it may work, but it is not tested there"
        );
        assert!(unsupported_server_warning(&info("v1.28.3-eks-1", "28+")).is_some());
        for (version, minor) in [("v1.32.13", "32"), ("v1.37.2", "37"), ("v1.40.0", "40")] {
            assert_eq!(unsupported_server_warning(&info(version, minor)), None);
        }
        // A server that does not report a 1.x release is left alone.
        let two = Info {
            major: "2".into(),
            ..info("v2.0.0", "0")
        };
        assert_eq!(unsupported_server_warning(&two), None);
    }

    #[test]
    fn the_range_is_the_one_the_makefile_tests() {
        let makefile =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Makefile"))
                .expect("reading the Makefile");
        let versions: Vec<u32> = makefile
            .lines()
            .find_map(|l| l.strip_prefix("KUBE_VERSIONS := "))
            .expect("the Makefile sets KUBE_VERSIONS")
            .split_whitespace()
            .map(|v| v.split('.').nth(1).unwrap().parse().unwrap())
            .collect();
        let expected: Vec<u32> = (OLDEST_SUPPORTED_MINOR..=NEWEST_TESTED_MINOR).collect();
        assert_eq!(
            versions, expected,
            "one release of each supported minor, oldest first"
        );
        for minor in expected {
            let pinned = std::fs::read_dir(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../hack/kube/kubernetes"
            ))
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("v1.{minor}."))
            });
            assert!(pinned, "hack/kube/kubernetes pins no 1.{minor} release");
        }
    }

    #[test]
    fn minor_versions_read_plain_and_plus_forms() {
        let info = |major: &str, minor: &str| Info {
            major: major.into(),
            minor: minor.into(),
            ..Info::default()
        };
        assert_eq!(minor_version(&info("1", "37")), Some(37));
        assert_eq!(minor_version(&info("1", "30+")), Some(30));
        assert_eq!(minor_version(&info("1", "")), None);
        assert_eq!(minor_version(&info("2", "0")), None);
    }
}
