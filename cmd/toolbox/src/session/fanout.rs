//! One command on many nodes, for node-shell and debug-node, driven in
//! this order by [`run`] (`toolbox logs` drives its own run, with the same
//! [`super::args::FanoutArgs::filter`], [`Printer`] and [`finish`]):
//!
//! 1. Check what can be checked before any request (a command is given,
//!    no --persist or --keep, some nodes named or --all).
//! 2. The pre-flight ([`super::preflight::preflight`]) with the run's
//!    nodes, filtered as the fan-out flags say.
//! 3. pkg/cluster's `session::fanout::run` runs the single-node lifecycle on each,
//!    with its events going to a [`Printer`].
//! 4. [`finish`]: the gathered groups or the document, the
//!    [`super::summary`], and the run's exit status.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Pod;
use toolbox_cluster::nodes::nodeset::fold;
use toolbox_cluster::session::fanout::{
    self, FanoutReport, FanoutSpec, NodeOutcome, NodeSession, NodeWork,
};
use toolbox_cluster::{ClusterContext, ClusterError, TargetNode};
use toolbox_podtemplate::{StreamlessRun, streamless_pod};

use super::args::{SessionArgs, TargetArgs};
use super::pod::{SessionCommand, new_session_id, random_suffix};
use super::preflight::{NodeUse, preflight};
use super::printer::{Mode, Printer, print_document, print_gathered};
use super::summary::{Summary, include_hint, skipped_groups};
use crate::app::App;
use crate::contexts::ContextArgs;
use crate::exit::{AppError, ExitStatus, usage};

/// How many nodes run at once by default: see "Fan-out width" in
/// docs/fan-out.md for why.
pub const DEFAULT_FANOUT: usize = 64;

/// What node-shell or debug-node hands over for a run.
pub struct RunInputs<'a> {
    pub target: &'a TargetArgs,
    pub session: &'a SessionArgs,
    pub command: &'a [String],
    /// "node-shell", "debug-node --profile sysadmin".
    pub what: String,
    /// Several clusters, when these flags name them: [`super::clusters::fan_out`]
    /// runs there rather than here.
    pub contexts: &'a ContextArgs,
}

/// One node's pod and the command a session would exec in it: the run
/// execs it, or makes it the pod's own process (stream-less).
pub struct NodePod {
    pub pod: Pod,
    pub container: String,
    pub command: SessionCommand,
}

/// How the nodes of a run get their command (a run on several clusters
/// shapes its nodes alike: [`super::clusters`]).
pub(super) struct RunShape<'a> {
    pub(super) streamless: bool,
    /// Where the recorder comes from for a stream-less pod that does not
    /// record and whose image lacks it.
    pub(super) recorder_image: &'a str,
}

impl RunShape<'_> {
    /// The node's session: stream-less when the run is, except on Windows
    /// nodes, whose HostProcess pods cannot run the Linux recorder and are
    /// exec'd into as in a streamed run.
    pub(super) fn session(&self, node: NodePod) -> NodeSession {
        let NodePod {
            pod,
            container,
            command,
        } = node;
        if !self.streamless || runs_windows(&pod) {
            return NodeSession {
                pod,
                container,
                work: NodeWork::Exec(command.argv),
            };
        }
        let node_name = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default();
        let run = StreamlessRun {
            session_id: command
                .recording
                .clone()
                .unwrap_or_else(|| new_session_id(&node_name)),
            recorded: command.recording.is_some(),
            recorder_image: self.recorder_image.to_string(),
        };
        NodeSession {
            pod: streamless_pod(pod, &command.command, &run),
            container,
            work: NodeWork::OwnProcess,
        }
    }
}

fn runs_windows(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.os.as_ref())
        .is_some_and(|os| os.name == "windows")
}

/// Checks what can be checked before any request, and returns the nodes
/// named (none for `--all`).
pub(super) fn check(inputs: &RunInputs<'_>) -> Result<Vec<String>, AppError> {
    if inputs.command.is_empty() {
        return Err(usage(
            "a command is required on several nodes (there is no shell on many nodes at once): add -- COMMAND",
        ));
    }
    if inputs.session.persist.is_some() {
        return Err(usage(
            "--persist takes one node: a run's pods are deleted when it ends",
        ));
    }
    if inputs.session.keep {
        return Err(usage(
            "--keep takes one node: a run's pods are deleted when it ends",
        ));
    }
    if inputs.target.nodes.is_empty() && !inputs.target.all {
        return Err(usage(
            "no nodes given: name them (NODE NODE..., or a node set such as node-[01-20]), or pass --all (with -l SELECTOR for some)",
        ));
    }
    inputs.target.node_names()
}

/// Runs the command on every targeted node and prints it all.
/// `session_for` builds a node's pod and command, as the single-node
/// command would; the run execs the command or, stream-less, makes it the
/// pod's own process.
pub async fn run(
    app: &App,
    inputs: RunInputs<'_>,
    session_for: impl Fn(&ClusterContext, &TargetNode, &str) -> Result<NodePod, AppError> + Sync,
) -> Result<ExitStatus, AppError> {
    let names = check(&inputs)?;
    let target = inputs.target;
    let filter = target.fanout.filter();
    let (cluster, user, targets) = preflight(app, NodeUse::Session, async |cluster| {
        cluster
            .fanout_targets(&names, target.selector.as_deref(), &filter)
            .await
            .map_err(AppError::from)
    })
    .await?;
    if targets.nodes.is_empty() {
        return Err(nothing_to_run_on(
            target.selector.as_deref(),
            &targets.skipped,
        ));
    }

    // A pod the template refuses (a bad --custom) is refused for every
    // node: found on the first, before anything is created.
    session_for(&cluster, &targets.nodes[0], &user)?;
    // Each node's pod is built when its turn comes, so that memory follows
    // the fan-out width rather than the node count.
    let shape = RunShape {
        streamless: target.streamless(),
        recorder_image: &app.settings.settings.recorder_image,
    };
    let session_for_index = |i: usize| {
        session_for(&cluster, &targets.nodes[i], &user)
            .map(|node| shape.session(node))
            .map_err(|err| err.to_string())
    };
    let node_names: Vec<String> = targets.nodes.iter().map(|n| n.name.clone()).collect();
    let mode = Mode::from(&target.printed);
    let printer = Arc::new(Printer::new(mode, node_names.len()));
    let spec = FanoutSpec {
        run_id: random_suffix(),
        nodes: node_names.clone(),
        session_for: &session_for_index,
        fanout: target.fanout.fanout.map_or(DEFAULT_FANOUT, usize::from),
        start_timeout: inputs
            .session
            .pod
            .timeout
            .unwrap_or_else(|| app.settings.start_timeout()),
        command_timeout: target.fanout.command_timeout,
        what: inputs.what.clone(),
        back_off: !target.fanout.no_back_off,
    };
    let report = fanout::run(&cluster, spec, printer.clone()).await;
    printer.finish_progress();
    finish(&printer, &node_names, &targets.skipped, report?)
}

/// Why no node was left to run on: none matched `selector`, or every one
/// was skipped, by reason, with the flag that includes them.
pub fn nothing_to_run_on(selector: Option<&str>, skipped: &[(String, String)]) -> AppError {
    let what = match (selector, skipped.is_empty()) {
        (Some(selector), true) => format!("no node matches -l {selector}"),
        (None, true) => "no node to run on".to_string(),
        (selector, false) => {
            let reasons: Vec<String> = skipped_groups(skipped)
                .iter()
                .map(|(reason, nodes)| {
                    format!("{reason}: {}; {}", fold(nodes), include_hint(reason))
                })
                .collect();
            format!(
                "all {} nodes{} are skipped ({})",
                skipped.len(),
                selector
                    .as_ref()
                    .map(|s| format!(" matching -l {s}"))
                    .unwrap_or_default(),
                reasons.join("; ")
            )
        }
    };
    ClusterError::NoNodes { what }.into()
}

/// Prints what only the end can tell (gathered groups, the document, the
/// summary) and turns the run into toolbox's exit status.
pub fn finish(
    printer: &Printer,
    nodes: &[String],
    skipped: &[(String, String)],
    report: FanoutReport,
) -> Result<ExitStatus, AppError> {
    // Refused before any node ran (PodSecurity, RBAC): the error alone says it.
    let nothing_ran = !report
        .outcomes
        .iter()
        .any(|outcome| matches!(outcome, NodeOutcome::Exited(_)));
    if nothing_ran
        && report.left.is_none()
        && let Some(err) = report.aborted
    {
        return Err(err.into());
    }
    let summary = Summary::new(nodes, &report.outcomes, skipped);
    match &printer.mode {
        Mode::Stream => {}
        Mode::Gather => print_gathered(printer),
        Mode::Document(format) => {
            print_document(printer, nodes, &report.outcomes, &summary, format)?
        }
    }
    eprint!("{}", summary.render());
    if let Some(left) = &report.left {
        eprintln!(
            "warning: {}",
            crate::invocation::name_commands(&left.to_string())
        );
    }
    if let Some(err) = report.aborted {
        return Err(err.into());
    }
    if let Some(signal) = report.interrupted {
        return Err(ClusterError::Interrupted { signal }.into());
    }
    Ok(summary.exit_status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_to_run_on_says_why_and_how_to_include_the_skipped() {
        let target = Some("pool=gpu");
        assert_eq!(
            nothing_to_run_on(target, &[]).to_string(),
            "no node matches -l pool=gpu"
        );
        let skipped = vec![
            ("gpu-01".to_string(), "NotReady".to_string()),
            ("gpu-02".to_string(), "NotReady".to_string()),
            ("gpu-03".to_string(), "cordoned".to_string()),
        ];
        assert_eq!(
            nothing_to_run_on(target, &skipped).to_string(),
            "all 3 nodes matching -l pool=gpu are skipped (NotReady: gpu-[01-02]; --include-not-ready runs on them; cordoned: gpu-03; --include-cordoned runs on them)"
        );
    }
}
