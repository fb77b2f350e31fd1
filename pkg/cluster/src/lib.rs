//! The cluster context toolbox works in: which kubeconfig, context,
//! namespace and identity; the one client; and the lifecycle of the pods
//! that node-shell, debug-node and compare create.

pub mod admission;
pub mod cache;
pub mod comparison;
pub mod context;
pub mod credentials;
pub mod error;
pub mod exec_stream;
pub mod fanout;
pub mod leftovers;
pub mod lifecycle;
pub mod names;
pub mod nodes;
pub mod nodeset;
mod persist;
pub mod podsecurity;
mod podwatch;
pub mod review;
pub mod selector;
pub mod session_access;
pub mod signals;
pub mod steps;
pub mod terminal;
pub mod transport;
pub mod validation;
pub mod versions;

pub use context::{ClusterContext, ConnectOptions, error_chain, load_kubeconfig};
pub use error::{Action, ClusterError, ErrorKind, Result};
pub use leftovers::{Deletion, Leftover, LeftoverFilter, Tool, classify};
pub use lifecycle::{PodGuard, Progress, SessionOutcome, SessionSpec, Silent, WaitState};
pub use names::{
    InvalidName, NameKind, parse_node_arg, validate_context_name, validate_namespace,
    validate_node_name,
};
pub use nodes::{
    NodeRow, TargetNode, aligned_lines, closest, fill_label_columns, node_os_facts, node_readiness,
    node_rows,
};
pub use podsecurity::{Level, required_level};
pub use signals::Signal;
