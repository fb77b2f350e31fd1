//! Asking the cluster what it would allow, without changing anything:
//! SelfSubjectAccessReviews for permissions, server-side dry-run creates for
//! admission, and a namespace's PodSecurity labels.

use std::collections::BTreeMap;
use std::fmt;

use futures::future::try_join_all;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, PostParams};

use crate::client::context::ClusterContext;
use crate::error::{Action, ClusterError, Result, api_status};

/// One permission, as `kubectl auth can-i VERB RESOURCE[/SUBRESOURCE] [-n NS]`
/// asks it (core API group only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Permission {
    pub verb: &'static str,
    pub resource: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subresource: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl Permission {
    /// `resource` may be `pods/exec`.
    pub fn namespaced(verb: &'static str, resource: &'static str, namespace: &str) -> Self {
        let (resource, subresource) = match resource.split_once('/') {
            Some((resource, sub)) => (resource, Some(sub)),
            None => (resource, None),
        };
        Permission {
            verb,
            resource,
            subresource,
            namespace: Some(namespace.to_string()),
        }
    }

    pub fn cluster(verb: &'static str, resource: &'static str) -> Self {
        Permission {
            verb,
            resource,
            subresource: None,
            namespace: None,
        }
    }

    /// `verb resource[/subresource]`, e.g. `create pods/exec`.
    pub fn short(&self) -> String {
        match self.subresource {
            Some(sub) => format!("{} {}/{sub}", self.verb, self.resource),
            None => format!("{} {}", self.verb, self.resource),
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())?;
        if let Some(ns) = &self.namespace {
            write!(f, " in namespace {ns}")?;
        }
        Ok(())
    }
}

/// The server's answer for one permission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PermissionCheck {
    #[serde(flatten)]
    pub permission: Permission,
    pub allowed: bool,
    /// The authorizer's reason, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What admission said to a dry-run create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DryRun {
    Admitted,
    /// The server refused the pod: its HTTP code, reason and message. A 403
    /// may be PodSecurity, a webhook or RBAC; the message says which.
    Refused {
        code: u16,
        reason: String,
        message: String,
    },
}

/// A namespace's `pod-security.kubernetes.io/*` labels.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PodSecurityLabels {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn: Option<String>,
    /// Every label under the prefix, versions included.
    pub labels: BTreeMap<String, String>,
}

impl PodSecurityLabels {
    pub fn from_labels(labels: &BTreeMap<String, String>) -> Self {
        let ours: BTreeMap<String, String> = labels
            .iter()
            .filter(|(k, _)| k.starts_with("pod-security.kubernetes.io/"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mode = |m: &str| {
            ours.get(&format!("pod-security.kubernetes.io/{m}"))
                .cloned()
        };
        PodSecurityLabels {
            enforce: mode("enforce"),
            audit: mode("audit"),
            warn: mode("warn"),
            labels: ours,
        }
    }
}

impl ClusterContext {
    /// Which of `permissions` the current identity has: one
    /// SelfSubjectAccessReview each, sent together.
    pub async fn check_permissions(
        &self,
        permissions: &[Permission],
    ) -> Result<Vec<PermissionCheck>> {
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let reviews = permissions.iter().map(|permission| {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        verb: Some(permission.verb.to_string()),
                        resource: Some(permission.resource.to_string()),
                        subresource: permission.subresource.map(str::to_string),
                        namespace: permission.namespace.clone(),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            let api = &api;
            async move {
                let answer = api
                    .create(&PostParams::default(), &review)
                    .await
                    .map_err(|e| {
                        self.request_error(Action::cluster("create", "selfsubjectaccessreviews"), e)
                    })?;
                let status = answer.status.unwrap_or_default();
                Ok::<_, ClusterError>(PermissionCheck {
                    permission: permission.clone(),
                    allowed: status.allowed,
                    reason: status.reason.filter(|r| !r.is_empty()),
                })
            }
        });
        try_join_all(reviews).await
    }

    /// Creates `pod` in its namespace with dryRun=All: PodSecurity and every
    /// admission webhook judge it, and nothing is stored. A pod whose lifetime is toolbox's default, refused as too long, is
    /// tried again with the namespace's maximum, as a session would
    /// create it (see [`crate::session::lifetime`]).
    pub async fn dry_run_create(&self, pod: &Pod) -> Result<DryRun> {
        let first = self.dry_run_create_once(pod).await?;
        if let DryRun::Refused { message, .. } = &first
            && let Some(fitted) = crate::session::lifetime::fitted_to_refusal(
                pod,
                message,
                k8s_openapi::jiff::Timestamp::now(),
            )
        {
            return self.dry_run_create_once(&fitted).await;
        }
        Ok(first)
    }

    async fn dry_run_create_once(&self, pod: &Pod) -> Result<DryRun> {
        let namespace = pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| self.namespace.clone());
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &namespace);
        let params = PostParams {
            dry_run: true,
            ..PostParams::default()
        };
        match api.create(&params, pod).await {
            Ok(_) => Ok(DryRun::Admitted),
            Err(err) => match api_status(&err) {
                Some(status) => Ok(DryRun::Refused {
                    code: status.code,
                    reason: status.reason.clone(),
                    message: status.message.clone(),
                }),
                None => {
                    Err(self.request_error(Action::namespaced("create", "pods", &namespace), err))
                }
            },
        }
    }

    /// The working namespace's PodSecurity labels; an error says why they
    /// could not be read (a missing namespace, or no permission).
    pub async fn pod_security_labels(
        &self,
    ) -> std::result::Result<PodSecurityLabels, ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        match api.get(&self.namespace).await {
            Ok(ns) => Ok(PodSecurityLabels::from_labels(
                &ns.metadata.labels.unwrap_or_default(),
            )),
            Err(err) if api_status(&err).is_some_and(|s| s.code == 404) => {
                Err(ClusterError::NamespaceNotFound {
                    name: self.namespace.clone(),
                })
            }
            Err(err) => Err(self.request_error(Action::cluster("get", "namespaces"), err)),
        }
    }
}

/// A dry-run refusal's message in one line, for a table cell.
pub fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_read_like_kubectl_auth_can_i() {
        let exec = Permission::namespaced("create", "pods/exec", "team-a");
        assert_eq!(exec.resource, "pods");
        assert_eq!(exec.subresource, Some("exec"));
        assert_eq!(exec.to_string(), "create pods/exec in namespace team-a");
        assert_eq!(Permission::cluster("list", "nodes").short(), "list nodes");
    }

    #[test]
    fn pod_security_labels_are_picked_out() {
        let labels: BTreeMap<String, String> = [
            ("pod-security.kubernetes.io/enforce", "baseline"),
            ("pod-security.kubernetes.io/enforce-version", "latest"),
            ("pod-security.kubernetes.io/warn", "restricted"),
            ("team", "a"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let found = PodSecurityLabels::from_labels(&labels);
        assert_eq!(found.enforce.as_deref(), Some("baseline"));
        assert_eq!(found.warn.as_deref(), Some("restricted"));
        assert_eq!(found.audit, None);
        assert_eq!(found.labels.len(), 3);
    }

    #[test]
    fn one_line_folds_whitespace() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
