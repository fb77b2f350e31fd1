//! What node-shell and debug-node share: finding the node, the audit facts,
//! the spinner, and running the session through pkg/cluster's lifecycle.

use std::io::IsTerminal;
use std::time::{Duration, SystemTime};

use indicatif::{ProgressBar, ProgressStyle};
use k8s_openapi::api::core::v1::{Node, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use toolbox_cluster::input::names::shell_word;
use toolbox_cluster::input::validation;
use toolbox_cluster::{
    ClusterContext, Progress, SessionSpec, WaitState, node_readiness, parse_node_arg,
};
use toolbox_podtemplate::{Audit, COMMAND_ANNOTATION, PodCommon, REASON_ANNOTATION};

use crate::commands::App;
use crate::exit::{AppError, ExitStatus, usage};
use crate::settings::ANNOTATIONS_BUDGET;
use crate::{complete, picker, values};
use clap_complete::engine::ArgValueCompleter;

/// Options every node session takes.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// How long the pod may live; it stops by itself after this [default: 1h]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_ttl)]
    pub ttl: Option<Duration>,

    /// How long to wait for the pod to start [default: 2m]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_duration)]
    pub timeout: Option<Duration>,

    /// Why you need the node; recorded on the pod for the audit trail
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Leave the pod running after the session, and print how to reach and remove it
    #[arg(long, conflicts_with = "persist")]
    pub keep: bool,

    /// Keep the pod for your next session on this node with the same image and flags,
    /// until it has been idle this long (never past --ttl); 0 ends it after this session
    #[arg(long, value_name = "DURATION", value_parser = crate::settings::parse_persist)]
    pub persist: Option<Duration>,

    /// A Secret to pull the image with (repeatable)
    #[arg(long = "image-pull-secret", value_name = "SECRET", value_parser = values::parse_object_name)]
    pub image_pull_secrets: Vec<String>,

    /// When to pull the image
    #[arg(long, value_name = "POLICY", value_parser = ["Always", "IfNotPresent", "Never"])]
    pub image_pull_policy: Option<String>,

    /// The pod's PriorityClass, e.g. system-node-critical for a node at its pod limit
    #[arg(long, value_name = "NAME", value_parser = values::parse_object_name)]
    pub priority_class: Option<String>,
}

impl SessionArgs {
    /// --persist, else the persist setting; `None` when neither is given.
    pub fn persist(&self, app: &App) -> Option<Duration> {
        self.persist.or_else(|| app.settings.persist())
    }

    /// What no one flag's parser can check, before any request: the pod's
    /// annotations (the annotations setting, --reason and the command they
    /// record) fit in what the API server takes.
    pub fn check(&self, app: &App, command: &[String]) -> Result<(), AppError> {
        let mut annotations = app.settings.settings.annotations.clone();
        if let Some(reason) = &self.reason {
            annotations.insert(REASON_ANNOTATION.into(), reason.clone());
        }
        annotations.insert(
            COMMAND_ANNOTATION.into(),
            serde_json::to_string(command).map_err(anyhow::Error::from)?,
        );
        validation::check_annotations(&annotations, ANNOTATIONS_BUDGET).map_err(|invalid| {
            usage(format!(
                "--reason and the command are recorded in the pod's annotations, with the annotations setting: {invalid}"
            ))
        })
    }
}

/// Which node: NODE, or a choice among the nodes `-l` matches, or the picker.
#[derive(Debug, Clone, clap::Args)]
pub struct NodeArgs {
    /// The node: NAME or node/NAME. Omitted on a terminal, a picker opens
    #[arg(value_name = "NODE", add = ArgValueCompleter::new(complete::nodes))]
    pub node: Option<String>,

    /// Choose among the nodes that match this label selector (the only match is used as is)
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "node", value_parser = values::parse_selector)]
    pub selector: Option<String>,
}

impl NodeArgs {
    /// The node NODE names, if given, checked to be a name a node can have.
    pub fn node_name(&self) -> Result<Option<&str>, AppError> {
        Ok(self.node.as_deref().map(parse_node_arg).transpose()?)
    }
}

/// Fails at once, before any request, when NODE names no possible node, or
/// when there is no NODE, no selector and no terminal to pick one on.
fn require_node_or_terminal(target: &NodeArgs) -> Result<(), AppError> {
    target.node_name()?;
    if target.node.is_none() && target.selector.is_none() && !picker::terminal_available() {
        return Err(usage(
            "no NODE given and no terminal to pick one; pass NODE or -l SELECTOR",
        ));
    }
    Ok(())
}

/// What a command does on the node it connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeUse {
    /// Creates a pod, execs into it and deletes it: the identity must be
    /// allowed all three before the pod is created.
    Session,
    /// Only reads and dry runs (compare), which report what is missing.
    Inspect,
}

/// Connects and finds the node, asking the server who we are at the same
/// time: the cluster, the user's name for the audit annotations, the node.
pub async fn connect_to_node(
    app: &App,
    target: &NodeArgs,
    node_use: NodeUse,
) -> Result<(ClusterContext, String, Node), AppError> {
    require_node_or_terminal(target)?;
    let cluster = app.connect().await?;
    toolbox_cluster::steps::step("connected");
    let version_check = cluster.start_version_check();
    let found = tokio::try_join!(
        async { cluster.identity().await.map_err(AppError::from) },
        resolve_node(&cluster, target),
        async {
            Ok(match node_use {
                NodeUse::Session => cluster.session_access_missing().await,
                NodeUse::Inspect => Vec::new(),
            })
        },
    );
    // Told even when the node is not found: an old server may be why.
    version_check.warn().await;
    let (user, node, missing) = found?;
    if !missing.is_empty() {
        return Err(cluster.session_not_allowed(&user, &missing).into());
    }
    toolbox_cluster::steps::step("identity and node known");
    Ok((cluster, user, node))
}

/// The node a session targets, checked to exist and to be Ready.
async fn resolve_node(cluster: &ClusterContext, target: &NodeArgs) -> Result<Node, AppError> {
    let name = match target.node_name()? {
        Some(name) => name.to_string(),
        None => picker::choose_node(cluster, target.selector.as_deref()).await?,
    };
    let node = cluster.get_node(&name).await?;
    if let Err(reason) = node_readiness(&node) {
        return Err(toolbox_cluster::ClusterError::NodeNotReady { name, reason }.into());
    }
    Ok(node)
}

/// The parts of a pod that do not depend on the subcommand.
pub struct CommonInputs<'a> {
    pub app: &'a App,
    pub session: &'a SessionArgs,
    pub node: &'a str,
    pub namespace: &'a str,
    pub image: String,
    pub user: String,
    pub subcommand: &'static str,
    pub command_line: Vec<String>,
}

impl CommonInputs<'_> {
    pub fn ttl(&self) -> Duration {
        self.session.ttl.unwrap_or_else(|| self.app.settings.ttl())
    }

    /// Whether the lifetime is toolbox's own default: no --ttl, and no ttl
    /// setting in a file or the environment. Only then may a namespace's
    /// maximum shorten it; a lifetime the user chose is theirs to change.
    pub fn ttl_is_default(&self) -> bool {
        self.session.ttl.is_none()
            && self.app.settings.source_of("ttl") == crate::settings::Source::Default
    }

    pub fn pod_common(&self) -> PodCommon {
        let settings = &self.app.settings.settings;
        let ttl = self.ttl();
        let expires_at = humantime::format_rfc3339_seconds(SystemTime::now() + ttl).to_string();
        let mut pull_secrets = settings.image_pull_secrets.clone();
        pull_secrets.extend(self.session.image_pull_secrets.iter().cloned());
        pull_secrets.dedup();
        PodCommon {
            name_suffix: random_suffix(),
            namespace: self.namespace.to_string(),
            node_name: self.node.to_string(),
            image: self.image.clone(),
            image_pull_policy: self
                .session
                .image_pull_policy
                .clone()
                .or_else(|| settings.image_pull_policy.clone()),
            image_pull_secrets: pull_secrets,
            extra_labels: settings.labels.clone(),
            extra_annotations: settings.annotations.clone(),
            resources: resources(&self.app.settings.settings.resources),
            priority_class: self
                .session
                .priority_class
                .clone()
                .or_else(|| settings.priority_class.clone()),
            ttl_seconds: ttl.as_secs() as i64,
            ttl_is_default: self.ttl_is_default(),
            audit: Audit {
                user: self.user.clone(),
                client_host: gethostname::gethostname().to_string_lossy().into_owned(),
                subcommand: self.subcommand.to_string(),
                command: self.command_line.clone(),
                reason: self.session.reason.clone(),
                expires_at,
            },
        }
    }
}

fn resources(r: &crate::settings::ResourceSettings) -> Option<ResourceRequirements> {
    let pairs = |cpu: &Option<String>, memory: &Option<String>| {
        let map: std::collections::BTreeMap<String, Quantity> = [("cpu", cpu), ("memory", memory)]
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), Quantity(v.clone()?))))
            .collect();
        (!map.is_empty()).then_some(map)
    };
    let requests = pairs(&r.cpu_request, &r.memory_request);
    let limits = pairs(&r.cpu_limit, &r.memory_limit);
    (requests.is_some() || limits.is_some()).then(|| ResourceRequirements {
        requests,
        limits,
        ..Default::default()
    })
}

/// Five lowercase letters and digits; the standard library's hasher keys
/// come from the OS's randomness.
pub fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(std::process::id() as u64);
    let mut n = hasher.finish();
    (0..5)
        .map(|_| {
            let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
            n /= ALPHABET.len() as u64;
            c
        })
        .collect()
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
) -> Result<ExitStatus, AppError> {
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

/// A spinner with a message on stderr, only when stderr is a terminal:
/// progress is for a person watching.
pub fn terminal_spinner() -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    })
}

/// A spinner on stderr while the pod starts, only when stderr is a terminal.
struct Spinner {
    bar: Option<ProgressBar>,
    prefix: String,
    announce: Option<Announce>,
}

/// The line to print once the session's pod exists (its name, and whether
/// it was a persisting pod reused), as kubectl debug prints its own.
pub type Announce = Box<dyn Fn(&str, bool) -> String + Send + Sync>;

impl Spinner {
    fn new(prefix: String, announce: Option<Announce>) -> Spinner {
        let bar = terminal_spinner();
        if let Some(bar) = &bar {
            bar.set_message(prefix.clone());
        }
        Spinner {
            bar,
            prefix,
            announce,
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Spinner {
    fn wants_events(&self) -> bool {
        self.bar.is_some()
    }

    fn waiting(&self, state: &WaitState) {
        if let Some(bar) = &self.bar {
            let mut message = format!("{}: {}", self.prefix, state.phase);
            if let Some(detail) = &state.detail {
                message.push_str(&format!(" ({detail})"));
            }
            if let Some(event) = &state.last_event {
                message.push_str(&format!(" - {event}"));
            }
            bar.set_message(message);
        }
    }

    fn started(&self) {
        self.finish();
    }

    fn pod_ready(&self, pod: &str, reused: bool) {
        if let Some(announce) = &self.announce {
            self.note(&announce(pod, reused));
        }
    }

    fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
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
