//! `toolbox policy`: prints the RBAC and admission policies that make node
//! access through a namespace bounded and attributable (and, with
//! `--require-recording`, recorded), for `kubectl apply -f -`. It creates
//! nothing itself.

use std::time::Duration;

use clap::Args;
use toolbox_policy::{
    MUTATING_POLICY_SINCE_MINOR, PolicyRequest, Recording, audit_policy, render_json, render_yaml,
};

use crate::app::App;
use crate::exit::{AppError, ExitStatus, usage};
use crate::values;

/// Print RBAC and admission policies that make node access through a namespace
/// bounded and attributable, for every tool (pipe to kubectl apply -f -).
///
/// The namespace is -n, one of its own. Nothing is created: review
/// the output, then apply it; `kubectl delete -f` of the same output removes it.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  toolbox policy -n node-access --group oncall | kubectl apply -f -\n  toolbox policy -n node-access --group oncall --max-ttl 30m --default-ttl 15m\n  toolbox policy -n node-access --group oncall --require-recording | kubectl apply -f -\n  toolbox policy --audit-policy > /etc/kubernetes/audit-policy.yaml"
)]
pub struct PolicyArgs {
    /// The group allowed node access through the namespace
    #[arg(long, value_name = "GROUP", required_unless_present = "audit_policy", value_parser = values::parse_group)]
    pub group: Option<String>,

    /// The longest lifetime a node-access pod may ask for [default: 2h, or --default-ttl if longer]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_ttl)]
    pub max_ttl: Option<Duration>,

    /// The lifetime given to a node-access pod that asks for none (kubectl debug's)
    /// [default: 1h, or --max-ttl if shorter]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_ttl)]
    pub default_ttl: Option<Duration>,

    /// A group allowed to find and delete leftover node-debug pods in every namespace
    #[arg(long, value_name = "GROUP", value_parser = values::parse_group)]
    pub cleanup_group: Option<String>,

    /// Require every session in the namespace to be recorded: exec only through
    /// the recorder, no attach, and node-access pods that carry it (refuses
    /// kubectl debug node/, kubectl-node-shell and toolbox --no-record there)
    #[arg(long, conflicts_with = "audit_policy")]
    pub require_recording: bool,

    /// The image whose recorder the pods must carry [default: the recorder_image
    /// setting]
    #[arg(long, value_name = "IMAGE", requires = "require_recording", value_parser = values::parse_image)]
    pub recorder_image: Option<String>,

    /// Print only the API server's audit Policy for node sessions
    #[arg(long)]
    pub audit_policy: bool,

    /// The Kubernetes release to print for, e.g. 1.35 (default: ask the cluster)
    #[arg(long, value_name = "VERSION", value_parser = parse_kube_minor)]
    pub kube_version: Option<u32>,

    /// Output format
    #[arg(short = 'o', long, value_name = "FORMAT", default_value = "yaml", value_parser = ["yaml", "json"])]
    pub output: String,
}

pub async fn run(args: PolicyArgs, app: &App) -> Result<ExitStatus, AppError> {
    if args.audit_policy {
        let policy = audit_policy();
        let text = match args.output.as_str() {
            "json" => serde_json::to_string_pretty(&policy).map_err(anyhow::Error::from)? + "\n",
            _ => serde_yaml::to_string(&policy).map_err(anyhow::Error::from)?,
        };
        out!("{text}");
        return Ok(ExitStatus::Success);
    }
    let mut request = request(&args, app)?;
    let server = match args.kube_version {
        Some(minor) => format!("Kubernetes 1.{minor}"),
        None => ask_server(app, &mut request).await,
    };
    if let Some(minor) = args.kube_version {
        request.mutating_policies = minor >= MUTATING_POLICY_SINCE_MINOR;
    }
    if let Some(note) = request.fallback_note(&server) {
        eprintln!("note: {note}");
    }
    let text = match args.output.as_str() {
        "json" => render_json(&request),
        _ => render_yaml(&request),
    };
    out!("{text}");
    Ok(ExitStatus::Success)
}

fn request(args: &PolicyArgs, app: &App) -> Result<PolicyRequest, AppError> {
    // Only -n: a namespace setting meant for sessions (often kube-system)
    // must not become the node-access namespace by accident.
    let namespace = app.global.namespace.clone().ok_or_else(|| {
        usage("name the node-access namespace with -n NAMESPACE, a namespace of its own such as node-access")
    })?;
    if namespace.starts_with("kube-") || namespace == "default" {
        return Err(usage(format!(
            "{namespace} is shared with the cluster's own pods, and the policy bounds every host-access pod in its namespace and refuses a controller's (a DaemonSet's too): use a namespace of its own, such as node-access"
        )));
    }
    let (max_ttl, default_ttl) = lifetimes(args.max_ttl, args.default_ttl).map_err(usage)?;
    Ok(PolicyRequest {
        namespace,
        group: args.group.clone().unwrap_or_default(),
        cleanup_group: args.cleanup_group.clone(),
        max_ttl_seconds: max_ttl.as_secs() as i64,
        default_ttl_seconds: default_ttl.as_secs() as i64,
        mutating_policies: true,
        recording: recording(args, &app.settings.settings.recorder_image),
    })
}

/// What --require-recording adds, with the recorder image the pods must
/// carry: --recorder-image, else `setting` (the recorder_image setting),
/// the one toolbox's own pods get, so that the admin's toolbox and the
/// members' agree by default.
fn recording(args: &PolicyArgs, setting: &str) -> Option<Recording> {
    args.require_recording.then(|| Recording {
        recorder_image: args
            .recorder_image
            .clone()
            .unwrap_or_else(|| setting.to_string()),
    })
}

/// The maximum lifetime when --max-ttl is not given.
const DEFAULT_MAX_TTL: Duration = Duration::from_secs(2 * 3600);
/// The default lifetime when --default-ttl is not given.
const DEFAULT_DEFAULT_TTL: Duration = Duration::from_secs(3600);

/// The maximum and the default lifetime. A value the admin did not give
/// follows the one they did, so that it never makes theirs an error: the
/// default is at most the maximum, and the maximum at least the default.
/// Only two given values can disagree.
fn lifetimes(
    max: Option<Duration>,
    default: Option<Duration>,
) -> Result<(Duration, Duration), String> {
    match (max, default) {
        (Some(max), Some(default)) if default > max => Err(format!(
            "--default-ttl {} is longer than --max-ttl {}: the default must be allowed",
            humantime::format_duration(default),
            humantime::format_duration(max)
        )),
        (Some(max), Some(default)) => Ok((max, default)),
        (Some(max), None) => Ok((max, DEFAULT_DEFAULT_TTL.min(max))),
        (None, Some(default)) => Ok((DEFAULT_MAX_TTL.max(default), default)),
        (None, None) => Ok((DEFAULT_MAX_TTL, DEFAULT_DEFAULT_TTL)),
    }
}

/// Which objects the cluster can take: its release decides whether
/// MutatingAdmissionPolicy exists. A cluster that cannot be asked gets the
/// objects for the newest releases, and a note that says how to choose.
async fn ask_server(app: &App, request: &mut PolicyRequest) -> String {
    let asked = async {
        let cluster = app.connect().await?;
        Ok::<_, AppError>(cluster.server_version().await?)
    };
    match tokio::time::timeout(Duration::from_secs(5), asked).await {
        Ok(Ok(info)) => {
            if let Some(warning) =
                toolbox_cluster::client::versions::unsupported_server_warning(&info)
            {
                eprintln!("warning: {warning}");
            }
            request.mutating_policies = toolbox_cluster::client::versions::minor_version(&info)
                .is_none_or(|minor| minor >= MUTATING_POLICY_SINCE_MINOR);
            format!("Kubernetes {}", info.git_version)
        }
        Ok(Err(err)) => {
            eprintln!(
                "note: printing for Kubernetes 1.{MUTATING_POLICY_SINCE_MINOR} or newer, as the cluster's release is unknown ({}); pass --kube-version for an older one",
                one_line(&err.to_string())
            );
            "the cluster".into()
        }
        Err(_) => {
            eprintln!(
                "note: printing for Kubernetes 1.{MUTATING_POLICY_SINCE_MINOR} or newer, as the cluster did not say its release within 5s; pass --kube-version for an older one"
            );
            "the cluster".into()
        }
    }
}

fn one_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

/// "1.35", "v1.35" or "v1.35.4": the minor, 35.
fn parse_kube_minor(text: &str) -> Result<u32, String> {
    let bare = text.strip_prefix('v').unwrap_or(text);
    let mut parts = bare.split('.');
    match (parts.next(), parts.next().map(str::parse::<u32>)) {
        (Some("1"), Some(Ok(minor))) if parts.clone().count() <= 1 => Ok(minor),
        _ => Err(format!(
            "{text} is not a Kubernetes release such as 1.35 or v1.35.4"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifetime_not_given_follows_the_one_given() {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(lifetimes(None, None), Ok((minutes(120), minutes(60))));
        assert_eq!(
            lifetimes(Some(minutes(30)), None),
            Ok((minutes(30), minutes(30)))
        );
        assert_eq!(
            lifetimes(Some(minutes(300)), None),
            Ok((minutes(300), minutes(60)))
        );
        assert_eq!(
            lifetimes(None, Some(minutes(180))),
            Ok((minutes(180), minutes(180)))
        );
        assert_eq!(
            lifetimes(None, Some(minutes(15))),
            Ok((minutes(120), minutes(15)))
        );
        assert_eq!(
            lifetimes(Some(minutes(30)), Some(minutes(20))),
            Ok((minutes(30), minutes(20)))
        );
        assert_eq!(
            lifetimes(Some(minutes(60)), Some(minutes(180))),
            Err("--default-ttl 3h is longer than --max-ttl 1h: the default must be allowed".into())
        );
    }

    use crate::settings::DEFAULT_RECORDER_IMAGE;

    fn parse(words: &[&str]) -> Result<PolicyArgs, clap::Error> {
        use clap::Parser;
        #[derive(Debug, Parser)]
        struct Cli {
            #[command(flatten)]
            args: PolicyArgs,
        }
        Cli::try_parse_from(std::iter::once("policy").chain(words.iter().copied()))
            .map(|cli| cli.args)
    }

    #[test]
    fn recording_is_asked_for_with_its_image_or_the_default() {
        let plain = parse(&["--group", "g"]).unwrap();
        assert_eq!(recording(&plain, DEFAULT_RECORDER_IMAGE), None);
        let required = parse(&["--group", "g", "--require-recording"]).unwrap();
        assert_eq!(
            recording(&required, DEFAULT_RECORDER_IMAGE),
            Some(Recording {
                recorder_image: DEFAULT_RECORDER_IMAGE.into()
            })
        );
        let pinned = parse(&[
            "--group",
            "g",
            "--require-recording",
            "--recorder-image",
            "registry.example/recorder:v1",
        ])
        .unwrap();
        assert_eq!(
            recording(&pinned, DEFAULT_RECORDER_IMAGE)
                .map(|r| r.recorder_image)
                .as_deref(),
            Some("registry.example/recorder:v1")
        );
        // An image without the requirement would pin nothing: a usage error.
        let alone = parse(&["--group", "g", "--recorder-image", "r:v1"]).unwrap_err();
        assert_eq!(
            alone.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        let bad = parse(&[
            "--group",
            "g",
            "--require-recording",
            "--recorder-image",
            "",
        ]);
        assert!(bad.is_err());
        assert!(parse(&["--audit-policy", "--require-recording"]).is_err());
    }

    #[test]
    fn kube_versions_read_as_their_minor() {
        assert_eq!(parse_kube_minor("1.35"), Ok(35));
        assert_eq!(parse_kube_minor("v1.35"), Ok(35));
        assert_eq!(parse_kube_minor("v1.32.13"), Ok(32));
        for bad in ["2.0", "35", "1.x", "v1.35.4.1", ""] {
            assert!(parse_kube_minor(bad).is_err(), "{bad}");
        }
    }
}
