//! `toolbox policy --require-recording`: the ValidatingAdmissionPolicy that
//! makes every session into the node-access namespace a recorded one, for
//! every tool, and its binding.
//!
//! The pod's shape is pkg/podtemplate's (its recording module, whose public
//! names are used here); the few paths podtemplate keeps to itself are
//! defined again below, and the unit tests hold them to podtemplate's pods.
//!
//! The policy has two halves, one object, because both halves answer the
//! same question (can a member reach a node through NS without a
//! recording?):
//! - on `CONNECT` to `pods/exec`: only the recorder's own command
//!   ([`RECORDER_PATH`] `record`, `index` or `cat`) is let through; on
//!   `CONNECT` to `pods/attach`: nothing, since toolbox never attaches and an
//!   attach is a session the recorder is not part of;
//! - on pod CREATE and UPDATE, for node-access pods (the crate's
//!   [`node_access_condition`](crate::node_access_condition)): the pod must
//!   be recordable, in the shape the recording contract fixes (the constants
//!   below), and nothing in it may run on the node except through the
//!   recorder.
//!
//! [`recording_objects`] builds both objects; `policy_objects` in the crate
//! root adds them after the ValidatingAdmissionPolicy it always prints.

use serde_json::{Value, json};
use toolbox_podtemplate::{
    IDLE_HOLDER, IDLE_HOLDER_NAME, RECORDER_CONTAINER as RECORDER_INIT_CONTAINER, RECORDER_PATH,
    RECORDER_VOLUME, REQUESTED_BY_ANNOTATION, SESSIONS_HOST_PATH as SESSIONS_HOST_DIR,
    SESSIONS_MOUNT_PATH,
};

use crate::{Documented, GROUP_ANNOTATION, PolicyRequest, SUBRESOURCE, base_name, cel_list};

/// The directory of [`RECORDER_PATH`], where the emptyDir is mounted
/// read-only when an init container brings the recorder.
pub const RECORDER_DIR: &str = "/toolbox/bin";
/// Where the init container mounts the emptyDir to install into it.
pub const RECORDER_INSTALL_DIR: &str = "/toolbox/install";
/// The init container's command: the recorder copies itself into the emptyDir.
pub const RECORDER_INSTALL_COMMAND: [&str; 3] = [
    RECORDER_PATH,
    "install",
    "/toolbox/install/toolbox-recorder",
];
/// The recorder's subcommands an exec may run: `record` runs a command and
/// records it; `index` and `cat` read recordings (`toolbox sessions`);
/// `send` and `receive` copy files off or onto the node (`toolbox cp`),
/// each copy recorded with every file's size and sha256, and refused, as
/// `record` is, where it cannot be recorded. `install` is the init
/// container's, never an exec's.
pub const EXEC_SUBCOMMANDS: [&str; 5] = ["record", "index", "cat", "send", "receive"];
/// The downward-API environment a recorded container has, by which the
/// recorder names the session's pod, namespace, node and user in the
/// recording's header: (variable, field path).
pub const SESSION_ENV: [(&str, &str); 4] = [
    ("TOOLBOX_SESSION_POD", "metadata.name"),
    ("TOOLBOX_SESSION_NAMESPACE", "metadata.namespace"),
    ("TOOLBOX_SESSION_NODE", "spec.nodeName"),
    (
        "TOOLBOX_SESSION_USER",
        "metadata.annotations['toolbox.dev/requested-by']",
    ),
];

/// Annotation on the recording policy: the recorder image it pins; `toolbox
/// compare` reads it to know that recording is required.
pub const RECORDER_IMAGE_ANNOTATION: &str = "toolbox.dev/recorder-image";

/// The name of the recording policy and its binding in namespace `ns`.
pub fn recording_policy_name(ns: &str) -> String {
    format!("{}-recording", base_name(ns))
}

/// What `--require-recording` adds: the image whose recorder is trusted (a
/// container runs it, or an init container from it installs the recorder
/// into the pod). The same value toolbox's pods are built from.
pub use toolbox_podtemplate::Recording;

/// What every refusal ends with: the way out.
const WAY_OUT: &str =
    "use toolbox node-shell or debug-node, which record; --no-record is not allowed here";

/// `text` as a CEL string literal: single-quoted, unless it holds a single
/// quote (an annotation's field path), then double-quoted.
fn lit(text: &str) -> String {
    // A CEL quoted string holds no raw newline: the --persist holder's
    // script has several.
    let escaped = text.replace('\\', "\\\\").replace('\n', "\\n");
    if escaped.contains('\'') {
        format!("\"{}\"", escaped.replace('"', "\\\""))
    } else {
        format!("'{escaped}'")
    }
}

/// CEL: whether container `c` keeps stdin or a TTY open: what an attach
/// (kubectl debug -it, kubectl run -it, kubectl-node-shell) talks to.
fn interactive(c: &str) -> String {
    format!("(has({c}.stdin) && {c}.stdin) || (has({c}.tty) && {c}.tty)")
}

/// CEL: whether container `c` only holds the pod open, as toolbox's holder
/// does (`sleep SECONDS`), or runs its command through the recorder (a
/// stream-less run's `toolbox-recorder run --id ID -- CMD`, recorded: the
/// unrecorded form has `--unrecorded` where this wants `--`): no
/// arguments, no hooks, no probe that runs a command. Anything else would
/// run on the node beside the recorder.
fn only_holds(c: &str) -> String {
    let no_exec_probe = |probe: &str| format!("!(has({c}.{probe}) && has({c}.{probe}.exec))");
    let seconds = |at: usize| format!("{c}.command[{at}].matches('^[0-9]+$')");
    // toolbox's own two holders: `sleep TTL`, and --persist's idle holder,
    // a fixed script (podtemplate's) that only sleeps and reads its
    // container's cgroup, with its idle time and TTL as arguments.
    let sleeps = format!(
        "(size({c}.command) == 2 && {c}.command[0] == 'sleep' && {})",
        seconds(1)
    );
    let idles = format!(
        "(size({c}.command) == 6 && {c}.command[0] == 'sh' && {c}.command[1] == '-c' && {c}.command[2] == {script} && {c}.command[3] == {name} && {} && {})",
        seconds(4),
        seconds(5),
        script = lit(IDLE_HOLDER),
        name = lit(IDLE_HOLDER_NAME),
    );
    let runs_recorded = format!(
        "(size({c}.command) >= 6 && {c}.command[0] == {path} && {c}.command[1] == 'run' && {c}.command[2] == '--id' && {c}.command[4] == '--')",
        path = lit(RECORDER_PATH),
    );
    format!(
        "has({c}.command) && ({sleeps} || {idles} || {runs_recorded}) && (!has({c}.args) || size({c}.args) == 0) && !has({c}.lifecycle) && {} && {} && {}",
        no_exec_probe("livenessProbe"),
        no_exec_probe("readinessProbe"),
        no_exec_probe("startupProbe"),
    )
}

/// CEL: whether init container `i` is exactly the recorder's installer.
fn is_installer(i: &str, image: &str) -> String {
    format!(
        "{i}.name == {name} && {i}.image == {image} && has({i}.command) && {i}.command == {command} && (!has({i}.args) || size({i}.args) == 0) && has({i}.volumeMounts) && {i}.volumeMounts.exists(m, m.name == {volume} && m.mountPath == {install})",
        name = lit(RECORDER_INIT_CONTAINER),
        image = lit(image),
        command = cel_list(&RECORDER_INSTALL_COMMAND),
        volume = lit(RECORDER_VOLUME),
        install = lit(RECORDER_INSTALL_DIR),
    )
}

/// CEL: the pod's emptyDir `toolbox-recorder` exists and is filled by the
/// installer from the pinned image.
fn installed(image: &str) -> String {
    format!(
        "has(object.spec.volumes) && object.spec.volumes.exists(v, v.name == {volume} && has(v.emptyDir)) && has(object.spec.initContainers) && object.spec.initContainers.exists(i, {installer})",
        volume = lit(RECORDER_VOLUME),
        installer = is_installer("i", image),
    )
}

/// CEL: mount `m` is the installed recorder's: the emptyDir, read-only, at
/// /toolbox/bin.
fn recorder_mount(m: &str) -> String {
    format!(
        "{m}.name == {volume} && {m}.mountPath == {dir} && has({m}.readOnly) && {m}.readOnly",
        volume = lit(RECORDER_VOLUME),
        dir = lit(RECORDER_DIR),
    )
}

/// CEL: whether container `c` has the trusted recorder at
/// /toolbox/bin/toolbox-recorder. Either it mounts the installed emptyDir
/// there, or it runs the pinned image itself. In both cases no other mount
/// may cover the recorder's path (at /, /toolbox, /toolbox/bin or the file
/// itself, however the path is spelled; `..` is refused outright): a hostPath
/// there would put another program in its place.
fn carries_recorder(c: &str, image: &str) -> String {
    format!(
        "!(has({c}.volumeMounts) && {c}.volumeMounts.exists(m, (m.mountPath.split('/').exists(s, s == '..') || m.mountPath.matches('^[/.]*(toolbox[/.]*(bin[/.]*(toolbox-recorder[/.]*)?)?)?$')) && !({mount}))) && ((has({c}.volumeMounts) && {c}.volumeMounts.exists(m, {mount})) ? ({installed}) : {c}.image == {image})",
        mount = recorder_mount("m"),
        installed = installed(image),
        image = lit(image),
    )
}

/// CEL: whether container `c` mounts the node's sessions directory,
/// writable, where the recorder keeps the node's copy.
fn mounts_sessions(c: &str) -> String {
    format!(
        "(has({c}.volumeMounts) && {c}.volumeMounts.exists(m, m.mountPath == {path} && !(has(m.readOnly) && m.readOnly) && has(object.spec.volumes) && object.spec.volumes.exists(v, v.name == m.name && has(v.hostPath) && v.hostPath.path == {dir}))) || ({reaches_host} && !(has({c}.volumeMounts) && {c}.volumeMounts.exists(m, m.mountPath.matches('toolbox[/.]*sessions'))))",
        path = lit(SESSIONS_MOUNT_PATH),
        dir = lit(SESSIONS_HOST_DIR),
        reaches_host = reaches_host(c),
    )
}

/// CEL: whether container `c` reaches the node's sessions directory
/// without a volume, through the node's init (`/proc/1/root`), as the
/// recorder does where nothing is mounted at its directory: privileged, in
/// the host's PID namespace (node-shell's pods).
fn reaches_host(c: &str) -> String {
    format!(
        "has(object.spec.hostPID) && object.spec.hostPID && has({c}.securityContext) && has({c}.securityContext.privileged) && {c}.securityContext.privileged"
    )
}

/// CEL: whether container `c` names the session's pod, namespace, node and
/// user from the pod itself (the downward API), so that a recording's
/// header cannot name someone else: the requester is the annotation that
/// the node-access policy sets or checks.
fn names_itself(c: &str) -> String {
    SESSION_ENV
        .iter()
        .map(|(name, path)| {
            format!(
                "{c}.env.exists(e, e.name == {name} && has(e.valueFrom) && has(e.valueFrom.fieldRef) && e.valueFrom.fieldRef.fieldPath == {path})",
                name = lit(name),
                path = lit(path),
            )
        })
        .fold(format!("has({c}.env)"), |all, one| format!("{all} && {one}"))
}

/// CEL: the request is a pod's, not a CONNECT's: a validation of pods
/// holds for every CONNECT.
const FOR_PODS: &str = "request.operation == 'CONNECT' || ";

/// CEL: every container, or every init container, of the pod.
fn every(list: &str, test: &str) -> String {
    format!("(!has(object.spec.{list}) || object.spec.{list}.all(c, {test}))")
}

/// The recording ValidatingAdmissionPolicy and its binding, for namespace
/// `req.namespace`, bound as the node-access policy is.
pub fn recording_objects(
    req: &PolicyRequest,
    recording: &Recording,
    in_namespace: &Value,
) -> [Documented; 2] {
    let ns = req.namespace.as_str();
    let name = recording_policy_name(ns);
    let image = recording.recorder_image.as_str();
    let required = format!("recording is required in namespace {ns}:");
    let facts = json!({
        RECORDER_IMAGE_ANNOTATION: image,
        GROUP_ANNOTATION: req.group,
    });
    let subcommands: Vec<&str> = EXEC_SUBCOMMANDS.to_vec();
    [
        Documented {
            why: format!(
                "Recording is required in {ns}: an exec into any pod there must run the recorder ({RECORDER_PATH} {}), and nothing may attach. The recorder's sinks (the container's log and the node's {SESSIONS_HOST_DIR}) are fixed in its binary, so its first two words are all there is to check. A node-access pod must be recordable: no stdin or TTY to attach to; containers that only hold the pod open (sleep SECONDS, or toolbox --persist's idle holder); the recorder from {image} (the image itself, or the emptyDir {RECORDER_VOLUME} at {RECORDER_DIR} that init container {RECORDER_INIT_CONTAINER} from {image} fills); the node's {SESSIONS_HOST_DIR} at {SESSIONS_MOUNT_PATH}, unless the pod is privileged in the host's PID namespace (the recorder then reaches it through the node's init); and the session's identity from the pod. kubectl debug node/, kubectl-node-shell, a hand-written pod and toolbox --no-record are refused.",
                subcommands.join(", ")
            ),
            object: json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicy",
                "metadata": { "name": name, "annotations": facts },
                "spec": {
                    "failurePolicy": "Fail",
                    "matchConstraints": {
                        "resourceRules": [
                            { "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CONNECT"], "resources": ["pods/exec", "pods/attach"] },
                            { "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"] }
                        ]
                    },
                    // A CONNECT's object is its PodExecOptions or
                    // PodAttachOptions, which has no spec: only pods are
                    // judged as node access.
                    "matchConditions": [{
                        "name": "session-or-node-access",
                        "expression": format!("request.operation == 'CONNECT' || {}", crate::node_access_condition()),
                    }],
                    "validations": [
                        {
                            "expression": format!("request.operation != 'CONNECT' || {SUBRESOURCE} != 'attach'"),
                            "message": format!("{required} attach is refused here (toolbox never attaches; kubectl attach, kubectl debug -it and kubectl run -i do, and the recorder is not part of it); {WAY_OUT}"),
                            "reason": "Forbidden",
                        },
                        {
                            // The recorder parses strictly and writes to
                            // sinks compiled into it, so no argument after
                            // the subcommand can turn recording off.
                            "expression": format!(
                                "request.operation != 'CONNECT' || {SUBRESOURCE} != 'exec' || (has(object.command) && size(object.command) >= 2 && object.command[0] == {path} && object.command[1] in {subcommands})",
                                path = lit(RECORDER_PATH),
                                subcommands = cel_list(&subcommands),
                            ),
                            "message": format!("{required} an exec here must run {RECORDER_PATH} record (or index, cat, send or receive), which records the session on the node; {WAY_OUT}"),
                            "reason": "Forbidden",
                        },
                        {
                            "expression": format!(
                                "{FOR_PODS}({} && {})",
                                every("containers", &format!("!({})", interactive("c"))),
                                every("initContainers", &format!("!({})", interactive("c"))),
                            ),
                            "message": format!("{required} no container of a node-access pod may keep stdin or a TTY open, since an attach to it would not be recorded (kubectl debug node/ -it and kubectl-node-shell do); {WAY_OUT}"),
                            "reason": "Forbidden",
                        },
                        {
                            "expression": format!(
                                "{FOR_PODS}({} && {})",
                                every("containers", &only_holds("c")),
                                every("initContainers", &is_installer("c", image)),
                            ),
                            "message": format!("{required} a node-access pod's containers may only hold the pod open (command sleep SECONDS, or toolbox --persist's idle holder) or run their command through the recorder (toolbox-recorder run --id ID -- CMD; no args, hooks or exec probes) and its only init container is {RECORDER_INIT_CONTAINER}, since anything else would run on the node unrecorded; {WAY_OUT}"),
                            "reason": "Forbidden",
                        },
                        {
                            "expression": format!("{FOR_PODS}{}", every("containers", &carries_recorder("c", image))),
                            "message": format!("{required} a node-access pod must carry the recorder at {RECORDER_PATH}, from image {image} (run it, or mount at {RECORDER_DIR}, read-only, the emptyDir {RECORDER_VOLUME} that init container {RECORDER_INIT_CONTAINER} from {image} fills); {WAY_OUT}"),
                            "reason": "Forbidden",
                        },
                        {
                            "expression": format!("{FOR_PODS}{}", every("containers", &mounts_sessions("c"))),
                            "message": format!("{required} a node-access pod must mount the node's {SESSIONS_HOST_DIR} (hostPath), writable, at {SESSIONS_MOUNT_PATH}, or be privileged in the host's PID namespace with nothing mounted there, so that the recorder keeps the node's copy; {WAY_OUT}"),
                            "reason": "Forbidden",
                        },
                        {
                            "expression": format!("{FOR_PODS}{}", every("containers", &names_itself("c"))),
                            "message": format!("{required} a node-access pod's containers must take {} from the pod (the downward API), so that a recording names its own pod, node and {REQUESTED_BY_ANNOTATION}; {WAY_OUT}", SESSION_ENV.map(|(name, _)| name).join(", ")),
                            "reason": "Forbidden",
                        },
                    ]
                }
            }),
            rule_reasons: Vec::new(),
        },
        Documented {
            why: format!("The recording policy applies in {ns} only, to everyone, and denies."),
            object: json!({
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": { "name": name },
                "spec": { "policyName": name, "validationActions": ["Deny"], "matchResources": in_namespace },
            }),
            rule_reasons: Vec::new(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use toolbox_podtemplate::{
        Audit, HostNamespaces, NodeOs, NodeShellRequest, PodCommon, ReaderRequest, node_shell_pod,
        reader_cat_command, reader_index_command, reader_pod,
    };

    use super::*;

    #[test]
    fn literals_quote_what_they_hold() {
        assert_eq!(lit(RECORDER_PATH), "'/toolbox/bin/toolbox-recorder'");
        assert_eq!(
            lit(SESSION_ENV[3].1),
            "\"metadata.annotations['toolbox.dev/requested-by']\""
        );
        assert_eq!(lit(r#"a'b"c\d"#), r#""a'b\"c\\d""#);
    }

    /// A pod that toolbox records through an init container: what the
    /// policy's paths and commands must match.
    fn recorded_pod() -> Value {
        let pod = node_shell_pod(&NodeShellRequest {
            common: common(),
            os: NodeOs::Linux,
            namespaces: HostNamespaces::default(),
            host_mount: false,
            target: None,
        });
        serde_json::to_value(pod).unwrap()
    }

    fn common() -> PodCommon {
        PodCommon {
            name_suffix: "x7k2p".into(),
            namespace: "na".into(),
            node_name: "n1".into(),
            image: "docker.io/library/alpine:3.22".into(),
            image_pull_policy: None,
            image_pull_secrets: Vec::new(),
            extra_labels: BTreeMap::new(),
            extra_annotations: BTreeMap::new(),
            resources: None,
            priority_class: None,
            ttl_seconds: 3600,
            ttl_is_default: false,
            recording: Some(Recording {
                recorder_image: "r:v1".into(),
            }),
            audit: Audit {
                user: "alice".into(),
                client_host: "laptop".into(),
                subcommand: "node-shell".into(),
                command: Vec::new(),
                reason: None,
                expires_at: "2026-05-01T13:00:00Z".into(),
            },
        }
    }

    #[test]
    fn the_paths_kept_here_are_the_ones_toolbox_s_pods_have() {
        let pod = recorded_pod();
        let spec = &pod["spec"];
        let installer = &spec["initContainers"][0];
        assert_eq!(installer["name"], RECORDER_INIT_CONTAINER);
        assert_eq!(installer["image"], "r:v1");
        assert_eq!(installer["command"], json!(RECORDER_INSTALL_COMMAND));
        assert_eq!(
            installer["volumeMounts"],
            json!([{ "name": RECORDER_VOLUME, "mountPath": RECORDER_INSTALL_DIR }])
        );
        let main = &spec["containers"][0];
        let mounts = main["volumeMounts"].as_array().unwrap();
        assert!(mounts.contains(
            &json!({ "name": RECORDER_VOLUME, "mountPath": RECORDER_DIR, "readOnly": true })
        ));
        // node-shell's pod mounts no sessions directory: it is privileged in
        // the host's PID namespace, and the recorder reaches the node's.
        assert!(mounts.iter().all(|m| m["mountPath"] != SESSIONS_MOUNT_PATH));
        assert_eq!(spec["hostPID"], true);
        assert_eq!(main["securityContext"]["privileged"], true);
        let rule = mounts_sessions("c");
        assert!(rule.contains(&reaches_host("c")), "{rule}");
        assert_eq!(main["command"][0], "sleep");
        for (name, path) in SESSION_ENV {
            assert!(
                main["env"].as_array().unwrap().contains(
                    &json!({ "name": name, "valueFrom": { "fieldRef": { "fieldPath": path } } })
                ),
                "{name}"
            );
        }
        assert!(RECORDER_PATH.starts_with(RECORDER_DIR));
    }

    /// A --persist pod's holder is the idle holder the policy pins, word for
    /// word, and the pinned script reaches CEL as one line.
    #[test]
    fn a_persisting_pod_s_holder_is_the_one_the_policy_lets_through() {
        let pod = serde_json::to_value(toolbox_podtemplate::make_persisting(
            serde_json::from_value(recorded_pod()).unwrap(),
            600,
        ))
        .unwrap();
        let command: Vec<&str> = pod["spec"]["containers"][0]["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|word| word.as_str().unwrap())
            .collect();
        assert_eq!(command[..4], ["sh", "-c", IDLE_HOLDER, IDLE_HOLDER_NAME]);
        assert_eq!(command.len(), 6);
        assert!(
            command[4..]
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_digit()))
        );
        let rule = only_holds("c");
        assert!(rule.contains(&lit(IDLE_HOLDER)), "{rule}");
        assert!(!rule.contains('\n'), "{rule}");
    }

    /// `toolbox sessions`' reader pod against each rule of the recording
    /// policy, as its CEL states them (a CEL engine is not worth a
    /// dependency here; tests/e2e/sessions.rs has the API server judge it).
    #[test]
    fn the_sessions_reader_pod_is_in_the_recorded_shape_and_its_execs_are_allowed() {
        let image = "r:v1";
        let pod = serde_json::to_value(reader_pod(&ReaderRequest {
            common: common(),
            recording: Recording {
                recorder_image: image.into(),
            },
        }))
        .unwrap();
        let spec = &pod["spec"];
        let volumes = spec["volumes"].as_array().unwrap();
        let containers = spec["containers"].as_array().unwrap();
        for c in containers {
            assert!(c.get("stdin").is_none() && c.get("tty").is_none(), "{c}");
            // only_holds
            let command = c["command"].as_array().unwrap();
            assert_eq!(command.len(), 2);
            assert_eq!(command[0], "sleep");
            assert!(
                command[1]
                    .as_str()
                    .unwrap()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            );
            assert!(c.get("args").is_none() && c.get("lifecycle").is_none());
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                assert!(c.get(probe).is_none());
            }
            // carries_recorder: the installed emptyDir, read-only, and no
            // other mount over the recorder's path.
            let mounts = c["volumeMounts"].as_array().unwrap();
            assert!(mounts.contains(
                &json!({ "name": RECORDER_VOLUME, "mountPath": RECORDER_DIR, "readOnly": true })
            ));
            assert!(mounts.iter().all(|m| {
                let path = m["mountPath"].as_str().unwrap();
                path == RECORDER_DIR || !RECORDER_PATH.starts_with(path)
            }));
            // mounts_sessions: writable, of the hostPath.
            assert!(mounts.iter().any(|m| {
                m["mountPath"] == SESSIONS_MOUNT_PATH
                    && m.get("readOnly").is_none()
                    && volumes.iter().any(|v| {
                        v["name"] == m["name"] && v["hostPath"]["path"] == SESSIONS_HOST_DIR
                    })
            }));
            // names_itself
            for (name, path) in SESSION_ENV {
                assert!(c["env"].as_array().unwrap().contains(
                    &json!({ "name": name, "valueFrom": { "fieldRef": { "fieldPath": path } } })
                ));
            }
        }
        // is_installer and installed
        let installers = spec["initContainers"].as_array().unwrap();
        assert_eq!(installers.len(), 1);
        assert_eq!(installers[0]["name"], RECORDER_INIT_CONTAINER);
        assert_eq!(installers[0]["image"], image);
        assert_eq!(installers[0]["command"], json!(RECORDER_INSTALL_COMMAND));
        assert!(
            volumes
                .iter()
                .any(|v| v["name"] == RECORDER_VOLUME && v.get("emptyDir").is_some())
        );
        // The exec rule: the recorder, with a subcommand it lets through.
        for exec in [
            reader_index_command(),
            reader_cat_command("n.1"),
            toolbox_podtemplate::copy_send_command("n.1", &["/var/log/syslog".into()]),
            toolbox_podtemplate::copy_receive_command("n.1", "/tmp/fix.sh", false, false),
        ] {
            assert_eq!(exec[0], RECORDER_PATH);
            assert!(EXEC_SUBCOMMANDS.contains(&exec[1].as_str()), "{exec:?}");
        }
    }
}
