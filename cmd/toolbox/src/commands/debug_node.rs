//! `toolbox debug-node [NODE] [-- COMMAND...]`: the pod `kubectl debug node/NODE`
//! creates, for every debug profile, run as a session that cleans up after itself.

use std::path::{Path, PathBuf};

use clap::Args;
use k8s_openapi::api::core::v1::Container;

use toolbox_cluster::{SessionSpec, terminal::stdin_is_terminal};
use toolbox_podtemplate::{Profile, parse_custom_container};

use crate::app::App;
use crate::contexts::ContextArgs;
use crate::exit::{AppError, ExitStatus, usage};
use crate::session::args::{SessionArgs, TargetArgs, profile_parser};
use crate::session::clusters;
use crate::session::fanout::{NodePod, RunInputs};
use crate::session::pod::{DEBUG_CONTAINER, DebugNodeOptions, PodOptions, custom_error};
use crate::session::preflight::{NodeUse, connect_to_node};
use crate::session::single;
use crate::session::spinner::Announce;
use crate::values;

/// Debug a node with the pod `kubectl debug node/NODE --profile P` creates, and
/// delete it when the session ends.
///
/// The shell or COMMAND runs in the debug container, with the privileges the
/// profile gives. The pod is deleted when the session ends, however it ends,
/// and stops by itself after --ttl even if toolbox is killed.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  toolbox debug-node node-1\n  toolbox debug-node node/node-1 --profile sysadmin --chroot -- journalctl -u kubelet -n 50\n  toolbox debug-node node-1 --profile netadmin --image nicolaka/netshoot -- ip addr\n  toolbox debug-node --all -l pool=gpu --profile sysadmin --chroot -- nvidia-smi -L"
)]
pub struct DebugNodeArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    #[command(flatten)]
    pub contexts: ContextArgs,

    /// The command to run instead of a login shell
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<String>,

    /// The debug container's image [default: the debug_image setting, busybox]
    #[arg(long, value_name = "IMAGE", value_parser = values::parse_image)]
    pub image: Option<String>,

    /// The privileges the debug container gets, as kubectl's debug profiles
    /// [default: the debug_profile setting, general]
    #[arg(long, value_name = "PROFILE", value_parser = profile_parser())]
    pub profile: Option<Profile>,

    /// Environment variables to set in the container: NAME=VALUE (repeatable;
    /// A=1,B=2 sets two, as in kubectl)
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_env)]
    pub env: Vec<EnvAssignments>,

    /// The debug container's name
    #[arg(short = 'c', long, value_name = "NAME", default_value = DEBUG_CONTAINER, value_parser = parse_container_name)]
    pub container: String,

    /// Do not print the "Creating debugging pod" line
    #[arg(short, long)]
    pub quiet: bool,

    /// A partial container spec (JSON or YAML) merged onto the profile's
    /// container, as kubectl's --custom
    #[arg(long, value_name = "FILE")]
    pub custom: Option<PathBuf>,

    /// Run the shell or COMMAND chrooted into the node's / (mounted at /host)
    #[arg(long)]
    pub chroot: bool,

    #[command(flatten)]
    pub session: SessionArgs,
}

/// The `NAME=VALUE` pairs of one `--env` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvAssignments(Vec<(String, String)>);

pub async fn run(args: DebugNodeArgs, app: &App) -> Result<ExitStatus, AppError> {
    args.session.check(app, &args.command)?;
    let options = pod_options(&args, app)?;
    let profile = options.profile;
    if let Some(warning) = profile.deprecation_warning() {
        eprintln!("warning: {warning}");
    }

    if args.target.is_run() || args.contexts.several(app) {
        let inputs = RunInputs {
            target: &args.target,
            session: &args.session,
            command: &args.command,
            contexts: &args.contexts,
            what: format!("debug-node --profile {profile}"),
        };
        return clusters::fan_out(app, inputs, |cluster, node, user| {
            let (request, pod) = options.build(&node.name, &cluster.namespace, user.to_string())?;
            Ok(NodePod {
                pod,
                container: options.container.clone(),
                command: options.exec_command(&request),
            })
        })
        .await;
    }
    let (cluster, user, node) =
        connect_to_node(app, &args.target.single(), NodeUse::Session).await?;
    let node_name = node.metadata.name.clone().unwrap_or_default();
    let (request, pod) = options.build(&node_name, &cluster.namespace, user)?;

    // kubectl prints this line to stdout, once the pod exists; here stdout
    // is the command's own.
    let announce: Option<Announce> = (!args.quiet).then(|| {
        let (container, node) = (args.container.clone(), node_name.clone());
        Box::new(move |pod: &str, reused: bool| {
            let verb = if reused { "Reusing" } else { "Creating" };
            format!("{verb} debugging pod {pod} with container {container} on node {node}.")
        }) as Announce
    });
    let command = options.exec_command(&request);
    // A recording id is used once, so the hint for reaching a kept pod
    // again makes a recording of its own.
    let again = options.exec_command(&request).argv;
    let reach_again = single::kubectl_exec_hint(&cluster, &args.container, &again);
    let spec = SessionSpec {
        pod,
        container: args.container.clone(),
        command: command.argv,
        tty: stdin_is_terminal(),
        start_timeout: args
            .session
            .pod
            .timeout
            .unwrap_or_else(|| app.settings.start_timeout()),
        keep: args.session.keep,
        what: format!("debug-node --profile {profile}"),
        persist: args.session.persist(app),
        early_exec: toolbox_cluster::nodes::kubelet_takes_exec_directly(&node),
    };
    single::run(
        &cluster,
        spec,
        &node_name,
        reach_again,
        announce,
        command.recording,
    )
    .await
}

/// The pod options these flags and the settings give, resolved once for
/// every node the command runs on: --chroot checked against the profile,
/// and the --custom file read.
fn pod_options(args: &DebugNodeArgs, app: &App) -> Result<DebugNodeOptions, AppError> {
    let pod = PodOptions::resolve(&args.session, &app.settings);
    let options = DebugNodeOptions::new(pod, args.image.clone(), args.profile, &app.settings);
    if args.chroot && !options.profile.allows_chroot() {
        return Err(usage(chroot_refusal(options.profile)));
    }
    let custom = match &args.custom {
        Some(path) => Some((path.clone(), read_custom(path)?)),
        None => None,
    };
    Ok(DebugNodeOptions {
        container: args.container.clone(),
        env: merge_env(&args.env),
        custom,
        chroot: args.chroot,
        command: args.command.clone(),
        ..options
    })
}

/// Names a profile that can, since the error is only useful with a way out.
fn chroot_refusal(profile: Profile) -> String {
    format!(
        "--chroot needs the node's / mounted at /host and CAP_SYS_CHROOT, which profile \
         {profile} does not give; use --profile general, or --profile sysadmin for a \
         privileged container"
    )
}

fn read_custom(path: &Path) -> Result<Container, AppError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| usage(format!("cannot read --custom {}: {err}", path.display())))?;
    parse_custom_container(&text).map_err(|err| custom_error(path, err))
}

/// One `--env` value, read the way kubectl's (pflag's string-to-string) reads
/// it: with a single `=` it is one pair whose value may hold commas; with more,
/// it is a comma-separated (CSV) list of pairs. Names must not be empty.
fn parse_env(text: &str) -> Result<EnvAssignments, String> {
    let items = if text.matches('=').count() <= 1 {
        vec![text.trim_matches('"').to_string()]
    } else {
        csv_fields(text)?
    };
    items
        .into_iter()
        .map(|item| match item.split_once('=') {
            Some(("", _)) => Err(format!("{item:?} has no NAME: expected NAME=VALUE")),
            Some((name, value)) => {
                toolbox_cluster::input::validation::check_env_name(name)
                    .map_err(|e| format!("{item:?}: {e}"))?;
                Ok((name.to_string(), value.to_string()))
            }
            None => Err(format!("{item:?} must be formatted as NAME=VALUE")),
        })
        .collect::<Result<_, _>>()
        .map(EnvAssignments)
}

/// One CSV record: fields split at commas; a field in double quotes may hold
/// commas, and `""` inside it is a quote.
fn csv_fields(text: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(format!("{text:?} has an unclosed quote")),
                }
            }
            if !matches!(chars.peek(), None | Some(',')) {
                return Err(format!("{text:?} has text after a closing quote"));
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                field.push(c);
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

/// All `--env` pairs in the order their names first appear; a name given
/// again takes the later value, as kubectl's map does. (kubectl then orders
/// them at random; toolbox keeps the command line's order.)
fn merge_env(flags: &[EnvAssignments]) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = Vec::new();
    for (name, value) in flags.iter().flat_map(|flag| flag.0.iter()) {
        match merged.iter_mut().find(|(known, _)| known == name) {
            Some(existing) => existing.1 = value.clone(),
            None => merged.push((name.clone(), value.clone())),
        }
    }
    merged
}

/// A container name is a DNS-1123 label; checked here so that the API server
/// does not refuse the pod after the node lookups.
fn parse_container_name(text: &str) -> Result<String, String> {
    let valid_chars = text
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let valid_ends = text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric());
    if text.len() <= 63 && valid_chars && valid_ends {
        Ok(text.to_string())
    } else {
        Err("must be 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: DebugNodeArgs,
        // --contexts conflicts with the global --context.
        #[command(flatten)]
        global: crate::app::GlobalArgs,
    }

    fn parse(words: &[&str]) -> Result<DebugNodeArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("debug-node").chain(words.iter().copied()))
            .map(|cli| cli.args)
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_leave_profile_and_image_to_the_settings() {
        let args = parse(&["node-1"]).unwrap();
        assert_eq!(args.target.nodes, ["node-1"]);
        assert_eq!(args.profile, None);
        assert_eq!(args.image, None);
        assert_eq!(args.container, "debugger");
        assert!(!args.chroot && !args.quiet && args.command.is_empty());
    }

    #[test]
    fn every_profile_name_parses_and_others_are_refused() {
        for profile in Profile::ALL {
            let args = parse(&["n", "--profile", profile.name()]).unwrap();
            assert_eq!(args.profile, Some(profile));
        }
        let err = parse(&["n", "--profile", "admin"]).unwrap_err().to_string();
        assert!(err.contains("sysadmin") && err.contains("admin"), "{err}");
    }

    #[test]
    fn the_command_follows_the_double_dash() {
        let args = parse(&["node/n", "-q", "-c", "dbg", "--", "sh", "-c", "exit 3"]).unwrap();
        assert_eq!(args.command, ["sh", "-c", "exit 3"]);
        assert_eq!(args.container, "dbg");
        assert!(args.quiet);
    }

    #[test]
    fn env_takes_pairs_like_kubectl() {
        assert_eq!(parse_env("A=1").unwrap().0, pairs(&[("A", "1")]));
        assert_eq!(parse_env("A=1,2").unwrap().0, pairs(&[("A", "1,2")]));
        assert_eq!(parse_env("A=").unwrap().0, pairs(&[("A", "")]));
        assert_eq!(parse_env("A=x=y").unwrap().0, pairs(&[("A", "x=y")]));
        assert_eq!(
            parse_env("A=1,B=2").unwrap().0,
            pairs(&[("A", "1"), ("B", "2")])
        );
        assert_eq!(
            parse_env(r#""A=1,2",B=3"#).unwrap().0,
            pairs(&[("A", "1,2"), ("B", "3")])
        );
        assert_eq!(parse_env(r#""A=1""#).unwrap().0, pairs(&[("A", "1")]));
    }

    #[test]
    fn env_refuses_what_is_not_name_equals_value() {
        for bad in [
            "A",
            "",
            "=1",
            "A=1,2,B=3",
            r#""A=1,B=2"#,
            r#""A=1"x,B=2"#,
            "Ä=1",
            "A\tB=1",
        ] {
            assert!(parse_env(bad).is_err(), "{bad:?} should be refused");
        }
        let err = parse(&["n", "--env", "FOO"]).unwrap_err().to_string();
        assert!(err.contains("NAME=VALUE"), "{err}");
        assert_eq!(
            parse(&["n", "--env", "=x"]).unwrap_err().exit_code(),
            crate::exit::USAGE as i32
        );
    }

    #[test]
    fn repeated_env_names_take_the_later_value_in_first_order() {
        let args = parse(&["n", "--env", "A=1", "--env", "B=2,C=3", "--env", "A=4"]).unwrap();
        assert_eq!(
            merge_env(&args.env),
            pairs(&[("A", "4"), ("B", "2"), ("C", "3")])
        );
    }

    #[test]
    fn container_names_must_be_dns_labels() {
        for good in ["debugger", "a", "dbg-2"] {
            assert!(parse_container_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Debugger", "-a", "a-", "a_b", &"a".repeat(64)] {
            assert!(parse_container_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn chroot_refusal_names_the_profile_and_ones_that_can() {
        let text = chroot_refusal(Profile::Baseline);
        assert!(text.contains("profile baseline"), "{text}");
        assert!(text.contains("--profile general"), "{text}");
        assert!(text.contains("--profile sysadmin"), "{text}");
        // The profiles it suggests really allow it (legacy does too, but is deprecated).
        assert!(Profile::General.allows_chroot() && Profile::Sysadmin.allows_chroot());
    }

    #[test]
    fn custom_errors_name_the_file() {
        let missing = read_custom(Path::new("/nonexistent/custom.yaml")).unwrap_err();
        assert_eq!(missing.exit_code(), crate::exit::USAGE);
        assert!(
            missing.to_string().contains("/nonexistent/custom.yaml"),
            "{missing}"
        );
        let dir = std::env::temp_dir().join(format!("toolbox-custom-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("custom.json");
        std::fs::write(&path, r#"{"image": "evil"}"#).unwrap();
        let forbidden = read_custom(&path).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        let text = forbidden.to_string();
        assert!(
            text.contains(&path.display().to_string()) && text.contains("`image`"),
            "{text}"
        );
        assert_eq!(forbidden.exit_code(), crate::exit::USAGE);
    }
}
