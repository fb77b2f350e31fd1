//! The client: which cluster, as whom, in which namespace, and the one
//! connection toolbox talks to it over.
//!
//! - [`context`]: the [`ClusterContext`](context::ClusterContext) every
//!   command works in, resolved from the kubeconfig as kubectl does, and
//!   the mapping of a failed request to the error that says what to do.
//! - [`credentials`]: exec credential plugins, run once per invocation and
//!   again only when their credential is about to expire or is rejected.
//! - [`transport`]: the HTTP stack (HTTP/2 with pings, bounded connects)
//!   and the [`Link`](transport::Link) that tells a silent server.
//! - [`exec_stream`]: one remote-command stream over a WebSocket, with a
//!   heartbeat of its own.
//! - [`cache`]: small answers kept for a short while in the user's cache.
//! - [`versions`]: the supported Kubernetes releases and the server's.
//!
//! context uses credentials and transport; exec_stream uses transport;
//! versions uses cache. Nothing here knows of nodes or sessions.

pub mod cache;
pub mod context;
pub mod credentials;
pub mod exec_stream;
pub mod transport;
pub mod versions;
