//! Values refused for their shape alone, before any request is sent: names
//! that no cluster can have, label selectors the API server cannot parse,
//! and the flags' values its validation would refuse. Pure: no client, no
//! I/O; every other wing may use it.
//!
//! - [`names`]: namespaces, node names and context names; `NODE` arguments.
//! - [`validation`]: qualified names, labels, annotations, lifetimes,
//!   quantities, environment names and image references.
//! - [`selector`]: label selectors, parsed as the API server parses them
//!   (uses [`validation`]).

pub mod names;
pub mod selector;
pub mod validation;
