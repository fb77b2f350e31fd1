//! Which admission policies apply to pods in the working namespace, for
//! `toolbox compare`: toolbox's own node-access policy (`toolbox policy`),
//! with what it enforces (recording, where `--require-recording` added its
//! policy), and any other ValidatingAdmissionPolicy or
//! MutatingAdmissionPolicy bound there.

use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::{
    MatchResources, MutatingAdmissionPolicy, MutatingAdmissionPolicyBinding,
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams, ObjectList};
use serde::Serialize;
use toolbox_policy::{
    DEFAULT_TTL_ANNOTATION, GROUP_ANNOTATION, MAX_TTL_ANNOTATION, RECORDER_IMAGE_ANNOTATION,
};

use crate::client::context::ClusterContext;
use crate::error::{Action, ClusterError};

/// One admission policy bound to the namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BoundPolicy {
    /// ValidatingAdmissionPolicy or MutatingAdmissionPolicy.
    pub kind: &'static str,
    pub name: String,
    pub binding: String,
    /// What toolbox's own policy enforces, from its annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_ttl_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ttl_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The recording policy's pinned recorder image: recording is required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorder_image: Option<String>,
}

/// Whether a binding's namespaceSelector takes in a namespace with these
/// labels: no selector takes in every namespace; matchLabels must all
/// match; matchExpressions are judged for In, NotIn, Exists, DoesNotExist.
pub fn selects(matched: Option<&MatchResources>, labels: &BTreeMap<String, String>) -> bool {
    let Some(selector) = matched.and_then(|m| m.namespace_selector.as_ref()) else {
        return true;
    };
    selector_matches(selector, labels)
}

fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let by_expressions = selector.match_expressions.iter().flatten().all(|e| {
        let value = labels.get(&e.key);
        let values = e.values.clone().unwrap_or_default();
        match e.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    });
    by_labels && by_expressions
}

/// An empty list where the server does not serve the resource at all.
fn none_before_v1<K: Clone>(listed: kube::Result<ObjectList<K>>) -> kube::Result<ObjectList<K>> {
    match listed {
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(ObjectList {
            types: Default::default(),
            metadata: Default::default(),
            items: Vec::new(),
        }),
        other => other,
    }
}

impl ClusterContext {
    /// The admission policies bound to the working namespace, toolbox's
    /// own with what it enforces. An error says why they could not be read.
    pub async fn bound_policies(&self) -> Result<Vec<BoundPolicy>, ClusterError> {
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        let labels = namespaces
            .get(&self.namespace)
            .await
            .map(|ns| ns.metadata.labels.unwrap_or_default())
            .unwrap_or_else(|_| {
                BTreeMap::from([(
                    "kubernetes.io/metadata.name".to_string(),
                    self.namespace.clone(),
                )])
            });
        let list = ListParams::default();
        let vab: Api<ValidatingAdmissionPolicyBinding> = Api::all(self.client.clone());
        let mab: Api<MutatingAdmissionPolicyBinding> = Api::all(self.client.clone());
        let vap: Api<ValidatingAdmissionPolicy> = Api::all(self.client.clone());
        let map: Api<MutatingAdmissionPolicy> = Api::all(self.client.clone());
        let refused = |resource: &'static str| {
            move |err| self.request_error(Action::cluster("list", resource), err)
        };
        let (vab, mab, vap, map) = tokio::join!(
            vab.list(&list),
            mab.list(&list),
            vap.list(&list),
            map.list(&list)
        );
        let vab = vab.map_err(refused("validatingadmissionpolicybindings"))?;
        // MutatingAdmissionPolicy is v1 from Kubernetes 1.36; an older
        // server has none to list (404), which is not an error.
        let mab = none_before_v1(mab).map_err(refused("mutatingadmissionpolicybindings"))?;
        let vap = vap.map_err(refused("validatingadmissionpolicies"))?;
        let map = none_before_v1(map).map_err(refused("mutatingadmissionpolicies"))?;
        // Each policy's annotations, by kind and name: toolbox's say what it enforces.
        let annotated: BTreeMap<(&str, String), BTreeMap<String, String>> = vap
            .items
            .into_iter()
            .map(|p| ("ValidatingAdmissionPolicy", p.metadata))
            .chain(
                map.items
                    .into_iter()
                    .map(|p| ("MutatingAdmissionPolicy", p.metadata)),
            )
            .map(|(kind, meta)| {
                (
                    (kind, meta.name.unwrap_or_default()),
                    meta.annotations.unwrap_or_default(),
                )
            })
            .collect();
        let bound = |kind: &'static str, binding: String, policy: String| {
            let facts = annotated
                .get(&(kind, policy.clone()))
                .cloned()
                .unwrap_or_default();
            let number = |key: &str| facts.get(key).and_then(|v| v.parse().ok());
            BoundPolicy {
                kind,
                default_ttl_seconds: number(DEFAULT_TTL_ANNOTATION),
                max_ttl_seconds: number(MAX_TTL_ANNOTATION),
                group: facts.get(GROUP_ANNOTATION).cloned(),
                recorder_image: facts.get(RECORDER_IMAGE_ANNOTATION).cloned(),
                name: policy,
                binding,
            }
        };
        let mut found = Vec::new();
        for b in vab.items {
            if selects(b.spec.match_resources.as_ref(), &labels) {
                found.push(bound(
                    "ValidatingAdmissionPolicy",
                    b.metadata.name.unwrap_or_default(),
                    b.spec.policy_name,
                ));
            }
        }
        for b in mab.items {
            let spec = b.spec.unwrap_or_default();
            if selects(spec.match_resources.as_ref(), &labels) {
                found.push(bound(
                    "MutatingAdmissionPolicy",
                    b.metadata.name.unwrap_or_default(),
                    spec.policy_name.unwrap_or_default(),
                ));
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resources(selector: serde_json::Value) -> MatchResources {
        serde_json::from_value(json!({ "namespaceSelector": selector })).unwrap()
    }

    #[test]
    fn a_binding_selects_namespaces_by_their_labels() {
        let labels = BTreeMap::from([
            (
                "kubernetes.io/metadata.name".to_string(),
                "node-access".to_string(),
            ),
            ("team".to_string(), "sre".to_string()),
        ]);
        assert!(selects(None, &labels));
        assert!(selects(
            Some(&resources(
                json!({ "matchLabels": { "kubernetes.io/metadata.name": "node-access" } })
            )),
            &labels
        ));
        assert!(!selects(
            Some(&resources(
                json!({ "matchLabels": { "kubernetes.io/metadata.name": "other" } })
            )),
            &labels
        ));
        assert!(selects(
            Some(&resources(
                json!({ "matchExpressions": [{ "key": "team", "operator": "In", "values": ["sre", "ops"] }] })
            )),
            &labels
        ));
        assert!(!selects(
            Some(&resources(
                json!({ "matchExpressions": [{ "key": "team", "operator": "DoesNotExist" }] })
            )),
            &labels
        ));
    }
}
