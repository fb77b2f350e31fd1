//! Names the build for `toolbox version`: the git commit and whether the tree
//! was dirty, the build date, the rustc and the Kubernetes API version
//! k8s-openapi was built for. Each is a `TOOLBOX_*` compile-time env var.
//!
//! Nothing here fails the build: without git or a checkout (a crate
//! tarball), the commit and tree state are "unknown".

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=SOURCE_DATE_EPOCH");

    let commit = git(&manifest_dir, &["rev-parse", "HEAD"]);
    let dirty = match &commit {
        Some(_) => git_tree_dirty(&manifest_dir),
        None => None,
    };
    if commit.is_some() {
        rerun_when_git_moves(&manifest_dir);
    }
    set("TOOLBOX_GIT_COMMIT", commit.as_deref().unwrap_or("unknown"));
    set(
        "TOOLBOX_GIT_DIRTY",
        match dirty {
            Some(true) => "true",
            Some(false) => "false",
            None => "unknown",
        },
    );
    set("TOOLBOX_BUILD_DATE", &rfc3339_utc(build_time()));
    set("TOOLBOX_RUSTC_VERSION", &rustc_version());
    set("TOOLBOX_K8S_API_VERSION", &k8s_api_version());
}

fn set(key: &str, value: &str) {
    println!("cargo::rustc-env={key}={value}");
}

/// A git command's trimmed stdout, or None if git is missing or fails
/// (no checkout, or one git refuses to read).
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Changes to tracked files, staged or not, against HEAD; untracked files
/// do not count.
fn git_tree_dirty(dir: &Path) -> Option<bool> {
    let status = Command::new("git")
        .args(["diff", "--quiet", "HEAD", "--"])
        .current_dir(dir)
        .status()
        .ok()?;
    match status.code() {
        Some(0) => Some(false),
        Some(1) => Some(true),
        _ => None,
    }
}

/// Reruns this script when HEAD moves (a commit, checkout or reset) and when
/// the binary's sources change, which rebuild the binary anyway; other
/// builds keep the script's last answer. Only existing paths are named:
/// cargo reruns a script on every build for a path that does not exist.
fn rerun_when_git_moves(manifest_dir: &Path) {
    let Some(git_dir) = git(manifest_dir, &["rev-parse", "--git-dir"]) else {
        return;
    };
    let git_dir = manifest_dir.join(git_dir);
    // In a worktree, HEAD is the worktree's own and the refs are shared.
    let common_dir = git(manifest_dir, &["rev-parse", "--git-common-dir"])
        .map(|d| manifest_dir.join(d))
        .unwrap_or_else(|| git_dir.clone());
    let mut watched = vec![git_dir.join("HEAD"), common_dir.join("packed-refs")];
    if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD"))
        && let Some(reference) = head.trim().strip_prefix("ref: ")
    {
        let loose = common_dir.join(reference);
        // A ref only in packed-refs gets a loose file on the next commit,
        // in a folder that does exist.
        match loose.exists() {
            true => watched.push(loose),
            false => watched.extend(loose.parent().map(Path::to_path_buf)),
        }
    }
    if let Some(top) = git(manifest_dir, &["rev-parse", "--show-toplevel"]) {
        let top = PathBuf::from(top);
        watched.extend(["cmd", "pkg", "Cargo.toml", "Cargo.lock"].map(|p| top.join(p)));
    }
    for path in watched.into_iter().filter(|p| p.exists()) {
        println!("cargo::rerun-if-changed={}", path.display());
    }
}

/// SOURCE_DATE_EPOCH when set (reproducible builds), else now.
fn build_time() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        })
}

/// Seconds since the epoch as e.g. 2026-05-01T12:00:00Z.
fn rfc3339_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// "1.95.0 (59807616e 2026-04-14)", from `$RUSTC --version`.
fn rustc_version() -> String {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|v| v.trim().trim_start_matches("rustc ").to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// "v1.37": k8s-openapi passes the version its enabled feature selects to
/// the build scripts of crates that depend on it, as 0x00_MM_NN_00.
fn k8s_api_version() -> String {
    std::env::vars()
        .find(|(key, _)| key.starts_with("DEP_K8S_OPENAPI_") && key.ends_with("_VERSION"))
        .and_then(|(_, value)| value.parse::<u32>().ok())
        .map(|v| format!("v{}.{}", (v >> 16) & 0xff, (v >> 8) & 0xff))
        .unwrap_or_else(|| {
            println!(
                "cargo::warning=k8s-openapi did not say which Kubernetes API it was built for"
            );
            "unknown".into()
        })
}
