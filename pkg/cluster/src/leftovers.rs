//! Node-debug pods left behind, by toolbox and by the other tools that open
//! shells on nodes: which pods count (a pure classifier), finding them with
//! as few requests as a 5,000-node cluster allows, and deleting them
//! concurrently.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, Preconditions};
use toolbox_podtemplate::{
    IDLE_UNTIL_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_TOOLBOX, PERSIST_LABEL, REASON_ANNOTATION,
    REQUESTED_BY_ANNOTATION,
};

use crate::client::context::ClusterContext;
use crate::error::{Action, ClusterError, Result, api_status};

/// The `app.kubernetes.io/managed-by` value `kubectl debug node/...` sets.
pub const MANAGED_BY_KUBECTL_DEBUG: &str = "kubectl-debug";

/// How many deletions (and candidate look-ups) are in flight at once.
pub const CONCURRENCY: usize = 16;

const DELETE_TIMEOUT: Duration = Duration::from_secs(30);

/// The tool that left a pod on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// toolbox itself: labelled `app.kubernetes.io/managed-by=toolbox`.
    Toolbox,
    /// `kubectl debug node/NODE`: labelled `managed-by=kubectl-debug`, or
    /// (before kubectl set the label) named `node-debugger-<node>-xxxxx`.
    KubectlDebug,
    /// kubectl-node-shell: `nsenter-` and six lowercase letters or digits.
    NodeShell,
    /// k9s's node shell: `k9s-shell-<k9s's process id>`.
    K9s,
    /// Lens and OpenLens: `node-shell-<uuid>`, in kube-system.
    Lens,
}

impl Tool {
    pub const ALL: [Tool; 5] = [
        Tool::Toolbox,
        Tool::KubectlDebug,
        Tool::NodeShell,
        Tool::K9s,
        Tool::Lens,
    ];

    /// The `--tool` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Toolbox => "toolbox",
            Tool::KubectlDebug => "kubectl-debug",
            Tool::NodeShell => "node-shell",
            Tool::K9s => "k9s",
            Tool::Lens => "lens",
        }
    }

    /// The managed-by label value that marks this tool's pods, if it sets one.
    fn managed_by(self) -> Option<&'static str> {
        match self {
            Tool::Toolbox => Some(MANAGED_BY_TOOLBOX),
            Tool::KubectlDebug => Some(MANAGED_BY_KUBECTL_DEBUG),
            Tool::NodeShell | Tool::K9s | Tool::Lens => None,
        }
    }

    /// Whether some of this tool's pods can only be recognised by name.
    fn named(self) -> bool {
        self != Tool::Toolbox
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Tool {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        Tool::ALL
            .into_iter()
            .find(|tool| tool.name() == text)
            .ok_or_else(|| format!("unknown tool {text:?}"))
    }
}

/// Which tool left `pod` on its node, or `None` when it is not a node-debug
/// pod.
///
/// Every node-debug pod is bound to a node (`nodeName`) and owned by nothing:
/// a pod that a controller manages is never one, whatever its name. Beyond
/// that, a pod labelled by toolbox or kubectl debug counts as it is (kubectl's
/// baseline and restricted profiles have no host access, and are leftovers
/// all the same). A pod that only follows another tool's naming pattern also
/// needs the shape those tools give it: a host namespace (PID, network or
/// IPC) or a privileged container. An ordinary pod that merely shares a
/// prefix is never taken.
pub fn classify(pod: &Pod) -> Option<Tool> {
    let spec = pod.spec.as_ref()?;
    let node = spec.node_name.as_deref().filter(|n| !n.is_empty())?;
    let meta = &pod.metadata;
    if meta
        .owner_references
        .as_ref()
        .is_some_and(|o| !o.is_empty())
    {
        return None;
    }
    let managed_by = meta
        .labels
        .as_ref()
        .and_then(|labels| labels.get(MANAGED_BY_LABEL));
    if let Some(tool) = Tool::ALL.into_iter().find(|tool| {
        tool.managed_by().is_some() && tool.managed_by() == managed_by.map(String::as_str)
    }) {
        return Some(tool);
    }
    let tool = tool_by_name(meta.name.as_deref()?, node)?;
    has_host_access(spec).then_some(tool)
}

/// The tool whose naming pattern `name` follows, for a pod on `node`. The
/// name alone never makes a pod a leftover: see [`classify`].
pub fn tool_by_name(name: &str, node: &str) -> Option<Tool> {
    // kubectl: node-debugger-<node>-<5 of utilrand's alphabet>.
    if let Some(suffix) = name
        .strip_prefix("node-debugger-")
        .and_then(|rest| rest.strip_prefix(node))
        .and_then(|rest| rest.strip_prefix('-'))
        && suffix.len() == 5
        && suffix
            .bytes()
            .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
    {
        return Some(Tool::KubectlDebug);
    }
    // kubectl-node-shell: nsenter-$(tr -dc a-z0-9 </dev/urandom | head -c 6).
    if let Some(suffix) = name.strip_prefix("nsenter-")
        && suffix.len() == 6
        && suffix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Some(Tool::NodeShell);
    }
    // k9s: k9s-shell-<pid>.
    if let Some(pid) = name.strip_prefix("k9s-shell-")
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(Tool::K9s);
    }
    // Lens: node-shell-<uuid v4>, lowercase.
    if let Some(uuid) = name.strip_prefix("node-shell-")
        && is_uuid(uuid)
    {
        return Some(Tool::Lens);
    }
    None
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| {
            g.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

/// A host namespace or a privileged container: what every node shell needs.
fn has_host_access(spec: &PodSpec) -> bool {
    let privileged = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(|c| c.security_context.as_ref().and_then(|s| s.privileged) == Some(true));
    spec.host_pid == Some(true)
        || spec.host_network == Some(true)
        || spec.host_ipc == Some(true)
        || privileged
}

/// One node-debug pod found on the cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    pub namespace: String,
    pub name: String,
    /// Deletion is conditional on it, so that a new pod that took the name
    /// since the list is left alone.
    pub uid: Option<String>,
    pub node: String,
    pub tool: Tool,
    /// Pending, Running, Succeeded, Failed or Unknown.
    pub phase: String,
    pub created: Option<Timestamp>,
    /// toolbox's requested-by annotation.
    pub started_by: Option<String>,
    /// toolbox's reason annotation.
    pub reason: Option<String>,
    /// A toolbox pod kept for its owner's next session (`--persist`).
    pub persisting: Option<Persisting>,
}

/// A persisting pod's state, for people deciding whether to remove it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Persisting {
    /// When the pod ends if no session comes (RFC 3339); `None` while a
    /// session runs in it.
    pub idle_until: Option<String>,
}

impl Persisting {
    /// "persisting, idle until 2026-11-27T09:50:15Z", or "persisting, in use".
    pub fn describe(&self) -> String {
        match &self.idle_until {
            Some(until) => format!("persisting, idle until {until}"),
            None => "persisting, in use".to_string(),
        }
    }
}

impl Leftover {
    pub fn from_pod(pod: &Pod, tool: Tool) -> Leftover {
        let meta = &pod.metadata;
        let annotation = |key: &str| {
            meta.annotations
                .as_ref()
                .and_then(|a| a.get(key))
                .filter(|v| !v.is_empty())
                .cloned()
        };
        Leftover {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            uid: meta.uid.clone(),
            node: pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default(),
            tool,
            phase: pod
                .status
                .as_ref()
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Unknown".into()),
            created: meta.creation_timestamp.as_ref().map(|t| t.0),
            started_by: annotation(REQUESTED_BY_ANNOTATION),
            reason: annotation(REASON_ANNOTATION),
            persisting: (tool == Tool::Toolbox
                && meta
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(PERSIST_LABEL))
                    .is_some_and(|v| v == "true"))
            .then(|| Persisting {
                idle_until: annotation(IDLE_UNTIL_ANNOTATION),
            }),
        }
    }

    /// How long ago the pod was created; zero for a clock that lags.
    pub fn age(&self, now: Timestamp) -> Option<Duration> {
        let created = self.created?;
        let seconds = now.as_second().saturating_sub(created.as_second()).max(0);
        Some(Duration::from_secs(seconds as u64))
    }

    /// Its containers have ended: Succeeded or Failed.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase.as_str(), "Succeeded" | "Failed")
    }
}

/// Which leftovers to find. The default finds every one, in all namespaces.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeftoverFilter {
    /// One namespace; `None` for all of them.
    pub namespace: Option<String>,
    pub node: Option<String>,
    /// The tools to look for; empty for all of them.
    pub tools: Vec<Tool>,
    /// Only pods at least this old.
    pub older_than: Option<Duration>,
    /// Only Succeeded or Failed pods.
    pub finished: bool,
}

impl LeftoverFilter {
    pub fn wants_tool(&self, tool: Tool) -> bool {
        self.tools.is_empty() || self.tools.contains(&tool)
    }

    pub fn matches(&self, leftover: &Leftover, now: Timestamp) -> bool {
        let old_enough = match self.older_than {
            None => true,
            // A pod of unknown age is not known to be old enough.
            Some(min) => leftover.age(now).is_some_and(|age| age >= min),
        };
        self.namespace
            .as_ref()
            .is_none_or(|ns| *ns == leftover.namespace)
            && self.node.as_ref().is_none_or(|n| *n == leftover.node)
            && self.wants_tool(leftover.tool)
            && old_enough
            && (!self.finished || leftover.is_finished())
    }

    /// The label selector for the tools that label their pods, if any is wanted.
    fn label_selector(&self) -> Option<String> {
        let values: Vec<&str> = Tool::ALL
            .into_iter()
            .filter(|t| self.wants_tool(*t))
            .filter_map(Tool::managed_by)
            .collect();
        (!values.is_empty()).then(|| format!("{MANAGED_BY_LABEL} in ({})", values.join(",")))
    }

    /// Only pods bound to a node (to this one, with --node) can be leftovers;
    /// the API server filters them.
    fn field_selector(&self) -> String {
        match &self.node {
            Some(node) => format!("spec.nodeName={node}"),
            None => "spec.nodeName!=".to_string(),
        }
    }
}

/// How the deletion of one leftover ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// Gone before toolbox got to it: counts as done.
    AlreadyGone,
    Failed(String),
}

impl ClusterContext {
    /// The leftovers `filter` selects, sorted by namespace and name.
    ///
    /// At most two lists, sent together, however large the cluster: the pods
    /// that toolbox and kubectl debug label, selected by the API server; and
    /// the name and node of every pod bound to a node, as a server-side Table
    /// without the objects (about 250 bytes a pod, where even metadata-only
    /// lists carry kilobytes of managedFields). Names that follow another
    /// tool's pattern are then fetched whole, 16 at a time, to check their
    /// shape: there are few of those.
    pub async fn find_leftovers(
        &self,
        filter: &LeftoverFilter,
        now: Timestamp,
    ) -> Result<Vec<Leftover>> {
        let api: Api<Pod> = match &filter.namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        let list_error = |err| {
            let action = match &filter.namespace {
                Some(ns) => Action::namespaced("list", "pods", ns),
                None => Action::cluster("list", "pods"),
            };
            self.request_error(action, err)
        };
        let fields = filter.field_selector();
        let labelled = async {
            match filter.label_selector() {
                Some(selector) => api
                    .list(&ListParams::default().labels(&selector).fields(&fields))
                    .await
                    .map(|list| list.items)
                    .map_err(list_error),
                None => Ok(Vec::new()),
            }
        };
        let wants_names = Tool::ALL
            .into_iter()
            .any(|t| t.named() && filter.wants_tool(t));
        let named = async {
            if wants_names {
                self.pod_names_and_nodes(filter.namespace.as_deref(), &fields)
                    .await
            } else {
                Ok(Vec::new())
            }
        };
        let (labelled, names) = tokio::try_join!(labelled, named)?;

        let known: HashSet<&str> = labelled
            .iter()
            .filter_map(|p| p.metadata.name.as_deref())
            .collect();
        let mut candidates: Vec<&str> = names
            .iter()
            .filter(|(name, node)| {
                !known.contains(name.as_str())
                    && tool_by_name(name, node).is_some_and(|t| filter.wants_tool(t))
            })
            .map(|(name, _)| name.as_str())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let named_pods: Vec<Vec<Pod>> = stream::iter(candidates)
            .map(|name| {
                let params = ListParams::default().fields(&format!("metadata.name={name}"));
                let api = &api;
                async move { api.list(&params).await.map(|list| list.items) }
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await
            .map_err(list_error)?;

        let mut found: Vec<Leftover> = labelled
            .iter()
            .chain(named_pods.iter().flatten())
            .filter_map(|pod| classify(pod).map(|tool| Leftover::from_pod(pod, tool)))
            .filter(|leftover| filter.matches(leftover, now))
            .collect();
        found.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        found.dedup_by(|a, b| a.namespace == b.namespace && a.name == b.name);
        Ok(found)
    }

    /// The name and node of every pod `field_selector` selects, in one
    /// request, as the server's Table rendering without the objects.
    async fn pod_names_and_nodes(
        &self,
        namespace: Option<&str>,
        field_selector: &str,
    ) -> Result<Vec<(String, String)>> {
        let path = match namespace {
            Some(ns) => format!("/api/v1/namespaces/{ns}/pods"),
            None => "/api/v1/pods".to_string(),
        };
        let action = || match namespace {
            Some(ns) => Action::namespaced("list", "pods", ns),
            None => Action::cluster("list", "pods"),
        };
        let uri = format!(
            "{path}?includeObject=None&fieldSelector={}",
            query_escape(field_selector)
        );
        let request = http::Request::get(uri)
            .header(
                http::header::ACCEPT,
                "application/json;as=Table;v=v1;g=meta.k8s.io",
            )
            .body(Vec::new())
            .map_err(|e| ClusterError::Api {
                action: format!("cannot {}", action()),
                source: kube::Error::HttpError(e),
            })?;
        let table: PodTable = self
            .client
            .request(request)
            .await
            .map_err(|e| self.request_error(action(), e))?;
        let column = |name: &str| table.column_definitions.iter().position(|c| c.name == name);
        let (Some(name_at), Some(node_at)) = (column("Name"), column("Node")) else {
            return Ok(Vec::new());
        };
        Ok(table
            .rows
            .into_iter()
            .filter_map(|row| {
                let cell = |i: usize| row.cells.get(i)?.as_str().map(str::to_string);
                Some((cell(name_at)?, cell(node_at)?))
            })
            .collect())
    }

    /// Deletes the leftovers, [`CONCURRENCY`] at a time and at once (grace
    /// period 0), yielding each as its deletion ends. A failure ends only
    /// that pod's deletion.
    pub fn delete_leftovers(
        &self,
        leftovers: Vec<Leftover>,
    ) -> impl Stream<Item = (Leftover, Deletion)> + '_ {
        stream::iter(leftovers)
            .map(move |leftover| async move {
                let outcome = self.delete_leftover(&leftover).await;
                (leftover, outcome)
            })
            .buffer_unordered(CONCURRENCY)
    }

    async fn delete_leftover(&self, leftover: &Leftover) -> Deletion {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &leftover.namespace);
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: leftover.uid.clone().map(|uid| Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match tokio::time::timeout(DELETE_TIMEOUT, api.delete(&leftover.name, &params)).await {
            Ok(Ok(_)) => Deletion::Deleted,
            Ok(Err(err)) => match api_status(&err).map(|s| s.code) {
                Some(404) => Deletion::AlreadyGone,
                // The uid precondition failed: the pod that was listed is
                // gone, and the one now holding its name is not a leftover
                // anyone chose to delete.
                Some(409) => Deletion::AlreadyGone,
                _ => Deletion::Failed(
                    self.request_error(
                        Action::namespaced("delete", "pods", &leftover.namespace),
                        err,
                    )
                    .to_string(),
                ),
            },
            Err(_) => Deletion::Failed(format!(
                "no answer from the API server within {}s",
                DELETE_TIMEOUT.as_secs()
            )),
        }
    }
}

/// Percent-encodes a query parameter's value.
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The part of a meta.k8s.io/v1 Table of pods that cleanup reads.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodTable {
    column_definitions: Vec<PodTableColumn>,
    rows: Vec<PodTableRow>,
}

#[derive(serde::Deserialize)]
struct PodTableColumn {
    name: String,
}

#[derive(serde::Deserialize)]
struct PodTableRow {
    cells: Vec<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A pod named `name` on node-1 with `spec` merged over a plain one.
    fn pod(name: &str, labels: Value, spec: Value) -> Pod {
        let mut base = json!({
            "nodeName": "node-1",
            "containers": [{ "name": "c", "image": "alpine" }]
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), spec.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(json!({
            "metadata": { "name": name, "namespace": "ns", "labels": labels },
            "spec": base
        }))
        .unwrap()
    }

    fn host_pid() -> Value {
        json!({ "hostPID": true })
    }

    fn privileged() -> Value {
        json!({ "containers": [{ "name": "c", "securityContext": { "privileged": true } }] })
    }

    #[test]
    fn labelled_pods_count_whatever_their_name_and_shape() {
        let toolbox = pod(
            "anything",
            json!({ MANAGED_BY_LABEL: "toolbox" }),
            json!({}),
        );
        assert_eq!(classify(&toolbox), Some(Tool::Toolbox));
        // kubectl debug --profile baseline: no host access, still a leftover.
        let kubectl = pod(
            "node-debugger-node-1-5sgpx",
            json!({ MANAGED_BY_LABEL: "kubectl-debug" }),
            json!({}),
        );
        assert_eq!(classify(&kubectl), Some(Tool::KubectlDebug));
        let other = pod("x", json!({ MANAGED_BY_LABEL: "helm" }), host_pid());
        assert_eq!(classify(&other), None);
    }

    #[test]
    fn each_tools_name_with_its_shape_counts() {
        for (name, tool) in [
            ("node-debugger-node-1-5sgpx", Tool::KubectlDebug),
            ("nsenter-a1b2c3", Tool::NodeShell),
            ("k9s-shell-48213", Tool::K9s),
            (
                "node-shell-6f1c1e02-3c9b-4f4e-9d8a-0b7b8f9e2a11",
                Tool::Lens,
            ),
        ] {
            assert_eq!(
                classify(&pod(name, json!({}), host_pid())),
                Some(tool),
                "{name}"
            );
            assert_eq!(
                classify(&pod(name, json!({}), privileged())),
                Some(tool),
                "{name} privileged"
            );
        }
        for shape in [json!({ "hostNetwork": true }), json!({ "hostIPC": true })] {
            assert_eq!(
                classify(&pod("nsenter-abc123", json!({}), shape)),
                Some(Tool::NodeShell)
            );
        }
    }

    #[test]
    fn a_look_alike_without_host_access_is_never_taken() {
        for name in [
            "nsenter-abc123",
            "node-debugger-node-1-5sgpx",
            "k9s-shell-1",
            "node-shell-6f1c1e02-3c9b-4f4e-9d8a-0b7b8f9e2a11",
        ] {
            assert_eq!(classify(&pod(name, json!({}), json!({}))), None, "{name}");
        }
    }

    #[test]
    fn names_that_only_share_a_prefix_are_not_any_tools() {
        for name in [
            "nsenter-abc1234",            // seven characters
            "nsenter-ABC123",             // upper case
            "nsenter-proxy",              // a word
            "node-debugger-node-2-5sgpx", // another node
            "node-debugger-node-1-aeiou", // vowels are not in kubectl's alphabet
            "node-debugger-node-1-5sgp",  // four characters
            "k9s-shell-",
            "k9s-shell-main",
            "node-shell-6f1c1e02",
            "node-shell-6F1C1E02-3C9B-4F4E-9D8A-0B7B8F9E2A11",
            "node-shell-6f1c1e02-3c9b-4f4e-9d8a-0b7b8f9e2a1z",
            "toolbox-shell-node-1-x7k2p", // toolbox's own are found by label
        ] {
            assert_eq!(tool_by_name(name, "node-1"), None, "{name}");
            assert_eq!(classify(&pod(name, json!({}), host_pid())), None, "{name}");
        }
    }

    #[test]
    fn unbound_or_owned_pods_are_never_leftovers() {
        let unbound = pod(
            "nsenter-abc123",
            json!({ MANAGED_BY_LABEL: "toolbox" }),
            json!({ "nodeName": null, "hostPID": true }),
        );
        assert_eq!(classify(&unbound), None);
        let mut owned = pod("nsenter-abc123", json!({}), host_pid());
        owned.metadata.owner_references = Some(vec![
            serde_json::from_value(json!({
                "apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "u"
            }))
            .unwrap(),
        ]);
        assert_eq!(classify(&owned), None);
        owned.metadata.labels =
            Some([(MANAGED_BY_LABEL.to_string(), "toolbox".to_string())].into());
        assert_eq!(classify(&owned), None, "even with toolbox's label");
    }

    #[test]
    fn a_node_name_with_dashes_still_parses() {
        assert_eq!(
            tool_by_name(
                "node-debugger-ip-10-0-1-7.ec2.internal-x7k2p",
                "ip-10-0-1-7.ec2.internal"
            ),
            Some(Tool::KubectlDebug)
        );
    }

    fn leftover(phase: &str, created: &str) -> Leftover {
        Leftover {
            namespace: "ns".into(),
            name: "p".into(),
            uid: None,
            node: "node-1".into(),
            tool: Tool::NodeShell,
            phase: phase.into(),
            created: Some(created.parse().unwrap()),
            started_by: None,
            reason: None,
            persisting: None,
        }
    }

    #[test]
    fn filters_narrow_by_node_tool_age_and_phase() {
        let now: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
        let running = leftover("Running", "2026-05-01T11:00:00Z");
        let failed = leftover("Failed", "2026-05-01T11:50:00Z");
        let all = LeftoverFilter::default();
        assert!(all.matches(&running, now) && all.matches(&failed, now));

        let finished = LeftoverFilter {
            finished: true,
            ..all.clone()
        };
        assert!(!finished.matches(&running, now) && finished.matches(&failed, now));

        let old = LeftoverFilter {
            older_than: Some(Duration::from_secs(30 * 60)),
            ..all.clone()
        };
        assert!(old.matches(&running, now) && !old.matches(&failed, now));
        let mut ageless = running.clone();
        ageless.created = None;
        assert!(!old.matches(&ageless, now));

        let node = LeftoverFilter {
            node: Some("node-2".into()),
            ..all.clone()
        };
        assert!(!node.matches(&running, now));
        let tool = LeftoverFilter {
            tools: vec![Tool::K9s, Tool::Lens],
            ..all.clone()
        };
        assert!(!tool.matches(&running, now));
        let namespace = LeftoverFilter {
            namespace: Some("other".into()),
            ..all
        };
        assert!(!namespace.matches(&running, now));
    }

    #[test]
    fn selectors_ask_the_server_for_no_more_than_needed() {
        let all = LeftoverFilter::default();
        assert_eq!(
            all.label_selector().as_deref(),
            Some("app.kubernetes.io/managed-by in (toolbox,kubectl-debug)")
        );
        assert_eq!(all.field_selector(), "spec.nodeName!=");
        let named_only = LeftoverFilter {
            tools: vec![Tool::Lens],
            node: Some("n1".into()),
            ..LeftoverFilter::default()
        };
        assert_eq!(named_only.label_selector(), None);
        assert_eq!(named_only.field_selector(), "spec.nodeName=n1");
        assert_eq!(query_escape("spec.nodeName!="), "spec.nodeName%21%3D");
    }

    #[test]
    fn tools_parse_from_their_names() {
        for tool in Tool::ALL {
            assert_eq!(tool.name().parse::<Tool>(), Ok(tool));
        }
        assert!("kubectl".parse::<Tool>().is_err());
    }

    #[test]
    fn leftovers_carry_toolboxs_audit_annotations() {
        let mut p = pod(
            "toolbox-shell-node-1-x7k2p",
            json!({ MANAGED_BY_LABEL: "toolbox" }),
            json!({}),
        );
        p.metadata.annotations = Some(
            [
                (REQUESTED_BY_ANNOTATION.to_string(), "alice".to_string()),
                (REASON_ANNOTATION.to_string(), "INC-1".to_string()),
            ]
            .into(),
        );
        let found = Leftover::from_pod(&p, Tool::Toolbox);
        assert_eq!(found.started_by.as_deref(), Some("alice"));
        assert_eq!(found.reason.as_deref(), Some("INC-1"));
        assert_eq!(found.phase, "Unknown");
        assert_eq!(found.node, "node-1");
    }
}
