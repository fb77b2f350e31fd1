//! The Pod Security Standards a pod needs, so that a PodSecurity refusal can
//! be explained with the level the namespace enforces and the one needed.

use k8s_openapi::api::core::v1::{Container, Pod};

/// The Pod Security Standards, least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn parse(label: &str) -> Option<Level> {
        match label {
            "privileged" => Some(Level::Privileged),
            "baseline" => Some(Level::Baseline),
            "restricted" => Some(Level::Restricted),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

// The capabilities the baseline standard lets a container add: the policy's
// admission rules hold to the same list.
use toolbox_policy::BASELINE_CAPABILITIES;

/// The most restrictive standard this pod satisfies. It covers the fields
/// toolbox's pods set; PodSecurity admission itself stays the final word.
pub fn required_level(pod: &Pod) -> Level {
    let Some(spec) = pod.spec.as_ref() else {
        return Level::Restricted;
    };
    let containers = || {
        spec.containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
    };
    let host_namespaces = spec.host_pid == Some(true)
        || spec.host_ipc == Some(true)
        || spec.host_network == Some(true);
    let host_path = spec.volumes.iter().flatten().any(|v| v.host_path.is_some());
    let host_process = spec
        .security_context
        .as_ref()
        .and_then(|s| s.windows_options.as_ref())
        .and_then(|w| w.host_process)
        == Some(true)
        || containers().any(|c| {
            c.security_context
                .as_ref()
                .and_then(|s| s.windows_options.as_ref())
                .and_then(|w| w.host_process)
                == Some(true)
        });
    let pod_seccomp = spec
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
        .map(|p| p.type_.as_str());
    let unconfined = |c: &Container| {
        c.security_context
            .as_ref()
            .and_then(|s| s.seccomp_profile.as_ref())
            .map(|p| p.type_.as_str())
            .or(pod_seccomp)
            == Some("Unconfined")
    };
    let beyond_baseline = |c: &Container| {
        let sc = c.security_context.as_ref();
        sc.and_then(|s| s.privileged) == Some(true)
            || sc
                .and_then(|s| s.capabilities.as_ref())
                .and_then(|caps| caps.add.as_ref())
                .is_some_and(|add| {
                    add.iter()
                        .any(|cap| !BASELINE_CAPABILITIES.contains(&cap.as_str()))
                })
            || c.ports
                .iter()
                .flatten()
                .any(|p| p.host_port.is_some_and(|port| port != 0))
            || unconfined(c)
    };
    if host_namespaces || host_path || host_process || containers().any(beyond_baseline) {
        return Level::Privileged;
    }

    let pod_non_root = spec
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_non_root)
        == Some(true);
    let restricted = |c: &Container| {
        let sc = c.security_context.as_ref();
        let non_root = sc.and_then(|s| s.run_as_non_root).unwrap_or(pod_non_root);
        let no_escalation = sc.and_then(|s| s.allow_privilege_escalation) == Some(false);
        let caps = sc.and_then(|s| s.capabilities.as_ref());
        let drops_all = caps
            .and_then(|c| c.drop.as_ref())
            .is_some_and(|d| d.iter().any(|cap| cap == "ALL"));
        let adds_only_bind = caps
            .and_then(|c| c.add.as_ref())
            .is_none_or(|a| a.iter().all(|cap| cap == "NET_BIND_SERVICE"));
        let seccomp = sc
            .and_then(|s| s.seccomp_profile.as_ref())
            .map(|p| p.type_.as_str())
            .or(pod_seccomp);
        let seccomp_ok = matches!(seccomp, Some("RuntimeDefault" | "Localhost"));
        let not_uid_zero = sc.and_then(|s| s.run_as_user) != Some(0);
        non_root && no_escalation && drops_all && adds_only_bind && seccomp_ok && not_uid_zero
    };
    if containers().all(restricted) {
        Level::Restricted
    } else {
        Level::Baseline
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({ "metadata": { "name": "p" }, "spec": spec })).unwrap()
    }

    #[test]
    fn host_namespaces_and_privilege_need_privileged() {
        let shell = pod(
            json!({ "hostPID": true, "containers": [{ "name": "c", "securityContext": { "privileged": true } }] }),
        );
        assert_eq!(required_level(&shell), Level::Privileged);
        let host_root = pod(
            json!({ "containers": [{ "name": "c" }], "volumes": [{ "name": "h", "hostPath": { "path": "/" } }] }),
        );
        assert_eq!(required_level(&host_root), Level::Privileged);
        let sys_admin = pod(
            json!({ "containers": [{ "name": "c", "securityContext": { "capabilities": { "add": ["SYS_ADMIN"] } } }] }),
        );
        assert_eq!(required_level(&sys_admin), Level::Privileged);
    }

    #[test]
    fn plain_pods_are_baseline_and_hardened_ones_restricted() {
        let plain = pod(json!({ "containers": [{ "name": "c" }] }));
        assert_eq!(required_level(&plain), Level::Baseline);
        let hardened = pod(json!({ "containers": [{ "name": "c", "securityContext": {
            "runAsNonRoot": true, "allowPrivilegeEscalation": false,
            "capabilities": { "drop": ["ALL"] }, "seccompProfile": { "type": "RuntimeDefault" } } }] }));
        assert_eq!(required_level(&hardened), Level::Restricted);
    }

    #[test]
    fn levels_order_from_least_to_most_restrictive() {
        assert!(Level::Privileged < Level::Baseline && Level::Baseline < Level::Restricted);
        assert_eq!(Level::parse("baseline"), Some(Level::Baseline));
        assert_eq!(Level::parse("bogus"), None);
    }
}
