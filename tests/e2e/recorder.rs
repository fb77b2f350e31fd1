//! `toolbox-recorder` in real pods on the real node, driven with plain
//! kubectl (toolbox's own use of it is tested with toolbox's commands):
//!
//! - in a privileged hostPID pod of node-tools, which carries the recorder:
//!   an interactive session through `kubectl exec -it`, with typing, a resize
//!   and exit 3, is in the container log while it runs and in the node's file
//!   afterwards, which `index` and `cat` show and which outlives the pod, in
//!   the cluster's directory and nowhere else on the machine;
//! - in a pod of a plain busybox image, which gets the recorder from the
//!   recorder image's init container, as docs/recorder.md describes.

use std::path::PathBuf;
use std::time::Duration;

use expectrl::Expect;
use harness::{
    TestNs, random_suffix, real_node, spawn_on_pty, stderr_of, stdout_of, wait_for_phase,
    wait_until,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PostParams};
use serde_json::{Value, json};

const RECORDER: &str = "/toolbox/bin/toolbox-recorder";

/// A session id as toolbox makes them: the node, a dot, a UTC time and 8 hex
/// digits (unique per run, since the node's files outlive the test's pods).
fn session_id(node: &str) -> String {
    let hex: String = random_suffix()
        .bytes()
        .map(|b| format!("{:x}", b % 16))
        .collect();
    format!("{node}.20261203T000000Z-{hex:0<8}")
}

/// The node's sessions directory as the machine sees it: inside the
/// cluster's directory, since the node's /var/log is a bind mount of one there.
fn sessions_on_machine() -> PathBuf {
    harness::cluster()
        .dir
        .join("state/node/var-log/toolbox/sessions")
}

/// The pod section's volumes, mounts and variables around `main` (its
/// container), with `sleep 600` as the holder.
fn recorded_pod(name: &str, image: &str, privileged: bool, init_image: Option<&str>) -> Pod {
    let env = json!([
        {"name": "TOOLBOX_SESSION_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "TOOLBOX_SESSION_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "TOOLBOX_SESSION_NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "TOOLBOX_SESSION_USER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['toolbox.dev/requested-by']"}}},
    ]);
    let mut mounts = vec![json!({"name": "toolbox-sessions", "mountPath": "/toolbox/sessions"})];
    let mut volumes = vec![
        json!({"name": "toolbox-sessions", "hostPath": {"path": "/var/log/toolbox/sessions", "type": "DirectoryOrCreate"}}),
    ];
    let mut init_containers = Vec::new();
    if let Some(init_image) = init_image {
        mounts.push(
            json!({"name": "toolbox-recorder", "mountPath": "/toolbox/bin", "readOnly": true}),
        );
        volumes.push(json!({"name": "toolbox-recorder", "emptyDir": {}}));
        init_containers.push(json!({
            "name": "toolbox-recorder",
            "image": init_image,
            "imagePullPolicy": "Never",
            "command": [RECORDER, "install", "/toolbox/install/toolbox-recorder"],
            "volumeMounts": [{"name": "toolbox-recorder", "mountPath": "/toolbox/install"}],
            "securityContext": {
                "runAsUser": 65534, "runAsGroup": 65534, "runAsNonRoot": true,
                "allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
                "readOnlyRootFilesystem": true,
            },
        }));
    }
    serde_json::from_value(json!({
        "metadata": {
            "name": name,
            "labels": {"toolbox.dev/recorded": "true"},
            "annotations": {"toolbox.dev/requested-by": "e2e-user"},
        },
        "spec": {
            "nodeName": real_node().name,
            "hostPID": true,
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "tolerations": [{"operator": "Exists"}],
            "initContainers": init_containers,
            "containers": [{
                "name": "main",
                "image": image,
                "imagePullPolicy": "Never",
                "command": ["sleep", "600"],
                "securityContext": {"privileged": privileged},
                "env": env,
                "volumeMounts": mounts,
            }],
            "volumes": volumes,
        },
    }))
    .expect("a pod object")
}

async fn start(ns: &TestNs, pod: &Pod) -> String {
    let name = pod.metadata.name.clone().unwrap();
    ns.pods()
        .create(&PostParams::default(), pod)
        .await
        .expect("creating the pod");
    wait_for_phase(&ns.pods(), &name, &["Running"], Duration::from_secs(60)).await;
    name
}

/// Deletes the pod, waits until it is gone, and checks that nothing of the
/// test is left in the namespace.
async fn delete_and_finish(ns: TestNs, pod: &str) {
    ns.pods()
        .delete(pod, &DeleteParams::default().grace_period(0))
        .await
        .expect("deleting the pod");
    wait_until(Duration::from_secs(60), "the pod to be gone", || async {
        !harness::pod_exists(&ns.pods(), pod).await
    })
    .await;
    let left = ns
        .pods()
        .list(&Default::default())
        .await
        .expect("listing pods")
        .items;
    assert!(left.is_empty(), "pods left in {}: {left:?}", ns.name);
    ns.finish().await;
}

/// The lines of `kubectl logs` that belong to session `id`, unwrapped.
fn logged_casts(ns: &TestNs, pod: &str, id: &str) -> Vec<Value> {
    let out = ns
        .kubectl()
        .args(["logs", pod, "-c", "main"])
        .output()
        .unwrap();
    assert!(out.status.success(), "kubectl logs: {}", stderr_of(&out));
    stdout_of(&out)
        .lines()
        .map(|line| {
            assert!(line.len() < 4096, "a log line of {} bytes", line.len());
            serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"))
        })
        .filter(|line| line["session"] == id)
        .map(|line| line["cast"].clone())
        .collect()
}

/// Output events the log split to fit its lines, joined back, so the log's
/// events can be compared with the file's.
fn rejoined(casts: Vec<Value>) -> Vec<Value> {
    let mut events: Vec<Value> = Vec::new();
    for cast in casts {
        match events.last_mut() {
            Some(last) if cast[1] == "o" && last[1] == "o" && last[0] == cast[0] => {
                last[2] =
                    Value::from(last[2].as_str().unwrap().to_owned() + cast[2].as_str().unwrap());
            }
            _ => events.push(cast),
        }
    }
    events
}

fn recorder(ns: &TestNs, pod: &str, args: &[&str]) -> std::process::Output {
    let mut command = ns.kubectl();
    command
        .args(["exec", pod, "-c", "main", "--", RECORDER])
        .args(args);
    command.output().unwrap()
}

/// `cat` of session `id` through the recorder in `pod`, each line parsed.
fn cat(ns: &TestNs, pod: &str, id: &str) -> Vec<Value> {
    let out = recorder(ns, pod, &["cat", id]);
    assert!(out.status.success(), "cat {id}: {}", stderr_of(&out));
    stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The `index` line of session `id`.
fn indexed(ns: &TestNs, pod: &str, id: &str) -> Value {
    let out = recorder(ns, pod, &["index"]);
    assert!(out.status.success(), "index: {}", stderr_of(&out));
    stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|entry| entry["id"] == id)
        .unwrap_or_else(|| panic!("index has no {id}: {}", stdout_of(&out)))
}

fn output_of(events: &[Value]) -> String {
    events[1..]
        .iter()
        .filter(|e| e[1] == "o")
        .map(|e| e[2].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_interactive_session_in_node_tools_is_in_the_log_as_it_runs_and_on_the_node_after() {
    let node = real_node();
    let ns = TestNs::new("recorder-tty").await;
    let pod = start(&ns, &recorded_pod("recorded", &node.image, true, None)).await;
    let id = session_id(&node.name);

    let mut kubectl = std::process::Command::new(&ns.env.kubectl);
    kubectl.env("KUBECONFIG", &ns.env.kubeconfig).args([
        "-n", &ns.name, "exec", "-it", &pod, "-c", "main", "--", RECORDER, "record", "--id", &id,
        "--", "sh",
    ]);
    let session = tokio::task::spawn_blocking(move || {
        let mut session = spawn_on_pty(kubectl, Duration::from_secs(60));
        session.get_process_mut().set_window_size(90, 30).unwrap();
        session
            .send_line("stty size; echo typed-$((40+2))")
            .unwrap();
        session.expect("typed-42").expect("the shell's output");
        session
    })
    .await
    .unwrap();

    // The container log has the session while it runs.
    wait_until(
        Duration::from_secs(30),
        "the session's output in kubectl logs",
        || async {
            logged_casts(&ns, &pod, &id).iter().any(|cast| {
                cast[1] == "o" && cast[2].as_str().is_some_and(|d| d.contains("typed-42"))
            })
        },
    )
    .await;
    let header = &logged_casts(&ns, &pod, &id)[0];
    assert_eq!(header["version"], 2);
    assert_eq!(header["toolbox"]["session"], id.as_str());
    assert_eq!(header["toolbox"]["tty"], true);
    assert_eq!(header["toolbox"]["node"], node.name.as_str());
    assert_eq!(header["toolbox"]["pod"], pod.as_str());
    assert_eq!(header["toolbox"]["namespace"], ns.name.as_str());
    assert_eq!(header["toolbox"]["user"], "e2e-user");
    assert_eq!(header["command"], "sh");

    let status = tokio::task::spawn_blocking(move || {
        let mut session = session;
        session.get_process_mut().set_window_size(100, 40).unwrap();
        session.send_line("stty size").unwrap();
        session
            .expect("40 100")
            .expect("the new size inside the session");
        harness::exit_pty_session(session, "exit 3")
    })
    .await
    .unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 3)),
        "kubectl exec's status: {status:?}"
    );

    let file = cat(&ns, &pod, &id);
    assert_eq!(file[0], *header, "the file's header is the log's");
    let resizes: Vec<&str> = file
        .iter()
        .filter(|e| e[1] == "r")
        .map(|e| e[2].as_str().unwrap())
        .collect();
    assert_eq!(resizes.last(), Some(&"100x40"), "{file:?}");
    let output = output_of(&file);
    let typed = output
        .find("typed-42")
        .expect("the output of what was typed");
    let resized = output.rfind("40 100").expect("the size after the resize");
    assert!(typed < resized, "{output:?}");
    assert_eq!(file.last().unwrap()[1], "m");
    assert_eq!(file.last().unwrap()[2], "exit 3");
    assert_eq!(
        rejoined(logged_casts(&ns, &pod, &id)),
        file,
        "the log carries what the file has"
    );

    let entry = indexed(&ns, &pod, &id);
    assert_eq!(entry["exit"], 3);
    assert_eq!(entry["truncated"], false);
    assert_eq!(entry["header"]["toolbox"]["tty"], true);
    assert!(entry["duration"].as_f64().unwrap() > 0.0);

    // The same id again is refused: no recording is overwritten.
    let again = recorder(&ns, &pod, &["record", "--id", &id, "--", "true"]);
    assert_eq!(again.status.code(), Some(126), "{}", stderr_of(&again));

    // The file outlives the pod, inside the cluster's directory only.
    delete_and_finish(ns, &pod).await;
    let kept = sessions_on_machine().join(format!("{id}.cast"));
    assert!(kept.exists(), "{} is gone with the pod", kept.display());
    assert!(
        !PathBuf::from("/var/log/toolbox/sessions")
            .join(format!("{id}.cast"))
            .exists()
    );
    std::fs::remove_file(&kept).expect("removing the test's recording");
}

#[tokio::test]
async fn a_plain_image_gets_the_recorder_from_the_init_container() {
    let node = real_node();
    let ns = TestNs::new("recorder-init").await;
    let pod = start(
        &ns,
        &recorded_pod(
            "plain",
            &node.plain_image,
            false,
            Some(&node.recorder_image),
        ),
    )
    .await;
    let id = session_id(&node.name);

    // The image has no recorder of its own.
    let image_only = ns
        .kubectl()
        .args(["exec", &pod, "-c", "main", "--", "ls", "/toolbox/bin"])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&image_only).trim(),
        "toolbox-recorder",
        "only the init container's copy is there"
    );

    let out = recorder(
        &ns,
        &pod,
        &[
            "record",
            "--id",
            &id,
            "--",
            "sh",
            "-c",
            "echo plain-$((1+1)); echo to-stderr >&2; exit 7",
        ],
    );
    assert_eq!(out.status.code(), Some(7), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "plain-2\n");
    assert!(stderr_of(&out).contains("to-stderr"));

    let file = cat(&ns, &pod, &id);
    assert_eq!(file[0]["toolbox"]["tty"], false);
    assert_eq!(
        (file[0]["width"].as_u64(), file[0]["height"].as_u64()),
        (Some(80), Some(24))
    );
    let output = output_of(&file);
    assert!(
        output.contains("plain-2\n") && output.contains("to-stderr\n"),
        "{output:?}"
    );
    assert_eq!(file.last().unwrap()[2], "exit 7");
    assert_eq!(rejoined(logged_casts(&ns, &pod, &id)), file);
    assert_eq!(indexed(&ns, &pod, &id)["exit"], 7);

    // An unknown id and a refused command line, each with one line.
    let unknown = recorder(&ns, &pod, &["cat", &session_id(&node.name)]);
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(
        stderr_of(&unknown).lines().count(),
        2,
        "the line and kubectl's own: {}",
        stderr_of(&unknown)
    );
    let refused = recorder(
        &ns,
        &pod,
        &["record", "--id", &id, "--log", "/dev/null", "--", "sh"],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr_of(&refused));

    delete_and_finish(ns, &pod).await;
    let kept = sessions_on_machine().join(format!("{id}.cast"));
    assert!(kept.exists(), "{} is gone with the pod", kept.display());
    std::fs::remove_file(&kept).expect("removing the test's recording");
}
