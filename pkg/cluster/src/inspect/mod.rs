//! What `toolbox compare` asks of a cluster and works out from it, without
//! changing anything.
//!
//! - [`review`]: SelfSubjectAccessReviews, server-side dry-run creates and a
//!   namespace's PodSecurity labels.
//! - [`admission`]: the admission policies bound in the namespace,
//!   toolbox's own node-access policy among them.
//! - [`comparison`]: node-shell against debug-node: the facts side by side
//!   and the recommendation. Pure: the live facts arrive as values.
//! - [`logquery`]: whether the kubelet's node log query is there for
//!   `toolbox logs`, on the node and to the user.
//! - [`recording`]: whether the namespace requires recording, from
//!   admission's policies (or a dry run's refusal), and what that means for
//!   each approach. Pure.
//!
//! comparison uses review's types; recording uses admission's and
//! comparison's; logquery uses review's and asks the node through the
//! nodelogs wing's probe; review fits a dry-run pod's lifetime as
//! a session would ([`crate::session::lifetime`]). Nothing in the session
//! wing uses this one.

pub mod admission;
pub mod comparison;
pub mod logquery;
pub mod recording;
pub mod review;
