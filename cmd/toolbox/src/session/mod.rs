//! What node-shell and debug-node share, and compare and dump with them:
//! everything between a command's flags and pkg/cluster's session
//! lifecycle. No subcommand lives here, and nothing here knows one (dump
//! takes the fan-out flags, the pre-flight and the pod options).
//!
//! A command uses the parts in this order:
//!
//! 1. [`args`]: the clap pieces it flattens into its own `Args` (targets,
//!    fan-out and session flags; compare's node and profile).
//! 2. [`pod`]: it resolves its flags and the settings, once, into plain
//!    pod options, which build each node's pod.
//! 3. One node: [`preflight::connect_to_node`] (connect, version check,
//!    identity, the node, session access), then [`single::run`], which runs
//!    pkg/cluster's lifecycle under a [`spinner`] and tells how it ended.
//! 4. Many nodes: [`fanout::run`] checks the run's flags, goes through the
//!    same [`preflight::preflight`] with the run's nodes, and has the run's
//!    events printed by [`printer`] and its end told by [`summary`].
//! 5. Many clusters: [`clusters::fan_out`], which commands call for every
//!    run, runs on each context's cluster when the flags name several
//!    (each its own pre-flight and `fanout` run, one printer, a summary
//!    each), and hands a run on one cluster to [`fanout::run`].
//!
//! 6. One pod's namespaces (node-shell `--pod`): [`target_pod::run`], the
//!    pre-flight with the pod and its node, then `single`'s session in a
//!    pod that enters the container.
//!
//! Inside, `single`, `fanout` and `clusters` are the drivers: `single`
//! uses `spinner`, and `pod` and `args` for node-shell's one session
//! ([`single::run_node_shell`], which `target_pod` goes through too); `fanout` uses `preflight`, `pod`, `printer` and
//! `summary`; `clusters` uses `fanout` and what it uses; `printer` uses
//! `summary` and `spinner`; `preflight` and `pod` use `args`, which uses
//! none of them.

pub mod args;
pub mod clusters;
pub mod fanout;
pub mod pod;
pub mod preflight;
pub mod printer;
pub mod single;
pub mod spinner;
pub mod summary;
pub mod target_pod;
