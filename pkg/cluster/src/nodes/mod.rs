//! Nodes: finding the node a session targets (with the closest names when
//! it does not exist), listing nodes cheaply as tables, node sets as
//! ClusterShell writes them, and the targets of a fan-out run.
//!
//! - [`lookup`]: get, list and describe nodes; the rows the picker and
//!   completion show. Uses the client wing only.
//! - [`nodeset`]: `node-[0001-0040]` folded and expanded. Pure.
//! - [`target_pod`]: node-shell `--pod`'s pod, its node and container.
//! - [`targets`]: which nodes a fan-out run goes to and which it skips;
//!   built on [`lookup`] and [`nodeset`].

mod lookup;
pub mod nodeset;
pub mod target_pod;
mod targets;

pub use lookup::*;
pub use targets::{TargetFilter, Targets};
