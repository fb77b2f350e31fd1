//! The parsers of flag values that the API server would refuse for their
//! shape alone: each refuses such a value with the rule it breaks, as a
//! usage error before any request (see docs/node-shell.md, "Bad input").
//! The rules are pkg/cluster's (`toolbox_cluster::input::validation`,
//! `toolbox_cluster::input::selector`); the settings file and TOOLBOX_* variables
//! are held to the same ones in `settings::LoadedSettings::validate`.

use std::time::Duration;

use toolbox_cluster::input::{selector, validation};

/// A duration of 1s to about 68 years: a timeout. None waits longer
/// than a pod can live, and a deadline further out than the clock can
/// count would end toolbox with a panic.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match at_least_a_second(text)? {
        d if d > validation::POD_LIFETIME_MAX => Err(TOO_LONG.into()),
        d => Ok(d),
    }
}

/// The rule for a duration past [`validation::POD_LIFETIME_MAX`].
pub const TOO_LONG: &str =
    "must be at most 2147483647s (about 68 years), the longest a pod can live";

/// A pod's lifetime: a duration that `activeDeadlineSeconds` can hold.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let ttl = at_least_a_second(text)?;
    validation::check_pod_lifetime(ttl).map_err(|e| e.to_string())?;
    Ok(ttl)
}

fn at_least_a_second(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d < Duration::from_secs(1) => Err("must be at least 1s".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("{e} (examples: 90s, 30m, 1h)")),
    }
}

/// A size in bytes: a number, with a unit or not: `64MiB`, `1GiB`, `500k`
/// (k, M, G, T are powers of 1000; Ki, Mi, Gi, Ti of 1024; a trailing B is
/// optional), at least 1 byte.
pub fn parse_size(text: &str) -> Result<u64, String> {
    const HINT: &str = "a size such as 512KiB, 64MiB or 2G";
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not {HINT}"))?;
    let unit = unit.trim();
    let unit = unit
        .strip_suffix(['B', 'b'])
        .filter(|rest| !rest.is_empty() || unit.len() == 1)
        .unwrap_or(unit);
    let scale: u64 = match unit {
        "" => 1,
        "k" | "K" => 1_000,
        "Ki" | "KI" | "ki" => 1 << 10,
        "M" | "m" => 1_000_000,
        "Mi" | "MI" | "mi" => 1 << 20,
        "G" | "g" => 1_000_000_000,
        "Gi" | "GI" | "gi" => 1 << 30,
        "T" | "t" => 1_000_000_000_000,
        "Ti" | "TI" | "ti" => 1 << 40,
        _ => return Err(format!("{text:?}: unknown unit {unit:?}; {HINT}")),
    };
    let bytes = number * scale as f64;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("{text:?}: must be at least 1 byte; {HINT}"));
    }
    Ok(bytes as u64)
}

/// A label selector that the API server can parse.
pub fn parse_selector(text: &str) -> Result<String, String> {
    selector::parse_label_selector(text)
        .map(|_| text.to_string())
        .map_err(|e| e.reason)
}

/// node-shell `--enter`: `all`, or namespaces from net, pid, mnt, ipc, uts.
pub fn parse_pod_namespaces(text: &str) -> Result<toolbox_podtemplate::PodNamespaces, String> {
    toolbox_podtemplate::PodNamespaces::parse(text)
}

/// An image reference that the kubelet can parse.
pub fn parse_image(text: &str) -> Result<String, String> {
    validation::check_image(text)
        .map(|()| text.to_string())
        .map_err(|e| e.to_string())
}

/// The name of a Secret or a PriorityClass.
pub fn parse_object_name(text: &str) -> Result<String, String> {
    validation::check_object_name(text)
        .map(|()| text.to_string())
        .map_err(|e| e.to_string())
}

/// A group (RBAC subject) that policy prints.
pub fn parse_group(text: &str) -> Result<String, String> {
    validation::check_identity_name(text)
        .map(|()| text.to_string())
        .map_err(|e| e.to_string())
}

/// A user or group to impersonate, sent in a header. Empty stays allowed:
/// as for kubectl, it impersonates no one.
pub fn parse_impersonated(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Ok(String::new());
    }
    parse_group(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ttl_is_what_active_deadline_seconds_holds() {
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("68y"), Ok(Duration::from_secs(2_145_916_800)));
        let err = parse_ttl("100y").unwrap_err();
        assert_eq!(
            err,
            "a pod's lifetime is 1s to 2147483647s (about 68 years), what activeDeadlineSeconds allows"
        );
        assert_eq!(parse_ttl("0s").unwrap_err(), "must be at least 1s");
        // Past what a deadline can count, a timeout would panic.
        assert_eq!(
            parse_duration("68y"),
            Ok(Duration::from_secs(2_145_916_800))
        );
        assert_eq!(parse_duration("300000000000y").unwrap_err(), TOO_LONG);
    }

    #[test]
    fn selectors_images_and_names_keep_their_text() {
        assert_eq!(parse_selector("a in (b)").as_deref(), Ok("a in (b)"));
        assert!(parse_selector("a in (").is_err());
        assert_eq!(parse_image("alpine:3.22").as_deref(), Ok("alpine:3.22"));
        assert!(parse_image("").is_err());
        assert!(parse_object_name("Reg_Cred").is_err());
        assert!(parse_group("").is_err());
        assert_eq!(parse_impersonated("").as_deref(), Ok(""));
        assert!(parse_impersonated("a\nb").is_err());
    }

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64Mi"), Ok(64 << 20));
        assert_eq!(parse_size("2G"), Ok(2_000_000_000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("500"), Ok(500));
        assert_eq!(parse_size("10B"), Ok(10));
        assert_eq!(parse_size("1k"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(
            parse_size("12 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("").is_err());
    }
}
