//! The interactive node picker: a fuzzy search over one aligned line per node.

use std::io::IsTerminal;

use dialoguer::FuzzySelect;
use dialoguer::console::Term;
use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use k8s_openapi::api::core::v1::Node;
use toolbox_cluster::{ClusterContext, aligned_lines, node_rows};

use crate::exit::{AppError, usage};

/// Whether a picker can be shown: it reads keys from stdin and draws on stderr.
pub fn terminal_available() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Chooses the node when NODE was not given: the only node that matches
/// `selector` is used as is; several open the picker on a terminal.
pub async fn choose_node(
    cluster: &ClusterContext,
    selector: Option<&str>,
) -> Result<String, AppError> {
    let nodes = cluster.list_nodes(selector).await?;
    match (nodes.as_slice(), selector) {
        ([], Some(selector)) => Err(usage(format!("no nodes match selector {selector}"))),
        ([], None) => Err(usage("the cluster has no nodes")),
        ([only], _) => {
            let name = only.metadata.name.clone().unwrap_or_default();
            let why = selector
                .map(|s| format!("matching {s}"))
                .unwrap_or_else(|| "in the cluster".into());
            eprintln!("Using node {name}, the only node {why}.");
            Ok(name)
        }
        (many, _) if !terminal_available() => Err(usage(format!(
            "{} nodes match selector {}; pass NODE, or a selector that matches one node",
            many.len(),
            selector.unwrap_or("(none)")
        ))),
        (many, _) => pick(many).await,
    }
}

async fn pick(nodes: &[Node]) -> Result<String, AppError> {
    let rows = node_rows(nodes, k8s_openapi::jiff::Timestamp::now());
    let lines = aligned_lines(&rows);
    let names: Vec<String> = rows.into_iter().map(|r| r.name).collect();
    // dialoguer blocks on key reads, so it gets a thread of its own.
    let choice = tokio::task::spawn_blocking(move || {
        let theme: Box<dyn Theme> = if std::env::var_os("NO_COLOR").is_some() {
            Box::new(SimpleTheme)
        } else {
            Box::new(ColorfulTheme::default())
        };
        let term = Term::stderr();
        let result = FuzzySelect::with_theme(theme.as_ref())
            .with_prompt("Node (type to search, Enter to choose, Esc to cancel)")
            .items(&lines)
            .default(0)
            .max_length(15)
            .interact_on_opt(&term);
        // A key read interrupted by Ctrl-C can leave the cursor hidden.
        let _ = term.show_cursor();
        result
    })
    .await
    .map_err(|e| anyhow::anyhow!("the node picker failed: {e}"))?;
    match choice {
        Ok(Some(index)) => Ok(names[index].clone()),
        // Esc, or Ctrl-C, which reaches a raw terminal as a key.
        Ok(None) | Err(_) => Err(AppError::Cancelled),
    }
}
