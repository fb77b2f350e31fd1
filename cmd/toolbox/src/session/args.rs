//! The flags that node-shell and debug-node share, as clap pieces each
//! flattens into its own `Args`: which node or nodes ([`TargetArgs`], with
//! the fan-out flags [`FanoutArgs`]), the pod's flags ([`PodArgs`]) and the
//! session's own ([`SessionArgs`]). compare reuses [`NodeArgs`] and [`profile_parser`].
//! They are resolved into plain options in [`super::pod`] and
//! [`super::preflight`]; only the commands and this module see clap types.

use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap_complete::engine::ArgValueCompleter;
use toolbox_cluster::input::validation;
use toolbox_cluster::nodes::nodeset;
use toolbox_cluster::parse_node_arg;
use toolbox_podtemplate::{COMMAND_ANNOTATION, Profile, REASON_ANNOTATION};

use crate::app::App;
use crate::exit::{AppError, usage};
use crate::settings::ANNOTATIONS_BUDGET;
use crate::{complete, values};

/// What every node pod takes from the command line: its lifetime, how
/// long it may take to start, why it is there, and how its image is pulled.
/// `toolbox cp`'s pods take these alone; a session's take [`SessionArgs`].
#[derive(Debug, Clone, clap::Args)]
pub struct PodArgs {
    /// How long the pod may live; it stops by itself after this [default: 1h]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_ttl)]
    pub ttl: Option<Duration>,

    /// How long to wait for the pod to start [default: 2m]
    #[arg(long, value_name = "DURATION", value_parser = values::parse_duration)]
    pub timeout: Option<Duration>,

    /// Why you need the node; recorded on the pod for the audit trail
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

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

/// Options every node session takes: the pod's, and the session's own.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    #[command(flatten)]
    pub pod: PodArgs,

    /// Leave the pod running after the session, and print how to reach and remove it
    #[arg(long, conflicts_with = "persist")]
    pub keep: bool,

    /// Keep the pod for your next session on this node with the same image and flags,
    /// until it has been idle this long (never past --ttl); 0 ends it after this session
    #[arg(long, value_name = "DURATION", value_parser = crate::settings::parse_persist)]
    pub persist: Option<Duration>,

    /// Do not record the session (where the namespace's policy allows it)
    #[arg(long, conflicts_with = "record_input")]
    pub no_record: bool,

    /// Record what is typed too; by default only the output is, so that a
    /// password typed at a prompt stays out
    #[arg(long)]
    pub record_input: bool,
}

impl SessionArgs {
    /// --persist, else the persist setting; `None` when neither is given.
    pub fn persist(&self, app: &App) -> Option<Duration> {
        self.persist.or_else(|| app.settings.persist())
    }

    /// What no one flag's parser can check, before any request: see
    /// [`PodArgs::check`].
    pub fn check(&self, app: &App, command: &[String]) -> Result<(), AppError> {
        self.pod.check(app, command)
    }
}

impl PodArgs {
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

const HEADING: &str = "Many nodes";

/// Which nodes: NODE..., or a choice among the nodes `-l` matches, or every
/// node `--all` (and `-l`) selects, or the picker.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetArgs {
    /// The node: NAME or node/NAME; several, or a node set such as
    /// node-[01-20], run COMMAND on each. Omitted on a terminal, a picker opens
    #[arg(value_name = "NODE", add = ArgValueCompleter::new(complete::nodes))]
    pub nodes: Vec<String>,

    /// Nodes matching this label selector: with --all, every one; else choose
    /// among them (the only match is used as is)
    #[arg(short = 'l', long, value_name = "SELECTOR", conflicts_with = "nodes", value_parser = values::parse_selector)]
    pub selector: Option<String>,

    /// Run COMMAND on every node (with -l, every matching node)
    #[arg(long, conflicts_with = "nodes", help_heading = HEADING)]
    pub all: bool,

    #[command(flatten)]
    pub fanout: FanoutArgs,

    #[command(flatten)]
    pub printed: RunOutputArgs,
    #[command(flatten)]
    pub streaming: StreamArgs,
}

/// How a run's output is printed: node-shell's and debug-node's (dump
/// writes a bundle instead).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunOutputArgs {
    /// At the end, print identical outputs once, under the nodes that gave them
    #[arg(short = 'b', long, help_heading = HEADING)]
    pub gather: bool,

    /// Print one document with every node's output and exit status at the end
    #[arg(short = 'o', long, value_name = "FORMAT", value_parser = ["json", "yaml"], help_heading = HEADING)]
    pub output: Option<String>,
}

/// How a node-shell or debug-node run gets each node's output.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StreamArgs {
    /// Run the command as each pod's own process and read its output from
    /// the pod's status: no stream per node (the default with --gather and -o)
    #[arg(long, conflicts_with = "stream", help_heading = HEADING)]
    pub no_stream: bool,
    /// Stream each node's output through an exec, even with --gather or -o
    #[arg(long, help_heading = HEADING)]
    pub stream: bool,
}

/// How a command runs on many nodes: how many at once, which of them, and
/// for how long; node-shell's, debug-node's and dump's.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FanoutArgs {
    /// How many nodes run at once [default: 64]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000), help_heading = HEADING)]
    pub fanout: Option<u16>,

    /// Run on NotReady nodes too, instead of skipping them
    #[arg(long, help_heading = HEADING)]
    pub include_not_ready: bool,

    /// Run on cordoned (unschedulable) nodes too, instead of skipping them
    #[arg(long, help_heading = HEADING)]
    pub include_cordoned: bool,

    /// Run only on nodes of this OS; any runs on every OS [default: linux]
    #[arg(long, value_name = "OS", value_parser = ["linux", "windows", "any"], help_heading = HEADING)]
    pub os: Option<String>,

    /// Give up on a node whose command runs longer than this
    #[arg(long, value_name = "DURATION", value_parser = values::parse_duration, help_heading = HEADING)]
    pub command_timeout: Option<Duration>,
    /// Keep --fanout's width even while the API server pushes back: only to
    /// compare with the default, which sends fewer at once (docs/fan-out.md)
    #[arg(long, hide = true)]
    pub no_back_off: bool,
}

impl FanoutArgs {
    /// The nodes these flags keep: NotReady and cordoned ones only when
    /// asked, and only Linux nodes unless `--os` says otherwise.
    pub fn filter(&self) -> toolbox_cluster::nodes::TargetFilter {
        toolbox_cluster::nodes::TargetFilter {
            include_not_ready: self.include_not_ready,
            include_cordoned: self.include_cordoned,
            os: match self.os.as_deref() {
                Some("any") => None,
                Some(os) => Some(os.to_string()),
                None => Some("linux".into()),
            },
        }
    }

    /// Any of these flags asks for a run, even on one node.
    fn given(&self) -> bool {
        self.fanout.is_some()
            || self.include_not_ready
            || self.include_cordoned
            || self.os.is_some()
            || self.command_timeout.is_some()
    }
}

impl TargetArgs {
    /// Several nodes, `--all`, or a fan-out flag: a run rather than a session.
    pub fn is_run(&self) -> bool {
        self.nodes.len() > 1
            || self.all
            || self.fanout.given()
            || self.printed.gather
            || self.printed.output.is_some()
            || self.streaming.no_stream
            || self.streaming.stream
            || self.nodes.iter().any(|n| n.contains('['))
    }

    /// Whether the run is stream-less: asked for, or the output is gathered
    /// for the end anyway, where no one watches lines arrive.
    pub fn streamless(&self) -> bool {
        let gathered = self.printed.gather || self.printed.output.is_some();
        self.streaming.no_stream || (!self.streaming.stream && gathered)
    }

    /// The one node a session targets, as the picker and compare take it.
    pub fn single(&self) -> NodeArgs {
        NodeArgs {
            node: self.nodes.first().cloned(),
            selector: self.selector.clone(),
        }
    }

    /// The named nodes, node sets expanded and `node/` prefixes taken off,
    /// each once.
    pub fn node_names(&self) -> Result<Vec<String>, AppError> {
        let mut names = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for arg in &self.nodes {
            let expanded = if arg.contains('[') {
                nodeset::expand(arg.strip_prefix("node/").unwrap_or(arg))
                    .map_err(|err| usage(err.to_string()))?
            } else {
                vec![arg.clone()]
            };
            for name in expanded {
                let name = parse_node_arg(&name)?.to_string();
                if seen.insert(name.clone()) {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }
}

/// debug-node's --profile (compare's too): the names of kubectl's debug
/// profiles.
pub fn profile_parser() -> impl TypedValueParser<Value = Profile> {
    PossibleValuesParser::new(Profile::ALL.map(|profile| profile.name()))
        .try_map(|name| name.parse::<Profile>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_nodes_or_a_fanout_flag_make_a_run() {
        let one = TargetArgs {
            nodes: vec!["a".into()],
            ..Default::default()
        };
        assert!(!one.is_run());
        let set = TargetArgs {
            nodes: vec!["a-[1-3]".into()],
            ..Default::default()
        };
        assert!(set.is_run());
        assert_eq!(set.node_names().unwrap(), ["a-1", "a-2", "a-3"]);
        let gathered = TargetArgs {
            nodes: vec!["a".into()],
            printed: RunOutputArgs {
                gather: true,
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(gathered.is_run());
        let repeated = TargetArgs {
            nodes: vec!["node/a".into(), "a".into(), "b".into()],
            ..Default::default()
        };
        assert_eq!(repeated.node_names().unwrap(), ["a", "b"]);
    }

    #[test]
    fn gathered_output_is_stream_less_unless_streaming_is_asked_for() {
        let printed = |gather, output: Option<&str>, no_stream, stream| TargetArgs {
            printed: RunOutputArgs {
                gather,
                output: output.map(str::to_owned),
            },
            streaming: StreamArgs { no_stream, stream },
            ..TargetArgs::default()
        };
        assert!(!printed(false, None, false, false).streamless());
        assert!(printed(true, None, false, false).streamless());
        assert!(printed(false, Some("json"), false, false).streamless());
        assert!(printed(false, None, true, false).streamless());
        assert!(!printed(true, Some("json"), false, true).streamless());
    }
}
