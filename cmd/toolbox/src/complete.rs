//! Completion of live values (node names, namespaces, contexts) for
//! clap_complete's dynamic completion (`source <(COMPLETE=bash toolbox)`).
//!
//! Completers run synchronously inside the shell's completion request, so
//! each builds a small runtime of its own, gives up after about two seconds,
//! and prints nothing on any error: a broken completion must never spill
//! text into the user's shell.
//!
//! Pressing TAB again and again is how completion is used, so a fetched
//! list is kept for [`FRESH_FOR`] in the user's cache directory: the first
//! TAB asks the API server, the next ones within that time answer at once.

use std::ffi::{OsStr, OsString};
use std::time::Duration;

use clap_complete::engine::CompletionCandidate;
use toolbox_cluster::client::cache::{self, Scope};
use toolbox_cluster::{ClusterContext, ConnectOptions, load_kubeconfig};

const GIVE_UP_AFTER: Duration = Duration::from_secs(2);
const FRESH_FOR: Duration = Duration::from_secs(30);

/// Node names, each with its status (Ready, NotReady, SchedulingDisabled) as help.
pub fn nodes(current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    let prefix = prefix
        .strip_prefix("node/")
        .map(str::to_string)
        .unwrap_or_else(|| prefix.to_string());
    from_cluster("/api/v1/nodes", |cluster| async move {
        cluster.name_and_status("/api/v1/nodes", "nodes").await
    })
    .into_iter()
    .filter(|(name, _)| name.starts_with(&prefix))
    .map(|(name, status)| CompletionCandidate::new(name).help(Some(status.into())))
    .collect()
}

/// Namespace names, each with its status (Active, Terminating) as help.
pub fn namespaces(current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy().to_string();
    from_cluster("/api/v1/namespaces", |cluster| async move {
        cluster
            .name_and_status("/api/v1/namespaces", "namespaces")
            .await
    })
    .into_iter()
    .filter(|(name, _)| name.starts_with(&prefix))
    .map(|(name, status)| CompletionCandidate::new(name).help(Some(status.into())))
    .collect()
}

/// The kubeconfig's contexts, read locally; the current one is marked.
pub fn contexts(current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy().to_string();
    let options = options_on_the_line(std::env::args_os());
    let Ok(Some(kubeconfig)) = load_kubeconfig(options.kubeconfig.as_deref()) else {
        return Vec::new();
    };
    kubeconfig
        .contexts
        .iter()
        .filter(|c| c.name.starts_with(&prefix))
        .map(|c| {
            let candidate = CompletionCandidate::new(&c.name);
            if kubeconfig.current_context.as_deref() == Some(c.name.as_str()) {
                candidate.help(Some("current context".into()))
            } else {
                candidate
            }
        })
        .collect()
}

/// Runs `fetch` against the cluster named on the command line (or answers
/// from a fresh cached copy), returning nothing when that fails or takes too
/// long.
fn from_cluster<F, Fut>(what: &str, fetch: F) -> Vec<(String, String)>
where
    F: FnOnce(ClusterContext) -> Fut,
    Fut: std::future::Future<Output = toolbox_cluster::Result<Vec<(String, String)>>>,
{
    let options = ConnectOptions {
        user_agent: Some(crate::invocation::user_agent()),
        ..options_on_the_line(std::env::args_os())
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let result = runtime.block_on(async {
        tokio::time::timeout(GIVE_UP_AFTER, async {
            let cluster = ClusterContext::connect(&options).await.ok()?;
            // One file per server, identity and list.
            let cache = cache::cache_file(&cluster, Scope::Identity, &format!("completion-{what}"));
            if let Some(items) = cache
                .as_deref()
                .and_then(|path| cache::read_fresh(path, FRESH_FOR))
            {
                return Some(items);
            }
            let items: Vec<(String, String)> = fetch(cluster).await.ok()?;
            if let Some(path) = cache {
                cache::write(&path, &items);
            }
            Some(items)
        })
        .await
    });
    // Hung connections must not hold the shell: drop them without waiting.
    runtime.shutdown_background();
    result.ok().flatten().unwrap_or_default()
}

/// `--kubeconfig`, `--context` and `-n` as already typed on the line being
/// completed, in either `--flag value` or `--flag=value` form.
pub fn options_on_the_line(args: impl IntoIterator<Item = OsString>) -> ConnectOptions {
    let words: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut options = ConnectOptions::default();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (word.as_str(), None),
        };
        let takes_value = matches!(flag, "--kubeconfig" | "--context" | "-n" | "--namespace");
        let value = if takes_value && inline.is_none() {
            i += 1;
            words.get(i).cloned()
        } else {
            inline
        };
        match (flag, value) {
            ("--kubeconfig", Some(v)) => options.kubeconfig = Some(v.into()),
            ("--context", Some(v)) => options.context = Some(v),
            ("-n" | "--namespace", Some(v)) => options.namespace = Some(v),
            _ => {}
        }
        i += 1;
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_already_typed_choose_the_cluster() {
        let line = [
            "toolbox",
            "--",
            "toolbox",
            "--context=prod",
            "node-shell",
            "-n",
            "ops",
            "--kubeconfig",
            "/k",
            "node-",
        ];
        let options = options_on_the_line(line.iter().map(OsString::from));
        assert_eq!(options.context.as_deref(), Some("prod"));
        assert_eq!(options.namespace.as_deref(), Some("ops"));
        assert_eq!(
            options.kubeconfig.as_deref(),
            Some(std::path::Path::new("/k"))
        );
    }

    #[test]
    fn a_flag_without_its_value_yet_is_ignored() {
        let options = options_on_the_line(
            ["toolbox", "node-shell", "--context"]
                .iter()
                .map(OsString::from),
        );
        assert_eq!(options.context, None);
    }
}
