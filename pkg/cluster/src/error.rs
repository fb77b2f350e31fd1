//! The ways talking to a cluster goes wrong, each with what to do about it,
//! and the helpers that put a failed request in words. A leaf: every wing
//! reaches it, and it reaches none of them.

use std::fmt;

/// A request the user's identity may be denied, named the way RBAC names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub verb: &'static str,
    pub resource: &'static str,
    pub namespace: Option<String>,
}

impl Action {
    pub fn namespaced(verb: &'static str, resource: &'static str, namespace: &str) -> Self {
        Action {
            verb,
            resource,
            namespace: Some(namespace.to_string()),
        }
    }

    pub fn cluster(verb: &'static str, resource: &'static str) -> Self {
        Action {
            verb,
            resource,
            namespace: None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.verb, self.resource)?;
        if let Some(ns) = &self.namespace {
            write!(f, " in namespace {ns}")?;
        }
        Ok(())
    }
}

/// What kind of failure an error is; the binary maps each kind to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The kubeconfig, a context, or the server could not be used.
    Connection,
    /// The server refused who we are or what we asked.
    Access,
    /// Something named does not exist.
    NotFound,
    /// The pod was refused or could not start.
    PodStart,
    /// The session ended because of a signal.
    Interrupted,
    /// The connection to the API server was lost during the session.
    SessionLost,
    /// A flag's value that the server refused for its shape.
    Usage,
    /// Anything else that failed.
    Failed,
}

/// Errors from the cluster context and the pod lifecycle.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config")]
    NoKubeconfig,

    #[error("cannot read kubeconfig {path}: {message}")]
    BadKubeconfig { path: String, message: String },

    #[error("context \"{name}\" not found in kubeconfig; valid contexts: {}", if valid.is_empty() { "(none)".to_string() } else { valid.join(", ") })]
    UnknownContext { name: String, valid: Vec<String> },

    #[error("cannot load context \"{context}\": {message}")]
    BadContext { context: String, message: String },

    #[error(transparent)]
    CredentialPlugin(#[from] PluginError),

    #[error("cannot reach the API server of context \"{context}\" at {url}: {message}")]
    Unreachable {
        context: String,
        url: String,
        message: String,
        /// The transport's own error, for -v's chain of causes.
        #[source]
        source: Box<kube::Error>,
    },

    #[error(
        "the API server of context \"{context}\" rejected the credentials (401 Unauthorized): they may have expired; log in again and retry"
    )]
    Unauthorized { context: String },

    #[error("permission denied: {user} cannot {action}{}", rbac_hint(.action, .flags))]
    Forbidden {
        user: String,
        action: Action,
        /// The connection flags the hint repeats (" --as dev").
        flags: String,
    },

    #[error(
        "permission denied: {user} cannot {} in namespace {namespace}: toolbox creates no pod that it could not follow, exec into and delete (check with: kubectl auth can-i {} {} -n {namespace}{flags})",
        missing_words(.missing), .missing[0].0, .missing[0].1
    )]
    SessionNotAllowed {
        user: String,
        namespace: String,
        /// (verb, resource) pairs, in the order a session needs them; never empty.
        missing: Vec<(String, String)>,
        flags: String,
    },

    #[error("node \"{name}\" not found{}", suggestion_text(.suggestions))]
    NodeNotFound {
        name: String,
        suggestions: Vec<String>,
    },

    #[error(
        "node \"{name}\" is NotReady ({reason}): a pod there would never start; pick a Ready node"
    )]
    NodeNotReady { name: String, reason: String },

    #[error("{what}")]
    NoNodes { what: String },

    /// A 400 on a list with a label selector: the server refused the
    /// selector, which is the user's -l.
    #[error("the API server refused the label selector {selector:?} (-l): {message}")]
    SelectorRefused { selector: String, message: String },

    #[error("namespace \"{name}\" not found")]
    NamespaceNotFound { name: String },

    #[error("pod \"{name}\" not found in namespace {namespace}")]
    PodNotFound { namespace: String, name: String },

    /// A `--pod` target toolbox cannot enter: not running, no such
    /// container, not on a node yet.
    #[error("cannot enter pod {pod}: {reason}")]
    PodNotEnterable { pod: String, reason: String },

    #[error(
        "namespace \"{namespace}\" enforces PodSecurity \"{enforced}\" (label pod-security.kubernetes.io/enforce); {what} needs \"{needed}\": use a namespace that allows it (for example -n kube-system), or label this one pod-security.kubernetes.io/enforce={needed}{}",
        detail.as_ref().map(|d| format!(" (refused: {d})")).unwrap_or_default()
    )]
    PodSecurity {
        namespace: String,
        enforced: String,
        needed: String,
        what: String,
        /// The server's list of what the pod violates, when it refused it.
        detail: Option<String>,
    },

    #[error("the API server refused pod {pod}: {message}{}", hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default())]
    AdmissionRejected {
        pod: String,
        message: String,
        hint: Option<String>,
    },

    #[error("pod {pod} could not start: {reason}{}{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default(), hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default())]
    PodFailed {
        pod: String,
        reason: String,
        message: Option<String>,
        hint: Option<String>,
    },

    #[error(
        "pod {pod} was not running after {seconds}s (last state: {state}); raise --timeout, or check the node and image"
    )]
    StartTimeout {
        pod: String,
        seconds: u64,
        state: String,
    },

    #[error("lost the watch of pods in namespace {namespace}: {reason}")]
    WatchFailed { namespace: String, reason: String },

    #[error("interrupted by {signal}")]
    Interrupted { signal: crate::signals::Signal },

    #[error("exec in pod {pod} failed: {message}")]
    ExecFailed { pod: String, message: String },

    /// A captured exec whose writer refused more output: the stream was
    /// ended there, and the command with it (its output closed).
    #[error("the output of the command in pod {pod} was cut off by its reader: {reason}")]
    OutputClosed { pod: String, reason: String },

    #[error(
        "lost the connection to the API server during the session with pod {namespace}/{pod}: {reason}"
    )]
    ConnectionLost {
        namespace: String,
        pod: String,
        reason: String,
    },

    /// The program's own end of a piped session's streams failed.
    #[error("the exec in pod {pod} stopped: {reason}")]
    StreamFailed { pod: String, reason: String },

    /// `cause` ended the session, and then its pod could not be deleted.
    #[error("{cause}")]
    NotDeleted {
        cause: Box<ClusterError>,
        left: Box<LeftPod>,
    },

    #[error("{action}: {source}")]
    Api {
        action: String,
        #[source]
        source: kube::Error,
    },

    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),

    #[error("no recording of session {id} on node {node}{}", if *.live_searched { " (nor in the logs of its live pods)" } else { "" })]
    SessionNotFound {
        id: String,
        node: String,
        /// The logs of the node's live recorded pods were searched too.
        live_searched: bool,
    },

    #[error("reading the recordings of node {node} failed: {message}")]
    ReaderFailed { node: String, message: String },

    /// The node log query answered, but not with the logs.
    #[error("cannot read the logs of node {node} through the node log query: {message}")]
    LogQueryFailed { node: String, message: String },

    /// No node log query for the node, and no fallback pod for the user.
    #[error(
        "cannot read the logs of node {node} without a pod ({why}), nor with one: {refused}{}",
        remedy.as_ref().map(|r| format!("; {r}")).unwrap_or_default()
    )]
    LogsNotAllowed {
        node: String,
        why: String,
        remedy: Option<String>,
        /// Why the pod may not be made: a [`ClusterError::SessionNotAllowed`].
        refused: Box<ClusterError>,
    },
}

fn suggestion_text(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!(" (did you mean {one}?)"),
        many => format!(" (did you mean one of: {}?)", many.join(", ")),
    }
}

/// "watch or delete pods, nor create or get pods/exec": the verbs grouped
/// by resource, in the order given.
fn missing_words(missing: &[(String, String)]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for (verb, resource) in missing {
        match groups.iter_mut().find(|(r, _)| r == resource) {
            Some((_, verbs)) => verbs.push(verb),
            None => groups.push((resource, vec![verb])),
        }
    }
    groups
        .iter()
        .map(|(resource, verbs)| {
            let verbs = match verbs.split_last() {
                Some((last, [])) => last.to_string(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            };
            format!("{verbs} {resource}")
        })
        .collect::<Vec<_>>()
        .join(", nor ")
}

fn rbac_hint(action: &Action, flags: &str) -> String {
    let ns = action
        .namespace
        .as_ref()
        .map(|n| format!(" -n {n}"))
        .unwrap_or_default();
    let (verb, resource) = (action.verb, action.resource);
    format!(" (check with: kubectl auth can-i {verb} {resource}{ns}{flags})")
}

impl ClusterError {
    pub fn kind(&self) -> ErrorKind {
        use ClusterError::*;
        match self {
            NoKubeconfig
            | BadKubeconfig { .. }
            | UnknownContext { .. }
            | BadContext { .. }
            | CredentialPlugin(_)
            | Unreachable { .. }
            | Api { .. } => ErrorKind::Connection,
            Unauthorized { .. } | Forbidden { .. } | SessionNotAllowed { .. } => ErrorKind::Access,
            NodeNotFound { .. }
            | NamespaceNotFound { .. }
            | PodNotFound { .. }
            | PodNotEnterable { .. }
            | NoNodes { .. }
            | SessionNotFound { .. } => ErrorKind::NotFound,
            ReaderFailed { .. } | StreamFailed { .. } => ErrorKind::Failed,
            LogQueryFailed { .. } => ErrorKind::Connection,
            LogsNotAllowed { .. } => ErrorKind::Access,
            NodeNotReady { .. }
            | PodSecurity { .. }
            | AdmissionRejected { .. }
            | PodFailed { .. }
            | StartTimeout { .. } => ErrorKind::PodStart,
            ExecFailed { .. } | WatchFailed { .. } | Terminal(_) => ErrorKind::Connection,
            OutputClosed { .. } => ErrorKind::Failed,
            ConnectionLost { .. } => ErrorKind::SessionLost,
            Interrupted { .. } => ErrorKind::Interrupted,
            SelectorRefused { .. } => ErrorKind::Usage,
            NotDeleted { cause, .. } => cause.kind(),
        }
    }

    /// What ended the session, when its pod was then left behind.
    pub fn cause(&self) -> &ClusterError {
        match self {
            ClusterError::NotDeleted { cause, .. } => cause.cause(),
            other => other,
        }
    }

    /// The pod left behind after this error, with how to remove it.
    pub fn left_pod(&self) -> Option<&LeftPod> {
        match self {
            ClusterError::NotDeleted { left, .. } => Some(left),
            _ => None,
        }
    }
}

/// Why a plugin gave no credential, said so that a person can act on it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the credential plugin {plugin} (users[].user.exec of context \"{context}\") {problem}")]
pub struct PluginError {
    pub plugin: String,
    pub context: String,
    pub problem: String,
}

/// A pod toolbox could not delete, with all a person needs to remove it:
/// where it is, when it stops by itself, the command, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftPod {
    pub namespace: String,
    pub pod: String,
    /// When the pod stops by itself (its `toolbox.dev/expires-at`).
    pub expires_at: Option<String>,
    /// The server's reason, or why it could not be asked, in words.
    pub reason: String,
    /// The connection flags the hints repeat (" --context prod").
    pub flags: String,
}

impl std::fmt::Display for LeftPod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LeftPod {
            namespace,
            pod,
            expires_at,
            reason,
            flags,
        } = self;
        write!(
            f,
            "could not delete pod {pod} in namespace {namespace} ({reason}); "
        )?;
        match expires_at {
            Some(at) => write!(f, "it stops by itself at {at} (its --ttl)")?,
            None => write!(f, "it stops by itself when its --ttl runs out")?,
        }
        write!(
            f,
            "; remove it now with: kubectl delete pod -n {namespace}{flags} {pod} (or toolbox cleanup{flags})"
        )
    }
}

/// An error and its sources on one line.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// What finally went wrong under a transport error, without the layers
/// that only repeat that a request failed, nor the OS's error number.
pub(crate) fn innermost_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &dyn std::error::Error = err;
    while let Some(cause) = innermost.source() {
        innermost = cause;
    }
    let text = innermost.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    text.to_lowercase()
}

/// The API's own answer for a failed request, when there was one.
pub(crate) fn api_status(err: &kube::Error) -> Option<&kube::core::Status> {
    match err {
        kube::Error::Api(status) => Some(status),
        _ => None,
    }
}

/// The server's refusal of a list's label selector, when that is what
/// `err` is: a 400 to a request that carried one.
pub(crate) fn selector_refused(selector: Option<&str>, err: &kube::Error) -> Option<ClusterError> {
    let selector = selector.filter(|s| !s.is_empty())?;
    let status = api_status(err).filter(|status| status.code == 400)?;
    Some(ClusterError::SelectorRefused {
        selector: selector.to_string(),
        message: status.message.clone(),
    })
}

pub type Result<T, E = ClusterError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_not_found_names_the_closest_nodes() {
        let err = ClusterError::NodeNotFound {
            name: "ip-10-0-1-7".into(),
            suggestions: vec!["ip-10-0-1-17".into()],
        };
        assert_eq!(
            err.to_string(),
            "node \"ip-10-0-1-7\" not found (did you mean ip-10-0-1-17?)"
        );
        let none = ClusterError::NodeNotFound {
            name: "x".into(),
            suggestions: vec![],
        };
        assert_eq!(none.to_string(), "node \"x\" not found");
    }

    #[test]
    fn forbidden_names_the_verb_and_resource() {
        let err = ClusterError::Forbidden {
            user: "dev".into(),
            action: Action::namespaced("create", "pods/exec", "team-a"),
            flags: " --context prod --as dev".into(),
        };
        assert_eq!(
            err.to_string(),
            "permission denied: dev cannot create pods/exec in namespace team-a (check with: kubectl auth can-i create pods/exec -n team-a --context prod --as dev)"
        );
        assert_eq!(err.kind(), ErrorKind::Access);
    }

    #[test]
    fn a_session_not_allowed_names_what_is_missing_grouped_by_resource() {
        let err = ClusterError::SessionNotAllowed {
            user: "dev".into(),
            namespace: "team-a".into(),
            missing: [
                ("watch", "pods"),
                ("delete", "pods"),
                ("create", "pods/exec"),
            ]
            .map(|(v, r)| (v.to_string(), r.to_string()))
            .to_vec(),
            flags: " --as dev".into(),
        };
        assert_eq!(
            err.to_string(),
            "permission denied: dev cannot watch or delete pods, nor create pods/exec in namespace team-a: toolbox creates no pod that it could not follow, exec into and delete (check with: kubectl auth can-i watch pods -n team-a --as dev)"
        );
        assert_eq!(err.kind(), ErrorKind::Access);
    }

    #[test]
    fn a_400_to_a_list_with_a_selector_is_the_selector_refused() {
        let answer = |code: u16| {
            kube::Error::Api(Box::new(kube::core::Status {
                code,
                message: "unable to parse requirement: found 'selector'".into(),
                reason: "BadRequest".into(),
                ..Default::default()
            }))
        };
        let refused = selector_refused(Some("bad selector!!"), &answer(400)).unwrap();
        assert_eq!(
            refused.to_string(),
            "the API server refused the label selector \"bad selector!!\" (-l): unable to parse requirement: found 'selector'"
        );
        assert_eq!(refused.kind(), ErrorKind::Usage);
        assert!(selector_refused(None, &answer(400)).is_none());
        assert!(selector_refused(Some(""), &answer(400)).is_none());
        assert!(selector_refused(Some("a=b"), &answer(500)).is_none());
    }

    #[test]
    fn unknown_context_lists_the_valid_ones() {
        let err = ClusterError::UnknownContext {
            name: "prod".into(),
            valid: vec!["dev".into(), "staging".into()],
        };
        assert_eq!(
            err.to_string(),
            "context \"prod\" not found in kubeconfig; valid contexts: dev, staging"
        );
        assert_eq!(err.kind(), ErrorKind::Connection);
    }

    #[test]
    fn pod_security_names_the_label_and_the_way_out() {
        let err = ClusterError::PodSecurity {
            namespace: "prod".into(),
            enforced: "baseline".into(),
            needed: "privileged".into(),
            what: "node-shell".into(),
            detail: None,
        };
        let text = err.to_string();
        assert!(
            text.starts_with("namespace \"prod\" enforces PodSecurity \"baseline\""),
            "{text}"
        );
        assert!(
            text.contains("pod-security.kubernetes.io/enforce"),
            "{text}"
        );
        assert!(text.contains("-n kube-system"), "{text}");
        assert_eq!(err.kind(), ErrorKind::PodStart);
    }

    #[test]
    fn a_pod_left_behind_is_one_line_with_when_it_stops_and_how_to_remove_it() {
        let left = LeftPod {
            namespace: "team-a".into(),
            pod: "toolbox-shell-n-x7k2p".into(),
            expires_at: Some("2026-11-26T15:06:54Z".into()),
            reason: "the API server could not be reached for 30s: connection refused".into(),
            flags: " --context prod".into(),
        };
        assert_eq!(
            left.to_string(),
            "could not delete pod toolbox-shell-n-x7k2p in namespace team-a (the API server could not be reached for 30s: connection refused); it stops by itself at 2026-11-26T15:06:54Z (its --ttl); remove it now with: kubectl delete pod -n team-a --context prod toolbox-shell-n-x7k2p (or toolbox cleanup --context prod)"
        );
        let unknown = LeftPod {
            expires_at: None,
            ..left
        };
        assert!(
            unknown
                .to_string()
                .contains("it stops by itself when its --ttl runs out"),
            "{unknown}"
        );
    }
}
