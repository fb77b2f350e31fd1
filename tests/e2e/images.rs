//! The images toolbox runs (docs/install.md): `make images` writes
//! node-tools under the name toolbox defaults to, built from the project's
//! own files, and that image, imported into the real node's containerd, runs
//! a recorded node-shell with toolbox's defaults alone: node-tools is the
//! recorder image too, so its pod has no init container.
//!
//! The node's containerd is reached through its init's root
//! (`/proc/PID/root/run/containerd`), as its sessions directory is: the node
//! has a mount namespace of its own.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use harness::{
    TestNs, cluster, node_init_pid, random_suffix, real_node, repo_root, stderr_of, stdout_of,
    toolbox_command, wait_until,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, WatchEvent, WatchParams};
use serde_json::Value;

/// `make -s ARGS` in the repository.
fn make(args: &[&str]) -> Output {
    Command::new("make")
        .args(["-s", "--no-print-directory"])
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("running make")
}

/// toolbox's built-in `image` and `recorder_image`, as `toolbox config`
/// shows them with the settings file `settings` (which must leave both
/// unset); each must say it is the default.
fn default_images(settings: &Path) -> (String, String) {
    let scratch = std::env::temp_dir().join(format!("toolbox-images-{}", random_suffix()));
    let out = toolbox_command(&scratch.join("kubeconfig"), &scratch.join("cache"))
        .env("TOOLBOX_CONFIG", settings)
        .args(["config", "-o", "json"])
        .output()
        .expect("running toolbox config");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let default_of = |key: &str| {
        let entry = report["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["key"] == key)
            .unwrap_or_else(|| panic!("toolbox config shows no {key}: {report}"));
        assert_eq!(entry["source"]["kind"], "default", "{entry}");
        entry["value"].as_str().unwrap().to_string()
    };
    (default_of("image"), default_of("recorder_image"))
}

/// An empty settings file: every value is toolbox's default.
fn empty_settings() -> PathBuf {
    let path = std::env::temp_dir().join(format!("toolbox-images-{}.toml", random_suffix()));
    std::fs::write(&path, "").unwrap();
    path
}

#[test]
fn make_images_tags_node_tools_with_the_image_toolbox_defaults_to() {
    let settings = empty_settings();
    let (image, recorder_image) = default_images(&settings);
    let _ = std::fs::remove_file(&settings);
    assert_eq!(
        image, recorder_image,
        "node-tools is the recorder image too"
    );
    let out = make(&["images-tag"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        stdout_of(&out).trim(),
        image,
        "the Makefile's name for node-tools is settings.rs's DEFAULT_NODE_IMAGE"
    );
}

/// What the archive's manifest says: its tags, config file and layer.
struct Archive {
    tags: Vec<String>,
    config: String,
    layer: String,
}

fn read_archive(archive: &Path) -> Archive {
    let out = Command::new("tar")
        .arg("-xOf")
        .arg(archive)
        .arg("manifest.json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let manifest: Value = serde_json::from_str(&stdout_of(&out)).unwrap();
    let image = &manifest.as_array().expect("a list of images")[..];
    assert_eq!(image.len(), 1, "{manifest}");
    let layers = image[0]["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    Archive {
        tags: image[0]["RepoTags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect(),
        config: image[0]["Config"].as_str().unwrap().to_string(),
        layer: layers[0].as_str().unwrap().to_string(),
    }
}

/// Unpacks the archive's layer into `root` and checks what node-shell and
/// the recorder need: busybox's sh, the machine's nsenter, and the static
/// recorder where recorded pods look for it.
fn check_layer(archive: &Path, layer: &str, root: &Path) {
    let unpacked = root.with_extension("archive");
    std::fs::create_dir_all(&unpacked).unwrap();
    std::fs::create_dir_all(root).unwrap();
    for (tar, dir) in [
        (archive.to_path_buf(), &unpacked),
        (unpacked.join(layer), &root.to_path_buf()),
    ] {
        let out = Command::new("tar")
            .arg("-xf")
            .arg(&tar)
            .arg("-C")
            .arg(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
    assert_eq!(
        std::fs::read_link(root.join("bin/sh")).unwrap(),
        Path::new("busybox")
    );
    assert!(root.join("bin/busybox").is_file());
    assert!(root.join("usr/bin/nsenter").is_file());
    let recorder = root.join("toolbox/bin/toolbox-recorder");
    assert!(recorder.is_file(), "no recorder in the layer");
    let ldd = Command::new("ldd").arg(&recorder).output().unwrap();
    let said = format!("{}{}", stdout_of(&ldd), stderr_of(&ldd));
    assert!(
        said.contains("statically linked") || said.contains("not a dynamic executable"),
        "the recorder is not static: {said}"
    );
    let _ = std::fs::remove_dir_all(&unpacked);
}

/// `ctr -n k8s.io ARGS` against the real node's containerd.
fn node_ctr(args: &[&str]) -> Output {
    let socket = format!(
        "/proc/{}/root/run/containerd/containerd.sock",
        node_init_pid(&cluster().dir)
    );
    Command::new("ctr")
        .args(["--address", &socket, "-n", "k8s.io"])
        .args(args)
        .output()
        .expect("running ctr")
}

/// The first column of a `ctr` listing (`images ls -q`, `content ls -q`),
/// as a set.
fn node_listing(args: &[&str]) -> BTreeSet<String> {
    let out = node_ctr(args);
    assert!(out.status.success(), "ctr {args:?}: {}", stderr_of(&out));
    stdout_of(&out)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

/// An image imported into the node, removed again however the test ends.
struct ImportedImage {
    /// The references the import added: the image's name, and its id
    /// (`sha256:` and the config's digest), which containerd's CRI plugin
    /// adds for every image; one that was there before is not this test's.
    refs: Vec<String>,
}

impl ImportedImage {
    fn import(archive: &Path, name: &str, id: &str) -> ImportedImage {
        let before = node_listing(&["images", "ls", "-q"]);
        assert!(
            !before.contains(name),
            "{name} is on the node before the test imports it: a run before this one left it"
        );
        let imported = ImportedImage {
            refs: [name, id]
                .into_iter()
                .filter(|r| !before.contains(*r))
                .map(String::from)
                .collect(),
        };
        let out = node_ctr(&["images", "import", archive.to_str().unwrap()]);
        assert!(out.status.success(), "ctr import: {}", stderr_of(&out));
        imported
    }

    /// The digest of the manifest containerd made of the archive.
    fn digest(&self) -> String {
        let out = node_ctr(&["images", "ls"]);
        stdout_of(&out)
            .lines()
            .find_map(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                (fields.first() == Some(&self.refs[0].as_str())).then(|| fields[2].to_string())
            })
            .unwrap_or_else(|| panic!("the node has no {}: {}", self.refs[0], stdout_of(&out)))
    }
}

impl Drop for ImportedImage {
    fn drop(&mut self) {
        for reference in &self.refs {
            let _ = node_ctr(&["images", "rm", "--sync", reference]);
        }
    }
}

/// A scratch directory of the test's, removed however the test ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The pod that appears in `ns` after `version` (its first sight), once it
/// is gone again: the API server replays the namespace's events from there.
async fn pod_seen_since(ns: &TestNs, version: &str) -> Pod {
    let mut events = ns
        .pods()
        .watch(&WatchParams::default().timeout(30), version)
        .await
        .expect("watching pods")
        .boxed();
    let mut seen: Option<Pod> = None;
    while let Some(event) = events.try_next().await.expect("the watch") {
        match event {
            WatchEvent::Added(pod) if seen.is_none() => seen = Some(pod),
            WatchEvent::Deleted(pod)
                if seen
                    .as_ref()
                    .is_some_and(|s| s.metadata.name == pod.metadata.name) =>
            {
                return pod;
            }
            WatchEvent::Error(e) => panic!("watching pods from {version}: {e:?}"),
            _ => {}
        }
    }
    panic!("no pod came and went in {} within 30s", ns.name)
}

/// The node's recording whose header names `pod`, once it has ended. Only
/// headers are read to find it: other sessions' recordings may be large.
async fn recording_of(pod: &str) -> Vec<Value> {
    let dir = PathBuf::from(format!(
        "/proc/{}/root/var/log/toolbox/sessions",
        node_init_pid(&cluster().dir)
    ));
    let names_pod = |path: &Path| {
        let mut header = String::new();
        let read = std::fs::File::open(path)
            .map(|f| BufReader::new(f).read_line(&mut header))
            .is_ok();
        read && serde_json::from_str::<Value>(&header).is_ok_and(|h| h["toolbox"]["pod"] == pod)
    };
    let find = || {
        let path = std::fs::read_dir(&dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "cast"))
            .find(|p| names_pod(p))?;
        let text = std::fs::read_to_string(path).ok()?;
        Some(
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap_or(Value::Null))
                .collect::<Vec<Value>>(),
        )
    };
    let ended = |lines: &Vec<Value>| lines.last().is_some_and(|e| e[1] == "m");
    wait_until(
        Duration::from_secs(30),
        "the session's recording",
        || async { find().is_some_and(|lines| ended(&lines)) },
    )
    .await;
    find().unwrap()
}

#[tokio::test]
async fn the_release_image_runs_a_recorded_node_shell_on_the_real_node_with_the_defaults_alone() {
    let node = real_node();
    let ns = TestNs::new("images").await;
    let settings = ns.settings_file("");
    let (image, recorder_image) = default_images(&settings);
    assert_eq!(image, recorder_image);

    let scratch = Scratch(std::env::temp_dir().join(format!("toolbox-images-{}", random_suffix())));
    let dir = &scratch.0;
    let out = make(&["images", &format!("IMAGES_DIR={}", dir.display())]);
    assert!(out.status.success(), "make images: {}", stderr_of(&out));
    let archive = dir.join("node-tools.tar");
    let manifest = read_archive(&archive);
    assert_eq!(manifest.tags, std::slice::from_ref(&image));
    check_layer(&archive, &manifest.layer, &dir.join("root"));

    let config = format!("sha256:{}", manifest.config.trim_end_matches(".json"));
    let content_before = node_listing(&["content", "ls", "-q"]);
    let imported = ImportedImage::import(&archive, &image, &config);
    let ours: BTreeSet<String> = [
        imported.digest(),
        config,
        format!("sha256:{}", manifest.layer.trim_end_matches("/layer.tar")),
    ]
    .into();

    let version = ns
        .pods()
        .list(&ListParams::default())
        .await
        .expect("listing pods")
        .metadata
        .resource_version
        .expect("a list's resourceVersion");
    let out = ns
        .toolbox()
        .env("TOOLBOX_CONFIG", &settings)
        .args(["node-shell", &node.name, "--image-pull-policy", "Never"])
        .args(["--", "cat", "/proc/1/comm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let init =
        std::fs::read_to_string(format!("/proc/{}/comm", node_init_pid(&cluster().dir))).unwrap();
    assert_eq!(
        stdout_of(&out),
        init,
        "the node's PID 1, seen from its shell"
    );

    let pod = pod_seen_since(&ns, &version).await;
    let name = pod.metadata.name.clone().unwrap();
    let spec = pod.spec.unwrap();
    assert_eq!(spec.containers.len(), 1, "{name}");
    assert_eq!(spec.containers[0].image.as_deref(), Some(image.as_str()));
    assert!(
        spec.init_containers.unwrap_or_default().is_empty(),
        "the image carries the recorder: no init container copies it in"
    );
    let cast = recording_of(&name).await;
    let output: String = cast[1..]
        .iter()
        .filter(|e| e[1] == "o")
        .filter_map(|e| e[2].as_str())
        .collect();
    assert!(output.contains(init.trim()), "recorded output: {output}");

    let refs = imported.refs.clone();
    drop(imported);
    let images_after = node_listing(&["images", "ls", "-q"]);
    let kept: Vec<&String> = refs.iter().filter(|r| images_after.contains(*r)).collect();
    assert!(kept.is_empty(), "still on the node: {kept:?}");
    let content_after = node_listing(&["content", "ls", "-q"]);
    let left: Vec<&String> = ours
        .iter()
        .filter(|d| !content_before.contains(*d) && content_after.contains(*d))
        .collect();
    assert!(
        left.is_empty(),
        "the import left content on the node: {left:?}"
    );
    let _ = std::fs::remove_file(&settings);
    let pods = ns.pods().list(&ListParams::default()).await.unwrap().items;
    assert!(pods.is_empty(), "pods left in {}: {pods:?}", ns.name);
    ns.finish().await;
}
