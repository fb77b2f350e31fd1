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

/// A label selector that the API server can parse.
pub fn parse_selector(text: &str) -> Result<String, String> {
    selector::parse_label_selector(text)
        .map(|_| text.to_string())
        .map_err(|e| e.reason)
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
}
