//! The handle every phase works through.

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;

use crate::client::context::ClusterContext;

/// The session pods of one namespace: the cluster context they are
/// created through, and the Api of its namespace.
#[derive(Clone)]
pub(crate) struct Pods<'a> {
    pub(crate) cluster: &'a ClusterContext,
    pub(crate) api: Api<Pod>,
}

impl<'a> Pods<'a> {
    /// The pods of the cluster context's namespace.
    pub(crate) fn of(cluster: &'a ClusterContext) -> Pods<'a> {
        Pods {
            cluster,
            api: Api::namespaced(cluster.client.clone(), &cluster.namespace),
        }
    }

    /// The same pods through `client`, a client of the same cluster.
    pub(crate) fn through(cluster: &'a ClusterContext, client: kube::Client) -> Pods<'a> {
        Pods {
            cluster,
            api: Api::namespaced(client, &cluster.namespace),
        }
    }
}
