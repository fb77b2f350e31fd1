//! A session id, `NODE.YYYYMMDDTHHMMSSZ-HHHHHHHH` (docs/sessions.md): the
//! node is everything before the last dot, so the id says where its file
//! is. The recorder accepts `[A-Za-z0-9._-]{1,200}` not starting with a dot,
//! so that an id can only name a file inside the sessions directory.

/// Why a session id cannot be one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidId {
    pub id: String,
    pub reason: &'static str,
}

impl std::fmt::Display for InvalidId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} is not a session id: {} (ids look like NODE.20261203T101500Z-4f1c9a2e; toolbox sessions list NODE shows them)",
            self.id, self.reason
        )
    }
}

impl std::error::Error for InvalidId {}

/// The longest id the recorder accepts.
const MAX_LEN: usize = 200;

/// Checks `id` as the recorder would, and that it names a node.
pub fn validate(id: &str) -> Result<(), InvalidId> {
    let invalid = |reason| {
        Err(InvalidId {
            id: id.to_owned(),
            reason,
        })
    };
    if id.is_empty() || id.len() > MAX_LEN {
        return invalid("it must have 1 to 200 characters");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return invalid("it may only hold letters, digits, '.', '_' and '-'");
    }
    if id.starts_with('.') {
        return invalid("it must not start with a dot");
    }
    match node_of(id) {
        Some(_) => Ok(()),
        None => invalid("it must name its node before the last dot"),
    }
}

/// The node a session ran on: everything before the id's last dot.
pub fn node_of(id: &str) -> Option<&str> {
    id.rsplit_once('.')
        .map(|(node, _)| node)
        .filter(|node| !node.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_is_everything_before_the_last_dot() {
        assert_eq!(
            node_of("ip-10-0-0-1.ec2.internal.20261203T101500Z-00000abc"),
            Some("ip-10-0-0-1.ec2.internal")
        );
        assert_eq!(node_of("no-dot"), None);
        assert!(validate("node-1.20261203T101500Z-4f1c9a2e").is_ok());
    }

    #[test]
    fn ids_the_recorder_would_refuse_are_refused_here() {
        for bad in ["", ".hidden.x", "a/b.c", "../x.y", "nodot", "a b.c"] {
            let err = validate(bad).unwrap_err();
            assert!(err.to_string().contains("is not a session id"), "{err}");
        }
        assert!(validate(&format!("n.{}", "x".repeat(199))).is_err());
    }
}
