//! Phase 1: the pod is created. A pod with toolbox's default lifetime that
//! the namespace's policy refuses as too long is made again, once, fitted
//! to the maximum the refusal names; every other refusal becomes the error
//! that says why, with the way out.

use k8s_openapi::api::core::v1::Pod;
use kube::api::PostParams;

use super::pods::Pods;
use crate::error::{Action, ClusterError, Result, api_status};

impl Pods<'_> {
    /// Creates the pod; a pod with toolbox's default lifetime that the
    /// namespace's policy refuses as too long is made again, once, with the
    /// maximum the refusal names (see [`super::lifetime`]).
    pub(crate) async fn create(&self, pod: &Pod, what: &str) -> Result<Pod> {
        match self.create_once(pod, what).await {
            Err(ClusterError::AdmissionRejected { message, .. })
                if let Some(fitted) = super::lifetime::fitted_to_refusal(
                    pod,
                    &message,
                    k8s_openapi::jiff::Timestamp::now(),
                ) =>
            {
                self.create_once(&fitted, what).await
            }
            created => created,
        }
    }

    async fn create_once(&self, pod: &Pod, what: &str) -> Result<Pod> {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        self.api
            .create(&PostParams::default(), pod)
            .await
            .map_err(|err| {
                let Some(status) = api_status(&err) else {
                    return self.cluster.request_error(
                        Action::namespaced("create", "pods", &self.cluster.namespace),
                        err,
                    );
                };
                let message = status.message.clone();
                match status.code {
                    403 if message.contains("cannot create resource") => {
                        self.cluster.request_error(
                            Action::namespaced("create", "pods", &self.cluster.namespace),
                            err,
                        )
                    }
                    403 if let Some(enforced) = pod_security_level(&message) => {
                        ClusterError::PodSecurity {
                            namespace: self.cluster.namespace.clone(),
                            enforced: enforced.to_string(),
                            needed: super::podsecurity::required_level(pod).name().to_string(),
                            what: what.to_string(),
                            detail: violations(&message),
                        }
                    }
                    403 | 400 | 422 => ClusterError::AdmissionRejected {
                        hint: admission_hint(&message, &self.cluster.kubectl_flags),
                        pod: pod_name,
                        message,
                    },
                    404 => ClusterError::NamespaceNotFound {
                        name: self.cluster.namespace.clone(),
                    },
                    _ => self.cluster.request_error(
                        Action::namespaced("create", "pods", &self.cluster.namespace),
                        err,
                    ),
                }
            })
    }
}

/// The level in a PodSecurity admission refusal:
/// `... violates PodSecurity "baseline:latest": host namespaces (...)`.
fn pod_security_level(message: &str) -> Option<&str> {
    let rest = message.split("violates PodSecurity \"").nth(1)?;
    let level = rest.split(['"', ':']).next()?;
    super::podsecurity::Level::parse(level).map(|l| l.name())
}

/// What the refusal lists, after the level: "host namespaces (...), privileged (...)".
fn violations(message: &str) -> Option<String> {
    let rest = message.split("violates PodSecurity \"").nth(1)?;
    rest.split_once("\": ")
        .map(|(_, list)| list.trim().to_string())
}

fn admission_hint(message: &str, flags: &str) -> Option<String> {
    // "ValidatingAdmissionPolicy 'NAME' with binding 'B' denied request: ..."
    let policy = message
        .split("ValidatingAdmissionPolicy '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next());
    if let Some(policy) = policy {
        return Some(format!(
            "the cluster's ValidatingAdmissionPolicy {policy} refused it; what it requires: kubectl get validatingadmissionpolicy {policy} -o yaml{flags}"
        ));
    }
    if message.contains("PodSecurity") {
        Some("use a namespace whose pod-security.kubernetes.io/enforce label allows this pod (for example -n kube-system)".into())
    } else if message.contains("PriorityClass") {
        Some("check --priority-class".into())
    } else if message.contains("webhook") {
        Some("an admission webhook (for example Gatekeeper or Kyverno) refused it; ask the cluster's admins for an exception".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_security_refusals_name_the_level_and_what_was_refused() {
        let message = "pods \"toolbox-shell-n-abcde\" is forbidden: violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true, hostPID=true), privileged (container \"shell\" must not set securityContext.privileged=true)";
        assert_eq!(pod_security_level(message), Some("baseline"));
        assert_eq!(
            violations(message).as_deref(),
            Some(
                "host namespaces (hostNetwork=true, hostPID=true), privileged (container \"shell\" must not set securityContext.privileged=true)"
            )
        );
        assert_eq!(pod_security_level("admission webhook denied"), None);
    }

    #[test]
    fn admission_hints_point_the_way() {
        assert!(
            admission_hint("violates PodSecurity \"restricted:latest\"", "")
                .unwrap()
                .contains("kube-system")
        );
        assert!(
            admission_hint(
                "admission webhook \"validate.kyverno.svc\" denied the request",
                ""
            )
            .unwrap()
            .contains("webhook")
        );
        assert_eq!(
            admission_hint(
                "pods \"p\" is forbidden: ValidatingAdmissionPolicy 'no-host-pid' with binding 'b' denied request: no hostPID",
                " --context prod"
            )
            .as_deref(),
            Some(
                "the cluster's ValidatingAdmissionPolicy no-host-pid refused it; what it requires: kubectl get validatingadmissionpolicy no-host-pid -o yaml --context prod"
            )
        );
        assert!(admission_hint("something else", "").is_none());
    }
}
