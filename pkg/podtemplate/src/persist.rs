//! Persisting pods (`--persist`): a pod that outlives its session for a
//! while, so that the next session of the same user on the same node, with
//! the same pod shape, starts with an exec instead of a new pod.
//!
//! The pod bounds its own idle time. Its holder process watches its own
//! cgroup: every exec'd session runs in the container's cgroup, so when
//! nothing but the holder has run there for the idle time, the holder exits
//! and the kubelet ends the pod. `activeDeadlineSeconds` (the TTL) stays the
//! hard bound on top.

use k8s_openapi::api::core::v1::Pod;

use crate::{EXPIRES_AT_ANNOTATION, TTL_ANNOTATION};

/// Label: the pod may be reused by its owner's next matching session.
pub const PERSIST_LABEL: &str = "toolbox.dev/persist";
/// Label: a hash of everything a session's pod is made of except its name,
/// its audit annotations and its lifetime. Equal shapes are interchangeable.
pub const SHAPE_LABEL: &str = "toolbox.dev/shape";
/// Annotation: how long the pod may stay idle, in seconds.
pub const PERSIST_SECONDS_ANNOTATION: &str = "toolbox.dev/persist-seconds";
/// Annotation: RFC 3339 time at which the pod ends if no session comes;
/// absent while a session runs in it.
pub const IDLE_UNTIL_ANNOTATION: &str = "toolbox.dev/idle-until";
/// Annotation: JSON array of the sessions that reused the pod, newest last:
/// `[{"at": RFC 3339, "command": [...], "clientHost": ...}]`.
pub const REUSES_ANNOTATION: &str = "toolbox.dev/reuses";

/// The reuses one pod keeps on record; older ones are dropped, and the
/// API server's audit log has every exec in any case.
pub const MAX_REUSES_RECORDED: usize = 100;

/// The name the holder's shell runs under (its `$0`).
pub const IDLE_HOLDER_NAME: &str = "toolbox-idle-holder";

/// The holder of a persisting pod. `$1` is the idle time and `$2` the TTL,
/// in seconds. Every second it reads its container's cgroup (cgroup v2, or
/// the v1 pids hierarchy): any process there besides itself is a session,
/// and resets the idle count. `read` and the loop run in the shell itself,
/// so that the holder's own helpers are not counted. Where no cgroup can be
/// read, the holder keeps the pod to its TTL, as a non-persisting pod's does.
///
/// The shell's own PID comes from /proc/self/stat, read by the shell
/// itself: Kubernetes turns `$$` in a container's command into `$`.
pub const IDLE_HOLDER: &str = r#"procs=/sys/fs/cgroup/cgroup.procs
[ -r "$procs" ] || procs=/sys/fs/cgroup/pids/cgroup.procs
[ -r "$procs" ] || exec sleep "$2"
read -r holder _ < /proc/self/stat
idle=0
while [ "$idle" -lt "$1" ]; do
  sleep 1
  busy=0
  while read -r pid; do [ "$pid" = "$holder" ] || busy=1; done < "$procs"
  if [ "$busy" = 1 ]; then idle=0; else idle=$((idle + 1)); fi
done"#;

/// Makes `pod` (as node_shell_pod or debug_node_pod built it) a persisting
/// pod: its holder ends it after `idle_seconds` without a session, and its
/// labels say it may be reused and by which shape.
pub fn make_persisting(mut pod: Pod, idle_seconds: i64) -> Pod {
    let ttl = pod
        .spec
        .as_ref()
        .and_then(|s| s.active_deadline_seconds)
        .unwrap_or(idle_seconds);
    if let Some(holder) = pod.spec.as_mut().and_then(|s| s.containers.first_mut()) {
        holder.command = Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            IDLE_HOLDER.to_owned(),
            IDLE_HOLDER_NAME.to_owned(),
            idle_seconds.to_string(),
            ttl.to_string(),
        ]);
        holder.args = None;
    }
    let shape = pod_shape(&pod);
    let labels = pod.metadata.labels.get_or_insert_with(Default::default);
    labels.insert(PERSIST_LABEL.to_owned(), "true".to_owned());
    labels.insert(SHAPE_LABEL.to_owned(), shape);
    pod.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(
            PERSIST_SECONDS_ANNOTATION.to_owned(),
            idle_seconds.to_string(),
        );
    pod
}

/// The shape of a pod: a hash of its spec and labels without what differs
/// between two sessions that could share a pod: the holder's command (it
/// carries the TTL and the idle time), the lifetime, and the shape label
/// itself. The audit annotations and the name are not part of it either.
pub fn pod_shape(pod: &Pod) -> String {
    let mut spec = pod.spec.clone().unwrap_or_default();
    spec.active_deadline_seconds = None;
    for container in &mut spec.containers {
        container.command = None;
        container.args = None;
    }
    let mut labels = pod.metadata.labels.clone().unwrap_or_default();
    labels.remove(SHAPE_LABEL);
    labels.remove(PERSIST_LABEL);
    // Struct fields serialize in declaration order and maps are ordered, so
    // equal shapes give equal text.
    let text = serde_json::json!({ "spec": spec, "labels": labels }).to_string();
    format!("{:016x}", fnv1a_64(text.as_bytes()))
}

/// How long a persisting pod has before its TTL ends it, from its
/// annotations, in whole seconds after `now_unix`.
pub fn seconds_to_expiry(pod: &Pod, now_unix: i64) -> Option<i64> {
    let annotations = pod.metadata.annotations.as_ref()?;
    let expires = annotations.get(EXPIRES_AT_ANNOTATION)?;
    let expires: k8s_openapi::jiff::Timestamp = expires.parse().ok()?;
    // A pod without the TTL annotation is not toolbox's to reuse.
    annotations.get(TTL_ANNOTATION)?;
    Some(expires.as_second() - now_unix)
}

/// FNV-1a, 64 bits: stable across builds and platforms, unlike std's hasher.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(image: &str, ttl: i64, suffix: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {
                "name": format!("toolbox-shell-n-{suffix}"),
                "labels": { "app.kubernetes.io/managed-by": "toolbox", "toolbox.dev/node": "n" },
                "annotations": { "toolbox.dev/requested-by": "alice", "toolbox.dev/expires-at": "2026-05-01T13:00:00Z", "toolbox.dev/ttl-seconds": ttl.to_string() }
            },
            "spec": {
                "nodeName": "n",
                "activeDeadlineSeconds": ttl,
                "hostPID": true,
                "containers": [{ "name": "shell", "image": image, "command": ["sleep", ttl.to_string()] }]
            }
        }))
        .unwrap()
    }

    #[test]
    fn fnv1a_64_matches_the_reference_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn sessions_that_differ_only_in_name_ttl_and_audit_share_a_shape() {
        let first = make_persisting(pod("alpine", 3600, "abcde"), 600);
        let second = make_persisting(pod("alpine", 1800, "fghjk"), 60);
        assert_eq!(
            first.metadata.labels.as_ref().unwrap()[SHAPE_LABEL],
            second.metadata.labels.as_ref().unwrap()[SHAPE_LABEL]
        );
        let other_image = make_persisting(pod("busybox", 3600, "abcde"), 600);
        assert_ne!(
            first.metadata.labels.as_ref().unwrap()[SHAPE_LABEL],
            other_image.metadata.labels.as_ref().unwrap()[SHAPE_LABEL]
        );
        let mut no_pid = pod("alpine", 3600, "abcde");
        no_pid.spec.as_mut().unwrap().host_pid = None;
        assert_ne!(pod_shape(&no_pid), pod_shape(&pod("alpine", 3600, "abcde")));
    }

    #[test]
    fn a_persisting_pod_holds_until_idle_and_says_so() {
        let persisting = make_persisting(pod("alpine", 3600, "abcde"), 600);
        let labels = persisting.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[PERSIST_LABEL], "true");
        assert_eq!(labels[SHAPE_LABEL].len(), 16);
        assert_eq!(
            persisting.metadata.annotations.as_ref().unwrap()[PERSIST_SECONDS_ANNOTATION],
            "600"
        );
        let command = persisting.spec.as_ref().unwrap().containers[0]
            .command
            .clone()
            .unwrap();
        assert_eq!(command[..2], ["sh", "-c"]);
        assert_eq!(command[3..], ["toolbox-idle-holder", "600", "3600"]);
        assert_eq!(
            persisting.spec.as_ref().unwrap().active_deadline_seconds,
            Some(3600),
            "the TTL stays the hard bound"
        );
    }

    #[test]
    fn the_idle_holder_says_what_kubernetes_passes_on_unchanged() {
        // The kubelet expands $(NAME) for the container's variables and
        // reduces $$ to $ in command and args.
        assert!(!IDLE_HOLDER.contains("$$"), "{IDLE_HOLDER}");
        let references = IDLE_HOLDER
            .match_indices("$(")
            .map(|(at, _)| &IDLE_HOLDER[at + 2..])
            .filter(|rest| rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'));
        assert_eq!(references.count(), 0, "{IDLE_HOLDER}");
    }

    #[test]
    fn the_idle_holder_is_posix_sh() {
        // `sh -n` parses without running.
        let output = std::process::Command::new("sh")
            .args(["-n", "-c", IDLE_HOLDER])
            .output()
            .expect("running sh -n");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    #[test]
    fn expiry_comes_from_the_annotations() {
        let p = pod("alpine", 3600, "abcde");
        let at: k8s_openapi::jiff::Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(seconds_to_expiry(&p, at.as_second()), Some(3600));
    }
}
