//! Whether a session may do everything its pod needs before the pod exists:
//! toolbox never creates a pod that it could not watch start, exec into and
//! delete, since such a pod would be left running until its TTL.
//!
//! One SelfSubjectRulesReview of the namespace answers it. It is sent beside
//! the node read, so it adds no wait, and a yes is remembered for a few
//! minutes per identity and namespace, so it adds no request to the sessions
//! that follow. A no is never remembered.

use std::time::Duration;

use k8s_openapi::api::authorization::v1::{
    ResourceRule, SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
};
use kube::api::{Api, PostParams};

use crate::client::cache::{self, Scope};
use crate::client::context::ClusterContext;
use crate::error::ClusterError;

/// What a session does with its pod, as RBAC names it. pods/exec takes
/// both verbs: a WebSocket exec is a GET, and from Kubernetes 1.35 the API
/// server checks create as well.
pub const SESSION_NEEDS: &[(&str, &str)] = &[
    ("create", "pods"),
    ("watch", "pods"),
    ("delete", "pods"),
    ("create", "pods/exec"),
    ("get", "pods/exec"),
];

/// How long a granted review is trusted. A permission taken away within it
/// is found by the request that needs it, as without the check; the pod's
/// TTL still bounds it.
const REMEMBER_GRANTED_FOR: Duration = Duration::from_secs(300);

/// Whether `rules` grant `verb` on `resource` ("pods" or "pods/exec") in the
/// core API group to any pod name. Rules limited to resourceNames do not:
/// toolbox's pod names are new each time.
pub fn rules_allow(rules: &[ResourceRule], verb: &str, resource: &str) -> bool {
    let subresource = resource.split_once('/').map(|(_, sub)| sub);
    rules.iter().any(|rule| {
        let names_limited = rule.resource_names.as_ref().is_some_and(|n| !n.is_empty());
        let core = rule
            .api_groups
            .as_ref()
            .is_some_and(|groups| groups.iter().any(|g| g.is_empty() || g == "*"));
        let verb_ok = rule.verbs.iter().any(|v| v == verb || v == "*");
        let resource_ok = rule.resources.as_ref().is_some_and(|resources| {
            resources.iter().any(|r| {
                r == "*"
                    || r == resource
                    || subresource.is_some_and(|sub| r.strip_prefix("*/") == Some(sub))
            })
        });
        !names_limited && core && verb_ok && resource_ok
    })
}

/// What of [`SESSION_NEEDS`] `rules` leave out.
pub fn missing_for_session(rules: &[ResourceRule]) -> Vec<(&'static str, &'static str)> {
    SESSION_NEEDS
        .iter()
        .copied()
        .filter(|(verb, resource)| !rules_allow(rules, verb, resource))
        .collect()
}

impl ClusterContext {
    /// What of [`SESSION_NEEDS`] the identity may not do in the working
    /// namespace; empty when it may do all of it, and when the server cannot
    /// list rules (the review is refused, or incomplete, as with a webhook
    /// authorizer): the requests themselves will say.
    pub async fn session_access_missing(&self) -> Vec<(&'static str, &'static str)> {
        let path = cache::cache_file(
            self,
            Scope::Identity,
            &format!("session-access-{}", self.namespace),
        );
        if path
            .as_deref()
            .and_then(|p| cache::read_fresh::<bool>(p, REMEMBER_GRANTED_FOR))
            == Some(true)
        {
            return Vec::new();
        }
        let api: Api<SelfSubjectRulesReview> = Api::all(self.client.clone());
        let review = SelfSubjectRulesReview {
            spec: SelfSubjectRulesReviewSpec {
                namespace: Some(self.namespace.clone()),
            },
            ..Default::default()
        };
        let Ok(answer) = api.create(&PostParams::default(), &review).await else {
            return Vec::new();
        };
        let Some(status) = answer.status else {
            return Vec::new();
        };
        let missing = missing_for_session(&status.resource_rules);
        if missing.is_empty()
            && let Some(path) = path
        {
            cache::write(&path, &true);
        }
        if status.incomplete {
            return Vec::new();
        }
        missing
    }

    /// The error for `user`, who may not do `missing` (never empty).
    pub fn session_not_allowed(
        &self,
        user: &str,
        missing: &[(&'static str, &'static str)],
    ) -> ClusterError {
        ClusterError::SessionNotAllowed {
            user: user.to_string(),
            namespace: self.namespace.clone(),
            missing: missing
                .iter()
                .map(|(verb, resource)| (verb.to_string(), resource.to_string()))
                .collect(),
            flags: self.kubectl_flags.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> ResourceRule {
        ResourceRule {
            api_groups: Some(groups.iter().map(|s| s.to_string()).collect()),
            resources: Some(resources.iter().map(|s| s.to_string()).collect()),
            verbs: verbs.iter().map(|s| s.to_string()).collect(),
            resource_names: None,
        }
    }

    #[test]
    fn a_role_like_toolbox_policys_allows_a_session() {
        let rules = [
            rule(
                &[""],
                &["pods"],
                &["create", "get", "list", "watch", "delete", "patch"],
            ),
            rule(&[""], &["pods/exec", "pods/attach"], &["create", "get"]),
        ];
        assert_eq!(missing_for_session(&rules), []);
        assert_eq!(missing_for_session(&[rule(&["*"], &["*"], &["*"])]), []);
        assert_eq!(
            missing_for_session(&[
                rule(&[""], &["pods"], &["*"]),
                rule(&[""], &["*/exec"], &["create", "get"])
            ]),
            []
        );
    }

    #[test]
    fn what_is_missing_is_named() {
        let create_only = [rule(&[""], &["pods"], &["create", "get", "list"])];
        assert_eq!(
            missing_for_session(&create_only),
            [
                ("watch", "pods"),
                ("delete", "pods"),
                ("create", "pods/exec"),
                ("get", "pods/exec")
            ]
        );
        // pods does not cover pods/exec; another API group grants nothing.
        let elsewhere = [
            rule(&[""], &["pods"], &["*"]),
            rule(&["apps"], &["pods/exec"], &["*"]),
        ];
        assert_eq!(
            missing_for_session(&elsewhere),
            [("create", "pods/exec"), ("get", "pods/exec")]
        );
        // A rule for named pods only does not cover toolbox's new pod.
        let mut named = rule(&[""], &["pods", "pods/exec"], &["*"]);
        named.resource_names = Some(vec!["some-pod".into()]);
        assert_eq!(missing_for_session(&[named]).len(), SESSION_NEEDS.len());
    }
}
