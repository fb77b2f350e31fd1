//! Values that the API server (or, for an image, the kubelet) refuses for
//! their shape alone, refused before a request is sent: a round trip that
//! ends in the server's validation dump says less than one line naming the
//! flag and the rule.
//!
//! The rules follow k8s.io/apimachinery's validation (`IsQualifiedName`,
//! `IsValidLabelValue`, `ValidateAnnotations`, `resource.ParseQuantity`),
//! k8s.io/kubernetes's pod validation (`activeDeadlineSeconds`, names of
//! priority classes, environment variable names, requests against limits)
//! and the image reference grammar that the kubelet parses
//! (github.com/distribution/reference). Object names are in [`crate::input::names`].

use std::time::Duration;

/// The longest name part of a qualified name (a label key, an annotation
/// key), and the longest label value.
pub const QUALIFIED_NAME_MAX: usize = 63;
/// The most bytes a pod's annotations may hold, keys and values together.
pub const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;
/// The longest `activeDeadlineSeconds`, and so the longest pod lifetime:
/// 2147483647s, about 68 years.
pub const POD_LIFETIME_MAX: Duration = Duration::from_secs(i32::MAX as u64);
/// The longest image reference's name (without tag or digest).
const IMAGE_NAME_MAX: usize = 255;

/// Why a value was refused: the rule it breaks, to follow the value's name
/// on the error line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}")]
pub struct InvalidValue {
    pub rule: String,
}

fn refuse(rule: impl Into<String>) -> InvalidValue {
    InvalidValue { rule: rule.into() }
}

type Checked<T = ()> = Result<T, InvalidValue>;

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`: a qualified name's name
/// part, and a non-empty label value.
fn is_qualified_part(text: &str) -> bool {
    let bytes = text.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// A label key or an annotation key: `[PREFIX/]NAME`, where PREFIX is a
/// DNS subdomain and NAME up to 63 letters, digits, '-', '_' and '.',
/// starting and ending with a letter or digit.
pub fn check_qualified_name(key: &str) -> Checked {
    const RULE: &str = "a key is [PREFIX/]NAME: NAME 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit; PREFIX a lowercase DNS subdomain such as example.com";
    let name = match key.split('/').collect::<Vec<_>>().as_slice() {
        [name] => *name,
        [prefix, name] if crate::input::names::is_dns1123_subdomain(prefix) => *name,
        _ => return Err(refuse(RULE)),
    };
    if name.len() <= QUALIFIED_NAME_MAX && is_qualified_part(name) {
        Ok(())
    } else {
        Err(refuse(RULE))
    }
}

/// A label value: empty, or up to 63 letters, digits, '-', '_' and '.',
/// starting and ending with a letter or digit.
pub fn check_label_value(value: &str) -> Checked {
    if value.is_empty() || (value.len() <= QUALIFIED_NAME_MAX && is_qualified_part(value)) {
        Ok(())
    } else {
        Err(refuse(
            "a label value is empty or 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        ))
    }
}

/// Labels to put on a pod: each key and value, named in the error.
pub fn check_labels<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>) -> Checked {
    for (key, value) in labels {
        check_qualified_name(key).map_err(|e| refuse(format!("label key {key:?}: {e}")))?;
        check_label_value(value)
            .map_err(|e| refuse(format!("label {key:?} value {value:?}: {e}")))?;
    }
    Ok(())
}

/// Annotations to put on a pod: keys are qualified names (the server
/// checks them lowercased), values anything; all of it, in bytes, within
/// `budget` (at most [`ANNOTATIONS_MAX_BYTES`]).
pub fn check_annotations<'a>(
    annotations: impl IntoIterator<Item = (&'a String, &'a String)>,
    budget: usize,
) -> Checked {
    let mut total = 0;
    for (key, value) in annotations {
        check_qualified_name(&key.to_lowercase())
            .map_err(|e| refuse(format!("annotation key {key:?}: {e}")))?;
        total += key.len() + value.len();
    }
    if total > budget {
        return Err(refuse(format!(
            "annotations of {total} bytes; a pod's annotations hold at most {} KiB, and toolbox needs {} KiB of them for its own",
            ANNOTATIONS_MAX_BYTES / 1024,
            (ANNOTATIONS_MAX_BYTES - budget).div_ceil(1024),
        )));
    }
    Ok(())
}

/// A pod's lifetime: `activeDeadlineSeconds`, 1s to about 68 years.
pub fn check_pod_lifetime(lifetime: Duration) -> Checked {
    if lifetime < Duration::from_secs(1) || lifetime > POD_LIFETIME_MAX {
        return Err(refuse(format!(
            "a pod's lifetime is 1s to {}s (about 68 years), what activeDeadlineSeconds allows",
            POD_LIFETIME_MAX.as_secs()
        )));
    }
    Ok(())
}

/// The name of a Secret or a PriorityClass: a lowercase DNS subdomain.
pub fn check_object_name(name: &str) -> Checked {
    if crate::input::names::is_dns1123_subdomain(name) {
        Ok(())
    } else {
        Err(refuse(
            "a name is a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', each '.'-separated part starting and ending with a letter or digit; at most 253 characters)",
        ))
    }
}

/// A container's environment variable name: printable ASCII other than
/// '=', as the API server takes them since Kubernetes 1.32.
pub fn check_env_name(name: &str) -> Checked {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'=')
    {
        Ok(())
    } else {
        Err(refuse(
            "a variable name is printable ASCII characters other than '=', and not empty",
        ))
    }
}

/// An RBAC subject or an impersonated identity (a user, a group): not
/// empty, and no control characters, which no header or YAML line holds.
pub fn check_identity_name(name: &str) -> Checked {
    if name.is_empty() || name.chars().any(char::is_control) {
        Err(refuse("a name is not empty and has no control characters"))
    } else {
        Ok(())
    }
}

/// A resource quantity (`100m`, `0.5`, `256Mi`, `1e3`), not negative, as
/// a number for comparing a request with its limit.
pub fn parse_quantity(text: &str) -> Checked<f64> {
    let rule = || {
        refuse(
            "a quantity is a number with an optional suffix (m, k, M, G, Ki, Mi, Gi, ... or an exponent such as e3), such as 100m, 0.5 or 256Mi, and not negative",
        )
    };
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let number_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_end);
    if !number.bytes().any(|b| b.is_ascii_digit()) || number.matches('.').count() > 1 {
        return Err(rule());
    }
    let value: f64 = number.parse().map_err(|_| rule())?;
    // Fractions divide, so that 100m is exactly 0.1.
    let (multiplier, divisor) = match suffix {
        "" => (1.0, 1.0),
        "n" => (1.0, 1e9),
        "u" => (1.0, 1e6),
        "m" => (1.0, 1e3),
        "k" => (1e3, 1.0),
        "M" => (1e6, 1.0),
        "G" => (1e9, 1.0),
        "T" => (1e12, 1.0),
        "P" => (1e15, 1.0),
        "E" => (1e18, 1.0),
        "Ki" => (1024f64, 1.0),
        "Mi" => (1024f64.powi(2), 1.0),
        "Gi" => (1024f64.powi(3), 1.0),
        "Ti" => (1024f64.powi(4), 1.0),
        "Pi" => (1024f64.powi(5), 1.0),
        "Ei" => (1024f64.powi(6), 1.0),
        exponent => {
            let digits = exponent
                .strip_prefix(['e', 'E'])
                .ok_or_else(rule)?
                .trim_start_matches(['+', '-']);
            let sign_ok = exponent[1..].len() - digits.len() <= 1;
            if digits.is_empty() || !sign_ok || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(rule());
            }
            let power: i32 = exponent[1..].parse().map_err(|_| rule())?;
            match power {
                0.. => (10f64.powi(power), 1.0),
                _ => (1.0, 10f64.powi(-power)),
            }
        }
    };
    Ok(value * multiplier / divisor)
}

/// A request and its limit: each a quantity, the request no larger.
pub fn check_request_and_limit(
    resource: &str,
    request: Option<&str>,
    limit: Option<&str>,
) -> Checked {
    let parse = |which: &str, text: &str| {
        parse_quantity(text).map_err(|e| refuse(format!("{resource} {which} {text:?}: {e}")))
    };
    let request_value = request.map(|r| parse("request", r)).transpose()?;
    let limit_value = limit.map(|l| parse("limit", l)).transpose()?;
    if let (Some(r), Some(l)) = (request_value, limit_value)
        && r > l
    {
        return Err(refuse(format!(
            "{resource} request {} is more than its limit {}: a request must be at most its limit",
            request.unwrap_or_default(),
            limit.unwrap_or_default()
        )));
    }
    Ok(())
}

/// An image reference as the kubelet parses it:
/// `[HOST[:PORT]/]PATH[:TAG][@DIGEST]`, PATH lowercase.
pub fn check_image(reference: &str) -> Checked {
    const RULE: &str = "an image reference is [REGISTRY[:PORT]/]PATH[:TAG][@DIGEST], PATH lowercase, such as alpine:3.22 or registry.example.com/tools/shell:1.0";
    let fail = |why: &str| Err(refuse(format!("{why}; {RULE}")));
    if reference.is_empty() {
        return fail("empty");
    }
    if reference.trim() != reference {
        return fail("it starts or ends with whitespace");
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (reference, None),
    };
    if let Some(digest) = digest
        && !is_digest(digest)
    {
        return fail(&format!(
            "digest {digest:?} is not ALGORITHM:HEX, such as sha256: and 64 hex digits"
        ));
    }
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(colon) => (
            &rest[..last_slash + colon],
            Some(&rest[last_slash + colon + 1..]),
        ),
        None => (rest, None),
    };
    if let Some(tag) = tag
        && !is_tag(tag)
    {
        return fail(&format!(
            "tag {tag:?} is not 1 to 128 letters, digits, '_', '.' or '-', starting with a letter, digit or '_'"
        ));
    }
    if name.len() > IMAGE_NAME_MAX {
        return fail(&format!(
            "the name is longer than {IMAGE_NAME_MAX} characters"
        ));
    }
    // The first part is a registry when it looks like one, as the kubelet
    // (docker's normalisation) decides it.
    let path = match name.split_once('/') {
        Some((first, path))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            if !is_registry(first) {
                return fail(&format!("registry {first:?} is not HOST[:PORT]"));
            }
            path
        }
        _ => name,
    };
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return fail(&format!("path {path:?} has uppercase letters"));
    }
    if !path.split('/').all(is_path_component) {
        return fail(&format!(
            "path {path:?} is not '/'-separated lowercase letters and digits, joined within a part by '.', '_', '__' or '-'"
        ));
    }
    if digest.is_none() && path.len() == 64 && path.bytes().all(|b| b.is_ascii_hexdigit()) {
        return fail("a name of 64 hex digits is taken for an image ID");
    }
    Ok(())
}

/// `[a-z0-9]+` parts joined by '.', '_', '__' or one or more '-'.
fn is_path_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(|b| alphanumeric(*b))
        || !bytes.last().is_some_and(|b| alphanumeric(*b))
    {
        return false;
    }
    let mut separator = String::new();
    for &b in bytes {
        if alphanumeric(b) {
            let allowed = separator.is_empty()
                || matches!(separator.as_str(), "." | "_" | "__")
                || separator.bytes().all(|s| s == b'-');
            if !allowed {
                return false;
            }
            separator.clear();
        } else if matches!(b, b'.' | b'_' | b'-') {
            separator.push(b as char);
        } else {
            return false;
        }
    }
    true
}

/// `HOST[:PORT]`: a domain name of letter-or-digit parts joined by '.'
/// (inner '-' allowed), or an IPv6 address in brackets.
fn is_registry(registry: &str) -> bool {
    let is_port = |port: &str| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    if let Some(bracketed) = registry.strip_prefix('[') {
        return match bracketed.split_once(']') {
            Some((address, after)) if address.parse::<std::net::Ipv6Addr>().is_ok() => {
                after.is_empty() || after.strip_prefix(':').is_some_and(is_port)
            }
            _ => false,
        };
    }
    let (host, port) = match registry.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    };
    let is_domain_part = |part: &str| {
        let bytes = part.as_bytes();
        bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    };
    host.split('.').all(is_domain_part) && port.is_none_or(is_port)
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
fn is_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    tag.len() <= 128
        && tag.as_bytes().first().is_some_and(|b| word(*b))
        && tag.bytes().all(|b| word(b) || matches!(b, b'.' | b'-'))
}

/// `ALGORITHM:HEX`; a sha256 digest is 64 lowercase hex digits.
fn is_digest(digest: &str) -> bool {
    let Some((algorithm, encoded)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(|part| {
        part.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
            && part.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    let encoded_ok = match algorithm {
        "sha256" => {
            encoded.len() == 64
                && encoded
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }
        _ => encoded.len() >= 32 && encoded.bytes().all(|b| b.is_ascii_hexdigit()),
    };
    algorithm_ok && encoded_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn qualified_names_and_label_values_follow_apimachinery() {
        let long = "a".repeat(63);
        let too_long = "a".repeat(64);
        let long_prefix = format!("{}/a", "a".repeat(254));
        for (key, valid) in [
            ("team", true),
            ("Team_1.x-y", true),
            ("kubernetes.io/os", true),
            ("node-role.kubernetes.io/worker", true),
            ("a/b", true),
            (long.as_str(), true),
            ("", false),
            (too_long.as_str(), false),
            ("-team", false),
            ("team-", false),
            ("te am", false),
            ("a/b/c", false),
            ("/b", false),
            ("a/", false),
            ("Example.com/b", false),
            ("example_com/b", false),
            (long_prefix.as_str(), false),
            ("ü", false),
        ] {
            assert_eq!(check_qualified_name(key).is_ok(), valid, "{key:?}");
        }
        for (value, valid) in [
            ("", true),
            ("eu-west-1a", true),
            ("A.b_C-1", true),
            (long.as_str(), true),
            (too_long.as_str(), false),
            ("-a", false),
            ("a_", false),
            ("a/b", false),
            ("a b", false),
        ] {
            assert_eq!(check_label_value(value).is_ok(), valid, "{value:?}");
        }
    }

    #[test]
    fn labels_and_annotations_name_the_entry_at_fault() {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(check_labels(&map(&[("team", "sre"), ("example.com/x", "")])).is_ok());
        let err = check_labels(&map(&[("team", "SRE on call")])).unwrap_err();
        assert!(
            err.rule
                .starts_with("label \"team\" value \"SRE on call\": "),
            "{err}"
        );
        let err = check_labels(&map(&[("bad key", "x")])).unwrap_err();
        assert!(err.rule.starts_with("label key \"bad key\": "), "{err}");
        // Annotation values are free text; keys are checked lowercased.
        let free = map(&[("Example.com/Ticket", "INC 1234: disk full\non node 7")]);
        assert!(check_annotations(&free, ANNOTATIONS_MAX_BYTES).is_ok());
        let err = check_annotations(&map(&[("a b", "x")]), ANNOTATIONS_MAX_BYTES).unwrap_err();
        assert!(err.rule.starts_with("annotation key \"a b\": "), "{err}");
        let big = map(&[("reason", &"x".repeat(300 * 1024))]);
        let err = check_annotations(&big, ANNOTATIONS_MAX_BYTES - 16 * 1024).unwrap_err();
        assert_eq!(
            err.rule,
            "annotations of 307206 bytes; a pod's annotations hold at most 256 KiB, and toolbox needs 16 KiB of them for its own"
        );
    }

    #[test]
    fn a_pod_lifetime_fits_active_deadline_seconds() {
        for (seconds, valid) in [
            (0, false),
            (1, true),
            (3600, true),
            (i32::MAX as u64, true),
            (i32::MAX as u64 + 1, false),
            (100 * 365 * 86400, false),
        ] {
            assert_eq!(
                check_pod_lifetime(Duration::from_secs(seconds)).is_ok(),
                valid,
                "{seconds}"
            );
        }
        assert!(check_pod_lifetime(Duration::from_millis(500)).is_err());
    }

    #[test]
    fn image_references_follow_the_grammar_the_kubelet_parses() {
        let sha = "a".repeat(64);
        let by_digest = format!("alpine@sha256:{sha}");
        let tag_and_digest = format!("registry.example.com:5000/tools/shell:1.0@sha256:{sha}");
        let short_digest = format!("alpine@sha256:{}", "a".repeat(63));
        let upper_digest = format!("alpine@sha256:{}", "A".repeat(64));
        let long_tag = format!("alpine:{}", "a".repeat(129));
        let long_name = format!("a/{}", "b".repeat(254));
        for (reference, valid) in [
            ("alpine", true),
            ("alpine:3.22", true),
            ("docker.io/library/alpine:3.22", true),
            ("busybox:1.37", true),
            ("localhost/toolbox/node-tools:local", true),
            ("localhost:5000/x", true),
            ("registry.invalid/nope:1", true),
            ("nicolaka/netshoot", true),
            ("a__b/c-d/e.f/g--h:V_1.0-rc", true),
            ("Registry.Example.com/x", true),
            ("[::1]:5000/x:1", true),
            (
                "mcr.microsoft.com/oss/kubernetes/windows-host-process-containers-base-image:v1.0.0",
                true,
            ),
            (by_digest.as_str(), true),
            (tag_and_digest.as_str(), true),
            ("", false),
            (" alpine", false),
            ("alpine ", false),
            ("Alpine", false),
            ("library/Alpine", false),
            ("alpine:", false),
            ("alpine:.x", false),
            ("alpine:3:22", false),
            ("al pine", false),
            ("alpine/", false),
            ("/alpine", false),
            ("a//b", false),
            ("a..b", false),
            ("a___b", false),
            ("-a", false),
            ("a-", false),
            ("alpine@", false),
            ("alpine@sha256", false),
            (short_digest.as_str(), false),
            (upper_digest.as_str(), false),
            (long_tag.as_str(), false),
            (long_name.as_str(), false),
            ("registry.example.com:x/a", false),
            ("-registry.com/a", false),
            (sha.as_str(), false),
        ] {
            assert_eq!(check_image(reference).is_ok(), valid, "{reference:?}");
        }
        let err = check_image("").unwrap_err().rule;
        assert!(err.starts_with("empty; an image reference is"), "{err}");
    }

    #[test]
    fn quantities_parse_as_the_api_server_reads_them() {
        for (text, value) in [
            ("0", 0.0),
            ("1", 1.0),
            ("+1", 1.0),
            ("100m", 0.1),
            ("0.5", 0.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1k", 1e3),
            ("16Mi", 16.0 * 1024.0 * 1024.0),
            ("1Gi", 1024f64.powi(3)),
            ("1e3", 1e3),
            ("1E-3", 1e-3),
            ("2e+2", 200.0),
        ] {
            assert_eq!(parse_quantity(text), Ok(value), "{text:?}");
        }
        for text in [
            "", "-1", "m", "1K", "1mi", "1 Mi", "1.2.3", "1e", "1e+-3", "1ee3", "one", "1Mib",
        ] {
            assert!(parse_quantity(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn a_request_is_at_most_its_limit() {
        assert!(check_request_and_limit("memory", Some("16Mi"), Some("256Mi")).is_ok());
        assert!(check_request_and_limit("cpu", Some("1"), Some("1000m")).is_ok());
        assert!(check_request_and_limit("cpu", None, Some("1")).is_ok());
        assert_eq!(
            check_request_and_limit("memory", Some("1Gi"), Some("256Mi"))
                .unwrap_err()
                .rule,
            "memory request 1Gi is more than its limit 256Mi: a request must be at most its limit"
        );
        let err = check_request_and_limit("cpu", Some("lots"), None).unwrap_err();
        assert!(err.rule.starts_with("cpu request \"lots\": "), "{err}");
    }

    #[test]
    fn names_environment_variables_and_identities() {
        for (name, valid) in [
            ("system-node-critical", true),
            ("regcred", true),
            ("a.b", true),
            ("", false),
            ("RegCred", false),
            ("a_b", false),
        ] {
            assert_eq!(check_object_name(name).is_ok(), valid, "{name:?}");
        }
        for (name, valid) in [
            ("PATH", true),
            ("my.var-1", true),
            ("A B", true),
            ("", false),
            ("a\nb", false),
            ("ü", false),
        ] {
            assert_eq!(check_env_name(name).is_ok(), valid, "{name:?}");
        }
        for (name, valid) in [
            ("oncall", true),
            ("system:masters", true),
            ("SRE team", true),
            ("", false),
            ("x\nkind: ClusterRoleBinding", false),
        ] {
            assert_eq!(check_identity_name(name).is_ok(), valid, "{name:?}");
        }
    }
}
