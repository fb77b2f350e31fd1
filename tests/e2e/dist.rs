//! The release archive (`make dist`) and the krew manifest: the template's
//! shape against krew's documented plugin manifest schema, and the archive
//! and filled-in manifest for this machine's platform.

use std::collections::BTreeSet;
use std::process::Command;

use harness::{random_suffix, repo_root, stderr_of, toolbox_bin};
use serde_yaml::Value;

const PLATFORMS: [(&str, &str); 6] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
    ("windows", "arm64"),
];

fn template() -> String {
    std::fs::read_to_string(repo_root().join("dist/krew/toolbox.yaml")).unwrap()
}

/// Checks a manifest against krew's schema (krew.sigs.k8s.io, "Plugin
/// manifest"): the kind and name, a v-prefixed semantic version, the
/// descriptions, and one platform per os and arch, each with a selector, an
/// https archive, its sha256 and the binary to link.
fn check_manifest(manifest: &Value, sha_of: impl Fn(&str, &str) -> String) {
    assert_eq!(
        manifest["apiVersion"],
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(manifest["kind"], "Plugin");
    assert_eq!(manifest["metadata"]["name"], "toolbox");
    let spec = &manifest["spec"];
    let version = spec["version"].as_str().unwrap();
    let numbers: Vec<&str> = version
        .strip_prefix('v')
        .expect("v-prefixed")
        .split('.')
        .collect();
    assert_eq!(numbers.len(), 3, "{version}");
    assert!(
        numbers.iter().all(|n| n.parse::<u32>().is_ok()),
        "{version}"
    );
    let short = spec["shortDescription"].as_str().unwrap();
    assert!(!short.is_empty() && short.len() <= 60, "{short}");
    assert!(!spec["description"].as_str().unwrap().trim().is_empty());
    let mut seen = BTreeSet::new();
    for platform in spec["platforms"].as_sequence().unwrap() {
        let labels = &platform["selector"]["matchLabels"];
        let (os, arch) = (
            labels["os"].as_str().unwrap(),
            labels["arch"].as_str().unwrap(),
        );
        assert!(
            seen.insert((os.to_string(), arch.to_string())),
            "{os}/{arch} twice"
        );
        let uri = platform["uri"].as_str().unwrap();
        assert!(uri.starts_with("https://"), "{uri}");
        assert!(uri.ends_with(&format!("-{os}-{arch}.tar.gz")), "{uri}");
        assert_eq!(platform["sha256"].as_str().unwrap(), sha_of(os, arch));
        let bin = if os == "windows" {
            "toolbox.exe"
        } else {
            "toolbox"
        };
        assert_eq!(platform["bin"], bin);
        let from: Vec<&str> = platform["files"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|f| f["from"].as_str().unwrap())
            .collect();
        assert!(from.contains(&bin) && from.contains(&"LICENSE"), "{from:?}");
    }
    let expected: BTreeSet<(String, String)> = PLATFORMS
        .iter()
        .map(|(o, a)| (o.to_string(), a.to_string()))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn the_krew_template_has_krews_shape_for_every_platform() {
    let filled = template()
        .replace("{{VERSION}}", "v0.1.0")
        .replace("{{RELEASE_URL}}", "https://example.com/releases/v0.1.0");
    let filled = PLATFORMS.iter().fold(filled, |text, (os, arch)| {
        text.replace(
            &format!("{{{{SHA256_{os}_{arch}}}}}"),
            &format!("{:0>64}", format!("{os}{arch}").len()),
        )
    });
    let manifest: Value = serde_yaml::from_str(&filled).unwrap();
    check_manifest(&manifest, |os, arch| {
        format!("{:0>64}", format!("{os}{arch}").len())
    });
}

#[test]
fn make_dist_packs_this_platform_and_fills_its_manifest_entry() {
    let dir = std::env::temp_dir().join(format!("toolbox-dist-{}", random_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("make")
        .args(["-s", "--no-print-directory", "dist-files"])
        .arg(format!("TOOLBOX_BIN={}", toolbox_bin().display()))
        .arg(format!("DIST_DIR={}", dir.display()))
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let os = std::env::consts::OS;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let archive = dir.join(format!("toolbox-v0.1.0-{os}-{arch}.tar.gz"));
    let listing = Command::new("tar")
        .arg("tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let names: BTreeSet<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(|l| l.trim_end_matches('/').to_string())
        .collect();
    for wanted in [
        "toolbox",
        "LICENSE",
        "README.md",
        "man/toolbox.1",
        "man/toolbox-node-shell.1",
        "completions/toolbox.bash",
    ] {
        assert!(
            names.contains(wanted),
            "{wanted} not in the archive: {names:?}"
        );
    }
    let check = Command::new("sha256sum")
        .args(["-c", &format!("toolbox-v0.1.0-{os}-{arch}.tar.gz.sha256")])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let sha =
        std::fs::read_to_string(dir.join(format!("toolbox-v0.1.0-{os}-{arch}.tar.gz.sha256")))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
    let manifest = std::fs::read_to_string(dir.join("toolbox.yaml")).unwrap();
    assert!(!manifest.contains("{{VERSION}}") && !manifest.contains("{{RELEASE_URL}}"));
    assert!(!manifest.contains(&format!("{{{{SHA256_{os}_{arch}}}}}")));
    let manifest: Value = serde_yaml::from_str(&manifest).unwrap();
    let entry = manifest["spec"]["platforms"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|p| {
            p["selector"]["matchLabels"]["os"] == os && p["selector"]["matchLabels"]["arch"] == arch
        })
        .unwrap();
    assert_eq!(entry["sha256"].as_str().unwrap(), sha);
    let _ = std::fs::remove_dir_all(&dir);
}
