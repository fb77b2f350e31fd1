//! `toolbox compare [NODE]`: node-shell against debug-node on this cluster,
//! node and namespace, from the pods the two commands would create and what
//! the cluster says about them. Nothing is created.

use clap::Args;
use comfy_table::{ContentArrangement, Table, TableStyle};
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;
use similar::TextDiff;
use toolbox_cluster::client::versions::minor_version;
use toolbox_cluster::inspect::admission::BoundPolicy;
use toolbox_cluster::inspect::comparison::{
    ComparisonRow, DebugSupport, Environment, PodPair, Recommendation, Situation, Verdict,
    comparison_rows, debug_support, environment, pod_access, recommend,
};
use toolbox_cluster::inspect::logquery::LogQueryCheck;
use toolbox_cluster::inspect::recording::{self, RecordingCheck, Requirement};
use toolbox_cluster::inspect::review::{Permission, PermissionCheck, PodSecurityLabels, one_line};
use toolbox_cluster::{ClusterContext, Level, TargetNode};
use toolbox_podtemplate::{NodeOs, Profile};

use crate::app::App;
use crate::exit::{AppError, ExitStatus};
use crate::session::args::{NodeArgs, profile_parser};
use crate::session::pod::{DebugNodeOptions, NodeShellOptions, PodOptions};
use crate::session::preflight::{NodeUse, connect_to_node};

/// Compare node-shell and debug-node on this cluster, node and namespace.
///
/// Builds both pods with the code node-shell and debug-node use, sets them
/// side by side, and checks what this cluster allows: the server version,
/// your permissions (access reviews), admission (a server-side dry run of
/// each pod, so PodSecurity and webhooks give their verdict), the
/// namespace's PodSecurity labels, the node's environment, and whether the
/// kubelet's node log query would let toolbox logs read it without a pod.
/// Ends with a recommendation and the command to run. Creates nothing.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  toolbox compare node-1\n  toolbox compare node-1 -n team-a --profile baseline\n  toolbox compare node-1 --diff\n  toolbox compare -l kops.k8s.io/instancegroup=nodes -o json"
)]
pub struct CompareArgs {
    #[command(flatten)]
    pub target: NodeArgs,

    /// The image of both pods [default: the image and debug_image settings]
    #[arg(long, value_name = "IMAGE", value_parser = crate::values::parse_image)]
    pub image: Option<String>,

    /// debug-node's profile [default: the debug_profile setting, general]
    #[arg(long, value_name = "PROFILE", value_parser = profile_parser())]
    pub profile: Option<Profile>,

    /// Print a unified diff of the two pods' YAML, and nothing else
    #[arg(long, conflicts_with = "output")]
    pub diff: bool,

    /// Output format: the comparison as tables, or all of it as JSON or YAML
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = ["table", "json", "yaml"], default_value = "table")]
    pub output: String,
}

/// The permissions the two approaches need, as the access reviews ask them.
fn needed_permissions(namespace: &str) -> Vec<Permission> {
    vec![
        Permission::namespaced("create", "pods", namespace),
        Permission::namespaced("get", "pods", namespace),
        Permission::namespaced("delete", "pods", namespace),
        Permission::namespaced("create", "pods/exec", namespace),
        Permission::namespaced("create", "pods/attach", namespace),
        Permission::cluster("list", "nodes"),
    ]
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    context: String,
    namespace: String,
    node: String,
    user: String,
    profile: &'static str,
    pods: Pods,
    comparison: Vec<ComparisonRow>,
    checks: Checks,
    recommendation: Recommendation,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Pods {
    node_shell: Pod,
    debug_node: Pod,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Checks {
    server_version: String,
    /// What the matching kubectl's `debug node` offers.
    kubectl_debug: Option<DebugSupport>,
    permissions: Vec<PermissionCheck>,
    missing_permissions: Vec<String>,
    admission: Admission,
    namespace: NamespaceCheck,
    node_access_policy: NodeAccessPolicy,
    /// Whether sessions must be recorded here, and what that means for each
    /// approach.
    recording: RecordingCheck,
    /// Whether `toolbox logs` reads this node's logs without a pod.
    node_log_query: LogQueryCheck,
    environment: Environment,
}

/// The admission policies bound to the namespace (`toolbox policy`'s, and
/// any other), or why they could not be read.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeAccessPolicy {
    policies: Vec<BoundPolicy>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Admission {
    node_shell: Verdict,
    debug_node: Verdict,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NamespaceCheck {
    name: String,
    pod_security: Option<PodSecurityLabels>,
    /// Why the labels could not be read.
    error: Option<String>,
}

pub async fn run(args: CompareArgs, app: &App) -> Result<ExitStatus, AppError> {
    let (cluster, user, node) = connect_to_node(app, &args.target, NodeUse::Inspect).await?;
    let node_name = node.metadata.name.clone().unwrap_or_default();
    let namespace = cluster.namespace.clone();

    let (shell, debug) = pod_options(&args, app);
    let (shell_request, shell_pod) =
        shell.build(&TargetNode::from(&node), &namespace, user.clone());
    let shell_command = shell.exec_command(&shell_request).argv;
    let profile = debug.profile;
    let (_, debug_pod) = debug.build(&node_name, &namespace, user.clone())?;

    if args.diff {
        out!("{}", pod_diff(&shell_pod, &debug_pod)?);
        return Ok(ExitStatus::Success);
    }

    let checks = live_checks(&cluster, &node, &shell_pod, &debug_pod).await?;
    let comparison = comparison_rows(&PodPair {
        node_shell: &shell_pod,
        node_shell_command: &shell_command,
        debug_node: &debug_pod,
        profile,
        node: &node_name,
    });
    let missing: Vec<Permission> = checks
        .permissions
        .iter()
        .filter(|c| !c.allowed)
        .map(|c| c.permission.clone())
        .collect();
    let enforced = checks.namespace.pod_security.as_ref().map(|labels| {
        labels
            .enforce
            .as_deref()
            .and_then(Level::parse)
            .unwrap_or(Level::Privileged)
    });
    let (os_label, os_image) = toolbox_cluster::node_os_facts(&node);
    let debug_access = pod_access(&debug_pod);
    let recommendation = recommend(&Situation {
        node: &node_name,
        namespace: &namespace,
        profile,
        image: args.image.as_deref(),
        context: app.global.single_context()?,
        node_os_windows: NodeOs::detect(os_label, os_image) == NodeOs::Windows,
        node_shell: &checks.admission.node_shell,
        debug_node: &checks.admission.debug_node,
        debug_node_access: &debug_access,
        missing: &missing,
        enforced,
        recording_required: matches!(checks.recording.requirement, Requirement::Required { .. }),
    });
    let report = Report {
        context: cluster.context.clone(),
        namespace,
        node: node_name,
        user,
        profile: profile.name(),
        pods: Pods {
            node_shell: shell_pod,
            debug_node: debug_pod,
        },
        comparison,
        checks,
        recommendation,
    };
    match args.output.as_str() {
        format @ ("json" | "yaml") => out!("{}", crate::output::document(&report, format)?),
        _ => out!("{}", render(&report)),
    }
    Ok(ExitStatus::Success)
}

/// The pods node-shell and debug-node would create for a session without
/// flags, but for compare's --image and --profile.
fn pod_options(args: &CompareArgs, app: &App) -> (NodeShellOptions, DebugNodeOptions) {
    let pod = PodOptions::from_settings(&app.settings);
    let shell = NodeShellOptions::new(pod.clone(), args.image.clone(), &app.settings);
    let debug = DebugNodeOptions::new(pod, args.image.clone(), args.profile, &app.settings);
    (shell, debug)
}

fn pod_diff(node_shell: &Pod, debug_node: &Pod) -> Result<String, AppError> {
    let left = serde_yaml::to_string(node_shell).map_err(anyhow::Error::from)?;
    let right = serde_yaml::to_string(debug_node).map_err(anyhow::Error::from)?;
    Ok(TextDiff::from_lines(&left, &right)
        .unified_diff()
        .context_radius(3)
        .header("node-shell", "debug-node")
        .to_string())
}

/// Everything compare asks the cluster, sent together. Only reads and
/// dry runs.
async fn live_checks(
    cluster: &ClusterContext,
    node: &k8s_openapi::api::core::v1::Node,
    shell_pod: &Pod,
    debug_pod: &Pod,
) -> Result<Checks, AppError> {
    let permissions = needed_permissions(&cluster.namespace);
    let node_name = node.metadata.name.clone().unwrap_or_default();
    let (version, reviews, labels, shell_dry_run, debug_dry_run, policies, log_query) = tokio::join!(
        cluster.server_version(),
        cluster.check_permissions(&permissions),
        cluster.pod_security_labels(),
        cluster.dry_run_create(shell_pod),
        cluster.dry_run_create(debug_pod),
        cluster.bound_policies(),
        cluster.log_query_check(&node_name),
    );
    // An old server was warned about when compare connected (connect_to_node).
    let (version, reviews, node_log_query) = (version?, reviews?, log_query?);
    let may_create = reviews
        .iter()
        .find(|c| c.permission == permissions[0])
        .is_some_and(|c| c.allowed);
    let (pod_security, error) = match labels {
        Ok(labels) => (Some(labels), None),
        Err(err) => (None, Some(err.to_string())),
    };
    let admission = Admission {
        node_shell: Verdict::from_dry_run(&shell_dry_run?, may_create),
        debug_node: Verdict::from_dry_run(&debug_dry_run?, may_create),
    };
    let node_access_policy = match policies {
        Ok(policies) => NodeAccessPolicy {
            policies,
            error: None,
        },
        Err(err) => NodeAccessPolicy {
            policies: Vec::new(),
            error: Some(err.to_string()),
        },
    };
    let requirement = recording::requirement(
        match &node_access_policy.error {
            Some(error) => Err(error.as_str()),
            None => Ok(&node_access_policy.policies),
        },
        &[&admission.node_shell, &admission.debug_node],
    );
    // A recorded toolbox session works where either of its pods is admitted.
    let toolbox = if admission.node_shell.is_admitted() {
        &admission.node_shell
    } else {
        &admission.debug_node
    };
    let recording = recording::consequences(requirement, toolbox);
    Ok(Checks {
        server_version: version.git_version.clone(),
        kubectl_debug: minor_version(&version).map(debug_support),
        missing_permissions: reviews
            .iter()
            .filter(|c| !c.allowed)
            .map(|c| c.permission.short())
            .collect(),
        permissions: reviews,
        admission,
        namespace: NamespaceCheck {
            name: cluster.namespace.clone(),
            pod_security,
            error,
        },
        node_access_policy,
        recording,
        node_log_query,
        environment: environment(node),
    })
}

/// What the admission policies bound to the namespace enforce, in words.
fn describe_policy(found: &NodeAccessPolicy) -> String {
    if let Some(error) = &found.error {
        return format!("unknown ({})", one_line(error));
    }
    if found.policies.is_empty() {
        return "none: node-access pods here live as long as they ask (kubectl debug's until deleted) and name whoever the client says; toolbox policy prints one".to_string();
    }
    found
        .policies
        .iter()
        .map(|p| {
            let enforces = match (p.kind, p.default_ttl_seconds, p.max_ttl_seconds) {
                _ if p.recorder_image.is_some() => format!(
                    "recording required (recorder {}): an exec only through the recorder, no attach, node-access pods that carry it",
                    p.recorder_image.as_deref().unwrap_or_default()
                ),
                ("MutatingAdmissionPolicy", Some(default), _) => format!(
                    "lifetime {} when none is asked for; requested-by set by the API server",
                    toolbox_policy::ttl_words(default)
                ),
                ("ValidatingAdmissionPolicy", _, Some(max)) => format!(
                    "lifetime {} at most; one node by spec.nodeName; requested-by unchangeable",
                    toolbox_policy::ttl_words(max)
                ),
                _ => "not toolbox's: see its validations".to_string(),
            };
            format!("{} {}: {enforces}", p.kind, p.name)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether recording is required, and what that means for each approach,
/// one approach a line.
fn describe_recording(check: &RecordingCheck) -> String {
    let head = match &check.requirement {
        Requirement::Required { policy, .. } => format!(
            "required{}",
            policy
                .as_ref()
                .map(|p| format!(" by ValidatingAdmissionPolicy {p}"))
                .unwrap_or_else(|| " (the dry run was refused for it)".into())
        ),
        Requirement::NotRequired => "not required".into(),
        Requirement::Unknown { why } => format!("unknown ({})", one_line(why)),
    };
    std::iter::once(head)
        .chain(
            check
                .approaches
                .iter()
                .map(|c| format!("{}: {}", c.approach, c.why)),
        )
        .collect::<Vec<_>>()
        .join("\n")
}

/// Cells wrap to the terminal's width, or to COLUMNS when stdout is not a
/// terminal; otherwise lines are as long as they need to be.
fn table(header: Option<[&str; 3]>) -> Table {
    let mut table = Table::new();
    table
        .load_style(TableStyle::new())
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !table.is_tty()
        && let Some(width) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
    {
        table.set_width(width);
    }
    if let Some(header) = header {
        table.set_header(header);
    }
    table
}

fn pad(mut table: Table) -> String {
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    table.trim_fmt()
}

fn render(report: &Report) -> String {
    let checks = &report.checks;
    let mut out = format!(
        "Comparing on node {} in namespace {} (context {}, as {}).\n\n",
        report.node, report.namespace, report.context, report.user
    );
    let mut side_by_side = table(Some([
        "",
        "NODE-SHELL",
        &format!("DEBUG-NODE ({})", report.profile),
    ]));
    for row in &report.comparison {
        side_by_side.add_row([row.point, &row.node_shell, &row.debug_node]);
    }
    out.push_str(&pad(side_by_side));
    out.push_str("\n\nLIVE CHECKS\n");

    let mut live = table(None);
    let support = match &checks.kubectl_debug {
        Some(s) => format!(
            "{}: kubectl 1.{} debug has profiles {}; --custom {}; default profile {}",
            checks.server_version,
            s.kubectl_minor,
            s.profiles.join(", "),
            if s.custom { "yes" } else { "no" },
            s.default_profile
        ),
        None => format!("{} (not a Kubernetes 1.x version)", checks.server_version),
    };
    live.add_row(["server version", &support]);
    let granted: Vec<String> = checks
        .permissions
        .iter()
        .filter(|c| c.allowed)
        .map(|c| c.permission.short())
        .collect();
    let permissions = if checks.missing_permissions.is_empty() {
        format!("all granted: {}", granted.join(", "))
    } else {
        format!(
            "missing: {}\ngranted: {}",
            checks.missing_permissions.join(", "),
            if granted.is_empty() {
                "none".to_string()
            } else {
                granted.join(", ")
            }
        )
    };
    live.add_row(["permissions", &permissions]);
    let verdict = |v: &Verdict| match v {
        Verdict::Admitted => "admitted".to_string(),
        Verdict::Rejected { message } => format!("rejected: {}", one_line(message)),
        Verdict::NotChecked { why } => format!("not checked: {}", one_line(why)),
    };
    live.add_row([
        "admission (dry run)",
        &format!(
            "node-shell: {}\ndebug-node: {}",
            verdict(&checks.admission.node_shell),
            verdict(&checks.admission.debug_node)
        ),
    ]);
    let namespace = match (&checks.namespace.pod_security, &checks.namespace.error) {
        (Some(labels), _) => {
            let mode = |m: &Option<String>| m.clone().unwrap_or_else(|| "-".into());
            format!(
                "{}: PodSecurity enforce {}, audit {}, warn {}",
                checks.namespace.name,
                mode(&labels.enforce),
                mode(&labels.audit),
                mode(&labels.warn)
            )
        }
        (None, Some(error)) => format!("{}: unknown ({error})", checks.namespace.name),
        (None, None) => checks.namespace.name.clone(),
    };
    live.add_row(["namespace", &namespace]);
    live.add_row([
        "node-access policy",
        &describe_policy(&checks.node_access_policy),
    ]);
    live.add_row(["recording", &describe_recording(&checks.recording)]);
    live.add_row(["node log query", &checks.node_log_query.describe()]);
    let env = &checks.environment;
    let kops = match &env.kops_instance_group {
        Some(group) => format!("kops instance group {group}"),
        None => "not kops".into(),
    };
    let cloud = match (&env.cloud_provider, &env.provider_id) {
        (Some(cloud), Some(id)) => format!("cloud {cloud} ({id})"),
        _ => "cloud unknown (no spec.providerID)".into(),
    };
    live.add_row([
        "environment",
        &format!(
            "{kops}; {cloud}; OS {} ({}), kernel {}, {}",
            env.os, env.os_image, env.kernel, env.container_runtime
        ),
    ]);
    out.push_str(&pad(live));

    let advice = &report.recommendation;
    out.push_str("\n\nRECOMMENDATION\n");
    out.push_str(&advice.summary);
    out.push('\n');
    if let Some(command) = &advice.command {
        out.push_str(&format!("  Run: {command}\n"));
    }
    for alternative in &advice.alternatives {
        out.push_str(&format!("  - {alternative}\n"));
    }
    out.push_str("\nSECURITY NOTES\n");
    for note in &advice.security_notes {
        out.push_str(&format!("  - {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: CompareArgs,
    }

    fn parse(words: &[&str]) -> Result<CompareArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("compare").chain(words.iter().copied()))
            .map(|cli| cli.args)
    }

    #[test]
    fn diff_and_structured_output_exclude_each_other() {
        assert!(parse(&["n1", "--diff"]).unwrap().diff);
        assert!(parse(&["n1", "--diff", "-o", "json"]).is_err());
        let args = parse(&[
            "n1",
            "--profile",
            "netadmin",
            "--image",
            "nicolaka/netshoot",
        ])
        .unwrap();
        assert_eq!(args.profile, Some(Profile::Netadmin));
        assert_eq!(args.output, "table");
    }

    #[test]
    fn the_needed_permissions_are_the_ones_the_issue_names() {
        let names: Vec<String> = needed_permissions("ns")
            .iter()
            .map(Permission::short)
            .collect();
        assert_eq!(
            names,
            [
                "create pods",
                "get pods",
                "delete pods",
                "create pods/exec",
                "create pods/attach",
                "list nodes"
            ]
        );
    }
}
