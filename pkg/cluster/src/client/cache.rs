//! Small answers from the server kept in the user's cache directory
//! ($XDG_CACHE_HOME/toolbox, else ~/.cache/toolbox) for a short while, so
//! that what rarely changes (node names for completion, the server's
//! release) is not asked for on every run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::context::ClusterContext;

/// Whose answer a cache file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The same for everyone on the server (its release).
    Server,
    /// Depends on who asks: context and impersonation (user and groups) too.
    Identity,
}

/// The file for `what` on this cluster, or None without a home directory.
pub fn cache_file(cluster: &ClusterContext, scope: Scope, what: &str) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
    let key = match scope {
        Scope::Server => format!("{}|{what}", cluster.server_url()),
        Scope::Identity => format!(
            "{}|{}|{:?}|{:?}|{what}",
            cluster.server_url(),
            cluster.context,
            cluster.config.auth_info.impersonate,
            cluster.config.auth_info.impersonate_groups
        ),
    };
    Some(
        base.join("toolbox")
            .join(format!("{what}-{:016x}.json", fnv1a(&key))),
    )
}

/// FNV-1a: stable across runs and builds, unlike the standard library's hasher.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// The cached value, if the file was written less than `fresh_for` ago.
pub fn read_fresh<T: DeserializeOwned>(path: &Path, fresh_for: Duration) -> Option<T> {
    let age = std::fs::metadata(path)
        .ok()?
        .modified()
        .ok()?
        .elapsed()
        .ok()?;
    if age > fresh_for {
        return None;
    }
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Writes the value; a cache that cannot be written is simply not kept.
pub fn write<T: Serialize + ?Sized>(path: &Path, value: &T) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(bytes) = serde_json::to_vec(value) {
        // Written aside and renamed, so that a concurrent reader never sees half a file.
        let partial = path.with_extension(format!("{}.tmp", std::process::id()));
        if std::fs::write(&partial, bytes).is_ok() {
            let _ = std::fs::rename(&partial, path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_reads_back_while_fresh_and_not_after() {
        let dir = std::env::temp_dir().join(format!("toolbox-cache-test-{}", std::process::id()));
        let path = dir.join("sub").join("v.json");
        write(&path, &vec!["a".to_string()]);
        assert_eq!(
            read_fresh::<Vec<String>>(&path, Duration::from_secs(60)),
            Some(vec!["a".to_string()])
        );
        assert_eq!(read_fresh::<Vec<String>>(&path, Duration::ZERO), None);
        assert_eq!(
            read_fresh::<Vec<String>>(&dir.join("absent.json"), Duration::from_secs(60)),
            None
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_hash_is_stable() {
        // Cache files written by an older build stay readable by a newer one.
        assert_eq!(fnv1a(""), 0xcbf29ce484222325);
        assert_eq!(fnv1a("a"), 0xaf63dc4c8601ec8c);
    }
}
