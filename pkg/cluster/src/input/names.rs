//! Names that cannot exist on any cluster, refused before a request is sent.
//!
//! A namespace `UPPER_case` can never be found, so asking the server is a
//! wasted round trip that ends in a misleading "not found" (or, for cleanup,
//! in "nothing to delete"). The rules are the API server's own validation:
//! namespaces are RFC 1123 labels (`IsDNS1123Label`), node names RFC 1123
//! subdomains (`IsDNS1123Subdomain`, which, like the API server, does not
//! limit each dot-separated part to 63 characters).
//!
//! Kubeconfig context names are not Kubernetes objects: kubectl accepts any
//! string, with spaces, '@', '/' or ':' (`arn:aws:eks:...:cluster/prod`,
//! `user@cluster`). Only what no kubeconfig context can usefully be named is
//! refused: the empty name (kubectl reads it as "no context given") and
//! control characters, such as a newline from a script's `$(...)`.

use std::fmt;

/// The longest namespace name: an RFC 1123 label.
pub const NAMESPACE_MAX: usize = 63;
/// The longest node name: an RFC 1123 subdomain.
pub const NODE_NAME_MAX: usize = 253;

/// What kind of name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Namespace,
    Node,
    Context,
}

impl NameKind {
    /// What a valid name of this kind looks like, for the error line.
    pub fn rule(self) -> &'static str {
        match self {
            NameKind::Namespace => {
                "a namespace is a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit; at most 63 characters)"
            }
            NameKind::Node => {
                "a node name is a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', each '.'-separated part starting and ending with a letter or digit; at most 253 characters)"
            }
            NameKind::Context => "a context name is not empty and has no control characters",
        }
    }
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Namespace => "namespace",
            NameKind::Node => "node name",
            NameKind::Context => "context name",
        })
    }
}

/// A name that no object (or kubeconfig context) of its kind can have.
/// The name is shown escaped, so that the error stays on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {name:?}: {}", kind.rule())]
pub struct InvalidName {
    pub kind: NameKind,
    pub name: String,
}

impl InvalidName {
    fn new(kind: NameKind, name: &str) -> Self {
        InvalidName {
            kind,
            name: name.to_string(),
        }
    }
}

/// A namespace name: an RFC 1123 label.
pub fn validate_namespace(name: &str) -> Result<(), InvalidName> {
    if name.len() <= NAMESPACE_MAX && is_dns1123_label(name) {
        Ok(())
    } else {
        Err(InvalidName::new(NameKind::Namespace, name))
    }
}

/// A node name: an RFC 1123 subdomain.
pub fn validate_node_name(name: &str) -> Result<(), InvalidName> {
    if is_dns1123_subdomain(name) {
        Ok(())
    } else {
        Err(InvalidName::new(NameKind::Node, name))
    }
}

/// A kubeconfig context name: anything but empty or control characters.
pub fn validate_context_name(name: &str) -> Result<(), InvalidName> {
    if name.is_empty() || name.chars().any(char::is_control) {
        Err(InvalidName::new(NameKind::Context, name))
    } else {
        Ok(())
    }
}

/// The node a NODE argument names: `NAME` or `node/NAME` (also
/// `nodes/NAME`), as kubectl accepts them; the name must be one a node
/// can have.
pub fn parse_node_arg(arg: &str) -> Result<&str, InvalidName> {
    let name = arg
        .strip_prefix("node/")
        .or_else(|| arg.strip_prefix("nodes/"))
        .unwrap_or(arg);
    validate_node_name(name)?;
    Ok(name)
}

/// An RFC 1123 subdomain: labels joined by '.', at most 253 characters
/// in all (the API server does not limit each label to 63).
pub(crate) fn is_dns1123_subdomain(text: &str) -> bool {
    text.len() <= NODE_NAME_MAX && text.split('.').all(is_dns1123_label)
}

/// Lowercase letters, digits and '-', starting and ending with a letter or
/// digit (the length limit is the caller's: it differs by kind).
fn is_dns1123_label(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alphanumeric = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alphanumeric(first)
                && alphanumeric(last)
                && bytes.iter().all(|b| alphanumeric(b) || *b == b'-')
        }
        _ => false,
    }
}

/// A word as a POSIX shell reads it back: as it is when that is safe, else in
/// single quotes. Hints are commands to paste.
pub fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The flags that chose the cluster and the identity on toolbox's command
/// line, as kubectl and toolbox both take them (" --context prod --as dev"):
/// a hint that omits them would check or act as someone else.
pub fn connection_flags(
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
    as_user: Option<&str>,
    as_groups: &[String],
) -> String {
    let mut flags = String::new();
    let mut add = |flag: &str, value: &str| {
        flags.push_str(&format!(" {flag} {}", shell_word(value)));
    };
    if let Some(path) = kubeconfig {
        add("--kubeconfig", &path.to_string_lossy());
    }
    if let Some(context) = context {
        add("--context", context);
    }
    if let Some(user) = as_user {
        add("--as", user);
    }
    for group in as_groups {
        add("--as-group", group);
    }
    flags
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_rfc_1123_labels() {
        let longest = "a".repeat(63);
        let too_long = "a".repeat(64);
        for (name, valid) in [
            ("default", true),
            ("kube-system", true),
            ("a", true),
            ("0", true),
            ("team-1", true),
            ("1-team", true),
            (longest.as_str(), true),
            ("", false),
            (too_long.as_str(), false),
            ("UPPER_case", false),
            ("Default", false),
            ("under_score", false),
            ("-leading", false),
            ("trailing-", false),
            ("has.dot", false),
            ("has space", false),
            ("new\nline", false),
            ("ünïcode", false),
            ("a/b", false),
        ] {
            assert_eq!(validate_namespace(name).is_ok(), valid, "{name:?}");
        }
    }

    #[test]
    fn node_names_are_rfc_1123_subdomains() {
        let long_part = "a".repeat(100);
        let longest = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        assert_eq!(longest.len(), 253);
        let too_long = format!("{longest}e");
        for (name, valid) in [
            ("node-0001", true),
            ("ip-10-0-1-17.eu-west-1.compute.internal", true),
            ("10.0.1.17", true),
            ("a", true),
            // The API server limits the whole name, not each part.
            (long_part.as_str(), true),
            (longest.as_str(), true),
            ("", false),
            (too_long.as_str(), false),
            ("Node-1", false),
            ("node_1", false),
            ("node..1", false),
            (".node", false),
            ("node.", false),
            ("-node", false),
            ("node-.internal", false),
            ("node/1", false),
            ("node 1", false),
            ("node\t1", false),
        ] {
            assert_eq!(validate_node_name(name).is_ok(), valid, "{name:?}");
        }
    }

    #[test]
    fn context_names_may_be_almost_anything() {
        for (name, valid) in [
            ("kind-kind", true),
            ("arn:aws:eks:eu-west-1:123456789012:cluster/prod", true),
            ("admin@prod", true),
            ("gke_project_europe-west1_prod", true),
            ("My Context", true),
            ("ünïcode", true),
            ("", false),
            ("prod\n", false),
            ("a\tb", false),
            ("\u{1b}[31mred", false),
        ] {
            assert_eq!(validate_context_name(name).is_ok(), valid, "{name:?}");
        }
    }

    #[test]
    fn node_args_take_kubectls_forms_and_must_name_a_possible_node() {
        for (arg, parsed) in [
            ("node/worker-1", Ok("worker-1")),
            ("nodes/worker-1", Ok("worker-1")),
            ("worker-1", Ok("worker-1")),
            ("node/Worker_1", Err("Worker_1")),
            ("node/", Err("")),
            ("pod/worker-1", Err("pod/worker-1")),
        ] {
            let parsed = parsed.map_err(|name| InvalidName::new(NameKind::Node, name));
            assert_eq!(parse_node_arg(arg), parsed, "{arg:?}");
        }
    }

    #[test]
    fn the_error_is_one_line_naming_the_name_and_the_rule() {
        assert_eq!(
            validate_namespace("UPPER_case").unwrap_err().to_string(),
            "invalid namespace \"UPPER_case\": a namespace is a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a letter or digit; at most 63 characters)"
        );
        let newline = validate_context_name("prod\n").unwrap_err().to_string();
        assert_eq!(
            newline,
            "invalid context name \"prod\\n\": a context name is not empty and has no control characters"
        );
        assert_eq!(
            validate_node_name("a\nb")
                .unwrap_err()
                .to_string()
                .lines()
                .count(),
            1
        );
    }

    #[test]
    fn connection_flags_repeat_what_chose_the_cluster_and_identity() {
        assert_eq!(connection_flags(None, None, None, &[]), "");
        assert_eq!(
            connection_flags(
                Some(std::path::Path::new("/k/my config")),
                Some("prod"),
                Some("dev"),
                &["oncall".into(), "sre team".into()]
            ),
            " --kubeconfig '/k/my config' --context prod --as dev --as-group oncall --as-group 'sre team'"
        );
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
