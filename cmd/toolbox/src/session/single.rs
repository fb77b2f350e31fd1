//! One session on one node, once its pod is built: pkg/cluster's
//! lifecycle runs it under a [`Spinner`], and the end is told as the user
//! needs it (a reached --ttl, a persisting or kept pod and how to reach it
//! again, a pod not deleted) and turned into toolbox's exit status.

use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use toolbox_cluster::input::names::shell_word;
use toolbox_cluster::terminal::stdin_is_terminal;
use toolbox_cluster::{ClusterContext, SessionSpec, TargetNode};
use toolbox_podtemplate::NODE_SHELL_CONTAINER;

use super::args::SessionArgs;
use super::pod::NodeShellOptions;
use super::spinner::{Announce, Spinner};
use crate::app::App;
use crate::exit::{AppError, ExitStatus};

/// node-shell's one session on `node`: its pod built from `options` for
/// `user`, kept for reuse `persist` long, run through [`run`]. A plain
/// session and a `--pod` one both go this way.
pub async fn run_node_shell(
    cluster: &ClusterContext,
    user: String,
    node: &Node,
    options: &NodeShellOptions,
    session: &SessionArgs,
    persist: Option<Duration>,
    app: &App,
) -> Result<ExitStatus, AppError> {
    let target = TargetNode::from(node);
    if let Some(line) = options.unrecorded_windows_line(&target) {
        eprintln!("{line}");
    }
    let (request, pod) = options.build(&target, &cluster.namespace, user);
    let command = options.exec_command(&request);
    // A recording id is used once, so the hint for reaching a kept pod
    // again makes a recording of its own.
    let again = options.exec_command(&request).argv;
    let reach_again = kubectl_exec_hint(cluster, NODE_SHELL_CONTAINER, &again);
    let spec = SessionSpec {
        pod,
        container: NODE_SHELL_CONTAINER.to_string(),
        command: command.argv,
        tty: stdin_is_terminal(),
        start_timeout: session
            .pod
            .timeout
            .unwrap_or_else(|| app.settings.start_timeout()),
        keep: session.keep,
        what: "node-shell".to_string(),
        persist,
        early_exec: toolbox_cluster::nodes::kubelet_takes_exec_directly(node),
    };
    run(
        cluster,
        spec,
        &target.name,
        reach_again,
        None,
        command.recording,
    )
    .await
}

/// How to reach a kept pod again: the `kubectl exec` line, quoted so that it
/// can be pasted into a shell as it is.
pub fn kubectl_exec_hint(
    cluster: &ClusterContext,
    container: &str,
    command: &[String],
) -> impl Fn(&str) -> String + use<> {
    exec_hint(
        &cluster.namespace,
        &cluster.kubectl_flags,
        container,
        command,
    )
}

/// The `kubectl exec` line for a pod in `namespace`, with the connection
/// flags the session was given (" --context prod").
fn exec_hint(
    namespace: &str,
    flags: &str,
    container: &str,
    command: &[String],
) -> impl Fn(&str) -> String + use<> {
    let tail = format!(
        "-n {}{flags} -c {} -- {}",
        shell_word(namespace),
        shell_word(container),
        command
            .iter()
            .map(|word| shell_word(word))
            .collect::<Vec<_>>()
            .join(" ")
    );
    move |pod: &str| format!("kubectl exec -it {} {tail}", shell_word(pod))
}

/// Why a session ended with status 137: its pod reached its lifetime, and
/// how to ask for a longer one.
fn ttl_reached_line(pod: &str, ttl: Duration) -> String {
    format!(
        "pod {pod} reached its --ttl of {} and the kubelet stopped it, killing the command (exit 137); for a longer session, ask for more, e.g. --ttl {}",
        humantime::format_duration(ttl),
        humantime::format_duration(ttl * 2)
    )
}

/// Runs the session and turns its end into toolbox's exit status.
pub async fn run(
    cluster: &ClusterContext,
    spec: SessionSpec,
    node: &str,
    reach_again: impl Fn(&str) -> String,
    announce: Option<Announce>,
    recording: Option<String>,
) -> Result<ExitStatus, AppError> {
    let interactive = spec.tty;
    // With --persist the session may run in a pod that is already there,
    // so the pod to be created may never exist.
    let what = match (&spec.persist, spec.pod.metadata.name.as_deref()) {
        (None, Some(pod)) => pod.to_string(),
        _ => "a session".to_string(),
    };
    let spinner = Spinner::new(format!("Starting {what} on node {node}"), announce);
    let outcome = toolbox_cluster::session::run(cluster, spec, &spinner).await;
    spinner.finish();
    let outcome = outcome?;
    if let Some(ttl) = outcome.ttl_reached {
        eprintln!("toolbox: {}", ttl_reached_line(&outcome.pod, ttl));
    }
    if let Some(until) = &outcome.persisting_until {
        eprintln!(
            "Pod {pod} persists on node {node} for your next session until {until} if idle; {} lists it.",
            crate::invocation::name_commands("toolbox cleanup"),
            pod = outcome.pod,
        );
    }
    if outcome.kept {
        eprintln!(
            "Kept pod {pod} in namespace {ns}.\n  Reach it again: {again}\n  Remove it:      kubectl delete pod -n {ns}{flags} {pod}",
            pod = outcome.pod,
            ns = cluster.namespace,
            flags = cluster.kubectl_flags,
            again = reach_again(&outcome.pod),
        );
    }
    // Where to find what was done; a one-command session's stderr stays
    // the command's own.
    if let Some(id) = recording.filter(|_| interactive) {
        eprintln!("Session recorded as {id}; replay it with: toolbox sessions play {id}");
    }
    // The command's own status still passes through: see "When things fail"
    // in docs/node-shell.md.
    if let Some(left) = &outcome.not_deleted {
        eprintln!(
            "warning: {}",
            crate::invocation::name_commands(&left.to_string())
        );
    }
    Ok(match outcome.exit_code {
        0 => ExitStatus::Success,
        code => ExitStatus::Remote(u8::try_from(code).unwrap_or(1)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reached_ttl_is_one_line_with_the_way_to_more() {
        assert_eq!(
            ttl_reached_line("toolbox-shell-n-x7k2p", Duration::from_secs(3600)),
            "pod toolbox-shell-n-x7k2p reached its --ttl of 1h and the kubelet stopped it, killing the command (exit 137); for a longer session, ask for more, e.g. --ttl 2h"
        );
    }

    #[test]
    fn the_exec_hint_quotes_what_a_shell_would_split() {
        let command: Vec<String> = ["sh", "-c", "echo it's; exit 3"].map(String::from).to_vec();
        let hint = exec_hint("team-a", " --context prod", "debugger", &command);
        assert_eq!(
            hint("toolbox-debug-n-x7k2p"),
            r#"kubectl exec -it toolbox-debug-n-x7k2p -n team-a --context prod -c debugger -- sh -c 'echo it'\''s; exit 3'"#
        );
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("/host"), "/host");
    }
}
