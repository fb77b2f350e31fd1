//! Fitting toolbox's default lifetime to a namespace's maximum. A namespace
//! under `toolbox policy` refuses a node-access pod that would live longer
//! than its maximum, and its refusal names the maximum. A pod whose
//! lifetime the user chose (`--ttl`, or a ttl setting) stays refused; one
//! whose lifetime is toolbox's default is made again with the maximum.
//!
//! Nothing is asked in advance: members may not read admission policies,
//! and a namespace without a policy costs no request more. The refusal's
//! words come from the API server, so the most they can do is shorten a
//! pod's lifetime, never lengthen it.

use std::sync::{Mutex, PoisonError};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use toolbox_podtemplate::{fit_lifetime, ttl_is_default};
use toolbox_policy::{max_ttl_in_refusal, ttl_words};

fn lifetime(pod: &Pod) -> Option<i64> {
    pod.spec.as_ref()?.active_deadline_seconds
}

/// `pod` again with the maximum that `refusal` names, when its lifetime
/// is toolbox's default and longer than that maximum; None otherwise.
pub(crate) fn fitted_to_refusal(pod: &Pod, refusal: &str, now: Timestamp) -> Option<Pod> {
    fitted_to(pod, max_ttl_in_refusal(refusal)?, now)
}

/// `pod` with lifetime `max` from `now`, when its lifetime is toolbox's
/// default and longer than that; None otherwise.
pub(crate) fn fitted_to(pod: &Pod, max: i64, now: Timestamp) -> Option<Pod> {
    if !ttl_is_default(pod) || lifetime(pod)? <= max {
        return None;
    }
    let expires_at = Timestamp::from_second(now.as_second() + max).ok()?;
    Some(fit_lifetime(pod.clone(), max, expires_at.to_string()))
}

/// The line that says a pod lives less than toolbox's default, and why,
/// when `created` was fitted from `asked`.
pub(crate) fn fitted_line(asked: &Pod, created: &Pod, namespace: &str) -> Option<String> {
    let (asked, given) = (lifetime(asked)?, lifetime(created)?);
    (given < asked).then(|| {
        format!(
            "note: lifetime {}, namespace {namespace}'s maximum, instead of toolbox's default {} (choose with --ttl {} or less)",
            ttl_words(given),
            ttl_words(asked),
            ttl_words(given)
        )
    })
}

/// What a fan-out run learnt of the namespace's maximum from its first
/// fitted pod: the run's next pods are made with it at once, and the run
/// says so once.
#[derive(Default)]
pub(crate) struct LearntMaximum(Mutex<Option<i64>>);

impl LearntMaximum {
    /// `pod`, fitted to the maximum if one was learnt.
    pub(crate) fn fit(&self, pod: Pod) -> Pod {
        let learnt = *self.0.lock().unwrap_or_else(PoisonError::into_inner);
        learnt
            .and_then(|max| fitted_to(&pod, max, Timestamp::now()))
            .unwrap_or(pod)
    }

    /// Learns the maximum from `created` if it was fitted from `asked`:
    /// the line to say, the first time only.
    pub(crate) fn learn(&self, asked: &Pod, created: &Pod, namespace: &str) -> Option<String> {
        let line = fitted_line(asked, created, namespace)?;
        let mut learnt = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if learnt.is_some() {
            return None;
        }
        *learnt = lifetime(created);
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(ttl: i64, default: bool) -> Pod {
        let mut annotations = json!({ "toolbox.dev/ttl-seconds": ttl.to_string() });
        if default {
            annotations["toolbox.dev/ttl-is-default"] = json!("true");
        }
        serde_json::from_value(json!({
            "metadata": { "name": "toolbox-shell-n-x7k2p", "annotations": annotations },
            "spec": { "activeDeadlineSeconds": ttl, "containers": [] }
        }))
        .unwrap()
    }

    const REFUSAL: &str = "pods \"toolbox-shell-n-x7k2p\" is forbidden: ValidatingAdmissionPolicy 'toolbox-node-access-na' with binding 'toolbox-node-access-na' denied request: lifetime 3600s exceeds this namespace's maximum of 1800s; use --ttl 30m or less";

    #[test]
    fn only_a_default_lifetime_over_the_maximum_is_fitted() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let fitted = fitted_to_refusal(&pod(3600, true), REFUSAL, now).unwrap();
        assert_eq!(lifetime(&fitted), Some(1800));
        assert_eq!(
            fitted.metadata.annotations.as_ref().unwrap()["toolbox.dev/expires-at"],
            "2027-01-15T08:30:00Z"
        );
        // Chosen by the user: theirs to change.
        assert_eq!(fitted_to_refusal(&pod(3600, false), REFUSAL, now), None);
        // Words from the server can only shorten a lifetime.
        assert_eq!(fitted_to_refusal(&pod(600, true), REFUSAL, now), None);
        // Another refusal: nothing to fit.
        let other = "ValidatingAdmissionPolicy 'x' denied request: a node-access pod must name its one node in spec.nodeName";
        assert_eq!(fitted_to_refusal(&pod(3600, true), other, now), None);
    }

    #[test]
    fn a_run_fits_its_next_pods_to_what_it_learnt_and_says_so_once() {
        let learnt = LearntMaximum::default();
        assert_eq!(lifetime(&learnt.fit(pod(3600, true))), Some(3600));
        assert!(
            learnt
                .learn(&pod(3600, true), &pod(1800, true), "na")
                .is_some()
        );
        assert_eq!(learnt.learn(&pod(3600, true), &pod(1800, true), "na"), None);
        assert_eq!(lifetime(&learnt.fit(pod(3600, true))), Some(1800));
        assert_eq!(lifetime(&learnt.fit(pod(3600, false))), Some(3600));
    }

    #[test]
    fn a_fitted_pod_is_said_in_one_line() {
        assert_eq!(
            fitted_line(&pod(3600, true), &pod(1800, true), "node-access").as_deref(),
            Some(
                "note: lifetime 30m, namespace node-access's maximum, instead of toolbox's default 1h (choose with --ttl 30m or less)"
            )
        );
        assert_eq!(
            fitted_line(&pod(3600, true), &pod(3600, true), "node-access"),
            None
        );
    }
}
